//! Where elements put line breaks and tabs into the text, and the whitespace rules both ways of making it share.

/// Elements whose content is not text.
pub(super) fn is_skipped(name: &str) -> bool {
    matches!(name, "script" | "style" | "head" | "title" | "template" | "noscript" | "svg")
}

/// Elements that start and end on a line of their own.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "ul"
            | "ol"
            | "tr"
            | "table"
            | "tbody"
            | "thead"
            | "tfoot"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "blockquote"
            | "pre"
            | "hr"
            | "dl"
            | "dt"
            | "dd"
            | "address"
            | "form"
            | "fieldset"
            | "center"
            | "caption"
    )
}

/// Where elements put line breaks and tabs into the text.
pub(super) trait Emit {
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
            _ if is_block(name) => self.push('\n'),
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        if is_block(name) {
            self.push('\n');
        }
    }
}

/// Appends text with HTML whitespace rules: runs of whitespace become one space.
pub(super) fn push_text(out: &mut String, text: &str) {
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
pub(super) fn tidy(s: &str) -> String {
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
