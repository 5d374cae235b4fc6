//! The binary as an operator and an MTA use it: exit codes, messages,
//! and junk on every input.

mod util;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use util::{coachmail, coachmail_command, run_with_stdin, text};

/// A temp dir with a working config; returns (dir, config path).
fn setup(edit: impl Fn(String) -> String) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = util::write_config(dir.path(), edit);
    (dir, config.to_string_lossy().into_owned())
}

#[test]
fn check_accepts_the_shipped_config_and_prints_local_times() {
    let (_dir, config) = setup(|t| t);
    let out = coachmail(&["--config", &config, "check"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("config ok"), "{stdout}");
    assert!(stdout.contains("Australia/Sydney"), "{stdout}");
    assert!(
        stdout.contains("AEDT") || stdout.contains("AEST"),
        "{stdout}"
    );
}

#[test]
fn a_broken_config_exits_78_and_names_the_line_and_fix() {
    let (_dir, config) = setup(|t| t.replace("coach = \"tom\"", "coach = \"tim\""));
    let out = coachmail(&["--config", &config, "check"], b"");
    assert_eq!(out.status.code(), Some(78));
    let err = text(&out.stderr);
    assert!(err.contains("coachmail.toml:"), "{err}");
    assert!(err.contains("add a [[coach]] with key = \"tim\""), "{err}");
}

#[test]
fn a_missing_config_exits_78_and_says_how_to_point_at_one() {
    let out = coachmail(&["--config", "/nonexistent/coachmail.toml", "check"], b"");
    assert_eq!(out.status.code(), Some(78));
    assert!(
        text(&out.stderr).contains("--config"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn config_comes_from_the_environment_when_no_flag_is_given() {
    let (_dir, config) = setup(|t| t);
    let out = Command::new(env!("CARGO_BIN_EXE_coachmail"))
        .arg("check")
        .env("COACHMAIL_CONFIG", &config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn a_broken_template_fails_check_with_its_file_name() {
    let (dir, config) = setup(|t| t);
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    for entry in std::fs::read_dir(util::repo().join("templates")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), templates.join(entry.file_name())).unwrap();
    }
    std::fs::write(templates.join("confirm.txt.j2"), "Hello {{ pm.name }\n").unwrap();
    let text_cfg = std::fs::read_to_string(&config).unwrap();
    let edited = regex_free_replace_templates(&text_cfg, &templates);
    std::fs::write(&config, edited).unwrap();
    let out = coachmail(&["--config", &config, "check"], b"");
    assert_eq!(out.status.code(), Some(78));
    assert!(
        text(&out.stderr).contains("confirm.txt.j2"),
        "{}",
        text(&out.stderr)
    );
}

fn regex_free_replace_templates(config: &str, templates: &std::path::Path) -> String {
    config
        .lines()
        .map(|l| {
            if l.starts_with("templates = ") {
                format!("templates = {:?}", templates)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn unknown_arguments_exit_64_with_usage() {
    let out = coachmail(&["frobnicate"], b"");
    assert_eq!(out.status.code(), Some(64));
    let out = coachmail(&["demo", "--weeks", "0"], b"");
    assert_eq!(out.status.code(), Some(64));
    assert!(
        text(&out.stderr).contains("--weeks"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn parse_prints_one_json_line_per_message_and_exits_0_on_junk() {
    let (dir, config) = setup(|t| t);
    let junk = dir.path().join("junk.eml");
    std::fs::write(&junk, [0u8, 159, 146, 150, 255, 0, 13, 10]).unwrap();
    let empty = dir.path().join("empty.eml");
    std::fs::write(&empty, b"").unwrap();
    let missing = dir.path().join("missing.eml");
    let out = coachmail(
        &[
            "--config",
            &config,
            "parse",
            junk.to_str().unwrap(),
            empty.to_str().unwrap(),
            missing.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for l in &lines {
        assert!(l["kind"] == "rejected" || l["kind"] == "ignored", "{l}");
        assert!(l["reason"].is_string(), "{l}");
    }
    // parse writes nothing: no database appeared.
    assert!(!dir.path().join("var/coachmail.db").exists());
}

#[test]
fn parse_reads_standard_input_when_no_file_is_given() {
    let (_dir, config) =
        setup(|t| t.replace("require_reply_key = true", "require_reply_key = false"));
    let msg = b"From: Alice Martin <alice@example.org>\r\nTo: pulse@example.org\r\nSubject: my week\r\nMessage-ID: <x1@example.org>\r\n\r\nStakeholders: 2\r\nDelivery = 4 (shipped the beta)\r\nData: 7\r\n\r\nRough week.\r\n";
    let out = coachmail(&["--config", &config, "parse"], msg);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(v["kind"], "assessment", "{v}");
    assert_eq!(v["pm"], "alice");
    assert_eq!(v["scores"]["stakeholders"], 2);
    assert_eq!(v["scores"]["delivery"], 4);
    assert_eq!(v["invalid"][0]["line"], "Data: 7");
}

#[test]
fn ingest_applies_a_message_once_and_exits_0_each_time() {
    let (dir, config) =
        setup(|t| t.replace("require_reply_key = true", "require_reply_key = false"));
    let msg = b"From: Alice Martin <alice@example.org>\r\nTo: pulse@example.org\r\nSubject: my week\r\nMessage-ID: <ingest-1@example.org>\r\n\r\nStakeholders: 2\r\n";
    for _ in 0..2 {
        let out = coachmail(&["--config", &config, "ingest"], msg);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let db = rusqlite::Connection::open(dir.path().join("var/coachmail.db")).unwrap();
    let inbound: i64 = db
        .query_row("SELECT count(*) FROM inbound", [], |r| r.get(0))
        .unwrap();
    let answers: i64 = db
        .query_row("SELECT count(*) FROM answers", [], |r| r.get(0))
        .unwrap();
    let confirms: i64 = db
        .query_row(
            "SELECT count(*) FROM outbox WHERE kind = 'confirm'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!((inbound, answers, confirms), (1, 1, 1));
}

#[test]
fn ingest_of_an_empty_message_exits_65_and_records_it() {
    let (dir, config) = setup(|t| t);
    let out = coachmail(&["--config", &config, "ingest"], b"");
    assert_eq!(out.status.code(), Some(65), "{}", text(&out.stderr));
    let db = rusqlite::Connection::open(dir.path().join("var/coachmail.db")).unwrap();
    let rejected: i64 = db
        .query_row(
            "SELECT count(*) FROM inbound WHERE kind = 'rejected'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rejected, 1);
}

#[test]
fn ingest_exits_75_when_the_store_is_busy() {
    let (dir, config) = setup(|t| t);
    // Create the database, then hold its write lock from another connection.
    let out = coachmail(
        &["--config", &config, "ingest"],
        b"From: x@y.example\r\n\r\nhi\r\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let db = rusqlite::Connection::open(dir.path().join("var/coachmail.db")).unwrap();
    db.execute_batch("BEGIN IMMEDIATE; INSERT INTO events (pm, kind, at) VALUES ('x', 'help', 0);")
        .unwrap();
    let out = coachmail(
        &["--config", &config, "ingest"],
        b"From: x@y.example\r\nMessage-ID: <b@y>\r\n\r\nhi\r\n",
    );
    assert_eq!(out.status.code(), Some(75), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).to_lowercase().contains("busy"),
        "{}",
        text(&out.stderr)
    );
    db.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn stranger_mail_through_ingest_is_recorded_and_never_answered() {
    let (dir, config) = setup(|t| t);
    let msg = b"From: Mallory <mallory@evil.example>\r\nTo: pulse@example.org\r\nSubject: trend\r\nMessage-ID: <m1@evil.example>\r\n\r\ntrend\r\n";
    let out = coachmail(&["--config", &config, "ingest"], msg);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        !text(&out.stderr).contains("mallory"),
        "the log names the stranger: {}",
        text(&out.stderr)
    );
    let db = rusqlite::Connection::open(dir.path().join("var/coachmail.db")).unwrap();
    let outbox: i64 = db
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(outbox, 0);
}

#[test]
fn status_and_backup_never_create_a_database_and_work_on_a_fresh_one() {
    let (dir, config) = setup(|t| t);
    let db = dir.path().join("var/coachmail.db");
    let out = coachmail(&["--config", &config, "status"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("no database yet"),
        "{}",
        text(&out.stdout)
    );
    let backup = dir.path().join("backup.db");
    let out = coachmail(
        &["--config", &config, "backup", backup.to_str().unwrap()],
        b"",
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(
        !db.exists() && !backup.exists(),
        "a read command created a database"
    );
    // A stranger's message makes the database; status then reports it.
    let out = coachmail(
        &["--config", &config, "ingest"],
        b"From: s@elsewhere.example\r\nMessage-ID: <st@x>\r\n\r\nhi\r\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = coachmail(&["--config", &config, "status"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("pending: 0"), "{stdout}");
    assert!(
        stdout.contains("rejected") && stdout.contains("unknown-sender"),
        "{stdout}"
    );
    assert!(stdout.contains("next sends:"), "{stdout}");
    let out = coachmail(&["--config", &config, "status", "--json"], b"");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["attention"], false);
    // A form and a digest for each of the five PMs, soonest first.
    let next = v["next_sends"].as_array().unwrap();
    assert_eq!(next.len(), 10, "{next:?}");
    let times: Vec<&str> = next.iter().map(|n| n["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(v["inbound_last_7_days"][0]["kind"], "rejected");
    assert_eq!(v["inbound_last_7_days"][0]["count"], 1);
    let out = coachmail(
        &["--config", &config, "backup", backup.to_str().unwrap()],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(backup.exists());
    let out = coachmail(
        &["--config", &config, "backup", backup.to_str().unwrap()],
        b"",
    );
    assert_ne!(
        out.status.code(),
        Some(0),
        "an existing backup file is not overwritten"
    );
}

#[test]
fn demo_runs_weeks_in_its_own_folder_and_refuses_a_foreign_one() {
    let (dir, config) = setup(|t| t);
    let demo = dir.path().join("demo");
    let out = coachmail(
        &[
            "--config",
            &config,
            "demo",
            "--weeks",
            "3",
            "--dir",
            demo.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Simulated 3 weeks for 5 PMs"), "{stdout}");
    assert!(std::fs::read_dir(demo.join("outbox")).unwrap().count() > 10);
    // The configured database is untouched.
    assert!(!dir.path().join("var/coachmail.db").exists());
    let foreign = dir.path().join("config");
    let out = coachmail(
        &[
            "--config",
            &config,
            "demo",
            "--weeks",
            "1",
            "--dir",
            foreign.to_str().unwrap(),
        ],
        b"",
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("not made by `coachmail demo`"),
        "{}",
        text(&out.stderr)
    );
    assert!(foreign.join("coachmail.toml").exists());
}

#[test]
fn run_stops_cleanly_on_sigterm() {
    let (dir, config) = setup(|t| t);
    let mut child = Command::new(env!("CARGO_BIN_EXE_coachmail"))
        .args(["--config", &config, "run"])
        .env("COACHMAIL_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the service has made its first pass (the database exists).
    let db = dir.path().join("var/coachmail.db");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !db.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "coachmail run did not stop after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    assert_eq!(status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("stopped cleanly"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        dir.path().join("var/inbox/new").is_dir(),
        "the Maildir was created"
    );
}

// --- one test per documented exit code of every command ---------------------

/// The shipped config sending over SMTP with the given extra keys.
fn smtp(extra: &'static str) -> impl Fn(String) -> String {
    move |t: String| {
        t.replace(
            "transport = \"file\"                     # \"file\" (each email an .eml in dir) | \"smtp\"\ndir = \"../var/outbox\"",
            &format!("transport = \"smtp\"\nhost = \"smtp.example.org\"\n{extra}"),
        )
    }
}

#[test]
fn a_plain_text_relay_that_is_not_on_loopback_exits_78_from_check_and_run() {
    let (_dir, config) = setup(smtp("tls = \"none\""));
    for cmd in ["check", "run"] {
        let out = coachmail(&["--config", &config, cmd], b"");
        assert_eq!(out.status.code(), Some(78), "{cmd}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("loopback"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_missing_smtp_password_exits_78_from_check_and_run_naming_the_variable() {
    let (_dir, config) = setup(smtp(
        "user = \"pulse@example.org\"\npassword_env = \"COACHMAIL_TEST_UNSET_PASSWORD\"",
    ));
    for cmd in ["check", "run"] {
        let out = coachmail(&["--config", &config, cmd], b"");
        assert_eq!(out.status.code(), Some(78), "{cmd}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("COACHMAIL_TEST_UNSET_PASSWORD"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_missing_ca_file_exits_78_from_check() {
    let (_dir, config) = setup(smtp("ca_cert = \"/nonexistent/ca.pem\""));
    let out = coachmail(&["--config", &config, "check"], b"");
    assert_eq!(out.status.code(), Some(78), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("ca_cert"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_missing_database_key_exits_78_from_every_operator_command_and_75_from_ingest() {
    let (dir, config) = setup(|t| {
        t.replace(
            "database_key_env = \"\"",
            "database_key_env = \"COACHMAIL_TEST_UNSET_DB_KEY\"",
        )
    });
    // A database exists (status and backup never create one).
    std::fs::create_dir_all(dir.path().join("var")).unwrap();
    rusqlite::Connection::open(dir.path().join("var/coachmail.db"))
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    for args in [
        vec!["check"],
        vec!["run"],
        vec!["status"],
        vec!["backup", "/nonexistent/copy.db"],
    ] {
        let mut all = vec!["--config", config.as_str()];
        all.extend(args.iter().copied());
        let out = coachmail(&all, b"");
        assert_eq!(
            out.status.code(),
            Some(78),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains("COACHMAIL_TEST_UNSET_DB_KEY"),
            "{}",
            text(&out.stderr)
        );
    }
    // A mail server must retry, never bounce the PM's reply.
    let out = coachmail(
        &["--config", &config, "ingest"],
        b"From: alice@example.org\r\n\r\nData: 3\r\n",
    );
    assert_eq!(out.status.code(), Some(75), "{}", text(&out.stderr));
}

#[test]
fn a_broken_template_makes_ingest_retry_not_bounce() {
    let (dir, config) = setup(|t| t);
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    for e in std::fs::read_dir(util::repo().join("templates")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, templates.join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(templates.join("help.txt.j2"), "{{ broken(").unwrap();
    let config_text = std::fs::read_to_string(&config).unwrap();
    let edited = config_text
        .lines()
        .map(|l| {
            if l.starts_with("templates =") {
                format!("templates = {:?}", templates)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&config, edited).unwrap();
    let out = coachmail(
        &["--config", &config, "ingest"],
        b"From: Alice <alice@example.org>\r\nSubject: help\r\nMessage-ID: <t@x>\r\n\r\nhelp\r\n",
    );
    assert_eq!(out.status.code(), Some(75), "{}", text(&out.stderr));
    // The operator sees the same fault as a configuration error.
    let out = coachmail(&["--config", &config, "check"], b"");
    assert_eq!(out.status.code(), Some(78), "{}", text(&out.stderr));
}

#[test]
fn a_demo_folder_not_made_by_demo_exits_64() {
    let (dir, config) = setup(|t| t);
    let foreign = dir.path().join("mine");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("keep.txt"), "mine").unwrap();
    let out = coachmail(
        &[
            "--config",
            &config,
            "demo",
            "--weeks",
            "1",
            "--dir",
            foreign.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(64), "{}", text(&out.stderr));
    assert!(foreign.join("keep.txt").exists());
}

#[test]
fn an_unwritable_database_folder_exits_74_for_the_operator_and_75_for_ingest() {
    let (dir, config) = setup(|t| {
        t.replace(
            "database = \"../var/coachmail.db\"",
            "database = \"/proc/coachmail-cannot-be-here/coachmail.db\"",
        )
    });
    let _ = dir;
    let out = coachmail(&["--config", &config, "check"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = coachmail(&["--config", &config, "run"], b"");
    assert_eq!(out.status.code(), Some(74), "{}", text(&out.stderr));
    let out = coachmail(
        &["--config", &config, "ingest"],
        b"From: alice@example.org\r\n\r\nData: 3\r\n",
    );
    assert_eq!(out.status.code(), Some(75), "{}", text(&out.stderr));
}

#[test]
fn check_piped_into_a_reader_that_closes_early_does_not_panic() {
    let (_dir, config) = setup(|t| t);
    let mut child = Command::new(env!("CARGO_BIN_EXE_coachmail"))
        .args(["--config", &config, "check"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before anything is read, as `| head -0` would.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn ingest_exits_75_and_records_nothing_when_the_forms_cannot_be_read() {
    let (dir, config) = setup(|t| t);
    let out = coachmail(
        &["--config", &config, "ingest"],
        b"From: x@y.example\r\n\r\nhi\r\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let db = rusqlite::Connection::open(dir.path().join("var/coachmail.db")).unwrap();
    db.execute_batch("ALTER TABLE forms RENAME TO forms_away")
        .unwrap();
    let keyed = b"From: Alice <alice@example.org>\r\nTo: reflect+k7q2mxa3bc4de5fg6hijklmnop@example.org\r\nMessage-ID: <keyed@x>\r\n\r\nData: 3\r\n";
    let out = coachmail(&["--config", &config, "ingest"], keyed);
    assert_eq!(out.status.code(), Some(75), "{}", text(&out.stderr));
    let logged: i64 = db
        .query_row(
            "SELECT count(*) FROM inbound WHERE dedup_key = 'mid:keyed@x'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(logged, 0);
}

#[test]
fn sigterm_during_the_first_pass_stops_between_messages_and_loses_none() {
    let (dir, config) = setup(|t| t);
    let new = dir.path().join("var/inbox/new");
    std::fs::create_dir_all(&new).unwrap();
    std::fs::create_dir_all(dir.path().join("var/inbox/cur")).unwrap();
    std::fs::create_dir_all(dir.path().join("var/inbox/tmp")).unwrap();
    let total = 4000;
    for i in 0..total {
        let m = format!(
            "From: stranger{i}@elsewhere.example\r\nMessage-ID: <s{i}@elsewhere.example>\r\nSubject: hi\r\n\r\nhello {i}\r\n"
        );
        std::fs::write(new.join(format!("{i}.stranger")), m).unwrap();
    }
    let count = |d: &str| {
        std::fs::read_dir(dir.path().join("var/inbox").join(d))
            .unwrap()
            .count()
    };
    let child = Command::new(env!("CARGO_BIN_EXE_coachmail"))
        .args(["--config", &config, "run"])
        .env("COACHMAIL_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Stop as soon as the first pass is under way (refused mail is logged,
    // then leaves the Maildir).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while count("new") == total {
        assert!(
            std::time::Instant::now() < deadline,
            "the first pass never began"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("stopped cleanly"),
        "{}",
        text(&out.stderr)
    );
    // Interrupted mid-pass: some messages wait for the next start, and
    // every message is either still waiting or logged, never both or neither.
    assert!(count("new") > 0, "the pass was not interrupted");
    let db = rusqlite::Connection::open(dir.path().join("var/coachmail.db")).unwrap();
    let logged: i64 = db
        .query_row("SELECT count(*) FROM inbound", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count("new") + count("cur") + logged as usize, total);
}

#[test]
fn two_messages_whose_ids_differ_only_in_invalid_bytes_are_both_kept() {
    let (dir, config) = setup(|t| t);
    for (i, byte) in [0xffu8, 0xfe].into_iter().enumerate() {
        let mut m = b"From: Stranger <s@elsewhere.example>\r\nMessage-ID: <same".to_vec();
        m.push(byte);
        m.extend_from_slice(format!("@x>\r\nSubject: s\r\n\r\nmessage {i}\r\n").as_bytes());
        let out = coachmail(&["--config", &config, "ingest"], &m);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let db = rusqlite::Connection::open(dir.path().join("var/coachmail.db")).unwrap();
    let logged: i64 = db
        .query_row("SELECT count(*) FROM inbound", [], |r| r.get(0))
        .unwrap();
    assert_eq!(logged, 2, "the second message was dropped as already seen");
}

#[test]
fn status_exits_1_when_replies_wait_too_long_in_the_inbox() {
    let (dir, config) = setup(|t| t);
    let out = coachmail(
        &["--config", &config, "ingest"],
        b"From: s@elsewhere.example\r\nMessage-ID: <st2@x>\r\n\r\nhi\r\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let new = dir.path().join("var/inbox/new");
    std::fs::create_dir_all(&new).unwrap();
    let waiting = new.join("1.waiting.host");
    std::fs::write(&waiting, b"From: a@b\r\n\r\nx\r\n").unwrap();
    let out = coachmail(&["--config", &config, "status"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("waiting in the inbox: 1"),
        "{}",
        text(&out.stdout)
    );
    // The same message, twenty minutes old.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(20 * 60);
    std::fs::File::options()
        .write(true)
        .open(&waiting)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let out = coachmail(&["--config", &config, "status", "--json"], b"");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["attention"], true);
    assert_eq!(v["inbox"]["waiting"], 1);
}

#[test]
fn send_form_sends_this_weeks_form_once_and_refuses_an_unknown_pm() {
    let (dir, config) = setup(|t| t);
    let out = coachmail(&["--config", &config, "send-form", "alice"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let forms = |d: &std::path::Path| {
        std::fs::read_dir(d.join("var/outbox"))
            .map(|r| {
                r.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with("-form.eml"))
                    .count()
            })
            .unwrap_or(0)
    };
    assert_eq!(forms(dir.path()), 1);
    let out = coachmail(&["--config", &config, "send-form", "alice"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("already sent"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(forms(dir.path()), 1);
    let out = coachmail(&["--config", &config, "send-form", "nobody"], b"");
    assert_eq!(out.status.code(), Some(64), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("alice"), "{}", text(&out.stderr));
}

#[test]
fn logs_into_a_pipe_carry_no_colour_codes() {
    let (_dir, config) = setup(|t| t);
    let mut child = Command::new(env!("CARGO_BIN_EXE_coachmail"))
        .args(["--config", &config, "ingest"])
        .env("COACHMAIL_LOG", "debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"From: s@elsewhere.example\r\nMessage-ID: <c@x>\r\n\r\nhi\r\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!out.stderr.is_empty(), "nothing was logged");
    assert!(
        !text(&out.stderr).contains('\u{1b}'),
        "{:?}",
        text(&out.stderr)
    );
}

#[test]
fn a_second_run_on_the_same_database_refuses_while_the_first_runs() {
    let (dir, config) = setup(|t| t);
    let mut first = Command::new(env!("CARGO_BIN_EXE_coachmail"))
        .args(["--config", &config, "run"])
        .env("COACHMAIL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let db = dir.path().join("var/coachmail.db");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !db.exists() {
        assert!(std::time::Instant::now() < deadline, "run did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let second = coachmail(&["--config", &config, "run"], b"");
    assert_eq!(second.status.code(), Some(75), "{}", text(&second.stderr));
    assert!(
        text(&second.stderr).contains("already using this database"),
        "{}",
        text(&second.stderr)
    );
    Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status()
        .unwrap();
    assert!(first.wait().unwrap().success());
    // Once the first stopped, the database is free again.
    let mut third = Command::new(env!("CARGO_BIN_EXE_coachmail"))
        .args(["--config", &config, "run"])
        .env("COACHMAIL_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    Command::new("kill")
        .args(["-TERM", &third.id().to_string()])
        .status()
        .unwrap();
    let status = third.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut third.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}");
    assert!(err.contains("stopped cleanly"), "{err}");
}

/// `coachmail ARGS` started from `cwd`.
fn coachmail_in(cwd: &std::path::Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut cmd = coachmail_command(args);
    cmd.current_dir(cwd);
    run_with_stdin(cmd, stdin)
}

#[test]
fn every_relative_path_is_relative_to_the_config_folder_wherever_coachmail_runs() {
    // The deployment shape: /etc/coachmail/coachmail.toml, started by
    // systemd from / and by the MTA's pipe from its own folder.
    let (dir, config) = setup(|t| t);
    let elsewhere = tempfile::tempdir().unwrap();
    let out = coachmail_in(
        elsewhere.path(),
        &["--config", &config, "check", "--json"],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let config_dir = dir.path().join("config");
    let resolved = |key: &str| {
        let p = std::path::PathBuf::from(v["paths"][key].as_str().unwrap());
        assert!(p.starts_with(&config_dir), "{key}: {}", p.display());
        p
    };
    assert_eq!(resolved("database"), config_dir.join("../var/coachmail.db"));
    assert_eq!(resolved("maildir"), config_dir.join("../var/inbox"));
    assert_eq!(resolved("outbox"), config_dir.join("../var/outbox"));
    // `ingest` run from two other folders writes the one database.
    for (i, cwd) in [elsewhere.path(), std::path::Path::new("/")]
        .iter()
        .enumerate()
    {
        let raw = format!("From: s@elsewhere.example\r\nMessage-ID: <cwd{i}@x>\r\n\r\nhi\r\n");
        let out = coachmail_in(cwd, &["--config", &config, "ingest"], raw.as_bytes());
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let db = dir.path().join("var/coachmail.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM inbound", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
    assert!(!elsewhere.path().join("var").exists());
    // The text form prints them too.
    let out = coachmail_in(elsewhere.path(), &["--config", &config, "check"], b"");
    let stdout = text(&out.stdout);
    for label in [
        "database:",
        "framework:",
        "maildir:",
        "outbox:",
        "templates ok:",
    ] {
        assert!(stdout.contains(label), "{label} missing:\n{stdout}");
    }
}

#[test]
fn check_honours_a_pause_recorded_in_the_database() {
    let (_dir, config) = setup(util::trusting_mx);
    let before = coachmail(&["--config", &config, "check", "--json"], b"");
    let before: serde_json::Value = serde_json::from_slice(&before.stdout).unwrap();
    assert_eq!(before["database_read"], false);
    let alice = |v: &serde_json::Value| {
        v["pms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["pm"] == "alice")
            .unwrap()
            .clone()
    };
    assert!(alice(&before)["paused_until"].is_null());
    // Alice is onboarded (the roster is in the database), then pauses for
    // five weeks by a fresh message DMARC verifies.
    let out = coachmail(&["--config", &config, "send-form", "alice"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let (name, value) = util::dmarc("pass", "example.org");
    let raw = format!(
        "{name}: {value}\r\nFrom: Alice Martin <alice@example.org>\r\nTo: pulse@example.org\r\nSubject: pause 5 weeks\r\nMessage-ID: <p5@client.example>\r\n\r\npause 5 weeks\r\n"
    );
    let out = coachmail(&["--config", &config, "ingest"], raw.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let after = coachmail(&["--config", &config, "check", "--json"], b"");
    let after: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    assert_eq!(after["database_read"], true);
    let a = alice(&after);
    assert!(a["paused_until"].is_string(), "{a}");
    // Her next form is the first after the pause: weeks later than before.
    let day = |s: &serde_json::Value| {
        chrono::NaiveDate::parse_from_str(&s.as_str().unwrap()[4..14], "%Y-%m-%d").unwrap()
    };
    let gap = day(&a["next_form"]) - day(&alice(&before)["next_form"]);
    assert!(gap >= chrono::Duration::weeks(4), "{gap:?} {a}");
    let text_out = text(&coachmail(&["--config", &config, "check"], b"").stdout);
    assert!(text_out.contains("paused until"), "{text_out}");
}

#[test]
fn every_deployment_example_uses_the_same_config_and_so_the_same_database() {
    let repo = util::repo();
    let mut configs = Vec::new();
    for file in [
        "contrib/systemd/coachmail.service",
        "scripts/postfix-pipe-example.md",
        "README.md",
    ] {
        let text = std::fs::read_to_string(repo.join(file)).unwrap();
        let found: Vec<String> = text
            .lines()
            .filter(|l| l.contains("/usr/local/bin/coachmail"))
            .map(|l| {
                let after = l
                    .split("--config ")
                    .nth(1)
                    .unwrap_or_else(|| panic!("{file}: no --config in {l}"));
                after.split_whitespace().next().unwrap().to_string()
            })
            .collect();
        assert!(!found.is_empty(), "{file} shows no coachmail command");
        configs.extend(found);
    }
    configs.dedup();
    assert_eq!(configs, ["/etc/coachmail/coachmail.toml"], "{configs:?}");
    // The Postfix example routes both the service address and the forms'
    // reply address.
    let postfix = std::fs::read_to_string(repo.join("scripts/postfix-pipe-example.md")).unwrap();
    for address in ["pulse@example.org    ", "reflect@example.org    "] {
        assert!(
            postfix
                .lines()
                .any(|l| l.starts_with(address) && l.ends_with("coachmail:")),
            "{address} is not routed"
        );
    }
}

/// `coachmail ARGS` with only the given environment (no COACHMAIL_LOG).
fn coachmail_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_coachmail"));
    cmd.args(args)
        .env_remove("COACHMAIL_LOG")
        .env_remove("RUST_LOG")
        .env_remove("COACHMAIL_LOG_FORMAT")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn demo_prints_its_summary_and_no_logs_unless_asked_with_v() {
    let (dir, config) = setup(|t| t);
    let demo_dir = dir.path().join("demo");
    let demo = demo_dir.to_str().unwrap();
    let out = coachmail_env(
        &["--config", &config, "demo", "--weeks", "2", "--dir", demo],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("coach digest"),
        "{}",
        text(&out.stdout)
    );
    // Quiet: not even a warning about the folder it just made (private
    // from the start).
    assert_eq!(text(&out.stderr), "", "demo wrote logs without -v");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&demo_dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "{mode:o}");
    let out = coachmail_env(
        &[
            "--config", &config, "demo", "-v", "--weeks", "2", "--dir", demo,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("inbound applied"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn json_logs_are_one_object_per_line_with_level_and_message() {
    let (dir, config) = setup(|t| t);
    let demo = dir.path().join("demo");
    let out = coachmail_env(
        &[
            "--config",
            &config,
            "demo",
            "-v",
            "--weeks",
            "3",
            "--dir",
            demo.to_str().unwrap(),
        ],
        &[("COACHMAIL_LOG_FORMAT", "json")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines.len() > 10, "{stderr}");
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string() && v["message"].is_string(), "{line}");
    }
    assert!(!stderr.contains("\u{1b}["), "colour codes in JSON logs");
}

#[test]
fn every_config_error_names_the_key_to_change_and_the_fix() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "retention_days = 30",
            "retention_days = \"x\"",
            "`service.retention_days`",
        ),
        (
            "require_reply_key = true",
            "require_reply_key = \"yes\"",
            "`auth.require_reply_key`",
        ),
        ("key = \"maya\"", "", "`coach.key`"),
        (
            "timezone = \"Europe/Paris\"",
            "timezone = \"Mars/Olympus\"",
            "`pm.timezone`",
        ),
        (
            "digest_lead = \"2h\"",
            "digest_lead = \"two hours\"",
            "`schedule.digest_lead`",
        ),
        (
            "form_day = \"fri\"",
            "form_day = \"friyay\"",
            "`schedule.form_day`",
        ),
        (
            "dip_threshold = 1.0",
            "dip_threshold = -3",
            "`schedule.dip_threshold`",
        ),
        (
            "framework = \"framework.toml\"",
            "framework = \"nope.toml\"",
            "`service.framework`",
        ),
        ("name = \"Maya Chen\"", "nome = \"Maya Chen\"", "`nome`"),
        ("[schedule]", "[schedule\n", "coachmail.toml:"),
    ];
    for (from, to, key) in cases {
        let (_dir, config) = setup(|t| {
            let t = if *from == "framework = \"framework.toml\"" {
                t
            } else {
                t.replacen(from, to, 1)
            };
            // The framework line is rewritten by `setup` to an absolute path.
            match *from {
                "framework = \"framework.toml\"" => t
                    .lines()
                    .map(|l| {
                        if l.starts_with("framework = ") {
                            to.to_string()
                        } else {
                            l.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => t,
            }
        });
        let out = coachmail(&["--config", &config, "check"], b"");
        assert_eq!(out.status.code(), Some(78), "{to}");
        let err = text(&out.stderr);
        assert!(err.contains(key), "{to}: the key is not named: {err}");
        assert!(
            err.contains("Fix:") || err.contains("remove it or fix its spelling"),
            "{to}: no fix: {err}"
        );
    }
}
