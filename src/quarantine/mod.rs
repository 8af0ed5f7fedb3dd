//! The quarantine bucket for operators: list what is there and why, and reprocess it with the current rules.

pub mod bucket;
pub mod reprocess;
