//! `leadpipe rules test`: run the rules over sample mails, diff against expected results, print coverage.

use super::inputs::{self, MailFile};
use super::rules::TestArgs;
use anyhow::{Context, Result};
use leadpipe_shared::anonymize::Anonymizer;
use leadpipe_shared::email::html_text::HtmlLimits;
use leadpipe_shared::extraction::{extract_raw, FieldError, Outcome};
use leadpipe_shared::{ParseLimits, RuleSet};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Runs `rules test`.
pub fn run(args: &TestArgs) -> Result<ExitCode> {
    let rules = match RuleSet::load(&args.rules) {
        Ok(r) => r,
        Err(e) => {
            for p in e.problems() {
                eprintln!("error: {p}");
            }
            return Ok(ExitCode::from(2));
        }
    };
    let anonymizer = match args.anonymized {
        true => Some(Anonymizer::new(super::key::require(args.key_file.as_deref())?, rules.detector_config())),
        false => None,
    };
    let mails = inputs::collect(&args.paths)?;
    let limits = ParseLimits {
        max_bytes: args.max_bytes,
        html: HtmlLimits { max_nodes: args.max_html_nodes },
        ..ParseLimits::default()
    };
    let mut tally = Tally::default();
    for mail in &mails {
        let raw = std::fs::read(&mail.path).with_context(|| format!("cannot read {}", mail.path.display()))?;
        let (email, outcome) = extract_raw(&raw, &rules, &limits, None);
        let actual = golden(&outcome);
        if !args.quiet {
            print_outcome(&mail.path, &outcome);
            if let (Some(a), Outcome::Lead(x)) = (&anonymizer, &outcome) {
                let policy = &rules.get(&x.rule_id).expect("selected rules exist").policy;
                let lead = a.anonymize(x, policy, email.as_ref().and_then(|e| e.subject.as_deref()));
                println!("    as it leaves extract (key {}):", lead.key_id);
                for f in &lead.fields {
                    println!("      {:<20} = {}  ({}, {})", f.name, f.value, f.pii.as_str(), f.action.as_str());
                }
                println!("      {:<20} = {}", "(subject)", lead.subject.as_deref().unwrap_or(""));
                println!("      {:<20} = {}", "(pii summary)", serde_json::to_string(&lead.pii)?);
            }
        }
        tally.count(&outcome);
        let expected_path = expected_path(mail);
        match std::fs::read_to_string(&expected_path) {
            _ if args.bless => {
                write_expected(&expected_path, &actual)?;
                tally.blessed += 1;
            }
            Ok(text) => {
                let expected: Value = serde_json::from_str(&text)
                    .with_context(|| format!("{}: not valid JSON", expected_path.display()))?;
                let diffs = diff(&expected, &actual);
                if diffs.is_empty() {
                    tally.matched += 1;
                } else {
                    if args.quiet {
                        print_outcome(&mail.path, &outcome);
                    }
                    println!("    MISMATCH against {}:", expected_path.display());
                    for d in &diffs {
                        println!("      {d}");
                    }
                    tally.mismatched.push(mail.path.clone());
                }
            }
            Err(_) => tally.without_expected.push(mail.path.clone()),
        }
    }
    Ok(summarize(&rules, &tally, args))
}

#[derive(Default)]
struct Tally {
    per_rule: BTreeMap<String, usize>,
    quarantined: BTreeMap<String, usize>,
    fields_seen: BTreeSet<(String, String)>,
    matched: usize,
    blessed: usize,
    mismatched: Vec<PathBuf>,
    without_expected: Vec<PathBuf>,
}

impl Tally {
    fn count(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Lead(x) => {
                *self.per_rule.entry(x.rule_id.clone()).or_default() += 1;
                for f in &x.fields {
                    self.fields_seen.insert((x.rule_id.clone(), f.name.clone()));
                }
            }
            Outcome::Quarantined(q) => {
                *self.quarantined.entry(q.reason.to_string()).or_default() += 1;
            }
        }
    }
}

/// The stable, reviewable form of an outcome stored in expected files.
fn golden(outcome: &Outcome) -> Value {
    let errors = |errs: &[FieldError]| serde_json::to_value(errs).unwrap_or(Value::Null);
    match outcome {
        Outcome::Lead(x) => {
            let fields: Map<String, Value> = x
                .fields
                .iter()
                .map(|f| (f.name.clone(), serde_json::to_value(&f.value).unwrap_or(Value::Null)))
                .collect();
            json!({
                "outcome": "lead",
                "rule": format!("{}@{}", x.rule_id, x.rule_version),
                "forwarded": x.forwarded,
                "fields": fields,
                "field_errors": errors(&x.errors),
            })
        }
        Outcome::Quarantined(q) => json!({
            "outcome": "quarantined",
            "reason": q.reason.to_string(),
            "rule": q.rule_id.as_ref().map(|id| format!("{}@{}", id, q.rule_version.unwrap_or(0))),
            "field_errors": errors(&q.field_errors),
        }),
    }
}

