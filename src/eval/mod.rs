//! Evaluation: a [`Request`] against a [`CompiledPolicySet`] → a decision, as IAM decides
//! (`iam-policy.md` §8–9).
//!
//! Two entry points share one core: [`decide`] returns a small [`Outcome`] without
//! allocating (the hot path), and [`evaluate`] returns a full [`Decision`] with the
//! deciding statements, the context keys the request lacked, and AWS's message.
//! Any internal inconsistency ends in a deny that says so, never in `allowed`.

pub mod context;
pub mod reference;
pub mod trust;

use crate::compile::condition::{CompiledCondition, Values};
use crate::compile::template::SplitArn;
use crate::compile::{CompiledPolicySet, Layer, PolicyType};
use crate::policy::model::{BaseOperator, Effect, SetOperator};
use crate::values::{parse_bool, parse_instant, Decimal};
pub use context::{Context, ContextValue, Principal, PrincipalType};
use serde::Serialize;
use std::cmp::Ordering;
use std::net::IpAddr;

/// One authorization request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Who calls.
    pub principal: &'a Principal,
    /// The action, `service:Name` (any case).
    pub action: &'a str,
    /// The resource ARN, or `*` for actions without a resource type.
    pub resource: &'a str,
    /// The condition keys (the principal's keys included: see [`Principal::fill_context`]).
    pub context: &'a Context,
}

/// The three decisions, named as the IAM policy simulator names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DecisionKind {
    /// Some statement allows and nothing denies.
    Allowed,
    /// A `Deny` statement applies.
    ExplicitDeny,
    /// No statement denies, but some required layer does not allow.
    ImplicitDeny,
}

impl DecisionKind {
    /// `allowed`, `explicitDeny` or `implicitDeny`.
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Allowed => "allowed",
            DecisionKind::ExplicitDeny => "explicitDeny",
            DecisionKind::ImplicitDeny => "implicitDeny",
        }
    }
}

/// Which layer denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DenyLayer {
    /// A service control policy (explicit deny, or a level that allows nothing).
    ServiceControlPolicy,
    /// No resource-based policy grants cross-account access (SWF has none).
    ResourceBasedPolicy,
    /// Identity-based policies.
    Identity,
    /// The permissions boundary.
    PermissionsBoundary,
    /// The session policy.
    SessionPolicy,
    /// swf-iam could not evaluate (an internal error): denied, fail-closed.
    InternalError,
}

impl DenyLayer {
    fn of(layer: Layer) -> Self {
        match layer {
            Layer::Scp(_) => DenyLayer::ServiceControlPolicy,
            Layer::Identity => DenyLayer::Identity,
            Layer::Boundary => DenyLayer::PermissionsBoundary,
            Layer::Session => DenyLayer::SessionPolicy,
        }
    }

    pub(crate) fn words(self) -> (&'static str, &'static str) {
        // (article + name for explicit deny, name for implicit deny)
        match self {
            DenyLayer::ServiceControlPolicy => {
                ("a service control policy", "service control policy")
            }
            DenyLayer::ResourceBasedPolicy => ("a resource-based policy", "resource-based policy"),
            DenyLayer::Identity => ("an identity-based policy", "identity-based policy"),
            DenyLayer::PermissionsBoundary => ("a permissions boundary", "permissions boundary"),
            DenyLayer::SessionPolicy => ("a session policy", "session policy"),
            DenyLayer::InternalError => ("swf-iam", "policy"),
        }
    }
}

/// The allocation-free result of [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The decision.
    pub decision: DecisionKind,
    /// The denying layer (`None` when allowed).
    pub layer: Option<DenyLayer>,
    /// The first denying statement in layer order (explicit deny), or an identity
    /// statement that allowed (allowed), as an index into [`CompiledPolicySet::statements`].
    pub statement: Option<u32>,
}

/// A statement that decided, as reported with a [`Decision`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchedStatement {
    /// The policy's name (path or inline reference).
    pub policy: String,
    /// The policy's layer.
    pub policy_type: PolicyType,
    /// `Sid`, if any.
    pub sid: Option<String>,
    /// Position in the policy's `Statement` list, from 0.
    pub index: usize,
    /// Effect.
    pub effect: Effect,
    /// Whether the statement applied (`false`: its action and resource matched but a
    /// condition did not hold).
    pub applied: bool,
    /// 1-based line of the statement.
    pub line: usize,
    /// 1-based column of the statement.
    pub column: usize,
    /// 1-based line where the statement ends.
    #[serde(skip)]
    pub end_line: usize,
}

