//! The functions' configuration from environment variables, read once at init through a lookup function (so it
//! is testable without touching the process environment). Every error names the variable and what is wrong;
//! a function whose configuration is wrong refuses to start.

use crate::config::PipelineConfig;
use crate::kafka_config::{KafkaSettings, SecurityProtocol};
use crate::pipeline::{ExtractSettings, DEFAULT_UNMARKED_WINDOW};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// A configuration problem: the variable and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct EnvError {
    /// The environment variable.
    pub variable: String,
    /// What is wrong.
    pub message: String,
}

/// Reads variables through `lookup` (empty values count as unset).
pub struct Env<F: Fn(&str) -> Option<String>> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// An environment read through `lookup`.
    pub fn new(lookup: F) -> Self {
        Self { lookup }
    }

    /// The value of `name`, if set and not empty.
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    }

    /// The value of `name`, or an error saying what it should hold.
    pub fn required(&self, name: &str, what: &str) -> Result<String, EnvError> {
        self.optional(name).ok_or_else(|| err(name, format!("not set (expected {what})")))
    }

    fn parsed<T: std::str::FromStr>(&self, name: &str, default: T, what: &str) -> Result<T, EnvError> {
        match self.optional(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| err(name, format!("{v:?} is not {what}"))),
        }
    }

    /// How long before the invocation deadline a function stops starting new work
    /// (`LEADPIPE_DEADLINE_MARGIN_MS`, default 2000).
    pub fn deadline_margin(&self) -> Result<Duration, EnvError> {
        self.parsed("LEADPIPE_DEADLINE_MARGIN_MS", 2000u64, "a number of milliseconds").map(Duration::from_millis)
    }
}

fn err(variable: &str, message: impl Into<String>) -> EnvError {
    EnvError { variable: variable.into(), message: message.into() }
}

/// Where the rules file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulesSource {
    /// An S3 object (`LEADPIPE_RULES_S3_URI=s3://bucket/key`), read at init.
    S3 {
        /// Bucket.
        bucket: String,
        /// Key (its extension, `.toml`/`.yaml`, gives the format).
        key: String,
    },
    /// A file in the deployment package or on disk (`LEADPIPE_RULES`).
    File(PathBuf),
}

/// Parses `s3://bucket/key`.
pub fn parse_s3_uri(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then(|| (bucket.to_string(), key.to_string()))
}

/// The extract function's configuration.
#[derive(Debug, Clone)]
pub struct ExtractEnv {
    /// The rules file.
    pub rules: RulesSource,
    /// Secrets Manager secret holding the pseudonym key (`LEADPIPE_KEY_SECRET_ARN`).
    pub key_secret: String,
    /// The leads topic (`LEADPIPE_LEADS_TOPIC_ARN`).
    pub leads_topic_arn: String,
    /// Quarantine bucket (`LEADPIPE_QUARANTINE_BUCKET`).
    pub quarantine_bucket: String,
    /// Quarantine key prefix (`LEADPIPE_QUARANTINE_PREFIX`, default `quarantine/`).
    pub quarantine_prefix: String,
    /// Operations alerts for quarantined mail (`LEADPIPE_ALERT_TOPIC_ARN`, optional).
    pub alert_topic_arn: Option<String>,
    /// New-lead alerts for the business (`LEADPIPE_LEAD_ALERT_TOPIC_ARN`, optional).
    pub lead_alert_topic_arn: Option<String>,
    /// Size limit, spam policy and mailboxes.
    pub settings: ExtractSettings,
    /// Stop-new-work margin before the deadline.
    pub deadline_margin: Duration,
}

