//! The quarantine bucket as `leadpipe quarantine` sees it: entries (metadata under `meta/`, raw mail under
//! `mail/<reason kind>/`), read, written and removed through aws-sdk-s3.

use crate::stack::clients::sdk_err;
use anyhow::{Context, Result};
use aws_sdk_s3::primitives::ByteStream;
use leadpipe_shared::pipeline::{QuarantineLayout, QuarantineRecord};

/// One quarantined mail: its metadata and where its objects are.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The metadata.
    pub record: QuarantineRecord,
    /// Full key of the metadata object.
    pub meta_key: String,
    /// Full key of the raw mail object.
    pub mail_key: String,
}

/// A metadata object that could not be read as a quarantine record.
#[derive(Debug, Clone)]
pub struct Unreadable {
    /// Its full key.
    pub key: String,
    /// Why.
    pub error: String,
}

/// The quarantine bucket and the prefix extract writes under.
pub struct QuarantineBucket {
    s3: aws_sdk_s3::Client,
    /// Bucket name.
    pub bucket: String,
    /// Key prefix (`quarantine/`).
    pub prefix: String,
}

impl QuarantineBucket {
    /// The bucket `bucket` with entries under `prefix`.
    pub fn new(s3: aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Self {
        Self { s3, bucket: bucket.into(), prefix: prefix.into() }
    }

    /// Every entry (or only those with one of `ids`, read without fetching the others), oldest received first,
    /// and the metadata objects that are not readable records.
    pub async fn entries(&self, ids: &[String]) -> Result<(Vec<Entry>, Vec<Unreadable>)> {
        let meta = format!("{}meta/", self.prefix);
        let mut entries = Vec::new();
        let mut unreadable = Vec::new();
        let wanted = |key: &str| {
            let file = key.rsplit('/').next().unwrap_or_default();
            ids.is_empty() || ids.iter().any(|id| file.strip_suffix(".json") == Some(id.as_str()))
        };
        for key in self.keys(&meta).await?.into_iter().filter(|k| wanted(k)) {
            let bytes = self.get(&key).await?.with_context(|| format!("s3://{}/{key} vanished", self.bucket))?;
            match serde_json::from_slice::<QuarantineRecord>(&bytes) {
                Ok(record) => {
                    let mail_key = format!("{}{}", self.prefix, record.objects(&[], QuarantineLayout::Bucket)[0].0);
                    entries.push(Entry { record, meta_key: key, mail_key });
                }
                Err(e) => unreadable.push(Unreadable { key, error: e.to_string() }),
            }
        }
        entries.sort_by(|a, b| a.record.received_at.cmp(&b.record.received_at));
        Ok((entries, unreadable))
    }

    /// Keys under `prefix`, every page.
    async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .s3
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| sdk_err(&format!("list s3://{}/{prefix}", self.bucket), e))?;
            keys.extend(out.contents().iter().filter_map(|o| o.key().map(str::to_string)));
            token = out.next_continuation_token().map(str::to_string);
            if token.is_none() {
                return Ok(keys);
            }
        }
    }

    /// The object `key` (full key), or `None` when it does not exist.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match self.s3.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Some(out.body.collect().await.context("read object body")?.into_bytes().to_vec())),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(sdk_err(&format!("get s3://{}/{key}", self.bucket), e)),
        }
    }

    /// Stores `bytes` under `key` relative to the prefix.
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<()> {
        let full = format!("{}{key}", self.prefix);
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&full)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_err(&format!("put s3://{}/{full}", self.bucket), e))
    }

    /// Removes the object `key` (full key); removing a missing object succeeds.
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.s3
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_err(&format!("delete s3://{}/{key}", self.bucket), e))
    }
}
