//! Bad and huge input: a clear disposition, never a panic, bounded work.

mod util;

use std::time::{Duration, Instant};

use coachmail::understand::{Context, Kind, Understanding, understand};
use util::{KEY, one_form, shipped_config as config};

fn head(content_type: &str) -> String {
    format!(
        "From: Alice Martin <alice@example.org>\r\nTo: reflect+{KEY}@example.org\r\nSubject: Re: week\r\nMessage-ID: <big@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n"
    )
}

fn run(raw: &[u8]) -> (Understanding, Duration) {
    let config = config();
    let ctx = Context {
        config: &config,
        forms: &one_form(),
        now: "2026-11-28T10:00:00Z".parse().unwrap(),
    };
    let t = Instant::now();
    let u = understand(raw, &ctx).unwrap();
    (u, t.elapsed())
}

#[test]
fn message_over_the_size_limit_is_rejected_unread() {
    let limit = config().auth.max_message_bytes;
    let mut raw = head("text/plain").into_bytes();
    raw.extend(std::iter::repeat_n(b'a', limit + 1 - raw.len() + 1));
    let (u, _) = run(&raw);
    assert_eq!(u.kind, Kind::Rejected);
    assert!(u.reason.unwrap().contains("auth.max_message_bytes"));
    assert_eq!(u.message_id, None, "not even the headers are read");
    assert_eq!(u.content_hash.len(), 64);
}

#[test]
fn ten_megabyte_text_reply_is_read_from_its_top() {
    let mut raw = head("text/plain; charset=utf-8");
    raw.push_str("Data: 3\r\nA long week.\r\n");
    while raw.len() < 9_900_000 {
        raw.push_str("lorem ipsum dolor sit amet, consectetur adipiscing elit 12\r\n");
    }
    let (u, took) = run(raw.as_bytes());
    assert_eq!(u.kind, Kind::Assessment);
    assert_eq!(u.scores.get("data"), Some(&3));
    let note = u.note.unwrap();
    assert!(note.starts_with("A long week."));
    assert!(note.len() <= 256 * 1024, "note of {} bytes", note.len());
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn ten_megabyte_line_without_breaks_is_a_note_not_a_hang() {
    let mut raw = head("text/plain; charset=utf-8").into_bytes();
    raw.extend(std::iter::repeat_n(b'x', 9_000_000));
    let (u, took) = run(&raw);
    assert_eq!(u.kind, Kind::Assessment);
    assert!(u.scores.is_empty());
    assert!(u.note.is_some_and(|n| n.len() <= 256 * 1024));
    let (u2, _) = {
        let mut raw = head("text/plain; charset=utf-8").into_bytes();
        raw.extend(b"Data: 3 ".iter().cycle().take(9_000_000));
        run(&raw)
    };
    assert_eq!(u2.kind, Kind::Assessment);
    assert!(u2.scores.is_empty(), "an endless line is never an answer");
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn huge_html_reply_is_converted_within_bounds() {
    let mut raw = head("text/html; charset=utf-8");
    raw.push_str("<html><body><p>Delivery: 4</p>");
    while raw.len() < 9_000_000 {
        raw.push_str("<div><span>filler</span><blockquote>more</blockquote></div>\r\n");
    }
    let (u, took) = run(raw.as_bytes());
    assert_eq!(u.kind, Kind::Assessment);
    assert_eq!(u.scores.get("delivery"), Some(&4));
    assert!(took < Duration::from_secs(60), "took {took:?}");
}

#[test]
fn ten_thousand_references_are_bounded() {
    let mut refs = String::new();
    for i in 0..10_000 {
        refs.push_str(&format!(" <r{i}@example.com>"));
    }
    let raw = format!(
        "From: alice@example.org\r\nTo: pulse@example.org\r\nReferences:{refs}\r\nIn-Reply-To: <r1@example.com>\r\nContent-Type: text/plain\r\n\r\nData: 3\r\n"
    );
    let (u, _) = run(raw.as_bytes());
    assert_eq!(u.kind, Kind::Rejected);
    assert!(u.reason.unwrap().contains("no reply key"));
}

#[test]
fn deeply_nested_attached_messages_are_refused_or_read_never_crash() {
    let mut raw = String::from("Data: 3\r\n");
    for i in 0..200 {
        raw = format!(
            "From: alice@example.org\r\nTo: reflect+{KEY}@example.org\r\nMessage-ID: <n{i}@x>\r\nContent-Type: message/rfc822\r\n\r\n{raw}"
        );
    }
    let (u, _) = run(raw.as_bytes());
    assert!(matches!(u.kind, Kind::Rejected | Kind::Assessment), "{u:?}");
}

#[test]
fn nul_bytes_and_invalid_utf8_in_headers_do_not_matter() {
    let raw = format!(
        "From: Alice \u{0} <alice@example.org>\r\nTo: reflect+{KEY}@example.org\r\nSubject: \u{fffd}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nData: 3\r\n"
    );
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(b"\xff\xfe\x00 noise\r\n");
    let (u, _) = run(&raw);
    assert_eq!(u.kind, Kind::Assessment);
    assert_eq!(u.scores.get("data"), Some(&3));
}
