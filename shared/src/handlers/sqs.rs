//! SQS batches as the functions see them, and the partial batch failure answer.

use serde_json::Value;

/// One SQS message of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsMessage {
    /// SQS message id (what a partial batch failure names).
    pub message_id: String,
    /// The body: a lead event (raw message delivery) or an SNS notification wrapping one.
    pub body: String,
}

impl SqsMessage {
    /// The message's payload: the body itself, or the `Message` of an SNS notification envelope when the
    /// subscription does not use raw message delivery.
    pub fn payload(&self) -> std::borrow::Cow<'_, str> {
        if self.body.contains("\"Type\"") {
            if let Ok(v) = serde_json::from_str::<Value>(&self.body) {
                if let (Some("Notification"), Some(m)) =
                    (v.get("Type").and_then(Value::as_str), v.get("Message").and_then(Value::as_str))
                {
                    return std::borrow::Cow::Owned(m.to_string());
                }
            }
        }
        std::borrow::Cow::Borrowed(&self.body)
    }
}

/// Message ids of a batch that must be retried (SQS makes them visible again; after maxReceiveCount receives
/// they move to the DLQ). Everything else in the batch is deleted by the event source mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchFailures {
    /// The failed message ids, in batch order, without repeats.
    pub message_ids: Vec<String>,
}

impl BatchFailures {
    /// Marks a message as failed (once).
    pub fn fail(&mut self, message_id: &str) {
        if !self.message_ids.iter().any(|m| m == message_id) {
            self.message_ids.push(message_id.to_string());
        }
    }

    /// Marks every message of the batch as failed (the invocation ran out of time before finishing them).
    pub fn fail_all(&mut self, batch: &[SqsMessage]) {
        for m in batch {
            self.fail(&m.message_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_unwraps_sns_envelopes_only() {
        let raw = SqsMessage { message_id: "1".into(), body: "{\"schema\":\"x\"}".into() };
        assert_eq!(raw.payload(), "{\"schema\":\"x\"}");
        let wrapped = SqsMessage {
            message_id: "2".into(),
            body: serde_json::json!({"Type": "Notification", "Message": "{\"schema\":\"x\"}"}).to_string(),
        };
        assert_eq!(wrapped.payload(), "{\"schema\":\"x\"}");
        let mut f = BatchFailures::default();
        f.fail("2");
        f.fail_all(&[raw, wrapped]);
        assert_eq!(f.message_ids, vec!["2".to_string(), "1".to_string()]);
    }
}
