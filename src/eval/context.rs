//! The request context: condition keys and their values, and the principal that supplies
//! the `aws:Principal*` keys (`iam-policy.md` §7).

use crate::pattern::Resolve;
use std::fmt;

/// A context key's value: one string, or a list for multivalued keys (`aws:TagKeys`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum ContextValue {
    /// A single value.
    Single(String),
    /// Several values (an empty list counts as absent).
    Multi(Vec<String>),
}

/// One context entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// [`key_hash`] of the lowercased key.
    pub hash: u64,
    /// The key, lowercased.
    pub lower: std::borrow::Cow<'static, str>,
    /// The key as given.
    pub key: std::borrow::Cow<'static, str>,
    /// The value.
    pub value: ContextValue,
    /// The value parsed as an IP address, when it is a single valid address.
    pub ip: Option<std::net::IpAddr>,
    /// A removal that hides the base context's entry of the same key.
    pub removed: bool,
}

pub use crate::hash::key_hash;

/// Condition keys of one request. Keys are compared case-insensitively; an explicit
/// value replaces an earlier one of the same key. A context may be layered over a
/// shared base ([`Context::over`]): its own entries shadow the base's, so per-request
/// keys never copy a principal's keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// Own entries, sorted by lowercased key.
    entries: Vec<Entry>,
    /// The shared base.
    base: Option<std::sync::Arc<Context>>,
}

fn entry(lower: String, key: &str, value: ContextValue) -> Entry {
    let ip = match &value {
        ContextValue::Single(s) => s.parse().ok(),
        ContextValue::Multi(_) => None,
    };
    Entry {
        hash: key_hash(&lower),
        lower: lower.into(),
        key: key.to_owned().into(),
        value,
        ip,
        removed: false,
    }
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Context::default()
    }

    /// An empty layer over `base`: lookups fall through to it.
    pub fn over(base: std::sync::Arc<Context>) -> Self {
        Context {
            entries: Vec::new(),
            base: Some(base),
        }
    }

    /// Sets `key` (any case) to `value`, replacing any earlier value.
    pub fn set(&mut self, key: &str, value: ContextValue) {
        let lower = key.to_ascii_lowercase();
        match self
            .entries
            .binary_search_by(|e| (*e.lower).cmp(lower.as_str()))
        {
            Ok(i) => self.entries[i] = entry(lower, key, value),
            Err(i) => self.entries.insert(i, entry(lower, key, value)),
        }
    }

    /// Sets a single-valued key.
    pub fn set_single(&mut self, key: &str, value: impl Into<String>) {
        self.set(key, ContextValue::Single(value.into()));
    }

    /// Sets a single-valued key whose name is a known constant (`aws:SourceIp`): no
    /// allocation for the name. `key` must be written as AWS documents it.
    pub fn set_known(&mut self, key: &'static str, value: String) {
        let lower = key.to_ascii_lowercase();
        let pos = self
            .entries
            .binary_search_by(|e| (*e.lower).cmp(lower.as_str()));
        let ip = value.parse().ok();
        let e = Entry {
            hash: key_hash(&lower),
            lower: if lower == key {
                std::borrow::Cow::Borrowed(key)
            } else {
                std::borrow::Cow::Owned(lower)
            },
            key: std::borrow::Cow::Borrowed(key),
            value: ContextValue::Single(value),
            ip,
            removed: false,
        };
        match pos {
            Ok(i) => self.entries[i] = e,
            Err(i) => self.entries.insert(i, e),
        }
    }

    /// Adds a value to `key`, turning it into a multivalued key if it already had one.
    pub fn push(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        let lower = key.to_ascii_lowercase();
        // A key that only the base has: copy it up first.
        if !self.entries.iter().any(|e| *e.lower == *lower) {
            if let Some(v) = self
                .base
                .as_ref()
                .and_then(|b| b.get_lower(&lower))
                .cloned()
            {
                self.set(key, v);
            }
        }
        match self
            .entries
            .binary_search_by(|e| (*e.lower).cmp(lower.as_str()))
        {
            Ok(i) => {
                let e = &mut self.entries[i];
                let old = std::mem::replace(&mut e.value, ContextValue::Multi(Vec::new()));
                e.value = match old {
                    ContextValue::Single(s) => ContextValue::Multi(vec![s, value]),
                    ContextValue::Multi(mut v) => {
                        v.push(value);
                        ContextValue::Multi(v)
                    }
                };
                e.ip = None;
            }
            Err(i) => self
                .entries
                .insert(i, entry(lower, key, ContextValue::Single(value))),
        }
    }

    /// Sets the keys every request carries when no gate supplies them:
    /// `aws:RequestedRegion`, `aws:CurrentTime` and `aws:EpochTime` (from `now`, epoch
    /// seconds), `aws:SecureTransport` = `true`, `aws:ViaAWSService` = `false`.
    pub fn set_request_defaults(&mut self, region: &str, now: i64) {
        self.set_known("aws:RequestedRegion", region.to_owned());
        self.set_known("aws:CurrentTime", crate::values::format_iso8601(now));
        self.set_known("aws:EpochTime", now.to_string());
        self.set_known("aws:SecureTransport", "true".to_owned());
        self.set_known("aws:ViaAWSService", "false".to_owned());
    }

    /// Removes `key` (any case), hiding the base's value too.
    pub fn remove(&mut self, key: &str) {
        let lower = key.to_ascii_lowercase();
        self.entries.retain(|e| *e.lower != *lower);
        if self
            .base
            .as_ref()
            .is_some_and(|b| b.get_lower(&lower).is_some())
        {
            let mut e = entry(lower.clone(), key, ContextValue::Multi(Vec::new()));
            e.removed = true;
            let i = self.entries.partition_point(|x| *x.lower < *lower);
            self.entries.insert(i, e);
        }
    }

    /// The entry of a **lowercased** key whose [`key_hash`] is `hash`, without allocating.
    pub fn entry_hashed(&self, hash: u64, lower: &str) -> Option<&Entry> {
        match self
            .entries
            .iter()
            .find(|e| e.hash == hash && *e.lower == *lower)
        {
            Some(e) if e.removed => None,
            Some(e) => Some(e),
            None => self.base.as_deref()?.entry_hashed(hash, lower),
        }
    }

    /// The value of a **lowercased** key, without allocating.
    pub fn get_lower(&self, lower: &str) -> Option<&ContextValue> {
        self.entry_hashed(key_hash(lower), lower).map(|e| &e.value)
    }

    /// The value of `key` in any case.
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        self.get_lower(&key.to_ascii_lowercase())
    }

    /// Every (key as given, value), sorted by lowercased key, base entries included.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        let mut all: Vec<&Entry> = self.entries.iter().collect();
        if let Some(b) = &self.base {
            for e in b.entries_flat() {
                if !self.entries.iter().any(|o| o.lower == e.lower) {
                    all.push(e);
                }
            }
        }
        all.sort_by(|a, b| a.lower.cmp(&b.lower));
        all.into_iter()
            .filter(|e| !e.removed)
            .map(|e| (&*e.key, &e.value))
    }

    fn entries_flat(&self) -> Vec<&Entry> {
        let mut all: Vec<&Entry> = self.entries.iter().collect();
        if let Some(b) = &self.base {
            for e in b.entries_flat() {
                if !self.entries.iter().any(|o| o.lower == e.lower) {
                    all.push(e);
                }
            }
        }
        all
    }
}

