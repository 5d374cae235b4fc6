//! A PM's commands by email, end to end: real messages into the Maildir,
//! real SQLite file, .eml files out, parsed back with mail-parser.

mod util;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use coachmail::clock::Clock;
use coachmail::store::EventKind;
use coachmail::week::Week;
use mail_parser::MimeHeaders;
use util::{Harness, Sent, dmarc, mail, trusting_mx, utc};

const ALICE: (&str, &str) = ("Alice Martin", "alice@example.org");
const BRUNO: (&str, &str) = ("Bruno Silva", "bruno@example.org");

/// Monday 5 January 2026, 08:00 UTC: Alice (Paris) gets her form on Friday
/// at 16:00 local (15:00 UTC), her 1:1 is Monday 10:00 local.
fn start() -> Harness {
    Harness::start_with(utc(2026, 1, 5, 8, 0), trusting_mx)
}

fn now(h: &Harness) -> DateTime<Utc> {
    h.clock.now()
}

/// `from` sends a fresh message (DMARC pass at our MX); returns what the
/// pass sent.
fn send(h: &mut Harness, from: (&str, &str), subject: &str, body: &str, unique: &str) -> Vec<Sent> {
    let domain = from.1.rsplit('@').next().unwrap();
    let raw = mail(
        from,
        subject,
        body,
        &[dmarc("pass", domain)],
        unique,
        now(h),
    );
    let before = h.sent_count();
    h.deliver_and_pass(&format!("{unique}.eml"), &raw);
    answers_to(h.sent_new(before), unique)
}

/// The answers to message `unique` among `sent` (not the scheduled mail
/// the same pass may have sent).
fn answers_to(sent: Vec<Sent>, unique: &str) -> Vec<Sent> {
    let id = format!(":{unique}@client.example");
    sent.into_iter().filter(|s| s.key.ends_with(&id)).collect()
}

/// Current answers for `pm`, week by week, written straight to the store.
fn seed(h: &mut Harness, pm: &str, weeks: &[(Week, &[(&str, u8)])]) {
    let at = now(h);
    let tx = h.service.store.transaction().unwrap();
    for (week, scores) in weeks {
        let scores: BTreeMap<String, u8> =
            scores.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        tx.record_answers(pm, *week, &scores, &[], 0, at).unwrap();
    }
    tx.commit().unwrap();
}

fn alice_week(h: &Harness) -> Week {
    let pm = h.service.engine.config.pm("alice").unwrap().clone();
    coachmail::schedule::open_week(now(h), &pm)
}

