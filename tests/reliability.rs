//! Nothing stalls the service: outgoing mail has a size budget, a message
//! that keeps failing is quarantined instead of blocking the rest, and
//! reading the inbox and delivering the outbox never wait on each other.

mod util;

use chrono::Duration;
use coachmail::engine::MAX_EMAIL_BYTES;
use util::{Harness, reply_with, utc};

const ALICE: (&str, &str) = ("Alice Martin", "alice@example.org");

/// A service whose PMs may write the longest notes the config allows, with
/// alice's form of the week of 2026-11-23 sent.
fn with_alices_form(edit: impl Fn(String) -> String) -> (Harness, util::Sent) {
    let mut h = Harness::start_with(utc(2026, 11, 23, 0, 0), edit);
    h.run_until(utc(2026, 11, 27, 16, 0), Duration::hours(1));
    let form = h
        .sent_of("form")
        .into_iter()
        .find(|s| s.to == ALICE.1)
        .expect("alice got her form");
    (h, form)
}

fn longest_notes(t: String) -> String {
    t.replace("max_note_bytes = 10_240", "max_note_bytes = 102_400")
        .replace(
            "max_digest_note_bytes = 200_000",
            "max_digest_note_bytes = 900_000",
        )
}

#[test]
fn a_digest_of_the_longest_notes_allowed_is_cut_under_1_mb_with_a_visible_marker() {
    let (mut h, form) = with_alices_form(longest_notes);
    // Nine notes of 100 KB each, in letters that quoted-printable triples.
    for i in 0..9 {
        let note = format!("Grüße aus Köln {i} — ").repeat(4_200);
        let raw = reply_with(&h, &form, ALICE, 4, &note, &format!("long{i}"));
        h.clock.advance(Duration::minutes(1));
        h.deliver_and_pass(&format!("{i}.long.host"), &raw);
    }
    let before = h.sent_count();
    let until = h.now() + Duration::days(7);
    h.run_until(until, Duration::hours(1));
    let digest = h
        .sent_new(before)
        .into_iter()
        .find(|s| s.kind() == "digest" && s.subject.contains("Alice"))
        .expect("alice's coach got her digest");
    assert!(
        digest.bytes.len() < MAX_EMAIL_BYTES,
        "{} bytes",
        digest.bytes.len()
    );
    assert!(digest.text.contains("…cut"), "no cut marker in the text");
    assert!(digest.html.contains("…cut"), "no cut marker in the HTML");
    assert!(digest.text.contains("Grüße aus Köln 0"));
}

#[test]
fn a_reply_of_29000_conflicting_lines_and_a_huge_note_gets_a_short_confirmation() {
    let (mut h, form) = with_alices_form(longest_notes);
    let mut body: String = (0..29_000)
        .map(|i| if i % 2 == 0 { "Data: 3\n" } else { "Data: 4\n" })
        .collect();
    body.push_str(&"ünd noch etwas ".repeat(20_000));
    let raw = reply_with(&h, &form, ALICE, 4, &body, "flood");
    h.clock.advance(Duration::minutes(5));
    let before = h.sent_count();
    h.deliver_and_pass("1.flood.host", &raw);
    let confirm = h
        .sent_new(before)
        .into_iter()
        .find(|s| s.kind() == "confirm")
        .expect("the reply was confirmed");
    assert!(
        confirm.bytes.len() < 100_000,
        "{} bytes",
        confirm.bytes.len()
    );
    assert!(
        confirm.text.contains("more lines I could not read"),
        "{}",
        confirm.text
    );
}

// --- a message that keeps failing is quarantined, never blocks the rest -----

use util::{coachmail, text};

/// Makes every attempt to log the message with `dedup_key` fail inside the
/// store, the way a fault of our own handling that one message would: a
/// deterministic failure that is not the machine's.
fn poison(db: &std::path::Path, dedup_key: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(&format!(
        "CREATE TRIGGER poison BEFORE INSERT ON inbound WHEN NEW.dedup_key = '{}'
         BEGIN SELECT RAISE(ABORT, 'poisoned'); END;",
        dedup_key.replace('\'', "''")
    ))
    .unwrap();
}

/// The fix: the fault is gone.
fn cure(db: &std::path::Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch("DROP TRIGGER poison").unwrap();
}

