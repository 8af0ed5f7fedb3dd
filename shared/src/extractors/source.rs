//! Where in a mail an extractor looks: body text, HTML, subject, a header or an attachment.

use crate::email::Email;
use globset::{Glob, GlobMatcher};

/// A part of the mail given as text to an extractor.
#[derive(Debug, Clone)]
pub enum Source {
    /// The best text body (text/plain, else HTML converted to text).
    Text,
    /// The raw HTML body.
    Html,
    /// The decoded subject.
    Subject,
    /// The first value of the named header.
    Header(String),
    /// The text of the first attachment whose file name matches the glob.
    Attachment(GlobMatcher),
}

impl Source {
    /// Parses a `source` value from a rules file: `text`, `html`, `subject`, `header:NAME`, `attachment:GLOB`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(Self::Text),
            "html" => Ok(Self::Html),
            "subject" => Ok(Self::Subject),
            _ => {
                if let Some(name) = s.strip_prefix("header:").filter(|n| !n.trim().is_empty()) {
                    Ok(Self::Header(name.trim().to_string()))
                } else if let Some(glob) = s.strip_prefix("attachment:").filter(|g| !g.trim().is_empty()) {
                    let glob = Glob::new(&glob.trim().to_lowercase()).map_err(|e| format!("invalid glob: {e}"))?;
                    Ok(Self::Attachment(glob.compile_matcher()))
                } else {
                    Err(format!("unknown source {s:?} (expected text, html, subject, header:NAME or attachment:GLOB)"))
                }
            }
        }
    }

    /// The text of this source in `email`, if present.
    pub fn text<'a>(&self, email: &'a Email) -> Option<&'a str> {
        match self {
            Self::Text => email.text.as_deref(),
            Self::Html => email.html.as_deref(),
            Self::Subject => email.subject.as_deref(),
            Self::Header(name) => email.header(name),
            Self::Attachment(glob) => email
                .attachments
                .iter()
                .find(|a| a.name.as_deref().is_some_and(|n| glob.is_match(n.to_lowercase())))
                .and_then(|a| a.text.as_deref()),
        }
    }
}

/// Where an `xml_path` without `source` looks: the text body when it is an XML document, else the first
/// attachment that is XML by content type or file name.
pub(super) fn default_xml(email: &Email) -> Option<&str> {
    if let Some(text) = email.text.as_deref() {
        if text.trim_start().trim_start_matches('\u{feff}').trim_start().starts_with('<') {
            return Some(text);
        }
    }
    email
        .attachments
        .iter()
        .find(|a| {
            a.content_type.ends_with("/xml")
                || a.content_type.ends_with("+xml")
                || a.name.as_deref().is_some_and(|n| n.to_lowercase().ends_with(".xml"))
        })
        .and_then(|a| a.text.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::Attachment;

    fn email() -> Email {
        Email {
            text: Some("  \u{feff}<?xml version=\"1.0\"?><adf/>".into()),
            headers: vec![("X-Lead-Id".into(), "L-1".into())],
            attachments: vec![
                Attachment { name: Some("logo.PNG".into()), content_type: "image/png".into(), size: 3, text: None },
                Attachment {
                    name: Some("Lead.XML".into()),
                    content_type: "application/octet-stream".into(),
                    size: 6,
                    text: Some("<adf/>".into()),
                },
            ],
            ..Email::default()
        }
    }

    #[test]
    fn parse_and_read_sources() {
        let e = email();
        assert_eq!(Source::parse("header:x-lead-id").expect("valid").text(&e), Some("L-1"));
        assert_eq!(Source::parse("attachment:*.xml").expect("valid").text(&e), Some("<adf/>"));
        assert_eq!(Source::parse("attachment:*.csv").expect("valid").text(&e), None);
        assert_eq!(Source::parse("html").expect("valid").text(&e), None);
        for bad in ["body", "header:", "attachment:", "attachment:[", "HTML"] {
            assert!(Source::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_xml_prefers_an_xml_body_then_an_xml_attachment() {
        let e = email();
        assert!(default_xml(&e).is_some_and(|x| x.contains("<?xml")));
        let no_body = Email { text: Some("Hello".into()), ..email() };
        assert_eq!(default_xml(&no_body), Some("<adf/>"));
    }
}
