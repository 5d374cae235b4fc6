//! Pure: what a PM's history says — baselines, dips, streaks, missed weeks,
//! per-skill trends and sparklines, and the bundle a coach digest needs.
//!
//! Owns the definitions of these numbers, so the digest, the `trend` email and
//! the tests all agree. Values in, values out: never reads a clock, the store
//! or the network, and never logs (the inputs are private scores).
//!
//! # Definitions
//!
//! * A week is **answered** when it has at least one current answer (a score
//!   or an on-purpose `n/a`) for any skill.
//! * **Baseline** of a skill before week `W`: the median of its scores in the
//!   newest 4 to 8 weeks before `W` that scored it. Weeks that skipped it
//!   (`n/a`, `skip`, pause, no answer) are not counted; fewer than 4 scored
//!   weeks means no baseline yet.
//! * **Dip**: a score at or below baseline − `dip_threshold`.
//! * **Missed** week: the form was sent, nothing was answered, and the week
//!   was neither skipped nor paused.
//! * **Drop** (while a skill has no baseline yet): a score at least
//!   [`BUILDING_DROP`] below the skill's score in the previous answered week
//!   that scored it, so a fall from 3 to 1 is flagged before a baseline exists.
//! * **Weeks to baseline**: how many more scored weeks a skill needs, this
//!   week's included, before the digest can compare with a baseline.
//! * **Streak** up to `W`: answered weeks counted back from `W` until a missed
//!   week. Skipped and paused weeks (and weeks no form went out) neither count
//!   nor break it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::framework::Framework;
use crate::week::Week;

/// Fewest scored weeks that make a baseline.
pub const BASELINE_MIN_WEEKS: usize = 4;
/// Most scored weeks a baseline looks back over.
pub const BASELINE_MAX_WEEKS: usize = 8;
/// A drop this large against the previous answered week is flagged while
/// the baseline is still being built.
pub const BUILDING_DROP: u8 = 2;
/// The digest's look-back window (missed weeks, sparklines), in weeks.
pub const DIGEST_WINDOW_WEEKS: u32 = 8;

/// Tolerance for comparing a delta with the threshold: medians are halves,
/// thresholds are decimals written by people (0.1 is not exact in binary).
const EPSILON: f64 = 1e-9;

/// One PM's history, as the store knows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// Current answer per week and skill key: `Some(score)`, or `None` when
    /// the PM skipped that skill on purpose (`n/a`). Corrections already
    /// applied: only the newest answer per skill is here.
    pub answers: BTreeMap<Week, BTreeMap<String, Option<u8>>>,
    /// Weeks whose form was sent.
    pub forms_sent: BTreeSet<Week>,
    /// Weeks the PM skipped as a whole (`skip`).
    pub skipped: BTreeSet<Week>,
    /// Weeks that fell in a pause (see `schedule::week_paused`).
    pub paused: BTreeSet<Week>,
    /// Answered weeks older than the answers loaded: `answers` may hold
    /// only a recent window (see [`window_suffices`]); these weeks still
    /// count as answered for streaks and counts.
    pub answered_earlier: BTreeSet<Week>,
}

impl History {
    /// A history from current answer rows `(week, skill key, score or None
    /// for n/a)`; forms sent, skipped and paused weeks start empty. A later row
    /// for the same week and skill replaces an earlier one.
    pub fn from_rows(rows: &[(Week, String, Option<u8>)]) -> History {
        let mut answers: BTreeMap<Week, BTreeMap<String, Option<u8>>> = BTreeMap::new();
        for (week, skill, score) in rows {
            answers
                .entry(*week)
                .or_default()
                .insert(skill.clone(), *score);
        }
        History {
            answers,
            ..History::default()
        }
    }

    /// The score for `skill` in `week`, if one was given.
    pub fn score(&self, week: Week, skill: &str) -> Option<u8> {
        self.answers.get(&week)?.get(skill).copied().flatten()
    }

    /// Whether anything was answered for `week`.
    pub fn answered(&self, week: Week) -> bool {
        self.answers.get(&week).is_some_and(|a| !a.is_empty())
            || self.answered_earlier.contains(&week)
    }

