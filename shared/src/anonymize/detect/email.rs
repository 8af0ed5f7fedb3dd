//! E-mail addresses: the practical subset of RFC 5321/6531 that people type - a dot-atom local part, `@`, and a
//! domain of at least two labels whose last label is a real-looking TLD (letters, or `xn--` punycode). Unicode
//! letters are allowed on both sides (`jürgen@müller.de`). Trailing sentence punctuation is never part of the hit
//! because a TLD cannot end in it. Addresses written out (`jane (at) example (dot) com`) are found by
//! `spelled_email.rs`.

use super::{char_after, char_before, Detection, EntityKind};

/// Finds e-mail addresses: a dot-atom local part `atom(.atom)*`, `@`, `label.` at least once, then the TLD. A
/// hand-written scan from each `@` rather than a regex: the Unicode letter classes made the regex the costliest
/// pattern to compile at init (~4 ms), and an `@` is rare in text. It finds what the regex
/// `[LN!#$%&'*+/=?^_`{|}~-]+(\.[...]+)*@([LN]([LN-]*[LN])?\.)+((?i:xn--[a-z0-9-]+)|L{2,})` found, leftmost
/// first and longest (a test holds it to that regex), except that `L` is Unicode `Alphabetic` (letters with the
/// combining vowel signs of Indic scripts), not only the letter category. The RFC length limits are checked
/// afterwards.
#[derive(Debug)]
pub(super) struct EmailDetector;

impl EmailDetector {
    pub(super) fn new() -> Self {
        Self
    }

    pub(super) fn find(&self, text: &str, out: &mut Vec<Detection>) {
        // Where the scan resumes after an address-shaped span, kept or not: spans never overlap.
        let mut resume = 0;
        for (at, _) in text.match_indices('@') {
            if at < resume {
                continue;
            }
            let (Some(start), Some(end)) = (local_start(text, resume, at), domain_end(text, at + 1)) else {
                continue;
            };
            resume = end;
            let (local, domain) = (&text[start..at], &text[at + 1..end]);
            // Glued to more address characters: part of something longer we did not understand (`a@b.com-x`).
            let glued_after =
                char_after(text, end).is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '@');
            let glued_before = char_before(text, start).is_some_and(|c| c == '@');
            if glued_after || glued_before || !lengths_ok(local, domain) {
                continue;
            }
            out.push(Detection {
                kind: EntityKind::Email,
                start,
                end,
                confidence: 0.95,
                normalized: text[start..end].to_lowercase(),
            });
        }
        super::spelled_email::find(text, out);
    }
}

/// A letter or a number of any script.
fn is_letter_or_number(c: char) -> bool {
    c.is_alphabetic() || c.is_numeric()
}

/// A character of a local part's atom.
fn is_atom(c: char) -> bool {
    is_letter_or_number(c) || "!#$%&'*+/=?^_`{|}~-".contains(c)
}

/// Where the local part ending at the `@` at byte `at` starts: the first character of the longest `atom(.atom)*`
/// that ends there and starts at or after `floor`.
fn local_start(text: &str, floor: usize, at: usize) -> Option<usize> {
    let mut start = None;
    // Whether the character to the left must be an atom character (at the `@`, and after a dot).
    let mut atom_needed = true;
    for (i, c) in text[floor..at].char_indices().rev() {
        if is_atom(c) {
            start = Some(floor + i);
            atom_needed = false;
        } else if c == '.' && !atom_needed {
            atom_needed = true;
        } else {
            break;
        }
    }
    start
}

/// The end of the domain starting at byte `from`: as many `label.` as there are, then a TLD; when no TLD follows
/// the last label, one label fewer (`a@b.com.x1` ends after `com`).
fn domain_end(text: &str, from: usize) -> Option<usize> {
    let mut after_dots = Vec::new();
    let mut at = from;
    while let Some(next) = label_and_dot(text, at) {
        after_dots.push(next);
        at = next;
    }
    after_dots.iter().rev().find_map(|&p| tld_end(text, p))
}

