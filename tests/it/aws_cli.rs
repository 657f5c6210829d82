//! The seed's command, `aws swf record-activity-task-heartbeat`, run by the real aws CLI
//! v2 against the real `swf-iam serve` process, in each of its input forms.

use super::swfkit::*;
use std::process::Command;
use std::time::Duration;

/// The aws CLI v2 (PyPI's `awscli` is v1 and may shadow it on PATH).
fn aws_cli() -> String {
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
