//! The answer grammar: a PM's own lines → scores, skips, comments and the
//! problems to report back, plus the note (every line that is not an answer).
//!
//! An answer line is `<skill> <separator> <score> [/5] [comment]`: the skill
//! by name, key, alias or unambiguous word prefix, case- and
//! accent-insensitive; separators `:`, `-`, `=`, `–`, `—` or spaces; bullets
//! and bold/italic markers around the label are ignored. A bare score on its
//! own line right under a quoted skill prompt answers that prompt.
//!
//! Owns what counts as an answer and the words used to explain a rejected
//! line. Never sees headers or quotes (`quotes` removes those first), never
//! fails: bad lines come back as [`Invalid`] values, not errors.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use unicode_normalization::UnicodeNormalization;

use super::Invalid;
pub use super::text::{collapse, fold};
use super::text::OwnLine;
use crate::framework::{Framework, normalize_skill_name};

/// Lines longer than this are never answer lines (and cost nothing to skip).
const MAX_ANSWER_LINE: usize = 300;
/// A label of more words than this is prose, not a skill.
const MAX_LABEL_WORDS: usize = 5;

thread_local! {
    /// The lexicon of the framework last seen on this thread: building one
    /// costs more than reading a short reply, and the framework rarely
    /// changes. Checked by value, so a changed framework is never served
    /// stale.
    static LEXICON: RefCell<Option<(Framework, Rc<Lexicon>)>> = const { RefCell::new(None) };
}

/// The lexicon for `framework`, built once per thread and framework.
pub fn lexicon_for(framework: &Framework) -> Rc<Lexicon> {
    LEXICON.with(|cell| {
        let mut slot = cell.borrow_mut();
        if let Some((f, lex)) = slot.as_ref()
            && f == framework
        {
            return Rc::clone(lex);
        }
        let lex = Rc::new(Lexicon::new(framework));
        *slot = Some((framework.clone(), Rc::clone(&lex)));
        lex
    })
}

/// One way of naming a skill: its words, folded.
#[derive(Debug)]
struct Name {
    words: Vec<String>,
    skill: usize,
}

/// The skills a PM may name, ready for matching labels.
#[derive(Debug)]
pub struct Lexicon {
    keys: Vec<String>,
    display: Vec<String>,
    names: Vec<Name>,
}

/// What a label names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    Skill(String),
    /// Several skills fit; their keys, in framework order.
    Ambiguous(Vec<String>),
    Unknown,
}

/// The words of a name or label in [`normalize_skill_name`]'s normal form.
fn words_of(normal: &str) -> Vec<&str> {
    normal.split(' ').filter(|w| !w.is_empty()).collect()
}

impl Lexicon {
    /// The active skills of `framework` (retired skills are not asked, so
    /// naming one is an unknown skill).
    pub fn new(framework: &Framework) -> Lexicon {
        let mut keys = Vec::new();
        let mut display = Vec::new();
        let mut names = Vec::new();
        for (i, s) in framework.active().enumerate() {
            keys.push(s.key.clone());
            display.push(s.name.clone());
            for n in std::iter::once(&s.key)
                .chain(std::iter::once(&s.name))
                .chain(s.aliases.iter())
            {
                let normal = normalize_skill_name(n);
                let words: Vec<String> = words_of(&normal).into_iter().map(String::from).collect();
                if !words.is_empty() {
                    names.push(Name { words, skill: i });
                }
            }
        }
        Lexicon {
            keys,
            display,
            names,
        }
    }

    /// Keys of the active skills, in framework order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The display name of a skill key.
    pub fn display<'a>(&'a self, key: &'a str) -> &'a str {
        self.keys
            .iter()
            .position(|k| k == key)
            .and_then(|i| self.display.get(i))
            .map_or(key, |s| s.as_str())
    }

