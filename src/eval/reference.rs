//! The reference evaluator: a small, obviously-correct transcription of IAM's rules that
//! works on the policy documents directly (no compilation, no index, exponential
//! wildcard matching). Tests check that [`super::decide`] always agrees with it.

use super::{Context, ContextValue, DecisionKind, Request};
use crate::compile::PolicySet;
use crate::policy::model::{
    BaseOperator, Effect, OperatorFamily, PolicyDocument, SetOperator, Statement, Version,
};
use crate::policy::variables::{scan, Segment};
use crate::values::{parse_bool, parse_instant, Cidr, Decimal};

/// A pattern character: literal, `?` or `*`.
#[derive(Clone, Copy, PartialEq)]
enum C {
    Ch(char),
    One,
    Star,
}

fn naive(p: &[C], s: &[char]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((C::Star, rest)) => (0..=s.len()).any(|i| naive(rest, &s[i..])),
        Some((C::One, rest)) => !s.is_empty() && naive(rest, &s[1..]),
        Some((C::Ch(c), rest)) => s.first() == Some(c) && naive(rest, &s[1..]),
    }
}

/// Substitutes variables (2012-10-17 only) into pattern characters; `None` when a
/// variable has no value and no default.
fn substitute(text: &str, v2012: bool, wild: bool, ctx: &Context) -> Option<Vec<C>> {
    let lit = |t: &str, out: &mut Vec<C>| {
        for ch in t.chars() {
            out.push(match ch {
                '*' if wild => C::Star,
                '?' if wild => C::One,
                c => C::Ch(c),
            });
        }
    };
    let mut out = Vec::new();
    if !v2012 {
        lit(text, &mut out);
        return Some(out);
    }
    for seg in scan(text).segments {
        match seg {
            Segment::Text(t) => lit(t, &mut out),
            Segment::Escaped(c) => out.push(C::Ch(c)),
            Segment::Variable { key, default } => {
                let v = match ctx.get(key) {
                    Some(ContextValue::Single(s)) => s.clone(),
                    _ => default?.to_owned(),
                };
                out.extend(v.chars().map(C::Ch));
            }
        }
    }
    Some(out)
}

fn arn_matches(pattern: &str, v2012: bool, arn: &str, ctx: &Context) -> bool {
    if pattern == "*" {
        return true;
    }
    if arn == "*" {
        return false;
    }
    // Which bytes are plain text, outside `${...}` (2008-10-17: all of them).
    let mut is_text = vec![!v2012; pattern.len()];
    if v2012 {
        let base = pattern.as_ptr() as usize;
        for seg in scan(pattern).segments {
            if let Segment::Text(t) = seg {
                let start = (t.as_ptr() as usize).saturating_sub(base);
                for flag in is_text.iter_mut().skip(start).take(t.len()) {
                    *flag = true;
                }
            }
        }
    }
    // Fields end at the first five colons of plain text (a variable's colon never splits).
    let mut ranges = Vec::new();
    let mut start = 0;
    for (i, b) in pattern.bytes().enumerate() {
        if b == b':' && is_text[i] && ranges.len() < 5 {
            ranges.push(start..i);
            start = i + 1;
        }
    }
    ranges.push(start..pattern.len());
    let mut pats = Vec::new();
    for (k, r) in ranges.iter().enumerate() {
        let raw = &pattern[r.clone()];
        if k == 5 {
            // The resource field: variables are substituted.
            match substitute(raw, v2012, true, ctx) {
                Some(p) => pats.push(p),
                None => return false,
            }
        } else {
            // Before the fifth colon, a variable is the literal text written.
            pats.push(
                raw.char_indices()
                    .map(|(i, ch)| match ch {
                        '*' if is_text[r.start + i] => C::Star,
                        '?' if is_text[r.start + i] => C::One,
                        c => C::Ch(c),
                    })
                    .collect(),
            );
        }
    }
    let n = pats.len();
    let subject: Vec<&str> = arn.splitn(n, ':').collect();
    if subject.len() < n {
        return false;
    }
    pats.iter()
        .zip(subject)
        .all(|(p, s)| naive(p, &s.chars().collect::<Vec<_>>()))
}

fn single_positive(base: BaseOperator, p: &str, r: &str, v2012: bool, ctx: &Context) -> bool {
    use BaseOperator::*;
    let cmp = |o: std::cmp::Ordering| match base {
        NumericLessThan | DateLessThan => o.is_lt(),
        NumericLessThanEquals | DateLessThanEquals => o.is_le(),
        NumericGreaterThan | DateGreaterThan => o.is_gt(),
        NumericGreaterThanEquals | DateGreaterThanEquals => o.is_ge(),
        _ => o.is_eq(),
    };
    match base.family() {
        OperatorFamily::String => match base {
            StringLike | StringNotLike => substitute(p, v2012, true, ctx)
                .is_some_and(|pc| naive(&pc, &r.chars().collect::<Vec<_>>())),
            StringEquals | StringNotEquals => substitute(p, v2012, false, ctx)
                .is_some_and(|pc| pc == r.chars().map(C::Ch).collect::<Vec<_>>()),
            _ => substitute(p, v2012, false, ctx).is_some_and(|pc| {
                let text: String = pc
                    .iter()
                    .map(|c| if let C::Ch(ch) = c { *ch } else { '*' })
                    .collect();
                text.to_lowercase() == r.to_lowercase()
            }),
        },
        OperatorFamily::Numeric => match (Decimal::parse(p), Decimal::parse(r)) {
            (Some(pv), Some(rv)) => cmp(rv.cmp(&pv)),
            _ => false,
        },
        OperatorFamily::Date => match (parse_instant(p), parse_instant(r)) {
            (Some(pv), Some(rv)) => cmp(rv.cmp(&pv)),
            _ => false,
        },
        OperatorFamily::Bool => {
            matches!((parse_bool(p), parse_bool(r)), (Some(a), Some(b)) if a == b)
        }
        OperatorFamily::Binary => {
            use base64::Engine;
            let e = base64::engine::general_purpose::STANDARD;
            matches!((e.decode(p), e.decode(r)), (Ok(a), Ok(b)) if a == b)
        }
        OperatorFamily::Ip => match (Cidr::parse(p), r.parse()) {
            (Some(c), Ok(ip)) => c.contains(ip),
            _ => false,
        },
        OperatorFamily::Arn => r.matches(':').count() >= 5 && arn_matches(p, v2012, r, ctx),
        OperatorFamily::Null => false,
    }
}

