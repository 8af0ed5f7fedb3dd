//! What the tree builder knows about elements and doctypes, as far as the token model uses it.

use super::Quirks;
use html5ever::tokenizer::{Doctype, Tag};

pub(super) fn is_html_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r')
}

pub(super) fn is_heading(name: &str) -> bool {
    matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

pub(super) fn is_table_part(name: &str) -> bool {
    matches!(name, "caption" | "col" | "colgroup" | "tbody" | "td" | "tfoot" | "th" | "thead" | "tr" | "table")
}

pub(super) fn is_hidden_input(tag: &Tag) -> bool {
    tag.attrs.iter().any(|a| &*a.name.local == "type" && a.value.eq_ignore_ascii_case("hidden"))
}

/// The HTML spec's "special" elements, which stop the searches for a matching end tag.
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
            | "keygen"
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
            | "search"
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

/// The quirks mode a doctype selects, classified only as far as common mail doctypes go.
pub(super) fn quirks_of(d: &Doctype) -> Quirks {
    let name_is_html = d.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case("html"));
    if d.force_quirks || !name_is_html {
        return Quirks::Yes;
    }
    let public = d.public_id.as_deref().map(str::to_ascii_lowercase);
    let system = d.system_id.as_deref().map(str::to_ascii_lowercase);
    match public.as_deref() {
        None => match system.as_deref() {
            Some(s) if s.contains("ibmxhtml1-transitional") => Quirks::Unknown,
            _ => Quirks::No,
        },
        Some(p) if p.starts_with("-//w3c//dtd xhtml 1.0 ") || p.starts_with("-//w3c//dtd xhtml 1.1//") => Quirks::No,
        Some(p) if p.starts_with("-//w3c//dtd html 4.01//") => Quirks::No,
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
        Some(p) if p.starts_with("-//w3c//dtd html 4.0 transitional//") || p.starts_with("-//w3c//dtd html 3.2") => {
            Quirks::Yes
        }
        Some(_) => Quirks::Unknown,
    }
}
