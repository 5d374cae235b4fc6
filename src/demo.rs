//! `coachmail demo`: weeks of the real loop in seconds. A manual clock moves
//! an hour at a time; simulated PMs answer their forms from different mail
//! clients (with a correction, a missed week and a dip); everything goes
//! through the real engine, store, templates, Maildir and file transport.
//!
//! Owns the simulated PMs and the summary. Works in its own folder (never
//! the configured database), which it clears only if it made it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::clock::{Clock, ManualClock};
use crate::config::{Coach, Config, Inbound, Outbound, Pm, Slot};
use crate::daemon::{Parts, Service, ServiceError};
use crate::outbound::{Copying, FileTransport, Parcel};
use crate::replies::{self, ClientShape, ReplyContent};

/// Why a demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{} exists and was not made by `coachmail demo`; choose another folder with --dir", dir.display())]
    NotADemoFolder { dir: PathBuf },
    #[error("cannot prepare the demo folder {}: {source}. Check that its parent is writable, or choose another folder with --dir", dir.display())]
    Folder {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl DemoError {
    /// The operator named a folder the demo must not touch.
    pub fn is_usage(&self) -> bool {
        matches!(self, DemoError::NotADemoFolder { .. })
    }

    /// A fault of the configuration the demo started from.
    pub fn is_config(&self) -> bool {
        matches!(self, DemoError::Service(e) if e.is_config())
    }
}

const MARKER: &str = ".coachmail-demo";

/// What a demo run did.
#[derive(Debug)]
pub struct Summary {
    pub dir: PathBuf,
    pub pms: usize,
    pub weeks: u32,
    pub sent_by_kind: BTreeMap<String, usize>,
    pub replies: usize,
    /// Simulated coaches' replies to digests read from the Maildir.
    pub coach_replies: usize,
    /// What the coaches' replies recorded, from the store.
    pub coach: crate::store::CoachCounts,
    /// 1:1s that are not weekly (fortnightly) in the demo's roster.
    pub fortnightly: usize,
    /// Digests sent, by PM key.
    pub digests_by_pm: BTreeMap<String, usize>,
    pub elapsed: std::time::Duration,
    /// One digest file, to show where to look.
    pub sample_digest: Option<PathBuf>,
}

impl Summary {
    pub fn emails(&self) -> usize {
        self.sent_by_kind.values().sum()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        writeln!(
            f,
            "Simulated {} weeks for {} PMs in {:.1}s.",
            self.weeks, self.pms, secs
        )?;
        for (kind, n) in &self.sent_by_kind {
            writeln!(f, "  {kind:<12} {n:>7} emails")?;
        }
        writeln!(
            f,
            "  replies      {:>7} simulated PM replies read from the Maildir",
            self.replies
        )?;
        writeln!(
            f,
            "  coach replies {:>6} simulated replies to digests: {} actions agreed ({} answered done, {} dropped), {} private notes, {} 1:1 changes (moves, cancellations); {} fortnightly pairing(s)",
            self.coach_replies,
            self.coach.actions,
            self.coach.actions_done,
            self.coach.actions_dropped,
            self.coach.private_notes,
            self.coach.schedule_changes,
            self.fortnightly,
        )?;
        writeln!(
            f,
            "  {:.0} emails written per second",
            self.emails() as f64 / secs.max(1e-9)
        )?;
        writeln!(f)?;
        writeln!(f, "Where to look:")?;
        writeln!(
            f,
            "  {}/outbox/   every email sent, as .eml files",
            self.dir.display()
        )?;
        writeln!(
            f,
            "  {}/inbox/    the simulated replies (Maildir; handled ones in cur/)",
            self.dir.display()
        )?;
        writeln!(
            f,
            "  {}/coachmail.db   the database (sqlite3 it)",
            self.dir.display()
        )?;
        if let Some(d) = &self.sample_digest {
            write!(f, "  a coach digest: {}", d.display())?;
        }
        Ok(())
    }
}

/// A reply waiting to be "sent" by a simulated PM or coach.
struct Planned {
    at: DateTime<Utc>,
    bytes: Vec<u8>,
    coach: bool,
}

/// Runs the demo in `dir` for `weeks` weeks; `pms` replaces the roster with
/// that many generated PMs (for load tests).
pub fn run(config: Config, weeks: u32, pms: Option<u32>, dir: &Path) -> Result<Summary, DemoError> {
    prepare_dir(dir)?;
    let config = demo_config(config, pms, dir);
    // 2026-03-02 is a Monday: the run crosses Europe's and the US's DST
    // start and Sydney's DST end.
    let start = Utc
        .with_ymd_and_hms(2026, 3, 2, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now);
    let clock = ManualClock::new(start);
    let transport = Copying::new(Box::new(FileTransport::new(dir.join("outbox"))));
    let sent = transport.copies();
    let mut service = Service::open(
        config,
        start,
        Parts {
            transport: Some(Box::new(transport)),
            ..Parts::default()
        },
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| DemoError::Folder {
            dir: dir.to_path_buf(),
            source,
        })?;

    let began = Instant::now();
    let end = start + Duration::weeks(i64::from(weeks));
    let mut planned: Vec<Planned> = Vec::new();
    let mut sent_by_kind: BTreeMap<String, usize> = BTreeMap::new();
    let mut replies = 0usize;
    let mut coach_replies = 0usize;
    let mut digests_by_pm: BTreeMap<String, usize> = BTreeMap::new();
    let mut sample_digest = None;
    let file = FileTransport::new(dir.join("outbox"));
    let mut unique = 0u64;
    while clock.now() < end {
        let now = clock.advance(Duration::hours(1));
        // Simulated PMs send what they planned to send by now.
        planned.sort_by_key(|p| p.at);
        let ready = planned.iter().take_while(|p| p.at <= now).count();
        for p in planned.drain(..ready) {
            unique += 1;
            if let Some(inbox) = service.inbox.as_ref() {
                inbox
                    .deliver(&format!("{}.{unique}.demo", p.at.timestamp()), &p.bytes)
                    .map_err(ServiceError::from)?;
            }
            if p.coach {
                coach_replies += 1;
            } else {
                replies += 1;
            }
        }
        runtime.block_on(service.pass(now))?;
        let parcels: Vec<Parcel> = sent.take();
        for parcel in parcels {
            let kind = parcel.key.split(':').next().unwrap_or("other").to_string();
            *sent_by_kind.entry(kind.clone()).or_default() += 1;
            if kind == "digest" {
                sample_digest = Some(file.path_of(&parcel));
                if let Some(pm) = parcel.key.split(':').nth(1) {
                    *digests_by_pm.entry(pm.to_string()).or_default() += 1;
                }
                planned.extend(plan_coach_reply(&service.engine.config, &parcel, start));
            }
            if kind == "form" {
                planned.extend(plan_replies(&service.engine.config, &parcel, start));
            }
        }
    }
    let fortnightly = service
        .engine
        .config
        .pms
        .iter()
        .filter(|p| p.cadence != crate::config::Cadence::Weekly)
        .count();
    Ok(Summary {
        dir: dir.to_path_buf(),
        pms: service.engine.config.pms.len(),
        weeks,
        sent_by_kind,
        replies,
        coach_replies,
        coach: service.store.coach_counts().map_err(ServiceError::from)?,
        fortnightly,
        digests_by_pm,
        elapsed: began.elapsed(),
        sample_digest,
    })
}

/// Clears `dir` if an earlier demo made it; refuses any other non-empty folder.
fn prepare_dir(dir: &Path) -> Result<(), DemoError> {
    let folder = |source| DemoError::Folder {
        dir: dir.to_path_buf(),
        source,
    };
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty && !dir.join(MARKER).exists() {
            return Err(DemoError::NotADemoFolder {
                dir: dir.to_path_buf(),
            });
        }
        std::fs::remove_dir_all(dir).map_err(folder)?;
    }
    // Private from the start: it holds a database and whole messages.
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(dir)
        .map_err(folder)?;
    std::fs::write(
        dir.join(MARKER),
        "made by coachmail demo; cleared by the next demo run\n",
    )
    .map_err(folder)
}