fn conditions_hold(st: &Statement, v2012: bool, ctx: &Context) -> bool {
    st.conditions.iter().all(|op| {
        let Some(o) = op.operator else { return true };
        op.keys.iter().all(|k| {
            let values: Vec<String> = match ctx.get(&k.key.value) {
                None => Vec::new(),
                Some(ContextValue::Single(s)) => vec![s.clone()],
                Some(ContextValue::Multi(v)) => v.clone(),
            };
            let absent = values.is_empty();
            if o.base == BaseOperator::Null {
                return k
                    .values
                    .iter()
                    .any(|p| parse_bool(&p.value) == Some(absent));
            }
            let negated = o.base.is_negated();
            if absent {
                return match o.set {
                    Some(SetOperator::ForAllValues) => true,
                    Some(SetOperator::ForAnyValue) => false,
                    None => o.if_exists || negated,
                };
            }
            let one = |r: &String| {
                let any = k
                    .values
                    .iter()
                    .any(|p| single_positive(o.base, &p.value, r, v2012, ctx));
                if negated {
                    !any
                } else {
                    any
                }
            };
            match o.set {
                Some(SetOperator::ForAllValues) => values.iter().all(one),
                _ => values.iter().any(one),
            }
        })
    })
}

fn applies(doc: &PolicyDocument, st: &Statement, effect: Effect, req: &Request<'_>) -> bool {
    let v2012 = doc.language() == Version::V2012_10_17;
    if st.effect() != Some(effect) {
        return false;
    }
    let action: Vec<char> = req.action.to_ascii_lowercase().chars().collect();
    let action_hit = |l: &crate::policy::model::StringList| {
        l.items.iter().any(|a| {
            let p: Vec<C> = a
                .value
                .to_ascii_lowercase()
                .chars()
                .map(|c| match c {
                    '*' => C::Star,
                    '?' => C::One,
                    c => C::Ch(c),
                })
                .collect();
            naive(&p, &action)
        })
    };
    let action_ok = match (&st.action, &st.not_action) {
        (Some(a), _) => action_hit(a),
        (None, Some(na)) => !action_hit(na),
        _ => false,
    };
    let res_hit = |l: &crate::policy::model::StringList| {
        l.items
            .iter()
            .any(|r| arn_matches(&r.value, v2012, req.resource, req.context))
    };
    let resource_ok = match (&st.resource, &st.not_resource) {
        (Some(r), _) => res_hit(r),
        (None, Some(nr)) => !res_hit(nr),
        _ => false,
    };
    action_ok && resource_ok && conditions_hold(st, v2012, req.context)
}

fn any_applies<'a>(
    docs: impl IntoIterator<Item = &'a PolicyDocument>,
    effect: Effect,
    req: &Request<'_>,
) -> bool {
    docs.into_iter()
        .any(|d| d.statements.iter().any(|s| applies(d, s, effect, req)))
}

/// Decides `req` the slow, obvious way (`iam-policy.md` §8).
pub fn decide(set: &PolicySet, req: &Request<'_>) -> DecisionKind {
    let all = set
        .scps
        .iter()
        .flatten()
        .chain(&set.identity)
        .chain(&set.boundary)
        .chain(&set.session)
        .map(|p| &p.document);
    if any_applies(all, Effect::Deny, req) {
        return DecisionKind::ExplicitDeny;
    }
    for level in &set.scps {
        if !any_applies(level.iter().map(|p| &p.document), Effect::Allow, req) {
            return DecisionKind::ImplicitDeny;
        }
    }
    if req.resource != "*" {
        let account = req.resource.split(':').nth(4).unwrap_or("");
        if !account.is_empty() && account != req.principal.account {
            return DecisionKind::ImplicitDeny;
        }
    }
    if !any_applies(set.identity.iter().map(|p| &p.document), Effect::Allow, req) {
        return DecisionKind::ImplicitDeny;
    }
    if let Some(b) = &set.boundary {
        if !any_applies([&b.document], Effect::Allow, req) {
            return DecisionKind::ImplicitDeny;
        }
    }
    if !set.session.is_empty()
        && !any_applies(set.session.iter().map(|p| &p.document), Effect::Allow, req)
    {
        return DecisionKind::ImplicitDeny;
    }
    DecisionKind::Allowed
}
