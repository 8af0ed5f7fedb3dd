//! A matcher for the patterns of libphonenumber's metadata. They only ever see ASCII digit strings and use a
//! small dialect: digits, `\d`, classes such as `[2-9]`, groups (`(?:..)`, `(..)`), alternation and the
//! quantifiers `?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}`, written in free-spacing mode (whitespace is ignored).
//!
//! The `regex` crate compiles such a pattern in tens of microseconds and the configured regions have hundreds of
//! them, which made up a large part of extract's cold start. Here a pattern compiles in one pass (no syntax tree:
//! a repeated group's instructions are copied) to a small program over digit sets, run by a backtracker that
//! visits each (instruction, position) pair at most once, so matching is linear in pattern size times input length
//! whatever the pattern. A test compares it with
//! the `regex` crate on every pattern in the metadata (number patterns, formats' patterns and leading digits,
//! territories' leading digits and international prefixes).

use std::cell::RefCell;
use thiserror::Error;

/// Why a pattern does not compile: the character offset and what was wrong there.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("digit pattern, at offset {at}: {what}")]
pub(crate) struct PatternError {
    at: usize,
    what: &'static str,
}

/// A compiled pattern; match it against a whole digit string or against its start.
#[derive(Debug, Clone)]
pub(crate) struct DigitPattern {
    program: Vec<Inst>,
    /// Fewest digits a match consumes.
    min_len: usize,
    /// Most digits a match consumes (`None`: no limit).
    max_len: Option<usize>,
}

/// One instruction of the program (indexes are into the program).
#[derive(Debug, Clone, Copy)]
enum Inst {
    /// Consume one digit in the set (bit `d` set for digit `d`).
    Digits(u16),
    /// Try the first branch, then the second.
    Split(u32, u32),
    /// Continue at the target.
    Jump(u32),
    /// The pattern has matched.
    Match,
}

/// The fewest digits a part of a pattern consumes, and the most (`None`: no limit).
type Lengths = (usize, Option<usize>);

/// Longest program a pattern may compile to (the largest metadata pattern needs a few thousand).
const MAX_PROGRAM: usize = 1 << 16;
/// Most groups open at once.
const MAX_DEPTH: usize = 64;
/// Largest repetition count accepted in `{n,m}`.
const MAX_REPEAT: u32 = 1000;
const ALL_DIGITS: u16 = (1 << 10) - 1;
/// A character that is not ASCII, as the parser sees it: never valid anywhere.
const NOT_ASCII: u8 = 0xFF;
/// The end of the chain of an alternation's pending jumps.
const NO_JUMP: u32 = u32::MAX;

impl DigitPattern {
    /// Compiles `pattern` (free-spacing: whitespace is ignored).
    pub(crate) fn new(pattern: &str) -> Result<Self, PatternError> {
        // One byte per character, so that error offsets count characters.
        let mut chars = Vec::with_capacity(pattern.len());
        chars.extend(pattern.chars().filter(|c| !c.is_whitespace()).map(|c| {
            if c.is_ascii() {
                c as u8
            } else {
                NOT_ASCII
            }
        }));
        let program = Vec::with_capacity(2 * chars.len() + 1);
        let mut parser = Parser { chars: &chars, at: 0, depth: 0, program, atom: Vec::new() };
        let (min_len, max_len) = parser.alternation()?;
        if parser.at < chars.len() {
            return Err(parser.error("unmatched `)`"));
        }
        let mut program = parser.program;
        program.push(Inst::Match);
        program.shrink_to_fit();
        Ok(Self { program, min_len, max_len })
    }

    /// The whole of `digits` matches.
    pub(crate) fn is_match(&self, digits: &str) -> bool {
        let len = digits.len();
        len >= self.min_len && self.max_len.is_none_or(|max| len <= max) && self.run(digits.as_bytes(), true)
    }

