//! The configuration's `sources` (Terraform plans, CloudFormation templates,
//! authorization details), `managedPolicies` and `accessKeys`: imported principals with
//! their policies resolved, and what could not be resolved named.

use super::{AccessKey, PrincipalConfig, Reader, Res, Secret};
use crate::compile::{LoadedPolicy, PolicySet};
use crate::eval::Principal;
use crate::importers::{
    self, managed_kind, Imported, ParameterValue, PolicyUse, Settings, SourceKind,
};
use crate::json::{Node, Value};
use crate::text::{Pointer, SourceFile};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A source a configuration names.
#[derive(Debug, Clone)]
pub struct SourceRef {
    /// Its kind.
    pub kind: SourceKind,
    /// Its path (resolved against the configuration's directory).
    pub path: PathBuf,
    /// CloudFormation parameter values.
    pub parameters: Vec<(String, ParameterValue)>,
}

/// The members a source entry may have.
const SOURCE_FIELDS: &[&str] = &[
    "terraformPlan",
    "cloudFormation",
    "authorizationDetails",
    "parameters",
];

impl Reader {
    /// The entries of `sources`.
    pub(super) fn source_refs(&self, node: &Node, ptr: &Pointer) -> Res<Vec<SourceRef>> {
        let Value::Array(items) = &node.value else {
            return Err(self.err(node, ptr, "`sources` must be an array".into()));
        };
        let mut out = Vec::new();
        for (i, it) in items.iter().enumerate() {
            let ip = ptr.index(i);
            let members = self.object(it, &ip, SOURCE_FIELDS)?;
            let kinds: Vec<(SourceKind, &crate::json::Member)> = members
                .iter()
                .filter_map(|m| {
                    let k = match m.key.as_str() {
                        "terraformPlan" => SourceKind::TerraformPlan,
                        "cloudFormation" => SourceKind::CloudFormation,
                        "authorizationDetails" => SourceKind::AuthorizationDetails,
                        _ => return None,
                    };
                    Some((k, m))
                })
                .collect();
            let [(kind, m)] = kinds.as_slice() else {
                return Err(self.err(
                    it,
                    &ip,
                    "a source names exactly one of `terraformPlan`, `cloudFormation`, `authorizationDetails`".into(),
                ));
            };
            let rel = self.string(&m.value, &ip.key(&m.key))?;
            let path = crate::files::lexical(&self.dir.join(rel));
            let mut parameters = Vec::new();
            if let Some(p) = members.iter().find(|m| m.key == "parameters") {
                let pp = ip.key("parameters");
                if *kind != SourceKind::CloudFormation {
                    return Err(self.err(
                        &p.value,
                        &pp,
                        "`parameters` are for `cloudFormation` sources".into(),
                    ));
                }
                parameters = match &p.value.value {
                    Value::String(file) => importers::read_parameters(&self.dir.join(file))
                        .map_err(|e| self.err(&p.value, &pp, e))?,
                    _ => importers::parameters(&p.value).map_err(|e| self.err(&p.value, &pp, e))?,
                };
            }
            out.push(SourceRef {
                kind: *kind,
                path,
                parameters,
            });
        }
        Ok(out)
    }
}

/// Reads and imports a source.
pub fn import(r: &SourceRef, settings: &Settings) -> Result<Imported, String> {
    // A regular file within the size limit only: never a device, a FIFO or a file that
    // grows while it is read.
    let bytes = crate::files::read_bounded(&r.path, settings.limits.max_file_bytes)
        .map_err(|e| format!("{} {e}", r.kind.as_str()))?;
    importers::import(
        &r.path.display().to_string(),
        &bytes,
        r.kind,
        settings,
        &r.parameters,
    )
    .map_err(|e| e.to_string())
}

/// Loads imported policy `p` of `imp` (text `t`), named `FILE: NAME`, with its ARN.
fn load(
    imp: &Imported,
    p: &importers::ImportedPolicy,
    t: &importers::PolicyText,
) -> Result<LoadedPolicy, crate::compile::PolicyError> {
    let file = Path::new(imp.file.name()).file_name().map_or_else(
        || imp.file.name().to_owned(),
        |f| f.to_string_lossy().into_owned(),
    );
    let mut l = LoadedPolicy::load_embedded(
        &format!("{file}: {}", p.name),
        t.text.as_bytes(),
        &p.kind,
        t.origin.clone(),
    )?;
    l.arn = p.arn.clone();
    Ok(l)
}

/// Loads the policies principals of the sources use: their own, by ARN across every
/// source, or from the managed policy directory. Each is loaded once.
pub(super) struct Resolver<'a> {
    imports: &'a [Arc<Imported>],
    dir: Option<PathBuf>,
    by_arn: HashMap<&'a str, (usize, usize)>,
    cache: HashMap<(usize, usize), Result<LoadedPolicy, String>>,
    files: HashMap<String, Result<LoadedPolicy, String>>,
}

