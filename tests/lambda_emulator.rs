//! The Lambda emulator against real processes over real HTTP: a small Python runtime client (stdlib `urllib` only)
//! plays the function binary, and each test drives it through `LambdaFunction`.
//!
//! The crate is binary-only, so the module (which depends on external crates only) is compiled in directly; its
//! unit tests run here too. Requires `python3` on PATH.

#[path = "../src/local/lambda/mod.rs"]
mod lambda;

use lambda::{FunctionSpec, InvokeError, LambdaFunction, INIT_LIMIT};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A Runtime API loop driven by the event's `action`.
const FAKE_RUNTIME: &str = r#"
import json, os, sys, time, urllib.request

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
ENV_KEYS = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_REGION", "AWS_DEFAULT_REGION",
            "_HANDLER", "LAMBDA_TASK_ROOT", "LEADPIPE_TEST"]

def post(path, body):
    req = urllib.request.Request(API + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        r.read()

print(f"fake runtime {os.getpid()} starting", flush=True)
init_error = os.environ.get("FAKE_INIT_ERROR")
marker = os.environ.get("FAKE_INIT_ERROR_IF_EXISTS")
if init_error or (marker and os.path.exists(marker)):
    post("/init/error", {"errorType": "Runtime.ConfigError", "errorMessage": init_error or "marker present"})
    sys.exit(1)

while True:
    with urllib.request.urlopen(API + "/invocation/next") as r:
        headers = r.headers
        event = json.loads(r.read())
    rid = headers["Lambda-Runtime-Aws-Request-Id"]
    action = event.get("action")
    if action in ("echo", "respond_then_exit"):
        post(f"/invocation/{rid}/response", {
            "event": event,
            "pid": os.getpid(),
            "request_id": rid,
            "deadline_ms": int(headers["Lambda-Runtime-Deadline-Ms"]),
            "now_ms": int(time.time() * 1000),
            "arn": headers["Lambda-Runtime-Invoked-Function-Arn"],
            "trace_id": headers["Lambda-Runtime-Trace-Id"],
            "content_type": headers["Content-Type"],
            "env": {k: os.environ.get(k) for k in ENV_KEYS},
            "cwd": os.getcwd(),
        })
        if action == "respond_then_exit":
            sys.exit(0)
    elif action == "fail":
        post(f"/invocation/{rid}/error", {"errorType": "LeadRejected", "errorMessage": event["message"]})
    elif action == "sleep":
        time.sleep(event["seconds"])
        post(f"/invocation/{rid}/response", {"late": True})
    elif action == "exit":
        print("exiting on request", flush=True)
        sys.exit(3)
"#;

/// The fake runtime as an executable `bootstrap`, written once before any test spawns a process (writing an
/// executable while another thread forks can make its exec fail with ETXTBSY).
fn bootstrap() -> &'static Path {
    static BOOTSTRAP: OnceLock<PathBuf> = OnceLock::new();
    BOOTSTRAP.get_or_init(|| {
        let python = std::process::Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 on PATH");
        let python = String::from_utf8(python.stdout).expect("utf-8 path");
        let task_root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lambda_emulator_task");
        std::fs::create_dir_all(&task_root).expect("task root");
        let path = task_root.join("bootstrap");
        let tmp = task_root.join("bootstrap.tmp");
        std::fs::write(&tmp, format!("#!{}\n{FAKE_RUNTIME}", python.trim())).expect("write bootstrap");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        std::fs::rename(&tmp, &path).expect("rename bootstrap");
        path
    })
}

fn spec(logs: &Path, name: &str, timeout: Duration, env: &[(&str, &str)]) -> FunctionSpec {
    FunctionSpec {
        name: name.to_owned(),
        binary: bootstrap().to_path_buf(),
        env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        timeout,
        memory_mb: 256,
        log_file: logs.join("logs").join(format!("{name}.log")),
    }
}

async fn echo(function: &LambdaFunction, extra: Value) -> Value {
    let response = function.invoke(json!({"action": "echo", "extra": extra})).await.expect("echo answered");
    assert_eq!(response["event"]["extra"], extra, "{response}");
    response
}

