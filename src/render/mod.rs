//! Render: plain view values in, complete [`Email`] values out, through the
//! minijinja templates in `templates/`.
//!
//! Owns every email's wording (in the templates), subject, Message-ID scheme,
//! threading headers and `Auto-Submitted` kind. Pure: no clock (the date is
//! in the view), no I/O except reading the templates once in
//! [`Renderer::load`], which also test-renders every template with sample data
//! so a broken template stops `coachmail check` and start-up, never a send.
//! Never picks an address: the caller passes them from the roster.
//!
//! # The form's stable lines (a contract with `understand`)
//!
//! The text part of the form lists each active skill on a line of its own,
//! exactly `{name} ({key}): ` — starting at column 0, ending with `": "` —
//! followed by hint lines indented with four spaces (the description, then
//! `1 = … · 3 = … · 5 = …`). Nothing else in the form ends with `): `, and
//! no other line of the form starts at column 0 with a skill name.
//! [`Renderer::load`] refuses a `form.txt.j2` that loses these lines;
//! [`skill_line`] builds one. The reminder lists the same lines (no hints).
//!
//! # Message-IDs (all `<kind>.<token>@<domain of the service address>`)
//!
//! These are placeholders that carry no secret: the engine stamps every
//! message it queues with a random Message-ID (`reply_key::random_message_id`)
//! and threads a reminder under the form's recorded one.
//!
//! * form: `form.<week>@…`; reminder: `reminder.<week>@…`, In-Reply-To the
//!   form's placeholder.
//! * digest: `digest.<pm key>.<week>@…`.
//! * confirm / help: `confirm.<id>@…` / `help.<id>@…`, where `id` is unique
//!   per inbound message (e.g. a prefix of its content hash), In-Reply-To the
//!   PM's message.
//!
//! # Notes in confirmations
//!
//! The confirmation quotes the PM's note back (up to [`NOTE_QUOTE_CHARS`]
//! characters). It goes only to the PM's registered address, the same mailbox
//! that already holds the PM's own reply, so it discloses nothing new, and it
//! lets the PM see exactly what was saved. The digest, which goes to the
//! coach, shows the notes in full: that is its purpose.

pub mod chart;
mod coach_answers;
mod email;
mod export;
mod pm_answers;
mod samples;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde::Serialize;

pub use coach_answers::{ActionsView, CoachAnswer, CoachAnswerView, CoachConfirmView, CoachPmRow};
pub use email::{Attachment, AutoSubmitted, Email, InlinePart, Mailbox};
pub use export::{COLUMNS as EXPORT_COLUMNS, ExportExtras, export_csv};
pub use pm_answers::{
    Ack, AckView, AnswerTo, ExportView, ForgetConfirmView, ForgottenView, TrendAction, TrendSkill,
    TrendView,
};

use crate::framework::{Framework, Skill};
use crate::understand::Understanding;
use crate::week::Week;

/// Every template an email needs. `layout.html.j2` is the HTML frame the
/// `*.html.j2` templates extend. Other `*.j2` files in the folder are loaded
/// too, so templates may `{% include %}` partials of their own.
pub const TEMPLATES: [&str; 25] = [
    "layout.html.j2",
    "form.txt.j2",
    "form.html.j2",
    "confirm.txt.j2",
    "confirm.html.j2",
    "reminder.txt.j2",
    "reminder.html.j2",
    "digest.txt.j2",
    "digest.html.j2",
    "help.txt.j2",
    "help.html.j2",
    "trend.txt.j2",
    "trend.html.j2",
    "export.txt.j2",
    "export.html.j2",
    "forget_confirm.txt.j2",
    "forget_confirm.html.j2",
    "forgotten.txt.j2",
    "forgotten.html.j2",
    "ack.txt.j2",
    "ack.html.j2",
    "coach_confirm.txt.j2",
    "coach_confirm.html.j2",
    "actions.txt.j2",
    "actions.html.j2",
];

/// How much of a note a confirmation quotes back to the PM.
pub const NOTE_QUOTE_CHARS: usize = 600;

/// Why templates cannot be used or an email cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read templates from {}: {source}. Fix: point [service] templates in coachmail.toml at the folder holding form.txt.j2, confirm.txt.j2, …", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is missing. Fix: every email needs it; copy it from the shipped templates/ folder", path.display())]
    Missing { path: PathBuf },
    #[error("{}{}: {problem}. Fix: {fix}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Template {
        file: PathBuf,
        line: Option<usize>,
        problem: String,
        fix: String,
    },
    #[error(
        "{header} would contain a line break (`{value}`), which could forge mail headers. Fix: write names and subjects on one line (check the roster in coachmail.toml)"
    )]
    HeaderInjection { header: &'static str, value: String },
    #[error("{header}: `{value}` {problem}")]
    BadHeader {
        header: &'static str,
        value: String,
        problem: String,
    },
    #[error("cannot build the message: {0}")]
    Message(String),
    #[error("cannot draw a chart: {0}")]
    Chart(String),
}

// ---------------------------------------------------------------------------
// Views: what the caller knows, as plain values.
// ---------------------------------------------------------------------------

/// The sender: `[service]` name and address of coachmail.toml.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceView {
    /// Product name, e.g. "PM Pulse".
    pub name: String,
    /// From of everything sent, e.g. `pulse@example.org`.
    pub address: String,
}

impl ServiceView {
    pub fn from_config(service: &crate::config::Service) -> ServiceView {
        ServiceView {
            name: service.name.clone(),
            address: service.address.clone(),
        }
    }

    fn mailbox(&self) -> Mailbox {
        Mailbox::new(self.name.clone(), self.address.clone())
    }

    fn domain(&self) -> &str {
        domain_of(&self.address)
    }
}

/// One skill as the form shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkillView {
    pub key: String,
    pub name: String,
    /// The form's answer line for this skill, `{name} ({key}): `, built by
    /// [`crate::framework::answer_line`], which the reply reader reads back.
    pub line: String,
    pub description: String,
    /// What a score looks like, lowest first (usually 1, 3 and 5).
    pub levels: Vec<LevelView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LevelView {
    pub score: u8,
    pub text: String,
}

impl SkillView {
    pub fn of(skill: &Skill) -> SkillView {
        SkillView {
            key: skill.key.clone(),
            name: skill.name.clone(),
            line: skill_line(&skill.name, &skill.key),
            description: skill.description.clone(),
            levels: skill
                .levels
                .iter()
                .map(|(&score, text)| LevelView {
                    score,
                    text: text.clone(),
                })
                .collect(),
        }
    }

    /// The skills a form asks, in framework order.
    pub fn active(framework: &Framework) -> Vec<SkillView> {
        framework.active().map(SkillView::of).collect()
    }
}

