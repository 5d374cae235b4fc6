//! One SMTP client connection: the wire conversation with a relay.
//!
//! Owns connecting (`TCP_NODELAY`, implicit TLS or STARTTLS), EHLO and its
//! extensions, AUTH PLAIN/LOGIN, and one mail transaction at a time: MAIL,
//! RCPT and DATA pipelined when the relay offers it, then the dot-stuffed
//! message and its closing `.` in one write, so no message waits for a
//! delayed ACK. A rejected transaction is reset and the connection kept.
//! Never keeps the relay's reply text in a [`Failure`], never logs, and
//! never writes the password anywhere but the AUTH exchange.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::outbound::SendError;

/// SMTP reply codes that mean "your login is wrong", not "this message".
pub const AUTH_CODES: [u16; 4] = [530, 534, 535, 538];

/// The most a single reply may hold before the relay is taken for broken.
const MAX_REPLY: usize = 64 * 1024;

/// Why a conversation failed, without any of its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The relay answered this code where another was expected.
    Reply(u16),
    /// Something that is not an SMTP reply, or the wrong kind of success.
    BadResponse,
    Timeout,
    Io(io::ErrorKind),
    /// The relay closed the connection.
    Closed,
    Tls,
    /// STARTTLS is required, and the relay does not offer it.
    NoStartTls,
    /// Credentials are configured, and the relay offers neither PLAIN nor LOGIN.
    NoAuthMechanism,
    /// A non-ASCII message, and the relay does not offer 8BITMIME.
    No8BitMime,
    /// A non-ASCII address, and the relay does not offer SMTPUTF8.
    NoSmtpUtf8,
}

impl Failure {
    /// The content-free class stored in the outbox and logged.
    pub fn class(&self) -> String {
        use io::ErrorKind as K;
        let fixed = match self {
            Failure::Reply(n) if AUTH_CODES.contains(n) => return format!("smtp-auth-{n}"),
            Failure::Reply(n) => return format!("smtp-{n}"),
            Failure::BadResponse => "smtp-bad-response",
            Failure::Timeout => "timeout",
            Failure::Closed => "connection-dropped",
            Failure::Tls => "tls",
            Failure::NoStartTls => "tls-unavailable",
            Failure::NoAuthMechanism => "smtp-auth-unsupported",
            Failure::No8BitMime => "smtp-no-8bitmime",
            Failure::NoSmtpUtf8 => "smtp-no-smtputf8",
            Failure::Io(kind) => match kind {
                K::ConnectionRefused => "connect-refused",
                K::TimedOut | K::WouldBlock => "timeout",
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                    "connection-dropped"
                }
                K::NotFound | K::AddrNotAvailable | K::HostUnreachable | K::NetworkUnreachable => {
                    "connect-unreachable"
                }
                _ => "network",
            },
        };
        fixed.to_string()
    }

    /// Retry or not: a 5xx is permanent, except a refused login (the fix
    /// is the operator's password, not the message); all else is temporary.
    pub fn to_send_error(&self) -> SendError {
        match self {
            Failure::Reply(n) if *n >= 500 && !AUTH_CODES.contains(n) => {
                SendError::Permanent(self.class())
            }
            _ => SendError::Temporary(self.class()),
        }
    }

    fn io(e: io::Error) -> Failure {
        Failure::Io(e.kind())
    }
}

/// One SMTP reply: its code and the text of its lines (read for the EHLO
/// keywords only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

