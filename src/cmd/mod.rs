//! One module per command group.

pub mod dlq;
pub mod inputs;
pub mod key;
pub mod local;
pub mod mail;
pub mod quarantine;
pub mod replay;
pub mod rules;
mod rules_test;
