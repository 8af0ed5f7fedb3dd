//! The AWS SDK's shared configuration, loaded once per process: credentials (from the environment when set, else
//! the default chain), the region (default `us-east-1`), an optional endpoint override for local services (moto),
//! and one HTTPS client (rustls on ring) shared by every client built from it.
//!
//! In a Lambda function the client trusts Amazon Trust Services' roots, which the standard partition's endpoints
//! chain to, unless the function is pointed elsewhere (see [`Roots`]). Reading the system store costs extract's cold start ~7-9 ms: the
//! certificate crate reads the bundle and then every file of the certificate directory.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use std::ffi::OsString;
use std::sync::OnceLock;

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
    /// Amazon Trust Services' roots only: a Lambda function in the standard AWS partition talking to AWS
    /// endpoints (or to a plain-HTTP local one).
    Amazon,
    /// The system's store (`SSL_CERT_FILE` / `SSL_CERT_DIR` when set): anywhere but Lambda (an operator's machine
    /// may sit behind TLS inspection), other partitions, an HTTPS endpoint override or one that may come from a
    /// profile, a proxy, or certificates the operator chose.
    System,
}

/// Region prefixes outside the standard partition (China, GovCloud, the ISO and European sovereign partitions),
/// whose endpoints may chain to other roots.
const OTHER_PARTITIONS: [&str; 4] = ["cn-", "us-gov-", "us-iso", "eusc-"];

impl Roots {
    /// Decides from `settings` and the environment (`var` reads one variable; `vars` lists them all).
    pub fn choose(
        settings: &AwsSettings,
        var: impl Fn(&str) -> Option<OsString>,
        vars: impl Iterator<Item = (OsString, OsString)>,
    ) -> Self {
        let https = |url: &str| url.trim().to_ascii_lowercase().starts_with("https://");
        let set = |name: &str| var(name).is_some_and(|v| !v.is_empty());
        let any_set = |names: &[&str]| names.iter().any(|n| set(n));
        let region = settings.region.clone().or_else(|| {
            ["AWS_REGION", "AWS_DEFAULT_REGION"]
                .iter()
                .find_map(|n| var(n)?.into_string().ok().filter(|r| !r.is_empty()))
        });
        let standard_partition = region.is_some_and(|r| !OTHER_PARTITIONS.iter().any(|p| r.starts_with(p)));
        let chosen = any_set(&["SSL_CERT_FILE", "SSL_CERT_DIR", "AWS_CA_BUNDLE"]);
        // A profile may set `endpoint_url`.
        let profile = any_set(&["AWS_PROFILE", "AWS_CONFIG_FILE"]);
        let proxied = any_set(&["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]);
        // The SDK also reads per-service overrides (`AWS_ENDPOINT_URL_S3`, ...).
        let https_override = settings.endpoint.as_deref().is_some_and(https)
            || vars
                .filter(|(name, _)| name.to_string_lossy().starts_with("AWS_ENDPOINT_URL"))
                .any(|(_, url)| https(&url.to_string_lossy()));
        if set("AWS_LAMBDA_RUNTIME_API") && standard_partition && !(chosen || profile || proxied || https_override) {
            Roots::Amazon
        } else {
            Roots::System
        }
    }

    /// What an operator reading a failed init needs to know about these roots, if anything: the embedded ones
    /// reject an endpoint whose certificate chains elsewhere, and setting `SSL_CERT_FILE` switches to a store.
    pub fn note(self) -> Option<&'static str> {
        match self {
            Roots::Amazon => Some(
                "the HTTPS client trusts only the embedded Amazon Trust Services roots; on a certificate error, set \
                 SSL_CERT_FILE to a PEM bundle to use that store instead",
            ),
            Roots::System => None,
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

/// The roots chosen by this process's first [`sdk_config`].
static CHOSEN: OnceLock<Roots> = OnceLock::new();

/// [`Roots::note`] for the roots this process's SDK client trusts (`None` before [`sdk_config`] ran): for the
/// log line of a failed init.
pub fn trust_note() -> Option<&'static str> {
    CHOSEN.get().and_then(|r| r.note())
}

/// Loads the shared SDK configuration.
pub async fn sdk_config(settings: &AwsSettings) -> SdkConfig {
    // The SDK's default HTTPS client (connector settings, sleep, proxy from HTTPS_PROXY / NO_PROXY), built the
    // way aws-smithy-runtime builds it, with rustls on ring instead of aws-lc.
    let roots = Roots::choose(settings, |name| std::env::var_os(name), std::env::vars_os());
    // A process builds one configuration from one environment: the first choice is the one in use.
    let _ = CHOSEN.set(roots);
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

    const LAMBDA: [(&str, &str); 2] = [("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"), ("AWS_REGION", "eu-central-1")];

    fn choose(endpoint: Option<&str>, extra: &[(&str, &str)]) -> Roots {
        let settings = AwsSettings { endpoint: endpoint.map(str::to_string), region: None };
        let env: Vec<(OsString, OsString)> = LAMBDA.iter().chain(extra).map(|(k, v)| (k.into(), v.into())).collect();
        let var = |name: &str| env.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        Roots::choose(&settings, var, env.clone().into_iter())
    }

    #[test]
    fn lambda_in_the_standard_partition_trusts_amazons_roots() {
        assert_eq!(choose(None, &[]), Roots::Amazon);
        assert_eq!(
            choose(Some("http://127.0.0.1:5055"), &[("AWS_ENDPOINT_URL", "http://127.0.0.1:5055")]),
            Roots::Amazon
        );
        assert_eq!(choose(None, &[("SSL_CERT_FILE", "")]), Roots::Amazon);
    }

    #[test]
    fn everything_else_uses_the_system_store() {
        let settings = AwsSettings::default();
        assert_eq!(Roots::choose(&settings, |_| None, std::iter::empty()), Roots::System, "not in Lambda");
        for region in ["cn-north-1", "us-gov-west-1", "us-isob-east-1", "eusc-de-east-1", ""] {
            assert_eq!(choose(None, &[("AWS_REGION", region)]), Roots::System, "{region:?}");
        }
        assert_eq!(choose(Some("HTTPS://localstack.internal:4566"), &[]), Roots::System);
        assert_eq!(choose(None, &[("AWS_ENDPOINT_URL_S3", "https://minio.internal")]), Roots::System);
        for name in ["SSL_CERT_FILE", "SSL_CERT_DIR", "AWS_CA_BUNDLE", "AWS_PROFILE", "AWS_CONFIG_FILE"] {
            assert_eq!(choose(None, &[(name, "x")]), Roots::System, "{name}");
        }
        for name in ["HTTPS_PROXY", "http_proxy", "ALL_PROXY"] {
            assert_eq!(choose(None, &[(name, "http://proxy:3128")]), Roots::System, "{name}");
        }
    }

    #[test]
    fn only_the_embedded_roots_need_a_note() {
        assert!(Roots::Amazon.note().is_some_and(|n| n.contains("SSL_CERT_FILE")));
        assert_eq!(Roots::System.note(), None);
    }

    #[test]
    fn the_embedded_roots_are_five_certificates_the_tls_client_accepts() {
        let text = std::str::from_utf8(AMAZON_ROOTS).expect("PEM is ASCII");
        assert_eq!(text.matches("-----BEGIN CERTIFICATE-----").count(), 5);
        // Building the connector parses every certificate into the root store (and panics on a bad one).
        let _connector = ConnectorBuilder::default()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .tls_context(Roots::Amazon.tls_context())
            .build();
    }
}
