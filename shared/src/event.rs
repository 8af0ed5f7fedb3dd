//! The lead event (`leadpipe.lead.v1`): what extract publishes, Kafka carries and the archive stores. It holds
//! no clear-text PII. `event_id` is deterministic so redelivery and replays never make a second lead.
//! JSON Schema: `docs/schema/lead-event.v1.json`.

use crate::anonymize::{AnonymizedLead, PiiSummary};
use crate::email::Email;
use crate::extraction::{Extraction, FieldError};
use chrono::{DateTime, SecondsFormat, Utc};
use data_encoding::BASE32_NOPAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The schema name and version of every event this code writes.
pub const SCHEMA: &str = "leadpipe.lead.v1";

/// One lead, anonymized and versioned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadEvent {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Deterministic id: the same mail (and lead index) always gets the same id.
    pub event_id: String,
    /// `<rule id>@<rule version>`: a re-extraction after a rule change is a newer revision of the same event.
    pub revision: String,
    /// Position of the lead in its mail (0 unless one mail carries several leads).
    pub lead_index: u32,
    /// When the mail was received (RFC 3339 UTC, milliseconds).
    pub received_at: String,
    /// When this revision was extracted (RFC 3339 UTC, milliseconds).
    pub extracted_at: String,
    /// The rule that produced the event.
    pub rule_id: String,
    /// Its version.
    pub rule_version: u32,
    /// Where the mail came from, without personal data.
    pub source: EventSource,
    /// The subject with PII scrubbed.
    pub subject: Option<String>,
    /// The anonymized field values by field name, in rule order.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// Optional fields that were missing or invalid (names and reasons only).
    pub field_errors: Vec<FieldError>,
    /// What anonymization did.
    pub pii: PiiSummary,
    /// Id of the pseudonym key, so a key rotation is visible in the data.
    pub key_id: String,
}

/// The origin of a lead, free of personal data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSource {
    /// Domain of the sending platform (From address).
    pub sender_domain: Option<String>,
    /// SES message id (absent in local replay of .eml files).
    pub ses_message_id: Option<String>,
    /// The receiving mailbox as a configured id (never the raw recipient address).
    pub mailbox: Option<String>,
    /// True when the lead was in a forwarded message.
    pub forwarded: bool,
}

/// Everything about a mail's delivery that is not in the mail itself.
#[derive(Debug, Clone, Default)]
pub struct Receipt {
    /// When the mail was received; falls back to the mail's own dates.
    pub received_at: Option<DateTime<Utc>>,
    /// SES message id, if it came through SES.
    pub ses_message_id: Option<String>,
    /// The configured id of the receiving mailbox.
    pub mailbox: Option<String>,
}

/// A mail's identity for event ids: the sending platform's Message-ID, or without one a hash of the canonical
/// From, Date, Subject and body (never raw bytes: SES adds headers per receipt).
pub fn mail_identity(email: &Email) -> String {
    if let Some(id) = &email.message_id {
        return format!("mid:{}", id.trim().trim_matches(|c| c == '<' || c == '>'));
    }
    let mut h = Sha256::new();
    for part in [
        email.from.as_ref().map(|m| m.address.as_str()).unwrap_or(""),
        &email.date.map(|d| d.to_rfc3339()).unwrap_or_default(),
        email.subject.as_deref().unwrap_or(""),
        &crate::fields::collapse_whitespace(email.text.as_deref().unwrap_or("")),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    format!("content:{}", data_encoding::HEXLOWER.encode(&h.finalize()))
}

/// The deterministic event id for lead `lead_index` of the mail with `identity`: `ev1_` + 26 base32 chars.
pub fn event_id(identity: &str, lead_index: u32) -> String {
    let mut h = Sha256::new();
    h.update(b"leadpipe/event/v1\0");
    h.update(identity.as_bytes());
    h.update(b"\0");
    h.update(lead_index.to_string().as_bytes());
    format!("ev1_{}", BASE32_NOPAD.encode(&h.finalize()[..16]).to_lowercase())
}

/// RFC 3339 with milliseconds, UTC (`2026-11-20T14:05:00.000Z`), the one timestamp spelling of events.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl LeadEvent {
    /// Assembles the event for an extracted, anonymized lead.
    pub fn new(
        email: &Email,
        receipt: &Receipt,
        extraction: &Extraction,
        lead: AnonymizedLead,
        lead_index: u32,
        extracted_at: DateTime<Utc>,
    ) -> Self {
        let received = receipt.received_at.or(email.received_at).or(email.date).unwrap_or(extracted_at);
        let fields = lead
            .fields
            .into_iter()
            .map(|f| (f.name, serde_json::to_value(f.value).unwrap_or(serde_json::Value::Null)))
            .collect();
        Self {
            schema: SCHEMA.to_string(),
            event_id: event_id(&mail_identity(email), lead_index),
            revision: format!("{}@{}", extraction.rule_id, extraction.rule_version),
            lead_index,
            received_at: timestamp(received),
            extracted_at: timestamp(extracted_at),
            rule_id: extraction.rule_id.clone(),
            rule_version: extraction.rule_version,
            source: EventSource {
                sender_domain: email.sender_domain().map(str::to_string),
                ses_message_id: receipt.ses_message_id.clone(),
                mailbox: receipt.mailbox.clone(),
                forwarded: extraction.forwarded,
            },
            subject: lead.subject,
            fields,
            field_errors: extraction.errors.clone(),
            pii: lead.pii,
            key_id: lead.key_id,
        }
    }

    /// The `dt=YYYY-MM-DD` partition (UTC day of `received_at`).
    pub fn partition_day(&self) -> &str {
        self.received_at.get(..10).unwrap_or("1970-01-01")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let a = event_id("mid:abc@cars.example", 0);
        assert_eq!(a, event_id("mid:abc@cars.example", 0));
        assert!(a.starts_with("ev1_") && a.len() == 4 + 26, "{a}");
        assert_ne!(a, event_id("mid:abc@cars.example", 1));
        assert_ne!(a, event_id("mid:abd@cars.example", 0));
    }

    #[test]
    fn identity_ignores_headers_added_per_receipt() {
        let base =
            "From: a@cars.example\r\nDate: Fri, 20 Nov 2026 09:15:00 -0500\r\nSubject: New lead\r\n\r\nName: Jane\r\n";
        let again =
            format!("Received: from mx2 by ses; Fri, 20 Nov 2026 14:16:00 +0000\r\nX-SES-Spam-Verdict: PASS\r\n{base}");
        let parse = |s: &str| Email::parse(s.as_bytes(), &crate::ParseLimits::default()).expect("parses");
        assert_eq!(mail_identity(&parse(base)), mail_identity(&parse(&again)));
        assert!(mail_identity(&parse(base)).starts_with("content:"));
        let with_id = format!("Message-ID: <x1@cars.example>\r\n{base}");
        assert_eq!(mail_identity(&parse(&with_id)), "mid:x1@cars.example");
    }
}
