//! The skills framework (`config/framework.toml`): which skills a PM scores,
//! their names, aliases and what 1, 3 and 5 look like.
//!
//! Owns loading and validating the framework. A retired skill stays here so
//! its history still has a name; it is simply no longer asked.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Deserialize;

use crate::config_file::{ConfigError, Source, check_display_text};

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
        let mut words: BTreeMap<String, String> = BTreeMap::new();
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
                let folded = word.trim().to_lowercase();
                if let Some(other) = words.get(&folded)
                    && other != &key
                {
                    return Err(src.invalid(
                        &s.key,
                        "skill.aliases",
                        format!("`{word}` names both `{other}` and `{key}`"),
                        "each name and alias must point to one skill; remove it from one of them",
                    ));
                }
                words.insert(folded, key.clone());
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
