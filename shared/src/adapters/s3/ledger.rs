//! The delivery ledger on S3 conditional writes, without DynamoDB: a marker object per (event id, revision),
//! created with `If-None-Match: *` so two writers cannot both think they created it. 412 means it exists already
//! (fine), 409 means a concurrent write raced us (retry). Lifecycle rules expire old markers.

use super::errors::{classify, status};
use crate::pipeline::ports::{Ledger, PortError};
use aws_sdk_s3::primitives::ByteStream;

/// Attempts for a marker write that keeps hitting 409 (conflicting concurrent write).
const CONFLICT_RETRIES: usize = 3;

/// Delivery markers under `s3://bucket/<prefix><event_id>@<revision>`.
#[derive(Debug, Clone)]
pub struct S3Ledger {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

impl S3Ledger {
    /// A ledger in `bucket` under `prefix` (e.g. `ledger/`).
    pub fn new(client: aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Self {
        Self { client, bucket: bucket.to_string(), prefix: prefix.to_string() }
    }

    fn key(&self, event_id: &str, revision: &str) -> String {
        format!("{}{event_id}@{revision}", self.prefix)
    }
}

impl Ledger for S3Ledger {
    async fn is_delivered(&self, event_id: &str, revision: &str) -> Result<bool, PortError> {
        let key = self.key(event_id, revision);
        match self.client.head_object().bucket(&self.bucket).key(&key).send().await {
            Ok(_) => Ok(true),
            Err(e) if status(&e) == Some(404) => Ok(false),
            Err(e) => Err(classify(&e, &format!("head s3://{}/{key}", self.bucket))),
        }
    }

    async fn mark_delivered(&self, event_id: &str, revision: &str) -> Result<(), PortError> {
        let key = self.key(event_id, revision);
        let mut last = None;
        for _ in 0..CONFLICT_RETRIES {
            let put = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(&key)
                .if_none_match("*")
                .body(ByteStream::from_static(b"delivered"))
                .send()
                .await;
            match put {
                Ok(_) => return Ok(()),
                Err(e) if status(&e) == Some(412) => return Ok(()),
                Err(e) if status(&e) == Some(409) => {
                    last = Some(classify(&e, &format!("put s3://{}/{key}", self.bucket)))
                }
                Err(e) => return Err(classify(&e, &format!("put s3://{}/{key}", self.bucket))),
            }
        }
        Err(last.unwrap_or_else(|| PortError { system: "s3", message: format!("{key}: conflicts"), retriable: true }))
    }
}
