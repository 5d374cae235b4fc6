//! Understanding one inbound message: raw bytes in, an [`Understanding`] out.
//!
//! Pure: no clock (the caller passes `now`), no database (known forms come
//! in through the [`Forms`] lookup), no network, no logging of content. Junk
//! in gives a `rejected` or `ignored` value with a reason, never a panic.
//!
//! The steps, one module each:
//!
//! * [`mime`] — limits, then mail-parser → the reply's text (HTML → text
//!   keeping quotes as `> ` lines).
//! * [`classify`] — machines' mail (auto-replies, bounces, lists) and
//!   command words.
//! * [`authorize`] — sender, reply key, thread, DMARC policy → PM and week.
//! * [`quotes`] — quotes, attributions, signatures, footers → the PM's own
//!   lines (inline answers in the quoted form kept).
//! * [`grammar`] — own lines → scores, skips, comments, problems, note.
//! * [`coach::read_action_answers`] — own lines → the PM's answers to the
//!   open actions of their current pairing (asked by the form as
//!   `<action>: done / partly / not yet`; the lines it reads are not the
//!   note and not score lines).
//! * [`coach`] — a coach's own lines → actions, drops, private note, 1:1
//!   changes (a coach's reply is authorized by [`authorize::coach`]: the
//!   digest's live key, the coach its pairing names, the pairing current).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{Auth, Config};
use crate::week::Week;

pub use command::Command;

pub mod authorize;
pub mod classify;
pub mod coach;
pub mod coach_command;
pub mod command;
pub mod grammar;
pub mod mime;
pub mod quotes;
pub mod text;

/// What a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Answers (and/or a note) for a week's form.
    Assessment,
    /// A command such as `trend` or `pause 2 weeks`.
    Command,
    /// A machine's mail (auto-reply, bounce, list): recorded, never answered.
    Ignored,
    /// Not accepted: unknown sender, failed authorization, unreadable.
    Rejected,
    /// A coach's reply to a digest, with that digest's live key, from the
    /// coach its pairing names: agreed actions, drops, a private note, 1:1
    /// changes.
    #[serde(rename = "coach_reply")]
    CoachReply,
}

/// An answer line that was not stored, and why, in words a PM understands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invalid {
    /// The PM's line as written.
    pub line: String,
    pub reason: String,
}

/// The verdict on one message. Serialized, this is `coachmail parse`'s JSON line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Understanding {
    pub kind: Kind,
    /// Key of the PM it came from, when the sender is a registered PM.
    pub pm: Option<String>,
    /// The week it answers (assessments).
    pub week: Option<Week>,
    /// Valid scores by skill key.
    pub scores: BTreeMap<String, u8>,
    /// The comment written after a valid score or skip (`Delivery: 4 shipped
    /// the beta`), by skill key. Not part of the note.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub comments: BTreeMap<String, String>,
    /// Skills skipped on purpose (`n/a`, `-`, `skip`).
    pub skipped: Vec<String>,
    pub invalid: Vec<Invalid>,
    /// Active skills neither scored nor skipped.
    pub missing: Vec<String>,
    /// Everything the PM wrote that is not an answer line; `None` when empty.
    pub note: Option<String>,
    /// The PM's own new text: quotes and signature removed, answer lines kept.
    pub reply_text: String,
    pub command: Option<Command>,
    /// Why it was ignored or rejected.
    pub reason: Option<String>,
    /// The same, as a short content-free code for logs and the inbound log
    /// (`no-reply-key`, `unknown-sender`, `dmarc-fail`, `auto-reply`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<&'static str>,
    /// The message's Message-ID (without angle brackets), if any.
    pub message_id: Option<String>,
    /// Hex SHA-256 of the raw bytes: the dedup key when there is no Message-ID.
    pub content_hash: String,
    /// The week of the PM's own form whose reply key has expired (refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_form: Option<Week>,
    /// The coach whose registered address sent this (refused: a coach's
    /// mail is not read as a PM's; they are told so).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coach: Option<String>,
    /// The pairing (store row id) a coach's accepted reply is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairing: Option<i64>,
    /// What the coach wrote, read (a coach's accepted reply only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coach_reply: Option<coach::CoachReply>,
    /// A coach's command in a fresh message from their registered address
    /// (`pms`, `trend <pm>`, `help`): refused as a reply, answered at that
    /// address only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coach_command: Option<coach_command::CoachCommand>,
    /// The PM's answers to the open actions of their current pairing
    /// (problems with them are in `invalid`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub action_answers: Vec<ActionAnswered>,
}

