//! A PM's commands by email — `trend`, `help`, `pause`, `resume`, `skip`,
//! `export`, `forget` — applied and answered.
//!
//! Owns what each command changes in the store and what it answers, inside
//! the one transaction [`Engine::receive`] opened for the message: the
//! effect, its content-free event and the queued answer commit together.
//! Never addresses an answer from the message: it goes to the PM's
//! registered address from the roster, whatever From or Reply-To said.
//! Never logs content: only the PM key and the command's name.
//!
//! `forget` is two messages: the request queues a one-time code (valid
//! [`FORGET_CODE_HOURS`]); only a reply carrying that code, from the PM it
//! was issued to, deletes every row about the PM. The "done" message is
//! queued after the delete (which empties the PM's outbox), and the
//! message's dedup key is logged again without the PM, so a redelivery of
//! the confirmation is recognised and not applied twice.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use tracing::info;

use crate::analysis;
use crate::config::Pm;
use crate::engine::{Engine, EngineError, new_reply_key};
use crate::render::{
    Ack, AckView, AnswerTo, Email, ExportExtras, ExportView, ForgetConfirmView, ForgottenView,
    HelpView, Mailbox, SkillView, TrendSkill, TrendView,
};
use crate::schedule;
use crate::store::{Event, EventKind, InboundRecord, Tx};
use crate::understand::{Command, Forms, Kind, Understanding};
use crate::week::Week;

/// How long a forget code works.
pub const FORGET_CODE_HOURS: i64 = 72;

/// A bare `pause` pauses this many weeks.
pub const DEFAULT_PAUSE_WEEKS: u32 = 1;

/// One command being answered.
struct Request<'a, 't> {
    engine: &'a Engine,
    tx: &'a Tx<'t>,
    pm: &'a Pm,
    u: &'a Understanding,
    dedup_key: &'a str,
    now: DateTime<Utc>,
}

/// Applies the command in `u` for `pm` and queues its answer. Returns
/// whether an answer was queued.
pub(crate) fn apply(
    engine: &Engine,
    tx: &Tx<'_>,
    pm: &Pm,
    u: &Understanding,
    dedup_key: &str,
    now: DateTime<Utc>,
) -> Result<bool, EngineError> {
    let r = Request {
        engine,
        tx,
        pm,
        u,
        dedup_key,
        now,
    };
    let Some(command) = &u.command else {
        return Ok(false);
    };
    info!(pm = %pm.key, command = command_name(command), "command");
    match command {
        Command::Help => r.help(None),
        Command::Unknown { word } => r.help(Some(word.clone())),
        Command::Trend { skill, weeks } => r.trend(skill.as_deref(), *weeks),
        Command::Pause { weeks, until } => r.pause(*weeks, *until),
        Command::Resume => r.resume(),
        Command::Skip => r.skip(),
        Command::Export => r.export(),
        Command::Forget { token: None } => r.forget_request(),
        Command::Forget { token: Some(t) } => r.forget_confirm(t),
    }
}

/// The command's name for logs: never its arguments (a skill or a date says
/// little, a forget code is a secret).
fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Trend { .. } => "trend",
        Command::Help => "help",
        Command::Pause { .. } => "pause",
        Command::Resume => "resume",
        Command::Skip => "skip",
        Command::Export => "export",
        Command::Forget { token: None } => "forget",
        Command::Forget { token: Some(_) } => "forget-confirm",
        Command::Unknown { .. } => "unknown",
    }
}

impl Request<'_, '_> {
    fn id(&self) -> String {
        self.u.content_hash.chars().take(16).collect()
    }

    /// The PM's message, if its Message-ID can go into our headers.
    fn thread(&self) -> Option<String> {
        self.u
            .message_id
            .clone()
            .filter(|id| crate::render::is_message_id(id))
    }

    fn answer_to(&self) -> Result<AnswerTo, EngineError> {
        let reply_to = match self.tx.latest_week(&self.pm.key) {
            Some(week) => self
                .tx
                .reply_key_for(&self.pm.key, week)?
                .map(|k| crate::render::reply_address(&self.engine.config.service.address, &k)),
            None => None,
        };
        Ok(AnswerTo {
            service: self.engine.service(),
            pm: Mailbox::new(self.pm.name.clone(), self.pm.email.clone()),
            id: self.id(),
            in_reply_to: self.thread(),
            references: self.thread().into_iter().collect(),
            reply_to,
            date: self.now,
        })
    }

