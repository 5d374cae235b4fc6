//! A coach's commands by email — `pms`, `trend <pm> [weeks]`, `help` —
//! read from a fresh message from a registered coach's address.
//!
//! Owns [`COACH_COMMANDS`] (the coach's help email and the README's list
//! are made from it) and reading one command from a coach's own words.
//! Pure: never decides whose PM a name is (the engine does, against the
//! coach's own pairings, so a name of another coach's PM reads exactly like
//! a name of nobody) and never looks at who sent the message.

use serde::Serialize;

use super::grammar::fold;

/// Default number of weeks a coach's `trend` covers.
pub const DEFAULT_COACH_TREND_WEEKS: u32 = 12;
/// Longest coach's `trend`, in weeks (two years).
const MAX_COACH_TREND_WEEKS: u32 = 104;

/// A coach's command by email.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "name", rename_all = "lowercase")]
pub enum CoachCommand {
    /// The coach's PMs: next 1:1, last reply, open actions.
    Pms,
    /// One PM's scores over `weeks` weeks; `who` as the coach wrote it
    /// (a key, a full name or a first name).
    Trend {
        who: String,
        weeks: u32,
    },
    Help,
    /// Looked like a command but is none (or `trend` without a PM).
    Unknown {
        word: String,
    },
}

impl CoachCommand {
    /// The command's name for logs and events: never its arguments.
    pub fn name(&self) -> &'static str {
        match self {
            CoachCommand::Pms => "coach-pms",
            CoachCommand::Trend { .. } => "coach-trend",
            CoachCommand::Help => "coach-help",
            CoachCommand::Unknown { .. } => "coach-unknown",
        }
    }
}

/// One line of the coach's help email and of the README: how to write it
/// and what it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CoachUsage {
    pub usage: &'static str,
    pub summary: &'static str,
}

/// The coach's commands, in the order the help email lists them.
pub const COACH_COMMANDS: &[CoachUsage] = &[
    CoachUsage {
        usage: "pms",
        summary: "your PMs: the next 1:1, the last reply and the open actions of each",
    },
    CoachUsage {
        usage: "trend <name>",
        summary: "one of your PMs' scores over the last 12 weeks of your pairing (a first name, full name or key)",
    },
    CoachUsage {
        usage: "trend <name> 26",
        summary: "the same over 26 weeks (up to 104)",
    },
    CoachUsage {
        usage: "help",
        summary: "this list",
    },
];

const PMS_WORDS: &[&str] = &[
    "pms", "my pms", "list", "my list", "team", "my team", "people",
];
const TREND_WORDS: &[&str] = &["trend", "history", "scores"];
const HELP_WORDS: &[&str] = &["help", "?", "commands", "aide", "hilfe", "ayuda", "hjelp"];

/// Reads a coach's command: the only non-empty line of their own words,
/// or the subject when the body is empty. `None` when it is not a command
/// (a sentence, several lines): the coach then hears that only replies to
/// a digest are read.
pub fn read(text: &str, subject: Option<&str>) -> Option<CoachCommand> {
    let line = super::command::command_line(text, subject)?;
    let folded = fold(line);
    let words: Vec<&str> = folded.split_whitespace().collect();
    let first = words.first()?.trim_start_matches(['/', '#']);
    if PMS_WORDS.contains(&folded.trim_start_matches(['/', '#'])) {
        return Some(CoachCommand::Pms);
    }
    if words.len() == 1 && HELP_WORDS.contains(&first) {
        return Some(CoachCommand::Help);
    }
    if TREND_WORDS.contains(&first) {
        let mut rest: Vec<&str> = words[1..].to_vec();
        let mut weeks = DEFAULT_COACH_TREND_WEEKS;
        if let Some(n) = rest.last().and_then(|w| w.parse::<u32>().ok()) {
            if n == 0 || n > MAX_COACH_TREND_WEEKS {
                return Some(CoachCommand::Unknown {
                    word: line.to_string(),
                });
            }
            weeks = n;
            rest.pop();
        }
        if rest.first() == Some(&"for") || rest.first() == Some(&"of") {
            rest.remove(0);
        }
        if rest.is_empty() {
            return Some(CoachCommand::Unknown {
                word: line.to_string(),
            });
        }
        return Some(CoachCommand::Trend {
            who: rest.join(" "),
            weeks,
        });
    }
    // A single word that looks like a command but is none: help.
    (words.len() == 1 && first.chars().all(char::is_alphabetic) && first.len() <= 20).then(|| {
        CoachCommand::Unknown {
            word: line.to_string(),
        }
    })
}

/// Whether `who` (folded, as [`read`] gives it) names a PM with this key,
/// full name or first name, accents and case aside.
pub fn names(who: &str, key: &str, name: &str) -> bool {
    let name = fold(name);
    who == fold(key) || who == name || name.split_whitespace().next() == Some(who)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coachs_commands_are_read_from_one_line_or_the_subject() {
        assert_eq!(read("pms", None), Some(CoachCommand::Pms));
        assert_eq!(read("My PMs.", None), Some(CoachCommand::Pms));
        assert_eq!(read("", Some("Re: pms")), Some(CoachCommand::Pms));
        assert_eq!(read("Help", None), Some(CoachCommand::Help));
        assert_eq!(
            read("trend Alice", None),
            Some(CoachCommand::Trend {
                who: "alice".into(),
                weeks: 12
            })
        );
        assert_eq!(
            read("Trend for Chloé Dubois 26", None),
            Some(CoachCommand::Trend {
                who: "chloe dubois".into(),
                weeks: 26
            })
        );
        assert_eq!(read("", Some("trend bruno")), read("trend bruno", None));
    }

    #[test]
    fn a_trend_without_a_pm_or_with_an_impossible_length_is_no_guess() {
        for line in ["trend", "trend alice 0", "trend alice 500", "trend for"] {
            assert!(
                matches!(read(line, None), Some(CoachCommand::Unknown { .. })),
                "{line}"
            );
        }
    }

    #[test]
    fn sentences_and_several_lines_are_not_commands() {
        assert_eq!(read("Thanks, see you on Monday", None), None);
        assert_eq!(read("pms\ntrend alice", None), None);
        assert_eq!(read("", None), None);
        assert_eq!(
            read("", Some("Re: Confidential: Alice Martin — digest")),
            None
        );
        assert_eq!(
            read("frobnicate", None),
            Some(CoachCommand::Unknown {
                word: "frobnicate".into()
            })
        );
    }

    #[test]
    fn a_pm_is_named_by_key_full_name_or_first_name() {
        assert!(names("alice", "alice", "Alice Martin"));
        assert!(names("alice martin", "alice", "Alice Martin"));
        assert!(names("chloe", "chloe", "Chloé Dubois"));
        assert!(!names("martin", "alice", "Alice Martin"));
        assert!(!names("bruno", "alice", "Alice Martin"));
    }
}
