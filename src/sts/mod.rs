//! STS at the edge, beside the gate: `AssumeRole`, `GetSessionToken` and
//! `GetCallerIdentity` on the endpoint `serve` (or `proxy`) listens on.
//!
//! Requests are routed here by the SigV4 credential scope's service (`sts`); the rest
//! go on to the gate. STS speaks its own protocol (awsQuery): a form-encoded body
//! `Action=...&Version=2011-06-15&...`, XML answers and XML errors, as botocore and the
//! AWS SDKs expect. `AssumeRole` is decided with both the caller's policies and the
//! role's trust policy ([`crate::eval::trust`]).

pub mod api;
pub mod mfa;
pub mod query;

pub mod xml;

use crate::gate::{read_body, sigv4, BodyShare, CallerRef, ClientAddr, GateHandle};
use crate::swf::wire::WireError;
use api::{Call, StsError};
use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{Either, Full};
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

/// STS's API version, the only one answered.
pub const VERSION: &str = "2011-06-15";

/// The service of a request's SigV4 credential scope (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`).
pub fn scope_service(headers: &http::HeaderMap) -> Option<&str> {
    let auth = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let cred = auth.split("Credential=").nth(1)?;
    let cred = cred.split([',', ' ']).next()?;
    cred.split('/').nth(3)
}

/// The layer that answers STS requests on a gated endpoint and passes the rest on.
#[derive(Clone)]
pub struct StsLayer {
    handle: GateHandle,
}

impl StsLayer {
    /// STS over the gate whose configuration, clock and sessions `handle` reaches.
    pub fn new(handle: GateHandle) -> Self {
        StsLayer { handle }
    }
}

impl<S> tower::Layer<S> for StsLayer {
    type Service = Sts<S>;
    fn layer(&self, inner: S) -> Sts<S> {
        Sts {
            inner,
            handle: self.handle.clone(),
        }
    }
}

/// The STS service (see the module docs).
#[derive(Clone)]
pub struct Sts<S> {
    inner: S,
    handle: GateHandle,
}

/// The boxed future of [`Sts`].
pub type StsFuture<T, E> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, E>> + Send>>;

impl<S, B, ResBody> tower::Service<Request<B>> for Sts<S>
where
    S: tower::Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResBody: Send + 'static,
{
    type Response = Response<Either<Full<Bytes>, ResBody>>;
    type Error = S::Error;
    type Future = StsFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if scope_service(req.headers()) != Some("sts") {
            let fut = self.inner.call(req);
            return Box::pin(async move { fut.await.map(|r| r.map(Either::Right)) });
        }
        let handle = self.handle.clone();
        Box::pin(async move { Ok(answer(&handle, req).await.map(Either::Left)) })
    }
}

fn xml_response(status: u16, body: String, request_id: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_REQUEST);
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/xml"),
    );
    if let Ok(v) = http::HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

/// An authentication failure as STS words it.
fn wire_to_sts(e: &WireError) -> StsError {
    match e {
        WireError::MissingAuthenticationToken => {
            StsError::new(403, "MissingAuthenticationToken", e.message())
        }
        WireError::IncompleteSignature(m) => StsError::new(400, "IncompleteSignature", m.clone()),
        WireError::UnrecognizedClient => StsError::new(403, "InvalidClientTokenId", e.message()),
        WireError::ExpiredToken => StsError::new(400, "ExpiredToken", e.message()),
        WireError::InvalidSignature(m) => StsError::new(403, "SignatureDoesNotMatch", m.clone()),
        WireError::Throttling(m) => StsError::new(400, "Throttling", m.clone()),
        WireError::RequestTimeout(m) => StsError::new(408, "RequestTimeout", m.clone()),
        WireError::ServiceUnavailable(m) => StsError::new(503, "ServiceUnavailable", m.clone()),
        WireError::InternalFailure(m) => StsError::new(500, "InternalFailure", m.clone()),
        WireError::Fault(crate::swf::wire::Fault::OperationNotPermittedFault, m) => {
            StsError::new(403, "AccessDenied", m.clone())
        }
        other => StsError::new(400, "InvalidParameterValue", other.message()),
    }
}

async fn answer<B>(handle: &GateHandle, req: Request<B>) -> Response<Full<Bytes>>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let started = Instant::now();
    let request_id = crate::net::request_id();
    let (parts, body) = req.into_parts();
    let mut share = BodyShare::new(handle.bodies());
    let opts = handle.options();
    let bytes = match read_body(
        &parts.headers,
        body,
        opts.max_body,
        opts.body_timeout,
        &mut share,
    )
    .await
    {
        Ok(b) => b,
        Err(e) => {
            let e = wire_to_sts(&e);
            log(&parts, "", e.code, None, started, handle.options().enforce);
            let mut resp = xml_response(e.status, e.body(&request_id), &request_id);
            resp.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
            return resp;
        }
    };
    let (operation, result) = run(handle, &parts, &bytes, &request_id);
    match result {
        Ok((xml, decisions)) => {
            for d in &decisions {
                log(
                    &parts,
                    operation,
                    d.decision.as_str(),
                    Some(d),
                    started,
                    handle.options().enforce,
                );
            }
            if decisions.is_empty() {
                log(
                    &parts,
                    operation,
                    "answered",
                    None,
                    started,
                    handle.options().enforce,
                );
            }
            xml_response(200, xml, &request_id)
        }
        Err(e) => {
            log(
                &parts,
                operation,
                e.code,
                e.decision.as_deref(),
                started,
                handle.options().enforce,
            );
            xml_response(e.status, e.body(&request_id), &request_id)
        }
    }
}

