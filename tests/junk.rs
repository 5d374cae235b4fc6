//! Junk on every door: a deterministic generator of broken and hostile
//! messages (truncated MIME, unclosed boundaries, 200-deep nesting, 1 MB
//! header lines, NULs, invalid UTF-8 in headers, unknown charsets, hostile
//! HTML, message/rfc822 nested in itself, an empty message, and seeded
//! byte mutations of a good reply), run through `ingest` and through the
//! Maildir. Nothing panics, and every message gets a disposition.

mod util;

use chrono::Duration;
use coachmail::engine::dedup_key_of;
use coachmail::understand::content_hash;
use util::{Harness, utc};

/// A small deterministic generator (xorshift64*): the same seed, the same junk.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEED: u64 = 0x5eed_c0ac_4a11;

/// The headers of a message from alice, with a Message-ID of its own.
fn head(id: &str, content_type: &str) -> String {
    format!(
        "From: Alice Martin <alice@example.org>\r\nTo: pulse@example.org\r\nSubject: Re: my week\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{id}@junk.example>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n"
    )
}

fn msg(id: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!("{}\r\n{body}", head(id, content_type)).into_bytes()
}

/// Every kind of junk, each with a name for the failure message.
fn junk() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>| out.push((name.to_string(), bytes));
    let good = "Data: 3\r\nDelivery: 4\r\nStakeholders: 2\r\n";

    // Truncated MIME: cut in the middle of a part's headers and of a body.
    let multipart = format!(
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{good}\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPGh0bWw+PGJvZHk+RGF0YTogMzwvYm9keT48L2h0bWw+\r\n--b1--\r\n"
    );
    for (i, cut) in [20, 60, 95, 130].into_iter().enumerate() {
        add(
            &format!("truncated-{i}"),
            msg(
                &format!("trunc{i}"),
                "multipart/alternative; boundary=\"b1\"",
                &multipart[..cut.min(multipart.len())],
            ),
        );
    }
    // Unclosed boundaries: parts that never end, a boundary never declared.
    add(
        "unclosed-boundary",
        msg(
            "unclosed1",
            "multipart/mixed; boundary=\"never\"",
            &format!(
                "--never\r\nContent-Type: text/plain\r\n\r\n{good}--never\r\nContent-Type: multipart/mixed; boundary=\"inner\"\r\n\r\n--inner\r\n\r\nx"
            ),
        ),
    );
    add(
        "undeclared-boundary",
        msg(
            "unclosed2",
            "multipart/mixed",
            &format!("--x\r\n\r\n{good}"),
        ),
    );
    // 200-deep nesting of multiparts.
    let mut nested = String::new();
    for d in 0..200 {
        nested.push_str(&format!(
            "--d{d}\r\nContent-Type: multipart/mixed; boundary=\"d{}\"\r\n\r\n",
            d + 1
        ));
    }
    nested.push_str(&format!("--d200\r\nContent-Type: text/plain\r\n\r\n{good}"));
    for d in (0..=200).rev() {
        nested.push_str(&format!("\r\n--d{d}--\r\n"));
    }
    add(
        "nested-200",
        msg("nested200", "multipart/mixed; boundary=\"d0\"", &nested),
    );
    // A 1 MB header line, and a 1 MB folded one.
    let long = "x".repeat(1 << 20);
    add(
        "header-1mb",
        format!(
            "X-Long: {long}\r\n{}\r\n{good}",
            head("long1", "text/plain")
        )
        .into_bytes(),
    );
    let folded: String = (0..(1 << 20) / 64)
        .map(|_| format!("\r\n {}", "y".repeat(62)))
        .collect();
    add(
        "subject-1mb-folded",
        format!(
            "Subject: a{folded}\r\n{}\r\n{good}",
            head("long2", "text/plain")
        )
        .into_bytes(),
    );
    // NULs in headers and body.
    let mut nul = head("nul1", "text/plain").into_bytes();
    nul.extend_from_slice(b"X-Nul: a\0b\r\n\r\nData: \x003\r\n\0\0\0");
    add("nuls", nul);
    // Invalid UTF-8 in headers (From, Subject, an encoded word).
    let mut bad = b"From: Al\xff\xfece <alice@example.org>\r\nSubject: \xc3\x28 =?utf-8?b?/w==?=\r\nMessage-ID: <badutf1@junk.example>\r\n".to_vec();
    bad.extend_from_slice(format!("\r\n{good}").as_bytes());
    add("invalid-utf8-headers", bad);
    // Unknown charsets, on the message and on an encoded word.
    add(
        "unknown-charset",
        msg("charset1", "text/plain; charset=x-klingon-9", good),
    );
    add(
        "unknown-charset-word",
        format!(
            "Subject: =?x-unknown?q?hi?=\r\n{}\r\n{good}",
            head("charset2", "text/plain; charset=\"\"")
        )
        .into_bytes(),
    );
    // Hostile HTML: self-closing runs, deep nesting, a huge table, a long line.
    let html_cases = [
        "<ul/>x".repeat(40_000),
        "<div>".repeat(100_000),
        format!(
            "<table>{}</table>",
            "<tr><td>Data: 3</td></tr>".repeat(20_000)
        ),
        format!("<p>{}</p>", "a".repeat(2_000_000)),
        "<script>".repeat(10_000) + "<style>" + &"&amp;".repeat(50_000),
    ];
    for (i, html) in html_cases.iter().enumerate() {
        add(
            &format!("hostile-html-{i}"),
            msg(&format!("html{i}"), "text/html; charset=utf-8", html),
        );
    }
    // message/rfc822 nested in itself, 100 levels.
    let mut inner = msg("rfc0", "text/plain", good);
    for level in 1..100 {
        let mut outer = head(&format!("rfc{level}"), "message/rfc822").into_bytes();
        outer.extend_from_slice(b"\r\n");
        outer.extend_from_slice(&inner);
        inner = outer;
    }
    add("rfc822-loop", inner);
    // The empty message.
    add("empty", Vec::new());
    // Seeded byte mutations of a good reply.
    let mut rng = Rng(SEED);
    // Without a Message-ID: each mutation is tagged with one of its own.
    let base = msg("mut", "text/plain; charset=utf-8", good);
    let base = String::from_utf8(base)
        .unwrap()
        .replace("Message-ID: <mut@junk.example>\r\n", "")
        .into_bytes();
    for i in 0..24 {
        let mut m = base.clone();
        for _ in 0..1 + rng.below(12) {
            let at = rng.below(m.len());
            match rng.below(3) {
                0 => m[at] = rng.next() as u8,
                1 => {
                    m.insert(at, rng.next() as u8);
                }
                _ => {
                    m.remove(at);
                }
            }
        }
        // A Message-ID of its own, so no two are one message.
        let mut tagged = format!("Message-ID: <mut{i}@junk.example>\r\n").into_bytes();
        tagged.extend_from_slice(&m);
        add(&format!("mutation-{i}"), tagged);
    }
    out
}

