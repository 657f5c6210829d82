//! The gate: tower middleware that authenticates SWF calls (SigV4), authorizes them as
//! IAM would, and answers denials exactly as SWF does.
//!
//! [`GateLayer`] wraps any service that takes `Request<Full<Bytes>>` (the buffered
//! body). For each request the gate:
//!
//! 1. reads the body (at most [`GateOptions::max_body`] bytes) and the operation from
//!    `X-Amz-Target`;
//! 2. verifies the SigV4 signature against the configured access keys;
//! 3. finds the domain: from the body, or for task-token operations via the
//!    [`TaskTokenResolver`] (an unknown token fails closed);
//! 4. builds the request context (principal keys, `aws:SourceIp` from [`ClientAddr`],
//!    `aws:SecureTransport` from [`SecureTransport`], `aws:RequestedRegion` from the
//!    signature's scope, the clock, and the operation's `swf:` keys) and evaluates;
//! 5. answers a denial with HTTP 400 `OperationNotPermittedFault`, or forwards the
//!    request with an [`Authorized`] extension. Either way the typed [`Decision`] is in
//!    the response's extensions, and one `swf_iam::decision` event is logged.
//!
//! ```no_run
//! use std::sync::Arc;
//! use swf_iam::config::Config;
//! use swf_iam::gate::{GateLayer, NoTasks};
//! use tower::ServiceBuilder;
//!
//! let config = Config::load(std::path::Path::new("policies/swf-iam.json")).unwrap();
//! let inner = tower::service_fn(|_req: http::Request<http_body_util::Full<bytes::Bytes>>| async {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(bytes::Bytes::from("{}"))))
//! });
//! let svc = ServiceBuilder::new().layer(GateLayer::new(config, Arc::new(NoTasks))).service(inner);
//! ```
//!
//! Deployment caveats: `aws:SourceIp` is the TCP peer ([`ClientAddr`]); behind a load
//! balancer, set it from a trusted forwarded header before the gate. Requests signed
//! with temporary credentials (`X-Amz-Security-Token`) are refused: only configured
//! long-term keys authenticate.

pub mod ops;
pub mod sessions;
pub mod sigv4;

use crate::config::{Config, ConfigError, PrincipalConfig};
use crate::eval::{
    self, Context, Decision, DecisionKind, MatchedStatement, Request as EvalRequest,
};
use crate::swf::arn::DomainArn;
use crate::swf::catalog::SwfAction;
use crate::swf::request::{self as swfreq, DomainRef, KeyValue};
use crate::swf::wire::{Fault, WireError};
use arc_swap::ArcSwap;
use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Either, Full};
use serde_json::{Map, Value};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

/// Finds the domain of the task a `taskToken` names (and, optionally, a domain's tags).
/// `region` is the request's checked region: a token, like a domain, exists in one region.
pub trait TaskTokenResolver: Send + Sync + 'static {
    /// The domain of the task, or the error to answer with (the embedded emulator answers
    /// `ValidationException` `Invalid token`; the proxy `OperationNotPermittedFault`).
    fn resolve(&self, region: &str, token: &str) -> Result<String, WireError>;

    /// The execution (workflow ID, run ID) a task token names, for the decision log, when
    /// this resolver knows it (the default knows none).
    fn execution(&self, _region: &str, _token: &str) -> Option<(String, String)> {
        None
    }

    /// The tags of a domain of `region` (`aws:ResourceTag/*`): `Some` when known (none by
    /// default), `None` when this resolver does not know them. A caller whose policies
    /// read `aws:ResourceTag` is then authorized only after [`Self::learn_domain_tags`]
    /// made them known, and denied if it could not.
    fn domain_tags(&self, _region: &str, _domain: &str) -> Option<Vec<(String, String)>> {
        Some(Vec::new())
    }

    /// Learns the tags of a domain that [`Self::domain_tags`] does not know (the proxy
    /// asks its upstream, signed as `caller`). The default knows every domain's tags.
    fn learn_domain_tags<'a>(
        &'a self,
        _region: &'a str,
        _domain: &'a str,
        _caller: Caller,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async { Ok(()) })
    }
}

/// Who a resolver acts for when it must ask about a domain: the authenticated caller's
/// key, and the partition and account of the endpoint's domains.
#[derive(Clone)]
pub struct Caller {
    /// The access key that signed the request.
    pub access_key_id: String,
    /// Its secret.
    pub secret: crate::config::Secret,
    /// The partition of domain ARNs.
    pub partition: String,
    /// The account of domain ARNs.
    pub account: String,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("access_key_id", &self.access_key_id)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// A resolver that knows no task token.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTasks;

impl TaskTokenResolver for NoTasks {
    fn resolve(&self, _region: &str, _token: &str) -> Result<String, WireError> {
        Err(WireError::Validation("Invalid token".into()))
    }
}

pub use crate::net::{ClientAddr, SecureTransport};

/// Whether IAM's denials stop requests (`serve --enforce`, `proxy --enforce`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Enforce {
    /// Denied requests (and decisions) are refused, as AWS refuses them.
    #[default]
    Strict,
    /// Every request and decision is decided and logged as in `Strict`, but denied ones
    /// proceed; their log lines say so (`"enforce": "soft"`). Observe mode.
    Soft,
    /// IAM is not enforced and nothing of it is logged (authentication still is).
    Off,
}

