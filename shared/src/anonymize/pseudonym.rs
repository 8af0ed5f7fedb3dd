//! Keyed pseudonyms: `p1_` + base32 of HMAC-SHA256(key, class, normalised value). The same value under the same
//! key gives the same pseudonym in every function and run, so a customer joins across Kafka and Athena, while
//! without the key the value cannot be recovered or confirmed by guessing.

use super::detect::digits::as_ascii;
use super::key::PseudonymKey;
use crate::fields::PiiClass;
use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Version prefix of every pseudonym; a change of scheme gets a new prefix.
pub const PREFIX: &str = "p1_";

/// Bytes of the HMAC kept: 15 bytes = 120 bits = 24 base32 characters, ample against collisions.
const KEPT_BYTES: usize = 15;

/// Computes pseudonyms under one key.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: PseudonymKey,
    /// The HMAC with the key already absorbed: each pseudonym starts from a copy, which saves the two SHA-256
    /// blocks of the padded key (half the work for a short value).
    keyed: Hmac<Sha256>,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pseudonymizer").field("key", &self.key).finish_non_exhaustive()
    }
}

impl Pseudonymizer {
    /// A pseudonymizer for `key`.
    pub fn new(key: PseudonymKey) -> Self {
        let keyed = Hmac::<Sha256>::new_from_slice(key.secret()).expect("HMAC accepts any key length");
        Self { key, keyed }
    }

    /// The key id to carry in events.
    pub fn key_id(&self) -> &str {
        self.key.id()
    }

    /// The pseudonym of an already normalised value of `class`. The class is part of the MAC input, so an
    /// email and a name with the same text do not share a pseudonym.
    pub fn pseudonym(&self, class: PiiClass, normalized: &str) -> String {
        let mut mac = self.keyed.clone();
        mac.update(b"leadpipe/p1\0");
        mac.update(class.as_str().as_bytes());
        mac.update(b"\0");
        mac.update(normalized.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("{PREFIX}{}", BASE32_NOPAD.encode(&digest[..KEPT_BYTES]).to_lowercase())
    }
}

/// The canonical form of a value before pseudonymizing: what makes "Jane  DOE" and "jane doe" one person.
/// Emails and phones arrive normalised by their field types; text is lowercased with whitespace collapsed. Numbers
/// keep their ASCII letters, `+` and digits, read as the detectors read them (`٤٢` is `42`, `＋` is `+`).
pub fn canonical(class: PiiClass, value: &str) -> String {
    match class {
        PiiClass::Phone | PiiClass::PaymentCard | PiiClass::IdNumber => {
            let digits: String =
                value.chars().map(as_ascii).filter(|c| c.is_ascii_alphanumeric() || *c == '+').collect();
            digits.to_uppercase()
        }
        _ => crate::fields::collapse_whitespace(value).to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(secret: u8) -> Pseudonymizer {
        Pseudonymizer::new(PseudonymKey::new("test-unit", vec![secret; 32]).expect("key"))
    }

    #[test]
    fn stable_keyed_and_class_separated() {
        let a = p(1).pseudonym(PiiClass::Email, "jane@example.net");
        assert_eq!(a, p(1).pseudonym(PiiClass::Email, "jane@example.net"));
        assert!(a.starts_with("p1_") && a.len() == 3 + 24, "{a}");
        assert!(a[3..].chars().all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c)));
        assert_ne!(a, p(2).pseudonym(PiiClass::Email, "jane@example.net"));
        assert_ne!(a, p(1).pseudonym(PiiClass::Name, "jane@example.net"));
        assert_ne!(a, p(1).pseudonym(PiiClass::Email, "jane@example.org"));
    }

    #[test]
    fn known_answer() {
        // HMAC-SHA256(key = 32 x 0x01, "leadpipe/p1\0email\0jane@example.net"), first 15 bytes, base32:
        // computed independently with Python's hmac module.
        assert_eq!(p(1).pseudonym(PiiClass::Email, "jane@example.net"), KNOWN);
    }

    const KNOWN: &str = "p1_mfylkgax4zpze4wtvr2s5spi";

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical(PiiClass::Name, "  Jane   DOE "), "jane doe");
        assert_eq!(canonical(PiiClass::Phone, "+1 (212) 555-0142"), "+12125550142");
        assert_eq!(canonical(PiiClass::PaymentCard, "4111 1111-1111 1111"), "4111111111111111");
    }
}
