//! `coachmail.toml` → a validated [`Config`]: roster, schedule, transports,
//! privacy settings.
//!
//! Owns every check an operator's file must pass, and errors that name the
//! file, the line, the key and the fix. Never reads a secret from the file:
//! secrets come from environment variables the file names.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{Duration, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::framework::Framework;
use crate::week::Week;

pub use crate::config_file::{ConfigError, Source, check_display_text};

pub mod snapshot;

/// Where the config is looked for when neither `--config` nor `COACHMAIL_CONFIG` is given.
pub const DEFAULT_PATH: &str = "config/coachmail.toml";

/// A loaded, validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file this came from.
    pub path: PathBuf,
    pub service: Service,
    pub schedule: Schedule,
    pub auth: Auth,
    pub outbound: Outbound,
    pub inbound: Inbound,
    pub coaches: Vec<Coach>,
    pub pms: Vec<Pm>,
    pub framework: Framework,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Service {
    /// Product name shown in every email, e.g. "PM Pulse".
    pub name: String,
    /// From of everything sent; plus-addressed for reply keys.
    pub address: String,
    pub database: PathBuf,
    /// Name of the env var that holds the SQLCipher key; `None` = no encryption.
    pub database_key_env: Option<String>,
    pub retention_days: u32,
    /// Delivered outbox rows (key and kind, no message) are deleted after
    /// this many days; at least [`MIN_OUTBOX_KEEP_DAYS`].
    pub outbox_keep_days: u32,
    /// The skills framework file.
    pub framework: PathBuf,
    pub templates: PathBuf,
}

/// Delivered outbox keys must outlive the schedule's look-back (three
/// weeks) with a week to spare, or a message could be queued twice.
pub const MIN_OUTBOX_KEEP_DAYS: u32 = 28;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Schedule {
    pub form_day: Weekday,
    pub form_time: NaiveTime,
    #[serde(with = "snapshot::duration")]
    pub digest_lead: Duration,
    /// One nudge this long after the form if no reply; `None` = no reminder.
    #[serde(with = "snapshot::optional_duration")]
    pub reminder_after: Option<Duration>,
    /// A score this far or further below the PM's baseline is flagged as a dip.
    pub dip_threshold: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Auth {
    pub require_reply_key: bool,
    pub trusted_authserv_ids: Vec<String>,
    pub max_message_bytes: usize,
    /// Handling one inbound message may take this long; past it `run` and
    /// `ingest` stop (exit 75) and the message counts as a failed try.
    pub message_time_budget: std::time::Duration,
    pub replies_per_sender_per_hour: u32,
    /// Refused or ignored messages logged per sender (keyed hash) per hour;
    /// their own budget, never counted against a PM's.
    pub refused_per_sender_per_hour: u32,
    /// A form's reply key works until the form week after this many weeks
    /// begins (2: until the week after next begins).
    pub reply_key_weeks: u32,
    /// The furthest `pause until` may reach, in days from now.
    pub max_pause_days: u32,
    /// A note is stored up to this many bytes (UTF-8); the rest is cut and
    /// the PM told.
    pub max_note_bytes: usize,
    /// The notes of one digest together stay under this many bytes.
    pub max_digest_note_bytes: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tls {
    StartTls,
    Implicit,
    None,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Outbound {
    /// Each sent email is written as an `.eml` file in `dir`.
    File {
        dir: PathBuf,
    },
    Smtp(Smtp),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub user: Option<String>,
    pub password_env: Option<String>,
    /// Connections kept open to the relay.
    pub pool: u32,
    /// Messages in flight at once (at most `pool`).
    pub concurrency: u32,
    /// Messages handed to the relay per minute, at most.
    pub per_minute: u32,
    /// An extra CA certificate (PEM) to trust, e.g. a test relay's.
    pub ca_cert: Option<PathBuf>,
    /// Connect and command timeout.
    pub timeout_seconds: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Inbound {
    /// A Maildir watched for replies.
    Maildir {
        dir: PathBuf,
    },
    Imap(Imap),
    /// Only `coachmail ingest` brings mail in.
    None,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Imap {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub user: String,
    pub password_env: String,
    pub folder: String,
    pub processed_folder: Option<String>,
    pub idle: bool,
    /// How often to look for new mail when IDLE is off or unsupported.
    pub poll_seconds: u64,
    /// An extra CA certificate (PEM) to trust, e.g. a test server's.
    pub ca_cert: Option<PathBuf>,
    /// Connect and command timeout.
    pub timeout_seconds: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coach {
    pub key: String,
    pub name: String,
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pm {
    pub key: String,
    pub name: String,
    pub email: String,
    /// Key of the paired coach.
    pub coach: String,
    pub timezone: Tz,
    /// The 1:1's day and time, in the PM's time zone.
    pub one_on_one: Slot,
    /// How often the 1:1 takes place on that day and time.
    pub cadence: Cadence,
    /// When the weekly form goes out, in the PM's time zone.
    pub form: Slot,
}

/// How often a pairing's 1:1 takes place, on the day and time of its slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Cadence {
    /// Every week (the default).
    #[default]
    Weekly,
    /// Every `weeks` weeks: in `anchor` and every `weeks`-th week from it.
    EveryWeeks { weeks: u8, anchor: Week },
    /// On the `nth` (1–4; 5 is the last) slot day of each month.
    Monthly { nth: u8 },
}

impl Cadence {
    /// Whether a regular 1:1 falls on the slot day of `week`.
    pub fn has_meeting(self, week: Week, day: Weekday) -> bool {
        match self {
            Cadence::Weekly => true,
            Cadence::EveryWeeks { weeks, anchor } => {
                anchor.weeks_until(week).rem_euclid(i64::from(weeks.max(1))) == 0
            }
            Cadence::Monthly { nth } => {
                use chrono::Datelike;
                let date = week.day(day);
                if nth >= 5 {
                    (date + Duration::days(7)).month() != date.month()
                } else {
                    u32::from(nth) == (date.day() - 1) / 7 + 1
                }
            }
        }
    }
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cadence::Weekly => write!(f, "weekly"),
            Cadence::EveryWeeks { weeks, .. } => write!(f, "every {weeks} weeks"),
            Cadence::Monthly { nth } => {
                let which = ["first", "second", "third", "fourth", "last"];
                write!(
                    f,
                    "monthly, the {}",
                    which[usize::from((*nth).clamp(1, 5) - 1)]
                )
            }
        }
    }
}

/// The ordinal of a monthly rule: `first`…`fourth`, `1st`…`4th`, `last`.
pub fn parse_ordinal(s: &str) -> Option<u8> {
    match s.trim().to_ascii_lowercase().as_str() {
        "first" | "1st" => Some(1),
        "second" | "2nd" => Some(2),
        "third" | "3rd" => Some(3),
        "fourth" | "4th" => Some(4),
        "last" => Some(5),
        _ => None,
    }
}

/// A weekly moment: a day of the week and a local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub day: Weekday,
    pub time: NaiveTime,
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.day, self.time.format("%H:%M"))
    }
}

impl Config {
    /// Loads the config at `path` and the framework it names.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::parse(&crate::config_file::read(path)?, path)
    }

    /// Parses and validates config text; `path` names it in errors and
    /// locates the framework file (relative to the config file's folder).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let src = Source::new(path, text);
        let raw: RawConfig = src.deserialize()?;
        build(&src, raw)
    }

    pub fn pm(&self, key: &str) -> Option<&Pm> {
        self.pms.iter().find(|p| p.key == key)
    }

    pub fn coach(&self, key: &str) -> Option<&Coach> {
        self.coaches.iter().find(|c| c.key == key)
    }

    /// The PM registered with this address (case-insensitive).
    pub fn pm_by_email(&self, email: &str) -> Option<&Pm> {
        let email = email.trim();
        self.pms
            .iter()
            .find(|p| p.email.eq_ignore_ascii_case(email))
    }

    /// The coach registered with this address (case-insensitive).
    pub fn coach_by_email(&self, email: &str) -> Option<&Coach> {
        let email = email.trim();
        self.coaches
            .iter()
            .find(|c| c.email.eq_ignore_ascii_case(email))
    }

    /// The coach paired with `pm`; validation guarantees there is one.
    pub fn coach_of(&self, pm: &Pm) -> Option<&Coach> {
        self.coach(&pm.coach)
    }
}

