//! Delivery through an SMTP relay: lettre's async, pooled transport.
//!
//! Owns the TLS mode (STARTTLS, implicit TLS, plain on loopback only), AUTH
//! with the password from the environment, the pool, the concurrency limit,
//! the per-minute rate limit, and the mapping of every lettre error to a
//! content-free class (`smtp-451`, `connect-refused`, `timeout`, ...) that
//! says whether trying again can help. Never logs or returns addresses,
//! subjects, bodies or the password.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls as LettreTls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

use super::{Parcel, SendError, SendFuture, Transport};
use crate::config::{Smtp, Tls};

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

/// SMTP reply codes that mean "your login is wrong", not "this message".
const AUTH_CODES: [u16; 4] = [530, 534, 535, 538];

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
        tokio::time::sleep_until(at).await;
    }
}

/// Sends through a relay with a pool of connections. Build it inside a
/// Tokio runtime (the pool runs a background task).
pub struct SmtpTransport {
    inner: AsyncSmtpTransport<Tokio1Executor>,
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

/// True for `localhost` and loopback addresses.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Reads the PEM certificates in `path`.
fn read_ca(path: &Path) -> Result<Vec<u8>, SmtpError> {
    let pem = std::fs::read(path).map_err(|e| SmtpError::CaCert {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
        return Err(SmtpError::CaCert {
            path: path.to_path_buf(),
            reason: "no PEM certificate in it".into(),
        });
    }
    Ok(pem)
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
        let tls_params = || -> Result<TlsParameters, SmtpError> {
            let mut b = TlsParameters::builder(cfg.host.clone());
            if let Some(path) = &cfg.ca_cert {
                let cert =
                    Certificate::from_pem(&read_ca(path)?).map_err(|e| SmtpError::CaCert {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                b = b.add_root_certificate(cert);
            }
            b.build_rustls().map_err(|e| SmtpError::Tls {
                server: server.clone(),
                reason: e.to_string(),
            })
        };
        let tls = match cfg.tls {
            Tls::StartTls => LettreTls::Required(tls_params()?),
            Tls::Implicit => LettreTls::Wrapper(tls_params()?),
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
                LettreTls::None
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host)
            .port(cfg.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(cfg.timeout_seconds)))
            .pool_config(PoolConfig::new().max_size(cfg.pool.max(1)));
        if let (Some(user), Some(password)) = (&cfg.user, password) {
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        let concurrency = cfg.concurrency.clamp(1, cfg.pool.max(1)) as usize;
        Ok(SmtpTransport {
            inner: builder.build(),
            slots: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            pace: Pace::per_minute(cfg.per_minute),
            deadline: Duration::from_secs(cfg.timeout_seconds.saturating_mul(2)),
            server,
            password_env: cfg.password_env.clone(),
        })
    }

    /// Connects and logs in once, so a wrong password or host shows at start.
    pub async fn verify(&self) -> Result<(), SmtpError> {
        match tokio::time::timeout(self.deadline, self.inner.test_connection()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(self.setup_error(&e)),
            Err(_) => Err(SmtpError::Unreachable {
                server: self.server.clone(),
                class: "timeout".into(),
            }),
        }
    }

    fn setup_error(&self, e: &lettre::transport::smtp::Error) -> SmtpError {
        let code = e.status().map(u16::from);
        match (code, &self.password_env) {
            (Some(code), Some(var)) if AUTH_CODES.contains(&code) => SmtpError::Login {
                server: self.server.clone(),
                code,
                var: var.clone(),
            },
            _ => SmtpError::Unreachable {
                server: self.server.clone(),
                class: classify(e).class().to_string(),
            },
        }
    }

    async fn deliver(&self, parcel: &Parcel) -> Result<(), SendError> {
        let from: Address = parcel
            .from
            .parse()
            .map_err(|_| SendError::Permanent("address-invalid-from".into()))?;
        let to: Address = parcel
            .to
            .parse()
            .map_err(|_| SendError::Permanent("address-invalid-to".into()))?;
        let envelope = Envelope::new(Some(from), vec![to])
            .map_err(|_| SendError::Permanent("envelope-invalid".into()))?;
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| SendError::Temporary("transport-closed".into()))?;
        self.pace.wait().await;
        // lettre's timeout covers connecting; this bounds the whole
        // conversation (a relay that accepts and then says nothing).
        let sent =
            tokio::time::timeout(self.deadline, self.inner.send_raw(&envelope, &parcel.bytes))
                .await
                .map_err(|_| SendError::Temporary("timeout".into()))?;
        match sent {
            Ok(_) => Ok(()),
            Err(e) => {
                let err = classify(&e);
                if let SmtpError::Login { .. } = self.setup_error(&e) {
                    tracing::error!(error = %self.setup_error(&e), "cannot send");
                }
                Err(err)
            }
        }
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

/// The I/O error at the root of `e`, if any.
fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = err.source();
    }
    None
}

/// Maps a lettre error to retry-or-not and a content-free class. A refused
/// login is temporary: the fix is the operator's password, not the message.
pub fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    if let Some(code) = e.status() {
        let n = u16::from(code);
        if AUTH_CODES.contains(&n) {
            return SendError::Temporary(format!("smtp-auth-{n}"));
        }
        return if e.is_permanent() {
            SendError::Permanent(format!("smtp-{n}"))
        } else {
            SendError::Temporary(format!("smtp-{n}"))
        };
    }
    if e.is_timeout() {
        return SendError::Temporary("timeout".into());
    }
    if e.is_tls() {
        return SendError::Temporary("tls".into());
    }
    use std::io::ErrorKind as K;
    let class = match io_kind(e) {
        Some(K::ConnectionRefused) => "connect-refused",
        Some(K::TimedOut | K::WouldBlock) => "timeout",
        Some(K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof) => {
            "connection-dropped"
        }
        Some(K::NotFound | K::AddrNotAvailable | K::HostUnreachable | K::NetworkUnreachable) => {
            "connect-unreachable"
        }
        Some(_) => "network",
        None if e.is_transport_shutdown() => "transport-shutdown",
        None if e.is_response() => "smtp-bad-response",
        None if e.is_client() => "smtp-client",
        None => "smtp-connection",
    };
    SendError::Temporary(class.into())
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
