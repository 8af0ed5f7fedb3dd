//! The archive step: a batch of events -> Parquet objects (one per day) stored under deterministic keys.

use super::ports::{ObjectStore, PortError};
use crate::archive::{encode_batch, ArchiveObject};
use crate::event::LeadEvent;

/// Encodes and stores a batch; returns the stored objects' keys and row counts.
pub async fn archive_batch<S: ObjectStore>(events: &[LeadEvent], store: &S) -> Result<Vec<(String, usize)>, PortError> {
    let objects =
        encode_batch(events).map_err(|e| PortError { system: "archive", message: e.to_string(), retriable: false })?;
    let mut stored = Vec::new();
    for ArchiveObject { key, rows, bytes, .. } in objects {
        store.put(&key, bytes).await?;
        stored.push((key, rows));
    }
    Ok(stored)
}
