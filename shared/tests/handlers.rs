//! The functions' invocation logic over in-memory ports: what is published, stored and failed for each kind of
//! input and outside failure. (The same handlers run against moto and tansu in tests/python/test_local_stack.py.)

use leadpipe_shared::anonymize::{Anonymizer, PseudonymKey};
use leadpipe_shared::event::LeadEvent;
use leadpipe_shared::handlers::extract::{handle_event, ExtractError, ExtractPorts};
use leadpipe_shared::handlers::sqs::SqsMessage;
use leadpipe_shared::handlers::{archive, forward};
use leadpipe_shared::pipeline::ports::{
    Deadline, Ledger, NoDeadline, ObjectReader, ObjectStore, PortError, Producer, Topic,
};
use leadpipe_shared::pipeline::{ExtractSettings, ExtractStep, KafkaRecord};
use leadpipe_shared::RuleSet;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Mutex;

fn port_error(retriable: bool) -> PortError {
    PortError { system: "test", message: "injected".into(), retriable }
}

#[derive(Default)]
struct MemTopic {
    published: Mutex<Vec<(String, BTreeMap<String, String>)>>,
    fail: bool,
}

impl Topic for MemTopic {
    async fn publish(&self, message: &str, attributes: &[(&str, String)]) -> Result<(), PortError> {
        if self.fail {
            return Err(port_error(true));
        }
        let attrs = attributes.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        self.published.lock().expect("lock").push((message.to_string(), attrs));
        Ok(())
    }
}

#[derive(Default)]
struct MemStore {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
    fail: bool,
}

impl ObjectStore for MemStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), PortError> {
        if self.fail {
            return Err(port_error(true));
        }
        self.objects.lock().expect("lock").insert(key.to_string(), bytes);
        Ok(())
    }
}

impl ObjectReader for MemStore {
    async fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, PortError> {
        self.objects.lock().expect("lock").get(&format!("{bucket}/{key}")).cloned().ok_or(PortError {
            system: "s3",
            message: format!("get s3://{bucket}/{key}: NoSuchKey"),
            retriable: false,
        })
    }
}

#[derive(Default)]
struct MemKafka {
    records: Vec<KafkaRecord>,
    ledger: Mutex<BTreeSet<String>>,
    fail_marks: bool,
}

impl Producer for MemKafka {
    async fn produce(&mut self, records: &[KafkaRecord]) -> Vec<Result<(), PortError>> {
        self.records.extend_from_slice(records);
        records.iter().map(|_| Ok(())).collect()
    }
}

impl Ledger for MemKafka {
    async fn is_delivered(&self, event_id: &str, revision: &str) -> Result<bool, PortError> {
        Ok(self.ledger.lock().expect("lock").contains(&format!("{event_id}@{revision}")))
    }
    async fn mark_delivered(&self, event_id: &str, revision: &str) -> Result<(), PortError> {
        if self.fail_marks {
            return Err(port_error(true));
        }
        self.ledger.lock().expect("lock").insert(format!("{event_id}@{revision}"));
        Ok(())
    }
}

fn step() -> ExtractStep {
    let rules = RuleSet::load(Path::new("../fixtures/rules/default.toml")).expect("rules");
    let key = PseudonymKey::new("test-handlers", vec![7; 32]).expect("key");
    let anonymizer = Anonymizer::new(key, rules.detector_config());
    ExtractStep { rules, anonymizer, settings: ExtractSettings::default() }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new("../fixtures/emails").join(name)).expect("fixture")
}

/// A Lambda SNS event carrying one SES notification.
fn sns_event(ses: &Value, attributes: Value) -> Value {
    json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": ses.to_string(), "MessageAttributes": attributes}}]})
}

fn ses_inline(raw: &[u8]) -> Value {
    json!({"notificationType": "Received", "mail": {"messageId": "ses-1", "timestamp": "2026-11-20T14:05:00.000Z"},
           "receipt": {"recipients": ["isales@dealer.example.com"], "virusVerdict": {"status": "PASS"},
                       "spamVerdict": {"status": "PASS"}, "spfVerdict": {"status": "PASS"}, "dkimVerdict": {"status": "PASS"},
                       "action": {"type": "SNS", "encoding": "BASE64"}},
           "content": data_encoding::BASE64.encode(raw)})
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-20T15:00:00Z").expect("time").with_timezone(&chrono::Utc)
}

