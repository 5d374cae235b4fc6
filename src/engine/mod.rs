//! One step of the weekly loop: turn what is due into queued mail, and one
//! inbound message into stored effects plus the answer it deserves.
//!
//! Owns the rule that an effect and the mail it causes commit in one
//! transaction, and that mail is addressed from the roster, never from the
//! inbound message. Takes `now` as an argument; never reads a clock, never
//! talks to the network (the outbox worker delivers), never logs content.
//!
//! * [`Engine`] (here) — config, templates, the random source, and what the
//!   steps share: a PM's history, queueing an answer, a new secret.
//! * `tick` — what is due at `now` → forms, reminders, digests queued.
//! * `receive` — one inbound message → stored effects and its answer.
//! * `coach_reply` — a coach's accepted reply to a digest → actions, drops,
//!   private note and 1:1 changes stored; the coach's confirmation and the
//!   PM's "from your 1:1" email queued.
//! * [`pm_commands`] — one file per PM command (`trend`, `pause`, …).
//! * `budget` — the one way an email becomes queued bytes, under 1 MB.

use chrono::{DateTime, Utc};

use crate::analysis::History;
use crate::config::{Config, Pm};
use crate::render::{Email, Mailbox, RenderError, Renderer, ServiceView};
use crate::reply_key::{self, Entropy, EntropyError};
use crate::schedule;
use crate::store::{NewOutbound, Store, StoreError, Tx};
use crate::understand::{Kind, LookupError};
use crate::week::Week;

mod budget;
mod coach_commands;
mod coach_reply;
pub mod pm_commands;
mod receive;

pub use budget::{CUT_TEXT, MAX_EMAIL_BYTES};

pub use receive::dedup_key_of;
mod tick;

/// Why a step of the loop failed. Every variant is a local fault: the
/// message or the due mail is tried again, never judged on it.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Random(#[from] EntropyError),
    #[error(transparent)]
    Lookup(#[from] LookupError),
}

impl EngineError {
    /// The database is busy (another process holds its write lock).
    pub fn is_busy(&self) -> bool {
        matches!(self, EngineError::Store(e) if e.is_busy())
    }

    /// A fault of the configuration (a template, a database key) rather
    /// than of the moment.
    pub fn is_config(&self) -> bool {
        match self {
            EngineError::Store(e) => e.is_config(),
            EngineError::Render(_) => true,
            EngineError::Random(_) | EngineError::Lookup(_) => false,
        }
    }
}

/// What receiving one message did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub kind: Kind,
    pub pm: Option<String>,
    pub week: Option<Week>,
    /// Seen before: nothing was applied again.
    pub duplicate: bool,
    /// An answer (confirmation, help…) was queued.
    pub answered: bool,
    /// Over the per-sender hourly limit: recorded, not answered.
    pub rate_limited: bool,
    /// A PM was forgotten: what the edges must erase besides the database.
    pub forgotten: Option<Forgotten>,
}

/// What a `forget` leaves for the edges to erase: the PM's inbound messages
/// (by dedup key: `mid:<Message-ID>` or `sha256:<content hash>`) and outbox
/// rows (by id), read before the rows were deleted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Forgotten {
    pub inbound: Vec<String>,
    pub outbox: Vec<i64>,
}

/// The operating system's random source: the one used for real keys.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, buf: &mut [u8]) -> Result<(), EntropyError> {
        getrandom::fill(buf).map_err(|e| EntropyError(e.to_string()))
    }
}

/// The loop's heart: config, templates and the random source; no open
/// connections.
pub struct Engine {
    pub config: Config,
    pub renderer: Renderer,
    entropy: Box<dyn Entropy + Send + Sync>,
}

impl Engine {
    /// Loads the templates the config names; a broken template fails here.
    pub fn new(config: Config) -> Result<Engine, EngineError> {
        let renderer = Renderer::load(&config.service.templates)?;
        Ok(Engine {
            config,
            renderer,
            entropy: Box::new(OsEntropy),
        })
    }

    /// The same engine drawing its secrets from `entropy` (deterministic
    /// keys for tests and simulations).
    pub fn with_entropy(mut self, entropy: Box<dyn Entropy + Send + Sync>) -> Engine {
        self.entropy = entropy;
        self
    }

