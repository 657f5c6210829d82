//! `sts:AssumeRole` decisions cross-checked against @cloud-copilot/iam-simulate (npm),
//! which evaluates resource-based and trust policies: generated trust policies (every
//! principal form, `NotPrincipal`, `Deny`, conditions on `sts:ExternalId` and a principal
//! tag), callers of the same and another account (users and role sessions), identity
//! policies, boundaries and session policies. Every disagreement must fall in a class
//! explained below (and in the README); anything else fails the test with the case.

use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use swf_iam::compile::trust::CompiledTrustPolicy;
use swf_iam::compile::{CompiledPolicySet, LoadedPolicy, PolicySet};
use swf_iam::eval::trust::{decide_assume, AssumeRequest};
use swf_iam::eval::{Context, DecisionKind, Principal};
use swf_iam::validate::PolicyKind;

const A: &str = "123456789012";
const B: &str = "999999999999";
const ROLE: &str = "arn:aws:iam::123456789012:role/worker";

/// A small deterministic generator (the cases are the same on every run).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
    fn chance(&mut self, in_ten: u64) -> bool {
        self.next() % 10 < in_ten
    }
}

const CALLERS: &[&str] = &[
    "arn:aws:iam::123456789012:user/alice",
    "arn:aws:sts::123456789012:assumed-role/ops/s1",
    "arn:aws:iam::999999999999:user/partner",
    "arn:aws:sts::999999999999:assumed-role/ci/build",
];

fn principal_value(rng: &mut Rng) -> Value {
    let aws = [
        json!("*"),
        json!(A),
        json!(format!("arn:aws:iam::{A}:root")),
        json!("arn:aws:iam::123456789012:user/alice"),
        json!("arn:aws:iam::123456789012:role/ops"),
        json!("arn:aws:sts::123456789012:assumed-role/ops/s1"),
        json!(B),
        json!("arn:aws:iam::999999999999:user/partner"),
        json!("arn:aws:iam::999999999999:role/ci"),
    ];
    match rng.next() % 10 {
        0 => json!("*"),
        1 => json!({"Service": "ec2.amazonaws.com"}),
        2 => json!({"AWS": [rng.pick(&aws).clone(), rng.pick(&aws).clone()]}),
        _ => json!({"AWS": rng.pick(&aws).clone()}),
    }
}