impl Resolve for Context {
    fn var(&self, key: &str) -> Option<&str> {
        match self.get_lower(key)? {
            ContextValue::Single(s) => Some(s),
            ContextValue::Multi(_) => None,
        }
    }
}

/// What kind of principal made the call (`aws:PrincipalType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum PrincipalType {
    /// An IAM user.
    User,
    /// A role session.
    AssumedRole,
    /// A federated user.
    FederatedUser,
    /// The account root user.
    Account,
}

impl fmt::Display for PrincipalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PrincipalType::User => "User",
            PrincipalType::AssumedRole => "AssumedRole",
            PrincipalType::FederatedUser => "FederatedUser",
            PrincipalType::Account => "Account",
        })
    }
}

/// Why a principal ARN is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{arn}` is not a principal ARN ({reason}); expected arn:aws:iam::ACCOUNT:user/NAME, arn:aws:iam::ACCOUNT:role/NAME, arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION, arn:aws:sts::ACCOUNT:federated-user/NAME or arn:aws:iam::ACCOUNT:root")]
pub struct PrincipalError {
    /// The ARN as given.
    pub arn: String,
    /// What is wrong.
    pub reason: &'static str,
}

/// The caller of a request and the facts IAM derives from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The identity's ARN (`aws:PrincipalArn`): user ARN, or for a role session the role ARN.
    pub arn: String,
    /// The ARN as authenticated, used in denial messages (a role session's
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
    pub caller_arn: String,
    /// The account (`aws:PrincipalAccount`).
    pub account: String,
    /// The type (`aws:PrincipalType`).
    pub principal_type: PrincipalType,
    /// The friendly name of an IAM user (`aws:username`; absent for other types).
    pub username: Option<String>,
    /// `aws:userid`.
    pub userid: String,
    /// Principal (or session) tags (`aws:PrincipalTag/KEY`).
    pub tags: Vec<(String, String)>,
}