    /// A new secret: a form's reply key or a one-time code.
    pub fn new_secret(&self) -> Result<String, EngineError> {
        Ok(reply_key::generate(self.entropy.as_ref())?)
    }

    /// A fresh random Message-ID for a message about to be queued: never
    /// derived from a reply key, a PM or a week.
    pub(crate) fn message_id(&self) -> Result<String, EngineError> {
        Ok(reply_key::random_message_id(
            self.entropy.as_ref(),
            &self.config.service.address,
        )?)
    }

    pub(crate) fn service(&self) -> ServiceView {
        ServiceView::from_config(&self.config.service)
    }

    pub(crate) fn mailbox(pm: &Pm) -> Mailbox {
        Mailbox::new(pm.name.clone(), pm.email.clone())
    }

    /// A PM's history as analysis wants it, with forms, skips and the weeks
    /// pauses touched, up to `upto`.
    pub fn history(&self, store: &Store, pm: &Pm, upto: Week) -> Result<History, EngineError> {
        Ok(build_history(
            pm,
            &store.history(&pm.key)?,
            store.forms_sent(&pm.key)?,
            store.skipped_weeks(&pm.key)?,
            &store.pauses(&pm.key)?,
            upto,
        ))
    }

    /// [`Engine::history`] as a coach may see it: only weeks from `from` on
    /// (the coach's own pairing), when given.
    pub fn history_from(
        &self,
        store: &Store,
        pm: &Pm,
        upto: Week,
        from: Option<Week>,
    ) -> Result<History, EngineError> {
        let Some(from) = from else {
            return self.history(store, pm, upto);
        };
        let rows: Vec<_> = store
            .history(&pm.key)?
            .into_iter()
            .filter(|(w, _, _)| *w >= from)
            .collect();
        let keep = |set: std::collections::BTreeSet<Week>| {
            set.into_iter().filter(|w| *w >= from).collect()
        };
        Ok(build_history(
            pm,
            &rows,
            keep(store.forms_sent(&pm.key)?),
            keep(store.skipped_weeks(&pm.key)?),
            &store.pauses(&pm.key)?,
            upto,
        ))
    }

    /// What a `trend` of `weeks` weeks ending at `upto` shows for `skills`,
    /// read inside a transaction: a bounded window (see
    /// [`bounded_history`]), the same trends as the whole history.
    pub(crate) fn trend_history_in(
        &self,
        tx: &Tx<'_>,
        pm: &Pm,
        upto: Week,
        weeks: u32,
        from: Option<Week>,
        skills: &[&str],
    ) -> Result<History, EngineError> {
        bounded_history(
            pm,
            upto,
            weeks,
            from,
            skills,
            WeekSets {
                answered: tx.answered_weeks(&pm.key)?,
                forms: tx.forms_sent(&pm.key)?,
                skipped: tx.skipped_weeks(&pm.key)?,
                pauses: tx.pauses(&pm.key)?,
            },
            |a, b| tx.history_between(&pm.key, a, b),
        )
    }

