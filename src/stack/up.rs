//! `leadpipe local up`: the local stack. Creates the topology on the local AWS services, starts the three
//! function binaries behind Runtime API emulators, and plays SNS's asynchronous invoke and the SQS event source
//! mappings around them until interrupted.

use super::clients::Clients;
use super::pool::Pool;
use super::provision::provision;
use super::sources::{AsyncInvoke, QueueConsumer};
use super::topology::{Timings, Topology};
use crate::local::lambda::{FunctionSpec, LambdaFunction};
use anyhow::{bail, Context, Result};
use leadpipe_shared::config::PipelineConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What `up` needs.
pub struct UpSettings {
    /// Local AWS endpoint (moto).
    pub endpoint: String,
    /// Kafka bootstrap brokers.
    pub kafka_brokers: String,
    /// Stack name.
    pub stack: String,
    /// Rules file to upload.
    pub rules: PathBuf,
    /// Pipeline settings (topic, size limit, spam policy, mailboxes).
    pub pipeline: PipelineConfig,
    /// Folder with the function binaries (`extract`, or `extract/bootstrap` as cargo-lambda lays them out).
    pub bin_dir: PathBuf,
    /// Folder for the functions' logs.
    pub logs: PathBuf,
    /// Timings.
    pub timings: Timings,
    /// Per-function AWS endpoint overrides (function name -> URL), e.g. through a fault-injection proxy; the
    /// harness itself always uses `endpoint`.
    pub function_endpoints: Vec<(String, String)>,
    /// librdkafka's delivery timeout per record in forward.
    pub kafka_message_timeout_ms: u64,
    /// Concurrent execution environments of extract (SNS invokes it asynchronously, in parallel); forward and
    /// archive get one each (an event source mapping with maximum concurrency 1 per queue here).
    pub extract_concurrency: usize,
}

/// The names of the functions, in start order.
const FUNCTIONS: [&str; 3] = ["extract", "forward", "archive"];

/// Runs the local stack until `shutdown` resolves.
pub async fn run(s: &UpSettings, shutdown: impl std::future::Future<Output = ()>) -> Result<()> {
    let t = Topology::new(&s.stack, "123456789012", "us-east-1");
    let clients = Clients::new(&s.endpoint, &t.region).await;
    let urls = provision(&clients, &t, &s.timings, &s.rules).await.context("creating the local topology")?;
    let mut functions = Vec::new();
    for name in FUNCTIONS {
        let count = if name == "extract" { s.extract_concurrency.max(1) } else { 1 };
        let mut sandboxes = Vec::new();
        for _ in 0..count {
            let spec = FunctionSpec {
                name: format!("{}-{name}", t.stack),
                binary: binary(&s.bin_dir, name)?,
                env: function_env(name, s, &t),
                timeout: s.timings.function_timeout,
                memory_mb: 128,
                log_file: s.logs.join(format!("{name}.log")),
            };
            let f = LambdaFunction::start(spec).await.with_context(|| format!("starting {name}"))?;
            println!("{name}: initialised in {:.1} ms", f.init_duration().as_secs_f64() * 1000.0);
            sandboxes.push(f);
        }
        functions.push(Arc::new(Pool::new(sandboxes)));
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let url = |q: &str| urls.get(q).cloned().with_context(|| format!("queue {q} was not created"));
    let inbound = Arc::new(AsyncInvoke {
        clients: clients.clone(),
        queue_url: url(&t.extract_invoke)?,
        destination_url: url(&t.extract_failures)?,
        topic_arn: t.topic_arn(&t.inbound_topic),
        retries: s.timings.extract_retries,
        delay: s.timings.retry_delay,
    });
    let consumer = |name: &'static str, queue: &str, batch_size: usize| -> Result<QueueConsumer> {
        Ok(QueueConsumer {
            clients: clients.clone(),
            name,
            queue_url: url(queue)?,
            queue_arn: t.queue_arn(queue),
            batch_size,
            window: s.timings.batch_window,
        })
    };
    let forward = consumer("forward", &t.to_kafka, s.timings.forward_batch)?;
    let archive = consumer("archive", &t.to_archive, s.timings.archive_batch)?;
    let tasks = [
        tokio::spawn(inbound.run(functions[0].clone(), stop_rx.clone())),
        tokio::spawn(forward.run(functions[1].clone(), stop_rx.clone())),
        tokio::spawn(archive.run(functions[2].clone(), stop_rx)),
    ];
    println!("leadpipe local: ready (stack {}, endpoint {}, brokers {})", t.stack, s.endpoint, s.kafka_brokers);
    shutdown.await;
    println!("leadpipe local: stopping");
    stop_tx.send(true).ok();
    for task in tasks {
        match tokio::time::timeout(Duration::from_secs(40), task).await {
            Ok(Ok(Err(e))) => eprintln!("event source: {e:#}"),
            Ok(Err(e)) => eprintln!("event source task: {e}"),
            _ => {}
        }
    }
    for f in functions {
        if let Ok(f) = Arc::try_unwrap(f) {
            f.stop().await;
        }
    }
    Ok(())
}

