//! The label grammars of `phone_context.rs`, matched in code: a phone label or an identifier label ending right
//! before a number, a phone label right after one. As regexes (with `\p{L}`, Unicode `\s` and case folding) they
//! took ~11 M instructions to compile at every cold start, a quarter of the scrubber's warm-up; read here, by
//! carrying the set of positions each part of the grammar can end at, they cost nothing to set up and read at
//! most 40 characters before a number. A test compares them with the regexes on generated text.
//!
//! Letters are `char::is_alphabetic` (the regexes' `\p{L}`, plus letter-like marks and numerals), word characters
//! letters, decimal digits, `_` and the zero-width joiners (`\w` also has the other marks and connectors); spaces
//! are `char::is_whitespace` (Unicode `White_Space`, as the regexes' `\s`).

use super::digits::ascii_digit;

/// Words that mark the number after them as a phone number, lowercase; `text me` / `text us` are read apart.
const PHONE_WORDS: &[&str] = &[
    "phone",
    "telephone",
    "tel",
    "ph",
    "mobile",
    "mob",
    "cell",
    "cellphone",
    "fax",
    "call",
    "whatsapp",
    "sms",
    "handy",
    "mobil",
    "telefon",
    "telefono",
    "teléfono",
    "téléphone",
    "tél",
    "portable",
    "móvil",
    "movil",
    "cellulare",
    "gsm",
    "telefoonnummer",
    "telefoon",
];

/// Words after a phone label that ask for a number: `Phone number`, `Tel. no.`, `Mobile #`.
const PHONE_NUMBER_WORDS: &[&str] = &["number", "num", "no", "nr", "#"];

/// Words that mark the number after them as an identifier.
const IDENTIFIER_WORDS: &[&str] = &[
    "id",
    "ref",
    "reference",
    "order",
    "invoice",
    "ticket",
    "tracking",
    "case",
    "booking",
    "reservation",
    "confirmation",
    "transaction",
    "serial",
    "sku",
    "listing",
    "lead",
    "item",
    "account",
    "acct",
    "customer",
    "kundennummer",
    "bestellnummer",
    "auftrag",
    "rechnung",
    "commande",
    "facture",
    "référence",
    "pedido",
    "factura",
];

/// Words after an identifier label: `Order number`, `Lead ID`, `Invoice no.`.
const IDENTIFIER_NUMBER_WORDS: &[&str] = &["number", "num", "no", "nr", "id", "#"];

/// Words right after a number that make it a phone number: `(mobile)`, `- Office`.
const AFTER_WORDS: &[&str] =
    &["phone", "tel", "mobile", "mob", "cell", "fax", "office", "home", "work", "direct", "landline"];

/// A phone label ends `before` (the text before a number, up to the number): a phone word that does not continue
/// a word, then optionally `.`, a number word (`no.`, `#`), `me`/`us`, `at`/`on`/`to`, and `:`, `.`, `-` or `–`,
/// spaced in any way.
pub(super) fn phone_label_before(before: &str) -> bool {
    let text = Positions::new(before);
    let starts = text.word_starts();
    let mut at = text.words(&starts, PHONE_WORDS);
    at.extend(text.words(&text.spaces(&text.words(&starts, &["text"]), 1), &["me", "us"]));
    let at = text.optional(&at, &['.']);
    let mut at = at.clone().union(text.optional(&text.words(&text.spaces(&at, 0), PHONE_NUMBER_WORDS), &['.']));
    at = at.clone().union(text.words(&text.spaces(&at, 1), &["me", "us"]));
    at = at.clone().union(text.words(&text.spaces(&at, 1), &["at", "on", "to"]));
    text.ends_with_separator(&at, &[':', '.', '-', '–'])
}

/// An identifier label ends `before`: an identifier word that does not continue a word, then optionally `.`, a
/// number word (`no.`, `ID`, `#`), and `:`, `.` or `#`, spaced in any way.
pub(super) fn identifier_label_before(before: &str) -> bool {
    let text = Positions::new(before);
    let at = text.optional(&text.words(&text.word_starts(), IDENTIFIER_WORDS), &['.']);
    let at = at.clone().union(text.optional(&text.words(&text.spaces(&at, 0), IDENTIFIER_NUMBER_WORDS), &['.']));
    text.ends_with_separator(&at, &[':', '.', '#'])
}

