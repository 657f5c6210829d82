//! The emulator's in-memory SWF model: domains, types, executions with their history,
//! decision and activity tasks, timers and timeouts (`swf.md` §4–5).
//!
//! Every operation takes `now` (epoch seconds) from the emulator's clock, applies due
//! timeouts first, and returns a JSON value or a [`WireError`].

use crate::swf::arn::check_domain_name;
use crate::swf::wire::{Fault, WireError};
use rand::RngCore;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

mod children;
mod external;
mod lifecycle;
mod queries;
mod tags;

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

#[derive(Debug, Clone)]
struct TypeInfo {
    name: String,
    version: String,
    description: Option<String>,
    deprecated: bool,
    creation: f64,
    deprecation: Option<f64>,
    config: Obj,
}

#[derive(Debug, Clone)]
struct Domain {
    name: String,
    deprecated: bool,
    description: Option<String>,
    retention: String,
    tags: Vec<(String, String)>,
    activity_types: BTreeMap<(String, String), TypeInfo>,
    workflow_types: BTreeMap<(String, String), TypeInfo>,
}

#[derive(Debug, Clone, PartialEq)]
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

#[derive(Debug, Clone)]
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

#[derive(Debug, Clone)]
struct Timer {
    started_id: u64,
    fire_at: f64,
}

/// A child execution's link to its parent: the parent's index and the ids of its
/// `StartChildWorkflowExecutionInitiated` and `ChildWorkflowExecutionStarted` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parent {
    exec: usize,
    initiated: u64,
    started: u64,
}

