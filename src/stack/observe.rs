//! Follows mails through the local stack to their terminal state, reading only what the pipeline wrote: lead
//! events (a harness subscription to the leads topic), the quarantine's metadata objects, the delivery ledger,
//! the archive's Parquet objects, and the three dead-letter queues (read without deleting).

use super::clients::{sdk_err, Clients};
use super::topology::Topology;
use anyhow::{Context, Result};
use arrow_array::{Array, StringArray};
use leadpipe_shared::event::LeadEvent;
use leadpipe_shared::pipeline::QuarantineRecord;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// Above this many undelivered leads a poll lists the ledger instead of asking for each marker.
const LEDGER_HEADS_PER_POLL: usize = 50;

/// Where a mail ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailState {
    /// Its leads are in Kafka (or the forward DLQ) and in the archive (or the archive DLQ).
    Leads(Vec<String>),
    /// Quarantined with this reason.
    Quarantined(String),
    /// Extract failed after its retries: the event is in the on-failure destination.
    ExtractFailed,
}

/// What the pipeline has written so far.
pub struct Observer {
    clients: Clients,
    topology: Topology,
    observer_url: String,
    dlq_urls: [(DlqKind, String); 3],
    /// Lead events by SES message id: (event id, revision).
    pub leads: HashMap<String, Vec<(String, String)>>,
    /// Quarantine reasons by SES message id.
    pub quarantined: HashMap<String, String>,
    /// SES message ids in the extract failure destination.
    pub extract_failed: HashSet<String>,
    /// Event ids in the forward DLQ.
    pub kafka_dlq: HashSet<String>,
    /// Event ids in the archive DLQ.
    pub archive_dlq: HashSet<String>,
    /// (event id, revision) pairs the ledger has.
    pub delivered: HashSet<(String, String)>,
    /// Event ids in archive objects.
    pub archived: HashSet<String>,
    seen_objects: HashSet<String>,
}

#[derive(Debug, Clone, Copy)]
enum DlqKind {
    Extract,
    Kafka,
    Archive,
}

impl Observer {
    /// An observer of the stack `topology`.
    pub async fn new(clients: Clients, topology: Topology) -> Result<Self> {
        let observer_url = clients.queue_url(&topology.observer).await?;
        let dlq_urls = [
            (DlqKind::Extract, clients.queue_url(&topology.extract_failures).await?),
            (DlqKind::Kafka, clients.queue_url(&topology.to_kafka_dlq).await?),
            (DlqKind::Archive, clients.queue_url(&topology.to_archive_dlq).await?),
        ];
        Ok(Self {
            clients,
            topology,
            observer_url,
            dlq_urls,
            leads: HashMap::new(),
            quarantined: HashMap::new(),
            extract_failed: HashSet::new(),
            kafka_dlq: HashSet::new(),
            archive_dlq: HashSet::new(),
            delivered: HashSet::new(),
            archived: HashSet::new(),
            seen_objects: HashSet::new(),
        })
    }

    /// Reads everything new.
    pub async fn poll(&mut self) -> Result<()> {
        self.drain_leads().await?;
        self.read_quarantine().await?;
        self.read_dlqs().await?;
        self.read_archive().await?;
        self.read_ledger().await
    }

    /// The terminal state of the mail with SES message id `id`, if it has reached one.
    pub fn state(&self, id: &str) -> Option<MailState> {
        if let Some(reason) = self.quarantined.get(id) {
            return Some(MailState::Quarantined(reason.clone()));
        }
        if self.extract_failed.contains(id) {
            return Some(MailState::ExtractFailed);
        }
        let leads = self.leads.get(id)?;
        let done = leads.iter().all(|(e, r)| {
            (self.delivered.contains(&(e.clone(), r.clone())) || self.kafka_dlq.contains(e))
                && (self.archived.contains(e) || self.archive_dlq.contains(e))
        });
        done.then(|| MailState::Leads(leads.iter().map(|(e, _)| e.clone()).collect()))
    }

