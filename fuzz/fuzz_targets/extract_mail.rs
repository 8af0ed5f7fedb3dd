//! Fuzz target: arbitrary bytes as a raw mail through the extract step exactly as the extract function runs it
//! without I/O (MIME parse -> rule match -> field extraction -> anonymization -> lead event or quarantine
//! record), then through the encodings every output goes through (event JSON and its read-back, the Kafka record,
//! the Parquet archive; the quarantine JSON). The same bytes also go through the SES/SNS notification parser.
//! Any panic is a bug: `ExtractStep::process` promises that every mail ends as leads or as a quarantine record.

#![no_main]

use chrono::{DateTime, TimeZone, Utc};
use leadpipe_shared::anonymize::{Anonymizer, PseudonymKey};
use leadpipe_shared::archive::encode_batch;
use leadpipe_shared::event::LeadEvent;
use leadpipe_shared::pipeline::{record_for, Delivery, ExtractOutput, ExtractSettings, ExtractStep, QuarantineRecord};
use leadpipe_shared::RuleSet;
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

/// Built once per process, like the function's cold start: the fixture rules and a fixed test key.
fn step() -> &'static ExtractStep {
    static STEP: OnceLock<ExtractStep> = OnceLock::new();
    STEP.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rules/default.toml");
        let rules = RuleSet::load(&path).unwrap_or_else(|e| panic!("fixture rules {}: {e}", path.display()));
        let key = PseudonymKey::new("test-fuzz", vec![7; 32]).expect("fixed test key");
        let anonymizer = Anonymizer::new(key, rules.detector_config());
        ExtractStep { rules, anonymizer, settings: ExtractSettings::default() }
    })
}

/// A fixed clock, so a crashing input reproduces exactly.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 15, 0, 0).single().expect("valid time")
}

fuzz_target!(|data: &[u8]| {
    match step().process(data, &Delivery::default(), now()) {
        ExtractOutput::Leads(events) => {
            for event in &events {
                let json = serde_json::to_string(event).expect("a lead event serialises");
                // Forward and archive read events back from SNS/SQS bodies: what extract writes must parse
                // back to the same event.
                let back: LeadEvent = serde_json::from_str(&json).expect("a lead event parses back");
                assert_eq!(&back, event, "lead event JSON round trip");
                let record = record_for(event);
                assert_eq!(record.value, json);
            }
            // The archive isolates an encoder panic per record (catch_unwind); a panic here is still a bug.
            let _ = encode_batch(&events);
        }
        ExtractOutput::Quarantined(record) => {
            let json = serde_json::to_string(&record).expect("a quarantine record serialises");
            let back: QuarantineRecord = serde_json::from_str(&json).expect("a quarantine record parses back");
            assert_eq!(back, *record, "quarantine record JSON round trip");
        }
    }
    // A different parser over the same bytes: the SES notification reader (errors are fine, panics are not).
    let text = String::from_utf8_lossy(data);
    if let Err(e) = leadpipe_shared::ses::notifications_in(&text) {
        let _ = e.to_string();
    }
});
