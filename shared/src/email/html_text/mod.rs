//! HTML to text for rules: block elements and `<br>` become line breaks, table cells are separated by tabs
//! (so `<th>Name</th><td>Jane</td>` reads as a `Name<TAB>Jane` line a label rule can use), scripts and
//! styles are skipped, entities decoded.
//!
//! The text is made from html5ever's tokens (`stream`): a model of what the tree builder does to its stack of
//! open elements decides where each element starts and ends, so the text is the one a walk of the document tree
//! gives ([`by_tree`]). The same tokenizer pass builds the tree too, for the `html_table` extractors ([`HtmlDocs`])
//! and for the text where the model is inexact (content the tree builder moves, `svg`, ...), but only up to
//! [`HtmlLimits::max_elements`] elements (~320 bytes each): over it the tree is dropped, the text is the model's,
//! exact or not, and `html_table` fields find nothing. Tests compare the texts on the fixtures and the MIME corpus,
//! and a fuzz target on any input ([`streamed`] is the model's text alone).

mod kept;
mod stream;
mod text;
mod tree;

pub use kept::HtmlDocs;
pub use tree::by_tree;

use scraper::Html;
use text::{is_skipped, push_text, tidy, Emit};

/// Limits on the document trees built for HTML bodies (memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HtmlLimits {
    /// A body with more elements gets no tree: its text is the token model's, exact or not (close to the tree's),
    /// and its `html_table` fields find nothing. Elements are counted as the tree builder would create them
    /// (start tags, and formatting elements it reopens or clones).
    pub max_elements: usize,
}

impl Default for HtmlLimits {
    /// 50,000 elements: a tree of about 16 MB (~320 bytes per element, measured).
    fn default() -> Self {
        Self { max_elements: 50_000 }
    }
}

/// An HTML body with more elements than [`HtmlLimits::max_elements`]: it gets no document tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the HTML body has {elements} elements, over the {limit} an html_table field reads")]
pub struct TooManyElements {
    /// The body's elements.
    pub elements: usize,
    /// The limit.
    pub limit: usize,
}

/// Converts an HTML document to plain text lines, within the default [`HtmlLimits`].
pub fn html_to_text(html: &str) -> String {
    html_to_text_within(html, &HtmlLimits::default())
}

/// Converts an HTML document to plain text lines, building a document tree only within `limits`.
pub fn html_to_text_within(html: &str, limits: &HtmlLimits) -> String {
    convert(html, limits).text
}

/// The text lines of `html` made from its tokens, or `None` where the tree builder would move content or the
/// token model does not cover it (table text fostered out of a table, `svg`, `select`, ...).
pub fn streamed(html: &str) -> Option<String> {
    let s = stream::run(html, None);
    s.exact.then(|| tidy(&s.text))
}

/// How many elements the document tree of `html` would have, counted from its tokens (no tree).
pub fn element_count(html: &str) -> usize {
    stream::run(html, None).elements
}

/// An HTML body converted to text.
struct Converted {
    text: String,
    /// Its elements.
    elements: usize,
    /// Its document tree, built from the same tokens, when it has at most the limit's elements.
    tree: Option<Html>,
}

