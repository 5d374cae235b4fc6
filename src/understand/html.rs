//! HTML → plain text for reading replies: one streaming pass over the
//! input, linear in its size, with caps on nesting depth, element count and
//! output size, so no HTML can make a message expensive to read.
//!
//! Owns the rendering the reader relies on: blockquotes (and the quote
//! containers of mail clients that do not use them) as `> ` lines, block
//! elements and `<br>` as line breaks, list bullets, table rows as one line
//! with cells separated by ` │ `, whitespace collapsed as browsers do except
//! in `<pre>`, entities decoded, scripts, styles, titles, templates and
//! comments skipped. Element nesting follows the browser's rules closely
//! enough for text: void elements never nest, `/>` does not close an HTML
//! element (it does in SVG and MathML), `p`, `li`, `dd`, `dt`, `td`, `th`
//! and `tr` end where a browser ends them, and an end tag closes only an
//! element it finds open.
//!
//! Pure: no I/O and no logging, whatever the input.

/// Deeper element nesting than this is flattened: further elements are read
/// as siblings of the deepest one (browsers do the same, at 512).
pub const MAX_DEPTH: usize = 256;
/// After this many tags the rest of the HTML is not read: a reply's own
/// words are at its top.
pub const MAX_ELEMENTS: usize = 65_536;
/// At most this much text comes out.
pub const MAX_OUTPUT_BYTES: usize = 256 * 1024;
/// Quote levels deeper than this add no further `> ` to a line.
pub const MAX_QUOTE_PREFIX: usize = 16;
/// List levels deeper than this are not indented further.
const MAX_LIST_INDENT: usize = 8;
/// Stored length of a tag name; longer names are compared on this prefix.
const NAME_LEN: usize = 24;
/// Separator between the cells of a table row.
pub const CELL_SEPARATOR: &str = " │ ";

/// The caps a conversion works within.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_depth: usize,
    pub max_elements: usize,
    pub max_output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: MAX_DEPTH,
            max_elements: MAX_ELEMENTS,
            max_output_bytes: MAX_OUTPUT_BYTES,
        }
    }
}

/// Converts `html` to text within the default [`Limits`].
pub fn to_text(html: &str) -> String {
    to_text_with(html, &Limits::default())
}

/// Converts `html` to text within `limits`. Lines carry no trailing spaces;
/// the text ends with a line break unless it is empty.
pub fn to_text_with(html: &str, limits: &Limits) -> String {
    let mut r = Renderer::new(limits);
    r.run(html);
    r.finish()
}

/// What an element does to the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Text-level: `b`, `span`, `a`, unknown elements.
    Inline,
    /// A line break before and after.
    Block,
    /// A blank line before and after.
    Paragraph,
    Heading,
    Quote,
    List {
        ordered: bool,
    },
    Item,
    DefItem,
    Pre,
    Table,
    Section,
    Row,
    Cell,
    /// Never nests: `br`, `img`, `hr`, `meta`…
    Void,
    /// Raw text never shown: `script`, `style`, `title`…
    Hidden,
    /// Parsed, but its content is never shown: `template`.
    Inert,
    /// `html`, `head`, `body`: not tracked.
    Document,
    /// `svg`, `math`: `/>` closes elements inside.
    Foreign,
}

fn kind(name: &[u8]) -> Kind {
    match name {
        b"b" | b"i" | b"u" | b"s" | b"a" | b"em" | b"strong" | b"span" | b"font" | b"small"
        | b"big" | b"code" | b"tt" | b"sub" | b"sup" | b"mark" | b"label" | b"abbr" | b"cite"
        | b"q" | b"kbd" | b"samp" | b"var" | b"del" | b"ins" | b"strike" | b"nobr" | b"time"
        | b"bdi" | b"bdo" | b"dfn" | b"data" | b"o:p" => Kind::Inline,
        b"br" | b"hr" | b"img" | b"wbr" | b"input" | b"meta" | b"link" | b"area" | b"base"
        | b"col" | b"embed" | b"param" | b"source" | b"track" | b"keygen" | b"basefont"
        | b"bgsound" | b"frame" | b"image" => Kind::Void,
        b"script" | b"style" | b"title" | b"textarea" | b"xmp" | b"iframe" | b"noembed"
        | b"noframes" => Kind::Hidden,
        b"template" => Kind::Inert,
        b"html" | b"head" | b"body" => Kind::Document,
        b"svg" | b"math" => Kind::Foreign,
        b"p" | b"dl" => Kind::Paragraph,
        b"h1" | b"h2" | b"h3" | b"h4" | b"h5" | b"h6" => Kind::Heading,
        b"blockquote" => Kind::Quote,
        b"ul" | b"menu" | b"dir" => Kind::List { ordered: false },
        b"ol" => Kind::List { ordered: true },
        b"li" => Kind::Item,
        b"dd" | b"dt" => Kind::DefItem,
        b"pre" | b"listing" | b"plaintext" => Kind::Pre,
        b"table" => Kind::Table,
        b"tbody" | b"thead" | b"tfoot" => Kind::Section,
        b"tr" => Kind::Row,
        b"td" | b"th" => Kind::Cell,
        b"div" | b"address" | b"article" | b"aside" | b"center" | b"details" | b"dialog"
        | b"figcaption" | b"figure" | b"footer" | b"form" | b"header" | b"hgroup" | b"main"
        | b"nav" | b"section" | b"summary" | b"fieldset" | b"legend" | b"caption" | b"option"
        | b"optgroup" | b"select" | b"button" | b"object" | b"video" | b"audio" | b"canvas"
        | b"noscript" | b"output" | b"progress" | b"meter" | b"search" => Kind::Block,
        _ => Kind::Inline,
    }
}

/// Start tags that end an open `p` (HTML's "close a p element").
fn closes_p(k: Kind, name: &[u8]) -> bool {
    match k {
        Kind::Paragraph
        | Kind::Heading
        | Kind::Quote
        | Kind::List { .. }
        | Kind::Item
        | Kind::DefItem
        | Kind::Pre
        | Kind::Table => true,
        Kind::Block => !matches!(
            name,
            b"option"
                | b"optgroup"
                | b"select"
                | b"button"
                | b"object"
                | b"video"
                | b"audio"
                | b"canvas"
                | b"noscript"
                | b"output"
                | b"progress"
                | b"meter"
                | b"legend"
                | b"caption"
        ),
        Kind::Void => name == b"hr",
        _ => false,
    }
}

