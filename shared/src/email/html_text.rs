//! HTML to text for rules: block elements and `<br>` become line breaks, table cells are separated by tabs
//! (so `<th>Name</th><td>Jane</td>` reads as a `Name<TAB>Jane` line a label rule can use), scripts and
//! styles are skipped, entities decoded.

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts};
use std::cell::RefCell;

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
/// Elements allowed in `<head>`; any other start tag ends the head (the tree builder's "in head" mode).
const IN_HEAD: [&str; 10] =
    ["base", "basefont", "bgsound", "link", "meta", "title", "style", "script", "noscript", "template"];
/// Block starts that close an open `<p>` first (HTML's "close a p element"), as far as they are in [`BLOCKS`].
const CLOSES_P: [&str; 22] = [
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "hr",
    "dl",
    "address",
    "form",
    "fieldset",
    "center",
];

/// Converts an HTML document to plain text lines.
///
/// Streams the tokens instead of building a DOM: the text is the same as walking the document tree (a test
/// compares both on the fixtures and the MIME corpus) because the conversion only needs what the tree builder
/// decides about line breaks - which elements are open when a block starts or ends - and that is tracked here
/// on a stack of open blocks.
pub fn html_to_text(html: &str) -> String {
    let sink =
        TextSink(RefCell::new(Text { out: String::with_capacity(html.len() / 2), quirks: true, ..Text::default() }));
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let text = tokenizer.sink.0.into_inner();
    tidy(&text.out)
}

/// The converter's state while the tokenizer runs.
#[derive(Default)]
struct Text {
    out: String,
    /// The skipped element being read (`script`, `svg`, ...) and how deeply it is nested in itself.
    skipping: Option<(String, usize)>,
    /// Inside `<head>` (until a body element, body text or `</head>`).
    in_head: bool,
    /// Body content has started: a later `<head>` is ignored, as the tree builder ignores it.
    body_started: bool,
    /// Open block elements and table cells, innermost last.
    open: Vec<String>,
    /// No standard doctype seen: the tree builder's quirks mode.
    quirks: bool,
}

struct TextSink(RefCell<Text>);

impl TokenSink for TextSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut t = self.0.borrow_mut();
        match token {
            Token::TagToken(tag) => t.tag(&tag),
            Token::CharacterTokens(s) => {
                t.text(&s);
                TokenSinkResult::Continue
            }
            Token::EOFToken => {
                for e in std::mem::take(&mut t.open) {
                    if BLOCKS.contains(&e.as_str()) {
                        t.out.push('\n');
                    }
                }
                TokenSinkResult::Continue
            }
            Token::DoctypeToken(d) => {
                t.quirks = d.name.as_deref() != Some("html") || d.force_quirks || d.public_id.is_some();
                TokenSinkResult::Continue
            }
            _ => TokenSinkResult::Continue,
        }
    }
}

impl Text {
    fn text(&mut self, s: &str) {
        if self.skipping.is_some() {
            return;
        }
        let blank = s.chars().all(|c| c.is_ascii_whitespace());
        if self.in_head {
            if blank {
                return;
            }
            self.in_head = false;
        }
        self.body_started |= !blank;
        push_text(&mut self.out, s);
    }

    fn tag(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let start = tag.kind == TagKind::StartTag;
        // The tokenizer reads these elements' content as text; the tree builder would switch it the same way.
        let raw = if start && !tag.self_closing {
            match name {
                "script" => Some(RawKind::ScriptData),
                "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => Some(RawKind::Rawtext),
                "title" | "textarea" => Some(RawKind::Rcdata),
                _ => None,
            }
        } else {
            None
        };
        self.element(name, start, tag.self_closing);
        match raw {
            Some(kind) => TokenSinkResult::RawData(kind),
            None if start && name == "plaintext" => TokenSinkResult::Plaintext,
            None => TokenSinkResult::Continue,
        }
    }

    fn element(&mut self, name: &str, start: bool, self_closing: bool) {
        if let Some((skipped, depth)) = &mut self.skipping {
            if skipped == name {
                if start && !self_closing {
                    *depth += 1;
                } else if !start {
                    *depth -= 1;
                }
                if *depth == 0 {
                    self.skipping = None;
                }
            }
            return;
        }
        if name == "head" {
            if start && !self.body_started {
                self.in_head = true;
            } else if !start {
                self.in_head = false;
            }
            return;
        }
        if self.in_head {
            if !start || IN_HEAD.contains(&name) {
                if start && SKIPPED.contains(&name) && !self_closing {
                    self.skipping = Some((name.to_string(), 1));
                }
                return;
            }
            self.in_head = false;
        }
        if start && name == "body" {
            self.body_started = true;
        }
        if start && SKIPPED.contains(&name) {
            if !self_closing {
                self.skipping = Some((name.to_string(), 1));
            }
            return;
        }
        match (start, name) {
            (true, "br") | (false, "br") => {
                self.body_started = true;
                self.out.push('\n');
            }
            (true, "td" | "th") => {
                self.body_started = true;
                self.close(&["td", "th"], &["tr", "table"]);
                if !self.out.ends_with('\n') && !self.out.is_empty() {
                    self.out.push('\t');
                }
                self.open.push(name.to_string());
            }
            (false, "td" | "th") => self.close(&[name], &["table"]),
            (true, _) if BLOCKS.contains(&name) => {
                self.body_started = true;
                self.close_implied_by(name);
                self.out.push('\n');
                // `<hr>` is void: it ends where it starts.
                if name == "hr" || self_closing {
                    self.out.push('\n');
                } else {
                    self.open.push(name.to_string());
                }
            }
            (false, "p") if !self.open.iter().any(|b| b == "p") => {
                // A stray `</p>` makes the tree builder insert an empty paragraph.
                self.out.push_str("\n\n");
            }
            (false, _) if BLOCKS.contains(&name) => self.close(&[name], &[]),
            (true, _) => self.body_started = true,
            (false, _) => {}
        }
    }

