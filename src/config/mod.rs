//! Configuration shared by every command (`policies/swf-iam.json` by default): the
//! account, the SCP levels and the principals with their policies and access keys.
//!
//! Paths are relative to the configuration file; a policy entry may also be an inline
//! policy object, or `{"path": ..., "arn": ...}` to name the policy's ARN. Unknown
//! fields, missing files and invalid policies are errors with file, line, column and
//! JSON pointer.

use crate::compile::{CompiledPolicySet, LoadedPolicy, PolicyError, PolicySet};
use crate::eval::context::PrincipalType;
use crate::eval::{Context, Principal};
use crate::json::{self, Member, Node, Value};
use crate::swf::arn::{check_account, check_region, PARTITIONS};
use crate::text::{Origin, Pointer, SourceFile, TextMap};
use crate::validate::PolicyKind;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod imports;
pub use imports::{import as import_source, SourceRef};

/// The partition when a configuration names none.
pub const DEFAULT_PARTITION: &str = "aws";
/// The account when a configuration names none.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// The region when a configuration names none.
pub const DEFAULT_REGION: &str = "us-east-1";

/// A configuration problem, with where it is.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read `{path}`: {message}")]
    Io {
        /// The path.
        path: String,
        /// The OS error.
        message: String,
    },
    /// A value of the configuration is wrong.
    #[error("{0}")]
    Invalid(crate::text::Located),
    /// A referenced policy is invalid.
    #[error("{0}")]
    Policy(#[from] PolicyError),
}

/// A secret access key: never shown by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for signing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(**redacted**)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("**redacted**")
    }
}

/// An access key of a principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// The access key ID (`AKIA...`).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret,
}

/// A virtual MFA device of a user (or root): its serial number (ARN) and its base-32
/// TOTP seed, for `GetSessionToken` and `AssumeRole` calls that send a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaDevice {
    /// `arn:aws:iam::ACCOUNT:mfa/NAME`.
    pub serial_number: String,
    /// The base-32 seed, as an authenticator app is given it.
    pub seed: Secret,
}

/// One configured principal with its policies, compiled.
#[derive(Debug, Clone)]
pub struct PrincipalConfig {
    /// The principal.
    pub principal: Principal,
    /// Its policies (the configuration's SCP levels included).
    pub policies: PolicySet,
    /// Its policies, compiled.
    pub compiled: Arc<CompiledPolicySet>,
    /// Its access keys.
    pub access_keys: Vec<AccessKey>,
    /// The context keys every request of this principal carries (principal keys);
    /// requests layer their own keys over it ([`Context::over`]).
    pub base_context: Arc<Context>,
    /// What its source leaves unresolved (a managed policy given only by ARN, an
    /// intrinsic that cannot be evaluated offline). When not empty, every request of the
    /// principal is denied with this as the error.
    pub missing: Vec<String>,
    /// Where an imported principal was defined (`plan.json: aws_iam_role.worker`).
    pub origin: Option<String>,
    /// A role's trust policy, compiled (`None`: not a role, or none configured; nobody
    /// may assume it).
    pub trust: Option<Arc<crate::compile::trust::CompiledTrustPolicy>>,
    /// Why a role's trust policy is not known (its source could not be resolved): every
    /// `AssumeRole` of it is denied with this reason.
    pub trust_missing: Option<String>,
    /// A role's maximum session duration in seconds (3,600 to 43,200; IAM's default 3,600).
    pub max_session_duration: u64,
    /// A user's (or root's) virtual MFA devices.
    pub mfa_devices: Vec<MfaDevice>,
}

/// IAM's default maximum session duration of a role.
pub const DEFAULT_MAX_SESSION_DURATION: u64 = 3600;

impl PrincipalConfig {
    /// Whether the principal is a role (it may be assumed, when its trust policy allows).
    pub fn is_role(&self) -> bool {
        self.principal.principal_type == crate::eval::PrincipalType::AssumedRole
            && self.principal.arn.split(':').nth(2) == Some("iam")
    }
}

/// A loaded configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from.
    pub path: PathBuf,
    /// Partition of request ARNs.
    pub partition: String,
    /// Default region: `aws:RequestedRegion` and domain ARNs where a request names none.
    pub region: String,
    /// The regions a gated endpoint (`serve`, `proxy`) serves: a request signed for
    /// another is refused ("Credential should be scoped to a valid region"). Default:
    /// `[region]`. Each is a checked region name.
    pub regions: Vec<String>,
    /// The account of the domains.
    pub account: String,
    /// The principals.
    pub principals: Vec<PrincipalConfig>,
    /// What `serve` registers in its emulator at start, in order (`register`).
    pub registrations: Vec<Registration>,
    /// The sources read (`sources`), in order.
    pub sources: Vec<Arc<crate::importers::Imported>>,
    /// The directory of managed policy documents (`managedPolicies`), if configured.
    pub managed_dir: Option<PathBuf>,
    /// Entries of the sources that could not be read as principals at all (an ARN that
    /// is not well formed), with why: each is left out, alone, and never authenticates;
    /// the rest of its file loads. Commands show them as warnings.
    pub skipped: Vec<String>,
}

/// One registration `serve` makes at start: the body of an SWF `RegisterDomain`,
/// `RegisterActivityType` or `RegisterWorkflowType` call, in the configuration's default
/// region, validated by the emulator as SWF validates the call.
#[derive(Debug, Clone)]
pub struct Registration {
    /// `RegisterDomain`, `RegisterActivityType` or `RegisterWorkflowType`.
    pub operation: &'static str,
    /// The request body.
    pub body: serde_json::Map<String, serde_json::Value>,
    /// Where it is in the configuration (the message is empty).
    pub at: crate::text::Located,
}

impl Registration {
    /// How it reads in a banner: `domain orders`, `activity type hb`, `workflow type wf`.
    pub fn describe(&self) -> String {
        let name = self
            .body
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or("?");
        match self.operation {
            "RegisterDomain" => format!("domain {name}"),
            "RegisterActivityType" => format!("activity type {name}"),
            _ => format!("workflow type {name}"),
        }
    }
}

