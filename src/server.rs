//! A small HTTP/1.1 server loop for tower services: keep-alive connections, the peer
//! address in each request's extensions ([`crate::net::ClientAddr`]), graceful
//! shutdown, and the bounds every connection lives within ([`Limits`]).
//!
//! Bounds (each a flag of `serve` and `proxy`):
//! - **header timeout**: a request head must be complete within it, counted from accept
//!   for a connection's first request (so a socket that never sends a byte is closed
//!   too) and from the head's first byte for later ones; one byte every few seconds does
//!   not extend it;
//! - **idle timeout**: a keep-alive connection with no request in progress is closed
//!   after it;
//! - **connection limit**: connections beyond it are answered at once with a 503
//!   `ServiceUnavailableException` and closed, so the accept loop never starves and the
//!   process stays below its descriptor limit;
//! - **memory**: a connection's read buffer stays within 64 KiB, and a request head larger
//!   than [`MAX_HEAD`] is answered 431 and the connection closed;
//!   the body deadline and size are the gate's ([`crate::gate::GateOptions`]).
//!
//! While a request is being served (a long poll waits up to 60 s) no connection
//! deadline runs.

use crate::net::ClientAddr;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tower::{Service, ServiceExt};

/// The bounds of every connection (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest time to receive a request head (default 10 s).
    pub header_timeout: Duration,
    /// Longest keep-alive idle time between requests (default 60 s).
    pub idle_timeout: Duration,
    /// Most connections open at once (default: [`default_max_connections`] of 1).
    pub max_connections: usize,
    /// Whether a connection serves more than one request (HTTP/1.1 keep-alive; default
    /// on). Off answers every request with `Connection: close`, as moto's server does.
    pub keep_alive: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: default_max_connections(1),
            keep_alive: true,
        }
    }
}

/// Descriptors kept free for everything but client connections (listener, logs,
/// configuration files, upstream connections of a proxy beyond its share).
const RESERVED_DESCRIPTORS: u64 = 64;

/// The default connection limit: 1,024, or less where the process's descriptor limit
/// (`RLIMIT_NOFILE`, soft) would not leave room for `descriptors_per_connection` each
/// plus a reserve (a proxy needs 2: the client's and the upstream's). At least 1.
pub fn default_max_connections(descriptors_per_connection: u64) -> usize {
    let soft = rlimit::Resource::NOFILE
        .get()
        .map(|(soft, _)| soft)
        .unwrap_or(1024);
    let room = soft.saturating_sub(RESERVED_DESCRIPTORS) / descriptors_per_connection.max(1);
    usize::try_from(room.clamp(1, 1024)).unwrap_or(1024)
}

/// What a connection is doing, for its deadlines.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// No request in progress since `since`; `first` until the first request arrives.
    Idle { since: Instant, first: bool },
    /// A request head began arriving at `since`.
    Head { since: Instant },
    /// This many requests are being served.
    Busy(u32),
}

/// A connection's phase, shared by its reader, its service calls and its watchdog.
#[derive(Debug)]
struct Watch {
    phase: Mutex<Phase>,
    limits: Limits,
}

impl Watch {
    fn new(limits: Limits) -> Self {
        Watch {
            phase: Mutex::new(Phase::Idle {
                since: Instant::now(),
                first: true,
            }),
            limits,
        }
    }

    fn update(&self, f: impl FnOnce(Phase) -> Phase) {
        if let Ok(mut p) = self.phase.lock() {
            *p = f(*p);
        }
    }

    /// Bytes arrived: an idle connection starts a request head.
    fn on_bytes(&self) {
        self.update(|p| match p {
            Phase::Idle { first: false, .. } => Phase::Head {
                since: Instant::now(),
            },
            // The first request's head is timed from accept.
            Phase::Idle { since, first: true } => Phase::Head { since },
            other => other,
        });
    }

    /// A request head was parsed: the request is being served.
    fn begin(&self) {
        self.update(|p| match p {
            Phase::Busy(n) => Phase::Busy(n.saturating_add(1)),
            _ => Phase::Busy(1),
        });
    }

