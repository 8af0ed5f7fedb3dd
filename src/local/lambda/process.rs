//! One sandbox (execution environment): a function process with its own Runtime API, followed from spawn through
//! init to each invocation's response, error, timeout or crash.

use super::log_file::SandboxLog;
use super::runtime_api::{Completion, InitOutcome, Invocation, RuntimeApi};
use super::{ids, FunctionSpec, InvokeError, INIT_LIMIT};
use bytes::Bytes;
use serde_json::Value;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

const DEFAULT_REGION: &str = "us-east-1";
const ACCOUNT_ID: &str = "000000000000";
/// Slack after the deadline before the sandbox is killed: the runtime's response may be on its way.
const DEADLINE_GRACE: Duration = Duration::from_millis(200);
/// After the process exits, how long a result it posted just before may still take to be processed.
const EXIT_DRAIN: Duration = Duration::from_millis(100);

/// A started function process and its Runtime API.
pub(super) struct Sandbox {
    name: String,
    child: Child,
    api: RuntimeApi,
    log: SandboxLog,
    init_duration: Duration,
}

/// What became of one attempt to run an invocation in a sandbox.
pub(super) enum Attempt {
    /// The invocation ran: its result (or why it has none).
    Finished(Result<Value, InvokeError>),
    /// The process died before taking the event; `payload` can be retried elsewhere, `crash` says what happened.
    NotTaken { payload: Bytes, crash: String },
}

enum InitWait {
    Outcome(Option<InitOutcome>),
    Exited(io::Result<ExitStatus>),
    TooSlow,
}

enum InvokeWait {
    Completed(Option<Completion>),
    Exited(io::Result<ExitStatus>),
    TimedOut,
}

impl Sandbox {
    /// Spawns `spec.binary` against a fresh Runtime API and waits until it asks for its first invocation. The error
    /// names the function and the failed step and quotes the log tail.
    pub(super) async fn start(spec: &FunctionSpec) -> Result<Self, String> {
        let name = &spec.name;
        let (api, mut init) = RuntimeApi::bind(&function_arn(spec))
            .await
            .map_err(|e| format!("function `{name}`: serving the Runtime API: {e}"))?;
        let banner = format!("--- leadpipe lambda emulator: starting `{name}` (Runtime API {}) ---", api.addr());
        let log = SandboxLog::open(&spec.log_file, &banner)
            .map_err(|e| format!("function `{name}`: opening log {}: {e}", spec.log_file.display()))?;
        let binary = std::path::absolute(&spec.binary)
            .map_err(|e| format!("function `{name}`: resolving {}: {e}", spec.binary.display()))?;
        let task_root = binary.parent().unwrap_or(Path::new("/"));
        let (stdout, stderr) = log
            .writer()
            .and_then(|out| Ok((out, log.writer()?)))
            .map_err(|e| format!("function `{name}`: opening log {}: {e}", spec.log_file.display()))?;

        let spawned = Instant::now();
        let mut child = Command::new(&binary)
            .current_dir(task_root)
            .envs(lambda_env(spec, api.addr(), task_root))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("function `{name}`: spawning {}: {e}", binary.display()))?;

