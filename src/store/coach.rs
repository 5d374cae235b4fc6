//! The coach's side, per pairing: each digest's secret reply key, and what a
//! coach's reply to it recorded — agreed actions, private notes, 1:1 changes.
//!
//! Owns the rule that everything here belongs to one pairing (a row of
//! `pairings`), so a new coach is handed nothing from an earlier one, and
//! that a PM's `forget` removes it all (see `privacy::FORGET`). Never logs
//! an action, a note, a key or an address: only keys of people and ids.

use crate::understand::coach::ScheduleChange;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::error::At;
use super::{StoreError, Tx, ms, opt_time_at, time_at, week_at};
use crate::understand::DigestRef;
use crate::understand::coach::ActionStatus;
use crate::week::Week;

/// A digest's reply key, as recorded when the digest is queued.
#[derive(Clone, Debug)]
pub struct NewDigestKey<'a> {
    pub reply_key: &'a str,
    pub pm: &'a str,
    pub coach: &'a str,
    /// The pairing (row id) the digest was sent in.
    pub pairing: i64,
    pub week: Week,
    pub message_id: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// The pairing in force for a PM: its row id and coach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentPairing {
    pub id: i64,
    pub coach: String,
    pub since: DateTime<Utc>,
}

/// Where an agreed action stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionState {
    Open,
    Done,
    Dropped,
}

impl ActionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionState::Open => "open",
            ActionState::Done => "done",
            ActionState::Dropped => "dropped",
        }
    }

    fn parse(s: &str) -> ActionState {
        match s {
            "done" => ActionState::Done,
            "dropped" => ActionState::Dropped,
            _ => ActionState::Open,
        }
    }
}

/// One agreed action as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionRow {
    pub id: i64,
    pub pairing: i64,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub state: ActionState,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A PM's answer to one action, as read from their reply to a form.
#[derive(Clone, Debug)]
pub struct NewActionAnswer<'a> {
    pub action: i64,
    pub pairing: i64,
    pub pm: &'a str,
    /// The week of the form replied to.
    pub week: Week,
    pub answer: ActionStatus,
    pub comment: Option<&'a str>,
    pub inbound_id: i64,
    pub at: DateTime<Utc>,
}

/// A PM's answer to an action, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionAnswerRow {
    pub action: i64,
    pub pairing: i64,
    pub week: Week,
    pub answer: ActionStatus,
    pub comment: Option<String>,
    pub received_at: DateTime<Utc>,
}

/// What one coach reply adds, all for one pairing.
#[derive(Clone, Debug)]
pub struct CoachEntry<'a> {
    pub pairing: i64,
    pub pm: &'a str,
    pub coach: &'a str,
    pub inbound_id: i64,
    pub at: DateTime<Utc>,
}

impl Tx<'_> {
    /// Records a digest's secret reply key with the pairing it belongs to.
    pub fn record_digest_key(
        &self,
        k: &NewDigestKey<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO digest_keys
                   (reply_key, pm, coach, pairing, week, message_id, sent_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    k.reply_key,
                    k.pm,
                    k.coach,
                    k.pairing,
                    k.week.to_string(),
                    k.message_id,
                    ms(now),
                    ms(k.expires_at)
                ],
            )
            .at(self.path)?;
        Ok(())
    }

    /// Records an agreed action, open. Returns its id.
    pub fn record_action(&self, e: &CoachEntry<'_>, text: &str) -> Result<i64, StoreError> {
        self.tx
            .execute(
                "INSERT INTO actions (pairing, pm, coach, text, created_at, inbound_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![e.pairing, e.pm, e.coach, text, ms(e.at), e.inbound_id],
            )
            .at(self.path)?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Closes an open action of `pairing` (done or dropped). Returns
    /// whether it was open.
    pub fn close_action(
        &self,
        pairing: i64,
        id: i64,
        state: ActionState,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = self
            .tx
            .execute(
                "UPDATE actions SET status = ?3, closed_at = ?4
                 WHERE id = ?1 AND pairing = ?2 AND status = 'open'",
                params![id, pairing, state.as_str(), ms(now)],
            )
            .at(self.path)?;
        Ok(n == 1)
    }

    /// Records a PM's answer to one action of `a.pairing`; a `done` closes
    /// it (when still open). Returns whether the action was open in that
    /// pairing: an answer to any other is not recorded.
    pub fn record_action_answer(&self, a: &NewActionAnswer<'_>) -> Result<bool, StoreError> {
        let open: bool = self
            .tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM actions
                   WHERE id = ?1 AND pairing = ?2 AND pm = ?3 AND status = 'open')",
                params![a.action, a.pairing, a.pm],
                |r| r.get(0),
            )
            .at(self.path)?;
        if !open {
            return Ok(false);
        }
        self.tx
            .execute(
                "INSERT INTO action_answers
                   (action, pairing, pm, week, answer, comment, received_at, inbound_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    a.action,
                    a.pairing,
                    a.pm,
                    a.week.to_string(),
                    a.answer.as_str(),
                    a.comment,
                    ms(a.at),
                    a.inbound_id
                ],
            )
            .at(self.path)?;
        if a.answer == ActionStatus::Done {
            self.close_action(a.pairing, a.action, ActionState::Done, a.at)?;
        }
        Ok(true)
    }

    /// Keeps a coach's private note (never shown to the PM).
    pub fn record_coach_note(&self, e: &CoachEntry<'_>, text: &str) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO coach_notes (pairing, pm, coach, text, received_at, inbound_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![e.pairing, e.pm, e.coach, text, ms(e.at), e.inbound_id],
            )
            .at(self.path)?;
        Ok(())
    }

    /// Records a 1:1 change as written (`change`: the reader's value as
    /// JSON), not yet applied.
    pub fn record_schedule_change(
        &self,
        e: &CoachEntry<'_>,
        change: &str,
    ) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO schedule_changes (pairing, pm, coach, change, received_at, inbound_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![e.pairing, e.pm, e.coach, change, ms(e.at), e.inbound_id],
            )
            .at(self.path)?;
        Ok(())
    }
}

