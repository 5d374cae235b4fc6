//! The answer grammar: a PM's own lines → scores, skips, comments and the
//! problems to report back, plus the note (every line that is not an answer).
//!
//! An answer names a skill by name, key, alias or unambiguous word prefix
//! (compared in [`normalize_skill_name`]'s normal form) and gives one value:
//! a score `1`–`5` (digits, `/5`, `out of 5`, a number word in a supported
//! language, stars, a keycap emoji), or a skip (`n/a`, `skip`, `-`). Shapes:
//! `<skill> <separator> <value> [comment]` (separators `:`, `-`, `=`, `–`,
//! `—` or spaces; bullets and emphasis ignored), `<value> <separator>
//! <skill>`, `<value> for <skill>`, `<skill> was a <value>`, `I'd give
//! <skill> a <value>`, table rows (`│`, `|`, tab), several answers on one
//! line (`,` `;`), a default for every skill not answered otherwise with its
//! exceptions (`4 across the board, except data 2`), a bare numbered list
//! with one item per skill, and a bare score right under a quoted prompt.
//!
//! Never guesses: anything that looks like an answer but is not one clean
//! value (a range, `2 or 3`, `?`, two scores, a fraction, another scale, a
//! number beyond five) is reported with the PM's line and a reason in plain
//! words, and nothing is stored for it; a number followed by a unit
//! (`2 weeks`, `3 of them`) is a count, not a score.
//!
//! Owns what counts as an answer and the words used to explain a rejected
//! line. Never sees headers or quotes (`quotes` removes those first), never
//! fails: bad lines come back as [`Invalid`] values, not errors.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use unicode_normalization::UnicodeNormalization;