/// A skill named in a list (missing skills).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkillRef {
    pub key: String,
    pub name: String,
}

/// The weekly reflection form. Auto-generated; Message-ID
/// `form.<reply_key>@domain`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FormView {
    pub service: ServiceView,
    /// The PM's name and registered address (To).
    pub pm: Mailbox,
    pub week: Week,
    /// The form's secret reply key.
    pub reply_key: String,
    /// Full reply address, e.g. `reflect+<reply_key>@example.org` (see [`reply_address`]).
    pub reply_to: String,
    /// Active skills, in framework order.
    pub skills: Vec<SkillView>,
    /// The open actions of the PM's current pairing, oldest first: each
    /// asked as `<action>: done / partly / not yet`. Never an earlier
    /// pairing's.
    pub actions: Vec<String>,
    pub date: DateTime<Utc>,
}

/// The one nudge when a form has no reply takes the same view as the form
/// it nudges about (same reply key and Reply-To); auto-generated, threaded
/// under the form, Message-ID `reminder.<reply_key>@domain`.
pub type ReminderView = FormView;

/// One skill's answer for the week, as the confirmation lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordedView {
    pub key: String,
    pub name: String,
    /// `None`: skipped on purpose (`n/a`).
    pub score: Option<u8>,
    /// This reply replaced a different earlier answer for the same week.
    pub updated: bool,
    /// The answer it replaced, when `updated` (`None`: it was skipped).
    pub was: Option<u8>,
    /// Answered in an earlier reply this week, not in this one.
    pub earlier: bool,
    /// What the PM wrote beside the score in this reply.
    pub comment: Option<String>,
}

/// One answer the store holds for the week: oldest first, replaced ones
/// included, so the confirmation can say what a correction changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeekAnswer {
    pub skill: String,
    /// `None`: skipped on purpose.
    pub score: Option<u8>,
    /// Not replaced by a later answer.
    pub current: bool,
}

/// A line that was not stored, with how to fix it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvalidView {
    /// The PM's line as written.
    pub line: String,
    /// The whole reason, as the reply reader gave it.
    pub reason: String,
    /// What is wrong (the reason up to its ` — `).
    pub problem: String,
    /// What to do (the reason after its ` — `), if it says.
    pub instruction: Option<String>,
    /// Corrected lines to copy, one per skill the line seems to mean
    /// (`Execution & delivery: 3`), only for a near match; none for a
    /// skill that is not on the form.
    pub examples: Vec<String>,
    /// Keys of the skills the line seems to mean.
    #[serde(skip)]
    pub skills: Vec<String>,
}

impl InvalidView {
    /// Builds the fix: the skill(s) the line seems to mean, with its score if
    /// that was a usable 1–5, e.g. `D: 3` → `Delivery: 3` and `Data: 3`.
    pub fn new(line: &str, reason: &str, framework: &Framework) -> InvalidView {
        let (problem, instruction) = match reason.split_once(" — ") {
            Some((p, i)) => (p.to_string(), Some(capitalized(i.trim()))),
            None => (reason.to_string(), None),
        };
        let (skills, examples) = corrected_examples(line, framework);
        InvalidView {
            line: line.to_string(),
            reason: reason.to_string(),
            problem,
            instruction,
            examples,
            skills,
        }
    }
}

/// The confirmation of a reply. Auto-replied; Message-ID `confirm.<id>@domain`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfirmView {
    pub service: ServiceView,
    pub pm: Mailbox,
    /// The week the answers were recorded for.
    pub week: Week,
    /// Unique per inbound message (e.g. 16 hex digits of its content hash).
    pub id: String,
    /// The PM's Message-ID (without angle brackets).
    pub in_reply_to: Option<String>,
    /// The thread, oldest first, ending with the PM's message.
    pub references: Vec<String>,
    /// The week's reply address, so a correction lands on the same week.
    pub reply_to: Option<String>,
    pub recorded: Vec<RecordedView>,
    pub invalid: Vec<InvalidView>,
    pub missing: Vec<SkillRef>,
    /// The note as saved (quoted back up to [`NOTE_QUOTE_CHARS`]).
    pub note: Option<String>,
    /// The answers to the 1:1's actions recorded from this reply.
    pub actions: Vec<ActionAnswerView>,
    /// `Re:` the PM's subject (see [`reply_subject`]); `None`: `Re:` the
    /// form's.
    pub subject: Option<String>,
    pub date: DateTime<Utc>,
}

/// A PM's answer to one of their 1:1's actions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActionAnswerView {
    /// The action as agreed.
    pub text: String,
    /// `done`, `partly` or `not yet`.
    pub answer: String,
    pub done: bool,
    /// What the PM wrote after the answer, if anything.
    pub comment: Option<String>,
}

impl ActionAnswerView {
    pub fn new(
        text: &str,
        status: crate::understand::coach::ActionStatus,
        comment: Option<&str>,
    ) -> ActionAnswerView {
        ActionAnswerView {
            text: text.to_string(),
            answer: status.words().to_string(),
            done: status == crate::understand::coach::ActionStatus::Done,
            comment: comment.map(str::to_string),
        }
    }
}

/// A confirmation lists at most this many lines it could not read.
pub const PROBLEMS_SHOWN: usize = 20;
/// A listed line is cut to this many characters.
pub const PROBLEM_LINE_CHARS: usize = 200;

