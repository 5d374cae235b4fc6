//! Inbound messages whose handling keeps failing: attempts counted per
//! message, and the quarantine they land in after too many.
//!
//! Owns the `inbound_failures` table. A message is known by the hash of its
//! raw bytes and a content-free reason (`panic`, `store`); its body is kept
//! only when it has no file of its own to stay in (`ingest`, IMAP) and only
//! once it is quarantined. Never decides what counts as a failure: the
//! caller passes only failures of the message itself, never the machine's
//! (a full disk or a busy database fails every message alike).

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, params};

use super::error::At;
use super::{Store, StoreError, ms, opt_time_at, time_at};

/// One failed attempt at a message, as the caller saw it.
#[derive(Clone, Copy, Debug)]
pub struct InboundFailure<'a> {
    /// The hash of the message's raw bytes (`understand::content_hash`).
    pub msg_hash: &'a str,
    /// Where it came from: `maildir`, `ingest` or `imap`.
    pub source: &'a str,
    /// Its Maildir file name, when it has one.
    pub file: Option<&'a str>,
    /// A content-free class: `panic`, `store`, …
    pub reason: &'a str,
    /// The bytes, kept if this attempt quarantines a message without a file.
    pub raw: Option<&'a [u8]>,
}

/// Where a message stands after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureCount {
    /// The quarantine id (`coachmail requeue ID`).
    pub id: i64,
    pub attempts: u32,
    /// The message is (now or already) in quarantine.
    pub quarantined: bool,
}

/// A message in quarantine, as `status` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quarantined {
    pub id: i64,
    pub source: String,
    /// The Maildir file name (in the quarantine folder), if it has one.
    pub file: Option<String>,
    pub reason: String,
    pub attempts: u32,
    pub first_at: DateTime<Utc>,
    pub quarantined_at: DateTime<Utc>,
    /// Whether its bytes are kept in the database (no file of its own).
    pub has_raw: bool,
}

/// A quarantined message with its kept bytes (none when it has a file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuarantinedMessage {
    pub entry: Quarantined,
    pub raw: Option<Vec<u8>>,
}

const QUARANTINED: &str = "SELECT id, source, file, reason, attempts, first_at, quarantined_at,
            raw IS NOT NULL FROM inbound_failures WHERE quarantined_at IS NOT NULL";

fn quarantined_at_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Quarantined> {
    Ok(Quarantined {
        id: r.get(0)?,
        source: r.get(1)?,
        file: r.get(2)?,
        reason: r.get(3)?,
        attempts: r.get(4)?,
        first_at: time_at(r, 5)?,
        quarantined_at: opt_time_at(r, 6)?.unwrap_or_default(),
        has_raw: r.get(7)?,
    })
}

