//! The inbound side of a step: one message → its understanding → stored
//! effects and the answer it deserves, in one transaction, once however
//! often it arrives.

use chrono::{DateTime, Duration, Utc};
use tracing::info;

use super::{Engine, EngineError, Receipt, pm_commands};
use crate::config::Pm;
use crate::render::ConfirmView;
use crate::store::{InboundRecord, Store, Tx};
use crate::understand::{self, Context, Kind, Understanding};
use crate::week::Week;

impl Engine {
    /// Reads one inbound message and applies it: effects and the answer it
    /// causes commit together, once per message however often it arrives.
    pub fn receive(
        &self,
        store: &mut Store,
        raw: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Receipt, EngineError> {
        let u = understand::understand(
            raw,
            &Context {
                config: &self.config,
                forms: &*store,
                now,
            },
        )?;
        let dedup_key = dedup_key(raw, &u);
        let sender_hash = sender_hash(raw);
        let span = tracing::info_span!(
            "inbound",
            msg = %&u.content_hash[..12.min(u.content_hash.len())],
            pm = u.pm.as_deref().unwrap_or("-"),
            week = %u.week.map(|w| w.to_string()).unwrap_or_else(|| "-".into()),
            kind = ?u.kind,
        );
        let _enter = span.enter();

        let tx = store.transaction()?;
        let mut receipt = Receipt {
            kind: u.kind,
            pm: u.pm.clone(),
            week: u.week,
            duplicate: false,
            answered: false,
            rate_limited: false,
        };
        if tx.inbound_seen(&dedup_key)? {
            info!("already seen; nothing applied again");
            receipt.duplicate = true;
            return Ok(receipt);
        }
        if let Some(hash) = &sender_hash {
            let recent = tx.count_inbound_from(hash, now - Duration::hours(1))?;
            receipt.rate_limited = recent >= self.config.auth.replies_per_sender_per_hour;
        }
        let inbound_id = tx.log_inbound(&InboundRecord {
            dedup_key: &dedup_key,
            pm: u.pm.as_deref(),
            kind: u.kind,
            reason: u.reason.as_deref(),
            week: u.week,
            sender_hash: sender_hash.as_deref(),
            received_at: now,
        })?;
        let pm = u.pm.as_deref().and_then(|k| self.config.pm(k));
        if let Some(pm) = pm {
            tx.keep_raw(inbound_id, raw, now)?;
            match u.kind {
                Kind::Assessment => {
                    if let Some(week) = u.week {
                        tx.record_answers(&pm.key, week, &u.scores, &u.skipped, inbound_id, now)?;
                        if let Some(note) = self.note_with_comments(&u) {
                            tx.record_note(&pm.key, week, &note, inbound_id, now)?;
                        }
                        if !receipt.rate_limited {
                            receipt.answered =
                                self.queue_confirmation(&tx, pm, week, &u, &dedup_key, now)?;
                        }
                    }
                }
                Kind::Command => {
                    if !receipt.rate_limited {
                        receipt.answered = pm_commands::apply(self, &tx, pm, &u, &dedup_key, now)?;
                    }
                }
                Kind::Ignored | Kind::Rejected => {}
            }
        }
        tx.commit()?;
        info!(
            answered = receipt.answered,
            rate_limited = receipt.rate_limited,
            "inbound applied"
        );
        Ok(receipt)
    }

    /// The note as stored: the PM's free text, then the comments written
    /// after scores (`Delivery: 4 shipped the beta`), one line per skill,
    /// so the coach sees them next to the rest.
    fn note_with_comments(&self, u: &Understanding) -> Option<String> {
        let mut parts: Vec<String> = u
            .note
            .iter()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect();
        for (key, comment) in &u.comments {
            let name = self
                .config
                .framework
                .skill(key)
                .map_or(key.as_str(), |s| s.name.as_str());
            parts.push(format!("{name}: {}", comment.trim()));
        }
        (!parts.is_empty()).then(|| parts.join("\n"))
    }

    fn queue_confirmation(
        &self,
        tx: &Tx<'_>,
        pm: &Pm,
        week: Week,
        u: &Understanding,
        dedup_key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, EngineError> {
        let reply_to = tx
            .reply_key_for(&pm.key, week)?
            .map(|k| crate::render::reply_address(&self.config.service.address, &k));
        let view = ConfirmView::new(
            self.service(),
            Self::mailbox(pm),
            week,
            u,
            &self.config.framework,
            reply_to,
            now,
        );
        let mut view = view;
        if !view
            .in_reply_to
            .as_deref()
            .is_none_or(crate::render::is_message_id)
        {
            view.in_reply_to = None;
            view.references.clear();
        }
        let email = self.renderer.confirm(&view)?;
        self.enqueue_answer(tx, "confirm", pm, &email, dedup_key, now)
    }
}

/// A content-free handle on the sender for the rate limit: SHA-256 of the
/// lower-cased From address.
fn sender_hash(raw: &[u8]) -> Option<String> {
    let headers = mail_parser::MessageParser::new().parse_headers(raw)?;
    let from = headers.from()?.first()?.address()?.to_ascii_lowercase();
    Some(understand::content_hash(from.as_bytes()))
}

/// What makes two deliveries "the same message": the Message-ID, compared
/// as its raw bytes — two ids that differ only in bytes a decoder would
/// replace are two messages, never merged — or, without one, the content
/// hash. Ids that are clean text keep their readable key.
fn dedup_key(raw: &[u8], u: &Understanding) -> String {
    match (raw_message_id(raw), &u.message_id) {
        (Some(bytes), _) if std::str::from_utf8(bytes).is_err() => {
            format!("mid-bytes:{}", understand::content_hash(bytes))
        }
        (_, Some(id)) => format!("mid:{id}"),
        _ => format!("sha256:{}", u.content_hash),
    }
}

/// The raw value of the first Message-ID header (folded lines included),
/// trimmed; `None` without one.
fn raw_message_id(raw: &[u8]) -> Option<&[u8]> {
    let end = raw
        .windows(2)
        .position(|w| w == b"\n\n")
        .or_else(|| raw.windows(4).position(|w| w == b"\r\n\r\n"))
        .unwrap_or(raw.len());
    let head = &raw[..end];
    let mut start = 0;
    while start < head.len() {
        let line_end = head[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(head.len(), |p| start + p);
        let line = &head[start..line_end];
        if line.len() >= 11 && line[..11].eq_ignore_ascii_case(b"message-id:") {
            // The value runs on over folded (indented) lines.
            let mut value_end = line_end;
            while value_end + 1 < head.len() && matches!(head[value_end + 1], b' ' | b'\t') {
                value_end = head[value_end + 1..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(head.len(), |p| value_end + 1 + p);
            }
            return Some(head[start + 11..value_end].trim_ascii());
        }
        start = line_end + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::raw_message_id;

    #[test]
    fn the_raw_message_id_is_found_with_its_bytes() {
        let raw = b"From: a@b\r\nMessage-ID: <a\xff@x>\r\nSubject: s\r\n\r\nbody\r\n";
        assert_eq!(raw_message_id(raw), Some(&b"<a\xff@x>"[..]));
        let folded = b"Message-Id:\r\n <long@x>\r\n\r\n";
        assert_eq!(raw_message_id(folded), Some(&b"<long@x>"[..]));
        assert_eq!(
            raw_message_id(b"From: a@b\r\n\r\nMessage-ID: <in-body@x>\r\n"),
            None
        );
    }
}
