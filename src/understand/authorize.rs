//! Authorization: who sent this, and may it count for them?
//!
//! A coach's mail is judged apart ([`coach`]): only a reply carrying a live
//! digest key, from the coach that digest's pairing names, while that
//! pairing is still current. A digest's key from anyone else is refused.
//!
//! A message counts when its From is a registered PM and either its reply
//! key (a `<local>+<KEY>@<service domain>` recipient, or an In-Reply-To /
//! References to one of that PM's forms) matches that PM, or — for a fresh
//! message without a key — the policy allows it: `require_reply_key = false`,
//! or `dmarc=pass` for the From domain in an Authentication-Results header
//! added by a trusted server. A key of another PM's form, a trusted
//! `dmarc=fail`, or an unknown sender is refused.
//!
//! Owns these rules and the Authentication-Results reader. Never trusts an
//! Authentication-Results header whose authserv-id is not configured, and
//! only the topmost trusted one (the one our own border MTA added; RFC 8601
//! §5 requires it to remove forged copies, but a forged one *below* it must
//! not win either). A DMARC verdict counts only with `header.from` equal to
//! the From domain, and only for a message with exactly one From mailbox.
//! DMARC proves the domain, not the person: anyone who can send from that
//! domain passes.
//!
//! Why the Authentication-Results parser is written here: the only maintained
//! Rust parser we found is inside `mail-auth`, which also pulls in a DNS
//! resolver and crypto for DKIM/ARC signing and verification — a large
//! dependency and attack surface for the one thing we need, reading
//! `authserv-id` and `dmarc=<result>` with its `header.from`. The grammar
//! (RFC 8601 §2.2) is small: comments in parentheses, `;`-separated
//! `method=result` statements with `ptype.property=value` pairs.

use chrono::{DateTime, Utc};

use super::{Context, FormRef, LookupError};
use crate::config::{Coach, Config, Pm};
use crate::reply_key;
use crate::week::Week;

/// How an accepted message was tied to its PM and week.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// The form's reply key, as a plus-address recipient.
    ReplyKey,
    /// In-Reply-To or References naming one of the PM's forms.
    Thread,
    /// A fresh message allowed by a trusted `dmarc=pass`.
    Dmarc,
    /// A fresh message allowed because `require_reply_key = false`.
    Policy,
}

/// An accepted sender and the week the message belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorized<'c> {
    pub pm: &'c Pm,
    pub week: Week,
    pub via: Via,
}

/// A refusal: the reason, and the PM when the From was a registered one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub pm: Option<String>,
    /// A short content-free code (`no-reply-key`, `dmarc-fail`, …).
    pub code: &'static str,
    pub reason: String,
    /// The PM's own key of a form that has closed: they get a polite "reply
    /// to this week's form" instead of a silent write into an old week.
    pub closed: Option<Week>,
}

/// DMARC as seen by a trusted server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dmarc {
    Pass,
    Fail,
    /// No trusted verdict (no header, untrusted server, other result).
    Unknown,
}

/// The one sender address of a message, lower-cased: exactly one From
/// header holding exactly one non-empty mailbox (no group, no empty `<>`,
/// no second address), or the reason it is refused. mail-parser keeps only
/// the last of two From headers, so the raw headers are counted here.
pub fn from_address(msg: &mail_parser::Message<'_>) -> Result<String, (&'static str, String)> {
    let bad = |code: &'static str, why: &str| Err((code, why.to_string()));
    let raw: Vec<&str> = msg
        .headers_raw()
        .filter(|(n, _)| n.eq_ignore_ascii_case("from"))
        .map(|(_, v)| v)
        .collect();
    match raw.len() {
        0 => return bad("from-missing", "no From header"),
        1 => {}
        _ => return bad("from-twice", "more than one From header"),
    }
    let value: String = raw[0].chars().filter(|c| !c.is_whitespace()).collect();
    if value.contains("<>") {
        return bad("from-empty-mailbox", "an empty mailbox in From");
    }
    let list = match msg.from() {
        Some(mail_parser::Address::List(list)) => list,
        Some(mail_parser::Address::Group(_)) => {
            return bad("from-group", "group syntax in From");
        }
        None => return bad("from-missing", "no From address"),
    };
    if list.len() != 1 {
        return bad("from-several", "more than one From address");
    }
    let address = list[0]
        .address()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .ok_or(("from-missing", "no From address".to_string()))?;
    if address.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return bad("from-malformed", "malformed From address");
    }
    let (local, domain) = address
        .rsplit_once('@')
        .ok_or(("from-malformed", "malformed From address".to_string()))?;
    if local.is_empty() || domain.is_empty() {
        return bad("from-malformed", "malformed From address");
    }
    Ok(address.to_ascii_lowercase())
}

