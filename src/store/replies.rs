//! Forms sent, the inbound log, raw messages, answers and notes.
//!
//! Owns the rule that a correction supersedes and never deletes: every
//! answer ever given stays, and exactly one per PM, week and skill is
//! current. Never stores a message body outside `raw_inbound`.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::error::At;
use super::{StoreError, Tx, ms, opt_time_at, score_at, time_at, week_at};
use crate::understand::{FormRef, Kind};
use crate::week::Week;

/// One inbound message's entry in the log: what it was and why, no body.
#[derive(Clone, Debug)]
pub struct InboundRecord<'a> {
    /// Message-ID, or the content hash when there is none.
    pub dedup_key: &'a str,
    /// The PM it came from, when the sender is registered.
    pub pm: Option<&'a str>,
    pub kind: Kind,
    /// Why it was ignored or rejected; never message content.
    pub reason: Option<&'a str>,
    pub week: Option<Week>,
    /// Hash of the sender address (for the rate limit), never the address.
    pub sender_hash: Option<&'a str>,
    pub received_at: DateTime<Utc>,
}

/// One answer as stored, current or superseded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerRow {
    pub week: Week,
    pub skill: String,
    /// `None`: skipped on purpose.
    pub score: Option<u8>,
    pub received_at: DateTime<Utc>,
    /// When a later answer replaced it; `None` = current.
    pub superseded_at: Option<DateTime<Utc>>,
    /// The inbound message it came from.
    pub inbound_id: Option<i64>,
}

pub(crate) fn kind_str(kind: Kind) -> &'static str {
    match kind {
        // A coach's reply is logged as an assessment about the PM (the
        // log's kinds are fixed by migration 1), with the reason `coach`.
        Kind::Assessment | Kind::CoachReply => "assessment",
        Kind::Command => "command",
        Kind::Ignored => "ignored",
        Kind::Rejected => "rejected",
    }
}

impl Tx<'_> {
    /// Records a form sent to `pm` for `week` with its secret reply key and
    /// Message-ID (without angle brackets). Returns `false` when that key or
    /// Message-ID is already recorded (nothing changes).
    pub fn record_form(
        &self,
        pm: &str,
        week: Week,
        reply_key: &str,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = self
            .tx
            .prepare_cached(
                "INSERT INTO forms (pm, week, reply_key, message_id, sent_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    pm,
                    week.to_string(),
                    reply_key,
                    message_id,
                    ms(now)
                ])
            })
            .at(self.path)?;
        Ok(n == 1)
    }

    /// Logs one inbound message (no body) and returns its id, which answers,
    /// notes and the raw copy refer to. Check [`Tx::inbound_seen`] first: a
    /// dedup key logged twice is an error.
    pub fn log_inbound(&self, record: &InboundRecord<'_>) -> Result<i64, StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO inbound (dedup_key, pm, kind, reason, week, sender_hash, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    record.dedup_key,
                    record.pm,
                    kind_str(record.kind),
                    record.reason,
                    record.week.map(|w| w.to_string()),
                    record.sender_hash,
                    ms(record.received_at),
                ])
            })
            .at(self.path)?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Keeps the raw message of a logged inbound message until
    /// [`Store::purge_raw`](super::Store::purge_raw) removes it.
    pub fn keep_raw(
        &self,
        inbound_id: i64,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO raw_inbound (inbound_id, bytes, received_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (inbound_id) DO UPDATE SET bytes = excluded.bytes",
            )
            .and_then(|mut s| s.execute(params![inbound_id, bytes, ms(now)]))
            .at(self.path)?;
        Ok(())
    }

    /// Stores a reply's answers for `pm`'s `week`: each scored or skipped
    /// skill becomes the current answer, and the answer it replaces (if
    /// any) is marked superseded, never deleted. A skill both scored and
    /// skipped counts as scored. Returns how many answers were stored.
    #[allow(clippy::too_many_arguments)]
    pub fn record_answers(
        &self,
        pm: &str,
        week: Week,
        scores: &BTreeMap<String, u8>,
        skipped: &[String],
        inbound_id: i64,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let week = week.to_string();
        let now = ms(now);
        let answers = scores
            .iter()
            .map(|(skill, score)| (skill.as_str(), Some(*score)))
            .chain(
                skipped
                    .iter()
                    .filter(|s| !scores.contains_key(*s))
                    .map(|s| (s.as_str(), None)),
            )
            .collect::<BTreeMap<&str, Option<u8>>>();
        let mut supersede = self.tx.prepare_cached(SUPERSEDE).at(self.path)?;
        let mut insert = self
            .tx
            .prepare_cached(
                "INSERT INTO answers (pm, week, skill, score, received_at, inbound_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .at(self.path)?;
        for (skill, score) in &answers {
            supersede
                .execute(params![pm, week, skill, now])
                .at(self.path)?;
            insert
                .execute(params![pm, week, skill, score, now, inbound_id])
                .at(self.path)?;
        }
        if !answers.is_empty() {
            self.tx
                .prepare_cached("INSERT OR IGNORE INTO answered_weeks (week, pm) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![week, pm]))
                .at(self.path)?;
        }
        Ok(answers.len())
    }

    /// Stores a note for `pm`'s `week`. Notes add up: a second reply's note
    /// is kept next to the first.
    pub fn record_note(
        &self,
        pm: &str,
        week: Week,
        text: &str,
        inbound_id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO notes (pm, week, text, received_at, inbound_id)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| s.execute(params![pm, week.to_string(), text, ms(now), inbound_id]))
            .at(self.path)?;
        Ok(())
    }
}

