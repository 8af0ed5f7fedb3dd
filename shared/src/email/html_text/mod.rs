//! HTML to text for rules: block elements and `<br>` become line breaks, table cells are separated by tabs
//! (so `<th>Name</th><td>Jane</td>` reads as a `Name<TAB>Jane` line a label rule can use), scripts and
//! styles are skipped, entities decoded.
//!
//! There are two ways to the same text. [`by_tree`] walks the document tree html5ever builds; the tree takes
//! about 300 bytes per element, 15 to 30 times the HTML's size. [`streamed`] reads html5ever's tokens with a
//! model of the tree builder's decisions and no tree, in memory about the size of the HTML; where the tree
//! builder would move content (see `stream`), it leaves the text to the tree. Tests compare the two on the
//! fixtures and the MIME corpus, and a fuzz target on any input.
//!
//! A mail's HTML body goes through the tree when it is small ([`HtmlLimits::tree_max_bytes`]), and the tree is
//! kept ([`HtmlDocs`]) for the `html_table` extractors, so it is parsed once. A larger body is streamed, and
//! parsed into a tree only for an `html_table` field, and only when it has at most
//! [`HtmlLimits::tree_max_elements`] elements: so no HTML body makes a tree larger than about 30 MB.

mod docs;
mod stream;
mod tree;

pub use docs::HtmlDocs;
pub use tree::by_tree;

/// How large an HTML body may be for its document tree to be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HtmlLimits {
    /// Bodies up to this many bytes are converted through their tree (kept for the `html_table` fields).
    pub tree_max_bytes: usize,
    /// Larger bodies get a tree only when they have at most this many elements: for an `html_table` field, or
    /// for text the token model cannot make exactly. Over it, their text is the token model's (close to the
    /// tree's) and `html_table` fields find nothing.
    pub tree_max_elements: usize,
}

impl Default for HtmlLimits {
    /// 256 KiB (a tree of at most ~87,000 elements, ~30 MB), and 100,000 elements (~30 MB).
    fn default() -> Self {
        Self { tree_max_bytes: 256 << 10, tree_max_elements: 100_000 }
    }
}

/// Converts an HTML document to plain text lines, within the default [`HtmlLimits`].
pub fn html_to_text(html: &str) -> String {
    html_to_text_within(html, &HtmlLimits::default())
}

/// Converts an HTML document to plain text lines, building a document tree only within `limits`.
pub fn html_to_text_within(html: &str, limits: &HtmlLimits) -> String {
    if html.len() <= limits.tree_max_bytes {
        return by_tree(html);
    }
    streamed_within(html, limits).0
}

/// The text lines of `html` made from its tokens, or `None` where the tree builder would move content or the
/// token model does not cover it (table text fostered out of a table, `svg`, `select`, ...).
pub fn streamed(html: &str) -> Option<String> {
    let s = stream::run(html);
    s.exact.then(|| tidy(&s.text))
}

/// A large body's text (from its tree when the token model is inexact and the tree is within `limits`), and its
/// number of elements.
fn streamed_within(html: &str, limits: &HtmlLimits) -> (String, usize) {
    let s = stream::run(html);
    if s.exact || s.elements > limits.tree_max_elements {
        (tidy(&s.text), s.elements)
    } else {
        (by_tree(html), s.elements)
    }
}

/// How many elements `html` has, counted from its tokens (no tree).
pub fn element_count(html: &str) -> usize {
    stream::run(html).elements
}

const SKIPPED: [&str; 7] = ["script", "style", "head", "title", "template", "noscript", "svg"];
const BLOCKS: [&str; 31] = [
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "hr",
    "dl",
    "dt",
    "dd",
    "address",
    "form",
    "fieldset",
    "center",
    "caption",
];

/// Where elements put line breaks and tabs into the text.
trait Emit {
    /// The element `name` starts.
    fn open(&mut self, name: &str);
    /// The element `name` ends.
    fn close(&mut self, name: &str);
}

impl Emit for String {
    fn open(&mut self, name: &str) {
        match name {
            "br" => self.push('\n'),
            "td" | "th" if !self.ends_with('\n') && !self.is_empty() => self.push('\t'),
            _ if BLOCKS.contains(&name) => self.push('\n'),
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        if BLOCKS.contains(&name) {
            self.push('\n');
        }
    }
}

/// Appends text with HTML whitespace rules: runs of whitespace become one space.
fn push_text(out: &mut String, text: &str) {
    let mut last_space = out.ends_with([' ', '\n', '\t']) || out.is_empty();
    for c in text.chars() {
        if c.is_whitespace() && c != '\u{a0}' {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else {
            out.push(c);
            last_space = false;
        }
    }
}

/// Trims lines, drops spaces around tabs, and keeps at most one empty line in a row.
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut empty_run = 0;
    let mut cells = String::new();
    for line in s.lines() {
        cells.clear();
        for (i, cell) in line.split('\t').enumerate() {
            if i > 0 {
                cells.push('\t');
            }
            cells.push_str(cell.trim());
        }
        let line = cells.trim_matches(|c: char| c == '\t' || c == ' ');
        if line.is_empty() {
            empty_run += 1;
            if empty_run > 1 || out.is_empty() {
                continue;
            }
        } else {
            empty_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
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

    /// The token text for `html`, which must equal the tree's.
    fn same(html: &str) -> Option<String> {
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
            "<table></p><tr><td>a</table>",
        ] {
            assert_eq!(same(html), None, "{html}");
        }
    }

    #[test]
    fn large_bodies_are_streamed_and_get_a_tree_only_within_the_limits() {
        let limits = HtmlLimits { tree_max_bytes: 200, tree_max_elements: 50 };
        let rows = |n: usize| "<tr><th>Name</th><td>Jane &amp; Joe</td></tr>\n".repeat(n);
        let small = format!("<table>{}</table>", rows(2));
        let large = format!("<p>New lead<table>{}</table>", rows(10));
        let fostered = format!("<table>fostered{}</table>", rows(10));
        let huge = format!("<p>New lead<table>{}</table>", rows(30));
        let huge_fostered = format!("<table>fostered{}</table>", rows(30));
        assert!(small.len() <= 200 && large.len() > 200 && element_count(&large) <= 50);
        assert_eq!(element_count(&huge), 1 + 1 + 30 * 3);
        let mut docs = HtmlDocs::with_limits(limits);
        for html in [&small, &large, &fostered, &huge] {
            assert_eq!(docs.text_of(html), by_tree(html), "{html}");
        }
        assert!(docs.get(&small).is_some(), "a small body's tree is kept");
        assert!(docs.get(&large).is_none() && docs.get(&huge).is_none());
        assert!(docs.tree_for_tables(&large).is_ok() && docs.tree_for_tables(&fostered).is_ok());
        assert_eq!(docs.tree_for_tables(&huge).err(), Some((92, 50)), "over the element limit");
        // Over the element limit, text the tree builder would move stays in place instead of building a tree.
        assert!(streamed(&huge_fostered).is_none());
        let text = html_to_text_within(&huge_fostered, &limits);
        assert!(text.contains("fostered") && text.matches("Name\tJane & Joe").count() == 30, "{text}");
    }

    #[test]
    fn no_panic_on_garbage() {
        assert_eq!(html_to_text(""), "");
        let _ = html_to_text("<<<>>><td><tr></table></p>&#xFFFFFF;\u{0}");
    }
}
