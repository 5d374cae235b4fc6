//! Quote, attribution, signature and footer stripping: a reply's text → the
//! lines the PM wrote themselves.
//!
//! Removes `>`-quoted text (also `C>`-style initials), attribution lines
//! ("On … wrote:", "Le … a écrit :", "Am … schrieb …:" and their Spanish,
//! Italian, Portuguese, Dutch, Scandinavian, Finnish, Polish, Russian,
//! Japanese and Chinese forms, also wrapped over several lines or written
//! date first), header blocks with any subset of the usual header names in
//! those languages (wrapped values included), `-----Original Message-----`
//! separators, `-- ` signatures, ad-hoc signatures after a closing, legal
//! disclaimers, list footers under an underscore rule and mobile footers (as
//! patterns, not fixed strings). A PM's own sentence shaped like a header
//! stays, and so does a reply that is only a thank-you.
//!
//! Keeps what the PM wrote *into* a quoted form: lines between `>` quotes
//! (inline replies), a quoted skill prompt with a score typed after it, and
//! marks a line written right under a quoted prompt so a bare `4` answers it.
//!
//! Owns the shapes of quotes and signatures, in every language we know.
//! Never reads scores (it only asks `is_answer` so a signature block or a
//! header block is never cut through an answer) and never sees headers.

use super::text::fold;
pub use super::text::{Asked, OwnLine};
use crate::framework::read_answer_line;

/// Quote depth (number of leading `>`) and the content after the markers.
fn quote_depth(line: &str) -> (usize, &str) {
    let mut depth = 0;
    let mut rest = line;
    loop {
        let t = rest.trim_start_matches([' ', '\t']);
        // `C>` / `AB>`: initials before the marker, as some clients quote.
        let initials = t.bytes().take_while(u8::is_ascii_uppercase).count();
        let t = if (1..=3).contains(&initials) && t[initials..].starts_with('>') {
            &t[initials..]
        } else {
            t
        };
        match t.strip_prefix('>') {
            Some(r) => {
                depth += 1;
                rest = r;
            }
            None => break,
        }
        if depth > 64 {
            break;
        }
    }
    if depth == 0 {
        (0, line)
    } else {
        (depth, rest.strip_prefix(' ').unwrap_or(rest))
    }
}

/// A line with bold markers, NBSPs and full-width colons normalised, folded.
fn plain(line: &str) -> String {
    let line = line.trim();
    if line.is_ascii() {
        if !line.contains('*') {
            return line.to_ascii_lowercase();
        }
        let t: String = line
            .bytes()
            .map(|b| {
                if b == b'*' {
                    ' '
                } else {
                    char::from(b.to_ascii_lowercase())
                }
            })
            .collect();
        return t.trim().to_string();
    }
    let t = line.replace(['*', '\u{a0}'], " ").replace('：', ":");
    fold(t.trim())
}

/// Whether a folded line contains a year, a time, or an address: what makes
/// "On … wrote:" an attribution rather than a sentence.
fn has_date_or_address(s: &str) -> bool {
    if s.contains('@') {
        return true;
    }
    let b = s.as_bytes();
    let mut run = 0;
    for (i, &c) in b.iter().enumerate() {
        if c.is_ascii_digit() {
            run += 1;
            if run == 4 {
                return true;
            }
        } else {
            if c == b':' && run >= 1 && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                return true;
            }
            run = 0;
        }
    }
    // 2026年11月20日
    s.contains('年') && s.contains('月')
}

/// Attribution verbs, folded, by language; each must end the line (before
/// the colon) or appear in it, as noted.
#[cfg(test)]
fn is_attribution(line: &str) -> bool {
    is_attribution_plain(&plain(line))
}

/// [`is_attribution`] for a line already through [`plain`].
fn is_attribution_plain(s: &str) -> bool {
    if s.len() > 400 || !(s.ends_with(':')) {
        return false;
    }
    let body = s.trim_end_matches(':').trim_end();
    let verb_at_end = [
        "wrote",        // en
        "a ecrit",      // fr
        "escribio",     // es
        "ha scritto",   // it
        "escreveu",     // pt
        "napisal(a)",   // pl
        "napisal",      // pl
        "napisala",     // pl
        "пишет",        // ru
        "написал(а)",   // ru
        "написал",      // ru
        "написала",     // ru
        "書きました",   // ja
        "のメッセージ", // ja
        "写道",         // zh
        "寫道",         // zh-TW
        "skrev",        // sv, da, no
        "kirjoitti",    // fi
    ];
    let verb_inside = [
        " schrieb ", // de: "Am … schrieb Name <…>:"
        " schreef ", // nl: "Op … schreef Name <…>:"
        " skrev ",   // sv: "Den … skrev Name <…>:"
    ];
    let verb = verb_at_end.iter().any(|v| body.ends_with(v))
        || verb_inside.iter().any(|v| body.contains(v))
        || body.ends_with("schrieb")
        || body.ends_with("schreef");
    if verb {
        return has_date_or_address(s);
    }
    // Gmail in Russian or Japanese: "пт, 20 нояб. 2026 г. в 16:00, Name <a@b>:"
    s.contains('<') && s.contains('@') && s.contains('>') && has_date_or_address(s)
}

