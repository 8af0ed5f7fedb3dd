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
        let body = out.body.collect().await.map_err(|e| PortError {
            system: "s3",
            message: format!("{what}: body: {e}"),
            retriable: true,
        })?;
        Ok(body.into_bytes().to_vec())
    }
}
