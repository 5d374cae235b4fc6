//! The scheduled side of a step: what is due at `now` becomes queued mail
//! (forms with a fresh reply key, reminders, digests), each once under its
//! idempotency key.

use chrono::{DateTime, Utc};
use tracing::{debug, info};

use super::{Engine, EngineError, budget, enqueue};
use crate::analysis::{self, History};
use crate::config::Pm;
use crate::render::{
    Answer, DigestAction, DigestNote, DigestSkill, DigestView, FormView, Mailbox, SkillView,
};
use crate::schedule::{self, Due};
use crate::store::Store;
use crate::week::Week;

impl Engine {
    /// Queues everything due at `now`; returns the idempotency keys queued.
    pub fn tick(&self, store: &mut Store, now: DateTime<Utc>) -> Result<Vec<String>, EngineError> {
        let facts = store.schedule_facts(&self.config, now)?;
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
                    week,
                    from,
                    one_on_one,
                    ..
                } => self.queue_digest(store, pm, (*from, *week), *one_on_one, &key, now)?,
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

    /// Queues this week's form for `pm` now, under the schedule's own
    /// idempotency key: the scheduled send then finds it done. Returns the
    /// key, or `None` when this week's form was already queued or sent.
    /// How an operator onboards a new PM, or tries the loop at once.
    pub fn send_form_now(
        &self,
        store: &mut Store,
        pm: &Pm,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, EngineError> {
        let week = schedule::open_week(now, pm);
        let key = schedule::form_key(&pm.key, week);
        if store.has_outbound_key(&key)? {
            return Ok(None);
        }
        Ok(self.queue_form(store, pm, week, &key, now)?.then_some(key))
    }

    /// What the form and its reminder show: the same view, the same key,
    /// and the open actions of the PM's current pairing (never an earlier
    /// pairing's: actions stay with the pairing they were agreed in).
    fn form_view(
        &self,
        store: &Store,
        pm: &Pm,
        week: Week,
        reply_key: &str,
        now: DateTime<Utc>,
    ) -> Result<FormView, EngineError> {
        let max_note = self.config.auth.max_note_bytes;
        let actions = store
            .pm_open_actions(&pm.key)?
            .into_iter()
            .map(|a| super::receive::note_as_data(&a.text, max_note).0)
            .collect();
        Ok(FormView {
            service: self.service(),
            pm: Self::mailbox(pm),
            week,
            reply_to: crate::render::reply_address(&self.config.service.address, reply_key),
            reply_key: reply_key.to_string(),
            skills: SkillView::active(&self.config.framework),
            actions,
            date: now,
        })
    }

    fn queue_form(
        &self,
        store: &mut Store,
        pm: &Pm,
        week: Week,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, EngineError> {
        let reply_key = self.new_secret()?;
        let mut email = self
            .renderer
            .form(&self.form_view(store, pm, week, &reply_key, now)?)?;
        email.message_id = self.message_id()?;
        let bytes = budget::sendable_bytes(&email)?;
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
        let mut email = self
            .renderer
            .reminder(&self.form_view(store, pm, week, &reply_key, now)?)?;
        // Threaded under the form as it was sent.
        let form_id = store.form_message_id(&pm.key, week)?;
        email.in_reply_to = form_id.clone();
        email.references = form_id.into_iter().collect();
        email.message_id = self.message_id()?;
        let bytes = budget::sendable_bytes(&email)?;
        store.write(|tx| -> Result<bool, EngineError> {
            Ok(enqueue(tx, key, "reminder", pm, &pm.email, &bytes, now)?)
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn queue_digest(
        &self,
        store: &mut Store,
        pm: &Pm,
        (covers_from, week): (Week, Week),
        one_on_one: DateTime<Utc>,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, EngineError> {
        let Some(coach) = self.config.coach_of(pm) else {
            return Ok(false);
        };
        // A new coach sees the weeks from their own pairing on, unless the
        // PM shared the earlier ones (`share history`).
        let pairings = store.pairings(&pm.key)?;
        let history_shared = store.history_shared(&pm.key, &coach.key)?;
        let from = super::coach_sees_from(pm, &pairings, history_shared);
        // The coach's side belongs to the pairing in force: nothing from an
        // earlier coach's pairing shows, and a reply to this digest is
        // bound to this pairing by the digest's own key.
        let pairing = store
            .current_pairing(&pm.key)?
            .filter(|p| p.coach == coach.key);
        let max_note = self.config.auth.max_note_bytes;
        // Weeks the PM answered actions in: replied to, even without scores.
        let mut action_weeks = std::collections::BTreeSet::new();
        let (actions, done_actions, private_notes) = match &pairing {
            Some(p) => {
                let last_digest = store.last_digest_sent(p.id)?;
                let answers = store.action_answers_in(p.id)?;
                action_weeks.extend(answers.iter().map(|x| x.week));
                // Each action with the PM's newest answer to it.
                let shown = |a: crate::store::ActionRow| {
                    let latest = answers.iter().rev().find(|x| x.action == a.id);
                    DigestAction {
                        text: super::receive::note_as_data(&a.text, max_note).0,
                        answer: latest.map(|x| x.answer.words().to_string()),
                        comment: latest
                            .and_then(|x| x.comment.as_deref())
                            .map(|c| super::receive::note_as_data(c, max_note).0),
                        answered_in: latest
                            .filter(|x| x.week != week)
                            .map(|x| crate::render::week_of(x.week)),
                    }
                };
                (
                    store.open_actions(p.id)?.into_iter().map(shown).collect(),
                    store
                        .done_actions_since(p.id, last_digest)?
                        .into_iter()
                        .map(shown)
                        .collect(),
                    digest_notes(
                        store
                            .coach_notes_since(p.id, last_digest)?
                            .into_iter()
                            .map(|n| ((), n))
                            .collect(),
                        max_note,
                        self.config.auth.max_digest_note_bytes,
                    )
                    .into_iter()
                    .map(|((), n)| n)
                    .collect(),
                )
            }
            None => (Vec::new(), Vec::new(), Vec::new()),
        };
        let reply_key = match &pairing {
            Some(_) => Some(self.new_secret()?),
            None => None,
        };
        let history = self.digest_history(store, pm, week, from)?;
        let data = analysis::digest(
            &history,
            &self.config.framework,
            week,
            self.config.schedule.dip_threshold,
        );
        let pause = store.active_pause(&pm.key, one_on_one)?;
        let (this_week, comments) =
            split_comments(store.notes(&pm.key, week)?, &self.config.framework);
        // The weeks since the previous 1:1 (fortnightly, monthly, or after
        // a cancelled one) come first, each note named by its week.
        let mut notes: Vec<(Option<String>, String)> = Vec::new();
        // Never before the current pairing (unless the history was shared).
        let mut earlier = match from {
            Some(pairing) => covers_from.max(pairing),
            None => covers_from,
        };
        while earlier < week {
            for note in store.notes(&pm.key, earlier)? {
                notes.push((Some(earlier.dates()), note));
            }
            earlier = earlier.next();
        }
        notes.extend(this_week.into_iter().map(|n| (None, n)));
        let mut email = self.renderer.digest(&DigestView {
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
                    previous: s.previous.map(|(_, score)| score),
                    drop: s.drop,
                    weeks_to_baseline: s.weeks_to_baseline,
                    comment: comments
                        .get(&s.key)
                        .map(|c| super::receive::note_as_data(c, max_note).0),
                    recent: analysis::trend(&history, &s.key, week, analysis::DIGEST_WINDOW_WEEKS)
                        .points
                        .iter()
                        .map(|(_, score)| *score)
                        .collect(),
                })
                .collect(),
            notes: digest_notes(notes, max_note, self.config.auth.max_digest_note_bytes)
                .into_iter()
                .map(|(week, text)| DigestNote { week, text })
                .collect(),
            skipped: data.status == analysis::WeekStatus::Skipped,
            last_answered: history.last_answered_before(week),
            missed_weeks: data
                .missed
                .iter()
                .filter(|w| !action_weeks.contains(*w))
                .copied()
                .collect(),
            paused_weeks: data.paused.clone(),
            dip_threshold: self.config.schedule.dip_threshold,
            streak: data.streak,
            paused: pause.is_some() || data.status == analysis::WeekStatus::Paused,
            paused_until: pause.map(|p| p.until.with_timezone(&pm.timezone).date_naive()),
            history_shared: history_shared && pairings.len() > 1,
            actions,
            done_actions,
            actions_answered: action_weeks.contains(&week),
            private_notes,
            reply_to: reply_key
                .as_deref()
                .map(|k| crate::render::reply_address(&self.config.service.address, k)),
            date: now,
        })?;
        email.message_id = self.message_id()?;
        let bytes = budget::sendable_bytes(&email)?;
        // The key works as long after the 1:1 as a form's after its week.
        let expires_at =
            one_on_one + chrono::Duration::weeks(i64::from(self.config.auth.reply_key_weeks));
        store.write(|tx| -> Result<bool, EngineError> {
            let queued = enqueue(tx, key, "digest", pm, &coach.email, &bytes, now)?;
            if let (true, Some(p), Some(k)) = (queued, &pairing, &reply_key) {
                tx.record_digest_key(
                    &crate::store::NewDigestKey {
                        reply_key: k,
                        pm: &pm.key,
                        coach: &coach.key,
                        pairing: p.id,
                        week,
                        message_id: &email.message_id,
                        expires_at,
                    },
                    now,
                )?;
            }
            Ok(queued)
        })
    }
}

impl Engine {
    /// The history a digest for `week` reads: the scores of a bounded
    /// window of weeks ending at `week` (widened only while a skill lacks
    /// the scored weeks its baseline needs), with the weeks answered,
    /// formed, skipped and paused before it, from `from` on when the coach
    /// sees only their own pairing's weeks. What the digest reports equals
    /// what the whole history gives ([`analysis::window_suffices`]); its
    /// cost does not grow with years of scores.
    pub(crate) fn digest_history(
        &self,
        store: &Store,
        pm: &Pm,
        week: Week,
        from: Option<Week>,
    ) -> Result<History, EngineError> {
        let skills: Vec<&str> = self
            .config
            .framework
            .active()
            .map(|s| s.key.as_str())
            .collect();
        super::bounded_history(
            pm,
            week,
            analysis::DIGEST_WINDOW_WEEKS,
            from,
            &skills,
            super::WeekSets {
                answered: store.answered_weeks(&pm.key)?,
                forms: store.forms_sent(&pm.key)?,
                skipped: store.skipped_weeks(&pm.key)?,
                pauses: store.pauses(&pm.key)?,
            },
            |a, b| store.history_between(&pm.key, a, b),
        )
    }
}

/// The week's notes split into the PM's own text and the comment written
/// beside each skill's score. A reply's comments are stored at the end of
/// its note, one `{skill name}: {comment}` line each (see
/// `receive::note_with_comments`); a later reply's comment for a skill
/// replaces an earlier one, as its score does. Notes left empty go.
fn split_comments(
    notes: Vec<String>,
    framework: &crate::framework::Framework,
) -> (Vec<String>, std::collections::BTreeMap<String, String>) {
    let mut comments = std::collections::BTreeMap::new();
    let mut own = Vec::new();
    for note in notes {
        let mut kept = Vec::new();
        for line in note.lines() {
            let comment = framework.active().find_map(|s| {
                line.strip_prefix(s.name.as_str())
                    .and_then(|rest| rest.strip_prefix(": "))
                    .map(|c| (s.key.clone(), c.trim().to_string()))
            });
            match comment {
                Some((key, c)) if !c.is_empty() => {
                    comments.insert(key, c);
                }
                _ => kept.push(line),
            }
        }
        let text = kept.join("\n").trim().to_string();
        if !text.is_empty() {
            own.push(text);
        }
    }
    (own, comments)
}

/// The notes as a digest shows them: each made safe (see
/// `receive::note_as_data`) and cut to `max_note`, all together at most
/// `max_total` bytes, so a digest stays small whatever was written.
fn digest_notes<L: Default>(
    notes: Vec<(L, String)>,
    max_note: usize,
    max_total: usize,
) -> Vec<(L, String)> {
    let mut out = Vec::new();
    let mut left = max_total;
    let mut hidden = 0usize;
    for (label, n) in notes {
        let (n, _) = super::receive::note_as_data(&n, max_note);
        if n.len() <= left {
            left -= n.len();
            out.push((label, n));
        } else {
            hidden += 1;
        }
    }
    if hidden > 0 {
        out.push((
            L::default(),
            format!(
                "({hidden} more notes are not shown: this digest's notes reached their size limit)"
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::config::Config;

    fn engine() -> Engine {
        let config =
            Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/coachmail.toml"))
                .unwrap();
        Engine::new(config).unwrap()
    }

    /// Ten years of weekly history for `pm`: long answered runs, misses,
    /// skipped weeks, a pause, corrections, one skill often `n/a` and one
    /// scored only now and then. Returns the newest week.
    fn ten_years(store: &mut Store, engine: &Engine, pm: &Pm) -> Week {
        let skills: Vec<String> = engine
            .config
            .framework
            .active()
            .map(|s| s.key.clone())
            .collect();
        let first = Week::new(2016, 2).unwrap();
        let start = Utc.with_ymd_and_hms(2016, 1, 11, 9, 0, 0).unwrap();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let weeks = 520;
        store
            .write(|tx| -> Result<(), crate::store::StoreError> {
                for i in 0..weeks {
                    let week = first.plus(i);
                    let now = start + Duration::weeks(i);
                    tx.record_form(&pm.key, week, &format!("k{i}"), &format!("m{i}"), now)?;
                    let roll = next() % 100;
                    if !(200..260).contains(&i) && roll < 3 {
                        continue; // missed; never in the long perfect run
                    }
                    if !(200..260).contains(&i) && roll < 6 {
                        tx.skip_week(&pm.key, week, now)?;
                        continue;
                    }
                    if i == 400 {
                        tx.pause(&pm.key, now + Duration::weeks(3), now)?;
                        continue;
                    }
                    let mut scores = BTreeMap::new();
                    let mut skipped = Vec::new();
                    for (n, skill) in skills.iter().enumerate() {
                        let r = next();
                        let rare = n == 0 && r % 9 != 0;
                        let often_na = n == 1 && r % 3 == 0;
                        if rare || often_na {
                            skipped.push(skill.clone());
                        } else {
                            scores.insert(skill.clone(), u8::try_from(1 + r % 5).unwrap());
                        }
                    }
                    let id = tx.log_inbound(&crate::store::InboundRecord {
                        dedup_key: &format!("d{i}"),
                        pm: Some(&pm.key),
                        kind: crate::understand::Kind::Assessment,
                        reason: None,
                        week: Some(week),
                        sender_hash: None,
                        received_at: now,
                    })?;
                    tx.record_answers(&pm.key, week, &scores, &skipped, id, now)?;
                    if roll % 10 == 0 {
                        // A correction: the newest answer is the current one.
                        let fixed: BTreeMap<String, u8> =
                            scores.keys().map(|k| (k.clone(), 3)).collect();
                        tx.record_answers(&pm.key, week, &fixed, &[], id, now)?;
                    }
                }
                Ok(())
            })
            .unwrap();
        first.plus(weeks - 1)
    }

    /// What a coach's digest reports: the analysis bundle, each skill's
    /// recent scores and trend, and the last answered week.
    fn reported(engine: &Engine, history: &History, week: Week) -> String {
        let data = analysis::digest(
            history,
            &engine.config.framework,
            week,
            engine.config.schedule.dip_threshold,
        );
        let trends: Vec<_> = engine
            .config
            .framework
            .active()
            .map(|s| analysis::trend(history, &s.key, week, analysis::DIGEST_WINDOW_WEEKS))
            .collect();
        format!(
            "{data:?}\n{trends:?}\n{:?}",
            history.last_answered_before(week)
        )
    }

    #[test]
    fn a_digest_after_ten_years_reports_what_the_whole_history_gives_from_a_bounded_read() {
        let engine = engine();
        let pm = engine.config.pms[0].clone();
        let mut store = Store::open_in_memory().unwrap();
        let last = ten_years(&mut store, &engine, &pm);
        const READ: u32 = analysis::DIGEST_WINDOW_WEEKS + crate::engine::EXTRA_READ_WEEKS;
        let mut widest = 0;
        let mut streaks = Vec::new();
        for back in [
            0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 120, 150, 260, 300, 515,
        ] {
            let week = last.plus(-back);
            for from in [None, Some(week.plus(-5)), Some(week.plus(-40))] {
                let whole = engine.history_from(&store, &pm, week, from).unwrap();
                let read = engine.digest_history(&store, &pm, week, from).unwrap();
                assert_eq!(
                    reported(&engine, &read, week),
                    reported(&engine, &whole, week),
                    "digest of {week} from {from:?}"
                );
                widest = widest.max(read.answers.len());
                streaks.push(analysis::streak(&read, week));
            }
        }
        // A skill scored one week in nine needs about 72 weeks for its
        // eight-week baseline: the read widens that far, never to ten years.
        assert!(widest <= 4 * READ as usize, "read {widest} weeks");
        // The long run of answered weeks shows in a streak longer than any window.
        assert!(streaks.iter().any(|s| *s > 2 * READ));
    }

    #[test]
    fn a_trend_after_ten_years_shows_what_the_whole_history_gives_from_a_bounded_read() {
        let engine = engine();
        let pm = engine.config.pms[0].clone();
        let mut store = Store::open_in_memory().unwrap();
        let last = ten_years(&mut store, &engine, &pm);
        let framework = &engine.config.framework;
        let all: Vec<&str> = framework.skills.iter().map(|s| s.key.as_str()).collect();
        let first = all[0];
        for back in [0, 7, 60, 300] {
            let upto = last.plus(-back);
            let whole = engine.history_from(&store, &pm, upto, None).unwrap();
            for weeks in [4, 12, 52] {
                let read = store
                    .write(|tx| engine.trend_history_in(tx, &pm, upto, weeks, None, &all))
                    .unwrap();
                assert_eq!(
                    analysis::trends(&read, framework, upto, weeks),
                    analysis::trends(&whole, framework, upto, weeks),
                    "trend {weeks} up to {upto}"
                );
                let read = store
                    .write(|tx| engine.trend_history_in(tx, &pm, upto, weeks, None, &[first]))
                    .unwrap();
                assert_eq!(
                    analysis::trend(&read, first, upto, weeks),
                    analysis::trend(&whole, first, upto, weeks),
                    "trend of one skill, {weeks} up to {upto}"
                );
                assert!(read.answers.len() < whole.answers.len() / 2);
            }
        }
    }
}