/// Separator lines: `-----Original Message-----`, `---------- Forwarded
/// message ---------`, `Begin forwarded message:` and kin. `s` is the line
/// through [`plain`].
fn is_separator(s: &str) -> bool {
    if s.starts_with("---") && s.ends_with("---") && s.chars().any(char::is_alphabetic) {
        return true;
    }
    if s.starts_with("-----") && s.chars().any(char::is_alphabetic) && s.len() < 60 {
        // "----- Original Message -----" sometimes loses its tail.
        return s.contains("original") || s.contains("origine") || s.contains("ursprung");
    }
    [
        "begin forwarded message:",
        "debut du message reexpedie :",
        "debut du message reexpedie:",
        "anfang der weitergeleiteten nachricht:",
        "inicio del mensaje reenviado:",
        "inizio messaggio inoltrato:",
        "inicio da mensagem reencaminhada:",
        "begin doorgestuurd bericht:",
        "vidarebefordrat brev:",
    ]
    .contains(&s)
}

const FROM_LABELS: &[&str] = &[
    "from",
    "de",
    "von",
    "da",
    "van",
    "fran",
    "od",
    "от",
    "差出人",
    "发件人",
    "寄件者",
    "afzender",
    "avsandare",
    "nadawca",
];
const OTHER_LABELS: &[&str] = &[
    "sent",
    "date",
    "to",
    "cc",
    "subject",
    "envoye",
    "a",
    "objet",
    "gesendet",
    "an",
    "betreff",
    "datum",
    "enviado",
    "para",
    "asunto",
    "fecha",
    "inviato",
    "oggetto",
    "data",
    "assunto",
    "verzonden",
    "aan",
    "onderwerp",
    "skickat",
    "till",
    "amne",
    "wyslano",
    "do",
    "temat",
    "dw",
    "отправлено",
    "кому",
    "тема",
    "дата",
    "копия",
    "送信日時",
    "宛先",
    "件名",
    "日付",
    "发送时间",
    "收件人",
    "主题",
    "日期",
    "时间",
    "抄送",
    "envoye le",
    "sent on",
    "kopie",
    "cc/bcc",
];

/// The label of a `Label: value` header-like line, folded, if short. `s`
/// is the line through [`plain`].
fn field_label(s: &str) -> Option<&str> {
    let colon = s.find(':')?;
    let label = s[..colon].trim();
    if label.is_empty() || label.chars().count() > 14 {
        return None;
    }
    Some(label)
}

/// Header names of a quoted message's header block that are not From-like,
/// beyond [`OTHER_LABELS`]: reply-to and the labels of webmail in the
/// supported languages.
const MORE_LABELS: &[&str] = &[
    "reply-to",
    "reply to",
    "bcc",
    "risposta",
    "rispondi a",
    "message du",
    "sujet",
    "destinataire",
    "repondre a",
    "envoye par",
    "expediteur",
    "antwort an",
    "responder a",
    "responder para",
    "beantwoorden",
    "svara till",
    "odpowiedz do",
    "ответить",
    "返信先",
    "回复",
];

fn is_header_label(label: &str) -> bool {
    FROM_LABELS.contains(&label) || OTHER_LABELS.contains(&label) || MORE_LABELS.contains(&label)
}

/// A header block of a quoted message starting at `i`: lines `Label: value`
/// with any subset of the usual header names in a supported language (a
/// wrapped value's second line included), at least one of them From-like,
/// and either three names or a date or an address. A PM's own sentence
/// shaped like one header stays. `first` is `lines[i]` through [`plain`].
fn is_outlook_block(
    lines: &[&str],
    i: usize,
    first: &str,
    is_answer: &dyn Fn(&str) -> bool,
) -> bool {
    let Some(label) = field_label(first) else {
        return false;
    };
    // `Data: 3` is the PM's answer, not Italian's date header.
    if !is_header_label(label) || is_answer(lines[i]) {
        return false;
    }
    let mut labels = 1;
    let mut from_like = FROM_LABELS.contains(&label) || label == "message du";
    let mut dated = has_date_or_address(first);
    let mut continued = 0;
    for l in lines.iter().skip(i + 1).take(12) {
        let content = quote_depth(l).1;
        if content.trim().is_empty() {
            continue;
        }
        let folded = plain(content);
        match field_label(&folded) {
            Some(lab) if is_header_label(lab) && !is_answer(content) => {
                labels += 1;
                from_like |= FROM_LABELS.contains(&lab);
                dated |= has_date_or_address(&folded);
                continued = 0;
            }
            _ => {
                // A wrapped value: `From: A Person <` / `a@b.example>`.
                let t = content.trim();
                let wrapped = l.starts_with([' ', '\t'])
                    || t.starts_with('<')
                    || t.ends_with('>') && t.contains('@');
                if wrapped && continued == 0 && labels < 8 {
                    continued += 1;
                    dated |= t.contains('@');
                    continue;
                }
                break;
            }
        }
    }
    from_like && (labels >= 3 || labels >= 2 && dated)
}

