//! HTML lead tables: the cell next to a label cell (`<th>Name</th><td>Jane</td>`), the cell below a label
//! in a header row, a `<dt>`/`<dd>` pair, or any element picked by a CSS selector.

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};
use std::cell::OnceCell;
use std::sync::LazyLock;

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
        let cells = OnceCell::new();
        self.find_indexed(doc, || cells.get_or_init(|| LabelCells::of(doc)))
    }

    /// [`HtmlTable::find`] with the document's label cells read once for every field (`cells` is called only
    /// by a label lookup).
    pub(super) fn find_indexed<'d>(&self, doc: &Html, cells: impl FnOnce() -> &'d LabelCells) -> Option<String> {
        match self {
            Self::Selector(sel) => doc.select(sel).map(element_text).find(|t| !t.is_empty()),
            Self::Label(labels) => {
                let cells = cells();
                labels.iter().find_map(|l| cells.find(doc, &normalize_label(l)))
            }
        }
    }
}

/// The longest cell text (in bytes, whitespace collapsed) that can be a label: longer cells are values only. It
/// bounds what [`LabelCells`] keeps, since an outer layout cell's text holds every nested table's text.
const MAX_LABEL_BYTES: usize = 256;

/// The cells a label can be in, with their labels read once: table rows (`th`/`td`) and `dt`/`dd` pairs. Values
/// are read from the document only for the cell a lookup picks.
#[derive(Debug, Default)]
pub struct LabelCells {
    rows: Vec<Row>,
    /// (label of a `dt`, the `dd` after it).
    terms: Vec<(Option<String>, Option<NodeId>)>,
}

#[derive(Debug)]
struct Row {
    /// Made only of `th` cells (and more than one): its values are in the rows below.
    header: bool,
    cells: Vec<Cell>,
}

#[derive(Debug)]
struct Cell {
    id: NodeId,
    /// The normalized label, `None` when the cell's text is too long to be one.
    label: Option<String>,
}

impl LabelCells {
    /// Reads the label cells of `doc`.
    pub fn of(doc: &Html) -> Self {
        static TR: LazyLock<Selector> = LazyLock::new(|| selector("tr"));
        static DT: LazyLock<Selector> = LazyLock::new(|| selector("dt"));
        let rows = doc
            .select(&TR)
            .map(|tr| {
                let cells = cells(tr);
                let header = cells.len() > 1 && cells.iter().all(|c| c.value().name() == "th");
                let cells = cells.into_iter().map(|c| Cell { id: c.id(), label: label_of(c) }).collect();
                Row { header, cells }
            })
            .collect();
        let terms = doc
            .select(&DT)
            .map(|dt| {
                let dd = dt.next_siblings().filter_map(ElementRef::wrap).find(|e| e.value().name() == "dd");
                (label_of(dt), dd.map(|e| e.id()))
            })
            .collect();
        Self { rows, terms }
    }

    /// The value for label `wanted` (normalized) in `doc` (the document these cells were read from): the cell
    /// beside it, else the cell below it, else the `dd` after a `dt` with that label; empty values are skipped.
    fn find(&self, doc: &Html, wanted: &str) -> Option<String> {
        let text = |id: NodeId| doc.tree.get(id).and_then(ElementRef::wrap).map(element_text).filter(|t| !t.is_empty());
        let is_wanted = |label: &Option<String>| label.as_deref() == Some(wanted);
        for (r, row) in self.rows.iter().enumerate() {
            for (c, cell) in row.cells.iter().enumerate() {
                if !is_wanted(&cell.label) {
                    continue;
                }
                let beside = row.cells.get(c + 1).filter(|_| !row.header).and_then(|n| text(n.id));
                let value =
                    beside.or_else(|| self.rows.get(r + 1).and_then(|next| next.cells.get(c)).and_then(|n| text(n.id)));
                if value.is_some() {
                    return value;
                }
            }
        }
        self.terms.iter().filter(|(label, _)| is_wanted(label)).find_map(|(_, dd)| dd.and_then(text))
    }
}

/// The normalized label of a cell, unless its text is too long to be one.
fn label_of(e: ElementRef<'_>) -> Option<String> {
    let text = element_text(e);
    (text.len() <= MAX_LABEL_BYTES).then(|| normalize_label(&text))
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("static selector is valid")
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
    fn a_long_cell_is_a_value_but_never_a_label() {
        let long = "x ".repeat(200);
        let page = format!(
            "<table><tr><td>{long}</td><td>a</td></tr><tr><td>Name</td><td>{long}</td></tr></table>\
             <dl><dt>Ref</dt><dd></dd><dt>Ref</dt><dd>R-2</dd></dl>"
        );
        let doc = Html::parse_document(&page);
        let find = |l: &str| HtmlTable::Label(vec![l.to_string()]).find(&doc);
        assert_eq!(find(&long), None);
        assert_eq!(find("name").map(|v| v.len()), Some(long.trim().len()));
        assert_eq!(find("ref").as_deref(), Some("R-2"), "the first dt with a non-empty dd");
    }

    #[test]
    fn css_selector() {
        let sel = HtmlTable::Selector(Box::new(Selector::parse("span.ref").expect("valid")));
        assert_eq!(sel.find(&Html::parse_document(PAGE)).as_deref(), Some("R-9"));
    }
}
