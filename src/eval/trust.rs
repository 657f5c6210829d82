//! `sts:AssumeRole` decided as AWS decides it: the caller's own policies (SCPs, identity
//! policies, permissions boundary, session policies) and the role's **trust policy**, a
//! resource-based policy.
//!
//! The rules (IAM User Guide, "Policy evaluation logic", "Permissions boundaries", the
//! `AssumeRole` API reference; `@cloud-copilot/iam-simulate` agrees where it models them):
//! - An explicit `Deny` on either side denies; the caller's SCPs must allow.
//! - The trust policy must allow, in the same account too (a role trusts nobody by
//!   default). A root caller is refused ("Roles may not be assumed by root accounts.").
//! - Same account: a trust statement naming the caller exactly (its user ARN, its
//!   session ARN, or `*`) allows without an identity-policy `Allow`, and an implicit deny
//!   of its boundary or session policy does not limit it. Naming the caller's **role**
//!   ARN also needs no identity `Allow`, but the boundary and session policy limit it.
//!   Trusting only the account (`"AWS": "123456789012"` or `...:root`) delegates to the
//!   account's IAM: the identity side must allow on its own.
//! - Cross account: both sides must allow.
//! - `NotPrincipal` applies unless every identity of the caller (its account, its role,
//!   its session or user ARN) is listed, as the User Guide describes; an `Allow` with
//!   `NotPrincipal` counts as trusting the account only.
//!
//! The same function decides `sts:TagSession` and `sts:SetSourceIdentity`, which an
//! `AssumeRole` call that passes tags or a source identity needs as well.

use super::{
    message_of, tally_recorded, Context, Decision, DecisionKind, DenyLayer, MatchedStatement,
    Principal, PrincipalType, Request,
};
use crate::compile::trust::{CompiledTrustPolicy, PrincipalMatch, TrustStatement};
use crate::compile::{CompiledPolicySet, PolicyType};
use crate::policy::model::Effect;

/// How a trust statement's principal part names the caller; stronger first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TrustMatch {
    /// By the caller's own ARN (user, session, federated user) or `*`.
    Exact,
    /// By the role ARN of the caller's session.
    Role,
    /// By the caller's account only (or through `NotPrincipal`).
    Account,
}

/// An `AssumeRole`-like request: who, which action, on which role.
#[derive(Debug, Clone, Copy)]
pub struct AssumeRequest<'a> {
    /// The caller.
    pub caller: &'a Principal,
    /// The caller's own policies (SCPs of its account, identity, boundary, session).
    pub caller_policies: &'a CompiledPolicySet,
    /// `sts:AssumeRole`, `sts:TagSession` or `sts:SetSourceIdentity`.
    pub action: &'a str,
    /// The role's ARN.
    pub role_arn: &'a str,
    /// The role's trust policy (`None`: the role is not known, or has none).
    pub trust: Option<&'a CompiledTrustPolicy>,
    /// The request context (the caller's keys, `sts:` keys, `aws:RequestTag/*`, ...).
    pub context: &'a Context,
}

/// The identities of a caller a principal element can name: its account's root, its
/// own ARN (user ARN, role ARN of a session) and, for a session, the session ARN.
fn identities(p: &Principal) -> [Option<String>; 3] {
    let partition = p.arn.split(':').nth(1).unwrap_or("aws");
    let root = format!("arn:{partition}:iam::{}:root", p.account);
    let session = (p.caller_arn != p.arn).then(|| p.caller_arn.clone());
    [Some(root), Some(p.arn.clone()), session]
}

/// Whether entry `m` names identity `id` of a caller.
fn names(m: &PrincipalMatch, id: &str) -> bool {
    match m {
        PrincipalMatch::Anyone => true,
        PrincipalMatch::Account(a) | PrincipalMatch::Arn(a) => &**a == id,
        // Services, web identities and canonical users never sign as IAM principals.
        PrincipalMatch::Service(_)
        | PrincipalMatch::Federated(_)
        | PrincipalMatch::CanonicalUser(_) => false,
    }
}