/// An open action a PM's form asks about, as the store knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AskedAction {
    /// The action's store row id.
    pub id: i64,
    /// The pairing it was agreed in (the PM's current one).
    pub pairing: i64,
    pub text: String,
}

/// A PM's answer to one open action, read from their reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActionAnswered {
    /// The action's store row id.
    pub action: i64,
    pub pairing: i64,
    /// The action as agreed.
    pub text: String,
    pub status: coach::ActionStatus,
    /// What the PM wrote after the answer word, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A form that was sent, as the store knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormRef {
    pub pm: String,
    pub week: Week,
}

/// A digest that was sent, as the store knows it: whose, in which pairing,
/// until when its reply key works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestRef {
    pub pm: String,
    pub coach: String,
    /// The pairing (store row id) the digest was sent in.
    pub pairing: i64,
    pub week: Week,
    pub expires_at: DateTime<Utc>,
    /// The pairing is still the PM's current one.
    pub current: bool,
}

/// A lookup the store could not answer (busy, disk, corruption). The
/// message must then be left for a retry, never judged on a guess: a keyed
/// reply read as "no such form" would be refused and lost.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot look up the forms sent: {0}")]
pub struct LookupError(pub String);

/// What `understand` may ask about forms already sent. The store implements
/// it; tests, benches and the fuzz target use [`MemoryForms`].
pub trait Forms {
    /// The form whose secret reply key this is.
    fn by_reply_key(&self, key: &str) -> Result<Option<FormRef>, LookupError>;
    /// The form sent with this Message-ID (without angle brackets).
    fn by_message_id(&self, message_id: &str) -> Result<Option<FormRef>, LookupError>;
    /// The newest week whose form was sent to `pm`: a fresh message lands there.
    fn latest_week(&self, pm: &str) -> Result<Option<Week>, LookupError>;
    /// The digest whose secret reply key this is.
    fn digest_by_reply_key(&self, key: &str) -> Result<Option<DigestRef>, LookupError>;
    /// The open actions of `pm`'s current pairing, oldest first: what a
    /// reply from them may answer (never an earlier pairing's).
    fn asked_actions(&self, pm: &str) -> Result<Vec<AskedAction>, LookupError>;
}

/// Forms held in memory: the one lookup tests, benches and the fuzz target
/// share. Empty, it knows no form (`coachmail parse` without a database).
#[derive(Clone, Debug, Default)]
pub struct MemoryForms {
    by_key: BTreeMap<String, FormRef>,
    by_message_id: BTreeMap<String, FormRef>,
    digests: BTreeMap<String, DigestRef>,
    actions: Vec<(String, AskedAction)>,
}

impl MemoryForms {
    pub fn new() -> MemoryForms {
        MemoryForms::default()
    }

    /// Knows the form of `pm` for `week` by its reply key.
    pub fn with_form(mut self, key: &str, pm: &str, week: Week) -> MemoryForms {
        self.by_key.insert(
            key.to_string(),
            FormRef {
                pm: pm.to_string(),
                week,
            },
        );
        self
    }

    /// Knows the form of `pm` for `week` by the Message-ID it was sent with.
    pub fn with_message_id(mut self, message_id: &str, pm: &str, week: Week) -> MemoryForms {
        self.by_message_id.insert(
            message_id.to_string(),
            FormRef {
                pm: pm.to_string(),
                week,
            },
        );
        self
    }
}

impl MemoryForms {
    /// Knows an open action of `pm`'s current pairing.
    pub fn with_action(mut self, pm: &str, action: AskedAction) -> MemoryForms {
        self.actions.push((pm.to_string(), action));
        self
    }

    /// Knows a digest by its reply key.
    pub fn with_digest(mut self, key: &str, digest: DigestRef) -> MemoryForms {
        self.digests.insert(key.to_string(), digest);
        self
    }
}

