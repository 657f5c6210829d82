//! Proxy mode: the gate in front of another SWF endpoint (moto's server, LocalStack).
//!
//! What reaches the upstream is rebuilt from what the gate authorized, never copied
//! from the client: `POST /` to the upstream's host, the authorized operation in
//! `X-Amz-Target`, the body the gate parsed (checked against SWF's model), the
//! authorized account in `x-moto-account-id`, and a signature made again with the
//! caller's configured key for the authorized region. A client's other headers
//! (`User-Agent: region/...`, `Host: swf.REGION.amazonaws.com`, `x-moto-account-id`) and
//! paths (`/moto-api/...`) cannot pick another region, account or operation: a path
//! other than `/` is refused before it reaches the upstream. The upstream's answer is
//! returned unchanged; denied requests are answered by the gate and never reach it.
//!
//! Task tokens are learned from `PollForActivityTask`/`PollForDecisionTask` answers
//! ([`TokenBook`]); a token the proxy never saw fails closed. In envelope mode the proxy
//! hands out tokens wrapped in an HMAC-signed envelope that carries the domain, so any
//! replica sharing the key can resolve any token, and a tampered token is refused.
//!
//! Domain tags (`aws:ResourceTag/*`) are learned from what passes through
//! (`RegisterDomain`, `TagResource`, `UntagResource`, `ListTagsForResource`) and, for a
//! caller whose policies read them, asked of the upstream (`ListTagsForResource`, signed
//! with the caller's key) when not known or older than the tag TTL; where they cannot be
//! learned the request is denied ([`ProxyResolver`]).
//!
//! Two cases rewrite a request body: an envelope token is unwrapped, or a denied
//! decision is removed from `RespondDecisionTaskCompleted` (the upstream cannot record
//! `*Failed` events; `strict_decisions` refuses the whole call instead). A decision
//! whose type SWF does not know is refused with the whole call.

use crate::config::Secret;
use crate::gate::sigv4::Signer;
use crate::gate::{error_response, Authorized, Caller, ParsedBody, TaskTokenResolver, Verdict};
use crate::swf::wire::{Fault, WireError};
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Map, Value};
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

const ENVELOPE_PREFIX: &str = "swfiam2.";

/// How the proxy behaves.
#[derive(Clone)]
pub struct ProxyOptions {
    /// The upstream's base URI (`http://127.0.0.1:5000`).
    pub upstream: http::Uri,
    /// How long to wait for the upstream's answer.
    pub timeout: Duration,
    /// How long a learned task token stays known.
    pub token_ttl: Duration,
    /// How many learned tokens are kept (the oldest are forgotten first).
    pub max_tokens: usize,
    /// The envelope key; `None` keeps tokens as the upstream issued them.
    pub envelope_key: Option<Secret>,
    /// Refuse a whole `RespondDecisionTaskCompleted` with a denied decision, instead of
    /// removing the denied decisions.
    pub strict_decisions: bool,
    /// Largest upstream answer read, in bytes.
    pub max_response: usize,
    /// Most upstream requests in flight (and idle pooled upstream connections); a
    /// request that cannot get a slot within `timeout` is answered 503.
    pub max_upstream: usize,
    /// How long learned domain tags are trusted before the upstream is asked again (for
    /// callers whose policies read them): tags changed behind the proxy's back are seen
    /// within it; changes made through the proxy at once.
    pub tag_ttl: Duration,
}

impl std::fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyOptions")
            .field("upstream", &self.upstream)
            .field("timeout", &self.timeout)
            .field("envelope", &self.envelope_key.is_some())
            .finish_non_exhaustive()
    }
}

impl ProxyOptions {
    /// Defaults for `upstream`: 70 s timeout (longer than a 60 s long poll), tokens kept
    /// 24 h (SWF's page-token lifetime) up to 100,000, no envelope, lenient decisions.
    pub fn new(upstream: http::Uri) -> Self {
        ProxyOptions {
            upstream,
            timeout: Duration::from_secs(70),
            token_ttl: Duration::from_secs(24 * 3600),
            max_tokens: 100_000,
            envelope_key: None,
            strict_decisions: false,
            max_response: 64 << 20,
            max_upstream: 1024,
            tag_ttl: Duration::from_secs(5),
        }
    }
}

