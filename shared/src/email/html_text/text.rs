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

/// Trims lines, drops spaces around tabs, and keeps at most one empty line in a row. Works in `text`'s own buffer
/// (a tidied line is never longer than the line it comes from), so a 10 MB body is not held twice.
pub(super) fn tidy(text: String) -> String {
    let mut buf = text.into_bytes();
    let mut line = String::new();
    let (mut read, mut write) = (0, 0);
    let mut empty_run = 0;
    while read < buf.len() {
        let end = buf[read..].iter().position(|&b| b == b'\n').map_or(buf.len(), |at| read + at);
        line.clear();
        for (i, cell) in String::from_utf8_lossy(&buf[read..end]).split('\t').enumerate() {
            if i > 0 {
                line.push('\t');
            }
            line.push_str(cell.trim());
        }
        read = end + 1;
        let tidied = line.trim_matches(|c: char| c == '\t' || c == ' ');
        if tidied.is_empty() {
            empty_run += 1;
            if empty_run > 1 || write == 0 {
                continue;
            }
        } else {
            empty_run = 0;
        }
        // `write + tidied.len() + 1 <= read` except on a last line without its line break.
        let to = write + tidied.len();
        if to < buf.len() {
            buf[write..to].copy_from_slice(tidied.as_bytes());
            buf[to] = b'\n';
        } else {
            buf.truncate(write);
            buf.extend_from_slice(tidied.as_bytes());
            buf.push(b'\n');
        }
        write = to + 1;
    }
    buf.truncate(write);
    while buf.ends_with(b"\n\n") {
        buf.pop();
    }
    String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::tidy;

    /// `tidy` as it was written before it worked in place: a second buffer, line by line.
    fn reference(s: &str) -> String {
        let mut out = String::new();
        let mut empty_run = 0;
        for line in s.lines() {
            let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
            let joined = cells.join("\t");
            let line = joined.trim_matches(|c: char| c == '\t' || c == ' ');
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

    #[test]
    fn tidies_in_place_like_a_second_buffer() {
        let pieces = [" ", "\t", "\n", "\r", "\r\n", "a", "bc", "é", "\u{a0}", "\u{3000}", "€uro", "\n\n\n"];
        // A small linear congruential generator: the same inputs on every run.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            let mut s = String::new();
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            for _ in 0..(state >> 59) {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                s.push_str(pieces[(state >> 33) as usize % pieces.len()]);
            }
            assert_eq!(tidy(s.clone()), reference(&s), "{s:?}");
        }
        assert_eq!(tidy(" a \t b \nc".to_owned()), "a\tb\nc\n");
        assert_eq!(tidy("\n\n x\n\n\n\ny\t\n\n".to_owned()), "x\n\ny\n");
    }
}
