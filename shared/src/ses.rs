//! SES receipt notifications, parsed leniently: real ones omit fields that `aws_lambda_events` requires (e.g.
//! `dmarcVerdict`), so only what leadpipe uses is read, and nothing else is demanded. Accepts the bare SES JSON,
//! an SNS notification wrapping it (HTTP/SQS delivery), and a Lambda SNS event with `Records`.

use crate::email::{AuthVerdicts, Verdict};
use chrono::{DateTime, Utc};
use data_encoding::BASE64;
use serde_json::Value;

/// One SES receipt notification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SesNotification {
    /// SES message id (`mail.messageId`).
    pub message_id: Option<String>,
    /// When SES received the mail (`mail.timestamp`).
    pub timestamp: Option<DateTime<Utc>>,
    /// Envelope recipients (`receipt.recipients`, else `mail.destination`).
    pub recipients: Vec<String>,
    /// The receipt's verdicts.
    pub verdicts: SesVerdicts,
    /// Where the raw mail is.
    pub content: MailContent,
}

/// SES verdicts; `None` when SES did not report one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SesVerdicts {
    /// `spamVerdict.status == PASS`.
    pub spam: Option<Verdict>,
    /// `virusVerdict.status == PASS`.
    pub virus: Option<Verdict>,
    /// `spfVerdict.status == PASS`.
    pub spf: Option<Verdict>,
    /// `dkimVerdict.status == PASS`.
    pub dkim: Option<Verdict>,
}

impl SesVerdicts {
    /// The DKIM/SPF verdicts for rules with `require_auth`.
    pub fn auth(&self) -> AuthVerdicts {
        AuthVerdicts::from_ses(self.dkim, self.spf)
    }
}

/// Where the raw mail of a notification is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MailContent {
    /// Embedded by the SNS action (up to 150 KB), decoded.
    Inline(Vec<u8>),
    /// Stored by the S3 action.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
    },
    /// Neither: the notification cannot be processed.
    #[default]
    Missing,
}

/// Why a notification could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SesError {
    /// Not JSON at all.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// JSON, but no SES notification in it.
    #[error("no SES receipt notification found (expected notificationType \"Received\" with mail and receipt)")]
    NotSes,
    /// Inline content declared base64 but not decodable.
    #[error("content is declared BASE64 but does not decode")]
    BadContent,
}

/// Every SES notification in a JSON document (a Lambda SNS event may hold several).
pub fn notifications_in(json: &str) -> Result<Vec<SesNotification>, SesError> {
    let v: Value = serde_json::from_str(json).map_err(|e| SesError::NotJson(e.to_string()))?;
    let mut out = Vec::new();
    collect(&v, &mut out, 0)?;
    if out.is_empty() {
        return Err(SesError::NotSes);
    }
    Ok(out)
}

fn collect(v: &Value, out: &mut Vec<SesNotification>, depth: u8) -> Result<(), SesError> {
    if depth > 3 {
        return Ok(());
    }
    if let Some(records) = v.get("Records").and_then(Value::as_array) {
        for r in records {
            if let Some(msg) = r.pointer("/Sns/Message").and_then(Value::as_str) {
                collect(&serde_json::from_str(msg).map_err(|e| SesError::NotJson(e.to_string()))?, out, depth + 1)?;
            }
        }
        return Ok(());
    }
    if let (Some("Notification"), Some(msg)) =
        (v.get("Type").and_then(Value::as_str), v.get("Message").and_then(Value::as_str))
    {
        return collect(&serde_json::from_str(msg).map_err(|e| SesError::NotJson(e.to_string()))?, out, depth + 1);
    }
    if v.get("mail").is_some() && v.get("receipt").is_some() {
        out.push(parse_ses(v)?);
    }
    Ok(())
}

