//! The weekly loop against real mail servers: forms and digests out through
//! Postfix over SMTP (STARTTLS + AUTH), replies in from Dovecot over IMAP
//! (implicit TLS + IDLE), failures injected at the relay.
//!
//! The servers are the project's own throwaway instances, started by
//! `scripts/test.sh` (through `scripts/mail-servers.sh`), which exports
//! `COACHMAIL_TEST_MAIL_ENV`. Without it (a plain `cargo test` on a
//! machine without the servers) each test says it was skipped and how to
//! run it, and passes; `scripts/test.sh` also sets
//! `COACHMAIL_REQUIRE_REAL_MAIL=1`, under which a missing server fails the
//! test, so CI can never pass without them.
//!
//! The servers are shared, so the tests take turns (one lock) and each
//! gives its people plus-addresses of its own (`alice+TAG@example.org`),
//! which land in the same Dovecot mailbox and keep the To header: a test
//! only counts mail carrying its tag. The service mailbox (`pulse`) is
//! emptied at the start of each test that reads it.

mod util;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use coachmail::clock::{Clock, ManualClock};
use coachmail::config::{Inbound, Outbound};
use coachmail::daemon::{Parts, Service};
use coachmail::inbound::{ImapError, ImapReader};
use coachmail::outbound::{SmtpError, SmtpTransport};
use coachmail::replies::{self, ClientShape, ReplyContent};
use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use mail_parser::MessageParser;
use util::utc;

/// The servers take one test at a time.
static SERVERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What `scripts/mail-servers.sh start` wrote to `DIR/env`.
struct MailEnv {
    vars: HashMap<String, String>,
}

impl MailEnv {
    /// The servers' addresses, or `None` (the test is skipped) when none
    /// were started and the run does not require them.
    fn load() -> Option<MailEnv> {
        const HOW: &str = "Run scripts/test.sh: it installs Postfix and Dovecot, starts them on \
             loopback and sets COACHMAIL_TEST_MAIL_ENV (or run `scripts/mail-servers.sh start DIR` \
             yourself and export COACHMAIL_TEST_MAIL_ENV=DIR/env).";
        let Ok(path) = std::env::var("COACHMAIL_TEST_MAIL_ENV") else {
            if std::env::var_os("COACHMAIL_REQUIRE_REAL_MAIL").is_some() {
                panic!(
                    "COACHMAIL_REQUIRE_REAL_MAIL is set but COACHMAIL_TEST_MAIL_ENV is not. {HOW}"
                );
            }
            eprintln!(
                "skipped: no mail servers to test against (COACHMAIL_TEST_MAIL_ENV is not set). {HOW}"
            );
            return None;
        };
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read COACHMAIL_TEST_MAIL_ENV={path}: {e}"));
        let vars = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Some(MailEnv { vars })
    }

    fn get(&self, key: &str) -> &str {
        self.vars
            .get(key)
            .unwrap_or_else(|| panic!("{key} missing from the mail env file"))
    }

    fn dir(&self) -> PathBuf {
        PathBuf::from(self.get("MAIL_DIR"))
    }

    fn password(&self, user: &str) -> String {
        self.get(&format!("MAIL_PASSWORD_{user}")).to_string()
    }

    fn maildir(&self, user: &str) -> PathBuf {
        Path::new(self.get("MAIL_MAILDIR_ROOT")).join(user)
    }

    /// Runs `scripts/mail-servers.sh CMD DIR ARGS...`. Its output goes to
    /// a file, not a pipe: a daemon it starts would hold a pipe open.
    fn script(&self, args: &[&str]) {
        script_in(&self.dir(), args);
    }

    /// Empties the service mailbox (Dovecot notices removed files).
    fn empty_service_mailbox(&self) {
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir("pulse").join(sub)) {
                for e in entries {
                    let _ = std::fs::remove_file(e.unwrap().path());
                }
            }
        }
    }

    /// How often the relay refused `address` (its decisions log).
    fn relay_refusals(&self, address: &str) -> usize {
        std::fs::read_to_string(self.get("MAIL_RELAY_LOG"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(&format!(" {address} ")) && !l.ends_with("DUNNO"))
            .count()
    }
}

