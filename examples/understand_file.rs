//! Understands one message file with the shipped config and no store, and
//! prints the `coachmail parse` JSON line. Used to measure peak memory on
//! large messages: `/usr/bin/time -v target/release/examples/understand_file big.eml`.
//! With `--open`, a message without a reply key is accepted
//! (`require_reply_key = false`), to see what would be read from it.

use std::path::Path;

use coachmail::config::Config;
use coachmail::understand::{Context, MemoryForms, understand};

fn main() {
    let open = std::env::args().any(|a| a == "--open");
    let Some(file) = std::env::args().skip(1).find(|a| a != "--open") else {
        eprintln!("usage: understand_file MESSAGE.eml");
        std::process::exit(64);
    };
    let mut config =
        match Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/coachmail.toml")) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(78);
            }
        };
    config.auth.require_reply_key = !open;
    let raw = match std::fs::read(&file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot read {file}: {e}");
            std::process::exit(66);
        }
    };
    let ctx = Context {
        config: &config,
        forms: &MemoryForms::new(),
        now: chrono::Utc::now(),
    };
    let u = understand(&raw, &ctx).unwrap();
    println!("{}", serde_json::to_string(&u).unwrap_or_default());
}
