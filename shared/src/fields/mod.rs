//! Field types, PII classes and typed field values: what a rule declares for each field and what extraction
//! produces from the raw text an extractor found.

mod datetime;
mod money;
mod number;
mod phone;
mod pii;
mod value;

pub use pii::PiiClass;
pub use value::{FieldValue, Money};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The declared type of a field; decides how raw text is validated and normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Trimmed text with inner whitespace collapsed.
    #[default]
    String,
    /// An email address, lowercased.
    Email,
    /// A phone number, normalised to E.164.
    Phone,
    /// A whole number.
    Integer,
    /// A decimal number, kept as a canonical string to avoid float rounding.
    Decimal,
    /// An amount with its currency.
    Money,
    /// A calendar date.
    Date,
    /// A point in time, normalised to UTC.
    Datetime,
    /// An absolute http(s) URL.
    Url,
    /// One of a fixed list of values.
    Enum,
}

impl FieldType {
    /// The name used in rules files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Integer => "integer",
            Self::Decimal => "decimal",
            Self::Money => "money",
            Self::Date => "date",
            Self::Datetime => "datetime",
            Self::Url => "url",
            Self::Enum => "enum",
        }
    }
}

/// Settings that type normalisation needs besides the raw text (merged from defaults, rule and field).
#[derive(Debug, Clone, Default)]
pub struct TypeOptions {
    /// Region for phone numbers without a country code (ISO 3166 alpha-2, e.g. "US").
    pub phone_region: Option<phonenumber::country::Id>,
    /// Currency for amounts written without one (ISO 4217, e.g. "USD").
    pub currency: Option<String>,
    /// Offset applied to date-times written without one.
    pub timezone: Option<chrono::FixedOffset>,
    /// A strftime pattern tried first for dates and date-times.
    pub format: Option<String>,
    /// Allowed values of an enum.
    pub values: Vec<String>,
    /// Alias (lowercased) -> allowed value, for enums.
    pub aliases: BTreeMap<String, String>,
}

/// Why a raw value does not fit its declared type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TypeError(pub String);

impl FieldType {
    /// Validates and normalises `raw` (already trimmed) into a typed value.
    pub fn normalize(self, raw: &str, opts: &TypeOptions) -> Result<FieldValue, TypeError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(TypeError("empty value".into()));
        }
        match self {
            Self::String => Ok(FieldValue::Text(collapse_whitespace(raw))),
            Self::Email => normalize_email(raw).map(FieldValue::Text),
            Self::Phone => phone::normalize(raw, opts.phone_region).map(FieldValue::Text),
            Self::Integer => number::parse_integer(raw).map(FieldValue::Integer),
            Self::Decimal => number::parse_decimal(raw).map(FieldValue::Decimal),
            Self::Money => money::parse(raw, opts.currency.as_deref()).map(FieldValue::Money),
            Self::Date => datetime::parse_date(raw, opts).map(FieldValue::Date),
            Self::Datetime => datetime::parse_datetime(raw, opts).map(FieldValue::Datetime),
            Self::Url => normalize_url(raw).map(FieldValue::Text),
            Self::Enum => normalize_enum(raw, opts).map(FieldValue::Text),
        }
    }
}

/// Collapses runs of whitespace (including newlines) into single spaces.
pub fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn normalize_email(raw: &str) -> Result<String, TypeError> {
    let s = raw.trim_matches(|c| c == '<' || c == '>').trim_start_matches("mailto:").trim().to_lowercase();
    if is_email_address(&s) {
        Ok(s)
    } else {
        Err(TypeError("not an email address".into()))
    }
}

/// True when `s` looks like `local@domain.tld` (the practical subset of RFC 5321 that lead forms accept).
pub fn is_email_address(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.len() >= 2 && tld.chars().all(char::is_alphabetic));
    local_ok && domain_ok
}

fn normalize_url(raw: &str) -> Result<String, TypeError> {
    let raw = raw.trim_matches(|c| c == '<' || c == '>');
    let url = url::Url::parse(raw).map_err(|e| TypeError(format!("not a URL: {e}")))?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(url.to_string()),
        other => Err(TypeError(format!("URL scheme {other:?} is not http(s)"))),
    }
}

fn normalize_enum(raw: &str, opts: &TypeOptions) -> Result<String, TypeError> {
    let wanted = collapse_whitespace(raw).to_lowercase();
    if let Some(v) = opts.values.iter().find(|v| v.to_lowercase() == wanted) {
        return Ok(v.clone());
    }
    if let Some(v) = opts.aliases.get(&wanted) {
        return Ok(v.clone());
    }
    Err(TypeError(format!("not one of the allowed values ({})", opts.values.join(", "))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_lowercased_and_validated() {
        let o = TypeOptions::default();
        assert_eq!(
            FieldType::Email.normalize(" Jane.Doe@Example.NET ", &o),
            Ok(FieldValue::Text("jane.doe@example.net".into()))
        );
        assert_eq!(FieldType::Email.normalize("<mailto:a@b.example>", &o), Ok(FieldValue::Text("a@b.example".into())));
        for bad in ["jane", "jane@", "@example.com", "a@b", "a..b@example.com", "a@-x.com", "a b@example.com"] {
            assert!(FieldType::Email.normalize(bad, &o).is_err(), "{bad}");
        }
    }

    #[test]
    fn url_requires_http_scheme() {
        let o = TypeOptions::default();
        assert_eq!(
            FieldType::Url.normalize("https://cars.example/l/123?x=1", &o),
            Ok(FieldValue::Text("https://cars.example/l/123?x=1".into()))
        );
        assert!(FieldType::Url.normalize("javascript:alert(1)", &o).is_err());
        assert!(FieldType::Url.normalize("cars.example/l/1", &o).is_err());
    }

    #[test]
    fn enum_matches_case_insensitively_and_by_alias() {
        let mut o = TypeOptions { values: vec!["buy".into(), "lease".into()], ..Default::default() };
        o.aliases.insert("purchase".into(), "buy".into());
        assert_eq!(FieldType::Enum.normalize("BUY", &o), Ok(FieldValue::Text("buy".into())));
        assert_eq!(FieldType::Enum.normalize("Purchase", &o), Ok(FieldValue::Text("buy".into())));
        assert!(FieldType::Enum.normalize("rent", &o).is_err());
    }

    #[test]
    fn string_collapses_whitespace_and_rejects_empty() {
        let o = TypeOptions::default();
        assert_eq!(FieldType::String.normalize("  a \n  b\t c ", &o), Ok(FieldValue::Text("a b c".into())));
        assert!(FieldType::String.normalize("   ", &o).is_err());
    }
}
