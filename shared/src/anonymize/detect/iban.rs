//! IBANs (ISO 13616): country code, two check digits and the country's BBAN, written compactly
//! (`DE89370400440532013000`) or in groups of four separated by one space or dash (`DE89 3704 0044 0532 0130 00`).
//! A candidate must have its country's length and BBAN layout from the SWIFT IBAN registry and pass the mod-97
//! check, so a random word-and-digits token practically never qualifies. IBANs are printed in upper case; one
//! typed all in lower case is accepted too, but mixed case (`LV80 bANK ...`) is not an IBAN. When a grouped IBAN
//! is followed by more short tokens (`... 8901 X in a sentence`), the longest prefix that validates wins.

use super::{char_after, char_before, is_word_char, Detection, EntityKind};
use regex::Regex;

/// Country code and check digits, then alphanumeric chunks separated by single spaces or dashes. Bounded so a
/// long run of short tokens costs linear time: no IBAN is longer than 34 characters (nine groups).
const CANDIDATE: &str = r"[A-Za-z]{2}[0-9]{2}[A-Za-z0-9]{0,31}(?:[ -][A-Za-z0-9]{1,4}){0,9}";

/// BBAN layout per country, in the SWIFT registry notation (`n` digits, `a` upper-case letters, `c` either),
/// from the IBAN Registry release 101 (2025). The IBAN length is 4 plus the BBAN length.
const COUNTRIES: &[(&str, &str)] = &[
    ("AD", "8n12c"),
    ("AE", "19n"),
    ("AL", "8n16c"),
    ("AT", "16n"),
    ("AZ", "4a20c"),
    ("BA", "16n"),
    ("BE", "12n"),
    ("BG", "4a6n8c"),
    ("BH", "4a14c"),
    ("BI", "23n"),
    ("BR", "23n1a1c"),
    ("BY", "4c4n16c"),
    ("CH", "5n12c"),
    ("CR", "18n"),
    ("CY", "8n16c"),
    ("CZ", "20n"),
    ("DE", "18n"),
    ("DJ", "23n"),
    ("DK", "14n"),
    ("DO", "4c20n"),
    ("EE", "16n"),
    ("EG", "25n"),
    ("ES", "20n"),
    ("FI", "14n"),
    ("FK", "2a12n"),
    ("FO", "14n"),
    ("FR", "10n11c2n"),
    ("GB", "4a14n"),
    ("GE", "2a16n"),
    ("GI", "4a15c"),
    ("GL", "14n"),
    ("GR", "7n16c"),
    ("GT", "4c20c"),
    ("HN", "4a20n"),
    ("HR", "17n"),
    ("HU", "24n"),
    ("IE", "4a14n"),
    ("IL", "19n"),
    ("IQ", "4a15n"),
    ("IS", "22n"),
    ("IT", "1a10n12c"),
    ("JO", "4a4n18c"),
    ("KW", "4a22c"),
    ("KZ", "3n13c"),
    ("LB", "4n20c"),
    ("LC", "4a24c"),
    ("LI", "5n12c"),
    ("LT", "16n"),
    ("LU", "3n13c"),
    ("LV", "4a13c"),
    ("LY", "21n"),
    ("MC", "10n11c2n"),
    ("MD", "20c"),
    ("ME", "18n"),
    ("MK", "3n10c2n"),
    ("MN", "16n"),
    ("MR", "23n"),
    ("MT", "4a5n18c"),
    ("MU", "4a19n3a"),
    ("NI", "4a20n"),
    ("NL", "4a10n"),
    ("NO", "11n"),
    ("OM", "3n16c"),
    ("PK", "4a16c"),
    ("PL", "24n"),
    ("PS", "4a21c"),
    ("PT", "21n"),
    ("QA", "4a21c"),
    ("RO", "4a16c"),
    ("RS", "18n"),
    ("RU", "14n15c"),
    ("SA", "2n18c"),
    ("SC", "4a20n3a"),
    ("SD", "14n"),
    ("SE", "20n"),
    ("SI", "15n"),
    ("SK", "20n"),
    ("SM", "1a10n12c"),
    ("SO", "19n"),
    ("ST", "21n"),
    ("SV", "4a20n"),
    ("TL", "19n"),
    ("TN", "20n"),
    ("TR", "6n16c"),
    ("UA", "6n19c"),
    ("VA", "18n"),
    ("VG", "4a16n"),
    ("XK", "16n"),
    ("YE", "4a4n18c"),
];

