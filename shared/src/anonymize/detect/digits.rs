//! Decimal digits of every script read as ASCII digits. People write phone, card and ID numbers in the digits of
//! their script (`٠٥٠ ١٢٣ ٤٥٦٧`, `０３－１２３４－５６７８`), and addresses in fullwidth forms (`ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ`,
//! typed with an input method left in fullwidth mode); the detectors read ASCII, so they run on a copy of the text
//! with every Unicode decimal digit (`Nd`) and fullwidth letter made ASCII, and the punctuation written inside such
//! numbers and addresses (fullwidth forms, the Arabic separators) made ASCII where it stands inside them
//! ([`folded_char`]); the hits are mapped back. So are Unicode spaces, the Unicode dashes that word processors and
//! web pages put between a number's digits (`415‑555‑0132` with non-breaking hyphens, `4111 1111` with a no-break
//! space, `06 12 34 56 78` with narrow ones) and middle dots (`415·555·0132`). Invisible characters (zero-width
//! space and joiners, word joiner, byte order mark, soft hyphen) that pasted text carries inside numbers and
//! addresses (`0151` ZWSP `23456789`, `jane@exam` SHY `ple.com`) are left out of the copy.

/// The first code point (digit zero) of each non-ASCII run of ten decimal digits, in order (Unicode 16, the
/// `regex` crate's `\d` less `0-9`; a test checks the two agree on every character).
#[rustfmt::skip]
const ZEROS: [u32; 75] = [
    0x00660, 0x006F0, 0x007C0, 0x00966, 0x009E6, 0x00A66, 0x00AE6, 0x00B66, 0x00BE6, 0x00C66, 0x00CE6, 0x00D66,
    0x00DE6, 0x00E50, 0x00ED0, 0x00F20, 0x01040, 0x01090, 0x017E0, 0x01810, 0x01946, 0x019D0, 0x01A80, 0x01A90,
    0x01B50, 0x01BB0, 0x01C40, 0x01C50, 0x0A620, 0x0A8D0, 0x0A900, 0x0A9D0, 0x0A9F0, 0x0AA50, 0x0ABF0, 0x0FF10,
    0x104A0, 0x10D30, 0x10D40, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0,
    0x116D0, 0x116DA, 0x11730, 0x118E0, 0x11950, 0x11BF0, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16130, 0x16A60,
    0x16AC0, 0x16B50, 0x16D70, 0x1CCF0, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0,
    0x1E5F1, 0x1E950, 0x1FBF0,
];

/// The ASCII digit for a decimal digit of any script (`'٧'` and `'7'` give `'7'`), else `None`.
pub(crate) fn ascii_digit(c: char) -> Option<char> {
    if c.is_ascii_digit() {
        return Some(c);
    }
    non_ascii_digit(c).map(|d| char::from(b'0' + d))
}

/// `c` as the detectors read it: a digit of any script or the punctuation numbers are written with there as its
/// ASCII twin (`'٧'` is `'7'`, `'＋'` is `'+'`), anything else as it is.
pub(crate) fn as_ascii(c: char) -> char {
    if c.is_ascii() {
        return c;
    }
    ascii_twin(c).unwrap_or(c)
}

/// The ASCII twin of `c`, if it has one: of a non-ASCII digit, a fullwidth form (U+FF01-U+FF5E), an Arabic decimal
/// or thousands separator, a middle dot, a Unicode dash or minus sign, or a Unicode space.
fn ascii_twin(c: char) -> Option<char> {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0),
        '٫' => Some('.'),
        _ if is_middle_dot(c) => Some('.'),
        '٬' => Some(','),
        _ if is_dash(c) => Some('-'),
        _ if is_space(c) => Some(' '),
        _ => non_ascii_digit(c).map(|d| char::from(b'0' + d)),
    }
}

/// Hyphens, dashes and minus signs other than `-` (hyphen, non-breaking hyphen, figure dash, en and em dash,
/// horizontal bar, minus sign, small hyphen-minus).
fn is_dash(c: char) -> bool {
    matches!(c, '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}')
}

/// Spaces other than the ASCII ones: no-break space, the typographic spaces (en quad to hair space), narrow
/// no-break space, medium mathematical space, ideographic space.
fn is_space(c: char) -> bool {
    matches!(c, '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}')
}

