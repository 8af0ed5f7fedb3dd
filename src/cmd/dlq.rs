//! `leadpipe dlq list|show|redrive`: inspect dead-letter queues without consuming them, and move messages back
//! to where they can be processed again. Works on AWS and on the local stack (`--aws-endpoint`).

use crate::stack::clients::{sdk_err, Clients};
use anyhow::{bail, Context, Result};
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use clap::{Args, Subcommand};
use serde_json::Value;
use std::collections::HashSet;
use std::process::ExitCode;

/// DLQ commands.
#[derive(Subcommand)]
pub enum DlqCommand {
    /// List a DLQ's messages (id, age, receive count, what it holds) without deleting them.
    #[command(after_help = "Example:\n  leadpipe dlq list --queue leadpipe-prod-to-kafka-dlq\n\n\
        Listing hides each message for --hold seconds (SQS has no peek), then makes it visible again.")]
    List(QueueArgs),
    /// Print one message in full (attributes and body).
    Show {
        #[command(flatten)]
        queue: QueueArgs,
        /// The SQS message id.
        message_id: String,
    },
    /// Move messages (all, or --id ...) back: to the source queue (the DLQ's name without `-dlq`, or --to), or,
    /// for extract's on-failure destination, re-publish the stored SES notification to --to-topic (the inbound
    /// topic), which invokes extract again with the same event.
    #[command(after_help = "Examples:\n  leadpipe dlq redrive --queue leadpipe-prod-to-archive-dlq\n  \
        leadpipe dlq redrive --queue leadpipe-prod-extract-failures --to-topic arn:aws:sns:...:leadpipe-prod-inbound\n\n\
        Each message is sent to its destination first and deleted from the DLQ only after that succeeded: a crash in\n\
        between leaves a copy in both, which the pipeline's deterministic ids absorb; nothing is lost.")]
    Redrive {
        #[command(flatten)]
        queue: QueueArgs,
        /// Only these message ids.
        #[arg(long = "id")]
        ids: Vec<String>,
        /// Destination queue name (default: the DLQ's name without `-dlq`).
        #[arg(long, conflicts_with = "to_topic")]
        to: Option<String>,
        /// Destination topic ARN for on-failure destination records (extract's inbound topic).
        #[arg(long)]
        to_topic: Option<String>,
    },
}

/// Which queue, where.
#[derive(Args)]
pub struct QueueArgs {
    /// Queue name.
    #[arg(long)]
    queue: String,
    /// AWS endpoint override (the local stack's moto server).
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    aws_endpoint: Option<String>,
    /// Region.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
    /// Seconds each listed message stays hidden while the queue is walked.
    #[arg(long, default_value_t = 10)]
    hold: i32,
}

/// Runs a `dlq` command.
pub fn run(c: DlqCommand) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        match c {
            DlqCommand::List(q) => {
                let (clients, url) = open(&q).await?;
                let messages = walk(&clients, &url, q.hold).await?;
                release(&clients, &url, &messages).await;
                println!("{} message(s) in {}", messages.len(), q.queue);
                for m in &messages {
                    println!(
                        "{}  received {}x  {}",
                        m.message_id().unwrap_or("?"),
                        attr(m, MessageSystemAttributeName::ApproximateReceiveCount).unwrap_or("?"),
                        describe(m.body().unwrap_or_default())
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            DlqCommand::Show { queue, message_id } => {
                let (clients, url) = open(&queue).await?;
                let messages = walk(&clients, &url, queue.hold).await?;
                release(&clients, &url, &messages).await;
                let Some(m) = messages.iter().find(|m| m.message_id() == Some(message_id.as_str())) else {
                    bail!("no message {message_id} in {}", queue.queue);
                };
                println!("message id: {message_id}");
                if let Some(a) = m.attributes() {
                    for (k, v) in a {
                        println!("{}: {v}", k.as_str());
                    }
                }
                println!("what: {}", describe(m.body().unwrap_or_default()));
                println!("body:\n{}", m.body().unwrap_or_default());
                Ok(ExitCode::SUCCESS)
            }
            DlqCommand::Redrive { queue, ids, to, to_topic } => redrive(&queue, &ids, to, to_topic).await,
        }
    })
}

async fn open(q: &QueueArgs) -> Result<(Clients, String)> {
    let clients = Clients::connect(q.aws_endpoint.as_deref(), &q.region).await;
    let url = clients.queue_url(&q.queue).await?;
    Ok((clients, url))
}

fn attr(m: &Message, name: MessageSystemAttributeName) -> Option<&str> {
    m.attributes().and_then(|a| a.get(&name)).map(String::as_str)
}