/// A phone label starts `after` (the text after a number): spaces or tabs, optionally `-`, `–` or `(`, spaces or
/// tabs, and a word such as `mobile` or `fax` that is not the start of a longer word.
pub(super) fn phone_label_after(after: &str) -> bool {
    let text = Positions::new(after);
    let blanks = |at: &Vec<usize>| text.repeat(at, 0, |c| c == ' ' || c == '\t');
    let at = blanks(&text.optional(&blanks(&vec![0]), &['-', '–', '(']));
    text.words(&at, AFTER_WORDS).into_iter().any(|end| !after[end..].chars().next().is_some_and(is_word_char))
}

/// A character of a word for `\b`: a letter, a decimal digit of any script, `_`, or a zero-width (non-)joiner.
fn is_word_char(c: char) -> bool {
    c.is_alphabetic() || ascii_digit(c).is_some() || matches!(c, '_' | '\u{200c}' | '\u{200d}')
}

/// A text and the sets of byte offsets that a part of a grammar can end at (sorted, without repeats).
struct Positions<'a> {
    text: &'a str,
}

/// Sorts and removes repeats.
trait Union {
    fn union(self, other: Vec<usize>) -> Vec<usize>;
}

impl Union for Vec<usize> {
    fn union(mut self, other: Vec<usize>) -> Vec<usize> {
        self.extend(other);
        self.sort_unstable();
        self.dedup();
        self
    }
}

impl<'a> Positions<'a> {
    fn new(text: &'a str) -> Self {
        Self { text }
    }

    /// Where a word can start: at the start, or after a character that is not a letter.
    fn word_starts(&self) -> Vec<usize> {
        let mut prev_letter = false;
        let mut out = Vec::new();
        for (i, c) in self.text.char_indices() {
            if !prev_letter {
                out.push(i);
            }
            prev_letter = c.is_alphabetic();
        }
        out
    }

    /// Where one of `words` (lowercase) ends when it starts at one of `at`, ignoring case.
    fn words(&self, at: &[usize], words: &[&str]) -> Vec<usize> {
        let mut out = Vec::new();
        for &p in at {
            out.extend(words.iter().filter_map(|w| p.checked_add(starts_with_folded(&self.text[p..], w)?)));
        }
        Vec::new().union(out)
    }

    /// `at`, and one character of `chars` further where one follows.
    fn optional(&self, at: &[usize], chars: &[char]) -> Vec<usize> {
        let further = at.iter().filter_map(|&p| {
            let c = self.text[p..].chars().next().filter(|c| chars.contains(c))?;
            Some(p + c.len_utf8())
        });
        let further: Vec<usize> = further.collect();
        at.to_vec().union(further)
    }

    /// Where a run of at least `min` white space characters starting at one of `at` can end.
    fn spaces(&self, at: &[usize], min: usize) -> Vec<usize> {
        self.repeat(at, min, char::is_whitespace)
    }

    /// Where a run of at least `min` characters for which `class` holds, starting at one of `at`, can end.
    fn repeat(&self, at: &[usize], min: usize, class: impl Fn(char) -> bool) -> Vec<usize> {
        let mut out = Vec::new();
        for &p in at {
            let (mut end, mut n) = (p, 0);
            loop {
                if n >= min {
                    out.push(end);
                }
                match self.text[end..].chars().next() {
                    Some(c) if class(c) => (end, n) = (end + c.len_utf8(), n + 1),
                    _ => break,
                }
            }
        }
        Vec::new().union(out)
    }

    /// Whether white space, optionally one of `separators`, and white space can reach the end from one of `at`.
    fn ends_with_separator(&self, at: &[usize], separators: &[char]) -> bool {
        let at = self.spaces(&self.optional(&self.spaces(at, 0), separators), 0);
        at.last() == Some(&self.text.len())
    }
}

/// The length in bytes of the start of `text` that is `word` (lowercase) ignoring case, if it is.
pub(super) fn starts_with_folded(text: &str, word: &str) -> Option<usize> {
    let mut chars = text.char_indices();
    for w in word.chars() {
        let (_, c) = chars.next()?;
        if fold(c) != w {
            return None;
        }
    }
    Some(chars.next().map_or(text.len(), |(i, _)| i))
}

