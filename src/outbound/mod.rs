//! Delivering what the outbox holds: the worker and the transports.
//!
//! Owns the [`Transport`] trait (file, recorded, [`smtp`]) and the rule
//! that a message is marked sent only after its transport accepted it, and
//! exactly once per outbox row even when sends run concurrently.
//! Never builds or changes a message: it delivers the rendered bytes the
//! outbox row holds, to the recipient the row names.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt;

use crate::store::{Store, StoreError};

pub mod smtp;

pub use smtp::{SmtpError, SmtpTransport};

/// A boxed future, so transports can be used as trait objects.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// One message to deliver: envelope plus the complete RFC 5322 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parcel {
    /// The outbox row id (stable across retries).
    pub id: i64,
    /// The outbox idempotency key, e.g. `form:alice:2026-W48`.
    pub key: String,
    pub from: String,
    pub to: String,
    pub bytes: Vec<u8>,
}

/// Why a delivery failed, and whether trying again can help.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Try again later (4xx, connection refused, timeout, disk full).
    #[error("temporary delivery failure ({0}); will retry")]
    Temporary(String),
    /// Will never succeed (5xx): dead-lettered.
    #[error("permanent delivery failure ({0}); dead-lettered")]
    Permanent(String),
}

impl SendError {
    /// A short, content-free class for logs and the outbox row.
    pub fn class(&self) -> &str {
        match self {
            SendError::Temporary(c) | SendError::Permanent(c) => c,
        }
    }
}

/// Something that delivers a message. Implementors write only `send`.
pub trait Transport: Send + Sync {
    fn send<'a>(&'a self, parcel: &'a Parcel) -> SendFuture<'a>;

    /// How many sends [`deliver_due`] may run at once (SMTP: the
    /// configured concurrency, at most the pool size).
    fn concurrency(&self) -> usize {
        1
    }

    /// Removes any copy this transport kept of the outbox rows `ids` (a
    /// PM's `forget`). Transports that keep nothing do nothing.
    fn forget(&self, _ids: &[i64]) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes each message as an `.eml` file named after its outbox row, so a
/// retry after a crash rewrites the same file instead of adding a second.
#[derive(Clone, Debug)]
pub struct FileTransport {
    dir: PathBuf,
}

impl FileTransport {
    pub fn new(dir: impl Into<PathBuf>) -> FileTransport {
        FileTransport { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file a parcel is written to.
    pub fn path_of(&self, parcel: &Parcel) -> PathBuf {
        // Only the row id and the key's kind (`form`, `confirm`…): the rest
        // of a key may come from an inbound Message-ID, never a file name.
        let kind = parcel.key.split(':').next().unwrap_or("").chars().take(32);
        let key: String = kind
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        self.dir.join(format!("{:06}-{key}.eml", parcel.id))
    }

    /// Sent mail holds scores and notes: the folder is created 0700 and
    /// each file 0600.
    fn write(&self, parcel: &Parcel) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        if !self.dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.dir)?;
        }
        let path = self.path_of(parcel);
        let tmp = path.with_extension("eml.tmp");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(&parcel.bytes)?;
        std::fs::rename(&tmp, &path)
    }
}

impl Transport for FileTransport {
    fn send<'a>(&'a self, parcel: &'a Parcel) -> SendFuture<'a> {
        Box::pin(async move {
            self.write(parcel)
                .map_err(|e| SendError::Temporary(format!("file transport: {}", e.kind())))
        })
    }

    /// Deletes the `.eml` files of these outbox rows (named `<id>-…`).
    fn forget(&self, ids: &[i64]) -> std::io::Result<()> {
        let prefixes: Vec<String> = ids.iter().map(|id| format!("{id:06}-")).collect();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if prefixes.iter().any(|p| name.starts_with(p.as_str())) {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(())
    }
}

/// Keeps every delivered parcel in memory, for tests and the demo.
#[derive(Clone, Debug, Default)]
pub struct RecordedTransport {
    sent: Arc<Mutex<Vec<Parcel>>>,
}

impl RecordedTransport {
    pub fn new() -> RecordedTransport {
        RecordedTransport::default()
    }

    /// Everything delivered so far, in order.
    pub fn sent(&self) -> Vec<Parcel> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Transport for RecordedTransport {
    fn send<'a>(&'a self, parcel: &'a Parcel) -> SendFuture<'a> {
        Box::pin(async move {
            let mut sent = self
                .sent
                .lock()
                .map_err(|_| SendError::Temporary("recorder poisoned".into()))?;
            sent.push(parcel.clone());
            Ok(())
        })
    }
}

/// Delivers through another transport and keeps a copy of each message it
/// accepted: `demo` answers the forms it sent, and the tests read what was
/// sent as typed parcels instead of parsing file names.
pub struct Copying {
    inner: Box<dyn Transport>,
    copies: Copies,
}

/// The copies a [`Copying`] transport kept, shared with its owner.
#[derive(Clone, Debug, Default)]
pub struct Copies(Arc<Mutex<Vec<Parcel>>>);

impl Copies {
    /// Everything accepted since the last call, in order.
    pub fn take(&self) -> Vec<Parcel> {
        self.0
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}

impl Copying {
    pub fn new(inner: Box<dyn Transport>) -> Copying {
        Copying {
            inner,
            copies: Copies::default(),
        }
    }

