//! The embedded SWF emulator: an in-memory SWF endpoint (awsJson1.0) that, behind the
//! [gate](crate::gate), enforces IAM the way SWF does — down to each decision of
//! `RespondDecisionTaskCompleted`, whose denials become `<Decision>Failed` events with
//! cause `OPERATION_NOT_PERMITTED`.
//!
//! [`Emulator`] holds the state, the clock and the long-poll limit; [`EmulatorService`]
//! is its tower service (any request body); [`Emulator`] is also the gate's
//! [`TaskTokenResolver`]: tokens are opaque, unguessable, and always looked up.

pub mod state;

use crate::gate::{Authorized, ParsedBody, TaskTokenResolver};
use crate::store::Store;
use crate::swf::request as swfreq;
use crate::swf::wire::WireError;
use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use serde_json::{json, Map, Value};
use state::{State, Task};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tokio::sync::Notify;

/// The emulator's clock, in epoch seconds (fractions allowed).
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> f64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }
}

/// A clock tests move by hand; it never goes backwards.
#[derive(Debug, Default)]
pub struct ManualClock(Mutex<f64>);

impl ManualClock {
    /// A clock at `start` epoch seconds.
    pub fn new(start: f64) -> Self {
        ManualClock(Mutex::new(start))
    }

    /// Moves the clock forward by `secs` (negative values are ignored).
    pub fn advance(&self, secs: f64) {
        if let Ok(mut t) = self.0.lock() {
            *t += secs.max(0.0);
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> f64 {
        self.0.lock().map_or(0.0, |t| *t)
    }
}

/// A clock that runs with the system clock or stands frozen, and that tests move
/// forward (`serve --clock`, `POST /swf-iam/clock`). It never goes backwards.
#[derive(Debug)]
pub struct ControlClock {
    frozen: bool,
    /// Frozen: the time. Running: the offset added to the system clock.
    value: Mutex<f64>,
}

/// The most a single move of a [`ControlClock`] may advance it (ten years).
pub const MAX_ADVANCE_SECS: f64 = 10.0 * 366.0 * 86_400.0;

impl ControlClock {
    /// A clock that follows the system clock (until moved: then it runs ahead of it).
    pub fn running() -> Self {
        ControlClock {
            frozen: false,
            value: Mutex::new(0.0),
        }
    }

    /// A clock frozen at `at` epoch seconds: it moves only when moved.
    pub fn frozen(at: f64) -> Self {
        ControlClock {
            frozen: true,
            value: Mutex::new(at),
        }
    }

    /// Whether it stands still between moves.
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// Moves the clock forward by `secs` (finite, not negative, at most ten years); the
    /// new time.
    pub fn advance(&self, secs: f64) -> Result<f64, String> {
        if !secs.is_finite() || !(0.0..=MAX_ADVANCE_SECS).contains(&secs) {
            return Err(format!(
                "`advance` must be a number of seconds from 0 to {MAX_ADVANCE_SECS}, not {secs}"
            ));
        }
        let mut v = self
            .value
            .lock()
            .map_err(|_| "the clock is poisoned".to_owned())?;
        *v += secs;
        drop(v);
        Ok(self.now())
    }

    /// Sets the clock to `at` epoch seconds, which must not be earlier than now; the new
    /// time.
    pub fn set(&self, at: f64) -> Result<f64, String> {
        let now = self.now();
        if !at.is_finite() || at < now {
            return Err(format!(
                "the clock never goes backwards: it is {}, and {} is earlier",
                crate::values::format_iso8601(now as i64),
                crate::values::format_iso8601(at as i64)
            ));
        }
        self.advance(at - now)
    }
}

impl Clock for ControlClock {
    fn now(&self) -> f64 {
        let v = self.value.lock().map_or(0.0, |v| *v);
        if self.frozen {
            v
        } else {
            SystemClock.now() + v
        }
    }
}

/// The most regions one emulator keeps state for.
const MAX_REGIONS: usize = 64;

/// One region's SWF: its state and the signal that wakes its long polls.
struct Region {
    /// The region's name (`us-east-1`).
    name: String,
    state: Mutex<State>,
    work: Notify,
    /// Set when a reset drops this region: its open polls end at once.
    dropped: std::sync::atomic::AtomicBool,
}

/// The emulator: one state per region, clock, long-poll limit.
pub struct Emulator {
    partition: String,
    account: String,
    default_region: String,
    regions: RwLock<HashMap<String, Arc<Region>>>,
    clock: Arc<dyn Clock>,
    poll_timeout: Duration,
    max_body: usize,
    closing: std::sync::atomic::AtomicBool,
    /// Where the state is kept between runs (`serve --db`); none: in memory.
    store: std::sync::OnceLock<Arc<dyn Store>>,
    /// Set when a write to the store failed: from then on every call is refused (the
    /// state in memory may be ahead of the file).
    store_failed: std::sync::OnceLock<String>,
}

/// What [`Emulator::attach_store`] found in the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restored {
    /// Regions with state.
    pub regions: usize,
    /// Domains.
    pub domains: usize,
    /// Executions (open and closed).
    pub executions: usize,
    /// History events.
    pub events: usize,
    /// Whether deadlines that passed while the server was down fired at start-up.
    pub fired: bool,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("poll_timeout", &self.poll_timeout)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// An empty emulator for domain ARNs `arn:PARTITION:swf:REGION:ACCOUNT:/domain/...`,
    /// with long polls of at most `poll_timeout` (SWF's is 60 s). Each region has its
    /// own state, as in SWF: a call is served by the region of its signature's scope
    /// (which the gate checked), an ungated call by `region`.
    pub fn new(
        partition: &str,
        region: &str,
        account: &str,
        clock: Arc<dyn Clock>,
        poll_timeout: Duration,
    ) -> Arc<Self> {
        Arc::new(Emulator {
            partition: partition.to_owned(),
            account: account.to_owned(),
            default_region: region.to_owned(),
            regions: RwLock::new(HashMap::new()),
            clock,
            poll_timeout,
            max_body: 1 << 20,
            closing: std::sync::atomic::AtomicBool::new(false),
            store: std::sync::OnceLock::new(),
            store_failed: std::sync::OnceLock::new(),
        })
    }

    /// Keeps the state in `store` from now on: loads what it holds (replacing any state
    /// in memory), fires the deadlines that passed meanwhile (each event at its own
    /// deadline), and writes every later change before its answer is sent. Fails when
    /// the store cannot be read or holds an inconsistent state, or a store is attached.
    pub fn attach_store(&self, store: Arc<dyn Store>) -> Result<Restored, String> {
        let rows = store.load().map_err(|e| e.to_string())?;
        let now = self.clock.now();
        let mut restored = Restored::default();
        let mut regions = HashMap::new();
        for r in &rows {
            if regions.len() >= MAX_REGIONS {
                return Err(format!(
                    "{}: holds more than {MAX_REGIONS} regions",
                    store.describe()
                ));
            }
            let mut st = State::restore(&self.partition, &self.account, r)
                .map_err(|e| format!("{}: {e}", store.describe()))?;
            let (execs, events) = st.size();
            restored.regions += 1;
            restored.domains += r.domains.len();
            restored.executions += execs;
            restored.events += events;
            restored.fired |= st.process_timeouts(now);
            let changes = st.take_changes(&r.region)?;
            store.commit(&changes).map_err(|e| e.to_string())?;
            regions.insert(
                r.region.clone(),
                Arc::new(Region {
                    name: r.region.clone(),
                    state: Mutex::new(st),
                    work: Notify::new(),
                    dropped: std::sync::atomic::AtomicBool::new(false),
                }),
            );
        }
        self.store
            .set(store)
            .map_err(|_| "a store is already attached".to_owned())?;
        match self.regions.write() {
            Ok(mut map) => *map = regions,
            Err(_) => return Err("emulator state poisoned".into()),
        }
        Ok(restored)
    }

    /// The regions that have state, sorted.
    pub fn regions(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .regions
            .read()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Answers one read-only SWF call (`Describe*`, `List*`, `Count*`,
    /// `GetWorkflowExecutionHistory`) in `region`, exactly as the API answers it (the UI
    /// reads the state through this: it is never a second source of truth). Any other
    /// operation is refused. A region without state answers as an empty one.
    pub fn read(
        &self,
        region: &str,
        operation: &str,
        body: &Map<String, Value>,
    ) -> Result<Value, WireError> {
        const READS: [&str; 14] = [
            "DescribeDomain",
            "ListDomains",
            "DescribeActivityType",
            "ListActivityTypes",
            "DescribeWorkflowType",
            "ListWorkflowTypes",
            "DescribeWorkflowExecution",
            "GetWorkflowExecutionHistory",
            "ListOpenWorkflowExecutions",
            "ListClosedWorkflowExecutions",
            "CountOpenWorkflowExecutions",
            "CountClosedWorkflowExecutions",
            "CountPendingActivityTasks",
            "CountPendingDecisionTasks",
        ];
        if !READS.contains(&operation) {
            return Err(WireError::UnknownOperation(format!(
                "`{operation}` is not a read-only operation"
            )));
        }
        crate::swf::model::validate_input(operation, body)?;
        self.check_store()?;
        let Some(region) = self.existing(region) else {
            let empty = State::new(&self.partition, region, &self.account);
            return read_state(&empty, operation, body);
        };
        let st = Self::lock(&region)?;
        let mut v = read_state(&st, operation, body)?;
        drop(st);
        crate::swf::model::conform_output(operation, &mut v);
        Ok(v)
    }

    /// The store the state is kept in, if any.
    pub fn store(&self) -> Option<&Arc<dyn Store>> {
        self.store.get()
    }

    /// Refuses every call once a write to the store has failed.
    fn check_store(&self) -> Result<(), WireError> {
        match self.store_failed.get() {
            Some(e) => Err(WireError::InternalFailure(format!(
                "the state database failed ({e}); restart the server"
            ))),
            None => Ok(()),
        }
    }

    /// Writes what changed in `region`'s state to the store (if there is one), before
    /// the answer is sent; a failure refuses this call and every later one.
    fn persist(&self, region: &Region, st: &mut State) -> Result<(), WireError> {
        let Some(store) = self.store.get() else {
            return Ok(());
        };
        self.check_store()?;
        // A region a reset dropped is gone from the file too: nothing of it is written.
        if region.dropped.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        let result = st
            .take_changes(&region.name)
            .and_then(|c| store.commit(&c).map_err(|e| e.to_string()));
        if let Err(e) = result {
            tracing::error!(target: "swf_iam::emulator", error = %e, "the state could not be written: every call is refused from now on");
            let _ = self.store_failed.set(e);
            return self.check_store();
        }
        Ok(())
    }

    /// The state of `region` if it has been used, without creating it.
    fn existing(&self, region: &str) -> Option<Arc<Region>> {
        self.regions.read().ok()?.get(region).cloned()
    }

    /// The state of `region`, created empty on its first call.
    fn region(&self, region: &str) -> Result<Arc<Region>, WireError> {
        let poisoned = || WireError::InternalFailure("emulator state poisoned".into());
        if let Some(r) = self.regions.read().map_err(|_| poisoned())?.get(region) {
            return Ok(r.clone());
        }
        let mut map = self.regions.write().map_err(|_| poisoned())?;
        // The gate lets only served regions through; this bound is defence in depth.
        if map.len() >= MAX_REGIONS && !map.contains_key(region) {
            return Err(WireError::InternalFailure(format!(
                "the emulator serves at most {MAX_REGIONS} regions"
            )));
        }
        Ok(map
            .entry(region.to_owned())
            .or_insert_with(|| {
                Arc::new(Region {
                    name: region.to_owned(),
                    state: Mutex::new(State::new(&self.partition, region, &self.account)),
                    work: Notify::new(),
                    dropped: std::sync::atomic::AtomicBool::new(false),
                })
            })
            .clone())
    }

    fn lock(region: &Region) -> Result<MutexGuard<'_, State>, WireError> {
        region
            .state
            .lock()
            .map_err(|_| WireError::InternalFailure("emulator state poisoned".into()))
    }

    /// The region that serves a call: the signature's (checked by the gate), else the
    /// default region.
    fn region_of<'a>(&'a self, auth: Option<&'a Authorized>) -> &'a str {
        auth.map_or(self.default_region.as_str(), |a| a.region.as_str())
    }

    /// Handles one call: `operation` with its JSON body; `auth` is the gate's verdict on
    /// the call (absent when the emulator runs ungated, in the default region).
    pub async fn call(
        &self,
        operation: &str,
        body: &Map<String, Value>,
        auth: Option<&Authorized>,
    ) -> Result<Value, WireError> {
        let mut v = self.answer(operation, body, auth).await?;
        // Exactly the members SWF's model defines; anything else is the emulator's slip.
        let dropped = crate::swf::model::conform_output(operation, &mut v);
        if !dropped.is_empty() {
            tracing::warn!(target: "swf_iam::emulator", operation, dropped = ?dropped, "response members outside SWF's model dropped");
        }
        Ok(v)
    }

    async fn answer(
        &self,
        operation: &str,
        body: &Map<String, Value>,
        auth: Option<&Authorized>,
    ) -> Result<Value, WireError> {
        // The model's constraints first, every violation counted, as SWF answers.
        crate::swf::model::validate_input(operation, body)?;
        self.check_store()?;
        let region = self.region(self.region_of(auth))?;
        match operation {
            "PollForDecisionTask" => return self.poll(&region, body, true).await,
            "PollForActivityTask" => return self.poll(&region, body, false).await,
            _ => {}
        }
        let now = self.clock.now();
        let mut st = Self::lock(&region)?;
        let timed_out = st.process_timeouts(now);
        let result = match operation {
            "RegisterDomain" => st.register_domain(body),
            "DescribeDomain" => st.describe_domain(body),
            "ListDomains" => st.list_domains(body),
            "DeprecateDomain" => st.deprecate_domain(body, now),
            "UndeprecateDomain" => st.undeprecate_domain(body),
            "DeprecateActivityType" => st.deprecate_activity_type(body, now),
            "DeprecateWorkflowType" => st.deprecate_workflow_type(body, now),
            "UndeprecateActivityType" => st.undeprecate_activity_type(body),
            "UndeprecateWorkflowType" => st.undeprecate_workflow_type(body),
            "DeleteActivityType" => st.delete_activity_type(body),
            "DeleteWorkflowType" => st.delete_workflow_type(body),
            "TagResource" => st.tag_resource(body),
            "UntagResource" => st.untag_resource(body),
            "ListTagsForResource" => st.list_tags_for_resource(body),
            "RegisterActivityType" => st.register_activity_type(body, now),
            "DescribeActivityType" => st.describe_activity_type(body),
            "ListActivityTypes" => st.list_activity_types(body),
            "RegisterWorkflowType" => st.register_workflow_type(body, now),
            "DescribeWorkflowType" => st.describe_workflow_type(body),
            "ListWorkflowTypes" => st.list_workflow_types(body),
            "StartWorkflowExecution" => st.start_workflow_execution(body, now),
            "DescribeWorkflowExecution" => st.describe_workflow_execution(body),
            "GetWorkflowExecutionHistory" => st.get_workflow_execution_history(body),
            "ListOpenWorkflowExecutions" => st.list_open_workflow_executions(body),
            "ListClosedWorkflowExecutions" => st.list_closed_workflow_executions(body),
            "CountOpenWorkflowExecutions" => st.count_open_workflow_executions(body),
            "CountClosedWorkflowExecutions" => st.count_closed_workflow_executions(body),
            "RecordActivityTaskHeartbeat" => st.record_activity_task_heartbeat(body, now),
            "RespondActivityTaskCompleted" => st.respond_activity_task_completed(body, now),
            "RespondActivityTaskFailed" => st.respond_activity_task_failed(body, now),
            "RespondActivityTaskCanceled" => st.respond_activity_task_canceled(body, now),
            "RequestCancelWorkflowExecution" => st.request_cancel_workflow_execution(body, now),
            "SignalWorkflowExecution" => st.signal_workflow_execution(body, now),
            "TerminateWorkflowExecution" => st.terminate_workflow_execution(body, now),
            "CountPendingActivityTasks" => st.count_pending_activity_tasks(body),
            "CountPendingDecisionTasks" => st.count_pending_decision_tasks(body),
            "RespondDecisionTaskCompleted" => {
                respond_decision_task_completed(&mut st, body, auth, now)
            }
            other => Err(WireError::UnknownOperation(format!(
                "Operation `{other}` is not implemented by the swf-iam emulator"
            ))),
        };
        self.persist(&region, &mut st)?;
        drop(st);
        let writes = !matches!(
            operation,
            "DescribeDomain"
                | "ListDomains"
                | "DescribeActivityType"
                | "ListActivityTypes"
                | "DescribeWorkflowType"
                | "ListWorkflowTypes"
                | "DescribeWorkflowExecution"
                | "GetWorkflowExecutionHistory"
                | "ListOpenWorkflowExecutions"
                | "ListClosedWorkflowExecutions"
                | "CountOpenWorkflowExecutions"
                | "CountClosedWorkflowExecutions"
                | "ListTagsForResource"
                | "CountPendingActivityTasks"
                | "CountPendingDecisionTasks"
                | "RecordActivityTaskHeartbeat"
        );
        if timed_out || (writes && result.is_ok()) {
            region.work.notify_waiters();
        }
        result
    }

    async fn poll(
        &self,
        region: &Region,
        body: &Map<String, Value>,
        decision: bool,
    ) -> Result<Value, WireError> {
        let deadline = tokio::time::Instant::now() + self.poll_timeout;
        loop {
            let notified = region.work.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let now = self.clock.now();
                let mut st = Self::lock(region)?;
                st.process_timeouts(now);
                let task = if decision {
                    st.take_decision_task(body, now)
                } else {
                    st.take_activity_task(body, now)
                };
                self.persist(region, &mut st)?;
                match task? {
                    Some(Task::Decision(v) | Task::Activity(v)) => return Ok(v),
                    None => {}
                }
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero()
                || self.closing.load(std::sync::atomic::Ordering::SeqCst)
                || region.dropped.load(std::sync::atomic::Ordering::SeqCst)
            {
                return Ok(if decision {
                    json!({"taskToken": "", "startedEventId": 0, "previousStartedEventId": 0, "events": []})
                } else {
                    json!({"taskToken": "", "startedEventId": 0})
                });
            }
            // Wake on new work, or re-check periodically for timeouts that create work.
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(left.min(Duration::from_millis(250))) => {}
            }
        }
    }

    /// Makes one start-up registration (`RegisterDomain`, `RegisterActivityType`,
    /// `RegisterWorkflowType`) in `region`, as the ungated call would.
    pub fn register(
        &self,
        region: &str,
        operation: &str,
        body: &Map<String, Value>,
    ) -> Result<(), WireError> {
        crate::swf::model::validate_input(operation, body)?;
        let region = self.region(region)?;
        let now = self.clock.now();
        let mut st = Self::lock(&region)?;
        let r = match operation {
            "RegisterDomain" => st.register_domain(body),
            "RegisterActivityType" => st.register_activity_type(body, now),
            "RegisterWorkflowType" => st.register_workflow_type(body, now),
            other => Err(WireError::UnknownOperation(format!(
                "`{other}` is not a registration"
            ))),
        };
        self.persist(&region, &mut st)?;
        r.map(|_| ())
    }

    /// Clears all state of every region (domains, types, executions, tasks, tokens), as
    /// moto's `POST /moto-api/reset` does. Open polls are answered at once with an empty
    /// task; tokens issued before are unknown afterwards.
    pub fn reset(&self) {
        let old = match self.regions.write() {
            Ok(mut map) => std::mem::take(&mut *map),
            Err(_) => return,
        };
        for r in old.values() {
            // Under the region's lock: a call that holds it finishes (and writes) first,
            // and none writes this region afterwards.
            let _guard = r.state.lock();
            r.dropped.store(true, std::sync::atomic::Ordering::SeqCst);
            r.work.notify_waiters();
        }
        // Then the file's state goes too.
        if let Some(store) = self.store.get() {
            if let Err(e) = store.clear() {
                tracing::error!(target: "swf_iam::emulator", error = %e, "the state could not be cleared: every call is refused from now on");
                let _ = self.store_failed.set(e.to_string());
            }
        }
    }

    /// Applies, in every region, what the clock has made due (timeouts and timers, each
    /// at its deadline), and wakes the long polls that may now have work: after the
    /// clock is moved.
    pub fn tick(&self) {
        let now = self.clock.now();
        let regions: Vec<Arc<Region>> = match self.regions.read() {
            Ok(map) => map.values().cloned().collect(),
            Err(_) => return,
        };
        for r in regions {
            if let Ok(mut st) = r.state.lock() {
                st.process_timeouts(now);
                if let Err(e) = self.persist(&r, &mut st) {
                    tracing::error!(target: "swf_iam::emulator", error = %e.message(), "the clock's timeouts could not be written");
                }
            }
            r.work.notify_waiters();
        }
    }

    /// The emulator's clock.
    pub fn now(&self) -> f64 {
        self.clock.now()
    }

    /// Ends every long poll now with an empty task, and every later one at once (used at
    /// shutdown, so that open polls are answered instead of dropped).
    pub fn close_polls(&self) {
        self.closing
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if let Ok(map) = self.regions.read() {
            for r in map.values() {
                r.work.notify_waiters();
            }
        }
    }

    /// The tower service of this emulator.
    pub fn service(self: &Arc<Self>) -> EmulatorService {
        EmulatorService(self.clone())
    }
}

/// A read-only operation on a state (no timeouts applied: reading changes nothing).
fn read_state(st: &State, operation: &str, body: &Map<String, Value>) -> Result<Value, WireError> {
    match operation {
        "DescribeDomain" => st.describe_domain(body),
        "ListDomains" => st.list_domains(body),
        "DescribeActivityType" => st.describe_activity_type(body),
        "ListActivityTypes" => st.list_activity_types(body),
        "DescribeWorkflowType" => st.describe_workflow_type(body),
        "ListWorkflowTypes" => st.list_workflow_types(body),
        "DescribeWorkflowExecution" => st.describe_workflow_execution(body),
        "GetWorkflowExecutionHistory" => st.get_workflow_execution_history(body),
        "ListOpenWorkflowExecutions" => st.list_open_workflow_executions(body),
        "ListClosedWorkflowExecutions" => st.list_closed_workflow_executions(body),
        "CountOpenWorkflowExecutions" => st.count_open_workflow_executions(body),
        "CountClosedWorkflowExecutions" => st.count_closed_workflow_executions(body),
        "CountPendingActivityTasks" => st.count_pending_activity_tasks(body),
        "CountPendingDecisionTasks" => st.count_pending_decision_tasks(body),
        other => Err(WireError::UnknownOperation(format!(
            "`{other}` is not a read-only operation"
        ))),
    }
}

fn respond_decision_task_completed(
    st: &mut State,
    body: &Map<String, Value>,
    auth: Option<&Authorized>,
    now: f64,
) -> Result<Value, WireError> {
    let token = body
        .get("taskToken")
        .and_then(Value::as_str)
        .ok_or_else(|| swfreq::missing("taskToken"))?;
    let exec = st.decision_task(token)?;
    let decisions: Vec<Value> = match body.get("decisions") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => {
            return Err(WireError::Serialization(
                "Member `decisions` must be a list".into(),
            ))
        }
    };
    State::validate_decisions(&decisions)?;
    let completed = st.complete_decision_task(exec, body, now)?;
    let mut any_failed = false;
    let empty = Map::new();
    // Without the gate (the emulator alone) every decision applies; validation already
    // refused decision types SWF does not know.
    let ids = st.execution_ids(exec);
    let verdicts = auth.map(|a| {
        a.verdicts_in(
            &decisions,
            ids.as_ref().map(|(w, r)| (w.as_str(), r.as_str())),
        )
    });
    for (i, d) in decisions.iter().enumerate() {
        let ty = d.get("decisionType").and_then(Value::as_str).unwrap_or("");
        let attrs = d
            .get(state::attrs_key(ty))
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let allowed = verdicts
            .as_ref()
            .is_none_or(|v| v.get(i).is_some_and(crate::gate::Verdict::applies));
        if allowed {
            any_failed |= st.apply_decision(exec, ty, attrs, completed, now);
        } else {
            st.deny_decision(exec, ty, attrs, completed, now);
            any_failed = true;
        }
    }
    st.finish_decisions(exec, any_failed, now);
    Ok(json!({}))
}