/// The registered PM this From address belongs to, if exactly one address.
pub fn sender<'c>(msg: &mail_parser::Message<'_>, config: &'c Config) -> Result<&'c Pm, Refused> {
    let refuse = |(code, reason): (&'static str, String)| Refused {
        pm: None,
        code,
        reason,
        closed: None,
    };
    let address = from_address(msg).map_err(refuse)?;
    config
        .pm_by_email(&address)
        .ok_or_else(|| refuse(("unknown-sender", "sender is not a registered PM".into())))
}

/// A coach's reply accepted for one pairing's digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoachAuthorized<'c> {
    pub coach: &'c Coach,
    pub pm: &'c Pm,
    pub pairing: i64,
    /// The week of the digest it answers.
    pub week: Week,
}

/// The headers a reply key may be found in (a recipient of the message).
const KEY_HEADERS: [&str; 6] = [
    "to",
    "cc",
    "delivered-to",
    "x-original-to",
    "envelope-to",
    "x-delivered-to",
];

/// The reply keys among the message's recipients, in header order.
fn recipient_keys(msg: &mail_parser::Message<'_>, config: &Config) -> Vec<String> {
    let domain = reply_key::domain_of(&config.service.address).to_ascii_lowercase();
    msg.headers_raw()
        .filter(|(name, _)| KEY_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)))
        .flat_map(|(_, value)| reply_key::keys_in_recipients(value, &domain))
        .collect()
}

/// Mail from a registered coach's address: `None` when the From is no
/// coach's. Otherwise the decision — accepted only with a live digest key
/// (a recipient `+<key>@`) of a digest whose pairing names this coach and
/// is still the PM's current one; the thread alone never counts. A refusal
/// carries the coach's key and a content-free code: `dmarc-fail`,
/// `wrong-coach-key` (another coach's digest, or a PM's form key),
/// `pairing-ended` (a digest of a pairing that is over), `digest-closed`
/// (its key expired), `unknown-reply-key`, or `coach-reply` (no key).
#[allow(clippy::type_complexity)]
pub fn coach<'c>(
    msg: &mail_parser::Message<'_>,
    ctx: &Context<'c>,
) -> Result<Option<Result<CoachAuthorized<'c>, (String, Refused)>>, LookupError> {
    let config: &'c Config = ctx.config;
    let Ok(address) = from_address(msg) else {
        return Ok(None);
    };
    let Some(coach) = config.coach_by_email(&address) else {
        return Ok(None);
    };
    let refuse = |code: &'static str, reason: &str| {
        Ok(Some(Err((
            coach.key.clone(),
            Refused {
                pm: None,
                code,
                reason: reason.to_string(),
                closed: None,
            },
        ))))
    };
    let from_domain = coach.email.rsplit('@').next().unwrap_or("");
    if dmarc(msg, &config.auth.trusted_authserv_ids, from_domain) == Dmarc::Fail {
        return refuse(
            "dmarc-fail",
            "From failed DMARC at a trusted server (spoofed sender)",
        );
    }
    let mut unknown_key = false;
    for key in recipient_keys(msg, config) {
        if let Some(d) = ctx.forms.digest_by_reply_key(&key)? {
            if d.coach != coach.key {
                return refuse(
                    "wrong-coach-key",
                    "the reply key belongs to a digest sent to another coach",
                );
            }
            let pm = config.pm(&d.pm).filter(|pm| pm.coach == coach.key);
            let Some(pm) = pm.filter(|_| d.current) else {
                return refuse(
                    "pairing-ended",
                    "the reply key belongs to a digest of a pairing that has ended",
                );
            };
            if ctx.now >= d.expires_at {
                return refuse("digest-closed", "the digest's reply key has expired");
            }
            return Ok(Some(Ok(CoachAuthorized {
                coach,
                pm,
                pairing: d.pairing,
                week: d.week,
            })));
        }
        if ctx.forms.by_reply_key(&key)?.is_some() {
            return refuse(
                "wrong-coach-key",
                "the reply key belongs to a PM's form, not to a digest",
            );
        }
        unknown_key = true;
    }
    if unknown_key {
        return refuse(
            "unknown-reply-key",
            "the reply key is not one of ours (an old or mistyped digest address)",
        );
    }
    refuse(
        "coach-reply",
        "from a coach's address without a digest's reply key: only replies to a digest are read",
    )
}