    fn event(
        &self,
        kind: EventKind,
        week: Option<Week>,
        until: Option<DateTime<Utc>>,
    ) -> Result<(), EngineError> {
        self.tx.record_event(
            &Event {
                pm: &self.pm.key,
                kind,
                week,
                until,
            },
            self.now,
        )?;
        Ok(())
    }

    fn send(&self, kind: &str, email: &Email) -> Result<bool, EngineError> {
        self.engine
            .enqueue_answer(self.tx, kind, self.pm, email, self.dedup_key, self.now)
    }

    /// A local instant, ready to read: `Fri 4 Dec 2026, 16:00 (Europe/Paris)`.
    fn local(&self, t: DateTime<Utc>) -> String {
        format!(
            "{} ({})",
            t.with_timezone(&self.pm.timezone)
                .format("%a %-d %b %Y, %H:%M"),
            self.pm.timezone.name()
        )
    }

    /// The first form time at or after `t`.
    fn next_form(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let mut week = schedule::open_week(t, self.pm);
        loop {
            let at = schedule::form_at(self.pm, week);
            if at >= t {
                return at;
            }
            week = week.next();
        }
    }

    fn help(&self, unknown: Option<String>) -> Result<bool, EngineError> {
        self.event(EventKind::Help, None, None)?;
        let to = self.answer_to()?;
        let email = self.engine.renderer.help(&HelpView {
            service: to.service,
            pm: to.pm,
            id: to.id,
            in_reply_to: to.in_reply_to,
            references: to.references,
            skills: SkillView::active(&self.engine.config.framework),
            unknown,
            date: self.now,
        })?;
        self.send("help", &email)
    }

    fn trend(&self, skill: Option<&str>, weeks: u32) -> Result<bool, EngineError> {
        self.event(EventKind::Trend, None, None)?;
        let framework = &self.engine.config.framework;
        let upto = schedule::open_week(self.now, self.pm);
        let history = self.engine.history_in(self.tx, self.pm, upto)?;
        let trends = match skill {
            Some(key) => vec![analysis::trend(&history, key, upto, weeks)],
            None => analysis::trends(&history, framework, upto, weeks),
        };
        let email = self.engine.renderer.trend(&TrendView {
            to: self.answer_to()?,
            weeks,
            from: upto.plus(1 - i64::from(weeks)),
            until: upto,
            skill: skill.map(str::to_string),
            skills: trends
                .iter()
                .map(|t| TrendSkill::of(t, framework))
                .collect(),
            dip_threshold: self.engine.config.schedule.dip_threshold,
        })?;
        self.send("trend", &email)
    }

    fn ack(
        &self,
        what: Ack,
        until: Option<String>,
        week: Option<Week>,
        next_form: Option<DateTime<Utc>>,
    ) -> Result<bool, EngineError> {
        let email = self.engine.renderer.ack(&AckView {
            to: self.answer_to()?,
            what,
            until,
            week,
            next_form: next_form.map(|t| self.local(t)),
        })?;
        self.send("ack", &email)
    }

    fn pause(&self, weeks: Option<u32>, until: Option<NaiveDate>) -> Result<bool, EngineError> {
        let end = match (weeks, until) {
            (_, Some(date)) => {
                // The start of that day in the PM's own zone: forms resume on it.
                let end = schedule::local_to_utc(self.pm.timezone, date.and_time(NaiveTime::MIN));
                if end <= self.now {
                    return self.ack(Ack::PauseInPast, Some(self.local(end)), None, None);
                }
                end
            }
            (Some(n), None) => self.now + Duration::weeks(i64::from(n)),
            (None, None) => self.now + Duration::weeks(i64::from(DEFAULT_PAUSE_WEEKS)),
        };
        self.tx.pause(&self.pm.key, end, self.now)?;
        self.event(EventKind::Pause, None, Some(end))?;
        self.ack(
            Ack::Paused,
            Some(self.local(end)),
            None,
            Some(self.next_form(end)),
        )
    }