impl Enforce {
    /// `strict`, `soft` or `off`.
    pub fn as_str(self) -> &'static str {
        match self {
            Enforce::Strict => "strict",
            Enforce::Soft => "soft",
            Enforce::Off => "off",
        }
    }
}

/// Options of the gate.
#[derive(Clone)]
pub struct GateOptions {
    /// Largest request body accepted, in bytes (default 1 MiB). A larger
    /// `Content-Length` is refused before any of the body is read; what is buffered
    /// never exceeds it.
    pub max_body: usize,
    /// How long the whole body may take to arrive after the request head (default 30 s);
    /// a slower one is answered with 408 `RequestTimeoutException` and the connection is
    /// closed. A trickle of bytes does not extend it.
    pub body_timeout: std::time::Duration,
    /// The clock, in epoch seconds (tests may set their own).
    pub clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    /// Most body bytes all requests together may hold while they are read and served
    /// (default 64 MiB): past it a request is answered at once with
    /// `ThrottlingException` instead of growing the process.
    pub max_body_total: usize,
    /// The temporary credentials STS issued on this endpoint: the gate accepts them.
    pub sessions: Arc<crate::gate::sessions::SessionStore>,
    /// The clock of the time a request is decided at (`aws:CurrentTime`,
    /// `aws:EpochTime`), when it is not `clock`: `serve --clock` makes it the emulator's,
    /// which tests move. Signatures are always checked against `clock` (clients sign
    /// with the wall clock).
    pub key_clock: Option<Arc<dyn Fn() -> i64 + Send + Sync>>,
    /// Whether denials stop requests (default [`Enforce::Strict`]).
    pub enforce: Enforce,
}

impl GateOptions {
    /// The time a request is decided at, given the wall-clock time `now`.
    pub fn key_now(&self, now: i64) -> i64 {
        self.key_clock.as_ref().map_or(now, |c| c())
    }
}

impl Default for GateOptions {
    fn default() -> Self {
        GateOptions {
            max_body: 1 << 20,
            body_timeout: std::time::Duration::from_secs(30),
            clock: Arc::new(crate::values::now_epoch),
            max_body_total: 64 << 20,
            sessions: Arc::new(crate::gate::sessions::SessionStore::new()),
            key_clock: None,
            enforce: Enforce::Strict,
        }
    }
}

/// What all requests' bodies may hold together ([`GateOptions::max_body_total`]).
#[derive(Debug)]
pub struct BodyBudget {
    used: std::sync::atomic::AtomicUsize,
    max: usize,
}

impl BodyBudget {
    /// A budget of `max` bytes.
    pub fn new(max: usize) -> Self {
        BodyBudget {
            used: std::sync::atomic::AtomicUsize::new(0),
            max,
        }
    }

    /// Bytes held now.
    pub fn used(&self) -> usize {
        self.used.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn take(&self, n: usize) -> bool {
        use std::sync::atomic::Ordering;
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_add(n).filter(|t| *t <= self.max)
            })
            .is_ok()
    }

    fn give(&self, n: usize) {
        self.used.fetch_sub(n, std::sync::atomic::Ordering::AcqRel);
    }
}

/// Bytes of a [`BodyBudget`] held by one request; given back when dropped.
#[derive(Debug)]
pub struct BodyShare<'a> {
    budget: &'a BodyBudget,
    held: usize,
}

impl<'a> BodyShare<'a> {
    /// Nothing held yet.
    pub fn new(budget: &'a BodyBudget) -> Self {
        BodyShare { budget, held: 0 }
    }

    /// Holds `n` more bytes, or says the budget is spent.
    fn grow(&mut self, n: usize) -> Result<(), WireError> {
        if self.budget.take(n) {
            self.held += n;
            Ok(())
        } else {
            Err(WireError::Throttling(format!(
                "Rate exceeded: request bodies in flight hold {} of the endpoint's {} bytes; retry shortly",
                self.budget.used(),
                self.budget.max
            )))
        }
    }
}

impl Drop for BodyShare<'_> {
    fn drop(&mut self) {
        self.budget.give(self.held);
    }
}

impl std::fmt::Debug for GateOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GateOptions")
            .field("max_body", &self.max_body)
            .field("body_timeout", &self.body_timeout)
            .finish_non_exhaustive()
    }
}

