//! Text from html5ever's document tree: the reference the token model is compared with, and the way for small
//! bodies (whose tree the `html_table` extractors reuse).

use super::{cap_attributes, is_skipped, push_text, tidy, Emit};
use ego_tree::iter::Edge;
use scraper::{Html, Node};

/// The text lines of `html` made by walking its document tree (its tags' attributes capped, as for the token
/// text: [`cap_attributes`]).
pub fn by_tree(html: &str) -> String {
    text_of_tree(&Html::parse_document(&cap_attributes(html)), html.len())
}

/// [`by_tree`], or `None` when the tree is inconsistent: a node's child that names another node as its parent.
/// ego-tree 0.10 leaves such links when it moves three or more children at once (html5ever's adoption agency
/// does, for misnested formatting elements), and the tree then loses nodes.
pub fn by_tree_checked(html: &str) -> Option<String> {
    let doc = Html::parse_document(&cap_attributes(html));
    is_consistent(&doc).then(|| text_of_tree(&doc, html.len()))
}

/// Whether every child in the tree names its parent as its parent (see [`by_tree_checked`]).
pub(super) fn is_consistent(doc: &Html) -> bool {
    doc.tree.root().descendants().all(|n| n.children().all(|c| c.parent().is_some_and(|p| p.id() == n.id())))
}

/// The text lines of a parsed document; `len` is the HTML's length (to size the buffer).
pub(super) fn text_of_tree(doc: &Html, len: usize) -> String {
    let mut out = String::with_capacity(len / 2);
    walk(doc.tree.root(), &mut out);
    tidy(out)
}

/// Walks the tree in document order without recursion (a tree can be as deep as it has elements).
fn walk(root: ego_tree::NodeRef<'_, Node>, out: &mut String) {
    // How deep inside a skipped element the walk is (0: not inside one).
    let mut skipping = 0usize;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(_) if skipping > 0 => skipping += 1,
                Node::Element(e) if is_skipped(e.name()) => skipping = 1,
                Node::Element(e) => out.open(e.name()),
                Node::Text(t) if skipping == 0 => push_text(out, t),
                _ => {}
            },
            Edge::Close(node) => match node.value() {
                Node::Element(_) if skipping > 0 => skipping -= 1,
                Node::Element(e) => out.close(e.name()),
                _ => {}
            },
        }
    }
}
