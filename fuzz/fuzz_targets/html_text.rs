//! Fuzz target: any bytes (UTF-8-lossy) as an HTML body. Whenever the text made from html5ever's tokens is given
//! as exact (`html_text::streamed`), it must equal the text made from the document tree (`html_text::by_tree`):
//! the token model of the tree builder must never put a line break, a tab or a piece of text elsewhere than the
//! tree does. The inexact token text (what a body over the element limit gets) must come back without a panic.

#![no_main]

use leadpipe_shared::email::html_text::{by_tree, html_to_text_within, streamed, HtmlLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    if let Some(text) = streamed(&html) {
        assert_eq!(text, by_tree(&html), "token and tree text differ for {html:?}");
    }
    let tokens_only = HtmlLimits { tree_max_bytes: 0, tree_max_elements: 0 };
    let _ = html_to_text_within(&html, &tokens_only);
});
