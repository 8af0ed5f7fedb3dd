//! A rule's regex, compiled cheaply. Rules use Unicode `\d` as written, which matches the decimal digits of every
//! script; compiled, each `\d` is an automaton of some 70 ranges, repeated for every `{n}` (`\d{10,20}` alone
//! took ~1 ms and ~0.6 MB). Almost every text a rule reads has ASCII digits only, and on such a text `\d` and
//! `[0-9]` match alike. So each pattern is compiled with `\d` read as `[0-9]` (and `\D` as `[^0-9]`); the pattern
//! as written is compiled only when a text with a digit of another script (`٤٢`, `４２`) comes along, and used for
//! that text. The results are the same as compiling the pattern as written, at a fraction of the init cost.
//!
//! A pattern is checked when the rules are loaded and compiled when a mail first needs it: the check (syntax, and
//! the automata within the size limit) is what can make the `regex` crate's build fail, at about a third of the
//! build's cost, and a function whose rules cover many senders compiles only the rules its mails reach.

use crate::anonymize::detect::digits::has_non_ascii_digit;
use regex::{Captures, Regex, RegexBuilder};
use regex_automata::nfa::thompson::{Compiler, Config as NfaConfig, WhichCaptures};
use regex_syntax::ast::{self, Ast, ClassPerlKind, ClassSetItem, Visitor};
use regex_syntax::hir::{translate::Translator, Hir};
use std::sync::OnceLock;

/// How much larger than the ASCII form's size limit the pattern as written may compile.
const UNICODE_SIZE_FACTOR: usize = 8;

/// A rule regex, checked and compiled on first use. Its matches are those of the pattern as written.
#[derive(Debug, Clone)]
pub struct RulePattern {
    /// The pattern with `\d` read as `[0-9]`; the pattern itself when it has no `\d` or `\D`.
    ascii: Lazy,
    /// The pattern as written, when it differs from `ascii`, compiled on the first text with a non-ASCII digit.
    unicode: Option<Lazy>,
    /// The names of the capture groups (`None` for unnamed ones), group 0 first.
    names: Box<[Option<Box<str>>]>,
}

/// A pattern compiled on first use. `None` when the build fails: never for a checked ASCII form (see
/// [`PatternChecks::names`]); for the pattern as written when it exceeds its larger limit, and such a text is then read
/// with `[0-9]`.
#[derive(Debug, Clone)]
struct Lazy {
    pattern: Box<str>,
    size_limit: usize,
    regex: OnceLock<Option<Regex>>,
}

/// What checking patterns takes, kept across the patterns of a rules file: the syntax parser (which resets itself
/// for each pattern), and the automata compilers, whose scratch tables cost more to set up than checking a short
/// pattern takes. The translator to the high-level form is not kept: it keeps state after a failed pattern, and
/// top-level flags (`(?-u)`) would carry over to the next one.
pub struct PatternChecks {
    ast: ast::parse::Parser,
    forward: Compiler,
    reverse: Compiler,
}

impl Default for PatternChecks {
    fn default() -> Self {
        Self { ast: ast::parse::Parser::new(), forward: Compiler::new(), reverse: Compiler::new() }
    }
}

impl PatternChecks {
    /// The capture group names of `pattern` when the `regex` crate will build it within `size_limit`: it parses
    /// with the crate's syntax settings (the defaults), and its forward and reverse automata fit the limit, the
    /// only steps of the crate's build that can fail. Configured as the crate's build configures them.
    fn names(&mut self, pattern: &str, size_limit: usize) -> Option<Box<[Option<Box<str>>]>> {
        let ast = self.ast.parse(pattern).ok()?;
        self.names_of(pattern, &ast, size_limit)
    }

    /// [`Self::names`] of a pattern already parsed.
    fn names_of(&mut self, pattern: &str, ast: &Ast, size_limit: usize) -> Option<Box<[Option<Box<str>>]>> {
        let hir: Hir = Translator::new().translate(pattern, ast).ok()?;
        let config = NfaConfig::new().utf8(true).shrink(false).nfa_size_limit(Some(size_limit));
        let forward = self.forward.configure(config.clone()).build_from_hir(&hir).ok()?;
        let reverse = config.which_captures(WhichCaptures::None).reverse(true);
        self.reverse.configure(reverse).build_from_hir(&hir).ok()?;
        let names = forward.group_info().pattern_names(regex_automata::PatternID::ZERO);
        Some(names.map(|n| n.map(Into::into)).collect())
    }
}

