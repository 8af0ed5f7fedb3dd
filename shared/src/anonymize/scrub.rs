//! The free-text scrubber: replaces PII in comments and subjects with typed tokens (`[EMAIL:p1_...]`,
//! `[PHONE:p1_...]`, `[CARD]`, `[VIN]`, ...). Two sources of hits: the pattern [`detect::Detector`]s (plus
//! vehicle identification numbers), and the
//! mail's own extracted PII values (names and street addresses have no pattern, but we know them), searched
//! case-insensitively and tolerant of whitespace and punctuation differences.

use super::detect::digits::{as_ascii, ascii_digit};
use super::detect::phone_metadata::METADATA;
use super::detect::{Detection, Detector, EntityKind};
use super::pseudonym::{canonical, Pseudonymizer};
use crate::extraction::ExtractedField;
use crate::fields::{FieldValue, PiiClass};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Separator tolerance between the words of a known value: up to three non-alphanumeric characters.
const WORD_GAP: usize = 3;
/// Separator tolerance between the digit groups of a phone, card or id number.
const DIGIT_GAP: usize = 2;

/// Longest free text that is scrubbed; longer text is replaced whole.
pub const MAX_SCRUB_BYTES: usize = 32 * 1024;

/// Detections below this confidence are not replaced: a bare `::` read as an IPv6 address (0.1) would only
/// damage the text. Bare nine-digit SSNs (0.3) and label-backed phone fallbacks (0.5) are still replaced.
const MIN_CONFIDENCE: f32 = 0.25;

/// Known values shorter than this (alphanumeric characters) are not searched: too many false hits.
const MIN_KNOWN_CHARS: usize = 3;

/// A mail's own PII values, prepared for searching its free text. Matching works on alphanumeric tokens
/// (case-insensitive), so no per-mail regex has to be compiled.
#[derive(Debug, Default)]
pub struct KnownValues {
    values: Vec<KnownValue>,
}

#[derive(Debug)]
struct KnownValue {
    class: PiiClass,
    canonical: String,
    /// Lowercased words; for digit classes a single string of all digits.
    words: Vec<String>,
    digits: bool,
}

impl KnownValues {
    /// Prepares every personal field of an extraction (free text itself excluded): the text as found, the
    /// normalised value, and for names each word of three letters or more.
    pub fn from_fields(fields: &[ExtractedField]) -> Self {
        let mut out = Self::default();
        for f in fields.iter().filter(|f| f.pii.is_personal() && f.pii != PiiClass::FreeText) {
            let normalized = f.value.to_string();
            let key = canonical(f.pii, &normalized);
            let mut variants = vec![f.raw.clone(), normalized.clone()];
            if f.pii == PiiClass::Name {
                variants.extend(
                    f.raw.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 3).map(str::to_string),
                );
            }
            if let (PiiClass::Phone, FieldValue::Text(number)) = (f.pii, &f.value) {
                // An E.164 value from a phone field, or a text field marked as a phone ("+49 30 901820").
                let compact: String =
                    number.chars().map(as_ascii).filter(|c| *c == '+' || c.is_ascii_digit()).collect();
                variants.extend(METADATA.national_of_e164(&compact).map(str::to_string));
            }
            let digits = matches!(f.pii, PiiClass::Phone | PiiClass::PaymentCard | PiiClass::IdNumber);
            for v in variants {
                let words: Vec<String> = if digits {
                    vec![v.chars().filter_map(ascii_digit).collect()]
                } else {
                    tokens(&v).into_iter().map(|t| t.lower.into_owned()).collect()
                };
                // What is searched counts, not the value: an ID `AB-1` is searched as the digit `1`.
                let searched: usize = words.iter().map(|w| w.chars().filter(|c| c.is_alphanumeric()).count()).sum();
                if searched < MIN_KNOWN_CHARS || out.values.iter().any(|k| k.words == words && k.class == f.pii) {
                    continue;
                }
                out.values.push(KnownValue { class: f.pii, canonical: key.clone(), words, digits });
            }
        }
        out
    }

    /// Byte ranges in `text` where each known value occurs.
    fn find<'a>(&'a self, text: &str) -> Vec<(usize, usize, &'a KnownValue)> {
        let toks = tokens(text);
        let mut hits = Vec::new();
        for kv in &self.values {
            for i in 0..toks.len() {
                let end = if kv.digits {
                    match_digits(text, &toks, i, &kv.words[0])
                } else {
                    match_words(text, &toks, i, &kv.words)
                };
                if let Some(end) = end {
                    hits.push((toks[i].start, end, kv));
                }
            }
        }
        hits
    }
}

