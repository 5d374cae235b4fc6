//! The private SQLite database: roster history, forms sent, answers with
//! their corrections, notes, the inbound log, the outbox, PM commands.
//!
//! Owns the file (mode 0600, WAL, migrations) and every SQL statement.
//! Writes that belong together go through one [`Tx`]: the effects of one
//! inbound message and the outbox rows they cause commit or roll back as one.
//! Never logs a score, note, body, subject or address: only keys and ids.
//!
//! Module map:
//! * `error` — [`StoreError`]: what failed and what to do next; `is_busy()`.
//! * `schema` — migrations in `PRAGMA user_version`.
//! * `roster` — coaches, PMs and pairings synced from config, history kept.
//! * `replies` — forms sent, inbound log, raw messages, answers, notes.
//! * `health` — the last machine fault, in a file beside the database.
//! * `imap` — the IMAP reader's position (UIDVALIDITY, last UID) per mailbox.
//! * `outbox` — queued mail: enqueue once per key, due, sent, retry, dead.
//! * `coach` — digest reply keys; actions, private notes and 1:1 changes
//!   per pairing.
//! * `privacy` — pauses, skips, events, forget tokens, forget, purge, export.
//! * `quarantine` — inbound messages that keep failing: attempts, quarantine.
//!
//! Times are stored as UTC milliseconds, weeks as `2026-W48` text.

mod coach;
mod error;
mod facts;
mod health;
mod imap;
mod outbox;
mod privacy;
mod quarantine;
mod replies;
mod report;
mod roster;
mod schema;

#[cfg(test)]
mod tests;

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::types::Type;
use rusqlite::{Connection, OpenFlags, Row, TransactionBehavior};

use crate::understand::{AskedAction, DigestRef, FormRef, Forms, LookupError};
use crate::week::Week;

pub use crate::schedule::Pause;
pub use coach::{
    ActionAnswerRow, ActionRow, ActionState, CoachEntry, CurrentPairing, NewActionAnswer,
    NewDigestKey,
};
pub use error::StoreError;
pub use facts::FACTS_WINDOW;
pub use health::{
    clear_store_fault, health_path, last_store_fault, prepare_health, probe_writable,
    record_store_fault,
};
pub use imap::ImapPosition;
pub use outbox::{NewOutbound, Outbound, OutboxStatus};
pub use privacy::{Event, EventKind, EventRow, Export, NoteRow};
pub use quarantine::{FailureCount, InboundFailure, Quarantined, QuarantinedMessage};
pub use replies::{AnswerRow, FormRow, InboundRecord};
pub use report::{CoachCounts, InboundCount};
pub use roster::{Pairing, RosterChanges};

use error::At;

/// How long a write waits for another process's lock before giving up
/// with [`StoreError::Busy`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// An open coachmail database.
pub struct Store {
    conn: Connection,
    /// The file, or `:memory:`; named in every error.
    path: PathBuf,
    /// The SQLCipher key, for backups (always `None` without `sqlcipher`).
    key: Option<String>,
    /// An open batch ([`Store::begin_batch`]): `Some(lost)`, `lost` once
    /// SQLite rolled its transaction back under it.
    batch: Option<bool>,
}

/// One write transaction. Dropping it without [`Tx::commit`] rolls every
/// write back. Inside a batch it is a savepoint of the batch's
/// transaction: committing it keeps its writes for the batch's commit,
/// dropping it undoes its writes alone.
pub struct Tx<'s> {
    tx: TxKind<'s>,
    path: &'s Path,
}