/// Reads a whole body of at most `max` bytes into one buffer sized by `Content-Length`
/// (so a large body is one allocation, returned to the system when dropped, instead of
/// many small chunks that fragment the heap). A declared length over `max` is refused
/// before anything is read. Every byte is first taken from `share` (the declared length
/// at once, else as it arrives): when the endpoint's budget is spent the request is
/// refused with `ThrottlingException` rather than buffered.
pub async fn read_body<B>(
    headers: &http::HeaderMap,
    body: B,
    max: usize,
    timeout: std::time::Duration,
    share: &mut BodyShare<'_>,
) -> Result<Bytes, WireError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let too_large = || {
        WireError::Validation(format!(
            "Request body is larger than the limit of {max} bytes"
        ))
    };
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let capacity = declared.map_or(0, |n| usize::try_from(n).unwrap_or(max).min(max));
    share.grow(capacity)?;
    let read = async {
        let mut body = std::pin::pin!(body);
        let mut buf: Vec<u8> = Vec::with_capacity(capacity);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                WireError::Serialization(format!("Could not read the request body: {}", e.into()))
            })?;
            if let Ok(data) = frame.into_data() {
                if buf.len() + data.len() > max {
                    return Err(too_large());
                }
                // Beyond what was declared (a chunked body), each byte is taken first.
                let beyond = (buf.len() + data.len()).saturating_sub(capacity.max(buf.len()));
                if beyond > 0 {
                    share.grow(beyond)?;
                }
                buf.extend_from_slice(&data);
            }
        }
        Ok(Bytes::from(buf))
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(r) => r,
        Err(_) => Err(WireError::RequestTimeout(format!(
            "The request body did not arrive within {} s",
            timeout.as_secs_f64()
        ))),
    }
}

struct Shared {
    config: ArcSwap<Config>,
    resolver: Arc<dyn TaskTokenResolver>,
    options: GateOptions,
    bodies: BodyBudget,
    keys: sigv4::KeyCache,
    /// Held while a background reload runs: reloads never pile up.
    reloading: tokio::sync::Mutex<()>,
}

/// How long a reload may take before its result is refused (the configuration in force
/// stays); what a file may make it build is bounded by `importLimits`.
pub const RELOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// The request body as the gate parsed it, handed to the inner service so that it need
/// not parse it again.
#[derive(Debug, Clone)]
pub struct ParsedBody(pub Arc<Map<String, Value>>);

/// What the gate hands the inner service with an allowed request.
#[derive(Debug, Clone)]
pub struct Authorized {
    /// The configuration the decision was made with.
    pub config: Arc<Config>,
    /// The caller.
    pub caller: CallerRef,
    /// The access key that signed the request.
    pub access_key_id: String,
    /// The region of the signature's scope.
    pub region: String,
    /// The operation.
    pub operation: &'static SwfAction,
    /// The domain, if the operation has one.
    pub domain: Option<String>,
    /// The resource the call was authorized on.
    pub resource: String,
    /// The request context the call was evaluated with.
    pub context: Context,
    /// The decision (in observe mode, possibly a denial the request proceeds despite).
    pub decision: Decision,
    /// Whether denials stop the request and its decisions.
    pub enforce: Enforce,
}

impl Authorized {
    /// The caller.
    pub fn principal(&self) -> Option<&PrincipalConfig> {
        match &self.caller {
            CallerRef::Configured(i) => self.config.principals.get(*i),
            CallerRef::Session(pc) => Some(pc),
        }
    }

    /// Authorizes one decision of a `RespondDecisionTaskCompleted` call as its own action
    /// (`swf.md` §3): same principal and domain, the decision's `swf:` keys, and without
    /// `aws:SourceIp`, `aws:UserAgent` and `aws:SecureTransport`. Each verdict is one
    /// decision-log line (`"level": "decision"`).
    pub fn authorize_decision(&self, action: &SwfAction, attrs: &Map<String, Value>) -> Decision {
        self.authorize_decision_in(action, attrs, None)
    }

    /// [`Self::authorize_decision`] for a decision of execution `execution` (workflow ID,
    /// run ID), which its decision-log line names.
    pub fn authorize_decision_in(
        &self,
        action: &SwfAction,
        attrs: &Map<String, Value>,
        execution: Option<(&str, &str)>,
    ) -> Decision {
        let action_name = format!("swf:{}", action.name);
        let Some(pc) = self.principal() else {
            // The caller was authenticated against this configuration, so this cannot
            // happen; should it, deny and say so.
            let d = eval::internal_error_of(
                &self.decision.principal,
                &action_name,
                &self.resource,
                "the caller is no longer configured",
            );
            log_decision_level(&d, &Context::new(), execution, self.enforce);
            return d;
        };
        let mut ctx = self.context.clone();
        for k in crate::keys::NOT_IN_DECISIONS {
            ctx.remove(k);
        }
        for k in self.operation.keys {
            ctx.remove(k);
        }
        add_keys(&mut ctx, swfreq::condition_keys(action, attrs));
        let req = EvalRequest {
            principal: &pc.principal,
            action: &action_name,
            resource: &self.resource,
            context: &ctx,
        };
        let decision = eval::evaluate(&pc.compiled, &req);
        log_decision_level(&decision, &ctx, execution, self.enforce);
        decision
    }
}

/// How one decision of a `RespondDecisionTaskCompleted` call fares ([`Authorized::verdicts`]).
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Its action is allowed.
    Allowed(Box<Decision>),
    /// Its action is denied: SWF records `<Decision>Failed` with
    /// `OPERATION_NOT_PERMITTED`.
    Denied(Box<Decision>),
    /// A decision type with no IAM action (`ScheduleLambdaFunction`): nothing to
    /// authorize.
    NoAction,
    /// A decision type SWF does not know: the call cannot be authorized.
    Unknown(String),
}

impl Verdict {
    /// Whether the decision may be applied (allowed, or nothing to authorize).
    pub fn applies(&self) -> bool {
        matches!(self, Verdict::Allowed(_) | Verdict::NoAction)
    }
}

