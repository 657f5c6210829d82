//! Every edge case and worked example of `iam-policy.md` §4, §6, §8 and §10, run through
//! the compiled evaluator (both entry points) and the reference evaluator, which must agree.

use serde_json::{json, Value};
use swf_iam::compile::{CompiledPolicySet, LoadedPolicy, PolicySet};
use swf_iam::eval::{self, reference, Context, DecisionKind, Principal, Request};
use swf_iam::validate::PolicyKind;
use DecisionKind::{Allowed, ExplicitDeny, ImplicitDeny};

const HB: &str = "swf:RecordActivityTaskHeartbeat";

fn dom(x: &str) -> String {
    format!("arn:aws:swf:us-east-1:123456789012:/domain/{x}")
}

fn star_d(x: &str) -> String {
    format!("arn:aws:swf:*:123456789012:/domain/{x}")
}

fn load(doc: &Value) -> LoadedPolicy {
    LoadedPolicy::load(
        "p.json",
        doc.to_string().as_bytes(),
        &PolicyKind::InlineRole("r".into()),
    )
    .unwrap()
}

/// A 2012-10-17 policy from statements.
fn pol(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn a(action: &str, resource: &str) -> Value {
    json!({"Effect": "Allow", "Action": action, "Resource": resource})
}

fn d(action: &str, resource: &str) -> Value {
    json!({"Effect": "Deny", "Action": action, "Resource": resource})
}

fn with_cond(mut st: Value, cond: Value) -> Value {
    st["Condition"] = cond;
    st
}

#[derive(Clone)]
struct World {
    set: PolicySet,
    principal: Principal,
    context: Context,
}

fn world(identity: &[Value]) -> World {
    let mut principal =
        Principal::from_arn("arn:aws:iam::123456789012:role/worker", "s1", None).unwrap();
    principal.tags.push(("team".into(), "orders".into()));
    let mut w = World {
        set: PolicySet {
            identity: identity.iter().map(load).collect(),
            ..PolicySet::default()
        },
        principal,
        context: Context::new(),
    };
    w.refill();
    w
}

impl World {
    fn refill(&mut self) {
        let mut c = Context::new();
        self.principal.fill_context(&mut c);
        c.set_single("aws:SecureTransport", "true");
        c.set_single("aws:RequestedRegion", "us-east-1");
        c.set_single("aws:SourceIp", "10.1.2.3");
        c.set_single("aws:CurrentTime", "2026-11-25T10:00:00Z");
        c.set_single("aws:EpochTime", "1795600800");
        for (k, v) in self.context.iter() {
            c.set(k, v.clone());
        }
        self.context = c;
    }

    fn ctx(mut self, key: &str, value: &str) -> Self {
        self.context.set_single(key, value);
        self
    }

    fn untag(mut self, key: &str) -> Self {
        self.principal.tags.retain(|(k, _)| k != key);
        self.context.remove(&format!("aws:PrincipalTag/{key}"));
        self
    }

    /// Decides with all three evaluators and asserts they agree.
    fn decide(&self, action: &str, resource: &str) -> DecisionKind {
        let compiled = CompiledPolicySet::compile(&self.set).unwrap();
        let req = Request {
            principal: &self.principal,
            action,
            resource,
            context: &self.context,
        };
        let fast = eval::decide(&compiled, &req).decision;
        let full = eval::evaluate(&compiled, &req);
        let slow = reference::decide(&self.set, &req);
        assert_eq!(
            fast, full.decision,
            "decide vs evaluate for {action} on {resource}"
        );
        assert_eq!(
            fast, slow,
            "compiled vs reference for {action} on {resource}"
        );
        fast
    }
}

#[test]
fn e01_exact_match() {
    let w = world(&[pol(json!([a(HB, &dom("orders"))]))]);
    assert_eq!(w.decide(HB, &dom("orders")), Allowed);
    assert_eq!(w.decide(HB, &dom("billing")), ImplicitDeny);
}

#[test]
fn e02_deny_beats_allow() {
    let w = world(&[pol(json!([a("swf:*", "*"), d(HB, &star_d("prod-*"))]))]);
    assert_eq!(w.decide(HB, &dom("prod-eu")), ExplicitDeny);
    assert_eq!(w.decide(HB, &dom("dev")), Allowed);
}

#[test]
fn e03_actions_case_insensitive() {
    let w = world(&[pol(json!([a(
        "SWF:recordactivitytaskheartbeat",
        &dom("orders")
    )]))]);
    assert_eq!(w.decide(HB, &dom("orders")), Allowed);
    assert_eq!(
        w.decide("swf:RECORDACTIVITYTASKHEARTBEAT", &dom("orders")),
        Allowed
    );
    for p in [
        "swf:record*",
        "Swf:*Heartbeat",
        "*",
        "swf:RecordActivityTaskHeartbea?",
    ] {
        assert_eq!(
            world(&[pol(json!([a(p, "*")]))]).decide(HB, &dom("o")),
            Allowed,
            "{p}"
        );
    }
    for p in [
        "swf:RecordActivityTaskHeartbeat?",
        "swf:Record",
        "swf:Heartbeat*",
        "states:*",
        "swf:Record[A]*",
    ] {
        assert_eq!(
            world(&[pol(json!([a(p, "*")]))]).decide(HB, &dom("o")),
            ImplicitDeny,
            "{p}"
        );
    }
}

#[test]
fn e04_arns_case_sensitive() {
    let w = world(&[pol(json!([a(HB, &dom("Orders"))]))]);
    assert_eq!(w.decide(HB, &dom("orders")), ImplicitDeny);
}

#[test]
fn e05_question_mark_is_exactly_one() {
    let w = world(&[pol(json!([a(HB, &star_d("order?"))]))]);
    assert_eq!(w.decide(HB, &dom("orders")), Allowed);
    assert_eq!(w.decide(HB, &dom("order")), ImplicitDeny);
    assert_eq!(w.decide(HB, &dom("orderss")), ImplicitDeny);
}

#[test]
fn e06_bracket_is_literal() {
    let w = world(&[pol(json!([a(HB, &star_d("[a]*"))]))]);
    assert_eq!(w.decide(HB, &dom("[a]x")), Allowed);
    assert_eq!(w.decide(HB, &dom("ax")), ImplicitDeny);
}

#[test]
fn e07_not_action_excludes() {
    let w = world(&[pol(
        json!([{"Effect": "Allow", "NotAction": HB, "Resource": "*"}]),
    )]);
    assert_eq!(w.decide(HB, &dom("orders")), ImplicitDeny);
    assert_eq!(w.decide("swf:PollForActivityTask", &dom("orders")), Allowed);
    // Allow + NotAction allows other services' actions too.
    assert_eq!(w.decide("s3:GetObject", "arn:aws:s3:::bucket/key"), Allowed);
}

#[test]
fn e08_not_resource_with_deny() {
    let w = world(&[pol(
        json!([a(HB, "*"), {"Effect": "Deny", "Action": HB, "NotResource": star_d("dev")}]),
    )]);
    assert_eq!(w.decide(HB, &dom("dev")), Allowed);
    assert_eq!(w.decide(HB, &dom("prod")), ExplicitDeny);
}

#[test]
fn e09_other_account_never_allowed() {
    let w = world(&[pol(json!([a(HB, "arn:aws:swf:*:*:*")]))]);
    assert_eq!(
        w.decide(HB, "arn:aws:swf:us-east-1:210987654321:/domain/orders"),
        ImplicitDeny
    );
    assert_eq!(w.decide(HB, &dom("orders")), Allowed);
}

#[test]
fn e10_empty_fields_match_only_empty() {
    let w = world(&[pol(json!([a(HB, "arn:aws:swf:::/domain/orders")]))]);
    assert_eq!(w.decide(HB, &dom("orders")), ImplicitDeny);
}

#[test]
fn e11_open_final_star_crosses_colons() {
    let w = world(&[pol(json!([a(HB, "arn:aws:swf:us-east-1:*")]))]);
    assert_eq!(w.decide(HB, &dom("orders")), Allowed);
    assert_eq!(
        w.decide(HB, "arn:aws:swf:eu-west-1:123456789012:/domain/orders"),
        ImplicitDeny
    );
}

#[test]
fn e12_to_e14_variables_and_versions() {
    let st = a(HB, &star_d("${aws:PrincipalTag/team}-*"));
    let w = world(&[pol(json!([st.clone()]))]);
    assert_eq!(w.decide(HB, &dom("orders-1")), Allowed);
    assert_eq!(w.decide(HB, &dom("billing-1")), ImplicitDeny);
    // 13: principal without tag `team`.
    assert_eq!(
        w.clone().untag("team").decide(HB, &dom("orders-1")),
        ImplicitDeny
    );
    // 14: no substitution under 2008-10-17.
    let w = world(&[json!({"Version": "2008-10-17", "Statement": [st.clone()]})]);
    assert_eq!(w.decide(HB, &dom("orders-1")), ImplicitDeny);
    // Literal text matches only itself (no real domain can carry `:` or `/` in its name).
    assert_eq!(w.decide(HB, &dom("${aws:PrincipalTag/team}-1")), Allowed);
    let w = world(&[json!({"Statement": [st]})]);
    assert_eq!(
        w.decide(HB, &dom("orders-1")),
        ImplicitDeny,
        "no Version = 2008 rules"
    );
}

#[test]
fn e15_escaped_star_is_literal() {
    let w = world(&[pol(json!([a(HB, &star_d("a${*}"))]))]);
    assert_eq!(w.decide(HB, &dom("ab")), ImplicitDeny);
    assert_eq!(w.decide(HB, &dom("a*")), Allowed);
    let w = world(&[pol(json!([a(HB, &star_d("a${?}${$}"))]))]);
    assert_eq!(w.decide(HB, &dom("a?$")), Allowed);
    assert_eq!(w.decide(HB, &dom("ab$")), ImplicitDeny);
}

#[test]
fn e16_default_used() {
    let w = world(&[pol(json!([a(HB, &star_d("${aws:username, 'shared'}"))]))]);
    assert_eq!(w.decide(HB, &dom("shared")), Allowed);
    assert_eq!(w.decide(HB, &dom("worker")), ImplicitDeny);
    // A role has no aws:username; without a default the entry matches nothing...
    let w = world(&[pol(json!([a(HB, &star_d("${aws:username}"))]))]);
    assert_eq!(w.decide(HB, &dom("worker")), ImplicitDeny);
    // ...but the rest of the statement still works.
    let w = world(&[pol(
        json!([{"Effect": "Allow", "Action": HB, "Resource": [star_d("${aws:username}"), "*"]}]),
    )]);
    assert_eq!(w.decide(HB, &dom("worker")), Allowed);
}

#[test]
fn e17_to_e20_absent_keys_and_negation() {
    let cond = |op: &str, v: Value| {
        pol(json!([with_cond(
            a(HB, "*"),
            json!({op: {"aws:PrincipalTag/env": v}})
        )]))
    };
    assert_eq!(
        world(&[cond("StringEquals", json!("prod"))]).decide(HB, &dom("o")),
        ImplicitDeny
    );
    assert_eq!(
        world(&[cond("StringEqualsIfExists", json!("prod"))]).decide(HB, &dom("o")),
        Allowed
    );
    assert_eq!(
        world(&[cond("StringNotEquals", json!("prod"))]).decide(HB, &dom("o")),
        Allowed
    );
    let w = world(&[pol(json!([with_cond(
        a(HB, "*"),
        json!({"StringNotEquals": {"aws:PrincipalTag/team": ["orders", "billing"]}})
    )]))]);
    assert_eq!(w.decide(HB, &dom("o")), ImplicitDeny, "NOR over values");
    let w = world(&[pol(json!([with_cond(
        a(HB, "*"),
        json!({"StringNotEquals": {"aws:PrincipalTag/team": ["ops", "billing"]}})
    )]))]);
    assert_eq!(w.decide(HB, &dom("o")), Allowed);
    // IfExists with the key present is the plain operator.
    let w = world(&[pol(json!([with_cond(
        a(HB, "*"),
        json!({"StringEqualsIfExists": {"aws:PrincipalTag/team": "ops"}})
    )]))]);
    assert_eq!(w.decide(HB, &dom("o")), ImplicitDeny);
}

#[test]
fn e21_ip_addresses() {
    let w = world(&[pol(json!([with_cond(
        a(HB, "*"),
        json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}})
    )]))]);
    assert_eq!(
        w.clone()
            .ctx("aws:SourceIp", "10.1.2.3")
            .decide(HB, &dom("o")),
        Allowed
    );
    assert_eq!(
        w.clone()
            .ctx("aws:SourceIp", "192.168.1.1")
            .decide(HB, &dom("o")),
        ImplicitDeny
    );
    assert_eq!(
        w.clone()
            .ctx("aws:SourceIp", "2001:db8::1")
            .decide(HB, &dom("o")),
        Allowed
    );
    assert_eq!(
        w.clone()
            .ctx("aws:SourceIp", "not-an-ip")
            .decide(HB, &dom("o")),
        ImplicitDeny
    );
    let w = world(&[pol(json!([
        a(HB, "*"),
        with_cond(
            d("*", "*"),
            json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
        )
    ]))]);
    assert_eq!(
        w.clone()
            .ctx("aws:SourceIp", "10.9.9.9")
            .decide(HB, &dom("o")),
        Allowed
    );
    assert_eq!(
        w.clone()
            .ctx("aws:SourceIp", "8.8.8.8")
            .decide(HB, &dom("o")),
        ExplicitDeny
    );
}

