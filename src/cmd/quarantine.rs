//! `leadpipe quarantine list|reprocess`: what is in the quarantine bucket and why, and the current rules run
//! over it so what now matches enters the pipeline (see `crate::quarantine`). Works on AWS and on the local stack
//! (`--aws-endpoint`); names derive from `--stack` as the template derives them, or are given one by one.

use crate::quarantine::bucket::QuarantineBucket;
use crate::quarantine::reprocess::{self, Outputs, ReprocessReport};
use crate::stack::clients::Clients;
use crate::stack::topology::Topology;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use leadpipe_shared::adapters::aws::{sdk_config, AwsSettings};
use leadpipe_shared::adapters::s3::S3Reader;
use leadpipe_shared::adapters::secrets::load_key_with;
use leadpipe_shared::adapters::sns::SnsTopic;
use leadpipe_shared::anonymize::Anonymizer;
use leadpipe_shared::config::PipelineConfig;
use leadpipe_shared::handlers::env::{parse_s3_uri, RulesSource};
use leadpipe_shared::handlers::extract::load_rules;
use leadpipe_shared::pipeline::{ExtractStep, Selection};
use std::path::PathBuf;
use std::process::ExitCode;

/// Quarantine commands.
#[derive(Subcommand)]
pub enum QuarantineCommand {
    /// List quarantined mail (id, reason, rule, received, sender domain, scrubbed subject), oldest first.
    #[command(after_help = "Examples:\n  leadpipe quarantine list --stack leadpipe-prod --account 123456789012\n  \
        leadpipe quarantine list --bucket my-quarantine-bucket --reason no_rule_matched")]
    List(Target),
    /// Run the current rules over quarantined mail: what now yields leads is published to the leads topic and
    /// leaves the quarantine; what fails for another reason is filed under it; the rest stays.
    #[command(after_help = "Example:\n  leadpipe quarantine reprocess --stack leadpipe-prod --account 123456789012 \
        --reason no_rule_matched\n\n\
        Defaults with --stack: the rules s3://<config bucket>/rules/rules.toml, the key secret <stack>/pseudonym-key,\n\
        the topic <stack>-leads. Mail SES flagged as a virus is never reprocessed; spam only with --reason spam.\n\
        Each entry: leads published first, then an audit line under reprocessed/, then the mail and its metadata\n\
        removed. A run stopped in between is safe to repeat: event ids are deterministic, so downstream keeps one\n\
        record per lead. Exit status: 0 done, 1 some entries failed (left as they were), 2 usage or setup error.")]
    Reprocess(ReprocessArgs),
}

/// Which quarantine, where, and which entries.
#[derive(Args)]
pub struct Target {
    /// Stack name: resource names derive from it (with --account and --region) as in the template.
    #[arg(long, required_unless_present = "bucket")]
    stack: Option<String>,
    /// Account id in the stack's bucket names (the local stack's is moto's default).
    #[arg(long, default_value = "123456789012")]
    account: String,
    /// Region.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
    /// Quarantine bucket (instead of the stack's).
    #[arg(long)]
    bucket: Option<String>,
    /// Key prefix of quarantined mail in the bucket.
    #[arg(long, default_value = "quarantine/")]
    prefix: String,
    /// AWS endpoint override (the local stack's moto server).
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    aws_endpoint: Option<String>,
    /// Only entries with this reason kind (`no_rule_matched`) or full reason (`missing_required:email`);
    /// repeatable.
    #[arg(long = "reason")]
    reasons: Vec<String>,
    /// Only the entry with this quarantine id (`q1_...`); repeatable.
    #[arg(long = "id")]
    ids: Vec<String>,
}

/// Arguments of `quarantine reprocess`.
#[derive(Args)]
pub struct ReprocessArgs {
    #[command(flatten)]
    target: Target,
    /// The current rules: a file or s3://bucket/key (default with --stack: the stack's configuration bucket).
    #[arg(long)]
    rules: Option<String>,
    /// Pipeline settings file (size limit, spam policy, mailboxes), as the extract function is configured.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Secrets Manager id of the pseudonym key (default with --stack: <stack>/pseudonym-key); pseudonyms must
    /// match the ones the pipeline made.
    #[arg(long)]
    key_secret: Option<String>,
    /// Leads topic ARN (default with --stack: the stack's).
    #[arg(long)]
    leads_topic: Option<String>,
    /// The business's new-lead alert topic ARN (the stack's `LeadAlertTopicArn`), to alert reprocessed leads as
    /// extract alerts new ones.
    #[arg(long)]
    lead_alert_topic: Option<String>,
    /// Decide and print, change nothing.
    #[arg(long)]
    dry_run: bool,
}

impl Target {
    fn topology(&self) -> Option<Topology> {
        self.stack.as_deref().map(|s| Topology::new(s, &self.account, &self.region))
    }

    fn selection(&self) -> Result<Selection> {
        let s = Selection { reasons: self.reasons.clone(), ids: self.ids.clone() };
        s.validate().map_err(anyhow::Error::msg)?;
        Ok(s)
    }

    async fn open(&self) -> Result<(Clients, QuarantineBucket)> {
        let clients = Clients::connect(self.aws_endpoint.as_deref(), &self.region).await;
        let name = match (&self.bucket, self.topology()) {
            (Some(b), _) => b.clone(),
            (None, Some(t)) => t.quarantine_bucket,
            (None, None) => bail!("name the quarantine with --stack or --bucket"),
        };
        let bucket = QuarantineBucket::new(clients.s3.clone(), &name, &self.prefix);
        Ok((clients, bucket))
    }
}

