//! Every local fault makes `ingest` exit 75 (the mail server retries
//! later), never a bounce, and `status` shows it and exits 1: a full
//! file system, a read-only database folder, a read-only database file.
//!
//! Permissions mean nothing to root, so when the tests run as root the
//! service runs as `nobody` (with `setpriv`), as a real install would run
//! it as its own user. The full disk is a tiny tmpfs mounted in a private
//! mount namespace (`unshare`), gone when the test's shell exits.

mod util;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `nobody`'s uid and gid when the tests run as root; `None` otherwise.
fn service_user() -> Option<(u32, u32)> {
    let me = std::fs::metadata("/proc/self").unwrap().uid();
    if me != 0 {
        return None;
    }
    let id = |flag: &str| {
        let out = Command::new("id").args([flag, "nobody"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u32>()
            .unwrap()
    };
    Some((id("-u"), id("-g")))
}

/// The binary as the service user, with `stdin`.
fn coachmail(args: &[&str], stdin: &[u8]) -> Output {
    let bin = env!("CARGO_BIN_EXE_coachmail");
    let mut cmd = match service_user() {
        Some((uid, gid)) => {
            let mut c = Command::new("setpriv");
            c.args([
                format!("--reuid={uid}"),
                format!("--regid={gid}"),
                "--clear-groups".into(),
                bin.into(),
            ]);
            c
        }
        None => Command::new(bin),
    };
    cmd.args(args).env("COACHMAIL_LOG", "warn");
    util::run_with_stdin(cmd, stdin)
}

use util::text;

fn msg(id: &str) -> Vec<u8> {
    format!(
        "From: Alice Martin <alice@example.org>\r\nTo: pulse@example.org\r\nSubject: my week\r\nMessage-ID: <{id}@example.org>\r\n\r\nData: 3\r\n"
    )
    .into_bytes()
}

/// A service folder the service user owns, its config (replies without a
/// reply key accepted), and the database path.
fn setup() -> (tempfile::TempDir, String, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = util::write_config(dir.path(), |t| {
        t.replace("require_reply_key = true", "require_reply_key = false")
    });
    std::fs::create_dir_all(dir.path().join("var")).unwrap();
    // The service user must read the framework and templates whatever
    // folder the checkout lives in: copies inside its own folder.
    let repo = util::repo();
    std::fs::copy(
        repo.join("config/framework.toml"),
        dir.path().join("config/framework.toml"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    for e in std::fs::read_dir(repo.join("templates")).unwrap().flatten() {
        std::fs::copy(e.path(), dir.path().join("templates").join(e.file_name())).unwrap();
    }
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("framework = ") {
                "framework = \"framework.toml\"".to_string()
            } else if l.starts_with("templates = ") {
                "templates = \"../templates\"".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&config, text).unwrap();
    give_to_service_user(dir.path());
    let db = dir.path().join("var/coachmail.db");
    (dir, config.to_string_lossy().into_owned(), db)
}

fn give_to_service_user(dir: &Path) {
    if let Some((uid, gid)) = service_user() {
        for entry in walk(dir) {
            std::os::unix::fs::chown(&entry, Some(uid), Some(gid)).unwrap();
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    if dir.is_dir() {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            out.extend(walk(&e.path()));
        }
    }
    out
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn status(config: &str) -> (Option<i32>, serde_json::Value) {
    let out = coachmail(&["--config", config, "status", "--json"], b"");
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{} {}", text(&out.stdout), text(&out.stderr)));
    (out.status.code(), v)
}

#[test]
fn ingest_exits_75_when_the_database_folder_is_read_only_and_status_says_so() {
    let (dir, config, db) = setup();
    let out = coachmail(&["--config", &config, "ingest"], &msg("first"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(db.exists());
    // No journal can be made beside the database any more (0500 is
    // private already, so the service does not tighten it back).
    chmod(&dir.path().join("var"), 0o500);
    let out = coachmail(&["--config", &config, "ingest"], &msg("second"));
    assert_eq!(out.status.code(), Some(75), "{}", text(&out.stderr));
    let (code, v) = status(&config);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["attention"], true);
    assert!(v["store"]["last_error"]["class"].is_string(), "{v}");
    // Fixed: the message goes in, and status is quiet again.
    chmod(&dir.path().join("var"), 0o700);
    let out = coachmail(&["--config", &config, "ingest"], &msg("second"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (code, v) = status(&config);
    assert_eq!(code, Some(0), "{v}");
    assert!(v["store"]["last_error"].is_null(), "{v}");
}

#[test]
fn ingest_exits_75_when_the_database_file_is_read_only_to_the_service_user() {
    let (_dir, config, db) = setup();
    let out = coachmail(&["--config", &config, "ingest"], &msg("first"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    chmod(&db, 0o400);
    let out = coachmail(&["--config", &config, "ingest"], &msg("second"));
    assert_eq!(out.status.code(), Some(75), "{}", text(&out.stderr));
    let (code, v) = status(&config);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["store"]["not_writable"], "cannot open", "{v}");
    chmod(&db, 0o600);
    let out = coachmail(&["--config", &config, "ingest"], &msg("second"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn ingest_exits_75_when_the_disk_is_full_and_status_shows_the_last_store_error() {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    std::fs::create_dir_all(&disk).unwrap();
    let config = util::write_config(dir.path(), |t| {
        t.replace("require_reply_key = true", "require_reply_key = false")
            .replace(
                "database = \"../var/coachmail.db\"",
                &format!("database = {:?}", disk.join("coachmail.db")),
            )
    });
    for (name, id) in [("first.eml", "first"), ("second.eml", "second")] {
        std::fs::write(dir.path().join(name), msg(id)).unwrap();
    }
    // One shell in a private mount namespace: a 2 MB tmpfs, a first
    // message, the disk filled, a second message, status, room again.
    let script = r#"
        set -u
        mount -t tmpfs -o size=2m tmpfs "$DISK" || { echo "cannot-mount"; exit 0; }
        "$BIN" --config "$CONFIG" ingest < "$DIR/first.eml"; echo "first=$?"
        dd if=/dev/zero of="$DISK/filler" bs=4k 2>/dev/null; echo "filled"
        "$BIN" --config "$CONFIG" ingest < "$DIR/second.eml"; echo "full=$?"
        "$BIN" --config "$CONFIG" status; echo "status=$?"
        rm "$DISK/filler"
        "$BIN" --config "$CONFIG" ingest < "$DIR/second.eml"; echo "freed=$?"
        "$BIN" --config "$CONFIG" status; echo "status-after=$?"
    "#;
    let out = Command::new("unshare")
        .args(["-rm", "sh", "-c", script])
        .env("DISK", &disk)
        .env("DIR", dir.path())
        .env("BIN", env!("CARGO_BIN_EXE_coachmail"))
        .env("CONFIG", &config)
        .env("COACHMAIL_LOG", "warn")
        .output();
    let out = match out {
        Ok(out) if !text(&out.stdout).contains("cannot-mount") && out.status.success() => out,
        other => {
            let why = format!("cannot mount a tmpfs in a private namespace here: {other:?}");
            assert!(
                std::env::var_os("COACHMAIL_REQUIRE_REAL_MAIL").is_none(),
                "{why}"
            );
            eprintln!("skipped: {why}");
            return;
        }
    };
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(stdout.contains("first=0"), "{stdout}{stderr}");
    assert!(stdout.contains("full=75"), "{stdout}{stderr}");
    assert!(stdout.contains("status=1"), "{stdout}{stderr}");
    assert!(stdout.contains("store: last error"), "{stdout}{stderr}");
    assert!(stdout.contains("freed=0"), "{stdout}{stderr}");
    assert!(stdout.contains("status-after=0"), "{stdout}{stderr}");
}
