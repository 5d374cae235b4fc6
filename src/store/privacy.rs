//! What a PM controls: pauses, skips, events (commands, content-free),
//! forget tokens, forgetting, retention and export.
//!
//! Owns "forget means every row about the PM": answers, notes, inbound log,
//! raw messages, outbox, forms, pauses, skips, tokens, events and pairing
//! history go, and the coach's side about the PM (actions, private notes,
//! 1:1 changes, digest keys), leaving one content-free `forgotten` event.
//! Never keeps a raw message past retention; a digest's reply key goes
//! retention after it closed.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::error::At;
use super::replies::{AnswerRow, FormRow, all_answers};
use super::roster::open_pairing;
use super::{Store, StoreError, Tx, ms, opt_time_at, opt_week_at, time_at, week_at};
use crate::schedule::Pause;
use crate::week::Week;

/// What a PM did, recorded without content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    Pause,
    Resume,
    Skip,
    Trend,
    Help,
    Export,
    ForgetRequested,
    Forgotten,
    ShareHistory,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Pause => "pause",
            EventKind::Resume => "resume",
            EventKind::Skip => "skip",
            EventKind::Trend => "trend",
            EventKind::Help => "help",
            EventKind::Export => "export",
            EventKind::ForgetRequested => "forget_requested",
            EventKind::Forgotten => "forgotten",
            EventKind::ShareHistory => "share_history",
        }
    }

    fn parse(s: &str) -> Option<EventKind> {
        [
            EventKind::Pause,
            EventKind::Resume,
            EventKind::Skip,
            EventKind::Trend,
            EventKind::Help,
            EventKind::Export,
            EventKind::ForgetRequested,
            EventKind::Forgotten,
            EventKind::ShareHistory,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// An event to record.
#[derive(Clone, Debug)]
pub struct Event<'a> {
    pub pm: &'a str,
    pub kind: EventKind,
    /// The week it concerns (`skip`).
    pub week: Option<Week>,
    /// The end it sets (`pause`).
    pub until: Option<DateTime<Utc>>,
}

/// An event as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    pub kind: EventKind,
    pub week: Option<Week>,
    pub until: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

/// A note as exported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteRow {
    pub week: Week,
    pub text: String,
    pub received_at: DateTime<Utc>,
}

/// Everything stored about one PM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    pub since: Option<DateTime<Utc>>,
    /// Every answer, superseded ones included, by week then time.
    pub answers: Vec<AnswerRow>,
    pub notes: Vec<NoteRow>,
    pub forms: Vec<FormRow>,
    pub events: Vec<EventRow>,
}

/// Every row about a PM, table by table (the roster row is handled apart).
pub(crate) const FORGET: &[&str] = &[
    // Each half of answers through its own partial index.
    "DELETE FROM answers WHERE pm = ?1 AND superseded_at IS NULL",
    "DELETE FROM answers WHERE pm = ?1 AND superseded_at IS NOT NULL",
    "DELETE FROM answered_weeks WHERE pm = ?1",
    "DELETE FROM notes WHERE pm = ?1",
    "DELETE FROM raw_inbound WHERE inbound_id IN (SELECT id FROM inbound WHERE pm = ?1)",
    "DELETE FROM inbound WHERE pm = ?1",
    "DELETE FROM outbox WHERE pm = ?1",
    "DELETE FROM forms WHERE pm = ?1",
    "DELETE FROM events WHERE pm = ?1",
    "DELETE FROM pauses WHERE pm = ?1",
    "DELETE FROM skips WHERE pm = ?1",
    "DELETE FROM forget_tokens WHERE pm = ?1",
    "DELETE FROM pairings WHERE pm = ?1",
    "DELETE FROM history_shares WHERE pm = ?1",
    // The coach's side: what a coach recorded about the PM goes with them.
    "DELETE FROM actions WHERE pm = ?1",
    "DELETE FROM action_answers WHERE pm = ?1",
    "DELETE FROM coach_notes WHERE pm = ?1",
    "DELETE FROM schedule_changes WHERE pm = ?1",
    "DELETE FROM digest_keys WHERE pm = ?1",
];

