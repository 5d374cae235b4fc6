//! What a coach writes back, read: agreed actions, actions dropped, a private
//! note and changes to the pairing's 1:1 schedule ([`read_coach_reply`]);
//! and a PM's answers to the open actions a form asks about
//! ([`read_action_answers`]).
//!
//! Owns the small grammar of a coach's reply and of action answers, in the
//! languages the rest of the reader knows (English, French, German, Spanish,
//! Norwegian). Pure: text and `today` in, values out; no clock, no store, no
//! logging. Never guesses: a line that looks like a schedule change or an
//! answer but cannot be read exactly becomes a problem, never a change.

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use serde::Serialize;

use super::text::{Asked, OwnLine, collapse, fold};

/// At most this many actions are recorded from one reply.
pub const MAX_ACTIONS: usize = 20;
/// At most this many characters in one action.
pub const MAX_ACTION_CHARS: usize = 300;

/// At most this many problems are listed; the rest are counted.
pub const MAX_PROBLEMS: usize = 20;

/// A line as quoted in a problem: at most 80 characters.
fn quote(line: &str) -> String {
    if line.chars().count() <= 80 {
        return line.to_string();
    }
    let mut q: String = line.chars().take(79).collect();
    q.push('…');
    q
}

/// A change to the pairing's 1:1 schedule (stored as its JSON, read back
/// by the schedule's facts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleChange {
    /// The next 1:1 moves: to a weekday, a date, or only a new time on
    /// its usual day (`moved to thu 15:00`, `moved to 2026-12-18 10:00`).
    MovedTo {
        day: Option<Weekday>,
        date: Option<NaiveDate>,
        time: NaiveTime,
    },
    /// The next 1:1 does not take place.
    Cancelled,
    /// The next 1:1 is on this date and time (`next 1:1 on 2026-12-18 10:00`).
    NextOn { date: NaiveDate, time: NaiveTime },
    /// A 1:1 every `weeks` weeks (1 is weekly).
    Every { weeks: u8 },
    /// A 1:1 on the `nth` weekday of each month (5 means the last).
    MonthlyRule {
        nth: u8,
        day: Weekday,
        time: NaiveTime,
    },
}

/// An open action the coach removes: by its text (or its start) or by its
/// number in the list the coach was shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropTarget {
    Text(String),
    Number(u8),
}

/// What a coach's reply says.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CoachReply {
    /// Agreed actions, in the order written, each at most
    /// [`MAX_ACTION_CHARS`] characters, at most [`MAX_ACTIONS`].
    pub actions: Vec<String>,
    /// Open actions the coach removes.
    pub drops: Vec<DropTarget>,
    /// Text under `Private:` and every other line that is not an action,
    /// a drop, a schedule change or a problem: for the coach only. `None`
    /// when empty.
    pub private_note: Option<String>,
    pub schedule: Vec<ScheduleChange>,
    /// Lines that look like an action, a drop or a schedule change but
    /// cannot be read exactly, each with what to write instead.
    pub problems: Vec<String>,
}

/// `Private:` headings, folded, without the colon.
const PRIVATE_WORDS: &[&str] = &["private", "privat", "prive", "privee", "privado", "privada"];

/// Action labels, folded, without the colon.
const ACTION_WORDS: &[&str] = &[
    "action",
    "actions",
    "action item",
    "todo",
    "to do",
    "to-do",
    "a faire",
    "aufgabe",
    "accion",
    "tarea",
    "oppgave",
    "tiltak",
];

/// Drop labels, folded: `drop: …`, `drop 2`.
const DROP_WORDS: &[&str] = &["drop", "retirer", "streichen", "quitar", "fjern"];

/// Whole lines (folded, `1:1` spelled so, end punctuation removed) that
/// cancel the next 1:1.
const CANCEL_LINES: &[&str] = &[
    "cancelled",
    "canceled",
    "cancel",
    "1:1 cancelled",
    "1:1 canceled",
    "no 1:1 this week",
    "annule",
    "annulee",
    "1:1 annule",
    "pas de 1:1 cette semaine",
    "abgesagt",
    "1:1 abgesagt",
    "1:1 fallt aus",
    "kein 1:1 diese woche",
    "cancelado",
    "cancelada",
    "1:1 cancelado",
    "no hay 1:1 esta semana",
    "avlyst",
    "1:1 avlyst",
    "ingen 1:1 denne uken",
];

/// Line starts (folded) that announce a schedule change: a line starting
/// so that is not read exactly is a problem, never a note.
const SCHEDULE_STARTS: &[&str] = &[
    "moved",
    "move to",
    "move the 1:1",
    "moving",
    "reschedul",
    "postpone",
    "next 1:1",
    "no 1:1",
    "1:1 moved",
    "1:1 cancel",
    "cancel",
    "monthly",
    "biweekly",
    "bi-weekly",
    "fortnightly",
    "weekly",
    "deplace",
    "1:1 deplace",
    "prochain 1:1",
    "pas de 1:1",
    "annul",
    "mensuel",
    "hebdomadaire",
    "verschoben",
    "1:1 verschoben",
    "nachstes 1:1",
    "kein 1:1",
    "abgesagt",
    "monatlich",
    "wochentlich",
    "movido",
    "1:1 movido",
    "proximo 1:1",
    "no hay 1:1",
    "cancelad",
    "mensual",
    "semanal",
    "quincenal",
    "flyttet",
    "1:1 flyttet",
    "neste 1:1",
    "ingen 1:1",
    "avlyst",
    "manedlig",
    "ukentlig",
    "annenhver",
];

/// `moved to …` and its equivalents (folded, `1:1` spelled so).
const MOVED_PREFIXES: &[&str] = &[
    "1:1 moved to ",
    "moved the 1:1 to ",
    "moved to ",
    "move to ",
    "1:1 deplace a ",
    "1:1 deplace au ",
    "deplace a ",
    "deplace au ",
    "1:1 verschoben auf ",
    "verschoben auf ",
    "1:1 movido al ",
    "1:1 movido a ",
    "movido al ",
    "movido a ",
    "1:1 flyttet til ",
    "flyttet til ",
];

/// `next 1:1 on …` and its equivalents.
const NEXT_PREFIXES: &[&str] = &[
    "next 1:1 on ",
    "next 1:1 is on ",
    "next 1:1 ",
    "prochain 1:1 le ",
    "prochain 1:1 ",
    "nachstes 1:1 am ",
    "nachstes 1:1 ",
    "proximo 1:1 el ",
    "proximo 1:1 ",
    "neste 1:1 pa ",
    "neste 1:1 ",
];

/// Words for "every" before a number of weeks or a monthly rule.
const EVERY_WORDS: &[&str] = &[
    "every",
    "each",
    "toutes les",
    "chaque",
    "tous les",
    "alle",
    "jede",
    "jeden",
    "cada",
    "hver",
];

/// Words for "week(s)".
const WEEK_WORDS: &[&str] = &[
    "week", "weeks", "semaine", "semaines", "woche", "wochen", "semana", "semanas", "uke", "uker",
    "uka",
];

/// Small numbers written as words, in the supported languages.
const NUMBER_WORDS: &[(&str, u8)] = &[
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("other", 2),
    ("une", 1),
    ("deux", 2),
    ("trois", 3),
    ("quatre", 4),
    ("eine", 1),
    ("zwei", 2),
    ("drei", 3),
    ("vier", 4),
    ("una", 1),
    ("dos", 2),
    ("tres", 3),
    ("cuatro", 4),
    ("en", 1),
    ("to", 2),
    ("andre", 2),
    ("tre", 3),
    ("fire", 4),
];