#[tokio::test(flavor = "current_thread")]
async fn lead_is_published_with_filterable_attributes_and_an_alert_without_pii() {
    let (leads, alerts, store) = (MemTopic::default(), MemTopic::default(), MemStore::default());
    let ports =
        ExtractPorts { mail: &store, leads: &leads, quarantine: &store, alerts: None, lead_alerts: Some(&alerts) };
    let raw = fixture("carportal-02.eml");
    let s = handle_event(&step(), &ports, &sns_event(&ses_inline(&raw), json!({})), now()).await.expect("ok");
    assert_eq!((s.mails, s.leads), (1, 1));
    assert!(s.pii_redactions > 0);
    let published = leads.published.lock().expect("lock");
    let (body, attrs) = &published[0];
    let event: LeadEvent = serde_json::from_str(body).expect("a lead event");
    assert_eq!(attrs["producer"], "leadpipe");
    assert_eq!(attrs["schema"], "leadpipe.lead.v1");
    assert_eq!(attrs["event_id"], event.event_id);
    assert_eq!(attrs["rule_id"], event.rule_id);
    assert_eq!(event.source.ses_message_id.as_deref(), Some("ses-1"));
    let alert = &alerts.published.lock().expect("lock")[0].0;
    assert!(alert.contains(&event.event_id));
    for clear in ["d.okafor@example.com", "Okafor"] {
        assert!(!alert.contains(clear) && !body.contains(clear), "{clear} leaked");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn mail_stored_by_the_s3_action_is_read_and_a_missing_object_fails_the_invocation() {
    let (leads, store) = (MemTopic::default(), MemStore::default());
    store.objects.lock().expect("lock").insert("raw/inbound/m1".into(), fixture("carportal-02.eml"));
    let ports = ExtractPorts { mail: &store, leads: &leads, quarantine: &store, alerts: None, lead_alerts: None };
    let mut ses = ses_inline(b"");
    ses.as_object_mut().expect("object").remove("content");
    ses["receipt"]["action"] = json!({"type": "S3", "bucketName": "raw", "objectKey": "inbound/m1"});
    let s = handle_event(&step(), &ports, &sns_event(&ses, json!({})), now()).await.expect("ok");
    assert_eq!(s.leads, 1);
    ses["receipt"]["action"]["objectKey"] = json!("inbound/missing");
    let e = handle_event(&step(), &ports, &sns_event(&ses, json!({})), now()).await.expect_err("missing");
    assert!(matches!(e, ExtractError::Port(_)) && e.to_string().contains("s3://raw/inbound/missing"), "{e}");
}

#[tokio::test(flavor = "current_thread")]
async fn unmatched_mail_is_quarantined_mail_first_then_metadata_and_alerted() {
    let (leads, alerts, store) = (MemTopic::default(), MemTopic::default(), MemStore::default());
    let ports =
        ExtractPorts { mail: &store, leads: &leads, quarantine: &store, alerts: Some(&alerts), lead_alerts: None };
    let raw = b"From: someone@unknown.example\r\nTo: sales@dealer.example.com\r\nSubject: hi\r\nMessage-ID: <x@y>\r\n\r\nCall me at +1 202 555 0142\r\n";
    let s = handle_event(&step(), &ports, &sns_event(&ses_inline(raw), json!({})), now()).await.expect("ok");
    assert_eq!(s.quarantined.get("no_rule_matched"), Some(&1));
    assert!(leads.published.lock().expect("lock").is_empty());
    let objects = store.objects.lock().expect("lock");
    let keys: Vec<&String> = objects.keys().collect();
    assert!(
        keys[0].starts_with("mail/no_rule_matched/q1_") && keys[1].starts_with("meta/dt=2026-11-20/q1_"),
        "{keys:?}"
    );
    assert_eq!(objects[keys[0]], raw.to_vec());
    let alert: Value = serde_json::from_str(&alerts.published.lock().expect("lock")[0].0).expect("json");
    assert_eq!(alert["kind"], "quarantine");
    assert_eq!(alert["reason"], "no_rule_matched");
}

#[tokio::test(flavor = "current_thread")]
async fn outside_failures_fail_the_invocation_and_own_outputs_are_skipped() {
    let (failing, store) = (MemTopic { fail: true, ..MemTopic::default() }, MemStore::default());
    let ports = ExtractPorts { mail: &store, leads: &failing, quarantine: &store, alerts: None, lead_alerts: None };
    let event = sns_event(&ses_inline(&fixture("carportal-02.eml")), json!({}));
    let e = handle_event(&step(), &ports, &event, now()).await.expect_err("publish fails");
    assert!(e.retriable(), "a retriable publish failure is retried by Lambda");
    // A lead event arriving on the inbound topic (a loop) is skipped, by attribute or by body.
    let ok = MemTopic::default();
    let ports = ExtractPorts { mail: &store, leads: &ok, quarantine: &store, alerts: None, lead_alerts: None };
    let by_attr = sns_event(&json!({"anything": 1}), json!({"producer": {"Type": "String", "Value": "leadpipe"}}));
    let by_body = sns_event(&json!({"schema": "leadpipe.lead.v1", "event_id": "ev1_x"}), json!({}));
    for event in [by_attr, by_body] {
        let s = handle_event(&step(), &ports, &event, now()).await.expect("skipped, not failed");
        assert_eq!((s.own_outputs_skipped, s.mails), (1, 0));
    }
    assert!(ok.published.lock().expect("lock").is_empty());
    // Anything else that is not SES fails (and ends in the on-failure destination after retries).
    let e =
        handle_event(&step(), &ports, &sns_event(&json!({"hello": 1}), json!({})), now()).await.expect_err("not SES");
    assert!(matches!(e, ExtractError::NotSes(_)));
}

async fn one_event() -> LeadEvent {
    let (leads, store) = (MemTopic::default(), MemStore::default());
    let ports = ExtractPorts { mail: &store, leads: &leads, quarantine: &store, alerts: None, lead_alerts: None };
    handle_event(&step(), &ports, &sns_event(&ses_inline(&fixture("carportal-02.eml")), json!({})), now())
        .await
        .expect("ok");
    let body = leads.published.lock().expect("lock")[0].0.clone();
    serde_json::from_str(&body).expect("event")
}

fn msg(id: &str, body: String) -> SqsMessage {
    SqsMessage { message_id: id.into(), body }
}

#[tokio::test(flavor = "current_thread")]
async fn forward_fails_only_poison_and_never_produces_twice() {
    let e = one_event().await;
    let body = serde_json::to_string(&e).expect("json");
    let envelope = json!({"Type": "Notification", "Message": body}).to_string();
    let batch = vec![msg("a", body.clone()), msg("p", "poison".into()), msg("b", envelope)];
    let mut kafka = MemKafka::default();
    let ledger = MemKafka::default();
    let s = forward::handle_batch(&batch, &mut kafka, &ledger, 1, &NoDeadline).await;
    assert_eq!(s.failures.message_ids, vec!["p".to_string()]);
    assert_eq!((s.delivered, s.already_delivered, s.unreadable), (1, 1, 1));
    assert!(s.errors[0].1.starts_with("not a lead event: invalid JSON at line 1"), "{:?}", s.errors);
    let s = forward::handle_batch(&batch[..1], &mut kafka, &ledger, 1, &NoDeadline).await;
    assert_eq!((s.delivered, s.already_delivered), (0, 1));
    assert_eq!(kafka.records.len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn archive_isolates_an_unencodable_record_and_fails_a_day_whose_store_fails() {
    let good = one_event().await;
    let mut bad = good.clone();
    bad.event_id = "ev1_bad".into();
    bad.extracted_at = "yesterday".into();
    let batch = vec![
        msg("good", serde_json::to_string(&good).expect("json")),
        msg("bad", serde_json::to_string(&bad).expect("json")),
        msg("junk", "{".into()),
    ];
    let store = MemStore::default();
    let s = archive::handle_batch(&batch, &store, &NoDeadline).await;
    assert_eq!(s.failures.message_ids, vec!["junk".to_string(), "bad".to_string()]);
    assert_eq!((s.unreadable, s.unencodable), (1, 1));
    assert_eq!(s.objects.len(), 1);
    assert_eq!(s.objects[0].1, 1);
    assert!(s.objects[0].0.starts_with(&format!("leads/dt={}/part-", good.partition_day())));
    let failing = MemStore { fail: true, ..MemStore::default() };
    let s = archive::handle_batch(&batch[..1], &failing, &NoDeadline).await;
    assert_eq!(s.failures.message_ids, vec!["good".to_string()]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_delivered_record_whose_ledger_mark_fails_is_not_retried() {
    let e = one_event().await;
    let batch = vec![msg("a", serde_json::to_string(&e).expect("json"))];
    let mut kafka = MemKafka::default();
    let ledger = MemKafka { fail_marks: true, ..MemKafka::default() };
    let s = forward::handle_batch(&batch, &mut kafka, &ledger, 1, &NoDeadline).await;
    assert!(s.failures.message_ids.is_empty(), "failing it would make the redelivery a certain duplicate");
    assert_eq!((s.delivered, s.unmarked), (1, 1));
    assert!(s.errors[0].1.starts_with("delivered, but the ledger marker failed"));
}

/// A deadline that has already passed.
struct Passed;

impl Deadline for Passed {
    fn passed(&self) -> bool {
        true
    }
    fn reached(&self) -> impl std::future::Future<Output = ()> + Send {
        std::future::ready(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn past_the_deadline_nothing_is_sent_or_stored_and_every_message_is_retried() {
    let e = one_event().await;
    let batch = vec![msg("a", serde_json::to_string(&e).expect("json")), msg("p", "poison".into())];
    let (mut kafka, ledger) = (MemKafka::default(), MemKafka::default());
    let s = forward::handle_batch(&batch, &mut kafka, &ledger, 1, &Passed).await;
    assert!(kafka.records.is_empty());
    assert_eq!(s.failures.message_ids, ["p", "a"]);
    assert_eq!((s.delivered, s.failed_retriable, s.unreadable), (0, 1, 1));
    assert_eq!(s.errors[1], ("a".into(), "deadline: not sent: the invocation ran out of time".into()));
    let store = MemStore::default();
    let s = archive::handle_batch(&batch, &store, &Passed).await;
    assert!(s.objects.is_empty() && store.objects.lock().expect("lock").is_empty());
    assert_eq!(s.failures.message_ids, ["p", "a"]);
    assert_eq!(s.errors[1], ("a".into(), "not stored: the invocation ran out of time".into()));
}
