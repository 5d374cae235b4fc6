//! `coachmail run` killed with SIGKILL at random moments while replies
//! (and redeliveries of replies) are dropped into its Maildir: nothing is
//! lost, nothing is applied twice, no reply is confirmed twice, and the
//! database passes `PRAGMA integrity_check`.
//!
//! 30 cycles in the suite; `scripts/kill-test.sh CYCLES` runs it longer
//! (`COACHMAIL_KILL_CYCLES`, and `COACHMAIL_KILL_SEED` for another
//! sequence of moments).

mod util;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use coachmail::inbound::Maildir;
use coachmail::replies::{ClientShape, FormHeaders, ReplyContent, compose, read_form};

/// xorshift64*: the kill moments follow from the seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn coachmail(config: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_coachmail"));
    c.arg("--config")
        .arg(config)
        .args(args)
        .env("COACHMAIL_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn start_run(config: &str) -> Child {
    coachmail(config, &["run"]).spawn().unwrap()
}

fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn files(dir: &Path, suffix: &str) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(suffix))
                .count()
        })
        .unwrap_or(0)
}

const PMS: [(&str, &str, &str); 3] = [
    ("alice", "Alice Martin", "alice@example.org"),
    ("bruno", "Bruno Silva", "bruno@example.org"),
    ("chloe", "Chloé Dubois", "chloe@example.org"),
];

