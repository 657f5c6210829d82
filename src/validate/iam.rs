//! IAM's own `CreatePolicy` checks (`iam-policy.md` §2), steps 2–9; step 1 is the parser's.
//!
//! Each failing check becomes a [`Finding`] tagged with its [`IamStep`]; the verdict
//! (which one IAM reports) is the first of the earliest step, or the last visited for resources.

use super::PolicyKind;
use crate::diagnostic::{Finding, IamStep, Severity};
use crate::policy::model::{Loc, PolicyDocument, Spanned, StringList};
use crate::swf::arn::PARTITIONS;
use crate::values::legacy_date_ok;

/// IAM's message for step 2.
pub const MSG_VERSION: &str = "Policy document must be version 2012-10-17 or greater.";
/// IAM's message for step 2b.
pub const MSG_PRINCIPAL: &str = "Policy document should not specify a principal.";
/// IAM's message for a trust-policy statement without `Principal`.
pub const MSG_TRUST_PRINCIPAL: &str = "Missing required field Principal";
/// IAM's message for a trust-policy action outside STS.
pub const MSG_TRUST_ACTIONS: &str = "AssumeRole policy may only specify STS AssumeRole actions.";
/// IAM's message for step 3.
pub const MSG_LEGACY: &str = "The policy failed legacy parsing";
/// IAM's message for step 4.
pub const MSG_SID_UNIQUE: &str = "Statement IDs (SID) in a single policy must be unique.";
/// IAM's message for step 4b.
pub const MSG_SID_ALNUM: &str = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*";
/// IAM's message for step 5.
pub const MSG_ACTIONS: &str = "Policy statement must contain actions.";
/// IAM's message for step 8.
pub const MSG_RESOURCES: &str = "Policy statement must contain resources.";

const IAM_PATH_PREFIXES: &[&str] = &[
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
];

fn err(code: &'static str, msg: impl Into<String>, loc: &Loc, step: IamStep) -> Finding {
    Finding::new(
        Severity::Error,
        code,
        msg,
        Some(loc.span),
        loc.pointer.clone(),
    )
    .at_step(step)
}

