//! A small XPath subset for ADF/XML leads: `/adf/prospect/customer/contact/email`, `//vehicle/year`,
//! `name[@part='first']`, `phone[2]`, `*`, and a final `@attr`. Names match the local name (namespaces are
//! ignored). Documents with a DTD are refused, so entity-expansion bombs cannot be expanded.

use roxmltree::{Document, Node, ParsingOptions};
use std::collections::HashSet;

/// A compiled path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlPath {
    steps: Vec<Step>,
    attribute: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    descendant: bool,
    name: Option<String>,
    predicates: Vec<Predicate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Predicate {
    Attr(String, Option<String>),
    Position(usize),
}

/// A path that does not compile, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid xml_path: {0}")]
pub struct XmlPathError(String);

impl XmlPath {
    /// Compiles a path such as `/adf/prospect/customer/contact/name[@part='first']`.
    pub fn parse(path: &str) -> Result<Self, XmlPathError> {
        let err = |m: &str| XmlPathError(format!("{m} in {path:?}"));
        let mut rest = path.trim();
        let mut steps = Vec::new();
        let mut attribute = None;
        let mut first = true;
        while !rest.is_empty() {
            let descendant = if let Some(r) = rest.strip_prefix("//") {
                rest = r;
                true
            } else if let Some(r) = rest.strip_prefix('/') {
                rest = r;
                false
            } else if first {
                true
            } else {
                return Err(err("expected '/'"));
            };
            first = false;
            let end = step_end(rest);
            let (step, tail) = rest.split_at(end);
            rest = tail;
            if let Some(attr) = step.strip_prefix('@') {
                if !rest.is_empty() || !valid_name(attr) {
                    return Err(err("an attribute must be the last step"));
                }
                attribute = Some(attr.to_string());
                break;
            }
            if step == "text()" {
                if !rest.is_empty() {
                    return Err(err("text() must be the last step"));
                }
                break;
            }
            steps.push(parse_step(step, descendant).map_err(|m| err(&m))?);
        }
        if steps.is_empty() {
            return Err(err("no element step"));
        }
        Ok(Self { steps, attribute })
    }

    /// The trimmed text (or attribute value) of the first node the path selects.
    pub fn find(&self, doc: &Document<'_>) -> Option<String> {
        let mut nodes = vec![doc.root()];
        for step in &self.steps {
            let mut next = Vec::new();
            for node in &nodes {
                let candidates: Vec<Node<'_, '_>> = if step.descendant {
                    node.descendants().filter(|n| n != node && n.is_element()).collect()
                } else {
                    node.children().filter(Node::is_element).collect()
                };
                let named: Vec<Node<'_, '_>> = candidates
                    .into_iter()
                    .filter(|n| step.name.as_deref().is_none_or(|want| n.tag_name().name() == want))
                    .filter(|n| step.predicates.iter().all(|p| !matches!(p, Predicate::Attr(..)) || p.holds(n)))
                    .collect();
                let chosen = match step.predicates.iter().find_map(|p| match p {
                    Predicate::Position(i) => Some(*i),
                    Predicate::Attr(..) => None,
                }) {
                    Some(i) => named.get(i - 1).copied().into_iter().collect(),
                    None => named,
                };
                next.extend(chosen);
            }
            nodes = next;
            if nodes.is_empty() {
                return None;
            }
        }
        nodes.iter().find_map(|n| {
            let text = match &self.attribute {
                Some(a) => n.attribute(a.as_str())?.to_string(),
                None => n.descendants().filter(Node::is_text).filter_map(|t| t.text()).collect::<Vec<_>>().join(" "),
            };
            let text = crate::fields::collapse_whitespace(&text);
            (!text.is_empty()).then_some(text)
        })
    }
}

impl Predicate {
    fn holds(&self, n: &Node<'_, '_>) -> bool {
        match self {
            Self::Attr(name, value) => match (n.attribute(name.as_str()), value) {
                (Some(actual), Some(want)) => actual == want,
                (Some(_), None) => true,
                (None, _) => false,
            },
            Self::Position(_) => true,
        }
    }
}

