//! MIME → text: decodes a raw message with mail-parser and returns the text
//! a PM wrote, whatever the client, charset or transfer encoding.
//!
//! Owns the limits on what we are willing to read (header lines, nesting,
//! text size) and the HTML → text step, which keeps quote containers
//! recognisable (as `> ` lines) so `quotes` can remove them. Never decides
//! what the text means, and never logs it.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

/// More header lines than this is not a reply from a person.
pub const MAX_HEADER_LINES: usize = 1_000;
/// Deeper MIME nesting than this is refused.
pub const MAX_DEPTH: usize = 12;
/// Only this much decoded text is read: a reply's own words are at the top.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;
/// Only this much HTML is converted to text.
pub const MAX_HTML_BYTES: usize = 256 * 1024;
/// Width given to the HTML renderer: wide enough never to wrap an answer line.
const HTML_WIDTH: usize = 2_000;

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
    let clean = t.bytes().all(|b| {
        (b >= 0x20 && b != 0x7f && b != 0xc2 && b != 0xe2 && b != 0xef) || b == b'\n' || b == b'\t'
    });
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
        let b = bytes[i];
        let interesting = b == b'\r'
            || (b < 0x20 && b != b'\n' && b != b'\t')
            || matches!(b, 0x7f | 0xc2 | 0xe2 | 0xef);
        if !interesting {
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

/// Containers that mark where a client put the quoted message, and that do
/// not already use `<blockquote>`: everything from the first of them on is
/// wrapped in a blockquote so it renders as `> ` lines.
const QUOTE_CONTAINERS: &[&str] = &[
    "id=\"divrplyfwdmsg\"",
    "id=\"appendonsend\"",
    "id=\"stopspelling\"",
    "class=\"outlookmessageheader\"",
    "class=\"yahoo_quoted\"",
    "id=\"mail-editor-reference-message-container\"",
];

/// Deeper element nesting than this is not mail a person wrote, and makes
/// the HTML renderer slow (its work grows with depth × size): such HTML is
/// read by [`strip_tags`] instead.
const MAX_HTML_NESTING: usize = 128;
/// Deeper blockquote nesting than this is read by [`strip_tags`] too: every
/// level adds a prefix to every line below it.
const MAX_HTML_QUOTES: usize = 16;

/// Elements that never have a closing tag.
const VOID: &[&str] = &[
    "br", "img", "hr", "meta", "link", "input", "wbr", "col", "area", "base", "source", "track",
    "embed", "param", "!doctype",
];

/// The tag name at the start of `s` (after `<` or `</`), lowercased.
fn tag_name(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
        .take(16)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The deepest element nesting in `html` and the deepest blockquote
/// nesting, estimated from its tags.
fn nesting(html: &str) -> (usize, usize) {
    let mut depth = 0usize;
    let mut max = 0usize;
    let mut quotes = 0usize;
    let mut max_quotes = 0usize;
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        if rest.starts_with("!--") {
            match rest.find("-->") {
                Some(end) => rest = &rest[end + 3..],
                None => break,
            }
            continue;
        }
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        if let Some(closing) = tag.strip_prefix('/') {
            let name = tag_name(closing);
            if !VOID.contains(&name.as_str()) {
                depth = depth.saturating_sub(1);
            }
            if name == "blockquote" {
                quotes = quotes.saturating_sub(1);
            }
        } else {
            let name = tag_name(tag);
            if !name.is_empty() && !VOID.contains(&name.as_str()) && !tag.ends_with('/') {
                depth += 1;
                max = max.max(depth);
            }
            if name == "blockquote" {
                quotes += 1;
                max_quotes = max_quotes.max(quotes);
            }
        }
        rest = &rest[end..];
    }
    (max, max_quotes)
}

/// A plain tag stripper for pathological HTML: line breaks at block
/// elements, `> ` for each open blockquote, a few entities decoded.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut quote = 0usize;
    let mut line_start = true;
    let mut rest = html;
    let push_text = |out: &mut String, text: &str, quote: usize, line_start: &mut bool| {
        let text = text
            .replace("&nbsp;", " ")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        let text = text.replace(['\r', '\n'], " ");
        if text.trim().is_empty() {
            return;
        }
        if *line_start {
            for _ in 0..quote.min(64) {
                out.push_str("> ");
            }
            *line_start = false;
        }
        out.push_str(&text);
    };
    while let Some(open) = rest.find('<') {
        push_text(&mut out, &rest[..open], quote, &mut line_start);
        rest = &rest[open + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        let (closing, name) = match tag.strip_prefix('/') {
            Some(t) => (true, tag_name(t)),
            None => (false, tag_name(tag)),
        };
        match name.as_str() {
            "blockquote" => {
                quote = if closing {
                    quote.saturating_sub(1)
                } else {
                    quote + 1
                };
                if !line_start {
                    out.push('\n');
                    line_start = true;
                }
            }
            "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "hr" | "table"
                if !line_start =>
            {
                out.push('\n');
                line_start = true;
            }
            _ => {}
        }
        rest = rest.get(end + 1..).unwrap_or("");
        if out.len() > MAX_TEXT_BYTES {
            break;
        }
    }
    push_text(&mut out, rest, quote, &mut line_start);
    out
}

/// HTML → text that keeps quotes visible as `> ` lines.
pub fn html_to_text(html: &str) -> String {
    let mut html = html.to_string();
    truncate(&mut html, MAX_HTML_BYTES);
    let (depth, quotes) = nesting(&html);
    if depth > MAX_HTML_NESTING || quotes > MAX_HTML_QUOTES {
        return strip_tags(&html);
    }
    let lower = html.to_ascii_lowercase();
    let first = QUOTE_CONTAINERS
        .iter()
        .filter_map(|m| lower.find(m))
        .min()
        .and_then(|at| lower[..at].rfind('<'));
    if let Some(start) = first {
        html.insert_str(start, "<blockquote>");
    }
    let text = html2text::config::plain_no_decorate()
        .link_footnotes(false)
        .no_link_wrapping()
        .allow_width_overflow()
        .string_from_read(html.as_bytes(), HTML_WIDTH)
        .unwrap_or_default();
    let text = normalize_newlines(&text);
    // html2text pads lines; trailing spaces carry no meaning here.
    let mut out = String::with_capacity(text.len());
    for line in text.split('\n') {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
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
    fn deeply_nested_html_is_read_quickly_by_the_fallback() {
        let mut html = String::from("<p>Data: 3</p>");
        for _ in 0..20_000 {
            html.push_str("<div><blockquote>x");
        }
        let t = std::time::Instant::now();
        let text = html_to_text(&html);
        assert!(text.starts_with("Data: 3\n> x"), "{}", &text[..40]);
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn nesting_counts_open_elements_only() {
        assert_eq!(nesting("<div><p>a<br>b</p><img src=x><div/></div>"), (2, 0));
        assert_eq!(nesting("<!-- <div><div> --><b>x</b>"), (1, 0));
        assert_eq!(
            nesting("<blockquote><div><blockquote></blockquote></div></blockquote>"),
            (3, 2)
        );
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
