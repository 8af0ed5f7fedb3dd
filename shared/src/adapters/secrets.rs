//! Secrets from AWS Secrets Manager, fetched once when a process starts and kept in memory: the pseudonym key
//! (`{"key_id": ..., "secret": ...}`) and the Kafka SASL credentials (`{"username": ..., "password": ...}`).
//! Errors name the secret, never its value.

use super::aws::{sdk_config, AwsSettings};
use crate::anonymize::PseudonymKey;
use aws_config::SdkConfig;
use serde::Deserialize;

/// Reads the key document from the secret `secret_id` (name or ARN). `endpoint` overrides the service endpoint
/// (a local moto server in tests).
pub async fn load_key(secret_id: &str, endpoint: Option<&str>) -> Result<PseudonymKey, String> {
    let shared = sdk_config(&AwsSettings { endpoint: endpoint.map(str::to_string), region: None }).await;
    load_key_with(&shared, secret_id).await
}

/// Reads the key document from the secret `secret_id` with an already loaded SDK configuration.
pub async fn load_key_with(shared: &SdkConfig, secret_id: &str) -> Result<PseudonymKey, String> {
    let text = secret_string(shared, secret_id).await?;
    PseudonymKey::from_json(&text).map_err(|e| format!("secret {secret_id}: {e}"))
}

/// SASL credentials for Kafka.
#[derive(Debug, Clone, Deserialize)]
pub struct KafkaCredentials {
    /// SASL username.
    pub username: String,
    /// SASL password.
    pub password: String,
}

/// Reads Kafka credentials from the secret `secret_id`.
pub async fn load_kafka_credentials(shared: &SdkConfig, secret_id: &str) -> Result<KafkaCredentials, String> {
    let text = secret_string(shared, secret_id).await?;
    serde_json::from_str(&text)
        .map_err(|e| format!("secret {secret_id}: expected {{\"username\", \"password\"}}: {}", e.classify_name()))
}

async fn secret_string(shared: &SdkConfig, secret_id: &str) -> Result<String, String> {
    let client = aws_sdk_secretsmanager::Client::new(shared);
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| format!("secret {secret_id}: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(&e)))?;
    out.secret_string().map(str::to_string).ok_or_else(|| format!("secret {secret_id}: no string value"))
}

/// The class of a JSON error without its position's text (which could echo a secret).
trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "not valid JSON",
            serde_json::error::Category::Data => "missing or mistyped fields",
            serde_json::error::Category::Eof => "truncated JSON",
        }
    }
}
