//! Access analysis: every request at once, exactly (`swf-iam access`, `who-can`, `diff`).
//!
//! For one principal and one SWF action, the requests that can differ are the domain and
//! the values (or absence) of the context keys the policies test; the principal's own
//! keys are fixed. Each dimension is partitioned by the constants the policies compare it
//! with — domain names by the resource patterns ([`automaton`]), string values by the
//! string patterns, numbers, dates and IP addresses by the constants' boundaries ([`reps`]),
//! multivalued keys by the sets of their values' classes — so that every request behaves
//! like one representative of its cell. Each cell's representative is then decided by
//! [`crate::eval::decide`] itself, so the analysis cannot drift from `check`. Where a
//! bound is reached or a comparison is not partitioned (a policy variable naming another
//! request key, ARN operators on request keys), the answer says `complete: false` and why.

pub mod automaton;
pub mod budget;
pub mod reps;

pub use budget::Budget;

use crate::compile::condition::{CompiledCondition, Values};
use crate::compile::{CompiledPolicySet, CompiledStatement};
use crate::config::PrincipalConfig;
use crate::eval::{self, Context, ContextValue, DecisionKind, Request};
use crate::keys::{global_key, KeyType};
use crate::pattern::Token;
use crate::policy::model::{BaseOperator, OperatorFamily};
use crate::swf::catalog::{SwfAction, ACTIONS};
use crate::values::{parse_instant, Cidr, Decimal, Instant};
use automaton::{Glob, Rules, Sym};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Bounds of the analysis; reaching one makes an answer incomplete, never wrong.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most cells (combinations of classes) decided for one principal and action group.
    pub max_cells: usize,
    /// Most automaton states explored for one partition of strings.
    pub max_states: usize,
    /// Most value classes of a multivalued key whose every subset is tried.
    pub max_set_classes: usize,
    /// The time and memory the whole analysis may spend (unbounded by default; the
    /// command line sets `--time-budget` and `--memory-budget`).
    pub budget: Budget,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_cells: 200_000,
            max_states: 50_000,
            max_set_classes: 10,
            budget: Budget::default(),
        }
    }
}

/// What the requests look like: where domains live and how contexts are filled.
#[derive(Debug, Clone)]
pub struct Options {
    /// Partition of domain ARNs.
    pub partition: String,
    /// Account of the domains.
    pub account: String,
    /// Regions requests go to (each one its own part of the answer).
    pub regions: Vec<String>,
    /// The configuration's default region (`check` uses it for requests on `*`).
    pub default_region: String,
    /// Whether requests carry `check`'s request defaults (`aws:RequestedRegion`,
    /// `aws:SecureTransport` true, `aws:ViaAWSService` false, the time), with keys every
    /// request carries never absent; `false` is `--no-default-context`: every key not the
    /// principal's may be absent or hold any value.
    pub request_defaults: bool,
    /// The time used where no policy tests it (epoch seconds).
    pub now: i64,
    /// Only this domain (`who-can`).
    pub domain: Option<String>,
    /// Bounds.
    pub limits: Limits,
    /// Pattern partitions already computed (shared by clones of the options).
    pub cache: automaton::Cache,
}

/// Keys derived from the principal (fixed for an analysis of that principal).
const PRINCIPAL_KEYS: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:userid",
    "aws:username",
    "aws:principalisawsservice",
];

/// Keys `check`'s request defaults fix (besides the time).
const DEFAULT_KEYS: &[&str] = &[
    "aws:requestedregion",
    "aws:securetransport",
    "aws:viaawsservice",
];

const TIME_KEYS: &[&str] = &["aws:currenttime", "aws:epochtime"];

/// One side of an analysis: a principal and its compiled policies.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// The principal, its policies and its own keys.
    pub principal: &'a PrincipalConfig,
}

impl Side<'_> {
    fn set(&self) -> &CompiledPolicySet {
        &self.principal.compiled
    }
}

/// A value of the resource dimension.
#[derive(Debug, Clone)]
struct ResVal {
    arn: String,
    domain: Option<DomainClass>,
    /// Which of [`Space::globs`] its names match.
    matched: Vec<bool>,
}

/// A class of domain names: the resource patterns its names match and do not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub struct DomainClass {
    /// In words: `` `orders` ``, `` `team-*` except `team-prod` ``, "any other domain".
    pub description: String,
    /// Patterns every name of the class matches.
    pub matches: Vec<String>,
    /// Patterns overlapping those that no name of the class matches.
    pub except: Vec<String>,
    /// A shortest name of the class.
    pub witness: String,
}

#[derive(Debug, Clone)]
struct KeyDim {
    display: String,
    /// The key, lowercased.
    lower: String,
    values: Vec<KeyVal>,
    /// The conditions on the key (side, condition).
    conds: Vec<(usize, CompiledCondition)>,
    /// The signature (results of `conds`) of each value class.
    sigs: Vec<Vec<bool>>,
}

#[derive(Debug, Clone)]
struct KeyVal {
    value: Option<ContextValue>,
    description: String,
    /// The value classes it holds (`None`: absent).
    class: Option<Vec<usize>>,
}

#[derive(Debug, Clone)]
struct TimeVal {
    sig: Vec<bool>,
    secs: i64,
    description: String,
}

/// The partitioned request space of one region for one group of actions.
struct Space {
    /// Per side: the context every request starts from (time at `Options::now`).
    bases: Vec<Arc<Context>>,
    /// Per side, per time value: the same at that time.
    time_bases: Vec<Vec<Arc<Context>>>,
    region: String,
    /// The one domain of every request, if one ([`fixed_domain`]).
    fixed: Option<String>,
    resources: Vec<ResVal>,
    globs: Vec<Glob>,
    time: Vec<TimeVal>,
    time_conds: Vec<(usize, CompiledCondition)>,
    keys: Vec<KeyDim>,
    incomplete: Vec<String>,
}