    pub fn copies(&self) -> Copies {
        self.copies.clone()
    }
}

impl Transport for Copying {
    fn send<'a>(&'a self, parcel: &'a Parcel) -> SendFuture<'a> {
        Box::pin(async move {
            self.inner.send(parcel).await?;
            if let Ok(mut copies) = self.copies.0.lock() {
                copies.push(parcel.clone());
            }
            Ok(())
        })
    }

    fn concurrency(&self) -> usize {
        self.inner.concurrency()
    }

    fn forget(&self, ids: &[i64]) -> std::io::Result<()> {
        self.inner.forget(ids)
    }
}

/// When to try again after `attempts` failed tries: exponential from one
/// minute, capped at six hours, with up to 20% jitter from `jitter` (0..1).
pub fn backoff(attempts: u32, jitter: f64) -> Duration {
    let base = 60i64.saturating_mul(1i64 << attempts.min(9)).min(6 * 3600);
    let spread = (base as f64 * 0.2 * jitter.clamp(0.0, 1.0)) as i64;
    Duration::seconds(base + spread)
}

/// Gives up on a temporary failure after this many attempts (about three days).
pub const MAX_ATTEMPTS: u32 = 20;

/// What one delivery pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    pub retrying: usize,
    pub dead: usize,
}

/// A cheap jitter source that needs no RNG crate: the low bits of a hash of
/// the row id and attempt number.
fn jitter_for(id: i64, attempts: u32) -> f64 {
    let x = (id as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(attempts as u64)
        .rotate_left(17);
    (x % 1000) as f64 / 1000.0
}

/// Next attempt time for a failed parcel, or `None` when it is dead.
pub fn after_failure(
    err: &SendError,
    id: i64,
    attempts: u32,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match err {
        SendError::Permanent(_) => None,
        SendError::Temporary(_) if attempts + 1 >= MAX_ATTEMPTS => None,
        SendError::Temporary(_) => Some(now + backoff(attempts, jitter_for(id, attempts))),
    }
}

/// The store as the worker reaches it: owned by the caller's loop
/// (`&Store`), or shared behind a lock by a worker on its own task
/// (`Mutex<Store>`, its own connection). The lock is held only for one
/// read or one write, never across a send.
pub trait OutboxStore {
    fn with_store<T>(&self, f: impl FnOnce(&Store) -> T) -> T;
}

impl OutboxStore for Store {
    fn with_store<T>(&self, f: impl FnOnce(&Store) -> T) -> T {
        f(self)
    }
}

impl OutboxStore for Mutex<Store> {
    fn with_store<T>(&self, f: impl FnOnce(&Store) -> T) -> T {
        // A panic elsewhere cannot leave a half-done write behind (each
        // write is one transaction), so a poisoned lock is still sound.
        let store = self.lock().unwrap_or_else(|p| p.into_inner());
        f(&store)
    }
}

/// Delivers up to `limit` outbox rows that are due at `now`, up to
/// [`Transport::concurrency`] at once, and records each outcome as its send
/// finishes. Each row is sent once per pass and recorded once; a row is
/// marked sent only after the transport accepted it. A crash in between
/// sends it again on restart, which the file transport absorbs (same file)
/// and SMTP tolerates (the same Message-ID, so clients show it once).
pub async fn deliver_due(
    store: &impl OutboxStore,
    transport: &dyn Transport,
    from: &str,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Delivered, StoreError> {
    let mut done = Delivered::default();
    let rows = store.with_store(|s| s.next_due_outbound(now, limit))?;
    let sends = futures_util::stream::iter(rows.into_iter().map(|row| {
        let parcel = Parcel {
            id: row.id,
            key: row.key,
            from: from.to_string(),
            to: row.recipient,
            bytes: row.bytes,
        };
        async move {
            let result = transport.send(&parcel).await;
            (parcel.id, row.attempts, result)
        }
    }))
    .buffer_unordered(transport.concurrency().max(1));
    tokio::pin!(sends);
    while let Some((id, attempts, result)) = sends.next().await {
        store.with_store(|s| record(s, id, attempts, result, now, &mut done))?;
    }
    Ok(done)
}

/// Writes one send's outcome to the outbox.
fn record(
    store: &Store,
    id: i64,
    attempts: u32,
    result: Result<(), SendError>,
    now: DateTime<Utc>,
    done: &mut Delivered,
) -> Result<(), StoreError> {
    match result {
        Ok(()) => {
            store.mark_sent(id, now)?;
            done.sent += 1;
        }
        Err(err) => match after_failure(&err, id, attempts, now) {
            Some(next) => {
                tracing::warn!(id, class = err.class(), "delivery deferred");
                store.mark_retry(id, next, err.class())?;
                done.retrying += 1;
            }
            None => {
                tracing::error!(
                    id,
                    class = err.class(),
                    "delivery failed for good; dead-lettered"
                );
                store.mark_dead(id, err.class(), now)?;
                done.dead += 1;
            }
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parcel(id: i64, key: &str) -> Parcel {
        Parcel {
            id,
            key: key.into(),
            from: "pulse@example.org".into(),
            to: "alice@example.org".into(),
            bytes: b"Subject: hi\r\n\r\nbody\r\n".to_vec(),
        }
    }

    #[tokio::test]
    async fn file_transport_rewrites_the_same_file_on_retry() {
        let dir = tempfile::tempdir().unwrap();
        let t = FileTransport::new(dir.path());
        let p = parcel(7, "form:alice:2026-W48");
        t.send(&p).await.unwrap();
        t.send(&p).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1);
        assert_eq!(t.path_of(&p).file_name().unwrap(), "000007-form.eml");
        assert_eq!(std::fs::read(t.path_of(&p)).unwrap(), p.bytes);
    }

    #[tokio::test]
    async fn sent_mail_is_readable_by_the_service_user_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let t = FileTransport::new(dir.path().join("outbox"));
        let p = parcel(1, "confirm:x");
        t.send(&p).await.unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(t.dir()), 0o700);
        assert_eq!(mode(&t.path_of(&p)), 0o600);
    }

    /// Accepts everything after a short wait, counting sends in flight.
    #[derive(Default)]
    struct Slow {
        in_flight: std::sync::atomic::AtomicUsize,
        most: std::sync::atomic::AtomicUsize,
        sent: Mutex<Vec<i64>>,
    }

    impl Transport for Slow {
        fn send<'a>(&'a self, parcel: &'a Parcel) -> SendFuture<'a> {
            use std::sync::atomic::Ordering::SeqCst;
            Box::pin(async move {
                let now = self.in_flight.fetch_add(1, SeqCst) + 1;
                self.most.fetch_max(now, SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                self.in_flight.fetch_sub(1, SeqCst);
                self.sent.lock().unwrap().push(parcel.id);
                if parcel.key.ends_with("-bad") {
                    Err(SendError::Permanent("smtp-550".into()))
                } else {
                    Ok(())
                }
            })
        }
        fn concurrency(&self) -> usize {
            4
        }
    }

    #[tokio::test]
    async fn concurrent_delivery_sends_and_records_each_row_once() {
        use crate::store::NewOutbound;
        let mut store = Store::open_in_memory().unwrap();
        let now = Utc::now();
        let tx = store.transaction().unwrap();
        for i in 0..10 {
            let key = if i == 3 {
                format!("k{i}-bad")
            } else {
                format!("k{i}")
            };
            tx.enqueue(
                &NewOutbound {
                    key: &key,
                    kind: "form",
                    pm: None,
                    recipient: "alice@example.org",
                    bytes: b"x",
                },
                now,
            )
            .unwrap();
        }
        tx.commit().unwrap();
        let t = Slow::default();
        let d = deliver_due(&store, &t, "pulse@example.org", now, 100)
            .await
            .unwrap();
        assert_eq!((d.sent, d.retrying, d.dead), (9, 0, 1));
        assert_eq!(t.most.load(std::sync::atomic::Ordering::SeqCst), 4);
        let mut ids = t.sent.lock().unwrap().clone();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 10);
        let again = deliver_due(&store, &t, "pulse@example.org", now, 100)
            .await
            .unwrap();
        assert_eq!(again, Delivered::default());
        let status = store.outbox_status(now).unwrap();
        assert_eq!((status.pending, status.dead_total), (0, 1));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(0, 0.0), Duration::seconds(60));
        assert_eq!(backoff(1, 0.0), Duration::seconds(120));
        assert_eq!(backoff(30, 0.0), Duration::seconds(6 * 3600));
        assert!(backoff(3, 1.0) > backoff(3, 0.0));
    }

    #[test]
    fn permanent_failures_and_exhausted_retries_are_dead() {
        let now = Utc::now();
        assert_eq!(
            after_failure(&SendError::Permanent("550".into()), 1, 0, now),
            None
        );
        assert_eq!(
            after_failure(
                &SendError::Temporary("451".into()),
                1,
                MAX_ATTEMPTS - 1,
                now
            ),
            None
        );
        assert!(after_failure(&SendError::Temporary("451".into()), 1, 0, now).unwrap() > now);
    }
}
