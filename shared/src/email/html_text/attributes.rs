//! A tag's attributes, capped before the tokenizer sees them: html5ever checks each new attribute against every
//! earlier one of the same tag, so a tag with a million attributes (10 MB) would take hours.

use std::borrow::Cow;

/// The most attributes a tag keeps; email HTML has a few dozen at most. Past it the tokenizer's duplicate
/// check costs at most this many comparisons per attribute.
pub const MAX_ATTRIBUTES: usize = 64;

/// `html` with every tag's attributes past the [`MAX_ATTRIBUTES`]th removed (borrowed when there are none: two
/// passes over the bytes). Tags are found as the tokenizer finds them: `<` or `</` and a letter, the name, then
/// attributes (a name, and after `=` a quoted or unquoted value) up to `>`, comments passed over. Whether the
/// content of a `script`, `style`, `textarea`, ... element is text or markup depends on where the tree builder is
/// (text in HTML content; markup in `svg`, `math` or `select`), so it is read both ways, in two passes, and what
/// either would cut is cut: as text, passed over up to its end tag (a `script` through its escapes); as markup,
/// with no quote running past that end tag. (A crafted mail can still get one tag with many attributes past both,
/// e.g. with a CDATA section read differently in and out of `svg`; the fix for that belongs in html5ever.)
pub fn cap_attributes(html: &str) -> Cow<'_, str> {
    let mut cuts = cuts(html.as_bytes(), RawText::Skipped);
    cuts.extend(self::cuts(html.as_bytes(), RawText::ReadAsMarkup));
    if cuts.is_empty() {
        return Cow::Borrowed(html);
    }
    cuts.sort_unstable();
    let mut out = String::with_capacity(html.len());
    let mut from = 0;
    // The two passes' cuts overlap where they agree.
    for (start, end) in cuts {
        if start > from {
            out.push_str(&html[from..start]);
        }
        from = from.max(end);
    }
    out.push_str(&html[from..]);
    Cow::Owned(out)
}

/// How a pass reads the content of a raw text element.
#[derive(Clone, Copy, PartialEq)]
enum RawText {
    /// As the tokenizer does in HTML content: text, up to the element's end tag.
    Skipped,
    /// As markup (the tokenizer in `svg`, `math`, `select`), but no quoted value runs past the end tag.
    ReadAsMarkup,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0c' | b'\r')
}

/// Where `needle` next starts in `b` at or after `from`, ASCII case ignored.
fn find(b: &[u8], mut from: usize, needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    loop {
        let at = from + b.get(from..)?.iter().position(|&c| c == first)?;
        if b.get(at..at + needle.len()).is_some_and(|w| w.eq_ignore_ascii_case(needle)) {
            return Some(at);
        }
        from = at + 1;
    }
}

/// Just past the `>` at or after `from` (the end of a bogus comment or a doctype), or the end.
fn past_gt(b: &[u8], from: usize) -> usize {
    b.get(from..).and_then(|r| r.iter().position(|&c| c == b'>')).map_or(b.len(), |at| from + at + 1)
}

/// Whether `b` has the tag `<name` or `</name` (`tag` with its `<` or `</`) at `at`, ended by a space, `/` or `>`.
fn tag_at(b: &[u8], at: usize, tag: &[u8]) -> bool {
    b.get(at..at + tag.len()).is_some_and(|t| t.eq_ignore_ascii_case(tag))
        && b.get(at + tag.len()).is_none_or(|&c| is_space(c) || c == b'/' || c == b'>')
}

