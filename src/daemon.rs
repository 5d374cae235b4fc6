//! The running service: one loop that reads the inbox, queues what is due
//! and delivers the outbox, until asked to stop.
//!
//! Owns the order of a pass and clean shutdown: a stop request is honoured
//! between messages, never in the middle of one. Time comes from a
//! [`Clock`], so tests and `demo` move weeks in milliseconds.
//!
//! IMAP is read by its own task ([`ImapReader`]), which owns the network
//! side; the store stays on this loop (it is not `Sync`). The task sends
//! each raw message over a channel; this loop applies it, records the
//! IMAP position, and only then answers "committed" on the message's
//! oneshot, so the task acknowledges it to the server after the commit.

use std::future::Future;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::{Config, Inbound, Outbound};
use crate::engine::{Engine, EngineError, Forgotten, Receipt};
use crate::inbound::{
    EraseRequest, Handled, ImapError, ImapMessage, ImapReader, InboundError, Maildir,
    MaildirMessage,
};
use crate::outbound::{self, Delivered, FileTransport, SmtpError, SmtpTransport, Transport};
use crate::reply_key::Entropy;
use crate::store::{InboundFailure, Store, StoreError};
use crate::understand::Kind;
use crate::watchdog::{InFlight, Watchdog};

/// Logs go to standard error; `COACHMAIL_LOG` (or `RUST_LOG`) sets the
/// level, `default_level` otherwise; no colour codes unless standard error
/// is a terminal and `NO_COLOR` is unset; `COACHMAIL_LOG_FORMAT=json` writes
/// one JSON object per line. Safe to call twice.
pub fn init_logging(default_level: &str) {
    let filter = std::env::var("COACHMAIL_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| default_level.into());
    let filter = tracing_subscriber::EnvFilter::new(filter);
    let json = std::env::var("COACHMAIL_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json {
        let _ = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_target(false)
            .try_init();
        return;
    }
    // Colours only for a person at a terminal who has not asked for none
    // (a file, a pipe, journald or an MTA's log get plain text).
    use std::io::IsTerminal;
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Why the service could not be put together, or a pass stopped short.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Inbound(#[from] InboundError),
    #[error(transparent)]
    Smtp(#[from] SmtpError),
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error(
        "the database key is read from the environment variable {var} (service.database_key_env), which is not set; set it, or remove database_key_env to run without encryption"
    )]
    DatabaseKey { var: String },
}

impl ServiceError {
    /// The database is busy: a passing condition.
    pub fn is_busy(&self) -> bool {
        match self {
            ServiceError::Engine(e) => e.is_busy(),
            ServiceError::Store(e) => e.is_busy(),
            _ => false,
        }
    }

    /// The machine's trouble with the store (disk full, read-only, …),
    /// when this is one: see [`StoreError::machine_fault`].
    pub fn machine_fault(&self) -> Option<&'static str> {
        match self {
            ServiceError::Engine(EngineError::Store(e)) | ServiceError::Store(e) => {
                e.machine_fault()
            }
            _ => None,
        }
    }

    /// A fault the operator fixes in the configuration or its secrets.
    pub fn is_config(&self) -> bool {
        match self {
            ServiceError::Engine(e) => e.is_config(),
            ServiceError::Store(e) => e.is_config(),
            ServiceError::Smtp(e) => e.is_config(),
            ServiceError::Imap(e) => e.is_config(),
            ServiceError::DatabaseKey { .. } => true,
            ServiceError::Inbound(_) => false,
        }
    }
}

/// How many times a message is tried when its handling fails for a reason
/// of its own (a panic, an error that is not the machine's) before it is
/// quarantined: a deterministic fault fails the same way every time, and a
/// passing one has had three chances.
pub const QUARANTINE_AFTER: u32 = 3;

/// How trying to apply one message went.
#[derive(Debug)]
pub enum Attempt {
    /// Applied (or recognised as already applied).
    Applied(Receipt),
    /// The machine's fault or the configuration's (a busy or full or
    /// read-only store, a broken template): nothing was applied, and the
    /// message waits, uncounted, until the fault passes.
    Deferred(EngineError),
    /// The message's own fault: it panicked, or failed in a way no machine
    /// trouble explains. Nothing was applied; the attempt is counted
    /// towards [`QUARANTINE_AFTER`]. `reason` is content-free.
    Failed {
        reason: &'static str,
        error: Option<EngineError>,
    },
}

/// Whether an engine error is the message's own fault, and its class.
fn message_fault(e: &EngineError) -> Option<&'static str> {
    match e {
        EngineError::Store(s) if s.machine_fault().is_none() && !s.is_config() => Some("store"),
        _ => None,
    }
}