fn print_outcome(path: &Path, outcome: &Outcome) {
    match outcome {
        Outcome::Lead(x) => {
            let fwd = if x.forwarded { " (forwarded message)" } else { "" };
            println!("{}: lead by {} v{}{}", path.display(), x.rule_id, x.rule_version, fwd);
            for f in &x.fields {
                println!("    {:<20} = {}", f.name, f.value);
            }
            for e in &x.errors {
                print_field_error(e);
            }
        }
        Outcome::Quarantined(q) => {
            let rule = q.rule_id.as_deref().map(|r| format!(" (rule {r})")).unwrap_or_default();
            println!("{}: quarantined: {}{} - {}", path.display(), q.reason, rule, q.detail);
            for e in &q.field_errors {
                print_field_error(e);
            }
        }
    }
}

fn print_field_error(e: &FieldError) {
    let detail = e.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
    println!("    ! {:<18} {:?}{}", e.field, e.problem, detail);
}

/// `<stem>.expected.json` beside the mail if it exists; else under an `expected/` folder beside the folder
/// given on the command line (keeping the relative path); else beside the mail.
fn expected_path(mail: &MailFile) -> PathBuf {
    let stem = mail.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = format!("{stem}.expected.json");
    let beside = mail.path.with_file_name(&name);
    if beside.exists() {
        return beside;
    }
    if mail.root.is_dir() {
        if let Some(expected_dir) = mail.root.parent().map(|p| p.join("expected")).filter(|d| d.is_dir()) {
            let rel = mail.path.strip_prefix(&mail.root).unwrap_or(&mail.path);
            return expected_dir.join(rel).with_file_name(&name);
        }
    }
    beside
}

fn write_expected(path: &Path, value: &Value) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Differences between expected and actual, one line each, as `path: expected X, got Y`.
fn diff(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_at("", expected, actual, &mut out);
    out
}

fn diff_at(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let keys: BTreeSet<&String> = e.keys().chain(a.keys()).collect();
            for k in keys {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match (e.get(k), a.get(k)) {
                    (Some(ev), Some(av)) => diff_at(&p, ev, av, out),
                    (Some(ev), None) => out.push(format!("{p}: expected {ev}, got nothing")),
                    (None, Some(av)) => out.push(format!("{p}: not expected, got {av}")),
                    (None, None) => {}
                }
            }
        }
        _ if expected != actual => out.push(format!("{path}: expected {expected}, got {actual}")),
        _ => {}
    }
}

fn summarize(rules: &RuleSet, t: &Tally, args: &TestArgs) -> ExitCode {
    let total: usize = t.per_rule.values().sum::<usize>() + t.quarantined.values().sum::<usize>();
    println!();
    println!("Coverage ({total} mails):");
    println!("  {:<28} {:>5}  fields never extracted", "rule", "mails");
    let mut gaps = 0;
    for r in rules.rules() {
        let n = t.per_rule.get(&r.id).copied().unwrap_or(0);
        let never: Vec<&str> = r
            .fields
            .iter()
            .filter(|f| !t.fields_seen.contains(&(r.id.clone(), f.name.clone())))
            .map(|f| f.name.as_str())
            .collect();
        if n == 0 || !never.is_empty() {
            gaps += 1;
        }
        let never = if never.is_empty() { "-".to_string() } else { never.join(", ") };
        println!("  {:<28} {:>5}  {}", r.id, n, never);
    }
    let unmatched: usize = t.quarantined.values().sum();
    println!("  not extracted: {unmatched}");
    for (reason, n) in &t.quarantined {
        println!("    {reason:<40} {n:>3}");
    }
    if args.bless {
        println!("Expected files written: {}", t.blessed);
        return ExitCode::SUCCESS;
    }
    println!(
        "Expected results: {} match, {} differ, {} without expected file",
        t.matched,
        t.mismatched.len(),
        t.without_expected.len()
    );
    for p in &t.without_expected {
        println!("  no expected file: {}", p.display());
    }
    let strict_gap = args.strict && (gaps > 0 || !t.without_expected.is_empty());
    if strict_gap {
        println!("--strict: coverage is incomplete ({gaps} rules with gaps)");
    }
    if t.mismatched.is_empty() && !strict_gap {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