/// Decides whether the message counts, for whom, and for which week.
///
/// The outer `Err` is a lookup the store could not answer: nothing is
/// decided then. The inner result is the decision.
pub fn authorize<'c>(
    msg: &mail_parser::Message<'_>,
    ctx: &Context<'c>,
) -> Result<Result<Authorized<'c>, Refused>, LookupError> {
    let config: &'c Config = ctx.config;
    let pm = match sender(msg, config) {
        Ok(pm) => pm,
        Err(r) => return Ok(Err(r)),
    };
    let refuse = |code: &'static str, reason: &str| Refused {
        pm: Some(pm.key.clone()),
        code,
        reason: reason.to_string(),
        closed: None,
    };
    let from_domain = pm.email.rsplit('@').next().unwrap_or("");
    let dmarc = dmarc(msg, &config.auth.trusted_authserv_ids, from_domain);
    if dmarc == Dmarc::Fail {
        return Ok(Err(refuse(
            "dmarc-fail",
            "From failed DMARC at a trusted server (spoofed sender)",
        )));
    }
    let mut unknown_key = false;
    // 1. The plus-addressed reply key among the recipients. A digest's key
    // is a coach's: from a PM it is refused like another PM's key.
    for key in recipient_keys(msg, config) {
        match ctx.forms.by_reply_key(&key)? {
            Some(form) => return Ok(checked(pm, form, Via::ReplyKey, ctx)),
            None if ctx.forms.digest_by_reply_key(&key)?.is_some() => {
                return Ok(Err(refuse(
                    "wrong-pm-key",
                    "the reply key belongs to a coach's digest, not to the PM's form",
                )));
            }
            None => unknown_key = true,
        }
    }
    // 2. The thread: In-Reply-To first, then References, newest first. It
    // finds the week, but authenticates only with a trusted DMARC pass (or
    // where the policy needs no key): Message-IDs travel with forwards.
    let mut ids: Vec<String> = Vec::new();
    for (name, value) in msg.headers_raw() {
        if name.eq_ignore_ascii_case("in-reply-to") {
            ids.extend(message_ids(value));
        }
    }
    for (name, value) in msg.headers_raw() {
        if name.eq_ignore_ascii_case("references") {
            let mut refs = message_ids(value);
            refs.reverse();
            ids.extend(refs);
        }
    }
    for id in ids.iter().take(100) {
        if let Some(form) = ctx.forms.by_message_id(id)? {
            if form.pm == pm.key && dmarc != Dmarc::Pass && config.auth.require_reply_key {
                return Ok(Err(refuse(
                    "thread-without-key",
                    "a reply in a form's thread without the form's reply address and without a trusted DMARC pass",
                )));
            }
            return Ok(checked(pm, form, Via::Thread, ctx));
        }
    }
    // 3. A fresh message: only where the policy allows.
    let via = if !config.auth.require_reply_key {
        Via::Policy
    } else if dmarc == Dmarc::Pass {
        Via::Dmarc
    } else if unknown_key {
        return Ok(Err(refuse(
            "unknown-reply-key",
            "the reply key is not one of ours (an old or mistyped form address) and the sender is not verified by DMARC",
        )));
    } else {
        return Ok(Err(refuse(
            "no-reply-key",
            "no reply key and no trusted DMARC pass: reply to a form (or see auth.require_reply_key and auth.trusted_authserv_ids)",
        )));
    };
    let week = ctx
        .forms
        .latest_week(&pm.key)?
        .unwrap_or_else(|| local_week(pm, ctx.now));
    Ok(Ok(Authorized { pm, week, via }))
}

/// The PM's current ISO week in their own time zone.
pub fn local_week(pm: &Pm, now: DateTime<Utc>) -> Week {
    Week::of(now.with_timezone(&pm.timezone).date_naive())
}

/// The form is the sender's own and still open: the week is its week.
fn checked<'c>(
    pm: &'c Pm,
    form: FormRef,
    via: Via,
    ctx: &Context<'_>,
) -> Result<Authorized<'c>, Refused> {
    if form.pm != pm.key {
        return Err(Refused {
            pm: Some(pm.key.clone()),
            code: "wrong-pm-key",
            reason: "the reply key belongs to another PM's form".into(),
            closed: None,
        });
    }
    if form_closed(pm, form.week, ctx.now, ctx.config.auth.reply_key_weeks) {
        return Err(Refused {
            pm: Some(pm.key.clone()),
            code: "form-closed",
            reason: "the form has closed (its reply key expired)".into(),
            closed: Some(form.week),
        });
    }
    Ok(Authorized {
        pm,
        week: form.week,
        via,
    })
}

/// Whether the form of `week` has closed at `now`: once the PM's local
/// week `weeks` after it has begun (2: the week after next).
pub fn form_closed(pm: &Pm, week: Week, now: DateTime<Utc>, weeks: u32) -> bool {
    local_week(pm, now) >= week.plus(i64::from(weeks))
}