#[derive(Debug, Clone)]
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
    close_status: Option<&'static str>,
    cancel_requested: bool,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    domains: BTreeMap<String, Domain>,
    executions: Vec<Execution>,
    tokens: HashMap<String, TokenRef>,
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

    /// A domain's tags.
    pub fn domain_tags(&self, name: &str) -> Vec<(String, String)> {
        self.domains
            .get(name)
            .map(|d| d.tags.clone())
            .unwrap_or_default()
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

    // ----- domains -----

    /// RegisterDomain.
    pub fn register_domain(&mut self, b: &Obj) -> Res {
        let name = req_s(b, "name")?;
        check_name("domain name", name)?;
        let retention = req_s(b, "workflowExecutionRetentionPeriodInDays")?;
        let ok = retention == "NONE"
            || (retention.len() <= 8 && retention.parse::<u32>().is_ok_and(|d| d <= 90));
        if !ok {
            return Err(validation(format!(
                "Invalid workflowExecutionRetentionPeriodInDays `{retention}`: \"0\" to \"90\" or \"NONE\""
            )));
        }
        max_len(b, "description", 1024)?;
        let tags = tags::tag_list(b, "tags")?;
        if tags.len() > tags::MAX_TAGS {
            return Err(fault(
                Fault::TooManyTagsFault,
                format!("A domain can have at most {} tags", tags::MAX_TAGS),
            ));
        }
        if self.domains.contains_key(name) {
            return Err(fault(Fault::DomainAlreadyExistsFault, name));
        }
        self.domains.insert(
            name.to_owned(),
            Domain {
                name: name.to_owned(),
                deprecated: false,
                description: s(b, "description").map(str::to_owned),
                retention: retention.to_owned(),
                tags,
                activity_types: BTreeMap::new(),
                workflow_types: BTreeMap::new(),
            },
        );
        Ok(json!({}))
    }

    fn domain_info(&self, d: &Domain) -> Value {
        let mut v = json!({
            "name": d.name,
            "status": if d.deprecated { "DEPRECATED" } else { "REGISTERED" },
            "arn": self.domain_arn(&d.name),
        });
        if let Some(desc) = &d.description {
            v["description"] = json!(desc);
        }
        v
    }

    /// DescribeDomain.
    pub fn describe_domain(&self, b: &Obj) -> Res {
        let d = self.domain(req_s(b, "name")?)?;
        Ok(json!({
            "domainInfo": self.domain_info(d),
            "configuration": {"workflowExecutionRetentionPeriodInDays": d.retention},
        }))
    }

    /// ListDomains.
    pub fn list_domains(&self, b: &Obj) -> Res {
        let status = req_s(b, "registrationStatus")?;
        if status != "REGISTERED" && status != "DEPRECATED" {
            return Err(validation(
                "registrationStatus must be REGISTERED or DEPRECATED",
            ));
        }
        let list: Vec<Value> = self
            .domains
            .values()
            .filter(|d| d.deprecated == (status == "DEPRECATED"))
            .map(|d| self.domain_info(d))
            .collect();
        paged(list, b, "domainInfos")
    }

    /// DeprecateDomain: its types are deprecated with it.
    pub fn deprecate_domain(&mut self, b: &Obj, now: f64) -> Res {
        let d = self.domain_mut(req_s(b, "name")?)?;
        if d.deprecated {
            return Err(fault(Fault::DomainDeprecatedFault, d.name.clone()));
        }
        d.deprecated = true;
        for t in d
            .activity_types
            .values_mut()
            .chain(d.workflow_types.values_mut())
        {
            if !t.deprecated {
                t.deprecated = true;
                t.deprecation = Some(now);
            }
        }
        Ok(json!({}))
    }

    // ----- types -----

    fn register_type(&mut self, b: &Obj, now: f64, activity: bool) -> Res {
        let domain = req_s(b, "domain")?;
        let name = req_s(b, "name")?;
        check_name("name", name)?;
        let version = req_s(b, "version")?;
        if version.is_empty() || version.chars().count() > 64 {
            return Err(validation("version must have 1 to 64 characters"));
        }
        max_len(b, "description", 1024)?;
        let fields: &[&str] = if activity {
            &[
                "defaultTaskStartToCloseTimeout",
                "defaultTaskHeartbeatTimeout",
                "defaultTaskScheduleToStartTimeout",
                "defaultTaskScheduleToCloseTimeout",
            ]
        } else {
            &[
                "defaultTaskStartToCloseTimeout",
                "defaultExecutionStartToCloseTimeout",
            ]
        };
        for f in fields {
            if let Some(v) = s(b, f) {
                parse_timeout(f, v)?;
            }
        }
        let d = self.domain_mut(domain)?;
        if d.deprecated {
            return Err(fault(Fault::DomainDeprecatedFault, d.name.clone()));
        }
        let key = (name.to_owned(), version.to_owned());
        let map = if activity {
            &mut d.activity_types
        } else {
            &mut d.workflow_types
        };
        if map.contains_key(&key) {
            let kind = if activity {
                "ActivityType"
            } else {
                "WorkflowType"
            };
            return Err(fault(
                Fault::TypeAlreadyExistsFault,
                format!("{kind}=[name={name}, version={version}]"),
            ));
        }
        let mut config = b.clone();
        for k in ["domain", "name", "version", "description"] {
            config.remove(k);
        }
        map.insert(
            key,
            TypeInfo {
                name: name.to_owned(),
                version: version.to_owned(),
                description: s(b, "description").map(str::to_owned),
                deprecated: false,
                creation: now,
                deprecation: None,
                config,
            },
        );
        Ok(json!({}))
    }

    /// RegisterActivityType.
    pub fn register_activity_type(&mut self, b: &Obj, now: f64) -> Res {
        self.register_type(b, now, true)
    }

    /// RegisterWorkflowType.
    pub fn register_workflow_type(&mut self, b: &Obj, now: f64) -> Res {
        self.register_type(b, now, false)
    }

    fn type_info_json(t: &TypeInfo, activity: bool) -> Value {
        let key = if activity {
            "activityType"
        } else {
            "workflowType"
        };
        let mut v = json!({
            key: {"name": t.name, "version": t.version},
            "status": if t.deprecated { "DEPRECATED" } else { "REGISTERED" },
            "creationDate": t.creation,
        });
        if let Some(d) = &t.description {
            v["description"] = json!(d);
        }
        if let Some(d) = t.deprecation {
            v["deprecationDate"] = json!(d);
        }
        v
    }

    fn describe_type(&self, b: &Obj, activity: bool) -> Res {
        let key_name = if activity {
            "activityType"
        } else {
            "workflowType"
        };
        let d = self.domain(req_s(b, "domain")?)?;
        let t = obj(b, key_name).ok_or_else(|| missing(key_name))?;
        let (name, version) = (req_s(t, "name")?, req_s(t, "version")?);
        let map = if activity {
            &d.activity_types
        } else {
            &d.workflow_types
        };
        let kind = if activity {
            "ActivityType"
        } else {
            "WorkflowType"
        };
        let info = map
            .get(&(name.to_owned(), version.to_owned()))
            .ok_or_else(|| {
                fault(
                    Fault::UnknownResourceFault,
                    format!("Unknown type: {kind}=[name={name}, version={version}]"),
                )
            })?;
        Ok(json!({"typeInfo": Self::type_info_json(info, activity), "configuration": info.config}))
    }

    /// DescribeActivityType.
    pub fn describe_activity_type(&self, b: &Obj) -> Res {
        self.describe_type(b, true)
    }

    /// DescribeWorkflowType.
    pub fn describe_workflow_type(&self, b: &Obj) -> Res {
        self.describe_type(b, false)
    }

    fn list_types(&self, b: &Obj, activity: bool) -> Res {
        let d = self.domain(req_s(b, "domain")?)?;
        let status = req_s(b, "registrationStatus")?;
        let map = if activity {
            &d.activity_types
        } else {
            &d.workflow_types
        };
        let list: Vec<Value> = map
            .values()
            .filter(|t| t.deprecated == (status == "DEPRECATED"))
            .filter(|t| s(b, "name").is_none_or(|n| n == t.name))
            .map(|t| Self::type_info_json(t, activity))
            .collect();
        paged(list, b, "typeInfos")
    }

    /// ListActivityTypes.
    pub fn list_activity_types(&self, b: &Obj) -> Res {
        self.list_types(b, true)
    }

    /// ListWorkflowTypes.
    pub fn list_workflow_types(&self, b: &Obj) -> Res {
        self.list_types(b, false)
    }

    // ----- executions -----

    fn find_exec(&self, domain: &str, exec: &Obj) -> Result<usize, WireError> {
        let wid = req_s(exec, "workflowId")?;
        let rid = s(exec, "runId");
        self.executions
            .iter()
            .rposition(|e| {
                e.domain == domain && e.workflow_id == wid && rid.is_none_or(|r| r == e.run_id)
            })
            .ok_or_else(|| {
                fault(
                    Fault::UnknownResourceFault,
                    format!(
                        "Unknown execution: WorkflowExecution=[workflowId={wid}, runId={}]",
                        rid.unwrap_or("")
                    ),
                )
            })
    }

    fn find_open(&self, domain: &str, wid: &str, rid: Option<&str>) -> Result<usize, WireError> {
        self.executions
            .iter()
            .rposition(|e| {
                e.domain == domain
                    && e.workflow_id == wid
                    && e.open()
                    && rid.is_none_or(|r| r == e.run_id)
            })
            .ok_or_else(|| {
                fault(
                    Fault::UnknownResourceFault,
                    format!(
                        "Unknown execution: WorkflowExecution=[workflowId={wid}, runId={}]",
                        rid.unwrap_or("")
                    ),
                )
            })
    }

    /// StartWorkflowExecution.
    pub fn start_workflow_execution(&mut self, b: &Obj, now: f64) -> Res {
        let run_id = self.start_execution(b, now, None)?;
        Ok(json!({"runId": run_id}))
    }

    /// Starts an execution from a StartWorkflowExecution-shaped body; `continued` is the
    /// run it continues (ContinueAsNew: `continuedExecutionRunId`). Returns the run ID.
    fn start_execution(
        &mut self,
        b: &Obj,
        now: f64,
        continued: Option<&str>,
    ) -> Result<String, WireError> {
        let domain = req_s(b, "domain")?;
        let wid = req_s(b, "workflowId")?;
        check_name("workflowId", wid)?;
        let wt = obj(b, "workflowType").ok_or_else(|| missing("workflowType"))?;
        let (name, version) = (req_s(wt, "name")?, req_s(wt, "version")?);
        max_len(b, "input", 32768)?;
        let tags: Vec<String> = match b.get("tagList") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        if tags.len() > 5 {
            return Err(validation("tagList may have at most 5 entries"));
        }
        let d = self.domain(domain)?;
        let t = d
            .workflow_types
            .get(&(name.to_owned(), version.to_owned()))
            .ok_or_else(|| {
                fault(
                    Fault::UnknownResourceFault,
                    format!("Unknown type: WorkflowType=[name={name}, version={version}]"),
                )
            })?;
        if t.deprecated || d.deprecated {
            return Err(fault(
                Fault::TypeDeprecatedFault,
                format!("WorkflowType=[name={name}, version={version}]"),
            ));
        }
        let pick = |field: &str, default: &str| -> Option<String> {
            s(b, field)
                .map(str::to_owned)
                .or_else(|| s(&t.config, default).map(str::to_owned))
        };
        let exec_timeout = pick(
            "executionStartToCloseTimeout",
            "defaultExecutionStartToCloseTimeout",
        )
        .ok_or_else(|| fault(Fault::DefaultUndefinedFault, "executionStartToCloseTimeout"))?;
        let task_list = obj(b, "taskList")
            .and_then(|t| s(t, "name"))
            .or_else(|| obj(&t.config, "defaultTaskList").and_then(|t| s(t, "name")))
            .map(str::to_owned)
            .ok_or_else(|| fault(Fault::DefaultUndefinedFault, "taskList"))?;
        let task_timeout = pick("taskStartToCloseTimeout", "defaultTaskStartToCloseTimeout")
            .ok_or_else(|| fault(Fault::DefaultUndefinedFault, "taskStartToCloseTimeout"))?;
        let child_policy = pick("childPolicy", "defaultChildPolicy")
            .ok_or_else(|| fault(Fault::DefaultUndefinedFault, "childPolicy"))?;
        let lambda_role = pick("lambdaRole", "defaultLambdaRole");
        let exec_secs = parse_timeout("executionStartToCloseTimeout", &exec_timeout)?
            .ok_or_else(|| validation("executionStartToCloseTimeout must not be NONE"))?;
        if exec_secs > 31_536_000.0 {
            return Err(validation(
                "executionStartToCloseTimeout must be at most one year",
            ));
        }
        let task_secs = parse_timeout("taskStartToCloseTimeout", &task_timeout)?;
        if self
            .executions
            .iter()
            .any(|e| e.domain == domain && e.workflow_id == wid && e.open())
        {
            return Err(fault(
                Fault::WorkflowExecutionAlreadyStartedFault,
                format!("Workflow execution already started: {wid}"),
            ));
        }
        let run_id = new_run_id();
        let priority = s(b, "taskPriority").map(str::to_owned);
        let mut e = Execution {
            domain: domain.to_owned(),
            workflow_id: wid.to_owned(),
            run_id: run_id.clone(),
            workflow_type: json!({"name": name, "version": version}),
            task_list: task_list.clone(),
            child_policy: child_policy.clone(),
            exec_timeout_s: exec_timeout.clone(),
            task_timeout_s: task_timeout.clone(),
            exec_deadline: Some(now + exec_secs),
            task_timeout: task_secs,
            tag_list: tags.clone(),
            priority: priority.clone(),
            start: now,
            close: None,
            close_status: None,
            cancel_requested: false,
            events: Vec::new(),
            decision: DecisionState::None,
            pending_decision: false,
            activities: BTreeMap::new(),
            timers: BTreeMap::new(),
            latest_context: None,
            latest_activity_at: None,
            previous_started: 0,
            parent: None,
            lambda_role: lambda_role.clone(),
        };
        let mut attrs = json!({
            "executionStartToCloseTimeout": exec_timeout,
            "taskStartToCloseTimeout": task_timeout,
            "childPolicy": child_policy,
            "taskList": {"name": task_list},
            "workflowType": {"name": name, "version": version},
        });
        if let Some(i) = s(b, "input") {
            attrs["input"] = json!(i);
        }
        if !tags.is_empty() {
            attrs["tagList"] = json!(tags);
        }
        if let Some(p) = priority {
            attrs["taskPriority"] = json!(p);
        }
        if let Some(c) = continued {
            attrs["continuedExecutionRunId"] = json!(c);
        }
        if let Some(r) = &lambda_role {
            attrs["lambdaRole"] = json!(r);
        }
        e.event("WorkflowExecutionStarted", now, attrs);
        e.schedule_decision(now);
        self.executions.push(e);
        Ok(run_id)
    }

    fn execution_info(&self, e: &Execution) -> Value {
        let mut v = json!({
            "execution": e.key_json(),
            "workflowType": e.workflow_type,
            "startTimestamp": e.start,
            "executionStatus": if e.open() { "OPEN" } else { "CLOSED" },
            "cancelRequested": e.cancel_requested,
        });
        if let Some(c) = e.close {
            v["closeTimestamp"] = json!(c);
        }
        if let Some(c) = e.close_status {
            v["closeStatus"] = json!(c);
        }
        if !e.tag_list.is_empty() {
            v["tagList"] = json!(e.tag_list);
        }
        if let Some(p) = e.parent.and_then(|p| self.executions.get(p.exec)) {
            v["parent"] = p.key_json();
        }
        v
    }

    /// DescribeWorkflowExecution.
    pub fn describe_workflow_execution(&self, b: &Obj) -> Res {
        let domain = req_s(b, "domain")?;
        self.domain(domain)?;
        let i = self.find_exec(
            domain,
            obj(b, "execution").ok_or_else(|| missing("execution"))?,
        )?;
        let e = &self.executions[i];
        let open_activities = e.activities.len();
        let open_decisions = usize::from(e.decision != DecisionState::None);
        let mut cfg = json!({
            "taskStartToCloseTimeout": e.task_timeout_s,
            "executionStartToCloseTimeout": e.exec_timeout_s,
            "taskList": {"name": e.task_list},
            "childPolicy": e.child_policy,
        });
        if let Some(p) = &e.priority {
            cfg["taskPriority"] = json!(p);
        }
        if let Some(r) = &e.lambda_role {
            cfg["lambdaRole"] = json!(r);
        }
        let mut v = json!({
            "executionInfo": self.execution_info(e),
            "executionConfiguration": cfg,
            "openCounts": {
                "openActivityTasks": open_activities,
                "openDecisionTasks": open_decisions,
                "openTimers": e.timers.len(),
                "openChildWorkflowExecutions": self.open_children(i),
                "openLambdaFunctions": 0,
            },
        });
        if let Some(t) = e.latest_activity_at {
            v["latestActivityTaskTimestamp"] = json!(t);
        }
        if let Some(c) = &e.latest_context {
            v["latestExecutionContext"] = json!(c);
        }
        Ok(v)
    }

    /// GetWorkflowExecutionHistory.
    pub fn get_workflow_execution_history(&self, b: &Obj) -> Res {
        let domain = req_s(b, "domain")?;
        self.domain(domain)?;
        let i = self.find_exec(
            domain,
            obj(b, "execution").ok_or_else(|| missing("execution"))?,
        )?;
        let events = self.executions[i].events.clone();
        paged(events, b, "events")
    }

    /// RequestCancelWorkflowExecution.
    pub fn request_cancel_workflow_execution(&mut self, b: &Obj, now: f64) -> Res {
        let domain = req_s(b, "domain")?;
        self.domain(domain)?;
        let i = self.find_open(domain, req_s(b, "workflowId")?, s(b, "runId"))?;
        let e = &mut self.executions[i];
        if !e.cancel_requested {
            e.cancel_requested = true;
            e.event("WorkflowExecutionCancelRequested", now, json!({}));
            e.schedule_decision(now);
        }
        Ok(json!({}))
    }

    /// SignalWorkflowExecution.
    pub fn signal_workflow_execution(&mut self, b: &Obj, now: f64) -> Res {
        let domain = req_s(b, "domain")?;
        self.domain(domain)?;
        let signal = req_s(b, "signalName")?;
        max_len(b, "input", 32768)?;
        let i = self.find_open(domain, req_s(b, "workflowId")?, s(b, "runId"))?;
        let e = &mut self.executions[i];
        let mut attrs = json!({"signalName": signal});
        if let Some(inp) = s(b, "input") {
            attrs["input"] = json!(inp);
        }
        e.event("WorkflowExecutionSignaled", now, attrs);
        e.schedule_decision(now);
        Ok(json!({}))
    }

    /// TerminateWorkflowExecution.
    pub fn terminate_workflow_execution(&mut self, b: &Obj, now: f64) -> Res {
        let domain = req_s(b, "domain")?;
        self.domain(domain)?;
        max_len(b, "reason", 256)?;
        max_len(b, "details", 32768)?;
        let i = self.find_open(domain, req_s(b, "workflowId")?, s(b, "runId"))?;
        let e = &mut self.executions[i];
        let policy = s(b, "childPolicy").unwrap_or(&e.child_policy).to_owned();
        let mut attrs = json!({"childPolicy": policy, "cause": "OPERATOR_INITIATED"});
        if let Some(r) = s(b, "reason") {
            attrs["reason"] = json!(r);
        }
        if let Some(d) = s(b, "details") {
            attrs["details"] = json!(d);
        }
        e.event("WorkflowExecutionTerminated", now, attrs);
        e.close_with("TERMINATED", now);
        self.after_close(i, now, Some(policy));
        Ok(json!({}))
    }

    /// CountPendingActivityTasks: scheduled, not yet started tasks.
    pub fn count_pending_activity_tasks(&self, b: &Obj) -> Res {
        let (domain, tl) = self.task_list_target(b)?;
        let n = self
            .executions
            .iter()
            .filter(|e| e.domain == domain && e.open())
            .flat_map(|e| e.activities.values())
            .filter(|a| a.task_list == tl && a.started_id.is_none())
            .count();
        Ok(json!({"count": n, "truncated": false}))
    }

    /// CountPendingDecisionTasks.
    pub fn count_pending_decision_tasks(&self, b: &Obj) -> Res {
        let (domain, tl) = self.task_list_target(b)?;
        let n = self
            .executions
            .iter()
            .filter(|e| {
                e.domain == domain
                    && e.open()
                    && e.task_list == tl
                    && matches!(e.decision, DecisionState::Scheduled { .. })
            })
            .count();
        Ok(json!({"count": n, "truncated": false}))
    }

    // ----- polls -----

    /// The `domain` (which must exist) and `taskList.name` of a poll or count; checks
    /// `identity`'s length.
    fn task_list_target<'a>(&self, b: &'a Obj) -> Result<(&'a str, &'a str), WireError> {
        let domain = req_s(b, "domain")?;
        self.domain(domain)?;
        let tl = obj(b, "taskList")
            .and_then(|t| s(t, "name"))
            .ok_or_else(|| missing("taskList"))?;
        max_len(b, "identity", 256)?;
        Ok((domain, tl))
    }

    /// Starts a task of execution `i`: issues a token and writes `event`
    /// (`DecisionTaskStarted`/`ActivityTaskStarted`) with the poller's identity.
    fn start_task(
        &mut self,
        i: usize,
        scheduled_id: u64,
        b: &Obj,
        now: f64,
        event: &str,
    ) -> (String, u64) {
        let mut attrs = json!({"scheduledEventId": scheduled_id});
        if let Some(id) = s(b, "identity") {
            attrs["identity"] = json!(id);
        }
        let started_id = self.executions[i].event(event, now, attrs);
        (new_token(), started_id)
    }

    /// Takes the oldest scheduled decision task of a task list, if any (writes
    /// `DecisionTaskStarted` and issues a token).
    pub fn take_decision_task(&mut self, b: &Obj, now: f64) -> Result<Option<Task>, WireError> {
        let (domain, tl) = self.task_list_target(b)?;
        let pick = self
            .executions
            .iter()
            .enumerate()
            .filter(|(_, e)| e.domain == domain && e.open() && e.task_list == tl)
            .filter_map(|(i, e)| match e.decision {
                DecisionState::Scheduled { scheduled_id, at } => Some((at, i, scheduled_id)),
                _ => None,
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let Some((_, i, scheduled_id)) = pick else {
            return Ok(None);
        };
        let (token, started_id) = self.start_task(i, scheduled_id, b, now, "DecisionTaskStarted");
        let e = &mut self.executions[i];
        e.decision = DecisionState::Started {
            scheduled_id,
            started_id,
            at: now,
            token: token.clone(),
        };
        let previous = e.previous_started;
        e.previous_started = started_id;
        let mut events = e.events.clone();
        if b.get("reverseOrder").and_then(Value::as_bool) == Some(true) {
            events.reverse();
        }
        let (items, next) = page(events, b, 1000)?;
        let mut v = json!({
            "taskToken": token,
            "startedEventId": started_id,
            "workflowExecution": e.key_json(),
            "workflowType": e.workflow_type,
            "events": items,
            "previousStartedEventId": previous,
        });
        if let Some(n) = next {
            v["nextPageToken"] = json!(n);
        }
        self.tokens.insert(
            token,
            TokenRef::Decision {
                exec: i,
                scheduled_id,
            },
        );
        Ok(Some(Task::Decision(v)))
    }

    /// Takes the oldest scheduled activity task of a task list, if any.
    pub fn take_activity_task(&mut self, b: &Obj, now: f64) -> Result<Option<Task>, WireError> {
        let (domain, tl) = self.task_list_target(b)?;
        let pick = self
            .executions
            .iter()
            .enumerate()
            .filter(|(_, e)| e.domain == domain && e.open())
            .flat_map(|(i, e)| {
                e.activities
                    .values()
                    .filter(|a| a.task_list == tl && a.started_id.is_none())
                    .map(move |a| (a.scheduled_at, i, a.scheduled_id))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let Some((_, i, scheduled_id)) = pick else {
            return Ok(None);
        };
        let (token, started_id) = self.start_task(i, scheduled_id, b, now, "ActivityTaskStarted");
        let e = &mut self.executions[i];
        e.latest_activity_at = Some(now);
        let key = e.key_json();
        let Some(a) = e.activities.get_mut(&scheduled_id) else {
            return Err(WireError::InternalFailure("activity vanished".into()));
        };
        a.started_id = Some(started_id);
        a.started_at = now;
        a.last_beat = now;
        a.token = Some(token.clone());
        let mut v = json!({
            "taskToken": token,
            "activityId": a.activity_id,
            "startedEventId": started_id,
            "workflowExecution": key,
            "activityType": a.activity_type,
        });
        if let Some(i) = &a.input {
            v["input"] = json!(i);
        }
        self.tokens.insert(
            token,
            TokenRef::Activity {
                exec: i,
                scheduled_id,
            },
        );
        Ok(Some(Task::Activity(v)))
    }

    // ----- activity task responses -----

    fn activity_of(&self, token: &str) -> Result<(usize, u64), WireError> {
        match self.tokens.get(token) {
            Some(TokenRef::Activity { exec, scheduled_id }) => {
                let e = &self.executions[*exec];
                if !e.open() {
                    return Err(fault(
                        Fault::UnknownResourceFault,
                        format!(
                            "Unknown execution: WorkflowExecution=[workflowId={}, runId={}]",
                            e.workflow_id, e.run_id
                        ),
                    ));
                }
                if !e.activities.contains_key(scheduled_id) {
                    return Err(fault(
                        Fault::UnknownResourceFault,
                        format!("Unknown activity, scheduledEventId = {scheduled_id}"),
                    ));
                }
                Ok((*exec, *scheduled_id))
            }
            _ => Err(validation("Invalid token")),
        }
    }

    /// RecordActivityTaskHeartbeat: resets the heartbeat clock, keeps the details.
    pub fn record_activity_task_heartbeat(&mut self, b: &Obj, now: f64) -> Res {
        let token = req_s(b, "taskToken")?;
        max_len(b, "details", 2048)?;
        let (i, sid) = self.activity_of(token)?;
        let Some(a) = self.executions[i].activities.get_mut(&sid) else {
            return Err(fault(
                Fault::UnknownResourceFault,
                format!("Unknown activity, scheduledEventId = {sid}"),
            ));
        };
        a.last_beat = now;
        if let Some(d) = s(b, "details") {
            a.details = Some(d.to_owned());
        }
        Ok(json!({"cancelRequested": a.cancel_requested.is_some()}))
    }

    fn close_activity(&mut self, b: &Obj, now: f64, ty: &str) -> Res {
        let token = req_s(b, "taskToken")?;
        max_len(b, "result", 32768)?;
        max_len(b, "details", 32768)?;
        max_len(b, "reason", 256)?;
        let (i, sid) = self.activity_of(token)?;
        let e = &mut self.executions[i];
        let Some(a) = e.activities.remove(&sid) else {
            return Err(fault(
                Fault::UnknownResourceFault,
                format!("Unknown activity, scheduledEventId = {sid}"),
            ));
        };
        let mut attrs =
            json!({"scheduledEventId": sid, "startedEventId": a.started_id.unwrap_or(0)});
        for k in ["result", "reason", "details"] {
            if let Some(v) = s(b, k) {
                attrs[k] = json!(v);
            }
        }
        if ty == "ActivityTaskCanceled" {
            if let Some(c) = a.cancel_requested {
                attrs["latestCancelRequestedEventId"] = json!(c);
            }
        }
        e.event(ty, now, attrs);
        e.schedule_decision(now);
        Ok(json!({}))
    }

    /// RespondActivityTaskCompleted.
    pub fn respond_activity_task_completed(&mut self, b: &Obj, now: f64) -> Res {
        self.close_activity(b, now, "ActivityTaskCompleted")
    }

    /// RespondActivityTaskFailed.
    pub fn respond_activity_task_failed(&mut self, b: &Obj, now: f64) -> Res {
        self.close_activity(b, now, "ActivityTaskFailed")
    }

    /// RespondActivityTaskCanceled.
    pub fn respond_activity_task_canceled(&mut self, b: &Obj, now: f64) -> Res {
        self.close_activity(b, now, "ActivityTaskCanceled")
    }

    // ----- decisions -----

    /// The execution and started decision task of a decision token.
    pub fn decision_task(&self, token: &str) -> Result<usize, WireError> {
        match self.tokens.get(token) {
            Some(TokenRef::Decision { exec, scheduled_id }) => {
                let e = &self.executions[*exec];
                if !e.open() {
                    return Err(fault(
                        Fault::UnknownResourceFault,
                        format!(
                            "Unknown execution: WorkflowExecution=[workflowId={}, runId={}]",
                            e.workflow_id, e.run_id
                        ),
                    ));
                }
                match &e.decision {
                    DecisionState::Started {
                        scheduled_id: s2,
                        token: t,
                        ..
                    } if s2 == scheduled_id && t == token => Ok(*exec),
                    _ => Err(fault(
                        Fault::UnknownResourceFault,
                        format!("Unknown decision task, scheduledEventId = {scheduled_id}"),
                    )),
                }
            }
            _ => Err(validation("Invalid token")),
        }
    }

    /// Checks the structure of `decisions` before anything is applied.
    pub fn validate_decisions(decisions: &[Value]) -> Result<(), WireError> {
        let close = [
            "CompleteWorkflowExecution",
            "FailWorkflowExecution",
            "CancelWorkflowExecution",
            "ContinueAsNewWorkflowExecution",
        ];
        for (n, d) in decisions.iter().enumerate() {
            let m = n + 1;
            let ty = d.get("decisionType").and_then(Value::as_str).ok_or_else(|| {
                validation(format!("1 validation error detected: Value null at 'decisions.{m}.member.decisionType' failed to satisfy constraint: Member must not be null"))
            })?;
            let key = attrs_key(ty);
            let empty = Map::new();
            let attrs = d.get(&key).and_then(Value::as_object).unwrap_or(&empty);
            let need = |field: &str| -> Result<(), WireError> {
                let mut cur: Option<&Value> = Some(&Value::Object(attrs.clone()));
                for p in field.split('.') {
                    cur = cur.and_then(|v| v.get(p));
                }
                match cur {
                    Some(Value::String(_)) => Ok(()),
                    _ => Err(validation(format!(
                        "1 validation error detected: Value null at 'decisions.{m}.member.{key}.{field}' failed to satisfy constraint: Member must not be null"
                    ))),
                }
            };
            match ty {
                "ScheduleActivityTask" => {
                    need("activityType.name")?;
                    need("activityType.version")?;
                    need("activityId")?;
                }
                "RequestCancelActivityTask" => need("activityId")?,
                "RecordMarker" => need("markerName")?,
                "StartTimer" => {
                    need("timerId")?;
                    need("startToFireTimeout")?;
                }
                "CancelTimer" => need("timerId")?,
                "CompleteWorkflowExecution"
                | "FailWorkflowExecution"
                | "CancelWorkflowExecution" => {}
                "SignalExternalWorkflowExecution" => {
                    need("workflowId")?;
                    need("signalName")?;
                }
                "RequestCancelExternalWorkflowExecution" => need("workflowId")?,
                "ContinueAsNewWorkflowExecution" => Self::validate_start_settings(attrs, m, &key)?,
                "StartChildWorkflowExecution" => {
                    need("workflowType.name")?;
                    need("workflowType.version")?;
                    need("workflowId")?;
                    Self::validate_start_settings(attrs, m, &key)?;
                }
                "ScheduleLambdaFunction" => {
                    need("id")?;
                    need("name")?;
                }
                other => {
                    return Err(validation(format!(
                        "Unknown decision type `{other}` at decisions.{m}"
                    )))
                }
            }
            if close.contains(&ty) && m != decisions.len() {
                return Err(validation(format!("{ty} must be the last decision")));
            }
        }
        Ok(())
    }

    /// Checks the settings a decision that starts an execution carries (timeouts, input,
    /// tags) before any decision is applied.
    fn validate_start_settings(attrs: &Obj, m: usize, key: &str) -> Result<(), WireError> {
        for f in ["executionStartToCloseTimeout", "taskStartToCloseTimeout"] {
            if let Some(v) = s(attrs, f) {
                parse_timeout(f, v)?;
            }
        }
        if let Some(v) = s(attrs, "input") {
            if v.chars().count() > 32768 {
                return Err(validation(format!("1 validation error detected: Value at 'decisions.{m}.member.{key}.input' failed to satisfy constraint: Member must have length less than or equal to 32768")));
            }
        }
        if attrs
            .get("tagList")
            .and_then(Value::as_array)
            .is_some_and(|t| t.len() > 5)
        {
            return Err(validation(format!("1 validation error detected: Value at 'decisions.{m}.member.{key}.tagList' failed to satisfy constraint: Member must have length less than or equal to 5")));
        }
        Ok(())
    }

    /// Records `DecisionTaskCompleted` for a started decision task; returns its id.
    pub fn complete_decision_task(
        &mut self,
        exec: usize,
        b: &Obj,
        now: f64,
    ) -> Result<u64, WireError> {
        max_len(b, "executionContext", 32768)?;
        let e = &mut self.executions[exec];
        let DecisionState::Started {
            scheduled_id,
            started_id,
            ..
        } = e.decision.clone()
        else {
            return Err(fault(Fault::UnknownResourceFault, "Unknown decision task"));
        };
        let mut attrs = json!({"scheduledEventId": scheduled_id, "startedEventId": started_id});
        if let Some(c) = s(b, "executionContext") {
            attrs["executionContext"] = json!(c);
            e.latest_context = Some(c.to_owned());
        }
        e.decision = DecisionState::None;
        Ok(e.event("DecisionTaskCompleted", now, attrs))
    }

    /// Records a decision denied by IAM: one `<Decision>Failed` event with cause
    /// `OPERATION_NOT_PERMITTED` and the decision's identifying fields.
    pub fn deny_decision(
        &mut self,
        exec: usize,
        ty: &str,
        attrs: &Obj,
        completed_id: u64,
        now: f64,
    ) {
        let e = &mut self.executions[exec];
        let mut a = Map::new();
        for k in [
            "activityType",
            "activityId",
            "markerName",
            "timerId",
            "workflowId",
            "runId",
            "workflowType",
            "control",
        ] {
            let allowed = match ty {
                "ScheduleActivityTask" => ["activityType", "activityId"].contains(&k),
                "RequestCancelActivityTask" => k == "activityId",
                "RecordMarker" => k == "markerName",
                "StartTimer" | "CancelTimer" => k == "timerId",
                "SignalExternalWorkflowExecution" | "RequestCancelExternalWorkflowExecution" => {
                    ["workflowId", "runId", "control"].contains(&k)
                }
                "StartChildWorkflowExecution" => {
                    ["workflowType", "workflowId", "control"].contains(&k)
                }
                _ => false,
            };
            if allowed {
                if let Some(v) = attrs.get(k) {
                    a.insert(k.into(), v.clone());
                }
            }
        }
        a.insert("cause".into(), json!("OPERATION_NOT_PERMITTED"));
        a.insert("decisionTaskCompletedEventId".into(), json!(completed_id));
        if ty.ends_with("ExternalWorkflowExecution") || ty == "StartChildWorkflowExecution" {
            // No `*Initiated` event is written for a denied decision.
            a.insert("initiatedEventId".into(), json!(0));
        }
        e.event(&format!("{ty}Failed"), now, Value::Object(a));
    }

    /// Applies one allowed decision. Returns whether it wrote a `*Failed` event.
    pub fn apply_decision(
        &mut self,
        exec: usize,
        ty: &str,
        a: &Obj,
        completed_id: u64,
        now: f64,
    ) -> bool {
        let domain = self.executions[exec].domain.clone();
        let failed = |e: &mut Execution, cause: &str, extra: Value| {
            let mut attrs = extra;
            attrs["cause"] = json!(cause);
            attrs["decisionTaskCompletedEventId"] = json!(completed_id);
            e.event(&format!("{ty}Failed"), now, attrs);
            true
        };
        match ty {
            "SignalExternalWorkflowExecution" | "RequestCancelExternalWorkflowExecution" => {
                self.apply_external(exec, ty, a, completed_id, now)
            }
            "ContinueAsNewWorkflowExecution" => self.continue_as_new(exec, a, completed_id, now),
            "StartChildWorkflowExecution" => self.start_child(exec, a, completed_id, now),
            "ScheduleLambdaFunction" => self.schedule_lambda(exec, a, completed_id, now),
            "ScheduleActivityTask" => {
                let at = a.get("activityType").cloned().unwrap_or(Value::Null);
                let id = s(a, "activityId").unwrap_or("").to_owned();
                let extra = json!({"activityType": at, "activityId": id});
                let name = at.get("name").and_then(Value::as_str).unwrap_or("");
                let version = at.get("version").and_then(Value::as_str).unwrap_or("");
                let t = self
                    .domains
                    .get(&domain)
                    .and_then(|d| d.activity_types.get(&(name.to_owned(), version.to_owned())))
                    .cloned();
                let e = &mut self.executions[exec];
                let Some(t) = t else {
                    return failed(e, "ACTIVITY_TYPE_DOES_NOT_EXIST", extra);
                };
                if t.deprecated {
                    return failed(e, "ACTIVITY_TYPE_DEPRECATED", extra);
                }
                if e.activities.values().any(|x| x.activity_id == id) {
                    return failed(e, "ACTIVITY_ID_ALREADY_IN_USE", extra);
                }
                let tl = obj(a, "taskList")
                    .and_then(|x| s(x, "name"))
                    .or_else(|| obj(&t.config, "defaultTaskList").and_then(|x| s(x, "name")));
                let Some(tl) = tl.map(str::to_owned) else {
                    return failed(e, "DEFAULT_TASK_LIST_UNDEFINED", extra);
                };
                let mut resolved = Map::new();
                for (field, default, cause) in [
                    (
                        "scheduleToStartTimeout",
                        "defaultTaskScheduleToStartTimeout",
                        "DEFAULT_SCHEDULE_TO_START_TIMEOUT_UNDEFINED",
                    ),
                    (
                        "scheduleToCloseTimeout",
                        "defaultTaskScheduleToCloseTimeout",
                        "DEFAULT_SCHEDULE_TO_CLOSE_TIMEOUT_UNDEFINED",
                    ),
                    (
                        "startToCloseTimeout",
                        "defaultTaskStartToCloseTimeout",
                        "DEFAULT_START_TO_CLOSE_TIMEOUT_UNDEFINED",
                    ),
                    (
                        "heartbeatTimeout",
                        "defaultTaskHeartbeatTimeout",
                        "DEFAULT_HEARTBEAT_TIMEOUT_UNDEFINED",
                    ),
                ] {
                    let v = s(a, field).or_else(|| s(&t.config, default));
                    let Some(v) = v.filter(|v| parse_timeout(field, v).is_ok()) else {
                        return failed(e, cause, extra);
                    };
                    resolved.insert(field.into(), json!(v));
                }
                let secs = |k: &str| {
                    resolved
                        .get(k)
                        .and_then(Value::as_str)
                        .and_then(|v| parse_timeout(k, v).ok().flatten())
                };
                let mut attrs = json!({
                    "activityType": at,
                    "activityId": id,
                    "taskList": {"name": tl},
                    "decisionTaskCompletedEventId": completed_id,
                });
                for (k, v) in &resolved {
                    attrs[k.as_str()] = v.clone();
                }
                for k in ["input", "control"] {
                    if let Some(v) = s(a, k) {
                        attrs[k] = json!(v);
                    }
                }
                let priority = s(a, "taskPriority").or_else(|| s(&t.config, "defaultTaskPriority"));
                if let Some(p) = priority {
                    attrs["taskPriority"] = json!(p);
                }
                let sid = e.event("ActivityTaskScheduled", now, attrs);
                e.activities.insert(
                    sid,
                    Activity {
                        activity_id: id,
                        activity_type: at,
                        task_list: tl,
                        input: s(a, "input").map(str::to_owned),
                        scheduled_id: sid,
                        started_id: None,
                        scheduled_at: now,
                        started_at: 0.0,
                        last_beat: 0.0,
                        heartbeat_timeout: secs("heartbeatTimeout"),
                        start_to_close: secs("startToCloseTimeout"),
                        schedule_to_start: secs("scheduleToStartTimeout"),
                        schedule_to_close: secs("scheduleToCloseTimeout"),
                        details: None,
                        cancel_requested: None,
                        token: None,
                    },
                );
                false
            }
            "RequestCancelActivityTask" => {
                let id = s(a, "activityId").unwrap_or("").to_owned();
                let e = &mut self.executions[exec];
                let Some(sid) = e
                    .activities
                    .values()
                    .find(|x| x.activity_id == id)
                    .map(|x| x.scheduled_id)
                else {
                    return failed(e, "ACTIVITY_ID_UNKNOWN", json!({"activityId": id}));
                };
                let req = e.event(
                    "ActivityTaskCancelRequested",
                    now,
                    json!({"decisionTaskCompletedEventId": completed_id, "activityId": id}),
                );
                let started = e.activities.get(&sid).and_then(|x| x.started_id);
                match started {
                    None => {
                        e.activities.remove(&sid);
                        e.event(
                            "ActivityTaskCanceled",
                            now,
                            json!({"scheduledEventId": sid, "startedEventId": 0, "latestCancelRequestedEventId": req}),
                        );
                        e.pending_decision = true;
                    }
                    Some(_) => {
                        if let Some(x) = e.activities.get_mut(&sid) {
                            x.cancel_requested = Some(req);
                        }
                    }
                }
                false
            }
            "CompleteWorkflowExecution" | "FailWorkflowExecution" | "CancelWorkflowExecution" => {
                let e = &mut self.executions[exec];
                if e.pending_decision {
                    return failed(e, "UNHANDLED_DECISION", json!({}));
                }
                let (event, status) = match ty {
                    "CompleteWorkflowExecution" => ("WorkflowExecutionCompleted", "COMPLETED"),
                    "FailWorkflowExecution" => ("WorkflowExecutionFailed", "FAILED"),
                    _ => ("WorkflowExecutionCanceled", "CANCELED"),
                };
                let mut attrs = json!({"decisionTaskCompletedEventId": completed_id});
                for k in ["result", "reason", "details"] {
                    if let Some(v) = s(a, k) {
                        attrs[k] = json!(v);
                    }
                }
                e.event(event, now, attrs);
                e.close_with(status, now);
                self.after_close(exec, now, None);
                false
            }
            "RecordMarker" => {
                let e = &mut self.executions[exec];
                let mut attrs = json!({"markerName": s(a, "markerName").unwrap_or(""), "decisionTaskCompletedEventId": completed_id});
                if let Some(d) = s(a, "details") {
                    attrs["details"] = json!(d);
                }
                e.event("MarkerRecorded", now, attrs);
                false
            }
            "StartTimer" => {
                let e = &mut self.executions[exec];
                let id = s(a, "timerId").unwrap_or("").to_owned();
                if e.timers.contains_key(&id) {
                    return failed(e, "TIMER_ID_ALREADY_IN_USE", json!({"timerId": id}));
                }
                let fire = s(a, "startToFireTimeout").unwrap_or("0");
                let secs = parse_timeout("startToFireTimeout", fire)
                    .ok()
                    .flatten()
                    .unwrap_or(0.0);
                let mut attrs = json!({"timerId": id, "startToFireTimeout": fire, "decisionTaskCompletedEventId": completed_id});
                if let Some(c) = s(a, "control") {
                    attrs["control"] = json!(c);
                }
                let started = e.event("TimerStarted", now, attrs);
                e.timers.insert(
                    id,
                    Timer {
                        started_id: started,
                        fire_at: now + secs,
                    },
                );
                false
            }
            "CancelTimer" => {
                let e = &mut self.executions[exec];
                let id = s(a, "timerId").unwrap_or("").to_owned();
                let Some(t) = e.timers.remove(&id) else {
                    return failed(e, "TIMER_ID_UNKNOWN", json!({"timerId": id}));
                };
                e.event(
                    "TimerCanceled",
                    now,
                    json!({"timerId": id, "startedEventId": t.started_id, "decisionTaskCompletedEventId": completed_id}),
                );
                false
            }
            _ => false,
        }
    }

    /// After a decision task's decisions: schedule the next decision task if needed.
    pub fn finish_decisions(&mut self, exec: usize, any_failed: bool, now: f64) {
        let e = &mut self.executions[exec];
        if e.open() && (any_failed || e.pending_decision) {
            e.pending_decision = false;
            e.schedule_decision(now);
        }
    }

    // ----- timeouts -----

    /// Applies every timeout due at `now`, earliest first, with the deadline as the
    /// event time. Returns whether anything changed (pollers may have work).
    pub fn process_timeouts(&mut self, now: f64) -> bool {
        let mut changed = false;
        let mut timed_out: Vec<(usize, f64)> = Vec::new();
        for (i, e) in self
            .executions
            .iter_mut()
            .enumerate()
            .filter(|(_, e)| e.open())
        {
            loop {
                // (deadline, what)
                let mut due: Option<(f64, Due)> = None;
                let mut consider = |at: f64, what: Due| {
                    if at <= now && due.as_ref().is_none_or(|(d, _)| at < *d) {
                        due = Some((at, what));
                    }
                };
                if let Some(d) = e.exec_deadline {
                    consider(d, Due::Execution);
                }
                if let (DecisionState::Started { at, .. }, Some(t)) = (&e.decision, e.task_timeout)
                {
                    consider(at + t, Due::DecisionTask);
                }
                for a in e.activities.values() {
                    if let Some(t) = a.schedule_to_close {
                        consider(
                            a.scheduled_at + t,
                            Due::Activity(a.scheduled_id, "SCHEDULE_TO_CLOSE"),
                        );
                    }
                    match a.started_id {
                        None => {
                            if let Some(t) = a.schedule_to_start {
                                consider(
                                    a.scheduled_at + t,
                                    Due::Activity(a.scheduled_id, "SCHEDULE_TO_START"),
                                );
                            }
                        }
                        Some(_) => {
                            if let Some(t) = a.start_to_close {
                                consider(
                                    a.started_at + t,
                                    Due::Activity(a.scheduled_id, "START_TO_CLOSE"),
                                );
                            }
                            if let Some(t) = a.heartbeat_timeout {
                                consider(
                                    a.last_beat + t,
                                    Due::Activity(a.scheduled_id, "HEARTBEAT"),
                                );
                            }
                        }
                    }
                }
                for (id, t) in &e.timers {
                    consider(t.fire_at, Due::Timer(id.clone()));
                }
                let Some((at, what)) = due else { break };
                changed = true;
                match what {
                    Due::Execution => {
                        let attrs =
                            json!({"timeoutType": "START_TO_CLOSE", "childPolicy": e.child_policy});
                        e.event("WorkflowExecutionTimedOut", at, attrs);
                        e.close_with("TIMED_OUT", at);
                        timed_out.push((i, at));
                        break;
                    }
                    Due::DecisionTask => {
                        if let DecisionState::Started {
                            scheduled_id,
                            started_id,
                            ..
                        } = e.decision.clone()
                        {
                            e.event(
                                "DecisionTaskTimedOut",
                                at,
                                json!({"timeoutType": "START_TO_CLOSE", "scheduledEventId": scheduled_id, "startedEventId": started_id}),
                            );
                            e.decision = DecisionState::None;
                            e.pending_decision = false;
                            e.schedule_decision(at);
                        }
                    }
                    Due::Activity(sid, kind) => {
                        if let Some(a) = e.activities.remove(&sid) {
                            let mut attrs = json!({"timeoutType": kind, "scheduledEventId": sid, "startedEventId": a.started_id.unwrap_or(0)});
                            if kind == "HEARTBEAT" || a.details.is_some() {
                                if let Some(d) = &a.details {
                                    attrs["details"] = json!(d);
                                }
                            }
                            e.event("ActivityTaskTimedOut", at, attrs);
                            e.schedule_decision(at);
                        }
                    }
                    Due::Timer(id) => {
                        if let Some(t) = e.timers.remove(&id) {
                            e.event(
                                "TimerFired",
                                at,
                                json!({"timerId": id, "startedEventId": t.started_id}),
                            );
                            e.schedule_decision(at);
                        }
                    }
                }
            }
        }
        // Parents learn of timed-out children; timed-out parents apply their child policy.
        for (i, at) in timed_out {
            self.after_close(i, at, None);
        }
        changed
    }
}

enum Due {
    Execution,
    DecisionTask,
    Activity(u64, &'static str),
    Timer(String),
}

pub use crate::swf::request::attrs_key;
