//! Payment card numbers (PANs): 12 to 19 digits, either contiguous or in the groupings printed on cards and typed
//! into forms (`4111 1111 1111 1111`, `4111-1111-1111-1111`, Amex `3714 496353 98431`) with one separator used
//! throughout, and a valid Luhn check digit. A number whose prefix and length match a card network (ISO/IEC 7812
//! issuer ranges) scores high; a Luhn-valid run without a known prefix is still reported, with low confidence,
//! because one in ten random digit runs passes Luhn and a leaked card costs far more than a masked order number.
//! Known look-alikes are rejected outright: a single repeated digit, compact timestamps (`20240115093000`) and
//! EAN-13/ISBN-13 barcodes.

use super::{char_after, char_before, continues_number, follows_number, is_word_char};
use super::{Detection, EntityKind};
use regex::Regex;

/// Runs of digit groups joined by one space or dash; windows of groups are checked afterwards.
const RUN: &str = r"\d+(?:[ -]\d+)*";

/// Issuer prefix ranges (inclusive, compared on as many leading digits as `lo` has) and the lengths each network
/// issues: Visa, Mastercard, Amex, Diners, JCB, Discover, UnionPay, Maestro, UATP, Mir, RuPay, Troy.
const NETWORKS: &[(u32, u32, &[usize])] = &[
    (4, 4, &[13, 16, 19]),
    (51, 55, &[16]),
    (2221, 2720, &[16]),
    (34, 34, &[15]),
    (37, 37, &[15]),
    (300, 305, &[14, 15, 16, 17, 18, 19]),
    (3095, 3095, &[14, 15, 16, 17, 18, 19]),
    (36, 36, &[14, 15, 16, 17, 18, 19]),
    (38, 39, &[14, 15, 16, 17, 18, 19]),
    (3528, 3589, &[16, 17, 18, 19]),
    (1800, 1800, &[15]),
    (2131, 2131, &[15]),
    (6011, 6011, &[16, 17, 18, 19]),
    (644, 649, &[16, 17, 18, 19]),
    (65, 65, &[16, 17, 18, 19]),
    (62, 62, &[16, 17, 18, 19]),
    (50, 50, &[12, 13, 14, 15, 16, 17, 18, 19]),
    (56, 69, &[12, 13, 14, 15, 16, 17, 18, 19]),
    (1, 1, &[15]),
    (2200, 2204, &[16, 17, 18, 19]),
    (81, 82, &[16]),
    (9792, 9792, &[16]),
];

/// Finds payment card numbers.
#[derive(Debug)]
pub(super) struct CardDetector {
    run: Regex,
}

impl CardDetector {
    pub(super) fn new() -> Self {
        Self {
            run: Regex::new(RUN).expect("card pattern compiles"),
        }
    }

    pub(super) fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for m in self.run.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            let before = char_before(text, start);
            if before.is_some_and(|c| is_word_char(c) || c == '+') || follows_number(text, start) {
                continue;
            }
            if char_after(text, end).is_some_and(is_word_char) || continues_number(text, end) {
                continue;
            }
            find_in_run(text, start, end, out);
        }
    }
}

/// Tries windows of consecutive digit groups, longest first from the left, and keeps every window that is a card.
fn find_in_run(text: &str, start: usize, end: usize, out: &mut Vec<Detection>) {
    let run = &text[start..end];
    // (offset, len) of each digit group inside the run; separators are the single bytes between them.
    let mut groups = Vec::new();
    let mut i = 0;
    for part in run.split([' ', '-']) {
        groups.push((i, part.len()));
        i += part.len() + 1;
    }
    let mut first = 0;
    while first < groups.len() {
        let mut taken = None;
        for last in (first..groups.len()).rev() {
            let (from, _) = groups[first];
            let (to, len) = groups[last];
            let window = &run[from..to + len];
            if let Some(confidence) = card_confidence(window, &groups[first..=last]) {
                out.push(Detection {
                    kind: EntityKind::PaymentCard,
                    start: start + from,
                    end: start + to + len,
                    confidence,
                    normalized: digits(window),
                });
                taken = Some(last);
                break;
            }
        }
        first = taken.map_or(first + 1, |last| last + 1);
    }
}

/// The confidence for `window` as a card number, or `None` if it is not one.
fn card_confidence(window: &str, groups: &[(usize, usize)]) -> Option<f32> {
    let digits = digits(window);
    if !(12..=19).contains(&digits.len()) || !grouping_ok(window, groups) || !luhn_ok(&digits) {
        return None;
    }
    if network_matches(&digits) {
        return Some(0.9);
    }
    let one_digit = digits.bytes().all(|b| b == digits.as_bytes()[0]);
    if one_digit || looks_like_timestamp(&digits) || is_ean13(&digits) {
        return None;
    }
    Some(0.4)
}

