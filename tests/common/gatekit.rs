//! Helpers shared by the gate tests: a configuration, a token resolver, an inner
//! service, signed requests.

#![allow(dead_code, reason = "each test binary uses a different part")]

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use swf_iam::config::{Config, Secret};
use swf_iam::eval::Decision;
use swf_iam::gate::{sigv4, Authorized, ClientAddr, GateLayer, GateOptions, TaskTokenResolver};
use swf_iam::swf::wire::WireError;
use tower::{Layer, ServiceExt};

pub const NOW: i64 = 1_795_600_800; // 2026-11-25T10:00:00Z
pub const AKID: &str = "AKIAEXAMPLEWORKER01";
pub const SECRET: &str = "worker-secret";

pub fn config_text(extra_statement: &str) -> String {
    format!(
        r#"{{"account": "123456789012", "principals": [
          {{"arn": "arn:aws:iam::123456789012:role/worker", "tags": {{"team": "orders"}},
           "policies": [{{"Version": "2012-10-17", "Statement": [
              {{"Sid": "Beat", "Effect": "Allow", "Action": ["swf:RecordActivityTaskHeartbeat", "swf:PollForActivityTask", "swf:RespondDecisionTaskCompleted"], "Resource": "arn:aws:swf:*:123456789012:/domain/orders"}},
              {{"Sid": "List", "Effect": "Allow", "Action": "swf:ListDomains", "Resource": "*"}},
              {{"Sid": "NotBilling", "Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:123456789012:/domain/billing"}},
              {{"Sid": "Net", "Effect": "Deny", "Action": ["swf:RecordActivityTaskHeartbeat", "swf:PollForActivityTask", "swf:ListDomains", "swf:RespondDecisionTaskCompleted"], "Resource": "*", "Condition": {{"NotIpAddress": {{"aws:SourceIp": ["127.0.0.0/8", "::1/128", "10.0.0.0/8"]}}}}}},
              {{"Sid": "Sched", "Effect": "Allow", "Action": "swf:ScheduleActivityTask", "Resource": "*", "Condition": {{"StringEquals": {{"swf:activityType.name": "hb"}}}}}}
              {extra_statement}
           ]}}],
           "accessKeys": [{{"accessKeyId": "{AKID}", "secretAccessKey": "{SECRET}"}}]}},
          {{"arn": "arn:aws:iam::123456789012:user/nobody", "accessKeys": [{{"accessKeyId": "AKIANOBODY", "secretAccessKey": "x"}}]}}
        ]}}"#
    )
}

pub fn config(extra: &str) -> Config {
    Config::from_bytes(
        Path::new("/nonexistent/c.json"),
        config_text(extra).as_bytes(),
    )
    .unwrap()
}

/// Tokens `tok-<domain>` belong to `<domain>`.
pub struct Tokens;
impl TaskTokenResolver for Tokens {
    fn resolve(&self, _region: &str, token: &str) -> Result<String, WireError> {
        token
            .strip_prefix("tok-")
            .map(str::to_owned)
            .ok_or_else(|| WireError::Validation("Invalid token".into()))
    }
}

pub type Inner = tower::util::BoxCloneService<
    Request<Full<Bytes>>,
    Response<Full<Bytes>>,
    std::convert::Infallible,
>;

/// An inner service that counts calls, answers `{"cancelRequested":false}`, and for
/// RespondDecisionTaskCompleted returns the decision-level verdicts it got from the gate.
pub fn inner(calls: Arc<AtomicUsize>) -> Inner {
    tower::util::BoxCloneService::new(tower::service_fn(move |req: Request<Full<Bytes>>| {
        let calls = calls.clone();
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            let auth = req
                .extensions()
                .get::<Authorized>()
                .cloned()
                .expect("the gate attaches Authorized");
            let body = req.into_body().collect().await.unwrap().to_bytes();
            let out = if auth.operation.name == "RespondDecisionTaskCompleted" {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let decisions = v["decisions"].as_array().cloned().unwrap_or_default();
                let verdicts: Vec<&str> =
                    auth.verdicts(&decisions)
                        .iter()
                        .map(|verdict| match verdict {
                            swf_iam::gate::Verdict::Allowed(d)
                            | swf_iam::gate::Verdict::Denied(d) => d.decision.as_str(),
                            swf_iam::gate::Verdict::NoAction => "noAction",
                            swf_iam::gate::Verdict::Unknown(_) => "unknownDecision",
                        })
                        .collect();
                serde_json::json!({ "verdicts": verdicts }).to_string()
            } else {
                r#"{"cancelRequested":false}"#.to_owned()
            };
            Ok(Response::new(Full::new(Bytes::from(out))))
        }
    }))
}

pub fn options() -> GateOptions {
    GateOptions {
        max_body: 64 * 1024,
        body_timeout: std::time::Duration::from_secs(5),
        clock: Arc::new(|| NOW),
        ..GateOptions::default()
    }
}

/// A signed SWF request from `peer`.
pub fn request(op: &str, body: &str, akid: &str, secret: &str, at: i64) -> Request<Full<Bytes>> {
    let mut h = HeaderMap::new();
    h.insert("host", "127.0.0.1:4599".parse().unwrap());
    h.insert(
        "content-type",
        "application/x-amz-json-1.0".parse().unwrap(),
    );
    h.insert(
        "x-amz-target",
        format!("SimpleWorkflowService.{op}").parse().unwrap(),
    );
    let date = swf_iam::values::format_iso8601(at).replace(['-', ':'], "");
    h.insert("x-amz-date", date.parse().unwrap());
    let auth = {
        let secret = Secret::new(secret);
        sigv4::Signer {
            access_key_id: akid,
            secret: &secret,
            region: "us-east-1",
            service: "swf",
        }
        .sign("POST", "/", &h, body.as_bytes())
        .unwrap()
    };
    h.insert("authorization", auth.parse().unwrap());
    let mut req = Request::post("/")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    *req.headers_mut() = h;
    req.extensions_mut()
        .insert(ClientAddr("127.0.0.1:50000".parse::<SocketAddr>().unwrap()));
    req
}

pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
    pub decision: Option<Decision>,
    pub error_type: Option<String>,
}

pub async fn send(
    layer: &GateLayer,
    calls: &Arc<AtomicUsize>,
    req: Request<Full<Bytes>>,
) -> Answer {
    let svc = layer.layer(inner(calls.clone()));
    let resp = svc.oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let error_type = resp
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_owned());
    let decision = resp.extensions().get::<Decision>().cloned();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        decision,
        error_type,
    }
}

pub fn setup() -> (GateLayer, Arc<AtomicUsize>) {
    (
        GateLayer::with_options(config(""), Arc::new(Tokens), options()),
        Arc::new(AtomicUsize::new(0)),
    )
}