impl TaskTokenResolver for Emulator {
    fn resolve(&self, region: &str, token: &str) -> Result<String, WireError> {
        let invalid = || WireError::Validation("Invalid token".into());
        let region = self.existing(region).ok_or_else(invalid)?;
        let st = Self::lock(&region)?;
        st.token_domain(token).ok_or_else(invalid)
    }

    fn execution(&self, region: &str, token: &str) -> Option<(String, String)> {
        let region = self.existing(region)?;
        let st = Self::lock(&region).ok()?;
        st.token_execution(token)
    }

    fn domain_tags(&self, region: &str, domain: &str) -> Option<Vec<(String, String)>> {
        // The emulator holds every domain: one it does not have has no tags.
        Some(
            self.existing(region)
                .and_then(|r| Self::lock(&r).map(|st| st.domain_tags(domain)).ok())
                .unwrap_or_default(),
        )
    }
}

/// The emulator as a tower service (any request body, read up to 1 MiB).
#[derive(Clone, Debug)]
pub struct EmulatorService(Arc<Emulator>);

/// A successful SWF response.
pub fn ok_response(v: &Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(
        serde_json::to_vec(v).unwrap_or_default(),
    )));
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    if let Ok(v) = http::HeaderValue::from_str(&crate::net::request_id()) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

