//! Pure: what is due at `now` — each PM's weekly form, the one reminder, and
//! the coach's digest before each 1:1 — catch-up after downtime included.
//!
//! Owns the mapping from a PM's local weekly slots to UTC instants (DST-correct
//! in both hemispheres), the catch-up rule, and the idempotency keys that make
//! a restart send nothing twice. Never reads a clock, the store, or the
//! network, and never logs: `now` and the store's [`Facts`] come in as values,
//! a list of [`Due`] actions goes out.
//!
//! # Rules
//!
//! * **Local time.** A slot (`fri 16:00`) in week `W` is that local wall-clock
//!   time on that day of the PM's local ISO week `W`. A time in the skipped
//!   spring-forward hour goes out at the first valid instant after it
//!   (02:30 → 03:00); a time repeated at fall-back fires once, at the earlier
//!   instant.
//! * **Form** for week `W`: at the form slot of `W`; it asks about `W`. Not for
//!   occurrences before the PM's `since`, nor for a skipped week, nor while the
//!   PM is paused (at the form time or now).
//! * **Reminder** for week `W`: once, at form time + `reminder_after`, only if
//!   the form was sent, no answer arrived, the week was not skipped and the PM
//!   is not paused now.
//! * **1:1s** follow the pairing's rule: its slot and [`Cadence`] (weekly,
//!   every N weeks, or the nth weekday of the month) from the config, or the
//!   rule the coach last set by reply ([`PmFacts::rule`]); one-off moves and
//!   cancellations ([`MeetingChange`]) name the 1:1 by the local date it
//!   regularly falls on, so a moved 1:1 keeps its identity.
//! * **Digest** before a 1:1: at the 1:1 (as it will take place) minus
//!   `digest_lead`, about the newest form week whose form time is before that
//!   1:1 — only if that form was sent (or the week was answered or skipped
//!   anyway: the coach should hear). A cancelled 1:1 gets none; the weeks
//!   since the previous 1:1 roll into the next digest ([`Due::Digest`]'s
//!   `from`).
//! * **Catch-up.** Only the newest occurrence of each event is considered, and
//!   only while still useful: a form until its next occurrence, a reminder
//!   until the next form or the next 1:1 after it, a digest until its 1:1
//!   starts. Downtime never produces a flood of stale mail. A catch-up action
//!   carries its *scheduled* instant in `at`.
//! * **Exactly once.** Every action has a stable [`Due::idempotency_key`]; keys
//!   in [`Facts::done`] are never returned again, so calling [`due`] twice, or
//!   after a restart, yields nothing already queued.
//!
//! The facts consulted reach back at most about two weeks before `now`: a
//! store may fill [`PmFacts`] with just the recent weeks, which keeps building
//! them cheap for thousands of PMs.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::config::{Cadence, Config, Pm, Schedule, Slot};
use crate::understand::coach::ScheduleChange;
use crate::week::Week;

/// One action that is due now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Due {
    /// Send `pm` the form asking about `week`, scheduled for `at`.
    Form {
        pm: String,
        week: Week,
        at: DateTime<Utc>,
    },
    /// Nudge `pm` once about the unanswered form of `week`.
    Reminder {
        pm: String,
        week: Week,
        at: DateTime<Utc>,
    },
    /// Send `pm`'s coach the digest about `week`, before the 1:1 that starts
    /// at `one_on_one` (on `one_on_one_date`, the PM's local date).
    Digest {
        pm: String,
        week: Week,
        /// The first week the digest covers: the week after the one the
        /// previous 1:1's digest was about (`week` itself when 1:1s are
        /// weekly), at most [`MAX_DIGEST_WEEKS`] weeks back.
        from: Week,
        one_on_one: DateTime<Utc>,
        one_on_one_date: NaiveDate,
        at: DateTime<Utc>,
    },
}

impl Due {
    /// Key of the PM this action is about.
    pub fn pm(&self) -> &str {
        match self {
            Due::Form { pm, .. } | Due::Reminder { pm, .. } | Due::Digest { pm, .. } => pm,
        }
    }

    /// The week the form, reminder or digest is about.
    pub fn week(&self) -> Week {
        match self {
            Due::Form { week, .. } | Due::Reminder { week, .. } | Due::Digest { week, .. } => *week,
        }
    }

    /// When it was scheduled (earlier than `now` when catching up).
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Due::Form { at, .. } | Due::Reminder { at, .. } | Due::Digest { at, .. } => *at,
        }
    }

    /// `form:alice:2026-W48`, `reminder:alice:2026-W48`,
    /// `digest:alice:2026-11-30` (the 1:1's local date). Stable across calls
    /// and restarts: the outbox's unique key.
    pub fn idempotency_key(&self) -> String {
        match self {
            Due::Form { pm, week, .. } => form_key(pm, *week),
            Due::Reminder { pm, week, .. } => reminder_key(pm, *week),
            Due::Digest {
                pm,
                one_on_one_date,
                ..
            } => digest_key(pm, *one_on_one_date),
        }
    }
}

/// The most weeks one digest covers (after cancelled or monthly 1:1s).
pub const MAX_DIGEST_WEEKS: i64 = 8;

/// Idempotency key of `pm`'s form for `week`.
pub fn form_key(pm: &str, week: Week) -> String {
    format!("form:{pm}:{week}")
}

/// Idempotency key of `pm`'s reminder for `week`.
pub fn reminder_key(pm: &str, week: Week) -> String {
    format!("reminder:{pm}:{week}")
}

/// Idempotency key of the digest before `pm`'s 1:1 on local date `date`.
pub fn digest_key(pm: &str, date: NaiveDate) -> String {
    format!("digest:{pm}:{}", date.format("%Y-%m-%d"))
}

/// What the store knows, as plain data.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// Per PM key. A PM without an entry has not been seen by the store yet:
    /// nothing is due for them until it records their `since`.
    pub pms: HashMap<String, PmFacts>,
    /// Idempotency keys already queued or sent.
    pub done: HashSet<String>,
}

/// What the store knows about one PM. Only the last two or three weeks matter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PmFacts {
    /// First seen: no form goes out for an occurrence before this.
    pub since: DateTime<Utc>,
    /// Weeks whose form was sent (queued).
    pub forms_sent: BTreeSet<Week>,
    /// Weeks with at least one answer.
    pub answered: BTreeSet<Week>,
    /// Weeks the PM skipped on purpose (`skip`).
    pub skipped: BTreeSet<Week>,
    /// Pauses (`pause 2 weeks`, `pause until …`, ended by `resume`).
    pub paused: Vec<Pause>,
    /// The 1:1 rule the coach set by reply, in place of the config's.
    pub rule: Option<MeetingRule>,
    /// One-off moves and cancellations of single 1:1s (the latest change
    /// of a date counts).
    pub meeting_changes: Vec<MeetingChange>,
}

/// A pairing's 1:1 rule: the day and time, and how often.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeetingRule {
    pub slot: Slot,
    pub cadence: Cadence,
}

/// A one-off change of one 1:1, named by the local date it regularly
/// falls on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeetingChange {
    pub regular: NaiveDate,
    /// Where it moved, in the PM's local time; `None`: cancelled.
    pub to: Option<NaiveDateTime>,
}

/// One 1:1 as it will take place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meeting {
    /// The local date it regularly falls on: its identity (and its
    /// digest's key), kept when it moves.
    pub regular: NaiveDate,
    pub at: DateTime<Utc>,
}

