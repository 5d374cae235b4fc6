//! Pure: everything stored about one PM → the CSV file `export` attaches.
//!
//! Owns the file's columns. One table, one row per stored fact, a header
//! row first, RFC 4180 quoting (a note with commas, quotes or line breaks
//! survives a round trip through any CSV reader):
//!
//! | column  | meaning |
//! | ------- | ------- |
//! | record  | `account`, `pairing`, `form`, `answer`, `note`, `action`, `action_answer`, `pause`, `skip`, `command` |
//! | week    | ISO week (`2026-W48`) the row is about, if any |
//! | skill   | skill key (`answer`) |
//! | score   | `1`–`5`, or `n/a` when skipped on purpose (`answer`) |
//! | current | `yes` for the answer in force, `no` for one a correction replaced; an action's state: `open`, `done`, `dropped`; the PM's answer to an action: `done`, `partly`, `not_yet` |
//! | text    | the note (`note`), the coach key (`pairing`), the command (`command`), the agreed action (`action`), the action and the PM's comment after ` — ` (`action_answer`) |
//! | at      | when it happened, UTC, RFC 3339 |
//! | until   | when it ended: correction time, pause end, pairing end, action closed |
//!
//! Never includes secrets: no reply keys, no forget codes. Never a coach's
//! private note: those are the coach's, not the PM's.

use std::collections::BTreeSet;

use chrono::{DateTime, SecondsFormat, Utc};

use super::RenderError;
use crate::store::{Export, Pairing, Pause};
use crate::week::Week;

/// The header row, in order.
pub const COLUMNS: [&str; 8] = [
    "record", "week", "skill", "score", "current", "text", "at", "until",
];

/// What the export holds besides [`Export`]: roster and pause history.
#[derive(Clone, Debug, Default)]
pub struct ExportExtras {
    pub pairings: Vec<Pairing>,
    pub pauses: Vec<Pause>,
    pub skips: BTreeSet<Week>,
    /// The actions agreed with the PM's coaches, every pairing.
    pub actions: Vec<crate::store::ActionRow>,
    /// The PM's answers to those actions, oldest first.
    pub action_answers: Vec<crate::store::ActionAnswerRow>,
}

/// The CSV bytes (UTF-8, CRLF line ends).
/// A cell a spreadsheet will not run: text starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading `'` (OWASP's advice for
/// CSV injection); the CSV quoting itself is the writer's.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

pub fn export_csv(export: &Export, extras: &ExportExtras) -> Result<Vec<u8>, RenderError> {
    // A UTF-8 byte order mark, so spreadsheets read accents right.
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    let err = |e: csv::Error| RenderError::Message(format!("cannot write the export: {e}"));
    w.write_record(COLUMNS).map_err(err)?;
    let mut row = |record: &str,
                   week: Option<Week>,
                   skill: &str,
                   score: &str,
                   current: &str,
                   text: &str,
                   at: Option<DateTime<Utc>>,
                   until: Option<DateTime<Utc>>|
     -> Result<(), RenderError> {
        w.write_record([
            record,
            &week.map(|w| w.to_string()).unwrap_or_default(),
            &cell(skill),
            score,
            current,
            &cell(text),
            &time(at),
            &time(until),
        ])
        .map_err(err)
    };
    if let Some(since) = export.since {
        row("account", None, "", "", "", "", Some(since), None)?;
    }
    for p in &extras.pairings {
        row(
            "pairing",
            None,
            "",
            "",
            "",
            &p.coach,
            Some(p.since),
            p.until,
        )?;
    }
    for f in &export.forms {
        row("form", Some(f.week), "", "", "", "", Some(f.sent_at), None)?;
    }
    for a in &export.answers {
        let score = a.score.map_or_else(|| "n/a".to_string(), |s| s.to_string());
        let current = if a.superseded_at.is_none() {
            "yes"
        } else {
            "no"
        };
        row(
            "answer",
            Some(a.week),
            &a.skill,
            &score,
            current,
            "",
            Some(a.received_at),
            a.superseded_at,
        )?;
    }
    for n in &export.notes {
        row(
            "note",
            Some(n.week),
            "",
            "",
            "",
            &n.text,
            Some(n.received_at),
            None,
        )?;
    }
    for a in &extras.actions {
        row(
            "action",
            None,
            "",
            "",
            a.state.as_str(),
            &a.text,
            Some(a.created_at),
            a.closed_at,
        )?;
    }
    for a in &extras.action_answers {
        let action = extras
            .actions
            .iter()
            .find(|x| x.id == a.action)
            .map_or("", |x| x.text.as_str());
        let text = match &a.comment {
            Some(c) => format!("{action} — {c}"),
            None => action.to_string(),
        };
        row(
            "action_answer",
            Some(a.week),
            "",
            "",
            a.answer.as_str(),
            &text,
            Some(a.received_at),
            None,
        )?;
    }
    for p in &extras.pauses {
        let end = p.resumed_at.map_or(p.until, |r| r.min(p.until));
        row("pause", None, "", "", "", "", Some(p.starts_at), Some(end))?;
    }
    for week in &extras.skips {
        row("skip", Some(*week), "", "", "", "", None, None)?;
    }
    for e in &export.events {
        row(
            "command",
            e.week,
            "",
            "",
            "",
            e.kind.as_str(),
            Some(e.at),
            e.until,
        )?;
    }
    w.into_inner()
        .map_err(|e| RenderError::Message(format!("cannot write the export: {e}")))
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}