enum TxKind<'s> {
    Whole(rusqlite::Transaction<'s>),
    Part(rusqlite::Savepoint<'s>),
}

impl std::ops::Deref for TxKind<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            TxKind::Whole(t) => t,
            TxKind::Part(s) => s,
        }
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its
    /// schema up to date.
    ///
    /// A new parent folder is created with mode 0700 and the file with mode
    /// 0600 before SQLite writes to it; an existing file is tightened to
    /// 0600. `key` is the SQLCipher key (`service.database_key_env`): it needs
    /// a build with the `sqlcipher` feature.
    pub fn open(path: &Path, key: Option<&str>) -> Result<Store, StoreError> {
        prepare_file(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        // SQLite gives -wal/-shm the main file's mode: before (a read-only
        // reader may have left them read-only while the file was) and after.
        tighten_side_files(path)?;
        let store = Store::setup(conn, path.to_path_buf(), key)?;
        tighten_side_files(path)?;
        Ok(store)
    }

    /// A private database in memory, schema applied: for tests and `parse`.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        Store::setup(conn, path, None)
    }

    fn setup(conn: Connection, path: PathBuf, key: Option<&str>) -> Result<Store, StoreError> {
        let mut store = Store {
            conn,
            path,
            key: None,
            batch: None,
        };
        if let Some(key) = key {
            store.apply_key(key)?;
            store.key = Some(key.to_string());
        }
        let p = store.path.as_path();
        store.conn.busy_timeout(BUSY_TIMEOUT).at(p)?;
        // The first read: an encrypted or foreign file fails here, clearly.
        schema::user_version(&store.conn).at(p)?;
        store.conn.pragma_update(None, "foreign_keys", true).at(p)?;
        // Deleted rows are overwritten with zeros, not left in free pages.
        store
            .conn
            .pragma_update(None, "secure_delete", true)
            .at(p)?;
        // In memory the journal stays "memory"; files switch to WAL.
        let _mode: String = store
            .conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .at(p)?;
        store
            .conn
            .pragma_update(None, "synchronous", "NORMAL")
            .at(p)?;
        // 8 MiB of page cache: the schedule's reads (the last few weeks of
        // every PM) stay in memory at 10,000 PMs, and the process small.
        store.conn.pragma_update(None, "cache_size", -8_192).at(p)?;
        // No memory map: the page cache above serves the schedule's reads,
        // and the process stays small however large the database grows (a
        // 256 MiB map made the service's RSS ~300 MiB at 10,000 PMs).
        store.conn.pragma_update(None, "mmap_size", 0).at(p)?;
        let applied = schema::migrate(&mut store.conn, &store.path)?;
        if !applied.is_empty() {
            tracing::info!(
                from = applied.start,
                to = applied.end,
                "database schema upgraded"
            );
        }
        Ok(store)
    }

    #[cfg(feature = "sqlcipher")]
    fn apply_key(&mut self, key: &str) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "key", key).at(&self.path)?;
        match schema::user_version(&self.conn) {
            Ok(_) => Ok(()),
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) => {
                Err(StoreError::WrongKey {
                    path: self.path.clone(),
                })
            }
            Err(e) => Err(StoreError::sql(&self.path, e)),
        }
    }

    #[cfg(not(feature = "sqlcipher"))]
    fn apply_key(&mut self, _key: &str) -> Result<(), StoreError> {
        Err(StoreError::EncryptionUnavailable)
    }

    /// A second connection to the same database file, with the same key:
    /// for a worker on its own task (the outbox courier). SQLite
    /// serialises the two connections' writes; each holds the write lock
    /// for one short transaction. Refused for a database in memory.
    pub fn reopen(&self) -> Result<Store, StoreError> {
        if self.path == Path::new(":memory:") {
            return Err(StoreError::Open {
                path: self.path.clone(),
                source: rusqlite::Error::InvalidPath(self.path.clone()),
            });
        }
        // Never through `prepare_file`: opening and closing the file outside
        // SQLite would drop this process's POSIX locks on it (they belong to
        // the process, not the descriptor), and another process would then
        // take itself for the last reader and delete the WAL this one still
        // writes to. SQLite shares its own descriptors between connections.
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|source| StoreError::Open {
            path: self.path.clone(),
            source,
        })?;
        Store::setup(conn, self.path.clone(), self.key.as_deref())
    }

    /// The database file (`:memory:` in memory).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of this database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        schema::user_version(&self.conn).at(&self.path)
    }

    /// How long a write waits for another process's lock (default
    /// [`BUSY_TIMEOUT`]).
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<(), StoreError> {
        self.conn.busy_timeout(timeout).at(&self.path)
    }

    /// Starts a write transaction, taking the write lock now: if another
    /// process holds it past the busy timeout this fails with
    /// [`StoreError::Busy`] before anything is done.
    ///
    /// Inside a batch ([`Store::begin_batch`]) it is a savepoint of the
    /// batch's transaction instead.
    pub fn transaction(&mut self) -> Result<Tx<'_>, StoreError> {
        let path = self.path.as_path();
        if let Some(lost) = &mut self.batch {
            // SQLite rolled the batch back (a full disk, say): a savepoint
            // now would start a new transaction and hide that.
            if *lost || self.conn.is_autocommit() {
                *lost = true;
                return Err(batch_lost(path));
            }
            let sp = self.conn.savepoint().at(path)?;
            return Ok(Tx {
                tx: TxKind::Part(sp),
                path,
            });
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .at(path)?;
        Ok(Tx {
            tx: TxKind::Whole(tx),
            path,
        })
    }

    /// Opens a batch: one write transaction (the write lock taken now, as
    /// [`Store::transaction`] takes it) that every [`Store::transaction`]
    /// joins as a savepoint until [`Store::end_batch`]. Nothing written in
    /// a batch is durable, or may be acted on outside the database, before
    /// `end_batch` returns `Ok`.
    pub fn begin_batch(&mut self) -> Result<(), StoreError> {
        if self.batch.is_some() {
            return Ok(());
        }
        self.conn.execute_batch("BEGIN IMMEDIATE").at(&self.path)?;
        self.batch = Some(false);
        Ok(())
    }

    /// Whether a batch is open.
    pub fn in_batch(&self) -> bool {
        self.batch.is_some()
    }

    /// Commits the open batch (nothing to do without one). An error means
    /// none of the batch's writes are kept.
    pub fn end_batch(&mut self) -> Result<(), StoreError> {
        let Some(lost) = self.batch.take() else {
            return Ok(());
        };
        if lost || self.conn.is_autocommit() {
            let _ = self.rollback_if_open();
            return Err(batch_lost(&self.path));
        }
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            let _ = self.rollback_if_open();
            return Err(StoreError::sql(&self.path, e));
        }
        Ok(())
    }

    /// Drops the open batch and every write in it.
    pub fn abandon_batch(&mut self) {
        if self.batch.take().is_some() {
            let _ = self.rollback_if_open();
        }
    }

    fn rollback_if_open(&self) -> rusqlite::Result<()> {
        if self.conn.is_autocommit() {
            return Ok(());
        }
        self.conn.execute_batch("ROLLBACK")
    }

    /// Runs `f` in one transaction and commits if it returns `Ok`.
    pub fn write<T, E>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let tx = self.transaction()?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Copies the whole database to a new file `to` (mode 0600) with
    /// SQLite's online backup, while others keep using it. The copy is one
    /// consistent snapshot, encrypted with the same key when there is one.
    pub fn backup(&self, to: &Path) -> Result<(), StoreError> {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true).mode(0o600);
        if let Err(source) = options.open(to) {
            return Err(if source.kind() == std::io::ErrorKind::AlreadyExists {
                StoreError::BackupExists {
                    path: to.to_path_buf(),
                }
            } else {
                StoreError::BackupFile {
                    path: to.to_path_buf(),
                    source,
                }
            });
        }
        if let Err(source) = self.copy_to(to) {
            let _ = std::fs::remove_file(to);
            return Err(match StoreError::sql(&self.path, source) {
                StoreError::Sql { source, .. } => StoreError::Backup {
                    path: to.to_path_buf(),
                    source,
                },
                other => other,
            });
        }
        tracing::info!("database backup written");
        Ok(())
    }

    fn copy_to(&self, to: &Path) -> rusqlite::Result<()> {
        let mut dst = Connection::open(to)?;
        if let Some(key) = &self.key {
            dst.pragma_update(None, "key", key)?;
        }
        let backup = rusqlite::backup::Backup::new(&self.conn, &mut dst)?;
        // All pages in one step: one read snapshot of the source, which in
        // WAL mode never blocks writers and is never restarted by them.
        let wait = Duration::from_millis(50);
        for _ in 0..(BUSY_TIMEOUT.as_millis() / wait.as_millis()) {
            match backup.step(-1)? {
                rusqlite::backup::StepResult::Done => return Ok(()),
                rusqlite::backup::StepResult::More => {}
                _ => std::thread::sleep(wait),
            }
        }
        Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        ))
    }
}

