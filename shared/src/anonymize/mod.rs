//! Anonymization: keyed pseudonyms, masks, generalization and a free-text PII scrubber, applied per PII class
//! before anything leaves extract.

pub mod detect;
