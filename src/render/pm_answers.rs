//! The answers to a PM's commands by email: `trend` (with charts), `export`
//! (with the CSV), the `forget` confirmation request and its "done", and a
//! short acknowledgement for `pause`, `resume` and `skip`.
//!
//! Same rules as every email here: wording in the templates, addresses from
//! the caller (the roster), `Auto-Submitted: auto-replied`, threaded under
//! the PM's message. Message-IDs are `<kind>.<id>@domain` with `id` unique
//! per inbound message; chart Content-IDs are `trend.<skill>.<id>@domain`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::email::{Attachment, AutoSubmitted, Email, InlinePart, Mailbox};
use super::{RenderError, Renderer, ServiceView, chart, fmt_delta, fmt_number};
use crate::analysis;
use crate::framework::Framework;
use crate::week::Week;

/// Who an answer goes to and how it threads: the same for every answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AnswerTo {
    pub service: ServiceView,
    /// The PM's name and registered address (To) — from the roster, never
    /// from the message that asked.
    pub pm: Mailbox,
    /// Unique per inbound message (e.g. 16 hex digits of its content hash).
    pub id: String,
    /// The PM's Message-ID (without angle brackets).
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// The reply address of the PM's newest form, so that answering this
    /// email (e.g. with the forget code) is tied to the PM by its key.
    pub reply_to: Option<String>,
    /// `Re:` the PM's subject (see [`super::reply_subject`]), if it had
    /// one: the answer then threads with the PM's message.
    pub subject: Option<String>,
    pub date: DateTime<Utc>,
}

impl AnswerTo {
    /// The answer, with `Re:` the PM's subject, or `subject` when theirs
    /// was empty.
    pub(super) fn email(&self, kind: &str, subject: String, text: String, html: String) -> Email {
        Email {
            from: self.service.mailbox(),
            to: self.pm.clone(),
            reply_to: self.reply_to.clone(),
            subject: self.subject.clone().unwrap_or(subject),
            message_id: format!("{kind}.{}@{}", self.id, self.service.domain()),
            in_reply_to: self.in_reply_to.clone(),
            references: self.references.clone(),
            auto_submitted: AutoSubmitted::Replied,
            date: self.date,
            text,
            html,
            inline: Vec::new(),
            attachments: Vec::new(),
        }
    }
}

/// One skill's run of weeks in a trend email.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrendSkill {
    pub key: String,
    pub name: String,
    /// One entry a week, oldest first; `None`: no score that week.
    pub points: Vec<Option<u8>>,
    /// The newest score in the run and its week.
    pub latest: Option<u8>,
    pub latest_week: Option<Week>,
    /// The PM's baseline before the latest score.
    pub baseline: Option<f64>,
    /// latest − baseline.
    pub change: Option<f64>,
    /// No longer asked (kept because it has scores in the run).
    pub retired: bool,
}

impl TrendSkill {
    /// A skill line from analysis' trend, named from the framework.
    pub fn of(trend: &analysis::Trend, framework: &Framework) -> TrendSkill {
        let skill = framework.skill(&trend.skill);
        TrendSkill {
            key: trend.skill.clone(),
            name: skill.map_or_else(|| trend.skill.clone(), |s| s.name.clone()),
            points: trend.points.iter().map(|(_, s)| *s).collect(),
            latest: trend.latest.map(|(_, s)| s),
            latest_week: trend.latest.map(|(w, _)| w),
            baseline: trend.baseline,
            change: trend.change,
            retired: skill.is_some_and(|s| s.retired),
        }
    }
}

/// The answer to `trend` / `trend <skill> [weeks]`. Message-ID `trend.<id>@domain`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrendView {
    #[serde(flatten)]
    pub to: AnswerTo,
    /// Weeks in the run.
    pub weeks: u32,
    /// First and last week of the run (the last is the PM's current week).
    pub from: Week,
    pub until: Week,
    /// The skill key when one skill was asked for.
    pub skill: Option<String>,
    pub skills: Vec<TrendSkill>,
    /// For drawing dips in the charts.
    pub dip_threshold: f64,
    /// The PM's name when the recipient is their coach (`trend <pm>`);
    /// `None` when the PM asked for their own.
    pub about: Option<String>,
    /// The PM's actions from their 1:1s in the run: those still open in
    /// the current pairing and those closed within the run, oldest first.
    pub actions: Vec<TrendAction>,
}

/// One of the PM's actions, as their `trend` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrendAction {
    pub text: String,
    /// `open`, `done` or `dropped`.
    pub status: String,
    /// The day it was agreed, for people: `12 Jan`.
    pub agreed: String,
    /// The PM's newest answer (`done`, `partly`, `not yet`), if any.
    pub answer: Option<String>,
    pub comment: Option<String>,
}

