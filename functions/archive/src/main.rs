//! The archive function: SQS batches of lead events -> Parquet objects in S3 (one per `dt` day, deterministic
//! keys, SSE-KMS when configured); answers with the failed message ids only. Release builds keep
//! `panic = "unwind"`, so the encoder's panic on one record fails that record, not the batch.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use leadpipe_shared::adapters::aws::{sdk_config, AwsSettings};
use leadpipe_shared::adapters::clock::TokioDeadline;
use leadpipe_shared::adapters::s3::{s3_client_from, S3Store};
use leadpipe_shared::handlers::archive::{handle_batch, ArchiveSummary};
use leadpipe_shared::handlers::env::{ArchiveEnv, Env};
use leadpipe_shared::handlers::metrics::{MetricSet, Unit};
use leadpipe_shared::handlers::sqs::SqsMessage;
use leadpipe_shared::handlers::{init_failure, log_line, work_budget};
use serde_json::json;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

/// The deployed function name (`<stack>-archive`): the `function` field of log lines and metrics.
static FUNCTION: LazyLock<String> =
    LazyLock::new(|| std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "archive".into()));

/// Everything built once per execution environment.
struct Archive {
    store: S3Store,
    margin: Duration,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let archive = init().await.inspect_err(|e| {
        eprintln!("{}", log_line("error", &FUNCTION, "init failed", init_failure(format!("{e:#}"))))
    })?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| archive.invoke(event))).await
}

async fn init() -> anyhow::Result<Archive> {
    let env = ArchiveEnv::read(&Env::new(|k| std::env::var(k).ok()))?;
    let sdk = sdk_config(&AwsSettings::from_env()).await;
    Ok(Archive {
        store: S3Store::new(s3_client_from(&sdk), &env.bucket, &env.prefix, env.kms_key_id),
        margin: env.deadline_margin,
    })
}

impl Archive {
    async fn invoke(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
        let started = Instant::now();
        let now = chrono::Utc::now();
        let batch: Vec<SqsMessage> = event
            .payload
            .records
            .into_iter()
            .map(|r| SqsMessage { message_id: r.message_id.unwrap_or_default(), body: r.body.unwrap_or_default() })
            .collect();
        let deadline = TokioDeadline::after(work_budget(event.context.deadline, now, self.margin));
        let summary = handle_batch(&batch, &self.store, &deadline).await;
        report(&summary, batch.len(), started.elapsed(), now, &event.context.request_id);
        let mut r = SqsBatchResponse::default();
        r.batch_item_failures = summary
            .failures
            .message_ids
            .iter()
            .map(|id| {
                let mut f = BatchItemFailure::default();
                f.item_identifier = id.clone();
                f
            })
            .collect();
        Ok(r)
    }
}

fn report(s: &ArchiveSummary, batch: usize, elapsed: Duration, now: chrono::DateTime<chrono::Utc>, request_id: &str) {
    let level = if s.failures.message_ids.is_empty() { "info" } else { "warn" };
    let errors: Vec<_> = s.errors.iter().map(|(id, e)| json!({"message_id": id, "error": e})).collect();
    let objects: Vec<_> = s.objects.iter().map(|(k, rows)| json!({"key": k, "rows": rows})).collect();
    println!(
        "{}",
        log_line(
            level,
            &FUNCTION,
            "batch done",
            json!({"request_id": request_id, "batch": batch, "duration_ms": elapsed.as_millis() as u64,
            "objects": objects, "failed": s.failures.message_ids.len(), "errors": errors})
        )
    );
    println!(
        "{}",
        MetricSet::new(&FUNCTION, now)
            .metric("records", batch as f64, Unit::Count)
            .metric("rows", s.objects.iter().map(|(_, r)| *r).sum::<usize>() as f64, Unit::Count)
            .metric("objects", s.objects.len() as f64, Unit::Count)
            .metric("failed", s.failures.message_ids.len() as f64, Unit::Count)
            .metric("unencodable", s.unencodable as f64, Unit::Count)
            .metric("batch_duration", elapsed.as_secs_f64() * 1000.0, Unit::Milliseconds)
            .to_emf()
    );
}
