//! What converting a mail's HTML bodies leaves for its `html_table` extractors: the document trees built from the
//! same tokens as the texts, within one node budget for the mail.

use super::{convert, stream, HtmlLimits, TooManyNodes};
use scraper::Html;

/// Bytes of a body's HTML that count as one node of the budget: a kept tree holds its HTML too (its text nodes
/// share the one buffer the HTML is read into), and a node takes ~130-150 bytes.
pub const BYTES_PER_NODE: usize = 128;

/// The nodes left for `html`'s tree out of `budget`, once its HTML is counted; `None` when nothing is left.
pub(super) fn nodes_left(budget: usize, html: &str) -> Option<usize> {
    budget.checked_sub(html.len().div_ceil(BYTES_PER_NODE)).filter(|&n| n > 0)
}

/// HTML bodies converted to text while an [`Email`](crate::email::Email) was built (its text body, or a forwarded
/// message's, made from HTML), by the address of the HTML each came from. An address only means something for
/// the Email built alongside, while it is not modified.
#[derive(Default)]
pub struct HtmlDocs {
    limits: HtmlLimits,
    /// Nodes in the trees kept so far.
    kept_nodes: usize,
    /// Each body's tree, `None` when it would have passed the budget.
    made: Vec<((usize, usize), Option<Html>)>,
}

impl HtmlDocs {
    /// Conversions within `limits`.
    pub fn with_limits(limits: HtmlLimits) -> Self {
        Self { limits, ..Self::default() }
    }

    /// Nodes the next tree may have.
    fn budget(&self) -> usize {
        self.limits.max_nodes.saturating_sub(self.kept_nodes)
    }

    /// Converts `html` to text lines, keeping its tree when it fits, with its HTML, in what is left of the budget.
    pub(crate) fn text_of(&mut self, html: &str) -> String {
        let converted = convert(html, nodes_left(self.budget(), html));
        if let Some(tree) = &converted.tree {
            self.kept_nodes += tree.tree.nodes().len() + html.len().div_ceil(BYTES_PER_NODE);
        }
        self.made.push((key(html), converted.tree));
        converted.text
    }

    /// The tree kept for `html`, when it is one of the bodies and fit in the budget.
    pub(crate) fn get(&self, html: &str) -> Option<&Html> {
        self.find(html)?.as_ref()
    }

    /// A document tree for `html` when it is not one of the bodies (or had none), unless it would pass the budget.
    pub(crate) fn tree_for_tables(&self, html: &str) -> Result<Html, TooManyNodes> {
        let limit = self.budget();
        if let Some(None) = self.find(html) {
            return Err(TooManyNodes { limit });
        }
        let tree = nodes_left(limit, html).and_then(|nodes| stream::run(html, Some(nodes)).tree);
        tree.ok_or(TooManyNodes { limit })
    }

    /// The tree made for `html`, when it is one of the bodies.
    fn find(&self, html: &str) -> Option<&Option<Html>> {
        let k = key(html);
        self.made.iter().find(|(at, _)| *at == k).map(|(_, made)| made)
    }
}

/// A body's identity: the address and length of its text.
fn key(html: &str) -> (usize, usize) {
    (html.as_ptr() as usize, html.len())
}