    /// Reads the lead events waiting in the observer queue (its subscription to the leads topic), so the queue
    /// stays short while mails are still being sent.
    pub async fn drain_leads(&mut self) -> Result<()> {
        loop {
            let out = self
                .clients
                .sqs
                .receive_message()
                .queue_url(&self.observer_url)
                .max_number_of_messages(10)
                .send()
                .await
                .map_err(|e| sdk_err("receive lead events", e))?;
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(());
            }
            for m in messages {
                if let Ok(e) = serde_json::from_str::<LeadEvent>(m.body().unwrap_or_default()) {
                    let id = e.source.ses_message_id.clone().unwrap_or_default();
                    let list = self.leads.entry(id).or_default();
                    if !list.iter().any(|(x, r)| *x == e.event_id && *r == e.revision) {
                        list.push((e.event_id, e.revision));
                    }
                }
                if let Some(h) = m.receipt_handle() {
                    self.clients.sqs.delete_message().queue_url(&self.observer_url).receipt_handle(h).send().await.ok();
                }
            }
        }
    }

    async fn new_keys(&mut self, bucket: &str, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .clients
                .s3
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| sdk_err(&format!("list s3://{bucket}/{prefix}"), e))?;
            for o in out.contents() {
                if let Some(k) = o.key() {
                    if self.seen_objects.insert(format!("{bucket}/{k}")) {
                        keys.push(k.to_string());
                    }
                }
            }
            token = out.next_continuation_token().map(str::to_string);
            if token.is_none() {
                return Ok(keys);
            }
        }
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>> {
        let out = self
            .clients
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| sdk_err(&format!("get s3://{bucket}/{key}"), e))?;
        Ok(out.body.collect().await.context("read object body")?.into_bytes().to_vec())
    }

    async fn read_quarantine(&mut self) -> Result<()> {
        let bucket = self.topology.quarantine_bucket.clone();
        let prefix = format!("{}meta/", self.topology.quarantine_prefix);
        for key in self.new_keys(&bucket, &prefix).await? {
            let record: QuarantineRecord = serde_json::from_slice(&self.get(&bucket, &key).await?)
                .with_context(|| format!("quarantine metadata {key}"))?;
            self.quarantined.insert(record.ses_message_id.unwrap_or_default(), record.reason);
        }
        Ok(())
    }

    async fn read_archive(&mut self) -> Result<()> {
        let bucket = self.topology.archive_bucket.clone();
        for key in self.new_keys(&bucket, "leads/").await? {
            let bytes = bytes::Bytes::from(self.get(&bucket, &key).await?);
            let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
                .and_then(|b| b.build())
                .with_context(|| format!("archive object {key}"))?;
            for batch in reader {
                let batch = batch.with_context(|| format!("archive object {key}"))?;
                let ids = batch
                    .column_by_name("event_id")
                    .and_then(|c| c.as_any().downcast_ref::<StringArray>())
                    .with_context(|| format!("archive object {key} has no event_id column"))?;
                self.archived.extend((0..ids.len()).filter(|&i| ids.is_valid(i)).map(|i| ids.value(i).to_string()));
            }
        }
        Ok(())
    }

    /// Marks delivered leads: a HEAD per pending marker while few are pending, one listing of the ledger when
    /// many are (thousands of HEADs per poll would load the local S3 more than the pipeline does).
    async fn read_ledger(&mut self) -> Result<()> {
        let pending: Vec<(String, String)> = self
            .leads
            .values()
            .flatten()
            .filter(|p| !self.delivered.contains(*p) && !self.kafka_dlq.contains(&p.0))
            .cloned()
            .collect();
        let bucket = self.topology.archive_bucket.clone();
        if pending.len() > LEDGER_HEADS_PER_POLL {
            let prefix = self.topology.ledger_prefix.clone();
            for key in self.new_keys(&bucket, &prefix).await? {
                if let Some((event_id, revision)) = key[prefix.len()..].split_once('@') {
                    self.delivered.insert((event_id.to_string(), revision.to_string()));
                }
            }
            return Ok(());
        }
        for (event_id, revision) in pending {
            let key = format!("{}{event_id}@{revision}", self.topology.ledger_prefix);
            if self.clients.s3.head_object().bucket(&bucket).key(&key).send().await.is_ok() {
                self.delivered.insert((event_id, revision));
            }
        }
        Ok(())
    }

    /// Reads the DLQs without consuming them: each message is received with a short visibility timeout and
    /// becomes visible again by itself.
    async fn read_dlqs(&mut self) -> Result<()> {
        for (kind, url) in self.dlq_urls.clone() {
            loop {
                let out = self
                    .clients
                    .sqs
                    .receive_message()
                    .queue_url(&url)
                    .max_number_of_messages(10)
                    .visibility_timeout(2)
                    .send()
                    .await
                    .map_err(|e| sdk_err("peek a DLQ", e))?;
                let messages = out.messages.unwrap_or_default();
                if messages.is_empty() {
                    break;
                }
                for m in messages {
                    let body = m.body().unwrap_or_default();
                    match kind {
                        DlqKind::Extract => {
                            if let Some(id) = failed_ses_id(body) {
                                self.extract_failed.insert(id);
                            }
                        }
                        DlqKind::Kafka | DlqKind::Archive => {
                            if let Ok(e) = serde_json::from_str::<LeadEvent>(body) {
                                let set = if matches!(kind, DlqKind::Kafka) {
                                    &mut self.kafka_dlq
                                } else {
                                    &mut self.archive_dlq
                                };
                                set.insert(e.event_id);
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// The SES message id of the event in an on-failure destination record.
fn failed_ses_id(record: &str) -> Option<String> {
    let v: Value = serde_json::from_str(record).ok()?;
    let message = v.pointer("/requestPayload/Records/0/Sns/Message")?.as_str()?;
    let ses: Value = serde_json::from_str(message).ok()?;
    ses.pointer("/mail/messageId")?.as_str().map(str::to_string)
}