use super::Invalid;
use super::text::{OwnLine, fold_eq};
pub use super::text::{collapse, fold};
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
    /// Indices into `names` by the first character of their first word:
    /// a label is only ever compared with names it could start.
    by_initial: std::collections::HashMap<char, Vec<usize>>,
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
        let mut by_initial: std::collections::HashMap<char, Vec<usize>> = Default::default();
        for (i, n) in names.iter().enumerate() {
            if let Some(c) = n.words.first().and_then(|w| w.chars().next()) {
                by_initial.entry(c).or_default().push(i);
            }
        }
        Lexicon {
            keys,
            display,
            names,
            by_initial,
        }
    }

    /// The names whose first word starts with the first character of `word`.
    fn candidates(&self, word: &str) -> impl Iterator<Item = &Name> {
        word.chars()
            .next()
            .and_then(|c| self.by_initial.get(&c))
            .into_iter()
            .flatten()
            .map(|&i| &self.names[i])
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
        let label = label.trim();
        if !(label.contains('(') || label.contains('/')) {
            return self.resolve_words(&normalize_skill_name(label));
        }
        let folded = fold(label);
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
        self.resolve_words(&normalize_skill_name(&folded))
    }

    /// [`Lexicon::resolve`] for a label in normal form.
    fn resolve_words(&self, normal: &str) -> Resolved {
        let words = words_of(normal);
        if words.is_empty() {
            return Resolved::Unknown;
        }
        let mut exact: Vec<usize> = Vec::new();
        let mut prefix: Vec<usize> = Vec::new();
        for n in self.candidates(words[0]) {
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

    /// Whether the first word of `s` could begin a skill's name: a cheap
    /// test before looking for a label in prose.
    fn may_start_label(&self, s: &str) -> bool {
        let Some(first) = s.split_whitespace().next() else {
            return false;
        };
        let first = normalize_skill_name(first);
        let Some(first) = first.split(' ').next() else {
            return false;
        };
        !first.is_empty()
            && self
                .candidates(first)
                .any(|n| n.words.first().is_some_and(|w| w.starts_with(first)))
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
    /// A whole number outside 1–5 (`7`, `0`, `six`).
    OutOfRange(String),
    /// `3.5`, `3,5`, `3½`.
    Fraction(String),
    /// `4/10`: another scale.
    OtherScale(String),
    /// Not one clean score: a range (`3-4`, `2 or 3`, `3/4`), a question
    /// mark, or two scores (`3 4`). Never stored, never guessed.
    Unclear(String),
}

impl Value {
    fn is_valid(&self) -> bool {
        matches!(self, Value::Score(_) | Value::Skip)
    }
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
    /// `4 across the board`: the value of every skill of the form that the
    /// reply does not answer otherwise.
    Default {
        value: Value,
    },
    /// Several answers on one line (`Strategy 4, discovery 3`), or a
    /// default with its exceptions.
    Many(Vec<Line>),
    Note,
}

/// Number words, folded, in the languages the quote stripper knows. Words
/// beyond five are read so they can be refused, never guessed at.
const NUMBER_WORDS: &[(&str, u8)] = &[
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("un", 1),
    ("une", 1),
    ("deux", 2),
    ("trois", 3),
    ("quatre", 4),
    ("cinq", 5),
    ("sept", 7),
    ("huit", 8),
    ("neuf", 9),
    ("dix", 10),
    ("null", 0),
    ("eins", 1),
    ("ein", 1),
    ("eine", 1),
    ("zwei", 2),
    ("drei", 3),
    ("vier", 4),
    ("funf", 5),
    ("sechs", 6),
    ("sieben", 7),
    ("acht", 8),
    ("neun", 9),
    ("zehn", 10),
    ("cero", 0),
    ("uno", 1),
    ("una", 1),
    ("dos", 2),
    ("tres", 3),
    ("cuatro", 4),
    ("cinco", 5),
    ("seis", 6),
    ("siete", 7),
    ("ocho", 8),
    ("nueve", 9),
    ("diez", 10),
    ("due", 2),
    ("tre", 3),
    ("quattro", 4),
    ("cinque", 5),
    ("sei", 6),
    ("sette", 7),
    ("otto", 8),
    ("nove", 9),
    ("dieci", 10),
    ("um", 1),
    ("uma", 1),
    ("dois", 2),
    ("duas", 2),
    ("sete", 7),
    ("oito", 8),
    ("dez", 10),
    ("nul", 0),
    ("een", 1),
    ("twee", 2),
    ("drie", 3),
    ("vijf", 5),
    ("zes", 6),
    ("zeven", 7),
    ("negen", 9),
    ("tien", 10),
    ("noll", 0),
    ("en", 1),
    ("ett", 1),
    ("tva", 2),
    ("fyra", 4),
    ("fem", 5),
    ("sex", 6),
    ("sju", 7),
    ("atta", 8),
    ("nio", 9),
    ("tio", 10),
    ("jeden", 1),
    ("jedna", 1),
    ("dwa", 2),
    ("trzy", 3),
    ("cztery", 4),
    ("piec", 5),
    ("szesc", 6),
    ("siedem", 7),
    ("osiem", 8),
    ("dziewiec", 9),
    ("dziesiec", 10),
    ("ноль", 0),
    ("один", 1),
    ("одна", 1),
    ("два", 2),
    ("три", 3),
    ("четыре", 4),
    ("пять", 5),
    ("шесть", 6),
    ("семь", 7),
    ("восемь", 8),
    ("девять", 9),
    ("десять", 10),
    ("零", 0),
    ("一", 1),
    ("二", 2),
    ("三", 3),
    ("四", 4),
    ("五", 5),
    ("六", 6),
    ("七", 7),
    ("八", 8),
    ("九", 9),
    ("十", 10),
];

/// Words that say "or"/"to" between two numbers: `2 or 3` is a range.
const RANGE_WORDS: &[&str] = &[
    "or", "to", "ou", "a", "oder", "bis", "o", "hasta", "oppure", "of", "tot", "eller", "till",
    "lub", "albo", "do", "или", "до", "maybe", "or maybe", "perhaps",
];

/// Words after a number that make it a count, not a score (`2 weeks`,
/// `3 people`, `met 3 of them`).
const UNIT_WORDS: &[&str] = &[
    "week",
    "weeks",
    "wk",
    "wks",
    "day",
    "days",
    "hour",
    "hours",
    "hr",
    "hrs",
    "h",
    "min",
    "mins",
    "minutes",
    "month",
    "months",
    "people",
    "person",
    "persons",
    "meeting",
    "meetings",
    "call",
    "calls",
    "times",
    "tickets",
    "bugs",
    "stories",
    "points",
    "pts",
    "sprint",
    "sprints",
    "customer",
    "customers",
    "interviews",
    "users",
    "of",
    "x",
    "%",
    "semaine",
    "semaines",
    "jour",
    "jours",
    "heures",
    "personnes",
    "reunions",
    "woche",
    "wochen",
    "tage",
    "tagen",
    "stunden",
    "leute",
    "semanas",
    "dias",
    "horas",
    "personas",
    "settimane",
    "giorni",
    "ore",
    "persone",
    "weken",
    "dagen",
    "uur",
    "mensen",
    "veckor",
    "dagar",
    "timmar",
    "tygodnie",
    "tygodni",
    "dni",
    "godzin",
    "недели",
    "недель",
    "дней",
    "дня",
    "часов",
    "человек",
];

/// Phrases after a score that still leave it a score (`a 2 this week`).
const SOFT_TAILS: &[&str] = &[
    "this week",
    "for this week",
    "this time",
    "overall",
    "today",
    "again",
    "for me",
    "cette semaine",
    "diese woche",
    "esta semana",
    "questa settimana",
    "deze week",
    "denna vecka",
    "w tym tygodniu",
    "на этой неделе",
    "今週",
    "本周",
];

/// Words between a skill and its score: `Strategy was a 3`, `data which is
/// a 2`, `Stratégie est à 4`. Longest first.
const CONNECTORS: &[&str] = &[
    " which was a",
    " which is an",
    " which is a",
    " which is",
    " that is a",
    " deserves a",
    " was an",
    " was at",
    " is an",
    " is at",
    " are at",
    " was a",
    " is a",
    " gets a",
    " got a",
    " get a",
    " were",
    " was",
    " are",
    " is",
    " at",
    "'s a",
    "'s",
    " etait a",
    " est a",
    " etait",
    " c'est",
    " est",
    " vaut",
    " war eine",
    " ist eine",
    " war",
    " ist",
    " bei",
    " fue un",
    " es un",
    " fue",
    " es",
    " era un",
    " e un",
    " era",
    " foi um",
    " e um",
    " foi",
    " was een",
    " is een",
    " var",
    " ar",
    " jest",
    " byl",
    " byla",
    " bylo",
    " было",
    " была",
    " был",
    " на",
];

/// How a PM starts `I'd give <skill> a 4`.
const GIVE_OPENERS: &[&str] = &[
    "i'd give ",
    "id give ",
    "i would give ",
    "i'll give ",
    "ill give ",
    "i give ",
    "giving ",
    "je donne ",
    "je mets ",
    "je mettrais ",
    "je donnerais ",
    "ich gebe ",
    "ich wurde ",
    "le doy ",
    "doy ",
    "darei ",
    "do ",
    "dou ",
    "ik geef ",
    "jag ger ",
    "daje ",
    "даю ",
    "ставлю ",
    "поставлю ",
];
/// Articles between `give <skill>` and the score.
const ARTICLES: &[&str] = &[
    "a ", "an ", "un ", "une ", "eine ", "einen ", "een ", "ett ", "en ", "um ", "uma ", "una ",
    "uno ",
];
/// `4 for strategy`: the word between a leading score and the skill.
const FOR_WORDS: &[&str] = &[
    "for ", "on ", "pour ", "fur ", "para ", "per ", "voor ", "dla ", "за ", "in ",
];

/// `4 across the board, except data 2`: phrases that make a score the
/// default of every skill not answered otherwise. The score comes before
/// (`…_AFTER`: the phrase follows it) or after (`…_BEFORE`).
const DEFAULT_AFTER: &[&str] = &[
    "across the board",
    "for everything else",
    "for everything",
    "for all skills",
    "for all the rest",
    "for the rest",
    "for all others",
    "for the others",
    "for all",
    "on everything",
    "everywhere",
    "all round",
    "all around",
    "partout",
    "pour tout le reste",
    "pour tout",
    "pour le reste",
    "uberall",
    "fur alles",
    "fur den rest",
    "en todo",
    "para todo",
    "para el resto",
    "su tutto",
    "per tutto",
    "per il resto",
    "em tudo",
    "para tudo",
    "para o resto",
    "overal",
    "voor alles",
    "voor de rest",
    "pa allt",
    "overallt",
    "for resten",
    "za wszystko",
    "za reszte",
    "за всё",
    "за все",
    "за остальное",
];
const DEFAULT_BEFORE: &[&str] = &[
    "everything else",
    "everything",
    "all skills",
    "all the rest",
    "all others",
    "all other skills",
    "the rest",
    "rest",
    "all",
    "tout le reste",
    "tout",
    "le reste",
    "alles andere",
    "alles",
    "der rest",
    "rest",
    "todo lo demas",
    "todo",
    "el resto",
    "tutto il resto",
    "tutto",
    "il resto",
    "tudo",
    "o resto",
    "de rest",
    "allt",
    "resten",
    "wszystko",
    "reszta",
    "всё остальное",
    "все остальное",
    "всё",
    "все",
    "остальное",
];
/// Words that introduce the exceptions to a default. Lowercase as written.
const EXCEPT_WORDS: &[&str] = &[
    "except for",
    "except",
    "apart from",
    "other than",
    "besides",
    "but",
    "save for",
    "sauf",
    "excepté",
    "excepte",
    "hormis",
    "à part",
    "a part",
    "außer",
    "ausser",
    "bis auf",
    "ausgenommen",
    "excepto",
    "salvo",
    "menos",
    "tranne",
    "eccetto",
    "exceto",
    "behalve",
    "utom",
    "förutom",
    "forutom",
    "oprócz",
    "oprocz",
    "poza",
    "z wyjątkiem",
    "кроме",
    "за исключением",
];
/// Words that join exceptions: `except data and tech 2`.
const AND_WORDS: &[&str] = &[
    " and ", " & ", " et ", " und ", " y ", " e ", " en ", " och ", " og ", " i ", " и ",
];

fn star(c: char) -> Option<bool> {
    match c {
        '★' | '⭐' | '✭' | '✮' | '✯' | '🌟' | '✪' => Some(true),
        '☆' | '✩' | '✰' => Some(false),
        _ => None,
    }
}

/// `s` starts with `prefix` (folded, lowercase), ignoring case and accents;
/// the rest of `s` after it.
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    // A leading ASCII letter stays itself (lowercased) when folded: the
    // first bytes must agree.
    if let (Some(a), Some(b)) = (s.as_bytes().first(), prefix.as_bytes().first())
        && a.is_ascii()
        && !a.eq_ignore_ascii_case(b)
    {
        return None;
    }
    if prefix.is_ascii() {
        let head = s.get(..prefix.len());
        if let Some(head) = head
            && head.is_ascii()
        {
            return head
                .eq_ignore_ascii_case(prefix)
                .then(|| &s[prefix.len()..]);
        }
        if s.len() < prefix.len() || s.is_ascii() {
            return None;
        }
        // Folding keeps leading ASCII letters in place (lowercased): they
        // must already match.
        let ascii = s.bytes().take_while(u8::is_ascii).count().min(prefix.len());
        if !s.as_bytes()[..ascii].eq_ignore_ascii_case(&prefix.as_bytes()[..ascii]) {
            return None;
        }
    }
    let n = prefix.chars().count();
    let end = s.char_indices().nth(n).map_or(s.len(), |(i, _)| i);
    // An ASCII head folds to ASCII: never a prefix with other letters.
    if !prefix.is_ascii() && s.as_bytes()[..end].is_ascii() {
        return None;
    }
    if s[..end].chars().count() == n && fold_eq(&s[..end], prefix) {
        Some(&s[end..])
    } else {
        None
    }
}

/// `s` ends with `suffix` (folded), ignoring case and accents; what comes
/// before it.
fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    if suffix.is_ascii()
        && let Some(start) = s.len().checked_sub(suffix.len())
        && let Some(tail) = s.get(start..)
        && tail.is_ascii()
    {
        return tail.eq_ignore_ascii_case(suffix).then(|| &s[..start]);
    }
    // Folding keeps a trailing ASCII letter in place (lowercased).
    if let (Some(&last), Some(&want)) = (s.as_bytes().last(), suffix.as_bytes().last())
        && last.is_ascii()
        && last.to_ascii_lowercase() != want
    {
        return None;
    }
    let n = suffix.chars().count();
    let start = s
        .char_indices()
        .rev()
        .nth(n.checked_sub(1)?)
        .map(|(i, _)| i)?;
    fold_eq(&s[start..], suffix).then(|| &s[..start])
}

