//! The store against real SQLite: in memory, and temp files where the file
//! itself (mode, locks, backup) is the point.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc, Weekday};

use super::*;
use crate::config::{Coach, Pm, Slot};
use crate::understand::Kind;

fn t(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

fn w(s: &str) -> Week {
    s.parse().unwrap()
}

fn coach(key: &str) -> Coach {
    Coach {
        key: key.into(),
        name: key.into(),
        email: format!("{key}@example.org"),
    }
}

fn pm(key: &str, coach: &str) -> Pm {
    let slot = Slot {
        day: Weekday::Mon,
        time: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
    };
    Pm {
        key: key.into(),
        name: key.into(),
        email: format!("{key}@example.org"),
        coach: coach.into(),
        timezone: chrono_tz::Europe::Paris,
        one_on_one: slot,
        cadence: Default::default(),
        form: slot,
    }
}

/// A store with coaches maya, omar and PMs alice, bob (both with maya).
fn store() -> Store {
    let mut s = Store::open_in_memory().unwrap();
    s.sync_people(
        &[coach("maya"), coach("omar")],
        &[pm("alice", "maya"), pm("bob", "maya")],
        t(1, 9),
    )
    .unwrap();
    s
}

fn scores(pairs: &[(&str, u8)]) -> BTreeMap<String, u8> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn inbound<'a>(key: &'a str, pm: Option<&'a str>, at: DateTime<Utc>) -> InboundRecord<'a> {
    InboundRecord {
        dedup_key: key,
        pm,
        kind: Kind::Assessment,
        reason: None,
        week: Some(w("2026-W48")),
        sender_hash: Some("h-alice"),
        received_at: at,
    }
}

fn msg<'a>(key: &'a str, pm: &'a str) -> NewOutbound<'a> {
    NewOutbound {
        key,
        kind: "confirm",
        pm: Some(pm),
        recipient: "alice@example.org",
        bytes: b"Subject: ok\r\n\r\nrecorded\r\n",
    }
}

fn count(s: &Store, sql: &str) -> i64 {
    s.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// One reply from `who` for `week`, stored the way the engine does it.
fn reply(s: &mut Store, id: &str, who: &str, week: &str, pairs: &[(&str, u8)], at: DateTime<Utc>) {
    let tx = s.transaction().unwrap();
    let inbound_id = tx.log_inbound(&inbound(id, Some(who), at)).unwrap();
    tx.keep_raw(inbound_id, b"raw message", at).unwrap();
    tx.record_answers(who, w(week), &scores(pairs), &[], inbound_id, at)
        .unwrap();
    tx.record_note(who, w(week), "a note", inbound_id, at)
        .unwrap();
    tx.enqueue(&msg(&format!("confirm:{id}"), who), at).unwrap();
    tx.commit().unwrap();
}

// --- opening, migrations, the file -----------------------------------------

#[test]
fn migrations_bring_an_empty_database_to_the_latest_version() {
    let s = Store::open_in_memory().unwrap();
    assert_eq!(s.schema_version().unwrap(), schema::latest_version());
    assert!(schema::latest_version() >= 1);
    let tables = count(
        &s,
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN
         ('coaches','pms','pairings','forms','inbound','raw_inbound','answers','notes',
          'outbox','events','pauses','skips','forget_tokens')",
    );
    assert_eq!(tables, 13);
}

#[test]
fn reopening_a_current_database_applies_nothing_and_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coachmail.db");
    {
        let mut s = Store::open(&path, None).unwrap();
        s.sync_people(&[coach("maya")], &[pm("alice", "maya")], t(1, 9))
            .unwrap();
    }
    let mut s = Store::open(&path, None).unwrap();
    assert_eq!(s.schema_version().unwrap(), schema::latest_version());
    assert_eq!(s.pm_since("alice").unwrap(), Some(t(1, 9)));
    let again = schema::migrate(&mut s.conn, &path).unwrap();
    assert!(again.is_empty());
}

#[test]
fn migration_4_makes_an_existing_database_lean_and_keeps_its_facts() {
    // A database as version 3 left it: an answered week with a
    // correction, a delivered row with its recipient, a pause.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coachmail.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        for sql in &schema::MIGRATIONS[..3] {
            c.execute_batch(sql).unwrap();
        }
        c.execute_batch(
            "PRAGMA user_version = 3;
             INSERT INTO coaches (key, since) VALUES ('maya', 1);
             INSERT INTO pms (key, coach, since) VALUES ('alice', 'maya', 1), ('bob', 'maya', 1);
             INSERT INTO answers (pm, week, skill, score, received_at, superseded_at)
               VALUES ('alice', '2026-W48', 'data', 2, 1, 2),
                      ('alice', '2026-W48', 'data', 3, 2, NULL),
                      ('alice', '2026-W48', 'craft', 4, 2, NULL),
                      ('bob', '2026-W47', 'data', 3, 1, 2);
             INSERT INTO outbox (key, kind, pm, recipient, message, status,
                                 next_attempt_at, created_at, sent_at)
               VALUES ('form:alice:2026-W48', 'form', 'alice', 'alice@example.org', x'00',
                       'sent', 1, 1, 1),
                      ('form:bob:2026-W48', 'form', 'bob', 'bob@example.org', x'00',
                       'pending', 1, 1, NULL);",
        )
        .unwrap();
    }
    let s = Store::open(&path, None).unwrap();
    assert_eq!(s.schema_version().unwrap(), schema::latest_version());
    assert_eq!(
        count(&s, "SELECT count(*) FROM answered_weeks"),
        1,
        "alice's week once; bob's only answer was superseded"
    );
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM outbox WHERE recipient = '' AND message IS NULL"
        ),
        1,
        "the delivered row only"
    );
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM sqlite_master WHERE name = 'outbox_by_created'"
        ),
        0
    );
    let facts = s
        .schedule_facts(&config_of_store_tests(), t(28, 9))
        .unwrap();
    assert!(facts.pms["alice"].answered.contains(&w("2026-W48")));
    assert!(facts.pms["bob"].answered.is_empty());
}