impl ConfirmView {
    /// The confirmation of what `understanding` found, for `pm`'s `week`.
    /// `reply_to` is the week's reply address (`reflect+<key>@…`), if any.
    /// [`ConfirmView::with_week_answers`] adds the rest of the week.
    pub fn new(
        service: ServiceView,
        pm: Mailbox,
        week: Week,
        understanding: &Understanding,
        framework: &Framework,
        reply_to: Option<String>,
        date: DateTime<Utc>,
    ) -> ConfirmView {
        let name_of = |key: &str| {
            framework
                .skill(key)
                .map_or_else(|| key.to_string(), |s| s.name.clone())
        };
        let mut recorded: Vec<RecordedView> = understanding
            .scores
            .iter()
            .map(|(key, &score)| (key, Some(score)))
            .chain(understanding.skipped.iter().map(|key| (key, None)))
            .map(|(key, score)| RecordedView {
                key: key.clone(),
                name: name_of(key),
                score,
                updated: false,
                was: None,
                earlier: false,
                comment: understanding
                    .comments
                    .get(key)
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty()),
            })
            .collect();
        recorded.sort_by_key(|r| framework_order(framework, &r.key));
        let invalid: Vec<InvalidView> = understanding
            .invalid
            .iter()
            .map(|i| InvalidView::new(&i.line, &i.reason, framework))
            .collect();
        // A skill named in a line that was not understood is listed there,
        // not again as not answered.
        let missing = understanding
            .missing
            .iter()
            .filter(|key| !invalid.iter().any(|i| i.skills.contains(key)))
            .map(|key| SkillRef {
                key: key.clone(),
                name: name_of(key),
            })
            .collect();
        ConfirmView {
            service,
            pm,
            week,
            id: understanding.content_hash.chars().take(16).collect(),
            in_reply_to: understanding.message_id.clone(),
            references: understanding.message_id.iter().cloned().collect(),
            reply_to,
            recorded,
            invalid,
            missing,
            note: understanding.note.clone(),
            actions: understanding
                .action_answers
                .iter()
                .map(|a| ActionAnswerView::new(&a.text, a.status, a.comment.as_deref()))
                .collect(),
            subject: None,
            date,
        }
    }

    /// The week's full current answers: what this reply changed (`Updated:
    /// Execution & delivery 3 → 5`), and the skills answered in an earlier
    /// reply that week, which are then not "not answered". `answers` are
    /// the week's answers as stored after this reply, oldest first.
    pub fn with_week_answers(
        mut self,
        answers: &[WeekAnswer],
        framework: &Framework,
    ) -> ConfirmView {
        for r in &mut self.recorded {
            let mut newest_first = answers.iter().filter(|a| a.skill == r.key).rev();
            // The newest is this reply's; the one before it, if any, is
            // what it replaced.
            if let (Some(_), Some(before)) = (newest_first.next(), newest_first.next())
                && before.score != r.score
            {
                r.updated = true;
                r.was = before.score;
            }
        }
        for a in answers.iter().filter(|a| a.current) {
            if self.recorded.iter().any(|r| r.key == a.skill) {
                continue;
            }
            let Some(skill) = framework.skill(&a.skill).filter(|s| !s.retired) else {
                continue;
            };
            self.recorded.push(RecordedView {
                key: a.skill.clone(),
                name: skill.name.clone(),
                score: a.score,
                updated: false,
                was: None,
                earlier: true,
                comment: None,
            });
        }
        self.recorded
            .sort_by_key(|r| framework_order(framework, &r.key));
        let recorded = &self.recorded;
        self.missing
            .retain(|m| !recorded.iter().any(|r| r.key == m.key));
        self
    }
}

/// Where `key` stands in the framework (unknown keys last).
fn framework_order(framework: &Framework, key: &str) -> usize {
    framework
        .skills
        .iter()
        .position(|s| s.key == key)
        .unwrap_or(usize::MAX)
}

/// This week's answer for one skill, as the coach sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "score", rename_all = "lowercase")]
pub enum Answer {
    Score(u8),
    /// Skipped on purpose (`n/a`).
    Skipped,
    /// No answer this week.
    Missing,
}

/// One skill in the coach's digest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DigestSkill {
    pub key: String,
    pub name: String,
    pub answer: Answer,
    /// The PM's own baseline (median of previous answered weeks);
    /// `None` while it is still being built.
    pub baseline: Option<f64>,
    /// Flagged by analysis: far enough below baseline to discuss.
    pub dip: bool,
    /// The newest earlier score (for a drop while the baseline builds).
    pub previous: Option<u8>,
    /// No baseline yet, and the score fell two or more below `previous`.
    pub drop: bool,
    /// Scored weeks still needed for a baseline (0 once there is one).
    pub weeks_to_baseline: u32,
    /// What the PM wrote beside this skill's score this week
    /// (`Delivery: 2 the release slipped`), if anything.
    pub comment: Option<String>,
    /// The last weeks up to this one, oldest first (`None`: no score), for
    /// the chart; empty draws none.
    pub recent: Vec<Option<u8>>,
}

/// One of the PM's notes in a digest, as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DigestNote {
    /// The week it was written for (`30 Nov – 6 Dec 2026`) when it is of an
    /// earlier week the digest covers (after a cancelled 1:1, or 1:1s less
    /// often than weekly); `None` for the digest's own week.
    pub week: Option<String>,
    pub text: String,
}

/// The confidential digest for the paired coach. Auto-generated;
/// Message-ID `digest.<pm_key>.<week>@domain`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DigestView {
    pub service: ServiceView,
    /// The paired coach (To) — never anyone else.
    pub coach: Mailbox,
    pub pm_key: String,
    pub pm_name: String,
    pub week: Week,
    /// Start of the 1:1, in the PM's time zone.
    pub one_on_one: NaiveDateTime,
    /// The PM's time zone name, e.g. `Europe/Paris`.
    pub timezone: String,
    /// Active skills in framework order (the digest puts dips first itself).
    pub skills: Vec<DigestSkill>,
    /// The PM's notes this week, oldest first (comments beside a score
    /// are in [`DigestSkill::comment`], not here).
    pub notes: Vec<DigestNote>,
    /// The PM skipped this week as a whole (`skip`).
    pub skipped: bool,
    /// The newest earlier week with an answer, if any.
    pub last_answered: Option<Week>,
    /// Recent weeks with no reply (not paused, not skipped), oldest first.
    pub missed_weeks: Vec<Week>,
    /// Recent weeks that fell in a pause, oldest first: not missed.
    pub paused_weeks: Vec<Week>,
    /// For drawing dips in the charts (the same threshold as `dip`).
    pub dip_threshold: f64,
    /// Weeks answered in a row, up to this one.
    pub streak: u32,
    /// The PM paused the forms: no answers are expected.
    pub paused: bool,
    pub paused_until: Option<NaiveDate>,
    /// The PM shared their weeks from before this coach (`share history`).
    pub history_shared: bool,
    /// The actions of this pairing still open, oldest first (the coach
    /// drops one by its number here: `drop 2`), each with the PM's latest
    /// answer.
    pub actions: Vec<DigestAction>,
    /// The actions of this pairing the PM answered done since the previous
    /// digest: shown once, then they leave.
    pub done_actions: Vec<DigestAction>,
    /// The PM answered actions in a reply to this week's form (a week
    /// without scores is then not "no reply").
    pub actions_answered: bool,
    /// The coach's own private notes of this pairing since the last digest,
    /// oldest first: for this coach only, never the PM.
    pub private_notes: Vec<String>,
    /// The digest's own reply address (`reflect+<key>@…`): a reply to it
    /// is read as the coach's.
    pub reply_to: Option<String>,
    pub date: DateTime<Utc>,
}

/// An action of the pairing as the digest shows it: with the PM's latest
/// answer and comment, if they answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DigestAction {
    pub text: String,
    /// `done`, `partly` or `not yet`; `None` before the PM answered.
    pub answer: Option<String>,
    pub comment: Option<String>,
    /// The week the answer was given for (`week of Mon 12 Jan`) when it is
    /// not the digest's own week: an older answer says so.
    pub answered_in: Option<String>,
}

