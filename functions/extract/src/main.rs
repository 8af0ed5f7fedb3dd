//! The extract function: SNS events carrying SES receipt notifications -> anonymized lead events on the leads
//! topic, or the raw mail in the quarantine. Clients, rules and the pseudonym key are loaded once at init; all
//! logic is in `leadpipe_shared::handlers::extract`.

use anyhow::{anyhow, Context};
use lambda_runtime::{service_fn, Diagnostic, Error, LambdaEvent};
use leadpipe_shared::adapters::aws::{sdk_config, AwsSettings};
use leadpipe_shared::adapters::s3::{s3_client_from, S3Reader, S3Store};
use leadpipe_shared::adapters::secrets::load_key_with;
use leadpipe_shared::adapters::sns::{sns_client, SnsTopic};
use leadpipe_shared::anonymize::Anonymizer;
use leadpipe_shared::handlers::env::{Env, ExtractEnv, RulesSource};
use leadpipe_shared::handlers::extract::{handle_event, load_rules, ExtractPorts, ExtractSummary};
use leadpipe_shared::handlers::metrics::{MetricSet, Unit};
use leadpipe_shared::handlers::{init_failure, log_line, work_budget};
use leadpipe_shared::pipeline::ExtractStep;
use serde_json::{json, Value};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

/// The deployed function name (`<stack>-extract`): the `function` field of log lines and metrics.
static FUNCTION: LazyLock<String> =
    LazyLock::new(|| std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "extract".into()));

/// Everything built once per execution environment.
struct Extract {
    step: ExtractStep,
    reader: S3Reader,
    leads: SnsTopic,
    quarantine: S3Store,
    alerts: Option<SnsTopic>,
    lead_alerts: Option<SnsTopic>,
    margin: Duration,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let extract = init().await.inspect_err(|e| {
        eprintln!("{}", log_line("error", &FUNCTION, "init failed", init_failure(format!("{e:#}"))))
    })?;
    release_freed_memory();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| extract.invoke(event))).await
}

async fn init() -> anyhow::Result<Extract> {
    // The scrubber's constant patterns compile on another thread while the key and the rules are fetched;
    // `Anonymizer::new` waits for whatever is not done yet.
    std::thread::spawn(Anonymizer::warm_up);
    let env = ExtractEnv::read(&Env::new(|k| std::env::var(k).ok()))?;
    let sdk = sdk_config(&AwsSettings::from_env()).await;
    let s3 = s3_client_from(&sdk);
    let sns = sns_client(&sdk);
    let reader = S3Reader::new(s3.clone());
    // The key and the rules come from two services: one round trip's wait instead of two. Rules from S3 are asked
    // for first, so that their parsing (~2.5 ms) tends to overlap the key's answer rather than follow it; a rules
    // file in the package is read after the key's request is out.
    let (rules, key) = (load_rules(&env.rules, &reader), load_key_with(&sdk, &env.key_secret));
    let (rules, key) = match env.rules {
        RulesSource::S3 { .. } => tokio::join!(rules, key),
        RulesSource::File(_) => {
            let (key, rules) = tokio::join!(key, rules);
            (rules, key)
        }
    };
    let (key, rules) = match (key, rules) {
        (Ok(key), Ok(rules)) => (key, rules),
        (Err(k), Err(r)) => return Err(anyhow!("{k}; and the rules: {r}")),
        (Err(k), _) => return Err(anyhow!(k)),
        (_, Err(r)) => return Err(anyhow!(r)),
    };
    let key = key.require_production().context("LEADPIPE_KEY_SECRET_ARN")?;
    let anonymizer = Anonymizer::new(key, rules.detector_config());
    let topic = |arn: &str| SnsTopic::new(sns.clone(), arn);
    Ok(Extract {
        step: ExtractStep { rules, anonymizer, settings: env.settings },
        reader,
        leads: topic(&env.leads_topic_arn),
        quarantine: S3Store::new(s3, &env.quarantine_bucket, &env.quarantine_prefix, None),
        alerts: env.alert_topic_arn.as_deref().map(topic),
        lead_alerts: env.lead_alert_topic_arn.as_deref().map(topic),
        margin: env.deadline_margin,
    })
}

