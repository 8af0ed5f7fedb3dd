//! The extract function's invocation: every SES notification in an SNS event -> raw mail (inline or from S3) ->
//! the extract step -> lead events published to the leads topic, or the raw mail and its metadata stored in the
//! quarantine. A bad mail is quarantined (the invocation succeeds); an outside system's failure fails the
//! invocation so Lambda retries it and, after its retries, the on-failure destination keeps the event.

use super::env::RulesSource;
use super::PRODUCER_ATTRIBUTE;
use crate::event::{LeadEvent, SCHEMA};
use crate::pipeline::ports::{ObjectReader, ObjectStore, PortError, Topic};
use crate::pipeline::{Delivery, ExtractOutput, ExtractStep, QuarantineLayout, QuarantineRecord};
use crate::rules::{RuleSet, RulesFormat};
use crate::ses::{notifications_in, MailContent, SesError};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The outside systems extract talks to.
pub struct ExtractPorts<'a, R, T, S> {
    /// Reads raw mail stored by the SES S3 action.
    pub mail: &'a R,
    /// The leads topic.
    pub leads: &'a T,
    /// The quarantine bucket (prefix included), laid out as [`QuarantineLayout::Bucket`].
    pub quarantine: &'a S,
    /// Operations alerts (quarantined mail), if configured.
    pub alerts: Option<&'a T>,
    /// The business's new-lead alerts, if configured.
    pub lead_alerts: Option<&'a T>,
}

/// What one invocation did (for logs and metrics; no personal data).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractSummary {
    /// Mails processed.
    pub mails: u64,
    /// Lead events published.
    pub leads: u64,
    /// Quarantined mails by reason kind.
    pub quarantined: BTreeMap<String, u64>,
    /// PII values replaced in published events.
    pub pii_redactions: u64,
    /// Messages ignored because leadpipe itself published them (a topic loop).
    pub own_outputs_skipped: u64,
    /// Raw mail bytes processed.
    pub bytes: u64,
    /// Published event ids (for logs).
    pub event_ids: Vec<String>,
    /// Quarantine ids (for logs).
    pub quarantine_ids: Vec<String>,
}

/// Why an invocation failed (Lambda retries it; then it goes to the on-failure destination).
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The event holds no SES notification.
    #[error("event is not an SES receipt notification: {0}")]
    NotSes(#[from] SesError),
    /// The notification has neither inline content nor an S3 location.
    #[error("notification for SES message {0} has neither content nor an S3 location")]
    NoContent(String),
    /// An outside system failed.
    #[error("{0}")]
    Port(#[from] PortError),
}

impl ExtractError {
    /// Whether a retry may succeed (Lambda retries every error; this decides the log level and metric).
    pub fn retriable(&self) -> bool {
        matches!(self, Self::Port(p) if p.retriable)
    }

    /// A short error type for the Lambda error response and the on-failure destination record.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotSes(_) => "NotSesNotification",
            Self::NoContent(_) => "NoMailContent",
            Self::Port(p) if p.retriable => "OutsideSystemUnavailable",
            Self::Port(_) => "OutsideSystemError",
        }
    }
}

/// Handles one Lambda SNS event (or a bare SES notification / SNS envelope).
pub async fn handle_event<R: ObjectReader, T: Topic, S: ObjectStore>(
    step: &ExtractStep,
    ports: &ExtractPorts<'_, R, T, S>,
    event: &Value,
    now: DateTime<Utc>,
) -> Result<ExtractSummary, ExtractError> {
    let mut summary = ExtractSummary::default();
    for message in messages(event) {
        if message.own_output {
            summary.own_outputs_skipped += 1;
            continue;
        }
        for n in notifications_in(&message.text)? {
            let id = n.message_id.clone().unwrap_or_else(|| "(no messageId)".into());
            let raw = match &n.content {
                MailContent::Inline(bytes) => std::borrow::Cow::Borrowed(bytes.as_slice()),
                MailContent::S3 { bucket, key } => std::borrow::Cow::Owned(ports.mail.get(bucket, key).await?),
                MailContent::Missing => return Err(ExtractError::NoContent(id)),
            };
            let delivery = Delivery {
                ses_message_id: n.message_id.clone(),
                received_at: n.timestamp,
                recipients: n.recipients.clone(),
                verdicts: Some(n.verdicts.clone()),
            };
            summary.mails += 1;
            summary.bytes += raw.len() as u64;
            match step.process(&raw, &delivery, now) {
                ExtractOutput::Leads(events) => {
                    for e in &events {
                        publish_lead(e, ports).await?;
                        summary.leads += 1;
                        summary.pii_redactions += e.pii.total_replaced();
                        summary.event_ids.push(e.event_id.clone());
                    }
                }
                ExtractOutput::Quarantined(record) => {
                    store_quarantine(&raw, &record, ports).await?;
                    *summary.quarantined.entry(record.reason_kind.clone()).or_default() += 1;
                    summary.quarantine_ids.push(record.quarantine_id.clone());
                }
            }
        }
    }
    Ok(summary)
}

