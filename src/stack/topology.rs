//! The local stack's resource names and timings. Names follow `infra/template.yaml` exactly (a test compares
//! them), with the account and region of the local services.

use serde::Serialize;
use std::time::Duration;

/// Every resource the local stack creates, named as the SAM template names them.
#[derive(Debug, Clone, Serialize)]
pub struct Topology {
    /// Stack name (the template's `AWS::StackName`).
    pub stack: String,
    /// Account id (moto's default).
    pub account: String,
    /// Region.
    pub region: String,
    /// Raw mail (SES S3 action) bucket.
    pub raw_bucket: String,
    /// Quarantine bucket.
    pub quarantine_bucket: String,
    /// Archive bucket (Parquet under `leads/`, ledger under `ledger/`).
    pub archive_bucket: String,
    /// Configuration bucket (`rules/rules.toml`).
    pub config_bucket: String,
    /// Inbound topic (SES notifications).
    pub inbound_topic: String,
    /// Leads topic (fan-out).
    pub leads_topic: String,
    /// Alerts topic.
    pub alerts_topic: String,
    /// Forward's queue and its DLQ.
    pub to_kafka: String,
    /// Forward's DLQ.
    pub to_kafka_dlq: String,
    /// Archive's queue.
    pub to_archive: String,
    /// Archive's DLQ.
    pub to_archive_dlq: String,
    /// Extract's on-failure destination.
    pub extract_failures: String,
    /// Harness only: the inbound topic's deliveries to extract (Lambda's internal async-invoke queue).
    pub extract_invoke: String,
    /// Harness only: a copy of every lead event, for `local send` to follow mails to their terminal state.
    pub observer: String,
    /// Pseudonym key secret name.
    pub key_secret: String,
    /// Key of the rules file in the configuration bucket.
    pub rules_key: String,
    /// Prefix of quarantined mail in the quarantine bucket.
    pub quarantine_prefix: String,
    /// Prefix of the delivery ledger in the archive bucket.
    pub ledger_prefix: String,
}

impl Topology {
    /// The names for `stack` in `account`/`region`.
    pub fn new(stack: &str, account: &str, region: &str) -> Self {
        let bucket = |kind: &str| format!("{stack}-{kind}-{account}-{region}");
        let name = |kind: &str| format!("{stack}-{kind}");
        Self {
            stack: stack.into(),
            account: account.into(),
            region: region.into(),
            raw_bucket: bucket("raw"),
            quarantine_bucket: bucket("quarantine"),
            archive_bucket: bucket("archive"),
            config_bucket: bucket("config"),
            inbound_topic: name("inbound"),
            leads_topic: name("leads"),
            alerts_topic: name("alerts"),
            to_kafka: name("to-kafka"),
            to_kafka_dlq: name("to-kafka-dlq"),
            to_archive: name("to-archive"),
            to_archive_dlq: name("to-archive-dlq"),
            extract_failures: name("extract-failures"),
            extract_invoke: name("local-extract-invoke"),
            observer: name("local-observer"),
            key_secret: format!("{stack}/pseudonym-key"),
            rules_key: "rules/rules.toml".into(),
            quarantine_prefix: "quarantine/".into(),
            ledger_prefix: "ledger/".into(),
        }
    }

    /// The ARN of topic `name`.
    pub fn topic_arn(&self, name: &str) -> String {
        format!("arn:aws:sns:{}:{}:{name}", self.region, self.account)
    }

    /// The ARN of queue `name`.
    pub fn queue_arn(&self, name: &str) -> String {
        format!("arn:aws:sqs:{}:{}:{name}", self.region, self.account)
    }
}

/// Timings the template sets in minutes and the local stack shortens so a redrive takes seconds.
#[derive(Debug, Clone, Serialize)]
pub struct Timings {
    /// Visibility timeout of the consumer queues.
    pub visibility_timeout: Duration,
    /// Receives before SQS moves a message to its DLQ.
    pub max_receive_count: u32,
    /// Forward's batch size.
    pub forward_batch: usize,
    /// Archive's batch size.
    pub archive_batch: usize,
    /// How long the event source mapping gathers a batch.
    pub batch_window: Duration,
    /// Extract's asynchronous retries (Lambda: 2) and the delay before each.
    pub extract_retries: u32,
    /// Delay before each retry (Lambda: about 1 and 2 minutes).
    pub retry_delay: Duration,
    /// Each function's timeout.
    pub function_timeout: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(4),
            max_receive_count: 3,
            forward_batch: 10,
            archive_batch: 100,
            batch_window: Duration::from_millis(300),
            extract_retries: 2,
            retry_delay: Duration::from_millis(500),
            function_timeout: Duration::from_secs(30),
        }
    }
}
