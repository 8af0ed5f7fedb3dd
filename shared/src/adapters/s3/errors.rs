//! SDK errors -> port errors: throttling, 5xx, timeouts and connection failures are retriable; the rest is final.

use crate::pipeline::ports::PortError;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

/// Classifies an S3 SDK error.
pub fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    e: &SdkError<E, HttpResponse>,
    what: &str,
) -> PortError {
    let retriable = match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or_default();
            matches!(code, "SlowDown" | "InternalError" | "ServiceUnavailable" | "RequestTimeout" | "Throttling")
                || status(e).is_some_and(|s| s >= 500)
        }
        _ => false,
    };
    let detail = match e {
        SdkError::ServiceError(se) => {
            format!("{} ({})", se.err().code().unwrap_or("error"), se.err().message().unwrap_or(""))
        }
        other => other.to_string(),
    };
    PortError { system: "s3", message: format!("{what}: {detail}"), retriable }
}

/// The HTTP status of a service error, if any.
pub fn status<E>(e: &SdkError<E, HttpResponse>) -> Option<u16> {
    match e {
        SdkError::ServiceError(se) => Some(se.raw().status().as_u16()),
        _ => None,
    }
}
