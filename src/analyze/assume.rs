//! Role assumption, for every request at once: may a principal assume a role, under
//! which request keys, with a witness request; and the chains of `AssumeRole` hops that
//! reach a role (`who-can`, `access`).
//!
//! For one caller and one role, the requests that can differ are the values (or
//! absence) of the keys the caller's statements on `sts:AssumeRole` and the role's
//! trust statements that name the caller test — `sts:ExternalId`,
//! `sts:RoleSessionName`, `aws:RequestTag/*`, `aws:SourceIp`, ... —; each is
//! partitioned as the SWF analysis partitions keys ([`super::classes`]) and every
//! combination is decided by [`crate::eval::trust::decide_assume`] itself. The time is
//! fixed at [`Options::now`] (said in `incomplete` when a condition reads it).

use super::*;
use crate::eval::trust::{decide_assume, principal_hit, AssumeRequest};

/// Whether a caller may assume a role.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssumeAccess {
    /// The caller's ARN.
    pub caller: String,
    /// The role's ARN.
    pub role: String,
    /// Never, always, or for some requests.
    pub access: Access,
    /// Request classes decided.
    pub classes: usize,
    /// A `check --requests` line of an allowed request (replaying it allows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witness: Option<Value>,
    /// Whether the answer holds for every request.
    pub complete: bool,
    /// Why it may not, when incomplete.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
}

const ASSUME: &str = "sts:AssumeRole";

/// Whether `caller` may assume `role`, for every request.
pub fn assume_access(
    caller: &PrincipalConfig,
    role: &PrincipalConfig,
    opts: &Options,
) -> AssumeAccess {
    let mut out = AssumeAccess {
        caller: caller.principal.arn.clone(),
        role: role.principal.arn.clone(),
        access: Access::Never,
        classes: 0,
        witness: None,
        complete: true,
        incomplete: Vec::new(),
    };
    let Some(trust) = role.trust.as_deref().filter(|_| role.is_role()) else {
        return out;
    };
    if let Some(why) = &role.trust_missing {
        out.complete = false;
        out.incomplete.push(format!(
            "the trust policy of {} is not known: {why}",
            out.role
        ));
        return out;
    }
    // A quick no: no trust statement on sts:AssumeRole names the caller.
    if !trust.statements.iter().any(|s| {
        s.effect == crate::policy::model::Effect::Allow
            && s.actions.matches(ASSUME)
            && principal_hit(s, &caller.principal).is_some()
    }) {
        return out;
    }
    let side = Side { principal: caller };
    let mut base = fixed_context(&side, &opts.default_region, opts, opts.now, false);
    for (k, v) in &role.principal.tags {
        base.set_single(&format!("aws:ResourceTag/{k}"), v.clone());
    }
    let base = Arc::new(base);
    // The conditions that can decide: the caller's statements on sts:AssumeRole, the
    // trust statements that name it.
    let mut uses: Vec<KeyUse<'_>> = Vec::new();
    let mut reads_time = false;
    let caller_conds: Vec<&CompiledCondition> = caller
        .compiled
        .statements
        .iter()
        .filter(|s| s.actions.matches(ASSUME))
        .flat_map(|s| s.conditions.iter())
        .collect();
    let trust_conds: Vec<&CompiledCondition> = trust
        .statements
        .iter()
        .filter(|s| s.actions.matches(ASSUME) && principal_hit(s, &caller.principal).is_some())
        .flat_map(|s| s.conditions.iter())
        .collect();
    for &c in caller_conds.iter().chain(&trust_conds) {
        let lower = c.key.to_ascii_lowercase();
        if TIME_KEYS.contains(&lower.as_str()) {
            reads_time = true;
            continue;
        }
        if is_fixed(&side, &lower, opts.request_defaults) || lower.starts_with("aws:resourcetag/") {
            continue;
        }
        match uses
            .iter_mut()
            .find(|u| u.display.eq_ignore_ascii_case(&c.key_display))
        {
            Some(u) => u.conds.push((0, c)),
            None => uses.push(KeyUse {
                display: c.key_display.to_string(),
                conds: vec![(0, c)],
            }),
        }
    }
    if reads_time {
        out.incomplete.push(format!(
            "a condition on {ASSUME} reads the time; decided at {} only",
            crate::values::format_iso8601(opts.now)
        ));
    }
    let ctxs = [base.clone()];
    let fixed = |k: &str| is_fixed(&side, &k.to_ascii_lowercase(), opts.request_defaults);
    let dims: Vec<KeyDim> = uses
        .into_iter()
        .map(|u| key_dim(u, &ctxs, opts, &fixed, &mut out.incomplete))
        .collect();
    // Every combination, bounded.
    let radices: Vec<usize> = dims.iter().map(|d| d.values.len().max(1)).collect();
    let total = radices
        .iter()
        .try_fold(1usize, |a, &r| a.checked_mul(r))
        .unwrap_or(usize::MAX);
    let cap = opts.limits.max_cells;
    if total > cap {
        out.incomplete.push(format!(
            "{total} combinations of request keys; {cap} decided (raise the bound or narrow the conditions)"
        ));
    }
    let mut meter = budget::Meter::new(opts.limits.budget);
    let mut at = vec![0usize; dims.len()];
    let (mut allowed, mut decided) = (0usize, 0usize);
    'cells: loop {
        if decided >= cap {
            break;
        }
        if meter.step() {
            out.incomplete.push(
                meter
                    .reason()
                    .unwrap_or("the analysis budget is spent")
                    .to_owned(),
            );
            break;
        }
        let mut ctx = Context::over(base.clone());
        for (d, &i) in dims.iter().zip(&at) {
            if let Some(v) = d.values.get(i).and_then(|v| v.value.clone()) {
                ctx.set(&d.display, v);
            }
        }
        let d = decide_assume(&AssumeRequest {
            caller: &caller.principal,
            caller_policies: &caller.compiled,
            action: ASSUME,
            role_arn: &role.principal.arn,
            trust: Some(trust),
            context: &ctx,
        });
        decided += 1;
        if d.is_allowed() {
            allowed += 1;
            if out.witness.is_none() {
                out.witness = Some(witness_of(caller, role, &dims, &at, opts));
            }
        }
        // Next combination.
        for (i, r) in radices.iter().enumerate() {
            at[i] += 1;
            if at[i] < *r {
                continue 'cells;
            }
            at[i] = 0;
        }
        break;
    }
    out.classes = decided;
    out.access = match allowed {
        0 => Access::Never,
        n if n == decided => Access::Always,
        _ => Access::Conditional,
    };
    out.incomplete.sort();
    out.incomplete.dedup();
    out.complete = out.incomplete.is_empty();
    out
}

