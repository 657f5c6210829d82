//! The decision hot path does not allocate: a counting global allocator watches
//! `eval::decide` for the realistic principal and the 1,000-statement set.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
#[path = "../benches/common/mod.rs"]
mod common;

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use swf_iam::eval::{self, DecisionKind, Request};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn decide_does_not_allocate() {
    let (principal, context) = common::worker();
    let realistic = common::compile(&common::realistic());
    let large = common::compile(&common::large());
    let cases = [
        (
            &realistic,
            "swf:RecordActivityTaskHeartbeat",
            "arn:aws:swf:us-east-1:123456789012:/domain/orders",
            DecisionKind::Allowed,
        ),
        (
            &realistic,
            "swf:RecordActivityTaskHeartbeat",
            "arn:aws:swf:us-east-1:123456789012:/domain/orders-03",
            DecisionKind::Allowed,
        ),
        (
            &realistic,
            "swf:RecordActivityTaskHeartbeat",
            "arn:aws:swf:us-east-1:123456789012:/domain/prod-04-x",
            DecisionKind::ExplicitDeny,
        ),
        (
            &realistic,
            "SWF:recordActivityTaskHeartbeat",
            "arn:aws:swf:us-east-1:123456789012:/domain/billing",
            DecisionKind::ImplicitDeny,
        ),
        (
            &realistic,
            "logs:PutLogEvents",
            "arn:aws:logs:us-east-1:123456789012:log-group:/swf/1-0:log-stream:x",
            DecisionKind::Allowed,
        ),
        (
            &large,
            "swf:RecordActivityTaskHeartbeat",
            "arn:aws:swf:us-east-1:123456789012:/domain/d37-12",
            DecisionKind::Allowed,
        ),
        (
            &large,
            "swf:RecordActivityTaskHeartbeat",
            "arn:aws:swf:us-east-1:123456789012:/domain/d3-10",
            DecisionKind::Allowed,
        ),
    ];
    for (set, action, resource, expect) in cases {
        let req = Request {
            principal: &principal,
            action,
            resource,
            context: &context,
        };
        let region = Region::new(GLOBAL);
        let out = eval::decide(set, &req);
        let stats = region.change();
        assert_eq!(out.decision, expect, "{action} on {resource}");
        assert_eq!(
            stats.allocations + stats.reallocations,
            0,
            "decide allocated for {action} on {resource}"
        );
    }
    // The explained path allocates (it builds messages): the counter does see allocations.
    let req = Request {
        principal: &principal,
        action: "swf:RecordActivityTaskHeartbeat",
        resource: "arn:aws:swf:us-east-1:123456789012:/domain/billing",
        context: &context,
    };
    let region = Region::new(GLOBAL);
    let d = eval::evaluate(&realistic, &req);
    assert!(region.change().allocations > 0);
    assert!(d.message.is_some());
}
