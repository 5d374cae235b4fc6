//! Delivery through an SMTP relay: a pool of our own client connections.
//!
//! Owns the TLS mode (STARTTLS, implicit TLS, plain on loopback only), AUTH
//! with the password from the environment, the pool, the concurrency limit,
//! the per-minute rate limit, and the mapping of every failure to a
//! content-free class (`smtp-451`, `connect-refused`, `timeout`, ...) that
//! says whether trying again can help. The wire conversation lives in
//! `client`. Never logs or returns addresses, subjects, bodies or the
//! password.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lettre::Address;
use lettre::transport::smtp::extension::ClientId;
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use super::{Parcel, SendError, SendFuture, Transport};
use crate::config::{Smtp, Tls};

mod client;

use client::{AUTH_CODES, Connection, Dial, Failure, Security};

/// Why the SMTP transport cannot be used as configured.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error(
        "the SMTP password is read from the environment variable {var} (outbound.password_env), which is not set; export it in the service's environment"
    )]
    MissingPassword { var: String },
    #[error(
        "outbound.tls = \"none\" sends mail and the password unencrypted, so it is only allowed for a relay on loopback, and `{host}` is not one; use tls = \"starttls\" or \"implicit\""
    )]
    PlainNotLoopback { host: String },
    #[error(
        "cannot use the CA certificate {} (outbound.ca_cert): {reason}; point ca_cert at a PEM file, or remove it to trust the system CAs only",
        path.display()
    )]
    CaCert { path: PathBuf, reason: String },
    #[error("cannot set up TLS for the SMTP relay {server}: {reason}")]
    Tls { server: String, reason: String },
    #[error(
        "the SMTP relay {server} refused the login (smtp {code}); check the password in the environment variable {var} (outbound.password_env) and outbound.user"
    )]
    Login {
        server: String,
        code: u16,
        var: String,
    },
    #[error(
        "cannot reach the SMTP relay {server} ({class}); check outbound.host, port and tls. Queued mail waits and is retried"
    )]
    Unreachable { server: String, class: String },
}

impl SmtpError {
    /// A fault of the configuration (or of the secret it names): the
    /// operator must change something before the service can send.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            SmtpError::MissingPassword { .. }
                | SmtpError::PlainNotLoopback { .. }
                | SmtpError::CaCert { .. }
                | SmtpError::Tls { .. }
                | SmtpError::Login { .. }
        )
    }
}

/// An idle connection older than this is closed rather than reused.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Spaces sends `interval` apart, across all concurrent senders.
#[derive(Debug)]
struct Pace {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pace {
    fn per_minute(n: u32) -> Pace {
        Pace {
            interval: Duration::from_secs(60) / n.max(1),
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for this sender's slot.
    async fn wait(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let at = (*next).max(now);
            *next = at + self.interval;
            at
        };
        // A timer rounds up to the next millisecond tick: never wait for
        // one when the slot is already here.
        if at > Instant::now() {
            tokio::time::sleep_until(at).await;
        }
    }
}

/// Open connections waiting for the next message, at most `max` of them.
struct Pool {
    idle: std::sync::Mutex<Vec<Connection>>,
    max: usize,
}

impl Pool {
    /// The most recently used connection that is not too old, if any.
    fn take(&self) -> Option<Connection> {
        let mut idle = self.idle.lock().ok()?;
        idle.retain(|c| c.last_used.elapsed() < IDLE_TIMEOUT);
        idle.pop()
    }