/// Where the raw text element `name` whose content starts at `from` ends: at its end tag, or the end. A script's
/// content may hold `<!--` escapes, in which `<script>` ... `</script>` does not end it.
fn raw_end(b: &[u8], from: usize, name: &[u8]) -> usize {
    let end_tag = [b"</", name].concat();
    if !name.eq_ignore_ascii_case(b"script") {
        let mut at = from;
        return loop {
            let Some(close) = find(b, at, &end_tag) else { break b.len() };
            if tag_at(b, close, &end_tag) {
                break close;
            }
            at = close + 1;
        };
    }
    let (mut i, mut escaped, mut double) = (from, false, false);
    while let Some(at) = b.get(i..).and_then(|r| r.iter().position(|&c| c == b'<' || c == b'-')) {
        i += at;
        if b[i..].starts_with(b"-->") {
            (escaped, double) = (false, false);
            i += 3;
        } else if !escaped && b[i..].starts_with(b"<!--") {
            escaped = true;
            i += 4;
        } else if tag_at(b, i, b"</script") {
            if !double {
                return i;
            }
            double = false;
            i += 8;
        } else if escaped && tag_at(b, i, b"<script") {
            double = true;
            i += 7;
        } else {
            i += 1;
        }
    }
    b.len()
}

/// Just past the end of a comment whose `<!--` ends before `from`: `-->` or `--!>`, or at once for `<!-->` and
/// `<!--->`.
fn past_comment(b: &[u8], from: usize) -> usize {
    let rest = &b[from.min(b.len())..];
    if rest.starts_with(b">") {
        return from + 1;
    }
    if rest.starts_with(b"->") {
        return from + 2;
    }
    let mut at = from;
    while let Some(dashes) = find(b, at, b"--") {
        match &b[dashes + 2..] {
            [b'>', ..] => return dashes + 3,
            [b'!', b'>', ..] => return dashes + 4,
            _ => at = dashes + 1,
        }
    }
    b.len()
}

/// The elements whose content the tokenizer reads as text up to their end tag, in HTML content (any case).
fn is_raw(name: &[u8]) -> bool {
    super::RAW_TEXT_ELEMENTS.iter().any(|raw| name.eq_ignore_ascii_case(raw.as_bytes()))
}

/// The byte ranges to remove, reading raw text as `raw` says: from the end of each tag's last kept attribute to
/// the end of its last one.
fn cuts(b: &[u8], raw: RawText) -> Vec<(usize, usize)> {
    let mut cuts = Vec::new();
    let mut i = 0;
    // Where the raw text element being read as markup ends (else the end).
    let mut region_end = b.len();
    loop {
        let Some(at) = b[i..region_end].iter().position(|&c| c == b'<') else {
            if region_end == b.len() {
                break;
            }
            (i, region_end) = (region_end, b.len());
            continue;
        };
        i += at + 1;
        let region = &b[..region_end];
        let end_tag = match (region.get(i), region.get(i + 1)) {
            (Some(b'!'), _) if region[i..].starts_with(b"!--") => {
                i = past_comment(region, i + 3);
                continue;
            }
            (Some(b'!' | b'?'), _) => {
                i = past_gt(region, i);
                continue;
            }
            (Some(b'/'), Some(c)) if c.is_ascii_alphabetic() => {
                i += 1;
                true
            }
            (Some(b'/'), _) => {
                i = past_gt(region, i);
                continue;
            }
            (Some(c), _) if c.is_ascii_alphabetic() => false,
            _ => continue,
        };
        let name_start = i;
        while i < region.len() && !is_space(region[i]) && region[i] != b'/' && region[i] != b'>' {
            i += 1;
        }
        let name = &region[name_start..i];
        let (count, cut, end) = attributes(region, i);
        if count > MAX_ATTRIBUTES {
            cuts.push(cut);
        }
        i = end;
        if end_tag || region_end < b.len() {
            continue;
        }
        if name.eq_ignore_ascii_case(b"plaintext") {
            if raw == RawText::Skipped {
                break;
            }
        } else if is_raw(name) {
            let content_end = raw_end(b, i, name);
            match raw {
                RawText::Skipped => i = content_end,
                RawText::ReadAsMarkup => region_end = content_end,
            }
        }
    }
    cuts
}

