//! Kafka settings as leadpipe users write them, and their mapping to librdkafka properties.

use std::collections::BTreeMap;
use std::time::Duration;

/// How the producer talks to the brokers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecurityProtocol {
    /// No TLS, no authentication (local brokers).
    #[default]
    Plaintext,
    /// TLS.
    Ssl,
    /// TLS + SASL (SCRAM): MSK and most hosted clusters.
    SaslSsl,
}

impl SecurityProtocol {
    /// Parses `plaintext`, `ssl` or `sasl_ssl` (any case).
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "plaintext" => Ok(Self::Plaintext),
            "ssl" => Ok(Self::Ssl),
            "sasl_ssl" => Ok(Self::SaslSsl),
            other => Err(format!("security protocol {other:?} must be plaintext, ssl or sasl_ssl")),
        }
    }
}

/// Producer settings.
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// `host:port` list, comma separated.
    pub brokers: String,
    /// Topic for lead events.
    pub topic: String,
    /// Transport security.
    pub security: SecurityProtocol,
    /// SASL mechanism for `SaslSsl` (default `SCRAM-SHA-512`).
    pub sasl_mechanism: String,
    /// SASL username (from a secret).
    pub username: Option<String>,
    /// SASL password (from a secret).
    pub password: Option<String>,
    /// CA bundle for TLS, if not the system's.
    pub ca_location: Option<String>,
    /// How long librdkafka may try to deliver one record (including retries).
    pub message_timeout: Duration,
    /// Batching delay; small because a Lambda invocation waits for its batch anyway.
    pub linger: Duration,
}

impl KafkaSettings {
    /// Settings for a broker list and topic with safe defaults (plaintext, 30 s delivery timeout, 5 ms linger).
    pub fn new(brokers: &str, topic: &str) -> Self {
        Self {
            brokers: brokers.to_string(),
            topic: topic.to_string(),
            security: SecurityProtocol::Plaintext,
            sasl_mechanism: "SCRAM-SHA-512".into(),
            username: None,
            password: None,
            ca_location: None,
            message_timeout: Duration::from_secs(30),
            linger: Duration::from_millis(5),
        }
    }

    /// The librdkafka properties: idempotent producer (`enable.idempotence`, `acks=all`), zstd compression, and
    /// the security settings. Errors name the missing setting.
    pub fn client_properties(&self) -> Result<BTreeMap<&'static str, String>, String> {
        if self.brokers.trim().is_empty() {
            return Err("kafka brokers are not set".into());
        }
        let mut p = BTreeMap::new();
        p.insert("bootstrap.servers", self.brokers.clone());
        p.insert("client.id", "leadpipe-forward".to_string());
        p.insert("enable.idempotence", "true".to_string());
        p.insert("acks", "all".to_string());
        p.insert("compression.type", "zstd".to_string());
        p.insert("message.timeout.ms", self.message_timeout.as_millis().to_string());
        p.insert("linger.ms", self.linger.as_millis().to_string());
        let protocol = match self.security {
            SecurityProtocol::Plaintext => "plaintext",
            SecurityProtocol::Ssl => "ssl",
            SecurityProtocol::SaslSsl => "sasl_ssl",
        };
        p.insert("security.protocol", protocol.to_string());
        if self.security == SecurityProtocol::SaslSsl {
            let (Some(user), Some(pass)) = (&self.username, &self.password) else {
                return Err("sasl_ssl needs a username and a password (from the Kafka secret)".into());
            };
            p.insert("sasl.mechanisms", self.sasl_mechanism.clone());
            p.insert("sasl.username", user.clone());
            p.insert("sasl.password", pass.clone());
        }
        if let Some(ca) = &self.ca_location {
            p.insert("ssl.ca.location", ca.clone());
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotent_producer_defaults() {
        let p = KafkaSettings::new("127.0.0.1:9092", "leads").client_properties().expect("valid");
        assert_eq!(p["enable.idempotence"], "true");
        assert_eq!(p["acks"], "all");
        assert_eq!(p["compression.type"], "zstd");
        assert_eq!(p["security.protocol"], "plaintext");
        assert!(!p.contains_key("sasl.username"));
    }

    #[test]
    fn sasl_scram_needs_credentials() {
        let mut s = KafkaSettings::new("b-1.msk.example:9096", "leads");
        s.security = SecurityProtocol::SaslSsl;
        assert!(s.client_properties().is_err());
        s.username = Some("leadpipe".into());
        s.password = Some("secret".into());
        s.ca_location = Some("/etc/ssl/certs/ca.pem".into());
        let p = s.client_properties().expect("valid");
        assert_eq!(p["security.protocol"], "sasl_ssl");
        assert_eq!(p["sasl.mechanisms"], "SCRAM-SHA-512");
        assert_eq!(p["sasl.username"], "leadpipe");
        assert_eq!(p["ssl.ca.location"], "/etc/ssl/certs/ca.pem");
        assert_eq!(SecurityProtocol::parse("SASL_SSL"), Ok(SecurityProtocol::SaslSsl));
        assert!(SecurityProtocol::parse("sasl_plaintext").is_err());
        assert!(KafkaSettings::new(" ", "leads").client_properties().is_err());
    }
}