impl ExtractEnv {
    /// Reads and validates the configuration, reporting the first problem.
    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, EnvError> {
        let rules = match (env.optional("LEADPIPE_RULES_S3_URI"), env.optional("LEADPIPE_RULES")) {
            (Some(uri), _) => {
                let (bucket, key) = parse_s3_uri(&uri)
                    .ok_or_else(|| err("LEADPIPE_RULES_S3_URI", format!("{uri:?} is not s3://bucket/key")))?;
                RulesSource::S3 { bucket, key }
            }
            (None, Some(path)) => RulesSource::File(PathBuf::from(path)),
            (None, None) => {
                return Err(err(
                    "LEADPIPE_RULES_S3_URI",
                    "not set (expected s3://bucket/key of the rules file, or LEADPIPE_RULES=path)",
                ))
            }
        };
        let mailboxes: BTreeMap<String, String> = match env.optional("LEADPIPE_MAILBOXES") {
            None => BTreeMap::new(),
            Some(json) => serde_json::from_str(&json).map_err(|_| {
                err("LEADPIPE_MAILBOXES", "not a JSON object of strings (address or @domain -> mailbox id)")
            })?,
        };
        let pipeline = PipelineConfig {
            kafka_topic: "leads".into(),
            max_mail_bytes: env.parsed(
                "LEADPIPE_MAX_MAIL_BYTES",
                crate::email::ParseLimits::default().max_bytes,
                "a number of bytes",
            )?,
            max_html_nodes: env.parsed(
                "LEADPIPE_MAX_HTML_NODES",
                crate::config::default_max_html_nodes(),
                "a number of nodes",
            )?,
            spam: env.optional("LEADPIPE_SPAM").unwrap_or_else(|| "quarantine".into()),
            mailboxes,
        };
        pipeline.validate().map_err(|m| {
            let var = match m.split_whitespace().next() {
                Some("spam") => "LEADPIPE_SPAM",
                Some("max_html_nodes") => "LEADPIPE_MAX_HTML_NODES",
                _ => "LEADPIPE_MAX_MAIL_BYTES",
            };
            err(var, m)
        })?;
        Ok(Self {
            rules,
            key_secret: env.required("LEADPIPE_KEY_SECRET_ARN", "the ARN of the pseudonym key secret")?,
            leads_topic_arn: env.required("LEADPIPE_LEADS_TOPIC_ARN", "the ARN of the leads SNS topic")?,
            quarantine_bucket: env.required("LEADPIPE_QUARANTINE_BUCKET", "the quarantine bucket name")?,
            quarantine_prefix: env.optional("LEADPIPE_QUARANTINE_PREFIX").unwrap_or_else(|| "quarantine/".into()),
            alert_topic_arn: env.optional("LEADPIPE_ALERT_TOPIC_ARN"),
            lead_alert_topic_arn: env.optional("LEADPIPE_LEAD_ALERT_TOPIC_ARN"),
            settings: pipeline.extract_settings(),
            deadline_margin: env.deadline_margin()?,
        })
    }
}

/// The forward function's configuration.
#[derive(Debug, Clone)]
pub struct ForwardEnv {
    /// Brokers, topic and security (SASL credentials are filled in from the secret at init).
    pub kafka: KafkaSettings,
    /// Secret with the SASL username and password (`LEADPIPE_KAFKA_SECRET_ARN`; required for `sasl_ssl`).
    pub kafka_secret_arn: Option<String>,
    /// Ledger bucket (`LEADPIPE_LEDGER_BUCKET`).
    pub ledger_bucket: String,
    /// Ledger key prefix (`LEADPIPE_LEDGER_PREFIX`, default `ledger/`).
    pub ledger_prefix: String,
    /// Records acknowledged by the broker but not yet marked in the ledger at once: the most a crash can
    /// duplicate (`LEADPIPE_UNMARKED_WINDOW`, default 1; larger trades that bound for fewer round trips).
    pub unmarked_window: usize,
    /// Stop-new-work margin before the deadline.
    pub deadline_margin: Duration,
}

