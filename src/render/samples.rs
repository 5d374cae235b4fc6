//! Fixed sample views: what [`Renderer::load`](super::Renderer::load)
//! renders every template with, and what the snapshot tests show.
//!
//! They exercise every branch the shipped templates have (dips, skipped and
//! missing skills, lines to fix, notes, paused, no baseline yet) so that a
//! template mistake in any branch shows up at load. Names carry `&`, `<`
//! and accents so escaping is exercised too.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::{
    Ack, AckView, ActionsView, Answer, AnswerTo, CoachAnswer, CoachAnswerView, CoachConfirmView,
    CoachPmRow, ConfirmView, DigestNote, DigestSkill, DigestView, ExportView, ForgetConfirmView,
    ForgottenView, FormView, HelpView, InvalidView, Mailbox, RecordedView, ReminderView,
    ServiceView, SkillRef, SkillView, TrendSkill, TrendView,
};
use crate::framework::{Framework, Skill};
use crate::week::Week;

pub(crate) struct Samples {
    pub forms: Vec<FormView>,
    pub reminders: Vec<ReminderView>,
    pub confirms: Vec<ConfirmView>,
    pub digests: Vec<DigestView>,
    pub helps: Vec<HelpView>,
    pub trends: Vec<TrendView>,
    pub exports: Vec<ExportView>,
    pub forget_confirms: Vec<ForgetConfirmView>,
    pub forgottens: Vec<ForgottenView>,
    pub acks: Vec<AckView>,
    pub coach_confirms: Vec<CoachConfirmView>,
    pub coach_answers: Vec<CoachAnswerView>,
    pub actions: Vec<ActionsView>,
}

/// The name of each sample, in the order [`Samples`] lists them (see
/// [`Renderer::sample_emails`](super::Renderer::sample_emails)).
pub(crate) const FORM_NAMES: &[&str] = &["form", "form_with_actions"];
pub(crate) const REMINDER_NAMES: &[&str] = &["reminder", "reminder_with_actions"];
pub(crate) const CONFIRM_NAMES: &[&str] = &[
    "confirm_with_problems",
    "confirm_clean",
    "confirm_correction",
    "confirm_actions_only",
];
pub(crate) const DIGEST_NAMES: &[&str] = &[
    "digest",
    "digest_paused",
    "digest_building_baseline",
    "digest_no_reply",
    "digest_skipped",
    "digest_actions_answered_no_scores",
];
pub(crate) const HELP_NAMES: &[&str] = &["help", "help_unknown_command"];
pub(crate) const TREND_NAMES: &[&str] = &[
    "trend",
    "trend_one_skill",
    "trend_no_scores",
    "trend_for_coach",
];
pub(crate) const EXPORT_NAMES: &[&str] = &["export"];
pub(crate) const FORGET_CONFIRM_NAMES: &[&str] = &["forget_confirm"];
pub(crate) const FORGOTTEN_NAMES: &[&str] = &["forgotten"];
pub(crate) const COACH_CONFIRM_NAMES: &[&str] = &["coach_confirm", "coach_confirm_nothing_read"];
pub(crate) const ACTIONS_NAMES: &[&str] = &["actions"];
pub(crate) const COACH_ANSWER_NAMES: &[&str] = &[
    "coach_answer_pms",
    "coach_answer_help_unknown",
    "coach_answer_no_such_pm",
];
pub(crate) const ACK_NAMES: &[&str] = &[
    "ack_paused",
    "ack_pause_in_past",
    "ack_resumed",
    "ack_not_paused",
    "ack_skipped",
    "ack_already_skipped",
    "ack_forget_invalid",
    "ack_pause_capped",
    "ack_form_closed",
    "ack_history_shared",
];