/// Parses one complete reply from the front of `buf`, returning it and the
/// bytes it took, or `None` when its last line has not arrived yet.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, Failure> {
    let mut pos = 0;
    let mut code = None;
    let mut lines = Vec::new();
    loop {
        let Some(nl) = buf[pos..].iter().position(|&b| b == b'\n') else {
            return Ok(None);
        };
        let raw = &buf[pos..pos + nl];
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        pos += nl + 1;
        let digits = line.get(..3).ok_or(Failure::BadResponse)?;
        if !digits.iter().all(u8::is_ascii_digit) || !(b'2'..=b'5').contains(&digits[0]) {
            return Err(Failure::BadResponse);
        }
        let n = digits
            .iter()
            .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        if code.is_some_and(|c| c != n) {
            return Err(Failure::BadResponse);
        }
        code = Some(n);
        lines.push(String::from_utf8_lossy(line.get(4..).unwrap_or_default()).into_owned());
        match line.get(3) {
            Some(b'-') => continue,
            None | Some(b' ') => return Ok(Some((Reply { code: n, lines }, pos))),
            Some(_) => return Err(Failure::BadResponse),
        }
    }
}

/// Appends `message` as DATA content: every line ending CRLF, a leading
/// `.` doubled, and the closing `.` line.
pub fn dot_stuff_into(message: &[u8], out: &mut Vec<u8>) {
    out.reserve(message.len() + message.len() / 32 + 5);
    let mut rest = message;
    while !rest.is_empty() {
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
        rest = next;
    }
    out.extend_from_slice(b".\r\n");
}

/// Standard base64 with padding (RFC 4648), for AUTH.
pub fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// How the connection is secured.
#[derive(Clone)]
pub enum Security {
    /// Plain TCP (loopback relays only; the transport checks that).
    None,
    /// TLS from the first byte (port 465).
    Implicit(TlsConnector),
    /// Plain greeting, then STARTTLS, which must be offered.
    StartTls(TlsConnector),
}

/// Everything needed to open a connection.
#[derive(Clone)]
pub struct Dial {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// User and password for AUTH, if the relay wants a login.
    pub login: Option<(String, String)>,
    /// The name given in EHLO.
    pub helo: String,
    /// Bound on connecting and on each reply.
    pub timeout: Duration,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.write_all(bytes).await,
            Stream::Tls(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
        }
    }

    async fn read_buf(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read_buf(buf).await,
            Stream::Tls(s) => s.read_buf(buf).await,
        }
    }
}

/// What the relay said it supports, from its EHLO reply.
#[derive(Clone, Copy, Debug, Default)]
struct Extensions {
    pipelining: bool,
    starttls: bool,
    eight_bit_mime: bool,
    smtputf8: bool,
    auth_plain: bool,
    auth_login: bool,
}

