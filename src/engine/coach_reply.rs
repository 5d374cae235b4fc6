//! A coach's accepted reply to a digest, applied: the agreed actions, the
//! drops, the private note and the 1:1 changes stored for the pairing, the
//! coach's confirmation and the PM's "from your 1:1" email queued — all in
//! the one transaction `receive` opened for the message.
//!
//! Owns the rule that the PM's email carries only the agreed actions and
//! the coach's confirmation only says a private note was kept, never its
//! text. Both go to registered addresses from the roster. Never logs an
//! action, a note or an address: counts and keys only.

use chrono::{DateTime, Utc};
use tracing::info;

use super::receive::{CoachMessage, note_as_data};
use super::{Engine, EngineError, enqueue};
use crate::render::{ActionsView, AnswerTo, CoachConfirmView, Mailbox};
use crate::store::{ActionState, CoachEntry, Tx};
use crate::understand::coach::{self as reader, ScheduleChange};
use crate::understand::{Forms, Understanding};

impl Engine {
    /// Stores what the coach wrote and queues its emails. Returns whether
    /// the coach's confirmation was queued.
    pub(super) fn apply_coach_reply(
        &self,
        tx: &Tx<'_>,
        m: &CoachMessage<'_>,
        u: &Understanding,
        now: DateTime<Utc>,
    ) -> Result<bool, EngineError> {
        let reply = u.coach_reply.clone().unwrap_or_default();
        let entry = CoachEntry {
            pairing: m.pairing,
            pm: &m.pm.key,
            coach: &m.coach.key,
            inbound_id: m.inbound_id,
            at: now,
        };
        let mut problems = reply.problems.clone();

        // Drops first, against the list the coach was shown (numbered
        // before this reply's new actions).
        let open = tx.open_actions(m.pairing)?;
        let texts: Vec<String> = open.iter().map(|a| a.text.clone()).collect();
        let mut dropped = Vec::new();
        for target in &reply.drops {
            match reader::action_to_drop(target, &texts) {
                Ok(i) => {
                    if tx.close_action(m.pairing, open[i].id, ActionState::Dropped, now)? {
                        dropped.push(texts[i].clone());
                    }
                }
                Err(problem) => problems.push(problem),
            }
        }

        let mut actions = Vec::new();
        let mut already_open = Vec::new();
        let still_open: Vec<String> = tx
            .open_actions(m.pairing)?
            .into_iter()
            .map(|a| crate::understand::text::fold(&a.text))
            .collect();
        for action in &reply.actions {
            let (text, _) = note_as_data(action, reader::MAX_ACTION_CHARS * 4);
            let text = text.trim().to_string();
            if text.is_empty() {
                continue;
            }
            let folded = crate::understand::text::fold(&text);
            if still_open.contains(&folded) || actions.iter().any(|a: &String| fold_eq(a, &folded))
            {
                already_open.push(text);
                continue;
            }
            tx.record_action(&entry, &text)?;
            actions.push(text);
        }

        let mut note_kept = false;
        if let Some(note) = &reply.private_note {
            let (note, cut) = note_as_data(note, self.config.auth.max_note_bytes);
            if !note.trim().is_empty() {
                tx.record_coach_note(&entry, note.trim())?;
                note_kept = true;
            }
            if cut > 0 {
                problems.push(format!(
                    "(your private note): notes are kept up to {} bytes — the last {cut} bytes were not stored",
                    self.config.auth.max_note_bytes
                ));
            }
        }

        let mut schedule = Vec::new();
        for change in &reply.schedule {
            let json = serde_json::to_string(change).unwrap_or_default();
            tx.record_schedule_change(&entry, &json)?;
            schedule.push(describe(change));
        }
        // The pairing's 1:1s as every change so far makes them.
        let next_one_on_one = if schedule.is_empty() {
            None
        } else {
            let mut facts = crate::schedule::PmFacts::new(now);
            for (change, at) in tx.schedule_changes_of(m.pairing)? {
                crate::schedule::apply_coach_change(m.pm, &mut facts, &change, at);
            }
            Some(
                match crate::schedule::next_meeting(now, m.pm, Some(&facts)) {
                    Some(next) => format!(
                        "{} ({})",
                        crate::week::local_time(
                            next.at.with_timezone(&m.pm.timezone).naive_local()
                        ),
                        m.pm.timezone.name()
                    ),
                    None => "none within a year (every one is cancelled)".to_string(),
                },
            )
        };
        let open_count = tx.open_actions(m.pairing)?.len();
        info!(
            pm = %m.pm.key,
            coach = %m.coach.key,
            actions = actions.len(),
            dropped = dropped.len(),
            note = note_kept,
            schedule = schedule.len(),
            problems = problems.len(),
            "coach reply recorded"
        );

        // The PM hears of the actions at once: only the actions.
        if !actions.is_empty() {
            let reply_to = tx
                .latest_week(&m.pm.key)?
                .map(|w| tx.reply_key_for(&m.pm.key, w))
                .transpose()?
                .flatten()
                .map(|k| crate::render::reply_address(&self.config.service.address, &k));
            let mut email = self.renderer.actions(&ActionsView {
                service: self.service(),
                pm: Self::mailbox(m.pm),
                coach_name: m.coach.name.clone(),
                id: u.content_hash.chars().take(16).collect(),
                actions: actions.clone(),
                reply_to,
                date: now,
            })?;
            email.message_id = self.message_id()?;
            let bytes = super::budget::sendable_bytes(&email)?;
            enqueue(
                tx,
                &format!("actions:{}", m.dedup_key),
                "actions",
                m.pm,
                &m.pm.email,
                &bytes,
                now,
            )?;
        }

        if m.rate_limited {
            return Ok(false);
        }
        let thread = u
            .message_id
            .clone()
            .filter(|id| crate::render::is_message_id(id));
        let mut email = self.renderer.coach_confirm(&CoachConfirmView {
            to: AnswerTo {
                service: self.service(),
                pm: Mailbox::new(m.coach.name.clone(), m.coach.email.clone()),
                id: u.content_hash.chars().take(16).collect(),
                in_reply_to: thread.clone(),
                references: thread.into_iter().collect(),
                // The newest open digest's address: a reply to this
                // confirmation (a correction, a forgotten action) is read.
                reply_to: tx
                    .live_digest_key(m.pairing, now)?
                    .map(|k| crate::render::reply_address(&self.config.service.address, &k)),
                subject: m.subject.and_then(crate::render::reply_subject),
                date: now,
            },
            pm_name: m.pm.name.clone(),
            actions,
            already_open,
            dropped,
            note_kept,
            schedule,
            next_one_on_one,
            problems,
            open_count,
        })?;
        email.message_id = self.message_id()?;
        let bytes = super::budget::sendable_bytes(&email)?;
        // Under the PM's key: a `forget` of the PM removes it too.
        Ok(enqueue(
            tx,
            &format!("coach_confirm:{}", m.dedup_key),
            "coach_confirm",
            m.pm,
            &m.coach.email,
            &bytes,
            now,
        )?)
    }
}