/// How statement `st`'s principal part names caller `p`, if it does.
pub fn principal_hit(st: &TrustStatement, p: &Principal) -> Option<TrustMatch> {
    let ids = identities(p);
    let part = &st.principals;
    if part.negated {
        // Applies unless every identity of the caller is listed.
        let all_listed = ids
            .iter()
            .flatten()
            .all(|id| part.entries.iter().any(|m| names(m, id)));
        return (!all_listed).then_some(TrustMatch::Account);
    }
    let mut best: Option<TrustMatch> = None;
    for m in part.entries.iter() {
        let hit = match m {
            PrincipalMatch::Anyone => Some(TrustMatch::Exact),
            PrincipalMatch::Account(a) => {
                (ids[0].as_deref() == Some(&**a)).then_some(TrustMatch::Account)
            }
            PrincipalMatch::Arn(a) if **a == *p.caller_arn => Some(TrustMatch::Exact),
            PrincipalMatch::Arn(a) if **a == *p.arn => {
                if p.principal_type == PrincipalType::AssumedRole {
                    Some(TrustMatch::Role)
                } else {
                    Some(TrustMatch::Exact)
                }
            }
            _ => None,
        };
        if let Some(h) = hit {
            best = Some(best.map_or(h, |b| b.min(h)));
        }
    }
    best
}

/// What a trust policy says of a request.
#[derive(Debug, Clone, Default)]
pub struct TrustVerdict {
    /// The first applying `Deny` statement (index into the policy's statements).
    pub explicit: Option<usize>,
    /// The strongest way an applying `Allow` statement names the caller, and that statement.
    pub allow: Option<(TrustMatch, usize)>,
    /// Every applying statement (index), in document order.
    pub applied: Vec<usize>,
}

/// Evaluates trust policy `trust` for `caller` calling `action` with `ctx`.
pub fn trust_verdict(
    trust: &CompiledTrustPolicy,
    caller: &Principal,
    action: &str,
    ctx: &Context,
) -> TrustVerdict {
    let mut v = TrustVerdict::default();
    for (i, st) in trust.statements.iter().enumerate() {
        if !st.actions.matches(action) {
            continue;
        }
        let Some(hit) = principal_hit(st, caller) else {
            continue;
        };
        if !st
            .conditions
            .iter()
            .all(|c| super::condition_applies(c, ctx))
        {
            continue;
        }
        v.applied.push(i);
        match st.effect {
            Effect::Deny => {
                v.explicit.get_or_insert(i);
            }
            Effect::Allow => {
                if v.allow.is_none_or(|(b, _)| hit < b) {
                    v.allow = Some((hit, i));
                }
            }
        }
    }
    v
}

fn trust_statement(trust: &CompiledTrustPolicy, i: usize) -> Option<MatchedStatement> {
    let st = trust.statements.get(i)?;
    Some(MatchedStatement {
        policy: trust.name.clone(),
        policy_type: PolicyType::TrustPolicy,
        sid: st.sid.as_deref().map(str::to_owned),
        index: st.index as usize,
        effect: st.effect,
        applied: true,
        line: st.line,
        column: st.column,
        end_line: st.end_line,
    })
}

/// Whether `action` is decided with a role's trust policy: `sts:AssumeRole`,
/// `sts:TagSession`, `sts:SetSourceIdentity` (any case).
pub fn is_role_action(action: &str) -> bool {
    ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(action))
}

/// AWS's message when a root user calls `AssumeRole`.
pub const MSG_ROOT: &str = "Roles may not be assumed by root accounts.";

