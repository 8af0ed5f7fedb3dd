//! Local-file adapters for the pipeline's ports, used by the in-process replay: the Kafka topic as JSON lines,
//! the delivery ledger as marker files (created only if absent, like S3 `If-None-Match: *`), the archive and the
//! quarantine as folders with the same layout as the S3 buckets.

pub mod lambda;

use leadpipe_shared::pipeline::ports::{Ledger, ObjectStore, PortError, Producer};
use leadpipe_shared::pipeline::KafkaRecord;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

fn io_err(system: &'static str, what: &str, e: std::io::Error) -> PortError {
    PortError { system, message: format!("{what}: {e}"), retriable: false }
}

/// `kafka/<topic>.jsonl`: one produced record per line (key, headers, value).
pub struct JsonlProducer {
    path: PathBuf,
}

impl JsonlProducer {
    /// Appends to `<dir>/kafka/<topic>.jsonl`.
    pub fn new(dir: &Path, topic: &str) -> Result<Self, PortError> {
        let kafka = dir.join("kafka");
        fs::create_dir_all(&kafka).map_err(|e| io_err("local kafka", &kafka.display().to_string(), e))?;
        Ok(Self { path: kafka.join(format!("{topic}.jsonl")) })
    }
}

impl Producer for JsonlProducer {
    async fn produce(&mut self, records: &[KafkaRecord]) -> Vec<Result<(), PortError>> {
        let mut file = match OpenOptions::new().create(true).append(true).open(&self.path) {
            Ok(f) => f,
            Err(e) => {
                let err = io_err("local kafka", &self.path.display().to_string(), e);
                return records.iter().map(|_| Err(err.clone())).collect();
            }
        };
        records
            .iter()
            .map(|r| {
                let line = serde_json::to_string(r).expect("records serialise");
                writeln!(file, "{line}").map_err(|e| io_err("local kafka", &self.path.display().to_string(), e))
            })
            .collect()
    }
}

/// `ledger/<event_id>@<revision>` marker files.
pub struct DirLedger {
    dir: PathBuf,
}

impl DirLedger {
    /// Markers under `<dir>/ledger/`.
    pub fn new(dir: &Path) -> Result<Self, PortError> {
        let dir = dir.join("ledger");
        fs::create_dir_all(&dir).map_err(|e| io_err("local ledger", &dir.display().to_string(), e))?;
        Ok(Self { dir })
    }

    fn marker(&self, event_id: &str, revision: &str) -> PathBuf {
        self.dir.join(format!("{event_id}@{revision}"))
    }
}

impl Ledger for DirLedger {
    async fn is_delivered(&self, event_id: &str, revision: &str) -> Result<bool, PortError> {
        Ok(self.marker(event_id, revision).exists())
    }

    async fn mark_delivered(&self, event_id: &str, revision: &str) -> Result<(), PortError> {
        let path = self.marker(event_id, revision);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(io_err("local ledger", &path.display().to_string(), e)),
        }
    }
}

/// Objects as files under a folder, keys as relative paths: the same layout as the bucket.
pub struct DirStore {
    dir: PathBuf,
}

impl DirStore {
    /// Objects under `dir`.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }
}

impl ObjectStore for DirStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), PortError> {
        let path = self.dir.join(key);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| io_err("local archive", &parent.display().to_string(), e))?;
        }
        // Write then rename, so a reader never sees half a file.
        let tmp = path.with_file_name(format!("{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("object")));
        fs::write(&tmp, bytes).map_err(|e| io_err("local archive", &tmp.display().to_string(), e))?;
        fs::rename(&tmp, &path).map_err(|e| io_err("local archive", &path.display().to_string(), e))
    }
}