/// Where a quote header starts at line `i`, and how many lines it spans.
fn header_at(lines: &[&str], i: usize, is_answer: &dyn Fn(&str) -> bool) -> Option<usize> {
    let line = lines[i];
    let t = line.trim();
    // Every header has a colon, starts with a rule, or is followed by the
    // colon-ended second half of a wrapped attribution: a cheap first test.
    let next_ends_colon = || {
        lines
            .get(i + 1)
            .is_some_and(|n| n.trim_end().ends_with([':', '：']))
    };
    let bare = t.trim_matches(['*', ' ']);
    let next_is_address = || {
        lines
            .get(i + 1)
            .is_some_and(|n| n.contains('@') && n.trim_end().ends_with([':', '：', '>']))
    };
    if t.is_empty()
        || !(t.contains(':')
            || t.contains('：')
            || bare.starts_with(['-', '_'])
            || next_ends_colon()
            || next_is_address()
            || bare.len() > 8 && bare.as_bytes()[..4].iter().all(u8::is_ascii_digit))
    {
        return None;
    }
    let s = plain(line);
    if is_separator(&s) {
        return Some(1);
    }
    // Outlook's rule (underscores or dashes) before its header block.
    let t = line.trim().trim_matches('*').trim();
    if t.len() >= 10 && (t.chars().all(|c| c == '_') || t.chars().all(|c| c == '-')) {
        let next = lines[i + 1..]
            .iter()
            .position(|l| !l.trim().is_empty())
            .map(|p| i + 1 + p);
        if let Some(n) = next
            && is_outlook_block(lines, n, &plain(lines[n]), is_answer)
        {
            return Some(n - i + 1);
        }
    }
    if is_outlook_block(lines, i, &s, is_answer) {
        return Some(1);
    }
    if is_attribution_plain(&s) || is_date_first_attribution(&s) {
        return Some(1);
    }
    // An attribution wrapped over several lines: its address or `wrote:`
    // on the next ones (blank lines between, a stray `>` on the last).
    if !s.ends_with(':') {
        let starts_like = opens_attribution(&s) || s.contains('@') || has_date_or_address(&s);
        if starts_like {
            let mut joined = line.trim().to_string();
            for (j, next) in lines.iter().enumerate().skip(i + 1).take(5) {
                if next.trim().is_empty() {
                    continue;
                }
                let (depth, content) = quote_depth(next);
                // `> wrote:` / `>:`: the end of the attribution, quoted by
                // a client that wrapped it.
                if depth > 0 && (depth > 1 || content.trim().chars().count() > 16) {
                    break;
                }
                // A signature, or a whole attribution of its own further
                // down: this line (`moved to thu 15:00`) is the writer's.
                if next.trim_end() == "--"
                    || next.trim_end() == "-- "
                    || (depth == 0 && {
                        let p = plain(next);
                        opens_attribution(&p) && is_attribution_plain(&p)
                    })
                {
                    break;
                }
                let piece = if depth > 0 {
                    format!(">{}", content.trim())
                } else {
                    content.trim().to_string()
                };
                joined.push(' ');
                joined.push_str(&piece);
                if joined.len() > 400 {
                    break;
                }
                if is_attribution_plain(&plain(&joined)) {
                    return Some(j - i + 1);
                }
            }
        }
    }
    None
}

/// Whether a folded line starts the way attributions do (`On …`, `Le …`,
/// `Am …`…).
fn opens_attribution(s: &str) -> bool {
    [
        "on ", "le ", "am ", "el ", "il ", "em ", "op ", "den ", "w dniu ", "in data ", "dne ",
        "pe ", "в ", "el dia ",
    ]
    .iter()
    .any(|p| s.starts_with(p))
}

/// `2016-03-03 17:21 GMT+01:00 Some One <a@b.example>:` or
/// `2013/7/20 Some One <a@b.example>`: an attribution that starts with the
/// date, as some clients write it; it needs a time zone or an address. `s`
/// is the line through [`plain`].
fn is_date_first_attribution(s: &str) -> bool {
    let b = s.as_bytes();
    if s.len() > 200 || b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) {
        return false;
    }
    if !matches!(b[4], b'-' | b'/' | b'.') || !b[5].is_ascii_digit() {
        return false;
    }
    let address = s.contains('<') && s.contains('@') && s.contains('>');
    let zone = s.contains(" gmt") || s.contains(" utc");
    (address || zone && has_date_or_address(&s[5..])) && !s.contains(". ")
}

/// A skill prompt from the form: `Product strategy (strategy):` and what
/// follows its colon (the form's answer line, read back).
fn prompt_parts(content: &str) -> Option<(&str, &str)> {
    // Every prompt holds `(key)`: most lines have no `)` at all.
    if !content.as_bytes().contains(&b')') {
        return None;
    }
    read_answer_line(content)
}

