//! Leak test: run extract + anonymization over every fixture and assert that no personal value from the
//! hand-written `fixtures/pii-manifest.json` appears in any output - lead records, quarantine metadata, or
//! anything the tool prints - as is, lowercased, digits-only (phones, cards) or URL-encoded.
//!
//! Two documented limits (see README, "Anonymization"):
//! - a bare place name (class `address`, one word, e.g. a city) is checked against the personal part of the
//!   output (personal fields, scrubbed free text and subject) only: the same word legitimately appears in
//!   non-personal data such as a listing title ("Wohnung mit Garten, Leipzig-Gohlis") or a campaign name;
//! - pattern detectors cannot recognise names of third parties or other unstructured facts in free text
//!   ("my husband Declan"); those are listed in `fixtures/pii-known-limits.json` and the test fails if the list
//!   is stale, so it can only shrink. Operators who cannot accept this set `free_text = "drop"` in the policy.

use leadpipe_shared::anonymize::detect::DetectorConfig;
use leadpipe_shared::anonymize::{Anonymizer, PseudonymKey};
use leadpipe_shared::extraction::{extract_raw, Outcome};
use leadpipe_shared::{ParseLimits, RuleSet};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
struct Manifest {
    mails: BTreeMap<String, Vec<PiiValue>>,
}

#[derive(Deserialize)]
struct PiiValue {
    class: String,
    value: String,
}

#[derive(Deserialize)]
struct KnownLimits {
    values: Vec<KnownLimit>,
}

#[derive(Deserialize)]
struct KnownLimit {
    mail: String,
    value: String,
}

/// Personal values inside free text that no pattern or known value can find: (mail, value).
fn known_limits() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("fixtures/pii-known-limits.json")).expect("known limits file");
    let limits: KnownLimits = serde_json::from_str(&text).expect("known limits JSON");
    limits.values.into_iter().map(|l| (l.mail, l.value)).collect()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The forms in which a value could leak.
fn encodings(v: &PiiValue) -> Vec<String> {
    let mut out = vec![v.value.to_lowercase()];
    if matches!(v.class.as_str(), "phone" | "payment_card") {
        let digits: String = v.value.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 7 {
            out.push(digits);
        }
    }
    let url: String = v
        .value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02x}")
            }
        })
        .collect();
    out.push(url.to_lowercase());
    out.push(serde_json::to_string(&v.value).unwrap_or_default().trim_matches('"').to_lowercase());
    out.sort();
    out.dedup();
    out
}

/// True when `needle` occurs in `hay` not glued to other letters or digits (so "pat" inside a pseudonym or
/// inside "patio" is not a hit, while "pat" as a word is).
fn contains_word(hay: &str, needle: &str) -> bool {
    let glued = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    hay.match_indices(needle).any(|(i, m)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + m.len()..].chars().next();
        let glued_front = glued(before) && needle.starts_with(char::is_alphanumeric);
        let glued_back = glued(after) && needle.ends_with(char::is_alphanumeric);
        !glued_front && !glued_back
    })
}

#[test]
fn no_manifest_value_leaves_extract() {
    let rules = RuleSet::load(&root().join("fixtures/rules/default.toml")).expect("rules");
    let key = PseudonymKey::new("test-leak", vec![7; 32]).expect("key");
    let anonymizer = Anonymizer::new(key, DetectorConfig::default());
    let manifest: Manifest =
        serde_json::from_str(&std::fs::read_to_string(root().join("fixtures/pii-manifest.json")).expect("manifest"))
            .expect("manifest JSON");
    let mut outputs = BTreeMap::new();
    let mut personal_outputs = BTreeMap::new();
    for name in manifest.mails.keys() {
        let raw = std::fs::read(root().join("fixtures/emails").join(name)).expect("fixture");
        let (email, outcome) = extract_raw(&raw, &rules, &ParseLimits::default(), None);
        let subject = email.as_ref().and_then(|e| e.subject.as_deref());
        let (out, personal) = match &outcome {
            Outcome::Lead(x) => {
                let rule = rules.get(&x.rule_id).expect("rule");
                let lead = anonymizer.anonymize(x, &rule.policy, subject);
                let personal: Vec<_> = lead.fields.iter().filter(|f| f.pii.is_personal()).collect();
                let personal = serde_json::to_string(&(personal, &lead.subject)).expect("json");
                (serde_json::to_string(&lead).expect("json"), personal)
            }
            Outcome::Quarantined(q) => {
                let json = serde_json::to_string(q).expect("json");
                (json.clone(), json)
            }
        };
        outputs.insert(name.clone(), out.to_lowercase());
        personal_outputs.insert(name.clone(), personal.to_lowercase());
    }
    assert!(manifest.mails.len() >= 40, "manifest covers the fixtures");
    let limits = known_limits();
    let mut leaks = Vec::new();
    let mut known_limits_seen = Vec::new();
    let mut checked = 0;
    for (mail, values) in &manifest.mails {
        for v in values {
            let place_name = v.class == "address" && !v.value.trim().contains(char::is_whitespace);
            let searched = if place_name { &personal_outputs } else { &outputs };
            for form in encodings(v) {
                checked += 1;
                // Any output, not only this mail's: a value must not leak through another record either.
                for (out_mail, out) in searched {
                    if !contains_word(out, &form) {
                        continue;
                    }
                    if out_mail == mail && limits.contains(&(mail.clone(), v.value.clone())) {
                        known_limits_seen.push((mail.clone(), v.value.clone()));
                    } else {
                        leaks.push(format!(
                            "{mail}: {} value {:?} (as {form:?}) found in output of {out_mail}",
                            v.class, v.value
                        ));
                    }
                }
            }
        }
    }
    known_limits_seen.sort();
    known_limits_seen.dedup();
    let mut expected_limits = limits.clone();
    expected_limits.sort();
    assert_eq!(
        known_limits_seen, expected_limits,
        "fixtures/pii-known-limits.json is stale: remove what no longer leaks"
    );
    eprintln!("checked {checked} encodings of manifest values against {} outputs", outputs.len());
    assert!(leaks.is_empty(), "{} leaks:\n{}", leaks.len(), leaks.join("\n"));
}
