//! Findings: what parsing and validation say about a policy, with severity, code and place.

use crate::text::{Pointer, Span};
use serde::Serialize;
use std::fmt;

/// How serious a finding is. Ordered from most to least serious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The document is invalid, or a statement cannot work as written.
    Error,
    /// The document grants more than it probably means to.
    SecurityWarning,
    /// Something is likely a mistake.
    Warning,
    /// A style or clarity improvement.
    Suggestion,
}

impl Severity {
    /// The name used in output: `error`, `security-warning`, `warning`, `suggestion`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::SecurityWarning => "security-warning",
            Severity::Warning => "warning",
            Severity::Suggestion => "suggestion",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The steps of IAM's `CreatePolicy` validation, in the order IAM runs them
/// (`iam-policy.md` §2.1). A finding with a step is one IAM itself would reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IamStep {
    /// Step 1: JSON and grammar (`Syntax errors in policy.`).
    Syntax,
    /// Step 2: `Version` must be `2012-10-17`.
    Version,
    /// Step 2b: no `Principal` in an identity policy.
    Principal,
    /// Step 3: the legacy parse (`The policy failed legacy parsing`).
    Legacy,
    /// Step 4: unique Sids.
    SidUnique,
    /// Step 4b: alphanumeric Sids.
    SidAlphanumeric,
    /// Step 5: every statement has actions.
    ActionsExist,
    /// Step 6: resource format (the last failing entry visited is reported).
    ResourceFormat,
    /// Step 7: action format.
    ActionFormat,
    /// Step 8: every statement has resources.
    ResourcesExist,
    /// Step 9: size quota.
    Size,
}

/// A second place a finding points at (e.g. the first of two duplicate keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    /// Where.
    pub span: Span,
    /// What is there.
    pub label: String,
}

/// One thing said about a policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How serious it is.
    pub severity: Severity,
    /// A stable, kebab-case code (`syntax`, `unknown-action`, ...).
    pub code: &'static str,
    /// The message: IAM's exact wording for findings IAM would reject on.
    pub message: String,
    /// swf-iam's own explanation of what exactly is wrong, shown under the caret.
    pub detail: Option<String>,
    /// The offending text, if the finding has a place.
    pub span: Option<Span>,
    /// JSON pointer of the offending node (empty for the whole document).
    pub pointer: Pointer,
    /// The IAM validation step that rejects the document for this, if IAM does.
    pub iam_step: Option<IamStep>,
    /// Other places worth showing.
    pub related: Vec<Related>,
}

impl Finding {
    /// A finding without detail, step or related places.
    pub fn new(
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
        span: Option<Span>,
        pointer: Pointer,
    ) -> Self {
        Finding {
            severity,
            code,
            message: message.into(),
            detail: None,
            span,
            pointer,
            iam_step: None,
            related: Vec::new(),
        }
    }

    /// Adds swf-iam's explanation.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Marks the finding as one IAM rejects the document for, at `step`.
    pub fn at_step(mut self, step: IamStep) -> Self {
        self.iam_step = Some(step);
        self
    }

    /// Adds a related place.
    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push(Related {
            span,
            label: label.into(),
        });
        self
    }
}

/// IAM's message for step 1.
pub const MSG_SYNTAX: &str = "Syntax errors in policy.";