/// `c` lowercase, as case-insensitive matching compares it (the Kelvin sign is a `k`, the long s an `s`).
fn fold(c: char) -> char {
    match c {
        'ſ' => 's',
        _ => {
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) => l,
                _ => c,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    /// The grammars as the regexes they replace.
    const LABEL_BEFORE: &str = r"(?ix)
        (?:^|[^\p{L}])
        (?: phone | telephone | tel | ph | mobile | mob | cell | cellphone | fax | call | text \s+ (?: me | us )
          | whatsapp | sms
          | handy | mobil | telefon | telefono | teléfono | téléphone | tél | portable | móvil | movil | cellulare
          | gsm | telefoonnummer | telefoon )
        \.?
        (?: \s* (?: number | num | no | nr | \# ) \.? )?
        (?: \s+ (?: me | us ) )?
        (?: \s+ (?: at | on | to ) )?
        \s* [:.\-–]? \s*
        $";
    const LABEL_AFTER: &str =
        r"(?i)^[ \t]*[-–(]?[ \t]*(?:phone|tel|mobile|mob|cell|fax|office|home|work|direct|landline)\b";
    const IDENTIFIER_BEFORE: &str = r"(?ix)
        (?:^|[^\p{L}])
        (?: id | ref | reference | order | invoice | ticket | tracking | case | booking | reservation
          | confirmation | transaction | serial | sku | listing | lead | item | account | acct | customer
          | kundennummer | bestellnummer | auftrag | rechnung | commande | facture | référence | pedido | factura )
        \.?
        (?: \s* (?: number | num | no | nr | id | \# ) \.? )?
        \s* [:.\#]? \s*
        $";

    #[test]
    fn labels() {
        for text in ["Phone: ", "Tel. ", "Mobile no.: ", "call me on ", "Telefon:\n", "Fax - ", "TÉLÉPHONE : "] {
            assert!(phone_label_before(text), "{text:?}");
        }
        for text in ["Hotel ", "see text ", "Phone: 12 ", "telephones "] {
            assert!(!phone_label_before(text), "{text:?}");
        }
        for text in ["Order #", "Lead ID: ", "Ref. ", "Invoice no. ", "Listing ", "ESMTP id ", "Référence : "] {
            assert!(identifier_label_before(text), "{text:?}");
        }
        assert!(!identifier_label_before("Customer phone: ") && !identifier_label_before("Valid "));
        assert!(phone_label_after(" (mobile)") && phone_label_after("\t- Office hours") && phone_label_after("fax"));
        assert!(!phone_label_after(" (telephone)") && !phone_label_after("  homework") && !phone_label_after("\nfax"));
    }

    /// The grammars read generated text as the regexes did: fragments of labels, near misses, case variants,
    /// separators, accents and other scripts, joined at random.
    #[test]
    fn same_answers_as_the_regexes() {
        let (before, after, identifier) = (
            Regex::new(LABEL_BEFORE).unwrap(),
            Regex::new(LABEL_AFTER).unwrap(),
            Regex::new(IDENTIFIER_BEFORE).unwrap(),
        );
        let pieces = [
            "phone",
            "Phone",
            "PHONE",
            "tel",
            "Tel",
            "téléphone",
            "TÉLÉPHONE",
            "Teléfono",
            "tél",
            "móvil",
            "MÓVIL",
            "mobile",
            "mob",
            "cell",
            "cellphone",
            "fax",
            "call",
            "text",
            "me",
            "us",
            "at",
            "on",
            "to",
            "number",
            "no",
            "No",
            "nr",
            "#",
            "num",
            "whatsapp",
            "sms",
            "handy",
            "gsm",
            "telefoon",
            "telefoonnummer",
            "order",
            "Order",
            "id",
            "ID",
            "ref",
            "Ref",
            "reference",
            "référence",
            "lead",
            "invoice",
            "listing",
            "customer",
            "office",
            "home",
            "work",
            "direct",
            "landline",
            "homework",
            "hotel",
            "x",
            "é",
            "ß",
            "K",
            "ſms",
            "日本",
            "_",
            "1",
            "42",
            " ",
            " ",
            "  ",
            "\t",
            "\n",
            "\u{a0}",
            "\u{2009}",
            ".",
            ":",
            "-",
            "–",
            "(",
            ")",
            ",",
            "/",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let (mut phone_hits, mut identifier_hits, mut after_hits) = (0, 0, 0);
        for _ in 0..200_000 {
            let len = 1 + next(7);
            let text: String = (0..len).map(|_| pieces[next(pieces.len())]).collect();
            assert_eq!(phone_label_before(&text), before.is_match(&text), "before {text:?}");
            assert_eq!(identifier_label_before(&text), identifier.is_match(&text), "identifier {text:?}");
            assert_eq!(phone_label_after(&text), after.is_match(&text), "after {text:?}");
            phone_hits += usize::from(before.is_match(&text));
            identifier_hits += usize::from(identifier.is_match(&text));
            after_hits += usize::from(after.is_match(&text));
        }
        // Not a vacuous comparison: each grammar matched often.
        assert!(
            phone_hits > 5_000 && identifier_hits > 5_000 && after_hits > 5_000,
            "{phone_hits} {identifier_hits} {after_hits}"
        );
    }
}
