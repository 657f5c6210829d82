//! Compilation: validated [`PolicyDocument`]s → [`CompiledPolicySet`], indexed for evaluation.
//!
//! Actions are lowercased and indexed per SWF action (a request for a catalog action
//! looks only at statements whose action part matches it); resource entries are split
//! into fields and exact ones hashed; condition values are parsed once. Nothing here
//! evaluates: see [`crate::eval`].

pub mod condition;
pub mod template;
pub mod trust;

use crate::diagnostic::{Finding, IamStep, Severity};
use crate::pattern::Pattern;
use crate::policy::model::{Effect, PolicyDocument, Version};
use crate::swf::catalog::{self, ACTIONS};
use crate::text::{LineCol, Origin, SourceFile};
use crate::validate::{validate_iam, PolicyKind};
use condition::CompiledCondition;
use std::collections::HashMap as StdHashMap;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

pub use crate::hash::FxHasher;

/// The map type of the resource index.
pub type HashMap<K, V> = StdHashMap<K, V, BuildHasherDefault<FxHasher>>;
use template::ArnPattern;

/// The layer of IAM's evaluation a policy belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PolicyType {
    /// A service control policy (one level of the organization).
    ServiceControlPolicy,
    /// An identity-based policy (inline or managed) of the principal.
    Identity,
    /// The principal's permissions boundary.
    PermissionsBoundary,
    /// The session policy of the principal's session.
    SessionPolicy,
    /// A role's trust policy (the resource-based policy of `sts:AssumeRole`).
    TrustPolicy,
}

impl PolicyType {
    /// Words for messages: "service control policy", "identity-based policy", ...
    pub fn describe(self) -> &'static str {
        match self {
            PolicyType::ServiceControlPolicy => "service control policy",
            PolicyType::Identity => "identity-based policy",
            PolicyType::PermissionsBoundary => "permissions boundary",
            PolicyType::SessionPolicy => "session policy",
            PolicyType::TrustPolicy => "trust policy",
        }
    }
}

/// A policy that may be evaluated: it passed validation (a missing or `2008-10-17`
/// Version is allowed, with a warning, and evaluated with that version's rules).
#[derive(Debug, Clone)]
pub struct LoadedPolicy {
    /// Its name: a path relative to the configuration, or `<config>#/pointer` for inline ones.
    pub name: String,
    /// Its ARN, when known (named in explicit-deny messages).
    pub arn: Option<String>,
    /// The document.
    pub document: PolicyDocument,
    /// The source text, for locations.
    pub source: SourceFile,
    /// Where the text sits in a larger file (an inline or imported policy), if it does.
    pub origin: Option<Arc<Origin>>,
    /// Findings of IAM's checks that did not prevent loading (a missing or old
    /// `Version`). swf-iam's lints are `validate`'s, not the loader's.
    pub warnings: Vec<Finding>,
}

/// A policy IAM would not accept: the first error with its place, and every error.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{name}:{line}:{column}: invalid policy: {message}{}", pointer_suffix(.pointer))]
pub struct PolicyError {
    /// The policy's name.
    pub name: String,
    /// Line of the first error.
    pub line: usize,
    /// Column of the first error.
    pub column: usize,
    /// JSON pointer of the first error.
    pub pointer: String,
    /// The first error's message, with swf-iam's detail.
    pub message: String,
    /// Every error finding.
    pub errors: Vec<Finding>,
}

fn pointer_suffix(p: &str) -> String {
    if p.is_empty() {
        String::new()
    } else {
        format!(" (at {p})")
    }
}

impl LoadedPolicy {
    /// Validates and loads policy text of `kind`. Refuses anything IAM would refuse
    /// (and duplicate JSON members), except a missing or `2008-10-17` Version.
    pub fn load(name: &str, bytes: &[u8], kind: &PolicyKind) -> Result<Self, PolicyError> {
        Self::load_from(name, bytes, kind, None)
    }

    /// [`LoadedPolicy::load`] of a policy whose text sits in a larger file: errors are
    /// placed in that file (`origin`).
    pub fn load_embedded(
        name: &str,
        bytes: &[u8],
        kind: &PolicyKind,
        origin: Arc<Origin>,
    ) -> Result<Self, PolicyError> {
        Self::load_from(name, bytes, kind, Some(origin))
    }

