//! Nothing stalls the service: outgoing mail has a size budget, a message
//! that keeps failing is quarantined instead of blocking the rest, and
//! reading the inbox and delivering the outbox never wait on each other.

mod util;

use chrono::Duration;
use coachmail::engine::MAX_EMAIL_BYTES;
use util::{Harness, reply_with, utc};

const ALICE: (&str, &str) = ("Alice Martin", "alice@example.org");

/// A service whose PMs may write the longest notes the config allows, with
/// alice's form of the week of 2026-11-23 sent.
fn with_alices_form(edit: impl Fn(String) -> String) -> (Harness, util::Sent) {
    let mut h = Harness::start_with(utc(2026, 11, 23, 0, 0), edit);
    h.run_until(utc(2026, 11, 27, 16, 0), Duration::hours(1));
    let form = h
        .sent_of("form")
        .into_iter()
        .find(|s| s.to == ALICE.1)
        .expect("alice got her form");
    (h, form)
}

fn longest_notes(t: String) -> String {
    t.replace("max_note_bytes = 10_240", "max_note_bytes = 102_400")
        .replace(
            "max_digest_note_bytes = 200_000",
            "max_digest_note_bytes = 900_000",
        )
}

#[test]
fn a_digest_of_the_longest_notes_allowed_is_cut_under_1_mb_with_a_visible_marker() {
    let (mut h, form) = with_alices_form(longest_notes);
    // Nine notes of 100 KB each, in letters that quoted-printable triples.
    for i in 0..9 {
        let note = format!("Grüße aus Köln {i} — ").repeat(4_200);
        let raw = reply_with(&h, &form, ALICE, 4, &note, &format!("long{i}"));
        h.clock.advance(Duration::minutes(1));
        h.deliver_and_pass(&format!("{i}.long.host"), &raw);
    }
    let before = h.sent_count();
    let until = h.now() + Duration::days(7);
    h.run_until(until, Duration::hours(1));
    let digest = h
        .sent_new(before)
        .into_iter()
        .find(|s| s.kind() == "digest" && s.subject.contains("Alice"))
        .expect("alice's coach got her digest");
    assert!(
        digest.bytes.len() < MAX_EMAIL_BYTES,
        "{} bytes",
        digest.bytes.len()
    );
    assert!(digest.text.contains("…cut"), "no cut marker in the text");
    assert!(digest.html.contains("…cut"), "no cut marker in the HTML");
    assert!(digest.text.contains("Grüße aus Köln 0"));
}

#[test]
fn a_reply_of_29000_conflicting_lines_and_a_huge_note_gets_a_short_confirmation() {
    let (mut h, form) = with_alices_form(longest_notes);
    let mut body: String = (0..29_000)
        .map(|i| if i % 2 == 0 { "Data: 3\n" } else { "Data: 4\n" })
        .collect();
    body.push_str(&"ünd noch etwas ".repeat(20_000));
    let raw = reply_with(&h, &form, ALICE, 4, &body, "flood");
    h.clock.advance(Duration::minutes(5));
    let before = h.sent_count();
    h.deliver_and_pass("1.flood.host", &raw);
    let confirm = h
        .sent_new(before)
        .into_iter()
        .find(|s| s.kind() == "confirm")
        .expect("the reply was confirmed");
    assert!(
        confirm.bytes.len() < 100_000,
        "{} bytes",
        confirm.bytes.len()
    );
    assert!(
        confirm.text.contains("more lines I could not read"),
        "{}",
        confirm.text
    );
}
