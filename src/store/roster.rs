//! Coaches, PMs and who coaches whom, synced from config with history.
//!
//! Owns the roster's memory: someone removed from config is kept with
//! `left_at` (their answers stay theirs), and every re-pairing closes one
//! pairing and opens the next. Stores keys only: names and addresses live
//! in config, not in the database.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::error::At;
use super::{Store, StoreError, ms, opt_time_at, time_at};
use crate::config::{Coach, Config, Pm};

/// One coaching relationship over time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pairing {
    pub coach: String,
    pub since: DateTime<Utc>,
    /// `None`: still paired.
    pub until: Option<DateTime<Utc>>,
}

/// What a roster sync changed (keys only), for the log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RosterChanges {
    /// PMs and coaches new or back in the roster.
    pub joined: Vec<String>,
    /// PMs and coaches no longer in the roster (kept, with `left_at`).
    pub left: Vec<String>,
    /// PMs now paired with another coach.
    pub repaired: Vec<String>,
}

impl RosterChanges {
    pub fn is_empty(&self) -> bool {
        self.joined.is_empty() && self.left.is_empty() && self.repaired.is_empty()
    }
}

impl Store {
    /// Makes the database's roster match `config`, in one transaction.
    pub fn sync_roster(
        &mut self,
        config: &Config,
        now: DateTime<Utc>,
    ) -> Result<RosterChanges, StoreError> {
        self.sync_people(&config.coaches, &config.pms, now)
    }

    /// [`Store::sync_roster`] from the people alone.
    pub fn sync_people(
        &mut self,
        coaches: &[Coach],
        pms: &[Pm],
        now: DateTime<Utc>,
    ) -> Result<RosterChanges, StoreError> {
        let tx = self.transaction()?;
        let c: &Connection = &tx.tx;
        let p = tx.path;
        let now = ms(now);
        let mut changes = RosterChanges::default();

        // Coaches first: PMs and pairings refer to them.
        let current: HashSet<&str> = coaches.iter().map(|c| c.key.as_str()).collect();
        for coach in coaches {
            let state: Option<Option<i64>> = c
                .query_row(
                    "SELECT left_at FROM coaches WHERE key = ?1",
                    [&coach.key],
                    |r| r.get(0),
                )
                .optional()
                .at(p)?;
            match state {
                None => {
                    c.execute(
                        "INSERT INTO coaches (key, since) VALUES (?1, ?2)",
                        params![coach.key, now],
                    )
                    .at(p)?;
                    changes.joined.push(coach.key.clone());
                }
                Some(Some(_)) => {
                    c.execute(
                        "UPDATE coaches SET left_at = NULL WHERE key = ?1",
                        [&coach.key],
                    )
                    .at(p)?;
                    changes.joined.push(coach.key.clone());
                }
                Some(None) => {}
            }
        }
        for key in active_keys(c, "coaches").at(p)? {
            if !current.contains(key.as_str()) {
                c.execute(
                    "UPDATE coaches SET left_at = ?2 WHERE key = ?1",
                    params![key, now],
                )
                .at(p)?;
                changes.left.push(key);
            }
        }

        let current: HashSet<&str> = pms.iter().map(|p| p.key.as_str()).collect();
        for pm in pms {
            let state: Option<(String, Option<i64>)> = c
                .query_row(
                    "SELECT coach, left_at FROM pms WHERE key = ?1",
                    [&pm.key],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .at(p)?;
            match state {
                None => {
                    c.execute(
                        "INSERT INTO pms (key, coach, since) VALUES (?1, ?2, ?3)",
                        params![pm.key, pm.coach, now],
                    )
                    .at(p)?;
                    open_pairing(c, &pm.key, &pm.coach, now).at(p)?;
                    changes.joined.push(pm.key.clone());
                }
                Some((coach, left_at)) => {
                    if left_at.is_some() {
                        c.execute(
                            "UPDATE pms SET left_at = NULL, coach = ?2 WHERE key = ?1",
                            params![pm.key, pm.coach],
                        )
                        .at(p)?;
                        close_pairing(c, &pm.key, now).at(p)?;
                        open_pairing(c, &pm.key, &pm.coach, now).at(p)?;
                        changes.joined.push(pm.key.clone());
                    } else if coach != pm.coach {
                        c.execute(
                            "UPDATE pms SET coach = ?2 WHERE key = ?1",
                            params![pm.key, pm.coach],
                        )
                        .at(p)?;
                        close_pairing(c, &pm.key, now).at(p)?;
                        open_pairing(c, &pm.key, &pm.coach, now).at(p)?;
                        changes.repaired.push(pm.key.clone());
                    }
                }
            }
        }
        for key in active_keys(c, "pms").at(p)? {
            if !current.contains(key.as_str()) {
                c.execute(
                    "UPDATE pms SET left_at = ?2 WHERE key = ?1",
                    params![key, now],
                )
                .at(p)?;
                close_pairing(c, &key, now).at(p)?;
                changes.left.push(key);
            }
        }
        tx.commit()?;
        if !changes.is_empty() {
            tracing::info!(
                joined = ?changes.joined,
                left = ?changes.left,
                repaired = ?changes.repaired,
                "roster synced"
            );
        }
        Ok(changes)
    }
}

fn active_keys(c: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut s = c.prepare(&format!("SELECT key FROM {table} WHERE left_at IS NULL"))?;
    let rows = s.query_map([], |r| r.get(0))?;
    rows.collect()
}

pub(crate) fn open_pairing(
    c: &Connection,
    pm: &str,
    coach: &str,
    now: i64,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO pairings (pm, coach, since) VALUES (?1, ?2, ?3)",
        params![pm, coach, now],
    )?;
    Ok(())
}

fn close_pairing(c: &Connection, pm: &str, now: i64) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE pairings SET until = ?2 WHERE pm = ?1 AND until IS NULL",
        params![pm, now],
    )?;
    Ok(())
}

pub(crate) fn pm_since(c: &Connection, pm: &str) -> rusqlite::Result<Option<DateTime<Utc>>> {
    c.prepare_cached("SELECT since FROM pms WHERE key = ?1")?
        .query_row([pm], |r| time_at(r, 0))
        .optional()
}

pub(crate) fn pairings(c: &Connection, pm: &str) -> rusqlite::Result<Vec<Pairing>> {
    let mut s = c.prepare_cached(
        "SELECT coach, since, until FROM pairings WHERE pm = ?1 ORDER BY since, id",
    )?;
    let rows = s.query_map([pm], |r| {
        Ok(Pairing {
            coach: r.get(0)?,
            since: time_at(r, 1)?,
            until: opt_time_at(r, 2)?,
        })
    })?;
    rows.collect()
}