fn event_kinds(h: &Harness, pm: &str) -> Vec<EventKind> {
    h.store()
        .events(pm)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

fn only_one(sent: Vec<Sent>) -> Sent {
    assert_eq!(
        sent.len(),
        1,
        "{:?}",
        sent.iter().map(|s| &s.key).collect::<Vec<_>>()
    );
    sent.into_iter().next().unwrap()
}

#[test]
fn trend_answers_the_registered_address_with_a_table_and_inline_charts() {
    let mut h = start();
    let w = alice_week(&h);
    let all = |delivery: u8| -> Vec<(&'static str, u8)> {
        vec![
            ("strategy", 3),
            ("discovery", 3),
            ("delivery", delivery),
            ("stakeholders", 3),
            ("communication", 4),
            ("data", 3),
            ("technical", 3),
            ("leadership", 3),
        ]
    };
    let weeks: Vec<(Week, Vec<(&str, u8)>)> = [4, 4, 3, 4, 4, 2]
        .iter()
        .enumerate()
        .map(|(i, d)| (w.plus(i as i64 - 6), all(*d)))
        .collect();
    let weeks: Vec<(Week, &[(&str, u8)])> = weeks.iter().map(|(w, s)| (*w, s.as_slice())).collect();
    seed(&mut h, "alice", &weeks);

    let trend = only_one(send(&mut h, ALICE, "trend", "", "t1"));
    assert_eq!(trend.to, "alice@example.org");
    assert_eq!(trend.kind(), "trend");
    assert_eq!(
        trend.header("Auto-Submitted").as_deref(),
        Some("auto-replied")
    );
    assert_eq!(
        trend.header("In-Reply-To").as_deref(),
        Some("<t1@client.example>")
    );
    // Threads with the PM's message: In-Reply-To and `Re:` their subject.
    assert_eq!(trend.subject, "Re: trend");
    assert!(
        trend.text.contains("Your scores over the last 12 weeks"),
        "{}",
        trend.text
    );

    // Text: every skill, 12 weeks, a sparkline and the change against baseline.
    for name in [
        "Product strategy",
        "Execution & delivery",
        "Leadership & influence",
    ] {
        assert!(trend.text.contains(name), "{name}\n{}", trend.text);
    }
    let delivery = trend
        .text
        .lines()
        .find(|l| l.contains("Execution & delivery"))
        .unwrap();
    assert!(delivery.contains("▆▆▄▆▆▃"), "{delivery}");
    assert!(delivery.contains("2/5"), "{delivery}");
    assert!(delivery.contains("↓2"), "baseline 4, latest 2: {delivery}");

    // HTML: one chart per skill, inline PNGs referenced by cid.
    let m = trend.message();
    assert_eq!(m.content_type().unwrap().subtype(), Some("related"));
    let pngs: Vec<_> = m
        .attachments()
        .filter(|p| p.content_type().and_then(|c| c.subtype()) == Some("png"))
        .collect();
    assert_eq!(pngs.len(), 8);
    for png in &pngs {
        assert!(png.contents().starts_with(b"\x89PNG"));
        let cid = png.content_id().unwrap();
        assert!(trend.html.contains(&format!("cid:{cid}")), "{cid}");
    }
    assert!(!trend.html.contains("http://") && !trend.html.contains("https://"));
    assert_eq!(event_kinds(&h, "alice"), vec![EventKind::Trend]);
}

#[test]
fn trend_for_one_skill_and_weeks_in_the_body_in_any_case() {
    let mut h = start();
    let w = alice_week(&h);
    seed(
        &mut h,
        "alice",
        &[(w.prev(), &[("stakeholders", 2), ("delivery", 5)])],
    );
    let trend = only_one(send(&mut h, ALICE, "hello", "Trend Stakeholders 4\n", "t2"));
    assert_eq!(trend.kind(), "trend");
    // The skill is named in the body, never in the subject (lock screens).
    assert!(!trend.subject.contains("Stakeholder"), "{}", trend.subject);
    assert!(
        trend.text.contains("Your Stakeholder management scores"),
        "{}",
        trend.text
    );
    assert!(
        trend.text.contains("over the last 4 weeks"),
        "{}",
        trend.text
    );
    assert!(!trend.text.contains("Execution & delivery"));
    let row = trend
        .text
        .lines()
        .find(|l| l.starts_with("• Stakeholder management"))
        .unwrap();
    assert!(row.contains("  ▃ "), "{row}");
    assert_eq!(trend.message().attachment_count(), 1);
}

#[test]
fn commands_are_read_from_the_subject_in_any_case() {
    let mut h = start();
    let help = only_one(send(&mut h, ALICE, "HELP", "", "c1"));
    assert_eq!(help.kind(), "help");
    let trend = only_one(send(&mut h, ALICE, "Re: TREND", "", "c2"));
    assert_eq!(trend.kind(), "trend");
}

#[test]
fn a_word_that_is_not_a_command_gets_the_help_text() {
    let mut h = start();
    let help = only_one(send(&mut h, ALICE, "trnd", "", "u1"));
    assert_eq!(help.kind(), "help");
    assert_eq!(help.to, "alice@example.org");
    assert!(
        help.text.contains("\"trnd\" is not a command I know"),
        "{}",
        help.text
    );
    assert_eq!(event_kinds(&h, "alice"), vec![EventKind::Help]);
}

#[test]
fn pause_stops_forms_and_reminders_and_the_digest_says_paused_not_missed() {
    let mut h = start();
    // The W02 form goes out on Friday 9 January.
    h.run_until(utc(2026, 1, 10, 12, 0), Duration::hours(1));
    let ack = only_one(send(&mut h, ALICE, "pause 2 weeks", "", "p1"));
    assert_eq!(ack.kind(), "ack");
    assert_eq!(ack.subject, "Re: pause 2 weeks");
    assert!(
        ack.text.contains("paused until Sat 24 Jan 2026, 13:00"),
        "{}",
        ack.text
    );
    assert!(
        ack.text
            .contains("next form goes out Fri 30 Jan 2026, 16:00 (Europe/Paris)"),
        "{}",
        ack.text
    );

    h.run_until(utc(2026, 2, 3, 0, 0), Duration::hours(1));
    let to_alice: Vec<(String, String)> = h
        .sent()
        .into_iter()
        .filter(|s| s.to == "alice@example.org")
        .map(|s| (s.kind().to_string(), s.date.format("%m-%d").to_string()))
        .collect();
    let forms: Vec<&str> = to_alice
        .iter()
        .filter(|(k, _)| k == "form")
        .map(|(_, d)| d.as_str())
        .collect();
    assert_eq!(forms, ["01-09", "01-30"], "no form while paused");
    let reminders: Vec<&str> = to_alice
        .iter()
        .filter(|(k, _)| k == "reminder")
        .map(|(_, d)| d.as_str())
        .collect();
    assert_eq!(reminders, ["02-01"], "no reminder while paused");

    let digests: Vec<Sent> = h
        .sent_of("digest")
        .into_iter()
        .filter(|s| s.subject.contains("Alice Martin"))
        .collect();
    assert!(digests.iter().all(|d| d.to == "maya@example.org"));
    let dates: Vec<String> = digests
        .iter()
        .map(|d| d.date.format("%m-%d").to_string())
        .collect();
    assert_eq!(
        dates,
        ["01-12", "01-19", "01-26", "02-02"],
        "a digest before every 1:1, paused or not"
    );
    for paused in &digests[1..3] {
        assert!(paused.text.contains("PAUSED"), "{}", paused.text);
    }
    let first = &digests[0];
    assert_eq!(first.date.format("%m-%d").to_string(), "01-12");
    assert!(first.text.contains("PAUSED"), "{}", first.text);
    assert!(!first.text.contains("NO REPLY"), "{}", first.text);
    let last = digests.last().unwrap();
    // 2026-W02 to W04: the weeks of Mon 5, 12 and 19 Jan.
    assert!(
        last.text.contains(
            "Paused (not missed): week of Mon 5 Jan, week of Mon 12 Jan, week of Mon 19 Jan."
        ),
        "{}",
        last.text
    );
    let missed = last
        .text
        .lines()
        .find(|l| l.starts_with("No reply:"))
        .unwrap();
    assert!(
        !missed.contains("5 Jan") && !missed.contains("12 Jan"),
        "{missed}"
    );
    let pause = h.store().events("alice").unwrap();
    assert_eq!(pause[0].kind, EventKind::Pause);
    assert_eq!(pause[0].until, Some(utc(2026, 1, 24, 12, 0)));
}

#[test]
fn pause_until_a_date_ends_at_midnight_in_the_pms_own_zone() {
    let mut h = start();
    let ack = only_one(send(&mut h, ALICE, "pause until 2026-01-21", "", "pu1"));
    assert!(ack.text.contains("Wed 21 Jan 2026, 00:00"), "{}", ack.text);
    let pauses = h.store().pauses("alice").unwrap();
    assert_eq!(pauses.len(), 1);
    assert_eq!(
        pauses[0].until,
        utc(2026, 1, 20, 23, 0),
        "midnight in Paris is 23:00 UTC"
    );

    let past = only_one(send(&mut h, ALICE, "pause until 2026-01-01", "", "pu2"));
    assert!(
        past.text
            .contains("is not in the future, so nothing was paused"),
        "{}",
        past.text
    );
    assert_eq!(h.store().pauses("alice").unwrap().len(), 1);
}

#[test]
fn resume_ends_the_pause_and_the_next_form_goes_out() {
    let mut h = start();
    only_one(send(&mut h, ALICE, "pause 4 weeks", "", "r1"));
    h.run_until(utc(2026, 1, 7, 9, 0), Duration::hours(1));
    let ack = only_one(send(&mut h, ALICE, "resume", "", "r2"));
    assert!(ack.text.contains("Welcome back"), "{}", ack.text);
    assert!(
        ack.text.contains("Fri 9 Jan 2026, 16:00 (Europe/Paris)"),
        "{}",
        ack.text
    );
    h.run_until(utc(2026, 1, 10, 0, 0), Duration::hours(1));
    let forms: Vec<Sent> = h
        .sent_of("form")
        .into_iter()
        .filter(|s| s.to == "alice@example.org")
        .collect();
    assert_eq!(forms.len(), 1);
    let again = only_one(send(&mut h, ALICE, "resume", "", "r3"));
    assert!(again.text.contains("were not paused"), "{}", again.text);
    assert_eq!(
        event_kinds(&h, "alice"),
        [EventKind::Pause, EventKind::Resume, EventKind::Resume]
    );
}

#[test]
fn skip_sends_no_form_or_reminder_this_week_and_the_digest_says_skipped() {
    let mut h = start();
    let ack = only_one(send(&mut h, ALICE, "skip", "", "s1"));
    assert_eq!(ack.subject, "Re: skip");
    assert!(
        ack.text.contains("week of Mon 5 Jan (2026-W02) is skipped"),
        "{}",
        ack.text
    );
    let again = only_one(send(&mut h, ALICE, "skip", "", "s2"));
    assert!(again.text.contains("already skipped"), "{}", again.text);
    h.run_until(utc(2026, 1, 13, 0, 0), Duration::hours(1));
    let to_alice: Vec<Sent> = h
        .sent()
        .into_iter()
        .filter(|s| s.to == "alice@example.org" && (s.kind() == "form" || s.kind() == "reminder"))
        .collect();
    assert!(
        to_alice.is_empty(),
        "{:?}",
        to_alice.iter().map(|s| &s.key).collect::<Vec<_>>()
    );
    let digest = h
        .sent_of("digest")
        .into_iter()
        .find(|s| s.subject.contains("Alice Martin"))
        .unwrap();
    assert_eq!(digest.to, "maya@example.org");
    // One banner and a compact body: no row per skill.
    assert_eq!(digest.text.matches("SKIPPED").count(), 1, "{}", digest.text);
    assert!(
        !digest.text.contains("Execution & delivery"),
        "{}",
        digest.text
    );
    assert!(!digest.text.contains("NO REPLY"), "{}", digest.text);
    let skip = &h.store().events("alice").unwrap()[0];
    assert_eq!(
        (skip.kind, skip.week),
        (EventKind::Skip, Some(Week::new(2026, 2).unwrap()))
    );
}

#[test]
fn export_attaches_every_stored_row_as_csv_that_round_trips() {
    let mut h = start();
    h.run_until(utc(2026, 1, 9, 16, 0), Duration::hours(1));
    let w = alice_week(&h);
    seed(&mut h, "alice", &[(w, &[("delivery", 2), ("data", 4)])]);
    h.clock.set(now(&h) + Duration::hours(1));
    seed(&mut h, "alice", &[(w, &[("delivery", 3)])]);
    let note = "Shipped, \"finally\"; the VP said:\n=SUM(A1) is not a formula, 100% ✓";
    {
        let at = now(&h);
        let tx = h.service.store.transaction().unwrap();
        tx.record_note("alice", w, note, 0, at).unwrap();
        tx.commit().unwrap();
    }
    only_one(send(&mut h, ALICE, "skip", "", "e0"));
    let export = only_one(send(&mut h, ALICE, "export", "", "e1"));
    assert_eq!(export.to, "alice@example.org");
    let m = export.message();
    assert_eq!(m.content_type().unwrap().subtype(), Some("mixed"));
    let file = m
        .attachments()
        .find(|p| p.attachment_name().is_some())
        .unwrap();
    assert_eq!(
        file.attachment_name(),
        Some("pm-pulse-export-alice-2026-01-09.csv")
    );
    assert_eq!(file.content_type().unwrap().subtype(), Some("csv"));

    let mut reader = csv::Reader::from_reader(file.contents());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header, coachmail::render::EXPORT_COLUMNS);
    let rows: Vec<BTreeMap<String, String>> = reader.deserialize().map(|r| r.unwrap()).collect();
    let of = |record: &str| -> Vec<&BTreeMap<String, String>> {
        rows.iter().filter(|r| r["record"] == record).collect()
    };
    let answers = of("answer");
    let delivery: Vec<(&str, &str)> = answers
        .iter()
        .filter(|r| r["skill"] == "delivery")
        .map(|r| (r["score"].as_str(), r["current"].as_str()))
        .collect();
    assert_eq!(
        delivery,
        [("2", "no"), ("3", "yes")],
        "the correction and its history"
    );
    assert_eq!(answers.len(), 3);
    assert_eq!(of("note").len(), 1);
    assert_eq!(
        of("note")[0]["text"],
        note,
        "the note survives the round trip"
    );
    assert_eq!(of("form").len(), 1);
    assert_eq!(of("form")[0]["week"], "2026-W02");
    assert_eq!(of("skip").len(), 1);
    assert_eq!(of("account").len(), 1);
    assert_eq!(of("pairing")[0]["text"], "maya");
    let commands: Vec<&str> = of("command").iter().map(|r| r["text"].as_str()).collect();
    assert_eq!(commands, ["skip", "export"]);
    // No secrets in the file: no reply key of the form.
    let reply_key = h.sent_of("form")[0].headers().reply_to;
    let key = reply_key
        .split('+')
        .nth(1)
        .unwrap()
        .split('@')
        .next()
        .unwrap();
    assert!(!String::from_utf8_lossy(file.contents()).contains(key));
    assert!(
        export
            .text
            .contains("3 answers (1 replaced by a later correction"),
        "{}",
        export.text
    );
}