/// Runs a `quarantine` command.
pub fn run(c: QuarantineCommand) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        match c {
            QuarantineCommand::List(t) => list(&t).await,
            QuarantineCommand::Reprocess(a) => reprocess_cmd(&a).await,
        }
    })
}

async fn list(t: &Target) -> Result<ExitCode> {
    let selection = Selection { reasons: t.reasons.clone(), ids: t.ids.clone() };
    let (_, bucket) = t.open().await?;
    let (entries, unreadable) = bucket.entries(&t.ids).await?;
    let shown: Vec<_> = entries.iter().filter(|e| selection.matches(&e.record)).collect();
    println!("{} of {} quarantined mail(s) in s3://{}/{}", shown.len(), entries.len(), bucket.bucket, bucket.prefix);
    for e in shown {
        let r = &e.record;
        println!(
            "{}  {}  {:<28}  rule {:<24}  from {:<24}  {} bytes  {}",
            r.quarantine_id,
            r.received_at,
            r.reason,
            r.rule_id.as_deref().unwrap_or("-"),
            r.sender_domain.as_deref().unwrap_or("-"),
            r.size_bytes,
            r.subject.as_deref().unwrap_or("")
        );
    }
    for u in &unreadable {
        println!("unreadable metadata s3://{}/{}: {}", bucket.bucket, u.key, u.error);
    }
    Ok(ExitCode::SUCCESS)
}

async fn reprocess_cmd(a: &ReprocessArgs) -> Result<ExitCode> {
    let selection = a.target.selection()?;
    let topology = a.target.topology();
    let (_, bucket) = a.target.open().await?;
    let sdk =
        sdk_config(&AwsSettings { endpoint: a.target.aws_endpoint.clone(), region: Some(a.target.region.clone()) })
            .await;
    let step = step(a, topology.as_ref(), &sdk).await?;
    let topic_arn = match (&a.leads_topic, &topology) {
        (Some(arn), _) => arn.clone(),
        (None, Some(t)) => t.topic_arn(&t.leads_topic),
        (None, None) => bail!("name the leads topic with --leads-topic ARN (or use --stack)"),
    };
    let sns = aws_sdk_sns::Client::new(&sdk);
    let leads = SnsTopic::new(sns.clone(), &topic_arn);
    let lead_alerts = a.lead_alert_topic.as_deref().map(|arn| SnsTopic::new(sns.clone(), arn));
    let out = Outputs { leads: &leads, lead_alerts: lead_alerts.as_ref() };
    let (entries, unreadable) = bucket.entries(&a.target.ids).await?;
    for u in &unreadable {
        eprintln!("skipped unreadable metadata s3://{}/{}: {}", bucket.bucket, u.key, u.error);
    }
    let report = reprocess::run(&bucket, &entries, &selection, &step, &out, a.dry_run).await?;
    print_report(&report, entries.len(), a.dry_run);
    Ok(if report.failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The extract step as the deployed function builds it: the current rules, the pipeline's key and settings.
async fn step(a: &ReprocessArgs, topology: Option<&Topology>, sdk: &aws_config::SdkConfig) -> Result<ExtractStep> {
    let rules_source = match (&a.rules, topology) {
        (Some(r), _) => match parse_s3_uri(r) {
            Some((bucket, key)) => RulesSource::S3 { bucket, key },
            None => RulesSource::File(PathBuf::from(r)),
        },
        (None, Some(t)) => RulesSource::S3 { bucket: t.config_bucket.clone(), key: t.rules_key.clone() },
        (None, None) => bail!("name the current rules with --rules FILE|s3://bucket/key (or use --stack)"),
    };
    let reader = S3Reader::new(leadpipe_shared::adapters::s3::s3_client_from(sdk));
    let rules = load_rules(&rules_source, &reader).await.map_err(anyhow::Error::msg)?;
    let key = match (&a.key_secret, topology) {
        (Some(id), _) => load_key_with(sdk, id).await.map_err(anyhow::Error::msg)?,
        (None, Some(t)) => load_key_with(sdk, &t.key_secret).await.map_err(anyhow::Error::msg)?,
        (None, None) => super::key::require(None)?,
    };
    let config = PipelineConfig::load(a.config.as_deref()).context("pipeline settings")?;
    let anonymizer = Anonymizer::new(key, rules.detector_config());
    Ok(ExtractStep { rules, anonymizer, settings: config.extract_settings() })
}

fn print_report(r: &ReprocessReport, total: usize, dry_run: bool) {
    let verb = if dry_run { "would be" } else { "were" };
    println!("\nreprocessed {} of {total} quarantined mail(s){}", r.selected, if dry_run { " (dry run)" } else { "" });
    println!("  now leads ({verb} published)   {:>6}  ({} events)", r.to_leads, r.events);
    for (reason, n) in &r.requarantined {
        println!("  quarantined again: {reason:<18} {n:>6}");
    }
    println!("  unchanged                      {:>6}", r.unchanged);
    if r.completed_interrupted > 0 {
        println!("  interrupted entries completed  {:>6}", r.completed_interrupted);
    }
    println!("  failed (left as they were)     {:>6}", r.failed.len());
}
