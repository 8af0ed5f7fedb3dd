//! Reprocessing quarantined mail: a mail quarantined because its rule was missing becomes the same lead event
//! (same event id) once the rule exists, and stays as it is while it does not.

use leadpipe_shared::anonymize::{Anonymizer, PseudonymKey};
use leadpipe_shared::pipeline::{
    reprocess, Delivery, ExtractOutput, ExtractSettings, ExtractStep, ReprocessAudit, Reprocessed,
};
use leadpipe_shared::rules::RulesFormat;
use leadpipe_shared::RuleSet;
use std::path::Path;

const RULES: &str = "../fixtures/rules/default.toml";

fn step(rules: RuleSet) -> ExtractStep {
    let key = PseudonymKey::new("test-reprocess", vec![9; 32]).expect("key");
    let anonymizer = Anonymizer::new(key, rules.detector_config());
    ExtractStep { rules, anonymizer, settings: ExtractSettings::default() }
}

/// The fixture rules without the rule `id`.
fn rules_without(id: &str) -> RuleSet {
    let text = std::fs::read_to_string(RULES).expect("rules");
    let mut blocks: Vec<&str> = text.split("\n[[rules]]\n").collect();
    let before = blocks.len();
    blocks.retain(|b| !b.starts_with(&format!("id = \"{id}\"")));
    assert_eq!(blocks.len(), before - 1, "rule {id} removed");
    RuleSet::parse(&blocks.join("\n[[rules]]\n"), RulesFormat::Toml, "without").expect("rules parse")
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z").expect("time").with_timezone(&chrono::Utc)
}

#[test]
fn a_mail_quarantined_for_a_missing_rule_becomes_its_lead_with_the_same_event_id() {
    let raw = std::fs::read(Path::new("../fixtures/emails/rentals-01.eml")).expect("fixture");
    let delivery = Delivery {
        ses_message_id: Some("ses-reprocess-1".into()),
        received_at: Some(now() - chrono::Duration::days(2)),
        ..Delivery::default()
    };
    let old = step(rules_without("rentnest-html"));
    let ExtractOutput::Quarantined(record) = old.process(&raw, &delivery, now()) else {
        panic!("without its rule the mail is quarantined")
    };
    assert_eq!(record.reason, "no_rule_matched");

    assert!(matches!(reprocess(&old, &record, &raw, now()), Reprocessed::Unchanged));

    let current = step(RuleSet::load(Path::new(RULES)).expect("rules"));
    let ExtractOutput::Leads(direct) = current.process(&raw, &delivery, now()) else { panic!("a lead") };
    let Reprocessed::Leads(events) = reprocess(&current, &record, &raw, now()) else { panic!("reprocessed to a lead") };
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_id, direct[0].event_id, "deterministic id: downstream deduplicates a second run");
    assert_eq!(events[0].received_at, direct[0].received_at, "received time kept from the quarantine record");
    assert_eq!(events[0].source.ses_message_id, direct[0].source.ses_message_id);

    let audit = ReprocessAudit::new(&record, &Reprocessed::Leads(events.clone()), now());
    assert_eq!(audit.outcome, "leads");
    assert_eq!(audit.event_ids, vec![events[0].event_id.clone()]);
}

#[test]
fn a_changed_reason_is_a_new_record_under_the_same_id() {
    // An entry stored under another reason than the current rules decide is filed under the current reason.
    let raw = std::fs::read(Path::new("../fixtures/emails/rentals-01.eml")).expect("fixture");
    let old = step(rules_without("rentnest-html"));
    let ExtractOutput::Quarantined(mut record) = old.process(&raw, &Delivery::default(), now()) else {
        panic!("quarantined")
    };
    record.reason = "missing_required:email".into();
    record.reason_kind = "missing_required".into();
    let Reprocessed::Requarantined(new) = reprocess(&old, &record, &raw, now()) else { panic!("requarantined") };
    assert_eq!(new.reason, "no_rule_matched");
    assert_eq!(new.quarantine_id, record.quarantine_id);
}
