//! A validated snapshot of the loaded config, kept beside the database
//! (`<database>.config-snapshot`), so `coachmail ingest` with a large
//! roster skips the TOML parse and the checks of every PM.
//!
//! Owns when a snapshot may stand in for the config file: only when the
//! file's bytes, the path it was named by and the code that turns a file
//! into a [`Config`] are exactly those the snapshot was made from (one
//! SHA-256 over all three), and the snapshot's own bytes are intact (a
//! second SHA-256). The framework is never snapshotted: it is small, and
//! read and parsed afresh every time. Never an error for the caller: a
//! missing, old, damaged or stale snapshot means a full load of the files,
//! whose errors are the config's own. Holds nothing the config file does
//! not (names, addresses, paths; never a secret).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Auth, Config, ConfigError, Inbound, Outbound, Schedule, Service};
use crate::framework::Framework;

/// The first line of every snapshot file.
const MAGIC: &str = "coachmail-config-snapshot-1";

/// The code a snapshot depends on: a change to any of it (a new default, a
/// new rule) makes every older snapshot stale.
const CODE: [&str; 3] = [
    include_str!("../config.rs"),
    include_str!("../config_file.rs"),
    include_str!("snapshot.rs"),
];

/// How [`load`] got its config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// From an intact snapshot of these very bytes.
    Snapshot,
    /// From the files (the snapshot was missing, old, damaged or stale).
    Files,
}

/// Why a snapshot was not used or not written. Never shown to a PM and
/// never fails a command: the caller loads the files instead.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("the config names no database to keep a snapshot beside")]
    NoDatabase,
    #[error("no snapshot can be read: {0}")]
    Read(std::io::Error),
    #[error("the snapshot was written by another version of coachmail")]
    OtherVersion,
    #[error("the config file (or the code that reads it) changed since the snapshot")]
    Stale,
    #[error("the snapshot is damaged")]
    Damaged,
    #[error("the snapshot cannot be decoded: {0}")]
    Decode(serde_json::Error),
    #[error("the framework cannot be read or parsed")]
    Framework,
    #[error("cannot encode the snapshot: {0}")]
    Encode(serde_json::Error),
    #[error("cannot write the snapshot: {0}")]
    Write(std::io::Error),
}

impl SnapshotError {
    /// A content-free name for logs.
    fn class(&self) -> &'static str {
        match self {
            SnapshotError::NoDatabase => "no-database",
            SnapshotError::Read(_) => "missing",
            SnapshotError::OtherVersion => "other-version",
            SnapshotError::Stale => "stale",
            SnapshotError::Damaged => "damaged",
            SnapshotError::Decode(_) => "undecodable",
            SnapshotError::Framework => "framework",
            SnapshotError::Encode(_) => "unencodable",
            SnapshotError::Write(_) => "unwritable",
        }
    }
}

/// The snapshot file of the database at `database`.
pub fn snapshot_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".config-snapshot");
    PathBuf::from(name)
}

/// The config at `path`, from its snapshot when the snapshot is of these
/// very bytes, else from the files (then a fresh snapshot is written
/// beside an existing database). For `coachmail ingest`.
pub fn load(path: &Path) -> Result<(Config, Origin), ConfigError> {
    match from_snapshot(path) {
        Ok(config) => return Ok((config, Origin::Snapshot)),
        Err(e) => tracing::debug!(reason = e.class(), "config snapshot not used"),
    }
    // The text parsed here is the text the new snapshot is keyed by.
    let text = crate::config_file::read(path)?;
    let config = Config::parse(&text, path)?;
    save_quietly(&config, &text);
    Ok((config, Origin::Files))
}

/// The config at `path` from the files, always, and a fresh snapshot of
/// it beside an existing database. For `run` and `check`.
pub fn load_and_save(path: &Path) -> Result<Config, ConfigError> {
    let text = crate::config_file::read(path)?;
    let config = Config::parse(&text, path)?;
    save_quietly(&config, &text);
    Ok(config)
}

fn save_quietly(config: &Config, text: &str) {
    if let Err(e) = save(config, text) {
        tracing::debug!(reason = e.class(), "config snapshot not written");
    }
}

