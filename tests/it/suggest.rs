//! `swf-iam suggest`: a workload (an operator registering, starting and deciding; a worker
//! taking, heartbeating and completing the task) runs against `serve --enforce soft` with a
//! decision log; the suggestions from that log (with conditions), loaded as the two
//! principals' only policies, let the same workload run again under `strict` with no
//! denial, while what it never did (another activity type, another action, another
//! domain) is denied.

use super::swfkit::*;
use serde_json::Value;
use std::process::Command;

const WORKER_ARN: &str = "arn:aws:iam::123456789012:role/worker";

const OPERATOR_ARN: &str = "arn:aws:iam::123456789012:user/operator";

/// The workload: the operator sets up `orders` (once), starts `wid` and schedules an
/// `hb` task; the worker takes it, heartbeats and completes it; the operator ends the run.
async fn workload(server: &Server, wid: &str) {
    let op = client(server.addr(), OPERATOR);
    if op.describe_domain().name("orders").send().await.is_err() {
        setup_orders(&op, "300", "60").await;
    }
    start_and_decide(&op, wid, vec![schedule("a1", "hb")]).await;
    let w = client(server.addr(), WORKER);
    let task = w
        .poll_for_activity_task()
        .domain("orders")
        .task_list(tl("workers"))
        .send()
        .await
        .unwrap();
    w.record_activity_task_heartbeat()
        .task_token(task.task_token())
        .send()
        .await
        .unwrap();
    w.respond_activity_task_completed()
        .task_token(task.task_token())
        .result("done")
        .send()
        .await
        .unwrap();
    op.terminate_workflow_execution()
        .domain("orders")
        .workflow_id(wid)
        .send()
        .await
        .unwrap();
}

/// `swf-iam suggest --with-conditions` for `principal`: its first policy.
fn suggested_with_conditions(log: &std::path::Path, principal: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .args([
            "suggest",
            "--with-conditions",
            "--principal",
            principal,
            "--from",
        ])
        .arg(log)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["principals"][0]["policies"].as_array().unwrap().len(), 1);
    v["principals"][0]["policies"][0].clone()
}