/// Returns the heap pages init freed (regex compilation, the rules' text, TLS and SDK set-up: ~1.2 MiB) to the
/// kernel, so that they do not count against the function's memory for the rest of its life.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only walks glibc's own arenas; no Rust object is touched.
        unsafe { libc::malloc_trim(0) };
    }
}

impl Extract {
    async fn invoke(&self, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
        let started = Instant::now();
        let now = chrono::Utc::now();
        let budget = work_budget(event.context.deadline, now, self.margin);
        let ports = ExtractPorts {
            mail: &self.reader,
            leads: &self.leads,
            quarantine: &self.quarantine,
            alerts: self.alerts.as_ref(),
            lead_alerts: self.lead_alerts.as_ref(),
        };
        let request_id = event.context.request_id.clone();
        let result = tokio::time::timeout(budget, handle_event(&self.step, &ports, &event.payload, now)).await;
        match result {
            Ok(Ok(summary)) => {
                println!(
                    "{}",
                    log_line(
                        "info",
                        &FUNCTION,
                        "done",
                        json!({"request_id": request_id, "duration_ms": started.elapsed().as_millis() as u64,
                    "event_ids": summary.event_ids, "quarantine_ids": summary.quarantine_ids})
                    )
                );
                emit_metrics(&summary, started.elapsed(), now);
                Ok(json!({"mails": summary.mails, "leads": summary.leads, "quarantined": summary.quarantined,
                          "own_outputs_skipped": summary.own_outputs_skipped}))
            }
            Ok(Err(e)) => {
                eprintln!(
                    "{}",
                    log_line(
                        "error",
                        &FUNCTION,
                        "failed",
                        json!({"request_id": request_id, "duration_ms": started.elapsed().as_millis() as u64,
                    "error": e.to_string(), "retriable": e.retriable()})
                    )
                );
                println!(
                    "{}",
                    MetricSet::new(&FUNCTION, now)
                        .metric("failures", 1.0, Unit::Count)
                        .metric("invocation_duration", started.elapsed().as_secs_f64() * 1000.0, Unit::Milliseconds)
                        .to_emf()
                );
                Err(Diagnostic { error_type: e.kind().into(), error_message: e.to_string() })
            }
            Err(_) => {
                let message =
                    format!("stopped {} ms before the deadline; the event will be retried", self.margin.as_millis());
                eprintln!(
                    "{}",
                    log_line(
                        "error",
                        &FUNCTION,
                        &message,
                        json!({"request_id": request_id, "duration_ms": started.elapsed().as_millis() as u64})
                    )
                );
                Err(Diagnostic { error_type: "DeadlineNear".into(), error_message: message })
            }
        }
    }
}

fn emit_metrics(s: &ExtractSummary, elapsed: Duration, now: chrono::DateTime<chrono::Utc>) {
    let quarantined: u64 = s.quarantined.values().sum();
    println!(
        "{}",
        MetricSet::new(&FUNCTION, now)
            .metric("mails", s.mails as f64, Unit::Count)
            .metric("mail_bytes", s.bytes as f64, Unit::Bytes)
            .metric("leads", s.leads as f64, Unit::Count)
            .metric("quarantined", quarantined as f64, Unit::Count)
            .metric("pii_redactions", s.pii_redactions as f64, Unit::Count)
            .metric("own_outputs_skipped", s.own_outputs_skipped as f64, Unit::Count)
            .metric("invocation_duration", elapsed.as_secs_f64() * 1000.0, Unit::Milliseconds)
            .to_emf()
    );
    for (reason, n) in &s.quarantined {
        println!(
            "{}",
            MetricSet::new(&FUNCTION, now)
                .dimension("reason", reason)
                .metric("quarantined", *n as f64, Unit::Count)
                .to_emf()
        );
    }
}
