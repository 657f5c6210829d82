//! `swf-iam check` run end to end: formats, exit statuses, policy flags, bulk requests.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap()
}

const WORKER: &str = "arn:aws:iam::123456789012:role/heartbeat-worker";

#[test]
fn allowed_with_the_default_config_exits_0() {
    let o = run(&[
        "check",
        "--domain",
        "orders",
        "--context",
        "aws:SourceIp=10.1.2.3",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.starts_with("allowed\n"), "{out}");
    assert!(
        out.contains(
            "identity-based policy statement 0 `HeartbeatOrders` (Allow) in identity/worker.json"
        ),
        "{out}"
    );
    assert!(
        out.contains("--> policies/identity/worker.json:4:5"),
        "{out}"
    );
    assert!(
        out.contains(r#"   5 |       "Sid": "HeartbeatOrders","#),
        "{out}"
    );
}

#[test]
fn denied_json_names_the_statement_and_the_missing_key() {
    let o = run(&[
        "check",
        "--principal",
        WORKER,
        "--domain",
        "orders",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["decision"], "explicitDeny");
    assert_eq!(v["cause"], "OPERATION_NOT_PERMITTED");
    assert_eq!(
        v["principal"],
        "arn:aws:sts::123456789012:assumed-role/heartbeat-worker/swf-iam"
    );
    assert_eq!(
        v["resource"],
        "arn:aws:swf:us-east-1:123456789012:/domain/orders"
    );
    assert_eq!(v["matchedStatements"][0]["sid"], "OnlyFromTheWorkerNetwork");
    assert_eq!(v["matchedStatements"][0]["policy"], "identity/worker.json");
    assert_eq!(v["matchedStatements"][0]["policyType"], "identity");
    assert_eq!(v["matchedStatements"][0]["index"], 1);
    assert_eq!(v["missingContextKeys"], serde_json::json!(["aws:SourceIp"]));
    assert_eq!(
        v["message"],
        "User: arn:aws:sts::123456789012:assumed-role/heartbeat-worker/swf-iam is not authorized to perform: swf:RecordActivityTaskHeartbeat on resource: arn:aws:swf:us-east-1:123456789012:/domain/orders with an explicit deny in an identity-based policy"
    );
}

#[test]
fn policy_flags_instead_of_a_config() {
    let o = run(&[
        "check",
        "--policy",
        "policies/identity/dev-only.json",
        "--principal",
        "arn:aws:iam::123456789012:user/dev",
        "--domain",
        "dev-1",
        "--format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(&[
        "check",
        "--policy",
        "policies/identity/dev-only.json",
        "--domain",
        "prod",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["matchedStatements"][0]["sid"], "NothingOutsideDev");
    // With a boundary that does not allow the action.
    let o = run(&[
        "check",
        "--policy",
        "policies/identity/dev-only.json",
        "--boundary",
        "policies/boundaries/workers.json",
        "--action",
        "swf:StartWorkflowExecution",
        "--domain",
        "dev-1",
        "--format",
        "json",
    ]);
    assert_eq!(json(&o)["denyLayer"], "permissionsBoundary");
    // With SCP levels: the second allows only SWF and Logs.
    let o = run(&[
        "check",
        "--policy",
        "policies/identity/dev-only.json",
        "--scp",
        "policies/scp/root.json",
        "policies/scp/workers-ou.json",
        "--domain",
        "dev-1",
        "--region",
        "ap-south-1",
        "--format",
        "json",
    ]);
    let v = json(&o);
    assert_eq!(v["decision"], "explicitDeny");
    assert_eq!(v["denyLayer"], "serviceControlPolicy");
    assert_eq!(
        v["resource"],
        "arn:aws:swf:ap-south-1:123456789012:/domain/dev-1"
    );
}

#[test]
fn context_keys_repeat_into_multivalued_keys() {
    let dir = std::env::temp_dir().join(format!("swf-iam-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("tags.json");
    std::fs::write(
        &p,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"swf:TagResource","Resource":"*",
            "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}}}"#,
    )
    .unwrap();
    let p = p.to_str().unwrap();
    let base = [
        "check",
        "--policy",
        p,
        "--action",
        "swf:TagResource",
        "--domain",
        "d",
        "--format",
        "json",
    ];
    let o = run(&[
        &base[..],
        &[
            "--context",
            "aws:TagKeys=team",
            "--context",
            "aws:TagKeys=env",
        ],
    ]
    .concat());
    assert_eq!(json(&o)["decision"], "allowed");
    let o = run(&[
        &base[..],
        &[
            "--context",
            "aws:TagKeys=team",
            "--context",
            "aws:TagKeys=owner",
        ],
    ]
    .concat());
    assert_eq!(json(&o)["decision"], "implicitDeny");
}

#[test]
fn usage_errors_exit_2() {
    let o = run(&[
        "check",
        "--principal",
        "arn:aws:iam::123456789012:role/nobody",
        "--domain",
        "orders",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains(
        "principal `arn:aws:iam::123456789012:role/nobody` is not in `policies/swf-iam.json`"
    ));
    let o = run(&["check"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("give --domain NAME or --resource ARN"));
    let o = run(&["check", "--domain", "a/b"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["check", "--domain", "x", "--context", "novalue"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["check", "--config", "no/such.json", "--domain", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read `no/such.json`"));
    let o = run(&[
        "check",
        "--policy",
        "tests/cases/validate/effect-lowercase.json",
        "--domain",
        "x",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("invalid policy: The policy failed legacy parsing"));
}

#[test]
fn bulk_requests_one_decision_per_line_and_malformed_lines_go_on() {
    let input = [
        r#"{"principal": "arn:aws:iam::123456789012:role/heartbeat-worker", "domain": "orders", "context": {"aws:SourceIp": "10.1.2.3"}}"#,
        r#"{"principal": "arn:aws:iam::123456789012:role/billing-worker", "domain": "orders"}"#,
        r#"not json"#,
        r#"{"principal": "arn:aws:iam::123456789012:role/x", "resource": "arn:aws:swf:us-east-1:123456789012:/domain/a", "policies": {"identity": [{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*"}}]}}"#,
        r#"{"principal": "arn:aws:iam::123456789012:role/heartbeat-worker", "domian": "orders"}"#,
        r#"{"action": "swf:ListDomains", "principal": "arn:aws:iam::123456789012:user/ops-admin"}"#,
    ]
    .join("\n");
    let mut child = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--requests", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "a malformed line makes the run exit 2"
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[0]["decision"], "allowed");
    assert_eq!(lines[1]["decision"], "implicitDeny");
    assert_eq!(lines[2]["line"], 3);
    assert!(lines[2]["error"].as_str().unwrap().starts_with("not JSON"));
    assert_eq!(
        lines[3]["decision"], "allowed",
        "self-contained request with inline policies"
    );
    assert!(
        lines[4]["error"]
            .as_str()
            .unwrap()
            .starts_with("unknown field `domian`; expected one of principal, action"),
        "{}",
        lines[4]
    );
    assert_eq!(lines[5]["decision"], "allowed");
}

/// `--requests` decides batches on every core: across several batches (40,000 lines),
/// every answer comes back once, in the lines' order, each the one its own line asks for.
#[test]
fn bulk_requests_keep_their_order_across_batches_and_cores() {
    let dir = std::env::temp_dir().join(format!("swf-iam-bulk-order-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("requests.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let n = 40_000;
    for i in 0..n {
        match i % 5 {
            // Allowed (the worker on orders from 10.x), denied (billing), malformed.
            0 | 1 => writeln!(f, r#"{{"principal": "arn:aws:iam::123456789012:role/heartbeat-worker", "domain": "orders", "context": {{"aws:SourceIp": "10.0.{}.{}"}}}}"#, (i / 256) % 256, i % 256).unwrap(),
            2 | 3 => writeln!(f, r#"{{"principal": "arn:aws:iam::123456789012:role/heartbeat-worker", "domain": "billing-{i}", "context": {{"aws:SourceIp": "10.1.2.3"}}}}"#).unwrap(),
            _ => writeln!(f, "not json {i}").unwrap(),
        }
    }
    drop(f);
    let out = run(&["check", "--requests", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "malformed lines make exit 2");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), n);
    for (i, v) in lines.iter().enumerate() {
        assert_eq!(v["line"], i + 1, "{v}");
        match i % 5 {
            0 | 1 => {
                assert_eq!(v["decision"], "allowed", "line {}: {v}", i + 1);
                assert!(v["resource"].as_str().unwrap().ends_with("/domain/orders"));
            }
            2 | 3 => {
                assert_eq!(v["decision"], "implicitDeny", "line {}: {v}", i + 1);
                assert!(v["resource"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/domain/billing-{i}")));
            }
            _ => assert!(v["error"].as_str().unwrap().starts_with("not JSON"), "{v}"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