impl Authorized {
    /// Authorizes each decision of `decisions` (a `RespondDecisionTaskCompleted` body's
    /// `decisions` list) as its own action: the one loop the emulator, the proxy and
    /// the tests share.
    pub fn verdicts(&self, decisions: &[Value]) -> Vec<Verdict> {
        self.verdicts_in(decisions, None)
    }

    /// [`Self::verdicts`] for the decisions of execution `execution` (workflow ID, run ID),
    /// which their decision-log lines name.
    pub fn verdicts_in(
        &self,
        decisions: &[Value],
        execution: Option<(&str, &str)>,
    ) -> Vec<Verdict> {
        let empty = Map::new();
        decisions
            .iter()
            .map(|d| {
                let ty = d.get("decisionType").and_then(Value::as_str).unwrap_or("");
                if crate::swf::catalog::DECISIONS_WITHOUT_ACTION.contains(&ty) {
                    return Verdict::NoAction;
                }
                let Some(action) = crate::swf::catalog::action(ty).filter(|a| a.decision) else {
                    return Verdict::Unknown(ty.to_owned());
                };
                let attrs = d
                    .get(swfreq::attrs_key(ty))
                    .and_then(Value::as_object)
                    .unwrap_or(&empty);
                let decision = self.authorize_decision_in(action, attrs, execution);
                // Observe modes: a denied decision is logged, and applied all the same.
                if decision.is_allowed() || self.enforce != Enforce::Strict {
                    Verdict::Allowed(Box::new(decision))
                } else {
                    Verdict::Denied(Box::new(decision))
                }
            })
            .collect()
    }
}

fn add_keys(ctx: &mut Context, keys: Vec<(String, KeyValue)>) {
    for (k, v) in keys {
        match v {
            KeyValue::Single(s) => ctx.set_single(&k, s),
            KeyValue::Multi(m) => ctx.set(&k, eval::ContextValue::Multi(m)),
        }
    }
}

/// A handle on a gate's configuration: read it, or reload it atomically.
#[derive(Clone)]
pub struct GateHandle(Arc<Shared>);

impl GateHandle {
    /// The configuration in force.
    pub fn config(&self) -> Arc<Config> {
        self.0.config.load_full()
    }

    /// The gate's options (its clock, body limits and session store).
    pub fn options(&self) -> &GateOptions {
        &self.0.options
    }

    /// The endpoint's shared body budget.
    pub fn bodies(&self) -> &BodyBudget {
        &self.0.bodies
    }

    /// The cache of derived signing keys.
    pub fn keys(&self) -> &sigv4::KeyCache {
        &self.0.keys
    }

    /// The caller of a verified access key under `config`: a configured principal, or
    /// the principal of a session STS issued. `Err` when the key is unknown
    /// (`UnrecognizedClient`) or the session's principal cannot be built.
    pub fn caller_of(&self, config: &Arc<Config>, akid: &str) -> Result<CallerRef, WireError> {
        caller_of(&self.0, config, akid)
    }

    /// What SigV4 verification needs of access key `akid` under `config`: a configured
    /// key's secret, or an issued session's secret, token and expiry.
    pub fn credential(&self, config: &Config, akid: &str) -> Option<sigv4::Credential> {
        credential_of(&self.0, config, akid)
    }

    /// Loads, validates and compiles the configuration at `path`, then swaps it in.
    /// On any error the configuration in force stays, and the error is returned and logged.
    pub fn reload(&self, path: &Path) -> Result<(), ConfigError> {
        match Config::load(path) {
            Ok(c) => {
                self.0.config.store(Arc::new(c));
                tracing::info!(target: "swf_iam::gate", path = %path.display(), "configuration reloaded");
                Ok(())
            }
            Err(e) => {
                tracing::error!(target: "swf_iam::gate", path = %path.display(), error = %e, "configuration reload refused; the previous configuration stays");
                Err(e)
            }
        }
    }
}

/// Who made a request: a configured principal, or an STS session.
#[derive(Debug, Clone)]
pub enum CallerRef {
    /// Index of a principal in `config.principals`.
    Configured(usize),
    /// The principal of temporary credentials (a role session or a `GetSessionToken`
    /// session).
    Session(Arc<PrincipalConfig>),
}

/// The keys a request's connection sets: `aws:SecureTransport` (false unless the server
/// marked the request as TLS), `aws:SourceIp` (the peer) and `aws:UserAgent`.
pub fn connection_keys(ctx: &mut Context, parts: &http::request::Parts) {
    match parts.extensions.get::<SecureTransport>() {
        Some(SecureTransport(true)) => {}
        _ => ctx.set_known("aws:SecureTransport", "false".to_owned()),
    }
    if let Some(ClientAddr(addr)) = parts.extensions.get::<ClientAddr>() {
        ctx.set_known("aws:SourceIp", addr.ip().to_canonical().to_string());
    }
    if let Some(ua) = parts
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
    {
        ctx.set_known("aws:UserAgent", ua.to_owned());
    }
}