/// A spanned JSON value as `serde_json`'s (numbers keep their value).
fn to_serde(node: &Node) -> serde_json::Value {
    match &node.value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => serde_json::from_str(n).unwrap_or(serde_json::Value::Null),
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Array(items) => serde_json::Value::Array(items.iter().map(to_serde).collect()),
        Value::Object(members) => serde_json::Value::Object(
            members
                .iter()
                .map(|m| (m.key.clone(), to_serde(&m.value)))
                .collect(),
        ),
    }
}

/// The kind IAM holds an identity policy of `principal` to: a customer managed policy
/// when the entry names its ARN (`{"path", "arn"}`), else an inline policy of the user or
/// role (IAM's inline quotas and messages).
fn identity_kind(principal: &Principal, entry: &Node) -> PolicyKind {
    let has_arn = matches!(&entry.value, Value::Object(m) if m.iter().any(|m| m.key == "arn"));
    if has_arn {
        return PolicyKind::Managed;
    }
    match (&principal.principal_type, &principal.username) {
        (PrincipalType::User, Some(name)) => PolicyKind::InlineUser(name.clone()),
        (PrincipalType::AssumedRole, _) => {
            // arn:aws:iam::ACCOUNT:role/PATH/NAME or arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION
            let resource = principal.arn.splitn(6, ':').nth(5).unwrap_or("");
            let name = match resource.strip_prefix("assumed-role/") {
                Some(rest) => rest.split('/').next().unwrap_or(""),
                None => resource.rsplit('/').next().unwrap_or(""),
            };
            PolicyKind::InlineRole(name.to_owned())
        }
        _ => PolicyKind::Managed,
    }
}

