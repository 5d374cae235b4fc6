//! Replies from an IMAP mailbox.
//!
//! Owns the connection (implicit TLS, STARTTLS, or plain on loopback only),
//! the login with the password from the environment, finding new mail
//! (UIDs past the recorded position, UIDVALIDITY checked), handing each
//! message to the service over a channel, and acknowledging it (`\Seen`, or
//! a move to `processed_folder`) only after the service answers that its
//! effects are committed. Between rounds it waits in IDLE, or polls where
//! the server lacks IDLE; a dropped connection is reopened with backoff.
//!
//! It also erases: the processed copies of a forgotten PM's messages when
//! the service asks ([`EraseRequest`]), processed messages older than
//! retention (hourly), and refused or ignored mail as soon as the service
//! says so, so that none of them keeps a copy on the server.
//!
//! Never interprets a message, never touches the store (the service does,
//! on its own task), and never logs content, addresses or the password:
//! errors carry content-free classes such as `imap-no` or `io-timed-out`.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::config::{Imap, Tls};
use crate::store::ImapPosition;

/// One message fetched from the mailbox, waiting for the service.
#[derive(Debug)]
pub struct ImapMessage {
    /// The mailbox key the position is recorded under.
    pub mailbox: String,
    pub uid_validity: u32,
    pub uid: u32,
    /// At most `max_message_bytes + 1` bytes of the message.
    pub raw: Vec<u8>,
    /// Answered once the message's effects are committed (or not).
    pub done: oneshot::Sender<Handled>,
}

/// What the service did with a message, and so what the server should do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// Committed: acknowledge it (`\Seen`, or moved to `processed_folder`).
    Keep,
    /// Committed, and refused or ignored: delete it, no copy is kept.
    Discard,
    /// Not committed: fetch it again later.
    Later,
}

/// Erase the processed copies of some messages: those whose raw bytes
/// `matches` accepts. `message_ids` narrows the search on the server (a
/// header search, confirmed by `matches`); `scan_all` looks at every
/// processed message (for messages that carried no usable Message-ID).
pub struct EraseRequest {
    pub message_ids: Vec<String>,
    pub scan_all: bool,
    pub matches: Matcher,
}

/// Says whether a message's raw bytes are one of those to erase.
pub type Matcher = Box<dyn Fn(&[u8]) -> bool + Send + Sync>;

impl std::fmt::Debug for EraseRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EraseRequest")
            .field("message_ids", &self.message_ids.len())
            .field("scan_all", &self.scan_all)
            .finish_non_exhaustive()
    }
}

/// Processed messages older than retention are looked for this often.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// A Message-ID that can go into a quoted IMAP search string as it is.
fn searchable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 250
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}

/// The IMAP date (`1-Feb-2026`) of `days` days before `now`.
pub fn imap_date_before(now: chrono::DateTime<chrono::Utc>, days: u32) -> String {
    (now - chrono::Duration::days(i64::from(days)))
        .format("%-d-%b-%Y")
        .to_string()
}

/// Why the mailbox could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error(
        "the IMAP password is read from the environment variable {var} (inbound.password_env), which is not set; export it in the service's environment"
    )]
    MissingPassword { var: String },
    #[error(
        "inbound.tls = \"none\" sends the password unencrypted, so it is only allowed for a server on loopback, and `{host}` is not one; use tls = \"implicit\" or \"starttls\""
    )]
    PlainNotLoopback { host: String },
    #[error(
        "cannot use the CA certificate {} (inbound.ca_cert): {reason}; point ca_cert at a PEM file, or remove it to trust the system CAs only",
        path.display()
    )]
    CaCert { path: PathBuf, reason: String },
    #[error("cannot reach the IMAP server {server} ({class}); check inbound.host, port and tls")]
    Connect { server: String, class: String },
    #[error(
        "the IMAP server {server} refused the login; check the password in the environment variable {var} (inbound.password_env) and inbound.user"
    )]
    Login { server: String, var: String },
    #[error(
        "cannot open the IMAP folder `{folder}` ({class}); check inbound.folder and inbound.processed_folder"
    )]
    Folder { folder: String, class: String },
    #[error("the IMAP session with {server} failed ({class}); reconnecting")]
    Session { server: String, class: String },
}