    fn resume(&self) -> Result<bool, EngineError> {
        let was_paused = self.tx.resume(&self.pm.key, self.now)?;
        self.event(EventKind::Resume, None, None)?;
        let what = if was_paused {
            Ack::Resumed
        } else {
            Ack::NotPaused
        };
        let next = self.next_form(self.now);
        let next = match self.tx.active_pause(&self.pm.key, next)? {
            Some(p) => self.next_form(p.until),
            None => next,
        };
        self.ack(what, None, None, Some(next))
    }

    fn skip(&self) -> Result<bool, EngineError> {
        let week = schedule::open_week(self.now, self.pm);
        let new = self.tx.skip_week(&self.pm.key, week, self.now)?;
        self.event(EventKind::Skip, Some(week), None)?;
        let next = schedule::form_at(self.pm, week.next()).max(self.now);
        if new {
            self.ack(Ack::Skipped, None, Some(week), Some(self.next_form(next)))
        } else {
            self.ack(Ack::AlreadySkipped, None, Some(week), None)
        }
    }

    fn export(&self) -> Result<bool, EngineError> {
        // First, so the file lists this export too.
        self.event(EventKind::Export, None, None)?;
        let key = &self.pm.key;
        let rows = self.tx.export_rows(key)?;
        let extras = ExportExtras {
            pairings: self.tx.pairings(key)?,
            pauses: self.tx.pauses(key)?,
            skips: self.tx.skipped_weeks(key)?,
        };
        let csv = crate::render::export_csv(&rows, &extras)?;
        let local_date = self.now.with_timezone(&self.pm.timezone).date_naive();
        let email = self.engine.renderer.export(&ExportView {
            to: self.answer_to()?,
            filename: format!(
                "{}-export-{key}-{}.csv",
                slug(&self.engine.config.service.name),
                local_date.format("%Y-%m-%d")
            ),
            csv,
            answers: rows.answers.len(),
            corrections: rows
                .answers
                .iter()
                .filter(|a| a.superseded_at.is_some())
                .count(),
            notes: rows.notes.len(),
            forms: rows.forms.len(),
            events: rows.events.len(),
        })?;
        self.send("export", &email)
    }

    fn forget_request(&self) -> Result<bool, EngineError> {
        let token = new_reply_key()?;
        let expires = self.now + Duration::hours(FORGET_CODE_HOURS);
        self.tx
            .create_forget_token(&self.pm.key, &token, expires, self.now)?;
        self.event(EventKind::ForgetRequested, None, Some(expires))?;
        let email = self.engine.renderer.forget_confirm(&ForgetConfirmView {
            to: self.answer_to()?,
            token,
            expires: self.local(expires),
        })?;
        self.send("forget", &email)
    }

    fn forget_confirm(&self, token: &str) -> Result<bool, EngineError> {
        let token = token.trim().to_ascii_lowercase();
        if !self
            .tx
            .redeem_forget_token(&self.pm.key, &token, self.now)?
        {
            info!(pm = %self.pm.key, "forget code refused; nothing deleted");
            return self.ack(Ack::ForgetInvalid, None, None, None);
        }
        // Built before the delete: it needs nothing from the store after.
        let email = self.engine.renderer.forgotten(&ForgottenView {
            to: AnswerTo {
                // No reply key: the forms it belonged to are gone.
                reply_to: None,
                ..self.answer_to()?
            },
        })?;
        self.tx.forget_pm(&self.pm.key, self.now)?;
        // The delete took this message's log row too: log it again, without
        // the PM or sender, so a redelivery is seen as a duplicate.
        self.tx.log_inbound(&InboundRecord {
            dedup_key: self.dedup_key,
            pm: None,
            kind: Kind::Command,
            reason: None,
            week: None,
            sender_hash: None,
            received_at: self.now,
        })?;
        self.send("forgotten", &email)
    }
}

/// `PM Pulse` → `pm-pulse`: the service name as a file name part.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "coachmail".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_name_becomes_a_file_name_part() {
        assert_eq!(slug("PM Pulse"), "pm-pulse");
        assert_eq!(slug("  Équipe / Produit  "), "quipe-produit");
        assert_eq!(slug("***"), "coachmail");
    }
}
