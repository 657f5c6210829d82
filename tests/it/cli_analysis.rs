//! `access`, `who-can` and `diff` on the real binary: the shipped configuration, the
//! worked example in `policies/diff-example/`, exit codes, snapshots, and witnesses
//! replayed through `check --requests`.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

const NOW: &str = "2026-12-01T00:00:00Z";
const WORKER: &str = "arn:aws:iam::123456789012:role/heartbeat-worker";
const OPS: &str = "arn:aws:iam::123456789012:user/ops-admin";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SWF_IAM_CONFIG")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("swf-iam-analysis-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn access_of_the_shipped_configuration() {
    let o = run(&["access", "--now", NOW, "--principal", WORKER]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = stdout(&o);
    assert!(text.starts_with(&format!("{WORKER}\n  swf:PollForActivityTask:\n    on `orders` when aws:SourceIp in 10.0.0.0/8, 127.0.0.0/8 or ::1/128\n")), "{text}");
    assert!(text.contains("  never: swf:CancelTimer, "), "{text}");
    let v = json(&run(&[
        "access",
        "--now",
        NOW,
        "--format",
        "json",
        "--action",
        "swf:RecordActivityTaskHeartbeat",
        "--action",
        "swf:Poll*",
    ]));
    assert_eq!(v["complete"], true);
    let principals = v["principals"].as_array().unwrap();
    let arns: Vec<&str> = principals
        .iter()
        .map(|p| p["principal"].as_str().unwrap())
        .collect();
    let mut sorted = arns.clone();
    sorted.sort_unstable();
    assert_eq!(arns, sorted, "sorted by ARN");
    let worker = principals
        .iter()
        .find(|p| p["principal"] == WORKER)
        .unwrap();
    let actions: Vec<&str> = worker["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "swf:PollForActivityTask",
            "swf:PollForDecisionTask",
            "swf:RecordActivityTaskHeartbeat"
        ]
    );
    let hb = &worker["actions"][2];
    assert_eq!(hb["access"], "conditional");
    assert_eq!(hb["allowed"][0]["domains"][0]["description"], "`orders`");
    assert_eq!(hb["allowed"][0]["when"][0]["key"], "aws:SourceIp");
    assert_eq!(worker["actions"][1]["access"], "never");
    let ops = principals.iter().find(|p| p["principal"] == OPS).unwrap();
    assert_eq!(ops["actions"][1]["action"], "swf:PollForDecisionTask");
    assert_eq!(
        ops["actions"][1]["allowed"][0]["domains"][0]["description"],
        "any domain except `prod-*`"
    );
}