#[test]
fn the_lean_indexes_migration_drops_two_unneeded_indexes_and_keeps_every_answer() {
    // A database as the version before left it, with a week of answers.
    let lean = schema::MIGRATIONS
        .iter()
        .position(|m| m.contains("DROP INDEX answers_current_by_week"))
        .expect("the lean indexes migration");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coachmail.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        for sql in &schema::MIGRATIONS[..lean] {
            c.execute_batch(sql).unwrap();
        }
        c.pragma_update(None, "user_version", lean as i64).unwrap();
        c.execute_batch(
            "INSERT INTO coaches (key, since) VALUES ('maya', 1);
             INSERT INTO pms (key, coach, since) VALUES ('alice', 'maya', 1);
             INSERT INTO answers (pm, week, skill, score, received_at, superseded_at)
               VALUES ('alice', '2026-W48', 'data', 2, 1, 2),
                      ('alice', '2026-W48', 'data', 3, 2, NULL),
                      ('alice', '2026-W48', 'craft', 4, 2, NULL);
             INSERT INTO inbound (dedup_key, pm, kind, received_at)
               VALUES ('mid:a@example.org', 'alice', 'assessment', 1);",
        )
        .unwrap();
        let before: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN
                 ('answers_current_by_week', 'inbound_by_pm')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(before, 2);
    }
    let s = Store::open(&path, None).unwrap();
    assert_eq!(s.schema_version().unwrap(), schema::latest_version());
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM sqlite_master WHERE name IN
             ('answers_current_by_week', 'inbound_by_pm')"
        ),
        0
    );
    assert_eq!(count(&s, "SELECT count(*) FROM answers"), 3);
    let history = s.history("alice").unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(s.answered_pms(w("2026-W48")).unwrap().contains("alice"));
    // What used the dropped indexes still seeks: a PM's inbound mail.
    let forget = plan(&s, "SELECT dedup_key FROM inbound WHERE pm = ?1");
    assert!(
        forget.iter().any(|l| l.contains("inbound_by_pm_received")),
        "{forget:?}"
    );
}

#[test]
fn a_database_from_a_newer_coachmail_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coachmail.db");
    drop(Store::open(&path, None).unwrap());
    let newer = schema::latest_version() + 1;
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", newer).unwrap();
    }
    let err = Store::open(&path, None).err().unwrap();
    assert!(matches!(err, StoreError::TooNew { found, .. } if found == newer));
    let text = err.to_string();
    assert!(text.contains(&format!("schema version {newer}")), "{text}");
    assert!(text.contains("newer coachmail"), "{text}");
    let c = rusqlite::Connection::open(&path).unwrap();
    let v: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, newer);
}

#[test]
fn database_file_and_wal_are_private_and_new_folder_is_0700() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("var");
    let path = folder.join("coachmail.db");
    let mut s = Store::open(&path, None).unwrap();
    s.sync_people(&[coach("maya")], &[pm("alice", "maya")], t(1, 9))
        .unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&path), 0o600);
    let wal = folder.join("coachmail.db-wal");
    assert!(wal.exists(), "WAL mode should create a -wal file");
    assert_eq!(mode(&wal), 0o600);
    assert_eq!(mode(&folder.join("coachmail.db-shm")), 0o600);
    let journal: String = s
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
    let fk: i64 = s
        .conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
}

#[test]
fn an_existing_world_readable_database_is_tightened_to_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coachmail.db");
    drop(Store::open(&path, None).unwrap());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(Store::open(&path, None).unwrap());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn a_file_that_is_not_a_database_gets_an_error_naming_the_key_setting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coachmail.db");
    std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
    let err = Store::open(&path, None).err().unwrap();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
    assert!(err.to_string().contains("database_key_env"));
}

#[cfg(not(feature = "sqlcipher"))]
#[test]
fn a_key_without_the_sqlcipher_build_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(&dir.path().join("c.db"), Some("secret"))
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::EncryptionUnavailable));
    assert!(err.to_string().contains("--features sqlcipher"));
}

#[test]
fn a_write_lock_held_by_another_process_reads_as_busy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coachmail.db");
    let mut holder = Store::open(&path, None).unwrap();
    let mut other = Store::open(&path, None).unwrap();
    other
        .set_busy_timeout(StdDuration::from_millis(50))
        .unwrap();
    let tx = holder.transaction().unwrap();
    let err = other.transaction().err().unwrap();
    assert!(err.is_busy(), "{err:?}");
    assert!(err.to_string().contains("busy"));
    drop(tx);
    assert!(other.transaction().is_ok());
}

#[test]
fn other_errors_are_not_busy() {
    let err = StoreError::EncryptionUnavailable;
    assert!(!err.is_busy());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coachmail.db");
    std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
    assert!(!Store::open(&path, None).err().unwrap().is_busy());
}

// --- roster -----------------------------------------------------------------

