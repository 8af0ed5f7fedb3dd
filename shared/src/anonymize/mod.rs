//! Anonymization: keyed pseudonyms, masks, generalization and a free-text PII scrubber, applied per PII class
//! (see [`Policy`]) before anything leaves extract. No clear-text PII goes past this module.

mod anonymizer;
pub mod detect;
mod generalize;
mod key;
mod mask;
mod policy;
mod pseudonym;
mod scrub;
mod vin;

pub use anonymizer::{AnonymizedField, AnonymizedLead, Anonymizer, PiiSummary};
pub use generalize::generalize;
pub use key::{KeyError, PseudonymKey, MIN_SECRET_BYTES, TEST_KEY_PREFIX};
pub use mask::mask;
pub use policy::{Action, Policy};
pub use pseudonym::{canonical, Pseudonymizer, PREFIX as PSEUDONYM_PREFIX};
pub use scrub::{KnownValues, Scrubbed, Scrubber};