/// The forget code in a confirmation request.
fn code_in(request: &Sent) -> String {
    request
        .text
        .lines()
        .find_map(|l| l.trim().strip_prefix("forget "))
        .unwrap()
        .trim()
        .to_string()
}

/// Alice replies to `request` (to its Reply-To, as a client does) with
/// `body` above the quote; no DMARC header: the reply key authorizes it.
fn reply_to(h: &mut Harness, request: &Sent, body: &str, unique: &str) -> Vec<Sent> {
    let to = request.header("Reply-To").unwrap();
    let mid = request.message().message_id().unwrap().to_string();
    let quoted: String = request.text.lines().map(|l| format!("> {l}\n")).collect();
    let raw = mail(
        ALICE,
        &format!("Re: {}", request.subject),
        &format!(
            "{body}\n\nOn Fri, 9 Jan 2026 at 17:00, PM Pulse <pulse@example.org> wrote:\n{quoted}"
        ),
        &[
            ("In-Reply-To".into(), format!("<{mid}>")),
            ("References".into(), format!("<{mid}>")),
        ],
        unique,
        now(h),
    );
    let raw = String::from_utf8(raw)
        .unwrap()
        .replace("To: PM Pulse <pulse@example.org>", &format!("To: {to}"));
    let before = h.sent_count();
    h.deliver_and_pass(&format!("{unique}.eml"), raw.as_bytes());
    answers_to(h.sent_new(before), unique)
}