/// The answer to `export`: the CSV is attached. Message-ID `export.<id>@domain`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportView {
    #[serde(flatten)]
    pub to: AnswerTo,
    /// e.g. `pm-pulse-export-alice-2026-11-28.csv`.
    pub filename: String,
    /// The attachment (see [`super::export_csv`]).
    #[serde(skip)]
    pub csv: Vec<u8>,
    /// What the file holds, for the text.
    pub answers: usize,
    /// Of which superseded by a later correction.
    pub corrections: usize,
    pub notes: usize,
    pub forms: usize,
    pub events: usize,
}

/// "Reply with this code to delete everything". Message-ID `forget.<id>@domain`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ForgetConfirmView {
    #[serde(flatten)]
    pub to: AnswerTo,
    /// The one-time code.
    pub token: String,
    /// When it stops working, in the PM's time zone, ready to read.
    pub expires: String,
}

/// "Everything is deleted". Message-ID `forgotten.<id>@domain`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ForgottenView {
    #[serde(flatten)]
    pub to: AnswerTo,
}

/// What an acknowledgement says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ack {
    /// Forms paused until `until`.
    Paused,
    /// `pause until <date>` with a date that is not in the future.
    PauseInPast,
    /// A pause was ended.
    Resumed,
    /// `resume` without a pause in force.
    NotPaused,
    /// `week` skipped.
    Skipped,
    /// `week` was already skipped.
    AlreadySkipped,
    /// A forget code that is wrong, used or expired: nothing was deleted.
    ForgetInvalid,
    /// `pause until` beyond the longest pause: paused until `until`, the cap.
    PauseCapped,
    /// A reply with the key of a form that has closed: nothing stored.
    FormClosed,
    /// `share history`: the current coach now sees the earlier weeks.
    HistoryShared,
    /// A command that changes something, in a fresh message nothing
    /// verifies: nothing changed; how to send it (reply to any email).
    NeedsReplyKey,
    /// To a coach whose email could not be tied to one of their open
    /// digests (no key, another's key, a closed one): nothing was stored
    /// or passed on; reply to the newest digest.
    CoachReplyNotRead,
}

/// The short answer to `pause`, `resume`, `skip` (and a forget code that did
/// not work). Message-ID `ack.<id>@domain`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AckView {
    #[serde(flatten)]
    pub to: AnswerTo,
    pub what: Ack,
    /// End of the pause, local, ready to read (`Thu 24 Dec 2026, 00:00`).
    pub until: Option<String>,
    /// The week skipped.
    pub week: Option<Week>,
    /// When the next form goes out, local, ready to read.
    pub next_form: Option<String>,
    /// The command's name, when the answer is about one (`pause`).
    pub command: Option<String>,
    /// A date to come for the `pause until` example (four weeks ahead, in
    /// the PM's time zone).
    pub example_until: chrono::NaiveDate,
}