fn denials(log: &std::path::Path, principal_suffix: &str) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| {
            v["message"] == "decision"
                && v["principal"]
                    .as_str()
                    .is_some_and(|p| p.ends_with(principal_suffix))
                && v["decision"] != "allowed"
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suggestion_from_a_log_runs_the_same_workload_and_no_more() {
    let dir = std::env::temp_dir().join(format!("swf-iam-suggest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("decisions.jsonl");
    // First run: observe mode, the worker with a broad policy.
    let mut broad: Value = serde_json::from_str(&config_text()).unwrap();
    for p in broad["principals"].as_array_mut().unwrap() {
        if p["arn"] == WORKER_ARN {
            p["policies"] = serde_json::json!([{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}]);
        }
    }
    let (first, _) = serve_logged(&dir, &broad.to_string(), &log, "soft");
    workload(&first, "w1").await;
    drop(first);

    let out = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .args(["suggest", "--principal", WORKER_ARN, "--from"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let policy = &v["principals"][0]["policies"][0];
    assert_eq!(
        policy["Statement"],
        serde_json::json!([{"Sid": "DomainOrders", "Effect": "Allow",
            "Action": ["swf:PollForActivityTask", "swf:RecordActivityTaskHeartbeat", "swf:RespondActivityTaskCompleted"],
            "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/orders"}])
    );
    // Against the worker's own policy: every logged request replays under the
    // suggestion, and what the policy grants beyond it is listed with witnesses.
    let own = dir.join("own.json");
    std::fs::write(&own, config_text()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .args(["suggest", "--principal", WORKER_ARN, "--against"])
        .arg(&own)
        .arg("--from")
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = &v["principals"][0]["against"];
    assert_eq!(a["replayed"], 3);
    assert_eq!(a["notAllowed"], serde_json::json!([]));
    let narrowed: Vec<&str> = a["narrowed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    // `RespondActivityTask*` granted failing and canceling too; the workload did neither.
    assert_eq!(
        narrowed,
        [
            "swf:RespondActivityTaskCanceled",
            "swf:RespondActivityTaskFailed"
        ],
        "{a}"
    );
    assert!(a["narrowed"][0]["witness"]["resource"]
        .as_str()
        .unwrap()
        .ends_with("/domain/orders"));
    assert_eq!(a["complete"], true);
    // With conditions, the replay carries each logged request's `swf:` keys, and the
    // worker's polls on any task list but `workers` are narrowing too.
    let out = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .args([
            "suggest",
            "--with-conditions",
            "--principal",
            WORKER_ARN,
            "--against",
        ])
        .arg(&own)
        .arg("--from")
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = &v["principals"][0]["against"];
    assert_eq!(a["replayed"], 3);
    assert_eq!(a["notAllowed"], serde_json::json!([]));
    assert_eq!(a["narrowed"][0]["action"], "swf:PollForActivityTask", "{a}");
    assert_eq!(
        a["narrowed"][0]["extent"][0]["when"][0]["key"], "swf:taskList.name",
        "{a}"
    );

    // Terraform output of the same.
    let tf = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .args([
            "suggest",
            "--format",
            "terraform",
            "--principal",
            WORKER_ARN,
            "--from",
        ])
        .arg(&log)
        .output()
        .unwrap();
    let tf = String::from_utf8_lossy(&tf.stdout);
    assert!(
        tf.contains("data \"aws_iam_policy_document\" \"worker\" {"),
        "{tf}"
    );
    assert!(
        tf.contains("resources = [\"arn:aws:swf:us-east-1:123456789012:/domain/orders\"]"),
        "{tf}"
    );

    // With conditions: each action limited to the `swf:` key values the log holds.
    let worker_policy = suggested_with_conditions(&log, WORKER_ARN);
    let operator_policy = suggested_with_conditions(&log, OPERATOR_ARN);
    let statements = operator_policy["Statement"].as_array().unwrap();
    let schedule_statement = statements
        .iter()
        .find(|st| st["Action"] == serde_json::json!(["swf:ScheduleActivityTask"]))
        .unwrap_or_else(|| panic!("{operator_policy}"));
    assert_eq!(
        schedule_statement["Condition"]["StringEquals"],
        serde_json::json!({"swf:activityType.name": "hb", "swf:activityType.version": "1",
            "swf:taskList.name": "workers"})
    );
    let poll_statement = worker_policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["Action"] == serde_json::json!(["swf:PollForActivityTask"]))
        .unwrap_or_else(|| panic!("{worker_policy}"));
    assert_eq!(
        poll_statement["Condition"],
        serde_json::json!({"StringEquals": {"swf:taskList.name": "workers"}})
    );

    // The operator and the worker with only their suggestions: the workload runs with
    // no denial.
    let mut config: Value = serde_json::from_str(&config_text()).unwrap();
    for p in config["principals"].as_array_mut().unwrap() {
        if p["arn"] == WORKER_ARN {
            p["policies"] = serde_json::json!([worker_policy]);
        }
        if p["arn"] == OPERATOR_ARN {
            p["policies"] = serde_json::json!([operator_policy]);
        }
    }
    let log2 = dir.join("decisions-2.jsonl");
    let (second, _) = serve_logged(&dir, &config.to_string(), &log2, "strict");
    workload(&second, "w2").await;
    assert_eq!(denials(&log2, "/worker/swf-iam"), 0);
    assert_eq!(denials(&log2, "/operator"), 0);
    // What it never did stays denied: another activity type (a decision the log never
    // held: `ScheduleActivityTaskFailed`, `OPERATION_NOT_PERMITTED`), another action
    // (failing a task), another domain.
    let op = client(second.addr(), OPERATOR);
    let run = start_and_decide(
        &op,
        "w3",
        vec![schedule("a2", "hb"), schedule("a3", "forbidden")],
    )
    .await;
    assert_eq!(denials(&log2, "/operator"), 1);
    // (The `denied` role keeps `swf:*`: it reads the history.)
    let events = history(&client(second.addr(), DENIED), "w3", &run).await;
    let failed: Vec<_> = events
        .iter()
        .filter_map(|e| e.schedule_activity_task_failed_event_attributes())
        .collect();
    assert_eq!(failed.len(), 1, "{events:?}");
    assert_eq!(failed[0].activity_type().unwrap().name(), "forbidden");
    assert_eq!(
        failed[0].cause().as_str(),
        "OPERATION_NOT_PERMITTED",
        "{events:?}"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.activity_task_scheduled_event_attributes().is_some())
            .count(),
        1
    );
    let w = client(second.addr(), WORKER);
    let task = w
        .poll_for_activity_task()
        .domain("orders")
        .task_list(tl("workers"))
        .send()
        .await
        .unwrap();
    let e = w
        .respond_activity_task_failed()
        .task_token(task.task_token())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_operation_not_permitted_fault(), "{e:?}");
    // Another task list: the worker's poll is limited to `workers`.
    let e = w
        .poll_for_activity_task()
        .domain("orders")
        .task_list(tl("other"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_operation_not_permitted_fault(), "{e:?}");
    let e = w
        .poll_for_activity_task()
        .domain("billing")
        .task_list(tl("workers"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_operation_not_permitted_fault(), "{e:?}");
    assert!(denials(&log2, "/worker/swf-iam") >= 3);
}

/// The shipped example's suggestion, as JSON and as HCL: reviewed snapshots, so a change
/// in what `suggest` writes shows up in review.
#[test]
fn suggestions_of_the_shipped_example_match_their_snapshots() {
    let run = |format: &str, extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
            .args([
                "suggest",
                "--from",
                "policies/suggest-example/decisions.jsonl",
                "--format",
                format,
            ])
            .args(extra)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    insta::assert_snapshot!("suggest_example_json", run("json", &[]));
    insta::assert_snapshot!("suggest_example_terraform", run("terraform", &[]));
    insta::assert_snapshot!(
        "suggest_example_conditions_json",
        run("json", &["--with-conditions"])
    );
    insta::assert_snapshot!(
        "suggest_example_conditions_terraform",
        run("terraform", &["--with-conditions"])
    );
}