/// Parses XML text for extraction; `None` when it is not well-formed, declares a DTD, or would take roxmltree
/// more than linear work (see [`too_costly`]).
pub(super) fn parse_document(text: &str) -> Option<Document<'_>> {
    let text = text.trim().trim_start_matches('\u{feff}').trim();
    if too_costly(text.as_bytes()) {
        return None;
    }
    let opts = ParsingOptions { allow_dtd: false, ..ParsingOptions::default() };
    Document::parse_with_options(text, opts).ok()
}

/// The most attributes an element may have: roxmltree checks each attribute against every earlier one of its
/// element, so an element with a million of them would take hours. ADF has a handful.
const MAX_XML_ATTRIBUTES: usize = 256;

/// The most namespace declarations in scope at an element: roxmltree copies and compares every declaration in
/// scope for each element that declares one, so thousands of nested declarations take minutes. ADF declares none
/// or one; a declaration repeated on each of many sibling elements (`xmlns:xsi` on every prospect) is one in scope.
const MAX_XML_NAMESPACES: usize = 64;

/// The most different namespace declarations (prefix and URI) a document may have: roxmltree inserts each new one
/// into a sorted list, which takes time in the thousands. Generators that number their prefixes (`ns1`, `ns2`, ...)
/// for one URI stay far below it.
const MAX_XML_DISTINCT_NAMESPACES: usize = 1024;

/// Whether an element of `xml` has more than [`MAX_XML_ATTRIBUTES`] attributes (counted as `=` signs outside
/// quotes), or more than [`MAX_XML_NAMESPACES`] `xmlns` declarations in scope (its own and its open ancestors'),
/// or the document more than [`MAX_XML_DISTINCT_NAMESPACES`] different ones. One pass; comments, CDATA sections
/// and processing instructions are passed over.
fn too_costly(b: &[u8]) -> bool {
    let past = |from: usize, end: &[u8]| {
        b.get(from..)
            .and_then(|r| r.windows(end.len()).position(|w| w == end))
            .map_or(b.len(), |at| from + at + end.len())
    };
    // Declarations in scope, and how many each open element added.
    let (mut i, mut in_scope, mut open) = (0, 0, Vec::new());
    // The distinct declarations seen (name and quoted value).
    let mut distinct: HashSet<(&[u8], &[u8])> = HashSet::new();
    while let Some(at) = b.get(i..).and_then(|r| r.iter().position(|&c| c == b'<')) {
        i += at + 1;
        let rest = &b[i..];
        if rest.starts_with(b"/") {
            in_scope -= open.pop().unwrap_or(0);
        } else if rest.starts_with(b"!--") {
            i = past(i + 3, b"-->");
        } else if rest.starts_with(b"![CDATA[") {
            i = past(i + 8, b"]]>");
        } else if rest.starts_with(b"?") {
            i = past(i + 1, b"?>");
        } else if rest.first().is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_' || c == b':' || c >= 0x80) {
            let (mut count, mut namespaces, mut quote, tag_start) = (0, 0, None, i);
            while i < b.len() {
                let c = b[i];
                match quote {
                    Some(q) if c == q => quote = None,
                    Some(_) => {}
                    None if c == b'"' || c == b'\'' => quote = Some(c),
                    None if c == b'=' => {
                        count += 1;
                        // The name before it (spaces may come between).
                        let before = b[tag_start..i].trim_ascii_end();
                        let name = before
                            .rsplit(|&c| is_xml_space(c) || matches!(c, b'"' | b'\'' | b'='))
                            .next()
                            .unwrap_or(b"");
                        if name == b"xmlns" || name.starts_with(b"xmlns:") {
                            namespaces += 1;
                            let value = quoted_value(&b[i + 1..]);
                            if distinct.insert((name, value)) && distinct.len() > MAX_XML_DISTINCT_NAMESPACES {
                                return true;
                            }
                        }
                    }
                    None if c == b'>' => break,
                    None => {}
                }
                i += 1;
            }
            if count > MAX_XML_ATTRIBUTES || in_scope + namespaces > MAX_XML_NAMESPACES {
                return true;
            }
            if b[tag_start..i].last() != Some(&b'/') {
                in_scope += namespaces;
                open.push(namespaces);
            }
        }
    }
    false
}

