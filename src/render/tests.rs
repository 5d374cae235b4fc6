use std::path::{Path, PathBuf};

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders};

use super::samples::{self, Samples};
use super::*;

fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")
}

fn renderer() -> Renderer {
    Renderer::load(&shipped_dir()).unwrap()
}

/// A copy of the shipped templates in a temp dir, with `name` replaced.
fn templates_with(name: &str, source: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(shipped_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    std::fs::write(dir.path().join(name), source).unwrap();
    dir
}

fn shipped(name: &str) -> String {
    std::fs::read_to_string(shipped_dir().join(name)).unwrap()
}

fn all_emails() -> Vec<(String, Email)> {
    renderer().sample_emails().unwrap()
}

fn parse(bytes: &[u8]) -> mail_parser::Message<'_> {
    MessageParser::default().parse(bytes).unwrap()
}

fn first_address(a: Option<&Address<'_>>) -> (String, String) {
    let a = a.unwrap().first().unwrap();
    (
        a.name().unwrap_or_default().to_string(),
        a.address().unwrap_or_default().to_string(),
    )
}

fn header_text(m: &mail_parser::Message<'_>, name: &str) -> Option<String> {
    match m.header(name)? {
        HeaderValue::Text(t) => Some(t.to_string()),
        HeaderValue::TextList(l) => Some(l.join(" ")),
        other => Some(format!("{other:?}")),
    }
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

// --- snapshots -------------------------------------------------------------

#[test]
fn every_email_text_and_html_matches_its_snapshot() {
    for (name, email) in all_emails() {
        insta::assert_snapshot!(format!("{name}_subject"), email.subject);
        insta::assert_snapshot!(format!("{name}_text"), email.text);
        insta::assert_snapshot!(format!("{name}_html"), email.html);
    }
}

#[test]
fn form_message_bytes_match_snapshot() {
    let email = renderer().form(&Samples::new().forms[0]).unwrap();
    let bytes = email.to_bytes().unwrap();
    insta::assert_snapshot!(String::from_utf8(bytes).unwrap());
}

// --- messages parse back ---------------------------------------------------

#[test]
fn every_email_parses_back_with_its_headers_and_two_parts() {
    for (name, email) in all_emails() {
        let bytes = email.to_bytes().unwrap();
        let m = parse(&bytes);
        assert_eq!(m.message_id(), Some(email.message_id.as_str()), "{name}");
        assert_eq!(m.subject(), Some(email.subject.as_str()), "{name}");
        assert_eq!(
            first_address(m.from()),
            (email.from.name.clone(), email.from.address.clone()),
            "{name}"
        );
        assert_eq!(
            first_address(m.to()),
            (email.to.name.clone(), email.to.address.clone()),
            "{name}"
        );
        assert_eq!(
            m.reply_to()
                .map(|a| a.first().unwrap().address().unwrap().to_string()),
            email.reply_to,
            "{name}"
        );
        assert_eq!(
            m.date().unwrap().to_timestamp(),
            email.date.timestamp(),
            "{name}"
        );
        assert_eq!(
            ids(m.in_reply_to()).first().cloned(),
            email.in_reply_to,
            "{name}"
        );
        assert_eq!(ids(m.references()), email.references, "{name}");
        assert_eq!(
            header_text(&m, "Auto-Submitted").as_deref(),
            Some(email.auto_submitted.header_value()),
            "{name}"
        );
        assert_eq!(
            header_text(&m, "X-Auto-Response-Suppress").as_deref(),
            Some("All"),
            "{name}"
        );
        assert!(m.header("Precedence").is_none(), "{name}");
        let shape = if !email.attachments.is_empty() {
            "mixed"
        } else if !email.inline.is_empty() {
            "related"
        } else {
            "alternative"
        };
        assert_eq!(
            m.content_type().map(|c| c.subtype().unwrap_or_default()),
            Some(shape),
            "{name}"
        );
        let text = m.body_text(0).unwrap().replace("\r\n", "\n");
        let html = m.body_html(0).unwrap().replace("\r\n", "\n");
        assert_eq!(text, email.text, "{name}");
        assert_eq!(html, email.html, "{name}");
        assert_eq!(
            m.attachment_count(),
            email.inline.len() + email.attachments.len(),
            "{name}"
        );
        for part in &email.inline {
            assert!(html.contains(&format!("cid:{}", part.cid)), "{name}");
        }
    }
}

#[test]
fn scheduled_emails_are_auto_generated_and_answers_auto_replied() {
    let kinds: Vec<(String, AutoSubmitted)> = all_emails()
        .into_iter()
        .map(|(name, e)| (name, e.auto_submitted))
        .collect();
    for (name, kind) in kinds {
        // The PM's actions email answers no message of the PM's (the
        // coach's reply causes it): generated, like scheduled mail.
        let scheduled = ["form", "reminder", "digest", "actions"]
            .iter()
            .any(|k| name.starts_with(k));
        let expected = if scheduled {
            AutoSubmitted::Generated
        } else {
            AutoSubmitted::Replied
        };
        assert_eq!(kind, expected, "{name}");
    }
}

#[test]
fn form_carries_reply_key_in_reply_to_only() {
    let s = Samples::new();
    let email = renderer().form(&s.forms[0]).unwrap();
    assert_eq!(
        email.reply_to.as_deref(),
        Some("reflect+k7q2mx9t4hwz@example.org")
    );
    assert!(
        !email.message_id.contains("k7q2mx9t4hwz"),
        "{}",
        email.message_id
    );
    assert_eq!(email.to, samples::pm());
    assert_eq!(
        email.subject,
        "PM Pulse — your reflection for the week of Mon 23 Nov"
    );
}

#[test]
fn reminder_threads_under_its_form_with_the_same_reply_key() {
    let s = Samples::new();
    let r = renderer();
    let form = r.form(&s.forms[0]).unwrap();
    let reminder = r.reminder(&s.reminders[0]).unwrap();
    assert_eq!(reminder.reply_to, form.reply_to);
    assert_eq!(reminder.in_reply_to.as_ref(), Some(&form.message_id));
    assert_eq!(reminder.references, vec![form.message_id.clone()]);
    assert_ne!(reminder.message_id, form.message_id);
}

#[test]
fn form_text_lists_each_skill_alone_on_a_stable_line_with_hints_indented() {
    let s = Samples::new();
    let email = renderer().form(&s.forms[0]).unwrap();
    let lines: Vec<&str> = email.text.lines().collect();
    for skill in &s.forms[0].skills {
        let line = skill_line(&skill.name, &skill.key);
        assert_eq!(line, format!("{} ({}): ", skill.name, skill.key));
        let at = lines.iter().position(|l| *l == line).unwrap();
        assert_eq!(lines[at + 1], format!("    {}", skill.description));
        assert!(lines[at + 2].starts_with("    1 = "), "{}", lines[at + 2]);
        assert!(lines[at + 2].contains(" · 3 = "), "{}", lines[at + 2]);
    }
    assert!(email.text.contains("Example: Delivery: 4 shipped the beta"));
    assert!(
        email
            .text
            .contains("Email \"trend\" at any time to get your history.")
    );
    assert!(email.text.contains("n/a"));
}

#[test]
fn form_html_escapes_names_and_loads_nothing_remote() {
    let email = renderer().form(&Samples::new().forms[0]).unwrap();
    assert!(email.html.contains("Execution &amp; delivery (delivery): "));
    assert!(!email.html.contains("Execution & delivery"));
    assert_eq!(external_resource(&email.html), None);
    assert!(email.html.contains("max-width:600px"));
    assert!(!email.html.contains("<style"));
}

#[test]
fn html_parts_escape_the_pms_note() {
    for (name, email) in all_emails() {
        assert!(!email.html.contains("<beta>"), "{name}");
    }
    let s = Samples::new();
    let confirm = renderer().confirm(&s.confirms[0]).unwrap();
    assert!(
        confirm
            .html
            .contains("the &lt;beta&gt; slipped &amp; the VP")
    );
}

// --- confirmation ----------------------------------------------------------

#[test]
fn confirmation_lists_recorded_skipped_fixes_missing_and_the_note() {
    let s = Samples::new();
    let email = renderer().confirm(&s.confirms[0]).unwrap();
    let t = &email.text;
    assert!(t.contains("• Product strategy: 4/5\n"), "{t}");
    assert!(
        t.contains("• Execution & delivery: 5/5 (updated) — \"shipped the beta after all\""),
        "{t}"
    );
    assert!(t.contains("• Stakeholder management: skipped"), "{t}");
    assert!(
        t.contains("• \"D: 3\" — “D” could be Execution & delivery or Data & analytics."),
        "{t}"
    );
    assert!(
        t.contains("• \"Hiring: 4\" — “Hiring” is not a skill on the form."),
        "{t}"
    );
    let correction = renderer().confirm(&s.confirms[2]).unwrap().text;
    assert!(
        correction.contains("Not answered: Data & analytics."),
        "{correction}"
    );
    assert!(
        t.contains("    Tough week: the <beta> slipped & the VP asked why.\n    Planning"),
        "{t}"
    );
    assert!(
        t.contains("A later reply for the same week corrects it"),
        "{t}"
    );
    assert_eq!(
        email.in_reply_to.as_deref(),
        Some("CAF=x1y2z3@mail.gmail.com")
    );
    assert_eq!(email.auto_submitted, AutoSubmitted::Replied);
}

#[test]
fn confirmation_lines_never_read_as_answer_lines() {
    let s = Samples::new();
    for v in &s.confirms {
        let email = renderer().confirm(v).unwrap();
        for skill in &s.forms[0].skills {
            assert!(
                !email
                    .text
                    .lines()
                    .any(|l| l.trim_start().starts_with(&skill.name)),
                "{}",
                email.text
            );
        }
    }
}

#[test]
fn long_note_is_quoted_back_cut_with_the_rest_counted() {
    let s = Samples::new();
    let v = ConfirmView {
        note: Some("x".repeat(NOTE_QUOTE_CHARS + 25)),
        ..s.confirms[0].clone()
    };
    let email = renderer().confirm(&v).unwrap();
    assert!(email.text.contains("(… and 25 more characters, all saved)"));
    assert!(!email.text.contains(&"x".repeat(NOTE_QUOTE_CHARS + 1)));
}

#[test]
fn confirm_view_from_understanding_orders_skills_and_suggests_fixes() {
    use crate::understand::{Invalid, Kind, Understanding};
    let framework = samples::framework();
    let u = Understanding {
        kind: Kind::Assessment,
        pm: Some("amelie".into()),
        week: Some(samples::week()),
        scores: [("stakeholders".to_string(), 2), ("strategy".to_string(), 4)].into(),
        skipped: vec!["data".into()],
        invalid: vec![Invalid {
            line: "shipping = 9".into(),
            reason: "9 is not a score from 1 to 5".into(),
        }],
        missing: vec!["delivery".into()],
        note: Some("ok".into()),
        comments: Default::default(),
        reply_text: String::new(),
        command: None,
        reason: None,
        reason_code: None,
        message_id: Some("abc@mail.example.org".into()),
        content_hash: "0123456789abcdef0123".into(),
        closed_form: None,
        coach: None,
        pairing: None,
        coach_reply: None,
        coach_command: None,
        action_answers: Vec::new(),
    };
    let v = ConfirmView::new(
        samples::service(),
        samples::pm(),
        samples::week(),
        &u,
        &framework,
        None,
        samples::at(27, 18, 0),
    );
    let keys: Vec<&str> = v.recorded.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["strategy", "stakeholders", "data"]);
    assert_eq!(v.recorded[2].score, None);
    assert_eq!(v.invalid[0].examples, ["Execution & delivery: 4"]);
    // Delivery is named by the line that was not understood: not listed
    // again as not answered.
    assert!(v.missing.is_empty(), "{:?}", v.missing);
    assert_eq!(v.id, "0123456789abcdef");
    let email = renderer().confirm(&v).unwrap();
    assert_eq!(email.message_id, "confirm.0123456789abcdef@example.org");
    assert_eq!(email.references, vec!["abc@mail.example.org".to_string()]);
}

