//! The house rules of the code's structure, checked rather than only
//! written (ARCHITECTURE.md states them):
//!
//! * no import cycle among the top-level modules of `src/`, and imports run
//!   only downward through the layers;
//! * no import cycle among the files of one module folder;
//! * the pure core imports no I/O: no tokio, rusqlite, lettre, `std::fs`,
//!   `std::env`, OS randomness or clock;
//! * the README lists every PM command of the command table.
//!
//! Imports are read from the source text: `use crate::…`, `crate::…` paths
//! and `super::…` inside folders. `mod x;` lines are structure, not imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, as paths relative to `src/`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p.strip_prefix(src()).unwrap().to_path_buf());
        }
    }
}

/// The source without `#[cfg(test)]` modules and comments: tests may use
/// anything, and prose may name anything.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            !t.starts_with("//")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module path of a file: `engine/pm_commands/mod.rs` → `engine::pm_commands`.
fn module_of(file: &Path) -> Vec<String> {
    let mut parts: Vec<String> = file
        .iter()
        .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts
        .last()
        .is_some_and(|l| l == "mod" || l == "lib" || l == "main")
    {
        parts.pop();
    }
    parts
}

/// The paths named after `crate::` in a file, as module paths.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let tail = &rest[i + 7..];
        if let Some(brace) = tail.strip_prefix('{') {
            // `use crate::{a, b::c}`
            let end = brace.find('}').unwrap_or(brace.len());
            for item in brace[..end].split(',') {
                let path: Vec<String> = item
                    .trim()
                    .split("::")
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                if !path.is_empty() {
                    out.push(path);
                }
            }
        } else {
            let end = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            let path: Vec<String> = tail[..end]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            out.push(path);
        }
        rest = &rest[i + 7..];
    }
    out
}

/// Top-level modules: `src/x.rs` and `src/x/`.
fn top_modules() -> BTreeSet<String> {
    std::fs::read_dir(src())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().to_string();
            if p.is_dir() {
                Some(name)
            } else {
                name.strip_suffix(".rs").map(str::to_string)
            }
        })
        .filter(|m| m != "lib" && m != "main")
        .collect()
}

/// The graph of top-level modules: who imports whom.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let tops = top_modules();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let from = module_of(&f);
        let Some(from_top) = from.first().cloned() else {
            continue;
        };
        let code = code_of(&std::fs::read_to_string(src().join(&f)).unwrap());
        for path in crate_paths(&code) {
            if let Some(to) = path.first()
                && tops.contains(to)
                && *to != from_top
            {
                graph
                    .entry(from_top.clone())
                    .or_default()
                    .insert(to.clone());
            }
        }
        graph.entry(from_top).or_default();
    }
    graph
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        if let Some(c) = visit(n, graph, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

/// The layers, top to bottom. A module imports only from layers below its
/// own; only the pure core (the last layer) has peers that use each other.
const LAYERS: &[&[&str]] = &[
    &["cli"],
    &["demo"],
    &["daemon"],
    &["engine", "replies"],
    &["render", "outbound", "inbound"],
    &["store", "clock", "watchdog"],
    &[
        "understand",
        "schedule",
        "analysis",
        "config",
        "framework",
        "config_file",
        "week",
        "reply_key",
    ],
];

fn layer_of(m: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&m))
        .unwrap_or_else(|| {
            panic!("module `{m}` is in no layer: add it to LAYERS and ARCHITECTURE.md")
        })
}

#[test]
fn top_level_modules_import_each_other_without_cycles() {
    let graph = module_graph();
    assert!(graph.len() > 10, "the source tree was not read: {graph:?}");
    assert_eq!(find_cycle(&graph), None);
}

#[test]
fn imports_run_only_downward_through_the_layers() {
    let graph = module_graph();
    let mut upward = Vec::new();
    for (from, tos) in &graph {
        for to in tos {
            let (a, b) = (layer_of(from), layer_of(to));
            if b < a || (b == a && a != LAYERS.len() - 1) {
                upward.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that run up or sideways: {upward:?}"
    );
}

#[test]
fn files_of_one_folder_import_each_other_without_cycles() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let names: BTreeSet<String> = files.iter().map(|f| module_of(f).join("::")).collect();
    for f in &files {
        let from = module_of(f);
        // A folder's mod.rs is its front door: its children may use it and
        // it may name them; that pair is structure, not a cycle.
        let code = code_of(&std::fs::read_to_string(src().join(f)).unwrap());
        let is_dir_mod = f.ends_with("mod.rs");
        let parent: Vec<String> = if is_dir_mod {
            from.clone()
        } else {
            from[..from.len().saturating_sub(1)].to_vec()
        };
        let mut targets: Vec<Vec<String>> = crate_paths(&code);
        for line in code.lines() {
            let t = line.trim_start();
            if let Some(rest) = t.strip_prefix("use super::") {
                // `super` of a file is its folder's module; of a mod.rs,
                // the folder's parent.
                let mut p = parent.clone();
                if is_dir_mod {
                    p.pop();
                }
                p.extend(
                    rest.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                        .next()
                        .unwrap_or("")
                        .split("::")
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                );
                targets.push(p);
            }
        }
        for t in targets {
            // The longest prefix of the path that is a file of ours.
            let mut to = t.clone();
            while !to.is_empty() && !names.contains(&to.join("::")) {
                to.pop();
            }
            let (from_s, to_s) = (from.join("::"), to.join("::"));
            if to.is_empty() || from_s == to_s {
                continue;
            }
            // Parent front door and its own children: structure.
            if to.len() < from.len() && from.starts_with(&to) {
                continue;
            }
            if from.len() < to.len() && to.starts_with(&from) {
                continue;
            }
            graph.entry(from_s).or_default().insert(to_s);
        }
    }
    assert!(graph.len() > 20, "the files were not read: {graph:?}");
    assert_eq!(find_cycle(&graph), None);
}

#[test]
fn the_pure_core_imports_no_io() {
    const CORE: &[&str] = &[
        "understand",
        "schedule.rs",
        "analysis.rs",
        "week.rs",
        "framework.rs",
        "reply_key.rs",
        "config_file.rs",
    ];
    const FORBIDDEN: &[&str] = &[
        "tokio",
        "rusqlite",
        "lettre",
        "std::fs",
        "std::env",
        "std::net",
        "getrandom",
        "Utc::now",
        "Local::now",
        "SystemTime",
        "Instant::now",
        "async_imap",
        "tracing::",
    ];
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut found = Vec::new();
    let mut read = 0;
    for f in files {
        let name = f.to_string_lossy().to_string();
        if !CORE
            .iter()
            .any(|c| name == *c || name.starts_with(&format!("{c}/")))
        {
            continue;
        }
        read += 1;
        let code = code_of(&std::fs::read_to_string(src().join(&f)).unwrap());
        for word in FORBIDDEN {
            // `config_file.rs` reads the config file: its one allowed access.
            if name == "config_file.rs" && *word == "std::fs" {
                continue;
            }
            if code.contains(word) {
                found.push(format!("{name}: {word}"));
            }
        }
    }
    assert!(read >= 10, "the core files were not read ({read})");
    assert!(found.is_empty(), "I/O in the pure core: {found:?}");
}

#[test]
fn the_readme_lists_every_pm_command_of_the_table() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("## PM commands")
        .nth(1)
        .expect("README has a PM commands section");
    let section = section.split("\n## ").next().unwrap();
    for c in coachmail::understand::command::COMMANDS {
        let word = c.words[0];
        assert!(
            section.contains(&format!("| `{word}")),
            "README's PM commands table lacks `{word}`"
        );
    }
}
