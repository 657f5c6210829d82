//! Load: RecordActivityTaskHeartbeat over loopback with N concurrent keep-alive
//! connections, against `serve`'s stack (gate with SigV4 and IAM, then the emulator)
//! and against the same emulator ungated. Prints heartbeats/s for both, the ratio, and
//! p50/p99 latency; with `--million`, also the resident memory before and after one
//! million gated heartbeats. See benches/README.md.
//!
//! With `--db`, also `serve --db`'s stack (the gate, the emulator, every change written
//! to a SQLite file before its answer), in the same run; with `--startup N`, the time a
//! server takes to load a SQLite file holding N executions.
//!
//! Usage: cargo bench --bench load -- [--connections N] [--seconds S] [--million] [--db] [--startup N]

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

const AKID: &str = "AKIALOADWORKER";
const SECRET: &str = "load-secret";

fn config() -> Config {
    let text = format!(
        r#"{{"account": "123456789012", "principals": [{{"arn": "arn:aws:iam::123456789012:role/worker", "tags": {{"team": "orders"}},
          "accessKeys": [{{"accessKeyId": "{AKID}", "secretAccessKey": "{SECRET}"}}],
          "policies": [{{"Version": "2012-10-17", "Statement": [
            {{"Sid": "Work", "Effect": "Allow", "Action": ["swf:*"], "Resource": "arn:aws:swf:*:123456789012:/domain/${{aws:PrincipalTag/team}}"}},
            {{"Sid": "Net", "Effect": "Deny", "Action": "swf:RecordActivityTaskHeartbeat", "Resource": "*", "Condition": {{"NotIpAddress": {{"aws:SourceIp": ["127.0.0.0/8", "::1/128"]}}}}}},
            {{"Sid": "NoProd", "Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:123456789012:/domain/prod-*"}}]}}]}}]}}"#
    );
    Config::from_bytes(std::path::Path::new("/bench/config.json"), text.as_bytes()).unwrap()
}

/// Seeds `n` started activity tasks in domain `orders` and returns their tokens.
async fn seed(emu: &Emulator, n: usize) -> Vec<String> {
    let o = |v: serde_json::Value| v.as_object().unwrap().clone();
    emu.call(
        "RegisterDomain",
        &o(json!({"name": "orders", "workflowExecutionRetentionPeriodInDays": "1"})),
        None,
    )
    .await
    .unwrap();
    emu.call("RegisterActivityType", &o(json!({"domain": "orders", "name": "hb", "version": "1", "defaultTaskList": {"name": "w"},
        "defaultTaskHeartbeatTimeout": "NONE", "defaultTaskStartToCloseTimeout": "NONE", "defaultTaskScheduleToStartTimeout": "NONE", "defaultTaskScheduleToCloseTimeout": "NONE"})), None).await.unwrap();
    emu.call("RegisterWorkflowType", &o(json!({"domain": "orders", "name": "wf", "version": "1", "defaultTaskList": {"name": "d"},
        "defaultExecutionStartToCloseTimeout": "86400", "defaultTaskStartToCloseTimeout": "NONE", "defaultChildPolicy": "TERMINATE"})), None).await.unwrap();
    emu.call("StartWorkflowExecution", &o(json!({"domain": "orders", "workflowId": "load", "workflowType": {"name": "wf", "version": "1"}})), None).await.unwrap();
    let d = emu
        .call(
            "PollForDecisionTask",
            &o(json!({"domain": "orders", "taskList": {"name": "d"}})),
            None,
        )
        .await
        .unwrap();
    let decisions: Vec<_> = (0..n)
        .map(|i| json!({"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": {"activityId": format!("a{i}"), "activityType": {"name": "hb", "version": "1"}}}))
        .collect();
    emu.call(
        "RespondDecisionTaskCompleted",
        &o(json!({"taskToken": d["taskToken"], "decisions": decisions})),
        None,
    )
    .await
    .unwrap();
    let mut tokens = Vec::new();
    for _ in 0..n {
        let t = emu
            .call(
                "PollForActivityTask",
                &o(json!({"domain": "orders", "taskList": {"name": "w"}})),
                None,
            )
            .await
            .unwrap();
        tokens.push(t["taskToken"].as_str().unwrap().to_owned());
    }
    tokens
}