/// Message-IDs (without angle brackets) in an In-Reply-To or References value.
pub fn message_ids(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let id = rest[open + 1..open + close].trim();
        if !id.is_empty() && id.len() <= 998 {
            out.push(id.to_string());
        }
        rest = &rest[open + close + 1..];
    }
    out
}

/// The trusted DMARC verdict for `from_domain`.
pub fn dmarc(msg: &mail_parser::Message<'_>, trusted: &[String], from_domain: &str) -> Dmarc {
    if trusted.is_empty() {
        return Dmarc::Unknown;
    }
    for (name, value) in msg.headers_raw() {
        if !name.eq_ignore_ascii_case("authentication-results") {
            continue;
        }
        // Only a trusted server's header is worth parsing.
        let id = value
            .trim_start()
            .split(|c: char| c == ';' || c == '(' || c.is_whitespace())
            .next()
            .unwrap_or("");
        if !trusted.iter().any(|t| t.eq_ignore_ascii_case(id)) {
            continue;
        }
        let Some(ar) = AuthResults::parse(value) else {
            continue;
        };
        if !trusted
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&ar.authserv_id))
        {
            continue;
        }
        // The topmost trusted header decides.
        for r in &ar.results {
            if r.method != "dmarc" {
                continue;
            }
            // Strict: a verdict counts only for the From domain, named.
            let domain_ok = r
                .props
                .iter()
                .find(|(k, _)| k == "header.from")
                .is_some_and(|(_, v)| v.eq_ignore_ascii_case(from_domain));
            return match r.result.as_str() {
                "pass" if domain_ok => Dmarc::Pass,
                "fail" if domain_ok => Dmarc::Fail,
                _ => Dmarc::Unknown,
            };
        }
        return Dmarc::Unknown;
    }
    Dmarc::Unknown
}

/// One parsed Authentication-Results header (RFC 8601).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthResults {
    pub authserv_id: String,
    pub results: Vec<MethodResult>,
}

/// `method=result ptype.property=value …`, lowercased (values as written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodResult {
    pub method: String,
    pub result: String,
    pub props: Vec<(String, String)>,
}

impl AuthResults {
    /// Parses a header value; `None` when there is no authserv-id.
    pub fn parse(value: &str) -> Option<AuthResults> {
        // Drop comments, keep quoted strings, split statements on `;`.
        let mut statements: Vec<String> = vec![String::new()];
        let mut depth = 0usize;
        let mut quoted = false;
        let mut escaped = false;
        for c in value.chars().take(8 * 1024) {
            if escaped {
                escaped = false;
                if depth == 0 {
                    statements.last_mut()?.push(c);
                }
                continue;
            }
            match c {
                '\\' if quoted || depth > 0 => escaped = true,
                '"' if depth == 0 => quoted = !quoted,
                '(' if !quoted => depth += 1,
                ')' if !quoted && depth > 0 => depth -= 1,
                ';' if !quoted && depth == 0 => statements.push(String::new()),
                c if depth == 0 => {
                    let s = statements.last_mut()?;
                    s.push(if c.is_whitespace() { ' ' } else { c });
                }
                _ => {}
            }
        }
        let mut parts = statements.into_iter();
        let head = parts.next()?;
        let authserv_id = head.split_whitespace().next()?.to_ascii_lowercase();
        let mut results = Vec::new();
        for st in parts {
            let mut tokens = st.split_whitespace();
            let Some(first) = tokens.next() else {
                continue;
            };
            let Some((method, result)) = first.split_once('=') else {
                continue;
            };
            let method = method.split('/').next().unwrap_or("").to_ascii_lowercase();
            let props = tokens
                .filter_map(|t| t.split_once('='))
                .map(|(k, v)| (k.to_ascii_lowercase(), v.trim_matches('"').to_string()))
                .collect();
            results.push(MethodResult {
                method,
                result: result.to_ascii_lowercase(),
                props,
            });
        }
        Some(AuthResults {
            authserv_id,
            results,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authentication_results_with_comments_parse() {
        let ar = AuthResults::parse(
            " mx.example.org (Postfix; version=1);\r\n dkim=pass (2048-bit key) header.d=example.org;\r\n spf=pass smtp.mailfrom=alice@example.org;\r\n dmarc=pass (p=reject dis=none) header.from=example.org",
        )
        .unwrap();
        assert_eq!(ar.authserv_id, "mx.example.org");
        assert_eq!(ar.results.len(), 3);
        assert_eq!(ar.results[2].method, "dmarc");
        assert_eq!(ar.results[2].result, "pass");
        assert_eq!(
            ar.results[2].props,
            [("header.from".into(), "example.org".into())]
        );
    }
}
