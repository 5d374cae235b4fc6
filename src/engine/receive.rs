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

/// Answers to unverified commands naming one PM, per hour: enough for the
/// PM, too few for anyone to flood their mailbox in their name.
pub const UNVERIFIED_ANSWERS_PER_HOUR: u32 = 3;

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
        let sender = sender_address(raw);
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
            forgotten: None,
        };
        if tx.inbound_seen(&dedup_key)? {
            info!("already seen; nothing applied again");
            receipt.duplicate = true;
            return Ok(receipt);
        }
        // Keyed: a dictionary of addresses does not reverse it.
        let sender_hash = match &sender {
            Some(address) => Some(keyed_hash(&tx.install_secret()?, address.as_bytes())),
            None => None,
        };
        let hour_ago = now - Duration::hours(1);
        // A coach's accepted reply counts in the budget of the PM it is
        // about (logged under that PM).
        let authorized = matches!(u.kind, Kind::Assessment | Kind::Command | Kind::CoachReply);
        match (authorized, u.pm.as_deref(), &sender_hash) {
            // A PM's budget counts only what passed authorization as theirs:
            // forged mail in their name never uses it up.
            (true, Some(pm), _) => {
                let recent = tx.count_authorized_from(pm, hour_ago)?;
                receipt.rate_limited = recent >= self.config.auth.replies_per_sender_per_hour;
            }
            // Refused and ignored mail has its own budget per sender.
            (false, _, Some(hash)) => {
                let recent = tx.count_refused_from(hash, hour_ago)?;
                receipt.rate_limited = recent >= self.config.auth.refused_per_sender_per_hour;
            }
            _ => {}
        }
        let inbound_id = tx.log_inbound(&InboundRecord {
            dedup_key: &dedup_key,
            pm: u.pm.as_deref(),
            kind: u.kind,
            reason: u
                .reason_code
                .or((u.kind == Kind::CoachReply).then_some("coach")),
            week: u.week,
            sender_hash: sender_hash.as_deref(),
            received_at: now,
        })?;
        let pm = u.pm.as_deref().and_then(|k| self.config.pm(k));
        if let Some(pm) = pm
            && authorized
        {
            // Only mail that counts keeps a raw copy (until retention).
            tx.keep_raw(inbound_id, raw, now)?;
            match u.kind {
                Kind::Assessment => {
                    if let Some(week) = u.week {
                        tx.record_answers(&pm.key, week, &u.scores, &u.skipped, inbound_id, now)?;
                        let mut u = u.clone();
                        // Answers to the pairing's open actions: `done`
                        // closes one; an action closed meanwhile takes none.
                        let mut recorded = Vec::new();
                        for a in std::mem::take(&mut u.action_answers) {
                            let comment = a
                                .comment
                                .as_deref()
                                .map(|c| note_as_data(c, self.config.auth.max_note_bytes).0);
                            if tx.record_action_answer(&crate::store::NewActionAnswer {
                                action: a.action,
                                pairing: a.pairing,
                                pm: &pm.key,
                                week,
                                answer: a.status,
                                comment: comment.as_deref(),
                                inbound_id,
                                at: now,
                            })? {
                                recorded.push(understand::ActionAnswered { comment, ..a });
                            }
                        }
                        u.action_answers = recorded;
                        u.note = u.note.map(|n| note_as_data(&n, usize::MAX).0);
                        if let Some(note) = self.note_with_comments(&u) {
                            let (note, cut) = note_as_data(&note, self.config.auth.max_note_bytes);
                            tx.record_note(&pm.key, week, &note, inbound_id, now)?;
                            if cut > 0 {
                                u.invalid.push(crate::understand::Invalid {
                                    line: "(your note)".into(),
                                    reason: format!(
                                        "notes are kept up to {} bytes: the last {cut} bytes were not stored",
                                        self.config.auth.max_note_bytes
                                    ),
                                });
                            }
                        }
                        if !receipt.rate_limited {
                            let subject = subject_of(raw);
                            receipt.answered = self.queue_confirmation(
                                &tx,
                                pm,
                                week,
                                &u,
                                &dedup_key,
                                subject.as_deref(),
                                now,
                            )?;
                        }
                    }
                }
                Kind::Command => {
                    // What a PM controls is always applied and answered.
                    let always = u.command.as_ref().is_some_and(|c| c.always_answered());
                    if always || !receipt.rate_limited {
                        // What the edges hold of the PM, read before a forget.
                        let traces = match &u.command {
                            Some(understand::Command::Forget { token: Some(_) }) => {
                                Some(tx.traces_of(&pm.key)?)
                            }
                            _ => None,
                        };
                        let subject = subject_of(raw);
                        receipt.answered = pm_commands::apply(
                            self,
                            &tx,
                            pm,
                            &u,
                            &dedup_key,
                            subject.as_deref(),
                            now,
                        )?;
                        if let Some((mut inbound, outbox)) = traces
                            && tx.pm_forgotten(&pm.key)?
                        {
                            inbound.push(dedup_key.clone());
                            receipt.forgotten = Some(super::Forgotten { inbound, outbox });
                        }
                    }
                }
                Kind::CoachReply => {
                    if let (Some(coach), Some(pairing)) = (
                        u.coach.as_deref().and_then(|k| self.config.coach(k)),
                        u.pairing,
                    ) {
                        let subject = subject_of(raw);
                        receipt.answered = self.apply_coach_reply(
                            &tx,
                            &CoachMessage {
                                coach,
                                pm,
                                pairing,
                                inbound_id,
                                dedup_key: &dedup_key,
                                subject: subject.as_deref(),
                                rate_limited: receipt.rate_limited,
                            },
                            &u,
                            now,
                        )?;
                    }
                }
                Kind::Ignored | Kind::Rejected => {}
            }
        }
        // A fresh command from a registered PM's address that nothing
        // verifies, or a coach's mail that could not be tied to one of their
        // open digests: answered at the registered address
        // only (so a forged request reveals nothing), within the refused
        // budget of the sender.
        if u.kind == Kind::Rejected && !receipt.rate_limited {
            let subject = subject_of(raw);
            if let (Some(cmd), Some(pm)) =
                (&u.command, u.pm.as_deref().and_then(|k| self.config.pm(k)))
                && tx.count_refused_naming(&pm.key, "unverified-command", hour_ago)?
                    <= UNVERIFIED_ANSWERS_PER_HOUR
            {
                receipt.answered = if cmd.read_only() {
                    pm_commands::apply(self, &tx, pm, &u, &dedup_key, subject.as_deref(), now)?
                } else {
                    pm_commands::needs_reply_key(
                        self,
                        &tx,
                        pm,
                        &u,
                        &dedup_key,
                        subject.as_deref(),
                        now,
                    )?
                };
            } else if let Some(coach) = u.coach.as_deref().and_then(|k| self.config.coach(k)) {
                receipt.answered = if u.coach_command.is_some() {
                    let subject = subject_of(raw);
                    super::coach_commands::apply(
                        self,
                        &tx,
                        coach,
                        &u,
                        &dedup_key,
                        subject.as_deref(),
                        now,
                    )?
                } else {
                    pm_commands::coach_reply_not_read(self, &tx, coach, &u, &dedup_key, now)?
                };
            }
        }
        // The PM's own key of a closed form: told politely, nothing stored.
        if let (Some(pm), Some(week)) = (
            u.pm.as_deref().and_then(|k| self.config.pm(k)),
            u.closed_form,
        ) && !receipt.rate_limited
        {
            let subject = subject_of(raw);
            receipt.answered = pm_commands::form_closed(
                self,
                &tx,
                pm,
                &u,
                week,
                &dedup_key,
                subject.as_deref(),
                now,
            )?;
        }
        tx.commit()?;
        // Every refused or ignored message says why, in a content-free code.
        match (u.kind, u.reason_code) {
            (Kind::Rejected, code) => info!(
                reason = code.unwrap_or("refused"),
                answered = receipt.answered,
                "inbound refused"
            ),
            (Kind::Ignored, code) => info!(reason = code.unwrap_or("ignored"), "inbound ignored"),
            _ if receipt.rate_limited => info!(
                reason = "rate-limited",
                answered = receipt.answered,
                "inbound applied, answer held back"
            ),
            _ => info!(answered = receipt.answered, "inbound applied"),
        }
        Ok(receipt)
    }

    /// The note as stored: the PM's free text, then the comments written
    /// after scores (`Delivery: 4 shipped the beta`), one `{skill name}:
    /// {comment}` line per skill, which the digest shows beside the skill.
    fn note_with_comments(&self, u: &Understanding) -> Option<String> {
        let mut parts: Vec<String> = u
            .note
            .iter()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect();
        // In framework order; the digest finds each beside its skill again.
        for skill in &self.config.framework.skills {
            if let Some(comment) = u.comments.get(&skill.key) {
                parts.push(format!("{}: {}", skill.name, comment.trim()));
            }
        }
        (!parts.is_empty()).then(|| parts.join("\n"))
    }

    #[allow(clippy::too_many_arguments)]
    fn queue_confirmation(
        &self,
        tx: &Tx<'_>,
        pm: &Pm,
        week: Week,
        u: &Understanding,
        dedup_key: &str,
        subject: Option<&str>,
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
        )
        .with_week_answers(&week_answers(tx, &pm.key, week)?, &self.config.framework);
        let mut view = view;
        // `Re:` the PM's own subject: the confirmation threads with whatever
        // they replied to (the form or its reminder).
        view.subject = subject.and_then(crate::render::reply_subject);
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