impl Tx<'_> {
    /// Makes every write of this transaction durable, at once (in a batch:
    /// keeps them for the batch's commit).
    pub fn commit(self) -> Result<(), StoreError> {
        match self.tx {
            TxKind::Whole(t) => t.commit().at(self.path),
            TxKind::Part(s) => s.commit().at(self.path),
        }
    }

    /// Drops every write of this transaction (dropping `Tx` does the same).
    pub fn rollback(self) -> Result<(), StoreError> {
        match self.tx {
            TxKind::Whole(t) => t.rollback().at(self.path),
            TxKind::Part(s) => s.finish().at(self.path),
        }
    }
}

/// The error of a batch whose transaction SQLite rolled back under it.
fn batch_lost(path: &Path) -> StoreError {
    StoreError::sql(
        path,
        rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
            Some("the batch's transaction was rolled back; its writes are not kept".into()),
        ),
    )
}

/// Gives the WAL and shared-memory files beside the database mode 0600.
fn tighten_side_files(path: &Path) -> Result<(), StoreError> {
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let side = PathBuf::from(side);
        if side.exists() {
            std::fs::set_permissions(&side, Permissions::from_mode(0o600)).map_err(|source| {
                StoreError::CreateFile {
                    path: side.clone(),
                    source,
                }
            })?;
        }
    }
    Ok(())
}