impl ForwardEnv {
    /// Reads and validates the configuration, reporting the first problem.
    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, EnvError> {
        let security = match env.optional("LEADPIPE_KAFKA_SECURITY_PROTOCOL") {
            None => SecurityProtocol::Plaintext,
            Some(s) => SecurityProtocol::parse(&s).map_err(|m| err("LEADPIPE_KAFKA_SECURITY_PROTOCOL", m))?,
        };
        let topic = env.optional("LEADPIPE_KAFKA_TOPIC").unwrap_or_else(|| "leads".into());
        if !topic.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
            return Err(err("LEADPIPE_KAFKA_TOPIC", format!("{topic:?} is not a valid topic name")));
        }
        let kafka_secret_arn = env.optional("LEADPIPE_KAFKA_SECRET_ARN");
        if security == SecurityProtocol::SaslSsl && kafka_secret_arn.is_none() {
            return Err(err(
                "LEADPIPE_KAFKA_SECRET_ARN",
                "not set, but sasl_ssl needs the secret with the SASL credentials",
            ));
        }
        Ok(Self {
            kafka: KafkaSettings {
                brokers: env.required("LEADPIPE_KAFKA_BROKERS", "host:port[,host:port...]")?,
                username: None,
                password: None,
                // forward enqueues a whole chunk before it waits, so waiting for more records only adds latency
                // (5 ms per chunk; with the default window of 1, per record).
                linger: Duration::ZERO,
                topic,
                security,
                sasl_mechanism: env.optional("LEADPIPE_KAFKA_SASL_MECHANISM").unwrap_or_else(|| "SCRAM-SHA-512".into()),
                ca_location: env.optional("LEADPIPE_KAFKA_CA_LOCATION"),
                message_timeout: Duration::from_millis(env.parsed(
                    "LEADPIPE_KAFKA_MESSAGE_TIMEOUT_MS",
                    30_000u64,
                    "a number of milliseconds",
                )?),
            },
            kafka_secret_arn,
            ledger_bucket: env.required("LEADPIPE_LEDGER_BUCKET", "the bucket of the delivery ledger")?,
            ledger_prefix: env.optional("LEADPIPE_LEDGER_PREFIX").unwrap_or_else(|| "ledger/".into()),
            unmarked_window: match env.parsed("LEADPIPE_UNMARKED_WINDOW", DEFAULT_UNMARKED_WINDOW, "a count >= 1")? {
                0 => return Err(err("LEADPIPE_UNMARKED_WINDOW", "must be at least 1")),
                n => n,
            },
            deadline_margin: env.deadline_margin()?,
        })
    }
}

/// The archive function's configuration.
#[derive(Debug, Clone)]
pub struct ArchiveEnv {
    /// Archive bucket (`LEADPIPE_ARCHIVE_BUCKET`).
    pub bucket: String,
    /// Prefix before `leads/dt=...` (`LEADPIPE_ARCHIVE_PREFIX`, default none).
    pub prefix: String,
    /// KMS key for SSE-KMS (`LEADPIPE_ARCHIVE_KMS_KEY_ID`, optional: else the bucket's default encryption).
    pub kms_key_id: Option<String>,
    /// Stop-new-work margin before the deadline.
    pub deadline_margin: Duration,
}

