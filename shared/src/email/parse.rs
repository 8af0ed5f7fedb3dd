//! Raw bytes -> [`Email`] with mail-parser: charsets, transfer encodings, HTML-to-text and nesting.

use super::header_parsers;
use super::html_text::HtmlLimits;
use super::{Attachment, Email, HtmlDocs, Mailbox};
use chrono::{DateTime, Utc};
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{Address, HeaderName, HeaderValue, MessagePart, MimeHeaders, PartType};

/// Limits applied before and during parsing.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// Mails larger than this many bytes are rejected as `too_large` without being parsed.
    pub max_bytes: usize,
    /// Nested messages deeper than this are kept as attachments instead of being parsed.
    pub max_nesting: usize,
    /// When an HTML body's document tree is built (memory).
    pub html: HtmlLimits,
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self { max_bytes: 10 * 1024 * 1024, max_nesting: 4, html: HtmlLimits::default() }
    }
}

/// Why raw bytes could not become an [`Email`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The mail exceeds [`ParseLimits::max_bytes`].
    #[error("mail is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Size of the mail in bytes.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// No RFC 5322 header could be found.
    #[error("no RFC 5322 header found in {size} bytes")]
    Unparseable {
        /// Size of the input in bytes.
        size: usize,
    },
}

impl Email {
    /// Parses raw RFC 5322/MIME bytes. Decoding problems are repaired (invalid bytes become U+FFFD),
    /// never a panic; only oversize input and input without any header are errors.
    pub fn parse(raw: &[u8], limits: &ParseLimits) -> Result<Email, ParseError> {
        Self::parse_keeping_html(raw, limits, &|_| false).map(|(email, _)| email)
    }

    /// [`Email::parse`], also returning the HTML documents parsed to make text bodies, for the extractors: the
    /// document trees of the HTML bodies of the messages (the mail, forwarded ones) for which `tables_read` is true,
    /// built in the same pass as their texts, and those that the texts needed.
    pub(crate) fn parse_keeping_html(
        raw: &[u8],
        limits: &ParseLimits,
        tables_read: &dyn Fn(&Email) -> bool,
    ) -> Result<(Email, HtmlDocs), ParseError> {
        if raw.len() > limits.max_bytes {
            return Err(ParseError::TooLarge { size: raw.len(), limit: limits.max_bytes });
        }
        let message = header_parsers::message_parser()
            .parse(raw)
            .filter(|m| !m.parts.is_empty() && has_real_headers(m))
            .ok_or(ParseError::Unparseable { size: raw.len() })?;
        let mut docs = HtmlDocs::with_limits(limits.html);
        let email = from_message(&message, limits.max_nesting, &mut docs, tables_read);
        Ok((email, docs))
    }
}

/// Binary junk can look like headers to a lenient parser; a real mail has field names made of printable ASCII
/// (RFC 5322 section 2.2). At least one header, and most of them, must have such a name.
fn has_real_headers(message: &mail_parser::Message<'_>) -> bool {
    let headers = &message.root_part().headers;
    let valid = headers
        .iter()
        .filter(|h| {
            let name = h.name();
            !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
        })
        .count();
    valid > 0 && valid * 2 >= headers.len()
}

