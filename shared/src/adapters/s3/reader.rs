//! Reading objects back: the raw mail the SES S3 action stored.

use super::errors::classify;
use crate::pipeline::ports::{ObjectReader, PortError};

/// Reads any object the client may read.
#[derive(Debug, Clone)]
pub struct S3Reader {
    client: aws_sdk_s3::Client,
}

impl S3Reader {
    /// A reader over `client`.
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        Self { client }
    }
}

impl ObjectReader for S3Reader {
    async fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, PortError> {
        let what = format!("get s3://{bucket}/{key}");
        let out = self.client.get_object().bucket(bucket).key(key).send().await.map_err(|e| classify(&e, &what))?;
        let body_error = |e: aws_sdk_s3::primitives::ByteStreamError| PortError {
            system: "s3",
            message: format!("{what}: body: {e}"),
            retriable: true,
        };
        // Chunk by chunk into one buffer of the announced size: collecting the chunks and then joining them would
        // hold the object two or three times (a 10 MiB mail used to cost ~30 MiB at its peak).
        let announced = out.content_length().and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
        let mut bytes = Vec::with_capacity(announced.min(MAX_PREALLOCATED));
        let mut body = out.body;
        while let Some(chunk) = body.try_next().await.map_err(body_error)? {
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

/// The most an object's announced length reserves up front (SES stores mails of up to 40 MB).
const MAX_PREALLOCATED: usize = 64 * 1024 * 1024;