impl MatchedStatement {
    /// A one-line name of the statement: `policy #index `Sid` Effect`.
    pub fn describe(&self) -> String {
        let sid = self
            .sid
            .as_deref()
            .map_or(String::new(), |s| format!(" `{s}`"));
        format!(
            "{} #{}{sid} {}",
            self.policy,
            self.index,
            self.effect.as_str()
        )
    }
}

/// The full answer for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// `allowed`, `explicitDeny` or `implicitDeny`.
    pub decision: DecisionKind,
    /// `OPERATION_NOT_PERMITTED` when denied.
    pub cause: Option<&'static str>,
    /// The caller ARN as authenticated.
    pub principal: String,
    /// The action as requested.
    pub action: String,
    /// The resource.
    pub resource: String,
    /// The denying layer, if denied.
    pub deny_layer: Option<DenyLayer>,
    /// The statements that decided: every applicable `Deny` (explicit deny); the failing
    /// layer's `Allow` statements whose action and resource matched but whose conditions
    /// did not hold (implicit deny); the allowing statements of each layer (allowed).
    pub matched_statements: Vec<MatchedStatement>,
    /// Context keys that conditions asked for but the request lacked.
    pub missing_context_keys: Vec<String>,
    /// AWS's denial message (`User: ... is not authorized to perform: ...`), if denied.
    pub message: Option<String>,
    /// An internal error, if one forced the deny.
    pub error: Option<String>,
}

impl Decision {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.decision == DecisionKind::Allowed
    }
}

/// What the core tells a recorder.
trait Recorder {
    /// Whether to evaluate every statement and condition (explanations) rather than stop
    /// at the first explicit deny.
    const FULL: bool;
    fn statement(&mut self, id: u32, applied: bool);
    fn missing(&mut self, key: &str);
}

struct Quiet;

impl Recorder for Quiet {
    const FULL: bool = false;
    fn statement(&mut self, _: u32, _: bool) {}
    fn missing(&mut self, _: &str) {}
}

#[derive(Default)]
struct Full {
    statements: Vec<(u32, bool)>,
    missing: Vec<String>,
}

impl Recorder for Full {
    const FULL: bool = true;
    fn statement(&mut self, id: u32, applied: bool) {
        self.statements.push((id, applied));
    }
    fn missing(&mut self, key: &str) {
        if !self.missing.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            self.missing.push(key.to_owned());
        }
    }
}

/// Decides `req` without allocating: the decision, the denying layer, one statement.
///
/// For SWF actions it looks at `Deny` statements first (the earliest applicable one
/// decides), then at `Allow` statements, exact resources first, skipping every layer
/// already satisfied. The result is the same as [`evaluate`]'s (tests check it).
pub fn decide(set: &CompiledPolicySet, req: &Request<'_>) -> Outcome {
    if set.incomplete.is_some() {
        return INTERNAL;
    }
    match set.action_id(req.action).and_then(|i| set.buckets.get(i)) {
        Some(bucket) => fast(set, bucket, req),
        None => core(set, req, &mut Quiet),
    }
}

/// Whether statement `st` applies (action already known to match). The caller looks the
/// statement up and fails closed when its id names none: a missing statement is never
/// read as "does not apply", since a skipped `Deny` would allow.
fn applies(
    st: &crate::compile::CompiledStatement,
    check_resource: bool,
    split: &SplitArn<'_>,
    req: &Request<'_>,
) -> bool {
    if check_resource {
        let hit = st
            .resources
            .patterns
            .iter()
            .any(|p| p.matches_split(split, req.context));
        if hit == st.resources.negated {
            return false;
        }
    }
    st.conditions
        .iter()
        .all(|c| condition_holds(c, req.context, &mut Quiet))
}

