//! Text from html5ever's document tree: the reference the token model is compared with, and the way for small
//! bodies (whose tree the `html_table` extractors reuse).

use super::{is_skipped, push_text, tidy, Emit};
use scraper::{Html, Node};

/// The text lines of `html` made by walking its document tree.
pub fn by_tree(html: &str) -> String {
    text_of_tree(&Html::parse_document(html), html.len())
}

/// The text lines of a parsed document; `len` is the HTML's length (to size the buffer).
pub(super) fn text_of_tree(doc: &Html, len: usize) -> String {
    let mut out = String::with_capacity(len / 2);
    walk(doc.tree.root(), &mut out);
    tidy(&out)
}

fn walk(node: ego_tree::NodeRef<'_, Node>, out: &mut String) {
    match node.value() {
        Node::Text(t) => push_text(out, t),
        Node::Element(e) => {
            let name = e.name();
            if is_skipped(name) {
                return;
            }
            out.open(name);
            for child in node.children() {
                walk(child, out);
            }
            out.close(name);
        }
        _ => {
            for child in node.children() {
                walk(child, out);
            }
        }
    }
}
