//! MIME → text: decodes a raw message with mail-parser and returns the text
//! a PM wrote, whatever the client, charset or transfer encoding.
//!
//! Owns the limits on what we are willing to read (header lines, nesting,
//! text size, HTML size) and hands HTML to [`html`], whose text keeps quote
//! containers recognisable (as `> ` lines) so `quotes` can remove them.
//! Never decides what the text means, and never logs it.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

#[path = "html.rs"]
pub mod html;

/// More header lines than this is not a reply from a person.
pub const MAX_HEADER_LINES: usize = 1_000;
/// Deeper MIME nesting than this is refused.
pub const MAX_DEPTH: usize = 12;
/// Only this much decoded text is read: a reply's own words are at the top.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;
/// Only this much HTML is converted to text.
pub const MAX_HTML_BYTES: usize = 256 * 1024;

/// Why a message cannot be read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unreadable {
    Empty,
    TooLarge { bytes: usize, limit: usize },
    TooManyHeaderLines,
    NoHeaders,
    TooDeep,
}

impl Unreadable {
    /// The content-free code logs and the inbound log carry.
    pub fn code(&self) -> &'static str {
        match self {
            Unreadable::Empty => "empty",
            Unreadable::TooLarge { .. } => "too-large",
            Unreadable::TooManyHeaderLines | Unreadable::NoHeaders | Unreadable::TooDeep => {
                "malformed"
            }
        }
    }

    /// The reason, as `coachmail parse` and the inbound log show it.
    pub fn reason(&self) -> String {
        match self {
            Unreadable::Empty => "empty message".into(),
            Unreadable::TooLarge { bytes, limit } => format!(
                "message is {bytes} bytes, over the {limit}-byte limit (auth.max_message_bytes)"
            ),
            Unreadable::TooManyHeaderLines => {
                format!("malformed: more than {MAX_HEADER_LINES} header lines")
            }
            Unreadable::NoHeaders => "malformed: not an email (no header fields)".into(),
            Unreadable::TooDeep => format!("malformed: MIME nested deeper than {MAX_DEPTH} levels"),
        }
    }
}

/// Cheap checks on the raw bytes before parsing anything.
pub fn precheck(raw: &[u8], limit: usize) -> Result<(), Unreadable> {
    if raw.len() > limit {
        return Err(Unreadable::TooLarge {
            bytes: raw.len(),
            limit,
        });
    }
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Unreadable::Empty);
    }
    // Count lines up to the first empty line (the end of the header section).
    let mut lines = 0usize;
    let mut at_line_start = true;
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if at_line_start && (b == b'\n' || (b == b'\r' && raw.get(i + 1) == Some(&b'\n'))) {
            break;
        }
        if b == b'\n' {
            lines += 1;
            if lines > MAX_HEADER_LINES {
                return Err(Unreadable::TooManyHeaderLines);
            }
            at_line_start = true;
        } else {
            at_line_start = false;
        }
        i += 1;
    }
    Ok(())
}

/// Parses the message; refuses what has no headers or nests too deep.
pub fn parse(raw: &[u8]) -> Result<Message<'_>, Unreadable> {
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or(Unreadable::NoHeaders)?;
    if msg.parts.first().is_none_or(|p| p.headers.is_empty()) {
        return Err(Unreadable::NoHeaders);
    }
    if depth(&msg) > MAX_DEPTH {
        return Err(Unreadable::TooDeep);
    }
    Ok(msg)
}

