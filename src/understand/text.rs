//! The text shared by the quote stripper and the grammar: a line the PM
//! wrote ([`OwnLine`]), the folding in which words are compared, and how own
//! lines are joined back into text.
//!
//! Owns only these small shared shapes, so `quotes` and `grammar` both
//! depend on it and never on each other's internals. Never decides what a
//! line means.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lowercase, accents removed, a few ligatures spelled out: the form in
/// which a PM's words and skill names are compared. The same result as
/// [`crate::framework::fold`] (checked in the tests below), computed faster:
/// ASCII letters are lowercased as they are, and only the runs of other
/// characters are decomposed (an ASCII character never combines with its
/// neighbours, so folding run by run gives the same text).
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    fold_runs(s, &mut |c| {
        out.push(c);
        true
    });
    out
}

/// Whether [`fold`]`(s)` is `folded`, without building the folded string:
/// the comparison stops at the first character that differs, so testing a
/// line against many words costs little.
pub fn fold_eq(s: &str, folded: &str) -> bool {
    if s.is_ascii() {
        return s.len() == folded.len()
            && s.bytes()
                .zip(folded.bytes())
                .all(|(a, b)| a.to_ascii_lowercase() == b);
    }
    let mut want = folded.chars();
    fold_runs(s, &mut |c| want.next() == Some(c)) && want.next().is_none()
}

/// Feeds the characters of `s`, folded, to `emit`, until it returns false
/// (then false).
fn fold_runs(s: &str, emit: &mut impl FnMut(char) -> bool) -> bool {
    let mut rest = s;
    while !rest.is_empty() {
        let ascii = rest.bytes().take_while(u8::is_ascii).count();
        for b in rest[..ascii].bytes() {
            if !emit(char::from(b.to_ascii_lowercase())) {
                return false;
            }
        }
        rest = &rest[ascii..];
        let other = rest.find(|c: char| c.is_ascii()).unwrap_or(rest.len());
        for c in rest[..other].nfd() {
            if is_combining_mark(c) {
                continue;
            }
            let kept = match c {
                'ß' => emit('s') && emit('s'),
                'æ' | 'Æ' => emit('a') && emit('e'),
                'œ' | 'Œ' => emit('o') && emit('e'),
                'ø' | 'Ø' => emit('o'),
                'ł' | 'Ł' => emit('l'),
                'đ' | 'Đ' => emit('d'),
                '’' | 'ʼ' => emit('\''),
                c => c.to_lowercase().all(&mut *emit),
            };
            if !kept {
                return false;
            }
        }
        rest = &rest[other..];
    }
    true
}

/// A quoted line of a form that asks about an action
/// (`<action>: done / partly / not yet`), as the quote stripper is told:
/// still the question, or answered in the quote itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// Left as the form asked it: kept only when the PM wrote right under it.
    Question,
    /// Edited into an answer (`<action>: done, sent Tuesday`): kept.
    Answered,
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
    fn fold_and_fold_eq_agree_with_the_framework_fold() {
        let reference = crate::framework::fold;
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
            let f = reference(s);
            assert_eq!(fold(s), f, "{s:?}");
            assert!(fold_eq(s, &f), "{s:?} → {f:?}");
            for other in [String::new(), format!("{f}x"), f.chars().skip(1).collect()] {
                if other != f {
                    assert!(!fold_eq(s, &other), "{s:?} is not {other:?}");
                }
            }
        }
        // Every character of the first planes, alone and before a mark.
        for c in (0u32..0x3100).filter_map(char::from_u32) {
            for s in [
                c.to_string(),
                format!("{c}\u{301}a"),
                format!("a{c}\u{323}\u{301}b{c}"),
            ] {
                let f = reference(&s);
                assert_eq!(fold(&s), f, "{s:?}");
                assert!(fold_eq(&s, &f), "{s:?}");
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
