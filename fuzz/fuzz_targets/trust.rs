//! Trust policies and STS forms from arbitrary bytes never panic: a trust policy is
//! validated, and when it loads it is compiled and decides an AssumeRole; a form body is
//! parsed, and its lists and structures read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swf_iam::compile::trust::CompiledTrustPolicy;
use swf_iam::compile::{CompiledPolicySet, LoadedPolicy, PolicySet};
use swf_iam::eval::trust::{decide_assume, AssumeRequest};
use swf_iam::eval::{Context, Principal};
use swf_iam::validate::{validate, PolicyKind};

fuzz_target!(|data: &[u8]| {
    let report = validate("trust.json", data, &PolicyKind::Trust);
    if !report.iam_valid() {
        assert!(report.iam_message().is_some());
    }
    if let Ok(p) = LoadedPolicy::load("trust.json", data, &PolicyKind::Trust) {
        let trust = CompiledTrustPolicy::compile(&p);
        let caller = Principal::from_arn("arn:aws:sts::123456789012:assumed-role/ops/s1", "s", None).unwrap();
        let set = CompiledPolicySet::compile(&PolicySet::default()).unwrap();
        let mut ctx = Context::new();
        caller.fill_context(&mut ctx);
        let _ = decide_assume(&AssumeRequest {
            caller: &caller,
            caller_policies: &set,
            action: "sts:AssumeRole",
            role_arn: "arn:aws:iam::123456789012:role/worker",
            trust: Some(&trust),
            context: &ctx,
        });
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(f) = swf_iam::sts::query::Form::parse(text) {
            let _ = f.list("TransitiveTagKeys");
            let _ = f.structs("Tags", &["Key", "Value"]);
        }
    }
});
