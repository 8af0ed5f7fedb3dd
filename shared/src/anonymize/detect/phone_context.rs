//! The text around and inside a phone-number candidate: labels that mark a number as a phone number
//! (`Phone:`, `call me on`, `(mobile)`), labels that mark it as an identifier instead (`Order #`,
//! `Lead ID:`), and digit layouts that only look like phone numbers (dates, times, decimals, dotted IPv4
//! addresses, ZIP+4 codes). Used by `phone.rs`.

use super::labels;

/// A phone label stands right before byte `start` (`Phone:`, `Tel.`, `Mobile no.`, `call me on`, `text me at`,
/// `Fax -`, and the same words in the languages of the configured regions) or right after byte `end`
/// (`... (mobile)`, `... fax`, `...-Office`).
pub(super) fn labelled(text: &str, start: usize, end: usize) -> bool {
    labels::phone_label_before(lookbehind(text, start)) || labels::phone_label_after(&text[end..])
}

/// An identifier label stands right before byte `start`: `Order #`, `Lead ID:`, `Ref.`, `Invoice no.`,
/// `Listing 7731904`.
pub(super) fn identifier(text: &str, start: usize) -> bool {
    labels::identifier_label_before(lookbehind(text, start))
}

/// Up to 40 characters before byte `i`, where a label would stand.
fn lookbehind(text: &str, i: usize) -> &str {
    let from = text[..i].char_indices().rev().nth(39).map_or(0, |(j, _)| j);
    &text[from..i]
}

/// A digit and `:` right before byte `start`: the run is the minutes or seconds of a time.
pub(super) fn follows_time(text: &str, start: usize) -> bool {
    let mut before = text[..start].chars().rev();
    before.next() == Some(':') && before.next().is_some_and(|c| c.is_ascii_digit())
}

/// `4155550132.25`: digits with a single `.` or `,` and nothing else is a decimal number, not a phone layout -
/// unless the whole part has a leading zero, which numbers do not have and trunk prefixes do (`0151.23456789`).
pub(super) fn is_decimal(raw: &str) -> bool {
    let punctuation: Vec<char> = raw.chars().filter(|c| !c.is_ascii_digit()).collect();
    let whole = raw.split(['.', ',']).next().unwrap_or("");
    matches!(punctuation.as_slice(), ['.' | ',']) && !(whole.len() > 1 && whole.starts_with('0'))
}

/// True when `raw` holds a dotted quad (`80.12.242.127`): an IPv4 address, found by the IP detector.
pub(super) fn contains_ipv4(raw: &str) -> bool {
    raw.split(|c: char| !c.is_ascii_digit() && c != '.').flat_map(|chunk| chunk.split("..").collect::<Vec<_>>()).any(
        |chunk| {
            let parts: Vec<&str> = chunk.trim_matches('.').split('.').collect();
            parts.len() == 4 && parts.iter().all(|p| (1..=3).contains(&p.len()) && p.parse::<u8>().is_ok())
        },
    )
}

/// `97225-2668`: five digits, a dash and four is the US ZIP+4 layout. Numbers written that way with a
/// trunk prefix (`07805-1121`, a German area code and subscriber number) are still phone numbers.
pub(super) fn is_zip_plus_four(raw: &str) -> bool {
    let b = raw.as_bytes();
    b.len() == 10 && b[5] == b'-' && b[0] != b'0' && b.iter().enumerate().all(|(i, c)| i == 5 || c.is_ascii_digit())
}

