//! The extract binary's "init failed" log line: the whole error, and a note on the trusted roots when the AWS
//! client trusts only the embedded Amazon ones (a Lambda function in the standard partition).

use serde_json::Value;
use std::process::Command;

/// Runs extract as Lambda would, with AWS unreachable (a closed port on loopback), and returns its log line.
fn init_failure(extra: &[(&str, &str)]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_extract"))
        .env_clear()
        .envs([
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:1"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_MAX_ATTEMPTS", "1"),
            ("LEADPIPE_RULES", concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/rules/default.toml")),
            ("LEADPIPE_KEY_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:leadpipe-key"),
            ("LEADPIPE_LEADS_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:leads"),
            ("LEADPIPE_QUARANTINE_BUCKET", "quarantine"),
        ])
        .envs(extra.iter().copied())
        .output()
        .expect("extract runs");
    assert!(!output.status.success(), "init cannot succeed without AWS");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr.lines().next().expect("a log line");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[test]
fn embedded_roots_are_named_in_the_init_failure() {
    let line = init_failure(&[]);
    assert_eq!(line["message"], "init failed");
    assert!(line["error"].as_str().is_some_and(|e| e.contains("leadpipe-key") && e.contains("Connection refused")));
    assert!(line["tls_roots"]
        .as_str()
        .is_some_and(|n| n.contains("Amazon Trust Services") && n.contains("SSL_CERT_FILE")));
}

#[test]
fn a_chosen_certificate_store_needs_no_note() {
    let bundle = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/tls/amazon-trust-services.pem");
    let line = init_failure(&[("SSL_CERT_FILE", bundle)]);
    assert_eq!(line["message"], "init failed");
    assert_eq!(line.get("tls_roots"), None);
}
