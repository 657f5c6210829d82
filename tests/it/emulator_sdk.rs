//! The whole heartbeat flow with aws-sdk-swf against the gated emulator over loopback:
//! register, start, decide, schedule, poll, heartbeat, cancel, time out — as permitted
//! and as denied principals, including decision-level denials recorded in the history.

use super::swfkit::*;
use aws_sdk_swf::operation::record_activity_task_heartbeat::RecordActivityTaskHeartbeatError;
use aws_sdk_swf::types::{
    ActivityTaskTimeoutType, Decision, DecisionType, EventType,
    RequestCancelActivityTaskDecisionAttributes, ScheduleActivityTaskFailedCause,
};
use std::time::Duration;

async fn setup_domain(op: &aws_sdk_swf::Client) {
    setup_orders(op, "10", "60").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_flow_with_enforcement() {
    let (addr, _clock, _stop) = start(Duration::from_secs(2)).await;
    let op = client(addr, OPERATOR);
    let worker = client(addr, WORKER);
    setup_domain(&op).await;

    // Decide: schedule `hb` (allowed) and `forbidden` (denied at decision level).
    let run = start_and_decide(
        &op,
        "w1",
        vec![schedule("a1", "hb"), schedule("a2", "forbidden")],
    )
    .await;
    let h = history(&op, "w1", &run).await;
    let completed = h
        .iter()
        .find(|e| e.event_type() == &EventType::DecisionTaskCompleted)
        .unwrap()
        .event_id();
    let failed = h
        .iter()
        .find(|e| e.event_type() == &EventType::ScheduleActivityTaskFailed)
        .unwrap();
    let a = failed
        .schedule_activity_task_failed_event_attributes()
        .unwrap();
    assert_eq!(
        a.cause(),
        &ScheduleActivityTaskFailedCause::OperationNotPermitted
    );
    assert_eq!(a.decision_task_completed_event_id(), completed);
    assert_eq!(a.activity_id(), "a2");
    assert_eq!(
        h.iter()
            .filter(|e| e.event_type() == &EventType::ActivityTaskScheduled)
            .count(),
        1,
        "no ActivityTaskScheduled for the denied decision"
    );
    assert_eq!(
        h.last().unwrap().event_type(),
        &EventType::DecisionTaskScheduled,
        "a failed decision schedules a decision task"
    );

    // The worker polls and heartbeats with details.
    let task = worker
        .poll_for_activity_task()
        .domain("orders")
        .task_list(tl("workers"))
        .send()
        .await
        .unwrap();
    assert_eq!(task.activity_id(), "a1");
    let token = task.task_token().to_owned();
    let beat = worker
        .record_activity_task_heartbeat()
        .task_token(&token)
        .details("10%")
        .send()
        .await
        .unwrap();
    assert!(!beat.cancel_requested());

    // Another principal whose policy allows only another domain: typed OperationNotPermittedFault.
    let outsider = client(addr, OUTSIDER);
    match outsider.record_activity_task_heartbeat().task_token(&token).send().await.unwrap_err().into_service_error() {
        RecordActivityTaskHeartbeatError::OperationNotPermittedFault(f) => assert_eq!(
            f.message().unwrap(),
            "User: arn:aws:sts::123456789012:assumed-role/outsider/swf-iam is not authorized to perform: swf:RecordActivityTaskHeartbeat on resource: arn:aws:swf:us-east-1:123456789012:/domain/orders because no identity-based policy allows the swf:RecordActivityTaskHeartbeat action"
        ),
        other => panic!("{other:?}"),
    }
    // An explicit deny.
    let denied = client(addr, DENIED);
    match denied
        .record_activity_task_heartbeat()
        .task_token(&token)
        .send()
        .await
        .unwrap_err()
        .into_service_error()
    {
        RecordActivityTaskHeartbeatError::OperationNotPermittedFault(f) => {
            assert!(f
                .message()
                .unwrap()
                .ends_with("with an explicit deny in an identity-based policy"))
        }
        other => panic!("{other:?}"),
    }
    // A forged signature.
    let forged = client(addr, (WORKER.0, "forged"));
    let err = forged
        .record_activity_task_heartbeat()
        .task_token(&token)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_swf::error::ProvideErrorMetadata::code(&err),
        Some("InvalidSignatureException")
    );

    // The decider requests cancellation; the next heartbeat says so.
    let d = op
        .poll_for_decision_task()
        .domain("orders")
        .task_list(tl("deciders"))
        .send()
        .await
        .unwrap();
    let cancel = Decision::builder()
        .decision_type(DecisionType::RequestCancelActivityTask)
        .request_cancel_activity_task_decision_attributes(
            RequestCancelActivityTaskDecisionAttributes::builder()
                .activity_id("a1")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    op.respond_decision_task_completed()
        .task_token(d.task_token())
        .decisions(cancel)
        .send()
        .await
        .unwrap();
    let beat = worker
        .record_activity_task_heartbeat()
        .task_token(&token)
        .send()
        .await
        .unwrap();
    assert!(beat.cancel_requested());
    worker
        .respond_activity_task_canceled()
        .task_token(&token)
        .details("stopped")
        .send()
        .await
        .unwrap();
    let h = history(&op, "w1", &run).await;
    let requested = h
        .iter()
        .find(|e| e.event_type() == &EventType::ActivityTaskCancelRequested)
        .unwrap()
        .event_id();
    let canceled = h
        .iter()
        .find(|e| e.event_type() == &EventType::ActivityTaskCanceled)
        .unwrap();
    let ca = canceled.activity_task_canceled_event_attributes().unwrap();
    assert_eq!(ca.latest_cancel_requested_event_id(), requested);
    assert_eq!(ca.details(), Some("stopped"));
    // The task is closed: a late heartbeat is UnknownResourceFault.
    match worker
        .record_activity_task_heartbeat()
        .task_token(&token)
        .send()
        .await
        .unwrap_err()
        .into_service_error()
    {
        RecordActivityTaskHeartbeatError::UnknownResourceFault(_) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_timeout_keeps_the_last_allowed_details_and_ignores_denied_heartbeats() {
    let (addr, clock, _stop) = start(Duration::from_secs(2)).await;
    let op = client(addr, OPERATOR);
    let worker = client(addr, WORKER);
    let outsider = client(addr, OUTSIDER);
    setup_domain(&op).await;
    let run = start_and_decide(&op, "w2", vec![schedule("a1", "hb")]).await;
    let task = worker
        .poll_for_activity_task()
        .domain("orders")
        .task_list(tl("workers"))
        .send()
        .await
        .unwrap();
    let token = task.task_token().to_owned();
    worker
        .record_activity_task_heartbeat()
        .task_token(&token)
        .details("x")
        .send()
        .await
        .unwrap();
    // Denied heartbeats do not reset the 10 s heartbeat clock.
    clock.advance(6.0);
    assert!(outsider
        .record_activity_task_heartbeat()
        .task_token(&token)
        .details("denied")
        .send()
        .await
        .is_err());
    clock.advance(6.0);
    let h = history(&op, "w2", &run).await;
    let timed_out = h
        .iter()
        .find(|e| e.event_type() == &EventType::ActivityTaskTimedOut)
        .expect("timed out");
    let a = timed_out
        .activity_task_timed_out_event_attributes()
        .unwrap();
    assert_eq!(a.timeout_type(), &ActivityTaskTimeoutType::Heartbeat);
    assert_eq!(a.details(), Some("x"));
    let scheduled = h
        .iter()
        .find(|e| e.event_type() == &EventType::ActivityTaskScheduled)
        .unwrap()
        .event_id();
    let started = h
        .iter()
        .find(|e| e.event_type() == &EventType::ActivityTaskStarted)
        .unwrap()
        .event_id();
    assert_eq!(a.scheduled_event_id(), scheduled);
    assert_eq!(a.started_event_id(), started);
    assert_eq!(
        h.last().unwrap().event_type(),
        &EventType::DecisionTaskScheduled
    );
    // Event ids are consecutive from 1 and timestamps never decrease.
    for (i, e) in h.iter().enumerate() {
        assert_eq!(e.event_id(), i as i64 + 1);
    }
    assert!(h
        .windows(2)
        .all(|w| w[0].event_timestamp() <= w[1].event_timestamp()));
    match worker
        .record_activity_task_heartbeat()
        .task_token(&token)
        .send()
        .await
        .unwrap_err()
        .into_service_error()
    {
        RecordActivityTaskHeartbeatError::UnknownResourceFault(f) => {
            assert!(f.message().unwrap().starts_with("Unknown activity"))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_long_poll_returns_after_the_limit_and_faults_are_typed() {
    let (addr, _clock, _stop) = start(Duration::from_millis(300)).await;
    let op = client(addr, OPERATOR);
    let worker = client(addr, WORKER);
    setup_domain(&op).await;
    let t0 = std::time::Instant::now();
    let task = worker
        .poll_for_activity_task()
        .domain("orders")
        .task_list(tl("nobody"))
        .send()
        .await
        .unwrap();
    assert!(task.task_token().is_empty());
    assert!(t0.elapsed() >= Duration::from_millis(250));
    let err = op
        .register_domain()
        .name("orders")
        .workflow_execution_retention_period_in_days("1")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_domain_already_exists_fault());
    let err = op.describe_domain().name("nope").send().await.unwrap_err();
    assert!(err.into_service_error().is_unknown_resource_fault());
    let d = op.describe_domain().name("orders").send().await.unwrap();
    assert_eq!(
        d.domain_info().unwrap().arn(),
        Some("arn:aws:swf:us-east-1:123456789012:/domain/orders")
    );
    assert_eq!(
        d.configuration()
            .unwrap()
            .workflow_execution_retention_period_in_days(),
        "1"
    );
    let err = op
        .register_domain()
        .name("a/b")
        .workflow_execution_retention_period_in_days("1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_swf::error::ProvideErrorMetadata::code(&err),
        Some("ValidationException")
    );
}

fn code<E: aws_sdk_swf::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("").to_owned()
}

/// The lifecycle of types and domains with aws-sdk-swf: deprecate, undeprecate, delete,
/// and each of SWF's faults; a deprecated type can be neither started nor scheduled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn type_and_domain_lifecycle() {
    use aws_sdk_swf::types::{ActivityType, RegistrationStatus, WorkflowType};
    let (addr, _clock, _stop) = start(Duration::from_secs(1)).await;
    let op = client(addr, OPERATOR);
    setup_orders(&op, "300", "60").await;
    let hb = ActivityType::builder()
        .name("hb")
        .version("1")
        .build()
        .unwrap();
    let wf = WorkflowType::builder()
        .name("wf")
        .version("1")
        .build()
        .unwrap();
    let nope = ActivityType::builder()
        .name("nope")
        .version("1")
        .build()
        .unwrap();

    // Only a deprecated type can be deleted, or undeprecated.
    let e = op
        .delete_activity_type()
        .domain("orders")
        .activity_type(hb.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "TypeNotDeprecatedFault");
    let e = op
        .undeprecate_activity_type()
        .domain("orders")
        .activity_type(hb.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "TypeAlreadyExistsFault");
    let e = op
        .deprecate_activity_type()
        .domain("orders")
        .activity_type(nope)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "UnknownResourceFault");

    // Deprecate: listed as DEPRECATED with a date, refused twice, never scheduled.
    op.deprecate_activity_type()
        .domain("orders")
        .activity_type(hb.clone())
        .send()
        .await
        .unwrap();
    let e = op
        .deprecate_activity_type()
        .domain("orders")
        .activity_type(hb.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "TypeDeprecatedFault");
    let d = op
        .describe_activity_type()
        .domain("orders")
        .activity_type(hb.clone())
        .send()
        .await
        .unwrap();
    let info = d.type_info().unwrap();
    assert_eq!(info.status(), &RegistrationStatus::Deprecated);
    assert!(info.deprecation_date().is_some());
    let listed = op
        .list_activity_types()
        .domain("orders")
        .registration_status(RegistrationStatus::Deprecated)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.type_infos().len(), 1);
    start_and_decide(&op, "deprecated-activity", vec![schedule("a", "hb")]).await;
    let task = op
        .poll_for_decision_task()
        .domain("orders")
        .task_list(tl("deciders"))
        .send()
        .await
        .unwrap();
    let failed = task
        .events()
        .iter()
        .find(|e| e.event_type() == &aws_sdk_swf::types::EventType::ScheduleActivityTaskFailed);
    assert_eq!(
        failed
            .and_then(|e| e.schedule_activity_task_failed_event_attributes())
            .map(|a| a.cause().as_str().to_owned()),
        Some("ACTIVITY_TYPE_DEPRECATED".to_owned())
    );
    op.terminate_workflow_execution()
        .domain("orders")
        .workflow_id("deprecated-activity")
        .send()
        .await
        .unwrap();

    // Undeprecate brings it back; delete removes it for good.
    op.undeprecate_activity_type()
        .domain("orders")
        .activity_type(hb.clone())
        .send()
        .await
        .unwrap();
    let d = op
        .describe_activity_type()
        .domain("orders")
        .activity_type(hb.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.type_info().unwrap().status(),
        &RegistrationStatus::Registered
    );
    op.deprecate_activity_type()
        .domain("orders")
        .activity_type(hb.clone())
        .send()
        .await
        .unwrap();
    op.delete_activity_type()
        .domain("orders")
        .activity_type(hb.clone())
        .send()
        .await
        .unwrap();
    let e = op
        .describe_activity_type()
        .domain("orders")
        .activity_type(hb.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "UnknownResourceFault");

    // Workflow types: a deprecated one cannot be started.
    op.deprecate_workflow_type()
        .domain("orders")
        .workflow_type(wf.clone())
        .send()
        .await
        .unwrap();
    let e = op
        .start_workflow_execution()
        .domain("orders")
        .workflow_id("w")
        .workflow_type(wf.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "TypeDeprecatedFault");
    let e = op
        .deprecate_workflow_type()
        .domain("orders")
        .workflow_type(wf.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "TypeDeprecatedFault");
    op.undeprecate_workflow_type()
        .domain("orders")
        .workflow_type(wf.clone())
        .send()
        .await
        .unwrap();
    let e = op
        .undeprecate_workflow_type()
        .domain("orders")
        .workflow_type(wf.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "TypeAlreadyExistsFault");
    let e = op
        .delete_workflow_type()
        .domain("orders")
        .workflow_type(wf.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "TypeNotDeprecatedFault");
    op.deprecate_workflow_type()
        .domain("orders")
        .workflow_type(wf.clone())
        .send()
        .await
        .unwrap();
    op.delete_workflow_type()
        .domain("orders")
        .workflow_type(wf.clone())
        .send()
        .await
        .unwrap();
    let e = op
        .describe_workflow_type()
        .domain("orders")
        .workflow_type(wf)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "UnknownResourceFault");

    // Domains: undeprecate only a deprecated one.
    let e = op
        .undeprecate_domain()
        .name("orders")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "DomainAlreadyExistsFault");
    op.deprecate_domain().name("orders").send().await.unwrap();
    op.undeprecate_domain().name("orders").send().await.unwrap();
    let d = op.describe_domain().name("orders").send().await.unwrap();
    assert_eq!(
        d.domain_info().unwrap().status(),
        &RegistrationStatus::Registered
    );
    let e = op
        .undeprecate_domain()
        .name("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "UnknownResourceFault");
}

