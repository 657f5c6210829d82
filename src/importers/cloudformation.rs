//! CloudFormation, SAM and CDK-synthesized templates (JSON or YAML).
//!
//! Principals are `AWS::IAM::Role`s (evaluated as sessions), `AWS::IAM::User`s and the
//! roles SAM generates for `AWS::Serverless::Function`s; their policies come from their
//! own `Policies`, `ManagedPolicyArns` and `PermissionsBoundary`, `AWS::IAM::Policy` /
//! `RolePolicy` / `UserPolicy` / `GroupPolicy`, `AWS::IAM::ManagedPolicy`, their groups
//! (`Groups`, `AWS::IAM::UserToGroupAddition`). `AWS::Organizations::Policy` gives
//! service control policies.
//!
//! Intrinsic functions are evaluated as CloudFormation would, with the configuration's
//! account, region and partition and the given parameter values (defaults otherwise):
//! `Ref`, `Fn::Sub` (both forms), `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::If` with
//! `Conditions` (`Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not`), `Fn::FindInMap`,
//! `Fn::GetAtt` of ARNs that follow from the template, and `AWS::NoValue`. What cannot
//! be known offline (a generated name, `Fn::ImportValue`, an attribute of a resource
//! without its name) is never guessed: the policy that needs it is left unresolved,
//! naming it.

use super::{
    decode_json_string, get, get_str, iam_arn, render, Imported, ImportedPolicy, ImportedPrincipal,
    ImportedScp, ParameterValue, PolicyText, PolicyUse, Settings, SourceError, SourceKind,
};
use crate::json::{Member, Node, Value};
use crate::text::{Origin, Pointer, SourceFile, Span, TextMap};
use crate::validate::PolicyKind;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

type Res<T> = Result<T, String>;

/// Reads a template already parsed as `root`.
pub fn import(
    file: Arc<SourceFile>,
    root: &Node,
    settings: &Settings,
    parameters: &[(String, ParameterValue)],
) -> Result<Imported, SourceError> {
    let err =
        |node: &Node, ptr: &Pointer, m: String| SourceError(file.locate(node.span.start, ptr, m));
    let resources = match get(root, "Resources") {
        Some(
            r @ Node {
                value: Value::Object(_),
                ..
            },
        ) => r,
        _ => {
            return Err(err(
                root,
                &Pointer::root(),
                "a CloudFormation template needs a `Resources` object".into(),
            ))
        }
    };
    let declared = get(root, "Parameters");
    for (name, _) in parameters {
        if !name.starts_with("AWS::") && declared.and_then(|d| get(d, name)).is_none() {
            return Err(err(
                root,
                &Pointer::root(),
                format!("parameter `{name}` is given a value but the template declares no such parameter"),
            ));
        }
    }
    let cx = Template {
        file: file.clone(),
        settings,
        resources,
        parameters: declared,
        values: parameters,
        conditions: get(root, "Conditions"),
        mappings: get(root, "Mappings"),
        condition_memo: RefCell::new(HashMap::new()),
        property_memo: RefCell::new(HashMap::new()),
        expanded: std::cell::Cell::new(0),
    };
    let mut b = Build {
        cx: &cx,
        policies: Vec::new(),
        principals: Vec::new(),
        groups: HashMap::new(),
        scps: Vec::new(),
    };
    b.run();
    Ok(Imported {
        kind: SourceKind::CloudFormation,
        file,
        policies: b.policies,
        principals: b.principals,
        scps: b.scps,
    })
}

/// Resolved scalar properties by (logical ID, property name).
type PropertyMemo = HashMap<(String, String), Res<Option<String>>>;

struct Template<'a> {
    file: Arc<SourceFile>,
    settings: &'a Settings,
    resources: &'a Node,
    parameters: Option<&'a Node>,
    values: &'a [(String, ParameterValue)],
    conditions: Option<&'a Node>,
    mappings: Option<&'a Node>,
    condition_memo: RefCell<HashMap<String, Res<bool>>>,
    /// Resolved name and path properties by (logical ID, property): a chain of
    /// references is evaluated once per resource, not once per path to it.
    property_memo: RefCell<PropertyMemo>,
    /// What intrinsic functions have produced so far, against
    /// `settings.limits.max_expansion`.
    expanded: std::cell::Cell<usize>,
}

fn string_node(s: String, span: Span) -> Node {
    Node {
        value: Value::String(s),
        span,
    }
}

