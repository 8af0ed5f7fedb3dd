//! Fuzz target: any bytes (UTF-8-lossy) as an HTML body. Whenever the text made from html5ever's tokens is given
//! as exact (`html_text::streamed`), it must equal the text made from the document tree (`html_text::by_tree`,
//! unless ego-tree left that tree inconsistent, see `by_tree_checked`):
//! the token model of the tree builder must never put a line break, a tab or a piece of text elsewhere than the
//! tree does; nor may the pass that builds the text and the tree together. The inexact token text (what a body
//! over the element limit gets) must come back without a panic.

#![no_main]

use leadpipe_shared::email::html_text::{by_tree_checked, html_to_text_within, streamed, HtmlLimits};
use leadpipe_shared::email::html_to_text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    // A tree that ego-tree left inconsistent (it loses nodes) is no reference.
    if let Some(tree_text) = by_tree_checked(&html) {
        if let Some(text) = streamed(&html) {
            assert_eq!(text, tree_text, "token and tree text differ for {html:?}");
        }
        // One pass for the text and the tree (within the default limit: fuzz inputs are small).
        assert_eq!(html_to_text(&html), tree_text, "the one-pass text differs for {html:?}");
    }
    let tokens_only = HtmlLimits { max_nodes: 0 };
    let _ = html_to_text_within(&html, &tokens_only);
});