/// The week's answers as stored (this reply's included), oldest first,
/// for the confirmation.
fn week_answers(
    tx: &Tx<'_>,
    pm: &str,
    week: Week,
) -> Result<Vec<crate::render::WeekAnswer>, EngineError> {
    Ok(tx
        .answer_history(pm, week)?
        .into_iter()
        .map(|a| crate::render::WeekAnswer {
            skill: a.skill,
            score: a.score,
            current: a.superseded_at.is_none(),
        })
        .collect())
}

/// The key a message is logged under (its Message-ID, or its content hash),
/// computed from its bytes alone: how the edges find a logged message again.
pub fn dedup_key_of(raw: &[u8]) -> String {
    if let Some(bytes) = raw_message_id(raw)
        && std::str::from_utf8(bytes).is_err()
    {
        return format!("mid-bytes:{}", understand::content_hash(bytes));
    }
    let id = mail_parser::MessageParser::new()
        .parse_headers(raw)
        .and_then(|m| m.message_id().map(|id| id.trim().to_string()))
        .filter(|id| !id.is_empty() && id.len() <= 998);
    match id {
        Some(id) => format!("mid:{id}"),
        None => format!("sha256:{}", understand::content_hash(raw)),
    }
}

/// A note made safe to show: control, bidi and line/paragraph separator
/// characters dropped (line breaks and tabs kept), then cut at a character
/// boundary to `max` bytes. Returns the note and how many bytes were cut.
pub(crate) fn note_as_data(note: &str, max: usize) -> (String, usize) {
    let clean: String = note
        .chars()
        .filter(|&c| {
            c == '\n'
                || c == '\t'
                || !(c.is_control()
                    || matches!(c,
                        '\u{200B}'..='\u{200F}'
                        | '\u{2028}'..='\u{202E}'
                        | '\u{2060}'..='\u{2069}'
                        | '\u{061C}'
                        | '\u{FEFF}'
                        | '\u{FFF9}'..='\u{FFFB}'))
        })
        .collect();
    if clean.len() <= max {
        return (clean, 0);
    }
    let mut end = max;
    while !clean.is_char_boundary(end) {
        end -= 1;
    }
    (clean[..end].to_string(), clean.len() - end)
}