/// Ids and classes of the containers where mail clients put the quoted
/// message without a `<blockquote>`: everything from the first of them to
/// the end is quoted.
fn is_quote_container(id: &[u8], class: &[u8]) -> bool {
    const IDS: &[&[u8]] = &[
        b"divrplyfwdmsg",
        b"appendonsend",
        b"stopspelling",
        b"mail-editor-reference-message-container",
    ];
    const CLASSES: &[&[u8]] = &[b"outlookmessageheader", b"yahoo_quoted"];
    IDS.iter().any(|i| id.eq_ignore_ascii_case(i))
        || class
            .split(|b| b.is_ascii_whitespace())
            .any(|c| CLASSES.iter().any(|k| c.eq_ignore_ascii_case(k)))
}

/// An element on the stack of open elements.
#[derive(Clone, Copy)]
struct Open {
    name: [u8; NAME_LEN],
    len: u8,
    kind: Kind,
}

impl Open {
    fn name(&self) -> &[u8] {
        &self.name[..self.len as usize]
    }
}

/// A table row being written: where its text starts in the output, how
/// many cells it has had, and whether it has become one line.
struct Row {
    start: Option<usize>,
    cells: usize,
    flat: bool,
}

struct Renderer<'l> {
    limits: &'l Limits,
    out: String,
    /// Byte offset of the last `\n` in `out`, if any.
    last_newline: Option<usize>,
    stack: Vec<Open>,
    /// Ordered flag and item counter of each open list, innermost last.
    lists: Vec<(bool, u32)>,
    rows: Vec<Row>,
    /// Open rows that have become one line: breaks inside are spaces.
    flat_rows: usize,
    /// Open blockquotes.
    quotes: usize,
    /// 1 once a mail client's quote container has been seen.
    container_quote: usize,
    /// Open `pre` elements: whitespace is kept.
    pre: usize,
    /// Open templates: nothing inside is shown.
    inert: usize,
    /// Open SVG and MathML elements: `/>` closes.
    foreign: usize,
    /// Open tables: rows and cells mean something.
    tables: usize,
    /// Start tags read so far.
    elements: usize,
    /// Break wanted before the next text: 0 none, 1 line, 2 blank line.
    want_break: u8,
    /// The shallowest quote level seen while a break was wanted: a blank
    /// line between quoted and unquoted text belongs to neither.
    break_quote: usize,
    want_space: bool,
    at_line_start: bool,
    bullet: Option<String>,
    /// The next `\n` right after `<pre>` is not content.
    skip_pre_newline: bool,
    /// A cap was reached: nothing more is read.
    done: bool,
}

impl<'l> Renderer<'l> {
    fn new(limits: &'l Limits) -> Self {
        Renderer {
            limits,
            out: String::new(),
            last_newline: None,
            stack: Vec::new(),
            lists: Vec::new(),
            rows: Vec::new(),
            flat_rows: 0,
            quotes: 0,
            container_quote: 0,
            pre: 0,
            inert: 0,
            foreign: 0,
            tables: 0,
            elements: 0,
            want_break: 0,
            break_quote: usize::MAX,
            want_space: false,
            at_line_start: true,
            bullet: None,
            skip_pre_newline: false,
            done: false,
        }
    }

    fn quote_level(&self) -> usize {
        (self.quotes + self.container_quote).min(MAX_QUOTE_PREFIX)
    }

    // ---- the tokenizer ----

    fn run(&mut self, html: &str) {
        let b = html.as_bytes();
        let mut i = 0;
        while i < b.len() && !self.done {
            match b[i] {
                b'<' => i = self.markup(html, i),
                b'&' => i = self.entity(html, i),
                c if is_space(c) => {
                    self.space(c);
                    i += 1;
                }
                _ => {
                    let end = b[i..]
                        .iter()
                        .position(|&c| c == b'<' || c == b'&' || is_space(c))
                        .map_or(b.len(), |p| i + p);
                    self.text(&html[i..end]);
                    i = end;
                }
            }
        }
    }

    /// Reads the markup at `b[at] == '<'`; returns where reading goes on.
    fn markup(&mut self, html: &str, at: usize) -> usize {
        let b = html.as_bytes();
        let next = b.get(at + 1).copied();
        match next {
            Some(c) if c.is_ascii_alphabetic() => self.start_tag(html, at + 1),
            Some(b'/') => match b.get(at + 2).copied() {
                Some(c) if c.is_ascii_alphabetic() => self.end_tag(html, at + 2),
                Some(b'>') => at + 3,
                Some(_) => skip_past(b, at + 2, b">"),
                None => {
                    self.text("</");
                    b.len()
                }
            },
            Some(b'!') => {
                if b[at + 2..].starts_with(b"--") {
                    let body = at + 4;
                    if b[body..].starts_with(b">") {
                        return body + 1;
                    }
                    if b[body..].starts_with(b"->") {
                        return body + 2;
                    }
                    let mut p = body;
                    loop {
                        let Some(d) = find(b, p, b"--") else {
                            return b.len();
                        };
                        if b[d + 2..].starts_with(b">") {
                            return d + 3;
                        }
                        if b[d + 2..].starts_with(b"!>") {
                            return d + 4;
                        }
                        p = d + 1;
                    }
                }
                skip_past(b, at + 2, b">")
            }
            Some(b'?') => skip_past(b, at + 2, b">"),
            _ => {
                self.text("<");
                at + 1
            }
        }
    }

