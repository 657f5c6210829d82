//! Exploring the request space cell by cell, stopping wherever every side's answer is
//! settled, each cell decided by `eval::decide`.

use super::*;

/// A set of requests that all decide alike on every side: a cube of value sets, one
/// set per dimension (resource, time, keys...), with its representative decided.
pub(super) struct Cell {
    /// The values per dimension the cube spans; the first of each is the representative.
    pub(super) sets: Vec<Vec<usize>>,
    /// The representative's decision per side.
    pub(super) decisions: Vec<DecisionKind>,
}

impl Cell {
    /// The representative request's value per dimension.
    pub(super) fn representative(&self) -> Vec<usize> {
        self.sets
            .iter()
            .map(|s| s.first().copied().unwrap_or(0))
            .collect()
    }
}

/// Three-valued truth while some dimensions are still open.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Truth {
    Yes,
    No,
    Open,
}

/// One statement of one side, prepared for exploration: whether it applies, per value
/// of each dimension it depends on.
pub(super) struct Prepared {
    pub(super) deny: bool,
    pub(super) layer: crate::compile::Layer,
    /// Whether the resource part matches, per resource value.
    pub(super) resource: Vec<bool>,
    /// Per condition: the dimension it depends on and whether it holds per value
    /// (`None` for a condition on a fixed key: then `fixed`).
    pub(super) conds: Vec<(usize, Vec<bool>)>,
    /// Whether the conditions on fixed keys all hold.
    pub(super) fixed: bool,
}

pub(super) fn prepare(si: usize, side: &Side<'_>, ids: &[u32], space: &Space) -> Vec<Prepared> {
    let set = side.set();
    let base = &space.bases[si];
    let key_dim: HashMap<&str, usize> = space
        .keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.lower.as_str(), i + 2))
        .collect();
    let time_keys = !space.time.is_empty();
    let mut out = Vec::new();
    for st in statements(set, ids) {
        let resource = space
            .resources
            .iter()
            .map(|r| {
                let split = crate::compile::template::SplitArn::new(&r.arn);
                let hit = st
                    .resources
                    .patterns
                    .iter()
                    .any(|p| p.matches_split(&split, &**base));
                hit != st.resources.negated
            })
            .collect();
        let mut conds = Vec::new();
        let mut fixed = true;
        for c in st.conditions.iter() {
            if time_keys && TIME_KEYS.contains(&&*c.key) {
                let truth = space
                    .time
                    .iter()
                    .zip(&space.time_bases[si])
                    .map(|(_, ctx)| eval::condition_applies(c, ctx))
                    .collect();
                conds.push((1, truth));
            } else if let Some(&d) = key_dim.get(&*c.key) {
                let k = &space.keys[d - 2];
                let truth = k
                    .values
                    .iter()
                    .map(|v| {
                        let mut ctx = Context::over(base.clone());
                        if let Some(val) = &v.value {
                            ctx.set(&k.display, val.clone());
                        }
                        eval::condition_applies(c, &ctx)
                    })
                    .collect();
                conds.push((d, truth));
            } else {
                fixed &= eval::condition_applies(c, base);
            }
        }
        out.push(Prepared {
            deny: st.effect == crate::policy::model::Effect::Deny,
            layer: st.layer,
            resource,
            conds,
            fixed,
        });
    }
    out
}

/// Whether the decision (allowed, explicit or implicit deny) is the same for every completion of `at[..]`
/// where `open[d]` marks dimensions not yet chosen.
pub(super) fn settled(
    prepared: &[Prepared],
    set: &CompiledPolicySet,
    at: &[usize],
    open: &[bool],
) -> bool {
    let truth = |p: &Prepared| -> Truth {
        if !p.fixed {
            return Truth::No;
        }
        let mut t = Truth::Yes;
        if open[0] {
            if p.resource.iter().all(|r| !r) {
                return Truth::No;
            }
            if !p.resource.iter().all(|r| *r) {
                t = Truth::Open;
            }
        } else if !p.resource[at[0]] {
            return Truth::No;
        }
        for (d, vals) in &p.conds {
            if open[*d] {
                if vals.iter().all(|v| !v) {
                    return Truth::No;
                }
                if !vals.iter().all(|v| *v) {
                    t = Truth::Open;
                }
            } else if !vals[at[*d]] {
                return Truth::No;
            }
        }
        t
    };
    let mut deny_open = false;
    // Layers: SCP levels, identity, boundary, session.
    let levels = usize::from(set.scp_levels);
    let mut layer_best = vec![Truth::No; levels + 3];
    let slot = |l: crate::compile::Layer| match l {
        crate::compile::Layer::Scp(n) => usize::from(n),
        crate::compile::Layer::Identity => levels,
        crate::compile::Layer::Boundary => levels + 1,
        crate::compile::Layer::Session => levels + 2,
    };
    for p in prepared {
        let t = truth(p);
        if p.deny {
            match t {
                Truth::Yes => return true, // denied whatever the rest
                Truth::Open => deny_open = true,
                Truth::No => {}
            }
        } else {
            let s = slot(p.layer);
            if let Some(b) = layer_best.get_mut(s) {
                *b = match (*b, t) {
                    (Truth::Yes, _) | (_, Truth::Yes) => Truth::Yes,
                    (Truth::Open, _) | (_, Truth::Open) => Truth::Open,
                    _ => Truth::No,
                };
            }
        }
    }
    let required = (0..levels)
        .chain([levels])
        .chain(set.has_boundary.then_some(levels + 1))
        .chain(set.has_session.then_some(levels + 2));
    if deny_open {
        return false; // an explicit deny or not, depending on the rest
    }
    let mut all_yes = true;
    for r in required {
        match layer_best[r] {
            Truth::No => return true, // some required layer can never allow
            Truth::Open => all_yes = false,
            Truth::Yes => {}
        }
    }
    all_yes
}

