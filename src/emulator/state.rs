//! The emulator's in-memory SWF model (`swf.md` §4–5): this file holds the state and
//! its types; each concern has its own module — `domains` (domains and types,
//! `lifecycle` for deprecation and deletion, `tags`), `executions` (start, history,
//! signals, termination; `queries` for List/Count; `external` for the decisions that
//! reach another execution; `children` for child executions and Lambda), `tasks`
//! (polls, heartbeats, activity responses), `decisions` (validation, each decision
//! applied or denied) and `timeouts` (timers and every deadline).
//!
//! Every operation takes `now` (epoch seconds) from the emulator's clock, applies due
//! timeouts first, and returns a JSON value or a [`WireError`].

use crate::swf::arn::check_domain_name;
use crate::swf::wire::{Fault, WireError};
use rand::RngCore;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

mod children;
mod decisions;
mod domains;
mod executions;
mod external;
mod lifecycle;
mod persist;
mod queries;
mod tags;
mod tasks;
mod timeouts;
mod tracked;

type Obj = Map<String, Value>;
type Res = Result<Value, WireError>;

fn fault(f: Fault, m: impl Into<String>) -> WireError {
    WireError::fault(f, m)
}

fn validation(m: impl Into<String>) -> WireError {
    WireError::Validation(m.into())
}

fn missing(member: &str) -> WireError {
    crate::swf::request::missing(member)
}

fn s<'a>(o: &'a Obj, k: &str) -> Option<&'a str> {
    o.get(k).and_then(Value::as_str)
}

fn req_s<'a>(o: &'a Obj, k: &str) -> Result<&'a str, WireError> {
    match o.get(k) {
        None | Some(Value::Null) => Err(missing(k)),
        Some(Value::String(v)) => Ok(v),
        Some(_) => Err(WireError::Serialization(format!(
            "Member `{k}` must be a string"
        ))),
    }
}

fn obj<'a>(o: &'a Obj, k: &str) -> Option<&'a Obj> {
    o.get(k).and_then(Value::as_object)
}

fn max_len(o: &Obj, k: &str, max: usize) -> Result<(), WireError> {
    if let Some(v) = s(o, k) {
        let n = v.chars().count();
        if n > max {
            return Err(validation(format!(
                "1 validation error detected: Value at '{k}' failed to satisfy constraint: Member must have length less than or equal to {max} (length {n})"
            )));
        }
    }
    Ok(())
}

fn check_name(kind: &str, v: &str) -> Result<(), WireError> {
    check_domain_name(v).map_err(|e| validation(format!("Invalid {kind}: {e}")))
}

/// A timeout field: decimal seconds (≤ 8 digits) or `NONE`. `None` means no timeout.
fn parse_timeout(field: &str, v: &str) -> Result<Option<f64>, WireError> {
    if v == "NONE" {
        return Ok(None);
    }
    if v.is_empty() || v.len() > 8 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(validation(format!(
            "Invalid timeout `{v}` for `{field}`: decimal seconds or NONE"
        )));
    }
    Ok(v.parse::<f64>().ok())
}

/// A new opaque, unguessable token.
fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    use base64::Engine;
    format!(
        "AAAA{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    )
}