    /// Which skill a label names: exact key/name/alias first, then a unique
    /// word-by-word prefix (`Comm`, `Stakeholder`, `Tech fluency`).
    pub fn resolve(&self, label: &str) -> Resolved {
        let folded = fold(label.trim());
        // `Product strategy (strategy)`: the key in brackets decides.
        if let Some(open) = folded.rfind('(')
            && folded.ends_with(')')
        {
            let inner = folded[open + 1..folded.len() - 1].trim();
            if let Some(i) = self.keys.iter().position(|k| k == inner) {
                return Resolved::Skill(self.keys[i].clone());
            }
            let outer = folded[..open].trim();
            if !outer.is_empty() {
                return self.resolve(outer);
            }
        }
        // `Stratégie / strategy`: a label in two languages names one skill
        // when exactly one side does.
        if folded.contains(" / ") {
            let sides: Vec<Resolved> = folded
                .split(" / ")
                .map(|side| self.resolve(side))
                .filter(|r| *r != Resolved::Unknown)
                .collect();
            return match sides.as_slice() {
                [one] => one.clone(),
                [a, b] if a == b => a.clone(),
                _ => Resolved::Unknown,
            };
        }
        let normal = normalize_skill_name(&folded);
        let words = words_of(&normal);
        if words.is_empty() {
            return Resolved::Unknown;
        }
        let mut exact: Vec<usize> = Vec::new();
        let mut prefix: Vec<usize> = Vec::new();
        for n in &self.names {
            if n.words.len() == words.len() && n.words.iter().zip(&words).all(|(a, b)| a == b) {
                exact.push(n.skill);
            } else if words.len() <= n.words.len()
                && words
                    .iter()
                    .zip(n.words.iter())
                    .all(|(w, c)| c.starts_with(*w))
            {
                prefix.push(n.skill);
            }
        }
        // One letter is too little to name a skill: `I - 3` is not
        // `influence`, though `D: 4` is still reported as ambiguous.
        let one_letter = words.len() == 1 && words[0].chars().count() == 1;
        if exact.is_empty() && one_letter {
            prefix.sort_unstable();
            prefix.dedup();
            if prefix.len() < 2 {
                return Resolved::Unknown;
            }
        }
        let pick = if exact.is_empty() { prefix } else { exact };
        let mut skills: Vec<usize> = pick;
        skills.sort_unstable();
        skills.dedup();
        match skills.as_slice() {
            [] => Resolved::Unknown,
            [one] => Resolved::Skill(self.keys[*one].clone()),
            many => Resolved::Ambiguous(many.iter().map(|i| self.keys[*i].clone()).collect()),
        }
    }

    /// True when `line` would be read as an answer (valid or not).
    pub fn is_answer(&self, line: &str) -> bool {
        !matches!(parse_line(line, self, None), Line::Note)
    }
}

/// The value written after a label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Score(u8),
    /// `n/a`, `-`, `skip`: skipped on purpose.
    Skip,
    /// A whole number outside 1–5.
    OutOfRange(String),
    /// `3.5`, `3,5`.
    Fraction(String),
    /// `4/10`: another scale.
    OtherScale(String),
}

/// What one line is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    Answer {
        skill: String,
        value: Value,
        comment: Option<String>,
    },
    /// Looks like an answer but names no single skill.
    Problem {
        reason: String,
    },
    Note,
}

/// Removes bullets, list numbers and emphasis markers around a label.
fn strip_decoration(line: &str) -> String {
    let mut s = line.trim();
    loop {
        let before = s;
        for b in ["- ", "* ", "• ", "· ", "– ", "+ ", "‣ ", "◦ ", "▪ "] {
            if let Some(rest) = s.strip_prefix(b) {
                s = rest.trim_start();
            }
        }
        // `1. Delivery: 4` / `2) Data - 3`
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        if (1..=2).contains(&digits) {
            let after = &s[digits..];
            if let Some(rest) = after
                .strip_prefix(". ")
                .or_else(|| after.strip_prefix(") "))
            {
                let rest = rest.trim_start();
                if rest
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '*' || c == '_')
                {
                    s = rest;
                }
            }
        }
        if s == before {
            break;
        }
    }
    s.replace(['*', '\u{200b}'], "")
}

