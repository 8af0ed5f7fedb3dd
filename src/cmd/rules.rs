//! `leadpipe rules check|test`.

use anyhow::Result;
use clap::{Args, Subcommand};
use leadpipe_shared::RuleSet;
use std::path::PathBuf;
use std::process::ExitCode;

/// `leadpipe rules ...`
#[derive(Subcommand)]
pub enum RulesCommand {
    /// Validate a rules file and print a summary.
    ///
    /// Example: leadpipe rules check fixtures/rules/default.toml
    #[command(
        after_help = "Example:\n  leadpipe rules check fixtures/rules/default.toml\n\nExit status: 0 valid, 1 invalid."
    )]
    Check {
        /// The rules file (.toml, .yaml or .yml).
        file: PathBuf,
    },
    /// Run rules over sample mails, compare with expected results, and print coverage.
    #[command(after_help = "Example:\n  leadpipe rules test --rules fixtures/rules/default.toml fixtures/emails\n\n\
        Expected results are read from <mail stem>.expected.json beside each mail, or from an `expected/` folder\n\
        beside the folder given (fixtures/emails -> fixtures/expected/). --bless rewrites them on purpose.\n\n\
        Exit status: 0 all match, 1 a mismatch (or, with --strict, a gap), 2 usage or rules error.")]
    Test(TestArgs),
}

/// Arguments of `rules test`.
#[derive(Args)]
pub struct TestArgs {
    /// The rules file.
    #[arg(long)]
    pub rules: PathBuf,
    /// Mail files or folders (searched recursively for .eml, .msg and .txt files).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Write the actual results as the new expected files (after an intended change; review the diff).
    #[arg(long)]
    pub bless: bool,
    /// Also fail when a mail has no expected file, a rule matched no mail, or a field was never extracted.
    #[arg(long)]
    pub strict: bool,
    /// Print only mismatches and the summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also print each lead as it leaves extract: anonymized under the policy, with the scrubbed subject.
    /// Needs a key (LEADPIPE_KEY, LEADPIPE_KEY_FILE or --key-file).
    #[arg(long)]
    pub anonymized: bool,
    /// The pseudonym key file (JSON {"key_id": ..., "secret": ...}) for --anonymized.
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// Maximum mail size in bytes (larger mails are quarantined as too_large).
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    pub max_bytes: usize,
    /// The most nodes a mail's HTML document trees may have, their HTML counted at 128 bytes to a node
    /// (`html_table` fields find nothing past it), as with the pipeline setting `max_html_nodes`.
    #[arg(long, default_value_t = leadpipe_shared::config::default_max_html_nodes())]
    pub max_html_nodes: usize,
}

/// Runs a `rules` subcommand.
pub fn run(cmd: RulesCommand) -> Result<ExitCode> {
    match cmd {
        RulesCommand::Check { file } => Ok(check(&file)),
        RulesCommand::Test(args) => super::rules_test::run(&args),
    }
}

fn check(file: &std::path::Path) -> ExitCode {
    let rules = match RuleSet::load(file) {
        Ok(r) => r,
        Err(e) => {
            for p in e.problems() {
                eprintln!("error: {p}");
            }
            return ExitCode::FAILURE;
        }
    };
    let fields: usize = rules.rules().iter().map(|r| r.fields.len()).sum();
    let pii: usize = rules.rules().iter().flat_map(|r| &r.fields).filter(|f| f.pii.is_personal()).count();
    println!("{}: OK - {} rules, {} fields ({} PII fields)", file.display(), rules.rules().len(), fields, pii);
    println!(
        "{:<28} {:>7} {:>8} {:>6} {:>4}  {:<5} {:<9} PII classes",
        "rule", "version", "priority", "fields", "req", "auth", "message"
    );
    for r in rules.rules() {
        let mut classes: Vec<&str> = r.fields.iter().filter(|f| f.pii.is_personal()).map(|f| f.pii.as_str()).collect();
        classes.sort_unstable();
        classes.dedup();
        println!(
            "{:<28} {:>7} {:>8} {:>6} {:>4}  {:<5} {:<9} {}",
            r.id,
            r.version,
            r.priority,
            r.fields.len(),
            r.fields.iter().filter(|f| f.required).count(),
            if r.require_auth { "yes" } else { "no" },
            match r.matcher.scope {
                leadpipe_shared::rules::MessageScope::Outer => "outer",
                leadpipe_shared::rules::MessageScope::Forwarded => "forwarded",
            },
            if classes.is_empty() { "-".to_string() } else { classes.join(",") }
        );
    }
    ExitCode::SUCCESS
}