impl<B> tower::Service<Request<B>> for EmulatorService
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let emu = self.0.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let result = async {
                let op = swfreq::operation(
                    parts
                        .headers
                        .get("x-amz-target")
                        .and_then(|v| v.to_str().ok()),
                )?;
                let parsed = match parts.extensions.get::<ParsedBody>() {
                    Some(ParsedBody(b)) => b.clone(),
                    None => {
                        let bytes = Limited::new(body, emu.max_body)
                            .collect()
                            .await
                            .map_err(|e| {
                                WireError::Validation(format!(
                                    "Could not read the request body: {e}"
                                ))
                            })?
                            .to_bytes();
                        Arc::new(swfreq::body(&bytes)?)
                    }
                };
                emu.call(op.name, &parsed, parts.extensions.get::<Authorized>())
                    .await
            }
            .await;
            Ok(match result {
                Ok(v) => ok_response(&v),
                Err(e) => crate::gate::error_response(&e, None),
            })
        })
    }
}

#[cfg(test)]
mod clock_tests {
    use super::*;

    #[test]
    fn a_frozen_clock_moves_only_forward_and_only_when_moved() {
        let c = ControlClock::frozen(1_000.0);
        assert_eq!(c.now(), 1_000.0);
        assert_eq!(c.advance(30.5).unwrap(), 1_030.5);
        assert_eq!(c.set(2_000.0).unwrap(), 2_000.0);
        assert!(c.set(1_999.0).unwrap_err().contains("never goes backwards"));
        for bad in [-1.0, f64::NAN, f64::INFINITY, MAX_ADVANCE_SECS + 1.0] {
            assert!(c.advance(bad).is_err(), "{bad}");
        }
        assert_eq!(c.now(), 2_000.0);
    }

    #[test]
    fn a_running_clock_keeps_its_lead_over_the_system_clock() {
        let c = ControlClock::running();
        let wall = SystemClock.now();
        assert!((c.now() - wall).abs() < 5.0);
        c.advance(3_600.0).unwrap();
        assert!((c.now() - SystemClock.now() - 3_600.0).abs() < 5.0);
        assert!(!c.is_frozen());
    }
}