impl Space {
    fn radices(&self) -> Vec<usize> {
        let mut r = vec![self.resources.len(), self.time.len().max(1)];
        r.extend(self.keys.iter().map(|k| k.values.len()));
        r
    }
}

/// What the policies say about one key, gathered from every side's statements.
#[derive(Default)]
struct KeyUse<'a> {
    display: String,
    conds: Vec<(usize, &'a CompiledCondition)>,
}

fn is_fixed(side: &Side<'_>, key: &str, defaults: bool) -> bool {
    side.principal.base_context.get_lower(key).is_some()
        || PRINCIPAL_KEYS.contains(&key)
        || key.starts_with("aws:principaltag/")
        || (defaults && DEFAULT_KEYS.contains(&key))
}

/// The context every request of `side` in `region` starts from. A decision inside
/// `RespondDecisionTaskCompleted` carries no `aws:SecureTransport` (nor `aws:SourceIp`
/// or `aws:UserAgent`), as the gate authorizes it.
fn fixed_context(
    side: &Side<'_>,
    region: &str,
    opts: &Options,
    secs: i64,
    decision: bool,
) -> Context {
    let mut ctx = Context::over(side.principal.base_context.clone());
    if opts.request_defaults {
        ctx.set_request_defaults(region, secs);
        if decision {
            for k in crate::keys::NOT_IN_DECISIONS {
                ctx.remove(k);
            }
        }
    }
    ctx
}

/// Symbols of a token sequence with fixed variables substituted; `Ok(None)` when a
/// variable has no value (the pattern then matches nothing), `Err` naming a variable on
/// a request key that varies.
fn resolve(
    tokens: &[Token],
    fold_case: bool,
    wild: bool,
    ctx: &Context,
    fixed: &dyn Fn(&str) -> bool,
) -> Result<Option<Vec<Sym>>, String> {
    let mut out = Vec::new();
    for t in tokens {
        match t {
            Token::Lit(l) => out.extend(automaton::literal_syms(l, fold_case)),
            Token::Star if wild => out.push(Sym::Star),
            Token::One if wild => out.push(Sym::One),
            Token::Star => out.extend(automaton::literal_syms("*", fold_case)),
            Token::One => out.extend(automaton::literal_syms("?", fold_case)),
            Token::Var { key, default } => {
                if !fixed(key) {
                    return Err(format!(
                        "a policy variable `${{{key}}}` compares one request value with another; such comparisons are decided but not partitioned"
                    ));
                }
                match crate::pattern::Resolve::var(ctx, key).or(default.as_deref()) {
                    Some(v) => out.extend(automaton::literal_syms(v, fold_case)),
                    None => return Ok(None),
                }
            }
        }
    }
    Ok(Some(out))
}

fn token_text(tokens: &[Token]) -> String {
    let mut s = String::new();
    for t in tokens {
        match t {
            Token::Lit(l) => s.push_str(l),
            Token::Star => s.push('*'),
            Token::One => s.push('?'),
            Token::Var { key, default } => {
                s.push_str("${");
                s.push_str(key);
                if let Some(d) = default {
                    s.push_str(", '");
                    s.push_str(d);
                    s.push('\'');
                }
                s.push('}');
            }
        }
    }
    s
}

/// The statement ids whose action part matches catalog action `i`, ascending.
fn relevant(set: &CompiledPolicySet, i: usize) -> Vec<u32> {
    let Some(b) = set.buckets.get(i) else {
        return Vec::new();
    };
    let mut ids: Vec<u32> = b.rest.to_vec();
    for v in b.exact.values() {
        ids.extend(v.iter().copied());
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn statements<'a>(
    set: &'a CompiledPolicySet,
    ids: &'a [u32],
) -> impl Iterator<Item = &'a CompiledStatement> {
    ids.iter().filter_map(|&i| set.statements.get(i as usize))
}

/// The one domain requests of `action` can name, if one: the action's own (`ListDomains`
/// is authorized on the domain named `*`), else the one asked about.
fn fixed_domain<'a>(action: &SwfAction, opts: &'a Options) -> Option<&'a str> {
    action.fixed_domain().or(opts.domain.as_deref())
}

