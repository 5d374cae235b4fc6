//! Actions come back, end to end: a coach's reply to a digest agrees
//! actions; the PM's next form asks about each open one; the PM's answers
//! (inline under the question, or top-posted) are read, stored and
//! confirmed; the next digest shows each with the PM's latest answer and
//! comment; `done` closes an action, which the next digest shows once. Real
//! RFC 5322 messages into the Maildir, a real SQLite file, .eml files out,
//! a manual clock.

mod util;

use chrono::{DateTime, Utc};
use util::*;

const ALICE: (&str, &str) = ("Alice Martin", "alice@example.org");
const MAYA: (&str, &str) = ("Maya Chen", "maya@example.org");
const TOM: &str = "tom@example.org";

const ACTION_1: &str = "send the roadmap draft to sales by Thursday";
const ACTION_2: &str = "book two discovery calls";
const COMMENT: &str = "sent on Tuesday CANARY-answer-7c2";

/// Monday 5 January 2026, 08:00 UTC. Alice (Paris, coached by Maya) gets
/// her form on Fridays at 16:00 local; Maya's digest about her goes out on
/// Mondays at 07:00 UTC, before the 10:00 local 1:1.
fn start() -> Harness {
    Harness::start_with(utc(2026, 1, 5, 8, 0), trusting_mx)
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn has(hay: &str, needle: &str) -> bool {
    lower(hay).contains(&lower(needle))
}

fn all_text(s: &Sent) -> String {
    format!("{}\n{}\n{}", s.subject, s.text, s.html)
}

/// The newest email of `kind` to `to` after running the clock to `until`.
fn newest(h: &mut Harness, until: DateTime<Utc>, kind: &str, to: &str) -> Sent {
    h.run_until(until, chrono::Duration::hours(1));
    h.sent_of(kind)
        .into_iter()
        .rfind(|s| s.to == to)
        .unwrap_or_else(|| panic!("a {kind} to {to}"))
}

fn deliver(h: &mut Harness, raw: &[u8], unique: &str) -> Vec<Sent> {
    let before = h.sent_count();
    h.deliver_and_pass(&format!("{unique}.eml"), raw);
    h.sent_new(before)
}

/// A reply to `quoted` as a mail client writes it: `top` above an
/// attribution line, then `quoted`'s text quoted with `> `, with
/// `inline[(after, line)]` written unquoted right under the first quoted
/// line containing `after`. To the reply address `quoted` asked for.
fn reply(
    quoted: &Sent,
    from: (&str, &str),
    top: &str,
    inline: &[(&str, &str)],
    unique: &str,
    at: DateTime<Utc>,
) -> Vec<u8> {
    let mut body =
        format!("{top}\n\nOn Fri, 16 Jan 2026 at 16:00, PM Pulse <pulse@example.org> wrote:\n");
    for line in quoted.text.lines() {
        body.push_str(&format!("> {line}\n"));
        if let Some((_, own)) = inline.iter().find(|(after, _)| has(line, after)) {
            body.push_str(&format!("{own}\n"));
        }
    }
    let mid = quoted.message().message_id().unwrap().to_string();
    let headers = vec![("In-Reply-To".to_string(), format!("<{mid}>"))];
    let raw = String::from_utf8(mail(
        from,
        &format!("Re: {}", quoted.subject),
        &body,
        &headers,
        unique,
        at,
    ))
    .unwrap();
    raw.replace(
        "To: PM Pulse <pulse@example.org>",
        &format!("To: {}", quoted.headers().reply_to),
    )
    .into_bytes()
}

fn count(h: &Harness, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn open_actions(h: &Harness) -> i64 {
    count(
        h,
        "SELECT count(*) FROM actions WHERE pm = 'alice' AND status = 'open'",
    )
}

fn action_answers(h: &Harness) -> i64 {
    count(h, "SELECT count(*) FROM action_answers WHERE pm = 'alice'")
}

/// Maya's digest on Monday 12 January, answered with `actions`; then
/// Alice's next form (Friday 16 January).
fn maya_agrees(h: &mut Harness, actions: &str) -> Sent {
    let digest = newest(h, utc(2026, 1, 12, 8, 0), "digest", MAYA.1);
    let raw = reply(&digest, MAYA, actions, &[], "maya-1", h.now());
    let sent = deliver(h, &raw, "maya-1");
    assert!(sent.iter().any(|s| s.kind() == "actions"), "{sent:?}");
    newest(h, utc(2026, 1, 16, 16, 0), "form", ALICE.1)
}

fn two_actions() -> String {
    format!("Action: {ACTION_1}\nAction: {ACTION_2}")
}

/// The form's line asking about `action`, if it asks.
fn asks(form: &Sent, action: &str) -> bool {
    form.text
        .lines()
        .any(|l| has(l, action) && l.trim_end().ends_with(": done / partly / not yet"))
}

#[test]
fn answers_to_actions_come_back_in_the_confirmation_the_digest_and_the_next_form() {
    let mut h = start();
    let form = maya_agrees(&mut h, &two_actions());
    assert!(
        asks(&form, ACTION_1) && asks(&form, ACTION_2),
        "{}",
        form.text
    );
    assert!(
        form.text.contains("at the top of your reply"),
        "{}",
        form.text
    );

    // Alice answers the first inline, under its quoted question, with a
    // comment; the second top-posted by a run of its words.
    let raw = reply(
        &form,
        ALICE,
        "Discovery calls: partly",
        &[(ACTION_1, &format!("done, {COMMENT}"))],
        "alice-1",
        h.now(),
    );
    let sent = deliver(&mut h, &raw, "alice-1");
    let confirm = sent
        .iter()
        .find(|s| s.kind() == "confirm")
        .expect("a confirmation");
    assert_eq!(confirm.to, ALICE.1);
    let line_of = |action: &str| {
        confirm
            .text
            .lines()
            .find(|l| has(l, action))
            .unwrap_or_else(|| panic!("{action} in {}", confirm.text))
            .to_string()
    };
    assert!(line_of(ACTION_1).contains("— done"), "{}", confirm.text);
    assert!(line_of(ACTION_1).contains(COMMENT), "{}", confirm.text);
    assert!(line_of(ACTION_2).contains("— partly"), "{}", confirm.text);
    assert!(!confirm.text.contains("Not understood"), "{}", confirm.text);
    // The answers are not the note.
    assert!(
        !confirm.text.contains("Your note was saved"),
        "{}",
        confirm.text
    );
    assert_eq!(action_answers(&h), 2);
    assert_eq!(open_actions(&h), 1, "done closed the first");

    // Maya's next digest: the open one with Alice's answer, the done one
    // with her comment.
    let digest = newest(&mut h, utc(2026, 1, 19, 8, 0), "digest", MAYA.1);
    let text = &digest.text;
    // Alice gave no scores that week, but she did reply.
    assert!(
        text.contains("NO SCORES") && !text.contains("NO REPLY"),
        "{text}"
    );
    assert!(!text.contains("week of Mon 12 Jan."), "not missed: {text}");
    let open_at = text.find("OPEN ACTIONS").expect(text);
    let done_at = text.find("DONE SINCE THE LAST DIGEST").expect(text);
    let open_part = &text[open_at..done_at];
    assert!(
        has(open_part, ACTION_2) && open_part.contains("Alice: partly"),
        "{text}"
    );
    assert!(!has(open_part, ACTION_1), "{text}");
    let done_part = &text[done_at..];
    assert!(
        has(done_part, ACTION_1) && done_part.contains(COMMENT),
        "{text}"
    );

    // The next form asks only the open one; done closes it.
    let form = newest(&mut h, utc(2026, 1, 23, 16, 0), "form", ALICE.1);
    assert!(asks(&form, ACTION_2), "{}", form.text);
    assert!(!has(&form.text, ACTION_1), "{}", form.text);
    let raw = reply(
        &form,
        ALICE,
        "Book two discovery calls: done",
        &[],
        "alice-2",
        h.now(),
    );
    deliver(&mut h, &raw, "alice-2");
    assert_eq!(open_actions(&h), 0);
    let digest = newest(&mut h, utc(2026, 1, 26, 8, 0), "digest", MAYA.1);
    assert!(!digest.text.contains("OPEN ACTIONS"), "{}", digest.text);
    assert!(has(&digest.text, ACTION_2), "{}", digest.text);
    assert!(
        !has(&digest.text, ACTION_1),
        "shown once only: {}",
        digest.text
    );
    // A done action appears once, then leaves.
    let digest = newest(&mut h, utc(2026, 2, 2, 8, 0), "digest", MAYA.1);
    assert!(
        !has(&digest.text, ACTION_1) && !has(&digest.text, ACTION_2),
        "{}",
        digest.text
    );
    let form = newest(&mut h, utc(2026, 1, 30, 16, 0), "form", ALICE.1);
    assert!(
        !form.text.contains("done / partly / not yet"),
        "{}",
        form.text
    );
}

#[test]
fn an_action_answered_in_the_quoted_question_itself_counts() {
    let mut h = start();
    let form = maya_agrees(&mut h, &two_actions());
    // Some clients let the PM type into the quote: the edited quoted line
    // is the answer.
    let edited = form.text.replace(
        "book two discovery calls: done / partly / not yet",
        "book two discovery calls: not yet, waiting on sales",
    );
    assert_ne!(edited, form.text, "the form asks in this exact shape");
    let quoted = Sent {
        text: edited,
        ..form.clone()
    };
    let raw = reply(&quoted, ALICE, "Delivery: 4", &[], "alice-q", h.now());
    deliver(&mut h, &raw, "alice-q");
    assert_eq!(
        count(
            &h,
            "SELECT count(*) FROM action_answers WHERE answer = 'not_yet' AND comment = 'waiting on sales'"
        ),
        1
    );
    assert_eq!(open_actions(&h), 2, "not yet keeps it open");
}

#[test]
fn conflicting_answers_and_a_label_naming_two_actions_are_reported_never_guessed() {
    let mut h = start();
    let form = maya_agrees(
        &mut h,
        "Action: draft the pricing page\nAction: review the pricing page with sales\nAction: book two discovery calls",
    );
    let raw = reply(
        &form,
        ALICE,
        "Pricing page: done\nDiscovery calls: done\nDiscovery calls: not yet",
        &[],
        "alice-c",
        h.now(),
    );
    let sent = deliver(&mut h, &raw, "alice-c");
    let confirm = sent.iter().find(|s| s.kind() == "confirm").unwrap();
    let problems = &confirm.text[confirm.text.find("Not understood").expect(&confirm.text)..];
    assert!(
        problems.contains("\"Pricing page: done\""),
        "{}",
        confirm.text
    );
    assert!(
        problems.contains("more than one open action"),
        "{}",
        confirm.text
    );
    assert!(
        problems.contains("answered twice, differently"),
        "{}",
        confirm.text
    );
    assert_eq!(action_answers(&h), 0, "nothing guessed");
    assert_eq!(open_actions(&h), 3);
}

#[test]
fn a_reply_with_scores_and_no_action_answers_leaves_the_actions_open() {
    let mut h = start();
    let form = maya_agrees(&mut h, &two_actions());
    let raw = reply_with(&h, &form, ALICE, 4, "Good week overall.", "alice-s");
    let sent = deliver(&mut h, &raw, "alice-s");
    let confirm = sent.iter().find(|s| s.kind() == "confirm").unwrap();
    assert!(
        confirm.text.contains("Product strategy: 4"),
        "{}",
        confirm.text
    );
    assert!(!confirm.text.contains("Your actions"), "{}", confirm.text);
    assert_eq!(action_answers(&h), 0);
    assert_eq!(open_actions(&h), 2);
    let next = newest(&mut h, utc(2026, 1, 23, 16, 0), "form", ALICE.1);
    assert!(
        asks(&next, ACTION_1) && asks(&next, ACTION_2),
        "{}",
        next.text
    );
}

#[test]
fn a_reply_with_only_action_answers_is_an_assessment_not_an_out_of_office_or_a_command() {
    let mut h = start();
    let form = maya_agrees(
        &mut h,
        "Action: skip the weekly status meeting\nAction: book two discovery calls",
    );
    let kind = |h: &Harness, unique: &str| -> String {
        let conn = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
        conn.query_row(
            "SELECT kind FROM inbound WHERE dedup_key = ?1",
            [format!("mid:{unique}@client.example")],
            |r| r.get(0),
        )
        .unwrap()
    };
    // One line starting with a command word: an answer, not `skip`.
    let raw = reply(
        &form,
        ALICE,
        "Skip the weekly status meeting: done",
        &[],
        "alice-o1",
        h.now(),
    );
    let sent = deliver(&mut h, &raw, "alice-o1");
    assert_eq!(kind(&h, "alice-o1"), "assessment");
    assert!(sent.iter().any(|s| s.kind() == "confirm"), "{sent:?}");
    assert!(sent.iter().all(|s| s.kind() != "help"), "{sent:?}");
    assert_eq!(open_actions(&h), 1);
    assert_eq!(
        count(&h, "SELECT count(*) FROM skips"),
        0,
        "not the skip command"
    );
    // An answer beside an out-of-office sentence: read, answered.
    let raw = reply(
        &form,
        ALICE,
        "Discovery calls: partly\n\nI am away next week, back on the 26th.",
        &[],
        "alice-o2",
        h.now(),
    );
    let sent = deliver(&mut h, &raw, "alice-o2");
    assert_eq!(kind(&h, "alice-o2"), "assessment");
    assert!(sent.iter().any(|s| s.kind() == "confirm"), "{sent:?}");
    assert_eq!(action_answers(&h), 2);
}

#[test]
fn an_answer_from_an_earlier_week_is_shown_with_its_week() {
    let mut h = start();
    let form = maya_agrees(&mut h, &two_actions());
    let raw = reply(
        &form,
        ALICE,
        "Discovery calls: partly",
        &[],
        "alice-w1",
        h.now(),
    );
    deliver(&mut h, &raw, "alice-w1");
    // The next week Alice gives scores only: her answer still shows, dated.
    let form = newest(&mut h, utc(2026, 1, 23, 16, 0), "form", ALICE.1);
    let raw = reply_with(&h, &form, ALICE, 3, "", "alice-w2");
    deliver(&mut h, &raw, "alice-w2");
    let digest = newest(&mut h, utc(2026, 1, 26, 8, 0), "digest", MAYA.1);
    assert!(
        digest.text.contains("Alice: partly (week of Mon 12 Jan)"),
        "{}",
        digest.text
    );
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
fn after_re_pairing_neither_the_new_coach_nor_the_pms_form_shows_the_old_pairings_actions() {
    let mut h = start();
    let form = maya_agrees(&mut h, &two_actions());
    assert!(asks(&form, ACTION_1));
    // Alice moves to Tom: her next form and Tom's digest carry nothing of
    // the actions agreed with Maya.
    h.clock.set(utc(2026, 1, 17, 9, 0));
    h.restart_with(alice_coached_by("tom"));
    let form = newest(&mut h, utc(2026, 1, 23, 16, 0), "form", ALICE.1);
    assert!(
        !form.text.contains("done / partly / not yet"),
        "{}",
        form.text
    );
    // An answer to an old pairing's action is not recorded (it stays a note).
    let raw = reply(&form, ALICE, "Roadmap draft: done", &[], "alice-r", h.now());
    deliver(&mut h, &raw, "alice-r");
    assert_eq!(action_answers(&h), 0);
    assert_eq!(
        open_actions(&h),
        2,
        "the old pairing's actions are left as they were"
    );
    let tom = newest(&mut h, utc(2026, 1, 26, 8, 0), "digest", TOM);
    for action in [ACTION_1, ACTION_2] {
        assert!(!has(&all_text(&tom), action), "{}", tom.text);
    }
    assert!(!tom.text.contains("OPEN ACTIONS"), "{}", tom.text);
}

/// A command Alice writes as a reply to `form` (its reply key in To).
fn keyed_command(form: &Sent, body: &str, unique: &str, at: DateTime<Utc>) -> Vec<u8> {
    let raw = String::from_utf8(mail(ALICE, "Re: form", body, &[], unique, at)).unwrap();
    raw.replace(
        "To: PM Pulse <pulse@example.org>",
        &format!("To: {}", form.headers().reply_to),
    )
    .into_bytes()
}

/// Alice answers both actions (one done with [`COMMENT`], one partly).
fn alice_answers(h: &mut Harness) -> Sent {
    let form = maya_agrees(h, &two_actions());
    let raw = reply(
        &form,
        ALICE,
        &format!("Roadmap draft: done, {COMMENT}\nDiscovery calls: partly"),
        &[],
        "alice-a",
        h.now(),
    );
    let (_, logs) = logs_of(|| deliver(h, &raw, "alice-a"));
    assert!(logs.contains("inbound applied"), "{logs}");
    for secret in ["CANARY-answer", "roadmap", "discovery", "partly"] {
        assert!(!logs.contains(secret), "the log holds {secret}: {logs}");
    }
    assert_eq!(action_answers(h), 2);
    form
}

#[test]
fn the_pms_trend_lists_their_actions_with_status_and_answer() {
    let mut h = start();
    let form = alice_answers(&mut h);
    let ask = keyed_command(&form, "trend", "alice-t", h.now());
    let sent = deliver(&mut h, &ask, "alice-t");
    let trend = sent.iter().find(|s| s.kind() == "trend").expect("a trend");
    let line_of = |action: &str| {
        trend
            .text
            .lines()
            .find(|l| has(l, action))
            .unwrap_or_else(|| panic!("{action} in {}", trend.text))
            .to_string()
    };
    assert!(line_of(ACTION_1).contains("— done"), "{}", trend.text);
    assert!(line_of(ACTION_1).contains(COMMENT), "{}", trend.text);
    assert!(line_of(ACTION_2).contains("— open"), "{}", trend.text);
    assert!(
        line_of(ACTION_2).contains("you said partly"),
        "{}",
        trend.text
    );
}

#[test]
fn export_gives_the_pm_their_answers_to_actions_and_forget_deletes_them() {
    let mut h = start();
    let form = alice_answers(&mut h);
    let ask = keyed_command(&form, "export", "alice-e", h.now());
    let sent = deliver(&mut h, &ask, "alice-e");
    let export = sent.iter().find(|s| s.kind() == "export").unwrap();
    let msg = export.message();
    let csv = msg
        .attachments()
        .find(|a| {
            mail_parser::MimeHeaders::attachment_name(*a).is_some_and(|n| n.ends_with(".csv"))
        })
        .map(|a| String::from_utf8(a.contents().to_vec()).unwrap())
        .unwrap();
    let answers: Vec<&str> = csv
        .lines()
        .filter(|l| l.starts_with("action_answer,"))
        .collect();
    assert_eq!(answers.len(), 2, "{csv}");
    assert!(
        answers
            .iter()
            .any(|l| l.contains(",done,") && l.contains(COMMENT)),
        "{csv}"
    );
    assert!(answers.iter().any(|l| l.contains(",partly,")), "{csv}");

    let ask = keyed_command(&form, "forget", "alice-f1", h.now());
    let request = deliver(&mut h, &ask, "alice-f1")
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
    let confirm = keyed_command(&form, &format!("forget {code}"), "alice-f2", h.now());
    let done = deliver(&mut h, &confirm, "alice-f2");
    assert!(done.iter().any(|s| s.kind() == "forgotten"));
    assert_eq!(count(&h, "SELECT count(*) FROM action_answers"), 0);
}
