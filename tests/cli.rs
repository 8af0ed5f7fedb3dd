//! The `leadpipe` command line as an operator uses it: exit codes, messages, golden diffs, --bless, coverage.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn leadpipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leadpipe"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("LEADPIPE_KEY")
        .env_remove("LEADPIPE_KEY_FILE")
        .output()
        .expect("leadpipe runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

#[test]
fn golden_fixtures_match_with_full_coverage() {
    let o = leadpipe(&["rules", "test", "--strict", "--rules", "fixtures/rules/default.toml", "fixtures/emails"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("Expected results: 45 match, 0 differ, 0 without expected file"), "{out}");
    assert!(out.contains("carportal-forwarded              2  -"), "{out}");
}

#[test]
fn rules_check_summarises_and_rejects() {
    let o = leadpipe(&["rules", "check", "fixtures/rules/default.toml"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("OK - 9 rules"), "{}", text(&o));
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[rules]]\nid = \"x\"\nversion = 1\n[rules.match]\nsubject = 'a'\n[[rules.fields]]\nname = \"n\"\nregex = 'b'\n")
        .expect("write");
    let o = leadpipe(&["rules", "check", bad.to_str().expect("utf-8 path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains(r#"bad.toml: rule "x" field "n": regex has no group named "value""#), "{}", text(&o));
}

#[test]
fn a_mismatch_fails_and_bless_rewrites() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mails = dir.path().join("emails");
    std::fs::create_dir(&mails).expect("mkdir");
    std::fs::copy(fixtures().join("emails/carportal-02.eml"), mails.join("carportal-02.eml")).expect("copy");
    let expected = mails.join("carportal-02.expected.json");
    let golden = std::fs::read_to_string(fixtures().join("expected/carportal-02.expected.json")).expect("golden");
    std::fs::write(&expected, golden.replace("Toyota", "Tesla")).expect("write");
    let rules = fixtures().join("rules/default.toml");
    let args = ["rules", "test", "--rules", rules.to_str().expect("path"), mails.to_str().expect("path")];
    let o = leadpipe(&args);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains(r#"fields.make: expected "Tesla", got "Toyota""#), "{}", text(&o));
    let mut bless = args.to_vec();
    bless.push("--bless");
    assert!(leadpipe(&bless).status.success());
    assert_eq!(std::fs::read_to_string(&expected).expect("blessed"), golden);
    assert!(leadpipe(&args).status.success());
}

#[test]
fn strict_fails_on_gaps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mail = dir.path().join("one.eml");
    std::fs::copy(fixtures().join("emails/carportal-02.eml"), &mail).expect("copy");
    let rules = fixtures().join("rules/default.toml");
    let args = ["rules", "test", "--rules", rules.to_str().expect("path"), mail.to_str().expect("path")];
    assert!(leadpipe(&args).status.success(), "no expected file is not an error without --strict");
    let mut strict = args.to_vec();
    strict.push("--strict");
    let o = leadpipe(&strict);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("--strict: coverage is incomplete"), "{}", text(&o));
}

#[test]
fn anonymized_view_needs_a_key_and_hides_pii() {
    let mail = fixtures().join("emails/carportal-03.eml");
    let args =
        ["rules", "test", "--anonymized", "--rules", "fixtures/rules/default.toml", mail.to_str().expect("path")];
    let o = leadpipe(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("no pseudonym key: set LEADPIPE_KEY"), "{}", text(&o));
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("key.json");
    std::fs::write(&key, r#"{"key_id":"test-cli","secret":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}"#)
        .expect("write");
    let mut with_key = args.to_vec();
    with_key.extend(["--key-file", key.to_str().expect("path")]);
    let o = leadpipe(&with_key);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    let anonymized = out.split("as it leaves extract").nth(1).expect("anonymized section");
    assert!(anonymized.contains("first_name           = p1_"), "{anonymized}");
    assert!(anonymized.contains("[CARD]") && anonymized.contains("[EMAIL:p1_"), "{anonymized}");
    for clear in ["Samantha", "samantha.reyes@example.com", "4111 1111 1111 1111", "212-555-0178", "sam.r@example.org"]
    {
        assert!(!anonymized.contains(clear), "{clear} leaked: {anonymized}");
    }
}

#[test]
fn mail_show_prints_decoded_mail_and_errors_clearly() {
    let o = leadpipe(&["mail", "show", "fixtures/emails/voituremarche-01.eml"]);
    assert!(o.status.success());
    assert!(text(&o).contains("--- text body ---"));
    let o = leadpipe(&["mail", "show", "fixtures/emails/junk-binary.eml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("junk-binary.eml: no RFC 5322 header found"), "{}", text(&o));
    let o = leadpipe(&["mail", "show", "does/not/exist.eml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("cannot read does/not/exist.eml"), "{}", text(&o));
}

#[test]
fn every_command_has_help_with_an_example() {
    for args in [
        vec!["rules", "check", "--help"],
        vec!["rules", "test", "--help"],
        vec!["mail", "show", "--help"],
        vec!["--help"],
    ] {
        let o = leadpipe(&args);
        assert!(o.status.success(), "{args:?}");
        assert!(text(&o).contains("Example"), "{args:?}: {}", text(&o));
    }
}

#[test]
fn replay_reports_inputs_it_cannot_process_and_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).expect("mkdir");
    std::fs::copy(fixtures().join("emails/carportal-02.eml"), inputs.join("good.eml")).expect("copy");
    std::fs::write(inputs.join("not-ses.json"), "{\"hello\": 1}").expect("write");
    let s3_stored = r#"{"notificationType":"Received","mail":{"messageId":"m1"},"receipt":{"action":{"type":"S3","bucketName":"raw","objectKey":"inbound/m1"}}}"#;
    std::fs::write(inputs.join("s3-stored.json"), s3_stored).expect("write");
    let out = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_leadpipe"))
        .args(["replay", "--quiet", "--rules", "fixtures/rules/default.toml", "--out"])
        .arg(&out)
        .arg(&inputs)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LEADPIPE_KEY", r#"{"key_id":"test-cli","secret":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}"#)
        .output()
        .expect("leadpipe runs");
    let printed = text(&o);
    assert_eq!(o.status.code(), Some(1), "{printed}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report")).expect("json");
    assert_eq!(report["mails_read"], 3);
    assert_eq!(report["leads_delivered"], 1);
    let errors = report["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(printed.contains("not-ses.json: not an SES notification"), "{printed}");
    assert!(printed.contains("mail is stored in s3://raw/inbound/m1"), "{printed}");
}