/// The message attributes of a lead event (for SNS subscription filter policies and SQS consumers).
pub fn lead_attributes(e: &LeadEvent) -> Vec<(&'static str, String)> {
    let mut a = vec![
        (PRODUCER_ATTRIBUTE.0, PRODUCER_ATTRIBUTE.1.to_string()),
        ("schema", e.schema.clone()),
        ("event_id", e.event_id.clone()),
        ("revision", e.revision.clone()),
        ("rule_id", e.rule_id.clone()),
    ];
    if let Some(m) = &e.source.mailbox {
        a.push(("mailbox", m.clone()));
    }
    a
}

async fn publish_lead<R, T: Topic, S>(e: &LeadEvent, ports: &ExtractPorts<'_, R, T, S>) -> Result<(), PortError> {
    let body = serde_json::to_string(e).expect("events serialise");
    let attributes = lead_attributes(e);
    ports.leads.publish(&body, &attributes).await?;
    if let Some(alerts) = ports.lead_alerts {
        publish_lead_alert(e, alerts).await?;
    }
    Ok(())
}

/// Publishes the business's new-lead alert for `e`. The event's fields are already anonymized by the policy:
/// the alert shows nothing the event does not.
pub async fn publish_lead_alert<T: Topic>(e: &LeadEvent, alerts: &T) -> Result<(), PortError> {
    let alert = json!({
        "kind": "lead", "event_id": e.event_id, "rule_id": e.rule_id, "mailbox": e.source.mailbox,
        "received_at": e.received_at, "subject": e.subject, "fields": e.fields,
    });
    alerts.publish(&alert.to_string(), &alert_attributes("lead")).await
}

async fn store_quarantine<R, T: Topic, S: ObjectStore>(
    raw: &[u8],
    record: &QuarantineRecord,
    ports: &ExtractPorts<'_, R, T, S>,
) -> Result<(), PortError> {
    // The mail first, its metadata last: a listing of `meta/` never names a mail that is not stored.
    for (key, bytes) in record.objects(raw, QuarantineLayout::Bucket) {
        ports.quarantine.put(&key, bytes).await?;
    }
    if let Some(alerts) = ports.alerts {
        let alert = json!({
            "kind": "quarantine", "quarantine_id": record.quarantine_id, "reason": record.reason,
            "detail": record.detail, "rule_id": record.rule_id, "mailbox": record.mailbox,
            "sender_domain": record.sender_domain, "received_at": record.received_at,
        });
        alerts.publish(&alert.to_string(), &alert_attributes("quarantine")).await?;
    }
    Ok(())
}

fn alert_attributes(kind: &str) -> Vec<(&'static str, String)> {
    vec![(PRODUCER_ATTRIBUTE.0, PRODUCER_ATTRIBUTE.1.to_string()), ("kind", kind.to_string())]
}

/// One SNS message of the event and whether leadpipe published it.
struct Message {
    text: String,
    own_output: bool,
}

/// The SNS messages of a Lambda event (or the document itself when it is a bare notification).
fn messages(event: &Value) -> Vec<Message> {
    let Some(records) = event.get("Records").and_then(Value::as_array) else {
        return vec![Message { text: event.to_string(), own_output: is_own_output(event, None) }];
    };
    records
        .iter()
        .map(|r| {
            let sns = r.get("Sns").unwrap_or(&Value::Null);
            let text = sns.get("Message").and_then(Value::as_str).unwrap_or_default().to_string();
            let own_output = is_own_output(&serde_json::from_str(&text).unwrap_or(Value::Null), Some(sns));
            Message { text, own_output }
        })
        .collect()
}

/// Recursion guard: a message carrying leadpipe's producer attribute, or a body that is one of its events.
fn is_own_output(body: &Value, sns: Option<&Value>) -> bool {
    let attribute = sns
        .and_then(|s| s.pointer(&format!("/MessageAttributes/{}/Value", PRODUCER_ATTRIBUTE.0)))
        .and_then(Value::as_str)
        .is_some_and(|v| v == PRODUCER_ATTRIBUTE.1);
    let schema = body.get("schema").and_then(Value::as_str).is_some_and(|s| s == SCHEMA || s.starts_with("leadpipe."));
    attribute || schema
}

/// Loads the rules file from where the configuration says (S3 object or local file); errors name the location.
pub async fn load_rules<R: ObjectReader>(source: &RulesSource, reader: &R) -> Result<RuleSet, String> {
    match source {
        RulesSource::File(path) => RuleSet::load(path).map_err(|e| e.to_string()),
        RulesSource::S3 { bucket, key } => {
            let name = format!("s3://{bucket}/{key}");
            let format = match key.rsplit('.').next().map(str::to_ascii_lowercase).as_deref() {
                Some("toml") => RulesFormat::Toml,
                Some("yaml" | "yml") => RulesFormat::Yaml,
                _ => return Err(format!("{name}: the rules file must end in .toml, .yaml or .yml")),
            };
            let bytes = reader.get(bucket, key).await.map_err(|e| format!("rules file {name}: {e}"))?;
            let text = String::from_utf8(bytes).map_err(|_| format!("{name}: not UTF-8 text"))?;
            RuleSet::parse(&text, format, &name).map_err(|e| e.to_string())
        }
    }
}
