//! The size budget of outgoing mail: every email coachmail queues stays
//! under [`MAX_EMAIL_BYTES`], whatever the PMs wrote and however the
//! operator set the note limits.
//!
//! Owns the one way an [`Email`] becomes the bytes the outbox keeps. When a
//! message would be too big, the largest free-text parts are cut (text,
//! HTML, then attachments), each with a visible "…cut" line, and charts are
//! left out, rather than failing: a PM or coach gets a shorter email, never
//! none. Never changes a header or a recipient.

use super::EngineError;
use crate::render::Email;

/// Every email coachmail sends is smaller than this (relays commonly refuse
/// mail over a few MB; 1 MB keeps well clear of every one).
pub const MAX_EMAIL_BYTES: usize = 1_000_000;

/// What cutting aims below the budget by: MIME encoding and the cut lines
/// themselves need room.
const MARGIN: usize = 32 * 1024;

/// The line a cut text part ends with.
pub const CUT_TEXT: &str = "\n\n…cut: this email was too long to send whole (the limit is 1 MB); the rest is kept by the service.\n";
/// The same, for the HTML part.
const CUT_HTML: &str = "<p>…cut: this email was too long to send whole (the limit is 1 MB); the rest is kept by the service.</p>";
/// The same, for a text attachment (a CSV export).
const CUT_FILE: &str = "\n…cut: this file was too long to send whole (the limit is 1 MB)\n";

/// The email as RFC 5322 bytes, under [`MAX_EMAIL_BYTES`]: as rendered when
/// it fits; otherwise with its largest parts cut (see the module note).
pub(crate) fn sendable_bytes(email: &Email) -> Result<Vec<u8>, EngineError> {
    let bytes = email.to_bytes()?;
    if bytes.len() < MAX_EMAIL_BYTES {
        return Ok(bytes);
    }
    tracing::warn!(
        bytes = bytes.len(),
        "an email over the size budget is cut before it is queued"
    );
    let mut email = email.clone();
    // Charts go first: they are a picture of data the text also gives.
    if !email.inline.is_empty() {
        email.inline.clear();
        email.html = email.html.replace("src=\"cid:", "data-cut=\"");
    }
    let mut size = bytes.len();
    // Each round cuts the free text by what is over, scaled by how much
    // the encoding grew it; one round nearly always suffices, and the last
    // resort below bounds it regardless.
    for _ in 0..4 {
        if size < MAX_EMAIL_BYTES {
            return Ok(email.to_bytes()?);
        }
        cut_to(&mut email, size);
        size = email.to_bytes()?.len();
    }
    if size < MAX_EMAIL_BYTES {
        return Ok(email.to_bytes()?);
    }
    // Last resort: only the opening of the text.
    email.attachments.clear();
    email.text = cut_text(&email.text, 64 * 1024) + CUT_TEXT;
    email.html = format!("<pre>{}</pre>", escape(&email.text));
    Ok(email.to_bytes()?)
}

/// Cuts the largest parts (text, HTML, attachments) of an email that
/// renders to `size` bytes so it renders under the budget: quoted-printable
/// and base64 grow a part by up to 3×, so the raw bytes to cut are what is
/// over, times the growth this email showed.
fn cut_to(email: &mut Email, size: usize) {
    enum Part {
        Text,
        Html,
        File(usize),
    }
    let lens = |e: &Email| {
        let mut parts = vec![(e.text.len(), Part::Text), (e.html.len(), Part::Html)];
        for (i, a) in e.attachments.iter().enumerate() {
            parts.push((a.bytes.len(), Part::File(i)));
        }
        parts
    };
    let raw: usize = lens(email).iter().map(|(l, _)| l).sum::<usize>().max(1);
    let growth = (size as f64 / raw as f64).max(1.0);
    let target = ((MAX_EMAIL_BYTES - MARGIN) as f64 / growth) as usize;
    let mut excess = raw.saturating_sub(target);
    for _ in 0..8 {
        if excess == 0 {
            break;
        }
        let Some((len, part)) = lens(email).into_iter().max_by_key(|(len, _)| *len) else {
            break;
        };
        let keep = len.saturating_sub(excess).max(1024.min(len / 2));
        excess = excess.saturating_sub(len - keep);
        match part {
            Part::Text => email.text = cut_text(&email.text, keep) + CUT_TEXT,
            Part::Html => email.html = cut_html(&email.html, keep) + CUT_HTML,
            Part::File(i) => {
                let file = &mut email.attachments[i];
                let text = String::from_utf8_lossy(&file.bytes).into_owned();
                let mut cut = cut_text(&text, keep);
                // A CSV keeps whole rows.
                if let Some(end) = cut.rfind('\n') {
                    cut.truncate(end + 1);
                }
                file.bytes = (cut + CUT_FILE).into_bytes();
            }
        }
    }
}

