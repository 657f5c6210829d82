//! Role sessions as AWS issues them, end to end over loopback: STS on `serve`'s endpoint
//! (`AssumeRole`, `GetSessionToken`, `GetCallerIdentity`) with the aws CLI v2, aws-config's
//! assume-role provider driving aws-sdk-swf, boto3 with a `role_arn` profile and
//! `AWS_ENDPOINT_URL_STS`, and simpleflow on assumed-role credentials; the gate evaluates
//! each call as the session (session policies intersected, session tags over role tags).
//! Expiry is tested in-process with a clock the test moves.

use super::aws_cli::aws_cli;
use super::swfkit::{client, schedule, serve_bin, setup_orders, start_and_decide, tl, Server};
use serde_json::Value;
use std::process::Command;

const OPERATOR: (&str, &str) = ("AKIAOPERATOR", "operator-secret");
const DEV: (&str, &str) = ("AKIADEV", "dev-secret");
const PARTNER: (&str, &str) = ("AKIAPARTNER", "partner-secret");
const WORKER_ROLE: &str = "arn:aws:iam::123456789012:role/worker";
const TEAM_ROLE: &str = "arn:aws:iam::123456789012:role/team-worker";
const SF_ROLE: &str = "arn:aws:iam::123456789012:role/sf";
const MFA: (&str, &str) = ("AKIAMFAUSER", "mfa-user-secret");
const MFA_USER: &str = "arn:aws:iam::123456789012:user/mfa-user";
const MFA_SERIAL: &str = "arn:aws:iam::123456789012:mfa/mfa-user";
const MFA_SEED: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const GUARDED_ROLE: &str = "arn:aws:iam::123456789012:role/guarded";

/// An operator (may assume any role its account trusts), a developer `dev` whom the
/// roles trust by name, a partner in another account whom `worker` trusts with an
/// external ID, and three roles: `worker` (activity tasks on `orders`), `team-worker`
/// (activity tasks on the domain named by its `team` tag; tagged `billing`) and `sf`
/// (everything on `orders`, for simpleflow).
pub fn config() -> String {
    let work = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "Work", "Effect": "Allow", "Action": ["swf:PollForActivityTask", "swf:RecordActivityTaskHeartbeat", "swf:RespondActivityTask*"], "Resource": "arn:aws:swf:*:123456789012:/domain/orders"}]}"#;
    let team = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "TeamDomain", "Effect": "Allow", "Action": ["swf:PollForActivityTask", "swf:RecordActivityTaskHeartbeat"], "Resource": "arn:aws:swf:*:123456789012:/domain/${aws:PrincipalTag/team}"}]}"#;
    let trust_dev = r#"{"Sid": "Dev", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/dev"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}"#;
    format!(
        r#"{{"account": "123456789012", "region": "us-east-1", "principals": [
  {{"arn": "arn:aws:iam::123456789012:user/operator", "accessKeys": [{{"accessKeyId": "{}", "secretAccessKey": "{}"}}],
   "policies": [{{"Version": "2012-10-17", "Statement": [{{"Sid": "Operate", "Effect": "Allow", "Action": ["swf:*", "sts:AssumeRole"], "Resource": "*"}}]}}]}},
  {{"arn": "arn:aws:iam::123456789012:user/dev", "accessKeys": [{{"accessKeyId": "{}", "secretAccessKey": "{}"}}]}},
  {{"arn": "arn:aws:iam::999999999999:user/partner", "accessKeys": [{{"accessKeyId": "{}", "secretAccessKey": "{}"}}],
   "policies": [{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}}]}}]}},
  {{"arn": "{WORKER_ROLE}", "policies": [{work}],
   "trustPolicy": {{"Version": "2012-10-17", "Statement": [{trust_dev},
     {{"Sid": "Partner", "Effect": "Allow", "Principal": {{"AWS": "999999999999"}}, "Action": "sts:AssumeRole", "Condition": {{"StringEquals": {{"sts:ExternalId": "ext-42"}}}}}}]}}}},
  {{"arn": "{TEAM_ROLE}", "tags": {{"team": "billing"}}, "policies": [{team}],
   "trustPolicy": {{"Version": "2012-10-17", "Statement": [{trust_dev}]}}}},
  {{"arn": "{MFA_USER}", "accessKeys": [{{"accessKeyId": "{}", "secretAccessKey": "{}"}}],
   "mfaDevices": [{{"serialNumber": "{MFA_SERIAL}", "seed": "{MFA_SEED}"}}]}},
  {{"arn": "{GUARDED_ROLE}",
   "trustPolicy": {{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "{MFA_USER}"}}, "Action": "sts:AssumeRole",
     "Condition": {{"Bool": {{"aws:MultiFactorAuthPresent": "true"}}, "NumericLessThan": {{"aws:MultiFactorAuthAge": "3600"}}}}}}]}}}},
  {{"arn": "{SF_ROLE}", "maxSessionDuration": 7200,
   "policies": [{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/orders"}}]}}],
   "trustPolicy": {{"Version": "2012-10-17", "Statement": [{trust_dev}]}}}}
]}}"#,
        OPERATOR.0, OPERATOR.1, DEV.0, DEV.1, PARTNER.0, PARTNER.1, MFA.0, MFA.1
    )
}

