//! SNS topics through the AWS SDK: the leads topic (one message per lead event) and the alert topic.

use crate::pipeline::ports::{PortError, Topic};
use aws_sdk_sns::config::http::HttpResponse;
use aws_sdk_sns::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sns::types::MessageAttributeValue;

/// An SNS client from a loaded SDK configuration.
pub fn sns_client(shared: &aws_config::SdkConfig) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(shared)
}

/// One SNS topic, by ARN.
#[derive(Debug, Clone)]
pub struct SnsTopic {
    client: aws_sdk_sns::Client,
    arn: String,
}

impl SnsTopic {
    /// The topic `arn` through `client`.
    pub fn new(client: aws_sdk_sns::Client, arn: &str) -> Self {
        Self { client, arn: arn.to_string() }
    }
}

impl Topic for SnsTopic {
    async fn publish(&self, message: &str, attributes: &[(&str, String)]) -> Result<(), PortError> {
        let mut req = self.client.publish().topic_arn(&self.arn).message(message);
        for (name, value) in attributes {
            let attr =
                MessageAttributeValue::builder().data_type("String").string_value(value).build().map_err(|e| {
                    PortError { system: "sns", message: format!("attribute {name}: {e}"), retriable: false }
                })?;
            req = req.message_attributes(*name, attr);
        }
        req.send().await.map(|_| ()).map_err(|e| classify(&e, &self.arn))
    }
}

/// Throttling, 5xx, timeouts and connection failures are retriable; the rest (missing topic, no permission,
/// invalid message) is final.
fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    e: &SdkError<E, HttpResponse>,
    arn: &str,
) -> PortError {
    let retriable = match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(se) => {
            matches!(
                se.err().code().unwrap_or_default(),
                "Throttled"
                    | "ThrottlingException"
                    | "InternalError"
                    | "InternalFailure"
                    | "ServiceUnavailable"
                    | "KMSThrottling"
            ) || se.raw().status().as_u16() >= 500
        }
        _ => false,
    };
    PortError { system: "sns", message: format!("publish to {arn}: {}", DisplayErrorContext(e)), retriable }
}
