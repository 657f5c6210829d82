//! `swf-iam diff` at organization size: two configurations of 10,000 principals × 20
//! statements (a policy file each; wildcards, domain patterns, a third of the statements
//! with conditions), 5 % of the principals changed (one statement's condition relaxed).
//! Runs the binary as a user would and prints the wall time and its peak resident
//! memory. See benches/README.md.
//!
//! Usage: cargo bench --bench diff_org -- [--principals N] [--statements S]

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a bench fails loudly"
)]
#![allow(missing_docs, reason = "a bench binary")]

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ACTIONS: &[&str] = &[
    "swf:PollForActivityTask",
    "swf:RecordActivityTaskHeartbeat",
    "swf:RespondActivityTask*",
    "swf:Describe*",
    "swf:List*",
    "swf:StartWorkflowExecution",
    "swf:SignalWorkflowExecution",
    "swf:ScheduleActivityTask",
    "swf:TerminateWorkflowExecution",
];

fn statement(i: usize, j: usize, changed: bool) -> String {
    let effect = if j % 10 == 9 { "Deny" } else { "Allow" };
    let a1 = ACTIONS[(i * 7 + j) % ACTIONS.len()];
    let a2 = ACTIONS[(i * 3 + j * 5 + 1) % ACTIONS.len()];
    let team = i % 40;
    let resource = match (i + j) % 4 {
        0 => format!("arn:aws:swf:us-east-1:123456789012:/domain/team{team}-{j}"),
        1 => format!("arn:aws:swf:us-east-1:123456789012:/domain/team{team}-*"),
        2 => format!(
            "arn:aws:swf:us-east-1:123456789012:/domain/shared-{}",
            j % 7
        ),
        _ => "arn:aws:swf:*:123456789012:/domain/*".to_owned(),
    };
    let condition = if changed && j == 0 {
        r#", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}"#.to_owned()
    } else {
        match (j % 3, (i + j) % 4) {
            (0, 0) => format!(r#", "Condition": {{"IpAddress": {{"aws:SourceIp": "10.{j}.0.0/16"}}}}"#),
            (0, 1) => r#", "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}"#.to_owned(),
            (0, 2) => r#", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}"#.to_owned(),
            (0, _) => format!(r#", "Condition": {{"StringLike": {{"swf:activityType.name": "t{j}-*"}}}}"#),
            _ => String::new(),
        }
    };
    format!(
        r#"{{"Effect": "{effect}", "Action": ["{a1}", "{a2}"], "Resource": "{resource}"{condition}}}"#
    )
}

/// A configuration of `principals` principals, each with one policy file of
/// `statements` statements (the changed ones a variant file).
fn write_config(
    path: &std::path::Path,
    principals: usize,
    statements: usize,
    changed: &dyn Fn(usize) -> bool,
) {
    let dir = path.parent().unwrap();
    let mut s = String::from("{\"partition\": \"aws\", \"region\": \"us-east-1\", \"account\": \"123456789012\",\n\"principals\": [\n");
    for i in 0..principals {
        let variant = changed(i);
        let file = format!("p{i}{}.json", if variant { "v" } else { "" });
        let policy = dir.join(&file);
        if !policy.exists() {
            let sts: Vec<String> = (0..statements).map(|j| statement(i, j, variant)).collect();
            std::fs::write(
                &policy,
                format!(
                    "{{\"Version\": \"2012-10-17\", \"Statement\": [{}]}}\n",
                    sts.join(",\n")
                ),
            )
            .unwrap();
        }
        let _ = write!(
            s,
            r#"{{"arn": "arn:aws:iam::123456789012:role/r{i}", "tags": {{"team": "team{}"}}, "policies": ["{file}"]}}{}"#,
            i % 40,
            if i + 1 < principals { ",\n" } else { "\n" }
        );
    }
    s.push_str("]}\n");
    std::fs::write(path, s).unwrap();
}

fn peak_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let principals = arg("--principals", 10_000);
    let statements = arg("--statements", 20);
    let dir = std::env::temp_dir().join(format!("swf-iam-diff-org-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let before = dir.join("before.json");
    let after = dir.join("after.json");
    write_config(&before, principals, statements, &|_| false);
    write_config(&after, principals, statements, &|i| i % 20 == 3);
    let t0 = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .args(["diff", "--format", "json", "--before"])
        .arg(&before)
        .arg("--after")
        .arg(&after)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let reader = std::thread::spawn({
        let mut out = child.stdout.take().unwrap();
        move || {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut out, &mut s).unwrap();
            s
        }
    });
    let mut peak = 0;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        peak = peak.max(peak_kib(pid).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = t0.elapsed();
    let text = reader.join().unwrap();
    let out: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{e}: exit {status}, output {:?}; inputs kept in {}",
            &text[..text.len().min(300)],
            dir.display()
        )
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out["complete"], true, "{}", out["incomplete"]);
    let widened = out["widened"].as_u64().unwrap();
    assert!(widened > 0, "the changed principals widen: {status}");
    println!(
        "diff: {principals} principals × {statements} statements, {} changed: {widened} widened, {} narrowed in {:.2} s wall; peak RSS {} MiB (exit {status})",
        principals.div_ceil(20),
        out["narrowed"],
        wall.as_secs_f64(),
        peak / 1024
    );
}