impl Forms for MemoryForms {
    fn asked_actions(&self, pm: &str) -> Result<Vec<AskedAction>, LookupError> {
        Ok(self
            .actions
            .iter()
            .filter(|(p, _)| p == pm)
            .map(|(_, a)| a.clone())
            .collect())
    }
    fn digest_by_reply_key(&self, key: &str) -> Result<Option<DigestRef>, LookupError> {
        Ok(self.digests.get(key).cloned())
    }
    fn by_reply_key(&self, key: &str) -> Result<Option<FormRef>, LookupError> {
        Ok(self.by_key.get(key).cloned())
    }
    fn by_message_id(&self, message_id: &str) -> Result<Option<FormRef>, LookupError> {
        Ok(self.by_message_id.get(message_id).cloned())
    }
    fn latest_week(&self, pm: &str) -> Result<Option<Week>, LookupError> {
        Ok(self
            .by_key
            .values()
            .chain(self.by_message_id.values())
            .filter(|f| f.pm == pm)
            .map(|f| f.week)
            .max())
    }
}

/// Everything `understand` needs besides the message.
pub struct Context<'a> {
    /// Roster, framework and service address.
    pub config: &'a Config,
    pub forms: &'a dyn Forms,
    /// When the message is read; a fresh message with no form yet lands on
    /// the PM's current local week.
    pub now: DateTime<Utc>,
}

impl Context<'_> {
    pub fn policy(&self) -> &Auth {
        &self.config.auth
    }
}