/// Temporary (or long-term) credentials.
#[derive(Debug, Clone)]
struct Creds {
    key: String,
    secret: String,
    token: Option<String>,
}

impl From<(&str, &str)> for Creds {
    fn from(k: (&str, &str)) -> Self {
        Creds {
            key: k.0.into(),
            secret: k.1.into(),
            token: None,
        }
    }
}

/// Runs the aws CLI v2 with `creds` against `url`: the parsed JSON output, or the
/// error text.
fn aws(url: &str, creds: &Creds, args: &[&str]) -> Result<Value, String> {
    let home = std::env::temp_dir().join(format!("swf-iam-roles-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = Command::new(aws_cli());
    cmd.args(args)
        .args(["--endpoint-url", url, "--output", "json"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_ACCESS_KEY_ID", &creds.key)
        .env("AWS_SECRET_ACCESS_KEY", &creds.secret)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PAGER", "");
    if let Some(t) = &creds.token {
        cmd.env("AWS_SESSION_TOKEN", t);
    }
    let out = cmd.output().unwrap();
    if out.status.success() {
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        })
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

fn assume(url: &str, caller: &Creds, role: &str, extra: &[&str]) -> Result<Value, String> {
    let mut args = vec![
        "sts",
        "assume-role",
        "--role-arn",
        role,
        "--role-session-name",
        "s1",
    ];
    args.extend_from_slice(extra);
    aws(url, caller, &args)
}

fn session(v: &Value) -> Creds {
    let c = &v["Credentials"];
    Creds {
        key: c["AccessKeyId"].as_str().unwrap().into(),
        secret: c["SecretAccessKey"].as_str().unwrap().into(),
        token: Some(c["SessionToken"].as_str().unwrap().into()),
    }
}

fn start(tag: &str) -> Server {
    let dir = std::env::temp_dir().join(format!("swf-iam-roles-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    serve_bin(&dir, &config(), &["--poll-timeout", "2"], None)
}

/// Registers `orders` (and `billing`) and schedules `n` activity tasks of type `hb` on
/// task list `workers`.
async fn tasks_waiting(url_addr: std::net::SocketAddr, wid: &str, n: usize) {
    let op = client(url_addr, OPERATOR);
    if op.describe_domain().name("orders").send().await.is_err() {
        setup_orders(&op, "300", "60").await;
    }
    let decisions = (0..n).map(|i| schedule(&format!("a{i}"), "hb")).collect();
    start_and_decide(&op, wid, decisions).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_cli_assumes_roles_as_aws_decides() {
    let server = start("cli");
    let url = server.url.clone();
    tasks_waiting(server.addr(), "cli", 2).await;
    let dev = Creds::from(DEV);

    // Who am I, before and after.
    let me = aws(&url, &dev, &["sts", "get-caller-identity"]).unwrap();
    assert_eq!(me["Arn"], "arn:aws:iam::123456789012:user/dev");
    let v = assume(&url, &dev, WORKER_ROLE, &[]).unwrap();
    assert_eq!(
        v["AssumedRoleUser"]["Arn"],
        "arn:aws:sts::123456789012:assumed-role/worker/s1"
    );
    let w = session(&v);
    assert!(w.key.starts_with("ASIA") && w.key.len() == 20, "{}", w.key);
    let me = aws(&url, &w, &["sts", "get-caller-identity"]).unwrap();
    assert_eq!(
        me["Arn"],
        "arn:aws:sts::123456789012:assumed-role/worker/s1"
    );
    assert!(me["UserId"].as_str().unwrap().ends_with(":s1"));

    // The worker polls and heartbeats as its session.
    let task = aws(
        &url,
        &w,
        &[
            "swf",
            "poll-for-activity-task",
            "--domain",
            "orders",
            "--task-list",
            "name=workers",
        ],
    )
    .unwrap();
    let token = task["taskToken"].as_str().unwrap().to_owned();
    let hb = aws(
        &url,
        &w,
        &[
            "swf",
            "record-activity-task-heartbeat",
            "--task-token",
            &token,
        ],
    )
    .unwrap();
    assert_eq!(hb["cancelRequested"], false);

    // A session policy narrower than the role denies the heartbeat.
    let narrow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"swf:PollForActivityTask","Resource":"*"}]}"#;
    let n = session(&assume(&url, &dev, WORKER_ROLE, &["--policy", narrow]).unwrap());
    let e = aws(
        &url,
        &n,
        &[
            "swf",
            "record-activity-task-heartbeat",
            "--task-token",
            &token,
        ],
    )
    .unwrap_err();
    assert!(
        e.contains("(OperationNotPermittedFault)")
            && e.contains("User: arn:aws:sts::123456789012:assumed-role/worker/s1 is not authorized to perform: swf:RecordActivityTaskHeartbeat")
            && e.contains("because no session policy allows the swf:RecordActivityTaskHeartbeat action"),
        "{e}"
    );

    // An untrusted caller: its own policy allows, the trust policy does not name it.
    let e = assume(&url, &Creds::from(OPERATOR), WORKER_ROLE, &[]).unwrap_err();
    assert!(
        e.contains("(AccessDenied)")
            && e.contains("User: arn:aws:iam::123456789012:user/operator is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/worker"),
        "{e}"
    );
    // Cross-account: the external ID must match.
    let partner = Creds::from(PARTNER);
    for extra in [&[][..], &["--external-id", "ext-41"][..]] {
        let e = assume(&url, &partner, WORKER_ROLE, extra).unwrap_err();
        assert!(e.contains("(AccessDenied)"), "{extra:?}: {e}");
    }
    let p = assume(&url, &partner, WORKER_ROLE, &["--external-id", "ext-42"]).unwrap();
    assert_eq!(
        p["AssumedRoleUser"]["Arn"],
        "arn:aws:sts::123456789012:assumed-role/worker/s1"
    );
    // Durations: past the role's maximum (3,600 by default), and below 900.
    let e = assume(&url, &dev, WORKER_ROLE, &["--duration-seconds", "7200"]).unwrap_err();
    assert!(
        e.contains("(ValidationError)")
            && e.contains(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            ),
        "{e}"
    );
    // `sf` allows 2 hours.
    assume(&url, &dev, SF_ROLE, &["--duration-seconds", "7200"]).unwrap();
    // Role chaining: at most one hour.
    let chained = session(&assume(&url, &dev, SF_ROLE, &[]).unwrap());
    let e = assume(&url, &chained, WORKER_ROLE, &[]).unwrap_err();
    assert!(
        e.contains("(AccessDenied)"),
        "the worker role does not trust sf: {e}"
    );
    // A malformed session policy.
    let e = assume(&url, &dev, WORKER_ROLE, &["--policy", r#"{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"*","Resource":"*"}}"#]).unwrap_err();
    assert!(e.contains("(MalformedPolicyDocument)"), "{e}");
    // Session names are checked as STS checks them.
    let e = aws(
        &url,
        &dev,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            WORKER_ROLE,
            "--role-session-name",
            "bad name",
        ],
    )
    .unwrap_err();
    assert!(
        e.contains("(ValidationError)") && e.contains("roleSessionName"),
        "{e}"
    );
    // A token that is not the one issued.
    let forged = Creds {
        token: Some("swfiam/forged".into()),
        ..w.clone()
    };
    let e = aws(&url, &forged, &["sts", "get-caller-identity"]).unwrap_err();
    assert!(e.contains("(InvalidClientTokenId)"), "{e}");
    let e = aws(
        &url,
        &Creds {
            token: None,
            ..w.clone()
        },
        &[
            "swf",
            "record-activity-task-heartbeat",
            "--task-token",
            &token,
        ],
    )
    .unwrap_err();
    assert!(e.contains("(UnrecognizedClientException)"), "{e}");
    // A reset forgets the sessions issued.
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(server.addr()).unwrap();
    conn.write_all(b"POST /moto-api/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let e = aws(&url, &w, &["sts", "get-caller-identity"]).unwrap_err();
    assert!(e.contains("(InvalidClientTokenId)"), "after a reset: {e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_tags_decide_conditions() {
    let server = start("tags");
    let url = server.url.clone();
    tasks_waiting(server.addr(), "tags", 1).await;
    let dev = Creds::from(DEV);
    // The role's own tag says billing: no tasks on orders.
    let billing = session(&assume(&url, &dev, TEAM_ROLE, &[]).unwrap());
    let e = aws(
        &url,
        &billing,
        &[
            "swf",
            "poll-for-activity-task",
            "--domain",
            "orders",
            "--task-list",
            "name=workers",
        ],
    )
    .unwrap_err();
    assert!(e.contains("(OperationNotPermittedFault)"), "{e}");
    // A session tag overrides it.
    let v = assume(&url, &dev, TEAM_ROLE, &["--tags", "Key=team,Value=orders"]).unwrap();
    assert!(v["PackedPolicySize"].as_i64().unwrap() > 0);
    let orders = session(&v);
    let task = aws(
        &url,
        &orders,
        &[
            "swf",
            "poll-for-activity-task",
            "--domain",
            "orders",
            "--task-list",
            "name=workers",
        ],
    )
    .unwrap();
    let token = task["taskToken"].as_str().unwrap();
    aws(
        &url,
        &orders,
        &[
            "swf",
            "record-activity-task-heartbeat",
            "--task-token",
            token,
        ],
    )
    .unwrap();
    // Tags need sts:TagSession from both sides: the partner's trust statement lacks it.
    let e = assume(
        &url,
        &Creds::from(PARTNER),
        WORKER_ROLE,
        &["--external-id", "ext-42", "--tags", "Key=team,Value=orders"],
    )
    .unwrap_err();
    assert!(e.contains("sts:TagSession"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_swf_runs_on_aws_configs_assume_role_provider() {
    use aws_config::sts::AssumeRoleProvider;
    use aws_credential_types::provider::SharedCredentialsProvider;
    let server = start("sdk");
    tasks_waiting(server.addr(), "sdk", 1).await;
    let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&server.url)
        .credentials_provider(SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new(DEV.0, DEV.1, None, None, "dev"),
        ))
        .load()
        .await;
    let worker = |provider: AssumeRoleProvider| {
        let conf = aws_sdk_swf::Config::builder()
            .behavior_version(aws_sdk_swf::config::BehaviorVersion::latest())
            .region(aws_sdk_swf::config::Region::new("us-east-1"))
            .credentials_provider(provider)
            .endpoint_url(&server.url)
            .build();
        aws_sdk_swf::Client::from_conf(conf)
    };
    let full = worker(
        AssumeRoleProvider::builder(WORKER_ROLE)
            .session_name("sdk-worker")
            .configure(&base)
            .build()
            .await,
    );
    let task = full
        .poll_for_activity_task()
        .domain("orders")
        .task_list(tl("workers"))
        .send()
        .await
        .unwrap();
    let token = task.task_token().to_owned();
    let hb = full
        .record_activity_task_heartbeat()
        .task_token(&token)
        .send()
        .await
        .unwrap();
    assert!(!hb.cancel_requested());
    let narrow = worker(
        AssumeRoleProvider::builder(WORKER_ROLE)
            .session_name("sdk-narrow")
            .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"swf:PollForActivityTask","Resource":"*"}]}"#)
            .configure(&base)
            .build()
            .await,
    );
    let e = narrow
        .record_activity_task_heartbeat()
        .task_token(&token)
        .send()
        .await
        .unwrap_err();
    let e = e.into_service_error();
    assert!(e.is_operation_not_permitted_fault(), "{e:?}");
    assert!(
        e.to_string().contains("assumed-role/worker/sdk-narrow"),
        "{e}"
    );
}

fn python() -> String {
    let moto = std::env::var("SWF_IAM_MOTO_SERVER")
        .unwrap_or_else(|_| format!("{}/.venv/bin/moto_server", env!("CARGO_MANIFEST_DIR")));
    let py = std::path::Path::new(&moto).with_file_name("python3");
    assert!(py.exists(), "no python3 beside {moto}: run `scripts/test`");
    py.display().to_string()
}

/// A HOME whose `~/.aws` has `dev`'s keys and a profile `role` that assumes `role_arn`
/// from them (as `aws configure` writes it).
fn profile_home(tag: &str, role_arn: &str) -> std::path::PathBuf {
    let home = std::env::temp_dir().join(format!("swf-iam-profile-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/credentials"),
        format!(
            "[dev]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            DEV.0, DEV.1
        ),
    )
    .unwrap();
    std::fs::write(
        home.join(".aws/config"),
        format!("[profile dev]\nregion = us-east-1\n\n[profile role]\nregion = us-east-1\nrole_arn = {role_arn}\nsource_profile = dev\nrole_session_name = from-profile\n"),
    )
    .unwrap();
    home
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_role_profile_with_aws_endpoint_url_sts() {
    let server = start("boto3");
    tasks_waiting(server.addr(), "boto3", 1).await;
    let home = profile_home("boto3", WORKER_ROLE);
    let script = r#"
import boto3
s = boto3.Session(profile_name="role")
print(s.client("sts").get_caller_identity()["Arn"])
swf = s.client("swf")
t = swf.poll_for_activity_task(domain="orders", taskList={"name": "workers"})
print(swf.record_activity_task_heartbeat(taskToken=t["taskToken"])["cancelRequested"])
"#;
    let out = Command::new(python())
        .args(["-c", script])
        .env_clear()
        .env("HOME", &home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL_STS", &server.url)
        .env("AWS_ENDPOINT_URL_SWF", &server.url)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "arn:aws:sts::123456789012:assumed-role/worker/from-profile\nFalse\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simpleflow_runs_a_workflow_on_assumed_role_credentials() {
    let dir = std::env::temp_dir().join(format!("swf-iam-roles-sf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = serve_bin(
        &dir,
        &config(),
        &["--poll-timeout", "2", "--no-keep-alive"],
        None,
    );
    let op = client(server.addr(), OPERATOR);
    op.register_domain()
        .name("orders")
        .workflow_execution_retention_period_in_days("1")
        .send()
        .await
        .unwrap();
    let home = profile_home("sf", SF_ROLE);
    let simpleflow = std::env::var("SWF_IAM_SIMPLEFLOW")
        .unwrap_or_else(|_| format!("{}/.venv/bin/simpleflow", env!("CARGO_MANIFEST_DIR")));
    let out = Command::new("timeout")
        .arg("120")
        .arg(&simpleflow)
        .args([
            "standalone",
            "--domain",
            "orders",
            "--workflow-id",
            "sf-role",
            "--input",
            r#"{"args": [3]}"#,
        ])
        .arg("simpleflow_flows.Basic")
        .env_clear()
        .env("HOME", &home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "PYTHONPATH",
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients"),
        )
        .env("AWS_PROFILE", "role")
        .env("AWS_ENDPOINT_URL_STS", &server.url)
        .env("AWS_ENDPOINT_URL_SWF", &server.url)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let closed = op
        .list_closed_workflow_executions()
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
    let runs = closed.execution_infos();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0].close_status(),
        Some(&aws_sdk_swf::types::CloseStatus::Completed)
    );
}

/// Expiry, with a clock the test moves: a gate and STS in-process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_are_refused_with_awss_errors() {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;
    use swf_iam::emulator::{Clock, Emulator, ManualClock};
    use swf_iam::gate::{GateLayer, GateOptions};
    use tower::Layer;
    let now = swf_iam::values::now_epoch();
    // Issue 850 s in the past (inside SigV4's 15 minutes), for 900 s: the session ends
    // 50 s from now.
    let clock = Arc::new(AtomicI64::new(now - 850));
    let c2 = clock.clone();
    let config = swf_iam::config::Config::from_bytes(
        std::path::Path::new("/nonexistent/roles.json"),
        config().as_bytes(),
    )
    .unwrap();
    let emu = Emulator::new(
        "aws",
        "us-east-1",
        "123456789012",
        Arc::new(ManualClock::new(now as f64)) as Arc<dyn Clock>,
        std::time::Duration::from_secs(1),
    );
    let layer = GateLayer::with_options(
        config,
        emu.clone(),
        GateOptions {
            clock: Arc::new(move || c2.load(Ordering::SeqCst)),
            ..GateOptions::default()
        },
    );
    let svc = swf_iam::sts::StsLayer::new(layer.handle()).layer(layer.layer(emu.service()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(swf_iam::server::serve(
        listener,
        svc,
        std::future::pending(),
        std::time::Duration::from_secs(1),
    ));
    let url = format!("http://{addr}");
    let dev = Creds::from(DEV);
    let url2 = url.clone();
    let s = tokio::task::spawn_blocking(move || {
        session(&assume(&url2, &dev, WORKER_ROLE, &["--duration-seconds", "900"]).unwrap())
    })
    .await
    .unwrap();
    clock.store(now, Ordering::SeqCst);
    let s2 = s.clone();
    let url2 = url.clone();
    tokio::task::spawn_blocking(move || {
        aws(&url2, &s2, &["sts", "get-caller-identity"]).unwrap();
    })
    .await
    .unwrap();
    clock.store(now + 60, Ordering::SeqCst);
    let (sts_err, swf_err) = tokio::task::spawn_blocking(move || {
        (
            aws(&url, &s, &["sts", "get-caller-identity"]).unwrap_err(),
            aws(
                &url,
                &s,
                &["swf", "list-domains", "--registration-status", "REGISTERED"],
            )
            .unwrap_err(),
        )
    })
    .await
    .unwrap();
    assert!(
        sts_err.contains("(ExpiredToken)")
            && sts_err.contains("The security token included in the request is expired"),
        "{sts_err}"
    );
    assert!(swf_err.contains("(ExpiredTokenException)"), "{swf_err}");
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_swf-iam"))
}

fn write_config(tag: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("swf-iam-chains-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("config.json");
    std::fs::write(&p, text).unwrap();
    p
}

/// Replays a witness with `check --requests -`: its decision.
fn replay(config: &std::path::Path, witness: &Value) -> String {
    use std::io::Write;
    let mut child = bin()
        .args(["check", "--format", "json", "--config"])
        .arg(config)
        .args(["--requests", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{witness}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let line = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    v["decision"].as_str().unwrap().to_owned()
}

#[test]
fn who_can_and_access_follow_role_assumption() {
    let cfg = write_config("who", &config());
    let out = bin()
        .args([
            "who-can", "--format", "json", "--domain", "orders", "--config",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let direct: Vec<&str> = v["principals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["access"] != "never")
        .map(|p| p["principal"].as_str().unwrap())
        .collect();
    assert_eq!(
        direct,
        [
            "arn:aws:iam::123456789012:role/sf",
            WORKER_ROLE,
            "arn:aws:iam::123456789012:user/operator"
        ]
    );
    let through = v["throughRoles"].as_array().unwrap();
    let chain =
        |who: &str| -> Vec<&Value> { through.iter().filter(|c| c["principal"] == who).collect() };
    // The developer reaches both roles that may heartbeat, one hop each.
    let dev = chain("arn:aws:iam::123456789012:user/dev");
    let roles: Vec<&str> = dev
        .iter()
        .map(|c| c["hops"][0]["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, [SF_ROLE, WORKER_ROLE]);
    assert!(dev.iter().all(|c| c["hops"][0]["access"] == "always"));
    // The partner only with the external ID, and the witness says so and replays.
    let partner = chain("arn:aws:iam::999999999999:user/partner");
    assert_eq!(partner.len(), 1);
    let hop = &partner[0]["hops"][0];
    assert_eq!(hop["role"], WORKER_ROLE);
    assert_eq!(hop["access"], "conditional");
    assert_eq!(hop["witness"]["context"]["sts:ExternalId"], "ext-42");
    assert_eq!(replay(&cfg, &hop["witness"]), "allowed");
    let mut other = hop["witness"].clone();
    other["context"]["sts:ExternalId"] = "ext-41".into();
    assert_eq!(replay(&cfg, &other), "implicitDeny");
    assert_eq!(v["complete"], true);

    // `access` lists the roles a principal may assume.
    let out = bin()
        .args([
            "access",
            "--principal",
            "arn:aws:iam::999999999999:user/partner",
            "--action",
            "swf:RecordActivityTaskHeartbeat",
            "--config",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "  may assume {WORKER_ROLE}: for some requests\n      e.g. "
        )),
        "{text}"
    );
}

#[test]
fn role_chains_are_bounded_and_cycles_end() {
    // u -> r1 -> r2 -> ... -> r7; r1 also trusts r3 (a cycle); only r7 may heartbeat.
    let mut principals = vec![r#"{"arn": "arn:aws:iam::123456789012:user/u"}"#.to_owned()];
    for i in 1..=7 {
        let from = if i == 1 {
            r#"["arn:aws:iam::123456789012:user/u", "arn:aws:iam::123456789012:role/r3"]"#
                .to_owned()
        } else {
            format!(r#""arn:aws:iam::123456789012:role/r{}""#, i - 1)
        };
        let policy = if i == 7 {
            r#", "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:RecordActivityTaskHeartbeat", "Resource": "*"}]}]"#
        } else {
            ""
        };
        principals.push(format!(
            r#"{{"arn": "arn:aws:iam::123456789012:role/r{i}"{policy}, "trustPolicy": {{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"AWS": {from}}}, "Action": "sts:AssumeRole"}}]}}}}"#
        ));
    }
    let cfg = write_config(
        "bound",
        &format!(r#"{{"principals": [{}]}}"#, principals.join(",\n")),
    );
    let out = bin()
        .args([
            "who-can", "--format", "json", "--domain", "orders", "--config",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let through = v["throughRoles"].as_array().unwrap();
    let reached: Vec<(&str, usize)> = through
        .iter()
        .map(|c| {
            (
                c["principal"].as_str().unwrap(),
                c["hops"].as_array().unwrap().len(),
            )
        })
        .collect();
    // r2..r6 reach r7 within five hops; r1 (6 hops) and u (7) do not.
    assert_eq!(
        reached,
        [
            ("arn:aws:iam::123456789012:role/r2", 5),
            ("arn:aws:iam::123456789012:role/r3", 4),
            ("arn:aws:iam::123456789012:role/r4", 3),
            ("arn:aws:iam::123456789012:role/r5", 2),
            ("arn:aws:iam::123456789012:role/r6", 1),
        ]
    );
    let cut = v["chainsIncomplete"].as_array().unwrap();
    assert!(
        cut.iter().any(|c| c.as_str().unwrap().contains("user/u")
            && c.as_str().unwrap().contains("longer than 5 hops")),
        "{cut:?}"
    );
    assert_eq!(v["complete"], false);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn proxy_answers_sts_and_gates_sessions_in_front_of_moto() {
    use super::proxy_moto::{moto, proxy_with};
    let (_moto, port) = moto();
    let dir = std::env::temp_dir().join(format!("swf-iam-roles-proxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_proxy, addr) = proxy_with(&dir, port, &config(), &[]);
    let url = format!("http://{addr}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let op = client(addr, OPERATOR);
        setup_orders(&op, "300", "60").await;
        start_and_decide(&op, "proxied", vec![schedule("a0", "hb")]).await;
    });
    let dev = Creds::from(DEV);
    let w = session(&assume(&url, &dev, WORKER_ROLE, &[]).unwrap());
    let task = aws(
        &url,
        &w,
        &[
            "swf",
            "poll-for-activity-task",
            "--domain",
            "orders",
            "--task-list",
            "name=workers",
        ],
    )
    .unwrap();
    let token = task["taskToken"].as_str().unwrap();
    let hb = aws(
        &url,
        &w,
        &[
            "swf",
            "record-activity-task-heartbeat",
            "--task-token",
            token,
        ],
    )
    .unwrap();
    assert_eq!(hb["cancelRequested"], false);
    // A narrower session is stopped at the proxy: moto never sees the heartbeat.
    let narrow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"swf:PollForActivityTask","Resource":"*"}]}"#;
    let n = session(&assume(&url, &dev, WORKER_ROLE, &["--policy", narrow]).unwrap());
    let e = aws(
        &url,
        &n,
        &[
            "swf",
            "record-activity-task-heartbeat",
            "--task-token",
            token,
        ],
    )
    .unwrap_err();
    assert!(
        e.contains("(OperationNotPermittedFault)") && e.contains("session policy"),
        "{e}"
    );
}

/// The current code of the test's virtual MFA device, computed by Python's standard
/// library (an implementation independent of swf-iam's).
fn totp_now() -> String {
    let script = "import base64,hashlib,hmac,struct,sys,time\nk=base64.b32decode(sys.argv[1])\nh=hmac.new(k,struct.pack('>Q',int(time.time())//30),hashlib.sha1).digest()\no=h[19]&15\nprint('%06d'%((struct.unpack('>I',h[o:o+4])[0]&0x7fffffff)%1000000))";
    let out = Command::new("python3")
        .args(["-c", script, MFA_SEED])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn mfa_sessions_satisfy_trust_conditions() {
    let server = start("mfa");
    let url = server.url.clone();
    let user = Creds::from(MFA);
    // Without MFA, the guarded role refuses.
    let e = assume(&url, &user, GUARDED_ROLE, &[]).unwrap_err();
    assert!(e.contains("(AccessDenied)"), "{e}");
    let plain = session(&aws(&url, &user, &["sts", "get-session-token"]).unwrap());
    let e = assume(&url, &plain, GUARDED_ROLE, &[]).unwrap_err();
    assert!(e.contains("(AccessDenied)"), "a session without MFA: {e}");
    // A wrong code, and an unknown device.
    let e = aws(
        &url,
        &user,
        &[
            "sts",
            "get-session-token",
            "--serial-number",
            MFA_SERIAL,
            "--token-code",
            "000000",
        ],
    );
    if let Err(e) = &e {
        assert!(
            e.contains("(AccessDenied)") && e.contains("MultiFactorAuthentication failed"),
            "{e}"
        );
    }
    let e = aws(
        &url,
        &user,
        &[
            "sts",
            "get-session-token",
            "--serial-number",
            "arn:aws:iam::123456789012:mfa/other",
            "--token-code",
            &totp_now(),
        ],
    )
    .unwrap_err();
    assert!(e.contains("MultiFactorAuthentication failed"), "{e}");
    // GetSessionToken with MFA: the session satisfies the condition.
    let v = aws(
        &url,
        &user,
        &[
            "sts",
            "get-session-token",
            "--serial-number",
            MFA_SERIAL,
            "--token-code",
            &totp_now(),
        ],
    )
    .unwrap();
    let with_mfa = session(&v);
    let me = aws(&url, &with_mfa, &["sts", "get-caller-identity"]).unwrap();
    assert_eq!(me["Arn"], MFA_USER);
    let g = assume(&url, &with_mfa, GUARDED_ROLE, &[]).unwrap();
    assert_eq!(
        g["AssumedRoleUser"]["Arn"],
        "arn:aws:sts::123456789012:assumed-role/guarded/s1"
    );
    // AssumeRole with the code itself.
    assume(
        &url,
        &user,
        GUARDED_ROLE,
        &["--serial-number", MFA_SERIAL, "--token-code", &totp_now()],
    )
    .unwrap();
}

#[test]
fn sessions_follow_reloads_and_a_removed_role_leaves_them_powerless() {
    let dir = std::env::temp_dir().join(format!("swf-iam-roles-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = serve_bin(&dir, &config(), &["--poll-timeout", "2"], None);
    let url = server.url.clone();
    aws(
        &url,
        &Creds::from(OPERATOR),
        &[
            "swf",
            "register-domain",
            "--name",
            "orders",
            "--workflow-execution-retention-period-in-days",
            "1",
        ],
    )
    .unwrap();
    let s = session(&assume(&url, &Creds::from(DEV), SF_ROLE, &[]).unwrap());
    let list = [
        "swf",
        "list-activity-types",
        "--domain",
        "orders",
        "--registration-status",
        "REGISTERED",
    ];
    aws(&url, &s, &list).unwrap();
    // The configuration loses role `sf`; SIGHUP reloads it.
    let without = config().replace(SF_ROLE, "arn:aws:iam::123456789012:role/sf-renamed");
    std::fs::write(dir.join("config.json"), without).unwrap();
    let hup = Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let mut last = String::new();
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        match aws(&url, &s, &list) {
            Ok(_) => continue,
            Err(e) => {
                last = e;
                break;
            }
        }
    }
    assert!(
        last.contains("(OperationNotPermittedFault)") && last.contains("no longer configured"),
        "{last}"
    );
    let e = aws(&url, &s, &["sts", "get-caller-identity"]).unwrap_err();
    assert!(e.contains("(AccessDenied)"), "{e}");
}
