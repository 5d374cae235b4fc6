//! `resume`: ends a pause; forms again from the next one.

use super::Request;
use crate::engine::EngineError;
use crate::render::Ack;
use crate::store::EventKind;

impl Request<'_, '_> {
    pub(super) fn resume(&self) -> Result<bool, EngineError> {
        let was_paused = self.tx.resume(&self.pm.key, self.now)?;
        self.event(EventKind::Resume, None, None)?;
        let what = if was_paused {
            Ack::Resumed
        } else {
            Ack::NotPaused
        };
        let next = self.next_form(self.now);
        let next = match self.tx.active_pause(&self.pm.key, next)? {
            Some(p) => self.next_form(p.until),
            None => next,
        };
        self.ack(what, None, None, Some(next))
    }
}