fn process_is_gone(pid: &Value) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::test]
async fn echo_round_trip_carries_the_lambda_headers_and_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec(dir.path(), "echo-fn", Duration::from_secs(3), &[("LEADPIPE_TEST", "yes")]);
    let log_file = spec.log_file.clone();
    let function = LambdaFunction::start(spec).await.expect("start");
    assert!(function.init_duration() > Duration::ZERO && function.init_duration() < INIT_LIMIT);

    let first = echo(&function, json!({"lead": 1})).await;
    assert_eq!(first["arn"], "arn:aws:lambda:us-east-1:000000000000:function:echo-fn");
    assert_eq!(first["content_type"], "application/json");
    assert!(first["trace_id"].as_str().is_some_and(|t| t.starts_with("Root=1-") && t.contains(";Parent=")));
    let request_id = first["request_id"].as_str().expect("request id");
    assert_eq!(request_id.len(), 36, "{request_id}");
    let left_ms = first["deadline_ms"].as_i64().expect("deadline") - first["now_ms"].as_i64().expect("now");
    assert!((1000..=3000).contains(&left_ms), "deadline {left_ms} ms ahead, expected about 3 s");

    let env = &first["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "echo-fn");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/echo-fn");
    assert!(env["AWS_LAMBDA_LOG_STREAM_NAME"].as_str().is_some_and(|s| s.contains("/[$LATEST]")));
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["AWS_DEFAULT_REGION"], "us-east-1");
    assert_eq!(env["_HANDLER"], "bootstrap");
    let task_root = bootstrap().parent().expect("task root").to_str().expect("utf-8");
    assert_eq!(env["LAMBDA_TASK_ROOT"], task_root);
    assert_eq!(first["cwd"], task_root);
    assert_eq!(env["LEADPIPE_TEST"], "yes");

    // Warm: same process, new request id.
    let second = echo(&function, json!("again")).await;
    assert_eq!(second["pid"], first["pid"]);
    assert_ne!(second["request_id"], first["request_id"]);

    function.stop().await;
    assert!(process_is_gone(&first["pid"]));
    let log = std::fs::read_to_string(&log_file).expect("log written");
    assert!(log.contains(&format!("fake runtime {} starting", first["pid"])), "{log}");
}

#[tokio::test]
async fn region_from_the_spec_env_reaches_the_arn_and_the_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec(dir.path(), "eu-fn", Duration::from_secs(3), &[("AWS_REGION", "eu-west-1")]);
    let function = LambdaFunction::start(spec).await.expect("start");
    let response = echo(&function, Value::Null).await;
    assert_eq!(response["arn"], "arn:aws:lambda:eu-west-1:000000000000:function:eu-fn");
    assert_eq!(response["env"]["AWS_REGION"], "eu-west-1");
    function.stop().await;
}

#[tokio::test]
async fn handler_error_is_a_function_error_and_keeps_the_sandbox() {
    let dir = tempfile::tempdir().expect("tempdir");
    let function =
        LambdaFunction::start(spec(dir.path(), "fail-fn", Duration::from_secs(3), &[])).await.expect("start");
    let before = echo(&function, Value::Null).await;

    match function.invoke(json!({"action": "fail", "message": "no email field"})).await {
        Err(InvokeError::Function { error_type, error_message }) => {
            assert_eq!((error_type.as_str(), error_message.as_str()), ("LeadRejected", "no email field"));
        }
        other => panic!("expected a function error, got {other:?}"),
    }

    let after = echo(&function, Value::Null).await;
    assert_eq!(after["pid"], before["pid"], "a handler error must not cost the sandbox");
    function.stop().await;
}

#[tokio::test]
async fn timeout_kills_the_sandbox_and_the_next_invoke_gets_a_fresh_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let timeout = Duration::from_secs(1);
    let function = LambdaFunction::start(spec(dir.path(), "slow-fn", timeout, &[])).await.expect("start");
    let before = echo(&function, Value::Null).await;

    let started = Instant::now();
    let result = function.invoke(json!({"action": "sleep", "seconds": 30})).await;
    let waited = started.elapsed();
    assert!(matches!(result, Err(InvokeError::Timeout(t)) if t == timeout), "{result:?}");
    assert!(waited >= timeout && waited < Duration::from_secs(5), "waited {waited:?}");
    assert!(process_is_gone(&before["pid"]), "the timed-out process must be killed");

    let after = echo(&function, Value::Null).await;
    assert_ne!(after["pid"], before["pid"], "expected a new sandbox after the timeout");
    function.stop().await;
}