    /// Line and column of an offset of the policy's text, in the file that holds it.
    pub fn line_col(&self, offset: usize) -> LineCol {
        match &self.origin {
            Some(o) => o.line_col(offset),
            None => self.source.line_col(offset),
        }
    }

    fn load_from(
        name: &str,
        bytes: &[u8],
        kind: &PolicyKind,
        origin: Option<Arc<Origin>>,
    ) -> Result<Self, PolicyError> {
        let report = validate_iam(name, bytes, kind);
        let (errors, warnings): (Vec<Finding>, Vec<Finding>) =
            report.findings.into_iter().partition(|f| {
                f.severity == Severity::Error
                    && f.iam_step != Some(IamStep::Version)
                    && (f.iam_step.is_some() || f.code == "duplicate-key")
            });
        match (errors.first(), report.document) {
            (None, Some(document)) => Ok(LoadedPolicy {
                name: name.to_owned(),
                arn: None,
                document,
                source: Arc::unwrap_or_clone(report.source),
                origin,
                warnings,
            }),
            (first, _) => {
                let lc = first.and_then(|f| f.span).map(|s| match &origin {
                    Some(o) => o.line_col(s.start),
                    None => report.source.line_col(s.start),
                });
                let pointer = first.map(|f| match &origin {
                    Some(o) => o.pointer(&f.pointer),
                    None => f.pointer.clone(),
                });
                Err(PolicyError {
                    name: origin.as_ref().map_or(name, |o| o.file.name()).to_owned(),
                    line: lc.map_or(1, |l| l.line),
                    column: lc.map_or(1, |l| l.column),
                    pointer: pointer.map(|p| p.to_string()).unwrap_or_default(),
                    message: first.map_or_else(
                        || "not a policy document".to_owned(),
                        |f| match &f.detail {
                            Some(d) => format!("{} ({d})", f.message),
                            None => f.message.clone(),
                        },
                    ),
                    errors,
                })
            }
        }
    }
}

/// The policies that apply to one principal, by layer.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    /// SCP levels, root first; each level's policies (every level must allow).
    pub scps: Vec<Vec<LoadedPolicy>>,
    /// Identity-based policies.
    pub identity: Vec<LoadedPolicy>,
    /// The permissions boundary, if any.
    pub boundary: Option<LoadedPolicy>,
    /// The session policies (an `AssumeRole` call's inline `Policy` and its
    /// `PolicyArns`): the layer allows what any of them allows, and the session may do
    /// only what both this layer and the others allow. Empty: no session policy.
    pub session: Vec<LoadedPolicy>,
}

/// Where a statement's policy sits in the evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// SCP level `n` (0 = root).
    Scp(u8),
    /// Identity-based.
    Identity,
    /// Permissions boundary.
    Boundary,
    /// Session policy.
    Session,
}

impl Layer {
    /// The policy type of the layer.
    pub fn policy_type(self) -> PolicyType {
        match self {
            Layer::Scp(_) => PolicyType::ServiceControlPolicy,
            Layer::Identity => PolicyType::Identity,
            Layer::Boundary => PolicyType::PermissionsBoundary,
            Layer::Session => PolicyType::SessionPolicy,
        }
    }
}

/// Metadata of a compiled policy.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    /// Name (path or inline reference).
    pub name: String,
    /// ARN, if known.
    pub arn: Option<String>,
    /// Layer.
    pub layer: Layer,
    /// Language version in force.
    pub version: Version,
}

/// The action part of a statement.
#[derive(Debug, Clone)]
pub struct ActionPart {
    /// `NotAction` rather than `Action`.
    pub negated: bool,
    /// Lowercased patterns, matched ASCII-case-insensitively.
    pub patterns: Box<[Pattern]>,
}

/// A statement's conditions, compiled (one per operator and key; all must hold).
pub fn conditions_of(
    st: &crate::policy::model::Statement,
    v2012: bool,
) -> Box<[CompiledCondition]> {
    st.conditions
        .iter()
        .filter_map(|op| op.operator.map(|o| (o, op)))
        .flat_map(|(o, op)| {
            op.keys
                .iter()
                .map(move |k| CompiledCondition::new(o, k, v2012))
        })
        .collect()
}

