//! The PM commands by email: the one table of them, and reading one from a
//! PM's new text.
//!
//! Owns [`COMMANDS`]: for each command its words, how to write it and what
//! it does (the help email and the README's list are made from it) and how
//! its arguments are read. What a command *does* lives in one file per
//! command under `engine::pm_commands`. Pure: never looks at who sent the
//! message (that is `authorize`).

use chrono::NaiveDate;
use serde::Serialize;

use super::classify::{PLEASANTRIES, strip_subject_prefixes};
use super::grammar::{Lexicon, Resolved, fold};

/// Default number of weeks a `trend` covers.
pub const DEFAULT_TREND_WEEKS: u32 = 12;
/// Longest `trend` or `pause` accepted, in weeks (ten years).
const MAX_WEEKS: u32 = 520;

/// A PM's command by email.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "name", rename_all = "lowercase")]
pub enum Command {
    /// History of all skills, or one, over `weeks` weeks (default 12).
    Trend {
        skill: Option<String>,
        weeks: u32,
    },
    Help,
    /// Pause forms and reminders for `weeks` weeks, or until a local date.
    Pause {
        weeks: Option<u32>,
        until: Option<chrono::NaiveDate>,
    },
    Resume,
    /// Skip this week on purpose.
    Skip,
    Export,
    /// Ask to erase everything; `token` is set when this confirms a request.
    Forget {
        token: Option<String>,
    },
    /// Show the weeks written for earlier coaches to the current coach.
    ShareHistory,
    /// Looked like a command but is none: the PM gets the help text.
    Unknown {
        word: String,
    },
}

impl Command {
    /// What a PM controls about their own data and schedule: applied and
    /// answered whatever the rate limit says.
    pub fn always_answered(&self) -> bool {
        matches!(
            self,
            Command::Pause { .. } | Command::Resume | Command::Skip | Command::Forget { .. }
        )
    }

    /// Only reads the PM's own data and answers at the registered address:
    /// safe to answer even when nothing verifies the sender.
    pub fn read_only(&self) -> bool {
        matches!(
            self,
            Command::Trend { .. } | Command::Help | Command::Export | Command::Unknown { .. }
        )
    }

    /// The command's name for logs and events: never its arguments (a skill
    /// or a date says little, a forget code is a secret).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Trend { .. } => "trend",
            Command::Help => "help",
            Command::Pause { .. } => "pause",
            Command::Resume => "resume",
            Command::Skip => "skip",
            Command::Export => "export",
            Command::Forget { token: None } => "forget",
            Command::Forget { token: Some(_) } => "forget-confirm",
            Command::ShareHistory => "share-history",
            Command::Unknown { .. } => "unknown",
        }
    }
}

/// What a command's argument reader gets.
pub struct Args<'a> {
    /// The folded words after the command word.
    pub rest: &'a [String],
    /// The whole line as the PM wrote it (case kept: codes are read from it).
    pub line: &'a str,
    pub lex: &'a Lexicon,
}

/// One line of the help email and the README's list: how to write it and
/// what it does. `{skill}` stands for a skill key of the framework.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    pub usage: &'static str,
    pub summary: &'static str,
    /// What a `mailto:` link for this line puts in the subject.
    pub example: &'static str,
}

/// One PM command: a row of [`COMMANDS`].
pub struct CommandSpec {
    /// Folded words that start it, the canonical one first.
    pub words: &'static [&'static str],
    /// Its lines in the help email and the README.
    pub usage: &'static [Usage],
    /// Reads the words after the command word; `None` when they are not
    /// this command's (the PM then gets the help text).
    pub parse: fn(&Args<'_>) -> Option<Command>,
    /// It changes something, so it needs a verified sender (a reply to one
    /// of our emails): the opposite of [`Command::read_only`].
    pub changes_state: bool,
}

const fn line(usage: &'static str, summary: &'static str, example: &'static str) -> Usage {
    Usage {
        usage,
        summary,
        example,
    }
}

