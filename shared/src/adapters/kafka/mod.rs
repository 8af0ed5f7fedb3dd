//! Kafka through rdkafka (librdkafka): `crate::kafka_config` maps leadpipe's settings to librdkafka's, `service.rs` does the
//! one call to the broker (produce a batch, wait for the delivery reports) and classifies failures once.

mod service;

pub use crate::kafka_config::{KafkaSettings, SecurityProtocol};
pub use service::KafkaProducer;
