//! Phone numbers. A cheap pattern cuts runs of digits and phone punctuation (`+`, spaces, `-`, `.`, `/`,
//! brackets) out of the text; windows of the run's digit groups are then parsed and validated with the
//! libphonenumber metadata (`phonenumber` crate) - with the country code when one is written (`+44 ...`,
//! `0044 ...`), otherwise against each configured region in turn. This mirrors libphonenumber's own matcher at
//! its default `VALID` leniency, which is also what Presidio uses:
//! - the number must be valid (a real number range of its country), not merely of a possible length;
//! - written nationally, it must carry the trunk prefix where the country's formatting rules require one
//!   (`020 7946 0958` is a London number, `2079460958` is not), which keeps most random digit runs out;
//! - it must not touch letters (`is415-555-0132`), and dates (`05/12/2023`, `2024-01-15`) are never numbers.
//!
//! An extension written after the number (`x4587`, `ext. 12`) belongs to the hit. Numbers from regions that are
//! not configured are only found when written with their country code.

use super::{char_after, char_before, continues_number, follows_number, is_word_char};
use super::{Detection, EntityKind};
use phonenumber::country::{Id, Source};
use phonenumber::metadata::DATABASE;
use phonenumber::{Mode, PhoneNumber};
use regex::Regex;

/// A run: optional `+` or `(`, then digits joined by at most three punctuation characters at a time.
const RUN: &str = r"[+(]?\d(?:[ \t\u{A0}.\-/()]{0,3}\d)*";
/// An extension right after the number.
const EXTENSION: &str = r"^(?i:[ \t]*(?:x|ext\.?|extension)[ \t]*\d{1,6})";
/// Day-month-year, month-day-year and year-month-day dates.
const DATE: &str = r"^(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{2}|\d{4})|\d{4}[./-]\d{1,2}[./-]\d{1,2})$";

/// Digit counts a written number can have: 7 national digits at least, and at most 15 (E.164) plus an
/// international prefix of up to three digits (`011`).
const MIN_DIGITS: usize = 7;
const MAX_DIGITS: usize = 18;

/// Finds phone numbers.
#[derive(Debug)]
pub(super) struct PhoneDetector {
    regions: Vec<Id>,
    run: Regex,
    extension: Regex,
    date: Regex,
}

/// A digit group inside a run: byte offsets into the text.
#[derive(Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
}

impl PhoneDetector {
    pub(super) fn new(regions: Vec<Id>) -> Self {
        let re = |p| Regex::new(p).expect("phone pattern compiles");
        Self {
            regions,
            run: re(RUN),
            extension: re(EXTENSION),
            date: re(DATE),
        }
    }

