//! What the schedule needs to know, read in bulk: a handful of queries for
//! the whole roster, restricted to the recent weeks that can still matter.
//!
//! Owns turning rows into [`schedule::Facts`]. Never decides what is due.

use std::collections::HashSet;

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use rusqlite::params;

use super::error::At;
use super::{Store, StoreError, Tx, ms, opt_time_at, time_at, week_at};
use crate::config::Config;
use crate::schedule::{self, Facts, Pause, PmFacts};
use crate::week::Week;

/// How far back facts reach: forms, answers and outbox keys older than
/// this can no longer make anything due (the schedule looks at most at the
/// newest occurrence of each event, and a digest at the week before it).
pub const FACTS_WINDOW: Duration = Duration::weeks(3);

/// The oldest week the schedule's facts reach back to at `now`.
pub(crate) fn oldest_fact_week(now: DateTime<Utc>) -> Week {
    Week::of((now - FACTS_WINDOW).date_naive()).prev()
}

// The per-tick reads, constants so a test can check their query plans:
// each reads only the recent weeks through an index, none sorts for a
// DISTINCT, and none reads every row of its table.
pub(crate) const FACTS_FORMS: &str = "SELECT DISTINCT pm, week FROM forms WHERE week >= ?1";
pub(crate) const FACTS_ANSWERED: &str = "SELECT pm, week FROM answered_weeks WHERE week >= ?1";
pub(crate) const FACTS_SKIPS: &str = "SELECT pm, week FROM skips WHERE week >= ?1";
/// The coach's 1:1 changes of the current pairings, in the order received:
/// one row per change a coach wrote (a handful per pairing a year), found
/// from each current pairing through `schedule_changes_by_pairing`.
pub(crate) const FACTS_MEETINGS: &str = "SELECT c.pm, c.change, c.received_at
     FROM pairings p JOIN schedule_changes c ON c.pairing = p.id
     WHERE p.until IS NULL ORDER BY c.received_at, c.id";
/// The expression matches the index `pauses_by_end`.
pub(crate) const FACTS_PAUSES: &str = "SELECT pm, starts_at, until, resumed_at FROM pauses
     WHERE COALESCE(resumed_at, until) >= ?1";

impl Store {
    /// The schedule's facts for every PM still on the roster, as of `now`,
    /// with the 1:1 changes their coaches wrote applied to the PMs of
    /// `config`.
    pub fn schedule_facts(&self, config: &Config, now: DateTime<Utc>) -> Result<Facts, StoreError> {
        let p = self.path();
        let since = now - FACTS_WINDOW;
        let oldest_week = oldest_fact_week(now).to_string();
        let mut facts = Facts::default();

        let mut s = self
            .conn
            .prepare_cached("SELECT key, since FROM pms WHERE left_at IS NULL")
            .at(p)?;
        let rows = s
            .query_map([], |r| Ok((r.get::<_, String>(0)?, time_at(r, 1)?)))
            .at(p)?;
        for row in rows {
            let (pm, since) = row.at(p)?;
            facts.pms.insert(pm, PmFacts::new(since));
        }

        let mut weeks = |sql: &str, put: fn(&mut PmFacts, Week)| -> Result<(), StoreError> {
            let mut s = self.conn.prepare_cached(sql).at(p)?;
            let rows = s
                .query_map(params![oldest_week], |r| {
                    Ok((r.get::<_, String>(0)?, week_at(r, 1)?))
                })
                .at(p)?;
            for row in rows {
                let (pm, week) = row.at(p)?;
                if let Some(f) = facts.pms.get_mut(&pm) {
                    put(f, week);
                }
            }
            Ok(())
        };
        weeks(FACTS_FORMS, |f, w| {
            f.forms_sent.insert(w);
        })?;
        weeks(FACTS_ANSWERED, |f, w| {
            f.answered.insert(w);
        })?;
        weeks(FACTS_SKIPS, |f, w| {
            f.skipped.insert(w);
        })?;

        let mut s = self.conn.prepare_cached(FACTS_PAUSES).at(p)?;
        let rows = s
            .query_map(params![ms(since)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    time_at(r, 1)?,
                    time_at(r, 2)?,
                    opt_time_at(r, 3)?,
                ))
            })
            .at(p)?;
        for row in rows {
            let (pm, from, until, resumed) = row.at(p)?;
            if let Some(f) = facts.pms.get_mut(&pm) {
                f.paused.push(Pause {
                    starts_at: from,
                    until,
                    resumed_at: resumed,
                });
            }
        }

        let mut s = self.conn.prepare_cached(super::outbox::KEYS_SINCE).at(p)?;
        let keys: HashSet<String> = s
            .query_map(params![ms(since)], |r| r.get(0))
            .at(p)?
            .collect::<Result<_, _>>()
            .at(p)?;
        facts.done = keys;

        let mut s = self.conn.prepare_cached(FACTS_MEETINGS).at(p)?;
        let rows = s
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    time_at(r, 2)?,
                ))
            })
            .at(p)?;
        for row in rows {
            let (pm_key, change, at) = row.at(p)?;
            let Some(change) = super::coach::read_change(&change) else {
                continue;
            };
            if let (Some(f), Some(pm)) = (facts.pms.get_mut(&pm_key), config.pm(&pm_key)) {
                schedule::apply_coach_change(pm, f, &change, at);
            }
        }
        Ok(facts)
    }
}

fn reply_key(
    conn: &rusqlite::Connection,
    pm: &str,
    week: Week,
) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    conn.prepare_cached(
        "SELECT reply_key FROM forms WHERE pm = ?1 AND week = ?2 ORDER BY sent_at DESC LIMIT 1",
    )?
    .query_row(params![pm, week.to_string()], |r| r.get(0))
    .optional()
}

impl Store {
    /// The secret reply key of the newest form sent to `pm` for `week`: a
    /// reminder and a confirmation carry the same key, so a reply to them
    /// lands on that week.
    pub fn reply_key_for(&self, pm: &str, week: Week) -> Result<Option<String>, StoreError> {
        reply_key(&self.conn, pm, week).at(self.path())
    }
}

impl Tx<'_> {
    /// [`Store::reply_key_for`], inside a transaction.
    pub fn reply_key_for(&self, pm: &str, week: Week) -> Result<Option<String>, StoreError> {
        reply_key(&self.tx, pm, week).at(self.path)
    }
}

impl Store {
    /// Opens an existing database read-only, for commands that must write
    /// nothing (`coachmail parse`). Its schema must be this binary's.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let conn = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            key: None,
            batch: None,
        })
    }
}