/// The first `max` bytes of `s`, at a character boundary.
fn cut_text(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// The first `max` bytes of an HTML document, never inside a tag or an
/// entity (cut before the last `<` or `&` that is not closed).
fn cut_html(s: &str, max: usize) -> String {
    let mut cut = cut_text(s, max);
    if let Some(open) = cut.rfind('<')
        && !cut[open..].contains('>')
    {
        cut.truncate(open);
    }
    if let Some(amp) = cut.rfind('&')
        && !cut[amp..].contains(';')
    {
        cut.truncate(amp);
    }
    cut
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Attachment, AutoSubmitted, InlinePart, Mailbox};

    fn email(text: String, html: String) -> Email {
        Email {
            from: Mailbox::new("PM Pulse", "pulse@example.org"),
            to: Mailbox::new("Alice", "alice@example.org"),
            reply_to: None,
            subject: "s".into(),
            message_id: "m.1@example.org".into(),
            in_reply_to: None,
            references: Vec::new(),
            auto_submitted: AutoSubmitted::Generated,
            date: chrono::DateTime::from_timestamp(1_796_000_000, 0).unwrap(),
            text,
            html,
            inline: Vec::new(),
            attachments: Vec::new(),
        }
    }

    #[test]
    fn an_email_within_the_budget_is_sent_as_rendered() {
        let e = email("hello".into(), "<p>hello</p>".into());
        assert_eq!(sendable_bytes(&e).unwrap(), e.to_bytes().unwrap());
    }

    #[test]
    fn a_huge_email_is_cut_under_the_budget_with_a_visible_marker() {
        // Non-ASCII text grows 3× in quoted-printable: the worst case.
        let text = "é note line\n".repeat(50_000);
        let html = format!("<p>{}</p>", "ü &amp; <b>bold</b> ".repeat(25_000));
        let mut e = email(text, html);
        e.inline.push(InlinePart {
            cid: "chart.a@example.org".into(),
            content_type: "image/png".into(),
            bytes: vec![7; 300_000],
        });
        e.attachments.push(Attachment {
            filename: "export.csv".into(),
            content_type: "text/csv; charset=utf-8".into(),
            bytes: "week,skill,score,note\n".repeat(20_000).into_bytes(),
        });
        let bytes = sendable_bytes(&e).unwrap();
        assert!(bytes.len() < MAX_EMAIL_BYTES, "{} bytes", bytes.len());
        let parsed = mail_parser::MessageParser::default()
            .parse(&bytes[..])
            .unwrap();
        let text = parsed.body_text(0).unwrap();
        assert!(text.starts_with("é note line"), "{:?}", &text[..40]);
        assert!(text.contains("…cut"), "no marker in the text");
        assert!(parsed.body_html(0).unwrap().contains("…cut"));
    }

    #[test]
    fn html_is_never_cut_inside_a_tag_or_an_entity() {
        assert_eq!(cut_html("<p>ab</p><b class=x>", 14), "<p>ab</p>");
        assert_eq!(cut_html("<p>a &amp; b", 8), "<p>a ");
    }
}