#[test]
fn a_pm_removed_from_config_is_kept_with_history_and_repairing_is_recorded() {
    let mut s = store();
    reply(&mut s, "m1", "bob", "2026-W48", &[("delivery", 4)], t(2, 9));
    let changes = s
        .sync_people(
            &[coach("maya"), coach("omar")],
            &[pm("alice", "omar")],
            t(3, 9),
        )
        .unwrap();
    assert_eq!(changes.left, vec!["bob".to_string()]);
    assert_eq!(changes.repaired, vec!["alice".to_string()]);
    let left: Option<i64> = s
        .conn
        .query_row("SELECT left_at FROM pms WHERE key = 'bob'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(left, Some(ms(t(3, 9))));
    assert_eq!(s.history("bob").unwrap().len(), 1);
    let pairings = s.pairings("alice").unwrap();
    assert_eq!(
        pairings,
        vec![
            Pairing {
                coach: "maya".into(),
                since: t(1, 9),
                until: Some(t(3, 9)),
            },
            Pairing {
                coach: "omar".into(),
                since: t(3, 9),
                until: None,
            },
        ]
    );
    let bob = s.pairings("bob").unwrap();
    assert_eq!(bob[0].until, Some(t(3, 9)));
}

#[test]
fn syncing_the_same_roster_twice_changes_nothing() {
    let mut s = store();
    let again = s
        .sync_people(
            &[coach("maya"), coach("omar")],
            &[pm("alice", "maya"), pm("bob", "maya")],
            t(5, 9),
        )
        .unwrap();
    assert!(again.is_empty());
    assert_eq!(s.pm_since("alice").unwrap(), Some(t(1, 9)));
    assert_eq!(s.pairings("alice").unwrap().len(), 1);
}

#[test]
fn a_pm_who_returns_gets_a_new_pairing_and_keeps_since() {
    let mut s = store();
    s.sync_people(&[coach("maya")], &[pm("alice", "maya")], t(2, 9))
        .unwrap();
    let back = s
        .sync_people(
            &[coach("maya"), coach("omar")],
            &[pm("alice", "maya"), pm("bob", "omar")],
            t(4, 9),
        )
        .unwrap();
    assert!(back.joined.contains(&"bob".to_string()));
    assert!(back.joined.contains(&"omar".to_string()));
    assert_eq!(s.pm_since("bob").unwrap(), Some(t(1, 9)));
    let p = s.pairings("bob").unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(p[1].coach, "omar");
    assert_eq!(p[1].until, None);
}

// --- forms ------------------------------------------------------------------

#[test]
fn forms_are_found_by_reply_key_message_id_and_latest_week() {
    let s = &mut store();
    let tx = s.transaction().unwrap();
    assert!(
        tx.record_form("alice", w("2026-W47"), "k1", "m1@x", t(20, 15))
            .unwrap()
    );
    assert!(
        tx.record_form("alice", w("2026-W48"), "k2", "m2@x", t(27, 15))
            .unwrap()
    );
    assert!(
        !tx.record_form("alice", w("2026-W48"), "k2", "m3@x", t(27, 16))
            .unwrap()
    );
    // Visible inside the transaction, to `understand`.
    assert_eq!(Forms::latest_week(&tx, "alice"), Ok(Some(w("2026-W48"))));
    tx.commit().unwrap();
    let want = FormRef {
        pm: "alice".into(),
        week: w("2026-W47"),
    };
    assert_eq!(s.by_reply_key("k1"), Ok(Some(want.clone())));
    assert_eq!(s.by_message_id("m1@x"), Ok(Some(want)));
    assert_eq!(s.by_reply_key("nope"), Ok(None));
    assert_eq!(Forms::latest_week(s, "alice"), Ok(Some(w("2026-W48"))));
    assert_eq!(Forms::latest_week(s, "bob"), Ok(None));
    let sent: Vec<Week> = s.forms_sent("alice").unwrap().into_iter().collect();
    assert_eq!(sent, vec![w("2026-W47"), w("2026-W48")]);
    assert_eq!(
        s.form_for("alice", w("2026-W48"))
            .unwrap()
            .map(|f| f.sent_at),
        Some(t(27, 15))
    );
}

#[test]
fn a_failed_forms_lookup_is_an_error_never_no_such_form() {
    let s = &mut store();
    s.write(|tx| tx.record_form("alice", w("2026-W48"), "k2", "m2@x", t(27, 15)))
        .unwrap();
    s.conn
        .execute_batch("ALTER TABLE forms RENAME TO forms_elsewhere")
        .unwrap();
    assert!(s.by_reply_key("k2").is_err());
    assert!(s.by_message_id("m2@x").is_err());
    assert!(Forms::latest_week(s, "alice").is_err());
}

// --- answers and notes ------------------------------------------------------

#[test]
fn a_correction_supersedes_the_earlier_answer_and_keeps_it_in_history() {
    let mut s = store();
    reply(
        &mut s,
        "m1",
        "alice",
        "2026-W48",
        &[("delivery", 4), ("data", 2)],
        t(27, 17),
    );
    reply(&mut s, "m2", "alice", "2026-W48", &[("data", 3)], t(28, 9));
    let current = s.history("alice").unwrap();
    assert_eq!(
        current,
        vec![
            (w("2026-W48"), "data".to_string(), Some(3)),
            (w("2026-W48"), "delivery".to_string(), Some(4)),
        ]
    );
    let all = s.answer_history("alice", w("2026-W48")).unwrap();
    assert_eq!(all.len(), 3);
    let old = all
        .iter()
        .find(|a| a.skill == "data" && a.score == Some(2))
        .unwrap();
    assert_eq!(old.superseded_at, Some(t(28, 9)));
    let new = all
        .iter()
        .find(|a| a.skill == "data" && a.score == Some(3))
        .unwrap();
    assert_eq!(new.superseded_at, None);
    assert_eq!(s.notes("alice", w("2026-W48")).unwrap().len(), 2);
}

#[test]
fn the_same_score_again_still_supersedes_and_one_answer_stays_current() {
    let mut s = store();
    reply(&mut s, "m1", "alice", "2026-W48", &[("data", 3)], t(27, 17));
    reply(&mut s, "m2", "alice", "2026-W48", &[("data", 3)], t(28, 9));
    assert_eq!(s.history("alice").unwrap().len(), 1);
    assert_eq!(s.answer_history("alice", w("2026-W48")).unwrap().len(), 2);
}

#[test]
fn a_skipped_skill_is_stored_without_score_and_a_scored_skill_wins_over_skip() {
    let s = &mut store();
    let tx = s.transaction().unwrap();
    let id = tx
        .log_inbound(&inbound("m1", Some("alice"), t(27, 17)))
        .unwrap();
    let skipped = vec!["technical".to_string(), "data".to_string()];
    let n = tx
        .record_answers(
            "alice",
            w("2026-W48"),
            &scores(&[("data", 2)]),
            &skipped,
            id,
            t(27, 17),
        )
        .unwrap();
    assert_eq!(n, 2);
    tx.commit().unwrap();
    let h = s.history("alice").unwrap();
    assert!(h.contains(&(w("2026-W48"), "technical".into(), None)));
    assert!(h.contains(&(w("2026-W48"), "data".into(), Some(2))));
    let weeks: Vec<Week> = s.answered_weeks("alice").unwrap().into_iter().collect();
    assert_eq!(weeks, vec![w("2026-W48")]);
}

#[test]
fn a_score_outside_one_to_five_is_refused_by_the_database() {
    let s = &mut store();
    let tx = s.transaction().unwrap();
    let err = tx
        .record_answers(
            "alice",
            w("2026-W48"),
            &scores(&[("data", 7)]),
            &[],
            1,
            t(27, 17),
        )
        .err();
    assert!(err.is_some());
}

#[test]
fn history_between_returns_only_the_asked_weeks_and_other_pms_are_apart() {
    let mut s = store();
    reply(&mut s, "m1", "alice", "2026-W46", &[("data", 2)], t(13, 17));
    reply(&mut s, "m2", "alice", "2026-W47", &[("data", 3)], t(20, 17));
    reply(&mut s, "m3", "alice", "2026-W48", &[("data", 4)], t(27, 17));
    reply(&mut s, "m4", "bob", "2026-W47", &[("data", 1)], t(20, 17));
    let h = s
        .history_between("alice", w("2026-W47"), w("2026-W48"))
        .unwrap();
    assert_eq!(
        h,
        vec![
            (w("2026-W47"), "data".to_string(), Some(3)),
            (w("2026-W48"), "data".to_string(), Some(4)),
        ]
    );
    assert_eq!(s.history("bob").unwrap().len(), 1);
}

// --- inbound ----------------------------------------------------------------

#[test]
fn a_message_seen_before_is_recognised_by_its_dedup_key() {
    let mut s = store();
    assert!(!s.inbound_seen("m1").unwrap());
    reply(&mut s, "m1", "alice", "2026-W48", &[("data", 3)], t(27, 17));
    assert!(s.inbound_seen("m1").unwrap());
    assert!(!s.inbound_seen("m2").unwrap());
    let tx = s.transaction().unwrap();
    assert!(tx.inbound_seen("m1").unwrap());
    assert!(
        tx.log_inbound(&inbound("m1", Some("alice"), t(27, 18)))
            .is_err()
    );
}

#[test]
fn inbound_counts_per_sender_within_a_window_for_the_rate_limit() {
    let s = &mut store();
    let tx = s.transaction().unwrap();
    for (i, hour) in [8, 9, 10].into_iter().enumerate() {
        let key = format!("m{i}");
        tx.log_inbound(&inbound(&key, Some("alice"), t(27, hour)))
            .unwrap();
    }
    let mut stranger = inbound("x", None, t(27, 10));
    stranger.sender_hash = Some("h-stranger");
    stranger.kind = Kind::Rejected;
    stranger.reason = Some("unknown sender");
    tx.log_inbound(&stranger).unwrap();
    tx.commit().unwrap();
    assert_eq!(s.count_inbound_from("h-alice", t(27, 9)).unwrap(), 2);
    assert_eq!(s.count_inbound_from("h-stranger", t(27, 9)).unwrap(), 1);
    assert_eq!(s.count_inbound_from("h-nobody", t(27, 0)).unwrap(), 0);
}

#[test]
fn an_inbound_message_and_its_outbox_rows_roll_back_together_on_error() {
    let mut s = store();
    {
        let tx = s.transaction().unwrap();
        let id = tx
            .log_inbound(&inbound("m1", Some("alice"), t(27, 17)))
            .unwrap();
        tx.keep_raw(id, b"raw", t(27, 17)).unwrap();
        tx.record_answers(
            "alice",
            w("2026-W48"),
            &scores(&[("data", 3)]),
            &[],
            id,
            t(27, 17),
        )
        .unwrap();
        tx.record_note("alice", w("2026-W48"), "note", id, t(27, 17))
            .unwrap();
        assert!(tx.enqueue(&msg("confirm:m1", "alice"), t(27, 17)).unwrap());
        // A later step fails: an out-of-range score.
        let failed = tx.record_answers(
            "alice",
            w("2026-W48"),
            &scores(&[("delivery", 9)]),
            &[],
            id,
            t(27, 17),
        );
        assert!(failed.is_err());
        // The engine returns the error; the transaction is dropped.
    }
    assert!(!s.inbound_seen("m1").unwrap());
    assert!(s.history("alice").unwrap().is_empty());
    assert!(s.notes("alice", w("2026-W48")).unwrap().is_empty());
    assert!(!s.has_outbound_key("confirm:m1").unwrap());
    assert_eq!(count(&s, "SELECT count(*) FROM raw_inbound"), 0);
}

#[test]
fn write_commits_on_ok_and_rolls_back_on_err() {
    let mut s = store();
    let ok: Result<bool, StoreError> = s.write(|tx| tx.enqueue(&msg("a", "alice"), t(27, 9)));
    assert!(ok.unwrap());
    let failed: Result<(), StoreError> = s.write(|tx| {
        tx.enqueue(&msg("b", "alice"), t(27, 9))?;
        Err(StoreError::EncryptionUnavailable)
    });
    assert!(failed.is_err());
    assert!(s.has_outbound_key("a").unwrap());
    assert!(!s.has_outbound_key("b").unwrap());
}

#[test]
fn raw_messages_older_than_retention_are_purged_and_the_log_stays() {
    let mut s = store();
    reply(&mut s, "old", "alice", "2026-W45", &[("data", 3)], t(1, 9));
    reply(&mut s, "new", "alice", "2026-W48", &[("data", 3)], t(27, 9));
    let purged = s.purge_raw(t(28, 9), 7).unwrap();
    assert_eq!(purged, 1);
    assert_eq!(count(&s, "SELECT count(*) FROM raw_inbound"), 1);
    assert!(s.inbound_seen("old").unwrap());
    assert_eq!(s.purge_raw(t(28, 9), 7).unwrap(), 0);
}

// --- outbox -----------------------------------------------------------------

#[test]
fn enqueueing_twice_with_one_key_keeps_one_row() {
    let mut s = store();
    let tx = s.transaction().unwrap();
    assert!(
        tx.enqueue(&msg("form:alice:2026-W48", "alice"), t(27, 15))
            .unwrap()
    );
    assert!(
        !tx.enqueue(&msg("form:alice:2026-W48", "alice"), t(27, 16))
            .unwrap()
    );
    tx.commit().unwrap();
    assert_eq!(count(&s, "SELECT count(*) FROM outbox"), 1);
    assert!(s.has_outbound_key("form:alice:2026-W48").unwrap());
}

#[test]
fn a_sent_message_is_never_due_again_nor_queued_again() {
    let mut s = store();
    s.write(|tx| tx.enqueue(&msg("form:alice:2026-W48", "alice"), t(27, 15)))
        .unwrap();
    let due = s.next_due_outbound(t(27, 15), 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].key, "form:alice:2026-W48");
    assert_eq!(due[0].bytes, msg("", "").bytes);
    assert_eq!(due[0].attempts, 0);
    s.mark_sent(due[0].id, t(27, 15)).unwrap();
    assert!(s.next_due_outbound(t(30, 0), 10).unwrap().is_empty());
    let again = s
        .write(|tx| tx.enqueue(&msg("form:alice:2026-W48", "alice"), t(28, 15)))
        .unwrap();
    assert!(!again);
    let bytes: Option<Vec<u8>> = s
        .conn
        .query_row("SELECT message FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(bytes, None, "sent message bytes are dropped");
}

#[test]
fn a_delivered_row_keeps_its_key_but_not_its_recipient() {
    let mut s = store();
    s.write(|tx| tx.enqueue(&msg("form:alice:2026-W48", "alice"), t(27, 15)))
        .unwrap();
    let due = s.next_due_outbound(t(27, 15), 10).unwrap();
    s.mark_sent(due[0].id, t(27, 15)).unwrap();
    let (key, recipient): (String, String) = s
        .conn
        .query_row("SELECT key, recipient FROM outbox", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(
        (key.as_str(), recipient.as_str()),
        ("form:alice:2026-W48", "")
    );
}

#[test]
fn delivered_rows_older_than_the_window_are_pruned_and_pending_and_dead_stay() {
    let mut s = store();
    s.write(|tx| {
        for key in ["old-sent", "old-pending", "old-dead"] {
            tx.enqueue(&msg(key, "alice"), t(1, 9))?;
        }
        tx.enqueue(&msg("new-sent", "alice"), t(27, 9))
    })
    .unwrap();
    for row in s.next_due_outbound(t(27, 9), 10).unwrap() {
        match row.key.as_str() {
            "old-sent" | "new-sent" => s.mark_sent(row.id, t(27, 9)).unwrap(),
            "old-dead" => s.mark_dead(row.id, "smtp-550", t(27, 9)).unwrap(),
            _ => {}
        }
    }
    // 26 days after the old rows: within the shortest window allowed, so
    // even a window of one day keeps them.
    assert_eq!(s.prune_sent(t(27, 9), 1).unwrap(), 0);
    let later = t(1, 9) + Duration::days(36);
    assert_eq!(s.prune_sent(later, 35).unwrap(), 1);
    assert!(!s.has_outbound_key("old-sent").unwrap());
    for key in ["old-pending", "old-dead", "new-sent"] {
        assert!(s.has_outbound_key(key).unwrap(), "{key} was pruned");
    }
    assert_eq!(s.prune_sent(later, 35).unwrap(), 0);
}

#[test]
fn a_retried_message_waits_until_its_next_attempt() {
    let mut s = store();
    s.write(|tx| tx.enqueue(&msg("k", "alice"), t(27, 15)))
        .unwrap();
    let id = s.next_due_outbound(t(27, 15), 10).unwrap()[0].id;
    s.mark_retry(id, t(27, 17), "smtp-4xx").unwrap();
    assert!(s.next_due_outbound(t(27, 16), 10).unwrap().is_empty());
    let due = s.next_due_outbound(t(27, 17), 10).unwrap();
    assert_eq!(due[0].attempts, 1);
    let status = s.outbox_status(t(27, 16)).unwrap();
    assert_eq!(status.pending, 1);
    assert_eq!(status.due, 0);
    assert_eq!(status.oldest_pending_at, Some(t(27, 15)));
}

#[test]
fn a_dead_letter_is_not_retried_and_shows_in_the_status() {
    let mut s = store();
    s.write(|tx| tx.enqueue(&msg("digest:alice:2026-W48", "alice"), t(27, 15)))
        .unwrap();
    let id = s.next_due_outbound(t(27, 15), 10).unwrap()[0].id;
    s.mark_dead(id, "smtp-5xx", t(27, 16)).unwrap();
    assert!(s.next_due_outbound(t(30, 0), 10).unwrap().is_empty());
    let status = s.outbox_status(t(27, 17)).unwrap();
    assert_eq!(status.pending, 0);
    assert_eq!(status.oldest_pending_at, None);
    assert_eq!(status.dead_total, 1);
    assert_eq!(
        status.dead,
        vec![(
            "digest:alice:2026-W48".to_string(),
            "smtp-5xx".to_string(),
            t(27, 16)
        )]
    );
}

#[test]
fn due_messages_come_oldest_first_up_to_the_limit() {
    let mut s = store();
    s.write(|tx| {
        tx.enqueue(&msg("b", "alice"), t(27, 10))?;
        tx.enqueue(&msg("a", "alice"), t(27, 9))?;
        tx.enqueue(&msg("c", "alice"), t(27, 11))
    })
    .unwrap();
    let due = s.next_due_outbound(t(27, 12), 2).unwrap();
    let keys: Vec<&str> = due.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, vec!["a", "b"]);
    let since = s.done_keys_since(t(27, 10)).unwrap();
    assert_eq!(
        since,
        ["b".to_string(), "c".to_string()].into_iter().collect()
    );
}

// --- pauses, skips, events, tokens -----------------------------------------

#[test]
fn a_pause_covers_its_span_and_resume_ends_it_early() {
    let mut s = store();
    s.write(|tx| tx.pause("alice", t(20, 0), t(5, 9))).unwrap();
    assert!(s.active_pause("alice", t(10, 0)).unwrap().is_some());
    assert!(s.active_pause("alice", t(21, 0)).unwrap().is_none());
    assert!(s.active_pause("bob", t(10, 0)).unwrap().is_none());
    assert!(s.paused_pms(t(10, 0)).unwrap().contains("alice"));
    let resumed = s.write(|tx| tx.resume("alice", t(12, 0))).unwrap();
    assert!(resumed);
    assert!(s.active_pause("alice", t(13, 0)).unwrap().is_none());
    // History still says it was paused on the 10th (digest: "paused", not "missed").
    let p = &s.pauses("alice").unwrap()[0];
    assert!(p.covers(t(10, 0)));
    assert!(!p.covers(t(13, 0)));
    assert!(!s.write(|tx| tx.resume("alice", t(14, 0))).unwrap());
}

#[test]
fn a_skipped_week_is_recorded_once() {
    let mut s = store();
    assert!(
        s.write(|tx| tx.skip_week("alice", w("2026-W48"), t(27, 9)))
            .unwrap()
    );
    assert!(
        !s.write(|tx| tx.skip_week("alice", w("2026-W48"), t(27, 10)))
            .unwrap()
    );
    let weeks: Vec<Week> = s.skipped_weeks("alice").unwrap().into_iter().collect();
    assert_eq!(weeks, vec![w("2026-W48")]);
}

#[test]
fn a_forget_token_works_once_for_its_pm_before_it_expires() {
    let mut s = store();
    s.write(|tx| {
        tx.create_forget_token("alice", "tok-a", t(28, 9), t(27, 9))?;
        tx.create_forget_token("alice", "tok-late", t(28, 9), t(27, 9))?;
        tx.create_forget_token("bob", "tok-b", t(28, 9), t(27, 9))
    })
    .unwrap();
    let redeem = |s: &mut Store, who: &str, tok: &str, at| {
        s.write(|tx| tx.redeem_forget_token(who, tok, at)).unwrap()
    };
    assert!(!redeem(&mut s, "alice", "tok-b", t(27, 10)), "bob's token");
    assert!(
        redeem(&mut s, "bob", "tok-b", t(27, 10)),
        "bob's token still his"
    );
    assert!(!redeem(&mut s, "alice", "tok-late", t(29, 9)), "expired");
    assert!(redeem(&mut s, "alice", "tok-a", t(27, 10)));
    assert!(!redeem(&mut s, "alice", "tok-a", t(27, 11)), "used");
}

// --- forget -----------------------------------------------------------------

#[test]
fn forget_removes_everything_about_one_pm_and_nothing_about_another() {
    let mut s = store();
    for who in ["alice", "bob"] {
        reply(
            &mut s,
            &format!("{who}-1"),
            who,
            "2026-W48",
            &[("data", 2)],
            t(27, 9),
        );
        reply(
            &mut s,
            &format!("{who}-2"),
            who,
            "2026-W48",
            &[("data", 3)],
            t(27, 10),
        );
        s.write(|tx| {
            tx.record_form(
                who,
                w("2026-W48"),
                &format!("k-{who}"),
                &format!("m-{who}"),
                t(27, 8),
            )?;
            tx.pause(who, t(30, 0), t(27, 11))?;
            tx.skip_week(who, w("2026-W49"), t(27, 11))?;
            tx.create_forget_token(who, &format!("tok-{who}"), t(28, 0), t(27, 11))?;
            tx.record_event(
                &Event {
                    pm: who,
                    kind: EventKind::ForgetRequested,
                    week: None,
                    until: None,
                },
                t(27, 11),
            )
        })
        .unwrap();
    }
    let before_bob = s.export_rows("bob").unwrap();
    s.forget_pm("alice", t(27, 12)).unwrap();

    for table in [
        "answers",
        "answered_weeks",
        "notes",
        "inbound",
        "outbox",
        "forms",
        "pauses",
        "skips",
        "forget_tokens",
    ] {
        let n = count(
            &s,
            &format!("SELECT count(*) FROM {table} WHERE pm = 'alice'"),
        );
        assert_eq!(n, 0, "alice rows left in {table}");
        let n = count(
            &s,
            &format!("SELECT count(*) FROM {table} WHERE pm = 'bob'"),
        );
        assert!(n > 0, "bob lost rows in {table}");
    }
    assert_eq!(
        count(&s, "SELECT count(*) FROM raw_inbound"),
        2,
        "bob's two"
    );
    let events = s.events("alice").unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::Forgotten);
    assert_eq!(s.export_rows("bob").unwrap(), before_bob);
    // Still in the roster: starts afresh.
    assert_eq!(s.pm_since("alice").unwrap(), Some(t(27, 12)));
    assert_eq!(s.pairings("alice").unwrap().len(), 1);
    assert_eq!(s.by_reply_key("k-alice"), Ok(None));
}