/// Runs steps 2–9 on a document that parsed (step 1 may still have found problems).
pub fn check(doc: &PolicyDocument, text: &str, kind: &PolicyKind, out: &mut Vec<Finding>) {
    // Step 2: Version. Trust policies may still be written in the 2008-10-17 language,
    // or without a Version (IAM's CreateRole accepts both; only policies it creates as
    // documents of their own must be 2012-10-17).
    match &doc.version {
        _ if *kind == PolicyKind::Trust => {}
        Some(v) if v.value != "2008-10-17" => {} // 2012-10-17, or a syntax error already
        Some(v) => out.push(
            err("version", MSG_VERSION, &v.loc, IamStep::Version).with_detail(format!(
                "`Version` is `{}`; IAM creates only \"2012-10-17\" documents (swf-iam still evaluates this one with {} rules: policy variables are literal text)",
                v.value, v.value
            )),
        ),
        None => out.push(
            Finding::new(
                Severity::Error,
                "version",
                MSG_VERSION,
                Some(crate::text::Span::new(doc.loc.span.start, doc.loc.span.start + 1)),
                doc.loc.pointer.clone(),
            )
            .at_step(IamStep::Version)
            .with_detail(
                "no `Version`: add \"Version\": \"2012-10-17\" (without it, policy variables are literal text)",
            ),
        ),
    }

    // Step 2b: Principal (trust policies: required, and no `Resource`).
    if *kind == PolicyKind::Trust {
        trust_elements(doc, out);
    }
    for st in doc.statements.iter().filter(|_| *kind != PolicyKind::Trust) {
        if let Some(p) = &st.principal {
            out.push(
                err("principal", MSG_PRINCIPAL, p, IamStep::Principal).with_detail(
                    "`Principal`/`NotPrincipal` belong in resource-based and trust policies only",
                ),
            );
        }
    }

    // Step 3: legacy parse — effects and dates.
    for st in &doc.statements {
        if let Some(e) = &st.effect {
            if st.effect().is_none()
                && matches!(e.value.to_ascii_lowercase().as_str(), "allow" | "deny")
            {
                let fixed = if e.value.eq_ignore_ascii_case("allow") {
                    "Allow"
                } else {
                    "Deny"
                };
                out.push(
                    err("legacy-parse", MSG_LEGACY, &e.loc, IamStep::Legacy).with_detail(format!(
                        "`Effect` is case-sensitive: write `{fixed}`, not `{}`",
                        e.value
                    )),
                );
            }
        }
        for op in &st.conditions {
            let stripped = op
                .name
                .value
                .strip_prefix("ForAnyValue:")
                .or_else(|| op.name.value.strip_prefix("ForAllValues:"))
                .unwrap_or(&op.name.value);
            let stripped = stripped.strip_suffix("IfExists").unwrap_or(stripped);
            if stripped.starts_with("Date") {
                for k in &op.keys {
                    for v in &k.values {
                        if !legacy_date_ok(&v.value) {
                            out.push(
                                err("legacy-parse", MSG_LEGACY, &v.loc, IamStep::Legacy).with_detail(format!(
                                    "`{}` is not a date IAM accepts (ISO 8601 like 2026-11-24T10:00:00Z, or epoch seconds)",
                                    v.value
                                )),
                            );
                        }
                    }
                }
            }
        }
    }

    // Step 3 (resources, L1–L2) with the format records of step 6 (F1–F5).
    let mut recorded = false;
    for pick in [0, 1] {
        for st in doc.statements.iter().filter(|_| *kind != PolicyKind::Trust) {
            let list = if pick == 0 {
                &st.resource
            } else {
                &st.not_resource
            };
            let Some(list) = list.as_ref().filter(|l| !l.malformed) else {
                continue;
            };
            let mut entries: Vec<&Spanned<String>> = list.items.iter().collect();
            if list.is_array {
                entries.sort_by(|a, b| b.value.cmp(&a.value));
            }
            for e in entries {
                if let Some((msg, detail)) = resource_format_error(&e.value) {
                    recorded = true;
                    out.push(
                        err("resource-format", msg, &e.loc, IamStep::ResourceFormat)
                            .with_detail(detail),
                    );
                }
            }
            // IAM runs the legacy resource rules only while no format error is recorded.
            if !recorded {
                for e in &list.items {
                    if let Some(detail) = legacy_resource_error(&e.value) {
                        out.push(
                            err("legacy-parse", MSG_LEGACY, &e.loc, IamStep::Legacy)
                                .with_detail(detail),
                        );
                    }
                }
            }
        }
    }

    // Step 4 and 4b: Sids.
    let mut seen: Vec<&Spanned<String>> = Vec::new();
    for st in &doc.statements {
        let Some(sid) = &st.sid else { continue };
        if !sid.value.is_empty() {
            if let Some(first) = seen.iter().find(|s| s.value == sid.value) {
                out.push(
                    err(
                        "duplicate-sid",
                        MSG_SID_UNIQUE,
                        &sid.loc,
                        IamStep::SidUnique,
                    )
                    .with_detail(format!("Sid `{}` is used twice", sid.value))
                    .with_related(first.loc.span, "first used here"),
                );
            } else {
                seen.push(sid);
            }
        }
        if !sid.value.bytes().all(|b| b.is_ascii_alphanumeric()) {
            out.push(
                err(
                    "sid-not-alphanumeric",
                    MSG_SID_ALNUM,
                    &sid.loc,
                    IamStep::SidAlphanumeric,
                )
                .with_detail(format!(
                    "Sid `{}` has characters other than letters and digits",
                    sid.value
                )),
            );
        }
    }

    // Step 5: actions exist.
    for st in &doc.statements {
        let present =
            |l: &Option<StringList>| l.as_ref().is_some_and(|l| l.malformed || l.has_entries());
        if !present(&st.action) && !present(&st.not_action) {
            let loc = st
                .action
                .as_ref()
                .or(st.not_action.as_ref())
                .map_or(&st.loc, |l| &l.loc);
            out.push(
                err("missing-action", MSG_ACTIONS, loc, IamStep::ActionsExist)
                    .with_detail("the statement needs a non-empty `Action` or `NotAction`"),
            );
        }
    }

    // Step 7: action format — every Action entry, then every NotAction entry.
    for pick in [0, 1] {
        for st in &doc.statements {
            let list = if pick == 0 {
                &st.action
            } else {
                &st.not_action
            };
            for e in list.iter().flat_map(|l| &l.items) {
                if let Some((msg, detail)) = action_format_error(&e.value) {
                    out.push(
                        err("action-format", msg, &e.loc, IamStep::ActionFormat)
                            .with_detail(detail),
                    );
                }
            }
        }
    }

    // Trust policies: STS actions only, and principals IAM accepts.
    if *kind == PolicyKind::Trust {
        trust_values(doc, out);
    }

    // Step 8: resources exist (trust policies have none).
    for st in doc.statements.iter().filter(|_| *kind != PolicyKind::Trust) {
        let present =
            |l: &Option<StringList>| l.as_ref().is_some_and(|l| l.malformed || l.has_entries());
        if !present(&st.resource) && !present(&st.not_resource) {
            let loc = st
                .resource
                .as_ref()
                .or(st.not_resource.as_ref())
                .map_or(&st.loc, |l| &l.loc);
            out.push(
                err(
                    "missing-resource",
                    MSG_RESOURCES,
                    loc,
                    IamStep::ResourcesExist,
                )
                .with_detail("identity policies need a non-empty `Resource` or `NotResource`"),
            );
        }
    }

    // Step 9: size quota.
    let size = text.chars().filter(|c| !c.is_whitespace()).count();
    if size > kind.limit() {
        out.push(
            Finding::new(
                Severity::Error,
                "policy-size",
                kind.size_message(),
                Some(doc.loc.span),
                doc.loc.pointer.clone(),
            )
            .at_step(IamStep::Size)
            .with_detail(format!(
                "{} is {size} characters without whitespace; the limit is {} (IAM answers LimitExceeded)",
                kind.describe(),
                kind.limit()
            )),
        );
    }
}

