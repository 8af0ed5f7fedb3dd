//! The archive function's invocation: an SQS batch of lead events -> one Parquet object per `dt` day. A record
//! that cannot be encoded (or makes the encoder panic) is isolated and failed alone; the rest of its day is
//! stored. A failed store fails every message of that object (SQS retries them; the object key is deterministic).

use super::forward::error_class;
use super::sqs::{BatchFailures, SqsMessage};
use crate::archive::{encode_batch, ArchiveObject};
use crate::event::LeadEvent;
use crate::pipeline::ports::{Deadline, ObjectStore};
use futures_util::future::{select, Either};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;

/// What one invocation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveSummary {
    /// Messages to retry.
    pub failures: BatchFailures,
    /// Objects stored: (key, rows).
    pub objects: Vec<(String, usize)>,
    /// Messages whose body is not a lead event.
    pub unreadable: u64,
    /// Events the encoder rejected or panicked on.
    pub unencodable: u64,
    /// Why messages failed: (message id, error), no personal data.
    pub errors: Vec<(String, String)>,
}

/// Archives a batch. No object is stored once the `deadline` has passed, and a store still in flight when it
/// comes is given up: their messages fail retriably, the objects stored before count.
pub async fn handle_batch<S: ObjectStore, D: Deadline>(
    batch: &[SqsMessage],
    store: &S,
    deadline: &D,
) -> ArchiveSummary {
    let mut summary = ArchiveSummary::default();
    let mut by_day: BTreeMap<String, Vec<(&str, LeadEvent)>> = BTreeMap::new();
    for m in batch {
        match serde_json::from_str::<LeadEvent>(&m.payload()) {
            Ok(e) => by_day.entry(e.partition_day().to_string()).or_default().push((&m.message_id, e)),
            Err(e) => {
                summary.unreadable += 1;
                summary.failures.fail(&m.message_id);
                summary.errors.push((m.message_id.clone(), format!("not a lead event: {}", error_class(&e))));
            }
        }
    }
    for (_, day) in by_day {
        let (ids, encoded) = encode_day(day, &mut summary);
        let objects = match encoded {
            Ok(objects) => objects,
            Err(err) => {
                // Every record encoded alone, but not together: fail the day rather than guess.
                for id in &ids {
                    summary.failures.fail(id);
                    summary.errors.push((id.to_string(), err.clone()));
                }
                continue;
            }
        };
        for ArchiveObject { key, rows, bytes, .. } in objects {
            let stored = if deadline.passed() {
                Err("not stored: the invocation ran out of time".to_string())
            } else {
                match select(pin!(store.put(&key, bytes)), pin!(deadline.reached())).await {
                    Either::Left((Ok(()), _)) => Ok(()),
                    Either::Left((Err(err), _)) => Err(err.to_string()),
                    Either::Right(_) => Err("given up in flight: the invocation ran out of time".to_string()),
                }
            };
            match stored {
                Ok(()) => summary.objects.push((key, rows)),
                Err(err) => {
                    for id in &ids {
                        summary.failures.fail(id);
                        summary.errors.push((id.to_string(), err.clone()));
                    }
                }
            }
        }
    }
    summary
}

/// Encodes one day's events; when that fails, encodes each alone to find the bad ones, fails those, and encodes
/// the rest. Returns the message ids the objects hold and the objects.
fn encode_day<'m>(
    day: Vec<(&'m str, LeadEvent)>,
    summary: &mut ArchiveSummary,
) -> (Vec<&'m str>, Result<Vec<ArchiveObject>, String>) {
    let (ids, events): (Vec<&str>, Vec<LeadEvent>) = day.into_iter().unzip();
    if let Ok(objects) = encode(&events) {
        return (ids, Ok(objects));
    }
    let mut good_ids = Vec::new();
    let mut good = Vec::new();
    for (id, e) in ids.into_iter().zip(events) {
        match encode(std::slice::from_ref(&e)) {
            Ok(_) => {
                good_ids.push(id);
                good.push(e);
            }
            Err(err) => {
                summary.unencodable += 1;
                summary.failures.fail(id);
                summary.errors.push((id.to_string(), format!("event {}: {err}", e.event_id)));
            }
        }
    }
    if good.is_empty() {
        return (good_ids, Ok(Vec::new()));
    }
    let encoded = encode(&good);
    (good_ids, encoded)
}

/// `encode_batch` with a panic turned into an error, so one record cannot take down its batch.
fn encode(events: &[LeadEvent]) -> Result<Vec<ArchiveObject>, String> {
    match catch_unwind(AssertUnwindSafe(|| encode_batch(events))) {
        Ok(Ok(objects)) => Ok(objects),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(format!(
            "encoder panicked: {}",
            panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into())
        )),
    }
}
