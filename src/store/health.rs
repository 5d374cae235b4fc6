//! The last trouble the machine gave the store (a full disk, a read-only
//! file), kept where `status` can read it even when the database cannot be
//! written: a tiny file beside it, `<database>.health`.
//!
//! Owns that file. It is created once at a fixed size and then only
//! overwritten in place, so recording "disk full" needs no new block on a
//! full disk. Never holds content: a time and a content-free class
//! ([`super::StoreError::machine_fault`]). Recording is best effort: a
//! failure to write it is never an error of its own.

use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

/// The record's fixed size: a time, a class, padding.
const RECORD: usize = 64;

/// The health file of the database at `database`.
pub fn health_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".health");
    PathBuf::from(name)
}

/// Creates the health file ("ok") if it is missing, so a later record is
/// an overwrite in place.
pub fn prepare_health(database: &Path) {
    let path = health_path(database);
    if path.exists() {
        return;
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path);
    if let Ok(mut f) = file {
        let _ = f.write_all(&record("ok"));
    }
}

/// Records that the store failed with `class` at `now`.
pub fn record_store_fault(database: &Path, class: &str, now: DateTime<Utc>) {
    prepare_health(database);
    overwrite(
        database,
        &record(&format!("{} {class}", now.timestamp_millis())),
    );
}

/// Records that the store works again.
pub fn clear_store_fault(database: &Path) {
    if last_store_fault(database).is_some() {
        overwrite(database, &record("ok"));
    }
}

/// The last fault recorded and not cleared since: when, and its class.
pub fn last_store_fault(database: &Path) -> Option<(DateTime<Utc>, String)> {
    let text = std::fs::read(health_path(database)).ok()?;
    let text = String::from_utf8_lossy(&text);
    let (at, class) = text.trim().split_once(' ')?;
    let at = DateTime::from_timestamp_millis(at.parse().ok()?)?;
    Some((at, class.trim().to_string()))
}

/// Whether the database file can be opened for writing now (nothing is
/// written): the class of the trouble when it cannot.
pub fn probe_writable(database: &Path) -> Option<&'static str> {
    match std::fs::OpenOptions::new().write(true).open(database) {
        Ok(_) => None,
        Err(e) => Some(match e.kind() {
            std::io::ErrorKind::ReadOnlyFilesystem => "read-only",
            std::io::ErrorKind::PermissionDenied => "cannot open",
            std::io::ErrorKind::NotFound => return None,
            _ => "I/O error",
        }),
    }
}

fn record(text: &str) -> [u8; RECORD] {
    let mut out = [b' '; RECORD];
    let bytes = text.as_bytes();
    let n = bytes.len().min(RECORD - 1);
    out[..n].copy_from_slice(&bytes[..n]);
    out[RECORD - 1] = b'\n';
    out
}

fn overwrite(database: &Path, bytes: &[u8]) {
    if let Ok(f) = std::fs::OpenOptions::new()
        .write(true)
        .open(health_path(database))
    {
        let _ = f.write_all_at(bytes, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_fault_is_read_back_until_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("coachmail.db");
        assert_eq!(last_store_fault(&db), None);
        prepare_health(&db);
        assert_eq!(last_store_fault(&db), None);
        let at = DateTime::from_timestamp_millis(1_796_000_000_123).unwrap();
        record_store_fault(&db, "disk full", at);
        assert_eq!(last_store_fault(&db), Some((at, "disk full".into())));
        assert_eq!(std::fs::read(health_path(&db)).unwrap().len(), RECORD);
        clear_store_fault(&db);
        assert_eq!(last_store_fault(&db), None);
    }
}
