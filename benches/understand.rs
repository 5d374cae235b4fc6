//! How fast replies are understood, over our own corpus.
//!
//! Criterion measures whole-corpus throughput (`understand` end to end) and
//! the quote-stripping + grammar steps alone. After it, a plain timing pass
//! prints messages per second and µs per message (median and p99) for every
//! message and for typical replies (plain-text and multipart replies from
//! people, without the junk, attack and HTML-only folders).
//!
//! The `html` group measures HTML → text alone (MiB/s of HTML) on
//! adversarial input of 256 KiB (the most that is converted): runs of
//! self-closing `<ul/>` and `<div/>`, deep nesting, a huge table, one long
//! line, and on the corpus' own HTML bodies; the timing pass prints MB/s and
//! the worst of 20 runs for each.
//!
//! Run: `cargo bench --bench understand` (`-- html/` for the HTML group
//! alone). With `-- --report-only` only the plain timing pass runs (e.g.
//! under `/usr/bin/time -v` to get CPU time on a busy machine).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use coachmail::config::Config;
use coachmail::understand::grammar::{self, Lexicon};
use coachmail::understand::{Context, mime, quotes, understand};
use criterion::{Criterion, Throughput};

#[path = "../tests/fixtures/replies/forms.rs"]
mod corpus;

use corpus::corpus_forms;

fn corpus() -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replies");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let p = f.path();
            if p.extension().is_some_and(|e| e == "eml") {
                let raw = std::fs::read(&p).unwrap_or_default();
                out.push((p, raw));
            }
        }
    }
    out.sort();
    out
}