// --- reads ------------------------------------------------------------------

fn action_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ActionRow> {
    let state: String = r.get(4)?;
    Ok(ActionRow {
        id: r.get(0)?,
        pairing: r.get(1)?,
        text: r.get(2)?,
        created_at: time_at(r, 3)?,
        state: ActionState::parse(&state),
        closed_at: opt_time_at(r, 5)?,
    })
}

pub(crate) fn current_pairing(
    c: &Connection,
    pm: &str,
) -> rusqlite::Result<Option<CurrentPairing>> {
    c.prepare_cached(
        "SELECT id, coach, since FROM pairings WHERE pm = ?1 AND until IS NULL
         ORDER BY since DESC, id DESC LIMIT 1",
    )?
    .query_row([pm], |r| {
        Ok(CurrentPairing {
            id: r.get(0)?,
            coach: r.get(1)?,
            since: time_at(r, 2)?,
        })
    })
    .optional()
}

pub(crate) fn open_actions(c: &Connection, pairing: i64) -> rusqlite::Result<Vec<ActionRow>> {
    let mut s = c.prepare_cached(
        "SELECT id, pairing, text, created_at, status, closed_at FROM actions
         WHERE pairing = ?1 AND status = 'open' ORDER BY id",
    )?;
    let rows = s.query_map([pairing], action_row)?;
    rows.collect()
}

/// The open actions of the pairing in force for `pm`, oldest first: what
/// the PM's form asks about. Never an earlier pairing's.
pub(crate) fn pm_open_actions(c: &Connection, pm: &str) -> rusqlite::Result<Vec<ActionRow>> {
    let mut s = c.prepare_cached(
        "SELECT id, pairing, text, created_at, status, closed_at FROM actions
         WHERE status = 'open' AND pm = ?1 AND pairing =
           (SELECT id FROM pairings WHERE pm = ?1 AND until IS NULL
            ORDER BY since DESC, id DESC LIMIT 1)
         ORDER BY id",
    )?;
    let rows = s.query_map([pm], action_row)?;
    rows.collect()
}

/// The actions of one pairing closed as done at or after `since`, oldest
/// first: a digest shows each once, then it leaves.
pub(crate) fn done_actions_since(
    c: &Connection,
    pairing: i64,
    since: Option<DateTime<Utc>>,
) -> rusqlite::Result<Vec<ActionRow>> {
    let mut s = c.prepare_cached(
        "SELECT id, pairing, text, created_at, status, closed_at FROM actions
         WHERE pairing = ?1 AND status = 'done' AND closed_at >= ?2 ORDER BY id",
    )?;
    let rows = s.query_map(params![pairing, since.map_or(i64::MIN, ms)], action_row)?;
    rows.collect()
}

fn action_answer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ActionAnswerRow> {
    let answer: String = r.get(3)?;
    Ok(ActionAnswerRow {
        action: r.get(0)?,
        pairing: r.get(1)?,
        week: week_at(r, 2)?,
        answer: ActionStatus::parse(&answer).unwrap_or(ActionStatus::NotYet),
        comment: r.get(4)?,
        received_at: time_at(r, 5)?,
    })
}

