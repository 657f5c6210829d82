//! Role sessions: the AssumeRole round trip over loopback (signed form request in, XML
//! credentials out, the decision with the trust policy, a session issued), and the gate's
//! cost for a session principal (role policies intersected with a session policy,
//! credentials found in the session store, the token checked) next to a plain principal
//! with a long-term key — both as whole heartbeats over loopback and as `eval::decide`
//! alone. See benches/README.md.
//!
//! Usage: cargo bench --bench sts -- [--requests R]

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a bench fails loudly"
)]
#![allow(missing_docs, reason = "a bench binary")]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use swf_iam::config::{Config, Secret};
use swf_iam::emulator::{Emulator, SystemClock};
use swf_iam::gate::{sigv4::Signer, GateLayer};
use tower::Layer;

const POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["swf:PollForActivityTask", "swf:RecordActivityTaskHeartbeat", "swf:RespondActivityTask*"], "Resource": "arn:aws:swf:*:123456789012:/domain/orders"},
  {"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-north-1"}}}]}"#;

fn config() -> Config {
    let text = format!(
        r#"{{"account": "123456789012", "principals": [
  {{"arn": "arn:aws:iam::123456789012:user/dev", "accessKeys": [{{"accessKeyId": "AKIADEV", "secretAccessKey": "dev-secret"}}]}},
  {{"arn": "arn:aws:iam::123456789012:role/plain", "accessKeys": [{{"accessKeyId": "AKIAPLAIN", "secretAccessKey": "plain-secret"}}], "policies": [{POLICY}]}},
  {{"arn": "arn:aws:iam::123456789012:role/worker", "tags": {{"team": "orders"}}, "policies": [{POLICY}],
   "trustPolicy": {{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::123456789012:user/dev"}}, "Action": ["sts:AssumeRole", "sts:TagSession"],
     "Condition": {{"StringLike": {{"sts:RoleSessionName": "bench-*"}}}}}}]}}}}
]}}"#
    );
    Config::from_bytes(std::path::Path::new("/bench/sts.json"), text.as_bytes()).unwrap()
}

struct Key {
    id: String,
    secret: Secret,
    token: Option<String>,
}

fn amz_date() -> String {
    swf_iam::values::format_iso8601(swf_iam::values::now_epoch()).replace(['-', ':'], "")
}

fn swf_request(
    addr: SocketAddr,
    key: &Key,
    target: &str,
    body: String,
) -> http::Request<Full<Bytes>> {
    let mut h = http::HeaderMap::new();
    h.insert("host", addr.to_string().parse().unwrap());
    h.insert(
        "content-type",
        "application/x-amz-json-1.0".parse().unwrap(),
    );
    h.insert(
        "x-amz-target",
        format!("SimpleWorkflowService.{target}").parse().unwrap(),
    );
    h.insert("x-amz-date", amz_date().parse().unwrap());
    if let Some(t) = &key.token {
        h.insert("x-amz-security-token", t.parse().unwrap());
    }
    sign(h, key, "swf", body)
}

fn sts_request(addr: SocketAddr, key: &Key, form: String) -> http::Request<Full<Bytes>> {
    let mut h = http::HeaderMap::new();
    h.insert("host", addr.to_string().parse().unwrap());
    h.insert(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8"
            .parse()
            .unwrap(),
    );
    h.insert("x-amz-date", amz_date().parse().unwrap());
    sign(h, key, "sts", form)
}