/// Ordinals for a monthly rule (5 is "last").
const ORDINALS: &[(&str, u8)] = &[
    ("first", 1),
    ("1st", 1),
    ("second", 2),
    ("2nd", 2),
    ("third", 3),
    ("3rd", 3),
    ("fourth", 4),
    ("4th", 4),
    ("last", 5),
    ("premier", 1),
    ("premiere", 1),
    ("deuxieme", 2),
    ("troisieme", 3),
    ("quatrieme", 4),
    ("dernier", 5),
    ("derniere", 5),
    ("erste", 1),
    ("ersten", 1),
    ("erster", 1),
    ("zweite", 2),
    ("zweiten", 2),
    ("dritte", 3),
    ("dritten", 3),
    ("vierte", 4),
    ("vierten", 4),
    ("letzte", 5),
    ("letzten", 5),
    ("primer", 1),
    ("primero", 1),
    ("segundo", 2),
    ("tercer", 3),
    ("tercero", 3),
    ("cuarto", 4),
    ("ultimo", 5),
    ("forste", 1),
    ("tredje", 3),
    ("fjerde", 4),
    ("siste", 5),
];

/// Weekday names and abbreviations, folded.
const WEEKDAYS: &[(&str, Weekday)] = &[
    ("mon", Weekday::Mon),
    ("monday", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("tues", Weekday::Tue),
    ("tuesday", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("wednesday", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("thur", Weekday::Thu),
    ("thurs", Weekday::Thu),
    ("thursday", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("friday", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("saturday", Weekday::Sat),
    ("sun", Weekday::Sun),
    ("sunday", Weekday::Sun),
    ("lun", Weekday::Mon),
    ("lundi", Weekday::Mon),
    ("mar", Weekday::Tue),
    ("mardi", Weekday::Tue),
    ("mer", Weekday::Wed),
    ("mercredi", Weekday::Wed),
    ("jeu", Weekday::Thu),
    ("jeudi", Weekday::Thu),
    ("ven", Weekday::Fri),
    ("vendredi", Weekday::Fri),
    ("sam", Weekday::Sat),
    ("samedi", Weekday::Sat),
    ("dim", Weekday::Sun),
    ("dimanche", Weekday::Sun),
    ("mo", Weekday::Mon),
    ("montag", Weekday::Mon),
    ("di", Weekday::Tue),
    ("dienstag", Weekday::Tue),
    ("mi", Weekday::Wed),
    ("mittwoch", Weekday::Wed),
    ("do", Weekday::Thu),
    ("donnerstag", Weekday::Thu),
    ("fr", Weekday::Fri),
    ("freitag", Weekday::Fri),
    ("sa", Weekday::Sat),
    ("samstag", Weekday::Sat),
    ("so", Weekday::Sun),
    ("sonntag", Weekday::Sun),
    ("lunes", Weekday::Mon),
    ("martes", Weekday::Tue),
    ("mie", Weekday::Wed),
    ("miercoles", Weekday::Wed),
    ("jue", Weekday::Thu),
    ("jueves", Weekday::Thu),
    ("vie", Weekday::Fri),
    ("viernes", Weekday::Fri),
    ("sab", Weekday::Sat),
    ("sabado", Weekday::Sat),
    ("dom", Weekday::Sun),
    ("domingo", Weekday::Sun),
    ("man", Weekday::Mon),
    ("mandag", Weekday::Mon),
    ("tir", Weekday::Tue),
    ("tirsdag", Weekday::Tue),
    ("ons", Weekday::Wed),
    ("onsdag", Weekday::Wed),
    ("tor", Weekday::Thu),
    ("torsdag", Weekday::Thu),
    ("fre", Weekday::Fri),
    ("fredag", Weekday::Fri),
    ("lor", Weekday::Sat),
    ("lordag", Weekday::Sat),
    ("son", Weekday::Sun),
    ("sondag", Weekday::Sun),
];

/// Small words between the parts of a date and time (`on thu at 15:00`).
const FILLERS: &[&str] = &[
    "on", "at", "the", "a", "au", "le", "um", "am", "den", "el", "las", "la", "kl", "kl.", "pa",
    "of", "month", "du", "mois", "im", "monat", "des", "del", "mes", "i", "maneden", "each",
];

/// Reads a coach's own words (quotes and signature already removed).
/// `today` is the coach's local date: a date before it is a problem.
pub fn read_coach_reply(own_text: &str, today: NaiveDate) -> CoachReply {
    let mut reply = CoachReply::default();
    let mut note: Vec<&str> = Vec::new();
    let mut private = false;
    let mut over_cap = 0usize;
    // Under an `Actions:` heading with nothing after it, the list items
    // that follow are actions, until a line that is no list item (or a
    // blank line after the first item).
    let mut list = List::None;
    for raw in own_text.lines() {
        if private {
            note.push(raw);
            continue;
        }
        let line = raw.trim();
        if let Some(rest) = labelled(line, PRIVATE_WORDS) {
            private = true;
            if !rest.is_empty() {
                note.push(rest);
            }
            continue;
        }
        if line.is_empty() {
            if list == List::Items {
                list = List::None;
            }
            note.push(raw);
            continue;
        }
        let action = action_text(line).or_else(|| {
            (list != List::None)
                .then(|| list_item(line))
                .flatten()
                .map(Action::Open)
        });
        let Some(action) = action else {
            list = List::None;
            if let Some(r) = other_line(line, today) {
                match r {
                    Ok(Other::Drop(target)) => reply.drops.push(target),
                    Ok(Other::Schedule(change)) => reply.schedule.push(change),
                    Err(reason) => reply
                        .problems
                        .push(format!("\"{}\": {reason}", quote(line))),
                }
            } else {
                note.push(raw);
            }
            continue;
        };
        match action {
            Action::Open("") => {
                if labelled(line, ACTION_WORDS).is_some() {
                    list = List::Heading;
                }
            }
            Action::Open(text) if text.chars().count() > MAX_ACTION_CHARS => {
                list = list.next();
                reply.problems.push(format!(
                    "\"{}…\": an action is at most {MAX_ACTION_CHARS} characters; not recorded, write it shorter",
                    text.chars().take(40).collect::<String>()
                ));
            }
            Action::Open(text) => {
                list = list.next();
                let folded = fold(text);
                if reply.actions.iter().any(|a| fold(a) == folded) {
                    continue;
                }
                if reply.actions.len() >= MAX_ACTIONS {
                    over_cap += 1;
                } else {
                    reply.actions.push(text.to_string());
                }
            }
            Action::Checked => {
                list = list.next();
                reply.problems.push(format!(
                    "\"{}\": a ticked box is not an open action; to remove an action write `drop: <its text>`",
                    quote(line)
                ));
            }
        }
    }
    if reply.problems.len() > MAX_PROBLEMS {
        let more = reply.problems.len() - MAX_PROBLEMS;
        reply.problems.truncate(MAX_PROBLEMS);
        reply.problems.push(format!("{more} more line(s) not read"));
    }
    if over_cap > 0 {
        reply.problems.push(format!(
            "{over_cap} more action(s) not recorded: at most {MAX_ACTIONS} per reply"
        ));
    }
    let note = collapse(&note);
    reply.private_note = (!note.is_empty()).then_some(note);
    reply
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum List {
    None,
    /// Right under an `Actions:` heading: blank lines may follow.
    Heading,
    /// After the first item: a blank line ends the list.
    Items,
}

impl List {
    fn next(self) -> List {
        match self {
            List::None => List::None,
            List::Heading | List::Items => List::Items,
        }
    }
}

/// A list item's text: `- …`, `* …`, `• …`, `1. …`, `1) …`.
fn list_item(line: &str) -> Option<&str> {
    if let Some(rest) = ["- ", "* ", "• "].iter().find_map(|m| line.strip_prefix(m)) {
        return Some(rest.trim());
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 2 {
        return None;
    }
    line[digits..]
        .strip_prefix(". ")
        .or_else(|| line[digits..].strip_prefix(") "))
        .map(str::trim)
}

enum Other {
    Drop(DropTarget),
    Schedule(ScheduleChange),
}

/// A drop or a schedule change, a line that looks like one but cannot be
/// read (the reason), or `None` for a line of the note.
fn other_line(line: &str, today: NaiveDate) -> Option<Result<Other, String>> {
    if let Some(r) = drop_target(line) {
        return Some(r.map(Other::Drop));
    }
    schedule_change(line, today).map(|r| r.map(Other::Schedule))
}

/// The text after `<label>:` (or `<label> :`) when the line's label, folded,
/// is one of `words`.
fn labelled<'a>(line: &'a str, words: &[&str]) -> Option<&'a str> {
    let (label, rest) = line.split_once(':')?;
    let label = fold(label.trim());
    words.iter().any(|w| *w == label).then_some(rest.trim())
}

enum Action<'a> {
    Open(&'a str),
    Checked,
}

/// An action line's text: `Action: …`, `TODO: …`, `- [ ] …`, `* [ ] …`.
fn action_text(line: &str) -> Option<Action<'_>> {
    if let Some(rest) = labelled(line, ACTION_WORDS) {
        return Some(Action::Open(rest));
    }
    let rest = line
        .strip_prefix("- ")
        .or_else(|| line.strip_prefix("* "))
        .unwrap_or(line)
        .trim_start();
    if let Some(text) = rest.strip_prefix("[ ]").or_else(|| rest.strip_prefix("[]")) {
        return Some(Action::Open(text.trim()));
    }
    if rest.starts_with("[x]") || rest.starts_with("[X]") {
        return Some(Action::Checked);
    }
    None
}

/// `drop: <text>`, `drop 2`, `drop #2`: `None` when the line is no drop.
fn drop_target(line: &str) -> Option<Result<DropTarget, String>> {
    if let Some(rest) = labelled(line, DROP_WORDS) {
        if rest.is_empty() {
            return Some(Err(
                "say which action: `drop: <its text or its start>`".into()
            ));
        }
        return Some(Ok(number(rest)
            .map(DropTarget::Number)
            .unwrap_or_else(|| DropTarget::Text(rest.to_string()))));
    }
    let folded = fold(line);
    let rest = DROP_WORDS
        .iter()
        .find_map(|w| folded.strip_prefix(w)?.strip_prefix(' '))?;
    let rest = rest.trim();
    if !rest.starts_with(|c: char| c == '#' || c.is_ascii_digit()) {
        return None;
    }
    Some(
        number(rest)
            .map(DropTarget::Number)
            .ok_or_else(|| "write `drop: <the action's text>` or `drop <its number>`".into()),
    )
}

/// `2` or `#2`: an action's number, 1 to 99.
fn number(s: &str) -> Option<u8> {
    let s = s.trim().trim_start_matches('#');
    if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|n| *n > 0)
}

/// The line folded, `1:1` written one way, end punctuation and spaces
/// tidied: the form schedule words are compared in.
fn schedule_form(line: &str) -> String {
    let folded = fold(line);
    let trimmed = folded.trim().trim_end_matches(['.', '!']);
    // Whole words only: a date such as 2027-01-11 holds `1-1`.
    let spaced = format!(
        " {} ",
        trimmed.split_whitespace().collect::<Vec<_>>().join(" ")
    )
    .replace(" one on one ", " 1:1 ")
    .replace(" 1 on 1 ", " 1:1 ");
    spaced
        .split_whitespace()
        .map(|w| match w {
            "one-on-one" | "1-on-1" | "1on1" | "1-1" | "1:1s" | "1-1s" | "1:1's" => "1:1",
            w => w,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A schedule change, a line that looks like one but cannot be read (the
/// reason), or `None` for any other line.
fn schedule_change(line: &str, today: NaiveDate) -> Option<Result<ScheduleChange, String>> {
    let s = schedule_form(line);
    let s = ["the ", "le ", "el ", "der ", "den "]
        .iter()
        .find_map(|a| s.strip_prefix(a))
        .unwrap_or(&s);
    if CANCEL_LINES.contains(&s) {
        return Some(Ok(ScheduleChange::Cancelled));
    }
    if let Some(rest) = MOVED_PREFIXES.iter().find_map(|p| s.strip_prefix(p)) {
        return Some(moved(rest, today));
    }
    if let Some(rest) = NEXT_PREFIXES.iter().find_map(|p| s.strip_prefix(p)) {
        return Some(next_on(rest, today));
    }
    if let Some(r) = cadence(s) {
        return Some(r);
    }
    let looks = SCHEDULE_STARTS.iter().any(|p| s.starts_with(p)) || every_rest(s).is_some();
    looks.then(|| {
        Err("not read as a 1:1 change; write e.g. `moved to thu 15:00`, `cancelled`, `next 1:1 on 2026-12-18 10:00`, `every 2 weeks` or `first mon 10:00`".into())
    })
}

/// What follows an "every" word, if the line starts with one and goes on
/// with a number, an ordinal, `other`, a week word or a weekday.
fn every_rest(s: &str) -> Option<&str> {
    let rest = EVERY_WORDS
        .iter()
        .find_map(|w| s.strip_prefix(w)?.strip_prefix(' '))?;
    let first = rest.split_whitespace().next()?;
    let first = first.trim_end_matches('.');
    let counts = first.bytes().all(|b| b.is_ascii_digit())
        || NUMBER_WORDS.iter().any(|(w, _)| *w == first)
        || ORDINALS.iter().any(|(w, _)| *w == first)
        || WEEK_WORDS.contains(&first)
        || weekday(first).is_some();
    counts.then_some(rest)
}

/// `every 2 weeks`, `weekly`, `fortnightly`, `first mon 10:00`, … .
fn cadence(s: &str) -> Option<Result<ScheduleChange, String>> {
    let every = |weeks| Some(Ok(ScheduleChange::Every { weeks }));
    match s {
        "weekly"
        | "every week"
        | "hebdomadaire"
        | "chaque semaine"
        | "toutes les semaines"
        | "wochentlich"
        | "jede woche"
        | "semanal"
        | "cada semana"
        | "ukentlig"
        | "hver uke" => {
            return every(1);
        }
        "fortnightly" | "every other week" | "quincenal" | "annenhver uke" => return every(2),
        "biweekly" | "bi-weekly" => {
            return Some(Err(
                "`biweekly` can mean twice a week or every two weeks; write `every 2 weeks`".into(),
            ));
        }
        "monthly" | "mensuel" | "monatlich" | "mensual" | "manedlig" => {
            return Some(Err(
                "say which day of the month: e.g. `first mon 10:00` or `last fri 15:00`".into(),
            ));
        }
        _ => {}
    }
    let rest = every_rest(s)
        .or_else(|| {
            ["monthly", "mensuel", "monatlich", "mensual", "manedlig"]
                .iter()
                .find_map(|p| s.strip_prefix(p)?.strip_prefix([' ', ':', ',']))
                .map(|r| r.trim_start_matches([' ', ':', ',']))
        })
        .unwrap_or(s);
    let words: Vec<&str> = rest.split_whitespace().collect();
    // `every 2 weeks`, `toutes les deux semaines`, `hver 2. uke`
    if let [n, week] = words.as_slice()
        && WEEK_WORDS.contains(week)
        && rest != s
    {
        let n = n.trim_end_matches('.');
        let weeks = n
            .parse::<u8>()
            .ok()
            .or_else(|| NUMBER_WORDS.iter().find(|(w, _)| *w == n).map(|(_, v)| *v));
        return Some(match weeks {
            Some(w @ 1..=4) => Ok(ScheduleChange::Every { weeks: w }),
            _ => Err(
                "a 1:1 is every 1, 2, 3 or 4 weeks, or a monthly rule such as `first mon 10:00`"
                    .into(),
            ),
        });
    }
    // `first mon 10:00`, `every last friday at 3pm`
    let first = words.first()?;
    let nth = ORDINALS.iter().find(|(w, _)| w == first).map(|(_, n)| *n)?;
    let when = match when(&words[1..]) {
        Ok(w) => w,
        Err(e) => return Some(Err(e)),
    };
    Some(match when {
        When {
            day: Some(day),
            date: None,
            time: Some(time),
        } => Ok(ScheduleChange::MonthlyRule { nth, day, time }),
        _ => Err("a monthly rule is an ordinal, a weekday and a time: `first mon 10:00`".into()),
    })
}

/// `moved to thu 15:00`, `moved to 2026-12-18 10:00`, `moved to 16:30`.
fn moved(rest: &str, today: NaiveDate) -> Result<ScheduleChange, String> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let w = when(&words)?;
    let Some(time) = w.time else {
        return Err("say the time too: e.g. `moved to thu 15:00`".into());
    };
    if let Some(date) = w.date {
        if date < today {
            return Err(format!("{date} is in the past"));
        }
        if w.day.is_some_and(|d| d != date.weekday()) {
            return Err(format!(
                "{date} is not a {}",
                w.day.unwrap_or(date.weekday())
            ));
        }
    }
    Ok(ScheduleChange::MovedTo {
        day: if w.date.is_some() { None } else { w.day },
        date: w.date,
        time,
    })
}

/// `next 1:1 on 2026-12-18 10:00`.
fn next_on(rest: &str, today: NaiveDate) -> Result<ScheduleChange, String> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let w = when(&words)?;
    let (Some(date), Some(time)) = (w.date, w.time) else {
        return Err("say the date and time: `next 1:1 on 2026-12-18 10:00`".into());
    };
    if date < today {
        return Err(format!("{date} is in the past"));
    }
    if w.day.is_some_and(|d| d != date.weekday()) {
        return Err(format!(
            "{date} is not a {}",
            w.day.unwrap_or(date.weekday())
        ));
    }
    Ok(ScheduleChange::NextOn { date, time })
}

#[derive(Default)]
struct When {
    day: Option<Weekday>,
    date: Option<NaiveDate>,
    time: Option<NaiveTime>,
}

/// Weekday, date and time words (folded), fillers skipped; any word not
/// read, or read twice, makes the whole unreadable.
fn when(words: &[&str]) -> Result<When, String> {
    let mut w = When::default();
    let mut i = 0;
    while i < words.len() {
        let word = words[i].trim_end_matches(',');
        i += 1;
        // `3 pm`, `15 Uhr`: the next word belongs to the time.
        let joined;
        let word = match words.get(i).map(|next| match *next {
            "uhr" | "h" => format!("{word}h"),
            next => format!("{word}{next}"),
        }) {
            Some(j)
                if time(word).is_none()
                    && time(&j).is_some()
                    && matches!(words[i], "am" | "pm" | "a.m." | "p.m." | "uhr" | "h") =>
            {
                i += 1;
                joined = j;
                joined.as_str()
            }
            _ => word,
        };
        if FILLERS.contains(&word) {
            continue;
        }
        let unreadable = || {
            format!(
                "\"{}\" is not a weekday, a date (2026-12-18) or a time (15:00)",
                quote(word)
            )
        };
        if let Some(d) = weekday(word) {
            if w.day.replace(d).is_some() {
                return Err(unreadable());
            }
        } else if let Some(d) = date(word) {
            if w.date.replace(d).is_some() {
                return Err(unreadable());
            }
        } else if let Some(t) = time(word) {
            if w.time.replace(t).is_some() {
                return Err(unreadable());
            }
        } else {
            return Err(unreadable());
        }
    }
    if w.day.is_none() && w.date.is_none() && w.time.is_none() {
        return Err("say when: a weekday or a date (2026-12-18), and a time (15:00)".into());
    }
    Ok(w)
}

fn weekday(word: &str) -> Option<Weekday> {
    let word = word.trim_end_matches('.');
    WEEKDAYS.iter().find(|(w, _)| *w == word).map(|(_, d)| *d)
}

/// `2026-12-18` or `18.12.2026`; nothing that could be read two ways.
fn date(word: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(word, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(word, "%d.%m.%Y"))
        .ok()
}

/// `15:00`, `9:30`, `15h`, `15h30`, `3pm`, `3:30pm`, `10am`.
fn time(word: &str) -> Option<NaiveTime> {
    let (body, offset) = if let Some(b) = word
        .strip_suffix("pm")
        .or_else(|| word.strip_suffix("p.m."))
    {
        (b, Some(12))
    } else if let Some(b) = word
        .strip_suffix("am")
        .or_else(|| word.strip_suffix("a.m."))
    {
        (b, Some(0))
    } else {
        (word, None)
    };
    let (h, m) = match body.split_once([':', 'h']) {
        Some((h, "")) if body.ends_with('h') => (h, "0"),
        Some((h, m)) if m.len() == 2 => (h, m),
        Some(_) => return None,
        None if offset.is_some() => (body, "0"),
        None => return None,
    };
    if h.is_empty() || h.len() > 2 || !h.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !m.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    if let Some(off) = offset {
        if !(1..=12).contains(&h) {
            return None;
        }
        h = h % 12 + off;
    }
    NaiveTime::from_hms_opt(h, m, 0)
}

/// How a PM answered one open action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Done,
    Partly,
    NotYet,
}

impl ActionStatus {
    /// As stored and exported: `done`, `partly`, `not_yet`.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Done => "done",
            ActionStatus::Partly => "partly",
            ActionStatus::NotYet => "not_yet",
        }
    }

    /// The inverse of [`ActionStatus::as_str`].
    pub fn parse(s: &str) -> Option<ActionStatus> {
        match s {
            "done" => Some(ActionStatus::Done),
            "partly" => Some(ActionStatus::Partly),
            "not_yet" => Some(ActionStatus::NotYet),
            _ => None,
        }
    }

    /// In words, as the emails say it: `done`, `partly`, `not yet`.
    pub fn words(self) -> &'static str {
        match self {
            ActionStatus::Done => "done",
            ActionStatus::Partly => "partly",
            ActionStatus::NotYet => "not yet",
        }
    }
}

/// One open action answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActionAnswer {
    /// Index into the open actions the form asked about.
    pub action: usize,
    pub status: ActionStatus,
    /// What the PM wrote after the answer word, if anything.
    pub comment: Option<String>,
}