/// An alphanumeric run of a text, lowercased (borrowed from the text when every char lowercases to itself), with
/// its byte range.
struct Token<'a> {
    start: usize,
    end: usize,
    lower: Cow<'a, str>,
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let run = &text[s..i];
                let lower = if run.chars().all(lowercases_to_itself) {
                    Cow::Borrowed(run)
                } else {
                    Cow::Owned(run.to_lowercase())
                };
                out.push(Token { start: s, end: i, lower });
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// `c.to_lowercase()` is `c` itself (title-case letters such as `ǅ` are not upper case, but do change).
fn lowercases_to_itself(c: char) -> bool {
    if c.is_ascii() {
        return !c.is_ascii_uppercase();
    }
    let mut lower = c.to_lowercase();
    lower.next() == Some(c) && lower.next().is_none()
}

/// The gap between two tokens is short enough (counted in characters).
fn gap_ok(text: &str, from: usize, to: usize, max: usize) -> bool {
    text[from..to].chars().count() <= max
}

fn match_words(text: &str, toks: &[Token<'_>], i: usize, words: &[String]) -> Option<usize> {
    let run = toks.get(i..i + words.len())?;
    let same = run.iter().zip(words).all(|(t, w)| t.lower == w.as_str());
    let close = run.windows(2).all(|p| gap_ok(text, p[0].end, p[1].start, WORD_GAP));
    (same && close).then(|| run.last().map_or(0, |t| t.end))
}

/// Digit groups starting at token `i` that spell exactly `digits` (separators of up to two characters allowed).
fn match_digits(text: &str, toks: &[Token<'_>], i: usize, digits: &str) -> Option<usize> {
    let mut acc = String::new();
    let mut j = i;
    while let Some(t) = toks.get(j) {
        // Digits of any script (`٤٢` spells `42`).
        let ascii = t.lower.bytes().all(|b| b.is_ascii_digit());
        if !(ascii || t.lower.chars().all(|c| ascii_digit(c).is_some()))
            || (j > i && !gap_ok(text, toks[j - 1].end, t.start, DIGIT_GAP))
        {
            return None;
        }
        if ascii {
            acc.push_str(&t.lower);
        } else {
            acc.extend(t.lower.chars().filter_map(ascii_digit));
        }
        if acc == digits {
            return Some(t.end);
        }
        if !digits.starts_with(&acc) {
            return None;
        }
        j += 1;
    }
    None
}

/// A scrubbed text and what was replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scrubbed {
    /// The text with every hit replaced by its token.
    pub text: String,
    /// Replacements by kind (`email`, `phone`, `payment_card`, `name`, ...).
    pub counts: BTreeMap<String, u32>,
}

/// Finds and replaces PII in free text.
#[derive(Debug)]
pub struct Scrubber {
    detector: Detector,
}

struct Hit {
    start: usize,
    end: usize,
    confidence: f32,
    order: u8,
    kind: &'static str,
    token: String,
}

impl Scrubber {
    /// A scrubber using `detector` for pattern PII.
    pub fn new(detector: Detector) -> Self {
        Self { detector }
    }

    /// Replaces every PII hit in `text`. Overlapping hits are resolved deterministically: the longest wins,
    /// then the highest confidence, then known values before patterns, then the earliest.
    /// Text over [`MAX_SCRUB_BYTES`] is replaced whole by `[OVERSIZE]`: nobody writes a lead comment that long,
    /// and scrubbing it would cost more time than a mail may take.
    pub fn scrub(&self, text: &str, known: &KnownValues, pseudonyms: &Pseudonymizer) -> Scrubbed {
        if text.len() > MAX_SCRUB_BYTES {
            return Scrubbed { text: "[OVERSIZE]".into(), counts: [("oversize".to_string(), 1)].into_iter().collect() };
        }
        let mut hits: Vec<Hit> = self
            .detector
            .detect(text)
            .into_iter()
            .filter(|d| d.confidence >= MIN_CONFIDENCE)
            .map(|d| detection_hit(d, pseudonyms))
            .collect();
        for (start, end) in super::vin::find_vins(text) {
            hits.push(Hit { start, end, confidence: 0.9, order: 1, kind: "vin", token: "[VIN]".into() });
        }
        for (start, end, kv) in known.find(text) {
            hits.push(Hit {
                start,
                end,
                confidence: 1.0,
                order: 0,
                kind: kv.class.as_str(),
                token: class_token(kv.class, &kv.canonical, pseudonyms),
            });
        }
        hits.sort_by(|a, b| {
            (b.end - b.start)
                .cmp(&(a.end - a.start))
                .then(b.confidence.total_cmp(&a.confidence))
                .then(a.order.cmp(&b.order))
                .then(a.start.cmp(&b.start))
        });
        let mut chosen: Vec<Hit> = Vec::new();
        for h in hits {
            if chosen.iter().all(|c| h.end <= c.start || h.start >= c.end) {
                chosen.push(h);
            }
        }
        chosen.sort_by_key(|h| h.start);
        let mut out = String::with_capacity(text.len());
        let mut counts = BTreeMap::new();
        let mut pos = 0;
        for h in chosen {
            out.push_str(&text[pos..h.start]);
            out.push_str(&h.token);
            pos = h.end;
            *counts.entry(h.kind.to_string()).or_insert(0) += 1;
        }
        out.push_str(&text[pos..]);
        Scrubbed { text: out, counts }
    }
}

fn detection_hit(d: Detection, pseudonyms: &Pseudonymizer) -> Hit {
    let token = match d.kind {
        EntityKind::Email => format!("[EMAIL:{}]", pseudonyms.pseudonym(PiiClass::Email, &d.normalized)),
        EntityKind::Phone => {
            format!("[PHONE:{}]", pseudonyms.pseudonym(PiiClass::Phone, &canonical(PiiClass::Phone, &d.normalized)))
        }
        EntityKind::PaymentCard => "[CARD]".into(),
        EntityKind::Iban => "[IBAN]".into(),
        EntityKind::Ip => "[IP]".into(),
        EntityKind::UsSsn => "[SSN]".into(),
        EntityKind::Url => "[URL]".into(),
    };
    Hit { start: d.start, end: d.end, confidence: d.confidence, order: 1, kind: d.kind.as_str(), token }
}

/// The token for a known value: identifying classes carry their pseudonym so comments join with fields.
fn class_token(class: PiiClass, canonical_value: &str, pseudonyms: &Pseudonymizer) -> String {
    let label = class.as_str().to_uppercase();
    match class {
        PiiClass::Name | PiiClass::Email | PiiClass::Phone | PiiClass::Address => {
            format!("[{label}:{}]", pseudonyms.pseudonym(class, canonical_value))
        }
        _ => format!("[{label}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anonymize::detect::DetectorConfig;
    use crate::anonymize::PseudonymKey;
    use crate::fields::FieldType;

    fn field(name: &str, pii: PiiClass, value: &str, raw: &str) -> ExtractedField {
        ExtractedField {
            name: name.into(),
            field_type: FieldType::String,
            pii,
            value: FieldValue::Text(value.into()),
            raw: raw.into(),
        }
    }

    fn setup() -> (Scrubber, Pseudonymizer) {
        let key = PseudonymKey::new("test-scrub", vec![3; 32]).expect("key");
        (Scrubber::new(Detector::new(DetectorConfig::default())), Pseudonymizer::new(key))
    }

    #[test]
    fn known_values_are_found_despite_case_spacing_and_punctuation() {
        let (s, p) = setup();
        let known = KnownValues::from_fields(&[
            field("name", PiiClass::Name, "Jane Q. Doe", "Jane Q. Doe"),
            field("phone", PiiClass::Phone, "+12125550142", "(212) 555-0142"),
            field("street", PiiClass::Address, "12 Main St", "12 Main St"),
        ]);
        let out =
            s.scrub("JANE  Q DOE here; ring 212.555.0142; I live at 12 main st., Springfield. Doe family", &known, &p);
        let name = p.pseudonym(PiiClass::Name, "jane q. doe");
        assert!(out.text.starts_with(&format!("[NAME:{name}] here")), "{}", out.text);
        assert!(out.text.contains("ring [PHONE:"), "{}", out.text);
        assert!(out.text.contains("at [ADDRESS:"), "{}", out.text);
        assert!(!out.text.contains("Doe"), "{}", out.text);
        assert!(!out.text.to_lowercase().contains("main st"), "{}", out.text);
        assert_eq!(out.counts.get("name"), Some(&2));
    }

    #[test]
    fn a_known_phone_is_found_in_its_national_digits_leading_zero_included() {
        let known = KnownValues::from_fields(&[field("phone", PiiClass::Phone, "+390612345678", "+39 06 1234 5678")]);
        let text = "chiamare 06 1234 5678 oppure 612345678";
        let hits: Vec<&str> = known.find(text).into_iter().map(|(start, end, _)| &text[start..end]).collect();
        assert_eq!(hits, vec!["06 1234 5678"], "the national number is 0612345678, not 612345678");
        // A text field marked as a phone keeps its spaces; its national digits are found all the same.
        let known =
            KnownValues::from_fields(&[field("phone", PiiClass::Phone, "+39 06 1234 5678", "+39 06 1234 5678")]);
        let hits: Vec<&str> = known.find(text).into_iter().map(|(start, end, _)| &text[start..end]).collect();
        assert_eq!(hits, vec!["06 1234 5678"]);
    }

    #[test]
    fn the_same_email_gets_the_same_token_as_its_field() {
        let (s, p) = setup();
        let known =
            KnownValues::from_fields(&[field("email", PiiClass::Email, "jane@example.net", "Jane@Example.net")]);
        let out = s.scrub("write to jane@example.net or JANE@EXAMPLE.NET", &known, &p);
        let token = format!("[EMAIL:{}]", p.pseudonym(PiiClass::Email, "jane@example.net"));
        assert_eq!(out.text, format!("write to {token} or {token}"));
    }

    #[test]
    fn known_numbers_are_found_in_the_digits_of_any_script() {
        let (s, p) = setup();
        // An ID in Eastern Arabic-Indic digits, in its field and in the comment in ASCII, and the other way round:
        // no pattern detector finds IDs, so only the known value keeps them out of the text.
        for (raw, written) in [("٤٧١١٠٨١٥", "4711 0815"), ("47110815", "٤٧١١ ٠٨١٥")] {
            let known = KnownValues::from_fields(&[field("customer_id", PiiClass::IdNumber, raw, raw)]);
            let out = s.scrub(&format!("my customer number is {written}, thanks"), &known, &p);
            assert_eq!(out.text, "my customer number is [ID_NUMBER], thanks", "{raw} / {written}");
        }
        // Two IDs in Arabic digits are two pseudonyms (they were one: the canonical form kept ASCII digits only).
        let (a, b) = (canonical(PiiClass::IdNumber, "٤٧١١"), canonical(PiiClass::IdNumber, "٠٨١٥"));
        assert_eq!((a.as_str(), b.as_str()), ("4711", "0815"));
        assert_eq!(canonical(PiiClass::Phone, "+٤٩ ٣٠ ٩٠١٨٢٠"), "+4930901820");
        assert_eq!(canonical(PiiClass::Phone, "＋٤٩ ٣٠ ٩٠١٨٢٠"), "+4930901820");
        // A phone text field in such digits: the comment's number gets the field's token.
        let known = KnownValues::from_fields(&[field("phone", PiiClass::Phone, "＋٤٩ ٣٠ ٩٠١٨٢٠", "＋٤٩ ٣٠ ٩٠١٨٢٠")]);
        let out = s.scrub("call ＋٤٩ ٣٠ ٩٠١٨٢٠ or 030 901820", &known, &p);
        let token = format!("[PHONE:{}]", p.pseudonym(PiiClass::Phone, "+4930901820"));
        assert_eq!(out.text, format!("call {token} or {token}"));
    }

    #[test]
    fn short_numbers_are_not_searched_whatever_their_letters() {
        let (s, p) = setup();
        // The digit classes search digits only: `AB-1` would have turned every `1` of the comment into the ID.
        let known = KnownValues::from_fields(&[
            field("customer_id", PiiClass::IdNumber, "AB-1", "AB-1"),
            field("ref", PiiClass::IdNumber, "X-123", "X-123"),
        ]);
        let out = s.scrub("I have 1 dog; ref 123", &known, &p);
        assert_eq!(out.text, "I have 1 dog; ref [ID_NUMBER]");
    }

    #[test]
    fn patterns_without_known_values_and_overlaps() {
        let (s, p) = setup();
        let out = s.scrub(
            "card 4111 1111 1111 1111, see https://cars.example/l?u=sam@example.org now, VIN 1HGCM82633A004352",
            &KnownValues::default(),
            &p,
        );
        assert_eq!(out.text, "card [CARD], see [URL] now, VIN [VIN]");
        assert_eq!(out.counts.get("url"), Some(&1));
        assert!(!out.counts.contains_key("email"), "the URL containing the address wins as the longer hit");
    }

    #[test]
    fn oversize_text_is_replaced_whole() {
        let (s, p) = setup();
        let out = s.scrub(&"call 212-555-0142 ".repeat(4000), &KnownValues::default(), &p);
        assert_eq!(out.text, "[OVERSIZE]");
        assert_eq!(out.counts.get("oversize"), Some(&1));
    }

    #[test]
    fn tokens_are_lowercased_like_the_whole_run() {
        for run in ["jane", "Jane", "DOE", "0612", "ǅemal", "ÀÉÎ", "straße", "İstanbul", "ΣΟΦΙΑ"] {
            let toks = tokens(run);
            assert_eq!(toks.len(), 1, "{run}");
            assert_eq!(toks[0].lower, run.to_lowercase(), "{run}");
            assert_eq!(matches!(toks[0].lower, Cow::Borrowed(_)), run == run.to_lowercase(), "{run}");
        }
    }

    #[test]
    fn text_without_pii_is_unchanged() {
        let (s, p) = setup();
        let text = "Is the car still available on Saturday at 10? Price 24,995 is fine. Order #4711.";
        assert_eq!(s.scrub(text, &KnownValues::default(), &p).text, text);
    }
}
