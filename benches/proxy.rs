//! Proxy overhead: RecordActivityTaskHeartbeat straight to an upstream vs through
//! `swf-iam proxy` (gate + forwarding) in front of it. The upstream is the embedded
//! emulator served ungated over loopback (moto's Python server would hide the
//! overhead in its own latency). Prints p50/p99 latency on one connection and
//! throughput on N connections, and the differences. See benches/README.md.
//!
//! Usage: cargo bench --bench proxy -- [--connections N] [--requests R]

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
use swf_iam::proxy::{ProxyOptions, ProxyService, TokenBook};
use tower::Layer;

const AKID: &str = "AKIAPROXYBENCH";
const SECRET: &str = "proxy-bench-secret";

fn config() -> Config {
    let text = format!(
        r#"{{"account": "123456789012", "principals": [{{"arn": "arn:aws:iam::123456789012:role/worker",
          "accessKeys": [{{"accessKeyId": "{AKID}", "secretAccessKey": "{SECRET}"}}],
          "policies": [{{"Version": "2012-10-17", "Statement": [
            {{"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:*:123456789012:/domain/orders"}}]}}]}}]}}"#
    );
    Config::from_bytes(std::path::Path::new("/bench/proxy.json"), text.as_bytes()).unwrap()
}

fn signed(addr: SocketAddr, target: &str, body: String) -> http::Request<Full<Bytes>> {
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
    let date =
        swf_iam::values::format_iso8601(swf_iam::values::now_epoch()).replace(['-', ':'], "");
    h.insert("x-amz-date", date.parse().unwrap());
    let secret = Secret::new(SECRET);
    let auth = Signer {
        access_key_id: AKID,
        secret: &secret,
        region: "us-east-1",
        service: "swf",
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

async fn call(send: &mut Sender, req: http::Request<Full<Bytes>>) -> serde_json::Value {
    send.ready().await.unwrap();
    let resp = send.send_request(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(
        status.is_success(),
        "{status}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null)
}

async fn latencies(addr: SocketAddr, token: &str, n: usize) -> Vec<u32> {
    let mut send = connect(addr).await;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let req = signed(
            addr,
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

async fn throughput(addr: SocketAddr, tokens: &[String], conns: usize, dur: Duration) -> f64 {
    let t0 = Instant::now();
    let mut hs = Vec::new();
    for c in 0..conns {
        let token = tokens[c % tokens.len()].clone();
        hs.push(tokio::spawn(async move {
            let mut send = connect(addr).await;
            let mut n = 0u64;
            while t0.elapsed() < dur {
                let req = signed(
                    addr,
                    "RecordActivityTaskHeartbeat",
                    format!(r#"{{"taskToken":"{token}"}}"#),
                );
                call(&mut send, req).await;
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for h in hs {
        total += h.await.unwrap();
    }
    total as f64 / t0.elapsed().as_secs_f64()
}

fn pct(l: &[u32], p: f64) -> u32 {
    l[((l.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, d: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let conns = arg("--connections", 8) as usize;
    let requests = arg("--requests", 20_000) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // The upstream: the emulator, ungated, over loopback.
        let emu = Emulator::new("aws", "us-east-1", "123456789012", Arc::new(SystemClock), Duration::from_secs(1));
        let o = |v: serde_json::Value| v.as_object().unwrap().clone();
        emu.call("RegisterDomain", &o(json!({"name": "orders", "workflowExecutionRetentionPeriodInDays": "1"})), None).await.unwrap();
        emu.call("RegisterActivityType", &o(json!({"domain": "orders", "name": "hb", "version": "1", "defaultTaskList": {"name": "w"},
            "defaultTaskHeartbeatTimeout": "NONE", "defaultTaskStartToCloseTimeout": "NONE", "defaultTaskScheduleToStartTimeout": "NONE", "defaultTaskScheduleToCloseTimeout": "NONE"})), None).await.unwrap();
        emu.call("RegisterWorkflowType", &o(json!({"domain": "orders", "name": "wf", "version": "1", "defaultTaskList": {"name": "d"},
            "defaultExecutionStartToCloseTimeout": "86400", "defaultTaskStartToCloseTimeout": "NONE", "defaultChildPolicy": "TERMINATE"})), None).await.unwrap();
        emu.call("StartWorkflowExecution", &o(json!({"domain": "orders", "workflowId": "p", "workflowType": {"name": "wf", "version": "1"}})), None).await.unwrap();
        let d = emu.call("PollForDecisionTask", &o(json!({"domain": "orders", "taskList": {"name": "d"}})), None).await.unwrap();
        let decisions: Vec<_> = (0..conns).map(|i| json!({"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": {"activityId": format!("a{i}"), "activityType": {"name": "hb", "version": "1"}}})).collect();
        emu.call("RespondDecisionTaskCompleted", &o(json!({"taskToken": d["taskToken"], "decisions": decisions})), None).await.unwrap();
        let up_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let up = up_listener.local_addr().unwrap();
        tokio::spawn(swf_iam::server::serve(up_listener, emu.service(), std::future::pending(), Duration::from_secs(1)));

        // The proxy.
        let opts = ProxyOptions::new(format!("http://{up}").parse().unwrap());
        let book = Arc::new(TokenBook::new(&opts));
        let svc = GateLayer::new(config(), book.clone()).layer(ProxyService::new(opts, book));
        let px_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let px = px_listener.local_addr().unwrap();
        tokio::spawn(swf_iam::server::serve(px_listener, svc, std::future::pending(), Duration::from_secs(1)));

        // Poll through the proxy so that it learns the tokens.
        let mut send = connect(px).await;
        let mut tokens = Vec::new();
        for _ in 0..conns {
            let t = call(&mut send, signed(px, "PollForActivityTask", r#"{"domain":"orders","taskList":{"name":"w"}}"#.into())).await;
            tokens.push(t["taskToken"].as_str().unwrap().to_owned());
        }
        // Warm up, then measure.
        latencies(up, &tokens[0], 2000).await;
        latencies(px, &tokens[0], 2000).await;
        let direct = latencies(up, &tokens[0], requests).await;
        let proxied = latencies(px, &tokens[0], requests).await;
        println!("one connection, {requests} heartbeats each:");
        println!("  direct to upstream: p50 {:>4} µs  p99 {:>4} µs", pct(&direct, 0.5), pct(&direct, 0.99));
        println!("  through the proxy:  p50 {:>4} µs  p99 {:>4} µs", pct(&proxied, 0.5), pct(&proxied, 0.99));
        println!("  added by the proxy: p50 {:>4} µs  p99 {:>4} µs", pct(&proxied, 0.5) as i64 - pct(&direct, 0.5) as i64, pct(&proxied, 0.99) as i64 - pct(&direct, 0.99) as i64);
        let d = throughput(up, &tokens, conns, Duration::from_secs(3)).await;
        let p = throughput(px, &tokens, conns, Duration::from_secs(3)).await;
        println!("{conns} connections: direct {d:.0}/s, through the proxy {p:.0}/s (ratio {:.2})", p / d);
    });
}