fn from_message(
    message: &mail_parser::Message<'_>,
    depth_left: usize,
    docs: &mut HtmlDocs,
    tables_read: &dyn Fn(&Email) -> bool,
) -> Email {
    let raw = message.raw_message();
    let root_headers = &message.root_part().headers;
    let headers = root_headers.iter().map(|h| (h.name().to_string(), header_text(h, raw))).collect();
    let received_at = root_headers
        .iter()
        .find(|h| h.name == HeaderName::Received)
        .and_then(|h| header_parsers::received_date(&header_text(h, raw)));
    let body_of = |ids: &[u32], html: bool| {
        ids.iter().find_map(|id| {
            let part = message.part(*id)?;
            match (&part.body, html) {
                (PartType::Html(_), true) | (PartType::Text(_), false) => part_text(raw, part),
                _ => None,
            }
        })
    };
    let html = body_of(&message.html_body, true);
    let plain = body_of(&message.text_body, false);
    let mut email = Email {
        from: message.from().and_then(first_mailbox),
        reply_to: message.reply_to().map(mailboxes).unwrap_or_default(),
        to: message.to().map(mailboxes).unwrap_or_default(),
        subject: message.subject().map(|s| s.trim().to_string()),
        date: message.date().and_then(|d| DateTime::<Utc>::from_timestamp(d.to_timestamp(), 0)),
        received_at,
        message_id: message.message_id().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
        headers,
        text: plain,
        html,
        had_decoding_problem: message.parts.iter().any(|p| p.is_encoding_problem),
        ..Email::default()
    };
    if email.text.is_none() {
        // The headers are read: whether a rule may read the body's tables is known.
        let tree_wanted = email.html.is_some() && tables_read(&email);
        email.text = email.html.as_deref().map(|h| docs.text_of(h, tree_wanted));
    }
    for part in message.attachments() {
        match &part.body {
            PartType::Message(inner) if depth_left > 0 => {
                email.forwarded.push(from_message(inner, depth_left - 1, docs, tables_read))
            }
            _ => email.attachments.push(attachment(raw, part)),
        }
    }
    if email.text.is_none() && email.html.is_none() {
        adopt_unnamed_text_attachment(&mut email, docs, tables_read);
    }
    email
}

/// Broken MIME (an unclosed boundary, a wrong multipart type) can make a parser file the body as an
/// attachment. When a mail has no body at all, its first unnamed text attachment is the body.
fn adopt_unnamed_text_attachment(email: &mut Email, docs: &mut HtmlDocs, tables_read: &dyn Fn(&Email) -> bool) {
    let Some(i) = email
        .attachments
        .iter()
        .position(|a| a.name.is_none() && matches!(a.content_type.as_str(), "text/plain" | "text/html"))
    else {
        return;
    };
    let a = email.attachments.remove(i);
    let text = a.text.unwrap_or_default();
    if a.content_type == "text/html" {
        email.text = Some(docs.text_of(&text, tables_read(email)));
        email.html = Some(text);
    } else {
        email.text = Some(text);
    }
    email.had_decoding_problem = true;
}