/// How deep the MIME tree goes (a single-part message is 1), counting
/// attached messages. Iterative, so a hostile tree cannot exhaust the stack.
pub fn depth(msg: &Message<'_>) -> usize {
    let mut max = 0;
    let mut stack: Vec<(&Message<'_>, usize, usize)> = vec![(msg, 0, 1)];
    let mut visited = 0usize;
    while let Some((m, part, d)) = stack.pop() {
        visited += 1;
        if visited > 100_000 {
            return usize::MAX;
        }
        max = max.max(d);
        if d > MAX_DEPTH {
            return d;
        }
        match m.parts.get(part).map(|p| &p.body) {
            Some(PartType::Multipart(children)) => {
                for c in children {
                    stack.push((m, *c as usize, d + 1));
                }
            }
            Some(PartType::Message(inner)) => stack.push((inner, 0, d + 1)),
            _ => {}
        }
    }
    max
}

/// The message's readable text: text/plain bodies, or HTML converted to
/// text when there is no plain alternative. Line endings become `\n`.
pub fn body_text(msg: &Message<'_>) -> String {
    let mut out = String::new();
    for id in &msg.text_body {
        let Some(part) = msg.parts.get(*id as usize) else {
            continue;
        };
        let text = match &part.body {
            PartType::Text(t) => {
                let flowed = part
                    .content_type()
                    .and_then(|ct| ct.attribute("format"))
                    .is_some_and(|f| f.eq_ignore_ascii_case("flowed"));
                let delsp = part
                    .content_type()
                    .and_then(|ct| ct.attribute("delsp"))
                    .is_some_and(|f| f.eq_ignore_ascii_case("yes"));
                let t = normalize_newlines(t);
                if flowed { unflow(&t, delsp) } else { t }
            }
            PartType::Html(h) => html_to_text(h),
            _ => continue,
        };
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&text);
        if out.len() >= MAX_TEXT_BYTES {
            break;
        }
    }
    truncate(&mut out, MAX_TEXT_BYTES);
    out
}

/// `\r\n` and lone `\r` → `\n`; other control characters (except tab) dropped.
fn normalize_newlines(t: &str) -> String {
    // Most text needs nothing: no CR, no control characters, no BOM,
    // zero-width or no-break spaces (whose UTF-8 starts with C2, E2 or EF).
    // The bytes that can need it: CR, control bytes (not LF or tab), DEL and
    // the lead bytes C2, E2 and EF.
    const INTERESTING: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0;
        while b < 0x20 {
            t[b] = b != b'\n' as usize && b != b'\t' as usize;
            b += 1;
        }
        t[0x7f] = true;
        t[0xc2] = true;
        t[0xe2] = true;
        t[0xef] = true;
        t
    };
    let clean = !t.bytes().any(|b| INTERESTING[usize::from(b)]);
    if clean {
        let mut out = t.to_string();
        truncate(&mut out, MAX_TEXT_BYTES);
        return out;
    }
    // Copy clean runs whole; replace only what needs it. Only CR, control
    // bytes and characters whose UTF-8 starts with C2, E2 or EF can need it.
    let mut out = String::with_capacity(t.len().min(MAX_TEXT_BYTES + 4));
    let bytes = t.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !INTERESTING[usize::from(bytes[i])] {
            i += 1;
            continue;
        }
        let Some(c) = t.get(i..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        let replacement = match c {
            '\r' => "\n",
            c if c.is_control() => "",
            '\u{feff}' | '\u{200b}' => "",
            '\u{a0}' => " ",
            _ => {
                i += c.len_utf8();
                continue;
            }
        };
        out.push_str(&t[start..i]);
        out.push_str(replacement);
        i += c.len_utf8();
        if c == '\r' && bytes.get(i) == Some(&b'\n') {
            i += 1;
        }
        start = i;
        if out.len() > MAX_TEXT_BYTES {
            break;
        }
    }
    if out.len() <= MAX_TEXT_BYTES {
        out.push_str(&t[start..]);
    }
    truncate(&mut out, MAX_TEXT_BYTES);
    out
}

/// Joins format=flowed soft line breaks (RFC 3676): a line ending in a space
/// continues on the next line of the same quote depth.
fn unflow(text: &str, delsp: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending: Option<(usize, String)> = None;
    for line in text.split('\n') {
        let depth = line.bytes().take_while(|&b| b == b'>').count();
        let mut content = &line[depth..];
        // Space-stuffing: one leading space is not content.
        if let Some(rest) = content.strip_prefix(' ') {
            content = rest;
        }
        let soft = content.ends_with(' ') && content != "-- ";
        let piece = if soft && delsp {
            &content[..content.len() - 1]
        } else {
            content
        };
        match pending.take() {
            Some((d, mut acc)) if d == depth => {
                acc.push_str(piece);
                if soft {
                    pending = Some((d, acc));
                } else {
                    push_flowed(&mut out, d, &acc);
                }
            }
            Some((d, acc)) => {
                push_flowed(&mut out, d, &acc);
                if soft {
                    pending = Some((depth, piece.to_string()));
                } else {
                    push_flowed(&mut out, depth, piece);
                }
            }
            None => {
                if soft {
                    pending = Some((depth, piece.to_string()));
                } else {
                    push_flowed(&mut out, depth, piece);
                }
            }
        }
    }
    if let Some((d, acc)) = pending {
        push_flowed(&mut out, d, &acc);
    }
    if out.ends_with('\n') {
        out.pop();
    }
    out
}