/// True for `localhost` and loopback addresses: the only hosts plain-text
/// SMTP or IMAP (`tls = "none"`) may talk to.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Framework {
    /// Loads and validates a framework file (file access stays out of
    /// `framework`, which only parses).
    pub fn load(path: &Path) -> Result<Framework, ConfigError> {
        Framework::parse(&crate::config_file::read(path)?, path)
    }
}

fn check_email(
    src: &Source<'_>,
    value: &toml::Spanned<String>,
    key: &str,
) -> Result<String, ConfigError> {
    let v = value.get_ref().trim();
    let ok = match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && v.chars()
                    .all(|c| c.is_ascii_graphic() && !"<>()[],;:\"\\".contains(c))
        }
        None => false,
    };
    if !ok {
        return Err(src.invalid(
            value,
            key,
            format!("`{v}` is not a plain email address"),
            "write the bare address, e.g. email = \"alice@example.org\" (no display name, no angle brackets)",
        ));
    }
    Ok(v.to_ascii_lowercase())
}

fn check_key(
    src: &Source<'_>,
    value: &toml::Spanned<String>,
    key: &str,
) -> Result<String, ConfigError> {
    let v = value.get_ref().trim();
    if v.is_empty()
        || !v
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    {
        return Err(src.invalid(
            value,
            key,
            format!("`{v}` is not a usable key"),
            "use lowercase letters, digits, `-` or `_`, e.g. key = \"alice\"",
        ));
    }
    Ok(v.to_string())
}

/// Parses `mon`, `Monday`, … (case-insensitive).
pub fn parse_day(s: &str) -> Option<Weekday> {
    let s = s.trim().to_ascii_lowercase();
    if s.len() < 3 {
        return None;
    }
    Weekday::from_str(&s)
        .ok()
        .filter(|d| d.to_string().to_ascii_lowercase().starts_with(&s[..3]))
}

/// Parses `HH:MM` (24-hour).
pub fn parse_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

/// Parses durations such as `2h`, `45m`, `2d`, `1h30m`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = Duration::zero();
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().ok()?;
        digits.clear();
        total += match c {
            'w' => Duration::weeks(n),
            'd' => Duration::days(n),
            'h' => Duration::hours(n),
            'm' => Duration::minutes(n),
            _ => return None,
        };
    }
    if !digits.is_empty() {
        return None;
    }
    Some(total)
}

fn slot(src: &Source<'_>, value: &toml::Spanned<String>, key: &str) -> Result<Slot, ConfigError> {
    let v = value.get_ref();
    let mut parts = v.split_whitespace();
    let day = parts.next().and_then(parse_day);
    let time = parts.next().and_then(parse_time);
    match (day, time, parts.next()) {
        (Some(day), Some(time), None) => Ok(Slot { day, time }),
        _ => Err(src.invalid(
            value,
            key,
            format!("`{v}` is not a weekly slot"),
            "write a day and a 24-hour time, e.g. \"mon 10:00\"",
        )),
    }
}