#[test]
fn forgetting_a_pm_who_left_removes_them_from_the_roster() {
    let mut s = store();
    reply(&mut s, "b1", "bob", "2026-W48", &[("data", 2)], t(27, 9));
    s.sync_people(&[coach("maya")], &[pm("alice", "maya")], t(27, 10))
        .unwrap();
    s.forget_pm("bob", t(27, 11)).unwrap();
    assert_eq!(s.pm_since("bob").unwrap(), None);
    assert!(s.pairings("bob").unwrap().is_empty());
    assert!(s.history("bob").unwrap().is_empty());
    assert_eq!(s.events("bob").unwrap().len(), 1);
}

// --- export and backup ------------------------------------------------------

#[test]
fn export_holds_answers_with_history_notes_forms_and_events() {
    let mut s = store();
    reply(&mut s, "m1", "alice", "2026-W48", &[("data", 2)], t(27, 9));
    reply(&mut s, "m2", "alice", "2026-W48", &[("data", 3)], t(27, 10));
    s.write(|tx| {
        tx.record_form("alice", w("2026-W48"), "k", "m", t(27, 8))?;
        tx.record_event(
            &Event {
                pm: "alice",
                kind: EventKind::Pause,
                week: None,
                until: Some(t(30, 0)),
            },
            t(27, 11),
        )
    })
    .unwrap();
    let e = s.export_rows("alice").unwrap();
    assert_eq!(e.since, Some(t(1, 9)));
    assert_eq!(e.answers.len(), 2);
    assert_eq!(e.answers[0].score, Some(2));
    assert_eq!(e.answers[0].superseded_at, Some(t(27, 10)));
    assert_eq!(e.notes.len(), 2);
    assert_eq!(e.forms.len(), 1);
    assert_eq!(e.events[0].until, Some(t(30, 0)));
}