/// Learned tokens: token → (region, domain, expiry), and the order they were learned in.
type Known = (HashMap<String, (String, String, Instant)>, VecDeque<String>);

/// Learned domain tags: (region, domain) → (tags, when learned).
type Tags = HashMap<(String, String), (Vec<(String, String)>, Instant)>;

/// The task tokens the proxy has seen, the domain tags it has learned, and the envelope
/// codec.
pub struct TokenBook {
    known: Mutex<Known>,
    tags: Mutex<Tags>,
    ttl: Duration,
    tag_ttl: Duration,
    max: usize,
    key: Option<Secret>,
}

impl std::fmt::Debug for TokenBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenBook")
            .field("ttl", &self.ttl)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

fn not_permitted(why: &str) -> WireError {
    WireError::fault(Fault::OperationNotPermittedFault, why)
}

impl TokenBook {
    /// A book for the options' TTL, bound and envelope key.
    pub fn new(opts: &ProxyOptions) -> Self {
        TokenBook {
            known: Mutex::new((HashMap::new(), VecDeque::new())),
            tags: Mutex::new(HashMap::new()),
            ttl: opts.token_ttl,
            tag_ttl: opts.tag_ttl,
            max: opts.max_tokens.max(1),
            key: opts.envelope_key.clone(),
        }
    }

    /// Forgets every learned token and tag (after the upstream was reset).
    pub fn clear(&self) {
        if let Ok(mut g) = self.known.lock() {
            g.0.clear();
            g.1.clear();
        }
        if let Ok(mut t) = self.tags.lock() {
            t.clear();
        }
    }

    /// The tags of `domain` in `region`, if learned within the tag TTL.
    pub fn tags(&self, region: &str, domain: &str) -> Option<Vec<(String, String)>> {
        let g = self.tags.lock().ok()?;
        let (tags, at) = g.get(&(region.to_owned(), domain.to_owned()))?;
        (at.elapsed() < self.tag_ttl).then(|| tags.clone())
    }

    /// Sets, adds or removes the tags of `domain` in `region` as a call that succeeded
    /// upstream did. Adding or removing on tags not known makes them unknown (the
    /// upstream is asked next time), never a guess.
    pub fn learn_tags(&self, region: &str, domain: &str, change: TagChange<'_>) {
        let Ok(mut g) = self.tags.lock() else {
            return;
        };
        if g.len() >= self.max {
            g.clear();
        }
        let key = (region.to_owned(), domain.to_owned());
        let fresh = |e: &(Vec<(String, String)>, Instant)| e.1.elapsed() < self.tag_ttl;
        match change {
            TagChange::Set(tags) => {
                g.insert(key, (tags, Instant::now()));
            }
            TagChange::Add(tags) => match g.get_mut(&key) {
                Some(e) if fresh(e) => {
                    for (k, v) in tags {
                        match e.0.iter_mut().find(|(x, _)| *x == k) {
                            Some(slot) => slot.1 = v,
                            None => e.0.push((k, v)),
                        }
                    }
                }
                _ => {
                    g.remove(&key);
                }
            },
            TagChange::Remove(keys) => match g.get_mut(&key) {
                Some(e) if fresh(e) => e.0.retain(|(k, _)| !keys.contains(&k.as_str())),
                _ => {
                    g.remove(&key);
                }
            },
        }
    }

    /// Remembers that `token` was issued in `region` for a task of `domain`.
    pub fn learn(&self, region: &str, token: &str, domain: &str) {
        if let Ok(mut g) = self.known.lock() {
            let (map, order) = &mut *g;
            if map
                .insert(
                    token.to_owned(),
                    (
                        region.to_owned(),
                        domain.to_owned(),
                        Instant::now() + self.ttl,
                    ),
                )
                .is_none()
            {
                order.push_back(token.to_owned());
            }
            while map.len() > self.max {
                match order.pop_front() {
                    Some(old) => {
                        map.remove(&old);
                    }
                    None => break,
                }
            }
        }
    }