/// Parses a value at the start of `s`: the value and the rest of the line.
fn parse_value(s: &str) -> Option<(Value, &str)> {
    let s = s.trim_start();
    for word in ["n/a", "n.a.", "skip", "na"] {
        if let Some(head) = s.get(..word.len())
            && head.eq_ignore_ascii_case(word)
        {
            let rest = &s[word.len()..];
            if rest.chars().next().is_none_or(|c| !c.is_alphanumeric()) {
                return Some((Value::Skip, rest));
            }
        }
    }
    for dash in ['-', '–', '—'] {
        if let Some(rest) = s.strip_prefix(dash) {
            if rest.trim().is_empty() {
                return Some((Value::Skip, ""));
            }
            if rest.starts_with(' ') && !rest.trim_start().starts_with(|c: char| c.is_ascii_digit())
            {
                return Some((Value::Skip, rest));
            }
            return None;
        }
    }
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 3 {
        return None;
    }
    let mut end = digits;
    let mut fraction = false;
    let bytes = s.as_bytes();
    if matches!(bytes.get(end), Some(b'.') | Some(b','))
        && bytes.get(end + 1).is_some_and(u8::is_ascii_digit)
    {
        end += 1;
        end += s[end..].bytes().take_while(u8::is_ascii_digit).count();
        fraction = true;
    }
    let number = &s[..end];
    let mut rest = &s[end..];
    // Not a number but the start of a word: `4th`, `3x`, `2026-11-20`.
    if rest.chars().next().is_some_and(|c| {
        c.is_alphanumeric() || c == '-' && rest[1..].starts_with(|c: char| c.is_ascii_digit())
    }) {
        return None;
    }
    let mut scale: Option<&str> = None;
    let t = rest.trim_start();
    if let Some(after) = t.strip_prefix('/') {
        let after = after.trim_start();
        let n = after.bytes().take_while(u8::is_ascii_digit).count();
        if n > 0 {
            scale = Some(&after[..n]);
            rest = &after[n..];
        }
    } else {
        for phrase in ["out of ", "sur ", "von ", "de ", "su ", "op ", "av "] {
            if let Some(head) = t.get(..phrase.len())
                && head.eq_ignore_ascii_case(phrase)
            {
                let after = &t[phrase.len()..];
                let n = after.bytes().take_while(u8::is_ascii_digit).count();
                if n > 0
                    && after[n..]
                        .chars()
                        .next()
                        .is_none_or(|c| !c.is_alphanumeric())
                {
                    scale = Some(&after[..n]);
                    rest = &after[n..];
                }
                break;
            }
        }
    }
    let shown = match scale {
        Some(sc) => format!("{number}/{sc}"),
        None => number.to_string(),
    };
    if let Some(sc) = scale
        && sc != "5"
    {
        return Some((Value::OtherScale(shown), rest));
    }
    if fraction {
        return Some((Value::Fraction(shown), rest));
    }
    match number.parse::<u32>() {
        Ok(n @ 1..=5) => Some((Value::Score(n as u8), rest)),
        _ => Some((Value::OutOfRange(shown), rest)),
    }
}

/// The comment after a value, without the punctuation that introduces it.
fn comment_of(rest: &str) -> Option<String> {
    let t = rest
        .trim()
        .trim_start_matches(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    '-' | '–' | '—' | ',' | ';' | ':' | '.' | '|' | '<' | '=' | '>'
                )
        })
        .trim();
    let t = if t.starts_with('(') && t.ends_with(')') && t.matches('(').count() == 1 {
        &t[1..t.len() - 1]
    } else {
        t
    };
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Whether `rest` is a tidy end of an answer line: nothing, or a comment
/// introduced by punctuation. `Note: 3 people left` is prose; `Foo: 3 (x)` is
/// an answer to an unknown skill.
fn tidy_end(rest: &str) -> bool {
    let t = rest.trim();
    t.is_empty() || t.starts_with(['(', '-', '–', '—', ',', ';', '.', '!'])
}