fn log(
    parts: &http::request::Parts,
    operation: &str,
    outcome: &str,
    d: Option<&crate::eval::Decision>,
    started: Instant,
    enforce: crate::gate::Enforce,
) {
    if enforce == crate::gate::Enforce::Off && d.is_some() {
        return;
    }
    let peer = parts
        .extensions
        .get::<ClientAddr>()
        .map(|c| c.0.to_string())
        .unwrap_or_default();
    match d {
        Some(d) => tracing::info!(
            target: "swf_iam::decision",
            service = "sts",
            principal = %d.principal,
            operation,
            action = %d.action,
            resource = %d.resource,
            decision = d.decision.as_str(),
            reason = %d.message.as_deref().unwrap_or(""),
            enforce = enforce.as_str(),
            peer = %peer,
            latency_us = started.elapsed().as_micros() as u64,
            "decision"
        ),
        None => tracing::info!(
            target: "swf_iam::decision",
            service = "sts",
            operation,
            decision = outcome,
            peer = %peer,
            latency_us = started.elapsed().as_micros() as u64,
            "sts"
        ),
    }
}

type Answer = Result<(String, Vec<crate::eval::Decision>), StsError>;

/// Authenticates and answers one buffered STS request: the operation's name, and the
/// XML body with the decisions made (or the error).
fn run(
    handle: &GateHandle,
    parts: &http::request::Parts,
    body: &[u8],
    request_id: &str,
) -> (&'static str, Answer) {
    let config = handle.config();
    let now = (handle.options().clock)();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    // STS's global endpoint signs for us-east-1: served beside the configured regions.
    let mut regions = config.regions.clone();
    if !regions.iter().any(|r| r == "us-east-1") && config.partition == "aws" {
        regions.push("us-east-1".into());
    }
    let sessions = handle.options().sessions.clone();
    let credential_of = |akid: &str| handle.credential(&config, akid);
    let verified = match sigv4::verify_cached(
        parts.method.as_str(),
        path,
        &parts.headers,
        body,
        &credential_of,
        now,
        &sigv4::Endpoint {
            service: "sts",
            target_signed: false,
            regions: &regions,
        },
        Some(handle.keys()),
    ) {
        Ok(v) => v,
        Err(e) => return ("", Err(wire_to_sts(&e))),
    };
    // The parameters: the body of a POST, or the query of a GET (both signed).
    let text = if parts.method == http::Method::POST {
        match std::str::from_utf8(body) {
            Ok(t) => t.to_owned(),
            Err(_) => {
                return (
                    "",
                    Err(StsError::new(
                        400,
                        "MalformedQueryString",
                        "the body is not UTF-8",
                    )),
                )
            }
        }
    } else {
        parts.uri.query().unwrap_or("").to_owned()
    };
    let form = match query::Form::parse(&text) {
        Ok(f) => f,
        Err(e) => return ("", Err(StsError::new(400, "MalformedQueryString", e))),
    };
    let Some(action) = form.get("Action") else {
        return (
            "",
            Err(StsError::new(400, "MissingAction", "Missing Action")),
        );
    };
    let operation: &'static str = match action {
        "AssumeRole" => "AssumeRole",
        "GetSessionToken" => "GetSessionToken",
        "GetCallerIdentity" => "GetCallerIdentity",
        other => {
            return (
                "",
                Err(StsError::new(
                    400,
                    "InvalidAction",
                    format!("Could not find operation {other} for version {VERSION} (swf-iam answers AssumeRole, GetSessionToken and GetCallerIdentity)"),
                )),
            )
        }
    };
    if form.get("Version") != Some(VERSION) {
        return (
            operation,
            Err(StsError::new(
                400,
                "InvalidAction",
                format!(
                    "Could not find operation {operation} for version {}",
                    form.get("Version").unwrap_or("NO_VERSION_SPECIFIED")
                ),
            )),
        );
    }
    let caller = match handle.caller_of(&config, &verified.access_key_id) {
        Ok(c) => c,
        Err(e) => return (operation, Err(wire_to_sts(&e))),
    };
    let (pc, session, long_term) = match &caller {
        CallerRef::Configured(i) => match config.principals.get(*i) {
            Some(p) => (std::borrow::Cow::Borrowed(p), None, true),
            None => return (operation, Err(wire_to_sts(&WireError::UnrecognizedClient))),
        },
        CallerRef::Session(p) => (
            std::borrow::Cow::Owned((**p).clone()),
            sessions.get(&verified.access_key_id),
            false,
        ),
    };
    let mut ctx = crate::eval::Context::over(pc.base_context.clone());
    ctx.set_request_defaults(&verified.region, handle.options().key_now(now));
    crate::gate::connection_keys(&mut ctx, parts);
    if let Some(s) = &session {
        s.age_keys(&mut ctx, now);
    }
    let call = Call {
        config: &config,
        caller: &pc,
        session,
        long_term,
        context: ctx,
        now,
        sessions: &sessions,
        enforce: handle.options().enforce,
    };
    let result = match operation {
        "AssumeRole" => api::assume_role(&call, &form, request_id),
        "GetSessionToken" => {
            api::get_session_token(&call, &form, request_id).map(|x| (x, Vec::new()))
        }
        _ => Ok((api::get_caller_identity(&call, request_id), Vec::new())),
    };
    (operation, result)
}
