//! The [`Email`] value every part of coachmail sends, and its one way out:
//! [`Email::to_bytes`], a complete RFC 5322 message built with lettre.
//!
//! Owns the MIME shape and the headers (Message-ID, Date, Auto-Submitted, …).
//! Never chooses a recipient: addresses come from the roster through the
//! caller. Never lets a CR or LF reach a header. Deterministic: the same
//! `Email` always gives the same bytes (boundaries are derived from the
//! Message-ID, the date is the one passed in).

use chrono::{DateTime, Utc};
use lettre::message::header::{
    ContentDisposition, ContentId, ContentTransferEncoding, ContentType, HeaderName, HeaderValue,
    InReplyTo, MessageId, References,
};
use lettre::message::{Mailbox as LettreMailbox, MultiPart, SinglePart};
use serde::Serialize;

use super::RenderError;

/// A display name and an address, e.g. `PM Pulse <pulse@example.org>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    pub name: String,
    pub address: String,
}

impl Mailbox {
    pub fn new(name: impl Into<String>, address: impl Into<String>) -> Mailbox {
        Mailbox {
            name: name.into(),
            address: address.into(),
        }
    }
}

/// RFC 3834 `Auto-Submitted`: every message coachmail sends is one or the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AutoSubmitted {
    /// Sent on a schedule: forms, reminders, digests (`auto-generated`).
    Generated,
    /// Sent in answer to a message: confirmations, help, trend (`auto-replied`).
    Replied,
}

impl AutoSubmitted {
    pub fn header_value(self) -> &'static str {
        match self {
            AutoSubmitted::Generated => "auto-generated",
            AutoSubmitted::Replied => "auto-replied",
        }
    }
}

/// An image shown inside the HTML part, referenced there as `cid:<cid>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlinePart {
    /// Content-ID without angle brackets, e.g. `chart.delivery@example.org`.
    pub cid: String,
    /// e.g. `image/png`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A file attached to the message, e.g. an export as CSV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// e.g. `text/csv; charset=utf-8`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// One complete outgoing email, before it becomes bytes.
///
/// Built by the render functions; a caller may add [`InlinePart`]s (charts)
/// or [`Attachment`]s (exports) before calling [`Email::to_bytes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub from: Mailbox,
    pub to: Mailbox,
    /// A bare address, e.g. `reflect+k7q…@example.org`.
    pub reply_to: Option<String>,
    pub subject: String,
    /// Without angle brackets, e.g. `form.k7q…@example.org`.
    pub message_id: String,
    /// Message-ID (without angle brackets) this answers.
    pub in_reply_to: Option<String>,
    /// The thread, oldest first, without angle brackets.
    pub references: Vec<String>,
    pub auto_submitted: AutoSubmitted,
    pub date: DateTime<Utc>,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
    /// Images the HTML shows with `cid:`; non-empty → multipart/related.
    pub inline: Vec<InlinePart>,
    /// Non-empty → multipart/mixed.
    pub attachments: Vec<Attachment>,
}

impl Email {
    /// The complete message, CRLF line endings, ready for a transport.
    ///
    /// Shape: `multipart/alternative` (text, HTML), inside
    /// `multipart/related` when there are inline parts, inside
    /// `multipart/mixed` when there are attachments.
    pub fn to_bytes(&self) -> Result<Vec<u8>, RenderError> {
        Ok(self.to_message()?.formatted())
    }

