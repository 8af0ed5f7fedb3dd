//! The HTTP side of the emulator: the Lambda Runtime API (`/2018-06-01/runtime/...`) that a function's runtime
//! client long-polls for events and posts results to. Each sandbox gets its own server, so requests left open by a
//! killed process die with its server instead of swallowing the next sandbox's events.

use super::ids;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Notify};
use tokio::task::{JoinHandle, JoinSet};

const PREFIX: &str = "/2018-06-01/runtime/";
const REQUEST_ID: HeaderName = HeaderName::from_static("lambda-runtime-aws-request-id");
const DEADLINE_MS: HeaderName = HeaderName::from_static("lambda-runtime-deadline-ms");
const FUNCTION_ARN: HeaderName = HeaderName::from_static("lambda-runtime-invoked-function-arn");
const TRACE_ID: HeaderName = HeaderName::from_static("lambda-runtime-trace-id");
const ERROR_TYPE: HeaderName = HeaderName::from_static("lambda-runtime-function-error-type");

/// An error a runtime reported through `/init/error` or `/invocation/{id}/error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ReportedError {
    pub error_type: String,
    pub error_message: String,
}

/// An event waiting for the runtime's next `GET /invocation/next`.
pub(super) struct Invocation {
    pub payload: Bytes,
    pub deadline: SystemTime,
    pub done: oneshot::Sender<Completion>,
}

/// How the runtime completed an invocation.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Completion {
    Response(Bytes),
    Error(ReportedError),
}

/// How the runtime ended its init phase.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum InitOutcome {
    /// It asked for its first invocation.
    Ready,
    Failed(ReportedError),
}

/// A Runtime API server on loopback; stops serving (and drops open requests) when dropped.
pub(super) struct RuntimeApi {
    addr: SocketAddr,
    state: Arc<State>,
    server: JoinHandle<()>,
}

struct State {
    arn: HeaderValue,
    /// At most one event: the supervisor runs one invocation at a time.
    queued: Mutex<Option<Invocation>>,
    queued_changed: Notify,
    /// Events handed to the runtime, by request id, until it posts their result.
    in_flight: Mutex<HashMap<String, oneshot::Sender<Completion>>>,
    /// Taken by the first `next` or `init/error`.
    init: Mutex<Option<oneshot::Sender<InitOutcome>>>,
}

impl RuntimeApi {
    /// Serves on 127.0.0.1 (a free port), telling runtimes they run `function_arn`. The receiver reports the end of
    /// init.
    pub(super) async fn bind(function_arn: &str) -> io::Result<(Self, oneshot::Receiver<InitOutcome>)> {
        let arn = HeaderValue::from_str(function_arn)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("function ARN {function_arn:?}: {e}")))?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (init_tx, init_rx) = oneshot::channel();
        let state = Arc::new(State {
            arn,
            queued: Mutex::new(None),
            queued_changed: Notify::new(),
            in_flight: Mutex::new(HashMap::new()),
            init: Mutex::new(Some(init_tx)),
        });
        let server = tokio::spawn(serve(listener, Arc::clone(&state)));
        Ok((Self { addr, state, server }, init_rx))
    }

    /// The `host:port` for `AWS_LAMBDA_RUNTIME_API`.
    pub(super) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues `invocation` for the runtime's next poll (replacing one not yet taken; callers run one at a time).
    pub(super) fn enqueue(&self, invocation: Invocation) {
        *lock(&self.state.queued) = Some(invocation);
        self.state.queued_changed.notify_one();
    }

    /// Takes back the queued invocation if the runtime has not polled it yet.
    pub(super) fn withdraw(&self) -> Option<Invocation> {
        lock(&self.state.queued).take()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection and pending request.
        self.server.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn serve(listener: TcpListener, state: Arc<State>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let state = Arc::clone(&state);
                    connections.spawn(async move {
                        let service = service_fn(move |req| route(Arc::clone(&state), req));
                        // A connection error only concerns that (dead) client.
                        let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await;
                    });
                }
                // E.g. out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn route(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let segments: Vec<&str> = path.strip_prefix(PREFIX).map(|rest| rest.split('/').collect()).unwrap_or_default();
    let response = match (method, segments.as_slice()) {
        (Method::GET, ["invocation", "next"]) => next(&state).await,
        (Method::POST, ["invocation", id, "response"]) => complete(&state, id, req, false).await,
        (Method::POST, ["invocation", id, "error"]) => complete(&state, id, req, true).await,
        (Method::POST, ["init", "error"]) => init_error(&state, req).await,
        (method, _) => json_response(
            StatusCode::NOT_FOUND,
            &json!({"errorType": "NotFound", "errorMessage": format!("no route for {method} {path}")}),
        ),
    };
    Ok(response)
}

