//! The skills framework (`config/framework.toml`): which skills a PM scores,
//! their names, aliases and what 1, 3 and 5 look like.
//!
//! Owns loading and validating the framework. A retired skill stays here so
//! its history still has a name; it is simply no longer asked.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::config_file::{ConfigError, Source, check_display_text};

/// Lowercase, accents removed, a few ligatures spelled out: the form in
/// which a PM's words and skill names are compared.
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'ß' => out.push_str("ss"),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'ø' | 'Ø' => out.push('o'),
            'ł' | 'Ł' => out.push('l'),
            'đ' | 'Đ' => out.push('d'),
            '’' | 'ʼ' => out.push('\''),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// The one normal form of a skill name, key or alias, and of a label a PM
/// writes for one: folded (case, accents), words split on spaces, `/`, `,`,
/// `-` and `_`, `&` and `+` read as `and`, joined by single spaces.
/// `Données`, `donnees` and `DONNÉES` are the same name; so are
/// `tech-fluency` and `Tech fluency`.
pub fn normalize_skill_name(name: &str) -> String {
    let folded = fold(name.trim());
    let mut out = String::with_capacity(folded.len());
    for w in folded
        .split(|c: char| c.is_whitespace() || matches!(c, '/' | ',' | '-' | '_'))
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(if w == "&" || w == "+" { "and" } else { w });
    }
    out
}

/// A skill's answer line on the form, exactly as the text part shows it:
/// `{name} ({key}): ` (with the trailing space). The form's templates show
/// it and the reply reader finds it again with [`read_answer_line`].
pub fn answer_line(name: &str, key: &str) -> String {
    format!("{name} ({key}): ")
}

/// The inverse of [`answer_line`]: `Product strategy (strategy): 4` →
/// (`Product strategy (strategy):`, `4`). Tolerates a full-width colon and
/// missing trailing space; `None` when the line is not an answer line.
pub fn read_answer_line(line: &str) -> Option<(&str, &str)> {
    let t = line.trim();
    let close = t
        .match_indices(')')
        .map(|(i, _)| i)
        .find(|&i| t[i + 1..].starts_with([':', '：']))?;
    let open = t[..close].rfind('(')?;
    let key = &t[open + 1..close];
    if key.is_empty()
        || key.len() > 40
        || !key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        || t[..open].trim().is_empty()
        || t[..open].len() > 80
    {
        return None;
    }
    let colon_len = if t[close..].starts_with("):") {
        2
    } else {
        1 + '：'.len_utf8()
    };
    let split = close + colon_len;
    Some((&t[..split], t[split..].trim()))
}

/// One skill of the framework.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skill {
    /// Short stable identifier, e.g. `stakeholders`; what the store keeps.
    pub key: String,
    /// Display name, e.g. `Stakeholder management`.
    pub name: String,
    pub description: String,
    /// Other words a PM may use for this skill.
    pub aliases: Vec<String>,
    /// What a score looks like, by score (usually 1, 3 and 5).
    pub levels: BTreeMap<u8, String>,
    /// Kept in history, no longer asked.
    pub retired: bool,
}

/// The whole framework, in the order the form lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Framework {
    pub skills: Vec<Skill>,
}

impl Framework {
    /// Skills still asked on the form, in framework order.
    pub fn active(&self) -> impl Iterator<Item = &Skill> {
        self.skills.iter().filter(|s| !s.retired)
    }

    pub fn skill(&self, key: &str) -> Option<&Skill> {
        self.skills.iter().find(|s| s.key == key)
    }

