//! The rules file as written (serde types). Unknown keys are rejected; compilation into [`super::Rule`]s and
//! semantic checks happen in `load.rs`. The lists of rules and of a rule's fields are taken out of the file's
//! values before these types are read (`load.rs`), so that each rule and field is read on its own: a problem in one
//! is reported by its name and the others are still checked.

use crate::fields::{FieldType, PiiClass};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Top level of a rules file, without its `rules`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    #[serde(default)]
    pub defaults: RawDefaults,
    #[serde(default)]
    pub policy: BTreeMap<String, String>,
    #[serde(default)]
    pub scrubber: RawScrubber,
    /// Taken out before the file is read (named here for the list of keys in errors).
    #[serde(default, rename = "rules")]
    _rules: IgnoredAny,
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

/// One `[[rules]]` entry, without its `fields`.
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
    /// Taken out before the rule is read (named here for the list of keys in errors).
    #[serde(default, rename = "fields")]
    _fields: IgnoredAny,
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

/// A value of a rules file's syntax, read into the typed rules one part at a time. The lists of rules and fields
/// are taken out of their tables rather than deserialized: deserializing a value type copies the whole tree.
pub(super) trait RawValue: Sized {
    /// The text under `key` of a table, if any (a rule's `id`, a field's `name`, to name it in problems).
    fn text(&self, key: &str) -> Option<&str>;

    /// Removes and returns `key` of a table (`None` when absent or not a table).
    fn take(&mut self, key: &str) -> Option<Self>;

    /// The items of a list; else an error naming the value's type.
    fn into_items(self) -> Result<Vec<Self>, String>;

    /// Deserializes the value; errors name the path inside it ("match.sender: invalid type ...").
    fn read<T: DeserializeOwned>(self) -> Result<T, String>;
}

impl RawValue for toml::Value {
    fn text(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(toml::Value::as_str)
    }

    fn take(&mut self, key: &str) -> Option<Self> {
        self.as_table_mut()?.remove(key)
    }

    fn into_items(self) -> Result<Vec<Self>, String> {
        match self {
            toml::Value::Array(items) => Ok(items),
            other => Err(format!("invalid type: {}, expected a list", other.type_str())),
        }
    }

    /// Dates and times read as strings are their TOML text, as they were through the `config` crate.
    fn read<T: DeserializeOwned>(self) -> Result<T, String> {
        serde_path_to_error::deserialize(self).map_err(|e| with_path(e.path(), e.inner().message()))
    }
}

impl RawValue for serde_json::Value {
    fn text(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(serde_json::Value::as_str)
    }

    fn take(&mut self, key: &str) -> Option<Self> {
        self.as_object_mut()?.shift_remove(key)
    }

    fn into_items(self) -> Result<Vec<Self>, String> {
        match self {
            serde_json::Value::Array(items) => Ok(items),
            serde_json::Value::Null => Err("invalid type: null, expected a list".into()),
            serde_json::Value::Bool(_) => Err("invalid type: boolean, expected a list".into()),
            serde_json::Value::Number(_) => Err("invalid type: number, expected a list".into()),
            serde_json::Value::String(_) => Err("invalid type: string, expected a list".into()),
            serde_json::Value::Object(_) => Err("invalid type: map, expected a list".into()),
        }
    }

    fn read<T: DeserializeOwned>(self) -> Result<T, String> {
        serde_path_to_error::deserialize(self).map_err(|e| with_path(e.path(), &e.inner().to_string()))
    }
}

fn with_path(path: &serde_path_to_error::Path, message: &str) -> String {
    let path = path.to_string();
    if path == "." {
        message.to_string()
    } else {
        format!("{path}: {message}")
    }
}
