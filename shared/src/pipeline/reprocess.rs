//! Reprocessing quarantined mail with the current rules: which entries may be reprocessed, and what becomes of
//! each (leads to publish, a new quarantine reason, or no change). No I/O: the caller reads the entry, acts on
//! the decision in a crash-safe order (publish, then remove the entry) and relies on deterministic event ids.

use super::extract_step::{Delivery, ExtractOutput, ExtractStep};
use super::quarantine::QuarantineRecord;
use crate::event::LeadEvent;
use chrono::{DateTime, Utc};

/// Which quarantined entries to reprocess.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Reason kinds (`no_rule_matched`, `missing_required`, ...); empty means every reprocessable kind.
    pub reasons: Vec<String>,
    /// Quarantine ids (`q1_...`); empty means any.
    pub ids: Vec<String>,
}

/// Reason kinds never reprocessed: SES found a virus; the verdict is not re-evaluated without SES.
pub const NEVER_REPROCESSED: &[&str] = &["virus"];
/// Reason kinds reprocessed only when named: SES judged them spam, and the operator decides they are not.
pub const ONLY_WHEN_NAMED: &[&str] = &["spam"];

impl Selection {
    /// Checks the selection itself: naming a kind that is never reprocessed is an error, not a silent no-op.
    pub fn validate(&self) -> Result<(), String> {
        match self.reasons.iter().find(|r| NEVER_REPROCESSED.contains(&r.as_str())) {
            Some(r) => Err(format!("quarantine reason {r:?} is never reprocessed (SES verdicts are not re-checked)")),
            None => Ok(()),
        }
    }

    /// Whether `record` has one of the named reasons (kind or full reason) and ids; empty lists match any.
    pub fn matches(&self, record: &QuarantineRecord) -> bool {
        (self.reasons.is_empty() || self.reasons.iter().any(|r| *r == record.reason_kind || *r == record.reason))
            && (self.ids.is_empty() || self.ids.contains(&record.quarantine_id))
    }

    /// Whether `record` is selected for reprocessing: it matches, is not of a kind never reprocessed, and, if of a
    /// kind reprocessed only when named, reasons were named.
    pub fn includes(&self, record: &QuarantineRecord) -> bool {
        let kind = record.reason_kind.as_str();
        !NEVER_REPROCESSED.contains(&kind)
            && (!self.reasons.is_empty() || !ONLY_WHEN_NAMED.contains(&kind))
            && self.matches(record)
    }
}

/// What reprocessing one entry decided.
#[derive(Debug, Clone)]
pub enum Reprocessed {
    /// The mail now yields leads: publish them, then remove the entry.
    Leads(Vec<LeadEvent>),
    /// Still not a lead, for the same reason: leave the entry as it is.
    Unchanged,
    /// Still not a lead, for another reason: store the new record (same id), then remove the old entry.
    Requarantined(Box<QuarantineRecord>),
}

/// Runs the extract step over a quarantined mail with the delivery facts its record kept (SES message id,
/// received time). SES verdicts are not stored, so authentication comes from the mail's own header.
pub fn reprocess(step: &ExtractStep, record: &QuarantineRecord, raw: &[u8], now: DateTime<Utc>) -> Reprocessed {
    let delivery = Delivery {
        ses_message_id: record.ses_message_id.clone(),
        received_at: DateTime::parse_from_rfc3339(&record.received_at).ok().map(|t| t.with_timezone(&Utc)),
        recipients: Vec::new(),
        verdicts: None,
    };
    match step.process(raw, &delivery, now) {
        ExtractOutput::Leads(events) => Reprocessed::Leads(events),
        ExtractOutput::Quarantined(new) if new.reason == record.reason => Reprocessed::Unchanged,
        ExtractOutput::Quarantined(new) => Reprocessed::Requarantined(new),
    }
}

/// The audit line stored when an entry leaves the quarantine (no personal data): what it was and what it became.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReprocessAudit {
    /// The entry's id.
    pub quarantine_id: String,
    /// Its reason before.
    pub reason: String,
    /// `leads` or `requarantined:<new reason>`.
    pub outcome: String,
    /// Event ids published.
    pub event_ids: Vec<String>,
    /// When.
    pub reprocessed_at: String,
}