impl ImapError {
    /// A fault of the configuration (or of the secret it names): the
    /// operator must change something before replies can be read.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            ImapError::MissingPassword { .. }
                | ImapError::PlainNotLoopback { .. }
                | ImapError::CaCert { .. }
                | ImapError::Login { .. }
                | ImapError::Folder { .. }
        )
    }
}

/// The byte stream under an IMAP session: TCP, maybe wrapped in TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Io for T {}

type ImapSession = Session<Box<dyn Io>>;

/// How a round ended.
enum Round {
    /// The service stopped listening: shut down.
    Stop,
    /// The service could not commit a message: wait, then try again.
    Later,
    /// Everything new was handed over and acknowledged.
    Done,
}

/// Reads the configured mailbox; see the module docs.
pub struct ImapReader {
    cfg: Imap,
    password: String,
    tls: Option<TlsConnector>,
    limit: usize,
    /// Processed messages older than this many days are deleted.
    retention_days: Option<u32>,
}

impl std::fmt::Debug for ImapReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapReader")
            .field("server", &self.server())
            .field("folder", &self.cfg.folder)
            .finish_non_exhaustive()
    }
}

/// Waits before reconnect attempt `n` (1-based): 1 s doubling to 60 s.
pub fn reconnect_delay(n: u32) -> Duration {
    Duration::from_secs(1u64 << n.saturating_sub(1).min(6)).min(Duration::from_secs(60))
}

fn class_of(e: &async_imap::error::Error) -> String {
    use async_imap::error::Error as E;
    match e {
        E::Io(io) => format!("io-{}", kebab(&format!("{:?}", io.kind()))),
        E::Bad(_) => "imap-bad".into(),
        E::No(_) => "imap-no".into(),
        E::ConnectionLost => "connection-lost".into(),
        E::Parse(_) => "imap-parse".into(),
        E::Validate(_) => "imap-validate".into(),
        E::Append => "imap-append".into(),
        _ => "imap-error".into(),
    }
}

