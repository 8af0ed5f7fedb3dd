//! The AWS clients the harness uses, built once from one endpoint (the local moto server).

use leadpipe_shared::adapters::aws::{sdk_config, AwsSettings};
use leadpipe_shared::adapters::s3::s3_client_from;

/// S3, SNS, SQS and Secrets Manager clients.
#[derive(Clone)]
pub struct Clients {
    /// S3 (path-style).
    pub s3: aws_sdk_s3::Client,
    /// SNS.
    pub sns: aws_sdk_sns::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// Secrets Manager.
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl Clients {
    /// Clients for `endpoint`.
    pub async fn new(endpoint: &str, region: &str) -> Self {
        Self::connect(Some(endpoint), region).await
    }

    /// Clients for AWS (`None`) or an endpoint override.
    pub async fn connect(endpoint: Option<&str>, region: &str) -> Self {
        let sdk =
            sdk_config(&AwsSettings { endpoint: endpoint.map(str::to_string), region: Some(region.to_string()) }).await;
        Self {
            s3: s3_client_from(&sdk),
            sns: aws_sdk_sns::Client::new(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            secrets: aws_sdk_secretsmanager::Client::new(&sdk),
        }
    }

    /// The URL of queue `name`.
    pub async fn queue_url(&self, name: &str) -> anyhow::Result<String> {
        let out = self
            .sqs
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("queue {name}: {}", aws_sdk_sqs::error::DisplayErrorContext(&e)))?;
        out.queue_url().map(str::to_string).ok_or_else(|| anyhow::anyhow!("queue {name}: no URL"))
    }
}

/// An SDK error with its full context (service code and message), for `anyhow` chains.
pub fn sdk_err<E: std::error::Error + 'static>(what: &str, e: E) -> anyhow::Error {
    anyhow::anyhow!("{what}: {}", aws_sdk_sqs::error::DisplayErrorContext(e))
}
