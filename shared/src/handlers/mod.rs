//! What each Lambda function does with one invocation, behind the pipeline's ports: `extract` (an SNS event of
//! SES notifications -> lead events on the leads topic, or quarantine), `forward` (an SQS batch of events ->
//! Kafka) and `archive` (an SQS batch -> Parquet objects). The function crates only build clients from their
//! configuration ([`env`]) and hand each event to these; SQS consumers answer with the ids of the failed
//! messages ([`sqs`]), and every invocation emits CloudWatch metrics ([`metrics`]).

pub mod archive;
pub mod env;
pub mod extract;
pub mod forward;
pub mod metrics;
pub mod sqs;

/// The message attribute every leadpipe publication carries (`producer=leadpipe`), so extract can refuse its own
/// outputs if a topic loop is ever configured.
pub const PRODUCER_ATTRIBUTE: (&str, &str) = ("producer", "leadpipe");

/// The time an invocation may still spend on work: until `margin` before its deadline (epoch milliseconds, as
/// the Runtime API's `Lambda-Runtime-Deadline-Ms`), never negative.
pub fn work_budget(
    deadline_ms: u64,
    now: chrono::DateTime<chrono::Utc>,
    margin: std::time::Duration,
) -> std::time::Duration {
    let left = deadline_ms.saturating_sub(u64::try_from(now.timestamp_millis()).unwrap_or(0));
    std::time::Duration::from_millis(left).saturating_sub(margin)
}

/// The extra fields of a function's "init failed" log line: the error (its whole chain), and when the AWS client
/// trusts only the embedded Amazon roots, a note on how to use another certificate store.
#[cfg(feature = "aws")]
pub fn init_failure(error: String) -> serde_json::Value {
    let mut fields = serde_json::json!({ "error": error });
    if let Some(note) = crate::adapters::aws::trust_note() {
        fields["tls_roots"] = note.into();
    }
    fields
}

/// One structured log line (JSON) for CloudWatch Logs: level, function, message and extra fields, never PII
/// (callers pass ids, counts and classified errors only).
pub fn log_line(level: &str, function: &str, message: &str, extra: serde_json::Value) -> String {
    let mut line = serde_json::json!({"level": level, "function": function, "message": message});
    if let (Some(obj), serde_json::Value::Object(more)) = (line.as_object_mut(), extra) {
        obj.extend(more);
    }
    line.to_string()
}
