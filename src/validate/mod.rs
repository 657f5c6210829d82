//! Validation: policy text → [`ValidationReport`] (IAM's verdict plus swf-iam's findings).
//!
//! The first error of a report is always the message IAM's `CreatePolicy` would
//! answer with, and [`ValidationReport::iam_valid`] is IAM's verdict; swf-iam's own
//! findings follow and never change that verdict.

pub mod iam;
pub mod lint;

use crate::diagnostic::{Finding, IamStep, Severity};
use crate::json::MAX_INPUT_BYTES;
use crate::policy::model::PolicyDocument;
use crate::policy::parse::parse;
use crate::text::{Origin, Pointer, SourceFile, Span};
use std::sync::Arc;

/// What kind of policy a document is, which sets IAM's size quota (§2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyKind {
    /// A customer managed policy (6,144 characters).
    Managed,
    /// An AWS managed policy (`arn:aws:iam::aws:policy/...`): AWS's own, not held to
    /// the account's quotas.
    AwsManaged,
    /// A permissions boundary (a managed policy: 6,144).
    Boundary,
    /// An inline policy of the named user (2,048).
    InlineUser(String),
    /// An inline policy of the named group (5,120).
    InlineGroup(String),
    /// An inline policy of the named role (10,240).
    InlineRole(String),
    /// A service control policy (5,120).
    Scp,
    /// A session policy (2,048).
    Session,
    /// A role's trust policy (`AssumeRolePolicyDocument`, 2,048): a resource-based
    /// policy with `Principal` and only `sts:` actions, and no `Resource`.
    Trust,
}

impl PolicyKind {
    /// The quota in non-whitespace characters.
    pub fn limit(&self) -> usize {
        match self {
            PolicyKind::Managed | PolicyKind::Boundary => 6144,
            PolicyKind::AwsManaged => usize::MAX,
            PolicyKind::InlineUser(_) | PolicyKind::Session | PolicyKind::Trust => 2048,
            PolicyKind::InlineGroup(_) | PolicyKind::Scp => 5120,
            PolicyKind::InlineRole(_) => 10240,
        }
    }

    /// The message AWS answers with when the quota is exceeded.
    pub fn size_message(&self) -> String {
        match self {
            PolicyKind::Managed | PolicyKind::Boundary => {
                "Cannot exceed quota for PolicySize: 6144".into()
            }
            PolicyKind::AwsManaged => String::new(),
            PolicyKind::InlineUser(n) => {
                format!("Maximum policy size of 2048 bytes exceeded for user {n}")
            }
            PolicyKind::InlineGroup(n) => {
                format!("Maximum policy size of 5120 bytes exceeded for group {n}")
            }
            PolicyKind::InlineRole(n) => {
                format!("Maximum policy size of 10240 bytes exceeded for role {n}")
            }
            PolicyKind::Scp => {
                "Policy exceeds the maximum size of 5120 characters for a service control policy"
                    .into()
            }
            PolicyKind::Session => "Packed policy consumes more than 100% of allotted space".into(),
            PolicyKind::Trust => "Cannot exceed quota for ACLSizePerRole: 2048".into(),
        }
    }

    /// A short description for messages ("the managed policy").
    pub fn describe(&self) -> &'static str {
        match self {
            PolicyKind::Managed => "the managed policy",
            PolicyKind::AwsManaged => "the AWS managed policy",
            PolicyKind::Boundary => "the permissions boundary",
            PolicyKind::InlineUser(_) | PolicyKind::InlineGroup(_) | PolicyKind::InlineRole(_) => {
                "the inline policy"
            }
            PolicyKind::Scp => "the service control policy",
            PolicyKind::Session => "the session policy",
            PolicyKind::Trust => "the trust policy",
        }
    }
}