/// Decides an `AssumeRole`-like request and explains the decision: the deciding layer,
/// the statements of both sides that applied, and AWS's message.
pub fn decide_assume(req: &AssumeRequest<'_>) -> Decision {
    let base = message_of(&req.caller.caller_arn, req.action, req.role_arn);
    let mut d = Decision {
        decision: DecisionKind::ImplicitDeny,
        cause: None,
        principal: req.caller.caller_arn.clone(),
        action: req.action.to_owned(),
        resource: req.role_arn.to_owned(),
        deny_layer: None,
        matched_statements: Vec::new(),
        missing_context_keys: Vec::new(),
        message: None,
        error: None,
    };
    if req.caller.principal_type == PrincipalType::Account {
        d.deny_layer = Some(DenyLayer::ResourceBasedPolicy);
        d.message = Some(MSG_ROOT.into());
        return d;
    }
    if let Some(why) = &req.caller_policies.incomplete {
        let e = format!("not every policy of the principal is known: {why}");
        d.deny_layer = Some(DenyLayer::InternalError);
        d.message = Some(format!(
            "{base} because swf-iam could not evaluate the request: {e}"
        ));
        d.error = Some(e);
        return d;
    }
    let own = Request {
        principal: req.caller,
        action: req.action,
        resource: req.role_arn,
        context: req.context,
    };
    let (t, own_matched) = tally_recorded(req.caller_policies, &own);
    if t.inconsistent {
        let e = "the compiled policy set is inconsistent (a statement index is out of range)";
        d.deny_layer = Some(DenyLayer::InternalError);
        d.message = Some(format!(
            "{base} because swf-iam could not evaluate the request: {e}"
        ));
        d.error = Some(e.into());
        return d;
    }
    let verdict = req
        .trust
        .map(|tp| trust_verdict(tp, req.caller, req.action, req.context))
        .unwrap_or_default();
    let trust_matched: Vec<MatchedStatement> = req
        .trust
        .map(|tp| {
            verdict
                .applied
                .iter()
                .filter_map(|&i| trust_statement(tp, i))
                .collect()
        })
        .unwrap_or_default();
    let explicit_deny = |d: &mut Decision, layer: DenyLayer| {
        d.decision = DecisionKind::ExplicitDeny;
        d.deny_layer = Some(layer);
        d.message = Some(format!(
            "{base} with an explicit deny in {}",
            layer.words().0
        ));
    };
    let implicit = |d: &mut Decision, layer: DenyLayer| {
        d.deny_layer = Some(layer);
        d.message = Some(format!(
            "{base} because no {} allows the {} action",
            layer.words().1,
            req.action
        ));
    };
    let deny_of = |m: &MatchedStatement| m.effect == Effect::Deny;
    if t.explicit.is_some() || verdict.explicit.is_some() {
        d.matched_statements = own_matched
            .iter()
            .chain(&trust_matched)
            .filter(|m| deny_of(m))
            .cloned()
            .collect();
        let layer = match t.denial(req.caller_policies) {
            Some(o) if t.explicit.is_some() => o.layer.unwrap_or(DenyLayer::InternalError),
            _ => DenyLayer::ResourceBasedPolicy,
        };
        explicit_deny(&mut d, layer);
        return d;
    }
    if !t.scps_allow {
        implicit(&mut d, DenyLayer::ServiceControlPolicy);
        return d;
    }
    let same_account =
        crate::compile::template::SplitArn::new(req.role_arn).same_account(&req.caller.account);
    let Some((hit, _)) = verdict.allow else {
        implicit(&mut d, DenyLayer::ResourceBasedPolicy);
        return d;
    };
    let own_denial = t.denial(req.caller_policies).and_then(|o| o.layer);
    let failing = match (same_account, hit) {
        (true, TrustMatch::Exact) => None,
        (true, TrustMatch::Role) => {
            if !t.boundary_allow {
                Some(DenyLayer::PermissionsBoundary)
            } else if !t.session_allow {
                Some(DenyLayer::SessionPolicy)
            } else {
                None
            }
        }
        _ => own_denial,
    };
    if let Some(layer) = failing {
        implicit(&mut d, layer);
        return d;
    }
    d.decision = DecisionKind::Allowed;
    d.matched_statements = own_matched
        .into_iter()
        .chain(trust_matched)
        .filter(|m| m.effect == Effect::Allow)
        .collect();
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{LoadedPolicy, PolicySet};
    use crate::validate::PolicyKind;

    const ROLE: &str = "arn:aws:iam::123456789012:role/worker";
    const OTHER_ROLE: &str = "arn:aws:iam::999999999999:role/worker";

    fn policy(kind: &PolicyKind, json: &str) -> LoadedPolicy {
        LoadedPolicy::load("p.json", json.as_bytes(), kind).unwrap()
    }

    fn trust(statements: &str) -> CompiledTrustPolicy {
        CompiledTrustPolicy::compile(&policy(
            &PolicyKind::Trust,
            &format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#),
        ))
    }

    fn identity(statements: &str) -> LoadedPolicy {
        policy(
            &PolicyKind::Managed,
            &format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#),
        )
    }

    const ALLOW_ASSUME: &str = r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}"#;

    struct Case {
        set: PolicySet,
        caller: Principal,
        ctx: Context,
    }

    fn caller(arn: &str) -> Case {
        let caller = Principal::from_arn(arn, "s1", None).unwrap();
        let mut ctx = Context::new();
        caller.fill_context(&mut ctx);
        Case {
            set: PolicySet::default(),
            caller,
            ctx,
        }
    }

    impl Case {
        fn with_identity(mut self, statements: &str) -> Self {
            self.set.identity.push(identity(statements));
            self
        }
        fn with_boundary(mut self, statements: &str) -> Self {
            self.set.boundary = Some(identity(statements));
            self
        }
        fn with_session(mut self, statements: &str) -> Self {
            self.set.session.push(identity(statements));
            self
        }
        fn decide(&self, role: &str, tp: &CompiledTrustPolicy) -> Decision {
            let set = CompiledPolicySet::compile(&self.set).unwrap();
            decide_assume(&AssumeRequest {
                caller: &self.caller,
                caller_policies: &set,
                action: "sts:AssumeRole",
                role_arn: role,
                trust: Some(tp),
                context: &self.ctx,
            })
        }
    }

    fn trusting(principal: &str) -> CompiledTrustPolicy {
        trust(&format!(
            r#"{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"}}"#
        ))
    }

    const ALICE: &str = "arn:aws:iam::123456789012:user/alice";

    #[test]
    fn same_account_user_named_in_the_trust_policy_needs_no_identity_allow() {
        let d = caller(ALICE).decide(ROLE, &trusting(&format!(r#"{{"AWS":"{ALICE}"}}"#)));
        assert_eq!(d.decision, DecisionKind::Allowed, "{d:?}");
        assert_eq!(d.matched_statements[0].policy_type, PolicyType::TrustPolicy);
    }

    #[test]
    fn trusting_the_account_delegates_to_the_identity_policies() {
        for p in [
            r#"{"AWS":"123456789012"}"#,
            r#"{"AWS":"arn:aws:iam::123456789012:root"}"#,
        ] {
            let d = caller(ALICE).decide(ROLE, &trusting(p));
            assert_eq!(d.decision, DecisionKind::ImplicitDeny, "{p}");
            assert_eq!(d.deny_layer, Some(DenyLayer::Identity));
            assert_eq!(
                d.message.as_deref(),
                Some("User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/worker because no identity-based policy allows the sts:AssumeRole action")
            );
            let d = caller(ALICE)
                .with_identity(ALLOW_ASSUME)
                .decide(ROLE, &trusting(p));
            assert_eq!(d.decision, DecisionKind::Allowed, "{p}");
        }
    }

    #[test]
    fn the_trust_policy_must_allow_even_in_the_same_account() {
        let c = caller(ALICE).with_identity(ALLOW_ASSUME);
        let d = c.decide(
            ROLE,
            &trusting(r#"{"AWS":"arn:aws:iam::123456789012:user/bob"}"#),
        );
        assert_eq!(d.decision, DecisionKind::ImplicitDeny);
        assert_eq!(d.deny_layer, Some(DenyLayer::ResourceBasedPolicy));
        assert!(d
            .message
            .unwrap()
            .ends_with("because no resource-based policy allows the sts:AssumeRole action"));
        // A service principal never matches a user.
        let d = c.decide(ROLE, &trusting(r#"{"Service":"ecs-tasks.amazonaws.com"}"#));
        assert_eq!(d.deny_layer, Some(DenyLayer::ResourceBasedPolicy));
        // The action must match.
        let tp = trust(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"sts:TagSession"}}"#
        ));
        assert_eq!(
            c.decide(ROLE, &tp).deny_layer,
            Some(DenyLayer::ResourceBasedPolicy)
        );
    }

    #[test]
    fn cross_account_needs_both_sides() {
        let t = trusting(r#"{"AWS":"123456789012"}"#);
        // Trust without identity.
        let d = caller(ALICE).decide(OTHER_ROLE, &t);
        assert_eq!(d.deny_layer, Some(DenyLayer::Identity));
        // Even naming the user exactly, cross-account needs the identity side.
        let d = caller(ALICE).decide(OTHER_ROLE, &trusting(&format!(r#"{{"AWS":"{ALICE}"}}"#)));
        assert_eq!(d.deny_layer, Some(DenyLayer::Identity));
        // Identity without trust.
        let d = caller(ALICE)
            .with_identity(ALLOW_ASSUME)
            .decide(OTHER_ROLE, &trusting(r#"{"AWS":"999999999999"}"#));
        assert_eq!(d.deny_layer, Some(DenyLayer::ResourceBasedPolicy));
        // Both.
        let d = caller(ALICE)
            .with_identity(ALLOW_ASSUME)
            .decide(OTHER_ROLE, &t);
        assert_eq!(d.decision, DecisionKind::Allowed);
        // Both, but the boundary does not allow.
        let d = caller(ALICE)
            .with_identity(ALLOW_ASSUME)
            .with_boundary(r#"{"Effect":"Allow","Action":"swf:*","Resource":"*"}"#)
            .decide(OTHER_ROLE, &t);
        assert_eq!(d.deny_layer, Some(DenyLayer::PermissionsBoundary));
    }

    #[test]
    fn explicit_denies_win_on_either_side() {
        let t = trust(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"sts:AssumeRole"}},
               {{"Effect":"Deny","Principal":"*","Action":"sts:*","Condition":{{"StringNotEquals":{{"sts:ExternalId":"k"}}}}}}"#
        ));
        let mut c = caller(ALICE);
        let d = c.decide(ROLE, &t);
        assert_eq!(d.decision, DecisionKind::ExplicitDeny);
        assert_eq!(d.deny_layer, Some(DenyLayer::ResourceBasedPolicy));
        assert_eq!(d.matched_statements.len(), 1);
        assert_eq!(d.matched_statements[0].effect, Effect::Deny);
        c.ctx.set_single("sts:ExternalId", "k");
        assert_eq!(c.decide(ROLE, &t).decision, DecisionKind::Allowed);
        let c = c.with_identity(r#"{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/worker"}"#);
        let d = c.decide(ROLE, &t);
        assert_eq!(d.decision, DecisionKind::ExplicitDeny);
        assert_eq!(d.deny_layer, Some(DenyLayer::Identity));
    }

    #[test]
    fn boundaries_and_session_policies_limit_a_role_arn_but_not_a_session_arn() {
        let session = "arn:aws:sts::123456789012:assumed-role/ops/s1";
        let by_role = trusting(r#"{"AWS":"arn:aws:iam::123456789012:role/ops"}"#);
        let by_session = trusting(&format!(r#"{{"AWS":"{session}"}}"#));
        let narrow = r#"{"Effect":"Allow","Action":"swf:*","Resource":"*"}"#;
        // Role ARN: no identity allow needed...
        let d = caller(session).decide(ROLE, &by_role);
        assert_eq!(d.decision, DecisionKind::Allowed, "{d:?}");
        // ... but the boundary and the session policy limit it.
        let d = caller(session).with_boundary(narrow).decide(ROLE, &by_role);
        assert_eq!(d.deny_layer, Some(DenyLayer::PermissionsBoundary));
        let d = caller(session).with_session(narrow).decide(ROLE, &by_role);
        assert_eq!(d.deny_layer, Some(DenyLayer::SessionPolicy));
        // Session ARN: granted to the session itself.
        let d = caller(session)
            .with_boundary(narrow)
            .with_session(narrow)
            .decide(ROLE, &by_session);
        assert_eq!(d.decision, DecisionKind::Allowed);
        // Another session of the role is not named by the session ARN.
        let other = caller("arn:aws:sts::123456789012:assumed-role/ops/s2");
        assert_eq!(
            other.decide(ROLE, &by_session).deny_layer,
            Some(DenyLayer::ResourceBasedPolicy)
        );
    }

    #[test]
    fn a_user_named_exactly_is_not_limited_by_its_boundary() {
        let d = caller(ALICE)
            .with_boundary(r#"{"Effect":"Allow","Action":"swf:*","Resource":"*"}"#)
            .decide(ROLE, &trusting(&format!(r#"{{"AWS":"{ALICE}"}}"#)));
        assert_eq!(d.decision, DecisionKind::Allowed);
        // Account-level trust: the boundary limits.
        let d = caller(ALICE)
            .with_identity(ALLOW_ASSUME)
            .with_boundary(r#"{"Effect":"Allow","Action":"swf:*","Resource":"*"}"#)
            .decide(ROLE, &trusting(r#"{"AWS":"123456789012"}"#));
        assert_eq!(d.deny_layer, Some(DenyLayer::PermissionsBoundary));
    }

    #[test]
    fn scps_apply_to_the_caller() {
        let mut c = caller(ALICE);
        c.set.scps = vec![vec![identity(
            r#"{"Effect":"Allow","Action":"swf:*","Resource":"*"}"#,
        )]];
        let d = c.decide(ROLE, &trusting(&format!(r#"{{"AWS":"{ALICE}"}}"#)));
        assert_eq!(d.deny_layer, Some(DenyLayer::ServiceControlPolicy));
    }

    #[test]
    fn not_principal_excludes_only_when_every_identity_is_listed() {
        let session = "arn:aws:sts::123456789012:assumed-role/ops/s1";
        let allow =
            r#"{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}"#;
        let c = caller(session).with_identity(ALLOW_ASSUME);
        // Listing only the role ARN does not exclude its sessions: the deny applies.
        let t = trust(&format!(
            r#"{allow},{{"Effect":"Deny","NotPrincipal":{{"AWS":"arn:aws:iam::123456789012:role/ops"}},"Action":"sts:AssumeRole"}}"#
        ));
        assert_eq!(c.decide(ROLE, &t).decision, DecisionKind::ExplicitDeny);
        // Account, role and session listed: excluded.
        let t = trust(&format!(
            r#"{allow},{{"Effect":"Deny","NotPrincipal":{{"AWS":["123456789012","arn:aws:iam::123456789012:role/ops","{session}"]}},"Action":"sts:AssumeRole"}}"#
        ));
        assert_eq!(c.decide(ROLE, &t).decision, DecisionKind::Allowed);
    }

    #[test]
    fn root_callers_are_refused() {
        let d = caller("arn:aws:iam::123456789012:root")
            .with_identity(ALLOW_ASSUME)
            .decide(ROLE, &trusting(r#"{"AWS":"123456789012"}"#));
        assert_eq!(d.decision, DecisionKind::ImplicitDeny);
        assert_eq!(d.message.as_deref(), Some(MSG_ROOT));
    }

    #[test]
    fn conditions_read_the_request_context() {
        let t = trust(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"aws:RequestTag/team":"orders","aws:PrincipalTag/dept":"eng"}}}}}}"#
        ));
        let mut c = caller(ALICE);
        assert_eq!(c.decide(ROLE, &t).decision, DecisionKind::ImplicitDeny);
        c.ctx.set_single("aws:RequestTag/team", "orders");
        assert_eq!(c.decide(ROLE, &t).decision, DecisionKind::ImplicitDeny);
        c.ctx.set_single("aws:PrincipalTag/dept", "eng");
        assert_eq!(c.decide(ROLE, &t).decision, DecisionKind::Allowed);
    }
}
