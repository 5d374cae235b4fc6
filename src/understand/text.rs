//! The text shared by the quote stripper and the grammar: a line the PM
//! wrote ([`OwnLine`]), the folding in which words are compared, and how own
//! lines are joined back into text.
//!
//! Owns only these small shared shapes, so `quotes` and `grammar` both
//! depend on it and never on each other's internals. Never decides what a
//! line means.

pub use crate::framework::fold;

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
    fn collapse_keeps_indentation_and_inner_blank_lines() {
        assert_eq!(
            collapse(&["", "Plan:", "  - hire", "", "", "  - ship  ", ""]),
            "Plan:\n  - hire\n\n\n  - ship"
        );
        assert_eq!(collapse(&["", "  "]), "");
    }
}
