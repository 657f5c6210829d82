//! The access analysis against the evaluator: random policy sets, random concrete
//! requests; each request's decision must be the one the analysis recorded for its class,
//! and every witness must decide as reported.

use proptest::prelude::*;
use serde_json::{json, Value};
use swf_iam::analyze::{self, Access, Options};
use swf_iam::config::Config;
use swf_iam::eval::{self, Context, ContextValue, DecisionKind, Request};
use swf_iam::swf::catalog;

const ACCOUNT: &str = "123456789012";

fn options(defaults: bool) -> Options {
    Options {
        partition: "aws".into(),
        account: ACCOUNT.into(),
        regions: vec!["us-east-1".into(), "us-west-2".into()],
        default_region: "us-east-1".into(),
        request_defaults: defaults,
        now: 1_790_000_000,
        domain: None,
        // A generated policy that explodes the request space stops here instead of
        // holding CI (the answer then says which budget, and the case is skipped).
        limits: analyze::Limits {
            budget: analyze::Budget::within(std::time::Duration::from_secs(30), 8 << 30),
            ..analyze::Limits::default()
        },
        cache: Default::default(),
    }
}

fn config(identity: &[Value], boundary: Option<&Value>, scp: Option<&Value>) -> Config {
    config_tagged(identity, boundary, scp, "t1")
}

fn config_tagged(
    identity: &[Value],
    boundary: Option<&Value>,
    scp: Option<&Value>,
    team: &str,
) -> Config {
    let mut p = json!({
        "arn": format!("arn:aws:iam::{ACCOUNT}:role/w"),
        "tags": {"team": team},
        "policies": identity,
    });
    if let Some(b) = boundary {
        p["permissionsBoundary"] = b.clone();
    }
    let mut c = json!({
        "partition": "aws", "region": "us-east-1", "regions": ["us-east-1", "us-west-2"],
        "account": ACCOUNT, "principals": [p],
    });
    if let Some(s) = scp {
        c["scps"] = json!([[s]]);
    }
    Config::from_bytes(
        std::path::Path::new("/nonexistent/swf-iam.json"),
        c.to_string().as_bytes(),
    )
    .unwrap()
}

const ACTIONS: &[&str] = &[
    "swf:RecordActivityTaskHeartbeat",
    "swf:*",
    "swf:Record*",
    "swf:Poll*",
    "swf:List*",
    "swf:Schedule*",
];

const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:swf:*:123456789012:/domain/a*",
    "arn:aws:swf:us-east-1:123456789012:/domain/ab",
    "arn:aws:swf:*:*:/domain/?b",
    "arn:aws:swf:*:123456789012:/domain/[x]*",
    "arn:aws:swf:us-east-1:123456789012:/domain/${aws:PrincipalTag/team}",
    "arn:aws:swf:us-west-2:123456789012:/domain/*",
    "arn:aws:swf:*:123456789012:/domain/*b*",
];

fn conditions() -> Vec<Value> {
    vec![
        json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}),
        json!({"IpAddress": {"aws:SourceIp": ["0.0.0.0/1", "::/1"]}}),
        json!({"IpAddressIfExists": {"aws:SourceIp": "10.0.0.0/7"}}),
        json!({"NotIpAddress": {"aws:SourceIp": ["10.1.0.0/16", "192.168.0.1"]}}),
        json!({"StringLike": {"aws:ResourceTag/env": ["dev*", "t?"]}}),
        json!({"StringEqualsIgnoreCase": {"aws:ResourceTag/env": "Prod"}}),
        json!({"StringNotEquals": {"aws:ResourceTag/env": "${aws:PrincipalTag/team}"}}),
        json!({"StringEqualsIfExists": {"aws:ResourceTag/owner": "t1"}}),
        json!({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}),
        json!({"NumericLessThanEqualsIfExists": {"aws:MultiFactorAuthAge": "60"}}),
        json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}),
        json!({"Null": {"aws:MultiFactorAuthAge": "true"}}),
        json!({"DateGreaterThan": {"aws:CurrentTime": "2026-06-01T00:00:00Z"}}),
        json!({"NumericLessThanEquals": {"aws:EpochTime": "1790000000"}}),
        json!({"ForAllValues:StringLike": {"aws:TagKeys": ["a*", "b"]}}),
        json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "c"]}}),
        json!({"StringNotLikeIfExists": {"aws:UserAgent": "*boto*"}}),
        json!({"StringEquals": {"aws:RequestedRegion": "us-west-2"}}),
        json!({"StringLike": {"swf:activityType.name": ["hb*", "x?"]}}),
        json!({"StringEqualsIfExists": {"swf:taskList.name": "workers"}}),
        json!({"Bool": {"aws:SecureTransport": "true"}}),
    ]
}

