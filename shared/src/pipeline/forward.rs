//! The forward step: lead events -> Kafka records (key = event id, headers for routing and dedup), skipping
//! revisions the ledger says were delivered, and marking the ledger only after the broker acknowledged.

use super::ports::{Deadline, Ledger, NoDeadline, PortError, Producer};
use crate::event::LeadEvent;
use futures_util::future::{select, Either};
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::pin;

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

/// The default of [`forward_batch`]'s `unmarked_window`: at most one record is acknowledged by the broker and not
/// yet marked in the ledger at any moment, so a crash duplicates at most one record.
pub const DEFAULT_UNMARKED_WINDOW: usize = 1;

/// Forwards a batch: ledger check, produce, mark. The result at index i is event i's outcome. A failed ledger
/// check fails the event (it is retried, never produced blind); a failed mark after the ack does not.
///
/// Records are produced in chunks of `unmarked_window` (at least 1), each chunk marked in the ledger before the
/// next is produced: a crash between a broker ack and its ledger mark delivers at most that many records twice
/// (consumers can dedupe with the `event_id` + `revision` headers; see docs/idempotency.md). A larger window
/// trades that bound for fewer sequential round trips. After a chunk fails with an error a retry may fix (broker
/// down), the rest of the batch is not attempted and fails the same way.
pub async fn forward_batch<P: Producer, L: Ledger>(
    events: &[LeadEvent],
    producer: &mut P,
    ledger: &L,
    unmarked_window: usize,
) -> Vec<ForwardOutcome> {
    forward_batch_until(events, producer, ledger, unmarked_window, &NoDeadline).await
}

/// [`forward_batch`] within a deadline: no chunk starts after it has passed, and a chunk still waiting for the
/// broker or the ledger when it comes is given up. Those records fail retriably; what was delivered before
/// keeps its outcome (so the invocation reports it delivered and the transport does not send it again). A
/// record given up in flight may still reach the broker: its redelivery is skipped by the ledger if the mark was
/// written, and is a duplicate (within the unmarked window) if not, as after a crash.
pub async fn forward_batch_until<P: Producer, L: Ledger, D: Deadline>(
    events: &[LeadEvent],
    producer: &mut P,
    ledger: &L,
    unmarked_window: usize,
    deadline: &D,
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
    // Ledger round trips dominate a batch's time: the checks run concurrently, in order.
    let checks = stream::iter(unique.iter().map(|&i| ledger.is_delivered(&events[i].event_id, &events[i].revision)))
        .buffered(LEDGER_CONCURRENCY)
        .collect::<Vec<_>>();
    let Some(checks) = before(deadline, checks).await else {
        return finish(outcomes, || out_of_time("waiting for the ledger check"));
    };
    let mut to_send: Vec<usize> = Vec::new();
    for (&i, check) in unique.iter().zip(checks) {
        match check {
            Ok(true) => outcomes[i] = Some(ForwardOutcome::AlreadyDelivered),
            Ok(false) => to_send.push(i),
            Err(err) => outcomes[i] = Some(ForwardOutcome::Failed(err)),
        }
    }
    let mut chunks = to_send.chunks(unmarked_window.max(1));
    for chunk in chunks.by_ref() {
        if deadline.passed() {
            return finish(outcomes, || out_of_time("not sent"));
        }
        match before(deadline, produce_and_mark(chunk, events, producer, ledger)).await {
            None => {
                for &i in chunk {
                    outcomes[i] = Some(ForwardOutcome::Failed(out_of_time("given up in flight")));
                }
                return finish(outcomes, || out_of_time("not sent"));
            }
            Some((results, outage)) => {
                for (&i, outcome) in chunk.iter().zip(results) {
                    outcomes[i] = Some(outcome);
                }
                if let Some(err) = outage {
                    for &i in chunks.by_ref().flatten() {
                        outcomes[i] = Some(ForwardOutcome::Failed(PortError {
                            message: format!("not sent: an earlier record of the batch failed: {}", err.message),
                            ..err.clone()
                        }));
                    }
                    break;
                }
            }
        }
    }
    finish(outcomes, || PortError { system: "kafka", message: "no delivery report".into(), retriable: true })
}

/// `work`'s output, or `None` when the deadline comes first.
async fn before<T, D: Deadline>(deadline: &D, work: impl Future<Output = T>) -> Option<T> {
    match select(pin!(work), pin!(deadline.reached())).await {
        Either::Left((out, _)) => Some(out),
        Either::Right(_) => None,
    }
}