/// The text of `html` (from its tokens, or from its tree when the token text is inexact and there is a tree),
/// and its tree within `limits`.
fn convert(html: &str, limits: &HtmlLimits) -> Converted {
    let s = stream::run(html, Some(limits.max_elements));
    let text = match &s.tree {
        Some(tree) if !s.exact => tree::text_of_tree(tree, html.len()),
        _ => tidy(&s.text),
    };
    Converted { text, elements: s.elements, tree: s.tree }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_breaks_cells_and_entities() {
        let html = "<html><head><title>T</title><style>p{}</style></head><body>\
            <h3>Applicant</h3><p><strong>Name:</strong> Jane&nbsp;Doe</p><p>Phone:<br>(212)   555-0142</p>\
            <table><tr><th>City</th><td> Springfield </td></tr></table><script>x()</script>Tom &amp; Jerry</body></html>";
        assert_eq!(
            html_to_text(html),
            "Applicant\n\nName: Jane\u{a0}Doe\n\nPhone:\n(212) 555-0142\n\nCity\tSpringfield\n\nTom & Jerry\n"
        );
    }

    /// The token text for `html`, which must equal the tree's, as must the text of the one pass that builds both.
    fn same(html: &str) -> Option<String> {
        assert_eq!(html_to_text(html), by_tree(html), "{html}");
        let text = streamed(html);
        if let Some(t) = &text {
            assert_eq!(t, &by_tree(html), "{html}");
        }
        text
    }

    #[test]
    fn tokens_give_the_trees_text_with_implied_end_tags() {
        for html in [
            "<p>a<p>b<div>c</div>d<ul><li>e<li>f</ul><dl><dt>g<dd>h<dt>i</dl><h1>j<h2>k</h1>l",
            "x<p>a</p></p>b<hr>c<br>d</br>e<address>f<p>g</address>h",
            "<!DOCTYPE html><p>x<table><td>a<td>b<tr><th>c</table>y<table><tr><td>1</td></tr><caption>cap</table>",
            "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"><p>x<table><tr><td>a</table>z",
            "<p>no doctype is quirks: the table stays in the p<table><tr><td>a</table>z</p>q",
            "<table><tbody><tr><td>a<table><tr><td>nested</table>b</td><td>c</tr></tbody><tfoot><tr><td>f</table>",
            "<table>\n <tr>\n  <td>a</td>\n </tr>\n</table><table><colgroup><col><col></colgroup><tr><td>x</table>",
            "<html><head><title>T</title><style>p{}</style><script>if(a<b){}</script></head><body>x</body></html>t",
            "<meta charset=utf-8>text before body<p>p",
            "<head></head>\n<body><textarea>\nt</textarea><pre>\np\nq</pre><listing>\nl</listing><xmp><b>z</b></xmp>",
            "<b>x<p>y</b>z</p><font><p>t</font>u<a>1<a>2</a><span><div>s</span>t</div>",
            "<form><div><form>inner</div></form>after<p>p<button>b<button>c</button>",
            "<ul><li>a<div><li>b</div></ul><ol><li><p>x<li>y</ol><h3>h<h4>i",
            "<table><tr><td>a</td><td><ul><li>b<li>c</ul></td></tr><tr><th>d<th>e</table>",
            "<noscript>n</noscript><iframe>i</iframe><noembed>e</noembed><plaintext><p>not a tag",
            "<option>a<option>b<optgroup>c</optgroup>",
            "<b><div>x<a>y<div>z<a>w</a></div></a></div></b>",
            "<p><b><i>x</p><h2>y<h2>z</h2>w<b>1<b>2<b>3<b>4</b></b></b></b><a>q<p>r</a>s",
            // The cases that had an earlier token model reverted (docs/PERFORMANCE.md, third round).
            "<table><tr><td>a</div>b</td><td>c</td></tr></table><div>d<table><tr><td>e</div>f</table>g</div>",
            "<h1>a</h2>b<h3>c</h1>d",
            "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \"http://www.w3.org/TR/xhtml1/DTD/\
             xhtml1-transitional.dtd\"><p>x<table><tr><td>a</table>y",
            "<script/>x</script>y<style/>z</style>w",
            // Cases a review of this model found (html5ever's special elements, ruby, the form pointer, the
            // states before the body, the IBM doctype).
            "<form><table><tr><td></form>a</td></tr></table>b</form>c",
            "<ul><li>a<search><li>b</ul><ul><li>a<isindex><li>b</ul>",
            "<ruby><p>a<rt>b</ruby><ruby>c<rb>d<rtc>e<rp>f</ruby>",
            "\0<noframes>x</noframes>y",
            "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \
             \"http://www.ibm.com/data/dtd/v11/ibmxhtml1-transitional.dtd\"><p>x<table><tr><td>a</table>z</p>q",
            "<textarea><b>x</b></textarea>y<pre>\n</pre>z",
        ] {
            assert!(same(html).is_some(), "{html} is covered by the token model");
        }
    }

    #[test]
    fn content_the_tree_builder_moves_is_left_to_the_tree() {
        for html in [
            "<table>Hello<tr><td>a</td></tr></table>",
            "<table><tr><td>a</td></tr>&nbsp;</table>",
            "<table><div>x</div><tr><td>a</table>",
            "<svg><title>t</title><p>x</svg>",
            "<select><option>a<div>b</select>",
            "<table><tr><b>x</b><td>a</table>",
            "<p>a<svg><p>hidden?</p>b",
            "<html></head><noframes>x</noframes>y",
            "<table></p><tr><td>a</table>",
        ] {
            assert_eq!(same(html), None, "{html}");
            let _ = html_to_text_within(html, &HtmlLimits { max_elements: 0 });
        }
    }

    #[test]
    fn a_tree_is_built_only_within_the_limit() {
        let limits = HtmlLimits { max_elements: 50 };
        let rows = |n: usize| "<tr><th>Name</th><td>Jane &amp; Joe</td></tr>\n".repeat(n);
        let exact = format!("<p>New lead<table>{}</table>", rows(10));
        let fostered = format!("<table>fostered{}</table>", rows(10));
        let huge = format!("<p>New lead<table>{}</table>", rows(30));
        let huge_fostered = format!("<table>fostered{}</table>", rows(30));
        assert_eq!(element_count(&huge), 1 + 1 + 30 * 3);
        let mut docs = HtmlDocs::with_limits(limits);
        for html in [&exact, &fostered, &huge] {
            assert_eq!(docs.text_of(html), by_tree(html), "{html}");
        }
        assert!(docs.get(&exact).is_some() && docs.get(&fostered).is_some(), "trees within the limit are kept");
        assert!(docs.get(&huge).is_none(), "no tree over the limit");
        assert_eq!(docs.tree_for_tables(&huge).err(), Some(TooManyElements { elements: 92, limit: 50 }));
        // Over the limit, text the tree builder would move stays in place instead of building a tree.
        assert!(streamed(&huge_fostered).is_none());
        let text = html_to_text_within(&huge_fostered, &limits);
        assert!(text.contains("fostered") && text.matches("Name\tJane & Joe").count() == 30, "{text}");
    }

    #[test]
    fn reopened_and_cloned_formatting_elements_count() {
        // Each `<p>` closes the `font`, and the text after it reopens it: 4 start tags, 2 elements reopened.
        assert_eq!(element_count("<p><font>a<p>b<p>c"), 6);
        // The adoption agency clones the `b` into the `p`.
        assert_eq!(element_count("<b>x<p>y</b>z"), 3);
        // A `<p>` closes the fonts open inside the previous one; its text reopens all three.
        let bomb = format!("<p><font id=1><font id=2><font id=3>{}", "<p>x".repeat(100));
        assert_eq!(element_count(&bomb), 4 + 100 * 4);
    }

    #[test]
    fn over_the_limit_inexact_text_keeps_what_follows_a_self_closed_svg() {
        let text = html_to_text_within("<div><svg/>Name: Jane</div>", &HtmlLimits { max_elements: 0 });
        assert_eq!(text, "Name: Jane\n");
    }

    #[test]
    fn no_panic_on_garbage() {
        assert_eq!(html_to_text(""), "");
        let _ = html_to_text("<<<>>><td><tr></table></p>&#xFFFFFF;\u{0}");
    }
}
