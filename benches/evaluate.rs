//! One heartbeat decision for a realistic principal, for a production-shaped principal
//! (issue 25's shape: allowed, explicitly and implicitly denied requests in turn) and for
//! a 1,000-statement set (see benches/README.md).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a bench may fail loudly"
)]
#![allow(missing_docs, reason = "criterion_group! generates undocumented items")]

#[path = "common/mod.rs"]
mod common;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::json;
use swf_iam::compile::{LoadedPolicy, PolicySet};
use swf_iam::eval::{self, DecisionKind, Request};

fn load(v: &serde_json::Value) -> LoadedPolicy {
    LoadedPolicy::load(
        "production.json",
        v.to_string().as_bytes(),
        &swf_iam::validate::PolicyKind::Managed,
    )
    .unwrap()
}

/// A production principal: 5 identity policies of 10 statements (Allow and Deny,
/// wildcard actions, domain ARNs with `*` and a policy variable, a third of them with
/// conditions on `aws:SourceIp`, `aws:PrincipalTag/*`, `aws:RequestedRegion`,
/// `aws:CurrentTime`), a permissions boundary, and three SCP levels (root; an OU with a
/// region fence; the account).
fn production() -> PolicySet {
    let arn = |d: &str| format!("arn:aws:swf:*:123456789012:/domain/{d}");
    let identity = (0..5)
        .map(|p| {
            let sts: Vec<_> = (0..10)
                .map(|s| match s {
                    0 => json!({"Effect": "Allow", "Action": ["swf:Poll*", "swf:Respond*"], "Resource": arn(&format!("team-${{aws:PrincipalTag/team}}-{p}*"))}),
                    1 => json!({"Effect": "Allow", "Action": "swf:RecordActivityTaskHeartbeat", "Resource": arn(&format!("orders-{p}{s}")), "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}}),
                    2 => json!({"Effect": "Deny", "Action": "swf:*", "Resource": arn(&format!("prod-{p}{s}-*"))}),
                    3 => json!({"Effect": "Allow", "Action": ["swf:Describe*", "swf:List*", "swf:Count*"], "Resource": "*"}),
                    4 => json!({"Effect": "Allow", "Action": "swf:RecordActivityTaskHeartbeat", "Resource": arn(&format!("shared-{p}-*")), "Condition": {"StringEquals": {"aws:PrincipalTag/tier": "gold"}}}),
                    5 => json!({"Effect": "Deny", "Action": ["swf:Terminate*", "swf:Deprecate*"], "Resource": "*"}),
                    6 => json!({"Effect": "Allow", "Action": ["swf:Start*", "swf:Signal*"], "Resource": arn("orders-*"), "Condition": {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}),
                    7 => json!({"Effect": "Allow", "Action": "swf:RecordActivityTaskHeartbeat", "Resource": arn(&format!("batch-{p}{s}")), "Condition": {"DateLessThan": {"aws:CurrentTime": "2027-06-01T00:00:00Z"}}}),
                    8 => json!({"Effect": "Deny", "Action": "swf:RecordActivityTaskHeartbeat", "Resource": arn(&format!("frozen-{p}-*"))}),
                    _ => json!({"Effect": "Allow", "Action": "logs:*", "Resource": "arn:aws:logs:*:123456789012:log-group:/swf/*"}),
                })
                .collect();
            load(&json!({"Version": "2012-10-17", "Statement": sts}))
        })
        .collect();
    PolicySet {
        scps: vec![
            vec![load(
                &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
            )],
            vec![load(&json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "NotAction": ["iam:*", "sts:*", "organizations:*"], "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}
            ]}))],
            vec![load(&json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["swf:*", "logs:*", "sqs:*"], "Resource": "*"},
                {"Effect": "Deny", "Action": "swf:DeleteActivityType", "Resource": "*"}
            ]}))],
        ],
        identity,
        boundary: Some(load(&json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:*:123456789012:/domain/*"},
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}
        ]}))),
        session: Vec::new(),
    }
}

fn bench(c: &mut Criterion) {
    let (principal, context) = common::worker();
    let realistic = common::compile(&common::realistic());
    let large = common::compile(&common::large());
    let orders = "arn:aws:swf:us-east-1:123456789012:/domain/orders";
    let hb = "swf:RecordActivityTaskHeartbeat";
    let req = Request {
        principal: &principal,
        action: hb,
        resource: orders,
        context: &context,
    };
    assert_eq!(
        eval::decide(&realistic, &req).decision,
        DecisionKind::Allowed
    );
    let mut g = c.benchmark_group("heartbeat");
    // The production shape: an allowed, an explicitly denied and an implicitly denied
    // heartbeat, in turn (one decision an iteration, the three alternating).
    let prod = common::compile(&production());
    let domains = [
        "arn:aws:swf:us-east-1:123456789012:/domain/orders-21",
        "arn:aws:swf:us-east-1:123456789012:/domain/frozen-3-batch",
        "arn:aws:swf:us-east-1:123456789012:/domain/unknown",
    ];
    let reqs: Vec<Request<'_>> = domains
        .iter()
        .map(|d| Request {
            principal: &principal,
            action: hb,
            resource: d,
            context: &context,
        })
        .collect();
    let kinds: Vec<DecisionKind> = reqs
        .iter()
        .map(|r| eval::decide(&prod, r).decision)
        .collect();
    assert_eq!(
        kinds,
        [
            DecisionKind::Allowed,
            DecisionKind::ExplicitDeny,
            DecisionKind::ImplicitDeny
        ]
    );
    let mut turn = 0usize;
    g.bench_function(
        "production principal: decide (allowed / explicit / implicit in turn)",
        |b| {
            b.iter(|| {
                turn = (turn + 1) % 3;
                eval::decide(black_box(&prod), black_box(&reqs[turn]))
            })
        },
    );
    g.bench_function("realistic principal: decide", |b| {
        b.iter(|| eval::decide(black_box(&realistic), black_box(&req)))
    });
    g.bench_function("realistic principal: evaluate (explained)", |b| {
        b.iter(|| eval::evaluate(black_box(&realistic), black_box(&req)))
    });
    let d = "arn:aws:swf:us-east-1:123456789012:/domain/d37-12";
    let req_large = Request {
        principal: &principal,
        action: hb,
        resource: d,
        context: &context,
    };
    assert_eq!(
        eval::decide(&large, &req_large).decision,
        DecisionKind::Allowed
    );
    g.bench_function("1000 statements: decide", |b| {
        b.iter(|| eval::decide(black_box(&large), black_box(&req_large)))
    });
    let miss = "arn:aws:swf:us-east-1:123456789012:/domain/nope";
    let req_miss = Request {
        principal: &principal,
        action: hb,
        resource: miss,
        context: &context,
    };
    assert_eq!(
        eval::decide(&large, &req_miss).decision,
        DecisionKind::ImplicitDeny
    );
    g.bench_function("1000 statements: decide (implicit deny)", |b| {
        b.iter(|| eval::decide(black_box(&large), black_box(&req_miss)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
