//! The request space of one region and action group: the dimensions (domains, time,
//! condition keys) and the values that stand for every request.

use super::*;

/// A value of the resource dimension.
#[derive(Debug, Clone)]
pub(super) struct ResVal {
    pub(super) arn: String,
    pub(super) domain: Option<DomainClass>,
    /// Which of [`Space::globs`] its names match.
    pub(super) matched: Vec<bool>,
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
pub(super) struct KeyDim {
    pub(super) display: String,
    /// The key, lowercased.
    pub(super) lower: String,
    pub(super) values: Vec<KeyVal>,
    /// The conditions on the key (side, condition).
    pub(super) conds: Vec<(usize, CompiledCondition)>,
    /// The signature (results of `conds`) of each value class.
    pub(super) sigs: Vec<Vec<bool>>,
}

#[derive(Debug, Clone)]
pub(super) struct KeyVal {
    pub(super) value: Option<ContextValue>,
    pub(super) description: String,
    /// The value classes it holds (`None`: absent).
    pub(super) class: Option<Vec<usize>>,
}

#[derive(Debug, Clone)]
pub(super) struct TimeVal {
    pub(super) sig: Vec<bool>,
    pub(super) secs: i64,
    pub(super) description: String,
}

/// The partitioned request space of one region for one group of actions.
pub(super) struct Space {
    /// Per side: the context every request starts from (time at `Options::now`).
    pub(super) bases: Vec<Arc<Context>>,
    /// Per side, per time value: the same at that time.
    pub(super) time_bases: Vec<Vec<Arc<Context>>>,
    pub(super) region: String,
    /// The one domain of every request, if one ([`fixed_domain`]).
    pub(super) fixed: Option<String>,
    pub(super) resources: Vec<ResVal>,
    pub(super) globs: Vec<Glob>,
    pub(super) time: Vec<TimeVal>,
    pub(super) time_conds: Vec<(usize, CompiledCondition)>,
    pub(super) keys: Vec<KeyDim>,
    pub(super) incomplete: Vec<String>,
}

impl Space {
    pub(super) fn radices(&self) -> Vec<usize> {
        let mut r = vec![self.resources.len(), self.time.len().max(1)];
        r.extend(self.keys.iter().map(|k| k.values.len()));
        r
    }
}

/// What the policies say about one key, gathered from every side's statements.
#[derive(Default)]
pub(super) struct KeyUse<'a> {
    pub(super) display: String,
    pub(super) conds: Vec<(usize, &'a CompiledCondition)>,
}

pub(super) fn is_fixed(side: &Side<'_>, key: &str, defaults: bool) -> bool {
    side.principal.base_context.get_lower(key).is_some()
        || PRINCIPAL_KEYS.contains(&key)
        || key.starts_with("aws:principaltag/")
        || (defaults && DEFAULT_KEYS.contains(&key))
}

/// The context every request of `side` in `region` starts from. A decision inside
/// `RespondDecisionTaskCompleted` carries no `aws:SecureTransport` (nor `aws:SourceIp`
/// or `aws:UserAgent`), as the gate authorizes it.
pub(super) fn fixed_context(
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
pub(super) fn resolve(
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

pub(super) fn token_text(tokens: &[Token]) -> String {
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
pub(super) fn relevant(set: &CompiledPolicySet, i: usize) -> Vec<u32> {
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

pub(super) fn statements<'a>(
    set: &'a CompiledPolicySet,
    ids: &'a [u32],
) -> impl Iterator<Item = &'a CompiledStatement> {
    ids.iter().filter_map(|&i| set.statements.get(i as usize))
}

/// The one domain requests of `action` can name, if one: the action's own (`ListDomains`
/// is authorized on the domain named `*`), else the one asked about.
pub(super) fn fixed_domain<'a>(action: &SwfAction, opts: &'a Options) -> Option<&'a str> {
    action.fixed_domain().or(opts.domain.as_deref())
}

/// Builds the space of one region for the statements `ids[s]` of each side.
pub(super) fn space(
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
pub(super) type Fine = std::sync::OnceLock<(Vec<Glob>, Option<Vec<automaton::Class>>)>;

/// The domain classes of `region`: names partitioned by every resource pattern.
/// Where the requests of a space go: a region, and the one domain they name, if one.
#[derive(Clone, Copy)]
pub(super) struct Target<'a> {
    pub(super) region: &'a str,
    pub(super) fixed: Option<&'a str>,
}

pub(super) fn domains(
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
pub(super) fn domain_globs(
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

pub(super) fn sorted_names(names: &[String], flags: &[bool], want: bool) -> Vec<String> {
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

pub(super) fn describe_names(matches: &[String], except: &[String]) -> String {
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
