//! Parsing and validating arbitrary bytes never panics, and a rejected document always
//! carries IAM's message first.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swf_iam::validate::{validate, PolicyKind};

fuzz_target!(|data: &[u8]| {
    let report = validate("fuzz.json", data, &PolicyKind::Managed);
    if !report.iam_valid() {
        assert!(report.iam_message().is_some());
    }
    // Loading for evaluation must not panic either.
    let _ = swf_iam::compile::LoadedPolicy::load("fuzz.json", data, &PolicyKind::InlineRole("fuzz".into()))
        .map(|p| swf_iam::compile::CompiledPolicySet::compile(&swf_iam::compile::PolicySet { identity: vec![p], ..Default::default() }));
});