/// A trust policy's element checks: every statement names a principal, none a resource.
fn trust_elements(doc: &PolicyDocument, out: &mut Vec<Finding>) {
    for st in &doc.statements {
        if st.principal.is_none() {
            out.push(
                err("trust-principal", MSG_TRUST_PRINCIPAL, &st.loc, IamStep::Principal)
                    .with_detail("a trust policy says who may assume the role: add `Principal`, e.g. {\"AWS\": \"arn:aws:iam::123456789012:root\"}"),
            );
        }
        for (name, list) in [
            ("Resource", &st.resource),
            ("NotResource", &st.not_resource),
        ] {
            if let Some(l) = list {
                out.push(
                    err(
                        "trust-resource",
                        format!("Has prohibited field {name}"),
                        &Loc {
                            span: l.key_span,
                            pointer: l.loc.pointer.clone(),
                        },
                        IamStep::Principal,
                    )
                    .with_detail(
                        "a trust policy's resource is the role itself: remove the element",
                    ),
                );
            }
        }
    }
}

/// Whether `a` may appear in a trust policy's `Action`: an `sts:` action (wildcards
/// allowed) or `*`.
pub fn trust_action_ok(a: &str) -> bool {
    a == "*"
        || a.split_once(':')
            .is_some_and(|(vendor, _)| vendor.eq_ignore_ascii_case("sts"))
}