/// A PM's answers to the open actions, and the lines that could not be read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ActionAnswers {
    pub answers: Vec<ActionAnswer>,
    pub problems: Vec<String>,
    /// The own lines (by index) read as questions, answers or problems:
    /// not the PM's note, and not for the skill grammar.
    #[serde(skip)]
    pub lines: Vec<usize>,
}

/// Answer words, folded, longest first within each language.
const STATUS_WORDS: &[(&str, ActionStatus)] = &[
    ("not yet", ActionStatus::NotYet),
    ("not done", ActionStatus::NotYet),
    ("no", ActionStatus::NotYet),
    ("done", ActionStatus::Done),
    ("yes", ActionStatus::Done),
    ("✓", ActionStatus::Done),
    ("✔", ActionStatus::Done),
    ("✅", ActionStatus::Done),
    ("partly", ActionStatus::Partly),
    ("partially", ActionStatus::Partly),
    ("in progress", ActionStatus::Partly),
    ("pas encore", ActionStatus::NotYet),
    ("non", ActionStatus::NotYet),
    ("fait", ActionStatus::Done),
    ("oui", ActionStatus::Done),
    ("en partie", ActionStatus::Partly),
    ("partiellement", ActionStatus::Partly),
    ("noch nicht", ActionStatus::NotYet),
    ("nein", ActionStatus::NotYet),
    ("erledigt", ActionStatus::Done),
    ("ja", ActionStatus::Done),
    ("teilweise", ActionStatus::Partly),
    ("todavia no", ActionStatus::NotYet),
    ("aun no", ActionStatus::NotYet),
    ("hecho", ActionStatus::Done),
    ("si", ActionStatus::Done),
    ("en parte", ActionStatus::Partly),
    ("parcialmente", ActionStatus::Partly),
    ("ikke enna", ActionStatus::NotYet),
    ("ikke ferdig", ActionStatus::NotYet),
    ("nei", ActionStatus::NotYet),
    ("ferdig", ActionStatus::Done),
    ("gjort", ActionStatus::Done),
    ("delvis", ActionStatus::Partly),
];

