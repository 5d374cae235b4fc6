//! The reply corpus: every `tests/fixtures/replies/<client>/<name>.eml` is
//! understood, once with LF and once with CRLF line endings, and compared
//! with its `<name>.expected.json`. A mismatch writes `<name>.failed` (the
//! actual JSON) next to it.
//!
//! An expected file holds only the fields that matter for that message:
//! any field of the `coachmail parse` JSON compared exactly, plus
//! `reason_contains`, `note_excludes` (also checked against `reply_text`),
//! `invalid` as `[{line, reason_contains}]`, and `policy` to change the test
//! config for that message (`require_reply_key`, `max_message_bytes`,
//! `no_forms`).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use coachmail::config::Config;
use coachmail::understand::{Context, Forms, MemoryForms, understand};
use serde_json::{Value, json};

#[path = "fixtures/replies/forms.rs"]
mod corpus;

use corpus::corpus_forms;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replies")
}

fn config() -> Config {
    let mut c =
        Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/coachmail.toml")).unwrap();
    c.auth.trusted_authserv_ids = vec!["mx.example.org".into()];
    c
}

fn now() -> DateTime<Utc> {
    "2026-11-28T10:00:00Z".parse().unwrap()
}

fn emls() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for client in std::fs::read_dir(root()).unwrap() {
        let dir = client.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let p = f.unwrap().path();
            if p.extension().is_some_and(|e| e == "eml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn expected_path(eml: &Path) -> PathBuf {
    eml.with_extension("expected.json")
}

fn to_crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 20);
    for &b in raw {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

fn to_lf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\r' && raw.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

/// Differences between what the expected file says and what came out.
fn compare(expected: &Value, actual: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(exp) = expected.as_object() else {
        return vec!["expected file is not a JSON object".into()];
    };
    let field = |name: &str| actual.get(name).cloned().unwrap_or(Value::Null);
    for (k, v) in exp {
        match k.as_str() {
            "policy" => {}
            "reason_contains" => {
                let reason = field("reason");
                let want = v.as_str().unwrap_or_default();
                if !reason.as_str().is_some_and(|r| r.contains(want)) {
                    problems.push(format!("reason {reason} does not contain {want:?}"));
                }
            }
            "note_excludes" => {
                for w in v.as_array().into_iter().flatten() {
                    let w = w.as_str().unwrap_or_default();
                    for f in ["note", "reply_text"] {
                        if field(f).as_str().is_some_and(|n| n.contains(w)) {
                            problems.push(format!("{f} contains {w:?}"));
                        }
                    }
                }
            }
            "invalid" => {
                let got = field("invalid");
                let got = got.as_array().cloned().unwrap_or_default();
                let want = v.as_array().cloned().unwrap_or_default();
                if got.len() != want.len() {
                    problems.push(format!(
                        "invalid: expected {} entries, got {got:?}",
                        want.len()
                    ));
                    continue;
                }
                for (g, w) in got.iter().zip(want.iter()) {
                    if g["line"] != w["line"] {
                        problems.push(format!("invalid line {} != {}", g["line"], w["line"]));
                    }
                    let want_reason = w["reason_contains"].as_str().unwrap_or_default();
                    if !g["reason"]
                        .as_str()
                        .is_some_and(|r| r.contains(want_reason))
                    {
                        problems.push(format!(
                            "invalid reason {} does not contain {want_reason:?}",
                            g["reason"]
                        ));
                    }
                }
            }
            "comments" | "scores" => {
                let got = match field(k) {
                    Value::Null => json!({}),
                    g => g,
                };
                if &got != v {
                    problems.push(format!("{k}: expected {v}, got {got}"));
                }
            }
            "skipped" => {
                let mut got: Vec<String> = field(k)
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect();
                got.sort();
                let mut want: Vec<String> = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect();
                want.sort();
                if got != want {
                    problems.push(format!("skipped: expected {want:?}, got {got:?}"));
                }
            }
            _ => {
                let got = field(k);
                if &got != v {
                    problems.push(format!("{k}: expected {v}, got {got}"));
                }
            }
        }
    }
    problems
}

fn run_one(eml: &Path, base: &Config) -> Result<(), String> {
    let raw = std::fs::read(eml).unwrap();
    let exp_path = expected_path(eml);
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(&exp_path)
            .map_err(|e| format!("{}: no expected file ({e})", eml.display()))?,
    )
    .map_err(|e| format!("{}: bad JSON ({e})", exp_path.display()))?;
    let mut config = base.clone();
    let policy = &expected["policy"];
    if let Some(b) = policy["require_reply_key"].as_bool() {
        config.auth.require_reply_key = b;
    }
    if let Some(n) = policy["max_message_bytes"].as_u64() {
        config.auth.max_message_bytes = n as usize;
    }
    let map = corpus_forms();
    let forms: &dyn Forms = if policy["no_forms"].as_bool() == Some(true) {
        &MemoryForms::new()
    } else {
        &map
    };
    let ctx = Context {
        config: &config,
        forms,
        now: now(),
    };
    let mut problems = Vec::new();
    let mut last = Value::Null;
    for (ending, bytes) in [("LF", to_lf(&raw)), ("CRLF", to_crlf(&to_lf(&raw)))] {
        let u = understand(&bytes, &ctx).unwrap();
        let actual = serde_json::to_value(&u).unwrap();
        for p in compare(&expected, &actual) {
            problems.push(format!("[{ending}] {p}"));
        }
        last = actual;
    }
    let failed = eml.with_extension("failed");
    if problems.is_empty() {
        let _ = std::fs::remove_file(&failed);
        Ok(())
    } else {
        let _ = std::fs::write(
            &failed,
            serde_json::to_string_pretty(&last).unwrap_or_default(),
        );
        Err(format!("{}:\n  {}", eml.display(), problems.join("\n  ")))
    }
}

#[test]
fn corpus_is_not_empty_and_every_message_has_an_expected_outcome() {
    let emls = emls();
    assert!(
        emls.len() >= 60,
        "only {} messages in the corpus",
        emls.len()
    );
    let lacking: Vec<_> = emls.iter().filter(|e| !expected_path(e).exists()).collect();
    assert!(lacking.is_empty(), "no expected file for {lacking:?}");
    // …and no expected file without its message.
    for client in std::fs::read_dir(root()).unwrap() {
        let dir = client.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let p = f.unwrap().path();
            let name = p.to_string_lossy().to_string();
            if let Some(stem) = name.strip_suffix(".expected.json") {
                assert!(
                    Path::new(&format!("{stem}.eml")).exists(),
                    "{name} has no .eml"
                );
            }
        }
    }
}

#[test]
fn every_reply_in_the_corpus_is_understood_as_expected() {
    let base = config();
    let emls = emls();
    assert!(!emls.is_empty());
    let failures: Vec<String> = emls
        .iter()
        .filter_map(|e| run_one(e, &base).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} messages differ:\n{}",
        failures.len(),
        emls.len(),
        failures.join("\n")
    );
}

#[test]
fn understanding_is_deterministic_and_hashes_the_raw_bytes() {
    let base = config();
    let forms = corpus_forms();
    let ctx = Context {
        config: &base,
        forms: &forms,
        now: now(),
    };
    for eml in emls().iter().take(10) {
        let raw = std::fs::read(eml).unwrap();
        let a = understand(&raw, &ctx).unwrap();
        let b = understand(&raw, &ctx).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.content_hash, coachmail::understand::content_hash(&raw));
        assert_eq!(a.content_hash.len(), 64);
    }
}