/// Count/List Open/Closed WorkflowExecutions with aws-sdk-swf: every filter,
/// `reverseOrder`, paging, and the validation errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visibility_of_open_and_closed_executions() {
    use aws_sdk_swf::types::{
        CloseStatus, CloseStatusFilter, ExecutionTimeFilter, TagFilter, WorkflowExecutionFilter,
        WorkflowType, WorkflowTypeFilter,
    };
    let (addr, clock, _stop) = start(Duration::from_secs(1)).await;
    let op = client(addr, OPERATOR);
    setup_orders(&op, "300", "60").await;
    let wf = WorkflowType::builder()
        .name("wf")
        .version("1")
        .build()
        .unwrap();
    for (i, wid) in ["a", "b", "c", "d"].iter().enumerate() {
        op.start_workflow_execution()
            .domain("orders")
            .workflow_id(*wid)
            .workflow_type(wf.clone())
            .tag_list(format!("t{}", i % 2))
            .send()
            .await
            .unwrap();
        clock.advance(10.0);
    }
    // a and c are terminated, d is canceled by its decider, b stays open.
    op.terminate_workflow_execution()
        .domain("orders")
        .workflow_id("a")
        .send()
        .await
        .unwrap();
    clock.advance(10.0);
    op.terminate_workflow_execution()
        .domain("orders")
        .workflow_id("c")
        .send()
        .await
        .unwrap();
    clock.advance(10.0);
    op.request_cancel_workflow_execution()
        .domain("orders")
        .workflow_id("d")
        .send()
        .await
        .unwrap();
    // Take decision tasks until d's, and cancel it.
    loop {
        let t = op
            .poll_for_decision_task()
            .domain("orders")
            .task_list(tl("deciders"))
            .send()
            .await
            .unwrap();
        assert!(!t.task_token().is_empty());
        let wid = t
            .workflow_execution()
            .map(|e| e.workflow_id().to_owned())
            .unwrap_or_default();
        let decisions = if wid == "d" {
            vec![aws_sdk_swf::types::Decision::builder()
                .decision_type(aws_sdk_swf::types::DecisionType::CancelWorkflowExecution)
                .build()
                .unwrap()]
        } else {
            vec![]
        };
        op.respond_decision_task_completed()
            .task_token(t.task_token())
            .set_decisions(Some(decisions))
            .send()
            .await
            .unwrap();
        if wid == "d" {
            break;
        }
    }
    let since = ExecutionTimeFilter::builder()
        .oldest_date(aws_sdk_swf::primitives::DateTime::from_secs(0))
        .build()
        .unwrap();
    let ids = |infos: &[aws_sdk_swf::types::WorkflowExecutionInfo]| -> Vec<String> {
        infos
            .iter()
            .map(|i| i.execution().unwrap().workflow_id().to_owned())
            .collect()
    };
    let open = op
        .list_open_workflow_executions()
        .domain("orders")
        .start_time_filter(since.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(ids(open.execution_infos()), ["b"]);
    let closed = op
        .list_closed_workflow_executions()
        .domain("orders")
        .start_time_filter(since.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        ids(closed.execution_infos()),
        ["d", "c", "a"],
        "descending start time"
    );
    let closed = op
        .list_closed_workflow_executions()
        .domain("orders")
        .close_time_filter(since.clone())
        .reverse_order(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ids(closed.execution_infos()),
        ["a", "c", "d"],
        "ascending close time"
    );
    let by_status = op
        .list_closed_workflow_executions()
        .domain("orders")
        .start_time_filter(since.clone())
        .close_status_filter(
            CloseStatusFilter::builder()
                .status(CloseStatus::Canceled)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ids(by_status.execution_infos()), ["d"]);
    let by_tag = op
        .list_closed_workflow_executions()
        .domain("orders")
        .start_time_filter(since.clone())
        .tag_filter(TagFilter::builder().tag("t0").build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(ids(by_tag.execution_infos()), ["c", "a"]);
    let by_id = op
        .list_closed_workflow_executions()
        .domain("orders")
        .start_time_filter(since.clone())
        .execution_filter(
            WorkflowExecutionFilter::builder()
                .workflow_id("c")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ids(by_id.execution_infos()), ["c"]);
    let by_type = op
        .count_closed_workflow_executions()
        .domain("orders")
        .start_time_filter(since.clone())
        .type_filter(
            WorkflowTypeFilter::builder()
                .name("wf")
                .version("1")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!((by_type.count(), by_type.truncated()), (3, false));
    let none = op
        .count_closed_workflow_executions()
        .domain("orders")
        .start_time_filter(since.clone())
        .type_filter(WorkflowTypeFilter::builder().name("other").build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(none.count(), 0);
    let n = op
        .count_open_workflow_executions()
        .domain("orders")
        .start_time_filter(since.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(n.count(), 1);
    // Paging.
    let page = op
        .list_closed_workflow_executions()
        .domain("orders")
        .start_time_filter(since.clone())
        .maximum_page_size(2)
        .send()
        .await
        .unwrap();
    assert_eq!(ids(page.execution_infos()), ["d", "c"]);
    let next = page.next_page_token().expect("a second page").to_owned();
    let page2 = op
        .list_closed_workflow_executions()
        .domain("orders")
        .start_time_filter(since.clone())
        .maximum_page_size(2)
        .next_page_token(next)
        .send()
        .await
        .unwrap();
    assert_eq!(ids(page2.execution_infos()), ["a"]);
    // A later time window leaves out the earlier starts.
    let late = ExecutionTimeFilter::builder()
        .oldest_date(aws_sdk_swf::primitives::DateTime::from_secs(1_795_600_815))
        .build()
        .unwrap();
    let closed = op
        .list_closed_workflow_executions()
        .domain("orders")
        .start_time_filter(late)
        .send()
        .await
        .unwrap();
    assert_eq!(ids(closed.execution_infos()), ["d", "c"]);
    // Validation: both time filters, none, two exclusive filters.
    let e = op
        .list_closed_workflow_executions()
        .domain("orders")
        .start_time_filter(since.clone())
        .close_time_filter(since.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    let e = op
        .count_closed_workflow_executions()
        .domain("orders")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    let e = op
        .list_closed_workflow_executions()
        .domain("orders")
        .start_time_filter(since)
        .tag_filter(TagFilter::builder().tag("t0").build().unwrap())
        .execution_filter(
            WorkflowExecutionFilter::builder()
                .workflow_id("c")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
}

/// Domain tags with aws-sdk-swf: RegisterDomain's `tags`, TagResource, UntagResource,
/// ListTagsForResource; authorization on `aws:RequestTag/*`, `aws:TagKeys` and
/// `aws:ResourceTag/*`; a `resourceArn` of another account or region is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_tags_and_tag_conditions() {
    use aws_sdk_swf::types::ResourceTag;
    let config = config_with_role(
        "tagger",
        ("AKIATAGGER", "tagger-secret"),
        r#"
     {"Effect": "Allow", "Action": "swf:*", "Resource": "*"},
     {"Sid": "NoProdTags", "Effect": "Deny", "Action": ["swf:TagResource", "swf:RegisterDomain"], "Resource": "*", "Condition": {"StringEquals": {"aws:RequestTag/env": "prod"}}},
     {"Sid": "KeepOwner", "Effect": "Deny", "Action": "swf:UntagResource", "Resource": "*", "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": "owner"}}},
     {"Sid": "NoSecrets", "Effect": "Deny", "Action": "swf:DescribeDomain", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/secret": "yes"}}}"#,
    );
    let dir = std::env::temp_dir().join(format!("swf-iam-tags-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = serve_bin(&dir, &config, &[], None);
    let t = client(server.addr(), ("AKIATAGGER", "tagger-secret"));
    let tag = |k: &str, v: &str| ResourceTag::builder().key(k).value(v).build().unwrap();
    let arn = "arn:aws:swf:us-east-1:123456789012:/domain/tagged";
    t.register_domain()
        .name("tagged")
        .workflow_execution_retention_period_in_days("1")
        .tags(tag("owner", "me"))
        .send()
        .await
        .unwrap();
    let e = t
        .register_domain()
        .name("prod")
        .workflow_execution_retention_period_in_days("1")
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "OperationNotPermittedFault");
    t.tag_resource()
        .resource_arn(arn)
        .tags(tag("team", "a"))
        .tags(tag("owner", "you"))
        .send()
        .await
        .unwrap();
    let listed = t
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    let mut pairs: Vec<(String, String)> = listed
        .tags()
        .iter()
        .map(|x| (x.key().to_owned(), x.value().unwrap_or("").to_owned()))
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [("owner".into(), "you".into()), ("team".into(), "a".into())]
    );
    let e = t
        .tag_resource()
        .resource_arn(arn)
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "OperationNotPermittedFault");
    let e = t
        .untag_resource()
        .resource_arn(arn)
        .tag_keys("owner")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "OperationNotPermittedFault");
    t.untag_resource()
        .resource_arn(arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    assert_eq!(
        t.list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .unwrap()
            .tags()
            .len(),
        1
    );
    // aws:ResourceTag comes from the domain's tags.
    t.describe_domain().name("tagged").send().await.unwrap();
    t.tag_resource()
        .resource_arn(arn)
        .tags(tag("secret", "yes"))
        .send()
        .await
        .unwrap();
    let e = t.describe_domain().name("tagged").send().await.unwrap_err();
    assert_eq!(code(&e), "OperationNotPermittedFault");
    // At most 50 tags.
    let mut many = t.tag_resource().resource_arn(arn);
    for i in 0..49 {
        many = many.tags(tag(&format!("k{i}"), "v"));
    }
    let e = many.send().await.unwrap_err();
    assert_eq!(code(&e), "TooManyTagsFault");
    // Another account's or region's ARN is not this endpoint's domain.
    for other in [
        "arn:aws:swf:us-east-1:999999999999:/domain/tagged",
        "arn:aws:swf:eu-west-1:123456789012:/domain/tagged",
    ] {
        let e = t
            .list_tags_for_resource()
            .resource_arn(other)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "UnknownResourceFault", "{other}");
    }
    let e = t
        .list_tags_for_resource()
        .resource_arn("arn:aws:swf:us-east-1:123456789012:/domain/missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "UnknownResourceFault");
}

/// SignalExternalWorkflowExecution and RequestCancelExternalWorkflowExecution: the
/// events on both sides, an unknown target, and a decision IAM denies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_signal_and_cancel_decisions() {
    use aws_sdk_swf::types::{
        Decision, DecisionType, EventType,
        RequestCancelExternalWorkflowExecutionDecisionAttributes as Rc,
        SignalExternalWorkflowExecutionDecisionAttributes as Sig, WorkflowExecution, WorkflowType,
    };
    let config = config_with_role(
        "nosignal",
        ("AKIANOSIGNAL", "nosignal-secret"),
        r#"
     {"Effect": "Allow", "Action": "swf:*", "Resource": "*"},
     {"Sid": "NoSignals", "Effect": "Deny", "Action": "swf:SignalExternalWorkflowExecution", "Resource": "*"}"#,
    );
    let dir = std::env::temp_dir().join(format!("swf-iam-external-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = serve_bin(&dir, &config, &["--poll-timeout", "2"], None);
    let op = client(server.addr(), OPERATOR);
    setup_orders(&op, "300", "60").await;
    let wf = WorkflowType::builder()
        .name("wf")
        .version("1")
        .build()
        .unwrap();
    let mut runs = std::collections::HashMap::new();
    for wid in ["source", "target"] {
        let r = op
            .start_workflow_execution()
            .domain("orders")
            .workflow_id(wid)
            .workflow_type(wf.clone())
            .send()
            .await
            .unwrap();
        runs.insert(wid, r.run_id().unwrap().to_owned());
    }
    // Take decision tasks; the source's decides to signal and cancel the target, and
    // to signal a workflow that does not exist. The target's decides nothing.
    let signal = |wid: &str| {
        Decision::builder()
            .decision_type(DecisionType::SignalExternalWorkflowExecution)
            .signal_external_workflow_execution_decision_attributes(
                Sig::builder()
                    .workflow_id(wid)
                    .signal_name("wake")
                    .input("hello")
                    .control("c1")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    };
    let cancel = Decision::builder()
        .decision_type(DecisionType::RequestCancelExternalWorkflowExecution)
        .request_cancel_external_workflow_execution_decision_attributes(
            Rc::builder().workflow_id("target").build().unwrap(),
        )
        .build()
        .unwrap();
    for _ in 0..2 {
        let t = op
            .poll_for_decision_task()
            .domain("orders")
            .task_list(tl("deciders"))
            .send()
            .await
            .unwrap();
        let wid = t.workflow_execution().unwrap().workflow_id().to_owned();
        let decisions = if wid == "source" {
            vec![signal("target"), cancel.clone(), signal("nobody")]
        } else {
            vec![]
        };
        op.respond_decision_task_completed()
            .task_token(t.task_token())
            .set_decisions(Some(decisions))
            .send()
            .await
            .unwrap();
    }
    let src = history(&op, "source", &runs["source"]).await;
    let types: Vec<&str> = src.iter().map(|e| e.event_type().as_str()).collect();
    for want in [
        "SignalExternalWorkflowExecutionInitiated",
        "ExternalWorkflowExecutionSignaled",
        "RequestCancelExternalWorkflowExecutionInitiated",
        "ExternalWorkflowExecutionCancelRequested",
        "SignalExternalWorkflowExecutionFailed",
    ] {
        assert!(types.contains(&want), "{want} in {types:?}");
    }
    assert_eq!(
        types.last(),
        Some(&"DecisionTaskScheduled"),
        "the decider sees the results"
    );
    let failed = src
        .iter()
        .find(|e| e.event_type() == &EventType::SignalExternalWorkflowExecutionFailed)
        .unwrap();
    let fa = failed
        .signal_external_workflow_execution_failed_event_attributes()
        .unwrap();
    assert_eq!(fa.cause().as_str(), "UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION");
    assert_eq!(fa.workflow_id(), "nobody");
    assert_eq!(fa.control(), Some("c1"));
    let tgt = history(&op, "target", &runs["target"]).await;
    let signaled = tgt
        .iter()
        .find(|e| e.event_type() == &EventType::WorkflowExecutionSignaled)
        .unwrap();
    let sa = signaled
        .workflow_execution_signaled_event_attributes()
        .unwrap();
    assert_eq!((sa.signal_name(), sa.input()), ("wake", Some("hello")));
    assert_eq!(
        sa.external_workflow_execution().unwrap().workflow_id(),
        "source"
    );
    assert!(tgt
        .iter()
        .any(|e| e.event_type() == &EventType::WorkflowExecutionCancelRequested));
    let d = op
        .describe_workflow_execution()
        .domain("orders")
        .execution(
            WorkflowExecution::builder()
                .workflow_id("target")
                .run_id(runs["target"].clone())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(d.execution_info().unwrap().cancel_requested());

    // A principal denied swf:SignalExternalWorkflowExecution: Failed with
    // OPERATION_NOT_PERMITTED, no Initiated event, initiatedEventId 0.
    let ns = client(server.addr(), ("AKIANOSIGNAL", "nosignal-secret"));
    let r = ns
        .start_workflow_execution()
        .domain("orders")
        .workflow_id("denied")
        .workflow_type(wf.clone())
        .send()
        .await
        .unwrap();
    let t = loop {
        let t = ns
            .poll_for_decision_task()
            .domain("orders")
            .task_list(tl("deciders"))
            .send()
            .await
            .unwrap();
        if t.workflow_execution().unwrap().workflow_id() == "denied" {
            break t;
        }
        ns.respond_decision_task_completed()
            .task_token(t.task_token())
            .send()
            .await
            .unwrap();
    };
    ns.respond_decision_task_completed()
        .task_token(t.task_token())
        .decisions(signal("target"))
        .send()
        .await
        .unwrap();
    let h = history(&op, "denied", r.run_id().unwrap()).await;
    assert!(!h
        .iter()
        .any(|e| e.event_type() == &EventType::SignalExternalWorkflowExecutionInitiated));
    let fa = h
        .iter()
        .find(|e| e.event_type() == &EventType::SignalExternalWorkflowExecutionFailed)
        .unwrap()
        .signal_external_workflow_execution_failed_event_attributes()
        .unwrap()
        .clone();
    assert_eq!(fa.cause().as_str(), "OPERATION_NOT_PERMITTED");
    assert_eq!(fa.initiated_event_id(), 0);
    assert_eq!(fa.workflow_id(), "target");
}

/// ContinueAsNewWorkflowExecution: the run closes as CONTINUED_AS_NEW and a new run of
/// the same workflowId starts, naming the old one; a deprecated target version fails
/// with SWF's cause; it must be the last decision.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continue_as_new_starts_a_new_run() {
    use aws_sdk_swf::types::{
        CloseStatus, ContinueAsNewWorkflowExecutionDecisionAttributes as Can, Decision,
        DecisionType, EventType, ExecutionStatus, WorkflowExecution, WorkflowType,
    };
    let (addr, _clock, _stop) = start(Duration::from_secs(1)).await;
    let op = client(addr, OPERATOR);
    setup_orders(&op, "300", "60").await;
    let wf = WorkflowType::builder()
        .name("wf")
        .version("1")
        .build()
        .unwrap();
    let first = op
        .start_workflow_execution()
        .domain("orders")
        .workflow_id("loop")
        .workflow_type(wf.clone())
        .send()
        .await
        .unwrap();
    let first_run = first.run_id().unwrap().to_owned();
    let can = |version: Option<&str>| {
        let mut b = Can::builder().input("round 2").tag_list("again");
        if let Some(v) = version {
            b = b.workflow_type_version(v);
        }
        Decision::builder()
            .decision_type(DecisionType::ContinueAsNewWorkflowExecution)
            .continue_as_new_workflow_execution_decision_attributes(b.build())
            .build()
            .unwrap()
    };
    let task = op
        .poll_for_decision_task()
        .domain("orders")
        .task_list(tl("deciders"))
        .send()
        .await
        .unwrap();
    // Not the last decision: refused as a whole.
    let marker = Decision::builder()
        .decision_type(DecisionType::RecordMarker)
        .record_marker_decision_attributes(
            aws_sdk_swf::types::RecordMarkerDecisionAttributes::builder()
                .marker_name("m")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let e = op
        .respond_decision_task_completed()
        .task_token(task.task_token())
        .decisions(can(None))
        .decisions(marker)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    op.respond_decision_task_completed()
        .task_token(task.task_token())
        .decisions(can(None))
        .send()
        .await
        .unwrap();
    let old = op
        .describe_workflow_execution()
        .domain("orders")
        .execution(
            WorkflowExecution::builder()
                .workflow_id("loop")
                .run_id(&first_run)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let info = old.execution_info().unwrap();
    assert_eq!(info.execution_status(), &ExecutionStatus::Closed);
    assert_eq!(info.close_status(), Some(&CloseStatus::ContinuedAsNew));
    let h = history(&op, "loop", &first_run).await;
    let last = h.last().unwrap();
    assert_eq!(
        last.event_type(),
        &EventType::WorkflowExecutionContinuedAsNew
    );
    let ca = last
        .workflow_execution_continued_as_new_event_attributes()
        .unwrap();
    let new_run = ca.new_execution_run_id().to_owned();
    assert_ne!(new_run, first_run);
    assert_eq!(ca.input(), Some("round 2"));
    assert_eq!(
        ca.task_list().unwrap().name(),
        "deciders",
        "the type's default"
    );
    // The new run: same workflowId, open, names the run it continues.
    let task = op
        .poll_for_decision_task()
        .domain("orders")
        .task_list(tl("deciders"))
        .send()
        .await
        .unwrap();
    let we = task.workflow_execution().unwrap();
    assert_eq!((we.workflow_id(), we.run_id()), ("loop", new_run.as_str()));
    let started = task
        .events()
        .first()
        .unwrap()
        .workflow_execution_started_event_attributes()
        .unwrap();
    assert_eq!(
        started.continued_execution_run_id(),
        Some(first_run.as_str())
    );
    assert_eq!(started.input(), Some("round 2"));
    assert_eq!(started.tag_list(), ["again"]);
    // Continuing into a deprecated version fails, and the run stays open.
    op.register_workflow_type()
        .domain("orders")
        .name("wf")
        .version("2")
        .default_task_list(tl("deciders"))
        .default_execution_start_to_close_timeout("60")
        .default_task_start_to_close_timeout("60")
        .default_child_policy(aws_sdk_swf::types::ChildPolicy::Terminate)
        .send()
        .await
        .unwrap();
    op.deprecate_workflow_type()
        .domain("orders")
        .workflow_type(
            WorkflowType::builder()
                .name("wf")
                .version("2")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    op.respond_decision_task_completed()
        .task_token(task.task_token())
        .decisions(can(Some("2")))
        .send()
        .await
        .unwrap();
    let h = history(&op, "loop", &new_run).await;
    let failed = h
        .iter()
        .find(|e| e.event_type() == &EventType::ContinueAsNewWorkflowExecutionFailed)
        .unwrap();
    assert_eq!(
        failed
            .continue_as_new_workflow_execution_failed_event_attributes()
            .unwrap()
            .cause()
            .as_str(),
        "WORKFLOW_TYPE_DEPRECATED"
    );
    let open = op
        .count_open_workflow_executions()
        .domain("orders")
        .start_time_filter(
            aws_sdk_swf::types::ExecutionTimeFilter::builder()
                .oldest_date(aws_sdk_swf::primitives::DateTime::from_secs(0))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(open.count(), 1);
}

/// Takes decision tasks from `deciders` until one of `wid` arrives, answering every other
/// one with no decision; returns its token.
async fn decision_task_of(c: &aws_sdk_swf::Client, wid: &str) -> String {
    for _ in 0..20 {
        let t = c
            .poll_for_decision_task()
            .domain("orders")
            .task_list(tl("deciders"))
            .send()
            .await
            .unwrap();
        let Some(e) = t.workflow_execution() else {
            continue; // an empty poll
        };
        if e.workflow_id() == wid {
            return t.task_token().to_owned();
        }
        c.respond_decision_task_completed()
            .task_token(t.task_token())
            .send()
            .await
            .unwrap();
    }
    panic!("no decision task of {wid}");
}

fn start_child_decision(wid: &str, type_name: &str) -> aws_sdk_swf::types::Decision {
    use aws_sdk_swf::types::{StartChildWorkflowExecutionDecisionAttributes as Sc, WorkflowType};
    Decision::builder()
        .decision_type(DecisionType::StartChildWorkflowExecution)
        .start_child_workflow_execution_decision_attributes(
            Sc::builder()
                .workflow_id(wid)
                .workflow_type(
                    WorkflowType::builder()
                        .name(type_name)
                        .version("1")
                        .build()
                        .unwrap(),
                )
                .input("child input")
                .control("ctl")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

fn execution(wid: &str, run: &str) -> aws_sdk_swf::types::WorkflowExecution {
    aws_sdk_swf::types::WorkflowExecution::builder()
        .workflow_id(wid)
        .run_id(run)
        .build()
        .unwrap()
}

/// Starts `parent` and has its decider start `child`; returns both run IDs.
async fn parent_with_child(c: &aws_sdk_swf::Client, parent: &str, child: &str) -> (String, String) {
    use aws_sdk_swf::types::WorkflowType;
    let wf = WorkflowType::builder()
        .name("wf")
        .version("1")
        .build()
        .unwrap();
    let run = c
        .start_workflow_execution()
        .domain("orders")
        .workflow_id(parent)
        .workflow_type(wf)
        .send()
        .await
        .unwrap()
        .run_id()
        .unwrap()
        .to_owned();
    let token = decision_task_of(c, parent).await;
    c.respond_decision_task_completed()
        .task_token(token)
        .decisions(start_child_decision(child, "wf"))
        .send()
        .await
        .unwrap();
    let h = history(c, parent, &run).await;
    let started = h
        .iter()
        .find_map(|e| e.child_workflow_execution_started_event_attributes())
        .unwrap_or_else(|| panic!("{child} started: {h:?}"));
    (
        run,
        started.workflow_execution().unwrap().run_id().to_owned(),
    )
}

/// StartChildWorkflowExecution: the child names its parent, the parent records the
/// child's start and close; SWF's failure causes; the parent's child policy on
/// termination (TERMINATE, REQUEST_CANCEL, ABANDON); a denied decision; and
/// ScheduleLambdaFunction's failure without a Lambda role.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_workflows_and_child_policies() {
    use aws_sdk_swf::types::{
        ChildPolicy, CloseStatus, CompleteWorkflowExecutionDecisionAttributes as Complete,
        ExecutionStatus, ScheduleLambdaFunctionDecisionAttributes as Lambda, WorkflowType,
    };
    let config = config_with_role(
        "nochild",
        ("AKIANOCHILD", "nochild-secret"),
        r#"
     {"Effect": "Allow", "Action": "swf:*", "Resource": "*"},
     {"Sid": "NoChildren", "Effect": "Deny", "Action": "swf:StartChildWorkflowExecution", "Resource": "*"}"#,
    );
    let dir = std::env::temp_dir().join(format!("swf-iam-children-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = serve_bin(&dir, &config, &["--poll-timeout", "2"], None);
    let op = client(server.addr(), OPERATOR);
    setup_orders(&op, "300", "60").await;
    let wf = WorkflowType::builder()
        .name("wf")
        .version("1")
        .build()
        .unwrap();

    // The parent starts a child, the same child again, and a child of an unknown type.
    let prun = op
        .start_workflow_execution()
        .domain("orders")
        .workflow_id("parent")
        .workflow_type(wf.clone())
        .send()
        .await
        .unwrap()
        .run_id()
        .unwrap()
        .to_owned();
    let token = decision_task_of(&op, "parent").await;
    op.respond_decision_task_completed()
        .task_token(token)
        .set_decisions(Some(vec![
            start_child_decision("child", "wf"),
            start_child_decision("child", "wf"),
            start_child_decision("orphan", "nope"),
        ]))
        .send()
        .await
        .unwrap();
    let h = history(&op, "parent", &prun).await;
    let types: Vec<&str> = h.iter().map(|e| e.event_type().as_str()).collect();
    let init: Vec<i64> = h
        .iter()
        .filter(|e| e.event_type() == &EventType::StartChildWorkflowExecutionInitiated)
        .map(|e| e.event_id())
        .collect();
    assert_eq!(init.len(), 2, "{types:?}");
    let ia = h
        .iter()
        .find_map(|e| e.start_child_workflow_execution_initiated_event_attributes())
        .unwrap();
    assert_eq!(
        ia.child_policy(),
        &ChildPolicy::Terminate,
        "the type's default"
    );
    assert_eq!(ia.task_list().unwrap().name(), "deciders");
    assert_eq!(
        (ia.input(), ia.control()),
        (Some("child input"), Some("ctl"))
    );
    let started = h
        .iter()
        .find_map(|e| e.child_workflow_execution_started_event_attributes())
        .unwrap();
    assert_eq!(started.initiated_event_id(), init[0]);
    let crun = started.workflow_execution().unwrap().run_id().to_owned();
    let fails: Vec<(String, i64, String)> = h
        .iter()
        .filter_map(|e| e.start_child_workflow_execution_failed_event_attributes())
        .map(|f| {
            (
                f.cause().as_str().to_owned(),
                f.initiated_event_id(),
                f.workflow_id().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        fails,
        vec![
            (
                "WORKFLOW_ALREADY_RUNNING".to_owned(),
                init[1],
                "child".to_owned()
            ),
            (
                "WORKFLOW_TYPE_DOES_NOT_EXIST".to_owned(),
                0,
                "orphan".to_owned()
            ),
        ]
    );
    assert_eq!(types.last(), Some(&"DecisionTaskScheduled"));
    // The child names its parent, in its history and in DescribeWorkflowExecution.
    let ch = history(&op, "child", &crun).await;
    let sa = ch[0].workflow_execution_started_event_attributes().unwrap();
    assert_eq!(sa.parent_workflow_execution().unwrap().run_id(), prun);
    assert_eq!(sa.parent_initiated_event_id(), init[0]);
    assert_eq!(sa.input(), Some("child input"));
    let d = op
        .describe_workflow_execution()
        .domain("orders")
        .execution(execution("child", &crun))
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.execution_info().unwrap().parent().unwrap().workflow_id(),
        "parent"
    );
    let d = op
        .describe_workflow_execution()
        .domain("orders")
        .execution(execution("parent", &prun))
        .send()
        .await
        .unwrap();
    assert_eq!(d.open_counts().unwrap().open_child_workflow_executions(), 1);

    // The child completes: the parent records it with the result and is to decide.
    let token = decision_task_of(&op, "child").await;
    op.respond_decision_task_completed()
        .task_token(token)
        .decisions(
            Decision::builder()
                .decision_type(DecisionType::CompleteWorkflowExecution)
                .complete_workflow_execution_decision_attributes(
                    Complete::builder().result("child result").build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let h = history(&op, "parent", &prun).await;
    let done = h
        .iter()
        .find_map(|e| e.child_workflow_execution_completed_event_attributes())
        .unwrap();
    assert_eq!(done.result(), Some("child result"));
    assert_eq!(done.initiated_event_id(), init[0]);
    assert_eq!(
        done.started_event_id(),
        h.iter()
            .find(|e| e.event_type() == &EventType::ChildWorkflowExecutionStarted)
            .unwrap()
            .event_id()
    );
    assert_eq!(
        h.last().unwrap().event_type(),
        &EventType::DecisionTaskScheduled
    );

    // ScheduleLambdaFunction in an execution without a Lambda role.
    let token = decision_task_of(&op, "parent").await;
    op.respond_decision_task_completed()
        .task_token(token)
        .decisions(
            Decision::builder()
                .decision_type(DecisionType::ScheduleLambdaFunction)
                .schedule_lambda_function_decision_attributes(
                    Lambda::builder().id("l1").name("fn").build().unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let h = history(&op, "parent", &prun).await;
    let sched = h
        .iter()
        .find(|e| e.event_type() == &EventType::LambdaFunctionScheduled)
        .unwrap();
    let fa = h
        .iter()
        .find_map(|e| e.start_lambda_function_failed_event_attributes())
        .unwrap();
    assert_eq!(fa.cause().map(|c| c.as_str()), Some("ASSUME_ROLE_FAILED"));
    assert_eq!(fa.scheduled_event_id(), sched.event_id());

    // Child policies when the parent is terminated.
    for (n, policy) in [
        ChildPolicy::Terminate,
        ChildPolicy::RequestCancel,
        ChildPolicy::Abandon,
    ]
    .into_iter()
    .enumerate()
    {
        let (p, c) = (format!("p{n}"), format!("c{n}"));
        let (prun, crun) = parent_with_child(&op, &p, &c).await;
        op.terminate_workflow_execution()
            .domain("orders")
            .workflow_id(&p)
            .child_policy(policy.clone())
            .send()
            .await
            .unwrap();
        let d = op
            .describe_workflow_execution()
            .domain("orders")
            .execution(execution(&c, &crun))
            .send()
            .await
            .unwrap();
        let info = d.execution_info().unwrap();
        let ch = history(&op, &c, &crun).await;
        match policy {
            ChildPolicy::Terminate => {
                assert_eq!(info.execution_status(), &ExecutionStatus::Closed);
                assert_eq!(info.close_status(), Some(&CloseStatus::Terminated));
                let t = ch
                    .iter()
                    .find_map(|e| e.workflow_execution_terminated_event_attributes())
                    .unwrap();
                assert_eq!(t.cause().map(|c| c.as_str()), Some("CHILD_POLICY_APPLIED"));
            }
            ChildPolicy::RequestCancel => {
                assert_eq!(info.execution_status(), &ExecutionStatus::Open);
                assert!(info.cancel_requested());
                let r = ch
                    .iter()
                    .find_map(|e| e.workflow_execution_cancel_requested_event_attributes())
                    .unwrap();
                assert_eq!(r.cause().map(|c| c.as_str()), Some("CHILD_POLICY_APPLIED"));
            }
            _ => {
                assert_eq!(info.execution_status(), &ExecutionStatus::Open);
                assert!(!info.cancel_requested());
            }
        }
        // The parent is closed: it records nothing more.
        let ph = history(&op, &p, &prun).await;
        assert_eq!(
            ph.last().unwrap().event_type(),
            &EventType::WorkflowExecutionTerminated
        );
    }

    // A principal denied swf:StartChildWorkflowExecution: the decision fails with
    // OPERATION_NOT_PERMITTED, no Initiated event, and no child starts.
    let nc = client(server.addr(), ("AKIANOCHILD", "nochild-secret"));
    let run = nc
        .start_workflow_execution()
        .domain("orders")
        .workflow_id("denied-parent")
        .workflow_type(wf.clone())
        .send()
        .await
        .unwrap()
        .run_id()
        .unwrap()
        .to_owned();
    let token = decision_task_of(&nc, "denied-parent").await;
    nc.respond_decision_task_completed()
        .task_token(token)
        .decisions(start_child_decision("denied-child", "wf"))
        .send()
        .await
        .unwrap();
    let h = history(&op, "denied-parent", &run).await;
    assert!(!h
        .iter()
        .any(|e| e.event_type() == &EventType::StartChildWorkflowExecutionInitiated));
    let f = h
        .iter()
        .find_map(|e| e.start_child_workflow_execution_failed_event_attributes())
        .unwrap();
    assert_eq!(f.cause().as_str(), "OPERATION_NOT_PERMITTED");
    assert_eq!(
        (f.initiated_event_id(), f.workflow_id()),
        (0, "denied-child")
    );
    assert_eq!(f.workflow_type().unwrap().name(), "wf");
    assert_eq!(f.control(), Some("ctl"));
    let open = op
        .count_open_workflow_executions()
        .domain("orders")
        .start_time_filter(
            aws_sdk_swf::types::ExecutionTimeFilter::builder()
                .oldest_date(aws_sdk_swf::primitives::DateTime::from_secs(0))
                .build()
                .unwrap(),
        )
        .execution_filter(
            aws_sdk_swf::types::WorkflowExecutionFilter::builder()
                .workflow_id("denied-child")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(open.count(), 0);
}

/// Timeouts reach across the link: a child that times out is recorded in its parent's
/// history, and a parent that times out applies its child policy (TERMINATE).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_and_parent_timeouts() {
    use aws_sdk_swf::types::{
        CloseStatus, StartChildWorkflowExecutionDecisionAttributes as Sc, WorkflowType,
    };
    let dir = std::env::temp_dir().join(format!("swf-iam-child-timeouts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = serve_bin(&dir, &config_text(), &["--poll-timeout", "1"], None);
    let op = client(server.addr(), OPERATOR);
    setup_orders(&op, "300", "60").await;
    let wf = WorkflowType::builder()
        .name("wf")
        .version("1")
        .build()
        .unwrap();
    let start = |wid: &'static str, timeout: &'static str| {
        let op = op.clone();
        let wf = wf.clone();
        async move {
            op.start_workflow_execution()
                .domain("orders")
                .workflow_id(wid)
                .workflow_type(wf)
                .execution_start_to_close_timeout(timeout)
                .send()
                .await
                .unwrap()
                .run_id()
                .unwrap()
                .to_owned()
        }
    };
    // A short-lived child of a long-lived parent.
    let prun = start("long-parent", "3600").await;
    let token = decision_task_of(&op, "long-parent").await;
    op.respond_decision_task_completed()
        .task_token(token)
        .decisions(
            Decision::builder()
                .decision_type(DecisionType::StartChildWorkflowExecution)
                .start_child_workflow_execution_decision_attributes(
                    Sc::builder()
                        .workflow_id("short-child")
                        .workflow_type(wf.clone())
                        .execution_start_to_close_timeout("1")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // A short-lived parent of a long-lived child.
    let (_, lrun) = {
        let srun = start("short-parent", "2").await;
        let token = decision_task_of(&op, "short-parent").await;
        op.respond_decision_task_completed()
            .task_token(token)
            .decisions(start_child_decision("long-child", "wf"))
            .send()
            .await
            .unwrap();
        let h = history(&op, "short-parent", &srun).await;
        let c = h
            .iter()
            .find_map(|e| e.child_workflow_execution_started_event_attributes())
            .unwrap()
            .workflow_execution()
            .unwrap()
            .run_id()
            .to_owned();
        (srun, c)
    };
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let h = history(&op, "long-parent", &prun).await;
    let t = h
        .iter()
        .find_map(|e| e.child_workflow_execution_timed_out_event_attributes())
        .unwrap_or_else(|| panic!("{h:?}"));
    assert_eq!(t.timeout_type().as_str(), "START_TO_CLOSE");
    assert_eq!(t.workflow_execution().unwrap().workflow_id(), "short-child");
    let d = op
        .describe_workflow_execution()
        .domain("orders")
        .execution(execution("long-child", &lrun))
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.execution_info().unwrap().close_status(),
        Some(&CloseStatus::Terminated),
        "the parent's TERMINATE policy applied at its timeout"
    );
}

/// The operations no other aws-sdk-swf test drives: pending-task counts,
/// ListWorkflowTypes, SignalWorkflowExecution, RespondActivityTaskCompleted and
/// RespondActivityTaskFailed — each with the history or count SWF gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_signals_and_activity_responses() {
    use aws_sdk_swf::types::{
        ActivityType, RegistrationStatus, ScheduleActivityTaskDecisionAttributes as Sched,
        WorkflowType,
    };
    let dir = std::env::temp_dir().join(format!("swf-iam-counts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = serve_bin(&dir, &config_text(), &["--poll-timeout", "1"], None);
    let op = client(server.addr(), OPERATOR);
    let worker = client(server.addr(), WORKER);
    setup_orders(&op, "300", "60").await;
    let types = op
        .list_workflow_types()
        .domain("orders")
        .registration_status(RegistrationStatus::Registered)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = types
        .type_infos()
        .iter()
        .map(|t| t.workflow_type().unwrap().name())
        .collect();
    assert_eq!(names, ["wf"]);
    let wf = WorkflowType::builder()
        .name("wf")
        .version("1")
        .build()
        .unwrap();
    let run = op
        .start_workflow_execution()
        .domain("orders")
        .workflow_id("counted")
        .workflow_type(wf)
        .send()
        .await
        .unwrap()
        .run_id()
        .unwrap()
        .to_owned();
    let pending = |c: &aws_sdk_swf::Client, decision: bool| {
        let c = c.clone();
        async move {
            if decision {
                c.count_pending_decision_tasks()
                    .domain("orders")
                    .task_list(tl("deciders"))
                    .send()
                    .await
                    .unwrap()
                    .count()
            } else {
                c.count_pending_activity_tasks()
                    .domain("orders")
                    .task_list(tl("workers"))
                    .send()
                    .await
                    .unwrap()
                    .count()
            }
        }
    };
    assert_eq!(pending(&op, true).await, 1);
    assert_eq!(pending(&op, false).await, 0);
    op.signal_workflow_execution()
        .domain("orders")
        .workflow_id("counted")
        .signal_name("ping")
        .input("payload")
        .send()
        .await
        .unwrap();
    // One decision task for both the start and the signal; it schedules two activities.
    let token = decision_task_of(&op, "counted").await;
    assert_eq!(pending(&op, true).await, 0);
    let schedule = |id: &str| {
        Decision::builder()
            .decision_type(DecisionType::ScheduleActivityTask)
            .schedule_activity_task_decision_attributes(
                Sched::builder()
                    .activity_id(id)
                    .activity_type(
                        ActivityType::builder()
                            .name("hb")
                            .version("1")
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    };
    op.respond_decision_task_completed()
        .task_token(token)
        .set_decisions(Some(vec![schedule("ok"), schedule("bad")]))
        .send()
        .await
        .unwrap();
    assert_eq!(pending(&op, false).await, 2);
    for _ in 0..2 {
        let t = worker
            .poll_for_activity_task()
            .domain("orders")
            .task_list(tl("workers"))
            .send()
            .await
            .unwrap();
        if t.activity_id() == "ok" {
            worker
                .respond_activity_task_completed()
                .task_token(t.task_token())
                .result("done")
                .send()
                .await
                .unwrap();
        } else {
            worker
                .respond_activity_task_failed()
                .task_token(t.task_token())
                .reason("broken")
                .details("on purpose")
                .send()
                .await
                .unwrap();
        }
    }
    assert_eq!(pending(&op, false).await, 0);
    let h = history(&op, "counted", &run).await;
    let signaled = h
        .iter()
        .find_map(|e| e.workflow_execution_signaled_event_attributes())
        .unwrap();
    assert_eq!(
        (signaled.signal_name(), signaled.input()),
        ("ping", Some("payload"))
    );
    let done = h
        .iter()
        .find_map(|e| e.activity_task_completed_event_attributes())
        .unwrap();
    assert_eq!(done.result(), Some("done"));
    let failed = h
        .iter()
        .find_map(|e| e.activity_task_failed_event_attributes())
        .unwrap();
    assert_eq!(
        (failed.reason(), failed.details()),
        (Some("broken"), Some("on purpose"))
    );
    assert_eq!(
        pending(&op, true).await,
        1,
        "the decider is to see both results"
    );
}

/// StartTimer, CancelTimer and FailWorkflowExecution through aws-sdk-swf: a timer fires,
/// another is canceled, a duplicate timer id fails, and the run ends FAILED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_and_failing_a_workflow() {
    use aws_sdk_swf::types::{
        CancelTimerDecisionAttributes as Cancel, CloseStatus,
        FailWorkflowExecutionDecisionAttributes as Fail, StartTimerDecisionAttributes as Start,
        WorkflowType,
    };
    let dir = std::env::temp_dir().join(format!("swf-iam-timers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = serve_bin(&dir, &config_text(), &["--poll-timeout", "2"], None);
    let op = client(server.addr(), OPERATOR);
    setup_orders(&op, "300", "60").await;
    let run = op
        .start_workflow_execution()
        .domain("orders")
        .workflow_id("timed")
        .workflow_type(
            WorkflowType::builder()
                .name("wf")
                .version("1")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .run_id()
        .unwrap()
        .to_owned();
    let start = |id: &str, secs: &str| {
        Decision::builder()
            .decision_type(DecisionType::StartTimer)
            .start_timer_decision_attributes(
                Start::builder()
                    .timer_id(id)
                    .start_to_fire_timeout(secs)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    };
    let token = decision_task_of(&op, "timed").await;
    op.respond_decision_task_completed()
        .task_token(token)
        .set_decisions(Some(vec![
            start("fires", "1"),
            start("canceled", "600"),
            start("fires", "5"),
        ]))
        .send()
        .await
        .unwrap();
    let token = decision_task_of(&op, "timed").await; // after the duplicate's failure
    op.respond_decision_task_completed()
        .task_token(token)
        .decisions(
            Decision::builder()
                .decision_type(DecisionType::CancelTimer)
                .cancel_timer_decision_attributes(
                    Cancel::builder().timer_id("canceled").build().unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let token = decision_task_of(&op, "timed").await; // the timer fired
    let h = history(&op, "timed", &run).await;
    let fired = h
        .iter()
        .find_map(|e| e.timer_fired_event_attributes())
        .unwrap();
    assert_eq!(fired.timer_id(), "fires");
    assert_eq!(
        h.iter()
            .find_map(|e| e.timer_canceled_event_attributes())
            .unwrap()
            .timer_id(),
        "canceled"
    );
    let dup = h
        .iter()
        .find_map(|e| e.start_timer_failed_event_attributes())
        .unwrap();
    assert_eq!(
        (dup.timer_id(), dup.cause().as_str()),
        ("fires", "TIMER_ID_ALREADY_IN_USE")
    );
    op.respond_decision_task_completed()
        .task_token(token)
        .decisions(
            Decision::builder()
                .decision_type(DecisionType::FailWorkflowExecution)
                .fail_workflow_execution_decision_attributes(
                    Fail::builder()
                        .reason("gave up")
                        .details("after the timer")
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let d = op
        .describe_workflow_execution()
        .domain("orders")
        .execution(execution("timed", &run))
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.execution_info().unwrap().close_status(),
        Some(&CloseStatus::Failed)
    );
    let h = history(&op, "timed", &run).await;
    let f = h
        .last()
        .unwrap()
        .workflow_execution_failed_event_attributes()
        .unwrap();
    assert_eq!(
        (f.reason(), f.details()),
        (Some("gave up"), Some("after the timer"))
    );
}
