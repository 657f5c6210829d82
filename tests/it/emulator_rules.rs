//! The emulator's rules, called directly (swf.md §4–5 and the §7 checklist), with a
//! manual clock.

use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;
use swf_iam::emulator::{Clock, Emulator, ManualClock};
use swf_iam::swf::wire::{Fault, WireError};

fn o(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

struct E {
    emu: Arc<Emulator>,
    clock: Arc<ManualClock>,
}

impl E {
    fn new() -> Self {
        let clock = Arc::new(ManualClock::new(1_700_000_000.0));
        let emu = Emulator::new(
            "aws",
            "us-east-1",
            "123456789012",
            clock.clone() as Arc<dyn Clock>,
            Duration::from_millis(50),
        );
        E { emu, clock }
    }
    async fn call(&self, op: &str, body: Value) -> Result<Value, WireError> {
        self.emu.call(op, &o(body), None).await
    }
    async fn ok(&self, op: &str, body: Value) -> Value {
        self.call(op, body)
            .await
            .unwrap_or_else(|e| panic!("{op}: {e}"))
    }
    async fn setup(&self, heartbeat: &str, start_to_close: &str) {
        self.ok("RegisterDomain", json!({"name": "d", "workflowExecutionRetentionPeriodInDays": "1", "tags": [{"key": "team", "value": "orders"}]})).await;
        self.ok("RegisterActivityType", json!({"domain": "d", "name": "a", "version": "1", "defaultTaskList": {"name": "w"},
            "defaultTaskHeartbeatTimeout": heartbeat, "defaultTaskStartToCloseTimeout": start_to_close,
            "defaultTaskScheduleToStartTimeout": "NONE", "defaultTaskScheduleToCloseTimeout": "NONE"})).await;
        self.ok("RegisterWorkflowType", json!({"domain": "d", "name": "wf", "version": "1", "defaultTaskList": {"name": "dt"},
            "defaultExecutionStartToCloseTimeout": "3600", "defaultTaskStartToCloseTimeout": "30", "defaultChildPolicy": "TERMINATE"})).await;
    }
    async fn start(&self, wid: &str) -> String {
        self.ok("StartWorkflowExecution", json!({"domain": "d", "workflowId": wid, "workflowType": {"name": "wf", "version": "1"}, "tagList": ["x"]})).await["runId"]
            .as_str().unwrap().to_owned()
    }
    async fn decide(&self, decisions: Value) -> Value {
        let t = self
            .ok(
                "PollForDecisionTask",
                json!({"domain": "d", "taskList": {"name": "dt"}}),
            )
            .await;
        assert!(
            !t["taskToken"].as_str().unwrap().is_empty(),
            "a decision task is there"
        );
        self.ok(
            "RespondDecisionTaskCompleted",
            json!({"taskToken": t["taskToken"], "decisions": decisions}),
        )
        .await;
        t
    }
    /// The history of the newest run of `wid` (SWF needs the run ID: it is looked up).
    async fn history(&self, wid: &str) -> Vec<Value> {
        let mut run = None;
        for op in ["ListOpenWorkflowExecutions", "ListClosedWorkflowExecutions"] {
            let l = self
                .ok(
                    op,
                    json!({"domain": "d", "startTimeFilter": {"oldestDate": 0}, "executionFilter": {"workflowId": wid}}),
                )
                .await;
            if let Some(r) = l["executionInfos"][0]["execution"]["runId"].as_str() {
                run = Some(r.to_owned());
                break;
            }
        }
        let run = run.unwrap_or_else(|| panic!("no run of {wid}"));
        self.ok(
            "GetWorkflowExecutionHistory",
            json!({"domain": "d", "execution": {"workflowId": wid, "runId": run}}),
        )
        .await["events"]
            .as_array()
            .unwrap()
            .clone()
    }
}

fn types(h: &[Value]) -> Vec<&str> {
    h.iter().map(|e| e["eventType"].as_str().unwrap()).collect()
}

fn schedule(id: &str) -> Value {
    json!({"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": {"activityId": id, "activityType": {"name": "a", "version": "1"}}})
}

#[tokio::test]
async fn start_history_and_defaults() {
    let e = E::new();
    e.setup("NONE", "NONE").await;
    let run = e.start("w").await;
    assert!((1..=64).contains(&run.len()));
    let h = e.history("w").await;
    assert_eq!(
        types(&h),
        ["WorkflowExecutionStarted", "DecisionTaskScheduled"]
    );
    assert_eq!(h[0]["eventId"], 1);
    assert_eq!(
        h[0]["workflowExecutionStartedEventAttributes"]["taskList"]["name"],
        "dt"
    );
    // An open execution with the same workflowId.
    assert!(
        matches!(e.call("StartWorkflowExecution", json!({"domain": "d", "workflowId": "w", "workflowType": {"name": "wf", "version": "1"}})).await,
        Err(WireError::Fault(Fault::WorkflowExecutionAlreadyStartedFault, m)) if m == "Already Started")
    );
    // No default task list and none given: DefaultUndefinedFault.
    e.ok("RegisterWorkflowType", json!({"domain": "d", "name": "bare", "version": "1", "defaultExecutionStartToCloseTimeout": "60",
        "defaultTaskStartToCloseTimeout": "10", "defaultChildPolicy": "TERMINATE"})).await;
    match e.call("StartWorkflowExecution", json!({"domain": "d", "workflowId": "b", "workflowType": {"name": "bare", "version": "1"}})).await {
        Err(WireError::Fault(Fault::DefaultUndefinedFault, m)) => assert_eq!(m, "taskList"),
        other => panic!("{other:?}"),
    }
    // History pages and reverse order.
    let p = e.ok("GetWorkflowExecutionHistory", json!({"domain": "d", "execution": {"workflowId": "w", "runId": run}, "maximumPageSize": 1})).await;
    assert_eq!(p["events"].as_array().unwrap().len(), 1);
    let next = e.ok("GetWorkflowExecutionHistory", json!({"domain": "d", "execution": {"workflowId": "w", "runId": run}, "maximumPageSize": 1, "nextPageToken": p["nextPageToken"]})).await;
    assert_eq!(next["events"][0]["eventId"], 2);
    let rev = e
        .ok(
            "GetWorkflowExecutionHistory",
            json!({"domain": "d", "execution": {"workflowId": "w", "runId": run}, "reverseOrder": true}),
        )
        .await;
    assert_eq!(rev["events"][0]["eventId"], 2);
    // Listing and describing.
    let l = e
        .ok(
            "ListOpenWorkflowExecutions",
            json!({"domain": "d", "startTimeFilter": {"oldestDate": 0}, "tagFilter": {"tag": "x"}}),
        )
        .await;
    assert_eq!(l["executionInfos"].as_array().unwrap().len(), 1);
    let dsc = e
        .ok(
            "DescribeWorkflowExecution",
            json!({"domain": "d", "execution": {"workflowId": "w", "runId": run}}),
        )
        .await;
    assert_eq!(dsc["executionInfo"]["executionStatus"], "OPEN");
    assert_eq!(dsc["openCounts"]["openDecisionTasks"], 1);
    assert_eq!(
        e.ok(
            "CountPendingDecisionTasks",
            json!({"domain": "d", "taskList": {"name": "dt"}})
        )
        .await["count"],
        1
    );
}

#[tokio::test]
async fn domains_validation_and_deprecation() {
    let e = E::new();
    for bad in ["a:b", "a/b", "a|b", "arn", " x", "a\u{1}"] {
        assert!(
            matches!(
                e.call(
                    "RegisterDomain",
                    json!({"name": bad, "workflowExecutionRetentionPeriodInDays": "1"})
                )
                .await,
                Err(WireError::Validation(_))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        e.call(
            "RegisterDomain",
            json!({"name": "d", "workflowExecutionRetentionPeriodInDays": "91"})
        )
        .await,
        Err(WireError::Validation(_))
    ));
    e.setup("NONE", "NONE").await;
    let d = e.ok("DescribeDomain", json!({"name": "d"})).await;
    assert_eq!(
        d["domainInfo"]["arn"],
        "arn:aws:swf:us-east-1:123456789012:/domain/d"
    );
    assert_eq!(
        d["configuration"]["workflowExecutionRetentionPeriodInDays"],
        "1"
    );
    assert!(matches!(
        e.call(
            "RegisterDomain",
            json!({"name": "d", "workflowExecutionRetentionPeriodInDays": "1"})
        )
        .await,
        Err(WireError::Fault(Fault::DomainAlreadyExistsFault, _))
    ));
    assert!(
        matches!(e.call("RegisterActivityType", json!({"domain": "d", "name": "a", "version": "1"})).await, Err(WireError::Fault(Fault::TypeAlreadyExistsFault, m)) if m == "ActivityType=[name=a, version=1]")
    );
    e.ok("DeprecateDomain", json!({"name": "d"})).await;
    assert!(matches!(
        e.call("DeprecateDomain", json!({"name": "d"})).await,
        Err(WireError::Fault(Fault::DomainDeprecatedFault, _))
    ));
    assert!(matches!(e.call("StartWorkflowExecution", json!({"domain": "d", "workflowId": "w", "workflowType": {"name": "wf", "version": "1"}})).await,
        Err(WireError::Fault(Fault::TypeDeprecatedFault, _))));
    assert_eq!(
        e.ok("ListDomains", json!({"registrationStatus": "DEPRECATED"}))
            .await["domainInfos"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(e
        .ok("ListDomains", json!({"registrationStatus": "REGISTERED"}))
        .await["domainInfos"]
        .as_array()
        .unwrap()
        .is_empty());
    use swf_iam::gate::TaskTokenResolver;
    assert_eq!(
        e.emu.domain_tags("us-east-1", "d"),
        Some(vec![("team".to_owned(), "orders".to_owned())])
    );
    assert!(
        matches!(e.emu.resolve("us-east-1", "AAAAforged"), Err(WireError::Validation(m)) if m == "Invalid token")
    );
}

#[tokio::test]
async fn start_to_close_ends_the_task_however_many_heartbeats() {
    let e = E::new();
    e.setup("10", "25").await;
    e.start("w").await;
    e.decide(json!([schedule("a1")])).await;
    assert_eq!(
        e.ok(
            "CountPendingActivityTasks",
            json!({"domain": "d", "taskList": {"name": "w"}})
        )
        .await["count"],
        1
    );
    let t = e
        .ok(
            "PollForActivityTask",
            json!({"domain": "d", "taskList": {"name": "w"}}),
        )
        .await;
    assert_eq!(
        e.ok(
            "CountPendingActivityTasks",
            json!({"domain": "d", "taskList": {"name": "w"}})
        )
        .await["count"],
        0
    );
    let token = t["taskToken"].clone();
    for i in 0..5 {
        e.clock.advance(6.0);
        let r = e
            .call(
                "RecordActivityTaskHeartbeat",
                json!({"taskToken": token, "details": format!("{i}")}),
            )
            .await;
        if i < 4 {
            assert_eq!(r.unwrap(), json!({"cancelRequested": false}));
        } else {
            assert!(
                matches!(r, Err(WireError::Fault(Fault::UnknownResourceFault, _))),
                "30 s after start: closed"
            );
        }
    }
    let h = e.history("w").await;
    let to = h
        .iter()
        .find(|x| x["eventType"] == "ActivityTaskTimedOut")
        .unwrap();
    assert_eq!(
        to["activityTaskTimedOutEventAttributes"]["timeoutType"],
        "START_TO_CLOSE"
    );
    assert_eq!(to["activityTaskTimedOutEventAttributes"]["details"], "3");
    assert_eq!(
        to["eventTimestamp"],
        json!(1_700_000_025.0),
        "the event time is the deadline"
    );
    // Oversized details change nothing.
    assert!(matches!(
        e.call(
            "RecordActivityTaskHeartbeat",
            json!({"taskToken": token, "details": "x".repeat(2049)})
        )
        .await,
        Err(WireError::Validation(_))
    ));
}

#[tokio::test]
async fn timers_signals_markers_and_terminate() {
    let e = E::new();
    e.setup("NONE", "NONE").await;
    let run = e.start("w").await;
    e.decide(json!([
        {"decisionType": "StartTimer", "startTimerDecisionAttributes": {"timerId": "t1", "startToFireTimeout": "5"}},
        {"decisionType": "RecordMarker", "recordMarkerDecisionAttributes": {"markerName": "m"}},
        {"decisionType": "CancelTimer", "cancelTimerDecisionAttributes": {"timerId": "nope"}}
    ])).await;
    e.clock.advance(6.0);
    let h = e.history("w").await;
    let t = types(&h);
    assert!(
        t.contains(&"TimerStarted")
            && t.contains(&"MarkerRecorded")
            && t.contains(&"CancelTimerFailed")
            && t.contains(&"TimerFired"),
        "{t:?}"
    );
    let failed = h
        .iter()
        .find(|x| x["eventType"] == "CancelTimerFailed")
        .unwrap();
    assert_eq!(
        failed["cancelTimerFailedEventAttributes"]["cause"],
        "TIMER_ID_UNKNOWN"
    );
    e.ok(
        "SignalWorkflowExecution",
        json!({"domain": "d", "workflowId": "w", "signalName": "go", "input": "1"}),
    )
    .await;
    // A decision task started while a signal arrives: completing the workflow is an unhandled decision.
    let task = e
        .ok(
            "PollForDecisionTask",
            json!({"domain": "d", "taskList": {"name": "dt"}}),
        )
        .await;
    e.ok(
        "SignalWorkflowExecution",
        json!({"domain": "d", "workflowId": "w", "signalName": "late"}),
    )
    .await;
    e.ok("RespondDecisionTaskCompleted", json!({"taskToken": task["taskToken"], "decisions": [{"decisionType": "CompleteWorkflowExecution", "completeWorkflowExecutionDecisionAttributes": {"result": "r"}}]})).await;
    let h = e.history("w").await;
    assert!(types(&h).contains(&"CompleteWorkflowExecutionFailed"));
    assert_eq!(types(&h).last(), Some(&"DecisionTaskScheduled"));
    // A token used twice is no longer valid.
    assert!(matches!(
        e.call(
            "RespondDecisionTaskCompleted",
            json!({"taskToken": task["taskToken"]})
        )
        .await,
        Err(WireError::Fault(Fault::UnknownResourceFault, _))
    ));
    // Close decisions must be last; unsupported decisions are refused before anything applies.
    let task = e
        .ok(
            "PollForDecisionTask",
            json!({"domain": "d", "taskList": {"name": "dt"}}),
        )
        .await;
    assert!(matches!(e.call("RespondDecisionTaskCompleted", json!({"taskToken": task["taskToken"], "decisions": [
        {"decisionType": "CompleteWorkflowExecution"}, {"decisionType": "RecordMarker", "recordMarkerDecisionAttributes": {"markerName": "m"}}]})).await, Err(WireError::Validation(_))));
    assert!(
        matches!(e.call("RespondDecisionTaskCompleted", json!({"taskToken": task["taskToken"], "decisions": [
        {"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": {"activityId": "x"}}]})).await, Err(WireError::Validation(m)) if m == "1 validation error detected: Value null at 'decisions.1.member.scheduleActivityTaskDecisionAttributes.activityType' failed to satisfy constraint: Member must not be null")
    );
    e.ok(
        "TerminateWorkflowExecution",
        json!({"domain": "d", "workflowId": "w", "reason": "done"}),
    )
    .await;
    let dsc = e
        .ok(
            "DescribeWorkflowExecution",
            json!({"domain": "d", "execution": {"workflowId": "w", "runId": run}}),
        )
        .await;
    assert_eq!(dsc["executionInfo"]["closeStatus"], "TERMINATED");
    assert!(
        matches!(e.call("RespondDecisionTaskCompleted", json!({"taskToken": task["taskToken"]})).await,
        Err(WireError::Fault(Fault::UnknownResourceFault, m)) if m.starts_with("Unknown execution: WorkflowExecution=[workflowId=w"))
    );
    // Terminating what is closed or unknown: SWF's two messages (moto's text).
    assert!(
        matches!(e.call("TerminateWorkflowExecution", json!({"domain": "d", "workflowId": "w"})).await,
        Err(WireError::Fault(Fault::UnknownResourceFault, m)) if m == "Unknown execution, workflowId = w")
    );
    assert!(
        matches!(e.call("TerminateWorkflowExecution", json!({"domain": "d", "workflowId": "nope", "runId": "r1"})).await,
        Err(WireError::Fault(Fault::UnknownResourceFault, m)) if m == "Unknown execution: WorkflowExecution=[workflowId=nope, runId=r1]")
    );
}

#[tokio::test]
async fn cancel_before_start_and_workflow_timeout() {
    let e = E::new();
    e.setup("NONE", "NONE").await;
    e.start("w").await;
    e.decide(json!([schedule("a1")])).await;
    // Nothing new happened: no decision task until an event arrives.
    let none = e
        .ok(
            "PollForDecisionTask",
            json!({"domain": "d", "taskList": {"name": "dt"}}),
        )
        .await;
    assert_eq!(none["taskToken"], "");
    e.ok(
        "SignalWorkflowExecution",
        json!({"domain": "d", "workflowId": "w", "signalName": "cancel-it"}),
    )
    .await;
    e.decide(json!([{"decisionType": "RequestCancelActivityTask", "requestCancelActivityTaskDecisionAttributes": {"activityId": "a1"}}])).await;
    let t = types(&e.history("w").await)
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let i = t
        .iter()
        .position(|x| x == "ActivityTaskCancelRequested")
        .unwrap();
    assert_eq!(
        &t[i + 1..i + 3],
        ["ActivityTaskCanceled", "DecisionTaskScheduled"]
    );
    e.decide(json!([{"decisionType": "RequestCancelActivityTask", "requestCancelActivityTaskDecisionAttributes": {"activityId": "a1"}}])).await;
    let h = e.history("w").await;
    let f = h
        .iter()
        .find(|x| x["eventType"] == "RequestCancelActivityTaskFailed")
        .unwrap();
    assert_eq!(
        f["requestCancelActivityTaskFailedEventAttributes"]["cause"],
        "ACTIVITY_ID_UNKNOWN"
    );
    e.clock.advance(3601.0);
    let h = e.history("w").await;
    assert_eq!(types(&h).last(), Some(&"WorkflowExecutionTimedOut"));
    assert!(h
        .windows(2)
        .all(|w| w[0]["eventTimestamp"].as_f64() <= w[1]["eventTimestamp"].as_f64()));
    // An empty poll after the limit.
    let p = e
        .ok(
            "PollForActivityTask",
            json!({"domain": "d", "taskList": {"name": "w"}}),
        )
        .await;
    assert_eq!(p, json!({"taskToken": "", "startedEventId": 0}));
}
