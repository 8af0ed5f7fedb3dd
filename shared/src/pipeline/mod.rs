//! The pipeline's steps as the functions and the local replay run them: extract (mail -> lead events or a
//! quarantine record), forward (events -> Kafka records, skipping what the ledger has), archive (events ->
//! Parquet objects). Outside systems appear only as the small traits in [`ports`].

mod archive_step;
mod extract_step;
mod forward;
mod mailboxes;
pub mod ports;
mod quarantine;
mod report;
mod reprocess;

pub use archive_step::archive_batch;
pub use extract_step::{Delivery, ExtractOutput, ExtractSettings, ExtractStep, SpamPolicy};
pub use forward::{
    forward_batch, forward_batch_until, record_for, ForwardOutcome, KafkaRecord, DEFAULT_UNMARKED_WINDOW,
};
pub use mailboxes::Mailboxes;
pub use quarantine::{QuarantineLayout, QuarantineRecord};
pub use report::RunReport;
pub use reprocess::{reprocess, ReprocessAudit, Reprocessed, Selection, NEVER_REPROCESSED, ONLY_WHEN_NAMED};