/// The credential of access key `akid`: a configured key, or an issued session's.
fn credential_of(shared: &Shared, config: &Config, akid: &str) -> Option<sigv4::Credential> {
    if let Some((_, k)) = config.access_key(akid) {
        return Some(sigv4::Credential::long_term(k.secret_access_key.clone()));
    }
    shared
        .options
        .sessions
        .get(akid)
        .map(|s| sigv4::Credential {
            secret: s.secret.clone(),
            session_token: Some(s.token.clone()),
            expires: Some(s.expires),
        })
}

fn caller_of(shared: &Shared, config: &Arc<Config>, akid: &str) -> Result<CallerRef, WireError> {
    if let Some(i) = config
        .principals
        .iter()
        .position(|p| p.access_keys.iter().any(|k| k.access_key_id == akid))
    {
        return Ok(CallerRef::Configured(i));
    }
    let session = shared
        .options
        .sessions
        .get(akid)
        .ok_or(WireError::UnrecognizedClient)?;
    // A session whose role (or user) is gone, or no longer fully known, may do nothing.
    session
        .principal(config)
        .map(CallerRef::Session)
        .map_err(|e| {
            WireError::fault(
                Fault::OperationNotPermittedFault,
                format!(
                "The credentials of {akid} may do nothing: their session cannot be evaluated ({e})"
            ),
            )
        })
}

impl GateHandle {
    /// [`GateHandle::reload`] without holding up requests: the configuration is read and
    /// compiled on a blocking thread while the one in force keeps serving, and swapped in
    /// only when complete. One reload runs at a time (a second waits for the first); a
    /// load that takes longer than `timeout` is refused.
    pub async fn reload_in_background(
        &self,
        path: &Path,
        timeout: std::time::Duration,
    ) -> Result<(), ConfigError> {
        let _one = self.0.reloading.lock().await;
        let p = path.to_path_buf();
        let started = Instant::now();
        let mut load = tokio::task::spawn_blocking(move || Config::load(&p));
        let refused = |message: String| ConfigError::Io {
            path: path.display().to_string(),
            message,
        };
        let result = match tokio::time::timeout(timeout, &mut load).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(refused(format!("the reload failed: {e}"))),
            Err(_) => {
                tracing::error!(target: "swf_iam::gate", path = %path.display(), "configuration reload took longer than {} s: refused; the previous configuration stays", timeout.as_secs_f64());
                // The load cannot be stopped: wait for it (its result is dropped) before
                // the next reload may start, so that loads never pile up.
                let _ = load.await;
                return Err(refused(format!(
                    "the reload took longer than {} s and was refused",
                    timeout.as_secs_f64()
                )));
            }
        };
        match result {
            Ok(c) => {
                self.0.config.store(Arc::new(c));
                tracing::info!(target: "swf_iam::gate", path = %path.display(), ms = started.elapsed().as_millis() as u64, "configuration reloaded");
                Ok(())
            }
            Err(e) => {
                tracing::error!(target: "swf_iam::gate", path = %path.display(), error = %e, "configuration reload refused; the previous configuration stays");
                Err(e)
            }
        }
    }
}

/// The gate's `Layer`: cheap to clone, shares one configuration.
#[derive(Clone)]
pub struct GateLayer {
    shared: Arc<Shared>,
}

impl GateLayer {
    /// A gate for `config`, resolving task tokens with `resolver`.
    pub fn new(config: Config, resolver: Arc<dyn TaskTokenResolver>) -> Self {
        Self::with_options(config, resolver, GateOptions::default())
    }