    fn mac(&self, region: &str, domain: &str, token: &str) -> Option<Vec<u8>> {
        let key = self.key.as_ref()?;
        let mut m = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()).ok()?;
        m.update(region.as_bytes());
        m.update(b"\n");
        m.update(domain.as_bytes());
        m.update(b"\n");
        m.update(token.as_bytes());
        Some(m.finalize().into_bytes().to_vec())
    }

    /// Wraps an upstream token issued in `region` in an envelope (if a key is set).
    pub fn wrap(&self, region: &str, token: &str, domain: &str) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        match self.mac(region, domain, token) {
            Some(mac) => format!(
                "{ENVELOPE_PREFIX}{}.{}.{}.{}",
                b64.encode(region),
                b64.encode(domain),
                b64.encode(token),
                b64.encode(mac)
            ),
            None => token.to_owned(),
        }
    }

    /// Opens an envelope: (region, domain, upstream token). `None` if it is not a valid
    /// envelope of this key.
    pub fn unwrap_envelope(&self, token: &str) -> Option<(String, String, String)> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let rest = token.strip_prefix(ENVELOPE_PREFIX)?;
        let mut parts = rest.split('.');
        let (r, d, t, m) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let region = String::from_utf8(b64.decode(r).ok()?).ok()?;
        let domain = String::from_utf8(b64.decode(d).ok()?).ok()?;
        let inner = String::from_utf8(b64.decode(t).ok()?).ok()?;
        let given = b64.decode(m).ok()?;
        let expected = self.mac(&region, &domain, &inner)?;
        use subtle::ConstantTimeEq;
        (expected.ct_eq(&given).unwrap_u8() == 1).then_some((region, domain, inner))
    }
}

/// How a call changed a domain's tags.
#[derive(Debug)]
pub enum TagChange<'a> {
    /// The tags are these (`RegisterDomain`, `ListTagsForResource`).
    Set(Vec<(String, String)>),
    /// These were added or replaced (`TagResource`).
    Add(Vec<(String, String)>),
    /// These keys were removed (`UntagResource`).
    Remove(Vec<&'a str>),
}