fn script_in(dir: &Path, args: &[&str]) {
    let log = dir.join("log/real-mail-tests.log");
    let err = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .unwrap();
    let status = std::process::Command::new(util::repo().join("scripts/mail-servers.sh"))
        .arg(args[0])
        .arg(dir)
        .args(&args[1..])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(err)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "mail-servers.sh {args:?} failed; see {}",
        log.display()
    );
}

/// One message found in a Dovecot mailbox.
#[derive(Clone, Debug)]
struct Mail {
    to: String,
    subject: String,
    bytes: Vec<u8>,
}

impl Mail {
    fn is_form(&self) -> bool {
        self.subject.contains("reflection")
            && !self.subject.starts_with("Re:")
            && !self.subject.contains("reminder")
    }
    fn is_confirmation(&self) -> bool {
        self.subject.starts_with("Re:")
    }
    fn is_digest(&self) -> bool {
        self.subject.starts_with("Confidential:")
    }
}

/// Every message in `user`'s mailbox addressed to a `+tag` address.
fn mailbox(env: &MailEnv, user: &str, tag: &str) -> Vec<Mail> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(env.maildir(user).join(sub)) else {
            continue;
        };
        for e in entries {
            let Ok(bytes) = std::fs::read(e.unwrap().path()) else {
                continue;
            };
            let Some(msg) = MessageParser::default().parse(&bytes[..]) else {
                continue;
            };
            let to = msg
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_string();
            if !to.contains(&format!("+{tag}@")) {
                continue;
            }
            out.push(Mail {
                to,
                subject: msg.subject().unwrap_or_default().to_string(),
                bytes: bytes.clone(),
            });
        }
    }
    out
}

