//! A coach's commands by email — `pms`, `trend <pm>`, `help` — answered.
//!
//! Owns resolving a name to one of the coach's own PMs (never anyone
//! else's: a name of another coach's PM gets exactly the answer a name of
//! nobody gets) and what each answer shows. Every answer goes to the
//! coach's registered address from the roster, whatever From or Reply-To
//! said, inside the transaction that logged the message. Never logs
//! content: only the coach key and the command's name.

use chrono::{DateTime, Utc};
use tracing::info;

use super::{Engine, EngineError};
use crate::analysis;
use crate::config::{Coach, Pm};
use crate::render::{
    AnswerTo, CoachAnswer, CoachAnswerView, CoachPmRow, Email, Mailbox, TrendSkill, TrendView,
};
use crate::schedule;
use crate::store::{NewOutbound, Tx};
use crate::understand::Understanding;
use crate::understand::coach_command::{COACH_COMMANDS, CoachCommand, names};

/// One coach's command being answered.
struct CoachRequest<'a, 't> {
    engine: &'a Engine,
    tx: &'a Tx<'t>,
    coach: &'a Coach,
    u: &'a Understanding,
    dedup_key: &'a str,
    subject: Option<String>,
    now: DateTime<Utc>,
}

/// Answers the coach's command in `u` at the coach's registered address.
/// Returns whether an answer was queued.
pub(crate) fn apply(
    engine: &Engine,
    tx: &Tx<'_>,
    coach: &Coach,
    u: &Understanding,
    dedup_key: &str,
    subject: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, EngineError> {
    let Some(command) = &u.coach_command else {
        return Ok(false);
    };
    info!(coach = %coach.key, command = command.name(), "coach command");
    let r = CoachRequest {
        engine,
        tx,
        coach,
        u,
        dedup_key,
        subject: subject.and_then(crate::render::reply_subject),
        now,
    };
    match command {
        CoachCommand::Pms => r.answer(CoachAnswer::Pms),
        CoachCommand::Help => r.answer(CoachAnswer::Help { unknown: None }),
        CoachCommand::Unknown { word } => r.answer(CoachAnswer::Help {
            unknown: Some(word.clone()),
        }),
        CoachCommand::Trend { who, weeks } => {
            let mine = r.pms();
            let named: Vec<&Pm> = mine
                .iter()
                .copied()
                .filter(|pm| names(who, &pm.key, &pm.name))
                .collect();
            match named.as_slice() {
                [pm] => r.trend(pm, *weeks),
                [] => r.answer(CoachAnswer::NoSuchPm { who: who.clone() }),
                _ => r.answer(CoachAnswer::SeveralPms { who: who.clone() }),
            }
        }
    }
}

impl CoachRequest<'_, '_> {
    /// The coach's own PMs, in roster order.
    fn pms(&self) -> Vec<&Pm> {
        let config = &self.engine.config;
        config
            .pms
            .iter()
            .filter(|pm| pm.coach == self.coach.key)
            .collect()
    }

    fn answer_to(&self) -> AnswerTo {
        let thread = self
            .u
            .message_id
            .clone()
            .filter(|id| crate::render::is_message_id(id));
        AnswerTo {
            service: self.engine.service(),
            pm: Mailbox::new(self.coach.name.clone(), self.coach.email.clone()),
            id: self.u.content_hash.chars().take(16).collect(),
            in_reply_to: thread.clone(),
            references: thread.into_iter().collect(),
            reply_to: None,
            subject: self.subject.clone(),
            date: self.now,
        }
    }

    /// `pms`, `help`, or a trend that named none or several of their PMs.
    fn answer(&self, what: CoachAnswer) -> Result<bool, EngineError> {
        let mut rows = Vec::new();
        for pm in self.pms() {
            rows.push(self.row(pm)?);
        }
        let email = self.engine.renderer.coach_answer(&CoachAnswerView {
            to: self.answer_to(),
            what,
            pms: rows,
            commands: COACH_COMMANDS.to_vec(),
        })?;
        self.send("coach_answer", None, &email)
    }

    /// One PM as `pms` shows them: the next 1:1 as it will take place (the
    /// coach's changes applied), the last answered week, the open actions
    /// of this pairing.
    fn row(&self, pm: &Pm) -> Result<CoachPmRow, EngineError> {
        let pairing = self
            .tx
            .current_pairing(&pm.key)?
            .filter(|p| p.coach == self.coach.key);
        let mut facts = schedule::PmFacts::new(self.now);
        let mut open_actions = 0;
        if let Some(p) = &pairing {
            for (change, at) in self.tx.schedule_changes_of(p.id)? {
                schedule::apply_coach_change(pm, &mut facts, &change, at);
            }
            open_actions = self.tx.open_actions(p.id)?.len();
        }
        let from = self.sees_from(pm)?;
        let last_reply = self
            .tx
            .answered_weeks(&pm.key)?
            .into_iter()
            .rfind(|w| from.is_none_or(|f| *w >= f))
            .map(|w| w.dates());
        Ok(CoachPmRow {
            name: pm.name.clone(),
            key: pm.key.clone(),
            next_one_on_one: schedule::next_meeting(self.now, pm, Some(&facts)).map(|m| {
                format!(
                    "{} ({})",
                    crate::week::local_time(m.at.with_timezone(&pm.timezone).naive_local()),
                    pm.timezone.name()
                )
            }),
            last_reply,
            open_actions,
        })
    }

    /// The first week of `pm` this coach may see.
    fn sees_from(&self, pm: &Pm) -> Result<Option<crate::week::Week>, EngineError> {
        let pairings = self.tx.pairings(&pm.key)?;
        let shared = self.tx.history_shared(&pm.key, &self.coach.key)?;
        Ok(super::coach_sees_from(pm, &pairings, shared))
    }

    /// `trend <pm> [weeks]`: that PM's scores, only the weeks the coach
    /// may see (their own pairing's, unless the PM shared earlier ones).
    fn trend(&self, pm: &Pm, weeks: u32) -> Result<bool, EngineError> {
        let framework = &self.engine.config.framework;
        let upto = schedule::open_week(self.now, pm);
        let from = self.sees_from(pm)?;
        // The run never reaches back past the first week the coach sees.
        let weeks = match from {
            Some(f) => weeks.min(u32::try_from(f.weeks_until(upto) + 1).unwrap_or(1).max(1)),
            None => weeks,
        };
        let skills: Vec<&str> = framework.skills.iter().map(|s| s.key.as_str()).collect();
        let history = self
            .engine
            .trend_history_in(self.tx, pm, upto, weeks, from, &skills)?;
        let trends = analysis::trends(&history, framework, upto, weeks);
        let email = self.engine.renderer.trend(&TrendView {
            to: self.answer_to(),
            weeks,
            from: upto.plus(1 - i64::from(weeks)),
            until: upto,
            skill: None,
            skills: trends
                .iter()
                .map(|t| TrendSkill::of(t, framework))
                .collect(),
            dip_threshold: self.engine.config.schedule.dip_threshold,
            about: Some(pm.name.clone()),
            // The coach sees the pairing's actions in the digest.
            actions: Vec::new(),
        })?;
        // Under the PM's key: their `forget` removes it with the rest.
        self.send("coach_trend", Some(&pm.key), &email)
    }

    /// Queues `email` to the coach's registered address, once per inbound
    /// message.
    fn send(&self, kind: &str, pm: Option<&str>, email: &Email) -> Result<bool, EngineError> {
        let mut email = email.clone();
        email.message_id = self.engine.message_id()?;
        let bytes = super::budget::sendable_bytes(&email)?;
        Ok(self.tx.enqueue(
            &NewOutbound {
                key: &format!("{kind}:{}", self.dedup_key),
                kind,
                pm,
                recipient: &self.coach.email,
                bytes: &bytes,
            },
            self.now,
        )?)
    }
}