/// The SHA-256 a snapshot is keyed by: the code, the path as given, then
/// the config's bytes (fed by the caller).
fn keyer(path: &Path) -> Sha256 {
    let mut h = Sha256::new();
    h.update(MAGIC);
    for code in CODE {
        h.update((code.len() as u64).to_le_bytes());
        h.update(code);
    }
    let path = path.as_os_str().as_encoded_bytes();
    h.update((path.len() as u64).to_le_bytes());
    h.update(path);
    h
}

fn key_of(text: &str, path: &Path) -> [u8; 32] {
    let mut h = keyer(path);
    h.update(text);
    h.finalize().into()
}

/// The config file at `path` read once in chunks (a large roster is never
/// held whole): its key, and its first [`HEAD`] bytes to locate the
/// snapshot by.
fn key_of_file(path: &Path) -> Result<([u8; 32], String), SnapshotError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(SnapshotError::Read)?;
    let mut h = keyer(path);
    let mut head = Vec::new();
    let mut buf = vec![0u8; HEAD];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(SnapshotError::Read(e)),
        };
        h.update(&buf[..n]);
        if head.len() < HEAD {
            let take = n.min(HEAD - head.len());
            head.extend_from_slice(&buf[..take]);
        }
    }
    Ok((
        h.finalize().into(),
        String::from_utf8_lossy(&head).into_owned(),
    ))
}

/// How much of the config's opening is searched for its `[service]` table.
const HEAD: usize = 64 * 1024;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the snapshot of a config would be, from the config's opening
/// `head`: beside the database its `[service]` table names. Only a hint to
/// find the file (the key decides whether it may be used), so anything
/// unusual is simply `None`.
fn located(text: &str, path: &Path) -> Option<PathBuf> {
    let is_header = |l: &str, name: &str| l.split('#').next().is_some_and(|h| h.trim() == name);
    let mut lines = text.lines();
    lines.by_ref().find(|l| is_header(l, "[service]"))?;
    let table: Vec<&str> = lines
        .take_while(|l| !l.trim_start().starts_with('['))
        .collect();
    #[derive(Deserialize)]
    struct Hint {
        database: Option<String>,
    }
    let hint: Hint = toml::from_str(&table.join("\n")).ok()?;
    let database = hint.database.unwrap_or_else(super::default_database);
    Some(snapshot_path(&super::resolve(
        super::folder_of(path),
        &database,
    )))
}

/// Everything of a [`Config`] but the roster and the framework, as the
/// snapshot keeps it (JSON: small, and changes shape with the code).
#[derive(Serialize)]
struct SettingsRef<'a> {
    path: &'a Path,
    service: &'a Service,
    schedule: &'a Schedule,
    auth: &'a Auth,
    outbound: &'a Outbound,
    inbound: &'a Inbound,
}

#[derive(Deserialize)]
struct Settings {
    path: PathBuf,
    service: Service,
    schedule: Schedule,
    auth: Auth,
    outbound: Outbound,
    inbound: Inbound,
}

/// The snapshot's body: the settings as JSON (their length first), then
/// the roster in a compact binary form ([`roster`]), the bulk of a large
/// config and cheap to read back.
fn encode(config: &Config) -> Result<Vec<u8>, SnapshotError> {
    let settings = serde_json::to_vec(&SettingsRef {
        path: &config.path,
        service: &config.service,
        schedule: &config.schedule,
        auth: &config.auth,
        outbound: &config.outbound,
        inbound: &config.inbound,
    })
    .map_err(SnapshotError::Encode)?;
    let mut body = Vec::with_capacity(settings.len() + 64 * (config.pms.len() + 8));
    roster::put_len(&mut body, settings.len())?;
    body.extend_from_slice(&settings);
    roster::encode(&mut body, &config.coaches, &config.pms)?;
    Ok(body)
}

