//! The `coachmail parse` JSON line: its shape is a contract (DESIGN.md,
//! "Reply contract"), so it is spelled out here in full.

mod util;

use coachmail::understand::{Context, MemoryForms, understand};
use serde_json::json;
use util::{KEY, one_form, shipped_config as config};

#[test]
fn assessment_json_has_the_documented_shape() {
    let raw = format!(
        "From: Alice Martin <alice@example.org>\r\nTo: PM Pulse <reflect+{KEY}@example.org>\r\nSubject: Re: Your weekly reflection for 2026-W48\r\nMessage-ID: <a1@mail.example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nStakeholders: 2\r\nDelivery = 4 (shipped the beta)\r\nData: n/a\r\nD: 4\r\nRough week with sales.\r\n\r\nThanks,\r\nAlice\r\n\r\nOn Fri, Nov 27, 2026 at 4:00 PM PM Pulse <reflect+{KEY}@example.org> wrote:\r\n> Product strategy (strategy):\r\n"
    );
    let config = config();
    let ctx = Context {
        config: &config,
        forms: &one_form(),
        now: "2026-11-28T10:00:00Z".parse().unwrap(),
    };
    let u = understand(raw.as_bytes(), &ctx).unwrap();
    let mut got = serde_json::to_value(&u).unwrap();
    let hash = got["content_hash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 64);
    got["content_hash"] = json!("…");
    assert_eq!(
        got,
        json!({
            "kind": "assessment",
            "pm": "alice",
            "week": "2026-W48",
            "scores": {"delivery": 4, "stakeholders": 2},
            "comments": {"delivery": "shipped the beta"},
            "skipped": ["data"],
            "invalid": [{"line": "D: 4", "reason": "“D” could be Customer discovery, Execution & delivery or Data & analytics — write more of the skill's name"}],
            "missing": ["strategy", "discovery", "communication", "technical", "leadership"],
            "note": "Rough week with sales.",
            "reply_text": "Stakeholders: 2\nDelivery = 4 (shipped the beta)\nData: n/a\nD: 4\nRough week with sales.",
            "command": null,
            "reason": null,
            "message_id": "a1@mail.example.org",
            "content_hash": "…"
        })
    );
    // One JSON object on one line, as `coachmail parse` prints it.
    assert!(!serde_json::to_string(&u).unwrap().contains('\n'));
}

#[test]
fn command_and_rejection_json_name_what_happened() {
    let config = config();
    let ctx = Context {
        config: &config,
        forms: &one_form(),
        now: "2026-11-28T10:00:00Z".parse().unwrap(),
    };
    let raw = format!(
        "From: alice@example.org\r\nTo: reflect+{KEY}@example.org\r\nSubject: Re: week\r\n\r\npause 2 weeks\r\n"
    );
    let u = serde_json::to_value(understand(raw.as_bytes(), &ctx).unwrap()).unwrap();
    assert_eq!(u["kind"], "command");
    assert_eq!(
        u["command"],
        json!({"name": "pause", "weeks": 2, "until": null})
    );
    assert_eq!(u["week"], "2026-W48");

    let ctx = Context {
        config: &config,
        forms: &MemoryForms::new(),
        now: "2026-11-28T10:00:00Z".parse().unwrap(),
    };
    let u = serde_json::to_value(
        understand(b"From: mallory@evil.example\r\n\r\nData: 1\r\n", &ctx).unwrap(),
    )
    .unwrap();
    assert_eq!(u["kind"], "rejected");
    assert_eq!(u["pm"], json!(null));
    assert_eq!(u["reason"], "sender is not a registered PM");
    assert_eq!(u["reply_text"], "", "a rejected message's body is not read");
}
