//! The Parquet archive: one schema definition (used by the writer here and, through [`glue_columns`], by the
//! Glue table), the encoding of a batch of events into one object per `dt` day, and deterministic object names
//! so rewriting the same set of events gives the same key.

mod encode;
mod schema;

pub use encode::{encode_batch, ArchiveError, ArchiveObject};
pub use schema::{archive_schema, glue_columns, ARCHIVE_PREFIX};
