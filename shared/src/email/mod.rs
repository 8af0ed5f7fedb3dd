//! The email model the rules see: decoded headers, the best text body, the HTML body, attachments and
//! forwarded (nested `message/rfc822`) messages, built from raw RFC 5322/MIME bytes by [`Email::parse`].

mod auth;
mod header_parsers;
pub mod html_text;
mod parse;

pub use auth::{AuthVerdicts, Verdict};
pub use html_text::html_to_text;
pub(crate) use html_text::HtmlDocs;
pub use parse::{ParseError, ParseLimits};

use chrono::{DateTime, Utc};

/// A parsed email, owned and independent of the raw bytes.
#[derive(Debug, Clone, Default)]
pub struct Email {
    /// The first From mailbox.
    pub from: Option<Mailbox>,
    /// Reply-To mailboxes (lead mails often carry the customer here).
    pub reply_to: Vec<Mailbox>,
    /// To mailboxes (the receiving business).
    pub to: Vec<Mailbox>,
    /// Decoded Subject.
    pub subject: Option<String>,
    /// Date header, in UTC.
    pub date: Option<DateTime<Utc>>,
    /// The date of the topmost Received header (when the last hop got it), in UTC.
    pub received_at: Option<DateTime<Utc>>,
    /// Message-ID without angle brackets.
    pub message_id: Option<String>,
    /// Every header in order: (name as written, decoded unfolded value).
    pub headers: Vec<(String, String)>,
    /// The best text body: text/plain, else the HTML body converted to text.
    pub text: Option<String>,
    /// The HTML body, decoded.
    pub html: Option<String>,
    /// Attachments (nested messages excluded: see `forwarded`).
    pub attachments: Vec<Attachment>,
    /// Nested `message/rfc822` parts, in order, e.g. a lead forwarded by a member of staff.
    pub forwarded: Vec<Email>,
    /// True when some part had a decoding problem (invalid charset, broken base64...) that was repaired.
    pub had_decoding_problem: bool,
}

/// A mailbox from an address header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mailbox {
    /// Display name, decoded.
    pub name: Option<String>,
    /// The address, lowercased.
    pub address: String,
}

impl Mailbox {
    /// The domain part of the address (after the last `@`), if any.
    pub fn domain(&self) -> Option<&str> {
        self.address.rsplit_once('@').map(|(_, d)| d).filter(|d| !d.is_empty())
    }
}

/// An attachment: its name, type and size; the decoded text for text and XML attachments.
#[derive(Debug, Clone, Default)]
pub struct Attachment {
    /// File name from Content-Disposition or Content-Type, if any.
    pub name: Option<String>,
    /// `type/subtype`, lowercased.
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: usize,
    /// Decoded text for `text/*` and `*/xml` attachments (invalid bytes replaced); `None` for binary ones.
    pub text: Option<String>,
}

impl Email {
    /// The decoded values of every header called `name` (case-insensitive), in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The first value of header `name`, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The sender's domain (From address), lowercased.
    pub fn sender_domain(&self) -> Option<&str> {
        self.from.as_ref().and_then(Mailbox::domain)
    }
}