/// Builds the space of one region for the statements `ids[s]` of each side.
fn space(
    sides: &[Side<'_>],
    ids: &[Vec<u32>],
    action: &SwfAction,
    region: &str,
    opts: &Options,
    fine: &Fine,
) -> Space {
    let has_domain = action.has_domain_resource();
    let mut incomplete: Vec<String> = Vec::new();
    for s in sides {
        if let Some(why) = &s.set().incomplete {
            incomplete.push(format!(
                "not every policy of the principal is known ({why}): every request of it is denied"
            ));
        }
    }
    let ctxs: Vec<Arc<Context>> = sides
        .iter()
        .map(|s| Arc::new(fixed_context(s, region, opts, opts.now, action.decision)))
        .collect();
    let fixed = fixed_domain(action, opts);
    let (resources, globs) = if has_domain {
        domains(
            sides,
            ids,
            Target { region, fixed },
            opts,
            &ctxs,
            fine,
            &mut incomplete,
        )
    } else {
        (
            vec![ResVal {
                arn: "*".into(),
                domain: None,
                matched: Vec::new(),
            }],
            Vec::new(),
        )
    };

    // Condition keys of the statements, by lowercased key.
    let mut uses: BTreeMap<String, KeyUse<'_>> = BTreeMap::new();
    for (si, side) in sides.iter().enumerate() {
        for st in statements(side.set(), &ids[si]) {
            for c in st.conditions.iter() {
                if is_fixed(side, &c.key, opts.request_defaults) {
                    continue;
                }
                // SWF never sends a key the action does not support: it stays absent
                // (with --no-default-context every key may be present).
                if opts.request_defaults
                    && (!action.supports_key(&c.key_display)
                        || action.decision
                            && crate::keys::NOT_IN_DECISIONS
                                .iter()
                                .any(|k| k.eq_ignore_ascii_case(&c.key)))
                {
                    continue;
                }
                let u = uses.entry(c.key.to_string()).or_default();
                if u.display.is_empty() {
                    u.display = c.key_display.to_string();
                }
                u.conds.push((si, c));
            }
        }
    }
    let mut time = Vec::new();
    let mut time_conds = Vec::new();
    if opts.request_defaults {
        let time_uses: Vec<(usize, &CompiledCondition)> = TIME_KEYS
            .iter()
            .filter_map(|k| uses.remove(*k))
            .flat_map(|u| u.conds)
            .collect();
        if !time_uses.is_empty() {
            time = time_dim(sides, &time_uses, region, opts, &mut incomplete);
            time_conds = time_uses.iter().map(|(i, c)| (*i, (*c).clone())).collect();
        }
    }
    let fixed_of = |key: &str| {
        sides
            .iter()
            .all(|s| is_fixed(s, key, opts.request_defaults))
    };
    let keys = uses
        .into_values()
        .map(|u| key_dim(u, &ctxs, opts, &fixed_of, &mut incomplete))
        .collect();
    incomplete.sort();
    incomplete.dedup();
    let time_bases = ctxs
        .iter()
        .map(|b| {
            time.iter()
                .map(|t: &TimeVal| Arc::new(time_context(b, t.secs)))
                .collect()
        })
        .collect();
    Space {
        bases: ctxs,
        time_bases,
        region: region.to_owned(),
        fixed: fixed.map(str::to_owned),
        resources,
        globs,
        time,
        time_conds,
        keys,
        incomplete,
    }
}

/// The domain classes of every resource pattern of the sides' policies in one region,
/// computed on first use and shared by the action groups.
type Fine = std::sync::OnceLock<(Vec<Glob>, Option<Vec<automaton::Class>>)>;

/// The domain classes of `region`: names partitioned by every resource pattern.
/// Where the requests of a space go: a region, and the one domain they name, if one.
#[derive(Clone, Copy)]
struct Target<'a> {
    region: &'a str,
    fixed: Option<&'a str>,
}