/// Reads one raw message. Fails only when a lookup fails: then nothing can
/// be decided and the message must be retried.
pub fn understand(raw: &[u8], ctx: &Context<'_>) -> Result<Understanding, LookupError> {
    let mut u = Understanding::empty(raw);
    if let Err(e) = mime::precheck(raw, ctx.policy().max_message_bytes) {
        return Ok(u.rejected(None, e.code(), e.reason()));
    }
    let msg = match mime::parse(raw) {
        Ok(m) => m,
        Err(e) => return Ok(u.rejected(None, e.code(), e.reason())),
    };
    u.message_id = msg
        .message_id()
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty() && id.len() <= 998);
    if let Some((code, reason)) = classify::machine(&msg) {
        u.kind = Kind::Ignored;
        u.pm = authorize::sender(&msg, ctx.config)
            .ok()
            .map(|p| p.key.clone());
        u.reason = Some(reason);
        u.reason_code = Some(code);
        return Ok(u);
    }
    let lex = grammar::lexicon_for(&ctx.config.framework);
    // A registered coach's address: only a reply to one of their own
    // pairing's digests, with its live key, is read.
    if let Some(decision) = authorize::coach(&msg, ctx)? {
        return Ok(match decision {
            Ok(a) => {
                let reply_text = coach_words(&msg, a.coach);
                // The 1:1 is in the PM's time zone: so are its dates.
                let today = ctx.now.with_timezone(&a.pm.timezone).date_naive();
                let read = coach::read_coach_reply(&reply_text, today);
                // An out-of-office answer that does not say it is one:
                // nothing to record, never a private note, never answered.
                if read.actions.is_empty()
                    && read.drops.is_empty()
                    && read.schedule.is_empty()
                    && looks_out_of_office(&reply_text)
                {
                    u.kind = Kind::Ignored;
                    u.coach = Some(a.coach.key.clone());
                    u.reason =
                        Some("looks automatic: an out-of-office text in reply to a digest".into());
                    u.reason_code = Some("looks-automatic");
                    return Ok(u);
                }
                u.kind = Kind::CoachReply;
                u.pm = Some(a.pm.key.clone());
                u.week = Some(a.week);
                u.coach = Some(a.coach.key.clone());
                u.pairing = Some(a.pairing);
                u.coach_reply = Some(read);
                u.reply_text = reply_text;
                u
            }
            Err((coach_key, r)) => {
                // No digest's key: a command, when it is one.
                let command = (r.code == "coach-reply")
                    .then(|| ctx.config.coach(&coach_key))
                    .flatten()
                    .and_then(|c| coach_command::read(&coach_words(&msg, c), msg.subject()));
                u.coach = Some(coach_key);
                match command {
                    Some(command) => {
                        u.coach_command = Some(command);
                        u.rejected(
                            None,
                            "coach-command",
                            "a coach's command: answered at the coach's registered address only"
                                .into(),
                        )
                    }
                    None => u.rejected(None, r.code, r.reason),
                }
            }
        });
    }
    let auth = match authorize::authorize(&msg, ctx)? {
        Ok(a) => a,
        Err(r) => {
            u.closed_form = r.closed;
            // A fresh command from a registered PM's address that nothing
            // verifies: kept as a refusal, but the engine answers it at the
            // registered address (a read-only command) or explains how to
            // send it (one that changes something).
            if r.code == "no-reply-key"
                && let Some(pm) = r.pm.as_deref().and_then(|k| ctx.config.pm(k))
            {
                let (own, reply_text) = own_words(&msg, pm, &lex, &[]);
                let subject = msg.subject();
                let forget_thread = subject.is_some_and(|s| grammar::fold(s).contains("forget"));
                if own.iter().all(|l| !l.from_quote && l.prompt.is_none())
                    && let Some(cmd) = command::read(&reply_text, subject, &lex, forget_thread)
                {
                    let week = ctx
                        .forms
                        .latest_week(&pm.key)?
                        .unwrap_or_else(|| authorize::local_week(pm, ctx.now));
                    let mut u = u.rejected(
                        r.pm,
                        "unverified-command",
                        "a command in a fresh message nothing verifies: read-only ones are answered at the registered address, others are explained".into(),
                    );
                    u.week = Some(week);
                    u.reply_text = reply_text;
                    u.command = Some(cmd);
                    return Ok(u);
                }
            }
            return Ok(u.rejected(r.pm, r.code, r.reason));
        }
    };
    u.pm = Some(auth.pm.key.clone());
    u.week = Some(auth.week);

    // The open actions of the PM's current pairing: what the form asked
    // besides the skills.
    let asked = ctx.forms.asked_actions(&auth.pm.key)?;
    let asked_texts: Vec<String> = asked.iter().map(|a| a.text.clone()).collect();
    let (own, reply_text) = own_words(&msg, auth.pm, &lex, &asked_texts);
    u.reply_text = reply_text;
    let actions = coach::read_action_answers(&own, &asked_texts, &|l| lex.is_answer(l));
    let answered_actions = !actions.answers.is_empty() || !actions.problems.is_empty();

    let subject = msg.subject();
    let forget_thread = subject.is_some_and(|s| grammar::fold(s).contains("forget"));
    if !answered_actions
        && own.iter().all(|l| !l.from_quote && l.prompt.is_none())
        && let Some(cmd) = command::read(&u.reply_text, subject, &lex, forget_thread)
    {
        u.kind = Kind::Command;
        u.command = Some(cmd);
        return Ok(u);
    }

    // Lines read as action answers are neither scores nor the note.
    let own: Vec<quotes::OwnLine> = own
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !actions.lines.contains(i))
        .map(|(_, l)| l)
        .collect();
    let answers = grammar::read(&own, &lex);
    // A machine that does not say it is one: no answer line at all, and
    // either an out-of-office text or a reply to one of our answers (not a
    // form). Ignored: no note stored, never answered.
    if answers.scores.is_empty()
        && answers.skipped.is_empty()
        && answers.invalid.is_empty()
        && !answered_actions
        && (looks_out_of_office(&u.reply_text) || replies_to_our_answer(&msg, ctx)?)
    {
        u.kind = Kind::Ignored;
        u.reason = Some("looks automatic: no scores and no command, an out-of-office text or a reply to a confirmation".into());
        u.reason_code = Some("looks-automatic");
        return Ok(u);
    }
    u.kind = Kind::Assessment;
    u.missing = lex
        .keys()
        .iter()
        .filter(|k| !answers.scores.contains_key(*k) && !answers.skipped.contains(k))
        .cloned()
        .collect();
    u.scores = answers.scores;
    u.skipped = answers.skipped;
    u.comments = answers.comments;
    u.invalid = answers.invalid;
    u.invalid
        .extend(actions.problems.iter().map(|p| action_problem(p)));
    u.action_answers = actions
        .answers
        .iter()
        .filter_map(|a| {
            let action = asked.get(a.action)?;
            Some(ActionAnswered {
                action: action.id,
                pairing: action.pairing,
                text: action.text.clone(),
                status: a.status,
                comment: a.comment.clone(),
            })
        })
        .collect();
    u.note = (!answers.note.is_empty()).then_some(answers.note);
    Ok(u)
}

/// Out-of-office phrases, folded, in the languages the quote stripper knows.
const OUT_OF_OFFICE: &[&str] = &[
    "out of office",
    "out of the office",
    "automatic reply",
    "auto-reply",
    "autoreply",
    "i am away",
    "i'm away",
    "on vacation",
    "on annual leave",
    "absent du bureau",
    "reponse automatique",
    "je suis absent",
    "abwesenheitsnotiz",
    "nicht im buro",
    "automatische antwort",
    "fuera de la oficina",
    "respuesta automatica",
    "fuori ufficio",
    "risposta automatica",
    "fora do escritorio",
    "resposta automatica",
    "automatisch antwoord",
    "afwezig",
];

