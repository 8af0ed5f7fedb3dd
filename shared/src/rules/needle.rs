//! A `body_contains` string: found in the body ignoring case, its text taken literally. A case-insensitive regex
//! of a literal costs ~250 us to compile (every letter becomes a class, and the search strategy is planned for
//! them); an ASCII string is searched with a case-insensitive Aho-Corasick automaton instead, built in ~35 us.

use aho_corasick::AhoCorasick;
use regex::{Regex, RegexBuilder};

/// A compiled `body_contains` string.
#[derive(Debug, Clone)]
pub enum Needle {
    /// An ASCII string, its letters matched in either case.
    Ascii(AhoCorasick),
    /// A string with other characters, matched ignoring Unicode case (`É` and `é`).
    Unicode(Regex),
}

impl Needle {
    /// Compiles `needle`; `size_limit` bounds the regex of a non-ASCII string.
    pub fn new(needle: &str, size_limit: usize) -> Result<Self, String> {
        if needle.is_ascii() {
            let automaton = AhoCorasick::builder().ascii_case_insensitive(true).build([needle]);
            return automaton.map(Needle::Ascii).map_err(|e| e.to_string());
        }
        let regex = RegexBuilder::new(&regex::escape(needle)).case_insensitive(true).size_limit(size_limit).build();
        regex.map(Needle::Unicode).map_err(|e| e.to_string())
    }

    /// Whether `text` contains the string.
    pub fn is_match(&self, text: &str) -> bool {
        match self {
            Self::Ascii(automaton) => automaton.is_match(text),
            Self::Unicode(regex) => regex.is_match(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(needle: &str, text: &str) -> bool {
        Needle::new(needle, 1 << 20).expect("compiles").is_match(text)
    }

    #[test]
    fn ascii_strings_ignore_case_and_are_literal() {
        assert!(matches!(Needle::new("Lead reference:", 1 << 20), Ok(Needle::Ascii(_))));
        assert!(found("Lead reference:", "x\nLEAD REFERENCE: 42"));
        assert!(found("Form ID: kq-", "form id: KQ-7"));
        assert!(!found("a.c", "abc"));
        assert!(found("a.c", "A.C"));
        assert!(!found("Lead reference:", "Lead  reference:"));
    }

    #[test]
    fn other_strings_ignore_unicode_case() {
        assert!(matches!(Needle::new("Coordonnées", 1 << 20), Ok(Needle::Unicode(_))));
        assert!(found("Coordonnées de l", "COORDONNÉES DE LA"));
        assert!(!found("Coordonnées", "Coordonnees"));
        assert!(found("(réf. 1.5)", "(RÉF. 1.5)") && !found("(réf. 1.5)", "(réf. 105)"));
    }
}