/// Every command and how to answer a form. Auto-replied; Message-ID
/// `help.<id>@domain`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HelpView {
    pub service: ServiceView,
    pub pm: Mailbox,
    /// Unique per inbound message (e.g. 16 hex digits of its content hash).
    pub id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// Active skills (keys for `trend <skill>`).
    pub skills: Vec<SkillView>,
    /// The word that looked like a command but is none, if that is why.
    pub unknown: Option<String>,
    /// The reply address of the PM's newest form: replying to the help
    /// email (or following a link for a command that changes something)
    /// is then tied to the PM by its key.
    pub reply_to: Option<String>,
    /// `Re:` the PM's subject (see [`reply_subject`]), if it had one.
    pub subject: Option<String>,
    /// A date to come for the `pause until` example (four weeks ahead, in
    /// the PM's time zone).
    pub example_until: NaiveDate,
    pub date: DateTime<Utc>,
}

// ---------------------------------------------------------------------------
// Addresses and ids.
// ---------------------------------------------------------------------------

pub use crate::reply_key::{domain_of, reply_address};

/// Whether `id` (without angle brackets) can go into In-Reply-To and
/// References as it is: a message from a client with an odd Message-ID is
/// answered unthreaded rather than not at all.
pub fn is_message_id(id: &str) -> bool {
    // RFC 5322 lines stay under 998 characters: a longer id would break the
    // In-Reply-To and References lines, so it is not copied at all.
    id.len() <= 250 && email::msg_id("Message-ID", id).is_ok()
}

/// A skill's answer line on the form, exactly as the text part shows it:
/// `{name} ({key}): ` (with the trailing space). The reply parser may rely on it.
pub fn skill_line(name: &str, key: &str) -> String {
    crate::framework::answer_line(name, key)
}

// ---------------------------------------------------------------------------
// The renderer.
// ---------------------------------------------------------------------------

/// The loaded, checked templates. Cheap to share (`Clone`, `Send`, `Sync`).
#[derive(Clone, Debug)]
pub struct Renderer {
    env: Environment<'static>,
    dir: PathBuf,
    /// Whether charts are drawn: not while the start-up self-test renders
    /// the samples. Charts come from code, not templates (the chart tests
    /// check them), so a start — every `ingest` — encodes no PNG.
    charts: bool,
}

