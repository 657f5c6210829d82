//! `serve --db FILE`: the emulator's state in SQLite. A real server is killed with
//! SIGKILL mid-workload and restarted on the same file: domains, executions, histories
//! and open tasks are there, a task token handed out before the crash still works, and
//! a deadline that passed while the server was down fires at start-up with its own
//! timestamp. The reset endpoint clears the file; a file that is not a swf-iam database
//! is refused and left untouched.

use super::swfkit::*;
use aws_sdk_swf::types::EventType;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// `swf-iam serve --db db` with the test configuration: the server and its `state:` line.
fn serve_db(dir: &Path, db: &Path) -> (Server, String) {
    let cfg = dir.join("config.json");
    std::fs::write(&cfg, config_text()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .args(["serve", "--listen", "127.0.0.1:0", "--poll-timeout", "1"])
        .args(["--decision-log", "off", "--db"])
        .arg(db)
        .arg("--config")
        .arg(&cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    let state = loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            panic!("the server stopped before its `state:` line");
        }
        if url.is_empty() {
            url = line
                .split_whitespace()
                .find(|w| w.starts_with("http://"))
                .unwrap_or_else(|| panic!("no address in the banner: {line}"))
                .to_owned();
        }
        if line.starts_with("state: ") {
            break line.trim_end().to_owned();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    (Server { child, url }, state)
}

fn kill_9(mut s: Server) {
    // `Child::kill` is SIGKILL: no shutdown code runs.
    s.child.kill().unwrap();
    s.child.wait().unwrap();
}

async fn take_task(w: &aws_sdk_swf::Client) -> String {
    let t = w
        .poll_for_activity_task()
        .domain("orders")
        .task_list(tl("workers"))
        .send()
        .await
        .unwrap();
    assert!(!t.task_token().is_empty());
    t.task_token().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_kill_9_a_restart_on_the_same_file_carries_on() {
    let dir = std::env::temp_dir().join(format!("swf-iam-durable-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("state.db");

    let (first, state) = serve_db(&dir, &db);
    assert!(
        state.starts_with(&format!(
            "state: SQLite {} (0 domains, 0 executions",
            db.display()
        )),
        "{state}"
    );
    let op = client(first.addr(), OPERATOR);
    let reader = client(first.addr(), DENIED); // swf:* but heartbeats: reads histories
    setup_orders(&op, "600", "60").await;
    register_activity_type(&op, "quick", "2").await;
    // w1: a task with a 600 s heartbeat timeout, taken; w2: one with 2 s, taken.
    let run1 = start_and_decide(&op, "w1", vec![schedule("a1", "hb")]).await;
    let w = client(first.addr(), WORKER);
    let token1 = take_task(&w).await;
    let run2 = start_and_decide(&op, "w2", vec![schedule("a2", "quick")]).await;
    let token2 = take_task(&w).await;
    w.record_activity_task_heartbeat()
        .task_token(&token2)
        .send()
        .await
        .unwrap();
    let before1 = history(&reader, "w1", &run1).await;
    let before2 = history(&reader, "w2", &run2).await;
    let beat_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    kill_9(first);

    // Down for longer than w2's heartbeat timeout.
    std::thread::sleep(std::time::Duration::from_millis(3500));
    let (second, state) = serve_db(&dir, &db);
    let restarted_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        state.contains("(1 domain, 2 executions,")
            && state.contains("deadlines passed meanwhile fired"),
        "{state}"
    );
    let op = client(second.addr(), OPERATOR);
    let reader = client(second.addr(), DENIED);
    let w = client(second.addr(), WORKER);
    // The domain and its types are there.
    let types = op
        .list_activity_types()
        .domain("orders")
        .registration_status(aws_sdk_swf::types::RegistrationStatus::Registered)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = types
        .type_infos()
        .iter()
        .map(|t| t.activity_type().unwrap().name())
        .collect();
    assert_eq!(names, ["forbidden", "hb", "quick"]);
    // w1's history is what it was, event for event; its token still works.
    let after1 = history(&reader, "w1", &run1).await;
    assert_eq!(format!("{after1:?}"), format!("{before1:?}"));
    let beat = w
        .record_activity_task_heartbeat()
        .task_token(&token1)
        .details("after the crash")
        .send()
        .await
        .unwrap();
    assert!(!beat.cancel_requested());
    // w2's heartbeat deadline passed while the server was down: it fired at start-up,
    // at its own time (the last heartbeat + 2 s), and a decision task followed.
    let after2 = history(&reader, "w2", &run2).await;
    assert_eq!(
        format!("{:?}", &after2[..before2.len()]),
        format!("{before2:?}")
    );
    let new: Vec<&EventType> = after2[before2.len()..]
        .iter()
        .map(|e| e.event_type())
        .collect();
    assert_eq!(
        new,
        [
            &EventType::ActivityTaskTimedOut,
            &EventType::DecisionTaskScheduled
        ]
    );
    let timed_out = &after2[before2.len()];
    let at = timed_out.event_timestamp().as_secs_f64();
    assert!(
        at >= beat_at - 1.0 + 2.0 && at <= beat_at + 2.0 + 0.5 && at < restarted_at,
        "timed out at {at}, last beat {beat_at}, restart {restarted_at}"
    );
    assert_eq!(
        timed_out
            .activity_task_timed_out_event_attributes()
            .unwrap()
            .timeout_type()
            .as_str(),
        "HEARTBEAT"
    );
    // The stale token of the timed-out task is refused as SWF refuses it.
    let e = w
        .record_activity_task_heartbeat()
        .task_token(&token2)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_unknown_resource_fault(), "{e:?}");
    // The open decision task of w2 is still handed out (to the operator's decider).
    let task = op
        .poll_for_decision_task()
        .domain("orders")
        .task_list(tl("deciders"))
        .send()
        .await
        .unwrap();
    assert_eq!(task.workflow_execution().unwrap().workflow_id(), "w2");
    // Changes after the restart are kept too: kill again, restart, look.
    op.terminate_workflow_execution()
        .domain("orders")
        .workflow_id("w1")
        .send()
        .await
        .unwrap();
    kill_9(second);
    let (third, state) = serve_db(&dir, &db);
    assert!(state.contains("(1 domain, 2 executions,"), "{state}");
    let reader = client(third.addr(), DENIED);
    let h = history(&reader, "w1", &run1).await;
    assert_eq!(
        h.last().unwrap().event_type(),
        &EventType::WorkflowExecutionTerminated
    );
    // The reset endpoint clears the file's state too.
    let reset = reqwest_post(&format!("{}/swf-iam/reset", third.url));
    assert_eq!(reset, 200);
    kill_9(third);
    let (_fourth, state) = serve_db(&dir, &db);
    assert!(state.contains("(0 domains, 0 executions,"), "{state}");
}

/// A bare HTTP POST over loopback: the status code.
fn reqwest_post(url: &str) -> u16 {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_file_that_is_not_a_swf_iam_database_is_refused_and_left_untouched() {
    let dir = std::env::temp_dir().join(format!("swf-iam-durable-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("config.json");
    std::fs::write(&cfg, config_text()).unwrap();
    let bad = dir.join("notes.txt");
    std::fs::write(&bad, "my notes, not a database\n".repeat(100)).unwrap();
    let before = std::fs::read(&bad).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--decision-log",
            "off",
            "--db",
        ])
        .arg(&bad)
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a swf-iam database"), "{err}");
    assert_eq!(std::fs::read(&bad).unwrap(), before);
}
