//! What each operator command does, wired from the edges: config in, the
//! service put together by `daemon::Service::open`, the engine handed over.
//!
//! Owns the operator-facing output of each command (written so that a
//! closed standard output is an error, never a panic). Never holds product
//! logic: that lives in the engine and the pure core. Reads the time only
//! through `clock::SystemClock`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::{CliError, exit};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Outbound};
use crate::daemon::{self, Parts, Service, ServiceError};
use crate::engine::Engine;
use crate::inbound::{ImapError, ImapReader};
use crate::outbound::{SmtpError, SmtpTransport};
use crate::store::Store;
use crate::understand::{self, Context, Forms, Kind, MemoryForms};
use crate::watchdog::{self, InFlight, Watchdog};

/// Writes one line to standard output; a closed pipe is an error, not a panic.
macro_rules! say {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*).map_err(CliError::Output)
    };
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
}

/// Logs in to the relay once at start: a refused login stops the service
/// with the env var to fix; an unreachable relay is only a warning (the
/// queue waits and retries).
pub async fn verify_smtp(transport: &SmtpTransport) -> Result<(), ServiceError> {
    match transport.verify().await {
        Ok(()) => Ok(()),
        Err(e @ SmtpError::Unreachable { .. }) => {
            tracing::warn!(error = %e, "SMTP relay not reachable at start");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Logs in to the mailbox once at start: a refused login or a missing
/// folder stops the service with what to fix; an unreachable server is
/// only a warning (the reader keeps trying).
pub async fn verify_imap(reader: &ImapReader) -> Result<(), ServiceError> {
    match reader.verify().await {
        Ok(()) => Ok(()),
        Err(e @ (ImapError::Connect { .. } | ImapError::Session { .. })) => {
            tracing::warn!(error = %e, "IMAP server not reachable at start");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// `coachmail parse`: one JSON line per message, nothing written.
pub fn parse(config: Config, files: &[PathBuf]) -> Result<u8, CliError> {
    let store = if config.service.database.exists() {
        Store::open_read_only(&config.service.database).ok()
    } else {
        None
    };
    let none = MemoryForms::new();
    let forms: &dyn Forms = match &store {
        Some(s) => s,
        None => &none,
    };
    let ctx = Context {
        config: &config,
        forms,
        now: SystemClock.now(),
    };
    let limit = config.auth.max_message_bytes;
    let emit = |raw: &[u8]| -> Result<(), CliError> {
        let line = match understand::understand(raw, &ctx) {
            Ok(u) => serde_json::to_string(&u).unwrap_or_default(),
            Err(e) => serde_json::json!({
                "kind": "unknown",
                "reason": e.to_string(),
            })
            .to_string(),
        };
        say!("{line}")
    };
    if files.is_empty() {
        let raw = crate::inbound::read_stdin(limit)?;
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
                say!("{line}")?;
            }
        }
    }
    Ok(exit::OK)
}

/// `coachmail check`: config, framework, templates and every rule `run`
/// applies at start (transports, secrets in the environment); next times
/// per PM. Connects to nothing.
pub fn check(config: Config, json: bool) -> Result<u8, CliError> {
    let engine = Engine::new(config)?;
    let config = &engine.config;
    daemon::database_key(config)?;
    {
        let rt = runtime()?;
        let _entered = rt.enter();
        daemon::configured_transport(config)?;
        daemon::configured_imap(config)?;
    }
    let now = SystemClock.now();
    // What the store knows (pauses, skips), when there is a database: a
    // check never creates one.
    let facts = if config.service.database.exists() {
        Some(daemon::open_store(config)?.schedule_facts(config, now)?)
    } else {
        None
    };
    let paths = CheckPaths::of(config);
    let fmt = |t: chrono::DateTime<chrono_tz::Tz>| t.format("%a %Y-%m-%d %H:%M %Z").to_string();
    let mut rows = Vec::new();
    for pm in &config.pms {
        let slots = crate::schedule::next_times(now, config, pm);
        let pm_facts = facts.as_ref().and_then(|f| f.pms.get(&pm.key));
        let form = match pm_facts {
            Some(f) => crate::schedule::next_form_with(now, pm, f),
            None => Some(slots.form),
        };
        let paused_until = pm_facts
            .and_then(|f| f.paused.iter().find(|p| p.covers(now)))
            .map(|p| fmt(p.end().with_timezone(&pm.timezone)));
        let (digest, without) = crate::schedule::next_digest_with(now, config, pm, pm_facts);
        let one_on_one = crate::schedule::next_meeting(now, pm, pm_facts)
            .map(|m| fmt(m.at.with_timezone(&pm.timezone)));
        let rule = crate::schedule::rule_of(pm, pm_facts);
        let meetings = format!("{}, {}", rule.cadence, rule.slot);
        let warnings: Vec<String> = without
            .iter()
            .map(|t| {
                format!(
                    "no digest for the 1:1 of {}: no form goes out before it (the first form is {})",
                    fmt(*t),
                    form.map_or_else(|| "not within a year".to_string(), fmt)
                )
            })
            .collect();
        rows.push(CheckRow {
            pm: pm.key.clone(),
            coach: pm.coach.clone(),
            timezone: pm.timezone.name().to_string(),
            next_form: form.map(fmt),
            one_on_one: meetings,
            next_one_on_one: one_on_one,
            next_digest: digest.map(fmt),
            paused_until,
            warnings,
        });
    }
    if json {
        say!(
            "{}",
            serde_json::json!({
                "config": config.path,
                "ok": true,
                "paths": paths,
                "coaches": config.coaches.len(),
                "pms": rows,
                "skills_asked": config.framework.active().count(),
                "database_read": facts.is_some(),
            })
        )?;
        return Ok(exit::OK);
    }
    say!(
        "config ok: {} ({} coaches, {} PMs, {} skills asked)",
        config.path.display(),
        config.coaches.len(),
        config.pms.len(),
        config.framework.active().count()
    )?;
    say!("templates ok: {}", paths.templates.display())?;
    say!("framework:   {}", paths.framework.display())?;
    say!(
        "database:    {}{}",
        paths.database.display(),
        if facts.is_some() {
            ""
        } else {
            " (not created yet)"
        }
    )?;
    if let Some(d) = &paths.maildir {
        say!("maildir:     {}", d.display())?;
    }
    if let Some(d) = &paths.outbox {
        say!("outbox:      {}", d.display())?;
    }
    say!()?;
    say!(
        "{:<12} {:<22} {:<28} {:<28} {:<28}",
        "PM",
        "time zone",
        "next form (local)",
        "next 1:1 (local)",
        "next digest (local)"
    )?;
    for r in &rows {
        say!(
            "{:<12} {:<22} {:<28} {:<28} {:<28}",
            r.pm,
            r.timezone,
            r.next_form.as_deref().unwrap_or("none within a year"),
            r.next_one_on_one.as_deref().unwrap_or("none within a year"),
            r.next_digest.as_deref().unwrap_or("none within a year"),
        )?;
        if !r.one_on_one.starts_with("weekly") {
            say!("{:<12} 1:1s: {} (with {})", "", r.one_on_one, r.coach)?;
        }
        if let Some(until) = &r.paused_until {
            say!("{:<12} paused until {until}", "")?;
        }
        for w in &r.warnings {
            say!("{:<12} warning: {w}", "")?;
        }
    }
    Ok(exit::OK)
}

/// A scheduled send: when, what (`form` or `digest`), for which PM.
type NextSend = (chrono::DateTime<chrono::Utc>, &'static str, String);

/// How many of the next scheduled sends `status` prints.
const NEXT_SENDS_SHOWN: usize = 5;

/// The next form and digest of every PM, soonest first, as they will
/// really go out (pauses and skips honoured).
fn next_sends(
    config: &Config,
    store: &Store,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<NextSend>, CliError> {
    let facts = store.schedule_facts(config, now)?;
    let mut out = Vec::new();
    for pm in &config.pms {
        let f = facts.pms.get(&pm.key);
        let form = match f {
            Some(f) => crate::schedule::next_form_with(now, pm, f),
            None => Some(crate::schedule::next_times(now, config, pm).form),
        };
        if let Some(t) = form {
            out.push((t.with_timezone(&chrono::Utc), "form", pm.key.clone()));
        }
        if let (Some(t), _) = crate::schedule::next_digest_with(now, config, pm, f) {
            out.push((t.with_timezone(&chrono::Utc), "digest", pm.key.clone()));
        }
    }
    out.sort();
    Ok(out)
}

/// Every path the config resolved, as `check` prints them.
#[derive(serde::Serialize)]
struct CheckPaths {
    database: PathBuf,
    templates: PathBuf,
    framework: PathBuf,
    maildir: Option<PathBuf>,
    outbox: Option<PathBuf>,
}

impl CheckPaths {
    fn of(config: &Config) -> CheckPaths {
        CheckPaths {
            database: config.service.database.clone(),
            templates: config.service.templates.clone(),
            framework: config.service.framework.clone(),
            maildir: match &config.inbound {
                crate::config::Inbound::Maildir { dir } => Some(dir.clone()),
                _ => None,
            },
            outbox: match &config.outbound {
                Outbound::File { dir } => Some(dir.clone()),
                _ => None,
            },
        }
    }
}

/// One PM's line of `check`.
#[derive(serde::Serialize)]
struct CheckRow {
    pm: String,
    coach: String,
    timezone: String,
    next_form: Option<String>,
    /// The pairing's 1:1 rule in force (`weekly, Mon 10:00`).
    one_on_one: String,
    next_one_on_one: Option<String>,
    next_digest: Option<String>,
    paused_until: Option<String>,
    warnings: Vec<String>,
}

/// `coachmail ingest`: one message from standard input, sysexits. Every
/// local fault exits 75 (the MTA retries); a message that fails for a
/// reason of its own is counted, and on its third failure quarantined with
/// its bytes in the store and answered 0, so the MTA stops retrying it and
/// the operator can `requeue` it after a fix.
pub fn ingest(config: Config) -> Result<u8, CliError> {
    let database = config.service.database.clone();
    let now = SystemClock.now();
    let outcome = ingest_one(config, now);
    // What `status` reads even when the store cannot be written.
    match &outcome {
        Err(e) => match e.machine_fault() {
            Some("busy") | None => {}
            Some(class) => crate::store::record_store_fault(&database, class, now),
        },
        Ok(_) => {
            // Made while the disk has room, so a later fault is recorded
            // in place even on a full disk.
            crate::store::prepare_health(&database);
            crate::store::clear_store_fault(&database);
        }
    }
    outcome
}

fn ingest_one(config: Config, now: chrono::DateTime<chrono::Utc>) -> Result<u8, CliError> {
    let limit = config.auth.max_message_bytes;
    let raw = crate::inbound::read_stdin(limit)?;
    let engine = Engine::new(config)?;
    let mut store = daemon::open_store(&engine.config)?;
    let budget = engine.config.auth.message_time_budget;
    let watchdog = Watchdog::start(budget, watchdog::exit_on_overrun(budget));
    let inflight = InFlight::beside(&engine.config.service.database);
    let attempt =
        daemon::attempt_marked(&engine, &mut store, &inflight, Some(&watchdog), &raw, now);
    let receipt = match attempt {
        daemon::Attempt::Applied(receipt) => receipt,
        daemon::Attempt::Deferred(e) => return Err(e.into()),
        daemon::Attempt::Failed { reason, error } => {
            let hash = understand::content_hash(&raw);
            let failure = crate::store::InboundFailure {
                msg_hash: &hash,
                source: "ingest",
                file: None,
                reason,
                raw: Some(&raw),
            };
            let count = store.record_inbound_failure(&failure, now, daemon::QUARANTINE_AFTER)?;
            if count.quarantined {
                eprintln!(
                    "coachmail: the message failed {} times ({reason}) and is quarantined as {}; `coachmail requeue {}` tries it again after a fix",
                    count.attempts, count.id, count.id
                );
                return Ok(exit::OK);
            }
            return Err(CliError::MessageFailed {
                reason,
                attempts: count.attempts,
                limit: daemon::QUARANTINE_AFTER,
                detail: error.map(|e| format!(": {e}")).unwrap_or_default(),
            });
        }
    };
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

/// `coachmail requeue ID`: a quarantined message back where it is read
/// again — its Maildir file into `new/`; kept bytes into the Maildir, or
/// applied at once when replies do not come from a Maildir. Its failure
/// count starts again.
pub fn requeue(config: Config, id: i64) -> Result<u8, CliError> {
    let missing = || {
        CliError::Usage(format!(
            "there is no quarantined message {id}; `coachmail status` lists them"
        ))
    };
    if !config.service.database.exists() {
        return Err(missing());
    }
    let mut store = daemon::open_store(&config)?;
    let crate::store::QuarantinedMessage { entry: q, raw } =
        store.quarantined_message(id)?.ok_or_else(missing)?;
    let maildir = match &config.inbound {
        crate::config::Inbound::Maildir { dir } => Some(crate::inbound::Maildir::open(dir)?),
        _ => None,
    };
    match (&q.file, raw, maildir) {
        (Some(file), None, Some(inbox)) => {
            let path = inbox.requeue(file)?;
            store.release_quarantined(id)?;
            say!(
                "message {id} is back in {}; the service reads it on its next pass",
                path.display()
            )?;
        }
        (_, Some(raw), Some(inbox)) => {
            let unique = format!("requeued.{id}.{}", SystemClock.now().timestamp_millis());
            let path = inbox.deliver(&unique, &raw)?;
            store.release_quarantined(id)?;
            say!(
                "message {id} is back in {}; the service reads it on its next pass",
                path.display()
            )?;
        }
        (_, Some(raw), None) => {
            store.release_quarantined(id)?;
            let engine = Engine::new(config)?;
            let receipt = engine.receive(&mut store, &raw, SystemClock.now())?;
            say!(
                "message {id} applied ({:?}{})",
                receipt.kind,
                if receipt.duplicate {
                    ", already seen"
                } else {
                    ""
                }
            )?;
        }
        (_, None, _) => {
            return Err(CliError::Usage(format!(
                "message {id} came from the Maildir, but inbound.transport is not \"maildir\" any more, or its file is gone from the quarantine folder; put the file into the inbox's new/ by hand"
            )));
        }
    }
    Ok(exit::OK)
}

/// `coachmail run`: the service, until SIGTERM or Ctrl-C.
pub fn run_service(config: Config) -> Result<u8, CliError> {
    // One service per database: a second `run` refuses instead of racing
    // the first. The lock is the kernel's, so it goes with the process.
    let _lock = run_lock(&config.service.database)?;
    // One worker thread besides the loop: it watches for signals (and runs
    // the SMTP pool and IMAP tasks) while the loop works through a pass.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let _entered = runtime.enter();
    let stop = daemon::Stop::default();
    daemon::watch_signals(stop.clone()).map_err(CliError::Runtime)?;
    let imap = daemon::configured_imap(&config)?;
    let budget = config.auth.message_time_budget;
    let mut service = Service::open(config, SystemClock.now(), Parts::default())?
        .stopping_on(stop.clone())
        .watched_by({
            let stop = stop.clone();
            Watchdog::start_stoppable(
                budget,
                move || stop.requested(),
                watchdog::exit_on_overrun(budget),
                watchdog::exit_on_stop(),
            )
        });
    if let Outbound::Smtp(smtp) = &service.engine.config.outbound {
        runtime.block_on(verify_smtp(
            &SmtpTransport::from_config(smtp).map_err(ServiceError::from)?,
        ))?;
    }
    if let Some(reader) = imap {
        runtime.block_on(verify_imap(&reader))?;
        service.spawn_imap(reader)?;
    }
    runtime.block_on(service.run(
        std::sync::Arc::new(SystemClock),
        std::time::Duration::from_secs(2),
        stop.wait(),
    ));
    Ok(exit::OK)
}

/// Replies waiting in the Maildir longer than this need attention.
const WAITING_TOO_LONG_MINUTES: i64 = 10;

/// Holds `<database>.run.lock` for as long as the service runs.
fn run_lock(database: &Path) -> Result<std::fs::File, CliError> {
    let mut name = database.as_os_str().to_owned();
    name.push(".run.lock");
    let path = PathBuf::from(name);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| CliError::Lock {
            path: path.clone(),
            source,
        })?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| CliError::Lock {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(CliError::AlreadyRunning { path }),
        Err(std::fs::TryLockError::Error(source)) => Err(CliError::Lock { path, source }),
    }
}

/// `coachmail status`: what needs attention. Never creates a database.
pub fn status(config: Config, json: bool) -> Result<u8, CliError> {
    let now = SystemClock.now();
    let db = &config.service.database;
    if !db.exists() {
        if json {
            say!(
                "{}",
                serde_json::json!({ "database": null, "attention": false })
            )?;
        } else {
            say!(
                "no database yet at {} (`coachmail run`, `ingest` or `demo` creates it)",
                db.display()
            )?;
        }
        return Ok(exit::OK);
    }
    // The machine's trouble with the store: the last fault recorded beside
    // the database (readable when the database is not), whether the file
    // can be written now, and whether it opens at all.
    let last_fault = crate::store::last_store_fault(db);
    let mut not_writable = crate::store::probe_writable(db);
    let store = match daemon::open_store(&config) {
        Ok(store) => Some(store),
        Err(e) => match e.machine_fault() {
            Some(class) => {
                not_writable = not_writable.or(Some(class));
                match config.service.database_key_env {
                    None => Store::open_read_only(db).ok(),
                    Some(_) => None,
                }
            }
            None => return Err(e.into()),
        },
    };
    let age_min = |t: chrono::DateTime<chrono::Utc>| (now - t).num_minutes().max(0);
    let read = |store: &Store| -> Result<_, crate::store::StoreError> {
        Ok((
            Some(store.outbox_status(now)?),
            store.inbound_summary(now - chrono::Duration::days(7))?,
            store.quarantined()?,
        ))
    };
    let (outbox, inbound, quarantined) = match store.as_ref().map(read) {
        Some(Ok(read)) => read,
        // The machine's trouble (a full disk fails even reads): shown, not fatal.
        Some(Err(e)) if e.machine_fault().is_some() => {
            not_writable = not_writable.or(e.machine_fault());
            (None, Vec::new(), Vec::new())
        }
        Some(Err(e)) => return Err(e.into()),
        None => (None, Vec::new(), Vec::new()),
    };
    // Replies waiting in the Maildir: how many, and how long the oldest waits.
    let (waiting, oldest_wait) = match &config.inbound {
        crate::config::Inbound::Maildir { dir } => {
            let new = dir.join("new");
            let mut count = 0u64;
            let mut oldest: Option<std::time::SystemTime> = None;
            for e in std::fs::read_dir(&new).into_iter().flatten().flatten() {
                if e.file_name().to_string_lossy().starts_with('.') {
                    continue;
                }
                count += 1;
                if let Ok(t) = e.metadata().and_then(|m| m.modified()) {
                    oldest = Some(oldest.map_or(t, |o| o.min(t)));
                }
            }
            let age = oldest
                .and_then(|t| t.elapsed().ok())
                .map(|d| (d.as_secs() / 60) as i64);
            (count, age)
        }
        _ => (0, None),
    };
    let stuck = oldest_wait.is_some_and(|m| m >= WAITING_TOO_LONG_MINUTES);
    let dead_total = outbox.as_ref().map_or(0, |o| o.dead_total);
    let attention = dead_total > 0
        || stuck
        || !quarantined.is_empty()
        || last_fault.is_some()
        || not_writable.is_some()
        || outbox.is_none();
    // The next sends, when the store could be read.
    let next = match &store {
        Some(store) => next_sends(&config, store, now).unwrap_or_default(),
        None => Vec::new(),
    };
    if json {
        let outbox = outbox.map(|outbox| {
            let dead: Vec<_> = outbox
                .dead
                .iter()
                .map(|(key, class, at)| serde_json::json!({"key": key, "class": class, "at": at}))
                .collect();
            serde_json::json!({
                "pending": outbox.pending,
                "due": outbox.due,
                "oldest_pending_at": outbox.oldest_pending_at,
                "dead_letters": outbox.dead_total,
                "dead": dead,
            })
        });
        let quarantine: Vec<_> = quarantined
            .iter()
            .map(|q| {
                serde_json::json!({
                    "id": q.id,
                    "source": q.source,
                    "reason": q.reason,
                    "attempts": q.attempts,
                    "quarantined_at": q.quarantined_at,
                    "age_minutes": age_min(q.quarantined_at),
                })
            })
            .collect();
        say!(
            "{}",
            serde_json::json!({
                "database": db.display().to_string(),
                "attention": attention,
                "store": {
                    "readable": outbox.is_some(),
                    "not_writable": not_writable,
                    "last_error": last_fault.as_ref().map(|(at, class)| serde_json::json!({
                        "class": class, "at": at, "age_minutes": age_min(*at),
                    })),
                },
                "outbox": outbox,
                "inbox": { "waiting": waiting, "oldest_waiting_minutes": oldest_wait },
                "quarantine": quarantine,
                "inbound_last_7_days": inbound,
                "next_sends": next
                    .iter()
                    .map(|(at, kind, pm)| serde_json::json!({"at": at, "kind": kind, "pm": pm}))
                    .collect::<Vec<_>>(),
            })
        )?;
    } else {
        match (&last_fault, not_writable) {
            (None, None) => say!("store: ok")?,
            (Some((at, class)), _) => say!(
                "store: last error {class}, {} min ago ({}){}",
                age_min(*at),
                at.format("%Y-%m-%d %H:%M UTC"),
                not_writable
                    .map(|c| format!("; not writable now: {c}"))
                    .unwrap_or_default()
            )?,
            (None, Some(class)) => say!("store: not writable now: {class}")?,
        }
        match &outbox {
            Some(outbox) => {
                say!("pending: {} ({} due now)", outbox.pending, outbox.due)?;
                match outbox.oldest_pending_at {
                    Some(t) => say!("oldest pending: {}", t.format("%Y-%m-%d %H:%M UTC"))?,
                    None => say!("oldest pending: -")?,
                }
                say!("dead letters: {}", outbox.dead_total)?;
                for (key, class, at) in &outbox.dead {
                    say!("  {key}  {class}  {}", at.format("%Y-%m-%d %H:%M UTC"))?;
                }
            }
            None => say!("pending: unknown (the database cannot be read)")?,
        }
        match oldest_wait {
            Some(m) => say!("waiting in the inbox: {waiting} (oldest {m} min)")?,
            None => say!("waiting in the inbox: {waiting}")?,
        }
        say!("quarantined: {}", quarantined.len())?;
        for q in &quarantined {
            say!(
                "  {:>5}  {:<7}  {:<6}  {} tries  {} min ago",
                q.id,
                q.source,
                q.reason,
                q.attempts,
                age_min(q.quarantined_at)
            )?;
        }
        say!("next sends:")?;
        if next.is_empty() {
            say!("  none within a year")?;
        }
        for (at, kind, pm) in next.iter().take(NEXT_SENDS_SHOWN) {
            say!("  {}  {kind:<6}  {pm}", at.format("%Y-%m-%d %H:%M UTC"))?;
        }
        if next.len() > NEXT_SENDS_SHOWN {
            say!(
                "  … and {} more (`coachmail check` lists every PM)",
                next.len() - NEXT_SENDS_SHOWN
            )?;
        }
        say!("inbound, last 7 days:")?;
        if inbound.is_empty() {
            say!("  none")?;
        }
        for c in &inbound {
            say!(
                "  {:>6}  {:<10}  {}",
                c.count,
                c.kind,
                c.reason.as_deref().unwrap_or("")
            )?;
        }
        if stuck {
            say!(
                "attention: replies have waited {} min or more; check the log for the store or inbox error",
                WAITING_TOO_LONG_MINUTES
            )?;
        }
        if !quarantined.is_empty() {
            say!(
                "attention: quarantined messages failed every try; fix the cause (the log says it), then `coachmail requeue ID`"
            )?;
        }
        if last_fault.is_some() || not_writable.is_some() {
            say!(
                "attention: the store cannot be written; free disk space or fix the permissions of {}",
                db.display()
            )?;
        }
    }
    Ok(if attention { 1 } else { exit::OK })
}

/// `coachmail backup PATH`: never creates a database, only copies one.
pub fn backup(config: Config, path: &Path) -> Result<u8, CliError> {
    if !config.service.database.exists() {
        return Err(CliError::Malformed(format!(
            "there is no database at {} to back up yet (`coachmail run`, `ingest` or `demo` creates it)",
            config.service.database.display()
        )));
    }
    let store = daemon::open_store(&config)?;
    store.backup(path)?;
    say!("backup written to {}", path.display())?;
    Ok(exit::OK)
}

/// The PM with this key, or a usage error that lists the roster.
fn roster_pm(config: &Config, pm: &str) -> Result<crate::config::Pm, CliError> {
    config.pm(pm).cloned().ok_or_else(|| {
        let keys: Vec<&str> = config.pms.iter().map(|p| p.key.as_str()).collect();
        CliError::Usage(format!(
            "there is no PM `{pm}` in {}; the PMs are: {}",
            config.path.display(),
            keys.join(", ")
        ))
    })
}

/// `coachmail sample-reply PM`: a reply to the PM's latest form, as their
/// mail client would write it, dropped into the Maildir inbox.
pub fn sample_reply(config: Config, pm: &str, score: u8) -> Result<u8, CliError> {
    let known = roster_pm(&config, pm)?;
    let crate::config::Inbound::Maildir { dir } = &config.inbound else {
        return Err(CliError::Usage(
            "sample-reply writes into the Maildir inbox, and inbound.transport is not \"maildir\""
                .into(),
        ));
    };
    let no_form = || {
        CliError::Usage(format!(
            "{} has no form yet; send one first with `coachmail send-form {}`",
            known.key, known.key
        ))
    };
    if !config.service.database.exists() {
        return Err(no_form());
    }
    let store = daemon::open_store(&config)?;
    let week = Forms::latest_week(&store, &known.key)
        .map_err(|e| CliError::Engine(e.into()))?
        .ok_or_else(no_form)?;
    let key = store.reply_key_for(&known.key, week)?.ok_or_else(no_form)?;
    let now = SystemClock.now();
    let address = &config.service.address;
    let form = crate::replies::FormHeaders {
        message_id: store.form_message_id(&known.key, week)?.unwrap_or_default(),
        reply_to: crate::reply_key::reply_address(address, &key),
        subject: format!("{} — your week of {}", config.service.name, week.dates()),
        text: String::new(),
        date: Some(now),
    };
    let content = crate::replies::ReplyContent {
        scores: config
            .framework
            .active()
            .map(|s| (s.name.clone(), s.key.clone(), score))
            .collect(),
        note: "A sample reply written by `coachmail sample-reply`.".into(),
    };
    let unique = format!("sample.{}.{}", known.key, now.timestamp_millis());
    let bytes = crate::replies::compose(
        crate::replies::ClientShape::OutlookTopPost,
        &form,
        (&known.name, &known.email),
        &content,
        now,
        &unique,
    );
    let inbox = crate::inbound::Maildir::open(dir)?;
    let path = inbox.deliver(&unique, &bytes)?;
    say!(
        "a reply from {} for the week of {} is waiting in {}; `coachmail run` reads it within seconds",
        known.key,
        week.dates(),
        path.display()
    )?;
    Ok(exit::OK)
}

/// `coachmail send-form PM`: this week's form for one PM, queued under the
/// schedule's own key and delivered at once.
pub fn send_form(config: Config, pm: &str) -> Result<u8, CliError> {
    let known = roster_pm(&config, pm)?;
    let runtime = runtime()?;
    let _entered = runtime.enter();
    let now = SystemClock.now();
    let mut service = Service::open(config, now, Parts::default())?;
    match service
        .engine
        .send_form_now(&mut service.store, &known, now)?
    {
        Some(key) => {
            let delivered = runtime.block_on(service.deliver(now))?;
            say!(
                "{key}: queued for {} ({} delivered now; `coachmail run` retries anything pending)",
                known.key,
                delivered.sent
            )?;
        }
        None => say!(
            "{}: this week's form was already sent; nothing sent again",
            known.key
        )?,
    }
    Ok(exit::OK)
}

/// `coachmail demo`.
pub fn demo(config: Config, weeks: u32, pms: Option<u32>, dir: &Path) -> Result<u8, CliError> {
    let summary = crate::demo::run(config, weeks, pms, dir)?;
    say!("{summary}")?;
    Ok(exit::OK)
}
