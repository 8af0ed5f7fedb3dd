//! US social security numbers: `AAA-GG-SSSS`, `AAA GG SSSS`, `AAA.GG.SSSS` (one separator throughout) or nine
//! bare digits. Numbers the SSA never issues are rejected: area 000, 666 or 900-999, group 00, serial 0000
//! (SSA, "Social Security Number Randomization", 2011). So are placeholders that were published and voided -
//! 078-05-1120 (the Woolworth wallet card), 219-09-9999 (an SSA pamphlet sample) and 123-45-6789 - and runs of
//! one repeated digit (Presidio rejects the same ranges and samples, less the pamphlet one). The 3-6 and 5-4
//! groupings Presidio also accepts are not SSN layouts: `07805-1121` is a US ZIP+4 code, which lead mails are
//! full of. Areas that were never assigned before 2011 (734-749, 773-899) are accepted: randomisation opened them.
//!
//! Nine bare digits are reported with low confidence: the shape is shared with order and account numbers, and a
//! valid phone number of the same digits wins the overlap. Numbers glued into identifiers (`cid:823504223@...`)
//! are not SSNs.

use super::{char_after, char_before, continued_after, continues_identifier, continues_number};
use super::{follows_number, is_word_char, Detection, EntityKind};
use regex::Regex;

/// The three layouts; boundaries and the separator context are checked in code.
const PATTERN: &str = r"[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4}|[0-9]{3}\.[0-9]{2}\.[0-9]{4}|[0-9]{9}";

/// Published sample numbers that the SSA has voided.
const VOIDED: [&str; 3] = ["078051120", "219099999", "123456789"];

/// Finds US social security numbers.
#[derive(Debug)]
pub(super) struct SsnDetector {
    re: Regex,
}

impl SsnDetector {
    pub(super) fn new() -> Self {
        Self { re: Regex::new(PATTERN).expect("ssn pattern compiles") }
    }

    pub(super) fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for m in self.re.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            if char_before(text, start).is_some_and(is_word_char) || follows_number(text, start) {
                continue;
            }
            if char_after(text, end).is_some_and(is_word_char) || continues_number(text, end) {
                continue;
            }
            let in_identifier = continues_identifier(text, start) || continued_after(text, end);
            if in_identifier || glued_to_digit_group(text, start, end) {
                continue;
            }
            let digits: String = m.as_str().chars().filter(char::is_ascii_digit).collect();
            if !issuable(&digits) {
                continue;
            }
            let formatted = digits.len() != m.as_str().len();
            out.push(Detection {
                kind: EntityKind::UsSsn,
                start,
                end,
                confidence: if formatted { 0.85 } else { 0.3 },
                normalized: digits,
            });
        }
    }
}

/// True when a separator joins the hit to another digit group (`1-078-05-1123`, `078-05-1123-7`): then it
/// is a piece of a longer number such as a phone or order number.
fn glued_to_digit_group(text: &str, start: usize, end: usize) -> bool {
    let sep = |c: char| c == '-' || c == '.' || c == '/';
    let mut before = text[..start].chars().rev();
    let mut after = text[end..].chars();
    let glued_before = before.next().is_some_and(sep) && before.next().is_some_and(|c| c.is_ascii_digit());
    let glued_after = after.next().is_some_and(sep) && after.next().is_some_and(|c| c.is_ascii_digit());
    glued_before || glued_after
}

/// Could the SSA have issued this number?
fn issuable(digits: &str) -> bool {
    let area = &digits[..3];
    let one_digit = digits.bytes().all(|b| b == digits.as_bytes()[0]);
    area != "000"
        && area != "666"
        && !area.starts_with('9')
        && &digits[3..5] != "00"
        && &digits[5..] != "0000"
        && !one_digit
        && !VOIDED.contains(&digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&str, f32)> {
        let mut out = Vec::new();
        SsnDetector::new().find(text, &mut out);
        out.into_iter().map(|d| (&text[d.start..d.end], d.confidence)).collect()
    }

    fn spans(text: &str) -> Vec<&str> {
        found(text).into_iter().map(|(s, _)| s).collect()
    }

    #[test]
    fn formatted_and_bare_numbers() {
        assert_eq!(spans("078-05-1123"), ["078-05-1123"]);
        assert_eq!(spans("078.05.1123"), ["078.05.1123"]);
        assert_eq!(spans("abc 078 05 1123 abc"), ["078 05 1123"]);
        assert_eq!(spans("SSN: 853-37-1694."), ["853-37-1694"]);
        assert_eq!(found("078051121"), [("078051121", 0.3)]);
        assert_eq!(found("078-05-1121")[0].1, 0.85);
    }

    #[test]
    fn normalised_form_is_digits_only() {
        let mut out = Vec::new();
        SsnDetector::new().find("078 05 1123", &mut out);
        assert_eq!(out[0].normalized, "078051123");
    }

    #[test]
    fn unissued_and_voided_numbers_are_rejected() {
        for text in [
            "000-12-3456",
            "666-12-3456",
            "900-12-3456",
            "999-12-3456",
            "078 00 1123",
            "078-05-0000",
            "078051120",
            "078-05-1120",
            "123-45-6789",
            "219-09-9999",
            "111-11-1111",
            "000000000",
            "666000000",
        ] {
            assert!(spans(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn other_layouts_and_longer_numbers_are_rejected() {
        for text in [
            "0780511201",
            "693-09.4444",
            "078-051121",
            "07805-1121",
            "Springfield, IL 62704-1234",
            "1-078-05-1123",
            "078-05-1123-7",
            "call 415-555-0132",
            "3.078051123",
            "A078051123",
            "2024-05-1123",
            "cid:823504223@17052000",
            "boundary=Apple-Mail-6--589811753",
        ] {
            assert!(spans(text).is_empty(), "{text}");
        }
    }
}