#[test]
fn kill_9_at_random_moments_loses_nothing_and_applies_and_confirms_each_reply_once() {
    let cycles = env_u64("COACHMAIL_KILL_CYCLES", 30);
    let seed = env_u64("COACHMAIL_KILL_SEED", 0x6b11_1d1e);
    eprintln!("kill test: {cycles} cycles, seed {seed}");
    let mut rng = Rng(seed | 1);
    let dir = tempfile::tempdir().unwrap();
    let config = util::write_config(dir.path(), |t| {
        t.replace(
            "replies_per_sender_per_hour = 10",
            "replies_per_sender_per_hour = 100000",
        )
    });
    let config = config.to_str().unwrap().to_string();
    let db = dir.path().join("var/coachmail.db");
    let outbox = dir.path().join("var/outbox");
    let inbox = Maildir::open(&dir.path().join("var/inbox")).unwrap();

    // This week's form to each PM, as `send-form` sends it.
    for (pm, _, _) in PMS {
        let status = coachmail(&config, &["send-form", pm]).status().unwrap();
        assert!(status.success(), "send-form {pm}");
    }
    let mut forms: HashMap<String, FormHeaders> = HashMap::new();
    for e in std::fs::read_dir(&outbox).unwrap().flatten() {
        let bytes = std::fs::read(e.path()).unwrap();
        let parsed = mail_parser::MessageParser::default()
            .parse(&bytes[..])
            .unwrap();
        let to = parsed
            .to()
            .unwrap()
            .first()
            .unwrap()
            .address()
            .unwrap()
            .to_string();
        forms.insert(to, read_form(&bytes).unwrap());
    }
    assert_eq!(forms.len(), PMS.len());

    let mut replies: Vec<Vec<u8>> = Vec::new();
    let mut dropped = 0usize;
    let mut drop_one = |rng: &mut Rng, replies: &mut Vec<Vec<u8>>| {
        // Now and then a redelivery of an earlier reply, under a new name.
        let bytes = if !replies.is_empty() && rng.below(5) == 0 {
            replies[rng.below(replies.len() as u64) as usize].clone()
        } else {
            let n = replies.len();
            let (_, name, email) = PMS[n % PMS.len()];
            let score = 1 + (n % 5) as u8;
            let content = ReplyContent {
                scores: util::shipped_config()
                    .framework
                    .active()
                    .map(|s| (s.name.clone(), s.key.clone(), score))
                    .collect(),
                note: format!("reply {n}"),
            };
            let bytes = compose(
                ClientShape::OutlookTopPost,
                &forms[email],
                (name, email),
                &content,
                chrono::Utc::now(),
                &format!("crash{n}"),
            );
            replies.push(bytes.clone());
            bytes
        };
        inbox
            .deliver(&format!("{dropped:05}.crash.host"), &bytes)
            .unwrap();
        dropped += 1;
    };

    let waiting = |inbox: &Maildir| files(&inbox.dir().join("new"), ".crash.host");
    for _ in 0..cycles {
        for _ in 0..1 + rng.below(3) {
            drop_one(&mut rng, &mut replies);
        }
        let before = waiting(&inbox);
        let mut child = start_run(&config);
        if rng.below(3) == 0 {
            // Anywhere from start-up on (opening, migrating, the first pass).
            std::thread::sleep(Duration::from_millis(rng.below(400)));
        } else {
            // In the middle of the work: once the first reply was handled,
            // while the rest are and their confirmations go out.
            let deadline = Instant::now() + Duration::from_secs(30);
            while waiting(&inbox) >= before && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            if rng.below(2) == 0 {
                drop_one(&mut rng, &mut replies);
            }
            std::thread::sleep(Duration::from_millis(rng.below(60)));
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }

    // The kills came while there was work: some replies were applied
    // between start-up and a kill.
    let applied_under_kills = count(&db, "SELECT count(*) FROM inbound");
    eprintln!(
        "kill test: {} replies ({} files) dropped, {applied_under_kills} applied between kills",
        replies.len(),
        dropped
    );
    assert!(applied_under_kills > 0, "every kill came before any work");

    // A last run, left to finish its work, then stopped cleanly.
    let log = dir.path().join("last-run.log");
    let mut child = coachmail(&config, &["run"])
        .env("COACHMAIL_LOG", "info")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let waiting = files(&inbox.dir().join("new"), ".crash.host");
        let pending =
            db.exists() && count(&db, "SELECT count(*) FROM outbox WHERE status = 'pending'") > 0;
        let up = std::fs::read_to_string(&log).is_ok_and(|l| l.contains("coachmail is running"));
        if up && waiting == 0 && !pending {
            break;
        }
        if Instant::now() > deadline {
            let conn = rusqlite::Connection::open(&db).unwrap();
            let rows: Vec<String> = conn
                .prepare("SELECT key || ' ' || attempts || ' ' || coalesce(last_error_class, '-') || ' ' || (next_attempt_at - strftime('%s','now') * 1000) FROM outbox WHERE status = 'pending'")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            let _ = child.kill();
            let _ = child.wait();
            panic!("the service did not catch up: {waiting} waiting, pending: {rows:#?}\n{log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let status = child.wait().unwrap();
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{status:?}: {log}");
    assert!(log.contains("stopped cleanly"), "{log}");

    let unique = replies.len() as i64;
    // Nothing lost: every reply logged once, every file handled.
    assert_eq!(count(&db, "SELECT count(*) FROM inbound"), unique);
    assert_eq!(files(&inbox.dir().join("cur"), ""), dropped);
    // Nothing applied twice: one answer per reply and skill.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM (SELECT inbound_id, skill FROM answers
               GROUP BY inbound_id, skill HAVING count(*) > 1)"
        ),
        0
    );
    assert_eq!(
        count(&db, "SELECT count(DISTINCT inbound_id) FROM answers"),
        unique
    );
    // No reply confirmed twice: one confirmation row and one file each.
    assert_eq!(
        count(&db, "SELECT count(*) FROM outbox WHERE kind = 'confirm'"),
        unique
    );
    assert_eq!(files(&outbox, "-confirm.eml") as i64, unique);
    // A kill in the middle of a message counts as one failed try of it
    // (three in a row would quarantine it); none got that far.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM inbound_failures WHERE quarantined_at IS NOT NULL OR reason != 'interrupted'"
        ),
        0
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}