impl Renderer {
    /// Loads every `*.j2` template in `dir`, requires each of [`TEMPLATES`],
    /// and renders each email once with sample data. Any problem is an
    /// error naming the file, the line and the fix.
    pub fn load(dir: &Path) -> Result<Renderer, RenderError> {
        let read_err = |source| RenderError::Read {
            path: dir.to_path_buf(),
            source,
        };
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map_err(read_err)?
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| entry.file_name().into_string().ok())
            .filter(|name| name.ends_with(".j2"))
            .collect();
        names.sort();
        for required in TEMPLATES {
            if !names.iter().any(|n| n == required) {
                return Err(RenderError::Missing {
                    path: dir.join(required),
                });
            }
        }

        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.add_filter("first_name", first_name);
        env.add_filter("score", fmt_score);
        env.add_filter("levels", levels_line);
        env.add_filter("pad", pad);
        env.add_filter("week_of", week_of_filter);
        for name in names {
            let path = dir.join(&name);
            let source = std::fs::read_to_string(&path).map_err(|source| RenderError::Read {
                path: path.clone(),
                source,
            })?;
            env.add_template_owned(name, source)
                .map_err(|e| template_error(dir, &e))?;
        }
        let mut renderer = Renderer {
            env,
            dir: dir.to_path_buf(),
            charts: false,
        };
        renderer.self_test()?;
        renderer.charts = true;
        Ok(renderer)
    }

    /// One skill's chart as a PNG; empty while the self-test renders.
    pub(crate) fn chart(
        &self,
        points: &[Option<u8>],
        baseline: Option<f64>,
        dip_threshold: f64,
    ) -> Result<Vec<u8>, RenderError> {
        if self.charts {
            chart::skill_chart(points, baseline, dip_threshold)
        } else {
            Ok(Vec::new())
        }
    }

    /// The folder the templates came from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The weekly form.
    pub fn form(&self, v: &FormView) -> Result<Email, RenderError> {
        #[derive(Serialize)]
        struct Ctx<'a> {
            #[serde(flatten)]
            v: &'a FormView,
            week_of: String,
            week_dates: String,
            example: String,
        }
        let ctx = Ctx {
            v,
            week_of: week_of(v.week),
            week_dates: week_dates(v.week),
            example: form_example(&v.skills),
        };
        let (text, html) = self.both("form", &ctx)?;
        Ok(Email {
            from: v.service.mailbox(),
            to: v.pm.clone(),
            reply_to: Some(v.reply_to.clone()),
            subject: form_subject(&v.service, v.week),
            message_id: format!("form.{}@{}", v.week, v.service.domain()),
            in_reply_to: None,
            references: Vec::new(),
            auto_submitted: AutoSubmitted::Generated,
            date: v.date,
            text,
            html,
            inline: Vec::new(),
            attachments: Vec::new(),
        })
    }

    /// The nudge, threaded under the form.
    pub fn reminder(&self, v: &ReminderView) -> Result<Email, RenderError> {
        #[derive(Serialize)]
        struct Ctx<'a> {
            #[serde(flatten)]
            v: &'a ReminderView,
            week_of: String,
            week_dates: String,
            example: String,
        }
        let ctx = Ctx {
            v,
            week_of: week_of(v.week),
            week_dates: week_dates(v.week),
            example: form_example(&v.skills),
        };
        let (text, html) = self.both("reminder", &ctx)?;
        let form_id = format!("form.{}@{}", v.week, v.service.domain());
        Ok(Email {
            from: v.service.mailbox(),
            to: v.pm.clone(),
            reply_to: Some(v.reply_to.clone()),
            subject: reminder_subject(&v.service, v.week),
            message_id: format!("reminder.{}@{}", v.week, v.service.domain()),
            in_reply_to: Some(form_id.clone()),
            references: vec![form_id],
            auto_submitted: AutoSubmitted::Generated,
            date: v.date,
            text,
            html,
            inline: Vec::new(),
            attachments: Vec::new(),
        })
    }

    /// The confirmation of a reply.
    pub fn confirm(&self, v: &ConfirmView) -> Result<Email, RenderError> {
        #[derive(Serialize)]
        struct Ctx<'a> {
            #[serde(flatten)]
            v: &'a ConfirmView,
            note_quote: Option<String>,
            note_cut: usize,
            invalid_shown: Vec<InvalidView>,
            invalid_more: usize,
            updates: Vec<&'a RecordedView>,
            week_of: String,
        }
        // However many lines a reply holds, the answer stays short: the
        // first problems, each line cut, and how many more there were.
        let invalid_shown: Vec<InvalidView> = v
            .invalid
            .iter()
            .take(PROBLEMS_SHOWN)
            .map(|i| {
                let mut i = i.clone();
                if i.line.chars().count() > PROBLEM_LINE_CHARS {
                    i.line = i.line.chars().take(PROBLEM_LINE_CHARS).collect::<String>() + "…";
                }
                i
            })
            .collect();
        let invalid_more = v.invalid.len().saturating_sub(PROBLEMS_SHOWN);
        let (note_quote, note_cut) = match &v.note {
            Some(note) => {
                let total = note.chars().count();
                let quote: String = note.chars().take(NOTE_QUOTE_CHARS).collect();
                (Some(quote), total.saturating_sub(NOTE_QUOTE_CHARS))
            }
            None => (None, 0),
        };
        let ctx = Ctx {
            v,
            note_quote,
            note_cut,
            invalid_shown,
            invalid_more,
            updates: v.recorded.iter().filter(|r| r.updated).collect(),
            week_of: week_of(v.week),
        };
        let (text, html) = self.both("confirm", &ctx)?;
        Ok(Email {
            from: v.service.mailbox(),
            to: v.pm.clone(),
            reply_to: v.reply_to.clone(),
            subject: v
                .subject
                .clone()
                .unwrap_or_else(|| format!("Re: {}", form_subject(&v.service, v.week))),
            message_id: format!("confirm.{}@{}", v.id, v.service.domain()),
            in_reply_to: v.in_reply_to.clone(),
            references: v.references.clone(),
            auto_submitted: AutoSubmitted::Replied,
            date: v.date,
            text,
            html,
            inline: Vec::new(),
            attachments: Vec::new(),
        })
    }

    /// The coach's confidential digest: the PM's own words first, then
    /// what dipped (largest first, each with its comment), then the rest.
    pub fn digest<'a>(&self, v: &'a DigestView) -> Result<Email, RenderError> {
        #[derive(Serialize)]
        struct Row<'a> {
            key: &'a str,
            name: &'a str,
            /// `scored`, `skipped` or `missing`.
            state: &'static str,
            score: Option<u8>,
            /// e.g. `3.5`, or `None` while building the baseline.
            baseline: Option<String>,
            /// e.g. `↓1.5`, `↑1`, `=`: against the baseline, or against
            /// the previous score for a drop; `None` otherwise.
            delta: Option<String>,
            dip: bool,
            drop: bool,
            previous: Option<u8>,
            weeks_to_baseline: u32,
            comment: Option<&'a str>,
            /// The recent weeks as text (`▃▄▆ ▄`), empty without history.
            sparkline: String,
            /// Content-ID of the chart image; `None` without history.
            cid: Option<String>,
            /// Shown size of the chart, CSS pixels.
            chart_width: u32,
            chart_height: u32,
            /// The recent scores in words, for clients that block images.
            alt: String,
        }
        #[derive(Serialize)]
        struct Ctx<'a> {
            #[serde(flatten)]
            v: &'a DigestView,
            /// `answered`, `paused`, `skipped` or `missed`.
            status: &'static str,
            /// Dips, largest first, then drops while the baseline builds.
            flagged: Vec<Row<'a>>,
            /// Every other skill, in framework order.
            rest: Vec<Row<'a>>,
            /// Dips only (same rows as in `flagged`).
            dips: Vec<Row<'a>>,
            /// Answered weeks still needed before any skill has a
            /// baseline; `None` once one has.
            baseline_to_go: Option<u32>,
            answered: bool,
            meeting: String,
            week_of: String,
            last_answered: Option<String>,
            /// The last day of the pause, for people: `Mon 14 Dec`.
            paused_until_day: Option<String>,
        }
        // Charts show only in answered weeks, so the last slot is this
        // week's answer (a gap for a skill left out).
        let chart_points = |s: &DigestSkill| -> Vec<Option<u8>> { s.recent.clone() };
        let row = |s: &'a DigestSkill| -> Row<'a> {
            let (state, score) = match s.answer {
                Answer::Score(n) => ("scored", Some(n)),
                Answer::Skipped => ("skipped", None),
                Answer::Missing => ("missing", None),
            };
            let points = chart_points(s);
            let drawn = points.iter().any(Option::is_some);
            Row {
                key: &s.key,
                name: &s.name,
                state,
                score,
                baseline: s.baseline.map(fmt_number),
                delta: match (score, s.baseline, s.previous) {
                    (Some(n), Some(b), _) => Some(fmt_delta(f64::from(n) - b)),
                    (Some(n), None, Some(p)) if s.drop => {
                        Some(fmt_delta(f64::from(n) - f64::from(p)))
                    }
                    _ => None,
                },
                dip: s.dip,
                drop: s.drop,
                previous: s.previous,
                weeks_to_baseline: s.weeks_to_baseline,
                comment: s.comment.as_deref(),
                sparkline: crate::analysis::sparkline(&s.recent),
                cid: drawn.then(|| {
                    format!(
                        "digest.{}.{}.{}@{}",
                        v.pm_key,
                        v.week,
                        s.key,
                        v.service.domain()
                    )
                }),
                chart_width: chart::width_for(points.len()),
                chart_height: chart::HEIGHT,
                alt: format!(
                    "{}, last {} weeks: {}",
                    s.name,
                    points.len(),
                    points
                        .iter()
                        .map(|p| p.map_or_else(|| "none".to_string(), |n| n.to_string()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        };
        let answered = v
            .skills
            .iter()
            .any(|s| matches!(s.answer, Answer::Score(_) | Answer::Skipped));
        // `skipped` is set only for a week without answers; `skip` marks
        // each skill skipped, which is no answer to show.
        let status = if v.paused && !answered {
            "paused"
        } else if v.skipped {
            "skipped"
        } else if !answered {
            "missed"
        } else {
            "answered"
        };
        // Largest fall first; framework order among equals.
        let fall = |s: &DigestSkill| -> f64 {
            match (s.answer, s.baseline, s.previous) {
                (Answer::Score(n), Some(b), _) => f64::from(n) - b,
                (Answer::Score(n), None, Some(p)) => f64::from(n) - f64::from(p),
                _ => 0.0,
            }
        };
        let mut dips: Vec<&DigestSkill> = v.skills.iter().filter(|s| s.dip).collect();
        dips.sort_by(|a, b| fall(a).total_cmp(&fall(b)));
        let mut drops: Vec<&DigestSkill> = v.skills.iter().filter(|s| s.drop && !s.dip).collect();
        drops.sort_by(|a, b| fall(a).total_cmp(&fall(b)));
        let flagged: Vec<Row<'_>> = dips.iter().chain(&drops).map(|s| row(s)).collect();
        let rest: Vec<Row<'_>> = v
            .skills
            .iter()
            .filter(|s| !s.dip && !s.drop)
            .map(row)
            .collect();
        let baseline_to_go = if v.skills.iter().any(|s| s.baseline.is_some()) {
            None
        } else {
            v.skills.iter().map(|s| s.weeks_to_baseline).min()
        };
        let ctx = Ctx {
            v,
            status,
            dips: dips.iter().map(|s| row(s)).collect(),
            flagged,
            rest,
            baseline_to_go,
            answered,
            meeting: format!("{} ({})", crate::week::local_time(v.one_on_one), v.timezone),
            week_of: week_of(v.week),
            last_answered: v.last_answered.map(week_of),
            paused_until_day: v.paused_until.map(|d| d.format("%a %-d %b").to_string()),
        };
        let (text, html) = self.both("digest", &ctx)?;
        let mut inline = Vec::new();
        // Charts only where the HTML shows them: answered weeks.
        if status == "answered" {
            for r in ctx.flagged.iter().chain(&ctx.rest) {
                let skill = v.skills.iter().find(|s| s.key == r.key);
                if let (Some(cid), Some(s)) = (&r.cid, skill) {
                    inline.push(InlinePart {
                        cid: cid.clone(),
                        content_type: "image/png".into(),
                        bytes: self.chart(&chart_points(s), s.baseline, v.dip_threshold)?,
                    });
                }
            }
        }
        Ok(Email {
            from: v.service.mailbox(),
            to: v.coach.clone(),
            reply_to: v.reply_to.clone(),
            // Names the PM and the day only: a lock screen shows it.
            subject: format!(
                "Confidential: {} — digest for your 1:1 on {}",
                v.pm_name,
                v.one_on_one.format("%a %-d %b")
            ),
            message_id: format!("digest.{}.{}@{}", v.pm_key, v.week, v.service.domain()),
            in_reply_to: None,
            references: Vec::new(),
            auto_submitted: AutoSubmitted::Generated,
            date: v.date,
            text,
            html,
            inline,
            attachments: Vec::new(),
        })
    }

    /// Every command, and how to answer a form.
    pub fn help(&self, v: &HelpView) -> Result<Email, RenderError> {
        #[derive(Serialize)]
        struct Ctx<'a> {
            #[serde(flatten)]
            v: &'a HelpView,
            example: String,
            commands: Vec<CommandLine>,
        }
        let ctx = Ctx {
            v,
            example: form_example(&v.skills),
            commands: command_lines(&v.skills, v.example_until),
        };
        let (text, html) = self.both("help", &ctx)?;
        Ok(Email {
            from: v.service.mailbox(),
            to: v.pm.clone(),
            reply_to: v.reply_to.clone(),
            subject: v
                .subject
                .clone()
                .unwrap_or_else(|| format!("{} — commands and how to answer", v.service.name)),
            message_id: format!("help.{}@{}", v.id, v.service.domain()),
            in_reply_to: v.in_reply_to.clone(),
            references: v.references.clone(),
            auto_submitted: AutoSubmitted::Replied,
            date: v.date,
            text,
            html,
            inline: Vec::new(),
            attachments: Vec::new(),
        })
    }

    /// Renders `<kind>.txt.j2` and `<kind>.html.j2` with one context.
    fn both<S: Serialize>(&self, kind: &str, ctx: &S) -> Result<(String, String), RenderError> {
        let text = self.render(&format!("{kind}.txt.j2"), ctx)?;
        let html = self.render(&format!("{kind}.html.j2"), ctx)?;
        Ok((text, html))
    }

    fn render<S: Serialize>(&self, name: &str, ctx: &S) -> Result<String, RenderError> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| template_error(&self.dir, &e))?;
        template
            .render(ctx)
            .map_err(|e| template_error(&self.dir, &e))
    }

    /// Every email coachmail sends, rendered with the fixed sample views
    /// (every branch of the shipped templates: dips, paused, skipped and
    /// missed weeks, lines to fix, each acknowledgement…), each named after
    /// its kind and case, e.g. `digest_paused`. What `check` and start-up
    /// render, and what the layout tests measure.
    pub fn sample_emails(&self) -> Result<Vec<(String, Email)>, RenderError> {
        let s = samples::Samples::new();
        let mut out = Vec::new();
        let mut push = |names: &[&str], emails: Vec<Email>| {
            for (name, email) in names.iter().zip(emails) {
                out.push(((*name).to_string(), email));
            }
        };
        push(
            samples::FORM_NAMES,
            s.forms
                .iter()
                .map(|v| self.form(v))
                .collect::<Result<Vec<_>, _>>()?,
        );
        push(
            samples::REMINDER_NAMES,
            s.reminders
                .iter()
                .map(|v| self.reminder(v))
                .collect::<Result<Vec<_>, _>>()?,
        );
        push(
            samples::CONFIRM_NAMES,
            s.confirms
                .iter()
                .map(|v| self.confirm(v))
                .collect::<Result<Vec<_>, _>>()?,
        );
        push(
            samples::DIGEST_NAMES,
            s.digests
                .iter()
                .map(|v| self.digest(v))
                .collect::<Result<Vec<_>, _>>()?,
        );
        push(
            samples::HELP_NAMES,
            s.helps
                .iter()
                .map(|v| self.help(v))
                .collect::<Result<Vec<_>, _>>()?,
        );
        push(
            samples::TREND_NAMES,
            s.trends
                .iter()
                .map(|v| self.trend(v))
                .collect::<Result<Vec<_>, _>>()?,
        );
        push(
            samples::EXPORT_NAMES,
            s.exports
                .iter()
                .map(|v| self.export(v))
                .collect::<Result<Vec<_>, _>>()?,
        );
        push(
            samples::FORGET_CONFIRM_NAMES,
            s.forget_confirms
                .iter()
                .map(|v| self.forget_confirm(v))
                .collect::<Result<Vec<_>, _>>()?,
        );
        push(
            samples::FORGOTTEN_NAMES,
            s.forgottens
                .iter()
                .map(|v| self.forgotten(v))
                .collect::<Result<Vec<_>, _>>()?,
        );
        push(
            samples::ACK_NAMES,
            s.acks
                .iter()
                .map(|v| self.ack(v))
                .collect::<Result<Vec<_>, _>>()?,
        );
        push(
            samples::COACH_CONFIRM_NAMES,
            s.coach_confirms
                .iter()
                .map(|v| self.coach_confirm(v))
                .collect::<Result<Vec<_>, _>>()?,
        );
        push(
            samples::COACH_ANSWER_NAMES,
            s.coach_answers
                .iter()
                .map(|v| self.coach_answer(v))
                .collect::<Result<Vec<_>, _>>()?,
        );
        push(
            samples::ACTIONS_NAMES,
            s.actions
                .iter()
                .map(|v| self.actions(v))
                .collect::<Result<Vec<_>, _>>()?,
        );
        Ok(out)
    }

    /// Renders every email with the sample views and checks what the rest
    /// of coachmail relies on.
    fn self_test(&self) -> Result<(), RenderError> {
        let s = samples::Samples::new();
        let mut emails = Vec::new();
        for v in &s.forms {
            let email = self.form(v)?;
            self.check_form_lines(v, &email)?;
            emails.push(("form", email));
        }
        for v in &s.reminders {
            emails.push(("reminder", self.reminder(v)?));
        }
        for v in &s.confirms {
            emails.push(("confirm", self.confirm(v)?));
        }
        for v in &s.digests {
            let email = self.digest(v)?;
            if v.skills.iter().any(|s| s.dip) && !email.text.contains("DIP") {
                return Err(self.broken(
                    "digest.txt.j2",
                    "a dip is not flagged with the word DIP",
                    "keep `DIP` next to each skill in `dips` / rows where `dip` is true",
                ));
            }
            emails.push(("digest", email));
        }
        for v in &s.helps {
            emails.push(("help", self.help(v)?));
        }
        for v in &s.trends {
            let email = self.trend(v)?;
            for part in &email.inline {
                if !email.html.contains(&format!("cid:{}", part.cid)) {
                    return Err(self.broken(
                        "trend.html.j2",
                        "a chart is not shown (no `cid:` reference to it)",
                        "keep `<img src=\"cid:{{ r.cid }}\" …>` for each row",
                    ));
                }
            }
            emails.push(("trend", email));
        }
        for v in &s.exports {
            emails.push(("export", self.export(v)?));
        }
        for v in &s.forget_confirms {
            let email = self.forget_confirm(v)?;
            if !email.text.contains(&v.token) {
                return Err(self.broken(
                    "forget_confirm.txt.j2",
                    "the one-time code is not in the text",
                    "keep `forget {{ token }}` in the text: the PM replies with it",
                ));
            }
            emails.push(("forget_confirm", email));
        }
        for v in &s.forgottens {
            emails.push(("forgotten", self.forgotten(v)?));
        }
        for v in &s.acks {
            emails.push(("ack", self.ack(v)?));
        }
        for v in &s.coach_confirms {
            emails.push(("coach_confirm", self.coach_confirm(v)?));
        }
        for v in &s.actions {
            emails.push(("actions", self.actions(v)?));
        }
        for v in &s.coach_answers {
            emails.push(("coach_answer", self.coach_answer(v)?));
        }
        for (kind, email) in &emails {
            if email.text.trim().is_empty() {
                return Err(self.broken(
                    &format!("{kind}.txt.j2"),
                    "renders an empty text part",
                    "every email needs a readable text part",
                ));
            }
            if let Some(problem) = external_resource(&email.html) {
                return Err(self.broken(
                    &format!("{kind}.html.j2"),
                    &problem,
                    "use inline CSS (style=\"…\") only; images must be inline cid: parts, never remote",
                ));
            }
            email.to_bytes()?;
        }
        Ok(())
    }

    /// The parser tells answers from the quoted form by these exact lines.
    fn check_form_lines(&self, v: &FormView, email: &Email) -> Result<(), RenderError> {
        for skill in &v.skills {
            let line = skill_line(&skill.name, &skill.key);
            if !email.text.lines().any(|l| l == line) {
                return Err(self.broken(
                    "form.txt.j2",
                    &format!("the form's text has no line exactly `{line}`"),
                    "keep `{{ skill.name }} ({{ skill.key }}): ` alone on its own line, at the start of the line, for each skill — replies are read by it",
                ));
            }
        }
        Ok(())
    }

    fn broken(&self, file: &str, problem: &str, fix: &str) -> RenderError {
        RenderError::Template {
            file: self.dir.join(file),
            line: None,
            problem: format!("with sample data, {problem}"),
            fix: fix.to_string(),
        }
    }
}