/// How mobile footers start, folded, by language: "sent from …",
/// "sent with …" and their translations. What follows is any device or app.
const FOOTER_STARTS: &[&str] = &[
    "sent from ",
    "sent with ",
    "sent via ",
    "sent using ",
    "sent on my ",
    "sent by ",
    "envoye de ",
    "envoye depuis ",
    "envoye a partir de ",
    "envoye avec ",
    "envoye par ",
    "von meinem ",
    "gesendet von ",
    "gesendet mit ",
    "gesendet vom ",
    "diese nachricht wurde von ",
    "enviado desde ",
    "enviado con ",
    "enviado do ",
    "enviado de ",
    "enviado com ",
    "enviado a partir ",
    "inviato da ",
    "inviato dal ",
    "inviato con ",
    "verzonden met ",
    "verzonden vanaf ",
    "verstuurd vanaf ",
    "verstuurd met ",
    "verzonden van ",
    "skickat fran ",
    "skickat med ",
    "skickat via ",
    "sendt fra ",
    "sendt med ",
    "sendt via ",
    "lahetetty ",
    "wyslane z ",
    "wyslano z ",
    "wyslane przy ",
    "отправлено с ",
    "отправлено из ",
    "отправлено через ",
    "发自我的",
    "发自",
    "从我的",
    "寄自我的",
    "iphoneから送信",
];
/// "Get Outlook for iOS" and translations: the word before the app, the
/// words before the platform.
const GET_APP: &[(&str, &[&str])] = &[
    ("get ", &[" for "]),
    ("telecharger ", &[" pour "]),
    ("obtenir ", &[" pour "]),
    ("obtenez ", &[" pour "]),
    ("holen sie sich ", &[" fur "]),
    ("obtener ", &[" para "]),
    ("descargar ", &[" para "]),
    ("scarica ", &[" per "]),
    ("ottieni ", &[" per "]),
    ("obter ", &[" para "]),
    ("baixe ", &[" para "]),
    ("download ", &[" voor ", " for "]),
    ("hamta ", &[" for "]),
    ("hent ", &[" til ", " for "]),
    ("fa ", &[" for "]),
    ("pobierz ", &[" dla ", " na "]),
    ("получить ", &[" для "]),
    ("скачать ", &[" для "]),
];
const PLATFORMS: &[&str] = &["ios", "android", "iphone", "ipad", "windows", "mac"];

/// A mobile or app footer ("Sent from my iPad", "Sendt fra min iPad",
/// "Get Outlook for Android", K-9 Mail's German sentence). `s` is the line
/// through [`plain`].
fn is_mobile_footer(s: &str) -> bool {
    let s = s.trim_end_matches(['.', '!']);
    // Every footer starts or ends with one of these: a cheap first test.
    if !(FOOTER_STARTS.iter().any(|p| s.starts_with(p))
        || GET_APP.iter().any(|(get, _)| s.starts_with(get))
        || s.ends_with("から送信")
        || s.ends_with("gesendet"))
    {
        return false;
    }
    if s.is_empty() || s.chars().count() > 140 {
        return false;
    }
    let words = s.split_whitespace().count();
    if words <= 16 && FOOTER_STARTS.iter().any(|p| s.starts_with(p)) {
        // The first sentence says it; a second short one may follow
        // ("Please excuse my brevity").
        let first = s.split(". ").next().unwrap_or(s);
        return first.split_whitespace().count() <= 10;
    }
    if words <= 8 {
        for (get, fors) in GET_APP {
            if let Some(rest) = s.strip_prefix(get)
                && fors.iter().any(|f| {
                    rest.split_once(f).is_some_and(|(_, platform)| {
                        PLATFORMS.iter().any(|p| platform.trim().starts_with(p))
                    })
                })
            {
                return true;
            }
        }
    }
    s.ends_with("から送信")
        || s.ends_with("gesendet") && (s.starts_with("von ") || s.contains(" von meinem "))
        || s.ends_with("mit k-9 mail gesendet")
}

/// A mailing list's footer: an underscore rule, then a few lines naming
/// the list (its name, address or `listinfo` page).
fn is_list_footer(run: &[OwnLine], i: usize) -> bool {
    let t = run[i].text.trim();
    if t.len() < 10 || !t.chars().all(|c| c == '_') {
        return false;
    }
    let rest: Vec<String> = run[i + 1..]
        .iter()
        .map(|l| plain(&l.text))
        .filter(|l| !l.is_empty())
        .collect();
    !rest.is_empty()
        && rest.len() <= 8
        && rest.iter().any(|l| {
            [
                "mailing list",
                "listinfo",
                "unsubscribe",
                "mailman",
                "liste de diffusion",
                "se desabonner",
                "mailingliste",
                "abmelden",
                "lista de correo",
                "lista di distribuzione",
                "lista de discussao",
                "mailinglijst",
                "e-postlista",
                "lista mailingowa",
                "рассылк",
                "google groups",
                "groups.google",
            ]
            .iter()
            .any(|w| l.contains(w))
        })
}