impl Extensions {
    fn from_ehlo(reply: &Reply) -> Extensions {
        let mut ext = Extensions::default();
        // The first line greets; each further line names one extension.
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_ascii_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            match keyword.to_ascii_uppercase().as_str() {
                "PIPELINING" => ext.pipelining = true,
                "STARTTLS" => ext.starttls = true,
                "8BITMIME" => ext.eight_bit_mime = true,
                "SMTPUTF8" => ext.smtputf8 = true,
                "AUTH" => {
                    for mech in words {
                        match mech.to_ascii_uppercase().as_str() {
                            "PLAIN" => ext.auth_plain = true,
                            "LOGIN" => ext.auth_login = true,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        ext
    }
}

/// An open, greeted (and, if configured, secured and logged-in) connection.
pub struct Connection {
    stream: Stream,
    read: Vec<u8>,
    write: Vec<u8>,
    ext: Extensions,
    timeout: Duration,
    /// Set once the connection's state is unknown: it must not be reused.
    broken: bool,
    /// Set once this transaction's message went out: the relay may have it.
    sent_message: bool,
    /// When it was last used, for closing idle connections.
    pub last_used: Instant,
}

impl Connection {
    /// Connects, reads the greeting, says EHLO, secures and logs in.
    pub async fn open(dial: &Dial) -> Result<Connection, Failure> {
        let tcp = tokio::time::timeout(
            dial.timeout,
            TcpStream::connect((dial.host.as_str(), dial.port)),
        )
        .await
        .map_err(|_| Failure::Timeout)?
        .map_err(Failure::io)?;
        tcp.set_nodelay(true).map_err(Failure::io)?;
        let stream = match &dial.security {
            Security::Implicit(tls) => Connection::wrap(dial, tls, tcp).await?,
            Security::None | Security::StartTls(_) => Stream::Plain(tcp),
        };
        let mut conn = Connection {
            stream,
            read: Vec::with_capacity(1024),
            write: Vec::with_capacity(8 * 1024),
            ext: Extensions::default(),
            timeout: dial.timeout,
            broken: false,
            sent_message: false,
            last_used: Instant::now(),
        };
        conn.expect(220).await?;
        conn.ehlo(&dial.helo).await?;
        if let Security::StartTls(tls) = &dial.security {
            if !conn.ext.starttls {
                return Err(Failure::NoStartTls);
            }
            conn.command(b"STARTTLS\r\n").await?;
            conn.expect(220).await?;
            if !conn.read.is_empty() {
                // Bytes sent before the handshake would be trusted as if
                // they had come over TLS.
                return Err(Failure::BadResponse);
            }
            let Stream::Plain(tcp) = conn.stream else {
                return Err(Failure::Tls);
            };
            conn.stream = Connection::wrap(dial, tls, tcp).await?;
            conn.ehlo(&dial.helo).await?;
        }
        if let Some((user, password)) = &dial.login {
            conn.login(user, password).await?;
        }
        Ok(conn)
    }

    async fn wrap(dial: &Dial, tls: &TlsConnector, tcp: TcpStream) -> Result<Stream, Failure> {
        let name = ServerName::try_from(dial.host.clone()).map_err(|_| Failure::Tls)?;
        let stream = tokio::time::timeout(dial.timeout, tls.connect(name, tcp))
            .await
            .map_err(|_| Failure::Timeout)?
            .map_err(|_| Failure::Tls)?;
        Ok(Stream::Tls(Box::new(stream)))
    }

    /// False once the conversation went somewhere it cannot come back from.
    pub fn reusable(&self) -> bool {
        !self.broken
    }

    /// True when the last transaction's message reached the relay, so a
    /// failure may not be retried on another connection straight away.
    pub fn sent_message(&self) -> bool {
        self.sent_message
    }

    async fn ehlo(&mut self, helo: &str) -> Result<(), Failure> {
        self.write.clear();
        self.write.extend_from_slice(b"EHLO ");
        self.write.extend_from_slice(helo.as_bytes());
        self.write.extend_from_slice(b"\r\n");
        self.flush_write().await?;
        let reply = self.reply().await?;
        if reply.code != 250 {
            return Err(Failure::Reply(reply.code));
        }
        self.ext = Extensions::from_ehlo(&reply);
        Ok(())
    }

    async fn login(&mut self, user: &str, password: &str) -> Result<(), Failure> {
        if self.ext.auth_plain {
            let mut token = Vec::with_capacity(user.len() + password.len() + 2);
            token.push(0);
            token.extend_from_slice(user.as_bytes());
            token.push(0);
            token.extend_from_slice(password.as_bytes());
            let line = format!("AUTH PLAIN {}\r\n", base64(&token));
            self.command(line.as_bytes()).await?;
            return self.expect(235).await;
        }
        if self.ext.auth_login {
            self.command(b"AUTH LOGIN\r\n").await?;
            self.expect(334).await?;
            self.command(format!("{}\r\n", base64(user.as_bytes())).as_bytes())
                .await?;
            self.expect(334).await?;
            self.command(format!("{}\r\n", base64(password.as_bytes())).as_bytes())
                .await?;
            return self.expect(235).await;
        }
        Err(Failure::NoAuthMechanism)
    }

    /// Sends one message to one recipient. On a refusal the transaction is
    /// reset and the connection stays usable; see [`Connection::reusable`].
    pub async fn send(&mut self, from: &str, to: &str, message: &[u8]) -> Result<(), Failure> {
        self.sent_message = false;
        self.last_used = Instant::now();
        let mut params = String::new();
        if !from.is_ascii() || !to.is_ascii() {
            if !self.ext.smtputf8 {
                return Err(Failure::NoSmtpUtf8);
            }
            params.push_str(" SMTPUTF8");
        }
        if !message.is_ascii() {
            if !self.ext.eight_bit_mime {
                return Err(Failure::No8BitMime);
            }
            params.push_str(" BODY=8BITMIME");
        }
        let mail = format!("MAIL FROM:<{from}>{params}\r\n");
        let rcpt = format!("RCPT TO:<{to}>\r\n");
        let codes = if self.ext.pipelining {
            self.write.clear();
            for part in [mail.as_bytes(), rcpt.as_bytes(), b"DATA\r\n"] {
                self.write.extend_from_slice(part);
            }
            self.flush_write().await?;
            [
                self.reply_code().await?,
                self.reply_code().await?,
                self.reply_code().await?,
            ]
        } else {
            let mut codes = [0; 3];
            for (i, line) in [mail.as_bytes(), rcpt.as_bytes(), b"DATA\r\n"]
                .into_iter()
                .enumerate()
            {
                self.command(line).await?;
                codes[i] = self.reply_code().await?;
                if !(200..400).contains(&codes[i]) {
                    break;
                }
            }
            codes
        };
        let refused = codes[..2]
            .iter()
            .find(|c| !(200..300).contains(*c))
            .copied();
        match (refused, codes[2]) {
            (None, 354) => {}
            (_, 354) => {
                // Mid-DATA with a refused envelope: drop rather than guess.
                self.broken = true;
                return Err(Failure::Reply(refused.unwrap_or(354)));
            }
            (refused, data) => {
                self.reset().await?;
                let code = refused.unwrap_or(data);
                return Err(if (400..600).contains(&code) {
                    Failure::Reply(code)
                } else {
                    Failure::BadResponse
                });
            }
        }
        self.write.clear();
        dot_stuff_into(message, &mut self.write);
        self.sent_message = true;
        self.flush_write().await?;
        match self.reply_code().await? {
            250..=299 => Ok(()),
            code @ 400..=599 => Err(Failure::Reply(code)),
            _ => {
                self.broken = true;
                Err(Failure::BadResponse)
            }
        }
    }

    async fn reset(&mut self) -> Result<(), Failure> {
        if self.broken {
            return Ok(());
        }
        self.command(b"RSET\r\n").await?;
        if self.reply_code().await? != 250 {
            self.broken = true;
        }
        Ok(())
    }

    async fn command(&mut self, line: &[u8]) -> Result<(), Failure> {
        self.write.clear();
        self.write.extend_from_slice(line);
        self.flush_write().await
    }

    async fn flush_write(&mut self) -> Result<(), Failure> {
        let result = tokio::time::timeout(self.timeout, self.stream.write_all(&self.write)).await;
        self.write.clear();
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                self.broken = true;
                Err(Failure::io(e))
            }
            Err(_) => {
                self.broken = true;
                Err(Failure::Timeout)
            }
        }
    }

    async fn expect(&mut self, code: u16) -> Result<(), Failure> {
        match self.reply_code().await? {
            c if c == code => Ok(()),
            c => Err(Failure::Reply(c)),
        }
    }

    async fn reply_code(&mut self) -> Result<u16, Failure> {
        Ok(self.reply().await?.code)
    }

    /// Reads one reply. A 421 (the relay is closing) marks the connection
    /// broken but is returned as a reply.
    async fn reply(&mut self) -> Result<Reply, Failure> {
        let read = tokio::time::timeout(self.timeout, self.read_reply()).await;
        let reply = match read {
            Ok(Ok(reply)) => reply,
            Ok(Err(f)) => {
                self.broken = true;
                return Err(f);
            }
            Err(_) => {
                self.broken = true;
                return Err(Failure::Timeout);
            }
        };
        if reply.code == 421 {
            self.broken = true;
        }
        Ok(reply)
    }

    async fn read_reply(&mut self) -> Result<Reply, Failure> {
        loop {
            if let Some((reply, used)) = parse_reply(&self.read)? {
                self.read.drain(..used);
                return Ok(reply);
            }
            if self.read.len() > MAX_REPLY {
                return Err(Failure::BadResponse);
            }
            if self.read.capacity() - self.read.len() < 512 {
                self.read.reserve(4096);
            }
            if self
                .stream
                .read_buf(&mut self.read)
                .await
                .map_err(Failure::io)?
                == 0
            {
                return Err(Failure::Closed);
            }
        }
    }
}

/// Shares one TLS configuration between connections.
pub fn connector(config: tokio_rustls::rustls::ClientConfig) -> TlsConnector {
    TlsConnector::from(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_reply_is_one_reply_with_every_line() {
        let buf = b"250-mail.example.org\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n220 next";
        let (reply, used) = parse_reply(buf).unwrap().unwrap();
        assert_eq!(reply.code, 250);
        assert_eq!(
            reply.lines,
            ["mail.example.org", "PIPELINING", "AUTH PLAIN LOGIN"]
        );
        assert_eq!(&buf[used..], b"220 next");
        let ext = Extensions::from_ehlo(&reply);
        assert!(ext.pipelining && ext.auth_plain && ext.auth_login && !ext.starttls);
    }

    #[test]
    fn incomplete_reply_waits_for_more() {
        assert_eq!(parse_reply(b"250-first\r\n250 sec").unwrap(), None);
        assert_eq!(parse_reply(b"").unwrap(), None);
    }

    #[test]
    fn bare_code_and_lf_only_lines_are_read() {
        let (reply, used) = parse_reply(b"354\n").unwrap().unwrap();
        assert_eq!((reply.code, used), (354, 4));
    }

    #[test]
    fn what_is_not_an_smtp_reply_is_refused() {
        for bad in [
            &b"HTTP/1.1 400 Bad\r\n"[..],
            b"25\r\n",
            b"250-a\r\n251 b\r\n",
            b"250_x\r\n",
            b"999 x\r\n",
        ] {
            assert_eq!(parse_reply(bad), Err(Failure::BadResponse), "{bad:?}");
        }
    }

    #[test]
    fn leading_dots_are_doubled_and_the_end_dot_follows_the_last_line() {
        let mut out = Vec::new();
        dot_stuff_into(b"Subject: x\r\n\r\n.\r\n..two\r\nlast", &mut out);
        assert_eq!(out, b"Subject: x\r\n\r\n..\r\n...two\r\nlast\r\n.\r\n");
        out.clear();
        dot_stuff_into(b"a\nb.\n", &mut out);
        assert_eq!(out, b"a\r\nb.\r\n.\r\n");
        out.clear();
        dot_stuff_into(b"", &mut out);
        assert_eq!(out, b".\r\n");
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64(b"\0pulse\0pw"), "AHB1bHNlAHB3");
    }

    #[test]
    fn classes_say_whether_to_retry() {
        assert_eq!(
            Failure::Reply(550).to_send_error(),
            SendError::Permanent("smtp-550".into())
        );
        assert_eq!(
            Failure::Reply(451).to_send_error(),
            SendError::Temporary("smtp-451".into())
        );
        assert_eq!(
            Failure::Reply(535).to_send_error(),
            SendError::Temporary("smtp-auth-535".into())
        );
        assert_eq!(
            Failure::Io(io::ErrorKind::ConnectionRefused).to_send_error(),
            SendError::Temporary("connect-refused".into())
        );
        assert_eq!(Failure::Closed.class(), "connection-dropped");
    }
}