/// Middle dots, which some write between a number's digit groups (`415·555·0132`; Japanese `03・1234・5678`).
fn is_middle_dot(c: char) -> bool {
    matches!(c, '\u{00B7}' | '\u{30FB}' | '\u{FF65}')
}

/// Characters that show nothing: soft hyphen, zero-width space, non-joiner and joiner, word joiner, zero-width
/// no-break space (byte order mark).
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// `text` without its invisible characters.
pub(super) fn visible(text: &str) -> String {
    text.chars().filter(|&c| !is_invisible(c)).collect()
}

/// What an invisible character between `before` and `after` folds to, if anything: nothing inside a word or an
/// address written in ASCII (between two letters, or between a letter or digit and `@` or `.`: `exam`SHY`ple.com`,
/// `jane`ZWJ`@example.com`), a space between other visible ASCII characters or digits of any script (it parts digit
/// groups as a space would, and keeps a word and a number apart as it did unfolded: `Tel`ZWSP`4155550132`,
/// `4155550132`ZWSP`4155550199`). Elsewhere it stays: joiners shape Persian, Indic and emoji text, where nothing is
/// detected inside words.
fn invisible_fold(before: Option<char>, after: Option<char>) -> Option<Option<char>> {
    let (Some(b), Some(a)) = (before, after) else { return None };
    let visible = |x: char| x.is_ascii_graphic() || non_ascii_digit(x).is_some();
    let alnum = |x: char| x.is_ascii_alphanumeric() || non_ascii_digit(x).is_some();
    let in_address = |x: char, y: char| alnum(x) && matches!(y, '@' | '.');
    if (b.is_ascii_alphabetic() && a.is_ascii_alphabetic()) || in_address(b, a) || in_address(a, b) {
        Some(None)
    } else {
        (visible(b) && visible(a)).then_some(Some(' '))
    }
}

/// Whether the middle dot between `head` and `tail` is one of at least two joining the digit groups of one number
/// (`415·555·0132`); a single one stays (`10115·030 1234567`, `12·5`).
fn dotted_groups(head: &str, tail: &str) -> bool {
    // The digits next to this dot, then another dot and a digit.
    fn another_dot(chars: impl Iterator<Item = char>) -> bool {
        let is_digit = |x: char| x.is_ascii_digit() || non_ascii_digit(x).is_some();
        let mut chars = chars.take(48).skip_while(|&x| is_digit(x));
        chars.next().is_some_and(is_middle_dot) && chars.next().is_some_and(is_digit)
    }
    another_dot(tail.chars()) || another_dot(head.chars().rev())
}

/// The value of a non-ASCII decimal digit, or `None` (ASCII digits included: they need no folding).
fn non_ascii_digit(c: char) -> Option<u8> {
    let c = u32::from(c);
    if c < 0x80 {
        return None;
    }
    let zero = ZEROS[..ZEROS.partition_point(|&z| z <= c)].last()?;
    (c - zero < 10).then(|| (c - zero) as u8)
}

/// What the folded text has for `c` between `before` and `after`, when it is not `c` itself. Digits of other
/// scripts and fullwidth letters and digits are always folded. Punctuation only inside what it writes: a number in
/// such digits (`０３－１２３４`, `（０３）`, `٣٫٥`; not next to ASCII digits, where an ASCII `/` or `.` could merge two
/// numbers), a fullwidth-typed token (`ｊａｎｅ＿ｄｏｅ＠ｅｘａｍｐｌｅ．ｃｏｍ／ｌｅａｄ`), and `＠` or `．` between ASCII
/// letters (`jane＠example．com`). Elsewhere it stays as it is, because an ASCII `/`, `(`, `@`, `.` or `-` glues a
/// number or an address to its neighbour, and the detectors drop glued hits (`Card／4111 1111 1111 1111`,
/// `jane@example.com．明日10時`).
///
/// Unicode spaces always fold (a space never glues anything). A Unicode dash folds between two digits of any
/// script (`415‑555‑0132`), except between two numbers of seven digits or more, which it lists
/// (`4155550132–4155550199`, `415-555-0132–415-555-0199`) and an ASCII `-` would merge. A dash with a space beside
/// it stays: it separates ranges and times from numbers (`14:30 – 0151 23456789`, `650 000 – 700 000`).
///
/// A middle dot folds to `.` between two digits of any script when another one joins the same number's groups
/// ([`dotted_groups`]). An invisible character folds as [`invisible_fold`] says (`Some(None)`: left out).
fn folded_char(text: &str, i: usize, c: char) -> Option<Option<char>> {
    if c.is_ascii() {
        return None;
    }
    if is_invisible(c) {
        let (before, after) = (text[..i].chars().next_back(), text[i + c.len_utf8()..].chars().next());
        return invisible_fold(before, after);
    }
    ascii_twin_in(text, i, c).map(Some)
}

