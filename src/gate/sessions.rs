//! The temporary credentials STS has issued, and the principals they sign as.
//!
//! Sessions live in memory: a restart (or a reset) forgets them, as an emulator's state
//! is forgotten. Keys, secrets and tokens come from the operating system's random
//! source; a token is checked in constant time against the one issued with its key. A
//! session's principal is built from the role as the configuration defines it *now*:
//! a reload that changes the role's policies changes what its sessions may do (as IAM
//! does), and a reload that removes the role leaves its sessions unable to do anything.

use crate::compile::{CompiledPolicySet, LoadedPolicy, PolicySet};
use crate::config::{AccessKey, Config, PrincipalConfig, Secret};
use crate::eval::{Context, Principal};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};

/// How many sessions a server keeps at most (expired ones are dropped first): each holds
/// its role's policies, compiled, so the bound is one of memory.
pub const MAX_SESSIONS: usize = 10_000;

/// What kind of session a set of temporary credentials is.
#[derive(Debug, Clone)]
pub enum SessionKind {
    /// An `AssumeRole` session of a role.
    Role {
        /// The role's ARN.
        role_arn: String,
        /// `RoleSessionName`.
        session_name: String,
        /// The session's tags (passed and inherited transitive ones), which override
        /// the role's tags of the same key.
        tags: Vec<(String, String)>,
        /// The tag keys that pass on to a session this one assumes.
        transitive: Vec<String>,
        /// Session policies (inline `Policy`, then `PolicyArns`).
        policies: Vec<LoadedPolicy>,
        /// Whether the session came from another role session (role chaining).
        chained: bool,
    },
    /// A `GetSessionToken` session of an IAM user (or root).
    User {
        /// The user's ARN.
        user_arn: String,
    },
}

/// One set of temporary credentials.
#[derive(Debug)]
pub struct Session {
    /// `ASIA...`.
    pub access_key_id: String,
    /// The secret access key.
    pub secret: Secret,
    /// The session token.
    pub token: Secret,
    /// When issued (epoch seconds; `aws:TokenIssueTime`).
    pub issued: i64,
    /// When it expires (epoch seconds).
    pub expires: i64,
    /// `aws:SourceIdentity`, once set (it passes on through role chaining).
    pub source_identity: Option<String>,
    /// Whether the credentials were issued with MFA.
    pub mfa: bool,
    /// What it is a session of.
    pub kind: SessionKind,
    /// The principal built for the configuration last used, and that configuration.
    built: Mutex<Option<(Weak<Config>, Arc<PrincipalConfig>)>>,
}

/// Random text of `n` characters from `alphabet`.
fn random_text(n: usize, alphabet: &[u8]) -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    (0..n)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect()
}

const UPPER32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl Session {
    /// New credentials for `kind`, valid from `issued` for `duration` seconds.
    pub fn issue(
        kind: SessionKind,
        issued: i64,
        duration: i64,
        source_identity: Option<String>,
        mfa: bool,
    ) -> Self {
        Session {
            access_key_id: format!("ASIA{}", random_text(16, UPPER32)),
            secret: Secret::new(random_text(40, SECRET_CHARS)),
            // 64 random characters (384 bits), prefixed so that logs show what it is.
            token: Secret::new(format!("swfiam/{}", random_text(64, SECRET_CHARS))),
            issued,
            expires: issued.saturating_add(duration),
            source_identity,
            mfa,
            kind,
            built: Mutex::new(None),
        }
    }

    /// The keys of a request made with these credentials that depend on when it is made:
    /// `aws:MultiFactorAuthAge` (seconds since MFA authentication), for MFA sessions.
    pub fn age_keys(&self, ctx: &mut Context, now: i64) {
        if self.mfa {
            ctx.set_known(
                "aws:MultiFactorAuthAge",
                now.saturating_sub(self.issued).max(0).to_string(),
            );
        }
    }

    /// The session's principal under `config`: the role's (or user's) policies as
    /// configured now, intersected with the session policies, its tags, and the keys of
    /// the session (`aws:TokenIssueTime`, `aws:SourceIdentity`, MFA). Built once per
    /// configuration.
    pub fn principal(&self, config: &Arc<Config>) -> Result<Arc<PrincipalConfig>, String> {
        let mut built = self
            .built
            .lock()
            .map_err(|_| "the session's principal cache is poisoned".to_owned())?;
        if let Some((weak, pc)) = built.as_ref() {
            if Weak::ptr_eq(weak, &Arc::downgrade(config)) {
                return Ok(pc.clone());
            }
        }
        let pc = Arc::new(self.build(config)?);
        *built = Some((Arc::downgrade(config), pc.clone()));
        Ok(pc)
    }

    fn build(&self, config: &Config) -> Result<PrincipalConfig, String> {
        let (base_arn, session_name) = match &self.kind {
            SessionKind::Role {
                role_arn,
                session_name,
                ..
            } => (role_arn.as_str(), Some(session_name.as_str())),
            SessionKind::User { user_arn } => (user_arn.as_str(), None),
        };
        let base = config
            .principals
            .iter()
            .find(|p| p.principal.arn == base_arn)
            .ok_or_else(|| format!("`{base_arn}` is no longer configured"))?;
        if !base.missing.is_empty() {
            return Err(format!(
                "not every policy of `{base_arn}` is known: {}",
                base.missing.join("; ")
            ));
        }
        let mut set: PolicySet = base.policies.clone();
        let mut principal: Principal = base.principal.clone();
        if let (
            SessionKind::Role {
                tags,
                policies,
                session_name: _,
                ..
            },
            Some(name),
        ) = (&self.kind, session_name)
        {
            let role_id = base
                .principal
                .userid
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned();
            principal = Principal::from_arn(base_arn, name, Some(&format!("{role_id}:{name}")))
                .map_err(|e| e.to_string())?;
            principal.tags = base.principal.tags.clone();
            for (k, v) in tags {
                match principal
                    .tags
                    .iter_mut()
                    .find(|(rk, _)| rk.eq_ignore_ascii_case(k))
                {
                    Some(slot) => *slot = (k.clone(), v.clone()),
                    None => principal.tags.push((k.clone(), v.clone())),
                }
            }
            set.session = policies.clone();
        }
        let compiled = CompiledPolicySet::compile(&set).map_err(|e| e.to_string())?;
        let mut ctx = Context::new();
        principal.fill_context(&mut ctx);
        ctx.set_single(
            "aws:TokenIssueTime",
            crate::values::format_iso8601(self.issued),
        );
        ctx.set_single(
            "aws:MultiFactorAuthPresent",
            if self.mfa { "true" } else { "false" },
        );
        if let Some(si) = &self.source_identity {
            ctx.set_single("aws:SourceIdentity", si.clone());
        }
        Ok(PrincipalConfig {
            principal,
            policies: set,
            compiled: Arc::new(compiled),
            access_keys: vec![AccessKey {
                access_key_id: self.access_key_id.clone(),
                secret_access_key: self.secret.clone(),
            }],
            base_context: Arc::new(ctx),
            missing: Vec::new(),
            origin: Some(format!("session {}", self.access_key_id)),
            trust: None,
            trust_missing: None,
            max_session_duration: base.max_session_duration,
            mfa_devices: Vec::new(),
        })
    }
}