    pub(super) fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for m in self.run.find_iter(text) {
            let start = m.start();
            let glued_before =
                char_before(text, start).is_some_and(|c| is_word_char(c) || "#$€£¥@".contains(c));
            if glued_before || follows_number(text, start) {
                continue;
            }
            self.find_in_run(text, start, m.end(), out);
        }
    }

    /// Tries windows of consecutive digit groups, longest first from the left; a window may only start or end
    /// where the run has whitespace, so a number is never cut out of the middle of a dash-joined token.
    fn find_in_run(&self, text: &str, start: usize, end: usize, out: &mut Vec<Detection>) {
        let groups = digit_groups(text, start, end);
        let mut first = 0;
        while first < groups.len() {
            let mut taken = None;
            if first == 0 || gap_has_space(text, groups[first - 1], groups[first]) {
                for last in (first..groups.len()).rev() {
                    let at_run_end = last + 1 == groups.len();
                    if !at_run_end && !gap_has_space(text, groups[last], groups[last + 1]) {
                        continue;
                    }
                    let from = if first == 0 {
                        start
                    } else {
                        opening_bracket(text, groups[first - 1], groups[first])
                    };
                    if let Some(d) = self.window(text, from, groups[last].end) {
                        out.push(d);
                        taken = Some(last);
                        break;
                    }
                }
            }
            first = taken.map_or(first + 1, |last| last + 1);
        }
    }

    /// The detection for `text[from..to]` (plus any extension), if it is a valid phone number.
    fn window(&self, text: &str, from: usize, to: usize) -> Option<Detection> {
        let raw = &text[from..to];
        let digit_count = raw.bytes().filter(u8::is_ascii_digit).count();
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&digit_count) || self.date.is_match(raw) {
            return None;
        }
        let mut end = to;
        if let Some(ext) = self.extension.find(&text[to..]) {
            end += ext.end();
        }
        if char_after(text, end).is_some_and(|c| is_word_char(c) || c == '%')
            || continues_number(text, end)
        {
            return None;
        }
        let (normalized, confidence) = self.validate(raw)?;
        Some(Detection {
            kind: EntityKind::Phone,
            start: from,
            end,
            confidence,
            normalized,
        })
    }

    /// E.164 form and confidence of `raw`, or `None` when no numbering plan accepts it.
    fn validate(&self, raw: &str) -> Option<(String, f32)> {
        let international = raw.starts_with('+');
        // `+44 (0)20 ...`: the bracketed trunk prefix is dropped when dialling with the country code.
        let raw = if international {
            raw.replacen("(0)", "", 1)
        } else {
            raw.to_string()
        };
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        if international {
            let number = parse(None, &format!("+{digits}"))?;
            return Some((e164(&number), 0.9));
        }
        let formatted = raw.len() != digits.len();
        for &region in &self.regions {
            let Some(number) = parse(Some(region), &digits) else {
                continue;
            };
            let confidence = match number.code().source() {
                Source::Plus | Source::Idd => 0.85,
                Source::Number => 0.6,
                Source::Default
                    if !national_prefix_present_if_required(&number, region, &digits) =>
                {
                    continue
                }
                Source::Default if formatted => 0.75,
                Source::Default => 0.6,
            };
            return Some((e164(&number), confidence));
        }
        None
    }
}

/// Parses and validates; any parse error or invalid number is `None`.
fn parse(region: Option<Id>, digits: &str) -> Option<PhoneNumber> {
    phonenumber::parse(region, digits)
        .ok()
        .filter(PhoneNumber::is_valid)
}

fn e164(number: &PhoneNumber) -> String {
    number.format().mode(Mode::E164).to_string()
}

/// libphonenumber's `isNationalPrefixPresentIfRequired`: a number written without country code must start with
/// the region's trunk prefix when the formatting rule for its number range includes the prefix and does not
/// mark it optional (NANP and Indian mobile numbers, for example, are written without one).
fn national_prefix_present_if_required(number: &PhoneNumber, region: Id, digits: &str) -> bool {
    let Some(meta) = DATABASE.by_id(region.as_ref()) else {
        return true;
    };
    let Some(prefix) = meta.national_prefix() else {
        return true;
    };
    let nsn = number.national().to_string();
    let rule = meta.formats().iter().find(|f| {
        let leading_ok = f
            .leading_digits()
            .last()
            .is_none_or(|re| re.find(&nsn).is_some_and(|m| m.start() == 0));
        let pattern_ok = f
            .pattern()
            .find(&nsn)
            .is_some_and(|m| m.start() == 0 && m.end() == nsn.len());
        leading_ok && pattern_ok
    });
    match rule.and_then(|f| {
        f.national_prefix()
            .map(|np| (np, f.is_national_prefix_optional()))
    }) {
        Some((np_rule, false)) if np_rule.contains("$NP") => digits.starts_with(prefix),
        _ => true,
    }
}

/// The digit groups of the run `text[start..end]`.
fn digit_groups(text: &str, start: usize, end: usize) -> Vec<Group> {
    let bytes = text.as_bytes();
    let mut groups = Vec::new();
    let mut i = start;
    while i < end {
        if bytes[i].is_ascii_digit() {
            let s = i;
            while i < end && bytes[i].is_ascii_digit() {
                i += 1;
            }
            groups.push(Group { start: s, end: i });
        } else {
            i += 1;
        }
    }
    groups
}