    /// The newest answered week before `week`.
    pub fn last_answered_before(&self, week: Week) -> Option<Week> {
        self.answers
            .range(..week)
            .rev()
            .find(|(_, a)| !a.is_empty())
            .map(|(w, _)| *w)
            .or_else(|| self.answered_earlier.range(..week).next_back().copied())
    }

    /// What happened in `week` as a whole.
    pub fn week_status(&self, week: Week) -> WeekStatus {
        if self.answered(week) {
            WeekStatus::Answered
        } else if self.skipped.contains(&week) {
            WeekStatus::Skipped
        } else if self.paused.contains(&week) {
            WeekStatus::Paused
        } else if self.forms_sent.contains(&week) {
            WeekStatus::Missed
        } else {
            WeekStatus::NotAsked
        }
    }

    /// The earliest week anything is known about.
    fn first_week(&self) -> Option<Week> {
        let a = self.answers.keys().next();
        let e = self.answered_earlier.iter().next();
        let f = self.forms_sent.iter().next();
        a.into_iter().chain(e).chain(f).min().copied()
    }
}

/// What happened in one week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeekStatus {
    /// At least one answer.
    Answered,
    /// The PM said `skip`.
    Skipped,
    /// The week fell in a pause.
    Paused,
    /// Form sent, no answer, not skipped or paused.
    Missed,
    /// No form went out and nothing was answered (before the PM started,
    /// or the service was down the whole week).
    NotAsked,
}

/// The median of `values`; `None` for none.
pub fn median(values: &[u8]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    Some(if n % 2 == 1 {
        f64::from(v[mid])
    } else {
        (f64::from(v[mid - 1]) + f64::from(v[mid])) / 2.0
    })
}

/// The baseline of `skill` before `week` (see the module docs), or `None`
/// while fewer than four earlier weeks scored it.
pub fn baseline(history: &History, skill: &str, week: Week) -> Option<f64> {
    let scores: Vec<u8> = history
        .answers
        .range(..week)
        .rev()
        .filter_map(|(_, a)| a.get(skill).copied().flatten())
        .take(BASELINE_MAX_WEEKS)
        .collect();
    if scores.len() < BASELINE_MIN_WEEKS {
        None
    } else {
        median(&scores)
    }
}

/// The newest score of `skill` before `week`, with its week.
pub fn previous_score(history: &History, skill: &str, week: Week) -> Option<(Week, u8)> {
    history
        .answers
        .range(..week)
        .rev()
        .find_map(|(w, a)| a.get(skill).copied().flatten().map(|s| (*w, s)))
}

/// Scored weeks `skill` still needs, counting up to and including `week`,
/// before a later digest has a baseline for it: 0 once it has enough.
pub fn weeks_to_baseline(history: &History, skill: &str, week: Week) -> u32 {
    let scored = history
        .answers
        .range(..=week)
        .filter(|(_, a)| a.get(skill).copied().flatten().is_some())
        .take(BASELINE_MIN_WEEKS)
        .count();
    u32::try_from(BASELINE_MIN_WEEKS - scored).unwrap_or(0)
}

/// Whether `score` is a dip against `baseline`: at or below baseline − threshold.
pub fn is_dip(score: u8, baseline: f64, dip_threshold: f64) -> bool {
    f64::from(score) - baseline <= -dip_threshold + EPSILON
}

/// A score flagged as a dip.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dip {
    pub skill: String,
    pub score: u8,
    pub baseline: f64,
    /// score − baseline (negative).
    pub delta: f64,
}

/// Every skill scored in `week` that dips below its baseline, by skill key.
pub fn dips(history: &History, week: Week, dip_threshold: f64) -> Vec<Dip> {
    let Some(answers) = history.answers.get(&week) else {
        return Vec::new();
    };
    answers
        .iter()
        .filter_map(|(skill, score)| {
            let score = (*score)?;
            let base = baseline(history, skill, week)?;
            is_dip(score, base, dip_threshold).then(|| Dip {
                skill: skill.clone(),
                score,
                baseline: base,
                delta: f64::from(score) - base,
            })
        })
        .collect()
}