/// Writes the snapshot of `config`, loaded from `text`, beside its
/// database, if the database exists (a snapshot never creates a folder).
/// Written whole to a temporary file, then renamed over the old one.
pub fn save(config: &Config, text: &str) -> Result<(), SnapshotError> {
    let database = &config.service.database;
    if !database.exists() {
        return Err(SnapshotError::NoDatabase);
    }
    let target = snapshot_path(database);
    let body = encode(config)?;
    let mut bytes = Vec::with_capacity(body.len() + 160);
    bytes.extend_from_slice(MAGIC.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(hex(&key_of(text, &config.path)).as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(hex(&Sha256::digest(&body)).as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(&body);
    let mut tmp = target.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(&bytes))
        .and_then(|()| std::fs::rename(&tmp, &target));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(SnapshotError::Write(e));
    }
    Ok(())
}

/// The config at `path` loads to, from its snapshot.
fn from_snapshot(path: &Path) -> Result<Config, SnapshotError> {
    let (key, head) = key_of_file(path)?;
    let file = located(&head, path).ok_or(SnapshotError::NoDatabase)?;
    let bytes = std::fs::read(&file).map_err(SnapshotError::Read)?;
    let mut parts = bytes.splitn(4, |&b| b == b'\n');
    let (Some(magic), Some(stored_key), Some(sum), Some(body)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SnapshotError::Damaged);
    };
    if magic != MAGIC.as_bytes() {
        return Err(SnapshotError::OtherVersion);
    }
    if stored_key != hex(&key).as_bytes() {
        return Err(SnapshotError::Stale);
    }
    if sum != hex(&Sha256::digest(body)).as_bytes() {
        return Err(SnapshotError::Damaged);
    }
    let mut r = roster::Reader::new(body);
    let settings = r.bytes()?;
    let settings: Settings = serde_json::from_slice(settings).map_err(SnapshotError::Decode)?;
    if settings.path != path {
        return Err(SnapshotError::Stale);
    }
    let (coaches, pms) = roster::decode(&mut r)?;
    // The framework as it is now; any trouble with it is the full load's
    // to report.
    let framework = crate::config_file::read(&settings.service.framework)
        .ok()
        .and_then(|t| Framework::parse(&t, &settings.service.framework).ok())
        .ok_or(SnapshotError::Framework)?;
    Ok(Config {
        path: settings.path,
        service: settings.service,
        schedule: settings.schedule,
        auth: settings.auth,
        outbound: settings.outbound,
        inbound: settings.inbound,
        coaches,
        pms,
        framework,
    })
}

/// The roster in binary: every string as a little-endian `u32` length and
/// its UTF-8 bytes; a PM's coach as the coach's index, their time zone as
/// an index into a table of names, a slot as a day (0 = Monday) and the
/// time as seconds and nanoseconds since midnight.
mod roster {
    use std::collections::HashMap;

    use chrono::{NaiveTime, Timelike, Weekday};
    use chrono_tz::Tz;

    use super::SnapshotError;
    use crate::config::{Cadence, Coach, Pm, Slot};
    use crate::week::Week;

    const DAYS: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    pub fn put_len(out: &mut Vec<u8>, n: usize) -> Result<(), SnapshotError> {
        let n = u32::try_from(n).map_err(|_| SnapshotError::Damaged)?;
        out.extend_from_slice(&n.to_le_bytes());
        Ok(())
    }

    fn put_str(out: &mut Vec<u8>, s: &str) -> Result<(), SnapshotError> {
        put_len(out, s.len())?;
        out.extend_from_slice(s.as_bytes());
        Ok(())
    }

    fn put_slot(out: &mut Vec<u8>, slot: Slot) {
        out.push(slot.day.num_days_from_monday() as u8);
        out.extend_from_slice(&slot.time.num_seconds_from_midnight().to_le_bytes());
        out.extend_from_slice(&slot.time.nanosecond().to_le_bytes());
    }