/// Whether `rest` (after a score) leaves it a score: nothing, a comment
/// introduced by punctuation, or a phrase such as `this week`.
fn soft_end(rest: &str) -> bool {
    if tidy_end(rest) {
        return true;
    }
    let t = rest.trim_start();
    SOFT_TAILS.iter().any(|p| {
        strip_prefix_ci(t, p).is_some_and(|r| r.chars().next().is_none_or(|c| !c.is_alphanumeric()))
    })
}

/// Whether the word after a number makes it a count (`2 weeks`).
fn unit_follows(rest: &str) -> bool {
    let t = rest.trim_start();
    if t.starts_with('%') {
        return true;
    }
    let word: String = t.chars().take_while(|c| c.is_alphanumeric()).collect();
    if word.is_empty() {
        return false;
    }
    let w = fold(&word);
    if w == "of" {
        // `3 of them` counts; `3 of 5` is a scale.
        let after = t[word.len()..].trim_start();
        return !after.starts_with(|c: char| c.is_ascii_digit());
    }
    UNIT_WORDS.contains(&w.as_str())
}

/// A number word at the start of `s`: its value, the word and the rest.
fn number_word(s: &str) -> Option<(u8, &str, &str)> {
    let end = s
        .char_indices()
        .find(|(_, c)| !c.is_alphabetic())
        .map_or(s.len(), |(i, _)| i);
    if end == 0 || end > 24 {
        return None;
    }
    let word = &s[..end];
    let found = if word.is_ascii() {
        // Lowercased on the stack: every word of a line is tried.
        let mut buf = [0u8; 24];
        let lower = &mut buf[..word.len()];
        lower.copy_from_slice(word.as_bytes());
        lower.make_ascii_lowercase();
        number_word_value(lower)
    } else {
        number_word_value(fold(word).as_bytes())
    };
    found.map(|n| (n, word, &s[end..]))
}

/// The value of a folded number word, looked up among the [`NUMBER_WORDS`]
/// of its length (they are all lowercase and distinct).
fn number_word_value(folded: &[u8]) -> Option<u8> {
    static BY_LEN: std::sync::LazyLock<Vec<Vec<(&'static str, u8)>>> =
        std::sync::LazyLock::new(|| {
            let longest = NUMBER_WORDS.iter().map(|(w, _)| w.len()).max();
            let mut by_len = vec![Vec::new(); longest.unwrap_or(0) + 1];
            for &(w, n) in NUMBER_WORDS {
                by_len[w.len()].push((w, n));
            }
            by_len
        });
    BY_LEN
        .get(folded.len())?
        .iter()
        .find(|(w, _)| w.bytes().zip(folded).all(|(a, b)| a == *b))
        .map(|(_, n)| *n)
}

/// A number (digits or a word) at the start of `s`, for range detection.
fn leading_number(s: &str) -> Option<(&str, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=3).contains(&digits) {
        let after = &s[digits..];
        if after.chars().next().is_some_and(char::is_alphanumeric) {
            return None;
        }
        return Some((&s[..digits], after));
    }
    number_word(s).map(|(_, w, rest)| (w, rest))
}