pub(crate) fn framework() -> Framework {
    let skill =
        |key: &str, name: &str, description: &str, aliases: &[&str], levels: [&str; 3]| Skill {
            key: key.into(),
            name: name.into(),
            description: description.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            levels: BTreeMap::from([
                (1, levels[0].to_string()),
                (3, levels[1].to_string()),
                (5, levels[2].to_string()),
            ]),
            retired: false,
        };
    Framework {
        skills: vec![
            skill(
                "strategy",
                "Product strategy",
                "Sets a clear direction that ties the roadmap to business outcomes.",
                &["vision", "roadmap"],
                [
                    "Works ticket by ticket; the why is unclear.",
                    "Roadmap follows a stated strategy and goals.",
                    "Shapes company strategy; others reuse the narrative.",
                ],
            ),
            skill(
                "delivery",
                "Execution & delivery",
                "Ships what matters, predictably, with the team.",
                &["execution", "shipping"],
                [
                    "Slipping; blockers unresolved.",
                    "Ships on cadence; risks raised early.",
                    "Team ships predictably with little help.",
                ],
            ),
            skill(
                "stakeholders",
                "Stakeholder management",
                "Keeps leaders, sales and partner teams aligned and informed.",
                &["alignment"],
                [
                    "Surprised by stakeholders, or surprised them.",
                    "Stakeholders informed; few escalations.",
                    "Stakeholders seek out the PM's view.",
                ],
            ),
            skill(
                "data",
                "Data & analytics",
                "Uses data to decide, and says what would change the decision.",
                &["analytics", "metrics"],
                [
                    "Decides on gut feel only.",
                    "Key metrics tracked and used in decisions.",
                    "Sets the metrics others use; experiments routinely.",
                ],
            ),
        ],
    }
}

/// Open actions as a form asks them: one long enough to wrap on a phone,
/// one with characters HTML must escape.
pub(crate) fn sample_actions() -> Vec<String> {
    vec![
        "Send the roadmap draft to sales by Thursday, with the open questions on pricing listed first".into(),
        "Book two discovery calls with <enterprise> customers & partners".into(),
    ]
}

pub(crate) fn service() -> ServiceView {
    ServiceView {
        name: "PM Pulse".into(),
        address: "pulse@example.org".into(),
    }
}

pub(crate) fn pm() -> Mailbox {
    Mailbox::new("Amélie Durand", "amelie@example.org")
}

pub(crate) fn coach() -> Mailbox {
    Mailbox::new("Maya Chen", "maya@example.org")
}

pub(crate) fn week() -> Week {
    // ok: a fixed, valid ISO week.
    Week::of(NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default())
}

pub(crate) fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, minute, 0)
        .single()
        .unwrap_or_default()
}

pub(crate) const REPLY_KEY: &str = "k7q2mx9t4hwz";
pub(crate) const DIGEST_KEY: &str = "d3c8mq5t2vwz";

