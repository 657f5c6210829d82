//! Policy sets shared by the evaluation benchmark and the allocation test.

#![allow(
    clippy::unwrap_used,
    reason = "shared by benches and tests, which fail loudly"
)]

use serde_json::json;
use swf_iam::compile::{CompiledPolicySet, LoadedPolicy, PolicySet};
use swf_iam::eval::{Context, Principal};
use swf_iam::validate::PolicyKind;

fn load(v: &serde_json::Value) -> LoadedPolicy {
    LoadedPolicy::load(
        "bench.json",
        v.to_string().as_bytes(),
        &PolicyKind::InlineRole("b".into()),
    )
    .unwrap()
}

/// A realistic worker principal: 5 identity policies × 10 statements (mixed services,
/// wildcards, a few conditions and a variable), a boundary, and 2 SCP levels.
pub fn realistic() -> PolicySet {
    let identity = (0..5)
        .map(|p| {
            let sts: Vec<_> = (0..10)
                .map(|s| match s % 5 {
                    0 => json!({"Sid": format!("Logs{p}x{s}"), "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": format!("arn:aws:logs:us-east-1:123456789012:log-group:/swf/{p}-{s}:*")}),
                    1 => json!({"Sid": format!("Queue{p}x{s}"), "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": format!("arn:aws:sqs:us-east-1:123456789012:results-{p}-{s}")}),
                    2 => json!({"Sid": format!("Poll{p}x{s}"), "Effect": "Allow", "Action": ["swf:PollForActivityTask", "swf:RespondActivityTask*"], "Resource": format!("arn:aws:swf:us-east-1:123456789012:/domain/d{p}{s}"),
                               "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}),
                    3 => json!({"Sid": format!("Team{p}x{s}"), "Effect": "Allow", "Action": "swf:RecordActivityTaskHeartbeat", "Resource": format!("arn:aws:swf:*:123456789012:/domain/${{aws:PrincipalTag/team}}-{p}{s}")}),
                    _ => json!({"Sid": format!("NoProd{p}x{s}"), "Effect": "Deny", "Action": "swf:*", "Resource": format!("arn:aws:swf:*:123456789012:/domain/prod-{p}{s}-*")}),
                })
                .collect();
            load(&json!({"Version": "2012-10-17", "Statement": sts}))
        })
        .collect::<Vec<_>>();
    let mut identity = identity;
    identity.push(load(&json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Beat", "Effect": "Allow", "Action": "swf:RecordActivityTaskHeartbeat", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/orders"},
        {"Sid": "Net", "Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "127.0.0.0/8"]}}},
        {"Sid": "Tls", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    ]})));
    PolicySet {
        scps: vec![
            vec![load(
                &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
            )],
            vec![load(&json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["swf:*", "logs:*", "sqs:*"], "Resource": "*"},
                {"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}
            ]}))],
        ],
        identity,
        boundary: Some(load(&json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["swf:PollForActivityTask", "swf:RecordActivityTaskHeartbeat", "swf:RespondActivityTask*"], "Resource": "arn:aws:swf:*:123456789012:/domain/*"},
            {"Effect": "Allow", "Action": ["logs:*", "sqs:SendMessage"], "Resource": "*"}
        ]}))),
        session: Vec::new(),
    }
}

/// A large set: 1,000 statements in 50 identity policies (IAM's size quota keeps a
/// policy near 20 such statements), each allowing some SWF action
/// on its own domain (half heartbeat), a tenth of them with a condition.
pub fn large() -> PolicySet {
    let identity = (0..50)
        .map(|p| {
            let sts: Vec<_> = (0..20)
                .map(|s| {
                    let action = if s % 2 == 0 { "swf:RecordActivityTaskHeartbeat" } else { "swf:PollForActivityTask" };
                    let mut st = json!({"Effect": "Allow", "Action": action, "Resource": format!("arn:aws:swf:us-east-1:123456789012:/domain/d{p}-{s}")});
                    if s % 10 == 0 {
                        st["Condition"] = json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}});
                    }
                    st
                })
                .collect();
            load(&json!({"Version": "2012-10-17", "Statement": sts}))
        })
        .collect();
    PolicySet {
        identity,
        ..PolicySet::default()
    }
}

/// The heartbeat worker and its request context (as the gate would build it).
pub fn worker() -> (Principal, Context) {
    let mut p = Principal::from_arn(
        "arn:aws:iam::123456789012:role/heartbeat-worker",
        "s1",
        None,
    )
    .unwrap();
    p.tags.push(("team".into(), "orders".into()));
    let mut c = Context::new();
    p.fill_context(&mut c);
    c.set_single("aws:SourceIp", "10.1.2.3");
    c.set_single("aws:SecureTransport", "true");
    c.set_single("aws:RequestedRegion", "us-east-1");
    c.set_single("aws:CurrentTime", "2026-11-25T10:00:00Z");
    c.set_single("aws:EpochTime", "1795600800");
    (p, c)
}

/// Compiles a set.
pub fn compile(set: &PolicySet) -> CompiledPolicySet {
    CompiledPolicySet::compile(set).unwrap()
}
