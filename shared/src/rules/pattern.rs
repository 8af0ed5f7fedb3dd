//! A rule's regex, compiled cheaply. Rules use Unicode `\d` as written, which matches the decimal digits of every
//! script; compiled, each `\d` is an automaton of some 70 ranges, repeated for every `{n}` (`\d{10,20}` alone
//! took ~1 ms and ~0.6 MB). Almost every text a rule reads has ASCII digits only, and on such a text `\d` and
//! `[0-9]` match alike. So each pattern is compiled with `\d` read as `[0-9]` (and `\D` as `[^0-9]`); the pattern
//! as written is compiled only when a text with a digit of another script (`٤٢`, `４２`) comes along, and used for
//! that text. The results are the same as compiling the pattern as written, at a fraction of the init cost.

use crate::anonymize::detect::digits::has_non_ascii_digit;
use regex::{Captures, Regex, RegexBuilder};
use regex_syntax::ast::{self, Ast, ClassPerlKind, ClassSetItem, Visitor};
use std::sync::OnceLock;

/// How much larger than the ASCII form's size limit the pattern as written may compile.
const UNICODE_SIZE_FACTOR: usize = 8;

/// A compiled rule regex. Its matches are those of the pattern as written.
#[derive(Debug, Clone)]
pub struct RulePattern {
    /// The pattern with `\d` read as `[0-9]`; the pattern itself when it has no `\d` or `\D`.
    ascii: Regex,
    /// The pattern as written, when it differs from `ascii`, compiled on first use.
    unicode: Option<UnicodeForm>,
}

/// The pattern as written, compiled on the first text with a non-ASCII digit.
#[derive(Debug, Clone)]
struct UnicodeForm {
    pattern: Box<str>,
    size_limit: usize,
    /// `None` when it exceeds `size_limit`: such a text is then read with `[0-9]`.
    regex: OnceLock<Option<Regex>>,
}

impl RulePattern {
    /// Compiles `pattern`; `size_limit` bounds the compiled form that is used for texts with ASCII digits. The
    /// pattern as written may take [`UNICODE_SIZE_FACTOR`] times that; beyond it (`\d{300}`), texts with digits of
    /// other scripts are read with the `[0-9]` form too (`\d` does not match those digits, and `\D` does).
    pub fn new(pattern: &str, size_limit: usize) -> Result<Self, regex::Error> {
        let build = |p: &str| RegexBuilder::new(p).size_limit(size_limit).build();
        let Some(ascii_pattern) = with_ascii_digits(pattern) else {
            return Ok(Self { ascii: build(pattern)?, unicode: None });
        };
        // The rewrite nests one level deeper and quotes itself in errors: when it does not compile, the pattern as
        // written is compiled instead, so errors are always those of the pattern as written.
        let Ok(ascii) = build(&ascii_pattern) else {
            return Ok(Self { ascii: build(pattern)?, unicode: None });
        };
        let unicode = UnicodeForm {
            pattern: pattern.into(),
            size_limit: size_limit.saturating_mul(UNICODE_SIZE_FACTOR),
            regex: OnceLock::new(),
        };
        Ok(Self { ascii, unicode: Some(unicode) })
    }

    /// Whether the pattern matches anywhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.regex_for(text).is_match(text)
    }

    /// The capture groups of the first match in `text`.
    pub fn captures<'t>(&self, text: &'t str) -> Option<Captures<'t>> {
        self.regex_for(text).captures(text)
    }

    /// The names of the capture groups (`None` for unnamed ones), as in [`Regex::capture_names`].
    pub fn capture_names(&self) -> regex::CaptureNames<'_> {
        self.ascii.capture_names()
    }

    /// The regex that reads `text` as the pattern as written would.
    fn regex_for(&self, text: &str) -> &Regex {
        match &self.unicode {
            Some(form) if has_non_ascii_digit(text) => form.regex().unwrap_or(&self.ascii),
            _ => &self.ascii,
        }
    }
}

impl UnicodeForm {
    fn regex(&self) -> Option<&Regex> {
        self.regex.get_or_init(|| RegexBuilder::new(&self.pattern).size_limit(self.size_limit).build().ok()).as_ref()
    }
}

/// `pattern` with every `\d` written `[0-9]` and every `\D` `[^0-9]` (inside a class, `0-9` and `[^0-9]`), or
/// `None` when it has neither or does not parse (the caller's compile then reports the error).
fn with_ascii_digits(pattern: &str) -> Option<String> {
    let parsed = ast::parse::Parser::new().parse(pattern).ok()?;
    let spans = ast::visit(&parsed, DigitClasses::default()).ok()?;
    if spans.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(pattern.len() + 4 * spans.len());
    let mut at = 0;
    for digit in spans {
        out.push_str(&pattern[at..digit.start]);
        out.push_str(match (digit.negated, digit.in_class) {
            (false, false) => "[0-9]",
            (false, true) => "0-9",
            (true, _) => "[^0-9]",
        });
        at = digit.end;
    }
    out.push_str(&pattern[at..]);
    Some(out)
}

/// Where a `\d` or `\D` stands in a pattern.
struct DigitClass {
    start: usize,
    end: usize,
    negated: bool,
    /// Inside a bracketed class (`[\d ]`), where the replacement must be a class item.
    in_class: bool,
}

/// Collects the `\d` and `\D` of a pattern, in order.
#[derive(Default)]
struct DigitClasses(Vec<DigitClass>);