/// The answer word a folded text starts with, and the rest (the comment),
/// or `None` when it starts with no answer word.
fn status_of(folded: &str) -> Option<(ActionStatus, usize)> {
    STATUS_WORDS
        .iter()
        .filter(|(w, _)| {
            folded.strip_prefix(w).is_some_and(|rest| {
                rest.is_empty()
                    || rest.starts_with(|c: char| {
                        c.is_whitespace()
                            || matches!(c, ',' | '.' | '-' | '–' | '—' | '(' | ';' | '!')
                    })
            })
        })
        .max_by_key(|(w, _)| w.len())
        .map(|(w, s)| (*s, w.len()))
}

/// Words compared, folded, punctuation dropped: `Roadmap draft` and
/// `send the roadmap draft to sales` meet on whole words.
fn words_of(s: &str) -> Vec<String> {
    fold(s)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The open actions a label names: the action itself, or a run of its
/// whole words (`Roadmap draft` for `Send the roadmap draft to sales`).
fn actions_named(label: &str, open: &[Vec<String>]) -> Vec<usize> {
    let label = words_of(label);
    if label.is_empty() || label.concat().chars().count() < 3 {
        return Vec::new();
    }
    let exact: Vec<usize> = (0..open.len()).filter(|i| open[*i] == label).collect();
    if !exact.is_empty() {
        return exact;
    }
    (0..open.len())
        .filter(|i| open[*i].windows(label.len()).any(|w| w == label.as_slice()))
        .collect()
}

/// Which of the `open` actions (in the order the coach was shown them,
/// numbered from 1) a drop names: by number, or by its text or a run of its
/// whole words. A drop naming none, or more than one, is a problem (the
/// text to tell the coach), never a guess.
pub fn action_to_drop(target: &DropTarget, open: &[String]) -> Result<usize, String> {
    match target {
        DropTarget::Number(n) => {
            let i = usize::from(*n);
            if (1..=open.len()).contains(&i) {
                Ok(i - 1)
            } else {
                Err(format!(
                    "\"drop {n}\": there is no open action {n} ({} open) — write `drop: <its text>`",
                    open.len()
                ))
            }
        }
        DropTarget::Text(text) => {
            let words: Vec<Vec<String>> = open.iter().map(|a| words_of(a)).collect();
            match actions_named(text, &words).as_slice() {
                [one] => Ok(*one),
                [] => Err(format!(
                    "\"drop: {}\": names no open action — copy its text from the digest, or write `drop <its number>`",
                    quote(text)
                )),
                many => Err(format!(
                    "\"drop: {}\": names {} open actions — write more of its text, or `drop <its number>`",
                    quote(text),
                    many.len()
                )),
            }
        }
    }
}

/// Whether a line is an unanswered form question: `…: done / partly / not yet`.
fn is_question(rest_folded: &str) -> bool {
    let parts: Vec<Option<ActionStatus>> = rest_folded
        .split('/')
        .map(|p| {
            let p = p.trim();
            status_of(p).filter(|(_, n)| *n == p.len()).map(|(s, _)| s)
        })
        .collect();
    parts.len() == 3
        && [
            ActionStatus::Done,
            ActionStatus::Partly,
            ActionStatus::NotYet,
        ]
        .iter()
        .all(|s| parts.contains(&Some(*s)))
}

/// Reads a PM's answers to the open actions a form asked about: each
/// asked as `<action>: done / partly / not yet` and answered on that line
/// (`<action or a run of its words>: done, sent Tuesday`) or on the line
/// under an unanswered question. Lines naming no open action are not
/// looked at, nor lines the skill grammar reads as answers
/// (`is_skill_answer`: `Delivery: 4` is a score even when an action mentions
/// delivery); a line naming two actions, an unknown answer word, a question
/// half edited (`done / partly`) or two different answers to one action is
/// a problem, never an answer.
pub fn read_action_answers(
    own_lines: &[OwnLine],
    open_actions: &[String],
    is_skill_answer: &dyn Fn(&str) -> bool,
) -> ActionAnswers {
    let open: Vec<Vec<String>> = open_actions.iter().map(|a| words_of(a)).collect();
    let mut out = ActionAnswers::default();
    let mut pending: Option<usize> = None;
    // Actions answered twice, differently: never answered at all.
    let mut conflicted: Vec<usize> = Vec::new();
    for (at, line) in own_lines.iter().enumerate() {
        let text = line.display();
        let text = text.trim().trim_start_matches(['>', '-', '*', ' ']).trim();
        if text.is_empty() {
            continue;
        }
        let under = pending.take();
        if under.is_none() && is_skill_answer(text) {
            continue;
        }
        if let Some(i) = under {
            let folded = fold(text);
            if let Some((status, n)) = status_of(&folded) {
                out.lines.push(at);
                record(
                    &mut out,
                    &mut conflicted,
                    i,
                    status,
                    comment(text, &folded, n),
                    text,
                );
                continue;
            }
        }
        // The label is the text before a `:` whose rest is an answer or the
        // question (an action may itself hold a `:`, as in 10:00).
        let mut named = false;
        let mut read = false;
        for (pos, _) in text.match_indices(':') {
            let (label, rest) = (&text[..pos], text[pos + 1..].trim());
            let hits = actions_named(label, &open);
            if hits.is_empty() {
                continue;
            }
            named = true;
            let folded = fold(rest);
            let status = status_of(&folded);
            if status.is_none() && !folded.is_empty() && !is_question(&folded) {
                continue;
            }
            read = true;
            out.lines.push(at);
            if hits.len() > 1 {
                out.problems.push(format!(
                    "\"{}\": names more than one open action; write more of its text",
                    quote(text)
                ));
            } else if is_question(&folded) || folded.is_empty() {
                pending = Some(hits[0]);
            } else if let Some((_, n)) = status
                && folded[n..].trim_start().starts_with('/')
            {
                out.problems.push(format!(
                    "\"{}\": keep only your answer: `done`, `partly` or `not yet`",
                    quote(text)
                ));
            } else if let Some((status, n)) = status {
                record(
                    &mut out,
                    &mut conflicted,
                    hits[0],
                    status,
                    comment(rest, &folded, n),
                    text,
                );
            }
            break;
        }
        if named && !read {
            out.lines.push(at);
            out.problems.push(format!(
                "\"{}\": answer `done`, `partly` or `not yet`",
                quote(text)
            ));
        }
        // One or two words under a question are a try at answering it.
        if !named
            && let Some(i) = under
            && text.split_whitespace().count() <= 2
        {
            out.lines.push(at);
            out.problems.push(format!(
                "\"{}\": under \"{}\", answer `done`, `partly` or `not yet`",
                quote(text),
                quote(&open_actions[i])
            ));
        }
    }
    if out.problems.len() > MAX_PROBLEMS {
        let more = out.problems.len() - MAX_PROBLEMS;
        out.problems.truncate(MAX_PROBLEMS);
        out.problems.push(format!("{more} more line(s) not read"));
    }
    out
}

/// Whether a quoted form line asks about one of the `open_actions`, and
/// whether the PM answered it in the quote itself: what the quote stripper
/// keeps of a quoted form besides skill lines. `None` for any other line.
pub fn asked_line(line: &str, open_actions: &[String]) -> Option<Asked> {
    if open_actions.is_empty() || !line.contains(':') {
        return None;
    }
    let text = line.trim().trim_start_matches(['-', '*', ' ']).trim();
    let open: Vec<Vec<String>> = open_actions.iter().map(|a| words_of(a)).collect();
    for (pos, _) in text.match_indices(':') {
        let (label, rest) = (&text[..pos], text[pos + 1..].trim());
        if actions_named(label, &open).is_empty() {
            continue;
        }
        let folded = fold(rest);
        if is_question(&folded) {
            return Some(Asked::Question);
        }
        if status_of(&folded).is_some() {
            return Some(Asked::Answered);
        }
    }
    None
}

/// The comment after an answer word `n` bytes long in `folded`: the same
/// words in the original text, separators trimmed.
fn comment(original: &str, folded: &str, n: usize) -> Option<String> {
    // Folding keeps one word per word: skip as many words as the answer has.
    let skip = folded[..n].split_whitespace().count();
    let rest: Vec<&str> = original.split_whitespace().skip(skip).collect();
    let c = rest
        .join(" ")
        .trim_start_matches([',', '.', '-', '–', '—', ';', '!', ' '])
        .trim()
        .to_string();
    (!c.is_empty()).then_some(c)
}

fn record(
    out: &mut ActionAnswers,
    conflicted: &mut Vec<usize>,
    action: usize,
    status: ActionStatus,
    comment: Option<String>,
    line: &str,
) {
    if conflicted.contains(&action) {
        return;
    }
    if let Some(prev) = out.answers.iter().position(|a| a.action == action) {
        if out.answers[prev].status != status {
            out.answers.remove(prev);
            conflicted.push(action);
            out.problems.push(format!(
                "\"{}\": this action was answered twice, differently; answer it once",
                quote(line)
            ));
        }
        return;
    }
    out.answers.push(ActionAnswer {
        action,
        status,
        comment,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
    }

    fn read(text: &str) -> CoachReply {
        read_coach_reply(text, today())
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn one_change(line: &str) -> ScheduleChange {
        let r = read(line);
        assert!(r.problems.is_empty(), "{line:?}: {:?}", r.problems);
        assert_eq!(r.schedule.len(), 1, "{line:?}: {r:?}");
        assert_eq!(r.private_note, None, "{line:?}");
        r.schedule[0].clone()
    }

    fn is_problem(line: &str) {
        let r = read(line);
        assert!(r.schedule.is_empty(), "{line:?} read as {:?}", r.schedule);
        assert_eq!(r.problems.len(), 1, "{line:?}: {r:?}");
        assert!(r.problems[0].contains(line.trim()), "{:?}", r.problems);
    }

    #[test]
    fn action_lines_in_every_form_are_actions() {
        let r = read(
            "Action: send the roadmap draft to sales by Thursday\n\
             - [ ] book the user interviews\n\
             * [ ] write the pricing memo\n\
             [ ] share the churn numbers\n\
             TODO: pair with Ana on discovery\n\
             To do: review the OKRs\n\
             to-do:   trim the backlog  \n",
        );
        assert_eq!(
            r.actions,
            vec![
                "send the roadmap draft to sales by Thursday",
                "book the user interviews",
                "write the pricing memo",
                "share the churn numbers",
                "pair with Ana on discovery",
                "review the OKRs",
                "trim the backlog",
            ]
        );
        assert!(r.problems.is_empty() && r.schedule.is_empty() && r.drops.is_empty());
        assert_eq!(r.private_note, None);
    }

    #[test]
    fn action_labels_in_the_supported_languages_are_actions() {
        let r = read(
            "Action : envoyer la feuille de route\n\
             À faire : relire le plan\n\
             Aufgabe: Kundeninterviews planen\n\
             To-do: Roadmap teilen\n\
             Acción: enviar el borrador\n\
             Tarea: revisar métricas\n\
             Oppgave: sende veikartet\n\
             Tiltak: booke intervjuer\n",
        );
        assert_eq!(
            r.actions,
            vec![
                "envoyer la feuille de route",
                "relire le plan",
                "Kundeninterviews planen",
                "Roadmap teilen",
                "enviar el borrador",
                "revisar métricas",
                "sende veikartet",
                "booke intervjuer",
            ]
        );
        assert!(r.problems.is_empty());
    }

    #[test]
    fn list_items_under_an_actions_heading_are_actions_until_the_list_ends() {
        let r = read(
            "Actions:\n\n- send the roadmap\n* book interviews\n2) review pricing\n\n- my own reminder\n",
        );
        assert_eq!(
            r.actions,
            vec!["send the roadmap", "book interviews", "review pricing"]
        );
        assert_eq!(r.private_note.as_deref(), Some("- my own reminder"));
        let r = read("À faire :\n1. relire le plan\nBonne séance.\n- pas une action\n");
        assert_eq!(r.actions, vec!["relire le plan"]);
        assert_eq!(
            r.private_note.as_deref(),
            Some("Bonne séance.\n- pas une action")
        );
    }

    #[test]
    fn list_items_without_a_heading_stay_in_the_note() {
        let r = read("- she presented well\n- the team trusts her\n");
        assert!(r.actions.is_empty());
        assert_eq!(
            r.private_note.as_deref(),
            Some("- she presented well\n- the team trusts her")
        );
    }

    #[test]
    fn empty_and_repeated_actions_are_dropped() {
        let r = read("Action:\n- [ ]   \nAction: ship it\nTODO: Ship it\n");
        assert_eq!(r.actions, vec!["ship it"]);
        assert!(r.problems.is_empty());
    }

    #[test]
    fn actions_beyond_the_cap_are_not_recorded_and_said_so() {
        let text: String = (1..=23).map(|i| format!("Action: task {i}\n")).collect();
        let r = read(&text);
        assert_eq!(r.actions.len(), MAX_ACTIONS);
        assert_eq!(r.actions[19], "task 20");
        assert_eq!(r.problems.len(), 1);
        assert!(
            r.problems[0].starts_with("3 more action(s)"),
            "{:?}",
            r.problems
        );
    }

    #[test]
    fn an_action_longer_than_the_cap_is_a_problem() {
        let long = "x".repeat(MAX_ACTION_CHARS + 1);
        let exact = "y".repeat(MAX_ACTION_CHARS);
        let r = read(&format!("Action: {long}\nAction: {exact}\n"));
        assert_eq!(r.actions, vec![exact]);
        assert_eq!(r.problems.len(), 1);
        assert!(r.problems[0].contains("at most 300 characters"));
    }

    #[test]
    fn problems_are_capped_and_quote_at_most_80_characters() {
        let long = format!("moved to {}", "x".repeat(200));
        let text: String = (0..25).map(|_| format!("{long}\n")).collect();
        let r = read(&text);
        assert_eq!(r.problems.len(), MAX_PROBLEMS + 1);
        assert_eq!(r.problems[MAX_PROBLEMS], "5 more line(s) not read");
        assert!(r.problems[0].starts_with(&format!("\"{}…\"", &long[..79])));
        assert!(r.schedule.is_empty());
    }

    #[test]
    fn a_ticked_box_is_a_problem_not_an_action() {
        let r = read("- [x] sent the draft\n");
        assert!(r.actions.is_empty());
        assert_eq!(r.problems.len(), 1);
        assert!(r.problems[0].contains("drop:"));
    }

    #[test]
    fn a_drop_names_one_open_action_or_is_a_problem() {
        let open = vec![
            "Send the roadmap draft to sales".to_string(),
            "Book a discovery call".to_string(),
            "Send the pricing memo".to_string(),
        ];
        assert_eq!(action_to_drop(&DropTarget::Number(2), &open), Ok(1));
        assert_eq!(
            action_to_drop(&DropTarget::Text("roadmap draft".into()), &open),
            Ok(0)
        );
        assert!(action_to_drop(&DropTarget::Number(4), &open).is_err());
        assert!(action_to_drop(&DropTarget::Text("send the".into()), &open).is_err());
        assert!(action_to_drop(&DropTarget::Text("hire a designer".into()), &open).is_err());
    }

    #[test]
    fn drops_by_text_and_by_number() {
        let r = read("drop: send the roadmap\nDrop 2\ndrop #3\nRetirer : relire le plan\n");
        assert_eq!(
            r.drops,
            vec![
                DropTarget::Text("send the roadmap".into()),
                DropTarget::Number(2),
                DropTarget::Number(3),
                DropTarget::Text("relire le plan".into()),
            ]
        );
        assert!(r.problems.is_empty());
        assert_eq!(r.private_note, None);
    }

    #[test]
    fn a_drop_without_a_target_is_a_problem_and_prose_stays_a_note() {
        let r = read("drop:\ndrop 0\nDrop by the office when you can\n");
        assert!(r.drops.is_empty());
        assert_eq!(r.problems.len(), 2, "{:?}", r.problems);
        assert_eq!(
            r.private_note.as_deref(),
            Some("Drop by the office when you can")
        );
    }

    #[test]
    fn text_under_private_is_a_note_even_if_it_looks_like_an_action() {
        let r = read(
            "Action: ship the beta\n\nPrivate:\nShe seems tired.\n\nAction: talk to HR\ncancelled\n",
        );
        assert_eq!(r.actions, vec!["ship the beta"]);
        assert!(r.schedule.is_empty());
        assert_eq!(
            r.private_note.as_deref(),
            Some("She seems tired.\n\nAction: talk to HR\ncancelled")
        );
    }

    #[test]
    fn private_headings_in_the_supported_languages_open_the_note() {
        for heading in ["Private:", "Privat:", "Privé :", "Privado:", "PRIVATE: "] {
            let r = read(&format!("Action: a\n{heading} keep this\nand this"));
            assert_eq!(r.actions, vec!["a"], "{heading}");
            assert_eq!(
                r.private_note.as_deref(),
                Some("keep this\nand this"),
                "{heading}"
            );
        }
    }

    #[test]
    fn any_other_text_is_the_private_note() {
        let r = read("Good session today.\nAction: send notes\nWe moved fast on pricing.\n");
        assert_eq!(r.actions, vec!["send notes"]);
        assert_eq!(
            r.private_note.as_deref(),
            Some("Good session today.\nWe moved fast on pricing.")
        );
        assert!(r.schedule.is_empty() && r.problems.is_empty());
    }

    #[test]
    fn moved_to_a_weekday_a_date_or_a_time() {
        assert_eq!(
            one_change("moved to thu 15:00"),
            ScheduleChange::MovedTo {
                day: Some(Weekday::Thu),
                date: None,
                time: hm(15, 0)
            }
        );
        assert_eq!(
            one_change("Moved to Thursday at 3pm."),
            ScheduleChange::MovedTo {
                day: Some(Weekday::Thu),
                date: None,
                time: hm(15, 0)
            }
        );
        assert_eq!(
            one_change("moved to 2026-12-18 10:00"),
            ScheduleChange::MovedTo {
                day: None,
                date: Some(ymd(2026, 12, 18)),
                time: hm(10, 0)
            }
        );
        assert_eq!(
            one_change("1:1 moved to fri 18.12.2026 9:30 am"),
            ScheduleChange::MovedTo {
                day: None,
                date: Some(ymd(2026, 12, 18)),
                time: hm(9, 30)
            }
        );
        assert_eq!(
            one_change("moved to 16:30"),
            ScheduleChange::MovedTo {
                day: None,
                date: None,
                time: hm(16, 30)
            }
        );
    }

    #[test]
    fn moved_to_in_the_supported_languages() {
        let thu15 = ScheduleChange::MovedTo {
            day: Some(Weekday::Thu),
            date: None,
            time: hm(15, 0),
        };
        for line in [
            "déplacé à jeudi 15h",
            "1:1 verschoben auf Do 15:00",
            "movido al jueves a las 15:00",
            "flyttet til torsdag kl 15:00",
            "verschoben auf Donnerstag um 15 Uhr",
            "The one-on-one moved to thu 15h00",
        ] {
            assert_eq!(one_change(line), thu15, "{line}");
        }
    }

    #[test]
    fn unreadable_moves_are_problems_never_guesses() {
        for line in [
            "moved to someday",
            "moved to thu",
            "moved to thu fri 15:00",
            "moved to 25:00",
            "moved to 13pm",
            "moved to 12/18 10:00",
            "moved to 2026-11-30 10:00",
            "moved to fri 2026-12-17 10:00",
            "rescheduled, will confirm",
        ] {
            is_problem(line);
        }
    }

    #[test]
    fn cancellations_in_the_supported_languages() {
        for line in [
            "cancelled",
            "Canceled.",
            "no 1:1 this week",
            "No 1-1 this week!",
            "1:1 cancelled",
            "annulé",
            "pas de 1:1 cette semaine",
            "abgesagt",
            "1:1 fällt aus",
            "cancelado",
            "avlyst",
        ] {
            assert_eq!(one_change(line), ScheduleChange::Cancelled, "{line}");
        }
        is_problem("cancelled until further notice");
        is_problem("no 1:1 for a while");
    }

    #[test]
    fn next_one_on_a_date() {
        let want = ScheduleChange::NextOn {
            date: ymd(2026, 12, 18),
            time: hm(10, 0),
        };
        for line in [
            "next 1:1 on 2026-12-18 10:00",
            "Next 1:1 on Fri 2026-12-18 at 10am",
            "prochain 1:1 le 18.12.2026 10h",
            "nächstes 1:1 am 2026-12-18 10:00",
            "próximo 1:1 el 2026-12-18 10:00",
            "neste 1:1 på 2026-12-18 kl 10:00",
        ] {
            assert_eq!(one_change(line), want, "{line}");
        }
        assert_eq!(
            one_change("next 1:1 on 2026-12-02 08:00"),
            ScheduleChange::NextOn {
                date: today(),
                time: hm(8, 0)
            }
        );
        assert_eq!(
            one_change("next 1-1 on 2027-01-11 10:00"),
            ScheduleChange::NextOn {
                date: ymd(2027, 1, 11),
                time: hm(10, 0)
            }
        );
        is_problem("next 1:1 on thu 10:00");
        is_problem("next 1:1 on 2026-12-01 10:00");
        is_problem("next 1:1 on 2026-12-18");
        is_problem("next 1:1 soon");
    }

    #[test]
    fn cadences_every_n_weeks() {
        for (line, weeks) in [
            ("every 2 weeks", 2),
            ("Every two weeks.", 2),
            ("every other week", 2),
            ("fortnightly", 2),
            ("weekly", 1),
            ("every week", 1),
            ("every 4 weeks", 4),
            ("toutes les 2 semaines", 2),
            ("toutes les deux semaines", 2),
            ("alle 2 Wochen", 2),
            ("wöchentlich", 1),
            ("cada 2 semanas", 2),
            ("quincenal", 2),
            ("hver 2. uke", 2),
            ("annenhver uke", 2),
        ] {
            assert_eq!(one_change(line), ScheduleChange::Every { weeks }, "{line}");
        }
        is_problem("every 6 weeks");
        is_problem("biweekly");
        is_problem("monthly");
    }

    #[test]
    fn monthly_rules() {
        assert_eq!(
            one_change("first mon 10:00"),
            ScheduleChange::MonthlyRule {
                nth: 1,
                day: Weekday::Mon,
                time: hm(10, 0)
            }
        );
        for (line, nth, day, time) in [
            ("every first monday at 10:00", 1, Weekday::Mon, hm(10, 0)),
            ("monthly: last fri 15:00", 5, Weekday::Fri, hm(15, 0)),
            ("Monthly, 3rd Wed 9am", 3, Weekday::Wed, hm(9, 0)),
            ("le premier lundi du mois à 10h", 1, Weekday::Mon, hm(10, 0)),
            ("jeden ersten Montag um 10:00", 1, Weekday::Mon, hm(10, 0)),
            (
                "el último viernes del mes 15:00",
                5,
                Weekday::Fri,
                hm(15, 0),
            ),
            (
                "første mandag i måneden kl 10:00",
                1,
                Weekday::Mon,
                hm(10, 0),
            ),
        ] {
            assert_eq!(
                one_change(line),
                ScheduleChange::MonthlyRule { nth, day, time },
                "{line}"
            );
        }
        is_problem("first mon");
        is_problem("every second week day");
    }

    #[test]
    fn one_reply_carries_everything_at_once() {
        let r = read(
            "Thanks, good talk.\n\
             Action: send the roadmap draft to sales by Thursday\n\
             - [ ] book 3 user interviews\n\
             drop: old pricing memo\n\
             moved to thu 15:00\n\
             every 2 weeks\n\
             moved to someday\n\
             Private:\nWorried about her load.\n",
        );
        assert_eq!(r.actions.len(), 2);
        assert_eq!(r.drops, vec![DropTarget::Text("old pricing memo".into())]);
        assert_eq!(r.schedule.len(), 2);
        assert_eq!(r.problems.len(), 1);
        assert_eq!(
            r.private_note.as_deref(),
            Some("Thanks, good talk.\nWorried about her load.")
        );
    }

    fn lines(text: &str) -> Vec<OwnLine> {
        text.lines().map(OwnLine::own).collect()
    }

    /// Reads answers as the engine will: the real framework's skill
    /// grammar decides which lines are scores.
    fn read_action_answers_(lines: &[OwnLine], open: &[String]) -> ActionAnswers {
        let f = crate::framework::Framework::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/framework.toml"
        )))
        .unwrap();
        let lex = crate::understand::grammar::Lexicon::new(&f);
        read_action_answers(lines, open, &|l| lex.is_answer(l))
    }

    fn open() -> Vec<String> {
        vec![
            "Send the roadmap draft to sales".into(),
            "Book three user interviews".into(),
            "Review the pricing draft".into(),
        ]
    }

    fn answer(action: usize, status: ActionStatus, comment: Option<&str>) -> ActionAnswer {
        ActionAnswer {
            action,
            status,
            comment: comment.map(str::to_string),
        }
    }

    #[test]
    fn answers_inline_after_the_action_text() {
        let a = read_action_answers_(
            &lines(
                "Send the roadmap draft to sales: done, sent Tuesday\n\
                 Book three user interviews: partly - two booked\n\
                 Review the pricing draft: not yet\n",
            ),
            &open(),
        );
        assert_eq!(
            a.answers,
            vec![
                answer(0, ActionStatus::Done, Some("sent Tuesday")),
                answer(1, ActionStatus::Partly, Some("two booked")),
                answer(2, ActionStatus::NotYet, None),
            ]
        );
        assert!(a.problems.is_empty());
    }

    #[test]
    fn answers_by_a_run_of_the_action_words_top_posted() {
        let a = read_action_answers_(
            &lines("Roadmap draft: done\nuser interviews: yes\npricing: no, next week\n"),
            &open(),
        );
        assert_eq!(
            a.answers,
            vec![
                answer(0, ActionStatus::Done, None),
                answer(1, ActionStatus::Done, None),
                answer(2, ActionStatus::NotYet, Some("next week")),
            ]
        );
    }

    #[test]
    fn answers_under_the_quoted_question() {
        let a = read_action_answers_(
            &lines(
                "> Send the roadmap draft to sales: done / partly / not yet\n\
                 ✓ sent Monday\n\
                 Book three user interviews: done / partly / not yet\n\
                 partly\n",
            ),
            &open(),
        );
        assert_eq!(
            a.answers,
            vec![
                answer(0, ActionStatus::Done, Some("sent Monday")),
                answer(1, ActionStatus::Partly, None),
            ]
        );
        assert!(a.problems.is_empty());
    }

    #[test]
    fn answers_in_the_supported_languages_case_and_accents_folded() {
        for (word, status) in [
            ("fait", ActionStatus::Done),
            ("en partie", ActionStatus::Partly),
            ("pas encore", ActionStatus::NotYet),
            ("Erledigt", ActionStatus::Done),
            ("teilweise", ActionStatus::Partly),
            ("noch nicht", ActionStatus::NotYet),
            ("hecho", ActionStatus::Done),
            ("sí", ActionStatus::Done),
            ("todavía no", ActionStatus::NotYet),
            ("ferdig", ActionStatus::Done),
            ("delvis", ActionStatus::Partly),
            ("ikke ennå", ActionStatus::NotYet),
        ] {
            let a = read_action_answers_(&lines(&format!("SEND THE ROADMAP: {word}")), &open());
            assert_eq!(a.answers, vec![answer(0, status, None)], "{word}");
        }
        let accents = vec!["Préparer la démo".to_string()];
        let a = read_action_answers_(&lines("preparer la demo: fait"), &accents);
        assert_eq!(a.answers, vec![answer(0, ActionStatus::Done, None)]);
    }

    #[test]
    fn an_answer_naming_two_actions_is_a_problem() {
        let a = read_action_answers_(&lines("draft: done"), &open());
        assert!(a.answers.is_empty());
        assert_eq!(a.problems.len(), 1);
        assert!(a.problems[0].contains("more than one"));
    }

    #[test]
    fn an_unknown_answer_word_is_a_problem() {
        let a = read_action_answers_(
            &lines(
                "Roadmap draft: maybe\nSend the roadmap draft to sales: done / partly / not yet\nsoonish\n",
            ),
            &open(),
        );
        assert!(a.answers.is_empty());
        assert_eq!(a.problems.len(), 2, "{:?}", a.problems);
        let prose = read_action_answers_(
            &lines("Roadmap draft: done / partly / not yet\nGreat week overall, thanks.\n"),
            &open(),
        );
        assert!(prose.answers.is_empty() && prose.problems.is_empty());
    }

    #[test]
    fn two_different_answers_to_one_action_are_a_problem() {
        let a = read_action_answers_(
            &lines("roadmap: done\nroadmap draft: not yet\nroadmap: done\n"),
            &open(),
        );
        assert!(a.answers.is_empty());
        assert_eq!(a.problems.len(), 1);
        let same = read_action_answers_(&lines("roadmap: done\nroadmap draft: done\n"), &open());
        assert_eq!(same.answers, vec![answer(0, ActionStatus::Done, None)]);
    }

    #[test]
    fn lines_naming_no_action_and_unanswered_questions_are_not_answers() {
        let a = read_action_answers_(
            &lines(
                "Strategy: 4\nDelivery: done\n\
                 Send the roadmap draft to sales: done / partly / not yet\n",
            ),
            &open(),
        );
        assert!(a.answers.is_empty());
        assert!(a.problems.is_empty());
    }

    #[test]
    fn a_score_line_is_not_an_action_answer_even_if_its_words_match() {
        let open = vec!["Improve delivery predictability".to_string()];
        let a = read_action_answers_(
            &lines("Delivery: 4\ndelivery predictability: partly"),
            &open,
        );
        assert_eq!(a.answers, vec![answer(0, ActionStatus::Partly, None)]);
        assert!(a.problems.is_empty(), "{:?}", a.problems);
    }

    #[test]
    fn a_half_edited_question_is_a_problem() {
        let a = read_action_answers_(
            &lines("Send the roadmap draft to sales: done / partly"),
            &open(),
        );
        assert!(a.answers.is_empty());
        assert_eq!(a.problems.len(), 1);
        assert!(a.problems[0].contains("keep only your answer"));
    }

    #[test]
    fn an_action_holding_a_colon_is_answered() {
        let open = vec!["Demo at 10:00 to the board".to_string()];
        let a = read_action_answers_(&lines("Demo at 10:00 to the board: done"), &open);
        assert_eq!(a.answers, vec![answer(0, ActionStatus::Done, None)]);
    }

    proptest! {
        #[test]
        fn any_action_line_round_trips(text in "[A-Za-z0-9][A-Za-z0-9 ,.'()-]{0,120}[A-Za-z0-9.)]") {
            let r = read(&format!("Action: {text}"));
            prop_assert_eq!(r.actions, vec![text.trim().to_string()]);
            prop_assert!(r.problems.is_empty());
            prop_assert!(r.schedule.is_empty());
            prop_assert_eq!(r.private_note, None);
        }

        #[test]
        fn random_prose_never_changes_the_schedule(
            prose in proptest::collection::vec("[A-Za-z]{1,12}( [A-Za-z,.']{1,12}){2,14}", 0..8)
        ) {
            let r = read(&prose.join("\n"));
            prop_assert!(r.schedule.is_empty(), "{:?}", r.schedule);
        }

        #[test]
        fn schedule_words_inside_a_sentence_never_change_the_schedule(
            start in proptest::sample::select(vec!["We", "she", "Great", "team", "I think"]),
            rest in proptest::collection::vec(
                proptest::sample::select(vec![
                    "moved", "to", "thu", "15:00", "cancelled", "every", "2", "weeks",
                    "next", "1:1", "on", "2026-12-18", "monthly", "first", "mon",
                    "10:00", "weekly", "no", "this", "week", "drop", "action",
                ]),
                1..12,
            )
        ) {
            let line = format!("{start} {}", rest.join(" "));
            let r = read(&line);
            prop_assert!(r.schedule.is_empty(), "{line:?}: {:?}", r.schedule);
            prop_assert!(r.actions.is_empty() && r.drops.is_empty(), "{line:?}");
        }

        #[test]
        fn no_input_panics(text in "\\PC{0,300}", answers in "\\PC{0,200}") {
            let _ = read(&text);
            let _ = read_action_answers_(&lines(&answers), &open());
        }
    }
}
