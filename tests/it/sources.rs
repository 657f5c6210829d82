//! Sources (issue 16): real, public Terraform plans, CloudFormation templates and
//! authorization details (`tests/fixtures/sources/PROVENANCE.md`), imported and decided,
//! checked against the same policies given as plain JSON.
//!
//! The plain JSON is extracted from each fixture independently of the importers: with
//! `serde_json` (or `yaml-rust2`'s own loader) at JSON pointers written down here, by
//! reading the fixture.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use swf_iam::config::Config;
use swf_iam::eval::{self, DecisionKind, Request};
use swf_iam::swf::catalog::ACTIONS;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sources")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("swf-iam-sources-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn read_json(rel: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fixtures().join(rel)).unwrap()).unwrap()
}

/// A policy at `pointer`: an object, or a string holding JSON.
fn policy_at(doc: &Value, pointer: &str) -> Value {
    match doc
        .pointer(pointer)
        .unwrap_or_else(|| panic!("no {pointer}"))
    {
        Value::String(s) => serde_json::from_str(s).unwrap(),
        v => v.clone(),
    }
}

fn load(dir: &Path, config: Value) -> Config {
    let path = dir.join("swf-iam.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    Config::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Every action named in `policies` made concrete, and every SWF action.
fn actions(policies: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = ACTIONS.iter().map(|a| format!("swf:{}", a.name)).collect();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    if k == "Action" || k == "NotAction" {
                        let list = match v {
                            Value::Array(a) => a.clone(),
                            other => vec![other.clone()],
                        };
                        for a in list.iter().filter_map(Value::as_str) {
                            out.push(a.replace('*', "Anything").replace('?', "X"));
                        }
                    }
                    walk(v, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    for p in policies {
        walk(p, &mut out);
    }
    out.push("s3:GetObject".into());
    out.sort();
    out.dedup();
    out
}

const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:swf:us-east-1:123456789012:/domain/orders",
    "arn:aws:s3:::mybucket/key",
    "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
    "arn:aws:swf:us-east-1:012345678901:/domain/orders",
];

/// Decisions (kind, matched statements) of principal `arn` in `c` for every action and
/// resource.
fn decisions(
    c: &Config,
    arn: &str,
    actions: &[String],
) -> Vec<(String, String, DecisionKind, usize)> {
    let p = c
        .principal(arn)
        .unwrap_or_else(|| panic!("{arn} not in the configuration"));
    assert!(p.missing.is_empty(), "{arn}: {:?}", p.missing);
    let mut out = Vec::new();
    for a in actions {
        for r in RESOURCES {
            let ctx = swf_iam::eval::Context::over(p.base_context.clone());
            let req = Request {
                principal: &p.principal,
                action: a,
                resource: r,
                context: &ctx,
            };
            let d = eval::evaluate(&p.compiled, &req);
            assert!(d.error.is_none(), "{arn} {a} {r}: {:?}", d.error);
            out.push((
                a.clone(),
                (*r).to_owned(),
                d.decision,
                d.matched_statements.len(),
            ));
        }
    }
    out
}

/// Imports `source` and checks each `(principal, tags, plain policies)` decides every
/// request exactly as the plain configuration does; returns the imported configuration.
fn check_against_plain(
    name: &str,
    source: Value,
    extra: Value,
    expected: &[(&str, Vec<Value>)],
    tags: &[(&str, &str, &str)],
) -> Config {
    let dir = tmp(name);
    let mut imported_cfg = json!({"account": "123456789012", "sources": [source]});
    if let (Value::Object(m), Value::Object(e)) = (&mut imported_cfg, extra) {
        m.extend(e);
    }
    // Paths in the source are relative to the fixtures.
    let imported = {
        let path = fixtures().join(format!("{name}.swf-iam.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&imported_cfg).unwrap()).unwrap();
        let c = Config::load(&path);
        std::fs::remove_file(&path).unwrap();
        c.unwrap_or_else(|e| panic!("{e}"))
    };
    let plain_principals: Vec<Value> = expected
        .iter()
        .map(|(arn, pols)| {
            let t: serde_json::Map<String, Value> = tags
                .iter()
                .filter(|(a, _, _)| a == arn)
                .map(|(_, k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
                .collect();
            json!({"arn": arn, "policies": pols, "tags": t})
        })
        .collect();
    let plain = load(
        &dir,
        json!({"account": "123456789012", "principals": plain_principals}),
    );
    let all: Vec<Value> = expected.iter().flat_map(|(_, p)| p.clone()).collect();
    let acts = actions(&all);
    for (arn, pols) in expected {
        let got = decisions(&imported, arn, &acts);
        let want = decisions(&plain, arn, &acts);
        assert_eq!(got, want, "{name}: {arn} decides as its plain policies");
        let p = imported.principal(arn).unwrap();
        assert_eq!(
            p.policies.identity.len(),
            pols.len(),
            "{arn}: {:?}",
            p.policies
                .identity
                .iter()
                .map(|l| &l.name)
                .collect::<Vec<_>>()
        );
        // The request grid is not all one answer.
        let kinds: std::collections::HashSet<DecisionKind> = got.iter().map(|g| g.2).collect();
        assert!(
            !pols.is_empty() && (kinds.len() > 1 || kinds.contains(&DecisionKind::Allowed)),
            "{arn}: {kinds:?}"
        );
    }
    imported
}

#[test]
fn terraform_plan_decides_as_its_policies_given_as_plain_json() {
    let plan = read_json("terraform/identity_policies.plan.json");
    let res = "/planned_values/root_module/resources";
    let c = check_against_plain(
        "terraform",
        json!({"terraformPlan": "terraform/identity_policies.plan.json"}),
        json!({}),
        &[
            // `role` of aws_iam_role_policy.test_policy is known only after apply: the
            // configuration section names aws_iam_role.test_role.
            (
                "arn:aws:iam::123456789012:role/test_role",
                vec![policy_at(&plan, &format!("{res}/6/values/policy"))],
            ),
            (
                "arn:aws:iam::123456789012:role/yak_role",
                vec![
                    policy_at(&plan, &format!("{res}/4/values/inline_policy/0/policy")),
                    policy_at(&plan, &format!("{res}/4/values/inline_policy/1/policy")),
                ],
            ),
            (
                "arn:aws:iam::123456789012:user/system/loadbalancer",
                vec![policy_at(&plan, &format!("{res}/8/values/policy"))],
            ),
        ],
        &[],
    );
    let arns: Vec<&str> = c
        .principals
        .iter()
        .map(|p| p.principal.arn.as_str())
        .collect();
    assert_eq!(arns.len(), 3, "{arns:?}");
    // A tagged user of the second plan: tags become principal tags.
    let c2 = check_against_plain(
        "terraform2",
        json!({"terraformPlan": "terraform/no_access_granted.plan.json"}),
        json!({"managedPolicies": "managed-policies"}),
        &[],
        &[],
    );
    let lb = c2
        .principal("arn:aws:iam::123456789012:user/system/loadbalancer")
        .unwrap();
    assert_eq!(
        lb.principal.tags,
        [("tag-key".to_owned(), "tag-value".to_owned())]
    );
}

#[test]
fn authorization_details_decide_as_their_policies_given_as_plain_json() {
    let d = read_json("authorization-details/example-authz-details.json");
    let c = check_against_plain(
        "authz",
        json!({"authorizationDetails": "authorization-details/example-authz-details.json"}),
        json!({}),
        &[
            (
                // Inline, attached, the group's inline and the group's attached, each
                // managed policy at its default version.
                "arn:aws:iam::012345678901:user/biden",
                vec![
                    policy_at(&d, "/UserDetailList/2/UserPolicyList/0/PolicyDocument"),
                    policy_at(&d, "/Policies/7/PolicyVersionList/0/Document"),
                    policy_at(&d, "/GroupDetailList/1/GroupPolicyList/0/PolicyDocument"),
                    policy_at(&d, "/Policies/3/PolicyVersionList/0/Document"),
                ],
            ),
            (
                "arn:aws:iam::012345678901:user/obama",
                vec![policy_at(&d, "/Policies/18/PolicyVersionList/0/Document")],
            ),
            (
                "arn:aws:iam::012345678901:role/OverprivilegedEC2",
                vec![
                    policy_at(&d, "/RoleDetailList/2/RolePolicyList/0/PolicyDocument"),
                    policy_at(&d, "/Policies/1/PolicyVersionList/0/Document"),
                ],
            ),
        ],
        &[],
    );
    assert_eq!(c.principals.len(), 6);
    // obama (AdministratorAccess) may heartbeat in his own account, not in another
    // (SWF has no resource policies to grant cross-account access).
    let obama = c.principal("arn:aws:iam::012345678901:user/obama").unwrap();
    let ctx = swf_iam::eval::Context::over(obama.base_context.clone());
    let d = eval::evaluate(
        &obama.compiled,
        &Request {
            principal: &obama.principal,
            action: "swf:RecordActivityTaskHeartbeat",
            resource: "arn:aws:swf:us-east-1:012345678901:/domain/orders",
            context: &ctx,
        },
    );
    assert_eq!(d.decision, DecisionKind::Allowed);
    let d = eval::evaluate(
        &obama.compiled,
        &Request {
            principal: &obama.principal,
            action: "swf:RecordActivityTaskHeartbeat",
            resource: "arn:aws:swf:us-east-1:123456789012:/domain/orders",
            context: &ctx,
        },
    );
    assert_eq!(d.decision, DecisionKind::ImplicitDeny);
    let role = c
        .principal("arn:aws:iam::012345678901:role/MyRole")
        .unwrap();
    assert_eq!(
        role.principal.caller_arn,
        "arn:aws:sts::012345678901:assumed-role/MyRole/swf-iam"
    );
}

#[test]
fn url_encoded_documents_of_the_raw_api_decode_to_the_same_decisions() {
    // The CLI's objects turned into the raw API's URL-encoded strings.
    let mut d = read_json("authorization-details/example-authz-details.json");
    fn encode(v: &Value) -> Value {
        let text = serde_json::to_string(v).unwrap();
        let mut out = String::new();
        for b in text.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        Value::String(out)
    }
    for list in ["UserDetailList", "RoleDetailList", "GroupDetailList"] {
        for e in d[list].as_array_mut().unwrap() {
            for key in ["UserPolicyList", "RolePolicyList", "GroupPolicyList"] {
                if let Some(Value::Array(ps)) = e.get_mut(key) {
                    for p in ps {
                        p["PolicyDocument"] = encode(&p["PolicyDocument"]);
                    }
                }
            }
        }
    }
    for p in d["Policies"].as_array_mut().unwrap() {
        for v in p["PolicyVersionList"].as_array_mut().unwrap() {
            v["Document"] = encode(&v["Document"]);
        }
    }
    let dir = tmp("raw");
    std::fs::write(dir.join("raw.json"), serde_json::to_vec(&d).unwrap()).unwrap();
    std::fs::copy(
        fixtures().join("authorization-details/example-authz-details.json"),
        dir.join("cli.json"),
    )
    .unwrap();
    let raw = load(
        &dir,
        json!({"sources": [{"authorizationDetails": "raw.json"}]}),
    );
    let path = dir.join("cli.swf-iam.json");
    std::fs::write(
        &path,
        json!({"sources": [{"authorizationDetails": "cli.json"}]}).to_string(),
    )
    .unwrap();
    let cli = Config::load(&path).unwrap();
    let original = read_json("authorization-details/example-authz-details.json");
    let acts = actions(&[policy_at(
        &original,
        "/Policies/30/PolicyVersionList/0/Document",
    )]);
    for p in &cli.principals {
        assert_eq!(
            decisions(&raw, &p.principal.arn, &acts),
            decisions(&cli, &p.principal.arn, &acts),
            "{}",
            p.principal.arn
        );
    }
}

/// A YAML template's policy documents as `yaml-rust2`'s own loader reads them.
fn yaml_policy(rel: &str, path: &[&str]) -> Value {
    use yaml_rust2::{Yaml, YamlLoader};
    fn conv(y: &Yaml) -> Value {
        match y {
            Yaml::String(s) => Value::String(s.clone()),
            Yaml::Integer(i) => json!(i),
            Yaml::Real(r) => serde_json::from_str(r).unwrap(),
            Yaml::Boolean(b) => json!(b),
            Yaml::Array(a) => a.iter().map(conv).collect(),
            Yaml::Hash(h) => h
                .iter()
                .map(|(k, v)| (k.as_str().unwrap().to_owned(), conv(v)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            Yaml::Null => Value::Null,
            other => panic!("unexpected {other:?}"),
        }
    }
    let text = std::fs::read_to_string(fixtures().join(rel)).unwrap();
    let docs = YamlLoader::load_from_str(&text).unwrap();
    let mut y = &docs[0];
    for p in path {
        y = &y[*p];
    }
    conv(y)
}

#[test]
fn cloudformation_yaml_decides_as_its_policies_given_as_plain_json() {
    let doc = |r: &str| {
        yaml_policy(
            "cloudformation/nist_iam.yaml",
            &["Resources", r, "Properties", "PolicyDocument"],
        )
    };
    let c = check_against_plain(
        "nist",
        json!({"cloudFormation": "cloudformation/nist_iam.yaml"}),
        json!({}),
        &[
            // Managed policies attached with `Roles: [Ref: ...]`: named by logical ID.
            (
                "arn:aws:iam::123456789012:role/rSysAdminRole",
                vec![doc("rSysAdminPolicy")],
            ),
            (
                "arn:aws:iam::123456789012:role/rIAMAdminRole",
                vec![doc("rIAMAdminPolicy")],
            ),
            (
                "arn:aws:iam::123456789012:role/rReadOnlyAdminRole",
                vec![doc("rReadOnlyAdminPolicy")],
            ),
        ],
        &[],
    );
    assert_eq!(c.principals.len(), 4);
}

#[test]
fn a_template_in_yaml_and_in_json_imports_alike_and_parameters_and_managed_policies_resolve_it() {
    let topic = "arn:aws:sns:us-east-1:123456789012:relay";
    let role = "arn:aws:iam::123456789012:role/PollerFunctionIamRole";
    let mut texts = Vec::new();
    for file in ["lambda-poller.yaml", "lambda-poller.json"] {
        let path = fixtures()
            .join("cloudformation")
            .join(format!("{file}.swf-iam.json"));
        // Without the parameter and the AWS managed policy, the role is unresolved.
        std::fs::write(
            &path,
            json!({"sources": [{"cloudFormation": file}]}).to_string(),
        )
        .unwrap();
        let c = Config::load(&path);
        let c = c.unwrap_or_else(|e| panic!("{e}"));
        let p = c.principal(role).unwrap();
        assert_eq!(p.missing.len(), 2, "{:?}", p.missing);
        assert!(
            p.missing[0].contains("parameter SlackMessageRelayTopicArn has no Default"),
            "{:?}",
            p.missing
        );
        assert!(
            p.missing[1].contains("AWSLambdaBasicExecutionRole is not in any source"),
            "{:?}",
            p.missing
        );
        std::fs::write(
            &path,
            json!({"sources": [{"cloudFormation": file, "parameters": {"SlackMessageRelayTopicArn": topic}}],
                   "managedPolicies": "../managed-policies"})
            .to_string(),
        )
        .unwrap();
        let c = Config::load(&path);
        std::fs::remove_file(&path).unwrap();
        let c = c.unwrap_or_else(|e| panic!("{e}"));
        let p = c.principal(role).unwrap();
        assert!(p.missing.is_empty(), "{:?}", p.missing);
        // The other role needs the generated name of a Lambda function: never guessed.
        let other = c
            .principal("arn:aws:iam::123456789012:role/PollerEventRuleIamRole")
            .unwrap();
        assert!(
            other.missing[0].contains("has no FunctionName"),
            "{:?}",
            other.missing
        );
        let ctx = swf_iam::eval::Context::over(p.base_context.clone());
        let publish = eval::evaluate(
            &p.compiled,
            &Request {
                principal: &p.principal,
                action: "sns:Publish",
                resource: topic,
                context: &ctx,
            },
        );
        assert_eq!(publish.decision, DecisionKind::Allowed);
        let logs = eval::evaluate(
            &p.compiled,
            &Request {
                principal: &p.principal,
                action: "logs:PutLogEvents",
                resource: "*",
                context: &ctx,
            },
        );
        assert_eq!(logs.decision, DecisionKind::Allowed);
        let other_topic = eval::evaluate(
            &p.compiled,
            &Request {
                principal: &p.principal,
                action: "sns:Publish",
                resource: "arn:aws:sns:us-east-1:123456789012:x",
                context: &ctx,
            },
        );
        assert_eq!(other_topic.decision, DecisionKind::ImplicitDeny);
        texts.push(
            p.policies
                .identity
                .iter()
                .map(|l| l.source.text().to_owned())
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(texts[0], texts[1], "YAML and JSON give the same policies");
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_swf-iam"))
}

#[test]
fn check_refuses_an_unresolved_principal_and_principals_lists_what_is_missing() {
    let dir = tmp("cli");
    std::fs::copy(
        fixtures().join("cloudformation/lambda-poller.yaml"),
        dir.join("t.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.join("swf-iam.json"),
        json!({"sources": [{"cloudFormation": "t.yaml"}],
               "accessKeys": [{"principal": "arn:aws:iam::123456789012:role/PollerFunctionIamRole", "accessKeyId": "AKIAPOLLER", "secretAccessKey": "s"}]})
        .to_string(),
    )
    .unwrap();
    let cfg = dir.join("swf-iam.json");
    let out = bin()
        .args(["check", "--config"])
        .arg(&cfg)
        .args([
            "--principal",
            "arn:aws:iam::123456789012:role/PollerFunctionIamRole",
            "--action",
            "swf:RecordActivityTaskHeartbeat",
            "--domain",
            "orders",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot be decided: not every policy of it is known"),
        "{err}"
    );
    assert!(err.contains("AWSLambdaBasicExecutionRole"), "{err}");
    let out = bin()
        .args(["principals", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("UNRESOLVED (every request of it is denied)"),
        "{text}"
    );
    assert!(text.contains("keys:     AKIAPOLLER"), "{text}");
    assert!(
        text.contains("2 principals, 2 with unresolved policies"),
        "{text}"
    );
    // An access key for a principal nobody defines is an error with its place.
    std::fs::write(
        &cfg,
        json!({"sources": [{"cloudFormation": "t.yaml"}],
               "accessKeys": [{"principal": "arn:aws:iam::123456789012:role/Nobody", "accessKeyId": "AKIA1", "secretAccessKey": "s"}]})
        .to_string(),
    )
    .unwrap();
    let e = Config::load(&cfg).unwrap_err().to_string();
    assert!(
        e.contains(
            "no configured or imported principal is `arn:aws:iam::123456789012:role/Nobody`"
        ),
        "{e}"
    );
}

#[test]
fn validate_places_findings_inside_plans_and_yaml_templates() {
    let dir = tmp("validate");
    // A plan whose policy string has a misspelt action and a bad Effect case.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"swf:RecordActivityTaskHeartbeet","Resource":"*"}]}"#;
    let plan = json!({"format_version": "1.2", "planned_values": {"root_module": {"resources": [
        {"address": "aws_iam_role.w", "mode": "managed", "type": "aws_iam_role", "name": "w", "values": {"name": "w", "path": "/",
          "inline_policy": [{"name": "beat", "policy": policy}]}}]}}});
    let text = serde_json::to_string_pretty(&plan).unwrap();
    std::fs::write(dir.join("plan.json"), &text).unwrap();
    let out = bin()
        .args(["validate", "--format", "json"])
        .arg(dir.join("plan.json"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v["files"][0]["findings"][0];
    assert_eq!(f["code"], "unknown-action", "{v}");
    // The place is the misspelt action inside the escaped string, in the plan's text.
    let line_no = text.lines().position(|l| l.contains("Heartbeet")).unwrap() + 1;
    let line = text.lines().nth(line_no - 1).unwrap();
    let col = line[..line.find("swf:RecordActivityTaskHeartbeet").unwrap() - 2]
        .chars()
        .count()
        + 1;
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(line_no as u64), Some(col as u64)),
        "{f}"
    );
    assert_eq!(f["pointer"], "/Statement/0/Action");
    // A YAML template: the finding is at the YAML line and column.
    let yaml = "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      Policies:\n        - PolicyName: p\n          PolicyDocument:\n            Version: 2012-10-17\n            Statement:\n              - Effect: Allow\n                Action: swf:RecordActivityTaskHeartbeet\n                Resource: '*'\n";
    std::fs::write(dir.join("t.yaml"), yaml).unwrap();
    let out = bin()
        .args(["validate", "--format", "json"])
        .arg(dir.join("t.yaml"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v["files"][0]["findings"][0];
    assert_eq!(f["code"], "unknown-action", "{v}");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(11), Some(25)),
        "{f}"
    );
    assert_eq!(
        f["pointer"],
        "/Resources/R/Properties/Policies/0/PolicyDocument/Statement/0/Action"
    );
    // An inline role policy over 10,240 characters gets IAM's message naming the role;
    // the same text as an AWS managed policy is not held to the account's quotas.
    let big = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"swf:*","Resource":"arn:aws:swf:*:*:/domain/{}"}}]}}"#,
        "x".repeat(10_300)
    );
    let plan = json!({"format_version": "1.2", "planned_values": {"root_module": {"resources": [
        {"address": "aws_iam_role.w", "mode": "managed", "type": "aws_iam_role", "name": "w", "values": {"name": "w",
          "inline_policy": [{"name": "big", "policy": big}]}}]}}});
    std::fs::write(dir.join("big.json"), plan.to_string()).unwrap();
    let out = bin()
        .args(["validate"])
        .arg(dir.join("big.json"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Maximum policy size of 10240 bytes exceeded for role w"),
        "{text}"
    );
    let authz = json!({"Policies": [{"PolicyName": "Big", "Arn": "arn:aws:iam::aws:policy/Big", "DefaultVersionId": "v1",
        "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": serde_json::from_str::<Value>(&big).unwrap()}]}],
        "UserDetailList": []});
    std::fs::write(dir.join("authz.json"), authz.to_string()).unwrap();
    let out = bin()
        .args(["validate"])
        .arg(dir.join("authz.json"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("0 rejected by IAM"), "{text}");
}

#[test]
fn every_fixture_validates_and_an_unresolved_principal_denies_with_the_missing_piece() {
    // Every fixture validates (no IAM rejections in real, deployed files).
    for f in [
        "terraform/identity_policies.plan.json",
        "cloudformation/nist_iam.yaml",
        "cloudformation/iam.json",
        "authorization-details/example-authz-details.json",
    ] {
        let out = bin()
            .arg("validate")
            .arg(fixtures().join(f))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(" 0 rejected by IAM"), "{f}: {text}");
        assert!(!text.starts_with("0 files"), "{f}: {text}");
    }
    let path = fixtures().join("cloudformation/unresolved.swf-iam.json");
    std::fs::write(
        &path,
        json!({"sources": [{"cloudFormation": "lambda-poller.yaml"}]}).to_string(),
    )
    .unwrap();
    let c = Config::load(&path);
    std::fs::remove_file(&path).unwrap();
    let c = c.unwrap();
    let p = c
        .principal("arn:aws:iam::123456789012:role/PollerEventRuleIamRole")
        .unwrap();
    let ctx = swf_iam::eval::Context::over(p.base_context.clone());
    let req = Request {
        principal: &p.principal,
        action: "lambda:InvokeFunction",
        resource: "*",
        context: &ctx,
    };
    let d = eval::evaluate(&p.compiled, &req);
    assert_eq!(d.decision, DecisionKind::ImplicitDeny);
    assert!(
        d.error
            .as_deref()
            .unwrap_or("")
            .contains("has no FunctionName"),
        "{:?}",
        d.error
    );
    assert!(
        d.message
            .as_deref()
            .unwrap_or("")
            .contains("because swf-iam could not evaluate the request"),
        "{:?}",
        d.message
    );
    assert_ne!(
        eval::decide(&p.compiled, &req).decision,
        DecisionKind::Allowed
    );
}

#[tokio::test]
async fn the_gate_authorizes_imported_principals_by_their_access_keys_and_denies_unresolved_ones() {
    use std::sync::Arc;
    use swf_iam::emulator::{Clock, Emulator, ManualClock};
    use swf_iam::gate::GateLayer;
    use tower::Layer;
    let dir = tmp("gate");
    std::fs::copy(
        fixtures().join("cloudformation/lambda-poller.yaml"),
        dir.join("poller.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.join("workers.yaml"),
        "Resources:\n  Worker:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: worker\n      Policies:\n        - PolicyName: orders\n          PolicyDocument:\n            Version: 2012-10-17\n            Statement:\n              - Effect: Allow\n                Action: swf:RegisterDomain\n                Resource: '*'\n              - Effect: Allow\n                Action: swf:DescribeDomain\n                Resource: !Sub arn:${AWS::Partition}:swf:${AWS::Region}:${AWS::AccountId}:/domain/orders\n",
    )
    .unwrap();
    let config = load(
        &dir,
        json!({"account": "123456789012", "region": "us-east-1",
               "sources": [{"cloudFormation": "workers.yaml"}, {"cloudFormation": "poller.yaml"}],
               "accessKeys": [
                 {"principal": "arn:aws:iam::123456789012:role/worker", "accessKeyId": "AKIAWORKER", "secretAccessKey": "w"},
                 {"principal": "arn:aws:iam::123456789012:role/PollerEventRuleIamRole", "accessKeyId": "AKIAPOLLER", "secretAccessKey": "p"}]}),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let clock = Arc::new(ManualClock::new(1_795_600_800.0));
    let emu = Emulator::new(
        "aws",
        "us-east-1",
        "123456789012",
        clock as Arc<dyn Clock>,
        std::time::Duration::from_secs(1),
    );
    let svc = GateLayer::new(config, emu.clone()).layer(emu.service());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(swf_iam::server::serve(
        listener,
        svc,
        async {
            let _ = rx.await;
        },
        std::time::Duration::from_secs(1),
    ));
    let client = |k: &str, s: &str| {
        let creds = aws_credential_types::Credentials::new(k, s, None, None, "t");
        aws_sdk_swf::Client::from_conf(
            aws_sdk_swf::Config::builder()
                .behavior_version(aws_sdk_swf::config::BehaviorVersion::latest())
                .region(aws_sdk_swf::config::Region::new("us-east-1"))
                .credentials_provider(creds)
                .endpoint_url(format!("http://{addr}"))
                .build(),
        )
    };
    let worker = client("AKIAWORKER", "w");
    let register = |c: &aws_sdk_swf::Client, name: &str| {
        c.register_domain()
            .name(name)
            .workflow_execution_retention_period_in_days("1")
            .send()
    };
    register(&worker, "orders").await.unwrap();
    worker
        .describe_domain()
        .name("orders")
        .send()
        .await
        .unwrap();
    let e = worker
        .describe_domain()
        .name("billing")
        .send()
        .await
        .unwrap_err();
    let e = e.into_service_error();
    assert!(e.is_operation_not_permitted_fault(), "{e:?}");
    let poller = client("AKIAPOLLER", "p");
    let e = register(&poller, "orders")
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_operation_not_permitted_fault(), "{e:?}");
    let msg = e.meta().message().unwrap_or_default().to_owned();
    assert!(
        msg.contains("not every policy of the principal is known")
            && msg.contains("has no FunctionName"),
        "{msg}"
    );
    let _ = tx.send(());
}

#[test]
fn validate_warns_of_unresolved_policies_until_parameters_resolve_them() {
    let dir = tmp("validate-params");
    let t = fixtures().join("cloudformation/lambda-poller.yaml");
    let run = |extra: &[&str]| {
        let out = bin()
            .arg("validate")
            .args(["--format", "json"])
            .args(extra)
            .arg(&t)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let codes: Vec<String> = v["files"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| {
                f["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| format!("{}: {}", x["code"], x["message"]))
            })
            .collect();
        (out.status.code(), codes)
    };
    let (code, found) = run(&[]);
    assert_eq!(code, Some(0), "warnings only: {found:?}");
    assert!(
        found.iter().any(|f| f.contains("unresolved-policy")
            && f.contains("SnsPolicy")
            && f.contains("SlackMessageRelayTopicArn")),
        "{found:?}"
    );
    let params = dir.join("params.json");
    std::fs::write(&params, r#"[{"ParameterKey": "SlackMessageRelayTopicArn", "ParameterValue": "arn:aws:sns:us-east-1:123456789012:relay"}]"#).unwrap();
    let (_, found) = run(&["--parameters", params.to_str().unwrap()]);
    assert!(!found.iter().any(|f| f.contains("SnsPolicy")), "{found:?}");
    // The Lambda function's generated name stays unresolved.
    assert!(
        found
            .iter()
            .any(|f| f.contains("unresolved-policy") && f.contains("has no FunctionName")),
        "{found:?}"
    );
    std::fs::write(&params, r#"{"Nope": "x"}"#).unwrap();
    let out = bin()
        .arg("validate")
        .args(["--parameters", params.to_str().unwrap()])
        .arg(&t)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("parameter `Nope`"));
}

#[test]
fn one_arn_with_two_documents_and_paths_out_of_the_managed_directory_are_unresolved() {
    let dir = tmp("conflict");
    let mp = |effect: &str| {
        format!("Resources:\n  MP:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      ManagedPolicyName: shared\n      PolicyDocument: {{Version: '2012-10-17', Statement: [{{Effect: {effect}, Action: 'swf:*', Resource: '*'}}]}}\n")
    };
    std::fs::write(dir.join("a.yaml"), mp("Allow")).unwrap();
    std::fs::write(dir.join("b.yaml"), mp("Deny")).unwrap();
    std::fs::write(dir.join("same.yaml"), mp("Allow")).unwrap();
    std::fs::write(
        dir.join("role.yaml"),
        "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: r\n      ManagedPolicyArns: ['arn:aws:iam::123456789012:policy/shared', 'arn:aws:iam::aws:policy/../../swf-iam']\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("managed")).unwrap();
    let role = "arn:aws:iam::123456789012:role/r";
    let c = load(
        &dir,
        json!({"sources": [{"cloudFormation": "role.yaml"}, {"cloudFormation": "a.yaml"}, {"cloudFormation": "b.yaml"}], "managedPolicies": "managed"}),
    );
    let m = &c.principal(role).unwrap().missing;
    assert!(
        m.iter().any(|x| x.contains("has different documents in")),
        "{m:?}"
    );
    assert!(
        m.iter()
            .any(|x| x.contains("its path does not name a file")),
        "{m:?}"
    );
    // The same document twice is one policy.
    let c = load(
        &dir,
        json!({"sources": [{"cloudFormation": "role.yaml"}, {"cloudFormation": "a.yaml"}, {"cloudFormation": "same.yaml"}], "managedPolicies": "managed"}),
    );
    let m = &c.principal(role).unwrap().missing;
    assert_eq!(m.len(), 1, "{m:?}");
}

#[test]
fn scp_levels_may_name_the_service_control_policies_of_sources() {
    let dir = tmp("scps");
    let scp = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"swf:*","Resource":"arn:aws:swf:*:*:/domain/prod-*"}]}"#;
    let plan = json!({"format_version": "1.2", "planned_values": {"root_module": {"resources": [
        {"address": "aws_organizations_policy.guard", "mode": "managed", "type": "aws_organizations_policy", "name": "guard",
         "values": {"name": "no-prod", "type": "SERVICE_CONTROL_POLICY", "content": scp}},
        {"address": "aws_organizations_policy_attachment.root", "mode": "managed", "type": "aws_organizations_policy_attachment", "name": "root",
         "values": {"target_id": "r-abcd"}}]}},
      "configuration": {"root_module": {"resources": [
        {"address": "aws_organizations_policy_attachment.root", "expressions": {"policy_id": {"references": ["aws_organizations_policy.guard.id", "aws_organizations_policy.guard"]}}}]}}});
    std::fs::write(dir.join("org.json"), plan.to_string()).unwrap();
    let principal = json!({"arn": "arn:aws:iam::123456789012:role/worker", "policies": [
        {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*"}}]});
    let decide = |c: &Config, domain: &str| {
        let p = c
            .principal("arn:aws:iam::123456789012:role/worker")
            .unwrap();
        let ctx = swf_iam::eval::Context::over(p.base_context.clone());
        let r = format!("arn:aws:swf:us-east-1:123456789012:/domain/{domain}");
        eval::evaluate(
            &p.compiled,
            &Request {
                principal: &p.principal,
                action: "swf:RecordActivityTaskHeartbeat",
                resource: &r,
                context: &ctx,
            },
        )
        .decision
    };
    for name in ["no-prod", "aws_organizations_policy.guard"] {
        let c = load(
            &dir,
            json!({"sources": [{"terraformPlan": "org.json"}], "scps": [[{"imported": name}]], "principals": [principal]}),
        );
        assert_eq!(decide(&c, "orders"), DecisionKind::Allowed, "{name}");
        assert_eq!(decide(&c, "prod-eu"), DecisionKind::ExplicitDeny, "{name}");
        assert_eq!(c.sources[0].scps[0].targets, ["r-abcd"]);
    }
    let path = dir.join("swf-iam.json");
    std::fs::write(
        &path,
        json!({"sources": [{"terraformPlan": "org.json"}], "scps": [[{"imported": "nope"}]]})
            .to_string(),
    )
    .unwrap();
    let e = Config::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("no source defines a service control policy named `nope`")
            && e.contains("(at /scps/0/0)"),
        "{e}"
    );
    // validate reads the SCP from the source, not the entry as a policy.
    std::fs::write(
        &path,
        json!({"sources": [{"terraformPlan": "org.json"}], "scps": [[{"imported": "no-prod"}]]})
            .to_string(),
    )
    .unwrap();
    let out = bin().arg("validate").arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("1 file checked: 0 rejected by IAM"), "{text}");
}

#[test]
fn a_directory_gives_validate_its_yaml_templates_and_leaves_other_yaml_alone() {
    let dir = tmp("dir");
    std::fs::copy(
        fixtures().join("cloudformation/nist_iam.yaml"),
        dir.join("nist_iam.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.join("compose.yml"),
        "services:\n  web:\n    image: nginx\n",
    )
    .unwrap();
    let out = bin()
        .args(["validate", "--format", "json"])
        .arg(&dir)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: std::collections::BTreeSet<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert!(
        paths.iter().all(|p| p.ends_with("nist_iam.yaml")),
        "{paths:?}"
    );
    assert_eq!(
        v["files"].as_array().unwrap().len(),
        9,
        "the template's five policies and its four roles' trust policies"
    );
    std::fs::remove_file(dir.join("nist_iam.yaml")).unwrap();
    let out = bin().arg("validate").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("no *.json file or YAML template in directory"));
}

/// A managed policy is found by name inside `managedPolicies`, never at a path the ARN
/// builds: an absolute path (`policy//tmp/...`), a symlink leaving the folder and a
/// device behind a symlink leave the role unresolved (every request denied), where the
/// file outside would have granted `swf:*`.
#[test]
fn managed_policy_arns_never_read_outside_the_managed_directory() {
    let dir = tmp("escape");
    let outside = tmp("escape-outside");
    let secret = outside.join("secret.json");
    std::fs::write(
        &secret,
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}"#,
    )
    .unwrap();
    let managed = dir.join("managed");
    std::fs::create_dir_all(&managed).unwrap();
    std::fs::copy(&secret, managed.join("inside.json")).unwrap();
    #[cfg(unix)]
    {
        let _ = std::fs::remove_file(managed.join("linked.json"));
        let _ = std::fs::remove_file(managed.join("zero.json"));
        std::os::unix::fs::symlink(&secret, managed.join("linked.json")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", managed.join("zero.json")).unwrap();
    }
    let absolute = format!(
        "arn:aws:iam::aws:policy/{}",
        secret.with_extension("").display()
    );
    assert!(absolute.contains("policy//"), "{absolute}");
    let check = |arn: &str| {
        std::fs::write(
            dir.join("role.yaml"),
            format!("Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: r\n      ManagedPolicyArns: ['{arn}']\n"),
        )
        .unwrap();
        std::fs::write(
            dir.join("swf-iam.json"),
            r#"{"account": "123456789012", "region": "us-east-1", "sources": [{"cloudFormation": "role.yaml"}], "managedPolicies": "managed"}"#,
        )
        .unwrap();
        let out = bin()
            .args(["check", "--config"])
            .arg(dir.join("swf-iam.json"))
            .args([
                "--principal",
                "arn:aws:iam::123456789012:role/r",
                "--action",
                "swf:RecordActivityTaskHeartbeat",
                "--domain",
                "orders",
            ])
            .output()
            .unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    // The control: the same document inside the folder allows.
    let (code, text) = check("arn:aws:iam::aws:policy/inside");
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = check(&absolute);
    assert_ne!(code, Some(0), "{text}");
    assert!(text.contains("does not name a file"), "{text}");
    #[cfg(unix)]
    {
        let (code, text) = check("arn:aws:iam::aws:policy/linked");
        assert_ne!(code, Some(0), "{text}");
        assert!(text.contains("looked for linked.json inside it"), "{text}");
        let t0 = std::time::Instant::now();
        let (code, text) = check("arn:aws:iam::aws:policy/zero");
        assert_ne!(code, Some(0), "{text}");
        assert!(t0.elapsed() < std::time::Duration::from_secs(10));
    }
}

/// One user whose ARN is not well formed (`arn:aws:iam::aws:user/...`, as in a public
/// authorization-details file) is left out with a warning; the rest of the file loads
/// and decides.
#[test]
fn one_bad_entry_never_takes_its_neighbours_down() {
    let dir = tmp("bad-entry");
    let user = |arn: &str, name: &str| {
        json!({"Path": "/", "UserName": name, "UserId": format!("AIDA{name}"), "Arn": arn,
            "GroupList": [], "AttachedManagedPolicies": [],
            "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}}]})
    };
    let doc = json!({"UserDetailList": [
        user("arn:aws:iam::aws:user/broken", "broken"),
        user("arn:aws:iam::123456789012:user/good", "good"),
    ], "GroupDetailList": [], "RoleDetailList": [], "Policies": []});
    std::fs::write(dir.join("authz.json"), doc.to_string()).unwrap();
    std::fs::write(
        dir.join("swf-iam.json"),
        r#"{"account": "123456789012", "region": "us-east-1", "sources": [{"authorizationDetails": "authz.json"}]}"#,
    )
    .unwrap();
    let out = bin()
        .args(["principals", "--config"])
        .arg(dir.join("swf-iam.json"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}{err}");
    assert!(
        text.contains("arn:aws:iam::123456789012:user/good"),
        "{text}"
    );
    assert!(
        text.contains("LEFT OUT:") && text.contains("arn:aws:iam::aws:user/broken"),
        "{text}"
    );
    assert!(
        err.contains("warning:") && err.contains("user/broken"),
        "{err}"
    );
    let out = bin()
        .args(["check", "--config"])
        .arg(dir.join("swf-iam.json"))
        .args([
            "--principal",
            "arn:aws:iam::123456789012:user/good",
            "--domain",
            "orders",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn imported_roles_carry_their_trust_policies() {
    let cfg = "policies/sources-example/swf-iam.json";
    let config = swf_iam::config::Config::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policies/sources-example/swf-iam.json"
    )))
    .unwrap();
    // One role from each kind of source: Terraform, CloudFormation, authorization details.
    for (role, name) in [
        (
            "arn:aws:iam::123456789012:role/test_role",
            "aws_iam_role.test_role assume_role_policy",
        ),
        (
            "arn:aws:iam::123456789012:role/PollerFunctionIamRole",
            "PollerFunctionIamRole (AssumeRolePolicyDocument)",
        ),
        (
            "arn:aws:iam::012345678901:role/MyRole",
            "role/MyRole trust policy",
        ),
    ] {
        let trust = config
            .role_trust(role)
            .unwrap_or_else(|e| panic!("{role}: {e}"));
        assert!(trust.name.ends_with(name), "{role}: {}", trust.name);
        assert_eq!(trust.statements.len(), 1);
    }
    // Each trusts an AWS service, never a user: the user's AdministratorAccess does not help.
    let out = bin()
        .args([
            "check",
            "--config",
            cfg,
            "--principal",
            "arn:aws:iam::012345678901:user/obama",
            "--action",
            "sts:AssumeRole",
            "--resource",
            "arn:aws:iam::012345678901:role/MyRole",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("because no resource-based policy allows the sts:AssumeRole action"),
        "{text}"
    );
    // Against a trust policy that names the account, the administrator may.
    let trust = std::env::temp_dir().join(format!("swf-iam-trust-{}.json", std::process::id()));
    std::fs::write(&trust, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"012345678901"},"Action":"sts:AssumeRole"}}"#).unwrap();
    let out = bin()
        .args([
            "check",
            "--config",
            cfg,
            "--principal",
            "arn:aws:iam::012345678901:user/obama",
            "--action",
            "sts:AssumeRole",
            "--resource",
            "arn:aws:iam::012345678901:role/MyRole",
            "--trust-policy",
        ])
        .arg(&trust)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
