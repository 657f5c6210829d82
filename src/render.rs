//! Rendering validation reports: rustc-style text, JSON, and SARIF 2.1.0.

use crate::diagnostic::{Finding, Severity};
use crate::text::{SourceFile, Span};
use crate::validate::ValidationReport;
use serde_json::{json, Value};
use std::fmt::Write as _;

/// Renders one finding like rustc: `error[code]: message`, `--> file:line:column`,
/// the source line with a caret under the span, the detail, and the JSON pointer.
pub fn finding_text(source: &SourceFile, f: &Finding) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}[{}]: {}", f.severity, f.code, f.message);
    let Some(span) = f.span else {
        let _ = writeln!(out, "  --> {}", source.name());
        if let Some(d) = &f.detail {
            let _ = writeln!(out, "   = {d}");
        }
        return out;
    };
    let pad = snippet(&mut out, source, span, f.detail.as_deref());
    for r in &f.related {
        let lc = source.line_col(r.span.start);
        let _ = writeln!(
            out,
            "{pad} = note: {} at {}:{}:{}",
            r.label,
            source.name(),
            lc.line,
            lc.column
        );
    }
    if !f.pointer.as_str().is_empty() {
        let _ = writeln!(out, "{pad} = pointer: {}", f.pointer);
    }
    out
}

fn snippet(out: &mut String, source: &SourceFile, span: Span, label: Option<&str>) -> String {
    let lc = source.line_col(span.start);
    let line = source.line_text(lc.line);
    let num = lc.line.to_string();
    let pad = " ".repeat(num.len());
    let _ = writeln!(out, "{pad}--> {}:{}:{}", source.name(), lc.line, lc.column);
    let _ = writeln!(out, "{pad} |");
    // Long lines (minified JSON) are shown as a window around the span; control
    // characters are escaped.
    let col0 = lc.column - 1;
    let end_lc = source.line_col(span.end);
    let span_chars = if end_lc.line == lc.line {
        (end_lc.column - lc.column).max(1)
    } else {
        line.chars().count().saturating_sub(col0).max(1)
    };
    let e = crate::text::excerpt(line, col0, span_chars);
    let _ = writeln!(out, "{num} | {}", e.text);
    let caret_pad = " ".repeat(e.caret_start);
    let carets = "^".repeat(e.caret_len);
    match label {
        Some(l) => {
            let _ = writeln!(out, "{pad} | {caret_pad}{carets} {l}");
        }
        None => {
            let _ = writeln!(out, "{pad} | {caret_pad}{carets}");
        }
    }
    pad
}

/// Renders a whole report as text: each finding, then nothing more (callers add a summary).
pub fn report_text(r: &ValidationReport) -> String {
    let mut out = String::new();
    for f in &r.findings {
        out.push_str(&finding_text(&r.source, f));
        out.push('\n');
    }
    out
}

/// One finding as a JSON object: severity, code, message, detail, line, column, pointer.
pub fn finding_json(source: &SourceFile, f: &Finding) -> Value {
    let lc = f.span.map(|s| source.line_col(s.start));
    let mut v = json!({
        "severity": f.severity.as_str(),
        "code": f.code,
        "message": f.message,
        "line": lc.map(|l| l.line),
        "column": lc.map(|l| l.column),
        "pointer": f.pointer.as_str(),
    });
    if let Some(obj) = v.as_object_mut() {
        if let Some(d) = &f.detail {
            obj.insert("detail".into(), json!(d));
        }
        if let Some(step) = f.iam_step {
            obj.insert("iamStep".into(), json!(step));
        }
    }
    v
}

/// One report as the JSON object of a file: path, IAM verdict, IAM message, findings.
pub fn report_json(r: &ValidationReport) -> Value {
    json!({
        "path": r.source.name(),
        "valid": r.iam_valid(),
        "iamMessage": r.iam_message(),
        "findings": r.findings.iter().map(|f| finding_json(&r.source, f)).collect::<Vec<_>>(),
    })
}

