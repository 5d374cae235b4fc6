//! Properties of the answer grammar and of `understand` as a whole:
//! any rendered score line for any skill, alias or prefix reads back to its
//! score; noise never yields a score; the order of answers is irrelevant; a
//! filled-in quoted form reads back to its scores; no input panics.

mod util;

use std::collections::BTreeMap;

use coachmail::config::Config;
use coachmail::understand::grammar::{Lexicon, Line, Value, parse_line};
use coachmail::understand::{Context, Kind, understand};
use proptest::prelude::*;
use util::{KEY, one_form, shipped_config as config};

/// Ways of naming skill `i`: key, name, aliases, and prefixes of the key.
fn labels(config: &Config, i: usize) -> Vec<String> {
    let s = config.framework.active().nth(i).unwrap();
    let mut out = vec![s.key.clone(), s.name.clone()];
    out.extend(s.aliases.iter().cloned());
    for n in 4..s.key.len() {
        out.push(s.key[..n].to_string());
    }
    out.push(format!("{} ({})", s.name, s.key));
    out
}

fn case(label: &str, how: u8) -> String {
    match how % 3 {
        0 => label.to_string(),
        1 => label.to_uppercase(),
        _ => label.to_lowercase(),
    }
}

fn message(body: &str) -> Vec<u8> {
    format!(
        "From: Alice Martin <alice@example.org>\r\nTo: PM Pulse <reflect+{KEY}@example.org>\r\nSubject: Re: Your weekly reflection\r\nMessage-ID: <p@mail.example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    )
    .into_bytes()
}

fn skill_count() -> usize {
    config().framework.active().count()
}

const SEPARATORS: &[&str] = &[
    ": ", ":", " : ", " - ", " = ", "=", " – ", " — ", " ", "  ", "\t",
];
const DECORATIONS: &[(&str, &str)] = &[
    ("", ""),
    ("- ", ""),
    ("* ", ""),
    ("• ", ""),
    ("**", "**"),
    ("_", "_"),
    ("1. ", ""),
];
const TAILS: &[&str] = &[
    "",
    "/5",
    " / 5",
    " out of 5",
    " (shipped the beta)",
    " - good week",
    ", solid",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_rendered_score_line_reads_back(
        skill in 0..8usize,
        label_pick in 0..64usize,
        how in 0..3u8,
        sep in 0..SEPARATORS.len(),
        deco in 0..DECORATIONS.len(),
        tail in 0..TAILS.len(),
        score in 1..=5u8,
    ) {
        let config = config();
        prop_assume!(skill < skill_count());
        let lex = Lexicon::new(&config.framework);
        let all = labels(&config, skill);
        let label = case(&all[label_pick % all.len()], how);
        let (pre, post) = DECORATIONS[deco];
        let line = format!("{pre}{label}{post}{}{score}{}", SEPARATORS[sep], TAILS[tail]);
        let key = config.framework.active().nth(skill).unwrap().key.clone();
        match parse_line(&line, &lex, None) {
            Line::Answer { skill: got, value: Value::Score(n), .. } => {
                prop_assert_eq!(got, key, "{}", line);
                prop_assert_eq!(n, score, "{}", line);
            }
            other => prop_assert!(false, "{line:?} read as {other:?}"),
        }
    }

    #[test]
    fn random_text_never_yields_a_score(s in "\\PC{0,80}") {
        let config = config();
        let lex = Lexicon::new(&config.framework);
        let got = parse_line(&s, &lex, None);
        prop_assert!(
            !matches!(got, Line::Answer { value: Value::Score(_), .. }),
            "{s:?} read as {got:?}"
        );
    }

    #[test]
    fn prose_with_numbers_never_yields_a_score(
        words in prop::collection::vec(
            prop::sample::select(vec![
                "we", "had", "meetings", "with", "sales", "the", "team", "shipped", "week", "was",
                "hard", "I", "spent", "hours", "on", "calls", "about", "pricing", "and", "it",
                "went", "fine", "3", "4", "2", "5", "12", "-", ":", "—", "people", "left",
            ]),
            1..12,
        ),
    ) {
        let s = words.join(" ");
        let config = config();
        let lex = Lexicon::new(&config.framework);
        let got = parse_line(&s, &lex, None);
        prop_assert!(
            !matches!(got, Line::Answer { value: Value::Score(_), .. }),
            "{s:?} read as {got:?}"
        );
    }

    #[test]
    fn answer_order_is_irrelevant(
        scores in prop::collection::btree_map(0..8usize, 1..=5u8, 1..8),
        seed in any::<u64>(),
    ) {
        let config = config();
        let keys: Vec<String> = config.framework.active().map(|s| s.key.clone()).collect();
        let mut lines: Vec<String> = scores
            .iter()
            .map(|(i, n)| format!("{}: {n}", config.framework.active().nth(*i).unwrap().name))
            .collect();
        // A deterministic shuffle from the seed.
        let mut state = seed | 1;
        for i in (1..lines.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            lines.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let forms = one_form();
        let ctx = Context { config: &config, forms: &forms, now: chrono::Utc::now() };
        let u = understand(&message(&lines.join("\r\n")), &ctx).unwrap();
        let want: BTreeMap<String, u8> =
            scores.iter().map(|(i, n)| (keys[*i].clone(), *n)).collect();
        prop_assert_eq!(u.kind, Kind::Assessment);
        prop_assert_eq!(u.scores, want);
        prop_assert!(u.invalid.is_empty());
    }

    #[test]
    fn filled_in_quoted_form_reads_back(
        scores in prop::collection::btree_map(0..8usize, 1..=5u8, 0..8),
        top in prop::collection::vec(0..8usize, 0..3),
    ) {
        let config = config();
        let mut body = String::from(
            "On Fri, Nov 27, 2026 at 4:00 PM PM Pulse <reflect@example.org> wrote:\r\n> Hi Alice,\r\n>\r\n",
        );
        for (i, s) in config.framework.active().enumerate() {
            body.push_str(&format!("> {} ({}): \r\n>    {}\r\n", s.name, s.key, s.description));
            body.push_str(">    1 = low  3 = middle  5 = high\r\n");
            if let Some(n) = scores.get(&i) {
                body.push_str(&format!("{n}\r\n"));
            }
            body.push_str(">\r\n");
        }
        body.push_str("> Example: Delivery: 4 shipped the beta\r\n> Email \"trend\" at any time to get your history.\r\n");
        // Some answers also top-posted, with the same score: counted once.
        let mut text = String::new();
        for i in &top {
            if let Some(n) = scores.get(i) {
                text.push_str(&format!("{}: {n}\r\n", config.framework.active().nth(*i).unwrap().key));
            }
        }
        text.push_str("\r\n");
        text.push_str(&body);
        let forms = one_form();
        let ctx = Context { config: &config, forms: &forms, now: chrono::Utc::now() };
        let u = understand(&message(&text), &ctx).unwrap();
        let keys: Vec<String> = config.framework.active().map(|s| s.key.clone()).collect();
        let want: BTreeMap<String, u8> =
            scores.iter().map(|(i, n)| (keys[*i].clone(), *n)).collect();
        prop_assert_eq!(u.kind, Kind::Assessment);
        prop_assert_eq!(&u.scores, &want);
        prop_assert!(u.invalid.is_empty(), "{:?}", u.invalid);
        prop_assert_eq!(u.missing.len(), keys.len() - want.len());
    }

    #[test]
    fn no_bytes_make_understand_panic(raw in prop::collection::vec(any::<u8>(), 0..2048)) {
        let config = config();
        let forms = one_form();
        let ctx = Context { config: &config, forms: &forms, now: chrono::Utc::now() };
        let _ = understand(&raw, &ctx).unwrap();
        let mut wrapped = message("");
        wrapped.extend_from_slice(&raw);
        let _ = understand(&wrapped, &ctx).unwrap();
    }
}