/// The sessions a server has issued, by access key ID.
#[derive(Debug, Default)]
pub struct SessionStore {
    sessions: RwLock<HashMap<String, Arc<Session>>>,
}

impl SessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `session`; drops expired sessions first when full, and refuses when still
    /// full of live ones.
    pub fn insert(&self, session: Session, now: i64) -> Result<Arc<Session>, String> {
        let mut map = self
            .sessions
            .write()
            .map_err(|_| "the session store is poisoned".to_owned())?;
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| s.expires > now);
            if map.len() >= MAX_SESSIONS {
                return Err(format!(
                    "{MAX_SESSIONS} sessions are live; wait for some to expire"
                ));
            }
        }
        let s = Arc::new(session);
        map.insert(s.access_key_id.clone(), s.clone());
        Ok(s)
    }

    /// The session of access key `akid`, if issued (expired ones included: the caller
    /// tells expired from unknown).
    pub fn get(&self, akid: &str) -> Option<Arc<Session>> {
        self.sessions.read().ok()?.get(akid).cloned()
    }

    /// How many sessions are kept.
    pub fn len(&self) -> usize {
        self.sessions.read().map_or(0, |m| m.len())
    }

    /// Whether no session is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every session (a reset).
    pub fn clear(&self) {
        if let Ok(mut m) = self.sessions.write() {
            m.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(issued: i64, duration: i64) -> Session {
        Session::issue(
            SessionKind::User {
                user_arn: "arn:aws:iam::123456789012:user/u".into(),
            },
            issued,
            duration,
            None,
            false,
        )
    }

    #[test]
    fn the_store_is_bounded_and_drops_expired_sessions_first() {
        let store = SessionStore::new();
        for _ in 0..MAX_SESSIONS {
            store.insert(user(0, 100), 0).unwrap();
        }
        assert_eq!(store.len(), MAX_SESSIONS);
        // Full of live sessions: refused.
        assert!(store
            .insert(user(50, 100), 50)
            .unwrap_err()
            .contains("live"));
        // Once they have expired, room is made.
        let s = store.insert(user(200, 100), 200).unwrap();
        assert_eq!(store.len(), 1);
        assert!(store.get(&s.access_key_id).is_some());
        store.clear();
        assert!(store.is_empty());
    }

    #[test]
    fn keys_and_tokens_are_random_and_well_formed() {
        let a = user(0, 900);
        let b = user(0, 900);
        assert!(a.access_key_id.starts_with("ASIA") && a.access_key_id.len() == 20);
        assert_ne!(a.access_key_id, b.access_key_id);
        assert_ne!(a.secret.expose(), b.secret.expose());
        assert_ne!(a.token.expose(), b.token.expose());
        assert_eq!(a.secret.expose().len(), 40);
        assert!(
            !format!("{a:?}").contains(a.secret.expose()),
            "secrets never in Debug"
        );
        assert_eq!(a.expires, 900);
    }
}
