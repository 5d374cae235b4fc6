//! A PM's commands by email — `trend`, `help`, `pause`, `resume`, `skip`,
//! `export`, `forget` — applied and answered.
//!
//! Owns what each command changes in the store and what it answers, inside
//! the one transaction `Engine::receive` opened for the message: the
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

use chrono::{DateTime, Utc};
use tracing::info;

use crate::config::Pm;
use crate::engine::{Engine, EngineError};
use crate::render::{Ack, AckView, AnswerTo, Email, Mailbox};
use crate::schedule;
use crate::store::{Event, EventKind, Tx};
use crate::understand::{Command, Forms, Understanding};
use crate::week::Week;

mod export;
mod forget;
mod help;
mod pause;
mod resume;
mod share;
mod skip;
mod trend;

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
    /// `Re:` the PM's subject, for threading; `None` when it had none.
    subject: Option<String>,
    now: DateTime<Utc>,
}

/// Applies the command in `u` for `pm` and queues its answer. Returns
/// whether an answer was queued. `subject` is the PM's message's subject:
/// the answer says `Re:` it, so it threads with the PM's message.
pub(crate) fn apply(
    engine: &Engine,
    tx: &Tx<'_>,
    pm: &Pm,
    u: &Understanding,
    dedup_key: &str,
    subject: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, EngineError> {
    let r = Request::new(engine, tx, pm, u, dedup_key, subject, now);
    let Some(command) = &u.command else {
        return Ok(false);
    };
    info!(pm = %pm.key, command = command.name(), "command");
    match command {
        Command::Help => r.help(None),
        Command::Unknown { word } => r.help(Some(word.clone())),
        Command::Trend { skill, weeks } => r.trend(skill.as_deref(), *weeks),
        Command::Pause { weeks, until } => r.pause(*weeks, *until),
        Command::Resume => r.resume(),
        Command::Skip => r.skip(),
        Command::Export => r.export(),
        Command::ShareHistory => r.share_history(),
        Command::Forget { token: None } => r.forget_request(),
        Command::Forget { token: Some(t) } => r.forget_confirm(t),
    }
}

/// Answers a reply made with the PM's own key of a form that has closed:
/// "this form has closed, reply to this week's". Nothing is stored.
#[allow(clippy::too_many_arguments)]
pub(crate) fn form_closed(
    engine: &Engine,
    tx: &Tx<'_>,
    pm: &Pm,
    u: &Understanding,
    week: Week,
    dedup_key: &str,
    subject: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, EngineError> {
    let r = Request::new(engine, tx, pm, u, dedup_key, subject, now);
    r.ack(Ack::FormClosed, None, Some(week), None)
}

/// A command that changes something, from a registered PM's address in a
/// fresh message nothing verifies: nothing changes, and the PM is told at
/// their registered address how to send it (reply to any of our emails,
/// whose reply address carries their key).
pub(crate) fn needs_reply_key(
    engine: &Engine,
    tx: &Tx<'_>,
    pm: &Pm,
    u: &Understanding,
    dedup_key: &str,
    subject: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, EngineError> {
    let r = Request::new(engine, tx, pm, u, dedup_key, subject, now);
    let Some(command) = &u.command else {
        return Ok(false);
    };
    info!(pm = %pm.key, command = command.name(), "unverified command explained, not applied");
    let email = engine.renderer.ack(&AckView {
        to: r.answer_to()?,
        what: Ack::NeedsReplyKey,
        until: None,
        week: None,
        next_form: None,
        command: Some(command.name().to_string()),
        example_until: r.example_until(),
    })?;
    r.send("ack", &email)
}

/// Mail from a coach's registered address (a reply to a digest, say): the
/// coach is told, at that address, that it is not read. Nothing of it is
/// stored, and the answer names no PM.
pub(crate) fn coach_reply_not_read(
    engine: &Engine,
    tx: &Tx<'_>,
    coach: &crate::config::Coach,
    u: &Understanding,
    dedup_key: &str,
    now: DateTime<Utc>,
) -> Result<bool, EngineError> {
    let thread = u
        .message_id
        .clone()
        .filter(|id| crate::render::is_message_id(id));
    let mut email = engine.renderer.ack(&AckView {
        to: AnswerTo {
            service: engine.service(),
            pm: Mailbox::new(coach.name.clone(), coach.email.clone()),
            id: u.content_hash.chars().take(16).collect(),
            in_reply_to: thread.clone(),
            references: thread.into_iter().collect(),
            reply_to: None,
            // Our own subject: the coach's names the PM of the digest.
            subject: None,
            date: now,
        },
        what: Ack::CoachReplyNotRead,
        until: None,
        week: None,
        next_form: None,
        command: None,
        example_until: now.date_naive(),
    })?;
    email.message_id = engine.message_id()?;
    let bytes = email.to_bytes()?;
    Ok(tx.enqueue(
        &crate::store::NewOutbound {
            key: &format!("ack:{dedup_key}"),
            kind: "ack",
            pm: None,
            recipient: &coach.email,
            bytes: &bytes,
        },
        now,
    )?)
}

impl<'a, 't> Request<'a, 't> {
    fn new(
        engine: &'a Engine,
        tx: &'a Tx<'t>,
        pm: &'a Pm,
        u: &'a Understanding,
        dedup_key: &'a str,
        subject: Option<&str>,
        now: DateTime<Utc>,
    ) -> Request<'a, 't> {
        Request {
            engine,
            tx,
            pm,
            u,
            dedup_key,
            subject: subject.and_then(crate::render::reply_subject),
            now,
        }
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
        let reply_to = match self.tx.latest_week(&self.pm.key)? {
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
            subject: self.subject.clone(),
            date: self.now,
        })
    }

    /// An example date for `pause until`: four weeks from today in the
    /// PM's time zone, so it is always one to come.
    fn example_until(&self) -> chrono::NaiveDate {
        (self.now.with_timezone(&self.pm.timezone) + chrono::Duration::weeks(4)).date_naive()
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
            crate::week::local_time(t.with_timezone(&self.pm.timezone).naive_local()),
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
            command: None,
            example_until: self.example_until(),
        })?;
        self.send("ack", &email)
    }
}
