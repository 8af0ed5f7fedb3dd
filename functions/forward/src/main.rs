//! The forward function: SQS batches of lead events (from the leads topic) -> Kafka, with an idempotent
//! producer created once at init and the S3 delivery ledger; answers with the failed message ids only.

use anyhow::anyhow;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use leadpipe_shared::adapters::aws::{sdk_config, AwsSettings};
use leadpipe_shared::adapters::clock::TokioDeadline;
use leadpipe_shared::adapters::kafka::KafkaProducer;
use leadpipe_shared::adapters::s3::{s3_client_from, S3Ledger};
use leadpipe_shared::adapters::secrets::load_kafka_credentials;
use leadpipe_shared::handlers::env::{Env, ForwardEnv};
use leadpipe_shared::handlers::forward::{handle_batch, ForwardSummary};
use leadpipe_shared::handlers::metrics::{MetricSet, Unit};
use leadpipe_shared::handlers::sqs::SqsMessage;
use leadpipe_shared::handlers::{init_failure, log_line, work_budget};
use serde_json::json;
use std::sync::LazyLock;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The deployed function name (`<stack>-forward`): the `function` field of log lines and metrics.
static FUNCTION: LazyLock<String> =
    LazyLock::new(|| std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "forward".into()));

/// Everything built once per execution environment.
struct Forward {
    producer: Mutex<KafkaProducer>,
    ledger: S3Ledger,
    unmarked_window: usize,
    margin: Duration,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let forward = init().await.inspect_err(|e| {
        eprintln!("{}", log_line("error", &FUNCTION, "init failed", init_failure(format!("{e:#}"))))
    })?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| forward.invoke(event))).await
}

async fn init() -> anyhow::Result<Forward> {
    let env = ForwardEnv::read(&Env::new(|k| std::env::var(k).ok()))?;
    let sdk = sdk_config(&AwsSettings::from_env()).await;
    let mut kafka = env.kafka.clone();
    if let Some(arn) = &env.kafka_secret_arn {
        let c = load_kafka_credentials(&sdk, arn).await.map_err(|e| anyhow!(e))?;
        kafka.username = Some(c.username);
        kafka.password = Some(c.password);
    }
    let producer = KafkaProducer::new(&kafka).map_err(|e| anyhow!("LEADPIPE_KAFKA_*: {e}"))?;
    Ok(Forward {
        producer: Mutex::new(producer),
        ledger: S3Ledger::new(s3_client_from(&sdk), &env.ledger_bucket, &env.ledger_prefix),
        unmarked_window: env.unmarked_window,
        margin: env.deadline_margin,
    })
}

impl Forward {
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
        let mut producer = self.producer.lock().await;
        let summary = handle_batch(&batch, &mut *producer, &self.ledger, self.unmarked_window, &deadline).await;
        report(&summary, batch.len(), started.elapsed(), now, &event.context.request_id);
        Ok(response(&summary.failures.message_ids))
    }
}

fn response(failed: &[String]) -> SqsBatchResponse {
    let mut r = SqsBatchResponse::default();
    r.batch_item_failures = failed
        .iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id.clone();
            f
        })
        .collect();
    r
}

fn report(s: &ForwardSummary, batch: usize, elapsed: Duration, now: chrono::DateTime<chrono::Utc>, request_id: &str) {
    let level = if s.failures.message_ids.is_empty() { "info" } else { "warn" };
    let errors: Vec<_> = s.errors.iter().map(|(id, e)| json!({"message_id": id, "error": e})).collect();
    println!(
        "{}",
        log_line(
            level,
            &FUNCTION,
            "batch done",
            json!({"request_id": request_id, "batch": batch, "duration_ms": elapsed.as_millis() as u64,
            "failed": s.failures.message_ids.len(), "errors": errors})
        )
    );
    println!(
        "{}",
        MetricSet::new(&FUNCTION, now)
            .metric("records", batch as f64, Unit::Count)
            .metric("delivered", s.delivered as f64, Unit::Count)
            .metric("already_delivered", s.already_delivered as f64, Unit::Count)
            .metric("failed", s.failures.message_ids.len() as f64, Unit::Count)
            .metric("unreadable", s.unreadable as f64, Unit::Count)
            .metric("ledger_unmarked", s.unmarked as f64, Unit::Count)
            .metric("kafka_batch_latency", elapsed.as_secs_f64() * 1000.0, Unit::Milliseconds)
            .to_emf()
    );
}