fn fast(set: &CompiledPolicySet, bucket: &crate::compile::Bucket, req: &Request<'_>) -> Outcome {
    let split = SplitArn::new(req.resource);
    let exact_deny = bucket
        .exact_deny
        .get(req.resource)
        .map_or(&[][..], |v| &v[..]);
    for (id, check) in (Merge {
        a: exact_deny,
        b: &bucket.rest_deny,
    }) {
        let Some(st) = set.statements.get(id as usize) else {
            return INTERNAL;
        };
        if applies(st, check, &split, req) {
            return Outcome {
                decision: DecisionKind::ExplicitDeny,
                layer: Some(DenyLayer::of(st.layer)),
                statement: Some(id),
            };
        }
    }
    let levels = u32::from(set.scp_levels);
    let all_levels = if levels >= 64 {
        u64::MAX
    } else {
        (1u64 << levels) - 1
    };
    let mut scp_allowed: u64 = 0;
    let mut identity_allow: Option<u32> = None;
    let mut boundary_allow = !set.has_boundary;
    let mut session_allow = !set.has_session;
    let exact_allow = bucket
        .exact_allow
        .get(req.resource)
        .map_or(&[][..], |v| &v[..]);
    for (&id, check) in exact_allow
        .iter()
        .map(|i| (i, false))
        .chain(bucket.rest_allow.iter().map(|i| (i, true)))
    {
        let Some(st) = set.statements.get(id as usize) else {
            return INTERNAL;
        };
        let needed = match st.layer {
            Layer::Scp(l) => scp_allowed & (1u64 << l) == 0,
            Layer::Identity => identity_allow.is_none(),
            Layer::Boundary => !boundary_allow,
            Layer::Session => !session_allow,
        };
        if !needed || !applies(st, check, &split, req) {
            continue;
        }
        match st.layer {
            Layer::Scp(l) => scp_allowed |= 1u64 << l,
            Layer::Identity => identity_allow = Some(id),
            Layer::Boundary => boundary_allow = true,
            Layer::Session => session_allow = true,
        }
        if scp_allowed & all_levels == all_levels
            && identity_allow.is_some()
            && boundary_allow
            && session_allow
        {
            break;
        }
    }
    let deny = |layer| Outcome {
        decision: DecisionKind::ImplicitDeny,
        layer: Some(layer),
        statement: None,
    };
    if levels > 0 && scp_allowed & all_levels != all_levels {
        return deny(DenyLayer::ServiceControlPolicy);
    }
    if !split.same_account(&req.principal.account) {
        return deny(DenyLayer::ResourceBasedPolicy);
    }
    if identity_allow.is_none() {
        return deny(DenyLayer::Identity);
    }
    if !boundary_allow {
        return deny(DenyLayer::PermissionsBoundary);
    }
    if !session_allow {
        return deny(DenyLayer::SessionPolicy);
    }
    Outcome {
        decision: DecisionKind::Allowed,
        layer: None,
        statement: identity_allow,
    }
}

/// Decides `req` and explains the decision.
pub fn evaluate(set: &CompiledPolicySet, req: &Request<'_>) -> Decision {
    if let Some(why) = &set.incomplete {
        return internal_error(
            req,
            format!("not every policy of the principal is known: {why}"),
        );
    }
    let mut rec = Full::default();
    let out = core(set, req, &mut rec);
    if out == INTERNAL {
        return internal_error(
            req,
            "the compiled policy set is inconsistent (a statement index is out of range)",
        );
    }
    explain(set, req, out, rec)
}

/// The fail-closed decision for a request that could not be evaluated.
pub fn internal_error(req: &Request<'_>, error: impl Into<String>) -> Decision {
    internal_error_of(&req.principal.caller_arn, req.action, req.resource, error)
}

/// [`internal_error`] for a caller known only by its ARN (no [`Principal`] at hand).
pub fn internal_error_of(
    caller_arn: &str,
    action: &str,
    resource: &str,
    error: impl Into<String>,
) -> Decision {
    let error = error.into();
    Decision {
        decision: DecisionKind::ImplicitDeny,
        cause: Some("OPERATION_NOT_PERMITTED"),
        principal: caller_arn.to_owned(),
        action: action.to_owned(),
        resource: resource.to_owned(),
        deny_layer: Some(DenyLayer::InternalError),
        matched_statements: Vec::new(),
        missing_context_keys: Vec::new(),
        message: Some(format!(
            "{} because swf-iam could not evaluate the request: {error}",
            message_of(caller_arn, action, resource)
        )),
        error: Some(error),
    }
}

/// Merges two ascending id lists.
struct Merge<'a> {
    a: &'a [u32],
    b: &'a [u32],
}

impl Iterator for Merge<'_> {
    /// (statement id, whether its resource part still needs matching)
    type Item = (u32, bool);
    fn next(&mut self) -> Option<(u32, bool)> {
        match (self.a.first(), self.b.first()) {
            (Some(&x), Some(&y)) if x <= y => {
                self.a = &self.a[1..];
                Some((x, false))
            }
            (_, Some(&y)) => {
                self.b = &self.b[1..];
                Some((y, true))
            }
            (Some(&x), None) => {
                self.a = &self.a[1..];
                Some((x, false))
            }
            (None, None) => None,
        }
    }
}

