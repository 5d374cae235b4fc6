//! Fuzzes the HTML reader: it must never panic, and its text must stay
//! within the output cap whatever the HTML, with the default limits and
//! with small ones (chosen by the first byte) that make every cap bite.
#![no_main]

use coachmail::understand::mime::html::{self, Limits};
use coachmail::understand::mime::{MAX_TEXT_BYTES, html_to_text};
use libfuzzer_sys::fuzz_target;

fn check(text: &str, max_output_bytes: usize) {
    assert!(
        text.len() <= max_output_bytes,
        "{} bytes over the {max_output_bytes}-byte cap",
        text.len()
    );
    assert!(text.is_empty() || text.ends_with('\n'));
    assert!(
        text.lines().all(|l| !l.ends_with(' ')),
        "a line ends with a space"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let input = String::from_utf8_lossy(rest);
    let limits = Limits {
        max_depth: usize::from(mode & 0x0f),
        max_elements: usize::from(mode >> 4) * 8,
        max_output_bytes: usize::from(*mode) * 4 + 1,
    };
    check(&html::to_text_with(&input, &limits), limits.max_output_bytes);
    check(&html::to_text(&input), html::MAX_OUTPUT_BYTES);
    assert!(html_to_text(&input).len() <= MAX_TEXT_BYTES);
});