/// The `tags` member of an SWF body or answer (`[{"key": K, "value": V}]`).
fn tag_list(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|t| {
                    Some((
                        t.get("key")?.as_str()?.to_owned(),
                        t.get("value")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

impl TaskTokenResolver for TokenBook {
    fn resolve(&self, region: &str, token: &str) -> Result<String, WireError> {
        if self.key.is_some() {
            return self
                .unwrap_envelope(token)
                .filter(|(r, _, _)| r == region)
                .map(|(_, d, _)| d)
                .ok_or_else(|| not_permitted("swf-iam proxy: the task token is not a valid envelope issued by this proxy's key; its domain cannot be authorized"));
        }
        let g = self
            .known
            .lock()
            .map_err(|_| WireError::InternalFailure("token book poisoned".into()))?;
        match g.0.get(token) {
            Some((r, domain, until)) if r == region && *until > Instant::now() => {
                Ok(domain.clone())
            }
            _ => Err(not_permitted(
                "swf-iam proxy: the task token was not issued through this proxy (or has expired); its domain cannot be authorized",
            )),
        }
    }
}

/// The proxy's tower service (behind the gate): forwards to the upstream.
#[derive(Clone)]
pub struct ProxyService {
    client: Client<HttpConnector, Full<Bytes>>,
    opts: Arc<ProxyOptions>,
    book: Arc<TokenBook>,
    slots: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for ProxyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyService")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl ProxyService {
    /// A proxy to `opts.upstream`, sharing `book` with the gate's resolver.
    pub fn new(opts: ProxyOptions, book: Arc<TokenBook>) -> Self {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(opts.timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(opts.max_upstream.max(1))
            .build(http);
        ProxyService {
            client,
            slots: Arc::new(tokio::sync::Semaphore::new(opts.max_upstream.max(1))),
            opts: Arc::new(opts),
            book,
        }
    }

    /// The request sent upstream for `operation`: rebuilt from what was authorized (see
    /// the module docs), signed with `caller`'s key for `region` at `amz_date`.
    fn upstream_request(
        &self,
        operation: &str,
        body: Bytes,
        region: &str,
        amz_date: &str,
        caller: &Caller,
    ) -> Result<Request<Full<Bytes>>, WireError> {
        let internal = |e: &dyn std::fmt::Display| WireError::InternalFailure(e.to_string());
        let mut up = http::uri::Parts::from(self.opts.upstream.clone());
        up.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
        let uri = http::Uri::from_parts(up).map_err(|e| internal(&e))?;
        let authority = self
            .opts
            .upstream
            .authority()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default();
        let value = |v: &str| http::HeaderValue::from_str(v).map_err(|e| internal(&e));
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::HOST, value(&authority)?);
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-amz-json-1.0"),
        );
        headers.insert(
            "x-amz-target",
            value(&format!(
                "{}{operation}",
                crate::swf::request::TARGET_PREFIX
            ))?,
        );
        headers.insert("x-amz-date", value(amz_date)?);
        // moto's server picks the account from this header: the account authorized.
        headers.insert("x-moto-account-id", value(&caller.account)?);
        let authorization = Signer {
            access_key_id: &caller.access_key_id,
            secret: &caller.secret,
            region,
            service: "swf",
        }
        .sign("POST", "/", &headers, &body)?;
        headers.insert(http::header::AUTHORIZATION, value(&authorization)?);
        headers.insert(
            http::header::USER_AGENT,
            http::HeaderValue::from_static(concat!("swf-iam-proxy/", env!("CARGO_PKG_VERSION"))),
        );
        let mut req = Request::post(uri)
            .body(Full::new(body))
            .map_err(|e| internal(&e))?;
        *req.headers_mut() = headers;
        Ok(req)
    }

    /// Sends `req` upstream within the slot and time bounds; the answer's head and body.
    async fn send(
        &self,
        req: Request<Full<Bytes>>,
    ) -> Result<(http::response::Parts, Bytes), WireError> {
        let upstream = self.opts.upstream.to_string();
        let _slot =
            match tokio::time::timeout(self.opts.timeout, self.slots.clone().acquire_owned()).await
            {
                Ok(Ok(slot)) => slot,
                _ => {
                    return Err(WireError::ServiceUnavailable(format!(
                        "swf-iam proxy: all {} upstream slots stayed busy for {} s",
                        self.opts.max_upstream,
                        self.opts.timeout.as_secs_f64()
                    )))
                }
            };
        let resp = match tokio::time::timeout(self.opts.timeout, self.client.request(req)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                return Err(WireError::ServiceUnavailable(format!(
                    "swf-iam proxy: upstream {upstream} is unreachable: {e}"
                )))
            }
            Err(_) => {
                return Err(WireError::ServiceUnavailable(format!(
                    "swf-iam proxy: upstream {upstream} did not answer within {} s",
                    self.opts.timeout.as_secs_f64()
                )))
            }
        };
        let (rparts, rbody) = resp.into_parts();
        let rbytes = Limited::new(rbody, self.opts.max_response)
            .collect()
            .await
            .map_err(|e| {
                WireError::ServiceUnavailable(format!(
                    "swf-iam proxy: reading the upstream's answer failed: {e}"
                ))
            })?
            .to_bytes();
        Ok((rparts, rbytes))
    }

    /// Asks the upstream for the tags of `domain` in `region` (`ListTagsForResource`,
    /// signed as `caller`) and remembers them.
    pub async fn fetch_tags(
        &self,
        region: &str,
        domain: &str,
        caller: &Caller,
    ) -> Result<(), String> {
        let arn = crate::swf::arn::DomainArn::format_checked(
            &caller.partition,
            region,
            &caller.account,
            domain,
        )
        .map_err(|e| e.to_string())?;
        let body = Bytes::from(serde_json::json!({ "resourceArn": arn }).to_string());
        let now = crate::values::now_epoch();
        let amz_date = crate::gate::sigv4::format_amz_date(now);
        let req = self
            .upstream_request("ListTagsForResource", body, region, &amz_date, caller)
            .map_err(|e| e.to_string())?;
        let (parts, bytes) = self.send(req).await.map_err(|e| e.to_string())?;
        if !parts.status.is_success() {
            return Err(format!(
                "the upstream answered ListTagsForResource with {}: {}",
                parts.status,
                String::from_utf8_lossy(&bytes)
            ));
        }
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("the upstream's ListTagsForResource answer is not JSON: {e}"))?;
        if !v.get("tags").is_some_and(Value::is_array) {
            return Err("the upstream's ListTagsForResource answer has no `tags` list".into());
        }
        self.book
            .learn_tags(region, domain, TagChange::Set(tag_list(v.get("tags"))));
        Ok(())
    }

    /// Applies the configuration's `register` through the upstream, in the default
    /// region and account, signed with the first configured key: what is registered
    /// already (`DomainAlreadyExistsFault`, `TypeAlreadyExistsFault`) is fine. Says what
    /// happened, one entry a registration.
    pub async fn register_upstream(
        &self,
        config: &crate::config::Config,
    ) -> Result<Vec<String>, String> {
        let mut done = Vec::new();
        if config.registrations.is_empty() {
            return Ok(done);
        }
        let Some(key) = config.principals.iter().flat_map(|p| &p.access_keys).next() else {
            return Err(
                "the configuration's `register` needs a principal with an access key to sign with"
                    .into(),
            );
        };
        let caller = Caller {
            access_key_id: key.access_key_id.clone(),
            secret: key.secret_access_key.clone(),
            partition: config.partition.clone(),
            account: config.account.clone(),
        };
        for r in &config.registrations {
            let name = r.body.get("name").and_then(Value::as_str).unwrap_or("?");
            let what = r.describe();
            let body =
                Bytes::from(serde_json::to_vec(&r.body).map_err(|e| format!("{}: {e}", r.at))?);
            let amz_date = crate::gate::sigv4::format_amz_date(crate::values::now_epoch());
            let req = self
                .upstream_request(r.operation, body, &config.region, &amz_date, &caller)
                .map_err(|e| e.to_string())?;
            let (parts, bytes) = self.send(req).await.map_err(|e| e.to_string())?;
            if parts.status.is_success() {
                if r.operation == "RegisterDomain" {
                    self.book.learn_tags(
                        &config.region,
                        name,
                        TagChange::Set(tag_list(r.body.get("tags"))),
                    );
                }
                done.push(what);
                continue;
            }
            let answer = String::from_utf8_lossy(&bytes);
            if answer.contains("DomainAlreadyExistsFault")
                || answer.contains("TypeAlreadyExistsFault")
            {
                done.push(format!("{what} (already there)"));
                continue;
            }
            return Err(format!(
                "{}: {} through the upstream {} failed: {} {answer}",
                r.at, r.operation, self.opts.upstream, parts.status
            ));
        }
        Ok(done)
    }

    /// Resets the upstream (`POST /moto-api/reset`, moto's convention) and clears the
    /// token book: tokens the upstream issued before are gone with its state.
    pub async fn reset_upstream(&self) -> Result<(), String> {
        let mut up = http::uri::Parts::from(self.opts.upstream.clone());
        up.path_and_query = Some(http::uri::PathAndQuery::from_static("/moto-api/reset"));
        let uri = http::Uri::from_parts(up).map_err(|e| e.to_string())?;
        let req = Request::post(uri)
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let upstream = self.opts.upstream.to_string();
        let resp = tokio::time::timeout(self.opts.timeout, self.client.request(req))
            .await
            .map_err(|_| format!("upstream {upstream} did not answer the reset in time"))?
            .map_err(|e| format!("upstream {upstream} is unreachable: {e}"))?;
        self.book.clear();
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!(
                "upstream {upstream} answered the reset with {}",
                resp.status()
            ))
        }
    }

    async fn forward(&self, req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, WireError> {
        let (parts, _) = req.into_parts();
        // Only what the gate authorized goes upstream: without it, nothing does.
        let auth = parts
            .extensions
            .get::<Authorized>()
            .cloned()
            .ok_or_else(|| {
                WireError::InternalFailure(
                    "swf-iam proxy: a request reached the proxy unauthorized".into(),
                )
            })?;
        let parsed = parts
            .extensions
            .get::<ParsedBody>()
            .map(|p| p.0.clone())
            .ok_or_else(|| {
                WireError::InternalFailure("swf-iam proxy: the authorized body is missing".into())
            })?;
        // SWF is served at `/`: any other path (moto's `/moto-api/...`) is refused here.
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        if path != "/" {
            return Err(WireError::UnknownOperation(format!(
                "swf-iam proxy: SWF requests are sent to `/`, not `{path}`; nothing was forwarded"
            )));
        }
        let op = auth.operation.name;
        // What the upstream receives conforms to SWF's model, as SWF would insist.
        crate::swf::model::validate_input(op, &parsed)?;

        // Rewrite the body where needed: unwrap an envelope token, remove denied decisions.
        let mut rewritten: Option<Map<String, Value>> = None;
        if self.opts.envelope_key.is_some() {
            if let Some(t) = parsed.get("taskToken").and_then(Value::as_str) {
                let (_, _, inner) = self
                    .book
                    .unwrap_envelope(t)
                    .ok_or_else(|| not_permitted("swf-iam proxy: invalid task token envelope"))?;
                let mut m = (*parsed).clone();
                m.insert("taskToken".into(), Value::String(inner));
                rewritten = Some(m);
            }
        }
        if op == "RespondDecisionTaskCompleted" {
            if let Some(decisions) = parsed.get("decisions").and_then(Value::as_array) {
                let mut kept = Vec::with_capacity(decisions.len());
                for (d, verdict) in decisions.iter().zip(auth.verdicts(decisions)) {
                    match verdict {
                        Verdict::Allowed(_) | Verdict::NoAction => kept.push(d.clone()),
                        // A decision SWF does not know cannot be authorized: the whole
                        // call is refused, never forwarded unchecked.
                        Verdict::Unknown(ty) => {
                            return Err(WireError::Validation(format!(
                                "swf-iam proxy: decisionType `{ty}` is not a decision SWF knows; nothing was forwarded"
                            )))
                        }
                        Verdict::Denied(v) => {
                            tracing::info!(target: "swf_iam::proxy", principal = %v.principal,
                                action = %v.action, resource = %v.resource, "denied decision removed before forwarding");
                            if self.opts.strict_decisions {
                                return Err(not_permitted(&v.message.unwrap_or_default()));
                            }
                        }
                    }
                }
                if kept.len() != decisions.len() {
                    let mut m = rewritten.take().unwrap_or_else(|| (*parsed).clone());
                    m.insert("decisions".into(), Value::Array(kept));
                    rewritten = Some(m);
                }
            }
        }
        let body = match &rewritten {
            Some(m) => m,
            None => &*parsed,
        };
        let bytes = Bytes::from(
            serde_json::to_vec(body).map_err(|e| WireError::InternalFailure(e.to_string()))?,
        );
        // The caller's own keys (its index is known): no search through the principals.
        let secret = auth
            .principal()
            .and_then(|p| {
                p.access_keys
                    .iter()
                    .find(|k| k.access_key_id == auth.access_key_id)
            })
            .map(|k| k.secret_access_key.clone())
            .ok_or_else(|| {
                WireError::InternalFailure("the caller's key is no longer configured".into())
            })?;
        let caller = Caller {
            access_key_id: auth.access_key_id.clone(),
            secret,
            partition: auth.config.partition.clone(),
            account: auth.config.account.clone(),
        };
        // The client's signed date (verified by the gate) dates the new signature.
        let amz_date = parts
            .headers
            .get("x-amz-date")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| crate::gate::sigv4::format_amz_date(crate::values::now_epoch()));
        let up = self.upstream_request(op, bytes, &auth.region, &amz_date, &caller)?;
        let (mut rparts, mut rbytes) = self.send(up).await?;
        if rparts.status.is_success() {
            self.learn(&auth, &parsed, &mut rparts, &mut rbytes)?;
        }
        Ok(Response::from_parts(rparts, Full::new(rbytes)))
    }

    /// What a successful answer teaches: task tokens handed out by polls (wrapped in
    /// envelopes in envelope mode), and domain tags set, changed or listed.
    fn learn(
        &self,
        auth: &Authorized,
        body: &Map<String, Value>,
        rparts: &mut http::response::Parts,
        rbytes: &mut Bytes,
    ) -> Result<(), WireError> {
        let region = auth.region.as_str();
        let domain = auth.domain.as_deref().unwrap_or("");
        match auth.operation.name {
            "PollForActivityTask" | "PollForDecisionTask" => {
                let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(rbytes) else {
                    return Ok(());
                };
                let Some(t) = m
                    .get("taskToken")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                else {
                    return Ok(());
                };
                self.book.learn(region, &t, domain);
                if self.opts.envelope_key.is_some() {
                    m.insert(
                        "taskToken".into(),
                        Value::String(self.book.wrap(region, &t, domain)),
                    );
                    *rbytes = Bytes::from(
                        serde_json::to_vec(&m)
                            .map_err(|e| WireError::InternalFailure(e.to_string()))?,
                    );
                    rparts.headers.remove(http::header::CONTENT_LENGTH);
                }
            }
            "RegisterDomain" => {
                self.book
                    .learn_tags(region, domain, TagChange::Set(tag_list(body.get("tags"))));
            }
            "TagResource" => {
                self.book
                    .learn_tags(region, domain, TagChange::Add(tag_list(body.get("tags"))));
            }
            "UntagResource" => {
                let keys: Vec<&str> = body
                    .get("tagKeys")
                    .and_then(Value::as_array)
                    .map(|k| k.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                self.book
                    .learn_tags(region, domain, TagChange::Remove(keys));
            }
            "ListTagsForResource" => {
                if let Ok(v) = serde_json::from_slice::<Value>(rbytes) {
                    if v.get("tags").is_some_and(Value::is_array) {
                        self.book.learn_tags(
                            region,
                            domain,
                            TagChange::Set(tag_list(v.get("tags"))),
                        );
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The proxy's resolver: task tokens from the [`TokenBook`], and domain tags from it or,
/// when not known, from the upstream.
#[derive(Debug, Clone)]
pub struct ProxyResolver(pub ProxyService);

impl TaskTokenResolver for ProxyResolver {
    fn resolve(&self, region: &str, token: &str) -> Result<String, WireError> {
        self.0.book.resolve(region, token)
    }

    fn domain_tags(&self, region: &str, domain: &str) -> Option<Vec<(String, String)>> {
        self.0.book.tags(region, domain)
    }

    fn learn_domain_tags<'a>(
        &'a self,
        region: &'a str,
        domain: &'a str,
        caller: Caller,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move { self.0.fetch_tags(region, domain, &caller).await })
    }
}

impl tower::Service<Request<Full<Bytes>>> for ProxyService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Full<Bytes>>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            Ok(match this.forward(req).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(target: "swf_iam::proxy", error = %e, "request not forwarded");
                    error_response(&e, None)
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(key: Option<&str>, max: usize) -> TokenBook {
        let mut o = ProxyOptions::new("http://127.0.0.1:1".parse().unwrap());
        o.envelope_key = key.map(Secret::new);
        o.max_tokens = max;
        TokenBook::new(&o)
    }

    #[test]
    fn learned_tokens_resolve_and_unknown_ones_fail_closed() {
        let b = book(None, 2);
        b.learn("us-east-1", "t1", "orders");
        assert_eq!(b.resolve("us-east-1", "t1").unwrap(), "orders");
        assert!(
            b.resolve("us-west-2", "t1").is_err(),
            "a token is known only in the region that issued it"
        );
        assert!(matches!(
            b.resolve("us-east-1", "t0"),
            Err(WireError::Fault(Fault::OperationNotPermittedFault, _))
        ));
        b.learn("us-east-1", "t2", "a");
        b.learn("us-east-1", "t3", "b");
        assert!(
            b.resolve("us-east-1", "t1").is_err(),
            "the oldest is forgotten past the bound"
        );
        assert_eq!(b.resolve("us-east-1", "t3").unwrap(), "b");
    }

    #[test]
    fn envelopes_carry_the_domain_and_refuse_tampering() {
        let b = book(Some("k1"), 10);
        let r = "us-east-1";
        let e = b.wrap(r, "moto-token", "orders");
        assert!(e.starts_with(ENVELOPE_PREFIX));
        assert!(e.len() <= 1024);
        assert_eq!(b.resolve(r, &e).unwrap(), "orders");
        assert_eq!(b.unwrap_envelope(&e).unwrap().2, "moto-token");
        assert!(
            b.resolve("eu-west-1", &e).is_err(),
            "an envelope is valid only in its region"
        );
        // Another replica with the same key resolves it; another key does not.
        assert_eq!(book(Some("k1"), 1).resolve(r, &e).unwrap(), "orders");
        assert!(book(Some("k2"), 1).resolve(r, &e).is_err());
        // Changing the domain or the region part breaks the MAC.
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let parts: Vec<&str> = e.split('.').collect();
        let forged = format!(
            "{}.{}.{}.{}.{}",
            parts[0],
            parts[1],
            b64.encode("billing"),
            parts[3],
            parts[4]
        );
        assert!(b.resolve(r, &forged).is_err());
        let moved = format!(
            "{}.{}.{}.{}.{}",
            parts[0],
            b64.encode("eu-west-1"),
            parts[2],
            parts[3],
            parts[4]
        );
        assert!(b.resolve("eu-west-1", &moved).is_err());
        assert!(
            b.resolve(r, "moto-token").is_err(),
            "bare tokens are refused in envelope mode"
        );
    }
}
