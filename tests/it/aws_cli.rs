//! The seed's command, `aws swf record-activity-task-heartbeat`, run by the real aws CLI
//! v2 against the real `swf-iam serve` process, in each of its input forms.

use super::swfkit::*;
use std::process::Command;
use std::time::Duration;

/// The aws CLI v2 (PyPI's `awscli` is v1 and may shadow it on PATH).
pub fn aws_cli() -> String {
    let candidates = [
        std::env::var("SWF_IAM_AWS_CLI").ok(),
        Some("/usr/bin/aws".to_owned()),
        Some("/usr/local/bin/aws".to_owned()),
    ];
    for c in candidates.into_iter().flatten() {
        if let Ok(o) = Command::new(&c).arg("--version").output() {
            if String::from_utf8_lossy(&o.stdout).starts_with("aws-cli/2.") {
                return c;
            }
        }
    }
    panic!(
        "the aws CLI v2 is missing: run `scripts/test` (it installs Debian's `awscli` package), \
         or `apt-get install -y awscli`, or set SWF_IAM_AWS_CLI to an aws CLI v2 binary"
    );
}

pub fn serve(dir: &std::path::Path) -> Server {
    serve_bin(dir, &config_text(), &["--poll-timeout", "2"], None)
}

fn aws(
    cli: &str,
    url: &str,
    key: (&str, &str),
    home: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    Command::new(cli)
        .args(["swf", "record-activity-task-heartbeat"])
        .args(args)
        .args(["--endpoint-url", url, "--output", "json"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_ACCESS_KEY_ID", key.0)
        .env("AWS_SECRET_ACCESS_KEY", key.1)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PAGER", "")
        .output()
        .unwrap()
}

#[test]
fn aws_cli_v2_heartbeats_in_every_input_form() {
    let cli = aws_cli();
    let dir = std::env::temp_dir().join(format!("swf-iam-awscli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = serve(&dir);
    let addr: std::net::SocketAddr = server.url.trim_start_matches("http://").parse().unwrap();

    // Seed an activity task with aws-sdk-swf.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let token = rt.block_on(async {
        let op = client(addr, OPERATOR);
        let worker = client(addr, WORKER);
        setup_orders(&op, "NONE", "NONE").await;
        start_and_decide(&op, "cli", vec![schedule("a1", "hb")]).await;
        worker
            .poll_for_activity_task()
            .domain("orders")
            .task_list(tl("workers"))
            .send()
            .await
            .unwrap()
            .task_token()
            .to_owned()
    });

    let forms: Vec<Vec<String>> = vec![
        vec![
            "--task-token".into(),
            token.clone(),
            "--details".into(),
            "25%".into(),
        ],
        vec![
            "--cli-input-json".into(),
            serde_json::json!({"taskToken": token, "details": "50%"}).to_string(),
        ],
        vec![
            "--cli-input-yaml".into(),
            format!("taskToken: \"{token}\"\ndetails: \"75%\"\n"),
        ],
    ];
    for form in &forms {
        let args: Vec<&str> = form.iter().map(String::as_str).collect();
        let o = aws(&cli, &server.url, WORKER, &dir, &args);
        assert!(
            o.status.success(),
            "{:?}: {}",
            form[0],
            String::from_utf8_lossy(&o.stderr)
        );
        let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"cancelRequested": false}),
            "{}",
            form[0]
        );
    }
    // Denied: a principal allowed only on another domain.
    for form in &forms {
        let args: Vec<&str> = form.iter().map(String::as_str).collect();
        let o = aws(&cli, &server.url, OUTSIDER, &dir, &args);
        assert!(!o.status.success());
        assert_eq!(o.status.code(), Some(254));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("An error occurred (OperationNotPermittedFault) when calling the RecordActivityTaskHeartbeat operation: User: arn:aws:sts::123456789012:assumed-role/outsider/swf-iam is not authorized to perform: swf:RecordActivityTaskHeartbeat on resource: arn:aws:swf:us-east-1:123456789012:/domain/orders"),
            "{err}"
        );
    }
    // The last allowed details are the ones SWF keeps.
    let o = aws(&cli, &server.url, WORKER, &dir, &["--task-token", &token]);
    assert!(o.status.success());
}

