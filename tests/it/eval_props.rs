//! Differential property test: the compiled, indexed evaluator always agrees with the
//! reference evaluator on random policy sets and requests.

use proptest::prelude::*;
use serde_json::{json, Value};
use swf_iam::compile::{CompiledPolicySet, LoadedPolicy, PolicySet};
use swf_iam::eval::{self, reference, Context, Principal, Request};
use swf_iam::validate::PolicyKind;

const ACTIONS: &[&str] = &[
    "*",
    "swf:*",
    "swf:Record*",
    "SWF:recordactivitytaskheartbeat",
    "swf:Poll*",
    "swf:?ollForActivityTask",
    "swf:*Task",
    "s3:*",
    "*:GetObject",
    "swf:ListDomains",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:swf:us-east-1:123456789012:/domain/a",
    "arn:aws:swf:us-east-1:123456789012:/domain/b",
    "arn:aws:swf:*:123456789012:/domain/*",
    "arn:aws:swf:*:*:/domain/a*",
    "arn:aws:swf:us-east-1:*",
    "arn:aws:swf:::/domain/a",
    "arn:aws:swf:*:*:/domain/${aws:PrincipalTag/team}",
    "arn:aws:swf:*:*:/domain/${aws:username, 'a'}",
    "arn:aws:swf:*:*:/domain/?",
    "arn:aws:s3:::bucket/*",
    "arn:aws:*",
];
fn conditions() -> Vec<Value> {
    vec![
        json!({}),
        json!({"StringEquals": {"aws:PrincipalTag/team": "a"}}),
        json!({"StringEqualsIfExists": {"aws:PrincipalTag/team": "b"}}),
        json!({"StringNotEquals": {"aws:PrincipalTag/team": ["a", "b"]}}),
        json!({"StringLike": {"aws:PrincipalTag/team": "?"}}),
        json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}),
        json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        json!({"Bool": {"aws:SecureTransport": false}}),
        json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}),
        json!({"Null": {"aws:PrincipalTag/team": "true"}}),
        json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}),
        json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}),
        json!({"DateLessThan": {"aws:CurrentTime": "2026-06-01T00:00:00Z"}}),
        json!({"NumericLessThan": {"aws:EpochTime": "1795600801"}}),
        json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/w*"}}),
        json!({"StringEqualsIgnoreCase": {"aws:RequestedRegion": "US-EAST-1"}}),
    ]
}

fn statement() -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(0..ACTIONS.len(), 1..3),
        any::<bool>(),
        prop::collection::vec(0..RESOURCES.len(), 1..3),
        prop::collection::vec(0..16usize, 0..3),
    )
        .prop_map(|(allow, not_action, acts, not_res, res, conds)| {
            let mut st = json!({"Effect": if allow { "Allow" } else { "Deny" }});
            let acts: Vec<&str> = acts.iter().map(|&i| ACTIONS[i]).collect();
            let res: Vec<&str> = res.iter().map(|&i| RESOURCES[i]).collect();
            st[if not_action { "NotAction" } else { "Action" }] = json!(acts);
            st[if not_res { "NotResource" } else { "Resource" }] = json!(res);
            let all = conditions();
            let mut cond = serde_json::Map::new();
            for c in conds {
                if let Value::Object(m) = &all[c] {
                    for (k, v) in m {
                        cond.insert(k.clone(), v.clone());
                    }
                }
            }
            st["Condition"] = Value::Object(cond);
            st
        })
}

fn policy() -> impl Strategy<Value = Value> {
    (any::<bool>(), prop::collection::vec(statement(), 1..4)).prop_map(|(v2012, sts)| {
        if v2012 {
            json!({"Version": "2012-10-17", "Statement": sts})
        } else {
            json!({"Version": "2008-10-17", "Statement": sts})
        }
    })
}

fn load(v: &Value) -> LoadedPolicy {
    LoadedPolicy::load(
        "p.json",
        v.to_string().as_bytes(),
        &PolicyKind::InlineRole("r".into()),
    )
    .unwrap()
}

fn policy_set() -> impl Strategy<Value = PolicySet> {
    (
        prop::collection::vec(policy(), 0..3),
        prop::option::of(policy()),
        prop::collection::vec(prop::collection::vec(policy(), 1..2), 0..3),
        prop::option::of(policy()),
    )
        .prop_map(|(identity, boundary, scps, session)| PolicySet {
            identity: identity.iter().map(load).collect(),
            boundary: boundary.as_ref().map(load),
            scps: scps.iter().map(|l| l.iter().map(load).collect()).collect(),
            session: session.as_ref().map(load).into_iter().collect(),
        })
}

const REQ_ACTIONS: &[&str] = &[
    "swf:RecordActivityTaskHeartbeat",
    "swf:PollForActivityTask",
    "swf:ListDomains",
    "swf:ScheduleActivityTask",
    "s3:GetObject",
    "swf:recordactivitytaskheartbeat",
];
const REQ_RESOURCES: &[&str] = &[
    "arn:aws:swf:us-east-1:123456789012:/domain/a",
    "arn:aws:swf:us-east-1:123456789012:/domain/b",
    "arn:aws:swf:eu-west-1:210987654321:/domain/a",
    "*",
    "arn:aws:s3:::bucket/key",
];

fn context() -> impl Strategy<Value = (Option<&'static str>, &'static str, bool, Vec<&'static str>)>
{
    (
        prop::option::of(prop::sample::select(vec!["a", "b", "ab"])),
        prop::sample::select(vec!["10.1.2.3", "192.168.0.1", "2001:db8::5"]),
        any::<bool>(),
        prop::collection::vec(prop::sample::select(vec!["team", "env"]), 0..3),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn compiled_agrees_with_reference(
        set in policy_set(),
        action in 0..REQ_ACTIONS.len(),
        resource in 0..REQ_RESOURCES.len(),
        (team, ip, tls, tag_keys) in context(),
    ) {
        let mut principal = Principal::from_arn("arn:aws:iam::123456789012:role/worker", "s", None).unwrap();
        if let Some(t) = team {
            principal.tags.push(("team".into(), t.into()));
        }
        let mut ctx = Context::new();
        principal.fill_context(&mut ctx);
        ctx.set_single("aws:SourceIp", ip);
        ctx.set_single("aws:SecureTransport", if tls { "true" } else { "false" });
        ctx.set_single("aws:RequestedRegion", "us-east-1");
        ctx.set_single("aws:CurrentTime", "2026-11-25T10:00:00Z");
        ctx.set_single("aws:EpochTime", "1795600800");
        for k in tag_keys {
            ctx.push("aws:TagKeys", k);
        }
        let compiled = CompiledPolicySet::compile(&set).unwrap();
        let req = Request {
            principal: &principal,
            action: REQ_ACTIONS[action],
            resource: REQ_RESOURCES[resource],
            context: &ctx,
        };
        let fast = eval::decide(&compiled, &req);
        let full = eval::evaluate(&compiled, &req);
        let slow = reference::decide(&set, &req);
        prop_assert_eq!(fast.decision, slow);
        prop_assert_eq!(full.decision, slow);
        prop_assert_eq!(fast.layer, full.deny_layer);
    }
}
