//! Properties of the answer grammar and of `understand` as a whole:
//! any rendered score line for any skill, alias or prefix reads back to its
//! score, in every accepted form (score first, `was a`, `I'd give`, `for`,
//! words, stars, keycaps, table rows, several per line, a default with
//! exceptions); a range or "N or M" never stores a score; noise never
//! yields a score; the order of answers is irrelevant; a filled-in quoted
//! form reads back to its scores; no input panics.

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

/// Ways of writing score `{s}` for label `{l}` on one line, besides
/// `label<separator>score`.
const FORMS: &[&str] = &[
    "{s} - {l}",
    "{s}: {l}",
    "{s} = {l}",
    "{s} for {l}",
    "{l} was a {s}",
    "{l} is {s}",
    "{l} is a {s} this week",
    "I'd give {l} a {s}",
    "I'd give {l} a {s} this week",
    "{l}: {w}",
    "{l} {w}",
    "{l}: {stars}",
    "{l} {stars}",
    "{l} {s}\u{fe0f}\u{20e3}",
    "{l} │ {s}",
    "{l} │{s}",
    "| {l} | {s} |",
    "|{l}|{s}|",
    "{l}\t{s}",
    "{l} | {s}",
];
const WORDS: &[&str] = &["one", "two", "three", "four", "five"];

fn fill(form: &str, label: &str, score: u8) -> String {
    let stars: String = "★".repeat(score as usize) + &"☆".repeat(5 - score as usize);
    form.replace("{l}", label)
        .replace("{s}", &score.to_string())
        .replace("{w}", WORDS[score as usize - 1])
        .replace("{stars}", &stars)
}

/// Ways of writing something that is not one score: never stored.
const UNCLEAR: &[&str] = &[
    "{l}: {a}-{b}",
    "{l}: {a} – {b}",
    "{l} {a}-{b}",
    "{l}: {a} or {b}",
    "{l} {a} or {b}",
    "{l}: {a} to {b}",
    "{l}: {a} ou {b}",
    "{l}: {a} oder {b}",
    "{l}: {a}, {b}",
    "{l}: {a} {b}",
    "{l} was a {a} or {b}",
    "{a} or {b} for {l}",
    "{a}-{b} - {l}",
    "{l}: {a}?",
    "{l}: ?",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_score_in_any_accepted_form_reads_back(
        skill in 0..8usize,
        label_pick in 0..64usize,
        how in 0..3u8,
        form in 0..FORMS.len(),
        score in 1..=5u8,
    ) {
        let config = config();
        prop_assume!(skill < skill_count());
        let all = labels(&config, skill);
        let label = case(&all[label_pick % all.len()], how);
        let line = fill(FORMS[form], &label, score);
        let key = config.framework.active().nth(skill).unwrap().key.clone();
        let forms = one_form();
        let ctx = Context { config: &config, forms: &forms, now: chrono::Utc::now() };
        let u = understand(&message(&line), &ctx).unwrap();
        let want: BTreeMap<String, u8> = [(key, score)].into_iter().collect();
        prop_assert_eq!(&u.scores, &want, "{:?}", line);
        prop_assert!(u.invalid.is_empty(), "{:?}: {:?}", line, u.invalid);
    }

    #[test]
    fn several_answers_on_one_line_all_read_back(
        scores in prop::collection::btree_map(0..8usize, 1..=5u8, 2..5),
        sep in prop::sample::select(vec![", ", "; ", ",", " ; "]),
        form in prop::sample::select(vec!["{l} {s}", "{l}: {s}", "{l} - {s}", "{l} was a {s}", "{s} for {l}"]),
    ) {
        let config = config();
        let names: Vec<String> = config.framework.active().map(|s| s.name.clone()).collect();
        let keys: Vec<String> = config.framework.active().map(|s| s.key.clone()).collect();
        let line = scores
            .iter()
            .map(|(i, n)| fill(form, &names[*i], *n))
            .collect::<Vec<_>>()
            .join(sep);
        let forms = one_form();
        let ctx = Context { config: &config, forms: &forms, now: chrono::Utc::now() };
        let u = understand(&message(&line), &ctx).unwrap();
        let want: BTreeMap<String, u8> =
            scores.iter().map(|(i, n)| (keys[*i].clone(), *n)).collect();
        prop_assert_eq!(&u.scores, &want, "{:?}", line);
        prop_assert!(u.invalid.is_empty(), "{:?}: {:?}", line, u.invalid);
    }

    #[test]
    fn a_default_with_exceptions_answers_every_other_skill(
        default in 1..=5u8,
        exceptions in prop::collection::btree_map(0..8usize, 1..=5u8, 0..3),
        opener in prop::sample::select(vec!["{d} across the board", "{d} for everything", "everything else {d}", "{d} for the rest"]),
    ) {
        let config = config();
        let keys: Vec<String> = config.framework.active().map(|s| s.key.clone()).collect();
        let mut line = opener.replace("{d}", &default.to_string());
        if !exceptions.is_empty() {
            line.push_str(", except ");
            line.push_str(
                &exceptions
                    .iter()
                    .map(|(i, n)| format!("{} {n}", keys[*i]))
                    .collect::<Vec<_>>()
                    .join(" and "),
            );
        }
        let forms = one_form();
        let ctx = Context { config: &config, forms: &forms, now: chrono::Utc::now() };
        let u = understand(&message(&line), &ctx).unwrap();
        let want: BTreeMap<String, u8> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), *exceptions.get(&i).unwrap_or(&default)))
            .collect();
        prop_assert_eq!(&u.scores, &want, "{:?}", line);
        prop_assert!(u.invalid.is_empty(), "{:?}: {:?}", line, u.invalid);
    }

    #[test]
    fn a_range_or_n_or_m_never_stores_a_score(
        skill in 0..8usize,
        label_pick in 0..64usize,
        form in 0..UNCLEAR.len(),
        a in 1..=5u8,
        step in 1..=4u8,
    ) {
        // Any other score than `a`.
        let b = (a - 1 + step) % 5 + 1;
        let config = config();
        prop_assume!(skill < skill_count());
        let all = labels(&config, skill);
        let label = &all[label_pick % all.len()];
        let line = UNCLEAR[form]
            .replace("{l}", label)
            .replace("{a}", &a.to_string())
            .replace("{b}", &b.to_string());
        let forms = one_form();
        let ctx = Context { config: &config, forms: &forms, now: chrono::Utc::now() };
        let u = understand(&message(&line), &ctx).unwrap();
        prop_assert!(u.scores.is_empty(), "{:?} stored {:?}", line, u.scores);
        prop_assert_eq!(u.invalid.len(), 1, "{:?}: {:?}", line, u.invalid);
        prop_assert!(u.invalid[0].reason.contains("pick one whole score"), "{:?}", u.invalid);
    }

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