/// The outcome when the compiled set is inconsistent: a deny that says so.
const INTERNAL: Outcome = Outcome {
    decision: DecisionKind::ImplicitDeny,
    layer: Some(DenyLayer::InternalError),
    statement: None,
};

/// What each layer of a principal's own policies says of a request, before the
/// resource's account is considered: the input of [`core`] and of decisions that combine
/// a resource-based policy ([`trust`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// The first applying `Deny` statement, in layer order.
    pub explicit: Option<u32>,
    /// Whether every SCP level allows (true when no SCPs are configured).
    pub scps_allow: bool,
    /// The first identity statement that allows.
    pub identity_allow: Option<u32>,
    /// Whether the permissions boundary allows (true when there is none).
    pub boundary_allow: bool,
    /// Whether the session policies allow (true when there are none).
    pub session_allow: bool,
    /// A statement index named no statement: decide nothing, deny.
    pub inconsistent: bool,
}

impl Tally {
    /// The deny of the principal's own layers (explicit first, then SCPs, identity,
    /// boundary, session), or `None` when they all allow.
    pub fn denial(&self, set: &CompiledPolicySet) -> Option<Outcome> {
        if self.inconsistent {
            return Some(INTERNAL);
        }
        if let Some(id) = self.explicit {
            let layer = set
                .statements
                .get(id as usize)
                .map_or(DenyLayer::InternalError, |s| DenyLayer::of(s.layer));
            return Some(Outcome {
                decision: DecisionKind::ExplicitDeny,
                layer: Some(layer),
                statement: Some(id),
            });
        }
        let deny = |layer| {
            Some(Outcome {
                decision: DecisionKind::ImplicitDeny,
                layer: Some(layer),
                statement: None,
            })
        };
        if !self.scps_allow {
            return deny(DenyLayer::ServiceControlPolicy);
        }
        if self.identity_allow.is_none() {
            return deny(DenyLayer::Identity);
        }
        if !self.boundary_allow {
            return deny(DenyLayer::PermissionsBoundary);
        }
        if !self.session_allow {
            return deny(DenyLayer::SessionPolicy);
        }
        None
    }
}

/// Every layer's verdict on `req` (its resource's account not considered).
pub fn tally(set: &CompiledPolicySet, req: &Request<'_>) -> Tally {
    if set.incomplete.is_some() {
        return Tally {
            explicit: None,
            scps_allow: false,
            identity_allow: None,
            boundary_allow: false,
            session_allow: false,
            inconsistent: true,
        };
    }
    tally_with(set, req, &mut Quiet)
}

/// [`tally`], recording the statements that applied (for explanations).
pub(crate) fn tally_recorded(
    set: &CompiledPolicySet,
    req: &Request<'_>,
) -> (Tally, Vec<MatchedStatement>) {
    let mut rec = Full::default();
    let t = tally_with(set, req, &mut rec);
    let matched = rec
        .statements
        .iter()
        .filter(|(_, applied)| *applied)
        .filter_map(|&(id, applied)| matched(set, id, applied))
        .collect();
    (t, matched)
}

