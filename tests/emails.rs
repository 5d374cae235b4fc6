//! Every email as a reader sees it: each kind coachmail sends, rendered by a
//! real browser engine (headless Chromium) at a phone's width, in light and
//! in dark mode, plus the email-client conventions the HTML keeps.
//!
//! Chromium comes from Debian's `chromium` package, installed by
//! `scripts/mail-servers.sh install` (which `scripts/test.sh` runs). Without
//! it a plain `cargo test` skips the browser checks and says so; under
//! `COACHMAIL_REQUIRE_REAL_MAIL` (set by `scripts/test.sh`) a missing
//! Chromium fails them, as a missing mail server fails the real-mail tests.

mod util;

use std::path::{Path, PathBuf};
use std::process::Command;

use coachmail::render::{Email, Renderer};

/// A phone's viewport width in CSS pixels (an iPhone 12 to 15).
const PHONE: u32 = 390;

fn renderer() -> Renderer {
    Renderer::load(&util::repo().join("templates")).unwrap()
}

/// The Chromium binary, or `None` (the test is skipped) when it is not
/// installed and the run does not require it.
fn chromium() -> Option<PathBuf> {
    const HOW: &str = "Run scripts/test.sh (it installs Debian's `chromium` through \
         scripts/mail-servers.sh install), or `apt-get install chromium`.";
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
    });
    if found.is_none() {
        if std::env::var_os("COACHMAIL_REQUIRE_REAL_MAIL").is_some() {
            panic!("COACHMAIL_REQUIRE_REAL_MAIL is set but Chromium is not installed. {HOW}");
        }
        eprintln!("skipped: Chromium is not installed, so emails cannot be measured. {HOW}");
    }
    found
}