/// Classifies one line. `prompt` is the quoted skill prompt the line sits
/// right under, if any.
pub fn parse_line(line: &str, lex: &Lexicon, prompt: Option<&str>) -> Line {
    if line.len() > MAX_ANSWER_LINE {
        return Line::Note;
    }
    // Full-width digits and colons from Asian input methods, narrow and
    // no-break spaces from French typography: compatibility forms → plain.
    let normalized: String;
    let line = if line.is_ascii() {
        line
    } else {
        normalized = line.nfkc().collect();
        &normalized
    };
    let s = strip_decoration(line);
    let s = s.trim();
    if s.is_empty() {
        return Line::Note;
    }
    if let Some(prompt) = prompt
        && let Some((value, rest)) = parse_value(s)
        && (matches!(value, Value::Score(_)) || tidy_end(rest) || rest.trim().is_empty())
        && let Resolved::Skill(skill) = lex.resolve(prompt.trim_end_matches([':', '：', ' ']))
    {
        return Line::Answer {
            skill,
            value,
            comment: comment_of(rest),
        };
    }
    // The label runs up to the separator or the value.
    let mut label_end = s.len();
    let mut sep_explicit = false;
    let mut value_start = s.len();
    let mut prev: Option<char> = None;
    for (i, c) in s.char_indices() {
        let next = s[i + c.len_utf8()..].chars().next();
        let is_sep = match c {
            ':' | '：' | '=' | '–' | '—' => true,
            // A hyphen inside a word (`e-mail`, `tech-fluency`) is part of it.
            '-' => {
                !(prev.is_some_and(char::is_alphanumeric)
                    && next.is_some_and(char::is_alphanumeric))
            }
            _ => false,
        };
        if is_sep {
            label_end = i;
            sep_explicit = true;
            let mut j = i + c.len_utf8();
            // `:=`, `: -`, `::`
            while let Some(n) = s[j..].chars().next() {
                if n == ' ' || ((n == ':' || n == '=') && j == i + c.len_utf8()) {
                    j += n.len_utf8();
                } else {
                    break;
                }
            }
            value_start = j;
            break;
        }
        if c.is_ascii_digit() {
            if prev == Some(' ') || prev == Some('\t') {
                label_end = i;
                value_start = i;
            }
            break;
        }
        let label_char = c.is_alphabetic()
            || matches!(
                c,
                ' ' | '\t' | '&' | '\'' | '’' | '.' | '(' | ')' | '_' | '+' | '/' | '-'
            );
        if !label_char {
            break;
        }
        prev = Some(c);
    }
    if value_start >= s.len() && !sep_explicit {
        return Line::Note;
    }
    let label = s[..label_end].trim().trim_matches('_').trim();
    if label.is_empty()
        || !label.chars().next().is_some_and(char::is_alphabetic)
        || label.split_whitespace().count() > MAX_LABEL_WORDS
    {
        return Line::Note;
    }
    let Some((value, rest)) = parse_value(&s[value_start..]) else {
        return Line::Note;
    };
    match lex.resolve(label) {
        Resolved::Skill(skill) => {
            // With only a space between, insist on a real word: `A 3 hour
            // meeting` must not score `alignment`.
            if !sep_explicit && fold(label).chars().count() < 3 {
                return Line::Note;
            }
            if !sep_explicit && !matches!(value, Value::Score(_)) && !tidy_end(rest) {
                return Line::Note;
            }
            Line::Answer {
                skill,
                value,
                comment: comment_of(rest),
            }
        }
        Resolved::Ambiguous(keys) if sep_explicit && tidy_end(rest) => {
            let names: Vec<&str> = keys.iter().map(|k| lex.display(k)).collect();
            Line::Problem {
                reason: format!(
                    "“{label}” could be {} — write more of the skill's name",
                    join_or(&names)
                ),
            }
        }
        Resolved::Unknown
            if sep_explicit
                && tidy_end(rest)
                && label.split_whitespace().count() <= 3
                && !matches!(value, Value::Skip) =>
        {
            Line::Problem {
                reason: format!(
                    "“{label}” is not a skill on the form — use one of: {}",
                    lex.display.join(", ")
                ),
            }
        }
        _ => Line::Note,
    }
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// What the PM's lines say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answers {
    pub scores: BTreeMap<String, u8>,
    pub skipped: Vec<String>,
    /// A comment written after a valid score or skip, by skill.
    pub comments: BTreeMap<String, String>,
    pub invalid: Vec<Invalid>,
    /// Lines that are not answers, blank runs collapsed; empty when none.
    pub note: String,
    /// How many lines were read as answers (valid or not).
    pub answer_lines: usize,
}