fn statement() -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        0..ACTIONS.len(),
        any::<bool>(),
        proptest::sample::subsequence((0..RESOURCES.len()).collect::<Vec<_>>(), 1..3),
        any::<bool>(),
        proptest::sample::subsequence((0..conditions().len()).collect::<Vec<_>>(), 0..3),
    )
        .prop_map(|(allow, a, not_action, rs, not_resource, cs)| {
            let mut st = json!({"Effect": if allow { "Allow" } else { "Deny" }});
            st[if not_action { "NotAction" } else { "Action" }] = json!(ACTIONS[a]);
            st[if not_resource {
                "NotResource"
            } else {
                "Resource"
            }] = json!(rs.iter().map(|&i| RESOURCES[i]).collect::<Vec<_>>());
            if !cs.is_empty() {
                let mut cond = serde_json::Map::new();
                let all = conditions();
                for i in cs {
                    for (op, body) in all[i].as_object().unwrap() {
                        let entry = cond.entry(op.clone()).or_insert_with(|| json!({}));
                        for (k, v) in body.as_object().unwrap() {
                            entry[k] = v.clone();
                        }
                    }
                }
                st["Condition"] = Value::Object(cond);
            }
            st
        })
}

fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// A random concrete request: domain name, region, time and key values.
#[derive(Debug, Clone)]
struct Req {
    domain: String,
    west: bool,
    secs: i64,
    keys: Vec<(usize, usize)>,
}

const KEY_VALUES: &[(&str, &[&str])] = &[
    (
        "aws:SourceIp",
        &[
            "10.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "8.8.8.8",
            "::1",
            "200.1.1.1",
            "2001:db8::1",
            "ffff::1",
            "11.1.1.1",
        ],
    ),
    (
        "aws:ResourceTag/env",
        &[
            "dev", "dev1", "t1", "tx", "Prod", "PROD", "prod", "", "other",
        ],
    ),
    ("aws:ResourceTag/owner", &["t1", "t2"]),
    (
        "aws:MultiFactorAuthAge",
        &["0", "3599", "3600", "3600.5", "99999", "60", "61"],
    ),
    ("aws:MultiFactorAuthPresent", &["true", "false"]),
    ("aws:TagKeys", &["a", "b", "a,b", "c", "a,c,x", "x", "b,ab"]),
    ("aws:UserAgent", &["aws-cli/2", "Boto3/1.34", "boto3", "x"]),
    ("aws:RequestedRegion", &["us-east-1", "us-west-2"]),
    ("swf:activityType.name", &["hb", "hb-1", "xy", "x", ""]),
    ("swf:taskList.name", &["workers", "Workers", "other"]),
    ("aws:SecureTransport", &["true", "false"]),
];

fn request() -> impl Strategy<Value = Req> {
    (
        "[ab\\[x\\]t1-]{1,5}",
        any::<bool>(),
        prop_oneof![
            Just(1_780_272_000i64), // 2026-06-01T00:00:00Z
            Just(1_780_271_999i64),
            Just(1_780_272_001i64),
            Just(1_790_000_000i64),
            Just(1_790_000_001i64),
            1_700_000_000i64..1_900_000_000,
        ],
        proptest::collection::vec((0..KEY_VALUES.len(), 0..10usize), 0..6),
    )
        .prop_map(|(domain, west, secs, keys)| Req {
            domain,
            west,
            secs,
            keys,
        })
}