/// The config pointed at the demo folder, with a generated roster if asked.
fn demo_config(mut config: Config, pms: Option<u32>, dir: &Path) -> Config {
    config.service.database = dir.join("coachmail.db");
    config.outbound = Outbound::File {
        dir: dir.join("outbox"),
    };
    config.inbound = Inbound::Maildir {
        dir: dir.join("inbox"),
    };
    // The third PM meets their coach every other week (from the start).
    if let Some(pm) = config.pms.get_mut(2) {
        pm.cadence = crate::config::Cadence::EveryWeeks {
            weeks: 2,
            anchor: crate::week::Week::of(
                chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default(),
            ),
        };
    }
    if let Some(n) = pms {
        let zones = [
            chrono_tz::Europe::Paris,
            chrono_tz::America::New_York,
            chrono_tz::Australia::Sydney,
            chrono_tz::Asia::Kolkata,
            chrono_tz::America::Sao_Paulo,
            chrono_tz::Europe::London,
        ];
        let coaches = n.div_ceil(10);
        config.coaches = (0..coaches)
            .map(|c| Coach {
                key: format!("coach{c}"),
                name: format!("Coach {c}"),
                email: format!("coach{c}@example.org"),
            })
            .collect();
        let days = [
            chrono::Weekday::Mon,
            chrono::Weekday::Tue,
            chrono::Weekday::Wed,
        ];
        config.pms = (0..n)
            .map(|i| Pm {
                key: format!("pm{i}"),
                name: format!("PM {i}"),
                email: format!("pm{i}@example.org"),
                coach: format!("coach{}", i / 10),
                timezone: zones[i as usize % zones.len()],
                one_on_one: Slot {
                    day: days[i as usize % days.len()],
                    time: chrono::NaiveTime::from_hms_opt(9 + i % 8, 0, 0).unwrap_or_default(),
                },
                // Every seventh generated PM meets fortnightly.
                cadence: if i % 7 == 6 {
                    crate::config::Cadence::EveryWeeks {
                        weeks: 2,
                        anchor: crate::week::Week::of(
                            chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default(),
                        ),
                    }
                } else {
                    crate::config::Cadence::Weekly
                },
                form: Slot {
                    day: config.schedule.form_day,
                    time: config.schedule.form_time,
                },
            })
            .collect();
    }
    config
}

