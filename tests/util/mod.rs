//! A running coachmail in a temp folder: the shipped demo config, a real
//! SQLite file, the real templates, a Maildir inbox and the file transport,
//! driven by a manual clock.
#![allow(dead_code)]

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, TimeZone, Utc};
use coachmail::clock::{Clock, ManualClock};
use coachmail::config::Config;
use coachmail::daemon::{Parts, Service};
use coachmail::outbound::{Copies, Copying, FileTransport, Parcel, Transport};
use coachmail::reply_key::SeededEntropy;
use coachmail::store::Store;
use mail_parser::MessageParser;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped config, with `edit` applied, living in `dir/config/`.
pub fn config_in(dir: &Path, edit: impl Fn(String) -> String) -> Config {
    Config::load(&write_config(dir, edit)).unwrap()
}

/// Writes the shipped config, with `edit` applied, to `dir/config/`
/// without loading it (it may be broken on purpose).
pub fn write_config(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let shipped = std::fs::read_to_string(repo().join("config/coachmail.toml")).unwrap();
    let text = shipped
        .replace(
            "framework = \"framework.toml\"",
            &format!("framework = {:?}", repo().join("config/framework.toml")),
        )
        .replace(
            "templates = \"../templates\"",
            &format!("templates = {:?}", repo().join("templates")),
        );
    let text = edit(text);
    std::fs::create_dir_all(dir.join("config")).unwrap();
    let path = dir.join("config/coachmail.toml");
    std::fs::write(&path, &text).unwrap();
    path
}

pub fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// One sent email: the outbox row's key and recipient as the transport
/// got them, and the message parsed back with mail-parser.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The `.eml` file the file transport wrote it to.
    pub path: PathBuf,
    /// The outbox idempotency key, e.g. `form:alice:2026-W48`.
    pub key: String,
    pub bytes: Vec<u8>,
    pub to: String,
    pub subject: String,
    pub date: DateTime<Utc>,
    pub text: String,
    pub html: String,
}

impl Sent {
    fn of(parcel: Parcel, path: PathBuf) -> Sent {
        let msg = MessageParser::default().parse(&parcel.bytes[..]).unwrap();
        let to = msg
            .to()
            .unwrap()
            .first()
            .unwrap()
            .address()
            .unwrap()
            .to_string();
        assert_eq!(to, parcel.to, "the envelope and the To header differ");
        Sent {
            path,
            key: parcel.key.clone(),
            to,
            subject: msg.subject().unwrap_or_default().to_string(),
            date: DateTime::from_timestamp(msg.date().unwrap().to_timestamp(), 0).unwrap(),
            text: msg.body_text(0).unwrap_or_default().into_owned(),
            html: msg.body_html(0).unwrap_or_default().into_owned(),
            bytes: parcel.bytes,
        }
    }

    /// `form`, `reminder`, `digest`, `confirm`, `help`…: the key's first part.
    pub fn kind(&self) -> &str {
        self.key.split(':').next().unwrap_or("")
    }

    pub fn headers(&self) -> coachmail::replies::FormHeaders {
        coachmail::replies::read_form(&self.bytes).unwrap()
    }
}

/// A service on a manual clock in a temp folder, wired exactly as `run`
/// wires one (`Service::open`), delivering through the file transport with
/// a copy of each sent message kept for the test.
pub struct Harness {
    pub dir: tempfile::TempDir,
    pub clock: ManualClock,
    pub service: Service,
    copies: Copies,
    sent: RefCell<Vec<Sent>>,
    runtime: tokio::runtime::Runtime,
}

impl Harness {
    pub fn start(at: DateTime<Utc>) -> Harness {
        Harness::start_with(at, |t| t)
    }

