//! Evaluation of the free-text PII detectors (`anonymize::detect`) against test cases nobody here wrote:
//!
//! 1. `eval/pii/presidio-recognizer-cases.jsonl` - 525 cases from Microsoft Presidio's recognizer unit tests
//!    (email, phone, credit card, IBAN, IP, US SSN, URL). This is the gate: the test fails when any kind falls
//!    below precision 0.95 or recall 0.95 (the target is recall >= 0.99 and precision >= 0.97).
//! 2. `eval/pii/presidio-research-synth-v2.json` - 1,500 synthetic sentences from presidio-research. A second,
//!    noisier report (Faker-generated values, many of them invalid numbers); it fails only below 0.80.
//!
//! The files live in the project's `shared` folder: `$LEADPIPE_SHARED_DIR/eval/pii/`, by default
//! `<crate>/../../shared` (the crate is `<repo>/shared`, the data `<repo>/../shared`). When they are missing the
//! test prints `SKIPPED: ...` and passes - unless `CI=true`, where it fails. Run it with the report:
//! `cargo test -p leadpipe-shared --test pii_eval -- --nocapture`. `docs/pii-eval.md` holds the last results.
//!
//! Counting rules:
//! - The detector runs exactly as in production: `Detector::new(DetectorConfig::default())`, all kinds
//!   enabled, overlaps resolved. Dataset labels map to kinds as EMAIL_ADDRESS -> email, PHONE_NUMBER -> phone,
//!   CREDIT_CARD -> payment_card, IBAN_CODE -> iban, IP_ADDRESS -> ip, US_SSN -> us_ssn, URL -> url. The synthetic
//!   set labels web addresses DOMAIN_NAME; all 37 of them are full `http(s)://` URLs, so DOMAIN_NAME counts as
//!   url (there is no separate bare-domain kind to score them against). Its other labels (names, addresses,
//!   ZIP codes, dates, driver's licences...) are not detector kinds and are never scored, but an FP that lands
//!   on one is shown with that label.
//! - A detection matches an expected span of the same kind when the two overlap (one-to-one, greedy in text
//!   order, largest overlap first); a match is a TP, and also counted under `exact` when the byte ranges are
//!   equal. Expected spans left over are FNs; detections left over are FPs.
//! - Recognizer cases label only their own entity: in an IBAN case, a phone number found in the same text is
//!   neither a TP nor an FP. Detections of the case's own kind are all scored, so extra hits are FPs.
//! - A few Presidio cases give a count but no positions (`expected_count` > number of spans). Those expected
//!   entities match any leftover detection of the case's kind, without an exactness claim.
//! - Cases that are out of scope by design are listed in `EXCLUSIONS` with the reason; they are printed, not
//!   scored, and an exclusion that no longer matches a case fails the test so the list cannot go stale.
//! - Precision is TP / (TP + FP), recall TP / (TP + FN); with an empty denominator the value is 1 (nothing
//!   to get wrong) and is printed as `-`.

use leadpipe_shared::anonymize::detect::{Detection, Detector, DetectorConfig, EntityKind};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A recognizer case that is not scored, and why.
struct Exclusion {
    source: &'static str,
    text: &'static str,
    expected_count: usize,
    reason: &'static str,
}

const PHONE_TEST: &str = "test_phone_recognizer.py";

