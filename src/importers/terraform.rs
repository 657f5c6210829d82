//! Terraform plans as `terraform show -json PLAN` prints them.
//!
//! Principals are `aws_iam_role`s (evaluated as sessions) and `aws_iam_user`s, with
//! `inline_policy`, `managed_policy_arns`, `permissions_boundary`, `aws_iam_*_policy`,
//! the `*_policy_attachment` resources, `aws_iam_group` with `aws_iam_group_membership`
//! / `aws_iam_user_group_membership`, and `aws_iam_policy`. `aws_organizations_policy`
//! of type `SERVICE_CONTROL_POLICY` gives service control policies, with their
//! `aws_organizations_policy_attachment` targets. Policy JSON is read from the planned
//! values (`jsonencode(...)`, heredocs and `aws_iam_policy_document` data sources alike);
//! where a value is known only after apply, the plan's `configuration` section says
//! which resource it refers to, and that resource's value is used. What neither gives is
//! reported, never guessed.

use super::{
    decode_json_string, get, get_items, get_str, iam_arn, Imported, ImportedPolicy,
    ImportedPrincipal, ImportedScp, PolicyText, PolicyUse, Settings, SourceError, SourceKind,
};
use crate::json::{Node, Value};
use crate::text::{Origin, Pointer, SourceFile};
use crate::validate::PolicyKind;
use std::collections::HashMap;
use std::sync::Arc;

/// One resource instance of the plan, with its configuration.
struct Res<'a> {
    /// `module.m.aws_iam_role.r["k"]`.
    address: String,
    /// `module.m.aws_iam_role.r`: the address without instance keys, as `configuration`
    /// and references name it.
    caddr: String,
    /// `module.m.` (the module path references are relative to).
    module: String,
    /// `aws_iam_role`.
    ty: String,
    /// `r`.
    name: String,
    values: Option<&'a Node>,
    pointer: Pointer,
    /// The resource's `expressions` in `configuration`.
    expressions: Option<&'a Node>,
    /// Its `change.after_unknown` in `resource_changes`, where the plan has one: only it
    /// says which attributes are known only after apply (a `null` beside a `false` or
    /// absent entry there is known: unset).
    unknown: Option<&'a Node>,
}

/// Reads a plan already parsed as `root`.
pub fn import(
    file: Arc<SourceFile>,
    root: &Node,
    settings: &Settings,
) -> Result<Imported, SourceError> {
    if get(root, "planned_values").is_none() && get(root, "configuration").is_none() {
        return Err(SourceError(file.locate(
            root.span.start,
            &Pointer::root(),
            "a Terraform plan (`terraform show -json PLAN`) has `planned_values`",
        )));
    }
    // Configuration expressions by configuration address.
    let mut config: HashMap<String, &Node> = HashMap::new();
    if let Some(m) = get(root, "configuration").and_then(|c| get(c, "root_module")) {
        walk_config(m, "", &mut config);
    }
    // What is unknown, by resource address.
    let mut unknown: HashMap<&str, &Node> = HashMap::new();
    for rc in get_items(root, "resource_changes") {
        if let (Some(addr), Some(u)) = (
            get_str(rc, "address"),
            get(rc, "change").and_then(|c| get(c, "after_unknown")),
        ) {
            unknown.insert(addr, u);
        }
    }
    let known = Known {
        config: &config,
        unknown: &unknown,
    };
    let mut resources: Vec<Res<'_>> = Vec::new();
    if let Some(m) = get(root, "planned_values").and_then(|p| get(p, "root_module")) {
        walk_values(
            m,
            &Pointer::root().key("planned_values").key("root_module"),
            &known,
            &mut resources,
        );
    }
    // Data sources read while planning are in the prior state.
    if let Some(m) = get(root, "prior_state")
        .and_then(|p| get(p, "values"))
        .and_then(|v| get(v, "root_module"))
    {
        let mut prior = Vec::new();
        walk_values(
            m,
            &Pointer::root()
                .key("prior_state")
                .key("values")
                .key("root_module"),
            &known,
            &mut prior,
        );
        let planned: std::collections::HashSet<String> =
            resources.iter().map(|x| x.address.clone()).collect();
        for r in prior {
            if (r.address.starts_with("data.") || r.address.contains(".data."))
                && !planned.contains(&r.address)
            {
                resources.push(r);
            }
        }
    }
    let mut b = Build {
        file: file.clone(),
        settings,
        resources: &resources,
        policies: Vec::new(),
    };
    let (principals, scps) = b.run();
    Ok(Imported {
        kind: SourceKind::TerraformPlan,
        file,
        policies: b.policies,
        principals,
        scps,
    })
}