/// Receives every message once (each hidden for `hold` seconds so the walk moves on), deduplicated by id.
async fn walk(c: &Clients, url: &str, hold: i32) -> Result<Vec<Message>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut empty = 0;
    while empty < 2 {
        let got = c
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(hold.max(1))
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| sdk_err("receive", e))?
            .messages
            .unwrap_or_default();
        let before = out.len();
        for m in got {
            if seen.insert(m.message_id().unwrap_or_default().to_string()) {
                out.push(m);
            }
        }
        empty = if out.len() == before { empty + 1 } else { 0 };
    }
    Ok(out)
}

/// Makes walked messages visible again.
async fn release(c: &Clients, url: &str, messages: &[Message]) {
    for m in messages {
        if let Some(h) = m.receipt_handle() {
            c.sqs.change_message_visibility().queue_url(url).receipt_handle(h).visibility_timeout(0).send().await.ok();
        }
    }
}

/// One line on what a DLQ message holds, without personal data (lead events carry none; other bodies are not
/// printed here).
pub fn describe(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return format!("unreadable body ({} bytes, not JSON)", body.len());
    };
    if let (Some(id), Some(rev)) =
        (v.get("event_id").and_then(Value::as_str), v.get("revision").and_then(Value::as_str))
    {
        return format!("lead event {id} ({rev})");
    }
    if let Some(err) = v.pointer("/responsePayload/errorMessage").and_then(Value::as_str) {
        let ses = v
            .pointer("/requestPayload/Records/0/Sns/Message")
            .and_then(Value::as_str)
            .and_then(|m| serde_json::from_str::<Value>(m).ok())
            .and_then(|m| m.pointer("/mail/messageId").and_then(Value::as_str).map(str::to_string));
        let attempts = v.pointer("/requestContext/approximateInvokeCount").and_then(Value::as_u64).unwrap_or(0);
        return format!(
            "extract failed after {attempts} attempts (SES message {}): {err}",
            ses.as_deref().unwrap_or("unknown")
        );
    }
    format!("JSON body that is not a lead event ({} bytes)", body.len())
}

async fn redrive(q: &QueueArgs, ids: &[String], to: Option<String>, to_topic: Option<String>) -> Result<ExitCode> {
    let (clients, url) = open(q).await?;
    let messages = walk(&clients, &url, q.hold.max(30)).await?;
    let (chosen, rest): (Vec<&Message>, Vec<&Message>) =
        messages.iter().partition(|m| ids.is_empty() || ids.iter().any(|i| Some(i.as_str()) == m.message_id()));
    for m in rest {
        if let Some(h) = m.receipt_handle() {
            clients
                .sqs
                .change_message_visibility()
                .queue_url(&url)
                .receipt_handle(h)
                .visibility_timeout(0)
                .send()
                .await
                .ok();
        }
    }
    let target_url = match (&to_topic, &to) {
        (Some(_), _) => None,
        (None, Some(name)) => Some(clients.queue_url(name).await?),
        (None, None) => {
            let Some(source) = q.queue.strip_suffix("-dlq") else {
                bail!("{} does not end in -dlq: name the destination with --to QUEUE or --to-topic ARN", q.queue);
            };
            Some(clients.queue_url(source).await?)
        }
    };
    let mut moved = 0;
    for m in &chosen {
        let body = m.body().unwrap_or_default();
        match (&to_topic, &target_url) {
            (Some(topic), _) => {
                let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
                let Some(message) = v.pointer("/requestPayload/Records/0/Sns/Message").and_then(Value::as_str) else {
                    bail!(
                        "message {} is not an on-failure destination record of extract",
                        m.message_id().unwrap_or("?")
                    );
                };
                clients
                    .sns
                    .publish()
                    .topic_arn(topic)
                    .message(message)
                    .send()
                    .await
                    .map_err(|e| sdk_err("publish", e))?;
            }
            (None, Some(target)) => {
                let mut send = clients.sqs.send_message().queue_url(target).message_body(body);
                if let Some(attrs) = m.message_attributes() {
                    for (k, v) in attrs {
                        send = send.message_attributes(k, v.clone());
                    }
                }
                send.send().await.map_err(|e| sdk_err("send to the source queue", e))?;
            }
            (None, None) => unreachable!("a destination was chosen above"),
        }
        let handle = m.receipt_handle().context("message without receipt handle")?;
        clients
            .sqs
            .delete_message()
            .queue_url(&url)
            .receipt_handle(handle)
            .send()
            .await
            .map_err(|e| sdk_err("delete", e))?;
        moved += 1;
    }
    println!("moved {moved} of {} message(s) from {}", messages.len(), q.queue);
    if !ids.is_empty() && moved < ids.len() {
        println!("not found: {}", ids.len() - moved);
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