#[test]
fn forget_deletes_every_row_only_after_the_code_comes_back_then_says_done() {
    let mut h = start();
    h.run_until(utc(2026, 1, 9, 16, 0), Duration::hours(1));
    let w = alice_week(&h);
    seed(&mut h, "alice", &[(w, &[("delivery", 2)])]);
    only_one(send(&mut h, ALICE, "pause 1 week", "", "f0"));

    let request = only_one(send(&mut h, ALICE, "forget", "", "f1"));
    assert_eq!(request.to, "alice@example.org");
    assert!(request.subject.contains("forget"), "{}", request.subject);
    let code = code_in(&request);
    assert_eq!(code.len(), 26);
    // Nothing is deleted by asking.
    assert_eq!(h.rows_about("answers", "alice"), 1);

    let done = only_one(reply_to(&mut h, &request, &format!("forget {code}"), "f2"));
    assert_eq!(done.kind(), "forgotten");
    assert_eq!(done.to, "alice@example.org");
    assert!(done.text.contains("has been deleted"), "{}", done.text);
    for table in [
        "answers",
        "notes",
        "inbound",
        "forms",
        "pauses",
        "skips",
        "forget_tokens",
    ] {
        assert_eq!(h.rows_about(table, "alice"), 0, "{table}");
    }
    // Left: the content-free record of the deletion, the fresh pairing of
    // a PM still on the roster, and the "done" message (queued after).
    assert_eq!(event_kinds(&h, "alice"), [EventKind::Forgotten]);
    assert_eq!(h.rows_about("pairings", "alice"), 1);
    assert_eq!(h.rows_about("outbox", "alice"), 1);
    assert!(h.store().history("alice").unwrap().is_empty());
    // Other PMs keep their data.
    assert!(h.rows_about("forms", "chloe") > 0, "other PMs keep theirs");

    // The same confirmation delivered again does nothing and answers nothing.
    let before = h.sent_count();
    let again = reply_to(&mut h, &request, &format!("forget {code}"), "f2");
    assert!(again.is_empty());
    assert!(h.sent_new(before).is_empty());
    assert_eq!(h.rows_about("outbox", "alice"), 1);
}