    /// A response was produced.
    fn end(&self) {
        self.update(|p| match p {
            Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
            _ => Phase::Idle {
                since: Instant::now(),
                first: false,
            },
        });
    }

    /// When the connection must be closed, if nothing changes; `None` while serving.
    fn deadline(&self) -> Option<Instant> {
        let phase = self.phase.lock().map(|p| *p).unwrap_or(Phase::Idle {
            since: Instant::now(),
            first: false,
        });
        match phase {
            Phase::Idle { since, first: true } | Phase::Head { since } => {
                Some(since + self.limits.header_timeout)
            }
            Phase::Idle {
                since,
                first: false,
            } => Some(since + self.limits.idle_timeout),
            Phase::Busy(_) => None,
        }
    }

    /// Completes when a deadline passes.
    async fn expired(&self) {
        loop {
            match self.deadline() {
                Some(at) if Instant::now() >= at => return,
                Some(at) => tokio::time::sleep_until(at).await,
                // Re-checked now and then while a request is served.
                None => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }
}

/// Marks the end of a request when dropped (also when its future is cancelled).
struct EndGuard(Arc<Watch>);

impl Drop for EndGuard {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// A stream that tells its [`Watch`] when bytes arrive.
struct Watched<T> {
    inner: T,
    watch: Arc<Watch>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.watch.on_bytes();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The most a connection buffers of what it reads before the gate takes it (hyper's
/// default grows to 408 KiB); a request head must fit in it.
const READ_BUFFER: usize = 64 * 1024;

/// The largest request head answered: the request line and the headers, as hyper
/// parsed them (each header counted as `name: value\r\n`).
pub const MAX_HEAD: usize = READ_BUFFER;

/// The size of `req`'s head as it was sent (request line, headers, blank line).
fn head_size<T>(req: &Request<T>) -> usize {
    let line = req.method().as_str().len()
        + 1
        + req.uri().path_and_query().map_or(1, |p| p.as_str().len())
        + " HTTP/1.1\r\n".len();
    req.headers()
        .iter()
        .map(|(n, v)| n.as_str().len() + 2 + v.len() + 2)
        .sum::<usize>()
        + line
        + 2
}

/// The answer to a head over [`MAX_HEAD`]: 431, and the connection closed.
fn head_too_large() -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
    resp.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    resp
}

/// The answer to a connection beyond the limit, written once without waiting.
const OVER_LIMIT: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-errortype: ServiceUnavailableException\r\nconnection: close\r\ncontent-length: 138\r\n\r\n{\"__type\":\"com.amazon.coral.service#ServiceUnavailableException\",\"message\":\"swf-iam: too many open connections; retry after closing some\"}";

/// Serves `service` on `listener` with the default [`Limits`] until `shutdown`
/// completes, then waits up to `grace` for open connections to finish.
pub async fn serve<S, B>(
    listener: TcpListener,
    service: S,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    serve_full(
        listener,
        service,
        shutdown,
        grace,
        Limits::default(),
        Controls::default(),
    )
    .await;
}

/// The future of a reset.
pub type ResetFuture = std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// What a reset does (clear the emulator's state, or the upstream's and the token
/// book); an error is answered with 500.
pub type ResetHook = Arc<dyn Fn() -> ResetFuture + Send + Sync>;

/// What the clock path does: with `None` (a `GET`) it tells the time; with a JSON body
/// (`{"advance": SECONDS}` or `{"set": "ISO-8601"}`) it moves the clock and tells the
/// new time. An error is answered with 400.
pub type ClockHook =
    Arc<dyn Fn(Option<serde_json::Value>) -> Result<serde_json::Value, String> + Send + Sync>;

/// The path of the clock: `GET` tells the time, `POST` moves it.
pub const CLOCK_PATH: &str = "/swf-iam/clock";

/// The future of a UI answer.
pub type UiFuture = std::pin::Pin<Box<dyn Future<Output = Response<Full<Bytes>>> + Send>>;

/// What answers the [`UI_PREFIX`] paths: the request's head (the UI reads, it takes no
/// body).
pub type UiHook = Arc<dyn Fn(http::request::Parts) -> UiFuture + Send + Sync>;

/// The paths of the web UI: `/ui` and everything under `/ui/`.
pub const UI_PREFIX: &str = "/ui";

/// The control paths a server answers before its service sees them (no signature, as in
/// moto): give them only to a listener that only trusted peers reach.
#[derive(Clone, Default)]
pub struct Controls {
    /// What the [`RESET_PATHS`] do.
    pub reset: Option<ResetHook>,
    /// What [`CLOCK_PATH`] does.
    pub clock: Option<ClockHook>,
    /// What the [`UI_PREFIX`] paths do.
    pub ui: Option<UiHook>,
}

/// The largest body the clock path reads.
const MAX_CONTROL_BODY: usize = 4096;

/// The answer to a request on the clock path.
async fn clock_response(req: Request<Incoming>, hook: &ClockHook) -> Response<Full<Bytes>> {
    let json = |status: u16, v: serde_json::Value| {
        let mut resp = Response::new(Full::new(Bytes::from(v.to_string())));
        *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        resp
    };
    let input = match *req.method() {
        http::Method::GET => None,
        http::Method::POST => {
            use http_body_util::BodyExt;
            let limited = http_body_util::Limited::new(req.into_body(), MAX_CONTROL_BODY);
            let bytes = match tokio::time::timeout(Duration::from_secs(10), limited.collect()).await
            {
                Ok(Ok(b)) => b.to_bytes(),
                _ => {
                    return json(
                        400,
                        serde_json::json!({"Error": format!("the body must arrive within 10 s and hold at most {MAX_CONTROL_BODY} bytes")}),
                    )
                }
            };
            match serde_json::from_slice(&bytes) {
                Ok(v) => Some(v),
                Err(e) => {
                    return json(
                        400,
                        serde_json::json!({"Error": format!("the body is not JSON: {e}")}),
                    )
                }
            }
        }
        _ => {
            return json(
                400,
                serde_json::json!({"Error": "GET tells the time; POST {\"advance\": SECONDS} or {\"set\": \"ISO-8601\"} moves it"}),
            )
        }
    };
    match hook(input) {
        Ok(v) => json(200, v),
        Err(e) => json(400, serde_json::json!({"Error": e})),
    }
}

/// The paths that reset state: moto's server-mode convention, so suites written for it
/// run unchanged, and swf-iam's own.
pub const RESET_PATHS: [&str; 2] = ["/moto-api/reset", "/swf-iam/reset"];

/// The answer to a request on a reset path: `POST` runs the hook (200
/// `{"status": "ok"}`, as moto answers), anything else is 400.
async fn reset_response(post: bool, hook: &ResetHook) -> Response<Full<Bytes>> {
    let (status, body) = if !post {
        (400, r#"{"Error": "Need to POST to reset Moto"}"#.to_owned())
    } else {
        match hook().await {
            Ok(()) => (200, r#"{"status": "ok"}"#.to_owned()),
            Err(e) => (500, serde_json::json!({ "Error": e }).to_string()),
        }
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

/// [`serve`] within explicit [`Limits`], with the [`Controls`] given answered before
/// `service` sees them (no signature, as in moto): the [`RESET_PATHS`] and
/// [`CLOCK_PATH`]. Give controls only to a listener that only trusted peers reach (the
/// CLI enables them on loopback listeners by default).
pub async fn serve_full<S, B>(
    listener: TcpListener,
    service: S,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
    limits: Limits,
    controls: Controls,
) where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(target: "swf_iam::server", error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    // Refused at once: one non-blocking write, then close.
                    let _ = stream.try_write(OVER_LIMIT);
                    tracing::warn!(target: "swf_iam::server", peer = %peer, limit = limits.max_connections, "connection refused: at the connection limit");
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let watch = Arc::new(Watch::new(limits));
                let svc = service.clone();
                let w = watch.clone();
                let controls = controls.clone();
                let hyper_svc = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                    req.extensions_mut().insert(ClientAddr(peer));
                    w.begin();
                    let guard = EndGuard(w.clone());
                    let hook = if RESET_PATHS.contains(&req.uri().path()) {
                        controls.reset.clone()
                    } else {
                        None
                    };
                    let clock = (req.uri().path() == CLOCK_PATH)
                        .then(|| controls.clock.clone())
                        .flatten();
                    let path = req.uri().path();
                    let ui = (path == UI_PREFIX || path.starts_with("/ui/"))
                        .then(|| controls.ui.clone())
                        .flatten();
                    let post = req.method() == http::Method::POST;
                    // hyper accepts heads up to about 400 KiB whatever its buffer size:
                    // the documented bound is enforced here, before anything else.
                    let oversized = head_size(&req) > MAX_HEAD;
                    if oversized {
                        tracing::info!(target: "swf_iam::server", peer = %peer, limit = MAX_HEAD, "request refused: head too large (431)");
                    }
                    let svc = svc.clone();
                    async move {
                        let r = match (hook, clock, ui) {
                            _ if oversized => Ok(head_too_large().map(Either::Left)),
                            (Some(h), _, _) => Ok(reset_response(post, &h).await.map(Either::Left)),
                            (None, Some(c), _) => Ok(clock_response(req, &c).await.map(Either::Left)),
                            (None, None, Some(u)) => {
                                let (parts, _body) = req.into_parts();
                                Ok(u(parts).await.map(Either::Left))
                            }
                            (None, None, None) => svc.oneshot(req).await.map(|resp| resp.map(Either::Right)),
                        };
                        drop(guard);
                        r
                    }
                });
                let io = Watched { inner: stream, watch: watch.clone() };
                let conn = hyper::server::conn::http1::Builder::new()
                    .keep_alive(limits.keep_alive)
                    .max_buf_size(READ_BUFFER)
                    .serve_connection(TokioIo::new(io), hyper_svc);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    tokio::select! {
                        r = conn => {
                            if let Err(e) = r {
                                tracing::debug!(target: "swf_iam::server", error = %e, "connection ended with an error");
                            }
                        }
                        () = watch.expired() => {
                            tracing::debug!(target: "swf_iam::server", peer = %peer, "connection closed: header or idle timeout");
                        }
                    }
                    drop(slot);
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(target: "swf_iam::server", "connections still open after the grace period; closing");
    }
}

pub use crate::net::request_id;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_limit_answer_has_its_content_length() {
        let text = std::str::from_utf8(OVER_LIMIT).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            v["__type"],
            "com.amazon.coral.service#ServiceUnavailableException"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn deadlines_follow_the_phase() {
        let limits = Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1,
            keep_alive: true,
        };
        let w = Watch::new(limits);
        let t0 = Instant::now();
        assert_eq!(w.deadline(), Some(t0 + Duration::from_secs(10)));
        tokio::time::advance(Duration::from_secs(3)).await;
        // The first head is timed from accept, not from its first byte.
        w.on_bytes();
        assert_eq!(w.deadline(), Some(t0 + Duration::from_secs(10)));
        w.begin();
        assert_eq!(w.deadline(), None, "no deadline while serving");
        tokio::time::advance(Duration::from_secs(100)).await;
        w.end();
        let t1 = Instant::now();
        assert_eq!(w.deadline(), Some(t1 + Duration::from_secs(60)));
        tokio::time::advance(Duration::from_secs(5)).await;
        w.on_bytes();
        let t2 = Instant::now();
        assert_eq!(w.deadline(), Some(t2 + Duration::from_secs(10)));
        // More bytes of the same head do not move the deadline.
        tokio::time::advance(Duration::from_secs(5)).await;
        w.on_bytes();
        assert_eq!(w.deadline(), Some(t2 + Duration::from_secs(10)));
        assert!(default_max_connections(1) >= 1);
        assert!(default_max_connections(2) <= default_max_connections(1));
    }
}
