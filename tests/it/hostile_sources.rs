//! Hostile source files, on the real binary with its time and peak memory measured: what
//! a small file can make an importer expand, files that are not files, quadratic and
//! exponential shapes. Each stays within the documented limits, and says which it hit.

use super::cli_analysis::run_measured;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("swf-iam-hostile-src-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes a configuration reading `source` (`{"cloudFormation": "t.yaml"}`...) plus
/// `extra` members, and runs `principals --format json` on it: (exit code, stdout+stderr,
/// wall time, peak bytes).
fn principals(dir: &Path, source: Value, extra: Value) -> (Option<i32>, String, Duration, u64) {
    let mut cfg = json!({"account": "123456789012", "region": "us-east-1", "sources": [source]});
    if let (Value::Object(c), Value::Object(e)) = (&mut cfg, extra) {
        c.extend(e);
    }
    let path = dir.join("swf-iam.json");
    std::fs::write(&path, cfg.to_string()).unwrap();
    let (o, wall, peak) = run_measured(&[
        "principals",
        "--format",
        "json",
        "--config",
        path.to_str().unwrap(),
    ]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code(), text, wall, peak)
}

const MIB: u64 = 1 << 20;

/// A 2.2 KB template whose role names are `Fn::Join`s of four `Ref`s to the next role,
/// 14 levels deep: 4^14 evaluations and a 268-million-character name before; now each
/// name is resolved once and the text stops at the expansion budget: that role is
/// unresolved, the rest of the file loads.
#[test]
fn an_exponential_join_chain_stops_at_the_expansion_budget() {
    let dir = tmp("join");
    let mut t = String::from("Resources:\n");
    for i in 0..15 {
        let name = if i == 14 {
            "x".to_owned()
        } else {
            let r = format!("!Ref R{}", i + 1);
            format!("!Join ['', [{r}, {r}, {r}, {r}]]")
        };
        t.push_str(&format!(
            "  R{i}:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: {name}\n"
        ));
    }
    assert!(t.len() < 2_400, "{}", t.len());
    std::fs::write(dir.join("t.yaml"), &t).unwrap();
    let (code, text, wall, peak) = principals(&dir, json!({"cloudFormation": "t.yaml"}), json!({}));
    assert!(wall < Duration::from_secs(20), "{wall:?}");
    assert!(peak < 1024 * MIB, "peak {} MiB", peak / MIB);
    assert!(
        text.contains("maxExpansion"),
        "{code:?} {}",
        &text[..text.len().min(2000)]
    );
    // The deepest roles have short names and load.
    assert!(
        text.contains("role/xxxx"),
        "{}",
        &text[..text.len().min(2000)]
    );
}

/// 5,000 memberships naming a user the plan cannot resolve: every user is unresolved,
/// with at most 16 reasons each (not 5,000 copies of every error).
#[test]
fn unresolvable_memberships_cost_each_user_a_constant() {
    let dir = tmp("members");
    let res = |ty: &str, name: &str, values: Value| json!({"address": format!("{ty}.{name}"), "mode": "managed", "type": ty, "name": name, "values": values});
    let mut resources = vec![res("aws_iam_group", "g", json!({"name": "g"}))];
    let mut config = Vec::new();
    for i in 0..2_000 {
        resources.push(res(
            "aws_iam_user",
            &format!("u{i}"),
            json!({"name": format!("u{i}")}),
        ));
    }
    for i in 0..5_000 {
        let m = format!("m{i}");
        resources.push(res(
            "aws_iam_user_group_membership",
            &m,
            json!({"groups": ["g"]}),
        ));
        config.push(
            json!({"address": format!("aws_iam_user_group_membership.{m}"),
            "expressions": {"user": {"references": [format!("random_pet.p{i}.id")]}}}),
        );
    }
    let plan = json!({"format_version": "1.2",
        "planned_values": {"root_module": {"resources": resources}},
        "configuration": {"root_module": {"resources": config}}});
    std::fs::write(dir.join("plan.json"), plan.to_string()).unwrap();
    let (code, text, wall, peak) =
        principals(&dir, json!({"terraformPlan": "plan.json"}), json!({}));
    assert_eq!(
        code,
        Some(1),
        "unresolved principals: {}",
        &text[..text.len().min(1000)]
    );
    assert!(wall < Duration::from_secs(30), "{wall:?}");
    assert!(peak < 512 * MIB, "peak {} MiB", peak / MIB);
    let v: Value =
        serde_json::from_str(text.lines().next().map_or("", |_| &text)).unwrap_or(Value::Null);
    let listed = v
        .as_array()
        .or_else(|| v["principals"].as_array())
        .cloned()
        .unwrap_or_default();
    assert_eq!(listed.len(), 2_000, "{}", &text[..text.len().min(500)]);
    for p in &listed {
        let m = p["missing"].as_array().unwrap();
        assert!(!m.is_empty() && m.len() <= 17, "{}", m.len());
    }
}

/// 100,000 users in authorization details load in linear time (the duplicate check was
/// quadratic: more than 120 s).
#[test]
fn a_hundred_thousand_users_load_in_linear_time() {
    let dir = tmp("authz");
    let users: Vec<Value> = (0..100_000)
        .map(|i| {
            json!({"Path": "/", "UserName": format!("u{i}"), "UserId": format!("AIDA{i:016}"),
            "Arn": format!("arn:aws:iam::123456789012:user/u{i}"), "GroupList": [],
            "AttachedManagedPolicies": [], "UserPolicyList": []})
        })
        .collect();
    let doc = json!({"UserDetailList": users, "GroupDetailList": [], "RoleDetailList": [], "Policies": []});
    std::fs::write(dir.join("authz.json"), doc.to_string()).unwrap();
    let (code, text, wall, _) = principals(
        &dir,
        json!({"authorizationDetails": "authz.json"}),
        json!({}),
    );
    assert_eq!(code, Some(0), "{}", &text[..text.len().min(1000)]);
    assert!(wall < Duration::from_secs(60), "{wall:?}");
}

/// What is not a regular file is refused at once (a FIFO is never opened, `/dev/zero`
/// never read); an oversized file is refused from its size, by the configured limit.
#[test]
fn devices_fifos_and_oversized_sources_are_refused_at_once() {
    let dir = tmp("files");
    #[cfg(unix)]
    {
        let _ = std::fs::remove_file(dir.join("zero.json"));
        std::os::unix::fs::symlink("/dev/zero", dir.join("zero.json")).unwrap();
        let (code, text, wall, _) = principals(
            &dir,
            json!({"authorizationDetails": "zero.json"}),
            json!({}),
        );
        assert_eq!(code, Some(2), "{text}");
        assert!(
            text.contains("is not a regular file (a character device)"),
            "{text}"
        );
        assert!(wall < Duration::from_secs(10));
        let fifo = dir.join("fifo.json");
        if std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success())
        {
            let (code, text, wall, _) =
                principals(&dir, json!({"terraformPlan": "fifo.json"}), json!({}));
            assert_eq!(code, Some(2), "{text}");
            assert!(text.contains("(a FIFO)"), "{text}");
            assert!(wall < Duration::from_secs(10));
        }
    }
    std::fs::write(
        dir.join("t.yaml"),
        "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: r\n",
    )
    .unwrap();
    let (code, _, _, _) = principals(&dir, json!({"cloudFormation": "t.yaml"}), json!({}));
    assert_eq!(code, Some(0));
    let (code, text, _, _) = principals(
        &dir,
        json!({"cloudFormation": "t.yaml"}),
        json!({"importLimits": {"maxFileBytes": 20}}),
    );
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("at most 20 bytes"), "{text}");
    let (code, text, _, _) = principals(
        &dir,
        json!({"cloudFormation": "t.yaml"}),
        json!({"importLimits": {"maxFileBytes": -1}}),
    );
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("positive whole number"), "{text}");
}

