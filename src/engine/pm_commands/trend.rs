//! `trend [skill] [weeks]`: the PM's own history, every skill or one, as a
//! table, sparklines and charts, and their actions from their 1:1s in the
//! run (open ones of the current pairing, and ones closed in the run, each
//! with the PM's newest answer). Never a coach's private note.

use super::Request;
use crate::analysis;
use crate::engine::EngineError;
use crate::render::{TrendAction, TrendSkill, TrendView};
use crate::schedule;
use crate::store::EventKind;

impl Request<'_, '_> {
    pub(super) fn trend(&self, skill: Option<&str>, weeks: u32) -> Result<bool, EngineError> {
        self.event(EventKind::Trend, None, None)?;
        let framework = &self.engine.config.framework;
        let upto = schedule::open_week(self.now, self.pm);
        let skills: Vec<&str> = match skill {
            Some(key) => vec![key],
            None => framework.skills.iter().map(|s| s.key.as_str()).collect(),
        };
        let history = self
            .engine
            .trend_history_in(self.tx, self.pm, upto, weeks, None, &skills)?;
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
            about: None,
            actions: self.trend_actions(upto.plus(1 - i64::from(weeks)))?,
        })?;
        self.send("trend", &email)
    }
}

impl Request<'_, '_> {
    /// The PM's actions `trend` shows for a run starting at `from`: the
    /// current pairing's open ones, and any closed since `from` began.
    fn trend_actions(&self, from: crate::week::Week) -> Result<Vec<TrendAction>, EngineError> {
        let key = &self.pm.key;
        let current = self.tx.current_pairing(key)?.map(|p| p.id);
        let start = from
            .monday()
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(self.pm.timezone).earliest())
            .map(|t| t.with_timezone(&chrono::Utc));
        let answers = self.tx.action_answers_of(key)?;
        let max_note = self.engine.config.auth.max_note_bytes;
        let clean = |t: &str| crate::engine::receive::note_as_data(t, max_note).0;
        Ok(self
            .tx
            .actions_of(key)?
            .into_iter()
            .filter(|a| match a.closed_at {
                None => Some(a.pairing) == current,
                Some(closed) => start.is_none_or(|s| closed >= s),
            })
            .map(|a| {
                let latest = answers.iter().rev().find(|x| x.action == a.id);
                TrendAction {
                    text: clean(&a.text),
                    status: a.state.as_str().to_string(),
                    agreed: a
                        .created_at
                        .with_timezone(&self.pm.timezone)
                        .format("%-d %b")
                        .to_string(),
                    answer: latest.map(|x| x.answer.words().to_string()),
                    comment: latest.and_then(|x| x.comment.as_deref()).map(clean),
                }
            })
            .collect())
    }
}