#[test]
fn e22_json_bool_value() {
    let w = world(&[pol(json!([
        a(HB, "*"),
        with_cond(d("*", "*"), json!({"Bool": {"aws:SecureTransport": false}}))
    ]))]);
    assert_eq!(
        w.clone()
            .ctx("aws:SecureTransport", "false")
            .decide(HB, &dom("o")),
        ExplicitDeny
    );
    assert_eq!(
        w.clone()
            .ctx("aws:SecureTransport", "true")
            .decide(HB, &dom("o")),
        Allowed
    );
}

#[test]
fn e23_mfa_pitfall() {
    let w = world(&[pol(json!([
        a(HB, "*"),
        with_cond(
            d("*", "*"),
            json!({"Bool": {"aws:MultiFactorAuthPresent": "false"}})
        )
    ]))]);
    assert_eq!(
        w.decide(HB, &dom("o")),
        Allowed,
        "key absent → false: long-term keys are not denied"
    );
    let w = world(&[pol(json!([
        a(HB, "*"),
        with_cond(
            d("*", "*"),
            json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})
        )
    ]))]);
    assert_eq!(
        w.decide(HB, &dom("o")),
        ExplicitDeny,
        "BoolIfExists denies them"
    );
}

#[test]
fn e24_for_all_values() {
    let w = world(&[pol(json!([with_cond(
        a("swf:TagResource", "*"),
        json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}})
    )]))]);
    let r = dom("o");
    assert_eq!(
        w.decide("swf:TagResource", &r),
        Allowed,
        "vacuous truth without tags"
    );
    let mut two = w.clone();
    two.context.push("aws:TagKeys", "team");
    two.context.push("aws:TagKeys", "env");
    assert_eq!(two.decide("swf:TagResource", &r), ImplicitDeny);
    let mut one = w.clone();
    one.context.set(
        "aws:TagKeys",
        swf_iam::eval::ContextValue::Multi(vec!["team".into()]),
    );
    assert_eq!(one.decide("swf:TagResource", &r), Allowed);
}