/// The outcome of validating one document.
#[derive(Debug, Clone)]
pub struct ValidationReport {
    /// The source, for rendering positions: the policy's file, or after
    /// [`ValidationReport::relocate`] the file that holds the policy.
    pub source: Arc<SourceFile>,
    /// The document as parsed (absent when the text is not a JSON object).
    pub document: Option<PolicyDocument>,
    /// Every finding: IAM's verdict first (if IAM rejects), then the rest of IAM's
    /// errors by step, then swf-iam's own findings in document order.
    pub findings: Vec<Finding>,
}

impl ValidationReport {
    /// IAM's verdict: whether `CreatePolicy` would accept the document.
    pub fn iam_valid(&self) -> bool {
        !self.findings.iter().any(|f| f.iam_step.is_some())
    }

    /// IAM's `MalformedPolicyDocument` (or quota) message, if IAM rejects the document.
    pub fn iam_message(&self) -> Option<&str> {
        self.findings
            .first()
            .filter(|f| f.iam_step.is_some())
            .map(|f| f.message.as_str())
    }

    /// Moves the report from the policy's own text to the file that holds it: spans
    /// become the file's, pointers extend the policy's pointer in the file where the
    /// policy is a structure there, and positions render against the file.
    pub fn relocate(&mut self, origin: &Origin) {
        for f in &mut self.findings {
            f.span = f.span.map(|s| origin.map.file_span(s));
            for r in &mut f.related {
                r.span = origin.map.file_span(r.span);
            }
            f.pointer = origin.pointer(&f.pointer);
        }
        self.source = origin.file.clone();
    }

    /// Number of findings of `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// Which IAM-step finding IAM reports: the first of the earliest step, except for the
/// resource-format step where each failure overwrites the last (so the last visited).
fn verdict_index(findings: &[Finding]) -> Option<usize> {
    let step = findings.iter().filter_map(|f| f.iam_step).min()?;
    let mut idx = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.iam_step == Some(step))
        .map(|(i, _)| i);
    if step == IamStep::ResourceFormat {
        idx.next_back()
    } else {
        idx.next()
    }
}

/// Validates policy text named `name`, as IAM's `CreatePolicy` would for a policy of `kind`.
pub fn validate(name: &str, input: &[u8], kind: &PolicyKind) -> ValidationReport {
    validate_with(name, input, kind, true)
}

/// [`validate`] with only what IAM itself checks (parse and IAM's rules), without
/// swf-iam's lints: what loading a policy for evaluation needs.
pub fn validate_iam(name: &str, input: &[u8], kind: &PolicyKind) -> ValidationReport {
    validate_with(name, input, kind, false)
}