    /// Reads a start tag whose name begins at `from`.
    fn start_tag(&mut self, html: &str, from: usize) -> usize {
        let b = html.as_bytes();
        let (name, len, mut i) = tag_name(b, from);
        let mut id: &[u8] = &[];
        let mut class: &[u8] = &[];
        let mut self_closing = false;
        loop {
            while i < b.len() && is_space(b[i]) {
                i += 1;
            }
            match b.get(i) {
                None => return b.len(),
                Some(b'>') => {
                    i += 1;
                    break;
                }
                Some(b'/') => {
                    self_closing = b.get(i + 1) == Some(&b'>');
                    i += 1;
                    continue;
                }
                _ => {}
            }
            let (attr, value, next) = attribute(b, i);
            let Some(next) = next else {
                return b.len();
            };
            if attr.eq_ignore_ascii_case(b"id") {
                id = value;
            } else if attr.eq_ignore_ascii_case(b"class") {
                class = value;
            }
            i = next;
        }
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            self.done = true;
            return b.len();
        }
        let open = Open {
            name,
            len,
            kind: kind(&name[..len as usize]),
        };
        if self.inert == 0 && self.container_quote == 0 && is_quote_container(id, class) {
            self.want(2);
            self.container_quote = 1;
        }
        self.open(open, self_closing);
        match open.kind {
            Kind::Hidden => skip_raw_text(b, i, open.name()),
            _ => i,
        }
    }

    /// Reads an end tag whose name begins at `from`.
    fn end_tag(&mut self, html: &str, from: usize) -> usize {
        let b = html.as_bytes();
        let (name, len, mut i) = tag_name(b, from);
        loop {
            while i < b.len() && (is_space(b[i]) || b[i] == b'/') {
                i += 1;
            }
            match b.get(i) {
                None => return b.len(),
                Some(b'>') => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            let (_, _, next) = attribute(b, i);
            let Some(next) = next else {
                return b.len();
            };
            i = next;
        }
        self.close(&name[..len as usize]);
        i
    }

    /// Decodes the character reference at `b[at] == '&'`.
    fn entity(&mut self, html: &str, at: usize) -> usize {
        let b = html.as_bytes();
        if b.get(at + 1) == Some(&b'#') {
            let hex = matches!(b.get(at + 2), Some(b'x' | b'X'));
            let digits = at + 2 + usize::from(hex);
            let mut j = digits;
            let mut value: u32 = 0;
            while j < b.len() {
                let d = match (hex, b[j]) {
                    (_, c @ b'0'..=b'9') => u32::from(c - b'0'),
                    (true, c @ b'a'..=b'f') => u32::from(c - b'a' + 10),
                    (true, c @ b'A'..=b'F') => u32::from(c - b'A' + 10),
                    _ => break,
                };
                value = value
                    .saturating_mul(if hex { 16 } else { 10 })
                    .saturating_add(d);
                j += 1;
            }
            if j == digits {
                self.text("&");
                return at + 1;
            }
            if b.get(j) == Some(&b';') {
                j += 1;
            }
            let mut buf = [0u8; 4];
            let c = numeric_char(value).encode_utf8(&mut buf);
            self.decoded(c);
            return j;
        }
        let start = at + 1;
        let mut j = start;
        while j < b.len() && j - start < 32 && b[j].is_ascii_alphanumeric() {
            j += 1;
        }
        let name = &html[start..j];
        if b.get(j) == Some(&b';')
            && let Some(s) = named(name)
        {
            self.decoded(s);
            return j + 1;
        }
        // A few references are understood without their `;`, as browsers do.
        for legacy in ["amp", "lt", "gt", "quot", "nbsp", "copy", "reg"] {
            if name.starts_with(legacy) {
                self.decoded(named(legacy).unwrap_or(""));
                return start + legacy.len();
            }
        }
        self.text("&");
        at + 1
    }

    // ---- text ----

    fn space(&mut self, c: u8) {
        if self.inert > 0 {
            return;
        }
        if self.pre > 0 && self.flat_rows == 0 {
            match c {
                b'\n' => {
                    if std::mem::take(&mut self.skip_pre_newline) {
                        return;
                    }
                    self.flush();
                    self.newline();
                }
                b'\r' => {}
                b'\t' => self.put("\t"),
                _ => self.put(" "),
            }
            return;
        }
        self.skip_pre_newline = false;
        if !self.at_line_start || self.want_break > 0 {
            self.want_space = true;
        }
    }

    fn text(&mut self, s: &str) {
        if self.inert > 0 || s.is_empty() {
            return;
        }
        self.skip_pre_newline = false;
        self.put(s);
    }

    /// Text from a character reference: a no-break space is kept as a
    /// space that does not collapse.
    fn decoded(&mut self, s: &str) {
        if s == "\u{a0}" {
            self.text(" ");
        } else {
            self.text(s);
        }
    }

    /// Writes `s` after whatever breaks, prefixes and spaces are due.
    fn put(&mut self, s: &str) {
        if self.inert > 0 {
            return;
        }
        self.flush();
        self.push(s);
    }

    fn push(&mut self, s: &str) {
        let room = self.limits.max_output_bytes.saturating_sub(self.out.len());
        if s.len() <= room {
            self.out.push_str(s);
        } else {
            let mut end = room;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.out.push_str(&s[..end]);
            self.done = true;
        }
        if self.out.len() >= self.limits.max_output_bytes {
            self.done = true;
        }
    }

    fn newline(&mut self) {
        if self.at_line_start {
            // An empty line: it still carries its quote marks.
            self.push_prefix(self.quote_level(), true);
        }
        self.end_line();
    }

    /// Ends the current line, without its trailing spaces.
    fn end_line(&mut self) {
        let trimmed = self.out.trim_end_matches(' ').len();
        self.out.truncate(trimmed);
        self.last_newline = Some(self.out.len());
        self.push("\n");
        self.at_line_start = true;
    }

    fn push_prefix(&mut self, level: usize, trimmed: bool) {
        for k in 0..level {
            if trimmed && k + 1 == level {
                self.push(">");
            } else {
                self.push("> ");
            }
        }
    }

    /// Asks for a line break (1) or a blank line (2) before the next text.
    fn want(&mut self, n: u8) {
        if self.flat_rows > 0 {
            self.want_space = true;
            return;
        }
        self.want_break = self.want_break.max(n);
        self.break_quote = self.break_quote.min(self.quote_level());
    }

    /// Writes the breaks, quote marks, indent, bullet and space due before
    /// the next text.
    fn flush(&mut self) {
        if self.want_break > 0 {
            let n = std::mem::take(&mut self.want_break);
            let level = std::mem::replace(&mut self.break_quote, usize::MAX);
            if self.flat_rows > 0 {
                self.want_space = true;
            } else if !self.out.is_empty() {
                if !self.at_line_start {
                    self.end_line();
                }
                if n == 2 && !self.ends_with_blank_line() {
                    self.push_prefix(level.min(self.quote_level()), true);
                    self.end_line();
                }
            }
        }
        if self.at_line_start {
            self.want_space = false;
            if self.out.is_empty() || self.out.ends_with('\n') {
                self.push_prefix(self.quote_level(), false);
                let indent = self.lists.len().saturating_sub(1).min(MAX_LIST_INDENT);
                if self.bullet.is_some() {
                    for _ in 0..indent {
                        self.push("  ");
                    }
                }
            }
            if let Some(bullet) = self.bullet.take() {
                self.push(&bullet);
            }
            self.at_line_start = false;
            self.mark_row_starts();
        } else if std::mem::take(&mut self.want_space) && !self.out.ends_with(' ') {
            self.push(" ");
        }
    }

    fn ends_with_blank_line(&self) -> bool {
        let Some(last) = self.last_newline else {
            return true;
        };
        let before = &self.out[..last];
        let line = before.rfind('\n').map_or(before, |p| &before[p + 1..]);
        line.bytes().all(|c| c == b'>' || c == b' ')
    }

    /// Rows that have written nothing yet start here.
    fn mark_row_starts(&mut self) {
        let at = self.out.len();
        for row in self.rows.iter_mut().rev() {
            if row.start.is_some() {
                break;
            }
            row.start = Some(at);
        }
    }

    // ---- elements ----

    fn open(&mut self, el: Open, self_closing: bool) {
        let name = el.name();
        // The scope of an implied end: it does not reach out of a table
        // cell, a table or a template.
        let scope = |o: &Open| matches!(o.kind, Kind::Table | Kind::Cell | Kind::Inert);
        if closes_p(el.kind, name) {
            self.close_in_scope(|o| o.name() == b"p", scope);
        }
        match el.kind {
            // Raw text is skipped whole, its end tag with it.
            Kind::Document | Kind::Hidden => return,
            Kind::Void => {
                if matches!(name, b"br" | b"hr") {
                    self.line_break(name == b"br");
                }
                return;
            }
            Kind::Item => {
                self.close_in_scope(
                    |o| o.kind == Kind::Item,
                    |o| matches!(o.kind, Kind::List { .. }) || scope(o),
                );
            }
            Kind::DefItem => {
                self.close_in_scope(|o| o.kind == Kind::DefItem, scope);
            }
            Kind::Row | Kind::Section => {
                if self.tables == 0 {
                    self.want(1);
                    return;
                }
                self.close_in_scope(|o| o.kind == Kind::Row, |o| o.kind == Kind::Table);
                if el.kind == Kind::Section {
                    return;
                }
            }
            Kind::Cell => {
                if self.tables == 0 {
                    self.want_space = true;
                    return;
                }
                self.close_in_scope(|o| o.kind == Kind::Cell, |o| o.kind == Kind::Row);
                if !self.row_is_open() {
                    let row = Open {
                        name: padded(b"tr"),
                        len: 2,
                        kind: Kind::Row,
                    };
                    self.open(row, false);
                }
            }
            _ => {}
        }
        // Only SVG and MathML elements close themselves with `/>`.
        if self.foreign > 0 && self_closing {
            return;
        }
        if self.stack.len() >= self.limits.max_depth {
            // Too deep: read as a sibling, with its line breaks only.
            match el.kind {
                Kind::Inline | Kind::Foreign | Kind::Hidden | Kind::Inert => {}
                Kind::Cell => self.want_space = true,
                _ => self.want(1),
            }
            return;
        }
        self.stack.push(el);
        self.entered(el);
    }

    /// The effects of entering an element that is now on the stack.
    fn entered(&mut self, el: Open) {
        match el.kind {
            Kind::Block | Kind::DefItem => self.want(1),
            Kind::Paragraph | Kind::Heading => self.want(2),
            Kind::Quote => {
                self.want(2);
                self.quotes += 1;
            }
            Kind::List { ordered } => {
                self.want(if self.lists.is_empty() { 2 } else { 1 });
                self.lists.push((ordered, 0));
            }
            Kind::Item => {
                self.want(1);
                let bullet = match self.lists.last_mut() {
                    Some((true, n)) => {
                        *n = n.saturating_add(1);
                        format!("{n}. ")
                    }
                    _ => "* ".to_string(),
                };
                self.bullet = Some(bullet);
            }
            Kind::Pre => {
                self.want(2);
                self.pre += 1;
                self.skip_pre_newline = true;
            }
            Kind::Table => {
                self.want(2);
                self.tables += 1;
            }
            Kind::Row => {
                self.want(1);
                self.rows.push(Row {
                    start: None,
                    cells: 0,
                    flat: false,
                });
            }
            Kind::Cell => self.cell(),
            Kind::Inert => self.inert += 1,
            Kind::Foreign => self.foreign += 1,
            Kind::Inline | Kind::Hidden | Kind::Section | Kind::Void | Kind::Document => {}
        }
    }

    /// The effects of leaving an element popped off the stack.
    fn left(&mut self, el: Open) {
        match el.kind {
            Kind::Block | Kind::DefItem | Kind::Item | Kind::Cell => {
                if el.kind != Kind::Cell {
                    self.want(1);
                }
                if el.kind == Kind::Item {
                    self.bullet = None;
                }
            }
            Kind::Paragraph | Kind::Heading => self.want(2),
            Kind::Quote => {
                self.quotes -= 1;
                self.want(2);
            }
            Kind::List { .. } => {
                self.lists.pop();
                self.want(if self.lists.is_empty() { 2 } else { 1 });
            }
            Kind::Pre => {
                self.pre -= 1;
                self.want(2);
            }
            Kind::Table => {
                self.tables -= 1;
                self.want(2);
            }
            Kind::Row => {
                if let Some(row) = self.rows.pop()
                    && row.flat
                {
                    self.flat_rows -= 1;
                }
                self.want(1);
            }
            Kind::Inert => self.inert -= 1,
            Kind::Foreign => self.foreign -= 1,
            Kind::Inline | Kind::Hidden | Kind::Section | Kind::Void | Kind::Document => {}
        }
    }

    fn row_is_open(&self) -> bool {
        for o in self.stack.iter().rev() {
            match o.kind {
                Kind::Row => return true,
                Kind::Table => return false,
                _ => {}
            }
        }
        false
    }

    /// A new cell in the innermost row: from the second cell on, the row
    /// is one line and its cells are separated by [`CELL_SEPARATOR`].
    fn cell(&mut self) {
        let Some(row) = self.rows.last_mut() else {
            return;
        };
        row.cells += 1;
        if row.cells < 2 {
            return;
        }
        if !row.flat {
            row.flat = true;
            self.flat_rows += 1;
            if let Some(start) = row.start
                && self.last_newline.is_some_and(|n| n >= start)
            {
                let flat = join_lines(&self.out[start..]);
                self.out.truncate(start);
                self.out.push_str(&flat);
                self.last_newline = self.out[..start].rfind('\n');
            }
        }
        if self.rows.last().is_some_and(|r| r.start.is_some()) && !self.at_line_start {
            let trimmed = self.out.trim_end_matches(' ').len();
            self.out.truncate(trimmed);
            self.want_break = 0;
            self.push(CELL_SEPARATOR);
        } else {
            self.put(CELL_SEPARATOR.trim_start());
        }
        self.want_space = false;
    }

    /// `<br>` and `<hr>`.
    fn line_break(&mut self, br: bool) {
        if self.inert > 0 {
            return;
        }
        if !br {
            self.want(1);
            return;
        }
        if self.flat_rows > 0 {
            self.want_space = true;
            return;
        }
        // A `<br>` ends the current line, or makes an empty one.
        let pending = std::mem::take(&mut self.want_break);
        if pending > 0 {
            self.want_break = pending;
            self.flush();
        }
        if self.at_line_start && self.out.is_empty() {
            return;
        }
        self.want_space = false;
        self.newline();
        self.skip_pre_newline = false;
    }

    /// An end tag: closes the element it names, and everything opened
    /// inside it, if it is open; otherwise it is ignored.
    fn close(&mut self, name: &[u8]) {
        let k = kind(name);
        match k {
            Kind::Document => return,
            Kind::Void => {
                if name == b"br" {
                    self.line_break(true);
                }
                return;
            }
            _ => {}
        }
        // An end tag does not reach past the table, cell or template it
        // is in, nor an `</li>` past its list.
        let boundary = |o: &Open| match k {
            Kind::Table => o.kind == Kind::Inert,
            Kind::Row | Kind::Section | Kind::Cell => {
                matches!(o.kind, Kind::Table | Kind::Inert)
            }
            Kind::Item => matches!(
                o.kind,
                Kind::List { .. } | Kind::Table | Kind::Cell | Kind::Inert
            ),
            _ => matches!(o.kind, Kind::Table | Kind::Cell | Kind::Inert),
        };
        let found = self.close_in_scope(|o| o.name() == name, boundary);
        if !found && name == b"p" {
            // `</p>` with no open paragraph makes an empty one.
            self.want(2);
        }
    }

    /// Pops the stack through the innermost element matching `target`, if
    /// one is open above any element matching `boundary`.
    fn close_in_scope(
        &mut self,
        target: impl Fn(&Open) -> bool,
        boundary: impl Fn(&Open) -> bool,
    ) -> bool {
        let Some(at) = self.stack.iter().rposition(|o| {
            // The search stops at the innermost boundary.
            target(o) || boundary(o)
        }) else {
            return false;
        };
        if !target(&self.stack[at]) {
            return false;
        }
        while self.stack.len() > at {
            if let Some(el) = self.stack.pop() {
                self.left(el);
            }
        }
        true
    }

    fn finish(mut self) -> String {
        let cap = self.limits.max_output_bytes;
        if self.out.len() >= cap {
            // Room for the final line break.
            let mut end = cap.saturating_sub(1);
            while !self.out.is_char_boundary(end) {
                end -= 1;
            }
            self.out.truncate(end);
        }
        // No trailing spaces, and no empty lines (quoted or not) at the end.
        loop {
            let trimmed = self.out.trim_end_matches([' ', '\n']).len();
            self.out.truncate(trimmed);
            let line_start = self.out.rfind('\n').map_or(0, |p| p + 1);
            let line = &self.out[line_start..];
            if !line.is_empty() && line.bytes().all(|c| c == b'>' || c == b' ') {
                self.out.truncate(line_start);
            } else {
                break;
            }
        }
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        self.out
    }
}

