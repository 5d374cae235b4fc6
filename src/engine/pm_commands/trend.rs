//! `trend [skill] [weeks]`: the PM's own history, every skill or one, as a table, sparklines and charts.

use super::Request;
use crate::analysis;
use crate::engine::EngineError;
use crate::render::{TrendSkill, TrendView};
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
        })?;
        self.send("trend", &email)
    }
}