impl DigitClasses {
    fn push(&mut self, class: &ast::ClassPerl, in_class: bool) {
        if class.kind == ClassPerlKind::Digit {
            let (start, end) = (class.span.start.offset, class.span.end.offset);
            self.0.push(DigitClass { start, end, negated: class.negated, in_class });
        }
    }
}

impl Visitor for DigitClasses {
    type Output = Vec<DigitClass>;
    type Err = ();

    fn finish(self) -> Result<Self::Output, ()> {
        let mut spans = self.0;
        spans.sort_by_key(|d| d.start);
        Ok(spans)
    }

    fn visit_pre(&mut self, ast: &Ast) -> Result<(), ()> {
        if let Ast::ClassPerl(class) = ast {
            self.push(class, false);
        }
        Ok(())
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), ()> {
        if let ClassSetItem::Perl(class) = item {
            self.push(class, true);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1 << 20;

    #[test]
    fn digit_classes_are_rewritten_and_nothing_else() {
        assert_eq!(
            with_ascii_digits(r"\(Ref (?P<value>CP-\d{8})\)").as_deref(),
            Some(r"\(Ref (?P<value>CP-[0-9]{8})\)")
        );
        assert_eq!(with_ascii_digits(r"\d[\d ]*\D[^\d][a\D]").as_deref(), Some(r"[0-9][0-9 ]*[^0-9][^0-9][a[^0-9]]"));
        assert_eq!(with_ascii_digits(r"(?x) \d # a digit \d").as_deref(), Some(r"(?x) [0-9] # a digit \d"));
        assert_eq!(with_ascii_digits(r"\\d \p{Nd} [0-9]"), None);
        assert_eq!(with_ascii_digits(r"(unclosed \d"), None);
    }

    #[test]
    fn errors_are_those_of_the_pattern_as_written() {
        let err = RulePattern::new(r"(?P<value>\d+", LIMIT).expect_err("unclosed group");
        assert!(err.to_string().contains("unclosed group"), "{err}");
        let err = RulePattern::new(r"\d\p{NoSuchClass}", LIMIT).expect_err("unknown class");
        assert!(err.to_string().contains(r"\d\p{NoSuchClass}"), "quotes the pattern as written: {err}");
        // `[0-9]` nests one level deeper than `\d`: a pattern at the nesting limit still compiles.
        let deep = format!("{}\\d{}", "(".repeat(250), ")".repeat(250));
        assert!(Regex::new(&deep).is_ok() && Regex::new(&deep.replace(r"\d", "[0-9]")).is_err());
        assert!(RulePattern::new(&deep, LIMIT).expect("compiles as written").is_match("7"));
    }

    #[test]
    fn texts_with_digits_of_other_scripts_use_the_pattern_as_written() {
        let p = RulePattern::new(r"ID (?P<value>\d{4})\b", LIMIT).expect("compiles");
        let value = |t: &str| p.captures(t).map(|c| c["value"].to_string());
        assert_eq!(value("ID 4711 x").as_deref(), Some("4711"));
        assert_eq!(value("ID ٤٧١١ x").as_deref(), Some("٤٧١١"));
        assert_eq!(value("ID ４７１１").as_deref(), Some("４７１１"));
        assert_eq!(value("ID 47١١"), Some("47١١".to_string()));
        assert!(p.is_match("ID ٤٧١١") && !p.is_match("ID 47"));
        let not_digit = RulePattern::new(r"^\D+$", LIMIT).expect("compiles");
        assert!(not_digit.is_match("abc") && !not_digit.is_match("ab٤") && !not_digit.is_match("ab4"));
    }

    #[test]
    fn the_ascii_form_is_smaller_than_the_pattern_as_written() {
        // `\d{10,20}` as written takes ~100 KB, its ASCII form ~2 KB: a 64 KiB limit passes the ASCII form only,
        // and the pattern as written gets eight times that, so it reads Arabic digits.
        let tight = 64 << 10;
        assert!(RegexBuilder::new(r"^\d{10,20}$").size_limit(tight).build().is_err());
        let p = RulePattern::new(r"^(?P<value>\d{10,20})$", tight).expect("ASCII form fits");
        assert!(p.is_match("12345678901") && p.is_match("١٢٣٤٥٦٧٨٩٠١"));
    }

    #[test]
    fn a_pattern_as_written_beyond_its_limit_reads_ascii_digits_only() {
        let p = RulePattern::new(r"^\d{300}$", 64 << 10).expect("ASCII form fits");
        assert!(p.is_match(&"7".repeat(300)));
        assert!(!p.is_match(&"٧".repeat(300)));
    }

    #[test]
    fn same_matches_as_the_pattern_as_written_on_ascii_digit_texts() {
        let patterns = [r"(?i)kilom[ée]trage\s*:\s*(?P<value>\d[\d ]*\d)\s*km", r"\b\d{3}-\D{2}\b", r"[^\d]+(\d+)"];
        let texts = ["Kilométrage : 12 500 km", "x 123-ab y", "abc 42 def 7", "a٤ 1-xy 123-٤٤ 12", "", "٤٢"];
        for pattern in patterns {
            let written = Regex::new(pattern).expect("compiles");
            let p = RulePattern::new(pattern, LIMIT).expect("compiles");
            for text in texts {
                let spans =
                    |c: Option<Captures<'_>>| c.map(|c| c.iter().map(|m| m.map(|m| m.range())).collect::<Vec<_>>());
                assert_eq!(spans(p.captures(text)), spans(written.captures(text)), "{pattern} on {text:?}");
            }
        }
    }
}