// --- reads ------------------------------------------------------------------
//
// The hot statements are constants so a test can check their query plans.

pub(crate) const SUPERSEDE: &str = "UPDATE answers SET superseded_at = ?4
     WHERE pm = ?1 AND week = ?2 AND skill = ?3 AND superseded_at IS NULL";
pub(crate) const INBOUND_SEEN: &str = "SELECT EXISTS (SELECT 1 FROM inbound WHERE dedup_key = ?1)";
pub(crate) const COUNT_INBOUND_FROM: &str =
    "SELECT count(*) FROM inbound WHERE sender_hash = ?1 AND received_at >= ?2";
pub(crate) const COUNT_AUTHORIZED_FROM: &str = "SELECT count(*) FROM inbound
     WHERE pm = ?1 AND kind IN ('assessment', 'command') AND received_at >= ?2";
pub(crate) const COUNT_REFUSED_FROM: &str = "SELECT count(*) FROM inbound
     WHERE sender_hash = ?1 AND kind IN ('rejected', 'ignored') AND received_at >= ?2";
pub(crate) const ANSWERED_WEEKS: &str =
    "SELECT DISTINCT week FROM answers WHERE pm = ?1 AND superseded_at IS NULL";
pub(crate) const FORMS_SENT: &str = "SELECT DISTINCT week FROM forms WHERE pm = ?1";
pub(crate) const HISTORY: &str = "SELECT week, skill, score FROM answers
     WHERE pm = ?1 AND superseded_at IS NULL ORDER BY week, skill";
pub(crate) const HISTORY_BETWEEN: &str = "SELECT week, skill, score FROM answers
     WHERE pm = ?1 AND week BETWEEN ?2 AND ?3 AND superseded_at IS NULL
     ORDER BY week, skill";
/// Current and superseded halves apart, so each uses its partial index.
pub(crate) const ANSWER_HISTORY: &str =
    "SELECT week, skill, score, received_at, superseded_at, inbound_id, id FROM answers
       WHERE pm = ?1 AND week = ?2 AND superseded_at IS NULL
     UNION ALL
     SELECT week, skill, score, received_at, superseded_at, inbound_id, id FROM answers
       WHERE pm = ?1 AND week = ?2 AND superseded_at IS NOT NULL
     ORDER BY received_at, id";
pub(crate) const ALL_ANSWERS: &str =
    "SELECT week, skill, score, received_at, superseded_at, inbound_id, id FROM answers
       WHERE pm = ?1 AND superseded_at IS NULL
     UNION ALL
     SELECT week, skill, score, received_at, superseded_at, inbound_id, id FROM answers
       WHERE pm = ?1 AND superseded_at IS NOT NULL
     ORDER BY week, received_at, id";
pub(crate) const NOTES: &str =
    "SELECT text FROM notes WHERE pm = ?1 AND week = ?2 ORDER BY received_at, id";
