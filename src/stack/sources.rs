//! The Lambda service's part around the functions, played by the harness: the asynchronous invoke of extract by
//! SNS (two retries, then the on-failure destination) and the SQS event source mappings of forward and archive
//! (batches, delete on success, failed ids left to the visibility timeout and the redrive policy).

use super::clients::{sdk_err, Clients};
use super::pool::Pool;
use crate::local::lambda::InvokeError;
use anyhow::Result;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Extract's asynchronous invocation: every SNS delivery on the harness's invoke queue becomes a Lambda SNS
/// event; an error is retried `retries` times after `delay`, then the event and the error go to the on-failure
/// destination queue. The delivery is deleted only then, so a harness crash redelivers it (extract is idempotent).
pub struct AsyncInvoke {
    /// Clients.
    pub clients: Clients,
    /// The invoke queue's URL.
    pub queue_url: String,
    /// The on-failure destination queue's URL.
    pub destination_url: String,
    /// The inbound topic's subscription ARN placeholder (carried in events).
    pub topic_arn: String,
    /// Retries after the first attempt.
    pub retries: u32,
    /// Delay before each retry.
    pub delay: Duration,
}

impl AsyncInvoke {
    /// Runs until `stop` turns true.
    pub async fn run(self: Arc<Self>, function: Arc<Pool>, mut stop: watch::Receiver<bool>) -> Result<()> {
        let mut tasks = tokio::task::JoinSet::new();
        while !*stop.borrow() {
            let received = tokio::select! {
                r = self.clients.sqs.receive_message().queue_url(&self.queue_url).max_number_of_messages(10)
                    .wait_time_seconds(1).send() => r,
                _ = stop.changed() => break,
            };
            let messages = match received {
                Ok(out) => out.messages.unwrap_or_default(),
                Err(e) => {
                    eprintln!("{:#}", sdk_err("extract event source: receive", e));
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            for m in messages {
                let me = self.clone();
                let f = function.clone();
                tasks.spawn(async move { me.deliver(&f, m).await });
            }
            while let Some(done) = tasks.try_join_next() {
                if let Ok(Err(e)) = done {
                    eprintln!("extract event source: {e:#}");
                }
            }
        }
        while let Some(done) = tasks.join_next().await {
            if let Ok(Err(e)) = done {
                eprintln!("extract event source: {e:#}");
            }
        }
        Ok(())
    }

    async fn deliver(&self, function: &Pool, m: Message) -> Result<()> {
        let notification: Value = serde_json::from_str(m.body().unwrap_or_default()).unwrap_or(Value::Null);
        let event = sns_event(&notification, &self.topic_arn);
        let mut attempts = 0;
        let error = loop {
            attempts += 1;
            match function.invoke(event.clone()).await {
                Ok(_) => break None,
                Err(e) if attempts > self.retries => break Some(e),
                Err(e) => {
                    println!("extract: attempt {attempts} failed ({e}); retrying in {:?}", self.delay);
                    tokio::time::sleep(self.delay).await;
                }
            }
        };
        if let Some(e) = error {
            println!("extract: failed after {attempts} attempts ({e}); event sent to the on-failure destination");
            let (error_type, message) = match &e {
                InvokeError::Function { error_type, error_message } => (error_type.clone(), error_message.clone()),
                InvokeError::Timeout(_) => ("Sandbox.Timedout".to_string(), e.to_string()),
                other => ("Runtime.ExitError".to_string(), other.to_string()),
            };
            let record = destination_record(&event, attempts, &error_type, &message);
            self.clients
                .sqs
                .send_message()
                .queue_url(&self.destination_url)
                .message_body(record.to_string())
                .send()
                .await
                .map_err(|e| sdk_err("send to the on-failure destination", e))?;
        }
        if let Some(handle) = m.receipt_handle() {
            self.clients
                .sqs
                .delete_message()
                .queue_url(&self.queue_url)
                .receipt_handle(handle)
                .send()
                .await
                .map_err(|e| sdk_err("delete from the invoke queue", e))?;
        }
        Ok(())
    }
}

/// The Lambda SNS event for one SNS notification (as SNS delivers it to a non-raw SQS subscription).
pub fn sns_event(n: &Value, subscription_arn: &str) -> Value {
    let s = |k: &str| n.get(k).cloned().unwrap_or(Value::Null);
    json!({"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": s("Type"), "MessageId": s("MessageId"), "TopicArn": s("TopicArn"), "Subject": s("Subject"),
            "Message": s("Message"), "Timestamp": s("Timestamp"), "SignatureVersion": s("SignatureVersion"),
            "Signature": s("Signature"), "SigningCertUrl": s("SigningCertURL"), "UnsubscribeUrl": s("UnsubscribeURL"),
            "MessageAttributes": n.get("MessageAttributes").cloned().unwrap_or_else(|| json!({})),
        }
    }]})
}