#[test]
fn the_access_surface_matches_its_reviewed_snapshots() {
    // The committed snapshots were reviewed; a policy change under policies/ that
    // widens or narrows anyone's access fails here until they are updated.
    let o = run(&[
        "access",
        "--now",
        NOW,
        "--snapshot",
        "tests/it/snapshots/access",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A fresh directory: every principal is new (exit 1, .snap.new), then accepted.
    let dir = tempdir("snap");
    let d = dir.display().to_string();
    let o = run(&["access", "--now", NOW, "--snapshot", &d]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("has no snapshot yet"));
    let news = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(news, 3);
    assert_eq!(
        run(&["access", "--now", NOW, "--snapshot", &d, "--accept"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(&["access", "--now", NOW, "--snapshot", &d])
            .status
            .code(),
        Some(0)
    );
    // No shipped policy reads the time: another time is the same surface.
    let o = run(&["access", "--now", "2026-12-02T00:00:00Z", "--snapshot", &d]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A changed snapshot is a difference, reported.
    let snap = dir.join("access__arn_aws_iam__123456789012_role_heartbeat-worker.snap");
    let text = std::fs::read_to_string(&snap).unwrap();
    std::fs::write(&snap, text.replace("10.0.0.0/8", "10.0.0.0/9")).unwrap();
    let o = run(&["access", "--now", NOW, "--snapshot", &d]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("differs from its snapshot"));
}

#[test]
fn who_can_heartbeat_on_a_domain() {
    let o = run(&["who-can", "--domain", "orders", "--now", NOW]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(
        text.starts_with(&format!(
            "who can swf:RecordActivityTaskHeartbeat on domain `orders`:\n  {WORKER}:\n    when aws:SourceIp in 10.0.0.0/8, 127.0.0.0/8 or ::1/128\n"
        )),
        "{text}"
    );
    // The operator may not itself, but may assume the worker role (its trust policy
    // names the operator), which may.
    assert!(
        text.contains(&format!(
            "  {OPS}: through {OPS} -> {WORKER}\n      assumes {WORKER} (always)\n"
        )),
        "{text}"
    );
    assert!(
        text.ends_with("cannot: arn:aws:iam::123456789012:role/billing-worker\n"),
        "{text}"
    );
    let v = json(&run(&[
        "who-can",
        "swf:DescribeDomain",
        "--domain",
        "orders",
        "--format",
        "json",
    ]));
    assert_eq!(v["action"], "swf:DescribeDomain");
    let ops = v["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["principal"] == OPS)
        .unwrap();
    assert_eq!(ops["access"], "always");
    // Nobody on a production domain: exit 1.
    let o = run(&["who-can", "swf:DescribeDomain", "--domain", "prod-eu"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("  nobody\n"));
    // Input errors: exit 2 with one line.
    for args in [
        vec!["who-can", "--domain", "a:b"],
        vec!["who-can"],
        vec!["who-can", "swf:ListDomains", "--domain", "orders"],
        vec!["who-can", "swf:Poll*", "--domain", "orders"],
        vec![
            "who-can",
            "swf:RecordActivityTaskHartbeat",
            "--domain",
            "orders",
        ],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let o = run(&[
        "who-can",
        "swf:RecordActivityTaskHartbeat",
        "--domain",
        "orders",
    ]);
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("did you mean `swf:RecordActivityTaskHeartbeat`?"));
}

#[test]
fn diff_finds_the_widening_condition_with_a_replayable_witness() {
    let before = "policies/diff-example/before.json";
    let after = "policies/diff-example/after.json";
    let o = run(&["diff", "--before", before, "--after", after, "--now", NOW]);
    assert_eq!(o.status.code(), Some(1), "widened: fails by default");
    let text = stdout(&o);
    assert!(text.contains(&format!("widened  {OPS} swf:TerminateWorkflowExecution\n    on `orders` when aws:MultiFactorAuthPresent absent\n")), "{text}");
    assert!(text.contains(&format!("narrowed {OPS} swf:RequestCancelWorkflowExecution\n    on `orders` when aws:MultiFactorAuthPresent = true\n")), "{text}");
    assert!(text.ends_with("2 changes (1 widened, 1 narrowed); every request compared\n"));
    let v = json(&run(&[
        "diff", "--before", before, "--after", after, "--now", NOW, "--format", "json",
    ]));
    assert_eq!(
        (v["widened"].as_u64(), v["narrowed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(v["complete"], true);
    let changes = v["changes"].as_array().unwrap();
    let widened = changes.iter().find(|c| c["change"] == "widened").unwrap();
    assert_eq!(widened["before"], "implicitDeny");
    assert_eq!(widened["after"], "allowed");
    assert!(widened["witness"].get("context").is_none(), "MFA absent");
    // Replay every witness with check: before and after decide as reported.
    let dir = tempdir("replay");
    let lines: Vec<String> = changes.iter().map(|c| c["witness"].to_string()).collect();
    let file = dir.join("witnesses.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    for (config, side) in [(before, "before"), (after, "after")] {
        let o = run(&[
            "check",
            "--config",
            config,
            "--requests",
            file.to_str().unwrap(),
        ]);
        let decisions: Vec<String> = stdout(&o)
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["decision"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let expected: Vec<String> = changes
            .iter()
            .map(|c| c[side].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(decisions, expected, "{side}");
    }
    // --fail-on.
    let code = |extra: &[&str]| {
        let mut a = vec!["diff", "--before", before, "--after", after];
        a.extend_from_slice(extra);
        run(&a).status.code()
    };
    assert_eq!(code(&["--fail-on", "narrowed"]), Some(1));
    assert_eq!(code(&["--fail-on", "any"]), Some(1));
    assert_eq!(
        code(&["--action", "swf:Terminate*", "--fail-on", "narrowed"]),
        Some(0)
    );
    assert_eq!(code(&["--action", "swf:RequestCancel*"]), Some(0));
}

#[test]
fn diff_of_a_configuration_with_itself_is_empty_and_bad_inputs_are_errors() {
    let shipped = "policies/swf-iam.json";
    let o = run(&[
        "diff",
        "--before",
        shipped,
        "--after",
        shipped,
        "--fail-on",
        "any",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "0 changes (0 widened, 0 narrowed); every request compared\n"
    );
    let dir = tempdir("bad");
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\"principals\": [").unwrap();
    let other = dir.join("other-account.json");
    std::fs::write(
        &other,
        r#"{"region": "us-east-1", "account": "999999999999", "principals": []}"#,
    )
    .unwrap();
    for args in [
        vec![
            "diff",
            "--before",
            shipped,
            "--after",
            broken.to_str().unwrap(),
        ],
        vec!["diff", "--before", "nope.json", "--after", shipped],
        vec![
            "diff",
            "--before",
            shipped,
            "--after",
            other.to_str().unwrap(),
        ],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {o:?}");
        assert!(stdout(&o).is_empty(), "never a report on bad input");
    }
    // A principal only after is widened wherever it is allowed; only before, narrowed.
    let only = dir.join("only-ops.json");
    std::fs::write(
        &only,
        std::fs::read_to_string("policies/diff-example/after.json")
            .unwrap()
            .replace(
                "\"ops-mfa-ifexists.json\"",
                &format!(
                    "\"{}/policies/diff-example/ops-mfa-ifexists.json\"",
                    env!("CARGO_MANIFEST_DIR")
                ),
            )
            .replace("user/ops-admin", "user/new-admin"),
    )
    .unwrap();
    let v = json(&run(&[
        "diff",
        "--before",
        "policies/diff-example/after.json",
        "--after",
        only.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let kinds: Vec<(String, String)> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["principal"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
                c["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("new-admin".to_owned(), "widened".to_owned()),
            ("ops-admin".to_owned(), "narrowed".to_owned())
        ]
    );
}

/// A principal allowed everything but denied heartbeats when two request keys match
/// `n` `StringLike` patterns each (the shape of a policy that blows the request space up).
fn deny_patterns_config(dir: &std::path::Path, name: &str, n: usize) -> String {
    let letters: Vec<char> = ('a'..='z').collect();
    let mut statements = vec![serde_json::json!(
        {"Effect": "Allow", "Action": "swf:*", "Resource": "*"}
    )];
    for i in 0..n {
        statements.push(serde_json::json!({
            "Effect": "Deny", "Action": "swf:RecordActivityTaskHeartbeat", "Resource": "*",
            "Condition": {"StringLike": {
                "aws:UserAgent": format!("*{}*", letters[i % 26]),
                "aws:Referer": format!("*{}*", letters[25 - i % 26]),
            }}
        }));
    }
    let cfg = serde_json::json!({"account": "123456789012", "region": "us-east-1",
        "principals": [{"arn": "arn:aws:iam::123456789012:role/w",
            "policies": [{"Version": "2012-10-17", "Statement": statements}]}]});
    let path = dir.join(name);
    std::fs::write(&path, cfg.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

/// An incomplete comparison never passes a `--fail-on` gate: it exits 3 and says what
/// was not analysed, where a complete one finds the widening (exit 1).
#[test]
fn an_incomplete_diff_never_passes_fail_on() {
    let dir = tempdir("incomplete-diff");
    let before = deny_patterns_config(&dir, "before.json", 2);
    let after = deny_patterns_config(&dir, "after.json", 0);
    let base = ["diff", "--before", &before, "--after", &after, "--now", NOW];
    let o = run(&base);
    assert_eq!(o.status.code(), Some(1), "the widening is found: {o:?}");
    for fail_on in ["widened", "narrowed", "any"] {
        let mut args = base.to_vec();
        args.extend(["--fail-on", fail_on, "--time-budget", "0.000001"]);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(3), "--fail-on {fail_on}: {o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("incomplete") && err.contains("time budget"),
            "{err}"
        );
        args.extend(["--format", "json"]);
        let v = json(&run(&args));
        assert_eq!(v["complete"], false);
        assert!(!v["incomplete"].as_array().unwrap().is_empty());
    }
    // who-can: "nobody may" is not said of an incomplete answer either.
    let o = run(&[
        "who-can",
        "swf:RecordActivityTaskHeartbeat",
        "--domain",
        "orders",
        "--config",
        &before,
        "--time-budget",
        "0.000001",
    ]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    // Bad budgets are usage errors.
    for bad in [["--time-budget", "0"], ["--memory-budget", "0"]] {
        let mut args = base.to_vec();
        args.extend(bad);
        assert_eq!(run(&args).status.code(), Some(2), "{bad:?}");
    }
}

/// Runs the binary and samples its peak resident memory (`VmHWM`) from `/proc` until it
/// exits: (output, wall time, peak bytes).
pub(crate) fn run_measured(args: &[&str]) -> (Output, std::time::Duration, u64) {
    let t0 = std::time::Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SWF_IAM_CONFIG")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampler = {
        let peak = peak.clone();
        std::thread::spawn(move || {
            while let Ok(s) = std::fs::read_to_string(&status) {
                if let Some(kb) = s
                    .lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
                {
                    peak.fetch_max(kb * 1024, std::sync::atomic::Ordering::Relaxed);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        })
    };
    let out = child.wait_with_output().unwrap();
    let wall = t0.elapsed();
    sampler.join().unwrap();
    (out, wall, peak.load(std::sync::atomic::Ordering::Relaxed))
}

/// A policy whose request space explodes (16 Deny statements with `StringLike` patterns
/// on two keys: millions of classes) stops within its time and memory budgets, with
/// `complete: false` and the reason, instead of exhausting the machine.
#[test]
fn an_exploding_analysis_stays_within_its_budgets() {
    assert!(
        std::path::Path::new("/proc/self/status").exists(),
        "this test measures memory through /proc (Linux)"
    );
    let dir = tempdir("budget");
    let cfg = deny_patterns_config(&dir, "explode.json", 16);
    let common = [
        "access",
        "--config",
        &cfg,
        "--action",
        "swf:RecordActivityTaskHeartbeat",
        "--now",
        NOW,
        "--format",
        "json",
    ];
    // Time: a 2 s budget ends the run within a few seconds.
    let mut args = common.to_vec();
    args.extend(["--time-budget", "2", "--memory-budget", "4096"]);
    let (o, wall, _) = run_measured(&args);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v = json(&o);
    assert_eq!(v["complete"], false);
    let reasons = v["principals"][0]["actions"][0]["incomplete"].to_string();
    assert!(reasons.contains("time budget of 2 s"), "{reasons}");
    assert!(wall < std::time::Duration::from_secs(8), "{wall:?}");
    // Memory: a 48 MiB budget holds the process near it (one check interval of growth).
    let mut args = common.to_vec();
    args.extend(["--time-budget", "600", "--memory-budget", "48"]);
    let (o, _, peak) = run_measured(&args);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v = json(&o);
    assert_eq!(v["complete"], false);
    let reasons = v["principals"][0]["actions"][0]["incomplete"].to_string();
    assert!(reasons.contains("memory budget of 48 MiB"), "{reasons}");
    assert!(peak > 0, "VmHWM was sampled");
    assert!(peak < 96 << 20, "peak resident memory {} MiB", peak >> 20);
}

/// A reviewed snapshot matches on the next run without `--now` (witnesses carry no
/// clock where no policy reads it); where one does, `--snapshot` asks for `--now`.
#[test]
fn snapshots_do_not_depend_on_when_they_are_taken() {
    let dir = tempdir("snap-now");
    let snaps = dir.join("snaps");
    let snap = |cfg: &str, accept: bool| {
        let mut args = vec![
            "access",
            "--config",
            cfg,
            "--snapshot",
            snaps.to_str().unwrap(),
        ];
        if accept {
            args.push("--accept");
        }
        run(&args)
    };
    let shipped = "policies/swf-iam.json";
    assert_eq!(snap(shipped, true).status.code(), Some(0));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let o = snap(shipped, false);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let timed = dir.join("timed.json");
    std::fs::write(
        &timed,
        r#"{"account": "123456789012", "region": "us-east-1", "principals": [{"arn": "arn:aws:iam::123456789012:role/t",
           "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*",
             "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}}]}]}]}"#,
    )
    .unwrap();
    let o = snap(timed.to_str().unwrap(), true);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("give --now TIMESTAMP"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