fn tally_with<R: Recorder>(set: &CompiledPolicySet, req: &Request<'_>, rec: &mut R) -> Tally {
    let action_id = set.action_id(req.action);
    // Candidate statements: from the action's bucket, or every statement for actions
    // outside the SWF catalog (their action part is then matched here).
    let (exact, rest, check_action): (&[u32], &[u32], bool) =
        match action_id.and_then(|i| set.buckets.get(i)) {
            Some(b) => (
                b.exact.get(req.resource).map_or(&[][..], |v| &v[..]),
                &b.rest[..],
                false,
            ),
            None => (&[], &[], true),
        };
    let all = 0..set.statements.len() as u32;
    let split = SplitArn::new(req.resource);
    let mut explicit: Option<u32> = None;
    let mut scp_allowed: u64 = 0;
    let mut identity_allow: Option<u32> = None;
    let mut boundary_allow = false;
    let mut session_allow = false;
    let mut inconsistent = false;

    let mut visit = |id: u32, check_resource: bool, rec: &mut R| -> bool {
        let Some(st) = set.statements.get(id as usize) else {
            inconsistent = true;
            return false;
        };
        if check_action && !st.actions.matches(req.action) {
            return true;
        }
        if check_resource {
            let hit = st
                .resources
                .patterns
                .iter()
                .any(|p| p.matches_split(&split, req.context));
            if hit == st.resources.negated {
                return true;
            }
        }
        let mut holds = true;
        for c in st.conditions.iter() {
            if !condition_holds(c, req.context, rec) {
                holds = false;
                if !R::FULL {
                    break;
                }
            }
        }
        rec.statement(id, holds);
        if !holds {
            return true;
        }
        match (st.effect, st.layer) {
            (Effect::Deny, _) => {
                explicit.get_or_insert(id);
                return R::FULL;
            }
            (Effect::Allow, Layer::Scp(l)) => scp_allowed |= 1u64 << l,
            (Effect::Allow, Layer::Identity) => {
                identity_allow.get_or_insert(id);
            }
            (Effect::Allow, Layer::Boundary) => boundary_allow = true,
            (Effect::Allow, Layer::Session) => session_allow = true,
        }
        true
    };
    if check_action {
        for id in all {
            if !visit(id, true, rec) {
                break;
            }
        }
    } else {
        for (id, check_resource) in (Merge { a: exact, b: rest }) {
            if !visit(id, check_resource, rec) {
                break;
            }
        }
    }

    let levels = u32::from(set.scp_levels);
    let all_levels = if levels >= 64 {
        u64::MAX
    } else {
        (1u64 << levels) - 1
    };
    Tally {
        explicit,
        scps_allow: levels == 0 || scp_allowed & all_levels == all_levels,
        identity_allow,
        boundary_allow: !set.has_boundary || boundary_allow,
        session_allow: !set.has_session || session_allow,
        inconsistent,
    }
}

fn core<R: Recorder>(set: &CompiledPolicySet, req: &Request<'_>, rec: &mut R) -> Outcome {
    let t = tally_with(set, req, rec);
    if t.inconsistent || t.explicit.is_some() || !t.scps_allow {
        return t.denial(set).unwrap_or(INTERNAL);
    }
    if !SplitArn::new(req.resource).same_account(&req.principal.account) {
        return Outcome {
            decision: DecisionKind::ImplicitDeny,
            layer: Some(DenyLayer::ResourceBasedPolicy),
            statement: None,
        };
    }
    match t.denial(set) {
        Some(o) => o,
        None => Outcome {
            decision: DecisionKind::Allowed,
            layer: None,
            statement: t.identity_allow,
        },
    }
}

fn base_message(req: &Request<'_>) -> String {
    message_of(&req.principal.caller_arn, req.action, req.resource)
}

/// `User: ARN is not authorized to perform: ACTION[ on resource: RESOURCE]`.
pub(crate) fn message_of(caller_arn: &str, action: &str, resource: &str) -> String {
    let action = crate::swf::catalog::action(action)
        .filter(|_| action.len() > 4)
        .map_or_else(|| action.to_owned(), |a| format!("swf:{}", a.name));
    if resource == "*" {
        format!("User: {caller_arn} is not authorized to perform: {action}")
    } else {
        format!("User: {caller_arn} is not authorized to perform: {action} on resource: {resource}")
    }
}

pub(crate) fn matched(set: &CompiledPolicySet, id: u32, applied: bool) -> Option<MatchedStatement> {
    let st = set.statements.get(id as usize)?;
    let p = set.policies.get(st.policy as usize)?;
    Some(MatchedStatement {
        policy: p.name.clone(),
        policy_type: p.layer.policy_type(),
        sid: st.sid.as_deref().map(str::to_owned),
        index: st.index as usize,
        effect: st.effect,
        applied,
        line: st.line,
        column: st.column,
        end_line: st.end_line,
    })
}

/// The [`Decision`] of an `allowed` [`Outcome`] from [`decide`], without evaluating
/// again: it names the identity statement that allowed. For a denied outcome, call
/// [`evaluate`] for the full explanation.
pub fn allowed_decision(set: &CompiledPolicySet, req: &Request<'_>, out: &Outcome) -> Decision {
    if out.decision != DecisionKind::Allowed {
        return internal_error(req, "allowed_decision called for a denied outcome");
    }
    Decision {
        decision: DecisionKind::Allowed,
        cause: None,
        principal: req.principal.caller_arn.clone(),
        action: req.action.to_owned(),
        resource: req.resource.to_owned(),
        deny_layer: None,
        matched_statements: out
            .statement
            .and_then(|id| matched(set, id, true))
            .into_iter()
            .collect(),
        missing_context_keys: Vec::new(),
        message: None,
        error: None,
    }
}

