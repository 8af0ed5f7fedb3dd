//! Pipeline settings shared by the extract function and the local replay: one typed struct, loaded with the
//! `config` crate from an optional file plus `LEADPIPE_*` environment overrides, validated at start.

use crate::email::html_text::HtmlLimits;
use crate::email::ParseLimits;
use crate::pipeline::{ExtractSettings, Mailboxes, SpamPolicy};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The pipeline's settings (file keys shown; environment: `LEADPIPE_KAFKA_TOPIC`, `LEADPIPE_MAX_MAIL_BYTES`,
/// `LEADPIPE_MAX_HTML_NODES`, `LEADPIPE_SPAM`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Kafka topic for lead events (default `leads`).
    #[serde(default = "default_topic")]
    pub kafka_topic: String,
    /// Mails over this size are quarantined as `too_large` (default 10 MiB).
    #[serde(default = "default_max_bytes", deserialize_with = "count")]
    pub max_mail_bytes: usize,
    /// The most nodes the document trees of one mail's HTML bodies may have together, each body's HTML counted at
    /// 128 bytes to a node (for `html_table` fields; default 100,000, at most about 15 MB); a body whose tree
    /// would pass it gets none.
    #[serde(default = "default_max_html_nodes", deserialize_with = "count")]
    pub max_html_nodes: usize,
    /// `quarantine` (default) or `process` mail that SES judged spam.
    #[serde(default = "default_spam")]
    pub spam: String,
    /// Recipient address or `@domain` -> mailbox id (`[mailboxes]`).
    #[serde(default)]
    pub mailboxes: BTreeMap<String, String>,
}

fn default_topic() -> String {
    "leads".into()
}
fn default_max_bytes() -> usize {
    ParseLimits::default().max_bytes
}
/// The default of [`PipelineConfig::max_html_nodes`].
pub fn default_max_html_nodes() -> usize {
    HtmlLimits::default().max_nodes
}
fn default_spam() -> String {
    "quarantine".into()
}

/// A number from the file, or a numeric string from the environment (read as text, so that a topic named `2024`
/// stays a string).
fn count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Count {
        Number(usize),
        Text(String),
    }
    match Count::deserialize(d)? {
        Count::Number(n) => Ok(n),
        Count::Text(t) => t.trim().parse().map_err(|_| serde::de::Error::custom(format!("{t:?} is not a number"))),
    }
}

/// A configuration problem, naming the file and key.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct ConfigError {
    /// The file (or "environment").
    pub source_name: String,
    /// What is wrong.
    pub message: String,
}

impl PipelineConfig {
    /// Loads `file` (TOML/YAML by extension, optional) with `LEADPIPE_*` environment overrides.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(file, filtered_env())
    }

    /// [`PipelineConfig::load`] with `env` (`LEADPIPE_*` variable -> value) as the environment.
    fn load_with_env(file: Option<&Path>, env: config::Map<String, String>) -> Result<Self, ConfigError> {
        let name = file.map_or_else(|| "environment".to_string(), |f| f.display().to_string());
        let err = |message: String| ConfigError { source_name: name.clone(), message };
        let mut builder = config::Config::builder();
        if let Some(f) = file {
            if !f.is_file() {
                return Err(err("file not found".into()));
            }
            builder = builder.add_source(config::File::from(f));
        }
        // The prefix separator defaults to the key separator (`__`), which would skip `LEADPIPE_MAX_MAIL_BYTES`.
        let overrides =
            config::Environment::with_prefix("LEADPIPE").prefix_separator("_").keep_prefix(false).separator("__");
        let value: serde_json::Value = builder
            .add_source(overrides.source(Some(env)))
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| err(e.to_string()))?;
        let cfg: Self =
            serde_path_to_error::deserialize(value).map_err(|e| err(format!("{}: {}", e.path(), e.inner())))?;
        cfg.validate().map_err(err)?;
        Ok(cfg)
    }

    /// Checks the values (topic name, size floor, spam policy); the error says which and why.
    pub fn validate(&self) -> Result<(), String> {
        if self.kafka_topic.is_empty()
            || !self.kafka_topic.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(format!("kafka_topic {:?} is not a valid topic name", self.kafka_topic));
        }
        if self.max_mail_bytes < 1024 {
            return Err(format!("max_mail_bytes {} is below 1024", self.max_mail_bytes));
        }
        if self.max_html_nodes < 1000 {
            return Err(format!("max_html_nodes {} is below 1000", self.max_html_nodes));
        }
        self.spam_policy()?;
        Ok(())
    }

    fn spam_policy(&self) -> Result<SpamPolicy, String> {
        match self.spam.as_str() {
            "quarantine" => Ok(SpamPolicy::Quarantine),
            "process" => Ok(SpamPolicy::Process),
            other => Err(format!("spam {other:?} must be \"quarantine\" or \"process\"")),
        }
    }

    /// The extract step's settings.
    pub fn extract_settings(&self) -> ExtractSettings {
        ExtractSettings {
            limits: ParseLimits {
                max_bytes: self.max_mail_bytes,
                html: HtmlLimits { max_nodes: self.max_html_nodes },
                ..ParseLimits::default()
            },
            mailboxes: Mailboxes::new(self.mailboxes.clone()),
            spam: self.spam_policy().unwrap_or_default(),
        }
    }
}

