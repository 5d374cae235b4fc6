//! The weekly loop end to end on the embedded default: real SQLite file,
//! real templates, Maildir in, .eml files out, parsed back with mail-parser.

mod util;

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, Timelike, Weekday};
use coachmail::replies::{self, ClientShape, ReplyContent};
use util::{Harness, Sent, utc};

/// Answers `form` from `from` with one score for every skill (`override`
/// replaces some), in the given client's shape.
#[allow(clippy::too_many_arguments)]
fn reply_all(
    h: &Harness,
    form: &Sent,
    from: (&str, &str),
    score: u8,
    overrides: &[(&str, u8)],
    note: &str,
    shape: ClientShape,
    unique: &str,
) -> Vec<u8> {
    let scores = h
        .service
        .engine
        .config
        .framework
        .active()
        .map(|s| {
            let v = overrides
                .iter()
                .find(|(k, _)| *k == s.key)
                .map_or(score, |(_, v)| *v);
            (s.name.clone(), s.key.clone(), v)
        })
        .collect();
    let content = ReplyContent {
        scores,
        note: note.to_string(),
    };
    replies::compose(
        shape,
        &form.headers(),
        from,
        &content,
        h.clock_now(),
        unique,
    )
}

trait Now {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc>;
}
impl Now for Harness {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use coachmail::clock::Clock;
        self.clock.now()
    }
}

fn forms_to(h: &Harness, email: &str) -> Vec<Sent> {
    h.sent_of("form")
        .into_iter()
        .filter(|s| s.to == email)
        .collect()
}

