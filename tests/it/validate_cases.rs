//! Every fixture under `tests/cases/validate/` validated, rendered, and snapshotted.

use swf_iam::render;
use swf_iam::validate::{validate, PolicyKind};

#[test]
fn validate_fixtures() {
    insta::glob!("../cases/validate", "*.json", |path| {
        let bytes = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let report = validate(&name, &bytes, &PolicyKind::Managed);
        let mut out = format!(
            "IAM verdict: {}\n\n",
            report.iam_message().map_or("valid".to_owned(), |m| format!(
                "MalformedPolicyDocument: {m}"
            ))
        );
        out.push_str(&render::report_text(&report));
        insta::assert_snapshot!(out);
    });
}