/// `TimedOut` → `timed-out`.
fn kebab(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A rustls connector trusting the system CAs and `ca_cert`, if any.
fn tls_connector(ca_cert: Option<&Path>) -> Result<TlsConnector, ImapError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_cert {
        let err = |reason: String| ImapError::CaCert {
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
        for c in certs {
            roots.add(c).map_err(|e| err(e.to_string()))?;
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::Connect {
            server: String::new(),
            class: format!("tls-setup: {e}"),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

impl ImapReader {
    /// The reader the config describes, with the password from the
    /// environment variable it names. `limit` is `auth.max_message_bytes`.
    pub fn from_config(cfg: &Imap, limit: usize) -> Result<ImapReader, ImapError> {
        let password =
            std::env::var(&cfg.password_env).map_err(|_| ImapError::MissingPassword {
                var: cfg.password_env.clone(),
            })?;
        ImapReader::new(cfg, password, limit)
    }

    /// The reader with the password given (tests, benchmarks).
    pub fn new(cfg: &Imap, password: String, limit: usize) -> Result<ImapReader, ImapError> {
        let tls = match cfg.tls {
            Tls::None => {
                if !crate::config::is_loopback(&cfg.host) {
                    return Err(ImapError::PlainNotLoopback {
                        host: cfg.host.clone(),
                    });
                }
                tracing::warn!(
                    server = %format!("{}:{}", cfg.host, cfg.port),
                    "inbound.tls = none: the IMAP login goes to loopback unencrypted"
                );
                None
            }
            Tls::Implicit | Tls::StartTls => Some(tls_connector(cfg.ca_cert.as_deref())?),
        };
        Ok(ImapReader {
            cfg: cfg.clone(),
            password,
            tls,
            limit,
            retention_days: None,
        })
    }

    /// The same reader, deleting processed messages older than `days`.
    pub fn with_retention_days(mut self, days: u32) -> ImapReader {
        self.retention_days = Some(days);
        self
    }

    fn server(&self) -> String {
        format!("{}:{}", self.cfg.host, self.cfg.port)
    }

    /// The key this mailbox's position is stored under.
    pub fn mailbox(&self) -> String {
        format!("{}@{}/{}", self.cfg.user, self.server(), self.cfg.folder)
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.cfg.timeout_seconds)
    }

    fn session_error(&self, e: &async_imap::error::Error) -> ImapError {
        ImapError::Session {
            server: self.server(),
            class: class_of(e),
        }
    }

    /// Runs `f` within the configured timeout.
    async fn within<T>(
        &self,
        f: impl Future<Output = async_imap::error::Result<T>>,
    ) -> Result<T, ImapError> {
        match tokio::time::timeout(self.timeout(), f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.session_error(&e)),
            Err(_) => Err(ImapError::Session {
                server: self.server(),
                class: "timeout".into(),
            }),
        }
    }

    async fn tls_wrap(&self, tcp: TcpStream) -> Result<Box<dyn Io>, ImapError> {
        let connect_err = |class: String| ImapError::Connect {
            server: self.server(),
            class,
        };
        let Some(connector) = &self.tls else {
            return Ok(Box::new(tcp));
        };
        let name = ServerName::try_from(self.cfg.host.clone())
            .map_err(|_| connect_err("tls-bad-host-name".into()))?;
        let tls = tokio::time::timeout(self.timeout(), connector.connect(name, tcp))
            .await
            .map_err(|_| connect_err("tls-timeout".into()))?
            .map_err(|e| connect_err(format!("tls: {e}")))?;
        Ok(Box::new(tls))
    }

    /// Connects, secures and logs in.
    pub async fn connect(&self) -> Result<ImapSession, ImapError> {
        let connect_err = |class: String| ImapError::Connect {
            server: self.server(),
            class,
        };
        let tcp = tokio::time::timeout(
            self.timeout(),
            TcpStream::connect((self.cfg.host.as_str(), self.cfg.port)),
        )
        .await
        .map_err(|_| connect_err("timeout".into()))?
        .map_err(|e| connect_err(format!("io-{}", kebab(&format!("{:?}", e.kind())))))?;
        let _ = tcp.set_nodelay(true);
        let client: Client<Box<dyn Io>> = match self.cfg.tls {
            Tls::Implicit | Tls::None => {
                let stream = if self.cfg.tls == Tls::Implicit {
                    self.tls_wrap(tcp).await?
                } else {
                    Box::new(tcp) as Box<dyn Io>
                };
                let mut client = Client::new(stream);
                self.greeting(&mut client).await?;
                client
            }
            Tls::StartTls => {
                let mut plain = Client::new(tcp);
                self.greeting(&mut plain).await?;
                self.within(plain.run_command_and_check_ok("STARTTLS", None))
                    .await
                    .map_err(|_| connect_err("starttls-refused".into()))?;
                Client::new(self.tls_wrap(plain.into_inner()).await?)
            }
        };
        let login =
            tokio::time::timeout(self.timeout(), client.login(&self.cfg.user, &self.password))
                .await;
        match login {
            Ok(Ok(session)) => Ok(session),
            Ok(Err((async_imap::error::Error::No(_) | async_imap::error::Error::Bad(_), _))) => {
                Err(ImapError::Login {
                    server: self.server(),
                    var: self.cfg.password_env.clone(),
                })
            }
            Ok(Err((e, _))) => Err(connect_err(class_of(&e))),
            Err(_) => Err(connect_err("timeout".into())),
        }
    }

    async fn greeting<T: Io>(&self, client: &mut Client<T>) -> Result<(), ImapError> {
        match tokio::time::timeout(self.timeout(), client.read_response()).await {
            Ok(Ok(Some(_))) => Ok(()),
            Ok(Ok(None)) => Err(ImapError::Connect {
                server: self.server(),
                class: "no-greeting".into(),
            }),
            Ok(Err(e)) => Err(ImapError::Connect {
                server: self.server(),
                class: format!("io-{}", kebab(&format!("{:?}", e.kind()))),
            }),
            Err(_) => Err(ImapError::Connect {
                server: self.server(),
                class: "timeout".into(),
            }),
        }
    }

    /// Logs in once and logs out: a wrong password or host shows at start.
    pub async fn verify(&self) -> Result<(), ImapError> {
        let mut session = self.connect().await?;
        self.within(session.select(&self.cfg.folder))
            .await
            .map_err(|e| self.folder_error(&self.cfg.folder, e))?;
        let _ = self.within(session.logout()).await;
        Ok(())
    }

    fn folder_error(&self, folder: &str, e: ImapError) -> ImapError {
        match e {
            ImapError::Session { class, .. } => ImapError::Folder {
                folder: folder.to_string(),
                class,
            },
            other => other,
        }
    }

    /// Reads the mailbox until the receiving end of `tx` is dropped,
    /// starting after `start` (the position recorded in the store).
    pub async fn run(
        self,
        start: Option<ImapPosition>,
        tx: mpsc::Sender<ImapMessage>,
        mut erase: mpsc::UnboundedReceiver<EraseRequest>,
    ) {
        let mut position = start;
        let mut failures = 0u32;
        let mut chores = Chores::default();
        loop {
            if tx.is_closed() {
                return;
            }
            match self
                .session(&mut position, &tx, &mut failures, &mut erase, &mut chores)
                .await
            {
                Ok(()) => return,
                Err(e) => {
                    failures += 1;
                    let wait = reconnect_delay(failures);
                    if let ImapError::Login { .. } = e {
                        tracing::error!(error = %e, retry_in_s = wait.as_secs(), "IMAP login refused");
                    } else {
                        tracing::warn!(error = %e, retry_in_s = wait.as_secs(), "IMAP connection lost");
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = tx.closed() => return,
                    }
                }
            }
        }
    }

    /// One connection: select, then rounds of "hand over what is new, wait".
    /// Returns `Ok` only when the service stopped listening.
    async fn session(
        &self,
        position: &mut Option<ImapPosition>,
        tx: &mpsc::Sender<ImapMessage>,
        failures: &mut u32,
        erase: &mut mpsc::UnboundedReceiver<EraseRequest>,
        chores: &mut Chores,
    ) -> Result<(), ImapError> {
        let mut session = self.connect().await?;
        let folder = self
            .within(session.select(&self.cfg.folder))
            .await
            .map_err(|e| self.folder_error(&self.cfg.folder, e))?;
        let validity = folder.uid_validity.unwrap_or(0);
        match position {
            Some(p) if p.uid_validity == validity => {}
            Some(p) => {
                tracing::warn!(
                    old = p.uid_validity,
                    new = validity,
                    "IMAP UIDVALIDITY changed: looking at the whole folder again (messages already applied are recognised and not applied twice)"
                );
                *position = Some(ImapPosition {
                    uid_validity: validity,
                    last_uid: 0,
                });
            }
            None => {
                *position = Some(ImapPosition {
                    uid_validity: validity,
                    last_uid: 0,
                });
            }
        }
        let caps = self.within(session.capabilities()).await?;
        let idle = self.cfg.idle && caps.has_str("IDLE");
        let can_move = caps.has_str("MOVE");
        if self.cfg.idle && !idle {
            tracing::info!("IMAP server lacks IDLE: polling instead");
        }
        tracing::info!(idle, "IMAP mailbox open");
        *failures = 0;
        loop {
            while let Ok(req) = erase.try_recv() {
                chores.erase.push(req);
            }
            self.chores(&mut session, chores).await?;
            match self
                .round(&mut session, position, validity, tx, can_move)
                .await?
            {
                Round::Stop => return Ok(()),
                Round::Later => {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(self.cfg.poll_seconds.min(5))) => {}
                        _ = tx.closed() => return Ok(()),
                    }
                    continue;
                }
                Round::Done => {}
            }
            if idle {
                let mut handle = session.idle();
                self.within(handle.init()).await?;
                let stopped = {
                    let (wait, _interrupt) = handle.wait_with_timeout(Duration::from_secs(25 * 60));
                    tokio::select! {
                        r = wait => { r.map_err(|e| self.session_error(&e))?; false }
                        _ = tx.closed() => true,
                        Some(req) = erase.recv() => { chores.erase.push(req); false }
                    }
                };
                if stopped {
                    return Ok(());
                }
                session = self.within(handle.done()).await?;
            } else {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(self.cfg.poll_seconds)) => {}
                    _ = tx.closed() => return Ok(()),
                    Some(req) = erase.recv() => chores.erase.push(req),
                }
                self.within(session.noop()).await?;
            }
        }
    }

    /// Hands every new message to the service, in UID order, and
    /// acknowledges those it committed.
    async fn round(
        &self,
        session: &mut ImapSession,
        position: &mut Option<ImapPosition>,
        validity: u32,
        tx: &mpsc::Sender<ImapMessage>,
        can_move: bool,
    ) -> Result<Round, ImapError> {
        let query = if self.cfg.processed_folder.is_some() {
            "UNDELETED"
        } else {
            "UNSEEN UNDELETED"
        };
        let mut uids: Vec<u32> = self
            .within(session.uid_search(query))
            .await?
            .into_iter()
            .collect();
        uids.sort_unstable();
        let last = position.map_or(0, |p| p.last_uid);
        // Applied before, but not acknowledged (the connection dropped):
        // acknowledge without fetching again.
        let (old, new): (Vec<u32>, Vec<u32>) = uids.into_iter().partition(|u| *u <= last);
        self.acknowledge(session, &old, can_move).await?;
        for chunk in new.chunks(16) {
            let fetched = self.fetch(session, chunk).await?;
            let mut done = Vec::new();
            let mut discard = Vec::new();
            let mut outcome = Round::Done;
            for (uid, raw) in fetched {
                let (ack, answer) = oneshot::channel();
                let msg = ImapMessage {
                    mailbox: self.mailbox(),
                    uid_validity: validity,
                    uid,
                    raw,
                    done: ack,
                };
                if tx.send(msg).await.is_err() {
                    outcome = Round::Stop;
                    break;
                }
                match answer.await {
                    Ok(handled @ (Handled::Keep | Handled::Discard)) => {
                        if handled == Handled::Keep {
                            done.push(uid);
                        } else {
                            discard.push(uid);
                        }
                        *position = Some(ImapPosition {
                            uid_validity: validity,
                            last_uid: uid,
                        });
                    }
                    Ok(Handled::Later) => {
                        outcome = Round::Later;
                        break;
                    }
                    Err(_) => {
                        outcome = Round::Stop;
                        break;
                    }
                }
            }
            self.acknowledge(session, &done, can_move).await?;
            self.delete(session, &discard).await?;
            if !matches!(outcome, Round::Done) {
                return Ok(outcome);
            }
        }
        Ok(Round::Done)
    }

    /// Marks `uids` handled: moved to `processed_folder`, or `\Seen`.
    async fn acknowledge(
        &self,
        session: &mut ImapSession,
        uids: &[u32],
        can_move: bool,
    ) -> Result<(), ImapError> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uid_set(uids);
        match &self.cfg.processed_folder {
            Some(to) if can_move => self
                .within(session.uid_mv(&set, to))
                .await
                .map_err(|e| self.folder_error(to, e)),
            Some(to) => {
                self.within(session.uid_copy(&set, to))
                    .await
                    .map_err(|e| self.folder_error(to, e))?;
                self.delete(session, uids).await
            }
            None => {
                self.within(async {
                    session
                        .uid_store(&set, "+FLAGS.SILENT (\\Seen)")
                        .await?
                        .try_collect::<Vec<_>>()
                        .await?;
                    Ok(())
                })
                .await
            }
        }
    }
}