impl PmFacts {
    /// A PM first seen at `since`, with nothing sent or answered yet.
    pub fn new(since: DateTime<Utc>) -> PmFacts {
        PmFacts {
            since,
            forms_sent: BTreeSet::new(),
            answered: BTreeSet::new(),
            skipped: BTreeSet::new(),
            paused: Vec::new(),
            rule: None,
            meeting_changes: Vec::new(),
        }
    }

    /// Whether any pause covers instant `t`.
    pub fn paused_at(&self, t: DateTime<Utc>) -> bool {
        self.paused.iter().any(|p| p.covers(t))
    }
}

/// A pause of a PM's forms (`pause 2 weeks`, `pause until …`), ended early
/// by `resume`. The one pause type: the store keeps it, the schedule and
/// the digest read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pause {
    pub starts_at: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Ended early by `resume` (or replaced by a later pause).
    pub resumed_at: Option<DateTime<Utc>>,
}

impl Pause {
    /// When it really ends: `until`, or the resume if that came first.
    pub fn end(&self) -> DateTime<Utc> {
        self.resumed_at.map_or(self.until, |r| r.min(self.until))
    }

    /// Whether the pause is in force at `at`.
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        self.starts_at <= at && at < self.end()
    }
}

/// Everything due at `now`, ordered by scheduled instant (ties in roster
/// order). Keys in `facts.done` are left out.
pub fn due(now: DateTime<Utc>, config: &Config, facts: &Facts) -> Vec<Due> {
    let mut out = Vec::new();
    for pm in &config.pms {
        if let Some(f) = facts.pms.get(&pm.key) {
            due_for_pm(now, &config.schedule, pm, f, &mut out);
        }
    }
    out.retain(|d| !facts.done.contains(&d.idempotency_key()));
    out.sort_by_key(Due::at);
    out
}

fn due_for_pm(now: DateTime<Utc>, schedule: &Schedule, pm: &Pm, f: &PmFacts, out: &mut Vec<Due>) {
    let tz = pm.timezone;

    // The newest form occurrence; it stays useful until the next one.
    let (week, form_at) = newest(tz, pm.form, now, true);
    let next_form = slot_at(tz, week.next(), pm.form);
    if form_at >= f.since
        && !f.forms_sent.contains(&week)
        && !f.skipped.contains(&week)
        && !f.paused_at(form_at)
        && !f.paused_at(now)
    {
        out.push(Due::Form {
            pm: pm.key.clone(),
            week,
            at: form_at,
        });
    }

    // The reminder can only belong to the newest form: an older one expired
    // when this form's time came.
    if let Some(after) = schedule.reminder_after {
        let at = form_at + after;
        let until = match next_meeting(at, pm, Some(f)) {
            Some(m) => next_form.min(m.at),
            None => next_form,
        };
        if at <= now
            && now < until
            && f.forms_sent.contains(&week)
            && !f.answered.contains(&week)
            && !f.skipped.contains(&week)
            && !f.paused_at(now)
        {
            out.push(Due::Reminder {
                pm: pm.key.clone(),
                week,
                at,
            });
        }
    }

    // The digest of the next 1:1 that has not started, once its lead time
    // has come.
    let Some(meeting) = next_meeting(now, pm, Some(f)) else {
        return;
    };
    let one_on_one = meeting.at;
    let at = one_on_one - schedule.digest_lead;
    if at <= now {
        let (about, about_at) = newest(tz, pm.form, one_on_one, false);
        // A paused week still gets its digest, so the coach reads "paused"
        // before the 1:1 instead of hearing nothing.
        if f.forms_sent.contains(&about)
            || f.answered.contains(&about)
            || f.skipped.contains(&about)
            || (about_at >= f.since && f.paused_at(about_at))
        {
            out.push(Due::Digest {
                pm: pm.key.clone(),
                week: about,
                from: digest_from(pm, Some(f), about, one_on_one),
                one_on_one,
                one_on_one_date: meeting.regular,
                at,
            });
        }
    }
}

/// The next form and digest times of one PM, in their own zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NextTimes {
    pub form: DateTime<Tz>,
    pub digest: DateTime<Tz>,
}

/// The next form time and next digest time strictly after `now`, for
/// `coachmail check`. Ignores pauses, skips and `since`: it shows the slots.
pub fn next_times(now: DateTime<Utc>, config: &Config, pm: &Pm) -> NextTimes {
    let tz = pm.timezone;
    let (_, form) = next(tz, pm.form, now);
    let lead = config.schedule.digest_lead;
    let one_on_one = meetings_after(now, pm, None)
        .map(|m| m.at)
        .find(|at| *at - lead > now)
        .unwrap_or(form);
    NextTimes {
        form: form.with_timezone(&tz),
        digest: (one_on_one - lead).with_timezone(&tz),
    }
}

/// The next form that will really go out, honouring what the store knows:
/// weeks skipped on purpose and pauses are passed over. `None` when no form
/// is due within a year (a pause that long).
pub fn next_form_with(now: DateTime<Utc>, pm: &Pm, facts: &PmFacts) -> Option<DateTime<Tz>> {
    let tz = pm.timezone;
    let (mut week, mut at) = next(tz, pm.form, now);
    for _ in 0..53 {
        if at >= facts.since && !facts.skipped.contains(&week) && !facts.paused_at(at) {
            return Some(at.with_timezone(&tz));
        }
        week = week.next();
        at = slot_at(tz, week, pm.form);
    }
    None
}

/// The next digest that will really go out, and the 1:1s before it that
/// get none because no form has gone out before them yet (a service
/// started mid-week, or a new PM). A digest reports the newest form before
/// its 1:1; it goes out when that form was sent, answered, skipped or
/// paused — or is still to come before the 1:1. `facts` is `None` before
/// the store has seen the PM (nothing sent yet).
pub fn next_digest_with(
    now: DateTime<Utc>,
    config: &Config,
    pm: &Pm,
    facts: Option<&PmFacts>,
) -> (Option<DateTime<Tz>>, Vec<DateTime<Tz>>) {
    let tz = pm.timezone;
    let lead = config.schedule.digest_lead;
    let mut without = Vec::new();
    let meetings = meetings_after(now, pm, facts)
        .map(|m| m.at)
        .filter(|at| *at - lead > now);
    for one_on_one in meetings.take(53) {
        let (about, about_at) = newest(tz, pm.form, one_on_one, false);
        let goes = about_at > now
            || facts.is_some_and(|f| {
                f.forms_sent.contains(&about)
                    || f.answered.contains(&about)
                    || f.skipped.contains(&about)
                    || (about_at >= f.since && f.paused_at(about_at))
            });
        if goes {
            return (Some((one_on_one - lead).with_timezone(&tz)), without);
        }
        without.push(one_on_one.with_timezone(&tz));
    }
    (None, without)
}