#[test]
fn a_backup_is_a_private_copy_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("coachmail.db"), None).unwrap();
    s.sync_people(&[coach("maya")], &[pm("alice", "maya")], t(1, 9))
        .unwrap();
    reply(&mut s, "m1", "alice", "2026-W48", &[("data", 4)], t(27, 9));
    let to = dir.path().join("backup.db");
    s.backup(&to).unwrap();
    let mode = std::fs::metadata(&to).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let copy = Store::open(&to, None).unwrap();
    assert_eq!(copy.history("alice").unwrap(), s.history("alice").unwrap());
    let err = s.backup(&to).err().unwrap();
    assert!(matches!(err, StoreError::BackupExists { .. }));
}

#[test]
fn timestamps_round_trip_to_the_millisecond() {
    let mut s = store();
    let at = t(27, 9) + Duration::milliseconds(1234);
    s.write(|tx| tx.enqueue(&msg("k", "alice"), at)).unwrap();
    assert_eq!(s.outbox_status(at).unwrap().oldest_pending_at, Some(at));
}

// --- scale ------------------------------------------------------------------

/// Big tables at 10k PMs x 10 years: a full scan of any of them is a bug.
const BIG: &[&str] = &[
    "answers",
    "notes",
    "inbound",
    "raw_inbound",
    "outbox",
    "forms",
];