const CLOSINGS: &[&str] = &[
    "thanks",
    "thank you",
    "thx",
    "cheers",
    "best",
    "best regards",
    "regards",
    "kind regards",
    "warm regards",
    "many thanks",
    "all the best",
    "br",
    "talk soon",
    "cordialement",
    "bien cordialement",
    "merci",
    "merci beaucoup",
    "bonne journee",
    "bonne soiree",
    "a bientot",
    "bien a vous",
    "bises",
    "viele grusse",
    "viele gruße",
    "beste grusse",
    "liebe grusse",
    "mit freundlichen grussen",
    "gruss",
    "grusse",
    "lg",
    "vg",
    "danke",
    "saludos",
    "un saludo",
    "atentamente",
    "gracias",
    "cordiali saluti",
    "saluti",
    "grazie",
    "un saluto",
    "atenciosamente",
    "abracos",
    "obrigado",
    "obrigada",
    "met vriendelijke groet",
    "groeten",
    "groetjes",
    "med vanliga halsningar",
    "halsningar",
    "mvh",
    "tack",
    "pozdrawiam",
    "pozdrowienia",
    "dziekuje",
    "с уважением",
    "спасибо",
    "よろしくお願いします",
    "よろしくお願いいたします",
    "谢谢",
    "此致",
];

/// `s` is the line through [`plain`].
fn is_closing(s: &str) -> bool {
    let s = s.trim_end_matches([',', '.', '!', ' ', '、', '。']);
    CLOSINGS.contains(&s)
}

const DISCLAIMER_OPENERS: &[&str] = &[
    "confidential",
    "confidentiality notice",
    "disclaimer",
    "this email and any",
    "this e-mail and any",
    "this message and any",
    "this email is intended",
    "this e-mail is intended",
    "this message is intended",
    "this email may contain",
    "this message may contain",
    "this email contains",
    "this message contains",
    "the information contained in this",
    "the information in this",
    "ce message et",
    "ce courriel et",
    "ce message est confidentiel",
    "ce courriel est confidentiel",
    "ce message est destine",
    "diese e-mail enthalt",
    "diese nachricht enthalt",
    "diese e-mail ist",
    "diese nachricht ist",
    "este mensaje",
    "este correo",
    "questo messaggio",
    "le informazioni contenute",
    "esta mensagem",
    "este e-mail",
    "dit bericht",
    "dit e-mailbericht",
    "detta meddelande",
    "detta e-postmeddelande",
    "ta wiadomosc",
    "данное сообщение",
    "это сообщение",
    "この電子メール",
    "本邮件",
];
const CONFIDENTIAL_WORDS: &[&str] = &[
    "confidential",
    "privileged",
    "intended recipient",
    "intended solely",
    "confidentiel",
    "destinataire",
    "vertraulich",
    "empfanger",
    "confidencial",
    "destinatario",
    "riservat",
    "vertrouwelijk",
    "geadresseerde",
    "konfidentiell",
    "mottagare",
    "poufn",
    "adresat",
    "конфиденциал",
    "機密",
    "保密",
];

/// Whether the disclaimer-like text starting at `folded[from]` really is
/// one; `folded` are the run's lines through [`plain`].
fn is_disclaimer(folded: &[String], from: usize) -> bool {
    let first = &folded[from];
    if first.starts_with("disclaimer") || first.starts_with("please consider the environment") {
        return true;
    }
    if !DISCLAIMER_OPENERS.iter().any(|o| first.starts_with(o)) {
        return false;
    }
    let mut seen = 0;
    for t in &folded[from..] {
        if CONFIDENTIAL_WORDS.iter().any(|w| t.contains(w)) {
            return true;
        }
        seen += 1;
        if seen > 12 {
            break;
        }
    }
    false
}

/// Whether everything in `lines[from..]` looks like a signature tail: a few
/// short lines, none an answer.
fn short_tail(lines: &[OwnLine], from: usize, is_answer: &dyn Fn(&str) -> bool) -> bool {
    let rest: Vec<&OwnLine> = lines[from..]
        .iter()
        .filter(|l| !l.text.trim().is_empty())
        .collect();
    rest.len() <= 6
        && rest
            .iter()
            .all(|l| l.text.chars().count() <= 80 && !l.from_quote && !is_answer(&l.text))
}

/// Like [`short_tail`], not counting more mobile footers: a reply sent
/// through several apps can carry several.
fn footer_tail(lines: &[OwnLine], from: usize, is_answer: &dyn Fn(&str) -> bool) -> bool {
    let rest: Vec<&OwnLine> = lines[from..]
        .iter()
        .filter(|l| !l.text.trim().is_empty() && !is_mobile_footer(&plain(&l.text)))
        .collect();
    rest.len() <= 6
        && rest
            .iter()
            .all(|l| l.text.chars().count() <= 80 && !l.from_quote && !is_answer(&l.text))
}