/// The decoded text of a text part. mail-parser gives up on base64 with stray characters (and hands back the
/// encoded text); such a part is decoded again leniently, skipping everything outside the base64 alphabet.
fn part_text(raw: &[u8], part: &MessagePart<'_>) -> Option<String> {
    let decoded = match &part.body {
        PartType::Text(t) | PartType::Html(t) => t.to_string(),
        PartType::Binary(b) | PartType::InlineBinary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => return None,
    };
    let is_base64 = part.content_transfer_encoding().is_some_and(|c| c.trim().eq_ignore_ascii_case("base64"));
    if is_base64 && (part.is_encoding_problem || looks_like_base64(&decoded)) {
        let start = (part.offset_body as usize).min(raw.len());
        let end = (part.offset_end as usize).clamp(start, raw.len());
        if let Some(bytes) = lenient_base64(&raw[start..end]) {
            let charset = part.content_type().and_then(|ct| ct.attribute("charset")).unwrap_or("utf-8");
            return Some(match charset_decoder(charset.as_bytes()) {
                Some(decode) => decode(&bytes),
                None => String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
    }
    Some(decoded)
}

/// True when "decoded" text is still base64: a decoder gave up and returned its input.
fn looks_like_base64(text: &str) -> bool {
    let sample = text.trim().as_bytes();
    let sample = &sample[..sample.len().min(512)];
    sample.len() >= 16
        && sample.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\r' | b'\n' | b' '))
}

/// Base64 decoding that skips characters outside the alphabet and ignores a trailing partial quantum.
fn lenient_base64(encoded: &[u8]) -> Option<Vec<u8>> {
    let mut clean: Vec<u8> = encoded
        .iter()
        .copied()
        .take_while(|&b| b != b'-') // the next boundary line starts with "--"
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        .collect();
    clean.truncate(clean.len() / 4 * 4);
    data_encoding::BASE64_NOPAD.decode(&clean).ok()
}

/// A header's value as text: decoded for unstructured headers, the unfolded raw value otherwise.
fn header_text(h: &mail_parser::Header<'_>, raw: &[u8]) -> String {
    match h.value() {
        HeaderValue::Text(t) => t.to_string(),
        HeaderValue::TextList(list) => list.join(", "),
        _ => {
            let start = (h.offset_start() as usize).min(raw.len());
            let end = (h.offset_end() as usize).clamp(start, raw.len());
            let value = String::from_utf8_lossy(&raw[start..end]);
            value.split_whitespace().collect::<Vec<_>>().join(" ")
        }
    }
}

fn first_mailbox(addr: &Address<'_>) -> Option<Mailbox> {
    mailboxes(addr).into_iter().next()
}

fn mailboxes(addr: &Address<'_>) -> Vec<Mailbox> {
    addr.iter()
        .filter_map(|a| {
            let address = a.address()?.trim().to_lowercase();
            (!address.is_empty())
                .then(|| Mailbox { name: a.name().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()), address })
        })
        .collect()
}

fn attachment(raw: &[u8], part: &MessagePart<'_>) -> Attachment {
    let content_type = part
        .content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        })
        .unwrap_or_else(|| "application/octet-stream".into())
        .to_lowercase();
    let is_textual =
        content_type.starts_with("text/") || content_type.ends_with("/xml") || content_type.ends_with("+xml");
    let text = match &part.body {
        PartType::Text(_) | PartType::Html(_) => part_text(raw, part),
        PartType::Binary(_) | PartType::InlineBinary(_) if is_textual => part_text(raw, part),
        _ => None,
    };
    Attachment { name: part.attachment_name().map(str::to_string), content_type, size: part.len(), text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Email {
        Email::parse(raw.as_bytes(), &ParseLimits::default()).expect("parses")
    }

    #[test]
    fn headers_addresses_and_plain_body() {
        let e = parse(
            "From: Cars Example <Leads@Cars.Example>\r\nReply-To: Jane Doe <jane.doe@example.net>\r\n\
             To: sales@dealer.example.com\r\nSubject: =?UTF-8?Q?New_lead_=E2=80=93_Zo=C3=AB?=\r\n\
             Date: Fri, 20 Nov 2026 09:15:00 -0500\r\nMessage-ID: <abc@cars.example>\r\n\
             X-Lead-Source: web\r\n\r\nName: Jane\r\n",
        );
        let from = e.from.as_ref().expect("from");
        assert_eq!(from.address, "leads@cars.example");
        assert_eq!(e.sender_domain(), Some("cars.example"));
        assert_eq!(e.reply_to[0].name.as_deref(), Some("Jane Doe"));
        assert_eq!(e.subject.as_deref(), Some("New lead – Zoë"));
        assert_eq!(e.message_id.as_deref(), Some("abc@cars.example"));
        assert_eq!(e.date.map(|d| d.to_rfc3339()), Some("2026-11-20T14:15:00+00:00".into()));
        assert_eq!(e.header("x-lead-source"), Some("web"));
        assert_eq!(e.text.as_deref(), Some("Name: Jane\r\n"));
        assert!(e.html.is_none());
    }

    #[test]
    fn html_only_mail_gets_a_text_body() {
        let e = parse(
            "From: a@homes.example\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
             <html><body><table><tr><th>Name</th><td>Jane</td></tr></table></body></html>",
        );
        assert!(e.html.as_deref().is_some_and(|h| h.contains("<th>Name</th>")));
        let text = e.text.expect("text");
        assert!(text.contains("Name") && text.contains("Jane"), "{text}");
    }

    #[test]
    fn trees_parsed_for_text_bodies_are_kept() {
        let raw = "From: a@homes.example\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
             --b\r\nContent-Type: text/html\r\n\r\n<table>fostered<tr><th>Name</th><td>Jane</td></tr></table>\r\n\
             --b\r\nContent-Type: message/rfc822\r\n\r\n\
             From: p@dealer.example\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n\
             --c\r\nContent-Type: text/plain\r\n\r\nName: Joe\r\n--c\r\nContent-Type: text/html\r\n\r\n\
             <p>Name: <b>Joe</b></p>\r\n--c--\r\n--b--\r\n";
        let (e, docs) = Email::parse_keeping_html(raw.as_bytes(), &ParseLimits::default(), &|_| true).expect("parses");
        let th = scraper::Selector::parse("th").expect("selector");
        let html = e.html.as_deref().expect("html body");
        let doc = docs.get(html).expect("the tree built with the text body");
        assert_eq!(doc.select(&th).next().map(|n| n.inner_html()).as_deref(), Some("Name"));
        // Equal text elsewhere is not the same body; a forwarded message with a text/plain body keeps no document.
        let same_text_elsewhere = html.to_owned();
        assert!(docs.get(&same_text_elsewhere).is_none());
        let fwd = &e.forwarded[0];
        assert_eq!(fwd.text.as_deref(), Some("Name: Joe"));
        assert!(docs.get(fwd.html.as_deref().expect("forwarded html")).is_none());
    }

    #[test]
    fn trees_are_built_with_the_texts_only_where_tables_may_be_read() {
        let raw = "From: a@homes.example\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
             --b\r\nContent-Type: text/html\r\n\r\n<table><tr><th>Name</th><td>Jane</td></tr></table>\r\n\
             --b\r\nContent-Type: message/rfc822\r\n\r\n\
             From: p@dealer.example\r\nContent-Type: text/html\r\n\r\n<p>Name: <b>Joe</b></p>\r\n--b--\r\n";
        let outer_only = |m: &Email| m.from.as_ref().is_some_and(|f| f.address == "a@homes.example");
        let (e, docs) =
            Email::parse_keeping_html(raw.as_bytes(), &ParseLimits::default(), &outer_only).expect("parses");
        let (outer, inner) = (e.html.as_deref().expect("html"), e.forwarded[0].html.as_deref().expect("forwarded"));
        assert!(docs.get(outer).is_some(), "built with the text");
        assert!(docs.get(inner).is_none(), "not wanted, and its text is exact without one");
        assert_eq!(
            docs.tree_for_tables(inner).map(|t| t.root_element().text().collect::<String>()),
            Ok("Name: Joe".into())
        );
        let (none, docs) =
            Email::parse_keeping_html(raw.as_bytes(), &ParseLimits::default(), &|_| false).expect("parses");
        assert!(docs.get(none.html.as_deref().expect("html")).is_none());
        assert_eq!((none.text, &none.forwarded[0].text), (e.text.clone(), &e.forwarded[0].text), "the same texts");
        assert_eq!(e.text.as_deref(), Some("Name\tJane\n"));
    }

    #[test]
    fn a_body_filed_as_an_unnamed_html_attachment_is_the_body() {
        let raw = "From: a@rentals.example\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
             --b\r\nContent-Type: text/html\r\nContent-Disposition: attachment\r\n\r\n<p>Name: <b>Jane</b></p>\r\n--b--\r\n";
        let (e, docs) = Email::parse_keeping_html(raw.as_bytes(), &ParseLimits::default(), &|_| true).expect("parses");
        assert!(e.had_decoding_problem && e.attachments.is_empty(), "{e:?}");
        assert_eq!(e.text.as_deref(), Some("Name: Jane\n"));
        assert!(docs.get(e.html.as_deref().expect("adopted html")).is_some());
    }

    #[test]
    fn an_email_can_cross_threads() {
        fn send_and_sync<T: Send + Sync>() {}
        send_and_sync::<Email>();
    }

    #[test]
    fn latin1_quoted_printable_is_decoded() {
        let raw = b"From: a@b.example\r\nSubject: =?ISO-8859-1?Q?Anfrage_f=FCr?=\r\n\
            Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
            Stra=DFe: Hauptstra=DFe 1\r\nOrt: M\xfcnchen\r\n";
        let e = Email::parse(raw, &ParseLimits::default()).expect("parses");
        assert_eq!(e.subject.as_deref(), Some("Anfrage für"));
        assert_eq!(e.text.as_deref(), Some("Straße: Hauptstraße 1\r\nOrt: München\r\n"));
    }

    #[test]
    fn forwarded_message_is_nested() {
        let e = parse(
            "From: Pat <pat@dealer.example.com>\r\nSubject: Fwd: lead\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nFYI\r\n\
             --b\r\nContent-Type: message/rfc822\r\n\r\nFrom: leads@cars.example\r\nSubject: New lead\r\n\r\n\
             Name: Jane\r\n--b--\r\n",
        );
        assert_eq!(e.text.as_deref().map(str::trim), Some("FYI"));
        assert_eq!(e.forwarded.len(), 1);
        assert_eq!(e.forwarded[0].sender_domain(), Some("cars.example"));
        assert_eq!(e.forwarded[0].text.as_deref().map(str::trim), Some("Name: Jane"));
        assert!(e.attachments.is_empty());
    }

    #[test]
    fn size_limit_and_headerless_input_are_rejected() {
        let limits = ParseLimits { max_bytes: 10, ..Default::default() };
        assert_eq!(
            Email::parse(b"From: a@b.example\r\n\r\nbody", &limits).err(),
            Some(ParseError::TooLarge { size: 25, limit: 10 })
        );
        let junk: Vec<u8> = (0..2048u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        assert!(matches!(Email::parse(&junk, &ParseLimits::default()), Err(ParseError::Unparseable { .. })));
        assert!(matches!(Email::parse(b"", &ParseLimits::default()), Err(ParseError::Unparseable { .. })));
    }

    #[test]
    fn received_date_is_the_topmost_received_headers() {
        let e = parse(
            "Received: from mx2.example by mx1.example; Fri, 20 Nov 2026 14:16:00 +0100\r\n\
             Received: from a by mx2.example; Fri, 20 Nov 2026 13:00:00 +0000\r\n\
             From: a@b.example\r\nDate: Fri, 20 Nov 2026 09:15:00 -0500\r\n\r\nbody",
        );
        assert_eq!(e.received_at.map(|d| d.to_rfc3339()), Some("2026-11-20T13:16:00+00:00".into()));
        assert_eq!(e.header("received"), Some("from mx2.example by mx1.example; Fri, 20 Nov 2026 14:16:00 +0100"));
        let e = parse("Received: from a by b\r\nFrom: a@b.example\r\n\r\nbody");
        assert_eq!(e.received_at, None, "no date: none");
    }

    /// Passing over unused headers changes nothing leadpipe reads: every fixture and corpus mail gives the same
    /// [`Email`] as with mail-parser's default parse of every header.
    #[test]
    fn skipped_headers_change_nothing_read() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let shared = std::env::var_os("LEADPIPE_SHARED_DIR").map_or_else(|| root.join("../shared"), Into::into);
        let (mut files, mut dirs) = (Vec::new(), vec![root.join("fixtures/emails"), shared.join("corpus/mime")]);
        while let Some(dir) = dirs.pop() {
            for path in std::fs::read_dir(&dir).into_iter().flatten().flatten().map(|e| e.path()) {
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        let mut compared = 0;
        for path in files {
            let raw = std::fs::read(&path).expect("readable");
            let ours = header_parsers::message_parser().parse(&raw[..]);
            let default = mail_parser::MessageParser::default().parse(&raw[..]);
            let (Some(ours), Some(default)) = (ours, default) else {
                continue;
            };
            let email = |m: &mail_parser::Message<'_>| {
                format!("{:?}", from_message(m, 4, &mut HtmlDocs::default(), &|_| false))
            };
            assert_eq!(email(&ours), email(&default), "{}", path.display());
            compared += 1;
        }
        let corpus = shared.join("corpus/mime").is_dir();
        assert!(compared >= if corpus { 200 } else { 45 }, "{compared} mails compared (corpus found: {corpus})");
    }
}
