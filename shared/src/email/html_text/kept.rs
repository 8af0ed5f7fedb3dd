//! What converting a mail's HTML bodies leaves for its `html_table` extractors: the document trees built while
//! the texts were made (where a rule may read them, or the token model's text is not exact), and the trees built
//! when a field asks, within one node budget for the mail.

use super::{convert, stream, tidy, HtmlLimits, NoTree};
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
    /// Each body's tree, or why it has none.
    made: Vec<((usize, usize), Result<Html, NoTree>)>,
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

    /// Converts `html` to text lines. With `tree_wanted` (a rule that may apply reads the body's tables), the
    /// tokens make the text and a document tree in one pass, and the tree is kept when it fits, with its HTML, in
    /// what is left of the budget. Without, the token model's text comes first: where it is exact (the tree
    /// walk's text), no tree is built, and an `html_table` field that asks after all gets one then
    /// ([`Self::tree_for_tables`], a second pass); where it is not, the tokens are read again with a tree, as
    /// above (the first pass stops soon after the model finds that), unless the model went flat (too much work),
    /// when no tree would be kept anyway.
    pub(crate) fn text_of(&mut self, html: &str, tree_wanted: bool) -> String {
        if let Some(model) = (!tree_wanted).then(|| stream::run_while_exact(html)).flatten() {
            if model.flat {
                let refused = NoTree::TooMuchWork { limit: stream::max_steps(html.len()) };
                self.made.push((key(html), Err(refused)));
            }
            return tidy(model.text);
        }
        let budget = self.budget();
        let converted = convert(html, nodes_left(budget, html));
        let made = match converted.tree {
            Some(tree) => {
                self.kept_nodes += tree.tree.nodes().len() + html.len().div_ceil(BYTES_PER_NODE);
                Ok(tree)
            }
            None => Err(refusal(converted.overworked, html, budget)),
        };
        self.made.push((key(html), made));
        converted.text
    }

    /// The tree kept for `html`, when it is one of the bodies and fit in the budget.
    pub(crate) fn get(&self, html: &str) -> Option<&Html> {
        self.find(html)?.as_ref().ok()
    }

    /// A document tree for `html` when it is not one of the bodies (or had none), unless it would pass the budget.
    pub(crate) fn tree_for_tables(&self, html: &str) -> Result<Html, NoTree> {
        if let Some(Err(refused)) = self.find(html) {
            return Err(*refused);
        }
        let limit = self.budget();
        let Some(nodes) = nodes_left(limit, html) else { return Err(NoTree::TooManyNodes { limit }) };
        let s = stream::run(html, Some(nodes));
        s.tree.ok_or(refusal(s.overworked, html, limit))
    }

    /// The tree made for `html` (or why there is none), when it is one of the bodies.
    fn find(&self, html: &str) -> Option<&Result<Html, NoTree>> {
        let k = key(html);
        self.made.iter().find(|(at, _)| *at == k).map(|(_, made)| made)
    }
}

/// Why `html` got no tree out of `budget` nodes.
fn refusal(overworked: bool, html: &str, budget: usize) -> NoTree {
    match overworked {
        true => NoTree::TooMuchWork { limit: stream::max_steps(html.len()) },
        false => NoTree::TooManyNodes { limit: budget },
    }
}

/// A body's identity: the address and length of its text.
fn key(html: &str) -> (usize, usize) {
    (html.as_ptr() as usize, html.len())
}