/// Reads the PM's own lines.
pub fn read(lines: &[OwnLine], lex: &Lexicon) -> Answers {
    struct Given {
        at: usize,
        line: String,
        skill: String,
        value: Value,
        comment: Option<String>,
    }
    let mut out = Answers::default();
    // Problems keyed by line position, so they come back in the PM's order.
    let mut problems: Vec<(usize, Invalid)> = Vec::new();
    let mut given: Vec<Given> = Vec::new();
    let mut note_lines: Vec<&str> = Vec::new();
    for (at, l) in lines.iter().enumerate() {
        match parse_line(&l.text, lex, l.prompt.as_deref()) {
            Line::Answer {
                skill,
                value,
                comment,
            } => {
                out.answer_lines += 1;
                given.push(Given {
                    at,
                    line: l.display(),
                    skill,
                    value,
                    comment,
                });
            }
            Line::Problem { reason } => {
                out.answer_lines += 1;
                if l.from_quote {
                    // Someone else's line in the quoted form: not the PM's.
                    out.answer_lines -= 1;
                    continue;
                }
                problems.push((
                    at,
                    Invalid {
                        line: l.display(),
                        reason,
                    },
                ));
            }
            Line::Note => {
                if !l.from_quote {
                    note_lines.push(l.text.trim_end());
                }
            }
        }
    }
    // One value per skill; different values for one skill cancel each other.
    let mut by_skill: BTreeMap<&str, Vec<&Given>> = BTreeMap::new();
    for g in &given {
        by_skill.entry(g.skill.as_str()).or_default().push(g);
    }
    let mut conflicted: Vec<&str> = Vec::new();
    for (skill, gs) in &by_skill {
        let valid: Vec<&Value> = gs
            .iter()
            .map(|g| &g.value)
            .filter(|v| matches!(v, Value::Score(_) | Value::Skip))
            .collect();
        let first = valid.first();
        if let Some(first) = first
            && valid.iter().any(|v| v != first)
        {
            conflicted.push(skill);
        }
    }
    for g in &given {
        let name = lex.display(&g.skill);
        if conflicted.contains(&g.skill.as_str()) {
            if matches!(g.value, Value::Score(_) | Value::Skip) {
                problems.push((
                    g.at,
                    Invalid {
                        line: g.line.clone(),
                        reason: format!(
                            "{name} has two different answers in this reply — reply with just one line for it"
                        ),
                    },
                ));
            }
            continue;
        }
        match &g.value {
            Value::Score(n) => {
                out.scores.insert(g.skill.clone(), *n);
                if let Some(c) = &g.comment {
                    out.comments.entry(g.skill.clone()).or_insert_with(|| c.clone());
                }
            }
            Value::Skip => {
                if !out.skipped.contains(&g.skill) {
                    out.skipped.push(g.skill.clone());
                }
                if let Some(c) = &g.comment {
                    out.comments.entry(g.skill.clone()).or_insert_with(|| c.clone());
                }
            }
            Value::OutOfRange(v) => problems.push((g.at, Invalid {
                line: g.line.clone(),
                reason: format!(
                    "{name}: {v} is not a score from 1 to 5 — reply with a corrected line"
                ),
            })),
            Value::Fraction(v) => problems.push((g.at, Invalid {
                line: g.line.clone(),
                reason: format!(
                    "{name}: {v} is not a whole number — scores are 1, 2, 3, 4 or 5; reply with a corrected line"
                ),
            })),
            Value::OtherScale(v) => problems.push((g.at, Invalid {
                line: g.line.clone(),
                reason: format!(
                    "{name}: {v} is on another scale — scores are from 1 to 5; reply with a corrected line"
                ),
            })),
        }
    }
    // A skill both scored validly elsewhere and given an invalid value keeps
    // the valid score; the invalid line is still reported.
    problems.sort_by_key(|(at, _)| *at);
    out.invalid = problems.into_iter().map(|(_, p)| p).collect();
    out.note = collapse(&note_lines);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn lex() -> Lexicon {
        let f = Framework::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/framework.toml"
        )))
        .unwrap();
        Lexicon::new(&f)
    }

    fn score(line: &str) -> Option<(String, u8)> {
        match parse_line(line, &lex(), None) {
            Line::Answer {
                skill,
                value: Value::Score(n),
                ..
            } => Some((skill, n)),
            _ => None,
        }
    }

    #[test]
    fn design_examples_parse() {
        assert_eq!(
            score("Stakeholder management: 2"),
            Some(("stakeholders".into(), 2))
        );
        assert_eq!(
            score("stakeholders - 2/5"),
            Some(("stakeholders".into(), 2))
        );
        assert_eq!(
            score("Delivery = 4 (shipped the beta)"),
            Some(("delivery".into(), 4))
        );
        assert_eq!(score("Comm: 3"), Some(("communication".into(), 3)));
        assert_eq!(
            score("Execution & delivery – 5"),
            Some(("delivery".into(), 5))
        );
        assert_eq!(score("Data & analytics 3"), Some(("data".into(), 3)));
        assert_eq!(score("**Tech fluency**: 4"), Some(("technical".into(), 4)));
        assert_eq!(
            score("- Leadership: 3 out of 5"),
            Some(("leadership".into(), 3))
        );
        assert_eq!(
            score("Product strategy (strategy): 4"),
            Some(("strategy".into(), 4))
        );
    }

    #[test]
    fn accents_and_case_do_not_matter() {
        assert_eq!(score("COMMUNICATION: 2"), Some(("communication".into(), 2)));
        assert_eq!(fold("Élan Stratégie"), "elan strategie");
    }

    #[test]
    fn single_letter_shared_by_skills_is_ambiguous() {
        match parse_line("D: 4", &lex(), None) {
            Line::Problem { reason } => assert!(reason.contains("could be"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn prose_with_numbers_is_a_note() {
        for l in [
            "I had 3 meetings with sales",
            "Note: 3 people left the team",
            "A 3 hour workshop",
            "Week 3 was hard",
            "On 2026-11-20 we shipped",
            "Delivery was great this week",
        ] {
            assert_eq!(parse_line(l, &lex(), None), Line::Note, "{l}");
        }
    }

    #[test]
    fn out_of_range_fraction_and_scale_are_values_not_scores() {
        let l = lex();
        for (line, v) in [
            ("Delivery: 7", Value::OutOfRange("7".into())),
            ("Delivery: 0", Value::OutOfRange("0".into())),
            ("Delivery: 3.5", Value::Fraction("3.5".into())),
            ("Delivery: 8/10", Value::OtherScale("8/10".into())),
            ("Delivery: n/a", Value::Skip),
            ("Delivery: -", Value::Skip),
        ] {
            match parse_line(line, &l, None) {
                Line::Answer { value, .. } => assert_eq!(value, v, "{line}"),
                other => panic!("{line}: {other:?}"),
            }
        }
    }

    #[test]
    fn bare_score_under_prompt_answers_it() {
        assert_eq!(
            parse_line(
                "4 roadmap agreed",
                &lex(),
                Some("Product strategy (strategy):")
            ),
            Line::Answer {
                skill: "strategy".into(),
                value: Value::Score(4),
                comment: Some("roadmap agreed".into())
            }
        );
    }
}
