//! The first hour as a user (issue "first hour"): exact request-context defaults, strict
//! inputs with one-line errors, closed pipes, and the request lines of `check
//! --requests` — each run on the real binary.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_swf-iam"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SWF_IAM_CONFIG");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("swf-iam-first-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

const REGION_DENY: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "swf:*", "Resource": "*"},
  {"Sid": "OnlyUsEast1", "Effect": "Deny", "Action": "swf:*", "Resource": "*",
   "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}}]}"#;

/// `aws:RequestedRegion` is the resource ARN's region, not `--region`/the configuration's.
#[test]
fn the_requested_region_is_the_resources() {
    let d = tempdir("region");
    let p = write(&d, "p.json", REGION_DENY);
    let eu = "arn:aws:swf:eu-west-1:123456789012:/domain/orders";
    let o = run(&["check", "--policy", &p, "--resource", eu]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("explicitDeny"));
    let us = "arn:aws:swf:us-east-1:123456789012:/domain/orders";
    assert_eq!(
        run(&["check", "--policy", &p, "--resource", us])
            .status
            .code(),
        Some(0)
    );
    // `*` resources take the region from --region (or the configuration).
    let o = run(&[
        "check",
        "--policy",
        &p,
        "--action",
        "swf:ListDomains",
        "--region",
        "eu-west-1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let o = run(&["check", "--policy", &p, "--action", "swf:ListDomains"]);
    assert_eq!(o.status.code(), Some(0));
    // --domain builds the ARN in --region, so both agree.
    let o = run(&[
        "check",
        "--policy",
        &p,
        "--domain",
        "orders",
        "--region",
        "eu-west-1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    // A --region that contradicts the resource's is an input error.
    let o = run(&[
        "check",
        "--policy",
        &p,
        "--resource",
        eu,
        "--region",
        "us-east-1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("disagrees with the resource's region"),
        "{}",
        stderr(&o)
    );
    // The same in `test`.
    let cases = write(
        &d,
        "cases.json",
        &format!(
            r#"{{"config": {{"principals": [{{"arn": "arn:aws:iam::123456789012:role/w", "policies": [{REGION_DENY}]}}]}},
              "cases": [
                {{"name": "eu", "resource": "{eu}", "expect": "explicitDeny"}},
                {{"name": "us", "resource": "{us}", "expect": "allowed"}},
                {{"name": "list", "action": "swf:ListDomains", "expect": "allowed"}}]}}"#
        ),
    );
    let o = run(&["test", &cases]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

const TIMED: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "swf:RecordActivityTaskHeartbeat", "Resource": "*",
   "Condition": {"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"},
                 "Bool": {"aws:SecureTransport": "true"}}}]}"#;

/// `--now` and `"now"` pin the clock; `--no-default-context` and `"defaultContext":
/// false` evaluate only the keys given.
#[test]
fn now_and_the_two_context_modes() {
    let d = tempdir("now");
    let p = write(&d, "p.json", TIMED);
    let r = "arn:aws:swf:us-east-1:123456789012:/domain/orders";
    let check = |extra: &[&str]| {
        let mut a = vec!["check", "--policy", &p, "--resource", r, "--format", "json"];
        a.extend_from_slice(extra);
        let o = run(&a);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
        (o.status.code(), v)
    };
    assert_eq!(check(&["--now", "2026-12-01T10:00:00Z"]).0, Some(0));
    assert_eq!(check(&["--now", "2027-06-01T00:00:00Z"]).0, Some(1));
    assert_eq!(check(&["--now", "1795600800"]).0, Some(0), "epoch seconds");
    let (code, _) = check(&["--now", "yesterday"]);
    assert_eq!(code, Some(2));
    // Without defaults, aws:CurrentTime and aws:SecureTransport are absent.
    let (code, v) = check(&["--no-default-context"]);
    assert_eq!(code, Some(1));
    let missing: Vec<&str> = v["missingContextKeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert!(missing.contains(&"aws:CurrentTime"), "{v}");
    let (code, _) = check(&[
        "--no-default-context",
        "--context",
        "aws:CurrentTime=2026-12-01T00:00:00Z",
        "--context",
        "aws:SecureTransport=true",
    ]);
    assert_eq!(code, Some(0));
    // Case files: file-level and case-level `now` and `defaultContext`.
    let cases = write(
        &d,
        "cases.json",
        &format!(
            r#"{{"config": {{"principals": [{{"arn": "arn:aws:iam::123456789012:role/w", "policies": [{TIMED}]}}]}},
              "now": "2026-12-01T10:00:00Z",
              "cases": [
                {{"name": "file time", "resource": "{r}", "expect": "allowed"}},
                {{"name": "case time", "resource": "{r}", "now": "2027-02-01T00:00:00Z", "expect": "implicitDeny"}},
                {{"name": "simulator mode", "resource": "{r}", "defaultContext": false, "expect": "implicitDeny"}},
                {{"name": "simulator mode with keys", "resource": "{r}", "defaultContext": false,
                  "context": {{"aws:CurrentTime": "2026-01-01T00:00:00Z", "aws:SecureTransport": "true"}}, "expect": "allowed"}}]}}"#
        ),
    );
    let o = run(&["test", &cases]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // A bad `now` in a case file is an input error with its place.
    let bad = write(
        &d,
        "bad.json",
        &format!(
            r#"{{"config": {{"principals": [{{"arn": "arn:aws:iam::123456789012:role/w", "policies": [{TIMED}]}}]}},
              "cases": [{{"name": "x", "resource": "{r}", "now": "soon", "expect": "allowed"}}]}}"#
        ),
    );
    let o = run(&["test", &bad]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/cases/0/now"), "{}", stderr(&o));
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("passed, "),
        "a file with input errors prints no pass/fail line"
    );
}