#[test]
fn serve_shuts_down_cleanly_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("swf-iam-term-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut server = serve(&dir);
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let t0 = std::time::Instant::now();
    loop {
        if let Some(st) = server.child.try_wait().unwrap() {
            assert_eq!(st.code(), Some(0));
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "serve did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `swf-iam ARGS` from the repository (shipped configuration) and reads its
/// banner up to the line `until` starts (or its end): the process and the banner.
fn start_with_banner(args: &[&str], until: &str) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SWF_IAM_CONFIG")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    loop {
        let mut l = String::new();
        if std::io::BufRead::read_line(&mut reader, &mut l).unwrap() == 0 {
            break;
        }
        banner.push_str(&l);
        if l.starts_with(until) {
            break;
        }
    }
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    (child, banner)
}

/// Runs `examples/first-heartbeat.sh` against `url` with the aws CLI v2: (stdout,
/// stderr), after checking that it succeeded and that the billing worker was denied.
fn first_heartbeat(url: &str, home: &str) -> (String, String) {
    let home = std::env::temp_dir().join(format!("swf-iam-{home}-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let o = Command::new("bash")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("examples/first-heartbeat.sh")
        .arg(url)
        .env("AWS_CLI", aws_cli())
        .env("HOME", &home)
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("OperationNotPermittedFault"), "{out}");
    (out, err)
}

/// `examples/first-heartbeat.sh` against `serve` with the shipped configuration: five
/// aws CLI calls to an allowed heartbeat, and the denied one.
#[test]
fn the_first_heartbeat_example_runs_against_serve() {
    let (child, banner) = start_with_banner(
        &["serve", "--listen", "localhost:0", "--decision-log", "off"],
        "registered at start",
    );
    let server = Server {
        url: banner
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .to_owned(),
        child,
    };
    assert!(
        banner.contains(&format!("examples/first-heartbeat.sh {}", server.url)),
        "{banner}"
    );
    assert!(
        banner.contains("registered at start: domain orders, activity type hb, workflow type wf"),
        "{banner}"
    );
    let (out, err) = first_heartbeat(&server.url, "first-hb");
    assert!(out.contains("\"cancelRequested\": false"), "{out}");
    assert_eq!(
        err.matches("\n$ [").count(),
        5,
        "five calls to the allowed heartbeat: {err}"
    );
    assert!(
        out.contains("$ [BILLING] aws swf record-activity-task-heartbeat"),
        "{out}"
    );
}

/// SIGTERM during long polls answers the open polls (an empty task) at once, then exits.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_answers_open_polls_at_once() {
    let dir = std::env::temp_dir().join(format!("swf-iam-term-poll-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut server = serve_bin(&dir, &config_text(), &["--poll-timeout", "60"], None);
    let op = client(server.addr(), OPERATOR);
    setup_orders(&op, "300", "60").await;
    let polls: Vec<_> = (0..3)
        .map(|_| {
            let op = op.clone();
            tokio::spawn(async move {
                op.poll_for_decision_task()
                    .domain("orders")
                    .task_list(tl("deciders"))
                    .send()
                    .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t0 = std::time::Instant::now();
    assert!(Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap()
        .success());
    for p in polls {
        let task = p
            .await
            .unwrap()
            .expect("the open poll is answered, not dropped");
        assert!(task.task_token().is_empty());
    }
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    let status = loop {
        if let Some(st) = server.child.try_wait().unwrap() {
            break st;
        }
        assert!(t0.elapsed() < Duration::from_secs(6), "serve did not exit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
}

/// Start-up errors name what is wrong: a missing configuration, an unwritable decision
/// log, a registration the emulator refuses (with its place in the configuration).
#[test]
fn serve_start_up_errors_name_the_thing() {
    let dir = std::env::temp_dir().join(format!("swf-iam-serve-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str], cwd: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_swf-iam"))
            .current_dir(cwd)
            .env_remove("SWF_IAM_CONFIG")
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["serve", "--listen", "127.0.0.1:0"], &dir);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("policies/swf-iam.json` does not exist here"),
        "{err}"
    );
    assert!(err.contains("SWF_IAM_CONFIG"), "{err}");
    let cfg = dir.join("c.json");
    std::fs::write(&cfg, config_text()).unwrap();
    let cfg = cfg.display().to_string();
    let o = run(
        &[
            "serve",
            "--config",
            &cfg,
            "--listen",
            "127.0.0.1:0",
            "--decision-log",
            "/nonexistent-dir/d.log",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/nonexistent-dir/d.log"), "{err}");
    let o = run(
        &["serve", "--config", &cfg, "--listen", "nowhere.invalid:x"],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--listen"));
    let bad = config_text().replacen(
        r#""principals""#,
        r#""register": {"domains": [{"name": "ok", "workflowExecutionRetentionPeriodInDays": "1"}], "activityTypes": [{"domain": "missing", "name": "a", "version": "1"}]}, "principals""#,
        1,
    );
    let bad_path = dir.join("bad.json");
    std::fs::write(&bad_path, bad).unwrap();
    let o = run(
        &[
            "serve",
            "--config",
            bad_path.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/register/activityTypes/0"), "{err}");
    assert!(err.contains("RegisterActivityType failed"), "{err}");
}

/// With the decision log on standard error, every line there is JSON (decisions and the
/// server's own events alike): never a mix of JSON and text lines. No ANSI colour when
/// standard error is not a terminal.
#[tokio::test(flavor = "multi_thread")]
async fn stderr_with_the_decision_log_is_json_lines_only() {
    let dir = std::env::temp_dir().join(format!("swf-iam-stderr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("config.json");
    std::fs::write(&cfg, config_text()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--decision-log",
            "-",
            "--config",
        ])
        .arg(&cfg)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    std::io::BufRead::read_line(&mut out, &mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let op = client(addr, OPERATOR);
    op.register_domain()
        .name("logged")
        .workflow_execution_retention_period_in_days("1")
        .send()
        .await
        .unwrap();
    setup_orders(&op, "300", "60").await;
    start_and_decide(
        &op,
        "logged-decisions",
        vec![schedule("ok", "hb"), schedule("no", "forbidden")],
    )
    .await;
    let _ = client(addr, OUTSIDER)
        .list_domains()
        .registration_status(aws_sdk_swf::types::RegistrationStatus::Registered)
        .send()
        .await;
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(!err.contains('\u{1b}'), "no colour off a terminal: {err}");
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON line: {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["decision"] == "allowed" && l["operation"] == "RegisterDomain"),
        "{err}"
    );
    assert!(
        lines.iter().any(|l| l["decision"] == "implicitDeny"),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "configuration reloaded"),
        "{err}"
    );
    // Decision-level decisions are decision-log lines of their own.
    let level: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["level"] == "decision").collect();
    assert_eq!(level.len(), 2, "{err}");
    assert!(level
        .iter()
        .any(|l| l["action"] == "swf:ScheduleActivityTask" && l["decision"] == "allowed"));
    assert!(
        level
            .iter()
            .any(|l| l["action"] == "swf:ScheduleActivityTask"
                && l["decision"] == "explicitDeny"
                && l["statement"]
                    .as_str()
                    .unwrap_or("")
                    .contains("NoForbidden")),
        "{err}"
    );
    assert!(lines.iter().any(|l| l["message"] == "shut down"), "{err}");
}

/// The README's first hour against `proxy` in front of a fresh moto: the proxy applies
/// the configuration's `register` through moto at start, says so, and the example runs
/// as against `serve`; a second proxy finds them already there.
#[test]
fn the_first_heartbeat_example_runs_against_the_proxy() {
    let (_moto, moto_port) = super::proxy_moto::moto();
    let upstream = format!("http://127.0.0.1:{moto_port}");
    let start = || {
        let (child, banner) = start_with_banner(
            &[
                "proxy",
                "--upstream",
                &upstream,
                "--listen",
                "127.0.0.1:0",
                "--decision-log",
                "off",
            ],
            "registered at start",
        );
        let url = banner
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1") && !w.contains(&format!(":{moto_port}")))
            .unwrap()
            .to_owned();
        (Server { url, child }, banner)
    };
    let (server, banner) = start();
    assert!(
        banner.contains("registered at start: domain orders, activity type hb, workflow type wf"),
        "{banner}"
    );
    assert!(
        banner.contains(&format!("examples/first-heartbeat.sh {}", server.url)),
        "{banner}"
    );
    first_heartbeat(&server.url, "first-hb-proxy");
    let (_again, banner) = start();
    assert!(
        banner.contains("registered at start: domain orders (already there)"),
        "{banner}"
    );
}

/// A configuration that registers nothing is not pointed at the walkthrough, which needs
/// domain `orders` and types `hb` and `wf`; nor does its banner claim a registration.
#[test]
fn the_banner_recommends_only_what_can_run() {
    let dir = std::env::temp_dir().join(format!("swf-iam-banner-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("config.json");
    std::fs::write(&cfg, config_text()).unwrap();
    let (mut child, banner) = start_with_banner(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--decision-log",
            "off",
            "--config",
            cfg.to_str().unwrap(),
        ],
        "reset:",
    );
    let _ = child.kill();
    let _ = child.wait();
    assert!(banner.contains("Try it as"), "{banner}");
    assert!(!banner.contains("first-heartbeat.sh"), "{banner}");
    assert!(!banner.contains("registered at start"), "{banner}");
}