    pub fn encode(out: &mut Vec<u8>, coaches: &[Coach], pms: &[Pm]) -> Result<(), SnapshotError> {
        put_len(out, coaches.len())?;
        let mut coach_index = HashMap::new();
        for (i, c) in coaches.iter().enumerate() {
            coach_index.insert(c.key.as_str(), i);
            put_str(out, &c.key)?;
            put_str(out, &c.name)?;
            put_str(out, &c.email)?;
        }
        let mut zones: Vec<&str> = pms.iter().map(|p| p.timezone.name()).collect();
        zones.sort_unstable();
        zones.dedup();
        put_len(out, zones.len())?;
        for z in &zones {
            put_str(out, z)?;
        }
        put_len(out, pms.len())?;
        for p in pms {
            put_str(out, &p.key)?;
            put_str(out, &p.name)?;
            put_str(out, &p.email)?;
            let coach = coach_index
                .get(p.coach.as_str())
                .ok_or(SnapshotError::Damaged)?;
            put_len(out, *coach)?;
            let zone = zones
                .binary_search(&p.timezone.name())
                .map_err(|_| SnapshotError::Damaged)?;
            put_len(out, zone)?;
            put_slot(out, p.one_on_one);
            put_cadence(out, p.cadence);
            put_slot(out, p.form);
        }
        Ok(())
    }

    /// 0 weekly; 1, weeks, the anchor week's year (i32) and number;
    /// 2, the monthly rule's ordinal.
    fn put_cadence(out: &mut Vec<u8>, cadence: Cadence) {
        match cadence {
            Cadence::Weekly => out.push(0),
            Cadence::EveryWeeks { weeks, anchor } => {
                out.push(1);
                out.push(weeks);
                out.extend_from_slice(&anchor.year().to_le_bytes());
                out.push(anchor.number() as u8);
            }
            Cadence::Monthly { nth } => {
                out.push(2);
                out.push(nth);
            }
        }
    }

    /// Reads what [`encode`] wrote; anything short or out of range is
    /// [`SnapshotError::Damaged`].
    pub struct Reader<'a> {
        rest: &'a [u8],
    }

    impl<'a> Reader<'a> {
        pub fn new(bytes: &'a [u8]) -> Self {
            Reader { rest: bytes }
        }

        fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
            if self.rest.len() < n {
                return Err(SnapshotError::Damaged);
            }
            let (head, rest) = self.rest.split_at(n);
            self.rest = rest;
            Ok(head)
        }

        fn u32(&mut self) -> Result<u32, SnapshotError> {
            let b = self.take(4)?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        }

        fn len(&mut self) -> Result<usize, SnapshotError> {
            usize::try_from(self.u32()?).map_err(|_| SnapshotError::Damaged)
        }

        pub fn bytes(&mut self) -> Result<&'a [u8], SnapshotError> {
            let n = self.len()?;
            self.take(n)
        }

        fn string(&mut self) -> Result<String, SnapshotError> {
            let b = self.bytes()?;
            std::str::from_utf8(b)
                .map(str::to_string)
                .map_err(|_| SnapshotError::Damaged)
        }

        fn cadence(&mut self) -> Result<Cadence, SnapshotError> {
            Ok(match self.take(1)?[0] {
                0 => Cadence::Weekly,
                1 => {
                    let weeks = self.take(1)?[0];
                    let y = self.take(4)?;
                    let year = i32::from_le_bytes([y[0], y[1], y[2], y[3]]);
                    let number = u32::from(self.take(1)?[0]);
                    let anchor = Week::new(year, number).ok_or(SnapshotError::Damaged)?;
                    Cadence::EveryWeeks { weeks, anchor }
                }
                2 => Cadence::Monthly {
                    nth: self.take(1)?[0],
                },
                _ => return Err(SnapshotError::Damaged),
            })
        }

        fn slot(&mut self) -> Result<Slot, SnapshotError> {
            let day = *DAYS
                .get(usize::from(self.take(1)?[0]))
                .ok_or(SnapshotError::Damaged)?;
            let (secs, nanos) = (self.u32()?, self.u32()?);
            let time = NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)
                .ok_or(SnapshotError::Damaged)?;
            Ok(Slot { day, time })
        }
    }

    pub fn decode(r: &mut Reader<'_>) -> Result<(Vec<Coach>, Vec<Pm>), SnapshotError> {
        let n = r.len()?;
        let mut coaches = Vec::with_capacity(n.min(r.rest.len()));
        for _ in 0..n {
            coaches.push(Coach {
                key: r.string()?,
                name: r.string()?,
                email: r.string()?,
            });
        }
        let n = r.len()?;
        let mut zones: Vec<Tz> = Vec::with_capacity(n.min(r.rest.len()));
        for _ in 0..n {
            let name = std::str::from_utf8(r.bytes()?).map_err(|_| SnapshotError::Damaged)?;
            zones.push(name.parse().map_err(|_| SnapshotError::Damaged)?);
        }
        let n = r.len()?;
        let mut pms = Vec::with_capacity(n.min(r.rest.len()));
        for _ in 0..n {
            let (key, name, email) = (r.string()?, r.string()?, r.string()?);
            let coach = coaches.get(r.len()?).ok_or(SnapshotError::Damaged)?;
            let timezone = *zones.get(r.len()?).ok_or(SnapshotError::Damaged)?;
            pms.push(Pm {
                key,
                name,
                email,
                coach: coach.key.clone(),
                timezone,
                one_on_one: r.slot()?,
                cadence: r.cadence()?,
                form: r.slot()?,
            });
        }
        if !r.rest.is_empty() {
            return Err(SnapshotError::Damaged);
        }
        Ok((coaches, pms))
    }
}