const EXCLUSIONS: &[Exclusion] = &[
    Exclusion {
        source: PHONE_TEST,
        text: "My US number is (415) 555-0132, and my international one is415-555-0132",
        expected_count: 2,
        reason: "Presidio runs this case at leniency POSSIBLE, which accepts a number glued to a word ('is415-...'); \
                 leadpipe matches at the default VALID leniency, like the same text's leniency-VALID case, which \
                 expects 1 and is scored",
    },
    Exclusion {
        source: PHONE_TEST,
        text: "My US number is (415) 555-0132, and my international one is 91-415-555-0132",
        expected_count: 1,
        reason: "Presidio runs this case at leniency STRICT_GROUPING; at the default VALID leniency (the same \
                 text's scored case expects 2) '91-415-555-0132' is the Indian number +91 4155550132, and IN is a \
                 configured region",
    },
    Exclusion {
        source: PHONE_TEST,
        text: "My US number is (415) 555-0132, and my international one is +91 4155 550132",
        expected_count: 1,
        reason: "Presidio runs this case at leniency EXACT_GROUPING (digits grouped as the national format does); \
                 at the default VALID leniency the same text's scored case expects 2",
    },
    Exclusion {
        source: PHONE_TEST,
        text: "My CN number is 13812345678",
        expected_count: 1,
        reason: "a Chinese number without country code; Presidio adds CN (and JP) to its regions for this test, \
                 leadpipe's configured regions do not include CN, so only +86 numbers are found",
    },
    Exclusion {
        source: "test_us_ssn_recognizer.py",
        text: "078-051121 07805-1121",
        expected_count: 2,
        reason: "3-6 and 5-4 digit groupings are Presidio's 'very weak' patterns, not SSN layouts (5-4 is the \
                 layout of a US ZIP+4 code, which lead mails are full of); both spans are still found and scrubbed, \
                 as the German phone number +49 7805 1121 written two ways",
    },
    Exclusion {
        source: "test_us_ssn_recognizer.py",
        text: "078051121",
        expected_count: 1,
        reason: "found, but as a phone number: the bare digits are also a valid German national number \
                 (+49 7805 1121, trunk prefix 0), and a number valid in a configured numbering plan outranks the \
                 weak bare 9-digit SSN shape in overlap resolution (confidence 0.6 vs 0.3); formatted SSNs win",
    },
    Exclusion {
        source: "test_url_recognizer.py",
        text: "microsoft.com",
        expected_count: 1,
        reason: "a bare domain without a path is not a URL by leadpipe's spec (company and portal names such as \
                 Booking.com)",
    },
    Exclusion {
        source: "test_url_recognizer.py",
        text: "my domains: microsoft.com google.co.il",
        expected_count: 2,
        reason: "bare domains without a path are not URLs by leadpipe's spec",
    },
    Exclusion {
        source: "test_ip_recognizer.py",
        text: "Visit http://[2001:db8::1]/path",
        expected_count: 1,
        reason: "the address is the host of a URL; the longer URL detection wins the overlap and scrubs the \
                 address with it (longest span first, by design)",
    },
];

#[derive(Deserialize)]
struct Case {
    source: String,
    entity: String,
    text: String,
    expected_count: usize,
    spans: Vec<CaseSpan>,
}

#[derive(Deserialize)]
struct CaseSpan {
    start: usize,
    end: usize,
}

#[derive(Deserialize)]
struct SynthRecord {
    full_text: String,
    spans: Vec<SynthSpan>,
}

#[derive(Deserialize)]
struct SynthSpan {
    entity_type: String,
    start_position: usize,
    end_position: usize,
}

/// Dataset label -> detector kind.
fn kind_of(label: &str) -> Option<EntityKind> {
    Some(match label {
        "EMAIL_ADDRESS" => EntityKind::Email,
        "PHONE_NUMBER" => EntityKind::Phone,
        "CREDIT_CARD" => EntityKind::PaymentCard,
        "IBAN_CODE" => EntityKind::Iban,
        "IP_ADDRESS" => EntityKind::Ip,
        "US_SSN" => EntityKind::UsSsn,
        "URL" | "DOMAIN_NAME" => EntityKind::Url,
        _ => return None,
    })
}

#[derive(Default, Clone, Copy)]
struct Tally {
    expected: usize,
    tp: usize,
    exact: usize,
    fn_: usize,
    fp: usize,
}

impl Tally {
    fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }

    fn recall(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fn_)
    }
}