fn domains(
    sides: &[Side<'_>],
    ids: &[Vec<u32>],
    Target { region, fixed }: Target<'_>,
    opts: &Options,
    ctxs: &[Arc<Context>],
    fine: &Fine,
    incomplete: &mut Vec<String>,
) -> (Vec<ResVal>, Vec<Glob>) {
    let arn_of = |name: &str| {
        format!(
            "arn:{}:swf:{region}:{}:/domain/{name}",
            opts.partition, opts.account
        )
    };
    // One domain only: the action's own (`ListDomains`: the domain named `*`), or the
    // one asked about (`who-can --domain`).
    if let Some(d) = fixed {
        let val = ResVal {
            arn: arn_of(d),
            domain: Some(DomainClass {
                description: format!("`{d}`"),
                matches: vec![d.to_owned()],
                except: Vec::new(),
                witness: d.to_owned(),
            }),
            matched: Vec::new(),
        };
        return (vec![val], Vec::new());
    }
    let (globs, names) = domain_globs(sides, ids, region, opts, ctxs, incomplete);
    let rules = Rules {
        min_len: 1,
        max_len: 256,
        domain_name: true,
        max_states: opts.limits.max_states,
    };
    // The classes of every resource pattern of the principal's policies (computed once
    // and remembered), projected on this group's patterns: the finer partition refines
    // the group's, so every class of the group is the image of one of them, and the
    // first (shortest) witness of each image is a shortest one.
    let fine = fine.get_or_init(|| {
        let all: Vec<Vec<u32>> = sides
            .iter()
            .map(|s| (0..s.set().statements.len() as u32).collect())
            .collect();
        let (every, _) = domain_globs(sides, &all, region, opts, ctxs, &mut Vec::new());
        let classes = automaton::classes(&every, rules, opts.limits.budget).ok();
        (every, classes)
    });
    let index: Option<Vec<usize>> = globs
        .iter()
        .map(|g| fine.0.iter().position(|e| e == g))
        .collect();
    let projected = index.and_then(|index| {
        let mut out: Vec<automaton::Class> = Vec::new();
        for c in fine.1.as_ref()? {
            let matched: Vec<bool> = index.iter().map(|&i| c.matched[i]).collect();
            if !out.iter().any(|o| o.matched == matched) {
                out.push(automaton::Class {
                    matched,
                    witness: c.witness.clone(),
                });
            }
        }
        Some(out)
    });
    let classes = match projected {
        Some(c) => c,
        None => match opts.cache.classes(&globs, rules, opts.limits.budget) {
            Ok(c) => c,
            Err(e) => {
                incomplete.push(e.reason("the domain patterns"));
                e.found
            }
        },
    };
    // Patterns every class matches (`/domain/*`) say nothing about a class.
    let universal: Vec<bool> = (0..names.len())
        .map(|i| classes.iter().all(|c| c.matched[i]))
        .collect();
    let exact: Vec<bool> = globs
        .iter()
        .map(|g| !g.syms.iter().any(|s| matches!(s, Sym::Star | Sym::One)))
        .collect();
    let mut out: Vec<ResVal> = classes
        .iter()
        .map(|c| {
            let matches: Vec<String> = sorted_names(&names, &c.matched, true);
            let telling: Vec<bool> = (0..names.len())
                .map(|i| c.matched[i] && !universal[i])
                .collect();
            let exact_hits: Vec<bool> = (0..names.len()).map(|i| telling[i] && exact[i]).collect();
            let shown = if exact_hits.contains(&true) {
                sorted_names(&names, &exact_hits, true)
            } else {
                sorted_names(&names, &telling, true)
            };
            // Patterns this class does not match but that overlap what it matches.
            let mut except: Vec<String> = names
                .iter()
                .enumerate()
                .filter(|(i, _)| {
                    !c.matched[*i]
                        && classes.iter().any(|o| {
                            o.matched[*i]
                                && c.matched.iter().zip(&o.matched).all(|(a, b)| !*a || *b)
                        })
                })
                .map(|(_, n)| n.clone())
                .collect();
            except.sort();
            except.dedup();
            let description = if shown.len() == matches.len() || !exact_hits.contains(&true) {
                describe_names(&shown, &except)
            } else {
                describe_names(&shown, &[])
            };
            ResVal {
                arn: arn_of(&c.witness),
                domain: Some(DomainClass {
                    description,
                    matches,
                    except,
                    witness: c.witness.clone(),
                }),
                matched: c.matched.clone(),
            }
        })
        .collect();
    out.sort_by(|a, b| a.domain.cmp(&b.domain));
    (out, globs)
}

/// The resource patterns of statements `ids[s]` that can match a domain ARN of
/// `region`, as automaton patterns over the domain name (with how each is written).
fn domain_globs(
    sides: &[Side<'_>],
    ids: &[Vec<u32>],
    region: &str,
    opts: &Options,
    ctxs: &[Arc<Context>],
    incomplete: &mut Vec<String>,
) -> (Vec<Glob>, Vec<String>) {
    let subject = ["arn", &opts.partition, "swf", region, &opts.account];
    let mut globs: Vec<Glob> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (si, side) in sides.iter().enumerate() {
        let fixed = |k: &str| is_fixed(side, k, opts.request_defaults);
        for st in statements(side.set(), &ids[si]) {
            for p in st.resources.patterns.iter() {
                let fields = p.fields();
                if p.is_any() || fields.is_empty() || fields.len() > 6 {
                    continue;
                }
                let last = fields.len() - 1;
                if !fields[..last]
                    .iter()
                    .zip(subject)
                    .all(|(f, s)| f.matches_with(s, &*ctxs[si], false))
                {
                    continue;
                }
                let mut prefix = subject[last..].join(":");
                if last < 5 {
                    prefix.push(':');
                }
                prefix.push_str("/domain/");
                let tokens = fields[last].to_tokens();
                let syms = match resolve(&tokens, false, true, &ctxs[si], &fixed) {
                    Ok(Some(s)) => s,
                    Ok(None) => continue,
                    Err(e) => {
                        incomplete.push(e);
                        continue;
                    }
                };
                if globs.iter().any(|g| g.syms == syms && g.prefix == prefix) {
                    continue;
                }
                let text = token_text(&tokens);
                let name = match (last, text.strip_prefix("/domain/")) {
                    (5, Some(n)) => n.to_owned(),
                    _ => fields
                        .iter()
                        .map(|f| token_text(&f.to_tokens()))
                        .collect::<Vec<_>>()
                        .join(":"),
                };
                globs.push(Glob { syms, prefix });
                names.push(name);
            }
        }
    }
    (globs, names)
}

fn sorted_names(names: &[String], flags: &[bool], want: bool) -> Vec<String> {
    let mut v: Vec<String> = names
        .iter()
        .zip(flags)
        .filter(|(_, f)| **f == want)
        .map(|(n, _)| n.clone())
        .collect();
    v.sort();
    v.dedup();
    v
}

fn describe_names(matches: &[String], except: &[String]) -> String {
    let q = |v: &[String]| {
        v.iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (matches.is_empty(), except.is_empty()) {
        (true, true) => "any domain".to_owned(),
        (true, false) => format!("any domain except {}", q(except)),
        (false, true) => q(matches),
        (false, false) => format!("{} except {}", q(matches), q(except)),
    }
}

/// The time dimension (request defaults on): whole seconds around every constant the
/// policies compare `aws:CurrentTime` or `aws:EpochTime` with.
fn time_dim(
    sides: &[Side<'_>],
    conds: &[(usize, &CompiledCondition)],
    region: &str,
    opts: &Options,
    incomplete: &mut Vec<String>,
) -> Vec<TimeVal> {
    let mut constants: Vec<Instant> = Vec::new();
    for (_, c) in conds {
        match &c.values {
            Values::Date(v) => constants.extend(v.iter().flatten().copied()),
            Values::Numeric(v) => {
                constants.extend(v.iter().flatten().filter_map(|t| parse_instant(t)));
            }
            Values::Bool(_) if c.op.base == BaseOperator::Null => {}
            _ => incomplete.push(format!(
                "`{}` is compared with {} operators; only date and numeric comparisons of the time are partitioned",
                c.key_display,
                family_name(c.op.base.family())
            )),
        }
    }
    constants.sort();
    constants.dedup();
    let mut seen: Vec<Vec<bool>> = Vec::new();
    let mut out = Vec::new();
    for secs in reps::seconds(&constants) {
        let sig: Vec<bool> = conds
            .iter()
            .map(|(si, c)| {
                let ctx = fixed_context(&sides[*si], region, opts, secs, false);
                eval::value_matches(c, &time_text(c, secs), &ctx)
            })
            .collect();
        if seen.contains(&sig) {
            continue;
        }
        let description = describe_with(conds, &|c| time_text(c, secs), &sig);
        seen.push(sig.clone());
        out.push(TimeVal {
            sig,
            secs,
            description,
        });
    }
    out
}

/// The time as the key of `c` holds it: seconds for `aws:EpochTime`, else ISO 8601.
fn time_text(c: &CompiledCondition, secs: i64) -> String {
    if &*c.key == "aws:epochtime" {
        secs.to_string()
    } else {
        crate::values::format_iso8601(secs)
    }
}

fn family_name(f: OperatorFamily) -> &'static str {
    match f {
        OperatorFamily::String => "string",
        OperatorFamily::Numeric => "numeric",
        OperatorFamily::Date => "date",
        OperatorFamily::Bool => "Bool",
        OperatorFamily::Binary => "binary",
        OperatorFamily::Ip => "IP address",
        OperatorFamily::Arn => "ARN",
        OperatorFamily::Null => "Null",
    }
}

/// One key's dimension: absence (where possible) and a representative of every class.
fn key_dim(
    u: KeyUse<'_>,
    ctxs: &[Arc<Context>],
    opts: &Options,
    fixed: &dyn Fn(&str) -> bool,
    incomplete: &mut Vec<String>,
) -> KeyDim {
    let display = u.display.clone();
    let global = global_key(&display);
    let typed = global.map(|g| g.ty);
    let multi =
        global.is_some_and(|g| g.multivalued) || u.conds.iter().any(|(_, c)| c.op.set.is_some());
    let mut families: Vec<OperatorFamily> = u
        .conds
        .iter()
        .map(|(_, c)| c.op.base.family())
        .filter(|f| !matches!(f, OperatorFamily::Null))
        .collect();
    families.sort_by_key(|f| family_name(*f));
    families.dedup();
    if families.len() > 1 {
        incomplete.push(format!(
            "`{display}` is compared with {} operators; each family is partitioned, their combinations are not",
            families
                .iter()
                .map(|f| family_name(*f))
                .collect::<Vec<_>>()
                .join(" and ")
        ));
    }
    // Candidate values from every family's constants.
    let mut candidates: Vec<String> = Vec::new();
    let mut strs: Vec<Vec<Sym>> = Vec::new();
    let mut nums: Vec<String> = Vec::new();
    let mut dates: Vec<Instant> = Vec::new();
    let mut cidrs: Vec<Cidr> = Vec::new();
    for (si, c) in &u.conds {
        let ctx = &ctxs[*si];
        match &c.values {
            Values::Exact(ts) | Values::Folded(ts) => {
                let fold = matches!(c.values, Values::Folded(_));
                for t in ts.iter() {
                    let tokens: Vec<Token> = t
                        .pieces()
                        .iter()
                        .map(|p| match p {
                            crate::compile::template::Piece::Lit(l) => Token::Lit(l.clone()),
                            crate::compile::template::Piece::Var(k, d) => Token::Var {
                                key: k.clone(),
                                default: d.clone(),
                            },
                        })
                        .collect();
                    match resolve(&tokens, fold, false, ctx, fixed) {
                        Ok(Some(syms)) => strs.push(syms),
                        Ok(None) => {}
                        Err(e) => incomplete.push(e),
                    }
                }
            }
            Values::Like(ps) => {
                for p in ps.iter() {
                    let tokens = p.to_tokens();
                    match resolve(&tokens, false, true, ctx, fixed) {
                        Ok(Some(syms)) => strs.push(syms),
                        Ok(None) => {}
                        Err(e) => incomplete.push(e),
                    }
                }
            }
            Values::Numeric(v) => nums.extend(v.iter().flatten().map(|s| s.to_string())),
            Values::Date(v) => dates.extend(v.iter().flatten().copied()),
            Values::Bool(_) => candidates.extend(["true".to_owned(), "false".to_owned()]),
            Values::Ip(v) => cidrs.extend(v.iter().flatten().copied()),
            Values::Binary(v) => {
                use base64::Engine;
                let e = base64::engine::general_purpose::STANDARD;
                candidates.extend(v.iter().flatten().map(|b| e.encode(b)));
                candidates.push(e.encode(b"swf-iam"));
            }
            Values::Arn(ps) => {
                incomplete.push(format!(
                    "`{display}` is compared with ARN operators; their values are tried but not partitioned"
                ));
                for p in ps.iter() {
                    candidates.push(
                        p.fields()
                            .iter()
                            .map(|f| token_text(&f.to_tokens()).replace(['*', '?'], "x"))
                            .collect::<Vec<_>>()
                            .join(":"),
                    );
                }
            }
        }
    }
    if !strs.is_empty() {
        let globs: Vec<Glob> = strs
            .iter()
            .map(|s| Glob {
                syms: s.clone(),
                prefix: String::new(),
            })
            .collect();
        let rules = Rules {
            min_len: 0,
            max_len: 4096,
            domain_name: false,
            max_states: opts.limits.max_states,
        };
        match opts.cache.classes(&globs, rules, opts.limits.budget) {
            Ok(cs) => candidates.extend(cs.into_iter().map(|c| c.witness)),
            Err(e) => {
                incomplete.push(e.reason(&format!("the values `{display}` is compared with")));
                candidates.extend(e.found.into_iter().map(|c| c.witness));
            }
        }
    }
    if !nums.is_empty() {
        let refs: Vec<&str> = nums.iter().map(String::as_str).collect();
        match reps::numeric(&refs) {
            Some(v) => candidates.extend(v),
            None => {
                incomplete.push(format!(
                    "`{display}` is compared with numbers too long to partition exactly"
                ));
                candidates.extend(nums.iter().cloned());
            }
        }
    }
    if !dates.is_empty() {
        candidates.extend(reps::dates(&dates));
    }
    if !cidrs.is_empty() {
        candidates.extend(reps::ips(&cidrs));
    }
    // One value of the key's type whatever the operators (a key tested only by `Null`
    // still takes values); `x` is no number, date, boolean or address.
    match typed {
        None | Some(KeyType::String) | Some(KeyType::Arn) => candidates.push("x".into()),
        Some(KeyType::Numeric) => candidates.push("0".into()),
        Some(KeyType::Date) => candidates.push("1970-01-01T00:00:00Z".into()),
        Some(KeyType::Bool) => candidates.extend(["true".into(), "false".into()]),
        Some(KeyType::Ip) => candidates.extend(["0.0.0.0".into(), "::".into()]),
    }
    candidates.retain(|v| crate::keys::check_request_value(&display, v).is_ok());
    // Classes: distinct signatures over every condition on the key.
    let mut sigs: Vec<Vec<bool>> = Vec::new();
    let mut seen: std::collections::HashSet<Vec<bool>> = std::collections::HashSet::new();
    let mut elements: Vec<String> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut meter = budget::Meter::new(opts.limits.budget);
    for v in candidates {
        if meter.step() {
            incomplete.push(format!(
                "the value classes of `{display}` were not all described: {}",
                meter.reason().unwrap_or_default()
            ));
            break;
        }
        let sig: Vec<bool> = u
            .conds
            .iter()
            .map(|(si, c)| eval::value_matches(c, &v, &ctxs[*si]))
            .collect();
        if seen.insert(sig.clone()) {
            words.push(describe(&u.conds, &v, &sig));
            sigs.push(sig);
            elements.push(v);
        }
    }
    let positions: HashMap<&str, usize> = elements
        .iter()
        .enumerate()
        .map(|(i, e)| (e.as_str(), i))
        .collect();
    let word = |v: &String| -> String {
        positions
            .get(v.as_str())
            .and_then(|&i| words.get(i).cloned())
            .unwrap_or_default()
    };
    let mut values: Vec<KeyVal> = Vec::new();
    let always = opts.request_defaults && global.is_some_and(|g| g.always_present);
    if !always {
        values.push(KeyVal {
            value: None,
            description: "absent".into(),
            class: None,
        });
    }
    if multi {
        let m = elements.len();
        if m > opts.limits.max_set_classes {
            incomplete.push(format!(
                "`{display}` is multivalued with {m} value classes; only single values and the set of all were tried"
            ));
            for (i, e) in elements.iter().enumerate() {
                values.push(KeyVal {
                    value: Some(ContextValue::Multi(vec![e.clone()])),
                    description: format!("[{}]", word(e)),
                    class: Some(vec![i]),
                });
            }
            values.push(KeyVal {
                class: Some((0..m).collect()),
                value: Some(ContextValue::Multi(elements.clone())),
                description: format!(
                    "[{}]",
                    elements.iter().map(&word).collect::<Vec<_>>().join("; ")
                ),
            });
        } else {
            for mask in 1u32..(1u32 << m) {
                let set: Vec<String> = (0..m)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| elements[i].clone())
                    .collect();
                let description =
                    format!("[{}]", set.iter().map(&word).collect::<Vec<_>>().join("; "));
                values.push(KeyVal {
                    value: Some(ContextValue::Multi(set)),
                    description,
                    class: Some((0..m).filter(|i| mask & (1 << i) != 0).collect()),
                });
            }
        }
    } else {
        for (i, (e, description)) in elements.into_iter().zip(words).enumerate() {
            values.push(KeyVal {
                value: Some(ContextValue::Single(e)),
                description,
                class: Some(vec![i]),
            });
        }
    }
    KeyDim {
        lower: display.to_ascii_lowercase(),
        display,
        values,
        conds: u.conds.iter().map(|(i, c)| (*i, (*c).clone())).collect(),
        sigs,
    }
}

/// How condition `c` reads for a value that does (`hit`) or does not satisfy its
/// positive form: `= `orders``, `not in 10.0.0.0/8`, `< 5`, `not a number`.
fn cond_label(c: &CompiledCondition, v: &str, hit: bool) -> Option<String> {
    let q = |items: Vec<String>| items.join(" or ");
    let ticks = |items: &[String]| items.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>();
    let none_of = |items: Vec<String>| {
        if items.len() == 1 {
            items.into_iter().next().unwrap_or_default()
        } else {
            format!("none of {}", items.join(", "))
        }
    };
    let cmp = |pos: bool| -> &'static str {
        use BaseOperator::*;
        match (c.op.base, pos) {
            (NumericLessThan | DateLessThan, true) => "<",
            (NumericLessThan | DateLessThan, false) => "≥",
            (NumericLessThanEquals | DateLessThanEquals, true) => "≤",
            (NumericLessThanEquals | DateLessThanEquals, false) => ">",
            (NumericGreaterThan | DateGreaterThan, true) => ">",
            (NumericGreaterThan | DateGreaterThan, false) => "≤",
            (NumericGreaterThanEquals | DateGreaterThanEquals, true) => "≥",
            (NumericGreaterThanEquals | DateGreaterThanEquals, false) => "<",
            (_, true) => "=",
            (_, false) => "≠",
        }
    };
    let compare = |texts: Vec<String>| -> String {
        let sym = cmp(hit);
        let parts: Vec<String> = texts.iter().map(|t| format!("{sym} {t}")).collect();
        if hit {
            parts.join(" or ")
        } else {
            parts.join(" and ")
        }
    };
    Some(match &c.values {
        Values::Exact(ts) | Values::Folded(ts) => {
            let texts: Vec<String> = ts
                .iter()
                .map(|t| {
                    t.pieces()
                        .iter()
                        .map(|p| match p {
                            crate::compile::template::Piece::Lit(l) => l.to_string(),
                            crate::compile::template::Piece::Var(k, _) => format!("${{{k}}}"),
                        })
                        .collect::<String>()
                })
                .collect();
            let case = if matches!(c.values, Values::Folded(_)) {
                " (any case)"
            } else {
                ""
            };
            if hit {
                format!("= {}{case}", q(ticks(&texts)))
            } else {
                format!("≠ {}{case}", none_of(ticks(&texts)))
            }
        }
        Values::Like(ps) => {
            let texts: Vec<String> = ps.iter().map(|p| token_text(&p.to_tokens())).collect();
            if hit {
                format!("like {}", q(ticks(&texts)))
            } else {
                format!("not like {}", none_of(ticks(&texts)))
            }
        }
        Values::Numeric(ns) => {
            if Decimal::parse(v).is_none() {
                return Some("not a number".into());
            }
            compare(ns.iter().flatten().map(|n| n.to_string()).collect())
        }
        Values::Date(ds) => {
            if parse_instant(v).is_none() {
                return Some("not a date".into());
            }
            compare(ds.iter().flatten().map(|d| reps::iso(*d)).collect())
        }
        Values::Ip(cs) => {
            if v.parse::<std::net::IpAddr>().is_err() {
                return Some("not an IP address".into());
            }
            let texts: Vec<String> = cs.iter().flatten().map(cidr_text).collect();
            let list = match texts.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
                _ => texts.join(""),
            };
            if hit {
                format!("in {list}")
            } else {
                format!("not in {list}")
            }
        }
        Values::Bool(_) if c.op.base == BaseOperator::Null => return None,
        Values::Bool(_) => match crate::values::parse_bool(v) {
            Some(b) => format!("= {b}"),
            None => "not a boolean".into(),
        },
        Values::Binary(_) => {
            if hit {
                "= one of the policy's binary values".into()
            } else {
                "≠ the policy's binary values".into()
            }
        }
        Values::Arn(ps) => {
            let texts: Vec<String> = ps
                .iter()
                .map(|p| {
                    p.fields()
                        .iter()
                        .map(|f| token_text(&f.to_tokens()))
                        .collect::<Vec<_>>()
                        .join(":")
                })
                .collect();
            if hit {
                format!("like ARN {}", q(ticks(&texts)))
            } else {
                format!("not like ARN {}", none_of(ticks(&texts)))
            }
        }
    })
}

