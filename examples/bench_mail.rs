//! Throughput against the project's test mail servers (see
//! `scripts/bench-mail.sh`, which starts them and runs this).
//!
//! ```text
//! bench_mail smtp N POOL [starttls]   N forms through Postfix, POOL connections
//! bench_mail imap N                   N replies picked up over IMAP and applied
//! ```
//!
//! Reads the servers' env file from `COACHMAIL_TEST_MAIL_ENV`. Prints one
//! line: `smtp pool=4 n=10000 secs=… msgs_per_sec=…`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration as StdDuration, Instant};

use chrono::Utc;
use coachmail::config::{Config, Imap, Smtp, Tls};
use coachmail::daemon::Service;
use coachmail::engine::Engine;
use coachmail::inbound::ImapReader;
use coachmail::outbound::{self, FileTransport, SmtpTransport};
use coachmail::store::{NewOutbound, Store};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn env_vars() -> Result<HashMap<String, String>> {
    let path = std::env::var("COACHMAIL_TEST_MAIL_ENV")
        .map_err(|_| "set COACHMAIL_TEST_MAIL_ENV (scripts/bench-mail.sh does)")?;
    Ok(std::fs::read_to_string(path)?
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

fn var<'a>(vars: &'a HashMap<String, String>, key: &str) -> Result<&'a str> {
    Ok(vars
        .get(key)
        .ok_or_else(|| format!("{key} missing from the env file"))?)
}

/// A form-sized message (about 4 KB, like the rendered form).
fn form_bytes(i: usize, to: &str) -> Vec<u8> {
    let mut body = String::new();
    for line in 0..60 {
        body.push_str(&format!(
            "Skill {line}: how did it go this week? 1 = not at all, 5 = great\r\n"
        ));
    }
    format!(
        "From: PM Pulse <pulse@example.org>\r\nTo: <{to}>\r\nSubject: PM Pulse - your week 2026-W10 reflection\r\n\
         Message-ID: <bench-{i}@example.org>\r\nAuto-Submitted: auto-generated\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    )
    .into_bytes()
}

async fn bench_smtp(vars: &HashMap<String, String>, n: usize, pool: u32, tls: bool) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(&dir.path().join("bench.db"), None)?;
    let now = Utc::now();
    let users = ["alice", "bruno", "maya", "tom"];
    let tx = store.transaction()?;
    for i in 0..n {
        let to = format!("{}@example.org", users[i % users.len()]);
        let key = format!("form:bench{i}:2026-W10");
        tx.enqueue(
            &NewOutbound {
                key: &key,
                kind: "form",
                pm: None,
                recipient: &to,
                bytes: &form_bytes(i, &to),
            },
            now,
        )?;
    }
    tx.commit()?;
    let cfg = Smtp {
        host: "127.0.0.1".into(),
        port: var(
            vars,
            if tls {
                "MAIL_SUBMISSION_PORT"
            } else {
                "MAIL_SMTP_PORT"
            },
        )?
        .parse()?,
        tls: if tls { Tls::StartTls } else { Tls::None },
        user: tls.then(|| "pulse".to_string()),
        password_env: tls.then(|| "MAIL_PASSWORD_pulse".to_string()),
        pool,
        concurrency: pool,
        per_minute: 10_000_000,
        ca_cert: Some(PathBuf::from(var(vars, "MAIL_CA_CERT")?)),
        timeout_seconds: 30,
    };
    let password = tls
        .then(|| var(vars, "MAIL_PASSWORD_pulse").map(str::to_string))
        .transpose()?;
    let transport = SmtpTransport::new(&cfg, password)?;
    transport.verify().await?;
    let start = Instant::now();
    let mut sent = 0;
    loop {
        let d = outbound::deliver_due(&store, &transport, "pulse@example.org", now, 500).await?;
        sent += d.sent;
        if d.retrying + d.dead > 0 {
            return Err(format!("{} deferred, {} dead", d.retrying, d.dead).into());
        }
        if d.sent == 0 {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "smtp{} pool={pool} n={sent} secs={secs:.2} msgs_per_sec={:.0}",
        if tls { "+starttls+auth" } else { "" },
        sent as f64 / secs
    );
    Ok(())
}

/// A reply from Alice with every skill scored, as a new message.
fn reply_bytes(i: usize) -> Vec<u8> {
    format!(
        "From: Alice Martin <alice@example.org>\r\nTo: <pulse@example.org>\r\n\
         Subject: Re: my week\r\nMessage-ID: <bench-reply-{i}@example.org>\r\n\
         Date: Fri, 06 Mar 2026 16:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Strategy: 4\r\nDiscovery: 3\r\nDelivery: 4 (shipped the beta)\r\nStakeholders: 2\r\n\
         Communication: 4\r\nData: 3\r\nTechnical: 5\r\nLeadership: 3\r\n\r\n\
         A calmer week, reply number {i}.\r\n"
    )
    .into_bytes()
}

/// Puts `n` replies straight into the service's Maildir (the setup, not
/// timed), as Postfix's virtual delivery would.
fn fill_mailbox(maildir: &Path, n: usize) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::fs::chown;
    // A mailbox nothing was delivered to yet does not exist: made here,
    // owned like the folder that holds every user's mailbox.
    let root = maildir.parent().ok_or("a mailbox has a parent folder")?;
    let owner = std::fs::metadata(root)?;
    for sub in ["", "new", "cur", "tmp"] {
        let d = maildir.join(sub);
        if !d.exists() {
            std::fs::create_dir_all(&d)?;
            chown(&d, Some(owner.uid()), Some(owner.gid()))?;
        }
    }
    for sub in ["new", "cur"] {
        for e in std::fs::read_dir(maildir.join(sub))? {
            std::fs::remove_file(e?.path())?;
        }
    }
    for i in 0..n {
        let name = format!("{}.B{i}.bench", 1_700_000_000 + i);
        let tmp = maildir.join("tmp").join(&name);
        std::fs::write(&tmp, reply_bytes(i))?;
        chown(&tmp, Some(owner.uid()), Some(owner.gid()))?;
        std::fs::rename(&tmp, maildir.join("new").join(&name))?;
    }
    Ok(())
}

