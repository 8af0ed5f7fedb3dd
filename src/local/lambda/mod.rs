//! A local stand-in for the AWS Lambda service, for the harness that runs the real function binaries (built with
//! `lambda_runtime`) around local Kafka/S3: it serves the Lambda Runtime API on loopback, supervises one function
//! process per [`LambdaFunction`] like a Lambda execution environment (init, one invocation at a time, deadline,
//! re-init after a timeout or crash) and appends the process's output to a log file.
//!
//! The module depends only on external crates, so `tests/lambda_emulator.rs` can compile it on its own.

// Also compiled into tests/lambda_emulator.rs, and neither user needs every item.
#![allow(dead_code)]

mod ids;
mod log_file;
mod process;
mod runtime_api;

use bytes::Bytes;
use process::{Attempt, Sandbox};
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// How long a sandbox may take to ask for its first invocation (the limit Lambda puts on init).
pub const INIT_LIMIT: Duration = Duration::from_secs(10);

/// How to run one function.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// Function name, as in the ARN and `AWS_LAMBDA_FUNCTION_NAME` (letters, digits, `-`, `_`).
    pub name: String,
    /// The function's executable (its `bootstrap`); its folder becomes `LAMBDA_TASK_ROOT` and the working directory.
    pub binary: PathBuf,
    /// Extra environment for the process, applied last (it may override the Lambda variables, e.g. `AWS_REGION`).
    pub env: Vec<(String, String)>,
    /// Invocation timeout: the deadline handed to the runtime and enforced by killing the sandbox.
    pub timeout: Duration,
    /// Advertised in `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`; not enforced.
    pub memory_mb: u32,
    /// The process's stdout and stderr are appended here (parent folders are created).
    pub log_file: PathBuf,
}

/// Why an invocation did not return a response.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The handler returned an error (`POST /invocation/{id}/error`): `errorType` and `errorMessage` from its body.
    #[error("function error {error_type}: {error_message}")]
    Function {
        /// `errorType` as reported by the runtime (or its `Lambda-Runtime-Function-Error-Type` header).
        error_type: String,
        /// `errorMessage` as reported by the runtime (or the raw body when it is not the usual JSON).
        error_message: String,
    },
    /// No response before the deadline: the sandbox was killed and is re-initialised before the next invoke.
    #[error("timed out after {0:?}; the sandbox was killed")]
    Timeout(Duration),
    /// The process exited during the invocation (exit status and log tail); it is restarted before the next invoke.
    #[error("{0}")]
    Crashed(String),
    /// The sandbox could not be (re)started (spawn failure, init error, exit or stall during init; with log tail).
    #[error("{0}")]
    Init(String),
    /// The runtime posted a response body that is not JSON.
    #[error("{0}")]
    InvalidResponse(String),
}

/// A running function: one sandbox, one invocation at a time (like a Lambda execution environment).
///
/// Dropping it kills the process; [`LambdaFunction::stop`] also waits for it to exit.
pub struct LambdaFunction {
    spec: FunctionSpec,
    /// `None` once a sandbox was lost (timeout, crash); the next invoke starts a fresh one.
    sandbox: tokio::sync::Mutex<Option<Sandbox>>,
    init_duration: Mutex<Duration>,
}

impl LambdaFunction {
    /// Serves the Runtime API on 127.0.0.1 (a free port), spawns the binary with `AWS_LAMBDA_RUNTIME_API` and the
    /// usual Lambda variables, and waits until it asks for its first invocation. Init failure (the process exits,
    /// posts `/runtime/init/error`, or does not ask within [`INIT_LIMIT`]) is an error naming the function and
    /// carrying the tail of its log.
    pub async fn start(spec: FunctionSpec) -> anyhow::Result<Self> {
        validate(&spec)?;
        let sandbox = Sandbox::start(&spec).await.map_err(anyhow::Error::msg)?;
        let init_duration = Mutex::new(sandbox.init_duration());
        Ok(Self { spec, sandbox: tokio::sync::Mutex::new(Some(sandbox)), init_duration })
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Time from spawn to the first `next` request of the current (or latest) sandbox.
    pub fn init_duration(&self) -> Duration {
        *self.init_duration.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Invokes the function with `payload` and waits for its JSON response, or the error the function reported or
    /// the emulator observed. Concurrent calls are queued and run one after another.
    pub async fn invoke(&self, payload: serde_json::Value) -> Result<serde_json::Value, InvokeError> {
        let mut payload = Bytes::from(payload.to_string());
        let mut slot = self.sandbox.lock().await;
        let mut retried = false;
        loop {
            let alive = slot.as_mut().is_some_and(Sandbox::is_alive);
            let sandbox = match slot.take() {
                Some(sandbox) if alive => slot.insert(sandbox),
                // Exited between invocations (or never started): Lambda would give us a fresh environment.
                dead => {
                    if let Some(dead) = dead {
                        dead.stop().await;
                    }
                    let fresh = Sandbox::start(&self.spec).await.map_err(InvokeError::Init)?;
                    *self.init_duration.lock().unwrap_or_else(PoisonError::into_inner) = fresh.init_duration();
                    slot.insert(fresh)
                }
            };
            match sandbox.invoke(payload, self.spec.timeout).await {
                Attempt::Finished(result) => {
                    if matches!(result, Err(InvokeError::Timeout(_) | InvokeError::Crashed(_))) {
                        if let Some(lost) = slot.take() {
                            lost.stop().await;
                        }
                    }
                    return result;
                }
                // The process died before it took the event, so running it on a fresh sandbox is safe (once).
                Attempt::NotTaken { payload: returned, crash } => {
                    if let Some(lost) = slot.take() {
                        lost.stop().await;
                    }
                    if retried {
                        return Err(InvokeError::Crashed(crash));
                    }
                    retried = true;
                    payload = returned;
                }
            }
        }
    }

    /// Kills the process and waits for it to exit.
    pub async fn stop(self) {
        if let Some(sandbox) = self.sandbox.into_inner() {
            sandbox.stop().await;
        }
    }
}

/// Rejects specs the Lambda API would reject and that would make an invalid ARN header.
fn validate(spec: &FunctionSpec) -> anyhow::Result<()> {
    let name_ok = !spec.name.is_empty()
        && spec.name.len() <= 64
        && spec.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    anyhow::ensure!(name_ok, "function name `{}`: use 1-64 letters, digits, `-` or `_`", spec.name);
    anyhow::ensure!(!spec.timeout.is_zero(), "function `{}`: timeout must be above zero", spec.name);
    Ok(())
}