/// The quoted attribute value at the start of `rest` (after spaces), without its quotes; empty if none.
fn quoted_value(rest: &[u8]) -> &[u8] {
    let rest = &rest[rest.iter().position(|&c| !is_xml_space(c)).unwrap_or(rest.len())..];
    match rest.split_first() {
        Some((&q, value)) if q == b'"' || q == b'\'' => {
            &value[..value.iter().position(|&c| c == q).unwrap_or(value.len())]
        }
        _ => b"",
    }
}

fn is_xml_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn step_end(s: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '/' if depth == 0 => return i,
            _ => {}
        }
    }
    s.len()
}

fn parse_step(step: &str, descendant: bool) -> Result<Step, String> {
    let (name, mut preds) = match step.find('[') {
        Some(i) => (&step[..i], &step[i..]),
        None => (step, ""),
    };
    let name = match name {
        "*" => None,
        n if valid_name(n) => Some(n.rsplit(':').next().unwrap_or(n).to_string()),
        n => return Err(format!("invalid element name {n:?}")),
    };
    let mut predicates = Vec::new();
    while !preds.is_empty() {
        let close = preds.find(']').ok_or("unclosed '['")?;
        let inner = preds[1..close].trim();
        preds = &preds[close + 1..];
        if let Ok(i) = inner.parse::<usize>() {
            if i == 0 {
                return Err("positions start at 1".into());
            }
            predicates.push(Predicate::Position(i));
        } else if let Some(attr) = inner.strip_prefix('@') {
            match attr.split_once('=') {
                Some((n, v)) => {
                    let v = v.trim();
                    let unquoted = v
                        .strip_prefix('\'')
                        .and_then(|v| v.strip_suffix('\''))
                        .or_else(|| v.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
                        .ok_or("attribute value must be quoted")?;
                    predicates.push(Predicate::Attr(n.trim().to_string(), Some(unquoted.to_string())));
                }
                None => predicates.push(Predicate::Attr(attr.trim().to_string(), None)),
            }
        } else {
            return Err(format!("unsupported predicate [{inner}]"));
        }
        if !preds.is_empty() && !preds.starts_with('[') {
            return Err("unexpected text after ']'".into());
        }
    }
    Ok(Step { descendant, name, predicates })
}

fn valid_name(n: &str) -> bool {
    !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADF: &str = r#"<?xml version="1.0"?><?adf version="1.0"?>
        <adf><prospect><vehicle interest="buy"><year>2021</year><make>Volvo</make></vehicle>
        <customer><contact><name part="first">Jane</name><name part="last">Doe</name>
        <phone type="voice">212-555-0142</phone><phone type="cellphone">312-555-0187</phone></contact></customer>
        </prospect></adf>"#;

    fn find(path: &str) -> Option<String> {
        let doc = parse_document(ADF).expect("well-formed");
        XmlPath::parse(path).expect("compiles").find(&doc)
    }

    #[test]
    fn paths_predicates_and_attributes() {
        assert_eq!(find("/adf/prospect/vehicle/year").as_deref(), Some("2021"));
        assert_eq!(find("//contact/name[@part='last']").as_deref(), Some("Doe"));
        assert_eq!(find("//phone[2]").as_deref(), Some("312-555-0187"));
        assert_eq!(find("//phone[@type=\"cellphone\"]").as_deref(), Some("312-555-0187"));
        assert_eq!(find("/adf/prospect/vehicle/@interest").as_deref(), Some("buy"));
        assert_eq!(find("/adf/*/vehicle/make/text()").as_deref(), Some("Volvo"));
        assert_eq!(find("vehicle/make").as_deref(), Some("Volvo"));
        assert_eq!(find("/adf/prospect/email"), None);
    }

    #[test]
    fn bad_paths_are_errors() {
        for bad in ["", "/a/@b/c", "/a[", "/a[0]", "/a[@b=c]", "/a[foo()]", "/a b"] {
            assert!(XmlPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dtds_are_refused() {
        let bomb =
            r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><adf>&lol2;</adf>"#;
        assert!(parse_document(bomb).is_none());
        assert!(parse_document("<adf><unclosed></adf>").is_none());
    }

    #[test]
    fn elements_with_too_many_attributes_are_refused() {
        let element = |n: usize| (0..n).map(|i| format!(" a{i}='x=>{i}'")).collect::<String>();
        let xml = |n: usize| format!("<?xml version=\"1.0\"?><adf><prospect{}><id>1</id></prospect></adf>", element(n));
        assert!(parse_document(&xml(MAX_XML_ATTRIBUTES)).is_some());
        assert!(parse_document(&xml(MAX_XML_ATTRIBUTES + 1)).is_none());
        // 40,000 attributes: roxmltree would compare 800 million pairs.
        assert!(parse_document(&xml(40_000)).is_none());
        // `=` in comments, CDATA and text, and quotes there, do not count or hide anything.
        let noisy = format!(
            "<adf><!-- ' {eq} --><note><![CDATA[{eq} '\"]]></note><p>{eq}</p><?pi {eq}?><prospect{}><id>1</id></prospect></adf>",
            element(3),
            eq = "a=b ".repeat(MAX_XML_ATTRIBUTES + 1)
        );
        assert!(parse_document(&noisy).is_some());
        let hidden = format!("<adf><!-- ' --><prospect{}/></adf>", element(MAX_XML_ATTRIBUTES + 1));
        assert!(parse_document(&hidden).is_none());
        // Nested namespace declarations: roxmltree resolves each prefix through every scope.
        let nested = |n: usize| {
            let open: String = (0..n).map(|i| format!("<p{i}:e xmlns:p{i} = 'urn:{i}'>")).collect();
            let close: String = (0..n).rev().map(|i| format!("</p{i}:e>")).collect();
            format!("<adf>{open}{close}</adf>")
        };
        assert!(parse_document(&nested(MAX_XML_NAMESPACES)).is_some());
        assert!(parse_document(&nested(MAX_XML_NAMESPACES + 1)).is_none());
        // The same declaration on each of many siblings is one in scope at a time: a multi-lead ADF with
        // `xmlns:xsi` on every prospect was refused after 64 of them.
        let prospect = "<prospect xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'><id>1</id></prospect>";
        let self_closed = "<vehicle xmlns:v='urn:v'/>";
        let many = format!("<adf>{}</adf>", format!("{prospect}{self_closed}").repeat(500));
        assert!(parse_document(&many).is_some());
        // Declarations an element adds count while it is open.
        let inside = |n: usize| {
            let open: String = (0..n).map(|i| format!("<p{i}:e xmlns:p{i}='urn:{i}'>")).collect();
            let close: String = (0..n).rev().map(|i| format!("</p{i}:e>")).collect();
            format!("<adf>{open}<last xmlns:z='urn:z'/>{close}</adf>")
        };
        assert!(parse_document(&inside(MAX_XML_NAMESPACES - 1)).is_some());
        assert!(parse_document(&inside(MAX_XML_NAMESPACES)).is_none());
        // Many different declarations on siblings: roxmltree inserts each new one into a sorted list.
        let distinct = |n: usize| {
            let kids: String = (0..n).rev().map(|i| format!("<a xmlns:p{i}='urn:{i}'/>")).collect();
            format!("<adf>{kids}</adf>")
        };
        let cap = MAX_XML_DISTINCT_NAMESPACES;
        assert!(parse_document(&distinct(cap)).is_some());
        assert!(parse_document(&distinct(cap + 1)).is_none());
        assert!(parse_document(&distinct(20_000)).is_none());
        let same_prefix = |n: usize| {
            format!("<adf>{}</adf>", (0..n).map(|i| format!("<a xmlns:x=\"urn:{i}\"/>")).collect::<String>())
        };
        assert!(parse_document(&same_prefix(cap + 1)).is_none(), "a prefix bound to new URIs");
        // Numbered prefixes for one URI, one per prospect: within both caps up to 1,024.
        let numbered = |n: usize| {
            let kids: String = (0..n).map(|i| format!("<p xmlns:ns{i}='urn:same'><x/></p>")).collect();
            format!("<adf>{kids}</adf>")
        };
        assert!(parse_document(&numbered(cap)).is_some());
    }
}