/// One group, or groups of four (the last one shorter), or the 4-6-5 / 4-6-4 layout of Amex and Diners, with
/// a single separator character throughout.
fn grouping_ok(window: &str, groups: &[(usize, usize)]) -> bool {
    if groups.len() == 1 {
        return true;
    }
    let seps: Vec<u8> = groups[1..]
        .iter()
        .map(|(off, _)| window.as_bytes()[off - groups[0].0 - 1])
        .collect();
    if seps.windows(2).any(|w| w[0] != w[1]) {
        return false;
    }
    let lens: Vec<usize> = groups.iter().map(|g| g.1).collect();
    let fours =
        lens[..lens.len() - 1].iter().all(|&l| l == 4) && (1..=4).contains(&lens[lens.len() - 1]);
    fours || lens == [4, 6, 5] || lens == [4, 6, 4]
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The Luhn (mod 10) check that every card number carries in its last digit.
pub(super) fn luhn_ok(digits: &str) -> bool {
    let mut sum = 0;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

fn network_matches(digits: &str) -> bool {
    NETWORKS.iter().any(|&(lo, hi, lengths)| {
        let width = lo.to_string().len();
        let prefix = digits.get(..width).and_then(|p| p.parse::<u32>().ok());
        prefix.is_some_and(|p| (lo..=hi).contains(&p)) && lengths.contains(&digits.len())
    })
}

/// `YYYYMMDDhhmm` or `YYYYMMDDhhmmss` with plausible field values (1900-2099).
fn looks_like_timestamp(digits: &str) -> bool {
    if digits.len() != 12 && digits.len() != 14 {
        return false;
    }
    let field = |r: std::ops::Range<usize>| digits[r].parse::<u32>().unwrap_or(u32::MAX);
    let year_ok = (1900..=2099).contains(&field(0..4));
    let second_ok = digits.len() == 12 || field(12..14) < 60;
    year_ok
        && (1..=12).contains(&field(4..6))
        && (1..=31).contains(&field(6..8))
        && field(8..10) < 24
        && field(10..12) < 60
        && second_ok
}

/// A 13-digit EAN/ISBN barcode number with a valid check digit (weights 1,3,1,3...).
fn is_ean13(digits: &str) -> bool {
    if digits.len() != 13 {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&str, f32)> {
        let mut out = Vec::new();
        CardDetector::new().find(text, &mut out);
        out.into_iter()
            .map(|d| (&text[d.start..d.end], d.confidence))
            .collect()
    }

    fn spans(text: &str) -> Vec<&str> {
        found(text).into_iter().map(|(s, _)| s).collect()
    }

    #[test]
    fn contiguous_and_grouped_numbers() {
        assert_eq!(
            spans("4012888888881881 4012-8888-8888-1881 4012 8888 8888 1881"),
            [
                "4012888888881881",
                "4012-8888-8888-1881",
                "4012 8888 8888 1881"
            ]
        );
        assert_eq!(spans("Amex 3714 496353 98431."), ["3714 496353 98431"]);
        assert_eq!(
            spans("my credit card: 122000000000003"),
            ["122000000000003"]
        );
        assert_eq!(spans("6759649826438453"), ["6759649826438453"]);
    }

    #[test]
    fn normalised_form_is_digits_only() {
        let mut out = Vec::new();
        CardDetector::new().find("4111-1111-1111-1111", &mut out);
        assert_eq!(out[0].normalized, "4111111111111111");
    }

    #[test]
    fn unknown_prefix_scores_low() {
        // Luhn-valid, but no network issues 16-digit numbers starting with 9.
        assert_eq!(found("9000000000000008"), [("9000000000000008", 0.4)]);
        assert_eq!(found("4111111111111111")[0].1, 0.9);
    }

    #[test]
    fn rejects_luhn_failures_and_look_alikes() {
        for text in [
            "4012-8888-8888-1882",
            "1748503543012",
            "36168002586008",
            "0000 0000 0000 0000",
            "20240115093000",
            "ISBN 9783161484100",
            "4111 1111-1111 1111",
            "41 11 11 11 11 11 11 11",
            "order 12345",
            "v4111111111111111",
            "4111111111111111.5",
            "+4111111111111111",
        ] {
            assert!(spans(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn card_inside_a_longer_digit_run_is_found_by_its_groups() {
        assert_eq!(
            spans("card 4111 1111 1111 1111 exp 12 28"),
            ["4111 1111 1111 1111"]
        );
        assert_eq!(spans("ref 42 4111 1111 1111 1111"), ["4111 1111 1111 1111"]);
    }
}