fn template_error(dir: &Path, e: &minijinja::Error) -> RenderError {
    let fix = match e.kind() {
        ErrorKind::SyntaxError => {
            "correct the template syntax (minijinja/Jinja2: {{ value }}, {% if … %}…{% endif %}, {% for … %}…{% endfor %})"
        }
        ErrorKind::UndefinedError => {
            "use only the variables listed in the comment at the top of the shipped template of the same name; check the spelling"
        }
        ErrorKind::UnknownFilter
        | ErrorKind::UnknownTest
        | ErrorKind::UnknownFunction
        | ErrorKind::UnknownMethod => {
            "use a built-in minijinja filter/test/function, or `first_name` / `score` / `levels`"
        }
        ErrorKind::TemplateNotFound => {
            "an {% extends %} or {% include %} names a template that is not in the folder"
        }
        _ => "compare with the shipped template of the same name",
    };
    let mut problem = e.kind().to_string();
    if let Some(detail) = e.detail() {
        problem = format!("{problem}: {detail}");
    }
    let snippet = e
        .range()
        .zip(e.template_source())
        .and_then(|(range, source)| source.get(range))
        .map(|s| s.trim())
        .filter(|s| !s.is_empty() && s.len() <= 80 && !s.contains('\n'))
        .filter(|_| !e.detail().is_some_and(|d| d.contains("end of input")));
    if let Some(snippet) = snippet {
        problem = format!("{problem} (at `{snippet}`)");
    }
    RenderError::Template {
        file: dir.join(e.name().unwrap_or("(template)")),
        line: e.line(),
        problem,
        fix: fix.to_string(),
    }
}

