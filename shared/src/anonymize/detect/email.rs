//! E-mail addresses: the practical subset of RFC 5321/6531 that people type - a dot-atom local part, `@`, and a
//! domain of at least two labels whose last label is a real-looking TLD (letters, or `xn--` punycode). Unicode
//! letters are allowed on both sides (`jürgen@müller.de`). Trailing sentence punctuation is never part of the hit
//! because a TLD cannot end in it.

use super::{char_after, char_before, Detection, EntityKind};
use regex::Regex;

/// Local part `atom(.atom)*`, `@`, `label.` at least once, then the TLD. Repetition is unbounded in the pattern
/// and the RFC length limits are checked afterwards, which keeps the compiled automaton small.
const PATTERN: &str = r"(?x)
    [\p{L}\p{N}!\#$%&'*+/=?^_`{|}~-]+ (?: \. [\p{L}\p{N}!\#$%&'*+/=?^_`{|}~-]+ )*
    @
    (?: [\p{L}\p{N}] (?: [\p{L}\p{N}-]* [\p{L}\p{N}] )? \. )+
    (?: (?i:xn--[a-z0-9-]+) | \p{L}{2,} )
";

/// Finds e-mail addresses.
#[derive(Debug)]
pub(super) struct EmailDetector {
    re: Regex,
}

impl EmailDetector {
    pub(super) fn new() -> Self {
        Self { re: Regex::new(PATTERN).expect("email pattern compiles") }
    }

    pub(super) fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for m in self.re.find_iter(text) {
            let s = m.as_str();
            let Some((local, domain)) = s.rsplit_once('@') else {
                continue;
            };
            // Glued to more address characters: part of something longer we did not understand (`a@b.com-x`).
            let glued_after =
                char_after(text, m.end()).is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '@');
            let glued_before = char_before(text, m.start()).is_some_and(|c| c == '@');
            if glued_after || glued_before || !lengths_ok(local, domain) {
                continue;
            }
            out.push(Detection {
                kind: EntityKind::Email,
                start: m.start(),
                end: m.end(),
                confidence: 0.95,
                normalized: s.to_lowercase(),
            });
        }
    }
}

/// RFC 5321 limits: local part up to 64 octets, domain up to 253, each label up to 63.
fn lengths_ok(local: &str, domain: &str) -> bool {
    local.len() <= 64 && domain.len() <= 253 && domain.split('.').all(|l| l.len() <= 63)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        EmailDetector::new().find(text, &mut out);
        out.into_iter().map(|d| text[d.start..d.end].to_string()).collect()
    }

    #[test]
    fn finds_addresses_in_sentences() {
        assert_eq!(found("my email address is info@presidio.site"), ["info@presidio.site"]);
        assert_eq!(
            found("Write to Jane.Doe+leads@Mail.Example.co.uk, or (bob_99@ex-ample.com)."),
            ["Jane.Doe+leads@Mail.Example.co.uk", "bob_99@ex-ample.com"]
        );
        assert_eq!(found("<mailto:a@b.io>"), ["a@b.io"]);
        assert_eq!(found("a@xn--d1acufc.xn--p1ai"), ["a@xn--d1acufc.xn--p1ai"]);
        assert_eq!(found("jürgen@müller.de!"), ["jürgen@müller.de"]);
    }

    #[test]
    fn normalised_form_is_lowercase() {
        let mut out = Vec::new();
        EmailDetector::new().find("Jane.DOE@Example.COM", &mut out);
        assert_eq!(out[0].normalized, "jane.doe@example.com");
    }

    #[test]
    fn rejects_non_addresses() {
        for text in [
            "my email is info@presidio.",
            "this is not an email: hello-world here",
            "user@localhost",
            "price @ 5.00",
            "@handle.com",
            "a@b.c",
            "x@1.2.3.4",
            "a@b.com2",
        ] {
            assert!(found(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn overlong_local_part_is_rejected() {
        let text = format!("{}@example.com", "a".repeat(65));
        assert!(found(&text).is_empty());
    }
}
