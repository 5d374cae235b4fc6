//! What each CLI command does, wired from the edges: config in, store and
//! transports opened, the engine handed over.
//!
//! Owns the operator-facing output of each command. Never holds product
//! logic: that lives in the engine and the pure core.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::cli::{CliError, exit};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Inbound, Outbound};
use crate::daemon::Service;
use crate::engine::{Engine, EngineError};
use crate::inbound::{ImapError, ImapReader};
use crate::outbound::{FileTransport, SmtpError, SmtpTransport, Transport};
use crate::store::Store;
use crate::understand::{self, Context, Kind, NoForms};

/// Opens the configured database, with its key when one is configured.
pub fn open_store(config: &Config) -> Result<Store, CliError> {
    let key = match &config.service.database_key_env {
        Some(var) => Some(std::env::var(var).map_err(|_| {
            CliError::Io(format!(
                "the database key is read from the environment variable {var} (service.database_key_env), which is not set; set it, or empty database_key_env to run without encryption"
            ))
        })?),
        None => None,
    };
    Ok(Store::open(&config.service.database, key.as_deref()).map_err(EngineError::from)?)
}

/// The transport the config names. Call it inside a Tokio runtime: the
/// SMTP pool runs a background task.
pub fn transport(config: &Config) -> Result<Box<dyn Transport>, CliError> {
    match &config.outbound {
        Outbound::File { dir } => Ok(Box::new(FileTransport::new(dir.clone()))),
        Outbound::Smtp(smtp) => Ok(Box::new(
            SmtpTransport::from_config(smtp).map_err(|e| CliError::Io(e.to_string()))?,
        )),
    }
}

/// Logs in to the relay once at start: a refused login stops the service
/// with the env var to fix; an unreachable relay is only a warning (the
/// queue waits and retries).
pub async fn verify_smtp(transport: &SmtpTransport) -> Result<(), CliError> {
    match transport.verify().await {
        Ok(()) => Ok(()),
        Err(e @ SmtpError::Unreachable { .. }) => {
            tracing::warn!(error = %e, "SMTP relay not reachable at start");
            Ok(())
        }
        Err(e) => Err(CliError::Io(e.to_string())),
    }
}

/// Logs in to the mailbox once at start: a refused login or a missing
/// folder stops the service with what to fix; an unreachable server is
/// only a warning (the reader keeps trying).
pub async fn verify_imap(reader: &ImapReader) -> Result<(), CliError> {
    match reader.verify().await {
        Ok(()) => Ok(()),
        Err(e @ (ImapError::Connect { .. } | ImapError::Session { .. })) => {
            tracing::warn!(error = %e, "IMAP server not reachable at start");
            Ok(())
        }
        Err(e) => Err(CliError::Io(e.to_string())),
    }
}

/// `coachmail parse`: one JSON line per message, nothing written.
pub fn parse(config: Config, files: &[PathBuf]) -> Result<u8, CliError> {
    let store = if config.service.database.exists() {
        Store::open_read_only(&config.service.database).ok()
    } else {
        None
    };
    let forms: &dyn understand::Forms = match &store {
        Some(s) => s,
        None => &NoForms,
    };
    let ctx = Context {
        config: &config,
        forms,
        now: Utc::now(),
    };
    let limit = config.auth.max_message_bytes;
    let emit = |raw: &[u8]| -> Result<(), CliError> {
        let u = understand::understand(raw, &ctx);
        let line = serde_json::to_string(&u).map_err(|e| CliError::Io(e.to_string()))?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")
            .map_err(|e| CliError::Io(format!("cannot write to standard output: {e}")))
    };
    if files.is_empty() {
        let raw = crate::inbound::read_stdin(limit).map_err(|e| CliError::Io(e.to_string()))?;
        emit(&raw)?;
    }
    for file in files {
        match std::fs::File::open(file).and_then(|f| crate::inbound::read_bounded(f, limit)) {
            Ok(raw) => emit(&raw)?,
            Err(e) => {
                // Still one JSON line, so a batch run keeps its shape.
                let line = serde_json::json!({
                    "kind": "rejected",
                    "file": file.display().to_string(),
                    "reason": format!("cannot read the file: {e}"),
                });
                let raw = line.to_string();
                let mut out = std::io::stdout().lock();
                writeln!(out, "{raw}").map_err(|e| CliError::Io(e.to_string()))?;
            }
        }
    }
    Ok(exit::OK)
}