#[test]
fn unknown_skill_gets_no_made_up_suggestion_only_the_list_of_skills() {
    let s = Samples::new();
    let email = renderer().confirm(&s.confirms[0]).unwrap();
    let t = &email.text;
    let hiring = t.find("\"Hiring: 4\"").unwrap();
    let block = &t[hiring..];
    let block = &block[..block.find("\n  •").unwrap_or(block.len())];
    assert!(
        block.contains("Use one of: Product strategy, Execution & delivery,"),
        "{block}"
    );
    assert!(!block.contains(": 4\n"), "no suggested score line: {block}");
    let framework = samples::framework();
    let v = InvalidView::new(
        "Hiring: 4",
        "“Hiring” is not a skill on the form",
        &framework,
    );
    assert!(v.examples.is_empty(), "{:?}", v.examples);
}

#[test]
fn ambiguous_line_lists_each_alternative_on_its_own_line_with_one_instruction() {
    let s = Samples::new();
    let email = renderer().confirm(&s.confirms[0]).unwrap();
    let t = &email.text;
    assert!(
        t.contains(
            "  • \"D: 3\" — “D” could be Execution & delivery or Data & analytics.\n    Write more of the skill's name, e.g.\n      • Execution & delivery: 3\n      • Data & analytics: 3\n"
        ),
        "{t}"
    );
    assert_eq!(
        t.matches("corrected line").count(),
        0,
        "one instruction: {t}"
    );
    assert!(!t.contains("Not answered"), "nothing listed twice: {t}");
}