#[test]
fn set_operator_table_5_5() {
    let cases = [
        (
            "ForAllValues:StringEquals",
            json!(["team", "env", "owner"]),
            Allowed,
        ),
        ("ForAllValues:StringEquals", json!(["team"]), ImplicitDeny),
        ("ForAnyValue:StringEquals", json!(["env"]), Allowed),
        (
            "ForAnyValue:StringNotEquals",
            json!(["team", "env"]),
            ImplicitDeny,
        ),
        ("StringEquals", json!("env"), Allowed), // multivalued without set operator: ForAnyValue
    ];
    for (op, v, expect) in cases {
        let mut w = world(&[pol(json!([with_cond(
            a("swf:TagResource", "*"),
            json!({op: {"aws:TagKeys": v}})
        )]))]);
        w.context.push("aws:TagKeys", "team");
        w.context.push("aws:TagKeys", "env");
        assert_eq!(w.decide("swf:TagResource", &dom("o")), expect, "{op}");
    }
    // ForAnyValue on a missing key is false, even with IfExists.
    for op in [
        "ForAnyValue:StringEquals",
        "ForAnyValue:StringEqualsIfExists",
    ] {
        let w = world(&[pol(json!([with_cond(
            a("swf:TagResource", "*"),
            json!({op: {"aws:TagKeys": "x"}})
        )]))]);
        assert_eq!(w.decide("swf:TagResource", &dom("o")), ImplicitDeny, "{op}");
    }
}