/// After a value: a second number that makes it a range or two scores
/// (`3-4`, `2 or 3`, `3, 4`, `3 4`), with the text it spans and the rest.
fn second_number(after: &str) -> Option<(usize, &str)> {
    // `3-4`, `3–4`, `3~4`; spaced (`3 - 4`) only when nothing follows.
    for j in ['-', '–', '—', '~'] {
        let joined = after.starts_with(j);
        let Some(r) = after.trim_start().strip_prefix(j) else {
            continue;
        };
        let r2 = r.trim_start();
        if let Some((_, rest)) = leading_number(r2) {
            let clean = rest.trim().is_empty() || rest.trim_start().starts_with('?');
            if joined || clean {
                return Some((after.len() - rest.len(), rest));
            }
        }
    }
    let t = after.trim_start();
    // `2 or 3`, `2 ou 3`, `2 bis 3`.
    for w in RANGE_WORDS {
        if let Some(r) = strip_prefix_ci(t, w)
            && r.starts_with(' ')
            && let Some((_, rest)) = leading_number(r.trim_start())
        {
            return Some((after.len() - rest.len(), rest));
        }
    }
    // `3, 4` / `3 4` with nothing after the second number (`3/4` is read
    // as a scale, then refused).
    let r = t.strip_prefix([',', ';']).unwrap_or(t).trim_start();
    if !r.is_empty()
        && after.starts_with([' ', ',', ';'])
        && let Some((n, rest)) = leading_number(r)
        && n.bytes().all(|b| b.is_ascii_digit())
        && (rest.trim().is_empty() || rest.trim_start().starts_with('?'))
    {
        let rest = rest.trim_start();
        let rest = rest.trim_start_matches('?');
        return Some((after.len() - rest.len(), rest));
    }
    None
}