/// How one email's HTML laid out in the browser.
#[derive(Debug)]
struct Layout {
    name: String,
    /// The document's scroll width at the viewport's width: wider than the
    /// viewport means a horizontal scroll.
    scroll_width: u32,
    /// Whether the page saw `prefers-color-scheme: dark`.
    dark: bool,
    /// The widest the email's card (its `max-width:600px` table) was laid out.
    card_width: u32,
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Lays every `(name, html)` out in one headless Chromium, each in a frame
/// `width` CSS pixels wide (a frame, because a headless window cannot be
/// narrower than 500 px), and reads back each document's scroll width.
fn measure(chromium: &Path, emails: &[(String, String)], width: u32, dark: bool) -> Vec<Layout> {
    let dir = tempfile::tempdir().unwrap();
    let mut page = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body style=\"margin:0\">\n",
    );
    for (i, (_, html)) in emails.iter().enumerate() {
        page.push_str(&format!(
            "<iframe id=\"f{i}\" style=\"display:block;width:{width}px;height:900px;border:0\" srcdoc=\"{}\"></iframe>\n",
            escape_attr(html)
        ));
    }
    page.push_str(
        "<script>window.addEventListener('load', function () {\n\
         var out = [];\n\
         document.querySelectorAll('iframe').forEach(function (f) {\n\
           var w = f.contentWindow;\n\
           var card = 0;\n\
           w.document.querySelectorAll('[style]').forEach(function (e) {\n\
             if (e.style.maxWidth === '600px') {\n\
               card = Math.max(card, Math.ceil(e.getBoundingClientRect().width));\n\
             }\n\
           });\n\
           out.push(f.id + ' ' + w.document.documentElement.scrollWidth + ' ' +\n\
             w.matchMedia('(prefers-color-scheme: dark)').matches + ' ' + card);\n\
         });\n\
         var pre = document.createElement('pre');\n\
         pre.id = 'measured';\n\
         pre.textContent = 'BEGIN\\n' + out.join('\\n') + '\\nEND';\n\
         document.body.appendChild(pre);\n\
         });</script></body></html>\n",
    );
    let file = dir.path().join("emails.html");
    std::fs::write(&file, page).unwrap();
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        &format!("--window-size={width},900"),
        &format!("--user-data-dir={}", dir.path().join("profile").display()),
    ]);
    if dark {
        // The reader's system in dark mode, and the forced darkening some
        // mail apps apply to emails that do not style themselves for it.
        cmd.args([
            "--force-dark-mode",
            "--blink-settings=preferredColorScheme=0,forceDarkModeEnabled=true",
        ]);
    }
    let out = cmd
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let begin = dom.find("BEGIN\n").unwrap_or_else(|| {
        panic!(
            "Chromium wrote no measurements (exit {:?}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let end = dom[begin..].find("\nEND").unwrap() + begin;
    let layouts: Vec<Layout> = dom[begin + 6..end]
        .lines()
        .map(|line| {
            let mut parts = line.split(' ');
            let id: usize = parts.next().unwrap()[1..].parse().unwrap();
            Layout {
                name: emails[id].0.clone(),
                scroll_width: parts.next().unwrap().parse().unwrap(),
                dark: parts.next() == Some("true"),
                card_width: parts.next().unwrap().parse().unwrap(),
            }
        })
        .collect();
    assert_eq!(layouts.len(), emails.len(), "every email measured");
    layouts
}

fn htmls(emails: Vec<(String, Email)>) -> Vec<(String, String)> {
    emails.into_iter().map(|(n, e)| (n, e.html)).collect()
}

fn assert_fit(layouts: &[Layout], width: u32) {
    let too_wide: Vec<String> = layouts
        .iter()
        .filter(|l| l.scroll_width > width)
        .map(|l| format!("{} is {} px wide", l.name, l.scroll_width))
        .collect();
    assert!(
        too_wide.is_empty(),
        "at a {width} px viewport these scroll sideways: {too_wide:?}"
    );
}

#[test]
fn every_kind_of_email_fits_a_390px_phone_screen_without_scrolling_sideways() {
    let Some(chromium) = chromium() else { return };
    let emails = htmls(renderer().sample_emails().unwrap());
    assert!(emails.len() >= 25, "every kind and case is measured");
    let layouts = measure(&chromium, &emails, PHONE, false);
    for l in &layouts {
        assert!(!l.dark, "{} measured in light mode", l.name);
    }
    assert_fit(&layouts, PHONE);
}

#[test]
fn on_a_wide_screen_every_email_stays_a_600px_column() {
    let Some(chromium) = chromium() else { return };
    let emails = htmls(renderer().sample_emails().unwrap());
    let layouts = measure(&chromium, &emails, 1024, false);
    for l in &layouts {
        assert!(
            l.card_width > 0 && l.card_width <= 600,
            "{}: card {} px",
            l.name,
            l.card_width
        );
    }
    assert_fit(&layouts, 1024);
}

#[test]
fn every_email_keeps_to_email_client_conventions() {
    for (name, email) in renderer().sample_emails().unwrap() {
        let html = email.html.to_ascii_lowercase();
        // Clients drop <style> blocks and classes: all layout is inline.
        for banned in [
            "<style",
            " class=",
            "<link",
            "<script",
            "display:flex",
            "display:grid",
            "position:",
        ] {
            assert!(!html.contains(banned), "{name}: {banned}");
        }
        assert!(
            html.contains("<table role=\"presentation\""),
            "{name}: layout tables"
        );
        assert!(html.contains("max-width:600px"), "{name}: a 600 px column");
        // Every image is an inline part, sized in the HTML.
        for img in html.split("<img ").skip(1) {
            let tag = &img[..img.find('>').unwrap()];
            assert!(tag.contains("src=\"cid:"), "{name}: {tag}");
            assert!(
                tag.contains("width=\"") && tag.contains("height=\""),
                "{name}: {tag}"
            );
            assert!(tag.contains("alt=\""), "{name}: {tag}");
        }
    }
}

#[test]
fn every_chart_has_a_transparent_background_for_light_and_dark_mode() {
    let mut charts = 0;
    for (name, email) in renderer().sample_emails().unwrap() {
        for part in &email.inline {
            let mut decoder = png::Decoder::new(std::io::Cursor::new(&part.bytes[..]));
            decoder.set_transformations(png::Transformations::ALPHA);
            let mut reader = decoder.read_info().unwrap();
            let mut rgba = vec![0; reader.output_buffer_size().unwrap()];
            reader.next_frame(&mut rgba).unwrap();
            // The corners are background: fully transparent, so the chart
            // sits on whatever the panel or the dark theme shows.
            let width = reader.info().width as usize;
            assert_eq!(rgba[3], 0, "{name}: top-left corner");
            assert_eq!(rgba[(width - 1) * 4 + 3], 0, "{name}: top-right corner");
            charts += 1;
        }
    }
    assert!(charts > 10, "{charts} charts checked");
}

#[test]
fn every_kind_of_email_fits_a_390px_phone_screen_in_dark_mode() {
    let Some(chromium) = chromium() else { return };
    let mut emails = htmls(renderer().sample_emails().unwrap());
    // As the reader's dark system shows them (the emails ask to stay
    // light), and as a mail app that darkens every email anyway does.
    let darkened: Vec<(String, String)> = emails
        .iter()
        .map(|(name, html)| {
            let meta = "<meta name=\"color-scheme\" content=\"light only\">";
            assert!(html.contains(meta), "{name}");
            (format!("{name} (darkened)"), html.replace(meta, ""))
        })
        .collect();
    emails.extend(darkened);
    let layouts = measure(&chromium, &emails, PHONE, true);
    for l in &layouts {
        assert!(l.dark, "{} measured in dark mode", l.name);
    }
    assert_fit(&layouts, PHONE);
}

// --- what the emails say, end to end -------------------------------------------

fn forms_to(h: &util::Harness, email: &str) -> Vec<util::Sent> {
    h.sent_of("form")
        .into_iter()
        .filter(|s| s.to == email)
        .collect()
}

/// `bytes` with `from` replaced by `to` once (the test's own message).
fn edited(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.contains(from), "{text}");
    text.replacen(from, to, 1).into_bytes()
}

#[test]
fn a_one_line_correction_says_what_changed_and_the_digest_shows_each_comment_beside_its_skill() {
    use chrono::Duration;
    use coachmail::clock::Clock;
    use coachmail::replies;
    let bruno = ("Bruno Silva", "bruno@example.org");
    let mut h = util::Harness::start(util::utc(2026, 11, 23, 0, 0));
    // Bruno is in São Paulo: 16:00 there is 19:00 UTC.
    h.run_until(util::utc(2026, 11, 27, 20, 0), Duration::hours(1));
    let form = forms_to(&h, bruno.1).pop().expect("bruno got his form");
    let first = util::reply_with(&h, &form, bruno, 3, "", "c1");
    h.deliver("1.c1.host", &first);
    h.pass();
    h.clock.advance(Duration::hours(3));
    let fix = replies::correction(
        &form.headers(),
        bruno,
        "Communication",
        5,
        h.clock.now(),
        "c2",
    );
    let fix = edited(
        &fix,
        "Communication: 5",
        "Communication: 5 finally presented the roadmap",
    );
    // Bruno wrote his own subject.
    let fix = edited(
        &fix,
        &format!("Subject: Re: {}\r\n", form.subject),
        "Subject: AW: one more thing\r\n",
    );
    h.deliver("2.c2.host", &fix);
    h.pass();

    let confirms = h.sent_of("confirm");
    assert_eq!(confirms.len(), 2);
    // Threaded with the PM's reply: `Re:` the subject they wrote.
    assert_eq!(confirms[0].subject, format!("Re: {}", form.subject));
    assert_eq!(confirms[1].subject, "Re: one more thing");
    let t = &confirms[1].text;
    let updated = t.find("Updated: Communication 3 → 5").unwrap();
    let list = t.find("Your answers for the week of Mon 23 Nov").unwrap();
    assert!(updated < list, "{t}");
    assert!(
        t.contains("  • Communication: 5/5 (updated) — \"finally presented the roadmap\""),
        "{t}"
    );
    // The week's full current answers: the seven from the first reply too.
    for skill in h.service.engine.config.framework.active() {
        assert!(
            t.contains(&format!("  • {}: ", skill.name)),
            "{}: {t}",
            skill.name
        );
    }
    assert!(t.contains("  • Product strategy: 3/5"), "{t}");
    assert_eq!(t.matches("(updated)").count(), 1, "{t}");
    assert!(!t.contains("Not answered"), "{t}");

    // Bruno's 1:1 is Tuesday 09:30 in São Paulo.
    h.run_until(util::utc(2026, 12, 1, 12, 0), Duration::hours(1));
    let digest = h
        .sent_of("digest")
        .into_iter()
        .find(|d| d.subject.contains("Bruno"))
        .unwrap();
    let d = &digest.text;
    let communication = d.find("• Communication: 5").unwrap();
    let comment = d.find("\"finally presented the roadmap\"").unwrap();
    let next = d[communication..].find("\n  • ").map(|i| i + communication);
    assert!(
        communication < comment && next.is_none_or(|n| comment < n),
        "the comment sits beside its skill: {d}"
    );
    assert!(!d.contains("BRUNO'S WORDS"), "a comment is not a note: {d}");
}

#[test]
fn every_email_names_its_week_for_people_with_the_iso_code_only_in_small_print() {
    let emails = renderer().sample_emails().unwrap();
    for (name, email) in &emails {
        for part in [&email.subject, &email.text, &email.html] {
            for bare in ["week 2026-W", "week <strong>2026-W", "Week 2026-W"] {
                assert!(!part.contains(bare), "{name}: {bare} in {part}");
            }
        }
    }
    for name in [
        "form",
        "reminder",
        "confirm_with_problems",
        "digest",
        "digest_paused",
        "ack_skipped",
        "ack_form_closed",
    ] {
        let email = &emails.iter().find(|(n, _)| n == name).unwrap().1;
        assert!(
            email.text.contains("week of Mon 23 Nov"),
            "{name}: {}",
            email.text
        );
        assert!(
            email.html.contains("week of Mon 23 Nov"),
            "{name}: {}",
            email.html
        );
    }
}

#[test]
fn the_reminders_subject_says_it_is_a_reminder() {
    let emails = renderer().sample_emails().unwrap();
    let subject = |name: &str| {
        emails
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e.subject.clone())
            .unwrap()
    };
    assert_ne!(subject("form"), subject("reminder"));
    assert!(
        subject("reminder").contains("reminder"),
        "{}",
        subject("reminder")
    );
}