fn ratio(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Per-kind tallies plus a line for every miss.
#[derive(Default)]
struct Report {
    tallies: BTreeMap<EntityKind, Tally>,
    misses: Vec<String>,
}

/// An expected entity in byte offsets; `None` for a count without a position.
type Expected = Option<(usize, usize)>;

impl Report {
    /// Scores the detections of `kind` in `text` against `expected`; `others` are labelled spans of other
    /// types, named in FP lines.
    fn score(
        &mut self,
        label: &str,
        text: &str,
        kind: EntityKind,
        expected: &[Expected],
        found: &[&Detection],
        others: &[(usize, usize, &str)],
    ) {
        let tally = self.tallies.entry(kind).or_default();
        tally.expected += expected.len();
        let mut used = vec![false; found.len()];
        let overlap = |(s, e): (usize, usize), d: &Detection| e.min(d.end).saturating_sub(s.max(d.start));
        for &(s, e) in expected.iter().flatten() {
            let best = (0..found.len())
                .filter(|&i| !used[i] && overlap((s, e), found[i]) > 0)
                .max_by_key(|&i| (overlap((s, e), found[i]), std::cmp::Reverse(i)));
            match best {
                Some(i) => {
                    used[i] = true;
                    tally.tp += 1;
                    if (found[i].start, found[i].end) == (s, e) {
                        tally.exact += 1;
                    } else {
                        self.misses.push(format!(
                            "  inexact {:<12} {label}: expected {:?}, found {:?}",
                            kind.as_str(),
                            &text[s..e],
                            &text[found[i].start..found[i].end]
                        ));
                    }
                }
                None => {
                    tally.fn_ += 1;
                    self.misses.push(format!(
                        "  FN {:<17} {label}: {:?} in {}",
                        kind.as_str(),
                        &text[s..e],
                        snippet(text, s, e)
                    ));
                }
            }
        }
        let mut unlocated = expected.iter().filter(|e| e.is_none()).count();
        for (i, d) in found.iter().enumerate() {
            if used[i] {
                continue;
            }
            if unlocated > 0 {
                unlocated -= 1;
                tally.tp += 1;
                continue;
            }
            tally.fp += 1;
            let on = others
                .iter()
                .find(|(s, e, _)| *s < d.end && d.start < *e)
                .map(|(s, e, l)| format!(" (on {l} {:?})", &text[*s..*e]))
                .unwrap_or_default();
            self.misses.push(format!(
                "  FP {:<17} {label}: {:?}{on} in {}",
                kind.as_str(),
                &text[d.start..d.end],
                snippet(text, d.start, d.end)
            ));
        }
        tally.fn_ += unlocated;
        for _ in 0..unlocated {
            self.misses.push(format!(
                "  FN {:<17} {label}: one entity without position in {}",
                kind.as_str(),
                snippet(text, 0, text.len())
            ));
        }
    }

    /// The table and the list of misses, as one block so parallel tests do not interleave their output.
    fn render(&self, title: &str) -> String {
        let mut out = format!("\n== {title} ==\n");
        let row = |name: &str, t: &Tally| {
            format!(
                "{:<13} {:>8} {:>5} {:>6} {:>4} {:>4} {:>9} {:>7}\n",
                name,
                t.expected,
                t.tp,
                t.exact,
                t.fn_,
                t.fp,
                fmt(t.precision()),
                fmt(t.recall())
            )
        };
        out += &format!(
            "{:<13} {:>8} {:>5} {:>6} {:>4} {:>4} {:>9} {:>7}\n",
            "kind", "expected", "TP", "exact", "FN", "FP", "precision", "recall"
        );
        let mut total = Tally::default();
        for (kind, t) in &self.tallies {
            out += &row(kind.as_str(), t);
            total.expected += t.expected;
            total.tp += t.tp;
            total.exact += t.exact;
            total.fn_ += t.fn_;
            total.fp += t.fp;
        }
        out += &row("all", &total);
        if !self.misses.is_empty() {
            out += &format!("misses ({}):\n", self.misses.len());
            for m in &self.misses {
                out += m;
                out.push('\n');
            }
        }
        out
    }

    /// Kinds below `min` precision or recall, as `kind precision=...` lines.
    fn below(&self, min: f64) -> Vec<String> {
        self.below_target(min, min)
    }

    /// Kinds below `precision` or `recall`, as `kind precision=... recall=...` lines.
    fn below_target(&self, precision: f64, recall: f64) -> Vec<String> {
        self.tallies
            .iter()
            .filter(|(_, t)| t.precision().unwrap_or(1.0) < precision || t.recall().unwrap_or(1.0) < recall)
            .map(|(k, t)| format!("{} precision={} recall={}", k.as_str(), fmt(t.precision()), fmt(t.recall())))
            .collect()
    }
}

fn fmt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"))
}

/// Up to 40 characters of context on each side, on one line.
fn snippet(text: &str, start: usize, end: usize) -> String {
    let from = text[..start].char_indices().rev().nth(39).map_or(0, |(i, _)| i);
    let to = text[end..].char_indices().nth(40).map_or(text.len(), |(i, _)| end + i);
    format!("{:?}", &text[from..to])
}

/// Byte offset of character index `chars` (the datasets count Python `str` indices, i.e. characters).
fn byte_offset(text: &str, chars: usize) -> usize {
    text.char_indices().nth(chars).map_or(text.len(), |(i, _)| i)
}

fn data_dir() -> PathBuf {
    std::env::var_os("LEADPIPE_SHARED_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"), PathBuf::from)
}