    /// Some start of `digits` (possibly all of it, possibly empty) matches.
    pub(crate) fn is_prefix_match(&self, digits: &str) -> bool {
        digits.len() >= self.min_len && self.run(digits.as_bytes(), false)
    }

    /// Backtracking over (instruction, position) pairs, each visited at most once. A pair is marked with the
    /// run's number rather than a bit, so nothing needs clearing between runs.
    fn run(&self, input: &[u8], whole: bool) -> bool {
        thread_local! {
            static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch { run: 0, seen: Vec::new(), stack: Vec::new() }) };
        }
        SCRATCH.with(|scratch| {
            let Scratch { run, seen, stack } = &mut *scratch.borrow_mut();
            *run = run.wrapping_add(1);
            if *run == 0 {
                seen.fill(0);
                *run = 1;
            }
            let width = input.len() + 1;
            if seen.len() < self.program.len() * width {
                seen.resize(self.program.len() * width, 0);
            }
            stack.clear();
            stack.push((0, 0));
            while let Some((mut pc, pos)) = stack.pop() {
                let pos = pos as usize;
                loop {
                    let pair = &mut seen[pc as usize * width + pos];
                    if *pair == *run {
                        break;
                    }
                    *pair = *run;
                    match self.program[pc as usize] {
                        Inst::Digits(set) => {
                            let Some(&b) = input.get(pos) else { break };
                            let d = b.wrapping_sub(b'0');
                            if d >= 10 || set & (1 << d) == 0 {
                                break;
                            }
                            // Consuming moves to the next position, so this pair cannot repeat.
                            stack.push((pc + 1, (pos + 1) as u32));
                            break;
                        }
                        Inst::Split(first, second) => {
                            stack.push((second, pos as u32));
                            pc = first;
                        }
                        Inst::Jump(to) => pc = to,
                        Inst::Match => {
                            if !whole || pos == input.len() {
                                return true;
                            }
                            break;
                        }
                    }
                }
            }
            false
        })
    }
}

/// Per-thread working memory of [`DigitPattern::run`].
struct Scratch {
    /// The number of the current run.
    run: u32,
    /// (instruction, position) -> the number of the last run that visited it.
    seen: Vec<u32>,
    /// Pairs still to try.
    stack: Vec<(u32, u32)>,
}

/// Recursive-descent parser over the pattern's characters (whitespace already removed), appending each part's
/// instructions to `program` as it reads it.
struct Parser<'a> {
    chars: &'a [u8],
    at: usize,
    /// Groups open at the current position.
    depth: usize,
    program: Vec<Inst>,
    /// A repeated atom's instructions while they are copied (kept to save an allocation per repetition).
    atom: Vec<Inst>,
}