fn witness_of(
    caller: &PrincipalConfig,
    role: &PrincipalConfig,
    dims: &[KeyDim],
    at: &[usize],
    opts: &Options,
) -> Value {
    let mut o = Map::new();
    o.insert("principal".into(), json!(caller.principal.arn));
    o.insert("action".into(), json!(ASSUME));
    o.insert("resource".into(), json!(role.principal.arn));
    let mut ctx = Map::new();
    for (d, &i) in dims.iter().zip(at) {
        match d.values.get(i).and_then(|v| v.value.as_ref()) {
            Some(ContextValue::Single(s)) => {
                ctx.insert(d.display.clone(), json!(s));
            }
            Some(ContextValue::Multi(v)) => {
                ctx.insert(d.display.clone(), json!(v));
            }
            None => {}
        }
    }
    if !ctx.is_empty() {
        o.insert("context".into(), Value::Object(ctx));
    }
    if !opts.request_defaults {
        o.insert("defaultContext".into(), json!(false));
    }
    Value::Object(o)
}

/// One hop of a chain: who assumes which role, and a request that lets it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hop {
    /// The caller of the hop (a principal, or the role of the previous hop's session).
    pub from: String,
    /// The role assumed.
    pub role: String,
    /// Whether every request allows the hop, or some.
    pub access: Access,
    /// A request that allows it.
    pub witness: Option<Value>,
}

/// The most `AssumeRole` hops a chain may take.
pub const MAX_HOPS: usize = 5;