/// The function binary: `<dir>/<name>/bootstrap` (cargo-lambda) or `<dir>/<name>` (cargo build).
fn binary(dir: &Path, name: &str) -> Result<PathBuf> {
    for candidate in [dir.join(name).join("bootstrap"), dir.join(name)] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "no {name} binary in {} (build it with `cargo build --release -p leadpipe-{name}` or `cargo lambda build --release`)",
        dir.display()
    )
}

/// Each function's environment, as the template sets it, pointed at the local services.
fn function_env(name: &str, s: &UpSettings, t: &Topology) -> Vec<(String, String)> {
    let var = |k: &str, v: &str| (k.to_string(), v.to_string());
    let endpoint = s.function_endpoints.iter().find(|(f, _)| f == name).map_or(s.endpoint.as_str(), |(_, e)| e);
    let mut env = vec![
        var("AWS_ENDPOINT_URL", endpoint),
        var("AWS_ACCESS_KEY_ID", &std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_else(|_| "testing".into())),
        var("AWS_SECRET_ACCESS_KEY", &std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|_| "testing".into())),
        var("AWS_REGION", &t.region),
        var("LEADPIPE_DEADLINE_MARGIN_MS", "1000"),
    ];
    match name {
        "extract" => env.extend([
            var("LEADPIPE_RULES_S3_URI", &format!("s3://{}/{}", t.config_bucket, t.rules_key)),
            var("LEADPIPE_KEY_SECRET_ARN", &t.key_secret),
            var("LEADPIPE_LEADS_TOPIC_ARN", &t.topic_arn(&t.leads_topic)),
            var("LEADPIPE_QUARANTINE_BUCKET", &t.quarantine_bucket),
            var("LEADPIPE_QUARANTINE_PREFIX", &t.quarantine_prefix),
            var("LEADPIPE_ALERT_TOPIC_ARN", &t.topic_arn(&t.alerts_topic)),
            var("LEADPIPE_MAX_MAIL_BYTES", &s.pipeline.max_mail_bytes.to_string()),
            var("LEADPIPE_MAX_HTML_NODES", &s.pipeline.max_html_nodes.to_string()),
            var("LEADPIPE_SPAM", &s.pipeline.spam),
            var("LEADPIPE_MAILBOXES", &serde_json::to_string(&s.pipeline.mailboxes).unwrap_or_else(|_| "{}".into())),
        ]),
        "forward" => env.extend([
            var("LEADPIPE_KAFKA_BROKERS", &s.kafka_brokers),
            var("LEADPIPE_KAFKA_TOPIC", &s.pipeline.kafka_topic),
            var("LEADPIPE_KAFKA_MESSAGE_TIMEOUT_MS", &s.kafka_message_timeout_ms.to_string()),
            var("LEADPIPE_LEDGER_BUCKET", &t.archive_bucket),
            var("LEADPIPE_LEDGER_PREFIX", &t.ledger_prefix),
        ]),
        _ => env.push(var("LEADPIPE_ARCHIVE_BUCKET", &t.archive_bucket)),
    }
    env
}