impl<'a> Resolver<'a> {
    pub(super) fn new(imports: &'a [Arc<Imported>], dir: Option<PathBuf>) -> Self {
        let mut by_arn: HashMap<&str, (usize, usize)> = HashMap::new();
        let mut files = HashMap::new();
        for (s, imp) in imports.iter().enumerate() {
            for (i, p) in imp.policies.iter().enumerate() {
                let Some(a) = &p.arn else { continue };
                match by_arn.get(a.as_str()) {
                    None => {
                        by_arn.insert(a, (s, i));
                    }
                    Some(&(s0, i0)) => {
                        // Two documents under one ARN: which is deployed is unknown.
                        let text = |s: usize, i: usize| {
                            imports[s].policies[i]
                                .text
                                .as_ref()
                                .ok()
                                .map(|t| t.text.as_str())
                        };
                        if text(s0, i0).is_none() || text(s0, i0) != text(s, i) {
                            files.insert(
                                a.clone(),
                                Err(format!(
                                    "managed policy {a} has different documents in {} and {}",
                                    imports[s0].file.name(),
                                    imp.file.name()
                                )),
                            );
                        }
                    }
                }
            }
        }
        for a in files.keys() {
            by_arn.remove(a.as_str());
        }
        Resolver {
            imports,
            dir,
            by_arn,
            cache: HashMap::new(),
            files,
        }
    }

    /// Policy `idx` of source `src`, loaded.
    pub(super) fn imported(&mut self, src: usize, idx: usize) -> Result<LoadedPolicy, String> {
        if let Some(r) = self.cache.get(&(src, idx)) {
            return r.clone();
        }
        let imp = &self.imports[src];
        let r = match imp.policies.get(idx) {
            None => Err("internal error: a policy index names no policy".to_owned()),
            Some(p) => match &p.text {
                Err(why) => Err(format!("policy {} cannot be resolved: {why}", p.name)),
                Ok(t) => load(imp, p, t).map_err(|e| format!("policy {} is invalid: {e}", p.name)),
            },
        };
        self.cache.insert((src, idx), r.clone());
        r
    }

    /// The managed policy `arn`: from a source, else from the managed policy directory
    /// (an ARN two sources give different documents for is an error).
    pub(super) fn arn(&mut self, arn: &str) -> Result<LoadedPolicy, String> {
        if let Some(&(s, i)) = self.by_arn.get(arn) {
            return self.imported(s, i);
        }
        if let Some(r) = self.files.get(arn) {
            return r.clone();
        }
        let r = self.read_managed(arn);
        self.files.insert(arn.to_owned(), r.clone());
        r
    }