impl ActionPart {
    /// The action part of a statement (`Action` or `NotAction`), lowercased; `None`
    /// when it has neither.
    pub fn of(st: &crate::policy::model::Statement) -> Option<Self> {
        let (negated, list) = match (&st.action, &st.not_action) {
            (Some(a), _) => (false, a),
            (None, Some(na)) => (true, na),
            (None, None) => return None,
        };
        Some(ActionPart {
            negated,
            patterns: list
                .items
                .iter()
                .map(|a| Pattern::new(&a.value.to_ascii_lowercase()))
                .collect(),
        })
    }

    /// Whether the part matches `action` (any case).
    pub fn matches(&self, action: &str) -> bool {
        let hit = self
            .patterns
            .iter()
            .any(|p| p.matches_with(action, &crate::pattern::NoVars, true));
        hit != self.negated
    }
}

/// The resource part of a statement.
#[derive(Debug, Clone)]
pub struct ResourcePart {
    /// `NotResource` rather than `Resource`.
    pub negated: bool,
    /// The entries.
    pub patterns: Box<[ArnPattern]>,
}

/// One compiled statement.
#[derive(Debug, Clone)]
pub struct CompiledStatement {
    /// Index of its policy in [`CompiledPolicySet::policies`].
    pub policy: u32,
    /// Its position in the policy's `Statement` list.
    pub index: u32,
    /// `Sid`, if any.
    pub sid: Option<Box<str>>,
    /// Effect.
    pub effect: Effect,
    /// Layer (copied from the policy for speed).
    pub layer: Layer,
    /// 1-based line of the statement in its source.
    pub line: usize,
    /// 1-based column of the statement in its source.
    pub column: usize,
    /// 1-based line where the statement ends.
    pub end_line: usize,
    /// Byte range of the statement in its policy's source text.
    pub span: std::ops::Range<usize>,
    /// Action part.
    pub actions: ActionPart,
    /// Resource part.
    pub resources: ResourcePart,
    /// Conditions (all must hold).
    pub conditions: Box<[CompiledCondition]>,
}

/// Statements whose action part matches one catalog action: exact resources hashed,
/// the rest listed. Ids are ascending (layer order).
#[derive(Debug, Clone, Default)]
pub struct Bucket {
    /// Exact resource ARN → statements whose resource part lists it exactly (and nothing
    /// that needs matching).
    pub exact: HashMap<Box<str>, Box<[u32]>>,
    /// Statements that need their resource part matched.
    pub rest: Box<[u32]>,
    /// `exact`, `Deny` statements only.
    pub exact_deny: HashMap<Box<str>, Box<[u32]>>,
    /// `exact`, `Allow` statements only.
    pub exact_allow: HashMap<Box<str>, Box<[u32]>>,
    /// `rest`, `Deny` statements only.
    pub rest_deny: Box<[u32]>,
    /// `rest`, `Allow` statements only.
    pub rest_allow: Box<[u32]>,
}

