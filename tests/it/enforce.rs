//! `serve --enforce soft|off`: observe mode lets denied requests and decisions proceed
//! and logs each as denied with `"enforce": "soft"`; `off` logs nothing of IAM. The
//! banner says which mode is in force.

use super::swfkit::*;
use aws_sdk_swf::types::EventType;
use serde_json::Value;
use std::process::Command;

/// `swf-iam serve --enforce MODE` with `config` and a decision log: the server, its
/// banner and the log's path.
fn serve_mode(tag: &str, config: &str, mode: &str) -> (Server, String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("swf-iam-enforce-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("decisions.jsonl");
    let (server, banner) = serve_logged(&dir, config, &log, mode);
    (server, banner, log)
}

fn decisions(log: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "decision")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_mode_lets_denials_proceed_and_logs_them() {
    let (server, banner, log) = serve_mode("soft", &config_text(), "soft");
    assert!(
        banner.contains("enforce: SOFT: denied requests PROCEED"),
        "{banner}"
    );
    let op = client(server.addr(), OPERATOR);
    setup_orders(&op, "300", "60").await;
    // The operator's policy denies scheduling `forbidden`: under soft, it is scheduled.
    let run = start_and_decide(&op, "soft", vec![schedule("a1", "forbidden")]).await;
    let events = history(&op, "soft", &run).await;
    assert!(events
        .iter()
        .any(|e| *e.event_type() == EventType::ActivityTaskScheduled));
    assert!(!events
        .iter()
        .any(|e| *e.event_type() == EventType::ScheduleActivityTaskFailed));
    // The outsider may heartbeat only on billing: under soft, its heartbeat on orders goes through.
    let w = client(server.addr(), WORKER);
    let task = w
        .poll_for_activity_task()
        .domain("orders")
        .task_list(tl("workers"))
        .send()
        .await
        .unwrap();
    let outsider = client(server.addr(), OUTSIDER);
    outsider
        .record_activity_task_heartbeat()
        .task_token(task.task_token())
        .send()
        .await
        .unwrap();
    let lines = decisions(&log);
    let hb = lines
        .iter()
        .find(|l| {
            l["principal"].as_str().unwrap().contains("/outsider/")
                && l["action"] == "swf:RecordActivityTaskHeartbeat"
        })
        .unwrap();
    assert_eq!(hb["decision"], "implicitDeny");
    assert_eq!(hb["enforce"], "soft");
    assert!(hb["reason"]
        .as_str()
        .unwrap()
        .contains("is not authorized to perform"));
    let sched = lines
        .iter()
        .find(|l| l["action"] == "swf:ScheduleActivityTask")
        .unwrap();
    assert_eq!(sched["decision"], "explicitDeny");
    assert_eq!(sched["enforce"], "soft");
    // Authentication is never relaxed: an unknown key is refused.
    let stranger = client(server.addr(), ("AKIASTRANGER", "nope"));
    let e = stranger
        .list_domains()
        .registration_status(aws_sdk_swf::types::RegistrationStatus::Registered)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        format!("{e:?}").contains("UnrecognizedClientException"),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_neither_enforces_nor_logs_iam_and_strict_says_so() {
    let (server, banner, log) = serve_mode("off", &config_text(), "off");
    assert!(banner.contains("enforce: OFF"), "{banner}");
    let op = client(server.addr(), OPERATOR);
    setup_orders(&op, "300", "60").await;
    let w = client(server.addr(), WORKER);
    let outsider = client(server.addr(), OUTSIDER);
    start_and_decide(&op, "off", vec![schedule("a1", "hb")]).await;
    let task = w
        .poll_for_activity_task()
        .domain("orders")
        .task_list(tl("workers"))
        .send()
        .await
        .unwrap();
    outsider
        .record_activity_task_heartbeat()
        .task_token(task.task_token())
        .send()
        .await
        .unwrap();
    assert!(decisions(&log).is_empty());
    drop(server);
    let (_strict, banner, _) = serve_mode("strict", &config_text(), "strict");
    assert!(
        banner.contains("enforce: strict (denied requests are refused)"),
        "{banner}"
    );
}

#[test]
fn observe_mode_lets_an_untrusted_assume_role_through() {
    let (server, _, log) = serve_mode("sts", &super::role_sessions::config(), "soft");
    let out = Command::new(super::aws_cli::aws_cli())
        .args([
            "sts",
            "assume-role",
            "--role-arn",
            "arn:aws:iam::123456789012:role/worker",
            "--role-session-name",
            "s1",
        ])
        .args(["--endpoint-url", &server.url, "--output", "json"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("AWS_ACCESS_KEY_ID", "AKIAOPERATOR")
        .env("AWS_SECRET_ACCESS_KEY", "operator-secret")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = decisions(&log)
        .into_iter()
        .find(|l| l["action"] == "sts:AssumeRole")
        .unwrap();
    assert_eq!(line["decision"], "implicitDeny");
    assert_eq!(line["enforce"], "soft");
}