fn pseudo_id(prefix: &str, arn: &str) -> String {
    // A stable stand-in for IAM's unique ID (not known offline): prefix + 17 base-32 chars.
    let mut h = crate::hash::ci_hash(arn);
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut s = String::from(prefix);
    for _ in 0..17 {
        s.push(char::from(alphabet[(h % 32) as usize]));
        h /= 32;
        if h == 0 {
            h = crate::hash::ci_hash(&s);
        }
    }
    s
}

impl Principal {
    /// Derives a principal from its ARN. A role ARN means a session of that role named
    /// `session_name`; `user_id` overrides the derived `aws:userid` (IAM's unique ID is
    /// not known offline, so by default a stable stand-in is used).
    pub fn from_arn(
        arn: &str,
        session_name: &str,
        user_id: Option<&str>,
    ) -> Result<Self, PrincipalError> {
        let bad = |reason| PrincipalError {
            arn: arn.to_owned(),
            reason,
        };
        let fields: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = fields.as_slice() else {
            return Err(bad("it has fewer than six `:`-separated fields"));
        };
        if *prefix != "arn" || partition.is_empty() {
            return Err(bad("it does not start with arn:PARTITION"));
        }
        if !region.is_empty() {
            return Err(bad("IAM and STS ARNs have no region"));
        }
        if crate::swf::arn::check_account(account).is_err() {
            return Err(bad("the account is not 12 digits"));
        }
        let last = |r: &str| r.rsplit('/').next().unwrap_or("").to_owned();
        let (principal_type, arn_id, caller, username, userid) = match (*service, *resource) {
            ("iam", "root") => (
                PrincipalType::Account,
                arn.to_owned(),
                arn.to_owned(),
                None,
                (*account).to_owned(),
            ),
            ("iam", r) if r.starts_with("user/") => {
                let name = last(r);
                if name.is_empty() {
                    return Err(bad("the user name is empty"));
                }
                let id = user_id.map_or_else(|| pseudo_id("AIDA", arn), str::to_owned);
                (
                    PrincipalType::User,
                    arn.to_owned(),
                    arn.to_owned(),
                    Some(name),
                    id,
                )
            }
            ("iam", r) if r.starts_with("role/") => {
                let name = last(r);
                if name.is_empty() {
                    return Err(bad("the role name is empty"));
                }
                let caller =
                    format!("arn:{partition}:sts::{account}:assumed-role/{name}/{session_name}");
                let id = user_id.map_or_else(
                    || format!("{}:{session_name}", pseudo_id("AROA", arn)),
                    str::to_owned,
                );
                (PrincipalType::AssumedRole, arn.to_owned(), caller, None, id)
            }
            ("sts", r) if r.starts_with("assumed-role/") => {
                let mut parts = r["assumed-role/".len()..].splitn(2, '/');
                let (Some(role), Some(session)) = (parts.next(), parts.next()) else {
                    return Err(bad("an assumed-role ARN needs ROLE/SESSION"));
                };
                if role.is_empty() || session.is_empty() {
                    return Err(bad("an assumed-role ARN needs ROLE/SESSION"));
                }
                let role_arn = format!("arn:{partition}:iam::{account}:role/{role}");
                let id = user_id.map_or_else(
                    || format!("{}:{session}", pseudo_id("AROA", &role_arn)),
                    str::to_owned,
                );
                (
                    PrincipalType::AssumedRole,
                    role_arn,
                    arn.to_owned(),
                    None,
                    id,
                )
            }
            ("sts", r) if r.starts_with("federated-user/") => {
                let name = last(r);
                (
                    PrincipalType::FederatedUser,
                    arn.to_owned(),
                    arn.to_owned(),
                    None,
                    format!("{account}:{name}"),
                )
            }
            _ => return Err(bad("unknown principal kind")),
        };
        Ok(Principal {
            arn: arn_id,
            caller_arn: caller,
            account: (*account).to_owned(),
            principal_type,
            username,
            userid,
            tags: Vec::new(),
        })
    }