/// Invalid UTF-8 in a YAML template is an error at its place, not replaced silently.
#[test]
fn invalid_utf8_is_an_error_at_its_place() {
    let dir = tmp("utf8");
    let mut t =
        b"Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: r".to_vec();
    t.push(0xff);
    t.extend(b"x\n");
    std::fs::write(dir.join("t.yaml"), &t).unwrap();
    let (code, text, _, _) = principals(&dir, json!({"cloudFormation": "t.yaml"}), json!({}));
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("not valid UTF-8: byte 0xff"), "{text}");
    assert!(text.contains(":5:"), "line 5: {text}");
}

/// A megabyte scalar named by thousands of aliases is refused by the expansion budget,
/// with little memory, and a configuration may raise the budget.
#[test]
fn yaml_alias_expansion_is_budgeted() {
    let dir = tmp("aliases");
    let mut t = format!(
        "Parameters:\n  Big:\n    Type: String\n    Default: &big {}\nResources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: r\n      Tags:\n",
        "x".repeat(1 << 20)
    );
    for _ in 0..2_500 {
        t.push_str("        - {Key: k, Value: *big}\n");
    }
    std::fs::write(dir.join("t.yaml"), &t).unwrap();
    let (code, text, wall, peak) = principals(&dir, json!({"cloudFormation": "t.yaml"}), json!({}));
    assert_eq!(code, Some(2), "{}", &text[..text.len().min(500)]);
    assert!(
        text.contains("aliases expand the document beyond"),
        "{}",
        &text[..text.len().min(500)]
    );
    assert!(wall < Duration::from_secs(20), "{wall:?}");
    assert!(peak < 512 * MIB, "peak {} MiB", peak / MIB);
}