fn trust(rng: &mut Rng) -> Value {
    let n = 1 + rng.next() % 3;
    let mut statements = Vec::new();
    for _ in 0..n {
        let deny = rng.chance(2);
        let mut st = json!({
            "Effect": if deny { "Deny" } else { "Allow" },
            "Action": rng.pick(&["sts:AssumeRole", "sts:*", "sts:TagSession", "*"]),
        });
        if rng.chance(1) {
            st["NotPrincipal"] = json!({"AWS": principal_value(rng)["AWS"].clone()});
            if st["NotPrincipal"]["AWS"].is_null() {
                st["NotPrincipal"] = json!({"AWS": "arn:aws:iam::123456789012:user/alice"});
            }
        } else {
            st["Principal"] = principal_value(rng);
        }
        match rng.next() % 5 {
            0 => {
                st["Condition"] = json!({"StringEquals": {"sts:ExternalId": rng.pick(&["x", "y"])}})
            }
            1 => st["Condition"] = json!({"StringEquals": {"aws:PrincipalTag/team": "orders"}}),
            _ => {}
        }
        statements.push(st);
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn policy(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn identity(rng: &mut Rng) -> Vec<Value> {
    match rng.next() % 5 {
        0 | 1 => vec![],
        2 => vec![policy(
            json!([{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]),
        )],
        3 => vec![policy(
            json!([{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE},
                               {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*", "Condition": {"StringEquals": {"sts:ExternalId": "y"}}}]),
        )],
        _ => vec![policy(
            json!([{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/other"}]),
        )],
    }
}

struct Case {
    caller: &'static str,
    identity: Vec<Value>,
    boundary: Option<Value>,
    session: Option<Value>,
    trust: Value,
    context: Value,
}

fn ours(c: &Case) -> DecisionKind {
    let load = |v: &Value, kind: &PolicyKind| {
        LoadedPolicy::load("p", v.to_string().as_bytes(), kind).unwrap()
    };
    let set = PolicySet {
        identity: c
            .identity
            .iter()
            .map(|p| load(p, &PolicyKind::Managed))
            .collect(),
        boundary: c.boundary.as_ref().map(|p| load(p, &PolicyKind::Boundary)),
        session: c
            .session
            .iter()
            .map(|p| load(p, &PolicyKind::Session))
            .collect(),
        ..PolicySet::default()
    };
    let compiled = CompiledPolicySet::compile(&set).unwrap();
    let trust = CompiledTrustPolicy::compile(&load(&c.trust, &PolicyKind::Trust));
    let mut principal = Principal::from_arn(c.caller, "s", None).unwrap();
    principal.tags.push(("team".into(), "orders".into()));
    let mut ctx = Context::new();
    principal.fill_context(&mut ctx);
    for (k, v) in c.context.as_object().unwrap() {
        ctx.set_single(k, v.as_str().unwrap());
    }
    decide_assume(&AssumeRequest {
        caller: &principal,
        caller_policies: &compiled,
        action: "sts:AssumeRole",
        role_arn: ROLE,
        trust: Some(&trust),
        context: &ctx,
    })
    .decision
}

fn theirs(cases: &[Case]) -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/crosscheck");
    assert!(
        std::path::Path::new(dir).join("node_modules/@cloud-copilot/iam-simulate").exists(),
        "@cloud-copilot/iam-simulate is missing: run `scripts/test` (it runs `npm ci` in tests/crosscheck)"
    );
    let mut child = Command::new("node")
        .arg("simulate.mjs")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node is needed for the cross-check");
    let mut input = String::new();
    for c in cases {
        let mut ctx = c.context.clone();
        ctx["aws:PrincipalTag/team"] = json!("orders");
        let mut line = json!({"principal": c.caller, "role": ROLE, "roleAccount": A,
            "identity": c.identity, "boundary": c.boundary, "trust": c.trust, "context": ctx});
        if let Some(s) = &c.session {
            line["sessionPolicy"] = s.clone();
        }
        input.push_str(&line.to_string());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn kind(s: &str) -> Option<DecisionKind> {
    match s {
        "Allowed" => Some(DecisionKind::Allowed),
        "ExplicitlyDenied" => Some(DecisionKind::ExplicitDeny),
        "ImplicitlyDenied" => Some(DecisionKind::ImplicitDeny),
        _ => None,
    }
}

/// Why swf-iam and iam-simulate may decide a case differently, if they may.
fn explained(c: &Case, theirs: Option<DecisionKind>) -> Option<&'static str> {
    let sts = c.trust["Statement"].as_array().unwrap();
    if sts.iter().any(|s| s.get("NotPrincipal").is_some()) {
        // The User Guide: with NotPrincipal, a request is checked against each identity of
        // the caller (account, role, session): the statement applies unless every one is
        // listed. iam-simulate excludes a caller when any listed entry names it at any
        // level, and reads an Allow with NotPrincipal as naming the caller exactly.
        return Some("NotPrincipal");
    }
    // The User Guide ("Session policies"): the session policy limits the caller's own
    // side, and a resource-based policy that names the role ARN (not the session ARN);
    // iam-simulate does not apply session policies to AssumeRole. Explained when, and only
    // when, the same case without the session policy decides as iam-simulate does.
    if c.session.is_some() {
        let without = Case {
            session: None,
            trust: c.trust.clone(),
            identity: c.identity.clone(),
            boundary: c.boundary.clone(),
            context: c.context.clone(),
            caller: c.caller,
        };
        if Some(ours(&without)) == theirs {
            return Some(if c.caller.contains(":123456789012:") {
                "the session policy limits a grant to the role ARN"
            } else {
                "the session policy limits the caller's side of a cross-account request"
            });
        }
    }
    None
}

#[test]
fn assume_role_agrees_with_iam_simulate() {
    let mut rng = Rng(0x5eed_2026_1207);
    let narrow = policy(json!([{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]));
    let wide = policy(json!([{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]));
    let cases: Vec<Case> = (0..3000)
        .map(|_| {
            let caller = *rng.pick(CALLERS);
            let is_session = caller.contains(":assumed-role/");
            Case {
                caller,
                identity: identity(&mut rng),
                boundary: match rng.next() % 4 {
                    0 => Some(narrow.clone()),
                    1 => Some(wide.clone()),
                    _ => None,
                },
                session: (is_session && rng.chance(3)).then(|| {
                    if rng.chance(5) {
                        narrow.clone()
                    } else {
                        wide.clone()
                    }
                }),
                trust: trust(&mut rng),
                context: match rng.next() % 3 {
                    0 => json!({"sts:ExternalId": "x"}),
                    1 => json!({"sts:ExternalId": "y"}),
                    _ => json!({}),
                },
            }
        })
        .collect();
    let answers = theirs(&cases);
    assert_eq!(answers.len(), cases.len());
    let mut agree = 0;
    let mut classes: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut unexplained = Vec::new();
    let mut errors = 0;
    for (c, a) in cases.iter().zip(&answers) {
        let Some(t) = kind(a) else {
            errors += 1;
            continue;
        };
        let o = ours(c);
        if o == t {
            agree += 1;
            continue;
        }
        match explained(c, Some(t)) {
            Some(why) => *classes.entry(why).or_default() += 1,
            None => unexplained.push(format!(
                "swf-iam {o:?}, iam-simulate {a}: caller {}, identity {}, boundary {}, session {}, trust {}, context {}",
                c.caller,
                json!(c.identity),
                json!(c.boundary),
                json!(c.session),
                c.trust,
                c.context
            )),
        }
    }
    println!(
        "{} cases: {agree} agree, {} differ for explained reasons {classes:?}, {errors} refused by iam-simulate",
        cases.len(),
        classes.values().sum::<usize>()
    );
    assert!(
        errors < cases.len() / 10,
        "iam-simulate refused {errors} cases"
    );
    assert!(agree > cases.len() / 2);
    assert!(
        unexplained.is_empty(),
        "{} unexplained disagreements:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
}
