//! Sources of principals and policies besides a swf-iam configuration: Terraform plans
//! (`terraform show -json`), CloudFormation / SAM templates (JSON or YAML) and account
//! authorization details (`aws iam get-account-authorization-details`).
//!
//! An importer reads one file into an [`Imported`]: every policy document in it (with
//! its kind and the way back from its text to the file, so findings are placed in the
//! file), the principals it defines with the policies that apply to each, and its
//! service control policies. Nothing is guessed: a reference the file does not resolve
//! (an AWS managed policy given only by ARN, an intrinsic that cannot be evaluated
//! offline) stays a named gap, for the configuration to fill or report.

pub mod authz;
pub mod cloudformation;
pub mod render;
pub mod terraform;
pub mod yaml;

pub(crate) use crate::json::{get, get_items, get_str};
use crate::json::{Node, Value};
use crate::text::{Origin, Pointer, SourceFile, TextMap};
use crate::validate::PolicyKind;
use std::sync::Arc;

/// The kinds of source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SourceKind {
    /// `terraform show -json PLAN` output.
    TerraformPlan,
    /// A CloudFormation, SAM or CDK-synthesized template, JSON or YAML.
    CloudFormation,
    /// `aws iam get-account-authorization-details` output (or the raw API's).
    AuthorizationDetails,
}

impl SourceKind {
    /// The name used in configurations and messages (`terraformPlan`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::TerraformPlan => "terraformPlan",
            SourceKind::CloudFormation => "cloudFormation",
            SourceKind::AuthorizationDetails => "authorizationDetails",
        }
    }
}

/// What importers need from the configuration: the values of `AWS::AccountId`,
/// `AWS::Region` and `AWS::Partition`, and of ARNs the file leaves to its account.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The partition (`aws`).
    pub partition: String,
    /// The account ID.
    pub account: String,
    /// The region.
    pub region: String,
    /// What reading a source may cost.
    pub limits: Limits,
}

/// A source file that cannot be read as its kind.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub crate::text::Located);

/// The text of an imported policy and where it sits in its file.
#[derive(Debug, Clone)]
pub struct PolicyText {
    /// The policy document as IAM receives it.
    pub text: String,
    /// Where the text is in the file.
    pub origin: Arc<Origin>,
}

/// One policy document of a source.
#[derive(Debug, Clone)]
pub struct ImportedPolicy {
    /// A name for messages: the policy's name and where the source defines it.
    pub name: String,
    /// The managed policy's ARN, for managed policies.
    pub arn: Option<String>,
    /// The kind IAM holds it to.
    pub kind: PolicyKind,
    /// Where the policy is defined in the file.
    pub pointer: Pointer,
    /// Byte offset of that place.
    pub offset: usize,
    /// The text, or what the source leaves unresolved in it.
    pub text: Result<PolicyText, String>,
}

/// How a principal uses a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyUse {
    /// A policy of the same source (index into [`Imported::policies`]).
    Imported(usize),
    /// A managed policy named only by ARN (resolved by the configuration, from other
    /// sources or its managed policy directory).
    Arn(String),
}

/// A principal a source defines: a role (evaluated as a session of it) or a user.
#[derive(Debug, Clone)]
pub struct ImportedPrincipal {
    /// Its IAM ARN (`arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`, `...:user/...`).
    pub arn: String,
    /// Where the source defines it (`aws_iam_role.worker`, `WorkerRole`, its ARN).
    pub defined_by: String,
    /// Its tags (`aws:PrincipalTag`).
    pub tags: Vec<(String, String)>,
    /// Identity-based policies: its own, then its groups'.
    pub identity: Vec<PolicyUse>,
    /// Its permissions boundary.
    pub boundary: Option<PolicyUse>,
    /// A role's trust policy (`AssumeRolePolicyDocument`, `assume_role_policy`).
    pub trust: Option<PolicyUse>,
    /// A role's `MaxSessionDuration` in seconds, when the source sets it.
    pub max_session_duration: Option<u64>,
    /// The groups it is in.
    pub groups: Vec<String>,
    /// What the source leaves unresolved about it (besides its policies' texts).
    pub missing: Vec<String>,
}

