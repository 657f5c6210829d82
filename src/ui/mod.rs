//! The web UI of `serve` (`/ui`): executions and their histories next to the access
//! decisions that touched them, a live view of the decision log, and what each
//! principal may do. Its assets are embedded in the binary (no build step, no network);
//! its API is read-only and reads the state the SWF API serves
//! ([`Emulator::read`](crate::emulator::Emulator::read)), the decision log as the gate
//! writes it ([`RecentDecisions`]) and the configuration in force: the UI is never a
//! second source of truth.
//!
//! Paths (all `GET`):
//! - `/ui`, `/ui/app.js`, `/ui/app.css`: the page;
//! - `/ui/api/overview`: regions with state, the time, where the state is kept;
//! - `/ui/api/swf/{Operation}?region=R&q=JSON`: one read-only SWF call, answered as the
//!   API answers it;
//! - `/ui/api/decisions?after=SEQ&limit=N`: decision-log entries newer than `SEQ`;
//! - `/ui/api/principals`: the `access` analysis of every configured principal.

use crate::emulator::Emulator;
use crate::gate::ops::RecentDecisions;
use crate::gate::GateHandle;
use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

/// The most decision-log entries one answer carries.
pub const MAX_DECISIONS_PER_ANSWER: usize = 2000;

/// The longest query string the API reads.
const MAX_QUERY: usize = 16 * 1024;

/// How long the access analysis of every principal may take (it is cached per
/// configuration).
const ACCESS_BUDGET: std::time::Duration = std::time::Duration::from_secs(20);

/// What the UI reads.
pub struct Ui {
    emulator: Arc<Emulator>,
    gate: GateHandle,
    recent: Arc<RecentDecisions>,
    /// The access analysis of the configuration in force (keyed by its address).
    access: Mutex<Option<(usize, Arc<Value>)>>,
}

impl Ui {
    /// The UI of `emulator` behind the gate `gate`, with the decision log kept in `recent`.
    pub fn new(
        emulator: Arc<Emulator>,
        gate: GateHandle,
        recent: Arc<RecentDecisions>,
    ) -> Arc<Self> {
        Arc::new(Ui {
            emulator,
            gate,
            recent,
            access: Mutex::new(None),
        })
    }

    /// The server hook answering the `/ui` paths.
    pub fn hook(self: &Arc<Self>) -> crate::server::UiHook {
        let ui = self.clone();
        Arc::new(move |parts| {
            let ui = ui.clone();
            Box::pin(async move { ui.answer(parts).await })
        })
    }

    async fn answer(self: Arc<Self>, parts: http::request::Parts) -> Response<Full<Bytes>> {
        if parts.method != http::Method::GET && parts.method != http::Method::HEAD {
            return error(StatusCode::METHOD_NOT_ALLOWED, "the UI only reads: GET");
        }
        // A page elsewhere must not reach this through a name that resolves to loopback
        // (DNS rebinding): the Host must be an address or `localhost`.
        if !host_allowed(&parts) {
            return error(
                StatusCode::FORBIDDEN,
                "the UI answers requests for an IP address or localhost only",
            );
        }
        let query = parts.uri.query().unwrap_or("");
        if query.len() > MAX_QUERY {
            return error(StatusCode::URI_TOO_LONG, "query too long");
        }
        let params = parse_query(query);
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        match parts.uri.path() {
            "/ui" | "/ui/" => asset(INDEX_HTML, "text/html; charset=utf-8"),
            "/ui/app.js" => asset(APP_JS, "text/javascript; charset=utf-8"),
            "/ui/app.css" => asset(APP_CSS, "text/css; charset=utf-8"),
            "/ui/api/overview" => {
                let config = self.gate.config();
                let now = self.emulator.now();
                ok(&json!({
                    "regions": self.emulator.regions(),
                    "defaultRegion": config.region,
                    "account": config.account,
                    "now": now,
                    "nowIso": crate::values::format_iso8601(now as i64),
                    "state": self.emulator.store().map_or_else(
                        || "in memory".to_owned(),
                        |s| s.describe(),
                    ),
                    "enforce": self.gate.options().enforce.as_str(),
                }))
            }
            "/ui/api/decisions" => {
                let after = get("after").and_then(|v| v.parse().ok()).unwrap_or(0);
                let limit = get("limit")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(MAX_DECISIONS_PER_ANSWER)
                    .min(MAX_DECISIONS_PER_ANSWER);
                let (entries, last) = self.recent.since(after, limit);
                let entries: Vec<&Value> = entries.iter().map(|e| &**e).collect();
                ok(&json!({"entries": entries, "last": last}))
            }
            "/ui/api/principals" => {
                let ui = self.clone();
                match tokio::task::spawn_blocking(move || ui.principals()).await {
                    Ok(v) => ok(&v),
                    Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
                }
            }
            path => match path.strip_prefix("/ui/api/swf/") {
                Some(op) => {
                    let region = get("region")
                        .map_or_else(|| self.gate.config().region.clone(), str::to_owned);
                    let body = match get("q").map(serde_json::from_str::<Value>) {
                        None => Map::new(),
                        Some(Ok(Value::Object(m))) => m,
                        Some(_) => return error(StatusCode::BAD_REQUEST, "`q` is a JSON object"),
                    };
                    match self.emulator.read(&region, op, &body) {
                        Ok(v) => ok(&v),
                        Err(e) => {
                            let (status, v) = (
                                StatusCode::BAD_REQUEST,
                                json!({"__type": e.short_name(), "message": e.message()}),
                            );
                            json_response(status, &v)
                        }
                    }
                }
                None => error(StatusCode::NOT_FOUND, "no such page"),
            },
        }
    }