fn fold_eq(a: &str, folded: &str) -> bool {
    crate::understand::text::fold_eq(a, folded)
}

/// A 1:1 change in words, for the confirmation: `moved to Thu 15:00`.
fn describe(change: &ScheduleChange) -> String {
    let hm = |t: &chrono::NaiveTime| t.format("%H:%M").to_string();
    match change {
        ScheduleChange::MovedTo { day, date, time } => match (day, date) {
            (_, Some(d)) => format!("moved to {} {}", d.format("%a %-d %b %Y"), hm(time)),
            (Some(day), None) => format!("moved to {day} {}", hm(time)),
            (None, None) => format!("moved to {}", hm(time)),
        },
        ScheduleChange::Cancelled => "the next 1:1 is cancelled".to_string(),
        ScheduleChange::NextOn { date, time } => {
            format!("next 1:1 on {} {}", date.format("%a %-d %b %Y"), hm(time))
        }
        ScheduleChange::Every { weeks: 1 } => "every week".to_string(),
        ScheduleChange::Every { weeks } => format!("every {weeks} weeks"),
        ScheduleChange::MonthlyRule { nth, day, time } => {
            let which = match nth {
                1 => "first",
                2 => "second",
                3 => "third",
                4 => "fourth",
                _ => "last",
            };
            format!("the {which} {day} of each month, {}", hm(time))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, NaiveTime, Weekday};

    #[test]
    fn schedule_changes_read_back_in_words() {
        let t = NaiveTime::from_hms_opt(15, 0, 0).unwrap();
        assert_eq!(
            describe(&ScheduleChange::MovedTo {
                day: Some(Weekday::Thu),
                date: None,
                time: t
            }),
            "moved to Thu 15:00"
        );
        assert_eq!(
            describe(&ScheduleChange::NextOn {
                date: NaiveDate::from_ymd_opt(2026, 12, 18).unwrap(),
                time: t
            }),
            "next 1:1 on Fri 18 Dec 2026 15:00"
        );
        assert_eq!(
            describe(&ScheduleChange::Every { weeks: 2 }),
            "every 2 weeks"
        );
        assert_eq!(
            describe(&ScheduleChange::MonthlyRule {
                nth: 1,
                day: Weekday::Mon,
                time: t
            }),
            "the first Mon of each month, 15:00"
        );
    }
}
