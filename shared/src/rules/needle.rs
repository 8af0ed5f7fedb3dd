//! A `body_contains` string: found in the body ignoring case, its text taken literally. A case-insensitive regex
//! of a literal costs ~250 us to compile (every letter becomes a class, and the search strategy is planned for
//! them); an ASCII string is searched with a case-insensitive Aho-Corasick automaton instead, built in ~35 us.
//! Both are built when a mail first reaches the rule, like the rules' patterns (`pattern.rs`).

use super::{PatternChecks, RulePattern};
use aho_corasick::AhoCorasick;
use std::sync::OnceLock;

/// Up to this length an ASCII string's automaton cannot fail to build (its states are far below the crate's
/// limits), so it is built on first use; a longer one is built, and its error reported, when the rules load.
const LAZY_ASCII_MAX: usize = 1024;

/// A `body_contains` string, checked at load and compiled on first use.
#[derive(Debug, Clone)]
pub struct Needle(Form);

#[derive(Debug, Clone)]
enum Form {
    /// An ASCII string, its letters matched in either case; the automaton once a mail needed it.
    Ascii { text: Box<str>, automaton: OnceLock<AhoCorasick> },
    /// A string with other characters, matched ignoring Unicode case (`É` and `é`): the escaped string as a
    /// case-insensitive rule pattern.
    Unicode(RulePattern),
}

impl Needle {
    /// Checks `needle`; `size_limit` bounds the regex of a non-ASCII string, checked with `checks`.
    pub fn new(needle: &str, size_limit: usize, checks: &mut PatternChecks) -> Result<Self, String> {
        if needle.is_ascii() {
            let automaton = OnceLock::new();
            if needle.len() > LAZY_ASCII_MAX {
                let built = AhoCorasick::builder().ascii_case_insensitive(true).build([needle]);
                let _ = automaton.set(built.map_err(|e| e.to_string())?);
            }
            return Ok(Needle(Form::Ascii { text: needle.into(), automaton }));
        }
        let pattern = format!("(?i){}", regex::escape(needle));
        let checked = RulePattern::checked_with(&pattern, size_limit, checks);
        checked.map(|p| Needle(Form::Unicode(p))).map_err(|e| e.to_string())
    }

    /// Whether `text` contains the string.
    pub fn is_match(&self, text: &str) -> bool {
        match &self.0 {
            Form::Ascii { text: needle, automaton } => automaton
                .get_or_init(|| {
                    AhoCorasick::builder()
                        .ascii_case_insensitive(true)
                        .build([needle.as_ref()])
                        .expect("an ASCII string of at most LAZY_ASCII_MAX bytes always builds")
                })
                .is_match(text),
            Form::Unicode(pattern) => pattern.is_match(text),
        }
    }

    /// Whether the string has been compiled (by a mail that needed it).
    pub fn is_compiled(&self) -> bool {
        match &self.0 {
            Form::Ascii { automaton, .. } => automaton.get().is_some(),
            Form::Unicode(pattern) => pattern.is_compiled(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(needle: &str, text: &str) -> bool {
        Needle::new(needle, 1 << 20, &mut PatternChecks::default()).expect("compiles").is_match(text)
    }

    #[test]
    fn ascii_strings_ignore_case_and_are_literal() {
        assert!(matches!(
            Needle::new("Lead reference:", 1 << 20, &mut PatternChecks::default()),
            Ok(Needle(Form::Ascii { .. }))
        ));
        assert!(found("Lead reference:", "x\nLEAD REFERENCE: 42"));
        assert!(found("Form ID: kq-", "form id: KQ-7"));
        assert!(!found("a.c", "abc"));
        assert!(found("a.c", "A.C"));
        assert!(!found("Lead reference:", "Lead  reference:"));
    }

    #[test]
    fn other_strings_ignore_unicode_case() {
        assert!(matches!(
            Needle::new("Coordonnées", 1 << 20, &mut PatternChecks::default()),
            Ok(Needle(Form::Unicode(_)))
        ));
        assert!(found("Coordonnées de l", "COORDONNÉES DE LA"));
        assert!(!found("Coordonnées", "Coordonnees"));
        assert!(found("(réf. 1.5)", "(RÉF. 1.5)") && !found("(réf. 1.5)", "(réf. 105)"));
        assert!(found("Coordonnées 12", "COORDONNÉES 12") && !found("Coordonnées 12", "Coordonnées ١٢"));
    }

    #[test]
    fn compiled_on_first_use_and_long_strings_at_load() {
        let mut checks = PatternChecks::default();
        for text in ["Lead reference:", "Coordonnées de l"] {
            let needle = Needle::new(text, 1 << 20, &mut checks).expect("compiles");
            assert!(!needle.is_compiled(), "{text}");
            assert!(needle.is_match(&text.to_uppercase()), "{text}");
            assert!(needle.is_compiled(), "{text}");
        }
        let long = "ab ".repeat(LAZY_ASCII_MAX);
        let needle = Needle::new(&long, 1 << 20, &mut checks).expect("compiles");
        assert!(needle.is_compiled());
        assert!(needle.is_match(&format!("x{}y", long.to_uppercase())) && !needle.is_match(&long[1..]));
    }

    #[test]
    fn a_string_too_large_for_the_size_limit_is_an_error_at_load() {
        let error = Needle::new(&"é".repeat(2000), 1000, &mut PatternChecks::default()).expect_err("over the limit");
        assert!(error.contains("size limit"), "{error}");
    }
}
