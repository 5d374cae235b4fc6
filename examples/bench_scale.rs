//! A deployment at scale for `scripts/bench-scale.sh`: builds many PMs with
//! years of weekly answers through the store's own code in one transaction
//! (not through the simulated clock), then measures the passes a service
//! makes over it.
//!
//! ```text
//! bench_scale build DIR PMS YEARS   config, framework and database in DIR
//! bench_scale passes DIR            start-up, the digest pass, an idle pass
//! bench_scale replies DIR N         N PMs' replies through the Maildir
//! bench_scale trends DIR N          `trend` and `trend <skill> 52` from N PMs
//! ```
//!
//! Every PM meets their coach (UTC) about an hour from the build, so the
//! first pass finds every digest due at once. Prints `name value unit`
//! lines; never prints scores or addresses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use coachmail::config::{Config, Inbound};
use coachmail::daemon::{Parts, Service};
use coachmail::engine::Engine;
use coachmail::inbound::Maildir;
use coachmail::replies::{ClientShape, FormHeaders, ReplyContent};
use coachmail::store::{InboundRecord, Store};
use coachmail::understand::Kind;
use coachmail::{reply_key, schedule};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["build", dir, pms, years] => build(
            Path::new(dir),
            pms.parse().expect("PMS is a number"),
            years.parse().expect("YEARS is a number"),
        ),
        ["passes", dir] => passes(Path::new(dir)),
        ["replies", dir, n] => replies(Path::new(dir), n.parse().expect("N is a number")),
        ["trends", dir, n] => trends(Path::new(dir), n.parse().expect("N is a number")),
        _ => {
            eprintln!(
                "usage: bench_scale build DIR PMS YEARS | passes DIR | replies DIR N | trends DIR N"
            );
            std::process::exit(2);
        }
    }
}

fn config_path(dir: &Path) -> PathBuf {
    dir.join("coachmail.toml")
}

/// The shipped config with the demo's people replaced by `pms` PMs (one
/// coach per 50) and every path inside `dir`.
fn write_config(dir: &Path, pms: u32, now: DateTime<Utc>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped = std::fs::read_to_string(root.join("config/coachmail.toml")).unwrap();
    let head = shipped.split("# Coaches:").next().unwrap();
    let templates = root.join("templates");
    let mut text = head
        .replace("\"../var/coachmail.db\"", "\"coachmail.db\"")
        .replace("\"../var/outbox\"", "\"outbox\"")
        .replace("\"../var/inbox\"", "\"inbox\"")
        .replace(
            "\"../templates\"",
            &format!("{:?}", templates.display().to_string()),
        );
    // The 1:1 about an hour ahead (inside the digest lead), the form two
    // days before it: the form is out and answered, the digest due.
    let one_on_one = now + Duration::minutes(60);
    let form = one_on_one - Duration::days(2);
    let slot = |t: DateTime<Utc>| {
        format!(
            "{} {:02}:{:02}",
            DAYS[t.weekday().num_days_from_monday() as usize],
            t.hour(),
            t.minute()
        )
    };
    for c in 0..pms.div_ceil(50) {
        text.push_str(&format!(
            "[[coach]]\nkey = \"coach{c}\"\nname = \"Coach {c}\"\nemail = \"coach{c}@example.org\"\n\n"
        ));
    }
    for i in 0..pms {
        text.push_str(&format!(
            "[[pm]]\nkey = \"pm{i}\"\nname = \"PM {i}\"\nemail = \"pm{i}@example.org\"\n\
             coach = \"coach{}\"\ntimezone = \"UTC\"\none_on_one = \"{}\"\n\
             form_day = \"{}\"\nform_time = \"{:02}:{:02}\"\n\n",
            i / 50,
            slot(one_on_one),
            DAYS[form.weekday().num_days_from_monday() as usize],
            form.hour(),
            form.minute()
        ));
    }
    std::fs::create_dir_all(dir.join("outbox")).unwrap();
    std::fs::create_dir_all(dir.join("inbox/new")).unwrap();
    std::fs::create_dir_all(dir.join("inbox/cur")).unwrap();
    std::fs::create_dir_all(dir.join("inbox/tmp")).unwrap();
    std::fs::copy(
        root.join("config/framework.toml"),
        dir.join("framework.toml"),
    )
    .unwrap();
    std::fs::write(config_path(dir), text).unwrap();
}