#[test]
fn correction_says_what_changed_then_the_weeks_full_answers_with_comments() {
    use crate::understand::{Kind, Understanding};
    let framework = samples::framework();
    let u = Understanding {
        kind: Kind::Assessment,
        pm: Some("amelie".into()),
        week: Some(samples::week()),
        scores: [("delivery".to_string(), 5)].into(),
        skipped: Vec::new(),
        invalid: Vec::new(),
        missing: vec!["strategy".into(), "stakeholders".into(), "data".into()],
        note: None,
        comments: [(
            "delivery".to_string(),
            "shipped the beta after all".to_string(),
        )]
        .into(),
        reply_text: String::new(),
        command: None,
        reason: None,
        reason_code: None,
        message_id: None,
        content_hash: "0123456789abcdef0123".into(),
        closed_form: None,
        coach: None,
        pairing: None,
        coach_reply: None,
        coach_command: None,
        action_answers: Vec::new(),
    };
    // Earlier that week: strategy 4, delivery 3, stakeholders n/a.
    let week = [
        ("strategy", Some(4), true),
        ("delivery", Some(3), false),
        ("stakeholders", None, true),
        ("delivery", Some(5), true),
    ]
    .map(|(skill, score, current)| WeekAnswer {
        skill: skill.into(),
        score,
        current,
    });
    let v = ConfirmView::new(
        samples::service(),
        samples::pm(),
        samples::week(),
        &u,
        &framework,
        None,
        samples::at(27, 18, 0),
    )
    .with_week_answers(&week, &framework);
    let t = renderer().confirm(&v).unwrap().text;
    let updated = t.find("Updated: Execution & delivery 3 → 5").unwrap();
    let answers = t.find("Your answers for the week of Mon 23 Nov").unwrap();
    assert!(updated < answers, "{t}");
    for line in [
        "  • Product strategy: 4/5\n",
        "  • Execution & delivery: 5/5 (updated) — \"shipped the beta after all\"\n",
        "  • Stakeholder management: skipped\n",
    ] {
        assert!(t.contains(line), "{line:?} in {t}");
    }
    assert!(t.contains("Not answered: Data & analytics."), "{t}");
    assert!(!t.contains("Not answered: Product strategy"), "{t}");
    assert_eq!(t.matches("Execution & delivery").count(), 2, "{t}");
}