/// Finds IBANs.
#[derive(Debug)]
pub(super) struct IbanDetector {
    re: Regex,
}

impl IbanDetector {
    pub(super) fn new() -> Self {
        Self { re: Regex::new(CANDIDATE).expect("iban pattern compiles") }
    }

    pub(super) fn find(&self, text: &str, out: &mut Vec<Detection>) {
        let mut from = 0;
        while let Some(m) = self.re.find_at(text, from) {
            // On failure, go on from the end of the first chunk: a valid IBAN may start at a later chunk.
            from = m.start() + m.as_str().find([' ', '-']).unwrap_or(m.len());
            if char_before(text, m.start()).is_some_and(is_word_char) {
                // Inside a longer word (`XAL47...`): skip that word; a later country code may still start one.
                from = m.start() + 1;
                continue;
            }
            if let Some((len, normalized)) = longest_valid_prefix(m.as_str()) {
                let end = m.start() + len;
                if !char_after(text, end).is_some_and(is_word_char) {
                    out.push(Detection { kind: EntityKind::Iban, start: m.start(), end, confidence: 0.95, normalized });
                    from = end;
                }
            }
        }
    }
}

/// The byte length and normalised form of the longest prefix of `candidate` (cut at a chunk boundary) that is a
/// valid IBAN: either the first chunk alone (compact form) or chunks of four with one separator throughout.
fn longest_valid_prefix(candidate: &str) -> Option<(usize, String)> {
    let chunks: Vec<&str> = candidate.split([' ', '-']).collect();
    let first = chunks[0];
    if is_valid(first) {
        return Some((first.len(), first.to_ascii_uppercase()));
    }
    if first.len() != 4 {
        return None;
    }
    // Grouped form: all chunks but the last of exactly four characters, one separator character throughout.
    let sep = candidate.as_bytes().get(4).copied();
    let mut end = 4;
    let mut best = None;
    let mut compact = first.to_string();
    for chunk in &chunks[1..] {
        if candidate.as_bytes().get(end).copied() != sep || chunk.is_empty() || chunk.len() > 4 {
            break;
        }
        end += 1 + chunk.len();
        compact.push_str(chunk);
        if is_valid(&compact) {
            best = Some((end, compact.to_ascii_uppercase()));
        }
        if chunk.len() < 4 {
            break;
        }
    }
    best
}

/// Written in one case, country known, length and BBAN layout as registered, and the ISO 7064 mod-97 check
/// equal to 1.
pub(super) fn is_valid(iban: &str) -> bool {
    let upper = iban.bytes().any(|b| b.is_ascii_uppercase());
    let lower = iban.bytes().any(|b| b.is_ascii_lowercase());
    if upper && lower {
        return false;
    }
    let iban = iban.to_ascii_uppercase();
    let Some(country) = iban.get(..2) else {
        return false;
    };
    let Some(&(_, layout)) = COUNTRIES.iter().find(|(cc, _)| *cc == country) else {
        return false;
    };
    iban.len() == 4 + layout_len(layout)
        && iban[2..4].bytes().all(|b| b.is_ascii_digit())
        && bban_matches(&iban[4..], layout)
        && mod97(&iban) == 1
}

/// Parses a layout such as `4a14n` into (count, class) pairs.
fn layout_parts(layout: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    layout.split_inclusive(|c: char| c.is_ascii_alphabetic()).filter_map(|part| {
        let (count, class) = part.split_at(part.len() - 1);
        Some((count.parse().ok()?, class.as_bytes()[0]))
    })
}

