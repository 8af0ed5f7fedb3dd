//! `leadpipe local send`: delivers .eml files to the local stack the way SES does - small mails inline in the
//! notification (SNS action), large ones stored in the raw bucket (S3 action) - and waits until every mail is in
//! a terminal state, then prints the run report.

use super::clients::{sdk_err, Clients};
use super::observe::{MailState, Observer};
use super::provision::hex;
use super::topology::Topology;
use crate::cmd::inputs;
use anyhow::{Context, Result};
use data_encoding::BASE64;
use leadpipe_shared::email::{AuthVerdicts, Verdict};
use leadpipe_shared::{Email, ParseLimits};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// SES's SNS action embeds mails up to this size; larger ones need the S3 action.
pub const SNS_ACTION_LIMIT: usize = 150 * 1024;

/// While sending, how often the observer queue is read.
const OBSERVER_DRAIN_EVERY: Duration = Duration::from_secs(1);

/// How mails reach the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreMode {
    /// Inline up to 150 KB, S3 above (what a receipt rule with both actions does).
    Auto,
    /// Always inline (mails over 150 KB are refused, as SES would bounce them from an SNS action).
    Inline,
    /// Always through the raw bucket.
    S3,
}

/// What `send` needs.
pub struct SendSettings {
    /// Local AWS endpoint.
    pub endpoint: String,
    /// Stack name.
    pub stack: String,
    /// .eml files or folders.
    pub paths: Vec<PathBuf>,
    /// Inline or S3.
    pub store: StoreMode,
    /// How long to wait for every mail to reach a terminal state.
    pub timeout: Duration,
}

/// The run report of a `send`.
#[derive(Debug, Default, Serialize)]
pub struct SendReport {
    /// Mails published to the inbound topic.
    pub mails_sent: u64,
    /// ... inline in the notification.
    pub sent_inline: u64,
    /// ... stored in the raw bucket.
    pub sent_s3: u64,
    /// Mails whose leads reached Kafka and the archive.
    pub mails_with_leads: u64,
    /// Lead events delivered to Kafka (ledger).
    pub leads_delivered: u64,
    /// Lead events archived.
    pub leads_archived: u64,
    /// Lead events in the forward DLQ.
    pub leads_in_kafka_dlq: u64,
    /// Lead events in the archive DLQ.
    pub leads_in_archive_dlq: u64,
    /// Quarantined mails by reason.
    pub quarantined: BTreeMap<String, u64>,
    /// Mails whose extract invocation ended in the on-failure destination.
    pub extract_failed: u64,
    /// Mails with no terminal state when the wait ended (lost).
    pub not_terminal: Vec<String>,
    /// Per mail: input, SES message id, how it was sent, its state.
    pub mails: Vec<MailReport>,
    /// Wall time from the first publish to the last terminal state.
    pub elapsed_ms: u64,
    /// Mails per second over that time.
    pub mails_per_second: f64,
}

/// One mail's journey.
#[derive(Debug, Serialize)]
pub struct MailReport {
    /// The input file.
    pub input: String,
    /// The SES message id `send` gave it.
    pub ses_message_id: String,
    /// `inline` or `s3`.
    pub sent: &'static str,
    /// `leads`, `quarantined`, `extract_failed` or `lost`.
    pub state: &'static str,
    /// Its lead event ids.
    pub event_ids: Vec<String>,
    /// The quarantine reason.
    pub reason: Option<String>,
}