/// Joins the lines of a table cell into one: each line break, with the
/// quote marks after it, becomes one space.
fn join_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            while chars
                .next_if(|&c| c == '\n' || c == '>' || c == ' ')
                .is_some()
            {}
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

fn padded(name: &[u8]) -> [u8; NAME_LEN] {
    let mut out = [0u8; NAME_LEN];
    let n = name.len().min(NAME_LEN);
    out[..n].copy_from_slice(&name[..n]);
    out
}

/// The lowercased tag name starting at `from`, its stored length, and
/// where it ends.
fn tag_name(b: &[u8], from: usize) -> ([u8; NAME_LEN], u8, usize) {
    let mut name = [0u8; NAME_LEN];
    let mut len = 0usize;
    let mut i = from;
    while i < b.len() && !is_space(b[i]) && b[i] != b'/' && b[i] != b'>' {
        if len < NAME_LEN {
            name[len] = b[i].to_ascii_lowercase();
            len += 1;
        }
        i += 1;
    }
    (name, len as u8, i)
}

/// One attribute starting at `from`: its name, its value and where the
/// tag goes on (`None` when the input ends inside it).
fn attribute(b: &[u8], from: usize) -> (&[u8], &[u8], Option<usize>) {
    let mut i = from + 1; // the first character may be anything, even `=`
    while i < b.len() && !is_space(b[i]) && !matches!(b[i], b'/' | b'>' | b'=') {
        i += 1;
    }
    let name = &b[from..i.min(b.len())];
    let mut j = i;
    while j < b.len() && is_space(b[j]) {
        j += 1;
    }
    if b.get(j) != Some(&b'=') {
        return (name, &[], Some(i));
    }
    j += 1;
    while j < b.len() && is_space(b[j]) {
        j += 1;
    }
    match b.get(j) {
        None => (name, &[], None),
        Some(&q @ (b'"' | b'\'')) => match b[j + 1..].iter().position(|&c| c == q) {
            Some(p) => (name, &b[j + 1..j + 1 + p], Some(j + 2 + p)),
            None => (name, &[], None),
        },
        Some(_) => {
            let end = b[j..]
                .iter()
                .position(|&c| is_space(c) || c == b'>')
                .map_or(b.len(), |p| j + p);
            (name, &b[j..end], Some(end))
        }
    }
}

