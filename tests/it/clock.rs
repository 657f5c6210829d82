//! `serve --clock frozen` and `POST /swf-iam/clock`: a heartbeat timeout and a timer of
//! half an hour fire when the test moves the clock, each at its deadline, in well under a
//! second of wall time; `aws:CurrentTime` follows the emulator's clock.

use super::swfkit::*;
use aws_sdk_swf::types::{DecisionType, EventType, StartTimerDecisionAttributes};
use serde_json::Value;
use std::io::{Read, Write};
use std::time::Instant;

/// `POST /swf-iam/clock` with `body` (or `GET` without one): status and JSON answer.
fn clock(server: &Server, body: Option<&str>) -> (u16, Value) {
    let mut conn = std::net::TcpStream::connect(server.addr()).unwrap();
    let req = match body {
        Some(b) => format!(
            "POST /swf-iam/clock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
            b.len()
        ),
        None => "GET /swf-iam/clock HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into(),
    };
    conn.write_all(req.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    let status: u16 = answer[9..12].parse().unwrap();
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap())
}

const LATER: (&str, &str) = ("AKIALATER", "later-secret");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_the_clock_fires_timeouts_and_timers_at_their_deadlines() {
    let dir = std::env::temp_dir().join(format!("swf-iam-clock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A principal allowed to list domains only from two days after now.
    let from = swf_iam::values::format_iso8601(swf_iam::values::now_epoch() + 2 * 86_400);
    let config = config_with_role(
        "later",
        LATER,
        &format!(
            r#"{{"Effect": "Allow", "Action": "swf:ListDomains", "Resource": "*", "Condition": {{"DateGreaterThan": {{"aws:CurrentTime": "{from}"}}}}}}"#
        ),
    );
    let server = serve_bin(
        &dir,
        &config,
        &["--poll-timeout", "1", "--clock", "frozen"],
        None,
    );
    let wall = Instant::now();
    let (status, t0) = clock(&server, None);
    assert_eq!(status, 200);
    assert_eq!(t0["frozen"], true);
    let op = client(server.addr(), OPERATOR);
    let worker = client(server.addr(), WORKER);
    setup_orders(&op, "30", "60").await;

    // A heartbeat timeout of 30 s: the worker heartbeats, then the clock moves 31 s.
    let run = start_and_decide(&op, "hb", vec![schedule("a1", "hb")]).await;
    let task = worker
        .poll_for_activity_task()
        .domain("orders")
        .task_list(tl("workers"))
        .send()
        .await
        .unwrap();
    worker
        .record_activity_task_heartbeat()
        .task_token(task.task_token())
        .send()
        .await
        .unwrap();
    let (status, t1) = clock(&server, Some(r#"{"advance": 31}"#));
    assert_eq!(status, 200, "{t1}");
    assert_eq!(
        t1["epochSeconds"].as_f64().unwrap() - t0["epochSeconds"].as_f64().unwrap(),
        31.0
    );
    let e = worker
        .record_activity_task_heartbeat()
        .task_token(task.task_token())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_unknown_resource_fault(), "{e:?}");
    let events = history(&op, "hb", &run).await;
    let at = |ty: EventType| {
        events
            .iter()
            .find(|e| *e.event_type() == ty)
            .map(|e| e.event_timestamp().as_secs_f64())
            .unwrap()
    };
    // Timed out at the deadline (the last heartbeat + 30 s), not when the clock stopped.
    assert_eq!(
        at(EventType::ActivityTaskTimedOut) - at(EventType::ActivityTaskStarted),
        30.0
    );

    // (The timeout scheduled a decision task for `hb`: end that run.)
    op.terminate_workflow_execution()
        .domain("orders")
        .workflow_id("hb")
        .send()
        .await
        .unwrap();

    // A timer of half an hour fires when the clock passes it (the run itself times out
    // after an hour).
    let timer = aws_sdk_swf::types::Decision::builder()
        .decision_type(DecisionType::StartTimer)
        .start_timer_decision_attributes(
            StartTimerDecisionAttributes::builder()
                .timer_id("t1")
                .start_to_fire_timeout("1800")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let run = start_and_decide(&op, "timer", vec![timer]).await;
    let (status, _) = clock(&server, Some(r#"{"advance": 1799}"#));
    assert_eq!(status, 200);
    let none = op
        .poll_for_decision_task()
        .domain("orders")
        .task_list(tl("deciders"))
        .send()
        .await
        .unwrap();
    assert!(none.task_token().is_empty(), "not due yet");
    let (status, t2) = clock(&server, Some(r#"{"advance": 1}"#));
    assert_eq!(status, 200, "{t2}");
    let task = op
        .poll_for_decision_task()
        .domain("orders")
        .task_list(tl("deciders"))
        .send()
        .await
        .unwrap();
    let events = history(&op, "timer", &run).await;
    assert!(
        !task.task_token().is_empty(),
        "{:?}",
        events
            .iter()
            .map(|e| (e.event_type().clone(), e.event_timestamp().as_secs_f64()))
            .collect::<Vec<_>>()
    );
    let started = events
        .iter()
        .find(|e| *e.event_type() == EventType::TimerStarted)
        .unwrap();
    let fired = events
        .iter()
        .find(|e| *e.event_type() == EventType::TimerFired)
        .unwrap();
    assert_eq!(
        fired.event_timestamp().as_secs_f64() - started.event_timestamp().as_secs_f64(),
        1800.0
    );

    // aws:CurrentTime follows the emulator's clock; the clock never goes back.
    let later = client(server.addr(), LATER);
    let e = later
        .list_domains()
        .registration_status(aws_sdk_swf::types::RegistrationStatus::Registered)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_operation_not_permitted_fault(), "{e:?}");
    let (status, _) = clock(&server, Some(r#"{"advance": 172800}"#));
    assert_eq!(status, 200);
    later
        .list_domains()
        .registration_status(aws_sdk_swf::types::RegistrationStatus::Registered)
        .send()
        .await
        .unwrap();
    let (status, err) = clock(&server, Some(r#"{"set": "2001-01-01T00:00:00Z"}"#));
    assert_eq!(status, 400);
    assert!(err["Error"]
        .as_str()
        .unwrap()
        .contains("never goes backwards"));
    let (status, _) = clock(&server, Some(r#"{"advance": -5}"#));
    assert_eq!(status, 400);
    let (_, end) = clock(&server, None);
    println!(
        "{:.0} s of SWF time in {:.2} s of wall time",
        end["epochSeconds"].as_f64().unwrap() - t0["epochSeconds"].as_f64().unwrap(),
        wall.elapsed().as_secs_f64()
    );
}
