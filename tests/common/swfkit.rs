//! Helpers for tests that run the embedded emulator behind the gate on loopback and
//! drive it with aws-sdk-swf.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use swf_iam::config::Config;
use swf_iam::emulator::{Clock, Emulator, ManualClock};
use swf_iam::gate::GateLayer;
use tower::Layer;

pub const OPERATOR: (&str, &str) = ("AKIAOPERATOR", "operator-secret");
pub const WORKER: (&str, &str) = ("AKIAWORKER", "worker-secret");
pub const OUTSIDER: (&str, &str) = ("AKIAOUTSIDER", "outsider-secret");
pub const DENIED: (&str, &str) = ("AKIADENIED", "denied-secret");

/// Principals: an operator (domains, types, executions, decisions — but never schedules
/// activity type `forbidden`), a worker (activity tasks on `orders`), an outsider
/// (heartbeats on `billing` only) and a role with an explicit deny of heartbeats.
pub fn config_text() -> String {
    format!(
        r#"{{"account": "123456789012", "region": "us-east-1", "principals": [
  {{"arn": "arn:aws:iam::123456789012:user/operator", "accessKeys": [{{"accessKeyId": "{}", "secretAccessKey": "{}"}}],
   "policies": [{{"Version": "2012-10-17", "Statement": [
     {{"Sid": "Operate", "Effect": "Allow", "NotAction": ["swf:RecordActivityTaskHeartbeat", "swf:PollForActivityTask"], "Resource": "*"}},
     {{"Sid": "NoForbidden", "Effect": "Deny", "Action": "swf:ScheduleActivityTask", "Resource": "*", "Condition": {{"StringEquals": {{"swf:activityType.name": "forbidden"}}}}}}]}}]}},
  {{"arn": "arn:aws:iam::123456789012:role/worker", "accessKeys": [{{"accessKeyId": "{}", "secretAccessKey": "{}"}}],
   "policies": [{{"Version": "2012-10-17", "Statement": [
     {{"Sid": "Work", "Effect": "Allow", "Action": ["swf:PollForActivityTask", "swf:RecordActivityTaskHeartbeat", "swf:RespondActivityTask*"], "Resource": "arn:aws:swf:*:123456789012:/domain/orders"}}]}}]}},
  {{"arn": "arn:aws:iam::123456789012:role/outsider", "accessKeys": [{{"accessKeyId": "{}", "secretAccessKey": "{}"}}],
   "policies": [{{"Version": "2012-10-17", "Statement": [
     {{"Sid": "BillingOnly", "Effect": "Allow", "Action": "swf:RecordActivityTaskHeartbeat", "Resource": "arn:aws:swf:*:123456789012:/domain/billing"}}]}}]}},
  {{"arn": "arn:aws:iam::123456789012:role/denied", "accessKeys": [{{"accessKeyId": "{}", "secretAccessKey": "{}"}}],
   "policies": [{{"Version": "2012-10-17", "Statement": [
     {{"Sid": "All", "Effect": "Allow", "Action": "swf:*", "Resource": "*"}},
     {{"Sid": "NoHeartbeats", "Effect": "Deny", "Action": "swf:RecordActivityTaskHeartbeat", "Resource": "*"}}]}}]}}
]}}"#,
        OPERATOR.0, OPERATOR.1, WORKER.0, WORKER.1, OUTSIDER.0, OUTSIDER.1, DENIED.0, DENIED.1
    )
}

/// [`config_text`] with one more principal: role `role`, access key `key`, and one
/// policy of `statements` (JSON statement objects, comma-separated).
pub fn config_with_role(role: &str, key: (&str, &str), statements: &str) -> String {
    let base = config_text();
    let cut = base.rfind(']').unwrap();
    format!(
        r#"{},
  {{"arn": "arn:aws:iam::123456789012:role/{role}", "accessKeys": [{{"accessKeyId": "{}", "secretAccessKey": "{}"}}],
   "policies": [{{"Version": "2012-10-17", "Statement": [{statements}]}}]}}
]}}"#,
        base[..cut].trim_end(),
        key.0,
        key.1
    )
}