    fn read_managed(&self, arn: &str) -> Result<LoadedPolicy, String> {
        let owner = if importers::is_aws_managed(arn) {
            "AWS managed policy"
        } else {
            "managed policy"
        };
        let Some(dir) = &self.dir else {
            return Err(format!(
                "{owner} {arn} is not in any source (give `managedPolicies`, a directory of policy documents named NAME.json)"
            ));
        };
        // The policy's path and name, found by listing the directory (`PATH/NAME.json`,
        // else `NAME.json`): never a path built from the ARN, which could be absolute or
        // climb out. A symlink leaving the directory is not followed.
        let rest = arn.split_once(":policy/").map_or(arn, |(_, r)| r);
        let segments: Vec<&str> = rest.split('/').collect();
        let name = segments.last().copied().unwrap_or_default();
        if segments
            .iter()
            .any(|s| s.is_empty() || *s == "." || *s == ".." || s.contains(['\\', '\0']))
        {
            return Err(format!(
                "{owner} {arn}: its path does not name a file in `{}` (an IAM path has no empty, `.` or `..` segment)",
                dir.display()
            ));
        }
        let Some(path) = crate::files::find_inside(dir, &segments, "json")
            .or_else(|| crate::files::find_inside(dir, &[name], "json"))
        else {
            return Err(format!(
                "{owner} {arn} is not in any source nor in `{}` (looked for {}.json inside it)",
                dir.display(),
                if segments.len() > 1 { rest } else { name }
            ));
        };
        let bytes = crate::files::read_bounded(&path, crate::files::MAX_POLICY_FILE_BYTES)
            .map_err(|e| format!("{owner} {arn}: {e}"))?;
        let shown = path.display().to_string();
        let root =
            crate::json::parse(&bytes).map_err(|e| format!("{shown}: not valid JSON: {e}"))?;
        // `aws iam get-policy-version` output, or the document itself.
        let doc =
            crate::json::get(&root, "PolicyVersion").and_then(|v| crate::json::get(v, "Document"));
        let kind = managed_kind(arn);
        let mut p = match doc {
            Some(d) => {
                let file = Arc::new(SourceFile::new(
                    shown.clone(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
                let ptr = Pointer::root().key("PolicyVersion").key("Document");
                let t = importers::document_text(&file, d, &ptr)?;
                LoadedPolicy::load_embedded(&shown, t.text.as_bytes(), &kind, t.origin)
            }
            None => LoadedPolicy::load(&shown, &bytes, &kind),
        }
        .map_err(|e| format!("{owner} {arn}: {e}"))?;
        p.arn = Some(arn.to_owned());
        Ok(p)
    }

    fn use_policy(&mut self, src: usize, u: &PolicyUse) -> Result<LoadedPolicy, String> {
        match u {
            PolicyUse::Imported(i) => self.imported(src, *i),
            PolicyUse::Arn(a) => self.arn(a),
        }
    }
}

/// The principals of every source, with their policies loaded (SCP levels `scps`
/// added); a principal whose policies are not all known is kept with what is missing,
/// and denies every request. An entry that cannot be a principal at all (its ARN is not
/// well formed) is left out with the reason (the second list): never its neighbours.
pub(super) fn principals(
    imports: &[Arc<Imported>],
    resolver: &mut Resolver<'_>,
    scps: &[Vec<LoadedPolicy>],
) -> (Vec<PrincipalConfig>, Vec<String>) {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for (s, imp) in imports.iter().enumerate() {
        let file = imp.file.name();
        for ip in &imp.principals {
            let mut principal = match Principal::from_arn(&ip.arn, "swf-iam", None) {
                Ok(p) => p,
                Err(e) => {
                    skipped.push(format!(
                        "{file}: {} defines principal `{}`, which is left out: {e}",
                        ip.defined_by, ip.arn
                    ));
                    continue;
                }
            };
            principal.tags.extend(ip.tags.iter().cloned());
            let mut missing = ip.missing.clone();
            let mut set = PolicySet {
                scps: scps.to_vec(),
                ..PolicySet::default()
            };
            let mut uses: Vec<&PolicyUse> = Vec::with_capacity(ip.identity.len());
            for u in &ip.identity {
                // The same policy reached twice (attached and through a group) is one policy.
                if !uses.contains(&u) {
                    uses.push(u);
                }
            }
            for u in uses {
                match resolver.use_policy(s, u) {
                    Ok(p) => set.identity.push(p),
                    Err(e) => missing.push(e),
                }
            }
            if let Some(b) = &ip.boundary {
                match resolver.use_policy(s, b) {
                    Ok(p) => set.boundary = Some(p),
                    Err(e) => missing.push(format!("permissions boundary: {e}")),
                }
            }
            missing.dedup();
            let origin = format!("{file}: {}", ip.defined_by);
            match super::finish(principal, set, Vec::new(), missing, Some(origin)) {
                Ok(mut pc) => {
                    if let Some(t) = &ip.trust {
                        match resolver.use_policy(s, t) {
                            Ok(p) => {
                                pc.trust = Some(Arc::new(
                                    crate::compile::trust::CompiledTrustPolicy::compile(&p),
                                ))
                            }
                            Err(e) => pc.trust_missing = Some(format!("trust policy: {e}")),
                        }
                    }
                    if let Some(secs) = ip.max_session_duration {
                        if (3600..=43200).contains(&secs) {
                            pc.max_session_duration = secs;
                        } else {
                            pc.trust_missing =
                                Some(format!("MaxSessionDuration {secs} is outside 3600..43200"));
                        }
                    }
                    out.push(pc)
                }
                Err(e) => skipped.push(format!(
                    "{file}: {} defines principal `{}`, which is left out: {e}",
                    ip.defined_by, ip.arn
                )),
            }
        }
    }
    (out, skipped)
}

/// The service control policy named `name` (its `Name`, or its Terraform address or
/// logical ID) in the sources, loaded: it must be in exactly one and be resolved.
pub(super) fn imported_scp(imports: &[Arc<Imported>], name: &str) -> Result<LoadedPolicy, String> {
    let mut found = Vec::new();
    for imp in imports {
        for scp in &imp.scps {
            let Some(p) = imp.policies.get(scp.policy) else {
                continue;
            };
            let by_address = p.name.split(" (").next() == Some(name);
            if scp.name == name || by_address {
                found.push((imp, p));
            }
        }
    }
    match found.as_slice() {
        [] => Err(format!(
            "no source defines a service control policy named `{name}`"
        )),
        [(imp, p)] => {
            let t = p.text.as_ref().map_err(|why| {
                format!("service control policy `{name}` cannot be resolved: {why}")
            })?;
            load(imp, p, t).map_err(|e| format!("service control policy `{name}` is invalid: {e}"))
        }
        _ => Err(format!(
            "more than one source defines a service control policy named `{name}`"
        )),
    }
}

/// The top-level `accessKeys`: `[{"principal": ARN, "accessKeyId", "secretAccessKey"}]`.
impl Reader {
    pub(super) fn access_keys(
        &self,
        node: &Node,
        ptr: &Pointer,
    ) -> Res<Vec<(String, AccessKey, usize, Pointer)>> {
        let Value::Array(items) = &node.value else {
            return Err(self.err(node, ptr, "`accessKeys` must be an array".into()));
        };
        let mut out = Vec::new();
        for (i, it) in items.iter().enumerate() {
            let ip = ptr.index(i);
            let km = self.object(it, &ip, &["principal", "accessKeyId", "secretAccessKey"])?;
            let field = |k: &str| self.required_text(km, it, &ip, k);
            out.push((
                field("principal")?,
                AccessKey {
                    access_key_id: field("accessKeyId")?,
                    secret_access_key: Secret::new(field("secretAccessKey")?),
                },
                it.span.start,
                ip,
            ));
        }
        Ok(out)
    }
}
