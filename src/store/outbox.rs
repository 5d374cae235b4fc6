//! The outbox: every email coachmail sends, queued in the transaction that
//! caused it, under an idempotency key (e.g. `form:alice:2026-W48`).
//!
//! Owns "sent at most once per key": a key is inserted once and never
//! reused, and a sent row keeps its key but drops its message bytes and
//! recipient; delivered rows are pruned once no schedule can ask for
//! their key again.
//! Never decides when to retry: the outbound worker passes `next_at`.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, params};

use super::error::At;
use super::{Store, StoreError, Tx, ms, time_at};
use crate::config::MIN_OUTBOX_KEEP_DAYS;

/// A message to queue.
#[derive(Clone, Debug)]
pub struct NewOutbound<'a> {
    /// Idempotency key: one message per key, ever (e.g. `digest:alice:2026-W48`).
    pub key: &'a str,
    /// What it is: `form`, `reminder`, `digest`, `confirm`, `trend`, ...
    pub kind: &'a str,
    /// The PM it is about, if any (so `forget` can find it).
    pub pm: Option<&'a str>,
    /// The envelope recipient, taken from the roster.
    pub recipient: &'a str,
    /// The complete rendered message (RFC 5322 bytes).
    pub bytes: &'a [u8],
}

/// A queued message that is due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbound {
    pub id: i64,
    pub key: String,
    pub kind: String,
    pub pm: Option<String>,
    pub recipient: String,
    pub bytes: Vec<u8>,
    /// Delivery attempts so far.
    pub attempts: u32,
}

/// The outbox at a glance, for `check`, logs and alerts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxStatus {
    /// Messages not yet sent (due or waiting for a retry).
    pub pending: u64,
    /// Of those, how many are due at `now`.
    pub due: u64,
    pub oldest_pending_at: Option<DateTime<Utc>>,
    /// Total dead letters.
    pub dead_total: u64,
    /// The newest dead letters (at most [`DEAD_SHOWN`]): key, error class, when.
    pub dead: Vec<(String, String, DateTime<Utc>)>,
}

pub(crate) const NEXT_DUE: &str =
    "SELECT id, key, kind, pm, recipient, message, attempts FROM outbox
     WHERE status = 'pending' AND next_attempt_at <= ?1
     ORDER BY next_attempt_at, id LIMIT ?2";
pub(crate) const KEYS_SINCE: &str = "SELECT key FROM outbox WHERE created_at >= ?1";
pub(crate) const PRUNE_SENT: &str = "DELETE FROM outbox WHERE created_at < ?1 AND status = 'sent'";
pub(crate) const HAS_KEY: &str = "SELECT EXISTS (SELECT 1 FROM outbox WHERE key = ?1)";

/// How many dead letters [`Store::outbox_status`] lists.
pub const DEAD_SHOWN: usize = 100;

impl Tx<'_> {
    /// Queues a message, due at `now`. Returns `false` (and changes
    /// nothing) when a message with this key was ever queued.
    pub fn enqueue(&self, msg: &NewOutbound<'_>, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let n = self
            .tx
            .prepare_cached(
                "INSERT INTO outbox (key, kind, pm, recipient, message, next_attempt_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (key) DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    msg.key,
                    msg.kind,
                    msg.pm,
                    msg.recipient,
                    msg.bytes,
                    ms(now)
                ])
            })
            .at(self.path)?;
        Ok(n == 1)
    }
}

impl Store {
    /// Pending messages due at `now`, longest-waiting first.
    pub fn next_due_outbound(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Outbound>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut s = self.conn.prepare_cached(NEXT_DUE).at(&self.path)?;
        let rows = s
            .query_map(params![ms(now), limit], |r| {
                Ok(Outbound {
                    id: r.get(0)?,
                    key: r.get(1)?,
                    kind: r.get(2)?,
                    pm: r.get(3)?,
                    recipient: r.get(4)?,
                    bytes: r.get::<_, Option<Vec<u8>>>(5)?.unwrap_or_default(),
                    attempts: r.get(6)?,
                })
            })
            .at(&self.path)?;
        rows.collect::<rusqlite::Result<_>>().at(&self.path)
    }

