//! PII written the ways people and their software write it: every value below, in every punctuation the value's
//! layout allows (ASCII, Unicode dashes, no-break and narrow spaces), in every surrounding below (labels glued by
//! brackets, scripts without spaces, lists, CSV fields, quotes), must be covered by detections - of any kind: a
//! leak is a letter or digit of a value left in clear text, whatever it is taken for. (Until session 12 one hit had
//! to cover the whole value; since then a hit that loses part of its span in an overlap keeps the rest, and the
//! test prints the values covered by more than one hit.)
//!
//! When this test was written (session 11), the release before it (f581076) left 1,896 of the 2,460 values in
//! clear text, most of them written with Unicode dashes or spaces; all are found since, but for 18 in two known
//! gaps (which leave part of a value). The test prints every miss before it fails, so
//! a regression shows the whole picture.

use leadpipe_shared::anonymize::detect::{Detector, DetectorConfig};

/// A value as groups, another valid value of the same layout, and the separators the layout allows.
struct Value {
    what: &'static str,
    groups: &'static [&'static str],
    second: &'static [&'static str],
    separators: &'static [&'static str],
}

/// Hyphens of every kind, and spaces of every kind.
const DASHES: &[&str] = &["-", "\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2212}"];
const SPACES: &[&str] = &[" ", "\u{A0}", "\u{202F}", "\u{2009}"];

fn values() -> Vec<Value> {
    let dashes_and_spaces: &'static [&'static str] = Box::leak([DASHES, SPACES].concat().into_boxed_slice());
    let phone_separators: &'static [&'static str] =
        Box::leak([DASHES, SPACES, &[".", "/"]].concat().into_boxed_slice());
    vec![
        Value {
            what: "US phone",
            groups: &["415", "555", "0132"],
            second: &["415", "555", "0199"],
            separators: phone_separators,
        },
        Value {
            what: "UK phone",
            groups: &["020", "7946", "0958"],
            second: &["020", "7946", "0959"],
            separators: dashes_and_spaces,
        },
        Value {
            what: "German mobile",
            groups: &["0151", "23456789"],
            second: &["0171", "2345678"],
            separators: phone_separators,
        },
        Value {
            what: "French phone",
            groups: &["06", "12", "34", "56", "78"],
            second: &["01", "42", "68", "53", "00"],
            separators: dashes_and_spaces,
        },
        Value {
            what: "international phone",
            groups: &["+44", "20", "7946", "0958"],
            second: &["+33", "1", "42", "68", "53", "00"],
            separators: dashes_and_spaces,
        },
        Value {
            what: "card",
            groups: &["4111", "1111", "1111", "1111"],
            second: &["5500", "0000", "0000", "0004"],
            separators: dashes_and_spaces,
        },
        Value {
            what: "SSN",
            groups: &["078", "05", "1123"],
            second: &["219", "09", "9998"],
            separators: dashes_and_spaces,
        },
        Value {
            what: "IBAN",
            groups: &["DE89", "3704", "0044", "0532", "0130", "00"],
            second: &["DE44", "5001", "0517", "5407", "3249", "31"],
            separators: SPACES,
        },
        Value {
            what: "IBAN with letters",
            groups: &["GB29", "NWBK", "6016", "1331", "9268", "19"],
            second: &["GB82", "WEST", "1234", "5698", "7654", "32"],
            separators: SPACES,
        },
    ]
}

/// Surroundings: `{}` is the value, `{2}` a second value of the same layout (another number).
const SURROUNDINGS: &[&str] = &[
    "{}",
    "Tel: {}",
    "Tel.:{}",
    "Tel({})",
    "({})",
    "call me on {}, thanks",
    "\"{}\"",
    "[{}]",
    "<{}>",
    "{}.",
    "{}!",
    "電話{}まで",
    "携帯：{}",
    "{}로 연락주세요",
    "โทร{}ครับ",
    "Max Mustermann,{},10115,Berlin",
    "Alter 42,{}",
    "{},{2}",
    "{} / {2}",
    "{} \u{2013} {2}",
    "{} oder {2}",
    "{}\u{2013}{2}",
    "Phone: {} / {2}",
    "Nummer: {}\nBitte zurückrufen",
    // A number before the value, which the value's first group could extend (session 12: each left the value, or
    // its end, in clear text).
    "ab 14:30 {}",
    "call at 2:30 {}",
    "PLZ 80331 {}",
    "Order 302-4567890 {}",
    "Order #302-4567890 {}",
    "Lead ID: 4711 {}",
    "Ref AB12 {}",
    "Kunde K-12 {}",
    "Zimmer 3 {}",
];