/// Consecutive answered weeks up to and including `week` (see the module
/// docs): 0 when `week` itself was missed.
pub fn streak(history: &History, week: Week) -> u32 {
    let Some(first) = history.first_week() else {
        return 0;
    };
    let mut n = 0;
    let mut w = week;
    while w >= first {
        match history.week_status(w) {
            WeekStatus::Answered => n += 1,
            WeekStatus::Missed => break,
            WeekStatus::Skipped | WeekStatus::Paused | WeekStatus::NotAsked => {}
        }
        w = w.prev();
    }
    n
}

/// Missed weeks from `from` to `to`, both included, oldest first.
pub fn missed_weeks(history: &History, from: Week, to: Week) -> Vec<Week> {
    if from > to {
        return Vec::new();
    }
    history
        .forms_sent
        .range(from..=to)
        .copied()
        .filter(|w| history.week_status(*w) == WeekStatus::Missed)
        .collect()
}

/// Weeks answered up to and including `week`.
pub fn weeks_answered(history: &History, week: Week) -> u32 {
    let loaded = history
        .answers
        .range(..=week)
        .filter(|(w, a)| !a.is_empty() && !history.answered_earlier.contains(w))
        .count();
    let n = loaded + history.answered_earlier.range(..=week).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Whether answers loaded from `loaded_from` on give the same scores,
/// baselines, previous scores and sparklines as the whole history, for
/// `skills` over the `weeks` weeks ending at `upto` (a digest's or a
/// trend's run): true when each skill has [`BASELINE_MAX_WEEKS`] scored
/// weeks loaded before the run starts (every baseline and previous score
/// of the run then lies among the loaded weeks), or when nothing was
/// answered before `loaded_from` (see [`History::answered_earlier`]).
/// Streaks and counts use the answered weeks, which stay whole.
pub fn window_suffices<'a>(
    history: &History,
    skills: impl IntoIterator<Item = &'a str>,
    upto: Week,
    weeks: u32,
    loaded_from: Week,
) -> bool {
    if history
        .answered_earlier
        .range(..loaded_from)
        .next()
        .is_none()
    {
        return true;
    }
    let run_start = upto.plus(1 - i64::from(weeks));
    if run_start <= loaded_from {
        return false;
    }
    skills.into_iter().all(|skill| {
        history
            .answers
            .range(loaded_from..run_start)
            .filter(|(_, a)| a.get(skill).copied().flatten().is_some())
            .count()
            >= BASELINE_MAX_WEEKS
    })
}

/// Five of the eight block heights, one per score, on a fixed scale, so sparklines of
/// different skills and PMs compare: 1 ▁, 2 ▃, 3 ▄, 4 ▆, 5 █.
const BARS: [char; 5] = ['▁', '▃', '▄', '▆', '█'];

/// One character a week, oldest first: a bar for a score (1 lowest, 5
/// highest, fixed scale; out-of-range scores are clamped) and a space for a
/// week without one.
pub fn sparkline(values: &[Option<u8>]) -> String {
    values
        .iter()
        .map(|v| match v {
            Some(s) => BARS[usize::from(s.clamp(&1, &5) - 1)],
            None => ' ',
        })
        .collect()
}

/// One skill over a run of weeks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trend {
    pub skill: String,
    /// Each week of the run, oldest first, with its score if any.
    pub points: Vec<(Week, Option<u8>)>,
    /// The newest scored week in the run.
    pub latest: Option<(Week, u8)>,
    /// Baseline before the latest scored week (before the run's end when
    /// nothing was scored in it).
    pub baseline: Option<f64>,
    /// latest − baseline.
    pub change: Option<f64>,
    pub sparkline: String,
}

