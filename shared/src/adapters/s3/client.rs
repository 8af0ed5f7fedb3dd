//! Building the S3 client once per process.

use crate::adapters::aws::{sdk_config, AwsSettings};
use aws_config::SdkConfig;

/// Where S3 is (the same shape as every AWS service's settings).
pub type S3Settings = AwsSettings;

/// An S3 client from the default credential chain; path-style addressing when an endpoint is overridden.
pub async fn s3_client(settings: &S3Settings) -> aws_sdk_s3::Client {
    s3_client_from(&sdk_config(settings).await)
}

/// An S3 client from a loaded SDK configuration; path-style when it has an endpoint override (local services
/// cannot serve `bucket.127.0.0.1` host names).
pub fn s3_client_from(shared: &SdkConfig) -> aws_sdk_s3::Client {
    let path_style = shared.endpoint_url().is_some();
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(shared).force_path_style(path_style).build())
}
