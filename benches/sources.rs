//! Loading sources: a 5 MB authorization-details file (the cloudsplaining fixture's
//! users, groups, roles and managed policies repeated under new names), imported and
//! every principal compiled; and the fixture Terraform plan and YAML template.
//!
//! Usage: cargo bench --bench sources

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a bench fails loudly"
)]
#![allow(missing_docs, reason = "a bench binary")]

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use swf_iam::config::Config;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sources")
        .join(rel)
}

/// Authorization details of at least `bytes` bytes: copy `i` of every user, group and role
/// is renamed with prefix `ci` (managed policies are shared).
fn big_authz(bytes: usize) -> String {
    let base: Value = serde_json::from_slice(
        &std::fs::read(fixture("authorization-details/example-authz-details.json")).unwrap(),
    )
    .unwrap();
    let mut out = json!({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": base["Policies"]});
    let mut i = 0;
    loop {
        let text = serde_json::to_string_pretty(&base).unwrap();
        let renamed: Value = serde_json::from_str(
            &text
                .replace("user/", &format!("user/c{i}"))
                .replace("role/", &format!("role/c{i}"))
                .replace("\"GroupName\": \"", &format!("\"GroupName\": \"c{i}")),
        )
        .unwrap();
        for list in ["UserDetailList", "GroupDetailList", "RoleDetailList"] {
            let mut items = renamed[list].as_array().unwrap().clone();
            for it in &mut items {
                if let Some(groups) = it.get_mut("GroupList").and_then(Value::as_array_mut) {
                    for g in groups {
                        *g = Value::String(format!("c{i}{}", g.as_str().unwrap()));
                    }
                }
            }
            out[list].as_array_mut().unwrap().extend(items);
        }
        let s = serde_json::to_string_pretty(&out).unwrap();
        if s.len() >= bytes {
            return s;
        }
        i += 1;
    }
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("swf-iam-bench-sources-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = big_authz(5 << 20);
    std::fs::write(dir.join("details.json"), &text).unwrap();
    std::fs::write(
        dir.join("swf-iam.json"),
        json!({"sources": [{"authorizationDetails": "details.json"}]}).to_string(),
    )
    .unwrap();
    let cfg = Config::load(&dir.join("swf-iam.json")).unwrap();
    eprintln!(
        "authorization details: {:.1} MB, {} principals",
        text.len() as f64 / 1e6,
        cfg.principals.len()
    );
    assert!(cfg.principals.iter().all(|p| p.missing.is_empty()));
    let mut g = c.benchmark_group("sources");
    g.sample_size(10);
    g.bench_function("authorization details 5 MB: load and compile", |b| {
        b.iter(|| Config::load(&dir.join("swf-iam.json")).unwrap())
    });
    for (name, source) in [
        (
            "terraform plan (15 KB)",
            json!({"terraformPlan": fixture("terraform/identity_policies.plan.json")}),
        ),
        (
            "cloudformation yaml (9 KB)",
            json!({"cloudFormation": fixture("cloudformation/nist_iam.yaml")}),
        ),
    ] {
        let path = dir.join(format!("{}.json", name.split(' ').next().unwrap()));
        std::fs::write(&path, json!({"sources": [source]}).to_string()).unwrap();
        g.bench_function(name, |b| b.iter(|| Config::load(&path).unwrap()));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