/// `coachmail check`: config, framework and templates; next times per PM.
pub fn check(config: Config) -> Result<u8, CliError> {
    let engine = Engine::new(config)?;
    let config = &engine.config;
    let now = SystemClock.now();
    println!(
        "config ok: {} ({} coaches, {} PMs, {} skills asked)",
        config.path.display(),
        config.coaches.len(),
        config.pms.len(),
        config.framework.active().count()
    );
    println!("templates ok: {}", config.service.templates.display());
    println!();
    println!(
        "{:<12} {:<22} {:<28} {:<28}",
        "PM", "time zone", "next form (local)", "next digest (local)"
    );
    for pm in &config.pms {
        let next = crate::schedule::next_times(now, config, pm);
        println!(
            "{:<12} {:<22} {:<28} {:<28}",
            pm.key,
            pm.timezone.name(),
            next.form.format("%a %Y-%m-%d %H:%M %Z").to_string(),
            next.digest.format("%a %Y-%m-%d %H:%M %Z").to_string(),
        );
    }
    Ok(exit::OK)
}

/// `coachmail ingest`: one message from standard input, sysexits.
pub fn ingest(config: Config) -> Result<u8, CliError> {
    let limit = config.auth.max_message_bytes;
    let raw = crate::inbound::read_stdin(limit).map_err(|e| CliError::Io(e.to_string()))?;
    let engine = Engine::new(config)?;
    let mut store = open_store(&engine.config)?;
    let receipt = engine.receive(&mut store, &raw, Utc::now())?;
    // A message that could not even be read as mail is recorded (above)
    // and reported as malformed so the MTA does not retry it.
    if receipt.kind == Kind::Rejected && raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(CliError::Malformed(
            "the message on standard input is empty; it was recorded and will not be retried"
                .into(),
        ));
    }
    Ok(exit::OK)
}

/// `coachmail run`: the service, until SIGTERM or Ctrl-C.
pub fn run_service(config: Config) -> Result<u8, CliError> {
    let engine = Engine::new(config)?;
    let mut store = open_store(&engine.config)?;
    store
        .sync_roster(&engine.config, Utc::now())
        .map_err(EngineError::from)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Io(format!("cannot start the runtime: {e}")))?;
    let _entered = runtime.enter();
    let transport: Box<dyn Transport> = match &engine.config.outbound {
        Outbound::Smtp(smtp) => {
            let t = SmtpTransport::from_config(smtp).map_err(|e| CliError::Io(e.to_string()))?;
            runtime.block_on(verify_smtp(&t))?;
            Box::new(t)
        }
        Outbound::File { .. } => transport(&engine.config)?,
    };
    let imap = match &engine.config.inbound {
        Inbound::Imap(cfg) => {
            let reader = ImapReader::from_config(cfg, engine.config.auth.max_message_bytes)
                .map_err(|e| CliError::Io(e.to_string()))?;
            runtime.block_on(verify_imap(&reader))?;
            Some(reader)
        }
        Inbound::Maildir { .. } | Inbound::None => None,
    };
    let mut service =
        Service::new(engine, store, transport).map_err(|e| CliError::Io(e.to_string()))?;
    if let Some(reader) = imap {
        service
            .spawn_imap(reader)
            .map_err(|e| CliError::Io(e.to_string()))?;
    }
    runtime.block_on(service.run(
        &SystemClock,
        std::time::Duration::from_secs(2),
        crate::daemon::shutdown_signal(),
    ));
    Ok(exit::OK)
}

/// `coachmail status`: the outbox at a glance.
pub fn status(config: Config) -> Result<u8, CliError> {
    let store = open_store(&config)?;
    let s = store.outbox_status(Utc::now()).map_err(EngineError::from)?;
    println!("pending: {} ({} due now)", s.pending, s.due);
    match s.oldest_pending_at {
        Some(t) => println!("oldest pending: {}", t.format("%Y-%m-%d %H:%M UTC")),
        None => println!("oldest pending: -"),
    }
    println!("dead letters: {}", s.dead_total);
    for (key, class, at) in &s.dead {
        println!("  {key}  {class}  {}", at.format("%Y-%m-%d %H:%M UTC"));
    }
    Ok(if s.dead_total > 0 { 1 } else { exit::OK })
}

/// `coachmail backup PATH`.
pub fn backup(config: Config, path: &Path) -> Result<u8, CliError> {
    let store = open_store(&config)?;
    store.backup(path).map_err(EngineError::from)?;
    println!("backup written to {}", path.display());
    Ok(exit::OK)
}

/// `coachmail demo`.
pub fn demo(config: Config, weeks: u32, pms: Option<u32>, dir: &Path) -> Result<u8, CliError> {
    let summary = crate::demo::run(config, weeks, pms, dir)?;
    println!("{summary}");
    Ok(exit::OK)
}