/// True when `raw` holds a calendar date: exactly three digit groups joined by the same `.`, `/` or `-`,
/// reading as day-month-year, month-day-year or year-month-day with real field ranges (`05/12/2023`,
/// `2024-01-15`, `3.2.5 (2008-06-10`). French numbers written with dots (`01.84.17.61.18`) have more groups.
pub(super) fn contains_date(raw: &str) -> bool {
    // Split into digit groups, remembering the single separator between neighbours (None when the gap is
    // anything else, such as a space or two characters).
    let bytes = raw.as_bytes();
    let mut groups: Vec<&str> = Vec::new();
    let mut seps: Vec<Option<u8>> = Vec::new();
    let mut prev_end = None;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let s = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if let Some(p) = prev_end {
            seps.push(match &bytes[p..s] {
                [c @ (b'.' | b'/' | b'-')] => Some(*c),
                _ => None,
            });
        }
        groups.push(&raw[s..i]);
        prev_end = Some(i);
    }
    // Maximal chains of groups joined by one repeated separator; a date is a chain of exactly three.
    let mut chain_start = 0;
    for k in 0..groups.len() {
        let joined_next = seps.get(k).copied().flatten();
        let same = joined_next.is_some() && (k == chain_start || seps[k] == seps[k - 1]);
        if !same {
            if k - chain_start == 2 && is_date(&groups[chain_start..=k]) {
                return true;
            }
            chain_start = if joined_next.is_some() { k } else { k + 1 };
        }
    }
    false
}

fn is_date(parts: &[&str]) -> bool {
    let n = |s: &str| s.parse::<u32>().unwrap_or(0);
    let day = |s: &str| s.len() <= 2 && (1..=31).contains(&n(s));
    let month = |s: &str| s.len() <= 2 && (1..=12).contains(&n(s));
    let year = |s: &str| s.len() == 2 || (s.len() == 4 && (1900..=2099).contains(&n(s)));
    let (a, b, c) = (parts[0], parts[1], parts[2]);
    (day(a) && month(b) && year(c))
        || (month(a) && day(b) && year(c))
        || (a.len() == 4 && year(a) && month(b) && day(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_recognised_inside_longer_runs() {
        for date in ["05/12/2023", "2024-01-15", "15.01.24", "1992-11-12 07", "3.2.5 (2008-06-10", "12/31/1999"] {
            assert!(contains_date(date), "{date}");
        }
        for not_date in ["415-555-0132", "01.84.17.61.18", "030-1234-5678", "13.45.2024", "09 12 2023", "2024-13-01"] {
            assert!(!contains_date(not_date), "{not_date}");
        }
    }

    #[test]
    fn labels_before_and_after() {
        for text in ["Phone: ", "Tel. ", "Mobile no.: ", "call me on ", "Telefon:\n", "Fax - "] {
            let full = format!("{text}123");
            assert!(labelled(&full, text.len(), full.len()), "{text:?}");
        }
        let text = "555 1234 (mobile)";
        assert!(labelled(text, 0, 8));
        assert!(!labelled("Hotel 555 1234", 6, 14));
        assert!(!labelled("see text 555 1234", 9, 17));
        // Only the 40 characters before the number are read.
        let near = format!("Phone:{}555 1234", " ".repeat(34));
        let far = format!("Phone:{}555 1234", " ".repeat(35));
        assert!(labelled(&near, 40, near.len()) && !labelled(&far, 41, far.len()));
    }

    #[test]
    fn identifier_labels() {
        for text in ["Order #", "Lead ID: ", "Ref. ", "Invoice no. ", "Listing ", "ESMTP id "] {
            let full = format!("{text}4155550132");
            assert!(identifier(&full, text.len()), "{text:?}");
        }
        assert!(!identifier("Customer phone: 4155550132", 16));
        assert!(!identifier("Valid 4155550132", 6));
    }

    #[test]
    fn look_alike_layouts() {
        assert!(follows_time("12:30", 3));
        assert!(is_decimal("4155550132.25") && !is_decimal("415.555.0132"));
        assert!(is_decimal("0.4155550132") && !is_decimal("0151.23456789"));
        assert!(contains_ipv4("(80.12.242.127") && contains_ipv4("0(80.12.242.127"));
        assert!(!contains_ipv4("415.555.0132") && !contains_ipv4("01.84.17.61.18") && !contains_ipv4("300.1.2.3"));
        assert!(is_zip_plus_four("97225-2668") && !is_zip_plus_four("07805-1121"));
    }
}