fn walk_config<'a>(module: &'a Node, prefix: &str, out: &mut HashMap<String, &'a Node>) {
    for r in get_items(module, "resources") {
        if let (Some(addr), Some(ex)) = (get_str(r, "address"), get(r, "expressions")) {
            out.insert(format!("{prefix}{addr}"), ex);
        }
    }
    if let Some(Value::Object(calls)) = get(module, "module_calls").map(|n| &n.value) {
        for c in calls {
            if let Some(m) = get(&c.value, "module") {
                walk_config(m, &format!("{prefix}module.{}.", c.key), out);
            }
        }
    }
}

/// `module.a["x"].aws_iam_role.r[0]` → `module.a.aws_iam_role.r`.
fn config_address(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0usize;
    let mut in_str = false;
    for c in address.chars() {
        match c {
            '"' if depth > 0 => in_str = !in_str,
            '[' if !in_str => depth += 1,
            ']' if !in_str => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// What the plan says beside the values: configuration expressions by configuration
/// address, and `after_unknown` by resource address.
struct Known<'m, 'a> {
    config: &'m HashMap<String, &'a Node>,
    unknown: &'m HashMap<&'a str, &'a Node>,
}

fn walk_values<'a>(module: &'a Node, ptr: &Pointer, known: &Known<'_, 'a>, out: &mut Vec<Res<'a>>) {
    for (i, r) in get_items(module, "resources").iter().enumerate() {
        let (Some(address), Some(ty), Some(name)) = (
            get_str(r, "address"),
            get_str(r, "type"),
            get_str(r, "name"),
        ) else {
            continue;
        };
        let caddr = config_address(address);
        // The module path is what precedes `TYPE.NAME` (`data.TYPE.NAME`).
        let own = if get_str(r, "mode") == Some("data") {
            format!("data.{ty}.{name}")
        } else {
            format!("{ty}.{name}")
        };
        let module_path = caddr.strip_suffix(&own).unwrap_or("").to_owned();
        out.push(Res {
            address: address.to_owned(),
            unknown: known.unknown.get(address).copied(),
            expressions: known.config.get(&caddr).copied(),
            caddr,
            module: module_path,
            ty: ty.to_owned(),
            name: name.to_owned(),
            values: get(r, "values"),
            pointer: ptr.key("resources").index(i).key("values"),
        });
    }
    for (i, c) in get_items(module, "child_modules").iter().enumerate() {
        walk_values(c, &ptr.key("child_modules").index(i), known, out);
    }
}

struct Entity {
    /// Index into the resources.
    res: usize,
    noun: &'static str,
    name: String,
    arn: String,
    identity: Vec<PolicyUse>,
    boundary: Option<PolicyUse>,
    trust: Option<PolicyUse>,
    max_session_duration: Option<u64>,
    tags: Vec<(String, String)>,
    groups: Vec<usize>,
    missing: Vec<String>,
}

struct Build<'p, 'a> {
    file: Arc<SourceFile>,
    settings: &'p Settings,
    resources: &'p [Res<'a>],
    policies: Vec<ImportedPolicy>,
}

impl Build<'_, '_> {
    fn value<'n>(&self, r: &Res<'n>, attr: &str) -> Option<&'n Node> {
        r.values
            .and_then(|v| get(v, attr))
            .filter(|n| n.value != Value::Null)
    }

    /// Whether `attr` of `r` is known to be unset: `null` (or absent) in the planned
    /// values, and not `true` in the resource's `after_unknown`. Without
    /// `resource_changes` nothing is known to be unset.
    fn known_unset(&self, r: &Res<'_>, attr: &str) -> bool {
        self.value(r, attr).is_none()
            && r.unknown
                .is_some_and(|u| !matches!(get(u, attr).map(|n| &n.value), Some(Value::Bool(true))))
    }

    fn string(&self, r: &Res<'_>, attr: &str) -> Option<String> {
        match self.value(r, attr).map(|n| &n.value) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        }
    }

    /// The resources `attr`'s configuration expression refers to (module-relative
    /// references made absolute, attribute suffixes dropped), of type `ty`.
    fn references(&self, r: &Res<'_>, attr: &str, ty: &str) -> Vec<usize> {
        let refs = r
            .expressions
            .and_then(|e| get(e, attr))
            .map(|e| get_items(e, "references"))
            .unwrap_or(&[]);
        let mut out: Vec<usize> = Vec::new();
        for rf in refs {
            let Value::String(rf) = &rf.value else {
                continue;
            };
            let parts: Vec<&str> = rf.split('.').collect();
            let base = if parts.first() == Some(&"data") {
                parts.get(..3).map(|p| p.join("."))
            } else {
                parts.get(..2).map(|p| p.join("."))
            };
            let Some(base) = base else { continue };
            let target = format!("{}{}", r.module, config_address(&base));
            for (i, x) in self.resources.iter().enumerate() {
                if x.ty == ty && x.caddr == target && !out.contains(&i) {
                    out.push(i);
                }
            }
        }
        out
    }

    /// A policy JSON string attribute, or where it is known only after apply, the
    /// `aws_iam_policy_document` (or other resource) its configuration refers to.
    fn policy_text(
        &self,
        r: &Res<'_>,
        node: Option<&Node>,
        attr: &str,
    ) -> Result<PolicyText, String> {
        if let Some(n) = node.or_else(|| self.value(r, attr)) {
            return self
                .decode(n)
                .ok_or_else(|| format!("{}.{attr} is not a JSON string", r.address));
        }
        for ty in ["aws_iam_policy_document", "aws_iam_policy"] {
            let targets = self.references(r, attr, ty);
            if let [t] = targets.as_slice() {
                let target = &self.resources[*t];
                let key = if ty == "aws_iam_policy_document" {
                    "json"
                } else {
                    "policy"
                };
                return match self.value(target, key) {
                    Some(n) => self
                        .decode(n)
                        .ok_or_else(|| format!("{}.{key} is not a JSON string", target.address)),
                    None => Err(format!(
                        "{}.{attr} comes from {}.{key}, which is known only after apply",
                        r.address, target.address
                    )),
                };
            }
        }
        if self.known_unset(r, attr) {
            return Err(format!("{}.{attr} is not set", r.address));
        }
        Err(format!("{}.{attr} is known only after apply", r.address))
    }

    fn decode(&self, n: &Node) -> Option<PolicyText> {
        let (text, map) = decode_json_string(&self.file, n)?;
        Some(PolicyText {
            text,
            origin: Arc::new(Origin {
                file: self.file.clone(),
                map,
                prefix: None,
            }),
        })
    }

    fn push(
        &mut self,
        name: String,
        arn: Option<String>,
        kind: PolicyKind,
        pointer: Pointer,
        offset: usize,
        text: Result<PolicyText, String>,
    ) -> usize {
        self.policies.push(ImportedPolicy {
            name,
            arn,
            kind,
            pointer,
            offset,
            text,
        });
        self.policies.len() - 1
    }

    /// The entities a single-valued attribute (`role`, `user`, `group`) names.
    fn targets(
        &self,
        r: &Res<'_>,
        attr: &str,
        ty: &str,
        entities: &[Entity],
    ) -> Result<Vec<usize>, String> {
        let by_value = |s: &str| {
            entities
                .iter()
                .position(|e| self.resources[e.res].ty == ty && (e.name == s || e.arn == s))
        };
        match self.value(r, attr).map(|n| &n.value) {
            Some(Value::String(s)) => Ok(by_value(s).into_iter().collect()),
            Some(Value::Array(items)) => Ok(items
                .iter()
                .filter_map(|i| match &i.value {
                    Value::String(s) => by_value(s),
                    _ => None,
                })
                .collect()),
            // Planned `null` and not unknown: the attribute names nobody.
            _ if self.known_unset(r, attr) => Ok(Vec::new()),
            _ => {
                let refs = self.references(r, attr, ty);
                if refs.is_empty() && r.expressions.and_then(|e| get(e, attr)).is_none() {
                    return Ok(Vec::new());
                }
                let idx: Vec<usize> = refs
                    .iter()
                    .filter_map(|ri| entities.iter().position(|e| e.res == *ri))
                    .collect();
                if idx.is_empty() {
                    Err(format!(
                        "{}.{attr} is known only after apply and names no {ty} of the plan",
                        r.address
                    ))
                } else {
                    Ok(idx)
                }
            }
        }
    }

    fn policy_arn_use(
        &self,
        r: &Res<'_>,
        by_res: &HashMap<usize, usize>,
    ) -> Result<PolicyUse, String> {
        if let Some(s) = self.string(r, "policy_arn") {
            return Ok(PolicyUse::Arn(s));
        }
        match self
            .references(r, "policy_arn", "aws_iam_policy")
            .as_slice()
        {
            [t] => by_res
                .get(t)
                .map(|&i| PolicyUse::Imported(i))
                .ok_or_else(|| {
                    format!(
                        "{}.policy_arn names a policy the plan does not hold",
                        r.address
                    )
                }),
            _ => Err(format!(
                "{}.policy_arn is known only after apply",
                r.address
            )),
        }
    }

    fn run(&mut self) -> (Vec<ImportedPrincipal>, Vec<ImportedScp>) {
        let mut entities = self.entities();
        let by_res = self.managed_policies();
        let mut scps = self.attachments(&mut entities, &by_res);
        self.scp_targets(&mut scps);
        let principals = self.members(&entities);
        (principals, scps.into_iter().map(|(_, s)| s).collect())
    }

    /// The roles, users and groups of the plan, with their inline policies, boundary and
    /// tags.
    fn entities(&mut self) -> Vec<Entity> {
        let mut entities: Vec<Entity> = Vec::new();
        for (ri, r) in self.resources.iter().enumerate() {
            let noun = match r.ty.as_str() {
                "aws_iam_role" => "role",
                "aws_iam_user" => "user",
                "aws_iam_group" => "group",
                _ => continue,
            };
            let name = self.string(r, "name").unwrap_or_else(|| r.name.clone());
            let path = self.string(r, "path");
            let mut e = Entity {
                res: ri,
                noun,
                arn: self
                    .string(r, "arn")
                    .unwrap_or_else(|| iam_arn(self.settings, noun, path.as_deref(), &name)),
                name,
                identity: Vec::new(),
                boundary: None,
                trust: None,
                max_session_duration: None,
                tags: Vec::new(),
                groups: Vec::new(),
                missing: Vec::new(),
            };
            if self.string(r, "name").is_none() {
                if self.value(r, "name_prefix").is_some() {
                    super::add_reason(
                        &mut e.missing,
                        format!(
                            "{}'s name is generated from name_prefix at apply; it is named {} here",
                            r.address, r.name
                        ),
                    );
                } else if r.expressions.and_then(|x| get(x, "name")).is_some() {
                    super::add_reason(
                        &mut e.missing,
                        format!(
                            "{}'s name is known only after apply; it is named {} here",
                            r.address, r.name
                        ),
                    );
                }
            }
            if let Some(Value::Object(tags)) = self.value(r, "tags").map(|n| &n.value) {
                for t in tags {
                    if let Value::String(v) = &t.value.value {
                        e.tags.push((t.key.clone(), v.clone()));
                    }
                }
            }
            let kind = match noun {
                "role" => PolicyKind::InlineRole(e.name.clone()),
                "user" => PolicyKind::InlineUser(e.name.clone()),
                _ => PolicyKind::InlineGroup(e.name.clone()),
            };
            if let Some(Value::Array(items)) = self.value(r, "inline_policy").map(|n| &n.value) {
                for (j, ip) in items.iter().enumerate() {
                    let pname = get_str(ip, "name").unwrap_or("(unnamed)");
                    if pname.is_empty()
                        && get(ip, "policy").is_none_or(|p| p.value == Value::String(String::new()))
                    {
                        continue;
                    }
                    let text = match get(ip, "policy") {
                        Some(p) => self.decode(p).ok_or_else(|| {
                            format!(
                                "{}.inline_policy[{j}].policy is not a JSON string",
                                r.address
                            )
                        }),
                        None => Err(format!(
                            "{}.inline_policy[{j}].policy is known only after apply",
                            r.address
                        )),
                    };
                    let i = self.push(
                        format!("{} inline_policy {pname}", r.address),
                        None,
                        kind.clone(),
                        r.pointer.key("inline_policy").index(j),
                        ip.span.start,
                        text,
                    );
                    e.identity.push(PolicyUse::Imported(i));
                }
            }
            if let Some(Value::Array(items)) =
                self.value(r, "managed_policy_arns").map(|n| &n.value)
            {
                for a in items {
                    if let Value::String(a) = &a.value {
                        e.identity.push(PolicyUse::Arn(a.clone()));
                    }
                }
            }
            let has_trust = self.value(r, "assume_role_policy").is_some()
                || r.expressions
                    .and_then(|x| get(x, "assume_role_policy"))
                    .is_some();
            if noun == "role" && has_trust {
                let text = self.policy_text(r, None, "assume_role_policy");
                let i = self.push(
                    format!("{} assume_role_policy", r.address),
                    None,
                    PolicyKind::Trust,
                    r.pointer.key("assume_role_policy"),
                    self.value(r, "assume_role_policy")
                        .map_or(0, |n| n.span.start),
                    text,
                );
                e.trust = Some(PolicyUse::Imported(i));
            }
            if let Some(Value::Number(t)) = self.value(r, "max_session_duration").map(|n| &n.value)
            {
                e.max_session_duration = t.parse::<u64>().ok();
            }
            if let Some(b) = self.string(r, "permissions_boundary") {
                e.boundary = Some(PolicyUse::Arn(b));
            } else if r
                .expressions
                .and_then(|x| get(x, "permissions_boundary"))
                .is_some()
            {
                super::add_reason(
                    &mut e.missing,
                    format!(
                        "{}.permissions_boundary is known only after apply",
                        r.address
                    ),
                );
            }
            entities.push(e);
        }
        entities
    }

    /// The managed policies (`aws_iam_policy`): resource index → policy index.
    fn managed_policies(&mut self) -> HashMap<usize, usize> {
        let mut by_res: HashMap<usize, usize> = HashMap::new();
        for (ri, r) in self.resources.iter().enumerate() {
            if r.ty != "aws_iam_policy" {
                continue;
            }
            let name = self.string(r, "name").unwrap_or_else(|| r.name.clone());
            let arn = self.string(r, "arn").unwrap_or_else(|| {
                iam_arn(
                    self.settings,
                    "policy",
                    self.string(r, "path").as_deref(),
                    &name,
                )
            });
            let text = self.policy_text(r, None, "policy");
            let offset = self.value(r, "policy").map_or(0, |n| n.span.start);
            let i = self.push(
                format!("{} ({name})", r.address),
                Some(arn),
                PolicyKind::Managed,
                r.pointer.key("policy"),
                offset,
                text,
            );
            by_res.insert(ri, i);
        }
        by_res
    }

    /// Inline policy resources, attachments, memberships, and the SCPs (with the
    /// resource that defines each).
    fn attachments(
        &mut self,
        entities: &mut [Entity],
        by_res: &HashMap<usize, usize>,
    ) -> Vec<(usize, ImportedScp)> {
        let mut scps: Vec<(usize, ImportedScp)> = Vec::new();
        for (ri, r) in self.resources.iter().enumerate() {
            let single = |ty: &str| match ty {
                "aws_iam_role_policy" | "aws_iam_role_policy_attachment" => {
                    Some(("role", "aws_iam_role"))
                }
                "aws_iam_user_policy" | "aws_iam_user_policy_attachment" => {
                    Some(("user", "aws_iam_user"))
                }
                "aws_iam_group_policy" | "aws_iam_group_policy_attachment" => {
                    Some(("group", "aws_iam_group"))
                }
                _ => None,
            };
            match r.ty.as_str() {
                t @ ("aws_iam_role_policy" | "aws_iam_user_policy" | "aws_iam_group_policy") => {
                    let Some((attr, ety)) = single(t) else {
                        continue;
                    };
                    let targets = self.targets(r, attr, ety, entities);
                    let owner = match &targets {
                        Ok(t) => t.first().map(|&i| entities[i].name.clone()),
                        Err(_) => None,
                    }
                    .or_else(|| self.string(r, attr))
                    .unwrap_or_else(|| r.name.clone());
                    let kind = match attr {
                        "role" => PolicyKind::InlineRole(owner),
                        "user" => PolicyKind::InlineUser(owner),
                        _ => PolicyKind::InlineGroup(owner),
                    };
                    let text = self.policy_text(r, None, "policy");
                    let offset = self.value(r, "policy").map_or(0, |n| n.span.start);
                    let i = self.push(
                        r.address.clone(),
                        None,
                        kind,
                        r.pointer.key("policy"),
                        offset,
                        text,
                    );
                    self.attach(entities, r, targets, PolicyUse::Imported(i), ety);
                }
                t @ ("aws_iam_role_policy_attachment"
                | "aws_iam_user_policy_attachment"
                | "aws_iam_group_policy_attachment") => {
                    let Some((attr, ety)) = single(t) else {
                        continue;
                    };
                    let targets = self.targets(r, attr, ety, entities);
                    match self.policy_arn_use(r, by_res) {
                        Ok(u) => self.attach(entities, r, targets, u, ety),
                        Err(err) => self.attach_missing(entities, targets, ety, err),
                    }
                }
                "aws_iam_policy_attachment" => {
                    let u = self.policy_arn_use(r, by_res);
                    for (attr, ety) in [
                        ("roles", "aws_iam_role"),
                        ("users", "aws_iam_user"),
                        ("groups", "aws_iam_group"),
                    ] {
                        let targets = self.targets(r, attr, ety, entities);
                        match &u {
                            Ok(u) => self.attach(entities, r, targets, u.clone(), ety),
                            Err(err) => self.attach_missing(entities, targets, ety, err.clone()),
                        }
                    }
                }
                "aws_iam_group_membership" | "aws_iam_user_group_membership" => {
                    let (gattr, uattr) = if r.ty == "aws_iam_group_membership" {
                        ("group", "users")
                    } else {
                        ("groups", "user")
                    };
                    let groups = self.targets(r, gattr, "aws_iam_group", entities);
                    let users = self.targets(r, uattr, "aws_iam_user", entities);
                    match (groups, users) {
                        (Ok(gs), Ok(us)) => {
                            for &u in &us {
                                for &g in &gs {
                                    if !entities[u].groups.contains(&g) {
                                        entities[u].groups.push(g);
                                    }
                                }
                            }
                            // Groups named by value that the plan does not define.
                            if let Some(Value::Array(names)) =
                                self.value(r, gattr).map(|n| &n.value)
                            {
                                for n in names {
                                    if let Value::String(n) = &n.value {
                                        if !gs.iter().any(|&g| entities[g].name == *n) {
                                            for &u in &us {
                                                super::add_reason(
                                                    &mut entities[u].missing,
                                                    format!(
                                                        "group {n} ({}) is not defined in the plan",
                                                        r.address
                                                    ),
                                                );
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        (Err(err), Ok(us)) => {
                            for &u in &us {
                                super::add_reason(&mut entities[u].missing, &err);
                            }
                        }
                        (_, Err(err)) => {
                            for e in entities.iter_mut().filter(|e| e.noun == "user") {
                                super::add_reason(&mut e.missing, &err);
                            }
                        }
                    }
                }
                "aws_organizations_policy" => {
                    if self
                        .string(r, "type")
                        .is_some_and(|t| t != "SERVICE_CONTROL_POLICY")
                    {
                        continue;
                    }
                    let name = self.string(r, "name").unwrap_or_else(|| r.name.clone());
                    let text = self.policy_text(r, None, "content");
                    let offset = self.value(r, "content").map_or(0, |n| n.span.start);
                    let i = self.push(
                        format!("{} ({name})", r.address),
                        None,
                        PolicyKind::Scp,
                        r.pointer.key("content"),
                        offset,
                        text,
                    );
                    scps.push((
                        ri,
                        ImportedScp {
                            name,
                            policy: i,
                            targets: Vec::new(),
                        },
                    ));
                }
                _ => {}
            }
        }
        scps
    }

    /// The targets of each SCP (`aws_organizations_policy_attachment`).
    fn scp_targets(&self, scps: &mut [(usize, ImportedScp)]) {
        for r in self
            .resources
            .iter()
            .filter(|r| r.ty == "aws_organizations_policy_attachment")
        {
            let target = self
                .string(r, "target_id")
                .unwrap_or_else(|| "(known after apply)".into());
            let policy = match self.string(r, "policy_id") {
                Some(id) => scps.iter_mut().find(|(ri, _)| {
                    self.string(&self.resources[*ri], "id").as_deref() == Some(&id)
                }),
                None => {
                    let refs = self.references(r, "policy_id", "aws_organizations_policy");
                    scps.iter_mut().find(|(ri, _)| refs.first() == Some(ri))
                }
            };
            if let Some((_, scp)) = policy {
                scp.targets.push(target);
            }
        }
    }

    /// Groups' policies, and what is unknown about them, go to their members; the
    /// principals are then complete.
    fn members(&self, entities: &[Entity]) -> Vec<ImportedPrincipal> {
        let mut principals = Vec::new();
        for e in entities.iter().filter(|e| e.noun != "group") {
            let mut identity = e.identity.clone();
            let mut missing = e.missing.clone();
            let mut groups = Vec::new();
            for &g in &e.groups {
                let Some(group) = entities.get(g) else {
                    continue;
                };
                identity.extend(group.identity.iter().cloned());
                for m in &group.missing {
                    super::add_reason(&mut missing, format!("group {}: {m}", group.name));
                }
                groups.push(group.name.clone());
            }
            principals.push(ImportedPrincipal {
                arn: e.arn.clone(),
                defined_by: self.resources[e.res].address.clone(),
                tags: e.tags.clone(),
                identity,
                boundary: e.boundary.clone(),
                trust: e.trust.clone(),
                max_session_duration: e.max_session_duration,
                groups,
                missing,
            });
        }
        principals
    }

    fn attach(
        &self,
        entities: &mut [Entity],
        r: &Res<'_>,
        targets: Result<Vec<usize>, String>,
        u: PolicyUse,
        ety: &str,
    ) {
        match targets {
            Ok(t) => {
                for i in t {
                    if !entities[i].identity.contains(&u) {
                        entities[i].identity.push(u.clone());
                    }
                }
            }
            Err(err) => self.attach_missing(
                entities,
                Err(err),
                ety,
                format!("{}: whom it attaches to is unknown", r.address),
            ),
        }
    }

    fn attach_missing(
        &self,
        entities: &mut [Entity],
        targets: Result<Vec<usize>, String>,
        ety: &str,
        why: String,
    ) {
        match targets {
            Ok(t) => {
                for i in t {
                    super::add_reason(&mut entities[i].missing, &why);
                }
            }
            Err(err) => {
                // Every entity of the kind may be the one: none is complete.
                for e in entities
                    .iter_mut()
                    .filter(|e| self.resources[e.res].ty == ety)
                {
                    super::add_reason(&mut e.missing, format!("{err} ({why})"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_drop_their_indexes() {
        assert_eq!(
            config_address(r#"module.a["x"].aws_iam_role.r[0]"#),
            "module.a.aws_iam_role.r"
        );
        assert_eq!(config_address(r#"aws_iam_role.r["a]b"]"#), "aws_iam_role.r");
    }

    fn load(plan: serde_json::Value) -> Imported {
        let text = plan.to_string();
        let root = crate::json::parse(text.as_bytes()).unwrap();
        let settings = Settings {
            partition: "aws".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            limits: super::super::Limits::default(),
        };
        import(
            Arc::new(SourceFile::new("plan.json", text)),
            &root,
            &settings,
        )
        .unwrap()
    }

    fn res(ty: &str, name: &str, values: serde_json::Value) -> serde_json::Value {
        serde_json::json!({"address": format!("{ty}.{name}"), "mode": "managed", "type": ty, "name": name, "values": values})
    }

    #[test]
    fn references_name_resources_whose_names_contain_their_type() {
        // `role` is known only after apply; the reference names a resource whose name
        // contains its own type.
        let plan = serde_json::json!({"format_version": "1.2",
          "planned_values": {"root_module": {"resources": [
            res("aws_iam_role", "aws_iam_role_worker", serde_json::json!({"name": "worker"})),
            res("aws_iam_role_policy", "p", serde_json::json!({"name": "p", "policy": "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"swf:*\",\"Resource\":\"*\"}}"}))]}},
          "configuration": {"root_module": {"resources": [
            {"address": "aws_iam_role.aws_iam_role_worker", "expressions": {"name": {"constant_value": "worker"}}},
            {"address": "aws_iam_role_policy.p", "expressions": {"role": {"references": ["aws_iam_role.aws_iam_role_worker.id", "aws_iam_role.aws_iam_role_worker"]}}}]}}});
        let i = load(plan);
        assert_eq!(i.principals.len(), 1);
        assert_eq!(i.principals[0].arn, "arn:aws:iam::123456789012:role/worker");
        assert_eq!(i.principals[0].identity, [PolicyUse::Imported(0)]);
        assert!(
            i.principals[0].missing.is_empty(),
            "{:?}",
            i.principals[0].missing
        );
    }

    /// `users = []` is planned as `null`, and `after_unknown` does not list it: known,
    /// unset. The attachment then names its role only, and nobody is unresolved. The
    /// same attribute listed `true` in `after_unknown` is unknown.
    #[test]
    fn a_planned_null_is_unset_unless_after_unknown_says_otherwise() {
        let doc = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"swf:*\",\"Resource\":\"*\"}}";
        let plan = |users_unknown: bool| {
            serde_json::json!({"format_version": "1.2",
              "planned_values": {"root_module": {"resources": [
                res("aws_iam_role", "r", serde_json::json!({"name": "r"})),
                res("aws_iam_user", "u", serde_json::json!({"name": "u"})),
                res("aws_iam_policy", "p", serde_json::json!({"name": "p", "arn": "arn:aws:iam::123456789012:policy/p", "policy": doc})),
                res("aws_iam_policy_attachment", "a", serde_json::json!({"name": "a", "roles": ["r"], "users": null, "groups": null, "policy_arn": "arn:aws:iam::123456789012:policy/p"}))]}},
              "resource_changes": [
                {"address": "aws_iam_policy_attachment.a", "change": {"after_unknown": {"users": users_unknown, "roles": [false]}}}],
              "configuration": {"root_module": {"resources": [
                {"address": "aws_iam_policy_attachment.a", "expressions": {"users": {"constant_value": []}, "roles": {"constant_value": ["r"]}}}]}}})
        };
        let i = load(plan(false));
        for p in &i.principals {
            assert!(p.missing.is_empty(), "{}: {:?}", p.arn, p.missing);
        }
        let role = i
            .principals
            .iter()
            .find(|p| p.arn.ends_with("role/r"))
            .unwrap();
        assert_eq!(role.identity.len(), 1, "the attachment reaches its role");
        let user = i
            .principals
            .iter()
            .find(|p| p.arn.ends_with("user/u"))
            .unwrap();
        assert!(user.identity.is_empty());
        let i = load(plan(true));
        let user = i
            .principals
            .iter()
            .find(|p| p.arn.ends_with("user/u"))
            .unwrap();
        assert!(
            !user.missing.is_empty(),
            "an unknown `users` may name anyone"
        );
    }

    #[test]
    fn what_is_unknown_about_a_group_reaches_its_members() {
        let plan = serde_json::json!({"format_version": "1.2",
          "planned_values": {"root_module": {"resources": [
            res("aws_iam_group", "g", serde_json::json!({"name": "g"})),
            res("aws_iam_user", "u", serde_json::json!({"name": "u"})),
            res("aws_iam_user", "later", serde_json::json!({})),
            res("aws_iam_group_membership", "m", serde_json::json!({"name": "m", "group": "g", "users": ["u"]})),
            res("aws_iam_group_policy_attachment", "a", serde_json::json!({"group": "g"}))]}},
          "configuration": {"root_module": {"resources": [
            {"address": "aws_iam_user.later", "expressions": {"name": {"references": ["random_pet.x.id", "random_pet.x"]}}},
            {"address": "aws_iam_group_policy_attachment.a", "expressions": {"policy_arn": {"references": ["aws_iam_policy.elsewhere.arn"]}}}]}}});
        let i = load(plan);
        let u = i
            .principals
            .iter()
            .find(|p| p.arn.ends_with("user/u"))
            .unwrap();
        assert_eq!(u.groups, ["g"]);
        assert!(
            u.missing.iter().any(|m| m == "group g: aws_iam_group_policy_attachment.a.policy_arn is known only after apply"),
            "{:?}",
            u.missing
        );
        let later = i
            .principals
            .iter()
            .find(|p| p.arn.ends_with("user/later"))
            .unwrap();
        assert!(
            later
                .missing
                .iter()
                .any(|m| m.contains("name is known only after apply")),
            "{:?}",
            later.missing
        );
    }
}
