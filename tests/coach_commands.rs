//! A coach's commands by email — `pms`, `trend <pm>`, `help` — through the
//! running service: answered only at the coach's registered address, only
//! about the coach's own PMs, and only with the weeks of their own pairing.

mod util;

use chrono::Duration;
use util::*;

const ALICE: (&str, &str) = ("Alice Martin", "alice@example.org");
const MAYA: (&str, &str) = ("Maya Chen", "maya@example.org");
const TOM: (&str, &str) = ("Tom Okafor", "tom@example.org");

/// Monday 5 January 2026: Maya coaches Alice, Bruno and Chloé; Tom coaches
/// Dev and Emma.
fn start() -> Harness {
    Harness::start_with(utc(2026, 1, 5, 8, 0), trusting_mx)
}

/// A fresh message from `from` with `body`, delivered; what it caused.
fn command(h: &mut Harness, from: (&str, &str), body: &str, unique: &str) -> Vec<Sent> {
    command_with(h, from, body, unique, &[])
}

fn command_with(
    h: &mut Harness,
    from: (&str, &str),
    body: &str,
    unique: &str,
    headers: &[(String, String)],
) -> Vec<Sent> {
    let raw = mail(from, "hello", body, headers, unique, h.now());
    let before = h.sent_count();
    h.deliver_and_pass(&format!("{unique}.eml"), &raw);
    h.sent_new(before)
}

/// Alice answers her newest form with every skill at `score`.
fn alice_answers(h: &mut Harness, score: u8, unique: &str) {
    let form = h
        .sent_of("form")
        .into_iter()
        .rfind(|s| s.to == ALICE.1)
        .expect("alice's form");
    let raw = reply_with(h, &form, ALICE, score, "", unique);
    h.deliver_and_pass(&format!("{unique}.eml"), &raw);
}

#[test]
fn pms_lists_the_coachs_own_pms_with_next_one_on_one_last_reply_and_open_actions() {
    let mut h = start();
    h.run_until(utc(2026, 1, 9, 17, 0), Duration::hours(1));
    alice_answers(&mut h, 4, "a1");
    let sent = command(&mut h, MAYA, "pms", "c1");
    assert_eq!(
        sent.len(),
        1,
        "{:?}",
        sent.iter().map(|s| &s.key).collect::<Vec<_>>()
    );
    let answer = &sent[0];
    assert_eq!(
        (answer.kind(), answer.to.as_str()),
        ("coach_answer", MAYA.1)
    );
    for name in ["Alice Martin", "Bruno Silva", "Chloé Dubois"] {
        assert!(answer.text.contains(name), "{name}: {}", answer.text);
    }
    for other in ["Dev Patel", "Emma Walker"] {
        assert!(
            !answer.text.contains(other),
            "{other} is Tom's: {}",
            answer.text
        );
        assert!(!answer.html.contains(other));
    }
    assert!(
        answer
            .text
            .contains("Next 1:1: Mon 12 Jan 2026, 10:00 (Europe/Paris)"),
        "{}",
        answer.text
    );
    assert!(
        answer.text.contains("Last reply: week of 5–11 Jan 2026"),
        "{}",
        answer.text
    );
    assert!(
        answer.text.contains("Last reply: none yet"),
        "{}",
        answer.text
    );
    assert!(answer.text.contains("Open actions: 0"), "{}", answer.text);
}

#[test]
fn trend_of_a_pm_not_the_coachs_reads_exactly_like_a_name_of_nobody() {
    let mut h = start();
    h.run_until(utc(2026, 1, 9, 17, 0), Duration::hours(1));
    let dev = command(&mut h, MAYA, "trend dev", "c1");
    let nobody = command(&mut h, MAYA, "trend zed", "c2");
    assert_eq!(dev.len(), 1);
    assert_eq!(nobody.len(), 1);
    assert_eq!(dev[0].kind(), "coach_answer");
    assert_eq!(nobody[0].kind(), "coach_answer");
    assert_eq!(
        dev[0].text.replace("\"dev\"", "\"zed\""),
        nobody[0].text,
        "the answer about Tom's PM differs from the one about nobody"
    );
    assert!(!dev[0].text.contains("Dev Patel"));
    assert!(dev[0].text.contains("None of your PMs is called \"dev\""));
}