// --- digest ----------------------------------------------------------------

#[test]
fn digest_leads_with_the_pms_words_then_dips_with_their_comment_then_the_rest() {
    let s = Samples::new();
    let email = renderer().digest(&s.digests[0]).unwrap();
    assert_eq!(email.to, samples::coach());
    assert_eq!(
        email.subject,
        "Confidential: Amélie Durand — digest for your 1:1 on Mon 30 Nov"
    );
    let t = &email.text;
    assert!(t.starts_with("CONFIDENTIAL"), "{t}");
    let words = t.find("IN AMÉLIE'S WORDS").unwrap();
    let note = t.find("Planning a reset on Monday").unwrap();
    let ask = t.find("Can we talk about hiring?").unwrap();
    let dip = t
        .find("• DIP Execution & delivery: 2 ↓1.5 — baseline 3.5")
        .unwrap();
    let comment = t.find("\"1 release slipped two weeks\"").unwrap();
    let strategy = t.find("• Product strategy: 4 ↑1 — baseline 3").unwrap();
    assert!(words < note && note < ask && ask < dip, "{t}");
    assert!(
        dip < comment && comment < strategy,
        "comment beside its skill: {t}"
    );
    assert!(
        t.contains("• Stakeholder management: n/a (skipped) — baseline 3"),
        "{t}"
    );
    assert!(
        t.contains("• Data & analytics: not answered — no baseline yet"),
        "{t}"
    );
    assert!(t.contains("No reply: week of Mon 2 Nov."), "{t}");
    assert!(t.contains("Answered 2 weeks in a row."), "{t}");
    // HTML: the same order, colour and the word, not colour alone.
    let h = &email.html;
    let words = h.find("In Amélie's words").unwrap();
    let dip = h.find(">DIP</span>").unwrap();
    let comment = h.find("“1 release slipped two weeks”").unwrap();
    let strategy = h.find("<strong>Product strategy</strong>").unwrap();
    assert!(words < dip && dip < comment && comment < strategy, "{h}");
    assert!(h.contains("background-color:#b42318;color:#ffffff;font-weight:bold;"));
}

