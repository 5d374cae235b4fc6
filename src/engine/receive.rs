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
        let dedup_key = match &u.message_id {
            Some(id) => format!("mid:{id}"),
            None => format!("sha256:{}", u.content_hash),
        };
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
