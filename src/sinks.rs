//! The replay's sinks: local files by default, or the real Kafka and S3 adapters when asked for. Each enum
//! forwards to the adapter it holds, so the pipeline steps stay generic over the ports.

use crate::local::{DirLedger, DirStore, JsonlProducer};
use leadpipe_shared::adapters::kafka::KafkaProducer;
use leadpipe_shared::adapters::s3::{S3Ledger, S3Store};
use leadpipe_shared::pipeline::ports::{Ledger, ObjectStore, PortError, Producer};
use leadpipe_shared::pipeline::KafkaRecord;

/// Where Kafka records go.
pub enum AnyProducer {
    /// `kafka/<topic>.jsonl`.
    Local(JsonlProducer),
    /// A real broker.
    Kafka(Box<KafkaProducer>),
}

impl Producer for AnyProducer {
    async fn produce(&mut self, records: &[KafkaRecord]) -> Vec<Result<(), PortError>> {
        match self {
            Self::Local(p) => p.produce(records).await,
            Self::Kafka(p) => p.produce(records).await,
        }
    }
}

/// Where delivery markers go.
pub enum AnyLedger {
    /// `ledger/` folder.
    Local(DirLedger),
    /// S3 conditional writes.
    S3(S3Ledger),
}

impl Ledger for AnyLedger {
    async fn is_delivered(&self, event_id: &str, revision: &str) -> Result<bool, PortError> {
        match self {
            Self::Local(l) => l.is_delivered(event_id, revision).await,
            Self::S3(l) => l.is_delivered(event_id, revision).await,
        }
    }

    async fn mark_delivered(&self, event_id: &str, revision: &str) -> Result<(), PortError> {
        match self {
            Self::Local(l) => l.mark_delivered(event_id, revision).await,
            Self::S3(l) => l.mark_delivered(event_id, revision).await,
        }
    }
}

/// Where archive and quarantine objects go.
pub enum AnyStore {
    /// A local folder.
    Local(DirStore),
    /// An S3 bucket and prefix.
    S3(S3Store),
}

impl ObjectStore for AnyStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), PortError> {
        match self {
            Self::Local(s) => s.put(key, bytes).await,
            Self::S3(s) => s.put(key, bytes).await,
        }
    }
}