        let waited = tokio::select! {
            biased;
            outcome = &mut init => InitWait::Outcome(outcome.ok()),
            status = child.wait() => InitWait::Exited(status),
            () = tokio::time::sleep(INIT_LIMIT) => InitWait::TooSlow,
        };
        let init_duration = spawned.elapsed();
        let failure = match waited {
            InitWait::Outcome(Some(InitOutcome::Ready)) => {
                return Ok(Self { name: name.clone(), child, api, log, init_duration });
            }
            InitWait::Outcome(Some(InitOutcome::Failed(e))) => {
                format!("it reported {}: {}", e.error_type, e.error_message)
            }
            InitWait::Outcome(None) => "the Runtime API stopped".to_owned(),
            // A runtime usually posts /init/error and then exits: prefer the report if it arrives.
            InitWait::Exited(status) => match tokio::time::timeout(EXIT_DRAIN, init).await {
                Ok(Ok(InitOutcome::Failed(e))) => format!("it reported {}: {}", e.error_type, e.error_message),
                _ => format!("it exited ({})", describe(&status)),
            },
            InitWait::TooSlow => format!("it did not ask for an invocation within {INIT_LIMIT:?}"),
        };
        let _ = child.kill().await;
        Err(format!("function `{name}` failed to initialise: {failure}\n{}", log.tail()))
    }

    /// Time from spawn to the first `next` request.
    pub(super) fn init_duration(&self) -> Duration {
        self.init_duration
    }

    /// Whether the process is still running (it may exit between invocations).
    pub(super) fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Hands `payload` to the runtime and waits for its result until `timeout` (plus a little grace). On timeout the
    /// process is killed; the caller must not reuse a sandbox after a timeout or crash.
    pub(super) async fn invoke(&mut self, payload: Bytes, timeout: Duration) -> Attempt {
        let (done, mut completed) = oneshot::channel();
        self.api.enqueue(Invocation { payload, deadline: SystemTime::now() + timeout, done });
        let waited = tokio::select! {
            biased;
            completion = &mut completed => InvokeWait::Completed(completion.ok()),
            status = self.child.wait() => InvokeWait::Exited(status),
            () = tokio::time::sleep(timeout + DEADLINE_GRACE) => InvokeWait::TimedOut,
        };
        match waited {
            InvokeWait::Completed(Some(completion)) => Attempt::Finished(self.result(completion)),
            InvokeWait::Completed(None) => {
                let crash = format!("function `{}`: the Runtime API dropped the invocation", self.name);
                Attempt::Finished(Err(InvokeError::Crashed(crash)))
            }
            InvokeWait::Exited(status) => {
                if let Some(invocation) = self.api.withdraw() {
                    let crash = self.exit_report(&status, "exited before taking the invocation");
                    return Attempt::NotTaken { payload: invocation.payload, crash };
                }
                // The result may have been posted just before the exit.
                match tokio::time::timeout(EXIT_DRAIN, completed).await {
                    Ok(Ok(completion)) => Attempt::Finished(self.result(completion)),
                    _ => Attempt::Finished(Err(InvokeError::Crashed(
                        self.exit_report(&status, "exited during the invocation"),
                    ))),
                }
            }
            InvokeWait::TimedOut => {
                self.api.withdraw();
                let _ = self.child.kill().await;
                Attempt::Finished(Err(InvokeError::Timeout(timeout)))
            }
        }
    }

    /// Kills the process and waits for it; the Runtime API stops with it.
    pub(super) async fn stop(mut self) {
        // Fails only if the process was already reaped, which is the goal anyway.
        let _ = self.child.kill().await;
    }

    fn result(&self, completion: Completion) -> Result<Value, InvokeError> {
        match completion {
            Completion::Response(body) if body.iter().all(u8::is_ascii_whitespace) => Ok(Value::Null),
            Completion::Response(body) => serde_json::from_slice(&body).map_err(|e| {
                InvokeError::InvalidResponse(format!(
                    "function `{}` responded with {} bytes that are not JSON: {e}",
                    self.name,
                    body.len()
                ))
            }),
            Completion::Error(e) => {
                Err(InvokeError::Function { error_type: e.error_type, error_message: e.error_message })
            }
        }
    }

    fn exit_report(&self, status: &io::Result<ExitStatus>, what: &str) -> String {
        format!("function `{}` {what} ({})\n{}", self.name, describe(status), self.log.tail())
    }
}

fn describe(status: &io::Result<ExitStatus>) -> String {
    match status {
        Ok(status) => status.to_string(),
        Err(e) => format!("cannot get its exit status: {e}"),
    }
}

fn region(spec: &FunctionSpec) -> &str {
    spec.env.iter().rev().find(|(key, _)| key == "AWS_REGION").map_or(DEFAULT_REGION, |(_, value)| value)
}

fn function_arn(spec: &FunctionSpec) -> String {
    format!("arn:aws:lambda:{}:{ACCOUNT_ID}:function:{}", region(spec), spec.name)
}

/// The variables Lambda sets for a `provided` runtime, then `spec.env` (applied last, so it wins). The rest of the
/// harness's environment is inherited.
fn lambda_env(spec: &FunctionSpec, api: SocketAddr, task_root: &Path) -> Vec<(String, String)> {
    let region = region(spec);
    let lambda = [
        ("AWS_LAMBDA_RUNTIME_API", api.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", spec.memory_mb.to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{}", spec.name)),
        ("AWS_LAMBDA_LOG_STREAM_NAME", ids::log_stream_name()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_REGION", region.to_owned()),
        ("AWS_DEFAULT_REGION", region.to_owned()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("LAMBDA_TASK_ROOT", task_root.display().to_string()),
    ];
    lambda.into_iter().map(|(key, value)| (key.to_owned(), value)).chain(spec.env.iter().cloned()).collect()
}