    /// Queues an answer to the PM's registered address, once per inbound
    /// message and kind.
    pub(crate) fn enqueue_answer(
        &self,
        tx: &Tx<'_>,
        kind: &str,
        pm: &Pm,
        email: &Email,
        dedup_key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, EngineError> {
        let mut email = email.clone();
        email.message_id = self.message_id()?;
        let bytes = budget::sendable_bytes(&email)?;
        let key = format!("{kind}:{dedup_key}");
        Ok(enqueue(tx, &key, kind, pm, &pm.email, &bytes, now)?)
    }
}

/// The first week a PM's coach sees: the first whose form went out in
/// their own pairing (a week belongs to the coach who was paired when its
/// form was sent, so answers written for the previous coach stay theirs),
/// unless the PM shared the earlier weeks (`share history`) or there was no
/// earlier pairing. The one rule for digests and a coach's `trend`.
pub(crate) fn coach_sees_from(
    pm: &Pm,
    pairings: &[crate::store::Pairing],
    history_shared: bool,
) -> Option<Week> {
    match pairings.iter().rev().find(|p| p.until.is_none()) {
        Some(current) if pairings.len() > 1 && !history_shared => {
            let week = crate::schedule::open_week(current.since, pm);
            Some(if crate::schedule::form_at(pm, week) < current.since {
                week.next()
            } else {
                week
            })
        }
        _ => None,
    }
}

/// Weeks of scores a bounded read takes before its run: three times the
/// baseline's reach, so a PM who skips a skill now and then still needs one
/// read.
pub(crate) const EXTRA_READ_WEEKS: u32 = 3 * crate::analysis::BASELINE_MAX_WEEKS as u32;

/// The weeks a bounded read takes whole (one small index each).
pub(crate) struct WeekSets {
    pub answered: std::collections::BTreeSet<Week>,
    pub forms: std::collections::BTreeSet<Week>,
    pub skipped: std::collections::BTreeSet<Week>,
    pub pauses: Vec<crate::store::Pause>,
}

/// The history a run of `weeks` weeks ending at `upto` needs for `skills`
/// (a digest's window, a `trend`): the scores of the run and
/// [`EXTRA_READ_WEEKS`] before it, read by `between`, widened only while a
/// skill lacks the scored weeks its baseline needs
/// ([`crate::analysis::window_suffices`]); the weeks of `sets` whole, for
/// streaks. From `from` on when given (a coach's own pairing). Its cost
/// does not grow with years of scores, and it gives what the whole history
/// gives for that run.
pub(crate) fn bounded_history(
    pm: &Pm,
    upto: Week,
    weeks: u32,
    from: Option<Week>,
    skills: &[&str],
    sets: WeekSets,
    between: impl Fn(Week, Week) -> Result<Vec<(Week, String, Option<u8>)>, StoreError>,
) -> Result<History, EngineError> {
    let visible = |w: &Week| from.is_none_or(|f| *w >= f);
    let keep = |set: std::collections::BTreeSet<Week>| -> std::collections::BTreeSet<Week> {
        set.into_iter().filter(visible).collect()
    };
    let answered = keep(sets.answered);
    let forms = keep(sets.forms);
    let skipped = keep(sets.skipped);
    let mut span = weeks.saturating_add(EXTRA_READ_WEEKS);
    loop {
        let mut start = upto.plus(1 - i64::from(span));
        if let Some(f) = from {
            start = start.max(f);
        }
        let rows = between(start, upto)?;
        let mut history = build_history(
            pm,
            &rows,
            forms.clone(),
            skipped.clone(),
            &sets.pauses,
            upto,
        );
        history.answered_earlier = answered.range(..start).copied().collect();
        if history.answered_earlier.is_empty()
            || crate::analysis::window_suffices(
                &history,
                skills.iter().copied(),
                upto,
                weeks,
                start,
            )
        {
            return Ok(history);
        }
        span = span.saturating_mul(2);
    }
}

/// Builds a [`History`] from the store's rows. A week counts as paused
/// when a pause overlapped it — from its form time to the next one — so a
/// pause that begins after the form went out still reads "paused", not
/// "missed", to the coach.
fn build_history(
    pm: &Pm,
    rows: &[(Week, String, Option<u8>)],
    forms_sent: std::collections::BTreeSet<Week>,
    skipped: std::collections::BTreeSet<Week>,
    pauses: &[crate::store::Pause],
    upto: Week,
) -> History {
    let mut history = History::from_rows(rows);
    history.forms_sent = forms_sent;
    history.skipped = skipped;
    for p in pauses {
        let end = p.end();
        if end <= p.starts_at {
            continue;
        }
        let mut week = schedule::open_week(p.starts_at, pm).prev();
        let last = schedule::open_week(end, pm).min(upto);
        while week <= last {
            let from = schedule::form_at(pm, week);
            let to = schedule::form_at(pm, week.next());
            if p.starts_at < to && end > from {
                history.paused.insert(week);
            }
            week = week.next();
        }
    }
    history
}

fn enqueue(
    tx: &Tx<'_>,
    key: &str,
    kind: &str,
    pm: &Pm,
    recipient: &str,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    tx.enqueue(
        &NewOutbound {
            key,
            kind,
            pm: Some(&pm.key),
            recipient,
            bytes,
        },
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_entropy_gives_different_keys() {
        let a = reply_key::generate(&OsEntropy).unwrap();
        let b = reply_key::generate(&OsEntropy).unwrap();
        assert!(reply_key::is_key(&a));
        assert_ne!(a, b);
    }
}