    pub fn start_with(at: DateTime<Utc>, edit: impl Fn(String) -> String) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(at);
        let (service, copies) = Harness::service(dir.path(), at, &edit);
        Harness {
            dir,
            clock,
            service,
            copies,
            sent: RefCell::new(Vec::new()),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        }
    }

    fn service(
        dir: &Path,
        at: DateTime<Utc>,
        edit: &dyn Fn(String) -> String,
    ) -> (Service, Copies) {
        let config = config_in(dir, edit);
        let transport = Copying::new(Box::new(FileTransport::new(dir.join("var/outbox"))));
        let copies = transport.copies();
        let service = Service::open(
            config,
            at,
            Parts {
                transport: Some(Box::new(transport) as Box<dyn Transport>),
                entropy: Some(Box::new(SeededEntropy::new(at.timestamp() as u64))),
            },
        )
        .unwrap();
        (service, copies)
    }

    /// Stops the service (drops every handle) and starts a new one on the
    /// same files, as a restart of the process would.
    pub fn restart(&mut self) {
        self.collect();
        let now = self.clock.now();
        let (fresh, copies) = Harness::service(self.dir.path(), now, &|t| t);
        self.service = fresh;
        self.copies = copies;
    }

    /// [`Harness::restart`] with the shipped config edited by `edit` (a
    /// roster change between two runs).
    pub fn restart_with(&mut self, edit: impl Fn(String) -> String) {
        self.collect();
        let now = self.clock.now();
        let (fresh, copies) = Harness::service(self.dir.path(), now, &edit);
        self.service = fresh;
        self.copies = copies;
    }

    /// The harness's one notion of the time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn pass(&mut self) -> coachmail::daemon::Pass {
        let now = self.clock.now();
        let pass = self.runtime.block_on(self.service.pass(now)).unwrap();
        self.collect();
        pass
    }

    /// Runs `f` on the harness's runtime (for async parts of the service).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    fn collect(&self) {
        let file = FileTransport::new(self.outbox_dir());
        let mut sent = self.sent.borrow_mut();
        for parcel in self.copies.take() {
            let path = file.path_of(&parcel);
            sent.push(Sent::of(parcel, path));
        }
    }

    /// Moves the clock to `until` in `step`s, one pass per step.
    pub fn run_until(&mut self, until: DateTime<Utc>, step: Duration) {
        while self.clock.now() < until {
            let next = (self.clock.now() + step).min(until);
            self.clock.set(next);
            self.pass();
        }
    }

    /// Moves the clock without running (the service is down).
    pub fn down_until(&mut self, until: DateTime<Utc>) {
        self.clock.set(until);
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.dir.path().join("var/outbox")
    }

    /// Every email sent so far, in sending order (a message sent twice
    /// appears twice).
    pub fn sent(&self) -> Vec<Sent> {
        self.collect();
        self.sent.borrow().clone()
    }

    pub fn sent_of(&self, kind: &str) -> Vec<Sent> {
        self.sent()
            .into_iter()
            .filter(|s| s.kind() == kind)
            .collect()
    }

    /// Drops a message into the service's Maildir, as a mail server would.
    pub fn deliver(&self, name: &str, bytes: &[u8]) {
        self.service
            .inbox
            .as_ref()
            .unwrap()
            .deliver(name, bytes)
            .unwrap();
    }

    pub fn store(&self) -> &Store {
        &self.service.store
    }
}

// --- for command and privacy tests ------------------------------------------

/// The authserv-id the tests' config trusts.
pub const MX: &str = "mx.example.org";

/// The shipped config, trusting [`MX`]'s DMARC verdicts.
pub fn trusting_mx(text: String) -> String {
    text.replace(
        "trusted_authserv_ids = []",
        &format!("trusted_authserv_ids = [\"{MX}\"]"),
    )
}

/// An `Authentication-Results` header from [`MX`] with `dmarc=<result>`
/// for `domain`.
pub fn dmarc(result: &str, domain: &str) -> (String, String) {
    (
        "Authentication-Results".to_string(),
        format!("{MX}; spf=pass smtp.mailfrom={domain}; dmarc={result} header.from={domain}"),
    )
}

/// A fresh plain-text message as a mail client sends it: From `from`
/// (name, address) to the service, with `headers` added before the body.
pub fn mail(
    from: (&str, &str),
    subject: &str,
    body: &str,
    headers: &[(String, String)],
    unique: &str,
    date: DateTime<Utc>,
) -> Vec<u8> {
    let mut m = String::new();
    for (name, value) in headers {
        m.push_str(&format!("{name}: {value}\r\n"));
    }
    m.push_str(&format!("From: {} <{}>\r\n", from.0, from.1));
    m.push_str("To: PM Pulse <pulse@example.org>\r\n");
    m.push_str(&format!("Subject: {subject}\r\n"));
    m.push_str(&format!("Date: {}\r\n", date.to_rfc2822()));
    m.push_str(&format!("Message-ID: <{unique}@client.example>\r\n"));
    m.push_str("MIME-Version: 1.0\r\n");
    m.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    m.push_str("Content-Transfer-Encoding: 8bit\r\n\r\n");
    m.push_str(&body.replace('\n', "\r\n"));
    m.push_str("\r\n");
    m.into_bytes()
}

