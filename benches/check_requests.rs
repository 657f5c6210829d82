//! `swf-iam check --requests` at scale: 1,000,000 configuration-based request lines (the
//! shipped configuration's three principals, several domains and source addresses;
//! allowed and denied), JSON answers to /dev/null. Prints the wall time and lines per
//! second. See benches/README.md.
//!
//! Usage: cargo bench --bench check_requests -- [--lines N]

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a bench fails loudly"
)]
#![allow(missing_docs, reason = "a bench binary")]

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

const PRINCIPALS: [&str; 3] = [
    "arn:aws:iam::123456789012:role/heartbeat-worker",
    "arn:aws:iam::123456789012:role/billing-worker",
    "arn:aws:iam::123456789012:user/ops-admin",
];
const DOMAINS: [&str; 4] = ["orders", "billing", "prod-orders", "shipping"];
const IPS: [&str; 3] = ["10.1.2.3", "127.0.0.1", "203.0.113.9"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let lines: usize = args
        .iter()
        .position(|a| a == "--lines")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let path =
        std::env::temp_dir().join(format!("swf-iam-check-bench-{}.jsonl", std::process::id()));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        for i in 0..lines {
            writeln!(
                f,
                r#"{{"principal": "{}", "domain": "{}", "context": {{"aws:SourceIp": "{}"}}}}"#,
                PRINCIPALS[i % 3],
                DOMAINS[(i / 3) % 4],
                IPS[(i / 12) % 3]
            )
            .unwrap();
        }
    }
    let bytes = std::fs::metadata(&path).unwrap().len();
    let t0 = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .args(["check", "--config"])
        .arg(root.join("policies/swf-iam.json"))
        .arg("--requests")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let wall = t0.elapsed();
    std::fs::remove_file(&path).ok();
    // Exit 1: some requests were denied (as generated); 2 would be a malformed line.
    assert_eq!(status.code(), Some(1), "{status}");
    println!(
        "check --requests: {lines} lines ({:.0} MiB), JSON out to /dev/null: {:.2} s wall ({:.0} lines/s) on {} cores",
        bytes as f64 / 1048576.0,
        wall.as_secs_f64(),
        lines as f64 / wall.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
}
