//! What converting a mail's HTML bodies leaves for its `html_table` extractors: the document tree built from the
//! same tokens as the text, or, for a body over the element limit, its element count.

use super::{convert, stream, HtmlLimits, TooManyElements};
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
    /// Its document tree.
    Tree(Html),
    /// Its element count, over the limit (no tree).
    Counted(usize),
}

impl HtmlDocs {
    /// Conversions within `limits`.
    pub fn with_limits(limits: HtmlLimits) -> Self {
        Self { limits, made: Vec::new() }
    }

    /// Converts `html` to text lines, keeping what the `html_table` extractors can use.
    pub(crate) fn text_of(&mut self, html: &str) -> String {
        let converted = convert(html, &self.limits);
        let made = match converted.tree {
            Some(tree) => Made::Tree(tree),
            None => Made::Counted(converted.elements),
        };
        self.made.push((key(html), made));
        converted.text
    }

    /// The tree kept for `html`, when it is one of the bodies and within the limit.
    pub(crate) fn get(&self, html: &str) -> Option<&Html> {
        match self.find(html)? {
            Made::Tree(tree) => Some(tree),
            Made::Counted(_) => None,
        }
    }

    /// A new document tree of `html` (one that is not among the bodies, or over the limit), unless it has more
    /// elements than the limits allow.
    pub(crate) fn tree_for_tables(&self, html: &str) -> Result<Html, TooManyElements> {
        let limit = self.limits.max_elements;
        if let Some(Made::Counted(elements)) = self.find(html) {
            return Err(TooManyElements { elements: *elements, limit });
        }
        let s = stream::run(html, Some(limit));
        s.tree.ok_or(TooManyElements { elements: s.elements, limit })
    }

    /// What converting `html` left, when it is one of the bodies.
    fn find(&self, html: &str) -> Option<&Made> {
        let k = key(html);
        self.made.iter().find(|(at, _)| *at == k).map(|(_, made)| made)
    }
}

/// A body's identity: the address and length of its text.
fn key(html: &str) -> (usize, usize) {
    (html.as_ptr() as usize, html.len())
}
