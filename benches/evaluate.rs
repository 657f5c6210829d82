//! One heartbeat decision for a realistic principal and for a 1,000-statement set
//! (see benches/README.md).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a bench may fail loudly"
)]
#![allow(missing_docs, reason = "criterion_group! generates undocumented items")]

#[path = "common/mod.rs"]
mod common;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use swf_iam::eval::{self, DecisionKind, Request};

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