/// Every PM command, in the order help lists them. A new command is one
/// row here, one variant of [`Command`], one handler file under
/// `engine::pm_commands` and its template.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        words: &["trend", "trends", "history"],
        usage: &[
            line("trend", "your history: every skill, last 12 weeks", "trend"),
            line(
                "trend <skill> [weeks]",
                "one skill, e.g. trend {skill} 26",
                "trend {skill} 26",
            ),
        ],
        parse: trend,
        changes_state: false,
    },
    CommandSpec {
        words: &[
            "help", "aide", "hilfe", "ayuda", "aiuto", "ajuda", "hulp", "?",
        ],
        usage: &[line("help", "this message", "help")],
        parse: |a| a.rest.is_empty().then_some(Command::Help),
        changes_state: false,
    },
    CommandSpec {
        words: &["pause"],
        usage: &[
            line("pause 2 weeks", "no forms for 2 weeks", "pause 2 weeks"),
            line(
                "pause until 2026-12-24",
                "no forms until that date",
                "pause until 2026-12-24",
            ),
        ],
        parse: pause,
        changes_state: true,
    },
    CommandSpec {
        words: &["resume", "unpause"],
        usage: &[line("resume", "forms again from the next one", "resume")],
        parse: |a| a.rest.is_empty().then_some(Command::Resume),
        changes_state: true,
    },
    CommandSpec {
        words: &["skip"],
        usage: &[line("skip", "skip this week's form", "skip")],
        parse: |a| a.rest.is_empty().then_some(Command::Skip),
        changes_state: true,
    },
    CommandSpec {
        words: &["export"],
        usage: &[line(
            "export",
            "all your data, as a CSV attachment",
            "export",
        )],
        parse: |a| a.rest.is_empty().then_some(Command::Export),
        changes_state: false,
    },
    CommandSpec {
        words: &["share"],
        usage: &[line(
            "share history",
            "show your weeks from before your current coach to them",
            "share history",
        )],
        parse: |a| (a.rest.len() == 1 && a.rest[0] == "history").then_some(Command::ShareHistory),
        changes_state: true,
    },
    CommandSpec {
        words: &["forget"],
        usage: &[line(
            "forget",
            "delete all your data (asks you to confirm first)",
            "forget",
        )],
        parse: forget,
        changes_state: true,
    },
];

/// The row a command word starts, if any.
pub fn spec(word: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.words.contains(&word))
}

fn parse_weeks(w: &str) -> Option<u32> {
    w.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_WEEKS).contains(n))
}

/// The command in a PM's new text, when the whole text is one.
///
/// The one line a command by email is read from: the only non-empty line
/// of the sender's own text, or the subject (without `Re:`) when the text
/// is empty; trailing `.`/`!` dropped. `None` for several lines, nothing,
/// or a line too long to be a command.
pub fn command_line<'a>(text: &'a str, subject: Option<&'a str>) -> Option<&'a str> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let line = match (lines.next(), lines.next()) {
        (Some(one), None) => one,
        (None, _) => strip_subject_prefixes(subject?),
        _ => return None,
    };
    let line = line.trim_end_matches(['.', '!', ' ']).trim();
    (!line.is_empty() && line.chars().count() <= 80).then_some(line)
}

/// `text` is the reply's own text (quotes, signature and footers removed);
/// `subject` is used when the text is empty; `forget_thread` says the
/// message answers a forget confirmation, so a lone token confirms it.
pub fn read(
    text: &str,
    subject: Option<&str>,
    lex: &Lexicon,
    forget_thread: bool,
) -> Option<Command> {
    let line = command_line(text, subject)?.trim_end_matches(['?', ' ']);
    let words: Vec<String> = line.split_whitespace().map(fold).collect();
    let first = words.first()?.trim_start_matches(['/', '#']).to_string();
    let rest = &words[1..];
    let known = spec(&first);
    if let Some(spec) = known
        && let Some(cmd) = (spec.parse)(&Args { rest, line, lex })
    {
        return Some(cmd);
    }
    if forget_thread && rest.is_empty() && is_token(&first) {
        return Some(Command::Forget {
            token: Some(line.to_string()),
        });
    }
    // A command word with arguments we could not read, or a single word
    // that looks like a command but is none: the PM gets help.
    let looks_like_one = words.len() == 1
        && first.chars().all(char::is_alphabetic)
        && first.chars().count() <= 20
        && !PLEASANTRIES.contains(&first.as_str())
        && !matches!(lex.resolve(&first), Resolved::Skill(_));
    if known.is_some() || looks_like_one {
        return Some(Command::Unknown {
            word: line.to_string(),
        });
    }
    None
}