fn count(db: &std::path::Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_maildir_message_that_fails_every_try_is_quarantined_and_requeued_after_a_fix() {
    let (mut h, form) = with_alices_form(|t| t);
    let db = h.service.engine.config.service.database.clone();
    let inbox = h.service.inbox.as_ref().unwrap().dir().to_path_buf();
    let bad = reply_with(&h, &form, ALICE, 2, "", "bad1");
    let good = reply_with(&h, &form, ALICE, 4, "", "good1");
    poison(&db, &coachmail::engine::dedup_key_of(&bad));
    h.clock.advance(Duration::minutes(1));
    h.deliver("1.bad.host", &bad);
    h.deliver("2.good.host", &good);
    let before = h.sent_count();
    h.pass();
    // The good reply behind the failing one is applied and confirmed.
    assert_eq!(count(&db, "SELECT count(*) FROM inbound"), 1);
    assert_eq!(
        h.sent_new(before)
            .iter()
            .filter(|s| s.kind() == "confirm")
            .count(),
        1
    );
    assert!(inbox.join("new/1.bad.host").exists());
    h.pass();
    assert!(
        inbox.join("new/1.bad.host").exists(),
        "quarantined too soon"
    );
    h.pass();
    assert!(!inbox.join("new/1.bad.host").exists(), "not quarantined");
    assert!(inbox.join(".Quarantine/cur/1.bad.host:2,").exists());
    let q = h.store().quarantined().unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!((q[0].reason.as_str(), q[0].attempts), ("store", 3));
    // Later passes leave it alone.
    h.pass();
    assert_eq!(h.store().quarantined().unwrap().len(), 1);

    // The operator sees it, fixes the cause and puts it back.
    let config = h.dir.path().join("config/coachmail.toml");
    let config = config.to_str().unwrap();
    let out = coachmail(&["--config", config, "status", "--json"], b"");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["quarantine"][0]["id"], q[0].id);
    assert_eq!(v["quarantine"][0]["reason"], "store");
    let out = coachmail(&["--config", config, "status"], b"");
    assert!(
        text(&out.stdout).contains("quarantined: 1"),
        "{}",
        text(&out.stdout)
    );
    cure(&db);
    let id = q[0].id.to_string();
    let out = coachmail(&["--config", config, "requeue", &id], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(inbox.join("new/1.bad.host").exists());
    let before = h.sent_count();
    h.pass();
    assert_eq!(count(&db, "SELECT count(*) FROM inbound"), 2);
    assert!(h.store().quarantined().unwrap().is_empty());
    assert!(h.sent_new(before).iter().any(|s| s.kind() == "confirm"));
    let out = coachmail(&["--config", config, "requeue", &id], b"");
    assert_eq!(out.status.code(), Some(64), "{}", text(&out.stderr));
}

#[test]
fn ingest_retries_a_failing_message_twice_then_quarantines_it_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let config = util::write_config(dir.path(), |t| {
        t.replace("require_reply_key = true", "require_reply_key = false")
    });
    let config = config.to_str().unwrap();
    let db = dir.path().join("var/coachmail.db");
    let msg = |id: &str| {
        format!("From: Alice Martin <alice@example.org>\r\nTo: pulse@example.org\r\nSubject: my week\r\nMessage-ID: <{id}@example.org>\r\n\r\nData: 3\r\n").into_bytes()
    };
    let out = coachmail(&["--config", config, "ingest"], &msg("first"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    poison(&db, "mid:bad@example.org");
    for attempt in 1..=2 {
        let out = coachmail(&["--config", config, "ingest"], &msg("bad"));
        assert_eq!(
            out.status.code(),
            Some(75),
            "try {attempt}: {}",
            text(&out.stderr)
        );
        // Never blocks the messages after it.
        let out = coachmail(
            &["--config", config, "ingest"],
            &msg(&format!("ok{attempt}")),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let out = coachmail(&["--config", config, "ingest"], &msg("bad"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("quarantined"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM inbound_failures WHERE quarantined_at IS NOT NULL AND raw IS NOT NULL"
        ),
        1
    );
    let out = coachmail(&["--config", config, "status", "--json"], b"");
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["quarantine"][0]["source"], "ingest");
    let id = v["quarantine"][0]["id"].to_string();
    // After the fix, requeue hands it to the Maildir the config names.
    cure(&db);
    let out = coachmail(&["--config", config, "requeue", &id], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let requeued: Vec<_> = std::fs::read_dir(dir.path().join("var/inbox/new"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    assert_eq!(requeued, vec![msg("bad")]);
    let out = coachmail(&["--config", config, "status", "--json"], b"");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["quarantine"].as_array().unwrap().len(), 0);
}

// --- reading the inbox and delivering the outbox never wait on each other ---

use coachmail::clock::{Clock, ManualClock};
use coachmail::daemon::{Parts, Service, Stop};
use coachmail::outbound::{Copying, FileTransport, Parcel, SendFuture, Transport};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Waits (up to a generous limit, so a broken build fails instead of
/// hanging) until `done` holds.
fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A relay that holds every message until the gate opens.
#[derive(Clone, Default)]
struct Gate {
    open: Arc<AtomicBool>,
    in_flight: Arc<AtomicUsize>,
}

impl Transport for Gate {
    fn send<'a>(&'a self, _parcel: &'a Parcel) -> SendFuture<'a> {
        Box::pin(async move {
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            while !self.open.load(Ordering::SeqCst) {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        })
    }
}

/// A service wired as `run` wires one, with alice's form queued and not
/// yet delivered; `run` goes on a thread of its own with a multi-thread
/// runtime, as `coachmail run` has.
fn running(
    transport: Box<dyn Transport>,
    before_run: impl FnOnce(&Service) + Send + 'static,
) -> (
    tempfile::TempDir,
    Stop,
    std::thread::JoinHandle<()>,
    std::path::PathBuf,
) {
    let dir = tempfile::tempdir().unwrap();
    let at = utc(2026, 11, 24, 9, 0);
    let config = util::config_in(dir.path(), |t| t);
    let mut service = Service::open(
        config,
        at,
        Parts {
            transport: Some(transport),
            entropy: Some(Box::new(coachmail::reply_key::SeededEntropy::new(7))),
        },
    )
    .unwrap();
    let alice = service.engine.config.pm("alice").unwrap().clone();
    let queued = service
        .engine
        .send_form_now(&mut service.store, &alice, at)
        .unwrap();
    assert!(queued.is_some());
    let inbox = service.inbox.as_ref().unwrap().dir().to_path_buf();
    let stop = service.stop_handle();
    let handle = std::thread::spawn(move || {
        before_run(&service);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(at));
        let stop = service.stop_handle();
        runtime.block_on(service.run(clock, std::time::Duration::from_millis(50), stop.wait()));
    });
    (dir, stop, handle, inbox)
}

const STRANGER: &[u8] =
    b"From: s@elsewhere.example\r\nMessage-ID: <s1@elsewhere.example>\r\nSubject: hi\r\n\r\nhello\r\n";

#[test]
fn a_queued_message_is_delivered_while_the_inbox_pass_is_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let transport = Copying::new(Box::new(FileTransport::new(dir.path().join("sent"))));
    let copies = transport.copies();
    let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
    let locked = Arc::new(AtomicBool::new(true));
    let (_dir, stop, handle, inbox) = {
        let locked = locked.clone();
        running(Box::new(transport), move |service| {
            // Another process holds the write lock: every inbox pass waits
            // on it and gives up, again and again, while it is held.
            let db = service.engine.config.service.database.clone();
            service
                .inbox
                .as_ref()
                .unwrap()
                .deliver("1.s.host", STRANGER)
                .unwrap();
            std::thread::spawn(move || {
                let conn = rusqlite::Connection::open(db).unwrap();
                conn.execute_batch("BEGIN IMMEDIATE").unwrap();
                while locked.load(Ordering::SeqCst) {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                conn.execute_batch("ROLLBACK").unwrap();
            });
            // Let the lock be taken before the service starts.
            std::thread::sleep(std::time::Duration::from_millis(200));
        })
    };
    eventually("the queued form reaches the transport", || {
        sent.lock().unwrap().extend(copies.take());
        !sent.lock().unwrap().is_empty()
    });
    // It went out while the reply in the inbox was still waiting its turn.
    assert!(inbox.join("new/1.s.host").exists());
    assert!(sent.lock().unwrap()[0].key.starts_with("form:alice:"));
    locked.store(false, Ordering::SeqCst);
    eventually("the inbox pass goes on once the lock is free", || {
        !inbox.join("new/1.s.host").exists()
    });
    stop.request();
    handle.join().unwrap();
}

#[test]
fn the_inbox_is_read_while_the_relay_holds_a_message() {
    let gate = Gate::default();
    let (dir, stop, handle, inbox) = running(Box::new(gate.clone()), |_| {});
    eventually("the form is handed to the relay", || {
        gate.in_flight.load(Ordering::SeqCst) == 1
    });
    // A reply arrives while the relay holds the form.
    coachmail::inbound::Maildir::open(&inbox)
        .unwrap()
        .deliver("1.s.host", STRANGER)
        .unwrap();
    eventually(
        "the reply is read while the relay still holds the form",
        || !inbox.join("new/1.s.host").exists(),
    );
    assert_eq!(gate.in_flight.load(Ordering::SeqCst), 1);
    let db = dir.path().join("var/coachmail.db");
    assert_eq!(count(&db, "SELECT count(*) FROM inbound"), 1);
    gate.open.store(true, Ordering::SeqCst);
    eventually("the form is marked sent once the relay accepts it", || {
        count(&db, "SELECT count(*) FROM outbox WHERE status = 'sent'") == 1
    });
    stop.request();
    handle.join().unwrap();
}

#[test]
fn a_second_connection_never_hides_the_first_ones_writes_from_other_processes() {
    let dir = tempfile::tempdir().unwrap();
    let config = util::write_config(dir.path(), |t| t);
    let config = config.to_str().unwrap();
    let db = dir.path().join("var/coachmail.db");
    let mut first = coachmail::store::Store::open(&db, None).unwrap();
    let _second = first.reopen().unwrap();
    let queue = |store: &mut coachmail::store::Store, key: &str| {
        store
            .write(|tx| {
                tx.enqueue(
                    &coachmail::store::NewOutbound {
                        key,
                        kind: "form",
                        pm: Some("alice"),
                        recipient: "alice@example.org",
                        bytes: b"Subject: x\r\n\r\nx\r\n",
                    },
                    utc(2026, 11, 27, 15, 0),
                )
            })
            .unwrap();
    };
    queue(&mut first, "form:alice:1");
    // Another process reads and closes: it must not take itself for the
    // last reader and remove the WAL this process still writes to.
    let pending = || {
        let out = coachmail(&["--config", config, "status", "--json"], b"");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["outbox"]["pending"].as_u64().unwrap()
    };
    assert_eq!(pending(), 1);
    queue(&mut first, "form:alice:2");
    assert_eq!(pending(), 2);
}

// --- a message that overruns its time budget, or takes the process down ---

/// A reply from alice so large that handling it takes far longer than a
/// millisecond: 6 MB of HTML paragraphs.
fn slow_reply(id: &str) -> Vec<u8> {
    let mut m = format!(
        "From: Alice Martin <alice@example.org>\r\nTo: pulse@example.org\r\nSubject: my week\r\nMessage-ID: <{id}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Data: 3</p>\r\n"
    )
    .into_bytes();
    while m.len() < 6_000_000 {
        m.extend_from_slice(b"<p>a long week of planning and more planning</p>\r\n");
    }
    m
}

fn one_millisecond_budget(t: String) -> String {
    t.replace("require_reply_key = true", "require_reply_key = false")
        .replace(
            "message_time_budget_ms = 10_000",
            "message_time_budget_ms = 1",
        )
}

#[test]
fn ingest_stops_a_message_over_its_time_budget_and_quarantines_it_on_the_third_interrupted_try() {
    let dir = tempfile::tempdir().unwrap();
    let config = util::write_config(dir.path(), one_millisecond_budget);
    let config = config.to_str().unwrap();
    let db = dir.path().join("var/coachmail.db");
    let slow = slow_reply("slow");
    let mut codes = Vec::new();
    for _ in 0..6 {
        let out = coachmail(&["--config", config, "ingest"], &slow);
        if codes.is_empty() {
            assert!(
                text(&out.stderr).contains("time budget"),
                "{}",
                text(&out.stderr)
            );
        }
        codes.push(out.status.code());
    }
    // Stopped over budget; counted as interrupted on the next try; again…
    // and quarantined when it is counted the third time.
    assert_eq!(
        codes,
        [Some(75), Some(75), Some(75), Some(75), Some(75), Some(0)]
    );
    let out = coachmail(&["--config", config, "status", "--json"], b"");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["quarantine"][0]["reason"], "interrupted");
    assert_eq!(v["quarantine"][0]["attempts"], 3);
    assert_eq!(count(&db, "SELECT count(*) FROM inbound"), 0);
    assert!(
        std::fs::read_dir(dir.path().join("var/coachmail.db.inflight"))
            .unwrap()
            .next()
            .is_none(),
        "a mark is left behind"
    );
    // The next reply is read as usual (with a budget it fits in).
    let config = util::write_config(dir.path(), |t| {
        t.replace("require_reply_key = true", "require_reply_key = false")
    });
    let ok = b"From: Alice Martin <alice@example.org>\r\nTo: pulse@example.org\r\nSubject: my week\r\nMessage-ID: <ok@example.org>\r\n\r\nData: 3\r\n";
    let out = coachmail(&["--config", config.to_str().unwrap(), "ingest"], ok);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(count(&db, "SELECT count(*) FROM inbound"), 1);
}

#[test]
fn run_stopped_by_a_message_over_budget_moves_it_to_the_quarantine_after_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let config = util::write_config(dir.path(), one_millisecond_budget);
    let inbox = dir.path().join("var/inbox");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(inbox.join(sub)).unwrap();
    }
    std::fs::write(inbox.join("new/1.slow.host"), slow_reply("slow")).unwrap();
    let quarantined = inbox.join(".Quarantine/cur/1.slow.host:2,");
    let mut exits = Vec::new();
    // Each start either meets the message over budget (and exits 75) or
    // counts the earlier interruption and then meets it again on the next
    // pass; the third count moves it to the quarantine.
    for _ in 0..6 {
        let mut child = util::coachmail_command(&["--config", config.to_str().unwrap(), "run"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let code = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.code();
            }
            if quarantined.exists() || std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        exits.push(code);
        if quarantined.exists() {
            break;
        }
    }
    assert!(quarantined.exists(), "not quarantined; exits {exits:?}");
    assert!(!inbox.join("new/1.slow.host").exists());
    assert_eq!(exits[..exits.len() - 1], vec![Some(75); exits.len() - 1]);
    assert!((3..=6).contains(&exits.len()), "{exits:?}");
    let out = coachmail(
        &["--config", config.to_str().unwrap(), "status", "--json"],
        b"",
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["quarantine"][0]["reason"], "interrupted");
    assert_eq!(v["quarantine"][0]["source"], "maildir");
}

// --- several messages share one transaction, each undone alone ---------------

/// Like [`poison`], but the fault rolls back the whole transaction the
/// message was applied in, as SQLite itself does on some errors.
fn poison_whole_transaction(db: &std::path::Path, dedup_key: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(&format!(
        "CREATE TRIGGER poison BEFORE INSERT ON inbound WHEN NEW.dedup_key = '{}'
         BEGIN SELECT RAISE(ROLLBACK, 'poisoned'); END;",
        dedup_key.replace('\'', "''")
    ))
    .unwrap();
}

#[test]
fn a_failing_message_between_two_good_ones_undoes_only_its_own_writes() {
    let (mut h, form) = with_alices_form(|t| t);
    let db = h.service.engine.config.service.database.clone();
    let inbox = h.service.inbox.as_ref().unwrap().dir().to_path_buf();
    let good = reply_with(&h, &form, ALICE, 4, "", "good1");
    let bad = reply_with(&h, &form, ALICE, 2, "", "bad1");
    let later = reply_with(&h, &form, ALICE, 5, "", "good2");
    poison(&db, &coachmail::engine::dedup_key_of(&bad));
    h.clock.advance(Duration::minutes(1));
    h.deliver("1.good.host", &good);
    h.deliver("2.bad.host", &bad);
    h.deliver("3.good.host", &later);
    let before = h.sent_count();
    h.pass();
    assert_eq!(count(&db, "SELECT count(*) FROM inbound"), 2);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM inbound_failures WHERE attempts = 1"
        ),
        1
    );
    let confirms = h
        .sent_new(before)
        .into_iter()
        .filter(|s| s.kind() == "confirm")
        .count();
    assert_eq!(confirms, 2);
    assert!(inbox.join("new/2.bad.host").exists());
    assert!(!inbox.join("new/1.good.host").exists());
    assert!(!inbox.join("new/3.good.host").exists());
}

#[test]
fn a_message_that_rolls_back_the_shared_transaction_does_not_take_the_others_with_it() {
    let (mut h, form) = with_alices_form(|t| t);
    let db = h.service.engine.config.service.database.clone();
    let inbox = h.service.inbox.as_ref().unwrap().dir().to_path_buf();
    let good = reply_with(&h, &form, ALICE, 4, "", "good1");
    let bad = reply_with(&h, &form, ALICE, 2, "", "bad1");
    let later = reply_with(&h, &form, ALICE, 5, "", "good2");
    poison_whole_transaction(&db, &coachmail::engine::dedup_key_of(&bad));
    h.clock.advance(Duration::minutes(1));
    h.deliver("1.good.host", &good);
    h.deliver("2.bad.host", &bad);
    h.deliver("3.good.host", &later);
    let before = h.sent_count();
    h.pass();
    // The first reply was applied in the transaction the bad one took
    // down; it is applied again, on its own, in the same pass.
    assert_eq!(count(&db, "SELECT count(*) FROM inbound"), 2);
    let confirms = h
        .sent_new(before)
        .into_iter()
        .filter(|s| s.kind() == "confirm")
        .count();
    assert_eq!(confirms, 2);
    assert!(!inbox.join("new/1.good.host").exists());
    assert!(!inbox.join("new/3.good.host").exists());
    assert!(inbox.join("new/2.bad.host").exists());
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM inbound_failures WHERE attempts = 1"
        ),
        1
    );
}
