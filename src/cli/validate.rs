//! `swf-iam validate`: judge policy documents as IAM's `CreatePolicy` would.

use super::out::Out;
use super::{inputs, Format, EXIT_FAIL, EXIT_OK, EXIT_USAGE};
use crate::config::{Config, PolicyRef};
use crate::render;
use crate::text::{Pointer, SourceFile};
use crate::validate::{validate, PolicyKind, ValidationReport};
use crate::Severity;
use clap::ValueEnum;
use std::path::{Path, PathBuf};

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
    /// A role's trust policy (2,048): `Principal` required, `sts:` actions only, no
    /// `Resource`.
    Trust,
}

/// Arguments of `swf-iam validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// What kind of policy the documents given directly are (sets the size quota);
    /// policies a configuration names keep their own kinds.
    #[arg(long, value_enum, default_value = "managed")]
    pub kind: Kind,
    /// Name of the user, group or role, for IAM's inline-policy size message (required
    /// with the inline kinds).
    #[arg(long, required_if_eq_any = [("kind", "inline-user"), ("kind", "inline-group"), ("kind", "inline-role")])]
    pub name: Option<String>,
    /// CloudFormation parameter values for templates given directly (JSON: an object of
    /// values, `{"Parameters": {...}}`, or the CLI's `[{"ParameterKey", "ParameterValue"}]`).
    #[arg(long)]
    pub parameters: Option<PathBuf>,
    /// Files, directories (every *.json and YAML CloudFormation template below), glob
    /// patterns, or - for standard input. A
    /// swf-iam configuration or case file is recognised by its shape: the policies it
    /// names are validated, each with its own kind. So are Terraform plans (`terraform
    /// show -json`), CloudFormation templates (JSON or YAML) and authorization details:
    /// every policy inside, with the rules IAM applies to it.
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
        Kind::Trust => PolicyKind::Trust,
    }
}

/// What a JSON input is, by its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A policy document (or anything else: validation reports what is wrong).
    Policy,
    /// A swf-iam configuration (`principals`, `scps`, `register`, ... and no `Statement`).
    Config,
    /// A case file (`cases`).
    Cases,
    /// A Terraform plan, CloudFormation template or authorization details.
    Source(crate::importers::SourceKind),
}

fn shape(bytes: &[u8]) -> Shape {
    if let Some(kind) = crate::importers::detect(bytes) {
        return Shape::Source(kind);
    }
    let Ok(root) = crate::json::parse(bytes) else {
        return Shape::Policy;
    };
    let crate::json::Value::Object(members) = &root.value else {
        return Shape::Policy;
    };
    let has = |k: &str| members.iter().any(|m| m.key == k);
    if has("Statement") {
        Shape::Policy
    } else if has("cases") {
        Shape::Cases
    } else if [
        "principals",
        "scps",
        "register",
        "regions",
        "partition",
        "account",
    ]
    .iter()
    .any(|k| has(k))
    {
        Shape::Config
    } else {
        Shape::Policy
    }
}

/// The policies a case file's configuration names (path or inline).
fn case_file_references(
    path: &Path,
    bytes: &[u8],
    configs_seen: &mut Vec<PathBuf>,
) -> Result<Vec<PolicyRef>, String> {
    let source = SourceFile::new(
        path.display().to_string(),
        String::from_utf8_lossy(bytes).into_owned(),
    );
    let root = crate::json::parse(bytes)
        .map_err(|e| format!("{}: not valid JSON: {}", path.display(), e.kind))?;
    let crate::json::Value::Object(members) = &root.value else {
        return Ok(Vec::new());
    };
    let Some(cfg) = members.iter().find(|m| m.key == "config") else {
        return Ok(Vec::new());
    };
    match &cfg.value.value {
        crate::json::Value::String(rel) => {
            let full = path.parent().unwrap_or(Path::new(".")).join(rel);
            let canonical = std::fs::canonicalize(&full).unwrap_or(full.clone());
            if configs_seen.contains(&canonical) {
                return Ok(Vec::new());
            }
            configs_seen.push(canonical);
            let text = crate::files::read_bounded(&full, crate::files::MAX_CONFIG_FILE_BYTES)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Config::policy_references(&full, &text).map_err(|e| e.to_string())
        }
        crate::json::Value::Object(_) => {
            Config::policy_references_in(path, &source, &cfg.value, &Pointer::root().key("config"))
                .map_err(|e| e.to_string())
        }
        _ => Ok(Vec::new()),
    }
}

