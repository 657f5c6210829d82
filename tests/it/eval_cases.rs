//! Evaluation fixtures under `tests/cases/eval/`: each file is a configuration (a path
//! relative to the file, or inline) and requests; every decision with its explanation
//! is snapshotted, one snapshot per file.

use serde_json::Value;
use std::path::Path;
use swf_iam::config::Config;
use swf_iam::eval::{self, ContextValue, Request};
use swf_iam::swf::DomainArn;

fn run_file(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let config = match &v["config"] {
        Value::String(rel) => Config::load(&path.parent().unwrap().join(rel)).unwrap(),
        inline => Config::from_bytes(path, inline.to_string().as_bytes()).unwrap(),
    };
    let mut out = Vec::new();
    for r in v["requests"].as_array().unwrap() {
        let pc = match r["principal"].as_str() {
            Some(arn) => config.principal(arn).unwrap(),
            None => &config.principals[0],
        };
        let action = r["action"]
            .as_str()
            .unwrap_or("swf:RecordActivityTaskHeartbeat");
        let resource = match (r["domain"].as_str(), r["resource"].as_str()) {
            (Some(d), _) => DomainArn::new(&config.partition, &config.region, &config.account, d)
                .unwrap()
                .to_string(),
            (None, Some(res)) => res.to_owned(),
            (None, None) => "*".to_owned(),
        };
        // A fixed, deterministic request context, as the gate would build it.
        let mut ctx = pc.base_context.clone();
        ctx.set_single("aws:RequestedRegion", config.region.clone());
        ctx.set_single("aws:SecureTransport", "true");
        ctx.set_single("aws:CurrentTime", "2026-11-25T10:00:00Z");
        ctx.set_single("aws:EpochTime", "1795600800");
        if let Some(m) = r["context"].as_object() {
            for (k, v) in m {
                match v {
                    Value::Array(a) => ctx.set(
                        k,
                        ContextValue::Multi(
                            a.iter().map(|x| x.as_str().unwrap().to_owned()).collect(),
                        ),
                    ),
                    Value::String(s) => ctx.set_single(k, s.clone()),
                    other => panic!("context value {other}"),
                }
            }
        }
        let req = Request {
            principal: &pc.principal,
            action,
            resource: &resource,
            context: &ctx,
        };
        let d = eval::evaluate(&pc.compiled, &req);
        // The fast path and the reference evaluator agree with the explained decision.
        assert_eq!(eval::decide(&pc.compiled, &req).decision, d.decision, "{r}");
        assert_eq!(
            eval::reference::decide(&pc.policies, &req),
            d.decision,
            "{r}"
        );
        out.push(serde_json::to_value(&d).unwrap());
    }
    serde_json::to_string_pretty(&out).unwrap()
}

#[test]
fn eval_fixtures() {
    insta::glob!("../cases/eval", "*.json", |path| {
        insta::assert_snapshot!(run_file(path));
    });
}