fn is_token(w: &str) -> bool {
    (8..=128).contains(&w.len())
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn forget(a: &Args<'_>) -> Option<Command> {
    match a.rest {
        [] => Some(Command::Forget { token: None }),
        [token] if is_token(token) => Some(Command::Forget {
            token: Some(
                a.line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or(token)
                    .to_string(),
            ),
        }),
        _ => None,
    }
}

fn trend(a: &Args<'_>) -> Option<Command> {
    let rest = a.rest;
    let lex = a.lex;

    let mut words: Vec<&str> = rest.iter().map(String::as_str).collect();
    if words.last().is_some_and(|w| {
        matches!(
            *w,
            "weeks" | "week" | "w" | "semaines" | "wochen" | "semanas"
        )
    }) {
        words.pop();
    }
    let mut weeks = DEFAULT_TREND_WEEKS;
    if let Some(last) = words.last()
        && last.bytes().all(|b| b.is_ascii_digit())
    {
        weeks = parse_weeks(last)?;
        words.pop();
    }
    let skill = if words.is_empty() {
        None
    } else {
        match lex.resolve(&words.join(" ")) {
            Resolved::Skill(k) => Some(k),
            _ => return None,
        }
    };
    Some(Command::Trend { skill, weeks })
}

fn pause(a: &Args<'_>) -> Option<Command> {
    match a.rest {
        [] => Some(Command::Pause {
            weeks: None,
            until: None,
        }),
        [n] => parse_weeks(n).map(|w| Command::Pause {
            weeks: Some(w),
            until: None,
        }),
        [n, unit]
            if matches!(
                unit.as_str(),
                "week"
                    | "weeks"
                    | "w"
                    | "wk"
                    | "wks"
                    | "semaine"
                    | "semaines"
                    | "woche"
                    | "wochen"
                    | "semana"
                    | "semanas"
            ) =>
        {
            parse_weeks(n).map(|w| Command::Pause {
                weeks: Some(w),
                until: None,
            })
        }
        [until, date]
            if matches!(
                until.as_str(),
                "until" | "till" | "til" | "jusqu'au" | "bis"
            ) =>
        {
            NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .ok()
                .map(|d| Command::Pause {
                    weeks: None,
                    until: Some(d),
                })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Framework;
    use std::path::Path;

    #[test]
    fn a_command_changes_state_exactly_when_it_is_not_read_only() {
        let lex = lex();
        for spec in COMMANDS {
            for usage in spec.usage {
                let example = usage.example.replace("{skill}", "delivery");
                let cmd = read(&example, None, &lex, false).unwrap();
                assert_eq!(spec.changes_state, !cmd.read_only(), "{example}");
            }
        }
    }

    fn lex() -> Lexicon {
        let f = Framework::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/framework.toml"
        )))
        .unwrap();
        Lexicon::new(&f)
    }

    fn cmd(t: &str) -> Option<Command> {
        read(t, None, &lex(), false)
    }

    #[test]
    fn command_words_parse() {
        assert_eq!(
            cmd("trend"),
            Some(Command::Trend {
                skill: None,
                weeks: 12
            })
        );
        assert_eq!(
            cmd("Trend stakeholders 12"),
            Some(Command::Trend {
                skill: Some("stakeholders".into()),
                weeks: 12
            })
        );
        assert_eq!(
            cmd("trend data 8 weeks"),
            Some(Command::Trend {
                skill: Some("data".into()),
                weeks: 8
            })
        );
        assert_eq!(cmd("HELP"), Some(Command::Help));
        assert_eq!(
            cmd("pause 2 weeks"),
            Some(Command::Pause {
                weeks: Some(2),
                until: None
            })
        );
        assert_eq!(
            cmd("pause until 2026-12-31"),
            Some(Command::Pause {
                weeks: None,
                until: NaiveDate::from_ymd_opt(2026, 12, 31)
            })
        );
        assert_eq!(cmd("resume"), Some(Command::Resume));
        assert_eq!(cmd("skip"), Some(Command::Skip));
        assert_eq!(cmd("export."), Some(Command::Export));
        assert_eq!(cmd("forget"), Some(Command::Forget { token: None }));
        assert_eq!(
            cmd("forget k7q2mxa9tokenzz"),
            Some(Command::Forget {
                token: Some("k7q2mxa9tokenzz".into())
            })
        );
    }

    #[test]
    fn unknown_single_word_asks_for_help() {
        assert_eq!(
            cmd("trends?"),
            Some(Command::Trend {
                skill: None,
                weeks: 12
            })
        );
        assert_eq!(
            cmd("stats"),
            Some(Command::Unknown {
                word: "stats".into()
            })
        );
        assert_eq!(
            cmd("pause forever"),
            Some(Command::Unknown {
                word: "pause forever".into()
            })
        );
        assert_eq!(cmd("Thanks!"), None);
        assert_eq!(cmd("Good week overall, shipped the beta"), None);
    }

    #[test]
    fn every_command_word_starts_its_own_row_only() {
        let mut seen = std::collections::HashSet::new();
        for c in COMMANDS {
            assert!(!c.usage.is_empty());
            for w in c.words {
                assert!(seen.insert(*w), "{w} starts two commands");
                assert_eq!(fold(w), *w, "{w} must be written folded");
            }
        }
    }

    #[test]
    fn every_usage_example_reads_as_its_command() {
        for c in COMMANDS {
            for u in c.usage {
                let text = u.example.replace("{skill}", "stakeholders");
                let got = read(&text, None, &lex(), false);
                assert!(
                    matches!(got, Some(ref cmd) if !matches!(cmd, Command::Unknown { .. })),
                    "{text} reads as {got:?}"
                );
            }
        }
    }

    #[test]
    fn subject_is_the_command_when_the_body_is_empty() {
        assert_eq!(
            read("", Some("Re: trend"), &lex(), false),
            Some(Command::Trend {
                skill: None,
                weeks: 12
            })
        );
        assert_eq!(
            read(
                "",
                Some("Re: Your weekly reflection for 2026-W48"),
                &lex(),
                false
            ),
            None
        );
    }
}
