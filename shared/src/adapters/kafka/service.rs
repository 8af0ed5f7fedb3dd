//! The one call to Kafka: produce a batch concurrently and collect every delivery report. Failure kinds are
//! classified here, once: what a retry can fix (broker down, timeouts, leader moves) vs what it cannot.

use crate::kafka_config::KafkaSettings;
use crate::pipeline::ports::{PortError, Producer};
use crate::pipeline::KafkaRecord;
use futures_util::future::join_all;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use rdkafka::ClientConfig;
use std::time::Duration;

/// An idempotent rdkafka producer for the lead topic, created once per process (and again after a fatal
/// error: an idempotent producer that lost its sequence state refuses every later record).
pub struct KafkaProducer {
    producer: FutureProducer,
    config: ClientConfig,
    topic: String,
    /// How long to wait for a delivery report (bounded by the invocation's remaining time in Lambda).
    pub delivery_timeout: Duration,
}

impl KafkaProducer {
    /// Creates the producer (no broker is contacted until the first send).
    pub fn new(settings: &KafkaSettings) -> Result<Self, String> {
        let mut config = ClientConfig::new();
        for (k, v) in settings.client_properties()? {
            config.set(k, v);
        }
        let producer: FutureProducer = config.create().map_err(|e| format!("kafka producer: {e}"))?;
        Ok(Self { producer, config, topic: settings.topic.clone(), delivery_timeout: settings.message_timeout })
    }

    /// After a fatal error (librdkafka's idempotent producer gives up on its producer id, e.g. when the
    /// broker rejects a sequence after a long outage) or when the broker fences the producer (`fenced`),
    /// replaces the producer with a new one: the failed records are retried by their messages' redelivery and the
    /// ledger keeps them unique. Returns what happened.
    fn recover_from_fatal(&mut self, fenced: bool) -> Option<String> {
        let (code, reason) = match self.producer.client().fatal_error() {
            Some(fatal) => fatal,
            // The broker fenced this producer id/epoch (seen with tansu after an outage: every later record
            // fails with ProducerFenced): only a new producer, with a new id, gets through.
            None if fenced => (RDKafkaErrorCode::ProducerFenced, "the broker fenced the producer id".into()),
            None => return None,
        };
        Some(match self.config.create::<FutureProducer>() {
            Ok(p) => {
                self.producer = p;
                format!("fatal producer error {code:?}: {reason}; producer recreated")
            }
            Err(e) => format!("fatal producer error {code:?}: {reason}; recreating the producer failed: {e}"),
        })
    }
}

impl Producer for KafkaProducer {
    async fn produce(&mut self, records: &[KafkaRecord]) -> Vec<Result<(), PortError>> {
        let sends = records.iter().map(|r| {
            let headers = r
                .headers
                .iter()
                .fold(OwnedHeaders::new(), |h, (k, v)| h.insert(Header { key: k, value: Some(v.as_bytes()) }));
            let record = FutureRecord::to(&self.topic).key(&r.key).payload(&r.value).headers(headers);
            self.producer.send(record, self.delivery_timeout)
        });
        let reports = join_all(sends).await;
        let fenced = reports.iter().any(|r| {
            r.as_ref().is_err_and(|(e, _)| {
                matches!(
                    e.rdkafka_error_code(),
                    Some(
                        RDKafkaErrorCode::ProducerFenced
                            | RDKafkaErrorCode::InvalidProducerEpoch
                            | RDKafkaErrorCode::UnknownProducerId
                    )
                )
            })
        });
        let results: Vec<_> = reports.into_iter().map(|r| r.map(|_| ()).map_err(|(e, _)| classify(&e))).collect();
        if let Some(fatal) = self.recover_from_fatal(fenced) {
            return results
                .into_iter()
                .map(|r| r.map_err(|e| PortError { message: format!("{} ({fatal})", e.message), retriable: true, ..e }))
                .collect();
        }
        results
    }
}

/// Maps a librdkafka error to a port error, deciding whether a retry may succeed.
pub fn classify(e: &KafkaError) -> PortError {
    let retriable = match e.rdkafka_error_code() {
        Some(code) => is_retriable(code),
        None => matches!(e, KafkaError::Canceled),
    };
    PortError { system: "kafka", message: e.to_string(), retriable }
}

fn is_retriable(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode::*;
    matches!(
        code,
        MessageTimedOut
            | QueueFull
            | AllBrokersDown
            | BrokerTransportFailure
            | Resolve
            | RequestTimedOut
            | NetworkException
            | NotEnoughReplicas
            | NotEnoughReplicasAfterAppend
            | LeaderNotAvailable
            | NotLeaderForPartition
            | OutOfOrderSequenceNumber
            | UnknownTopicOrPartition
            | CoordinatorNotAvailable
            | NotCoordinator
            | BrokerNotAvailable
            | OperationTimedOut
            | TimedOutQueue
            | ThrottlingQuotaExceeded
            | KafkaStorageError
            | Fatal
            | UnknownProducerId
            | InvalidProducerEpoch
            | ProducerFenced
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_and_final_errors() {
        let e = KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut);
        assert!(classify(&e).retriable);
        // A fenced producer is replaced by a new one, so its records are retried.
        let e = KafkaError::MessageProduction(RDKafkaErrorCode::ProducerFenced);
        assert!(classify(&e).retriable);
        let e = KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge);
        assert!(!classify(&e).retriable);
        let e = KafkaError::MessageProduction(RDKafkaErrorCode::TopicAuthorizationFailed);
        assert!(!classify(&e).retriable);
    }
}