fn layout_len(layout: &str) -> usize {
    layout_parts(layout).map(|(n, _)| n).sum()
}

fn bban_matches(bban: &str, layout: &str) -> bool {
    let mut bytes = bban.bytes();
    for (count, class) in layout_parts(layout) {
        for _ in 0..count {
            let Some(b) = bytes.next() else {
                return false;
            };
            let ok = match class {
                b'n' => b.is_ascii_digit(),
                b'a' => b.is_ascii_uppercase(),
                _ => b.is_ascii_alphanumeric(),
            };
            if !ok {
                return false;
            }
        }
    }
    bytes.next().is_none()
}

/// ISO 7064 MOD 97-10 over the IBAN rearranged (first four characters moved to the end, letters as 10..35).
fn mod97(iban: &str) -> u32 {
    let rearranged = iban[4..].bytes().chain(iban[..4].bytes());
    let mut rem = 0u32;
    for b in rearranged {
        let value = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return 0,
        };
        rem = if value >= 10 { (rem * 100 + value) % 97 } else { (rem * 10 + value) % 97 };
    }
    rem
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        IbanDetector::new().find(text, &mut out);
        out.into_iter().map(|d| &text[d.start..d.end]).collect()
    }

    #[test]
    fn registry_layouts_add_up() {
        // Lengths from the registry, spot-checked against examples published by the banks.
        for (cc, len) in [("DE", 22), ("GB", 22), ("FR", 27), ("MT", 31), ("NO", 15), ("LC", 32), ("RU", 33)] {
            let layout = COUNTRIES.iter().find(|(c, _)| *c == cc).unwrap().1;
            assert_eq!(4 + layout_len(layout), len, "{cc}");
        }
        let mut codes: Vec<&str> = COUNTRIES.iter().map(|(c, _)| *c).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), COUNTRIES.len());
    }

    #[test]
    fn compact_and_grouped_forms() {
        assert_eq!(found("DE89370400440532013000"), ["DE89370400440532013000"]);
        assert_eq!(found("IBAN: DE89 3704 0044 0532 0130 00."), ["DE89 3704 0044 0532 0130 00"]);
        assert_eq!(
            found("Dash as separator: AL47-2121-1009-0000-0002-3569-8741"),
            ["AL47-2121-1009-0000-0002-3569-8741"]
        );
        assert_eq!(found("my iban is gb29nwbk60161331926819"), ["gb29nwbk60161331926819"]);
        assert_eq!(
            found("this is an iban VG96 VPVG 0000 0123 4567 8901 X in a sentence"),
            ["VG96 VPVG 0000 0123 4567 8901"]
        );
        assert_eq!(found("AL47212110090000000235698741 ALL CAPS"), ["AL47212110090000000235698741"]);
    }

    #[test]
    fn normalised_form_is_uppercase_without_separators() {
        let mut out = Vec::new();
        IbanDetector::new().find("gb29 nwbk 6016 1331 9268 19", &mut out);
        assert_eq!(out[0].normalized, "GB29NWBK60161331926819");
    }

    #[test]
    fn rejects_bad_checksums_layouts_and_separators() {
        for text in [
            "DE89 3704 0044 0532 0130 01",
            "NL91 1BNA 0417 1643 00",
            "AM47212110090000000235698740",
            "LV80 bANK 0000 4351 9500 1",
            "IL15 0120 6900 0000 3111 0120 6900 0000 3111 141",
            "AL47/2121/1009/0000/0002/3569/8741",
            "AL47 2121-1009 0000 0002 3569 8741",
            "G T82 TRAJ 0102 0000 0012 1002 9690",
            "XDE89370400440532013000",
            "DE89370400440532013000X",
            "Dalla's Pizza | 3843 Peartree Road, Bamblee, SD 20241 440-600-5124",
        ] {
            assert!(found(text).is_empty(), "{text}");
        }
    }
}