#[test]
fn trend_of_the_coachs_pm_goes_to_the_registered_address_whatever_reply_to_says() {
    let mut h = start();
    h.run_until(utc(2026, 1, 9, 17, 0), Duration::hours(1));
    alice_answers(&mut h, 4, "a1");
    let sent = command_with(
        &mut h,
        MAYA,
        "trend Alice",
        "c1",
        &[(
            "Reply-To".to_string(),
            "attacker@elsewhere.example".to_string(),
        )],
    );
    assert_eq!(sent.len(), 1);
    let trend = &sent[0];
    assert_eq!((trend.kind(), trend.to.as_str()), ("coach_trend", MAYA.1));
    // Threaded under the coach's message; no PM's name on a lock screen.
    assert_eq!(trend.subject, "Re: hello");
    assert!(trend.text.contains("4/5"), "{}", trend.text);
    assert!(!String::from_utf8_lossy(&trend.bytes).contains("attacker@"));
    // Kept under Alice: her `forget` removes it with the rest.
    let conn = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
    let pm: Option<String> = conn
        .query_row(
            "SELECT pm FROM outbox WHERE kind = 'coach_trend'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(pm.as_deref(), Some("alice"));
}

#[test]
fn a_new_coachs_trend_shows_only_the_weeks_of_their_own_pairing() {
    let mut h = start();
    // Three weeks of 5s under Maya.
    for (i, until) in [
        utc(2026, 1, 9, 17, 0),
        utc(2026, 1, 16, 17, 0),
        utc(2026, 1, 23, 17, 0),
    ]
    .into_iter()
    .enumerate()
    {
        h.run_until(until, Duration::hours(1));
        alice_answers(&mut h, 5, &format!("a{i}"));
    }
    let maya = command(&mut h, MAYA, "trend alice", "c1");
    assert!(maya[0].text.contains("5/5"), "{}", maya[0].text);
    // Alice moves to Tom, then answers a week of 2s.
    h.restart_with(|t| {
        trusting_mx(t).replacen(
            "email = \"alice@example.org\"\ncoach = \"maya\"",
            "email = \"alice@example.org\"\ncoach = \"tom\"",
            1,
        )
    });
    h.run_until(utc(2026, 1, 30, 17, 0), Duration::hours(1));
    alice_answers(&mut h, 2, "a9");
    let tom = command(&mut h, TOM, "trend alice", "c2");
    assert_eq!((tom[0].kind(), tom[0].to.as_str()), ("coach_trend", TOM.1));
    assert!(tom[0].text.contains("2/5"), "{}", tom[0].text);
    let rows: Vec<&str> = tom[0]
        .text
        .lines()
        .filter(|l| l.starts_with("• "))
        .collect();
    assert_eq!(rows.len(), 8, "{}", tom[0].text);
    assert!(
        rows.iter().all(|r| !r.contains('█') && !r.contains("5/5")),
        "Maya's weeks reached Tom: {}",
        tom[0].text
    );
    assert!(
        tom[0].text.contains("over the last 1 week,"),
        "{}",
        tom[0].text
    );
    // And Maya no longer has Alice.
    let maya = command(&mut h, MAYA, "trend alice", "c3");
    assert_eq!(maya[0].kind(), "coach_answer");
    assert!(
        maya[0].text.contains("None of your PMs"),
        "{}",
        maya[0].text
    );
}

#[test]
fn help_or_an_unknown_word_lists_the_coach_commands_and_a_pm_never_gets_them() {
    let mut h = start();
    let help = command(&mut h, MAYA, "help", "c1");
    assert_eq!(help[0].kind(), "coach_answer");
    for usage in ["pms", "trend <name>", "help"] {
        assert!(help[0].text.contains(usage), "{}", help[0].text);
    }
    let unknown = command(&mut h, MAYA, "frobnicate", "c2");
    assert!(
        unknown[0]
            .text
            .contains("\"frobnicate\" is not a command I know"),
        "{}",
        unknown[0].text
    );
    // A sentence from a coach is no command: the "only replies to a
    // digest are read" answer.
    let sentence = command(&mut h, MAYA, "Thanks for the digest, see you Monday", "c3");
    assert_eq!(sentence[0].kind(), "ack");
    // A PM's `pms` is a PM's (unknown) command, never the coach's list.
    let pm = command(&mut h, ALICE, "pms", "p1");
    assert!(
        pm.iter()
            .all(|s| s.kind() != "coach_answer" && s.to == ALICE.1)
    );
    assert!(pm.iter().all(|s| !s.text.contains("Bruno Silva")));
}

#[test]
fn a_coach_command_that_fails_dmarc_gets_no_answer() {
    let mut h = start();
    let sent = command_with(&mut h, MAYA, "pms", "c1", &[dmarc("fail", "example.org")]);
    assert!(
        sent.iter().all(|s| s.kind() != "coach_answer"),
        "{:?}",
        sent.iter().map(|s| &s.key).collect::<Vec<_>>()
    );
}