#[test]
fn e25_null() {
    let w = world(&[pol(json!([
        a(HB, "*"),
        with_cond(
            d(HB, "*"),
            json!({"Null": {"aws:PrincipalTag/team": "true"}})
        )
    ]))]);
    assert_eq!(w.decide(HB, &dom("o")), Allowed);
    assert_eq!(w.clone().untag("team").decide(HB, &dom("o")), ExplicitDeny);
    let w = world(&[pol(json!([with_cond(
        a(HB, "*"),
        json!({"Null": {"aws:PrincipalTag/team": "false"}})
    )]))]);
    assert_eq!(w.decide(HB, &dom("o")), Allowed);
    assert_eq!(w.clone().untag("team").decide(HB, &dom("o")), ImplicitDeny);
}

#[test]
fn e26_boundary_intersects() {
    let mut w = world(&[pol(json!([a("swf:*", "*")]))]);
    w.set.boundary = Some(load(&pol(json!([a(HB, &dom("orders"))]))));
    assert_eq!(w.decide(HB, &dom("orders")), Allowed);
    assert_eq!(w.decide(HB, &dom("billing")), ImplicitDeny);
    // A boundary alone grants nothing.
    let mut w = world(&[]);
    w.set.boundary = Some(load(&pol(json!([a("*", "*")]))));
    assert_eq!(w.decide(HB, &dom("orders")), ImplicitDeny);
    // A Deny in the boundary is an explicit deny.
    let mut w = world(&[pol(json!([a("*", "*")]))]);
    w.set.boundary = Some(load(&pol(json!([a("*", "*"), d(HB, "*")]))));
    assert_eq!(w.decide(HB, &dom("orders")), ExplicitDeny);
}

#[test]
fn e27_every_scp_level_must_allow() {
    let mut w = world(&[pol(json!([a("*", "*")]))]);
    w.set.scps = vec![
        vec![load(&pol(json!([a("*", "*")])))],
        vec![load(&pol(json!([a("swf:Poll*", "*")])))],
    ];
    assert_eq!(w.decide(HB, &dom("orders")), ImplicitDeny);
    assert_eq!(w.decide("swf:PollForActivityTask", &dom("orders")), Allowed);
    // SCPs grant nothing by themselves.
    let mut w = world(&[]);
    w.set.scps = vec![vec![load(&pol(json!([a("*", "*")])))]];
    assert_eq!(w.decide(HB, &dom("orders")), ImplicitDeny);
}

#[test]
fn e28_session_policy_intersects() {
    let mut w = world(&[pol(json!([a("*", "*")]))]);
    w.set.session = vec![load(&pol(json!([a("swf:Poll*", "*")])))];
    assert_eq!(w.decide(HB, &dom("orders")), ImplicitDeny);
    assert_eq!(w.decide("swf:PollForDecisionTask", &dom("orders")), Allowed);
}

#[test]
fn e29_string_like() {
    let w = world(&[pol(json!([
        a("*", "*"),
        with_cond(
            d(HB, "*"),
            json!({"StringLike": {"aws:PrincipalTag/team": "ord*"}})
        )
    ]))]);
    assert_eq!(w.decide(HB, &dom("o")), ExplicitDeny);
    assert_eq!(w.decide("swf:PollForActivityTask", &dom("o")), Allowed);
}

#[test]
fn e30_arn_pattern_never_matches_star() {
    let w = world(&[pol(json!([a("swf:*", "arn:aws:swf:*:*:*")]))]);
    assert_eq!(w.decide("swf:ListDomains", "*"), ImplicitDeny);
    let w = world(&[pol(json!([a("swf:*", "*")]))]);
    assert_eq!(w.decide("swf:ListDomains", "*"), Allowed);
    // NotResource [arn] covers the `*` of resource-less actions (§4 rule 6).
    let w = world(&[pol(
        json!([a("swf:*", "*"), {"Effect": "Deny", "Action": "swf:*", "NotResource": dom("dev")}]),
    )]);
    assert_eq!(w.decide("swf:ListDomains", "*"), ExplicitDeny);
}