/// Applies a 1:1 change the coach wrote (received at `at`) to the
/// pairing's facts. A move or a cancellation is of the next 1:1 after
/// `at`; `moved to thu 15:00` moves it within its own week, `moved to
/// 16:30` keeps its day. A new cadence counts from that next 1:1; a
/// monthly rule brings its own day and time.
pub fn apply_coach_change(
    pm: &Pm,
    facts: &mut PmFacts,
    change: &ScheduleChange,
    at: DateTime<Utc>,
) {
    let next = next_meeting(at, pm, Some(facts));
    let rule = rule_of(pm, Some(facts));
    match *change {
        ScheduleChange::MovedTo { day, date, time } => {
            if let Some(m) = next {
                let held_on = m.at.with_timezone(&pm.timezone).date_naive();
                let on = match (date, day) {
                    (Some(date), _) => date,
                    (None, Some(day)) => Week::of(held_on).day(day),
                    (None, None) => held_on,
                };
                facts.meeting_changes.push(MeetingChange {
                    regular: m.regular,
                    to: Some(on.and_time(time)),
                });
            }
        }
        ScheduleChange::NextOn { date, time } => {
            if let Some(m) = next {
                facts.meeting_changes.push(MeetingChange {
                    regular: m.regular,
                    to: Some(date.and_time(time)),
                });
            }
        }
        ScheduleChange::Cancelled => {
            if let Some(m) = next {
                facts.meeting_changes.push(MeetingChange {
                    regular: m.regular,
                    to: None,
                });
            }
        }
        ScheduleChange::Every { weeks } => {
            let anchor = next.map_or_else(|| local_week(at, pm.timezone), |m| Week::of(m.regular));
            facts.rule = Some(MeetingRule {
                slot: rule.slot,
                cadence: if weeks <= 1 {
                    Cadence::Weekly
                } else {
                    Cadence::EveryWeeks { weeks, anchor }
                },
            });
        }
        ScheduleChange::MonthlyRule { nth, day, time } => {
            facts.rule = Some(MeetingRule {
                slot: Slot { day, time },
                cadence: Cadence::Monthly { nth },
            });
        }
    }
}

/// The 1:1 rule in force: the coach's latest, or the config's.
pub fn rule_of(pm: &Pm, facts: Option<&PmFacts>) -> MeetingRule {
    facts.and_then(|f| f.rule).unwrap_or(MeetingRule {
        slot: pm.one_on_one,
        cadence: pm.cadence,
    })
}

/// The latest change of each changed 1:1.
fn latest_change(changes: &[MeetingChange], regular: NaiveDate) -> Option<&MeetingChange> {
    changes.iter().rev().find(|c| c.regular == regular)
}

/// The 1:1s moved by their date's latest change, where they now are.
fn moved(tz: Tz, changes: &[MeetingChange]) -> impl Iterator<Item = Meeting> + '_ {
    changes.iter().enumerate().filter_map(move |(i, c)| {
        let latest = changes[i + 1..].iter().all(|d| d.regular != c.regular);
        let to = c.to.filter(|_| latest)?;
        Some(Meeting {
            regular: c.regular,
            at: local_to_utc(tz, to),
        })
    })
}

/// The first 1:1 that starts strictly after `t`: moves applied, cancelled
/// ones passed over. `None` only when none is found within a year and a
/// bit (every 1:1 cancelled).
pub fn next_meeting(t: DateTime<Utc>, pm: &Pm, facts: Option<&PmFacts>) -> Option<Meeting> {
    let tz = pm.timezone;
    let rule = rule_of(pm, facts);
    let changes = facts.map_or(&[][..], |f| &f.meeting_changes[..]);
    let mut best = moved(tz, changes).filter(|m| m.at > t).min_by_key(|m| m.at);
    let mut week = local_week(t, tz).prev();
    for _ in 0..60 {
        if rule.cadence.has_meeting(week, rule.slot.day) {
            let regular = week.day(rule.slot.day);
            let at = slot_at(tz, week, rule.slot);
            if best.is_some_and(|b| at >= b.at) {
                break;
            }
            if at > t && latest_change(changes, regular).is_none() {
                best = Some(Meeting { regular, at });
                break;
            }
        }
        week = week.next();
    }
    best
}

/// The 1:1s after `t`, in order (moves applied, cancelled passed over).
pub fn meetings_after<'a>(
    t: DateTime<Utc>,
    pm: &'a Pm,
    facts: Option<&'a PmFacts>,
) -> impl Iterator<Item = Meeting> + 'a {
    std::iter::successors(next_meeting(t, pm, facts), move |m| {
        next_meeting(m.at, pm, facts)
    })
}

/// The last 1:1 that started strictly before `t`, looking back at most
/// [`MAX_DIGEST_WEEKS`] + 1 weeks.
fn previous_meeting(t: DateTime<Utc>, pm: &Pm, facts: Option<&PmFacts>) -> Option<Meeting> {
    let tz = pm.timezone;
    let rule = rule_of(pm, facts);
    let changes = facts.map_or(&[][..], |f| &f.meeting_changes[..]);
    let mut best = moved(tz, changes).filter(|m| m.at < t).max_by_key(|m| m.at);
    let mut week = local_week(t, tz).next();
    for _ in 0..(MAX_DIGEST_WEEKS + 2) {
        if rule.cadence.has_meeting(week, rule.slot.day) {
            let regular = week.day(rule.slot.day);
            let at = slot_at(tz, week, rule.slot);
            if best.is_some_and(|b| at <= b.at) {
                break;
            }
            if at < t && latest_change(changes, regular).is_none() {
                best = Some(Meeting { regular, at });
                break;
            }
        }
        week = week.prev();
    }
    best
}

/// The first week a digest about `about` before the 1:1 at `one_on_one`
/// covers: the week after the previous 1:1's, so the weeks of a cancelled
/// or skipped-over 1:1 roll into this one.
fn digest_from(pm: &Pm, facts: Option<&PmFacts>, about: Week, one_on_one: DateTime<Utc>) -> Week {
    let earliest = about.plus(1 - MAX_DIGEST_WEEKS);
    match previous_meeting(one_on_one, pm, facts) {
        Some(prev) => {
            let (prev_about, _) = newest(pm.timezone, pm.form, prev.at, false);
            let from = prev_about.next();
            if from > about {
                about
            } else if from < earliest {
                earliest
            } else {
                from
            }
        }
        None => about,
    }
}

/// The PM's current local ISO week: where a fresh email's answers land.
pub fn open_week(now: DateTime<Utc>, pm: &Pm) -> Week {
    local_week(now, pm.timezone)
}

/// When `pm`'s form for `week` goes out.
pub fn form_at(pm: &Pm, week: Week) -> DateTime<Utc> {
    slot_at(pm.timezone, week, pm.form)
}

/// When `pm`'s 1:1 of `week` starts.
pub fn one_on_one_at(pm: &Pm, week: Week) -> DateTime<Utc> {
    slot_at(pm.timezone, week, pm.one_on_one)
}

/// Whether `week` counts as paused for `pm`: a pause covered its form time.
pub fn week_paused(pm: &Pm, facts: &PmFacts, week: Week) -> bool {
    facts.paused_at(form_at(pm, week))
}

/// The instant of `slot` in local week `week` of zone `tz`.
pub fn slot_at(tz: Tz, week: Week, slot: Slot) -> DateTime<Utc> {
    local_to_utc(tz, week.day(slot.day).and_time(slot.time))
}

/// A local wall-clock time in `tz` as one UTC instant: a time in a
/// spring-forward gap becomes the first valid instant after it; a time
/// repeated at fall-back becomes the earlier of its two instants.
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => {
            // In a gap. Gaps start on whole minutes and last at most a day
            // (Samoa, 2011), so the first valid local minute after `local` is
            // the instant the gap ends.
            let mut probe = local;
            for _ in 0..(48 * 60) {
                probe += Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            // Unreachable with real tz data; read the time as UTC rather than fail.
            Utc.from_utc_datetime(&local)
        }
    }
}

fn local_week(t: DateTime<Utc>, tz: Tz) -> Week {
    Week::of(t.with_timezone(&tz).date_naive())
}

/// The newest occurrence of `slot` at or before `t` (`inclusive`) or
/// strictly before it.
fn newest(tz: Tz, slot: Slot, t: DateTime<Utc>, inclusive: bool) -> (Week, DateTime<Utc>) {
    let before = |at: DateTime<Utc>| if inclusive { at <= t } else { at < t };
    // Occurrences strictly increase week over week, and the one in the week
    // after `t`'s local week is after `t`: at most three steps back.
    let mut week = local_week(t, tz).next();
    let mut at = slot_at(tz, week, slot);
    while !before(at) {
        week = week.prev();
        at = slot_at(tz, week, slot);
    }
    (week, at)
}