/// The dataset's text, or `None` (after printing SKIPPED) when it is missing outside CI.
fn load(name: &str) -> Option<String> {
    let path = data_dir().join("eval/pii").join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{} is required in CI: {e}", path.display())
        }
        Err(e) => {
            eprintln!("SKIPPED: {} not readable ({e}); set LEADPIPE_SHARED_DIR", path.display());
            None
        }
    }
}

#[test]
fn presidio_recognizer_cases() {
    let Some(jsonl) = load("presidio-recognizer-cases.jsonl") else {
        return;
    };
    let detector = Detector::new(DetectorConfig::default());
    let mut report = Report::default();
    let mut excluded = vec![0usize; EXCLUSIONS.len()];
    let mut cases = 0;
    for (n, line) in jsonl.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let case: Case = serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        cases += 1;
        let exclusion = EXCLUSIONS
            .iter()
            .position(|x| x.source == case.source && x.text == case.text && x.expected_count == case.expected_count);
        if let Some(i) = exclusion {
            excluded[i] += 1;
            continue;
        }
        let kind = kind_of(&case.entity).unwrap_or_else(|| panic!("line {}: unknown entity {}", n + 1, case.entity));
        let mut expected: Vec<Expected> = case
            .spans
            .iter()
            .map(|s| Some((byte_offset(&case.text, s.start), byte_offset(&case.text, s.end))))
            .collect();
        expected.extend((case.spans.len()..case.expected_count).map(|_| None));
        let detections = detector.detect(&case.text);
        let found: Vec<&Detection> = detections.iter().filter(|d| d.kind == kind).collect();
        let label = format!("{}:{}", case.source.trim_end_matches(".py"), n + 1);
        report.score(&label, &case.text, kind, &expected, &found, &[]);
    }
    let mut out = report
        .render(&format!("Presidio recognizer cases: {cases} cases, {} excluded", excluded.iter().sum::<usize>()));
    out += "exclusions ([matched cases] source text (expected count): reason):\n";
    for (x, count) in EXCLUSIONS.iter().zip(&excluded) {
        out += &format!("  [{count}] {} {:?} (expects {}): {}\n", x.source, x.text, x.expected_count, x.reason);
    }
    let short_of_target = report.below_target(0.97, 0.99);
    out += &format!(
        "kinds short of the target (precision 0.97, recall 0.99): {}\n",
        if short_of_target.is_empty() { "none".to_string() } else { short_of_target.join(", ") }
    );
    eprint!("{out}");
    let stale: Vec<&str> = EXCLUSIONS.iter().zip(&excluded).filter(|(_, &c)| c != 1).map(|(x, _)| x.text).collect();
    assert!(stale.is_empty(), "exclusions matching no case or several: {stale:?}");
    let below = report.below(0.95);
    assert!(below.is_empty(), "below 0.95 on the recognizer cases: {below:?}");
}

#[test]
fn presidio_research_synthetic_sentences() {
    let Some(json) = load("presidio-research-synth-v2.json") else {
        return;
    };
    let records: Vec<SynthRecord> = serde_json::from_str(&json).expect("synthetic dataset parses");
    let detector = Detector::new(DetectorConfig::default());
    let mut report = Report::default();
    for (n, record) in records.iter().enumerate() {
        let text = &record.full_text;
        let spans: Vec<(usize, usize, &str)> = record
            .spans
            .iter()
            .map(|s| {
                let (start, end) = (byte_offset(text, s.start_position), byte_offset(text, s.end_position));
                (start, end, s.entity_type.as_str())
            })
            .collect();
        let detections = detector.detect(text);
        for kind in EntityKind::ALL {
            let expected: Vec<Expected> = spans
                .iter()
                .filter(|(_, _, label)| kind_of(label) == Some(kind))
                .map(|&(s, e, _)| Some((s, e)))
                .collect();
            let others: Vec<(usize, usize, &str)> =
                spans.iter().filter(|(_, _, label)| kind_of(label) != Some(kind)).copied().collect();
            let found: Vec<&Detection> = detections.iter().filter(|d| d.kind == kind).collect();
            report.score(&format!("synth:{n}"), text, kind, &expected, &found, &others);
        }
    }
    eprint!(
        "{}",
        report.render(&format!(
            "presidio-research synthetic sentences: {} records (DOMAIN_NAME counted as url)",
            records.len()
        ))
    );
    let below = report.below(0.80);
    assert!(below.is_empty(), "below 0.80 on the synthetic sentences: {below:?}");
}
