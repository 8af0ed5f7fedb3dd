//! `leadpipe replay`: the whole pipeline in one process over .eml files and captured SES/SNS notifications:
//! extract -> fan-out -> forward (Kafka records) and archive (Parquet), with a run report.

use super::inputs;
use crate::local::{DirLedger, DirStore, JsonlProducer};
use crate::sinks::{AnyLedger, AnyProducer, AnyStore};
use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use leadpipe_shared::adapters::kafka::{KafkaProducer, KafkaSettings};
use leadpipe_shared::adapters::s3::{s3_client, S3Ledger, S3Settings, S3Store};
use leadpipe_shared::anonymize::Anonymizer;
use leadpipe_shared::config::PipelineConfig;
use leadpipe_shared::event::LeadEvent;
use leadpipe_shared::pipeline::ports::ObjectStore;
use leadpipe_shared::pipeline::{
    archive_batch, forward_batch, Delivery, ExtractOutput, ExtractStep, ForwardOutcome, QuarantineLayout,
    QuarantineRecord, RunReport,
};
use leadpipe_shared::ses::{notifications_in, MailContent};
use leadpipe_shared::RuleSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Messages per forward batch, as the SQS event source mapping delivers them by default; also replay's
/// unmarked window (a replay killed mid-run and repeated may produce one batch twice).
const FORWARD_BATCH: usize = 10;
/// Events per archive object batch.
const ARCHIVE_BATCH: usize = 500;