    fn put(&self, conn: Connection) {
        if !conn.reusable() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.max
        {
            idle.push(conn);
        }
    }
}

/// Sends through a relay with a pool of connections.
pub struct SmtpTransport {
    dial: Dial,
    pool: Pool,
    slots: Arc<Semaphore>,
    concurrency: usize,
    pace: Pace,
    /// Bound on one message's whole conversation with the relay.
    deadline: Duration,
    server: String,
    password_env: Option<String>,
}

impl std::fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpTransport")
            .field("server", &self.server)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

pub use crate::config::is_loopback;

/// Reads the PEM certificates in `path`.
fn read_ca(path: &Path) -> Result<Vec<CertificateDer<'static>>, SmtpError> {
    let err = |reason: String| SmtpError::CaCert {
        path: path.to_path_buf(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("no PEM certificate in it".into()));
    }
    Ok(certs)
}

/// A TLS connector trusting the system CAs and `ca_cert`, if any.
fn tls_connector(server: &str, ca_cert: Option<&Path>) -> Result<TlsConnector, SmtpError> {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(path) = ca_cert {
        for cert in read_ca(path)? {
            roots.add(cert).map_err(|e| SmtpError::CaCert {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SmtpError::Tls {
            server: server.to_string(),
            reason: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(client::connector(config))
}

impl SmtpTransport {
    /// Builds the transport the config describes, reading the password
    /// from the environment variable it names.
    pub fn from_config(cfg: &Smtp) -> Result<SmtpTransport, SmtpError> {
        let password = match &cfg.password_env {
            Some(var) => Some(
                std::env::var(var).map_err(|_| SmtpError::MissingPassword { var: var.clone() })?,
            ),
            None => None,
        };
        SmtpTransport::new(cfg, password)
    }

    /// Builds the transport with the password given (tests, benchmarks).
    pub fn new(cfg: &Smtp, password: Option<String>) -> Result<SmtpTransport, SmtpError> {
        let server = format!("{}:{}", cfg.host, cfg.port);
        let security = match cfg.tls {
            Tls::StartTls => Security::StartTls(tls_connector(&server, cfg.ca_cert.as_deref())?),
            Tls::Implicit => Security::Implicit(tls_connector(&server, cfg.ca_cert.as_deref())?),
            Tls::None => {
                if !is_loopback(&cfg.host) {
                    return Err(SmtpError::PlainNotLoopback {
                        host: cfg.host.clone(),
                    });
                }
                tracing::warn!(
                    server = %server,
                    "outbound.tls = none: mail goes to the loopback relay unencrypted"
                );
                Security::None
            }
        };
        let login = match (&cfg.user, password) {
            (Some(user), Some(password)) => Some((user.clone(), password)),
            _ => None,
        };
        let pool = cfg.pool.max(1) as usize;
        let concurrency = (cfg.concurrency as usize).clamp(1, pool);
        Ok(SmtpTransport {
            dial: Dial {
                host: cfg.host.clone(),
                port: cfg.port,
                security,
                login,
                helo: ClientId::default().to_string(),
                timeout: Duration::from_secs(cfg.timeout_seconds),
            },
            pool: Pool {
                idle: std::sync::Mutex::new(Vec::with_capacity(pool)),
                max: pool,
            },
            slots: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            pace: Pace::per_minute(cfg.per_minute),
            deadline: Duration::from_secs(cfg.timeout_seconds.saturating_mul(2)),
            server,
            password_env: cfg.password_env.clone(),
        })
    }

    /// Connects and logs in once, so a wrong password or host shows at
    /// start. The connection is kept for the first message.
    pub async fn verify(&self) -> Result<(), SmtpError> {
        match tokio::time::timeout(self.deadline, Connection::open(&self.dial)).await {
            Ok(Ok(conn)) => {
                self.pool.put(conn);
                Ok(())
            }
            Ok(Err(f)) => Err(self.setup_error(&f)),
            Err(_) => Err(SmtpError::Unreachable {
                server: self.server.clone(),
                class: "timeout".into(),
            }),
        }
    }

    fn setup_error(&self, f: &Failure) -> SmtpError {
        match (f, &self.password_env) {
            (Failure::Reply(code), Some(var)) if AUTH_CODES.contains(code) => SmtpError::Login {
                server: self.server.clone(),
                code: *code,
                var: var.clone(),
            },
            _ => SmtpError::Unreachable {
                server: self.server.clone(),
                class: f.class(),
            },
        }
    }

    /// One message over a pooled connection, or a new one. A pooled
    /// connection the relay has meanwhile closed is replaced once, as long
    /// as the message did not go out on it.
    async fn converse(&self, from: &str, to: &str, message: &[u8]) -> Result<(), Failure> {
        if let Some(mut conn) = self.pool.take() {
            match conn.send(from, to, message).await {
                Ok(()) => {
                    self.pool.put(conn);
                    return Ok(());
                }
                Err(f) if conn.reusable() || conn.sent_message() => {
                    self.pool.put(conn);
                    return Err(f);
                }
                Err(_) => {}
            }
        }
        let mut conn = Connection::open(&self.dial).await?;
        let sent = conn.send(from, to, message).await;
        self.pool.put(conn);
        sent
    }

    async fn deliver(&self, parcel: &Parcel) -> Result<(), SendError> {
        parcel
            .from
            .parse::<Address>()
            .map_err(|_| SendError::Permanent("address-invalid-from".into()))?;
        parcel
            .to
            .parse::<Address>()
            .map_err(|_| SendError::Permanent("address-invalid-to".into()))?;
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| SendError::Temporary("transport-closed".into()))?;
        self.pace.wait().await;
        // Each step has its own timeout; this bounds the whole
        // conversation (a relay that answers, slowly, forever).
        let sent = tokio::time::timeout(
            self.deadline,
            self.converse(&parcel.from, &parcel.to, &parcel.bytes),
        )
        .await
        .map_err(|_| SendError::Temporary("timeout".into()))?;
        sent.map_err(|f| {
            if let e @ SmtpError::Login { .. } = self.setup_error(&f) {
                tracing::error!(error = %e, "cannot send");
            }
            f.to_send_error()
        })
    }
}

impl Transport for SmtpTransport {
    fn send<'a>(&'a self, parcel: &'a Parcel) -> SendFuture<'a> {
        Box::pin(self.deliver(parcel))
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(port: u16) -> Smtp {
        Smtp {
            host: "127.0.0.1".into(),
            port,
            tls: Tls::None,
            user: None,
            password_env: None,
            pool: 2,
            concurrency: 2,
            per_minute: 6000,
            ca_cert: None,
            timeout_seconds: 1,
        }
    }

    fn parcel() -> Parcel {
        Parcel {
            id: 1,
            key: "form:alice:2026-W48".into(),
            from: "pulse@example.org".into(),
            to: "alice@example.org".into(),
            bytes: b"Subject: hi\r\n\r\nbody\r\n".to_vec(),
        }
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("127.3.0.9"));
        assert!(is_loopback("::1"));
        assert!(is_loopback("[::1]"));
        assert!(is_loopback("LocalHost"));
        assert!(!is_loopback("smtp.example.org"));
        assert!(!is_loopback("10.0.0.1"));
    }

    #[tokio::test]
    async fn plain_smtp_to_a_remote_host_is_refused() {
        let mut c = cfg(25);
        c.host = "smtp.example.org".into();
        let err = SmtpTransport::new(&c, None).unwrap_err();
        assert!(matches!(err, SmtpError::PlainNotLoopback { .. }));
        assert!(err.to_string().contains("starttls"));
    }

    #[tokio::test]
    async fn missing_password_variable_is_named() {
        let mut c = cfg(25);
        c.user = Some("pulse".into());
        c.password_env = Some("COACHMAIL_TEST_SURELY_UNSET_PW".into());
        let err = SmtpTransport::from_config(&c).unwrap_err();
        assert!(
            err.to_string().contains("COACHMAIL_TEST_SURELY_UNSET_PW"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn unreadable_ca_certificate_is_named() {
        let mut c = cfg(25);
        c.tls = Tls::StartTls;
        c.ca_cert = Some("/nonexistent/ca.pem".into());
        let err = SmtpTransport::new(&c, None).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }

    #[tokio::test]
    async fn connection_refused_is_temporary() {
        // A port that was just free: nothing listens there.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let t = SmtpTransport::new(&cfg(port), None).unwrap();
        let err = t.send(&parcel()).await.unwrap_err();
        assert_eq!(err, SendError::Temporary("connect-refused".into()));
    }

    #[tokio::test]
    async fn silent_server_times_out_as_temporary() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        });
        let t = SmtpTransport::new(&cfg(port), None).unwrap();
        let err = t.send(&parcel()).await.unwrap_err();
        hold.abort();
        assert!(matches!(err, SendError::Temporary(_)), "{err:?}");
        assert_eq!(err.class(), "timeout");
    }

    #[tokio::test]
    async fn invalid_recipient_is_permanent_without_connecting() {
        let t = SmtpTransport::new(&cfg(1), None).unwrap();
        let mut p = parcel();
        p.to = "not an address".into();
        let err = t.send(&p).await.unwrap_err();
        assert_eq!(err, SendError::Permanent("address-invalid-to".into()));
    }

    /// What a scripted relay saw.
    #[derive(Debug, Default)]
    struct Seen {
        connections: usize,
        commands: Vec<String>,
        messages: Vec<Vec<u8>>,
    }

    /// A small relay on loopback: offers PIPELINING and AUTH PLAIN (only
    /// `pulse`/`pw` may log in), refuses `refused@` (550) and defers
    /// `later@` (451); with `hang_up`, closes each connection after its
    /// first message.
    async fn relay(hang_up: bool) -> (u16, Arc<std::sync::Mutex<Seen>>) {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(std::sync::Mutex::new(Seen::default()));
        let shared = seen.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                shared.lock().unwrap().connections += 1;
                let seen = shared.clone();
                tokio::spawn(async move {
                    let (r, mut w) = socket.into_split();
                    let mut r = BufReader::new(r);
                    w.write_all(b"220 relay ready\r\n").await.unwrap();
                    let mut recipients = 0;
                    let mut line = Vec::new();
                    loop {
                        line.clear();
                        if r.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let text = String::from_utf8_lossy(&line).trim_end().to_string();
                        let verb = text.split([' ', ':']).next().unwrap().to_ascii_uppercase();
                        seen.lock().unwrap().commands.push(verb.clone());
                        let answer: &[u8] = match verb.as_str() {
                            "EHLO" => b"250-relay\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n",
                            "AUTH" if text.ends_with("AHB1bHNlAHB3") => b"235 ok\r\n",
                            "AUTH" => b"535 no\r\n",
                            "MAIL" | "NOOP" => b"250 ok\r\n",
                            "RSET" => {
                                recipients = 0;
                                b"250 ok\r\n"
                            }
                            "RCPT" if text.contains("refused@") => b"550 no such user\r\n",
                            "RCPT" if text.contains("later@") => b"451 try later\r\n",
                            "RCPT" => {
                                recipients += 1;
                                b"250 ok\r\n"
                            }
                            "DATA" if recipients == 0 => b"554 no valid recipients\r\n",
                            "DATA" => {
                                w.write_all(b"354 go ahead\r\n").await.unwrap();
                                let mut data = Vec::new();
                                loop {
                                    let from = data.len();
                                    r.read_until(b'\n', &mut data).await.unwrap();
                                    if &data[from..] == b".\r\n" {
                                        break;
                                    }
                                }
                                seen.lock().unwrap().messages.push(data);
                                recipients = 0;
                                w.write_all(b"250 queued\r\n").await.unwrap();
                                if hang_up {
                                    return;
                                }
                                continue;
                            }
                            "QUIT" => {
                                let _ = w.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"500 what\r\n",
                        };
                        w.write_all(answer).await.unwrap();
                    }
                });
            }
        });
        (port, seen)
    }

    fn to(p: &Parcel, addr: &str) -> Parcel {
        Parcel {
            to: addr.into(),
            ..p.clone()
        }
    }

    #[tokio::test]
    async fn one_connection_carries_many_messages_dot_stuffed() {
        let (port, seen) = relay(false).await;
        let mut c = cfg(port);
        (c.pool, c.concurrency) = (1, 1);
        let t = SmtpTransport::new(&c, None).unwrap();
        let mut p = parcel();
        p.bytes = b"Subject: hi\r\n\r\n.dot line\r\nend".to_vec();
        for _ in 0..5 {
            t.send(&p).await.unwrap();
        }
        let seen = seen.lock().unwrap();
        assert_eq!(seen.connections, 1);
        assert_eq!(seen.messages.len(), 5);
        assert_eq!(
            seen.messages[0],
            b"Subject: hi\r\n\r\n..dot line\r\nend\r\n.\r\n"
        );
        assert_eq!(seen.commands.iter().filter(|c| *c == "EHLO").count(), 1);
    }

    #[tokio::test]
    async fn refused_recipient_is_permanent_and_the_connection_is_reset_and_kept() {
        let (port, seen) = relay(false).await;
        let t = SmtpTransport::new(&cfg(port), None).unwrap();
        let err = t
            .send(&to(&parcel(), "refused@example.org"))
            .await
            .unwrap_err();
        assert_eq!(err, SendError::Permanent("smtp-550".into()));
        let err = t
            .send(&to(&parcel(), "later@example.org"))
            .await
            .unwrap_err();
        assert_eq!(err, SendError::Temporary("smtp-451".into()));
        t.send(&parcel()).await.unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.connections, 1);
        assert_eq!(seen.messages.len(), 1);
        assert_eq!(seen.commands.iter().filter(|c| *c == "RSET").count(), 2);
    }

    #[tokio::test]
    async fn a_pooled_connection_the_relay_closed_is_replaced_and_the_message_sent_once() {
        let (port, seen) = relay(true).await;
        let mut c = cfg(port);
        (c.pool, c.concurrency) = (1, 1);
        let t = SmtpTransport::new(&c, None).unwrap();
        t.send(&parcel()).await.unwrap();
        t.send(&parcel()).await.unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.connections, 2);
        assert_eq!(seen.messages.len(), 2);
    }

    #[tokio::test]
    async fn verify_logs_in_and_a_wrong_password_is_a_login_error() {
        let (port, seen) = relay(false).await;
        let mut c = cfg(port);
        c.user = Some("pulse".into());
        c.password_env = Some("COACHMAIL_SMTP_PASSWORD".into());
        let good = SmtpTransport::new(&c, Some("pw".into())).unwrap();
        good.verify().await.unwrap();
        good.send(&parcel()).await.unwrap();
        assert_eq!(
            seen.lock().unwrap().connections,
            1,
            "verify's connection is reused"
        );
        let bad = SmtpTransport::new(&c, Some("wrong".into())).unwrap();
        let err = bad.verify().await.unwrap_err();
        assert!(matches!(err, SmtpError::Login { code: 535, .. }), "{err:?}");
        assert!(err.to_string().contains("COACHMAIL_SMTP_PASSWORD"), "{err}");
        let send = bad.send(&parcel()).await.unwrap_err();
        assert_eq!(send, SendError::Temporary("smtp-auth-535".into()));
    }

    #[tokio::test]
    async fn starttls_that_the_relay_does_not_offer_is_refused() {
        let (port, _seen) = relay(false).await;
        let mut c = cfg(port);
        c.tls = Tls::StartTls;
        let t = SmtpTransport::new(&c, None).unwrap();
        let err = t.send(&parcel()).await.unwrap_err();
        assert_eq!(err, SendError::Temporary("tls-unavailable".into()));
    }

    #[tokio::test(start_paused = true)]
    async fn pace_spaces_sends_by_the_per_minute_rate() {
        let pace = Pace::per_minute(60);
        let start = Instant::now();
        for _ in 0..3 {
            pace.wait().await;
        }
        assert_eq!(Instant::now() - start, Duration::from_secs(2));
    }
}