    /// The lettre message (its envelope is From → To).
    pub fn to_message(&self) -> Result<lettre::Message, RenderError> {
        let from = mailbox("From", &self.from)?;
        let to = mailbox("To", &self.to)?;
        one_line("Subject", &self.subject)?;
        let message_id = msg_id("Message-ID", &self.message_id)?;

        let mut builder = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(self.subject.clone())
            .date(self.date.into())
            .header(MessageId::from(message_id));
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(mailbox(
                "Reply-To",
                &Mailbox::new(self.from.name.clone(), reply_to.clone()),
            )?);
        }
        if let Some(id) = &self.in_reply_to {
            builder = builder.header(InReplyTo::from(msg_id("In-Reply-To", id)?));
        }
        if !self.references.is_empty() {
            let ids = self
                .references
                .iter()
                .map(|id| msg_id("References", id))
                .collect::<Result<Vec<_>, _>>()?;
            builder = builder.header(References::from(ids.join(" ")));
        }
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                self.auto_submitted.header_value().to_string(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"),
                "All".to_string(),
            ));

        let seed = boundary_seed(&self.message_id);
        let alternative = MultiPart::alternative()
            .boundary(format!("alt-{seed}"))
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .header(ContentTransferEncoding::QuotedPrintable)
                    .body(self.text.clone()),
            )
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .header(ContentTransferEncoding::QuotedPrintable)
                    .body(self.html.clone()),
            );

        let body = if self.inline.is_empty() {
            alternative
        } else {
            let mut related = MultiPart::related()
                .boundary(format!("rel-{seed}"))
                .multipart(alternative);
            for part in &self.inline {
                let cid = msg_id("Content-ID (inline part)", &part.cid)?;
                related = related.singlepart(
                    SinglePart::builder()
                        .header(content_type(&part.content_type)?)
                        .header(ContentDisposition::inline())
                        .header(ContentId::from(cid))
                        .header(ContentTransferEncoding::Base64)
                        .body(part.bytes.clone()),
                );
            }
            related
        };

        let body = if self.attachments.is_empty() {
            body
        } else {
            let mut mixed = MultiPart::mixed()
                .boundary(format!("mix-{seed}"))
                .multipart(body);
            for file in &self.attachments {
                one_line("attachment filename", &file.filename)?;
                mixed = mixed.singlepart(
                    SinglePart::builder()
                        .header(content_type(&file.content_type)?)
                        .header(ContentDisposition::attachment(&file.filename))
                        .header(ContentTransferEncoding::Base64)
                        .body(file.bytes.clone()),
                );
            }
            mixed
        };

        builder
            .multipart(body)
            .map_err(|e| RenderError::Message(e.to_string()))
    }
}

/// Refuses a header value that could start a new header line.
pub(crate) fn one_line(header: &'static str, value: &str) -> Result<(), RenderError> {
    if value.contains(['\r', '\n']) {
        return Err(RenderError::HeaderInjection {
            header,
            value: value.replace('\r', "\\r").replace('\n', "\\n"),
        });
    }
    if value.chars().any(char::is_control) {
        return Err(RenderError::BadHeader {
            header,
            value: value.to_string(),
            problem: "contains a control character".into(),
        });
    }
    Ok(())
}

fn mailbox(header: &'static str, m: &Mailbox) -> Result<LettreMailbox, RenderError> {
    one_line(header, &m.name)?;
    one_line(header, &m.address)?;
    let address =
        m.address
            .trim()
            .parse::<lettre::Address>()
            .map_err(|e| RenderError::BadHeader {
                header,
                value: m.address.clone(),
                problem: format!("is not an email address ({e})"),
            })?;
    let name = m.name.trim();
    Ok(LettreMailbox::new(
        (!name.is_empty()).then(|| name.to_string()),
        address,
    ))
}

/// Checks a message id given without angle brackets and returns it with them.
pub(crate) fn msg_id(header: &'static str, id: &str) -> Result<String, RenderError> {
    one_line(header, id)?;
    let bad = |problem: &str| RenderError::BadHeader {
        header,
        value: id.to_string(),
        problem: problem.to_string(),
    };
    if id.starts_with('<') || id.ends_with('>') {
        return Err(bad("must be given without angle brackets"));
    }
    let Some((left, right)) = id.split_once('@') else {
        return Err(bad("is not of the form left@domain"));
    };
    let atom = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
    };
    if !atom(left) || !atom(right) {
        return Err(bad(
            "may only use letters, digits and !#$%&'*+-/=?^_`{|}~. around one @",
        ));
    }
    Ok(format!("<{id}>"))
}

fn content_type(value: &str) -> Result<ContentType, RenderError> {
    one_line("Content-Type", value)?;
    ContentType::parse(value).map_err(|e| RenderError::BadHeader {
        header: "Content-Type",
        value: value.to_string(),
        problem: format!("is not a MIME type ({e})"),
    })
}

/// A boundary part that is stable for one message and unlikely in any body.
fn boundary_seed(message_id: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(message_id.as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}