/// `s` is the line through [`plain`], `names` folded.
fn is_name_line(s: &str, names: &[String]) -> bool {
    // `-Alice`, `~ Alice`: a sign-off with the PM's own name.
    let s = s
        .trim_end_matches([',', '.'])
        .trim_start_matches(['-', '–', '~', ' ']);
    !s.is_empty()
        && names.iter().any(|n| {
            !n.is_empty()
                && (s == n
                    || (s.len() <= n.len() + 40
                        && s.starts_with(n.as_str())
                        // `Alice Martin, PM` / `Alice | Acme`, never a
                        // sentence: `Alice will present on Monday`.
                        && s[n.len()..]
                            .trim_start()
                            .starts_with([',', '|', '-', '–', '(', '/'])))
        })
}

/// Image placeholders clients leave in text: `[image: logo.png]`, `[cid:…]`.
fn is_image_placeholder(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('[')
        && t.ends_with(']')
        && (t.starts_with("[image") || t.starts_with("[cid:") || t.starts_with("[Image"))
}

/// A line of only invisible marks (Gmail's `ᐧ` read-tracking mark,
/// zero-width spaces): nothing the PM wrote.
fn is_invisible(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty()
        && t.chars().all(|c| {
            matches!(
                c,
                'ᐧ' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}' | ' '
            )
        })
}

/// Where the signature of one run of own lines starts (cut from there).
fn signature_start(
    run: &[OwnLine],
    names: &[String],
    is_answer: &dyn Fn(&str) -> bool,
    first_run: bool,
) -> Option<usize> {
    let folded: Vec<String> = run.iter().map(|l| plain(&l.text)).collect();
    let names: Vec<String> = names.iter().map(|n| fold(n.trim())).collect();
    // A legal disclaimer runs to the end of the run, whatever its length;
    // the signature rules below look only at what comes before it.
    let disclaimer = (0..run.len()).find(|&i| !run[i].from_quote && is_disclaimer(&folded, i));
    let run = &run[..disclaimer.unwrap_or(run.len())];
    let mut said_anything = !first_run;
    for (i, l) in run.iter().enumerate() {
        if l.from_quote {
            continue;
        }
        let raw = l.text.as_str();
        let t = raw.trim();
        if raw == "-- " || t == "--" || t == "—" {
            return Some(i);
        }
        if t.is_empty() {
            continue;
        }
        let f = folded[i].as_str();
        if is_mobile_footer(f) && footer_tail(run, i + 1, is_answer) {
            return Some(i);
        }
        if is_list_footer(run, i) {
            return Some(i);
        }
        // A reply that is only "Thank you." keeps it: a closing is a
        // signature only after the PM said something.
        if is_closing(f) && said_anything && short_tail(run, i + 1, is_answer) {
            return Some(i);
        }
        said_anything = true;
        if i > 0 && is_name_line(f, &names) && short_tail(run, i, is_answer) {
            return Some(i);
        }
    }
    disclaimer
}

/// Where we are in the text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Own text; `>` lines are quotes, unmarked lines are the PM's.
    Marked,
    /// After a header whose quote is not `>`-marked: everything is quoted.
    Unmarked,
}

/// The PM's own lines in a reply's text, in order. `names` are the sender's
/// names (to spot a signature that starts with them); `is_answer` tells a
/// signature tail from an answer.
pub fn strip(text: &str, names: &[String], is_answer: &dyn Fn(&str) -> bool) -> Vec<OwnLine> {
    strip_with(text, names, is_answer, &|_| None)
}