/// The first occurrence of `slot` strictly after `t`.
fn next(tz: Tz, slot: Slot, t: DateTime<Utc>) -> (Week, DateTime<Utc>) {
    let mut week = local_week(t, tz).prev();
    let mut at = slot_at(tz, week, slot);
    while at <= t {
        week = week.next();
        at = slot_at(tz, week, slot);
    }
    (week, at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse_day, parse_time};
    use std::path::Path;

    fn demo() -> Config {
        Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/coachmail.toml")).unwrap()
    }

    fn slot(s: &str) -> Slot {
        let (day, time) = s.split_once(' ').unwrap();
        Slot {
            day: parse_day(day).unwrap(),
            time: parse_time(time).unwrap(),
        }
    }

    fn pm(key: &str, tz: Tz, form: &str, one_on_one: &str) -> Pm {
        Pm {
            key: key.into(),
            name: key.into(),
            email: format!("{key}@example.org"),
            coach: "maya".into(),
            timezone: tz,
            one_on_one: slot(one_on_one),
            cadence: Cadence::Weekly,
            form: slot(form),
        }
    }

    /// Demo config (digest_lead 2h, reminder_after 2d) with only these PMs.
    fn config(pms: Vec<Pm>) -> Config {
        let mut c = demo();
        c.pms = pms;
        c
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn week(s: &str) -> Week {
        s.parse().unwrap()
    }

    /// The engine's side, reduced to what schedule needs: every PM first
    /// seen at `since`, and each tick records what it queued.
    struct Sim {
        config: Config,
        facts: Facts,
    }

    impl Sim {
        fn new(config: Config, since: DateTime<Utc>) -> Sim {
            let pms = config
                .pms
                .iter()
                .map(|p| (p.key.clone(), PmFacts::new(since)))
                .collect();
            Sim {
                config,
                facts: Facts {
                    pms,
                    done: HashSet::new(),
                },
            }
        }

        fn pm(&mut self, key: &str) -> &mut PmFacts {
            self.facts.pms.get_mut(key).unwrap()
        }

        fn tick(&mut self, now: DateTime<Utc>) -> Vec<Due> {
            let due = due(now, &self.config, &self.facts);
            for d in &due {
                self.facts.done.insert(d.idempotency_key());
                if let Due::Form { pm, week, .. } = d {
                    self.pm(pm).forms_sent.insert(*week);
                }
            }
            due
        }

        /// Ticks every `step` from `from` to `to` inclusive; returns
        /// (tick, action) for everything that fired.
        fn run(
            &mut self,
            from: DateTime<Utc>,
            to: DateTime<Utc>,
            step: Duration,
        ) -> Vec<(DateTime<Utc>, Due)> {
            let mut fired = Vec::new();
            let mut now = from;
            while now <= to {
                fired.extend(self.tick(now).into_iter().map(|d| (now, d)));
                now += step;
            }
            fired
        }
    }

    fn digests(due: Vec<Due>) -> Vec<Due> {
        due.into_iter()
            .filter(|d| matches!(d, Due::Digest { .. }))
            .collect()
    }

    fn forms(fired: &[(DateTime<Utc>, Due)]) -> Vec<(DateTime<Utc>, Week, DateTime<Utc>)> {
        fired
            .iter()
            .filter_map(|(now, d)| match d {
                Due::Form { week, at, .. } => Some((*now, *week, *at)),
                _ => None,
            })
            .collect()
    }

    /// Runs one PM through [from, to] in 15-minute ticks and returns the
    /// scheduled instants of the forms it got, checking each fired on time.
    fn form_times(p: Pm, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut sim = Sim::new(config(vec![p]), from);
        let fired = sim.run(from, to, Duration::minutes(15));
        forms(&fired)
            .into_iter()
            .map(|(now, _, at)| {
                assert_eq!(now, at, "form fired late");
                at
            })
            .collect()
    }

    #[test]
    fn a_1_1_before_any_form_gets_no_digest_and_check_says_which() {
        let config = demo();
        // Chloe: form Thursday 17:30, 1:1 Wednesday 14:00 (Paris).
        let pm = config.pm("chloe").unwrap();
        // Monday 30 Nov 2026, nothing sent yet: Wednesday's 1:1 reports a
        // form that never went out, so its digest is not sent.
        let now = utc(2026, 11, 30, 8, 0);
        let (digest, without) = next_digest_with(now, &config, pm, None);
        assert_eq!(without.len(), 1, "{without:?}");
        assert_eq!(without[0].date_naive().to_string(), "2026-12-02");
        let digest = digest.unwrap();
        assert_eq!(digest.date_naive().to_string(), "2026-12-09");
        // Once last Thursday's form is known to have gone out, it does.
        let mut facts = PmFacts::new(utc(2026, 11, 1, 0, 0));
        facts
            .forms_sent
            .insert(Week::of(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()));
        let (digest, without) = next_digest_with(now, &config, pm, Some(&facts));
        assert!(without.is_empty());
        assert_eq!(digest.unwrap().date_naive().to_string(), "2026-12-02");
    }

    #[test]
    fn the_next_form_passes_over_skipped_and_paused_weeks() {
        let config = demo();
        let pm = config.pm("alice").unwrap();
        let now = utc(2026, 11, 30, 8, 0);
        let mut facts = PmFacts::new(utc(2026, 1, 1, 0, 0));
        let plain = next_form_with(now, pm, &facts).unwrap();
        assert_eq!(plain, next_times(now, &config, pm).form);
        facts.skipped.insert(Week::of(plain.date_naive()));
        let after_skip = next_form_with(now, pm, &facts).unwrap();
        assert_eq!(after_skip, plain + Duration::weeks(1));
        facts.paused.push(Pause {
            starts_at: now,
            until: now + Duration::weeks(3),
            resumed_at: None,
        });
        let after_pause = next_form_with(now, pm, &facts).unwrap();
        assert!(after_pause.with_timezone(&Utc) >= now + Duration::weeks(3));
        assert!(after_pause.with_timezone(&Utc) < now + Duration::weeks(4));
    }

    #[test]
    fn paris_form_follows_local_time_across_march_dst_start() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let got = form_times(alice, utc(2026, 3, 20, 0, 0), utc(2026, 4, 4, 0, 0));
        // CET (+1) until 29 March, CEST (+2) after.
        assert_eq!(
            got,
            vec![
                utc(2026, 3, 20, 15, 0),
                utc(2026, 3, 27, 15, 0),
                utc(2026, 4, 3, 14, 0)
            ]
        );
    }

    #[test]
    fn paris_form_follows_local_time_across_october_dst_end() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let got = form_times(alice, utc(2026, 10, 20, 0, 0), utc(2026, 10, 31, 0, 0));
        assert_eq!(
            got,
            vec![utc(2026, 10, 23, 14, 0), utc(2026, 10, 30, 15, 0)]
        );
    }

    #[test]
    fn sydney_form_follows_local_time_across_april_dst_end() {
        let emma = pm(
            "emma",
            chrono_tz::Australia::Sydney,
            "fri 15:00",
            "tue 08:30",
        );
        let got = form_times(emma, utc(2026, 4, 1, 0, 0), utc(2026, 4, 11, 0, 0));
        // AEDT (+11) until 5 April, AEST (+10) after.
        assert_eq!(got, vec![utc(2026, 4, 3, 4, 0), utc(2026, 4, 10, 5, 0)]);
    }

    #[test]
    fn sydney_form_follows_local_time_across_october_dst_start() {
        let emma = pm(
            "emma",
            chrono_tz::Australia::Sydney,
            "fri 15:00",
            "tue 08:30",
        );
        let got = form_times(emma, utc(2026, 9, 30, 0, 0), utc(2026, 10, 10, 0, 0));
        assert_eq!(got, vec![utc(2026, 10, 2, 5, 0), utc(2026, 10, 9, 4, 0)]);
    }

    #[test]
    fn new_york_form_follows_local_time_across_both_us_transitions() {
        let dev = pm(
            "dev",
            chrono_tz::America::New_York,
            "fri 16:00",
            "mon 11:00",
        );
        let spring = form_times(dev.clone(), utc(2026, 3, 4, 0, 0), utc(2026, 3, 14, 0, 0));
        assert_eq!(
            spring,
            vec![utc(2026, 3, 6, 21, 0), utc(2026, 3, 13, 20, 0)]
        );
        let fall = form_times(dev, utc(2026, 10, 28, 0, 0), utc(2026, 11, 7, 0, 0));
        assert_eq!(
            fall,
            vec![utc(2026, 10, 30, 20, 0), utc(2026, 11, 6, 21, 0)]
        );
    }

    #[test]
    fn form_time_in_skipped_hour_goes_out_when_the_gap_ends() {
        // 02:30 does not exist on these nights; 03:00 local is the first instant after.
        let cases = [
            (chrono_tz::Europe::Paris, utc(2026, 3, 29, 1, 0)),
            (chrono_tz::Australia::Sydney, utc(2026, 10, 3, 16, 0)),
            (chrono_tz::America::New_York, utc(2026, 3, 8, 7, 0)),
        ];
        for (tz, expected) in cases {
            let p = pm("p", tz, "sun 02:30", "mon 10:00");
            let from = expected - Duration::days(2);
            let got = form_times(p, from, expected + Duration::hours(6));
            assert_eq!(got, vec![expected], "{tz}");
            assert_eq!(
                expected.with_timezone(&tz).format("%H:%M").to_string(),
                "03:00"
            );
        }
    }

    #[test]
    fn ambiguous_fall_back_time_fires_once_at_the_earlier_instant() {
        // 02:30 happens twice in Paris on 25 October, 01:30 twice in New York on
        // 1 November, 02:30 twice in Sydney on 5 April.
        let cases = [
            (
                chrono_tz::Europe::Paris,
                "sun 02:30",
                utc(2026, 10, 25, 0, 30),
            ),
            (
                chrono_tz::America::New_York,
                "sun 01:30",
                utc(2026, 11, 1, 5, 30),
            ),
            (
                chrono_tz::Australia::Sydney,
                "sun 02:30",
                utc(2026, 4, 4, 15, 30),
            ),
        ];
        for (tz, form, earlier) in cases {
            let p = pm("p", tz, form, "mon 10:00");
            let mut sim = Sim::new(config(vec![p]), earlier - Duration::days(1));
            let fired = sim.run(
                earlier - Duration::hours(3),
                earlier + Duration::hours(4),
                Duration::minutes(5),
            );
            let got = forms(&fired);
            assert_eq!(got.len(), 1, "{tz}: {got:?}");
            assert_eq!(got[0].0, earlier, "{tz}");
            assert_eq!(got[0].2, earlier, "{tz}");
        }
    }

    #[test]
    fn three_days_of_downtime_catch_up_with_one_form() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let mut sim = Sim::new(config(vec![alice]), utc(2026, 11, 1, 0, 0));
        // Up until Thursday 26 November, down until Sunday 29 November noon.
        sim.run(
            utc(2026, 11, 26, 0, 0),
            utc(2026, 11, 26, 12, 0),
            Duration::hours(1),
        );
        let fired = sim.run(
            utc(2026, 11, 29, 12, 0),
            utc(2026, 11, 29, 23, 0),
            Duration::minutes(10),
        );
        let got = forms(&fired);
        assert_eq!(
            got,
            vec![(
                utc(2026, 11, 29, 12, 0),
                week("2026-W48"),
                utc(2026, 11, 27, 15, 0)
            )]
        );
    }

    #[test]
    fn three_weeks_of_downtime_send_only_the_newest_form_and_no_stale_reminders() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let mut sim = Sim::new(config(vec![alice]), utc(2026, 10, 1, 0, 0));
        sim.pm("alice").forms_sent.insert(week("2026-W45"));
        // Down from 7 November (Saturday) to Wednesday 2 December.
        let due = sim.tick(utc(2026, 12, 2, 9, 0));
        assert_eq!(
            due,
            vec![Due::Form {
                pm: "alice".into(),
                week: week("2026-W48"),
                at: utc(2026, 11, 27, 15, 0)
            }]
        );
    }

    #[test]
    fn digest_is_caught_up_when_down_across_digest_time_but_up_before_the_one_on_one() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let mut sim = Sim::new(config(vec![alice]), utc(2026, 11, 1, 0, 0));
        sim.pm("alice").forms_sent.insert(week("2026-W48"));
        sim.pm("alice").answered.insert(week("2026-W48"));
        // Digest time is Monday 30 November 08:00 Paris (07:00 UTC); up at 09:30 Paris.
        let due = sim.tick(utc(2026, 11, 30, 8, 30));
        assert_eq!(
            due,
            vec![Due::Digest {
                pm: "alice".into(),
                week: week("2026-W48"),
                from: week("2026-W48"),
                one_on_one: utc(2026, 11, 30, 9, 0),
                one_on_one_date: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
                at: utc(2026, 11, 30, 7, 0),
            }]
        );
        assert_eq!(due[0].idempotency_key(), "digest:alice:2026-11-30");
    }

    #[test]
    fn digest_is_not_sent_once_the_one_on_one_has_started() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let mut sim = Sim::new(config(vec![alice]), utc(2026, 11, 1, 0, 0));
        sim.pm("alice").forms_sent.insert(week("2026-W48"));
        sim.pm("alice").answered.insert(week("2026-W48"));
        assert_eq!(sim.tick(utc(2026, 11, 30, 9, 0)), vec![]);
        assert_eq!(sim.tick(utc(2026, 11, 30, 9, 5)), vec![]);
    }

    #[test]
    fn digest_reports_on_the_newest_form_week_before_the_one_on_one() {
        // Chloé: form Thursday 17:30, 1:1 Wednesday 14:00 → last week's form.
        let chloe = pm("chloe", chrono_tz::Europe::Paris, "thu 17:30", "wed 14:00");
        // Frank: form Monday 09:00, 1:1 Monday 10:00 → this week's form.
        let frank = pm("frank", chrono_tz::Europe::Paris, "mon 09:00", "mon 10:00");
        let mut sim = Sim::new(config(vec![chloe, frank]), utc(2026, 11, 1, 0, 0));
        for key in ["chloe", "frank"] {
            let f = sim.pm(key);
            f.forms_sent.extend([week("2026-W48"), week("2026-W49")]);
        }
        let chloe_due = digests(sim.tick(utc(2026, 12, 2, 12, 0))); // Wed 13:00 Paris
        assert_eq!(chloe_due.len(), 1);
        assert_eq!(chloe_due[0].week(), week("2026-W48"));
        let frank_due = digests(sim.tick(utc(2026, 11, 30, 8, 30))); // Mon 09:30 Paris
        assert_eq!(frank_due.len(), 1);
        assert_eq!(frank_due[0].pm(), "frank");
        assert_eq!(frank_due[0].week(), week("2026-W49"));
    }

    #[test]
    fn digest_needs_a_form_sent_for_its_week() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let mut sim = Sim::new(config(vec![alice]), utc(2026, 11, 1, 0, 0));
        // (This week's form is caught up; no digest about a week without one.)
        assert_eq!(digests(sim.tick(utc(2026, 11, 30, 8, 0))), vec![]);
    }

    #[test]
    fn fresh_install_on_wednesday_sends_the_first_form_on_friday_and_nothing_before() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let installed = utc(2026, 11, 25, 10, 0); // Wednesday
        let mut sim = Sim::new(config(vec![alice]), installed);
        let fired = sim.run(installed, utc(2026, 11, 27, 14, 45), Duration::minutes(15));
        assert_eq!(fired, vec![]);
        let due = sim.tick(utc(2026, 11, 27, 15, 0));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].idempotency_key(), "form:alice:2026-W48");
    }

    #[test]
    fn install_after_this_weeks_form_time_waits_for_next_week() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let installed = utc(2026, 11, 28, 10, 0); // Saturday, form was Friday
        let mut sim = Sim::new(config(vec![alice]), installed);
        // No form for W48, and so no reminder and no digest on Monday.
        let fired = sim.run(installed, utc(2026, 12, 4, 14, 45), Duration::minutes(15));
        assert_eq!(fired, vec![]);
    }

    #[test]
    fn pm_the_store_has_not_seen_gets_nothing() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let facts = Facts::default();
        assert_eq!(
            due(utc(2026, 11, 27, 15, 0), &config(vec![alice]), &facts),
            vec![]
        );
    }

    #[test]
    fn unanswered_week_gets_form_reminder_and_digest_in_order() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let mut sim = Sim::new(config(vec![alice]), utc(2026, 11, 23, 0, 0));
        let fired = sim.run(
            utc(2026, 11, 23, 0, 0),
            utc(2026, 11, 30, 12, 0),
            Duration::minutes(15),
        );
        let keys: Vec<_> = fired
            .iter()
            .map(|(now, d)| (*now, d.idempotency_key()))
            .collect();
        assert_eq!(
            keys,
            vec![
                (utc(2026, 11, 27, 15, 0), "form:alice:2026-W48".to_string()),
                (
                    utc(2026, 11, 29, 15, 0),
                    "reminder:alice:2026-W48".to_string()
                ),
                (
                    utc(2026, 11, 30, 7, 0),
                    "digest:alice:2026-11-30".to_string()
                ),
            ]
        );
    }

    #[test]
    fn answered_or_skipped_week_gets_no_reminder() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let reminder_time = utc(2026, 11, 29, 15, 0);
        for mark in ["answered", "skipped"] {
            let mut sim = Sim::new(config(vec![alice.clone()]), utc(2026, 11, 1, 0, 0));
            let f = sim.pm("alice");
            f.forms_sent.insert(week("2026-W48"));
            match mark {
                "answered" => f.answered.insert(week("2026-W48")),
                _ => f.skipped.insert(week("2026-W48")),
            };
            assert_eq!(sim.tick(reminder_time), vec![], "{mark}");
        }
        // Control: unanswered, the reminder is due.
        let mut sim = Sim::new(config(vec![alice]), utc(2026, 11, 1, 0, 0));
        sim.pm("alice").forms_sent.insert(week("2026-W48"));
        assert_eq!(sim.tick(reminder_time).len(), 1);
    }

    #[test]
    fn reminder_expires_when_the_next_one_on_one_starts() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let mut sim = Sim::new(config(vec![alice]), utc(2026, 11, 1, 0, 0));
        sim.pm("alice").forms_sent.insert(week("2026-W48"));
        // Down from Saturday; back Monday 10:30 Paris, after the 1:1 began.
        assert_eq!(sim.tick(utc(2026, 11, 30, 9, 30)), vec![]);
    }

    #[test]
    fn reminder_is_not_sent_without_reminder_after() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let mut c = config(vec![alice]);
        c.schedule.reminder_after = None;
        let mut sim = Sim::new(c, utc(2026, 11, 1, 0, 0));
        sim.pm("alice").forms_sent.insert(week("2026-W48"));
        assert_eq!(sim.tick(utc(2026, 11, 29, 15, 0)), vec![]);
    }

    #[test]
    fn paused_pm_gets_no_form_and_no_reminder_until_resumed() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let mut sim = Sim::new(config(vec![alice]), utc(2026, 11, 1, 0, 0));
        sim.pm("alice").paused.push(Pause {
            starts_at: utc(2026, 11, 25, 0, 0),
            until: utc(2026, 12, 2, 0, 0),
            resumed_at: None,
        });
        let fired = sim.run(
            utc(2026, 11, 25, 0, 0),
            utc(2026, 12, 4, 16, 0),
            Duration::minutes(15),
        );
        let keys: Vec<_> = fired.iter().map(|(_, d)| d.idempotency_key()).collect();
        // W48 paused: no form, no reminder; the coach still gets the digest
        // before the 1:1 (it says "paused"). W49 goes out after resume.
        assert_eq!(
            keys,
            vec![
                "digest:alice:2026-11-30".to_string(),
                "form:alice:2026-W49".to_string()
            ]
        );
    }

    #[test]
    fn pause_that_starts_after_the_form_stops_the_reminder() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let mut sim = Sim::new(config(vec![alice.clone()]), utc(2026, 11, 1, 0, 0));
        let f = sim.pm("alice");
        f.forms_sent.insert(week("2026-W48"));
        f.paused.push(Pause {
            starts_at: utc(2026, 11, 28, 0, 0),
            until: utc(2027, 11, 28, 0, 0),
            resumed_at: None,
        });
        assert_eq!(sim.tick(utc(2026, 11, 29, 15, 0)), vec![]);
        assert!(!week_paused(
            &alice,
            &sim.facts.pms["alice"],
            week("2026-W48")
        ));
        assert!(week_paused(
            &alice,
            &sim.facts.pms["alice"],
            week("2026-W49")
        ));
    }

    #[test]
    fn skipped_week_gets_no_form() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let mut sim = Sim::new(config(vec![alice]), utc(2026, 11, 1, 0, 0));
        sim.pm("alice").skipped.insert(week("2026-W48"));
        assert_eq!(sim.tick(utc(2026, 11, 27, 15, 0)), vec![]);
    }

    #[test]
    fn restart_with_the_same_facts_sends_nothing_twice() {
        let c = demo();
        let since = utc(2026, 11, 1, 0, 0);
        let mut sim = Sim::new(c, since);
        for p in sim.facts.pms.values_mut() {
            p.forms_sent.insert(week("2026-W48"));
        }
        // Tuesday 1 December 00:00 UTC: several PMs have something due.
        let now = utc(2026, 12, 1, 0, 0);
        let first = due(now, &sim.config, &sim.facts);
        assert!(!first.is_empty());
        let again = due(now, &sim.config, &sim.facts);
        assert_eq!(first, again);
        let keys: HashSet<String> = first.iter().map(Due::idempotency_key).collect();
        assert_eq!(keys.len(), first.len(), "keys are unique");
        // The store persisted them; after a restart they are `done`.
        sim.facts.done.extend(keys);
        assert_eq!(due(now, &sim.config, &sim.facts), vec![]);
        assert_eq!(
            due(now + Duration::minutes(1), &sim.config, &sim.facts),
            vec![]
        );
    }

    #[test]
    fn due_is_ordered_by_scheduled_instant() {
        let c = demo();
        let mut sim = Sim::new(c, utc(2026, 11, 1, 0, 0));
        let fired = sim.run(
            utc(2026, 11, 1, 0, 0),
            utc(2026, 11, 15, 0, 0),
            Duration::hours(6),
        );
        assert!(fired.len() > 5);
        for (_, d) in &fired {
            assert!(d.at() <= fired.iter().find(|(_, e)| e == d).unwrap().0);
        }
        let batch = due(utc(2026, 12, 1, 0, 0), &sim.config, &sim.facts);
        assert!(batch.windows(2).all(|w| w[0].at() <= w[1].at()));
    }

    #[test]
    fn next_times_shows_the_next_form_and_digest_in_local_time() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let c = config(vec![alice.clone()]);
        let fmt = |t: DateTime<Tz>| t.format("%a %Y-%m-%d %H:%M %Z").to_string();
        let wed = utc(2026, 11, 25, 12, 0);
        let n = next_times(wed, &c, &alice);
        assert_eq!(fmt(n.form), "Fri 2026-11-27 16:00 CET");
        assert_eq!(fmt(n.digest), "Mon 2026-11-30 08:00 CET");
        // Inside Monday's digest window, the next digest is next week's.
        let n = next_times(utc(2026, 11, 30, 8, 0), &c, &alice);
        assert_eq!(fmt(n.digest), "Mon 2026-12-07 08:00 CET");
        assert_eq!(fmt(n.form), "Fri 2026-12-04 16:00 CET");
    }

    #[test]
    fn open_week_is_the_pms_local_iso_week() {
        let emma = pm(
            "emma",
            chrono_tz::Australia::Sydney,
            "fri 15:00",
            "tue 08:30",
        );
        let dev = pm(
            "dev",
            chrono_tz::America::New_York,
            "fri 16:00",
            "mon 11:00",
        );
        // Sunday 29 November 20:00 UTC: Monday morning in Sydney, Sunday in New York.
        let now = utc(2026, 11, 29, 20, 0);
        assert_eq!(open_week(now, &emma), week("2026-W49"));
        assert_eq!(open_week(now, &dev), week("2026-W48"));
    }

    #[test]
    fn a_pause_covers_from_its_start_to_its_end_or_its_resume() {
        let p = Pause {
            starts_at: utc(2026, 1, 1, 0, 0),
            until: utc(2026, 1, 8, 0, 0),
            resumed_at: None,
        };
        assert!(!p.covers(utc(2025, 12, 31, 23, 59)));
        assert!(p.covers(utc(2026, 1, 1, 0, 0)));
        assert!(p.covers(utc(2026, 1, 7, 23, 59)));
        assert!(!p.covers(utc(2026, 1, 8, 0, 0)));
        let q = Pause {
            resumed_at: Some(utc(2026, 1, 3, 0, 0)),
            ..p
        };
        assert!(q.covers(utc(2026, 1, 2, 23, 59)));
        assert!(!q.covers(utc(2026, 1, 3, 0, 0)));
        let late = Pause {
            resumed_at: Some(utc(2026, 2, 1, 0, 0)),
            ..p
        };
        assert_eq!(late.end(), p.until);
    }

    #[test]
    fn every_demo_pm_gets_one_form_one_reminder_and_one_digest_each_week_of_a_year() {
        let c = demo();
        let pms = c.pms.clone();
        let start = utc(2026, 1, 1, 0, 0);
        let mut sim = Sim::new(c, start);
        let fired = sim.run(start, utc(2027, 1, 1, 0, 0), Duration::hours(1));
        for p in &pms {
            let count = |kind: &str| {
                fired
                    .iter()
                    .filter(|(_, d)| d.pm() == p.key && d.idempotency_key().starts_with(kind))
                    .count()
            };
            // 2026 has 53 ISO weeks; the first and last are partly outside the run.
            let forms = count("form:");
            assert!((52..=53).contains(&forms), "{}: {forms} forms", p.key);
            assert!((51..=53).contains(&count("reminder:")), "{}", p.key);
            assert!((51..=53).contains(&count("digest:")), "{}", p.key);
            for (now, d) in fired.iter().filter(|(_, d)| d.pm() == p.key) {
                // Hourly ticks: everything fires within the hour it falls due.
                assert!(
                    d.at() <= *now && *now - d.at() < Duration::hours(1),
                    "{d:?} at {now}"
                );
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// Up for a while, down for a while, repeatedly, with PMs answering
        /// some weeks: nothing is sent twice, and nothing stale is sent.
        #[test]
        fn random_downtime_never_sends_twice_or_stale(
            spans in proptest::collection::vec((1u32..72, 0u32..400, proptest::bool::ANY), 1..30)
        ) {
            let c = demo();
            let start = utc(2026, 9, 1, 0, 0);
            let mut sim = Sim::new(c.clone(), start);
            let mut seen = HashSet::new();
            let mut now = start;
            for (up, down, answers) in spans {
                for _ in 0..up {
                    for d in sim.tick(now) {
                        proptest::prop_assert!(seen.insert(d.idempotency_key()), "twice: {:?}", d);
                        proptest::prop_assert!(d.at() <= now);
                        let p = c.pm(d.pm()).unwrap();
                        let next_form = form_at(p, d.week().next());
                        match &d {
                            Due::Form { week, at, .. } => {
                                proptest::prop_assert_eq!(*at, form_at(p, *week));
                                proptest::prop_assert!(now < next_form, "stale form {:?} at {}", d, now);
                            }
                            Due::Reminder { at, .. } => {
                                let (_, one_on_one) = next(p.timezone, p.one_on_one, *at);
                                proptest::prop_assert!(now < next_form, "stale reminder {:?} at {}", d, now);
                                proptest::prop_assert!(now < one_on_one, "reminder after 1:1 {:?} at {}", d, now);
                            }
                            Due::Digest { one_on_one, .. } => {
                                proptest::prop_assert!(now < *one_on_one, "late digest {:?} at {}", d, now);
                            }
                        }
                        if let (true, Due::Form { pm, week, .. }) = (answers, &d) {
                            sim.pm(pm).answered.insert(*week);
                        }
                    }
                    now += Duration::hours(1);
                }
                now += Duration::hours(i64::from(down));
            }
        }
    }

    // --- the pairing's 1:1 rule: cadence, moves, cancellations ---

    fn digest_weeks(fired: &[(DateTime<Utc>, Due)]) -> Vec<(String, Week, Week)> {
        fired
            .iter()
            .filter_map(|(_, d)| match d {
                Due::Digest {
                    week,
                    from,
                    one_on_one,
                    ..
                } => Some((
                    one_on_one.format("%Y-%m-%d %H:%M").to_string(),
                    *from,
                    *week,
                )),
                _ => None,
            })
            .collect()
    }

    /// Alice (Paris, form fri 16:00, 1:1 mon 10:00) with this cadence,
    /// simulated hour by hour through December 2026.
    fn december(cadence: Cadence, edit: impl FnOnce(&mut PmFacts)) -> Vec<(DateTime<Utc>, Due)> {
        let mut alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        alice.cadence = cadence;
        let mut sim = Sim::new(config(vec![alice]), utc(2026, 11, 1, 0, 0));
        edit(sim.pm("alice"));
        sim.run(
            utc(2026, 11, 27, 0, 0),
            utc(2026, 12, 31, 0, 0),
            Duration::hours(1),
        )
    }

    #[test]
    fn a_fortnightly_one_on_one_gets_a_digest_every_other_week_covering_both_weeks() {
        let fired = december(
            Cadence::EveryWeeks {
                weeks: 2,
                anchor: week("2026-W49"),
            },
            |_| {},
        );
        assert_eq!(
            digest_weeks(&fired),
            vec![
                (
                    "2026-11-30 09:00".to_string(),
                    week("2026-W47"),
                    week("2026-W48")
                ),
                (
                    "2026-12-14 09:00".to_string(),
                    week("2026-W49"),
                    week("2026-W50")
                ),
                (
                    "2026-12-28 09:00".to_string(),
                    week("2026-W51"),
                    week("2026-W52")
                ),
            ]
        );
    }

    #[test]
    fn a_monthly_rule_meets_on_that_weekday_of_each_month_and_covers_the_weeks_between() {
        let fired = december(Cadence::Monthly { nth: 1 }, |_| {});
        // First Mondays: 7 December 2026 (then 4 January 2027).
        let d = digest_weeks(&fired);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].0, "2026-12-07 09:00");
        assert_eq!(d[0].2, week("2026-W49"));
        // The previous first Monday, 2 November: weeks 45 to 49 roll in.
        assert_eq!(d[0].1, week("2026-W45"));
        let last = december(Cadence::Monthly { nth: 5 }, |_| {});
        let d = digest_weeks(&last);
        assert_eq!(
            d.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
            vec!["2026-11-30 09:00", "2026-12-28 09:00"]
        );
    }

    #[test]
    fn a_moved_one_on_one_gets_its_digest_before_the_new_time_under_the_same_key() {
        let fired = december(Cadence::Weekly, |f| {
            f.meeting_changes.push(MeetingChange {
                regular: NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
                to: Some(
                    NaiveDate::from_ymd_opt(2026, 12, 10)
                        .unwrap()
                        .and_hms_opt(15, 0, 0)
                        .unwrap(),
                ),
            })
        });
        let digests: Vec<_> = fired
            .iter()
            .filter(|(_, d)| matches!(d, Due::Digest { .. }))
            .map(|(at, d)| (*at, d.idempotency_key()))
            .collect();
        // Thursday 10 December 15:00 Paris = 14:00 UTC, digest 2 h before.
        assert!(
            digests.contains(&(utc(2026, 12, 10, 12, 0), "digest:alice:2026-12-07".into())),
            "{digests:?}"
        );
        assert!(!digests.iter().any(|(at, _)| *at == utc(2026, 12, 7, 7, 0)));
        assert_eq!(digests.len(), 5, "one digest per 1:1: {digests:?}");
    }

    #[test]
    fn a_cancelled_one_on_one_gets_no_digest_and_its_week_rolls_into_the_next() {
        let fired = december(Cadence::Weekly, |f| {
            f.meeting_changes.push(MeetingChange {
                regular: NaiveDate::from_ymd_opt(2026, 12, 14).unwrap(),
                to: None,
            })
        });
        let d = digest_weeks(&fired);
        assert!(!d.iter().any(|x| x.0.starts_with("2026-12-14")), "{d:?}");
        let after = d.iter().find(|x| x.0.starts_with("2026-12-21")).unwrap();
        assert_eq!((after.1, after.2), (week("2026-W50"), week("2026-W51")));
        assert_eq!(d.len(), 4);
    }

    #[test]
    fn the_coachs_rule_replaces_the_configs_and_a_later_change_of_a_date_wins() {
        let fired = december(Cadence::Weekly, |f| {
            f.rule = Some(MeetingRule {
                slot: slot("wed 14:00"),
                cadence: Cadence::EveryWeeks {
                    weeks: 2,
                    anchor: week("2026-W50"),
                },
            });
            let wed = NaiveDate::from_ymd_opt(2026, 12, 9).unwrap();
            f.meeting_changes.push(MeetingChange {
                regular: wed,
                to: None,
            });
            // …then moved after all: the latest change of the date counts.
            f.meeting_changes.push(MeetingChange {
                regular: wed,
                to: Some(wed.and_hms_opt(16, 0, 0).unwrap()),
            });
        });
        let d: Vec<String> = digest_weeks(&fired).into_iter().map(|x| x.0).collect();
        assert_eq!(
            d,
            vec!["2026-12-09 15:00", "2026-12-23 13:00"],
            "wed 9 Dec moved to 16:00, wed 23 Dec at 14:00 (Paris)"
        );
    }

    #[test]
    fn the_next_meetings_skip_cancelled_ones_and_follow_moves_in_order() {
        let mut alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        alice.cadence = Cadence::Weekly;
        let mut f = PmFacts::new(utc(2026, 11, 1, 0, 0));
        let mon = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        f.meeting_changes.push(MeetingChange {
            regular: mon(7),
            to: None,
        });
        // The 14th's 1:1 moves before the 7th's slot would have been.
        f.meeting_changes.push(MeetingChange {
            regular: mon(14),
            to: Some(mon(4).and_hms_opt(9, 0, 0).unwrap()),
        });
        let next: Vec<NaiveDate> = meetings_after(utc(2026, 12, 1, 0, 0), &alice, Some(&f))
            .take(3)
            .map(|m| m.regular)
            .collect();
        assert_eq!(next, vec![mon(14), mon(21), mon(28)]);
        assert_eq!(
            next_meeting(utc(2026, 12, 1, 0, 0), &alice, Some(&f))
                .unwrap()
                .at,
            utc(2026, 12, 4, 8, 0)
        );
    }

    #[test]
    fn a_coachs_changes_apply_to_the_next_one_on_one_after_they_arrive() {
        let alice = pm("alice", chrono_tz::Europe::Paris, "fri 16:00", "mon 10:00");
        let mut f = PmFacts::new(utc(2026, 11, 1, 0, 0));
        let hm = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        // Replied on Tuesday 1 December: the next 1:1 is Monday the 7th.
        let tue = utc(2026, 12, 1, 12, 0);
        apply_coach_change(
            &alice,
            &mut f,
            &ScheduleChange::MovedTo {
                day: Some(chrono::Weekday::Thu),
                date: None,
                time: hm(15, 0),
            },
            tue,
        );
        assert_eq!(
            f.meeting_changes,
            vec![MeetingChange {
                regular: day(7),
                to: Some(day(10).and_time(hm(15, 0)))
            }]
        );
        // A later "moved to 16:30" keeps the day it was moved to.
        apply_coach_change(
            &alice,
            &mut f,
            &ScheduleChange::MovedTo {
                day: None,
                date: None,
                time: hm(16, 30),
            },
            tue,
        );
        let next = next_meeting(tue, &alice, Some(&f)).unwrap();
        assert_eq!((next.regular, next.at), (day(7), utc(2026, 12, 10, 15, 30)));
        // After that 1:1: "cancelled" is the one of the 14th.
        let fri = utc(2026, 12, 11, 9, 0);
        apply_coach_change(&alice, &mut f, &ScheduleChange::Cancelled, fri);
        assert_eq!(
            next_meeting(fri, &alice, Some(&f)).unwrap().regular,
            day(21)
        );
        // "every 2 weeks" counts from the next 1:1 (the 21st).
        apply_coach_change(&alice, &mut f, &ScheduleChange::Every { weeks: 2 }, fri);
        let after: Vec<NaiveDate> = meetings_after(fri, &alice, Some(&f))
            .take(3)
            .map(|m| m.regular)
            .collect();
        assert_eq!(
            after,
            vec![
                day(21),
                NaiveDate::from_ymd_opt(2027, 1, 4).unwrap(),
                NaiveDate::from_ymd_opt(2027, 1, 18).unwrap()
            ]
        );
        // A monthly rule brings its own day and time.
        apply_coach_change(
            &alice,
            &mut f,
            &ScheduleChange::MonthlyRule {
                nth: 1,
                day: chrono::Weekday::Wed,
                time: hm(9, 0),
            },
            fri,
        );
        let first = next_meeting(utc(2026, 12, 31, 0, 0), &alice, Some(&f)).unwrap();
        assert_eq!(first.at, utc(2027, 1, 6, 8, 0));
    }
}
