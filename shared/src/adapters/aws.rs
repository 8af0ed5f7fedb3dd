//! The AWS SDK's shared configuration, loaded once per process: credentials (from the environment when set, else
//! the default chain), the region (default `us-east-1`), an optional endpoint override for local services (moto),
//! and one HTTPS client (rustls on ring) shared by every client built from it.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_http_client::{Builder, ConnectorBuilder};

/// Where the AWS services are.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// Endpoint override (`http://127.0.0.1:5055` for a local moto server); `None` = AWS.
    pub endpoint: Option<String>,
    /// Region (default from the environment, else `us-east-1`).
    pub region: Option<String>,
}

impl AwsSettings {
    /// Settings from the standard variables: `AWS_ENDPOINT_URL` (all services) and the region chain.
    pub fn from_env() -> Self {
        Self { endpoint: std::env::var("AWS_ENDPOINT_URL").ok().filter(|e| !e.is_empty()), region: None }
    }
}

/// Loads the shared SDK configuration.
pub async fn sdk_config(settings: &AwsSettings) -> SdkConfig {
    // The SDK's default HTTPS client (connector settings, sleep, proxy from HTTPS_PROXY / NO_PROXY), built the
    // way aws-smithy-runtime builds it, with rustls on ring instead of aws-lc.
    let https = Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector = ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::Ring));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    });
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https);
    if let Some(region) = &settings.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    // Lambda (and the local stack) put the credentials in the environment. Using them directly skips building
    // the default chain - profile files, SSO, and web identity with its own STS client - at every cold start.
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY") {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    if let Some(endpoint) = &settings.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    let shared = loader.load().await;
    if shared.region().is_none() {
        return shared.into_builder().region(aws_config::Region::new("us-east-1")).build();
    }
    shared
}