/// The first occurrence of `needle` at or after `from`.
fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= b.len() {
        return None;
    }
    b[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// Where reading goes on after the next `needle` (the end if none).
fn skip_past(b: &[u8], from: usize, needle: &[u8]) -> usize {
    find(b, from, needle).map_or(b.len(), |p| p + needle.len())
}

/// Skips the raw text of `script`, `style`, `title`… up to and including
/// its end tag.
fn skip_raw_text(b: &[u8], from: usize, name: &[u8]) -> usize {
    let mut p = from;
    while let Some(at) = find(b, p, b"</") {
        let after = at + 2 + name.len();
        let matches = b
            .get(at + 2..after)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
            && b.get(after)
                .is_none_or(|&c| is_space(c) || c == b'/' || c == b'>');
        if matches {
            return skip_past(b, after, b">");
        }
        p = at + 2;
    }
    b.len()
}

/// The character a numeric reference stands for, as browsers read it.
fn numeric_char(value: u32) -> char {
    // Windows-1252 in the C1 range, as the HTML standard maps it.
    match value {
        0x80 => '€',
        0x82 => '‚',
        0x84 => '„',
        0x85 => '…',
        0x91 => '‘',
        0x92 => '’',
        0x93 => '“',
        0x94 => '”',
        0x95 => '•',
        0x96 => '–',
        0x97 => '—',
        0x99 => '™',
        0 => '\u{fffd}',
        v => char::from_u32(v).unwrap_or('\u{fffd}'),
    }
}

/// The named character references mail uses, by name.
fn named(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "nbsp" => "\u{a0}",
        "ensp" | "emsp" | "thinsp" => " ",
        "shy" | "zwnj" | "zwj" | "lrm" | "rlm" | "zwsp" => "",
        "ndash" => "–",
        "mdash" => "—",
        "minus" => "−",
        "hellip" => "…",
        "lsquo" => "‘",
        "rsquo" => "’",
        "sbquo" => "‚",
        "ldquo" => "“",
        "rdquo" => "”",
        "bdquo" => "„",
        "laquo" => "«",
        "raquo" => "»",
        "lsaquo" => "‹",
        "rsaquo" => "›",
        "bull" => "•",
        "middot" => "·",
        "dagger" => "†",
        "Dagger" => "‡",
        "permil" => "‰",
        "prime" => "′",
        "Prime" => "″",
        "euro" => "€",
        "trade" => "™",
        "larr" => "←",
        "rarr" => "→",
        "uarr" => "↑",
        "darr" => "↓",
        "harr" => "↔",
        "le" => "≤",
        "ge" => "≥",
        "ne" => "≠",
        "asymp" => "≈",
        "infin" => "∞",
        "check" => "✓",
        "hearts" => "♥",
        "OElig" => "Œ",
        "oelig" => "œ",
        "Scaron" => "Š",
        "scaron" => "š",
        "Yuml" => "Ÿ",
        "fnof" => "ƒ",
        "circ" => "ˆ",
        "tilde" => "˜",
        "iexcl" => "¡",
        "cent" => "¢",
        "pound" => "£",
        "curren" => "¤",
        "yen" => "¥",
        "brvbar" => "¦",
        "sect" => "§",
        "uml" => "¨",
        "copy" => "©",
        "ordf" => "ª",
        "not" => "¬",
        "reg" => "®",
        "macr" => "¯",
        "deg" => "°",
        "plusmn" => "±",
        "sup2" => "²",
        "sup3" => "³",
        "acute" => "´",
        "micro" => "µ",
        "para" => "¶",
        "cedil" => "¸",
        "sup1" => "¹",
        "ordm" => "º",
        "frac14" => "¼",
        "frac12" => "½",
        "frac34" => "¾",
        "iquest" => "¿",
        "Agrave" => "À",
        "Aacute" => "Á",
        "Acirc" => "Â",
        "Atilde" => "Ã",
        "Auml" => "Ä",
        "Aring" => "Å",
        "AElig" => "Æ",
        "Ccedil" => "Ç",
        "Egrave" => "È",
        "Eacute" => "É",
        "Ecirc" => "Ê",
        "Euml" => "Ë",
        "Igrave" => "Ì",
        "Iacute" => "Í",
        "Icirc" => "Î",
        "Iuml" => "Ï",
        "ETH" => "Ð",
        "Ntilde" => "Ñ",
        "Ograve" => "Ò",
        "Oacute" => "Ó",
        "Ocirc" => "Ô",
        "Otilde" => "Õ",
        "Ouml" => "Ö",
        "times" => "×",
        "Oslash" => "Ø",
        "Ugrave" => "Ù",
        "Uacute" => "Ú",
        "Ucirc" => "Û",
        "Uuml" => "Ü",
        "Yacute" => "Ý",
        "THORN" => "Þ",
        "szlig" => "ß",
        "agrave" => "à",
        "aacute" => "á",
        "acirc" => "â",
        "atilde" => "ã",
        "auml" => "ä",
        "aring" => "å",
        "aelig" => "æ",
        "ccedil" => "ç",
        "egrave" => "è",
        "eacute" => "é",
        "ecirc" => "ê",
        "euml" => "ë",
        "igrave" => "ì",
        "iacute" => "í",
        "icirc" => "î",
        "iuml" => "ï",
        "eth" => "ð",
        "ntilde" => "ñ",
        "ograve" => "ò",
        "oacute" => "ó",
        "ocirc" => "ô",
        "otilde" => "õ",
        "ouml" => "ö",
        "divide" => "÷",
        "oslash" => "ø",
        "ugrave" => "ù",
        "uacute" => "ú",
        "ucirc" => "û",
        "uuml" => "ü",
        "yacute" => "ý",
        "thorn" => "þ",
        "yuml" => "ÿ",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(html: &str) -> Vec<String> {
        to_text(html).lines().map(str::to_string).collect()
    }

    #[test]
    fn blocks_and_br_make_lines_and_inline_runs_join() {
        assert_eq!(
            lines("<div>Data: <b>3</b></div><div>Delivery:\n  4<br>shipped</div>"),
            ["Data: 3", "Delivery: 4", "shipped"]
        );
    }

    #[test]
    fn paragraphs_are_separated_by_a_blank_line() {
        assert_eq!(lines("<p>one</p><p>two</p>"), ["one", "", "two"]);
    }

    #[test]
    fn whitespace_collapses_and_no_break_spaces_stay() {
        assert_eq!(
            lines("  <p>  a \t\r\n b  </p>\n<div>&nbsp;&nbsp;c</div>"),
            ["a b", "", "  c"]
        );
    }

    #[test]
    fn blockquotes_become_quoted_lines_and_nest() {
        assert_eq!(
            lines(
                "<div>mine</div><blockquote>q1<blockquote>q2</blockquote>q1 again</blockquote>after"
            ),
            [
                "mine",
                "",
                "> q1",
                ">",
                "> > q2",
                ">",
                "> q1 again",
                "",
                "after"
            ]
        );
    }

    #[test]
    fn empty_lines_inside_a_quote_keep_their_mark() {
        assert_eq!(
            lines("<blockquote><div>a</div><div><br></div><div>b</div></blockquote>"),
            ["> a", ">", "> b"]
        );
    }

    #[test]
    fn mail_client_quote_containers_quote_the_rest() {
        for opening in [
            "<div id=\"divRplyFwdMsg\">",
            "<div id=appendonsend></div><div>",
            "<div id='stopSpelling'>",
            "<div class=\"OutlookMessageHeader\">",
            "<div id=\"yahoo_quoted_1\" class=\"ydp yahoo_quoted\">",
            "<div id=\"mail-editor-reference-message-container\">",
        ] {
            let html = format!(
                "<p>Data: 3</p>{opening}From: us<div>Strategy (strategy):</div></div><p>end</p>"
            );
            assert_eq!(
                lines(&html),
                [
                    "Data: 3",
                    "",
                    "> From: us",
                    "> Strategy (strategy):",
                    ">",
                    "> end"
                ],
                "{opening}"
            );
        }
    }

    #[test]
    fn gmail_and_apple_quotes_are_blockquotes() {
        assert_eq!(
            lines(
                "<div>4</div><div class=\"gmail_quote\"><div>On Fri wrote:</div><blockquote class=\"gmail_quote\">Q</blockquote></div><blockquote type=\"cite\">A</blockquote>"
            ),
            ["4", "On Fri wrote:", "", "> Q", "", "> A"]
        );
    }

    #[test]
    fn table_rows_are_one_line_with_separated_cells() {
        let t = lines(
            "<table><tr><th>Skill</th><th>Score</th></tr>\
             <tr><td>Product strategy</td><td><p>4</p></td></tr>\
             <tr><td><div>Customer</div><div>discovery</div></td><td>3<br>good</td></tr></table>",
        );
        assert_eq!(
            t,
            [
                "Skill │ Score",
                "Product strategy │ 4",
                "Customer discovery │ 3 good"
            ]
        );
    }

    #[test]
    fn unclosed_cells_and_rows_end_where_browsers_end_them() {
        assert_eq!(
            lines("<table><tr><td>a<td>b<tr><td>c<td>d</table>after"),
            ["a │ b", "c │ d", "", "after"]
        );
    }

    #[test]
    fn single_cell_layout_tables_keep_their_lines() {
        assert_eq!(
            lines("<table><tr><td><p>Hi Alice,</p><p>Strategy (strategy):</p></td></tr></table>"),
            ["Hi Alice,", "", "Strategy (strategy):"]
        );
    }

    #[test]
    fn quoted_table_rows_keep_the_quote_mark() {
        assert_eq!(
            lines("<blockquote><table><tr><td>Strategy</td><td>4</td></tr></table></blockquote>"),
            ["> Strategy │ 4"]
        );
    }

    #[test]
    fn lists_keep_bullets_numbers_and_nesting() {
        assert_eq!(
            lines("<ul><li>one<li>two<ul><li>inner</ul></ul><ol><li>first</li><li>second</ol>"),
            ["* one", "* two", "  * inner", "", "1. first", "2. second"]
        );
    }

    #[test]
    fn links_keep_their_text_and_images_vanish() {
        assert_eq!(
            lines("<a href=\"https://x.example\">my notes</a> <img src=\"cid:1\" alt=\"pic.png\">"),
            ["my notes"]
        );
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            lines(
                "Data &amp; analytics &ndash; 5 &lt;3&gt; &eacute;t&eacute; &#233; &#xE9; &#x1F600; &#150; &copy &bogus; & x &#0; &#xFFFFFFFFF;"
            ),
            ["Data & analytics – 5 <3> été é é 😀 – © &bogus; & x \u{fffd} \u{fffd}"]
        );
    }

    #[test]
    fn pre_keeps_its_spaces_and_lines() {
        assert_eq!(
            lines("<pre>\nData:  3\n\n  indented</pre><p>a   b</p>"),
            ["Data:  3", "", "  indented", "", "a b"]
        );
        assert_eq!(
            lines("<blockquote><pre>x\n\ny</pre></blockquote>"),
            ["> x", ">", "> y"]
        );
    }

    #[test]
    fn scripts_styles_titles_templates_and_comments_are_skipped() {
        assert_eq!(
            lines(
                "<html><head><title>T</title><style>p{}</style><script>if (a<b) x()</script></head>\
                 <body><!-- hidden <p>no</p> --><template><p>tpl</p></template>\
                 <SCRIPT type=x>y</script >Data: 3<!--><!---->!</body></html>"
            ),
            ["Data: 3!"]
        );
    }

    #[test]
    fn skipped_elements_do_not_take_up_depth() {
        let html = format!(
            "{}<blockquote>q</blockquote>",
            "<script>x</script><style></style>".repeat(1_000)
        );
        assert_eq!(lines(&html), ["> q"]);
    }

    #[test]
    fn a_block_inside_a_cell_does_not_close_the_paragraph_around_the_table() {
        assert_eq!(
            lines("<p>a<table><tr><td><div>b</div></td><td>c</td></tr></table>d</p>e"),
            ["a", "", "b │ c", "", "d", "", "e"]
        );
    }

    #[test]
    fn unclosed_comment_hides_the_rest_as_in_browsers() {
        assert_eq!(lines("a<!-- b <p>c"), ["a"]);
    }

    #[test]
    fn stray_less_than_and_broken_tags_are_text_or_dropped() {
        assert_eq!(lines("a < b, 1<2 </> <? pi ?>c"), ["a < b, 1<2 c"]);
        assert_eq!(lines("x<div class=\"never closed"), ["x"]);
    }

    #[test]
    fn self_closing_html_elements_stay_open_but_svg_ones_close() {
        // `<div/>` opens a div, as in a browser: the `</div>` closes it.
        assert_eq!(lines("<span>a<div/>b</div>c</span>"), ["a", "b", "c"]);
        assert_eq!(
            lines("<svg><path/><text>label</text></svg> after"),
            ["label after"]
        );
    }

    #[test]
    fn void_elements_never_nest() {
        let mut html = String::from("a");
        for _ in 0..10_000 {
            html.push_str("<img src=x><br/><hr>");
        }
        html.push_str("<blockquote>q</blockquote>");
        let t = to_text(&html);
        assert!(t.ends_with("\n> q\n"), "{}", &t[t.len() - 20..]);
    }

    #[test]
    fn implied_paragraph_and_item_ends() {
        assert_eq!(
            lines("<p>one<p>two<div>three</div>"),
            ["one", "", "two", "", "three"]
        );
        assert_eq!(lines("<dl><dt>term<dd>meaning</dl>"), ["term", "meaning"]);
    }

    #[test]
    fn end_tags_of_unopened_elements_are_ignored() {
        assert_eq!(lines("a</blockquote></ul></td>b"), ["ab"]);
        assert_eq!(lines("a</p>b"), ["a", "", "b"]);
    }

    #[test]
    fn unknown_tags_are_inline() {
        assert_eq!(lines("a<custom-el x=1>b</custom-el><o:p>c</o:p>"), ["abc"]);
    }

    #[test]
    fn output_has_no_trailing_spaces_and_one_final_newline() {
        let t = to_text("<div>a  </div><div>&nbsp;</div><p>b&nbsp;</p><br><br>");
        assert_eq!(t, "a\n\nb\n");
        assert_eq!(to_text(""), "");
        assert_eq!(to_text("<p> </p><br>"), "");
    }

    // ---- adversarial input: bounded output with its structure ----

    fn repeated(unit: &str, bytes: usize) -> String {
        unit.repeat(bytes / unit.len())
    }

    #[test]
    fn self_closing_ul_runs_are_bounded() {
        let html = repeated("<ul/>x", 256 * 1024);
        let t = to_text(&html);
        assert!(t.len() <= MAX_OUTPUT_BYTES, "{} bytes", t.len());
        // Every level is a line of its own, as in a browser.
        assert!(t.lines().all(|l| l == "x"));
        assert_eq!(t.lines().count(), html.len() / 6);
    }

    #[test]
    fn self_closing_div_runs_are_bounded() {
        let html = repeated("<div/>x", 256 * 1024);
        let t = to_text(&html);
        assert!(t.len() <= MAX_OUTPUT_BYTES);
        assert!(t.lines().all(|l| l == "x"));
        assert_eq!(t.lines().count(), html.len() / 7);
    }

    #[test]
    fn a_hundred_thousand_deep_nesting_is_flattened() {
        let mut html = String::from("<p>Data: 3</p>");
        html.push_str(&"<div><blockquote><span>".repeat(100_000));
        html.push_str("deepest");
        html.push_str(&"</span></blockquote></div>".repeat(100_000));
        html.push_str("<p>after</p>");
        let limits = Limits {
            max_elements: usize::MAX,
            ..Limits::default()
        };
        let t = to_text_with(&html, &limits);
        assert!(t.starts_with("Data: 3\n"));
        assert!(t.len() <= MAX_OUTPUT_BYTES);
        let deepest = t.lines().find(|l| l.ends_with("deepest")).unwrap_or("");
        assert_eq!(deepest.matches("> ").count(), MAX_QUOTE_PREFIX, "{deepest}");
        assert!(
            t.ends_with("\nafter\n"),
            "{}",
            &t[t.len().saturating_sub(40)..]
        );
    }

    #[test]
    fn element_cap_stops_reading() {
        let html = format!("<p>Data: 3</p>{}<p>late</p>", "<b>x</b>".repeat(70_000));
        let t = to_text(&html);
        assert!(t.starts_with("Data: 3\n"));
        assert!(!t.contains("late"));
        assert!(t.matches('x').count() < MAX_ELEMENTS);
    }

    #[test]
    fn a_one_megabyte_line_is_cut_at_the_output_cap() {
        let html = format!("<p>Data: 3</p><p>{}</p>", "word ".repeat(200_000));
        let t = to_text(&html);
        assert!(t.starts_with("Data: 3\n\nword word"));
        assert!(t.len() <= MAX_OUTPUT_BYTES);
        assert!(t.len() > MAX_OUTPUT_BYTES - 16);
        assert_eq!(t.lines().count(), 3);
    }

    #[test]
    fn a_huge_table_is_one_line_per_row_within_the_cap() {
        let mut html = String::from("<table>");
        for i in 0..50_000 {
            html.push_str(&format!("<tr><td>row {i}</td><td>{}</td></tr>", i % 5 + 1));
        }
        html.push_str("</table>");
        let t = to_text(&html);
        assert!(t.len() <= MAX_OUTPUT_BYTES);
        assert!(t.starts_with("row 0 │ 1\nrow 1 │ 2\n"), "{}", &t[..30]);
        let full: Vec<&str> = t.lines().collect();
        assert!(full.len() > 1_000);
        assert!(
            full[..full.len() - 1]
                .iter()
                .all(|l| l.matches(" │ ").count() == 1)
        );
    }

    #[test]
    fn one_row_with_a_hundred_thousand_cells_stays_bounded() {
        let html = format!("<table><tr>{}</tr></table>", "<td>c</td>".repeat(100_000));
        let t = to_text(&html);
        assert!(t.len() <= MAX_OUTPUT_BYTES);
        assert_eq!(t.lines().count(), 1);
    }

    #[test]
    fn unterminated_markup_ends_the_text() {
        for html in [
            "a<",
            "a</",
            "a<!",
            "a<!--",
            "a<b",
            "a<b x='",
            "a</b x",
            "a&",
            "a&#",
            "a&#x",
            "a<script>b",
        ] {
            let t = to_text(html);
            assert!(t.starts_with('a'), "{html:?} → {t:?}");
            assert!(t.len() <= 5, "{html:?} → {t:?}");
        }
    }

    #[test]
    fn many_lone_brackets_are_read_in_one_pass() {
        let t = to_text(&"<a".repeat(100_000));
        assert_eq!(t, "");
        let t = to_text(&"<!x".repeat(100_000));
        assert_eq!(t, "");
        let t = to_text(&"&#".repeat(100_000));
        assert!(t.len() <= MAX_OUTPUT_BYTES && t.starts_with("&#&#"));
    }
}
