//! Applies the policy to an extraction: every field gets its class's action, free text and the subject are
//! scrubbed, and a PII summary counts what was done. The output holds no clear-text PII.

use super::detect::{Detector, DetectorConfig};
use super::scrub::{KnownValues, Scrubbed, Scrubber};
use super::{canonical, generalize, mask, Action, Policy, PseudonymKey, Pseudonymizer};
use crate::extraction::Extraction;
use crate::fields::{FieldValue, PiiClass};
use serde::Serialize;
use std::collections::BTreeMap;

/// Pseudonymizer and scrubber, built once per process.
#[derive(Debug)]
pub struct Anonymizer {
    pseudonyms: Pseudonymizer,
    scrubber: Scrubber,
}

/// A lead's fields after anonymization.
#[derive(Debug, Clone, Serialize)]
pub struct AnonymizedLead {
    /// Fields that survive the policy (dropped ones are only counted), in rule order.
    pub fields: Vec<AnonymizedField>,
    /// The scrubbed subject.
    pub subject: Option<String>,
    /// What was done to personal data.
    pub pii: PiiSummary,
    /// Id of the pseudonym key.
    pub key_id: String,
}

/// One field after its action.
#[derive(Debug, Clone, Serialize)]
pub struct AnonymizedField {
    /// Field name.
    pub name: String,
    /// Its PII class.
    pub pii: PiiClass,
    /// The action applied.
    pub action: Action,
    /// The resulting value (typed for `keep`, text otherwise).
    pub value: FieldValue,
}

/// Counts of what anonymization did, safe to publish.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiiSummary {
    /// class -> action -> number of fields.
    pub fields: BTreeMap<String, BTreeMap<String, u32>>,
    /// Replacements in free text and subject, by kind (`email`, `phone`, `payment_card`, `name`, ...).
    pub redactions: BTreeMap<String, u32>,
}

impl PiiSummary {
    /// PII values anonymized: fields not kept as they were, plus free-text replacements.
    pub fn total_replaced(&self) -> u64 {
        let fields: u64 = self
            .fields
            .values()
            .flat_map(|actions| actions.iter())
            .filter(|(action, _)| action.as_str() != "keep")
            .map(|(_, n)| u64::from(*n))
            .sum();
        fields + self.redactions.values().map(|n| u64::from(*n)).sum::<u64>()
    }
}

impl Anonymizer {
    /// An anonymizer with `key` and the scrubber's detector settings.
    pub fn new(key: PseudonymKey, detectors: DetectorConfig) -> Self {
        Self { pseudonyms: Pseudonymizer::new(key), scrubber: Scrubber::new(Detector::new(detectors)) }
    }

    /// Compiles the constant patterns of the free-text scrubber's detectors now rather than on first use: for a
    /// thread of its own at cold start, so that the work overlaps with fetching the key and the rules.
    pub fn warm_up() {
        crate::anonymize::detect::warm_up();
    }

    /// The pseudonym key id, carried in events.
    pub fn key_id(&self) -> &str {
        self.pseudonyms.key_id()
    }

    /// The pseudonymizer (for joins and tests).
    pub fn pseudonymizer(&self) -> &Pseudonymizer {
        &self.pseudonyms
    }

    /// Anonymizes an extraction under `policy`; `subject` is scrubbed with the same known values.
    pub fn anonymize(&self, extraction: &Extraction, policy: &Policy, subject: Option<&str>) -> AnonymizedLead {
        let known = KnownValues::from_fields(&extraction.fields);
        let mut summary = PiiSummary::default();
        let mut fields = Vec::new();
        for f in &extraction.fields {
            let action = policy.action(f.pii);
            let text = f.value.to_string();
            let value = match action {
                Action::Keep => Some(f.value.clone()),
                Action::Pseudonymize => {
                    Some(FieldValue::Text(self.pseudonyms.pseudonym(f.pii, &canonical(f.pii, &text))))
                }
                Action::Mask => Some(FieldValue::Text(mask(f.pii, &text))),
                Action::Generalize => generalize(f.pii, &text).map(FieldValue::Text),
                Action::Drop => None,
                Action::Scrub => {
                    let s = self.scrubber.scrub(&text, &known, &self.pseudonyms);
                    add_counts(&mut summary, &s);
                    Some(FieldValue::Text(s.text))
                }
            };
            // A value that cannot be generalized is dropped, never kept.
            let applied = if value.is_none() { Action::Drop } else { action };
            if f.pii.is_personal() {
                *summary
                    .fields
                    .entry(f.pii.as_str().to_string())
                    .or_default()
                    .entry(applied.as_str().to_string())
                    .or_insert(0) += 1;
            }
            if let Some(value) = value {
                fields.push(AnonymizedField { name: f.name.clone(), pii: f.pii, action: applied, value });
            }
        }
        let subject = subject.map(|s| {
            let scrubbed = self.scrubber.scrub(s, &known, &self.pseudonyms);
            add_counts(&mut summary, &scrubbed);
            scrubbed.text
        });
        AnonymizedLead { fields, subject, pii: summary, key_id: self.key_id().to_string() }
    }

    /// Scrubs any text with the mail's known values (quarantine metadata, subjects of non-leads).
    pub fn scrub(&self, text: &str, known: &KnownValues) -> Scrubbed {
        self.scrubber.scrub(text, known, &self.pseudonyms)
    }
}

fn add_counts(summary: &mut PiiSummary, s: &Scrubbed) {
    for (kind, n) in &s.counts {
        *summary.redactions.entry(kind.clone()).or_insert(0) += n;
    }
}