/// Validates a referenced policy: the findings of an inline or imported one are placed
/// in its enclosing file, under its pointer.
fn validate_reference(r: &PolicyRef) -> ValidationReport {
    let mut report = validate(&r.file.display().to_string(), &r.text, &r.kind);
    if let Some(origin) = &r.origin {
        report.relocate(origin);
    }
    report
}

/// Validates every policy of a source file: each placed in the file, each held to the
/// rules IAM applies to its kind; a policy the file leaves unresolved is a warning that
/// names what is missing.
fn validate_source(imported: &crate::importers::Imported) -> Vec<ValidationReport> {
    use crate::diagnostic::Finding;
    let name = imported.file.name();
    imported
        .policies
        .iter()
        .map(|p| match &p.text {
            Ok(t) => {
                let mut r = validate(name, t.text.as_bytes(), &p.kind);
                r.relocate(&t.origin);
                r
            }
            Err(why) => ValidationReport {
                source: imported.file.clone(),
                document: None,
                findings: vec![Finding::new(
                    Severity::Warning,
                    "unresolved-policy",
                    format!(
                        "{} cannot be resolved offline, so it is not validated: {why}",
                        p.name
                    ),
                    Some(crate::text::Span::new(p.offset, p.offset + 1)),
                    p.pointer.clone(),
                )],
            },
        })
        .collect()
}