/// Words for a value: how it compares with each condition on its key (distinct labels).
fn describe(conds: &[(usize, &CompiledCondition)], v: &str, sig: &[bool]) -> String {
    describe_with(conds, &|_| v.to_owned(), sig)
}

/// [`describe`] with the value each condition sees (the time is text to `aws:CurrentTime`
/// and seconds to `aws:EpochTime`).
fn describe_with(
    conds: &[(usize, &CompiledCondition)],
    value: &dyn Fn(&CompiledCondition) -> String,
    sig: &[bool],
) -> String {
    let mut labels: Vec<String> = Vec::new();
    for ((_, c), &hit) in conds.iter().zip(sig) {
        if let Some(l) = cond_label(c, &value(c), hit) {
            if !labels.contains(&l) {
                labels.push(l);
            }
        }
    }
    if labels.is_empty() {
        return "present".into();
    }
    labels.join(", ")
}

fn cidr_text(c: &Cidr) -> String {
    let (a, b) = c.range();
    let bits = match (a, b) {
        (std::net::IpAddr::V4(x), std::net::IpAddr::V4(y)) => {
            32 - (u32::from(x) ^ u32::from(y)).count_ones()
        }
        (std::net::IpAddr::V6(x), std::net::IpAddr::V6(y)) => {
            128 - (u128::from(x) ^ u128::from(y)).count_ones()
        }
        _ => 0,
    };
    format!("{a}/{bits}")
}