impl Store {
    /// Counts one failed attempt at a message; on the `quarantine_after`-th
    /// it is quarantined (its bytes kept when `failure.raw` is given). A
    /// message already quarantined stays so.
    pub fn record_inbound_failure(
        &mut self,
        failure: &InboundFailure<'_>,
        now: DateTime<Utc>,
        quarantine_after: u32,
    ) -> Result<FailureCount, StoreError> {
        let tx = self.transaction()?;
        let p = tx.path;
        let (id, attempts, quarantined): (i64, u32, bool) = tx
            .tx
            .query_row(
                "INSERT INTO inbound_failures
                    (msg_hash, source, file, attempts, reason, first_at, last_at)
                 VALUES (?1, ?2, ?3, 1, ?4, ?5, ?5)
                 ON CONFLICT (msg_hash) DO UPDATE SET
                    attempts = attempts + 1,
                    reason = excluded.reason,
                    file = COALESCE(excluded.file, file),
                    last_at = excluded.last_at
                 RETURNING id, attempts, quarantined_at IS NOT NULL",
                params![
                    failure.msg_hash,
                    failure.source,
                    failure.file,
                    failure.reason,
                    ms(now)
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .at(p)?;
        let quarantine_now = !quarantined && attempts >= quarantine_after;
        if quarantine_now {
            tx.tx
                .execute(
                    "UPDATE inbound_failures SET quarantined_at = ?2, raw = ?3 WHERE id = ?1",
                    params![id, ms(now), failure.raw],
                )
                .at(p)?;
        }
        tx.commit()?;
        Ok(FailureCount {
            id,
            attempts,
            quarantined: quarantined || quarantine_now,
        })
    }

    /// Every quarantined message, oldest first.
    pub fn quarantined(&self) -> Result<Vec<Quarantined>, StoreError> {
        let mut s = self
            .conn
            .prepare_cached(&format!("{QUARANTINED} ORDER BY quarantined_at, id"))
            .at(&self.path)?;
        let rows = s.query_map([], quarantined_at_row).at(&self.path)?;
        rows.collect::<rusqlite::Result<_>>().at(&self.path)
    }

    /// One quarantined message and its kept bytes (if any).
    pub fn quarantined_message(&self, id: i64) -> Result<Option<QuarantinedMessage>, StoreError> {
        let q = self
            .conn
            .query_row(
                &format!("{QUARANTINED} AND id = ?1"),
                [id],
                quarantined_at_row,
            )
            .optional()
            .at(&self.path)?;
        let Some(q) = q else { return Ok(None) };
        let raw = self
            .conn
            .query_row(
                "SELECT raw FROM inbound_failures WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .at(&self.path)?;
        Ok(Some(QuarantinedMessage { entry: q, raw }))
    }

    /// Forgets a message's failures (it was put back with `requeue`): its
    /// next failure starts counting from one.
    pub fn release_quarantined(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM inbound_failures WHERE id = ?1", [id])
            .at(&self.path)?;
        Ok(())
    }

    /// Retention: failure counts not touched for `retention_days` are
    /// dropped, and the bytes of messages quarantined that long ago.
    pub fn purge_failures(
        &mut self,
        now: DateTime<Utc>,
        retention_days: u32,
    ) -> Result<(), StoreError> {
        let cutoff = ms(now - Duration::days(i64::from(retention_days)));
        self.write(|tx| {
            tx.tx
                .execute(
                    "DELETE FROM inbound_failures
                     WHERE quarantined_at IS NULL AND last_at < ?1",
                    [cutoff],
                )
                .at(tx.path)?;
            tx.tx
                .execute(
                    "UPDATE inbound_failures SET raw = NULL
                     WHERE quarantined_at < ?1 AND raw IS NOT NULL",
                    [cutoff],
                )
                .at(tx.path)?;
            Ok::<_, StoreError>(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure<'a>(hash: &'a str, raw: Option<&'a [u8]>) -> InboundFailure<'a> {
        InboundFailure {
            msg_hash: hash,
            source: "ingest",
            file: None,
            reason: "panic",
            raw,
        }
    }

    #[test]
    fn a_message_is_quarantined_on_its_third_failure_with_its_bytes() {
        let mut s = Store::open_in_memory().unwrap();
        let now = DateTime::from_timestamp(1_796_000_000, 0).unwrap();
        let raw = b"Subject: x\r\n\r\nbody".as_slice();
        let first = s
            .record_inbound_failure(&failure("h1", Some(raw)), now, 3)
            .unwrap();
        assert_eq!((first.attempts, first.quarantined), (1, false));
        s.record_inbound_failure(&failure("h2", None), now, 3)
            .unwrap();
        s.record_inbound_failure(&failure("h1", Some(raw)), now, 3)
            .unwrap();
        assert!(s.quarantined().unwrap().is_empty());
        let third = s
            .record_inbound_failure(&failure("h1", Some(raw)), now, 3)
            .unwrap();
        assert_eq!((third.attempts, third.quarantined), (3, true));
        let listed = s.quarantined().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].id, listed[0].reason.as_str()),
            (first.id, "panic")
        );
        let kept = s.quarantined_message(first.id).unwrap().unwrap();
        assert_eq!(kept.raw.as_deref(), Some(raw));
        s.release_quarantined(first.id).unwrap();
        assert!(s.quarantined().unwrap().is_empty());
        let again = s
            .record_inbound_failure(&failure("h1", None), now, 3)
            .unwrap();
        assert_eq!((again.attempts, again.quarantined), (1, false));
    }
}
