//! The value classes of the time and of each condition key, and how a class reads in
//! words.

use super::*;

/// The time dimension (request defaults on): whole seconds around every constant the
/// policies compare `aws:CurrentTime` or `aws:EpochTime` with.
pub(super) fn time_dim(
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
pub(super) fn time_text(c: &CompiledCondition, secs: i64) -> String {
    if &*c.key == "aws:epochtime" {
        secs.to_string()
    } else {
        crate::values::format_iso8601(secs)
    }
}

pub(super) fn family_name(f: OperatorFamily) -> &'static str {
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
pub(super) fn key_dim(
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
    let candidates = candidates(&u, &display, typed, ctxs, opts, fixed, incomplete);
    let (sigs, elements, words) = classes(&u, &display, candidates, ctxs, opts, incomplete);
    let values = key_values(&display, global, multi, elements, words, opts, incomplete);
    KeyDim {
        lower: display.to_ascii_lowercase(),
        display,
        values,
        conds: u.conds.iter().map(|(i, c)| (*i, (*c).clone())).collect(),
        sigs,
    }
}

/// Values that stand for every class of `u`'s key: representatives of each operator
/// family's constants (the patterns' classes, numbers', dates' and addresses'
/// boundaries) and one value of the key's type, each a value the key may hold.
fn candidates(
    u: &KeyUse<'_>,
    display: &str,
    typed: Option<KeyType>,
    ctxs: &[Arc<Context>],
    opts: &Options,
    fixed: &dyn Fn(&str) -> bool,
    incomplete: &mut Vec<String>,
) -> Vec<String> {
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
    candidates.retain(|v| crate::keys::check_request_value(display, v).is_ok());
    candidates
}

/// The classes of `u`'s key: the distinct signatures (which conditions hold) of the
/// candidates, each with its first candidate and how it reads. Within the budget.
fn classes(
    u: &KeyUse<'_>,
    display: &str,
    candidates: Vec<String>,
    ctxs: &[Arc<Context>],
    opts: &Options,
    incomplete: &mut Vec<String>,
) -> (Vec<Vec<bool>>, Vec<String>, Vec<String>) {
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
    (sigs, elements, words)
}

/// The values of a key's dimension: absence (where it can be absent) and, for a
/// single-valued key, each class; for a multivalued key, each set of classes (all of
/// them up to [`Limits::max_set_classes`], else each alone and all together).
fn key_values(
    display: &str,
    global: Option<&crate::keys::GlobalKey>,
    multi: bool,
    elements: Vec<String>,
    words: Vec<String>,
    opts: &Options,
    incomplete: &mut Vec<String>,
) -> Vec<KeyVal> {
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
    values
}

/// How condition `c` reads for a value that does (`hit`) or does not satisfy its
/// positive form: `= `orders``, `not in 10.0.0.0/8`, `< 5`, `not a number`.
pub(super) fn cond_label(c: &CompiledCondition, v: &str, hit: bool) -> Option<String> {
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
pub(super) fn describe(conds: &[(usize, &CompiledCondition)], v: &str, sig: &[bool]) -> String {
    describe_with(conds, &|_| v.to_owned(), sig)
}

/// [`describe`] with the value each condition sees (the time is text to `aws:CurrentTime`
/// and seconds to `aws:EpochTime`).
pub(super) fn describe_with(
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

pub(super) fn cidr_text(c: &Cidr) -> String {
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
