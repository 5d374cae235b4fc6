//! `help`, and the answer to a word that looks like a command but is none: every command and how to answer a form.

use super::Request;
use crate::engine::EngineError;
use crate::render::{HelpView, SkillView};
use crate::store::EventKind;

impl Request<'_, '_> {
    pub(super) fn help(&self, unknown: Option<String>) -> Result<bool, EngineError> {
        self.event(EventKind::Help, None, None)?;
        let to = self.answer_to()?;
        let email = self.engine.renderer.help(&HelpView {
            service: to.service,
            pm: to.pm,
            id: to.id,
            in_reply_to: to.in_reply_to,
            references: to.references,
            skills: SkillView::active(&self.engine.config.framework),
            unknown,
            reply_to: to.reply_to,
            subject: to.subject,
            example_until: self.example_until(),
            date: self.now,
        })?;
        self.send("help", &email)
    }
}