/// Arguments of `replay`.
#[derive(Args)]
#[command(after_help = "Example:\n  leadpipe replay fixtures/emails --out leadpipe-out\n\n\
    Output: kafka/<topic>.jsonl, archive/leads/dt=YYYY-MM-DD/*.parquet, quarantine/<reason>/<id>.eml+.json,\n\
    report.json. Replaying the same input into the same folder adds no duplicate records.\n\
    Exit status: 0 every mail reached a terminal state, 1 some input or step failed, 2 usage or setup error.")]
pub struct ReplayArgs {
    /// .eml files, SES/SNS notification .json files, or folders (searched recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The rules file.
    #[arg(long, default_value = "fixtures/rules/default.toml", env = "LEADPIPE_RULES")]
    pub rules: PathBuf,
    /// Output folder.
    #[arg(long, default_value = "leadpipe-out")]
    pub out: PathBuf,
    /// Pipeline settings file (topic, size limit, spam policy, mailboxes); `LEADPIPE_*` variables override it.
    /// Default: fixtures/pipeline.toml when present, else built-in defaults.
    #[arg(long, env = "LEADPIPE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Pseudonym key file; else LEADPIPE_KEY / LEADPIPE_KEY_FILE; else a development key under --out.
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// Read the pseudonym key from this AWS Secrets Manager secret (name or ARN), e.g. to replay with the
    /// production key; `--secrets-endpoint` overrides the endpoint.
    #[arg(long, conflicts_with = "key_file")]
    pub key_secret: Option<String>,
    /// Secrets Manager endpoint override (a local moto server).
    #[arg(long, env = "AWS_ENDPOINT_URL_SECRETS_MANAGER")]
    pub secrets_endpoint: Option<String>,
    /// Produce to this Kafka cluster (`host:port,...`) instead of `kafka/<topic>.jsonl`.
    #[arg(long, env = "LEADPIPE_KAFKA_BROKERS")]
    pub kafka_brokers: Option<String>,
    /// Store the archive (`leads/...`), the delivery ledger (`ledger/...`) and the quarantine (`quarantine/...`)
    /// in this S3 bucket instead of local folders.
    #[arg(long)]
    pub s3_bucket: Option<String>,
    /// S3 endpoint override (e.g. a local moto server); credentials come from the usual AWS variables.
    #[arg(long, env = "AWS_ENDPOINT_URL_S3")]
    pub s3_endpoint: Option<String>,
    /// No progress bar; only the summary.
    #[arg(long, short)]
    pub quiet: bool,
}

/// One input mail: its bytes and delivery facts.
struct Input {
    name: String,
    raw: Vec<u8>,
    delivery: Delivery,
}

/// Runs `replay`.
pub fn run(args: &ReplayArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let default_config = Path::new("fixtures/pipeline.toml");
    let config_file = args.config.as_deref().or(default_config.is_file().then_some(default_config));
    let config = PipelineConfig::load(config_file)?;
    let rules = RuleSet::load(&args.rules).map_err(|e| anyhow::anyhow!("{e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let key = match &args.key_secret {
        Some(secret) => runtime
            .block_on(leadpipe_shared::adapters::secrets::load_key(secret, args.secrets_endpoint.as_deref()))
            .map_err(anyhow::Error::msg)?,
        None => super::key::for_replay(args.key_file.as_deref(), &args.out)?,
    };
    let anonymizer = Anonymizer::new(key, rules.detector_config());
    let step = ExtractStep { rules, anonymizer, settings: config.extract_settings() };
    let mut report = RunReport::default();
    let inputs = read_inputs(&args.paths, &mut report)?;

    let bar = progress(inputs.len() as u64, args.quiet);
    let mut events: Vec<LeadEvent> = Vec::new();
    let mut quarantined: Vec<(&Input, QuarantineRecord)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for input in &inputs {
        report.mails_read += 1;
        match step.process(&input.raw, &input.delivery, chrono::Utc::now()) {
            ExtractOutput::Leads(leads) => {
                for e in leads {
                    report.leads_extracted += 1;
                    if seen.insert((e.event_id.clone(), e.revision.clone())) {
                        *report.per_rule.entry(e.rule_id.clone()).or_default() += 1;
                    } else {
                        report.duplicate_leads += 1;
                    }
                    events.push(e);
                }
            }
            ExtractOutput::Quarantined(q) => {
                *report.quarantined.entry(q.reason.clone()).or_default() += 1;
                quarantined.push((input, *q));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();

    // Fan-out: every event goes to both consumers, each in its own batches.
    runtime.block_on(async {
        let sinks = Sinks::open(args, &config.kafka_topic).await?;
        store_quarantine(&quarantined, &sinks, &mut report).await;
        fan_out(&events, sinks, &mut report).await;
        anyhow::Ok(())
    })?;

    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report.mails_per_second = report.mails_read as f64 / started.elapsed().as_secs_f64().max(1e-9);
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let report_path = args.out.join("report.json");
    std::fs::write(&report_path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("cannot write {}", report_path.display()))?;
    print_summary(&report, &args.out);
    Ok(if report.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The sinks of one replay: local folders under `--out`, or Kafka / S3 when given.
struct Sinks {
    producer: AnyProducer,
    ledger: AnyLedger,
    archive: AnyStore,
    quarantine: AnyStore,
    quarantine_layout: QuarantineLayout,
}

impl Sinks {
    async fn open(args: &ReplayArgs, topic: &str) -> Result<Self> {
        let producer = match &args.kafka_brokers {
            Some(brokers) => {
                let settings = KafkaSettings::new(brokers, topic);
                AnyProducer::Kafka(Box::new(KafkaProducer::new(&settings).map_err(anyhow::Error::msg)?))
            }
            None => AnyProducer::Local(JsonlProducer::new(&args.out, topic)?),
        };
        let (ledger, archive, quarantine, quarantine_layout) = match &args.s3_bucket {
            Some(bucket) => {
                let client = s3_client(&S3Settings { endpoint: args.s3_endpoint.clone(), region: None }).await;
                (
                    AnyLedger::S3(S3Ledger::new(client.clone(), bucket, "ledger/")),
                    AnyStore::S3(S3Store::new(client.clone(), bucket, "", None)),
                    AnyStore::S3(S3Store::new(client, bucket, "quarantine/", None)),
                    QuarantineLayout::Bucket,
                )
            }
            None => (
                AnyLedger::Local(DirLedger::new(&args.out)?),
                AnyStore::Local(DirStore::new(args.out.join("archive"))),
                AnyStore::Local(DirStore::new(args.out.join("quarantine"))),
                QuarantineLayout::Folder,
            ),
        };
        Ok(Self { producer, ledger, archive, quarantine, quarantine_layout })
    }
}

/// Stores each quarantined mail and its metadata.
async fn store_quarantine(items: &[(&Input, QuarantineRecord)], sinks: &Sinks, report: &mut RunReport) {
    for (input, record) in items {
        for (key, bytes) in record.objects(&input.raw, sinks.quarantine_layout) {
            if let Err(e) = sinks.quarantine.put(&key, bytes).await {
                report.error(&input.name, e.to_string());
                break;
            }
        }
    }
}

/// Delivers every event to the forward and the archive consumer, in the batch sizes the functions see.
async fn fan_out(events: &[LeadEvent], mut sinks: Sinks, report: &mut RunReport) {
    for batch in events.chunks(FORWARD_BATCH) {
        for (e, outcome) in
            batch.iter().zip(forward_batch(batch, &mut sinks.producer, &sinks.ledger, FORWARD_BATCH).await)
        {
            match outcome {
                ForwardOutcome::Delivered => report.leads_delivered += 1,
                ForwardOutcome::AlreadyDelivered => report.leads_already_delivered += 1,
                ForwardOutcome::DeliveredUnmarked(err) => {
                    report.leads_delivered += 1;
                    report.error(format!("ledger {}", e.event_id), format!("delivered, but not marked: {err}"));
                }
                ForwardOutcome::Failed(err) => report.error(format!("forward {}", e.event_id), err.to_string()),
            }
        }
    }
    for batch in events.chunks(ARCHIVE_BATCH) {
        match archive_batch(batch, &sinks.archive).await {
            Ok(objects) => {
                report.archive_objects += objects.len() as u64;
                report.archive_rows += objects.iter().map(|(_, rows)| *rows as u64).sum::<u64>();
            }
            Err(err) => report.error("archive", err.to_string()),
        }
    }
}

fn progress(len: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} mails {per_sec} eta {eta}") {
        bar.set_style(style);
    }
    bar
}

/// Reads .eml files as they are and SES/SNS notification .json files as the mails they carry.
fn read_inputs(paths: &[PathBuf], report: &mut RunReport) -> Result<Vec<Input>> {
    let mut out = Vec::new();
    for file in inputs::collect_with(paths, &["eml", "json"])? {
        let name = file.path.display().to_string();
        let bytes = match std::fs::read(&file.path) {
            Ok(b) => b,
            Err(e) => {
                report.mails_read += 1;
                report.error(&name, format!("cannot read: {e}"));
                continue;
            }
        };
        if !is_json(&file.path) {
            out.push(Input { name, raw: bytes, delivery: Delivery::default() });
            continue;
        }
        match notifications_in(&String::from_utf8_lossy(&bytes)) {
            Ok(notes) => {
                for (i, n) in notes.into_iter().enumerate() {
                    let label = format!("{name}#{i}");
                    let delivery = Delivery {
                        ses_message_id: n.message_id.clone(),
                        received_at: n.timestamp,
                        recipients: n.recipients.clone(),
                        verdicts: Some(n.verdicts.clone()),
                    };
                    match n.content {
                        MailContent::Inline(raw) => out.push(Input { name: label, raw, delivery }),
                        MailContent::S3 { bucket, key } => {
                            report.mails_read += 1;
                            report.error(
                                label,
                                format!(
                                    "mail is stored in s3://{bucket}/{key}; the local replay reads inline content only"
                                ),
                            );
                        }
                        MailContent::Missing => {
                            report.mails_read += 1;
                            report.error(label, "notification has neither content nor an S3 location");
                        }
                    }
                }
            }
            Err(e) => {
                report.mails_read += 1;
                report.error(&name, format!("not an SES notification: {e}"));
            }
        }
    }
    Ok(out)
}

fn is_json(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

fn print_summary(r: &RunReport, out: &Path) {
    println!(
        "leadpipe replay: {} mails in {:.2}s ({:.0} mails/s)",
        r.mails_read,
        r.elapsed_ms as f64 / 1000.0,
        r.mails_per_second
    );
    println!("  leads extracted      {:>6}  (duplicates of another input: {})", r.leads_extracted, r.duplicate_leads);
    println!(
        "  delivered to Kafka   {:>6}  (already delivered before: {})",
        r.leads_delivered, r.leads_already_delivered
    );
    println!("  archived rows        {:>6}  in {} Parquet objects", r.archive_rows, r.archive_objects);
    println!("  quarantined          {:>6}", r.quarantined_total());
    for (reason, n) in &r.quarantined {
        println!("    {reason:<36} {n:>4}");
    }
    println!("  unique leads per rule:");
    for (rule, n) in &r.per_rule {
        println!("    {rule:<36} {n:>4}");
    }
    println!("  errors               {:>6}", r.errors.len());
    for e in &r.errors {
        println!("    {}: {}", e.input, e.error);
    }
    println!("Report in {}/report.json", out.display());
}
