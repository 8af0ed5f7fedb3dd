//! The forward step's real Kafka producer (librdkafka, idempotent) against librdkafka's mock cluster with faults
//! injected per protocol request: transient produce errors, a fenced producer, a broker going down and coming
//! back. After each fault the batch is forwarded again (as a redelivery would) and a consumer reads the topic
//! back: every event exactly once. (The outage faults on a real broker are in tests/python/test_faults.py.)

use leadpipe_shared::adapters::clock::TokioDeadline;
use leadpipe_shared::adapters::kafka::{KafkaProducer, KafkaSettings};
use leadpipe_shared::event::LeadEvent;
use leadpipe_shared::pipeline::ports::{Ledger, PortError};
use leadpipe_shared::pipeline::{forward_batch, forward_batch_until, ForwardOutcome};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TOPIC: &str = "leads";
const PARTITIONS: i32 = 3;

/// The delivery ledger in memory (its S3 implementation is tested against moto).
#[derive(Default)]
struct MemLedger(Mutex<BTreeSet<String>>);

impl Ledger for MemLedger {
    async fn is_delivered(&self, event_id: &str, revision: &str) -> Result<bool, PortError> {
        Ok(self.0.lock().expect("lock").contains(&format!("{event_id}@{revision}")))
    }
    async fn mark_delivered(&self, event_id: &str, revision: &str) -> Result<(), PortError> {
        self.0.lock().expect("lock").insert(format!("{event_id}@{revision}"));
        Ok(())
    }
}

fn cluster() -> MockCluster<'static, DefaultProducerContext> {
    let cluster = MockCluster::new(3).expect("mock cluster");
    cluster.create_topic(TOPIC, PARTITIONS, 3).expect("topic");
    cluster
}

fn producer(cluster: &MockCluster<'static, DefaultProducerContext>, timeout: Duration) -> KafkaProducer {
    let mut settings = KafkaSettings::new(&cluster.bootstrap_servers(), TOPIC);
    settings.message_timeout = timeout;
    KafkaProducer::new(&settings).expect("producer")
}

fn events(n: usize) -> Vec<LeadEvent> {
    (0..n)
        .map(|i| {
            serde_json::from_value(serde_json::json!({
                "schema": "leadpipe.lead.v1", "event_id": format!("ev1_mock{i:03}"), "revision": "carportal@1",
                "lead_index": 0, "received_at": "2026-11-20T14:05:00.000Z",
                "extracted_at": "2026-11-20T14:05:01.000Z", "rule_id": "carportal", "rule_version": 1,
                "source": {"sender_domain": "carportal.example", "ses_message_id": null, "mailbox": null,
                           "forwarded": false},
                "subject": "New lead", "fields": {"vehicle": "Golf"}, "field_errors": [],
                "pii": {"fields": {}, "redactions": {}}, "key_id": "test"
            }))
            .expect("event")
        })
        .collect()
}

/// Every record on the topic, as event id -> count, read by a separate consumer from the beginning.
fn read_back(cluster: &MockCluster<'static, DefaultProducerContext>, expected: usize) -> BTreeMap<String, usize> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("group.id", "read-back")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut partitions = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        partitions.add_partition_offset(TOPIC, p, Offset::Beginning).expect("partition");
    }
    consumer.assign(&partitions).expect("assign");
    let mut seen = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    // Read until the expected count and then one more quiet second, so a duplicate would be seen too.
    let mut quiet_since = None::<Instant>;
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let key = String::from_utf8(m.key().expect("key").to_vec()).expect("utf-8");
                *seen.entry(key).or_insert(0) += 1;
                quiet_since = None;
            }
            Some(Err(e)) => panic!("consume: {e}"),
            None if seen.values().sum::<usize>() >= expected => {
                let since = *quiet_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_secs(1) {
                    break;
                }
            }
            None => {}
        }
    }
    seen
}

fn delivered(outcomes: &[ForwardOutcome]) -> usize {
    outcomes.iter().filter(|o| matches!(o, ForwardOutcome::Delivered)).count()
}

fn failures(outcomes: &[ForwardOutcome]) -> Vec<&PortError> {
    outcomes
        .iter()
        .filter_map(|o| match o {
            ForwardOutcome::Failed(e) => Some(e),
            _ => None,
        })
        .collect()
}

fn assert_each_once(seen: &BTreeMap<String, usize>, n: usize) {
    assert_eq!(seen.len(), n, "unique event ids: {seen:?}");
    assert!(seen.values().all(|&c| c == 1), "duplicates: {seen:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn transient_produce_errors_are_retried_by_the_producer_without_duplicates() {
    let cluster = cluster();
    let mut kafka = producer(&cluster, Duration::from_secs(20));
    let ledger = MemLedger::default();
    use RDKafkaRespErr::*;
    // Leader moves, timeouts and a dropped connection on produce requests: the idempotent producer retries
    // them itself, and its sequence numbers keep a retried request from being written twice.
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[
            RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RD_KAFKA_RESP_ERR__TRANSPORT,
            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        ],
    );
    let batch = events(20);
    let out = forward_batch(&batch, &mut kafka, &ledger, 4).await;
    assert_eq!(delivered(&out), 20, "{:?}", failures(&out));
    assert_each_once(&read_back(&cluster, 20), 20);
}