#[test]
fn forms_go_out_at_each_pms_local_time_across_dst_changes() {
    // Europe springs forward on 29 March 2026, Sydney falls back on 5 April.
    let mut h = Harness::start(utc(2026, 3, 23, 0, 0));
    h.run_until(utc(2026, 4, 11, 0, 0), Duration::minutes(15));

    let expect = [
        (
            "alice@example.org",
            chrono_tz::Europe::Paris,
            (16, 0),
            [
                "2026-03-27T15:00:00Z",
                "2026-04-03T14:00:00Z",
                "2026-04-10T14:00:00Z",
            ],
        ),
        (
            "dev@example.org",
            chrono_tz::America::New_York,
            (16, 0),
            [
                "2026-03-27T20:00:00Z",
                "2026-04-03T20:00:00Z",
                "2026-04-10T20:00:00Z",
            ],
        ),
        (
            "emma@example.org",
            chrono_tz::Australia::Sydney,
            (15, 0),
            [
                "2026-03-27T04:00:00Z",
                "2026-04-03T04:00:00Z",
                "2026-04-10T05:00:00Z",
            ],
        ),
    ];
    for (email, tz, (hour, minute), instants) in expect {
        let forms = forms_to(&h, email);
        let sent: Vec<String> = forms
            .iter()
            .map(|f| f.date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .collect();
        assert_eq!(sent, instants, "{email}");
        for f in &forms {
            let local = f.date.with_timezone(&tz);
            assert_eq!(local.weekday(), Weekday::Fri, "{email}");
            assert_eq!((local.hour(), local.minute()), (hour, minute), "{email}");
        }
    }
}

#[test]
fn a_reply_in_the_maildir_is_stored_and_confirmed_within_one_pass() {
    let mut h = Harness::start(utc(2026, 11, 23, 0, 0));
    h.run_until(utc(2026, 11, 27, 16, 0), Duration::hours(1));
    let form = forms_to(&h, "alice@example.org")
        .pop()
        .expect("alice got her form");
    let week: coachmail::week::Week = "2026-W48".parse().unwrap();

    h.clock.advance(Duration::minutes(30));
    let bytes = reply_all(
        &h,
        &form,
        ("Alice Martin", "alice@example.org"),
        3,
        &[("delivery", 5)],
        "Shipped the beta.",
        ClientShape::GmailInline,
        "r1",
    );
    h.deliver("1.r1.host", &bytes);
    let pass = h.pass();
    assert_eq!(pass.received, 1);

    let history = h.store().history("alice").unwrap();
    let this_week: Vec<_> = history.iter().filter(|(w, _, _)| *w == week).collect();
    assert_eq!(this_week.len(), 8, "{history:?}");
    assert!(this_week.contains(&&(week, "delivery".to_string(), Some(5))));
    assert!(this_week.contains(&&(week, "strategy".to_string(), Some(3))));
    assert_eq!(
        h.store().notes("alice", week).unwrap(),
        vec!["Shipped the beta.".to_string()]
    );

    let confirms = h.sent_of("confirm");
    assert_eq!(confirms.len(), 1);
    let c = &confirms[0];
    assert_eq!(c.to, "alice@example.org");
    let msg = mail_parser::MessageParser::default()
        .parse(&c.bytes[..])
        .unwrap();
    assert_eq!(msg.in_reply_to().as_text(), Some("r1@example.org"));
    assert_eq!(
        msg.header("Auto-Submitted").and_then(|v| v.as_text()),
        Some("auto-replied")
    );
    assert!(c.text.contains("Execution & delivery: 5"), "{}", c.text);
    // The inbound message was acknowledged only after it was applied.
    let inbox = h.dir.path().join("var/inbox");
    assert_eq!(std::fs::read_dir(inbox.join("new")).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(inbox.join("cur")).unwrap().count(), 1);
}

#[test]
fn a_second_reply_the_same_week_corrects_one_skill_and_keeps_the_old_value() {
    let mut h = Harness::start(utc(2026, 11, 23, 0, 0));
    // Bruno is in São Paulo: 16:00 there is 19:00 UTC.
    h.run_until(utc(2026, 11, 27, 20, 0), Duration::hours(1));
    let form = forms_to(&h, "bruno@example.org")
        .pop()
        .expect("bruno got his form");
    let week: coachmail::week::Week = "2026-W48".parse().unwrap();
    let first = reply_all(
        &h,
        &form,
        ("Bruno Silva", "bruno@example.org"),
        3,
        &[],
        "",
        ClientShape::OutlookTopPost,
        "b1",
    );
    h.deliver("1.b1.host", &first);
    h.pass();
    h.clock.advance(Duration::hours(3));
    let fix = replies::correction(
        &form.headers(),
        ("Bruno Silva", "bruno@example.org"),
        "Communication",
        5,
        h.clock_now(),
        "b2",
    );
    h.deliver("2.b2.host", &fix);
    h.pass();

    let current: Vec<_> = h
        .store()
        .history("bruno")
        .unwrap()
        .into_iter()
        .filter(|(w, _, _)| *w == week)
        .collect();
    assert_eq!(current.len(), 8);
    assert!(current.contains(&(week, "communication".into(), Some(5))));
    assert!(current.contains(&(week, "strategy".into(), Some(3))));
    let all = h.store().answer_history("bruno", week).unwrap();
    let communication: Vec<_> = all.iter().filter(|a| a.skill == "communication").collect();
    assert_eq!(communication.len(), 2, "{all:?}");
    assert_eq!(communication[0].score, Some(3));
    assert!(communication[0].superseded_at.is_some());
    assert_eq!(communication[1].score, Some(5));
    assert!(communication[1].superseded_at.is_none());
    assert_eq!(h.sent_of("confirm").len(), 2);
}

#[test]
fn the_digest_goes_to_the_paired_coach_only_with_scores_baseline_dip_and_note() {
    let mut h = Harness::start(utc(2026, 10, 5, 0, 0));
    let alice = ("Alice Martin", "alice@example.org");
    let mut answered = BTreeSet::new();
    // Six weeks: Alice rates stakeholder management 4 every week, then 1.
    for week in 0..6 {
        let friday_after = utc(2026, 10, 9, 18, 0) + Duration::weeks(week);
        h.run_until(friday_after, Duration::hours(1));
        let form = forms_to(&h, alice.1).pop().unwrap();
        if !answered.insert(form.key.clone()) {
            panic!("no new form in week {week}");
        }
        let (score, note) = if week == 5 {
            (1, "CANARY-NOTE: the CFO cut my budget.")
        } else {
            (4, "")
        };
        let bytes = reply_all(
            &h,
            &form,
            alice,
            3,
            &[("stakeholders", score)],
            note,
            ClientShape::Iphone,
            &format!("a{week}"),
        );
        h.deliver(&format!("{week}.a.host"), &bytes);
        h.pass();
    }
    // Alice's 1:1 is Monday 10:00 Paris; the digest goes out two hours before.
    h.run_until(utc(2026, 11, 16, 12, 0), Duration::minutes(30));

    let digests: Vec<Sent> = h
        .sent_of("digest")
        .into_iter()
        .filter(|d| d.key.contains("alice"))
        .collect();
    assert!(!digests.is_empty());
    assert!(
        digests.iter().all(|d| d.to == "maya@example.org"),
        "alice's digests went to {:?}",
        digests.iter().map(|d| &d.to).collect::<Vec<_>>()
    );
    let last = digests.last().unwrap();
    assert_eq!(
        last.date,
        utc(2026, 11, 16, 7, 0),
        "08:00 Paris (CET) = 07:00 UTC"
    );
    assert!(last.text.contains("DIP"), "{}", last.text);
    let stakeholders = last
        .text
        .lines()
        .find(|l| l.contains("Stakeholder management"))
        .unwrap();
    assert!(
        stakeholders.contains('1') && stakeholders.contains('4'),
        "score 1 against baseline 4: {stakeholders}"
    );
    assert!(last.text.contains("CANARY-NOTE: the CFO cut my budget."));
    // Nobody but Alice and her coach ever received her note.
    for s in h.sent() {
        if s.text.contains("CANARY-NOTE") || s.html.contains("CANARY-NOTE") {
            assert!(
                s.to == "alice@example.org" || s.to == "maya@example.org",
                "{} got Alice's note",
                s.to
            );
        }
    }
    // Tom coaches Dev and Emma: none of his digests is about Maya's PMs.
    for s in h
        .sent_of("digest")
        .into_iter()
        .filter(|d| d.to == "tom@example.org")
    {
        assert!(s.key.contains("dev") || s.key.contains("emma"), "{}", s.key);
    }
}

#[test]
fn a_restart_in_the_middle_of_the_week_sends_nothing_twice() {
    let mut h = Harness::start(utc(2026, 11, 23, 0, 0));
    h.run_until(utc(2026, 11, 27, 16, 30), Duration::hours(1));
    let before = h.sent().len();
    assert!(before > 0);
    for _ in 0..3 {
        h.restart();
        h.pass();
    }
    assert_eq!(h.sent().len(), before, "a restart re-sent something");
    h.run_until(utc(2026, 12, 5, 0, 0), Duration::hours(1));
    let keys: Vec<String> = h.sent().iter().map(|s| s.key.clone()).collect();
    let unique: BTreeSet<&String> = keys.iter().collect();
    assert_eq!(keys.len(), unique.len(), "{keys:?}");
    assert_eq!(forms_to(&h, "alice@example.org").len(), 2);
}

#[test]
fn the_same_reply_delivered_twice_is_applied_and_answered_once() {
    let mut h = Harness::start(utc(2026, 11, 23, 0, 0));
    h.run_until(utc(2026, 11, 27, 16, 0), Duration::hours(1));
    let form = forms_to(&h, "alice@example.org").pop().unwrap();
    let bytes = reply_all(
        &h,
        &form,
        ("Alice Martin", "alice@example.org"),
        4,
        &[],
        "",
        ClientShape::AppleHtml,
        "dup",
    );
    h.deliver("1.dup.host", &bytes);
    h.deliver("2.dup.host", &bytes);
    h.pass();
    h.restart();
    h.deliver("3.dup.host", &bytes);
    h.pass();
    assert_eq!(h.sent_of("confirm").len(), 1);
    let week = "2026-W48".parse().unwrap();
    assert_eq!(h.store().answer_history("alice", week).unwrap().len(), 8);
}

#[test]
fn three_days_of_downtime_catch_up_with_one_form_not_three() {
    let mut h = Harness::start(utc(2026, 11, 16, 0, 0));
    h.run_until(utc(2026, 11, 26, 12, 0), Duration::hours(1));
    let before = forms_to(&h, "alice@example.org").len();
    assert_eq!(before, 1);
    // Down from Thursday noon to Sunday noon: Friday's forms fell due meanwhile.
    h.down_until(utc(2026, 11, 29, 12, 0));
    h.pass();
    let alice = forms_to(&h, "alice@example.org");
    assert_eq!(alice.len(), 2, "one caught-up form");
    assert_eq!(
        alice[1].date,
        utc(2026, 11, 29, 12, 0),
        "sent on the first pass back"
    );
    h.run_until(utc(2026, 12, 3, 0, 0), Duration::hours(1));
    assert_eq!(
        forms_to(&h, "alice@example.org").len(),
        2,
        "no further catch-up forms"
    );
    for pm in ["bruno@example.org", "dev@example.org", "emma@example.org"] {
        assert_eq!(forms_to(&h, pm).len(), 2, "{pm}");
    }
}

#[test]
fn a_store_error_while_reading_a_reply_leaves_it_for_the_next_pass() {
    let mut h = Harness::start(utc(2026, 11, 23, 0, 0));
    h.run_until(utc(2026, 11, 27, 16, 0), Duration::hours(1));
    let form = forms_to(&h, "alice@example.org")
        .pop()
        .expect("alice got her form");
    let week: coachmail::week::Week = "2026-W48".parse().unwrap();
    let bytes = reply_all(
        &h,
        &form,
        ("Alice Martin", "alice@example.org"),
        4,
        &[],
        "Keyed reply.",
        ClientShape::OutlookTopPost,
        "lost1",
    );
    // The forms lookup fails (the table is away) while the reply is read,
    // in the same minute as the last pass (so the schedule is not read).
    let db = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
    db.execute_batch("ALTER TABLE forms RENAME TO forms_away")
        .unwrap();
    let pass = h.deliver_and_pass("1.lost1.host", &bytes);
    assert_eq!(pass.received, 0);
    let inbox = h.dir.path().join("var/inbox");
    assert_eq!(std::fs::read_dir(inbox.join("new")).unwrap().count(), 1);
    let logged: i64 = db
        .query_row("SELECT count(*) FROM inbound", [], |r| r.get(0))
        .unwrap();
    assert_eq!(logged, 0, "a reply that could not be judged was recorded");
    assert!(h.sent_of("confirm").is_empty());

    // The store recovers: the next pass applies the same message.
    db.execute_batch("ALTER TABLE forms_away RENAME TO forms")
        .unwrap();
    h.clock.advance(Duration::minutes(1));
    let pass = h.pass();
    assert_eq!(pass.received, 1);
    let history = h.store().history("alice").unwrap();
    assert_eq!(
        history
            .iter()
            .filter(|(w, _, s)| *w == week && *s == Some(4))
            .count(),
        8,
        "{history:?}"
    );
    assert_eq!(h.sent_of("confirm").len(), 1);
    assert_eq!(std::fs::read_dir(inbox.join("new")).unwrap().count(), 0);
}

#[test]
fn a_reply_of_thousands_of_conflicting_lines_gets_a_short_confirmation() {
    let mut h = Harness::start(utc(2026, 11, 23, 0, 0));
    h.run_until(utc(2026, 11, 27, 16, 0), Duration::hours(1));
    let form = forms_to(&h, "alice@example.org")
        .pop()
        .expect("alice got her form");
    let lines: String = (0..29_126)
        .map(|i| if i % 2 == 0 { "Data: 3\n" } else { "Data: 4\n" })
        .collect();
    let bytes = reply_all(
        &h,
        &form,
        ("Alice Martin", "alice@example.org"),
        4,
        &[],
        &lines,
        ClientShape::OutlookTopPost,
        "flood1",
    );
    h.clock.advance(Duration::minutes(30));
    h.deliver_and_pass("1.flood1.host", &bytes);
    let confirms = h.sent_of("confirm");
    assert_eq!(confirms.len(), 1);
    let c = &confirms[0];
    assert!(c.bytes.len() < 1_000_000, "{} bytes", c.bytes.len());
    assert!(c.bytes.len() < 100_000, "{} bytes", c.bytes.len());
    assert!(c.text.contains("more lines I could not read"), "{}", c.text);
    assert!(c.html.contains("more lines I could not read"));
}