/// [`folded_char`] of a visible character.
fn ascii_twin_in(text: &str, i: usize, c: char) -> Option<char> {
    let twin = ascii_twin(c)?;
    if twin.is_ascii_alphanumeric() || is_space(c) {
        return Some(twin);
    }
    let (head, tail) = (&text[..i], &text[i + c.len_utf8()..]);
    if is_dash(c) {
        // Only between two digits: a spaced dash (`14:30 – 0151 23456789`, `650 000 – 700 000`) stays, so that it
        // separates what it stands between.
        let any_digit = |x: Option<char>| x.is_some_and(|x| x.is_ascii_digit() || non_ascii_digit(x).is_some());
        let between_digits = any_digit(head.chars().next_back()) && any_digit(tail.chars().next());
        let lists_two = number_digits(head.chars().rev()) >= 7 && number_digits(tail.chars()) >= 7;
        return (between_digits && !lists_two).then_some(twin);
    }
    let (before, after) = (head.chars().next_back(), tail.chars().next());
    let digit = |x: Option<char>| x.and_then(non_ascii_digit).is_some();
    let fullwidth = |x: Option<char>| x.is_some_and(|x| ('\u{FF10}'..='\u{FF5A}').contains(&x) && x.is_alphanumeric());
    let latin = |x: Option<char>| x.is_some_and(|x| x.is_ascii_alphabetic()) || fullwidth(x);
    let any_digit = |x: Option<char>| x.is_some_and(|x| x.is_ascii_digit() || non_ascii_digit(x).is_some());
    let fold = match c {
        '٫' | '٬' => digit(before) && digit(after),
        _ if is_middle_dot(c) => any_digit(before) && any_digit(after) && dotted_groups(head, tail),
        '（' | '＋' if digit(after) => !before.is_some_and(char::is_alphabetic),
        '）' if digit(before) => true,
        '＠' | '．' if latin(before) && latin(after) => true,
        _ => (digit(before) && digit(after) && "－．／".contains(c)) || (fullwidth(before) && fullwidth(after)),
    };
    fold.then_some(twin)
}

/// Digits of any script in the number that `chars` starts with: digits and `-./()`, up to anything else (a space
/// or a Unicode dash too: in `Tel. 030 1234567 / 0151–23456789` the dash has 4 digits before it).
fn number_digits(chars: impl Iterator<Item = char>) -> usize {
    chars
        .take(48)
        .take_while(|&c| c.is_ascii_digit() || "-./()".contains(c) || non_ascii_digit(c).is_some())
        .filter(|&c| c.is_ascii_digit() || non_ascii_digit(c).is_some())
        .count()
}

/// Whether `text` has a non-ASCII decimal digit.
pub(crate) fn has_non_ascii_digit(text: &str) -> bool {
    any_candidate(text, |c| non_ascii_digit(c).is_some())
}

