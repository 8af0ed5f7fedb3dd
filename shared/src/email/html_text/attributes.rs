//! A start tag's attributes, capped before the tokenizer sees them: html5ever checks each new attribute against
//! every earlier one of the same tag, so a tag with a million attributes (10 MB) would take hours.

use std::borrow::Cow;

/// The most attributes a start tag keeps; email HTML has a few dozen at most. Past it the tokenizer's duplicate
/// check costs at most this many comparisons per attribute.
pub const MAX_ATTRIBUTES: usize = 64;

/// `html` with every start tag's attributes past the [`MAX_ATTRIBUTES`]th removed (borrowed when there are none:
/// one pass over the bytes). Tags are found the way the tokenizer finds them in the data state: `<` and a letter,
/// the name, then attributes (a name, and after `=` a quoted or unquoted value) up to `>`; text that only looks
/// like a tag (in a comment or a script) may lose attributes too, which changes no text.
pub fn cap_attributes(html: &str) -> Cow<'_, str> {
    let cuts = cuts(html.as_bytes());
    if cuts.is_empty() {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut from = 0;
    for (start, end) in cuts {
        out.push_str(&html[from..start]);
        from = end;
    }
    out.push_str(&html[from..]);
    Cow::Owned(out)
}

/// The byte ranges to remove: from the start of each tag's first attribute past the limit to the end of its last.
fn cuts(b: &[u8]) -> Vec<(usize, usize)> {
    let space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\x0c' | b'\r');
    let mut cuts = Vec::new();
    let mut i = 0;
    while let Some(at) = b[i..].iter().position(|&c| c == b'<') {
        i += at + 1;
        if !b.get(i).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        while i < b.len() && !space(b[i]) && b[i] != b'/' && b[i] != b'>' {
            i += 1;
        }
        let (mut count, mut cut_from, mut last_end) = (0, None, i);
        loop {
            while i < b.len() && (space(b[i]) || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() || b[i] == b'>' {
                break;
            }
            count += 1;
            if count == MAX_ATTRIBUTES + 1 {
                cut_from = Some(last_end);
            }
            i += 1; // a name may start with `=`
            while i < b.len() && !space(b[i]) && !matches!(b[i], b'/' | b'>' | b'=') {
                i += 1;
            }
            let mut j = i;
            while j < b.len() && space(b[j]) {
                j += 1;
            }
            if b.get(j) == Some(&b'=') {
                i = j + 1;
                while i < b.len() && space(b[i]) {
                    i += 1;
                }
                match b.get(i) {
                    Some(&q) if q == b'"' || q == b'\'' => {
                        i = b[i + 1..].iter().position(|&c| c == q).map_or(b.len(), |end| i + 1 + end + 1);
                    }
                    _ => {
                        while i < b.len() && !space(b[i]) && b[i] != b'>' {
                            i += 1;
                        }
                    }
                }
            }
            last_end = i;
        }
        if let Some(from) = cut_from {
            cuts.push((from, last_end));
        }
    }
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_attributes_of_a_tag_with_too_many() {
        let attrs: Vec<String> = (0..MAX_ATTRIBUTES + 3).map(|i| format!("a{i}=\"x>{i}\"")).collect();
        let html = format!("<p>t</p><td class=c {} >cell<br/>", attrs.join(" \n"));
        let kept = format!("<p>t</p><td class=c {} >cell<br/>", attrs[..MAX_ATTRIBUTES - 1].join(" \n"));
        assert_eq!(cap_attributes(&html), kept);
        assert_eq!(super::super::html_to_text(&html), super::super::html_to_text(&kept));
        let few = "<a href='x' b=c d e=\"f\">é</a><!-- <p a b> --> 1 < 2 <3";
        assert!(matches!(cap_attributes(few), Cow::Borrowed(_)));
        let unterminated = format!("<p {} x=\"never closed", attrs.join(" "));
        assert!(cap_attributes(&unterminated).len() < unterminated.len());
        assert!(matches!(cap_attributes("<"), Cow::Borrowed(_)));
    }
}