/// The on-failure destination's record, in the shape Lambda writes it.
pub fn destination_record(event: &Value, attempts: u32, error_type: &str, error: &str) -> Value {
    json!({
        "version": "1.0",
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": attempts,
                           "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:extract:$LATEST"},
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": error_type, "errorMessage": error},
    })
}

/// An SQS event source mapping: receive up to `batch_size` messages within `window`, invoke, delete what the
/// function did not list as failed; on an invocation error delete nothing.
pub struct QueueConsumer {
    /// Clients.
    pub clients: Clients,
    /// Function name (logs).
    pub name: &'static str,
    /// The queue's URL.
    pub queue_url: String,
    /// The queue's ARN (carried in events).
    pub queue_arn: String,
    /// Maximum batch size.
    pub batch_size: usize,
    /// Batching window.
    pub window: Duration,
}

impl QueueConsumer {
    /// Runs until `stop` turns true.
    pub async fn run(self, function: Arc<Pool>, mut stop: watch::Receiver<bool>) -> Result<()> {
        while !*stop.borrow() {
            let batch = tokio::select! {
                b = self.gather() => b,
                _ = stop.changed() => break,
            };
            let batch = match batch {
                Ok(b) if b.is_empty() => continue,
                Ok(b) => b,
                Err(e) => {
                    eprintln!("{} event source: {e:#}", self.name);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            let event = json!({"Records": batch.iter().map(|m| self.record(m)).collect::<Vec<_>>()});
            match function.invoke(event).await {
                Ok(response) => {
                    let failed: Vec<&str> = response
                        .get("batchItemFailures")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(|f| f.get("itemIdentifier").and_then(Value::as_str)).collect())
                        .unwrap_or_default();
                    println!("{}: batch of {}, {} failed", self.name, batch.len(), failed.len());
                    let done: Vec<&Message> =
                        batch.iter().filter(|m| !failed.contains(&m.message_id().unwrap_or_default())).collect();
                    if let Err(e) = self.delete(&done).await {
                        eprintln!("{} event source: {e:#}", self.name);
                    }
                }
                Err(e) => println!(
                    "{}: batch of {} failed as a whole ({e}); left to the visibility timeout",
                    self.name,
                    batch.len()
                ),
            }
        }
        Ok(())
    }

    async fn gather(&self) -> Result<Vec<Message>> {
        let mut batch = Vec::new();
        let started = Instant::now();
        loop {
            let room = (self.batch_size - batch.len()).min(10) as i32;
            let wait = if batch.is_empty() { 1 } else { 0 };
            let out = self
                .clients
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(room)
                .wait_time_seconds(wait)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await
                .map_err(|e| sdk_err(&format!("receive from {}", self.queue_url), e))?;
            let got = out.messages.unwrap_or_default();
            let empty = got.is_empty();
            batch.extend(got);
            if batch.len() >= self.batch_size || (batch.is_empty() && empty) || started.elapsed() >= self.window {
                return Ok(batch);
            }
            if empty {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    fn record(&self, m: &Message) -> Value {
        let attributes: Map<String, Value> = m
            .attributes()
            .map(|a| a.iter().map(|(k, v)| (k.as_str().to_string(), Value::String(v.clone()))).collect())
            .unwrap_or_default();
        let message_attributes: Map<String, Value> = m
            .message_attributes()
            .map(|a| {
                a.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            json!({"stringValue": v.string_value(), "dataType": v.data_type(),
                                           "stringListValues": [], "binaryListValues": []}),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({
            "messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
            "attributes": attributes, "messageAttributes": message_attributes, "md5OfBody": m.md5_of_body(),
            "eventSource": "aws:sqs", "eventSourceARN": self.queue_arn, "awsRegion": "us-east-1",
        })
    }

    async fn delete(&self, done: &[&Message]) -> Result<()> {
        for chunk in done.chunks(10) {
            let entries: Vec<DeleteMessageBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(m.receipt_handle().unwrap_or_default())
                        .build()
                        .ok()
                })
                .collect();
            self.clients
                .sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_err("delete batch", e))?;
        }
        Ok(())
    }
}