#[test]
fn digest_lists_dips_largest_first() {
    let s = Samples::new();
    let mut v = s.digests[0].clone();
    // Strategy 1 against 3 (↓2) outranks delivery 2 against 3.5 (↓1.5).
    v.skills[0].answer = Answer::Score(1);
    v.skills[0].dip = true;
    let t = renderer().digest(&v).unwrap().text;
    let strategy = t.find("• DIP Product strategy: 1 ↓2").unwrap();
    let delivery = t.find("• DIP Execution & delivery: 2 ↓1.5").unwrap();
    assert!(strategy < delivery, "{t}");
}

#[test]
fn while_the_baseline_builds_a_drop_is_flagged_and_the_weeks_to_go_are_said() {
    let s = Samples::new();
    let email = renderer().digest(&s.digests[2]).unwrap();
    let t = &email.text;
    let drop = t
        .find("• DROP Execution & delivery: 1 ↓2 — was 3 last time")
        .unwrap();
    let rest = t.find("• Product strategy: 3 — no baseline yet").unwrap();
    assert!(drop < rest, "{t}");
    assert!(
        t.contains("2 more answered weeks until Amélie's scores are compared"),
        "{t}"
    );
    assert!(email.html.contains(">DROP</span>"), "{}", email.html);
}

#[test]
fn paused_digest_has_one_banner_and_a_compact_body() {
    let s = Samples::new();
    let email = renderer().digest(&s.digests[1]).unwrap();
    let t = &email.text;
    assert_eq!(t.matches("PAUSED").count(), 1, "{t}");
    assert!(t.contains("until Mon 14 Dec"), "{t}");
    for absent in [
        "missing",
        "not answered",
        "baseline",
        "Streak",
        "NO REPLY",
        "DIP",
    ] {
        assert!(!t.contains(absent), "{absent}: {t}");
    }
    assert!(email.inline.is_empty(), "no charts in a compact digest");
}

#[test]
fn skipped_digest_has_one_banner_and_a_compact_body() {
    let s = Samples::new();
    let email = renderer().digest(&s.digests[4]).unwrap();
    let t = &email.text;
    assert_eq!(t.matches("SKIPPED").count(), 1, "{t}");
    assert!(t.contains("Last answers: week of Mon 16 Nov."), "{t}");
    for absent in ["n/a", "baseline", "Streak", "NO REPLY", "PAUSED"] {
        assert!(!t.contains(absent), "{absent}: {t}");
    }
    assert_eq!(email.html.matches("SKIPPED").count(), 1);
}

#[test]
fn digest_without_any_answer_has_one_no_reply_banner_and_a_compact_body() {
    let s = Samples::new();
    let email = renderer().digest(&s.digests[3]).unwrap();
    let t = &email.text;
    assert_eq!(t.matches("NO REPLY").count(), 1, "{t}");
    assert!(
        t.contains("No reply: week of Mon 2 Nov, week of Mon 23 Nov."),
        "{t}"
    );
    for absent in ["missing", "not answered", "baseline", "in a row"] {
        assert!(!t.contains(absent), "{absent}: {t}");
    }
}

#[test]
fn no_subject_or_preheader_names_a_skill_a_score_a_dip_or_a_note() {
    let framework = samples::framework();
    let s = Samples::new();
    for (name, email) in all_emails() {
        let preheader = email
            .html
            .split("mso-hide:all;\">")
            .nth(1)
            .and_then(|rest| rest.split("</div>").next())
            .unwrap_or_default()
            .to_string();
        for shown in [&email.subject, &preheader] {
            for skill in &framework.skills {
                assert!(!shown.contains(&skill.name), "{name}: {shown}");
            }
            for private in ["dip", "DIP", "/5", "Tough week", "slipped", "baseline"] {
                assert!(!shown.contains(private), "{name}: {shown}");
            }
        }
    }
    assert!(!s.digests.is_empty());
}

#[test]
fn delta_and_baseline_are_rounded_for_reading() {
    assert_eq!(fmt_delta(-1.5), "↓1.5");
    assert_eq!(fmt_delta(1.0), "↑1");
    assert_eq!(fmt_delta(0.04), "=");
    assert_eq!(fmt_number(3.333), "3.3");
    assert_eq!(fmt_number(3.0), "3");
}

// --- help ------------------------------------------------------------------

#[test]
fn help_lists_every_command_and_how_to_answer() {
    let s = Samples::new();
    let email = renderer().help(&s.helps[0]).unwrap();
    for command in [
        "trend ",
        "trend <skill> [weeks]",
        "help ",
        "pause 2 weeks",
        // The sample's date to come, not one written into the table.
        "pause until 2026-12-26",
        "resume",
        "skip",
        "export",
        "forget",
        "n/a",
        "Delivery: 4 shipped the beta",
    ] {
        assert!(email.text.contains(command), "{command}");
    }
    assert!(email.html.contains("&lt;skill&gt;"));
    let unknown = renderer().help(&s.helps[1]).unwrap();
    assert!(unknown.text.contains("\"trnd\" is not a command I know"));
}

