//! Simulated PM replies for `coachmail demo` and the loop tests: given the
//! form a PM received, write the reply a real mail client would send.
//!
//! Owns the shapes of real clients (Gmail inline answers, Outlook top-posting
//! with its header block, iPhone with its footer, HTML-only Apple Mail, a
//! short correction). Pure: the caller passes the date and the scores.

use chrono::{DateTime, Utc};
use mail_parser::MessageParser;

/// The mail client a simulated PM replies from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientShape {
    /// Answers typed inline under each quoted skill line, `>` quotes, "On … wrote:".
    GmailInline,
    /// Answers on top, then Outlook's From/Sent/To/Subject block and the form unquoted.
    OutlookTopPost,
    /// Answers on top, "Sent from my iPhone", quoted form below.
    Iphone,
    /// HTML only, answers in a div, the form in a `blockquote type="cite"`.
    AppleHtml,
    /// French Gmail: "Le … a écrit :" attribution.
    FrenchGmail,
}

impl ClientShape {
    pub const ALL: [ClientShape; 5] = [
        ClientShape::GmailInline,
        ClientShape::OutlookTopPost,
        ClientShape::Iphone,
        ClientShape::AppleHtml,
        ClientShape::FrenchGmail,
    ];
}

/// What a simulated PM wants to say.
#[derive(Clone, Debug, Default)]
pub struct ReplyContent {
    /// (skill display name, skill key, score) in form order.
    pub scores: Vec<(String, String, u8)>,
    /// Free text, or empty.
    pub note: String,
}

/// Headers of the form a reply answers, read back from its bytes.
#[derive(Clone, Debug)]
pub struct FormHeaders {
    pub message_id: String,
    pub reply_to: String,
    pub subject: String,
    pub text: String,
    /// The form's Date header.
    pub date: Option<DateTime<Utc>>,
}

/// Reads the headers and text a client needs to reply to `form`.
pub fn read_form(form: &[u8]) -> Option<FormHeaders> {
    let msg = MessageParser::default().parse(form)?;
    Some(FormHeaders {
        message_id: msg.message_id()?.to_string(),
        reply_to: msg
            .reply_to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())?
            .to_string(),
        subject: msg.subject().unwrap_or_default().to_string(),
        text: msg.body_text(0)?.into_owned(),
        date: msg
            .date()
            .and_then(|d| DateTime::<Utc>::from_timestamp(d.to_timestamp(), 0)),
    })
}

/// Writes a reply from `from` (name, address) to `form`, as `shape` would.
pub fn compose(
    shape: ClientShape,
    form: &FormHeaders,
    from: (&str, &str),
    content: &ReplyContent,
    date: DateTime<Utc>,
    unique: &str,
) -> Vec<u8> {
    let (name, addr) = from;
    let quoted: String = form.text.lines().map(|l| format!("> {l}\n")).collect();
    let answers: String = content
        .scores
        .iter()
        .map(|(n, _, s)| format!("{n}: {s}\n"))
        .collect();
    let when = date.format("%a, %-d %b %Y at %H:%M");
    let (content_type, body) = match shape {
        ClientShape::GmailInline => {
            let mut body = String::new();
            if !content.note.is_empty() {
                body.push_str(&content.note);
                body.push_str("\n\n");
            }
            body.push_str(&format!("On {when} PM Pulse <{}> wrote:\n", form.reply_to));
            for line in form.text.lines() {
                body.push_str(&format!("> {line}\n"));
                if let Some((_, _, s)) = content
                    .scores
                    .iter()
                    .find(|(_, k, _)| line.trim_end().ends_with(&format!("({k}):")))
                {
                    body.push_str(&format!("{s}\n"));
                }
            }
            ("text/plain; charset=utf-8", body)
        }
        ClientShape::OutlookTopPost => {
            let body = format!(
                "{answers}\n{}\n\nBest regards,\n{name}\nSenior Product Manager\n\n________________________________\nFrom: PM Pulse <{}>\nSent: {}\nTo: {name} <{addr}>\nSubject: {}\n\n{}",
                content.note,
                form.reply_to,
                date.format("%A, %B %-d, %Y %-I:%M %p"),
                form.subject,
                form.text
            );
            ("text/plain; charset=utf-8", body)
        }
        ClientShape::Iphone => {
            let body = format!(
                "{answers}{}\n\nSent from my iPhone\n\n> On {when}, PM Pulse <{}> wrote:\n>\n{quoted}",
                content.note, form.reply_to
            );
            ("text/plain; charset=utf-8", body)
        }
        ClientShape::AppleHtml => {
            let answers_html: String = content
                .scores
                .iter()
                .map(|(n, _, s)| format!("<div>{n}: {s}</div>"))
                .collect();
            let quoted_html: String = form
                .text
                .lines()
                .map(|l| format!("{}<br>", html_escape(l)))
                .collect();
            let body = format!(
                "<html><body>{answers_html}<div><br></div><div>{}</div><div><br><blockquote type=\"cite\"><div>On {when}, PM Pulse &lt;{}&gt; wrote:</div><div>{quoted_html}</div></blockquote></div></body></html>",
                html_escape(&content.note),
                form.reply_to
            );
            ("text/html; charset=utf-8", body)
        }
        ClientShape::FrenchGmail => {
            let body = format!(
                "{answers}\n{}\n\nLe {} , PM Pulse <{}> a écrit :\n{quoted}",
                content.note,
                date.format("%d/%m/%Y à %H:%M"),
                form.reply_to
            );
            ("text/plain; charset=utf-8", body)
        }
    };
    let domain = addr.rsplit('@').next().unwrap_or("example.org");
    let headers = format!(
        "From: {name} <{addr}>\r\nTo: {}\r\nSubject: Re: {}\r\nDate: {}\r\nMessage-ID: <{unique}@{domain}>\r\nIn-Reply-To: <{mid}>\r\nReferences: <{mid}>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        form.reply_to,
        form.subject,
        date.to_rfc2822(),
        mid = form.message_id,
    );
    let mut out = headers.into_bytes();
    out.extend(
        body.replace("\r\n", "\n")
            .replace('\n', "\r\n")
            .into_bytes(),
    );
    out
}