/// Alice (Paris) on Monday 5 January 2026, trusted DMARC verdicts: her
/// fresh emails are commands.
fn commands_harness() -> util::Harness {
    util::Harness::start_with(util::utc(2026, 1, 5, 8, 0), util::trusting_mx)
}

/// Alice sends a fresh message; returns the one answer to it.
fn alice_sends(h: &mut util::Harness, subject: &str, body: &str, unique: &str) -> util::Sent {
    use coachmail::clock::Clock;
    let raw = util::mail(
        ("Alice Martin", "alice@example.org"),
        subject,
        body,
        &[util::dmarc("pass", "example.org")],
        unique,
        h.clock.now(),
    );
    let before = h.sent_count();
    h.deliver_and_pass(&format!("{unique}.eml"), &raw);
    let id = format!(":{unique}@client.example");
    let mut answers: Vec<util::Sent> = h
        .sent_new(before)
        .into_iter()
        .filter(|s| s.key.ends_with(&id))
        .collect();
    assert_eq!(answers.len(), 1, "one answer to {unique}");
    answers.remove(0)
}

#[test]
fn example_dates_in_help_and_acks_are_four_weeks_ahead_in_the_pms_zone() {
    let mut h = commands_harness();
    // Monday 5 January 2026 in Paris, plus four weeks.
    let help = alice_sends(&mut h, "help", "", "d1");
    assert!(
        help.text.contains("pause until 2026-02-02"),
        "{}",
        help.text
    );
    let past = alice_sends(&mut h, "pause until 2025-12-01", "", "d2");
    assert!(
        past.text.contains("\"pause until 2026-02-02\""),
        "{}",
        past.text
    );
    // Later, the example moves on with the clock.
    h.clock.advance(chrono::Duration::weeks(5));
    let later = alice_sends(&mut h, "help", "", "d3");
    assert!(
        later.text.contains("pause until 2026-03-09"),
        "{}",
        later.text
    );
}

