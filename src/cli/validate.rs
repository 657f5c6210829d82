//! `swf-iam validate`: judge policy documents as IAM's `CreatePolicy` would.

use super::out::Out;
use super::{inputs, Format, EXIT_FAIL, EXIT_OK, EXIT_USAGE};
use crate::render;
use crate::validate::{validate, PolicyKind, ValidationReport};
use crate::Severity;
use clap::ValueEnum;

/// The kind of policy, which sets IAM's size quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Customer managed policy (6,144 characters).
    Managed,
    /// Permissions boundary (6,144).
    Boundary,
    /// Inline policy of a user (2,048).
    InlineUser,
    /// Inline policy of a group (5,120).
    InlineGroup,
    /// Inline policy of a role (10,240).
    InlineRole,
    /// Service control policy (5,120).
    Scp,
    /// Session policy (2,048).
    Session,
}

/// Arguments of `swf-iam validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// What kind of policy the documents are (sets the size quota).
    #[arg(long, value_enum, default_value = "managed")]
    pub kind: Kind,
    /// Name of the user, group or role, for IAM's inline-policy size message (required
    /// with the inline kinds).
    #[arg(long, required_if_eq_any = [("kind", "inline-user"), ("kind", "inline-group"), ("kind", "inline-role")])]
    pub name: Option<String>,
    /// Files, directories (every *.json below), glob patterns, or - for standard input.
    #[arg(required = true)]
    pub paths: Vec<String>,
}

fn kind(args: &Args) -> PolicyKind {
    let name = || args.name.clone().unwrap_or_default();
    match args.kind {
        Kind::Managed => PolicyKind::Managed,
        Kind::Boundary => PolicyKind::Boundary,
        Kind::InlineUser => PolicyKind::InlineUser(name()),
        Kind::InlineGroup => PolicyKind::InlineGroup(name()),
        Kind::InlineRole => PolicyKind::InlineRole(name()),
        Kind::Scp => PolicyKind::Scp,
        Kind::Session => PolicyKind::Session,
    }
}

/// Runs `validate`: 0 when no finding is an error, 1 when some is, 2 on usage or I/O errors.
pub fn run(args: &Args) -> u8 {
    let inputs = match inputs::expand(&args.paths) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    let kind = kind(args);
    let mut reports: Vec<ValidationReport> = Vec::with_capacity(inputs.len());
    for input in &inputs {
        match input.read() {
            Ok(bytes) => reports.push(validate(&input.name(), &bytes, &kind)),
            Err(e) => {
                eprintln!("swf-iam: {e}");
                return EXIT_USAGE;
            }
        }
    }
    let mut out = Out::new();
    match args.format {
        Format::Text => {
            for r in &reports {
                out.write(&render::report_text(r));
                if out.closed() {
                    break;
                }
            }
            let count = |s| reports.iter().map(|r| r.count(s)).sum::<usize>();
            let invalid = reports.iter().filter(|r| !r.iam_valid()).count();
            out.line(&format!(
                "{} file{} checked: {} rejected by IAM, {} error{}, {} security warning{}, {} warning{}",
                reports.len(),
                plural(reports.len()),
                invalid,
                count(Severity::Error),
                plural(count(Severity::Error)),
                count(Severity::SecurityWarning),
                plural(count(Severity::SecurityWarning)),
                count(Severity::Warning),
                plural(count(Severity::Warning)),
            ));
        }
        Format::Json => {
            let v = serde_json::json!({
                "files": reports.iter().map(render::report_json).collect::<Vec<_>>(),
                "summary": render::summary_json(&reports),
            });
            out.line(&serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        Format::Sarif => {
            out.line(&serde_json::to_string_pretty(&render::sarif(&reports)).unwrap_or_default());
        }
    }
    out.flush();
    if reports.iter().any(|r| r.count(Severity::Error) > 0) {
        EXIT_FAIL
    } else {
        EXIT_OK
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
