//! The STS operations: inputs checked as STS's model checks them, `AssumeRole` decided
//! with both sides, credentials issued into the [`SessionStore`].

use super::query::Form;
use super::xml::{self, Xml};
use crate::compile::trust::CompiledTrustPolicy;
use crate::compile::LoadedPolicy;
use crate::config::{Config, PrincipalConfig};
use crate::eval::trust::{decide_assume, AssumeRequest};
use crate::eval::{Context, ContextValue, Decision, PrincipalType};
use crate::gate::sessions::{Session, SessionKind, SessionStore};
use crate::validate::PolicyKind;
use std::sync::Arc;

/// An STS error: HTTP status, code, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsError {
    /// HTTP status.
    pub status: u16,
    /// The error code (`AccessDenied`, `ValidationError`, ...).
    pub code: &'static str,
    /// The message.
    pub message: String,
    /// The decision behind an `AccessDenied`, for the decision log.
    pub decision: Option<Box<Decision>>,
}

impl StsError {
    /// An error with `code` and `message`.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        StsError {
            status,
            code,
            message: message.into(),
            decision: None,
        }
    }

    fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "ValidationError", message)
    }

    fn access_denied(message: impl Into<String>) -> Self {
        Self::new(403, "AccessDenied", message)
    }

    /// The XML body.
    pub fn body(&self, request_id: &str) -> String {
        xml::error(self.code, &self.message, self.status < 500, request_id)
    }
}

/// Everything about one call besides its parameters.
pub struct Call<'a> {
    /// The configuration in force.
    pub config: &'a Arc<Config>,
    /// The caller's principal.
    pub caller: &'a PrincipalConfig,
    /// The caller's session, when it signs with temporary credentials.
    pub session: Option<Arc<Session>>,
    /// Whether the caller signs with a long-term key of a configured principal.
    pub long_term: bool,
    /// The request context's connection and time keys (region, time, source IP, user
    /// agent, transport), over the caller's own keys.
    pub context: Context,
    /// Now, in epoch seconds.
    pub now: i64,
    /// The store new sessions go into.
    pub sessions: &'a SessionStore,
    /// Whether denials stop the call (observe modes let a denied `AssumeRole` of a
    /// configured role proceed).
    pub enforce: crate::gate::Enforce,
}

/// One constraint failure of STS's model, phrased as Coral phrases it.
fn constraint(value: &str, member: &str, what: String) -> String {
    format!("Value '{value}' at '{member}' failed to satisfy constraint: Member must {what}")
}

/// Collects model constraint failures; `finish` turns them into Coral's message.
#[derive(Default)]
struct Checks(Vec<String>);

impl Checks {
    fn length(&mut self, value: Option<&str>, member: &str, min: usize, max: usize) {
        let Some(v) = value else { return };
        let n = v.chars().count();
        if n < min {
            self.0.push(constraint(
                v,
                member,
                format!("have length greater than or equal to {min}"),
            ));
        } else if n > max {
            self.0.push(constraint(
                v,
                member,
                format!("have length less than or equal to {max}"),
            ));
        }
    }

    fn pattern(&mut self, value: Option<&str>, member: &str, shown: &str, ok: fn(char) -> bool) {
        let Some(v) = value else { return };
        if !v.chars().all(ok) {
            self.0.push(constraint(
                v,
                member,
                format!("satisfy regular expression pattern: {shown}"),
            ));
        }
    }

