//! The emails a coach's reply to a digest causes: the coach's confirmation
//! of what was recorded, and the PM's "from your 1:1" email with the agreed
//! actions.
//!
//! Owns their views and subjects; the wording is in the templates
//! (`coach_confirm.*.j2`, `actions.*.j2`). Never carries a private note's
//! text: the confirmation only says one was kept, and the PM's email has no
//! field for it at all. Addresses come from the caller (the roster).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::email::{AutoSubmitted, Email, Mailbox};
use super::pm_answers::AnswerTo;
use super::{PROBLEM_LINE_CHARS, PROBLEMS_SHOWN, RenderError, Renderer, ServiceView};

/// What a coach's reply recorded, for the coach. Auto-replied; Message-ID
/// `coach-confirm.<id>@domain`, threaded under the coach's reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CoachConfirmView {
    /// The coach (To): their registered address.
    #[serde(flatten)]
    pub to: AnswerTo,
    /// The PM the 1:1 is with.
    pub pm_name: String,
    /// Actions agreed in this reply, now open.
    pub actions: Vec<String>,
    /// Actions in this reply that were already open: not added twice.
    pub already_open: Vec<String>,
    /// Open actions this reply dropped.
    pub dropped: Vec<String>,
    /// A private note was kept (its text is never repeated here).
    pub note_kept: bool,
    /// 1:1 changes recorded, in words (`moved to Thu 15:00`).
    pub schedule: Vec<String>,
    /// After those changes, the next 1:1 as people read it (`Thu 10 Dec
    /// 2026, 15:00 (Europe/Paris)`), or that none is within a year; `None`
    /// when the reply changed nothing of the schedule.
    pub next_one_on_one: Option<String>,
    /// Lines that could not be read exactly, with what to write instead.
    pub problems: Vec<String>,
    /// Actions of the pairing open after this reply.
    pub open_count: usize,
}

/// The agreed actions, for the PM, right after the coach's reply.
/// Auto-generated; Message-ID `actions.<id>@domain`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActionsView {
    pub service: ServiceView,
    /// The PM (To): their registered address.
    pub pm: Mailbox,
    /// The coach's name (never their notes).
    pub coach_name: String,
    /// Unique per coach reply.
    pub id: String,
    /// The actions agreed in the coach's reply.
    pub actions: Vec<String>,
    /// The PM's newest form's reply address, if any.
    pub reply_to: Option<String>,
    pub date: DateTime<Utc>,
}

impl Renderer {
    /// The coach's confirmation.
    pub fn coach_confirm(&self, v: &CoachConfirmView) -> Result<Email, RenderError> {
        #[derive(Serialize)]
        struct Ctx<'a> {
            #[serde(flatten)]
            v: &'a CoachConfirmView,
            problems_shown: Vec<String>,
            problems_more: usize,
            recorded: bool,
        }
        let problems_shown = v
            .problems
            .iter()
            .take(PROBLEMS_SHOWN)
            .map(|p| {
                if p.chars().count() > PROBLEM_LINE_CHARS {
                    p.chars().take(PROBLEM_LINE_CHARS).collect::<String>() + "…"
                } else {
                    p.clone()
                }
            })
            .collect();
        let ctx = Ctx {
            v,
            problems_shown,
            problems_more: v.problems.len().saturating_sub(PROBLEMS_SHOWN),
            recorded: !v.actions.is_empty()
                || !v.dropped.is_empty()
                || v.note_kept
                || !v.schedule.is_empty(),
        };
        let (text, html) = self.both("coach_confirm", &ctx)?;
        let subject = format!("{} — your notes on the 1:1 are recorded", v.to.service.name);
        Ok(v.to.email("coach-confirm", subject, text, html))
    }

    /// The PM's "from your 1:1" email.
    pub fn actions(&self, v: &ActionsView) -> Result<Email, RenderError> {
        let (text, html) = self.both("actions", v)?;
        Ok(Email {
            from: v.service.mailbox(),
            to: v.pm.clone(),
            reply_to: v.reply_to.clone(),
            subject: format!(
                "{} — actions from your 1:1 with {}",
                v.service.name, v.coach_name
            ),
            message_id: format!("actions.{}@{}", v.id, v.service.domain()),
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
}

/// The answer to a coach's command (`pms`, `help`, a `trend` that names
/// none or several of their PMs). Auto-replied, to the coach's registered
/// address only; Message-ID `coach-answer.<id>@domain`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CoachAnswerView {
    /// The coach (To): their registered address.
    #[serde(flatten)]
    pub to: AnswerTo,
    pub what: CoachAnswer,
    /// The coach's own PMs (never anyone else's), by name.
    pub pms: Vec<CoachPmRow>,
    /// The coach's commands, from the one table of them.
    pub commands: Vec<crate::understand::coach_command::CoachUsage>,
}

/// What a coach's command is answered with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CoachAnswer {
    /// `pms`: each PM with their next 1:1, last reply and open actions.
    Pms,
    /// `help`, or a word that is no command (`unknown`).
    Help { unknown: Option<String> },
    /// `trend <who>` where `who` is none of the coach's PMs: the same
    /// answer whether it is another coach's PM or nobody.
    NoSuchPm { who: String },
    /// `trend <who>` where `who` could be several of the coach's PMs.
    SeveralPms { who: String },
}

/// One of the coach's PMs, as `pms` lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CoachPmRow {
    pub name: String,
    pub key: String,
    /// As people read it, in the PM's zone; `None`: none within a year.
    pub next_one_on_one: Option<String>,
    /// The week of the PM's last answered form (`23–29 Nov 2026`).
    pub last_reply: Option<String>,
    pub open_actions: usize,
}

impl Renderer {
    /// The answer to a coach's command.
    pub fn coach_answer(&self, v: &CoachAnswerView) -> Result<Email, RenderError> {
        let (text, html) = self.both("coach_answer", v)?;
        let subject = match v.what {
            CoachAnswer::Pms => format!("{} — your PMs", v.to.service.name),
            _ => format!("{} — commands for coaches", v.to.service.name),
        };
        Ok(v.to.email("coach-answer", subject, text, html))
    }
}