fn looks_out_of_office(text: &str) -> bool {
    let folded = grammar::fold(text);
    OUT_OF_OFFICE.iter().any(|p| folded.contains(p))
}

/// Whether the message threads to something we sent that is not a form (a
/// confirmation, an answer): our domain, no form known by that Message-ID.
fn replies_to_our_answer(
    msg: &mail_parser::Message<'_>,
    ctx: &Context<'_>,
) -> Result<bool, LookupError> {
    let domain = crate::reply_key::domain_of(&ctx.config.service.address).to_ascii_lowercase();
    for (name, value) in msg.headers_raw() {
        if !name.eq_ignore_ascii_case("in-reply-to") {
            continue;
        }
        for id in authorize::message_ids(value) {
            let ours = id
                .rsplit_once('@')
                .is_some_and(|(_, d)| d.eq_ignore_ascii_case(&domain));
            if ours && ctx.forms.by_message_id(&id)?.is_none() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

impl Understanding {
    /// Nothing understood yet: only the content hash.
    fn empty(raw: &[u8]) -> Understanding {
        Understanding {
            kind: Kind::Rejected,
            pm: None,
            week: None,
            scores: BTreeMap::new(),
            comments: BTreeMap::new(),
            skipped: Vec::new(),
            invalid: Vec::new(),
            missing: Vec::new(),
            note: None,
            reply_text: String::new(),
            command: None,
            reason: None,
            reason_code: None,
            message_id: None,
            content_hash: content_hash(raw),
            closed_form: None,
            coach: None,
            pairing: None,
            coach_reply: None,
            coach_command: None,
            action_answers: Vec::new(),
        }
    }

    fn rejected(mut self, pm: Option<String>, code: &'static str, reason: String) -> Understanding {
        self.kind = Kind::Rejected;
        self.pm = pm;
        self.reason = Some(reason);
        self.reason_code = Some(code);
        self
    }
}

/// The PM's own lines of a message (quotes and signature removed), and
/// their text collapsed as the note and the command reader see it.
fn own_words(
    msg: &mail_parser::Message<'_>,
    pm: &crate::config::Pm,
    lex: &grammar::Lexicon,
    asked_actions: &[String],
) -> (Vec<quotes::OwnLine>, String) {
    let text = mime::body_text(msg);
    let mut names = vec![pm.name.clone()];
    if let Some(first) = pm.name.split_whitespace().next()
        && first != pm.name
    {
        names.push(first.to_string());
    }
    let own = quotes::strip_with(
        &text,
        &names,
        &|l| lex.is_answer(l) || coach::asked_line(l, asked_actions).is_some(),
        &|l| coach::asked_line(l, asked_actions),
    );
    let own_text: Vec<String> = own.iter().map(quotes::OwnLine::display).collect();
    let own_refs: Vec<&str> = own_text.iter().map(String::as_str).collect();
    let collapsed = grammar::collapse(&own_refs);
    (own, collapsed)
}

/// A coach's own text (quotes, the digest and the signature removed, by the
/// same stripper as a PM's), collapsed as the coach reply reader reads it.
/// Nothing in a quote counts: the digest has no lines to fill in.
fn coach_words(msg: &mail_parser::Message<'_>, coach: &crate::config::Coach) -> String {
    let text = mime::body_text(msg);
    let mut names = vec![coach.name.clone()];
    if let Some(first) = coach.name.split_whitespace().next()
        && first != coach.name
    {
        names.push(first.to_string());
    }
    let own = quotes::strip(&text, &names, &|_| false);
    let own_text: Vec<String> = own.iter().map(quotes::OwnLine::display).collect();
    let own_refs: Vec<&str> = own_text.iter().map(String::as_str).collect();
    grammar::collapse(&own_refs)
}

/// A problem with an action answer (`"<line>": <reason>`) as an
/// unreadable line for the PM's confirmation.
fn action_problem(problem: &str) -> Invalid {
    match problem.strip_prefix('"').and_then(|p| p.split_once("\": ")) {
        Some((line, reason)) => Invalid {
            line: line.to_string(),
            reason: reason.to_string(),
        },
        None => Invalid {
            line: "(your actions)".into(),
            reason: problem.to_string(),
        },
    }
}

/// Hex SHA-256 of a message's bytes.
pub fn content_hash(raw: &[u8]) -> String {
    use sha2::Digest;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = sha2::Sha256::digest(raw);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hash_is_hex_sha256() {
        assert_eq!(
            content_hash(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
