//! leadpipe's domain library: everything the extract, forward and archive functions and the command-line tool
//! share. It does no I/O: it takes bytes and values and returns values, so the Lambda functions and the local
//! replay run exactly the same logic behind different adapters.
//!
//! The flow inside extract: raw bytes -> [`email::Email`] (MIME parsed, charsets decoded) -> a
//! [`rules::RuleSet`] picks the matching [`rules::Rule`] -> its field extractors and types produce an
//! [`extraction::Extraction`], or the mail is quarantined with a [`extraction::QuarantineReason`].

pub mod adapters;
pub mod anonymize;
pub mod archive;
pub mod config;
pub mod email;
pub mod event;
pub mod extraction;
pub mod extractors;
pub mod fields;
pub mod handlers;
pub mod kafka_config;
pub mod pipeline;
pub mod rules;
pub mod ses;

pub use email::{Email, ParseLimits};
pub use extraction::{extract, extract_raw, Extraction, Outcome, Quarantine, QuarantineReason};
pub use rules::{Rule, RuleSet, RulesError};