/// Explores the space of `action` dimension by dimension, stopping wherever every side's
/// answer is settled; each stop is a cube whose representative is decided by
/// [`eval::decide`].
pub(super) fn decide_all(
    sides: &[Side<'_>],
    ids: &[Vec<u32>],
    space: &Space,
    action: &str,
    opts: &Options,
    incomplete: &mut Vec<String>,
) -> Vec<Cell> {
    let radices = space.radices();
    let prepared: Vec<Vec<Prepared>> = sides
        .iter()
        .zip(ids)
        .enumerate()
        .map(|(si, (s, ids))| prepare(si, s, ids, space))
        .collect();
    // Resource first, then the dimensions most statements depend on.
    let mut order: Vec<usize> = (1..radices.len()).collect();
    let uses = |d: usize| {
        prepared
            .iter()
            .flatten()
            .filter(|p| p.conds.iter().any(|(x, _)| *x == d))
            .count()
    };
    order.sort_by_key(|&d| std::cmp::Reverse(uses(d)));
    order.insert(0, 0);
    let mut out = Vec::new();
    let mut at = vec![0usize; radices.len()];
    let mut open = vec![true; radices.len()];
    let limit = opts.limits.max_cells;
    let mut truncated = false;
    let mut meter = budget::Meter::new(opts.limits.budget);
    explore(
        &mut Explore {
            sides,
            prepared: &prepared,
            space,
            action,
            radices: &radices,
            order: &order,
            out: &mut out,
            limit,
            truncated: &mut truncated,
            meter: &mut meter,
        },
        0,
        &mut at,
        &mut open,
    );
    if let Some(why) = meter.reason() {
        incomplete.push(format!(
            "only {} request classes in {} were decided: {why}",
            out.len(),
            space.region
        ));
    } else if truncated {
        incomplete.push(format!(
            "more than {limit} request classes in {}; only the first {limit} were decided",
            space.region
        ));
    }
    out
}

pub(super) struct Explore<'a, 'b> {
    pub(super) sides: &'a [Side<'b>],
    pub(super) prepared: &'a [Vec<Prepared>],
    pub(super) space: &'a Space,
    pub(super) action: &'a str,
    pub(super) radices: &'a [usize],
    pub(super) order: &'a [usize],
    pub(super) out: &'a mut Vec<Cell>,
    pub(super) limit: usize,
    pub(super) truncated: &'a mut bool,
    pub(super) meter: &'a mut budget::Meter,
}

pub(super) fn explore(
    e: &mut Explore<'_, '_>,
    depth: usize,
    at: &mut Vec<usize>,
    open: &mut Vec<bool>,
) {
    if e.out.len() >= e.limit {
        *e.truncated = true;
        return;
    }
    if e.meter.step() {
        return;
    }
    let done = depth == e.order.len()
        || e.sides
            .iter()
            .zip(e.prepared)
            .all(|(s, p)| settled(p, s.set(), at, open));
    if done {
        let rep: Vec<usize> = at
            .iter()
            .zip(open.iter())
            .map(|(&v, &o)| if o { 0 } else { v })
            .collect();
        let sets = rep
            .iter()
            .zip(open.iter())
            .zip(e.radices)
            .map(|((&v, &o), &r)| if o { (0..r).collect() } else { vec![v] })
            .collect();
        let decisions = e
            .sides
            .iter()
            .enumerate()
            .map(|(si, s)| {
                let ctx = context_of(si, e.space, &rep);
                eval::decide(
                    s.set(),
                    &Request {
                        principal: &s.principal.principal,
                        action: e.action,
                        resource: &e.space.resources[rep[0]].arn,
                        context: &ctx,
                    },
                )
                .decision
            })
            .collect();
        e.out.push(Cell { sets, decisions });
        return;
    }
    let d = e.order[depth];
    open[d] = false;
    for v in 0..e.radices[d] {
        at[d] = v;
        explore(e, depth + 1, at, open);
    }
    open[d] = true;
    at[d] = 0;
}

pub(super) fn context_of(si: usize, space: &Space, at: &[usize]) -> Context {
    let mut ctx = match space.time_bases[si].get(at[1]) {
        Some(t) => Context::over(t.clone()),
        None => Context::over(space.bases[si].clone()),
    };
    for (k, &i) in space.keys.iter().zip(&at[2..]) {
        if let Some(v) = k.values.get(i).and_then(|v| v.value.clone()) {
            ctx.set(&k.display, v);
        }
    }
    ctx
}

/// `base` at another time (`aws:CurrentTime`, `aws:EpochTime`).
pub(super) fn time_context(base: &Arc<Context>, secs: i64) -> Context {
    let mut ctx = Context::over(base.clone());
    ctx.set_known("aws:CurrentTime", crate::values::format_iso8601(secs));
    ctx.set_known("aws:EpochTime", secs.to_string());
    ctx
}
