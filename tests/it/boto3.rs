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

/// The same boto3 suite twice against one `serve`, reset in between through moto's
/// reset path (as suites written for moto's server mode do): the second run starts
/// from nothing (it registers the domain again) and passes the same way.
#[test]
fn boto3_suite_twice_with_a_reset_between() {
    let dir = std::env::temp_dir().join(format!("swf-iam-boto3-twice-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = super::aws_cli::serve(&dir);
    run_flow(&server.url, "serve");
    let (status, _) = super::hostile::post_reset(server.addr(), "/moto-api/reset", "POST");
    assert_eq!(status, 200);
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

/// Model constraints on the wire, with boto3's own parameter validation off (so that the
/// request reaches `serve` as written): every violation counted, in AWS's words.
#[test]
fn invalid_inputs_are_answered_as_aws_validates_them() {
    let dir = std::env::temp_dir().join(format!("swf-iam-boto3-invalid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = super::aws_cli::serve(&dir);
    let script = r#"
import json, sys, boto3, botocore.config, botocore.exceptions
c = boto3.client("swf", endpoint_url=sys.argv[1], region_name="us-east-1",
    aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
    config=botocore.config.Config(parameter_validation=False))
out = []
for call in [
    lambda: c.register_domain(name="x" * 257, workflowExecutionRetentionPeriodInDays="1"),
    lambda: c.list_domains(registrationStatus="GONE", maximumPageSize=1001),
    lambda: c.start_workflow_execution(domain="orders", workflowId="w", workflowType={"name": "wf"}, childPolicy="KILL"),
]:
    try:
        call()
        out.append(None)
    except botocore.exceptions.ClientError as e:
        out.append([e.response["Error"]["Code"], e.response["Error"]["Message"]])
print(json.dumps(out))
"#;
    let o = Command::new(python())
        .args(["-c", script, &server.url, OPERATOR.0, OPERATOR.1])
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let got: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let long = "x".repeat(257);
    assert_eq!(
        got,
        serde_json::json!([
            ["ValidationException", format!("1 validation error detected: Value '{long}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 256")],
            ["ValidationException", "2 validation errors detected: Value 'GONE' at 'registrationStatus' failed to satisfy constraint: Member must satisfy enum value set: [REGISTERED, DEPRECATED]; Value '1001' at 'maximumPageSize' failed to satisfy constraint: Member must have value less than or equal to 1000"],
            ["ValidationException", "2 validation errors detected: Value null at 'workflowType.version' failed to satisfy constraint: Member must not be null; Value 'KILL' at 'childPolicy' failed to satisfy constraint: Member must satisfy enum value set: [TERMINATE, REQUEST_CANCEL, ABANDON]"]
        ])
    );
}
