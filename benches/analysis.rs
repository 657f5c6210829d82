//! Access analysis benchmarks: `access` on the shipped configuration, and `diff` of two
//! generated configurations of 1,000 principals with 50 statements each (conditions
//! included) over every SWF action — with a few principals changed (a typical review)
//! and with every principal changed (the worst case) — plus how the cost grows with the
//! statements per principal.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use swf_iam::analyze::{self, Options};
use swf_iam::config::Config;

const ACTIONS: &[&str] = &[
    "swf:PollForActivityTask",
    "swf:RecordActivityTaskHeartbeat",
    "swf:RespondActivityTask*",
    "swf:Describe*",
    "swf:List*",
    "swf:StartWorkflowExecution",
    "swf:SignalWorkflowExecution",
    "swf:ScheduleActivityTask",
    "swf:Count*",
    "swf:Get*",
    "swf:TerminateWorkflowExecution",
    "swf:RequestCancel*",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
}

/// Principal `i`'s policy of `n` statements; `variant` changes one statement's condition.
fn policy(i: usize, n: usize, variant: bool) -> String {
    let mut r = Rng(i as u64 * 7919 + 17);
    let mut s = String::from("{\"Version\": \"2012-10-17\", \"Statement\": [\n");
    for j in 0..n {
        let effect = if j % 10 == 9 { "Deny" } else { "Allow" };
        let a1 = ACTIONS[r.next() % ACTIONS.len()];
        let a2 = ACTIONS[r.next() % ACTIONS.len()];
        let team = i % 40;
        let resource = match r.next() % 4 {
            0 => format!("arn:aws:swf:us-east-1:123456789012:/domain/team{team}-{j}"),
            1 => format!("arn:aws:swf:us-east-1:123456789012:/domain/team{team}-*"),
            2 => format!(
                "arn:aws:swf:us-east-1:123456789012:/domain/shared-{}",
                j % 7
            ),
            _ => "arn:aws:swf:*:123456789012:/domain/*".to_owned(),
        };
        let condition = match (j % 3, r.next() % 6) {
            (0, 0) => format!(r#", "Condition": {{"IpAddress": {{"aws:SourceIp": "10.{j}.0.0/16"}}}}"#),
            (0, 1) => r#", "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}"#.to_owned(),
            (0, 2) => r#", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}"#.to_owned(),
            (0, 3) => format!(r#", "Condition": {{"NumericLessThan": {{"aws:MultiFactorAuthAge": "{}"}}}}"#, 600 * (j + 1)),
            (0, 4) => format!(r#", "Condition": {{"StringLike": {{"swf:activityType.name": "t{j}-*"}}}}"#),
            (0, _) => format!(r#", "Condition": {{"DateLessThan": {{"aws:CurrentTime": "2027-0{}-01T00:00:00Z"}}}}"#, 1 + j % 9),
            _ => String::new(),
        };
        let condition = if variant && j == 0 {
            r#", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}"#.to_owned()
        } else {
            condition
        };
        let comma = if j + 1 < n { "," } else { "" };
        let _ = writeln!(
            s,
            r#"  {{"Effect": "{effect}", "Action": ["{a1}", "{a2}"], "Resource": "{resource}"{condition}}}{comma}"#
        );
    }
    s.push_str("]}\n");
    s
}

/// Writes a configuration of `principals` principals with `n` statements each; those
/// with `changed(i)` use the variant policy.
fn write_config(
    dir: &Path,
    name: &str,
    principals: usize,
    n: usize,
    changed: &dyn Fn(usize) -> bool,
) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let mut entries = Vec::new();
    for i in 0..principals {
        let variant = changed(i);
        // At most 50 statements per policy (IAM's inline quota is 10,240 characters).
        let mut files = Vec::new();
        for part in 0..n.div_ceil(50) {
            let count = (n - part * 50).min(50);
            let file = format!("p{i}-{n}-{part}{}.json", if variant { "v" } else { "" });
            let path = dir.join(&file);
            if !path.exists() {
                let seed = i + 100_000 * part;
                std::fs::write(&path, policy(seed, count, variant && part == 0)).unwrap();
            }
            files.push(format!("\"{file}\""));
        }
        entries.push(format!(
            r#"{{"arn": "arn:aws:iam::123456789012:role/r{i}", "tags": {{"team": "team{}"}}, "policies": [{}]}}"#,
            i % 40,
            files.join(", ")
        ));
    }
    let text = format!(
        "{{\"partition\": \"aws\", \"region\": \"us-east-1\", \"account\": \"123456789012\",\n\"principals\": [\n{}\n]}}\n",
        entries.join(",\n")
    );
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn options(c: &Config) -> Options {
    Options {
        partition: c.partition.clone(),
        account: c.account.clone(),
        regions: c.regions.clone(),
        default_region: c.region.clone(),
        request_defaults: true,
        now: 1_790_000_000,
        domain: None,
        limits: analyze::Limits::default(),
        cache: Default::default(),
    }
}

/// Loads both configurations and diffs every principal over every action; returns the
/// number of changes.
fn diff(before: &Path, after: &Path) -> usize {
    let b = Config::load(before).unwrap();
    let a = Config::load(after).unwrap();
    let opts = options(&a);
    let acts = analyze::all_actions();
    let bm = analyze::by_arn(&b.principals);
    let am = analyze::by_arn(&a.principals);
    let mut n = 0;
    for (arn, p) in &am {
        n += analyze::diff(bm.get(arn).copied(), Some(p), &acts, &opts)
            .changes
            .len();
    }
    n
}

/// One principal with 50 statements whose conditions test `keys` keys with `consts`
/// constants each (every statement its own constants).
fn growth_config(dir: &Path, keys: usize, consts: usize) -> PathBuf {
    const KEYS: &[&str] = &[
        "aws:SourceIp",
        "aws:ResourceTag/team",
        "aws:MultiFactorAuthAge",
        "swf:activityType.name",
    ];
    let mut st = Vec::new();
    for j in 0..50 {
        let key = KEYS[j % keys];
        let values: Vec<String> = (0..consts)
            .map(|c| match key {
                "aws:SourceIp" => format!("\"10.{j}.{c}.0/24\""),
                "aws:MultiFactorAuthAge" => format!("\"{}\"", 100 * j + c),
                "swf:activityType.name" => format!("\"a{j}-{c}*\""),
                _ => format!("\"t{j}-{c}\""),
            })
            .collect();
        let op = match key {
            "aws:SourceIp" => "IpAddress",
            "aws:MultiFactorAuthAge" => "NumericLessThan",
            "swf:activityType.name" => "StringLike",
            _ => "StringEquals",
        };
        let effect = if j % 10 == 9 { "Deny" } else { "Allow" };
        let action = ACTIONS[j % ACTIONS.len()];
        st.push(format!(
            r#"{{"Effect": "{effect}", "Action": "{action}", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/d{}-*", "Condition": {{"{op}": {{"{key}": [{}]}}}}}}"#,
            j % 5,
            values.join(", ")
        ));
    }
    std::fs::create_dir_all(dir).unwrap();
    // Ten statements per policy, within IAM's inline quota.
    let mut files = Vec::new();
    for (part, chunk) in st.chunks(10).enumerate() {
        let file = format!("growth-{keys}-{consts}-{part}.json");
        std::fs::write(
            dir.join(&file),
            format!(
                "{{\"Version\": \"2012-10-17\", \"Statement\": [{}]}}",
                chunk.join(",\n")
            ),
        )
        .unwrap();
        files.push(format!("\"{file}\""));
    }
    let path = dir.join(format!("growth-config-{keys}-{consts}.json"));
    std::fs::write(
        &path,
        format!(
            r#"{{"region": "us-east-1", "account": "123456789012", "principals": [{{"arn": "arn:aws:iam::123456789012:role/g", "policies": [{}]}}]}}"#,
            files.join(", ")
        ),
    )
    .unwrap();
    path
}

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped = root.join("policies/swf-iam.json");
    let mut g = c.benchmark_group("analysis");
    g.sample_size(10);
    g.bench_function("access/shipped-config", |b| {
        b.iter(|| {
            let c = Config::load(&shipped).unwrap();
            let opts = options(&c);
            let acts = analyze::all_actions();
            c.principals
                .iter()
                .map(|p| analyze::access(p, &acts, &opts).actions.len())
                .sum::<usize>()
        })
    });
    let dir = std::env::temp_dir().join(format!("swf-iam-bench-analysis-{}", std::process::id()));
    let before = write_config(&dir, "before.json", 1000, 50, &|_| false);
    let few = write_config(&dir, "after-few.json", 1000, 50, &|i| i % 100 == 7);
    let all = write_config(&dir, "after-all.json", 1000, 50, &|_| true);
    assert!(
        diff(&before, &few) > 0,
        "the few-changed diff finds the widening"
    );
    g.bench_function("load/1000x50/both", |b| {
        b.iter(|| {
            Config::load(&before).unwrap().principals.len()
                + Config::load(&few).unwrap().principals.len()
        })
    });
    g.bench_function("diff/1000x50/10-changed", |b| {
        b.iter(|| diff(&before, &few))
    });
    g.bench_function("diff/1000x50/all-changed", |b| {
        b.iter(|| diff(&before, &all))
    });
    for n in [10, 25, 50, 100] {
        let b0 = write_config(&dir, &format!("b{n}.json"), 100, n, &|_| false);
        let a0 = write_config(&dir, &format!("a{n}.json"), 100, n, &|_| true);
        g.bench_function(format!("diff/100x{n}/all-changed"), |b| {
            b.iter(|| diff(&b0, &a0))
        });
    }
    for (keys, consts) in [(1, 1), (1, 8), (1, 32), (2, 8), (4, 8)] {
        let path = growth_config(&dir, keys, consts);
        let config = Config::load(&path).unwrap();
        let acts = analyze::all_actions();
        g.bench_function(
            format!("access/50-statements/{keys}-keys-{consts}-constants"),
            |b| {
                b.iter(|| {
                    // Fresh options: nothing remembered from the last iteration.
                    let opts = options(&config);
                    analyze::access(&config.principals[0], &acts, &opts)
                        .actions
                        .len()
                })
            },
        );
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
