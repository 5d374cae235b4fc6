//! A configuration file's text: the error every config and framework fault becomes,
//! and the source text that turns a TOML span into a line number.
//!
//! Owns the shape of a configuration error (file, line, key, problem, fix).
//! Shared by `config` and `framework`; imports neither, so the two never
//! import each other.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Why a config or framework file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}. Check the path, or pass --config / set COACHMAIL_CONFIG", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Syntax {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    #[error("{}{}: `{key}`: {problem}. Fix: {fix}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        key: String,
        problem: String,
        fix: String,
    },
}

/// Reads a config or framework file (the only file access of `config`).
pub fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// A config file's text, kept to turn spans into line numbers.
pub struct Source<'a> {
    pub path: &'a Path,
    text: &'a str,
}

impl<'a> Source<'a> {
    pub fn new(path: &'a Path, text: &'a str) -> Self {
        Source { path, text }
    }

    fn line_of(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text[..end].bytes().filter(|&b| b == b'\n').count() + 1
    }

    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        toml::from_str(self.text).map_err(|e| {
            let message = e.message().trim().to_string();
            let line = e.span().map(|s| self.line_of(s));
            if message.starts_with("unknown field") {
                return ConfigError::Syntax {
                    path: self.path.to_path_buf(),
                    line,
                    message: format!("{message}; remove it or fix its spelling (every key is documented in the shipped config/coachmail.toml)"),
                };
            }
            // A value of the wrong type, or a missing key: name the key and
            // what to write.
            if let Some(n) = line
                && (message.starts_with("invalid") || message.starts_with("missing field"))
                && let Some(key) = self.key_at(n, &message)
            {
                let fix = if message.contains("expected u") || message.contains("expected i") {
                    "write a whole number without quotes".to_string()
                } else if message.contains("expected f") {
                    "write a number without quotes, e.g. 1.0".to_string()
                } else if message.contains("expected a boolean") {
                    "write true or false".to_string()
                } else if message.contains("expected a string") {
                    "write a quoted string".to_string()
                } else if message.starts_with("missing field") {
                    "add it (every key is documented in the shipped config/coachmail.toml)"
                        .to_string()
                } else {
                    "write it as the shipped config/coachmail.toml shows".to_string()
                };
                return ConfigError::Invalid {
                    path: self.path.to_path_buf(),
                    line,
                    key,
                    problem: message,
                    fix,
                };
            }
            ConfigError::Syntax {
                path: self.path.to_path_buf(),
                line,
                message: format!("{message}. Fix: correct the TOML on that line"),
            }
        })
    }

    /// The dotted key (`service.retention_days`) a deserialization error at
    /// line `n` is about: the key written on that line, or the missing one
    /// the message names, inside the nearest table header above.
    fn key_at(&self, n: usize, message: &str) -> Option<String> {
        let lines: Vec<&str> = self.text.lines().collect();
        let table = lines[..n.min(lines.len())].iter().rev().find_map(|l| {
            let t = l.trim();
            t.starts_with('[').then(|| {
                t.trim_start_matches('[')
                    .split(']')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
        });
        let key = match message.strip_prefix("missing field `") {
            Some(rest) => rest.split('`').next()?.to_string(),
            None => {
                let line = lines.get(n.checked_sub(1)?)?;
                let (k, _) = line.split_once('=')?;
                k.trim().to_string()
            }
        };
        if key.is_empty() || key.contains(' ') {
            return None;
        }
        Some(match table {
            Some(t) if !t.is_empty() => format!("{t}.{key}"),
            _ => key,
        })
    }

    pub fn invalid<T>(
        &self,
        at: &toml::Spanned<T>,
        key: &str,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: Some(self.line_of(at.span())),
            key: key.to_string(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    pub fn invalid_nowhere(
        &self,
        key: &str,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: None,
            key: key.to_string(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

/// Names go into mail headers: refuse anything that could inject one.
pub fn check_display_text(
    src: &Source<'_>,
    value: &toml::Spanned<String>,
    key: &str,
) -> Result<(), ConfigError> {
    let v = value.get_ref();
    if v.trim().is_empty() {
        return Err(src.invalid(value, key, "is empty", "give it a value"));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(src.invalid(
            value,
            key,
            "contains a line break or control character, which could forge mail headers",
            "write it on one line with printable characters only",
        ));
    }
    Ok(())
}
