//! Where the IMAP reader got to in each mailbox: the folder's UIDVALIDITY
//! and the highest UID whose effects are committed.
//!
//! Owns the `imap_state` table. A new UIDVALIDITY replaces the position (the
//! old UIDs mean nothing any more); the same one only moves it forward.
//! Never holds message content: a mailbox name, two numbers and a time.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::error::At;
use super::{Store, StoreError, ms};

/// A folder's UIDVALIDITY and the highest UID already applied in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImapPosition {
    pub uid_validity: u32,
    pub last_uid: u32,
}

impl Store {
    /// The position recorded for `mailbox` (e.g. `user@host:993/INBOX`).
    pub fn imap_position(&self, mailbox: &str) -> Result<Option<ImapPosition>, StoreError> {
        self.conn
            .prepare_cached("SELECT uid_validity, last_uid FROM imap_state WHERE mailbox = ?1")
            .and_then(|mut s| {
                s.query_row([mailbox], |r| {
                    Ok(ImapPosition {
                        uid_validity: r.get(0)?,
                        last_uid: r.get(1)?,
                    })
                })
                .optional()
            })
            .at(&self.path)
    }

    /// Records that `uid` in a folder with `uid_validity` is applied. Moves
    /// the position forward only, unless UIDVALIDITY changed: then it is
    /// replaced.
    pub fn record_imap_uid(
        &self,
        mailbox: &str,
        uid_validity: u32,
        uid: u32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO imap_state (mailbox, uid_validity, last_uid, updated_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (mailbox) DO UPDATE SET
                    last_uid = CASE WHEN uid_validity = excluded.uid_validity
                                    THEN max(last_uid, excluded.last_uid)
                                    ELSE excluded.last_uid END,
                    uid_validity = excluded.uid_validity,
                    updated_at = excluded.updated_at",
            )
            .and_then(|mut s| s.execute(params![mailbox, uid_validity, uid, ms(now)]))
            .at(&self.path)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap_position_moves_forward_and_resets_on_new_uidvalidity() {
        let s = Store::open_in_memory().unwrap();
        let now = Utc::now();
        let mb = "pulse@127.0.0.1:993/INBOX";
        assert_eq!(s.imap_position(mb).unwrap(), None);
        s.record_imap_uid(mb, 7, 10, now).unwrap();
        s.record_imap_uid(mb, 7, 4, now).unwrap();
        assert_eq!(
            s.imap_position(mb).unwrap(),
            Some(ImapPosition {
                uid_validity: 7,
                last_uid: 10
            })
        );
        s.record_imap_uid(mb, 9, 2, now).unwrap();
        assert_eq!(
            s.imap_position(mb).unwrap(),
            Some(ImapPosition {
                uid_validity: 9,
                last_uid: 2
            })
        );
        assert_eq!(s.imap_position("other").unwrap(), None);
    }
}
