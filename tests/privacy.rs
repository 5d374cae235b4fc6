//! Privacy, written as attacks: real messages through the Maildir or the
//! `coachmail ingest` binary, a real SQLite file, .eml files out.

mod util;

use std::io::Write;

use chrono::{DateTime, Duration, Utc};
use coachmail::clock::Clock;
use coachmail::config::Config;
use util::{Harness, Sent, dmarc, logs_of, mail, reply_with, trusting_mx, utc};

const ALICE: (&str, &str) = ("Alice Martin", "alice@example.org");
const BRUNO: (&str, &str) = ("Bruno Silva", "bruno@example.org");

fn start() -> Harness {
    Harness::start_with(utc(2026, 1, 5, 8, 0), trusting_mx)
}

fn now(h: &Harness) -> DateTime<Utc> {
    h.clock.now()
}

fn deliver(h: &mut Harness, raw: &[u8], name: &str) -> Vec<Sent> {
    let before = h.sent_count();
    h.deliver_and_pass(name, raw);
    h.sent_new(before)
}

fn db_bytes(h: &Harness) -> Vec<u8> {
    let db = &h.service.engine.config.service.database;
    let mut all = std::fs::read(db).unwrap();
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(w) = std::fs::read(std::path::PathBuf::from(wal)) {
        all.extend(w);
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn stranger_asking_for_a_trend_gets_nothing_and_is_logged_without_content() {
    let mut h = start();
    let canary = "CANARY-stranger-7f3a";
    let raw = mail(
        ("Mallory", "mallory@evil.example"),
        &format!("trend {canary}"),
        &format!("trend\n{canary}"),
        &[dmarc("pass", "evil.example")],
        "s1",
        now(&h),
    );
    let (sent, logs) = logs_of(|| deliver(&mut h, &raw, "s1.eml"));
    assert!(
        sent.iter()
            .all(|s| s.kind() == "form" || s.kind() == "digest")
    );
    assert!(
        sent.iter().all(|s| !s.to.contains("evil")),
        "no backscatter"
    );
    assert!(logs.contains("Rejected"), "the refusal is logged: {logs}");
    assert!(
        !logs.contains(canary) && !logs.contains("mallory"),
        "{logs}"
    );
    let db = db_bytes(&h);
    assert!(!contains(&db, canary), "no body kept for strangers");
    assert!(!contains(&db, "mallory"), "no address kept");
}

#[test]
fn stranger_through_ingest_is_recorded_with_nothing_queued_and_no_content_in_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let config = util::config_in(dir.path(), trusting_mx);
    let canary = "CANARY-ingest-91b2";
    let raw = mail(
        ("Mallory", "mallory@evil.example"),
        &format!("trend {canary}"),
        canary,
        &[],
        "i1",
        Utc::now(),
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_coachmail"))
        .arg("--config")
        .arg(&config.path)
        .arg("ingest")
        .env("COACHMAIL_LOG", "debug")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&raw).unwrap();
    let out = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{logs}");
    assert!(
        !logs.contains(canary) && !logs.contains("mallory"),
        "{logs}"
    );
    let conn = rusqlite::Connection::open(&config.service.database).unwrap();
    let (kind, pm): (String, Option<String>) = conn
        .query_row("SELECT kind, pm FROM inbound", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((kind.as_str(), pm), ("rejected", None));
    let queued: i64 = conn
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(queued, 0);
}

#[test]
fn registered_address_forged_with_dmarc_fail_is_rejected_even_with_a_reply_key() {
    let mut h = start();
    h.run_until(utc(2026, 1, 9, 16, 0), Duration::hours(1));
    let form = h
        .sent_of("form")
        .into_iter()
        .find(|s| s.to == "alice@example.org")
        .unwrap();
    let key_address = form.headers().reply_to;
    for (i, extra) in [vec![], vec![("Cc".to_string(), key_address.clone())]]
        .into_iter()
        .enumerate()
    {
        let mut headers = vec![dmarc("fail", "example.org")];
        headers.extend(extra);
        let raw = mail(
            ALICE,
            "trend",
            "Delivery: 1",
            &headers,
            &format!("d{i}"),
            now(&h),
        );
        let receipt = h
            .service
            .engine
            .receive(&mut h.service.store, &raw, h.clock.now())
            .unwrap();
        assert_eq!(receipt.kind, coachmail::understand::Kind::Rejected);
        assert!(!receipt.answered);
    }
    assert_eq!(h.rows_about("answers", "alice"), 0);
    assert!(h.store().events("alice").unwrap().is_empty());
}

#[test]
fn trend_with_reply_to_of_another_pm_is_answered_to_the_sender_only() {
    let mut h = start();
    let raw = mail(
        ALICE,
        "trend",
        "",
        &[
            dmarc("pass", "example.org"),
            ("Reply-To".into(), "Bruno Silva <bruno@example.org>".into()),
            ("Cc".into(), "bruno@example.org".into()),
        ],
        "rt1",
        now(&h),
    );
    let sent = deliver(&mut h, &raw, "rt1.eml");
    let trend: Vec<&Sent> = sent.iter().filter(|s| s.kind() == "trend").collect();
    assert_eq!(trend.len(), 1);
    assert_eq!(trend[0].to, "alice@example.org");
    let m = trend[0].message();
    assert!(m.cc().is_none() && m.bcc().is_none());
    assert!(sent.iter().all(|s| s.to != "bruno@example.org"));
    assert!(!String::from_utf8_lossy(&trend[0].bytes).contains("bruno@"));
}

#[test]
fn form_key_of_one_pm_used_from_another_pms_address_is_rejected() {
    let mut h = start();
    h.run_until(utc(2026, 1, 9, 20, 0), Duration::hours(1));
    let alice_form = h
        .sent_of("form")
        .into_iter()
        .find(|s| s.to == "alice@example.org")
        .unwrap();
    let headers = alice_form.headers();
    // Bruno replies to Alice's form: her key in To, her form in the thread.
    let raw = String::from_utf8(mail(
        BRUNO,
        &format!("Re: {}", headers.subject),
        "Delivery: 1\nStakeholders: 1\nI read Alice's form",
        &[
            ("In-Reply-To".into(), format!("<{}>", headers.message_id)),
            ("References".into(), format!("<{}>", headers.message_id)),
        ],
        "k1",
        now(&h),
    ))
    .unwrap()
    .replace(
        "To: PM Pulse <pulse@example.org>",
        &format!("To: {}", headers.reply_to),
    );
    let sent = deliver(&mut h, raw.as_bytes(), "k1.eml");
    assert!(
        sent.iter().all(|s| s.kind() != "confirm"),
        "{:?}",
        sent.iter().map(|s| &s.key).collect::<Vec<_>>()
    );
    assert_eq!(h.rows_about("answers", "alice"), 0);
    assert_eq!(h.rows_about("answers", "bruno"), 0);
    assert_eq!(
        h.rows_about("notes", "alice") + h.rows_about("notes", "bruno"),
        0
    );
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn coach_never_receives_another_coachs_pm_digest_across_random_pairings() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let zones = [
        "Europe/Paris",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Tokyo",
        "America/Sao_Paulo",
    ];
    let days = ["mon", "tue", "wed", "thu"];
    let coaches = 6;
    let pms = 50;
    let mut roster = String::new();
    for c in 0..coaches {
        roster.push_str(&format!(
            "\n[[coach]]\nkey = \"c{c}\"\nname = \"Coach {c}\"\nemail = \"coach{c}@example.org\"\n"
        ));
    }
    let mut pairing = Vec::new();
    for p in 0..pms {
        let c = rng.next(coaches);
        pairing.push(c);
        roster.push_str(&format!(
            "\n[[pm]]\nkey = \"p{p}\"\nname = \"Pm Number{p}\"\nemail = \"pm{p}@example.org\"\ncoach = \"c{c}\"\ntimezone = \"{}\"\none_on_one = \"{} {:02}:{}\"\n",
            zones[rng.next(zones.len())],
            days[rng.next(days.len())],
            8 + rng.next(9),
            ["00", "30"][rng.next(2)],
        ));
    }
    let mut h = Harness::start_with(utc(2026, 1, 5, 0, 0), |text| {
        let cut = text.find("# Coaches:").unwrap();
        format!("{}{roster}", &text[..cut])
    });
    h.run_until(utc(2026, 1, 16, 0, 0), Duration::hours(2));
    let digests = h.sent_of("digest");
    let mut about: Vec<usize> = Vec::new();
    for d in &digests {
        let p: usize = d
            .subject
            .split("Pm Number")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            d.to,
            format!("coach{}@example.org", pairing[p]),
            "{}",
            d.subject
        );
        // Nobody else's name in it.
        for other in (0..pms).filter(|o| *o != p) {
            assert!(
                !d.text.contains(&format!("Pm Number{other} ")),
                "{}",
                d.subject
            );
            assert!(!d.html.contains(&format!("Pm Number{other} ")));
        }
        about.push(p);
    }
    about.sort_unstable();
    about.dedup();
    assert_eq!(about.len(), pms, "every PM's digest went out");
}

#[test]
fn display_name_with_a_line_break_in_config_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(util::repo().join("config/coachmail.toml")).unwrap();
    for evil in [
        "Alice Martin\\r\\nBcc: everyone@evil.example",
        "Alice Martin\\nBcc: everyone@evil.example",
    ] {
        let text = shipped.replace("name = \"Alice Martin\"", &format!("name = \"{evil}\""));
        let path = dir.path().join("coachmail.toml");
        std::fs::write(&path, &text).unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("line break"), "{err}");
    }
}

