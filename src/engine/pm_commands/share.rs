//! `share history`: the PM shows the weeks written for earlier coaches to
//! their current coach, who is told so in the next digest. Without it a new
//! coach sees only the weeks from their own pairing on.

use super::Request;
use crate::engine::EngineError;
use crate::render::Ack;
use crate::store::EventKind;

impl Request<'_, '_> {
    pub(super) fn share_history(&self) -> Result<bool, EngineError> {
        self.tx
            .share_history(&self.pm.key, &self.pm.coach, self.now)?;
        self.event(EventKind::ShareHistory, None, None)?;
        self.ack(Ack::HistoryShared, None, None, None)
    }
}
