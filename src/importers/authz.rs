//! `aws iam get-account-authorization-details` output: users (their inline, attached
//! and group policies), groups, roles (evaluated as sessions of them), managed policies
//! at their default versions and permissions boundaries. Policy documents are JSON
//! objects (as the CLI prints them) or URL-encoded strings (as the raw API returns them).

use super::{
    get, get_items, get_str, managed_kind, Imported, ImportedPolicy, ImportedPrincipal, PolicyText,
    PolicyUse, SourceError, SourceKind,
};
use crate::json::{Node, Value};
use crate::text::{Pointer, SourceFile};
use crate::validate::PolicyKind;
use std::collections::HashMap;
use std::sync::Arc;

/// Reads authorization details already parsed as `root`.
pub fn import(file: Arc<SourceFile>, root: &Node) -> Result<Imported, SourceError> {
    let Value::Object(_) = &root.value else {
        return Err(SourceError(file.locate(
            root.span.start,
            &Pointer::root(),
            "authorization details are a JSON object",
        )));
    };
    let mut r = Reader {
        file: file.clone(),
        policies: Vec::new(),
        by_arn: HashMap::new(),
    };
    let root_ptr = Pointer::root();
    // Managed policies at their default versions.
    for (i, p) in get_items(root, "Policies").iter().enumerate() {
        let ptr = root_ptr.key("Policies").index(i);
        let Some(arn) = get_str(p, "Arn") else {
            continue;
        };
        let name = get_str(p, "PolicyName").unwrap_or(arn);
        let default = get_str(p, "DefaultVersionId");
        let versions = get_items(p, "PolicyVersionList");
        let chosen = versions.iter().enumerate().find(|(_, v)| {
            matches!(
                get(v, "IsDefaultVersion").map(|n| &n.value),
                Some(Value::Bool(true))
            ) || (default.is_some() && get_str(v, "VersionId") == default)
        });
        let (text, at) = match chosen.and_then(|(j, v)| get(v, "Document").map(|d| (j, d))) {
            Some((j, doc)) => {
                let dp = ptr.key("PolicyVersionList").index(j).key("Document");
                (r.document(doc, &dp), doc.span.start)
            }
            None => (
                Err(format!(
                    "the default version {} of managed policy {arn} is not in the file",
                    default.unwrap_or("(unnamed)")
                )),
                p.span.start,
            ),
        };
        let idx = r.policies.len();
        r.policies.push(ImportedPolicy {
            name: name.to_owned(),
            arn: Some(arn.to_owned()),
            kind: managed_kind(arn),
            pointer: ptr,
            offset: at,
            text,
        });
        r.by_arn.insert(arn.to_owned(), idx);
    }
    // Groups: their inline and attached policies, for their members.
    let mut groups: HashMap<String, Vec<PolicyUse>> = HashMap::new();
    for (i, g) in get_items(root, "GroupDetailList").iter().enumerate() {
        let ptr = root_ptr.key("GroupDetailList").index(i);
        let Some(name) = get_str(g, "GroupName") else {
            continue;
        };
        let mut uses = r.inline(
            g,
            &ptr,
            "GroupPolicyList",
            &PolicyKind::InlineGroup(name.into()),
            &format!("group/{name}"),
        );
        uses.extend(r.attached(g));
        groups.insert(name.to_owned(), uses);
    }
    let mut principals = Vec::new();
    for (list, inline_key, noun) in [
        ("UserDetailList", "UserPolicyList", "user"),
        ("RoleDetailList", "RolePolicyList", "role"),
    ] {
        for (i, u) in get_items(root, list).iter().enumerate() {
            let ptr = root_ptr.key(list).index(i);
            let name_key = if noun == "user" {
                "UserName"
            } else {
                "RoleName"
            };
            let (Some(arn), Some(name)) = (get_str(u, "Arn"), get_str(u, name_key)) else {
                continue;
            };
            let kind = if noun == "user" {
                PolicyKind::InlineUser(name.into())
            } else {
                PolicyKind::InlineRole(name.into())
            };
            let mut identity = r.inline(u, &ptr, inline_key, &kind, &format!("{noun}/{name}"));
            identity.extend(r.attached(u));
            let mut missing = Vec::new();
            let mut member_of = Vec::new();
            for g in get_items(u, "GroupList") {
                let Value::String(g) = &g.value else { continue };
                member_of.push(g.clone());
                match groups.get(g) {
                    Some(uses) => identity.extend(uses.iter().cloned()),
                    None => super::add_reason(
                        &mut missing,
                        format!(
                            "group {g} (the user is a member) is not in the file's GroupDetailList"
                        ),
                    ),
                }
            }
            let boundary = get(u, "PermissionsBoundary")
                .and_then(|b| get_str(b, "PermissionsBoundaryArn"))
                .map(|a| r.use_arn(a));
            let tags = get_items(u, "Tags")
                .iter()
                .filter_map(|t| {
                    Some((
                        get_str(t, "Key")?.to_owned(),
                        get_str(t, "Value")?.to_owned(),
                    ))
                })
                .collect();
            let trust = (noun == "role")
                .then(|| get(u, "AssumeRolePolicyDocument"))
                .flatten()
                .map(|doc| {
                    let dp = ptr.key("AssumeRolePolicyDocument");
                    let text = r.document(doc, &dp);
                    r.policies.push(ImportedPolicy {
                        name: format!("role/{name} trust policy"),
                        arn: None,
                        kind: PolicyKind::Trust,
                        pointer: dp,
                        offset: doc.span.start,
                        text,
                    });
                    PolicyUse::Imported(r.policies.len() - 1)
                });
            let max_session_duration = get(u, "MaxSessionDuration").and_then(|n| match &n.value {
                Value::Number(t) => t.parse::<u64>().ok(),
                _ => None,
            });
            principals.push(ImportedPrincipal {
                arn: arn.to_owned(),
                defined_by: format!("{list}/{i} ({noun} {name})"),
                tags,
                identity,
                boundary,
                trust,
                max_session_duration,
                groups: member_of,
                missing,
            });
        }
    }
    Ok(Imported {
        kind: SourceKind::AuthorizationDetails,
        file,
        policies: r.policies,
        principals,
        scps: Vec::new(),
    })
}