/// Every strict input is exit 2 with one line that names the thing.
#[test]
fn strict_inputs_are_refused_with_one_line() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "check",
                "--action",
                "swf:RecordActivityTaskHeartbeet",
                "--domain",
                "orders",
            ],
            "did you mean `swf:RecordActivityTaskHeartbeat`?",
        ),
        (
            &[
                "check",
                "--action",
                "RecordActivityTaskHeartbeat",
                "--domain",
                "orders",
            ],
            "no service prefix: did you mean `swf:RecordActivityTaskHeartbeat`?",
        ),
        (
            &["check", "--action", "", "--domain", "orders"],
            "the action is empty",
        ),
        (
            &["check", "--action", "swf:*", "--domain", "orders"],
            "is a pattern",
        ),
        (&["check", "--resource", "orders"], "is not an ARN"),
        (
            &["check", "--action", "swf:ListDomains", "--domain", "orders"],
            "is authorized on the domain named `*` of the request's region, not on `orders`",
        ),
        (
            &[
                "check",
                "--domain",
                "orders",
                "--context",
                "aws:SourceIp=notanip",
            ],
            "`aws:SourceIp` must be an IP address",
        ),
        (
            &[
                "check",
                "--domain",
                "orders",
                "--context",
                "aws:CurrentTime=noon",
            ],
            "`aws:CurrentTime` must be a date",
        ),
        (
            &[
                "check",
                "--domain",
                "orders",
                "--context",
                "aws:SecureTransport=yes",
            ],
            "`aws:SecureTransport` must be `true` or `false`",
        ),
        (
            &["check", "--domain", "orders", "--region", "us-east-1:1"],
            "--region",
        ),
        (
            &[
                "check",
                "--boundary",
                "policies/boundaries/workers.json",
                "--domain",
                "orders",
            ],
            "--policy",
        ),
        (
            &[
                "check",
                "--scp",
                "policies/scp/root.json",
                "--domain",
                "orders",
            ],
            "--policy",
        ),
        (
            &["check", "--domain", "orders", "--format", "sarif"],
            "sarif",
        ),
        (&["test", "--format", "sarif", "policies/cases"], "sarif"),
    ];
    for (args, want) in cases {
        let o = run(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    // Other services' actions are still decided, by IAM's generic rules.
    let o = run(&[
        "check",
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::bucket/key",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // Actions are read case-insensitively and shown in SWF's spelling.
    let o = run(&[
        "check",
        "--action",
        "swf:recordactivitytaskheartbeat",
        "--domain",
        "orders",
        "--context",
        "aws:SourceIp=10.1.2.3",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["action"], "swf:RecordActivityTaskHeartbeat");
}

/// `validate` on a directory without policies, or an empty one, is exit 2 as a glob that
/// matches nothing is.
#[test]
fn validate_refuses_empty_directories() {
    let d = tempdir("empty");
    let o = run(&["validate", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no *.json file"), "{}", stderr(&o));
    write(&d, "notes.txt", "hello");
    let o = run(&["validate", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

/// Each command exits quietly when its reader goes away: no panic, no message, the
/// exit code of its answer.
#[test]
fn closed_pipes_end_every_command_quietly() {
    let d = tempdir("pipe");
    // Enough output that the writer is still writing when the reader has gone.
    let mut many = String::new();
    for _ in 0..2000 {
        many.push_str(r#"{"domain": "orders", "context": {"aws:SourceIp": "10.1.2.3"}}"#);
        many.push('\n');
    }
    let requests = write(&d, "requests.jsonl", &many);
    let mut big_dir = d.join("policies");
    std::fs::create_dir_all(&big_dir).unwrap();
    for i in 0..200 {
        big_dir.push(format!("p{i}.json"));
        std::fs::write(&big_dir, r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*"}}"#).unwrap();
        big_dir.pop();
    }
    let dir = big_dir.display().to_string();
    let runs: Vec<Vec<&str>> = vec![
        vec!["validate", &dir],
        vec!["validate", "--format", "json", &dir],
        vec!["validate", "--format", "sarif", &dir],
        vec!["check", "--requests", &requests],
        vec!["check", "--domain", "orders"],
        vec!["check", "--domain", "orders", "--format", "json"],
        vec!["test", "policies/cases"],
        vec!["test", "--format", "json", "policies/cases"],
    ];
    for args in runs {
        let mut child = bin()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one byte, then close the pipe, as `| head -c1` does.
        let mut stdout = child.stdout.take().unwrap();
        let mut one = [0u8; 1];
        let _ = stdout.read(&mut one);
        drop(stdout);
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(
            matches!(status.code(), Some(0..=2)),
            "{args:?}: {status:?} {err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
    }
}

/// `check --requests`: one output line per input line, in order, each with its line
/// number (a blank line gets its error line too); lines that carry their own policies
/// need no configuration.
#[test]
fn request_lines_are_numbered_and_need_no_config_with_their_own_policies() {
    let d = tempdir("requests");
    let inline = r#"{"principal": "arn:aws:iam::123456789012:role/w", "domain": "orders", "policies": {"identity": [{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*"}}]}}"#;
    let input = [inline, "", "  ", r#"{"domain": "orders"}"#, inline].join("\n");
    let mut child = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .current_dir(&d)
        .env_remove("SWF_IAM_CONFIG")
        .args(["check", "--requests", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["line"], i + 1, "{l}");
    }
    assert_eq!(lines[0]["decision"], "allowed");
    assert!(lines[1]["error"]
        .as_str()
        .unwrap()
        .starts_with("empty line"));
    assert!(lines[2]["error"]
        .as_str()
        .unwrap()
        .starts_with("empty line"));
    assert!(
        lines[3]["error"]
            .as_str()
            .unwrap()
            .contains("does not exist here"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4]["decision"], "allowed");
}

/// `SWF_IAM_CONFIG` names the default configuration.
#[test]
fn the_default_configuration_can_come_from_the_environment() {
    let d = tempdir("env");
    let cfg = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/swf-iam.json");
    let o = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .current_dir(&d)
        .env("SWF_IAM_CONFIG", &cfg)
        .args([
            "check",
            "--domain",
            "orders",
            "--context",
            "aws:SourceIp=10.1.2.3",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .current_dir(&d)
        .env_remove("SWF_IAM_CONFIG")
        .args(["check", "--domain", "orders"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("does not exist here"), "{}", stderr(&o));
}

/// A source excerpt never prints a control character raw, and a long line is cut.
#[test]
fn excerpts_are_escaped_and_cut() {
    let d = tempdir("excerpt");
    let long = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Sid": "A{}", "Effect": "Allow", "Action": "swf:*", "Resource": "*"}}]}}"#,
        "x".repeat(7000)
    );
    let p = write(&d, "long.json", &long);
    let o = run(&["validate", &p]);
    let out = String::from_utf8_lossy(&o.stdout);
    let source = out.lines().find(|l| l.starts_with("1 | ")).unwrap();
    assert!(source.chars().count() <= 4 + 120 + 3, "{source}");
    let carets = out.lines().find(|l| l.contains('^')).unwrap();
    assert!(carets.matches('^').count() <= 120, "{carets}");
    assert!(out.contains("..."), "{out}");
    let ctl = "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"a\u{1b}[31m\", \"Effect\": \"Allow\", \"Action\": \"swf:*\", \"Resource\": \"*\"}]}";
    let p = write(&d, "ctl.json", ctl);
    let o = run(&["validate", &p]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(out.contains("\\u{1b}"), "{out}");
}

/// `validate` recognises a configuration and a case file by their shape and validates
/// what they name, each policy with its own kind, findings placed where the text is.
#[test]
fn validate_checks_configurations_and_case_files_by_what_they_name() {
    let o = run(&["validate", "policies/"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    let d = tempdir("shapes");
    // 5,500 characters: fine for a managed policy (6,144), too large for an SCP (5,120).
    let big = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Sid": "{}", "Effect": "Allow", "Action": "swf:*", "Resource": "*"}}]}}"#,
        "A".repeat(5400)
    );
    write(&d, "scp.json", &big);
    let cfg = write(
        &d,
        "swf-iam.json",
        r#"{
  "scps": [["scp.json"]],
  "principals": [{
    "arn": "arn:aws:iam::123456789012:role/w",
    "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:Nope", "Resource": "*"}]}]
  }]
}"#,
    );
    let o = run(&["validate", "--format", "json", &cfg]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{v}");
    let scp = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("scp.json"))
        .unwrap();
    assert_eq!(
        scp["iamMessage"],
        "Policy exceeds the maximum size of 5120 characters for a service control policy",
        "{scp}"
    );
    let inline = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("swf-iam.json"))
        .unwrap();
    let finding = &inline["findings"][0];
    assert_eq!(finding["code"], "unknown-action", "{inline}");
    assert_eq!(
        finding["pointer"],
        "/principals/0/policies/0/Statement/0/Action"
    );
    assert_eq!(finding["line"], 5, "{finding}");
    // The same configuration inline in a case file: pointers go through `/config`.
    let cases = write(
        &d,
        "cases.json",
        r#"{"config": {"principals": [{"arn": "arn:aws:iam::123456789012:role/w",
            "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:Nope", "Resource": "*"}]}]}]},
            "cases": [{"name": "x", "domain": "orders", "expect": "implicitDeny"}]}"#,
    );
    let o = run(&["validate", "--format", "json", &cases]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["files"][0]["findings"][0]["pointer"],
        "/config/principals/0/policies/0/Statement/0/Action",
        "{v}"
    );
}

/// `expectStatements` entries must each be among the deciding statements;
/// `expectOnlyStatements` must be exactly them.
#[test]
fn expected_statements_are_a_subset_unless_only() {
    let d = tempdir("expect");
    let cfg = r#"{"scps": [[{"Version": "2012-10-17", "Statement": [{"Sid": "ScpAll", "Effect": "Allow", "Action": "*", "Resource": "*"}]}]],
      "principals": [{"arn": "arn:aws:iam::123456789012:role/w",
        "policies": [{"Version": "2012-10-17", "Statement": [{"Sid": "Beat", "Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}]}]}"#;
    let cases = write(
        &d,
        "cases.json",
        &format!(
            r#"{{"config": {cfg}, "now": "2026-12-01T10:00:00Z", "cases": [
              {{"name": "subset", "domain": "orders", "expect": "allowed", "expectStatements": [{{"sid": "Beat"}}]}},
              {{"name": "only, complete", "domain": "orders", "expect": "allowed", "expectOnlyStatements": [{{"sid": "Beat"}}, {{"sid": "ScpAll"}}]}}]}}"#
        ),
    );
    let o = run(&["test", &cases]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let failing = write(
        &d,
        "failing.json",
        &format!(
            r#"{{"config": {cfg}, "cases": [
              {{"name": "only, incomplete", "domain": "orders", "expect": "allowed", "expectOnlyStatements": [{{"sid": "Beat"}}]}},
              {{"name": "subset, absent", "domain": "orders", "expect": "allowed", "expectStatements": [{{"sid": "Nope"}}]}}]}}"#
        ),
    );
    let o = run(&["test", &failing]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("0 passed, 2 failed"), "{out}");
    assert!(
        out.contains("expected exactly these deciding statements"),
        "{out}"
    );
    assert!(
        out.contains("expected among the deciding statements"),
        "{out}"
    );
}

/// Messages point the right way: each names what is wrong with the input given.
#[test]
fn messages_name_the_input_that_is_wrong() {
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_swf-iam"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("SWF_IAM_CONFIG")
            .args(args)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = run(&[
        "diff",
        "--before",
        "policies/swf-iam.json",
        "--after",
        "/nope.json",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--after: `/nope.json` does not exist") && !err.contains("--config"),
        "{err}"
    );
    let (code, err) = run(&["who-can", "swf:Nope"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("the action `swf:Nope`") && !err.contains("--action"),
        "{err}"
    );
    let (code, _) = run(&["who-can", "--action", "swf:ListDomains"]);
    assert_eq!(
        code,
        Some(0),
        "who-can takes --action as check and access do"
    );
    let (code, err) = run(&["check", "--principal", "notanarn", "--domain", "orders"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("`notanarn` is not an ARN"), "{err}");
    let (code, err) = run(&["test", "policies/swf-iam.json"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("is a swf-iam configuration, not a case file"),
        "{err}"
    );
    let dir = std::env::temp_dir().join(format!("swf-iam-typo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("typo.json");
    std::fs::write(
        &p,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"swf:RecordActivityTaskHeartbeet","Resource":"*"}}"#,
    )
    .unwrap();
    let (code, err) = run(&[
        "check",
        "--policy",
        p.to_str().unwrap(),
        "--domain",
        "orders",
    ]);
    assert_eq!(code, Some(1), "decided (denied): {err}");
    assert!(
        err.contains("unknown-action")
            && err.contains("did you mean `swf:RecordActivityTaskHeartbeat`?"),
        "{err}"
    );
}