#[test]
fn e31_pathological_pattern_is_bounded() {
    let w = world(&[pol(json!([a(HB, &star_d("*a*a*a*a*a*a*a*a*b"))]))]);
    let compiled = CompiledPolicySet::compile(&w.set).unwrap();
    let resource = dom(&"a".repeat(256));
    let req = Request {
        principal: &w.principal,
        action: HB,
        resource: &resource,
        context: &w.context,
    };
    // The compiled matcher is linear; the reference one would be exponential here, so
    // only the compiled evaluator runs on this input.
    assert_eq!(eval::decide(&compiled, &req).decision, ImplicitDeny);
}

#[test]
fn not_action_not_resource_worked_examples_s4() {
    let w = world(&[pol(
        json!([a("swf:*", "*"), {"Effect": "Deny", "Action": "swf:*", "NotResource": "arn:aws:swf:*:*:/domain/dev-*"}]),
    )]);
    assert_eq!(w.decide(HB, &dom("dev-1")), Allowed);
    assert_eq!(w.decide(HB, &dom("prod")), ExplicitDeny);
    let w = world(&[pol(
        json!([{"Effect": "Allow", "Action": "swf:*", "NotResource": "*"}]),
    )]);
    assert_eq!(w.decide(HB, &dom("orders")), ImplicitDeny);
    let w = world(&[pol(
        json!([{"Effect": "Deny", "NotAction": "swf:Poll*", "Resource": "*"}, a("*", "*")]),
    )]);
    assert_eq!(w.decide(HB, &dom("orders")), ExplicitDeny);
    assert_eq!(w.decide("swf:PollForActivityTask", &dom("orders")), Allowed);
    // NotAction + NotResource together.
    let w = world(&[pol(
        json!([a("*", "*"), {"Effect": "Deny", "NotAction": "swf:Poll*", "NotResource": star_d("dev-*")}]),
    )]);
    assert_eq!(w.decide(HB, &dom("prod")), ExplicitDeny);
    assert_eq!(w.decide(HB, &dom("dev-1")), Allowed);
    assert_eq!(w.decide("swf:PollForActivityTask", &dom("prod")), Allowed);
}

#[test]
fn worked_example_s8() {
    let mut w = world(&[pol(json!([a("swf:*", "*")]))]);
    w.set.boundary = Some(load(&pol(json!([a(HB, &dom("orders"))]))));
    w.set.scps = vec![
        vec![load(&pol(json!([a("*", "*")])))],
        vec![load(&pol(json!([a("swf:Poll*", "*")])))],
    ];
    assert_eq!(w.decide(HB, &dom("orders")), ImplicitDeny);
    w.set.scps.clear();
    assert_eq!(w.decide(HB, &dom("orders")), Allowed);
    assert_eq!(w.decide(HB, &dom("billing")), ImplicitDeny);
}

