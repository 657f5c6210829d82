//! simpleflow (PyPI `simpleflow`, a maintained SWF framework) runs unchanged against
//! `serve`: each workflow of `tests/clients/simpleflow_flows.py` — basic, timer, marker,
//! signals, failing, canvas, continue_as_new, child_workflow — is run with `simpleflow
//! standalone` (its decider and activity worker) and ends as intended; under a policy
//! that denies `swf:StartChildWorkflowExecution`, the child workflow's start is recorded
//! as `StartChildWorkflowExecutionFailed` with `OPERATION_NOT_PERMITTED` and the
//! workflow fails on it.

use super::swfkit::{client, serve_bin};
use aws_sdk_swf::types::{CloseStatus, EventType, ExecutionTimeFilter, WorkflowExecutionFilter};
use std::process::Command;

const ADMIN: (&str, &str) = ("AKIASFADMIN", "sf-admin-secret");
const NOCHILD: (&str, &str) = ("AKIASFNOCHILD", "sf-nochild-secret");

fn config() -> String {
    format!(
        r#"{{"account": "123456789012", "region": "us-east-1",
  "register": {{"domains": [{{"name": "orders", "workflowExecutionRetentionPeriodInDays": "1"}}]}},
  "principals": [
  {{"arn": "arn:aws:iam::123456789012:role/sf-admin", "accessKeys": [{{"accessKeyId": "{}", "secretAccessKey": "{}"}}],
   "policies": [{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/orders"}}]}}]}},
  {{"arn": "arn:aws:iam::123456789012:role/sf-nochild", "accessKeys": [{{"accessKeyId": "{}", "secretAccessKey": "{}"}}],
   "policies": [{{"Version": "2012-10-17", "Statement": [
     {{"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/orders"}},
     {{"Sid": "NoChildren", "Effect": "Deny", "Action": "swf:StartChildWorkflowExecution", "Resource": "*"}}]}}]}}
]}}"#,
        ADMIN.0, ADMIN.1, NOCHILD.0, NOCHILD.1
    )
}

fn simpleflow() -> String {
    let bin = std::env::var("SWF_IAM_SIMPLEFLOW")
        .unwrap_or_else(|_| format!("{}/.venv/bin/simpleflow", env!("CARGO_MANIFEST_DIR")));
    assert!(
        std::path::Path::new(&bin).exists(),
        "simpleflow is missing at {bin}: run `scripts/test` (it installs simpleflow into .venv) or set SWF_IAM_SIMPLEFLOW"
    );
    bin
}

/// Runs one workflow with `simpleflow standalone` as `key`; returns its stderr on failure.
fn run(url: &str, key: (&str, &str), workflow: &str, wid: &str, input: &str) -> Result<(), String> {
    let out = Command::new("timeout")
        .arg("120")
        .arg(simpleflow())
        .args([
            "standalone",
            "--domain",
            "orders",
            "--workflow-id",
            wid,
            "--input",
            input,
        ])
        .arg(format!("simpleflow_flows.{workflow}"))
        .env(
            "PYTHONPATH",
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients"),
        )
        .env("AWS_ENDPOINT_URL_SWF", url)
        .env("AWS_ACCESS_KEY_ID", key.0)
        .env("AWS_SECRET_ACCESS_KEY", key.1)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{workflow}: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The closed runs of `wid`, newest first.
async fn closed_runs(
    c: &aws_sdk_swf::Client,
    wid: &str,
) -> Vec<aws_sdk_swf::types::WorkflowExecutionInfo> {
    c.list_closed_workflow_executions()
        .domain("orders")
        .start_time_filter(
            ExecutionTimeFilter::builder()
                .oldest_date(aws_sdk_swf::primitives::DateTime::from_secs(0))
                .build()
                .unwrap(),
        )
        .execution_filter(
            WorkflowExecutionFilter::builder()
                .workflow_id(wid)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .execution_infos()
        .to_vec()
}

/// The closed runs of `wid`, newest first: (close status, last event's result or reason).
async fn closed(c: &aws_sdk_swf::Client, wid: &str) -> Vec<(CloseStatus, String)> {
    let infos = closed_runs(c, wid).await;
    let mut out = Vec::new();
    for i in infos {
        let h = c
            .get_workflow_execution_history()
            .domain("orders")
            .execution(i.execution().unwrap().clone())
            .reverse_order(true)
            .maximum_page_size(1)
            .send()
            .await
            .unwrap();
        let last = &h.events()[0];
        let text = last
            .workflow_execution_completed_event_attributes()
            .and_then(|a| a.result())
            .or_else(|| {
                last.workflow_execution_failed_event_attributes()
                    .and_then(|a| a.reason())
            })
            .unwrap_or("")
            .to_owned();
        out.push((i.close_status().unwrap().clone(), text));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simpleflow_workflows_run_unchanged_against_serve() {
    let dir = std::env::temp_dir().join(format!("swf-iam-simpleflow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // simpleflow's forked pollers share the main process's pooled connection, so the
    // server closes every connection after its response, as moto's server does.
    let server = serve_bin(
        &dir,
        &config(),
        &["--poll-timeout", "2", "--no-keep-alive"],
        None,
    );
    let url = format!("http://{}", server.addr());
    let runs: &[(&str, &str, (&str, &str))] = &[
        ("Basic", r#"{"args": [3]}"#, ADMIN),
        ("Timer", r#"{"args": [3]}"#, ADMIN),
        ("Marker", "{}", ADMIN),
        ("Signals", "{}", ADMIN),
        ("Failing", r#"{"args": [3]}"#, ADMIN),
        ("Canvas", r#"{"args": [3]}"#, ADMIN),
        ("ContinueAsNew", "{}", ADMIN),
        ("ChildWorkflow", r#"{"args": [3]}"#, ADMIN),
        ("ChildWorkflow", r#"{"args": [3]}"#, NOCHILD),
    ];
    // Three at a time: each standalone run is a handful of processes.
    for batch in runs.chunks(3) {
        let handles: Vec<_> = batch
            .iter()
            .map(|&(wf, input, key)| {
                let url = url.clone();
                let wid = format!("{wf}-{}", key.0);
                std::thread::spawn(move || run(&url, key, wf, &wid, input))
            })
            .collect();
        for h in handles {
            if let Err(e) = h.join().unwrap() {
                panic!("{e}");
            }
        }
    }
    let c = client(server.addr(), ADMIN);
    let wid = |wf: &str, key: (&str, &str)| format!("{wf}-{}", key.0);
    let done = |result: &str| vec![(CloseStatus::Completed, result.to_owned())];
    assert_eq!(closed(&c, &wid("Basic", ADMIN)).await, done("8"));
    assert_eq!(closed(&c, &wid("Timer", ADMIN)).await, done("4"));
    assert_eq!(
        closed(&c, &wid("Marker", ADMIN)).await,
        done(r#"["{'step': 1}","{'step': 2}"]"#)
    );
    assert_eq!(
        closed(&c, &wid("Signals", ADMIN)).await,
        done(r#""signaled""#)
    );
    assert_eq!(
        closed(&c, &wid("Canvas", ADMIN)).await,
        done("[[4,6],[4,8]]")
    );
    assert_eq!(closed(&c, &wid("ChildWorkflow", ADMIN)).await, done("8"));
    let failing = closed(&c, &wid("Failing", ADMIN)).await;
    assert_eq!(failing.len(), 1);
    assert_eq!(failing[0].0, CloseStatus::Failed);
    assert!(
        failing[0].1.contains("activity fails on purpose with 3"),
        "{failing:?}"
    );
    // Three runs: two continued as new, the last completed with n = 2.
    let can = closed(&c, &wid("ContinueAsNew", ADMIN)).await;
    let statuses: Vec<&CloseStatus> = can.iter().map(|(s, _)| s).collect();
    assert_eq!(
        statuses,
        [
            &CloseStatus::Completed,
            &CloseStatus::ContinuedAsNew,
            &CloseStatus::ContinuedAsNew
        ]
    );
    assert_eq!(can[0].1, "2");
    // Denied child start: recorded, seen by the workflow, which fails on it.
    let denied = closed(&c, &wid("ChildWorkflow", NOCHILD)).await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].0, CloseStatus::Failed);
    assert!(
        denied[0].1.contains("OPERATION_NOT_PERMITTED"),
        "{denied:?}"
    );
    let infos = closed_runs(&c, &wid("ChildWorkflow", NOCHILD)).await;
    let h = c
        .get_workflow_execution_history()
        .domain("orders")
        .execution(infos[0].execution().unwrap().clone())
        .send()
        .await
        .unwrap();
    let f = h
        .events()
        .iter()
        .find(|e| e.event_type() == &EventType::StartChildWorkflowExecutionFailed)
        .and_then(|e| e.start_child_workflow_execution_failed_event_attributes())
        .expect("StartChildWorkflowExecutionFailed in the parent's history");
    assert_eq!(f.cause().as_str(), "OPERATION_NOT_PERMITTED");
    assert_eq!(f.initiated_event_id(), 0);
    assert!(!h
        .events()
        .iter()
        .any(|e| e.event_type() == &EventType::ChildWorkflowExecutionStarted));
}
