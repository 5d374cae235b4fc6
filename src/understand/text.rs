//! The text shared by the quote stripper and the grammar: a line the PM
//! wrote ([`OwnLine`]), the folding in which words are compared, and how own
//! lines are joined back into text.
//!
//! Owns only these small shared shapes, so `quotes` and `grammar` both
//! depend on it and never on each other's internals. Never decides what a
//! line means.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

pub use crate::framework::fold;

/// Whether [`fold`]`(s)` is `folded`, without building the folded string:
/// the comparison stops at the first character that differs, so testing a
/// line against many words costs little. Folds character by character
/// exactly as [`fold`] does (checked against it in the tests below).
pub fn fold_eq(s: &str, folded: &str) -> bool {
    if s.is_ascii() {
        return s.len() == folded.len()
            && s.bytes()
                .zip(folded.bytes())
                .all(|(a, b)| a.to_ascii_lowercase() == b);
    }
    let mut want = folded.chars();
    let mut next_is = |c: char| want.next() == Some(c);
    for c in s.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        let same = match c {
            'ß' => next_is('s') && next_is('s'),
            'æ' | 'Æ' => next_is('a') && next_is('e'),
            'œ' | 'Œ' => next_is('o') && next_is('e'),
            'ø' | 'Ø' => next_is('o'),
            'ł' | 'Ł' => next_is('l'),
            'đ' | 'Đ' => next_is('d'),
            '’' | 'ʼ' => next_is('\''),
            c => c.to_lowercase().all(&mut next_is),
        };
        if !same {
            return false;
        }
    }
    want.next().is_none()
}

/// One line the PM wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnLine {
    pub text: String,
    /// The quoted skill prompt (`Product strategy (strategy):`) this line
    /// sits right under, if any: a bare score here answers it.
    pub prompt: Option<String>,
    /// A quoted form line the PM typed a value into: it counts as an answer
    /// and is never part of the note.
    pub from_quote: bool,
}

impl OwnLine {
    /// A line as the PM wrote it; only trailing spaces are dropped.
    pub fn own(text: &str) -> OwnLine {
        OwnLine {
            text: text.trim_end().to_string(),
            prompt: None,
            from_quote: false,
        }
    }

    /// The line as the PM wrote it, indentation kept (a bare score under a
    /// quoted prompt is shown after the prompt).
    pub fn display(&self) -> String {
        match &self.prompt {
            Some(p) => format!("{} {}", p.trim_end(), self.text.trim()),
            None => self.text.trim_end().to_string(),
        }
    }
}

/// Joins lines as the PM wrote them: blank lines at both ends dropped,
/// blank lines inside kept, indentation kept, trailing spaces trimmed.
pub fn collapse(lines: &[&str]) -> String {
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let end = lines.iter().rposition(|l| !l.trim().is_empty());
    let (Some(start), Some(end)) = (start, end) else {
        return String::new();
    };
    let mut out = String::new();
    for (i, l) in lines[start..=end].iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(l.trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_eq_agrees_with_fold() {
        let samples = [
            "",
            "a",
            "Données",
            "DONNÉES",
            "Straße",
            "Ærø",
            "Œuvre",
            "Łódź",
            "Đorđe",
            "it’s",
            "ʼn",
            "Stratégie",
            "Ｆｕｌｌ",
            "ǅ",
            "İstanbul",
            "ΣΟΦΊΑ",
            "ﬁn",
            "e\u{301}",
            "\u{301}e",
            "四",
            "пять",
            "Ünïcödé ß",
            "K\u{212a}",
            "a\u{308}\u{323}b",
        ];
        for s in samples {
            let f = fold(s);
            assert!(fold_eq(s, &f), "{s:?} → {f:?}");
            for other in [String::new(), format!("{f}x"), f.chars().skip(1).collect()] {
                if other != f {
                    assert!(!fold_eq(s, &other), "{s:?} is not {other:?}");
                }
            }
        }
        // Every character of the first planes, alone and before a mark.
        for c in (0u32..0x3100).filter_map(char::from_u32) {
            for s in [c.to_string(), format!("{c}\u{301}a")] {
                assert!(fold_eq(&s, &fold(&s)), "{s:?}");
            }
        }
    }

    #[test]
    fn collapse_keeps_indentation_and_inner_blank_lines() {
        assert_eq!(
            collapse(&["", "Plan:", "  - hire", "", "", "  - ship  ", ""]),
            "Plan:\n  - hire\n\n\n  - ship"
        );
        assert_eq!(collapse(&["", "  "]), "");
    }
}
