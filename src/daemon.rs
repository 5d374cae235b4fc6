//! The running service: one loop that reads the inbox, queues what is due
//! and delivers the outbox, until asked to stop.
//!
//! Owns the order of a pass and clean shutdown: a stop request is honoured
//! between messages, never in the middle of one. Time comes from a
//! [`Clock`], so tests and `demo` move weeks in milliseconds.

use std::future::Future;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::Inbound;
use crate::engine::{Engine, EngineError};
use crate::inbound::{InboundError, Maildir};
use crate::outbound::{self, Delivered, Transport};
use crate::store::Store;

/// Logs go to standard error; `COACHMAIL_LOG` (or `RUST_LOG`) sets the
/// level, `info` by default. Safe to call twice.
pub fn init_logging() {
    let filter = std::env::var("COACHMAIL_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Why a pass of the loop stopped short.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Inbound(#[from] InboundError),
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
    pub transport: Box<dyn Transport>,
    /// The minute of the last schedule tick: every slot is a whole minute,
    /// so the schedule is read at most once a minute however often the
    /// loop passes.
    last_tick: Option<i64>,
}

impl Service {
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
        Ok(Service {
            engine,
            store,
            inbox,
            transport,
            last_tick: None,
        })
    }

    /// One pass at `now`: apply what arrived, queue what is due, deliver.
    pub async fn pass(&mut self, now: DateTime<Utc>) -> Result<Pass, ServiceError> {
        let mut pass = Pass {
            received: self.read_inbox(now)?,
            ..Pass::default()
        };
        let minute = now.timestamp().div_euclid(60);
        if self.last_tick != Some(minute) {
            pass.queued = self.engine.tick(&mut self.store, now)?;
            let purged = self
                .store
                .purge_raw(now, self.engine.config.service.retention_days)
                .map_err(EngineError::from)?;
            if purged > 0 {
                info!(count = purged, "raw messages past retention purged");
            }
            self.last_tick = Some(minute);
        }
        pass.delivered = self.deliver(now).await?;
        Ok(pass)
    }

    /// Applies every message waiting in the Maildir; each is moved to
    /// `cur/` only after its effects are committed.
    pub fn read_inbox(&mut self, now: DateTime<Utc>) -> Result<usize, ServiceError> {
        let Some(inbox) = &self.inbox else {
            return Ok(0);
        };
        let limit = self.engine.config.auth.max_message_bytes;
        let mut count = 0;
        for msg in inbox.pending()? {
            let raw = inbox.read(&msg, limit)?;
            match self.engine.receive(&mut self.store, &raw, now) {
                Ok(_) => {
                    inbox.acknowledge(&msg)?;
                    count += 1;
                }
                // The database is busy: stop here, the rest waits for the next pass.
                Err(EngineError::Store(e)) if e.is_busy() => {
                    return Err(EngineError::Store(e).into());
                }
                // Anything else stays in new/ to be tried again, and does
                // not hold up the messages behind it.
                Err(e) => {
                    warn!(error = %e, "a message could not be applied; it stays in the Maildir")
                }
            }
        }
        Ok(count)
    }

    /// Delivers what the outbox holds that is due.
    pub async fn deliver(&mut self, now: DateTime<Utc>) -> Result<Delivered, ServiceError> {
        let from = self.engine.config.service.address.clone();
        let mut total = Delivered::default();
        loop {
            let d = outbound::deliver_due(&self.store, self.transport.as_ref(), &from, now, 200)
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

    /// Runs passes every `every` until `shutdown` resolves. A failed pass is
    /// logged and retried on the next one (a busy database, a full disk).
    pub async fn run(
        &mut self,
        clock: &dyn Clock,
        every: StdDuration,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        info!(pms = self.engine.config.pms.len(), "coachmail is running");
        loop {
            if let Err(e) = self.pass(clock.now()).await {
                warn!(error = %e, "pass failed; will try again");
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(every) => {}
            }
        }
        info!("stopped cleanly");
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
