//! The AWS SDK's shared configuration, loaded once per process: credentials (from the environment when set, else
//! the default chain), the region (default `us-east-1`), an optional endpoint override for local services (moto),
//! and one HTTPS client (rustls on ring) shared by every client built from it.
//!
//! The client trusts Amazon Trust Services' roots, which every AWS service endpoint chains to, unless the
//! process is pointed elsewhere (see [`Roots`]). Reading the system store costs extract's cold start ~7-9 ms: the
//! certificate crate reads the bundle and then every file of the certificate directory.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};
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

/// Amazon Trust Services' root certificates (Amazon Root CA 1-4 and Starfield Services Root G2, which
/// cross-signs them), as PEM.
const AMAZON_ROOTS: &[u8] = include_bytes!("../../data/tls/amazon-trust-services.pem");

/// The root certificates the SDK's HTTPS client trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Roots {
    /// Amazon Trust Services' roots only: the client talks to AWS endpoints (or to a plain-HTTP local one).
    Amazon,
    /// The system's store (`SSL_CERT_FILE` / `SSL_CERT_DIR` when set): an HTTPS endpoint override, a proxy
    /// that may intercept TLS, or an operator who chose the certificates.
    System,
}

impl Roots {
    /// Decides from `settings` and the environment (`var` reads one variable; `vars` lists them all).
    pub fn choose(
        settings: &AwsSettings,
        var: impl Fn(&str) -> Option<String>,
        vars: impl Iterator<Item = (String, String)>,
    ) -> Self {
        let https = |url: &str| url.trim().to_ascii_lowercase().starts_with("https://");
        let set = |name: &str| var(name).is_some_and(|v| !v.is_empty());
        let chosen = ["SSL_CERT_FILE", "SSL_CERT_DIR"].iter().any(|n| set(n));
        let proxied = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"].iter().any(|n| set(n));
        // The SDK also reads per-service overrides (`AWS_ENDPOINT_URL_S3`, ...).
        let https_override = settings.endpoint.as_deref().is_some_and(https)
            || vars.filter(|(name, _)| name.starts_with("AWS_ENDPOINT_URL")).any(|(_, url)| https(&url));
        if chosen || proxied || https_override {
            Roots::System
        } else {
            Roots::Amazon
        }
    }

    fn tls_context(self) -> TlsContext {
        let store = match self {
            Roots::Amazon => TrustStore::empty().with_pem_certificate(AMAZON_ROOTS),
            Roots::System => TrustStore::default(),
        };
        TlsContext::builder().with_trust_store(store).build().expect("a TLS context without server names builds")
    }
}

/// Loads the shared SDK configuration.
pub async fn sdk_config(settings: &AwsSettings) -> SdkConfig {
    // The SDK's default HTTPS client (connector settings, sleep, proxy from HTTPS_PROXY / NO_PROXY), built the
    // way aws-smithy-runtime builds it, with rustls on ring instead of aws-lc.
    let vars = std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    let roots = Roots::choose(settings, |name| std::env::var(name).ok(), vars);
    let https = Builder::new().build_with_connector_fn(move |settings, components| {
        let mut connector = ConnectorBuilder::default()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .tls_context(roots.tls_context());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn choose(endpoint: Option<&str>, env: &[(&str, &str)]) -> Roots {
        let settings = AwsSettings { endpoint: endpoint.map(str::to_string), region: None };
        let var = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
        Roots::choose(&settings, var, env.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn aws_endpoints_and_plain_http_overrides_trust_amazons_roots() {
        assert_eq!(choose(None, &[]), Roots::Amazon);
        assert_eq!(
            choose(Some("http://127.0.0.1:5055"), &[("AWS_ENDPOINT_URL", "http://127.0.0.1:5055")]),
            Roots::Amazon
        );
        assert_eq!(choose(None, &[("SSL_CERT_FILE", "")]), Roots::Amazon);
    }

    #[test]
    fn https_overrides_proxies_and_chosen_certificates_use_the_system_store() {
        assert_eq!(choose(Some("HTTPS://localstack.internal:4566"), &[]), Roots::System);
        assert_eq!(choose(None, &[("AWS_ENDPOINT_URL_S3", "https://minio.internal")]), Roots::System);
        assert_eq!(choose(None, &[("SSL_CERT_FILE", "/etc/pki/tls/certs/ca-bundle.crt")]), Roots::System);
        assert_eq!(choose(None, &[("SSL_CERT_DIR", "/etc/ssl/certs")]), Roots::System);
        assert_eq!(choose(None, &[("HTTPS_PROXY", "http://proxy:3128")]), Roots::System);
    }

    #[test]
    fn the_embedded_roots_are_five_certificates_the_tls_client_accepts() {
        let text = std::str::from_utf8(AMAZON_ROOTS).expect("PEM is ASCII");
        assert_eq!(text.matches("-----BEGIN CERTIFICATE-----").count(), 5);
        // Building the connector parses every certificate into the root store (and panics on a bad one).
        for roots in [Roots::Amazon, Roots::System] {
            let _connector = ConnectorBuilder::default()
                .tls_provider(Provider::Rustls(CryptoMode::Ring))
                .tls_context(roots.tls_context())
                .build();
        }
    }
}