/// How many Maildir messages [`Service::read_inbox`] applies in one
/// transaction: a commit per message was most of a reply's cost, and 64
/// keep the write lock for well under a second.
pub const BATCH: usize = 64;

/// The messages [`Service::read_inbox`] applied in its open batch, their
/// files not moved yet; `single` once a batch was lost in this pass.
#[derive(Default)]
struct Batch {
    held: Vec<(MaildirMessage, Receipt)>,
    single: bool,
}

/// Applies one message, a panic included: a panicking message rolls its
/// transaction back and is reported as [`Attempt::Failed`], never takes
/// the process down.
pub fn attempt(engine: &Engine, store: &mut Store, raw: &[u8], now: DateTime<Utc>) -> Attempt {
    let run = std::panic::AssertUnwindSafe(|| engine.receive(store, raw, now));
    match std::panic::catch_unwind(run) {
        Ok(Ok(receipt)) => Attempt::Applied(receipt),
        Ok(Err(e)) => match message_fault(&e) {
            Some(reason) => Attempt::Failed {
                reason,
                error: Some(e),
            },
            None => Attempt::Deferred(e),
        },
        Err(_) => Attempt::Failed {
            reason: "panic",
            error: None,
        },
    }
}

/// [`attempt`] under the message's in-flight mark and, when one is given,
/// the watchdog's time budget. A message whose earlier try took its
/// process down (killed, out of memory, over its budget) is not tried
/// this time: that try is reported as [`Attempt::Failed`] (`interrupted`),
/// so a message that keeps taking the service down is quarantined after
/// [`QUARANTINE_AFTER`] instead of blocking everything behind it.
pub fn attempt_marked(
    engine: &Engine,
    store: &mut Store,
    inflight: &InFlight,
    watchdog: Option<&Watchdog>,
    raw: &[u8],
    now: DateTime<Utc>,
) -> Attempt {
    let hash = crate::understand::content_hash(raw);
    if inflight.take_orphan(&hash) {
        return Attempt::Failed {
            reason: "interrupted",
            error: None,
        };
    }
    let mark = inflight.begin(&hash);
    match watchdog {
        Some(dog) => dog.watch(mark.as_ref().map(|m| m.path()), || {
            attempt(engine, store, raw, now)
        }),
        None => attempt(engine, store, raw, now),
    }
}

/// What a caller may put in place of the configured parts when wiring a
/// [`Service`]: `demo` and the tests deliver through their own transport
/// and draw deterministic secrets; `run` takes everything from the config.
#[derive(Default)]
pub struct Parts {
    /// Deliver through this instead of the configured transport.
    pub transport: Option<Box<dyn Transport>>,
    /// Draw reply keys and codes from this instead of the OS.
    pub entropy: Option<Box<dyn Entropy + Send + Sync>>,
}

/// Opens the configured database, with its key when one is configured.
pub fn open_store(config: &Config) -> Result<Store, ServiceError> {
    let key = database_key(config)?;
    Ok(Store::open(&config.service.database, key.as_deref())?)
}

/// The database key from the environment variable the config names.
pub fn database_key(config: &Config) -> Result<Option<String>, ServiceError> {
    match &config.service.database_key_env {
        Some(var) => std::env::var(var)
            .map(Some)
            .map_err(|_| ServiceError::DatabaseKey { var: var.clone() }),
        None => Ok(None),
    }
}

/// The transport the config names. Call it inside a Tokio runtime: the
/// SMTP pool runs a background task.
pub fn configured_transport(config: &Config) -> Result<Box<dyn Transport>, ServiceError> {
    Ok(match &config.outbound {
        Outbound::File { dir } => Box::new(FileTransport::new(dir.clone())),
        Outbound::Smtp(smtp) => Box::new(SmtpTransport::from_config(smtp)?),
    })
}

/// The IMAP reader the config names, if replies come over IMAP.
pub fn configured_imap(config: &Config) -> Result<Option<ImapReader>, ServiceError> {
    Ok(match &config.inbound {
        Inbound::Imap(cfg) => Some(ImapReader::from_config(cfg, config.auth.max_message_bytes)?),
        Inbound::Maildir { .. } | Inbound::None => None,
    })
}