fn push_flowed(out: &mut String, depth: usize, content: &str) {
    for _ in 0..depth {
        out.push('>');
    }
    if depth > 0 {
        out.push(' ');
    }
    out.push_str(content);
    out.push('\n');
}

/// HTML → text that keeps quotes visible as `> ` lines (see [`html`]).
pub fn html_to_text(html: &str) -> String {
    let mut end = html.len().min(MAX_HTML_BYTES);
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    let text = html::to_text(&html[..end]);
    normalize_newlines(&text)
}

/// Cuts `s` to at most `max` bytes, on a character boundary.
pub fn truncate(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_blockquote_becomes_quoted_lines() {
        let t = html_to_text(
            "<div>Delivery: 4</div><div class=\"gmail_quote\"><div>On Fri wrote:</div><blockquote class=\"gmail_quote\"><div>Product strategy (strategy):</div></blockquote></div>",
        );
        assert!(t.contains("Delivery: 4"), "{t}");
        assert!(t.contains("> Product strategy (strategy):"), "{t}");
    }

    #[test]
    fn outlook_reply_container_is_quoted() {
        let t = html_to_text(
            "<p>Data: 3</p><div id=\"appendonsend\"></div><hr><div id=\"divRplyFwdMsg\"><b>From:</b> PM Pulse</div><div>Product strategy (strategy):</div>",
        );
        assert!(t.contains("Data: 3"), "{t}");
        assert!(t.contains("> Product strategy (strategy):"), "{t}");
        assert!(!t.lines().any(|l| l.starts_with("Product")), "{t}");
    }

    #[test]
    fn deeply_nested_html_keeps_the_answer_and_its_quotes() {
        let mut html = String::from("<p>Data: 3</p>");
        for _ in 0..20_000 {
            html.push_str("<div><blockquote>x");
        }
        let text = html_to_text(&html);
        assert!(text.starts_with("Data: 3\n\n> x\n"), "{}", &text[..40]);
        assert!(text.len() <= MAX_TEXT_BYTES, "{} bytes", text.len());
        let deepest = text.lines().map(|l| l.matches('>').count()).max();
        assert_eq!(deepest, Some(html::MAX_QUOTE_PREFIX));
    }

    #[test]
    fn html_past_the_html_limit_is_not_read() {
        let mut html = String::from("<p>Data: 3</p>");
        html.push_str(&"<p>filler</p>".repeat(MAX_HTML_BYTES / 13));
        html.push_str("<p>Delivery: 4</p>");
        let text = html_to_text(&html);
        assert!(text.starts_with("Data: 3\n"), "{}", &text[..40]);
        assert!(!text.contains("Delivery"));
    }

    #[test]
    fn flowed_soft_breaks_are_joined() {
        assert_eq!(
            unflow(
                "Delivery: 4 shipped \nthe beta\n> quoted \n> more\n-- \nAlice",
                false
            ),
            "Delivery: 4 shipped the beta\n> quoted more\n-- \nAlice"
        );
    }

    #[test]
    fn header_flood_is_refused_before_parsing() {
        let mut raw = String::new();
        for i in 0..10_000 {
            raw.push_str(&format!("X-Junk-{i}: x\r\n"));
        }
        raw.push_str("\r\nbody");
        assert_eq!(
            precheck(raw.as_bytes(), usize::MAX),
            Err(Unreadable::TooManyHeaderLines)
        );
    }

    #[test]
    fn whitespace_only_is_empty() {
        assert_eq!(precheck(b" \r\n\r\n", 100), Err(Unreadable::Empty));
    }
}