/// The request's context, built as `check` builds it.
fn context(
    p: &swf_iam::config::PrincipalConfig,
    req: &Req,
    region: &str,
    defaults: bool,
    action: &catalog::SwfAction,
) -> Context {
    let mut ctx = Context::over(p.base_context.clone());
    let decision = defaults && action.decision;
    if defaults {
        ctx.set_request_defaults(region, req.secs);
        if decision {
            // A decision carries no transport facts (the gate authorizes it so).
            ctx.remove("aws:SecureTransport");
        } else {
            // Every call to SWF carries a source address and a user agent.
            ctx.set_single("aws:SourceIp", "203.0.113.9");
            ctx.set_single("aws:UserAgent", "aws-sdk-rust/1");
        }
    }
    for &(k, v) in &req.keys {
        let (key, values) = KEY_VALUES[k];
        if defaults
            && (!action.supports_key(key)
                || matches!(key, "aws:RequestedRegion" | "aws:SecureTransport")
                || decision && matches!(key, "aws:SourceIp" | "aws:UserAgent"))
        {
            continue; // SWF never sends it, or the defaults fix it
        }
        match values.get(v) {
            None if !(defaults && !decision && matches!(key, "aws:SourceIp" | "aws:UserAgent")) => {
                ctx.remove(key)
            }
            None => {}
            Some(text) if key == "aws:TagKeys" => {
                ctx.set(
                    key,
                    ContextValue::Multi(text.split(',').map(str::to_owned).collect()),
                );
            }
            Some(text) => ctx.set_single(key, *text),
        }
    }
    ctx
}

fn check_one(config: &Config, action_name: &str, defaults: bool, reqs: &[Req]) {
    let p = &config.principals[0];
    let action = catalog::action(action_name).unwrap();
    let opts = options(defaults);
    let a = analyze::analysis(p, action, &opts);
    if !a.complete && a.incomplete.iter().all(|r| r.contains("budget")) {
        eprintln!(
            "skipped (the analysis spent its budget): {:?}",
            a.incomplete
        );
        return;
    }
    assert!(a.complete, "{:?}", a.incomplete);
    for req in reqs {
        let region = if req.west { "us-west-2" } else { "us-east-1" };
        // ListDomains names the domain `*` whatever the request.
        let resource = if action.has_domain_resource() {
            let name = action.fixed_domain().unwrap_or(&req.domain);
            format!("arn:aws:swf:{region}:{ACCOUNT}:/domain/{name}")
        } else {
            "*".to_owned()
        };
        let region = if resource == "*" { "us-east-1" } else { region };
        let ctx = context(p, req, region, defaults, action);
        let expected = eval::decide(
            &p.compiled,
            &Request {
                principal: &p.principal,
                action: action_name,
                resource: &resource,
                context: &ctx,
            },
        )
        .decision;
        let got = a.class_decision(&resource, &ctx);
        assert_eq!(got, Ok(expected), "{req:?} on {resource}");
    }
}

/// Re-decides every witness of `access` and checks it is allowed (witness replay).
fn witnesses_are_allowed(config: &Config, defaults: bool) {
    let p = &config.principals[0];
    let opts = options(defaults);
    let r = analyze::access(p, &analyze::all_actions(), &opts);
    for a in &r.actions {
        if a.access == Access::Never {
            assert!(a.allowed.is_empty());
        }
        for e in &a.allowed {
            let w = &e.witness;
            let resource = w["resource"].as_str().unwrap();
            // As `check --requests` builds the line's context.
            let mut ctx = Context::over(p.base_context.clone());
            if w.get("defaultContext") != Some(&json!(false)) {
                assert!(defaults);
                // No `now` where no policy reads the time: `check --requests` then uses
                // the clock, and any time decides alike.
                let secs = match w.get("now") {
                    Some(t) => {
                        swf_iam::values::parse_instant(t.as_str().unwrap())
                            .unwrap()
                            .secs
                    }
                    None => {
                        assert!(!p.compiled.reads_time(), "{w}");
                        swf_iam::values::now_epoch()
                    }
                };
                let region = swf_iam::swf::arn::region_of(resource).unwrap_or("us-east-1");
                ctx.set_request_defaults(region, secs);
            } else if defaults {
                let decision = catalog::action(w["action"].as_str().unwrap())
                    .unwrap()
                    .decision;
                assert!(decision, "only decisions spell their defaults out: {w}");
            }
            if let Some(c) = w["context"].as_object() {
                for (k, v) in c {
                    match v {
                        Value::String(s) => ctx.set_single(k, s.clone()),
                        Value::Array(vs) => ctx.set(
                            k,
                            ContextValue::Multi(
                                vs.iter().map(|x| x.as_str().unwrap().to_owned()).collect(),
                            ),
                        ),
                        _ => panic!("{v}"),
                    }
                }
            }
            let d = eval::decide(
                &p.compiled,
                &Request {
                    principal: &p.principal,
                    action: w["action"].as_str().unwrap(),
                    resource,
                    context: &ctx,
                },
            );
            assert_eq!(d.decision, DecisionKind::Allowed, "{w}");
        }
    }
}