/// Every message is logged once: under its Message-ID, or, when it could
/// not be read far enough to have one, under the hash of its bytes.
fn assert_dispositions(db: &rusqlite::Connection, all: &[(String, Vec<u8>)]) {
    for (name, bytes) in all {
        let logged: i64 = db
            .query_row(
                "SELECT count(*) FROM inbound WHERE dedup_key IN (?1, ?2)",
                [
                    dedup_key_of(bytes),
                    format!("sha256:{}", content_hash(bytes)),
                ],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(logged, 1, "{name} has no disposition");
    }
    let total: i64 = db
        .query_row("SELECT count(*) FROM inbound", [], |r| r.get(0))
        .unwrap();
    assert_eq!(total as usize, all.len());
}

fn no_key(t: String) -> String {
    t.replace("require_reply_key = true", "require_reply_key = false")
}

#[test]
fn junk_through_ingest_never_panics_and_every_message_gets_a_disposition() {
    let dir = tempfile::tempdir().unwrap();
    let config = util::write_config(dir.path(), no_key);
    let config = config.to_str().unwrap();
    let all = junk();
    for (name, bytes) in &all {
        let out = util::coachmail(&["--config", config, "ingest"], bytes);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        let expected = if name == "empty" { 65 } else { 0 };
        assert_eq!(out.status.code(), Some(expected), "{name}: {stderr}");
    }
    let db = rusqlite::Connection::open(dir.path().join("var/coachmail.db")).unwrap();
    assert_dispositions(&db, &all);
    let failures: i64 = db
        .query_row("SELECT count(*) FROM inbound_failures", [], |r| r.get(0))
        .unwrap();
    assert_eq!(failures, 0);
}

#[test]
fn junk_through_the_maildir_never_panics_and_leaves_nothing_waiting() {
    let mut h = Harness::start_with(utc(2026, 11, 24, 9, 0), no_key);
    let all = junk();
    for (i, (_, bytes)) in all.iter().enumerate() {
        h.deliver(&format!("{i:03}.junk.host"), bytes);
    }
    h.clock.advance(Duration::minutes(1));
    let pass = h.pass();
    assert_eq!(pass.received, all.len());
    let inbox = h.service.inbox.as_ref().unwrap().dir().to_path_buf();
    assert_eq!(std::fs::read_dir(inbox.join("new")).unwrap().count(), 0);
    assert!(h.store().quarantined().unwrap().is_empty());
    let db = rusqlite::Connection::open(&h.service.engine.config.service.database).unwrap();
    assert_dispositions(&db, &all);
}