/// True when the punctuation between two groups contains whitespace, so a number may end or start there.
fn gap_has_space(text: &str, left: Group, right: Group) -> bool {
    text[left.end..right.start].contains([' ', '\t', '\u{A0}'])
}

/// Where a window starting at `right` begins: at a `(` or `+` written just before the group, else the group.
fn opening_bracket(text: &str, left: Group, right: Group) -> usize {
    let gap = &text[left.end..right.start];
    let tail = gap.trim_start_matches([' ', '\t', '\u{A0}']);
    if tail.starts_with('(') && !tail[1..].contains(['(', ')']) {
        right.start - tail.len()
    } else {
        right.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anonymize::detect::DetectorConfig;

    fn detector() -> PhoneDetector {
        PhoneDetector::new(DetectorConfig::default().phone_regions)
    }

    fn found(text: &str) -> Vec<(&str, String)> {
        let mut out = Vec::new();
        detector().find(text, &mut out);
        out.into_iter()
            .map(|d| (&text[d.start..d.end], d.normalized))
            .collect()
    }

    fn spans(text: &str) -> Vec<&str> {
        found(text).into_iter().map(|(s, _)| s).collect()
    }

    #[test]
    fn national_and_international_numbers() {
        assert_eq!(
            found("My US number is (415) 555-0132, and my international one is +1 415 555 0132"),
            [
                ("(415) 555-0132", "+14155550132".to_string()),
                ("+1 415 555 0132", "+14155550132".to_string())
            ]
        );
        assert_eq!(spans("Tel. 020 7946 0958"), ["020 7946 0958"]);
        assert_eq!(spans("Brazil: +55 11 98456 5666"), ["+55 11 98456 5666"]);
        assert_eq!(spans("+44 (20) 7123 4567"), ["+44 (20) 7123 4567"]);
        assert_eq!(spans("+41 (0)44 668 18 00"), ["+41 (0)44 668 18 00"]);
        assert_eq!(spans("My Israeli number is 09-7625400"), ["09-7625400"]);
        assert_eq!(spans("Mobil: 0151 23456789"), ["0151 23456789"]);
        assert_eq!(spans("appelez le 01 42 68 53 00."), ["01 42 68 53 00"]);
    }

    #[test]
    fn international_dialling_prefix_counts_as_country_code() {
        assert_eq!(found("0044 20 7946 0958")[0].1, "+442079460958");
    }

    #[test]
    fn extension_belongs_to_the_number() {
        assert_eq!(spans("Fax: 212-555-0199x4587."), ["212-555-0199x4587"]);
        assert_eq!(spans("(212) 555-0199 ext. 12"), ["(212) 555-0199 ext. 12"]);
    }

    #[test]
    fn numbers_in_a_list_are_found_separately() {
        assert_eq!(
            spans("Dalla's Pizza | 3843 Peartree Road, Bamblee, SD 20241 440-600-5124"),
            ["440-600-5124"]
        );
    }

    #[test]
    fn trunk_prefix_is_required_where_the_plan_requires_it() {
        // A London number without its leading 0 is not a UK number (nor valid anywhere else configured).
        assert!(spans("2079460958 items").is_empty() || spans("2079460958")[0] == "2079460958");
        assert!(spans("ref 79460958").is_empty());
    }

    #[test]
    fn rejects_dates_prices_and_glued_numbers() {
        for text in [
            "My US number is415-555-0132",
            "on 05/12/2023 at noon",
            "2024-01-15",
            "15.01.2024",
            "Price: $4155550132",
            "Order #4155550132",
            "v4155550132",
            "4155550132.25",
            "12",
            "555-0142",
            "ISBN 978-3-16-148410-0",
            "3.14159265358",
        ] {
            assert!(spans(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn regions_not_configured_need_a_country_code() {
        assert!(spans("My Japanese number is 090-1234-5678").is_empty());
        assert_eq!(spans("+81 90-1234-5678"), ["+81 90-1234-5678"]);
    }
}
