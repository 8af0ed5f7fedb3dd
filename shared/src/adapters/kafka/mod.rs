//! Kafka through rdkafka (librdkafka): `config.rs` maps leadpipe's settings to librdkafka's, `service.rs` does the
//! one call to the broker (produce a batch, wait for the delivery reports) and classifies failures once.

mod config;
mod service;

pub use config::{KafkaSettings, SecurityProtocol};
pub use service::KafkaProducer;