/// A PM's 1:1: `one_on_one = "tue 09:30"` weekly, with
/// `one_on_one_every = 2` (and `one_on_one_from`, a date in the week of one
/// of them) every 2 or more weeks, or `one_on_one = "first mon 10:00"` on
/// that weekday of each month.
fn meetings(src: &Source<'_>, p: &RawPm) -> Result<(Slot, Cadence), ConfigError> {
    let v = p.one_on_one.get_ref().trim();
    let first = v.split_whitespace().next().unwrap_or("");
    if let Some(nth) = parse_ordinal(first) {
        let rest = toml::Spanned::new(p.one_on_one.span(), v[first.len()..].trim().to_string());
        let slot = slot(src, &rest, "pm.one_on_one").map_err(|_| {
            src.invalid(
                &p.one_on_one,
                "pm.one_on_one",
                format!("`{v}` is not a monthly 1:1"),
                "write an ordinal, a day and a 24-hour time, e.g. \"first mon 10:00\" or \"last fri 15:00\"",
            )
        })?;
        if let Some(every) = &p.one_on_one_every {
            return Err(src.invalid(
                every,
                "pm.one_on_one_every",
                "a monthly 1:1 has no week interval",
                "remove one_on_one_every, or write one_on_one as a weekly slot such as \"mon 10:00\"",
            ));
        }
        return Ok((slot, Cadence::Monthly { nth }));
    }
    let slot = slot(src, &p.one_on_one, "pm.one_on_one")?;
    let weeks = p.one_on_one_every.as_ref().map_or(1, |w| *w.get_ref());
    if let Some(every) = p.one_on_one_every.as_ref()
        && !(1..=8).contains(every.get_ref())
    {
        return Err(src.invalid(
            every,
            "pm.one_on_one_every",
            format!("{weeks} is not a number of weeks between 1:1s"),
            "write a number from 1 (weekly) to 8, e.g. one_on_one_every = 2",
        ));
    }
    let from = match &p.one_on_one_from {
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(d.get_ref().trim(), "%Y-%m-%d").map_err(|_| {
                src.invalid(
                    d,
                    "pm.one_on_one_from",
                    format!("`{}` is not a date", d.get_ref()),
                    "write the date of one of the 1:1s as YYYY-MM-DD, e.g. \"2026-12-08\"",
                )
            })?,
        ),
        None => None,
    };
    let cadence = match (weeks, from) {
        (1, _) => Cadence::Weekly,
        (weeks, Some(date)) => Cadence::EveryWeeks {
            weeks,
            anchor: Week::of(date),
        },
        (weeks, None) => {
            return Err(src.invalid(
                &p.one_on_one,
                "pm.one_on_one_from",
                format!("a 1:1 every {weeks} weeks needs to know which weeks"),
                "add the date of one of the 1:1s, e.g. one_on_one_from = \"2026-12-08\"",
            ));
        }
    };
    Ok((slot, cadence))
}

/// Parses `value` with `parse`, or names the key, the value and the fix.
fn parsed<T>(
    src: &Source<'_>,
    value: &toml::Spanned<String>,
    key: &str,
    parse: fn(&str) -> Option<T>,
    (what, fix): (&str, &str),
) -> Result<T, ConfigError> {
    parse(value.get_ref()).ok_or_else(|| {
        src.invalid(
            value,
            key,
            format!("`{}` is not {what}", value.get_ref()),
            fix,
        )
    })
}

fn day(src: &Source<'_>, value: &toml::Spanned<String>, key: &str) -> Result<Weekday, ConfigError> {
    let why = (
        "a day of the week",
        "write mon, tue, wed, thu, fri, sat or sun",
    );
    parsed(src, value, key, parse_day, why)
}

fn time(
    src: &Source<'_>,
    value: &toml::Spanned<String>,
    key: &str,
) -> Result<NaiveTime, ConfigError> {
    let why = ("a time of day", "write a 24-hour time, e.g. \"16:00\"");
    parsed(src, value, key, parse_time, why)
}

fn duration(
    src: &Source<'_>,
    value: &toml::Spanned<String>,
    key: &str,
) -> Result<Duration, ConfigError> {
    let why = (
        "a duration",
        "write it like \"2h\", \"45m\", \"2d\" or \"1h30m\"",
    );
    parsed(src, value, key, parse_duration, why)
}

fn env_name(
    src: &Source<'_>,
    value: &toml::Spanned<String>,
    key: &str,
) -> Result<Option<String>, ConfigError> {
    let v = value.get_ref().trim();
    if v.is_empty() {
        return Ok(None);
    }
    if !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || v.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(src.invalid(
            value,
            key,
            format!("`{v}` is not the name of an environment variable (it looks like a secret itself)"),
            "put the secret in an environment variable and write its name here, e.g. \"COACHMAIL_SMTP_PASSWORD\"",
        ));
    }
    Ok(Some(v.to_string()))
}

/// A secret written straight into the file: refuse it, and say where it belongs.
fn no_inline_secret(
    src: &Source<'_>,
    value: &Option<toml::Spanned<toml::Value>>,
    key: &str,
) -> Result<(), ConfigError> {
    match value {
        Some(v) => Err(src.invalid(
            v,
            key,
            "secrets must not be written in the config file",
            format!("remove `{key}`, put the secret in an environment variable and name it in `{key}_env`"),
        )),
        None => Ok(()),
    }
}

fn tls(
    src: &Source<'_>,
    value: &Option<toml::Spanned<String>>,
    key: &str,
    default: Tls,
) -> Result<Tls, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => match v.get_ref().as_str() {
            "starttls" => Ok(Tls::StartTls),
            "implicit" => Ok(Tls::Implicit),
            "none" => Ok(Tls::None),
            other => Err(src.invalid(
                v,
                key,
                format!("`{other}` is not a TLS mode"),
                "write \"starttls\", \"implicit\" or \"none\" (none only for a relay on loopback)",
            )),
        },
    }
}

fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// One rule for every path in the file: a relative path is relative to
/// the folder holding the file, wherever coachmail is started from.
fn folder_of(config: &Path) -> &Path {
    match config.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

fn build(src: &Source<'_>, raw: RawConfig) -> Result<Config, ConfigError> {
    let config_dir = folder_of(src.path);
    let root = config_dir;

    let s = raw.service;
    check_display_text(src, &s.name, "service.name")?;
    let address = check_email(src, &s.address, "service.address")?;
    no_inline_secret(src, &s.database_key, "service.database_key")?;
    let service = Service {
        name: s.name.get_ref().trim().to_string(),
        address,
        database: resolve(root, &s.database),
        database_key_env: match &s.database_key_env {
            Some(v) => env_name(src, v, "service.database_key_env")?,
            None => None,
        },
        retention_days: s.retention_days,
        outbox_keep_days: match &s.outbox_keep_days {
            Some(v) if *v.get_ref() < MIN_OUTBOX_KEEP_DAYS => {
                return Err(src.invalid(
                    v,
                    "service.outbox_keep_days",
                    format!(
                        "{} days is shorter than the {MIN_OUTBOX_KEEP_DAYS} days a delivered message's key must be kept to never send it twice",
                        v.get_ref()
                    ),
                    format!("set it to {MIN_OUTBOX_KEEP_DAYS} or more (default 35)"),
                ));
            }
            Some(v) => *v.get_ref(),
            None => 35,
        },
        templates: resolve(root, &s.templates),
        framework: resolve(config_dir, &s.framework),
    };
    let framework_path = service.framework.clone();

    let sc = raw.schedule;
    let reminder_after = match &sc.reminder_after {
        Some(v) if !v.get_ref().trim().is_empty() => {
            Some(duration(src, v, "schedule.reminder_after")?)
        }
        _ => None,
    };
    let schedule = Schedule {
        form_day: day(src, &sc.form_day, "schedule.form_day")?,
        form_time: time(src, &sc.form_time, "schedule.form_time")?,
        digest_lead: duration(src, &sc.digest_lead, "schedule.digest_lead")?,
        reminder_after,
        dip_threshold: sc.dip_threshold,
    };
    if !(schedule.dip_threshold > 0.0 && schedule.dip_threshold <= 4.0) {
        return Err(src.invalid_nowhere(
            "schedule.dip_threshold",
            "must be above 0 and at most 4",
            "write e.g. dip_threshold = 1.0 (one point below baseline)",
        ));
    }

    let a = raw.auth;
    let auth = Auth {
        require_reply_key: a.require_reply_key,
        trusted_authserv_ids: a.trusted_authserv_ids,
        max_message_bytes: a.max_message_bytes,
        message_time_budget: std::time::Duration::from_millis(a.message_time_budget_ms),
        replies_per_sender_per_hour: a.replies_per_sender_per_hour,
        refused_per_sender_per_hour: a.refused_per_sender_per_hour,
        reply_key_weeks: a.reply_key_weeks,
        max_pause_days: a.max_pause_days,
        max_note_bytes: a.max_note_bytes,
        max_digest_note_bytes: a.max_digest_note_bytes,
    };
    if auth.replies_per_sender_per_hour == 0 {
        return Err(src.invalid_nowhere(
            "auth.replies_per_sender_per_hour",
            "must be at least 1 (0 would never answer a PM)",
            "write e.g. replies_per_sender_per_hour = 10",
        ));
    }
    if auth.message_time_budget.is_zero() {
        return Err(src.invalid_nowhere(
            "auth.message_time_budget_ms",
            "must be at least 1 (0 would stop at every message)",
            "write e.g. message_time_budget_ms = 10_000 (ten seconds)",
        ));
    }
    if !(1..=8).contains(&auth.reply_key_weeks) {
        return Err(src.invalid_nowhere(
            "auth.reply_key_weeks",
            "must be between 1 and 8",
            "write e.g. reply_key_weeks = 2 (a form closes when the week after next begins)",
        ));
    }
    if !(1..=3660).contains(&auth.max_pause_days) {
        return Err(src.invalid_nowhere(
            "auth.max_pause_days",
            "must be between 1 and 3660",
            "write e.g. max_pause_days = 365 (one year)",
        ));
    }
    if !(256..=102_400).contains(&auth.max_note_bytes) {
        return Err(src.invalid_nowhere(
            "auth.max_note_bytes",
            "must be between 256 and 102400",
            "write e.g. max_note_bytes = 10240 (10 KB)",
        ));
    }
    if !(auth.max_note_bytes..=900_000).contains(&auth.max_digest_note_bytes) {
        return Err(src.invalid_nowhere(
            "auth.max_digest_note_bytes",
            "must be at least max_note_bytes and at most 900000 (a digest stays under 1 MB)",
            "write e.g. max_digest_note_bytes = 200000",
        ));
    }

    let o = raw.outbound;
    no_inline_secret(src, &o.password, "outbound.password")?;
    let outbound = match o.transport.get_ref().as_str() {
        "file" => Outbound::File {
            dir: resolve(root, o.dir.as_deref().unwrap_or("../var/outbox")),
        },
        "smtp" => {
            let host = o.host.clone().ok_or_else(|| {
                src.invalid(
                    &o.transport,
                    "outbound.host",
                    "smtp needs a host",
                    "add host = \"smtp.example.org\"",
                )
            })?;
            let tls = tls(src, &o.tls, "outbound.tls", Tls::StartTls)?;
            let port = o.port.unwrap_or(match tls {
                Tls::Implicit => 465,
                _ => 587,
            });
            let password_env = match &o.password_env {
                Some(v) => env_name(src, v, "outbound.password_env")?,
                None => None,
            };
            if o.user.is_some() != password_env.is_some() {
                return Err(src.invalid(
                    &o.transport,
                    "outbound.user",
                    "user and password_env go together",
                    "set both (to log in) or neither (an open relay on loopback)",
                ));
            }
            let pool = o.pool.unwrap_or(4).max(1);
            Outbound::Smtp(Smtp {
                host,
                port,
                tls,
                user: o.user.clone(),
                password_env,
                pool,
                concurrency: o.concurrency.unwrap_or(pool).clamp(1, pool),
                per_minute: o.per_minute.unwrap_or(600).max(1),
                ca_cert: o
                    .ca_cert
                    .as_deref()
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| resolve(root, p)),
                timeout_seconds: o.timeout_seconds.unwrap_or(30).max(1),
            })
        }
        other => {
            return Err(src.invalid(
                &o.transport,
                "outbound.transport",
                format!("`{other}` is not an outbound transport"),
                "write \"file\" (demo: .eml files) or \"smtp\"",
            ));
        }
    };

    let i = raw.inbound;
    no_inline_secret(src, &i.password, "inbound.password")?;
    let inbound = match i.transport.get_ref().as_str() {
        "maildir" => Inbound::Maildir {
            dir: resolve(root, i.dir.as_deref().unwrap_or("../var/inbox")),
        },
        "none" => Inbound::None,
        "imap" => {
            let need = |v: &Option<String>, k: &str, eg: &str| {
                v.clone().ok_or_else(|| {
                    src.invalid(&i.transport, k, "imap needs it", format!("add {eg}"))
                })
            };
            let host = need(&i.host, "inbound.host", "host = \"imap.example.org\"")?;
            let user = need(&i.user, "inbound.user", "user = \"pulse@example.org\"")?;
            let password_env = match &i.password_env {
                Some(v) => env_name(src, v, "inbound.password_env")?,
                None => None,
            }
            .ok_or_else(|| {
                src.invalid(
                    &i.transport,
                    "inbound.password_env",
                    "imap needs a password",
                    "add password_env = \"COACHMAIL_IMAP_PASSWORD\" and set that variable",
                )
            })?;
            let tls = tls(src, &i.tls, "inbound.tls", Tls::Implicit)?;
            Inbound::Imap(Imap {
                host,
                port: i.port.unwrap_or(match tls {
                    Tls::Implicit => 993,
                    _ => 143,
                }),
                tls,
                user,
                password_env,
                folder: i.folder.clone().unwrap_or_else(|| "INBOX".into()),
                processed_folder: i.processed_folder.clone().filter(|f| !f.is_empty()),
                idle: i.idle.unwrap_or(true),
                poll_seconds: i.poll_seconds.unwrap_or(60).max(1),
                ca_cert: i
                    .ca_cert
                    .as_deref()
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| resolve(root, p)),
                timeout_seconds: i.timeout_seconds.unwrap_or(30).max(1),
            })
        }
        other => {
            return Err(src.invalid(
                &i.transport,
                "inbound.transport",
                format!("`{other}` is not an inbound transport"),
                "write \"maildir\", \"imap\" or \"none\" (only `coachmail ingest`)",
            ));
        }
    };

    let mut seen_keys = HashSet::new();
    let mut seen_emails = HashSet::new();
    seen_emails.insert(service.address.clone());
    let mut coaches = Vec::new();
    for c in &raw.coach {
        let key = check_key(src, &c.key, "coach.key")?;
        if !seen_keys.insert(key.clone()) {
            return Err(src.invalid(
                &c.key,
                "coach.key",
                format!("key `{key}` is used twice"),
                "give every coach and PM its own key",
            ));
        }
        check_display_text(src, &c.name, "coach.name")?;
        let email = check_email(src, &c.email, "coach.email")?;
        if !seen_emails.insert(email.clone()) {
            return Err(src.invalid(
                &c.email,
                "coach.email",
                format!("`{email}` is used twice"),
                "every person (and the service) needs its own address",
            ));
        }
        coaches.push(Coach {
            key,
            name: c.name.get_ref().trim().to_string(),
            email,
        });
    }
    let mut pms = Vec::new();
    for p in &raw.pm {
        let key = check_key(src, &p.key, "pm.key")?;
        if !seen_keys.insert(key.clone()) {
            return Err(src.invalid(
                &p.key,
                "pm.key",
                format!("key `{key}` is used twice"),
                "give every coach and PM its own key",
            ));
        }
        check_display_text(src, &p.name, "pm.name")?;
        let email = check_email(src, &p.email, "pm.email")?;
        if !seen_emails.insert(email.clone()) {
            return Err(src.invalid(
                &p.email,
                "pm.email",
                format!("`{email}` is used twice"),
                "every person (and the service) needs its own address",
            ));
        }
        let coach = p.coach.get_ref().trim().to_string();
        if !coaches.iter().any(|c: &Coach| c.key == coach) {
            return Err(src.invalid(
                &p.coach,
                "pm.coach",
                format!("PM `{key}` is paired with coach `{coach}`, but no [[coach]] has that key"),
                format!(
                    "add a [[coach]] with key = \"{coach}\", or pair `{key}` with an existing coach"
                ),
            ));
        }
        let timezone = Tz::from_str(p.timezone.get_ref().trim()).map_err(|_| {
            src.invalid(
                &p.timezone,
                "pm.timezone",
                format!("`{}` is not an IANA time zone", p.timezone.get_ref()),
                "write a name such as \"Europe/Paris\", \"America/New_York\" or \"Australia/Sydney\"",
            )
        })?;
        let (one_on_one, cadence) = meetings(src, p)?;
        let form = Slot {
            day: match &p.form_day {
                Some(d) => day(src, d, "pm.form_day")?,
                None => schedule.form_day,
            },
            time: match &p.form_time {
                Some(t) => time(src, t, "pm.form_time")?,
                None => schedule.form_time,
            },
        };
        pms.push(Pm {
            key,
            name: p.name.get_ref().trim().to_string(),
            email,
            coach,
            timezone,
            one_on_one,
            cadence,
            form,
        });
    }
    if pms.is_empty() {
        return Err(src.invalid_nowhere(
            "pm",
            "the roster has no PM",
            "add at least one [[pm]] table",
        ));
    }

    let framework = Framework::load(&framework_path).map_err(|e| match e {
        ConfigError::Read { path, source } => src.invalid_nowhere(
            "service.framework",
            format!("cannot read {}: {source}", path.display()),
            "point service.framework at the skills framework file (a relative path is relative to this config's folder)",
        ),
        other => other,
    })?;
    Ok(Config {
        path: src.path.to_path_buf(),
        service,
        schedule,
        auth,
        outbound,
        inbound,
        coaches,
        pms,
        framework,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    service: RawService,
    schedule: RawSchedule,
    #[serde(default)]
    auth: RawAuth,
    outbound: RawOutbound,
    inbound: RawInbound,
    #[serde(default)]
    coach: Vec<RawCoach>,
    #[serde(default)]
    pm: Vec<RawPm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    name: toml::Spanned<String>,
    address: toml::Spanned<String>,
    #[serde(default = "default_database")]
    database: String,
    database_key_env: Option<toml::Spanned<String>>,
    database_key: Option<toml::Spanned<toml::Value>>,
    #[serde(default = "default_retention")]
    retention_days: u32,
    outbox_keep_days: Option<toml::Spanned<u32>>,
    #[serde(default = "default_framework")]
    framework: String,
    #[serde(default = "default_templates")]
    templates: String,
}

fn default_database() -> String {
    "../var/coachmail.db".into()
}
fn default_retention() -> u32 {
    30
}
fn default_framework() -> String {
    "framework.toml".into()
}
fn default_templates() -> String {
    "../templates".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    form_day: toml::Spanned<String>,
    form_time: toml::Spanned<String>,
    digest_lead: toml::Spanned<String>,
    reminder_after: Option<toml::Spanned<String>>,
    #[serde(default = "default_dip")]
    dip_threshold: f64,
}

fn default_dip() -> f64 {
    1.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    #[serde(default = "yes")]
    require_reply_key: bool,
    #[serde(default)]
    trusted_authserv_ids: Vec<String>,
    #[serde(default = "default_max_bytes")]
    max_message_bytes: usize,
    #[serde(default = "default_message_time_budget_ms")]
    message_time_budget_ms: u64,
    #[serde(default = "default_per_hour")]
    replies_per_sender_per_hour: u32,
    #[serde(default = "default_refused_per_hour")]
    refused_per_sender_per_hour: u32,
    #[serde(default = "default_reply_key_weeks")]
    reply_key_weeks: u32,
    #[serde(default = "default_max_pause_days")]
    max_pause_days: u32,
    #[serde(default = "default_max_note_bytes")]
    max_note_bytes: usize,
    #[serde(default = "default_max_digest_note_bytes")]
    max_digest_note_bytes: usize,
}

impl Default for RawAuth {
    fn default() -> Self {
        RawAuth {
            require_reply_key: true,
            trusted_authserv_ids: Vec::new(),
            max_message_bytes: default_max_bytes(),
            message_time_budget_ms: default_message_time_budget_ms(),
            replies_per_sender_per_hour: default_per_hour(),
            refused_per_sender_per_hour: default_refused_per_hour(),
            reply_key_weeks: default_reply_key_weeks(),
            max_pause_days: default_max_pause_days(),
            max_note_bytes: default_max_note_bytes(),
            max_digest_note_bytes: default_max_digest_note_bytes(),
        }
    }
}

fn yes() -> bool {
    true
}
fn default_max_bytes() -> usize {
    10_000_000
}
fn default_message_time_budget_ms() -> u64 {
    10_000
}
fn default_per_hour() -> u32 {
    10
}
fn default_refused_per_hour() -> u32 {
    20
}
fn default_reply_key_weeks() -> u32 {
    2
}
fn default_max_pause_days() -> u32 {
    365
}
fn default_max_note_bytes() -> usize {
    10_240
}
fn default_max_digest_note_bytes() -> usize {
    200_000
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutbound {
    transport: toml::Spanned<String>,
    dir: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    tls: Option<toml::Spanned<String>>,
    user: Option<String>,
    password_env: Option<toml::Spanned<String>>,
    password: Option<toml::Spanned<toml::Value>>,
    pool: Option<u32>,
    concurrency: Option<u32>,
    per_minute: Option<u32>,
    ca_cert: Option<String>,
    timeout_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInbound {
    transport: toml::Spanned<String>,
    dir: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    tls: Option<toml::Spanned<String>>,
    user: Option<String>,
    password_env: Option<toml::Spanned<String>>,
    password: Option<toml::Spanned<toml::Value>>,
    folder: Option<String>,
    processed_folder: Option<String>,
    idle: Option<bool>,
    poll_seconds: Option<u64>,
    ca_cert: Option<String>,
    timeout_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoach {
    key: toml::Spanned<String>,
    name: toml::Spanned<String>,
    email: toml::Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPm {
    key: toml::Spanned<String>,
    name: toml::Spanned<String>,
    email: toml::Spanned<String>,
    coach: toml::Spanned<String>,
    timezone: toml::Spanned<String>,
    one_on_one: toml::Spanned<String>,
    one_on_one_every: Option<toml::Spanned<u8>>,
    one_on_one_from: Option<toml::Spanned<String>>,
    form_day: Option<toml::Spanned<String>>,
    form_time: Option<toml::Spanned<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../config/coachmail.toml");

    /// The shipped demo config with `from` replaced by `to`, parsed as if it
    /// lived in the repository's `config/` folder.
    fn parse_with(from: &str, to: &str) -> Result<Config, ConfigError> {
        assert!(
            SHIPPED.contains(from),
            "test edit `{from}` not found in shipped config"
        );
        let text = SHIPPED.replacen(from, to, 1);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/coachmail.toml");
        Config::parse(&text, &path)
    }

    fn error_of(from: &str, to: &str) -> String {
        match parse_with(from, to) {
            Ok(_) => panic!("config with `{to}` was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn shipped_demo_config_loads() {
        let c = parse_with("[service]", "[service]").unwrap();
        assert_eq!(c.coaches.len(), 2);
        assert_eq!(c.pms.len(), 5);
        let zones: HashSet<_> = c.pms.iter().map(|p| p.timezone).collect();
        assert!(zones.len() >= 3);
        assert!(zones.contains(&chrono_tz::Australia::Sydney));
        let chloe = c.pm("chloe").unwrap();
        assert_eq!(
            chloe.form,
            Slot {
                day: Weekday::Thu,
                time: NaiveTime::from_hms_opt(17, 30, 0).unwrap()
            }
        );
        assert_eq!(c.pm_by_email("ALICE@example.org").unwrap().key, "alice");
        assert!(matches!(c.outbound, Outbound::File { .. }));
        assert!(matches!(c.inbound, Inbound::Maildir { .. }));
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = error_of("retention_days = 30", "retention_days = 30\nretention = 9");
        assert!(err.contains("coachmail.toml:20"), "{err}");
        assert!(err.contains("unknown field `retention`"), "{err}");
        assert!(err.contains("remove it or fix its spelling"), "{err}");
    }

    #[test]
    fn outbox_keep_shorter_than_the_schedules_look_back_is_refused() {
        let err = error_of("outbox_keep_days = 35", "outbox_keep_days = 7");
        assert!(err.contains("service.outbox_keep_days"), "{err}");
        assert!(err.contains("28 or more"), "{err}");
        let c = parse_with("outbox_keep_days = 35", "outbox_keep_days = 60").unwrap();
        assert_eq!(c.service.outbox_keep_days, 60);
    }

    #[test]
    fn pm_paired_with_missing_coach_is_refused() {
        let err = error_of("coach = \"tom\"", "coach = \"tim\"");
        assert!(err.contains("no [[coach]] has that key"), "{err}");
        assert!(err.contains("`pm.coach`"), "{err}");
        assert!(err.contains("add a [[coach]] with key = \"tim\""), "{err}");
    }

    #[test]
    fn duplicate_email_is_refused_with_its_line() {
        let err = error_of(
            "email = \"bruno@example.org\"",
            "email = \"Alice@example.org\"",
        );
        assert!(err.contains("`alice@example.org` is used twice"), "{err}");
        assert!(err.contains("coachmail.toml:"), "{err}");
    }

    #[test]
    fn duplicate_key_is_refused() {
        let err = error_of("key = \"bruno\"", "key = \"alice\"");
        assert!(err.contains("key `alice` is used twice"), "{err}");
    }

    #[test]
    fn bad_time_zone_is_refused() {
        let err = error_of(
            "timezone = \"Europe/Paris\"",
            "timezone = \"Europe/Pariss\"",
        );
        assert!(err.contains("not an IANA time zone"), "{err}");
    }

    #[test]
    fn bad_day_and_time_are_refused() {
        let err = error_of("form_day = \"fri\"", "form_day = \"friyay\"");
        assert!(err.contains("not a day of the week"), "{err}");
        let err = error_of("form_time = \"16:00\"", "form_time = \"25:00\"");
        assert!(err.contains("not a time of day"), "{err}");
        let err = error_of(
            "one_on_one = \"mon 10:00\"",
            "one_on_one = \"monday at ten\"",
        );
        assert!(err.contains("not a weekly slot"), "{err}");
    }

    #[test]
    fn inline_password_is_refused_and_points_to_env_var() {
        let err = error_of(
            "transport = \"file\"",
            "transport = \"file\"\npassword = \"hunter2\"",
        );
        assert!(
            err.contains("secrets must not be written in the config file"),
            "{err}"
        );
        assert!(err.contains("password_env"), "{err}");
        assert!(
            !err.contains("hunter2"),
            "the error must not echo the secret: {err}"
        );
    }

    #[test]
    fn secret_pasted_into_env_name_is_refused() {
        let err = error_of(
            "database_key_env = \"\"",
            "database_key_env = \"s3cr3t!pass word\"",
        );
        assert!(
            err.contains("not the name of an environment variable"),
            "{err}"
        );
    }

    #[test]
    fn display_name_with_line_break_is_refused() {
        let err = error_of(
            "name = \"Alice Martin\"",
            "name = \"Alice\\r\\nBcc: eve@evil.example\"",
        );
        assert!(err.contains("line break or control character"), "{err}");
    }

    #[test]
    fn missing_framework_file_is_named() {
        let err = error_of(
            "framework = \"framework.toml\"",
            "framework = \"nope.toml\"",
        );
        assert!(err.contains("nope.toml"), "{err}");
        assert!(err.contains("cannot read"), "{err}");
    }

    #[test]
    fn syntax_error_names_the_line() {
        let err = error_of("[schedule]", "[schedule");
        assert!(err.contains("coachmail.toml:"), "{err}");
    }

    #[test]
    fn smtp_keys_parse_with_defaults_and_relative_ca_cert() {
        let c = parse_with(
            "transport = \"file\"                     #",
            "transport = \"smtp\"\nhost = \"127.0.0.1\"\ntls = \"none\"\npool = 8\nca_cert = \"tls/ca.pem\"\n#",
        )
        .unwrap();
        let Outbound::Smtp(s) = c.outbound else {
            panic!("smtp expected")
        };
        assert_eq!(
            (s.port, s.pool, s.concurrency, s.per_minute),
            (587, 8, 8, 600)
        );
        assert_eq!(s.timeout_seconds, 30);
        // Relative to the config file's folder, like every path.
        assert_eq!(
            s.ca_cert,
            Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/tls/ca.pem"))
        );
        assert_eq!(s.user, None);
    }

    #[test]
    fn smtp_concurrency_is_capped_by_the_pool() {
        let c = parse_with(
            "transport = \"file\"                     #",
            "transport = \"smtp\"\nhost = \"relay\"\npool = 2\nconcurrency = 9\ntimeout_seconds = 5\n#",
        )
        .unwrap();
        let Outbound::Smtp(s) = c.outbound else {
            panic!("smtp expected")
        };
        assert_eq!((s.pool, s.concurrency, s.timeout_seconds), (2, 2, 5));
    }

    #[test]
    fn imap_keys_parse_with_defaults() {
        let c = parse_with(
            "transport = \"maildir\"                  #",
            "transport = \"imap\"\nhost = \"127.0.0.1\"\nuser = \"pulse\"\npassword_env = \"PW\"\npoll_seconds = 5\nca_cert = \"/tmp/ca.pem\"\n#",
        )
        .unwrap();
        let Inbound::Imap(i) = c.inbound else {
            panic!("imap expected")
        };
        assert_eq!((i.port, i.tls.clone(), i.idle), (993, Tls::Implicit, true));
        assert_eq!((i.poll_seconds, i.timeout_seconds), (5, 30));
        assert_eq!(i.ca_cert, Some(PathBuf::from("/tmp/ca.pem")));
        assert_eq!(i.folder, "INBOX");
        assert_eq!(i.processed_folder, None);
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("2h"), Some(Duration::hours(2)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("2d"), Some(Duration::days(2)));
        assert_eq!(parse_duration("2"), None);
        assert_eq!(parse_duration("2x"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn days_parse_short_and_long() {
        assert_eq!(parse_day("Fri"), Some(Weekday::Fri));
        assert_eq!(parse_day("friday"), Some(Weekday::Fri));
        assert_eq!(parse_day("fr"), None);
    }

    #[test]
    fn a_pms_one_on_one_may_be_every_few_weeks_from_a_date_or_monthly() {
        let c = parse_with(
            "one_on_one = \"tue 09:30\"",
            "one_on_one = \"tue 09:30\"\none_on_one_every = 2\none_on_one_from = \"2026-12-08\"",
        )
        .unwrap();
        let bruno = c.pm("bruno").unwrap();
        assert_eq!(
            bruno.cadence,
            Cadence::EveryWeeks {
                weeks: 2,
                anchor: "2026-W50".parse().unwrap()
            }
        );
        assert_eq!(c.pm("alice").unwrap().cadence, Cadence::Weekly);
        let c = parse_with(
            "one_on_one = \"tue 09:30\"",
            "one_on_one = \"Last Fri 15:00\"",
        )
        .unwrap();
        let bruno = c.pm("bruno").unwrap();
        assert_eq!(bruno.cadence, Cadence::Monthly { nth: 5 });
        assert_eq!(bruno.one_on_one.day, Weekday::Fri);
        assert_eq!(bruno.cadence.to_string(), "monthly, the last");
    }

    #[test]
    fn a_one_on_one_cadence_that_cannot_be_read_names_the_key_and_the_fix() {
        let tue = "one_on_one = \"tue 09:30\"";
        for (to, key, fix) in [
            (
                "one_on_one = \"tue 09:30\"\none_on_one_every = 2",
                "pm.one_on_one_from",
                "one_on_one_from = \"2026-12-08\"",
            ),
            (
                "one_on_one = \"tue 09:30\"\none_on_one_every = 0",
                "pm.one_on_one_every",
                "from 1 (weekly) to 8",
            ),
            (
                "one_on_one = \"tue 09:30\"\none_on_one_every = 12\none_on_one_from = \"2026-12-08\"",
                "pm.one_on_one_every",
                "from 1 (weekly) to 8",
            ),
            (
                "one_on_one = \"tue 09:30\"\none_on_one_every = 2\none_on_one_from = \"next week\"",
                "pm.one_on_one_from",
                "YYYY-MM-DD",
            ),
            (
                "one_on_one = \"fifth tue 09:30\"",
                "pm.one_on_one",
                "\"mon 10:00\"",
            ),
            (
                "one_on_one = \"first tue\"",
                "pm.one_on_one",
                "\"first mon 10:00\"",
            ),
            (
                "one_on_one = \"first tue 09:30\"\none_on_one_every = 2",
                "pm.one_on_one_every",
                "remove one_on_one_every",
            ),
            (
                "one_on_one = \"tue 09:30\"\none_on_one_every = \"two\"",
                "pm.one_on_one_every",
                "",
            ),
        ] {
            let e = error_of(tue, to);
            assert!(e.contains(key), "{to}: {e}");
            assert!(e.contains(fix), "{to}: {e}");
        }
    }
}
