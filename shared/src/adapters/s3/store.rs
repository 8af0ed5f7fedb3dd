//! Objects to S3 under a prefix, optionally encrypted with a KMS key.

use super::errors::classify;
use crate::pipeline::ports::{ObjectStore, PortError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

/// A bucket (and key prefix) to store archive or quarantine objects in.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    kms_key_id: Option<String>,
}

impl S3Store {
    /// Objects go to `s3://bucket/<prefix><key>`; with `kms_key_id`, SSE-KMS with that key.
    pub fn new(client: aws_sdk_s3::Client, bucket: &str, prefix: &str, kms_key_id: Option<String>) -> Self {
        Self { client, bucket: bucket.to_string(), prefix: prefix.to_string(), kms_key_id }
    }
}

impl ObjectStore for S3Store {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), PortError> {
        let full = format!("{}{key}", self.prefix);
        let mut req = self.client.put_object().bucket(&self.bucket).key(&full).body(ByteStream::from(bytes));
        if let Some(kms) = &self.kms_key_id {
            req = req.server_side_encryption(ServerSideEncryption::AwsKms).ssekms_key_id(kms);
        }
        req.send().await.map(|_| ()).map_err(|e| classify(&e, &format!("put s3://{}/{full}", self.bucket)))
    }
}