fn plan(s: &Store, sql: &str) -> Vec<String> {
    let mut stmt = s
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap();
    // Parameters stay unbound (NULL): the plan does not depend on them.
    let mut rows = stmt.raw_query();
    let mut lines = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        lines.push(row.get::<_, String>(3).unwrap());
    }
    lines
}

#[test]
fn hot_statements_use_indexes_not_full_scans_of_big_tables() {
    let s = store();
    let mut hot = vec![
        replies::SUPERSEDE,
        replies::INBOUND_SEEN,
        replies::COUNT_INBOUND_FROM,
        replies::ANSWERED_WEEKS,
        replies::FORMS_SENT,
        replies::HISTORY,
        replies::HISTORY_BETWEEN,
        replies::ANSWER_HISTORY,
        replies::ALL_ANSWERS,
        replies::NOTES,
        replies::FORM_BY_REPLY_KEY,
        replies::FORM_BY_MESSAGE_ID,
        replies::LATEST_FORM_WEEK,
        replies::ANSWERED_PMS,
        replies::FORMED_PMS,
        outbox::NEXT_DUE,
        outbox::KEYS_SINCE,
        outbox::HAS_KEY,
    ];
    hot.extend(privacy::FORGET);
    for sql in hot {
        let lines = plan(&s, sql);
        for line in &lines {
            for table in BIG {
                let scan = format!("SCAN {table}");
                assert!(
                    !(line == &scan || line.starts_with(&format!("{scan} "))),
                    "full scan of {table}: {lines:?}\n{sql}"
                );
            }
        }
    }
    // The digest's read comes out of its index already sorted.
    let history = plan(&s, replies::HISTORY);
    assert!(
        history.iter().all(|l| !l.contains("TEMP B-TREE")),
        "{history:?}"
    );
}

