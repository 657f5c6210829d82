//! Property tests: parsing and validating arbitrary input never panics, and the
//! reader agrees with serde_json on what is JSON.

use proptest::prelude::*;
use swf_iam::validate::{validate, PolicyKind};

fn policy_like() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("\"Version\"".to_owned()),
        Just("\"2012-10-17\"".to_owned()),
        Just("\"Statement\"".to_owned()),
        Just("\"Effect\"".to_owned()),
        Just("\"Allow\"".to_owned()),
        Just("\"Action\"".to_owned()),
        Just("\"swf:*\"".to_owned()),
        Just("\"Resource\"".to_owned()),
        Just("\"arn:aws:swf:*:*:/domain/${aws:username}\"".to_owned()),
        Just("\"Condition\"".to_owned()),
        Just("\"ForAllValues:StringLikeIfExists\"".to_owned()),
        Just("\"DateLessThan\"".to_owned()),
        Just("\"2026-1\"".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(":".to_owned()),
        Just(",".to_owned()),
        Just("1".to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        "\"[a-z:*?${}]{0,6}\"",
    ];
    prop::collection::vec(atom, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let r = validate("p", &bytes, &PolicyKind::Managed);
        if !r.iam_valid() {
            prop_assert!(r.iam_message().is_some());
        }
    }

    #[test]
    fn policy_shaped_text_never_panics_and_json_agrees_with_serde(s in policy_like()) {
        let ours = swf_iam::json::parse(s.as_bytes()).is_ok();
        let serde = serde_json::from_str::<serde_json::Value>(&s).is_ok();
        prop_assert_eq!(ours, serde, "{}", s);
        let r = validate("p", s.as_bytes(), &PolicyKind::Managed);
        // A document that is not JSON is always rejected with IAM's syntax message.
        if !ours {
            prop_assert_eq!(r.iam_message(), Some("Syntax errors in policy."));
        }
    }
}
