//! Creates the local stack's resources on the local services, as the template declares them: buckets, topics,
//! queues with redrive policies and DLQs, raw-delivery subscriptions, the pseudonym key secret and the rules
//! file. Creating what exists already is not an error (a second `local up` keeps the data and the key).

use super::clients::{sdk_err, Clients};
use super::topology::{Timings, Topology};
use anyhow::{Context, Result};
use aws_sdk_sqs::types::QueueAttributeName;
use leadpipe_shared::anonymize::PseudonymKey;
use std::collections::HashMap;
use std::path::Path;

/// Queue URLs by name, after creation.
pub type QueueUrls = HashMap<String, String>;

/// Creates every resource; returns the queue URLs.
pub async fn provision(c: &Clients, t: &Topology, timings: &Timings, rules_file: &Path) -> Result<QueueUrls> {
    for bucket in [&t.raw_bucket, &t.quarantine_bucket, &t.archive_bucket, &t.config_bucket] {
        match c.s3.create_bucket().bucket(bucket).send().await {
            Ok(_) => {}
            Err(e) if format!("{e:?}").contains("BucketAlreadyOwnedByYou") => {}
            Err(e) => return Err(sdk_err(&format!("create bucket {bucket}"), e)),
        }
    }
    for topic in [&t.inbound_topic, &t.leads_topic, &t.alerts_topic] {
        c.sns.create_topic().name(topic).send().await.map_err(|e| sdk_err(&format!("create topic {topic}"), e))?;
    }
    let mut urls = QueueUrls::new();
    let visibility = timings.visibility_timeout.as_secs().max(1).to_string();
    for dlq in [&t.to_kafka_dlq, &t.to_archive_dlq, &t.extract_failures] {
        urls.insert(dlq.clone(), create_queue(c, dlq, &[]).await?);
    }
    for (queue, dlq) in [(&t.to_kafka, &t.to_kafka_dlq), (&t.to_archive, &t.to_archive_dlq)] {
        let redrive = serde_json::json!({
            "deadLetterTargetArn": t.queue_arn(dlq), "maxReceiveCount": timings.max_receive_count.to_string()
        })
        .to_string();
        let attrs =
            [(QueueAttributeName::VisibilityTimeout, visibility.clone()), (QueueAttributeName::RedrivePolicy, redrive)];
        urls.insert(queue.clone(), create_queue(c, queue, &attrs).await?);
    }
    // The harness's own queues: long visibility, because the harness deletes a message only at its terminal state.
    for queue in [&t.extract_invoke, &t.observer] {
        urls.insert(
            queue.clone(),
            create_queue(c, queue, &[(QueueAttributeName::VisibilityTimeout, "600".into())]).await?,
        );
    }
    subscribe(c, t, &t.leads_topic, &t.to_kafka, true).await?;
    subscribe(c, t, &t.leads_topic, &t.to_archive, true).await?;
    subscribe(c, t, &t.leads_topic, &t.observer, true).await?;
    subscribe(c, t, &t.inbound_topic, &t.extract_invoke, false).await?;
    ensure_key(c, &t.key_secret).await?;
    let rules =
        std::fs::read(rules_file).with_context(|| format!("cannot read rules file {}", rules_file.display()))?;
    c.s3.put_object()
        .bucket(&t.config_bucket)
        .key(&t.rules_key)
        .body(rules.into())
        .send()
        .await
        .map_err(|e| sdk_err("upload rules", e))?;
    Ok(urls)
}

async fn create_queue(c: &Clients, name: &str, attrs: &[(QueueAttributeName, String)]) -> Result<String> {
    let mut req = c.sqs.create_queue().queue_name(name);
    for (k, v) in attrs {
        req = req.attributes(k.clone(), v);
    }
    match req.send().await {
        Ok(out) => out.queue_url().map(str::to_string).context("create_queue returned no URL"),
        // Exists with other attributes (an earlier `up` with other timings): update them.
        Err(_) => {
            let url = c.queue_url(name).await?;
            let mut set = c.sqs.set_queue_attributes().queue_url(&url);
            for (k, v) in attrs {
                set = set.attributes(k.clone(), v);
            }
            set.send().await.map_err(|e| sdk_err(&format!("set attributes of {name}"), e))?;
            Ok(url)
        }
    }
}

async fn subscribe(c: &Clients, t: &Topology, topic: &str, queue: &str, raw: bool) -> Result<()> {
    let topic_arn = t.topic_arn(topic);
    let existing = c
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic_arn)
        .send()
        .await
        .map_err(|e| sdk_err(&format!("list subscriptions of {topic}"), e))?;
    let queue_arn = t.queue_arn(queue);
    if existing.subscriptions().iter().any(|s| s.endpoint() == Some(queue_arn.as_str())) {
        return Ok(());
    }
    let mut req = c.sns.subscribe().topic_arn(&topic_arn).protocol("sqs").endpoint(&queue_arn);
    if raw {
        req = req.attributes("RawMessageDelivery", "true");
    }
    req.send().await.map_err(|e| sdk_err(&format!("subscribe {queue} to {topic}"), e))?;
    Ok(())
}

/// Creates the pseudonym key secret with a random production-style key (functions refuse `test-` keys), unless
/// it exists (pseudonyms stay stable across restarts of the local stack).
async fn ensure_key(c: &Clients, name: &str) -> Result<()> {
    if c.secrets.describe_secret().secret_id(name).send().await.is_ok() {
        return Ok(());
    }
    let mut secret = vec![0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    let mut id = [0u8; 4];
    getrandom::fill(&mut id).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    let key = PseudonymKey::new(&format!("local-{}", hex(&id)), secret)?;
    c.secrets
        .create_secret()
        .name(name)
        .secret_string(key.to_json())
        .send()
        .await
        .map_err(|e| sdk_err(&format!("create secret {name}"), e))?;
    Ok(())
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