impl RulePattern {
    /// Checks `pattern`; `size_limit` bounds the compiled form that is used for texts with ASCII digits. The
    /// pattern as written may take [`UNICODE_SIZE_FACTOR`] times that; beyond it (`\d{300}`), texts with digits of
    /// other scripts are read with the `[0-9]` form too (`\d` does not match those digits, and `\D` does).
    /// Errors are the `regex` crate's, for the pattern as written.
    pub fn new(pattern: &str, size_limit: usize) -> Result<Self, regex::Error> {
        Self::checked_with(pattern, size_limit, &mut PatternChecks::default())
    }

    /// [`Self::new`], reusing `checks` from earlier patterns.
    pub fn checked_with(pattern: &str, size_limit: usize, checks: &mut PatternChecks) -> Result<Self, regex::Error> {
        let written = |ascii: Lazy, names| {
            let unicode = Lazy::new(pattern, size_limit.saturating_mul(UNICODE_SIZE_FACTOR));
            Self { ascii, unicode: Some(unicode), names }
        };
        let ast = checks.ast.parse(pattern).ok();
        let ascii_pattern = ast.as_ref().and_then(|ast| ascii_digits_in(pattern, ast));
        let names = match (&ascii_pattern, &ast) {
            (Some(ascii), _) => checks.names(ascii, size_limit),
            (None, Some(ast)) => checks.names_of(pattern, ast, size_limit),
            (None, None) => None,
        };
        match (ascii_pattern.as_deref(), names) {
            (Some(ascii), Some(names)) => return Ok(written(Lazy::new(ascii, size_limit), names)),
            (None, Some(names)) => return Ok(Self { ascii: Lazy::new(pattern, size_limit), unicode: None, names }),
            _ => {}
        }
        // The check failed: the build says why, in the `regex` crate's words (or builds what the check was too
        // strict for, such as a large literal alternation that needs no automaton).
        let build = |p: &str| RegexBuilder::new(p).size_limit(size_limit).build();
        let names = |re: &Regex| re.capture_names().map(|n| n.map(Into::into)).collect();
        let as_written = || {
            let re = build(pattern)?;
            Ok(Self { names: names(&re), ascii: Lazy::ready(pattern, size_limit, re), unicode: None })
        };
        let Some(ascii_pattern) = ascii_pattern else {
            return as_written();
        };
        // The rewrite nests one level deeper and quotes itself in errors: when it does not compile, the pattern as
        // written is compiled instead, so errors are always those of the pattern as written.
        match build(&ascii_pattern) {
            Ok(ascii) => Ok(written(Lazy::ready(&ascii_pattern, size_limit, ascii.clone()), names(&ascii))),
            Err(_) => as_written(),
        }
    }

    /// Whether the pattern matches anywhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.regex_for(text).is_some_and(|re| re.is_match(text))
    }

    /// The capture groups of the first match in `text`.
    pub fn captures<'t>(&self, text: &'t str) -> Option<Captures<'t>> {
        self.regex_for(text)?.captures(text)
    }

    /// The names of the capture groups (`None` for unnamed ones), as in [`Regex::capture_names`].
    pub fn capture_names(&self) -> impl Iterator<Item = Option<&str>> {
        self.names.iter().map(Option::as_deref)
    }

    /// Whether the ASCII form has been compiled (by a text that needed it).
    pub fn is_compiled(&self) -> bool {
        self.ascii.regex.get().is_some()
    }

    /// The regex that reads `text` as the pattern as written would.
    fn regex_for(&self, text: &str) -> Option<&Regex> {
        match &self.unicode {
            Some(form) if has_non_ascii_digit(text) => form.regex().or_else(|| self.ascii.regex()),
            _ => self.ascii.regex(),
        }
    }
}

impl Lazy {
    fn new(pattern: &str, size_limit: usize) -> Self {
        Self { pattern: pattern.into(), size_limit, regex: OnceLock::new() }
    }

    fn ready(pattern: &str, size_limit: usize, regex: Regex) -> Self {
        Self { pattern: pattern.into(), size_limit, regex: OnceLock::from(Some(regex)) }
    }

    fn regex(&self) -> Option<&Regex> {
        self.regex.get_or_init(|| RegexBuilder::new(&self.pattern).size_limit(self.size_limit).build().ok()).as_ref()
    }
}