fn new_run_id() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    format!("22{}", hex::encode(b))
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct TypeInfo {
    name: String,
    version: String,
    description: Option<String>,
    deprecated: bool,
    creation: f64,
    deprecation: Option<f64>,
    config: Obj,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Domain {
    name: String,
    deprecated: bool,
    description: Option<String>,
    retention: String,
    tags: Vec<(String, String)>,
    #[serde(with = "persist::type_map")]
    activity_types: BTreeMap<(String, String), TypeInfo>,
    #[serde(with = "persist::type_map")]
    workflow_types: BTreeMap<(String, String), TypeInfo>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum DecisionState {
    None,
    Scheduled {
        scheduled_id: u64,
        at: f64,
    },
    Started {
        scheduled_id: u64,
        started_id: u64,
        at: f64,
        token: String,
    },
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Activity {
    activity_id: String,
    activity_type: Value,
    task_list: String,
    input: Option<String>,
    scheduled_id: u64,
    started_id: Option<u64>,
    scheduled_at: f64,
    started_at: f64,
    last_beat: f64,
    heartbeat_timeout: Option<f64>,
    start_to_close: Option<f64>,
    schedule_to_start: Option<f64>,
    schedule_to_close: Option<f64>,
    details: Option<String>,
    cancel_requested: Option<u64>,
    token: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Timer {
    started_id: u64,
    fire_at: f64,
}

/// A child execution's link to its parent: the parent's index and the ids of its
/// `StartChildWorkflowExecutionInitiated` and `ChildWorkflowExecutionStarted` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Parent {
    exec: usize,
    initiated: u64,
    started: u64,
}

/// SWF's close status of an execution (`COMPLETED`, `TIMED_OUT`, ...).
type CloseStatus = &'static str;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Execution {
    domain: String,
    workflow_id: String,
    run_id: String,
    workflow_type: Value,
    task_list: String,
    child_policy: String,
    exec_timeout_s: String,
    task_timeout_s: String,
    exec_deadline: Option<f64>,
    task_timeout: Option<f64>,
    tag_list: Vec<String>,
    priority: Option<String>,
    start: f64,
    close: Option<f64>,
    #[serde(with = "persist::close_status")]
    close_status: Option<CloseStatus>,
    cancel_requested: bool,
    /// Kept by the store as rows of their own, appended to.
    #[serde(skip)]
    events: Vec<Value>,
    decision: DecisionState,
    /// New events arrived while a decision task was started: schedule one after it.
    pending_decision: bool,
    activities: BTreeMap<u64, Activity>,
    timers: BTreeMap<String, Timer>,
    latest_context: Option<String>,
    latest_activity_at: Option<f64>,
    previous_started: u64,
    /// The parent, for a child execution.
    parent: Option<Parent>,
    /// The IAM role SWF would assume for Lambda tasks.
    lambda_role: Option<String>,
}

impl Execution {
    fn open(&self) -> bool {
        self.close_status.is_none()
    }

    fn key_json(&self) -> Value {
        json!({"workflowId": self.workflow_id, "runId": self.run_id})
    }

    /// Appends an event and returns its id.
    fn event(&mut self, ty: &str, at: f64, attrs: Value) -> u64 {
        let id = self.events.len() as u64 + 1;
        let key = crate::swf::request::member_key(ty, "EventAttributes");
        let mut e = Map::new();
        e.insert("eventId".into(), json!(id));
        e.insert("eventType".into(), json!(ty));
        e.insert("eventTimestamp".into(), json!(at));
        e.insert(key, attrs);
        self.events.push(Value::Object(e));
        id
    }

    /// Schedules a decision task unless one is scheduled; if one is started, one is
    /// scheduled when it completes.
    fn schedule_decision(&mut self, at: f64) {
        if !self.open() {
            return;
        }
        match self.decision {
            DecisionState::None => {
                let attrs = json!({"taskList": {"name": self.task_list}, "startToCloseTimeout": self.task_timeout_s});
                let id = self.event("DecisionTaskScheduled", at, attrs);
                self.decision = DecisionState::Scheduled {
                    scheduled_id: id,
                    at,
                };
            }
            DecisionState::Scheduled { .. } => {}
            DecisionState::Started { .. } => self.pending_decision = true,
        }
    }

    fn close_with(&mut self, status: &'static str, at: f64) {
        self.close_status = Some(status);
        self.close = Some(at);
        self.decision = DecisionState::None;
        self.pending_decision = false;
    }
}

/// What a task token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum TokenRef {
    Decision { exec: usize, scheduled_id: u64 },
    Activity { exec: usize, scheduled_id: u64 },
}

/// A task handed out by a poll.
pub enum Task {
    /// A decision task (the response body).
    Decision(Value),
    /// An activity task (the response body).
    Activity(Value),
}

/// The whole emulated SWF account.
#[derive(Debug, Default)]
pub struct State {
    domains: tracked::Domains,
    executions: tracked::Execs,
    tokens: tracked::Tokens,
    /// (partition, region, account) of domain ARNs.
    arn_prefix: (String, String, String),
}

fn page<T>(
    items: Vec<T>,
    body: &Obj,
    max_default: usize,
) -> Result<(Vec<T>, Option<String>), WireError> {
    let size = match body.get("maximumPageSize").and_then(Value::as_u64) {
        Some(0) | None => max_default,
        Some(n) if n > 1000 => return Err(validation("maximumPageSize must be at most 1000")),
        Some(n) => n as usize,
    };
    let start = match s(body, "nextPageToken") {
        Some(t) => {
            use base64::Engine;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(t)
                .map_err(|_| validation("Invalid nextPageToken"))?;
            String::from_utf8_lossy(&raw)
                .strip_prefix("swf-iam:")
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| validation("Invalid nextPageToken"))?
        }
        None => 0,
    };
    let total = items.len();
    let end = (start + size).min(total);
    let out: Vec<T> = items
        .into_iter()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect();
    let next = (end < total).then(|| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("swf-iam:{end}"))
    });
    Ok((out, next))
}

