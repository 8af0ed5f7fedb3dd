//! The forward step: lead events -> Kafka records (key = event id, headers for routing and dedup), skipping
//! revisions the ledger says were delivered, and marking the ledger only after the broker acknowledged.

use super::ports::{Ledger, PortError, Producer};
use crate::event::LeadEvent;
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

/// One record as produced to Kafka (and as written to the local `kafka/<topic>.jsonl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaRecord {
    /// The event id (compaction keeps the latest revision per key).
    pub key: String,
    /// Headers: event_id, revision, schema, rule_id, content-type.
    pub headers: Vec<(String, String)>,
    /// The event as JSON.
    pub value: String,
}

/// The Kafka record for an event.
pub fn record_for(event: &LeadEvent) -> KafkaRecord {
    KafkaRecord {
        key: event.event_id.clone(),
        headers: vec![
            ("event_id".into(), event.event_id.clone()),
            ("revision".into(), event.revision.clone()),
            ("schema".into(), event.schema.clone()),
            ("rule_id".into(), event.rule_id.clone()),
            ("content-type".into(), "application/json".into()),
        ],
        value: serde_json::to_string(event).expect("events serialise"),
    }
}

/// What happened to each event of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardOutcome {
    /// Produced and acknowledged now.
    Delivered,
    /// The ledger already had this revision: not produced again.
    AlreadyDelivered,
    /// Produced and acknowledged, but the ledger marker could not be written. Still a success for the
    /// transport: failing the message would make a redelivery produce it again for certain, while succeeding
    /// risks that only if the transport redelivers it anyway.
    DeliveredUnmarked(PortError),
    /// Failed; the message should be retried (or dead-lettered) by the transport.
    Failed(PortError),
}

/// Ledger requests (checks, then marks) in flight at once.
const LEDGER_CONCURRENCY: usize = 32;

/// Forwards a batch: ledger check, produce, mark. The result at index i is event i's outcome. A failed ledger
/// check fails the event (it is retried, never produced blind); a failed mark after the ack does not.
/// A crash between the broker's ack and the ledger write can produce a revision twice; consumers dedupe with
/// the `event_id` + `revision` headers (see docs).
pub async fn forward_batch<P: Producer, L: Ledger>(
    events: &[LeadEvent],
    producer: &mut P,
    ledger: &L,
) -> Vec<ForwardOutcome> {
    let mut outcomes: Vec<Option<ForwardOutcome>> = vec![None; events.len()];
    let mut unique: Vec<usize> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        // The same revision twice in one batch (a duplicate delivery) is produced once.
        if unique.iter().any(|&j| events[j].event_id == e.event_id && events[j].revision == e.revision) {
            outcomes[i] = Some(ForwardOutcome::AlreadyDelivered);
        } else {
            unique.push(i);
        }
    }
    // Ledger round trips dominate a batch's time: they run concurrently, in order.
    let checks: Vec<_> =
        stream::iter(unique.iter().map(|&i| ledger.is_delivered(&events[i].event_id, &events[i].revision)))
            .buffered(LEDGER_CONCURRENCY)
            .collect()
            .await;
    let mut to_send: Vec<usize> = Vec::new();
    for (&i, check) in unique.iter().zip(checks) {
        match check {
            Ok(true) => outcomes[i] = Some(ForwardOutcome::AlreadyDelivered),
            Ok(false) => to_send.push(i),
            Err(err) => outcomes[i] = Some(ForwardOutcome::Failed(err)),
        }
    }
    let records: Vec<KafkaRecord> = to_send.iter().map(|&i| record_for(&events[i])).collect();
    let reports = producer.produce(&records).await;
    let acked: Vec<usize> = to_send.iter().zip(&reports).filter(|(_, r)| r.is_ok()).map(|(&i, _)| i).collect();
    let marks: Vec<_> =
        stream::iter(acked.iter().map(|&i| ledger.mark_delivered(&events[i].event_id, &events[i].revision)))
            .buffered(LEDGER_CONCURRENCY)
            .collect()
            .await;
    for (&i, mark) in acked.iter().zip(marks) {
        outcomes[i] = Some(match mark {
            Ok(()) => ForwardOutcome::Delivered,
            Err(err) => ForwardOutcome::DeliveredUnmarked(err),
        });
    }
    for (&i, report) in to_send.iter().zip(reports) {
        if let Err(err) = report {
            outcomes[i] = Some(ForwardOutcome::Failed(err));
        }
    }
    outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| {
                ForwardOutcome::Failed(PortError {
                    system: "kafka",
                    message: "no delivery report".into(),
                    retriable: true,
                })
            })
        })
        .collect()
}
