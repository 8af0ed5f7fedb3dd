//! Ports: the only shape in which outside systems appear to the pipeline steps. Adapters implement them for
//! local files (replay) and for Kafka/S3 (functions).

use super::forward::KafkaRecord;
use std::future::Future;

/// An error from an outside system, classified once so callers know whether a retry can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{system}: {message}")]
pub struct PortError {
    /// Which system (`kafka`, `s3`, `ledger`, `local files`).
    pub system: &'static str,
    /// What failed.
    pub message: String,
    /// Whether a retry may succeed (timeouts, throttling, broker unavailable).
    pub retriable: bool,
}

/// Produces records to the lead topic and reports each one's delivery.
pub trait Producer {
    /// Sends `records` concurrently; the result at index i is record i's delivery report.
    fn produce(&mut self, records: &[KafkaRecord]) -> impl Future<Output = Vec<Result<(), PortError>>> + Send;
}

/// Remembers which (event id, revision) pairs were delivered to Kafka.
pub trait Ledger {
    /// True when this revision of the event was delivered before.
    fn is_delivered(&self, event_id: &str, revision: &str) -> impl Future<Output = Result<bool, PortError>> + Send;
    /// Records the delivery (after the broker's acknowledgement); already present is not an error.
    fn mark_delivered(&self, event_id: &str, revision: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Stores objects by key (overwriting the same key is allowed: archive keys are deterministic).
pub trait ObjectStore {
    /// Stores `bytes` under `key`.
    fn put(&self, key: &str, bytes: Vec<u8>) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Publishes messages to a topic (the leads topic, the alert topic).
pub trait Topic {
    /// Publishes `message` with string message `attributes` (usable in subscription filter policies).
    fn publish(
        &self,
        message: &str,
        attributes: &[(&str, String)],
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Reads stored objects (raw mail stored by the SES S3 action).
pub trait ObjectReader {
    /// The bytes of `s3://bucket/key` (or its local equivalent).
    fn get(&self, bucket: &str, key: &str) -> impl Future<Output = Result<Vec<u8>, PortError>> + Send;
}

/// The end of the time an invocation may use: steps stop starting work once it has passed and give up on what is
/// still in flight when it comes.
pub trait Deadline {
    /// True once no new work should start.
    fn passed(&self) -> bool;
    /// Resolves when the deadline comes (never, for [`NoDeadline`]).
    fn reached(&self) -> impl Future<Output = ()> + Send;
}

/// No deadline: local replays and tests without time limits.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDeadline;

impl Deadline for NoDeadline {
    fn passed(&self) -> bool {
        false
    }
    fn reached(&self) -> impl Future<Output = ()> + Send {
        std::future::pending()
    }
}
