//! The run report: how many mails ended in which terminal state.

use serde::Serialize;
use std::collections::BTreeMap;

/// Counts for one run (local replay or local stack).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    /// Input mails read.
    pub mails_read: u64,
    /// Lead events produced by extract.
    pub leads_extracted: u64,
    /// Extracted leads that repeat an earlier input's (event id, revision): the same mail received twice.
    pub duplicate_leads: u64,
    /// Events newly delivered to Kafka in this run.
    pub leads_delivered: u64,
    /// Events skipped because the ledger had them (replays, duplicates).
    pub leads_already_delivered: u64,
    /// Quarantined mails by reason.
    pub quarantined: BTreeMap<String, u64>,
    /// Unique leads (event id, revision) per rule id.
    pub per_rule: BTreeMap<String, u64>,
    /// Archive rows written and objects stored.
    pub archive_rows: u64,
    /// Archive objects stored.
    pub archive_objects: u64,
    /// Inputs or steps that failed (input and error, no personal data).
    pub errors: Vec<ReportError>,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
    /// Mails per second.
    pub mails_per_second: f64,
}

/// One failure in a run.
#[derive(Debug, Clone, Serialize)]
pub struct ReportError {
    /// The input file (or step) it concerns.
    pub input: String,
    /// What went wrong.
    pub error: String,
}

impl RunReport {
    /// Total quarantined mails.
    pub fn quarantined_total(&self) -> u64 {
        self.quarantined.values().sum()
    }

    /// Records a failure.
    pub fn error(&mut self, input: impl Into<String>, error: impl Into<String>) {
        self.errors.push(ReportError { input: input.into(), error: error.into() });
    }
}
