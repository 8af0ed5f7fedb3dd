//! HTML lead tables: the cell next to a label cell (`<th>Name</th><td>Jane</td>`), the cell below a label
//! in a header row, a `<dt>`/`<dd>` pair, or any element picked by a CSS selector.

use scraper::{ElementRef, Html, Selector};

/// An HTML extractor: by label or by CSS selector.
#[derive(Debug, Clone)]
pub enum HtmlTable {
    /// Label spellings of the label cell (case-insensitive, trailing `:` and `*` ignored).
    Label(Vec<String>),
    /// The first element matching this selector.
    Selector(Box<Selector>),
}

impl HtmlTable {
    /// Finds the value in a parsed HTML document.
    pub fn find(&self, doc: &Html) -> Option<String> {
        match self {
            Self::Selector(sel) => doc.select(sel).map(element_text).find(|t| !t.is_empty()),
            Self::Label(labels) => {
                let wanted: Vec<String> = labels.iter().map(|l| normalize_label(l)).collect();
                wanted.iter().find_map(|w| find_by_label(doc, w))
            }
        }
    }
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("static selector is valid")
}

fn find_by_label(doc: &Html, wanted: &str) -> Option<String> {
    let rows: Vec<Vec<ElementRef<'_>>> = doc.select(&selector("tr")).map(cells).collect();
    for (r, row) in rows.iter().enumerate() {
        // A row made only of <th> cells is a header row: its values are in the rows below.
        let header_row = row.len() > 1 && row.iter().all(|c| c.value().name() == "th");
        for (c, cell) in row.iter().enumerate() {
            if normalize_label(&element_text(*cell)) != wanted {
                continue;
            }
            let beside = row.get(c + 1).filter(|_| !header_row).map(|n| element_text(*n));
            let below = || rows.get(r + 1).and_then(|next| next.get(c)).map(|n| element_text(*n));
            if let Some(v) = beside.filter(|v| !v.is_empty()).or_else(|| below().filter(|v| !v.is_empty())) {
                return Some(v);
            }
        }
    }
    for dt in doc.select(&selector("dt")) {
        if normalize_label(&element_text(dt)) == wanted {
            let dd = dt.next_siblings().filter_map(ElementRef::wrap).find(|e| e.value().name() == "dd");
            if let Some(v) = dd.map(element_text).filter(|v| !v.is_empty()) {
                return Some(v);
            }
        }
    }
    None
}

/// The `th`/`td` cells of a row (not those of nested tables).
fn cells(row: ElementRef<'_>) -> Vec<ElementRef<'_>> {
    row.children().filter_map(ElementRef::wrap).filter(|e| matches!(e.value().name(), "td" | "th")).collect()
}

/// Text of an element; `<br>` and block boundaries become spaces, whitespace collapsed.
fn element_text(e: ElementRef<'_>) -> String {
    let text: Vec<&str> = e.text().collect();
    crate::fields::collapse_whitespace(&text.join(" "))
}

fn normalize_label(s: &str) -> String {
    crate::fields::collapse_whitespace(s.trim().trim_end_matches([':', '*', '：']).trim()).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<html><body><p>New enquiry</p>
        <table><tr><th>Name:</th><td> Jane <b>Doe</b></td></tr>
        <tr><td>Phone</td><td>(212) 555-0142</td></tr>
        <tr><td>Address</td><td>12 Main St<br>Springfield</td></tr></table>
        <table><tr><th>Listing</th><th>Price</th></tr><tr><td>MLS-77</td><td>$450,000</td></tr></table>
        <table><tr><td>Beds</td></tr><tr><td>3</td></tr></table>
        <dl><dt>Move-in</dt><dd>2027-01-01</dd></dl>
        <span class="ref">R-9</span></body></html>"#;

    fn by_label(l: &str) -> Option<String> {
        HtmlTable::Label(vec![l.to_string()]).find(&Html::parse_document(PAGE))
    }

    #[test]
    fn cell_next_to_label_below_header_and_dd() {
        assert_eq!(by_label("name").as_deref(), Some("Jane Doe"));
        assert_eq!(by_label("PHONE").as_deref(), Some("(212) 555-0142"));
        assert_eq!(by_label("Address").as_deref(), Some("12 Main St Springfield"));
        assert_eq!(by_label("Price").as_deref(), Some("$450,000"));
        assert_eq!(by_label("Listing").as_deref(), Some("MLS-77"));
        assert_eq!(by_label("Beds").as_deref(), Some("3"));
        assert_eq!(by_label("Move-in").as_deref(), Some("2027-01-01"));
        assert_eq!(by_label("Email"), None);
    }

    #[test]
    fn css_selector() {
        let sel = HtmlTable::Selector(Box::new(Selector::parse("span.ref").expect("valid")));
        assert_eq!(sel.find(&Html::parse_document(PAGE)).as_deref(), Some("R-9"));
    }
}