/// Only the keys this struct knows come from the environment (`LEADPIPE_KEY` and friends are secrets handled
/// elsewhere and must not be mistaken for settings).
fn filtered_env() -> config::Map<String, String> {
    ["KAFKA_TOPIC", "MAX_MAIL_BYTES", "MAX_HTML_NODES", "SPAM"]
        .iter()
        .filter_map(|k| std::env::var(format!("LEADPIPE_{k}")).ok().map(|v| (format!("LEADPIPE_{k}"), v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_values_and_validation() {
        let dir = std::env::temp_dir().join(format!("leadpipe-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let f = dir.join("p.toml");
        std::fs::write(&f, "kafka_topic = \"lead-events\"\n[mailboxes]\n\"@dealer.example.com\" = \"dealer\"\n")
            .expect("write");
        let c = PipelineConfig::load_with_env(Some(&f), config::Map::new()).expect("valid");
        assert_eq!(c.kafka_topic, "lead-events");
        assert_eq!(c.extract_settings().limits.html.max_nodes, 100_000);
        assert_eq!(c.mailboxes.get("@dealer.example.com").map(String::as_str), Some("dealer"));
        std::fs::write(&f, "max_html_nodes = 5000\n").expect("write");
        let c = PipelineConfig::load_with_env(Some(&f), config::Map::new()).expect("valid");
        assert_eq!(c.extract_settings().limits.html.max_nodes, 5000);
        std::fs::write(&f, "max_html_nodes = 999\n").expect("write");
        let e = PipelineConfig::load_with_env(Some(&f), config::Map::new()).expect_err("invalid");
        assert!(e.to_string().ends_with("p.toml: max_html_nodes 999 is below 1000"), "{e}");
        let env = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let c = PipelineConfig::load_with_env(
            Some(&f),
            env(&[
                ("LEADPIPE_MAX_HTML_NODES", "250000"),
                ("LEADPIPE_MAX_MAIL_BYTES", "2048"),
                ("LEADPIPE_KAFKA_TOPIC", "2024"),
            ]),
        )
        .expect("valid");
        assert_eq!((c.max_html_nodes, c.max_mail_bytes), (250_000, 2048), "the environment overrides the file");
        assert_eq!(c.kafka_topic, "2024", "a numeric topic name stays text");
        let e = PipelineConfig::load_with_env(Some(&f), env(&[("LEADPIPE_MAX_MAIL_BYTES", "ten")])).expect_err("bad");
        assert!(e.to_string().contains("max_mail_bytes: \"ten\" is not a number"), "{e}");
        std::fs::write(&f, "spam = \"maybe\"\n").expect("write");
        let e = PipelineConfig::load_with_env(Some(&f), config::Map::new()).expect_err("invalid");
        assert!(e.to_string().ends_with("p.toml: spam \"maybe\" must be \"quarantine\" or \"process\""), "{e}");
        std::fs::write(&f, "topic = \"x\"\n").expect("write");
        let e = PipelineConfig::load_with_env(Some(&f), config::Map::new()).expect_err("unknown key");
        assert!(e.to_string().contains("unknown field `topic`"), "{e}");
        assert!(PipelineConfig::load(Some(&dir.join("missing.toml"))).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
