//! `Label: value` lines, the layout most plain-text lead mails use. Labels match case-insensitively,
//! with decoration (`*Name*:`, `- Name:`, `> Name:` in quoted forwards) ignored.

/// A label extractor: the spellings to look for, in order of preference.
#[derive(Debug, Clone)]
pub struct Label {
    /// Label spellings; the first one found in the text wins.
    pub spellings: Vec<String>,
    /// When true the value continues over the following lines up to an empty line.
    pub paragraph: bool,
}

impl Label {
    /// Finds the value for the first spelling that occurs as a label in `text`.
    pub fn find(&self, text: &str) -> Option<String> {
        self.find_in_lines(&label_lines(text))
    }

    /// [`Label::find`] over a text already split by [`label_lines`] (once per mail, for every label field).
    pub fn find_in_lines(&self, lines: &[&str]) -> Option<String> {
        self.spellings.iter().find_map(|spelling| self.find_spelling(lines, spelling))
    }

    fn find_spelling(&self, lines: &[&str], spelling: &str) -> Option<String> {
        for (i, content) in lines.iter().enumerate() {
            let Some(after) = strip_prefix_ci(content, spelling) else {
                continue;
            };
            let after = after.trim_start_matches(['*', '_']);
            let value = if after.trim().is_empty() {
                // The label alone on its line: the value is on the next non-empty line.
                ""
            } else {
                match separated_value(after) {
                    Some(v) => v.trim_start_matches(['*', '_']),
                    // "Name of dealer: x" must not match label "Name".
                    None => continue,
                }
            };
            let mut rest = lines[i + 1..].iter();
            let value = value.trim();
            let first = if value.is_empty() {
                match rest.by_ref().find(|l| !l.trim().is_empty()) {
                    Some(next) => next.trim().to_string(),
                    None => continue,
                }
            } else {
                value.to_string()
            };
            if !self.paragraph {
                return Some(first);
            }
            let mut out = first;
            for next in rest.take_while(|l| !l.trim().is_empty()) {
                out.push('\n');
                out.push_str(next.trim());
            }
            return Some(out);
        }
        None
    }
}

/// The value after a separator that directly follows a label: `:` or `=` (spaces allowed before them), a
/// spaced dash (` - `, ` – `), or a tab.
fn separated_value(after: &str) -> Option<&str> {
    let spaced = after.trim_start_matches(' ');
    if let Some(v) = spaced.strip_prefix([':', '：', '=']) {
        return Some(v);
    }
    if after.starts_with('\t') {
        return Some(after.trim_start());
    }
    if after.starts_with(' ') {
        return spaced.strip_prefix("- ").or_else(|| spaced.strip_prefix("– "));
    }
    None
}

/// A text's lines with their decoration removed, as [`Label::find_in_lines`] reads them.
pub fn label_lines(text: &str) -> Vec<&str> {
    text.lines().map(strip_decoration).collect()
}

/// Removes quoting and list decoration at the start of a line, and trailing whitespace.
fn strip_decoration(line: &str) -> &str {
    let mut s = line.trim();
    loop {
        let next = s
            .strip_prefix('>')
            .or_else(|| s.strip_prefix("- "))
            .or_else(|| s.strip_prefix("• "))
            .or_else(|| s.strip_prefix('*'))
            .or_else(|| s.strip_prefix('_'))
            .map(str::trim_start);
        match next {
            Some(n) => s = n,
            None => return s,
        }
    }
}

/// Case-insensitive prefix match; returns the rest of `s` after the prefix.
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    // ASCII on both sides (most labels and lines): bytes compared, the same answer as the chars below.
    if prefix.is_ascii() {
        let Some(head) = s.as_bytes().get(..prefix.len()) else {
            // Fewer bytes than the prefix has chars: fewer chars too.
            return None;
        };
        if head.is_ascii() {
            return head.eq_ignore_ascii_case(prefix.as_bytes()).then(|| &s[prefix.len()..]);
        }
    }
    let mut chars = s.char_indices();
    for p in prefix.chars() {
        let (_, c) = chars.next()?;
        if !c.to_lowercase().eq(p.to_lowercase()) {
            return None;
        }
    }
    Some(chars.next().map_or("", |(i, _)| &s[i..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(spellings: &[&str]) -> Label {
        Label { spellings: spellings.iter().map(|s| s.to_string()).collect(), paragraph: false }
    }

    const MAIL: &str = "Hello,\n\nYou have a new lead!\n\n*First Name:* Jane\nlast name :  Doe\n- E-Mail: jane@example.net\n\
        Phone\n\n(212) 555-0142\nName of dealer: Cars Example\nComments:\nIs it still available?\nCall me after 5.\n\nBye\n";

    #[test]
    fn finds_values_with_decoration_and_case_differences() {
        assert_eq!(label(&["First Name"]).find(MAIL).as_deref(), Some("Jane"));
        assert_eq!(label(&["Last Name"]).find(MAIL).as_deref(), Some("Doe"));
        assert_eq!(label(&["Email", "E-Mail"]).find(MAIL).as_deref(), Some("jane@example.net"));
    }

    #[test]
    fn value_on_next_line_and_paragraphs() {
        assert_eq!(label(&["Phone"]).find(MAIL).as_deref(), Some("(212) 555-0142"));
        assert_eq!(label(&["Comments"]).find(MAIL).as_deref(), Some("Is it still available?"));
        let para = Label { paragraph: true, ..label(&["Comments"]) };
        assert_eq!(para.find(MAIL).as_deref(), Some("Is it still available?\nCall me after 5."));
    }

    #[test]
    fn a_longer_label_does_not_match_a_shorter_spelling() {
        assert_eq!(label(&["Name"]).find(MAIL), None);
        assert_eq!(label(&["Dealer"]).find(MAIL), None);
    }

    #[test]
    fn case_is_ignored_in_ascii_and_beyond() {
        assert_eq!(label(&["E-MAIL"]).find("e-mail: a@example.net\n").as_deref(), Some("a@example.net"));
        // The Kelvin sign lowercases to `k`; `ß` has no one-char uppercase; a line shorter than the label.
        assert_eq!(label(&["Kontakt"]).find("\u{212A}ontakt: x\n").as_deref(), Some("x"));
        assert_eq!(label(&["STRASSE", "Straße"]).find("STRAßE: Hauptstr. 1\n").as_deref(), Some("Hauptstr. 1"));
        assert_eq!(label(&["Ärger"]).find("äRGER: y\n").as_deref(), Some("y"));
        assert_eq!(label(&["Telephone"]).find("Tel\n"), None);
        assert_eq!(strip_prefix_ci("Ab", "abc"), None);
        assert_eq!(strip_prefix_ci("ABc", "ab"), Some("c"));
        assert_eq!(strip_prefix_ci("Aé", "ab"), None);
    }

    #[test]
    fn other_separators_and_quoted_forwards() {
        assert_eq!(label(&["Ref"]).find("Ref - A-17\n").as_deref(), Some("A-17"));
        assert_eq!(label(&["Ort"]).find("> Ort: München\n").as_deref(), Some("München"));
        assert_eq!(label(&["Stadt"]).find("Stadt=Köln\n").as_deref(), Some("Köln"));
    }
}
