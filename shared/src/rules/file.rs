//! The rules file as written (serde types). Unknown keys are rejected; compilation into [`super::Rule`]s and
//! semantic checks happen in `load.rs`.

use crate::fields::{FieldType, PiiClass};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Top level of a rules file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    #[serde(default)]
    pub defaults: RawDefaults,
    #[serde(default)]
    pub policy: BTreeMap<String, String>,
    #[serde(default)]
    pub scrubber: RawScrubber,
    #[serde(default)]
    pub rules: Vec<serde_json::Value>,
}

/// `[scrubber]`: settings of the free-text PII detectors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScrubber {
    pub phone_regions: Option<Vec<String>>,
}

/// `[defaults]`: settings every rule inherits.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefaults {
    #[serde(alias = "phone_region")]
    pub region: Option<String>,
    pub currency: Option<String>,
    pub timezone: Option<String>,
}

/// One `[[rules]]` entry; fields are kept as values so each can be reported by name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub id: String,
    pub version: u32,
    #[serde(default)]
    pub priority: i64,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub require_auth: bool,
    #[serde(default, alias = "phone_region")]
    pub region: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub policy: BTreeMap<String, String>,
    #[serde(rename = "match")]
    pub matcher: RawMatch,
    pub fields: Vec<serde_json::Value>,
}

/// Which message of a mail a rule matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageScope {
    /// The mail as received.
    #[default]
    Outer,
    /// A nested `message/rfc822` part (a forwarded lead).
    Forwarded,
}

/// A rule's `match` block.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMatch {
    pub sender: Option<String>,
    pub sender_domain: Option<String>,
    pub subject: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body_contains: OneOrMany,
    #[serde(default)]
    pub message: MessageScope,
}

/// One `[[rules.fields]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawField {
    pub name: String,
    #[serde(rename = "type", default)]
    pub field_type: FieldType,
    #[serde(default)]
    pub pii: PiiClass,
    #[serde(default)]
    pub required: bool,
    pub regex: Option<String>,
    pub label: Option<OneOrMany>,
    pub html_table: Option<RawHtmlTable>,
    pub xml_path: Option<String>,
    pub constant: Option<String>,
    pub source: Option<String>,
    #[serde(default)]
    pub paragraph: bool,
    pub trim: Option<bool>,
    pub format: Option<String>,
    pub values: Option<Vec<String>>,
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    #[serde(alias = "phone_region")]
    pub region: Option<String>,
    pub currency: Option<String>,
    pub timezone: Option<String>,
}

/// `html_table = { label = [...] }` or `html_table = { selector = "css" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHtmlTable {
    pub label: Option<OneOrMany>,
    pub selector: Option<String>,
}

/// A string or a list of strings.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Self::None => Vec::new(),
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}