    /// A gate with explicit options.
    pub fn with_options(
        config: Config,
        resolver: Arc<dyn TaskTokenResolver>,
        options: GateOptions,
    ) -> Self {
        GateLayer {
            shared: Arc::new(Shared {
                config: ArcSwap::from_pointee(config),
                resolver,
                bodies: BodyBudget::new(options.max_body_total),
                options,
                keys: sigv4::KeyCache::default(),
                reloading: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// A handle to read or reload the configuration.
    pub fn handle(&self) -> GateHandle {
        GateHandle(self.shared.clone())
    }
}

impl<S> tower::Layer<S> for GateLayer {
    type Service = Gate<S>;
    fn layer(&self, inner: S) -> Gate<S> {
        Gate {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The gate service (see the module docs).
#[derive(Clone)]
pub struct Gate<S> {
    inner: S,
    shared: Arc<Shared>,
}

/// Builds SWF's error response, with the decision (if any) in the extensions.
pub fn error_response(e: &WireError, decision: Option<Decision>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(e.body())));
    *resp.status_mut() =
        http::StatusCode::from_u16(e.status()).unwrap_or(http::StatusCode::BAD_REQUEST);
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    if let Ok(v) = http::HeaderValue::from_str(e.short_name()) {
        h.insert("x-amzn-errortype", v);
    }
    if let Ok(v) = http::HeaderValue::from_str(&crate::net::request_id()) {
        h.insert("x-amzn-requestid", v);
    }
    if let Some(d) = decision {
        resp.extensions_mut().insert(d);
    }
    resp
}

/// The boxed future of the gate.
pub type GateFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

type Denial = (WireError, Option<Box<Decision>>);

/// Why [`authorize`] did not allow: a denial, or the domain's tags must be learned first.
enum Refusal {
    Deny(Denial),
    /// IAM denied: the request as it would be authorized (with the denying decision),
    /// and the error strict mode answers with.
    Denied(Box<(Authorized, Map<String, Value>)>, WireError),
    NeedTags(Box<NeedTags>),
}

/// A domain whose tags must be learned, and for whom.
struct NeedTags {
    region: String,
    domain: String,
    caller: Caller,
}

impl From<Denial> for Refusal {
    fn from(d: Denial) -> Self {
        Refusal::Deny(d)
    }
}

impl<S, B, ResBody> tower::Service<Request<B>> for Gate<S>
where
    S: tower::Service<Request<Full<Bytes>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResBody: Send + 'static,
{
    type Response = Response<Either<Full<Bytes>, ResBody>>;
    type Error = S::Error;
    type Future = GateFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The inner service was polled ready; take it and leave a clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        Box::pin(async move {
            let started = Instant::now();
            let (parts, body) = req.into_parts();
            // Held until the answer is ready: the body lives as long as the request.
            let mut share = BodyShare::new(&shared.bodies);
            let bytes = match read_body(
                &parts.headers,
                body,
                shared.options.max_body,
                shared.options.body_timeout,
                &mut share,
            )
            .await
            {
                Ok(b) => b,
                Err(err) => {
                    log_refusal(&parts, &err, started);
                    // The rest of the body is not read: the connection cannot be reused.
                    let mut resp = error_response(&err, None);
                    resp.headers_mut().insert(
                        http::header::CONNECTION,
                        http::HeaderValue::from_static("close"),
                    );
                    return Ok(resp.map(Either::Left));
                }
            };
            let mut outcome = authorize(&shared, &parts, &bytes, false);
            if let Err(Refusal::NeedTags(need)) = &outcome {
                let NeedTags {
                    region,
                    domain,
                    caller,
                } = &**need;
                if let Err(e) = shared
                    .resolver
                    .learn_domain_tags(region, domain, caller.clone())
                    .await
                {
                    tracing::warn!(target: "swf_iam::gate", region = %region, domain = %domain, error = %e, "the domain's tags could not be learned");
                }
                outcome = authorize(&shared, &parts, &bytes, true);
            }
            let enforce = shared.options.enforce;
            let outcome = match outcome {
                // Observe modes: the denied request proceeds (its log line says so).
                Err(Refusal::Denied(auth, _)) if enforce != Enforce::Strict => Ok(*auth),
                other => other,
            };
            let outcome = outcome.map_err(|r| match r {
                Refusal::Deny(d) => d,
                Refusal::Denied(auth, err) => {
                    log_decision(
                        &shared,
                        &parts,
                        &auth.0.decision,
                        &auth.0,
                        &auth.1,
                        auth.0.operation.name,
                        started,
                        enforce,
                    );
                    (err, Some(Box::new(auth.0.decision)))
                }
                // `authorize` with `tags_learned` never asks again; should it, deny.
                Refusal::NeedTags(need) => (
                    WireError::InternalFailure(format!(
                        "the tags of domain {} are not known",
                        need.domain
                    )),
                    None,
                ),
            });
            match outcome {
                Ok((auth, parsed)) => {
                    log_decision(
                        &shared,
                        &parts,
                        &auth.decision,
                        &auth,
                        &parsed,
                        auth.operation.name,
                        started,
                        enforce,
                    );
                    let decision = auth.decision.clone();
                    let mut req = Request::from_parts(parts, Full::new(bytes));
                    req.extensions_mut().insert(auth);
                    req.extensions_mut().insert(ParsedBody(Arc::new(parsed)));
                    let mut resp = inner.call(req).await?;
                    resp.extensions_mut().insert(decision);
                    Ok(resp.map(Either::Right))
                }
                Err((err, decision)) => {
                    // A denial's decision was logged where its context was at hand.
                    if decision.is_none() {
                        log_refusal(&parts, &err, started);
                    }
                    Ok(error_response(&err, decision.map(|d| *d)).map(Either::Left))
                }
            }
        })
    }
}

fn operation_name(parts: &http::request::Parts) -> &str {
    parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix(swfreq::TARGET_PREFIX))
        .unwrap_or("")
}

/// The statement a decision-log line names: for an allow, the identity statement that
/// granted it; otherwise the first deciding statement.
fn deciding_statement(d: &Decision) -> String {
    d.matched_statements
        .iter()
        .find(|m| match d.decision {
            DecisionKind::Allowed => m.policy_type == crate::compile::PolicyType::Identity,
            _ => true,
        })
        .map(MatchedStatement::describe)
        .unwrap_or_default()
}

/// The request's `swf:` condition keys as one JSON object (`{"swf:taskList.name":"workers"}`),
/// for the decision log's `swf_keys` field: what `suggest --with-conditions` reads.
fn swf_keys_json(ctx: &Context) -> String {
    let mut m = Map::new();
    for (k, v) in ctx.iter() {
        if k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("swf:")) {
            let v = match v {
                eval::ContextValue::Single(s) => Value::String(s.clone()),
                eval::ContextValue::Multi(l) => {
                    Value::Array(l.iter().cloned().map(Value::String).collect())
                }
            };
            m.insert(k.to_owned(), v);
        }
    }
    Value::Object(m).to_string()
}

/// The execution a request names (workflow ID, run ID; either may be empty): its
/// `workflowId`/`runId`, its `execution`, or the task its token names.
fn execution_of(shared: &Shared, region: &str, body: &Map<String, Value>) -> (String, String) {
    let s = |o: &Map<String, Value>, k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
    if let Some(t) = body.get("taskToken").and_then(Value::as_str) {
        return shared.resolver.execution(region, t).unwrap_or_default();
    }
    let from = body
        .get("execution")
        .and_then(Value::as_object)
        .unwrap_or(body);
    (
        s(from, "workflowId").unwrap_or_default(),
        s(from, "runId").unwrap_or_default(),
    )
}

#[allow(clippy::too_many_arguments, reason = "one log line's fields")]
fn log_decision(
    shared: &Shared,
    parts: &http::request::Parts,
    d: &Decision,
    auth: &Authorized,
    body: &Map<String, Value>,
    operation: &str,
    started: Instant,
    enforce: Enforce,
) {
    if enforce == Enforce::Off
        || !tracing::enabled!(target: "swf_iam::decision", tracing::Level::INFO)
    {
        return;
    }
    let ctx = &auth.context;
    let (workflow_id, run_id) = execution_of(shared, &auth.region, body);
    let peer = parts
        .extensions
        .get::<ClientAddr>()
        .map(|c| c.0.to_string())
        .unwrap_or_default();
    tracing::info!(
        target: "swf_iam::decision",
        principal = %d.principal,
        operation,
        action = %d.action,
        resource = %d.resource,
        decision = d.decision.as_str(),
        statement = %deciding_statement(d),
        reason = %d.message.as_deref().unwrap_or(""),
        swf_keys = %swf_keys_json(ctx),
        missing_keys = %d.missing_context_keys.join(","),
        workflow_id = %workflow_id,
        run_id = %run_id,
        enforce = enforce.as_str(),
        peer = %peer,
        latency_us = started.elapsed().as_micros() as u64,
        "decision"
    );
}

/// One decision-log line for a decision of `RespondDecisionTaskCompleted` (the call's own
/// line comes first; each decision is authorized, and logged, as its own action).
fn log_decision_level(
    d: &Decision,
    ctx: &Context,
    execution: Option<(&str, &str)>,
    enforce: Enforce,
) {
    if enforce == Enforce::Off
        || !tracing::enabled!(target: "swf_iam::decision", tracing::Level::INFO)
    {
        return;
    }
    tracing::info!(
        target: "swf_iam::decision",
        principal = %d.principal,
        operation = "RespondDecisionTaskCompleted",
        level = "decision",
        action = %d.action,
        resource = %d.resource,
        decision = d.decision.as_str(),
        statement = %deciding_statement(d),
        reason = %d.message.as_deref().unwrap_or(""),
        swf_keys = %swf_keys_json(ctx),
        missing_keys = %d.missing_context_keys.join(","),
        workflow_id = execution.map_or("", |e| e.0),
        run_id = execution.map_or("", |e| e.1),
        enforce = enforce.as_str(),
        "decision"
    );
}

fn log_refusal(parts: &http::request::Parts, err: &WireError, started: Instant) {
    let peer = parts
        .extensions
        .get::<ClientAddr>()
        .map(|c| c.0.to_string())
        .unwrap_or_default();
    let message = err.message();
    if message.starts_with("Credential should be scoped to a valid region") {
        // The way out, for the newcomer whose suite signs for another region.
        tracing::info!(
            target: "swf_iam::decision",
            operation = operation_name(parts),
            decision = "refused",
            error = err.short_name(),
            reason = %message,
            hint = "the configuration's `regions` lists the regions served: add this one, or \"regions\": \"all\" on a loopback test endpoint",
            peer = %peer,
            latency_us = started.elapsed().as_micros() as u64,
            "refused"
        );
        return;
    }
    tracing::info!(
        target: "swf_iam::decision",
        operation = operation_name(parts),
        decision = "refused",
        error = err.short_name(),
        reason = %err.message(),
        peer = %peer,
        latency_us = started.elapsed().as_micros() as u64,
        "refused"
    );
}

/// Authenticates and authorizes one buffered request. Where the domain's tags are not
/// known and the caller's policies read them, asks for them to be learned
/// ([`Refusal::NeedTags`]) unless `tags_learned`, and then denies.
fn authorize(
    shared: &Shared,
    parts: &http::request::Parts,
    body: &[u8],
    tags_learned: bool,
) -> Result<(Authorized, Map<String, Value>), Refusal> {
    let plain = |e: WireError| Refusal::Deny((e, None));
    if parts.method != http::Method::POST {
        return Err(plain(WireError::UnknownOperation(format!(
            "SWF operations are POST requests, not {}",
            parts.method
        ))));
    }
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok());
    let operation = swfreq::operation(target).map_err(plain)?;
    let config = shared.config.load_full();
    let now = (shared.options.clock)();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let secret_of = |akid: &str| credential_of(shared, &config, akid);
    let verified = sigv4::verify_cached(
        parts.method.as_str(),
        path,
        &parts.headers,
        body,
        &secret_of,
        now,
        &sigv4::Endpoint {
            service: "swf",
            target_signed: true,
            regions: &config.regions,
        },
        Some(&shared.keys),
    )
    .map_err(plain)?;
    let caller = caller_of(shared, &config, &verified.access_key_id).map_err(plain)?;
    let pc: &PrincipalConfig = match &caller {
        CallerRef::Configured(i) => config
            .principals
            .get(*i)
            .ok_or_else(|| plain(WireError::UnrecognizedClient))?,
        CallerRef::Session(pc) => pc,
    };
    let body = swfreq::body(body).map_err(plain)?;
    let domain = match swfreq::domain_ref(operation, &body).map_err(plain)? {
        DomainRef::Named(d) => Some(d.to_owned()),
        DomainRef::TaskToken(t) => Some(
            shared
                .resolver
                .resolve(&verified.region, t)
                .map_err(plain)?,
        ),
        DomainRef::None => None,
    };
    // The ARN is built from checked parts only: the region passed the region grammar and
    // the served list, the domain the name rules; a part that fails refuses the request.
    let resource = match &domain {
        Some(d) => {
            DomainArn::format_checked(&config.partition, &verified.region, &config.account, d)
                .map_err(|e| {
                    // A name no ARN can hold: SWF's own validation message where its
                    // model has one (a name longer than 256), else the ARN's.
                    plain(
                        crate::swf::model::validate_input(operation.name, &body)
                            .err()
                            .unwrap_or_else(|| WireError::Validation(e.to_string())),
                    )
                })?
        }
        None => "*".to_owned(),
    };
    // A tagging call names its domain by ARN: it must be this endpoint's ARN of that
    // domain (region and account included), or the call would be authorized on one
    // resource and act on another.
    if operation.domain == crate::swf::catalog::DomainSource::ResourceArn {
        let given = body
            .get("resourceArn")
            .and_then(Value::as_str)
            .unwrap_or("");
        if given != resource {
            return Err(plain(WireError::fault(
                Fault::UnknownResourceFault,
                format!("Unknown resource: {given} (this endpoint serves {resource})"),
            )));
        }
    }
    let mut ctx = Context::over(pc.base_context.clone());
    ctx.set_request_defaults(&verified.region, shared.options.key_now(now));
    connection_keys(&mut ctx, parts);
    if let CallerRef::Session(_) = &caller {
        if let Some(s) = shared.options.sessions.get(&verified.access_key_id) {
            s.age_keys(&mut ctx, now);
        }
    }
    let mut tags_unknown = None;
    if let Some(d) = domain.as_ref().filter(|_| operation.reads_domain_tags()) {
        match shared.resolver.domain_tags(&verified.region, d) {
            Some(tags) => {
                for (k, v) in tags {
                    ctx.set_single(&format!("aws:ResourceTag/{k}"), v);
                }
            }
            // Unknown tags matter only to policies that read them.
            None if pc.compiled.reads_resource_tags() => {
                if !tags_learned {
                    let secret = pc
                        .access_keys
                        .iter()
                        .find(|k| k.access_key_id == verified.access_key_id)
                        .map(|k| k.secret_access_key.clone())
                        .ok_or_else(|| plain(WireError::UnrecognizedClient))?;
                    return Err(Refusal::NeedTags(Box::new(NeedTags {
                        region: verified.region.clone(),
                        domain: d.clone(),
                        caller: Caller {
                            access_key_id: verified.access_key_id.clone(),
                            secret,
                            partition: config.partition.clone(),
                            account: config.account.clone(),
                        },
                    })));
                }
                tags_unknown = Some(d.clone());
            }
            None => {}
        }
    }
    add_keys(&mut ctx, swfreq::condition_keys(operation, &body));
    let action = format!("swf:{}", operation.name);
    let req = EvalRequest {
        principal: &pc.principal,
        action: &action,
        resource: &resource,
        context: &ctx,
    };
    let decision = match tags_unknown {
        // Never an allow that the domain's tags could have denied.
        Some(d) => eval::internal_error(
            &req,
            format!(
                "the tags of domain {d} could not be learned, and the caller's policies read aws:ResourceTag"
            ),
        ),
        None => {
            // The allocation-free path first; the full explanation only for a denial.
            let outcome = eval::decide(&pc.compiled, &req);
            if outcome.decision == DecisionKind::Allowed {
                eval::allowed_decision(&pc.compiled, &req, &outcome)
            } else {
                eval::evaluate(&pc.compiled, &req)
            }
        }
    };
    let denied = (!decision.is_allowed()).then(|| {
        decision.message.clone().unwrap_or_else(|| {
            format!(
                "User: {} is not authorized to perform: {action}",
                pc.principal.caller_arn
            )
        })
    });
    let auth = Authorized {
        config: config.clone(),
        caller: caller.clone(),
        access_key_id: verified.access_key_id.clone(),
        region: verified.region.clone(),
        operation,
        domain,
        resource,
        context: ctx,
        decision,
        enforce: shared.options.enforce,
    };
    match denied {
        Some(message) => Err(Refusal::Denied(
            Box::new((auth, body)),
            WireError::fault(Fault::OperationNotPermittedFault, message),
        )),
        None => Ok((auth, body)),
    }
}