    /// The message was delivered: it is never sent again, and its bytes and
    /// recipient are dropped (the key stays, so it cannot be queued again,
    /// until [`Store::prune_sent`] deletes the row).
    pub fn mark_sent(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1,
                        message = NULL, recipient = '', last_error_class = NULL
                 WHERE id = ?1",
            )
            .and_then(|mut s| s.execute(params![id, ms(now)]))
            .at(&self.path)?;
        Ok(())
    }

    /// Deletes delivered rows created more than `keep_days` days before
    /// `now` (at least [`MIN_OUTBOX_KEEP_DAYS`]: the schedule reads three
    /// weeks of keys). Pending and dead rows stay. Returns how many went.
    pub fn prune_sent(&self, now: DateTime<Utc>, keep_days: u32) -> Result<usize, StoreError> {
        let keep = Duration::days(i64::from(keep_days.max(MIN_OUTBOX_KEEP_DAYS)));
        let n = self
            .conn
            .prepare_cached(PRUNE_SENT)
            .and_then(|mut s| s.execute([ms(now - keep)]))
            .at(&self.path)?;
        if n > 0 {
            tracing::info!(rows = n, keep_days, "delivered outbox rows pruned");
        }
        Ok(n)
    }

    /// A temporary failure (4xx, connection refused): try again at `next_at`.
    /// `error_class` is a short content-free label such as `smtp-4xx`.
    pub fn mark_retry(
        &self,
        id: i64,
        next_at: DateTime<Utc>,
        error_class: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2,
                        last_error_class = ?3
                 WHERE id = ?1 AND status = 'pending'",
            )
            .and_then(|mut s| s.execute(params![id, ms(next_at), error_class]))
            .at(&self.path)?;
        Ok(())
    }

    /// A permanent failure (5xx): never retried; listed by
    /// [`Store::outbox_status`] until the operator looks.
    pub fn mark_dead(
        &self,
        id: i64,
        error_class: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET status = 'dead', dead_at = ?3, attempts = attempts + 1,
                        last_error_class = ?2
                 WHERE id = ?1 AND status = 'pending'",
            )
            .and_then(|mut s| s.execute(params![id, error_class, ms(now)]))
            .at(&self.path)?;
        Ok(())
    }

    /// Pending and dead messages at `now`.
    pub fn outbox_status(&self, now: DateTime<Utc>) -> Result<OutboxStatus, StoreError> {
        let p = &self.path;
        let (pending, due, oldest): (i64, i64, Option<i64>) = self
            .conn
            .query_row(
                "SELECT count(*), count(*) FILTER (WHERE next_attempt_at <= ?1), min(created_at)
                 FROM outbox WHERE status = 'pending'",
                [ms(now)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .at(p)?;
        let dead_total: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM outbox WHERE status = 'dead'",
                [],
                |r| r.get(0),
            )
            .at(p)?;
        let mut s = self
            .conn
            .prepare_cached(
                "SELECT key, coalesce(last_error_class, ''), dead_at FROM outbox
                 WHERE status = 'dead' ORDER BY dead_at DESC, id DESC LIMIT ?1",
            )
            .at(p)?;
        let dead = s
            .query_map([DEAD_SHOWN as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, time_at(r, 2)?))
            })
            .at(p)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .at(p)?;
        let oldest_pending_at = oldest.and_then(DateTime::from_timestamp_millis);
        Ok(OutboxStatus {
            pending: count(pending),
            due: count(due),
            oldest_pending_at,
            dead_total: count(dead_total),
            dead,
        })
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(crate) fn has_key(c: &Connection, key: &str) -> rusqlite::Result<bool> {
    c.prepare_cached(HAS_KEY)?.query_row([key], |r| r.get(0))
}

pub(crate) fn keys_since(
    c: &Connection,
    since: DateTime<Utc>,
) -> rusqlite::Result<HashSet<String>> {
    let mut s = c.prepare_cached(KEYS_SINCE)?;
    let rows = s.query_map([ms(since)], |r| r.get(0))?;
    rows.collect()
}