fn typical(path: &Path) -> bool {
    let client = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    !matches!(
        client,
        "junk" | "attacks" | "html-only" | "bounces" | "lists" | "autoreplies"
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Times every message on its own and prints the figures for the README.
fn report(name: &str, msgs: &[&[u8]], ctx: &Context<'_>) {
    let mut per: Vec<Duration> = Vec::new();
    let rounds = 200;
    let start = Instant::now();
    for _ in 0..rounds {
        for m in msgs {
            let t = Instant::now();
            black_box(understand(black_box(m), ctx).unwrap());
            per.push(t.elapsed());
        }
    }
    let total = start.elapsed();
    per.sort();
    let n = per.len() as f64;
    println!(
        "{name}: {} messages x {rounds}: {:.0} messages/s on one core; per message median {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        msgs.len(),
        n / total.as_secs_f64(),
        percentile(&per, 0.5).as_secs_f64() * 1e6,
        percentile(&per, 0.99).as_secs_f64() * 1e6,
        per.last().copied().unwrap_or_default().as_secs_f64() * 1e6,
    );
}

/// Adversarial HTML, each of `mime::MAX_HTML_BYTES`: (name, html).
fn hostile_html() -> Vec<(&'static str, String)> {
    let size = mime::MAX_HTML_BYTES;
    let fill = |unit: &str| unit.repeat(size / unit.len());
    let mut nested = String::new();
    while nested.len() + 80 < size {
        nested.push_str("<div><blockquote><span>x");
    }
    let mut table = String::from("<table>");
    let mut i = 0u32;
    while table.len() + 80 < size {
        table.push_str(&format!(
            "<tr><td>Skill {i}</td><td>{}</td><td><p>note</p></td></tr>",
            i % 5 + 1
        ));
        i += 1;
    }
    vec![
        ("<ul/>x runs", fill("<ul/>x")),
        ("<div/>x runs", fill("<div/>x")),
        ("deep nesting", nested),
        ("huge table", table),
        ("one long line", format!("<p>{}</p>", fill("word "))),
        ("unclosed tags", fill("<p><li><td><b>x")),
        ("entities", fill("&amp;&#x1F600;&eacute;&bogus;")),
    ]
}

/// The HTML bodies of the corpus, as written by mail clients.
fn corpus_html(corpus: &[(PathBuf, Vec<u8>)]) -> Vec<String> {
    let mut out = Vec::new();
    for (_, raw) in corpus {
        if let Ok(m) = mime::parse(raw) {
            for p in &m.parts {
                if let mail_parser::PartType::Html(h) = &p.body {
                    out.push(h.to_string());
                }
            }
        }
    }
    out
}

/// MB/s and the worst of 20 runs of HTML → text, for the README.
fn html_report(cases: &[(&str, String)], typical: &[String]) {
    let typical_bytes: usize = typical.iter().map(String::len).sum();
    let mut all: Vec<(&str, Vec<&str>, usize)> = cases
        .iter()
        .map(|(n, h)| (*n, vec![h.as_str()], h.len()))
        .collect();
    all.push((
        "corpus HTML bodies",
        typical.iter().map(String::as_str).collect(),
        typical_bytes,
    ));
    for (name, htmls, bytes) in all {
        let mut worst = Duration::ZERO;
        let mut total = Duration::ZERO;
        let mut out = 0;
        for _ in 0..20 {
            let t = Instant::now();
            for h in &htmls {
                out = black_box(mime::html_to_text(black_box(h))).len();
            }
            let took = t.elapsed();
            worst = worst.max(took);
            total += took;
        }
        println!(
            "html {name}: {bytes} bytes in, {out} bytes out (last): {:.1} MB/s, worst of 20 {:.2} ms",
            bytes as f64 * 20.0 / total.as_secs_f64() / 1e6,
            worst.as_secs_f64() * 1e3,
        );
    }
}

fn main() {
    let mut config =
        match Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/coachmail.toml")) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                return;
            }
        };
    config.auth.trusted_authserv_ids = vec!["mx.example.org".into()];
    let forms = corpus_forms();
    let ctx = Context {
        config: &config,
        forms: &forms,
        now: chrono::DateTime::from_timestamp(1_795_860_000, 0).unwrap_or_default(),
    };
    let corpus = corpus();
    let all: Vec<&[u8]> = corpus.iter().map(|(_, r)| r.as_slice()).collect();
    let typical_msgs: Vec<&[u8]> = corpus
        .iter()
        .filter(|(p, _)| typical(p))
        .map(|(_, r)| r.as_slice())
        .collect();
    let lex = Lexicon::new(&config.framework);
    let texts: Vec<String> = typical_msgs
        .iter()
        .filter_map(|r| mime::parse(r).ok().map(|m| mime::body_text(&m)))
        .collect();

    if let Some(one) = std::env::args().skip_while(|a| a != "--one").nth(1) {
        let raw = std::fs::read(&one).unwrap_or_default();
        let t = Instant::now();
        for _ in 0..20_000 {
            black_box(understand(black_box(&raw), &ctx).unwrap());
        }
        println!(
            "{one}: {:.1} µs",
            t.elapsed().as_secs_f64() * 1e6 / 20_000.0
        );
        let per = |t: Instant| t.elapsed().as_secs_f64() * 1e6 / 20_000.0;
        let t = Instant::now();
        for _ in 0..20_000 {
            black_box(mime::parse(black_box(&raw)).map(|m| m.parts.len()).ok());
        }
        println!("  mail-parser alone: {:.1} µs", per(t));
        let t = Instant::now();
        for _ in 0..20_000 {
            black_box(coachmail::understand::content_hash(black_box(&raw)));
        }
        println!("  sha-256 alone: {:.1} µs", per(t));
        let t = Instant::now();
        for _ in 0..20_000 {
            black_box(Lexicon::new(black_box(&config.framework)));
        }
        println!("  lexicon alone: {:.1} µs", per(t));
        return;
    }
    if std::env::args().any(|a| a == "--slowest") {
        let mut each: Vec<(Duration, &Path)> = corpus
            .iter()
            .map(|(p, raw)| {
                let t = Instant::now();
                for _ in 0..50 {
                    black_box(understand(black_box(raw), &ctx).unwrap());
                }
                (t.elapsed() / 50, p.as_path())
            })
            .collect();
        each.sort();
        let total: Duration = each.iter().map(|(d, _)| *d).sum();
        println!(
            "sum of per-message means: {:.1} µs",
            total.as_secs_f64() * 1e6
        );
        for (d, p) in each.iter().rev().take(12) {
            println!("{:8.1} µs  {}", d.as_secs_f64() * 1e6, p.display());
        }
        for (d, p) in each.iter().take(5) {
            println!("{:8.1} µs  {}", d.as_secs_f64() * 1e6, p.display());
        }
        return;
    }
    // Replies whose only body is HTML go through the HTML reader: reported apart.
    let html_only = |raw: &[u8]| {
        mime::parse(raw).is_ok_and(|m| {
            m.text_body
                .first()
                .and_then(|id| m.parts.get(*id as usize))
                .is_some_and(|p| matches!(p.body, mail_parser::PartType::Html(_)))
        })
    };
    let plain_msgs: Vec<&[u8]> = typical_msgs
        .iter()
        .copied()
        .filter(|r| !html_only(r))
        .collect();
    let html_msgs: Vec<&[u8]> = all.iter().copied().filter(|r| html_only(r)).collect();
    let hostile = hostile_html();
    let bodies = corpus_html(&corpus);
    if std::env::args().any(|a| a == "--report-only") {
        report("all corpus", &all, &ctx);
        report("typical replies", &typical_msgs, &ctx);
        report("typical plain-text replies", &plain_msgs, &ctx);
        report("HTML-only replies", &html_msgs, &ctx);
        html_report(&hostile, &bodies);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("understand");
    g.throughput(Throughput::Elements(all.len() as u64));
    g.bench_function("whole corpus", |b| {
        b.iter(|| {
            for m in &all {
                black_box(understand(black_box(m), &ctx).unwrap());
            }
        })
    });
    g.throughput(Throughput::Elements(typical_msgs.len() as u64));
    g.bench_function("typical replies", |b| {
        b.iter(|| {
            for m in &typical_msgs {
                black_box(understand(black_box(m), &ctx).unwrap());
            }
        })
    });
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("quotes + grammar on decoded text", |b| {
        let names = vec!["Alice Martin".to_string(), "Alice".to_string()];
        b.iter(|| {
            for t in &texts {
                let own = quotes::strip(black_box(t), &names, &|l| lex.is_answer(l));
                black_box(grammar::read(&own, &lex));
            }
        })
    });
    g.finish();
    let mut g = c.benchmark_group("html");
    g.sample_size(10);
    for (name, html) in &hostile {
        g.throughput(Throughput::Bytes(html.len() as u64));
        g.bench_function(*name, |b| {
            b.iter(|| black_box(mime::html_to_text(black_box(html))))
        });
    }
    g.throughput(Throughput::Bytes(
        bodies.iter().map(|h| h.len() as u64).sum(),
    ));
    g.bench_function("corpus HTML bodies", |b| {
        b.iter(|| {
            for h in &bodies {
                black_box(mime::html_to_text(black_box(h)));
            }
        })
    });
    g.finish();
    c.final_summary();

    report("all corpus", &all, &ctx);
    report("typical replies", &typical_msgs, &ctx);
    report("typical plain-text replies", &plain_msgs, &ctx);
    report("HTML-only replies", &html_msgs, &ctx);
    html_report(&hostile, &bodies);
}