impl Samples {
    pub(crate) fn new() -> Samples {
        let framework = framework();
        let skills = SkillView::active(&framework);
        let reply_to = super::reply_address(&service().address, REPLY_KEY);
        let form = FormView {
            service: service(),
            pm: pm(),
            week: week(),
            reply_key: REPLY_KEY.into(),
            reply_to: reply_to.clone(),
            skills: skills.clone(),
            actions: Vec::new(),
            date: at(27, 15, 0),
        };
        let form_with_actions = FormView {
            actions: sample_actions(),
            ..form.clone()
        };
        let reminder = ReminderView {
            service: service(),
            pm: pm(),
            week: week(),
            reply_key: REPLY_KEY.into(),
            reply_to: reply_to.clone(),
            skills: skills.clone(),
            actions: Vec::new(),
            date: at(29, 15, 0),
        };
        let reminder_with_actions = ReminderView {
            actions: sample_actions(),
            ..reminder.clone()
        };
        let pm_message = "CAF=x1y2z3@mail.gmail.com".to_string();
        let confirm_full = ConfirmView {
            service: service(),
            pm: pm(),
            week: week(),
            id: "3f9a0c1d2e4b5a6c".into(),
            in_reply_to: Some(pm_message.clone()),
            references: vec![
                format!("form.{}@{}", week(), service().domain()),
                pm_message.clone(),
            ],
            reply_to: Some(reply_to.clone()),
            recorded: vec![
                RecordedView {
                    key: "strategy".into(),
                    name: "Product strategy".into(),
                    score: Some(4),
                    updated: false,
                    was: None,
                    earlier: true,
                    comment: None,
                },
                RecordedView {
                    key: "delivery".into(),
                    name: "Execution & delivery".into(),
                    score: Some(5),
                    updated: true,
                    was: Some(3),
                    earlier: false,
                    comment: Some("shipped the beta after all".into()),
                },
                RecordedView {
                    key: "stakeholders".into(),
                    name: "Stakeholder management".into(),
                    score: None,
                    updated: false,
                    was: None,
                    earlier: false,
                    comment: None,
                },
            ],
            // As the reply reader words them.
            invalid: vec![
                InvalidView::new(
                    "D: 3",
                    "“D” could be Execution & delivery or Data & analytics — write more of the skill's name",
                    &framework,
                ),
                InvalidView::new(
                    "Hiring: 4",
                    "“Hiring” is not a skill on the form — use one of: Product strategy, Execution & delivery, Stakeholder management, Data & analytics",
                    &framework,
                ),
            ],
            // Data & analytics is named in `D: 3`: not listed again.
            missing: Vec::new(),
            note: Some(
                "Tough week: the <beta> slipped & the VP asked why.\nPlanning a reset on Monday."
                    .into(),
            ),
            actions: Vec::new(),
            subject: None,
            date: at(27, 18, 2),
        };
        let confirm_actions_only = ConfirmView {
            recorded: Vec::new(),
            invalid: vec![InvalidView::new(
                "draft: done",
                "names more than one open action; write more of its text",
                &framework,
            )],
            missing: Vec::new(),
            note: None,
            actions: vec![
                super::ActionAnswerView::new(
                    &sample_actions()[0],
                    crate::understand::coach::ActionStatus::Done,
                    Some("sent on Tuesday, pricing questions first"),
                ),
                super::ActionAnswerView::new(
                    &sample_actions()[1],
                    crate::understand::coach::ActionStatus::Partly,
                    None,
                ),
            ],
            id: "2c3d4e5f6a7b8c9d".into(),
            ..confirm_full.clone()
        };
        let confirm_clean = ConfirmView {
            recorded: skills
                .iter()
                .enumerate()
                .map(|(i, s)| RecordedView {
                    key: s.key.clone(),
                    name: s.name.clone(),
                    score: u8::try_from(i % 5 + 1).ok(),
                    updated: false,
                    was: None,
                    earlier: false,
                    comment: None,
                })
                .collect(),
            invalid: Vec::new(),
            missing: Vec::new(),
            note: None,
            reply_to: None,
            in_reply_to: None,
            references: Vec::new(),
            id: "0a1b2c3d4e5f6a7b".into(),
            ..confirm_full.clone()
        };
        let confirm_correction = ConfirmView {
            recorded: confirm_full
                .recorded
                .iter()
                .filter(|r| r.key != "stakeholders")
                .cloned()
                .collect(),
            invalid: Vec::new(),
            missing: vec![SkillRef {
                key: "data".into(),
                name: "Data & analytics".into(),
            }],
            note: None,
            id: "1b2c3d4e5f6a7b8c".into(),
            ..confirm_full.clone()
        };
        let digest = DigestView {
            service: service(),
            coach: coach(),
            pm_key: "amelie".into(),
            pm_name: "Amélie Durand".into(),
            week: week(),
            one_on_one: NaiveDate::from_ymd_opt(2026, 11, 30)
                .and_then(|d| d.and_hms_opt(10, 0, 0))
                .unwrap_or_default(),
            timezone: "Europe/Paris".into(),
            skills: vec![
                DigestSkill {
                    key: "strategy".into(),
                    name: "Product strategy".into(),
                    answer: Answer::Score(4),
                    baseline: Some(3.0),
                    dip: false,
                    previous: Some(4),
                    drop: false,
                    weeks_to_baseline: 0,
                    comment: None,
                    recent: vec![
                        Some(3),
                        Some(3),
                        None,
                        Some(3),
                        Some(2),
                        Some(3),
                        Some(4),
                        Some(4),
                    ],
                },
                DigestSkill {
                    key: "delivery".into(),
                    name: "Execution & delivery".into(),
                    answer: Answer::Score(2),
                    baseline: Some(3.5),
                    dip: true,
                    previous: Some(3),
                    drop: false,
                    weeks_to_baseline: 0,
                    comment: Some("1 release slipped two weeks".into()),
                    recent: vec![
                        Some(4),
                        Some(3),
                        None,
                        Some(4),
                        Some(3),
                        Some(4),
                        Some(3),
                        Some(2),
                    ],
                },
                DigestSkill {
                    key: "stakeholders".into(),
                    name: "Stakeholder management".into(),
                    answer: Answer::Skipped,
                    baseline: Some(3.0),
                    dip: false,
                    previous: Some(3),
                    drop: false,
                    weeks_to_baseline: 0,
                    comment: None,
                    recent: vec![
                        Some(3),
                        Some(3),
                        None,
                        Some(2),
                        Some(3),
                        Some(4),
                        Some(3),
                        None,
                    ],
                },
                DigestSkill {
                    key: "data".into(),
                    name: "Data & analytics".into(),
                    answer: Answer::Missing,
                    baseline: None,
                    dip: false,
                    previous: Some(4),
                    drop: false,
                    weeks_to_baseline: 2,
                    comment: None,
                    recent: vec![None, None, None, None, None, Some(3), Some(4), None],
                },
            ],
            notes: vec![
                DigestNote {
                    week: Some(week().plus(-1).dates()),
                    text: "Off to the offsite, back on Thursday.".into(),
                },
                DigestNote {
                    week: None,
                    text: "Tough week: the <beta> slipped & the VP asked why.\nPlanning a reset on Monday: https://docs.example.org/planning/2026/q4/beta-reset-proposal-draft-v3-final\nCan we talk about hiring?"
                        .into(),
                },
            ],
            skipped: false,
            last_answered: Some(week().plus(-1)),
            missed_weeks: vec![week().plus(-3)],
            paused_weeks: vec![week().plus(-5)],
            dip_threshold: 1.0,
            streak: 2,
            paused: false,
            paused_until: None,
            history_shared: false,
            actions: vec![
                super::DigestAction {
                    text: "Send the roadmap draft to sales by Thursday".into(),
                    answer: Some("partly".into()),
                    comment: Some("draft shared, pricing <section> still open".into()),
                    answered_in: Some("week of Mon 16 Nov".into()),
                },
                super::DigestAction {
                    text: "Book two discovery calls with <enterprise> customers & partners".into(),
                    answer: None,
                    comment: None,
                    answered_in: None,
                },
            ],
            actions_answered: true,
            done_actions: vec![super::DigestAction {
                text: "Write the hiring plan for Q1".into(),
                answer: Some("done".into()),
                comment: Some("shared with HR on Friday".into()),
                answered_in: None,
            }],
            private_notes: vec![
                "Seemed tired; ask about the re-org next time.\nCheck in on the hiring plan.".into(),
            ],
            reply_to: Some(super::reply_address(&service().address, DIGEST_KEY)),
            date: at(30, 7, 0),
        };
        let digest_paused = DigestView {
            skills: digest
                .skills
                .iter()
                .map(|s| DigestSkill {
                    answer: Answer::Missing,
                    dip: false,
                    ..s.clone()
                })
                .collect(),
            notes: Vec::new(),
            missed_weeks: Vec::new(),
            paused_weeks: vec![week().plus(-1), week()],
            streak: 0,
            paused: true,
            paused_until: NaiveDate::from_ymd_opt(2026, 12, 14),
            last_answered: Some(week().plus(-2)),
            ..digest.clone()
        };
        let digest_new = DigestView {
            actions: Vec::new(),
            done_actions: Vec::new(),
            private_notes: Vec::new(),
            skills: digest
                .skills
                .iter()
                .enumerate()
                .map(|(i, s)| DigestSkill {
                    // Delivery fell from 3 to 1 in the second week.
                    answer: Answer::Score(if i == 1 { 1 } else { 3 }),
                    baseline: None,
                    dip: false,
                    previous: Some(3),
                    drop: i == 1,
                    weeks_to_baseline: 2,
                    comment: None,
                    recent: vec![Some(3), Some(if i == 1 { 1 } else { 3 })],
                    ..s.clone()
                })
                .collect(),
            notes: Vec::new(),
            missed_weeks: Vec::new(),
            paused_weeks: Vec::new(),
            streak: 1,
            ..digest.clone()
        };
        let digest_silent = DigestView {
            skills: digest
                .skills
                .iter()
                .map(|s| DigestSkill {
                    answer: Answer::Missing,
                    dip: false,
                    ..s.clone()
                })
                .collect(),
            notes: Vec::new(),
            missed_weeks: vec![week().plus(-3), week()],
            paused_weeks: Vec::new(),
            streak: 0,
            actions_answered: false,
            ..digest.clone()
        };
        let digest_actions_only = DigestView {
            actions_answered: true,
            ..digest_silent.clone()
        };
        let digest_skipped = DigestView {
            skills: digest
                .skills
                .iter()
                .map(|s| DigestSkill {
                    answer: Answer::Skipped,
                    dip: false,
                    comment: None,
                    ..s.clone()
                })
                .collect(),
            notes: Vec::new(),
            skipped: true,
            missed_weeks: Vec::new(),
            paused_weeks: Vec::new(),
            ..digest.clone()
        };
        let help = HelpView {
            service: service(),
            pm: pm(),
            id: "5e6f7a8b9c0d1e2f".into(),
            in_reply_to: Some("CAF=cmd42@mail.gmail.com".into()),
            references: vec!["CAF=cmd42@mail.gmail.com".into()],
            skills: skills.clone(),
            unknown: None,
            reply_to: Some(reply_to.clone()),
            subject: None,
            example_until: NaiveDate::from_ymd_opt(2026, 12, 26).unwrap_or_default(),
            date: at(28, 9, 30),
        };
        let help_unknown = HelpView {
            unknown: Some("trnd".into()),
            subject: super::reply_subject("trnd"),
            ..help.clone()
        };
        let answer_to = AnswerTo {
            service: service(),
            pm: pm(),
            id: "7c8d9e0f1a2b3c4d".into(),
            in_reply_to: Some("CAF=cmd43@mail.gmail.com".into()),
            references: vec!["CAF=cmd43@mail.gmail.com".into()],
            reply_to: Some(reply_to.clone()),
            subject: None,
            date: at(28, 9, 31),
        };
        let trend_points =
            |v: [u8; 12]| -> Vec<Option<u8>> { v.iter().map(|&s| (s > 0).then_some(s)).collect() };
        let trend = TrendView {
            to: answer_to.clone(),
            weeks: 12,
            from: week().plus(-11),
            until: week(),
            skill: None,
            skills: vec![
                TrendSkill {
                    key: "strategy".into(),
                    name: "Product strategy".into(),
                    points: trend_points([3, 3, 4, 0, 3, 4, 4, 3, 4, 4, 5, 4]),
                    latest: Some(4),
                    latest_week: Some(week()),
                    baseline: Some(4.0),
                    change: Some(0.0),
                    retired: false,
                },
                TrendSkill {
                    key: "delivery".into(),
                    name: "Execution & delivery".into(),
                    points: trend_points([4, 4, 3, 0, 4, 4, 3, 4, 4, 3, 4, 2]),
                    latest: Some(2),
                    latest_week: Some(week()),
                    baseline: Some(3.5),
                    change: Some(-1.5),
                    retired: false,
                },
                TrendSkill {
                    key: "stakeholders".into(),
                    name: "Stakeholder management".into(),
                    points: trend_points([0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 3, 0]),
                    latest: Some(3),
                    latest_week: Some(week().plus(-1)),
                    baseline: None,
                    change: None,
                    retired: false,
                },
                TrendSkill {
                    key: "data".into(),
                    name: "Data & <analytics>".into(),
                    points: vec![None; 12],
                    latest: None,
                    latest_week: None,
                    baseline: None,
                    change: None,
                    retired: true,
                },
            ],
            dip_threshold: 1.0,
            about: None,
            actions: Vec::new(),
        };
        let trend = TrendView {
            actions: vec![
                super::TrendAction {
                    text: "Send the roadmap draft to sales by Thursday".into(),
                    status: "done".into(),
                    agreed: "9 Nov".into(),
                    answer: Some("done".into()),
                    comment: Some("sent on Tuesday".into()),
                },
                super::TrendAction {
                    text: "Book two discovery calls with <enterprise> customers & partners".into(),
                    status: "open".into(),
                    agreed: "16 Nov".into(),
                    answer: Some("partly".into()),
                    comment: None,
                },
                super::TrendAction {
                    text: "Rewrite the onboarding survey".into(),
                    status: "open".into(),
                    agreed: "23 Nov".into(),
                    answer: None,
                    comment: None,
                },
            ],
            ..trend
        };
        let trend_one = TrendView {
            weeks: 26,
            from: week().plus(-25),
            skill: Some("delivery".into()),
            skills: vec![TrendSkill {
                points: [vec![None; 14], trend.skills[1].points.clone()].concat(),
                ..trend.skills[1].clone()
            }],
            ..trend.clone()
        };
        let trend_empty = TrendView {
            skills: trend
                .skills
                .iter()
                .map(|s| TrendSkill {
                    points: vec![None; 12],
                    latest: None,
                    latest_week: None,
                    baseline: None,
                    change: None,
                    ..s.clone()
                })
                .collect(),
            ..trend.clone()
        };
        let export = ExportView {
            to: answer_to.clone(),
            filename: "pm-pulse-export-amelie-2026-11-28.csv".into(),
            csv: b"record,week,skill,score,current,text,at,until\r\n".to_vec(),
            answers: 34,
            corrections: 2,
            notes: 5,
            forms: 6,
            events: 3,
        };
        let forget_confirm = ForgetConfirmView {
            to: answer_to.clone(),
            token: "q3zv5b7nk2xw4t6ypa7r2m4d5e".into(),
            expires: "Tue 1 Dec 2026, 10:31 (Europe/Paris)".into(),
        };
        let forgotten = ForgottenView {
            to: AnswerTo {
                reply_to: None,
                ..answer_to.clone()
            },
        };
        let ack = |what: Ack, until: Option<&str>, wk: Option<Week>, next: Option<&str>| AckView {
            to: answer_to.clone(),
            what,
            until: until.map(str::to_string),
            week: wk,
            next_form: next.map(str::to_string),
            command: None,
            example_until: NaiveDate::from_ymd_opt(2026, 12, 26).unwrap_or_default(),
        };
        let next = "Fri 11 Dec 2026, 16:00 (Europe/Paris)";
        let acks = vec![
            ack(
                Ack::Paused,
                Some("Mon 7 Dec 2026, 10:31 (Europe/Paris)"),
                None,
                Some(next),
            ),
            ack(
                Ack::PauseInPast,
                Some("Tue 24 Nov 2026, 00:00 (Europe/Paris)"),
                None,
                None,
            ),
            ack(
                Ack::Resumed,
                None,
                None,
                Some("Fri 4 Dec 2026, 16:00 (Europe/Paris)"),
            ),
            ack(
                Ack::NotPaused,
                None,
                None,
                Some("Fri 4 Dec 2026, 16:00 (Europe/Paris)"),
            ),
            ack(
                Ack::Skipped,
                None,
                Some(week()),
                Some("Fri 4 Dec 2026, 16:00 (Europe/Paris)"),
            ),
            ack(Ack::AlreadySkipped, None, Some(week()), None),
            ack(Ack::ForgetInvalid, None, None, None),
            ack(
                Ack::PauseCapped,
                Some("Tue 7 Dec 2027, 10:31 (Europe/Paris)"),
                None,
                Some(next),
            ),
            ack(Ack::FormClosed, None, Some(week()), None),
            ack(Ack::HistoryShared, None, None, None),
            AckView {
                command: Some("pause".into()),
                ..ack(Ack::NeedsReplyKey, None, None, None)
            },
            ack(Ack::CoachReplyNotRead, None, None, None),
        ];
        let coach_to = AnswerTo {
            pm: coach(),
            id: "5e6f7a8b9c0d1e2f".into(),
            in_reply_to: Some("CAF=coach7@mail.gmail.com".into()),
            references: vec!["CAF=coach7@mail.gmail.com".into()],
            reply_to: Some(super::reply_address(&service().address, DIGEST_KEY)),
            subject: Some(
                "Re: Confidential: Amélie Durand — digest for your 1:1 on Mon 30 Nov".into(),
            ),
            ..answer_to.clone()
        };
        let coach_confirm = CoachConfirmView {
            to: coach_to.clone(),
            pm_name: "Amélie Durand".into(),
            actions: vec![
                "Send the roadmap draft to sales by Thursday".into(),
                "Book two discovery calls with <enterprise> customers & partners".into(),
            ],
            already_open: vec!["Share the pricing memo".into()],
            dropped: vec!["Rewrite the onboarding survey".into()],
            note_kept: true,
            schedule: vec!["moved to Thu 15:00".into(), "every 2 weeks".into()],
            next_one_on_one: Some("Thu 3 Dec 2026, 15:00 (Europe/Paris)".into()),
            problems: vec![
                "\"moved to someday\": no day or time I can read — write e.g. `moved to thu 15:00`"
                    .into(),
            ],
            open_count: 3,
        };
        let coach_confirm_nothing = CoachConfirmView {
            actions: Vec::new(),
            already_open: Vec::new(),
            dropped: Vec::new(),
            note_kept: false,
            schedule: Vec::new(),
            next_one_on_one: None,
            problems: vec![
                "\"drop 7\": there is no open action 7 (2 open) — write `drop: <its text>`".into(),
            ],
            open_count: 2,
            ..coach_confirm.clone()
        };
        let actions = ActionsView {
            service: service(),
            pm: pm(),
            coach_name: "Maya Chen".into(),
            id: "5e6f7a8b9c0d1e2f".into(),
            actions: coach_confirm.actions.clone(),
            reply_to: Some(reply_to.clone()),
            date: at(30, 12, 5),
        };
        let coach_command_to = AnswerTo {
            pm: Mailbox::new("Maya Chen", "maya@example.org"),
            in_reply_to: Some("CAF=coach9@mail.gmail.com".into()),
            references: vec!["CAF=coach9@mail.gmail.com".into()],
            reply_to: None,
            subject: Some("Re: pms".into()),
            ..coach_to.clone()
        };
        let trend_for_coach = TrendView {
            to: coach_command_to.clone(),
            about: Some("Amélie Durand".into()),
            actions: Vec::new(),
            ..trend.clone()
        };
        let coach_pms = CoachAnswerView {
            to: coach_command_to.clone(),
            what: CoachAnswer::Pms,
            pms: vec![
                CoachPmRow {
                    name: "Amélie Durand".into(),
                    key: "amelie".into(),
                    next_one_on_one: Some("Mon 30 Nov 2026, 10:00 (Europe/Paris)".into()),
                    last_reply: Some(week().dates()),
                    open_actions: 2,
                },
                CoachPmRow {
                    name: "Bruno <Silva> & co".into(),
                    key: "bruno".into(),
                    next_one_on_one: None,
                    last_reply: None,
                    open_actions: 0,
                },
            ],
            commands: crate::understand::coach_command::COACH_COMMANDS.to_vec(),
        };
        let coach_help = CoachAnswerView {
            what: CoachAnswer::Help {
                unknown: Some("frobnicate".into()),
            },
            ..coach_pms.clone()
        };
        let coach_no_such_pm = CoachAnswerView {
            what: CoachAnswer::NoSuchPm {
                who: "<script>".into(),
            },
            ..coach_pms.clone()
        };
        Samples {
            coach_answers: vec![coach_pms, coach_help, coach_no_such_pm],
            coach_confirms: vec![coach_confirm, coach_confirm_nothing],
            actions: vec![actions],
            trends: vec![trend, trend_one, trend_empty, trend_for_coach],
            exports: vec![export],
            forget_confirms: vec![forget_confirm],
            forgottens: vec![forgotten],
            acks,
            forms: vec![form, form_with_actions],
            reminders: vec![reminder, reminder_with_actions],
            confirms: vec![
                confirm_full,
                confirm_clean,
                confirm_correction,
                confirm_actions_only,
            ],
            digests: vec![
                digest,
                digest_paused,
                digest_new,
                digest_silent,
                digest_skipped,
                digest_actions_only,
            ],
            helps: vec![help, help_unknown],
        }
    }
}
