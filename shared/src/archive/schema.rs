//! The archive table's columns: fixed envelope columns plus `fields` as `map<string,string>`, so a policy or rule
//! change never changes the table schema. Athena/Trino-safe types only: string, bigint, boolean, map, and
//! timestamps as INT64 milliseconds UTC. Partition `dt` (Hive style, string) is in the object key, not the file.

use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};
use std::sync::Arc;

/// Key prefix of archive objects: `leads/dt=YYYY-MM-DD/<name>.parquet`.
pub const ARCHIVE_PREFIX: &str = "leads";

/// The Arrow schema of archive files.
pub fn archive_schema() -> Arc<Schema> {
    let ts = || DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ])),
        false,
    );
    Arc::new(Schema::new(vec![
        Field::new("event_id", DataType::Utf8, false),
        Field::new("revision", DataType::Utf8, false),
        Field::new("schema", DataType::Utf8, false),
        Field::new("rule_id", DataType::Utf8, false),
        Field::new("rule_version", DataType::Int64, false),
        Field::new("lead_index", DataType::Int64, false),
        Field::new("received_at", ts(), false),
        Field::new("extracted_at", ts(), false),
        Field::new("sender_domain", DataType::Utf8, true),
        Field::new("ses_message_id", DataType::Utf8, true),
        Field::new("mailbox", DataType::Utf8, true),
        Field::new("forwarded", DataType::Boolean, false),
        Field::new("subject", DataType::Utf8, true),
        Field::new("key_id", DataType::Utf8, false),
        Field::new("fields", DataType::Map(Arc::new(entries), false), false),
        Field::new("field_errors", DataType::Utf8, false),
        Field::new("pii_summary", DataType::Utf8, false),
    ]))
}

/// The archive columns as Glue/Hive types (`string`, `bigint`, `timestamp`, `boolean`, `map<string,string>`),
/// derived from [`archive_schema`] so the table and the files cannot drift apart.
pub fn glue_columns() -> Vec<(String, String)> {
    archive_schema()
        .fields()
        .iter()
        .map(|f| {
            let t = match f.data_type() {
                DataType::Utf8 => "string",
                DataType::Int64 => "bigint",
                DataType::Boolean => "boolean",
                DataType::Timestamp(..) => "timestamp",
                DataType::Map(..) => "map<string,string>",
                other => unreachable!("archive schema uses no {other:?} column"),
            };
            (f.name().clone(), t.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glue_columns_follow_the_schema() {
        let cols = glue_columns();
        assert_eq!(cols.len(), archive_schema().fields().len());
        assert_eq!(cols[0], ("event_id".into(), "string".into()));
        assert!(cols.contains(&("received_at".into(), "timestamp".into())));
        assert!(cols.contains(&("fields".into(), "map<string,string>".into())));
    }
}