/// A `chrono::Duration` as whole seconds and nanoseconds.
pub(super) mod duration {
    use chrono::Duration;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        (d.num_seconds(), d.subsec_nanos()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let (secs, nanos) = <(i64, i32)>::deserialize(d)?;
        Duration::try_seconds(secs)
            .map(|d| d + Duration::nanoseconds(nanos.into()))
            .ok_or_else(|| serde::de::Error::custom("duration out of range"))
    }
}

/// An optional `chrono::Duration`, as [`duration`].
pub(super) mod optional_duration {
    use chrono::Duration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.num_seconds(), d.subsec_nanos())),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<(i64, i32)>::deserialize(d)? {
            None => Ok(None),
            Some((secs, nanos)) => Duration::try_seconds(secs)
                .map(|d| Some(d + Duration::nanoseconds(nanos.into())))
                .ok_or_else(|| serde::de::Error::custom("duration out of range")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../config/coachmail.toml");
    const FRAMEWORK: &str = include_str!("../../config/framework.toml");

    /// A deployment folder: the shipped config (database beside it), its
    /// framework, and a database file unless `database` is false.
    fn deployment(database: bool) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let text = SHIPPED.replace("\"../var/coachmail.db\"", "\"coachmail.db\"");
        assert_ne!(text, SHIPPED, "the shipped config names its database");
        let config = dir.path().join("coachmail.toml");
        std::fs::write(&config, text).unwrap();
        std::fs::write(dir.path().join("framework.toml"), FRAMEWORK).unwrap();
        if database {
            std::fs::write(dir.path().join("coachmail.db"), b"").unwrap();
        }
        (dir, config)
    }

    fn same(a: &Config, b: &Config) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    /// Replaces `from` with `to` (same length) in the file, keeping its
    /// modification time, as a quick edit within one clock tick would.
    fn edit_keeping_time(file: &Path, from: &str, to: &str) {
        assert_eq!(from.len(), to.len());
        let modified = std::fs::metadata(file).unwrap().modified().unwrap();
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.contains(from), "{from} is in {}", file.display());
        std::fs::write(file, text.replacen(from, to, 1)).unwrap();
        let f = std::fs::File::options().write(true).open(file).unwrap();
        f.set_modified(modified).unwrap();
    }

    #[test]
    fn an_unchanged_config_is_read_from_its_snapshot_and_equals_the_files() {
        let (_dir, path) = deployment(true);
        let full = load_and_save(&path).unwrap();
        let (fast, origin) = load(&path).unwrap();
        assert_eq!(origin, Origin::Snapshot);
        assert!(same(&full, &fast), "{full:?}\n{fast:?}");
        assert_eq!(fast.pms.len(), full.pms.len());
        assert!(!fast.framework.skills.is_empty());
    }

    #[test]
    fn ingest_without_a_snapshot_loads_the_files_and_leaves_one_for_the_next() {
        let (_dir, path) = deployment(true);
        let (first, origin) = load(&path).unwrap();
        assert_eq!(origin, Origin::Files);
        let (second, origin) = load(&path).unwrap();
        assert_eq!(origin, Origin::Snapshot);
        assert!(same(&first, &second));
    }

    #[test]
    fn a_roster_edit_of_the_same_size_and_time_is_a_full_load_with_the_edit() {
        let (_dir, path) = deployment(true);
        let before = load_and_save(&path).unwrap();
        let pm = before.pms[0].clone();
        let renamed = pm.name.replacen(&pm.name[..1], "Q", 1);
        edit_keeping_time(
            &path,
            &format!("\"{}\"", pm.name),
            &format!("\"{renamed}\""),
        );
        let (after, origin) = load(&path).unwrap();
        assert_eq!(origin, Origin::Files);
        assert_eq!(after.pms[0].name, renamed);
        assert!(same(&after, &Config::load(&path).unwrap()));
        // The full load left a snapshot of the edited file.
        let (again, origin) = load(&path).unwrap();
        assert_eq!(origin, Origin::Snapshot);
        assert_eq!(again.pms[0].name, renamed);
    }

    #[test]
    fn a_large_roster_is_read_from_its_snapshot_and_an_edit_at_its_end_is_seen() {
        let (_dir, path) = deployment(true);
        let mut text = std::fs::read_to_string(&path).unwrap();
        let coach = Config::load(&path).unwrap().coaches[0].key.clone();
        for i in 0..2_000 {
            text.push_str(&format!(
                "\n[[pm]]\nkey = \"bulk{i}\"\nname = \"Bulk {i:04}\"\nemail = \"bulk{i}@example.org\"\n\
                 coach = \"{coach}\"\ntimezone = \"Europe/Paris\"\none_on_one = \"tue 10:00\"\n"
            ));
        }
        assert!(text.len() > 2 * HEAD, "the file spans several chunks");
        std::fs::write(&path, text).unwrap();
        let full = load_and_save(&path).unwrap();
        let (fast, origin) = load(&path).unwrap();
        assert_eq!(origin, Origin::Snapshot);
        assert!(same(&full, &fast));
        edit_keeping_time(&path, "\"Bulk 1999\"", "\"Bulk 1998\"");
        let (after, origin) = load(&path).unwrap();
        assert_eq!(origin, Origin::Files);
        assert_eq!(after.pm("bulk1999").unwrap().name, "Bulk 1998");
    }

    #[test]
    fn a_settings_edit_is_a_full_load_with_the_edit() {
        let (_dir, path) = deployment(true);
        load_and_save(&path).unwrap();
        edit_keeping_time(&path, "retention_days = 30", "retention_days = 90");
        let (after, origin) = load(&path).unwrap();
        assert_eq!(origin, Origin::Files);
        assert_eq!(after.service.retention_days, 90);
    }

    #[test]
    fn a_framework_edit_shows_even_when_the_roster_comes_from_the_snapshot() {
        let (dir, path) = deployment(true);
        let before = load_and_save(&path).unwrap();
        let skill = before.framework.skills[0].name.clone();
        let renamed = format!("Z{}", &skill[1..]);
        edit_keeping_time(&dir.path().join("framework.toml"), &skill, &renamed);
        let (after, origin) = load(&path).unwrap();
        assert_eq!(origin, Origin::Snapshot);
        assert_eq!(after.framework.skills[0].name, renamed);
        assert!(same(&after, &Config::load(&path).unwrap()));
    }

    #[test]
    fn a_broken_framework_is_reported_as_the_full_load_reports_it() {
        let (dir, path) = deployment(true);
        load_and_save(&path).unwrap();
        std::fs::write(dir.path().join("framework.toml"), "[[skill]\n").unwrap();
        let fast = load(&path).unwrap_err().to_string();
        assert_eq!(fast, Config::load(&path).unwrap_err().to_string());
    }

    #[test]
    fn a_damaged_snapshot_is_a_full_load_never_an_error() {
        let (dir, path) = deployment(true);
        let full = load_and_save(&path).unwrap();
        let file = snapshot_path(&dir.path().join("coachmail.db"));
        let good = std::fs::read(&file).unwrap();
        let mut flipped = good.clone();
        let last = flipped.len() - 10;
        flipped[last] ^= 0x01;
        let damaged: [(&str, Vec<u8>); 6] = [
            ("empty", Vec::new()),
            ("truncated", good[..good.len() / 2].to_vec()),
            ("one bit flipped in the roster", flipped),
            ("not a snapshot", b"hello\nworld\n".to_vec()),
            (
                "another version",
                [b"coachmail-config-snapshot-0", &good[27..]].concat(),
            ),
            ("a byte appended", [&good[..], b"x"].concat()),
        ];
        for (what, bytes) in damaged {
            std::fs::write(&file, &bytes).unwrap();
            let (config, origin) = load(&path).unwrap();
            assert_eq!(origin, Origin::Files, "{what}");
            assert!(same(&config, &full), "{what}");
            // ... and the full load wrote a good snapshot again.
            assert_eq!(load(&path).unwrap().1, Origin::Snapshot, "{what}");
        }
    }

    #[test]
    fn a_snapshot_is_written_only_beside_an_existing_database() {
        let (dir, path) = deployment(false);
        let (_, origin) = load(&path).unwrap();
        assert_eq!(origin, Origin::Files);
        assert!(!snapshot_path(&dir.path().join("coachmail.db")).exists());
        assert!(!dir.path().join("coachmail.db").exists());
    }

    #[test]
    fn smtp_and_imap_settings_come_back_from_the_snapshot_unchanged() {
        let (_dir, path) = deployment(true);
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace(
                "transport = \"file\" ",
                "transport = \"smtp\"\nhost = \"smtp.example.org\"\nuser = \"u\"\npassword_env = \"P\"\npool = 3\nca_cert = \"ca.pem\"\n#",
            )
            .replace(
                "transport = \"maildir\" ",
                "transport = \"imap\"\nhost = \"imap.example.org\"\nuser = \"u\"\npassword_env = \"Q\"\nprocessed_folder = \"Done\"\n#",
            );
        std::fs::write(&path, text).unwrap();
        let full = load_and_save(&path).unwrap();
        assert!(matches!(full.outbound, Outbound::Smtp(_)));
        assert!(matches!(full.inbound, Inbound::Imap(_)));
        let (fast, origin) = load(&path).unwrap();
        assert_eq!(origin, Origin::Snapshot);
        assert!(same(&full, &fast), "{full:?}\n{fast:?}");
    }

    #[test]
    fn every_one_on_one_cadence_comes_back_from_the_snapshot_unchanged() {
        let (_dir, path) = deployment(true);
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replacen(
                "one_on_one = \"tue 09:30\"",
                "one_on_one = \"tue 09:30\"\none_on_one_every = 2\none_on_one_from = \"2026-12-08\"",
                1,
            )
            .replacen("one_on_one = \"wed 14:00\"", "one_on_one = \"last wed 14:00\"", 1);
        std::fs::write(&path, text).unwrap();
        let full = load_and_save(&path).unwrap();
        let cadences: Vec<_> = full.pms.iter().map(|p| p.cadence).collect();
        assert!(cadences.contains(&crate::config::Cadence::Monthly { nth: 5 }));
        assert!(
            cadences
                .iter()
                .any(|c| matches!(c, crate::config::Cadence::EveryWeeks { weeks: 2, .. }))
        );
        let (fast, origin) = load(&path).unwrap();
        assert_eq!(origin, Origin::Snapshot);
        assert!(same(&full, &fast), "{full:?}\n{fast:?}");
        let fast_cadences: Vec<_> = fast.pms.iter().map(|p| p.cadence).collect();
        assert_eq!(fast_cadences, cadences);
    }

    #[test]
    fn the_same_file_named_by_another_path_does_not_use_the_snapshot() {
        let (dir, path) = deployment(true);
        load_and_save(&path).unwrap();
        let other = dir.path().join(".").join("coachmail.toml");
        let (config, origin) = load(&other).unwrap();
        assert_eq!(origin, Origin::Files);
        assert_eq!(config.path, other);
    }
}