/// Every answer `pm` gave to an action, any pairing, oldest first (for
/// `export`, `trend` and the digest, which keep the newest per action).
pub(crate) fn action_answers_of(
    c: &Connection,
    pm: &str,
) -> rusqlite::Result<Vec<ActionAnswerRow>> {
    let mut s = c.prepare_cached(
        "SELECT action, pairing, week, answer, comment, received_at FROM action_answers
         WHERE pm = ?1 ORDER BY received_at, id",
    )?;
    let rows = s.query_map([pm], action_answer_row)?;
    rows.collect()
}

/// The answers given to the actions of one pairing, oldest first.
pub(crate) fn action_answers_in(
    c: &Connection,
    pairing: i64,
) -> rusqlite::Result<Vec<ActionAnswerRow>> {
    let mut s = c.prepare_cached(
        "SELECT action, pairing, week, answer, comment, received_at FROM action_answers
         WHERE pairing = ?1 ORDER BY received_at, id",
    )?;
    let rows = s.query_map([pairing], action_answer_row)?;
    rows.collect()
}

pub(crate) fn actions_of(c: &Connection, pm: &str) -> rusqlite::Result<Vec<ActionRow>> {
    let mut s = c.prepare_cached(
        "SELECT id, pairing, text, created_at, status, closed_at FROM actions
         WHERE pm = ?1 ORDER BY id",
    )?;
    let rows = s.query_map([pm], action_row)?;
    rows.collect()
}

pub(crate) fn coach_notes_since(
    c: &Connection,
    pairing: i64,
    since: Option<DateTime<Utc>>,
) -> rusqlite::Result<Vec<String>> {
    let mut s = c.prepare_cached(
        "SELECT text FROM coach_notes WHERE pairing = ?1 AND received_at >= ?2
         ORDER BY received_at, id",
    )?;
    let rows = s.query_map(params![pairing, since.map_or(i64::MIN, ms)], |r| r.get(0))?;
    rows.collect()
}

pub(crate) fn last_digest_sent(
    c: &Connection,
    pairing: i64,
) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let v: Option<i64> = c
        .prepare_cached("SELECT max(sent_at) FROM digest_keys WHERE pairing = ?1")?
        .query_row([pairing], |r| r.get(0))?;
    Ok(v.and_then(DateTime::from_timestamp_millis))
}

pub(crate) fn live_digest_key(
    c: &Connection,
    pairing: i64,
    at: DateTime<Utc>,
) -> rusqlite::Result<Option<String>> {
    c.prepare_cached(
        "SELECT reply_key FROM digest_keys WHERE pairing = ?1 AND expires_at > ?2
         ORDER BY sent_at DESC, id DESC LIMIT 1",
    )?
    .query_row(params![pairing, ms(at)], |r| r.get(0))
    .optional()
}