fn as_str(n: &Node) -> Option<&str> {
    match &n.value {
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// A scalar as the string CloudFormation passes on.
fn scalar(n: &Node) -> Option<String> {
    match &n.value {
        Value::String(s) => Some(s.clone()),
        Value::Number(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The one `Fn::*` / `Ref` / `Condition` member of an intrinsic-function object.
fn intrinsic(n: &Node) -> Option<(&str, &Node)> {
    match &n.value {
        Value::Object(m) if m.len() == 1 => {
            let k = m[0].key.as_str();
            (k == "Ref" || k == "Condition" || k.starts_with("Fn::")).then_some((k, &m[0].value))
        }
        _ => None,
    }
}

/// Where `Ref` of a resource type returns one of its name properties, the property.
const REF_NAME: &[(&str, &str)] = &[
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::IAM::User", "UserName"),
    ("AWS::IAM::Group", "GroupName"),
    ("AWS::IAM::InstanceProfile", "InstanceProfileName"),
    ("AWS::S3::Bucket", "BucketName"),
    ("AWS::DynamoDB::Table", "TableName"),
    ("AWS::Lambda::Function", "FunctionName"),
    ("AWS::Logs::LogGroup", "LogGroupName"),
    ("AWS::Kinesis::Stream", "Name"),
];

/// IAM resources named by their logical ID when their name property is absent (as the
/// issue's naming rule for principals and policies has it).
const NAMED_BY_LOGICAL_ID: &[&str] = &[
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Group",
    "AWS::IAM::ManagedPolicy",
];

impl Template<'_> {
    fn resource(&self, logical: &str) -> Option<&Node> {
        get(self.resources, logical)
    }

    fn resource_type(&self, logical: &str) -> Option<&str> {
        self.resource(logical).and_then(|r| get_str(r, "Type"))
    }

    fn property(&self, logical: &str, prop: &str) -> Option<&Node> {
        self.resource(logical)
            .and_then(|r| get(r, "Properties"))
            .and_then(|p| get(p, prop))
    }

    /// Counts `cost` (bytes of text, plus 64 a node) against the expansion budget.
    fn charge(&self, cost: usize) -> Res<()> {
        let total = self.expanded.get().saturating_add(cost);
        self.expanded.set(total);
        let max = self.settings.limits.max_expansion;
        if total > max {
            return Err(format!(
                "intrinsic functions expand beyond {max} bytes (`importLimits.maxExpansion`)"
            ));
        }
        Ok(())
    }

    /// Property `prop` of resource `logical` resolved to a scalar (`Ok(None)`: absent or
    /// not a scalar), once per resource and property.
    fn scalar_property(&self, logical: &str, prop: &str, depth: usize) -> Res<Option<String>> {
        let key = (logical.to_owned(), prop.to_owned());
        if let Some(v) = self.property_memo.borrow().get(&key) {
            return v.clone();
        }
        let Some(n) = self.property(logical, prop) else {
            return Ok(None);
        };
        // A reference back to itself would recurse: mark it in progress.
        self.property_memo.borrow_mut().insert(
            key.clone(),
            Err(format!("{logical}'s {prop} refers to itself")),
        );
        let v = self
            .resolve(n, depth + 1)
            .map(|v| v.as_ref().and_then(scalar));
        self.property_memo.borrow_mut().insert(key, v.clone());
        v
    }

    /// The resolved string of a resource's name property, or its logical ID for IAM
    /// resources that lack one.
    fn name_of(&self, logical: &str, prop: &str, depth: usize) -> Res<String> {
        match self.property(logical, prop) {
            Some(_) => self
                .scalar_property(logical, prop, depth)?
                .ok_or_else(|| format!("{logical}'s {prop} is not a string")),
            None if NAMED_BY_LOGICAL_ID.contains(&self.resource_type(logical).unwrap_or("")) => {
                Ok(logical.to_owned())
            }
            None => Err(format!(
                "{logical} ({}) has no {prop}: CloudFormation generates its name at deployment, which is not known offline",
                self.resource_type(logical).unwrap_or("?")
            )),
        }
    }

    fn path_of(&self, logical: &str, depth: usize) -> Res<Option<String>> {
        self.scalar_property(logical, "Path", depth)
    }

    fn arn_of(&self, logical: &str, kind: &str, name_prop: &str, depth: usize) -> Res<String> {
        let name = self.name_of(logical, name_prop, depth)?;
        let path = self.path_of(logical, depth)?;
        Ok(iam_arn(self.settings, kind, path.as_deref(), &name))
    }

    fn parameter(&self, name: &str, span: Span) -> Res<Option<Node>> {
        let given = self
            .values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
        let decl = self.parameters.and_then(|p| get(p, name));
        let value = match (given, decl) {
            (Some(v), _) => v,
            (None, Some(d)) => match get(d, "Default").and_then(scalar) {
                Some(s) => {
                    let ty = get_str(d, "Type").unwrap_or("String");
                    if ty == "CommaDelimitedList" || ty.starts_with("List<") {
                        ParameterValue::List(s.split(',').map(|x| x.trim().to_owned()).collect())
                    } else {
                        ParameterValue::String(s)
                    }
                }
                None => {
                    return Err(format!(
                        "parameter {name} has no Default and no value was given (the source's `parameters`)"
                    ))
                }
            },
            (None, None) => return Ok(None),
        };
        let ty = decl.and_then(|d| get_str(d, "Type")).unwrap_or("String");
        let list = ty == "CommaDelimitedList" || ty.starts_with("List<");
        Ok(Some(match value {
            ParameterValue::List(items) => Node {
                value: Value::Array(items.into_iter().map(|s| string_node(s, span)).collect()),
                span,
            },
            ParameterValue::String(s) if list => Node {
                value: Value::Array(
                    s.split(',')
                        .map(|x| string_node(x.trim().to_owned(), span))
                        .collect(),
                ),
                span,
            },
            ParameterValue::String(s) => string_node(s, span),
        }))
    }

    /// `Ref name`.
    fn reference(&self, name: &str, span: Span, depth: usize) -> Res<Option<Node>> {
        let s = self.settings;
        let pseudo = match name {
            "AWS::AccountId" => Some(s.account.clone()),
            "AWS::Region" => Some(s.region.clone()),
            "AWS::Partition" => Some(s.partition.clone()),
            "AWS::URLSuffix" => Some(
                if s.partition == "aws-cn" {
                    "amazonaws.com.cn"
                } else {
                    "amazonaws.com"
                }
                .to_owned(),
            ),
            "AWS::NoValue" => return Ok(None),
            _ => None,
        };
        if let Some(v) = pseudo {
            return Ok(Some(string_node(v, span)));
        }
        if let Some(v) = self.parameter(name, span)? {
            return Ok(Some(v));
        }
        if name.starts_with("AWS::") {
            return Err(format!(
                "Ref {name}: not known offline (give it in the source's `parameters`)"
            ));
        }
        let Some(ty) = self.resource_type(name) else {
            return Err(format!(
                "Ref {name}: no such parameter or resource in the template"
            ));
        };
        if ty == "AWS::IAM::ManagedPolicy" {
            return Ok(Some(string_node(
                self.arn_of(name, "policy", "ManagedPolicyName", depth)?,
                span,
            )));
        }
        match REF_NAME.iter().find(|(t, _)| *t == ty) {
            Some((_, prop)) => Ok(Some(string_node(self.name_of(name, prop, depth)?, span))),
            None => Err(format!(
                "Ref {name} ({ty}): what it returns is not known offline"
            )),
        }
    }

    /// `Fn::GetAtt logical.attr`.
    fn get_att(&self, logical: &str, attr: &str, span: Span, depth: usize) -> Res<Node> {
        let Some(ty) = self.resource_type(logical) else {
            return Err(format!(
                "Fn::GetAtt {logical}.{attr}: no such resource in the template"
            ));
        };
        let s = self.settings;
        let v = match (ty, attr) {
            ("AWS::IAM::Role", "Arn") => self.arn_of(logical, "role", "RoleName", depth)?,
            ("AWS::IAM::User", "Arn") => self.arn_of(logical, "user", "UserName", depth)?,
            ("AWS::IAM::Group", "Arn") => self.arn_of(logical, "group", "GroupName", depth)?,
            ("AWS::IAM::ManagedPolicy", "PolicyArn") => {
                self.arn_of(logical, "policy", "ManagedPolicyName", depth)?
            }
            ("AWS::S3::Bucket", "Arn") => format!(
                "arn:{}:s3:::{}",
                s.partition,
                self.name_of(logical, "BucketName", depth)?
            ),
            ("AWS::DynamoDB::Table", "Arn") => format!(
                "arn:{}:dynamodb:{}:{}:table/{}",
                s.partition,
                s.region,
                s.account,
                self.name_of(logical, "TableName", depth)?
            ),
            ("AWS::Lambda::Function", "Arn") => format!(
                "arn:{}:lambda:{}:{}:function:{}",
                s.partition,
                s.region,
                s.account,
                self.name_of(logical, "FunctionName", depth)?
            ),
            _ => {
                return Err(format!(
                    "Fn::GetAtt {logical}.{attr} ({ty}): not known offline"
                ))
            }
        };
        Ok(string_node(v, span))
    }

    fn condition(&self, name: &str, depth: usize) -> Res<bool> {
        if let Some(v) = self.condition_memo.borrow().get(name) {
            return v.clone();
        }
        let Some(c) = self.conditions.and_then(|c| get(c, name)) else {
            return Err(format!(
                "condition {name} is not in the template's Conditions"
            ));
        };
        // A cycle would recurse forever: mark it in progress.
        self.condition_memo.borrow_mut().insert(
            name.to_owned(),
            Err(format!("condition {name} refers to itself")),
        );
        let v = self.truth(c, depth + 1);
        self.condition_memo
            .borrow_mut()
            .insert(name.to_owned(), v.clone());
        v
    }

    fn truth(&self, n: &Node, depth: usize) -> Res<bool> {
        if depth > 64 {
            return Err("conditions nest too deeply".into());
        }
        let Some((f, arg)) = intrinsic(n) else {
            return match &n.value {
                Value::Bool(b) => Ok(*b),
                Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
                _ => Err("a condition must be a condition function".into()),
            };
        };
        let items = |min: usize| -> Res<&[Node]> {
            match &arg.value {
                Value::Array(a) if a.len() >= min => Ok(a),
                _ => Err(format!("{f} takes a list")),
            }
        };
        match f {
            "Condition" => self.condition(as_str(arg).ok_or("Condition takes a name")?, depth),
            "Fn::Equals" => {
                let a = items(2)?;
                let l = self.resolve(&a[0], depth + 1)?;
                let r = self.resolve(&a[1], depth + 1)?;
                Ok(l.as_ref().map(plain) == r.as_ref().map(plain))
            }
            "Fn::Not" => Ok(!self.truth(&items(1)?[0], depth + 1)?),
            "Fn::And" => {
                for c in items(1)? {
                    if !self.truth(c, depth + 1)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            "Fn::Or" => {
                for c in items(1)? {
                    if self.truth(c, depth + 1)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            other => Err(format!("{other} is not a condition function")),
        }
    }

    /// Evaluates the intrinsic functions in `n` (`None`: `AWS::NoValue`).
    fn resolve(&self, n: &Node, depth: usize) -> Res<Option<Node>> {
        if depth > 64 {
            return Err(
                "intrinsic functions nest too deeply (or refer to each other in a cycle)".into(),
            );
        }
        if let Some((f, arg)) = intrinsic(n) {
            if f != "Condition" {
                return self.function(f, arg, n.span, depth);
            }
        }
        self.charge(64)?;
        Ok(Some(match &n.value {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    if let Some(v) = self.resolve(it, depth + 1)? {
                        out.push(v);
                    }
                }
                Node {
                    value: Value::Array(out),
                    span: n.span,
                }
            }
            Value::Object(members) => {
                let mut out = Vec::with_capacity(members.len());
                for m in members {
                    if let Some(v) = self.resolve(&m.value, depth + 1)? {
                        out.push(Member {
                            key: m.key.clone(),
                            key_span: m.key_span,
                            value: v,
                        });
                    }
                }
                Node {
                    value: Value::Object(out),
                    span: n.span,
                }
            }
            Value::String(t) | Value::Number(t) => {
                self.charge(t.len())?;
                n.clone()
            }
            _ => n.clone(),
        }))
    }

    fn string_of(&self, n: &Node, what: &str, depth: usize) -> Res<String> {
        self.resolve(n, depth + 1)?
            .as_ref()
            .and_then(scalar)
            .ok_or_else(|| format!("{what} must be a string"))
    }

    fn list_of(&self, n: &Node, what: &str, depth: usize) -> Res<Vec<Node>> {
        match self.resolve(n, depth + 1)?.map(|v| v.value) {
            Some(Value::Array(items)) => Ok(items),
            _ => Err(format!("{what} must be a list")),
        }
    }

    fn function(&self, f: &str, arg: &Node, span: Span, depth: usize) -> Res<Option<Node>> {
        let items = |min: usize| -> Res<&[Node]> {
            match &arg.value {
                Value::Array(a) if a.len() >= min => Ok(a),
                _ => Err(format!("{f} takes a list of at least {min}")),
            }
        };
        match f {
            "Ref" => {
                let name = as_str(arg).ok_or("Ref takes a name")?;
                self.reference(name, span, depth)
            }
            "Fn::GetAtt" => {
                let (logical, attr) = match &arg.value {
                    Value::String(s) => s
                        .split_once('.')
                        .ok_or("Fn::GetAtt takes RESOURCE.ATTRIBUTE")?,
                    Value::Array(a) if a.len() == 2 => (
                        as_str(&a[0]).ok_or("Fn::GetAtt takes a resource name")?,
                        as_str(&a[1]).ok_or("Fn::GetAtt takes an attribute name")?,
                    ),
                    _ => return Err("Fn::GetAtt takes [RESOURCE, ATTRIBUTE]".into()),
                };
                Ok(Some(self.get_att(logical, attr, span, depth)?))
            }
            "Fn::Sub" => {
                let (template, vars): (&str, Option<&Node>) = match &arg.value {
                    Value::String(s) => (s, None),
                    Value::Array(a) if a.len() == 2 => {
                        (as_str(&a[0]).ok_or("Fn::Sub takes a string")?, Some(&a[1]))
                    }
                    _ => return Err("Fn::Sub takes a string or [string, variables]".into()),
                };
                let text = self.sub(template, vars, span, depth)?;
                self.charge(text.len())?;
                Ok(Some(string_node(text, span)))
            }
            "Fn::Join" => {
                let a = items(2)?;
                let delim = as_str(&a[0]).ok_or("Fn::Join takes a delimiter string")?;
                let parts = self.list_of(&a[1], "Fn::Join's values", depth)?;
                let mut out = Vec::with_capacity(parts.len());
                for p in &parts {
                    out.push(scalar(p).ok_or("Fn::Join's values must be strings")?);
                }
                let joined = out.join(delim);
                self.charge(joined.len())?;
                Ok(Some(string_node(joined, span)))
            }
            "Fn::Select" => {
                let a = items(2)?;
                let idx: usize = self
                    .string_of(&a[0], "Fn::Select's index", depth)?
                    .parse()
                    .map_err(|_| "Fn::Select's index must be a number".to_owned())?;
                let list = self.list_of(&a[1], "Fn::Select's list", depth)?;
                let picked = list
                    .into_iter()
                    .nth(idx)
                    .ok_or_else(|| format!("Fn::Select index {idx} is out of range"))?;
                Ok(Some(Node { span, ..picked }))
            }
            "Fn::Split" => {
                let a = items(2)?;
                let delim = as_str(&a[0]).ok_or("Fn::Split takes a delimiter string")?;
                if delim.is_empty() {
                    return Err("Fn::Split's delimiter must not be empty".into());
                }
                let s = self.string_of(&a[1], "Fn::Split's source", depth)?;
                Ok(Some(Node {
                    value: Value::Array(
                        s.split(delim)
                            .map(|x| string_node(x.to_owned(), span))
                            .collect(),
                    ),
                    span,
                }))
            }
            "Fn::If" => {
                let a = items(3)?;
                let name = as_str(&a[0]).ok_or("Fn::If takes a condition name")?;
                let branch = if self.condition(name, depth)? {
                    &a[1]
                } else {
                    &a[2]
                };
                self.resolve(branch, depth + 1)
            }
            "Fn::FindInMap" => {
                let a = items(3)?;
                let map = self.string_of(&a[0], "Fn::FindInMap's map", depth)?;
                let k1 = self.string_of(&a[1], "Fn::FindInMap's key", depth)?;
                let k2 = self.string_of(&a[2], "Fn::FindInMap's key", depth)?;
                let found = self
                    .mappings
                    .and_then(|m| get(m, &map))
                    .and_then(|m| get(m, &k1))
                    .and_then(|m| get(m, &k2));
                match (found, a.get(3).and_then(|d| get(d, "DefaultValue"))) {
                    (Some(v), _) | (None, Some(v)) => self.resolve(v, depth + 1),
                    (None, None) => {
                        Err(format!("Fn::FindInMap: {map}/{k1}/{k2} is not in Mappings"))
                    }
                }
            }
            other => Err(format!("{other}: not known offline")),
        }
    }

    fn sub(&self, template: &str, vars: Option<&Node>, span: Span, depth: usize) -> Res<String> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            if let Some(lit) = after.strip_prefix('!') {
                // `${!Literal}` is the text `${Literal}`.
                out.push_str("${");
                rest = lit;
                continue;
            }
            let Some(end) = after.find('}') else {
                out.push_str(&rest[i..]);
                rest = "";
                break;
            };
            let var = after[..end].trim();
            let value = match vars.and_then(|v| get(v, var)) {
                Some(v) => self.string_of(v, &format!("Fn::Sub variable {var}"), depth)?,
                None => match var.split_once('.') {
                    Some((logical, attr))
                        if !var.starts_with("AWS::") && self.resource(logical).is_some() =>
                    {
                        scalar(&self.get_att(logical, attr, span, depth)?).unwrap_or_default()
                    }
                    _ => match self.reference(var, span, depth)? {
                        Some(n) => {
                            scalar(&n).ok_or_else(|| format!("Fn::Sub variable {var} is a list"))?
                        }
                        None => String::new(),
                    },
                },
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// A resolved value compared as CloudFormation compares `Fn::Equals` operands.
fn plain(n: &Node) -> serde_json::Value {
    match &n.value {
        Value::Array(a) => a.iter().map(plain).collect(),
        _ => scalar(n).map_or(serde_json::Value::Null, serde_json::Value::String),
    }
}

struct Build<'t, 'a> {
    cx: &'t Template<'a>,
    policies: Vec<ImportedPolicy>,
    principals: Vec<ImportedPrincipal>,
    /// Group name → its policies and what is unknown about it.
    groups: HashMap<String, (Vec<PolicyUse>, Vec<String>)>,
    scps: Vec<ImportedScp>,
}

/// A principal or group being assembled.
struct Entity {
    logical: String,
    name: String,
    arn: String,
    noun: &'static str,
    identity: Vec<PolicyUse>,
    boundary: Option<PolicyUse>,
    trust: Option<PolicyUse>,
    max_session_duration: Option<u64>,
    tags: Vec<(String, String)>,
    groups: Vec<String>,
    missing: Vec<String>,
}

impl Build<'_, '_> {
    fn run(&mut self) {
        let Value::Object(resources) = &self.cx.resources.value else {
            return;
        };
        let ptr = Pointer::root().key("Resources");
        let live = self.live(resources);
        let mut entities = self.entities(&live, &ptr);
        self.attachments(&live, &ptr, &mut entities);
        self.members(entities);
    }

    /// The resources that exist, each with why its existence is unknown (a Condition
    /// that cannot be evaluated), if it is.
    fn live<'r>(&self, resources: &'r [Member]) -> Vec<(&'r Member, Option<String>)> {
        // Resources whose Condition is false do not exist; one whose Condition cannot be
        // evaluated may or may not: what it would grant or deny is unknown.
        resources
            .iter()
            .filter_map(|m| match get_str(&m.value, "Condition") {
                None => Some((m, None)),
                Some(c) => match self.cx.condition(c, 0) {
                    Ok(true) => Some((m, None)),
                    Ok(false) => None,
                    Err(e) => Some((
                        m,
                        Some(format!(
                            "whether {} exists depends on its Condition {c}, which cannot be evaluated: {e}",
                            m.key
                        )),
                    )),
                },
            })
            .collect()
    }

    /// Principals and groups first, so that policies can attach to them by name.
    fn entities(&mut self, live: &[(&Member, Option<String>)], ptr: &Pointer) -> Vec<Entity> {
        let mut entities: Vec<Entity> = Vec::new();
        for (m, unknown) in live {
            let ty = get_str(&m.value, "Type").unwrap_or("");
            let rp = ptr.key(&m.key);
            let (noun, name_prop) = match ty {
                "AWS::IAM::Role" => ("role", "RoleName"),
                "AWS::IAM::User" => ("user", "UserName"),
                "AWS::IAM::Group" => ("group", "GroupName"),
                "AWS::Serverless::Function" => ("function", ""),
                _ => continue,
            };
            let props = get(&m.value, "Properties");
            let mut e = if noun == "function" {
                if props.and_then(|p| get(p, "Role")).is_some() {
                    // The function runs as a role of its own choosing, not a generated one.
                    continue;
                }
                let name = format!("{}Role", m.key);
                Entity {
                    logical: m.key.clone(),
                    arn: iam_arn(self.cx.settings, "role", None, &name),
                    name,
                    noun: "role",
                    identity: vec![PolicyUse::Arn(format!(
                        "arn:{}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                        self.cx.settings.partition
                    ))],
                    boundary: None,
                    trust: None,
                    max_session_duration: None,
                    tags: Vec::new(),
                    groups: Vec::new(),
                    missing: Vec::new(),
                }
            } else {
                let mut missing = Vec::new();
                let name = self.cx.name_of(&m.key, name_prop, 0).unwrap_or_else(|e| {
                    super::add_reason(&mut missing, e);
                    m.key.clone()
                });
                let path = self.cx.path_of(&m.key, 0).unwrap_or_else(|e| {
                    super::add_reason(&mut missing, e);
                    None
                });
                Entity {
                    logical: m.key.clone(),
                    arn: iam_arn(self.cx.settings, noun, path.as_deref(), &name),
                    name,
                    noun,
                    identity: Vec::new(),
                    boundary: None,
                    trust: None,
                    max_session_duration: None,
                    tags: Vec::new(),
                    groups: Vec::new(),
                    missing,
                }
            };
            for u in unknown.iter() {
                super::add_reason(&mut e.missing, u);
            }
            let Some(props) = props else {
                entities.push(e);
                continue;
            };
            let pp = rp.key("Properties");
            let inline_kind = match e.noun {
                "user" => PolicyKind::InlineUser(e.name.clone()),
                "group" => PolicyKind::InlineGroup(e.name.clone()),
                _ => PolicyKind::InlineRole(e.name.clone()),
            };
            if noun == "function" {
                self.sam_policies(props, &pp, &mut e, &inline_kind);
            } else {
                self.inline_policies(props, &pp, &mut e, &inline_kind);
                self.managed_arns(props, "ManagedPolicyArns", &mut e);
            }
            if e.noun == "role" && get(props, "AssumeRolePolicyDocument").is_some() {
                let name = format!("{} (AssumeRolePolicyDocument)", e.logical);
                let i = self.document_at(
                    props,
                    "AssumeRolePolicyDocument",
                    &pp,
                    &name,
                    PolicyKind::Trust,
                    None,
                );
                e.trust = Some(PolicyUse::Imported(i));
            }
            if let Some(n) = get(props, "MaxSessionDuration") {
                match self.cx.resolve(n, 0) {
                    Ok(Some(v)) => match scalar(&v).and_then(|t| t.parse::<u64>().ok()) {
                        Some(secs) => e.max_session_duration = Some(secs),
                        None => super::add_reason(
                            &mut e.missing,
                            "MaxSessionDuration is not a whole number of seconds",
                        ),
                    },
                    Ok(None) => {}
                    Err(err) => {
                        super::add_reason(&mut e.missing, format!("MaxSessionDuration: {err}"))
                    }
                }
            }
            if let Some(b) = get(props, "PermissionsBoundary") {
                match self.cx.resolve(b, 0) {
                    Ok(Some(v)) => match scalar(&v) {
                        Some(arn) => e.boundary = Some(PolicyUse::Arn(arn)),
                        None => e
                            .missing
                            .push("PermissionsBoundary is not an ARN string".into()),
                    },
                    Ok(None) => {}
                    Err(err) => {
                        super::add_reason(&mut e.missing, format!("PermissionsBoundary: {err}"))
                    }
                }
            }
            if let Some(tags) = get(props, "Tags") {
                match self.cx.resolve(tags, 0) {
                    Ok(Some(Node {
                        value: Value::Array(items),
                        ..
                    })) => {
                        for t in &items {
                            if let (Some(k), Some(v)) = (
                                get(t, "Key").and_then(scalar),
                                get(t, "Value").and_then(scalar),
                            ) {
                                e.tags.push((k, v));
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(err) => super::add_reason(&mut e.missing, format!("Tags: {err}")),
                }
            }
            if e.noun == "user" {
                if let Some(g) = get(props, "Groups") {
                    match self.cx.list_of(g, "Groups", 0) {
                        Ok(items) => e.groups.extend(items.iter().filter_map(scalar)),
                        Err(err) => super::add_reason(&mut e.missing, format!("Groups: {err}")),
                    }
                }
            }
            entities.push(e);
        }
        entities
    }

    /// Policies attached by name, and group memberships.
    fn attachments(
        &mut self,
        live: &[(&Member, Option<String>)],
        ptr: &Pointer,
        entities: &mut [Entity],
    ) {
        for (m, unknown) in live {
            let unknown = unknown.as_deref();
            let ty = get_str(&m.value, "Type").unwrap_or("");
            let rp = ptr.key(&m.key);
            let Some(props) = get(&m.value, "Properties") else {
                continue;
            };
            let pp = rp.key("Properties");
            match ty {
                "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
                    let managed = ty == "AWS::IAM::ManagedPolicy";
                    let targets = |key: &str| -> Res<Vec<String>> {
                        match get(props, key) {
                            Some(n) => Ok(self
                                .cx
                                .list_of(n, key, 0)?
                                .iter()
                                .filter_map(scalar)
                                .collect()),
                            None => Ok(Vec::new()),
                        }
                    };
                    let lists = [
                        ("role", targets("Roles")),
                        ("user", targets("Users")),
                        ("group", targets("Groups")),
                    ];
                    let (kind, arn) = if managed {
                        match self.cx.arn_of(&m.key, "policy", "ManagedPolicyName", 0) {
                            Ok(a) => (PolicyKind::Managed, Some(a)),
                            Err(_) => (PolicyKind::Managed, None),
                        }
                    } else {
                        let first = lists.iter().find_map(|(noun, l)| {
                            l.as_ref()
                                .ok()
                                .and_then(|l| l.first())
                                .map(|n| (*noun, n.clone()))
                        });
                        let kind = match first {
                            Some(("user", n)) => PolicyKind::InlineUser(n),
                            Some(("group", n)) => PolicyKind::InlineGroup(n),
                            Some((_, n)) => PolicyKind::InlineRole(n),
                            None => PolicyKind::InlineRole(m.key.clone()),
                        };
                        (kind, None)
                    };
                    let pname = get(
                        props,
                        if managed {
                            "ManagedPolicyName"
                        } else {
                            "PolicyName"
                        },
                    )
                    .and_then(|n| self.cx.resolve(n, 0).ok().flatten())
                    .and_then(|n| scalar(&n))
                    .unwrap_or_else(|| m.key.clone());
                    let idx = self.document(props, &pp, &format!("{} ({pname})", m.key), kind, arn);
                    for (noun, list) in lists {
                        match list {
                            Ok(names) => {
                                for n in names {
                                    self.attach(
                                        entities,
                                        noun,
                                        &n,
                                        PolicyUse::Imported(idx),
                                        unknown,
                                    );
                                }
                            }
                            Err(err) => {
                                // Whom it attaches to is unknown: every principal of the
                                // kind may lack it.
                                for e in entities.iter_mut().filter(|e| e.noun == noun) {
                                    super::add_reason(&mut e.missing, format!("{}: {err}", m.key));
                                }
                            }
                        }
                    }
                }
                "AWS::IAM::RolePolicy" | "AWS::IAM::UserPolicy" | "AWS::IAM::GroupPolicy" => {
                    let (noun, key) = match ty {
                        "AWS::IAM::RolePolicy" => ("role", "RoleName"),
                        "AWS::IAM::UserPolicy" => ("user", "UserName"),
                        _ => ("group", "GroupName"),
                    };
                    let target = get(props, key).map(|n| self.cx.string_of(n, key, 0));
                    let Some(Ok(target)) = target else {
                        continue;
                    };
                    let kind = match noun {
                        "role" => PolicyKind::InlineRole(target.clone()),
                        "user" => PolicyKind::InlineUser(target.clone()),
                        _ => PolicyKind::InlineGroup(target.clone()),
                    };
                    let idx = self.document(props, &pp, &m.key, kind, None);
                    self.attach(entities, noun, &target, PolicyUse::Imported(idx), unknown);
                }
                "AWS::IAM::UserToGroupAddition" => {
                    let group =
                        get(props, "GroupName").map(|n| self.cx.string_of(n, "GroupName", 0));
                    let users = get(props, "Users").map(|n| self.cx.list_of(n, "Users", 0));
                    match (group, users) {
                        (Some(Ok(g)), Some(Ok(users))) => {
                            for u in users.iter().filter_map(scalar) {
                                if let Some(e) = entities
                                    .iter_mut()
                                    .find(|e| e.noun == "user" && e.name == u)
                                {
                                    match unknown {
                                        None => e.groups.push(g.clone()),
                                        Some(why) => {
                                            super::add_reason(&mut e.missing, why.to_owned())
                                        }
                                    }
                                }
                            }
                        }
                        (g, u) => {
                            let why = [g.and_then(Result::err), u.and_then(Result::err)]
                                .into_iter()
                                .flatten()
                                .next()
                                .unwrap_or_else(|| "GroupName or Users missing".into());
                            for e in entities.iter_mut().filter(|e| e.noun == "user") {
                                super::add_reason(&mut e.missing, format!("{}: {why}", m.key));
                            }
                        }
                    }
                }
                "AWS::Organizations::Policy" => {
                    let is_scp =
                        get_str(props, "Type").is_none_or(|t| t == "SERVICE_CONTROL_POLICY");
                    if !is_scp {
                        continue;
                    }
                    let name = get(props, "Name")
                        .and_then(|n| self.cx.resolve(n, 0).ok().flatten())
                        .and_then(|n| scalar(&n))
                        .unwrap_or_else(|| m.key.clone());
                    let idx = self.document_at(
                        props,
                        "Content",
                        &pp,
                        &format!("{} ({name})", m.key),
                        PolicyKind::Scp,
                        None,
                    );
                    let targets = get(props, "TargetIds")
                        .and_then(|n| self.cx.list_of(n, "TargetIds", 0).ok())
                        .map(|l| l.iter().filter_map(scalar).collect())
                        .unwrap_or_default();
                    self.scps.push(ImportedScp {
                        name,
                        policy: idx,
                        targets,
                    });
                }
                _ => {}
            }
        }
    }

    /// Groups' policies, and what is unknown about them, go to their members; the
    /// principals are then complete.
    fn members(&mut self, entities: Vec<Entity>) {
        for e in entities.iter().filter(|e| e.noun == "group") {
            self.groups
                .insert(e.name.clone(), (e.identity.clone(), e.missing.clone()));
        }
        for mut e in entities.into_iter().filter(|e| e.noun != "group") {
            for g in e.groups.clone() {
                match self.groups.get(&g) {
                    Some((uses, missing)) => {
                        e.identity.extend(uses.iter().cloned());
                        for m in missing {
                            super::add_reason(&mut e.missing, format!("group {g}: {m}"));
                        }
                    }
                    None => super::add_reason(
                        &mut e.missing,
                        format!(
                            "group {g} is not defined in the template (its policies are unknown)"
                        ),
                    ),
                }
            }
            self.principals.push(ImportedPrincipal {
                arn: e.arn,
                defined_by: e.logical,
                tags: e.tags,
                identity: e.identity,
                boundary: e.boundary,
                trust: e.trust,
                max_session_duration: e.max_session_duration,
                groups: e.groups,
                missing: e.missing,
            });
        }
    }

    /// Attaches `u` to the `noun` named `name`, or where the attaching resource may not
    /// exist (`unknown`), records that instead.
    fn attach(
        &self,
        entities: &mut [Entity],
        noun: &str,
        name: &str,
        u: PolicyUse,
        unknown: Option<&str>,
    ) {
        if let Some(e) = entities
            .iter_mut()
            .find(|e| e.noun == noun && e.name == name)
        {
            match unknown {
                None => e.identity.push(u),
                Some(why) => super::add_reason(&mut e.missing, why.to_owned()),
            }
        }
    }

    /// The `PolicyDocument` of `props` as an imported policy; its index.
    fn document(
        &mut self,
        props: &Node,
        pp: &Pointer,
        name: &str,
        kind: PolicyKind,
        arn: Option<String>,
    ) -> usize {
        self.document_at(props, "PolicyDocument", pp, name, kind, arn)
    }

    fn document_at(
        &mut self,
        props: &Node,
        key: &str,
        pp: &Pointer,
        name: &str,
        kind: PolicyKind,
        arn: Option<String>,
    ) -> usize {
        let dp = pp.key(key);
        let (text, offset) = match get(props, key) {
            Some(doc) => (self.policy_text(doc, &dp), doc.span.start),
            None => (Err(format!("{name} has no {key}")), props.span.start),
        };
        self.policies.push(ImportedPolicy {
            name: name.to_owned(),
            arn,
            kind,
            pointer: dp,
            offset,
            text,
        });
        self.policies.len() - 1
    }

    /// A policy document node (an object with intrinsics, or a JSON string).
    fn policy_text(&self, doc: &Node, ptr: &Pointer) -> Res<PolicyText> {
        let resolved = self
            .cx
            .resolve(doc, 0)?
            .ok_or("the policy document is AWS::NoValue")?;
        let file = &self.cx.file;
        match &resolved.value {
            Value::String(s) => {
                let map = match decode_json_string(file, doc) {
                    Some((t, map)) if &t == s => map,
                    _ => {
                        let mut m = TextMap::default();
                        m.push_point(0, doc.span.start);
                        m
                    }
                };
                Ok(PolicyText {
                    text: s.clone(),
                    origin: Arc::new(Origin {
                        file: file.clone(),
                        map,
                        prefix: None,
                    }),
                })
            }
            _ => {
                let (text, map) = render::render(&resolved);
                Ok(PolicyText {
                    text,
                    origin: Arc::new(Origin {
                        file: file.clone(),
                        map,
                        prefix: Some(ptr.clone()),
                    }),
                })
            }
        }
    }

    /// A principal's or group's own `Policies`.
    fn inline_policies(&mut self, props: &Node, pp: &Pointer, e: &mut Entity, kind: &PolicyKind) {
        let Some(list) = get(props, "Policies") else {
            return;
        };
        let items = match &list.value {
            Value::Array(items) => items.as_slice(),
            _ => {
                super::add_reason(&mut e.missing, "Policies is not a list");
                return;
            }
        };
        for (i, p) in items.iter().enumerate() {
            let ip = pp.key("Policies").index(i);
            // An entry may itself be an intrinsic (an `Fn::If` choosing a policy).
            let resolved;
            let entry = if intrinsic(p).is_some() {
                match self.cx.resolve(p, 0) {
                    Ok(Some(v)) => {
                        resolved = v;
                        &resolved
                    }
                    Ok(None) => continue,
                    Err(err) => {
                        super::add_reason(&mut e.missing, format!("Policies/{i}: {err}"));
                        continue;
                    }
                }
            } else {
                p
            };
            let pname =
                match get(entry, "PolicyName").map(|n| self.cx.string_of(n, "PolicyName", 0)) {
                    Some(Ok(n)) => n,
                    Some(Err(err)) => {
                        super::add_reason(&mut e.missing, format!("Policies/{i}: {err}"));
                        format!("Policies/{i}")
                    }
                    None => format!("Policies/{i}"),
                };
            let name = format!("{} ({pname})", e.logical);
            let text = match get(entry, "PolicyDocument") {
                Some(doc) => self.policy_text(doc, &ip.key("PolicyDocument")),
                None => Err(format!("{name} has no PolicyDocument")),
            };
            e.identity.push(PolicyUse::Imported(self.policies.len()));
            self.policies.push(ImportedPolicy {
                name,
                arn: None,
                kind: kind.clone(),
                pointer: ip,
                offset: p.span.start,
                text,
            });
        }
    }

    fn managed_arns(&mut self, props: &Node, key: &str, e: &mut Entity) {
        let Some(list) = get(props, key) else { return };
        match self.cx.list_of(list, key, 0) {
            Ok(items) => {
                for it in &items {
                    match scalar(it) {
                        Some(arn) => e.identity.push(PolicyUse::Arn(arn)),
                        None => super::add_reason(
                            &mut e.missing,
                            format!("{key}: an entry is not a string"),
                        ),
                    }
                }
            }
            Err(err) => super::add_reason(&mut e.missing, format!("{key}: {err}")),
        }
    }

    /// SAM's `Policies` on a function: managed policy names or ARNs, policy documents,
    /// or lists of these. SAM policy templates are not expanded (reported missing).
    fn sam_policies(&mut self, props: &Node, pp: &Pointer, e: &mut Entity, kind: &PolicyKind) {
        let Some(list) = get(props, "Policies") else {
            return;
        };
        let entries: Vec<(Pointer, &Node)> = match &list.value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, n)| (pp.key("Policies").index(i), n))
                .collect(),
            _ => vec![(pp.key("Policies"), list)],
        };
        for (ip, p) in entries {
            let resolved = match self.cx.resolve(p, 0) {
                Ok(Some(v)) => v,
                Ok(None) => continue,
                Err(err) => {
                    super::add_reason(&mut e.missing, format!("Policies: {err}"));
                    continue;
                }
            };
            match &resolved.value {
                Value::String(s) if s.starts_with("arn:") => {
                    e.identity.push(PolicyUse::Arn(s.clone()))
                }
                Value::String(s) => e.identity.push(PolicyUse::Arn(format!(
                    "arn:{}:iam::aws:policy/{s}",
                    self.cx.settings.partition
                ))),
                Value::Object(m) if m.iter().any(|m| m.key == "Statement") => {
                    let name = format!("{} (Policies)", e.logical);
                    let text = self.policy_text(p, &ip);
                    e.identity.push(PolicyUse::Imported(self.policies.len()));
                    self.policies.push(ImportedPolicy {
                        name,
                        arn: None,
                        kind: kind.clone(),
                        pointer: ip,
                        offset: p.span.start,
                        text,
                    });
                }
                Value::Object(m) => super::add_reason(
                    &mut e.missing,
                    format!(
                        "SAM policy template {} is not expanded by swf-iam",
                        m.first().map_or("?", |m| m.key.as_str())
                    ),
                ),
                _ => e
                    .missing
                    .push("Policies: an entry is neither a policy nor a name".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            partition: "aws".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            limits: super::super::Limits::default(),
        }
    }

    fn load(text: &str, params: &[(String, ParameterValue)]) -> Imported {
        let root = if text.trim_start().starts_with('{') {
            crate::json::parse(text.as_bytes()).unwrap()
        } else {
            super::super::yaml::parse(text).unwrap()
        };
        import(
            Arc::new(SourceFile::new("t.yaml", text)),
            &root,
            &settings(),
            params,
        )
        .unwrap()
    }

    fn text(i: &Imported, n: usize) -> serde_json::Value {
        let t = &i.policies[n].text.as_ref().unwrap().text;
        serde_json::from_str(t).unwrap()
    }

    #[test]
    fn intrinsics_resolve_as_cloudformation_does() {
        let t = r#"
Parameters:
  Env: {Type: String, Default: dev}
  Domains: {Type: CommaDelimitedList, Default: "a,b"}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  NotProd: !Not [!Condition IsProd]
Mappings:
  M: {dev: {suffix: d1}, prod: {suffix: p1}}
Resources:
  Worker:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub "${Env}-worker"
      Path: /swf/
      Policies:
        - PolicyName: beat
          PolicyDocument:
            Version: 2012-10-17
            Statement:
              - Effect: Allow
                Action: swf:RecordActivityTaskHeartbeat
                Resource:
                  - !Sub "arn:${AWS::Partition}:swf:${AWS::Region}:${AWS::AccountId}:/domain/${Env}"
                  - !Join ["", ["arn:aws:swf:*:*:/domain/", !Select [1, !Ref Domains]]]
                  - !Sub ["arn:aws:swf:*:*:/domain/${x}", {x: !FindInMap [M, !Ref Env, suffix]}]
                  - !If [IsProd, "arn:aws:swf:*:*:/domain/prod", !Ref AWS::NoValue]
                  - !Sub "arn:aws:swf:*:*:/domain/${!literal}"
                  - !Select [0, !Split [",", "x,y"]]
                  - !GetAtt Worker.Arn
"#;
        let i = load(t, &[]);
        assert_eq!(i.principals.len(), 1, "{:?}", i.principals);
        assert_eq!(i.policies.len(), 1, "{:?}", i.principals[0].missing);
        let p = &i.principals[0];
        assert_eq!(p.arn, "arn:aws:iam::123456789012:role/swf/dev-worker");
        assert!(p.missing.is_empty(), "{:?}", p.missing);
        assert_eq!(
            text(&i, 0)["Statement"][0]["Resource"],
            serde_json::json!([
                "arn:aws:swf:us-east-1:123456789012:/domain/dev",
                "arn:aws:swf:*:*:/domain/b",
                "arn:aws:swf:*:*:/domain/d1",
                "arn:aws:swf:*:*:/domain/${literal}",
                "x",
                "arn:aws:iam::123456789012:role/swf/dev-worker"
            ])
        );
        assert_eq!(
            i.policies[0].kind,
            PolicyKind::InlineRole("dev-worker".into())
        );
        // With Env=prod the If takes its first branch and the name changes.
        let i = load(t, &[("Env".into(), ParameterValue::String("prod".into()))]);
        assert_eq!(i.policies.len(), 1, "{:?}", i.principals[0].missing);
        assert_eq!(
            i.principals[0].arn,
            "arn:aws:iam::123456789012:role/swf/prod-worker"
        );
        let r = text(&i, 0)["Statement"][0]["Resource"].clone();
        assert!(r
            .as_array()
            .unwrap()
            .contains(&"arn:aws:swf:*:*:/domain/prod".into()));
    }

    #[test]
    fn unresolvable_things_are_named_not_guessed() {
        let t = r#"{"Parameters": {"Needed": {"Type": "String"}},
          "Resources": {
            "Q": {"Type": "AWS::SQS::Queue"},
            "R": {"Type": "AWS::IAM::Role", "Properties": {
              "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AmazonSWFFullAccess"],
              "Policies": [
                {"PolicyName": "a", "PolicyDocument": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": {"Fn::GetAtt": ["Q", "Arn"]}}}},
                {"PolicyName": "b", "PolicyDocument": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": {"Fn::Sub": "arn:aws:swf:*:*:/domain/${Needed}"}}}},
                {"PolicyName": "c", "PolicyDocument": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": {"Fn::ImportValue": "x"}}}}
              ]}}}}"#;
        let i = load(t, &[]);
        let p = &i.principals[0];
        assert_eq!(p.arn, "arn:aws:iam::123456789012:role/R");
        assert_eq!(p.identity[0], PolicyUse::Imported(0));
        assert!(p.identity.contains(&PolicyUse::Arn(
            "arn:aws:iam::aws:policy/AmazonSWFFullAccess".into()
        )));
        let errs: Vec<String> = i
            .policies
            .iter()
            .map(|p| p.text.as_ref().err().cloned().unwrap_or_default())
            .collect();
        assert!(
            errs[0].contains("Fn::GetAtt Q.Arn (AWS::SQS::Queue): not known offline"),
            "{errs:?}"
        );
        assert!(
            errs[1].contains("parameter Needed has no Default"),
            "{errs:?}"
        );
        assert!(
            errs[2].contains("Fn::ImportValue: not known offline"),
            "{errs:?}"
        );
        // A value for the parameter resolves the second.
        let i = load(
            t,
            &[("Needed".into(), ParameterValue::String("orders".into()))],
        );
        assert!(i.policies[1].text.is_ok());
        // An unknown parameter name is an error.
        let root = crate::json::parse(t.as_bytes()).unwrap();
        let e = import(
            Arc::new(SourceFile::new("t.json", t)),
            &root,
            &settings(),
            &[("Nope".into(), ParameterValue::String("x".into()))],
        )
        .unwrap_err();
        assert!(e.to_string().contains("parameter `Nope`"), "{e}");
    }

    #[test]
    fn policies_attach_by_name_and_groups_reach_members() {
        let t = r#"
Resources:
  G: {Type: AWS::IAM::Group, Properties: {GroupName: workers, ManagedPolicyArns: [!Ref MP]}}
  U: {Type: AWS::IAM::User, Properties: {UserName: alice, Groups: [!Ref G], Tags: [{Key: team, Value: orders}]}}
  U2: {Type: AWS::IAM::User}
  Add: {Type: AWS::IAM::UserToGroupAddition, Properties: {GroupName: !Ref G, Users: [!Ref U2]}}
  MP:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Path: /p/
      PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "swf:*", Resource: "*"}]}
  P:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: extra
      Users: [!Ref U]
      PolicyDocument: '{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"swf:*","Resource":"*"}}'
  Off:
    Type: AWS::IAM::Role
    Condition: Never
Conditions:
  Never: !Equals [a, b]
"#;
        let i = load(t, &[]);
        let arns: Vec<&str> = i.principals.iter().map(|p| p.arn.as_str()).collect();
        assert_eq!(
            arns,
            [
                "arn:aws:iam::123456789012:user/alice",
                "arn:aws:iam::123456789012:user/U2"
            ]
        );
        let alice = &i.principals[0];
        assert_eq!(alice.tags, [("team".to_owned(), "orders".to_owned())]);
        assert_eq!(alice.groups, ["workers"]);
        assert_eq!(
            alice.identity,
            [
                PolicyUse::Imported(1),
                PolicyUse::Arn("arn:aws:iam::123456789012:policy/p/MP".into())
            ]
        );
        assert_eq!(
            i.principals[1].identity,
            [PolicyUse::Arn(
                "arn:aws:iam::123456789012:policy/p/MP".into()
            )]
        );
        assert_eq!(
            i.policies[0].arn.as_deref(),
            Some("arn:aws:iam::123456789012:policy/p/MP")
        );
        assert_eq!(i.policies[1].kind, PolicyKind::InlineUser("alice".into()));
        assert_eq!(text(&i, 1)["Statement"]["Effect"], "Deny");
    }

    #[test]
    fn what_cannot_be_known_about_a_group_or_a_conditional_resource_reaches_the_principal() {
        // A Deny that may or may not exist, and a group whose policy is unresolvable: the
        // user is unresolved (a decision without them could allow by accident).
        let t = r#"
Parameters:
  Mode: {Type: String}
Conditions:
  Strict: !Equals [!Ref Mode, strict]
Resources:
  G: {Type: AWS::IAM::Group, Properties: {GroupName: g, ManagedPolicyArns: [!ImportValue shared-deny]}}
  U: {Type: AWS::IAM::User, Properties: {UserName: u, Groups: [g]}}
  V: {Type: AWS::IAM::User, Properties: {UserName: v}}
  D:
    Type: AWS::IAM::Policy
    Condition: Strict
    Properties:
      PolicyName: deny
      Users: [v]
      PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Deny, Action: "swf:*", Resource: "*"}]}
"#;
        let i = load(t, &[]);
        let u = i
            .principals
            .iter()
            .find(|p| p.arn.ends_with("user/u"))
            .unwrap();
        assert!(
            u.missing
                .iter()
                .any(|m| m.starts_with("group g: ManagedPolicyArns: Fn::ImportValue")),
            "{:?}",
            u.missing
        );
        let v = i
            .principals
            .iter()
            .find(|p| p.arn.ends_with("user/v"))
            .unwrap();
        assert!(v.identity.is_empty(), "{:?}", v.identity);
        assert!(
            v.missing
                .iter()
                .any(|m| m.contains("whether D exists depends on its Condition Strict")),
            "{:?}",
            v.missing
        );
        // With the parameter the condition is known both ways.
        let strict = load(
            t,
            &[("Mode".into(), ParameterValue::String("strict".into()))],
        );
        let v = strict
            .principals
            .iter()
            .find(|p| p.arn.ends_with("user/v"))
            .unwrap();
        assert!(v.missing.is_empty() && v.identity.len() == 1, "{v:?}");
        let lax = load(t, &[("Mode".into(), ParameterValue::String("lax".into()))]);
        let v = lax
            .principals
            .iter()
            .find(|p| p.arn.ends_with("user/v"))
            .unwrap();
        assert!(v.missing.is_empty() && v.identity.is_empty(), "{v:?}");
    }
}