/// `items` in the order `reverseOrder` asks for, paged, as `{key: [...], nextPageToken?}`.
fn paged(mut items: Vec<Value>, b: &Obj, key: &str) -> Res {
    if b.get("reverseOrder").and_then(Value::as_bool) == Some(true) {
        items.reverse();
    }
    let (items, next) = page(items, b, 1000)?;
    let mut v = Map::new();
    v.insert(key.to_owned(), Value::Array(items));
    if let Some(n) = next {
        v.insert("nextPageToken".into(), json!(n));
    }
    Ok(Value::Object(v))
}

impl State {
    /// An empty account whose domain ARNs are `arn:PARTITION:swf:REGION:ACCOUNT:/domain/NAME`.
    pub fn new(partition: &str, region: &str, account: &str) -> Self {
        State {
            arn_prefix: (partition.to_owned(), region.to_owned(), account.to_owned()),
            ..State::default()
        }
    }

    fn domain_arn(&self, name: &str) -> String {
        let (p, r, a) = &self.arn_prefix;
        format!("arn:{p}:swf:{r}:{a}:/domain/{name}")
    }

    /// The domain a task token belongs to, if the token was issued here.
    pub fn token_domain(&self, token: &str) -> Option<String> {
        let exec = match self.tokens.get(token)? {
            TokenRef::Decision { exec, .. } | TokenRef::Activity { exec, .. } => *exec,
        };
        self.executions.get(exec).map(|e| e.domain.clone())
    }

    /// The execution (workflow ID, run ID) a task token names.
    pub fn token_execution(&self, token: &str) -> Option<(String, String)> {
        let exec = match self.tokens.get(token)? {
            TokenRef::Decision { exec, .. } | TokenRef::Activity { exec, .. } => *exec,
        };
        self.execution_ids(exec)
    }

    /// The workflow ID and run ID of execution `exec`.
    pub fn execution_ids(&self, exec: usize) -> Option<(String, String)> {
        self.executions
            .get(exec)
            .map(|e| (e.workflow_id.clone(), e.run_id.clone()))
    }

    /// A domain's tags.
    pub fn domain_tags(&self, name: &str) -> Vec<(String, String)> {
        self.domains
            .get(name)
            .map(|d| d.tags.clone())
            .unwrap_or_default()
    }

    /// The execution a task token names, if it is still open; else SWF's
    /// `UnknownResourceFault` (and an index that names nothing is an invalid token).
    fn open_execution(&self, exec: usize) -> Result<&Execution, WireError> {
        let e = self
            .executions
            .get(exec)
            .ok_or_else(|| validation("Invalid token"))?;
        if !e.open() {
            return Err(fault(
                Fault::UnknownResourceFault,
                format!(
                    "Unknown execution: WorkflowExecution=[workflowId={}, runId={}]",
                    e.workflow_id, e.run_id
                ),
            ));
        }
        Ok(e)
    }

    fn domain(&self, name: &str) -> Result<&Domain, WireError> {
        self.domains.get(name).ok_or_else(|| {
            fault(
                Fault::UnknownResourceFault,
                format!("Unknown domain: {name}"),
            )
        })
    }

    fn domain_mut(&mut self, name: &str) -> Result<&mut Domain, WireError> {
        self.domains.get_mut(name).ok_or_else(|| {
            fault(
                Fault::UnknownResourceFault,
                format!("Unknown domain: {name}"),
            )
        })
    }
}

pub use crate::swf::request::attrs_key;