fn explain(set: &CompiledPolicySet, req: &Request<'_>, out: Outcome, rec: Full) -> Decision {
    let to_matched = |id: u32, applied: bool| matched(set, id, applied);
    let layer_of = |id: u32| set.statements.get(id as usize).map(|s| s.layer);
    let matched: Vec<MatchedStatement> = match (out.decision, out.layer) {
        (DecisionKind::ExplicitDeny, _) => rec
            .statements
            .iter()
            .filter(|(id, applied)| {
                *applied
                    && set
                        .statements
                        .get(*id as usize)
                        .is_some_and(|s| s.effect == Effect::Deny)
            })
            .filter_map(|&(id, a)| to_matched(id, a))
            .collect(),
        (DecisionKind::Allowed, _) => rec
            .statements
            .iter()
            .filter(|(id, applied)| {
                *applied
                    && set
                        .statements
                        .get(*id as usize)
                        .is_some_and(|s| s.effect == Effect::Allow)
            })
            .filter_map(|&(id, a)| to_matched(id, a))
            .collect(),
        (DecisionKind::ImplicitDeny, Some(layer)) => {
            // The failing layer's statements whose action and resource matched but whose
            // conditions failed (for an SCP level: the first level that allowed nothing).
            let failing_level = (0..set.scp_levels).find(|l| {
                !rec.statements.iter().any(|(id, applied)| {
                    *applied
                        && layer_of(*id) == Some(Layer::Scp(*l))
                        && set.statements[*id as usize].effect == Effect::Allow
                })
            });
            rec.statements
                .iter()
                .filter(|(id, applied)| {
                    !*applied
                        && set
                            .statements
                            .get(*id as usize)
                            .is_some_and(|s| s.effect == Effect::Allow)
                        && match (layer, layer_of(*id)) {
                            (DenyLayer::ServiceControlPolicy, Some(Layer::Scp(l))) => {
                                Some(l) == failing_level
                            }
                            (
                                DenyLayer::Identity | DenyLayer::ResourceBasedPolicy,
                                Some(Layer::Identity),
                            ) => true,
                            (DenyLayer::PermissionsBoundary, Some(Layer::Boundary)) => true,
                            (DenyLayer::SessionPolicy, Some(Layer::Session)) => true,
                            _ => false,
                        }
                })
                .filter_map(|&(id, a)| to_matched(id, a))
                .collect()
        }
        (DecisionKind::ImplicitDeny, None) => Vec::new(),
    };
    let message = match (out.decision, out.layer) {
        (DecisionKind::Allowed, _) => None,
        (DecisionKind::ExplicitDeny, Some(layer)) => {
            let arn = out
                .statement
                .and_then(|id| set.statements.get(id as usize))
                .and_then(|s| set.policies.get(s.policy as usize))
                .and_then(|p| p.arn.as_deref())
                .map_or(String::new(), |a| format!(": {a}"));
            Some(format!(
                "{} with an explicit deny in {}{arn}",
                base_message(req),
                layer.words().0
            ))
        }
        (_, layer) => {
            let action = crate::swf::catalog::action(req.action)
                .filter(|_| req.action.len() > 4)
                .map_or_else(|| req.action.to_owned(), |a| format!("swf:{}", a.name));
            Some(format!(
                "{} because no {} allows the {action} action",
                base_message(req),
                layer.unwrap_or(DenyLayer::InternalError).words().1
            ))
        }
    };
    Decision {
        decision: out.decision,
        cause: (out.decision != DecisionKind::Allowed).then_some("OPERATION_NOT_PERMITTED"),
        principal: req.principal.caller_arn.clone(),
        action: req.action.to_owned(),
        resource: req.resource.to_owned(),
        deny_layer: out.layer,
        matched_statements: matched,
        missing_context_keys: rec.missing,
        message,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{LoadedPolicy, PolicySet};
    use crate::validate::PolicyKind;

    #[test]
    fn an_inconsistent_index_fails_closed() {
        let p = LoadedPolicy::load(
            "p",
            br#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
            &PolicyKind::Managed,
        )
        .unwrap();
        let mut set = CompiledPolicySet::compile(&PolicySet {
            identity: vec![p],
            ..PolicySet::default()
        })
        .unwrap();
        let principal = Principal::from_arn("arn:aws:iam::123456789012:role/w", "s", None).unwrap();
        let ctx = Context::new();
        let req = Request {
            principal: &principal,
            action: "swf:RecordActivityTaskHeartbeat",
            resource: "arn:aws:swf:us-east-1:123456789012:/domain/d",
            context: &ctx,
        };
        assert_eq!(decide(&set, &req).decision, DecisionKind::Allowed);
        set.statements.clear(); // the index now names statements that do not exist
        assert_eq!(decide(&set, &req), INTERNAL);
        let d = evaluate(&set, &req);
        assert_eq!(d.decision, DecisionKind::ImplicitDeny);
        assert_eq!(d.deny_layer, Some(DenyLayer::InternalError));
        assert!(d.error.is_some() && d.message.unwrap().contains("could not evaluate"));
        let other = Request {
            action: "s3:GetObject",
            resource: "arn:aws:s3:::b/k",
            ..req
        };
        assert_eq!(decide(&set, &other).decision, DecisionKind::ImplicitDeny);
    }

    /// A Deny id that names no statement (a corrupted set) must deny on both paths, the
    /// allocation-free one included: skipping it would allow what the Deny denies.
    #[test]
    fn a_corrupt_deny_id_fails_closed_on_both_paths() {
        let p = LoadedPolicy::load(
            "p",
            br#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"swf:*","Resource":"*"},
                {"Effect":"Deny","Action":"swf:RecordActivityTaskHeartbeat","Resource":"arn:aws:swf:*:*:/domain/d"}]}"#,
            &PolicyKind::Managed,
        )
        .unwrap();
        let principal = Principal::from_arn("arn:aws:iam::123456789012:role/w", "s", None).unwrap();
        let ctx = Context::new();
        let req = Request {
            principal: &principal,
            action: "swf:RecordActivityTaskHeartbeat",
            resource: "arn:aws:swf:us-east-1:123456789012:/domain/d",
            context: &ctx,
        };
        let set = CompiledPolicySet::compile(&PolicySet {
            identity: vec![p],
            ..PolicySet::default()
        })
        .unwrap();
        assert_eq!(decide(&set, &req).decision, DecisionKind::ExplicitDeny);
        let bucket = set.action_id(req.action).unwrap();
        let out_of_range = set.statements.len() as u32 + 7;
        // Corrupt each Deny list the fast path reads: the pattern list, the exact map.
        for corrupt in [0, 1] {
            let mut bad = set.clone();
            let b = &mut bad.buckets[bucket];
            let bad_ids = vec![out_of_range].into_boxed_slice();
            if corrupt == 0 {
                b.rest_deny = bad_ids.clone();
                b.exact_deny.clear();
                let mut rest = b.rest_allow.to_vec();
                rest.push(out_of_range);
                b.rest = rest.into_boxed_slice();
            } else {
                b.rest_deny = Vec::new().into_boxed_slice();
                b.rest = b.rest_allow.clone();
                b.exact_deny.insert(req.resource.into(), bad_ids.clone());
                b.exact.insert(req.resource.into(), bad_ids);
            }
            assert_eq!(
                decide(&bad, &req),
                INTERNAL,
                "fast path, corruption {corrupt}"
            );
            let d = evaluate(&bad, &req);
            assert_eq!(
                d.decision,
                DecisionKind::ImplicitDeny,
                "corruption {corrupt}"
            );
            assert_eq!(d.deny_layer, Some(DenyLayer::InternalError));
        }
        // The explaining path with a corrupt id in its own list denies the same way.
        let mut bad = set.clone();
        bad.buckets[bucket].rest = vec![0, out_of_range].into_boxed_slice();
        assert_eq!(
            evaluate(&bad, &req).deny_layer,
            Some(DenyLayer::InternalError)
        );
    }
}

