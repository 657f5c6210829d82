//! boto3 (from moto's venv, set up by `scripts/test`) runs the heartbeat flow against
//! `swf-iam serve` and against `swf-iam proxy` in front of moto's server.

use super::swfkit::*;
use std::process::Command;

fn python() -> String {
    let p = std::env::var("SWF_IAM_PYTHON")
        .unwrap_or_else(|_| format!("{}/.venv/bin/python", env!("CARGO_MANIFEST_DIR")));
    let ok = Command::new(&p)
        .args(["-c", "import boto3"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "boto3 is missing for {p}: run `scripts/test` (it installs moto[server], which brings boto3, into .venv) or set SWF_IAM_PYTHON");
    p
}

fn run_flow(endpoint: &str, mode: &str) {
    let script = format!("{}/tests/clients/boto3_flow.py", env!("CARGO_MANIFEST_DIR"));
    let o = Command::new(python())
        .args([&script, endpoint, mode])
        .env("OPERATOR_KEY", OPERATOR.0)
        .env("OPERATOR_SECRET", OPERATOR.1)
        .env("WORKER_KEY", WORKER.0)
        .env("WORKER_SECRET", WORKER.1)
        .env("OUTSIDER_KEY", OUTSIDER.0)
        .env("OUTSIDER_SECRET", OUTSIDER.1)
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && out.contains("boto3 flow: ok"),
        "{mode}: {out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn boto3_against_serve() {
    let dir = std::env::temp_dir().join(format!("swf-iam-boto3-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = super::aws_cli::serve(&dir);
    run_flow(&server.url, "serve");
}

#[test]
fn boto3_against_proxy_and_moto() {
    let dir = std::env::temp_dir().join(format!("swf-iam-boto3-proxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_moto, port) = super::proxy_moto::moto();
    let (_proxy, addr) = super::proxy_moto::proxy(&dir, port, &[]);
    run_flow(&format!("http://{addr}"), "proxy");
}