pub(crate) const FORM_BY_REPLY_KEY: &str = "SELECT pm, week FROM forms WHERE reply_key = ?1";
pub(crate) const FORM_BY_MESSAGE_ID: &str = "SELECT pm, week FROM forms WHERE message_id = ?1";
pub(crate) const LATEST_FORM_WEEK: &str =
    "SELECT week FROM forms WHERE pm = ?1 ORDER BY week DESC LIMIT 1";
/// Per PM in the roster, one index lookup each: no index on week needed.
pub(crate) const ANSWERED_PMS: &str = "SELECT key FROM pms WHERE EXISTS
     (SELECT 1 FROM answers WHERE pm = pms.key AND week = ?1 AND superseded_at IS NULL)";
pub(crate) const FORMED_PMS: &str =
    "SELECT key FROM pms WHERE EXISTS (SELECT 1 FROM forms WHERE pm = pms.key AND week = ?1)";

pub(crate) fn answered_pms(c: &Connection, week: Week) -> rusqlite::Result<HashSet<String>> {
    let mut s = c.prepare_cached(ANSWERED_PMS)?;
    let rows = s.query_map([week.to_string()], |r| r.get(0))?;
    rows.collect()
}

pub(crate) fn formed_pms(c: &Connection, week: Week) -> rusqlite::Result<HashSet<String>> {
    let mut s = c.prepare_cached(FORMED_PMS)?;
    let rows = s.query_map([week.to_string()], |r| r.get(0))?;
    rows.collect()
}

pub(crate) fn inbound_seen(c: &Connection, dedup_key: &str) -> rusqlite::Result<bool> {
    c.prepare_cached(INBOUND_SEEN)?
        .query_row([dedup_key], |r| r.get(0))
}

pub(crate) fn count_inbound_from(
    c: &Connection,
    sender_hash: &str,
    since: DateTime<Utc>,
) -> rusqlite::Result<u32> {
    c.prepare_cached(COUNT_INBOUND_FROM)?
        .query_row(params![sender_hash, ms(since)], |r| r.get(0))
}

pub(crate) fn count_authorized_from(
    c: &Connection,
    pm: &str,
    since: DateTime<Utc>,
) -> rusqlite::Result<u32> {
    c.prepare_cached(COUNT_AUTHORIZED_FROM)?
        .query_row(params![pm, ms(since)], |r| r.get(0))
}

pub(crate) fn count_refused_naming(
    c: &Connection,
    pm: &str,
    reason: &str,
    since: DateTime<Utc>,
) -> rusqlite::Result<u32> {
    c.prepare_cached(
        "SELECT count(*) FROM inbound
         WHERE pm = ?1 AND kind = 'rejected' AND reason = ?2 AND received_at >= ?3",
    )?
    .query_row(params![pm, reason, ms(since)], |r| r.get(0))
}

pub(crate) fn count_refused_from(
    c: &Connection,
    sender_hash: &str,
    since: DateTime<Utc>,
) -> rusqlite::Result<u32> {
    c.prepare_cached(COUNT_REFUSED_FROM)?
        .query_row(params![sender_hash, ms(since)], |r| r.get(0))
}

/// The per-install secret that keys sender hashes (made by migration 4).
pub(crate) fn install_secret(c: &Connection) -> rusqlite::Result<Vec<u8>> {
    c.prepare_cached("SELECT secret FROM install_secret WHERE id = 1")?
        .query_row([], |r| r.get(0))
}

pub(crate) fn answered_weeks(c: &Connection, pm: &str) -> rusqlite::Result<BTreeSet<Week>> {
    let mut s = c.prepare_cached(ANSWERED_WEEKS)?;
    let rows = s.query_map([pm], |r| week_at(r, 0))?;
    rows.collect()
}

pub(crate) fn forms_sent(c: &Connection, pm: &str) -> rusqlite::Result<BTreeSet<Week>> {
    let mut s = c.prepare_cached(FORMS_SENT)?;
    let rows = s.query_map([pm], |r| week_at(r, 0))?;
    rows.collect()
}