/// Sends the mails and waits for their terminal states.
pub async fn run(s: &SendSettings) -> Result<SendReport> {
    let t = Topology::new(&s.stack, "123456789012", "us-east-1");
    let clients = Clients::new(&s.endpoint, &t.region).await;
    let mut observer = Observer::new(clients.clone(), t.clone()).await.context("is `leadpipe local up` running?")?;
    let files = inputs::collect_with(&s.paths, &["eml"])?;
    let started = Instant::now();
    let mut sent = Vec::new();
    let mut report = SendReport::default();
    let mut drained = Instant::now();
    for file in files {
        // The observer queue receives every lead event; read it as we go, or its growing backlog slows the local
        // SQS for the whole stack.
        if drained.elapsed() >= OBSERVER_DRAIN_EVERY {
            observer.drain_leads().await?;
            drained = Instant::now();
        }
        let raw = std::fs::read(&file.path).with_context(|| format!("cannot read {}", file.path.display()))?;
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
        let ses_id = format!("local{}", hex(&id));
        let inline = match s.store {
            StoreMode::Auto => raw.len() <= SNS_ACTION_LIMIT,
            StoreMode::Inline => {
                anyhow::ensure!(
                    raw.len() <= SNS_ACTION_LIMIT,
                    "{} is {} bytes, over the SNS action's 150 KB",
                    file.path.display(),
                    raw.len()
                );
                true
            }
            StoreMode::S3 => false,
        };
        let action = if inline {
            json!({"type": "SNS", "topicArn": t.topic_arn(&t.inbound_topic), "encoding": "BASE64"})
        } else {
            let key = format!("inbound/{ses_id}");
            clients
                .s3
                .put_object()
                .bucket(&t.raw_bucket)
                .key(&key)
                .body(raw.clone().into())
                .send()
                .await
                .map_err(|e| sdk_err("store raw mail", e))?;
            json!({"type": "S3", "topicArn": t.topic_arn(&t.inbound_topic), "bucketName": t.raw_bucket, "objectKey": key})
        };
        let mut notification = ses_notification(&raw, &ses_id, action);
        if inline {
            notification["content"] = Value::String(BASE64.encode(&raw));
        }
        clients
            .sns
            .publish()
            .topic_arn(t.topic_arn(&t.inbound_topic))
            .message(notification.to_string())
            .send()
            .await
            .map_err(|e| sdk_err("publish to the inbound topic", e))?;
        report.mails_sent += 1;
        if inline {
            report.sent_inline += 1;
        } else {
            report.sent_s3 += 1;
        }
        sent.push((file.path.display().to_string(), ses_id, if inline { "inline" } else { "s3" }));
    }
    let deadline = Instant::now() + s.timeout;
    loop {
        observer.poll().await?;
        let open = sent.iter().filter(|(_, id, _)| observer.state(id).is_none()).count();
        if open == 0 || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report.mails_per_second = report.mails_sent as f64 / started.elapsed().as_secs_f64().max(1e-9);
    for (input, ses_id, how) in sent {
        let state = observer.state(&ses_id);
        let mut mail =
            MailReport { input, ses_message_id: ses_id, sent: how, state: "lost", event_ids: vec![], reason: None };
        match state {
            Some(MailState::Leads(ids)) => {
                report.mails_with_leads += 1;
                for id in &ids {
                    report.leads_in_kafka_dlq += u64::from(observer.kafka_dlq.contains(id));
                    report.leads_in_archive_dlq += u64::from(observer.archive_dlq.contains(id));
                    report.leads_archived += u64::from(observer.archived.contains(id));
                    report.leads_delivered += u64::from(observer.delivered.iter().any(|(e, _)| e == id));
                }
                mail.state = "leads";
                mail.event_ids = ids;
            }
            Some(MailState::Quarantined(reason)) => {
                *report.quarantined.entry(reason.clone()).or_default() += 1;
                mail.state = "quarantined";
                mail.reason = Some(reason);
            }
            Some(MailState::ExtractFailed) => {
                report.extract_failed += 1;
                mail.state = "extract_failed";
            }
            None => report.not_terminal.push(mail.input.clone()),
        }
        report.mails.push(mail);
    }
    Ok(report)
}

/// An SES receipt notification for `raw`, with the verdicts SES would give it (DKIM/SPF from the mail's own
/// `Authentication-Results`, spam and virus PASS) and, as real notifications often do, no `dmarcVerdict`.
fn ses_notification(raw: &[u8], ses_id: &str, action: Value) -> Value {
    let email = Email::parse(raw, &ParseLimits::default()).ok();
    let recipients: Vec<String> =
        email.as_ref().map(|e| e.to.iter().map(|m| m.address.to_lowercase()).collect()).unwrap_or_default();
    let auth = email.as_ref().map(AuthVerdicts::from_headers).unwrap_or_default();
    let status = |v: &[(Verdict, Option<String>)]| {
        if v.iter().any(|(x, _)| *x == Verdict::Pass) {
            "PASS"
        } else if v.is_empty() {
            "GRAY"
        } else {
            "FAIL"
        }
    };
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let source = email.as_ref().and_then(|e| e.from.as_ref()).map(|m| m.address.clone()).unwrap_or_default();
    json!({
        "notificationType": "Received",
        "mail": {"timestamp": now, "source": source, "messageId": ses_id, "destination": recipients},
        "receipt": {
            "timestamp": now, "processingTimeMillis": 1, "recipients": recipients,
            "spamVerdict": {"status": "PASS"}, "virusVerdict": {"status": "PASS"},
            "spfVerdict": {"status": status(&auth.spf)}, "dkimVerdict": {"status": status(&auth.dkim)},
            "action": action,
        },
    })
}

/// Prints the report like the replay's summary.
pub fn print(r: &SendReport) {
    println!(
        "leadpipe local send: {} mails ({} inline, {} via S3) in {:.2}s ({:.0} mails/s)",
        r.mails_sent,
        r.sent_inline,
        r.sent_s3,
        r.elapsed_ms as f64 / 1000.0,
        r.mails_per_second
    );
    println!("  mails with leads     {:>6}", r.mails_with_leads);
    println!("  delivered to Kafka   {:>6}  (in the forward DLQ: {})", r.leads_delivered, r.leads_in_kafka_dlq);
    println!("  archived             {:>6}  (in the archive DLQ: {})", r.leads_archived, r.leads_in_archive_dlq);
    println!("  quarantined          {:>6}", r.quarantined.values().sum::<u64>());
    for (reason, n) in &r.quarantined {
        println!("    {reason:<36} {n:>4}");
    }
    println!("  extract failed       {:>6}  (on-failure destination)", r.extract_failed);
    println!("  lost (no terminal state) {:>2}", r.not_terminal.len());
    for m in &r.not_terminal {
        println!("    {m}");
    }
}