    /// Closes the elements the tree builder closes before opening `name`: an open `<p>`, the previous list
    /// item, definition term or table row or section.
    fn close_implied_by(&mut self, name: &str) {
        match name {
            "li" => self.close(&["li"], &["ul", "ol", "table", "td", "th"]),
            "dt" | "dd" => self.close(&["dt", "dd"], &["dl", "table", "td", "th"]),
            "tr" => self.close(&["tr"], &["table", "tbody", "thead", "tfoot"]),
            "tbody" | "thead" | "tfoot" => self.close(&["tbody", "thead", "tfoot"], &["table"]),
            // In quirks mode (no standard doctype, as in most mails) a table does not end a paragraph.
            "table" if self.quirks => {}
            _ if name == "table" || CLOSES_P.contains(&name) => self.close(&["p"], &["table", "td", "th", "caption"]),
            _ => {}
        }
    }

    /// Pops open elements down to and including the innermost one named in `targets`, unless an element named
    /// in `boundaries` comes first; every block popped ends its line.
    fn close(&mut self, targets: &[&str], boundaries: &[&str]) {
        let Some(at) =
            self.open.iter().rposition(|e| targets.contains(&e.as_str()) || boundaries.contains(&e.as_str()))
        else {
            return;
        };
        if !targets.contains(&self.open[at].as_str()) {
            return;
        }
        for e in self.open.drain(at..) {
            if BLOCKS.contains(&e.as_str()) {
                self.out.push('\n');
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
    for line in s.lines() {
        let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
        let line = cells.join("\t");
        let line = line.trim_matches(|c: char| c == '\t' || c == ' ');
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
    use scraper::{Html, Node};
    use std::path::{Path, PathBuf};

    /// The document-tree walk the streaming conversion replaced: html5ever's tree builder decides which
    /// elements are open, and every block writes a line break where it starts and where it ends.
    fn via_document(html: &str) -> String {
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
                    node.children().for_each(|c| walk(c, out));
                    if BLOCKS.contains(&name) {
                        out.push('\n');
                    }
                }
                _ => node.children().for_each(|c| walk(c, out)),
            }
        }
        let mut out = String::new();
        walk(Html::parse_document(html).tree.root(), &mut out);
        tidy(&out)
    }

    /// The HTML bodies of the fixture mails and of the real-world MIME corpus (when `../shared` is there).
    fn html_bodies() -> Vec<(PathBuf, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let shared = std::env::var_os("LEADPIPE_SHARED_DIR").map(PathBuf::from).unwrap_or(root.join("../shared"));
        let mut stack = vec![root.join("fixtures/emails"), shared.join("corpus/mime")];
        let mut out = Vec::new();
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for path in entries.flatten().map(|e| e.path()) {
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(raw) = std::fs::read(&path) {
                    let email = crate::Email::parse(&raw, &crate::ParseLimits::default());
                    if let Some(html) = email.ok().and_then(|e| e.html) {
                        out.push((path, html));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn streaming_agrees_with_the_document_walk() {
        let bodies = html_bodies();
        // The fixtures alone have this many HTML bodies; the corpus adds more where it is checked out.
        assert!(bodies.len() >= 10, "only {} HTML bodies found", bodies.len());
        for (path, html) in &bodies {
            assert_eq!(html_to_text(html), via_document(html), "{}", path.display());
        }
        let tricky = [
            "<p>one<p>two<div>three</div>four",
            "<ul><li>a<li>b<p>c<li>d</ul>after",
            "<dl><dt>Name<dd>Jane<dt>City<dd>Springfield</dl>",
            "<table><tr><td>Name<td>Jane<tr><td>City<td><p>Springfield</table>tail",
            "<table><tbody><tr><th>A</th><td><div>x</div></td></tr></tbody><tfoot><tr><td>f</table>",
            "<!DOCTYPE html><p>para<table><tr><td>cell</td></tr></table>",
            "<p>para<table><tr><td>cell</td></tr></table>",
            "<html><head><title>T</title><meta charset=utf-8><style>p{}</style><div>body starts</div></html>",
            "<head>text ends the head</head><p>x",
            "<p>x</p><head><p>a late head is ignored</p>",
            "</p>stray<br/>line</br>next",
            "<div><svg><text>drawn</text><svg>inner</svg>still</svg>shown</div>",
            "<template><p>hidden</template><noscript>no</noscript><script>if (a<b) {}</script>end",
            "<pre>  keep\n  spaces </pre><hr><hr/>x&amp;y&nbsp;z&#x41;",
            "<blockquote><p>quoted<blockquote>nested</blockquote>out</blockquote>",
            "<textarea><b>not a tag</b></textarea><xmp><i>raw</i></xmp>",
            "",
            "<<<>>><td><tr></table></p>&#xFFFFFF;\u{0}",
        ];
        for html in tricky {
            assert_eq!(html_to_text(html), via_document(html), "{html}");
        }
    }

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
