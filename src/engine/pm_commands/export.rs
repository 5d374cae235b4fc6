//! `export`: everything stored about the PM, as a CSV attachment.

use super::Request;
use crate::engine::EngineError;
use crate::render::{ExportExtras, ExportView};
use crate::store::EventKind;

impl Request<'_, '_> {
    pub(super) fn export(&self) -> Result<bool, EngineError> {
        // First, so the file lists this export too.
        self.event(EventKind::Export, None, None)?;
        let key = &self.pm.key;
        let rows = self.tx.export_rows(key)?;
        let extras = ExportExtras {
            pairings: self.tx.pairings(key)?,
            pauses: self.tx.pauses(key)?,
            skips: self.tx.skipped_weeks(key)?,
            actions: self.tx.actions_of(key)?,
            action_answers: self.tx.action_answers_of(key)?,
        };
        let csv = crate::render::export_csv(&rows, &extras)?;
        let local_date = self.now.with_timezone(&self.pm.timezone).date_naive();
        let email = self.engine.renderer.export(&ExportView {
            to: self.answer_to()?,
            filename: format!(
                "{}-export-{key}-{}.csv",
                slug(&self.engine.config.service.name),
                local_date.format("%Y-%m-%d")
            ),
            csv,
            answers: rows.answers.len(),
            corrections: rows
                .answers
                .iter()
                .filter(|a| a.superseded_at.is_some())
                .count(),
            notes: rows.notes.len(),
            forms: rows.forms.len(),
            events: rows.events.len(),
        })?;
        self.send("export", &email)
    }
}

/// `PM Pulse` → `pm-pulse`: the service name as a file name part.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "coachmail".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn service_name_becomes_a_file_name_part() {
        assert_eq!(slug("PM Pulse"), "pm-pulse");
        assert_eq!(slug("  Équipe / Produit  "), "quipe-produit");
        assert_eq!(slug("***"), "coachmail");
    }
}