/// A service control policy a source defines, with its attachment targets.
#[derive(Debug, Clone)]
pub struct ImportedScp {
    /// Its name.
    pub name: String,
    /// The policy (index into [`Imported::policies`]).
    pub policy: usize,
    /// The roots, OUs or accounts it is attached to, as the source gives them.
    pub targets: Vec<String>,
}

/// Everything read from one source file.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The kind of file.
    pub kind: SourceKind,
    /// The file.
    pub file: Arc<SourceFile>,
    /// Every policy document in it, in file order.
    pub policies: Vec<ImportedPolicy>,
    /// The principals it defines.
    pub principals: Vec<ImportedPrincipal>,
    /// Its service control policies.
    pub scps: Vec<ImportedScp>,
}

/// The largest source file read by default (authorization details of big accounts run
/// to tens of megabytes); a configuration's `importLimits.maxFileBytes` changes it.
pub const MAX_SOURCE_BYTES: usize = 64 << 20;

/// What YAML aliases and CloudFormation's intrinsic functions may produce beyond the
/// file's own text, by default: bytes of text plus 64 per node built
/// (`importLimits.maxExpansion`).
pub const MAX_EXPANSION: usize = 64 << 20;

/// Bounds on what reading one source file may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read, in bytes ([`MAX_SOURCE_BYTES`] by default).
    pub max_file_bytes: u64,
    /// Most that alias expansion and intrinsic results may add ([`MAX_EXPANSION`] by
    /// default): the text they produce in bytes plus 64 for each node they build.
    pub max_expansion: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: MAX_SOURCE_BYTES as u64,
            max_expansion: MAX_EXPANSION,
        }
    }
}

/// Most reasons kept for one unresolved principal; past them, one line says that more
/// were left out.
pub const MAX_REASONS: usize = 16;

/// Adds `why` to an unresolved principal's reasons: once each, and at most
/// [`MAX_REASONS`] of them, then one line saying more were left out, so that one
/// unresolvable resource that thousands of others name costs each principal a constant.
pub fn add_reason<S: AsRef<str> + Into<String>>(list: &mut Vec<String>, why: S) {
    if list.len() > MAX_REASONS || list.iter().any(|w| w == why.as_ref()) {
        return;
    }
    if list.len() == MAX_REASONS {
        list.push(format!(
            "(more reasons were left out: only the first {MAX_REASONS} are kept)"
        ));
        return;
    }
    list.push(why.into());
}