/// A request to stop, shared between the signal watcher and the loop. The
/// loop looks at it between messages, so a stop is honoured within one
/// message's work even in the middle of a long pass.
#[derive(Clone, Debug, Default)]
pub struct Stop(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Stop {
    pub fn request(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn requested(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Resolves once a stop was requested.
    pub async fn wait(self) {
        while !self.requested() {
            tokio::time::sleep(StdDuration::from_millis(50)).await;
        }
    }
}

/// Repeated warnings about the same condition, at most one a minute: the
/// first one, then one a minute with how many were held back, so a stuck
/// message does not write a line every pass.
#[derive(Debug, Default)]
struct Warnings {
    /// Condition → (when the last line was written, lines held back since).
    seen: std::collections::HashMap<&'static str, (DateTime<Utc>, u64)>,
}

impl Warnings {
    /// Whether to write the warning for `condition` at `now`, and how many
    /// were held back before it.
    fn allow(&mut self, condition: &'static str, now: DateTime<Utc>) -> Option<u64> {
        match self.seen.get_mut(condition) {
            Some((last, held)) if now - *last < chrono::Duration::minutes(1) => {
                *held += 1;
                None
            }
            Some((last, held)) => {
                let n = *held;
                *last = now;
                *held = 0;
                Some(n)
            }
            None => {
                self.seen.insert(condition, (now, 0));
                Some(0)
            }
        }
    }
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Inbound messages applied (duplicates included).
    pub received: usize,
    /// Idempotency keys of the scheduled mail queued.
    pub queued: Vec<String>,
    pub delivered: Delivered,
}

/// Everything the loop needs, wired.
pub struct Service {
    pub engine: Engine,
    pub store: Store,
    pub inbox: Option<Maildir>,
    /// Shared with the outbox courier while `run` runs.
    pub transport: std::sync::Arc<dyn Transport>,
    /// The minute of the last schedule tick: every slot is a whole minute,
    /// so the schedule is read at most once a minute however often the
    /// loop passes.
    last_tick: Option<i64>,
    /// Messages from the IMAP task, once [`Service::spawn_imap`] started it.
    pub imap: Option<mpsc::Receiver<ImapMessage>>,
    /// Asks the IMAP task to erase processed copies (after a forget).
    imap_erase: Option<mpsc::UnboundedSender<EraseRequest>>,
    stop: Stop,
    /// A forget happened: checkpoint once its notice is delivered.
    scrub_after_forget: bool,
    warnings: Warnings,
    /// Whether the health file may hold a fault to clear (at start: maybe).
    fault_recorded: bool,
    /// The machine's trouble a message met during this pass, if any.
    pass_fault: Option<&'static str>,
    /// Marks of the message in hand, beside the database.
    inflight: InFlight,
    /// The time budget of one message (`run` only: the tests and `demo`
    /// run without one).
    watchdog: Option<Watchdog>,
}

impl Service {
    /// The one way a service is put together, for `run`, `demo` and the
    /// tests alike: templates checked, the database opened (with its key)
    /// and its roster synced at `now`, the inbox and the transport the
    /// config names, unless `parts` replaces them. Call it inside a Tokio
    /// runtime when the config names SMTP.
    pub fn open(config: Config, now: DateTime<Utc>, parts: Parts) -> Result<Service, ServiceError> {
        let mut engine = Engine::new(config)?;
        if let Some(entropy) = parts.entropy {
            engine = engine.with_entropy(entropy);
        }
        let mut store = open_store(&engine.config)?;
        crate::store::prepare_health(&engine.config.service.database);
        store.sync_roster(&engine.config, now)?;
        let transport = match parts.transport {
            Some(t) => t,
            None => configured_transport(&engine.config)?,
        };
        Service::new(engine, store, transport)
    }

    /// Wires a service for `engine`'s config: opens the inbox it names.
    /// (IMAP is read by its own task; `none` means only `ingest`.)
    pub fn new(
        engine: Engine,
        store: Store,
        transport: Box<dyn Transport>,
    ) -> Result<Service, ServiceError> {
        let inbox = match &engine.config.inbound {
            Inbound::Maildir { dir } => Some(Maildir::open(dir)?),
            Inbound::Imap(_) | Inbound::None => None,
        };
        let engine_database = engine.config.service.database.clone();
        Ok(Service {
            engine,
            store,
            inbox,
            transport: std::sync::Arc::from(transport),
            last_tick: None,
            imap: None,
            imap_erase: None,
            stop: Stop::default(),
            scrub_after_forget: false,
            warnings: Warnings::default(),
            fault_recorded: true,
            pass_fault: None,
            inflight: InFlight::beside(&engine_database),
            watchdog: None,
        })
    }

    /// The same service, stopping when `stop` is requested (a handle made
    /// before the service, so a signal during start-up is not lost).
    pub fn stopping_on(mut self, stop: Stop) -> Service {
        self.stop = stop;
        self
    }

    /// The same service, handling each message under `watchdog`'s budget.
    pub fn watched_by(mut self, watchdog: Watchdog) -> Service {
        self.watchdog = Some(watchdog);
        self
    }

    /// The handle that asks this service to stop between two messages.
    pub fn stop_handle(&self) -> Stop {
        self.stop.clone()
    }

    /// Starts the IMAP task on the current Tokio runtime, from the position
    /// recorded in the store; it deletes processed messages past
    /// `retention_days` too. The task stops when this service is dropped.
    pub fn spawn_imap(
        &mut self,
        reader: ImapReader,
    ) -> Result<tokio::task::JoinHandle<()>, ServiceError> {
        let start = self.store.imap_position(&reader.mailbox())?;
        let reader = reader.with_retention_days(self.engine.config.service.retention_days);
        let (tx, rx) = mpsc::channel(64);
        let (erase_tx, erase_rx) = mpsc::unbounded_channel();
        self.imap = Some(rx);
        self.imap_erase = Some(erase_tx);
        Ok(tokio::spawn(reader.run(start, tx, erase_rx)))
    }

    /// Applies every message the IMAP task has handed over so far.
    pub fn read_imap(&mut self, now: DateTime<Utc>) -> Result<usize, ServiceError> {
        let mut count = 0;
        while let Some(msg) = self.imap.as_mut().and_then(|rx| rx.try_recv().ok()) {
            self.apply_imap(msg, now)?;
            count += 1;
        }
        Ok(count)
    }

    /// Applies one IMAP message; answers the task after the commit. A
    /// message that fails for its own reason is counted; once quarantined
    /// (its bytes kept in the store) the task is told it is done with it.
    pub fn apply_imap(&mut self, msg: ImapMessage, now: DateTime<Utc>) -> Result<(), ServiceError> {
        let receipt = match self.attempt(&msg.raw, now) {
            Attempt::Applied(receipt) => receipt,
            Attempt::Deferred(e) => {
                let _ = msg.done.send(Handled::Later);
                return Err(e.into());
            }
            Attempt::Failed { reason, error } => {
                let hash = crate::understand::content_hash(&msg.raw);
                let failure = InboundFailure {
                    msg_hash: &hash,
                    source: "imap",
                    file: None,
                    reason,
                    raw: Some(&msg.raw),
                };
                let count = self
                    .store
                    .record_inbound_failure(&failure, now, QUARANTINE_AFTER);
                let quarantined = matches!(count, Ok(c) if c.quarantined)
                    && self
                        .store
                        .record_imap_uid(&msg.mailbox, msg.uid_validity, msg.uid, now)
                        .is_ok();
                if quarantined {
                    warn!(
                        reason,
                        "an IMAP message failed every try and was quarantined"
                    );
                }
                // Quarantined: its bytes are in the store, the server's copy
                // is acknowledged like any handled message.
                let _ = msg.done.send(if quarantined {
                    Handled::Keep
                } else {
                    Handled::Later
                });
                // A failure of this message's own does not stop the pass:
                // the schedule and the rest of the mail go on, and the task
                // offers the message again later.
                if let Some(e) = error
                    && !quarantined
                    && let Some(held) = self.warnings.allow("imap-apply", now)
                {
                    warn!(
                        error = %e,
                        held_back = held,
                        "an IMAP message could not be applied; it will be tried again"
                    );
                }
                return Ok(count.map(|_| ())?);
            }
        };
        let recorded = self
            .store
            .record_imap_uid(&msg.mailbox, msg.uid_validity, msg.uid, now);
        // Refused and ignored mail keeps no copy: the task deletes it.
        let handled = match &recorded {
            Ok(()) if matches!(receipt.kind, Kind::Rejected | Kind::Ignored) => Handled::Discard,
            Ok(()) => Handled::Keep,
            Err(_) => Handled::Later,
        };
        // The task may be gone (shutdown): nothing to acknowledge then.
        let _ = msg.done.send(handled);
        recorded?;
        if let Some(f) = &receipt.forgotten {
            self.erase_traces(f)?;
            self.scrub_after_forget = true;
        }
        Ok(())
    }

    /// One pass at `now`: apply what arrived, queue what is due, deliver.
    /// (`run` delivers on its own task instead: see [`Service::run`].)
    pub async fn pass(&mut self, now: DateTime<Utc>) -> Result<Pass, ServiceError> {
        let mut pass = self.receive_and_queue(now)?;
        pass.delivered = self.deliver(now).await?;
        Ok(pass)
    }

    /// A pass without delivery: apply what arrived, queue what is due.
    pub fn receive_and_queue(&mut self, now: DateTime<Utc>) -> Result<Pass, ServiceError> {
        let mut pass = Pass {
            received: self.read_inbox(now)?,
            ..Pass::default()
        };
        pass.received += self.read_imap(now)?;
        let minute = now.timestamp().div_euclid(60);
        if self.last_tick != Some(minute) {
            pass.queued = self.engine.tick(&mut self.store, now)?;
            // One log line per purge, however much it removed.
            let files = self.retention_sweep(now)?;
            let raw = self
                .store
                .purge_raw(now, self.engine.config.service.retention_days)?;
            self.store
                .purge_failures(now, self.engine.config.service.retention_days)?;
            let outbox_rows = self
                .store
                .prune_sent(now, self.engine.config.service.outbox_keep_days)?;
            if raw + outbox_rows + files > 0 {
                info!(
                    raw_messages = raw,
                    processed_files = files,
                    outbox_rows,
                    "purged what is past retention"
                );
            }
            // A delivered "forgotten" notice keeps no address: once it is
            // out, its row is blank (delivery blanks it too), the
            // transport's copy of it is removed, and the WAL is
            // checkpointed, so no old page version still names the PM.
            let cleared = self.store.clear_forgotten_recipients()?;
            let scrub = self.scrub_after_forget && !self.store.forgotten_notice_pending()?;
            if scrub
                && let Err(e) = self
                    .transport
                    .forget(&self.store.delivered_forgotten_notices()?)
            {
                warn!(error = %e.kind(), "the transport's copy of a forgotten notice could not be removed");
            }
            if cleared > 0 || scrub {
                self.store.checkpoint()?;
                self.scrub_after_forget = false;
            }
            self.last_tick = Some(minute);
        }
        Ok(pass)
    }

    /// Applies every message waiting in the Maildir; each is moved to
    /// `cur/` only after its effects are committed. Up to [`BATCH`]
    /// messages share one transaction, each in its own savepoint (a message
    /// that fails or panics undoes its own writes only); their files move
    /// once that transaction commits. Should a message take the whole
    /// transaction down, the others in it are applied again at once, each
    /// in a transaction of its own, and so is the rest of the pass. A
    /// message that fails for its own reason is counted and, after
    /// [`QUARANTINE_AFTER`] failures, moved to the quarantine folder; it
    /// never holds up the messages behind it.
    pub fn read_inbox(&mut self, now: DateTime<Utc>) -> Result<usize, ServiceError> {
        let Some(inbox) = self.inbox.clone() else {
            return Ok(0);
        };
        let limit = self.engine.config.auth.max_message_bytes;
        let mut count = 0;
        let mut queue: std::collections::VecDeque<MaildirMessage> = inbox.pending()?.into();
        // Applied in the open batch, their files not moved yet.
        let mut batch = Batch::default();
        while let Some(msg) = queue.pop_front() {
            // Asked to stop: the rest waits, unread, for the next start.
            if self.stop.requested() {
                break;
            }
            let raw = match inbox.read(&msg, limit) {
                Ok(raw) => raw,
                Err(e) => {
                    self.settle(&inbox, &mut batch, &mut queue)?;
                    return Err(e.into());
                }
            };
            // The batch takes the write lock: busy, the rest waits for the
            // next pass.
            if !batch.single {
                self.store.begin_batch()?;
            }
            match self.attempt(&raw, now) {
                Attempt::Applied(receipt) => {
                    // A forget erases files: only once it is committed.
                    let forgot = receipt.forgotten.is_some();
                    batch.held.push((msg, receipt));
                    if forgot || batch.held.len() >= BATCH {
                        count += self.settle(&inbox, &mut batch, &mut queue)?;
                    }
                }
                // The database is busy: stop here, the rest waits for the next pass.
                Attempt::Deferred(e) if e.is_busy() => {
                    self.settle(&inbox, &mut batch, &mut queue)?;
                    return Err(e.into());
                }
                // The machine's trouble: the message stays in new/ and is
                // not blamed for it.
                Attempt::Deferred(e) => {
                    count += self.settle(&inbox, &mut batch, &mut queue)?;
                    if let EngineError::Store(s) = &e {
                        self.pass_fault = s.machine_fault().or(self.pass_fault);
                    }
                    if let Some(held) = self.warnings.allow("inbox-apply", now) {
                        warn!(
                            error = %e,
                            held_back = held,
                            "a message could not be applied; it stays in the Maildir"
                        )
                    }
                }
                Attempt::Failed { reason, error } => {
                    count += self.settle(&inbox, &mut batch, &mut queue)?;
                    self.maildir_message_failed(&inbox, &msg, &raw, reason, error, now)
                }
            }
        }
        count += self.settle(&inbox, &mut batch, &mut queue)?;
        Ok(count)
    }

    /// Commits the open batch, then moves the files of the messages it
    /// applied (refused and ignored mail keeps no copy at all) and erases
    /// what a forget left; returns how many. When the commit fails nothing
    /// moves: the messages go back to the front of `queue`, and the rest
    /// of the pass applies one message per transaction.
    fn settle(
        &mut self,
        inbox: &Maildir,
        batch: &mut Batch,
        queue: &mut std::collections::VecDeque<MaildirMessage>,
    ) -> Result<usize, ServiceError> {
        if self.store.end_batch().is_err() {
            batch.single = true;
            for (msg, _) in batch.held.drain(..).rev() {
                queue.push_front(msg);
            }
            return Ok(0);
        }
        let mut count = 0;
        for (msg, receipt) in batch.held.drain(..) {
            if matches!(receipt.kind, Kind::Rejected | Kind::Ignored) {
                inbox.discard(&msg)?;
            } else {
                inbox.acknowledge(&msg)?;
            }
            count += 1;
            if let Some(f) = &receipt.forgotten {
                self.erase_traces(f)?;
                self.scrub_after_forget = true;
            }
        }
        Ok(count)
    }

    fn attempt(&mut self, raw: &[u8], now: DateTime<Utc>) -> Attempt {
        attempt_marked(
            &self.engine,
            &mut self.store,
            &self.inflight,
            self.watchdog.as_ref(),
            raw,
            now,
        )
    }

    /// Keeps the health file beside the database current: the machine's
    /// trouble with the store when there is some (a busy database is not
    /// trouble), cleared after the next pass that went well.
    pub fn store_health(&mut self, fault: Option<&'static str>, now: DateTime<Utc>) {
        let database = &self.engine.config.service.database;
        match fault {
            Some("busy") => {}
            Some(class) => {
                crate::store::record_store_fault(database, class, now);
                self.fault_recorded = true;
            }
            None if self.fault_recorded => {
                crate::store::clear_store_fault(database);
                self.fault_recorded = false;
            }
            None => {}
        }
    }

    /// Counts a failure of a Maildir message and quarantines it after
    /// [`QUARANTINE_AFTER`]. A failure to count is only logged: the message
    /// stays in `new/` and the pass goes on.
    fn maildir_message_failed(
        &mut self,
        inbox: &Maildir,
        msg: &MaildirMessage,
        raw: &[u8],
        reason: &'static str,
        error: Option<EngineError>,
        now: DateTime<Utc>,
    ) {
        let hash = crate::understand::content_hash(raw);
        let file = msg.base_name();
        let failure = InboundFailure {
            msg_hash: &hash,
            source: "maildir",
            file: Some(&file),
            reason,
            raw: None,
        };
        let error = error.map(|e| e.to_string()).unwrap_or_default();
        match self
            .store
            .record_inbound_failure(&failure, now, QUARANTINE_AFTER)
        {
            Ok(count) if count.quarantined => match inbox.quarantine(msg) {
                Ok(_) => warn!(
                    id = count.id,
                    reason,
                    attempts = count.attempts,
                    "a message failed every try and was moved to the quarantine; `coachmail requeue` puts it back after a fix"
                ),
                Err(e) => {
                    warn!(error = %e, "a quarantined message could not be moved out of the inbox")
                }
            },
            Ok(count) => warn!(
                id = count.id,
                reason,
                attempts = count.attempts,
                error = %error,
                "a message failed; it will be tried again"
            ),
            Err(e) => {
                if let Some(held) = self.warnings.allow("inbox-count", now) {
                    warn!(error = %e, held_back = held, "a failed message could not be counted; it stays in the Maildir")
                }
            }
        }
    }

    /// After a PM was forgotten: their processed Maildir or IMAP messages
    /// and the transport's copies of their mail are deleted, and the WAL is
    /// checkpointed and truncated so no deleted page lingers in it. (The
    /// IMAP task erases on its own time; should the service stop first,
    /// retention removes those copies.)
    pub fn erase_traces(&self, f: &Forgotten) -> Result<(), ServiceError> {
        if let Some(inbox) = &self.inbox {
            let keys: std::collections::HashSet<&str> =
                f.inbound.iter().map(String::as_str).collect();
            inbox
                .remove_processed(|raw| keys.contains(crate::engine::dedup_key_of(raw).as_str()))?;
        }
        if let Some(imap) = &self.imap_erase
            && !f.inbound.is_empty()
        {
            let keys: std::collections::HashSet<String> = f.inbound.iter().cloned().collect();
            let message_ids = f
                .inbound
                .iter()
                .filter_map(|k| k.strip_prefix("mid:").map(str::to_string))
                .collect::<Vec<_>>();
            let _ = imap.send(EraseRequest {
                scan_all: message_ids.len() < f.inbound.len(),
                message_ids,
                matches: Box::new(move |raw| keys.contains(&crate::engine::dedup_key_of(raw))),
            });
        }
        if let Err(e) = self.transport.forget(&f.outbox) {
            warn!(error = %e.kind(), "the transport's copies of a forgotten PM's mail could not all be removed");
        }
        self.store.checkpoint().map_err(EngineError::from)?;
        info!("a forgotten PM's files erased");
        Ok(())
    }

    /// Retention beyond the database: processed Maildir messages whose raw
    /// copy expires, and the transport's copies of mail sent before the
    /// cutoff, are deleted; so are inbound-log rows older than retention.
    /// Returns how many processed messages were removed.
    fn retention_sweep(&mut self, now: DateTime<Utc>) -> Result<usize, ServiceError> {
        let (inbound, outbox) = self
            .store
            .retention_sweep(now, self.engine.config.service.retention_days)
            .map_err(EngineError::from)?;
        let mut files = 0;
        if !inbound.is_empty()
            && let Some(inbox) = &self.inbox
        {
            let keys: std::collections::HashSet<&str> =
                inbound.iter().map(String::as_str).collect();
            files = inbox
                .remove_processed(|raw| keys.contains(crate::engine::dedup_key_of(raw).as_str()))?;
        }
        if !outbox.is_empty()
            && let Err(e) = self.transport.forget(&outbox)
        {
            warn!(error = %e.kind(), "copies of mail past retention could not all be removed");
        }
        Ok(files)
    }

    /// Delivers what the outbox holds that is due.
    pub async fn deliver(&mut self, now: DateTime<Utc>) -> Result<Delivered, ServiceError> {
        let from = self.engine.config.service.address.clone();
        let mut total = Delivered::default();
        loop {
            let d = outbound::deliver_due(&self.store, &*self.transport, &from, now, 200)
                .await
                .map_err(EngineError::from)?;
            total.sent += d.sent;
            total.retrying += d.retrying;
            total.dead += d.dead;
            if d.sent + d.retrying + d.dead < 200 {
                return Ok(total);
            }
        }
    }

    /// Runs passes every `every` until `shutdown` resolves or a stop is
    /// requested. A failed pass is logged and retried on the next one (a
    /// busy database, a full disk). Mail from the IMAP task is applied as it
    /// arrives.
    ///
    /// The outbox is delivered by a courier on its own task with its own
    /// connection to the database ([`Store::reopen`]): a long inbox pass
    /// never holds delivery, and a relay that hangs never holds reading.
    /// The loop wakes the courier whenever it queued mail; the courier also
    /// looks every `every` (retries come due). On stop, the courier gets a
    /// second to finish the send in hand, then is cancelled: a message
    /// accepted but not yet marked sent goes again on the next start, with
    /// the same bytes and Message-ID.
    pub async fn run(
        &mut self,
        clock: std::sync::Arc<dyn Clock>,
        every: StdDuration,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        info!(pms = self.engine.config.pms.len(), "coachmail is running");
        let wake = std::sync::Arc::new(tokio::sync::Notify::new());
        let mut courier = match self.store.reopen() {
            Ok(store) => Some(tokio::spawn(
                Courier {
                    store: std::sync::Mutex::new(store),
                    transport: self.transport.clone(),
                    from: self.engine.config.service.address.clone(),
                    database: self.engine.config.service.database.clone(),
                }
                .run(clock.clone(), every, self.stop.clone(), wake.clone()),
            )),
            Err(e) => {
                warn!(error = %e, "the outbox courier could not open the database; delivering between passes instead");
                None
            }
        };
        let mut next_pass = tokio::time::Instant::now();
        loop {
            if self.stop.requested() {
                break;
            }
            if tokio::time::Instant::now() >= next_pass {
                let now = clock.now();
                let result = match courier {
                    Some(_) => self.receive_and_queue(now),
                    None => self.pass(now).await,
                };
                match result {
                    Ok(pass) => {
                        let fault = self.pass_fault.take();
                        self.store_health(fault, now);
                        if pass.received > 0 || !pass.queued.is_empty() {
                            wake.notify_one();
                        }
                    }
                    Err(e) => {
                        let fault = e.machine_fault().or(self.pass_fault.take());
                        self.store_health(fault, now);
                        if let Some(held) = self.warnings.allow("pass", now) {
                            warn!(error = %e, held_back = held, "pass failed; will try again");
                        }
                    }
                }
                next_pass = tokio::time::Instant::now() + every;
            }
            let incoming = async {
                match self.imap.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            let event = tokio::select! {
                _ = &mut shutdown => break,
                _ = self.stop.clone().wait() => break,
                _ = tokio::time::sleep_until(next_pass) => None,
                msg = incoming => Some(msg),
            };
            match event {
                None => {}
                Some(None) => {
                    warn!("the IMAP task stopped; replies are no longer read");
                    self.imap = None;
                }
                Some(Some(msg)) => {
                    let now = clock.now();
                    let applied = self
                        .apply_imap(msg, now)
                        .and_then(|()| self.read_imap(now).map(|_| ()));
                    if let Err(e) = applied {
                        warn!(error = %e, "applying IMAP mail failed; it will be fetched again");
                    }
                    // What it caused (a confirmation) goes out at once.
                    if courier.is_some() {
                        wake.notify_one();
                    } else if let Err(e) = self.deliver(now).await {
                        warn!(error = %e, "delivery failed; will try again");
                    }
                }
            }
        }
        self.stop.request();
        if let Some(mut handle) = courier.take()
            && tokio::time::timeout(StdDuration::from_secs(1), &mut handle)
                .await
                .is_err()
        {
            handle.abort();
            info!(
                "a delivery in hand was cut short by the stop; it is sent again on the next start"
            );
        }
        info!("stopped cleanly");
    }
}

/// The outbox courier of [`Service::run`]: delivers what is due on its own
/// task, through its own connection to the database, so delivery and
/// reading never wait on each other.
struct Courier {
    store: std::sync::Mutex<Store>,
    transport: std::sync::Arc<dyn Transport>,
    from: String,
    /// For the health file beside it.
    database: std::path::PathBuf,
}

impl Courier {
    async fn run(
        self,
        clock: std::sync::Arc<dyn Clock>,
        every: StdDuration,
        stop: Stop,
        wake: std::sync::Arc<tokio::sync::Notify>,
    ) {
        let mut warnings = Warnings::default();
        let mut fault_recorded = false;
        while !stop.requested() {
            let now = clock.now();
            match self.deliver(now, &stop).await {
                Ok(_) if fault_recorded => {
                    crate::store::clear_store_fault(&self.database);
                    fault_recorded = false;
                }
                Ok(_) => {}
                Err(e) => {
                    if let Some(class) = e.machine_fault().filter(|c| *c != "busy") {
                        crate::store::record_store_fault(&self.database, class, now);
                        fault_recorded = true;
                    }
                    if let Some(held) = warnings.allow("deliver", now) {
                        warn!(error = %e, held_back = held, "delivery failed; will try again");
                    }
                }
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(every) => {}
                _ = stop.clone().wait() => break,
            }
        }
    }

    /// Delivers everything due at `now`, in batches, until a stop.
    async fn deliver(&self, now: DateTime<Utc>, stop: &Stop) -> Result<Delivered, StoreError> {
        let mut total = Delivered::default();
        loop {
            let d =
                outbound::deliver_due(&self.store, &*self.transport, &self.from, now, 200).await?;
            total.sent += d.sent;
            total.retrying += d.retrying;
            total.dead += d.dead;
            if d.sent + d.retrying + d.dead < 200 || stop.requested() {
                return Ok(total);
            }
        }
    }
}

/// Watches for Ctrl-C and SIGTERM and turns either into `stop`. The
/// handlers are registered before this returns (so a signal during the
/// first pass is caught, never fatal); call it inside a Tokio runtime whose
/// worker threads keep running while the loop works, so a stop is seen in
/// the middle of a pass.
pub fn watch_signals(stop: Stop) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            info!("stop requested; stopping after the current message");
            stop.request();
        });
    }
    #[cfg(not(unix))]
    {
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            stop.request();
        });
    }
    Ok(())
}