/// Runs `validate`: 0 when no finding is an error, 1 when some is, 2 on usage or I/O errors.
///
/// A swf-iam configuration or a case file among the inputs is recognised by its shape:
/// every policy it names is validated with its own kind (SCP levels as `scp`,
/// boundaries as `boundary`, session policies as `session`, identity policies as
/// managed or inline), findings placed in the file that holds the policy text. Other
/// inputs are policies of `--kind`.
pub fn run(args: &Args) -> u8 {
    let inputs = match inputs::expand_with_templates(&args.paths) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    let kind = kind(args);
    // Pass 1: read, classify, and list what configurations and case files name.
    let mut items: Vec<(String, Vec<u8>, Shape, Option<PathBuf>)> = Vec::new();
    for input in &inputs {
        match input.read() {
            Ok(bytes) => {
                let canonical = match input {
                    inputs::Input::File(p) => Some(std::fs::canonicalize(p).unwrap_or(p.clone())),
                    inputs::Input::Stdin => None,
                };
                let sh = shape(&bytes);
                items.push((input.name(), bytes, sh, canonical));
            }
            Err(e) => {
                eprintln!("swf-iam: {e}");
                return EXIT_USAGE;
            }
        }
    }
    let mut configs_seen: Vec<PathBuf> = items
        .iter()
        .filter(|i| i.2 == Shape::Config)
        .filter_map(|i| i.3.clone())
        .collect();
    let mut refs_of: Vec<Vec<PolicyRef>> = Vec::with_capacity(items.len());
    for (name, bytes, sh, _) in &items {
        let refs = match sh {
            Shape::Policy | Shape::Source(_) => Ok(Vec::new()),
            Shape::Config => {
                Config::policy_references(Path::new(name), bytes).map_err(|e| e.to_string())
            }
            Shape::Cases => case_file_references(Path::new(name), bytes, &mut configs_seen),
        };
        match refs {
            Ok(r) => refs_of.push(r),
            Err(e) => {
                eprintln!("swf-iam: {e}");
                return EXIT_USAGE;
            }
        }
    }
    // Policy files named by a configuration: (canonical path, kinds).
    let mut named: Vec<(PathBuf, Vec<PolicyKind>)> = Vec::new();
    for r in refs_of.iter().flatten().filter(|r| r.origin.is_none()) {
        let c = std::fs::canonicalize(&r.file).unwrap_or(r.file.clone());
        match named.iter_mut().find(|(p, _)| *p == c) {
            Some((_, kinds)) if !kinds.contains(&r.kind) => kinds.push(r.kind.clone()),
            Some(_) => {}
            None => named.push((c, vec![r.kind.clone()])),
        }
    }
    let is_input = |c: &PathBuf| items.iter().any(|i| i.3.as_ref() == Some(c));
    let parameters = match &args.parameters {
        Some(p) => match crate::importers::read_parameters(p) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("swf-iam: {e}");
                return EXIT_USAGE;
            }
        },
        None => Vec::new(),
    };
    // Source files: given directly, or named by a configuration (each once).
    let mut sources_seen: Vec<PathBuf> = Vec::new();
    let mut source_reports: Vec<Vec<ValidationReport>> = Vec::with_capacity(items.len());
    for (name, bytes, sh, canonical) in &items {
        let mut reports = Vec::new();
        let result = match sh {
            Shape::Source(kind) => {
                if let Some(c) = canonical {
                    sources_seen.push(c.clone());
                }
                let settings = crate::importers::Settings {
                    partition: crate::config::DEFAULT_PARTITION.into(),
                    account: crate::config::DEFAULT_ACCOUNT.into(),
                    region: crate::config::DEFAULT_REGION.into(),
                    limits: crate::importers::Limits::default(),
                };
                crate::importers::import(name, bytes, *kind, &settings, &parameters)
                    .map(|i| reports.extend(validate_source(&i)))
                    .map_err(|e| e.to_string())
            }
            Shape::Config => Config::source_references(Path::new(name), bytes)
                .map_err(|e| e.to_string())
                .and_then(|(settings, refs)| {
                    for r in refs {
                        let c = std::fs::canonicalize(&r.path).unwrap_or(r.path.clone());
                        if sources_seen.contains(&c) || is_input(&c) {
                            continue;
                        }
                        sources_seen.push(c);
                        let imported = crate::config::import_source(&r, &settings)?;
                        reports.extend(validate_source(&imported));
                    }
                    Ok(())
                }),
            _ => Ok(()),
        };
        if let Err(e) = result {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
        source_reports.push(reports);
    }
    // Pass 2: in input order, each policy once per kind it is held to.
    let mut reports: Vec<ValidationReport> = Vec::with_capacity(items.len());
    let mut done: Vec<(PathBuf, PolicyKind)> = Vec::new();
    for (((name, bytes, sh, canonical), refs), from_sources) in
        items.iter().zip(&refs_of).zip(source_reports)
    {
        reports.extend(from_sources);
        match sh {
            Shape::Source(_) => {}
            Shape::Policy => {
                let kinds = canonical
                    .as_ref()
                    .and_then(|c| named.iter().find(|(p, _)| p == c))
                    .map_or_else(|| vec![kind.clone()], |(_, k)| k.clone());
                for k in kinds {
                    if let Some(c) = canonical {
                        done.push((c.clone(), k.clone()));
                    }
                    reports.push(validate(name, bytes, &k));
                }
            }
            Shape::Config | Shape::Cases => {
                for r in refs {
                    if r.origin.is_none() {
                        let c = std::fs::canonicalize(&r.file).unwrap_or(r.file.clone());
                        if is_input(&c) || done.contains(&(c.clone(), r.kind.clone())) {
                            continue;
                        }
                        done.push((c, r.kind.clone()));
                    }
                    reports.push(validate_reference(r));
                }
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
            out.line(&render::Summary::of(&reports).text());
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
