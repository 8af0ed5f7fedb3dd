//! `leadpipe local up|send|topology`: the local stack (see `crate::stack`).

use crate::stack::send::{self, SendSettings, StoreMode};
use crate::stack::topology::{Timings, Topology};
use crate::stack::up::{self, UpSettings};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use leadpipe_shared::config::PipelineConfig;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The local stack's commands.
#[derive(Subcommand)]
pub enum LocalCommand {
    /// Create the stack's topology on local services and run the three functions until interrupted.
    #[command(after_help = "Example (moto_server and tansu already running):\n  \
        cargo build --release -p leadpipe-extract -p leadpipe-forward -p leadpipe-archive\n  \
        leadpipe local up --aws-endpoint http://127.0.0.1:5055 --kafka-brokers 127.0.0.1:19092 --bin-dir target/release")]
    Up(UpArgs),
    /// Deliver .eml files to a running local stack as SES would, wait for every terminal state, print the report.
    #[command(after_help = "Example:\n  leadpipe local send --aws-endpoint http://127.0.0.1:5055 fixtures/emails\n\n\
        Exit status: 0 every mail reached a terminal state, 1 some did not before --timeout, 2 usage or setup error.")]
    Send(SendArgs),
    /// Print the stack's resource names (as the SAM template derives them) as JSON.
    Topology(StackArg),
}

/// The stack name.
#[derive(Args)]
pub struct StackArg {
    /// Stack name (every resource name derives from it, as in the template).
    #[arg(long, default_value = "leadpipe-local")]
    pub stack: String,
}

/// Arguments of `local up`.
#[derive(Args)]
pub struct UpArgs {
    #[command(flatten)]
    stack: StackArg,
    /// Local AWS endpoint (moto server).
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    aws_endpoint: String,
    /// Kafka bootstrap brokers.
    #[arg(long, env = "LEADPIPE_KAFKA_BROKERS")]
    kafka_brokers: String,
    /// Rules file uploaded to the configuration bucket.
    #[arg(long, default_value = "fixtures/rules/default.toml", env = "LEADPIPE_RULES")]
    rules: PathBuf,
    /// Pipeline settings file (topic, size limit, spam policy, mailboxes).
    #[arg(long, default_value = "fixtures/pipeline.toml")]
    config: PathBuf,
    /// Folder with the function binaries (`cargo build` output or cargo-lambda's `target/lambda`).
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// Folder for the functions' logs.
    #[arg(long, default_value = "leadpipe-local/logs")]
    logs: PathBuf,
    /// Visibility timeout of the consumer queues, seconds (the template: 6x the function timeout).
    #[arg(long, default_value_t = 4)]
    visibility_timeout: u64,
    /// Receives before a message moves to its DLQ.
    #[arg(long, default_value_t = 3)]
    max_receive_count: u32,
    /// Delay before each of extract's two retries, milliseconds (Lambda: about a minute).
    #[arg(long, default_value_t = 500)]
    retry_delay_ms: u64,
    /// Each function's timeout, seconds.
    #[arg(long, default_value_t = 30)]
    function_timeout: u64,
    /// Concurrent sandboxes of extract (Lambda runs asynchronous invocations in parallel).
    #[arg(long, default_value_t = 2)]
    extract_concurrency: usize,
    /// librdkafka's delivery timeout per record in forward, milliseconds.
    #[arg(long, default_value_t = 10_000)]
    kafka_message_timeout_ms: u64,
    /// AWS endpoint for one function instead of --aws-endpoint, as NAME=URL (e.g. through a fault proxy);
    /// repeatable. The harness itself keeps using --aws-endpoint.
    #[arg(long, value_parser = parse_function_endpoint)]
    function_endpoint: Vec<(String, String)>,
}

fn parse_function_endpoint(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((f @ ("extract" | "forward" | "archive"), url)) if !url.is_empty() => Ok((f.to_string(), url.to_string())),
        _ => Err(format!("{s:?} is not NAME=URL with NAME extract, forward or archive")),
    }
}

/// Arguments of `local send`.
#[derive(Args)]
pub struct SendArgs {
    /// .eml files or folders (searched recursively).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    stack: StackArg,
    /// Local AWS endpoint (moto server).
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    aws_endpoint: String,
    /// Inline in the notification, through the raw bucket, or by size (150 KB).
    #[arg(long, value_enum, default_value = "auto")]
    store: StoreMode,
    /// Seconds to wait for every mail's terminal state.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Also write the report (with every mail's state) as JSON to this file.
    #[arg(long)]
    report: Option<PathBuf>,
}

/// Runs a `local` command.
pub fn run(c: LocalCommand) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    match c {
        LocalCommand::Topology(a) => {
            let t = Topology::new(&a.stack, "123456789012", "us-east-1");
            println!("{}", serde_json::to_string_pretty(&t)?);
            Ok(ExitCode::SUCCESS)
        }
        LocalCommand::Up(a) => {
            let settings = UpSettings {
                endpoint: a.aws_endpoint,
                kafka_brokers: a.kafka_brokers,
                stack: a.stack.stack,
                pipeline: PipelineConfig::load(Some(&a.config))?,
                rules: a.rules,
                bin_dir: a.bin_dir,
                logs: a.logs,
                timings: Timings {
                    visibility_timeout: Duration::from_secs(a.visibility_timeout),
                    max_receive_count: a.max_receive_count,
                    retry_delay: Duration::from_millis(a.retry_delay_ms),
                    function_timeout: Duration::from_secs(a.function_timeout),
                    ..Timings::default()
                },
                function_endpoints: a.function_endpoint,
                kafka_message_timeout_ms: a.kafka_message_timeout_ms,
                extract_concurrency: a.extract_concurrency,
            };
            runtime.block_on(up::run(&settings, shutdown_signal()))?;
            Ok(ExitCode::SUCCESS)
        }
        LocalCommand::Send(a) => {
            let settings = SendSettings {
                endpoint: a.aws_endpoint,
                stack: a.stack.stack,
                paths: a.paths,
                store: a.store,
                timeout: Duration::from_secs(a.timeout),
            };
            let report = runtime.block_on(send::run(&settings))?;
            send::print(&report);
            if let Some(path) = &a.report {
                std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            Ok(if report.not_terminal.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
}
