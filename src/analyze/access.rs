//! The access of a principal (`access`, `who-can`): where each action is allowed, and
//! each request's class.

use super::*;

/// Where an action is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Access {
    /// For no request.
    Never,
    /// For every request.
    Always,
    /// For some requests.
    Conditional,
}

/// The access of one principal to one action.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionAccess {
    /// `swf:Name`.
    pub action: String,
    /// Never, always, or under conditions.
    pub access: Access,
    /// The allowed requests, as extents (empty when never).
    pub allowed: Vec<Extent>,
    /// Request classes decided.
    pub classes: usize,
    /// Whether the answer holds for every request.
    pub complete: bool,
    /// Why it may not, when incomplete.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
}

/// The access of one principal.
#[derive(Debug, Clone, Serialize)]
pub struct PrincipalAccess {
    /// The principal's ARN.
    pub principal: String,
    /// Per action, sorted by name.
    pub actions: Vec<ActionAccess>,
}

/// A group of actions: each side's statement ids, whether they have a domain resource,
/// and the actions.
pub(super) type Group = (Vec<Vec<u32>>, bool, Vec<&'static SwfAction>);

/// Actions grouped by the statements that apply to them (and whether they have a
/// domain resource): every action of a group decides every request alike.
pub(super) fn groups(sides: &[Side<'_>], actions: &[&'static SwfAction]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for a in actions {
        let Some(i) = ACTIONS.iter().position(|x| x.name == a.name) else {
            continue;
        };
        let ids: Vec<Vec<u32>> = sides.iter().map(|s| relevant(s.set(), i)).collect();
        let dom = a.has_domain_resource();
        // Same statements, same resource kind (a fixed domain, domain tags or not) and
        // same condition keys: same answers.
        match out.iter_mut().find(|(k, d, m)| {
            *k == ids
                && *d == dom
                && m[0].keys == a.keys
                && m[0].decision == a.decision
                && m[0].fixed_domain() == a.fixed_domain()
                && m[0].reads_domain_tags() == a.reads_domain_tags()
        }) {
            Some(g) => g.2.push(a),
            None => out.push((ids, dom, vec![a])),
        }
    }
    out
}

/// Analyzes `actions` for one principal.
pub fn access(
    p: &PrincipalConfig,
    actions: &[&'static SwfAction],
    opts: &Options,
) -> PrincipalAccess {
    let sides = [Side { principal: p }];
    let mut result: Vec<ActionAccess> = Vec::new();
    let fines: Vec<Fine> = opts.regions.iter().map(|_| Fine::new()).collect();
    for (ids, _, members) in groups(&sides, actions) {
        let mut allowed_all: Vec<(Space, Vec<Cell>)> = Vec::new();
        let mut incomplete = Vec::new();
        let rep = format!("swf:{}", members[0].name);
        for (region, fine) in opts.regions.iter().zip(&fines) {
            let sp = space(&sides, &ids, members[0], region, opts, fine);
            incomplete.extend(sp.incomplete.iter().cloned());
            let cells = decide_all(&sides, &ids, &sp, &rep, opts, &mut incomplete);
            allowed_all.push((sp, cells));
        }
        let classes: usize = allowed_all.iter().map(|(_, c)| c.len()).sum();
        let allowed_n: usize = allowed_all
            .iter()
            .map(|(_, c)| {
                c.iter()
                    .filter(|c| c.decisions[0] == DecisionKind::Allowed)
                    .count()
            })
            .sum();
        let access = match allowed_n {
            0 => Access::Never,
            n if n == classes => Access::Always,
            _ => Access::Conditional,
        };
        incomplete.sort();
        incomplete.dedup();
        for a in members {
            let action = format!("swf:{}", a.name);
            let mut allowed = Vec::new();
            for (sp, cells) in &allowed_all {
                let yes: Vec<&Cell> = cells
                    .iter()
                    .filter(|c| c.decisions[0] == DecisionKind::Allowed)
                    .collect();
                if !yes.is_empty() {
                    allowed.extend(extents(&sides[0], sp, &yes, &action, opts));
                }
            }
            result.push(ActionAccess {
                action,
                access,
                allowed,
                classes,
                complete: incomplete.is_empty(),
                incomplete: incomplete.clone(),
            });
        }
    }
    result.sort_by(|a, b| a.action.cmp(&b.action));
    PrincipalAccess {
        principal: p.principal.arn.clone(),
        actions: result,
    }
}

/// The decided request space of one principal and one action: every class with its
/// decision, kept so that a concrete request can be placed in its class.
pub struct Analysis {
    pub(super) opts: Options,
    pub(super) spaces: Vec<(Space, Vec<Cell>)>,
    /// Whether the classes cover every request.
    pub complete: bool,
    /// Why they may not, when incomplete.
    pub incomplete: Vec<String>,
}

/// Analyzes one action for one principal, keeping every class.
pub fn analysis(p: &PrincipalConfig, action: &'static SwfAction, opts: &Options) -> Analysis {
    let sides = [Side { principal: p }];
    let Some(i) = ACTIONS.iter().position(|x| x.name == action.name) else {
        return Analysis {
            opts: opts.clone(),
            spaces: Vec::new(),
            complete: false,
            incomplete: vec![format!("`{}` is not in the catalog", action.name)],
        };
    };
    let ids = vec![relevant(p.compiled.as_ref(), i)];
    let name = format!("swf:{}", action.name);
    let mut incomplete = Vec::new();
    let mut spaces = Vec::new();
    let fines: Vec<Fine> = opts.regions.iter().map(|_| Fine::new()).collect();
    for (region, fine) in opts.regions.iter().zip(&fines) {
        let sp = space(&sides, &ids, action, region, opts, fine);
        incomplete.extend(sp.incomplete.iter().cloned());
        let cells = decide_all(&sides, &ids, &sp, &name, opts, &mut incomplete);
        spaces.push((sp, cells));
    }
    incomplete.sort();
    incomplete.dedup();
    Analysis {
        opts: opts.clone(),
        spaces,
        complete: incomplete.is_empty(),
        incomplete,
    }
}

impl Analysis {
    /// Number of classes decided.
    pub fn classes(&self) -> usize {
        self.spaces.iter().map(|(_, c)| c.len()).sum()
    }

    /// The decision recorded for the class of a concrete request on `resource` with
    /// context `ctx` (the principal's keys and, with request defaults, `check`'s
    /// defaults included), or why the request falls in no decided class.
    pub fn class_decision(&self, resource: &str, ctx: &Context) -> Result<DecisionKind, String> {
        let region = match crate::swf::arn::region_of(resource) {
            Some(r) => r.to_owned(),
            None => match ctx.get("aws:RequestedRegion") {
                Some(ContextValue::Single(r)) if self.opts.request_defaults => r.clone(),
                _ => self.opts.default_region.clone(),
            },
        };
        let (sp, cells) = self
            .spaces
            .iter()
            .find(|(sp, _)| sp.region == region || !self.opts.request_defaults && resource == "*")
            .ok_or_else(|| format!("no region `{region}` analyzed"))?;
        let mut at = Vec::with_capacity(2 + sp.keys.len());
        // The resource class.
        at.push(if resource == "*" {
            0
        } else {
            let name = resource
                .split_once(":/domain/")
                .map(|(_, n)| n)
                .ok_or("not a domain ARN")?;
            match &sp.fixed {
                Some(d) if d == name => 0,
                Some(_) => return Err("another domain than the analyzed one".into()),
                None => {
                    let matched: Vec<bool> = sp
                        .globs
                        .iter()
                        .map(|g| automaton::matches(&g.syms, &format!("{}{name}", g.prefix)))
                        .collect();
                    sp.resources
                        .iter()
                        .position(|r| r.matched == matched)
                        .ok_or_else(|| format!("domain `{name}` is in no class"))?
                }
            }
        });
        // The time class.
        at.push(if sp.time.is_empty() {
            0
        } else {
            let secs: i64 = match ctx.get("aws:EpochTime") {
                Some(ContextValue::Single(t)) => t
                    .parse()
                    .map_err(|_| "aws:EpochTime is not whole seconds")?,
                _ => return Err("no aws:EpochTime".into()),
            };
            let sig: Vec<bool> = sp
                .time_conds
                .iter()
                .map(|(_, c)| eval::value_matches(c, &time_text(c, secs), ctx))
                .collect();
            sp.time
                .iter()
                .position(|t| t.sig == sig)
                .ok_or_else(|| format!("time {secs} is in no class"))?
        });
        // Each key's class.
        for k in &sp.keys {
            let elem = |v: &str| -> Result<usize, String> {
                let sig: Vec<bool> = k
                    .conds
                    .iter()
                    .map(|(_, c)| eval::value_matches(c, v, ctx))
                    .collect();
                k.sigs
                    .iter()
                    .position(|s| *s == sig)
                    .ok_or_else(|| format!("`{}` = `{v}` is in no class", k.display))
            };
            let class: Option<Vec<usize>> = match ctx.get(&k.display) {
                None => None,
                Some(ContextValue::Multi(v)) if v.is_empty() => None,
                Some(ContextValue::Single(v)) => Some(vec![elem(v)?]),
                Some(ContextValue::Multi(vs)) => {
                    let mut ids = vs.iter().map(|v| elem(v)).collect::<Result<Vec<_>, _>>()?;
                    ids.sort_unstable();
                    ids.dedup();
                    Some(ids)
                }
            };
            let i = k
                .values
                .iter()
                .position(|v| v.class == class)
                .ok_or_else(|| format!("`{}` holds a combination in no class", k.display))?;
            at.push(i);
        }
        cells
            .iter()
            .find(|c| c.sets.iter().zip(&at).all(|(s, v)| s.contains(v)))
            .map(|c| c.decisions[0])
            .ok_or_else(|| "the class was not decided (a bound was reached)".into())
    }
}
