//! `leadpipe quarantine reprocess`: the current rules over quarantined mail, acting on each decision in an order
//! that a crash at any point cannot turn into a lost lead or a second record downstream:
//! publish the lead events (deterministic event ids: a re-run publishes the same ids, which the forwarder's ledger
//! and the archive's dedup view absorb), store the audit line, remove the raw mail, remove the metadata last (the
//! metadata is what a re-run lists, so an interrupted entry is found again).

use super::bucket::{Entry, QuarantineBucket};
use anyhow::Result;
use leadpipe_shared::handlers::extract::{lead_attributes, publish_lead_alert};
use leadpipe_shared::pipeline::ports::Topic;
use leadpipe_shared::pipeline::{reprocess, ExtractStep, QuarantineLayout, ReprocessAudit, Reprocessed, Selection};
use std::collections::BTreeMap;

/// What a run did, by outcome.
#[derive(Debug, Default)]
pub struct ReprocessReport {
    /// Entries selected.
    pub selected: usize,
    /// Entries that became leads (and left the quarantine).
    pub to_leads: usize,
    /// Lead events published.
    pub events: usize,
    /// Entries quarantined again for another reason.
    pub requarantined: BTreeMap<String, usize>,
    /// Entries still quarantined for the same reason.
    pub unchanged: usize,
    /// Metadata whose mail was already removed by an interrupted run: the metadata is removed now.
    pub completed_interrupted: usize,
    /// Entries that failed (left as they were), with the error.
    pub failed: Vec<(String, String)>,
}

/// Where reprocessed leads go: the leads topic and, if configured, the business's new-lead alerts.
pub struct Outputs<'a, T> {
    /// The leads topic.
    pub leads: &'a T,
    /// The new-lead alert topic (the stack's `LeadAlertTopicArn`), if any.
    pub lead_alerts: Option<&'a T>,
}

/// Reprocesses the selected entries, publishing leads to `out`. With `dry_run`, decides and reports only.
pub async fn run<T: Topic>(
    bucket: &QuarantineBucket,
    entries: &[Entry],
    selection: &Selection,
    step: &ExtractStep,
    out: &Outputs<'_, T>,
    dry_run: bool,
) -> Result<ReprocessReport> {
    let mut report = ReprocessReport::default();
    for entry in entries.iter().filter(|e| selection.includes(&e.record)) {
        report.selected += 1;
        let id = &entry.record.quarantine_id;
        match one(bucket, entry, step, out, dry_run, &mut report).await {
            Ok(line) => println!("{id}  {}  -> {line}", entry.record.reason),
            Err(e) => {
                println!("{id}  {}  -> failed: {e:#}", entry.record.reason);
                report.failed.push((id.clone(), format!("{e:#}")));
            }
        }
    }
    Ok(report)
}

async fn one<T: Topic>(
    bucket: &QuarantineBucket,
    entry: &Entry,
    step: &ExtractStep,
    out: &Outputs<'_, T>,
    dry_run: bool,
    report: &mut ReprocessReport,
) -> Result<String> {
    let Some(raw) = bucket.get(&entry.mail_key).await? else {
        // An earlier run removed the mail and stopped before the metadata: finish its removal.
        if !dry_run {
            bucket.delete(&entry.meta_key).await?;
        }
        report.completed_interrupted += 1;
        return Ok("mail already removed by an interrupted run; metadata removed".into());
    };
    let now = chrono::Utc::now();
    let decision = reprocess(step, &entry.record, &raw, now);
    let line = match &decision {
        Reprocessed::Unchanged => {
            report.unchanged += 1;
            return Ok("unchanged".into());
        }
        Reprocessed::Leads(events) => {
            let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
            format!("lead {}", ids.join(", "))
        }
        Reprocessed::Requarantined(new) => format!("quarantined again: {}", new.reason),
    };
    if dry_run {
        return Ok(format!("{line} (dry run)"));
    }
    let mut keep = Vec::new();
    match &decision {
        Reprocessed::Leads(events) => {
            for e in events {
                let body = serde_json::to_string(e)?;
                out.leads.publish(&body, &lead_attributes(e)).await.map_err(|e| anyhow::anyhow!("publish: {e}"))?;
                if let Some(alerts) = out.lead_alerts {
                    publish_lead_alert(e, alerts).await.map_err(|e| anyhow::anyhow!("lead alert: {e}"))?;
                }
            }
            report.to_leads += 1;
            report.events += events.len();
        }
        Reprocessed::Requarantined(new) => {
            for (key, bytes) in new.objects(&raw, QuarantineLayout::Bucket) {
                keep.push(format!("{}{key}", bucket.prefix));
                bucket.put(&key, bytes).await?;
            }
            *report.requarantined.entry(new.reason.clone()).or_default() += 1;
        }
        Reprocessed::Unchanged => unreachable!("returned above"),
    }
    let audit = ReprocessAudit::new(&entry.record, &decision, now);
    bucket.put(&audit.key(), serde_json::to_vec(&audit)?).await?;
    for key in [&entry.mail_key, &entry.meta_key] {
        if !keep.contains(key) {
            bucket.delete(key).await?;
        }
    }
    Ok(line)
}