#[test]
fn a_forget_code_works_once_only_for_its_pm_and_only_in_time() {
    let mut h = start();
    h.run_until(utc(2026, 1, 9, 16, 0), Duration::hours(1));
    let w = alice_week(&h);
    seed(&mut h, "alice", &[(w, &[("delivery", 2)])]);
    seed(&mut h, "bruno", &[(w, &[("delivery", 4)])]);
    let request = only_one(send(&mut h, ALICE, "forget", "", "g1"));
    let code = code_in(&request);

    // Bruno cannot use Alice's code (for himself or for her).
    let refused = only_one(send(&mut h, BRUNO, &format!("forget {code}"), "", "g2"));
    assert_eq!(refused.to, "bruno@example.org");
    assert!(refused.text.contains("did not work"), "{}", refused.text);
    assert_eq!(h.rows_about("answers", "alice"), 1);
    assert_eq!(h.rows_about("answers", "bruno"), 1);

    // A wrong code deletes nothing.
    let wrong = only_one(send(
        &mut h,
        ALICE,
        "forget aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "",
        "g3",
    ));
    assert!(wrong.text.contains("did not work"));
    assert_eq!(h.rows_about("answers", "alice"), 1);

    // Too late: codes work for 72 hours.
    h.clock.set(now(&h) + Duration::hours(73));
    let late = only_one(send(&mut h, ALICE, &format!("forget {code}"), "", "g4"));
    assert!(late.text.contains("did not work"));
    assert_eq!(h.rows_about("answers", "alice"), 1);

    // A fresh code works once.
    let request = only_one(send(&mut h, ALICE, "forget", "", "g5"));
    let code = code_in(&request);
    let done = only_one(send(
        &mut h,
        ALICE,
        &format!("forget {}", code.to_uppercase()),
        "",
        "g6",
    ));
    assert_eq!(done.kind(), "forgotten");
    assert_eq!(h.rows_about("answers", "alice"), 0);
    let reused = only_one(send(&mut h, ALICE, &format!("forget {code}"), "", "g7"));
    assert!(reused.text.contains("did not work"));
    assert_eq!(h.rows_about("answers", "bruno"), 1);
}

