//! One module per command group.

pub mod inputs;
pub mod rules;
mod rules_test;
