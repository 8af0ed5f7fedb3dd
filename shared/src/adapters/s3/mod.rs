//! S3 through the AWS SDK: `client.rs` builds the client (with an endpoint override for local services),
//! `store.rs` puts objects (archive, quarantine), `reader.rs` gets raw mail, `ledger.rs` is the delivery ledger on conditional writes, and
//! `errors.rs` classifies SDK failures once (retriable or final).

mod client;
mod errors;
mod ledger;
mod reader;
mod store;

pub use client::{s3_client, s3_client_from, S3Settings};
pub use ledger::S3Ledger;
pub use reader::S3Reader;
pub use store::S3Store;