impl ReprocessAudit {
    /// The audit line for `record` and its decision.
    pub fn new(record: &QuarantineRecord, decision: &Reprocessed, now: DateTime<Utc>) -> Self {
        let (outcome, event_ids) = match decision {
            Reprocessed::Leads(events) => ("leads".to_string(), events.iter().map(|e| e.event_id.clone()).collect()),
            Reprocessed::Requarantined(new) => (format!("requarantined:{}", new.reason), Vec::new()),
            Reprocessed::Unchanged => ("unchanged".to_string(), Vec::new()),
        };
        Self {
            quarantine_id: record.quarantine_id.clone(),
            reason: record.reason.clone(),
            outcome,
            event_ids,
            reprocessed_at: crate::event::timestamp(now),
        }
    }

    /// Its key in the quarantine bucket: `reprocessed/dt=<day>/<id>.json`.
    pub fn key(&self) -> String {
        let day = self.reprocessed_at.get(..10).unwrap_or("1970-01-01");
        format!("reprocessed/dt={day}/{}.json", self.quarantine_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: &str, reason: &str, id: &str) -> QuarantineRecord {
        QuarantineRecord {
            quarantine_id: id.into(),
            reason: reason.into(),
            reason_kind: kind.into(),
            rule_id: None,
            rule_version: None,
            field_errors: vec![],
            detail: String::new(),
            subject: None,
            sender_domain: None,
            ses_message_id: None,
            mailbox: None,
            size_bytes: 0,
            received_at: "2026-11-01T00:00:00Z".into(),
            quarantined_at: "2026-11-01T00:00:00Z".into(),
            key_id: "test-k".into(),
        }
    }

    #[test]
    fn default_selection_skips_virus_and_spam() {
        let all = Selection::default();
        assert!(all.includes(&record("no_rule_matched", "no_rule_matched", "q1_a")));
        assert!(all.includes(&record("missing_required", "missing_required:email", "q1_a")));
        assert!(!all.includes(&record("virus", "virus", "q1_a")));
        assert!(!all.includes(&record("spam", "spam", "q1_a")));
    }

    #[test]
    fn spam_only_when_named_and_virus_never() {
        let spam = Selection { reasons: vec!["spam".into()], ids: vec![] };
        assert!(spam.includes(&record("spam", "spam", "q1_a")));
        assert!(!spam.includes(&record("no_rule_matched", "no_rule_matched", "q1_a")));
        let virus = Selection { reasons: vec!["virus".into()], ids: vec![] };
        assert!(virus.validate().unwrap_err().contains("never reprocessed"));
        assert!(!virus.includes(&record("virus", "virus", "q1_a")));
    }

    #[test]
    fn by_full_reason_and_by_id() {
        let s = Selection { reasons: vec!["missing_required:email".into()], ids: vec![] };
        assert!(s.includes(&record("missing_required", "missing_required:email", "q1_a")));
        assert!(!s.includes(&record("missing_required", "missing_required:phone", "q1_a")));
        let s = Selection { reasons: vec![], ids: vec!["q1_b".into()] };
        assert!(!s.includes(&record("no_rule_matched", "no_rule_matched", "q1_a")));
        assert!(s.includes(&record("no_rule_matched", "no_rule_matched", "q1_b")));
    }

    #[test]
    fn audit_key_and_outcome() {
        let r = record("no_rule_matched", "no_rule_matched", "q1_a");
        let now = DateTime::parse_from_rfc3339("2026-11-29T10:00:00Z").unwrap().with_timezone(&Utc);
        let a = ReprocessAudit::new(&r, &Reprocessed::Requarantined(Box::new(record("spam", "spam", "q1_a"))), now);
        assert_eq!(a.outcome, "requarantined:spam");
        assert_eq!(a.key(), "reprocessed/dt=2026-11-29/q1_a.json");
    }
}
