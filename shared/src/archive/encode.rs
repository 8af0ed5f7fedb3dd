//! Events -> Parquet objects, one per `dt` day, named by a hash of the (event id, revision) pairs they hold.

use super::schema::{archive_schema, ARCHIVE_PREFIX};
use crate::event::LeadEvent;
use arrow_array::builder::{
    BooleanBuilder, Int64Builder, MapBuilder, MapFieldNames, StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Rows per row group: large enough for Athena's scans to stay sequential, small enough for a Lambda's memory.
const ROW_GROUP_ROWS: usize = 50_000;

/// One Parquet object to store.
#[derive(Debug, Clone)]
pub struct ArchiveObject {
    /// Object key: `leads/dt=YYYY-MM-DD/part-<hash>.parquet`.
    pub key: String,
    /// The `dt` partition value.
    pub day: String,
    /// Number of rows.
    pub rows: usize,
    /// The Parquet bytes.
    pub bytes: Vec<u8>,
}

/// Why a batch could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// An event's timestamp is not RFC 3339.
    #[error("event {event_id}: {column} {value:?} is not an RFC 3339 timestamp")]
    BadTimestamp {
        /// The event.
        event_id: String,
        /// The column.
        column: &'static str,
        /// The offending value (a timestamp, never PII).
        value: String,
    },
    /// Arrow or Parquet failed.
    #[error("parquet encoding failed: {0}")]
    Parquet(String),
}

/// Encodes events into one object per UTC day of `received_at`, rows sorted by (event id, revision).
pub fn encode_batch(events: &[LeadEvent]) -> Result<Vec<ArchiveObject>, ArchiveError> {
    let mut by_day: BTreeMap<&str, Vec<&LeadEvent>> = BTreeMap::new();
    for e in events {
        by_day.entry(e.partition_day()).or_default().push(e);
    }
    by_day
        .into_iter()
        .map(|(day, mut group)| {
            group.sort_by(|a, b| (&a.event_id, &a.revision).cmp(&(&b.event_id, &b.revision)));
            group.dedup_by(|a, b| a.event_id == b.event_id && a.revision == b.revision);
            let bytes = write_parquet(&group)?;
            Ok(ArchiveObject { key: object_key(day, &group), day: day.to_string(), rows: group.len(), bytes })
        })
        .collect()
}

/// `leads/dt=<day>/part-<first 16 bytes of sha256 over the sorted "event_id@revision" lines, hex>.parquet`.
fn object_key(day: &str, sorted: &[&LeadEvent]) -> String {
    let mut h = Sha256::new();
    for e in sorted {
        h.update(e.event_id.as_bytes());
        h.update(b"@");
        h.update(e.revision.as_bytes());
        h.update(b"\n");
    }
    let hash = data_encoding::HEXLOWER.encode(&h.finalize()[..16]);
    format!("{ARCHIVE_PREFIX}/dt={day}/part-{hash}.parquet")
}

fn millis(e: &LeadEvent, column: &'static str, value: &str) -> Result<i64, ArchiveError> {
    chrono::DateTime::parse_from_rfc3339(value).map(|t| t.timestamp_millis()).map_err(|_| ArchiveError::BadTimestamp {
        event_id: e.event_id.clone(),
        column,
        value: value.to_string(),
    })
}

fn write_parquet(events: &[&LeadEvent]) -> Result<Vec<u8>, ArchiveError> {
    let schema = archive_schema();
    let s = |f: &dyn Fn(&LeadEvent) -> Option<String>| -> ArrayRef {
        let mut b = StringBuilder::new();
        for e in events {
            b.append_option(f(e));
        }
        Arc::new(b.finish())
    };
    let event_id = s(&|e| Some(e.event_id.clone()));
    let revision = s(&|e| Some(e.revision.clone()));
    let schema_col = s(&|e| Some(e.schema.clone()));
    let rule_id = s(&|e| Some(e.rule_id.clone()));
    let sender_domain = s(&|e| e.source.sender_domain.clone());
    let ses_message_id = s(&|e| e.source.ses_message_id.clone());
    let mailbox = s(&|e| e.source.mailbox.clone());
    let subject = s(&|e| e.subject.clone());
    let key_id = s(&|e| Some(e.key_id.clone()));
    let field_errors = s(&|e| serde_json::to_string(&e.field_errors).ok());
    let pii_summary = s(&|e| serde_json::to_string(&e.pii).ok());
    let mut rule_version = Int64Builder::new();
    let mut lead_index = Int64Builder::new();
    let mut received = TimestampMillisecondBuilder::new().with_timezone("UTC");
    let mut extracted = TimestampMillisecondBuilder::new().with_timezone("UTC");
    let mut forwarded = BooleanBuilder::new();
    let names = MapFieldNames { entry: "entries".into(), key: "key".into(), value: "value".into() };
    let mut fields = MapBuilder::new(Some(names), StringBuilder::new(), StringBuilder::new());
    for e in events {
        rule_version.append_value(i64::from(e.rule_version));
        lead_index.append_value(i64::from(e.lead_index));
        received.append_value(millis(e, "received_at", &e.received_at)?);
        extracted.append_value(millis(e, "extracted_at", &e.extracted_at)?);
        forwarded.append_value(e.source.forwarded);
        for (k, v) in &e.fields {
            fields.keys().append_value(k);
            match v {
                serde_json::Value::Null => fields.values().append_null(),
                serde_json::Value::String(s) => fields.values().append_value(s),
                serde_json::Value::Object(m) if m.contains_key("amount") && m.contains_key("currency") => {
                    let text = format!(
                        "{} {}",
                        m["amount"].as_str().unwrap_or_default(),
                        m["currency"].as_str().unwrap_or_default()
                    );
                    fields.values().append_value(text);
                }
                other => fields.values().append_value(other.to_string()),
            }
        }
        fields.append(true).map_err(|e| ArchiveError::Parquet(e.to_string()))?;
    }
    let columns: Vec<ArrayRef> = vec![
        event_id,
        revision,
        schema_col,
        rule_id,
        Arc::new(rule_version.finish()),
        Arc::new(lead_index.finish()),
        Arc::new(received.finish()),
        Arc::new(extracted.finish()),
        sender_domain,
        ses_message_id,
        mailbox,
        Arc::new(forwarded.finish()),
        subject,
        key_id,
        Arc::new(fields.finish()),
        field_errors,
        pii_summary,
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| ArchiveError::Parquet(e.to_string()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).map_err(|e| ArchiveError::Parquet(e.to_string()))?))
        .set_max_row_group_size(ROW_GROUP_ROWS)
        .build();
    let mut out = Vec::new();
    let mut writer =
        ArrowWriter::try_new(&mut out, schema, Some(props)).map_err(|e| ArchiveError::Parquet(e.to_string()))?;
    writer.write(&batch).map_err(|e| ArchiveError::Parquet(e.to_string()))?;
    writer.close().map_err(|e| ArchiveError::Parquet(e.to_string()))?;
    Ok(out)
}
