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
    // Another time changes the witnesses: a difference, reported.
    let o = run(&["access", "--now", "2026-12-02T00:00:00Z", "--snapshot", &d]);
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
    assert!(text.ends_with("cannot: arn:aws:iam::123456789012:role/billing-worker, arn:aws:iam::123456789012:user/ops-admin\n"), "{text}");
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