#[test]
fn replies_beyond_the_hourly_limit_are_recorded_but_not_answered() {
    let mut h = start();
    let limit = h.service.engine.config.auth.replies_per_sender_per_hour as usize;
    let mut answered = 0;
    for i in 0..limit + 5 {
        let raw = mail(
            ALICE,
            "help",
            "",
            &[dmarc("pass", "example.org")],
            &format!("rl{i}"),
            now(&h),
        );
        let r = h
            .service
            .engine
            .receive(&mut h.service.store, &raw, h.clock.now())
            .unwrap();
        assert_eq!(r.rate_limited, i >= limit, "message {i}");
        answered += usize::from(r.answered);
    }
    assert_eq!(answered, limit);
    assert_eq!(
        h.rows_about("inbound", "alice") as usize,
        limit + 5,
        "all recorded"
    );
    h.pass();
    assert_eq!(h.sent_of("help").len(), limit);
    // An hour later the sender is answered again.
    h.clock.set(now(&h) + Duration::minutes(61));
    let raw = mail(
        ALICE,
        "help",
        "",
        &[dmarc("pass", "example.org")],
        "rl-late",
        now(&h),
    );
    let r = h
        .service
        .engine
        .receive(&mut h.service.store, &raw, h.clock.now())
        .unwrap();
    assert!(r.answered && !r.rate_limited);
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn database_file_is_0600_and_its_own_folder_is_tightened_to_0700() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = util::config_in(dir.path(), |t| t);
    let var = config.service.database.parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&var).unwrap();
    std::fs::set_permissions(&var, std::fs::Permissions::from_mode(0o755)).unwrap();
    let store = coachmail::store::Store::open(&config.service.database, None).unwrap();
    drop(store);
    assert_eq!(mode(&config.service.database), 0o600);
    assert_eq!(mode(&var), 0o700);

    // A fresh folder is created private.
    let fresh = dir.path().join("elsewhere/deeper/coachmail.db");
    coachmail::store::Store::open(&fresh, None).unwrap();
    assert_eq!(mode(fresh.parent().unwrap()), 0o700);
    assert_eq!(mode(&fresh), 0o600);
}

#[test]
fn a_shared_sticky_folder_is_left_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let db = shared.join("coachmail.db");
    coachmail::store::Store::open(&db, None).unwrap();
    assert_eq!(mode(&shared), 0o1777, "like /tmp: not ours to change");
    assert_eq!(mode(&db), 0o600, "the file itself is still private");
}