#[test]
fn answers_to_commands_thread_with_the_pms_message() {
    let mut h = commands_harness();
    for (subject, body, unique) in [
        ("trend", "", "r1"),
        ("Pause 2 weeks", "", "r2"),
        ("Re: help", "", "r3"),
        ("", "export", "r4"),
    ] {
        let answer = alice_sends(&mut h, subject, body, unique);
        let id = format!("<{unique}@client.example>");
        assert_eq!(answer.header("In-Reply-To").as_deref(), Some(id.as_str()));
        assert!(
            answer.header("References").is_some_and(|r| r.contains(&id)),
            "{unique}"
        );
        let expected = match subject {
            "" => None,
            s => Some(format!("Re: {}", s.trim_start_matches("Re: "))),
        };
        match expected {
            Some(e) => assert_eq!(answer.subject, e),
            // No subject to answer: the answer names itself.
            None => assert!(answer.subject.contains("export"), "{}", answer.subject),
        }
    }
}

#[test]
fn every_email_a_running_service_sends_fits_a_390px_phone_screen() {
    use chrono::Duration;
    let Some(chromium) = chromium() else { return };
    let mut h = util::Harness::start_with(util::utc(2026, 10, 5, 0, 0), util::trusting_mx);
    let mut answered = std::collections::BTreeSet::new();
    // Five weeks of the shipped roster (eight skills, long names): Alice
    // falls to 1 in the last, with a long note; Bruno never answers.
    for week in 0..5i64 {
        h.run_until(
            util::utc(2026, 10, 10, 12, 0) + Duration::weeks(week),
            Duration::hours(1),
        );
        for form in h.sent_of("form") {
            if form.to == "bruno@example.org" || !answered.insert(form.key.clone()) {
                continue;
            }
            let from = (
                form.to.split('@').next().unwrap().to_string(),
                form.to.clone(),
            );
            let (score, note) = if week == 4 && form.to == "alice@example.org" {
                (
                    1,
                    "Rough week. The plan is at https://docs.example.org/planning/2026/q4/beta-reset-proposal-draft-v3-final-final\nHiring: 4\nD: 3",
                )
            } else {
                (3 + (week % 2) as u8, "")
            };
            let reply = util::reply_with(&h, &form, (&from.0, &from.1), score, note, &form.key);
            h.deliver(&format!("{}.eml", form.key.replace(':', "-")), &reply);
            h.pass();
        }
    }
    // Every digest of that week, then Alice's commands.
    h.run_until(util::utc(2026, 11, 11, 12, 0), Duration::hours(1));
    for (i, command) in [
        "trend",
        "trend delivery 26",
        "help",
        "trnd",
        "export",
        "skip",
        "pause 1 week",
        "resume",
        "pause until 2020-01-01",
        "forget",
    ]
    .iter()
    .enumerate()
    {
        alice_sends(&mut h, command, "", &format!("cmd{i}"));
    }
    let sent = h.sent();
    let kinds: std::collections::BTreeSet<&str> = sent.iter().map(|s| s.kind()).collect();
    for kind in [
        "form", "reminder", "confirm", "digest", "trend", "help", "export", "ack", "forget",
    ] {
        assert!(kinds.contains(kind), "no {kind} among {kinds:?}");
    }
    // The problem confirmation: one instruction per line, the skills listed
    // for one that is not on the form, never a made-up suggestion for it.
    let problems = sent
        .iter()
        .filter(|s| s.kind() == "confirm" && s.to == "alice@example.org")
        .find(|s| s.text.contains("Hiring"))
        .unwrap();
    let hiring = &problems.text[problems.text.find("\"Hiring: 4\"").unwrap()..];
    let hiring = &hiring[..hiring.find("\n  •").unwrap_or(hiring.len())];
    assert!(
        hiring.contains("Use one of: Product strategy, "),
        "{hiring}"
    );
    assert!(
        !hiring.contains(": 4\r\n") && !hiring.contains(": 4\n"),
        "{hiring}"
    );
    assert_eq!(
        problems.text.matches("\"D: 3\"").count(),
        1,
        "{}",
        problems.text
    );
    let emails: Vec<(String, String)> = sent
        .iter()
        .map(|s| (s.key.clone(), s.html.clone()))
        .collect();
    assert_fit(&measure(&chromium, &emails, PHONE, false), PHONE);
}