#[test]
fn example_s1_tls() {
    let w = world(&[json!({"Version":"2012-10-17","Statement":[
        {"Sid":"Beat","Effect":"Allow","Action":"swf:RecordActivityTaskHeartbeat","Resource":"arn:aws:swf:*:123456789012:/domain/orders"},
        {"Effect":"Deny","Action":"swf:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}]})]);
    assert_eq!(
        w.clone()
            .ctx("aws:SecureTransport", "true")
            .decide(HB, &dom("orders")),
        Allowed
    );
    assert_eq!(
        w.clone()
            .ctx("aws:SecureTransport", "false")
            .decide(HB, &dom("orders")),
        ExplicitDeny
    );
}

#[test]
fn condition_combination_s5_1() {
    let cond = json!({"StringEquals": {"aws:PrincipalTag/team": ["orders", "billing"], "aws:RequestedRegion": "us-east-1"},
        "Bool": {"aws:SecureTransport": "true"}});
    let w = world(&[pol(json!([with_cond(a(HB, "*"), cond)]))]);
    assert_eq!(w.decide(HB, &dom("o")), Allowed);
    assert_eq!(
        w.clone()
            .ctx("aws:RequestedRegion", "eu-west-1")
            .decide(HB, &dom("o")),
        ImplicitDeny
    );
    assert_eq!(
        w.clone()
            .ctx("aws:SecureTransport", "false")
            .decide(HB, &dom("o")),
        ImplicitDeny
    );
    assert_eq!(
        w.clone()
            .ctx("aws:PrincipalTag/team", "billing")
            .decide(HB, &dom("o")),
        Allowed
    );
    // Key names are case-insensitive, tag key included; values are not.
    let w = world(&[pol(json!([with_cond(
        a(HB, "*"),
        json!({"StringEquals": {"AWS:PRINCIPALTAG/Team": "orders"}})
    )]))]);
    assert_eq!(w.decide(HB, &dom("o")), Allowed);
    let w = world(&[pol(json!([with_cond(
        a(HB, "*"),
        json!({"StringEquals": {"aws:PrincipalTag/team": "Orders"}})
    )]))]);
    assert_eq!(w.decide(HB, &dom("o")), ImplicitDeny);
    let w = world(&[pol(json!([with_cond(
        a(HB, "*"),
        json!({"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "ORDERS"}})
    )]))]);
    assert_eq!(w.decide(HB, &dom("o")), Allowed);
    // An empty condition block holds; an empty value list is false (negated: true).
    let w = world(&[pol(json!([with_cond(a(HB, "*"), json!({}))]))]);
    assert_eq!(w.decide(HB, &dom("o")), Allowed);
    let w = world(&[pol(json!([with_cond(
        a(HB, "*"),
        json!({"StringEquals": {"aws:PrincipalTag/team": []}})
    )]))]);
    assert_eq!(w.decide(HB, &dom("o")), ImplicitDeny);
    let w = world(&[pol(json!([with_cond(
        a(HB, "*"),
        json!({"StringNotEquals": {"aws:PrincipalTag/team": []}})
    )]))]);
    assert_eq!(w.decide(HB, &dom("o")), Allowed);
}

#[test]
fn operator_families_s5_2() {
    let check = |op: &str, key: &str, pv: Value, rv: &str, expect: DecisionKind| {
        let w = world(&[pol(json!([with_cond(
            a(HB, "*"),
            json!({op: {key: pv.clone()}})
        )]))])
        .ctx(key, rv);
        assert_eq!(w.decide(HB, &dom("o")), expect, "{op} {key} {pv} vs {rv}");
    };
    check(
        "NumericEquals",
        "aws:MultiFactorAuthAge",
        json!("1.0"),
        "1",
        Allowed,
    );
    check(
        "NumericLessThan",
        "aws:MultiFactorAuthAge",
        json!(3600),
        "3599.99",
        Allowed,
    );
    check(
        "NumericLessThan",
        "aws:MultiFactorAuthAge",
        json!("3600"),
        "3600",
        ImplicitDeny,
    );
    check(
        "NumericLessThanEquals",
        "aws:MultiFactorAuthAge",
        json!("3600"),
        "3600",
        Allowed,
    );
    check(
        "NumericGreaterThan",
        "aws:MultiFactorAuthAge",
        json!("-1"),
        "0",
        Allowed,
    );
    check(
        "NumericGreaterThanEquals",
        "aws:MultiFactorAuthAge",
        json!("10"),
        "9",
        ImplicitDeny,
    );
    check(
        "NumericNotEquals",
        "aws:MultiFactorAuthAge",
        json!(["1", "2"]),
        "3",
        Allowed,
    );
    check(
        "NumericEquals",
        "aws:MultiFactorAuthAge",
        json!("1e3"),
        "1000",
        ImplicitDeny,
    );
    check(
        "NumericNotEquals",
        "aws:MultiFactorAuthAge",
        json!("1"),
        "abc",
        Allowed,
    );
    check(
        "DateGreaterThan",
        "aws:CurrentTime",
        json!("2026-01-01T00:00:00Z"),
        "2026-11-25T10:00:00Z",
        Allowed,
    );
    check(
        "DateLessThan",
        "aws:CurrentTime",
        json!("2026-11-25"),
        "2026-11-25T10:00:00Z",
        ImplicitDeny,
    );
    check(
        "DateEquals",
        "aws:CurrentTime",
        json!("2026-11-25T12:00:00+02:00"),
        "2026-11-25T10:00:00Z",
        Allowed,
    );
    check(
        "DateLessThanEquals",
        "aws:EpochTime",
        json!("1795600800"),
        "1795600800",
        Allowed,
    );
    check(
        "DateNotEquals",
        "aws:CurrentTime",
        json!("2026-11-25T10:00:00Z"),
        "2026-11-25T10:00:00Z",
        ImplicitDeny,
    );
    check(
        "Bool",
        "aws:SecureTransport",
        json!("TRUE"),
        "true",
        Allowed,
    );
    check(
        "BinaryEquals",
        "aws:PrincipalTag/blob",
        json!("QmluYXJ5"),
        "QmluYXJ5",
        Allowed,
    );
    check(
        "BinaryEquals",
        "aws:PrincipalTag/blob",
        json!("QmluYXJ5"),
        "QmluYXJ6",
        ImplicitDeny,
    );
    check(
        "ArnEquals",
        "aws:PrincipalArn",
        json!("arn:aws:iam::123456789012:role/worker"),
        "arn:aws:iam::123456789012:role/worker",
        Allowed,
    );
    check(
        "ArnLike",
        "aws:PrincipalArn",
        json!("arn:aws:iam::*:role/w*"),
        "arn:aws:iam::123456789012:role/worker",
        Allowed,
    );
    check(
        "ArnLike",
        "aws:PrincipalArn",
        json!("arn:aws:iam::*:role/w*"),
        "arn:aws:iam::123456789012:user/worker",
        ImplicitDeny,
    );
    check(
        "ArnNotLike",
        "aws:PrincipalArn",
        json!("arn:aws:iam::*:role/w*"),
        "arn:aws:iam::123456789012:user/x",
        Allowed,
    );
    check(
        "ArnLike",
        "aws:PrincipalArn",
        json!("*"),
        "not-an-arn",
        ImplicitDeny,
    );
    check(
        "StringLike",
        "aws:UserAgent",
        json!("aws-cli/2.*"),
        "aws-cli/2.15.0 Python/3.11",
        Allowed,
    );
    check(
        "StringNotLike",
        "aws:UserAgent",
        json!("aws-cli/2.*"),
        "Boto3/1.34",
        Allowed,
    );
    check(
        "StringEquals",
        "aws:UserAgent",
        json!("a*"),
        "abc",
        ImplicitDeny,
    );
    check(
        "StringEquals",
        "aws:UserAgent",
        json!(true),
        "true",
        Allowed,
    );
}

#[test]
fn variables_in_condition_values_s6() {
    let w = world(&[pol(json!([with_cond(
        a(HB, "*"),
        json!({"StringEquals": {"aws:RequestedRegion": "${aws:PrincipalTag/region, 'us-east-1'}"}})
    )]))]);
    assert_eq!(w.decide(HB, &dom("o")), Allowed);
    assert_eq!(
        w.clone()
            .ctx("aws:PrincipalTag/region", "eu-west-1")
            .decide(HB, &dom("o")),
        ImplicitDeny
    );
    // Not substituted in Numeric values.
    let w = world(&[pol(json!([with_cond(
        a(HB, "*"),
        json!({"NumericEquals": {"aws:MultiFactorAuthAge": "${aws:EpochTime}"}})
    )]))])
    .ctx("aws:MultiFactorAuthAge", "1795600800");
    assert_eq!(w.decide(HB, &dom("o")), ImplicitDeny);
    // Substituted text is literal: a tag `a*` does not become a wildcard.
    let w = world(&[pol(json!([with_cond(
        a(HB, "*"),
        json!({"StringLike": {"aws:UserAgent": "${aws:PrincipalTag/agent}"}})
    )]))])
    .ctx("aws:PrincipalTag/agent", "a*")
    .ctx("aws:UserAgent", "abc");
    assert_eq!(w.decide(HB, &dom("o")), ImplicitDeny);
    // Single pass: a value containing ${...} is not expanded again.
    let w = world(&[pol(json!([a(HB, &star_d("${aws:PrincipalTag/x}"))]))])
        .ctx("aws:PrincipalTag/x", "${aws:PrincipalTag/team}");
    assert_eq!(w.decide(HB, &dom("orders")), ImplicitDeny);
    assert_eq!(w.decide(HB, &dom("${aws:PrincipalTag/team}")), Allowed);
}

#[test]
fn explanations_and_messages_s9() {
    let mut w = world(&[pol(json!([a("swf:PollForActivityTask", "*")]))]);
    w.principal = Principal::from_arn("arn:aws:iam::123456789012:role/worker", "s1", None).unwrap();
    let compiled = CompiledPolicySet::compile(&w.set).unwrap();
    let resource = dom("orders");
    let req = Request {
        principal: &w.principal,
        action: HB,
        resource: &resource,
        context: &w.context,
    };
    let d = eval::evaluate(&compiled, &req);
    assert_eq!(d.cause, Some("OPERATION_NOT_PERMITTED"));
    assert_eq!(
        d.message.as_deref(),
        Some("User: arn:aws:sts::123456789012:assumed-role/worker/s1 is not authorized to perform: swf:RecordActivityTaskHeartbeat on resource: arn:aws:swf:us-east-1:123456789012:/domain/orders because no identity-based policy allows the swf:RecordActivityTaskHeartbeat action")
    );
    // Explicit deny in a boundary with a known ARN.
    let mut set = w.set.clone();
    set.identity = vec![load(&pol(json!([a("*", "*")])))];
    let mut b = load(&pol(json!([a("*", "*"), d_sid(HB, "*", "NoBeat")])));
    b.arn = Some("arn:aws:iam::123456789012:policy/Boundary".into());
    set.boundary = Some(b);
    let compiled = CompiledPolicySet::compile(&set).unwrap();
    let d = eval::evaluate(&compiled, &req);
    assert_eq!(d.decision, ExplicitDeny);
    assert!(d.message.as_deref().unwrap().ends_with("with an explicit deny in a permissions boundary: arn:aws:iam::123456789012:policy/Boundary"));
    assert_eq!(d.matched_statements.len(), 1);
    assert_eq!(d.matched_statements[0].sid.as_deref(), Some("NoBeat"));
    // Resource-less actions omit ` on resource:`.
    let req2 = Request {
        principal: &w.principal,
        action: "swf:ListDomains",
        resource: "*",
        context: &w.context,
    };
    let compiled = CompiledPolicySet::compile(&w.set).unwrap();
    assert_eq!(
        eval::evaluate(&compiled, &req2).message.as_deref(),
        Some("User: arn:aws:sts::123456789012:assumed-role/worker/s1 is not authorized to perform: swf:ListDomains because no identity-based policy allows the swf:ListDomains action")
    );
    // SCP, session and other-account reasons.
    let mut set = w.set.clone();
    set.identity = vec![load(&pol(json!([a("*", "*")])))];
    set.scps = vec![vec![load(&pol(json!([a("swf:Poll*", "*")])))]];
    let compiled = CompiledPolicySet::compile(&set).unwrap();
    assert!(eval::evaluate(&compiled, &req).message.unwrap().ends_with(
        "because no service control policy allows the swf:RecordActivityTaskHeartbeat action"
    ));
    set.scps.clear();
    set.session = vec![load(&pol(json!([a("swf:Poll*", "*")])))];
    let compiled = CompiledPolicySet::compile(&set).unwrap();
    assert!(eval::evaluate(&compiled, &req)
        .message
        .unwrap()
        .ends_with("because no session policy allows the swf:RecordActivityTaskHeartbeat action"));
    set.session = Vec::new();
    let compiled = CompiledPolicySet::compile(&set).unwrap();
    let other = "arn:aws:swf:us-east-1:210987654321:/domain/orders";
    let req3 = Request {
        principal: &w.principal,
        action: HB,
        resource: other,
        context: &w.context,
    };
    assert!(eval::evaluate(&compiled, &req3).message.unwrap().ends_with(
        "because no resource-based policy allows the swf:RecordActivityTaskHeartbeat action"
    ));
}

fn d_sid(action: &str, resource: &str, sid: &str) -> Value {
    json!({"Sid": sid, "Effect": "Deny", "Action": action, "Resource": resource})
}

#[test]
fn missing_context_keys_are_reported() {
    let mut w = world(&[pol(json!([with_cond(
        a(HB, "*"),
        json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    )]))]);
    w.context.remove("aws:SourceIp");
    let compiled = CompiledPolicySet::compile(&w.set).unwrap();
    let r = dom("orders");
    let req = Request {
        principal: &w.principal,
        action: HB,
        resource: &r,
        context: &w.context,
    };
    let d = eval::evaluate(&compiled, &req);
    assert_eq!(d.decision, ImplicitDeny);
    assert_eq!(d.missing_context_keys, vec!["aws:SourceIp".to_string()]);
    assert_eq!(d.matched_statements.len(), 1);
    assert!(!d.matched_statements[0].applied);
}

#[test]
fn order_independence() {
    let sts = vec![
        a("swf:*", "*"),
        d(HB, &star_d("prod-*")),
        a(HB, &star_d("prod-*")),
    ];
    let mut rev = sts.clone();
    rev.reverse();
    for s in [sts, rev] {
        let w = world(&[pol(json!(s))]);
        assert_eq!(w.decide(HB, &dom("prod-1")), ExplicitDeny);
        assert_eq!(w.decide(HB, &dom("dev")), Allowed);
    }
}

/// A policy variable before the fifth colon of a resource ARN is literal text (IAM's
/// User Guide: variables cannot replace that part of an ARN); in the resource part it
/// is substituted. All three evaluators agree.
#[test]
fn variables_before_the_fifth_colon_are_literal() {
    let w = world(&[pol(json!([a(
        HB,
        "arn:aws:swf:${aws:RequestedRegion}:123456789012:/domain/*"
    )]))]);
    assert_eq!(w.decide(HB, &dom("orders")), ImplicitDeny);
    // The literal text holds a colon, so no request ARN's region field can match it.
    assert_eq!(
        w.decide(
            HB,
            "arn:aws:swf:${aws:RequestedRegion}:123456789012:/domain/orders"
        ),
        ImplicitDeny
    );
    let w = world(&[pol(json!([a(
        HB,
        "arn:aws:swf:*:${aws:PrincipalAccount, '123456789012'}:/domain/*"
    )]))]);
    assert_eq!(w.decide(HB, &dom("orders")), ImplicitDeny);
    // In the partition field IAM refuses the document outright.
    assert!(LoadedPolicy::load(
        "p.json",
        pol(json!([a(
            HB,
            "arn:${aws:username,'aws'}:swf:*:*:/domain/*"
        )]))
        .to_string()
        .as_bytes(),
        &PolicyKind::InlineRole("r".into()),
    )
    .is_err());
    // An escape before the fifth colon is literal too: `${*}` is not a wildcard there.
    let w = world(&[pol(json!([a(HB, "arn:aws:swf:${*}:*:/domain/*")]))]);
    assert_eq!(w.decide(HB, &dom("orders")), ImplicitDeny);
    // Wildcards in those fields still work, and the resource part is substituted.
    let w = world(&[pol(json!([a(
        HB,
        "arn:aws:swf:us-*:*:/domain/${aws:PrincipalTag/team}"
    )]))]);
    assert_eq!(w.decide(HB, &dom("orders")), Allowed);
    assert_eq!(w.decide(HB, &dom("billing")), ImplicitDeny);
    // A Deny is no stronger: the region variable never stands for the region.
    let w = world(&[pol(json!([
        a(HB, "*"),
        d(HB, "arn:aws:swf:${aws:RequestedRegion}:*:/domain/*")
    ]))]);
    assert_eq!(w.decide(HB, &dom("orders")), Allowed);
}

/// IAM accepts a `null` entry in Action, NotAction, Resource and NotResource arrays; it
/// matches nothing, and the document is valid.
#[test]
fn null_entries_are_accepted_and_match_nothing() {
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": [HB, null], "Resource": [null, star_d("orders")]},
        {"Effect": "Allow", "Action": [null], "Resource": "*"},
        {"Effect": "Allow", "Action": "swf:PollForActivityTask", "Resource": [null]}
    ]});
    let report = swf_iam::validate::validate(
        "p.json",
        doc.to_string().as_bytes(),
        &PolicyKind::InlineRole("r".into()),
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.severity != swf_iam::diagnostic::Severity::Error),
        "{:?}",
        report.findings
    );
    let w = world(&[doc]);
    assert_eq!(w.decide(HB, &dom("orders")), Allowed);
    assert_eq!(w.decide(HB, &dom("billing")), ImplicitDeny);
    assert_eq!(
        w.decide("swf:PollForActivityTask", &dom("orders")),
        ImplicitDeny
    );
    assert_eq!(w.decide("swf:ListDomains", "*"), ImplicitDeny);
}