proptest! {
    // 48 cases by default; PROPTEST_CASES=N for a longer hunt.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48),
        // A failure is shrunk briefly: each step re-runs analyses.
        max_shrink_iters: 64,
        .. ProptestConfig::default()
    })]

    #[test]
    fn every_request_decides_as_its_class(
        identity in proptest::collection::vec(statement(), 1..5),
        boundary in proptest::option::of(proptest::collection::vec(statement(), 1..3)),
        scp in proptest::option::of(proptest::collection::vec(statement(), 1..3)),
        defaults in any::<bool>(),
        reqs in proptest::collection::vec(request(), 40),
    ) {
        let boundary = boundary.map(policy);
        let scp = scp.map(policy);
        let c = config(&[policy(identity)], boundary.as_ref(), scp.as_ref());
        for action in [
            "swf:RecordActivityTaskHeartbeat",
            "swf:ListDomains",
            "swf:TagResource",
            "swf:ScheduleActivityTask",
        ] {
            check_one(&c, action, defaults, &reqs);
        }
        witnesses_are_allowed(&c, defaults);
    }
}

#[test]
fn a_condition_on_the_source_ip_is_reported_as_its_range() {
    let c = config(
        &[policy(vec![
            json!({"Effect": "Allow", "Action": "swf:RecordActivityTaskHeartbeat",
            "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/team-*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                          "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}),
            json!({"Effect": "Deny", "Action": "swf:*",
            "Resource": "arn:aws:swf:*:123456789012:/domain/team-prod"}),
        ])],
        None,
        None,
    );
    let hb = catalog::action("swf:RecordActivityTaskHeartbeat").unwrap();
    let r = analyze::access(&c.principals[0], &[hb], &options(true));
    let a = &r.actions[0];
    assert_eq!(a.access, Access::Conditional);
    assert!(a.complete);
    assert_eq!(a.allowed.len(), 1, "{:#?}", a.allowed);
    let e = &a.allowed[0];
    assert_eq!(e.region, "us-east-1");
    assert_eq!(e.domains.len(), 1);
    assert_eq!(e.domains[0].description, "`team-*` except `team-prod`");
    assert_eq!(e.domains[0].witness, "team-");
    let when: Vec<(String, Vec<String>)> = e
        .when
        .iter()
        .map(|k| (k.key.clone(), k.values.clone()))
        .collect();
    assert_eq!(
        when,
        vec![
            (
                "aws:MultiFactorAuthPresent".into(),
                vec!["absent".into(), "= false".into()]
            ),
            ("aws:SourceIp".into(), vec!["in 10.0.0.0/8".into()]),
        ]
    );
    assert_eq!(
        e.witness,
        json!({"principal": "arn:aws:iam::123456789012:role/w",
               "action": "swf:RecordActivityTaskHeartbeat",
               "resource": "arn:aws:swf:us-east-1:123456789012:/domain/team-",
               "context": {"aws:SourceIp": "10.0.0.0"}}),
        "no `now`: no policy of the principal reads the time"
    );
    // Elsewhere never: us-west-2 has no allowed extent.
    assert!(a.allowed.iter().all(|e| e.region == "us-east-1"));
}