/// Work the reader does besides reading: erasures asked for by the
/// service (kept across reconnects until done) and the hourly retention
/// sweep.
#[derive(Default)]
struct Chores {
    erase: Vec<EraseRequest>,
    last_retention: Option<std::time::Instant>,
}

impl ImapReader {
    /// Erases what was asked, and sweeps retention when it is due. The
    /// main folder is selected again afterwards.
    async fn chores(
        &self,
        session: &mut ImapSession,
        chores: &mut Chores,
    ) -> Result<(), ImapError> {
        let retention = self.retention_days.filter(|_| {
            chores
                .last_retention
                .is_none_or(|t| t.elapsed() >= RETENTION_EVERY)
        });
        if chores.erase.is_empty() && retention.is_none() {
            return Ok(());
        }
        // Processed messages live in `processed_folder`, or in the main
        // folder with `\Seen`.
        let (folder, processed) = match &self.cfg.processed_folder {
            Some(f) => (f.clone(), "ALL"),
            None => (self.cfg.folder.clone(), "SEEN"),
        };
        if folder != self.cfg.folder {
            self.within(session.select(&folder))
                .await
                .map_err(|e| self.folder_error(&folder, e))?;
        }
        let mut erased = 0;
        while let Some(req) = chores.erase.first() {
            erased += self.erase(session, processed, req).await?;
            chores.erase.remove(0);
        }
        if erased > 0 {
            tracing::info!(
                count = erased,
                "processed IMAP messages of a forgotten PM erased"
            );
        }
        if let Some(days) = retention {
            let query = format!(
                "{processed} BEFORE {}",
                imap_date_before(chrono::Utc::now(), days)
            );
            let uids: Vec<u32> = self
                .within(session.uid_search(&query))
                .await?
                .into_iter()
                .collect();
            self.delete(session, &uids).await?;
            if !uids.is_empty() {
                tracing::info!(
                    count = uids.len(),
                    "processed IMAP messages past retention deleted"
                );
            }
            chores.last_retention = Some(std::time::Instant::now());
        }
        if folder != self.cfg.folder {
            self.within(session.select(&self.cfg.folder))
                .await
                .map_err(|e| self.folder_error(&self.cfg.folder, e))?;
        }
        Ok(())
    }