impl Sent {
    /// The message, parsed.
    pub fn message(&self) -> mail_parser::Message<'_> {
        MessageParser::default().parse(&self.bytes[..]).unwrap()
    }

    /// A header's raw value, trimmed.
    pub fn header(&self, name: &str) -> Option<String> {
        let m = self.message();
        m.headers_raw()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    }
}

impl Harness {
    /// Delivers `bytes` to the Maildir and runs one pass at the clock's time.
    pub fn deliver_and_pass(&mut self, name: &str, bytes: &[u8]) -> coachmail::daemon::Pass {
        self.deliver(name, bytes);
        self.pass()
    }

    /// How many emails were sent so far: a mark for [`Harness::sent_new`].
    pub fn sent_count(&self) -> usize {
        self.sent().len()
    }

    /// The emails sent after the mark `before` (from [`Harness::sent_count`]).
    pub fn sent_new(&self, before: usize) -> Vec<Sent> {
        self.sent().into_iter().skip(before).collect()
    }

    /// Rows in `table` about `pm` (its `pm` column), read from the file.
    pub fn rows_about(&self, table: &str, pm: &str) -> i64 {
        let conn =
            rusqlite::Connection::open(&self.service.engine.config.service.database).unwrap();
        conn.query_row(
            &format!("SELECT count(*) FROM {table} WHERE pm = ?1"),
            [pm],
            |r| r.get(0),
        )
        .unwrap()
    }
}

/// Captures every log line at DEBUG written while `f` runs.
pub fn logs_of<T>(f: impl FnOnce() -> T) -> (T, String) {
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    #[derive(Clone)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf(Arc::new(Mutex::new(Vec::new())));
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let out = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    (out, text)
}

/// Every skill of the framework with `score`, as a simulated client reply.
pub fn reply_with(
    h: &Harness,
    form: &Sent,
    from: (&str, &str),
    score: u8,
    note: &str,
    unique: &str,
) -> Vec<u8> {
    use coachmail::replies::{ClientShape, ReplyContent, compose};
    let scores = h
        .service
        .engine
        .config
        .framework
        .active()
        .map(|s| (s.name.clone(), s.key.clone(), score))
        .collect();
    compose(
        ClientShape::OutlookTopPost,
        &form.headers(),
        from,
        &ReplyContent {
            scores,
            note: note.to_string(),
        },
        h.clock.now(),
        unique,
    )
}

/// The reply key of the one form [`one_form`] knows.
pub const KEY: &str = "k7q2mxa3bc4de5fg6hijklmnop";

/// A forms lookup that knows one form: alice's, week 2026-W48, key [`KEY`].
pub fn one_form() -> coachmail::understand::MemoryForms {
    coachmail::understand::MemoryForms::new().with_form(KEY, "alice", "2026-W48".parse().unwrap())
}

/// The shipped demo config, as it is in the repository.
pub fn shipped_config() -> Config {
    Config::load(&repo().join("config/coachmail.toml")).unwrap()
}

/// Runs `cmd` (the `coachmail` binary, maybe behind a wrapper) with
/// `stdin` fed to it and its output captured.
pub fn run_with_stdin(mut cmd: std::process::Command, stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // A message the binary stops reading early (too large, say) is fine.
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().unwrap()
}

/// The `coachmail` binary with `args`, logging at `warn`.
pub fn coachmail_command(args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_coachmail"));
    cmd.args(args).env("COACHMAIL_LOG", "warn");
    cmd
}

/// `coachmail ARGS` with `stdin`, as an operator or an MTA runs it.
pub fn coachmail(args: &[&str], stdin: &[u8]) -> std::process::Output {
    run_with_stdin(coachmail_command(args), stdin)
}

/// Bytes as text, for messages in assertions.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