fn parse_ses(v: &Value) -> Result<SesNotification, SesError> {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
    let verdict = |name: &str| {
        s(&format!("/receipt/{name}/status")).map(|st| {
            if st.eq_ignore_ascii_case("PASS") {
                Verdict::Pass
            } else {
                Verdict::Fail
            }
        })
    };
    let strings = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_lowercase).collect::<Vec<_>>())
    };
    let content = match (
        v.get("content").and_then(Value::as_str),
        s("/receipt/action/bucketName"),
        s("/receipt/action/objectKey"),
    ) {
        (Some(c), _, _) => {
            let base64 = s("/receipt/action/encoding").is_some_and(|e| e.eq_ignore_ascii_case("BASE64"));
            if base64 {
                let clean: Vec<u8> = c.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
                MailContent::Inline(BASE64.decode(&clean).map_err(|_| SesError::BadContent)?)
            } else {
                MailContent::Inline(c.as_bytes().to_vec())
            }
        }
        (None, Some(bucket), Some(key)) => MailContent::S3 { bucket, key },
        _ => MailContent::Missing,
    };
    Ok(SesNotification {
        message_id: s("/mail/messageId"),
        timestamp: s("/mail/timestamp")
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)),
        recipients: strings("/receipt/recipients").or_else(|| strings("/mail/destination")).unwrap_or_default(),
        verdicts: SesVerdicts {
            spam: verdict("spamVerdict"),
            virus: verdict("virusVerdict"),
            spf: verdict("spfVerdict"),
            dkim: verdict("dkimVerdict"),
        },
        content,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SES_S3: &str = r#"{"notificationType":"Received","mail":{"timestamp":"2026-11-20T14:05:01.123Z","source":"leads@cars.example",
      "messageId":"o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1","destination":["Sales@Dealer.example.com"]},
      "receipt":{"timestamp":"2026-11-20T14:05:01.123Z","recipients":["sales@dealer.example.com"],"spamVerdict":{"status":"PASS"},
      "virusVerdict":{"status":"PASS"},"spfVerdict":{"status":"PASS"},"dkimVerdict":{"status":"GRAY"},
      "action":{"type":"S3","topicArn":"arn:aws:sns:us-east-1:123456789012:inbound","bucketName":"raw-bucket","objectKey":"inbound/o3vrnil0"}}}"#;

    #[test]
    fn s3_action_without_dmarc_verdict() {
        let n = notifications_in(SES_S3).expect("parses");
        assert_eq!(n.len(), 1);
        let n = &n[0];
        assert_eq!(n.message_id.as_deref(), Some("o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1"));
        assert_eq!(n.content, MailContent::S3 { bucket: "raw-bucket".into(), key: "inbound/o3vrnil0".into() });
        assert_eq!(n.recipients, vec!["sales@dealer.example.com".to_string()]);
        assert_eq!(n.verdicts.virus, Some(Verdict::Pass));
        assert_eq!(n.verdicts.dkim, Some(Verdict::Fail));
        assert!(n.verdicts.auth().authenticates("cars.example"), "SPF passed");
        assert_eq!(n.timestamp.map(|t| t.timestamp_millis()), Some(1_795_183_501_123));
    }

    #[test]
    fn inline_content_in_lambda_and_http_sns_wrappers() {
        let ses = r#"{"notificationType":"Received","mail":{"messageId":"m1"},"receipt":{"action":{"type":"SNS","encoding":"BASE64"}},"content":"RnJvbTogYUBiLmV4YW1wbGUNCg0KaGk="}"#;
        let sns = serde_json::json!({"Type": "Notification", "MessageId": "x", "Message": ses}).to_string();
        let lambda = serde_json::json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": ses}}, {"Sns": {"Message": ses}}]}).to_string();
        for (doc, count) in [(ses.to_string(), 1), (sns, 1), (lambda, 2)] {
            let n = notifications_in(&doc).expect("parses");
            assert_eq!(n.len(), count);
            assert_eq!(n[0].content, MailContent::Inline(b"From: a@b.example\r\n\r\nhi".to_vec()));
        }
        let utf8 = r#"{"mail":{},"receipt":{"action":{"type":"SNS","encoding":"UTF8"}},"content":"From: a@b.example\r\n\r\nhi"}"#;
        assert_eq!(
            notifications_in(utf8).expect("parses")[0].content,
            MailContent::Inline(b"From: a@b.example\r\n\r\nhi".to_vec())
        );
    }

    #[test]
    fn errors_are_named() {
        assert!(matches!(notifications_in("nope"), Err(SesError::NotJson(_))));
        assert_eq!(notifications_in("{\"a\":1}"), Err(SesError::NotSes));
        let bad = r#"{"mail":{},"receipt":{"action":{"encoding":"BASE64"}},"content":"!!!"}"#;
        assert_eq!(notifications_in(bad), Err(SesError::BadContent));
    }
}
