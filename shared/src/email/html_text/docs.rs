//! The HTML bodies converted while a mail was built, kept for the `html_table` extractors: the document tree of
//! a small body (so it is parsed once), the element count of a large one (so its tree is built only within the
//! limits).

use super::{element_count, streamed_within, tree, HtmlLimits};
use scraper::Html;

/// HTML bodies converted to text while an [`Email`](crate::email::Email) was built (its text body, or a forwarded
/// message's, made from HTML), by the address of the HTML each came from. An address only means something for
/// the Email built alongside, while it is not modified.
#[derive(Default)]
pub struct HtmlDocs {
    limits: HtmlLimits,
    made: Vec<((usize, usize), Made)>,
}

/// What converting one body left.
enum Made {
    /// The document tree of a small body.
    Tree(Html),
    /// A large body's number of elements.
    Streamed { elements: usize },
}

impl HtmlDocs {
    /// Conversions within `limits`.
    pub fn with_limits(limits: HtmlLimits) -> Self {
        Self { limits, made: Vec::new() }
    }

    /// Converts `html` to text lines, keeping its tree when it is small and its element count when not.
    pub(crate) fn text_of(&mut self, html: &str) -> String {
        if html.len() <= self.limits.tree_max_bytes {
            let doc = Html::parse_document(html);
            let text = tree::text_of(&doc, html.len());
            self.made.push((key(html), Made::Tree(doc)));
            return text;
        }
        let (text, elements) = streamed_within(html, &self.limits);
        self.made.push((key(html), Made::Streamed { elements }));
        text
    }

    /// The tree kept for `html`, when it is one of the small bodies.
    pub(crate) fn get(&self, html: &str) -> Option<&Html> {
        match self.find(html)? {
            Made::Tree(doc) => Some(doc),
            Made::Streamed { .. } => None,
        }
    }

    /// A new document tree of `html` for the `html_table` extractors, or, when it is a large body with more
    /// elements than the limits allow, (its element count, the limit).
    pub(crate) fn tree_for_tables(&self, html: &str) -> Result<Html, (usize, usize)> {
        if html.len() > self.limits.tree_max_bytes {
            let elements = match self.find(html) {
                Some(Made::Streamed { elements }) => *elements,
                _ => element_count(html),
            };
            if elements > self.limits.tree_max_elements {
                return Err((elements, self.limits.tree_max_elements));
            }
        }
        Ok(Html::parse_document(html))
    }

    fn find(&self, html: &str) -> Option<&Made> {
        let k = key(html);
        self.made.iter().find(|(at, _)| *at == k).map(|(_, made)| made)
    }
}

fn key(html: &str) -> (usize, usize) {
    (html.as_ptr() as usize, html.len())
}