// --- MIME structure for later emails (charts, exports) ---------------------

fn with_chart_and_csv() -> Email {
    let mut email = renderer().help(&Samples::new().helps[0]).unwrap();
    email.html = email.html.replace(
        "</h2>",
        "</h2><img src=\"cid:chart.delivery@example.org\" alt=\"chart\">",
    );
    email.inline.push(InlinePart {
        cid: "chart.delivery@example.org".into(),
        content_type: "image/png".into(),
        bytes: vec![0x89, b'P', b'N', b'G', 0, 1, 2, 255],
    });
    email.attachments.push(Attachment {
        filename: "pm-pulse-export.csv".into(),
        content_type: "text/csv; charset=utf-8".into(),
        bytes: b"week,skill,score\r\n2026-W48,delivery,4\r\n".to_vec(),
    });
    email
}

#[test]
fn inline_images_go_in_multipart_related_and_files_in_multipart_mixed() {
    let email = with_chart_and_csv();
    let bytes = email.to_bytes().unwrap();
    let m = parse(&bytes);
    assert_eq!(m.content_type().unwrap().subtype(), Some("mixed"));
    let raw = String::from_utf8_lossy(&bytes);
    assert!(raw.contains("multipart/related"));
    assert!(raw.contains("multipart/alternative"));
    assert!(raw.contains("Content-ID: <chart.delivery@example.org>"));
    let parts: Vec<_> = m.attachments().collect();
    assert_eq!(parts.len(), 2);
    let png = parts
        .iter()
        .find(|p| p.content_id() == Some("chart.delivery@example.org"))
        .unwrap();
    assert_eq!(png.contents(), &[0x89, b'P', b'N', b'G', 0, 1, 2, 255]);
    assert_eq!(png.content_type().unwrap().subtype(), Some("png"));
    let csv = parts
        .iter()
        .find(|p| p.attachment_name() == Some("pm-pulse-export.csv"))
        .unwrap();
    assert_eq!(
        csv.contents(),
        b"week,skill,score\r\n2026-W48,delivery,4\r\n"
    );
    assert!(m.body_text(0).unwrap().contains("COMMANDS"));
    assert!(
        m.body_html(0)
            .unwrap()
            .contains("cid:chart.delivery@example.org")
    );
}

#[test]
fn inline_images_alone_make_related_without_mixed() {
    let mut email = with_chart_and_csv();
    email.attachments.clear();
    let bytes = email.to_bytes().unwrap();
    let m = parse(&bytes);
    assert_eq!(m.content_type().unwrap().subtype(), Some("related"));
    assert!(!String::from_utf8_lossy(&bytes).contains("multipart/mixed"));
}

#[test]
fn same_email_gives_the_same_bytes() {
    let email = with_chart_and_csv();
    assert_eq!(email.to_bytes().unwrap(), email.to_bytes().unwrap());
}

// --- header safety -----------------------------------------------------------

