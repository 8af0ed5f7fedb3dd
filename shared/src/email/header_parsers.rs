//! Which headers mail-parser parses, and how: its defaults, except for headers leadpipe reads only as raw text.

use mail_parser::{HeaderName, MessageParser};
use std::sync::LazyLock;

/// Headers whose parsed value leadpipe never uses: their text is taken from the raw bytes (as for every header
/// mail-parser parses into a structure, not text), so parsing them is wasted work. `Received` is the costliest of them (a
/// tokenizer per header, several per mail); its date is read on demand ([`received_date`]).
const SKIPPED: [HeaderName<'static>; 15] = [
    HeaderName::Received,
    HeaderName::Cc,
    HeaderName::Bcc,
    HeaderName::Sender,
    HeaderName::ResentTo,
    HeaderName::ResentFrom,
    HeaderName::ResentBcc,
    HeaderName::ResentCc,
    HeaderName::ResentSender,
    HeaderName::ResentDate,
    HeaderName::ListArchive,
    HeaderName::ListHelp,
    HeaderName::ListId,
    HeaderName::ListOwner,
    HeaderName::ListPost,
];

/// The parser every mail goes through (built once): mail-parser's default parse per header, `List-Subscribe`,
/// `List-Unsubscribe` and the [`SKIPPED`] headers passed over.
pub(super) fn message_parser() -> &'static MessageParser {
    static PARSER: LazyLock<MessageParser> = LazyLock::new(|| {
        // The same parsers as mail-parser's built-in choice (`parse_headers` with no configured header).
        let parser = MessageParser::new()
            .with_mime_headers()
            .header_text(HeaderName::Subject)
            .header_text(HeaderName::Comments)
            .header_address(HeaderName::From)
            .header_address(HeaderName::To)
            .header_address(HeaderName::ReplyTo)
            .header_date(HeaderName::Date)
            .header_id(HeaderName::MessageId)
            // Ids read as text (`Return-Path` without its brackets): parsed as before.
            .header_id(HeaderName::ReturnPath)
            .header_id(HeaderName::References)
            .header_id(HeaderName::InReplyTo)
            .header_id(HeaderName::ResentMessageId)
            .header_comma_separated(HeaderName::Keywords)
            .header_comma_separated(HeaderName::ContentLanguage)
            .header_raw(HeaderName::MimeVersion)
            .ignore_header(HeaderName::ListSubscribe)
            .ignore_header(HeaderName::ListUnsubscribe);
        SKIPPED.into_iter().fold(parser, MessageParser::ignore_header)
    });
    &PARSER
}

/// The date of a `Received` header's value: after its last `;` (RFC 5322 section 3.6.7).
pub(super) fn received_date(value: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let (_, date) = value.rsplit_once(';')?;
    let date = mail_parser::DateTime::parse_rfc822(date.trim())?;
    date.is_valid().then(|| chrono::DateTime::from_timestamp(date.to_timestamp(), 0)).flatten()
}