/// The message's Subject, decoded, if it has one (the answer to a
/// command says `Re:` it).
fn subject_of(raw: &[u8]) -> Option<String> {
    let headers = mail_parser::MessageParser::new().parse_headers(raw)?;
    headers.subject().map(str::to_string)
}

/// The sender's one address, lower-cased, when the From header is sound
/// (see [`understand::authorize::from_address`]).
fn sender_address(raw: &[u8]) -> Option<String> {
    let headers = mail_parser::MessageParser::new().parse_headers(raw)?;
    understand::authorize::from_address(&headers).ok()
}

/// HMAC-SHA256 (RFC 2104) of `data` under `key`, hex: the content-free
/// handle on a sender for the rate limit.
pub(crate) fn keyed_hash(key: &[u8], data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(data);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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

/// What [`Engine::apply_coach_reply`] was given besides the message.
pub(super) struct CoachMessage<'a> {
    pub coach: &'a crate::config::Coach,
    pub pm: &'a Pm,
    pub pairing: i64,
    pub inbound_id: i64,
    pub dedup_key: &'a str,
    pub subject: Option<&'a str>,
    /// Over the hourly budget: stored, the coach's confirmation held back.
    pub rate_limited: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn notes_lose_bidi_controls_and_separators_and_are_cut_at_a_char_boundary() {
        let (n, cut) = note_as_data("a\u{202E}b\u{2066}c\u{2028}d\u{7}e\nf\tg", 100);
        assert_eq!((n.as_str(), cut), ("abcde\nf\tg", 0));
        let (n, cut) = note_as_data("éééé", 3);
        assert_eq!((n.as_str(), cut), ("é", 6));
    }

    #[test]
    fn keyed_hash_matches_rfc4231_test_case_2() {
        assert_eq!(
            keyed_hash(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
