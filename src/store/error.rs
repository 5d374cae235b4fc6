//! What can go wrong with the database, each error saying what to do next.
//!
//! Never carries message bodies, scores, notes or addresses: only paths,
//! schema versions and SQLite's own (content-free) messages.

use std::io;
use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot create the database folder {}: {source}. Create it yourself (mode 0700) or point service.database elsewhere",
        path.display()
    )]
    CreateDir { path: PathBuf, source: io::Error },

    #[error(
        "cannot create or secure the database file {}: {source}. Check that its folder is writable by this user, or point service.database elsewhere",
        path.display()
    )]
    CreateFile { path: PathBuf, source: io::Error },

    #[error(
        "cannot open the database {}: {source}. Check service.database and the file's permissions",
        path.display()
    )]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },

    #[error(
        "the database {} is busy: another coachmail process holds its write lock. Try again in a moment (`coachmail ingest` exits 75 so the mail server retries)",
        path.display()
    )]
    Busy { path: PathBuf },

    #[error(
        "the database {} was written by a newer coachmail (schema version {found}; this binary knows up to {supported}). Run the newer coachmail, or restore a backup made with this version",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error(
        "cannot upgrade the database {} to schema version {version}: {source}. Nothing was changed: fix the cause (disk space, permissions) and start again; if the file was edited by hand, restore it from a `coachmail backup`",
        path.display()
    )]
    Migration {
        path: PathBuf,
        version: i64,
        source: rusqlite::Error,
    },

    #[error(
        "{} is encrypted or is not a coachmail database. If it is encrypted, set service.database_key_env to the name of the environment variable holding its key; otherwise check service.database",
        path.display()
    )]
    NotADatabase { path: PathBuf },

    #[error(
        "the database key does not open {}. Check the environment variable named by service.database_key_env; a database created without a key must be opened without one",
        path.display()
    )]
    WrongKey { path: PathBuf },

    #[error(
        "service.database_key_env is set, but this coachmail was built without SQLCipher. Rebuild with `cargo build --release --features sqlcipher`, or leave database_key_env empty for an unencrypted database"
    )]
    EncryptionUnavailable,

    #[error(
        "the backup file {} already exists. Choose a new file name, or move the old backup away first",
        path.display()
    )]
    BackupExists { path: PathBuf },

    #[error(
        "cannot create the backup file {}: {source}. Check that its folder exists and is writable",
        path.display()
    )]
    BackupFile { path: PathBuf, source: io::Error },

    #[error(
        "the backup to {} failed: {source}. The partial file was removed; try again when the disk has room",
        path.display()
    )]
    Backup {
        path: PathBuf,
        source: rusqlite::Error,
    },

    #[error(
        "database {}: {source}. If this repeats, check disk space and permissions, and keep a `coachmail backup`",
        path.display()
    )]
    Sql {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

impl StoreError {
    /// The database was locked by another process for longer than the busy
    /// timeout: a temporary condition (`ingest` exits 75, EX_TEMPFAIL).
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Busy { .. } => true,
            StoreError::Open { source, .. }
            | StoreError::Migration { source, .. }
            | StoreError::Backup { source, .. }
            | StoreError::Sql { source, .. } => sqlite_busy(source),
            _ => false,
        }
    }

    /// A fault only the operator can fix in the configuration (the
    /// database key, a database that is not ours), not a passing one.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            StoreError::NotADatabase { .. }
                | StoreError::WrongKey { .. }
                | StoreError::EncryptionUnavailable
                | StoreError::TooNew { .. }
        )
    }

    /// The machine's trouble, when this is one: the disk is full, the
    /// database or its folder is read-only or not ours to write, I/O
    /// failed, or another process holds the lock. Such a fault fails every
    /// message alike and passes when the operator fixes the machine: a
    /// message is never blamed (quarantined) for it. A short, content-free
    /// class for logs and `status`.
    pub fn machine_fault(&self) -> Option<&'static str> {
        match self {
            StoreError::Busy { .. } => Some("busy"),
            StoreError::CreateDir { source, .. }
            | StoreError::CreateFile { source, .. }
            | StoreError::BackupFile { source, .. } => Some(io_class(source)),
            StoreError::Open { source, .. }
            | StoreError::Migration { source, .. }
            | StoreError::Backup { source, .. }
            | StoreError::Sql { source, .. } => match source.sqlite_error_code()? {
                ErrorCode::DiskFull => Some("disk full"),
                ErrorCode::ReadOnly => Some("read-only"),
                ErrorCode::CannotOpen | ErrorCode::PermissionDenied => Some("cannot open"),
                ErrorCode::SystemIoFailure => Some("I/O error"),
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Some("busy"),
                ErrorCode::DatabaseCorrupt => Some("corrupt"),
                ErrorCode::OutOfMemory => Some("out of memory"),
                ErrorCode::FileLockingProtocolFailed => Some("locking failed"),
                _ => None,
            },
            StoreError::TooNew { .. }
            | StoreError::NotADatabase { .. }
            | StoreError::WrongKey { .. }
            | StoreError::EncryptionUnavailable
            | StoreError::BackupExists { .. } => None,
        }
    }

    /// Classifies a SQLite error raised while working on `path`.
    pub(crate) fn sql(path: &Path, source: rusqlite::Error) -> StoreError {
        let path = path.to_path_buf();
        if sqlite_busy(&source) {
            return StoreError::Busy { path };
        }
        if source.sqlite_error_code() == Some(ErrorCode::NotADatabase) {
            return StoreError::NotADatabase { path };
        }
        StoreError::Sql { path, source }
    }
}

/// A content-free class of a file-system error.
fn io_class(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => "disk full",
        io::ErrorKind::ReadOnlyFilesystem => "read-only",
        io::ErrorKind::PermissionDenied => "cannot open",
        _ => "I/O error",
    }
}

fn sqlite_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Maps rusqlite results to [`StoreError`] for the database at a path.
pub(crate) trait At<T> {
    fn at(self, path: &Path) -> Result<T, StoreError>;
}

impl<T> At<T> for rusqlite::Result<T> {
    fn at(self, path: &Path) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::sql(path, e))
    }
}
