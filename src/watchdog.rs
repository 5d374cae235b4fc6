//! The time budget of one inbound message, and the marks that let a
//! message which took the process down be counted against itself.
//!
//! Owns two things. [`InFlight`]: while a message is handled, an empty
//! file named by its content hash sits in `<database>.inflight/`, held
//! under an exclusive lock. A clean finish removes it; a process that died
//! in the middle (killed, out of memory, a stack overflow, or stopped by
//! the watchdog) leaves it unlocked, and the next process to meet the same
//! message counts that as a failed try, so a message that keeps taking the
//! service down is quarantined after a few tries instead of blocking
//! everything behind it. [`Watchdog`]: a thread that acts when one
//! message's handling overruns its budget (`run` and `ingest` exit with
//! 75, leaving the mark), and when a stop is asked for while one message
//! has been in hand for [`STOP_GRACE`] (`run` exits 0 at once, taking the
//! mark away: nothing of the message was committed, and it is read again
//! on the next start without being blamed). Never reads or writes a
//! message's content: a mark is a hash and nothing else.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The folder of in-flight marks beside a database.
#[derive(Clone, Debug)]
pub struct InFlight {
    dir: PathBuf,
}

/// The mark of a message being handled; dropping it removes the mark.
#[derive(Debug)]
pub struct Mark {
    path: PathBuf,
    // Held open: the lock lives as long as the handle.
    _file: File,
}

impl Mark {
    /// Where the mark lies.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Mark {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl InFlight {
    /// The marks of the database at `database`.
    pub fn beside(database: &Path) -> InFlight {
        let mut dir = database.as_os_str().to_owned();
        dir.push(".inflight");
        InFlight {
            dir: PathBuf::from(dir),
        }
    }

    fn path(&self, hash: &str) -> Option<PathBuf> {
        let safe =
            !hash.is_empty() && hash.len() <= 128 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        safe.then(|| self.dir.join(hash))
    }

    /// Marks the message with content hash `hash` as being handled. `None`
    /// when no mark can be made (a full or read-only disk, or another
    /// process handling the same message right now): handling goes on
    /// unmarked, since a local fault is retried anyway.
    pub fn begin(&self, hash: &str) -> Option<Mark> {
        let path = self.path(hash)?;
        let open = || {
            OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
        };
        let file = match open() {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                create_private_dir(&self.dir).ok()?;
                open().ok()?
            }
            Err(_) => return None,
        };
        file.try_lock().ok()?;
        Some(Mark { path, _file: file })
    }

    /// Whether the message with content hash `hash` was being handled by a
    /// process that died before it finished. The mark is taken away:
    /// each death counts once.
    pub fn take_orphan(&self, hash: &str) -> bool {
        let Some(path) = self.path(hash) else {
            return false;
        };
        let Ok(file) = OpenOptions::new().write(true).open(&path) else {
            return false;
        };
        // Locked: a live process is handling it right now.
        if file.try_lock().is_err() {
            return false;
        }
        std::fs::remove_file(&path).is_ok()
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// How long a message in hand may still run once a stop is asked for.
pub const STOP_GRACE: Duration = Duration::from_secs(1);

/// The message in hand: since when, and where its mark lies.
type InHand = Option<(Instant, Option<PathBuf>)>;

/// Watches one message at a time against a time budget.
#[derive(Clone)]
pub struct Watchdog {
    in_hand: Arc<Mutex<InHand>>,
}

impl Watchdog {
    /// Starts the watching thread: `on_overrun` runs once when a message
    /// handed to [`Watchdog::watch`] is still being handled after `budget`.
    pub fn start(budget: Duration, on_overrun: impl FnOnce() + Send + 'static) -> Watchdog {
        Watchdog::start_stoppable(budget, || false, on_overrun, |_| {})
    }

    /// [`Watchdog::start`], and `on_stop` (given the message's mark) runs
    /// once when `stop_requested` holds while one message has been in hand
    /// for [`STOP_GRACE`]: a stop is honoured within about a second even in
    /// the middle of a slow message.
    pub fn start_stoppable(
        budget: Duration,
        stop_requested: impl Fn() -> bool + Send + 'static,
        on_overrun: impl FnOnce() + Send + 'static,
        on_stop: impl FnOnce(Option<PathBuf>) + Send + 'static,
    ) -> Watchdog {
        let in_hand: Arc<Mutex<InHand>> = Arc::default();
        let seen = in_hand.clone();
        let tick = (budget / 4).clamp(Duration::from_millis(1), Duration::from_millis(250));
        let spawned = std::thread::Builder::new()
            .name("message-watchdog".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(tick);
                    let now = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    let Some((since, mark)) = now else {
                        continue;
                    };
                    if since.elapsed() > budget {
                        on_overrun();
                        return;
                    }
                    if since.elapsed() > STOP_GRACE && stop_requested() {
                        on_stop(mark);
                        return;
                    }
                }
            });
        if spawned.is_err() {
            tracing::warn!(
                "the message watchdog could not start; messages run without a time budget"
            );
        }
        Watchdog { in_hand }
    }

    /// Runs the handling of one message (marked at `mark`) under the budget.
    pub fn watch<T>(&self, mark: Option<&Path>, handle: impl FnOnce() -> T) -> T {
        self.set(Some((Instant::now(), mark.map(Path::to_path_buf))));
        let out = handle();
        self.set(None);
        out
    }

    fn set(&self, value: InHand) {
        *self.in_hand.lock().unwrap_or_else(|e| e.into_inner()) = value;
    }
}

