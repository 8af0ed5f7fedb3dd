//! Field extractors: where in an email a field's raw text is found. Each kind lives in its own file;
//! [`Extractor::find`] dispatches. Parsed HTML and XML are cached per mail in a [`Context`] so several fields
//! reading the same table or ADF document parse it once; an HTML document parsed to make the text body is reused.

mod html_table;
mod label;
mod source;
mod xml_path;

pub use html_table::HtmlTable;
use html_table::LabelCells;
pub use label::{label_lines, Label};
pub use source::Source;
pub use xml_path::{XmlPath, XmlPathError};

use crate::email::html_text::NoTree;
use crate::email::{Email, HtmlDocs};
use crate::rules::RulePattern;
use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

/// How one field's raw text is found in a mail.
#[derive(Debug, Clone)]
pub enum Extractor {
    /// The `value` group of the first match of a regex in a source.
    Regex {
        /// Compiled pattern, known to have a group named `value`.
        regex: RulePattern,
        /// Where to search.
        source: Source,
    },
    /// A `Label: value` line in the text body.
    Label(Label),
    /// A cell of an HTML table (next to a label cell) or an element picked by a CSS selector.
    HtmlTable(HtmlTable),
    /// An element or attribute of an XML document (ADF leads).
    XmlPath {
        /// Compiled path.
        path: XmlPath,
        /// Where the XML is; `None` = the text body if it is XML, else the first XML attachment.
        source: Option<Source>,
    },
    /// A fixed value.
    Constant(String),
}

impl Extractor {
    /// The extractor kind as written in rules files.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Regex { .. } => "regex",
            Self::Label(_) => "label",
            Self::HtmlTable(_) => "html_table",
            Self::XmlPath { .. } => "xml_path",
            Self::Constant(_) => "constant",
        }
    }

    /// Finds the raw (untrimmed, untyped) text of the field, if present.
    pub fn find(&self, ctx: &Context<'_>) -> Option<String> {
        match self {
            Self::Regex { regex, source } => {
                let text = source.text(ctx.email)?;
                regex.captures(text)?.name("value").map(|m| m.as_str().to_string())
            }
            Self::Label(label) => label.find_in_lines(ctx.lines()?),
            Self::HtmlTable(table) => {
                let doc = ctx.html()?;
                table.find_indexed(doc, || ctx.label_cells.get_or_init(|| LabelCells::of(doc)))
            }
            Self::XmlPath { path, source } => ctx.with_xml(source.as_ref(), |doc| path.find(doc)),
            Self::Constant(value) => Some(value.clone()),
        }
    }
}

/// One mail being extracted, with its HTML parsed lazily and at most once.
pub struct Context<'a> {
    /// The mail (or the forwarded message) the rule matched.
    pub email: &'a Email,
    /// Documents parsed while the mail was built (see [`Email::parse_keeping_html`]).
    parsed: Option<&'a HtmlDocs>,
    html: OnceCell<Option<scraper::Html>>,
    /// Why the HTML body got no document tree, once an `html_table` field asked.
    html_refused: Cell<Option<NoTree>>,
    /// The HTML document's label cells, read once for every `html_table` label field.
    label_cells: OnceCell<LabelCells>,
    /// The text body's lines without decoration ([`label::label_lines`]), split once for every label field.
    lines: OnceCell<Option<Vec<&'a str>>>,
    /// Parsed XML documents by the address of their text.
    xml: RefCell<Vec<(usize, Option<Rc<roxmltree::Document<'a>>>)>>,
}

impl<'a> Context<'a> {
    /// Starts extraction over `email`.
    pub fn new(email: &'a Email) -> Self {
        Self {
            email,
            parsed: None,
            html: OnceCell::new(),
            html_refused: Cell::new(None),
            label_cells: OnceCell::new(),
            lines: OnceCell::new(),
            xml: RefCell::new(Vec::new()),
        }
    }

    /// Starts extraction over `email`, reusing the HTML documents parsed while it was built.
    pub(crate) fn with_parsed(email: &'a Email, parsed: &'a HtmlDocs) -> Self {
        Self { parsed: Some(parsed), ..Self::new(email) }
    }

    fn lines(&self) -> Option<&[&'a str]> {
        self.lines.get_or_init(|| self.email.text.as_deref().map(label::label_lines)).as_deref()
    }

    fn html(&self) -> Option<&scraper::Html> {
        let html = self.email.html.as_deref()?;
        if let Some(doc) = self.parsed.and_then(|p| p.get(html)) {
            return Some(doc);
        }
        self.html
            .get_or_init(|| {
                let tree = match self.parsed {
                    Some(parsed) => parsed.tree_for_tables(html),
                    None => HtmlDocs::default().tree_for_tables(html),
                };
                tree.map_err(|refused| self.html_refused.set(Some(refused))).ok()
            })
            .as_ref()
    }

    /// Why an `html_table` field found nothing, when it is the HTML body's size or shape: too many nodes for a
    /// document tree (see [`crate::email::html_text::HtmlLimits`]), or too much work to build it (elements nested
    /// or reopened too often).
    pub fn html_refused(&self) -> Option<NoTree> {
        self.html_refused.get()
    }

    /// Runs `f` on the XML document of `source`, parsed once per mail and source text (an ADF rule reads
    /// twenty fields from one document).
    fn with_xml<T>(&self, source: Option<&Source>, f: impl FnOnce(&roxmltree::Document<'_>) -> Option<T>) -> Option<T> {
        let text: &'a str = match source {
            Some(s) => s.text(self.email)?,
            None => source::default_xml(self.email)?,
        };
        let key = text.as_ptr() as usize;
        let doc = {
            let mut cache = self.xml.borrow_mut();
            match cache.iter().find(|(k, _)| *k == key) {
                Some((_, doc)) => doc.clone(),
                None => {
                    let doc = xml_path::parse_document(text).map(Rc::new);
                    cache.push((key, doc.clone()));
                    doc
                }
            }
        }?;
        f(&doc)
    }
}

/// Applies the rules-file `trim` option: whitespace, trailing `,`/`;`, and surrounding quotes.
pub fn trim_value(raw: &str) -> &str {
    let s = raw.trim().trim_end_matches([',', ';']).trim();
    for (open, close) in [('"', '"'), ('\'', '\''), ('“', '”')] {
        if let Some(inner) = s.strip_prefix(open).and_then(|r| r.strip_suffix(close)) {
            return inner.trim();
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_removes_punctuation_and_quotes() {
        assert_eq!(trim_value("  \"Jane Doe\" ,"), "Jane Doe");
        assert_eq!(trim_value("x;"), "x");
        assert_eq!(trim_value("'a'"), "a");
        assert_eq!(trim_value("a\"b"), "a\"b");
    }

    #[test]
    fn regex_extractor_reads_its_source() {
        let email =
            Email { subject: Some("Lead #4711 for Listing".into()), text: Some("Ref: A-1".into()), ..Email::default() };
        let ctx = Context::new(&email);
        let ex = Extractor::Regex {
            regex: RulePattern::new(r"#(?P<value>\d+)", 1 << 20).expect("valid"),
            source: Source::Subject,
        };
        assert_eq!(ex.find(&ctx).as_deref(), Some("4711"));
        let ex = Extractor::Regex {
            regex: RulePattern::new(r"#(?P<value>\d+)", 1 << 20).expect("valid"),
            source: Source::Text,
        };
        assert_eq!(ex.find(&ctx), None);
    }
}