/// Creates the parent folder (0700) and the file (0600) before SQLite does,
/// so the database is never readable by others, even for a moment.
fn prepare_file(path: &Path) -> Result<(), StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
    }
    let file_error = |source| StoreError::CreateFile {
        path: path.to_path_buf(),
        source,
    };
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(file_error)?;
    let meta = std::fs::metadata(path).map_err(file_error)?;
    let mode = meta.permissions().mode();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tighten_dir(dir, std::os::unix::fs::MetadataExt::uid(&meta))?;
    }
    if mode & 0o077 != 0 {
        tracing::warn!(
            mode = format!("{:o}", mode & 0o777),
            "database file was readable by others; tightening it to 0600"
        );
        std::fs::set_permissions(path, Permissions::from_mode(0o600)).map_err(file_error)?;
    }
    Ok(())
}

/// Makes the database's folder private (0700) when it is ours to change:
/// owned by the user who owns the database file, not a shared sticky folder
/// such as `/tmp`, and not the home folder. Otherwise a folder others can
/// read is only warned about. The folder holds the WAL and SHM files, and
/// by default `outbox/` and `inbox/` with whole messages.
fn tighten_dir(dir: &Path, owner: u32) -> Result<(), StoreError> {
    use std::os::unix::fs::MetadataExt;
    let dir_error = |source| StoreError::CreateDir {
        path: dir.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(dir).map_err(dir_error)?;
    let mode = meta.permissions().mode();
    if mode & 0o077 == 0 {
        return Ok(());
    }
    let sticky = mode & 0o1000 != 0;
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let is_home =
        home.is_some_and(|h| std::fs::canonicalize(h).ok() == std::fs::canonicalize(dir).ok());
    if meta.uid() == owner && !sticky && !is_home {
        tracing::warn!(
            mode = format!("{:o}", mode & 0o777),
            "database folder was open to others; tightening it to 0700"
        );
        std::fs::set_permissions(dir, Permissions::from_mode(0o700)).map_err(dir_error)?;
    } else if mode & 0o007 != 0 {
        tracing::warn!(
            mode = format!("{:o}", mode & 0o7777),
            "the database folder is readable by others and not ours to change; move service.database into a private folder"
        );
    }
    Ok(())
}

// --- conversions shared by the submodules -----------------------------------

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn time_at(row: &Row<'_>, i: usize) -> rusqlite::Result<DateTime<Utc>> {
    let v: i64 = row.get(i)?;
    DateTime::from_timestamp_millis(v).ok_or(rusqlite::Error::IntegralValueOutOfRange(i, v))
}

pub(crate) fn opt_time_at(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let v: Option<i64> = row.get(i)?;
    v.map(|v| {
        DateTime::from_timestamp_millis(v).ok_or(rusqlite::Error::IntegralValueOutOfRange(i, v))
    })
    .transpose()
}

pub(crate) fn week_at(row: &Row<'_>, i: usize) -> rusqlite::Result<Week> {
    let s: String = row.get(i)?;
    s.parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
}

pub(crate) fn opt_week_at(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<Week>> {
    let s: Option<String> = row.get(i)?;
    s.map(|s| {
        s.parse()
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
    })
    .transpose()
}

pub(crate) fn score_at(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<u8>> {
    let v: Option<i64> = row.get(i)?;
    v.map(|v| u8::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(i, v)))
        .transpose()
}

// --- reads, available on the store and inside a transaction ----------------

/// Generates each read as a method of both [`Store`] and [`Tx`], so the
/// engine can read what it is about to change within the same transaction.
macro_rules! reads {
    ($( $(#[$doc:meta])* fn $name:ident(&self $(, $arg:ident : $ty:ty)* ) -> $ret:ty = $f:path; )*) => {
        impl Store {
            $(
                $(#[$doc])*
                pub fn $name(&self $(, $arg: $ty)*) -> Result<$ret, StoreError> {
                    $f(&self.conn $(, $arg)*).at(&self.path)
                }
            )*
        }
        impl Tx<'_> {
            $(
                $(#[$doc])*
                pub fn $name(&self $(, $arg: $ty)*) -> Result<$ret, StoreError> {
                    $f(&self.tx $(, $arg)*).at(self.path)
                }
            )*
        }
    };
}

reads! {
    /// Whether a message with this dedup key (Message-ID or content hash)
    /// was already logged: its effects must not be applied again.
    fn inbound_seen(&self, dedup_key: &str) -> bool = replies::inbound_seen;
    /// Messages logged from this sender (hash) since `since`: the rate limit.
    fn count_inbound_from(&self, sender_hash: &str, since: DateTime<Utc>) -> u32 = replies::count_inbound_from;
    /// Authorized messages (assessments, commands) of `pm` since `since`:
    /// the PM's own rate limit, which forged mail cannot touch.
    fn count_authorized_from(&self, pm: &str, since: DateTime<Utc>) -> u32 = replies::count_authorized_from;
    /// Refused or ignored messages from this sender (keyed hash) since
    /// `since`: their own budget.
    fn count_refused_from(&self, sender_hash: &str, since: DateTime<Utc>) -> u32 = replies::count_refused_from;
    /// Messages refused with `reason` that named `pm` since `since` (for
    /// answers to unverified mail: a few an hour, however many arrive).
    fn count_refused_naming(&self, pm: &str, reason: &str, since: DateTime<Utc>) -> u32 = replies::count_refused_naming;
    /// The per-install secret keying sender hashes; never logged or exported.
    fn install_secret(&self) -> Vec<u8> = replies::install_secret;
    /// Weeks with at least one current answer (a score or a skip).
    fn answered_weeks(&self, pm: &str) -> std::collections::BTreeSet<Week> = replies::answered_weeks;
    /// Weeks a form was recorded for.
    fn forms_sent(&self, pm: &str) -> std::collections::BTreeSet<Week> = replies::forms_sent;
    /// Current answers (newest per skill and week), oldest week first;
    /// `None` = skipped on purpose.
    fn history(&self, pm: &str) -> Vec<(Week, String, Option<u8>)> = replies::history;
    /// Current answers for weeks `from..=to`, oldest first.
    fn history_between(&self, pm: &str, from: Week, to: Week) -> Vec<(Week, String, Option<u8>)> = replies::history_between;
    /// PMs (in the roster, or who left) with a current answer for `week`:
    /// one index lookup per PM, for the schedule's reminders at scale.
    fn answered_pms(&self, week: Week) -> std::collections::HashSet<String> = replies::answered_pms;
    /// PMs whose form for `week` was recorded.
    fn formed_pms(&self, week: Week) -> std::collections::HashSet<String> = replies::formed_pms;
    /// Every answer given for one week, superseded ones included, oldest first.
    fn answer_history(&self, pm: &str, week: Week) -> Vec<AnswerRow> = replies::answer_history;
    /// The notes of one week, oldest first.
    fn notes(&self, pm: &str, week: Week) -> Vec<String> = replies::notes;
    /// The form sent to `pm` for `week`, newest first if several.
    fn form_for(&self, pm: &str, week: Week) -> Option<FormRow> = replies::form_for;
    /// The Message-ID the form of `pm` for `week` was sent with.
    fn form_message_id(&self, pm: &str, week: Week) -> Option<String> = replies::form_message_id;
    /// Whether an outbox row with this idempotency key exists (any status).
    fn has_outbound_key(&self, key: &str) -> bool = outbox::has_key;
    /// Idempotency keys of outbox rows created at or after `since`.
    fn done_keys_since(&self, since: DateTime<Utc>) -> std::collections::HashSet<String> = outbox::keys_since;
    /// When `pm` first appeared in the roster (reset by `forget`).
    fn pm_since(&self, pm: &str) -> Option<DateTime<Utc>> = roster::pm_since;
    /// Who coached `pm` and when, oldest first.
    fn pairings(&self, pm: &str) -> Vec<Pairing> = roster::pairings;
    /// Every pause of `pm`, oldest first (resumed ones included).
    fn pauses(&self, pm: &str) -> Vec<Pause> = privacy::pauses;
    /// The pause in force for `pm` at `at`, if any.
    fn active_pause(&self, pm: &str, at: DateTime<Utc>) -> Option<Pause> = privacy::active_pause;
    /// PMs with a pause in force at `at`.
    fn paused_pms(&self, at: DateTime<Utc>) -> std::collections::HashSet<String> = privacy::paused_pms;
    /// Weeks `pm` skipped on purpose (`skip`).
    fn skipped_weeks(&self, pm: &str) -> std::collections::BTreeSet<Week> = privacy::skipped_weeks;
    /// Whether `pm` shared their earlier weeks with `coach` (`share history`).
    fn history_shared(&self, pm: &str, coach: &str) -> bool = privacy::history_shared;
    /// `pm`'s events (commands), oldest first.
    fn events(&self, pm: &str) -> Vec<EventRow> = privacy::events;
    /// Everything stored about `pm`, for the CSV export.
    fn export_rows(&self, pm: &str) -> Export = privacy::export_rows;
    /// The pairing in force for `pm` (row id, coach), if any.
    fn current_pairing(&self, pm: &str) -> Option<CurrentPairing> = coach::current_pairing;
    /// The open actions of one pairing, oldest first (the digest numbers them so).
    fn open_actions(&self, pairing: i64) -> Vec<ActionRow> = coach::open_actions;
    /// Every action about `pm`, any pairing, oldest first (for `export`).
    fn actions_of(&self, pm: &str) -> Vec<ActionRow> = coach::actions_of;
    /// The open actions of `pm`'s current pairing, oldest first (what the form asks).
    fn pm_open_actions(&self, pm: &str) -> Vec<ActionRow> = coach::pm_open_actions;
    /// The actions of one pairing answered done at or after `since`.
    fn done_actions_since(&self, pairing: i64, since: Option<DateTime<Utc>>) -> Vec<ActionRow> = coach::done_actions_since;
    /// Every answer `pm` gave to an action, any pairing, oldest first.
    fn action_answers_of(&self, pm: &str) -> Vec<ActionAnswerRow> = coach::action_answers_of;
    /// The answers to the actions of one pairing, oldest first.
    fn action_answers_in(&self, pairing: i64) -> Vec<ActionAnswerRow> = coach::action_answers_in;
    /// The coach's private notes of one pairing received at or after `since`.
    fn coach_notes_since(&self, pairing: i64, since: Option<DateTime<Utc>>) -> Vec<String> = coach::coach_notes_since;
    /// When the newest digest of one pairing was queued.
    fn last_digest_sent(&self, pairing: i64) -> Option<DateTime<Utc>> = coach::last_digest_sent;
    /// The reply key of the newest digest of one pairing still open at `at`.
    fn live_digest_key(&self, pairing: i64, at: DateTime<Utc>) -> Option<String> = coach::live_digest_key;
    /// The 1:1 changes a coach wrote for one pairing, oldest first, each
    /// with when it was received.
    fn schedule_changes_of(&self, pairing: i64) -> Vec<(crate::understand::coach::ScheduleChange, DateTime<Utc>)> = coach::schedule_changes_of;
    /// The digest a reply key belongs to.
    fn digest_by_reply_key(&self, key: &str) -> Option<DigestRef> = coach::digest_by_reply_key;
}

// --- the forms lookup `understand` asks -------------------------------------

/// A failed lookup is an error, never "no such form": the caller leaves the
/// message for a retry instead of refusing it.
fn lookup<T>(r: rusqlite::Result<Option<T>>) -> Result<Option<T>, LookupError> {
    r.map_err(|e| LookupError(e.to_string()))
}

impl Forms for Store {
    fn by_reply_key(&self, key: &str) -> Result<Option<FormRef>, LookupError> {
        lookup(replies::form_by_reply_key(&self.conn, key))
    }
    fn by_message_id(&self, message_id: &str) -> Result<Option<FormRef>, LookupError> {
        lookup(replies::form_by_message_id(&self.conn, message_id))
    }
    fn latest_week(&self, pm: &str) -> Result<Option<Week>, LookupError> {
        lookup(replies::latest_form_week(&self.conn, pm))
    }
    fn digest_by_reply_key(&self, key: &str) -> Result<Option<DigestRef>, LookupError> {
        lookup(coach::digest_by_reply_key(&self.conn, key))
    }
    fn asked_actions(&self, pm: &str) -> Result<Vec<AskedAction>, LookupError> {
        coach::pm_open_actions(&self.conn, pm)
            .map(|rows| {
                rows.into_iter()
                    .map(|a| AskedAction {
                        id: a.id,
                        pairing: a.pairing,
                        text: a.text,
                    })
                    .collect()
            })
            .map_err(|e| LookupError(e.to_string()))
    }
}

impl Forms for Tx<'_> {
    fn by_reply_key(&self, key: &str) -> Result<Option<FormRef>, LookupError> {
        lookup(replies::form_by_reply_key(&self.tx, key))
    }
    fn by_message_id(&self, message_id: &str) -> Result<Option<FormRef>, LookupError> {
        lookup(replies::form_by_message_id(&self.tx, message_id))
    }
    fn latest_week(&self, pm: &str) -> Result<Option<Week>, LookupError> {
        lookup(replies::latest_form_week(&self.tx, pm))
    }
    fn digest_by_reply_key(&self, key: &str) -> Result<Option<DigestRef>, LookupError> {
        lookup(coach::digest_by_reply_key(&self.tx, key))
    }
    fn asked_actions(&self, pm: &str) -> Result<Vec<AskedAction>, LookupError> {
        coach::pm_open_actions(&self.tx, pm)
            .map(|rows| {
                rows.into_iter()
                    .map(|a| AskedAction {
                        id: a.id,
                        pairing: a.pairing,
                        text: a.text,
                    })
                    .collect()
            })
            .map_err(|e| LookupError(e.to_string()))
    }
}
