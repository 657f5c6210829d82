//! Comparing two configurations (`diff`): where access widened or narrowed, each change
//! with a witness.

use super::*;

/// How an action's allowed requests changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    /// Some request is allowed after and denied before.
    Widened,
    /// Some request is allowed before and denied after.
    Narrowed,
}

/// One change found by [`diff`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The principal's ARN.
    pub principal: String,
    /// `swf:Name`.
    pub action: String,
    /// Widened or narrowed.
    pub change: ChangeKind,
    /// One request that decides differently, as a `check --requests` line.
    pub witness: Value,
    /// The witness's decision before.
    pub before: DecisionKind,
    /// The witness's decision after.
    pub after: DecisionKind,
    /// Every request that changed this way, as extents.
    pub extent: Vec<Extent>,
    /// Whether the comparison covered every request.
    pub complete: bool,
    /// Why it may not have, when incomplete.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
}

/// The outcome of comparing one principal's two versions.
#[derive(Debug, Clone, Default)]
pub struct PrincipalDiff {
    /// The changes, by action then kind.
    pub changes: Vec<Change>,
    /// Reasons some comparison of an unchanged action may be incomplete.
    pub incomplete: Vec<String>,
}

/// What decides a principal's requests: its caller ARN, its policies' layers and texts,
/// and its own keys.
pub(super) type Fingerprint = (String, Vec<(String, String)>, Vec<(String, String)>);

pub(super) fn fingerprint(p: &PrincipalConfig) -> Fingerprint {
    let set = &p.compiled;
    let texts: Vec<(String, String)> = set
        .policies
        .iter()
        .zip(&set.sources)
        .map(|(pol, src)| (format!("{:?}", pol.layer), src.text().to_owned()))
        .collect();
    let mut ctx: Vec<(String, String)> = p
        .base_context
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), format!("{v:?}")))
        .collect();
    ctx.sort();
    (p.principal.caller_arn.clone(), texts, ctx)
}

/// Whether both sides' statements `ids` are the same texts in the same layers and
/// language versions, under the same layer structure (SCP levels, boundary, session).
pub(super) fn same_statements(sides: &[Side<'_>], ids: &[Vec<u32>]) -> bool {
    let [a, b] = sides else { return false };
    let (sa, sb) = (a.set(), b.set());
    if (sa.scp_levels, sa.has_boundary, sa.has_session)
        != (sb.scp_levels, sb.has_boundary, sb.has_session)
        || ids[0].len() != ids[1].len()
    {
        return false;
    }
    let text = |set: &CompiledPolicySet, id: u32| {
        let st = set.statements.get(id as usize)?;
        let policy = set.policies.get(st.policy as usize)?;
        let src = set.sources.get(st.policy as usize)?;
        Some((
            st.layer,
            policy.version,
            src.text().get(st.span.clone())?.to_owned(),
        ))
    };
    ids[0].iter().zip(&ids[1]).all(|(&x, &y)| {
        let (tx, ty) = (text(sa, x), text(sb, y));
        tx.is_some() && tx == ty
    })
}

/// Compares one principal before and after (either may be missing: a principal only
/// after is widened wherever it is allowed, one only before narrowed).
pub fn diff(
    before: Option<&PrincipalConfig>,
    after: Option<&PrincipalConfig>,
    actions: &[&'static SwfAction],
    opts: &Options,
) -> PrincipalDiff {
    let mut same_principal = false;
    let (b, a) = match (before, after) {
        (Some(b), Some(a)) => {
            let (fb, fa) = (fingerprint(b), fingerprint(a));
            if fb == fa {
                return PrincipalDiff::default();
            }
            // The same principal with the same own keys (tags, user id): then the
            // statements alone decide each action.
            same_principal = fb.0 == fa.0 && fb.2 == fa.2;
            (b, a)
        }
        (Some(b), None) => (b, b),
        (None, Some(a)) => (a, a),
        (None, None) => return PrincipalDiff::default(),
    };
    let only_after = before.is_none();
    let only_before = after.is_none();
    let sides = [Side { principal: b }, Side { principal: a }];
    let mut out = PrincipalDiff::default();
    let fines: Vec<Fine> = opts.regions.iter().map(|_| Fine::new()).collect();
    for (ids, _, members) in groups(&sides, actions) {
        // The same statements (text, layer, language) under the same layers decide
        // every request of these actions alike: nothing to compare.
        if same_principal && same_statements(&sides, &ids) {
            continue;
        }
        let rep = format!("swf:{}", members[0].name);
        let mut incomplete = Vec::new();
        let mut spaces: Vec<(Space, Vec<Cell>)> = Vec::new();
        for (region, fine) in opts.regions.iter().zip(&fines) {
            let sp = space(&sides, &ids, members[0], region, opts, fine);
            incomplete.extend(sp.incomplete.iter().cloned());
            let mut cells = decide_all(&sides, &ids, &sp, &rep, opts, &mut incomplete);
            for c in &mut cells {
                if only_after {
                    c.decisions[0] = DecisionKind::ImplicitDeny;
                }
                if only_before {
                    c.decisions[1] = DecisionKind::ImplicitDeny;
                }
            }
            spaces.push((sp, cells));
        }
        incomplete.sort();
        incomplete.dedup();
        let allowed = |d: DecisionKind| d == DecisionKind::Allowed;
        let mut found = false;
        for kind in [ChangeKind::Widened, ChangeKind::Narrowed] {
            let changed = |c: &Cell| match kind {
                ChangeKind::Widened => allowed(c.decisions[1]) && !allowed(c.decisions[0]),
                ChangeKind::Narrowed => allowed(c.decisions[0]) && !allowed(c.decisions[1]),
            };
            if !spaces.iter().any(|(_, cs)| cs.iter().any(changed)) {
                continue;
            }
            found = true;
            for m in &members {
                let action = format!("swf:{}", m.name);
                let mut extent = Vec::new();
                let mut first: Option<(Value, DecisionKind, DecisionKind)> = None;
                for (sp, cells) in &spaces {
                    let yes: Vec<&Cell> = cells.iter().filter(|c| changed(c)).collect();
                    if let Some(c) = yes.first() {
                        let side = if kind == ChangeKind::Widened {
                            &sides[1]
                        } else {
                            &sides[0]
                        };
                        first.get_or_insert_with(|| {
                            (
                                witness(side, sp, &c.representative(), &action, opts),
                                c.decisions[0],
                                c.decisions[1],
                            )
                        });
                        extent.extend(extents(side, sp, &yes, &action, opts));
                    }
                }
                if let Some((witness, before, after)) = first {
                    out.changes.push(Change {
                        principal: a.principal.arn.clone(),
                        action,
                        change: kind,
                        witness,
                        before,
                        after,
                        extent,
                        complete: incomplete.is_empty(),
                        incomplete: incomplete.clone(),
                    });
                }
            }
        }
        if !found {
            out.incomplete.extend(incomplete);
        }
    }
    out.changes
        .sort_by(|x, y| (&x.action, x.change).cmp(&(&y.action, y.change)));
    out.incomplete.sort();
    out.incomplete.dedup();
    out
}
