//! Vehicle identification numbers in free text: a customer's trade-in VIN identifies its owner. 17 characters
//! of the VIN alphabet (no I, O, Q), accepted when the ISO 3779 / North-American check digit (position 9) is
//! valid, or when a keyword (`VIN`, `FIN`, `chassis`, `Fahrgestell`) stands just before it.

use regex::Regex;
use std::sync::LazyLock;

static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b[A-HJ-NPR-Z0-9]{17}\b").expect("static regex"));
static KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(vin|fin|chassis|fahrgestell\w*)\b(\W{0,3}(no|nr|number|nummer|#))?\W{0,6}$")
        .expect("static regex")
});

/// Compiles the candidate pattern now (see `Anonymizer::warm_up`). The keyword pattern (~0.6 MB and ~3 ms to
/// compile: its `\w` and `\W` are Unicode classes) is compiled on first use, when a candidate fails its check
/// digit, which most mail never has.
pub(super) fn warm_up() {
    LazyLock::force(&CANDIDATE);
}

/// Byte ranges of VINs in `text`.
pub fn find_vins(text: &str) -> Vec<(usize, usize)> {
    CANDIDATE
        .find_iter(text)
        .filter(|m| {
            let v = m.as_str();
            let digits = v.bytes().filter(u8::is_ascii_digit).count();
            let letters = v.len() - digits;
            if digits < 3 || letters < 1 {
                return false;
            }
            // Up to 24 bytes before it, from a character boundary.
            let from = (m.start().saturating_sub(24)..m.start()).find(|&i| text.is_char_boundary(i));
            let before = from.map_or("", |from| &text[from..m.start()]);
            check_digit_ok(v) || KEYWORD.is_match(before)
        })
        .map(|m| (m.start(), m.end()))
        .collect()
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