impl Tx<'_> {
    /// `pm` shows their earlier weeks to `coach` (their current one).
    pub fn share_history(
        &self,
        pm: &str,
        coach: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO history_shares (pm, coach, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                params![pm, coach, ms(now)],
            )
            .at(self.path)?;
        Ok(())
    }

    /// Records what a PM did (kind and dates, no content).
    pub fn record_event(&self, event: &Event<'_>, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO events (pm, kind, week, until, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    event.pm,
                    event.kind.as_str(),
                    event.week.map(|w| w.to_string()),
                    event.until.map(ms),
                    ms(now)
                ])
            })
            .at(self.path)?;
        Ok(())
    }

    /// Pauses `pm` from `now` until `until`; a pause already in force ends now.
    pub fn pause(
        &self,
        pm: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.resume(pm, now)?;
        self.tx
            .execute(
                "INSERT INTO pauses (pm, starts_at, until) VALUES (?1, ?2, ?3)",
                params![pm, ms(now), ms(until)],
            )
            .at(self.path)?;
        Ok(())
    }

    /// Ends `pm`'s pause now. Returns whether one was in force.
    pub fn resume(&self, pm: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let n = self
            .tx
            .execute(
                "UPDATE pauses SET resumed_at = ?2
                 WHERE pm = ?1 AND resumed_at IS NULL AND starts_at <= ?2 AND until > ?2",
                params![pm, ms(now)],
            )
            .at(self.path)?;
        Ok(n > 0)
    }

    /// `pm` skips `week` on purpose. Returns `false` if already skipped.
    pub fn skip_week(&self, pm: &str, week: Week, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let n = self
            .tx
            .execute(
                "INSERT INTO skips (pm, week, at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![pm, week.to_string(), ms(now)],
            )
            .at(self.path)?;
        Ok(n == 1)
    }

    /// Stores a one-time token that confirms `pm`'s `forget` until `expires_at`.
    pub fn create_forget_token(
        &self,
        pm: &str,
        token: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO forget_tokens (token, pm, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![token, pm, ms(now), ms(expires_at)],
            )
            .at(self.path)?;
        Ok(())
    }

    /// Uses up `token`: `true` only if it was issued to `pm` and has not
    /// expired at `now`. A used or expired token never works again.
    pub fn redeem_forget_token(
        &self,
        pm: &str,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let found: Option<(String, i64)> = self
            .tx
            .query_row(
                "SELECT pm, expires_at FROM forget_tokens WHERE token = ?1",
                [token],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .at(self.path)?;
        let Some((owner, expires_at)) = found else {
            return Ok(false);
        };
        if owner != pm {
            // Another PM's token: leave it alone, it is theirs.
            return Ok(false);
        }
        self.tx
            .execute("DELETE FROM forget_tokens WHERE token = ?1", [token])
            .at(self.path)?;
        Ok(ms(now) < expires_at)
    }

    /// Deletes every row about `pm` and records a content-free `forgotten`
    /// event. A PM still in the roster starts afresh (`since` = `now`, one
    /// open pairing); one who left is removed from the roster too.
    pub fn forget_pm(&self, pm: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let c: &Connection = &self.tx;
        let p = self.path;
        for sql in FORGET {
            c.execute(sql, [pm]).at(p)?;
        }
        let roster: Option<(String, Option<i64>)> = c
            .query_row("SELECT coach, left_at FROM pms WHERE key = ?1", [pm], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .at(p)?;
        match roster {
            Some((coach, None)) => {
                c.execute(
                    "UPDATE pms SET since = ?2 WHERE key = ?1",
                    params![pm, ms(now)],
                )
                .at(p)?;
                open_pairing(c, pm, &coach, ms(now)).at(p)?;
            }
            Some((_, Some(_))) => {
                c.execute("DELETE FROM pms WHERE key = ?1", [pm]).at(p)?;
            }
            None => {}
        }
        self.record_event(
            &Event {
                pm,
                kind: EventKind::Forgotten,
                week: None,
                until: None,
            },
            now,
        )?;
        tracing::info!(pm, "all data of a PM forgotten");
        Ok(())
    }
}

impl Tx<'_> {
    /// The dedup keys of `pm`'s inbound messages and the ids of their outbox
    /// rows: what files outside the database may still hold (read before a
    /// forget, so the edges can erase them after).
    pub fn traces_of(&self, pm: &str) -> Result<(Vec<String>, Vec<i64>), StoreError> {
        let c: &Connection = &self.tx;
        let inbound = c
            .prepare("SELECT dedup_key FROM inbound WHERE pm = ?1")
            .and_then(|mut s| {
                s.query_map([pm], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .at(self.path)?;
        let outbox = c
            .prepare("SELECT id FROM outbox WHERE pm = ?1")
            .and_then(|mut s| {
                s.query_map([pm], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<i64>>>()
            })
            .at(self.path)?;
        Ok((inbound, outbox))
    }

    /// Whether `pm`'s newest event is `forgotten` (this transaction forgot them).
    pub fn pm_forgotten(&self, pm: &str) -> Result<bool, StoreError> {
        let kind: Option<String> = self
            .tx
            .query_row(
                "SELECT kind FROM events WHERE pm = ?1 ORDER BY at DESC, id DESC LIMIT 1",
                [pm],
                |r| r.get(0),
            )
            .optional()
            .at(self.path)?;
        Ok(kind.as_deref() == Some("forgotten"))
    }
}

impl Store {
    /// Moves everything in the WAL into the database file and truncates the
    /// WAL to nothing: after a forget, deleted words must not linger there.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .at(&self.path)
    }

    /// Whether a `forgotten` notice still waits to be delivered.
    pub fn forgotten_notice_pending(&self) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE kind = 'forgotten' AND status = 'pending')",
                [],
                |r| r.get(0),
            )
            .at(&self.path)
    }

    /// The outbox rows of delivered `forgotten` notices (kept until pruned),
    /// so the transport's copies of them can be removed.
    pub fn delivered_forgotten_notices(&self) -> Result<Vec<i64>, StoreError> {
        self.conn
            .prepare("SELECT id FROM outbox WHERE kind = 'forgotten' AND status = 'sent'")
            .and_then(|mut s| {
                s.query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<i64>>>()
            })
            .at(&self.path)
    }

    /// Blanks the recipient of delivered `forgotten` notices: the last trace
    /// of a forgotten PM's address in the database.
    pub fn clear_forgotten_recipients(&mut self) -> Result<usize, StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET recipient = '' WHERE kind = 'forgotten' AND status = 'sent' AND recipient <> ''",
                [],
            )
            .at(&self.path)
    }

    /// What retention removes outside the database, read before
    /// [`Store::purge_raw`]: the dedup keys of inbound messages whose raw
    /// copy expires now (their processed Maildir copies go too), and the ids
    /// of outbox rows sent in the week before the cutoff (their transport
    /// copies go). Inbound-log rows older than retention are deleted here.
    pub fn retention_sweep(
        &mut self,
        now: DateTime<Utc>,
        retention_days: u32,
    ) -> Result<(Vec<String>, Vec<i64>), StoreError> {
        let cutoff = now - Duration::days(i64::from(retention_days));
        let tx = self.transaction()?;
        let c: &Connection = &tx.tx;
        let p = tx.path;
        let inbound = c
            .prepare(
                "SELECT i.dedup_key FROM raw_inbound r JOIN inbound i ON i.id = r.inbound_id
                 WHERE r.received_at < ?1",
            )
            .and_then(|mut s| {
                s.query_map([ms(cutoff)], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .at(p)?;
        let outbox = c
            .prepare(
                "SELECT id FROM outbox WHERE created_at >= ?1 AND created_at < ?2
                   AND status <> 'pending'",
            )
            .and_then(|mut s| {
                s.query_map(params![ms(cutoff - Duration::days(7)), ms(cutoff)], |r| {
                    r.get(0)
                })?
                .collect::<rusqlite::Result<Vec<i64>>>()
            })
            .at(p)?;
        c.execute(
            "DELETE FROM raw_inbound WHERE received_at < ?1",
            [ms(cutoff)],
        )
        .at(p)?;
        c.execute("DELETE FROM inbound WHERE received_at < ?1", [ms(cutoff)])
            .at(p)?;
        tx.commit()?;
        Ok((inbound, outbox))
    }

    /// [`Tx::forget_pm`] in its own transaction.
    pub fn forget_pm(&mut self, pm: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let tx = self.transaction()?;
        tx.forget_pm(pm, now)?;
        tx.commit()
    }

    /// Deletes raw inbound messages older than `retention_days`, the bytes
    /// of dead outbox messages older than that, expired forget tokens, and
    /// answered weeks the schedule no longer looks at.
    /// Returns how many raw messages were deleted.
    pub fn purge_raw(
        &mut self,
        now: DateTime<Utc>,
        retention_days: u32,
    ) -> Result<usize, StoreError> {
        let cutoff = ms(now - Duration::days(i64::from(retention_days)));
        let tx = self.transaction()?;
        let p = tx.path;
        let raw = tx
            .tx
            .execute("DELETE FROM raw_inbound WHERE received_at < ?1", [cutoff])
            .at(p)?;
        tx.tx
            .execute(
                "UPDATE outbox SET message = NULL
                 WHERE status = 'dead' AND dead_at < ?1 AND message IS NOT NULL",
                [cutoff],
            )
            .at(p)?;
        tx.tx
            .execute("DELETE FROM forget_tokens WHERE expires_at < ?1", [ms(now)])
            .at(p)?;
        let oldest = super::facts::oldest_fact_week(now).to_string();
        tx.tx
            .execute("DELETE FROM answered_weeks WHERE week < ?1", [oldest])
            .at(p)?;
        // Digest reply keys closed longer than retention ago.
        tx.tx
            .execute("DELETE FROM digest_keys WHERE expires_at < ?1", [cutoff])
            .at(p)?;
        tx.commit()?;
        if raw > 0 {
            tracing::info!(raw, retention_days, "raw inbound messages purged");
        }
        Ok(raw)
    }
}

// --- reads ------------------------------------------------------------------

fn pause_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Pause> {
    Ok(Pause {
        starts_at: time_at(r, 0)?,
        until: time_at(r, 1)?,
        resumed_at: opt_time_at(r, 2)?,
    })
}

pub(crate) fn pauses(c: &Connection, pm: &str) -> rusqlite::Result<Vec<Pause>> {
    let mut s = c.prepare_cached(
        "SELECT starts_at, until, resumed_at FROM pauses WHERE pm = ?1 ORDER BY starts_at, id",
    )?;
    let rows = s.query_map([pm], pause_row)?;
    rows.collect()
}

pub(crate) fn active_pause(
    c: &Connection,
    pm: &str,
    at: DateTime<Utc>,
) -> rusqlite::Result<Option<Pause>> {
    c.prepare_cached(
        "SELECT starts_at, until, resumed_at FROM pauses
         WHERE pm = ?1 AND starts_at <= ?2 AND until > ?2
           AND (resumed_at IS NULL OR resumed_at > ?2)
         ORDER BY starts_at DESC, id DESC LIMIT 1",
    )?
    .query_row(params![pm, ms(at)], pause_row)
    .optional()
}

pub(crate) fn paused_pms(c: &Connection, at: DateTime<Utc>) -> rusqlite::Result<HashSet<String>> {
    let mut s = c.prepare_cached(
        "SELECT DISTINCT pm FROM pauses
         WHERE starts_at <= ?1 AND until > ?1 AND (resumed_at IS NULL OR resumed_at > ?1)",
    )?;
    let rows = s.query_map([ms(at)], |r| r.get(0))?;
    rows.collect()
}

pub(crate) fn skipped_weeks(c: &Connection, pm: &str) -> rusqlite::Result<BTreeSet<Week>> {
    let mut s = c.prepare_cached("SELECT week FROM skips WHERE pm = ?1")?;
    let rows = s.query_map([pm], |r| week_at(r, 0))?;
    rows.collect()
}

pub(crate) fn events(c: &Connection, pm: &str) -> rusqlite::Result<Vec<EventRow>> {
    let mut s =
        c.prepare_cached("SELECT kind, week, until, at FROM events WHERE pm = ?1 ORDER BY at, id")?;
    let rows = s.query_map([pm], |r| {
        let kind: String = r.get(0)?;
        let kind = EventKind::parse(&kind).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                format!("unknown event kind `{kind}`").into(),
            )
        })?;
        Ok(EventRow {
            kind,
            week: opt_week_at(r, 1)?,
            until: opt_time_at(r, 2)?,
            at: time_at(r, 3)?,
        })
    })?;
    rows.collect()
}

/// Whether `pm` shared their earlier weeks with `coach`.
pub(crate) fn history_shared(c: &Connection, pm: &str, coach: &str) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT EXISTS (SELECT 1 FROM history_shares WHERE pm = ?1 AND coach = ?2)")?
        .query_row(params![pm, coach], |r| r.get(0))
}

pub(crate) fn export_rows(c: &Connection, pm: &str) -> rusqlite::Result<Export> {
    let since = super::roster::pm_since(c, pm)?;
    let answers = all_answers(c, pm)?;
    let mut s = c.prepare(
        "SELECT week, text, received_at FROM notes WHERE pm = ?1 ORDER BY week, received_at, id",
    )?;
    let notes = s
        .query_map([pm], |r| {
            Ok(NoteRow {
                week: week_at(r, 0)?,
                text: r.get(1)?,
                received_at: time_at(r, 2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut s =
        c.prepare("SELECT week, sent_at FROM forms WHERE pm = ?1 ORDER BY week, sent_at, id")?;
    let forms = s
        .query_map([pm], |r| {
            Ok(FormRow {
                week: week_at(r, 0)?,
                sent_at: time_at(r, 1)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Export {
        since,
        answers,
        notes,
        forms,
        events: events(c, pm)?,
    })
}