fn validate_with(name: &str, input: &[u8], kind: &PolicyKind, lints: bool) -> ValidationReport {
    let text = String::from_utf8_lossy(input).into_owned();
    let source = Arc::new(SourceFile::new(name, text));
    if input.len() > MAX_INPUT_BYTES {
        let f = Finding::new(
            Severity::Error,
            "policy-size",
            kind.size_message(),
            Some(Span::new(0, 0)),
            Pointer::root(),
        )
        .at_step(IamStep::Size)
        .with_detail(format!(
            "the input is {} bytes; swf-iam reads at most {MAX_INPUT_BYTES}",
            input.len()
        ));
        return ValidationReport {
            source,
            document: None,
            findings: vec![f],
        };
    }
    let parsed = parse(input);
    let mut findings = parsed.findings;
    if let Some(doc) = &parsed.document {
        iam::check(doc, source.text(), kind, &mut findings);
        if lints {
            lint::check(doc, kind, &mut findings);
        }
    }
    // Order: verdict, other IAM errors by step (stable), then the rest by position.
    let verdict = verdict_index(&findings).map(|i| findings.remove(i));
    let (mut iam_steps, mut rest): (Vec<Finding>, Vec<Finding>) =
        findings.into_iter().partition(|f| f.iam_step.is_some());
    iam_steps.sort_by_key(|f| f.iam_step);
    rest.sort_by_key(|f| (f.span.map_or(0, |s| s.start), f.severity));
    let findings = verdict.into_iter().chain(iam_steps).chain(rest).collect();
    ValidationReport {
        source,
        document: parsed.document,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_trust(doc: &str) -> Option<String> {
        validate("t.json", doc.as_bytes(), &PolicyKind::Trust)
            .iam_message()
            .map(str::to_owned)
    }

    #[test]
    fn trust_policies_are_judged_as_iam_judges_them() {
        let st = |body: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{body}]}}"#);
        let ok = st(
            r#"{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:role/w","arn:aws:sts::123456789012:assumed-role/w/s"],"Service":"ecs-tasks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":"x"}}}"#,
        );
        let r = validate("t.json", ok.as_bytes(), &PolicyKind::Trust);
        assert!(r.iam_valid(), "{:#?}", r.findings);
        assert_eq!(
            first_trust(&st(
                r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}"#
            )),
            None
        );
        for (body, msg) in [
            (
                r#"{"Effect":"Allow","Action":"sts:AssumeRole"}"#,
                iam::MSG_TRUST_PRINCIPAL.to_owned(),
            ),
            (
                r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}"#,
                "Has prohibited field Resource".to_owned(),
            ),
            (
                r#"{"Effect":"Allow","Principal":"*","Action":"swf:*"}"#,
                iam::MSG_TRUST_ACTIONS.to_owned(),
            ),
            (
                r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/*"},"Action":"sts:AssumeRole"}"#,
                r#"Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:role/*""#
                    .to_owned(),
            ),
            (
                r#"{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"sts:AssumeRole"}"#,
                r#"Invalid principal in policy: "AWS":"alice""#.to_owned(),
            ),
            (
                r#"{"Effect":"Allow","Principal":{"Service":"ecs"},"Action":"sts:AssumeRole"}"#,
                r#"Invalid principal in policy: "Service":"ecs""#.to_owned(),
            ),
            (
                r#"{"Effect":"Allow","Principal":{"Users":"x"},"Action":"sts:AssumeRole"}"#,
                r#"Invalid principal in policy: "Users":"x""#.to_owned(),
            ),
            (
                r#"{"Effect":"Allow","Principal":"someone","Action":"sts:AssumeRole"}"#,
                "Invalid principal in policy".to_owned(),
            ),
        ] {
            assert_eq!(
                first_trust(&st(body)).as_deref(),
                Some(msg.as_str()),
                "{body}"
            );
        }
        // Identity policies still refuse a principal.
        assert_eq!(first(&ok).as_deref(), Some(iam::MSG_PRINCIPAL));
    }

    fn first(doc: &str) -> Option<String> {
        validate("t.json", doc.as_bytes(), &PolicyKind::Managed)
            .iam_message()
            .map(str::to_owned)
    }

    const OK: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Beat","Effect":"Allow","Action":"swf:RecordActivityTaskHeartbeat","Resource":"arn:aws:swf:*:123456789012:/domain/orders"}]}"#;

    #[test]
    fn valid_document_has_no_findings() {
        let r = validate("t.json", OK.as_bytes(), &PolicyKind::Managed);
        assert!(r.iam_valid());
        assert!(r.findings.is_empty(), "{:#?}", r.findings);
    }

    #[test]
    fn spec_validation_cases_v1_to_v9() {
        // V1
        assert_eq!(
            first(r#"{"Statement":{"Effect":"Allow","Action":"swf:*","Resource":"*"}}"#).unwrap(),
            iam::MSG_VERSION
        );
        // V2
        assert_eq!(
            first(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"RecordActivityTaskHeartbeat","Resource":"*"}}"#).unwrap(),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
        );
        // V3
        assert_eq!(
            first(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"swf:*","Resource":"domain/orders"}}"#).unwrap(),
            "Resource domain/orders must be in ARN format or \"*\"."
        );
        // V4
        assert_eq!(
            first(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"swf:*","Resource":"arn:amazon:swf:::/domain/x"}}"#).unwrap(),
            "Partition \"amazon\" is not valid for resource \"arn:amazon:swf:::/domain/x\"."
        );
        // V5
        assert_eq!(
            first(r#"{"Version":"2012-10-17","Statement":[{"Sid":"Beat","Effect":"Allow","Action":"swf:*","Resource":"*"},{"Sid":"Beat","Effect":"Deny","Action":"swf:*","Resource":"*"}]}"#).unwrap(),
            iam::MSG_SID_UNIQUE
        );
        // V6
        assert_eq!(
            first(r#"{"Version":"2012-10-17","Statement":{"Sid":"beat-1","Effect":"Allow","Action":"swf:*","Resource":"*"}}"#).unwrap(),
            iam::MSG_SID_ALNUM
        );
        // V7
        assert_eq!(
            first(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"swf:*","Resource":"*"}}"#).unwrap(),
            iam::MSG_PRINCIPAL
        );
        // V8
        assert_eq!(
            first(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"swf:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2026-13-01"}}}}"#).unwrap(),
            iam::MSG_LEGACY
        );
        // V9: 6,145 non-whitespace characters.
        let head = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"swf:*","Resource":"arn:aws:swf:*:*:/domain/"#;
        let tail = r#""}}"#;
        let pad = 6145 - head.len() - tail.len();
        let doc = format!("{head}{}{tail}", "x".repeat(pad));
        assert_eq!(doc.len(), 6145);
        assert_eq!(
            first(&doc).unwrap(),
            "Cannot exceed quota for PolicySize: 6144"
        );
        let doc = format!("{head}{}{tail}", "x".repeat(pad - 1));
        assert_eq!(first(&doc), None);
        // Whitespace does not count.
        let doc = format!("{head}{}{tail}   \n\n  ", "x".repeat(pad - 1));
        assert_eq!(first(&doc), None);
    }

    #[test]
    fn step_order_follows_the_moto_corpus() {
        // no Version + "denY" → version message
        assert_eq!(
            first(r#"{"Statement":{"Effect":"denY","Action":"swf:*","Resource":"*"}}"#).unwrap(),
            iam::MSG_VERSION
        );
        // "Action":"invalid" without Resource → vendor message
        assert_eq!(
            first(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"invalid"}}"#)
                .unwrap(),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
        );
        // duplicate Sids + a statement without Action → Sid message
        assert_eq!(
            first(r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Resource":"*"},{"Sid":"A","Effect":"Allow","Action":"swf:*","Resource":"*"}]}"#).unwrap(),
            iam::MSG_SID_UNIQUE
        );
        // Effect in wrong case: syntax passes, legacy fails.
        assert_eq!(first(r#"{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"swf:*","Resource":"*"}}"#).unwrap(), iam::MSG_LEGACY);
        // Syntax beats everything.
        assert_eq!(
            first(r#"{"Statement":{"Effect":"Maybe","Action":"swf:*","Resource":"*"}}"#).unwrap(),
            "Syntax errors in policy."
        );
    }

    #[test]
    fn last_visited_resource_error_wins() {
        assert_eq!(
            first(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":["arn:error:s3:::example_bucket","arn:error:s3::example_bucket"]}}"#).unwrap(),
            "Partition \"error\" is not valid for resource \"arn:error:s3:::example_bucket\"."
        );
    }

    #[test]
    fn all_problems_are_reported_not_just_the_first() {
        let r = validate(
            "t.json",
            br#"{"Version":"2012-10-17","Statement":[
              {"Sid":"a-1","Effect":"Allow","Action":"swf:RecordActivityTaskHeartbeet","Resource":"arn:aws:swf:::/domain/x"},
              {"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}"#,
            &PolicyKind::Managed,
        );
        let codes: Vec<&str> = r.findings.iter().map(|f| f.code).collect();
        assert_eq!(
            codes,
            vec![
                "sid-not-alphanumeric",
                "unknown-action",
                "empty-region-or-account",
                "allow-with-not-action"
            ]
        );
        assert_eq!(
            r.findings[1].detail.as_deref(),
            Some("did you mean `swf:RecordActivityTaskHeartbeat`?")
        );
    }
}