/// A label `[LN]([LN-]*[LN])?` at byte `at` followed by `.`: the byte after the dot.
fn label_and_dot(text: &str, at: usize) -> Option<usize> {
    let rest = &text[at..];
    let mut chars = rest.char_indices();
    let (_, first) = chars.next()?;
    if !is_letter_or_number(first) {
        return None;
    }
    let (mut end, mut last_letter_end) = (first.len_utf8(), first.len_utf8());
    for (i, c) in chars {
        if is_letter_or_number(c) {
            (end, last_letter_end) = (i + c.len_utf8(), i + c.len_utf8());
        } else if c == '-' {
            end = i + 1;
        } else {
            break;
        }
    }
    (end == last_letter_end && rest[end..].starts_with('.')).then_some(at + end + 1)
}

/// A TLD at byte `at`: punycode `xn--` and at least one of `[a-z0-9-]` in either case, else two letters or more.
/// The end of the longest one.
fn tld_end(text: &str, at: usize) -> Option<usize> {
    let rest = &text[at..];
    if rest.len() > 4 && rest.as_bytes()[..4].eq_ignore_ascii_case(b"xn--") {
        // `(?i)[a-z]` also takes the Kelvin sign and the long s, as the regex did.
        let tail: usize = rest[4..]
            .chars()
            .take_while(|&c| c.is_ascii_alphanumeric() || c == '-' || c == '\u{212A}' || c == '\u{17F}')
            .map(char::len_utf8)
            .sum();
        if tail > 0 {
            return Some(at + 4 + tail);
        }
    }
    let (mut letters, mut len) = (0, 0);
    for c in rest.chars().take_while(|c| c.is_alphabetic()) {
        (letters, len) = (letters + 1, len + c.len_utf8());
    }
    (letters >= 2).then_some(at + len)
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

    /// The regex this scan replaced, and how its matches were kept: the oracle of the scan.
    const REGEX: &str = r"(?x)
        [\p{L}\p{N}!\#$%&'*+/=?^_`{|}~-]+ (?: \. [\p{L}\p{N}!\#$%&'*+/=?^_`{|}~-]+ )*
        @
        (?: [\p{L}\p{N}] (?: [\p{L}\p{N}-]* [\p{L}\p{N}] )? \. )+
        (?: (?i:xn--[a-z0-9-]+) | \p{L}{2,} )
    ";

    fn found_by_regex(re: &regex::Regex, text: &str) -> Vec<(usize, usize)> {
        re.find_iter(text)
            .filter(|m| {
                let (local, domain) = m.as_str().rsplit_once('@').expect("has @");
                let glued_after =
                    char_after(text, m.end()).is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '@');
                !glued_after && char_before(text, m.start()) != Some('@') && lengths_ok(local, domain)
            })
            .map(|m| (m.start(), m.end()))
            .collect()
    }

    #[test]
    fn finds_what_the_regex_found() {
        let re = regex::Regex::new(REGEX).expect("compiles");
        // Pieces of addresses and of the text around them; no combining marks or letter numbers, where the two
        // differ by design.
        let pieces = [
            "a", "Jo", "z9", "0", "é", "ü", "жк", "中文", "١٢", ".", ".", "@", "@", "-", "_", "+", "'", " ", "\n",
            "xn--", "XN--p1", "com", "de", "co.uk", "!", "(", ")", "<", ">", ",", "\u{212A}", "\u{17F}", "x", "..",
            "-.", ".-",
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut with_addresses = 0;
        for _ in 0..100_000 {
            let len = 1 + next(24);
            let text: String = (0..len).map(|_| pieces[next(pieces.len())]).collect();
            let scanned: Vec<(usize, usize)> = {
                let mut out = Vec::new();
                EmailDetector::new().find(&text, &mut out);
                out.iter().map(|d| (d.start, d.end)).collect()
            };
            assert_eq!(scanned, found_by_regex(&re, &text), "{text:?}");
            with_addresses += usize::from(!scanned.is_empty());
        }
        assert!(with_addresses > 500, "only {with_addresses} texts had an address");
    }

    #[test]
    fn indic_vowel_signs_are_part_of_an_address() {
        // `ि` is a combining vowel sign: not a letter to `\p{L}`, so the regex cut `मिलन` in two.
        assert_eq!(found("मिलन@उदाहरण.भारत"), ["मिलन@उदाहरण.भारत"]);
    }

    #[test]
    fn overlong_local_part_is_rejected() {
        let text = format!("{}@example.com", "a".repeat(65));
        assert!(found(&text).is_empty());
    }
}