/// `skill` over the `weeks` weeks ending at `upto`.
pub fn trend(history: &History, skill: &str, upto: Week, weeks: u32) -> Trend {
    let start = upto.plus(1 - i64::from(weeks));
    let points: Vec<(Week, Option<u8>)> = (0..i64::from(weeks))
        .map(|i| {
            let w = start.plus(i);
            (w, history.score(w, skill))
        })
        .collect();
    let latest = points.iter().rev().find_map(|(w, s)| s.map(|s| (*w, s)));
    let base = baseline(history, skill, latest.map_or(upto.next(), |(w, _)| w));
    let change = match (latest, base) {
        (Some((_, s)), Some(b)) => Some(f64::from(s) - b),
        _ => None,
    };
    let values: Vec<Option<u8>> = points.iter().map(|(_, s)| *s).collect();
    Trend {
        skill: skill.to_string(),
        sparkline: sparkline(&values),
        points,
        latest,
        baseline: base,
        change,
    }
}

/// Trends for the `trend` email: every active skill in framework order, then
/// retired skills that still have a score in the run.
pub fn trends(history: &History, framework: &Framework, upto: Week, weeks: u32) -> Vec<Trend> {
    framework
        .skills
        .iter()
        .map(|s| (s.retired, trend(history, &s.key, upto, weeks)))
        .filter(|(retired, t)| !retired || t.latest.is_some())
        .map(|(_, t)| t)
        .collect()
}

/// How one skill was answered in the digest's week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerStatus {
    Scored,
    /// `n/a` for the skill, or the whole week skipped.
    Skipped,
    /// No answer for this skill.
    Missing,
}

/// One skill's line in a coach digest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SkillLine {
    pub key: String,
    pub name: String,
    pub status: AnswerStatus,
    /// Set exactly when `status` is `Scored`.
    pub score: Option<u8>,
    pub baseline: Option<f64>,
    /// score − baseline, when both exist.
    pub delta: Option<f64>,
    pub dip: bool,
    /// The newest earlier score, with its week.
    pub previous: Option<(Week, u8)>,
    /// No baseline yet, and the score fell at least [`BUILDING_DROP`]
    /// below `previous`.
    pub drop: bool,
    /// Scored weeks still needed for a baseline (0 once it exists).
    pub weeks_to_baseline: u32,
    /// The last eight weeks ending at the digest's week.
    pub sparkline: String,
}

/// Everything a coach digest needs about one PM and one week.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DigestData {
    pub week: Week,
    pub status: WeekStatus,
    /// Active skills, in framework order.
    pub skills: Vec<SkillLine>,
    /// Number of skills flagged as dips.
    pub dips: usize,
    /// Missed weeks among the eight ending at `week`, oldest first.
    pub missed: Vec<Week>,
    /// Paused weeks among the same eight: shown as paused, not missed.
    pub paused: Vec<Week>,
    pub streak: u32,
    /// Weeks answered up to and including `week`.
    pub weeks_answered: u32,
}

