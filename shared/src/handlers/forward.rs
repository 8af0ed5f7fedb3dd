//! The forward function's invocation: an SQS batch of lead events -> Kafka (ledger-checked, then produced and
//! marked in chunks of the unmarked window), and
//! the ids of the messages to retry. A body that is not a lead event can never succeed: it is failed every time
//! and the queue's redrive policy moves it to the DLQ after maxReceiveCount receives.

use super::sqs::{BatchFailures, SqsMessage};
use crate::event::LeadEvent;
use crate::pipeline::ports::{Deadline, Ledger, Producer};
use crate::pipeline::{forward_batch_until, ForwardOutcome};

/// What one invocation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardSummary {
    /// Messages to retry.
    pub failures: BatchFailures,
    /// Events produced and acknowledged now.
    pub delivered: u64,
    /// Events the ledger had already (redelivery, replays).
    pub already_delivered: u64,
    /// Messages whose body is not a lead event (poison).
    pub unreadable: u64,
    /// Events delivered whose ledger marker could not be written (a later redelivery would produce them again).
    pub unmarked: u64,
    /// Failures a retry may fix (broker down, timeouts) and those it cannot.
    pub failed_retriable: u64,
    /// Failures a retry cannot fix.
    pub failed_final: u64,
    /// Why messages failed: (message id, error), no personal data.
    pub errors: Vec<(String, String)>,
}

/// Forwards a batch; `unmarked_window` bounds what a crash can duplicate, and records the `deadline` stops fail
/// retriably while those delivered before it count as delivered (see [`forward_batch_until`]).
pub async fn handle_batch<P: Producer, L: Ledger, D: Deadline>(
    batch: &[SqsMessage],
    producer: &mut P,
    ledger: &L,
    unmarked_window: usize,
    deadline: &D,
) -> ForwardSummary {
    let mut summary = ForwardSummary::default();
    let mut events = Vec::with_capacity(batch.len());
    let mut ids = Vec::with_capacity(batch.len());
    for m in batch {
        match serde_json::from_str::<LeadEvent>(&m.payload()) {
            Ok(e) => {
                events.push(e);
                ids.push(m.message_id.as_str());
            }
            Err(e) => {
                summary.unreadable += 1;
                summary.failures.fail(&m.message_id);
                summary.errors.push((m.message_id.clone(), format!("not a lead event: {}", error_class(&e))));
            }
        }
    }
    for (id, outcome) in
        ids.into_iter().zip(forward_batch_until(&events, producer, ledger, unmarked_window, deadline).await)
    {
        match outcome {
            ForwardOutcome::Delivered => summary.delivered += 1,
            ForwardOutcome::AlreadyDelivered => summary.already_delivered += 1,
            ForwardOutcome::DeliveredUnmarked(err) => {
                summary.delivered += 1;
                summary.unmarked += 1;
                summary.errors.push((id.to_string(), format!("delivered, but the ledger marker failed: {err}")));
            }
            ForwardOutcome::Failed(err) => {
                if err.retriable {
                    summary.failed_retriable += 1;
                } else {
                    summary.failed_final += 1;
                }
                summary.failures.fail(id);
                summary.errors.push((id.to_string(), err.to_string()));
            }
        }
    }
    summary
}

/// A JSON error's class and position, never the text around it (which may be anything a sender wrote).
pub(crate) fn error_class(e: &serde_json::Error) -> String {
    let class = match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "wrong fields",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    format!("{class} at line {} column {}", e.line(), e.column())
}