fn db_path(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("swf-iam-load-{}-{name}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
    p
}

fn emulator(db: Option<&std::path::Path>) -> Arc<Emulator> {
    let emu = Emulator::new(
        "aws",
        "us-east-1",
        "123456789012",
        Arc::new(SystemClock),
        Duration::from_secs(1),
    );
    if let Some(p) = db {
        let store = Arc::new(swf_iam::store::sqlite::SqliteStore::open(p).unwrap());
        emu.attach_store(store).unwrap();
    }
    emu
}

/// The time to load a SQLite file holding `n` executions (each with its first events).
async fn startup(n: usize) {
    let p = db_path("startup");
    let emu = emulator(Some(&p));
    let o = |v: serde_json::Value| v.as_object().unwrap().clone();
    seed(&emu, 1).await;
    let t0 = Instant::now();
    for i in 0..n {
        emu.call("StartWorkflowExecution", &o(json!({"domain": "orders", "workflowId": format!("w{i}"), "workflowType": {"name": "wf", "version": "1"}})), None).await.unwrap();
    }
    let written = t0.elapsed();
    drop(emu);
    let size = std::fs::metadata(&p).map_or(0, |m| m.len())
        + std::fs::metadata(format!("{}-wal", p.display())).map_or(0, |m| m.len());
    let t0 = Instant::now();
    let emu = Emulator::new(
        "aws",
        "us-east-1",
        "123456789012",
        Arc::new(SystemClock),
        Duration::from_secs(1),
    );
    let store = Arc::new(swf_iam::store::sqlite::SqliteStore::open(&p).unwrap());
    let r = emu.attach_store(store).unwrap();
    let loaded = t0.elapsed();
    println!(
        "start-up with --db: {} executions ({} history events, {:.1} MiB file) loaded in {} ms (written one request a transaction in {:.2} s: {:.0} starts/s)",
        r.executions,
        r.events,
        size as f64 / 1048576.0,
        loaded.as_millis(),
        written.as_secs_f64(),
        n as f64 / written.as_secs_f64()
    );
}

async fn start(
    gated: bool,
    tokens: usize,
    db: Option<&std::path::Path>,
) -> (SocketAddr, Vec<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let emu = emulator(db);
    let toks = seed(&emu, tokens).await;
    if gated {
        let svc = GateLayer::new(config(), emu.clone()).layer(emu.service());
        tokio::spawn(swf_iam::server::serve(
            listener,
            svc,
            std::future::pending(),
            Duration::from_secs(1),
        ));
    } else {
        tokio::spawn(swf_iam::server::serve(
            listener,
            emu.service(),
            std::future::pending(),
            Duration::from_secs(1),
        ));
    }
    (addr, toks)
}

fn heartbeat(addr: SocketAddr, token: &str, n: u64) -> http::Request<Full<Bytes>> {
    let body = format!(r#"{{"taskToken":"{token}","details":"{n}"}}"#);
    let mut h = http::HeaderMap::new();
    h.insert("host", addr.to_string().parse().unwrap());
    h.insert(
        "content-type",
        "application/x-amz-json-1.0".parse().unwrap(),
    );
    h.insert(
        "x-amz-target",
        "SimpleWorkflowService.RecordActivityTaskHeartbeat"
            .parse()
            .unwrap(),
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

/// Drives `connections` keep-alive connections until `stop` (time) or `total` heartbeats.
async fn drive(
    addr: SocketAddr,
    tokens: &[String],
    connections: usize,
    stop: Option<Duration>,
    total: Option<u64>,
) -> (u64, Duration, Vec<u32>) {
    let started = Instant::now();
    let per_conn = total.map(|t| t / connections as u64);
    let mut handles = Vec::new();
    for c in 0..connections {
        let token = tokens[c % tokens.len()].clone();
        handles.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            let mut lat = Vec::new();
            let mut n = 0u64;
            loop {
                if stop.is_some_and(|s| started.elapsed() >= s) || per_conn.is_some_and(|p| n >= p)
                {
                    break;
                }
                let req = heartbeat(addr, &token, n);
                let t0 = Instant::now();
                send.ready().await.unwrap();
                let resp = send.send_request(req).await.unwrap();
                let status = resp.status();
                let body = resp.into_body().collect().await.unwrap().to_bytes();
                assert!(
                    status.is_success(),
                    "{status}: {}",
                    String::from_utf8_lossy(&body)
                );
                if per_conn.is_none() || n % 16 == 0 {
                    lat.push(t0.elapsed().as_micros() as u32);
                }
                n += 1;
            }
            (n, lat)
        }));
    }
    let mut count = 0;
    let mut lat = Vec::new();
    for h in handles {
        let (n, l) = h.await.unwrap();
        count += n;
        lat.extend(l);
    }
    lat.sort_unstable();
    (count, started.elapsed(), lat)
}

fn pct(l: &[u32], p: f64) -> u32 {
    if l.is_empty() {
        return 0;
    }
    l[((l.len() as f64 - 1.0) * p).round() as usize]
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let connections = arg("--connections", 8) as usize;
    let seconds = arg("--seconds", 5);
    let million = args.iter().any(|a| a == "--million");
    let with_db = args.iter().any(|a| a == "--db");
    let startup_n = arg("--startup", 0) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        if startup_n > 0 {
            startup(startup_n).await;
            return;
        }
        let (gated_addr, gated_tokens) = start(true, connections, None).await;
        let (plain_addr, plain_tokens) = start(false, connections, None).await;
        if with_db {
            let p = db_path("heartbeats");
            let (db_addr, db_tokens) = start(true, connections, Some(&p)).await;
            drive(db_addr, &db_tokens, connections, Some(Duration::from_millis(500)), None).await;
            drive(gated_addr, &gated_tokens, connections, Some(Duration::from_millis(500)), None).await;
            let d = Some(Duration::from_secs(seconds));
            let (mn, mt, ml) = drive(gated_addr, &gated_tokens, connections, d, None).await;
            let (dn, dt, dl) = drive(db_addr, &db_tokens, connections, d, None).await;
            let m_rate = mn as f64 / mt.as_secs_f64();
            let d_rate = dn as f64 / dt.as_secs_f64();
            println!("connections: {connections}, {seconds} s each, both gated (SigV4 + IAM)");
            println!("serve (in memory):          {m_rate:>9.0} heartbeats/s  p50 {:>5} µs  p99 {:>5} µs", pct(&ml, 0.5), pct(&ml, 0.99));
            println!("serve --db (SQLite, WAL):   {d_rate:>9.0} heartbeats/s  p50 {:>5} µs  p99 {:>5} µs", pct(&dl, 0.5), pct(&dl, 0.99));
            println!("ratio --db/in memory: {:.2}", d_rate / m_rate);
            return;
        }
        // Warm up both.
        drive(gated_addr, &gated_tokens, connections, Some(Duration::from_millis(500)), None).await;
        drive(plain_addr, &plain_tokens, connections, Some(Duration::from_millis(500)), None).await;
        let d = Some(Duration::from_secs(seconds));
        let (gn, gt, gl) = drive(gated_addr, &gated_tokens, connections, d, None).await;
        let (pn, pt, pl) = drive(plain_addr, &plain_tokens, connections, d, None).await;
        let g_rate = gn as f64 / gt.as_secs_f64();
        let p_rate = pn as f64 / pt.as_secs_f64();
        println!("connections: {connections}, {seconds} s each (clients sign every request with SigV4 in both runs)");
        println!("gated   (gate + SigV4 + IAM + emulator): {g_rate:>9.0} heartbeats/s  p50 {:>5} µs  p99 {:>5} µs", pct(&gl, 0.5), pct(&gl, 0.99));
        println!("ungated (emulator only):                 {p_rate:>9.0} heartbeats/s  p50 {:>5} µs  p99 {:>5} µs", pct(&pl, 0.5), pct(&pl, 0.99));
        println!("ratio gated/ungated: {:.2}", g_rate / p_rate);
        if million {
            let before = rss_kib();
            let t0 = Instant::now();
            let (n, _, _) = drive(gated_addr, &gated_tokens, connections, None, Some(1_000_000)).await;
            let after = rss_kib();
            println!(
                "{n} gated heartbeats in {:.1} s: resident memory {before} KiB before, {after} KiB after ({:+} KiB)",
                t0.elapsed().as_secs_f64(),
                after as i64 - before as i64
            );
        }
    });
}