struct Reader {
    file: Arc<SourceFile>,
    policies: Vec<ImportedPolicy>,
    by_arn: HashMap<String, usize>,
}

impl Reader {
    fn document(&self, doc: &Node, pointer: &Pointer) -> Result<PolicyText, String> {
        super::document_text(&self.file, doc, pointer)
    }

    /// The inline policies of an entity (`key`: `UserPolicyList`, ...).
    fn inline(
        &mut self,
        entity: &Node,
        ptr: &Pointer,
        key: &str,
        kind: &PolicyKind,
        owner: &str,
    ) -> Vec<PolicyUse> {
        let mut uses = Vec::new();
        for (j, p) in get_items(entity, key).iter().enumerate() {
            let pp = ptr.key(key).index(j);
            let name = get_str(p, "PolicyName").unwrap_or("(unnamed)");
            let text = match get(p, "PolicyDocument") {
                Some(doc) => self.document(doc, &pp.key("PolicyDocument")),
                None => Err(format!(
                    "inline policy {name} of {owner} has no PolicyDocument"
                )),
            };
            uses.push(PolicyUse::Imported(self.policies.len()));
            self.policies.push(ImportedPolicy {
                name: format!("{owner} inline policy {name}"),
                arn: None,
                kind: kind.clone(),
                pointer: pp,
                offset: p.span.start,
                text,
            });
        }
        uses
    }

    /// The managed policies attached to an entity.
    fn attached(&self, entity: &Node) -> Vec<PolicyUse> {
        get_items(entity, "AttachedManagedPolicies")
            .iter()
            .filter_map(|a| get_str(a, "PolicyArn"))
            .map(|a| self.use_arn(a))
            .collect()
    }

    fn use_arn(&self, arn: &str) -> PolicyUse {
        match self.by_arn.get(arn) {
            Some(&i) => PolicyUse::Imported(i),
            None => PolicyUse::Arn(arn.to_owned()),
        }
    }
}