pub fn config() -> Config {
    Config::from_bytes(
        Path::new("/nonexistent/emulator.json"),
        config_text().as_bytes(),
    )
    .unwrap()
}

/// Starts the gated emulator on a free loopback port with a manual clock.
pub async fn start(
    poll_timeout: Duration,
) -> (
    SocketAddr,
    Arc<ManualClock>,
    tokio::sync::oneshot::Sender<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let clock = Arc::new(ManualClock::new(1_795_600_800.0));
    let emu = Emulator::new(
        "aws",
        "us-east-1",
        "123456789012",
        clock.clone() as Arc<dyn Clock>,
        poll_timeout,
    );
    let layer = GateLayer::new(config(), emu.clone());
    let svc = layer.layer(emu.service());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(swf_iam::server::serve(
        listener,
        svc,
        async {
            let _ = rx.await;
        },
        Duration::from_secs(1),
    ));
    (addr, clock, tx)
}

pub fn client(addr: SocketAddr, key: (&str, &str)) -> aws_sdk_swf::Client {
    let creds = aws_credential_types::Credentials::new(key.0, key.1, None, None, "swf-iam-tests");
    let conf = aws_sdk_swf::Config::builder()
        .behavior_version(aws_sdk_swf::config::BehaviorVersion::latest())
        .region(aws_sdk_swf::config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .endpoint_url(format!("http://{addr}"))
        .build();
    aws_sdk_swf::Client::from_conf(conf)
}

/// A task list.
pub fn tl(name: &str) -> aws_sdk_swf::types::TaskList {
    aws_sdk_swf::types::TaskList::builder()
        .name(name)
        .build()
        .unwrap()
}

/// Registers domain `orders`, activity types `hb` and `forbidden` (task list `workers`,
/// the given heartbeat timeout, 600/600/900 s for the others) and workflow type `wf`
/// (task list `deciders`, one hour, decision tasks of `decision_timeout`).
pub async fn setup_orders(op: &aws_sdk_swf::Client, heartbeat: &str, decision_timeout: &str) {
    use aws_sdk_swf::types::ChildPolicy;
    op.register_domain()
        .name("orders")
        .workflow_execution_retention_period_in_days("1")
        .send()
        .await
        .unwrap();
    for name in ["hb", "forbidden"] {
        register_activity_type(op, name, heartbeat).await;
    }
    op.register_workflow_type()
        .domain("orders")
        .name("wf")
        .version("1")
        .default_task_list(tl("deciders"))
        .default_execution_start_to_close_timeout("3600")
        .default_task_start_to_close_timeout(decision_timeout)
        .default_child_policy(ChildPolicy::Terminate)
        .send()
        .await
        .unwrap();
}

/// Registers activity type `name` v1 in `orders` (task list `workers`, the given
/// heartbeat timeout, 600/600/900 s for the others).
pub async fn register_activity_type(op: &aws_sdk_swf::Client, name: &str, heartbeat: &str) {
    op.register_activity_type()
        .domain("orders")
        .name(name)
        .version("1")
        .default_task_list(tl("workers"))
        .default_task_heartbeat_timeout(heartbeat)
        .default_task_start_to_close_timeout("600")
        .default_task_schedule_to_start_timeout("600")
        .default_task_schedule_to_close_timeout("900")
        .send()
        .await
        .unwrap();
}

/// A ScheduleActivityTask decision for activity type `type_name` v1 on task list `workers`.
pub fn schedule(id: &str, type_name: &str) -> aws_sdk_swf::types::Decision {
    aws_sdk_swf::types::Decision::builder()
        .decision_type(aws_sdk_swf::types::DecisionType::ScheduleActivityTask)
        .schedule_activity_task_decision_attributes(
            aws_sdk_swf::types::ScheduleActivityTaskDecisionAttributes::builder()
                .activity_type(
                    aws_sdk_swf::types::ActivityType::builder()
                        .name(type_name)
                        .version("1")
                        .build()
                        .unwrap(),
                )
                .activity_id(id)
                .task_list(tl("workers"))
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

/// Starts workflow `wid` (type `wf`), takes its first decision task (checking its
/// events), and completes it with `decisions`. Returns the run ID.
pub async fn start_and_decide(
    op: &aws_sdk_swf::Client,
    wid: &str,
    decisions: Vec<aws_sdk_swf::types::Decision>,
) -> String {
    let run = op
        .start_workflow_execution()
        .domain("orders")
        .workflow_id(wid)
        .workflow_type(
            aws_sdk_swf::types::WorkflowType::builder()
                .name("wf")
                .version("1")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let task = op
        .poll_for_decision_task()
        .domain("orders")
        .task_list(tl("deciders"))
        .send()
        .await
        .unwrap();
    assert!(!task.task_token().is_empty());
    let types: Vec<&aws_sdk_swf::types::EventType> =
        task.events().iter().map(|e| e.event_type()).collect();
    assert_eq!(
        types,
        [
            &aws_sdk_swf::types::EventType::WorkflowExecutionStarted,
            &aws_sdk_swf::types::EventType::DecisionTaskScheduled,
            &aws_sdk_swf::types::EventType::DecisionTaskStarted
        ]
    );
    op.respond_decision_task_completed()
        .task_token(task.task_token())
        .set_decisions(Some(decisions))
        .send()
        .await
        .unwrap();
    run.run_id().unwrap().to_owned()
}

/// A `swf-iam serve` process; killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
}

impl Server {
    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.url.trim_start_matches("http://").parse().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the `swf-iam serve` binary on a free loopback port with `config` (written to
/// `dir`) and `extra` flags, optionally under a descriptor limit (`ulimit -n`).
pub fn serve_bin(dir: &Path, config: &str, extra: &[&str], nofile: Option<u32>) -> Server {
    let cfg = dir.join("config.json");
    std::fs::write(&cfg, config).unwrap();
    let bin = env!("CARGO_BIN_EXE_swf-iam");
    let mut cmd = match nofile {
        Some(n) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                .arg(bin);
            c
        }
        None => Command::new(bin),
    };
    let mut child = cmd
        .arg("serve")
        .args(if extra.contains(&"--listen") {
            &[][..]
        } else {
            &["--listen", "127.0.0.1:0"][..]
        })
        .args(["--decision-log", "off"])
        .args(extra)
        .arg("--config")
        .arg(&cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    reader.read_line(&mut first).unwrap();
    // Keep draining the banner, as a terminal would.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in the banner: {first}"))
        .to_owned();
    Server { child, url }
}

/// The history of run `run` of `wid` in domain `orders`.
pub async fn history(
    op: &aws_sdk_swf::Client,
    wid: &str,
    run: &str,
) -> Vec<aws_sdk_swf::types::HistoryEvent> {
    op.get_workflow_execution_history()
        .domain("orders")
        .execution(
            aws_sdk_swf::types::WorkflowExecution::builder()
                .workflow_id(wid)
                .run_id(run)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .events()
        .to_vec()
}

/// `swf-iam serve` with `config` (written to `dir`), its decision log at `log`, and
/// `--enforce enforce`: the server and its banner (up to the `enforce:` line).
pub fn serve_logged(dir: &Path, config: &str, log: &Path, enforce: &str) -> (Server, String) {
    let cfg = dir.join("config.json");
    std::fs::write(&cfg, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--poll-timeout",
            "1",
            "--enforce",
            enforce,
        ])
        .arg("--decision-log")
        .arg(log)
        .arg("--config")
        .arg(&cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        banner.push_str(&line);
        if line.starts_with("enforce:") {
            break;
        }
    }
    // Keep draining the banner, as a terminal would.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in the banner: {banner}"))
        .to_owned();
    (Server { child, url }, banner)
}
