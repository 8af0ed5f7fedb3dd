//! Vehicle identification numbers in free text: a customer's trade-in VIN identifies its owner. 17 characters
//! of the VIN alphabet (no I, O, Q), accepted when the ISO 3779 / North-American check digit (position 9) is
//! valid, or when a keyword (`VIN`, `FIN`, `chassis`, `Fahrgestell`) stands just before it.

use regex::Regex;
use std::sync::LazyLock;

/// A VIN's length in characters (all ASCII).
const VIN_LEN: usize = 17;

/// `VIN`, `chassis no.` and the like right before a candidate. Compiled on first use (~0.6 MB and ~3 ms: its `\w`
/// and `\W` are Unicode classes), when a candidate fails its check digit, which most mail never has.
static KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(vin|fin|chassis|fahrgestell\w*)\b(\W{0,3}(no|nr|number|nummer|#))?\W{0,6}$")
        .expect("static regex")
});

/// Byte ranges of VINs in `text`.
pub fn find_vins(text: &str) -> Vec<(usize, usize)> {
    candidates(text)
        .filter(|&(start, end)| {
            let v = &text[start..end];
            let digits = v.bytes().filter(u8::is_ascii_digit).count();
            let letters = v.len() - digits;
            if digits < 3 || letters < 1 {
                return false;
            }
            // Up to 24 bytes before it, from a character boundary.
            let from = (start.saturating_sub(24)..start).find(|&i| text.is_char_boundary(i));
            let before = from.map_or("", |from| &text[from..start]);
            check_digit_ok(v) || KEYWORD.is_match(before)
        })
        .collect()
}

/// A character of the VIN alphabet: `A`-`Z` but `I`, `O`, `Q`, and digits.
fn in_alphabet(b: u8) -> bool {
    b.is_ascii_digit() || (b.is_ascii_uppercase() && !matches!(b, b'I' | b'O' | b'Q'))
}

/// Runs of exactly [`VIN_LEN`] alphabet characters that are whole words: what `\b[A-HJ-NPR-Z0-9]{17}\b` finds
/// (Unicode word boundaries), found by a scan instead of a regex (whose fast engines give up on non-ASCII text).
/// Every alphabet character is a word character, so such a run is a whole maximal run of them, with no word
/// character on either side.
fn candidates(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() {
            let start = at + bytes[at..].iter().position(|&b| in_alphabet(b))?;
            let end = start + bytes[start..].iter().take_while(|&&b| in_alphabet(b)).count();
            at = end;
            let word = |c: Option<char>| c.is_some_and(regex_syntax::is_word_character);
            if end - start == VIN_LEN && !word(text[..start].chars().next_back()) && !word(text[end..].chars().next()) {
                return Some((start, end));
            }
        }
        None
    })
}

fn transliterate(c: u8) -> u32 {
    match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        b'A' | b'J' => 1,
        b'B' | b'K' | b'S' => 2,
        b'C' | b'L' | b'T' => 3,
        b'D' | b'M' | b'U' => 4,
        b'E' | b'N' | b'V' => 5,
        b'F' | b'W' => 6,
        b'G' | b'P' | b'X' => 7,
        b'H' | b'Y' => 8,
        b'R' | b'Z' => 9,
        _ => 0,
    }
}

fn check_digit_ok(vin: &str) -> bool {
    const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let b = vin.as_bytes();
    let sum: u32 = b.iter().zip(WEIGHTS).map(|(c, w)| transliterate(*c) * w).sum();
    let check = match sum % 11 {
        10 => b'X',
        d => b'0' + d as u8,
    };
    b[8] == check
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digit_or_keyword() {
        let t = "Trade-in: 2014 Honda Accord (VIN 1HGCM82633A004352, about 120k miles)";
        assert_eq!(find_vins(t).len(), 1);
        assert_eq!(find_vins("chassis no. WVWZZZ1JZXW000001 please").len(), 1);
        assert!(find_vins("order ABCDEFGH123456789 shipped").is_empty(), "no keyword, bad check digit");
        assert!(find_vins("ref 12345678901234567").is_empty(), "digits only");
        assert!(find_vins("1HGCM82633A00435").is_empty(), "16 characters");
    }

    /// The scan finds what `\b[A-HJ-NPR-Z0-9]{17}\b` finds, on texts made of VIN characters, other word
    /// characters (ASCII and not: `I`, `a`, `_`, `é`, `ß`, a combining mark, `²` which is numeric but no word
    /// character), spaces and punctuation.
    #[test]
    fn the_scan_finds_what_the_regex_finds() {
        let regex = Regex::new(r"\b[A-HJ-NPR-Z0-9]{17}\b").expect("valid");
        let pieces = [
            "1HGCM82633A004352",
            "WVWZZZ1JZXW00000",
            "A",
            "7",
            "I",
            "a",
            "_",
            "é",
            "ß",
            "\u{301}",
            "²",
            " ",
            "-",
            ".",
            "€",
            "\n",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut found = 0;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..1 + next() % 6 {
                text.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            let expected: Vec<(usize, usize)> = regex.find_iter(&text).map(|m| (m.start(), m.end())).collect();
            assert_eq!(candidates(&text).collect::<Vec<_>>(), expected, "{text:?}");
            found += expected.len();
        }
        assert!(found > 1000, "the texts hold candidates: {found}");
        for text in ["x1HGCM82633A004352", "1HGCM82633A004352é", "é 1HGCM82633A004352 é", "1HGCM82633A004352\u{301}"]
        {
            let expected: Vec<(usize, usize)> = regex.find_iter(text).map(|m| (m.start(), m.end())).collect();
            assert_eq!(candidates(text).collect::<Vec<_>>(), expected, "{text:?}");
        }
    }

    #[test]
    fn the_text_before_a_vin_is_cut_at_a_character_boundary() {
        // 24 bytes before the VIN falls inside an `é` (the fuzz target found it: a panic).
        let t = format!("{} 1HGCM82633A004352", "é".repeat(20));
        assert!(!t.is_char_boundary(t.find('1').expect("vin") - 24));
        assert_eq!(find_vins(&t).len(), 1);
        let keyword = format!("{}Fahrgestellnummer: WVWZZZ1JZXW000001", "€".repeat(3));
        assert_eq!(find_vins(&keyword).len(), 1);
        assert_eq!(find_vins(&format!("€{}", "€ WVWZZZ1JZXW000001")).len(), 0, "no keyword in reach");
    }
}
