//! `leadpipe mail show`: what the rules see of a mail (decoded headers, text body, attachments, forwarded
//! messages), for operators writing rules.

use anyhow::{Context, Result};
use clap::Subcommand;
use leadpipe_shared::email::{Email, ParseLimits};
use std::path::PathBuf;
use std::process::ExitCode;

/// `leadpipe mail ...`
#[derive(Subcommand)]
pub enum MailCommand {
    /// Print the parsed mail as the rules see it. Shows the mail's content: use it on your own samples.
    #[command(after_help = "Example:\n  leadpipe mail show fixtures/emails/carportal-01.eml")]
    Show {
        /// The mail file (.eml).
        file: PathBuf,
        /// Also print the HTML body.
        #[arg(long)]
        html: bool,
    },
}

/// Runs a `mail` subcommand.
pub fn run(cmd: MailCommand) -> Result<ExitCode> {
    let MailCommand::Show { file, html } = cmd;
    let raw = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    match Email::parse(&raw, &ParseLimits::default()) {
        Ok(email) => {
            print_email(&email, html, 0);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

fn print_email(e: &Email, html: bool, depth: usize) {
    let pad = "    ".repeat(depth);
    let mailbox = |m: &leadpipe_shared::email::Mailbox| match &m.name {
        Some(n) => format!("{n} <{}>", m.address),
        None => m.address.clone(),
    };
    println!("{pad}From:       {}", e.from.as_ref().map(mailbox).unwrap_or_default());
    println!("{pad}Reply-To:   {}", e.reply_to.iter().map(mailbox).collect::<Vec<_>>().join(", "));
    println!("{pad}To:         {}", e.to.iter().map(mailbox).collect::<Vec<_>>().join(", "));
    println!("{pad}Subject:    {}", e.subject.as_deref().unwrap_or(""));
    println!("{pad}Date:       {}", e.date.map(|d| d.to_rfc3339()).unwrap_or_default());
    println!("{pad}Message-ID: {}", e.message_id.as_deref().unwrap_or(""));
    println!("{pad}Headers:    {}", e.headers.len());
    for (name, value) in &e.headers {
        println!("{pad}  {name}: {value}");
    }
    if e.had_decoding_problem {
        println!("{pad}(some part had a decoding problem; invalid bytes were replaced)");
    }
    println!("{pad}--- text body ---");
    for line in e.text.as_deref().unwrap_or("(none)").lines() {
        println!("{pad}{line}");
    }
    if html {
        println!("{pad}--- html body ---");
        for line in e.html.as_deref().unwrap_or("(none)").lines() {
            println!("{pad}{line}");
        }
    }
    for a in &e.attachments {
        println!(
            "{pad}--- attachment {:?} ({}, {} bytes{}) ---",
            a.name.as_deref().unwrap_or(""),
            a.content_type,
            a.size,
            if a.text.is_some() { ", text" } else { "" }
        );
    }
    for inner in &e.forwarded {
        println!("{pad}--- forwarded message ---");
        print_email(inner, html, depth + 1);
    }
}