/// Why a principal value is not one IAM accepts in a trust policy, if it is not.
pub fn principal_value_error(kind: &str, value: &str) -> Option<String> {
    match kind {
        "AWS" => {
            if value == "*" || crate::swf::arn::check_account(value).is_ok() {
                return None;
            }
            if value.contains('*') || value.contains('?') {
                return Some("IAM allows a wildcard only as the whole value `*`".into());
            }
            principal_arn_error(value)
        }
        "Service" => {
            let ok = value == "*"
                || (value.ends_with(".amazonaws.com") || value.ends_with(".amazonaws.com.cn"))
                    && !value.contains('*');
            (!ok).then(|| {
                "a service principal is a service's DNS name, e.g. `ecs-tasks.amazonaws.com`".into()
            })
        }
        "Federated" => {
            let ok = value.starts_with("arn:")
                && (value.contains(":saml-provider/") || value.contains(":oidc-provider/"))
                || [
                    "cognito-identity.amazonaws.com",
                    "www.amazon.com",
                    "graph.facebook.com",
                    "accounts.google.com",
                ]
                .contains(&value);
            (!ok).then(|| "a federated principal is a SAML or OIDC provider ARN, or a web identity provider (`cognito-identity.amazonaws.com`, ...)".into())
        }
        "CanonicalUser" => (value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| "a canonical user ID is 64 hexadecimal digits".into()),
        _ => Some(format!(
            "`{kind}` is not a principal type; use AWS, Service, Federated or CanonicalUser"
        )),
    }
}

/// Why `arn` is not the ARN of an IAM principal (`arn:PARTITION:iam::ACCOUNT:root`,
/// `...:user/NAME`, `...:role/NAME`, `arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION`,
/// `...:federated-user/NAME`), if it is not.
fn principal_arn_error(arn: &str) -> Option<String> {
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = fields.as_slice() else {
        return Some("a principal is an account ID, `*`, or an IAM or STS ARN".into());
    };
    if *prefix != "arn" || !PARTITIONS.contains(partition) {
        return Some(format!("`{arn}` does not start with arn:PARTITION"));
    }
    if !region.is_empty() {
        return Some("IAM and STS ARNs have no region".into());
    }
    if crate::swf::arn::check_account(account).is_err() {
        return Some("the account is not 12 digits".into());
    }
    let named = |r: &str, p: &str| {
        r.strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && !n.ends_with('/'))
    };
    let ok = match *service {
        "iam" => *resource == "root" || named(resource, "user/") || named(resource, "role/"),
        "sts" => {
            named(resource, "federated-user/")
                || resource
                    .strip_prefix("assumed-role/")
                    .and_then(|r| r.split_once('/'))
                    .is_some_and(|(role, session)| !role.is_empty() && !session.is_empty())
        }
        _ => false,
    };
    (!ok).then(|| {
        "an AWS principal is root, user/NAME, role/NAME (iam) or assumed-role/ROLE/SESSION, federated-user/NAME (sts)".into()
    })
}

/// A trust policy's value checks: `sts:` actions only, and principals IAM accepts.
fn trust_values(doc: &PolicyDocument, out: &mut Vec<Finding>) {
    for st in &doc.statements {
        for e in st
            .action
            .iter()
            .chain(&st.not_action)
            .flat_map(|l| &l.items)
        {
            if !trust_action_ok(&e.value) {
                out.push(
                    err("trust-action", MSG_TRUST_ACTIONS, &e.loc, IamStep::ActionFormat)
                        .with_detail(format!(
                            "`{}` is not an STS action: a trust policy grants sts:AssumeRole (with sts:TagSession, sts:SetSourceIdentity)",
                            e.value
                        )),
                );
            }
        }
        let Some(p) = &st.principals else { continue };
        if p.malformed {
            out.push(
                err("trust-principal", "Invalid principal in policy", &p.loc, IamStep::Principal)
                    .with_detail("a principal is \"*\" or an object such as {\"AWS\": \"arn:aws:iam::123456789012:root\"}"),
            );
        }
        for entry in &p.entries {
            if entry.values.items.is_empty() && !entry.values.malformed {
                out.push(
                    err(
                        "trust-principal",
                        "Invalid principal in policy",
                        &entry.values.loc,
                        IamStep::Principal,
                    )
                    .with_detail(format!("`{}` lists no principal", entry.kind.value)),
                );
            }
            for v in &entry.values.items {
                if let Some(why) = principal_value_error(&entry.kind.value, &v.value) {
                    out.push(
                        err(
                            "trust-principal",
                            format!(
                                "Invalid principal in policy: \"{}\":\"{}\"",
                                entry.kind.value, v.value
                            ),
                            &v.loc,
                            IamStep::Principal,
                        )
                        .with_detail(why),
                    );
                }
            }
        }
    }
}