/// `pattern` with every `\d` written `[0-9]` and every `\D` `[^0-9]` (inside a class, `0-9` and `[^0-9]`), or
/// `None` when it has neither or does not parse (the caller's compile then reports the error).
#[cfg(test)]
fn with_ascii_digits(pattern: &str) -> Option<String> {
    ascii_digits_in(pattern, &ast::parse::Parser::new().parse(pattern).ok()?)
}

/// [`with_ascii_digits`] of a parsed pattern.
fn ascii_digits_in(pattern: &str, parsed: &Ast) -> Option<String> {
    let spans = ast::visit(parsed, DigitClasses::default()).ok()?;
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
    fn patterns_are_checked_at_load_and_compiled_on_first_use() {
        let p = RulePattern::new(r"ID (?P<value>\d{4})\b", LIMIT).expect("compiles");
        assert!(!p.is_compiled());
        assert_eq!(p.capture_names().collect::<Vec<_>>(), [None, Some("value")]);
        assert!(!p.is_match("no id here"));
        assert!(p.is_compiled());
        assert_eq!(p.captures("ID 4711").map(|c| c["value"].to_string()).as_deref(), Some("4711"));
    }

    #[test]
    fn over_size_patterns_fail_at_load_with_the_crates_error() {
        for pattern in [r"(?P<value>\w{600})", r"[\w\s]{200,300}x", r"\d{300}(?i)ä{40000}"] {
            let expected = RegexBuilder::new(pattern).size_limit(LIMIT).build().expect_err("too big").to_string();
            let err = RulePattern::new(pattern, LIMIT).expect_err("too big").to_string();
            assert_eq!(err, expected, "{pattern}");
        }
    }

    #[test]
    fn a_pattern_that_passes_the_check_builds_at_any_limit() {
        // The lazy build must not fail where the check passed: tried at limits around each pattern's size.
        let patterns = [
            r"\(Ref (?P<value>CP-[0-9]{8})\)",
            r"(?i)^new inquiry for .+\(Listing HF-[0-9]+\)$",
            r"(?i)kilom[ée]trage\s*:\s*(?P<value>[0-9][0-9 ]*[0-9])\s*km",
            r"Annonce\s*:\s*VM-\d+\s*–\s*(?P<value>[^\r\n]+)",
            r"\b\w+@\w+\.\w{2,}\b",
            r"(?m)^(?:[^\n]*\n){3}(?P<value>\S+)$",
            r"(?i)(?:é|e)[\p{L}\p{N}]{3,40}$",
        ];
        // One set of checks for all, as a rules file's patterns share one: reused scratch tables change nothing,
        // also after patterns that fail to parse or to translate, or that set flags at the top level.
        let mut reused = PatternChecks::default();
        for spoiler in [r"x\p{Latn_typo}", r"(?-u)\W", r"a(?-u:.)", r"(?-u)\bRef\b", r"(?i)k", r"(unclosed"] {
            assert_eq!(reused.names(spoiler, LIMIT).is_some(), Regex::new(spoiler).is_ok(), "{spoiler}");
        }
        for pattern in patterns {
            let limits = (8..22).map(|bits| 1usize << bits).flat_map(|l| [l, l + l / 3, l + 2 * l / 3]);
            let (mut passed, mut failed) = (0, 0);
            for limit in limits {
                let fresh = PatternChecks::default().names(pattern, limit);
                assert_eq!(reused.names(pattern, limit), fresh, "{pattern} at {limit}");
                if fresh.is_some() {
                    assert!(RegexBuilder::new(pattern).size_limit(limit).build().is_ok(), "{pattern} at {limit}");
                    passed += 1;
                } else {
                    failed += 1;
                }
            }
            assert!(passed > 0 && failed > 0, "{pattern}: the limits must straddle its size");
        }
    }

    #[test]
    fn where_the_check_is_stricter_than_the_crate_the_crate_decides() {
        // Thousands of literals: the crate searches them with Aho-Corasick and builds no automaton of its own,
        // so the size limit never applies; the check's automaton would exceed it.
        let words: Vec<String> = (0..20_000).map(|i| format!("lead{i:06}x")).collect();
        let pattern = words.join("|");
        assert!(RegexBuilder::new(&pattern).size_limit(LIMIT).build().is_ok());
        assert!(PatternChecks::default().names(&pattern, LIMIT).is_none());
        let p = RulePattern::new(&pattern, LIMIT).expect("the crate builds it");
        assert!(p.is_compiled() && p.is_match("ref lead019999x") && !p.is_match("lead1x"));
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