/// A small deterministic hash, so every run tells the same story.
fn roll(a: usize, b: i64, salt: u64) -> u64 {
    let mut x =
        (a as u64) ^ ((b as u64).rotate_left(21)) ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

const NOTES: [&str; 6] = [
    "Good week: the pricing interviews changed our plan.",
    "Board prep ate most of my week.",
    "Struggled to get the data team's time.",
    "Shipped the onboarding beta on Thursday!",
    "Hard conversation with sales about the roadmap.",
    "",
];

/// What a simulated PM does with a form: usually one reply from their
/// client, sometimes nothing (a missed week), sometimes a correction after.
fn plan_replies(config: &Config, form: &Parcel, start: DateTime<Utc>) -> Vec<Planned> {
    let Some(pm_index) = config.pms.iter().position(|p| p.email == form.to) else {
        return Vec::new();
    };
    let pm = &config.pms[pm_index];
    let Some(headers) = replies::read_form(&form.bytes) else {
        return Vec::new();
    };
    let Some(sent_at) = form_week_start(&headers, start) else {
        return Vec::new();
    };
    let week_no = (sent_at - start).num_weeks();
    // The second PM misses the third week; everyone misses about one in twelve.
    if (pm_index == 1 && week_no == 2) || roll(pm_index, week_no, 1).is_multiple_of(12) {
        return Vec::new();
    }
    let shape = ClientShape::ALL[pm_index % ClientShape::ALL.len()];
    let skills: Vec<_> = config.framework.active().collect();
    let last_week = week_no >= 5 && roll(pm_index, week_no, 7).is_multiple_of(3);
    let scores = skills
        .iter()
        .enumerate()
        .map(|(si, s)| {
            let base = 2 + (roll(pm_index, si as i64, 3) % 3) as i64; // 2..=4
            let wobble = (roll(pm_index, week_no * 31 + si as i64, 5) % 3) as i64 - 1;
            let mut score = (base + wobble).clamp(1, 5);
            // The first PM's stakeholder management dips from week 6 on.
            if pm_index == 0 && s.key == "stakeholders" && week_no >= 6 {
                score = 1;
            }
            if last_week && si == 0 {
                score = (score - 2).max(1);
            }
            (s.name.clone(), s.key.clone(), score as u8)
        })
        .collect();
    let mut note = NOTES[(roll(pm_index, week_no, 11) % NOTES.len() as u64) as usize].to_string();
    // Actions agreed in earlier 1:1s: answered on top, most of the time.
    let answers: Vec<String> = headers
        .text
        .lines()
        .filter_map(|l| l.trim().strip_suffix(": done / partly / not yet"))
        .enumerate()
        .filter(|(ai, _)| !roll(pm_index, week_no * 7 + *ai as i64, 47).is_multiple_of(4))
        .map(|(ai, action)| {
            let answer = match roll(pm_index, week_no * 7 + ai as i64, 53) % 3 {
                0 => "done, finally",
                1 => "partly - halfway there",
                _ => "not yet",
            };
            format!("{action}: {answer}")
        })
        .collect();
    if !answers.is_empty() {
        note = format!("{}\n\n{note}", answers.join("\n"));
    }
    let delay = Duration::hours(2 + (roll(pm_index, week_no, 13) % 40) as i64);
    let at = sent_at + delay;
    let from = (pm.name.as_str(), pm.email.as_str());
    let unique = format!("demo.{}.{week_no}", pm.key);
    let mut out = vec![Planned {
        at,
        coach: false,
        bytes: replies::compose(
            shape,
            &headers,
            from,
            &ReplyContent { scores, note },
            at,
            &unique,
        ),
    }];
    // The third PM corrects one skill a few hours later, every fourth week.
    if pm_index == 2
        && week_no % 4 == 1
        && let Some(skill) = skills.get(2)
    {
        let later = at + Duration::hours(3);
        out.push(Planned {
            at: later,
            coach: false,
            bytes: replies::correction(
                &headers,
                from,
                &skill.name,
                5,
                later,
                &format!("{unique}.fix"),
            ),
        });
    }
    out
}

const ACTIONS: [&str; 6] = [
    "Action: send the roadmap draft to sales by Thursday",
    "Action: book two discovery calls with churned customers",
    "- [ ] share the pricing memo with finance",
    "TODO: ask the data team for one analyst day a week",
    "Action: write the one-page strategy for the onboarding bet",
    "- [ ] pair with the tech lead on the API estimate",
];

const PRIVATE: [&str; 3] = [
    "seems tired after the re-org; check workload next time",
    "more confident in front of the VP than last month",
    "wants to talk about a move to the platform team",
];

/// What a simulated coach does with a digest: most weeks, a reply a few
/// hours after the 1:1 with an agreed action or two and sometimes a
/// private note; now and then a 1:1 moved or cancelled, or an action
/// dropped.
fn plan_coach_reply(config: &Config, digest: &Parcel, start: DateTime<Utc>) -> Vec<Planned> {
    let Some(coach) = config.coaches.iter().find(|c| c.email == digest.to) else {
        return Vec::new();
    };
    let Some(pm_index) = digest
        .key
        .split(':')
        .nth(1)
        .and_then(|k| config.pms.iter().position(|p| p.key == k))
    else {
        return Vec::new();
    };
    let Some(headers) = replies::read_form(&digest.bytes) else {
        return Vec::new();
    };
    let sent_at = headers.date.unwrap_or(start);
    let week_no = (sent_at - start).num_weeks();
    // About one digest in four gets no reply.
    if roll(pm_index, week_no, 17).is_multiple_of(4) {
        return Vec::new();
    }
    let mut lines = vec![ACTIONS[(roll(pm_index, week_no, 19) % ACTIONS.len() as u64) as usize]];
    if roll(pm_index, week_no, 23).is_multiple_of(3) {
        lines.push(ACTIONS[(roll(pm_index, week_no, 29) % ACTIONS.len() as u64) as usize]);
    }
    // The first PM's next 1:1 moves in week 4; the fourth PM's is
    // cancelled in week 6; some weeks an old action is dropped.
    if pm_index == 0 && week_no == 4 {
        lines.push("moved to thu 15:00");
    }
    if pm_index == 3 && week_no == 6 {
        lines.push("cancelled");
    }
    if week_no >= 3 && roll(pm_index, week_no, 31).is_multiple_of(5) {
        lines.push("drop 1");
    }
    let mut text = lines.join("\n");
    if roll(pm_index, week_no, 37).is_multiple_of(2) {
        text.push_str("\n\nPrivate:\n");
        text.push_str(PRIVATE[(roll(pm_index, week_no, 41) % PRIVATE.len() as u64) as usize]);
    }
    // After the 1:1: the digest goes out two hours before it.
    let at = sent_at + Duration::hours(4 + (roll(pm_index, week_no, 43) % 20) as i64);
    vec![Planned {
        at,
        coach: true,
        bytes: replies::compose(
            ClientShape::Iphone,
            &headers,
            (coach.name.as_str(), coach.email.as_str()),
            &ReplyContent {
                scores: Vec::new(),
                note: text,
            },
            at,
            &format!("demo.coach.{}.{week_no}", config.pms[pm_index].key),
        ),
    }]
}

/// When the form was sent, from its Date header (falls back to the start).
fn form_week_start(headers: &replies::FormHeaders, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(headers.date.unwrap_or(start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_simulates_coaches_replying_moving_and_cancelling_and_a_fortnightly_pair() {
        let config = Config::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/coachmail.toml"),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("demo");
        let summary = run(config, 10, None, &out).unwrap();
        assert!(summary.coach_replies >= 20, "{summary}");
        assert!(summary.coach.actions >= 10, "{summary}");
        assert!(summary.coach.private_notes >= 5, "{summary}");
        assert!(summary.coach.actions_dropped >= 1, "{summary}");
        assert!(
            summary.coach.actions_done >= 5,
            "PMs answer actions done: {summary}"
        );
        // One 1:1 moved (week 4), one cancelled (week 6).
        assert_eq!(summary.coach.schedule_changes, 2, "{summary}");
        assert_eq!(summary.fortnightly, 1);
        assert_eq!(
            summary.sent_by_kind.get("coach_confirm"),
            Some(&summary.coach_replies)
        );
        // The fortnightly PM's coach got a digest every other week only
        // (weeks 3, 5, 7, 9: the first 1:1 comes before any form).
        assert_eq!(
            summary.digests_by_pm.get("chloe"),
            Some(&4),
            "{:?}",
            summary.digests_by_pm
        );
        // Alice's moved 1:1 still had its digest; Dev's cancelled one none
        // (a weekly PM with no change, like Bruno, gets 9 in 10 weeks).
        assert_eq!(
            summary.digests_by_pm.get("bruno"),
            Some(&9),
            "{:?}",
            summary.digests_by_pm
        );
        assert_eq!(
            summary.digests_by_pm.get("alice"),
            Some(&9),
            "{:?}",
            summary.digests_by_pm
        );
        assert_eq!(
            summary.digests_by_pm.get("dev"),
            Some(&8),
            "{:?}",
            summary.digests_by_pm
        );
    }
}