/// The context keys `statements` read, lowercased and sorted: every condition key and
/// every policy variable of a resource, a condition value or an ARN pattern.
fn keys_read(statements: &[CompiledStatement]) -> Box<[Box<str>]> {
    use crate::compile::condition::Values;
    let mut keys: Vec<Box<str>> = Vec::new();
    let tokens = |ts: Vec<crate::pattern::Token>, keys: &mut Vec<Box<str>>| {
        for t in ts {
            if let crate::pattern::Token::Var { key, .. } = t {
                keys.push(key);
            }
        }
    };
    for st in statements {
        for p in st.resources.patterns.iter() {
            for f in p.fields() {
                tokens(f.to_tokens(), &mut keys);
            }
        }
        for c in st.conditions.iter() {
            keys.push(c.key.clone());
            match &c.values {
                Values::Exact(ts) | Values::Folded(ts) => {
                    for t in ts.iter() {
                        for piece in t.pieces() {
                            if let template::Piece::Var(k, _) = piece {
                                keys.push(k.clone());
                            }
                        }
                    }
                }
                Values::Like(ps) => {
                    for p in ps.iter() {
                        tokens(p.to_tokens(), &mut keys);
                    }
                }
                Values::Arn(ps) => {
                    for p in ps.iter() {
                        for f in p.fields() {
                            tokens(f.to_tokens(), &mut keys);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    for k in &mut keys {
        if k.bytes().any(|b| b.is_ascii_uppercase()) {
            *k = k.to_ascii_lowercase().into();
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys.into_boxed_slice()
}

/// A policy set compiled for evaluation. Immutable; cheap to share behind an `Arc`.
#[derive(Debug, Clone)]
pub struct CompiledPolicySet {
    /// Policies, in layer order (SCP levels, identity, boundary, session).
    pub policies: Vec<CompiledPolicy>,
    /// Sources of the policies (same order), for explanations.
    pub sources: Vec<SourceFile>,
    /// Where each policy's text sits in a larger file, if it does (same order).
    pub origins: Vec<Option<Arc<Origin>>>,
    /// Every statement, in layer order.
    pub statements: Vec<CompiledStatement>,
    /// Why the principal's policies are not all known (a managed policy or an
    /// intrinsic its source does not resolve). When set, every request is denied with
    /// this as the error: a decision is never made on part of the policies.
    pub incomplete: Option<Arc<str>>,
    /// Number of SCP levels (0 = no SCPs configured).
    pub scp_levels: u8,
    /// Whether a permissions boundary is set.
    pub has_boundary: bool,
    /// Whether a session policy is set.
    pub has_session: bool,
    /// One bucket per catalog action (same order as [`catalog::ACTIONS`]).
    pub buckets: Vec<Bucket>,
    /// Catalog indexes by the length of `swf:Name`.
    action_index: Vec<Vec<u16>>,
    /// The context keys the statements read, lowercased and decoded (condition keys and
    /// policy variables), sorted: what a decision can depend on.
    keys_read: Box<[Box<str>]>,
}

pub use crate::hash::ci_hash;

/// Why a policy set cannot be compiled.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CompileError {
    /// More SCP levels than swf-iam supports.
    #[error("{0} SCP levels configured; at most 64 are supported")]
    TooManyScpLevels(usize),
    /// An SCP level with no policy (it could never allow anything).
    #[error("SCP level {0} has no policy: every level needs at least one")]
    EmptyScpLevel(usize),
}

impl CompiledPolicySet {
    /// Compiles a policy set. Policies were validated when loaded.
    pub fn compile(set: &PolicySet) -> Result<Self, CompileError> {
        if set.scps.len() > 64 {
            return Err(CompileError::TooManyScpLevels(set.scps.len()));
        }
        if let Some(i) = set.scps.iter().position(Vec::is_empty) {
            return Err(CompileError::EmptyScpLevel(i));
        }
        let mut layered: Vec<(Layer, &LoadedPolicy)> = Vec::new();
        for (lvl, level) in set.scps.iter().enumerate() {
            for p in level {
                layered.push((Layer::Scp(lvl as u8), p));
            }
        }
        layered.extend(set.identity.iter().map(|p| (Layer::Identity, p)));
        layered.extend(set.boundary.iter().map(|p| (Layer::Boundary, p)));
        layered.extend(set.session.iter().map(|p| (Layer::Session, p)));

        let mut policies = Vec::with_capacity(layered.len());
        let mut sources = Vec::with_capacity(layered.len());
        let mut origins = Vec::with_capacity(layered.len());
        let mut statements = Vec::new();
        for (pi, (layer, p)) in layered.iter().enumerate() {
            let version = p.document.language();
            let v2012 = version == Version::V2012_10_17;
            policies.push(CompiledPolicy {
                name: p.name.clone(),
                arn: p.arn.clone(),
                layer: *layer,
                version,
            });
            sources.push(p.source.clone());
            origins.push(p.origin.clone());
            for st in &p.document.statements {
                let Some(effect) = st.effect() else { continue };
                let Some(actions) = ActionPart::of(st) else {
                    continue;
                };
                let (negated, list) = match (&st.resource, &st.not_resource) {
                    (Some(r), _) => (false, r),
                    (None, Some(nr)) => (true, nr),
                    (None, None) => continue,
                };
                let resources = ResourcePart {
                    negated,
                    patterns: list
                        .items
                        .iter()
                        .map(|r| ArnPattern::new(&r.value, v2012))
                        .collect(),
                };
                let conditions = conditions_of(st, v2012);
                let lc = p.line_col(st.loc.span.start);
                let end_line = p.line_col(st.loc.span.end.saturating_sub(1)).line;
                statements.push(CompiledStatement {
                    policy: pi as u32,
                    index: st.index as u32,
                    sid: st.sid.as_ref().map(|s| s.value.as_str().into()),
                    effect,
                    layer: *layer,
                    line: lc.line,
                    column: lc.column,
                    end_line,
                    span: st.loc.span.start..st.loc.span.end,
                    actions,
                    resources,
                    conditions,
                });
            }
        }

        let mut buckets = Vec::with_capacity(ACTIONS.len());
        for a in ACTIONS {
            let full = format!("swf:{}", a.name);
            let mut exact: HashMap<Box<str>, Vec<u32>> = HashMap::default();
            let mut rest = Vec::new();
            for (si, st) in statements.iter().enumerate() {
                if !st.actions.matches(&full) {
                    continue;
                }
                let exacts: Option<Vec<&str>> = if st.resources.negated {
                    None
                } else {
                    st.resources
                        .patterns
                        .iter()
                        .map(ArnPattern::as_exact)
                        .collect()
                };
                match exacts {
                    Some(list) => {
                        for r in list {
                            let ids = exact.entry(r.into()).or_default();
                            if ids.last() != Some(&(si as u32)) {
                                ids.push(si as u32);
                            }
                        }
                    }
                    None => rest.push(si as u32),
                }
            }
            let is_deny = |id: &u32| statements[*id as usize].effect == Effect::Deny;
            let split_map = |deny: bool| -> HashMap<Box<str>, Box<[u32]>> {
                exact
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.iter()
                                .copied()
                                .filter(|i| is_deny(i) == deny)
                                .collect::<Box<[u32]>>(),
                        )
                    })
                    .filter(|(_, v)| !v.is_empty())
                    .collect()
            };
            let (exact_deny, exact_allow) = (split_map(true), split_map(false));
            let rest_deny = rest.iter().copied().filter(|i| is_deny(i)).collect();
            let rest_allow = rest.iter().copied().filter(|i| !is_deny(i)).collect();
            buckets.push(Bucket {
                exact: exact
                    .into_iter()
                    .map(|(k, v)| (k, v.into_boxed_slice()))
                    .collect(),
                rest: rest.into_boxed_slice(),
                exact_deny,
                exact_allow,
                rest_deny,
                rest_allow,
            });
        }
        let mut action_index: Vec<Vec<u16>> = Vec::new();
        for (i, a) in ACTIONS.iter().enumerate() {
            let len = a.name.len() + 4;
            if action_index.len() <= len {
                action_index.resize(len + 1, Vec::new());
            }
            action_index[len].push(i as u16);
        }
        let keys_read = keys_read(&statements);
        Ok(CompiledPolicySet {
            incomplete: None,
            policies,
            sources,
            origins,
            statements,
            scp_levels: set.scps.len() as u8,
            has_boundary: set.boundary.is_some(),
            has_session: !set.session.is_empty(),
            buckets,
            action_index,
            keys_read,
        })
    }

    /// Whether a statement reads an `aws:ResourceTag/*` key (a condition key or a policy
    /// variable): its decisions may then depend on the resource's tags, and a caller that
    /// does not know them must learn them or deny. Decided from the compiled statements
    /// (decoded JSON), computed once at compile time.
    pub fn reads_resource_tags(&self) -> bool {
        self.keys_read
            .iter()
            .any(|k| k.starts_with("aws:resourcetag/"))
    }

    /// Whether a statement reads the time (`aws:CurrentTime`, `aws:EpochTime`): its
    /// decisions may then depend on when a request is made.
    pub fn reads_time(&self) -> bool {
        self.keys_read
            .iter()
            .any(|k| &**k == "aws:currenttime" || &**k == "aws:epochtime")
    }

    /// The catalog index of `action` (`swf:Name`, any case), without allocating.
    pub fn action_id(&self, action: &str) -> Option<usize> {
        let (prefix, name) = (action.get(..4)?, action.get(4..)?);
        if !prefix.eq_ignore_ascii_case("swf:") {
            return None;
        }
        self.action_index
            .get(action.len())?
            .iter()
            .map(|&i| usize::from(i))
            .find(|&i| name.eq_ignore_ascii_case(catalog::ACTIONS[i].name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(doc: &str) -> LoadedPolicy {
        LoadedPolicy::load(
            "p.json",
            doc.as_bytes(),
            &PolicyKind::InlineRole("r".into()),
        )
        .unwrap()
    }

    #[test]
    fn action_ids_ignore_case() {
        let set = CompiledPolicySet::compile(&PolicySet::default()).unwrap();
        assert_eq!(set.action_id("swf:RecordActivityTaskHeartbeat"), Some(0));
        assert_eq!(set.action_id("SWF:recordactivitytaskheartbeat"), Some(0));
        assert!(set.action_id("swf:ScheduleActivityTask").is_some());
        assert_eq!(set.action_id("swf:Nope"), None);
        assert_eq!(set.action_id("s3:GetObject"), None);
        assert_eq!(set.action_id(""), None);
    }

    #[test]
    fn buckets_hold_only_matching_statements_and_hash_exact_resources() {
        let p = load(
            r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"swf:RecordActivityTaskHeartbeat","Resource":["arn:aws:swf:us-east-1:123456789012:/domain/a","arn:aws:swf:us-east-1:123456789012:/domain/b"]},
            {"Effect":"Allow","Action":"swf:Poll*","Resource":"*"},
            {"Effect":"Deny","NotAction":"swf:Poll*","NotResource":"arn:aws:swf:*:*:/domain/dev"}]}"#,
        );
        let set = CompiledPolicySet::compile(&PolicySet {
            identity: vec![p],
            ..PolicySet::default()
        })
        .unwrap();
        let hb = &set.buckets[0];
        assert_eq!(hb.exact.len(), 2);
        assert_eq!(
            &*hb.exact["arn:aws:swf:us-east-1:123456789012:/domain/a"],
            &[0]
        );
        assert_eq!(&*hb.rest, &[2]);
        let poll = &set.buckets[set.action_id("swf:PollForActivityTask").unwrap()];
        assert!(poll.exact.is_empty());
        assert_eq!(&*poll.rest, &[1]);
    }

    #[test]
    fn loading_refuses_what_iam_refuses_but_not_old_versions() {
        assert!(LoadedPolicy::load(
            "p",
            br#"{"Statement":{"Effect":"Allow","Action":"swf:*","Resource":"*"}}"#,
            &PolicyKind::Managed
        )
        .is_ok());
        let e = LoadedPolicy::load(
            "p",
            br#"{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"swf:*","Resource":"*"}}"#,
            &PolicyKind::Managed,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "p:1:47: invalid policy: The policy failed legacy parsing (`Effect` is case-sensitive: write `Allow`, not `allow`) (at /Statement/Effect)");
        assert!(LoadedPolicy::load("p", br#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Effect":"Allow","Action":"swf:*","Resource":"*"}}"#, &PolicyKind::Managed).is_err());
    }
}

#[cfg(test)]
mod keys_read_tests {
    use super::*;

    fn set(doc: &str) -> CompiledPolicySet {
        let p = LoadedPolicy::load("p", doc.as_bytes(), &PolicyKind::Managed).unwrap();
        CompiledPolicySet::compile(&PolicySet {
            identity: vec![p],
            ..PolicySet::default()
        })
        .unwrap()
    }

    /// What a decision reads is taken from the decoded statements: a key hidden behind a
    /// JSON escape (`aws:ResourceT\u0061g`) or named only as a policy variable counts;
    /// a key named only in a `Sid` does not.
    #[test]
    fn the_keys_a_set_reads_come_from_its_decoded_statements() {
        let escaped = set(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"swf:*","Resource":"*"},
               {"Effect":"Deny","Action":"swf:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceT\u0061g/env":"prod"}}}]}"#,
        );
        assert!(escaped.reads_resource_tags());
        assert!(!escaped.reads_time());
        let variable = set(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"swf:*","Resource":"arn:aws:swf:*:*:/domain/${aws:ResourceTag/team}"}}"#,
        );
        assert!(variable.reads_resource_tags());
        let time = set(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"swf:*","Resource":"*","Condition":{"DateLessThan":{"AWS:CURRENTTIME":"2030-01-01T00:00:00Z"}}}}"#,
        );
        assert!(time.reads_time() && !time.reads_resource_tags());
        let sid_only = set(
            r#"{"Version":"2012-10-17","Statement":{"Sid":"awsResourceTagNotUsed","Effect":"Allow","Action":"swf:*","Resource":"*"}}"#,
        );
        assert!(!sid_only.reads_resource_tags() && !sid_only.reads_time());
    }
}