    /// Deletes the processed messages `req` matches in the selected folder;
    /// returns how many.
    async fn erase(
        &self,
        session: &mut ImapSession,
        processed: &str,
        req: &EraseRequest,
    ) -> Result<usize, ImapError> {
        let mut candidates = std::collections::BTreeSet::new();
        let scan_all = req.scan_all || !req.message_ids.iter().all(|id| searchable(id));
        if scan_all {
            candidates.extend(self.within(session.uid_search(processed)).await?);
        } else {
            for id in &req.message_ids {
                let query = format!("{processed} HEADER Message-ID \"{id}\"");
                candidates.extend(self.within(session.uid_search(&query)).await?);
            }
        }
        let candidates: Vec<u32> = candidates.into_iter().collect();
        let mut doomed = Vec::new();
        for chunk in candidates.chunks(16) {
            // The same bytes the service read: at most the message limit.
            let fetched = self.fetch(session, chunk).await?;
            doomed.extend(
                fetched
                    .into_iter()
                    .filter(|(_, raw)| (req.matches)(raw))
                    .map(|(uid, _)| uid),
            );
        }
        self.delete(session, &doomed).await?;
        Ok(doomed.len())
    }

    /// The messages `uids` of the selected folder, each up to the message
    /// limit plus one byte (so an oversized one is seen as such).
    async fn fetch(
        &self,
        session: &mut ImapSession,
        uids: &[u32],
    ) -> Result<Vec<(u32, Vec<u8>)>, ImapError> {
        let set = uid_set(uids);
        self.within(async {
            let stream = session
                .uid_fetch(&set, format!("(UID BODY.PEEK[]<0.{}>)", self.limit + 1))
                .await?;
            let all: Vec<_> = stream.try_collect().await?;
            Ok(all
                .iter()
                .filter_map(|f| Some((f.uid?, f.body().unwrap_or_default().to_vec())))
                .collect())
        })
        .await
    }