/// A remote image, stylesheet or font in the HTML, if any.
fn external_resource(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let compact: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    for bad in [
        "src=\"http",
        "src='http",
        "src=\"//",
        "url(http",
        "url(\"http",
        "url('http",
        "url(//",
        "@import",
        "<link",
        "<script",
    ] {
        if compact.contains(&bad.replace(' ', "")) {
            return Some(format!(
                "the HTML loads an external resource or script (`{bad}…`)"
            ));
        }
    }
    None
}

fn form_subject(service: &ServiceView, week: Week) -> String {
    format!(
        "{} — your reflection for the {}",
        service.name,
        week_of(week)
    )
}

/// Says it is a reminder, so it does not read as a second form.
fn reminder_subject(service: &ServiceView, week: Week) -> String {
    format!(
        "{} — reminder: your reflection for the {}",
        service.name,
        week_of(week)
    )
}

/// The subject of an answer to a PM's own message: `Re: ` and theirs
/// (without its own `Re:`/`Fwd:` prefixes), so the answer threads with it
/// in every client. `None` when theirs says nothing. Control characters
/// become spaces and it is cut to 150 characters: no header can be forged.
pub fn reply_subject(theirs: &str) -> Option<String> {
    let clean: String = theirs
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    let bare = crate::understand::classify::strip_subject_prefixes(&words).trim();
    if bare.is_empty() {
        return None;
    }
    Some(format!(
        "Re: {}",
        bare.chars().take(150).collect::<String>()
    ))
}

