//! The decision log, in its own test binary: tracing's callsite interest is global, so
//! this test must not share a process with tests that run without a subscriber.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

#[path = "common/gatekit.rs"]
mod gatekit;

use gatekit::*;

#[test]
fn the_decision_log_writes_one_json_line_per_request() {
    use swf_iam::gate::ops::{subscriber, DecisionLog};
    let dir = std::env::temp_dir().join(format!("swf-iam-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("decisions.jsonl");
    let _ = std::fs::remove_file(&log);
    let sub = subscriber(&DecisionLog::File(log.clone())).unwrap();
    tracing::subscriber::with_default(sub, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (layer, calls) = setup();
            send(
                &layer,
                &calls,
                request(
                    "RecordActivityTaskHeartbeat",
                    r#"{"taskToken":"tok-orders"}"#,
                    AKID,
                    SECRET,
                    NOW,
                ),
            )
            .await;
            send(
                &layer,
                &calls,
                request(
                    "RecordActivityTaskHeartbeat",
                    r#"{"taskToken":"tok-billing"}"#,
                    AKID,
                    SECRET,
                    NOW,
                ),
            )
            .await;
            send(
                &layer,
                &calls,
                request(
                    "RecordActivityTaskHeartbeat",
                    r#"{"taskToken":"tok-orders"}"#,
                    AKID,
                    "bad",
                    NOW,
                ),
            )
            .await;
        });
    });
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0]["decision"], "allowed");
    assert_eq!(lines[0]["operation"], "RecordActivityTaskHeartbeat");
    assert_eq!(lines[0]["action"], "swf:RecordActivityTaskHeartbeat");
    assert_eq!(
        lines[0]["resource"],
        "arn:aws:swf:us-east-1:123456789012:/domain/orders"
    );
    assert_eq!(
        lines[0]["principal"],
        "arn:aws:sts::123456789012:assumed-role/worker/swf-iam"
    );
    assert!(lines[0]["statement"].as_str().unwrap().contains("`Beat`"));
    assert!(lines[0]["timestamp"].is_string());
    assert!(lines[0]["latency_us"].is_u64());
    assert_eq!(lines[1]["decision"], "explicitDeny");
    assert!(lines[1]["statement"]
        .as_str()
        .unwrap()
        .contains("`NotBilling`"));
    assert_eq!(lines[2]["decision"], "refused");
    assert_eq!(lines[2]["error"], "InvalidSignatureException");
}