/// The name in an SCP entry `{"imported": NAME}` (a service control policy of a source).
fn imported_name(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Object(m) if m.len() == 1 && m[0].key == "imported" => match &m[0].value.value {
            Value::String(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// A policy a configuration names, with the kind IAM holds it to, ready to validate.
#[derive(Debug, Clone)]
pub struct PolicyRef {
    /// The kind (SCP levels `Scp`, boundaries `Boundary`, session policies `Session`,
    /// identity policies as the loader reads them).
    pub kind: PolicyKind,
    /// The file the policy's text is in.
    pub file: PathBuf,
    /// The policy's text: the file's bytes, or an inline policy's own text.
    pub text: Vec<u8>,
    /// Where an inline policy's text sits in `file`; `None` for a policy file.
    pub origin: Option<Arc<Origin>>,
}

impl Config {
    /// Every policy the configuration at `path` (text `bytes`) names, in order, with its
    /// kind — without loading or compiling them, so that each can be validated on its
    /// own. A missing file or a malformed configuration is an error with its place.
    pub fn policy_references(path: &Path, bytes: &[u8]) -> Result<Vec<PolicyRef>, ConfigError> {
        let (r, root) = Reader::open(path, bytes)?;
        r.references(&root)
    }

    /// The sources the configuration at `path` (text `bytes`) names, with the account,
    /// region and partition they are read with, without importing them.
    pub fn source_references(
        path: &Path,
        bytes: &[u8],
    ) -> Result<(crate::importers::Settings, Vec<SourceRef>), ConfigError> {
        let (r, root) = Reader::open(path, bytes)?;
        let text = |k: &str, d: &str| match crate::json::get(&root, k).map(|n| &n.value) {
            Some(Value::String(s)) => s.clone(),
            _ => d.to_owned(),
        };
        let settings = crate::importers::Settings {
            partition: text("partition", DEFAULT_PARTITION),
            account: text("account", DEFAULT_ACCOUNT),
            region: text("region", DEFAULT_REGION),
            limits: r.import_limits(&root)?,
        };
        let refs = match crate::json::get(&root, "sources") {
            Some(n) => r.source_refs(n, &Pointer::root().key("sources"))?,
            None => Vec::new(),
        };
        Ok((settings, refs))
    }

    /// [`Config::policy_references`] of a configuration embedded at `pointer` in
    /// `source` (a case file's inline `config`).
    pub fn policy_references_in(
        path: &Path,
        source: &SourceFile,
        node: &Node,
        pointer: &Pointer,
    ) -> Result<Vec<PolicyRef>, ConfigError> {
        Reader::new(Arc::new(source.clone()), path, pointer.clone()).references(node)
    }

    /// Reads and checks a configuration file, loading and compiling every policy.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let bytes =
            crate::files::read_bounded(path, crate::files::MAX_CONFIG_FILE_BYTES).map_err(|e| {
                ConfigError::Io {
                    path: path.display().to_string(),
                    message: e.to_string(),
                }
            })?;
        Self::from_bytes(path, &bytes)
    }

    /// Parses configuration text as if read from `path` (paths resolve against its directory).
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Config, ConfigError> {
        let (r, root) = Reader::open(path, bytes)?;
        r.config(&root, path)
    }

    /// Reads a configuration embedded at `pointer` in another JSON document (a case file's
    /// inline `config`), so that errors point into that document. Paths resolve against
    /// the directory of `path`.
    pub fn from_node(
        path: &Path,
        source: &SourceFile,
        node: &Node,
        pointer: &Pointer,
    ) -> Result<Config, ConfigError> {
        Reader::new(Arc::new(source.clone()), path, pointer.clone()).config(node, path)
    }

    /// The principal whose ARN (or caller ARN) is `arn`.
    pub fn principal(&self, arn: &str) -> Option<&PrincipalConfig> {
        self.principals
            .iter()
            .find(|p| p.principal.arn == arn || p.principal.caller_arn == arn)
    }

    /// The managed policy `arn` (a session's `PolicyArns`): from a source, else from the
    /// `managedPolicies` directory.
    pub fn managed_policy(&self, arn: &str) -> Result<LoadedPolicy, String> {
        imports::Resolver::new(&self.sources, self.managed_dir.clone()).arn(arn)
    }

    /// The trust policy of the configured role `role_arn`: why not, when the role is not
    /// configured, has none, or its source leaves it unresolved.
    pub fn role_trust(
        &self,
        role_arn: &str,
    ) -> Result<Arc<crate::compile::trust::CompiledTrustPolicy>, String> {
        let role = self
            .principals
            .iter()
            .find(|p| p.principal.arn == role_arn && p.is_role())
            .ok_or_else(|| format!("`{role_arn}` is not a role of `{}`", self.path.display()))?;
        if let Some(why) = &role.trust_missing {
            return Err(format!(
                "the trust policy of `{role_arn}` is not known: {why}"
            ));
        }
        role.trust.clone().ok_or_else(|| {
            format!(
                "role `{role_arn}` has no `trustPolicy` in `{}`: nobody may assume it",
                self.path.display()
            )
        })
    }

    /// The principal owning access key `akid`, and the key.
    pub fn access_key(&self, akid: &str) -> Option<(&PrincipalConfig, &AccessKey)> {
        self.principals.iter().find_map(|p| {
            p.access_keys
                .iter()
                .find(|k| k.access_key_id == akid)
                .map(|k| (p, k))
        })
    }
}

struct Reader {
    /// The configuration's file (shared by the origins of its inline policies).
    file: Arc<SourceFile>,
    dir: PathBuf,
    /// Pointer of the configuration inside its document (empty for a configuration file).
    base: Pointer,
}

type Res<T> = Result<T, ConfigError>;

/// The members a configuration may have.
const CONFIG_FIELDS: &[&str] = &[
    "partition",
    "region",
    "regions",
    "account",
    "scps",
    "principals",
    "register",
    "sources",
    "managedPolicies",
    "accessKeys",
    "importLimits",
];

/// The members a principal may have.
const PRINCIPAL_FIELDS: &[&str] = &[
    "arn",
    "tags",
    "policies",
    "permissionsBoundary",
    "sessionPolicy",
    "accessKeys",
    "sessionName",
    "userId",
    "trustPolicy",
    "maxSessionDuration",
    "mfaDevices",
];

impl Reader {
    /// A reader of configuration `file` (read from `path`, embedded at `base`).
    fn new(file: Arc<SourceFile>, path: &Path, base: Pointer) -> Self {
        Reader {
            file,
            dir: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
            base,
        }
    }

    /// The text of an inline policy `node` at `pointer`, and where it sits in the file.
    fn embedded(&self, node: &Node, pointer: &Pointer) -> (Vec<u8>, Arc<Origin>) {
        let text = self
            .file
            .text()
            .get(node.span.start..node.span.end)
            .unwrap_or("");
        let origin = Origin {
            file: self.file.clone(),
            map: TextMap::linear(node.span.start),
            prefix: Some(pointer.clone()),
        };
        (text.as_bytes().to_vec(), Arc::new(origin))
    }

    /// A reader of the configuration file `path` with text `bytes`, and its parsed root.
    fn open(path: &Path, bytes: &[u8]) -> Res<(Self, Node)> {
        let file = Arc::new(SourceFile::new(
            path.display().to_string(),
            String::from_utf8_lossy(bytes).into_owned(),
        ));
        let r = Reader::new(file, path, Pointer::root());
        let root = json::parse(bytes).map_err(|e| {
            r.err_at(
                e.offset,
                &Pointer::root(),
                format!("not valid JSON: {}", e.kind),
            )
        })?;
        Ok((r, root))
    }

    /// The non-empty string member `key` of `members` (of object `node` at `ptr`).
    fn required_text(
        &self,
        members: &[Member],
        node: &Node,
        ptr: &Pointer,
        key: &str,
    ) -> Res<String> {
        let m = members
            .iter()
            .find(|m| m.key == key)
            .ok_or_else(|| self.err(node, ptr, format!("an access key needs `{key}`")))?;
        let s = self.string(&m.value, &ptr.key(key))?;
        if s.is_empty() {
            return Err(self.err(
                &m.value,
                &ptr.key(key),
                format!("`{key}` must not be empty"),
            ));
        }
        Ok(s.to_owned())
    }

    fn err_at(&self, offset: usize, pointer: &Pointer, message: String) -> ConfigError {
        ConfigError::Invalid(self.file.locate(offset, pointer, message))
    }

    fn err(&self, node: &Node, pointer: &Pointer, message: String) -> ConfigError {
        self.err_at(node.span.start, pointer, message)
    }

    fn object<'n>(&self, node: &'n Node, pointer: &Pointer, allowed: &[&str]) -> Res<&'n [Member]> {
        let Value::Object(members) = &node.value else {
            return Err(self.err(
                node,
                pointer,
                format!("expected an object, not {}", node.value.type_name()),
            ));
        };
        for (i, m) in members.iter().enumerate() {
            if !allowed.contains(&m.key.as_str()) {
                return Err(self.err_at(
                    m.key_span.start,
                    &pointer.key(&m.key),
                    format!(
                        "unknown field `{}`; expected one of {}",
                        m.key,
                        allowed.join(", ")
                    ),
                ));
            }
            if members[..i].iter().any(|o| o.key == m.key) {
                return Err(self.err_at(
                    m.key_span.start,
                    &pointer.key(&m.key),
                    format!("duplicate field `{}`", m.key),
                ));
            }
        }
        Ok(members)
    }

    fn string<'n>(&self, node: &'n Node, pointer: &Pointer) -> Res<&'n str> {
        match &node.value {
            Value::String(s) => Ok(s),
            other => Err(self.err(
                node,
                pointer,
                format!("expected a string, not {}", other.type_name()),
            )),
        }
    }

    /// `importLimits`: `{"maxFileBytes": N, "maxExpansion": N}`, each a positive whole
    /// number (the defaults where absent).
    fn import_limits(&self, root: &Node) -> Res<crate::importers::Limits> {
        let mut limits = crate::importers::Limits::default();
        let Some(node) = crate::json::get(root, "importLimits") else {
            return Ok(limits);
        };
        let ptr = self.base.key("importLimits");
        for m in self.object(node, &ptr, &["maxFileBytes", "maxExpansion"])? {
            let p = ptr.key(&m.key);
            let n = match &m.value.value {
                Value::Number(t) => t.parse::<u64>().ok().filter(|n| *n > 0),
                _ => None,
            }
            .ok_or_else(|| {
                self.err(
                    &m.value,
                    &p,
                    format!("`{}` must be a positive whole number of bytes", m.key),
                )
            })?;
            match m.key.as_str() {
                "maxFileBytes" => limits.max_file_bytes = n,
                _ => limits.max_expansion = usize::try_from(n).unwrap_or(usize::MAX),
            }
        }
        Ok(limits)
    }

    fn config(&self, root: &Node, path: &Path) -> Res<Config> {
        let ptr = self.base.clone();
        let members = self.object(root, &ptr, CONFIG_FIELDS)?;
        let get = |k: &str| members.iter().find(|m| m.key == k);
        let text = |k: &str, default: &str| -> Res<String> {
            match get(k) {
                Some(m) => Ok(self.string(&m.value, &ptr.key(k))?.to_owned()),
                None => Ok(default.to_owned()),
            }
        };
        let partition = text("partition", DEFAULT_PARTITION)?;
        if !PARTITIONS.contains(&partition.as_str()) {
            let m = get("partition").map_or(root, |m| &m.value);
            return Err(self.err(
                m,
                &ptr.key("partition"),
                format!("unknown partition `{partition}`"),
            ));
        }
        let region = text("region", DEFAULT_REGION)?;
        if let Err(e) = check_region(&region) {
            let m = get("region").map_or(root, |m| &m.value);
            return Err(self.err(m, &ptr.key("region"), e.to_string()));
        }
        let regions = self.regions(get("regions"), &partition, &region, &ptr)?;
        let account = text("account", DEFAULT_ACCOUNT)?;
        if let Err(e) = check_account(&account) {
            let m = get("account").map_or(root, |m| &m.value);
            return Err(self.err(m, &ptr.key("account"), e.to_string()));
        }
        // Sources first: SCP levels may name their service control policies.
        let settings = crate::importers::Settings {
            partition: partition.clone(),
            account: account.clone(),
            region: region.clone(),
            limits: self.import_limits(root)?,
        };
        let mut imported = Vec::new();
        let mut skipped = Vec::new();
        if let Some(m) = get("sources") {
            let sp = ptr.key("sources");
            for (i, sr) in self.source_refs(&m.value, &sp)?.iter().enumerate() {
                let imp = imports::import(sr, &settings).map_err(|e| {
                    let at = match &m.value.value {
                        Value::Array(items) => items.get(i).unwrap_or(&m.value),
                        _ => &m.value,
                    };
                    self.err(at, &sp.index(i), e)
                })?;
                imported.push(Arc::new(imp));
            }
        }
        let mut scps = Vec::new();
        if let Some(m) = get("scps") {
            let p = ptr.key("scps");
            let Value::Array(levels) = &m.value.value else {
                return Err(self.err(
                    &m.value,
                    &p,
                    "`scps` must be an array of levels (arrays of policies), root first".into(),
                ));
            };
            for (i, level) in levels.iter().enumerate() {
                let lp = p.index(i);
                let Value::Array(items) = &level.value else {
                    return Err(self.err(
                        level,
                        &lp,
                        "each SCP level must be an array of policies".into(),
                    ));
                };
                if items.is_empty() {
                    return Err(self.err(
                        level,
                        &lp,
                        "an SCP level needs at least one policy".into(),
                    ));
                }
                let mut pols = Vec::new();
                for (j, it) in items.iter().enumerate() {
                    let p = match imported_name(it) {
                        Some(name) => imports::imported_scp(&imported, name)
                            .map_err(|e| self.err(it, &lp.index(j), e))?,
                        None => self.policy(it, &lp.index(j), &PolicyKind::Scp)?,
                    };
                    pols.push(p);
                }
                scps.push(pols);
            }
        }
        let mut principals = Vec::new();
        if let Some(m) = get("principals") {
            let p = ptr.key("principals");
            let Value::Array(items) = &m.value.value else {
                return Err(self.err(&m.value, &p, "`principals` must be an array".into()));
            };
            let mut arns = std::collections::HashSet::new();
            for (i, it) in items.iter().enumerate() {
                let pc = self.principal(it, &p.index(i), &scps)?;
                if !arns.insert(pc.principal.arn.clone()) {
                    return Err(self.err(
                        it,
                        &p.index(i),
                        format!("principal `{}` is configured twice", pc.principal.arn),
                    ));
                }
                for k in &pc.access_keys {
                    if principals.iter().any(|o: &PrincipalConfig| {
                        o.access_keys
                            .iter()
                            .any(|ok| ok.access_key_id == k.access_key_id)
                    }) {
                        return Err(self.err(
                            it,
                            &p.index(i),
                            format!("access key `{}` belongs to two principals", k.access_key_id),
                        ));
                    }
                }
                principals.push(pc);
            }
        }
        let managed_dir = match get("managedPolicies") {
            Some(m) => Some(
                self.dir
                    .join(self.string(&m.value, &ptr.key("managedPolicies"))?),
            ),
            None => None,
        };
        if let Some(d) = &managed_dir {
            if !d.is_dir() {
                let m = get("managedPolicies").map_or(root, |m| &m.value);
                return Err(self.err(
                    m,
                    &ptr.key("managedPolicies"),
                    format!("`{}` is not a directory", d.display()),
                ));
            }
        }
        if !imported.is_empty() {
            let mut resolver = imports::Resolver::new(&imported, managed_dir.clone());
            let at = get("sources").map_or(root, |m| &m.value);
            // ARN → index: one look-up a principal (100,000 principals stay linear).
            let mut seen: HashMap<String, usize> = principals
                .iter()
                .enumerate()
                .map(|(i, p)| (p.principal.arn.clone(), i))
                .collect();
            let (found, left_out) = imports::principals(&imported, &mut resolver, &scps);
            skipped = left_out;
            for pc in found {
                if let Some(o) = seen.get(&pc.principal.arn).map(|&i| &principals[i]) {
                    return Err(self.err(
                        at,
                        &ptr.key("sources"),
                        format!(
                            "principal `{}` is defined twice ({} and {})",
                            pc.principal.arn,
                            o.origin.as_deref().unwrap_or("`principals`"),
                            pc.origin.as_deref().unwrap_or("?")
                        ),
                    ));
                }
                seen.insert(pc.principal.arn.clone(), principals.len());
                principals.push(pc);
            }
        }
        if let Some(m) = get("accessKeys") {
            self.attach_keys(&m.value, &ptr.key("accessKeys"), &mut principals)?;
        }
        let registrations = match get("register") {
            Some(m) => self.registrations(&m.value, &ptr.key("register"))?,
            None => Vec::new(),
        };
        Ok(Config {
            path: path.to_path_buf(),
            partition,
            region,
            regions,
            account,
            principals,
            registrations,
            sources: imported,
            managed_dir,
            skipped,
        })
    }

    /// `regions`: the regions served (the default region alone when absent, every
    /// region of the partition for `"all"`), each checked and listed once.
    fn regions(
        &self,
        node: Option<&Member>,
        partition: &str,
        region: &str,
        ptr: &Pointer,
    ) -> Res<Vec<String>> {
        let region = region.to_owned();
        Ok(match node {
            None => vec![region.clone()],
            // Every region of the partition: the loopback test convenience (a suite that
            // signs for us-west-1 and us-west-2 runs unchanged).
            Some(m) if m.value.value == Value::String("all".into()) => {
                let mut all: Vec<String> = crate::swf::arn::partition_regions(partition)
                    .iter()
                    .map(|r| (*r).to_owned())
                    .collect();
                if !all.contains(&region) {
                    all.push(region.clone());
                }
                // The default region first: it is where requests on `*` go.
                all.retain(|r| *r != region);
                all.insert(0, region.clone());
                all
            }
            Some(m) => {
                let p = ptr.key("regions");
                let Value::Array(items) = &m.value.value else {
                    return Err(self.err(
                            &m.value,
                            &p,
                            "`regions` must be an array of region names, or \"all\" (every region of the partition)".into(),
                        ));
                };
                if items.is_empty() {
                    return Err(self.err(
                        &m.value,
                        &p,
                        "`regions` needs at least one region".into(),
                    ));
                }
                let mut out: Vec<String> = Vec::new();
                for (i, it) in items.iter().enumerate() {
                    let r = self.string(it, &p.index(i))?;
                    if let Err(e) = check_region(r) {
                        return Err(self.err(it, &p.index(i), e.to_string()));
                    }
                    if out.iter().any(|o| o == r) {
                        return Err(self.err(
                            it,
                            &p.index(i),
                            format!("region `{r}` is listed twice"),
                        ));
                    }
                    out.push(r.to_owned());
                }
                out
            }
        })
    }

    /// The top-level `accessKeys`, each attached to the configured or imported principal
    /// it names (a key is one principal's; the principal must exist).
    fn attach_keys(
        &self,
        node: &Node,
        ptr: &Pointer,
        principals: &mut [PrincipalConfig],
    ) -> Res<()> {
        let mut taken: std::collections::HashSet<String> = principals
            .iter()
            .flat_map(|p| p.access_keys.iter().map(|k| k.access_key_id.clone()))
            .collect();
        let mut by_arn: HashMap<String, usize> = HashMap::new();
        for (i, p) in principals.iter().enumerate() {
            by_arn.entry(p.principal.arn.clone()).or_insert(i);
            by_arn.entry(p.principal.caller_arn.clone()).or_insert(i);
        }
        for (arn, key, offset, kp) in self.access_keys(node, ptr)? {
            if !taken.insert(key.access_key_id.clone()) {
                return Err(self.err_at(
                    offset,
                    &kp,
                    format!(
                        "access key `{}` belongs to two principals",
                        key.access_key_id
                    ),
                ));
            }
            let Some(&i) = by_arn.get(&arn) else {
                return Err(self.err_at(
                    offset,
                    &kp.key("principal"),
                    format!("no configured or imported principal is `{arn}`"),
                ));
            };
            principals[i].access_keys.push(key);
        }
        Ok(())
    }

    /// `register`: the registrations `serve` (or `proxy`, through its upstream) makes at
    /// start, each the body of its SWF call.
    fn registrations(&self, node: &Node, ptr: &Pointer) -> Res<Vec<Registration>> {
        let mut registrations = Vec::new();
        {
            let p = ptr.clone();
            let members = self.object(node, &p, &["domains", "activityTypes", "workflowTypes"])?;
            for (key, operation) in [
                ("domains", "RegisterDomain"),
                ("activityTypes", "RegisterActivityType"),
                ("workflowTypes", "RegisterWorkflowType"),
            ] {
                let Some(list) = members.iter().find(|x| x.key == key) else {
                    continue;
                };
                let lp = p.key(key);
                let Value::Array(items) = &list.value.value else {
                    return Err(self.err(
                        &list.value,
                        &lp,
                        format!("`{key}` must be an array of {operation} requests"),
                    ));
                };
                for (i, it) in items.iter().enumerate() {
                    let ip = lp.index(i);
                    let serde_json::Value::Object(body) = to_serde(it) else {
                        return Err(self.err(
                            it,
                            &ip,
                            format!("each entry of `{key}` is the body of an {operation} request (an object)"),
                        ));
                    };
                    registrations.push(Registration {
                        operation,
                        body,
                        at: self.file.locate(it.span.start, &ip, ""),
                    });
                }
            }
        }
        Ok(registrations)
    }

    /// The policies a configuration node names (see [`Config::policy_references`]).
    fn references(&self, root: &Node) -> Res<Vec<PolicyRef>> {
        let ptr = self.base.clone();
        let members = self.object(root, &ptr, CONFIG_FIELDS)?;
        let get = |k: &str| members.iter().find(|m| m.key == k);
        let mut out = Vec::new();
        if let Some(m) = get("scps") {
            let p = ptr.key("scps");
            if let Value::Array(levels) = &m.value.value {
                for (i, level) in levels.iter().enumerate() {
                    if let Value::Array(items) = &level.value {
                        for (j, it) in items.iter().enumerate() {
                            // Imported SCPs are validated with their source.
                            if imported_name(it).is_some() {
                                continue;
                            }
                            out.push(self.reference(it, &p.index(i).index(j), PolicyKind::Scp)?);
                        }
                    }
                }
            }
        }
        if let Some(Value::Array(items)) = get("principals").map(|m| &m.value.value) {
            let pp = ptr.key("principals");
            for (i, it) in items.iter().enumerate() {
                let ip = pp.index(i);
                let pm = self.object(it, &ip, PRINCIPAL_FIELDS)?;
                let pget = |k: &str| pm.iter().find(|m| m.key == k);
                let Some(arn_m) = pget("arn") else {
                    return Err(self.err(it, &ip, "a principal needs `arn`".into()));
                };
                let arn = self.string(&arn_m.value, &ip.key("arn"))?;
                let principal = Principal::from_arn(arn, "swf-iam", None)
                    .map_err(|e| self.err(&arn_m.value, &ip.key("arn"), e.to_string()))?;
                if let Some(Value::Array(pols)) = pget("policies").map(|m| &m.value.value) {
                    for (j, p) in pols.iter().enumerate() {
                        let kind = identity_kind(&principal, p);
                        out.push(self.reference(p, &ip.key("policies").index(j), kind)?);
                    }
                }
                for (key, kind) in [
                    ("permissionsBoundary", PolicyKind::Boundary),
                    ("sessionPolicy", PolicyKind::Session),
                    ("trustPolicy", PolicyKind::Trust),
                ] {
                    if let Some(m) = pget(key).filter(|m| m.value.value != Value::Null) {
                        out.push(self.reference(&m.value, &ip.key(key), kind)?);
                    }
                }
            }
        }
        Ok(out)
    }

    fn reference(&self, node: &Node, pointer: &Pointer, kind: PolicyKind) -> Res<PolicyRef> {
        let rel = match &node.value {
            Value::String(rel) => Some(rel.as_str()),
            Value::Object(members) if members.iter().any(|m| m.key == "path") => members
                .iter()
                .find(|m| m.key == "path")
                .and_then(|m| match &m.value.value {
                    Value::String(s) => Some(s.as_str()),
                    _ => None,
                }),
            Value::Object(_) => None,
            other => {
                return Err(self.err(
                    node,
                    pointer,
                    format!(
                    "a policy is a path, an inline policy object or {{\"path\", \"arn\"}}, not {}",
                    other.type_name()
                ),
                ))
            }
        };
        match rel {
            Some(rel) => {
                let full = self.dir.join(rel);
                let text = crate::files::read_bounded(&full, crate::files::MAX_POLICY_FILE_BYTES)
                    .map_err(|e| {
                    self.err(
                        node,
                        pointer,
                        format!("cannot read policy `{}`: {e}", full.display()),
                    )
                })?;
                Ok(PolicyRef {
                    kind,
                    file: full,
                    text,
                    origin: None,
                })
            }
            None => {
                let (text, origin) = self.embedded(node, pointer);
                Ok(PolicyRef {
                    kind,
                    file: PathBuf::from(self.file.name()),
                    text,
                    origin: Some(origin),
                })
            }
        }
    }

    fn policy(&self, node: &Node, pointer: &Pointer, kind: &PolicyKind) -> Res<LoadedPolicy> {
        match &node.value {
            Value::String(rel) => self.policy_file(rel, None, kind),
            Value::Object(members) if members.iter().any(|m| m.key == "path") => {
                let members = self.object(node, pointer, &["path", "arn"])?;
                let mut path = None;
                let mut arn = None;
                for m in members {
                    let s = self.string(&m.value, &pointer.key(&m.key))?;
                    if m.key == "path" {
                        path = Some(s);
                    } else {
                        arn = Some(s.to_owned());
                    }
                }
                self.policy_file(path.unwrap_or(""), arn, kind)
            }
            Value::Object(_) => {
                let (text, origin) = self.embedded(node, pointer);
                let file = Path::new(self.file.name()).file_name().map_or_else(
                    || self.file.name().to_owned(),
                    |f| f.to_string_lossy().into_owned(),
                );
                let name = format!("{file}#{pointer}");
                LoadedPolicy::load_embedded(&name, &text, kind, origin).map_err(ConfigError::Policy)
            }
            other => Err(self.err(
                node,
                pointer,
                format!(
                    "a policy is a path, an inline policy object or {{\"path\", \"arn\"}}, not {}",
                    other.type_name()
                ),
            )),
        }
        .map_err(|e: ConfigError| match e {
            ConfigError::Io { path, message } => self.err(
                node,
                pointer,
                format!("cannot read policy `{path}`: {message}"),
            ),
            other => other,
        })
    }

    fn policy_file(&self, rel: &str, arn: Option<String>, kind: &PolicyKind) -> Res<LoadedPolicy> {
        let full = self.dir.join(rel);
        let bytes = crate::files::read_bounded(&full, crate::files::MAX_POLICY_FILE_BYTES)
            .map_err(|e| ConfigError::Io {
                path: full.display().to_string(),
                message: e.to_string(),
            })?;
        let mut p = LoadedPolicy::load(&full.display().to_string(), &bytes, kind)?;
        p.name = rel.to_owned();
        p.arn = arn;
        Ok(p)
    }

    fn principal(
        &self,
        node: &Node,
        pointer: &Pointer,
        scps: &[Vec<LoadedPolicy>],
    ) -> Res<PrincipalConfig> {
        let members = self.object(node, pointer, PRINCIPAL_FIELDS)?;
        let get = |k: &str| members.iter().find(|m| m.key == k);
        let Some(arn_m) = get("arn") else {
            return Err(self.err(node, pointer, "a principal needs `arn`".into()));
        };
        let arn = self.string(&arn_m.value, &pointer.key("arn"))?;
        let session = match get("sessionName") {
            Some(m) => self.string(&m.value, &pointer.key("sessionName"))?,
            None => "swf-iam",
        };
        let user_id = match get("userId") {
            Some(m) => Some(self.string(&m.value, &pointer.key("userId"))?),
            None => None,
        };
        let mut principal = Principal::from_arn(arn, session, user_id)
            .map_err(|e| self.err(&arn_m.value, &pointer.key("arn"), e.to_string()))?;
        if let Some(m) = get("tags") {
            let tp = pointer.key("tags");
            let Value::Object(tags) = &m.value.value else {
                return Err(self.err(&m.value, &tp, "`tags` must be an object of strings".into()));
            };
            for t in tags {
                let v = self.string(&t.value, &tp.key(&t.key))?;
                principal.tags.push((t.key.clone(), v.to_owned()));
            }
        }
        let mut set = PolicySet {
            scps: scps.to_vec(),
            ..PolicySet::default()
        };
        if let Some(m) = get("policies") {
            let pp = pointer.key("policies");
            let Value::Array(items) = &m.value.value else {
                return Err(self.err(&m.value, &pp, "`policies` must be an array".into()));
            };
            for (i, it) in items.iter().enumerate() {
                let kind = identity_kind(&principal, it);
                set.identity.push(self.policy(it, &pp.index(i), &kind)?);
            }
        }
        for (key, kind) in [
            ("permissionsBoundary", PolicyKind::Boundary),
            ("sessionPolicy", PolicyKind::Session),
        ] {
            if let Some(m) = get(key).filter(|m| m.value.value != Value::Null) {
                let p = self.policy(&m.value, &pointer.key(key), &kind)?;
                if key == "permissionsBoundary" {
                    set.boundary = Some(p);
                } else {
                    set.session = vec![p];
                }
            }
        }
        let mut access_keys = Vec::new();
        if let Some(m) = get("accessKeys") {
            let kp = pointer.key("accessKeys");
            let Value::Array(items) = &m.value.value else {
                return Err(self.err(&m.value, &kp, "`accessKeys` must be an array".into()));
            };
            for (i, it) in items.iter().enumerate() {
                let ip = kp.index(i);
                let km = self.object(it, &ip, &["accessKeyId", "secretAccessKey"])?;
                let field = |k: &str| self.required_text(km, it, &ip, k);
                access_keys.push(AccessKey {
                    access_key_id: field("accessKeyId")?,
                    secret_access_key: Secret::new(field("secretAccessKey")?),
                });
            }
        }
        let mut pc = finish(principal, set, access_keys, Vec::new(), None)
            .map_err(|e| self.err(node, pointer, e))?;
        let is_role = pc.is_role();
        if let Some(m) = get("trustPolicy").filter(|m| m.value.value != Value::Null) {
            let tp = pointer.key("trustPolicy");
            if !is_role {
                return Err(self.err(
                    &m.value,
                    &tp,
                    "only a role (arn:aws:iam::ACCOUNT:role/NAME) has a trust policy".into(),
                ));
            }
            let p = self.policy(&m.value, &tp, &PolicyKind::Trust)?;
            pc.trust = Some(Arc::new(
                crate::compile::trust::CompiledTrustPolicy::compile(&p),
            ));
        }
        if let Some(m) = get("mfaDevices") {
            let mp = pointer.key("mfaDevices");
            if !matches!(
                pc.principal.principal_type,
                crate::eval::PrincipalType::User | crate::eval::PrincipalType::Account
            ) {
                return Err(self.err(
                    &m.value,
                    &mp,
                    "only a user or the root user has MFA devices".into(),
                ));
            }
            let Value::Array(items) = &m.value.value else {
                return Err(self.err(&m.value, &mp, "`mfaDevices` must be an array".into()));
            };
            for (i, it) in items.iter().enumerate() {
                let ip = mp.index(i);
                let dm = self.object(it, &ip, &["serialNumber", "seed"])?;
                let field = |k: &str| self.required_text(dm, it, &ip, k);
                let serial = field("serialNumber")?;
                let ok_serial = serial.len() >= 9
                    && serial.len() <= 256
                    && serial.starts_with("arn:")
                    && serial.contains(":mfa/");
                if !ok_serial {
                    return Err(self.err(
                        it,
                        &ip.key("serialNumber"),
                        format!(
                            "`{serial}` is not an MFA device ARN (arn:aws:iam::ACCOUNT:mfa/NAME)"
                        ),
                    ));
                }
                let seed = field("seed")?;
                let decodes = seed.chars().all(|c| {
                    c.is_ascii_alphabetic() || ('2'..='7').contains(&c) || c == '=' || c == ' '
                });
                if !decodes {
                    return Err(self.err(
                        it,
                        &ip.key("seed"),
                        "`seed` is the device's base-32 secret (letters A-Z and digits 2-7)".into(),
                    ));
                }
                pc.mfa_devices.push(MfaDevice {
                    serial_number: serial,
                    seed: Secret::new(seed),
                });
            }
        }
        if let Some(m) = get("maxSessionDuration") {
            let mp = pointer.key("maxSessionDuration");
            let secs = match &m.value.value {
                Value::Number(t) => t.parse::<u64>().ok(),
                _ => None,
            }
            .filter(|s| (3600..=43200).contains(s));
            match secs {
                Some(s) if is_role => pc.max_session_duration = s,
                Some(_) => {
                    return Err(self.err(
                        &m.value,
                        &mp,
                        "only a role has a maximum session duration".into(),
                    ))
                }
                None => {
                    return Err(self.err(
                        &m.value,
                        &mp,
                        "`maxSessionDuration` is a whole number of seconds from 3600 (1 hour) to 43200 (12 hours), as IAM allows".into(),
                    ))
                }
            }
        }
        Ok(pc)
    }
}