    fn required(&mut self, value: Option<&str>, member: &str) {
        if value.is_none() {
            self.0.push(format!(
                "Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ));
        }
    }

    fn finish(self) -> Result<(), StsError> {
        match self.0.len() {
            0 => Ok(()),
            n => Err(StsError::validation(format!(
                "{n} validation error{} detected: {}",
                if n == 1 { "" } else { "s" },
                self.0.join("; ")
            ))),
        }
    }
}

/// `[\w+=,.@-]`: session names and source identities.
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// `[\w+=,.@:\/-]`: external IDs.
fn external_id_char(c: char) -> bool {
    name_char(c) || c == ':' || c == '/'
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`: tag keys and values.
fn tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

/// Parses `DurationSeconds`, bounded as the model bounds it.
fn duration(form: &Form, checks: &mut Checks, min: i64, max: i64) -> Option<i64> {
    let v = form.get("DurationSeconds")?;
    match v.parse::<i64>() {
        Ok(n) if n < min => {
            checks.0.push(constraint(
                v,
                "durationSeconds",
                format!("have value greater than or equal to {min}"),
            ));
            None
        }
        Ok(n) if n > max => {
            checks.0.push(constraint(
                v,
                "durationSeconds",
                format!("have value less than or equal to {max}"),
            ));
            None
        }
        Ok(n) => Some(n),
        Err(_) => {
            checks.0.push(format!(
                "Value '{v}' at 'durationSeconds' is not an integer"
            ));
            None
        }
    }
}

fn credentials(s: &Session) -> Xml {
    Xml::Node(
        "Credentials",
        vec![
            Xml::Text("AccessKeyId", s.access_key_id.clone()),
            Xml::Text("SecretAccessKey", s.secret.expose().to_owned()),
            Xml::Text("SessionToken", s.token.expose().to_owned()),
            Xml::Text("Expiration", crate::values::format_iso8601(s.expires)),
        ],
    )
}

/// AWS's message for an MFA code that does not verify.
pub const MSG_MFA: &str = "MultiFactorAuthentication failed with invalid MFA one time pass code. ";

/// Whether the call authenticates with MFA: `SerialNumber` names one of the caller's
/// virtual MFA devices and `TokenCode` is its current code. Neither sent: `false`.
fn check_mfa(call: &Call<'_>, form: &Form) -> Result<bool, StsError> {
    match (form.get("SerialNumber"), form.get("TokenCode")) {
        (None, None) => Ok(false),
        (Some(serial), Some(code)) => {
            let device = call
                .caller
                .mfa_devices
                .iter()
                .find(|d| d.serial_number == serial)
                .ok_or_else(|| StsError::access_denied(MSG_MFA))?;
            let seed = super::mfa::base32_decode(device.seed.expose())
                .ok_or_else(|| StsError::access_denied(MSG_MFA))?;
            if super::mfa::verify(&seed, code, call.now) {
                Ok(true)
            } else {
                Err(StsError::access_denied(MSG_MFA))
            }
        }
        _ => Err(StsError::access_denied(
            "MultiFactorAuthentication failed: SerialNumber and TokenCode go together",
        )),
    }
}

/// `GetCallerIdentity`: who signed (never denied, as in AWS).
pub fn get_caller_identity(call: &Call<'_>, request_id: &str) -> String {
    let p = &call.caller.principal;
    xml::response(
        "GetCallerIdentity",
        &[
            Xml::Text("Arn", p.caller_arn.clone()),
            Xml::Text("UserId", p.userid.clone()),
            Xml::Text("Account", p.account.clone()),
        ],
        request_id,
    )
}

/// `GetSessionToken`: temporary credentials for an IAM user (or root), with the user's
/// own permissions.
pub fn get_session_token(
    call: &Call<'_>,
    form: &Form,
    request_id: &str,
) -> Result<String, StsError> {
    let p = &call.caller.principal;
    if !call.long_term
        || !matches!(
            p.principal_type,
            PrincipalType::User | PrincipalType::Account
        )
    {
        return Err(StsError::access_denied(
            "Cannot call GetSessionToken with session credentials",
        ));
    }
    let mut checks = Checks::default();
    let d = duration(form, &mut checks, 900, 129_600);
    checks.length(form.get("SerialNumber"), "serialNumber", 9, 256);
    checks.length(form.get("TokenCode"), "tokenCode", 6, 6);
    checks.finish()?;
    let mfa = check_mfa(call, form)?;
    let root = p.principal_type == PrincipalType::Account;
    let d = d.unwrap_or(if root { 3600 } else { 43_200 });
    if root && d > 3600 {
        return Err(StsError::validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for root accounts.",
        ));
    }
    let s = Session::issue(
        SessionKind::User {
            user_arn: p.arn.clone(),
        },
        call.now,
        d,
        None,
        mfa,
    );
    let s = call
        .sessions
        .insert(s, call.now)
        .map_err(|e| StsError::new(400, "LimitExceeded", e))?;
    Ok(xml::response(
        "GetSessionToken",
        &[credentials(&s)],
        request_id,
    ))
}

/// The checked parameters of an `AssumeRole` call.
struct AssumeInput<'f> {
    role_arn: &'f str,
    session_name: &'f str,
    duration: Option<i64>,
    policy: Option<&'f str>,
    policy_arns: Vec<&'f str>,
    tags: Vec<(&'f str, &'f str)>,
    transitive: Vec<&'f str>,
    external_id: Option<&'f str>,
    source_identity: Option<&'f str>,
}

fn assume_input(form: &Form) -> Result<AssumeInput<'_>, StsError> {
    let mut c = Checks::default();
    let role_arn = form.get("RoleArn");
    let session_name = form.get("RoleSessionName");
    c.required(role_arn, "roleArn");
    c.length(role_arn, "roleArn", 20, 2048);
    c.required(session_name, "roleSessionName");
    c.length(session_name, "roleSessionName", 2, 64);
    c.pattern(session_name, "roleSessionName", r"[\w+=,.@-]*", name_char);
    let duration = duration(form, &mut c, 900, 43_200);
    let policy = form.get("Policy");
    c.length(policy, "policy", 1, 2048);
    let arn_rows = form
        .structs("PolicyArns", &["arn"])
        .map_err(StsError::validation)?;
    let mut policy_arns = Vec::new();
    for row in &arn_rows {
        let arn = row.first().copied().flatten();
        c.required(arn, "policyArns.member.arn");
        c.length(arn, "policyArns.member.arn", 20, 2048);
        policy_arns.extend(arn);
    }
    let tag_rows = form
        .structs("Tags", &["Key", "Value"])
        .map_err(StsError::validation)?;
    if tag_rows.len() > 50 {
        c.0.push(format!(
            "Value '[...]' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50 (it has {})",
            tag_rows.len()
        ));
    }
    let mut tags = Vec::new();
    for row in &tag_rows {
        let (k, v) = (row[0], row[1]);
        c.required(k, "tags.member.key");
        c.required(v, "tags.member.value");
        c.length(k, "tags.member.key", 1, 128);
        c.pattern(
            k,
            "tags.member.key",
            r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+",
            tag_char,
        );
        c.length(v, "tags.member.value", 0, 256);
        c.pattern(
            v,
            "tags.member.value",
            r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*",
            tag_char,
        );
        if let (Some(k), Some(v)) = (k, v) {
            tags.push((k, v));
        }
    }
    let transitive = form
        .list("TransitiveTagKeys")
        .map_err(StsError::validation)?;
    if transitive.len() > 50 {
        c.0.push("Value '[...]' at 'transitiveTagKeys' failed to satisfy constraint: Member must have length less than or equal to 50".into());
    }
    let external_id = form.get("ExternalId");
    c.length(external_id, "externalId", 2, 1224);
    c.pattern(
        external_id,
        "externalId",
        r"[\w+=,.@:\/-]*",
        external_id_char,
    );
    let source_identity = form.get("SourceIdentity");
    c.length(source_identity, "sourceIdentity", 2, 64);
    c.pattern(source_identity, "sourceIdentity", r"[\w+=,.@-]*", name_char);
    c.length(form.get("SerialNumber"), "serialNumber", 9, 256);
    c.length(form.get("TokenCode"), "tokenCode", 6, 6);
    c.finish()?;
    let (Some(role_arn), Some(session_name)) = (role_arn, session_name) else {
        return Err(StsError::validation(
            "RoleArn and RoleSessionName are required",
        ));
    };
    // Tag keys are case-insensitive and unique; `aws:` is AWS's.
    for (i, (k, _)) in tags.iter().enumerate() {
        if tags[..i].iter().any(|(o, _)| o.eq_ignore_ascii_case(k)) {
            return Err(StsError::new(
                400,
                "InvalidParameterValue",
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        // `get`: a key's fourth byte may fall inside a character (`abcé`).
        if k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
            return Err(StsError::new(
                400,
                "InvalidParameterValue",
                format!("Tag key '{k}' uses the reserved prefix aws:"),
            ));
        }
    }
    for t in &transitive {
        if !tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(t)) {
            return Err(StsError::new(
                400,
                "InvalidParameterValue",
                "The specified transitive tag key must be included in the requested tags.",
            ));
        }
    }
    Ok(AssumeInput {
        role_arn,
        session_name,
        duration,
        policy,
        policy_arns,
        tags,
        transitive,
        external_id,
        source_identity,
    })
}

/// The session policies of a call: the inline `Policy`, then each `PolicyArns` policy.
fn session_policies(
    config: &Config,
    input: &AssumeInput<'_>,
) -> Result<Vec<LoadedPolicy>, StsError> {
    let mut out = Vec::new();
    if let Some(text) = input.policy {
        let p =
            LoadedPolicy::load("Policy", text.as_bytes(), &PolicyKind::Session).map_err(|e| {
                let msg = e
                    .errors
                    .first()
                    .map_or(e.message.clone(), |f| f.message.clone());
                if msg.starts_with("Packed policy") {
                    StsError::new(400, "PackedPolicyTooLarge", msg)
                } else {
                    StsError::new(400, "MalformedPolicyDocument", msg)
                }
            })?;
        out.push(p);
    }
    if input.policy_arns.len() > 10 {
        return Err(StsError::new(
            400,
            "InvalidParameterValue",
            "A session may have at most 10 managed session policies (PolicyArns).",
        ));
    }
    for arn in &input.policy_arns {
        let p = config.managed_policy(arn).map_err(|e| {
            StsError::new(
                400,
                "InvalidParameterValue",
                format!("Policy {arn} does not exist or is not attachable. ({e})"),
            )
        })?;
        out.push(p);
    }
    Ok(out)
}

/// The packed size of session policy and tags, in percent of STS's allotment: the
/// non-whitespace characters of the inline policy and the characters of the session's
/// tags, over 2,048. (STS's own packing compresses; this measure is never smaller, so it
/// refuses no later than STS would not.)
fn packed_percent(policy: Option<&str>, tags: &[(String, String)]) -> u64 {
    let policy = policy.map_or(0, |p| p.chars().filter(|c| !c.is_whitespace()).count());
    let tags: usize = tags.iter().map(|(k, v)| k.len() + v.len()).sum();
    (((policy + tags) as u64) * 100).div_ceil(2048)
}

/// `AssumeRole`: decided with the caller's policies and the role's trust policy, then
/// credentials for a session of the role.
pub fn assume_role(
    call: &Call<'_>,
    form: &Form,
    request_id: &str,
) -> Result<(String, Vec<Decision>), StsError> {
    let input = assume_input(form)?;
    let mfa = check_mfa(call, form)?;
    let config = call.config;
    let caller = &call.caller.principal;
    // What the caller's session passes on: transitive tags and the source identity.
    let (inherited, inherited_keys, inherited_si) = match call.session.as_deref() {
        Some(Session {
            kind: SessionKind::Role {
                tags, transitive, ..
            },
            source_identity,
            ..
        }) => (
            tags.iter()
                .filter(|(k, _)| transitive.iter().any(|t| t.eq_ignore_ascii_case(k)))
                .cloned()
                .collect::<Vec<_>>(),
            transitive.clone(),
            source_identity.clone(),
        ),
        Some(s) => (Vec::new(), Vec::new(), s.source_identity.clone()),
        None => (Vec::new(), Vec::new(), None),
    };
    for (k, _) in &input.tags {
        if inherited.iter().any(|(ik, _)| ik.eq_ignore_ascii_case(k)) {
            return Err(StsError::new(
                400,
                "InvalidParameterValue",
                format!(
                    "The transitive session tag '{k}' of the calling session cannot be overridden."
                ),
            ));
        }
    }
    if let (Some(old), Some(new)) = (&inherited_si, input.source_identity) {
        if old != new {
            return Err(StsError::validation(format!(
                "The source identity of the session is `{old}` and cannot be changed."
            )));
        }
    }
    let role = config
        .principals
        .iter()
        .find(|p| p.principal.arn == input.role_arn && p.is_role());
    // The request's context: the caller's keys, the connection's, and STS's own.
    let mut ctx = call.context.clone();
    if mfa {
        ctx.set_single("aws:MultiFactorAuthPresent", "true");
        ctx.set_single("aws:MultiFactorAuthAge", "0");
    }
    ctx.set_single("sts:RoleSessionName", input.session_name);
    if let Some(e) = input.external_id {
        ctx.set_single("sts:ExternalId", e);
    }
    if let Some(si) = input.source_identity {
        ctx.set_single("sts:SourceIdentity", si);
    }
    for (k, v) in &input.tags {
        ctx.set_single(&format!("aws:RequestTag/{k}"), *v);
    }
    if !input.tags.is_empty() {
        ctx.set(
            "aws:TagKeys",
            ContextValue::Multi(input.tags.iter().map(|(k, _)| (*k).to_owned()).collect()),
        );
    }
    if !input.transitive.is_empty() {
        ctx.set(
            "sts:TransitiveTagKeys",
            ContextValue::Multi(input.transitive.iter().map(|k| (*k).to_owned()).collect()),
        );
    }
    if let Some(r) = role {
        for (k, v) in &r.principal.tags {
            ctx.set_single(&format!("aws:ResourceTag/{k}"), v.clone());
        }
    }
    let trust: Option<&CompiledTrustPolicy> = role.and_then(|r| r.trust.as_deref());
    let mut actions = vec!["sts:AssumeRole"];
    if !input.tags.is_empty() || !inherited.is_empty() {
        actions.push("sts:TagSession");
    }
    if input.source_identity.is_some() {
        actions.push("sts:SetSourceIdentity");
    }
    let mut decisions = Vec::with_capacity(actions.len());
    for action in actions {
        let mut d = decide_assume(&AssumeRequest {
            caller,
            caller_policies: &call.caller.compiled,
            action,
            role_arn: input.role_arn,
            trust,
            context: &ctx,
        });
        if let Some(why) = role.and_then(|r| r.trust_missing.as_deref()) {
            d = crate::eval::internal_error_of(&caller.caller_arn, action, input.role_arn, why);
        }
        // Observe modes: a denied AssumeRole of a configured role proceeds (logged).
        let proceeds =
            d.is_allowed() || (call.enforce != crate::gate::Enforce::Strict && role.is_some());
        decisions.push(d);
        if !proceeds {
            let d = decisions.pop().unwrap_or_else(|| {
                crate::eval::internal_error_of(
                    &caller.caller_arn,
                    action,
                    input.role_arn,
                    "no decision",
                )
            });
            let message = d.message.clone().unwrap_or_else(|| {
                format!(
                    "User: {} is not authorized to perform: {action} on resource: {}",
                    caller.caller_arn, input.role_arn
                )
            });
            let mut e = StsError::access_denied(message);
            e.decision = Some(Box::new(d));
            return Err(e);
        }
    }
    let Some(role) = role else {
        return Err(StsError::access_denied(format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
            caller.caller_arn, input.role_arn
        )));
    };
    // Durations: 900 s up to the role's maximum; 1 hour when chaining roles.
    let chained = caller.principal_type == PrincipalType::AssumedRole;
    let wanted = input.duration.unwrap_or(3600);
    if chained && wanted > 3600 {
        return Err(StsError::validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    if wanted > role.max_session_duration as i64 {
        return Err(StsError::validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    let policies = session_policies(config, &input)?;
    let mut session_tags: Vec<(String, String)> = inherited;
    session_tags.extend(
        input
            .tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let mut transitive: Vec<String> = inherited_keys;
    for k in &input.transitive {
        if !transitive.iter().any(|t| t.eq_ignore_ascii_case(k)) {
            transitive.push((*k).to_owned());
        }
    }
    let packed = packed_percent(input.policy, &session_tags);
    if packed > 100 {
        return Err(StsError::new(
            400,
            "PackedPolicyTooLarge",
            format!("Packed policy consumes {packed}% of allotted space, please use smaller policy for assumeRole."),
        ));
    }
    let source_identity = input.source_identity.map(str::to_owned).or(inherited_si);
    let s = Session::issue(
        SessionKind::Role {
            role_arn: role.principal.arn.clone(),
            session_name: input.session_name.to_owned(),
            tags: session_tags,
            transitive,
            policies,
            chained,
        },
        call.now,
        wanted,
        source_identity.clone(),
        mfa,
    );
    // Built now, so that a session that could not act is never issued.
    let pc = s
        .principal(config)
        .map_err(|e| StsError::new(500, "InternalFailure", e))?;
    let s = call
        .sessions
        .insert(s, call.now)
        .map_err(|e| StsError::new(400, "LimitExceeded", e))?;
    let mut result = vec![
        Xml::Node(
            "AssumedRoleUser",
            vec![
                Xml::Text("AssumedRoleId", pc.principal.userid.clone()),
                Xml::Text("Arn", pc.principal.caller_arn.clone()),
            ],
        ),
        credentials(&s),
    ];
    if input.policy.is_some() || !input.tags.is_empty() {
        result.push(Xml::Text("PackedPolicySize", packed.to_string()));
    }
    if let Some(si) = source_identity {
        result.push(Xml::Text("SourceIdentity", si));
    }
    Ok((xml::response("AssumeRole", &result, request_id), decisions))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const T0: i64 = 1_795_600_800;

    fn config() -> Arc<Config> {
        let text = r#"{"principals": [
          {"arn": "arn:aws:iam::123456789012:user/dev", "accessKeys": [{"accessKeyId": "AKIADEV", "secretAccessKey": "s"}]},
          {"arn": "arn:aws:iam::123456789012:root", "accessKeys": [{"accessKeyId": "AKIAROOT", "secretAccessKey": "s"}],
           "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]},
          {"arn": "arn:aws:iam::123456789012:role/a", "tags": {"team": "orders", "env": "dev"}, "maxSessionDuration": 7200,
           "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession", "swf:*"], "Resource": "*"}]}],
           "trustPolicy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/dev"}, "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]}]}},
          {"arn": "arn:aws:iam::123456789012:role/b", "maxSessionDuration": 43200,
           "trustPolicy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/a"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]}}
        ]}"#;
        Arc::new(Config::from_bytes(Path::new("/nonexistent/sts.json"), text.as_bytes()).unwrap())
    }

    struct World {
        config: Arc<Config>,
        store: SessionStore,
    }

    impl World {
        fn new() -> Self {
            World {
                config: config(),
                store: SessionStore::new(),
            }
        }

        fn call_as<'a>(
            &'a self,
            pc: &'a PrincipalConfig,
            session: Option<Arc<Session>>,
        ) -> Call<'a> {
            let mut ctx = Context::over(pc.base_context.clone());
            ctx.set_request_defaults("us-east-1", T0);
            Call {
                config: &self.config,
                caller: pc,
                long_term: session.is_none(),
                session,
                context: ctx,
                now: T0,
                sessions: &self.store,
                enforce: crate::gate::Enforce::Strict,
            }
        }

        fn user(&self, arn: &str) -> &PrincipalConfig {
            self.config.principal(arn).unwrap()
        }

        fn assume(
            &self,
            pc: &PrincipalConfig,
            session: Option<Arc<Session>>,
            form: &str,
        ) -> Result<Arc<Session>, StsError> {
            let call = self.call_as(pc, session);
            let (xml, _) = assume_role(&call, &Form::parse(form).unwrap(), "r")?;
            let key = issued_key(&xml);
            Ok(self.store.get(key).unwrap())
        }
    }

    /// The access key ID of the credentials in an answer.
    fn issued_key(xml: &str) -> &str {
        let after = xml.split("<AccessKeyId>").nth(1).unwrap();
        after.split('<').next().unwrap()
    }

    const DEV: &str = "arn:aws:iam::123456789012:user/dev";
    const A: &str = "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fa&RoleSessionName=s1";
    const B: &str = "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fb&RoleSessionName=s2";

    #[test]
    fn model_constraints_are_coral_messages() {
        let w = World::new();
        let dev = w.user(DEV);
        let e = w
            .assume(dev, None, &format!("{A}&DurationSeconds=899"))
            .unwrap_err();
        assert_eq!(e.code, "ValidationError");
        assert_eq!(e.message, "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900");
        let e = w.assume(dev, None, "RoleSessionName=x").unwrap_err();
        assert!(e.message.starts_with("2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null"), "{}", e.message);
        let e = w
            .assume(dev, None, &format!("{A}&ExternalId=a%20b"))
            .unwrap_err();
        assert!(e.message.contains("at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern"), "{}", e.message);
        let e = w
            .assume(
                dev,
                None,
                &format!("{A}&Tags.member.1.Key=aws%3Ax&Tags.member.1.Value=v"),
            )
            .unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue");
        let e = w.assume(dev, None, &format!("{A}&Tags.member.1.Key=t&Tags.member.1.Value=v&Tags.member.2.Key=T&Tags.member.2.Value=w")).unwrap_err();
        assert!(
            e.message.starts_with("Duplicate tag keys found"),
            "{}",
            e.message
        );
        let e = w
            .assume(dev, None, &format!("{A}&TransitiveTagKeys.member.1=t"))
            .unwrap_err();
        assert_eq!(
            e.message,
            "The specified transitive tag key must be included in the requested tags."
        );
        let e = w.assume(dev, None, &format!("{A}&SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Fdev&TokenCode=123456")).unwrap_err();
        assert_eq!(e.code, "AccessDenied");
    }

    #[test]
    fn non_ascii_tag_keys_never_split_a_character() {
        let w = World::new();
        let dev = w.user(DEV);
        // "abcé": the fourth byte is inside `é`.
        let s = w
            .assume(
                dev,
                None,
                &format!("{A}&Tags.member.1.Key=abc%C3%A9&Tags.member.1.Value=v"),
            )
            .unwrap();
        let pa = s.principal(&w.config).unwrap();
        assert!(pa
            .principal
            .tags
            .contains(&("abcé".to_owned(), "v".to_owned())));
        let e = w
            .assume(
                dev,
                None,
                &format!("{A}&Tags.member.1.Key=AWS%3Ax%C3%A9&Tags.member.1.Value=v"),
            )
            .unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue");
    }

    #[test]
    fn durations_follow_the_role_and_role_chaining() {
        let w = World::new();
        let dev = w.user(DEV);
        let s = w
            .assume(dev, None, &format!("{A}&DurationSeconds=7200"))
            .unwrap();
        assert_eq!(s.expires - s.issued, 7200);
        let e = w
            .assume(dev, None, &format!("{A}&DurationSeconds=7201"))
            .unwrap_err();
        assert_eq!(
            e.message,
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        );
        // The default is one hour.
        let s = w.assume(dev, None, A).unwrap();
        assert_eq!(s.expires - s.issued, 3600);
        // A session of `a` assumes `b` (which allows 12 hours): one hour at most.
        let pa = s.principal(&w.config).unwrap();
        let e = w
            .assume(&pa, Some(s.clone()), &format!("{B}&DurationSeconds=3601"))
            .unwrap_err();
        assert_eq!(e.message, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.");
        let sb = w.assume(&pa, Some(s.clone()), B).unwrap();
        let pb = sb.principal(&w.config).unwrap();
        assert_eq!(
            pb.principal.caller_arn,
            "arn:aws:sts::123456789012:assumed-role/b/s2"
        );
        // `b` does not trust dev.
        let e = w.assume(dev, None, B).unwrap_err();
        assert_eq!(e.code, "AccessDenied");
        assert!(e.decision.is_some());
    }

    #[test]
    fn tags_override_role_tags_and_transitive_ones_pass_on() {
        let w = World::new();
        let dev = w.user(DEV);
        let s = w
            .assume(dev, None, &format!("{A}&Tags.member.1.Key=Team&Tags.member.1.Value=billing&Tags.member.2.Key=cost&Tags.member.2.Value=7&TransitiveTagKeys.member.1=cost&SourceIdentity=alice"))
            .unwrap();
        let pa = s.principal(&w.config).unwrap();
        let tags = &pa.principal.tags;
        assert!(
            tags.contains(&("Team".into(), "billing".into())),
            "{tags:?}"
        );
        assert!(tags.contains(&("env".into(), "dev".into())));
        assert!(
            !tags.iter().any(|(k, _)| k == "team"),
            "the session tag replaces the role tag of the same key, any case"
        );
        assert_eq!(
            pa.base_context.get("aws:SourceIdentity"),
            Some(&ContextValue::Single("alice".into()))
        );
        assert_eq!(
            pa.base_context.get("aws:TokenIssueTime"),
            Some(&ContextValue::Single(crate::values::format_iso8601(T0)))
        );
        // Chained: the transitive tag and the source identity pass on; others do not.
        let sb = w.assume(&pa, Some(s.clone()), B).unwrap();
        let pb = sb.principal(&w.config).unwrap();
        assert_eq!(pb.principal.tags, vec![("cost".to_owned(), "7".to_owned())]);
        assert_eq!(sb.source_identity.as_deref(), Some("alice"));
        // A transitive tag cannot be overridden, nor the source identity changed.
        let e = w
            .assume(
                &pa,
                Some(s.clone()),
                &format!("{B}&Tags.member.1.Key=COST&Tags.member.1.Value=8"),
            )
            .unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue");
        let e = w
            .assume(&pa, Some(s), &format!("{B}&SourceIdentity=bob"))
            .unwrap_err();
        assert_eq!(e.code, "ValidationError");
    }

    #[test]
    fn session_policies_are_checked_and_intersected() {
        let w = World::new();
        let dev = w.user(DEV);
        let narrow = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22swf%3AListDomains%22%2C%22Resource%22%3A%22*%22%7D%7D";
        let s = w
            .assume(dev, None, &format!("{A}&Policy={narrow}"))
            .unwrap();
        let pa = s.principal(&w.config).unwrap();
        assert!(pa.compiled.has_session);
        let e = w
            .assume(dev, None, &format!("{A}&Policy=%7B%7D"))
            .unwrap_err();
        assert_eq!(e.code, "MalformedPolicyDocument");
        let e = w
            .assume(
                dev,
                None,
                &format!(
                    "{A}&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3A123456789012%3Apolicy%2Fnone"
                ),
            )
            .unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue");
        // Policy and tags packed beyond the allotment.
        let big = format!("{{\"Version\":\"2012-10-17\",\"Statement\":{{\"Effect\":\"Allow\",\"Action\":\"swf:ListDomains\",\"Resource\":\"*\",\"Sid\":\"{}\"}}}}", "a".repeat(1900));
        let enc: String = big.bytes().map(|b| format!("%{b:02X}")).collect();
        let tags: String = (1..=10)
            .map(|i| {
                format!(
                    "&Tags.member.{i}.Key=k{i}&Tags.member.{i}.Value={}",
                    "v".repeat(40)
                )
            })
            .collect();
        let e = w
            .assume(dev, None, &format!("{A}&Policy={enc}{tags}"))
            .unwrap_err();
        assert_eq!(e.code, "PackedPolicyTooLarge", "{}", e.message);
    }

    #[test]
    fn get_session_token_is_for_users_and_root() {
        let w = World::new();
        let dev = w.user(DEV);
        let call = w.call_as(dev, None);
        let xml = get_session_token(&call, &Form::parse("").unwrap(), "r").unwrap();
        assert!(xml.contains("<AccessKeyId>ASIA"));
        let key = issued_key(&xml);
        let s = w.store.get(key).unwrap();
        assert_eq!(s.expires - s.issued, 43_200);
        let pc = s.principal(&w.config).unwrap();
        assert_eq!(pc.principal.caller_arn, DEV);
        assert_eq!(
            pc.base_context.get("aws:MultiFactorAuthPresent"),
            Some(&ContextValue::Single("false".into()))
        );
        // Not with session credentials.
        let call = w.call_as(&pc, Some(s));
        let e = get_session_token(&call, &Form::parse("").unwrap(), "r").unwrap_err();
        assert_eq!(
            e.message,
            "Cannot call GetSessionToken with session credentials"
        );
        // Root: one hour at most.
        let root = w.user("arn:aws:iam::123456789012:root");
        let call = w.call_as(root, None);
        let e = get_session_token(&call, &Form::parse("DurationSeconds=3601").unwrap(), "r")
            .unwrap_err();
        assert_eq!(e.code, "ValidationError");
        // Root may not assume roles.
        let e = w.assume(root, None, A).unwrap_err();
        assert_eq!(e.message, crate::eval::trust::MSG_ROOT);
    }

    #[test]
    fn a_session_of_a_role_removed_by_a_reload_can_do_nothing() {
        let w = World::new();
        let s = w.assume(w.user(DEV), None, A).unwrap();
        let without = Arc::new(
            Config::from_bytes(Path::new("/nonexistent/sts.json"), br#"{"principals": []}"#)
                .unwrap(),
        );
        assert!(s
            .principal(&without)
            .unwrap_err()
            .contains("no longer configured"));
        // Back under the first configuration, it is rebuilt.
        assert!(s.principal(&w.config).is_ok());
    }
}
