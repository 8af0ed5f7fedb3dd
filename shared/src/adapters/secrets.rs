//! The pseudonym key from AWS Secrets Manager: fetched once when a process starts and kept in memory. The
//! secret's value is the key document `{"key_id": ..., "secret": ...}`.

use crate::anonymize::PseudonymKey;
use aws_config::BehaviorVersion;

/// Reads the key document from the secret `secret_id` (name or ARN). `endpoint` overrides the service endpoint
/// (a local moto server in tests). Errors name the secret, never its value.
pub async fn load_key(secret_id: &str, endpoint: Option<&str>) -> Result<PseudonymKey, String> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(e) = endpoint {
        loader = loader.endpoint_url(e);
    }
    let shared = loader.load().await;
    let mut config = aws_sdk_secretsmanager::config::Builder::from(&shared);
    if shared.region().is_none() {
        config = config.region(aws_config::Region::new("us-east-1"));
    }
    let client = aws_sdk_secretsmanager::Client::from_conf(config.build());
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| format!("secret {secret_id}: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(&e)))?;
    let text = out.secret_string().ok_or_else(|| format!("secret {secret_id}: no string value"))?;
    PseudonymKey::from_json(text).map_err(|e| format!("secret {secret_id}: {e}"))
}