/// [`strip`], also keeping the quoted form lines that ask about an action
/// (`asked`): one answered in the quote, or one the PM wrote right under
/// (so the reader knows what a bare `done` there answers). Both come back
/// `from_quote`, never part of the note.
pub fn strip_with(
    text: &str,
    names: &[String],
    is_answer: &dyn Fn(&str) -> bool,
    asked: &dyn Fn(&str) -> Option<Asked>,
) -> Vec<OwnLine> {
    let lines: Vec<&str> = text.lines().collect();
    // Whether the PM wrote right under line `i` (a blank line between allowed).
    let written_under = |i: usize| {
        lines[i + 1..]
            .iter()
            .take(2)
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| quote_depth(l).0 == 0)
    };
    // Own lines grouped in runs; a quote or header ends a run.
    let mut runs: Vec<Vec<OwnLine>> = vec![Vec::new()];
    let mut mode = Mode::Marked;
    let mut prompt: Option<(String, usize)> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let (depth, content) = quote_depth(line);
        if depth == 0
            && let Some(span) = header_at(&lines, i, is_answer)
        {
            if !runs.last().is_some_and(Vec::is_empty) {
                runs.push(Vec::new());
            }
            // Quoted with `>` below the header, or not at all?
            let next = lines[i + span..].iter().find(|l| !l.trim().is_empty());
            let marked = next.is_some_and(|l| quote_depth(l).0 > 0);
            if mode == Mode::Unmarked || !marked {
                // Everything after is an unmarked quote; a second header
                // starts older mail, which never counts.
                if mode == Mode::Unmarked {
                    break;
                }
                mode = Mode::Unmarked;
            }
            prompt = None;
            i += span;
            continue;
        }
        match mode {
            Mode::Unmarked => {
                let (d, c) = (depth, content);
                let answered = || match prompt_parts(c) {
                    Some((_, after)) => !after.is_empty(),
                    None => asked(c) == Some(Asked::Answered),
                };
                if d <= 1 && answered() {
                    runs.push(vec![OwnLine {
                        text: c.trim().to_string(),
                        prompt: None,
                        from_quote: true,
                    }]);
                }
            }
            Mode::Marked if depth > 0 => {
                if !runs.last().is_some_and(Vec::is_empty) {
                    runs.push(Vec::new());
                }
                if depth == 1 {
                    match prompt_parts(content) {
                        Some((p, "")) => prompt = Some((p.to_string(), 0)),
                        Some(_) => {
                            runs.push(vec![OwnLine {
                                text: content.trim().to_string(),
                                prompt: None,
                                from_quote: true,
                            }]);
                            runs.push(Vec::new());
                            prompt = None;
                        }
                        None if match asked(content) {
                            Some(Asked::Answered) => true,
                            Some(Asked::Question) => written_under(i),
                            None => false,
                        } =>
                        {
                            runs.push(vec![OwnLine {
                                text: content.trim().to_string(),
                                prompt: None,
                                from_quote: true,
                            }]);
                            runs.push(Vec::new());
                            prompt = None;
                        }
                        None => {
                            if let Some((_, seen)) = prompt.as_mut()
                                && !content.trim().is_empty()
                            {
                                *seen += 1;
                                if *seen > 3 {
                                    prompt = None;
                                }
                            }
                        }
                    }
                }
            }
            Mode::Marked => {
                if is_image_placeholder(line) || is_invisible(line) {
                    i += 1;
                    continue;
                }
                let mut own = OwnLine::own(line);
                if !line.trim().is_empty()
                    && let Some((p, _)) = prompt.take()
                {
                    own.prompt = Some(p);
                }
                if let Some(run) = runs.last_mut() {
                    run.push(own);
                }
            }
        }
        i += 1;
    }
    let mut out: Vec<OwnLine> = Vec::new();
    for mut run in runs {
        let first_run = out.iter().all(|l| l.text.trim().is_empty());
        if let Some(cut) = signature_start(&run, names, is_answer, first_run) {
            run.truncate(cut);
        }
        out.extend(run);
    }
    // No blank lines at either end.
    while out.first().is_some_and(|l| l.text.trim().is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.text.trim().is_empty()) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own(text: &str) -> Vec<String> {
        strip(text, &["Alice Martin".into(), "Alice".into()], &|l| {
            l.contains(": ") && l.chars().last().is_some_and(|c| c.is_ascii_digit())
        })
        .into_iter()
        .map(|l| l.display().trim().to_string())
        .collect()
    }

    /// [`strip_with`] told that lines about "roadmap" ask about an action.
    fn own_with_actions(text: &str) -> Vec<(String, bool)> {
        let asked = |l: &str| {
            let (label, rest) = l.split_once(':')?;
            if !label.to_lowercase().contains("roadmap") {
                return None;
            }
            Some(if rest.contains("done / partly / not yet") {
                Asked::Question
            } else {
                Asked::Answered
            })
        };
        strip_with(text, &["Alice".into()], &|_| false, &asked)
            .into_iter()
            .map(|l| (l.display().trim().to_string(), l.from_quote))
            .collect()
    }

    #[test]
    fn a_quoted_action_question_is_kept_only_when_the_pm_wrote_under_it() {
        let under = own_with_actions(
            "On Fri, Nov 20, 2026 at 4:00 PM PM Pulse <pulse@example.org> wrote:\n> Send the roadmap: done / partly / not yet\ndone, sent Tuesday\n> Other line\n",
        );
        assert_eq!(
            under,
            vec![
                (
                    "Send the roadmap: done / partly / not yet".to_string(),
                    true
                ),
                ("done, sent Tuesday".to_string(), false),
            ]
        );
        let top = own_with_actions(
            "Thanks!\n\nOn Fri, Nov 20, 2026 at 4:00 PM PM Pulse <pulse@example.org> wrote:\n> Send the roadmap: done / partly / not yet\n> Other line\n",
        );
        assert_eq!(top, vec![("Thanks!".to_string(), false)]);
    }

    #[test]
    fn a_quoted_action_line_answered_in_the_quote_is_kept() {
        let edited = own_with_actions(
            "Thanks!\n\nOn Fri, Nov 20, 2026 at 4:00 PM PM Pulse <pulse@example.org> wrote:\n> Send the roadmap: not yet, next week\n> Other line\n",
        );
        assert_eq!(
            edited,
            vec![
                ("Thanks!".to_string(), false),
                (String::new(), false),
                ("Send the roadmap: not yet, next week".to_string(), true),
            ]
        );
    }

    #[test]
    fn a_line_with_a_time_above_a_signature_and_a_one_line_attribution_is_the_writers() {
        let text = "moved to thu 15:00\n\n-- \nMaya Chen\n\nOn Mon, 12 Jan 2026 at 08:00, PM Pulse <pulse@example.org> wrote:\n> hello\n";
        let own: Vec<String> = strip(text, &["Maya Chen".into()], &|_| false)
            .iter()
            .map(OwnLine::display)
            .collect();
        assert_eq!(
            own.first().map(String::as_str),
            Some("moved to thu 15:00"),
            "{own:?}"
        );
        let text = "Data: 3, see you at 15:00\nOn Mon, 12 Jan 2026 at 08:00, PM Pulse <pulse@example.org> wrote:\n> hello\n";
        let own: Vec<String> = strip(text, &[], &|_| false)
            .iter()
            .map(OwnLine::display)
            .collect();
        assert_eq!(own, vec!["Data: 3, see you at 15:00".to_string()]);
    }

    #[test]
    fn attribution_in_many_languages_is_a_header() {
        for a in [
            "On Fri, Nov 20, 2026 at 4:00 PM PM Pulse <pulse+abc@example.org> wrote:",
            "Le ven. 20 nov. 2026 à 16:00, PM Pulse <pulse@example.org> a écrit :",
            "Am Fr., 20. Nov. 2026 um 16:00 Uhr schrieb PM Pulse <pulse@example.org>:",
            "El vie, 20 nov 2026 a las 16:00, PM Pulse (<pulse@example.org>) escribió:",
            "Il giorno ven 20 nov 2026 alle ore 16:00 PM Pulse <pulse@example.org> ha scritto:",
            "Em sex., 20 de nov. de 2026 às 16:00, PM Pulse <pulse@example.org> escreveu:",
            "Op vr 20 nov. 2026 om 16:00 schreef PM Pulse <pulse@example.org>:",
            "Den fre 20 nov. 2026 kl 16:00 skrev PM Pulse <pulse@example.org>:",
            "pt., 20 lis 2026 o 16:00 PM Pulse <pulse@example.org> napisał(a):",
            "пт, 20 нояб. 2026 г. в 16:00, PM Pulse <pulse@example.org>:",
            "2026年11月20日(金) 16:00 PM Pulse <pulse@example.org>:",
            "PM Pulse <pulse@example.org> 于2026年11月20日周五 16:00写道：",
        ] {
            assert!(is_attribution(a), "{a}");
        }
    }

    #[test]
    fn pm_sentence_shaped_like_a_header_stays() {
        assert!(!is_attribution("On Thursday the CFO said:"));
        assert!(!is_attribution("On Thursday the CFO wrote:"));
        assert_eq!(
            own("On Thursday the CFO said:\nwe cut scope.\nData: 3"),
            ["On Thursday the CFO said:", "we cut scope.", "Data: 3"]
        );
    }

    #[test]
    fn wrapped_attribution_is_removed() {
        assert_eq!(
            own(
                "Data: 3\n\nOn Fri, Nov 20, 2026 at 4:00 PM PM Pulse <\npulse@example.org> wrote:\n> Product strategy (strategy):"
            ),
            ["Data: 3"]
        );
    }

    #[test]
    fn outlook_block_hides_everything_after_it() {
        assert_eq!(
            own(
                "Data: 3\n\n________________________________\nFrom: PM Pulse <pulse@example.org>\nSent: Friday, November 20, 2026 4:00 PM\nTo: Alice Martin\nSubject: Your week\n\nProduct strategy (strategy):\nExample: Delivery: 4 shipped the beta"
            ),
            ["Data: 3"]
        );
    }

    #[test]
    fn inline_answers_between_quotes_are_kept_with_their_prompt() {
        assert_eq!(
            own(
                "On Fri, Nov 20, 2026 at 4:00 PM PM Pulse <p@example.org> wrote:\n> Product strategy (strategy):\n>    1 = a  3 = b  5 = c\n4\n> Customer discovery (discovery): 2\n> Example: Delivery: 4 shipped the beta"
            ),
            [
                "Product strategy (strategy): 4",
                "Customer discovery (discovery): 2"
            ]
        );
    }

    #[test]
    fn signatures_and_footers_go() {
        assert_eq!(
            own("Data: 3\nGood week.\n-- \nAlice Martin\nPM, Acme"),
            ["Data: 3", "Good week."]
        );
        assert_eq!(own("Data: 3\n\nSent from my iPhone"), ["Data: 3"]);
        assert_eq!(
            own("Data: 3\n\nThanks,\nAlice\nSenior PM | Acme\n+33 6 12 34 56 78"),
            ["Data: 3"]
        );
        assert_eq!(own("Data: 3\nAlice Martin\nSenior PM"), ["Data: 3"]);
    }

    #[test]
    fn closing_before_answers_is_not_a_signature() {
        assert_eq!(own("Thanks,\nData: 3"), ["Thanks,", "Data: 3"]);
    }
}
