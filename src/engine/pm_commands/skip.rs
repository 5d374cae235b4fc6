//! `skip`: this week is skipped on purpose: no reminder, and the digest says so.

use super::Request;
use crate::engine::EngineError;
use crate::render::Ack;
use crate::schedule;
use crate::store::EventKind;

impl Request<'_, '_> {
    pub(super) fn skip(&self) -> Result<bool, EngineError> {
        let week = schedule::open_week(self.now, self.pm);
        let new = self.tx.skip_week(&self.pm.key, week, self.now)?;
        self.event(EventKind::Skip, Some(week), None)?;
        let next = schedule::form_at(self.pm, week.next()).max(self.now);
        if new {
            self.ack(Ack::Skipped, None, Some(week), Some(self.next_form(next)))
        } else {
            self.ack(Ack::AlreadySkipped, None, Some(week), None)
        }
    }
}
