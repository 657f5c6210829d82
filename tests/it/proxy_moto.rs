//! `swf-iam proxy` in front of moto's server, driven by aws-sdk-swf: allowed calls get
//! moto's answers, denied ones never reach moto, unseen tokens fail closed, envelopes
//! work across two proxy processes, and a dead upstream is a clear error.

use super::swfkit::*;
use aws_sdk_swf::operation::record_activity_task_heartbeat::RecordActivityTaskHeartbeatError;
use aws_sdk_swf::types::*;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Proc(pub Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn moto() -> (Proc, u16) {
    let bin = std::env::var("SWF_IAM_MOTO_SERVER")
        .unwrap_or_else(|_| format!("{}/.venv/bin/moto_server", env!("CARGO_MANIFEST_DIR")));
    assert!(
        std::path::Path::new(&bin).exists(),
        "moto's server is missing at {bin}: run `scripts/test` (it installs moto[server] into .venv) or set SWF_IAM_MOTO_SERVER"
    );
    let port = free_port();
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let p = Proc(child);
    let t0 = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "moto's server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (p, port)
}

pub fn proxy(dir: &std::path::Path, upstream: u16, extra: &[&str]) -> (Proc, SocketAddr) {
    proxy_with(dir, upstream, &config_text(), extra)
}

/// [`proxy`] with the configuration `config`.
pub fn proxy_with(
    dir: &std::path::Path,
    upstream: u16,
    config: &str,
    extra: &[&str],
) -> (Proc, SocketAddr) {
    let cfg = dir.join("config.json");
    std::fs::write(&cfg, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .args([
            "proxy",
            "--upstream",
            &format!("http://127.0.0.1:{upstream}"),
            "--listen",
            "127.0.0.1:0",
            "--decision-log",
            "off",
            "--config",
        ])
        .arg(&cfg)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = first
        .split_whitespace()
        .find(|w| {
            w.starts_with("http://127.0.0.1")
                && !w.starts_with(&format!("http://127.0.0.1:{upstream}/"))
        })
        .unwrap_or_else(|| panic!("banner: {first}"));
    (
        Proc(child),
        url.trim_start_matches("http://").parse().unwrap(),
    )
}

async fn setup(op: &aws_sdk_swf::Client) {
    setup_orders(op, "2", "60").await;
}

fn one_attempt(c: aws_sdk_swf::Client) -> aws_sdk_swf::Client {
    let conf = c
        .config()
        .to_builder()
        .retry_config(aws_sdk_swf::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_swf::Client::from_conf(conf)
}

#[test]
fn proxy_in_front_of_moto() {
    let dir = std::env::temp_dir().join(format!("swf-iam-proxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_moto, moto_port) = moto();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let moto_addr: SocketAddr = format!("127.0.0.1:{moto_port}").parse().unwrap();

    // A token moto issued before the proxy existed (got straight from moto).
    let early = rt.block_on(async {
        let direct = client(moto_addr, OPERATOR);
        setup(&direct).await;
        start_and_decide(&direct, "early", vec![schedule("e1", "hb")]).await;
        let token = client(moto_addr, WORKER)
            .poll_for_activity_task()
            .domain("orders")
            .task_list(tl("workers"))
            .send()
            .await
            .unwrap()
            .task_token()
            .to_owned();
        // Close it, so that its timeouts schedule no decision task the later polls would take.
        direct
            .terminate_workflow_execution()
            .domain("orders")
            .workflow_id("early")
            .send()
            .await
            .unwrap();
        token
    });

    let (_p, addr) = proxy(&dir, moto_port, &[]);
    rt.block_on(async {
        let op = client(addr, OPERATOR);
        let worker = client(addr, WORKER);
        let outsider = client(addr, OUTSIDER);

        // The early token was never seen by the proxy: refused, not forwarded.
        match worker.record_activity_task_heartbeat().task_token(&early).send().await.unwrap_err().into_service_error() {
            RecordActivityTaskHeartbeatError::OperationNotPermittedFault(f) => assert!(f.message().unwrap().contains("not issued through this proxy")),
            other => panic!("{other:?}"),
        }

        // Decide through the proxy: the denied decision is removed before moto sees it.
        let run = start_and_decide(&op, "w1", vec![schedule("a1", "hb"), schedule("a2", "forbidden")]).await;
        let task = worker.poll_for_activity_task().domain("orders").task_list(tl("workers")).send().await.unwrap();
        assert_eq!(task.workflow_execution().map(|w| w.workflow_id()), Some("w1"));
        assert_eq!(task.activity_id(), "a1");
        let token = task.task_token().to_owned();
        let beat = worker.record_activity_task_heartbeat().task_token(&token).details("ok").send().await.unwrap();
        assert!(!beat.cancel_requested(), "moto's answer");
        // Another principal, allowed only on another domain: denied at the proxy.
        match outsider.record_activity_task_heartbeat().task_token(&token).details("denied").send().await.unwrap_err().into_service_error() {
            RecordActivityTaskHeartbeatError::OperationNotPermittedFault(f) => {
                assert!(f.message().unwrap().contains("is not authorized to perform: swf:RecordActivityTaskHeartbeat on resource: arn:aws:swf:us-east-1:123456789012:/domain/orders"))
            }
            other => panic!("{other:?}"),
        }
        // moto never saw the denied heartbeat: after the 2 s heartbeat timeout, its
        // history keeps the last allowed details.
        tokio::time::sleep(Duration::from_millis(3200)).await;
        let h = op.get_workflow_execution_history().domain("orders")
            .execution(WorkflowExecution::builder().workflow_id("w1").run_id(&run).build().unwrap())
            .send().await.unwrap();
        let ev = h.events();
        let timed_out = ev.iter().find(|e| e.event_type() == &EventType::ActivityTaskTimedOut).expect("a heartbeat timeout");
        let a = timed_out.activity_task_timed_out_event_attributes().unwrap();
        assert_eq!(a.timeout_type(), &ActivityTaskTimeoutType::Heartbeat);
        assert_eq!(a.details(), Some("ok"));
        let scheduled: Vec<String> = ev.iter()
            .filter_map(|e| e.activity_task_scheduled_event_attributes())
            .map(|a| a.activity_id().to_owned())
            .collect();
        assert_eq!(scheduled, ["a1"], "the denied decision never reached moto");
        // Close w1: its timed-out activity left a decision task the next scenario must not take.
        op.terminate_workflow_execution().domain("orders").workflow_id("w1").send().await.unwrap();
    });

    // Envelope mode across two proxy processes sharing a key.
    let key = dir.join("envelope.key");
    std::fs::write(&key, "0123456789abcdef-shared-envelope-key").unwrap();
    let k = key.to_str().unwrap();
    let (_a, addr_a) = proxy(&dir, moto_port, &["--envelope-key-file", k]);
    let (_b, addr_b) = proxy(&dir, moto_port, &["--envelope-key-file", k]);
    rt.block_on(async {
        let op = client(addr_a, OPERATOR);
        start_and_decide(&op, "w2", vec![schedule("b1", "hb")]).await;
        let task = client(addr_a, WORKER)
            .poll_for_activity_task()
            .domain("orders")
            .task_list(tl("workers"))
            .send()
            .await
            .unwrap();
        let envelope = task.task_token().to_owned();
        assert!(envelope.starts_with("swfiam2."), "{envelope}");
        let beat = client(addr_b, WORKER)
            .record_activity_task_heartbeat()
            .task_token(&envelope)
            .send()
            .await
            .unwrap();
        assert!(!beat.cancel_requested());
        let mut tampered = envelope.clone();
        tampered.pop();
        tampered.push(if envelope.ends_with('A') { 'B' } else { 'A' });
        match client(addr_b, WORKER)
            .record_activity_task_heartbeat()
            .task_token(&tampered)
            .send()
            .await
            .unwrap_err()
            .into_service_error()
        {
            RecordActivityTaskHeartbeatError::OperationNotPermittedFault(_) => {}
            other => panic!("{other:?}"),
        }
    });

    // A dead upstream: a clear, SWF-shaped error, quickly.
    let dead = free_port();
    let (_d, addr_d) = proxy(&dir, dead, &["--upstream-timeout", "2"]);
    rt.block_on(async {
        let t0 = std::time::Instant::now();
        let err = one_attempt(client(addr_d, OPERATOR))
            .list_domains()
            .registration_status(RegistrationStatus::Registered)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            aws_sdk_swf::error::ProvideErrorMetadata::code(&err),
            Some("ServiceUnavailableException")
        );
        assert!(t0.elapsed() < Duration::from_secs(5));
    });
}

/// `POST /moto-api/reset` on the proxy resets moto behind it and clears the token book:
/// a suite written for moto's server mode runs unchanged through the proxy.
#[test]
fn reset_through_the_proxy_resets_moto_and_forgets_tokens() {
    let dir = std::env::temp_dir().join(format!("swf-iam-proxy-reset-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_moto, moto_port) = moto();
    let (_proxy, addr) = proxy(&dir, moto_port, &[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let op = client(addr, OPERATOR);
        setup_orders(&op, "300", "60").await;
        start_and_decide(&op, "before-reset", vec![schedule("a", "hb")]).await;
        let task = client(addr, WORKER)
            .poll_for_activity_task()
            .domain("orders")
            .task_list(tl("workers"))
            .send()
            .await
            .unwrap();
        let token = task.task_token().to_owned();
        assert!(!token.is_empty());
        let answer = tokio::task::spawn_blocking(move || {
            super::hostile::post_reset(addr, "/moto-api/reset", "POST")
        })
        .await
        .unwrap();
        assert_eq!(answer, (200, r#"{"status": "ok"}"#.to_owned()));
        let listed = op
            .list_domains()
            .registration_status(aws_sdk_swf::types::RegistrationStatus::Registered)
            .send()
            .await
            .unwrap();
        assert!(listed.domain_infos().is_empty(), "moto was reset");
        let err = client(addr, WORKER)
            .record_activity_task_heartbeat()
            .task_token(&token)
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(
                err.into_service_error(),
                aws_sdk_swf::operation::record_activity_task_heartbeat::RecordActivityTaskHeartbeatError::OperationNotPermittedFault(_)
            ),
            "the token book was cleared"
        );
    });
}
