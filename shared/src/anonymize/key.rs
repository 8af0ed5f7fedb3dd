//! The secret key behind pseudonyms. It never lives in the rules file or the repository: adapters load it
//! (environment or file locally, Secrets Manager in AWS) and hand it over as a [`PseudonymKey`].

use data_encoding::{BASE64, BASE64URL_NOPAD, HEXLOWER_PERMISSIVE};
use serde::Deserialize;
use std::fmt;

/// Minimum secret length: HMAC-SHA256 keys shorter than the hash output weaken it.
pub const MIN_SECRET_BYTES: usize = 32;

/// Key ids starting with this mark fixed keys for tests and golden files; deployed functions refuse them.
pub const TEST_KEY_PREFIX: &str = "test-";

/// A keyed-pseudonym secret with its id (the id travels in every event so a rotation is visible).
#[derive(Clone)]
pub struct PseudonymKey {
    id: String,
    secret: Vec<u8>,
}

/// Why a key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The id is empty or has characters other than `[A-Za-z0-9._-]`.
    #[error("key id {0:?} must be 1-64 characters of [A-Za-z0-9._-]")]
    BadId(String),
    /// The secret is too short.
    #[error("key {id:?}: secret has {len} bytes, at least {MIN_SECRET_BYTES} are required")]
    TooShort {
        /// Key id.
        id: String,
        /// Secret length in bytes.
        len: usize,
    },
    /// The secret is not valid hex or base64.
    #[error("key {0:?}: secret is neither hex nor base64")]
    BadEncoding(String),
    /// The JSON key document is malformed.
    #[error("key document: {0}")]
    BadDocument(String),
    /// A test key was given where a production key is required.
    #[error("key {0:?} is a test key (id starts with \"test-\"); deployed functions refuse test keys")]
    TestKey(String),
}

/// The JSON form of a key, as stored in a file or in Secrets Manager:
/// `{"key_id": "k-2026-11", "secret": "<base64 or hex, >= 32 bytes>"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyDocument {
    key_id: String,
    secret: String,
}

impl PseudonymKey {
    /// A key from its id and raw secret bytes.
    pub fn new(id: &str, secret: Vec<u8>) -> Result<Self, KeyError> {
        let valid_id = !id.is_empty()
            && id.len() <= 64
            && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid_id {
            return Err(KeyError::BadId(id.to_string()));
        }
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::TooShort { id: id.to_string(), len: secret.len() });
        }
        Ok(Self { id: id.to_string(), secret })
    }

    /// A key from its id and an encoded secret (hex, base64 or base64url).
    pub fn from_encoded(id: &str, secret: &str) -> Result<Self, KeyError> {
        let s = secret.trim();
        let bytes = HEXLOWER_PERMISSIVE
            .decode(s.as_bytes())
            .or_else(|_| BASE64.decode(s.as_bytes()))
            .or_else(|_| BASE64URL_NOPAD.decode(s.trim_end_matches('=').as_bytes()))
            .map_err(|_| KeyError::BadEncoding(id.to_string()))?;
        Self::new(id, bytes)
    }

    /// A key from its JSON document `{"key_id": ..., "secret": ...}`.
    pub fn from_json(text: &str) -> Result<Self, KeyError> {
        let doc: KeyDocument = serde_json::from_str(text).map_err(|e| KeyError::BadDocument(e.to_string()))?;
        Self::from_encoded(&doc.key_id, &doc.secret)
    }

    /// The JSON document for this key (for storing a generated development key).
    pub fn to_json(&self) -> String {
        serde_json::json!({ "key_id": self.id, "secret": BASE64.encode(&self.secret) }).to_string()
    }

    /// The key id carried in events.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// True for fixed test keys (id `test-...`).
    pub fn is_test(&self) -> bool {
        self.id.starts_with(TEST_KEY_PREFIX)
    }

    /// Refuses test keys: what deployed functions call at start.
    pub fn require_production(self) -> Result<Self, KeyError> {
        if self.is_test() {
            Err(KeyError::TestKey(self.id))
        } else {
            Ok(self)
        }
    }

    pub(super) fn secret(&self) -> &[u8] {
        &self.secret
    }
}

impl fmt::Debug for PseudonymKey {
    /// Never prints the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PseudonymKey").field("id", &self.id).field("secret", &"<redacted>").finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_and_validation() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        assert_eq!(PseudonymKey::from_encoded("k1", hex).expect("hex").secret().len(), 32);
        let b64 = BASE64.encode(&[7u8; 40]);
        assert_eq!(PseudonymKey::from_encoded("k1", &b64).expect("b64").secret(), &[7u8; 40]);
        assert!(matches!(PseudonymKey::from_encoded("k1", "abcd"), Err(KeyError::TooShort { len: 2, .. })));
        assert!(matches!(PseudonymKey::from_encoded("k1", "not a key!"), Err(KeyError::BadEncoding(_))));
        assert!(matches!(PseudonymKey::new("bad id", vec![0; 32]), Err(KeyError::BadId(_))));
    }

    #[test]
    fn json_round_trip_and_test_keys() {
        let key = PseudonymKey::new("test-fixtures", vec![1; 32]).expect("key");
        let back = PseudonymKey::from_json(&key.to_json()).expect("json");
        assert_eq!(back.id(), "test-fixtures");
        assert!(back.is_test());
        assert!(matches!(back.require_production(), Err(KeyError::TestKey(_))));
        assert!(PseudonymKey::new("prod-2026", vec![1; 32]).expect("key").require_production().is_ok());
        assert!(matches!(PseudonymKey::from_json("{\"key_id\": \"a\"}"), Err(KeyError::BadDocument(_))));
    }

    #[test]
    fn debug_hides_the_secret() {
        let key = PseudonymKey::new("k", vec![0xAB; 32]).expect("key");
        let shown = format!("{key:?}");
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("abab"), "{shown}");
    }
}
