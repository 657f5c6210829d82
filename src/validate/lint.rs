//! swf-iam's own findings, in IAM Access Analyzer's spirit: documents IAM accepts but
//! that do not do what their authors likely mean. None of these changes IAM's verdict.

use crate::diagnostic::{Finding, Severity};
use crate::keys::{global_key, KeyType};
use crate::pattern::Pattern;
use crate::policy::model::*;
use crate::policy::variables::{scan, Segment};
use crate::swf::catalog::{self, SwfAction};
use crate::values::{parse_bool, parse_instant, Cidr, Decimal};

fn at<T>(sev: Severity, code: &'static str, msg: String, node: &Spanned<T>) -> Finding {
    Finding::new(
        sev,
        code,
        msg,
        Some(node.loc.span),
        node.loc.pointer.clone(),
    )
}

/// The SWF actions an `Action` entry names, or `None` when the entry is not about SWF
/// (another service's action). `*` and `*:Name` count as SWF entries.
fn swf_matches(entry: &str) -> Option<Vec<&'static SwfAction>> {
    let lower = entry.to_ascii_lowercase();
    let (vendor, name) = lower.split_once(':').unwrap_or((lower.as_str(), ""));
    if lower == "*" {
        return Some(catalog::ACTIONS.iter().collect());
    }
    if vendor != "swf" && vendor != "*" {
        return None;
    }
    let p = Pattern::new(name);
    let found: Vec<_> = catalog::ACTIONS
        .iter()
        .filter(|a| p.matches(&a.name.to_ascii_lowercase()))
        .collect();
    if vendor == "*" && found.is_empty() {
        return None; // `*:Name` may be another service's action
    }
    Some(found)
}

/// Whether a resource pattern can match some SWF domain ARN (`iam-policy.md` §3.3).
fn can_match_domain(pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let fields: Vec<&str> = pattern.splitn(6, ':').collect();
    let field_ok =
        |p: &str, candidates: &[&str]| candidates.iter().any(|c| Pattern::new(p).matches(c));
    let n = fields.len();
    // Earlier fields one by one; the last field of a short pattern takes the rest of the ARN.
    if n < 6 {
        let last = fields[n - 1];
        let earlier_ok = fields[..n - 1].iter().enumerate().all(|(i, f)| match i {
            0 => field_ok(f, &["arn"]),
            1 => field_ok(f, crate::swf::arn::PARTITIONS),
            2 => field_ok(f, &["swf"]),
            _ => true,
        });
        return earlier_ok && last.contains('*');
    }
    if !field_ok(fields[0], &["arn"])
        || !field_ok(fields[1], crate::swf::arn::PARTITIONS)
        || !field_ok(fields[2], &["swf"])
        || fields[3].is_empty()
        || fields[4].is_empty()
    {
        return false;
    }
    // Field 6 must be able to match `/domain/NAME` with a non-empty NAME without `/`.
    let res = fields[5];
    let prefix = "/domain/";
    let mut chars = res.chars();
    for want in prefix.chars() {
        match chars.next() {
            Some('*') => return true,
            Some('?') => {}
            Some(c) if c == want => {}
            _ => return false,
        }
    }
    let name: String = chars.collect();
    !name.is_empty() && !name.contains(['/', ':', '|'])
}

/// `s` with each policy variable replaced by `var` and each escape by its character
/// (under 2012-10-17 rules), for shape checks that must not see `${...}` text.
fn skeleton(s: &str, var: &str) -> String {
    scan(s)
        .segments
        .iter()
        .map(|seg| match seg {
            Segment::Text(t) => (*t).to_owned(),
            Segment::Escaped(c) => c.to_string(),
            Segment::Variable { .. } => var.to_owned(),
        })
        .collect()
}

/// Runs every lint on a parsed document of the given kind.
pub fn check(doc: &PolicyDocument, kind: &super::PolicyKind, out: &mut Vec<Finding>) {
    let v2012 = doc.language() == Version::V2012_10_17;
    let scp = *kind == super::PolicyKind::Scp;
    for st in &doc.statements {
        statement(st, v2012, scp, out);
    }
}

