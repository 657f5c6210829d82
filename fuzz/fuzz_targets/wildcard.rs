//! The compiled wildcard matcher agrees with the obviously-correct recursive one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swf_iam::pattern::{naive_match, Pattern};

fuzz_target!(|data: (String, String)| {
    let (pattern, subject) = data;
    // Keep the exponential reference matcher tractable.
    if pattern.chars().count() > 12 || subject.chars().count() > 24 {
        return;
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = subject.chars().collect();
    assert_eq!(Pattern::new(&pattern).matches(&subject), naive_match(&p, &s), "{pattern:?} ~ {subject:?}");
});