/// The digest bundle for `week`.
pub fn digest(
    history: &History,
    framework: &Framework,
    week: Week,
    dip_threshold: f64,
) -> DigestData {
    let status = history.week_status(week);
    let answers = history.answers.get(&week);
    let window_start = week.plus(1 - i64::from(DIGEST_WINDOW_WEEKS));
    let skills: Vec<SkillLine> = framework
        .active()
        .map(|skill| {
            let answer = answers.and_then(|a| a.get(&skill.key)).copied();
            let (status, score) = match answer {
                Some(Some(s)) => (AnswerStatus::Scored, Some(s)),
                Some(None) => (AnswerStatus::Skipped, None),
                None if status == WeekStatus::Skipped => (AnswerStatus::Skipped, None),
                None => (AnswerStatus::Missing, None),
            };
            let base = baseline(history, &skill.key, week);
            let delta = score.zip(base).map(|(s, b)| f64::from(s) - b);
            let dip = score
                .zip(base)
                .is_some_and(|(s, b)| is_dip(s, b, dip_threshold));
            let previous = previous_score(history, &skill.key, week);
            let drop = base.is_none()
                && score
                    .zip(previous)
                    .is_some_and(|(s, (_, p))| p >= s + BUILDING_DROP);
            SkillLine {
                key: skill.key.clone(),
                name: skill.name.clone(),
                status,
                score,
                baseline: base,
                delta,
                dip,
                previous,
                drop,
                weeks_to_baseline: if base.is_some() {
                    0
                } else {
                    weeks_to_baseline(history, &skill.key, week)
                },
                sparkline: trend(history, &skill.key, week, DIGEST_WINDOW_WEEKS).sparkline,
            }
        })
        .collect();
    let paused = history
        .paused
        .range(window_start..=week)
        .copied()
        .filter(|w| history.week_status(*w) == WeekStatus::Paused)
        .collect();
    DigestData {
        week,
        status,
        dips: skills.iter().filter(|s| s.dip).count(),
        skills,
        missed: missed_weeks(history, window_start, week),
        paused,
        streak: streak(history, week),
        weeks_answered: weeks_answered(history, week),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Skill;

    fn w(n: u32) -> Week {
        Week::new(2026, n).unwrap()
    }

    /// One skill's scores over consecutive weeks starting at W10; `None` = n/a.
    fn scores(skill: &str, values: &[Option<u8>]) -> History {
        let rows: Vec<(Week, String, Option<u8>)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (w(10).plus(i as i64), skill.to_string(), *v))
            .collect();
        let mut h = History::from_rows(&rows);
        h.forms_sent = rows.iter().map(|r| r.0).collect();
        h
    }

    fn skill(key: &str, retired: bool) -> Skill {
        Skill {
            key: key.into(),
            name: key.to_uppercase(),
            description: String::new(),
            aliases: Vec::new(),
            levels: Default::default(),
            retired,
        }
    }

    #[test]
    fn median_of_odd_count_is_the_middle_value() {
        assert_eq!(median(&[5, 1, 3]), Some(3.0));
        assert_eq!(median(&[2, 2, 4, 5, 1]), Some(2.0));
    }

    #[test]
    fn median_of_even_count_is_the_mean_of_the_two_middle_values() {
        assert_eq!(median(&[4, 1, 3, 2]), Some(2.5));
        assert_eq!(median(&[3, 3, 4, 4]), Some(3.5));
    }

    #[test]
    fn median_of_nothing_is_none() {
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn baseline_needs_four_scored_weeks() {
        let h = scores("data", &[Some(2), Some(4), Some(5)]);
        assert_eq!(baseline(&h, "data", w(13)), None);
        let h = scores("data", &[Some(2), Some(4), Some(5), Some(1)]);
        assert_eq!(baseline(&h, "data", w(14)), Some(3.0));
        // The week itself is not part of its own baseline.
        assert_eq!(baseline(&h, "data", w(13)), None);
    }

    #[test]
    fn baseline_uses_only_the_newest_eight_scored_weeks() {
        // Seven 1s (W10–W16), then four 5s (W17–W20). Before W21 the newest
        // eight are four 5s and four 1s → 3.0; all eleven would give 1.0.
        let mut v = vec![Some(1); 7];
        v.extend([Some(5); 4]);
        let h = scores("data", &v);
        assert_eq!(baseline(&h, "data", w(21)), Some(3.0));
        // With exactly four scored weeks before it, the baseline is their median.
        assert_eq!(baseline(&h, "data", w(14)), Some(1.0));
    }

    #[test]
    fn baseline_ignores_skipped_and_unanswered_weeks() {
        // n/a at W11, nothing at all at W13 (a gap), whole-week skip at W15.
        let mut h = scores("data", &[Some(3), None, Some(3)]);
        h.answers
            .entry(w(14))
            .or_default()
            .insert("data".into(), Some(5));
        h.answers
            .entry(w(16))
            .or_default()
            .insert("data".into(), Some(5));
        h.skipped.insert(w(15));
        // Scored weeks before W17: 3, 3, 5, 5 → four of them, median 4.
        assert_eq!(baseline(&h, "data", w(17)), Some(4.0));
        // Another skill's answers do not count for this one.
        assert_eq!(baseline(&h, "delivery", w(17)), None);
    }

    #[test]
    fn dip_threshold_boundary_counts_as_a_dip() {
        assert!(is_dip(3, 4.0, 1.0));
        assert!(!is_dip(3, 3.5, 1.0));
        assert!(is_dip(2, 3.5, 1.5));
        assert!(is_dip(3, 3.5, 0.5));
        assert!(!is_dip(4, 4.0, 0.1));
        // Decimal thresholds that are not exact in binary still hit the boundary.
        assert!(is_dip(3, 3.3, 0.3));
    }

    #[test]
    fn dips_flag_scores_far_enough_below_baseline() {
        let mut h = scores("data", &[Some(4), Some(4), Some(4), Some(4), Some(3)]);
        for (i, s) in [4, 4, 4, 4, 2].into_iter().enumerate() {
            h.answers
                .entry(w(10).plus(i as i64))
                .or_default()
                .insert("delivery".into(), Some(s));
        }
        let got = dips(&h, w(14), 1.5);
        assert_eq!(
            got,
            vec![Dip {
                skill: "delivery".into(),
                score: 2,
                baseline: 4.0,
                delta: -2.0
            }]
        );
        assert_eq!(dips(&h, w(14), 1.0).len(), 2);
    }

    #[test]
    fn no_dip_without_a_baseline() {
        let h = scores("data", &[Some(5), Some(5), Some(5), Some(1)]);
        assert_eq!(dips(&h, w(13), 1.0), vec![]);
    }

    #[test]
    fn streak_counts_consecutive_answered_weeks() {
        let h = scores("data", &[Some(3); 5]);
        assert_eq!(streak(&h, w(14)), 5);
        assert_eq!(streak(&h, w(12)), 3);
    }

    #[test]
    fn missed_week_breaks_the_streak() {
        let mut h = scores("data", &[Some(3); 5]);
        h.answers.remove(&w(12));
        assert_eq!(streak(&h, w(14)), 2);
        // The missed week itself has a streak of 0.
        assert_eq!(streak(&h, w(12)), 0);
    }

    #[test]
    fn skipped_and_paused_weeks_do_not_break_the_streak() {
        let mut h = scores("data", &[Some(3); 6]);
        h.answers.remove(&w(11));
        h.skipped.insert(w(11));
        h.answers.remove(&w(13));
        h.paused.insert(w(13));
        assert_eq!(streak(&h, w(15)), 4);
        // And a week no form went out for (service down) does not either.
        h.answers.remove(&w(14));
        h.forms_sent.remove(&w(14));
        assert_eq!(streak(&h, w(15)), 3);
    }

    #[test]
    fn streak_of_a_pm_with_no_history_is_zero() {
        assert_eq!(streak(&History::default(), w(20)), 0);
    }

    #[test]
    fn missed_weeks_are_sent_unanswered_and_neither_skipped_nor_paused() {
        let mut h = scores("data", &[Some(3); 6]);
        for n in [11, 12, 13] {
            h.answers.remove(&w(n));
        }
        h.skipped.insert(w(12));
        h.paused.insert(w(13));
        h.forms_sent.insert(w(17)); // sent, not answered yet
        assert_eq!(missed_weeks(&h, w(10), w(17)), vec![w(11), w(17)]);
        assert_eq!(missed_weeks(&h, w(12), w(16)), vec![]);
        assert_eq!(missed_weeks(&h, w(17), w(10)), vec![]);
    }

    #[test]
    fn week_status_prefers_answers_then_skip_then_pause() {
        let mut h = scores("data", &[Some(3)]);
        h.skipped.extend([w(10), w(11)]);
        h.paused.extend([w(11), w(12)]);
        h.forms_sent.insert(w(13));
        assert_eq!(h.week_status(w(10)), WeekStatus::Answered);
        assert_eq!(h.week_status(w(11)), WeekStatus::Skipped);
        assert_eq!(h.week_status(w(12)), WeekStatus::Paused);
        assert_eq!(h.week_status(w(13)), WeekStatus::Missed);
        assert_eq!(h.week_status(w(14)), WeekStatus::NotAsked);
    }

    #[test]
    fn sparkline_uses_a_fixed_scale_and_a_gap_for_missing_weeks() {
        assert_eq!(
            sparkline(&[Some(1), Some(2), Some(3), Some(4), Some(5)]),
            "▁▃▄▆█"
        );
        assert_eq!(sparkline(&[Some(5), None, Some(1)]), "█ ▁");
        assert_eq!(sparkline(&[Some(0), Some(9)]), "▁█");
        assert_eq!(sparkline(&[]), "");
    }

    #[test]
    fn trend_lists_weeks_oldest_first_with_change_against_baseline() {
        // W10..W15: 4 4 4 4 n/a 2, then nothing in W16.
        let h = scores("data", &[Some(4), Some(4), Some(4), Some(4), None, Some(2)]);
        let t = trend(&h, "data", w(16), 4);
        assert_eq!(
            t.points,
            vec![
                (w(13), Some(4)),
                (w(14), None),
                (w(15), Some(2)),
                (w(16), None)
            ]
        );
        assert_eq!(t.latest, Some((w(15), 2)));
        assert_eq!(t.baseline, Some(4.0));
        assert_eq!(t.change, Some(-2.0));
        assert_eq!(t.sparkline, "▆ ▃ ");
    }

    #[test]
    fn trend_without_scores_has_no_change() {
        let t = trend(&History::default(), "data", w(16), 3);
        assert_eq!(t.points.len(), 3);
        assert_eq!(t.latest, None);
        assert_eq!(t.change, None);
        assert_eq!(t.sparkline, "   ");
    }

    #[test]
    fn trends_keep_framework_order_and_show_retired_skills_only_with_data() {
        let fw = Framework {
            skills: vec![
                skill("strategy", false),
                skill("old", true),
                skill("gone", true),
                skill("data", false),
            ],
        };
        let h = History::from_rows(&[
            (w(10), "old".into(), Some(3)),
            (w(10), "data".into(), Some(4)),
        ]);
        let keys: Vec<String> = trends(&h, &fw, w(12), 4)
            .into_iter()
            .map(|t| t.skill)
            .collect();
        assert_eq!(keys, vec!["strategy", "old", "data"]);
    }

    #[test]
    fn digest_bundles_active_skills_in_framework_order_with_baselines_and_dips() {
        let fw = Framework {
            skills: vec![
                skill("strategy", false),
                skill("old", true),
                skill("data", false),
                skill("delivery", false),
            ],
        };
        // 4s for strategy and data in W10 and W12–W14, then W15: strategy 2,
        // data n/a, delivery unanswered. W11 was missed (form sent, no
        // answer); W9 was paused.
        let mut rows = Vec::new();
        for n in [10, 12, 13, 14] {
            rows.push((w(n), "strategy".to_string(), Some(4)));
            rows.push((w(n), "data".to_string(), Some(4)));
            rows.push((w(n), "old".to_string(), Some(1)));
        }
        rows.push((w(15), "strategy".to_string(), Some(2)));
        rows.push((w(15), "data".to_string(), None));
        let mut h = History::from_rows(&rows);
        h.forms_sent = (10..=15).map(w).collect();
        h.paused.insert(w(9));

        let d = digest(&h, &fw, w(15), 1.0);
        assert_eq!(d.week, w(15));
        assert_eq!(d.status, WeekStatus::Answered);
        let keys: Vec<&str> = d.skills.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, vec!["strategy", "data", "delivery"]);

        let strategy = &d.skills[0];
        assert_eq!(strategy.status, AnswerStatus::Scored);
        assert_eq!(strategy.score, Some(2));
        assert_eq!(strategy.baseline, Some(4.0));
        assert_eq!(strategy.delta, Some(-2.0));
        assert!(strategy.dip);
        assert_eq!(strategy.sparkline, "  ▆ ▆▆▆▃");

        let data = &d.skills[1];
        assert_eq!(data.status, AnswerStatus::Skipped);
        assert_eq!((data.score, data.delta, data.dip), (None, None, false));
        assert_eq!(data.baseline, Some(4.0));

        let delivery = &d.skills[2];
        assert_eq!(delivery.status, AnswerStatus::Missing);
        assert_eq!(delivery.baseline, None);

        assert_eq!(d.dips, 1);
        assert_eq!(d.missed, vec![w(11)]);
        assert_eq!(d.paused, vec![w(9)]); // the window is W8–W15
        assert_eq!(d.streak, 4);
        assert_eq!(d.weeks_answered, 5);
    }

    #[test]
    fn while_the_baseline_builds_a_drop_of_two_against_the_previous_answered_week_is_flagged() {
        let fw = Framework {
            skills: vec![skill("strategy", false), skill("data", false)],
        };
        // strategy 3 then (a missed week) 1: flagged; data 3 then 2: not.
        let mut h = History::from_rows(&[
            (w(10), "strategy".into(), Some(3)),
            (w(10), "data".into(), Some(3)),
            (w(12), "strategy".into(), Some(1)),
            (w(12), "data".into(), Some(2)),
        ]);
        h.forms_sent = (10..=12).map(w).collect();
        let d = digest(&h, &fw, w(12), 1.0);
        let strategy = &d.skills[0];
        assert_eq!(strategy.baseline, None);
        assert_eq!(strategy.previous, Some((w(10), 3)));
        assert!(strategy.drop);
        assert!(!d.skills[1].drop);
        // Two scored weeks so far: two more before there is a baseline.
        assert_eq!(strategy.weeks_to_baseline, 2);
    }

    #[test]
    fn once_the_baseline_exists_a_fall_is_a_dip_not_a_drop() {
        let fw = Framework {
            skills: vec![skill("strategy", false)],
        };
        let h = scores("strategy", &[Some(4), Some(4), Some(4), Some(4), Some(2)]);
        let d = digest(&h, &fw, w(14), 1.0);
        let s = &d.skills[0];
        assert!(s.dip);
        assert!(!s.drop);
        assert_eq!(s.weeks_to_baseline, 0);
    }

    #[test]
    fn weeks_to_baseline_counts_the_scored_weeks_still_needed() {
        let h = scores("data", &[Some(3), None, Some(2)]);
        assert_eq!(weeks_to_baseline(&h, "data", w(10)), 3);
        assert_eq!(weeks_to_baseline(&h, "data", w(12)), 2);
        let h = scores("data", &[Some(3); 6]);
        assert_eq!(weeks_to_baseline(&h, "data", w(15)), 0);
    }

    #[test]
    fn digest_of_a_skipped_week_marks_every_skill_skipped() {
        let fw = Framework {
            skills: vec![skill("strategy", false), skill("data", false)],
        };
        let mut h = scores("strategy", &[Some(3); 4]);
        h.forms_sent.insert(w(14));
        h.skipped.insert(w(14));
        h.paused.insert(w(13));
        let d = digest(&h, &fw, w(14), 1.0);
        assert_eq!(d.status, WeekStatus::Skipped);
        assert!(d.skills.iter().all(|s| s.status == AnswerStatus::Skipped));
        assert_eq!(d.missed, vec![]);
        assert_eq!(d.streak, 4);
    }

    #[test]
    fn digest_lists_paused_weeks_apart_from_missed_ones() {
        let fw = Framework {
            skills: vec![skill("strategy", false)],
        };
        let mut h = scores("strategy", &[Some(3); 3]);
        h.forms_sent.insert(w(15));
        h.paused.extend([w(13), w(14)]);
        let d = digest(&h, &fw, w(15), 1.0);
        assert_eq!(d.status, WeekStatus::Missed);
        assert_eq!(d.paused, vec![w(13), w(14)]);
        assert_eq!(d.missed, vec![w(15)]);
        assert_eq!(d.streak, 0);
        assert_eq!(d.skills[0].status, AnswerStatus::Missing);
    }

    #[test]
    fn from_rows_keeps_the_last_row_for_a_week_and_skill() {
        let h = History::from_rows(&[
            (w(10), "data".into(), Some(2)),
            (w(10), "data".into(), Some(4)),
        ]);
        assert_eq!(h.score(w(10), "data"), Some(4));
        assert!(h.answered(w(10)));
        assert!(!h.answered(w(11)));
    }
}