/// The kind of a source file, by its shape (`None`: not a source file).
pub fn detect(bytes: &[u8]) -> Option<SourceKind> {
    if is_json_object(bytes) {
        let root = crate::json::parse_document(bytes).ok()?;
        return detect_node(&root);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let root = yaml::parse(text).ok()?;
    match detect_node(&root) {
        Some(SourceKind::CloudFormation) => Some(SourceKind::CloudFormation),
        _ => None,
    }
}

/// Whether the text starts (after whitespace) as a JSON object; otherwise a template is
/// read as YAML.
fn is_json_object(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

fn detect_node(root: &Node) -> Option<SourceKind> {
    let Value::Object(members) = &root.value else {
        return None;
    };
    let has = |k: &str| members.iter().any(|m| m.key == k);
    if has("Statement") {
        return None;
    }
    if has("format_version") && (has("planned_values") || has("configuration")) {
        Some(SourceKind::TerraformPlan)
    } else if ["UserDetailList", "RoleDetailList", "GroupDetailList"]
        .iter()
        .any(|k| has(k))
        || (has("Policies") && !has("Resources") && members.len() <= 6)
    {
        Some(SourceKind::AuthorizationDetails)
    } else if has("AWSTemplateFormatVersion")
        || matches!(
            members
                .iter()
                .find(|m| m.key == "Resources")
                .map(|m| &m.value.value),
            Some(Value::Object(_))
        )
    {
        Some(SourceKind::CloudFormation)
    } else {
        None
    }
}

/// Reads source file `name` (text `bytes`) as `kind`. CloudFormation `parameters` are
/// the template's parameter values (unset ones take their defaults).
pub fn import(
    name: &str,
    bytes: &[u8],
    kind: SourceKind,
    settings: &Settings,
    parameters: &[(String, ParameterValue)],
) -> Result<Imported, SourceError> {
    let max = settings.limits.max_file_bytes;
    if bytes.len() as u64 > max {
        return Err(SourceError(crate::text::Located {
            file: name.to_owned(),
            line: 1,
            column: 1,
            pointer: "/".into(),
            message: format!(
                "the file is {} bytes; swf-iam reads at most {max} (`importLimits.maxFileBytes`)",
                bytes.len()
            ),
        }));
    }
    // Text is text: invalid UTF-8 is an error at its place, never replaced silently.
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_owned(),
        Err(e) => {
            let offset = e.valid_up_to();
            let lossy = SourceFile::new(name, String::from_utf8_lossy(bytes).into_owned());
            return Err(SourceError(lossy.locate(
                offset,
                &Pointer::root(),
                format!(
                    "not valid UTF-8: byte 0x{:02x} at offset {offset} begins no character",
                    bytes[offset]
                ),
            )));
        }
    };
    let file = Arc::new(SourceFile::new(name, text));
    let at = |offset: usize, message: String| {
        SourceError(file.locate(offset, &Pointer::root(), message))
    };
    let json_root = || {
        crate::json::parse_document(bytes)
            .map_err(|e| at(e.offset, format!("not valid JSON: {}", e.kind)))
    };
    match kind {
        SourceKind::TerraformPlan => terraform::import(file.clone(), &json_root()?, settings),
        SourceKind::AuthorizationDetails => authz::import(file.clone(), &json_root()?),
        SourceKind::CloudFormation => {
            let root = if is_json_object(bytes) {
                json_root()?
            } else {
                yaml::parse_within(file.text(), settings.limits.max_expansion)
                    .map_err(|e| at(e.offset, e.message))?
            };
            cloudformation::import(file.clone(), &root, settings, parameters)
        }
    }
}

/// A CloudFormation parameter value: a string, or a list (`CommaDelimitedList`,
/// `List<...>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterValue {
    /// One value.
    String(String),
    /// A list of values.
    List(Vec<String>),
}

/// The text of a JSON string node exactly as decoded, with the way back to the file:
/// verbatim runs shift, escapes map to their backslash.
pub fn decode_json_string(file: &SourceFile, node: &Node) -> Option<(String, TextMap)> {
    let raw = file.text().get(node.span.start..node.span.end)?;
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let base = node.span.start + 1;
    let mut out = String::with_capacity(inner.len());
    let mut map = TextMap::default();
    let bytes = inner.as_bytes();
    let mut i = 0;
    let mut run_open = false;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            map.push_point(out.len(), base + i);
            run_open = false;
            let esc = *bytes.get(i + 1)?;
            i += 2;
            match esc {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let hex = |at: usize| {
                        inner
                            .get(at..at + 4)
                            .and_then(|h| u32::from_str_radix(h, 16).ok())
                    };
                    let hi = hex(i)?;
                    i += 4;
                    let c = if (0xD800..0xDC00).contains(&hi) && inner.get(i..i + 2) == Some("\\u")
                    {
                        let lo = hex(i + 2).filter(|lo| (0xDC00..0xE000).contains(lo))?;
                        i += 6;
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
                    } else {
                        char::from_u32(hi)?
                    };
                    out.push(c);
                }
                _ => return None,
            }
        } else {
            if !run_open {
                map.push_run(out.len(), base + i);
                run_open = true;
            }
            let c = inner.get(i..)?.chars().next()?;
            out.push(c);
            i += c.len_utf8();
        }
    }
    Some((out, map))
}

/// Percent-decodes `text` (as the IAM API's URL-encoded policy documents are), with the
/// way back to `text`'s offsets; `None` when the result is not UTF-8.
pub fn percent_decode(text: &str) -> Option<(String, TextMap)> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut map = TextMap::default();
    let mut i = 0;
    let mut run_open = false;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' {
            if let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            ) {
                map.push_point(out.len(), i);
                run_open = false;
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        if !run_open {
            map.push_run(out.len(), i);
            run_open = true;
        }
        out.push(b[i]);
        i += 1;
    }
    Some((String::from_utf8(out).ok()?, map))
}