#[derive(Clone, Copy)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

fn cmp_of(op: BaseOperator) -> Cmp {
    use BaseOperator::*;
    match op {
        NumericLessThan | DateLessThan => Cmp::Lt,
        NumericLessThanEquals | DateLessThanEquals => Cmp::Le,
        NumericGreaterThan | DateGreaterThan => Cmp::Gt,
        NumericGreaterThanEquals | DateGreaterThanEquals => Cmp::Ge,
        _ => Cmp::Eq,
    }
}

fn cmp_holds(c: Cmp, o: Ordering) -> bool {
    match c {
        Cmp::Eq => o == Ordering::Equal,
        Cmp::Lt => o == Ordering::Less,
        Cmp::Le => o != Ordering::Greater,
        Cmp::Gt => o == Ordering::Greater,
        Cmp::Ge => o != Ordering::Less,
    }
}

/// Whether condition `c` holds for the request context `ctx` (absent keys, set
/// operators, `...IfExists` and negation included), as evaluation decides it.
pub fn condition_applies(c: &CompiledCondition, ctx: &Context) -> bool {
    condition_holds(c, ctx, &mut Quiet)
}

/// Whether request value `value` satisfies the positive form of `c`'s operator against
/// any of its values (`StringNotEquals` asks `StringEquals`), policy variables resolved
/// in `vars`. A value that does not parse for the operator's family matches nothing.
/// The access analysis partitions values by this.
pub fn value_matches(c: &CompiledCondition, value: &str, vars: &Context) -> bool {
    positive(c, value, None, vars)
}

