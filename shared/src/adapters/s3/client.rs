//! Building the S3 client once per process.

use aws_config::BehaviorVersion;

/// Where S3 is.
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    /// Endpoint override (`http://127.0.0.1:5055` for a local moto server); `None` = AWS.
    pub endpoint: Option<String>,
    /// Region (default from the environment, else `us-east-1`).
    pub region: Option<String>,
}

/// An S3 client from the default credential chain; path-style addressing when an endpoint is overridden.
pub async fn s3_client(settings: &S3Settings) -> aws_sdk_s3::Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &settings.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(endpoint) = &settings.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    let shared = loader.load().await;
    let mut config = aws_sdk_s3::config::Builder::from(&shared);
    if shared.region().is_none() {
        config = config.region(aws_config::Region::new("us-east-1"));
    }
    if settings.endpoint.is_some() {
        config = config.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(config.build())
}