#[test]
fn identical_configurations_differ_nowhere_and_one_new_allow_is_exactly_one_widening() {
    let base = vec![
        json!({"Effect": "Allow", "Action": "swf:RecordActivityTaskHeartbeat",
        "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/orders"}),
    ];
    let before = config(&[policy(base.clone())], None, None);
    let same = config(&[policy(base.clone())], None, None);
    let opts = options(true);
    let acts = analyze::all_actions();
    let d = analyze::diff(
        Some(&before.principals[0]),
        Some(&same.principals[0]),
        &acts,
        &opts,
    );
    assert!(d.changes.is_empty());
    // The same statements in another order of policies' text still differ nowhere.
    let mut more = base.clone();
    more.push(
        json!({"Effect": "Allow", "Action": "swf:RecordActivityTaskHeartbeat",
        "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/orders"}),
    );
    let dup = config(&[policy(more)], None, None);
    let d = analyze::diff(
        Some(&before.principals[0]),
        Some(&dup.principals[0]),
        &acts,
        &opts,
    );
    assert!(d.changes.is_empty(), "{:#?}", d.changes);
    let mut widened = base.clone();
    widened.push(
        json!({"Effect": "Allow", "Action": "swf:RecordActivityTaskHeartbeat",
        "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/billing"}),
    );
    let after = config(&[policy(widened)], None, None);
    let d = analyze::diff(
        Some(&before.principals[0]),
        Some(&after.principals[0]),
        &acts,
        &opts,
    );
    assert_eq!(d.changes.len(), 1, "{:#?}", d.changes);
    let ch = &d.changes[0];
    assert_eq!(ch.action, "swf:RecordActivityTaskHeartbeat");
    assert_eq!(ch.change, analyze::ChangeKind::Widened);
    assert_eq!(
        ch.witness["resource"],
        json!("arn:aws:swf:us-east-1:123456789012:/domain/billing")
    );
    assert_eq!(
        (ch.before, ch.after),
        (DecisionKind::ImplicitDeny, DecisionKind::Allowed)
    );
    assert_eq!(ch.extent.len(), 1);
    assert_eq!(ch.extent[0].domains[0].description, "`billing`");
    // And back: the same change is a narrowing.
    let d = analyze::diff(
        Some(&after.principals[0]),
        Some(&before.principals[0]),
        &acts,
        &opts,
    );
    assert_eq!(d.changes.len(), 1);
    assert_eq!(d.changes[0].change, analyze::ChangeKind::Narrowed);
}

#[test]
fn variables_on_request_keys_make_the_answer_incomplete_not_wrong() {
    let c = config(
        &[policy(vec![
            json!({"Effect": "Allow", "Action": "swf:RecordActivityTaskHeartbeat",
            "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/${aws:ResourceTag/name}"}),
        ])],
        None,
        None,
    );
    let hb = catalog::action("swf:RecordActivityTaskHeartbeat").unwrap();
    let r = analyze::access(&c.principals[0], &[hb], &options(true));
    assert!(!r.actions[0].complete);
    assert!(
        r.actions[0].incomplete[0].contains("${aws:resourcetag/name}"),
        "{:?}",
        r.actions[0].incomplete
    );
}

#[test]
fn a_changed_principal_tag_with_unchanged_policies_is_a_change() {
    let team = vec![
        json!({"Effect": "Allow", "Action": "swf:RecordActivityTaskHeartbeat",
        "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/${aws:PrincipalTag/team}-*"}),
    ];
    let before = config_tagged(&[policy(team.clone())], None, None, "orders");
    let after = config_tagged(&[policy(team)], None, None, "billing");
    let d = analyze::diff(
        Some(&before.principals[0]),
        Some(&after.principals[0]),
        &analyze::all_actions(),
        &options(true),
    );
    let got: Vec<(String, analyze::ChangeKind, String)> = d
        .changes
        .iter()
        .map(|c| {
            (
                c.action.clone(),
                c.change,
                c.witness["resource"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "swf:RecordActivityTaskHeartbeat".to_owned(),
                analyze::ChangeKind::Widened,
                "arn:aws:swf:us-east-1:123456789012:/domain/billing-".to_owned()
            ),
            (
                "swf:RecordActivityTaskHeartbeat".to_owned(),
                analyze::ChangeKind::Narrowed,
                "arn:aws:swf:us-east-1:123456789012:/domain/orders-".to_owned()
            ),
        ]
    );
}