/// `GET /invocation/next`: marks init done, waits for an event, hands it over with the service's headers.
async fn next(state: &State) -> Response<Full<Bytes>> {
    if let Some(init) = lock(&state.init).take() {
        let _ = init.send(InitOutcome::Ready);
    }
    let invocation = loop {
        if let Some(invocation) = lock(&state.queued).take() {
            break invocation;
        }
        state.queued_changed.notified().await;
    };
    let request_id = ids::request_id();
    let trace_id = ids::trace_id();
    let deadline_ms = invocation.deadline.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    lock(&state.in_flight).insert(request_id.clone(), invocation.done);

    let mut response = Response::new(Full::new(invocation.payload));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(REQUEST_ID, HeaderValue::from_str(&request_id).expect("request ids are hex and dashes"));
    headers.insert(DEADLINE_MS, HeaderValue::from(u64::try_from(deadline_ms).unwrap_or(u64::MAX)));
    headers.insert(FUNCTION_ARN, state.arn.clone());
    headers.insert(TRACE_ID, HeaderValue::from_str(&trace_id).expect("trace ids are ASCII"));
    response
}

/// `POST /invocation/{id}/response` and `/error`: completes the invocation the runtime was handed.
async fn complete(state: &State, id: &str, req: Request<Incoming>, is_error: bool) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return bad_request("InvalidRequest", &format!("reading the body for {id}: {e}")),
    };
    let Some(done) = lock(&state.in_flight).remove(id) else {
        return bad_request("InvalidRequestID", &format!("no invocation in flight with request id {id}"));
    };
    let completion =
        if is_error { Completion::Error(reported_error(&parts.headers, &body)) } else { Completion::Response(body) };
    // The supervisor may have given up (deadline passed); it is tearing this sandbox down then.
    let _ = done.send(completion);
    accepted()
}

/// `POST /init/error`: the runtime could not initialise.
async fn init_error(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    let Some(init) = lock(&state.init).take() else {
        return json_response(
            StatusCode::FORBIDDEN,
            &json!({"errorType": "InvalidStateTransition", "errorMessage": "init already completed"}),
        );
    };
    let _ = init.send(InitOutcome::Failed(reported_error(&parts.headers, &body)));
    accepted()
}

/// Reads the usual `{"errorType", "errorMessage"}` body, falling back to the error-type header and the raw body.
fn reported_error(headers: &HeaderMap, body: &[u8]) -> ReportedError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let field = |key: &str| parsed.as_ref().and_then(|v| v.get(key)).and_then(Value::as_str).map(str::to_owned);
    let header_type = headers.get(ERROR_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    ReportedError {
        error_type: field("errorType").or(header_type).unwrap_or_else(|| "Unknown".to_owned()),
        error_message: field("errorMessage").unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned()),
    }
}

fn accepted() -> Response<Full<Bytes>> {
    json_response(StatusCode::ACCEPTED, &json!({"status": "OK"}))
}

