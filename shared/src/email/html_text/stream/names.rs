//! What the tree builder knows about elements and doctypes, as far as the token model uses it.

use super::Quirks;
use html5ever::tokenizer::{Doctype, Tag};

/// HTML's whitespace (not Unicode's: a no-break space is text).
pub(super) fn is_html_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r')
}

/// Elements whose content the tokenizer reads as raw text, up to their end tag (`name` in lower case, as
/// html5ever gives it).
pub(super) fn is_raw_text(name: &str) -> bool {
    super::super::RAW_TEXT_ELEMENTS.contains(&name)
}

/// `h1` to `h6`.
pub(super) fn is_heading(name: &str) -> bool {
    matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// The table elements (a table part start tag in a cell or caption closes it first, except `table`).
pub(super) fn is_table_part(name: &str) -> bool {
    matches!(name, "caption" | "col" | "colgroup" | "tbody" | "td" | "tfoot" | "th" | "thead" | "tr" | "table")
}

/// `<input type=hidden>`, which a table keeps instead of fostering it out.
pub(super) fn is_hidden_input(tag: &Tag) -> bool {
    tag.attrs.iter().any(|a| &*a.name.local == "type" && a.value.eq_ignore_ascii_case("hidden"))
}

/// The "special" elements, which stop the searches for a matching end tag: html5ever 0.35's list (the spec's,
/// with `isindex` and without `keygen` and `search`).
pub(super) fn is_special(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "applet"
            | "area"
            | "article"
            | "aside"
            | "base"
            | "basefont"
            | "bgsound"
            | "blockquote"
            | "body"
            | "br"
            | "button"
            | "caption"
            | "center"
            | "col"
            | "colgroup"
            | "dd"
            | "details"
            | "dir"
            | "div"
            | "dl"
            | "dt"
            | "embed"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "frame"
            | "frameset"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "head"
            | "header"
            | "hgroup"
            | "hr"
            | "html"
            | "iframe"
            | "img"
            | "input"
            | "isindex"
            | "li"
            | "link"
            | "listing"
            | "main"
            | "marquee"
            | "menu"
            | "meta"
            | "nav"
            | "noembed"
            | "noframes"
            | "noscript"
            | "object"
            | "ol"
            | "p"
            | "param"
            | "plaintext"
            | "pre"
            | "script"
            | "section"
            | "select"
            | "source"
            | "style"
            | "summary"
            | "table"
            | "tbody"
            | "td"
            | "template"
            | "textarea"
            | "tfoot"
            | "th"
            | "thead"
            | "title"
            | "tr"
            | "track"
            | "ul"
            | "wbr"
            | "xmp"
    )
}

/// The quirks mode a doctype selects, as html5ever decides it, classified only as far as common mail doctypes go
/// (`Unknown` for the rest).
pub(super) fn quirks_of(d: &Doctype) -> Quirks {
    let name_is_html = d.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case("html"));
    if d.force_quirks || !name_is_html {
        return Quirks::Yes;
    }
    let public = d.public_id.as_deref().map(str::to_ascii_lowercase);
    let system = d.system_id.as_deref().map(str::to_ascii_lowercase);
    if system.as_deref() == Some("http://www.ibm.com/data/dtd/v11/ibmxhtml1-transitional.dtd") {
        return Quirks::Yes;
    }
    const QUIRKY: [&str; 6] = [
        "-//w3c//dtd html 3.2//",
        "-//w3c//dtd html 3.2 final//",
        "-//w3c//dtd html 3.2 draft//",
        "-//w3c//dtd html 3.2s draft//",
        "-//w3c//dtd html 4.0 transitional//",
        "-//w3c//dtd html 4.0 frameset//",
    ];
    // No quirks, or limited quirks (XHTML 1.0 Transitional and Frameset, HTML 4.01 ones with a system id): a
    // `<table>` closes an open `<p>` in both.
    const NOT_QUIRKY: [&str; 5] = [
        "-//w3c//dtd xhtml 1.0 strict//",
        "-//w3c//dtd xhtml 1.0 transitional//",
        "-//w3c//dtd xhtml 1.0 frameset//",
        "-//w3c//dtd xhtml 1.1//",
        "-//w3c//dtd html 4.01//",
    ];
    match public.as_deref() {
        None => Quirks::No,
        Some(p) if QUIRKY.iter().any(|q| p.starts_with(q)) => Quirks::Yes,
        Some(p) if NOT_QUIRKY.iter().any(|q| p.starts_with(q)) => Quirks::No,
        Some(p)
            if p.starts_with("-//w3c//dtd html 4.01 transitional//")
                || p.starts_with("-//w3c//dtd html 4.01 frameset//") =>
        {
            if system.is_some() {
                Quirks::No
            } else {
                Quirks::Yes
            }
        }
        Some(_) => Quirks::Unknown,
    }
}
