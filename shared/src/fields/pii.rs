//! PII classes: what kind of personal data a field holds. The anonymizer decides per class what to do.

use serde::{Deserialize, Serialize};

/// The kind of personal data a field carries; `None` means not personal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PiiClass {
    /// Not personal data.
    #[default]
    None,
    /// A person's name.
    Name,
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// A street address.
    Address,
    /// A postal (ZIP) code.
    PostalCode,
    /// An IP address.
    Ip,
    /// A date of birth.
    DateOfBirth,
    /// An age.
    Age,
    /// Free text that may hide any of the above (comments, messages).
    FreeText,
    /// A government or account identifier.
    IdNumber,
    /// A payment card number.
    PaymentCard,
}

impl PiiClass {
    /// Every class, in declaration order (for summaries and error messages).
    pub const ALL: [PiiClass; 12] = [
        Self::None,
        Self::Name,
        Self::Email,
        Self::Phone,
        Self::Address,
        Self::PostalCode,
        Self::Ip,
        Self::DateOfBirth,
        Self::Age,
        Self::FreeText,
        Self::IdNumber,
        Self::PaymentCard,
    ];

    /// The name used in rules files and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Name => "name",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Address => "address",
            Self::PostalCode => "postal_code",
            Self::Ip => "ip",
            Self::DateOfBirth => "date_of_birth",
            Self::Age => "age",
            Self::FreeText => "free_text",
            Self::IdNumber => "id_number",
            Self::PaymentCard => "payment_card",
        }
    }

    /// True for every class but `None`.
    pub fn is_personal(self) -> bool {
        self != Self::None
    }
}