#[test]
fn raw_messages_are_purged_after_retention_days_and_answers_stay() {
    let mut h = start();
    h.run_until(utc(2026, 1, 9, 20, 0), Duration::hours(1));
    let form = h
        .sent_of("form")
        .into_iter()
        .find(|s| s.to == "alice@example.org")
        .unwrap();
    let raw = reply_with(&h, &form, ALICE, 3, "kept only a while", "ret1");
    h.deliver_and_pass("ret1.eml", &raw);
    let raw_rows = |h: &Harness| -> i64 {
        let conn = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
        conn.query_row("SELECT count(*) FROM raw_inbound", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(raw_rows(&h), 1);
    let days = i64::from(h.service.engine.config.service.retention_days);
    h.clock
        .set(now(&h) + Duration::days(days) - Duration::hours(1));
    h.pass();
    assert_eq!(raw_rows(&h), 1, "kept within retention");
    h.clock.set(now(&h) + Duration::hours(2));
    h.pass();
    assert_eq!(raw_rows(&h), 0, "purged after retention_days");
    assert_eq!(h.rows_about("answers", "alice"), 8);
    assert_eq!(h.rows_about("notes", "alice"), 1);
}

#[cfg(feature = "sqlcipher")]
#[test]
fn with_a_key_the_database_is_encrypted_and_a_wrong_key_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = util::config_in(dir.path(), |t| {
        trusting_mx(t).replace(
            "database_key_env = \"\"",
            "database_key_env = \"COACHMAIL_TEST_DB_KEY\"",
        )
    });
    let canary = "CANARY-at-rest-33c1";
    let raw = mail(
        ALICE,
        "Delivery",
        &format!("Delivery: 4\n{canary}"),
        &[dmarc("pass", "example.org")],
        "enc1",
        Utc::now(),
    );
    let ingest = |key: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_coachmail"));
        cmd.arg("--config").arg(&config.path).arg("ingest");
        match key {
            Some(k) => cmd.env("COACHMAIL_TEST_DB_KEY", k),
            None => cmd.env_remove("COACHMAIL_TEST_DB_KEY"),
        };
        let mut child = cmd
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&raw).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = ingest(Some("correct horse battery staple"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let db = &config.service.database;
    let bytes = std::fs::read(db).unwrap();
    assert!(!contains(&bytes, canary) && !contains(&bytes, "SQLite format 3"));
    // Without the key: not a database.
    let plain = rusqlite::Connection::open(db).unwrap();
    let err = plain
        .query_row("SELECT count(*) FROM notes", [], |r| r.get::<_, i64>(0))
        .unwrap_err();
    assert!(err.to_string().contains("not a database"), "{err}");
    // A wrong key: a clear error, from the library and from the binary.
    let err = coachmail::store::Store::open(db, Some("wrong"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("key"), "{err}");
    let out = ingest(Some("wrong"));
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("COACHMAIL_TEST_DB_KEY") || stderr.contains("key"),
        "{stderr}"
    );
    // The right key reads it back.
    let store = coachmail::store::Store::open(db, Some("correct horse battery staple")).unwrap();
    assert_eq!(
        store
            .notes(
                "alice",
                store
                    .forms_sent("alice")
                    .unwrap()
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| {
                        coachmail::schedule::open_week(Utc::now(), config.pm("alice").unwrap())
                    })
            )
            .unwrap(),
        [canary]
    );
}

// --- nobody can silence or impersonate a PM ----------------------------------

/// Alice's form for the first week, sent by the schedule.
fn alice_form(h: &mut Harness) -> Sent {
    h.run_until(utc(2026, 1, 9, 20, 0), Duration::hours(1));
    h.sent_of("form")
        .into_iter()
        .find(|s| s.to == "alice@example.org")
        .unwrap()
}

/// A command written as a reply to `form` (its reply key in To).
fn keyed_command(form: &Sent, body: &str, unique: &str, at: DateTime<Utc>) -> Vec<u8> {
    let raw = String::from_utf8(mail(ALICE, "Re: form", body, &[], unique, at)).unwrap();
    raw.replace(
        "To: PM Pulse <pulse@example.org>",
        &format!("To: {}", form.headers().reply_to),
    )
    .into_bytes()
}

fn inbound_rows(h: &Harness, filter: &str) -> Vec<(Option<String>, String, Option<String>)> {
    let conn = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
    let mut s = conn
        .prepare(&format!(
            "SELECT pm, kind, reason FROM inbound WHERE {filter} ORDER BY id"
        ))
        .unwrap();
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn forged_mail_in_a_pms_name_never_uses_up_their_limit_nor_drops_their_pause() {
    let mut h = start();
    let form = alice_form(&mut h);
    let limit = h.service.engine.config.auth.replies_per_sender_per_hour as usize;
    for i in 0..limit * 3 {
        // Her address, no key, no DMARC pass: refused every time.
        let forged = mail(ALICE, "help", "help", &[], &format!("forged{i}"), now(&h));
        deliver(&mut h, &forged, &format!("forged{i}.eml"));
    }
    assert_eq!(
        inbound_rows(&h, "kind = 'rejected'").len(),
        limit * 3,
        "each forgery refused"
    );
    // Her own keyed reply is stored and confirmed.
    let reply = reply_with(&h, &form, ALICE, 4, "my own words", "own1");
    let sent = deliver(&mut h, &reply, "own1.eml");
    assert!(
        sent.iter()
            .any(|s| s.kind() == "confirm" && s.to == ALICE.1)
    );
    // Her keyed pause is applied and answered.
    let pause = keyed_command(&form, "pause 2 weeks", "own2", now(&h));
    let sent = deliver(&mut h, &pause, "own2.eml");
    assert!(sent.iter().any(|s| s.kind() == "ack" && s.to == ALICE.1));
    assert!(
        h.store().active_pause("alice", now(&h)).unwrap().is_some(),
        "the pause is in force"
    );
    // No raw copy of any forgery was kept.
    let conn = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
    let raw: i64 = conn
        .query_row(
            "SELECT count(*) FROM raw_inbound r JOIN inbound i ON i.id = r.inbound_id
             WHERE i.kind = 'rejected'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(raw, 0);
}

#[test]
fn pause_resume_skip_and_forget_beyond_the_limit_are_applied_and_answered() {
    let mut h = start();
    let form = alice_form(&mut h);
    let limit = h.service.engine.config.auth.replies_per_sender_per_hour as usize;
    for i in 0..limit {
        let help = keyed_command(&form, "help", &format!("h{i}"), now(&h));
        deliver(&mut h, &help, &format!("h{i}.eml"));
    }
    let over = keyed_command(&form, "help", "h-over", now(&h));
    let sent = deliver(&mut h, &over, "h-over.eml");
    assert!(sent.iter().all(|s| s.kind() != "help"), "help is limited");
    for (i, command) in ["pause 1 week", "resume", "skip", "forget"]
        .iter()
        .enumerate()
    {
        let raw = keyed_command(&form, command, &format!("c{i}"), now(&h));
        let sent = deliver(&mut h, &raw, &format!("c{i}.eml"));
        assert!(
            sent.iter().any(|s| s.to == ALICE.1 && s.kind() != "form"),
            "`{command}` was answered: {:?}",
            sent.iter().map(|s| &s.key).collect::<Vec<_>>()
        );
    }
    let kinds: Vec<String> = h
        .store()
        .events("alice")
        .unwrap()
        .iter()
        .map(|e| e.kind.as_str().to_string())
        .collect();
    for k in ["pause", "resume", "skip", "forget_requested"] {
        assert!(kinds.iter().any(|x| x == k), "{k} applied: {kinds:?}");
    }
}

#[test]
fn a_from_that_is_not_exactly_one_mailbox_is_rejected_with_a_reason() {
    let mut h = start();
    let form = alice_form(&mut h);
    let reply = String::from_utf8(reply_with(&h, &form, ALICE, 2, "planted note", "f0")).unwrap();
    let cases = [
        (
            "two From headers",
            reply.replacen(
                "From: ",
                "From: Bruno Silva <bruno@example.org>\r\nFrom: ",
                1,
            ),
            "from-twice",
        ),
        (
            "an empty mailbox first",
            reply.replacen(
                "From: Alice Martin <alice@example.org>",
                "From: \"Bruno\" <>, alice@example.org",
                1,
            ),
            "from-empty-mailbox",
        ),
        (
            "group syntax",
            reply.replacen(
                "From: Alice Martin <alice@example.org>",
                "From: Team: alice@example.org;",
                1,
            ),
            "from-group",
        ),
        (
            "two addresses",
            reply.replacen(
                "From: Alice Martin <alice@example.org>",
                "From: alice@example.org, bruno@example.org",
                1,
            ),
            "from-several",
        ),
    ];
    for (i, (what, raw, reason)) in cases.iter().enumerate() {
        assert_ne!(raw, &reply, "{what}: the case was built");
        let start = raw.find("Message-ID: <").unwrap() + 13;
        let end = start + raw[start..].find('>').unwrap();
        let raw = format!("{}case{i}@client.example{}", &raw[..start], &raw[end..]);
        let sent = deliver(&mut h, raw.as_bytes(), &format!("f{}.eml", i + 1));
        assert!(sent.is_empty(), "{what}: nothing answered");
        let rows = inbound_rows(&h, "kind = 'rejected'");
        let last = rows.last().unwrap();
        assert_eq!(last.2.as_deref(), Some(*reason), "{what}: {last:?}");
    }
    assert_eq!(h.rows_about("answers", "alice"), 0);
    assert_eq!(h.rows_about("notes", "alice"), 0);
}

// --- secrets are secrets ------------------------------------------------------

/// The reply key in a form's Reply-To (`reflect+<key>@…`).
fn key_of(form: &Sent) -> String {
    let reply_to = form.headers().reply_to;
    reply_to
        .split('+')
        .nth(1)
        .unwrap()
        .split('@')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn message_ids_of_everything_sent_are_random_and_carry_no_reply_key() {
    let mut h = start();
    h.run_until(utc(2026, 1, 20, 0, 0), Duration::hours(1));
    let form = h
        .sent_of("form")
        .into_iter()
        .find(|s| s.to == ALICE.1)
        .unwrap();
    let reply = reply_with(&h, &form, ALICE, 3, "fine", "mid1");
    deliver(&mut h, &reply, "mid1.eml");
    let sent = h.sent();
    let keys: Vec<String> = h.sent_of("form").iter().map(key_of).collect();
    assert!(keys.len() >= 4, "forms went out");
    let mut ids = std::collections::BTreeSet::new();
    for s in &sent {
        let id = s.header("Message-ID").unwrap();
        for k in &keys {
            assert!(!id.contains(k.as_str()), "{} carries a key: {id}", s.key);
        }
        for word in ["alice", "form", "digest", "reminder", "2026-W"] {
            assert!(!id.contains(word), "{} names {word}: {id}", s.key);
        }
        assert!(ids.insert(id.clone()), "{id} used twice");
    }
    assert!(
        sent.iter()
            .any(|s| s.kind() == "reminder" || s.kind() == "digest")
    );
    // A reminder is still threaded under its form.
    if let Some(rem) = sent.iter().find(|s| s.kind() == "reminder") {
        let in_reply_to = rem.header("In-Reply-To").unwrap();
        assert!(
            h.sent_of("form")
                .iter()
                .any(|f| f.header("Message-ID").unwrap() == in_reply_to)
        );
    }
}

#[test]
fn a_reply_threaded_to_a_form_without_its_key_counts_only_with_a_trusted_dmarc_pass() {
    let mut h = start();
    let form = alice_form(&mut h);
    let threaded = |unique: &str, extra: &[(String, String)], h: &Harness| {
        let raw = String::from_utf8(mail(
            ALICE,
            "Re: my week",
            "Delivery: 2\nthreaded only",
            &[
                &[
                    (
                        "In-Reply-To".to_string(),
                        format!("<{}>", form.headers().message_id),
                    ),
                    (
                        "References".to_string(),
                        format!("<{}>", form.headers().message_id),
                    ),
                ][..],
                extra,
            ]
            .concat(),
            unique,
            now(h),
        ))
        .unwrap();
        assert!(!raw.contains("reflect+"));
        raw.into_bytes()
    };
    let raw = threaded("th1", &[], &h);
    let sent = deliver(&mut h, &raw, "th1.eml");
    assert!(sent.is_empty());
    assert_eq!(
        h.rows_about("answers", "alice"),
        0,
        "the thread alone is no key"
    );
    let raw = threaded("th2", &[dmarc("pass", "example.org")], &h);
    let sent = deliver(&mut h, &raw, "th2.eml");
    assert!(sent.iter().any(|s| s.kind() == "confirm"));
    assert_eq!(h.rows_about("answers", "alice"), 1);
}

#[test]
fn an_expired_reply_key_gets_a_polite_form_closed_answer_and_writes_nothing() {
    let mut h = start();
    let form = alice_form(&mut h);
    let week = form.subject.clone();
    // Still open the next week.
    h.run_until(utc(2026, 1, 14, 12, 0), Duration::hours(6));
    let raw = reply_with(&h, &form, ALICE, 4, "late but open", "ex1");
    let sent = deliver(&mut h, &raw, "ex1.eml");
    assert!(sent.iter().any(|s| s.kind() == "confirm"), "{week}");
    let answers = h.rows_about("answers", "alice");
    // The week after next has begun: closed.
    h.run_until(utc(2026, 1, 20, 12, 0), Duration::hours(6));
    let raw = reply_with(&h, &form, ALICE, 1, "planted into an old week", "ex2");
    let sent = deliver(&mut h, &raw, "ex2.eml");
    let acks: Vec<&Sent> = sent.iter().filter(|s| s.kind() == "ack").collect();
    assert_eq!(
        acks.len(),
        1,
        "{:?}",
        sent.iter().map(|s| &s.key).collect::<Vec<_>>()
    );
    assert_eq!(acks[0].to, ALICE.1);
    assert!(acks[0].text.contains("has closed"), "{}", acks[0].text);
    assert!(
        acks[0].text.contains("this week's form"),
        "{}",
        acks[0].text
    );
    assert_eq!(h.rows_about("answers", "alice"), answers, "nothing written");
    let conn = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
    let planted: i64 = conn
        .query_row(
            "SELECT count(*) FROM notes WHERE text LIKE '%planted%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(planted, 0);
}

#[test]
fn pause_until_a_far_date_is_capped_at_the_longest_pause_and_said_so() {
    let mut h = start();
    let form = alice_form(&mut h);
    let raw = keyed_command(&form, "pause until 9999-12-31", "pc1", now(&h));
    let sent = deliver(&mut h, &raw, "pc1.eml");
    let ack = sent.iter().find(|s| s.kind() == "ack").unwrap();
    assert!(ack.text.contains("longest pause"), "{}", ack.text);
    let pause = h.store().active_pause("alice", now(&h)).unwrap().unwrap();
    let days = i64::from(h.service.engine.config.auth.max_pause_days);
    assert_eq!(pause.until, now(&h) + Duration::days(days));
    assert!(
        ack.text
            .contains(&(now(&h) + Duration::days(days)).format("%Y").to_string())
    );
}

// --- DMARC mode is strict -------------------------------------------------------

#[test]
fn dmarc_counts_only_from_the_topmost_trusted_header_naming_the_from_domain() {
    let mut h = start();
    let ar = |v: &str| ("Authentication-Results".to_string(), v.to_string());
    type Case<'a> = (&'a str, Vec<(String, String)>, bool);
    let cases: Vec<Case> = vec![
        (
            "no header.from",
            vec![ar("mx.example.org; dmarc=pass")],
            false,
        ),
        (
            "another domain",
            vec![ar("mx.example.org; dmarc=pass header.from=evil.example")],
            false,
        ),
        (
            "an untrusted server",
            vec![ar("mx.evil.example; dmarc=pass header.from=example.org")],
            false,
        ),
        (
            "a forged pass below the border's fail",
            vec![
                ar("mx.example.org; dmarc=fail header.from=example.org"),
                ar("mx.example.org; dmarc=pass header.from=example.org"),
            ],
            false,
        ),
        (
            "the border's pass",
            vec![ar("mx.example.org; dmarc=pass header.from=example.org")],
            true,
        ),
    ];
    for (i, (what, headers, counts)) in cases.into_iter().enumerate() {
        // Scores in a fresh message count only when DMARC verifies it (a
        // read-only command would be answered at her address either way).
        let raw = mail(
            ALICE,
            "my week",
            "Delivery: 3",
            &headers,
            &format!("dm{i}"),
            now(&h),
        );
        let sent = deliver(&mut h, &raw, &format!("dm{i}.eml"));
        assert_eq!(sent.iter().any(|s| s.kind() == "confirm"), counts, "{what}");
    }
    let rejected = inbound_rows(&h, "kind = 'rejected'");
    assert_eq!(rejected.len(), 4);
}

// --- forget leaves nothing ------------------------------------------------------

/// Every file under `dir` except the operator's config folder, with its bytes.
fn files_under(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "config") {
                continue;
            }
            files_under(&p, out);
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
}

#[test]
fn after_forget_and_a_clean_stop_no_file_holds_the_pms_words_address_or_code() {
    let mut h = start();
    let form = alice_form(&mut h);
    let note = "CANARY-note-forget-5d1e";
    let raw = String::from_utf8(reply_with(&h, &form, ALICE, 3, note, "fg1"))
        .unwrap()
        .replacen("Delivery: 3", "Delivery: 3 CANARY-comment-forget-77aa", 1);
    deliver(&mut h, raw.as_bytes(), "fg1.eml");
    assert_eq!(h.rows_about("notes", "alice"), 1);
    let ask = keyed_command(&form, "forget", "fg2", now(&h));
    let request = deliver(&mut h, &ask, "fg2.eml")
        .into_iter()
        .find(|s| s.text.lines().any(|l| l.trim().starts_with("forget ")))
        .unwrap();
    let code = request
        .text
        .lines()
        .find_map(|l| l.trim().strip_prefix("forget "))
        .unwrap()
        .trim()
        .to_string();
    let confirm = keyed_command(&form, &format!("forget {code}"), "fg3", now(&h));
    let done = deliver(&mut h, &confirm, "fg3.eml");
    assert!(done.iter().any(|s| s.kind() == "forgotten"));
    let notice: Vec<std::path::PathBuf> = done
        .iter()
        .filter(|s| s.kind() == "forgotten")
        .map(|s| s.path.clone())
        .collect();
    // A minute later the notice's recipient is blanked too; then a clean stop.
    h.clock.set(now(&h) + Duration::minutes(2));
    h.pass();
    h.restart();
    let mut files = Vec::new();
    files_under(h.dir.path(), &mut files);
    assert!(files.len() > 3, "the deployment folder was read");
    for (path, bytes) in &files {
        for secret in [note, "CANARY-comment-forget-77aa", code.as_str()] {
            assert!(
                !contains(bytes, secret),
                "{} holds {secret}",
                path.display()
            );
        }
        assert!(
            !contains(bytes, ALICE.1),
            "{} holds her address",
            path.display()
        );
    }
    // The notice was written, and its copy removed once it was out.
    assert!(!notice.is_empty());
    assert!(
        notice.iter().all(|p| !p.exists()),
        "the notice's copy stays"
    );
}

// --- retention covers every copy ------------------------------------------------

#[test]
fn retention_removes_maildir_copies_sent_files_and_log_rows_and_refused_mail_keeps_none() {
    let mut h = start();
    let form = alice_form(&mut h);
    let note = "CANARY-retention-31c9";
    let raw = reply_with(&h, &form, ALICE, 3, note, "rt1");
    let sent = deliver(&mut h, &raw, "rt1.eml");
    let confirm = sent.iter().find(|s| s.kind() == "confirm").unwrap();
    assert!(confirm.path.exists());
    let inbox = h.dir.path().join("var/inbox");
    assert_eq!(std::fs::read_dir(inbox.join("cur")).unwrap().count(), 1);
    // A forgery keeps no copy anywhere, not even in the Maildir.
    let forged = mail(
        ALICE,
        "help",
        &format!("help {note}-forged"),
        &[],
        "rt2",
        now(&h),
    );
    deliver(&mut h, &forged, "rt2.eml");
    assert_eq!(std::fs::read_dir(inbox.join("cur")).unwrap().count(), 1);
    assert_eq!(std::fs::read_dir(inbox.join("new")).unwrap().count(), 0);
    let conn = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
    let raw_rows = |c: &rusqlite::Connection| -> i64 {
        c.query_row("SELECT count(*) FROM raw_inbound", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(raw_rows(&conn), 1, "only the PM's own reply");
    // Past retention: every copy goes.
    let days = i64::from(h.service.engine.config.service.retention_days);
    h.clock
        .set(now(&h) + Duration::days(days) + Duration::hours(1));
    h.pass();
    assert_eq!(raw_rows(&conn), 0);
    assert_eq!(std::fs::read_dir(inbox.join("cur")).unwrap().count(), 0);
    assert!(!confirm.path.exists(), "the sent copy is gone");
    let old: i64 = conn
        .query_row(
            "SELECT count(*) FROM inbound WHERE received_at < ?1",
            [(now(&h) - Duration::days(days)).timestamp_millis()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old, 0, "old log rows purged");
    assert_eq!(h.rows_about("notes", "alice"), 1, "the note itself stays");
}

#[test]
fn sender_hashes_are_keyed_not_plain_digests_of_the_address() {
    let mut h = start();
    let forged = mail(ALICE, "help", "help", &[], "sh1", now(&h));
    deliver(&mut h, &forged, "sh1.eml");
    let conn = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
    let hash: String = conn
        .query_row("SELECT sender_hash FROM inbound LIMIT 1", [], |r| r.get(0))
        .unwrap();
    use sha2::Digest;
    let plain: String = sha2::Sha256::digest(ALICE.1.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hash.len(), 64);
    assert_ne!(hash, plain, "not a plain digest a dictionary reverses");
}

// --- notes are data, never layout -------------------------------------------------

#[test]
fn notes_are_stripped_of_controls_capped_framed_and_keep_the_digest_small() {
    let mut h = start();
    let form = alice_form(&mut h);
    let sneaky =
        "honest start\u{202E}desrever\u{2066}isolated\u{2028}Delivery: 5 (was 1, dip gone)";
    let raw = reply_with(&h, &form, ALICE, 3, sneaky, "nd0");
    let sent = deliver(&mut h, &raw, "nd0.eml");
    assert!(sent.iter().any(|s| s.kind() == "confirm"));
    let max = h.service.engine.config.auth.max_note_bytes;
    for i in 0..30 {
        let long = format!("long note {i} ").repeat(2_000);
        let raw = reply_with(&h, &form, ALICE, 3, &long, &format!("nd{}", i + 1));
        let sent = deliver(&mut h, &raw, &format!("nd{}.eml", i + 1));
        if i == 0 {
            let confirm = sent.iter().find(|s| s.kind() == "confirm").unwrap();
            assert!(confirm.text.contains("were not stored"), "{}", confirm.text);
        }
    }
    let conn = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
    let longest: i64 = conn
        .query_row(
            "SELECT max(length(CAST(text AS BLOB))) FROM notes",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(longest as usize <= max, "{longest}");
    let texts: Vec<String> = conn
        .prepare("SELECT text FROM notes")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in &texts {
        assert!(
            !t.chars()
                .any(|c| matches!(c, '\u{202E}' | '\u{2066}' | '\u{2028}')),
            "control characters stored"
        );
    }
    h.run_until(utc(2026, 1, 16, 0, 0), Duration::hours(1));
    let digest = h
        .sent_of("digest")
        .into_iter()
        .find(|d| d.subject.contains("Alice"))
        .unwrap();
    assert!(digest.bytes.len() < 1_000_000, "{}", digest.bytes.len());
    assert!(digest.text.contains("---- note 1 (as written) ----"));
    assert!(
        digest.text.contains("    | honest start"),
        "{}",
        &digest.text[..2000.min(digest.text.len())]
    );
    assert!(
        !digest.text.contains("\nDelivery: 5 (was 1"),
        "the note cannot start a line of its own"
    );
    assert!(digest.html.contains("<blockquote"));
    for part in [&digest.text, &digest.html] {
        assert!(!part.contains('\u{202E}') && !part.contains('\u{2028}'));
    }
}

// --- a new coach sees only what was written for them ----------------------------

#[test]
fn after_re_pairing_the_new_coach_sees_only_their_weeks_until_the_pm_shares_history() {
    let mut h = start();
    // Week 2 under Maya: a form Alice leaves unanswered (a missed week).
    h.run_until(utc(2026, 1, 12, 12, 0), Duration::hours(2));
    let maya = h
        .sent_of("digest")
        .into_iter()
        .filter(|d| d.subject.contains("Alice"))
        .collect::<Vec<_>>();
    assert!(maya.iter().all(|d| d.to == "maya@example.org"));
    // Alice moves to Tom.
    h.restart_with(|t| {
        trusting_mx(t).replacen(
            "email = \"alice@example.org\"\ncoach = \"maya\"",
            "email = \"alice@example.org\"\ncoach = \"tom\"",
            1,
        )
    });
    assert_eq!(h.service.engine.config.pm("alice").unwrap().coach, "tom");
    h.run_until(utc(2026, 1, 26, 12, 0), Duration::hours(2));
    let tom: Vec<Sent> = h
        .sent_of("digest")
        .into_iter()
        .filter(|d| d.subject.contains("Alice") && d.to == "tom@example.org")
        .collect();
    assert!(!tom.is_empty());
    for d in &tom {
        assert!(
            !d.text.contains("2026-W02"),
            "an old week shown: {}",
            d.text
        );
        assert!(!d.text.contains("shared their weeks"));
    }
    // Alice shares her history: told, and Tom's next digest says so.
    let raw = mail(
        ALICE,
        "share history",
        "share history",
        &[dmarc("pass", "example.org")],
        "sh-1",
        now(&h),
    );
    let sent = deliver(&mut h, &raw, "sh-1.eml");
    let ack = sent.iter().find(|s| s.kind() == "ack").unwrap();
    assert_eq!(ack.to, ALICE.1);
    assert!(ack.text.contains("shared with them"), "{}", ack.text);
    h.run_until(utc(2026, 2, 2, 12, 0), Duration::hours(2));
    let last = h
        .sent_of("digest")
        .into_iter()
        .rfind(|d| d.subject.contains("Alice") && d.to == "tom@example.org")
        .unwrap();
    assert!(last.text.contains("shared their weeks"), "{}", last.text);
    // The earlier weeks (from 2026-W02, the week of Mon 5 Jan) are shown.
    assert!(last.text.contains("week of Mon 5 Jan"), "{}", last.text);
}

/// Alice's newest form, after running the clock to `until`.
fn latest_alice_form(h: &mut Harness, until: DateTime<Utc>) -> Sent {
    h.run_until(until, Duration::hours(1));
    h.sent_of("form")
        .into_iter()
        .rfind(|s| s.to == ALICE.1)
        .unwrap()
}

#[test]
fn a_new_coach_sees_neither_the_old_coachs_scores_nor_baseline_nor_notes() {
    let mut h = start();
    let old_note = "CANARY-for-maya-only-41c9";
    // Four weeks under Maya (enough for a baseline), every skill a 5,
    // with a note meant for her.
    for (i, day) in [9, 16, 23, 30].into_iter().enumerate() {
        let form = latest_alice_form(&mut h, utc(2026, 1, day, 20, 0));
        let raw = reply_with(&h, &form, ALICE, 5, old_note, &format!("rp-maya-{i}"));
        deliver(&mut h, &raw, &format!("rp-maya-{i}.eml"));
    }
    h.run_until(utc(2026, 2, 3, 12, 0), Duration::hours(2));
    assert!(
        h.sent_of("digest")
            .iter()
            .any(|d| d.to == "maya@example.org" && d.text.contains(old_note)),
        "Maya's own digest carries the note written for her"
    );
    // Alice moves to Tom, and scores her first week with him all 2s.
    h.restart_with(|t| {
        trusting_mx(t).replacen(
            "email = \"alice@example.org\"\ncoach = \"maya\"",
            "email = \"alice@example.org\"\ncoach = \"tom\"",
            1,
        )
    });
    let form = latest_alice_form(&mut h, utc(2026, 2, 6, 20, 0));
    let raw = reply_with(&h, &form, ALICE, 2, "First week with Tom.", "rp-tom");
    deliver(&mut h, &raw, "rp-tom.eml");
    h.run_until(utc(2026, 2, 10, 12, 0), Duration::hours(2));
    let tom: Vec<Sent> = h
        .sent_of("digest")
        .into_iter()
        .filter(|d| d.subject.contains("Alice") && d.to == "tom@example.org")
        .collect();
    let last = tom.last().expect("Tom gets Alice's digest");
    assert!(last.text.contains("First week with Tom."), "{}", last.text);
    for d in &tom {
        for (part, body) in [("text", &d.text), ("html", &d.html)] {
            assert!(
                !body.contains(old_note),
                "Tom's digest ({part}) shows Maya's note"
            );
        }
        // Maya's four weeks of 5s would give a baseline of 5 and make
        // every 2 a dip.
        let text = d.text.to_lowercase();
        assert!(!text.contains("baseline 5"), "old baseline: {}", d.text);
        assert!(
            !text.contains("dip "),
            "a dip against old weeks: {}",
            d.text
        );
        for week in ["2026-w02", "2026-w03", "2026-w04", "2026-w05"] {
            assert!(!text.contains(week), "old week {week}: {}", d.text);
        }
    }
}

// --- long headers, safe exports ---------------------------------------------------

#[test]
fn a_message_id_beyond_rfc_limits_is_not_copied_and_names_no_file() {
    let mut h = start();
    let form = alice_form(&mut h);
    let long_id = format!("{}@client.example", "x".repeat(980));
    let raw = String::from_utf8(reply_with(&h, &form, ALICE, 4, "fine", "long1")).unwrap();
    let start = raw.find("Message-ID: <").unwrap() + 13;
    let end = start + raw[start..].find('>').unwrap();
    let raw = format!("{}{long_id}{}", &raw[..start], &raw[end..]);
    let sent = deliver(&mut h, raw.as_bytes(), "long1.eml");
    let confirm = sent.iter().find(|s| s.kind() == "confirm").unwrap();
    assert!(confirm.path.exists());
    let name = confirm
        .path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert!(name.len() < 64 && !name.contains("xxxx"), "{name}");
    assert!(confirm.header("References").is_none());
    for line in String::from_utf8_lossy(&confirm.bytes).split("\r\n") {
        assert!(line.len() <= 998, "{} characters", line.len());
    }
}

#[test]
fn the_export_escapes_formula_cells_and_starts_with_a_bom() {
    let mut h = start();
    let form = alice_form(&mut h);
    let raw = reply_with(
        &h,
        &form,
        ALICE,
        4,
        "=HYPERLINK(\"http://evil.example\")",
        "ex-1",
    );
    deliver(&mut h, &raw, "ex-1.eml");
    let ask = keyed_command(&form, "export", "ex-2", now(&h));
    let sent = deliver(&mut h, &ask, "ex-2.eml");
    let export = sent.iter().find(|s| s.kind() == "export").unwrap();
    let msg = export.message();
    let csv_bytes = msg
        .attachments()
        .find(|a| {
            mail_parser::MimeHeaders::attachment_name(*a).is_some_and(|n| n.ends_with(".csv"))
        })
        .unwrap()
        .contents()
        .to_vec();
    assert!(csv_bytes.starts_with(b"\xEF\xBB\xBF"), "a UTF-8 BOM");
    let mut reader = csv::ReaderBuilder::new().from_reader(&csv_bytes[3..]);
    let mut cells = Vec::new();
    for record in reader.records() {
        cells.extend(
            record
                .unwrap()
                .iter()
                .map(str::to_string)
                .collect::<Vec<_>>(),
        );
    }
    assert!(
        cells
            .iter()
            .any(|c| c == "'=HYPERLINK(\"http://evil.example\")"),
        "{cells:?}"
    );
    assert!(
        cells
            .iter()
            .all(|c| !c.starts_with(['=', '+', '@', '\t', '\r'])),
        "{cells:?}"
    );
}

// --- machines that do not say they are machines -----------------------------------

#[test]
fn a_silent_auto_responder_gets_at_most_one_answer_a_day_and_changes_no_notes() {
    let mut h = start();
    let form = alice_form(&mut h);
    let raw = reply_with(&h, &form, ALICE, 4, "my real note", "ar0");
    let sent = deliver(&mut h, &raw, "ar0.eml");
    let confirm = sent.iter().find(|s| s.kind() == "confirm").unwrap().clone();
    let notes = h.rows_about("notes", "alice");
    let mut answers = 0;
    for i in 0..5 {
        // A reply to the confirmation, no scores, no command, no RFC 3834 header.
        let mid = confirm.header("Message-ID").unwrap();
        let echo = String::from_utf8(mail(
            ALICE,
            &format!("Re: {}", confirm.subject),
            "Thank you for your message. I will get back to you soon.",
            &[
                ("In-Reply-To".into(), mid.clone()),
                ("References".into(), mid),
            ],
            &format!("ar-echo{i}"),
            now(&h),
        ))
        .unwrap()
        .replace(
            "To: PM Pulse <pulse@example.org>",
            &format!("To: {}", confirm.header("Reply-To").unwrap()),
        );
        answers += deliver(&mut h, echo.as_bytes(), &format!("ar-echo{i}.eml")).len();
        // An out-of-office text to the form's reply address.
        let oof = keyed_command(
            &form,
            "I am out of the office until Monday with limited access to email.",
            &format!("ar-oof{i}"),
            now(&h),
        );
        answers += deliver(&mut h, &oof, &format!("ar-oof{i}.eml")).len();
    }
    assert!(answers <= 1, "{answers} answers in a day");
    assert_eq!(h.rows_about("notes", "alice"), notes, "no note changed");
}

#[test]
fn every_privacy_limit_is_a_checked_config_key_whose_error_names_the_key_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    for (line, bad, key) in [
        (
            "reply_key_weeks = 2",
            "reply_key_weeks = 0",
            "auth.reply_key_weeks",
        ),
        (
            "max_pause_days = 365",
            "max_pause_days = 0",
            "auth.max_pause_days",
        ),
        (
            "max_note_bytes = 10_240",
            "max_note_bytes = 1",
            "auth.max_note_bytes",
        ),
        (
            "max_digest_note_bytes = 200_000",
            "max_digest_note_bytes = 5_000_000",
            "auth.max_digest_note_bytes",
        ),
        (
            "replies_per_sender_per_hour = 10",
            "replies_per_sender_per_hour = 0",
            "auth.replies_per_sender_per_hour",
        ),
    ] {
        let path = util::write_config(dir.path(), |t| {
            assert!(t.contains(line), "the shipped config documents {line}");
            t.replace(line, bad)
        });
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains(key), "{err}");
        assert!(err.contains("write e.g."), "{err}");
    }
    let refused = util::write_config(dir.path(), |t| t);
    let shipped = std::fs::read_to_string(refused).unwrap();
    assert!(shipped.contains("refused_per_sender_per_hour = 20"));
}