/// A policy document given as a JSON object (its text rendered), a JSON string, or a
/// URL-encoded string (as IAM's API returns documents), with its way back to `file`.
pub fn document_text(
    file: &Arc<SourceFile>,
    doc: &Node,
    pointer: &Pointer,
) -> Result<PolicyText, String> {
    match &doc.value {
        Value::Object(_) => {
            let (text, map) = render::render(doc);
            Ok(PolicyText {
                text,
                origin: Arc::new(Origin {
                    file: file.clone(),
                    map,
                    prefix: Some(pointer.clone()),
                }),
            })
        }
        Value::String(_) => {
            let (decoded, outer) = decode_json_string(file, doc)
                .ok_or_else(|| format!("the policy document at {pointer} is not a valid string"))?;
            let (text, map) = if decoded.trim_start().starts_with('{') {
                (decoded, outer)
            } else {
                let (text, inner) = percent_decode(&decoded).ok_or_else(|| {
                    format!("the URL-encoded policy document at {pointer} is not UTF-8")
                })?;
                (text, inner.then(&outer))
            };
            Ok(PolicyText {
                text,
                origin: Arc::new(Origin {
                    file: file.clone(),
                    map,
                    prefix: None,
                }),
            })
        }
        other => Err(format!(
            "the policy document at {pointer} is {}, not an object or a string",
            other.type_name()
        )),
    }
}

/// An IAM ARN for a principal or policy named `name` under `path` (`/` when absent).
pub fn iam_arn(settings: &Settings, kind: &str, path: Option<&str>, name: &str) -> String {
    let path = path.filter(|p| !p.is_empty()).unwrap_or("/");
    format!(
        "arn:{}:iam::{}:{kind}{path}{name}",
        settings.partition, settings.account
    )
}

/// Whether `arn` is an AWS managed policy's (`arn:PARTITION:iam::aws:policy/...`).
pub fn is_aws_managed(arn: &str) -> bool {
    arn.split(':').nth(4) == Some("aws") && arn.split(':').nth(2) == Some("iam")
}

/// The kind of a managed policy with ARN `arn`.
pub fn managed_kind(arn: &str) -> PolicyKind {
    if is_aws_managed(arn) {
        PolicyKind::AwsManaged
    } else {
        PolicyKind::Managed
    }
}

/// [`parameters`] read from the JSON file `path`.
pub fn read_parameters(path: &std::path::Path) -> Result<Vec<(String, ParameterValue)>, String> {
    let bytes = crate::files::read_bounded(path, crate::files::MAX_POLICY_FILE_BYTES)
        .map_err(|e| format!("parameters: {e}"))?;
    let node = crate::json::parse(&bytes)
        .map_err(|e| format!("parameters `{}` are not valid JSON: {e}", path.display()))?;
    parameters(&node).map_err(|e| format!("{}: {e}", path.display()))
}

