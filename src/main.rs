//! `leadpipe`: the operator's command-line tool. Thin: argument parsing and printing; the work is in
//! `leadpipe-shared`.

mod cmd;
mod local;
mod quarantine;
mod sinks;
mod stack;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Turns ad-interaction emails into clean, privacy-safe lead events.
#[derive(Parser)]
#[command(
    name = "leadpipe",
    version,
    about,
    long_about = None,
    after_help = "Example:\n  leadpipe rules test --rules fixtures/rules/default.toml fixtures/emails"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check and try extraction rules.
    #[command(subcommand)]
    Rules(cmd::rules::RulesCommand),
    /// Run the whole pipeline in one process over mails (no services needed).
    Replay(cmd::replay::ReplayArgs),
    /// Inspect mails as leadpipe parses them.
    #[command(subcommand)]
    Mail(cmd::mail::MailCommand),
    /// Run the functions on local services (moto + a Kafka broker) and send mails through them.
    #[command(subcommand)]
    Local(cmd::local::LocalCommand),
    /// Inspect dead-letter queues and redrive their messages.
    #[command(subcommand)]
    Dlq(cmd::dlq::DlqCommand),
    /// List quarantined mail and reprocess it with the current rules.
    #[command(subcommand)]
    Quarantine(cmd::quarantine::QuarantineCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Rules(c) => cmd::rules::run(c),
        Command::Mail(c) => cmd::mail::run(c),
        Command::Replay(a) => cmd::replay::run(&a),
        Command::Local(c) => cmd::local::run(c),
        Command::Dlq(c) => cmd::dlq::run(c),
        Command::Quarantine(c) => cmd::quarantine::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