fn build(dir: &Path, pms: u32, years: u32) {
    let now = Utc::now();
    write_config(dir, pms, now);
    let config = Config::load(&config_path(dir)).expect("the generated config loads");
    let started = Instant::now();
    let mut store = Store::open(&config.service.database, None).unwrap();
    let weeks = i64::from(years) * 52;
    let since = now - Duration::weeks(weeks + 1);
    store.sync_roster(&config, since).unwrap();
    let skills: Vec<String> = config.framework.active().map(|s| s.key.clone()).collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut answered = 0u64;
    store
        .write(|tx| -> Result<(), coachmail::store::StoreError> {
            for pm in &config.pms {
                let last = schedule::open_week(now, pm);
                for back in (0..weeks).rev() {
                    let week = last.plus(-back);
                    let at = now - Duration::weeks(back) - Duration::days(2);
                    let n = next();
                    tx.record_form(
                        &pm.key,
                        week,
                        &secret(n, next()),
                        &format!("{}@example.org", secret(next(), next())),
                        at,
                    )?;
                    // About one week in twenty goes unanswered, never the
                    // newest (its digest is the one measured).
                    if back > 0 && n % 20 == 0 {
                        continue;
                    }
                    let scores: BTreeMap<String, u8> = skills
                        .iter()
                        .map(|s| (s.clone(), u8::try_from(1 + next() % 5).unwrap()))
                        .collect();
                    let id = tx.log_inbound(&InboundRecord {
                        dedup_key: &format!("mid:{}-{}", pm.key, week),
                        pm: Some(&pm.key),
                        kind: Kind::Assessment,
                        reason: None,
                        week: Some(week),
                        sender_hash: None,
                        received_at: at + Duration::hours(3),
                    })?;
                    tx.record_answers(&pm.key, week, &scores, &[], id, at + Duration::hours(3))?;
                    answered += 1;
                }
            }
            Ok(())
        })
        .unwrap();
    drop(store);
    let secs = started.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&config.service.database).unwrap().len();
    println!("build_seconds {secs:.1} s");
    println!("pm_weeks_answered {answered} weeks");
    println!("database_bytes {bytes} B");
    println!(
        "bytes_per_pm_week {:.0} B",
        bytes as f64 / (f64::from(pms) * weeks as f64)
    );
}

/// A reply key or Message-ID part as the service makes them: 128 bits, base32.
fn secret(a: u64, b: u64) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes());
    reply_key::base32(&bytes)
}

/// Resident and peak memory of this process, and its anonymous part (the
/// rest maps the database file), in KiB (Linux).
fn rss() -> (u64, u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"), field("RssAnon:"))
}

fn cpu_seconds() -> f64 {
    // utime + stime of this process, in clock ticks (100 a second on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn passes(dir: &Path) {
    let now = Utc::now();
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let config = Config::load(&config_path(dir)).unwrap();
    let engine = Engine::new(config).unwrap();
    let mut store = Store::open(&engine.config.service.database, None).unwrap();
    store.sync_roster(&engine.config, now).unwrap();
    println!(
        "startup {:.2} s wall {:.2} s cpu",
        t0.elapsed().as_secs_f64(),
        cpu_seconds() - cpu0
    );
    println!("startup_rss {} KiB", rss().0);
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let queued = engine.tick(&mut store, now).unwrap();
    let digests = queued.iter().filter(|k| k.starts_with("digest")).count();
    let cpu = cpu_seconds() - cpu0;
    println!(
        "first_pass {:.2} s wall {cpu:.2} s cpu",
        t0.elapsed().as_secs_f64()
    );
    println!("first_pass_queued {} mails {digests} digests", queued.len());
    if digests > 0 {
        println!("cpu_per_digest {:.2} ms", cpu * 1000.0 / digests as f64);
    }
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let again = engine
        .tick(&mut store, now + Duration::seconds(30))
        .unwrap();
    println!(
        "idle_pass {:.3} s wall {:.3} s cpu ({} queued)",
        t0.elapsed().as_secs_f64(),
        cpu_seconds() - cpu0,
        again.len()
    );
    let (rss, peak, anon) = rss();
    println!("idle_rss {rss} KiB ({anon} KiB anonymous, the rest the mapped database)");
    println!("peak_rss {peak} KiB");
}

