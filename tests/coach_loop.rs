//! The coach's side of the loop, end to end: a coach replies to a digest
//! (real RFC 5322 messages into the Maildir, a real SQLite file, .eml files
//! out, a manual clock), what they wrote is recorded for the pairing and
//! confirmed, the PM gets the agreed actions, the next digest shows them.
//! And every way to misuse a digest's reply key is refused, each by the
//! check it names.

mod util;

use chrono::{DateTime, Duration, Utc};
use util::*;

const ALICE: (&str, &str) = ("Alice Martin", "alice@example.org");
const MAYA: (&str, &str) = ("Maya Chen", "maya@example.org");
const TOM: (&str, &str) = ("Tom Okafor", "tom@example.org");

/// Monday 5 January 2026, 08:00 UTC. Alice (Paris, coached by Maya) gets
/// her form on Friday 9 Jan at 16:00 local; her 1:1 is Mondays 10:00 local,
/// so Maya's digest about her goes out at 08:00 local (07:00 UTC).
fn start() -> Harness {
    Harness::start_with(utc(2026, 1, 5, 8, 0), trusting_mx)
}

fn now(h: &Harness) -> DateTime<Utc> {
    h.now()
}

/// The newest digest about Alice sent to `coach`, after running the clock
/// to `until`.
fn digest_about_alice(h: &mut Harness, until: DateTime<Utc>, coach: &str) -> Sent {
    h.run_until(until, Duration::hours(1));
    h.sent_of("digest")
        .into_iter()
        .rfind(|d| d.to == coach && d.subject.contains("Alice"))
        .expect("a digest about Alice")
}

/// Alice's newest form.
fn alice_form(h: &Harness) -> Sent {
    h.sent_of("form")
        .into_iter()
        .rfind(|s| s.to == ALICE.1)
        .expect("a form for Alice")
}

/// A reply as a mail client writes it: `body` on top, a signature, then
/// `quoted` (the email replied to) quoted under an attribution line;
/// From `from`, To `to`, threaded under `quoted`, with `extra` headers.
fn reply(
    quoted: &Sent,
    from: (&str, &str),
    to: &str,
    body: &str,
    unique: &str,
    at: DateTime<Utc>,
    extra: &[(String, String)],
) -> Vec<u8> {
    let quote: String = quoted.text.lines().map(|l| format!("> {l}\n")).collect();
    let full = format!(
        "{body}\n\n-- \n{}\n\nOn Mon, 12 Jan 2026 at 08:00, PM Pulse <pulse@example.org> wrote:\n{quote}",
        from.0
    );
    let mid = quoted.message().message_id().unwrap().to_string();
    let mut headers = vec![("In-Reply-To".to_string(), format!("<{mid}>"))];
    headers.extend(extra.iter().cloned());
    let raw = String::from_utf8(mail(
        from,
        &format!("Re: {}", quoted.subject),
        &full,
        &headers,
        unique,
        at,
    ))
    .unwrap();
    raw.replace("To: PM Pulse <pulse@example.org>", &format!("To: {to}"))
        .into_bytes()
}

/// The reply address an email asks replies to go to (its key inside).
fn reply_to(sent: &Sent) -> String {
    sent.headers().reply_to
}

fn deliver(h: &mut Harness, raw: &[u8], unique: &str) -> Vec<Sent> {
    let before = h.sent_count();
    h.deliver_and_pass(&format!("{unique}.eml"), raw);
    h.sent_new(before)
}

