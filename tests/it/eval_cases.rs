//! Evaluation fixtures under `tests/cases/eval/`: case files (a configuration, requests
//! and their expected decisions) run through `swf_iam::testing`, one snapshot of every
//! explanation per file. The fast path and the reference evaluator must agree too.

use swf_iam::eval::{self, Request};
use swf_iam::testing::{self, explanation_text};

#[test]
fn eval_fixtures() {
    insta::glob!("../cases/eval", "*.json", |path| {
        let file = testing::load(path).unwrap();
        let mut out = String::new();
        let now = swf_iam::values::now_epoch();
        for (case, result) in file.cases.iter().zip(testing::run(&file)) {
            assert!(result.passed(), "{}: {:?}", result.name, result.failures);
            let (pc, ctx) = testing::prepare(&file, case, now).unwrap();
            let req = Request {
                principal: &pc.principal,
                action: &case.action,
                resource: &case.resource,
                context: &ctx,
            };
            assert_eq!(
                eval::decide(&pc.compiled, &req).decision,
                result.decision.decision,
                "{}",
                case.name
            );
            assert_eq!(
                eval::reference::decide(&pc.policies, &req),
                result.decision.decision,
                "{}",
                case.name
            );
            out.push_str(&format!(
                "## {}\n{}\n",
                case.name,
                explanation_text(&result.decision)
            ));
        }
        insta::assert_snapshot!(out);
    });
}