    /// Flags `uids` in the selected folder `\Deleted` and expunges them.
    async fn delete(&self, session: &mut ImapSession, uids: &[u32]) -> Result<(), ImapError> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uid_set(uids);
        self.within(async {
            session
                .uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
                .await?
                .try_collect::<Vec<_>>()
                .await?;
            session
                .uid_expunge(&set)
                .await?
                .try_collect::<Vec<_>>()
                .await?;
            Ok(())
        })
        .await
    }
}

/// `1,2,3,7` → `1:3,7`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_dates_are_written_as_imap_wants_them() {
        let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, 31, 12, 0, 0).unwrap();
        assert_eq!(imap_date_before(now, 30), "1-Mar-2026");
        assert_eq!(imap_date_before(now, 365), "31-Mar-2025");
    }

    #[test]
    fn only_plain_message_ids_go_into_a_server_search() {
        assert!(searchable("abc.123@mail.example.org"));
        for id in ["", "a\"b@x", "a\\b@x", "a b@x", "ünï@x", "a\r\nb@x"] {
            assert!(!searchable(id), "{id:?}");
        }
        assert!(!searchable(&"x".repeat(251)));
    }

    #[test]
    fn uid_sets_collapse_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[]), "");
    }

    #[test]
    fn reconnect_waits_double_up_to_a_minute() {
        assert_eq!(reconnect_delay(1), Duration::from_secs(1));
        assert_eq!(reconnect_delay(2), Duration::from_secs(2));
        assert_eq!(reconnect_delay(4), Duration::from_secs(8));
        assert_eq!(reconnect_delay(30), Duration::from_secs(60));
    }

    #[test]
    fn io_error_classes_are_kebab_case() {
        assert_eq!(kebab("TimedOut"), "timed-out");
        assert_eq!(kebab("ConnectionRefused"), "connection-refused");
    }
}