/// CloudFormation parameter values from JSON in any of the shapes tools use: an object
/// of values (`{"Env": "prod", "Domains": ["a", "b"]}`), a template configuration file
/// (`{"Parameters": {...}}`), or the CLI's list
/// (`[{"ParameterKey": "Env", "ParameterValue": "prod"}]`).
pub fn parameters(node: &Node) -> Result<Vec<(String, ParameterValue)>, String> {
    let value = |n: &Node, k: &str| -> Result<ParameterValue, String> {
        match &n.value {
            Value::String(s) | Value::Number(s) => Ok(ParameterValue::String(s.clone())),
            Value::Bool(b) => Ok(ParameterValue::String(b.to_string())),
            Value::Array(items) => items
                .iter()
                .map(|i| match &i.value {
                    Value::String(s) | Value::Number(s) => Ok(s.clone()),
                    _ => Err(format!("parameter `{k}`: list values must be strings")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(ParameterValue::List),
            other => Err(format!(
                "parameter `{k}` must be a string or a list of strings, not {}",
                other.type_name()
            )),
        }
    };
    match &node.value {
        Value::Object(members) => {
            if let (1, Some(p)) = (members.len(), get(node, "Parameters")) {
                return parameters(p);
            }
            members
                .iter()
                .map(|m| Ok((m.key.clone(), value(&m.value, &m.key)?)))
                .collect()
        }
        Value::Array(items) => items
            .iter()
            .map(|i| {
                let k = get_str(i, "ParameterKey")
                    .ok_or("each entry of a parameter list needs `ParameterKey`")?;
                let v = get(i, "ParameterValue")
                    .ok_or_else(|| format!("parameter `{k}` needs `ParameterValue`"))?;
                Ok((k.to_owned(), value(v, k)?))
            })
            .collect(),
        other => Err(format!(
            "parameters are an object or a list, not {}",
            other.type_name()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_decode_with_positions() {
        let text = r#"{"p": "a\"b\u00e9c\ud83d\ude00d"}"#;
        let file = SourceFile::new("f", text);
        let root = crate::json::parse(text.as_bytes()).unwrap();
        let node = get(&root, "p").unwrap();
        let (s, map) = decode_json_string(&file, node).unwrap();
        assert_eq!(s, "a\"béc😀d");
        assert_eq!(Value::String(s.clone()), node.value);
        // 'a' at 7, '"' escape at 8, 'b' at 10, 'é' escape at 11, 'c' at 17.
        assert_eq!(map.file_offset(0), 7);
        assert_eq!(map.file_offset(1), 8);
        assert_eq!(map.file_offset(2), 10);
        assert_eq!(map.file_offset(3), 11);
        assert_eq!(map.file_offset(s.find('c').unwrap()), 17);
        assert_eq!(map.file_offset(s.find('d').unwrap()), 30);
    }

    #[test]
    fn percent_decoding_keeps_positions_and_plus() {
        let (s, map) = percent_decode("%7B%22a%22%3A1+2%7D").unwrap();
        assert_eq!(s, "{\"a\":1+2}");
        assert_eq!(map.file_offset(0), 0);
        assert_eq!(map.file_offset(2), 6);
        assert_eq!(map.file_offset(5), 13);
        assert_eq!(map.file_offset(6), 14);
        assert!(percent_decode("%FF").is_none());
        assert_eq!(percent_decode("100%").unwrap().0, "100%");
    }

    #[test]
    fn shapes_are_recognised() {
        assert_eq!(
            detect(br#"{"format_version":"1.2","planned_values":{}}"#),
            Some(SourceKind::TerraformPlan)
        );
        assert_eq!(
            detect(br#"{"UserDetailList":[],"Policies":[]}"#),
            Some(SourceKind::AuthorizationDetails)
        );
        assert_eq!(
            detect(br#"{"Resources":{"R":{"Type":"AWS::IAM::Role"}}}"#),
            Some(SourceKind::CloudFormation)
        );
        assert_eq!(
            detect(b"Resources:\n  R:\n    Type: AWS::IAM::Role\n"),
            Some(SourceKind::CloudFormation)
        );
        assert_eq!(detect(br#"{"Version":"2012-10-17","Statement":[]}"#), None);
        assert_eq!(detect(br#"{"principals":[]}"#), None);
        assert_eq!(detect(b"just: yaml\n"), None);
    }

    #[test]
    fn parameter_files_in_every_shape() {
        let want = vec![
            ("Env".to_owned(), ParameterValue::String("prod".into())),
            (
                "Ds".to_owned(),
                ParameterValue::List(vec!["a".into(), "b".into()]),
            ),
        ];
        for text in [
            r#"{"Env": "prod", "Ds": ["a", "b"]}"#,
            r#"{"Parameters": {"Env": "prod", "Ds": ["a", "b"]}}"#,
            r#"[{"ParameterKey": "Env", "ParameterValue": "prod"}, {"ParameterKey": "Ds", "ParameterValue": ["a", "b"]}]"#,
        ] {
            let node = crate::json::parse(text.as_bytes()).unwrap();
            assert_eq!(parameters(&node).unwrap(), want, "{text}");
        }
        let node = crate::json::parse(br#"{"Env": {"x": 1}}"#).unwrap();
        assert!(parameters(&node).unwrap_err().contains("parameter `Env`"));
    }
}
