//! Nothing private in the logs: a whole cycle at DEBUG level, with canary
//! strings in notes, comments and subjects.
//!
//! Its own test binary, holding one test: log capture with a scoped
//! subscriber is only reliable when no other test runs in the process.

mod util;

use chrono::Duration;
use coachmail::clock::Clock;
use util::{Harness, dmarc, logs_of, mail, reply_with, trusting_mx, utc};

const ALICE: (&str, &str) = ("Alice Martin", "alice@example.org");

/// The tests of this binary take turns: log capture is per process.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn a_full_cycle_at_debug_level_logs_no_note_comment_subject_or_address() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let note = "CANARY-note-5d1e my manager is the problem";
    let comment = "CANARY-comment-0b7c";
    let subject = "CANARY-subject-e4a9";
    let mut h = Harness::start_with(utc(2026, 1, 5, 8, 0), trusting_mx);
    let ((), logs) = logs_of(|| {
        for week in 0..5 {
            // The week's forms go out on Friday.
            h.run_until(
                utc(2026, 1, 9, 20, 0) + Duration::weeks(week),
                Duration::hours(3),
            );
            let form = h
                .sent_of("form")
                .into_iter()
                .rev()
                .find(|s| s.to == "alice@example.org")
                .unwrap();
            let score = if week == 4 { 1 } else { 4 };
            let raw = reply_with(&h, &form, ALICE, score, note, &format!("w{week}"));
            h.deliver_and_pass(&format!("w{week}.eml"), &raw);
        }
        // A fresh message with a canary subject and a comment after a score.
        let raw = mail(
            ALICE,
            subject,
            &format!("Delivery: 2 {comment}\n{note}"),
            &[dmarc("pass", "example.org")],
            "fresh",
            h.clock.now(),
        );
        h.deliver_and_pass("fresh.eml", &raw);
        // The digest before Monday's 1:1, then every command.
        h.run_until(utc(2026, 2, 9, 9, 0), Duration::hours(3));
        for (i, command) in [
            "trend",
            "trend delivery 8",
            "export",
            "pause 1 week",
            "resume",
            "skip",
            "bogus",
            "forget",
        ]
        .iter()
        .enumerate()
        {
            let raw = mail(
                ALICE,
                command,
                "",
                &[dmarc("pass", "example.org")],
                &format!("c{i}"),
                h.clock.now(),
            );
            h.deliver_and_pass(&format!("c{i}.eml"), &raw);
        }
        let request = h.sent_of("forget").pop().unwrap();
        let code = request
            .text
            .lines()
            .find_map(|l| l.trim().strip_prefix("forget "))
            .unwrap()
            .to_string();
        let raw = mail(
            ALICE,
            "Re: forget",
            &format!("forget {code}"),
            &[dmarc("pass", "example.org")],
            "bye",
            h.clock.now(),
        );
        h.deliver_and_pass("bye.eml", &raw);
    });
    // The cycle really ran: the canaries reached the coach and the PM.
    let digest = h
        .sent_of("digest")
        .into_iter()
        .rev()
        .find(|d| d.subject.contains("Alice"))
        .unwrap();
    assert!(
        digest.text.contains(note) && digest.text.contains(comment),
        "{}",
        digest.text
    );
    for kind in [
        "confirm",
        "trend",
        "export",
        "ack",
        "help",
        "forget",
        "forgotten",
    ] {
        assert!(!h.sent_of(kind).is_empty(), "{kind}");
    }
    assert!(logs.lines().count() > 50, "debug logging was on:\n{logs}");
    assert!(logs.contains("DEBUG"), "debug lines were captured:\n{logs}");
    for canary in [note, comment, subject, "CANARY"] {
        assert!(!logs.contains(canary), "{canary} in the logs:\n{logs}");
    }
    let config = &h.service.engine.config;
    for address in config
        .pms
        .iter()
        .map(|p| &p.email)
        .chain(config.coaches.iter().map(|c| &c.email))
    {
        assert!(!logs.contains(address.as_str()), "{address} in the logs");
    }
}

// --- at rest -------------------------------------------------------------------

/// Repeated warnings about one stuck message: one line a minute, not one a
/// pass. (In this binary: log capture needs its process to itself, so the
/// two tests here take turns.)
#[test]
fn a_stuck_message_warns_once_a_minute_not_once_a_pass() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mut h = Harness::start(utc(2026, 11, 23, 0, 0));
    h.run_until(utc(2026, 11, 27, 16, 0), Duration::hours(1));
    let db = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
    db.execute_batch("ALTER TABLE forms RENAME TO forms_away")
        .unwrap();
    let form = h
        .sent_of("form")
        .into_iter()
        .find(|s| s.to == ALICE.1)
        .expect("alice got her form");
    // A keyed reply: reading it needs the forms lookup, which now fails.
    let raw = reply_with(&h, &form, ALICE, 3, "", "stuck1");
    h.deliver("1.stuck1.host", &raw);
    let ((), logs) = logs_of(|| {
        // Thirty passes two seconds apart, all within one minute.
        for _ in 0..30 {
            h.clock.advance(Duration::seconds(2));
            let now = h.clock.now();
            h.service.read_inbox(now).ok();
        }
    });
    let lines = logs.matches("could not be applied").count();
    assert_eq!(lines, 1, "{logs}");
    // The next minute: one more line, saying how many were held back.
    let ((), logs) = logs_of(|| {
        h.clock.advance(Duration::seconds(61));
        let now = h.clock.now();
        h.service.read_inbox(now).ok();
    });
    assert_eq!(logs.matches("could not be applied").count(), 1, "{logs}");
    assert!(logs.contains("held_back="), "{logs}");
    db.execute_batch("ALTER TABLE forms_away RENAME TO forms")
        .unwrap();
}

#[test]
fn every_refused_or_ignored_message_is_logged_with_a_content_free_reason_code() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mut h = Harness::start_with(utc(2026, 1, 5, 8, 0), trusting_mx);
    let now = h.clock.now();
    let stranger = ("Mallory", "mallory@example.net");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "unknown-sender",
            mail(stranger, "trend", "trend", &[], "r1", now),
        ),
        (
            "no-reply-key",
            mail(ALICE, "week", "Delivery: 3", &[], "r2", now),
        ),
        (
            "dmarc-fail",
            mail(
                ALICE,
                "trend",
                "trend",
                &[dmarc("fail", "example.org")],
                "r3",
                now,
            ),
        ),
        (
            "auto-reply",
            mail(
                ALICE,
                "Out of office",
                "I am away.",
                &[("Auto-Submitted".into(), "auto-replied".into())],
                "r4",
                now,
            ),
        ),
        (
            "from-twice",
            String::from_utf8(mail(ALICE, "trend", "trend", &[], "r5", now))
                .unwrap()
                .replacen("From: ", "From: mallory@example.net\r\nFrom: ", 1)
                .into_bytes(),
        ),
    ];
    for (i, (code, raw)) in cases.iter().enumerate() {
        let ((), logs) = logs_of(|| {
            h.deliver_and_pass(&format!("r{i}.eml"), raw);
        });
        assert!(
            logs.lines().any(|l| l.contains(&format!("reason={code}"))
                || l.contains(&format!("reason=\"{code}\""))),
            "{code} not logged:\n{logs}"
        );
        for private in ["mallory@example.net", "alice@example.org", "I am away"] {
            assert!(!logs.contains(private), "{private} in the log:\n{logs}");
        }
    }
}
