//! Fuzzes the whole `receive` path on raw bytes — understanding, the
//! store's transaction, the answer rendered and queued — against a real
//! store in memory: it must never panic, never fail (an in-memory store has
//! no machine trouble, so any error would leave a message stuck), and
//! every email it queues must stay under the size budget.
//!
//! The first byte picks the shape: the input as it is; the body of a reply
//! from a registered PM with a valid form key (the form asks about two open
//! actions, so action answers are read); the body of the coach's reply to
//! a digest with its live key (actions, drops, private notes, 1:1
//! changes); or a fresh message from the coach's address (a command). The
//! clock moves seven minutes per input (rate limits and closing forms come
//! into play), and the store starts afresh every 64 inputs.
#![no_main]

use std::cell::RefCell;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use coachmail::config::Config;
use coachmail::engine::{Engine, MAX_EMAIL_BYTES};
use coachmail::reply_key::SeededEntropy;
use coachmail::store::{CoachEntry, NewDigestKey, Store};
use coachmail::week::Week;
use libfuzzer_sys::fuzz_target;

const KEY: &str = "k7q2mxa3bc4de5fg6hijklmnop";
const DIGEST_KEY: &str = "d7q2mxa3bc4de5fg6hijklmnop";

fn start() -> DateTime<Utc> {
    // The Sunday that ends 2026-W48, after alice's form went out.
    DateTime::from_timestamp(1_795_939_200, 0).unwrap_or_default()
}

struct State {
    engine: Engine,
    store: Store,
    runs: u32,
}

fn fresh_store(config: &Config) -> Store {
    let mut store = Store::open_in_memory().expect("an in-memory store opens");
    store.sync_roster(config, start()).expect("the roster syncs");
    let week = Week::new(2026, 48).expect("a week");
    store
        .write(|tx| {
            tx.record_form("alice", week, KEY, "form.1@example.org", start())
                .map(|_| ())
        })
        .expect("the form is recorded");
    let pairing = store
        .current_pairing("alice")
        .expect("the pairing reads")
        .expect("alice is paired")
        .id;
    store
        .write(|tx| {
            tx.record_digest_key(
                &NewDigestKey {
                    reply_key: DIGEST_KEY,
                    pm: "alice",
                    coach: "maya",
                    pairing,
                    week,
                    message_id: "digest.1@example.org",
                    expires_at: start() + Duration::weeks(2),
                },
                start(),
            )?;
            let entry = CoachEntry {
                pairing,
                pm: "alice",
                coach: "maya",
                inbound_id: 0,
                at: start(),
            };
            tx.record_action(&entry, "send the roadmap draft to sales")?;
            tx.record_action(&entry, "book two discovery calls").map(|_| ())
        })
        .expect("the digest key and actions are recorded");
    store
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new({
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/coachmail.toml");
        let mut config = Config::load(&path).expect("the shipped config loads");
        config.auth.trusted_authserv_ids = vec!["mx.example.org".into()];
        let engine = Engine::new(config)
            .expect("the templates load")
            .with_entropy(Box::new(SeededEntropy::new(1)));
        let store = fresh_store(&engine.config);
        State { engine, store, runs: 0 }
    });
}

fuzz_target!(|data: &[u8]| {
    STATE.with(|state| {
        let mut state = state.borrow_mut();
        let state = &mut *state;
        if state.runs % 64 == 0 {
            state.store = fresh_store(&state.engine.config);
        }
        let now = start() + Duration::minutes(7 * i64::from(state.runs % 64));
        state.runs += 1;
        let raw = match data.split_first() {
            Some((mode, rest)) if mode & 7 == 2 || mode & 7 == 4 => {
                // The coach: a reply to the digest, or a fresh message.
                let to = if mode & 7 == 2 {
                    format!("reflect+{DIGEST_KEY}@example.org\r\nIn-Reply-To: <digest.1@example.org>")
                } else {
                    "pulse@example.org".to_string()
                };
                let mut raw = format!(
                    "From: Maya Chen <maya@example.org>\r\nTo: {to}\r\nSubject: Re: digest\r\nMessage-ID: <c{}@x>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
                    state.runs
                )
                .into_bytes();
                raw.extend_from_slice(rest);
                raw
            }
            Some((mode, rest)) if mode & 1 == 1 => {
                let mut raw = format!(
                    "From: Alice Martin <alice@example.org>\r\nTo: reflect+{KEY}@example.org\r\nSubject: Re: week\r\nIn-Reply-To: <form.1@example.org>\r\nMessage-ID: <f{}@x>\r\nContent-Type: {}\r\n\r\n",
                    state.runs,
                    match mode >> 1 & 3 {
                        0 => "text/plain; charset=utf-8",
                        1 => "text/html; charset=utf-8",
                        2 => "text/plain; charset=utf-8; format=flowed; delsp=yes",
                        _ => "text/plain; charset=iso-8859-1",
                    }
                )
                .into_bytes();
                raw.extend_from_slice(rest);
                raw
            }
            _ => data.to_vec(),
        };
        if let Err(e) = state.engine.receive(&mut state.store, &raw, now) {
            panic!("receive failed on an in-memory store: {e}");
        }
        let queued = state
            .store
            .next_due_outbound(now, 1_000)
            .expect("the outbox reads");
        for row in &queued {
            assert!(
                row.bytes.len() < MAX_EMAIL_BYTES,
                "{} queued {} bytes",
                row.key,
                row.bytes.len()
            );
        }
    });
});