/// Whether `text` has a character that `pred` holds for, all of which are U+0660 or above or in U+0080-U+00BF
/// (the no-break space). The UTF-8 of such a character starts with a byte of 0xD9 or more, or 0xC2 (never a
/// continuation byte): only the characters starting with such a byte are decoded, and an ASCII text (checked a word
/// at a time) is not scanned byte by byte.
fn any_candidate(text: &str, pred: impl Fn(char) -> bool) -> bool {
    if text.is_ascii() {
        return false;
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = bytes[i..].iter().position(|&b| b >= 0xD9 || b == 0xC2) {
        i += at;
        let Some(c) = text[i..].chars().next() else { return false };
        if pred(c) {
            return true;
        }
        i += c.len_utf8();
    }
    false
}

/// A text with its non-ASCII decimal digits, fullwidth forms and number punctuation made ASCII, and the way back to
/// the original's byte offsets.
pub(super) struct Folded {
    /// The folded text.
    pub(super) text: String,
    /// For each folded character: the folded offset just after it, and how many bytes the original is longer
    /// there.
    shifts: Vec<(usize, usize)>,
}

impl Folded {
    /// `text` folded, or `None` when it has nothing to fold (the common case: no copy).
    pub(super) fn of(text: &str) -> Option<Folded> {
        if !any_candidate(text, |c| ascii_twin(c).is_some() || is_invisible(c)) {
            return None;
        }
        // The copy starts at the first character that folds: a text with fullwidth punctuation only is not copied.
        let mut folded: Option<Folded> = None;
        let mut extra = 0;
        for (i, c) in text.char_indices() {
            match folded_char(text, i, c) {
                Some(ascii) => {
                    let f = folded.get_or_insert_with(|| Folded {
                        text: String::with_capacity(text.len()) + &text[..i],
                        shifts: Vec::new(),
                    });
                    if let Some(ascii) = ascii {
                        f.text.push(ascii);
                    }
                    extra += c.len_utf8() - ascii.map_or(0, char::len_utf8);
                    f.shifts.push((f.text.len(), extra));
                }
                None => {
                    if let Some(f) = &mut folded {
                        f.text.push(c);
                    }
                }
            }
        }
        folded
    }

    /// The original text's byte offset for folded offset `i` (a character boundary).
    pub(super) fn original(&self, i: usize) -> usize {
        let before = self.shifts.partition_point(|&(end, _)| end <= i);
        i + before.checked_sub(1).map_or(0, |k| self.shifts[k].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_the_regex_crates_decimal_digits() {
        let digit = regex::Regex::new(r"^\d$").unwrap();
        let mut buf = [0u8; 4];
        for c in (0x80..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(non_ascii_digit(c).is_some(), digit.is_match(c.encode_utf8(&mut buf)), "U+{:04X}", u32::from(c));
        }
        assert_eq!(non_ascii_digit('٧'), Some(7));
        assert_eq!(non_ascii_digit('９'), Some(9));
        assert_eq!(non_ascii_digit('७'), Some(7));
        assert_eq!(non_ascii_digit('7'), None);
        assert_eq!(non_ascii_digit('²'), None, "superscripts are not decimal digits");
        assert_eq!(ascii_digit('٧'), Some('7'));
        assert_eq!(ascii_digit('7'), Some('7'));
        assert_eq!(ascii_digit('x'), None);
        assert_eq!(['٧', '＋', '－', 'x', 'ü'].map(as_ascii), ['7', '+', '-', 'x', 'ü']);
    }

    #[test]
    fn invisible_characters_fold_inside_numbers_and_addresses_and_middle_dots_in_dotted_numbers() {
        let text = "0151\u{200B}2345\u{2060}6789, jane\u{200D}@exam\u{AD}ple.com, \u{FEFF}x, a \u{200B} b, \
                    \u{200C}\u{200B}1, ٠٥٠\u{200B}١٢٣, 415·555·0132, 03・12･34, 12·5, a·b, ·1";
        let f = Folded::of(text).unwrap();
        assert_eq!(
            f.text,
            "0151 2345 6789, jane@example.com, \u{FEFF}x, a \u{200B} b, \u{200C}\u{200B}1, 050 123, 415.555.0132, \
             03.12.34, 12·5, a·b, ·1"
        );
        // Every folded offset maps to a boundary of the original, in order, and a span's original is the folded
        // text once folded.
        let mut last = 0;
        for (i, _) in f.text.char_indices().chain([(f.text.len(), ' ')]) {
            let o = f.original(i);
            assert!(text.is_char_boundary(o) && o >= last, "{i} -> {o}");
            last = o;
        }
        for span in ["0151 2345 6789", "jane@example.com", "415.555.0132"] {
            let start = f.text.find(span).unwrap();
            let original = &text[f.original(start)..f.original(start + span.len())];
            assert_eq!(Folded::of(original).map_or(original.to_string(), |g| g.text), span);
        }
        assert!(Folded::of("a \u{200B} b, \u{200C}\u{200D}").is_none(), "invisible beside spaces or its kind stays");
        // Between a word and a number, or two numbers, it parts them as it did unfolded.
        let parted = Folded::of("Tel\u{200B}4155550132\u{200B}4155550199\u{2060}ext, 10115·030 1234567").unwrap();
        assert_eq!(parted.text, "Tel 4155550132 4155550199 ext, 10115·030 1234567");
        assert_eq!(visible("jane\u{200D}@exam\u{AD}ple.com"), "jane@example.com");
    }

    #[test]
    fn folds_digits_and_maps_offsets_back() {
        assert!(Folded::of("call 0501234567, ü").is_none());
        assert!(Folded::of("€ “quoted” – ١").is_some());
        assert!(Folded::of("€ “quoted” – ٪").is_none(), "U+066A is a percent sign, not a digit");
        assert!(!has_non_ascii_digit("（only punctuation）") && !has_non_ascii_digit("ascii 0123"));
        let fullwidth =
            Folded::of("ｊａｎｅ＿ｄｏｅ＠ｅｘ－ａｍｐｌｅ２．ｃｏｍ　（ｍｅ），（０３）１２　３４（５６）").unwrap();
        assert_eq!(fullwidth.text, "jane_doe@ex-ample2.com （me），(03)12 34(56)");
        assert_eq!(Folded::of("jane＠example．com").unwrap().text, "jane@example.com");
        assert_eq!(Folded::of("Tel（٠٩٠）").unwrap().text, "Tel（090)", "`（` after a letter stays");
        // Punctuation that would glue a number or an address to its neighbour, or merge two numbers, stays.
        for text in [
            "Card／4111 1111",
            "415-555-0132，415-555-0199",
            "415-555-0132／415-555-0199",
            "a@b.com－x",
            "名前／a@b.jp",
            "Tel－0312",
            "Tel（415-555-0132）",
            "Tel＋1 415 555 0132",
            "携帯＠090-1234-5678",
            "090-1234-5678＠自宅",
            "jane@example.com．明日10時",
        ] {
            assert!(Folded::of(text).is_none(), "{text}");
        }
        let text = "tel ٠٥٠ ١٢٣ ٤٥٦٧ / ０３－１２３４（５６７８）and 7, ١٢٣٫٥";
        let f = Folded::of(text).unwrap();
        assert_eq!(f.text, "tel 050 123 4567 / 03-1234(5678)and 7, 123.5");
        for (i, _) in f.text.char_indices().chain([(f.text.len(), ' ')]) {
            let o = f.original(i);
            assert!(text.is_char_boundary(o), "{i} -> {o}");
            assert_eq!(f.text[i..].chars().count(), text[o..].chars().count(), "{i} -> {o}");
        }
        let start = f.text.find("050").unwrap();
        let end = start + "050 123 4567".len();
        assert_eq!(&text[f.original(start)..f.original(end)], "٠٥٠ ١٢٣ ٤٥٦٧");
        // Unicode dashes and spaces between digits (2- and 3-byte characters); a dash between two whole numbers
        // stays.
        let dashed =
            "415\u{2011}555\u{A0}0132 \u{2013} 4111\u{202F}1111, a\u{A0}b \u{2013} c, 4155550132\u{2013}4155550199";
        let g = Folded::of(dashed).unwrap();
        assert_eq!(g.text, "415-555 0132 \u{2013} 4111 1111, a b \u{2013} c, 4155550132\u{2013}4155550199");
        // Only the digits touching a dash count: earlier numbers and dates do not keep it from folding.
        let three = Folded::of("Tel. 030 1234567 / 0151\u{2013}23456789, am 15.05.2024 0151\u{2011}23456789");
        assert_eq!(three.unwrap().text, "Tel. 030 1234567 / 0151-23456789, am 15.05.2024 0151-23456789");
        // A dash with a space beside it stays (only the spaces fold).
        let range = Folded::of("650\u{A0}000 \u{2013} 700\u{A0}000 \u{20AC}, ab 14:30 \u{2013} 0151 23456789");
        assert_eq!(range.unwrap().text, "650 000 \u{2013} 700 000 \u{20AC}, ab 14:30 \u{2013} 0151 23456789");
        let two =
            Folded::of("415-555-0132\u{2013}415-555-0199, 0151 23456789 \u{2013} 0171 2345678, 089\u{2011}123456");
        assert_eq!(
            two.unwrap().text,
            "415-555-0132\u{2013}415-555-0199, 0151 23456789 \u{2013} 0171 2345678, 089-123456"
        );
        for (i, _) in g.text.char_indices().chain([(g.text.len(), ' ')]) {
            assert_eq!(g.text[i..].chars().count(), dashed[g.original(i)..].chars().count(), "{i}");
        }
    }
}
