//! Typed field values as extraction produces them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A normalised field value. Serialises to plain JSON (string, number or `{amount, currency}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// Text: string, email, phone (E.164), url and enum fields.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// A decimal number as a canonical string (`-1234.5`).
    Decimal(String),
    /// An amount and its currency.
    Money(Money),
    /// An ISO date `YYYY-MM-DD`.
    Date(String),
    /// An RFC 3339 UTC timestamp.
    Datetime(String),
}

/// An amount of money: a canonical decimal string and an ISO 4217 currency code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Canonical decimal string, e.g. `24995.00`.
    pub amount: String,
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
}

impl fmt::Display for FieldValue {
    /// The value's string form, as stored in the archive's `fields` map.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(s) | Self::Decimal(s) | Self::Date(s) | Self::Datetime(s) => f.write_str(s),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Money(m) => write!(f, "{} {}", m.amount, m.currency),
        }
    }
}
