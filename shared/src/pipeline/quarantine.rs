//! Quarantine metadata: why a mail is not a lead, stored beside the raw mail. No personal data: reason, rule,
//! field names, the scrubbed subject and ids.

use crate::email::Email;
use crate::event::{mail_identity, timestamp, Receipt};
use crate::extraction::{FieldError, Quarantine};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The metadata of one quarantined mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuarantineRecord {
    /// Deterministic id (`q1_...`): the same mail quarantined twice gets the same id.
    pub quarantine_id: String,
    /// Machine-readable reason (`no_rule_matched`, `missing_required:email`, ...).
    pub reason: String,
    /// The reason without its parameter (the folder it is filed under).
    pub reason_kind: String,
    /// The rule tried, if any.
    pub rule_id: Option<String>,
    /// Its version.
    pub rule_version: Option<u32>,
    /// Missing or invalid fields (names and reasons only).
    pub field_errors: Vec<FieldError>,
    /// Explanation without personal data.
    pub detail: String,
    /// The subject, scrubbed.
    pub subject: Option<String>,
    /// Sender domain.
    pub sender_domain: Option<String>,
    /// SES message id, if any.
    pub ses_message_id: Option<String>,
    /// Configured mailbox id.
    pub mailbox: Option<String>,
    /// Raw size in bytes.
    pub size_bytes: usize,
    /// When the mail was received (RFC 3339 UTC).
    pub received_at: String,
    /// When it was quarantined.
    pub quarantined_at: String,
    /// Key id used for the scrubbed subject's pseudonyms.
    pub key_id: String,
}

impl QuarantineRecord {
    /// Builds the record for a quarantined mail.
    pub fn new(
        raw: &[u8],
        email: Option<&Email>,
        q: &Quarantine,
        subject: Option<String>,
        receipt: &Receipt,
        key_id: &str,
        now: DateTime<Utc>,
    ) -> Self {
        let identity = match email {
            Some(e) => mail_identity(e),
            None => format!("raw:{}", data_encoding::HEXLOWER.encode(&Sha256::digest(raw))),
        };
        let hash = Sha256::digest(format!("leadpipe/quarantine/v1\0{identity}").as_bytes());
        let received = receipt.received_at.or(email.and_then(|e| e.received_at.or(e.date))).unwrap_or(now);
        Self {
            quarantine_id: format!("q1_{}", data_encoding::BASE32_NOPAD.encode(&hash[..16]).to_lowercase()),
            reason: q.reason.to_string(),
            reason_kind: q.reason.kind().to_string(),
            rule_id: q.rule_id.clone(),
            rule_version: q.rule_version,
            field_errors: q.field_errors.clone(),
            detail: q.detail.clone(),
            subject,
            sender_domain: email.and_then(|e| e.sender_domain()).map(str::to_string),
            ses_message_id: receipt.ses_message_id.clone(),
            mailbox: receipt.mailbox.clone(),
            size_bytes: raw.len(),
            received_at: timestamp(received),
            quarantined_at: timestamp(now),
            key_id: key_id.to_string(),
        }
    }
}

/// How quarantined mail is laid out in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuarantineLayout {
    /// A local folder for people: `<reason kind>/<id>.eml` beside `<reason kind>/<id>.json` (pretty JSON).
    Folder,
    /// The quarantine bucket, readable by Athena: `mail/<reason kind>/<id>.eml` and the metadata as one JSON line
    /// in `meta/dt=<day received>/<id>.json` (the `quarantine` table reads only `meta/`).
    Bucket,
}

impl QuarantineRecord {
    /// The objects to store for this record and its raw mail: (key, bytes) for the mail, then the metadata.
    pub fn objects(&self, raw: &[u8], layout: QuarantineLayout) -> [(String, Vec<u8>); 2] {
        let id = &self.quarantine_id;
        let kind = &self.reason_kind;
        match layout {
            QuarantineLayout::Folder => [
                (format!("{kind}/{id}.eml"), raw.to_vec()),
                (
                    format!("{kind}/{id}.json"),
                    (serde_json::to_string_pretty(self).expect("records serialise") + "\n").into_bytes(),
                ),
            ],
            QuarantineLayout::Bucket => {
                let day = self.received_at.get(..10).unwrap_or("1970-01-01");
                [
                    (format!("mail/{kind}/{id}.eml"), raw.to_vec()),
                    (
                        format!("meta/dt={day}/{id}.json"),
                        (serde_json::to_string(self).expect("records serialise") + "\n").into_bytes(),
                    ),
                ]
            }
        }
    }
}