impl Renderer {
    /// The trend email: a text table with sparklines, and in HTML one chart
    /// per skill, inline.
    pub fn trend(&self, v: &TrendView) -> Result<Email, RenderError> {
        #[derive(Serialize)]
        struct Row<'a> {
            key: &'a str,
            name: &'a str,
            sparkline: String,
            latest: Option<u8>,
            latest_week: Option<Week>,
            baseline: Option<String>,
            change: Option<String>,
            retired: bool,
            cid: String,
            /// Shown size of the chart, CSS pixels.
            chart_width: u32,
            chart_height: u32,
            /// The scores in words, for clients that block images.
            alt: String,
        }
        #[derive(Serialize)]
        struct Ctx<'a> {
            #[serde(flatten)]
            v: &'a TrendView,
            rows: Vec<Row<'a>>,
            /// The last week the charts show: the run's last week, or the
            /// one before when nothing is answered yet in the current week
            /// (still open, so not drawn as an empty slot).
            drawn_until: Week,
            /// Width of the widest skill name, for the text table.
            name_width: usize,
            any_score: bool,
        }
        let domain = v.to.service.domain();
        let open_week = !v.skills.is_empty()
            && v.skills
                .iter()
                .all(|s| s.points.len() > 1 && s.points.last() == Some(&None));
        let drawn = |points: &[Option<u8>]| -> Vec<Option<u8>> {
            if open_week {
                points[..points.len() - 1].to_vec()
            } else {
                points.to_vec()
            }
        };
        let drawn_until = if open_week { v.until.prev() } else { v.until };
        let rows: Vec<Row<'_>> = v
            .skills
            .iter()
            .map(|s| Row {
                key: &s.key,
                name: &s.name,
                sparkline: analysis::sparkline(&s.points),
                latest: s.latest,
                latest_week: s.latest_week,
                baseline: s.baseline.map(fmt_number),
                change: s.change.map(fmt_delta),
                retired: s.retired,
                cid: format!("trend.{}.{}@{domain}", s.key, v.to.id),
                chart_width: chart::width_for(drawn(&s.points).len()),
                chart_height: chart::HEIGHT,
                alt: alt_text(&s.name, v.from, drawn_until, &drawn(&s.points)),
            })
            .collect();
        let ctx = Ctx {
            v,
            name_width: v
                .skills
                .iter()
                .map(|s| s.name.chars().count())
                .max()
                .unwrap_or(0)
                .max(5),
            any_score: v.skills.iter().any(|s| s.latest.is_some()),
            drawn_until,
            rows,
        };
        let (text, html) = self.both("trend", &ctx)?;
        // Never the skill's name: a lock screen shows the subject.
        let subject = match &v.about {
            Some(pm) => format!(
                "{} — confidential: {pm}'s trend over {} weeks",
                v.to.service.name, v.weeks
            ),
            None => format!("{} — your trend over {} weeks", v.to.service.name, v.weeks),
        };
        let mut email = v.to.email("trend", subject, text, html);
        for (skill, row) in v.skills.iter().zip(&ctx.rows) {
            email.inline.push(InlinePart {
                cid: row.cid.clone(),
                content_type: "image/png".into(),
                bytes: self.chart(&drawn(&skill.points), skill.baseline, v.dip_threshold)?,
            });
        }
        Ok(email)
    }

    /// The export email, with the CSV attached.
    pub fn export(&self, v: &ExportView) -> Result<Email, RenderError> {
        let (text, html) = self.both("export", v)?;
        let subject = format!("{} — your data export", v.to.service.name);
        let mut email = v.to.email("export", subject, text, html);
        email.attachments.push(Attachment {
            filename: v.filename.clone(),
            content_type: "text/csv; charset=utf-8".into(),
            bytes: v.csv.clone(),
        });
        Ok(email)
    }

    /// The request to confirm `forget` with a one-time code.
    pub fn forget_confirm(&self, v: &ForgetConfirmView) -> Result<Email, RenderError> {
        let (text, html) = self.both("forget_confirm", v)?;
        // The subject keeps the word "forget": a reply carrying only the
        // code is then read as the confirmation. `Re:` the PM's subject
        // only when it says so already.
        let subject = format!("{} — confirm: forget all your data?", v.to.service.name);
        let mut email = v.to.email("forget", subject.clone(), text, html);
        if !email.subject.to_lowercase().contains("forget") {
            email.subject = subject;
        }
        Ok(email)
    }

    /// The last message after `forget`: everything is deleted.
    pub fn forgotten(&self, v: &ForgottenView) -> Result<Email, RenderError> {
        let (text, html) = self.both("forgotten", v)?;
        let subject = format!("{} — your data has been deleted", v.to.service.name);
        Ok(v.to.email("forgotten", subject, text, html))
    }

    /// The short answer to `pause`, `resume`, `skip`.
    pub fn ack(&self, v: &AckView) -> Result<Email, RenderError> {
        let (text, html) = self.both("ack", v)?;
        let name = &v.to.service.name;
        let subject = match v.what {
            Ack::Paused => format!(
                "{name} — forms paused until {}",
                v.until.as_deref().unwrap_or("further notice")
            ),
            Ack::PauseInPast => format!("{name} — nothing paused"),
            Ack::Resumed => format!("{name} — forms resumed"),
            Ack::NotPaused => format!("{name} — forms were not paused"),
            Ack::Skipped | Ack::AlreadySkipped => match v.week {
                Some(w) => format!("{name} — the {} skipped", super::week_of(w)),
                None => format!("{name} — week skipped"),
            },
            Ack::ForgetInvalid => format!("{name} — that forget code did not work"),
            Ack::PauseCapped => format!(
                "{name} — forms paused until {} (the longest pause)",
                v.until.as_deref().unwrap_or("further notice")
            ),
            Ack::HistoryShared => format!("{name} — your earlier weeks are shared with your coach"),
            Ack::NeedsReplyKey => {
                format!("{name} — nothing changed: please reply to one of our emails")
            }
            Ack::CoachReplyNotRead => format!("{name} — your email was not read"),
            Ack::FormClosed => match v.week {
                Some(w) => format!("{name} — the form for the {} has closed", super::week_of(w)),
                None => format!("{name} — that form has closed"),
            },
        };
        Ok(v.to.email("ack", subject, text, html))
    }
}

/// `Product strategy, week of Mon 7 Sep to week of Mon 23 Nov: 3, 4, none, 5`.
fn alt_text(name: &str, from: Week, until: Week, points: &[Option<u8>]) -> String {
    let scores: Vec<String> = points
        .iter()
        .map(|p| p.map_or_else(|| "none".to_string(), |s| s.to_string()))
        .collect();
    format!(
        "{name}, {} to {}: {}",
        super::week_of(from),
        super::week_of(until),
        scores.join(", ")
    )
}
