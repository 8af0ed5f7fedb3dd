//! The label grammars of `phone_context.rs`, matched in code: a phone label or an identifier label ending right
//! before a number, a phone label right after one. As regexes (with `\p{L}`, Unicode `\s` and case folding) they
//! took ~11 M instructions to compile at every cold start, a quarter of the scrubber's warm-up. Here a label
//! before a number is read from the number backwards, carrying the set of offsets where each part of the grammar
//! can start, so only the few characters that could belong to a label are looked at; nothing is set up. A test
//! compares them with the regexes on generated text.
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
    if !ends_like_a_label(before, &[':', '.', '-', '–']) {
        return false;
    }
    let text = Backwards::new(before);
    // Read from the end: the separator, then each optional part, then the label word.
    let at = text.separator(text.end(), &[':', '.', '-', '–']);
    let at = at | text.spaces(text.words(at, &["at", "on", "to"]), 1);
    let at = at | text.spaces(text.words(at, &["me", "us"]), 1);
    let at = at | text.spaces(text.words(text.optional(at, '.'), PHONE_NUMBER_WORDS), 0);
    let at = text.optional(at, '.');
    let text_me = text.spaces(text.words(at, &["me", "us"]), 1);
    text.starts_word(text.words(at, PHONE_WORDS)) || text.starts_word(text.words(text_me, &["text"]))
}

/// An identifier label ends `before`: an identifier word that does not continue a word, then optionally `.`, a
/// number word (`no.`, `ID`, `#`), and `:`, `.` or `#`, spaced in any way.
pub(super) fn identifier_label_before(before: &str) -> bool {
    if !ends_like_a_label(before, &[':', '.', '#']) {
        return false;
    }
    let text = Backwards::new(before);
    let at = text.separator(text.end(), &[':', '.', '#']);
    let at = at | text.spaces(text.words(text.optional(at, '.'), IDENTIFIER_NUMBER_WORDS), 0);
    text.starts_word(text.words(text.optional(at, '.'), IDENTIFIER_WORDS))
}

/// Whether `before` can end as a label does: a letter, `#` or `.`, then spaces, one of `separators` and spaces.
/// A quick test that most texts before a number fail, before the grammar is read.
fn ends_like_a_label(before: &str, separators: &[char]) -> bool {
    let end = before.trim_end();
    let end = end.strip_suffix(separators).unwrap_or(end).trim_end();
    let end = end.strip_suffix('.').unwrap_or(end);
    end.chars().next_back().is_some_and(|c| c.is_alphabetic() || c == '#')
}

/// A phone label starts `after` (the text after a number): spaces or tabs, optionally `-`, `–` or `(`, spaces or
/// tabs, and a word such as `mobile` or `fax` that is not the start of a longer word.
pub(super) fn phone_label_after(after: &str) -> bool {
    let rest = blanks(after);
    let bracketed = rest.strip_prefix(['-', '–', '(']).map(blanks);
    [Some(rest), bracketed].into_iter().flatten().any(|s| {
        AFTER_WORDS
            .iter()
            .any(|w| starts_with_folded(s, w).is_some_and(|n| !s[n..].chars().next().is_some_and(is_word_char)))
    })
}

fn blanks(s: &str) -> &str {
    s.trim_start_matches([' ', '\t'])
}

/// A character of a word for `\b`: a letter, a decimal digit of any script, `_`, or a zero-width (non-)joiner.
fn is_word_char(c: char) -> bool {
    c.is_alphabetic() || ascii_digit(c).is_some() || matches!(c, '_' | '\u{200c}' | '\u{200d}')
}

/// A text read from its end: each step maps the byte offsets where the rest of a grammar starts to those where
/// the part before it can start. Only the last [`Offsets::CAPACITY`] bytes are read (callers pass 40 characters,
/// 160 bytes at most); a longer text is read from the first character boundary inside them, with the character
/// before that boundary still deciding whether a word starts there (a label further back is not seen).
struct Backwards<'a> {
    text: &'a str,
    /// The character before the part read, when the text was longer.
    before: Option<char>,
}

/// A set of byte offsets below [`Offsets::CAPACITY`].
#[derive(Clone, Copy, Default)]
struct Offsets([u64; 4]);

impl Offsets {
    const CAPACITY: usize = 256;

    fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn iter(self) -> impl Iterator<Item = usize> {
        self.0.into_iter().enumerate().flat_map(|(k, mut bits)| {
            std::iter::from_fn(move || {
                let bit = (bits != 0).then(|| bits.trailing_zeros() as usize)?;
                bits &= bits - 1;
                Some(k * 64 + bit)
            })
        })
    }
}

impl std::ops::BitOr for Offsets {
    type Output = Offsets;