/// The outcomes, with `missing()` failing every event that has none.
fn finish(outcomes: Vec<Option<ForwardOutcome>>, missing: impl Fn() -> PortError) -> Vec<ForwardOutcome> {
    outcomes.into_iter().map(|o| o.unwrap_or_else(|| ForwardOutcome::Failed(missing()))).collect()
}

/// The retriable error of a record the deadline stopped.
fn out_of_time(what: &str) -> PortError {
    PortError { system: "deadline", message: format!("{what}: the invocation ran out of time"), retriable: true }
}

/// Produces one chunk and marks what the broker acknowledged. Returns the chunk's outcomes, in order, and the
/// first retriable produce error (an outage: the rest of the batch would fail the same way), if any.
async fn produce_and_mark<P: Producer, L: Ledger>(
    chunk: &[usize],
    events: &[LeadEvent],
    producer: &mut P,
    ledger: &L,
) -> (Vec<ForwardOutcome>, Option<PortError>) {
    let records: Vec<KafkaRecord> = chunk.iter().map(|&i| record_for(&events[i])).collect();
    let reports = producer.produce(&records).await;
    let acked: Vec<usize> = chunk.iter().zip(&reports).filter(|(_, r)| r.is_ok()).map(|(&i, _)| i).collect();
    let mut marks =
        stream::iter(acked.iter().map(|&i| ledger.mark_delivered(&events[i].event_id, &events[i].revision)))
            .buffered(LEDGER_CONCURRENCY)
            .collect::<Vec<_>>()
            .await
            .into_iter();
    let mut outage = None;
    let outcomes = reports
        .into_iter()
        .map(|report| match report {
            // One mark per acknowledged record, in order.
            Ok(()) => match marks.next() {
                Some(Err(err)) => ForwardOutcome::DeliveredUnmarked(err),
                Some(Ok(())) | None => ForwardOutcome::Delivered,
            },
            Err(err) => {
                if err.retriable && outage.is_none() {
                    outage = Some(err.clone());
                }
                ForwardOutcome::Failed(err)
            }
        })
        .collect();
    (outcomes, outage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A producer and ledger that log every call in order; records whose key starts with `fail` fail, and a chunk
    /// with a key starting with `hang` never gets its delivery reports.
    #[derive(Default)]
    struct Log {
        calls: Mutex<Vec<String>>,
        retriable: bool,
    }

    impl Producer for &Log {
        async fn produce(&mut self, records: &[KafkaRecord]) -> Vec<Result<(), PortError>> {
            let keys: Vec<_> = records.iter().map(|r| r.key.as_str()).collect();
            self.calls.lock().expect("lock").push(format!("produce {}", keys.join(",")));
            if records.iter().any(|r| r.key.starts_with("hang")) {
                std::future::pending::<()>().await;
            }
            records
                .iter()
                .map(|r| match r.key.starts_with("fail") {
                    true => Err(PortError { system: "kafka", message: "down".into(), retriable: self.retriable }),
                    false => Ok(()),
                })
                .collect()
        }
    }

    impl Ledger for &Log {
        async fn is_delivered(&self, _: &str, _: &str) -> Result<bool, PortError> {
            Ok(false)
        }
        async fn mark_delivered(&self, event_id: &str, _: &str) -> Result<(), PortError> {
            self.calls.lock().expect("lock").push(format!("mark {event_id}"));
            Ok(())
        }
    }

    fn events(ids: &[&str]) -> Vec<LeadEvent> {
        ids.iter()
            .map(|id| LeadEvent {
                schema: crate::event::SCHEMA.into(),
                event_id: id.to_string(),
                revision: "r@1".into(),
                lead_index: 0,
                received_at: "2026-11-20T14:05:00.000Z".into(),
                extracted_at: "2026-11-20T14:05:01.000Z".into(),
                rule_id: "r".into(),
                rule_version: 1,
                source: Default::default(),
                subject: None,
                fields: Default::default(),
                field_errors: vec![],
                pii: Default::default(),
                key_id: "k".into(),
            })
            .collect()
    }

    fn calls(log: &Log) -> Vec<String> {
        log.calls.lock().expect("lock").clone()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn each_record_is_marked_before_the_next_is_produced() {
        let log = Log::default();
        let out = forward_batch(&events(&["a", "b", "c"]), &mut &log, &&log, 1).await;
        assert!(out.iter().all(|o| *o == ForwardOutcome::Delivered));
        assert_eq!(calls(&log), ["produce a", "mark a", "produce b", "mark b", "produce c", "mark c"]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_window_of_two_produces_in_pairs() {
        let log = Log::default();
        forward_batch(&events(&["a", "b", "c"]), &mut &log, &&log, 2).await;
        assert_eq!(calls(&log), ["produce a,b", "mark a", "mark b", "produce c", "mark c"]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_outage_stops_the_batch_and_fails_the_rest_retriably() {
        let log = Log { retriable: true, ..Log::default() };
        let out = forward_batch(&events(&["a", "fail-b", "c", "d"]), &mut &log, &&log, 1).await;
        assert_eq!(calls(&log), ["produce a", "mark a", "produce fail-b"]);
        assert_eq!(out[0], ForwardOutcome::Delivered);
        for o in &out[1..] {
            let ForwardOutcome::Failed(e) = o else { panic!("{o:?}") };
            assert!(e.retriable, "{e}");
        }
        let ForwardOutcome::Failed(e) = &out[3] else { panic!() };
        assert_eq!(e.message, "not sent: an earlier record of the batch failed: down");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_final_failure_does_not_stop_the_batch() {
        let log = Log::default();
        let out = forward_batch(&events(&["a", "fail-b", "c"]), &mut &log, &&log, 1).await;
        assert_eq!(calls(&log), ["produce a", "mark a", "produce fail-b", "produce c", "mark c"]);
        assert!(matches!(&out[1], ForwardOutcome::Failed(e) if !e.retriable));
        assert_eq!(out[2], ForwardOutcome::Delivered);
    }

    /// A deadline that passes after `produces` produce calls, or that comes as soon as anything waits.
    struct AfterProduces<'a> {
        log: &'a Log,
        produces: usize,
        comes_now: bool,
    }

    impl Deadline for AfterProduces<'_> {
        fn passed(&self) -> bool {
            calls(self.log).iter().filter(|c| c.starts_with("produce")).count() >= self.produces
        }
        fn reached(&self) -> impl Future<Output = ()> + Send {
            let now = self.comes_now;
            async move {
                if !now {
                    std::future::pending::<()>().await;
                }
            }
        }
    }

    fn out_of_time_message(o: &ForwardOutcome) -> &str {
        match o {
            ForwardOutcome::Failed(e) if e.retriable && e.system == "deadline" => &e.message,
            other => panic!("not stopped by the deadline: {other:?}"),
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn no_chunk_starts_after_the_deadline_and_what_was_delivered_counts() {
        let log = Log::default();
        let deadline = AfterProduces { log: &log, produces: 2, comes_now: false };
        let out = forward_batch_until(&events(&["a", "b", "c", "d"]), &mut &log, &&log, 1, &deadline).await;
        assert_eq!(calls(&log), ["produce a", "mark a", "produce b", "mark b"]);
        assert_eq!(out[..2], [ForwardOutcome::Delivered, ForwardOutcome::Delivered]);
        for o in &out[2..] {
            assert_eq!(out_of_time_message(o), "not sent: the invocation ran out of time");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_chunk_in_flight_when_the_deadline_comes_is_given_up() {
        let log = Log::default();
        let deadline = AfterProduces { log: &log, produces: usize::MAX, comes_now: true };
        let batch = events(&["a", "a", "hang-b", "c"]);
        let out = forward_batch_until(&batch, &mut &log, &&log, 1, &deadline).await;
        assert_eq!(calls(&log), ["produce a", "mark a", "produce hang-b"]);
        assert_eq!(out[..2], [ForwardOutcome::Delivered, ForwardOutcome::AlreadyDelivered]);
        assert_eq!(out_of_time_message(&out[2]), "given up in flight: the invocation ran out of time");
        assert_eq!(out_of_time_message(&out[3]), "not sent: the invocation ran out of time");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_deadline_already_passed_produces_nothing() {
        let log = Log::default();
        let deadline = AfterProduces { log: &log, produces: 0, comes_now: true };
        let out = forward_batch_until(&events(&["a", "b"]), &mut &log, &&log, 1, &deadline).await;
        assert!(calls(&log).is_empty(), "{:?}", calls(&log));
        assert!(out.iter().all(|o| !out_of_time_message(o).is_empty()));
    }
}
