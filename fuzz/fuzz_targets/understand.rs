//! Fuzzes `understand` on raw bytes: it must never panic, whatever comes in.
//!
//! Half the inputs are used as they are (MIME, headers, charsets); the other
//! half become the body of a message from a registered PM with a valid
//! reply key, so the fuzzer spends its time in quotes and the grammar
//! instead of being refused at the door.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use coachmail::config::Config;
use coachmail::understand::{Context, MemoryForms, understand};
use coachmail::week::Week;
use libfuzzer_sys::fuzz_target;

const KEY: &str = "k7q2mxa3bc4de5fg6hijklmnop";

fn forms() -> &'static MemoryForms {
    static FORMS: OnceLock<MemoryForms> = OnceLock::new();
    FORMS.get_or_init(|| MemoryForms::new().with_form(KEY, "alice", Week::new(2026, 48).unwrap()))
}

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/coachmail.toml");
        let mut c = Config::load(&path).expect("the shipped config loads");
        c.auth.trusted_authserv_ids = vec!["mx.example.org".into()];
        c
    })
}

fuzz_target!(|data: &[u8]| {
    let ctx = Context {
        config: config(),
        forms: forms(),
        now: chrono::DateTime::from_timestamp(1_796_000_000, 0).unwrap_or_default(),
    };
    match data.split_first() {
        Some((mode, rest)) if mode & 1 == 1 => {
            let mut raw = format!(
                "From: Alice <alice@example.org>\r\nTo: reflect+{KEY}@example.org\r\nSubject: Re: week\r\nMessage-ID: <f@x>\r\nContent-Type: {}\r\n\r\n",
                match mode >> 1 & 3 {
                    0 => "text/plain; charset=utf-8",
                    1 => "text/html; charset=utf-8",
                    2 => "text/plain; charset=utf-8; format=flowed; delsp=yes",
                    _ => "text/plain; charset=iso-8859-1",
                }
            )
            .into_bytes();
            raw.extend_from_slice(rest);
            let _ = understand(&raw, &ctx).unwrap();
        }
        _ => {
            let _ = understand(data, &ctx).unwrap();
        }
    }
});