/// What `run` does when asked to stop in the middle of a slow message:
/// the message's mark goes (it is not the message's fault), it says so and
/// exits 0. Nothing of the message was committed; it is read again on the
/// next start.
pub fn exit_on_stop() -> impl FnOnce(Option<PathBuf>) + Send + 'static {
    move |mark| {
        if let Some(mark) = mark {
            let _ = std::fs::remove_file(mark);
        }
        tracing::info!(
            "stopped in the middle of a message; nothing of it was committed and it is read again on the next start"
        );
        std::process::exit(0);
    }
}

/// What `run` and `ingest` do when a message overruns its budget: say so
/// (without content) and exit with 75, leaving the message's mark, so the
/// next try counts this one and a message that always overruns is
/// quarantined.
pub fn exit_on_overrun(budget: Duration) -> impl FnOnce() + Send + 'static {
    move || {
        tracing::error!(
            budget_ms = budget.as_millis() as u64,
            "a message overran its time budget; stopping (exit 75) so it counts as a failed try and is quarantined after 3"
        );
        std::process::exit(75);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    const HASH: &str = "00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff";

    fn marks() -> (tempfile::TempDir, InFlight) {
        let dir = tempfile::tempdir().unwrap();
        let inflight = InFlight::beside(&dir.path().join("coachmail.db"));
        (dir, inflight)
    }

    #[test]
    fn a_mark_exists_while_a_message_is_handled_and_is_gone_after() {
        let (dir, inflight) = marks();
        let mark = inflight.begin(HASH).expect("a mark");
        let path = dir.path().join("coachmail.db.inflight").join(HASH);
        assert!(path.exists());
        drop(mark);
        assert!(!path.exists());
    }

    #[test]
    fn a_message_being_handled_by_a_live_process_is_no_orphan() {
        let (_dir, inflight) = marks();
        let _mark = inflight.begin(HASH).unwrap();
        assert!(!inflight.take_orphan(HASH));
        // Nor can a second process mark it at the same time.
        assert!(inflight.begin(HASH).is_none());
    }

    #[test]
    fn a_mark_left_unlocked_by_a_dead_process_is_an_orphan_counted_once() {
        let (dir, inflight) = marks();
        // What a process killed in the middle leaves: the file, no lock.
        drop(inflight.begin(HASH));
        std::fs::write(dir.path().join("coachmail.db.inflight").join(HASH), b"").unwrap();
        assert!(inflight.take_orphan(HASH));
        assert!(!inflight.take_orphan(HASH), "each death counts once");
        assert!(!inflight.take_orphan(&HASH.replace('0', "1")));
    }

    #[test]
    fn a_hash_that_is_not_hex_never_names_a_file() {
        let (_dir, inflight) = marks();
        assert!(inflight.begin("../../etc/passwd").is_none());
        assert!(inflight.begin("").is_none());
        assert!(!inflight.take_orphan("../x"));
    }

    #[test]
    fn the_watchdog_acts_when_a_message_overruns_its_budget() {
        let fired = Arc::new(AtomicBool::new(false));
        let flag = fired.clone();
        let dog = Watchdog::start(Duration::from_millis(20), move || {
            flag.store(true, Ordering::SeqCst)
        });
        dog.watch(None, || {
            let until = Instant::now() + Duration::from_secs(5);
            while !fired.load(Ordering::SeqCst) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        assert!(fired.load(Ordering::SeqCst));
    }

    #[test]
    fn the_watchdog_leaves_alone_messages_handled_within_budget_and_idle_time() {
        let fired = Arc::new(AtomicBool::new(false));
        let flag = fired.clone();
        let dog = Watchdog::start(Duration::from_millis(50), move || {
            flag.store(true, Ordering::SeqCst)
        });
        for _ in 0..5 {
            dog.watch(None, || ());
        }
        // Idle far beyond the budget, no message in hand.
        std::thread::sleep(Duration::from_millis(300));
        assert!(!fired.load(Ordering::SeqCst));
    }

    #[test]
    fn a_stop_asked_for_during_a_slow_message_is_honoured_after_the_grace_with_its_mark() {
        let stopped: Arc<Mutex<Option<Option<PathBuf>>>> = Arc::default();
        let seen = stopped.clone();
        let asked = Arc::new(AtomicBool::new(false));
        let asked_too = asked.clone();
        let dog = Watchdog::start_stoppable(
            Duration::from_secs(60),
            move || asked_too.load(Ordering::SeqCst),
            || panic!("no overrun within 60 s"),
            move |mark| *seen.lock().unwrap() = Some(mark),
        );
        // A quick message while a stop is asked for: finished, not cut.
        asked.store(true, Ordering::SeqCst);
        dog.watch(None, || ());
        assert!(stopped.lock().unwrap().is_none());
        // A slow one: cut after the grace, handing over its mark.
        let mark = Path::new("/nonexistent/mark");
        dog.watch(Some(mark), || {
            let until = Instant::now() + Duration::from_secs(10);
            while stopped.lock().unwrap().is_none() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        assert_eq!(*stopped.lock().unwrap(), Some(Some(mark.to_path_buf())));
    }
}