async fn bench_imap(vars: &HashMap<String, String>, n: usize) -> Result<()> {
    let maildir = Path::new(var(vars, "MAIL_MAILDIR_ROOT")?).join("pulse");
    fill_mailbox(&maildir, n)?;
    let dir = tempfile::tempdir()?;
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped = std::fs::read_to_string(repo.join("config/coachmail.toml"))?;
    let text = shipped
        .replace(
            "framework = \"framework.toml\"",
            &format!("framework = {:?}", repo.join("config/framework.toml")),
        )
        .replace(
            "templates = \"../templates\"",
            &format!("templates = {:?}", repo.join("templates")),
        )
        .replace("require_reply_key = true", "require_reply_key = false")
        .replace(
            "replies_per_sender_per_hour = 10 ",
            "replies_per_sender_per_hour = 1000000 ",
        );
    std::fs::create_dir_all(dir.path().join("config"))?;
    // The shipped config keeps its database and inbox in ../var.
    std::fs::create_dir_all(dir.path().join("var"))?;
    let path = dir.path().join("config/coachmail.toml");
    std::fs::write(&path, text)?;
    let config = Config::load(&path)?;
    let engine = Engine::new(config)?;
    let mut store = Store::open(&engine.config.service.database, None)?;
    store.sync_roster(&engine.config, Utc::now())?;
    let imap = Imap {
        host: "127.0.0.1".into(),
        port: var(vars, "MAIL_IMAPS_PORT")?.parse()?,
        tls: Tls::Implicit,
        user: "pulse".into(),
        password_env: "MAIL_PASSWORD_pulse".into(),
        folder: "INBOX".into(),
        processed_folder: None,
        idle: true,
        poll_seconds: 60,
        ca_cert: Some(PathBuf::from(var(vars, "MAIL_CA_CERT")?)),
        timeout_seconds: 60,
    };
    let reader = ImapReader::new(
        &imap,
        var(vars, "MAIL_PASSWORD_pulse")?.to_string(),
        engine.config.auth.max_message_bytes,
    )?;
    let transport = FileTransport::new(dir.path().join("outbox"));
    let mut service = Service::new(engine, store, Box::new(transport))?;
    let start = Instant::now();
    service.spawn_imap(reader)?;
    let mut applied = 0;
    let deadline = start + StdDuration::from_secs(900);
    while applied < n && Instant::now() < deadline {
        let Some(rx) = service.imap.as_mut() else {
            break;
        };
        let Some(first) = rx.recv().await else {
            break;
        };
        // Apply as the daemon does: the first, then whatever else is queued.
        let now = Utc::now();
        service.apply_imap(first, now)?;
        applied += 1 + service.read_imap(now)?;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "imap n={applied} secs={secs:.2} msgs_per_sec={:.0}",
        applied as f64 / secs
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let run = async {
        let vars = env_vars()?;
        let n: usize = args.get(1).map_or(Ok(10_000), |s| s.parse())?;
        match args.first().map(String::as_str) {
            Some("smtp") => {
                let pool: u32 = args.get(2).map_or(Ok(4), |s| s.parse())?;
                let tls = args.get(3).is_some_and(|s| s == "starttls");
                bench_smtp(&vars, n, pool, tls).await
            }
            Some("imap") => bench_imap(&vars, n).await,
            _ => Err("usage: bench_mail smtp N POOL [starttls] | bench_mail imap N".into()),
        }
    };
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Into::into)
        .and_then(|rt: tokio::runtime::Runtime| rt.block_on(run));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_mail: {e}");
            ExitCode::FAILURE
        }
    }
}