#[tokio::test]
async fn crash_mid_invocation_is_reported_and_the_next_invoke_recovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let function =
        LambdaFunction::start(spec(dir.path(), "crash-fn", Duration::from_secs(3), &[])).await.expect("start");
    let before = echo(&function, Value::Null).await;

    match function.invoke(json!({"action": "exit"})).await {
        Err(InvokeError::Crashed(report)) => {
            assert!(report.contains("crash-fn") && report.contains("exit status: 3"), "{report}");
            assert!(report.contains("exiting on request"), "the report should quote the log: {report}");
        }
        other => panic!("expected a crash, got {other:?}"),
    }

    let after = echo(&function, Value::Null).await;
    assert_ne!(after["pid"], before["pid"]);
    function.stop().await;
}

#[tokio::test]
async fn exit_between_invocations_is_replaced_transparently() {
    let dir = tempfile::tempdir().expect("tempdir");
    let function =
        LambdaFunction::start(spec(dir.path(), "oneshot-fn", Duration::from_secs(3), &[])).await.expect("start");
    let first = function.invoke(json!({"action": "respond_then_exit"})).await.expect("answered before exiting");
    let second = echo(&function, Value::Null).await;
    assert_ne!(second["pid"], first["pid"]);
    function.stop().await;
}

#[tokio::test]
async fn init_error_fails_start_with_the_reported_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec(dir.path(), "broken-fn", Duration::from_secs(3), &[("FAKE_INIT_ERROR", "missing SECRET_ARN")]);
    let error = LambdaFunction::start(spec).await.err().expect("start must fail").to_string();
    assert!(error.contains("broken-fn") && error.contains("failed to initialise"), "{error}");
    assert!(error.contains("Runtime.ConfigError: missing SECRET_ARN"), "{error}");
    assert!(error.contains("fake runtime") && error.contains("starting"), "the error should quote the log: {error}");
}

#[tokio::test]
async fn failed_reinit_surfaces_as_init_error_on_the_next_invoke() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("break-init");
    let marker_env = marker.to_str().expect("utf-8 path");
    let spec = spec(dir.path(), "flaky-fn", Duration::from_secs(3), &[("FAKE_INIT_ERROR_IF_EXISTS", marker_env)]);
    let function = LambdaFunction::start(spec).await.expect("start");
    std::fs::write(&marker, "").expect("marker");
    assert!(matches!(function.invoke(json!({"action": "exit"})).await, Err(InvokeError::Crashed(_))));

    match function.invoke(json!({"action": "echo"})).await {
        Err(InvokeError::Init(report)) => assert!(report.contains("marker present"), "{report}"),
        other => panic!("expected an init error, got {other:?}"),
    }
    std::fs::remove_file(&marker).expect("remove marker");
    echo(&function, Value::Null).await;
    function.stop().await;
}

#[tokio::test]
async fn missing_binary_fails_start_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut spec = spec(dir.path(), "ghost-fn", Duration::from_secs(3), &[]);
    spec.binary = dir.path().join("no-such-bootstrap");
    let error = LambdaFunction::start(spec).await.err().expect("start must fail").to_string();
    assert!(error.contains("ghost-fn") && error.contains("no-such-bootstrap"), "{error}");
}

#[tokio::test]
async fn twenty_concurrent_invokes_are_all_answered_one_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let function =
        LambdaFunction::start(spec(dir.path(), "busy-fn", Duration::from_secs(5), &[])).await.expect("start");
    let function = Arc::new(function);
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..20 {
        let function = Arc::clone(&function);
        calls.spawn(async move { echo(&function, json!(n)).await });
    }
    let mut answered = Vec::new();
    while let Some(response) = calls.join_next().await {
        answered.push(response.expect("task"));
    }

    let mut numbers: Vec<i64> = answered.iter().filter_map(|r| r["event"]["extra"].as_i64()).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..20).collect::<Vec<_>>());
    let mut ids: Vec<&str> = answered.iter().filter_map(|r| r["request_id"].as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 20, "request ids must be distinct");
    assert!(answered.iter().all(|r| r["pid"] == answered[0]["pid"]), "one sandbox serves them all");

    Arc::into_inner(function).expect("all calls done").stop().await;
}
