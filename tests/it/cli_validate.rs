//! `swf-iam validate` run end to end: every format and exit status.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_swf-iam"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn example_policies_validate_clean() {
    let o = run(&[
        "validate",
        "policies/identity",
        "policies/boundaries",
        "policies/scp",
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("0 rejected by IAM, 0 errors"), "{out}");
}

#[test]
fn text_format_renders_rustc_style_and_exits_1_on_errors() {
    let o = run(&["validate", "tests/cases/validate/effect-permit.json"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.starts_with("error[syntax]: Syntax errors in policy.\n"),
        "{out}"
    );
    assert!(
        out.contains("--> tests/cases/validate/effect-permit.json:4:"),
        "{out}"
    );
    assert!(
        out.contains("^^^^^^^^ `Effect` must be `Allow` or `Deny`, not `Permit`"),
        "{out}"
    );
    assert!(out.contains("= pointer: /Statement/0/Effect"), "{out}");
}

#[test]
fn json_format_has_files_findings_and_summary() {
    let o = run(&[
        "validate",
        "--format",
        "json",
        "tests/cases/validate/sid-duplicate.json",
        "tests/cases/validate/mixed-services-valid.json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["valid"], false);
    assert_eq!(
        v["files"][0]["iamMessage"],
        "Statement IDs (SID) in a single policy must be unique."
    );
    let f = &v["files"][0]["findings"][0];
    assert_eq!(f["severity"], "error");
    assert_eq!(f["code"], "duplicate-sid");
    assert_eq!(f["line"], 5);
    assert_eq!(f["pointer"], "/Statement/1/Sid");
    assert_eq!(v["files"][1]["valid"], true);
    assert_eq!(v["files"][1]["findings"].as_array().unwrap().len(), 0);
    assert_eq!(v["summary"]["files"], 2);
    assert_eq!(v["summary"]["errors"], 1);
}

#[test]
fn sarif_format_is_sarif_2_1_0() {
    let o = run(&[
        "validate",
        "--format",
        "sarif",
        "tests/cases/validate/lint-allow-all.json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "security warnings alone do not fail"
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let r = &v["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "allow-all");
    assert_eq!(r["level"], "warning");
    assert_eq!(
        r["locations"][0]["physicalLocation"]["region"]["startLine"],
        4
    );
    assert_eq!(v["runs"][0]["tool"]["driver"]["name"], "swf-iam");
}

#[test]
fn stdin_directory_and_glob_inputs() {
    let mut child = bin()
        .args(["validate", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"swf:RecordActivityTaskHeartbeat","Resource":"*"}}"#)
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["path"], "-");

    let o = run(&["validate", "--format", "json", "tests/cases/validate"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let n = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/validate"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert_eq!(v["summary"]["files"], n);

    // IAM wildcards are not globs, but the CLI's PATH patterns are.
    let o = run(&[
        "validate",
        "--format",
        "json",
        "tests/cases/validate/sid-*.json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["files"], 2);
}

#[test]
fn missing_path_is_a_usage_error_naming_it() {
    let o = run(&["validate", "no/such/policy.json"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(
        err.trim(),
        "swf-iam: cannot read `no/such/policy.json`: No such file or directory"
    );
    let o = run(&["validate", "no/such/*.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8(o.stderr)
        .unwrap()
        .contains("no files match `no/such/*.json`"));
    let o = run(&["validate", "--format", "yaml", "x.json"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn size_quota_depends_on_kind() {
    let p = "tests/cases/validate/policy-too-large.json";
    let o = run(&["validate", "--format", "json", p]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["files"][0]["iamMessage"],
        "Cannot exceed quota for PolicySize: 6144"
    );
    let o = run(&["validate", "--format", "json", "--kind", "inline-role", p]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "inline kinds need --name: no placeholder name in IAM's message"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("--name"));
    let o = run(&[
        "validate",
        "--format",
        "json",
        "--kind",
        "inline-role",
        "--name",
        "worker",
        p,
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["valid"], true);
    let o = run(&[
        "validate",
        "--format",
        "json",
        "--kind",
        "inline-user",
        "--name",
        "alice",
        p,
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["files"][0]["iamMessage"],
        "Maximum policy size of 2048 bytes exceeded for user alice"
    );
}

/// `validate policies/` counts files as files and policies as policies, shows paths
/// without `..`, and its text and JSON summaries mean the same by each count.
#[test]
fn the_shipped_folder_counts_files_and_policies_alike_in_text_and_json() {
    let text = stdout(&run(&["validate", "policies/"]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&run(&[
        "validate",
        "policies/",
        "--format",
        "json",
    ])))
    .unwrap();
    let files = v["files"].as_array().unwrap();
    let mut paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(paths.iter().all(|p| !p.contains("/../")), "{paths:?}");
    let policies = paths.len();
    paths.sort_unstable();
    paths.dedup();
    let s = &v["summary"];
    assert_eq!(s["files"], paths.len());
    assert_eq!(s["policies"], policies);
    assert!(
        paths.len() < policies,
        "the sources example holds many policies a file"
    );
    let count = |sev: &str| {
        files
            .iter()
            .flat_map(|f| f["findings"].as_array().unwrap())
            .filter(|x| x["severity"] == sev)
            .count()
    };
    assert_eq!(s["warnings"], count("warning"));
    assert_eq!(s["securityWarnings"], count("security-warning"));
    let last = text.lines().last().unwrap();
    assert_eq!(
        last,
        format!(
            "{} files checked ({policies} policies): {} rejected by IAM, {} errors, {} security warning{}, {} warning{}",
            paths.len(),
            s["invalid"],
            s["errors"],
            s["securityWarnings"],
            if s["securityWarnings"] == 1 { "" } else { "s" },
            s["warnings"],
            if s["warnings"] == 1 { "" } else { "s" },
        )
    );
    assert!(!text.contains("/../"), "paths are normalised");
}

/// The GitHub Action's script: SARIF written, validate's exit code kept.
#[test]
fn the_action_script_writes_sarif_and_keeps_the_exit_code() {
    let dir = std::env::temp_dir().join(format!("swf-iam-action-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/validate-sarif");
    let run = |out: &std::path::Path, path: &str| {
        std::process::Command::new(script)
            .arg(out)
            .arg(path)
            .env("SWF_IAM_BIN", env!("CARGO_BIN_EXE_swf-iam"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    };
    let good = dir.join("good.sarif");
    let o = run(&good, "policies/identity");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&good).unwrap()).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let bad_policy = dir.join("bad.json");
    std::fs::write(
        &bad_policy,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"swf:*","Resource":"*"}}"#,
    )
    .unwrap();
    let bad = dir.join("bad.sarif");
    let o = run(&bad, bad_policy.to_str().unwrap());
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&bad).unwrap()).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("The policy failed legacy parsing"));
}