#[test]
fn an_odd_message_id_is_answered_unthreaded_not_retried_forever() {
    let mut h = start();
    let raw = String::from_utf8(mail(
        ALICE,
        "trend",
        "",
        &[dmarc("pass", "example.org")],
        "odd",
        now(&h),
    ))
    .unwrap()
    .replace(
        "Message-ID: <odd@client.example>",
        "Message-ID: <odd id\"with[junk]@client example>",
    );
    let before = h.sent_count();
    h.deliver_and_pass("odd.eml", raw.as_bytes());
    let trend: Vec<Sent> = h
        .sent_new(before)
        .into_iter()
        .filter(|s| s.kind() == "trend")
        .collect();
    assert_eq!(trend.len(), 1);
    assert_eq!(trend[0].header("In-Reply-To"), None);
    assert_eq!(
        h.service.inbox.as_ref().unwrap().pending().unwrap().len(),
        0
    );
}

// --- commands by email under the shipped config --------------------------------

/// The shipped config: no trusted DMARC verdicts, reply keys required.
fn shipped() -> Harness {
    Harness::start(utc(2026, 1, 5, 8, 0))
}

/// A fresh message from `from` to the service, nothing verifying it.
fn fresh(
    h: &mut Harness,
    from: (&str, &str),
    subject: &str,
    body: &str,
    unique: &str,
) -> Vec<Sent> {
    let raw = mail(from, subject, body, &[], unique, now(h));
    let before = h.sent_count();
    h.deliver_and_pass(&format!("{unique}.eml"), &raw);
    answers_to(h.sent_new(before), unique)
}

