//! `pause`, `pause N weeks`, `pause until DATE`: no forms or reminders until then.

use chrono::{Duration, NaiveDate, NaiveTime};

use super::{DEFAULT_PAUSE_WEEKS, Request};
use crate::engine::EngineError;
use crate::render::Ack;
use crate::schedule;
use crate::store::EventKind;

impl Request<'_, '_> {
    pub(super) fn pause(
        &self,
        weeks: Option<u32>,
        until: Option<NaiveDate>,
    ) -> Result<bool, EngineError> {
        let end = match (weeks, until) {
            (_, Some(date)) => {
                // The start of that day in the PM's own zone: forms resume on it.
                let end = schedule::local_to_utc(self.pm.timezone, date.and_time(NaiveTime::MIN));
                if end <= self.now {
                    return self.ack(Ack::PauseInPast, Some(self.local(end)), None, None);
                }
                end
            }
            (Some(n), None) => self.now + Duration::weeks(i64::from(n)),
            (None, None) => self.now + Duration::weeks(i64::from(DEFAULT_PAUSE_WEEKS)),
        };
        // A pause has a longest length: a date past it is capped, and said.
        let cap = self.now + Duration::days(i64::from(self.engine.config.auth.max_pause_days));
        if end > cap {
            self.tx.pause(&self.pm.key, cap, self.now)?;
            self.event(EventKind::Pause, None, Some(cap))?;
            return self.ack(
                Ack::PauseCapped,
                Some(self.local(cap)),
                None,
                Some(self.next_form(cap)),
            );
        }
        self.tx.pause(&self.pm.key, end, self.now)?;
        self.event(EventKind::Pause, None, Some(end))?;
        self.ack(
            Ack::Paused,
            Some(self.local(end)),
            None,
            Some(self.next_form(end)),
        )
    }
}