/// The attributes of the tag whose name ends at `i`: how many, the range past the [`MAX_ATTRIBUTES`]th (from the
/// end of that one to the end of the last), and where the tag ends (at its `>`, or the end of the input).
fn attributes(b: &[u8], mut i: usize) -> (usize, (usize, usize), usize) {
    let (mut count, mut cut_from, mut last_end) = (0, i, i);
    loop {
        while i < b.len() && (is_space(b[i]) || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() || b[i] == b'>' {
            break;
        }
        count += 1;
        if count == MAX_ATTRIBUTES + 1 {
            cut_from = last_end;
        }
        i += 1; // a name may start with `=`
        while i < b.len() && !is_space(b[i]) && !matches!(b[i], b'/' | b'>' | b'=') {
            i += 1;
        }
        let mut j = i;
        while j < b.len() && is_space(b[j]) {
            j += 1;
        }
        if b.get(j) == Some(&b'=') {
            i = j + 1;
            while i < b.len() && is_space(b[i]) {
                i += 1;
            }
            match b.get(i) {
                Some(&q) if q == b'"' || q == b'\'' => {
                    i = b[i + 1..].iter().position(|&c| c == q).map_or(b.len(), |end| i + 1 + end + 1);
                }
                _ => {
                    while i < b.len() && !is_space(b[i]) && b[i] != b'>' {
                        i += 1;
                    }
                }
            }
        }
        last_end = i;
    }
    (count, (cut_from, last_end), i)
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
        // End tags too: the tokenizer checks their attributes the same way.
        let end_tag = format!("<p>t</p {}>", attrs.join(" "));
        assert_eq!(cap_attributes(&end_tag), format!("<p>t</p {}>", attrs[..MAX_ATTRIBUTES].join(" ")));
        // Comments and doctypes are passed over as the tokenizer reads them: what looks like a tag there is not
        // one, and its quotes do not hide a real tag after it.
        let words = "w ".repeat(MAX_ATTRIBUTES + 5);
        for text in [format!("<!-- <x {words} --><p>visible"), format!("<!DOCTYPE html><!x {words}><?y {words}>t")] {
            assert!(matches!(cap_attributes(&text), Cow::Borrowed(_)), "{text}");
        }
        // A script's content is also read as markup (the second pass), but no cut runs past its end tag.
        let script = format!("<script>if (a <x {words}) {{}}</script><p>visible");
        assert_eq!(super::super::html_to_text(&script), "visible\n");
        let hidden = format!("<!--<a b=\"--><p {}>", attrs.join(" "));
        assert!(cap_attributes(&hidden).len() < hidden.len(), "a quote in a comment does not hide the tag after it");
        let after_script = format!("<script>'<a b=\"'</script><p {}>", attrs.join(" "));
        assert!(cap_attributes(&after_script).len() < after_script.len());
        // Where the tree builder keeps the tokenizer out of raw text (`select`, `svg`), a `style` holds markup; a
        // script's escapes keep it open past a `</script>`.
        for (before, after) in [("<select><style>", ""), ("<svg><style>", "</style>")] {
            let html = format!("{before}<p {}>{after}", attrs.join(" "));
            assert!(cap_attributes(&html).len() < html.len(), "{html}");
        }
        // `<!--<script>` ... `</script>` inside a script does not end it; the next `</script>` does.
        let escaped = format!("<script><!--<script></script><x a=\"</script><p {}>\"", attrs.join(" "));
        assert!(cap_attributes(&escaped).len() < escaped.len());
        let inside = format!("<script><!--<script></script><x a=\"<p {}>\"</script>", attrs.join(" "));
        assert!(matches!(cap_attributes(&inside), Cow::Borrowed(_)), "the p is script text, in a quote either way");
        let unterminated = format!("<p {} x=\"never closed", attrs.join(" "));
        assert!(cap_attributes(&unterminated).len() < unterminated.len());
        assert!(matches!(cap_attributes("<"), Cow::Borrowed(_)));
    }
}