impl Parser<'_> {
    fn error(&self, what: &'static str) -> PatternError {
        PatternError { at: self.at, what }
    }

    fn peek(&self) -> Option<u8> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.at += usize::from(hit);
        hit
    }

    fn here(&self) -> u32 {
        self.program.len() as u32
    }

    /// `a|b|c`, up to the end or a `)`. Each branch but the last is `Split(branch, next branch)`, the branch and a
    /// jump to the end; the jumps wait for the end in a chain through their targets.
    fn alternation(&mut self) -> Result<Lengths, PatternError> {
        let mut lengths: Option<Lengths> = None;
        let mut jumps = NO_JUMP;
        loop {
            let split = self.program.len();
            self.program.push(Inst::Split(0, 0));
            let (min, max) = self.concat()?;
            lengths = Some(match lengths {
                None => (min, max),
                Some((a, b)) => (a.min(min), b.zip(max).map(|(b, m)| b.max(m))),
            });
            if !self.eat(b'|') {
                // The last branch needs no split: it moves one instruction back.
                self.program.remove(split);
                relocate(&mut self.program[split..], -1);
                break;
            }
            self.program.push(Inst::Jump(jumps));
            jumps = self.here() - 1;
            self.program[split] = Inst::Split(split as u32 + 1, self.here());
        }
        let end = self.here();
        while jumps != NO_JUMP {
            let Inst::Jump(next) = self.program[jumps as usize] else { unreachable!("the chain holds jumps") };
            self.program[jumps as usize] = Inst::Jump(end);
            jumps = next;
        }
        Ok(lengths.unwrap_or((0, Some(0))))
    }

    /// A sequence of quantified atoms.
    fn concat(&mut self) -> Result<Lengths, PatternError> {
        let (mut min, mut max) = (0usize, Some(0usize));
        while let Some(c) = self.peek() {
            if c == b'|' || c == b')' {
                break;
            }
            let start = self.program.len();
            let atom = self.atom()?;
            let (a, b) = self.quantified(start, atom)?;
            min = min.saturating_add(a);
            max = max.zip(b).map(|(m, b)| m.saturating_add(b));
        }
        Ok((min, max))
    }

    fn atom(&mut self) -> Result<Lengths, PatternError> {
        let c = self.peek().ok_or_else(|| self.error("pattern ends early"))?;
        self.at += 1;
        let set = match c {
            b'0'..=b'9' => 1 << (c - b'0'),
            b'\\' => self.escape()?,
            b'[' => self.class()?,
            b'(' => {
                // `(?:` or a capturing group: captures do not matter for matching.
                if self.eat(b'?') && !self.eat(b':') {
                    return Err(self.error("only `(?:` groups are supported"));
                }
                if self.depth == MAX_DEPTH {
                    return Err(self.error("groups nested too deeply"));
                }
                self.depth += 1;
                let inner = self.alternation()?;
                self.depth -= 1;
                if !self.eat(b')') {
                    return Err(self.error("missing `)`"));
                }
                return Ok(inner);
            }
            _ => {
                self.at -= 1;
                return Err(self.error("unsupported character (only digits, \\d, classes, groups, | and quantifiers)"));
            }
        };
        self.program.push(Inst::Digits(set));
        Ok((1, Some(1)))
    }

    /// After a `\`: only `\d` is a digit set.
    fn escape(&mut self) -> Result<u16, PatternError> {
        match self.peek() {
            Some(b'd') => {
                self.at += 1;
                Ok(ALL_DIGITS)
            }
            _ => Err(self.error("unsupported escape (only \\d)")),
        }
    }

    /// After a `[`: digits, ranges `a-b` and `\d`, up to `]`.
    fn class(&mut self) -> Result<u16, PatternError> {
        let mut set = 0u16;
        loop {
            let c = self.peek().ok_or_else(|| self.error("missing `]`"))?;
            self.at += 1;
            match c {
                b']' if set != 0 => return Ok(set),
                b'\\' => set |= self.escape()?,
                b'0'..=b'9' => {
                    let low = c - b'0';
                    let mut high = low;
                    if self.peek() == Some(b'-') && self.chars.get(self.at + 1).is_some_and(u8::is_ascii_digit) {
                        high = self.chars[self.at + 1] - b'0';
                        self.at += 2;
                        if high < low {
                            return Err(self.error("class range out of order"));
                        }
                    }
                    set |= (low..=high).fold(0, |s, d| s | 1 << d);
                }
                _ => {
                    self.at -= 1;
                    return Err(self.error("unsupported character in a class"));
                }
            }
        }
    }

    /// Applies the quantifier after the atom compiled from `start` on, if any (`?`, `*`, `+`, `{n}`, `{n,}`,
    /// `{n,m}`, each possibly lazy: a lazy quantifier matches the same strings). Stacked quantifiers (`1{2}{3}`,
    /// `1*?+`) are refused. The atom's instructions are copied for each repetition.
    fn quantified(&mut self, start: usize, (a, b): Lengths) -> Result<Lengths, PatternError> {
        let (min, max) = match self.peek() {
            Some(b'?') => (0, Some(1)),
            Some(b'*') => (0, None),
            Some(b'+') => (1, None),
            Some(b'{') => {
                self.at += 1;
                let min = self.number()?;
                let max = if self.eat(b',') {
                    if self.peek() == Some(b'}') {
                        None
                    } else {
                        Some(self.number()?)
                    }
                } else {
                    Some(min)
                };
                if self.peek() != Some(b'}') {
                    return Err(self.error("missing `}`"));
                }
                if max.is_some_and(|m| m < min) {
                    return Err(self.error("repetition range out of order"));
                }
                (min, max)
            }
            _ => return Ok((a, b)),
        };
        self.at += 1;
        self.eat(b'?');
        if matches!(self.peek(), Some(b'?' | b'*' | b'+' | b'{')) {
            return Err(self.error("stacked quantifiers are not supported"));
        }
        self.repeat(start, min, max)?;
        let (min, max) = (min as usize, max.map(|m| m as usize));
        let max = if b == Some(0) { Some(0) } else { b.zip(max).map(|(b, m)| b.saturating_mul(m)) };
        Ok((a.saturating_mul(min), max))
    }

    /// Replaces the atom compiled from `start` on by `min` copies of it, then `max - min` optional ones, each
    /// skippable to the end of all (or, with no `max`, a loop over one more copy).
    fn repeat(&mut self, start: usize, min: u32, max: Option<u32>) -> Result<(), PatternError> {
        let mut atom = std::mem::take(&mut self.atom);
        atom.clear();
        atom.extend(self.program.drain(start..));
        let optional = match max {
            Some(max) => (max - min) as usize,
            None => 1,
        };
        let size = (min as usize + optional) * atom.len() + optional + usize::from(max.is_none());
        if start + size > MAX_PROGRAM {
            return Err(PatternError { at: 0, what: "pattern too large" });
        }
        let copy = |program: &mut Vec<Inst>| {
            let at = program.len();
            program.extend_from_slice(&atom);
            relocate(&mut program[at..], at as i64 - start as i64);
        };
        for _ in 0..min {
            copy(&mut self.program);
        }
        if max.is_none() {
            let split = self.program.len();
            self.program.push(Inst::Split(0, 0));
            copy(&mut self.program);
            self.program.push(Inst::Jump(split as u32));
            self.program[split] = Inst::Split(split as u32 + 1, self.here());
            self.atom = atom;
            return Ok(());
        }
        let first = self.program.len();
        for _ in 0..optional {
            self.program.push(Inst::Split(0, 0));
            copy(&mut self.program);
        }
        // Each optional copy may be skipped to the end of all of them.
        let end = self.here();
        let mut at = first;
        for _ in 0..optional {
            self.program[at] = Inst::Split(at as u32 + 1, end);
            at += 1 + atom.len();
        }
        self.atom = atom;
        Ok(())
    }

    fn number(&mut self) -> Result<u32, PatternError> {
        let start = self.at;
        let mut n: u32 = 0;
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            n = n.saturating_mul(10).saturating_add(u32::from(c - b'0'));
            self.at += 1;
        }
        if self.at == start || n > MAX_REPEAT {
            return Err(PatternError { at: start, what: "expected a repetition count up to 1000" });
        }
        Ok(n)
    }
}