/// Known gaps: (value, surrounding) pairs where a value may be left partly or wholly in clear text. Two French
/// phones or SSNs joined by a bare dash, each written with inner separators: the longest valid window reaches
/// into the second number (`06 12 34 56 78–01 42 68` is taken, `53 00` is left).
/// A US number written with spaces right after an identifier: its groups read as more of the identifier
/// (`Ticket #01684 934 072 247`); written with dashes, dots, slashes or brackets it is found. The test fails when
/// a listed pair no longer misses, so the list can only shrink.
const KNOWN_GAPS: &[(&str, &str)] = &[
    ("French phone", "{}\u{2013}{2}"),
    ("SSN", "{}\u{2013}{2}"),
    ("US phone", "Order 302-4567890 {}"),
    ("US phone", "Order #302-4567890 {}"),
    ("US phone", "Lead ID: 4711 {}"),
    ("US phone", "Ref AB12 {}"),
    ("US phone", "Kunde K-12 {}"),
];

#[test]
fn every_rendering_of_every_value_is_covered() {
    let detector = Detector::new(DetectorConfig::default());
    let mut cases = 0;
    let mut in_pieces = Vec::new();
    let mut misses = Vec::new();
    let mut known = Vec::new();
    for value in values() {
        for sep in value.separators {
            let rendered = value.groups.join(sep);
            let second = value.second.join(sep);
            for surrounding in SURROUNDINGS {
                let (head, tail) = surrounding.split_once("{}").expect("a {} in every surrounding");
                let tail = tail.replace("{2}", &second);
                let text = format!("{head}{rendered}{tail}");
                let mut wanted = vec![(head.len(), head.len() + rendered.len())];
                if let Some(at) = surrounding.find("{2}") {
                    let start = at - 2 + rendered.len();
                    wanted.push((start, start + second.len()));
                }
                let found = detector.detect(&text);
                for (start, end) in wanted {
                    cases += 1;
                    if found.iter().any(|d| d.start <= start && d.end >= end) {
                        continue;
                    }
                    if covered(&text, start, end, &found) {
                        in_pieces.push(format!("{} in {text:?}: {:?}", value.what, spans(&text, &found)));
                        continue;
                    }
                    {
                        let gap = KNOWN_GAPS.iter().find(|(what, around)| *what == value.what && around == surrounding);
                        if let Some(gap) = gap {
                            known.push(*gap);
                            continue;
                        }
                        misses.push(format!(
                            "{} {:?} in {text:?}: {:?}",
                            value.what,
                            &text[start..end],
                            spans(&text, &found)
                        ));
                    }
                }
            }
        }
    }
    for miss in &misses {
        println!("MISSED {miss}");
    }
    // Covered by two hits (one lost part of its span to another in the overlap): no character in clear text, but
    // the value gets two pseudonyms. Listed for the record.
    for piece in &in_pieces {
        println!("IN PIECES {piece}");
    }
    println!("{} of {cases} values covered by more than one hit", in_pieces.len());
    println!("{} misses in the known gaps {KNOWN_GAPS:?}", known.len());
    for gap in KNOWN_GAPS {
        assert!(known.contains(gap), "{gap:?} is no longer a gap: remove it from KNOWN_GAPS");
    }
    assert!(misses.is_empty(), "{} of {cases} values are left in clear text (listed above)", misses.len());
}

/// True when every letter and digit of `text[start..end]` lies inside some hit.
fn covered(text: &str, start: usize, end: usize, found: &[leadpipe_shared::anonymize::detect::Detection]) -> bool {
    text[start..end]
        .char_indices()
        .filter(|(_, c)| c.is_alphanumeric())
        .all(|(i, _)| found.iter().any(|d| d.start <= start + i && start + i < d.end))
}

fn spans<'t>(text: &'t str, found: &[leadpipe_shared::anonymize::detect::Detection]) -> Vec<&'t str> {
    found.iter().map(|d| &text[d.start..d.end]).collect()
}