/// Whether one request value satisfies the positive form of the operator against any
/// policy value (values OR). A request value that does not parse matches nothing.
fn positive(c: &CompiledCondition, r: &str, ip: Option<IpAddr>, ctx: &Context) -> bool {
    match &c.values {
        Values::Exact(ts) => ts.iter().any(|t| t.equals(r, ctx)),
        Values::Folded(ts) => ts.iter().any(|t| t.equals_folded(r, ctx)),
        Values::Like(ps) => ps.iter().any(|p| p.matches_with(r, ctx, false)),
        Values::Numeric(ps) => {
            let Some(rv) = Decimal::parse(r) else {
                return false;
            };
            let cmp = cmp_of(c.op.base);
            ps.iter()
                .flatten()
                .any(|p| Decimal::parse(p).is_some_and(|pv| cmp_holds(cmp, rv.cmp(&pv))))
        }
        Values::Date(ps) => {
            let Some(rv) = parse_instant(r) else {
                return false;
            };
            let cmp = cmp_of(c.op.base);
            ps.iter().flatten().any(|pv| cmp_holds(cmp, rv.cmp(pv)))
        }
        Values::Bool(ps) => parse_bool(r).is_some_and(|rv| ps.contains(&Some(rv))),
        Values::Binary(ps) => {
            use base64::Engine;
            let Ok(rv) = base64::engine::general_purpose::STANDARD.decode(r) else {
                return false;
            };
            ps.iter().flatten().any(|p| *p == rv)
        }
        Values::Ip(ps) => {
            let Some(ip) = ip.or_else(|| r.parse::<IpAddr>().ok()) else {
                return false;
            };
            ps.iter().flatten().any(|cidr| cidr.contains(ip))
        }
        Values::Arn(ps) => {
            let split = SplitArn::new(r);
            r.matches(':').count() >= 5 && ps.iter().any(|p| p.matches_split(&split, ctx))
        }
    }
}

fn condition_holds<R: Recorder>(c: &CompiledCondition, ctx: &Context, rec: &mut R) -> bool {
    let entry = ctx.entry_hashed(c.key_hash, &c.key);
    let value = entry.map(|e| &e.value);
    let ip = entry.and_then(|e| e.ip);
    let absent = match value {
        None => true,
        Some(ContextValue::Multi(v)) => v.is_empty(),
        Some(ContextValue::Single(_)) => false,
    };
    if absent {
        rec.missing(&c.key_display);
    }
    if c.op.base == BaseOperator::Null {
        let Values::Bool(ps) = &c.values else {
            return false;
        };
        return ps.contains(&Some(absent));
    }
    let negated = c.op.base.is_negated();
    if absent {
        return match c.op.set {
            Some(SetOperator::ForAllValues) => true,
            Some(SetOperator::ForAnyValue) => false,
            None => c.op.if_exists || negated,
        };
    }
    let test = |r: &str, ip| positive(c, r, ip, ctx) != negated;
    match (c.op.set, value) {
        (Some(SetOperator::ForAllValues), Some(ContextValue::Multi(v))) => {
            v.iter().all(|r| test(r, None))
        }
        (Some(SetOperator::ForAnyValue) | None, Some(ContextValue::Multi(v))) => {
            v.iter().any(|r| test(r, None))
        }
        (_, Some(ContextValue::Single(r))) => test(r, ip),
        (_, None) => false,
    }
}