/// Format rules F1–F5 for one `Resource`/`NotResource` entry: IAM's message and swf-iam's detail.
pub fn resource_format_error(r: &str) -> Option<(String, String)> {
    if r == "*" {
        return None;
    }
    let Some((_, after_first)) = r.split_once(':') else {
        return Some((
            format!("Resource {r} must be in ARN format or \"*\"."),
            "a resource is an ARN (`arn:aws:swf:REGION:ACCOUNT:/domain/NAME`) or `*`".into(),
        ));
    };
    let (partition, after_partition) = match after_first.split_once(':') {
        Some((p, rest)) => (p, Some(rest)),
        None => (after_first, None),
    };
    if partition != "*" && !PARTITIONS.contains(&partition) {
        let rest: Vec<&str> = after_partition.unwrap_or("").split(':').collect();
        let f3 = if !rest[0].is_empty() || rest.len() > 1 {
            rest[0]
        } else {
            "*"
        };
        let f4 = rest.get(1).copied().unwrap_or("*");
        let f5 = rest.get(2).copied().unwrap_or("*");
        let f6 = if rest.len() > 3 {
            rest[3..].join(":")
        } else {
            "*".into()
        };
        return Some((
            format!("Partition \"{partition}\" is not valid for resource \"arn:{partition}:{f3}:{f4}:{f5}:{f6}\"."),
            format!("`{partition}` is not a partition; use one of {}", PARTITIONS.join(", ")),
        ));
    }
    let Some(after_partition) = after_partition else {
        return Some((
            "Resource vendor must be fully qualified and cannot contain regexes.".into(),
            "the ARN ends after its partition: add the service, region, account and resource"
                .into(),
        ));
    };
    let (service, after_service) = match after_partition.split_once(':') {
        Some((s, rest)) => (s, Some(rest)),
        None => (after_partition, None),
    };
    let region_given = !after_service.is_some_and(|rest| rest.starts_with(':'));
    let fields6: Vec<&str> = r.splitn(6, ':').collect();
    let resource_part = fields6.get(5).copied().unwrap_or("");
    if region_given {
        if service == "iam" {
            return Some((
                format!("IAM resource {r} cannot contain region information."),
                "IAM is global: leave the region field empty (`arn:aws:iam::ACCOUNT:...`)".into(),
            ));
        }
        if service == "s3" && !resource_part.starts_with("accesspoint/") {
            return Some((
                format!("Resource {r} can not contain region information."),
                "S3 bucket and object ARNs have empty region and account fields (`arn:aws:s3:::bucket/key`)".into(),
            ));
        }
    }
    if service == "iam"
        && !IAM_PATH_PREFIXES
            .iter()
            .any(|p| resource_part.starts_with(p))
    {
        return Some((
            format!(
                "IAM resource path must either be \"*\" or start with {}.",
                IAM_PATH_PREFIXES.join(", ")
            ),
            format!("`{resource_part}` is not an IAM resource path"),
        ));
    }
    None
}

/// Legacy rules L1–L2 for one entry: swf-iam's detail when IAM's legacy parse fails.
fn legacy_resource_error(r: &str) -> Option<String> {
    if r == "*" {
        return None;
    }
    if r.contains("::") && r.matches(':').count() < 5 {
        return Some(format!(
            "`{r}` has an empty field but fewer than six `:`-separated fields"
        ));
    }
    match r.split(':').nth(2) {
        Some("") | None => Some(format!("`{r}` has no service field")),
        Some(_) => None,
    }
}