/// A short fresh-thread correction: one skill, one line, sent as a reply to
/// the form so it carries the key.
pub fn correction(
    form: &FormHeaders,
    from: (&str, &str),
    skill_name: &str,
    score: u8,
    date: DateTime<Utc>,
    unique: &str,
) -> Vec<u8> {
    let content = ReplyContent {
        scores: vec![(skill_name.to_string(), String::new(), score)],
        note: String::new(),
    };
    compose(ClientShape::Iphone, form, from, &content, date, unique)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> FormHeaders {
        FormHeaders {
            message_id: "form.abc@example.org".into(),
            reply_to: "reflect+abc@example.org".into(),
            subject: "PM Pulse — your week 2026-W48 reflection".into(),
            text: "Hi Alice,\n\nProduct strategy (strategy): \n   1 = a · 3 = b · 5 = c\nData & analytics (data): \n".into(),
            date: None,
        }
    }

    #[test]
    fn every_shape_is_a_parseable_reply_in_the_forms_thread() {
        let content = ReplyContent {
            scores: vec![
                ("Product strategy".into(), "strategy".into(), 4),
                ("Data & analytics".into(), "data".into(), 2),
            ],
            note: "Tough week with the board.".into(),
        };
        for shape in ClientShape::ALL {
            let bytes = compose(
                shape,
                &form(),
                ("Alice Martin", "alice@example.org"),
                &content,
                Utc::now(),
                "r1",
            );
            let msg = MessageParser::default().parse(&bytes[..]).unwrap();
            assert_eq!(
                msg.in_reply_to().as_text(),
                Some("form.abc@example.org"),
                "{shape:?}"
            );
            let to = msg
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap();
            assert_eq!(to, "reflect+abc@example.org", "{shape:?}");
            let text = msg.body_text(0).unwrap();
            assert!(text.contains("Tough week"), "{shape:?}: {text}");
        }
    }

    #[test]
    fn gmail_inline_answers_sit_under_their_skill_lines() {
        let content = ReplyContent {
            scores: vec![("Data & analytics".into(), "data".into(), 2)],
            note: String::new(),
        };
        let bytes = compose(
            ClientShape::GmailInline,
            &form(),
            ("Alice", "alice@example.org"),
            &content,
            Utc::now(),
            "r2",
        );
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.contains("> Data & analytics (data): \r\n2\r\n"),
            "{text}"
        );
        assert!(
            !text.contains("> Product strategy (strategy): \r\n4"),
            "{text}"
        );
    }
}