fn sign(
    mut h: http::HeaderMap,
    key: &Key,
    service: &str,
    body: String,
) -> http::Request<Full<Bytes>> {
    let auth = Signer {
        access_key_id: &key.id,
        secret: &key.secret,
        region: "us-east-1",
        service,
    }
    .sign("POST", "/", &h, body.as_bytes())
    .unwrap();
    h.insert("authorization", auth.parse().unwrap());
    let mut req = http::Request::post("/")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    *req.headers_mut() = h;
    req
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Sender {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    send
}

async fn call(send: &mut Sender, req: http::Request<Full<Bytes>>) -> Bytes {
    send.ready().await.unwrap();
    let resp = send.send_request(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(
        status.is_success(),
        "{status}: {}",
        String::from_utf8_lossy(&body)
    );
    body
}

fn between<'a>(text: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    text.split(&open).nth(1).unwrap().split('<').next().unwrap()
}

fn pct(l: &[u32], p: f64) -> u32 {
    l[((l.len() as f64 - 1.0) * p).round() as usize]
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn heartbeats(addr: SocketAddr, key: &Key, token: &str, n: usize) -> Vec<u32> {
    let mut send = connect(addr).await;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let req = swf_request(
            addr,
            key,
            "RecordActivityTaskHeartbeat",
            format!(r#"{{"taskToken":"{token}","details":"{i}"}}"#),
        );
        let t0 = Instant::now();
        call(&mut send, req).await;
        out.push(t0.elapsed().as_micros() as u32);
    }
    out.sort_unstable();
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let requests = args
        .iter()
        .position(|a| a == "--requests")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000usize);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let emu = Emulator::new("aws", "us-east-1", "123456789012", Arc::new(SystemClock), Duration::from_secs(1));
        let o = |v: serde_json::Value| v.as_object().unwrap().clone();
        emu.call("RegisterDomain", &o(json!({"name": "orders", "workflowExecutionRetentionPeriodInDays": "1"})), None).await.unwrap();
        emu.call("RegisterActivityType", &o(json!({"domain": "orders", "name": "hb", "version": "1", "defaultTaskList": {"name": "w"},
            "defaultTaskHeartbeatTimeout": "NONE", "defaultTaskStartToCloseTimeout": "NONE", "defaultTaskScheduleToStartTimeout": "NONE", "defaultTaskScheduleToCloseTimeout": "NONE"})), None).await.unwrap();
        emu.call("RegisterWorkflowType", &o(json!({"domain": "orders", "name": "wf", "version": "1", "defaultTaskList": {"name": "d"},
            "defaultExecutionStartToCloseTimeout": "86400", "defaultTaskStartToCloseTimeout": "NONE", "defaultChildPolicy": "TERMINATE"})), None).await.unwrap();
        emu.call("StartWorkflowExecution", &o(json!({"domain": "orders", "workflowId": "s", "workflowType": {"name": "wf", "version": "1"}})), None).await.unwrap();
        let d = emu.call("PollForDecisionTask", &o(json!({"domain": "orders", "taskList": {"name": "d"}})), None).await.unwrap();
        emu.call("RespondDecisionTaskCompleted", &o(json!({"taskToken": d["taskToken"], "decisions": [{"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": {"activityId": "a", "activityType": {"name": "hb", "version": "1"}}}]})), None).await.unwrap();
        let t = emu.call("PollForActivityTask", &o(json!({"domain": "orders", "taskList": {"name": "w"}})), None).await.unwrap();
        let task = t["taskToken"].as_str().unwrap().to_owned();

        let layer = GateLayer::new(config(), emu.clone());
        let svc = swf_iam::sts::StsLayer::new(layer.handle()).layer(layer.layer(emu.service()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(swf_iam::server::serve(listener, svc, std::future::pending(), Duration::from_secs(1)));

        // AssumeRole round trips (each issues a session; a session policy and a tag).
        let dev = Key { id: "AKIADEV".into(), secret: Secret::new("dev-secret"), token: None };
        let session_policy = encode(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"swf:RecordActivityTaskHeartbeat","Resource":"*"}]}"#);
        let form = |i: usize| format!(
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fworker&RoleSessionName=bench-{i}&Policy={session_policy}&Tags.member.1.Key=team&Tags.member.1.Value=orders"
        );
        let mut send = connect(addr).await;
        let mut last = String::new();
        for i in 0..500 {
            last = String::from_utf8(call(&mut send, sts_request(addr, &dev, form(i))).await.to_vec()).unwrap();
        }
        let mut assume = Vec::with_capacity(requests);
        for i in 0..requests {
            let req = sts_request(addr, &dev, form(500 + i));
            let t0 = Instant::now();
            call(&mut send, req).await;
            assume.push(t0.elapsed().as_micros() as u32);
        }
        assume.sort_unstable();
        println!("AssumeRole over loopback, {requests} calls (trust policy with a condition, a session policy, a tag):");
        println!("  p50 {:>4} µs  p99 {:>4} µs", pct(&assume, 0.5), pct(&assume, 0.99));

        // Heartbeats: a plain principal vs a session (session policy intersected).
        let plain = Key { id: "AKIAPLAIN".into(), secret: Secret::new("plain-secret"), token: None };
        let session = Key {
            id: between(&last, "AccessKeyId").to_owned(),
            secret: Secret::new(between(&last, "SecretAccessKey")),
            token: Some(between(&last, "SessionToken").to_owned()),
        };
        heartbeats(addr, &plain, &task, 2000).await;
        heartbeats(addr, &session, &task, 2000).await;
        let p = heartbeats(addr, &plain, &task, requests).await;
        let s = heartbeats(addr, &session, &task, requests).await;
        println!("heartbeats over loopback, {requests} each:");
        println!("  plain principal (long-term key):  p50 {:>4} µs  p99 {:>4} µs", pct(&p, 0.5), pct(&p, 0.99));
        println!("  role session (session policy):    p50 {:>4} µs  p99 {:>4} µs", pct(&s, 0.5), pct(&s, 0.99));

        // The decision alone.
        let config = layer.handle().config();
        let plain_pc = config.principal("arn:aws:iam::123456789012:role/plain").unwrap();
        let sess = layer.handle().options().sessions.get(&session.id).unwrap();
        let sess_pc = sess.principal(&config).unwrap();
        let resource = "arn:aws:swf:us-east-1:123456789012:/domain/orders";
        for (name, pc) in [("plain principal", plain_pc), ("role session   ", &*sess_pc)] {
            let mut ctx = swf_iam::eval::Context::over(pc.base_context.clone());
            ctx.set_request_defaults("us-east-1", swf_iam::values::now_epoch());
            let req = swf_iam::eval::Request {
                principal: &pc.principal,
                action: "swf:RecordActivityTaskHeartbeat",
                resource,
                context: &ctx,
            };
            let n = 2_000_000;
            let t0 = Instant::now();
            let mut allowed = 0;
            for _ in 0..n {
                if swf_iam::eval::decide(&pc.compiled, std::hint::black_box(&req)).decision == swf_iam::eval::DecisionKind::Allowed {
                    allowed += 1;
                }
            }
            assert_eq!(allowed, n);
            println!("  eval::decide, {name}: {:.0} ns", t0.elapsed().as_nanos() as f64 / n as f64);
        }
    });
}
