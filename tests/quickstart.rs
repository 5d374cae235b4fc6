//! The README's quick start, exactly as written, on a fresh copy of the
//! shipped config and templates: every `cargo run --release -- …` line of
//! its code blocks is run with the built binary, `run` in the background,
//! and the loop must complete: a form out, the sample reply read, stored
//! and confirmed.

mod util;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

/// The argument lists of the quick start's `cargo run --release -- …` lines.
fn quick_start_steps() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(util::repo().join("README.md")).unwrap();
    let section = readme.split("## Quick start").nth(1).unwrap();
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter_map(|l| l.trim().strip_prefix("cargo run --release -- "))
        .map(|l| {
            l.split('#')
                .next()
                .unwrap()
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

fn outbox_has(dir: &Path, part: &str) -> bool {
    std::fs::read_dir(dir.join("var/outbox"))
        .map(|r| {
            r.flatten()
                .any(|e| e.file_name().to_string_lossy().contains(part))
        })
        .unwrap_or(false)
}

#[test]
fn the_readme_quick_start_completes_on_a_fresh_copy() {
    let steps = quick_start_steps();
    let names: Vec<&str> = steps.iter().map(|s| s[0].as_str()).collect();
    assert_eq!(names, ["demo", "check", "run", "send-form", "sample-reply"]);
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&util::repo().join("config"), &dir.path().join("config"));
    copy_dir(
        &util::repo().join("templates"),
        &dir.path().join("templates"),
    );
    let bin = env!("CARGO_BIN_EXE_coachmail");
    let mut service = None;
    for args in &steps {
        if args[0] == "run" {
            service = Some(
                Command::new(bin)
                    .args(args)
                    .current_dir(dir.path())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap(),
            );
            // The service is up once it made the database.
            let deadline = Instant::now() + Duration::from_secs(30);
            while !dir.path().join("var/coachmail.db").exists() {
                assert!(Instant::now() < deadline, "run did not start");
                std::thread::sleep(Duration::from_millis(50));
            }
            continue;
        }
        let out = Command::new(bin)
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut service = service.expect("the quick start runs the service");
    assert!(outbox_has(dir.path(), "-form.eml"), "no form for alice");
    // The reply is read, stored and confirmed by the running service.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !outbox_has(dir.path(), "-confirm.eml") {
        assert!(
            Instant::now() < deadline,
            "no confirmation; inbox new/ still holds {:?}",
            std::fs::read_dir(dir.path().join("var/inbox/new")).map(|r| r.count())
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let db = rusqlite::Connection::open(dir.path().join("var/coachmail.db")).unwrap();
    let answers: i64 = db
        .query_row(
            "SELECT count(*) FROM answers WHERE pm = 'alice' AND score = 4",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(answers, 8);
    let killed = Command::new("kill")
        .args(["-TERM", &service.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(service.wait().unwrap().success());
}