#[test]
fn line_break_in_a_name_is_refused() {
    let mut v = Samples::new().forms[0].clone();
    v.pm.name = "Alice\r\nBcc: everyone@example.org".into();
    let email = renderer().form(&v).unwrap();
    let err = email.to_bytes().unwrap_err();
    assert!(
        matches!(err, RenderError::HeaderInjection { header: "To", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("line break"), "{err}");
}

#[test]
fn line_break_in_service_name_subject_or_ids_is_refused() {
    let base = renderer().form(&Samples::new().forms[0]).unwrap();
    let cases: Vec<(&str, Email)> = vec![
        (
            "From",
            Email {
                from: Mailbox::new("PM\nPulse", "pulse@example.org"),
                ..base.clone()
            },
        ),
        (
            "Subject",
            Email {
                subject: "week\r\nBcc: x@example.org".into(),
                ..base.clone()
            },
        ),
        (
            "Message-ID",
            Email {
                message_id: "a\n@example.org".into(),
                ..base.clone()
            },
        ),
        (
            "In-Reply-To",
            Email {
                in_reply_to: Some("a@b\r\nX: y".into()),
                ..base.clone()
            },
        ),
        (
            "References",
            Email {
                references: vec!["a@b\nX: y".into()],
                ..base.clone()
            },
        ),
        (
            "Reply-To",
            Email {
                reply_to: Some("reflect+k@example.org\nBcc: x@example.org".into()),
                ..base.clone()
            },
        ),
    ];
    for (header, email) in cases {
        match email.to_bytes() {
            Err(RenderError::HeaderInjection { header: h, .. }) => assert_eq!(h, header),
            other => panic!("{header}: {other:?}"),
        }
    }
}

#[test]
fn address_that_is_not_an_address_is_refused() {
    let mut email = renderer().form(&Samples::new().forms[0]).unwrap();
    email.to = Mailbox::new("Alice", "alice at example.org");
    let err = email.to_bytes().unwrap_err();
    assert!(err.to_string().contains("is not an email address"), "{err}");
}

#[test]
fn message_id_with_angle_brackets_is_refused() {
    let mut email = renderer().form(&Samples::new().forms[0]).unwrap();
    email.in_reply_to = Some("<abc@example.org>".into());
    let err = email.to_bytes().unwrap_err();
    assert!(err.to_string().contains("without angle brackets"), "{err}");
}

// --- load ------------------------------------------------------------------

#[test]
fn shipped_templates_load_and_are_all_required() {
    let r = renderer();
    assert_eq!(r.dir(), shipped_dir());
    for name in TEMPLATES {
        assert!(shipped_dir().join(name).is_file(), "{name}");
    }
}

#[test]
fn syntax_error_is_reported_at_load_with_file_and_line() {
    let dir = templates_with(
        "confirm.txt.j2",
        "Hi {{ pm.name }},\n\n{% if recorded %}\nRecorded\n",
    );
    let err = Renderer::load(dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("confirm.txt.j2:"), "{msg}");
    assert!(msg.contains("syntax error"), "{msg}");
    assert!(msg.contains("Fix:"), "{msg}");
    assert!(
        matches!(err, RenderError::Template { line: Some(_), .. }),
        "{msg}"
    );
}

#[test]
fn misspelt_variable_is_reported_at_load_not_at_send() {
    let source = shipped("digest.txt.j2").replace("{{ streak }}", "{{ streek }}");
    let dir = templates_with("digest.txt.j2", &source);
    let err = Renderer::load(dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("digest.txt.j2:"), "{msg}");
    assert!(msg.contains("undefined"), "{msg}");
}

#[test]
fn error_in_a_branch_only_some_samples_reach_is_still_caught() {
    let source = shipped("digest.txt.j2")
        .replace("until {{ paused_until_day }}", "until {{ paused_untill }}");
    let dir = templates_with("digest.txt.j2", &source);
    let msg = Renderer::load(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("digest.txt.j2:"), "{msg}");
}

#[test]
fn error_in_the_layout_names_the_layout() {
    let source = shipped("layout.html.j2").replace("<body ", "<body data-x=\"{{ nope.nope }}\" ");
    let dir = templates_with("layout.html.j2", &source);
    let msg = Renderer::load(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("layout.html.j2"), "{msg}");
}

#[test]
fn missing_template_is_reported_with_its_path() {
    let dir = templates_with("form.txt.j2", "");
    std::fs::remove_file(dir.path().join("help.html.j2")).unwrap();
    let msg = Renderer::load(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("help.html.j2 is missing"), "{msg}");
}

#[test]
fn form_that_loses_the_skill_lines_is_refused_at_load() {
    let source = shipped("form.txt.j2").replace("{{ skill.line }}", "{{ skill.name }}:");
    let dir = templates_with("form.txt.j2", &source);
    let msg = Renderer::load(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("form.txt.j2"), "{msg}");
    assert!(msg.contains("Product strategy (strategy): "), "{msg}");
}

#[test]
fn remote_image_in_html_is_refused_at_load() {
    let source = shipped("help.html.j2").replace(
        "{% block content %}",
        "{% block content %}<img src=\"https://tracker.example.com/p.gif\">",
    );
    let dir = templates_with("help.html.j2", &source);
    let msg = Renderer::load(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("help.html.j2"), "{msg}");
    assert!(msg.contains("external resource"), "{msg}");
}

#[test]
fn folder_that_does_not_exist_says_which_setting_to_fix() {
    let msg = Renderer::load(Path::new("/nonexistent/templates"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("/nonexistent/templates"), "{msg}");
    assert!(msg.contains("[service] templates"), "{msg}");
}

#[test]
fn load_errors_say_file_line_and_fix() {
    let cases = [
        (
            "confirm.txt.j2",
            "Hi {{ pm.name }},\n\n{% if recorded %}\nRecorded\n".to_string(),
        ),
        (
            "digest.txt.j2",
            shipped("digest.txt.j2").replace("{{ streak }}", "{{ streek }}"),
        ),
        (
            "form.html.j2",
            shipped("form.html.j2").replace("|first_name", "|firstname"),
        ),
        (
            "form.txt.j2",
            shipped("form.txt.j2").replace("{{ skill.line }}", "{{ skill.name }}:"),
        ),
        (
            "reminder.html.j2",
            shipped("reminder.html.j2").replace(
                "{% block content %}",
                "{% block content %}<img src=\"https://tracker.example.com/p.gif\">",
            ),
        ),
    ];
    let mut report = String::new();
    for (name, source) in cases {
        let dir = templates_with(name, &source);
        let msg = Renderer::load(dir.path()).unwrap_err().to_string();
        report.push_str(&msg.replace(&dir.path().display().to_string(), "templates"));
        report.push('\n');
    }
    insta::assert_snapshot!(report);
}

#[test]
fn form_html_converted_to_text_keeps_each_skill_line() {
    // HTML-only replies are read through the HTML reader: the skill lines must survive it.
    let s = Samples::new();
    let email = renderer().form(&s.forms[0]).unwrap();
    let text = crate::understand::mime::html_to_text(&email.html);
    for skill in &s.forms[0].skills {
        let line = skill_line(&skill.name, &skill.key);
        assert!(
            text.lines().any(|l| l.trim_end() == line.trim_end()),
            "{line:?} not in:\n{text}"
        );
    }
}

#[test]
fn corrected_example_reads_accents_and_never_picks_one_of_two_scores() {
    let framework =
        Framework::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/framework.toml"))
            .unwrap();
    let lines = |line| corrected_examples(line, &framework).1;
    assert_eq!(
        lines("Stakeholder management: 2 or 3"),
        ["Stakeholder management: 4"]
    );
    assert_eq!(lines("Données: 3.5"), ["Data & analytics: 4"]);
    assert_eq!(lines("DONNEES - 2/5"), ["Data & analytics: 2"]);
    assert!(lines("Hiring: 4").is_empty());
}

// --- charts ----------------------------------------------------------------

/// The pixel width a PNG's header states.
fn png_width(png: &[u8]) -> u32 {
    u32::from_be_bytes([png[16], png[17], png[18], png[19]])
}

#[test]
fn trend_charts_grow_with_the_weeks_and_carry_a_1_to_5_scale_hint() {
    let s = Samples::new();
    let twelve = renderer().trend(&s.trends[0]).unwrap();
    let twenty_six = renderer().trend(&s.trends[1]).unwrap();
    assert!(png_width(&twelve.inline[0].bytes) < png_width(&twenty_six.inline[0].bytes));
    let w = chart::width_for(26);
    assert!(w <= chart::MAX_WIDTH);
    assert!(
        twenty_six.html.contains(&format!("width=\"{w}\"")),
        "{}",
        twenty_six.html
    );
    for email in [&twelve, &twenty_six] {
        assert!(
            email.html.contains(">5<br>1</td>"),
            "the scale hint: {}",
            email.html
        );
    }
}

#[test]
fn trend_does_not_draw_the_current_unanswered_week_as_an_empty_slot() {
    let s = Samples::new();
    let mut v = s.trends[0].clone();
    for skill in &mut v.skills {
        *skill.points.last_mut().unwrap() = None;
    }
    let email = renderer().trend(&v).unwrap();
    let drawn = v.skills[0].points.len() - 1;
    assert_eq!(
        png_width(&email.inline[0].bytes),
        chart::width_for(drawn) * chart::DENSITY
    );
    assert!(
        email.html.contains(&format!(
            "<strong>{}</strong> on the right",
            week_of(v.until.prev())
        )),
        "{}",
        email.html
    );
    // With an answer this week, the week is drawn.
    let answered = renderer().trend(&s.trends[0]).unwrap();
    assert_eq!(
        png_width(&answered.inline[0].bytes),
        chart::width_for(drawn + 1) * chart::DENSITY
    );
}

#[test]
fn comments_beside_a_skill_are_escaped_in_html() {
    let s = Samples::new();
    let mut digest = s.digests[0].clone();
    digest.skills[1].comment = Some("<b>slipped</b> & late".into());
    let html = renderer().digest(&digest).unwrap().html;
    assert!(
        html.contains("&lt;b&gt;slipped&lt;&#x2f;b&gt; &amp; late"),
        "{html}"
    );
    let mut confirm = s.confirms[0].clone();
    confirm.recorded[1].comment = Some("<i>done</i>".into());
    let html = renderer().confirm(&confirm).unwrap().html;
    assert!(html.contains("&lt;i&gt;done"), "{html}");
    assert!(!html.contains("<i>done"), "{html}");
}