/// Waits (bounded) until `user`'s mailbox holds `n` tagged mails matching `what`.
async fn wait_for(
    env: &MailEnv,
    user: &str,
    tag: &str,
    what: fn(&Mail) -> bool,
    n: usize,
) -> Vec<Mail> {
    let deadline = Instant::now() + StdDuration::from_secs(15);
    loop {
        let found: Vec<Mail> = mailbox(env, user, tag).into_iter().filter(&what).collect();
        if found.len() >= n || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
}

/// A coachmail service on real mail: SMTP submission with STARTTLS and
/// AUTH, IMAP over implicit TLS with IDLE, a manual clock.
struct Rig {
    _dir: tempfile::TempDir,
    tag: String,
    clock: ManualClock,
    service: Service,
}

/// Friday 6 March 2026 14:50 UTC: forms are due at 16:00 Paris (15:00 UTC).
fn friday() -> DateTime<Utc> {
    utc(2026, 3, 6, 14, 50)
}

fn config_text(env: &MailEnv, tag: &str, shipped: String) -> String {
    let head = &shipped[..shipped.find("[outbound]").unwrap()];
    let ca = env.get("MAIL_CA_CERT");
    format!(
        r#"{head}
[outbound]
transport = "smtp"
host = "127.0.0.1"
port = {submission}
tls = "starttls"
user = "pulse"
password_env = "COACHMAIL_TEST_SMTP_PASSWORD"
ca_cert = "{ca}"
pool = 4
per_minute = 60000
timeout_seconds = 5

[inbound]
transport = "imap"
host = "127.0.0.1"
port = {imaps}
tls = "implicit"
user = "pulse"
password_env = "COACHMAIL_TEST_IMAP_PASSWORD"
ca_cert = "{ca}"
idle = true
poll_seconds = 60
timeout_seconds = 5

[[coach]]
key = "maya"
name = "Maya Chen"
email = "maya+{tag}@example.org"

[[coach]]
key = "tom"
name = "Tom Okafor"
email = "tom+{tag}@example.org"

[[pm]]
key = "alice"
name = "Alice Martin"
email = "alice+{tag}@example.org"
coach = "maya"
timezone = "Europe/Paris"
one_on_one = "mon 10:00"

[[pm]]
key = "bruno"
name = "Bruno Silva"
email = "bruno+{tag}@example.org"
coach = "tom"
timezone = "Europe/Paris"
one_on_one = "tue 09:30"
"#,
        submission = env.get("MAIL_SUBMISSION_PORT"),
        imaps = env.get("MAIL_IMAPS_PORT"),
    )
}

fn unique_tag(name: &str) -> String {
    let nanos = Utc::now().timestamp_subsec_nanos();
    format!("{name}{nanos}")
}

impl Rig {
    /// Builds the service; `imap` also starts the IMAP task.
    fn start(env: &MailEnv, name: &str, imap: bool) -> Rig {
        let tag = unique_tag(name);
        let dir = tempfile::tempdir().unwrap();
        let config = util::config_in(dir.path(), |t| config_text(env, &tag, t));
        let Outbound::Smtp(smtp) = &config.outbound else {
            panic!("smtp expected")
        };
        // The passwords come from the servers' env file, not the process
        // environment, so the transport and reader are handed in.
        let transport = SmtpTransport::new(smtp, Some(env.password("pulse"))).unwrap();
        let reader = match &config.inbound {
            Inbound::Imap(cfg) if imap => Some(
                ImapReader::new(cfg, env.password("pulse"), config.auth.max_message_bytes).unwrap(),
            ),
            _ => None,
        };
        let mut service = Service::open(
            config,
            friday(),
            Parts {
                transport: Some(Box::new(transport)),
                ..Parts::default()
            },
        )
        .unwrap();
        if let Some(reader) = reader {
            service.spawn_imap(reader).unwrap();
        }
        Rig {
            _dir: dir,
            tag,
            clock: ManualClock::new(friday()),
            service,
        }
    }

    fn addr(&self, user: &str) -> String {
        format!("{user}+{}@example.org", self.tag)
    }

    async fn pass_at(&mut self, at: DateTime<Utc>) -> coachmail::daemon::Pass {
        self.clock.set(at);
        self.service.pass(at).await.unwrap()
    }

    /// Passes every 100 ms (clock still) until `done` holds, at most `secs`.
    async fn pass_until(&mut self, secs: u64, done: impl Fn(&Service) -> bool) -> bool {
        let deadline = Instant::now() + StdDuration::from_secs(secs);
        while Instant::now() < deadline {
            let now = self.clock.now();
            self.service.pass(now).await.unwrap();
            if done(&self.service) {
                return true;
            }
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
        false
    }

    /// The PM's reply to `form`, scoring every skill `score`, sent over
    /// plain SMTP to the form's Reply-To, as the PM's own provider would.
    async fn reply(&self, env: &MailEnv, form: &Mail, pm: &str, score: u8) {
        let headers = replies::read_form(&form.bytes).unwrap();
        let scores = self
            .service
            .engine
            .config
            .framework
            .active()
            .map(|s| (s.name.clone(), s.key.clone(), score))
            .collect();
        let from = self.addr(pm);
        let bytes = replies::compose(
            ClientShape::GmailInline,
            &headers,
            ("A PM", &from),
            &ReplyContent {
                scores,
                note: "Shipped the beta.".into(),
            },
            self.clock.now(),
            &format!("{}-{score}", self.tag),
        );
        let mx = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(env.get("MAIL_SMTP_PORT").parse().unwrap())
            .build();
        let envelope = Envelope::new(
            Some(from.parse().unwrap()),
            vec![headers.reply_to.parse().unwrap()],
        )
        .unwrap();
        mx.send_raw(&envelope, &bytes).await.unwrap();
    }
}

fn scores_of(service: &Service, pm: &str) -> Vec<Option<u8>> {
    service
        .store
        .history(pm)
        .unwrap()
        .into_iter()
        .map(|(_, _, s)| s)
        .collect()
}

#[tokio::test]
async fn weekly_form_goes_out_over_smtp_and_the_reply_comes_back_over_imap_idle() {
    let Some(env) = MailEnv::load() else { return };
    let _turn = SERVERS.lock().await;
    env.empty_service_mailbox();
    let mut rig = Rig::start(&env, "loop", true);

    rig.pass_at(friday()).await;
    let pass = rig.pass_at(utc(2026, 3, 6, 15, 1)).await;
    assert_eq!(pass.delivered.sent, 2, "{pass:?}");

    // The form is in Alice's Dovecot mailbox, addressed to her, with its reply key.
    let forms = wait_for(&env, "alice", &rig.tag, Mail::is_form, 1).await;
    assert_eq!(forms.len(), 1);
    let form = &forms[0];
    assert_eq!(form.to, rig.addr("alice"));
    let headers = replies::read_form(&form.bytes).unwrap();
    assert!(headers.reply_to.starts_with("reflect+"), "{headers:?}");
    assert!(headers.text.contains("Stakeholder management"));
    assert_eq!(
        wait_for(&env, "bruno", &rig.tag, Mail::is_form, 1)
            .await
            .len(),
        1
    );

    // Alice replies; IDLE brings it in within seconds, it is stored, and
    // the confirmation lands in her mailbox.
    let sent_at = Instant::now();
    rig.reply(&env, form, "alice", 4).await;
    assert!(
        rig.pass_until(15, |s| !scores_of(s, "alice").is_empty())
            .await,
        "the reply was not picked up over IMAP within 15 s"
    );
    assert!(
        sent_at.elapsed() < StdDuration::from_secs(10),
        "IMAP pickup took {:?}",
        sent_at.elapsed()
    );
    let scores = scores_of(&rig.service, "alice");
    assert_eq!(scores.len(), 8);
    assert!(scores.iter().all(|s| *s == Some(4)));
    let confirmations = wait_for(&env, "alice", &rig.tag, Mail::is_confirmation, 1).await;
    assert_eq!(confirmations.len(), 1);
    assert_eq!(confirmations[0].to, rig.addr("alice"));

    // The reply was acknowledged (\Seen) only after the commit, and a new
    // reader starting from the recorded position finds nothing to redo.
    let seen = std::fs::read_dir(env.maildir("pulse").join("cur"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(":2,S"))
        .count();
    assert_eq!(seen, 1);
    assert!(
        mailbox(&env, "bruno", &rig.tag)
            .iter()
            .all(|m| !m.is_confirmation())
    );
}

#[tokio::test]
async fn coach_digest_lands_in_the_coachs_mailbox_and_nobody_elses() {
    let Some(env) = MailEnv::load() else { return };
    let _turn = SERVERS.lock().await;
    let mut rig = Rig::start(&env, "digest", false);
    rig.pass_at(friday()).await;
    rig.pass_at(utc(2026, 3, 6, 15, 1)).await;
    // Alice's 1:1 is Monday 10:00 Paris; the digest goes 2 h before (07:00 UTC).
    let pass = rig.pass_at(utc(2026, 3, 9, 7, 1)).await;
    assert!(
        pass.queued.iter().any(|k| k.starts_with("digest:alice")),
        "{pass:?}"
    );
    let digests = wait_for(&env, "maya", &rig.tag, Mail::is_digest, 1).await;
    assert_eq!(digests.len(), 1);
    assert_eq!(digests[0].to, rig.addr("maya"));
    assert!(digests[0].subject.contains("Alice Martin"));
    // Give Postfix time to misdeliver, if it were going to.
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    for user in ["tom", "alice", "bruno", "pulse"] {
        assert!(
            mailbox(&env, user, &rig.tag).iter().all(|m| !m.is_digest()),
            "a digest reached {user}"
        );
    }
}

#[tokio::test]
async fn relay_deferring_4xx_is_retried_and_delivers_exactly_once() {
    let Some(env) = MailEnv::load() else { return };
    let _turn = SERVERS.lock().await;
    let mut rig = Rig::start(&env, "defer", false);
    let alice = rig.addr("alice");
    env.script(&["defer", &alice, "2"]);

    rig.pass_at(friday()).await;
    let first = rig.pass_at(utc(2026, 3, 6, 15, 1)).await;
    assert_eq!((first.delivered.sent, first.delivered.retrying), (1, 1));
    let status = rig.service.store.outbox_status(rig.clock.now()).unwrap();
    assert_eq!((status.pending, status.dead_total), (1, 0));

    // Backoff: the retry is not due at once, then is; the second try is
    // deferred again, the third goes through.
    let second = rig
        .pass_at(utc(2026, 3, 6, 15, 1) + Duration::seconds(5))
        .await;
    assert_eq!(second.delivered, Default::default());
    let mut t = utc(2026, 3, 6, 15, 1);
    let mut sent = 0;
    for _ in 0..6 {
        t += Duration::minutes(10);
        sent += rig.pass_at(t).await.delivered.sent;
    }
    assert_eq!(sent, 1);
    env.script(&["allow", &alice]);
    assert_eq!(env.relay_refusals(&alice), 2);

    let forms = wait_for(&env, "alice", &rig.tag, Mail::is_form, 1).await;
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    assert_eq!(
        mailbox(&env, "alice", &rig.tag)
            .iter()
            .filter(|m| m.is_form())
            .count(),
        1,
        "{forms:?}"
    );
    let status = rig.service.store.outbox_status(t).unwrap();
    assert_eq!((status.pending, status.dead_total), (0, 0));
}

#[tokio::test]
async fn relay_rejecting_5xx_dead_letters_and_nothing_else_is_stuck() {
    let Some(env) = MailEnv::load() else { return };
    let _turn = SERVERS.lock().await;
    let mut rig = Rig::start(&env, "reject", false);
    let alice = rig.addr("alice");
    env.script(&["reject", &alice]);

    rig.pass_at(friday()).await;
    let pass = rig.pass_at(utc(2026, 3, 6, 15, 1)).await;
    env.script(&["allow", &alice]);
    assert_eq!((pass.delivered.sent, pass.delivered.dead), (1, 1));

    let status = rig.service.store.outbox_status(rig.clock.now()).unwrap();
    assert_eq!((status.pending, status.dead_total), (0, 1));
    assert_eq!(status.dead.len(), 1);
    assert!(status.dead[0].0.starts_with("form:alice"));
    assert_eq!(status.dead[0].1, "smtp-550");
    // Bruno's form went through; Alice's is never retried.
    assert_eq!(
        wait_for(&env, "bruno", &rig.tag, Mail::is_form, 1)
            .await
            .len(),
        1
    );
    let later = rig.pass_at(utc(2026, 3, 6, 18, 0)).await;
    assert_eq!(later.delivered, Default::default());
    assert!(
        mailbox(&env, "alice", &rig.tag)
            .iter()
            .all(|m| !m.is_form())
    );
}

#[tokio::test]
async fn dovecot_restarted_during_idle_reconnects_and_loses_nothing() {
    let Some(env) = MailEnv::load() else { return };
    let _turn = SERVERS.lock().await;
    env.empty_service_mailbox();
    let mut rig = Rig::start(&env, "restart", true);
    rig.pass_at(friday()).await;
    rig.pass_at(utc(2026, 3, 6, 15, 1)).await;
    let alice_form = wait_for(&env, "alice", &rig.tag, Mail::is_form, 1).await;
    let bruno_form = wait_for(&env, "bruno", &rig.tag, Mail::is_form, 1).await;
    assert_eq!((alice_form.len(), bruno_form.len()), (1, 1));

    // The reader is in IDLE; one reply is applied before the restart.
    rig.reply(&env, &alice_form[0], "alice", 3).await;
    assert!(
        rig.pass_until(15, |s| !scores_of(s, "alice").is_empty())
            .await
    );

    // Dovecot goes away under the open IDLE, and a reply arrives meanwhile.
    let dir = env.dir();
    let restart = tokio::task::spawn_blocking(move || script_in(&dir, &["restart-dovecot"]));
    rig.reply(&env, &bruno_form[0], "bruno", 2).await;
    restart.await.unwrap();
    assert!(
        rig.pass_until(30, |s| !scores_of(s, "bruno").is_empty())
            .await,
        "the reply that arrived during the restart was not picked up"
    );
    assert_eq!(scores_of(&rig.service, "alice").len(), 8, "nothing twice");
    assert_eq!(scores_of(&rig.service, "bruno").len(), 8);
    assert_eq!(
        wait_for(&env, "bruno", &rig.tag, Mail::is_confirmation, 1)
            .await
            .len(),
        1
    );
    assert_eq!(
        wait_for(&env, "alice", &rig.tag, Mail::is_confirmation, 1)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn wrong_password_is_a_clear_error_naming_the_env_var() {
    let Some(env) = MailEnv::load() else { return };
    let _turn = SERVERS.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let config = util::config_in(dir.path(), |t| config_text(&env, "pw", t));

    let Outbound::Smtp(smtp) = &config.outbound else {
        panic!("smtp expected")
    };
    let bad = SmtpTransport::new(smtp, Some("not-the-password".into())).unwrap();
    let err = bad.verify().await.unwrap_err();
    assert!(matches!(err, SmtpError::Login { .. }), "{err:?}");
    assert!(
        err.to_string().contains("COACHMAIL_TEST_SMTP_PASSWORD"),
        "{err}"
    );
    // Sending with it is retried later, never dead-lettered: the message is fine.
    let parcel = coachmail::outbound::Parcel {
        id: 1,
        key: "form:alice:2026-W10".into(),
        from: "pulse@example.org".into(),
        to: "alice+pw@example.org".into(),
        bytes: b"Subject: x\r\n\r\nx\r\n".to_vec(),
    };
    use coachmail::outbound::Transport;
    let send = bad.send(&parcel).await.unwrap_err();
    assert!(send.class().starts_with("smtp-auth-5"), "{send:?}");
    assert!(matches!(send, coachmail::outbound::SendError::Temporary(_)));

    let Inbound::Imap(imap) = &config.inbound else {
        panic!("imap expected")
    };
    let bad = ImapReader::new(imap, "not-the-password".into(), 1000).unwrap();
    let err = bad.verify().await.unwrap_err();
    assert!(matches!(err, ImapError::Login { .. }), "{err:?}");
    assert!(
        err.to_string().contains("COACHMAIL_TEST_IMAP_PASSWORD"),
        "{err}"
    );

    // And the right passwords work, over implicit TLS for SMTP too.
    let mut smtps = smtp.clone();
    smtps.tls = coachmail::config::Tls::Implicit;
    smtps.port = env.get("MAIL_SMTPS_PORT").parse().unwrap();
    SmtpTransport::new(&smtps, Some(env.password("pulse")))
        .unwrap()
        .verify()
        .await
        .unwrap();
    let mut starttls = imap.clone();
    starttls.tls = coachmail::config::Tls::StartTls;
    starttls.port = env.get("MAIL_IMAP_PORT").parse().unwrap();
    ImapReader::new(&starttls, env.password("pulse"), 1000)
        .unwrap()
        .verify()
        .await
        .unwrap();
}

/// Sends `raw` over plain SMTP to `to`, as another provider would.
async fn send_raw(env: &MailEnv, from: &str, to: &str, raw: &[u8]) {
    let mx = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(env.get("MAIL_SMTP_PORT").parse().unwrap())
        .build();
    let envelope = Envelope::new(Some(from.parse().unwrap()), vec![to.parse().unwrap()]).unwrap();
    mx.send_raw(&envelope, raw).await.unwrap();
}

/// A plain command message from `from` to `to`.
fn command(from: &str, to: &str, body: &str, unique: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: Re: your weekly reflection\r\n\
         Message-ID: <{unique}@client.example>\r\nDate: Fri, 6 Mar 2026 16:00:00 +0100\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// The service mailbox's files (new and cur) holding `needle`.
fn service_files_holding(env: &MailEnv, needle: &str) -> usize {
    ["new", "cur"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(env.maildir("pulse").join(sub)).ok())
        .flatten()
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .filter(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .count()
}

#[tokio::test]
async fn over_imap_refused_mail_keeps_no_copy_and_forget_expunges_the_pms_messages() {
    let Some(env) = MailEnv::load() else { return };
    let _turn = SERVERS.lock().await;
    env.empty_service_mailbox();
    let mut rig = Rig::start(&env, "erase", true);
    rig.pass_at(friday()).await;
    rig.pass_at(utc(2026, 3, 6, 15, 1)).await;
    let form = wait_for(&env, "alice", &rig.tag, Mail::is_form, 1).await;
    assert_eq!(form.len(), 1);
    let form = &form[0];
    let alice = rig.addr("alice");
    let bruno = rig.addr("bruno");

    // Alice's reply is stored, and its processed copy stays on the server.
    rig.reply(&env, form, "alice", 4).await;
    assert!(
        rig.pass_until(15, |s| !scores_of(s, "alice").is_empty())
            .await
    );
    assert_eq!(service_files_holding(&env, &alice), 1);

    // A stranger's mail is refused, and deleted from the server.
    let stranger = format!("stranger-{}", rig.tag);
    send_raw(
        &env,
        "mallory@example.net",
        "pulse@example.org",
        &command(
            "mallory@example.net",
            "pulse@example.org",
            "trend",
            &stranger,
        ),
    )
    .await;
    assert!(
        rig.pass_until(15, |_| service_files_holding(&env, &stranger) == 0
            && rig_seen_all(&env))
            .await,
        "the refused message is still on the server"
    );

    // Alice asks to be forgotten, and confirms with the code she is sent.
    let key_to = replies::read_form(&form.bytes).unwrap().reply_to;
    send_raw(
        &env,
        &alice,
        &key_to,
        &command(&alice, &key_to, "forget", &format!("f1-{}", rig.tag)),
    )
    .await;
    let tag = rig.tag.clone();
    let asks_to_confirm = |m: &Mail| m.subject.contains("confirm: forget");
    assert!(
        rig.pass_until(20, |_| mailbox(&env, "alice", &tag)
            .iter()
            .any(asks_to_confirm))
            .await
    );
    let codes: Vec<Mail> = mailbox(&env, "alice", &tag)
        .into_iter()
        .filter(asks_to_confirm)
        .collect();
    assert_eq!(codes.len(), 1, "the forget code reached Alice");
    let text = MessageParser::default()
        .parse(&codes[0].bytes[..])
        .unwrap()
        .body_text(0)
        .unwrap()
        .into_owned();
    let code = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("forget "))
        .unwrap()
        .trim()
        .to_string();
    // Bruno's reply is not Alice's: it must stay.
    let bruno_form = wait_for(&env, "bruno", &rig.tag, Mail::is_form, 1).await;
    rig.reply(&env, &bruno_form[0], "bruno", 3).await;
    send_raw(
        &env,
        &alice,
        &key_to,
        &command(
            &alice,
            &key_to,
            &format!("forget {code}"),
            &format!("f2-{}", rig.tag),
        ),
    )
    .await;
    assert!(
        rig.pass_until(20, |s| scores_of(s, "alice").is_empty()
            && !scores_of(s, "bruno").is_empty()
            && service_files_holding(&env, &alice) == 0)
            .await,
        "Alice's messages are still on the server: {}",
        service_files_holding(&env, &alice)
    );
    assert_eq!(
        service_files_holding(&env, &bruno),
        1,
        "Bruno's reply stays"
    );
}

/// Whether every message in the service mailbox was handled (`\Seen`).
fn rig_seen_all(env: &MailEnv) -> bool {
    std::fs::read_dir(env.maildir("pulse").join("new"))
        .map(|d| d.count() == 0)
        .unwrap_or(true)
}

#[tokio::test]
async fn over_imap_processed_mail_past_retention_is_deleted_and_newer_mail_stays() {
    let Some(env) = MailEnv::load() else { return };
    let _turn = SERVERS.lock().await;
    env.empty_service_mailbox();
    let tag = unique_tag("retention");
    // Two processed (\Seen) messages in the service mailbox: one that
    // arrived 40 days ago (Dovecot's arrival date is the file's time), one
    // today. Retention is 30 days.
    let cur = env.maildir("pulse").join("cur");
    std::fs::create_dir_all(&cur).unwrap();
    for (name, age_days) in [("old", 40u64), ("new", 0)] {
        let path = cur.join(format!("{}.{tag}{name}.host:2,S", 1_700_000_000 + age_days));
        std::fs::write(
            &path,
            format!(
                "From: someone@example.net\r\nTo: pulse@example.org\r\nSubject: {tag}-{name}\r\nMessage-ID: <{tag}-{name}@x>\r\n\r\nhello\r\n"
            ),
        )
        .unwrap();
        let when = std::time::SystemTime::now() - StdDuration::from_secs(age_days * 86_400);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(when)
            .unwrap();
    }
    let mut rig = Rig::start(&env, "retention", true);
    let gone = |needle: &str| service_files_holding(&env, needle) == 0;
    assert!(
        rig.pass_until(15, |_| gone(&format!("{tag}-old"))).await,
        "the message past retention is still on the server"
    );
    assert!(
        !gone(&format!("{tag}-new")),
        "the recent message was deleted"
    );
}

#[tokio::test]
async fn over_imap_a_message_that_fails_every_try_is_quarantined_and_does_not_block_the_next() {
    let Some(env) = MailEnv::load() else { return };
    let _turn = SERVERS.lock().await;
    env.empty_service_mailbox();
    let mut rig = Rig::start(&env, "quarantine", true);
    // One message fails whenever it is applied (a trigger stands in for a
    // bug that message alone sets off).
    let poisoned = format!("{}-poison@client.example", rig.tag);
    let db = rig.service.engine.config.service.database.clone();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(&format!(
        "CREATE TRIGGER poison BEFORE INSERT ON inbound WHEN NEW.dedup_key = 'mid:{poisoned}'
         BEGIN SELECT RAISE(ABORT, 'poisoned'); END;"
    ))
    .unwrap();
    let stranger = "mallory@example.net";
    let message = |id: &str| {
        format!(
            "From: {stranger}\r\nTo: pulse@example.org\r\nSubject: hello\r\nMessage-ID: <{id}>\r\n\r\nhello\r\n"
        )
        .into_bytes()
    };
    send_raw(&env, stranger, "pulse@example.org", &message(&poisoned)).await;
    let after = format!("{}-after@client.example", rig.tag);
    send_raw(&env, stranger, "pulse@example.org", &message(&after)).await;
    // Tried three times, then quarantined with its bytes kept; the message
    // behind it is then handled (refused, and deleted from the server).
    assert!(
        rig.pass_until(60, |s| s.store.quarantined().unwrap().len() == 1)
            .await,
        "not quarantined"
    );
    let q = rig.service.store.quarantined().unwrap();
    assert_eq!((q[0].source.as_str(), q[0].attempts), ("imap", 3), "{q:?}");
    assert!(
        rig.pass_until(30, |_| service_files_holding(&env, &after) == 0)
            .await,
        "the message behind the quarantined one was not handled"
    );
    // The quarantined message is acknowledged on the server, not fetched
    // again: it waits in the store for `coachmail requeue`.
    let unseen = std::fs::read_dir(env.maildir("pulse").join("new"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(unseen, 0);
    let before = rig.service.store.quarantined().unwrap();
    rig.pass_until(3, |_| false).await;
    assert_eq!(rig.service.store.quarantined().unwrap(), before);
}