pub(crate) fn history(
    c: &Connection,
    pm: &str,
) -> rusqlite::Result<Vec<(Week, String, Option<u8>)>> {
    let mut s = c.prepare_cached(HISTORY)?;
    let rows = s.query_map([pm], |r| Ok((week_at(r, 0)?, r.get(1)?, score_at(r, 2)?)))?;
    rows.collect()
}

pub(crate) fn history_between(
    c: &Connection,
    pm: &str,
    from: Week,
    to: Week,
) -> rusqlite::Result<Vec<(Week, String, Option<u8>)>> {
    let mut s = c.prepare_cached(HISTORY_BETWEEN)?;
    let rows = s.query_map(params![pm, from.to_string(), to.to_string()], |r| {
        Ok((week_at(r, 0)?, r.get(1)?, score_at(r, 2)?))
    })?;
    rows.collect()
}

fn answer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AnswerRow> {
    Ok(AnswerRow {
        week: week_at(r, 0)?,
        skill: r.get(1)?,
        score: score_at(r, 2)?,
        received_at: time_at(r, 3)?,
        superseded_at: opt_time_at(r, 4)?,
        inbound_id: r.get(5)?,
    })
}

pub(crate) fn answer_history(
    c: &Connection,
    pm: &str,
    week: Week,
) -> rusqlite::Result<Vec<AnswerRow>> {
    let mut s = c.prepare_cached(ANSWER_HISTORY)?;
    let rows = s.query_map(params![pm, week.to_string()], answer_row)?;
    rows.collect()
}

/// Every answer of `pm`, superseded included (export).
pub(crate) fn all_answers(c: &Connection, pm: &str) -> rusqlite::Result<Vec<AnswerRow>> {
    let mut s = c.prepare(ALL_ANSWERS)?;
    let rows = s.query_map([pm], answer_row)?;
    rows.collect()
}

pub(crate) fn notes(c: &Connection, pm: &str, week: Week) -> rusqlite::Result<Vec<String>> {
    let mut s = c.prepare_cached(NOTES)?;
    let rows = s.query_map(params![pm, week.to_string()], |r| r.get(0))?;
    rows.collect()
}

/// A form as exported (no reply key: it is a secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormRow {
    pub week: Week,
    pub sent_at: DateTime<Utc>,
}

pub(crate) fn form_for(c: &Connection, pm: &str, week: Week) -> rusqlite::Result<Option<FormRow>> {
    c.prepare_cached(
        "SELECT week, sent_at FROM forms WHERE pm = ?1 AND week = ?2
         ORDER BY sent_at DESC, id DESC LIMIT 1",
    )?
    .query_row(params![pm, week.to_string()], |r| {
        Ok(FormRow {
            week: week_at(r, 0)?,
            sent_at: time_at(r, 1)?,
        })
    })
    .optional()
}

/// The Message-ID the newest form of `pm` for `week` was sent with.
pub(crate) fn form_message_id(
    c: &Connection,
    pm: &str,
    week: Week,
) -> rusqlite::Result<Option<String>> {
    c.prepare_cached(
        "SELECT message_id FROM forms WHERE pm = ?1 AND week = ?2
         ORDER BY sent_at DESC, id DESC LIMIT 1",
    )?
    .query_row(params![pm, week.to_string()], |r| r.get(0))
    .optional()
}

pub(crate) fn form_by_reply_key(c: &Connection, key: &str) -> rusqlite::Result<Option<FormRef>> {
    c.prepare_cached(FORM_BY_REPLY_KEY)?
        .query_row([key], |r| {
            Ok(FormRef {
                pm: r.get(0)?,
                week: week_at(r, 1)?,
            })
        })
        .optional()
}

pub(crate) fn form_by_message_id(
    c: &Connection,
    message_id: &str,
) -> rusqlite::Result<Option<FormRef>> {
    c.prepare_cached(FORM_BY_MESSAGE_ID)?
        .query_row([message_id], |r| {
            Ok(FormRef {
                pm: r.get(0)?,
                week: week_at(r, 1)?,
            })
        })
        .optional()
}

pub(crate) fn latest_form_week(c: &Connection, pm: &str) -> rusqlite::Result<Option<Week>> {
    c.prepare_cached(LATEST_FORM_WEEK)?
        .query_row([pm], |r| week_at(r, 0))
        .optional()
}