    /// Puts the principal's keys into `ctx`: `aws:PrincipalArn`, `aws:PrincipalAccount`,
    /// `aws:PrincipalType`, `aws:userid`, `aws:username` (users only), `aws:PrincipalTag/*`,
    /// and `aws:PrincipalIsAWSService` = `false`.
    pub fn fill_context(&self, ctx: &mut Context) {
        ctx.set_single("aws:PrincipalArn", self.arn.clone());
        ctx.set_single("aws:PrincipalAccount", self.account.clone());
        ctx.set_single("aws:PrincipalType", self.principal_type.to_string());
        ctx.set_single("aws:userid", self.userid.clone());
        if let Some(u) = &self.username {
            ctx.set_single("aws:username", u.clone());
        }
        for (k, v) in &self.tags {
            ctx.set_single(&format!("aws:PrincipalTag/{k}"), v.clone());
        }
        ctx.set_single("aws:PrincipalIsAWSService", "false");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive_and_replace() {
        let mut c = Context::new();
        c.set_single("aws:PrincipalTag/Team", "orders");
        assert_eq!(
            c.get("AWS:principaltag/team"),
            Some(&ContextValue::Single("orders".into()))
        );
        c.set_single("aws:principaltag/team", "billing");
        assert_eq!(c.iter().count(), 1);
        c.push("aws:TagKeys", "a");
        c.push("aws:tagkeys", "b");
        assert_eq!(
            c.get("aws:TagKeys"),
            Some(&ContextValue::Multi(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            c.var("aws:tagkeys"),
            None,
            "multivalued keys are never variables"
        );
        assert_eq!(c.var("aws:principaltag/team"), Some("billing"));
        c.remove("AWS:TAGKEYS");
        assert!(c.get("aws:TagKeys").is_none());
    }

    #[test]
    fn layers_shadow_and_hide_the_base() {
        let mut base = Context::new();
        base.set_single("aws:PrincipalTag/team", "orders");
        base.set_single("aws:username", "alice");
        let base = std::sync::Arc::new(base);
        let mut c = Context::over(base.clone());
        assert_eq!(c.var("aws:principaltag/team"), Some("orders"));
        c.set_single("aws:PrincipalTag/Team", "billing");
        assert_eq!(c.var("aws:principaltag/team"), Some("billing"));
        c.remove("aws:username");
        assert_eq!(c.get("aws:username"), None);
        assert_eq!(
            base.var("aws:username"),
            Some("alice"),
            "the base is untouched"
        );
        c.push("aws:PrincipalTag/team", "x");
        assert_eq!(
            c.get("aws:principaltag/team"),
            Some(&ContextValue::Multi(vec!["billing".into(), "x".into()]))
        );
        let keys: Vec<&str> = c.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, vec!["aws:PrincipalTag/Team"]);
    }

    #[test]
    fn principals_from_arns() {
        let r = Principal::from_arn(
            "arn:aws:iam::123456789012:role/workers/heartbeat-worker",
            "s1",
            None,
        )
        .unwrap();
        assert_eq!(
            r.caller_arn,
            "arn:aws:sts::123456789012:assumed-role/heartbeat-worker/s1"
        );
        assert_eq!(
            r.arn,
            "arn:aws:iam::123456789012:role/workers/heartbeat-worker"
        );
        assert_eq!(r.principal_type, PrincipalType::AssumedRole);
        assert!(r.username.is_none());
        assert!(r.userid.starts_with("AROA") && r.userid.ends_with(":s1"));
        let s = Principal::from_arn(
            "arn:aws:sts::123456789012:assumed-role/worker/s2",
            "x",
            None,
        )
        .unwrap();
        assert_eq!(s.arn, "arn:aws:iam::123456789012:role/worker");
        assert_eq!(
            s.caller_arn,
            "arn:aws:sts::123456789012:assumed-role/worker/s2"
        );
        let u = Principal::from_arn(
            "arn:aws:iam::123456789012:user/ops/alice",
            "x",
            Some("AIDAEXAMPLE"),
        )
        .unwrap();
        assert_eq!(u.username.as_deref(), Some("alice"));
        assert_eq!(u.userid, "AIDAEXAMPLE");
        let root = Principal::from_arn("arn:aws:iam::123456789012:root", "x", None).unwrap();
        assert_eq!(root.principal_type, PrincipalType::Account);
        assert_eq!(root.userid, "123456789012");
        assert!(Principal::from_arn("arn:aws:iam::1234:role/x", "s", None).is_err());
        assert!(Principal::from_arn("arn:aws:s3:::bucket/x", "s", None).is_err());
        assert!(Principal::from_arn("worker", "s", None).is_err());
    }
}