/// What several reports add up to: each count means one thing, in text and JSON alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Distinct files (a template or plan holding many policies is one).
    pub files: usize,
    /// Policies checked (one per report; a file named by two principals of different
    /// kinds is checked once per kind).
    pub policies: usize,
    /// Policies IAM would reject.
    pub invalid: usize,
    /// Findings of severity `error`.
    pub errors: usize,
    /// Findings of severity `security-warning`.
    pub security_warnings: usize,
    /// Findings of severity `warning` (security warnings not included).
    pub warnings: usize,
    /// Findings of severity `suggestion`.
    pub suggestions: usize,
}

impl Summary {
    /// The summary of `reports`.
    pub fn of(reports: &[ValidationReport]) -> Self {
        let count = |s| reports.iter().map(|r| r.count(s)).sum::<usize>();
        let mut names: Vec<&str> = reports.iter().map(|r| r.source.name()).collect();
        names.sort_unstable();
        names.dedup();
        Summary {
            files: names.len(),
            policies: reports.len(),
            invalid: reports.iter().filter(|r| !r.iam_valid()).count(),
            errors: count(Severity::Error),
            security_warnings: count(Severity::SecurityWarning),
            warnings: count(Severity::Warning),
            suggestions: count(Severity::Suggestion),
        }
    }

    /// The closing line of `validate`'s text output.
    pub fn text(&self) -> String {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let policies = if self.policies == self.files {
            String::new()
        } else {
            format!(
                " ({} polic{})",
                self.policies,
                if self.policies == 1 { "y" } else { "ies" }
            )
        };
        format!(
            "{} file{} checked{policies}: {} rejected by IAM, {} error{}, {} security warning{}, {} warning{}",
            self.files,
            plural(self.files),
            self.invalid,
            self.errors,
            plural(self.errors),
            self.security_warnings,
            plural(self.security_warnings),
            self.warnings,
            plural(self.warnings),
        )
    }
}

/// The `summary` object for several reports ([`Summary`]).
pub fn summary_json(reports: &[ValidationReport]) -> Value {
    let s = Summary::of(reports);
    json!({
        "files": s.files,
        "policies": s.policies,
        "invalid": s.invalid,
        "errors": s.errors,
        "securityWarnings": s.security_warnings,
        "warnings": s.warnings,
        "suggestions": s.suggestions,
    })
}

/// Several reports as one SARIF 2.1.0 log, for code-scanning tools.
pub fn sarif(reports: &[ValidationReport]) -> Value {
    let mut rules: Vec<&'static str> = reports
        .iter()
        .flat_map(|r| r.findings.iter().map(|f| f.code))
        .collect();
    rules.sort_unstable();
    rules.dedup();
    let rules = &rules;
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|r| {
            r.findings.iter().map(move |f| {
                let level = match f.severity {
                    Severity::Error => "error",
                    Severity::SecurityWarning | Severity::Warning => "warning",
                    Severity::Suggestion => "note",
                };
                let text = match &f.detail {
                    Some(d) => format!("{} ({d})", f.message),
                    None => f.message.clone(),
                };
                let mut loc = json!({
                    "physicalLocation": {"artifactLocation": {"uri": r.source.name()}},
                    "logicalLocations": [{"fullyQualifiedName": f.pointer.as_str(), "kind": "element"}],
                });
                if let Some(span) = f.span {
                    let s = r.source.line_col(span.start);
                    let e = r.source.line_col(span.end.max(span.start + 1));
                    loc["physicalLocation"]["region"] = json!({
                        "startLine": s.line, "startColumn": s.column,
                        "endLine": e.line, "endColumn": e.column,
                    });
                }
                json!({
                    "ruleId": f.code,
                    "ruleIndex": rules.iter().position(|c| *c == f.code),
                    "level": level,
                    "message": {"text": text},
                    "locations": [loc],
                    "properties": {"severity": f.severity.as_str(), "pointer": f.pointer.as_str()},
                })
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "swf-iam",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|c| json!({"id": c, "name": c, "shortDescription": {"text": c}})).collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    })
}