impl ArchiveEnv {
    /// Reads and validates the configuration, reporting the first problem.
    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, EnvError> {
        let mut prefix = env.optional("LEADPIPE_ARCHIVE_PREFIX").unwrap_or_default();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(Self {
            bucket: env.required("LEADPIPE_ARCHIVE_BUCKET", "the archive bucket name")?,
            prefix,
            kms_key_id: env.optional("LEADPIPE_ARCHIVE_KMS_KEY_ID"),
            deadline_margin: env.deadline_margin()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Env::new(move |k| map.get(k).cloned())
    }

    const EXTRACT: &[(&str, &str)] = &[
        ("LEADPIPE_RULES_S3_URI", "s3://config/rules/rules.toml"),
        ("LEADPIPE_KEY_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:key"),
        ("LEADPIPE_LEADS_TOPIC_ARN", "arn:aws:sns:us-east-1:1:leads"),
        ("LEADPIPE_QUARANTINE_BUCKET", "q"),
    ];

    #[test]
    fn extract_defaults_and_errors_name_the_variable() {
        let e = ExtractEnv::read(&env(EXTRACT)).expect("valid");
        assert_eq!(e.rules, RulesSource::S3 { bucket: "config".into(), key: "rules/rules.toml".into() });
        assert_eq!(e.quarantine_prefix, "quarantine/");
        assert_eq!(e.alert_topic_arn, None);
        assert_eq!(e.deadline_margin, Duration::from_secs(2));
        let with = |k: &'static str, v: &'static str| {
            let mut p = EXTRACT.to_vec();
            p.retain(|(n, _)| *n != k);
            p.push((k, v));
            ExtractEnv::read(&env(&p))
        };
        assert_eq!(e.settings.limits.html.max_nodes, 100_000);
        let e = with("LEADPIPE_MAX_HTML_NODES", "250000").expect("valid");
        assert_eq!(e.settings.limits.html.max_nodes, 250_000);
        let e = with("LEADPIPE_MAILBOXES", "{\"@dealer.example\":\"dealer\"}").expect("valid");
        assert_eq!(e.settings.mailboxes.id_for(["sales@dealer.example"]).as_deref(), Some("dealer"));
        for (k, v, expected) in [
            (
                "LEADPIPE_RULES_S3_URI",
                "config/rules.toml",
                "LEADPIPE_RULES_S3_URI: \"config/rules.toml\" is not s3://bucket/key",
            ),
            ("LEADPIPE_MAILBOXES", "[1]", "LEADPIPE_MAILBOXES: not a JSON object"),
            ("LEADPIPE_SPAM", "maybe", "LEADPIPE_SPAM: spam \"maybe\" must be"),
            ("LEADPIPE_MAX_MAIL_BYTES", "ten", "LEADPIPE_MAX_MAIL_BYTES: \"ten\" is not a number of bytes"),
            ("LEADPIPE_MAX_MAIL_BYTES", "10", "LEADPIPE_MAX_MAIL_BYTES: max_mail_bytes 10 is below 1024"),
            ("LEADPIPE_MAX_HTML_NODES", "10", "LEADPIPE_MAX_HTML_NODES: max_html_nodes 10 is below 1000"),
            (
                "LEADPIPE_LEADS_TOPIC_ARN",
                "",
                "LEADPIPE_LEADS_TOPIC_ARN: not set (expected the ARN of the leads SNS topic)",
            ),
        ] {
            let e = with(k, v).expect_err(k).to_string();
            assert!(e.starts_with(expected), "{e}");
        }
    }

    #[test]
    fn forward_and_archive() {
        let f = ForwardEnv::read(&env(&[("LEADPIPE_KAFKA_BROKERS", "b:9092"), ("LEADPIPE_LEDGER_BUCKET", "a")]))
            .expect("valid");
        assert_eq!(f.kafka.topic, "leads");
        assert_eq!(f.ledger_prefix, "ledger/");
        assert_eq!(f.unmarked_window, 1);
        for (window, expected) in [("0", "must be at least 1"), ("many", "\"many\" is not a count >= 1")] {
            let e = ForwardEnv::read(&env(&[
                ("LEADPIPE_KAFKA_BROKERS", "b:9092"),
                ("LEADPIPE_LEDGER_BUCKET", "a"),
                ("LEADPIPE_UNMARKED_WINDOW", window),
            ]))
            .expect_err(window);
            assert_eq!((e.variable.as_str(), e.message.as_str()), ("LEADPIPE_UNMARKED_WINDOW", expected));
        }
        let e = ForwardEnv::read(&env(&[
            ("LEADPIPE_KAFKA_BROKERS", "b:9096"),
            ("LEADPIPE_LEDGER_BUCKET", "a"),
            ("LEADPIPE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
        ]))
        .expect_err("needs the secret");
        assert_eq!(e.variable, "LEADPIPE_KAFKA_SECRET_ARN");
        let e = ForwardEnv::read(&env(&[("LEADPIPE_LEDGER_BUCKET", "a")])).expect_err("brokers");
        assert_eq!(e.variable, "LEADPIPE_KAFKA_BROKERS");
        let a = ArchiveEnv::read(&env(&[("LEADPIPE_ARCHIVE_BUCKET", "arch"), ("LEADPIPE_ARCHIVE_PREFIX", "x")]))
            .expect("valid");
        assert_eq!(a.prefix, "x/");
        assert_eq!(ArchiveEnv::read(&env(&[])).expect_err("bucket").variable, "LEADPIPE_ARCHIVE_BUCKET");
        assert!(parse_s3_uri("s3://b/").is_none());
    }
}