fn statement(st: &Statement, v2012: bool, scp: bool, out: &mut Vec<Finding>) {
    let allow = st.effect() == Some(Effect::Allow);
    let stmt_span = Spanned {
        value: (),
        loc: st.loc.clone(),
    };

    // Actions: unknown SWF actions, and which SWF actions the statement covers.
    let mut covered: Vec<&'static SwfAction> = Vec::new();
    let mut only_swf = st.action.as_ref().is_some_and(|l| !l.items.is_empty());
    for e in st
        .action
        .iter()
        .chain(st.not_action.iter())
        .flat_map(|l| &l.items)
    {
        if crate::validate::iam::action_format_error(&e.value).is_some() {
            only_swf = false;
            continue;
        }
        if e.value.contains("${") {
            out.push(at(
                Severity::Warning,
                "variable-not-substituted",
                format!(
                    "policy variables are not substituted in actions: `{}` is literal",
                    e.value
                ),
                e,
            ));
        }
        match swf_matches(&e.value) {
            Some(found) if found.is_empty() => out.push(
                at(
                    Severity::Error,
                    "unknown-action",
                    format!("`{}` matches no Amazon SWF action", e.value),
                    e,
                )
                .with_detail(
                    match catalog::ACTIONS.iter().find(|a| {
                        e.value
                            .split_once(':')
                            .is_some_and(|(_, n)| strsim(n, a.name))
                    }) {
                        Some(a) => format!("did you mean `swf:{}`?", a.name),
                        None => "see the Service Authorization Reference for Amazon SWF".into(),
                    },
                ),
            ),
            Some(found) => covered.extend(found),
            None => only_swf = false,
        }
    }
    if st.not_action.is_some() {
        only_swf = false;
    }
    covered.sort_by_key(|a| a.name);
    covered.dedup_by_key(|a| a.name);

    // NotAction / NotResource shapes.
    if let Some(na) = &st.not_action {
        if allow {
            out.push(
                Finding::new(
                    Severity::SecurityWarning,
                    "allow-with-not-action",
                    "`Allow` with `NotAction` allows every action of every service except those listed",
                    Some(na.key_span),
                    na.loc.pointer.clone(),
                )
                .with_detail("list the actions to allow in `Action` instead"),
            );
        }
        if na.items.iter().any(|i| i.value == "*") {
            out.push(Finding::new(
                Severity::Warning,
                "statement-never-applies",
                "`NotAction: \"*\"` excludes every action: this statement never applies",
                Some(na.loc.span),
                na.loc.pointer.clone(),
            ));
        }
    }
    if let Some(nr) = &st.not_resource {
        if allow {
            out.push(
                Finding::new(
                    Severity::SecurityWarning,
                    "allow-with-not-resource",
                    "`Allow` with `NotResource` allows every resource except those listed, in every account",
                    Some(nr.key_span),
                    nr.loc.pointer.clone(),
                )
                .with_detail("list the resources to allow in `Resource` instead"),
            );
        }
        if nr.items.iter().any(|i| i.value == "*") {
            out.push(Finding::new(
                Severity::Warning,
                "statement-never-applies",
                "`NotResource: \"*\"` excludes every resource: this statement never applies",
                Some(nr.loc.span),
                nr.loc.pointer.clone(),
            ));
        }
    }
    if allow
        && !scp
        && st.conditions.is_empty()
        && st
            .action
            .as_ref()
            .is_some_and(|l| l.items.iter().any(|i| i.value == "*" || i.value == "*:*"))
        && st
            .resource
            .as_ref()
            .is_some_and(|l| l.items.iter().any(|i| i.value == "*"))
    {
        out.push(
            at(
                Severity::SecurityWarning,
                "allow-all",
                "this statement allows every action on every resource".into(),
                &stmt_span,
            )
            .with_detail("grant only the actions and resources the principal needs"),
        );
    }

    // Resources.
    for (list, negated) in [(&st.resource, false), (&st.not_resource, true)] {
        for e in list.iter().flat_map(|l| &l.items) {
            resource_entry(e, v2012, negated, only_swf && !negated, out);
        }
    }

    // Conditions.
    let null_keys: Vec<String> = st
        .conditions
        .iter()
        .filter(|o| o.operator.is_some_and(|op| op.base == BaseOperator::Null))
        .flat_map(|o| o.keys.iter().map(|k| k.key.value.to_ascii_lowercase()))
        .collect();
    for op in &st.conditions {
        let Some(operator) = op.operator else {
            continue;
        };
        if operator.base == BaseOperator::Null && operator.if_exists {
            out.push(at(
                Severity::Warning,
                "null-if-exists",
                format!(
                    "`{}` is treated as `Null`: `IfExists` means nothing on a presence test",
                    op.name.value
                ),
                &op.name,
            ));
        }
        for k in &op.keys {
            condition_key(
                st, allow, operator, op, k, &covered, only_swf, &null_keys, v2012, out,
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn condition_key(
    st: &Statement,
    allow: bool,
    operator: Operator,
    op: &ConditionOperator,
    k: &ConditionKey,
    covered: &[&'static SwfAction],
    only_swf: bool,
    null_keys: &[String],
    v2012: bool,
    out: &mut Vec<Finding>,
) {
    let name = k.key.value.as_str();
    let lower = name.to_ascii_lowercase();
    let _ = st;
    if k.values.is_empty() {
        out.push(
            Finding::new(
                Severity::Warning,
                "empty-condition-values",
                format!("condition key `{name}` has no values: its test is always false (negated operators: always true)"),
                Some(k.loc.span),
                k.loc.pointer.clone(),
            ),
        );
    }
    // Key known?
    let mut multivalued = false;
    // Decisions inside RespondDecisionTaskCompleted carry no request keys (swf.md §3.1).
    if matches!(
        lower.as_str(),
        "aws:sourceip" | "aws:useragent" | "aws:securetransport"
    ) && st.action.is_some()
        && covered.iter().any(|a| a.decision)
    {
        let absent_true = operator.base.is_negated()
            || operator.if_exists
            || operator.set == Some(SetOperator::ForAllValues);
        let effect = if allow { "Allow" } else { "Deny" };
        let what = match (allow, absent_true) {
            (true, false) => "so this Allow never allows a decision",
            (true, true) => "so this Allow allows every decision whatever the address",
            (false, true) => "so this Deny denies every decision",
            (false, false) => "so this Deny never denies a decision",
        };
        out.push(
            at(
                Severity::Warning,
                "request-key-on-decision",
                format!("decisions carry no `{name}`: `{}` on it is decided as for an absent key, {what}", op.name.value),
                &k.key,
            )
            .with_detail(format!(
                "this {effect} statement covers decision actions (swf:ScheduleActivityTask, ...); condition on swf:RespondDecisionTaskCompleted instead"
            )),
        );
    }
    if lower.starts_with("swf:") {
        if !catalog::all_swf_keys().any(|c| c.eq_ignore_ascii_case(name)) {
            out.push(at(
                Severity::Warning,
                "unknown-condition-key",
                format!("`{name}` is not an Amazon SWF condition key: it is never present"),
                &k.key,
            ));
        } else if only_swf && !covered.is_empty() && !covered.iter().any(|a| a.supports_key(name)) {
            let names: Vec<String> = covered
                .iter()
                .take(3)
                .map(|a| format!("swf:{}", a.name))
                .collect();
            out.push(
                at(
                    Severity::Warning,
                    "unsupported-condition-key",
                    format!(
                        "`{name}` is not supported by {}{}: it is never present for them",
                        names.join(", "),
                        if covered.len() > 3 { ", ..." } else { "" }
                    ),
                    &k.key,
                )
                .with_detail(
                    if covered
                        .iter()
                        .any(|a| a.name == "RecordActivityTaskHeartbeat")
                    {
                        "swf:RecordActivityTaskHeartbeat's parameters cannot be constrained by IAM"
                    } else {
                        "see the Service Authorization Reference for the keys each action supports"
                    },
                ),
            );
        }
    } else if lower.starts_with("aws:") {
        match global_key(name) {
            None => out.push(at(
                Severity::Warning,
                "unknown-condition-key",
                format!(
                    "`{name}` is not a global condition key swf-iam knows: it is never present"
                ),
                &k.key,
            )),
            Some(g) => {
                multivalued = g.multivalued;
                if !g.available
                    && allow
                    && !operator.base.is_negated()
                    && operator.base != BaseOperator::Null
                    && !operator.if_exists
                {
                    out.push(
                        at(
                            Severity::Warning,
                            "key-never-present",
                            format!("`{name}` is never present on requests swf-iam sees, so this `Allow` never applies"),
                            &k.key,
                        )
                        .with_detail("VPC endpoint, service-to-service and source keys are absent at a local gate"),
                    );
                }
                value_types(g.ty, operator, k, out);
            }
        }
    }
    if multivalued && operator.set.is_none() && operator.base != BaseOperator::Null {
        out.push(
            at(
                Severity::Error,
                "multivalued-key-without-set-operator",
                format!(
                    "`{name}` is multivalued: use `ForAnyValue:{0}` or `ForAllValues:{0}`",
                    op.name.value
                ),
                &k.key,
            )
            .with_detail("AWS leaves the result undocumented; swf-iam evaluates it as ForAnyValue"),
        );
    }
    if allow && operator.set == Some(SetOperator::ForAllValues) && !null_keys.contains(&lower) {
        out.push(
            at(
                Severity::SecurityWarning,
                "allow-forallvalues-missing-key",
                format!("`{}` is true when `{name}` is absent or empty, so this `Allow` applies to requests without it", op.name.value),
                &k.key,
            )
            .with_detail(format!("add {{\"Null\": {{\"{name}\": \"false\"}}}} to require the key")),
        );
    }
    // Values.
    for v in &k.values {
        let scanned = scan(&v.value);
        if scanned.has_variables() || scanned.malformed {
            if !operator.base.takes_variables() {
                out.push(at(
                    Severity::Warning,
                    "variable-not-substituted",
                    format!(
                        "policy variables are not substituted in `{}` values: `{}` is literal",
                        operator.base.name(),
                        v.value
                    ),
                    v,
                ));
            } else {
                variables(v, v2012, false, out);
            }
        }
        let ok = match operator.base.family() {
            OperatorFamily::Numeric => Decimal::parse(&v.value).is_some(),
            OperatorFamily::Date => true, // IAM's legacy step reports bad dates
            OperatorFamily::Bool | OperatorFamily::Null => parse_bool(&v.value).is_some(),
            OperatorFamily::Ip => Cidr::parse(&v.value).is_some(),
            OperatorFamily::Binary => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .decode(&v.value)
                    .is_ok()
            }
            OperatorFamily::String | OperatorFamily::Arn => true,
        };
        let date_ok = operator.base.family() != OperatorFamily::Date
            || !crate::values::legacy_date_ok(&v.value)
            || parse_instant(&v.value).is_some();
        if !ok || !date_ok {
            out.push(at(
                Severity::Warning,
                "invalid-condition-value",
                format!(
                    "`{}` is not a valid `{}` value: it never matches",
                    v.value,
                    operator.base.name()
                ),
                v,
            ));
        }
    }
}

/// Flags an operator family that cannot compare the key's type.
fn value_types(ty: KeyType, operator: Operator, k: &ConditionKey, out: &mut Vec<Finding>) {
    let fam = operator.base.family();
    let fits = match fam {
        OperatorFamily::Null => true,
        OperatorFamily::String => matches!(ty, KeyType::String | KeyType::Arn),
        OperatorFamily::Arn => ty == KeyType::Arn,
        OperatorFamily::Numeric => matches!(ty, KeyType::Numeric | KeyType::Date),
        OperatorFamily::Date => ty == KeyType::Date,
        OperatorFamily::Bool => ty == KeyType::Bool,
        OperatorFamily::Ip => ty == KeyType::Ip,
        OperatorFamily::Binary => false,
    };
    if !fits {
        out.push(at(
            Severity::Warning,
            "operator-type-mismatch",
            format!(
                "`{}` compares {fam:?} values but `{}` is of type {ty:?}",
                operator.base.name(),
                k.key.value
            ),
            &k.key,
        ));
    }
}

fn resource_entry(
    e: &Spanned<String>,
    v2012: bool,
    negated: bool,
    swf_only: bool,
    out: &mut Vec<Finding>,
) {
    let r = &e.value;
    if crate::validate::iam::resource_format_error(r).is_some() {
        return;
    }
    let scanned = scan(r);
    if scanned.has_variables() || scanned.malformed {
        variables(e, v2012, negated, out);
        if v2012
            && scanned
                .segments
                .iter()
                .any(|s| matches!(s, Segment::Variable { .. }))
        {
            // A variable before the sixth field.
            let marked = skeleton(r, "\u{1}");
            let fields: Vec<&str> = marked.splitn(6, ':').collect();
            if fields.len() < 6 || fields[..5].iter().any(|f| f.contains('\u{1}')) {
                out.push(
                    at(
                        Severity::Error,
                        "variable-in-arn-prefix",
                        format!("AWS allows policy variables only in the resource part of an ARN (after the fifth `:`): `{r}`"),
                        e,
                    )
                    .with_detail("swf-iam substitutes it anyway; IAM's behaviour is undocumented"),
                );
            }
        }
    }
    let shape = if v2012 { skeleton(r, "*") } else { r.clone() };
    let fields: Vec<&str> = shape.splitn(6, ':').collect();
    if fields.len() == 6 && fields[2] == "swf" && (fields[3].is_empty() || fields[4].is_empty()) {
        out.push(
            at(
                Severity::Warning,
                "empty-region-or-account",
                format!("`{r}` has an empty region or account field, which matches only an empty field"),
                e,
            )
            .with_detail("SWF request ARNs carry both (arn:aws:swf:us-east-1:123456789012:/domain/NAME): use `*` for any"),
        );
    } else if swf_only && !can_match_domain(&shape) {
        out.push(
            at(
                Severity::Warning,
                "resource-never-matches",
                format!("`{r}` can never match an Amazon SWF domain ARN (arn:PARTITION:swf:REGION:ACCOUNT:/domain/NAME)"),
                e,
            )
            .with_detail("this statement names only SWF actions, so this entry grants nothing"),
        );
    }
}

fn variables(v: &Spanned<String>, v2012: bool, negated: bool, out: &mut Vec<Finding>) {
    let scanned = scan(&v.value);
    if !v2012 {
        if scanned.has_variables() {
            out.push(
                at(
                    Severity::Warning,
                    "literal-policy-variable",
                    format!("policy variables are literal text without \"Version\": \"2012-10-17\": `{}`", v.value),
                    v,
                )
                .with_detail("this document is evaluated with 2008-10-17 rules"),
            );
        }
        return;
    }
    if scanned.malformed {
        out.push(at(
            Severity::Warning,
            "unclosed-variable",
            format!("`${{` without a well-formed `${{key}}` or `${{key, 'default'}}` stays literal text: `{}`", v.value),
            v,
        ));
    }
    for s in &scanned.segments {
        if let Segment::Variable { key, default: None } = s {
            let always = global_key(key).is_some_and(|g| g.always_present && !g.multivalued);
            if !always {
                out.push(
                    at(
                        Severity::Warning,
                        "variable-may-be-missing",
                        format!("`${{{key}}}` has no default and `{key}` can be absent: the entry then matches nothing"),
                        v,
                    )
                    .with_detail(if negated {
                        format!("in `NotResource` that makes the statement cover every resource; add a default: `${{{key}, 'none'}}`")
                    } else {
                        format!("add a default, e.g. `${{{key}, 'none'}}`")
                    }),
                );
            }
        }
    }
}

/// A crude "did you mean": same letters ignoring case, or one edit apart.
fn strsim(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return false;
    }
    let (a, b): (Vec<char>, Vec<char>) = (
        a.to_ascii_lowercase().chars().collect(),
        b.to_ascii_lowercase().chars().collect(),
    );
    if a.len().abs_diff(b.len()) > 2 {
        return false;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()] <= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_pattern_reachability() {
        for ok in [
            "*",
            "arn:aws:swf:us-east-1:123456789012:/domain/orders",
            "arn:aws:swf:*:*:*",
            "arn:aws:swf:*:123456789012:/domain/*",
            "arn:aws:swf:us-east-1:*",
            "arn:aws:*",
            "arn:*:swf:*:*:/dom*",
            "arn:aws:swf:*:*:/domain/ord?rs",
        ] {
            assert!(can_match_domain(ok), "{ok}");
        }
        for no in [
            "arn:aws:s3:::bucket",
            "arn:aws:swf:*:/domain/x",
            "arn:aws:swf:*:*:domain/x",
            "arn:aws:swf:*:*:/domain/",
            "arn:aws:swf:*:*:/domain/a/b",
            "arn:aws:states:*:*:*",
        ] {
            assert!(!can_match_domain(no), "{no}");
        }
    }

    #[test]
    fn swf_action_matching() {
        assert_eq!(
            swf_matches("swf:RecordActivityTaskHeartbeat")
                .unwrap()
                .len(),
            1
        );
        assert!(swf_matches("swf:Foo").unwrap().is_empty());
        assert!(swf_matches("swf:").unwrap().is_empty());
        assert_eq!(swf_matches("swf:Poll*").unwrap().len(), 2);
        assert_eq!(swf_matches("SWF:record*").unwrap().len(), 2);
        assert!(swf_matches("s3:GetObject").is_none());
        assert!(swf_matches("*:GetObject").is_none());
        assert_eq!(swf_matches("*:RecordMarker").unwrap().len(), 1);
        assert_eq!(swf_matches("*").unwrap().len(), catalog::ACTIONS.len());
        assert!(strsim(
            "RecordActivityTaskHeartbat",
            "RecordActivityTaskHeartbeat"
        ));
    }
}
