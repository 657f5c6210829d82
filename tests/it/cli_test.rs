//! `swf-iam test` run end to end: passing and failing cases, malformed files, JSON
//! output, and the snapshot cycle (new → accept → matched → changed).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("swf-iam-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn config() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies/swf-iam.json")
        .display()
        .to_string()
}

#[test]
fn the_example_cases_pass() {
    let o = run(&["test", "policies/cases"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("ok     policies/cases/worker.json:5 worker heartbeats on orders (allowed)"),
        "{out}"
    );
    assert!(out.ends_with("\n17 passed, 0 failed\n"), "{out}");
}

#[test]
fn a_failing_case_names_expected_actual_and_statements() {
    let d = tempdir("failing");
    let f = d.join("cases.json");
    std::fs::write(
        &f,
        format!(
            r#"{{"config": {:?}, "context": {{"aws:SourceIp": "10.1.2.3"}}, "cases": [
  {{"name": "passes", "domain": "orders", "expect": "allowed"}},
  {{"name": "widened by mistake?", "domain": "billing", "expect": "allowed"}}
]}}"#,
            config()
        ),
    )
    .unwrap();
    let o = run(&["test", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains(":3 widened by mistake?\n         expected allowed, got implicitDeny\n         deciding statements: none\n"), "{out}");
    assert!(out.ends_with("1 passed, 1 failed\n"), "{out}");
    let o = run(&["test", "--format", "json", f.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["passed"], 1);
    assert_eq!(v["files"][0]["cases"][1]["passed"], false);
    assert_eq!(
        v["files"][0]["cases"][1]["decision"]["decision"],
        "implicitDeny"
    );
}

#[test]
fn malformed_case_files_exit_2_with_their_place() {
    let d = tempdir("malformed");
    let cases = [
        (
            r#"{"config": "nope.json", "cases": [{"name": "a", "domain": "x", "expect": "allowed"}]}"#,
            ":1:12: configuration",
        ),
        (
            r#"{"cases": [{"name": "a", "domain": "x", "expect": "allowed"}]}"#,
            "a case file needs `config`",
        ),
        (
            &format!(
                r#"{{"config": {:?}, "cases": [{{"name": "a", "domain": "x"}}]}}"#,
                config()
            ),
            "case `a` expects nothing",
        ),
        (
            &format!(
                r#"{{"config": {:?}, "cases": [{{"name": "a", "domian": "x", "expect": "allowed"}}]}}"#,
                config()
            ),
            "unknown field `domian`",
        ),
        (
            &format!(
                r#"{{"config": {:?}, "cases": [{{"name": "a", "domain": "x", "expect": "allow"}}]}}"#,
                config()
            ),
            "`expect` is `allowed`, `explicitDeny` or `implicitDeny`, not `allow`",
        ),
        (
            &format!(r#"{{"config": {:?}, "cases": []}}"#, config()),
            "`cases` is empty",
        ),
        (
            r#"{"config": {"principals": [{"arn": "arn:aws:iam::123456789012:role/w", "policies": [{"Statement": {"Effect": "allow", "Action": "*", "Resource": "*"}}]}]}, "cases": [{"name": "a", "domain": "x", "expect": "allowed"}]}"#,
            "The policy failed legacy parsing",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let f = d.join(format!("m{i}.json"));
        std::fs::write(&f, text).unwrap();
        let o = run(&["test", f.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{text}: {err}");
        assert!(
            err.contains(&format!("m{i}.json:")),
            "errors name the file: {err}"
        );
    }
    let o = run(&["test", "no/such/dir/*.json"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn snapshot_cycle() {
    let d = tempdir("snapshots");
    let snaps = d.join("snaps");
    let s = snaps.to_str().unwrap();
    let o = run(&["test", "--snapshot", s, "policies/cases/worker.json"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "new snapshots fail until accepted"
    );
    assert!(
        stdout(&o).contains("no snapshot yet: wrote worker__worker_heartbeats_on_orders.snap.new")
    );
    assert!(snaps
        .join("worker__worker_heartbeats_on_orders.snap.new")
        .exists());
    let o = run(&[
        "test",
        "--snapshot",
        s,
        "--accept",
        "policies/cases/worker.json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let snap = snaps.join("worker__worker_heartbeats_on_orders.snap");
    let text = std::fs::read_to_string(&snap).unwrap();
    assert!(text.starts_with("---\nsource: \"policies/cases/worker.json\"\ndescription: \"worker heartbeats on orders\"\n"));
    assert!(text.contains("\n---\ndecision: allowed\n"));
    assert!(!snaps
        .join("worker__worker_heartbeats_on_orders.snap.new")
        .exists());
    let o = run(&["test", "--snapshot", s, "policies/cases/worker.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // A changed explanation (here: a tampered snapshot) fails and writes .snap.new.
    std::fs::write(
        &snap,
        text.replace("decision: allowed", "decision: implicitDeny"),
    )
    .unwrap();
    let o = run(&["test", "--snapshot", s, "policies/cases/worker.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o)
        .contains("explanation differs from snapshot worker__worker_heartbeats_on_orders.snap"));
    assert!(snaps
        .join("worker__worker_heartbeats_on_orders.snap.new")
        .exists());
}

/// Cases that cannot fail are refused: `expectStatements: []` (use
/// `expectOnlyStatements: []`), and a case whose decision changes with the clock without
/// a pinned `now`.
#[test]
fn cases_that_cannot_fail_or_depend_on_the_clock_are_refused() {
    let dir = std::env::temp_dir().join(format!("swf-iam-vacuous-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = r#"{"account": "123456789012", "region": "us-east-1", "principals": [{"arn": "arn:aws:iam::123456789012:role/t",
        "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*",
          "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}}]}]}]}"#;
    let case = |extra: &str, top: &str| {
        format!(
            r#"{{"config": {cfg}{top}, "cases": [{{"name": "c", "domain": "orders", "expect": "allowed"{extra}}}]}}"#
        )
    };
    let run = |text: String| {
        let p = dir.join("case.json");
        std::fs::write(&p, text).unwrap();
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_swf-iam"))
            .arg("test")
            .arg(&p)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = run(case(
        r#", "expectStatements": []"#,
        r#", "now": "2026-01-01T00:00:00Z""#,
    ));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("expects nothing and can never fail"), "{err}");
    let (code, err) = run(case("", ""));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("pin `now`"), "{err}");
    let (code, err) = run(case("", r#", "now": "2026-01-01T00:00:00Z""#));
    assert_eq!(code, Some(0), "pinned at the top: {err}");
    let (code, err) = run(case(r#", "now": "2031-01-01T00:00:00Z""#, ""));
    assert_eq!(
        code,
        Some(1),
        "pinned in the case, after the deadline: {err}"
    );
}

#[test]
fn coverage_names_the_statements_no_case_decided() {
    let d = tempdir("coverage");
    std::fs::write(
        d.join("config.json"),
        r#"{"principals": [{"arn": "arn:aws:iam::123456789012:role/w", "policies": [{"Version": "2012-10-17", "Statement": [
  {"Sid": "Beat", "Effect": "Allow", "Action": "swf:RecordActivityTaskHeartbeat", "Resource": "*"},
  {"Sid": "Poll", "Effect": "Allow", "Action": "swf:PollForActivityTask", "Resource": "*"},
  {"Sid": "NoProd", "Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:*:/domain/prod"}]}]}]}"#,
    )
    .unwrap();
    std::fs::write(
        d.join("cases.json"),
        r#"{"config": "config.json", "cases": [
  {"name": "beats", "domain": "orders", "expect": "allowed"},
  {"name": "never prod", "domain": "prod", "expect": "explicitDeny"},
  {"name": "no start", "action": "swf:StartWorkflowExecution", "domain": "orders", "expect": "implicitDeny"}]}"#,
    )
    .unwrap();
    let cases = d.join("cases.json");
    let cases = cases.to_str().unwrap();
    let o = run(&["test", "--coverage", cases]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("coverage: 2 of 3 statements decided at least one case (66.7%)\n"),
        "{out}"
    );
    assert!(
        out.contains("config.json:3:3 identity-based policy statement 1 `Poll` decided no case"),
        "{out}"
    );
    assert!(out.ends_with("3 passed, 0 failed\n"), "{out}");
    // Under the bar: exit 1, and says why.
    let o = run(&["test", "--coverage", "--fail-under", "80", cases]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("coverage 66.7% is under --fail-under 80%"));
    assert_eq!(
        run(&["test", "--coverage", "--fail-under", "60", cases])
            .status
            .code(),
        Some(0)
    );
    // SARIF: a note on the uncovered statement's line; JSON: the counts.
    let sarif = d.join("coverage.sarif");
    let o = run(&[
        "test",
        "--coverage",
        "--coverage-sarif",
        sarif.to_str().unwrap(),
        "--format",
        "json",
        cases,
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["coverage"]["covered"], 2);
    assert_eq!(v["coverage"]["total"], 3);
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    assert!(results[0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("`Poll`"));
}
