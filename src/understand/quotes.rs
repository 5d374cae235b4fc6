//! Quote, attribution, signature and footer stripping: a reply's text → the
//! lines the PM wrote themselves.
//!
//! Removes `>`-quoted text, attribution lines ("On … wrote:", "Le … a écrit :",
//! "Am … schrieb …:" and their Spanish, Italian, Portuguese, Dutch, Swedish,
//! Polish, Russian, Japanese and Chinese forms, also wrapped over two lines),
//! Outlook header blocks (`From:/Sent:/To:/Subject:` in several languages),
//! `-----Original Message-----` separators, `-- ` signatures, ad-hoc
//! signatures after a closing, legal disclaimers and mobile footers.
//!
//! Keeps what the PM wrote *into* a quoted form: lines between `>` quotes
//! (inline replies), a quoted skill prompt with a score typed after it, and
//! marks a line written right under a quoted prompt so a bare `4` answers it.
//!
//! Owns the shapes of quotes and signatures, in every language we know.
//! Never reads scores (it only asks `is_answer` so a signature block is never
//! cut through an answer) and never sees headers.

pub use super::text::OwnLine;
use super::text::fold;
use crate::framework::read_answer_line;

/// Quote depth (number of leading `>`) and the content after the markers.
fn quote_depth(line: &str) -> (usize, &str) {
    let mut depth = 0;
    let mut rest = line;
    loop {
        let t = rest.trim_start_matches([' ', '\t']);
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
fn is_attribution(line: &str) -> bool {
    let s = plain(line);
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
        return has_date_or_address(&s);
    }
    // Gmail in Russian or Japanese: "пт, 20 нояб. 2026 г. в 16:00, Name <a@b>:"
    s.contains('<') && s.contains('@') && s.contains('>') && has_date_or_address(&s)
}

/// Separator lines: `-----Original Message-----`, `---------- Forwarded
/// message ---------`, `Begin forwarded message:` and kin.
fn is_separator(line: &str) -> bool {
    let s = plain(line);
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
    .contains(&s.as_str())
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

/// The label of a `Label: value` header-like line, folded, if short.
fn field_label(line: &str) -> Option<String> {
    let s = plain(line);
    let colon = s.find(':')?;
    let label = s[..colon].trim();
    if label.is_empty() || label.chars().count() > 14 {
        return None;
    }
    Some(label.to_string())
}

/// An Outlook-style header block starting at `i`: a From-like line followed
/// by at least two Sent/To/Subject-like lines.
fn is_outlook_block(lines: &[&str], i: usize) -> bool {
    let Some(label) = field_label(lines[i]) else {
        return false;
    };
    if !FROM_LABELS.contains(&label.as_str()) {
        return false;
    }
    let mut others = 0;
    for l in lines.iter().skip(i + 1).take(6) {
        if l.trim().is_empty() {
            continue;
        }
        match field_label(quote_depth(l).1) {
            Some(lab) if OTHER_LABELS.contains(&lab.as_str()) => others += 1,
            _ => break,
        }
    }
    others >= 2
}

/// Where a quote header starts at line `i`, and how many lines it spans.
fn header_at(lines: &[&str], i: usize) -> Option<usize> {
    let line = lines[i];
    let t = line.trim();
    // Every header has a colon, starts with a rule, or is followed by the
    // colon-ended second half of a wrapped attribution: a cheap first test.
    let next_ends_colon = lines
        .get(i + 1)
        .is_some_and(|n| n.trim_end().ends_with([':', '：']));
    if t.is_empty() || !(t.contains([':', '：']) || t.starts_with(['-', '_']) || next_ends_colon) {
        return None;
    }
    if is_separator(line) {
        return Some(1);
    }
    // Outlook's underline before its header block.
    let t = line.trim();
    if t.len() >= 10 && t.chars().all(|c| c == '_') {
        let next = lines[i + 1..]
            .iter()
            .position(|l| !l.trim().is_empty())
            .map(|p| i + 1 + p);
        if let Some(n) = next
            && is_outlook_block(lines, n)
        {
            return Some(n - i + 1);
        }
    }
    if is_outlook_block(lines, i) {
        return Some(1);
    }
    if is_attribution(line) {
        return Some(1);
    }
    // Attribution wrapped over two lines.
    if let Some(next) = lines.get(i + 1)
        && quote_depth(next).0 == 0
        && !next.trim().is_empty()
        && !plain(line).ends_with(':')
    {
        let s = plain(line);
        let starts_like = [
            "on ", "le ", "am ", "el ", "il ", "em ", "op ", "den ", "w dniu ",
        ]
        .iter()
        .any(|p| s.starts_with(p))
            || s.contains('@')
            || has_date_or_address(&s);
        if starts_like && is_attribution(&format!("{} {}", line.trim(), next.trim())) {
            return Some(2);
        }
    }
    None
}

/// A skill prompt from the form: `Product strategy (strategy):` and what
/// follows its colon (the form's answer line, read back).
fn prompt_parts(content: &str) -> Option<(&str, &str)> {
    read_answer_line(content)
}

/// `s` is the line through [`plain`].
fn is_mobile_footer(s: &str) -> bool {
    let s = s.trim_end_matches(['.', '!']);
    if s.is_empty() || s.chars().count() > 70 {
        return false;
    }
    let words = s.split_whitespace().count();
    let starts = [
        "sent from my ",
        "sent from ",
        "sent with ",
        "sent via ",
        "sent using ",
        "get outlook for ",
        "envoye de mon ",
        "envoye depuis ",
        "envoye a partir de ",
        "telecharger outlook pour ",
        "obtenir outlook pour ",
        "von meinem ",
        "gesendet von ",
        "gesendet mit ",
        "outlook fur ",
        "enviado desde mi ",
        "enviado desde ",
        "obtener outlook para ",
        "inviato da ",
        "inviato dal mio ",
        "scarica outlook per ",
        "enviado do meu ",
        "enviado de meu ",
        "enviado do ",
        "obter o outlook para ",
        "verzonden met ",
        "verzonden vanaf ",
        "verstuurd vanaf ",
        "outlook voor ",
        "skickat fran ",
        "hamta outlook for ",
        "wyslane z ",
        "wyslano z ",
        "pobierz outlook ",
        "отправлено с ",
        "отправлено из ",
        "получить outlook ",
        "发自我的",
        "从我的",
        "寄自我的",
    ];
    if words <= 7 && starts.iter().any(|p| s.starts_with(p)) {
        return true;
    }
    s.ends_with("から送信") || s.ends_with("gesendet") && s.starts_with("von ")
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

/// `s` is the line through [`plain`], `names` folded.
fn is_name_line(s: &str, names: &[String]) -> bool {
    let s = s.trim_end_matches([',', '.']);
    !s.is_empty()
        && names.iter().any(|n| {
            !n.is_empty()
                && (s == n
                    || (s.len() <= n.len() + 40
                        && s.starts_with(n.as_str())
                        && s[n.len()..].starts_with([' ', ',', '|', '-'])))
        })
}

/// Image placeholders clients leave in text: `[image: logo.png]`, `[cid:…]`.
fn is_image_placeholder(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('[')
        && t.ends_with(']')
        && (t.starts_with("[image") || t.starts_with("[cid:") || t.starts_with("[Image"))
}

/// Where the signature of one run of own lines starts (cut from there).
fn signature_start(
    run: &[OwnLine],
    names: &[String],
    is_answer: &dyn Fn(&str) -> bool,
) -> Option<usize> {
    let folded: Vec<String> = run.iter().map(|l| plain(&l.text)).collect();
    let names: Vec<String> = names.iter().map(|n| fold(n.trim())).collect();
    // A legal disclaimer runs to the end of the run, whatever its length;
    // the signature rules below look only at what comes before it.
    let disclaimer = (0..run.len()).find(|&i| !run[i].from_quote && is_disclaimer(&folded, i));
    let run = &run[..disclaimer.unwrap_or(run.len())];
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
        if is_mobile_footer(f) && short_tail(run, i + 1, is_answer) {
            return Some(i);
        }
        if is_closing(f) && short_tail(run, i + 1, is_answer) {
            return Some(i);
        }
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
    let lines: Vec<&str> = text.lines().collect();
    // Own lines grouped in runs; a quote or header ends a run.
    let mut runs: Vec<Vec<OwnLine>> = vec![Vec::new()];
    let mut mode = Mode::Marked;
    let mut prompt: Option<(String, usize)> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let (depth, content) = quote_depth(line);
        if depth == 0
            && let Some(span) = header_at(&lines, i)
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
                if d <= 1
                    && let Some((_, after)) = prompt_parts(c)
                    && !after.is_empty()
                {
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
                if is_image_placeholder(line) {
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
    let mut out = Vec::new();
    for mut run in runs {
        if let Some(cut) = signature_start(&run, names, is_answer) {
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
        .map(|l| l.display())
        .collect()
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