    /// Parses and validates framework text; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Framework, ConfigError> {
        let src = Source::new(path, text);
        let raw: RawFramework = src.deserialize()?;
        let mut keys = HashSet::new();
        // Normal form of every name and alias → (skill key, the word as written).
        let mut words: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut skills = Vec::new();
        for s in raw.skill {
            let key = s.key.get_ref().trim().to_string();
            if key.is_empty()
                || !key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
            {
                return Err(src.invalid(
                    &s.key,
                    "skill.key",
                    format!("`{key}` is not a usable skill key"),
                    "use lowercase letters, digits, `-` or `_`, e.g. key = \"stakeholders\"",
                ));
            }
            if !keys.insert(key.clone()) {
                return Err(src.invalid(
                    &s.key,
                    "skill.key",
                    format!("skill key `{key}` appears twice"),
                    "give each [[skill]] its own key",
                ));
            }
            check_display_text(&src, &s.name, "skill.name")?;
            let name = s.name.get_ref().trim().to_string();
            for word in std::iter::once(&key)
                .chain(std::iter::once(&name))
                .chain(s.aliases.iter())
            {
                let normal = normalize_skill_name(word);
                if normal.is_empty() {
                    continue;
                }
                if let Some((other, other_word)) = words.get(&normal)
                    && other != &key
                {
                    let same = if other_word.trim() == word.trim() {
                        String::new()
                    } else {
                        format!(
                            " (`{word}` on `{key}` reads the same as `{other_word}` on `{other}`: case, accents and punctuation are ignored)"
                        )
                    };
                    return Err(src.invalid(
                        &s.key,
                        "skill.aliases",
                        format!("`{word}` names both `{other}` and `{key}`{same}"),
                        format!(
                            "each name and alias must point to one skill; remove `{word}` from `{key}` or `{other_word}` from `{other}`"
                        ),
                    ));
                }
                words.insert(normal, (key.clone(), word.trim().to_string()));
            }
            let mut levels = BTreeMap::new();
            for (score, text) in s.levels {
                match score.parse::<u8>() {
                    Ok(n @ 1..=5) => {
                        levels.insert(n, text);
                    }
                    _ => {
                        return Err(src.invalid(
                            &s.key,
                            "skill.levels",
                            format!("level `{score}` of skill `{key}` is not a score from 1 to 5"),
                            "write levels = { 1 = \"…\", 3 = \"…\", 5 = \"…\" }",
                        ));
                    }
                }
            }
            skills.push(Skill {
                key,
                name,
                description: s.description.trim().to_string(),
                aliases: s.aliases.iter().map(|a| a.trim().to_string()).collect(),
                levels,
                retired: s.retired,
            });
        }
        let framework = Framework { skills };
        if framework.active().next().is_none() {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: None,
                key: "skill".into(),
                problem: "the framework has no skill to ask (none, or all retired)".into(),
                fix: "add at least one [[skill]] with key, name and description".into(),
            });
        }
        Ok(framework)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFramework {
    #[serde(default)]
    skill: Vec<RawSkill>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSkill {
    key: toml::Spanned<String>,
    name: toml::Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    levels: BTreeMap<String, String>,
    #[serde(default)]
    retired: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Framework, ConfigError> {
        Framework::parse(text, Path::new("framework.toml"))
    }

    #[test]
    fn shipped_framework_has_the_eight_skills() {
        let f = Framework::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/framework.toml"
        )))
        .unwrap();
        let keys: Vec<_> = f.active().map(|s| s.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "strategy",
                "discovery",
                "delivery",
                "stakeholders",
                "communication",
                "data",
                "technical",
                "leadership"
            ]
        );
        assert!(f.skills.iter().all(|s| s.levels.len() == 3));
    }

    #[test]
    fn empty_framework_is_refused() {
        let err = parse("").unwrap_err().to_string();
        assert!(err.contains("no skill to ask"), "{err}");
    }

    #[test]
    fn all_retired_framework_is_refused() {
        let err = parse("[[skill]]\nkey = \"a\"\nname = \"A\"\nretired = true\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no skill to ask"), "{err}");
    }

    #[test]
    fn alias_shared_by_two_skills_is_refused_with_its_line() {
        let err = parse(
            "[[skill]]\nkey = \"delivery\"\nname = \"Delivery\"\naliases = [\"ship\"]\n\n[[skill]]\nkey = \"data\"\nname = \"Data\"\naliases = [\"ship\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("framework.toml:7"), "{err}");
        assert!(err.contains("`ship` names both"), "{err}");
    }

    #[test]
    fn aliases_that_read_the_same_on_two_skills_are_refused_naming_both() {
        let err = parse(
            "[[skill]]\nkey = \"data\"\nname = \"Data\"\naliases = [\"Données\"]\n\n[[skill]]\nkey = \"metrics\"\nname = \"Metrics\"\naliases = [\"donnees\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("framework.toml:7"), "{err}");
        assert!(
            err.contains("`donnees` names both `data` and `metrics`"),
            "{err}"
        );
        assert!(err.contains("`Données` on `data`"), "{err}");
        assert!(err.contains("remove `donnees` from `metrics`"), "{err}");
    }

    #[test]
    fn skill_names_normalise_case_accents_and_punctuation() {
        assert_eq!(normalize_skill_name("Données"), "donnees");
        assert_eq!(normalize_skill_name(" Tech-Fluency "), "tech fluency");
        assert_eq!(
            normalize_skill_name("Data & analytics"),
            "data and analytics"
        );
        assert_eq!(
            normalize_skill_name("Stratégie/strategy"),
            "strategie strategy"
        );
    }

    #[test]
    fn answer_line_reads_back() {
        let line = answer_line("Execution & delivery", "delivery");
        assert_eq!(line, "Execution & delivery (delivery): ");
        assert_eq!(
            read_answer_line(&format!("{line}4")),
            Some(("Execution & delivery (delivery):", "4"))
        );
        assert_eq!(read_answer_line("Delivery: 4"), None);
    }

    #[test]
    fn level_outside_one_to_five_is_refused() {
        let err = parse("[[skill]]\nkey = \"a\"\nname = \"A\"\nlevels = { 7 = \"x\" }\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a score from 1 to 5"), "{err}");
    }

    #[test]
    fn unknown_key_in_skill_is_refused_with_its_line() {
        let err = parse("[[skill]]\nkey = \"a\"\nname = \"A\"\nweight = 2\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("framework.toml:4"), "{err}");
        assert!(err.contains("weight"), "{err}");
    }
}