/// A principal with its policies compiled (denying everything when `missing` is not
/// empty).
fn finish(
    principal: Principal,
    set: PolicySet,
    access_keys: Vec<AccessKey>,
    missing: Vec<String>,
    origin: Option<String>,
) -> Result<PrincipalConfig, String> {
    let mut compiled = CompiledPolicySet::compile(&set).map_err(|e| e.to_string())?;
    if !missing.is_empty() {
        compiled.incomplete = Some(missing.join("; ").into());
    }
    let mut base_context = Context::new();
    principal.fill_context(&mut base_context);
    Ok(PrincipalConfig {
        principal,
        policies: set,
        compiled: Arc::new(compiled),
        access_keys,
        base_context: Arc::new(base_context),
        missing,
        origin,
        trust: None,
        trust_missing: None,
        max_session_duration: DEFAULT_MAX_SESSION_DURATION,
        mfa_devices: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config, ConfigError> {
        Config::from_bytes(Path::new("/nonexistent/cfg.json"), text.as_bytes())
    }

    #[test]
    fn inline_policies_and_defaults() {
        let c = load(
            r#"{"principals":[{"arn":"arn:aws:iam::123456789012:role/w","tags":{"team":"orders"},
              "policies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"swf:*","Resource":"*"}}],
              "accessKeys":[{"accessKeyId":"AKIA1","secretAccessKey":"s3cr3t"}]}]}"#,
        )
        .unwrap();
        assert_eq!(c.partition, "aws");
        assert_eq!(c.region, "us-east-1");
        let p = c.principal("arn:aws:iam::123456789012:role/w").unwrap();
        assert_eq!(p.policies.identity.len(), 1);
        assert_eq!(
            p.policies.identity[0].name,
            "cfg.json#/principals/0/policies/0"
        );
        assert_eq!(p.principal.tags, vec![("team".into(), "orders".into())]);
        let (_, k) = c.access_key("AKIA1").unwrap();
        assert_eq!(k.secret_access_key.expose(), "s3cr3t");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cr3t"), "secrets never in Debug output");
    }

    #[test]
    fn errors_have_places() {
        let e = load("{\n  \"principals\": [{\"arn\": \"arn:aws:iam::123456789012:role/w\", \"polices\": []}]\n}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "/nonexistent/cfg.json:2:62: unknown field `polices`; expected one of arn, tags, policies, permissionsBoundary, sessionPolicy, accessKeys, sessionName, userId, trustPolicy, maxSessionDuration, mfaDevices (at /principals/0/polices)"
        );
        let e = load(r#"{"principals": [{"arn": "arn:aws:iam::123456789012:role/w", "policies": ["missing.json"]}]}"#).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "/nonexistent/cfg.json:1:74: cannot read policy `/nonexistent/missing.json`"
            ),
            "{e}"
        );
        let e = load(r#"{"account": "12"}"#).unwrap_err();
        assert!(
            e.to_string()
                .contains("is not a 12-digit account ID (at /account)"),
            "{e}"
        );
        let e = load(r#"{"principals": [{"arn": "arn:aws:iam::123456789012:role/w", "policies": [{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"swf:*","Resource":"*"}}]}]}"#).unwrap_err();
        assert!(
            e.to_string().contains("The policy failed legacy parsing"),
            "{e}"
        );
        let e = load(r#"{"scps": [[]]}"#).unwrap_err();
        assert!(
            e.to_string()
                .contains("an SCP level needs at least one policy"),
            "{e}"
        );
        let e = load("{").unwrap_err();
        assert!(e.to_string().contains("not valid JSON"), "{e}");
    }

    #[test]
    fn served_regions_default_to_the_region_and_are_checked() {
        assert_eq!(load("{}").unwrap().regions, ["us-east-1"]);
        assert_eq!(
            load(r#"{"region": "eu-west-1"}"#).unwrap().regions,
            ["eu-west-1"]
        );
        let c = load(r#"{"regions": ["us-east-1", "us-west-1"]}"#).unwrap();
        assert_eq!(c.regions, ["us-east-1", "us-west-1"]);
        for (text, msg) in [
            (
                r#"{"regions": []}"#,
                "`regions` needs at least one region (at /regions)",
            ),
            (
                r#"{"regions": "us-east-1"}"#,
                "`regions` must be an array of region names, or \"all\" (every region of the partition) (at /regions)",
            ),
            (
                r#"{"regions": ["us-east-1", "us-east-1"]}"#,
                "region `us-east-1` is listed twice (at /regions/1)",
            ),
            (
                r#"{"regions": ["us-east-1", "us-east-1:123456789012"]}"#,
                "(at /regions/1)",
            ),
            (r#"{"regions": ["u-east-1"]}"#, "(at /regions/0)"),
        ] {
            let e = load(text).unwrap_err().to_string();
            assert!(e.contains(msg), "{text}: {e}");
        }
        // `all`: every region of the partition, the default region first.
        let c = load(r#"{"region": "eu-west-1", "regions": "all"}"#).unwrap();
        assert_eq!(c.regions[0], "eu-west-1");
        assert!(c.regions.iter().any(|r| r == "us-west-1"));
        assert_eq!(
            c.regions.len(),
            crate::swf::arn::partition_regions("aws").len()
        );
        let cn =
            load(r#"{"partition": "aws-cn", "region": "cn-north-1", "regions": "all"}"#).unwrap();
        assert_eq!(cn.regions, ["cn-north-1", "cn-northwest-1"]);
    }
}