#[test]
fn the_schedules_per_tick_reads_seek_recent_rows_and_sort_nothing() {
    let s = store();
    for sql in [
        facts::FACTS_FORMS,
        facts::FACTS_ANSWERED,
        facts::FACTS_SKIPS,
        facts::FACTS_PAUSES,
        outbox::KEYS_SINCE,
        outbox::PRUNE_SENT,
    ] {
        let lines = plan(&s, sql);
        assert!(
            lines.iter().all(|l| l.starts_with("SEARCH ")),
            "a scan, or a sort for DISTINCT: {lines:?}\n{sql}"
        );
    }
    let pauses = plan(&s, facts::FACTS_PAUSES);
    assert!(
        pauses.iter().any(|l| l.contains("pauses_by_end")),
        "{pauses:?}"
    );
}

#[test]
fn the_schedule_sees_recent_answers_and_old_answered_weeks_are_pruned() {
    let mut s = store();
    reply(
        &mut s,
        "m1",
        "alice",
        "2026-W48",
        &[("data", 3), ("craft", 4)],
        t(27, 9),
    );
    reply(&mut s, "m2", "alice", "2026-W48", &[("data", 4)], t(27, 10));
    reply(&mut s, "m3", "bob", "2026-W40", &[("data", 3)], t(2, 9));
    assert_eq!(count(&s, "SELECT count(*) FROM answered_weeks"), 2);
    let facts = s
        .schedule_facts(&config_of_store_tests(), t(28, 9))
        .unwrap();
    assert_eq!(
        facts.pms["alice"].answered.iter().collect::<Vec<_>>(),
        [&w("2026-W48")]
    );
    assert!(
        facts.pms["bob"].answered.is_empty(),
        "W40 is out of the window"
    );
    s.purge_raw(t(28, 9), 30).unwrap();
    let left: String = s
        .conn
        .query_row(
            "SELECT group_concat(pm || ' ' || week) FROM answered_weeks",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, "alice 2026-W48");
    // The full history still knows bob's week.
    assert!(s.answered_weeks("bob").unwrap().contains(&w("2026-W40")));
}