/// Step 7 rules for one `Action`/`NotAction` entry: IAM's message and swf-iam's detail.
pub fn action_format_error(a: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = a.split(':').collect();
    if parts.len() == 1 && a != "*" {
        return Some((
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.".into(),
            format!("`{a}` has no service prefix: write e.g. `swf:{a}`"),
        ));
    }
    if parts.len() > 2 {
        return Some((
            "Actions/Condition can contain only one colon.".into(),
            format!("`{a}` has {} colons", parts.len() - 1),
        ));
    }
    let vendor = parts[0];
    if vendor != "*"
        && !vendor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Some((
            format!("Vendor {vendor} is not valid"),
            "a service prefix may hold only letters, digits, `-` and `.` (no wildcards)".into(),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_messages_match_iam() {
        let m = |r| resource_format_error(r).map(|(m, _)| m);
        assert_eq!(m("*"), None);
        assert_eq!(
            m("domain/orders").unwrap(),
            "Resource domain/orders must be in ARN format or \"*\"."
        );
        assert_eq!(m("").unwrap(), "Resource  must be in ARN format or \"*\".");
        assert_eq!(
            m("arn:amazon:swf:::/domain/x").unwrap(),
            "Partition \"amazon\" is not valid for resource \"arn:amazon:swf:::/domain/x\"."
        );
        assert_eq!(
            m("a:b:cadfsdf").unwrap(),
            "Partition \"b\" is not valid for resource \"arn:b:cadfsdf:*:*:*\"."
        );
        assert_eq!(
            m("aws:s3:::example_bucket").unwrap(),
            "Partition \"s3\" is not valid for resource \"arn:s3:::example_bucket:*\"."
        );
        assert_eq!(
            m("a:b").unwrap(),
            "Partition \"b\" is not valid for resource \"arn:b:*:*:*:*\"."
        );
        assert_eq!(
            m("arn:aws").unwrap(),
            "Resource vendor must be fully qualified and cannot contain regexes."
        );
        assert_eq!(
            m("arn:aws:iam:us-east-1::user/x").unwrap(),
            "IAM resource arn:aws:iam:us-east-1::user/x cannot contain region information."
        );
        assert_eq!(
            m("arn:aws:s3:us-east-1::bucket").unwrap(),
            "Resource arn:aws:s3:us-east-1::bucket can not contain region information."
        );
        assert_eq!(m("arn:aws:s3:us-east-1:123456789012:accesspoint/ap"), None);
        assert!(m("arn:aws:iam::123456789012:thing/x").unwrap().starts_with(
            "IAM resource path must either be \"*\" or start with user/, federated-user/"
        ));
        assert_eq!(m("arn:aws:iam::123456789012:role/worker"), None);
        for ok in [
            "arn:aws:fdsasf",
            "arn:aws:swf:*:*:*",
            "arn:aws:swf:::/domain/x",
            "arn:*:swf:*:*:*",
            "arn:aws-cn:swf:cn-north-1:1:/domain/x",
        ] {
            assert_eq!(m(ok), None, "{ok}");
        }
    }

    #[test]
    fn legacy_resource_rules() {
        assert!(legacy_resource_error("arn:aws:s3::example_bucket").is_some());
        assert!(legacy_resource_error("arn:aws::fdsasf").is_some());
        assert!(legacy_resource_error("arn:aws:fdsasf").is_none());
        assert!(legacy_resource_error("arn:aws::::example_bucket").is_some());
        assert!(legacy_resource_error("arn:aws:swf:::/domain/x").is_none());
    }

    #[test]
    fn action_messages_match_iam() {
        let m = |a| action_format_error(a).map(|(m, _)| m);
        assert_eq!(m("*"), None);
        assert_eq!(m("*:RecordActivityTaskHeartbeat"), None);
        assert_eq!(m("iam: asdf safdsf af "), None);
        assert_eq!(
            m("RecordActivityTaskHeartbeat").unwrap(),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
        );
        assert_eq!(
            m("").unwrap(),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
        );
        assert_eq!(
            m("swf:a:b").unwrap(),
            "Actions/Condition can contain only one colon."
        );
        assert_eq!(m("a a:ListBucket").unwrap(), "Vendor a a is not valid");
        assert_eq!(m("s*:Get").unwrap(), "Vendor s* is not valid");
        assert_eq!(m("sw?:Get").unwrap(), "Vendor sw? is not valid");
        assert_eq!(m("swf:"), None, "IAM never checks the action name");
    }
}
