//! A pairing's 1:1 cadence through the running service: a fortnightly 1:1
//! gets a digest every other week that carries both weeks' notes, and
//! `check` prints each pairing's next 1:1.

mod util;

use chrono::Duration;
use util::{Harness, reply_with, utc};

const ALICE: (&str, &str) = ("Alice Martin", "alice@example.org");

/// Alice's 1:1 every two weeks, on the Mondays of the weeks 2026-W49,
/// W51, W53…
fn fortnightly(t: String) -> String {
    t.replacen(
        "one_on_one = \"mon 10:00\"",
        "one_on_one = \"mon 10:00\"\none_on_one_every = 2\none_on_one_from = \"2026-11-30\"",
        1,
    )
}

#[test]
fn a_fortnightly_one_on_one_gets_one_digest_per_meeting_with_the_notes_of_both_weeks() {
    let mut h = Harness::start_with(utc(2026, 11, 23, 0, 0), fortnightly);
    let mut week = 0;
    // Four weekly forms, each answered with a note naming its week.
    while week < 4 {
        let until = utc(2026, 11, 27, 16, 0) + Duration::weeks(week);
        h.run_until(until, Duration::hours(1));
        let form = h
            .sent_of("form")
            .into_iter()
            .rfind(|s| s.to == ALICE.1)
            .expect("alice's form");
        let reply = reply_with(
            &h,
            &form,
            ALICE,
            4,
            &format!("note of form {week}"),
            &format!("r{week}"),
        );
        h.clock.advance(Duration::hours(2));
        h.deliver_and_pass(&format!("{week}.reply.host"), &reply);
        week += 1;
    }
    h.run_until(utc(2026, 12, 22, 0, 0), Duration::hours(1));
    let digests: Vec<_> = h
        .sent_of("digest")
        .into_iter()
        .filter(|d| d.text.contains("Alice"))
        .collect();
    let keys: Vec<&str> = digests.iter().map(|d| d.key.as_str()).collect();
    // Mondays 30 Nov and 14 Dec; none on 7 or 21 Dec.
    assert_eq!(keys, ["digest:alice:2026-11-30", "digest:alice:2026-12-14"]);
    // Forms 0–3 asked about the weeks 2026-W48 to W51. The 1:1 of 14 Dec
    // is about W50; W49, between the two 1:1s, rolls in.
    let second = &digests[1].text;
    assert!(second.contains("note of form 2"), "{second}");
    assert!(
        second.contains(
            "note 1, week of 30 Nov – 6 Dec 2026 (as written) ----\r\n    | note of form 1"
        ),
        "the off-week's note rolls in, named by its week: {second}"
    );
    assert!(!second.contains("note of form 0"), "{second}");
    assert!(!second.contains("note of form 3"), "{second}");
    assert!(digests[0].text.contains("note of form 0"));
}

#[test]
fn check_prints_each_pairings_next_one_on_one_and_its_rule() {
    let dir = tempfile::tempdir().unwrap();
    let config = util::write_config(dir.path(), |t| {
        fortnightly(t).replacen(
            "one_on_one = \"tue 09:30\"",
            "one_on_one = \"first tue 09:30\"",
            1,
        )
    });
    let out = util::coachmail(
        &["--config", config.to_str().unwrap(), "check", "--json"],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", util::text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = |pm: &str| {
        v["pms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["pm"] == pm)
            .unwrap()
            .clone()
    };
    assert_eq!(row("alice")["one_on_one"], "every 2 weeks, Mon 10:00");
    assert_eq!(row("bruno")["one_on_one"], "monthly, the first, Tue 09:30");
    assert_eq!(row("chloe")["one_on_one"], "weekly, Wed 14:00");
    let next = row("bruno")["next_one_on_one"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(next.starts_with("Tue "), "{next}");
    // The first Tuesday of its month.
    let date = next.split_whitespace().nth(1).unwrap();
    let day: u32 = date.split('-').nth(2).unwrap().parse().unwrap();
    assert!((1..=7).contains(&day), "{next}");
    let text = util::coachmail(&["--config", config.to_str().unwrap(), "check"], b"");
    let text = util::text(&text.stdout);
    assert!(text.contains("next 1:1 (local)"), "{text}");
    assert!(
        text.contains("1:1s: every 2 weeks, Mon 10:00 (with maya)"),
        "{text}"
    );
}