#[test]
fn bulk_reads_name_the_pms_who_answered_or_got_a_form_for_a_week() {
    let mut s = store();
    reply(&mut s, "m1", "alice", "2026-W48", &[("data", 3)], t(27, 9));
    reply(&mut s, "m2", "bob", "2026-W47", &[("data", 3)], t(20, 9));
    s.write(|tx| tx.record_form("bob", w("2026-W48"), "k", "m", t(27, 8)))
        .unwrap();
    let answered = s.answered_pms(w("2026-W48")).unwrap();
    assert_eq!(answered, ["alice".to_string()].into_iter().collect());
    let formed = s.formed_pms(w("2026-W48")).unwrap();
    assert_eq!(formed, ["bob".to_string()].into_iter().collect());
}

#[test]
fn the_store_can_move_to_a_worker_thread() {
    fn send<T: Send>(_: &T) {}
    send(&store());
}

// --- encryption (only in a `--features sqlcipher` build) -------------------

#[cfg(feature = "sqlcipher")]
mod encrypted {
    use super::*;

    #[test]
    fn an_encrypted_database_cannot_be_read_without_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coachmail.db");
        {
            let mut s = Store::open(&path, Some("right key")).unwrap();
            s.sync_people(&[coach("maya")], &[pm("alice", "maya")], t(1, 9))
                .unwrap();
            reply(&mut s, "m1", "alice", "2026-W48", &[("data", 4)], t(27, 9));
        }
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.starts_with(b"SQLite format 3"));
        let err = Store::open(&path, None).err().unwrap();
        assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
        let err = Store::open(&path, Some("wrong key")).err().unwrap();
        assert!(matches!(err, StoreError::WrongKey { .. }), "{err:?}");
        assert!(err.to_string().contains("database_key_env"));
        let s = Store::open(&path, Some("right key")).unwrap();
        assert_eq!(s.history("alice").unwrap().len(), 1);
    }

    #[test]
    fn a_backup_of_an_encrypted_database_is_encrypted_with_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("coachmail.db"), Some("k")).unwrap();
        s.sync_people(&[coach("maya")], &[pm("alice", "maya")], t(1, 9))
            .unwrap();
        let to = dir.path().join("backup.db");
        s.backup(&to).unwrap();
        assert!(Store::open(&to, None).is_err());
        let copy = Store::open(&to, Some("k")).unwrap();
        assert_eq!(copy.pm_since("alice").unwrap(), Some(t(1, 9)));
    }
}

// --- what the operator reads ------------------------------------------------

#[test]
fn every_store_error_says_what_to_do_next() {
    use std::io::{Error as IoError, ErrorKind};
    use std::path::PathBuf;
    let db = || PathBuf::from("/srv/coachmail/coachmail.db");
    let full = || {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), None)
    };
    let errors = [
        StoreError::CreateDir {
            path: PathBuf::from("/srv/coachmail"),
            source: IoError::from(ErrorKind::PermissionDenied),
        },
        StoreError::CreateFile {
            path: db(),
            source: IoError::from(ErrorKind::PermissionDenied),
        },
        StoreError::Open {
            path: db(),
            source: full(),
        },
        StoreError::Busy { path: db() },
        StoreError::TooNew {
            path: db(),
            found: 7,
            supported: 1,
        },
        StoreError::Migration {
            path: db(),
            version: 2,
            source: full(),
        },
        StoreError::NotADatabase { path: db() },
        StoreError::WrongKey { path: db() },
        StoreError::EncryptionUnavailable,
        StoreError::BackupExists {
            path: PathBuf::from("/backups/coachmail.db"),
        },
        StoreError::BackupFile {
            path: PathBuf::from("/backups/coachmail.db"),
            source: IoError::from(ErrorKind::NotFound),
        },
        StoreError::Backup {
            path: PathBuf::from("/backups/coachmail.db"),
            source: full(),
        },
        StoreError::Sql {
            path: db(),
            source: full(),
        },
    ];
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    insta::assert_snapshot!(text.join("\n\n"));
}

/// A config for reading the schedule's facts (its PMs matter only for the
/// coach's 1:1 changes, which these tests do not write).
fn config_of_store_tests() -> crate::config::Config {
    crate::config::Config::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/coachmail.toml"),
    )
    .unwrap()
}
