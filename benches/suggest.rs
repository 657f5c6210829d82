//! `swf-iam suggest` over a large decision log: 1,000,000 lines (100 principals, 50
//! domains, 10 actions, allowed and denied, each with its `swf:` keys) read from a file and
//! turned into policies with conditions.
//! Prints the time and the peak resident memory. See benches/README.md.
//!
//! Usage: cargo bench --bench suggest -- [--lines N]

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a bench fails loudly"
)]
#![allow(missing_docs, reason = "a bench binary")]

use std::io::Write;
use std::time::Instant;

const ACTIONS: [&str; 10] = [
    "PollForActivityTask",
    "RecordActivityTaskHeartbeat",
    "RespondActivityTaskCompleted",
    "RespondActivityTaskFailed",
    "PollForDecisionTask",
    "RespondDecisionTaskCompleted",
    "StartWorkflowExecution",
    "SignalWorkflowExecution",
    "DescribeWorkflowExecution",
    "GetWorkflowExecutionHistory",
];

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let lines: usize = args
        .iter()
        .position(|a| a == "--lines")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let path = std::env::temp_dir().join(format!(
        "swf-iam-suggest-bench-{}.jsonl",
        std::process::id()
    ));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        for i in 0..lines {
            let a = ACTIONS[i % ACTIONS.len()];
            writeln!(
                f,
                r#"{{"timestamp":"2026-12-08T00:00:00.000000Z","level":"INFO","message":"decision","principal":"arn:aws:sts::123456789012:assumed-role/worker-{}/s{}","operation":"{a}","action":"swf:{a}","resource":"arn:aws:swf:us-east-1:123456789012:/domain/domain-{}","decision":"{}","statement":"","reason":"","swf_keys":"{{\"swf:taskList.name\":\"tl-{}\"}}","enforce":"soft","peer":"127.0.0.1:1","latency_us":80}}"#,
                i % 100,
                i % 7,
                (i / 7) % 50,
                if i % 5 == 0 { "implicitDeny" } else { "allowed" },
                i % 4
            )
            .unwrap();
        }
    }
    let bytes = std::fs::metadata(&path).unwrap().len();
    let before = peak_rss_kib();
    let t0 = Instant::now();
    let log =
        swf_iam::suggest::read_log(std::io::BufReader::new(std::fs::File::open(&path).unwrap()))
            .unwrap();
    let read = t0.elapsed();
    let mut statements = 0;
    for o in log.principals.values() {
        let opts = swf_iam::suggest::Options {
            with_conditions: true,
            ..Default::default()
        };
        for d in swf_iam::suggest::suggest(o, opts).documents {
            statements += d["Statement"].as_array().unwrap().len();
        }
    }
    let total = t0.elapsed();
    std::fs::remove_file(&path).ok();
    println!(
        "{lines} lines ({:.0} MiB), {} principals, {statements} statements: read {:.2} s, read and suggest {:.2} s ({:.0} lines/s); peak RSS {} MiB (before reading: {} MiB)",
        bytes as f64 / 1048576.0,
        log.principals.len(),
        read.as_secs_f64(),
        total.as_secs_f64(),
        lines as f64 / total.as_secs_f64(),
        peak_rss_kib().map_or(0, |k| k / 1024),
        before.map_or(0, |k| k / 1024),
    );
}