/// A set of requests that all decide alike on every side: a cube of value sets, one
/// set per dimension (resource, time, keys...), with its representative decided.
struct Cell {
    /// The values per dimension the cube spans; the first of each is the representative.
    sets: Vec<Vec<usize>>,
    /// The representative's decision per side.
    decisions: Vec<DecisionKind>,
}

impl Cell {
    /// The representative request's value per dimension.
    fn representative(&self) -> Vec<usize> {
        self.sets
            .iter()
            .map(|s| s.first().copied().unwrap_or(0))
            .collect()
    }
}

/// Three-valued truth while some dimensions are still open.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Truth {
    Yes,
    No,
    Open,
}

/// One statement of one side, prepared for exploration: whether it applies, per value
/// of each dimension it depends on.
struct Prepared {
    deny: bool,
    layer: crate::compile::Layer,
    /// Whether the resource part matches, per resource value.
    resource: Vec<bool>,
    /// Per condition: the dimension it depends on and whether it holds per value
    /// (`None` for a condition on a fixed key: then `fixed`).
    conds: Vec<(usize, Vec<bool>)>,
    /// Whether the conditions on fixed keys all hold.
    fixed: bool,
}

fn prepare(si: usize, side: &Side<'_>, ids: &[u32], space: &Space) -> Vec<Prepared> {
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
fn settled(prepared: &[Prepared], set: &CompiledPolicySet, at: &[usize], open: &[bool]) -> bool {
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
fn decide_all(
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

struct Explore<'a, 'b> {
    sides: &'a [Side<'b>],
    prepared: &'a [Vec<Prepared>],
    space: &'a Space,
    action: &'a str,
    radices: &'a [usize],
    order: &'a [usize],
    out: &'a mut Vec<Cell>,
    limit: usize,
    truncated: &'a mut bool,
    meter: &'a mut budget::Meter,
}

fn explore(e: &mut Explore<'_, '_>, depth: usize, at: &mut Vec<usize>, open: &mut Vec<bool>) {
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

fn context_of(si: usize, space: &Space, at: &[usize]) -> Context {
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
fn time_context(base: &Arc<Context>, secs: i64) -> Context {
    let mut ctx = Context::over(base.clone());
    ctx.set_known("aws:CurrentTime", crate::values::format_iso8601(secs));
    ctx.set_known("aws:EpochTime", secs.to_string());
    ctx
}

/// The `check --requests` line of a cell: replaying it with `check` decides it again.
fn witness(side: &Side<'_>, space: &Space, at: &[usize], action: &str, opts: &Options) -> Value {
    let mut o = Map::new();
    o.insert("principal".into(), json!(side.principal.principal.arn));
    o.insert("action".into(), json!(action));
    o.insert("resource".into(), json!(space.resources[at[0]].arn));
    let mut ctx = Map::new();
    let secs = space.time.get(at[1]).map_or(opts.now, |t| t.secs);
    // A decision carries the request defaults but no `aws:SecureTransport`: `check` is
    // told exactly which keys it has.
    let decision =
        opts.request_defaults && crate::swf::catalog::action(action).is_some_and(|a| a.decision);
    if decision {
        ctx.insert("aws:RequestedRegion".into(), json!(space.region));
        // The time only where a policy reads it (the replay decides alike without).
        if side.set().reads_time() {
            ctx.insert(
                "aws:CurrentTime".into(),
                json!(crate::values::format_iso8601(secs)),
            );
            ctx.insert("aws:EpochTime".into(), json!(secs.to_string()));
        }
        ctx.insert("aws:ViaAWSService".into(), json!("false"));
    } else if opts.request_defaults
        && space.resources[at[0]].arn == "*"
        && space.region != opts.default_region
    {
        ctx.insert("aws:RequestedRegion".into(), json!(space.region));
    }
    for (k, &i) in space.keys.iter().zip(&at[2..]) {
        match k.values.get(i).and_then(|v| v.value.as_ref()) {
            Some(ContextValue::Single(s)) => {
                ctx.insert(k.display.clone(), json!(s));
            }
            Some(ContextValue::Multi(v)) => {
                ctx.insert(k.display.clone(), json!(v));
            }
            None => {}
        }
    }
    if !ctx.is_empty() {
        o.insert("context".into(), Value::Object(ctx));
    }
    if opts.request_defaults && !decision {
        // The time only where a policy reads it: a witness (and a snapshot of it) does
        // not depend on when it was found otherwise.
        if side.set().reads_time() {
            o.insert("now".into(), json!(crate::values::format_iso8601(secs)));
        }
    } else {
        o.insert("defaultContext".into(), json!(false));
    }
    Value::Object(o)
}

/// A set of requests in words: the domains (empty: any), and the conditions on keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Extent {
    /// The region.
    pub region: String,
    /// The domain classes (empty: every domain, or no domain resource).
    pub domains: Vec<DomainClass>,
    /// Conditions on the time and on context keys (empty: none).
    pub when: Vec<KeyCondition>,
    /// One request of the set, as a `check --requests` line.
    pub witness: Value,
}

/// The values a key may take in an [`Extent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyCondition {
    /// The key as the policies write it (`aws:CurrentTime` for the time).
    pub key: String,
    /// Its classes, in words (any one of them).
    pub values: Vec<String>,
}

/// Merges cells into cubes: groups of cells that agree on every dimension but one
/// become one cell with the union of that dimension's values, until nothing merges.
/// A spent budget stops merging: the cubes then still cover exactly the cells, in more
/// pieces.
fn cubes(cells: &[&Cell], dims: usize, budget: Budget) -> Vec<Vec<Vec<usize>>> {
    let mut cs: Vec<Vec<Vec<usize>>> = cells.iter().map(|c| c.sets.clone()).collect();
    let mut meter = budget::Meter::new(budget);
    loop {
        let before = cs.len();
        for d in (0..dims).rev() {
            if meter.step() {
                return cs;
            }
            let mut groups: BTreeMap<Vec<Vec<usize>>, Vec<usize>> = BTreeMap::new();
            for c in cs.drain(..) {
                let mut key = c.clone();
                let vals = std::mem::take(&mut key[d]);
                groups.entry(key).or_default().extend(vals);
            }
            cs = groups
                .into_iter()
                .map(|(mut k, mut v)| {
                    v.sort_unstable();
                    v.dedup();
                    k[d] = v;
                    k
                })
                .collect();
        }
        if cs.len() == before {
            break;
        }
    }
    cs
}

fn extents(
    side: &Side<'_>,
    space: &Space,
    cells: &[&Cell],
    action: &str,
    opts: &Options,
) -> Vec<Extent> {
    let radices = space.radices();
    let mut out = Vec::new();
    for cube in cubes(cells, radices.len(), opts.limits.budget) {
        let first: Vec<usize> = cube.iter().map(|v| v[0]).collect();
        let domains = if cube[0].len() == space.resources.len() && space.fixed.is_none() {
            Vec::new()
        } else {
            cube[0]
                .iter()
                .filter_map(|&i| space.resources[i].domain.clone())
                .collect()
        };
        let mut when = Vec::new();
        if !space.time.is_empty() && cube[1].len() < space.time.len() {
            when.push(KeyCondition {
                key: "aws:CurrentTime".into(),
                values: cube[1]
                    .iter()
                    .map(|&i| space.time[i].description.clone())
                    .collect(),
            });
        }
        for (k, vals) in space.keys.iter().zip(&cube[2..]) {
            if vals.len() < k.values.len() {
                when.push(KeyCondition {
                    key: k.display.clone(),
                    values: vals
                        .iter()
                        .map(|&i| k.values[i].description.clone())
                        .collect(),
                });
            }
        }
        out.push(Extent {
            region: space.region.clone(),
            domains,
            when,
            witness: witness(side, space, &first, action, opts),
        });
    }
    out
}

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
type Group = (Vec<Vec<u32>>, bool, Vec<&'static SwfAction>);

/// Actions grouped by the statements that apply to them (and whether they have a
/// domain resource): every action of a group decides every request alike.
fn groups(sides: &[Side<'_>], actions: &[&'static SwfAction]) -> Vec<Group> {
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
    opts: Options,
    spaces: Vec<(Space, Vec<Cell>)>,
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
type Fingerprint = (String, Vec<(String, String)>, Vec<(String, String)>);

fn fingerprint(p: &PrincipalConfig) -> Fingerprint {
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
fn same_statements(sides: &[Side<'_>], ids: &[Vec<u32>]) -> bool {
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

/// The principals of a configuration keyed by ARN (for [`diff`]).
pub fn by_arn(principals: &[PrincipalConfig]) -> HashMap<&str, &PrincipalConfig> {
    principals
        .iter()
        .map(|p| (p.principal.arn.as_str(), p))
        .collect()
}

/// Every SWF action of the catalog (operations and decisions), as [`access`] takes them.
pub fn all_actions() -> Vec<&'static SwfAction> {
    ACTIONS.iter().collect()
}