/// The `AssumeRole` edges among `principals`: for each caller, the roles it may assume
/// (never itself), and whether every answer is complete.
pub fn assume_graph(
    principals: &[&PrincipalConfig],
    opts: &Options,
) -> (Vec<Vec<(usize, AssumeAccess)>>, Vec<String>) {
    let mut edges = vec![Vec::new(); principals.len()];
    let mut incomplete = Vec::new();
    // Callers × roles: bounded by the analysis budget like every other analysis.
    let mut meter = budget::Meter::new(opts.limits.budget);
    'callers: for (ci, c) in principals.iter().enumerate() {
        for (ri, r) in principals.iter().enumerate() {
            if meter.step() {
                incomplete.push(format!(
                    "role assumption was analyzed for the first {ci} principals only: {}",
                    meter.reason().unwrap_or("the analysis budget is spent")
                ));
                break 'callers;
            }
            if ci == ri || !r.is_role() || r.trust.is_none() && r.trust_missing.is_none() {
                continue;
            }
            let a = assume_access(c, r, opts);
            incomplete.extend(a.incomplete.iter().cloned());
            if a.access != Access::Never {
                edges[ci].push((ri, a));
            }
        }
    }
    incomplete.sort();
    incomplete.dedup();
    (edges, incomplete)
}

/// The shortest chains from each principal to each target (breadth first, at most
/// [`MAX_HOPS`] hops, each role once per chain): for every principal, the chains that end
/// at a principal of `targets` (the principals that may act themselves). Cycles end a
/// branch; chains longer than the bound are reported in the second list.
pub fn chains(
    principals: &[&PrincipalConfig],
    edges: &[Vec<(usize, AssumeAccess)>],
    targets: &[bool],
) -> (Vec<Vec<Vec<Hop>>>, Vec<String>) {
    let mut out = vec![Vec::new(); principals.len()];
    let mut cut = Vec::new();
    for start in 0..principals.len() {
        // (node, path of edge indices)
        let mut frontier: Vec<(usize, Vec<(usize, usize)>)> = vec![(start, Vec::new())];
        let mut seen = vec![false; principals.len()];
        seen[start] = true;
        for depth in 0..=MAX_HOPS {
            let mut next = Vec::new();
            for (node, path) in &frontier {
                for (ei, (to, _)) in edges[*node].iter().enumerate() {
                    if seen[*to] {
                        continue;
                    }
                    if depth == MAX_HOPS {
                        cut.push(format!(
                            "chains from {} longer than {MAX_HOPS} hops are not followed",
                            principals[start].principal.arn
                        ));
                        continue;
                    }
                    seen[*to] = true;
                    let mut p = path.clone();
                    p.push((*node, ei));
                    if targets[*to] {
                        out[start].push(
                            p.iter()
                                .map(|&(from, e)| {
                                    let (_, a) = &edges[from][e];
                                    Hop {
                                        from: a.caller.clone(),
                                        role: a.role.clone(),
                                        access: a.access,
                                        witness: a.witness.clone(),
                                    }
                                })
                                .collect(),
                        );
                    }
                    next.push((*to, p));
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
    }
    cut.sort();
    cut.dedup();
    (out, cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(budget: Budget) -> Options {
        Options {
            partition: "aws".into(),
            account: "123456789012".into(),
            regions: vec!["us-east-1".into()],
            default_region: "us-east-1".into(),
            request_defaults: true,
            now: 1_800_000_000,
            domain: None,
            limits: Limits {
                budget,
                ..Limits::default()
            },
            cache: Default::default(),
        }
    }

    #[test]
    fn the_role_graph_is_bounded_by_the_budget() {
        let config = crate::config::Config::from_bytes(
            std::path::Path::new("/nonexistent/g.json"),
            br#"{"principals": [{"arn": "arn:aws:iam::123456789012:user/u"},
              {"arn": "arn:aws:iam::123456789012:role/r", "trustPolicy": {"Version": "2012-10-17",
               "Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/u"}, "Action": "sts:AssumeRole"}}}]}"#,
        )
        .unwrap();
        let ps: Vec<&PrincipalConfig> = config.principals.iter().collect();
        let (edges, incomplete) = assume_graph(&ps, &opts(Budget::default()));
        assert!(incomplete.is_empty(), "{incomplete:?}");
        assert_eq!(edges[0].len(), 1, "u may assume r");
        assert_eq!(edges[0][0].1.access, Access::Always);
        let spent = Budget::within(std::time::Duration::ZERO, u64::MAX);
        let (edges, incomplete) = assume_graph(&ps, &opts(spent));
        assert!(edges.iter().all(Vec::is_empty));
        assert!(
            incomplete
                .iter()
                .any(|r| r.contains("role assumption was analyzed for the first 0 principals")),
            "{incomplete:?}"
        );
    }
}