#[test]
fn under_the_shipped_config_a_fresh_trend_help_or_export_is_answered_at_the_registered_address_only()
 {
    let mut h = shipped();
    for (i, (word, kind)) in [("trend", "trend"), ("help", "help"), ("export", "export")]
        .into_iter()
        .enumerate()
    {
        // Sent with a Reply-To of somebody else: the answer still goes only
        // to Alice's registered address.
        let raw = String::from_utf8(mail(ALICE, word, word, &[], &format!("fr{i}"), now(&h)))
            .unwrap()
            .replacen("From: ", "Reply-To: mallory@example.net\r\nFrom: ", 1);
        let before = h.sent_count();
        h.deliver_and_pass(&format!("fr{i}.eml"), raw.as_bytes());
        let answer = only_one(answers_to(h.sent_new(before), &format!("fr{i}")));
        assert_eq!(answer.kind(), kind, "{word}");
        assert_eq!(answer.to, ALICE.1, "{word}");
    }
    // A stranger's `trend` gets nothing.
    assert!(
        fresh(
            &mut h,
            ("Mallory", "mallory@example.net"),
            "trend",
            "trend",
            "fr9"
        )
        .is_empty()
    );
    // Nor can anyone flood Alice's mailbox in her name: a few such answers
    // an hour, then none until the hour has passed.
    assert!(fresh(&mut h, ALICE, "trend", "trend", "fr4").is_empty());
    h.clock.set(now(&h) + Duration::minutes(61));
    assert_eq!(fresh(&mut h, ALICE, "trend", "trend", "fr5").len(), 1);
}

#[test]
fn under_the_shipped_config_a_fresh_pause_changes_nothing_and_says_how_then_a_reply_pauses() {
    let mut h = shipped();
    // The week's form went out, so Alice has a reply key.
    h.run_until(utc(2026, 1, 9, 20, 0), Duration::hours(1));
    let ack = only_one(fresh(
        &mut h,
        ALICE,
        "pause 2 weeks",
        "pause 2 weeks",
        "fp1",
    ));
    assert_eq!(ack.to, ALICE.1);
    assert!(ack.text.contains("nothing changed"), "{}", ack.text);
    assert!(ack.text.contains("reply to any"), "{}", ack.text);
    assert!(!event_kinds(&h, "alice").contains(&EventKind::Pause));
    // One answer per such message, and a reply to it does what was asked.
    let done = only_one(reply_to(&mut h, &ack, "pause 2 weeks", "fp2"));
    assert!(done.text.contains("paused until"), "{}", done.text);
    assert!(event_kinds(&h, "alice").contains(&EventKind::Pause));
}