    /// The access analysis of every principal of the configuration in force, computed
    /// once per configuration.
    fn principals(&self) -> Value {
        let config = self.gate.config();
        let key = Arc::as_ptr(&config) as usize;
        if let Ok(g) = self.access.lock() {
            if let Some((k, v)) = &*g {
                if *k == key {
                    return (**v).clone();
                }
            }
        }
        let opts = crate::analyze::Options {
            partition: config.partition.clone(),
            account: config.account.clone(),
            regions: config.regions.clone(),
            default_region: config.region.clone(),
            request_defaults: true,
            now: crate::values::now_epoch(),
            domain: None,
            limits: crate::analyze::Limits {
                budget: crate::analyze::Budget::within(ACCESS_BUDGET, 1 << 30),
                ..crate::analyze::Limits::default()
            },
            cache: Default::default(),
        };
        let actions = crate::analyze::all_actions();
        let principals: Vec<Value> = config
            .principals
            .iter()
            .map(|p| {
                let a = crate::analyze::access(p, &actions, &opts);
                json!({
                    "principal": p.principal.arn,
                    "keys": p.access_keys.iter().map(|k| k.access_key_id.clone()).collect::<Vec<_>>(),
                    "access": a,
                })
            })
            .collect();
        let v = Arc::new(
            json!({"principals": principals, "configuration": config.path.display().to_string()}),
        );
        if let Ok(mut g) = self.access.lock() {
            *g = Some((key, v.clone()));
        }
        (*v).clone()
    }
}

fn host_allowed(parts: &http::request::Parts) -> bool {
    let Some(host) = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => {
            return rest
                .split(']')
                .next()
                .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok())
        }
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok()
}

/// `a=1&b=x%20y` as pairs, percent-decoded (`+` is a space).
fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn with_headers(mut r: Response<Full<Bytes>>, content_type: &'static str) -> Response<Full<Bytes>> {
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    h.insert(
        "content-security-policy",
        http::HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        "x-content-type-options",
        http::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    r
}

fn asset(text: &'static str, content_type: &'static str) -> Response<Full<Bytes>> {
    with_headers(
        Response::new(Full::new(Bytes::from_static(text.as_bytes()))),
        content_type,
    )
}

fn json_response(status: StatusCode, v: &Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    *r.status_mut() = status;
    with_headers(r, "application/json")
}

fn ok(v: &Value) -> Response<Full<Bytes>> {
    json_response(StatusCode::OK, v)
}

fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    json_response(status, &json!({"message": message}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_percent_decoded_and_bad_escapes_kept() {
        assert_eq!(
            parse_query("region=us-east-1&q=%7B%22domain%22%3A%22orders%22%7D&x=a+b&y=%zz&z=%4"),
            [
                ("region".to_owned(), "us-east-1".to_owned()),
                ("q".to_owned(), "{\"domain\":\"orders\"}".to_owned()),
                ("x".to_owned(), "a b".to_owned()),
                ("y".to_owned(), "%zz".to_owned()),
                ("z".to_owned(), "%4".to_owned()),
            ]
        );
    }

    #[test]
    fn only_addresses_and_localhost_are_served() {
        let parts = |host: &str| {
            http::Request::get("/ui")
                .header("host", host)
                .body(())
                .unwrap()
                .into_parts()
                .0
        };
        for good in [
            "127.0.0.1:4599",
            "localhost:4599",
            "[::1]:4599",
            "10.1.2.3",
            "LOCALHOST",
        ] {
            assert!(host_allowed(&parts(good)), "{good}");
        }
        for bad in [
            "evil.example:4599",
            "127.0.0.1.evil.example",
            "[evil]:1",
            "",
        ] {
            assert!(!host_allowed(&parts(bad)), "{bad}");
        }
    }
}
