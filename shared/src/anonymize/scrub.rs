//! The free-text scrubber: replaces PII in comments and subjects with typed tokens (`[EMAIL:p1_...]`,
//! `[PHONE:p1_...]`, `[CARD]`, `[VIN]`, ...). Two sources of hits: the pattern [`detect::Detector`]s (plus
//! vehicle identification numbers), and the
//! mail's own extracted PII values (names and street addresses have no pattern, but we know them), searched
//! case-insensitively and tolerant of whitespace and punctuation differences.

use super::detect::{Detection, Detector, EntityKind};
use super::pseudonym::{canonical, Pseudonymizer};
use crate::extraction::ExtractedField;
use crate::fields::{FieldValue, PiiClass};
use regex::{Regex, RegexBuilder};
use std::collections::BTreeMap;

/// Separator tolerance between the tokens of a known value: up to three non-alphanumeric characters.
const GAP: &str = r"[^\p{L}\p{N}]{0,3}";

/// Known values shorter than this (alphanumeric characters) are not searched: too many false hits.
const MIN_KNOWN_CHARS: usize = 3;

/// A mail's own PII values, compiled for searching its free text.
#[derive(Debug, Default)]
pub struct KnownValues {
    values: Vec<KnownValue>,
}

#[derive(Debug)]
struct KnownValue {
    class: PiiClass,
    canonical: String,
    pattern: Regex,
}

impl KnownValues {
    /// Compiles search patterns for every personal field of an extraction (free text itself excluded):
    /// the text as found, the normalised value, and for names each word of three letters or more.
    pub fn from_fields(fields: &[ExtractedField]) -> Self {
        let mut out = Self::default();
        for f in fields
            .iter()
            .filter(|f| f.pii.is_personal() && f.pii != PiiClass::FreeText)
        {
            let normalized = f.value.to_string();
            let key = canonical(f.pii, &normalized);
            let mut variants = vec![f.raw.clone(), normalized.clone()];
            if f.pii == PiiClass::Name {
                variants.extend(
                    f.raw
                        .split(|c: char| !c.is_alphanumeric())
                        .filter(|w| w.chars().count() >= 3)
                        .map(str::to_string),
                );
            }
            if let (PiiClass::Phone, FieldValue::Text(e164)) = (f.pii, &f.value) {
                if let Ok(n) = phonenumber::parse(None, e164) {
                    variants.push(n.national().value().to_string());
                }
            }
            for v in variants {
                if let Some(pattern) = pattern_for(f.pii, &v) {
                    out.values.push(KnownValue {
                        class: f.pii,
                        canonical: key.clone(),
                        pattern,
                    });
                }
            }
        }
        out
    }
}

/// A tolerant pattern for a value: its alphanumeric runs in order, separated by any short punctuation; digit
/// classes (phones, cards, ids) tolerate separators between every digit.
fn pattern_for(class: PiiClass, value: &str) -> Option<Regex> {
    let alnum = value.chars().filter(|c| c.is_alphanumeric()).count();
    if alnum < MIN_KNOWN_CHARS {
        return None;
    }
    let digit_class = matches!(
        class,
        PiiClass::Phone | PiiClass::PaymentCard | PiiClass::IdNumber
    );
    let parts: Vec<String> = if digit_class {
        value
            .chars()
            .filter(char::is_ascii_digit)
            .map(|c| c.to_string())
            .collect()
    } else {
        value
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(regex::escape)
            .collect()
    };
    if parts.is_empty() {
        return None;
    }
    let gap = if digit_class {
        r"[^\p{L}\p{N}]{0,2}"
    } else {
        GAP
    };
    let body = parts.join(gap);
    RegexBuilder::new(&format!(r"\b{body}\b"))
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
        .ok()
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
    pub fn scrub(&self, text: &str, known: &KnownValues, pseudonyms: &Pseudonymizer) -> Scrubbed {
        let mut hits: Vec<Hit> = self
            .detector
            .detect(text)
            .into_iter()
            .map(|d| detection_hit(d, pseudonyms))
            .collect();
        for (start, end) in super::vin::find_vins(text) {
            hits.push(Hit {
                start,
                end,
                confidence: 0.9,
                order: 1,
                kind: "vin",
                token: "[VIN]".into(),
            });
        }
        for kv in &known.values {
            for m in kv.pattern.find_iter(text) {
                hits.push(Hit {
                    start: m.start(),
                    end: m.end(),
                    confidence: 1.0,
                    order: 0,
                    kind: kv.class.as_str(),
                    token: class_token(kv.class, &kv.canonical, pseudonyms),
                });
            }
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
        EntityKind::Email => format!(
            "[EMAIL:{}]",
            pseudonyms.pseudonym(PiiClass::Email, &d.normalized)
        ),
        EntityKind::Phone => format!(
            "[PHONE:{}]",
            pseudonyms.pseudonym(PiiClass::Phone, &canonical(PiiClass::Phone, &d.normalized))
        ),
        EntityKind::PaymentCard => "[CARD]".into(),
        EntityKind::Iban => "[IBAN]".into(),
        EntityKind::Ip => "[IP]".into(),
        EntityKind::UsSsn => "[SSN]".into(),
        EntityKind::Url => "[URL]".into(),
    };
    Hit {
        start: d.start,
        end: d.end,
        confidence: d.confidence,
        order: 1,
        kind: d.kind.as_str(),
        token,
    }
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
        (
            Scrubber::new(Detector::new(DetectorConfig::default())),
            Pseudonymizer::new(key),
        )
    }

    #[test]
    fn known_values_are_found_despite_case_spacing_and_punctuation() {
        let (s, p) = setup();
        let known = KnownValues::from_fields(&[
            field("name", PiiClass::Name, "Jane Q. Doe", "Jane Q. Doe"),
            field("phone", PiiClass::Phone, "+12125550142", "(212) 555-0142"),
            field("street", PiiClass::Address, "12 Main St", "12 Main St"),
        ]);
        let out = s.scrub(
            "JANE  Q DOE here; ring 212.555.0142; I live at 12 main st., Springfield. Doe family",
            &known,
            &p,
        );
        let name = p.pseudonym(PiiClass::Name, "jane q. doe");
        assert!(
            out.text.starts_with(&format!("[NAME:{name}] here")),
            "{}",
            out.text
        );
        assert!(out.text.contains("ring [PHONE:"), "{}", out.text);
        assert!(out.text.contains("at [ADDRESS:"), "{}", out.text);
        assert!(!out.text.contains("Doe"), "{}", out.text);
        assert!(!out.text.to_lowercase().contains("main st"), "{}", out.text);
        assert_eq!(out.counts.get("name"), Some(&2));
    }

    #[test]
    fn the_same_email_gets_the_same_token_as_its_field() {
        let (s, p) = setup();
        let known = KnownValues::from_fields(&[field(
            "email",
            PiiClass::Email,
            "jane@example.net",
            "Jane@Example.net",
        )]);
        let out = s.scrub("write to jane@example.net or JANE@EXAMPLE.NET", &known, &p);
        let token = format!(
            "[EMAIL:{}]",
            p.pseudonym(PiiClass::Email, "jane@example.net")
        );
        assert_eq!(out.text, format!("write to {token} or {token}"));
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
        assert!(
            !out.counts.contains_key("email"),
            "the URL containing the address wins as the longer hit"
        );
    }

    #[test]
    fn text_without_pii_is_unchanged() {
        let (s, p) = setup();
        let text =
            "Is the car still available on Saturday at 10? Price 24,995 is fine. Order #4711.";
        assert_eq!(s.scrub(text, &KnownValues::default(), &p).text, text);
    }
}