/// Removes bullets, list numbers and emphasis markers around a label.
fn strip_decoration(line: &str) -> std::borrow::Cow<'_, str> {
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
    if s.contains('*') || s.contains('\u{200b}') {
        std::borrow::Cow::Owned(s.replace(['*', '\u{200b}'], ""))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Parses a value at the start of `s`: the value and the rest of the line.
fn parse_value(s: &str) -> Option<(Value, &str)> {
    let s = s.trim_start();
    for word in ["n/a", "n.a.", "skipped", "skip", "na"] {
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
    // `?`, `??`: no score given, and no guess made.
    if s.starts_with('?') {
        let q = s.bytes().take_while(|&b| b == b'?').count();
        return Some((Value::Unclear(s[..q].to_string()), &s[q..]));
    }
    // `★★★☆☆`: the filled stars are the score.
    if s.chars().next().and_then(star).is_some() {
        let mut filled = 0u32;
        let mut end = 0;
        for (i, c) in s.char_indices() {
            match star(c) {
                Some(f) => {
                    filled += u32::from(f);
                    end = i + c.len_utf8();
                }
                None if c == ' ' || c == '\u{fe0f}' => {}
                None => break,
            }
        }
        let shown = s[..end].to_string();
        let rest = &s[end..];
        return Some(match filled {
            n @ 1..=5 => (Value::Score(n as u8), rest),
            _ => (Value::OutOfRange(shown), rest),
        });
    }
    if let Some((n, word, rest)) = number_word(s) {
        if let Some((len, rest2)) = second_number(rest) {
            return Some((
                Value::Unclear(s[..word.len() + len].trim().to_string()),
                rest2,
            ));
        }
        if !soft_end(rest) {
            return None;
        }
        return Some(match n {
            1..=5 => (Value::Score(n), rest),
            _ => (Value::OutOfRange(word.to_string()), rest),
        });
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
    if !fraction && let Some((len, rest2)) = second_number(rest) {
        return Some((Value::Unclear(s[..end + len].trim().to_string()), rest2));
    }
    // `3?`: unsure, so not a score.
    if rest.starts_with('?') {
        let q = rest.bytes().take_while(|&b| b == b'?').count();
        return Some((Value::Unclear(s[..end + q].to_string()), &rest[q..]));
    }
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
        // `3/4` is a range or a fraction; `8/10` another scale.
        let small = sc.parse::<u32>().is_ok_and(|d| d < 5);
        if small && !fraction {
            return Some((Value::Unclear(shown), rest));
        }
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
                    '-' | '–' | '—' | ',' | ';' | ':' | '.' | '|' | '<' | '=' | '>' | '│'
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
    t.is_empty() || t.starts_with(['(', '-', '–', '—', ',', ';', '.', '!', '|', '│'])
}

/// Compatibility forms → plain, keycap emoji → digits, `½` → `.5`.
fn normalize_line(line: &str) -> std::borrow::Cow<'_, str> {
    if line.is_ascii() {
        return std::borrow::Cow::Borrowed(line);
    }
    // Already plain: nothing to replace, and in NFKC.
    if !line.contains(['½', '¼', '¾', '\u{fe0f}', '\u{20e3}'])
        && unicode_normalization::is_nfkc_quick(line.chars())
            == unicode_normalization::IsNormalized::Yes
    {
        return std::borrow::Cow::Borrowed(line);
    }
    let cleaned: String = line
        .replace('½', ".5")
        .replace('¼', ".25")
        .replace('¾', ".75")
        .replace(['\u{fe0f}', '\u{20e3}'], "");
    // Full-width digits and colons from Asian input methods, narrow and
    // no-break spaces from French typography: compatibility forms → plain.
    std::borrow::Cow::Owned(cleaned.nfkc().collect())
}

/// Whether `s` holds something [`parse_value`] could read: a digit, `?`, a
/// dash, a star, or a whole word that is a number word or a skip word, each
/// at the start of `s` or after a character that is not a letter. Every
/// answer needs a value, and a value is only ever read where a word starts
/// (after a separator, a space or a cell border), so a line without one is
/// a note and costs one pass to skip.
fn may_hold_value(s: &str) -> bool {
    // Signs first (one cheap pass), then words.
    let mut after_letter = false;
    for c in s.chars() {
        if !after_letter
            && (c.is_ascii_digit() || matches!(c, '?' | '-' | '–' | '—') || star(c).is_some())
        {
            return true;
        }
        after_letter = c.is_alphabetic();
    }
    let mut chars = s.char_indices().peekable();
    let mut after_letter = false;
    while let Some((i, c)) = chars.next() {
        if !c.is_alphabetic() {
            after_letter = false;
            continue;
        }
        if after_letter {
            continue;
        }
        after_letter = true;
        let mut end = s.len();
        while let Some(&(j, d)) = chars.peek() {
            if !d.is_alphabetic() {
                end = j;
                break;
            }
            chars.next();
        }
        let word = &s[i..end];
        if ["n", "na", "skip", "skipped"]
            .iter()
            .any(|w| w.eq_ignore_ascii_case(word))
            || number_word(word).is_some()
        {
            return true;
        }
    }
    false
}

/// Classifies one line. `prompt` is the quoted skill prompt the line sits
/// right under, if any.
pub fn parse_line(line: &str, lex: &Lexicon, prompt: Option<&str>) -> Line {
    if line.len() > MAX_ANSWER_LINE {
        return Line::Note;
    }
    let line = normalize_line(line);
    let s = strip_decoration(&line);
    let s = s.trim();
    if s.is_empty() || !may_hold_value(s) {
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
    if let Some(l) = parse_default(s, lex) {
        return l;
    }
    if let Some(l) = parse_many(s, lex) {
        return l;
    }
    match parse_one(s, lex) {
        Line::Note => parse_table_row(s, lex).unwrap_or(Line::Note),
        l => l,
    }
}

/// `Product strategy │ 4`, `| Data | 3 |`, `Delivery\t4\tshipped`: a table
/// row of a skill cell and a score cell (and perhaps a comment cell).
fn parse_table_row(s: &str, lex: &Lexicon) -> Option<Line> {
    if !(s.contains('|') || s.contains('\t') || s.contains('│') || s.contains('┃')) {
        return None;
    }
    let cells: Vec<&str> = s
        .split(['│', '|', '\t', '┃'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    if cells.len() < 2 || cells.len() > 4 {
        return None;
    }
    let mut row = format!("{}: {}", cells[0], cells[1]);
    if cells.len() > 2 {
        row.push_str(" - ");
        row.push_str(&cells[2..].join(" "));
    }
    match parse_one(&row, lex) {
        l @ Line::Answer { .. } => Some(l),
        _ => None,
    }
}

/// Several answers on one line, split at `;` and `,` (never inside `3,5`
/// or brackets). Counts only when two or more parts are answers; a part
/// that is not one is the comment of the answer before it.
fn parse_many(s: &str, lex: &Lexicon) -> Option<Line> {
    if !(s.contains(',') || s.contains(';')) {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let bytes = s.as_bytes();
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ';' | ',' if depth <= 0 => {
                let between_digits = c == ','
                    && i > 0
                    && bytes[i - 1].is_ascii_digit()
                    && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
                if !between_digits {
                    parts.push(&s[start..i]);
                    start = i + 1;
                }
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    if parts.len() < 2 {
        return None;
    }
    let mut lines: Vec<Line> = Vec::new();
    let mut answers = 0;
    for p in &parts {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        let l = match default_value(p) {
            Some(value) => Line::Default { value },
            None => parse_one(p, lex),
        };
        match l {
            Line::Note => {
                // The comment of the answer before it, if any.
                match lines.last_mut() {
                    Some(Line::Answer { comment, .. }) => {
                        let c = comment.get_or_insert_with(String::new);
                        if !c.is_empty() {
                            c.push_str(", ");
                        }
                        c.push_str(p);
                    }
                    _ => return None,
                }
            }
            l => {
                answers += 1;
                lines.push(l);
            }
        }
    }
    (answers >= 2).then_some(Line::Many(lines))
}

/// A cheap gate: every default phrase holds one of these (checked by a
/// test), lowercase.
const ANCHORS: &[&str] = &[
    "all",
    "every",
    "board",
    "rest",
    "other",
    "partout",
    "tout",
    "berall",
    "alles",
    "todo",
    "tutto",
    "tudo",
    "overal",
    "wszystk",
    "reszt",
    "все",
    "всё",
    "остальн",
];
/// Which [`ANCHORS`] start with each byte, either case (at most 32).
const ANCHOR_BY_FIRST: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < ANCHORS.len() {
        let b = ANCHORS[i].as_bytes()[0];
        t[b as usize] |= 1 << i;
        t[b.to_ascii_uppercase() as usize] |= 1 << i;
        i += 1;
    }
    t
};

/// Whether `s` holds one of the [`ANCHORS`], ignoring ASCII case.
fn has_anchor(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| {
        let mut m = ANCHOR_BY_FIRST[usize::from(b[i])];
        while m != 0 {
            let a = ANCHORS[m.trailing_zeros() as usize].as_bytes();
            m &= m - 1;
            if b.len() - i >= a.len() && b[i..i + a.len()].eq_ignore_ascii_case(a) {
                return true;
            }
        }
        false
    })
}

/// `4 across the board`, `everything else 4`, `3 partout`: a default value.
fn default_value(s: &str) -> Option<Value> {
    let t = s.trim().trim_end_matches(['.', '!', ',', ';', ':']).trim();
    // Each phrase is matched folded, and holds an anchor: without one in
    // the folded text, none can match.
    let anchored = if t.is_ascii() {
        has_anchor(t)
    } else {
        has_anchor(&fold(t))
    };
    if !anchored {
        return None;
    }
    for p in DEFAULT_AFTER {
        if let Some(head) = strip_suffix_ci(t, p)
            && head.ends_with(' ')
            && let Some((value, rest)) = parse_value(head.trim())
            && rest.trim().is_empty()
        {
            return Some(value);
        }
    }
    for p in DEFAULT_BEFORE {
        if let Some(rest) = strip_prefix_ci(t, p)
            && rest.starts_with([' ', ':', '-', '='])
        {
            let mut r = rest.trim_start_matches([' ', ':', '-', '=']);
            for c in [
                "is a ", "is an ", "is ", "are ", "at ", "gets a ", "a ", "est a ", "ist ", "es ",
                "e ",
            ] {
                if let Some(x) = strip_prefix_ci(r, c) {
                    r = x;
                    break;
                }
            }
            if let Some((value, rest)) = parse_value(r)
                && (rest.trim().is_empty() || soft_end(rest) && comment_of(rest).is_none())
            {
                return Some(value);
            }
        }
    }
    None
}

/// Where an exception word starts in `s` (as a whole word), and its end.
fn find_except(s: &str) -> Option<(usize, usize)> {
    let lower = s.to_lowercase();
    if lower.len() != s.len() {
        return None;
    }
    let mut best: Option<(usize, usize)> = None;
    for w in EXCEPT_WORDS {
        let mut from = 0;
        while let Some(p) = lower[from..].find(w) {
            let at = from + p;
            let end = at + w.len();
            let before_ok = at == 0
                || lower[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| !c.is_alphanumeric());
            let after_ok = lower[end..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric());
            if before_ok && after_ok {
                if best.is_none_or(|(b, e)| at < b || at == b && end > e) {
                    best = Some((at, end));
                }
                break;
            }
            from = end;
        }
    }
    best
}

/// `4 across the board, except data which is a 2`: the default, then its
/// exceptions (each an answer; `data and tech 2` gives both skills a 2).
fn parse_default(s: &str, lex: &Lexicon) -> Option<Line> {
    // ASCII lowercases to ASCII: a plain line is scanned as it is.
    let anchored = if s.is_ascii() {
        has_anchor(s)
    } else {
        has_anchor(&s.to_lowercase())
    };
    if !anchored {
        return None;
    }
    let (head, tail) = match find_except(s) {
        Some((at, end)) => (&s[..at], Some(&s[end..])),
        None => (s, None),
    };
    let value = default_value(head)?;
    let mut lines = vec![Line::Default { value }];
    let Some(tail) = tail else {
        return Some(lines.remove(0));
    };
    let tail = tail.trim_start_matches([' ', ':', ',']);
    let tail = strip_prefix_ci(tail, "for ").unwrap_or(tail);
    let mut pieces: Vec<String> = vec![tail.to_string()];
    for sep in [",", ";"].iter().chain(AND_WORDS.iter()) {
        pieces = pieces
            .iter()
            .flat_map(|p| p.split(sep).map(str::to_string).collect::<Vec<_>>())
            .collect();
    }
    // Skills named without a value take the next value: `data and tech 2`.
    let mut pending: Vec<String> = Vec::new();
    for p in pieces {
        let p = p.trim().trim_end_matches(['.', '!']);
        if p.is_empty() {
            continue;
        }
        match parse_one(p, lex) {
            Line::Answer {
                skill,
                value,
                comment,
            } => {
                for k in pending.drain(..) {
                    lines.push(Line::Answer {
                        skill: k,
                        value: value.clone(),
                        comment: None,
                    });
                }
                lines.push(Line::Answer {
                    skill,
                    value,
                    comment,
                });
            }
            Line::Note => match lex.resolve(p) {
                Resolved::Skill(k) => pending.push(k),
                _ => return None,
            },
            other => lines.push(other),
        }
    }
    if !pending.is_empty() {
        return None;
    }
    Some(Line::Many(lines))
}

/// The label before a value, with a connector (`was a`, `est à`) removed.
fn strip_connector(label: &str) -> (&str, bool) {
    for c in CONNECTORS {
        if let Some(head) = strip_suffix_ci(label, c)
            && !head.trim().is_empty()
        {
            return (head.trim_end(), true);
        }
    }
    (label, false)
}

/// One answer: label then value, value then label, `I'd give X a N`.
fn parse_one(s: &str, lex: &Lexicon) -> Line {
    match parse_label_first(s, lex) {
        Line::Note => {}
        l => return l,
    }
    if let Some(l) = parse_give(s, lex) {
        return l;
    }
    parse_value_first(s, lex).unwrap_or(Line::Note)
}

/// `I'd give stakeholders a 2 this week`, `I'd give myself a 3 for data`.
fn parse_give(s: &str, lex: &Lexicon) -> Option<Line> {
    let rest = GIVE_OPENERS.iter().find_map(|o| strip_prefix_ci(s, o))?;
    for (i, _) in rest.match_indices(' ') {
        let label = rest[..i].trim();
        let mut after = rest[i + 1..].trim_start();
        for a in ARTICLES {
            if let Some(x) = strip_prefix_ci(after, a) {
                after = x;
                break;
            }
        }
        let Some((value, vrest)) = parse_value(after) else {
            continue;
        };
        let me =
            ["myself", "me", "moi", "mir", "mezelf", "mig", "me"].contains(&fold(label).as_str());
        if me {
            let r = vrest.trim_start();
            let r = FOR_WORDS.iter().find_map(|w| strip_prefix_ci(r, w))?;
            let (lab, comment) = split_label(r);
            if let Resolved::Skill(skill) = lex.resolve(lab) {
                return Some(Line::Answer {
                    skill,
                    value,
                    comment,
                });
            }
            return None;
        }
        if unit_follows(vrest) || !soft_end(vrest) {
            continue;
        }
        if let Resolved::Skill(skill) = lex.resolve(label) {
            return Some(Line::Answer {
                skill,
                value,
                comment: comment_of(vrest),
            });
        }
    }
    None
}

/// A label at the start of `s`, up to the punctuation that opens a comment.
fn split_label(s: &str) -> (&str, Option<String>) {
    let mut end = s.len();
    for p in [" - ", " – ", " — ", "(", ",", ";", ".", "!", ":", " |", "│"] {
        if let Some(i) = s.find(p) {
            end = end.min(i);
        }
    }
    (s[..end].trim(), comment_of(&s[end..]))
}

/// `4 - strategy`, `4: Product strategy`, `3 for delivery`, `4 strategy`.
fn parse_value_first(s: &str, lex: &Lexicon) -> Option<Line> {
    let (value, rest) = parse_value(s)?;
    if matches!(value, Value::Skip) {
        return None;
    }
    let t = rest.trim_start();
    let (after, how) = if let Some(r) = t.strip_prefix([':', '-', '=', '–', '—', '：']) {
        (r.trim_start(), 2)
    } else if let Some(r) = FOR_WORDS.iter().find_map(|w| strip_prefix_ci(t, w)) {
        (r.trim_start(), 1)
    } else if rest.starts_with([' ', '\t']) {
        (t, 0)
    } else {
        return None;
    };
    let (label, comment) = split_label(after);
    if label.is_empty()
        || !label.chars().next().is_some_and(char::is_alphabetic)
        || label.split_whitespace().count() > MAX_LABEL_WORDS
    {
        return None;
    }
    match lex.resolve(label) {
        Resolved::Skill(skill) => {
            // With only a space, the whole name or key: `3 customers` is a
            // count, `4 strategy` a score.
            if how == 0 {
                let normal = normalize_skill_name(label);
                let exact = lex.keys.iter().zip(&lex.display).any(|(k, d)| {
                    k == &skill
                        && (normalize_skill_name(k) == normal || normalize_skill_name(d) == normal)
                });
                if !exact || comment.is_some() {
                    return None;
                }
            }
            Some(Line::Answer {
                skill,
                value,
                comment,
            })
        }
        Resolved::Ambiguous(keys) if how == 2 => {
            let names: Vec<&str> = keys.iter().map(|k| lex.display(k)).collect();
            Some(Line::Problem {
                reason: format!(
                    "“{label}” could be {} — write more of the skill's name",
                    join_or(&names)
                ),
            })
        }
        _ => None,
    }
}

/// `<skill> <separator> <value> [comment]`, `<skill> was a <value>`,
/// `<skill> n/a`, `<skill> five`.
fn parse_label_first(s: &str, lex: &Lexicon) -> Line {
    // The label runs up to the separator or the value.
    let mut label_end = s.len();
    let mut sep_explicit = false;
    let mut sep_dash = false;
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
            sep_dash = matches!(c, '-' | '–' | '—');
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
        if c.is_ascii_digit() || star(c).is_some() || c == '?' {
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
        // `data n/a`, `Strategy five`: a value word after the label.
        return label_then_word(s, lex).unwrap_or(Line::Note);
    }
    let raw_label = s[..label_end].trim().trim_matches('_').trim();
    let (label, connector) = if sep_explicit {
        (raw_label, false)
    } else {
        strip_connector(raw_label)
    };
    if label.is_empty()
        || !label.chars().next().is_some_and(char::is_alphabetic)
        || label.split_whitespace().count() > MAX_LABEL_WORDS
    {
        return Line::Note;
    }
    let value_text = &s[value_start..];
    let (value, rest) = match parse_value(value_text) {
        Some(v) => v,
        // `Data -` / `Data –`: skipped.
        None if sep_dash && value_text.trim().is_empty() => (Value::Skip, ""),
        None => return Line::Note,
    };
    // `Delivery: 2 weeks late`, `stakeholders: met 3 of them`: a count.
    if !matches!(value, Value::Skip) && unit_follows(rest) {
        return Line::Note;
    }
    match lex.resolve(label) {
        Resolved::Skill(skill) => {
            // With only a space between, insist on a real word: `A 3 hour
            // meeting` must not score `alignment`.
            if !sep_explicit && too_short(label) {
                return Line::Note;
            }
            if !sep_explicit && !soft_end(rest) && (connector || !matches!(value, Value::Score(_)))
            {
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

/// Too short to name a skill without a separator: `A 3 hour meeting` must
/// not score `alignment`. Two CJK characters are a whole word.
fn too_short(label: &str) -> bool {
    let n = fold(label).chars().count();
    n < 2 || n < 3 && !label.chars().all(|c| c as u32 >= 0x2E80)
}

/// `data n/a`, `data skip`, `Strategy five`, `Strategy was five`: the
/// label, a space, then a value word.
fn label_then_word(s: &str, lex: &Lexicon) -> Option<Line> {
    // A label, a connector, a value and a short tail: prose is longer, and
    // a label starts with the start of a skill's name.
    if s.split_whitespace().count() > MAX_LABEL_WORDS + 7 || !lex.may_start_label(s) {
        return None;
    }
    for (i, _) in s.match_indices(' ') {
        let after = s[i + 1..].trim_start();
        if !after.starts_with(|c: char| c.is_alphabetic() || c == '-' || c == '–') {
            continue;
        }
        let Some((value, rest)) = parse_value(after) else {
            continue;
        };
        if !soft_end(rest) {
            continue;
        }
        let (label, _) = strip_connector(s[..i].trim());
        if label.split_whitespace().count() > MAX_LABEL_WORDS || too_short(label) {
            return None;
        }
        if let Resolved::Skill(skill) = lex.resolve(label) {
            return Some(Line::Answer {
                skill,
                value,
                comment: comment_of(rest),
            });
        }
    }
    None
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
    /// Lines that are not answers, as written (indentation and blank lines
    /// inside kept); empty when none.
    pub note: String,
    /// How many lines were read as answers (valid or not).
    pub answer_lines: usize,
}

/// `1. 4`: a score numbered like the form's list, with nothing else.
fn bare_numbered(line: &str) -> Option<(usize, Value)> {
    if !line.trim_start().starts_with(char::is_numeric) {
        return None;
    }
    let t = normalize_line(line);
    let t = t.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=2).contains(&digits) {
        return None;
    }
    let n: usize = t[..digits].parse().ok()?;
    let after = t[digits..].strip_prefix(['.', ')'])?;
    if !after.starts_with(' ') {
        return None;
    }
    let (value, rest) = parse_value(after)?;
    if !matches!(value, Value::Skip) && unit_follows(rest) || !tidy_end(rest) {
        return None;
    }
    Some((n, value))
}

/// The words for a value that is not one clean score.
fn value_problem(name: &str, value: &Value) -> Option<String> {
    Some(match value {
        Value::Score(_) | Value::Skip => return None,
        Value::OutOfRange(v) => {
            format!("{name}: {v} is not a score from 1 to 5 — reply with a corrected line")
        }
        Value::Fraction(v) => format!(
            "{name}: {v} is not a whole number — scores are 1, 2, 3, 4 or 5; reply with a corrected line"
        ),
        Value::OtherScale(v) => format!(
            "{name}: {v} is on another scale — scores are from 1 to 5; reply with a corrected line"
        ),
        Value::Unclear(v) => format!("{name}: \"{v}\" — pick one whole score from 1 to 5"),
    })
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
    let mut defaults: Vec<(usize, String, Value)> = Vec::new();
    let mut note_lines: Vec<&str> = Vec::new();
    // A blank line right after a removed answer line is dropped when the
    // note already ends with one: removing answers never doubles a gap.
    let mut removed = false;

    // `1. 4` … `8. 3`: a bare list counts only when it has one item per
    // skill of the form, numbered in order.
    let numbered: Vec<(usize, usize, Value)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.from_quote && l.prompt.is_none())
        .filter_map(|(at, l)| bare_numbered(&l.text).map(|(n, v)| (at, n, v)))
        .collect();
    let keys = lex.keys();
    let list_ok = numbered.len() == keys.len()
        && numbered
            .iter()
            .enumerate()
            .all(|(i, (_, n, _))| *n == i + 1);
    let mut numbered_at = numbered.iter().map(|(at, _, _)| *at).peekable();

    for (at, l) in lines.iter().enumerate() {
        if numbered_at.peek() == Some(&at) {
            numbered_at.next();
            out.answer_lines += 1;
            removed = true;
            let (_, n, value) = numbered
                .iter()
                .find(|(a, _, _)| *a == at)
                .cloned()
                .unwrap_or((at, 0, Value::Skip));
            if list_ok && let Some(skill) = keys.get(n.wrapping_sub(1)) {
                given.push(Given {
                    at,
                    line: l.display().trim().to_string(),
                    skill: skill.clone(),
                    value,
                    comment: None,
                });
            } else {
                let first = lex.display.first().map_or("Delivery", String::as_str);
                problems.push((
                    at,
                    Invalid {
                        line: l.display().trim().to_string(),
                        reason: format!(
                            "a numbered list of {} scores, but the form asks {} skills — write each skill's name before its score, e.g. \"{first}: 4\"",
                            numbered.len(),
                            keys.len()
                        ),
                    },
                ));
            }
            continue;
        }
        let parsed = parse_line(&l.text, lex, l.prompt.as_deref());
        let items = match parsed {
            Line::Note => {
                if !l.from_quote {
                    let blank = l.text.trim().is_empty();
                    let gap = note_lines.last().is_none_or(|p| p.trim().is_empty());
                    if !(blank && removed && gap) {
                        note_lines.push(l.text.trim_end());
                    }
                    if !blank {
                        removed = false;
                    }
                }
                continue;
            }
            Line::Many(items) => items,
            one => vec![one],
        };
        out.answer_lines += 1;
        removed = true;
        for item in items {
            match item {
                Line::Answer {
                    skill,
                    value,
                    comment,
                } => given.push(Given {
                    at,
                    line: l.display().trim().to_string(),
                    skill,
                    value,
                    comment,
                }),
                Line::Problem { reason } => {
                    if !l.from_quote {
                        problems.push((
                            at,
                            Invalid {
                                line: l.display().trim().to_string(),
                                reason,
                            },
                        ));
                    }
                }
                Line::Default { value } => {
                    defaults.push((at, l.display().trim().to_string(), value))
                }
                Line::Note | Line::Many(_) => {}
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
            .filter(|v| v.is_valid())
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
            if g.value.is_valid() {
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
                    out.comments
                        .entry(g.skill.clone())
                        .or_insert_with(|| c.clone());
                }
            }
            Value::Skip => {
                if !out.skipped.contains(&g.skill) {
                    out.skipped.push(g.skill.clone());
                }
                if let Some(c) = &g.comment {
                    out.comments
                        .entry(g.skill.clone())
                        .or_insert_with(|| c.clone());
                }
            }
            other => {
                if let Some(reason) = value_problem(name, other) {
                    problems.push((
                        g.at,
                        Invalid {
                            line: g.line.clone(),
                            reason,
                        },
                    ));
                }
            }
        }
    }
    // A default answers every skill of the form not answered otherwise
    // (an invalid answer counts as answered: it is reported, not replaced).
    let mut default_values: Vec<&Value> = defaults.iter().map(|(_, _, v)| v).collect();
    default_values.dedup();
    if let [value] = default_values.as_slice() {
        if let Some(reason) = value_problem("Every other skill", value) {
            let (at, line, _) = &defaults[0];
            problems.push((
                *at,
                Invalid {
                    line: line.clone(),
                    reason,
                },
            ));
        } else {
            for k in keys {
                if by_skill.contains_key(k.as_str()) {
                    continue;
                }
                match value {
                    Value::Score(n) => {
                        out.scores.insert(k.clone(), *n);
                    }
                    _ => out.skipped.push(k.clone()),
                }
            }
        }
    } else if default_values.len() > 1 {
        for (at, line, _) in &defaults {
            problems.push((
                *at,
                Invalid {
                    line: line.clone(),
                    reason: "two different scores for every other skill in this reply — keep one line for them".into(),
                },
            ));
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
    fn every_default_phrase_holds_an_anchor() {
        for p in DEFAULT_AFTER.iter().chain(DEFAULT_BEFORE) {
            assert!(has_anchor(&fold(p)), "{p}");
        }
    }

    #[test]
    fn number_words_are_folded_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for (w, _) in NUMBER_WORDS {
            assert_eq!(fold(w), *w, "{w} is written folded");
            assert!(seen.insert(*w), "{w} is listed once");
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

    /// Every answer a line gives: (skill, value) pairs and defaults.
    fn read_line(line: &str) -> Vec<(String, Value)> {
        fn flat(l: Line, out: &mut Vec<(String, Value)>) {
            match l {
                Line::Answer { skill, value, .. } => out.push((skill, value)),
                Line::Default { value } => out.push(("*".into(), value)),
                Line::Many(ls) => ls.into_iter().for_each(|l| flat(l, out)),
                Line::Problem { .. } => out.push(("?".into(), Value::Skip)),
                Line::Note => {}
            }
        }
        let mut out = Vec::new();
        flat(parse_line(line, &lex(), None), &mut out);
        out
    }

    fn sc(skill: &str, n: u8) -> (String, Value) {
        (skill.to_string(), Value::Score(n))
    }

    #[test]
    fn natural_ways_of_giving_a_score_are_read() {
        for (line, want) in [
            ("4 - strategy", vec![sc("strategy", 4)]),
            ("4: Product strategy", vec![sc("strategy", 4)]),
            ("4 strategy", vec![sc("strategy", 4)]),
            ("3 for delivery", vec![sc("delivery", 3)]),
            ("Strategy was a 3", vec![sc("strategy", 3)]),
            ("Data is 4", vec![sc("data", 4)]),
            (
                "I'd give stakeholders a 2 this week",
                vec![sc("stakeholders", 2)],
            ),
            ("I'd give myself a 3 for data", vec![sc("data", 3)]),
            ("Strategy: five", vec![sc("strategy", 5)]),
            ("Stratégie : quatre", vec![sc("strategy", 4)]),
            ("Strategy ★★★☆☆", vec![sc("strategy", 3)]),
            ("Strategy: ★★★★", vec![sc("strategy", 4)]),
            ("Delivery 4\u{fe0f}\u{20e3}", vec![sc("delivery", 4)]),
            ("Product strategy │4", vec![sc("strategy", 4)]),
            ("| Product strategy | 4 |", vec![sc("strategy", 4)]),
            ("Product strategy\t4", vec![sc("strategy", 4)]),
            ("Data|3", vec![sc("data", 3)]),
            ("data n/a", vec![("data".into(), Value::Skip)]),
            ("data skip", vec![("data".into(), Value::Skip)]),
            ("data -", vec![("data".into(), Value::Skip)]),
            (
                "Strategy 4, discovery 3, delivery 4",
                vec![sc("strategy", 4), sc("discovery", 3), sc("delivery", 4)],
            ),
            (
                "Strategy: 4; data: 2",
                vec![sc("strategy", 4), sc("data", 2)],
            ),
            (
                "4 across the board, except data which is a 2",
                vec![("*".into(), Value::Score(4)), sc("data", 2)],
            ),
            (
                "4 for everything, except data 2 and tech 3",
                vec![
                    ("*".into(), Value::Score(4)),
                    sc("data", 2),
                    sc("technical", 3),
                ],
            ),
            (
                "Data 2, everything else 4",
                vec![sc("data", 2), ("*".into(), Value::Score(4))],
            ),
        ] {
            assert_eq!(read_line(line), want, "{line}");
        }
    }

    #[test]
    fn anything_but_one_clean_score_is_unclear_never_a_guess() {
        for (line, shown) in [
            ("Stakeholder management: 2 or 3", "2 or 3"),
            ("Strategy: 3-4", "3-4"),
            ("Strategy 3–4", "3–4"),
            ("Strategy: 3/4", "3/4"),
            ("Strategy: ?", "?"),
            ("Strategy: 3?", "3?"),
            ("Strategy: 3 4", "3 4"),
            ("Strategy: 3, 4", "3, 4"),
            ("Strategy: deux ou trois", "deux ou trois"),
        ] {
            assert_eq!(
                read_line(line),
                vec![(
                    if line.starts_with("Stake") {
                        "stakeholders"
                    } else {
                        "strategy"
                    }
                    .into(),
                    Value::Unclear(shown.into())
                )],
                "{line}"
            );
        }
        assert_eq!(
            read_line("Strategy: six"),
            vec![("strategy".into(), Value::OutOfRange("six".into()))]
        );
        assert_eq!(
            read_line("Strategy: 3½"),
            vec![("strategy".into(), Value::Fraction("3.5".into()))]
        );
    }

    #[test]
    fn prose_with_a_skill_and_a_count_is_never_a_score() {
        for l in [
            "stakeholders: met 3 of them",
            "delivery slipped 2 weeks",
            "Delivery: 2 weeks late",
            "Delivery was 2 weeks late",
            "3 customers called back",
            "I'd give delivery 2 more weeks",
            "Strategy: one of the best weeks",
            "Data - to be confirmed",
            "2 - 3 people joined",
        ] {
            assert!(
                !read_line(l)
                    .iter()
                    .any(|(_, v)| matches!(v, Value::Score(_))),
                "{l}: {:?}",
                read_line(l)
            );
        }
    }
}