#[test]
fn a_coach_replying_to_a_digest_gets_one_short_answer_and_nothing_is_stored() {
    let mut h = shipped();
    h.run_until(utc(2026, 1, 12, 12, 0), Duration::hours(1));
    let digest = h
        .sent_of("digest")
        .into_iter()
        .find(|d| d.to == "maya@example.org")
        .unwrap();
    let mid = digest.message().message_id().unwrap().to_string();
    let canary = "CANARY-coach-reply-77f1 Alice seems stuck on delivery";
    let raw = mail(
        ("Maya Chen", "maya@example.org"),
        &format!("Re: {}", digest.subject),
        &format!("{canary}\n\n> {}", digest.text.lines().next().unwrap()),
        &[("In-Reply-To".into(), format!("<{mid}>"))],
        "cr1",
        now(&h),
    );
    let before = h.sent_count();
    h.deliver_and_pass("cr1.eml", &raw);
    let answer = only_one(answers_to(h.sent_new(before), "cr1"));
    assert_eq!(answer.to, "maya@example.org");
    assert!(answer.subject.contains("not read"), "{}", answer.subject);
    assert!(
        answer.text.contains("nothing in your email was stored"),
        "{}",
        answer.text
    );
    // No link offers the coach PM commands.
    assert!(!answer.html.contains("mailto:"), "{}", answer.html);
    // The answer names no PM, and no word of the coach's is kept.
    assert!(!answer.text.contains("Alice") && !answer.html.contains("Alice"));
    assert_eq!(h.rows_about("notes", "alice"), 0);
    let conn = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
    let kept: i64 = conn
        .query_row(
            "SELECT count(*) FROM inbound WHERE reason = 'coach-reply' AND pm IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 1);
}

/// Every `mailto:` link in `html`: (address, subject).
fn mailto_links(html: &str) -> Vec<(String, String)> {
    html.split("href=\"mailto:")
        .skip(1)
        .map(|rest| {
            let link = &rest[..rest.find('"').unwrap()];
            let link = link.replace("&amp;", "&");
            let (to, query) = link.split_once('?').unwrap_or((&link, ""));
            let subject = query
                .split('&')
                .find_map(|p| p.strip_prefix("subject="))
                .unwrap_or("")
                .replace("%20", " ");
            (to.to_string(), subject)
        })
        .collect()
}

#[test]
fn under_the_shipped_config_every_mailto_link_in_every_email_does_what_it_says() {
    let mut h = shipped();
    h.run_until(utc(2026, 1, 9, 20, 0), Duration::hours(1));
    // Alice asks for help (a fresh message): its links, and the form's.
    only_one(fresh(&mut h, ALICE, "help", "help", "ml0"));
    let mut links: Vec<(String, String)> = h
        .sent()
        .iter()
        .filter(|s| s.to == ALICE.1)
        .flat_map(|s| mailto_links(&s.html))
        .collect();
    // A bare address (no subject) promises no command.
    links.retain(|(_, subject)| !subject.is_empty());
    links.sort();
    links.dedup();
    assert!(links.len() >= 8, "{links:?}");
    assert!(
        links.iter().any(|(to, _)| to.starts_with("reflect+")),
        "{links:?}"
    );
    for (i, (to, subject)) in links.iter().enumerate() {
        // An hour apart: answers to unverified mail are limited per hour.
        h.clock.set(now(&h) + Duration::minutes(61));
        // As a mail client sends it: that address, that subject, no body.
        let raw = String::from_utf8(mail(
            ALICE,
            subject,
            "",
            &[],
            &format!("ml{}", i + 1),
            now(&h),
        ))
        .unwrap()
        .replace("To: PM Pulse <pulse@example.org>", &format!("To: {to}"));
        let before = h.sent_count();
        h.deliver_and_pass(&format!("ml{}.eml", i + 1), raw.as_bytes());
        let answers = answers_to(h.sent_new(before), &format!("ml{}", i + 1));
        let answer = answers
            .first()
            .unwrap_or_else(|| panic!("no answer to the link {to}?subject={subject}"));
        assert_eq!(answer.to, ALICE.1);
        assert!(
            !answer.text.contains("so nothing changed")
                && !answer.text.contains("is not a command I know"),
            "the link {to}?subject={subject} did not work: {}",
            answer.text
        );
    }
}
