//! HTML to text for rules: block elements and `<br>` become line breaks, table cells are separated by tabs
//! (so `<th>Name</th><td>Jane</td>` reads as a `Name<TAB>Jane` line a label rule can use), scripts and
//! styles are skipped, entities decoded. The parsed documents can be kept ([`HtmlDocs`]) for the HTML extractors,
//! so that a mail's HTML is parsed once.

use scraper::{Html, Node};

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

/// Converts an HTML document to plain text lines.
pub fn html_to_text(html: &str) -> String {
    text_of(&Html::parse_document(html), html.len())
}

/// The text lines of a parsed document; `len` is the HTML's length (to size the buffer).
fn text_of(doc: &Html, len: usize) -> String {
    let mut out = String::with_capacity(len / 2);
    walk(doc.tree.root(), &mut out);
    tidy(&out)
}

/// HTML documents parsed while an [`Email`](super::Email) was built (its text body, or a forwarded message's, made
/// from HTML), by the address of the HTML body each came from, so that the HTML extractors do not parse them
/// again. An address only means something for the Email built alongside, while it is not modified.
#[derive(Default)]
pub struct HtmlDocs(Vec<((usize, usize), Html)>);

impl HtmlDocs {
    /// Converts `html` to text lines, keeping its document.
    pub(crate) fn text_of(&mut self, html: &str) -> String {
        let doc = Html::parse_document(html);
        let text = text_of(&doc, html.len());
        self.0.push((key(html), doc));
        text
    }

    /// The document parsed from `html`, when it is one of them.
    pub(crate) fn get(&self, html: &str) -> Option<&Html> {
        let k = key(html);
        self.0.iter().find(|(at, _)| *at == k).map(|(_, doc)| doc)
    }
}

fn key(html: &str) -> (usize, usize) {
    (html.as_ptr() as usize, html.len())
}

fn walk(node: ego_tree::NodeRef<'_, Node>, out: &mut String) {
    match node.value() {
        Node::Text(t) => push_text(out, t),
        Node::Element(e) => {
            let name = e.name();
            if SKIPPED.contains(&name) {
                return;
            }
            match name {
                "br" => out.push('\n'),
                "td" | "th" if !out.ends_with('\n') && !out.is_empty() => out.push('\t'),
                _ if BLOCKS.contains(&name) => out.push('\n'),
                _ => {}
            }
            for child in node.children() {
                walk(child, out);
            }
            if BLOCKS.contains(&name) {
                out.push('\n');
            }
        }
        _ => {
            for child in node.children() {
                walk(child, out);
            }
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

    #[test]
    fn no_panic_on_garbage() {
        assert_eq!(html_to_text(""), "");
        let _ = html_to_text("<<<>>><td><tr></table></p>&#xFFFFFF;\u{0}");
    }
}
