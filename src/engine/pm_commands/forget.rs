//! `forget`: two messages. The request sends a one-time code; only a reply carrying that code, from the PM it was issued to, deletes every row about the PM.

use chrono::Duration;
use tracing::info;

use super::{FORGET_CODE_HOURS, Request};
use crate::engine::EngineError;
use crate::render::{Ack, AnswerTo, ForgetConfirmView, ForgottenView};
use crate::store::{EventKind, InboundRecord};
use crate::understand::Kind;

impl Request<'_, '_> {
    pub(super) fn forget_request(&self) -> Result<bool, EngineError> {
        let token = self.engine.new_secret()?;
        let expires = self.now + Duration::hours(FORGET_CODE_HOURS);
        self.tx
            .create_forget_token(&self.pm.key, &token, expires, self.now)?;
        self.event(EventKind::ForgetRequested, None, Some(expires))?;
        let email = self.engine.renderer.forget_confirm(&ForgetConfirmView {
            to: self.answer_to()?,
            token,
            expires: self.local(expires),
        })?;
        self.send("forget", &email)
    }

    pub(super) fn forget_confirm(&self, token: &str) -> Result<bool, EngineError> {
        let token = token.trim().to_ascii_lowercase();
        if !self
            .tx
            .redeem_forget_token(&self.pm.key, &token, self.now)?
        {
            info!(pm = %self.pm.key, "forget code refused; nothing deleted");
            return self.ack(Ack::ForgetInvalid, None, None, None);
        }
        // Built before the delete: it needs nothing from the store after.
        let email = self.engine.renderer.forgotten(&ForgottenView {
            to: AnswerTo {
                // No reply key: the forms it belonged to are gone.
                reply_to: None,
                ..self.answer_to()?
            },
        })?;
        self.tx.forget_pm(&self.pm.key, self.now)?;
        // The delete took this message's log row too: log it again, without
        // the PM or sender, so a redelivery is seen as a duplicate.
        self.tx.log_inbound(&InboundRecord {
            dedup_key: self.dedup_key,
            pm: None,
            kind: Kind::Command,
            reason: None,
            week: None,
            sender_hash: None,
            received_at: self.now,
        })?;
        self.send("forgotten", &email)
    }
}