/// Moves the targets of self-contained instructions by `by` (they were compiled at another place).
fn relocate(program: &mut [Inst], by: i64) {
    let moved = |t: u32| (i64::from(t) + by) as u32;
    for inst in program {
        match inst {
            Inst::Split(a, b) => *inst = Inst::Split(moved(*a), moved(*b)),
            Inst::Jump(t) => *inst = Inst::Jump(moved(*t)),
            Inst::Digits(_) | Inst::Match => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn p(s: &str) -> DigitPattern {
        DigitPattern::new(s).unwrap()
    }

    #[test]
    fn whole_and_prefix_matches() {
        let nanp = p(r"[2-9]\d{2}[2-9]\d{6}");
        assert!(nanp.is_match("4155550132"));
        assert!(!nanp.is_match("415555013"));
        assert!(!nanp.is_match("41555501321"));
        assert!(nanp.is_prefix_match("41555501321"));
        assert!(!nanp.is_match("1155550132"));
        assert!(!nanp.is_match("415555013x"));
        let idd = p("0(?:0|11)");
        assert!(idd.is_prefix_match("0044") && idd.is_prefix_match("011") && !idd.is_prefix_match("01"));
        assert!(p("").is_match("") && p("").is_prefix_match("123") && !p("").is_match("1"));
        assert!(p(r"1 ( ?: 2 | 34 )?5").is_match("15") && p(r"1(?:2|34)?5").is_match("1345"));
        assert!(p(r"\d+").is_match("123") && !p(r"\d+").is_match("") && p(r"(?:12)*").is_match("1212"));
        assert!(p(r"\d{2,}").is_match("12345") && !p(r"\d{2,}").is_match("1"));
        assert!(p(r"(\d{3})(\d{4})").is_match("5550132"));
    }

    #[test]
    fn errors_name_what_and_where() {
        for (bad, at) in [("1(2", 3), ("12)", 2), ("[2-", 2), ("a", 0), (r"\w", 1), ("(?=1)", 2), ("1{3,2}", 5)] {
            let e = DigitPattern::new(bad).unwrap_err();
            assert_eq!(e.at, at, "{bad}: {e}");
        }
        assert!(DigitPattern::new(r"(?:\d{1000}){1000}").is_err());
        assert!(DigitPattern::new("1{99999}").is_err());
        // Compiled in one pass, nested repetitions of nothing cost one copy each: no longer too much work.
        assert!(p("(?:(?:(?:(?:){1000}){1000}){1000}){1000}1").is_match("1"));
        assert!(DigitPattern::new("(?:(?:1{1000}){60}){2}").is_err(), "too large");
        assert!(DigitPattern::new(&format!("{}1{}", "(".repeat(100), ")".repeat(100))).is_err());
        assert!(DigitPattern::new(&format!("{}1{}", "(".repeat(60), ")".repeat(60))).is_ok());
        for stacked in ["1{2}{3}", "1*?+", "1???", "1+*"] {
            assert!(DigitPattern::new(stacked).is_err(), "{stacked}");
        }
    }

    #[test]
    fn lazy_quantifiers_match_the_same_strings() {
        assert!(p(r"\d{2}?").is_match("11") && !p(r"\d{2}?").is_match("") && !p(r"\d{2}?").is_match("1"));
        assert!(p("1+?").is_match("111") && !p("1+?").is_match(""));
        assert!(p("1??2").is_match("2") && p("1??2").is_match("12") && !p("1??2").is_match("112"));
        assert!(p("(?:12)*?3").is_match("12123"));
    }

    #[test]
    fn empty_loops_terminate() {
        assert!(p("(?:)*1").is_match("1"));
        assert!(p("(?:1?)*2").is_match("1112"));
        assert!(!p("(?:1?)*2").is_match("1113"));
    }

    /// A random pattern of the dialect: nested groups, alternations and every quantifier, so that copied and
    /// moved instructions are exercised beyond what the metadata has.
    fn random_pattern(seed: &mut u64, depth: u32) -> String {
        fn below(seed: &mut u64, n: u64) -> u64 {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed % n
        }
        let next = |seed: &mut u64, n| below(seed, n);
        let mut out = String::new();
        for _ in 0..1 + next(seed, 3) {
            let atom = match next(seed, if depth < 3 { 5 } else { 3 }) {
                0 => char::from(b'0' + next(seed, 3) as u8).to_string(),
                1 => r"\d".to_string(),
                2 => format!("[{}-{}]", next(seed, 2), 1 + next(seed, 2)),
                _ => {
                    let branches: Vec<String> =
                        (0..1 + next(seed, 3)).map(|_| random_pattern(seed, depth + 1)).collect();
                    format!("(?:{})", branches.join("|"))
                }
            };
            let quantifier = match next(seed, 8) {
                0 => "?".to_string(),
                1 => "*".to_string(),
                2 => "+".to_string(),
                3 => format!("{{{}}}", next(seed, 3)),
                4 => format!("{{{},}}", next(seed, 3)),
                5 => {
                    let min = next(seed, 3);
                    format!("{{{min},{}}}", min + next(seed, 3))
                }
                _ => String::new(),
            };
            out.push_str(&atom);
            out.push_str(&quantifier);
        }
        out
    }

    #[test]
    fn agrees_with_the_regex_crate_on_random_patterns() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let inputs: Vec<String> = (0..400)
            .map(|i| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (0..i % 9).map(|k| char::from(b'0' + ((seed >> (k * 2)) % 3) as u8)).collect()
            })
            .collect();
        for _ in 0..2000 {
            let pattern = random_pattern(&mut seed, 0);
            let ours = p(&pattern);
            let whole = Regex::new(&format!("^(?-u:{pattern})$")).unwrap();
            let prefix = Regex::new(&format!("^(?-u:{pattern})")).unwrap();
            for s in &inputs {
                assert_eq!(ours.is_match(s), whole.is_match(s), "{pattern} on {s}");
                assert_eq!(ours.is_prefix_match(s), prefix.is_match(s), "{pattern} on {s} (prefix)");
            }
        }
    }

    /// The text of every `<element>` and every `attr="..."` in `xml`.
    fn texts<'a>(xml: &'a str, elements: &[&str], attrs: &[&str]) -> Vec<&'a str> {
        let mut out = Vec::new();
        for element in elements {
            let (open, close) = (format!("<{element}>"), format!("</{element}>"));
            out.extend(xml.split(&open).skip(1).map(|chunk| chunk.split(&close).next().unwrap_or("")));
        }
        for attr in attrs {
            out.extend(xml.split(&format!(" {attr}=\"")).skip(1).map(|chunk| chunk.split('"').next().unwrap_or("")));
        }
        out
    }

    #[test]
    fn agrees_with_the_regex_crate_on_every_metadata_pattern() {
        let xml = include_str!("../../../data/phonenumber/PhoneNumberMetadata.xml");
        // Random digit strings (fixed seed) and every prefix of them, so that every length is tried.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut random: Vec<String> = Vec::new();
        for _ in 0..12 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let s: String = (0..18).map(|i| char::from(b'0' + ((seed >> (i * 3)) % 10) as u8)).collect();
            random.extend((0..=s.len()).map(|end| s[..end].to_string()));
        }
        let (mut patterns, mut whole_matches) = (0, 0);
        for territory in xml.split("<territory ").skip(1) {
            // The territory's example numbers, with one digit more, one less and the last digit changed: strings
            // its patterns match and strings just beside them.
            let mut inputs = random.clone();
            for example in texts(territory, &["exampleNumber"], &[]) {
                let last = example.len().saturating_sub(1);
                inputs.push(example.to_string());
                inputs.push(format!("{example}5"));
                inputs.push(example[..last].to_string());
                inputs.push(format!("{}{}", &example[..last], (example.as_bytes()[last] - b'0' + 1) % 10));
            }
            let elements = ["nationalNumberPattern", "leadingDigits"];
            for pattern in texts(territory, &elements, &["pattern", "internationalPrefix", "leadingDigits"]) {
                let ours = p(pattern);
                let whole = Regex::new(&format!("^(?x-u:{pattern})$")).unwrap();
                let prefix = Regex::new(&format!("^(?x-u:{pattern})")).unwrap();
                for s in &inputs {
                    assert_eq!(ours.is_match(s), whole.is_match(s), "{pattern} on {s}");
                    assert_eq!(ours.is_prefix_match(s), prefix.is_match(s), "{pattern} on {s} (prefix)");
                    whole_matches += usize::from(whole.is_match(s));
                }
                patterns += 1;
            }
        }
        assert!(patterns > 3000 && whole_matches > 10_000, "{patterns} patterns, {whole_matches} whole matches");
    }
}
