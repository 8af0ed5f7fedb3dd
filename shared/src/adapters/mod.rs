//! Adapters: the pipeline's ports implemented for real outside systems. Each lives behind a cargo feature so the
//! core builds and tests without them: `kafka` (rdkafka) and `aws` (AWS SDK for S3, SNS and Secrets Manager).

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(any(feature = "aws", feature = "kafka"))]
pub mod clock;
#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "aws")]
pub mod s3;
#[cfg(feature = "aws")]
pub mod secrets;
#[cfg(feature = "aws")]
pub mod sns;