/// How message `unique` was logged: (pm, kind, reason).
fn logged(h: &Harness, unique: &str) -> (Option<String>, String, Option<String>) {
    let conn = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
    conn.query_row(
        "SELECT pm, kind, reason FROM inbound WHERE dedup_key = ?1",
        [format!("mid:{unique}@client.example")],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .unwrap()
}

fn count(h: &Harness, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Rows the coach's side holds, all PMs: actions, private notes, 1:1 changes.
fn coach_rows(h: &Harness) -> (i64, i64, i64) {
    (
        count(h, "SELECT count(*) FROM actions"),
        count(h, "SELECT count(*) FROM coach_notes"),
        count(h, "SELECT count(*) FROM schedule_changes"),
    )
}

const PRIVATE: &str = "CANARY-private-5d1e seems worn out after the re-org";
const ACTION_1: &str = "send the roadmap draft to sales by Thursday";
const ACTION_2: &str = "book two discovery calls";

/// Maya's reply after the 1:1: two actions, a 1:1 change, a private note.
fn mayas_notes() -> String {
    format!("Action: {ACTION_1}\n- [ ] {ACTION_2}\nmoved to thu 15:00\n\nPrivate:\n{PRIVATE}")
}

/// `needle` in `hay`, whatever the case (the reader may capitalise an action).
fn has(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

fn all_text(s: &Sent) -> String {
    format!("{}\n{}\n{}", s.subject, s.text, s.html)
}

// --- the loop ---------------------------------------------------------------

#[test]
fn a_coachs_reply_is_recorded_confirmed_sent_on_without_the_note_and_shown_in_the_next_digest() {
    let mut h = start();
    let digest = digest_about_alice(&mut h, utc(2026, 1, 12, 8, 0), MAYA.1);
    let address = reply_to(&digest);
    assert!(address.starts_with("reflect+"), "{address}");
    assert!(
        digest.text.contains("reply to this email"),
        "{}",
        digest.text
    );
    assert!(digest.text.contains("\"Private:\""), "{}", digest.text);

    let raw = reply(&digest, MAYA, &address, &mayas_notes(), "c1", now(&h), &[]);
    let sent = deliver(&mut h, &raw, "c1");
    assert_eq!(
        logged(&h, "c1"),
        (
            Some("alice".into()),
            "assessment".into(),
            Some("coach".into())
        )
    );

    // The coach's confirmation: to her registered address, what was
    // recorded, that a private note was kept — never its text.
    let confirm = sent.iter().find(|s| s.kind() == "coach_confirm").unwrap();
    assert_eq!(confirm.to, MAYA.1);
    assert!(
        has(&confirm.text, ACTION_1) && has(&confirm.text, ACTION_2),
        "{}",
        confirm.text
    );
    assert!(
        confirm.text.contains("private note was kept"),
        "{}",
        confirm.text
    );
    assert!(
        confirm.text.contains("moved to Thu 15:00"),
        "{}",
        confirm.text
    );
    // Replied before that day's 1:1 (10:00 Paris): it is the one that moves.
    assert!(
        confirm
            .text
            .contains("Next 1:1: Thu 15 Jan 2026, 15:00 (Europe/Paris)"),
        "{}",
        confirm.text
    );
    assert!(!all_text(confirm).contains("CANARY-private"));

    // The PM's "from your 1:1" email: the actions only.
    let actions = sent.iter().find(|s| s.kind() == "actions").unwrap();
    assert_eq!(actions.to, ALICE.1);
    assert!(
        has(&actions.text, ACTION_1) && has(&actions.text, ACTION_2),
        "{}",
        actions.text
    );
    assert!(actions.subject.contains("Maya Chen"), "{}", actions.subject);
    for s in sent.iter().filter(|s| s.to == ALICE.1) {
        assert!(!String::from_utf8_lossy(&s.bytes).contains("CANARY-private"));
        assert!(!all_text(s).contains("worn out"));
    }
    assert_eq!(
        sent.len(),
        2,
        "{:?}",
        sent.iter().map(|s| &s.key).collect::<Vec<_>>()
    );
    assert_eq!(coach_rows(&h), (2, 1, 1));

    // The same message again: applied once, answered once.
    let again = deliver(&mut h, &raw, "c1-again");
    assert!(
        again.is_empty(),
        "{:?}",
        again.iter().map(|s| &s.key).collect::<Vec<_>>()
    );
    assert_eq!(coach_rows(&h), (2, 1, 1));

    // The next digest, to Maya only: the open actions numbered, her
    // private note, a reply address of its own.
    let next = digest_about_alice(&mut h, utc(2026, 1, 19, 8, 0), MAYA.1);
    assert_ne!(next.key, digest.key);
    assert!(has(&next.text, &format!("1. {ACTION_1}")), "{}", next.text);
    assert!(has(&next.text, &format!("2. {ACTION_2}")), "{}", next.text);
    assert!(next.text.contains("CANARY-private"), "{}", next.text);
    assert!(next.html.contains("CANARY-private"));
    let next_address = reply_to(&next);
    assert_ne!(next_address, address, "each digest has its own key");
    for s in h.sent().iter().filter(|s| s.to != MAYA.1) {
        assert!(
            !String::from_utf8_lossy(&s.bytes).contains("CANARY-private"),
            "{}",
            s.key
        );
    }

    // `drop 2` closes the second action; no new action, no email to Alice.
    let raw = reply(&next, MAYA, &next_address, "drop 2", "c2", now(&h), &[]);
    let sent = deliver(&mut h, &raw, "c2");
    assert_eq!(
        sent.len(),
        1,
        "{:?}",
        sent.iter().map(|s| &s.key).collect::<Vec<_>>()
    );
    assert!(sent[0].text.contains("Dropped:"), "{}", sent[0].text);
    assert!(has(&sent[0].text, ACTION_2), "{}", sent[0].text);
    assert_eq!(
        count(&h, "SELECT count(*) FROM actions WHERE status = 'open'"),
        1
    );

    // The digest after: one open action; the note of two digests ago is
    // not repeated.
    let third = digest_about_alice(&mut h, utc(2026, 1, 26, 8, 0), MAYA.1);
    assert!(
        has(&third.text, &format!("1. {ACTION_1}")),
        "{}",
        third.text
    );
    assert!(!has(&third.text, ACTION_2), "{}", third.text);
    assert!(!third.text.contains("CANARY-private"), "{}", third.text);
}

#[test]
fn a_reply_to_the_coachs_confirmation_is_read_like_a_reply_to_the_digest() {
    let mut h = start();
    let digest = digest_about_alice(&mut h, utc(2026, 1, 12, 8, 0), MAYA.1);
    let raw = reply(
        &digest,
        MAYA,
        &reply_to(&digest),
        &mayas_notes(),
        "c5",
        now(&h),
        &[],
    );
    let sent = deliver(&mut h, &raw, "c5");
    let confirm = sent.iter().find(|s| s.kind() == "coach_confirm").unwrap();
    assert_eq!(reply_to(confirm), reply_to(&digest));
    let raw = reply(
        confirm,
        MAYA,
        &reply_to(confirm),
        "Action: share the pricing memo",
        "c6",
        now(&h),
        &[],
    );
    let sent = deliver(&mut h, &raw, "c6");
    assert!(sent.iter().any(|s| s.kind() == "coach_confirm"));
    assert_eq!(coach_rows(&h), (3, 1, 1));
}

#[test]
fn an_inline_reply_between_the_digests_quoted_lines_keeps_only_the_coachs_words() {
    let mut h = start();
    let digest = digest_about_alice(&mut h, utc(2026, 1, 12, 8, 0), MAYA.1);
    // Gmail-style inline: the coach writes under quoted parts of the digest.
    let lines: Vec<&str> = digest.text.lines().collect();
    let mut body =
        String::from("On Mon, 12 Jan 2026 at 08:00, PM Pulse <pulse@example.org> wrote:\n");
    for l in &lines[..4] {
        body.push_str(&format!("> {l}\n"));
    }
    body.push_str(&format!("\nAction: {ACTION_1}\n\n"));
    for l in &lines[4..] {
        body.push_str(&format!("> {l}\n"));
    }
    body.push_str("\nPrivate: CANARY-inline-77ab\n");
    let mid = digest.message().message_id().unwrap().to_string();
    let raw = String::from_utf8(mail(
        MAYA,
        &format!("Re: {}", digest.subject),
        &body,
        &[("In-Reply-To".into(), format!("<{mid}>"))],
        "c7",
        now(&h),
    ))
    .unwrap()
    .replace(
        "To: PM Pulse <pulse@example.org>",
        &format!("To: {}", reply_to(&digest)),
    );
    deliver(&mut h, raw.as_bytes(), "c7");
    assert_eq!(coach_rows(&h), (1, 1, 0));
    let note: String = {
        let conn = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
        conn.query_row("SELECT text FROM coach_notes", [], |r| r.get(0))
            .unwrap()
    };
    assert!(note.contains("CANARY-inline-77ab"), "{note}");
    assert!(
        !note.contains("CONFIDENTIAL") && !note.contains("wrote:"),
        "{note}"
    );
}

#[test]
fn an_out_of_office_answer_to_a_digest_records_nothing_and_is_not_answered() {
    let mut h = start();
    let digest = digest_about_alice(&mut h, utc(2026, 1, 12, 8, 0), MAYA.1);
    let raw = reply(
        &digest,
        MAYA,
        &reply_to(&digest),
        "I am out of the office until Monday with limited access to email.",
        "c8",
        now(&h),
        &[],
    );
    let sent = deliver(&mut h, &raw, "c8");
    assert_eq!(
        logged(&h, "c8"),
        (None, "ignored".into(), Some("looks-automatic".into()))
    );
    assert!(
        sent.is_empty(),
        "{:?}",
        sent.iter().map(|s| &s.key).collect::<Vec<_>>()
    );
    assert_eq!(coach_rows(&h), (0, 0, 0));
}

#[test]
fn a_drop_that_names_no_open_action_is_reported_never_guessed() {
    let mut h = start();
    let digest = digest_about_alice(&mut h, utc(2026, 1, 12, 8, 0), MAYA.1);
    let raw = reply(
        &digest,
        MAYA,
        &reply_to(&digest),
        &format!("Action: {ACTION_1}\ndrop 3\nmoved to someday"),
        "c3",
        now(&h),
        &[],
    );
    let sent = deliver(&mut h, &raw, "c3");
    let confirm = sent.iter().find(|s| s.kind() == "coach_confirm").unwrap();
    assert!(confirm.text.contains("Not understood"), "{}", confirm.text);
    assert!(confirm.text.contains("drop 3"), "{}", confirm.text);
    assert!(
        confirm.text.contains("moved to someday"),
        "{}",
        confirm.text
    );
    assert_eq!(coach_rows(&h), (1, 0, 0));
}

#[test]
fn the_coachs_words_are_never_logged() {
    let mut h = start();
    let digest = digest_about_alice(&mut h, utc(2026, 1, 12, 8, 0), MAYA.1);
    let raw = reply(
        &digest,
        MAYA,
        &reply_to(&digest),
        &mayas_notes(),
        "c4",
        now(&h),
        &[],
    );
    let (_, logs) = logs_of(|| deliver(&mut h, &raw, "c4"));
    assert!(logs.contains("coach reply recorded"), "{logs}");
    for secret in [
        "CANARY-private",
        "roadmap",
        "discovery",
        MAYA.1,
        ALICE.1,
        "reflect+",
    ] {
        assert!(!logs.contains(secret), "the log holds {secret}: {logs}");
    }
}

/// The newest coach confirmation among `sent`.
fn confirmation(sent: &[Sent]) -> &Sent {
    sent.iter()
        .find(|s| s.kind() == "coach_confirm")
        .expect("a coach confirmation")
}

#[test]
fn a_coachs_move_cancellation_and_new_cadence_move_the_digests_that_follow() {
    let mut h = start();
    let first = digest_about_alice(&mut h, utc(2026, 1, 12, 12, 0), MAYA.1);
    // After Monday's 1:1: the next one (Mon 19 Jan) moves to Thursday.
    let raw = reply(
        &first,
        MAYA,
        &reply_to(&first),
        "moved to thu 15:00",
        "m1",
        now(&h),
        &[],
    );
    let sent = deliver(&mut h, &raw, "m1");
    let confirm = confirmation(&sent);
    assert!(
        confirm
            .text
            .contains("Next 1:1: Thu 22 Jan 2026, 15:00 (Europe/Paris)"),
        "{}",
        confirm.text
    );
    // Its digest goes out two hours before the new time, not on Monday.
    let moved = digest_about_alice(&mut h, utc(2026, 1, 23, 9, 0), MAYA.1);
    assert_eq!(moved.key, "digest:alice:2026-01-19");
    assert_eq!(moved.date, utc(2026, 1, 22, 12, 0));
    assert!(
        moved.text.contains("Thu 22 Jan 2026, 15:00"),
        "{}",
        moved.text
    );

    // Then: the next one (Mon 26 Jan) is cancelled, and from the one after
    // (Mon 2 Feb) the 1:1 is fortnightly.
    let raw = reply(
        &moved,
        MAYA,
        &reply_to(&moved),
        "cancelled\nevery 2 weeks",
        "m2",
        now(&h),
        &[],
    );
    let sent = deliver(&mut h, &raw, "m2");
    assert!(
        confirmation(&sent)
            .text
            .contains("Next 1:1: Mon 2 Feb 2026, 10:00 (Europe/Paris)"),
        "{}",
        confirmation(&sent).text
    );
    h.run_until(utc(2026, 3, 3, 0, 0), Duration::hours(1));
    let keys: Vec<String> = h
        .sent_of("digest")
        .into_iter()
        .filter(|d| d.to == MAYA.1 && d.subject.contains("Alice"))
        .map(|d| d.key)
        .collect();
    assert_eq!(
        keys,
        [
            "digest:alice:2026-01-12",
            "digest:alice:2026-01-19",
            "digest:alice:2026-02-02",
            "digest:alice:2026-02-16",
            "digest:alice:2026-03-02",
        ]
    );
}

// --- attacks ------------------------------------------------------------------

/// Nothing about Alice was recorded or sent to her after a refused message.
fn nothing_applied(h: &Harness, sent: &[Sent]) {
    assert_eq!(coach_rows(h), (0, 0, 0));
    assert_eq!(h.rows_about("notes", "alice"), 0);
    assert!(
        sent.iter().all(|s| s.to != ALICE.1),
        "an email went to Alice"
    );
    assert!(sent.iter().all(|s| s.kind() != "coach_confirm"));
}

#[test]
fn a_coach_replying_with_the_digest_key_of_a_pm_not_theirs_is_refused() {
    let mut h = start();
    let digest = digest_about_alice(&mut h, utc(2026, 1, 12, 8, 0), MAYA.1);
    // Tom coaches Dev and Emma, not Alice.
    let raw = reply(
        &digest,
        TOM,
        &reply_to(&digest),
        &mayas_notes(),
        "a1",
        now(&h),
        &[],
    );
    let sent = deliver(&mut h, &raw, "a1");
    assert_eq!(
        logged(&h, "a1"),
        (None, "rejected".into(), Some("wrong-coach-key".into()))
    );
    nothing_applied(&h, &sent);
    // Tom is told at his own address, and nothing names Alice.
    let ack = sent.iter().find(|s| s.kind() == "ack").unwrap();
    assert_eq!(ack.to, TOM.1);
    assert!(!all_text(ack).contains("Alice"), "{}", ack.text);
}

#[test]
fn a_pm_forging_a_coach_reply_with_the_digest_key_is_refused_even_with_dmarc_pass() {
    let mut h = start();
    let digest = digest_about_alice(&mut h, utc(2026, 1, 12, 8, 0), MAYA.1);
    // Alice got hold of the digest: she replies to its key from her own
    // (DMARC-verified) address, to plant actions or read herself in.
    let raw = reply(
        &digest,
        ALICE,
        &reply_to(&digest),
        &mayas_notes(),
        "a2",
        now(&h),
        &[dmarc("pass", "example.org")],
    );
    let sent = deliver(&mut h, &raw, "a2");
    assert_eq!(
        logged(&h, "a2"),
        (
            Some("alice".into()),
            "rejected".into(),
            Some("wrong-pm-key".into())
        )
    );
    nothing_applied(&h, &sent);
}

#[test]
fn a_reply_from_the_coachs_address_with_the_pms_form_key_is_refused() {
    let mut h = start();
    h.run_until(utc(2026, 1, 12, 8, 0), Duration::hours(1));
    let form = alice_form(&h);
    // A forged "coach reply" sent to the PM's form address.
    let raw = reply(
        &form,
        MAYA,
        &reply_to(&form),
        &mayas_notes(),
        "a3",
        now(&h),
        &[],
    );
    let sent = deliver(&mut h, &raw, "a3");
    assert_eq!(
        logged(&h, "a3"),
        (None, "rejected".into(), Some("wrong-coach-key".into()))
    );
    nothing_applied(&h, &sent);
}

#[test]
fn a_stranger_replying_to_a_digest_is_refused_and_not_answered() {
    let mut h = start();
    let digest = digest_about_alice(&mut h, utc(2026, 1, 12, 8, 0), MAYA.1);
    let eve = ("Eve", "eve@evil.example");
    let raw = reply(
        &digest,
        eve,
        &reply_to(&digest),
        &mayas_notes(),
        "a4",
        now(&h),
        &[],
    );
    let sent = deliver(&mut h, &raw, "a4");
    assert_eq!(
        logged(&h, "a4"),
        (None, "rejected".into(), Some("unknown-sender".into()))
    );
    nothing_applied(&h, &sent);
    assert!(
        sent.is_empty(),
        "{:?}",
        sent.iter().map(|s| &s.key).collect::<Vec<_>>()
    );
}

#[test]
fn a_digest_key_past_its_expiry_is_refused() {
    let mut h = start();
    let digest = digest_about_alice(&mut h, utc(2026, 1, 12, 8, 0), MAYA.1);
    // Two weeks after the 1:1 (Mon 12 Jan, 09:00 UTC) the key has closed.
    h.run_until(utc(2026, 1, 26, 9, 30), Duration::hours(6));
    let raw = reply(
        &digest,
        MAYA,
        &reply_to(&digest),
        &mayas_notes(),
        "a5",
        now(&h),
        &[],
    );
    let sent = deliver(&mut h, &raw, "a5");
    assert_eq!(
        logged(&h, "a5"),
        (None, "rejected".into(), Some("digest-closed".into()))
    );
    nothing_applied(&h, &sent);
}

/// The shipped roster with Alice coached by `coach`.
fn alice_coached_by(coach: &'static str) -> impl Fn(String) -> String {
    move |t| {
        trusting_mx(t).replacen(
            "email = \"alice@example.org\"\ncoach = \"maya\"",
            &format!("email = \"alice@example.org\"\ncoach = \"{coach}\""),
            1,
        )
    }
}

#[test]
fn after_re_pairing_a_key_from_the_earlier_pairing_is_refused_and_nothing_of_it_shows() {
    let mut h = start();
    let first = digest_about_alice(&mut h, utc(2026, 1, 12, 8, 0), MAYA.1);
    let raw = reply(
        &first,
        MAYA,
        &reply_to(&first),
        &mayas_notes(),
        "r1",
        now(&h),
        &[],
    );
    deliver(&mut h, &raw, "r1");
    assert_eq!(coach_rows(&h), (2, 1, 1));
    // Alice moves to Tom, then back to Maya: a new pairing each time.
    h.clock.set(utc(2026, 1, 13, 9, 0));
    h.restart_with(alice_coached_by("tom"));
    let tom = digest_about_alice(&mut h, utc(2026, 1, 19, 8, 0), TOM.1);
    h.clock.set(utc(2026, 1, 20, 9, 0));
    h.restart_with(alice_coached_by("maya"));
    // Maya replies with the first digest's key: still within its two weeks,
    // and Maya is Alice's coach again, but that pairing is over.
    let raw = reply(
        &first,
        MAYA,
        &reply_to(&first),
        "Action: plant an old action",
        "r2",
        now(&h),
        &[],
    );
    let sent = deliver(&mut h, &raw, "r2");
    assert_eq!(
        logged(&h, "r2"),
        (None, "rejected".into(), Some("pairing-ended".into()))
    );
    assert_eq!(coach_rows(&h), (2, 1, 1), "nothing recorded");
    assert!(sent.iter().all(|s| s.to != ALICE.1));
    // Neither Tom's digest nor Maya's new one shows the earlier pairing's
    // actions or notes.
    let again = digest_about_alice(&mut h, utc(2026, 1, 26, 8, 0), MAYA.1);
    for d in [&tom, &again] {
        for secret in [ACTION_1, ACTION_2, "CANARY-private", "plant"] {
            assert!(!has(&all_text(d), secret), "{} shows {secret}", d.to);
        }
    }
}

// --- privacy --------------------------------------------------------------------

/// A command Alice writes as a reply to `form` (its reply key in To).
fn keyed_command(form: &Sent, body: &str, unique: &str, at: DateTime<Utc>) -> Vec<u8> {
    let raw = String::from_utf8(mail(ALICE, "Re: form", body, &[], unique, at)).unwrap();
    raw.replace(
        "To: PM Pulse <pulse@example.org>",
        &format!("To: {}", reply_to(form)),
    )
    .into_bytes()
}

#[test]
fn export_gives_the_pm_their_actions_but_not_the_coachs_private_notes() {
    let mut h = start();
    let digest = digest_about_alice(&mut h, utc(2026, 1, 12, 8, 0), MAYA.1);
    let raw = reply(
        &digest,
        MAYA,
        &reply_to(&digest),
        &mayas_notes(),
        "p1",
        now(&h),
        &[],
    );
    deliver(&mut h, &raw, "p1");
    let form = alice_form(&h);
    let ask = keyed_command(&form, "export", "p2", now(&h));
    let sent = deliver(&mut h, &ask, "p2");
    let export = sent.iter().find(|s| s.kind() == "export").unwrap();
    let msg = export.message();
    let csv_bytes = msg
        .attachments()
        .find(|a| {
            mail_parser::MimeHeaders::attachment_name(*a).is_some_and(|n| n.ends_with(".csv"))
        })
        .unwrap()
        .contents()
        .to_vec();
    let csv = String::from_utf8(csv_bytes).unwrap();
    let actions: Vec<&str> = csv.lines().filter(|l| l.starts_with("action,")).collect();
    assert_eq!(actions.len(), 2, "{csv}");
    assert!(has(&csv, ACTION_1) && has(&csv, ACTION_2), "{csv}");
    assert!(actions.iter().all(|l| l.contains(",open,")), "{csv}");
    assert!(
        !csv.contains("CANARY-private") && !csv.contains("worn out"),
        "{csv}"
    );
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn files_under(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "config") {
                continue;
            }
            files_under(&p, out);
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
}

#[test]
fn forget_removes_the_actions_and_the_coachs_private_notes_about_the_pm_everywhere() {
    let mut h = start();
    let digest = digest_about_alice(&mut h, utc(2026, 1, 12, 8, 0), MAYA.1);
    let raw = reply(
        &digest,
        MAYA,
        &reply_to(&digest),
        &mayas_notes(),
        "f1",
        now(&h),
        &[],
    );
    deliver(&mut h, &raw, "f1");
    // The next digest carries the private note to Maya.
    let next = digest_about_alice(&mut h, utc(2026, 1, 19, 8, 0), MAYA.1);
    assert!(next.text.contains("CANARY-private"));
    assert_eq!(coach_rows(&h), (2, 1, 1));

    let form = alice_form(&h);
    let ask = keyed_command(&form, "forget", "f2", now(&h));
    let request = deliver(&mut h, &ask, "f2")
        .into_iter()
        .find(|s| s.text.lines().any(|l| l.trim().starts_with("forget ")))
        .unwrap();
    let code = request
        .text
        .lines()
        .find_map(|l| l.trim().strip_prefix("forget "))
        .unwrap()
        .trim()
        .to_string();
    let confirm = keyed_command(&form, &format!("forget {code}"), "f3", now(&h));
    let done = deliver(&mut h, &confirm, "f3");
    assert!(done.iter().any(|s| s.kind() == "forgotten"));
    assert_eq!(coach_rows(&h), (0, 0, 0));
    assert_eq!(
        count(&h, "SELECT count(*) FROM digest_keys WHERE pm = 'alice'"),
        0
    );
    // A reply with the old digest key is no longer read.
    let late = reply(
        &next,
        MAYA,
        &reply_to(&next),
        "Action: after forget",
        "f4",
        now(&h),
        &[],
    );
    deliver(&mut h, &late, "f4");
    assert_eq!(coach_rows(&h), (0, 0, 0));
    // After a clean stop no file holds the private note or the actions.
    h.clock.set(now(&h) + Duration::minutes(2));
    h.pass();
    h.restart();
    let mut files = Vec::new();
    files_under(h.dir.path(), &mut files);
    assert!(files.len() > 3);
    for (path, bytes) in &files {
        for secret in ["CANARY-private", "roadmap draft to sales"] {
            assert!(
                !contains(bytes, secret),
                "{} holds {secret}",
                path.display()
            );
        }
    }
}