fn bad_request(error_type: &str, message: &str) -> Response<Full<Bytes>> {
    json_response(StatusCode::BAD_REQUEST, &json!({"errorType": error_type, "errorMessage": message}))
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// One request on a kept-alive connection; returns status, lower-cased headers and body.
    async fn send(
        conn: &mut TcpStream,
        method: &str,
        path: &str,
        body: &str,
    ) -> (u16, HashMap<String, String>, String) {
        let request =
            format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        conn.write_all(request.as_bytes()).await.expect("write");
        let mut buf = Vec::new();
        let head_end = loop {
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = conn.read(&mut chunk).await.expect("read");
            assert!(n > 0, "connection closed; got {:?}", String::from_utf8_lossy(&buf));
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.lines();
        let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status");
        let headers: HashMap<String, String> =
            lines.filter_map(|l| l.split_once(": ")).map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned())).collect();
        let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 4096];
            let n = conn.read(&mut chunk).await.expect("read");
            assert!(n > 0, "connection closed mid-body");
            buf.extend_from_slice(&chunk[..n]);
        }
        (status, headers, String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string())
    }

    fn invocation(payload: &str) -> (Invocation, oneshot::Receiver<Completion>) {
        let (done, rx) = oneshot::channel();
        let deadline = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        (Invocation { payload: Bytes::from(payload.to_owned()), deadline, done }, rx)
    }

    #[tokio::test]
    async fn invocations_flow_over_one_kept_alive_connection() {
        let arn = "arn:aws:lambda:us-east-1:000000000000:function:f";
        let (api, init) = RuntimeApi::bind(arn).await.expect("bind");
        let mut conn = TcpStream::connect(api.addr()).await.expect("connect");

        let (first, first_done) = invocation(r#"{"n":1}"#);
        api.enqueue(first);
        let (status, headers, body) = send(&mut conn, "GET", "/2018-06-01/runtime/invocation/next", "").await;
        assert_eq!((status, body.as_str()), (200, r#"{"n":1}"#));
        assert_eq!(init.await.expect("init reported"), InitOutcome::Ready);
        assert_eq!(headers["lambda-runtime-deadline-ms"], "1700000000123");
        assert_eq!(headers["lambda-runtime-invoked-function-arn"], arn);
        assert_eq!(headers["content-type"], "application/json");
        assert!(headers["lambda-runtime-trace-id"].starts_with("Root=1-"));
        let id = headers["lambda-runtime-aws-request-id"].clone();
        let path = format!("/2018-06-01/runtime/invocation/{id}/response");
        let (status, _, body) = send(&mut conn, "POST", &path, r#"{"ok":true}"#).await;
        assert_eq!((status, body.as_str()), (202, r#"{"status":"OK"}"#));
        assert_eq!(first_done.await.expect("completed"), Completion::Response(Bytes::from(r#"{"ok":true}"#)));

        // The same id cannot complete twice.
        let (status, _, body) = send(&mut conn, "POST", &path, "{}").await;
        assert_eq!(status, 400, "{body}");

        let (second, second_done) = invocation("{}");
        api.enqueue(second);
        let (_, headers, _) = send(&mut conn, "GET", "/2018-06-01/runtime/invocation/next", "").await;
        let second_id = &headers["lambda-runtime-aws-request-id"];
        assert_ne!(second_id, &id);
        let path = format!("/2018-06-01/runtime/invocation/{second_id}/error");
        let (status, _, _) = send(&mut conn, "POST", &path, r#"{"errorType":"Boom","errorMessage":"bad lead"}"#).await;
        assert_eq!(status, 202);
        let expected = ReportedError { error_type: "Boom".into(), error_message: "bad lead".into() };
        assert_eq!(second_done.await.expect("completed"), Completion::Error(expected));
    }

    #[tokio::test]
    async fn unknown_ids_and_paths_are_refused() {
        let (api, _init) = RuntimeApi::bind("arn").await.expect("bind");
        let mut conn = TcpStream::connect(api.addr()).await.expect("connect");
        let (status, _, body) = send(&mut conn, "POST", "/2018-06-01/runtime/invocation/nope/response", "{}").await;
        assert_eq!(status, 400);
        assert!(body.contains("InvalidRequestID"), "{body}");
        let (status, _, _) = send(&mut conn, "GET", "/2018-06-01/runtime/elsewhere", "").await;
        assert_eq!(status, 404);
        let (status, _, _) = send(&mut conn, "GET", "/", "").await;
        assert_eq!(status, 404);
    }

    #[tokio::test]
    async fn init_error_is_reported_once() {
        let (api, init) = RuntimeApi::bind("arn").await.expect("bind");
        let mut conn = TcpStream::connect(api.addr()).await.expect("connect");
        let (status, _, _) = send(&mut conn, "POST", "/2018-06-01/runtime/init/error", "no config").await;
        assert_eq!(status, 202);
        let expected = ReportedError { error_type: "Unknown".into(), error_message: "no config".into() };
        assert_eq!(init.await.expect("init reported"), InitOutcome::Failed(expected));
        let (status, _, _) = send(&mut conn, "POST", "/2018-06-01/runtime/init/error", "{}").await;
        assert_eq!(status, 403);
    }
}
