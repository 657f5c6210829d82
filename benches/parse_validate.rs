//! Parse + validate of a realistic ~10 KiB identity policy (see benches/README.md).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a bench may fail loudly"
)]
#![allow(missing_docs, reason = "criterion_group! generates undocumented items")]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use swf_iam::validate::{validate, PolicyKind};

/// A worker-role policy of about 10 KiB: SWF statements with conditions and variables,
/// mixed with logs, sqs and s3 statements, pretty-printed like a file in a repository.
fn policy_10k() -> String {
    let mut statements = Vec::new();
    let mut i = 0;
    while serde_json::to_string_pretty(&statements).map_or(0, |s| s.len()) < 10 * 1024 - 200 {
        statements.push(serde_json::json!({
            "Sid": format!("Heartbeat{i}"),
            "Effect": if i % 5 == 4 { "Deny" } else { "Allow" },
            "Action": ["swf:RecordActivityTaskHeartbeat", "swf:PollForActivityTask", "swf:RespondActivityTask*"],
            "Resource": [
                format!("arn:aws:swf:us-east-1:123456789012:/domain/orders-{i}"),
                "arn:aws:swf:*:123456789012:/domain/${aws:PrincipalTag/team, 'none'}-*"
            ],
            "Condition": {
                "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]},
                "StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]},
                "DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}
            }
        }));
        statements.push(serde_json::json!({
            "Sid": format!("Logs{i}"),
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("arn:aws:logs:us-east-1:123456789012:log-group:/swf/worker-{i}:*")
        }));
        i += 1;
    }
    serde_json::to_string_pretty(
        &serde_json::json!({"Version": "2012-10-17", "Statement": statements}),
    )
    .unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let doc = policy_10k();
    let report = validate(
        "bench.json",
        doc.as_bytes(),
        &PolicyKind::InlineRole("bench".into()),
    );
    assert!(report.iam_valid(), "{:?}", report.findings);
    let mut g = c.benchmark_group("parse_validate");
    g.throughput(criterion::Throughput::Bytes(doc.len() as u64));
    g.bench_function("10KiB policy", |b| {
        b.iter(|| {
            validate(
                "bench.json",
                black_box(doc.as_bytes()),
                &PolicyKind::InlineRole("bench".into()),
            )
        })
    });
    g.bench_function("10KiB policy, parse only", |b| {
        b.iter(|| swf_iam::policy::parse(black_box(doc.as_bytes())))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