/// `text` with every `YYYY-MM-DD` in it replaced by `date` (the command
/// table's example date, made one to come).
fn with_date(text: &str, date: NaiveDate) -> String {
    let bytes = text.as_bytes();
    let is_date = |i: usize| {
        bytes.len() >= i + 10
            && bytes[i..i + 10].iter().enumerate().all(|(k, b)| match k {
                4 | 7 => *b == b'-',
                _ => b.is_ascii_digit(),
            })
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if is_date(i) {
            out.push_str(&date.format("%Y-%m-%d").to_string());
            i += 10;
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn week_dates(week: Week) -> String {
    week.dates()
}

/// A week as every email names it for people: `week of Mon 30 Nov` (the
/// ISO code, `2026-W49`, may follow in small print).
pub fn week_of(week: Week) -> String {
    format!("week of {}", week.monday().format("%a %-d %b"))
}

/// Template filter: [`week_of`] of a week code (`2026-W49` → `week of Mon
/// 30 Nov`); anything else is returned as it is.
fn week_of_filter(value: String) -> String {
    value.parse::<Week>().map_or(value, week_of)
}

/// One line of the command list in help, from the command table.
#[derive(Serialize)]
struct CommandLine {
    usage: String,
    /// `usage` padded to the text part's column.
    padded: String,
    summary: String,
    example: String,
    /// It changes something: its link goes to the PM's keyed reply
    /// address, since a fresh message to the service cannot do it.
    keyed: bool,
}

/// The command table's lines, with `{skill}` made a real skill key.
fn command_lines(skills: &[SkillView], example_until: NaiveDate) -> Vec<CommandLine> {
    let skill = skills
        .get(1)
        .or(skills.first())
        .map_or("", |s| s.key.as_str());
    crate::understand::command::COMMANDS
        .iter()
        .flat_map(|c| c.usage.iter().map(move |u| (u, c.changes_state)))
        .map(|(u, keyed)| {
            let usage = with_date(u.usage, example_until);
            CommandLine {
                padded: format!("{}{usage:<24}", if keyed { "* " } else { "  " }),
                usage,
                summary: with_date(&u.summary.replace("{skill}", skill), example_until),
                example: with_date(&u.example.replace("{skill}", skill), example_until),
                keyed,
            }
        })
        .collect()
}

/// One answer line a PM could copy: `Delivery: 4 shipped the beta`.
fn form_example(skills: &[SkillView]) -> String {
    let skill = skills
        .iter()
        .find(|s| s.key == "delivery")
        .or_else(|| skills.first());
    match skill {
        Some(s) if s.key == "delivery" => "Delivery: 4 shipped the beta".to_string(),
        Some(s) => format!("{}: 4 a good week", capitalized(&s.key)),
        None => "Delivery: 4 shipped the beta".to_string(),
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Corrected lines for a line that was not understood: one per skill it
/// seems to mean (one to three near matches by name, key or alias), with
/// the PM's score when the line holds one usable 1–5. No near match, no
/// suggestion: for a skill that is not on the form the reason lists the
/// skills instead. Returns the skill keys and the lines.
fn corrected_examples(line: &str, framework: &Framework) -> (Vec<String>, Vec<String>) {
    let line = line.trim();
    let split = line
        .find([':', '=', '–', '-'])
        .map(|i| (&line[..i], &line[i..]))
        .or_else(|| line.split_once(char::is_whitespace))
        .unwrap_or((line, ""));
    let (word, rest) = split;
    let word = crate::framework::normalize_skill_name(word);
    // The PM's own score only when the line holds one number: a line such
    // as `2 or 3` must not come back with one of them picked.
    let numbers = rest
        .replace("/5", "")
        .split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
        .count();
    let score = rest
        .trim_start_matches([':', '=', '–', '-'])
        .split_whitespace()
        .next()
        .and_then(|s| s.trim_end_matches("/5").parse::<u8>().ok())
        .filter(|n| (1..=5).contains(n) && numbers == 1)
        .unwrap_or(4);
    if word.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let matches: Vec<&Skill> = framework
        .active()
        .filter(|s| {
            std::iter::once(&s.key)
                .chain(std::iter::once(&s.name))
                .chain(s.aliases.iter())
                .any(|w| crate::framework::normalize_skill_name(w).starts_with(&word))
        })
        .collect();
    if !(1..=3).contains(&matches.len()) {
        return (Vec::new(), Vec::new());
    }
    matches
        .iter()
        .map(|s| (s.key.clone(), format!("{}: {score}", s.name)))
        .unzip()
}

fn fmt_number(x: f64) -> String {
    let rounded = (x * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

fn fmt_delta(d: f64) -> String {
    let rounded = (d * 10.0).round() / 10.0;
    if rounded > 0.0 {
        format!("↑{}", fmt_number(rounded))
    } else if rounded < 0.0 {
        format!("↓{}", fmt_number(-rounded))
    } else {
        "=".to_string()
    }
}

/// Template filter: the first word of a name (`Alice Martin` → `Alice`).
fn first_name(name: String) -> String {
    name.split_whitespace().next().unwrap_or("").to_string()
}

/// Template filter: `4` → `4/5`, none → `skipped`.
fn fmt_score(score: Option<u8>) -> String {
    score.map_or_else(|| "skipped".to_string(), |n| format!("{n}/5"))
}

/// Template filter: `value` padded with spaces to `width` characters (for
/// text tables; longer values are left as they are).
fn pad(value: minijinja::Value, width: usize) -> String {
    let text = if value.is_none() || value.is_undefined() {
        String::new()
    } else {
        value.to_string()
    };
    let n = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(n)))
}

/// Template filter: a skill's levels as `1 = … · 3 = … · 5 = …`.
fn levels_line(levels: Vec<minijinja::Value>) -> Result<String, minijinja::Error> {
    let mut parts = Vec::with_capacity(levels.len());
    for level in levels {
        parts.push(format!(
            "{} = {}",
            level.get_attr("score")?,
            level.get_attr("text")?
        ));
    }
    Ok(parts.join(" · "))
}