pub(crate) fn schedule_changes_of(
    c: &Connection,
    pairing: i64,
) -> rusqlite::Result<Vec<(ScheduleChange, DateTime<Utc>)>> {
    let mut s = c.prepare_cached(
        "SELECT change, received_at FROM schedule_changes WHERE pairing = ?1
         ORDER BY received_at, id",
    )?;
    let rows = s.query_map([pairing], |r| Ok((r.get::<_, String>(0)?, time_at(r, 1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (json, at) = row?;
        if let Some(change) = read_change(&json) {
            out.push((change, at));
        }
    }
    Ok(out)
}

/// A stored 1:1 change; one this binary cannot read (written by a newer
/// one) is passed over rather than guessed.
pub(crate) fn read_change(json: &str) -> Option<ScheduleChange> {
    serde_json::from_str(json).ok()
}

/// The digest whose reply key this is, with whether its pairing is still
/// the PM's current one.
pub(crate) fn digest_by_reply_key(
    c: &Connection,
    key: &str,
) -> rusqlite::Result<Option<DigestRef>> {
    c.prepare_cached(
        "SELECT d.pm, d.coach, d.pairing, d.week, d.expires_at,
                EXISTS (SELECT 1 FROM pairings p
                        WHERE p.id = d.pairing AND p.pm = d.pm AND p.until IS NULL)
         FROM digest_keys d WHERE d.reply_key = ?1",
    )?
    .query_row([key], |r| {
        Ok(DigestRef {
            pm: r.get(0)?,
            coach: r.get(1)?,
            pairing: r.get(2)?,
            week: week_at(r, 3)?,
            expires_at: time_at(r, 4)?,
            current: r.get(5)?,
        })
    })
    .optional()
}

#[cfg(test)]
mod tests {
    use super::super::{Store, schema};
    use super::*;

    fn t(day: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2026, 12, day, 9, 0, 0).unwrap()
    }

    #[test]
    fn migration_7_moves_an_existing_database_and_keeps_its_rows() {
        // A database as version 6 left it, with a PM, a pairing and an answer.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coachmail.db");
        {
            let c = Connection::open(&path).unwrap();
            for sql in &schema::MIGRATIONS[..6] {
                c.execute_batch(sql).unwrap();
            }
            c.execute_batch(
                "PRAGMA user_version = 6;
                 INSERT INTO coaches (key, since) VALUES ('maya', 1);
                 INSERT INTO pms (key, coach, since) VALUES ('alice', 'maya', 1);
                 INSERT INTO pairings (pm, coach, since) VALUES ('alice', 'maya', 1);
                 INSERT INTO answers (pm, week, skill, score, received_at)
                   VALUES ('alice', '2026-W48', 'data', 3, 1);",
            )
            .unwrap();
        }
        let mut s = Store::open(&path, None).unwrap();
        assert_eq!(s.schema_version().unwrap(), schema::latest_version());
        assert!(schema::latest_version() >= 7);
        let answers: i64 = s
            .conn
            .query_row("SELECT count(*) FROM answers", [], |r| r.get(0))
            .unwrap();
        assert_eq!(answers, 1);
        let pairing = s.current_pairing("alice").unwrap().unwrap();
        assert_eq!(pairing.coach, "maya");
        // The new tables take rows.
        s.write(|tx| -> Result<(), StoreError> {
            tx.record_digest_key(
                &NewDigestKey {
                    reply_key: "k",
                    pm: "alice",
                    coach: "maya",
                    pairing: pairing.id,
                    week: "2026-W49".parse().unwrap(),
                    message_id: "m@x",
                    expires_at: t(20),
                },
                t(7),
            )?;
            let e = CoachEntry {
                pairing: pairing.id,
                pm: "alice",
                coach: "maya",
                inbound_id: 1,
                at: t(7),
            };
            tx.record_action(&e, "send the roadmap")?;
            tx.record_coach_note(&e, "seems tired")?;
            tx.record_schedule_change(&e, "\"cancelled\"")
        })
        .unwrap();
        assert_eq!(s.open_actions(pairing.id).unwrap().len(), 1);
        assert_eq!(s.coach_notes_since(pairing.id, None).unwrap().len(), 1);
        let d = s.digest_by_reply_key("k").unwrap().unwrap();
        assert!(d.current && d.coach == "maya" && d.pairing == pairing.id);
    }

    #[test]
    fn migration_8_moves_a_version_7_database_and_keeps_its_actions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coachmail.db");
        {
            let c = Connection::open(&path).unwrap();
            for sql in &schema::MIGRATIONS[..7] {
                c.execute_batch(sql).unwrap();
            }
            c.execute_batch(
                "PRAGMA user_version = 7;
                 INSERT INTO coaches (key, since) VALUES ('maya', 1);
                 INSERT INTO pms (key, coach, since) VALUES ('alice', 'maya', 1);
                 INSERT INTO pairings (pm, coach, since) VALUES ('alice', 'maya', 1);
                 INSERT INTO actions (pairing, pm, coach, text, created_at)
                   VALUES (1, 'alice', 'maya', 'send the roadmap', 1);
                 INSERT INTO actions (pairing, pm, coach, text, created_at)
                   VALUES (1, 'alice', 'maya', 'book two calls', 1);",
            )
            .unwrap();
        }
        let mut s = Store::open(&path, None).unwrap();
        assert_eq!(s.schema_version().unwrap(), schema::latest_version());
        assert!(schema::latest_version() >= 8);
        let open = s.pm_open_actions("alice").unwrap();
        assert_eq!(open.len(), 2);
        // The new table takes answers; `done` closes, `partly` keeps open.
        let recorded = s
            .write(|tx| -> Result<(bool, bool), StoreError> {
                let answer = |action: i64, answer: ActionStatus| NewActionAnswer {
                    action,
                    pairing: 1,
                    pm: "alice",
                    week: "2026-W50".parse().unwrap(),
                    answer,
                    comment: Some("sent Tuesday"),
                    inbound_id: 3,
                    at: t(9),
                };
                Ok((
                    tx.record_action_answer(&answer(open[0].id, ActionStatus::Done))?,
                    tx.record_action_answer(&answer(open[1].id, ActionStatus::Partly))?,
                ))
            })
            .unwrap();
        assert_eq!(recorded, (true, true));
        let still_open = s.pm_open_actions("alice").unwrap();
        assert_eq!(still_open.len(), 1);
        assert_eq!(still_open[0].text, "book two calls");
        let answers = s.action_answers_of("alice").unwrap();
        assert_eq!(answers.len(), 2);
        assert_eq!(answers[0].answer, ActionStatus::Done);
        assert_eq!(answers[0].comment.as_deref(), Some("sent Tuesday"));
        assert_eq!(s.done_actions_since(1, Some(t(8))).unwrap().len(), 1);
        assert!(s.done_actions_since(1, Some(t(10))).unwrap().is_empty());
    }

    #[test]
    fn every_table_with_a_pm_column_is_emptied_by_forget() {
        let s = Store::open_in_memory().unwrap();
        let tables: Vec<String> = s
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let mut about_a_pm = Vec::new();
        for table in tables {
            let has_pm: bool = s
                .conn
                .query_row(
                    &format!(
                        "SELECT count(*) > 0 FROM pragma_table_info('{table}') WHERE name = 'pm'"
                    ),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            if has_pm {
                about_a_pm.push(table);
            }
        }
        assert!(about_a_pm.iter().any(|t| t == "action_answers"));
        for table in about_a_pm {
            assert!(
                super::super::privacy::FORGET
                    .iter()
                    .any(|sql| sql.starts_with(&format!("DELETE FROM {table} WHERE pm = ?1"))),
                "forget leaves the rows of {table}"
            );
        }
    }

    #[test]
    fn an_answer_to_an_action_of_another_pairing_or_a_closed_one_is_not_recorded() {
        let mut s = Store::open_in_memory().unwrap();
        let e = CoachEntry {
            pairing: 1,
            pm: "alice",
            coach: "maya",
            inbound_id: 1,
            at: t(1),
        };
        let recorded = s
            .write(|tx| -> Result<(bool, bool, bool), StoreError> {
                let id = tx.record_action(&e, "a")?;
                let answer = |pairing: i64, answer: ActionStatus| NewActionAnswer {
                    action: id,
                    pairing,
                    pm: "alice",
                    week: "2026-W50".parse().unwrap(),
                    answer,
                    comment: None,
                    inbound_id: 2,
                    at: t(2),
                };
                Ok((
                    tx.record_action_answer(&answer(2, ActionStatus::Done))?,
                    tx.record_action_answer(&answer(1, ActionStatus::Done))?,
                    tx.record_action_answer(&answer(1, ActionStatus::Partly))?,
                ))
            })
            .unwrap();
        assert_eq!(recorded, (false, true, false));
        assert_eq!(s.action_answers_of("alice").unwrap().len(), 1);
    }

    #[test]
    fn a_digest_key_is_deleted_retention_after_it_closed_and_not_before() {
        let mut s = Store::open_in_memory().unwrap();
        s.write(|tx| -> Result<(), StoreError> {
            for (key, expires) in [("old", t(1)), ("recent", t(20))] {
                tx.record_digest_key(
                    &NewDigestKey {
                        reply_key: key,
                        pm: "alice",
                        coach: "maya",
                        pairing: 1,
                        week: "2026-W49".parse().unwrap(),
                        message_id: key,
                        expires_at: expires,
                    },
                    t(1),
                )?;
            }
            Ok(())
        })
        .unwrap();
        // 30 days of retention, 35 days after the first key closed.
        s.purge_raw(t(1) + chrono::Duration::days(35), 30).unwrap();
        assert!(s.digest_by_reply_key("old").unwrap().is_none());
        assert!(s.digest_by_reply_key("recent").unwrap().is_some());
    }

    #[test]
    fn an_action_closes_once_and_only_in_its_own_pairing() {
        let mut s = Store::open_in_memory().unwrap();
        let id = s
            .write(|tx| -> Result<i64, StoreError> {
                tx.record_action(
                    &CoachEntry {
                        pairing: 1,
                        pm: "alice",
                        coach: "maya",
                        inbound_id: 1,
                        at: t(1),
                    },
                    "a",
                )
            })
            .unwrap();
        let closed = s
            .write(|tx| -> Result<(bool, bool, bool), StoreError> {
                Ok((
                    tx.close_action(2, id, ActionState::Dropped, t(2))?,
                    tx.close_action(1, id, ActionState::Dropped, t(2))?,
                    tx.close_action(1, id, ActionState::Done, t(3))?,
                ))
            })
            .unwrap();
        assert_eq!(closed, (false, true, false));
        let all = s.actions_of("alice").unwrap();
        assert_eq!(all[0].state, ActionState::Dropped);
        assert_eq!(all[0].closed_at, Some(t(2)));
    }
}