/// The next week's form for the first `n` PMs (a fresh reply key each),
/// then each PM's reply to it as their mail client writes it (the five
/// client shapes in turn, the form quoted, a note in one reply of three),
/// dropped into the Maildir; then one pass of the service's reader over
/// them, timed: every reply parsed, authorized, its answers and the
/// confirmation committed, the file moved to `cur/` only after.
fn replies(dir: &Path, n: usize) {
    let now = Utc::now();
    let config = Config::load(&config_path(dir)).unwrap();
    let engine = Engine::new(config.clone()).unwrap();
    let form_text = engine
        .renderer
        .sample_emails()
        .unwrap()
        .into_iter()
        .find(|(name, _)| name.starts_with("form"))
        .map(|(_, email)| email.text)
        .expect("a sample form");
    let store = Store::open(&config.service.database, None).unwrap();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d ^ now.timestamp() as u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let pms: Vec<_> = config.pms.iter().take(n).collect();
    let mut forms = Vec::with_capacity(pms.len());
    let mut store = store;
    store
        .write(|tx| -> Result<(), coachmail::store::StoreError> {
            for pm in &pms {
                let week = schedule::open_week(now, pm).plus(1);
                let key = secret(next(), next());
                let mid = format!("{}@example.org", secret(next(), next()));
                tx.record_form(&pm.key, week, &key, &mid, now - Duration::hours(1))?;
                forms.push((week, key, mid));
            }
            Ok(())
        })
        .unwrap();
    drop(store);
    let Inbound::Maildir { dir: inbox } = &config.inbound else {
        panic!("the bench config reads a Maildir");
    };
    let maildir = Maildir::open(inbox).unwrap();
    let skills: Vec<_> = config.framework.active().collect();
    let mut bytes_total = 0usize;
    for (i, (pm, (week, key, mid))) in pms.iter().zip(&forms).enumerate() {
        let form = FormHeaders {
            message_id: mid.clone(),
            reply_to: reply_key::reply_address(&config.service.address, key),
            subject: format!("{} — your week of {}", config.service.name, week.dates()),
            text: form_text.clone(),
            date: Some(now - Duration::hours(1)),
        };
        let content = ReplyContent {
            scores: skills
                .iter()
                .map(|s| {
                    (
                        s.name.clone(),
                        s.key.clone(),
                        u8::try_from(1 + next() % 5).unwrap(),
                    )
                })
                .collect(),
            note: if i % 3 == 0 {
                "Shipped the onboarding revamp; the pricing review slipped a week.".into()
            } else {
                String::new()
            },
        };
        let unique = format!("bench.{i}.{}", next());
        let raw = coachmail::replies::compose(
            ClientShape::ALL[i % ClientShape::ALL.len()],
            &form,
            (&pm.name, &pm.email),
            &content,
            now,
            &unique,
        );
        bytes_total += raw.len();
        maildir.deliver(&unique, &raw).unwrap();
    }
    println!(
        "replies_dropped {} messages {} bytes average",
        pms.len(),
        bytes_total / pms.len().max(1)
    );
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let mut service = Service::open(config, now, Parts::default()).unwrap();
    println!(
        "replies_service_start {:.2} s wall {:.2} s cpu",
        t0.elapsed().as_secs_f64(),
        cpu_seconds() - cpu0
    );
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let mut read = 0;
    loop {
        let k = service.read_inbox(now).unwrap();
        if k == 0 {
            break;
        }
        read += k;
    }
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    println!("replies_read {read} messages {wall:.2} s wall {cpu:.2} s cpu");
    println!(
        "replies_per_second {:.0} wall {:.0} cpu",
        read as f64 / wall,
        read as f64 / cpu.max(0.01)
    );
}

/// `trend` and then `trend <skill> 52` from each of the first `n` PMs, as
/// replies to their newest form (so authorized by its key), each applied
/// through the engine as the reader applies a message: the bounded history
/// read, the charts, the answer queued. CPU per command of each kind.
fn trends(dir: &Path, n: usize) {
    use coachmail::understand::Forms;
    let now = Utc::now();
    let config = Config::load(&config_path(dir)).unwrap();
    let engine = Engine::new(config).unwrap();
    let mut store = Store::open(&engine.config.service.database, None).unwrap();
    let skill = engine
        .config
        .framework
        .active()
        .next()
        .expect("a skill")
        .key
        .clone();
    let pms: Vec<_> = engine.config.pms.iter().take(n).cloned().collect();
    for (label, command) in [
        ("trend", "trend".to_string()),
        ("trend_skill_52", format!("trend {skill} 52")),
    ] {
        let mut messages = Vec::with_capacity(pms.len());
        for (i, pm) in pms.iter().enumerate() {
            let week = Forms::latest_week(&store, &pm.key)
                .unwrap()
                .expect("a form");
            let key = store.reply_key_for(&pm.key, week).unwrap().expect("a key");
            let mid = store
                .form_message_id(&pm.key, week)
                .unwrap()
                .unwrap_or_default();
            messages.push(format!(
                "From: {} <{}>\r\nTo: {}\r\nSubject: {command}\r\nDate: {}\r\n\
                 Message-ID: <bench-{label}-{i}-{}@example.org>\r\nIn-Reply-To: <{mid}>\r\n\
                 MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{command}\r\n",
                pm.name,
                pm.email,
                reply_key::reply_address(&engine.config.service.address, &key),
                now.to_rfc2822(),
                now.timestamp_millis(),
            ));
        }
        let (cpu0, t0) = (cpu_seconds(), Instant::now());
        let mut answered = 0;
        for raw in &messages {
            let receipt = engine.receive(&mut store, raw.as_bytes(), now).unwrap();
            if receipt.kind == Kind::Command && receipt.answered {
                answered += 1;
            }
        }
        let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
        println!(
            "{label} {answered} answered of {} {wall:.2} s wall {cpu:.2} s cpu: {:.1} ms cpu each",
            messages.len(),
            cpu * 1000.0 / messages.len().max(1) as f64
        );
    }
}