#[tokio::test(flavor = "current_thread")]
async fn a_fenced_producer_is_replaced_and_the_redelivery_gets_through_once() {
    let cluster = cluster();
    let mut kafka = producer(&cluster, Duration::from_secs(10));
    let ledger = MemLedger::default();
    let batch = events(10);
    // Warm up: the first records reach the broker, so the producer has an id and epoch to lose.
    let out = forward_batch(&batch[..2], &mut kafka, &ledger, 1).await;
    assert_eq!(delivered(&out), 2, "{:?}", failures(&out));
    cluster.request_errors(RDKafkaApiKey::Produce, &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_PRODUCER_FENCED; 3]);
    let out = forward_batch(&batch, &mut kafka, &ledger, 1).await;
    let failed = failures(&out);
    assert!(!failed.is_empty(), "the fence was not seen: {out:?}");
    assert!(failed.iter().all(|e| e.retriable), "{failed:?}");
    assert!(failed[0].message.contains("producer recreated"), "{}", failed[0].message);
    // The transport redelivers the failed messages: the new producer delivers them, the ledger skips the rest.
    cluster.clear_request_errors(RDKafkaApiKey::Produce);
    let out = forward_batch(&batch, &mut kafka, &ledger, 1).await;
    assert!(failures(&out).is_empty(), "{:?}", failures(&out));
    assert_each_once(&read_back(&cluster, 10), 10);
}

#[tokio::test(flavor = "current_thread")]
async fn all_brokers_down_fails_the_batch_retriably_and_it_is_delivered_once_when_they_are_back() {
    let cluster = cluster();
    let mut kafka = producer(&cluster, Duration::from_secs(3));
    let ledger = MemLedger::default();
    let batch = events(10);
    let out = forward_batch(&batch[..3], &mut kafka, &ledger, 1).await;
    assert_eq!(delivered(&out), 3, "{:?}", failures(&out));
    for b in 1..=3 {
        cluster.broker_down(b).expect("down");
    }
    let out = forward_batch(&batch, &mut kafka, &ledger, 1).await;
    let failed = failures(&out);
    // The first record times out; the rest of the batch is not attempted (one timeout, not seven).
    assert_eq!(failed.len(), 7, "{out:?}");
    assert!(failed.iter().all(|e| e.retriable), "{failed:?}");
    assert!(failed[0].message.contains("timed out"), "{}", failed[0]);
    assert!(failed[1].message.starts_with("not sent: an earlier record of the batch failed"), "{}", failed[1]);
    for b in 1..=3 {
        cluster.broker_up(b).expect("up");
    }
    // Redeliveries until the producer has reconnected (its reconnect backoff can outlast one delivery timeout).
    let mut delivered_now = 0;
    for _ in 0..10 {
        let out = forward_batch(&batch, &mut kafka, &ledger, 1).await;
        delivered_now += delivered(&out);
        if failures(&out).is_empty() {
            break;
        }
    }
    assert_eq!(delivered_now, 7);
    assert_each_once(&read_back(&cluster, 10), 10);
}

#[tokio::test(flavor = "current_thread")]
async fn a_slow_broker_stops_the_batch_at_the_deadline_and_what_was_delivered_is_kept() {
    let cluster = cluster();
    let mut kafka = producer(&cluster, Duration::from_secs(30));
    let ledger = MemLedger::default();
    let batch = events(10);
    let out = forward_batch(&batch[..1], &mut kafka, &ledger, 1).await;
    assert_eq!(delivered(&out), 1, "{:?}", failures(&out));
    for b in 1..=3 {
        cluster.broker_round_trip_time(b, Duration::from_millis(250)).expect("rtt");
    }
    // Ten records one after the other at >= 250 ms each do not fit in one second.
    let started = Instant::now();
    let out = forward_batch_until(&batch, &mut kafka, &ledger, 1, &TokioDeadline::after(Duration::from_secs(1))).await;
    // Back at the deadline, not after the 30 s delivery timeout.
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    assert_eq!(out[0], ForwardOutcome::AlreadyDelivered);
    let stopped: Vec<usize> = (0..out.len())
        .filter(|&i| matches!(&out[i], ForwardOutcome::Failed(e) if e.system == "deadline" && e.retriable))
        .collect();
    assert!(!stopped.is_empty(), "{out:?}");
    assert_eq!(delivered(&out) + 1 + stopped.len(), 10, "{out:?}");
    // At most the one record in flight at the deadline was given up; every later one was never sent.
    let in_flight: Vec<usize> =
        stopped.iter().copied().filter(|&i| failures(&out[i..=i])[0].message.starts_with("given up")).collect();
    assert!(in_flight.len() <= 1, "{out:?}");
    assert!(stopped.iter().all(|&i| in_flight.contains(&i) || i > in_flight.first().copied().unwrap_or(0)));
    // The transport redelivers the stopped records: each reaches the topic; the one given up in flight may have
    // reached it already (unmarked), which is the unmarked window's bound of one.
    for b in 1..=3 {
        cluster.broker_round_trip_time(b, Duration::ZERO).expect("rtt");
    }
    let out = forward_batch(&batch, &mut kafka, &ledger, 1).await;
    assert!(failures(&out).is_empty(), "{:?}", failures(&out));
    let seen = read_back(&cluster, 10);
    assert_eq!(seen.len(), 10, "{seen:?}");
    let twice: Vec<_> = seen.iter().filter(|(_, &c)| c > 1).map(|(k, _)| k.clone()).collect();
    let given_up: Vec<_> = in_flight.iter().map(|&i| batch[i].event_id.clone()).collect();
    assert!(twice.iter().all(|k| given_up.contains(k)) && seen.values().all(|&c| c <= 2), "{seen:?}");
}
