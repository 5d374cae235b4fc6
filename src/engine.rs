//! One step of the weekly loop: turn what is due into queued mail, and one
//! inbound message into stored effects plus the answer it deserves.
//!
//! Owns the rule that an effect and the mail it causes commit in one
//! transaction, and that mail is addressed from the roster, never from the
//! inbound message. Takes `now` as an argument; never reads a clock, never
//! talks to the network (the outbox worker delivers), never logs content.

use chrono::{DateTime, Duration, Utc};
use tracing::{debug, info};

use crate::analysis::{self, History};
use crate::config::{Config, Pm};
use crate::render::{
    Answer, ConfirmView, DigestSkill, DigestView, Email, FormView, Mailbox, ReminderView,
    RenderError, Renderer, ServiceView, SkillView,
};
use crate::schedule::{self, Due};
use crate::store::{InboundRecord, NewOutbound, Store, StoreError, Tx};
use crate::understand::{self, Context, Kind, Understanding};
use crate::week::Week;

/// Why a step of the loop failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(
        "cannot make a secret reply key: the system's random source failed ({0}); check /dev/urandom"
    )]
    Random(String),
}

impl EngineError {
    /// The sysexits code for this failure.
    pub fn exit_code(&self) -> u8 {
        use crate::cli::exit;
        match self {
            EngineError::Store(e) if e.is_busy() => exit::TEMPFAIL,
            EngineError::Store(_) => exit::IOERR,
            EngineError::Render(_) => exit::CONFIG,
            EngineError::Random(_) => exit::SOFTWARE,
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
}

/// The loop's pure-ish heart: config and templates, no open connections.
pub struct Engine {
    pub config: Config,
    pub renderer: Renderer,
}

impl Engine {
    /// Loads the templates the config names; a broken template fails here.
    pub fn new(config: Config) -> Result<Engine, EngineError> {
        let renderer = Renderer::load(&config.service.templates)?;
        Ok(Engine { config, renderer })
    }

    pub(crate) fn service(&self) -> ServiceView {
        ServiceView::from_config(&self.config.service)
    }

    fn mailbox(pm: &Pm) -> Mailbox {
        Mailbox::new(pm.name.clone(), pm.email.clone())
    }

    /// Queues everything due at `now`; returns the idempotency keys queued.
    pub fn tick(&self, store: &mut Store, now: DateTime<Utc>) -> Result<Vec<String>, EngineError> {
        let facts = store.schedule_facts(now)?;
        let mut queued = Vec::new();
        for due in schedule::due(now, &self.config, &facts) {
            let Some(pm) = self.config.pm(due.pm()) else {
                continue;
            };
            let key = due.idempotency_key();
            let done = match &due {
                Due::Form { week, .. } => self.queue_form(store, pm, *week, &key, now)?,
                Due::Reminder { week, .. } => self.queue_reminder(store, pm, *week, &key, now)?,
                Due::Digest {
                    week, one_on_one, ..
                } => self.queue_digest(store, pm, *week, *one_on_one, &key, now)?,
            };
            if done {
                debug!(pm = %pm.key, key = %key, "queued");
                queued.push(key);
            }
        }
        if !queued.is_empty() {
            info!(count = queued.len(), "scheduled mail queued");
        }
        Ok(queued)
    }

    fn queue_form(
        &self,
        store: &mut Store,
        pm: &Pm,
        week: Week,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, EngineError> {
        let reply_key = new_reply_key()?;
        let address = &self.config.service.address;
        let email = self.renderer.form(&FormView {
            service: self.service(),
            pm: Self::mailbox(pm),
            week,
            reply_to: crate::render::reply_address(address, &reply_key),
            reply_key: reply_key.clone(),
            skills: SkillView::active(&self.config.framework),
            date: now,
        })?;
        let bytes = email.to_bytes()?;
        store.write(|tx| -> Result<bool, EngineError> {
            tx.record_form(&pm.key, week, &reply_key, &email.message_id, now)?;
            Ok(enqueue(tx, key, "form", pm, &pm.email, &bytes, now)?)
        })
    }

    fn queue_reminder(
        &self,
        store: &mut Store,
        pm: &Pm,
        week: Week,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, EngineError> {
        let Some(reply_key) = store.reply_key_for(&pm.key, week)? else {
            return Ok(false);
        };
        let email = self.renderer.reminder(&ReminderView {
            service: self.service(),
            pm: Self::mailbox(pm),
            week,
            reply_to: crate::render::reply_address(&self.config.service.address, &reply_key),
            reply_key,
            skills: SkillView::active(&self.config.framework),
            date: now,
        })?;
        let bytes = email.to_bytes()?;
        store.write(|tx| -> Result<bool, EngineError> {
            Ok(enqueue(tx, key, "reminder", pm, &pm.email, &bytes, now)?)
        })
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

    /// [`Engine::history`], read inside a transaction.
    pub fn history_in(&self, tx: &Tx<'_>, pm: &Pm, upto: Week) -> Result<History, EngineError> {
        Ok(build_history(
            pm,
            &tx.history(&pm.key)?,
            tx.forms_sent(&pm.key)?,
            tx.skipped_weeks(&pm.key)?,
            &tx.pauses(&pm.key)?,
            upto,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn queue_digest(
        &self,
        store: &mut Store,
        pm: &Pm,
        week: Week,
        one_on_one: DateTime<Utc>,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, EngineError> {
        let Some(coach) = self.config.coach_of(pm) else {
            return Ok(false);
        };
        let history = self.history(store, pm, week)?;
        let data = analysis::digest(
            &history,
            &self.config.framework,
            week,
            self.config.schedule.dip_threshold,
        );
        let pause = store.active_pause(&pm.key, one_on_one)?;
        let email = self.renderer.digest(&DigestView {
            service: self.service(),
            coach: Mailbox::new(coach.name.clone(), coach.email.clone()),
            pm_key: pm.key.clone(),
            pm_name: pm.name.clone(),
            week,
            one_on_one: one_on_one.with_timezone(&pm.timezone).naive_local(),
            timezone: pm.timezone.name().to_string(),
            skills: data
                .skills
                .iter()
                .map(|s| DigestSkill {
                    key: s.key.clone(),
                    name: s.name.clone(),
                    answer: match (s.status, s.score) {
                        (analysis::AnswerStatus::Scored, Some(n)) => Answer::Score(n),
                        (analysis::AnswerStatus::Skipped, _) => Answer::Skipped,
                        _ => Answer::Missing,
                    },
                    baseline: s.baseline,
                    dip: s.dip,
                    recent: analysis::trend(&history, &s.key, week, analysis::DIGEST_WINDOW_WEEKS)
                        .points
                        .iter()
                        .map(|(_, score)| *score)
                        .collect(),
                })
                .collect(),
            notes: store.notes(&pm.key, week)?,
            missed_weeks: data.missed.clone(),
            paused_weeks: data.paused.clone(),
            dip_threshold: self.config.schedule.dip_threshold,
            streak: data.streak,
            paused: pause.is_some() || data.status == analysis::WeekStatus::Paused,
            paused_until: pause.map(|p| p.until.with_timezone(&pm.timezone).date_naive()),
            date: now,
        })?;
        let bytes = email.to_bytes()?;
        store.write(|tx| -> Result<bool, EngineError> {
            Ok(enqueue(tx, key, "digest", pm, &coach.email, &bytes, now)?)
        })
    }

    /// Reads one inbound message and applies it: effects and the answer it
    /// causes commit together, once per message however often it arrives.
    pub fn receive(
        &self,
        store: &mut Store,
        raw: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Receipt, EngineError> {
        let u = understand::understand(
            raw,
            &Context {
                config: &self.config,
                forms: &*store,
                now,
            },
        );
        let dedup_key = match &u.message_id {
            Some(id) => format!("mid:{id}"),
            None => format!("sha256:{}", u.content_hash),
        };
        let sender_hash = sender_hash(raw);
        let span = tracing::info_span!(
            "inbound",
            msg = %&u.content_hash[..12.min(u.content_hash.len())],
            pm = u.pm.as_deref().unwrap_or("-"),
            week = %u.week.map(|w| w.to_string()).unwrap_or_else(|| "-".into()),
            kind = ?u.kind,
        );
        let _enter = span.enter();

        let tx = store.transaction()?;
        let mut receipt = Receipt {
            kind: u.kind,
            pm: u.pm.clone(),
            week: u.week,
            duplicate: false,
            answered: false,
            rate_limited: false,
        };
        if tx.inbound_seen(&dedup_key)? {
            info!("already seen; nothing applied again");
            receipt.duplicate = true;
            return Ok(receipt);
        }
        if let Some(hash) = &sender_hash {
            let recent = tx.count_inbound_from(hash, now - Duration::hours(1))?;
            receipt.rate_limited = recent >= self.config.auth.replies_per_sender_per_hour;
        }
        let inbound_id = tx.log_inbound(&InboundRecord {
            dedup_key: &dedup_key,
            pm: u.pm.as_deref(),
            kind: u.kind,
            reason: u.reason.as_deref(),
            week: u.week,
            sender_hash: sender_hash.as_deref(),
            received_at: now,
        })?;
        let pm = u.pm.as_deref().and_then(|k| self.config.pm(k));
        if let Some(pm) = pm {
            tx.keep_raw(inbound_id, raw, now)?;
            match u.kind {
                Kind::Assessment => {
                    if let Some(week) = u.week {
                        tx.record_answers(&pm.key, week, &u.scores, &u.skipped, inbound_id, now)?;
                        if let Some(note) = self.note_with_comments(&u) {
                            tx.record_note(&pm.key, week, &note, inbound_id, now)?;
                        }
                        if !receipt.rate_limited {
                            receipt.answered =
                                self.queue_confirmation(&tx, pm, week, &u, &dedup_key, now)?;
                        }
                    }
                }
                Kind::Command => {
                    if !receipt.rate_limited {
                        receipt.answered = self.answer_command(&tx, pm, &u, &dedup_key, now)?;
                    }
                }
                Kind::Ignored | Kind::Rejected => {}
            }
        }
        tx.commit()?;
        info!(
            answered = receipt.answered,
            rate_limited = receipt.rate_limited,
            "inbound applied"
        );
        Ok(receipt)
    }

    /// The note as stored: the PM's free text, then the comments written
    /// after scores (`Delivery: 4 shipped the beta`), one line per skill,
    /// so the coach sees them next to the rest.
    fn note_with_comments(&self, u: &Understanding) -> Option<String> {
        let mut parts: Vec<String> = u
            .note
            .iter()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect();
        for (key, comment) in &u.comments {
            let name = self
                .config
                .framework
                .skill(key)
                .map_or(key.as_str(), |s| s.name.as_str());
            parts.push(format!("{name}: {}", comment.trim()));
        }
        (!parts.is_empty()).then(|| parts.join("\n"))
    }

    fn queue_confirmation(
        &self,
        tx: &Tx<'_>,
        pm: &Pm,
        week: Week,
        u: &Understanding,
        dedup_key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, EngineError> {
        let reply_to = tx
            .reply_key_for(&pm.key, week)?
            .map(|k| crate::render::reply_address(&self.config.service.address, &k));
        let view = ConfirmView::new(
            self.service(),
            Self::mailbox(pm),
            week,
            u,
            &self.config.framework,
            reply_to,
            now,
        );
        let mut view = view;
        if !view
            .in_reply_to
            .as_deref()
            .is_none_or(crate::render::is_message_id)
        {
            view.in_reply_to = None;
            view.references.clear();
        }
        let email = self.renderer.confirm(&view)?;
        self.enqueue_answer(tx, "confirm", pm, &email, dedup_key, now)
    }

    fn answer_command(
        &self,
        tx: &Tx<'_>,
        pm: &Pm,
        u: &Understanding,
        dedup_key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, EngineError> {
        crate::pm_commands::apply(self, tx, pm, u, dedup_key, now)
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
        let bytes = email.to_bytes()?;
        let key = format!("{kind}:{dedup_key}");
        Ok(enqueue(tx, &key, kind, pm, &pm.email, &bytes, now)?)
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
        let end = p.resumed_at.map_or(p.until, |r| r.min(p.until));
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

/// A secret, unguessable reply key: 128 random bits as 26 lowercase base32
/// characters (`a-z2-7`).
pub fn new_reply_key() -> Result<String, EngineError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| EngineError::Random(e.to_string()))?;
    Ok(base32(&bytes))
}

fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// A content-free handle on the sender for the rate limit: SHA-256 of the
/// lower-cased From address.
fn sender_hash(raw: &[u8]) -> Option<String> {
    let headers = mail_parser::MessageParser::new().parse_headers(raw)?;
    let from = headers.from()?.first()?.address()?.to_ascii_lowercase();
    Some(understand::content_hash(from.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_keys_are_26_base32_chars_and_differ() {
        let a = new_reply_key().unwrap();
        let b = new_reply_key().unwrap();
        assert_eq!(a.len(), 26);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c))
        );
        assert_ne!(a, b);
    }

    #[test]
    fn base32_matches_rfc4648_lowercase() {
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
    }
}