    fn bitor(self, other: Offsets) -> Offsets {
        Offsets(std::array::from_fn(|k| self.0[k] | other.0[k]))
    }
}

impl<'a> Backwards<'a> {
    fn new(text: &'a str) -> Self {
        let mut from = text.len().saturating_sub(Offsets::CAPACITY - 1);
        while !text.is_char_boundary(from) {
            from += 1;
        }
        Self { text: &text[from..], before: text[..from].chars().next_back() }
    }

    /// The end of the text.
    fn end(&self) -> Offsets {
        let mut at = Offsets::default();
        at.insert(self.text.len());
        at
    }

    /// Where one of `words` (lowercase) starts when it ends at one of `at`, ignoring case.
    fn words(&self, at: Offsets, words: &[&str]) -> Offsets {
        let mut out = Offsets::default();
        for e in at.iter() {
            let head = &self.text[..e];
            let Some(last) = head.chars().next_back().map(fold) else {
                continue;
            };
            for w in words.iter().filter(|w| w.ends_with(last)) {
                if let Some(n) = ends_with_folded(head, w) {
                    out.insert(e - n);
                }
            }
        }
        out
    }

    /// `at`, and one character back where `c` stands before.
    fn optional(&self, at: Offsets, c: char) -> Offsets {
        let mut out = at;
        for e in at.iter().filter(|&e| self.text[..e].ends_with(c)) {
            out.insert(e - c.len_utf8());
        }
        out
    }

    /// Where a run of at least `min` white space characters ending at one of `at` can start.
    fn spaces(&self, at: Offsets, min: usize) -> Offsets {
        let mut out = Offsets::default();
        for e in at.iter() {
            let (mut start, mut n) = (e, 0);
            loop {
                if n >= min {
                    out.insert(start);
                }
                match self.text[..start].chars().next_back() {
                    Some(c) if c.is_whitespace() => (start, n) = (start - c.len_utf8(), n + 1),
                    _ => break,
                }
            }
        }
        out
    }

    /// White space, optionally one of `separators`, and white space, ending at one of `at`.
    fn separator(&self, at: Offsets, separators: &[char]) -> Offsets {
        let spaced = self.spaces(at, 0);
        let mut with_separator = spaced;
        for e in spaced.iter() {
            if let Some(c) = self.text[..e].chars().next_back().filter(|c| separators.contains(c)) {
                with_separator.insert(e - c.len_utf8());
            }
        }
        self.spaces(with_separator, 0)
    }

    /// Whether one of `at` starts a word: the text's start, or after a character that is not a letter.
    fn starts_word(&self, at: Offsets) -> bool {
        at.iter().any(|s| !self.text[..s].chars().next_back().or(self.before).is_some_and(char::is_alphabetic))
    }
}

/// The length in bytes of the end of `text` that is `word` (lowercase) ignoring case, if it is.
fn ends_with_folded(text: &str, word: &str) -> Option<usize> {
    let (t, w) = (text.as_bytes(), word.as_bytes());
    if word.is_ascii() {
        // Every character that folds to an ASCII one takes a byte or more; ASCII text folds as ASCII.
        let tail = t.get(t.len().checked_sub(w.len())?..)?;
        if tail.is_ascii() {
            return tail.eq_ignore_ascii_case(w).then_some(w.len());
        }
    }
    let mut chars = text.char_indices().rev();
    let mut start = text.len();
    for wc in word.chars().rev() {
        let (i, c) = chars.next()?;
        if fold(c) != wc {
            return None;
        }
        start = i;
    }
    Some(text.len() - start)
}

/// The length in bytes of the start of `text` that is `word` (lowercase) ignoring case, if it is.
pub(super) fn starts_with_folded(text: &str, word: &str) -> Option<usize> {
    let (t, w) = (text.as_bytes(), word.as_bytes());
    if word.is_ascii() {
        // Every character that folds to an ASCII one takes a byte or more; ASCII text folds as ASCII.
        let head = t.get(..w.len())?;
        if head.is_ascii() {
            return head.eq_ignore_ascii_case(w).then_some(w.len());
        }
    }
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
        // Longer texts than callers pass are read from their end (and cut at a character boundary).
        assert!(phone_label_before(&format!("{} Phone: ", "x".repeat(300))));
        assert!(!phone_label_before(&format!("{}Phone: ", "é".repeat(200))));
        assert!(!phone_label_before(&format!("x{}Phone: ", "é".repeat(200))), "cut inside a character");
        assert!(!phone_label_before(&format!("Hotel{}:", " ".repeat(251))), "a word start at the cut");
        assert!(identifier_label_before(&format!("{}\tOrder #", "ab ".repeat(100))));
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
