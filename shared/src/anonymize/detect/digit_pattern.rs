//! A matcher for the patterns of libphonenumber's metadata. They only ever see ASCII digit strings and use a
//! small dialect: digits, `\d`, classes such as `[2-9]`, groups (`(?:..)`, `(..)`), alternation and the
//! quantifiers `?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}`, written in free-spacing mode (whitespace is ignored).
//!
//! The `regex` crate compiles such a pattern in tens of microseconds and the configured regions have hundreds of
//! them, which made up a large part of extract's cold start. Here a pattern compiles in about a microsecond to a
//! small program over digit sets, run by a backtracker that visits each (instruction, position) pair at most
//! once, so matching is linear in pattern size times input length whatever the pattern. A test compares it with
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

/// The parsed form of a pattern.
#[derive(Debug)]
enum Node {
    Digits(u16),
    Concat(Vec<Node>),
    Alternation(Vec<Node>),
    Repeat { node: Box<Node>, min: u32, max: Option<u32> },
}

impl Node {
    /// The fewest and the most digits a match of this node consumes (`None`: unbounded).
    fn lengths(&self) -> (usize, Option<usize>) {
        match self {
            Node::Digits(_) => (1, Some(1)),
            Node::Concat(items) => items
                .iter()
                .map(Node::lengths)
                .fold((0, Some(0)), |(min, max), (a, b)| (min + a, max.zip(b).map(|(m, b)| m + b))),
            Node::Alternation(branches) => {
                let lengths: Vec<_> = branches.iter().map(Node::lengths).collect();
                let min = lengths.iter().map(|l| l.0).min().unwrap_or(0);
                let max = lengths.iter().try_fold(0, |m, l| l.1.map(|b| m.max(b)));
                (min, max)
            }
            Node::Repeat { node, min, max } => {
                let (a, b) = node.lengths();
                let (min, max) = (*min as usize, max.map(|m| m as usize));
                let max = if b == Some(0) { Some(0) } else { b.zip(max).map(|(b, m)| b.saturating_mul(m)) };
                (a.saturating_mul(min), max)
            }
        }
    }
}

/// Longest program a pattern may compile to (the largest metadata pattern needs a few thousand).
const MAX_PROGRAM: usize = 1 << 16;
/// Most groups open at once.
const MAX_DEPTH: usize = 64;
/// Most nodes compiled for one pattern, repetitions counted (a repeated empty group adds no instructions).
const MAX_WORK: usize = 1 << 20;
/// Largest repetition count accepted in `{n,m}`.
const MAX_REPEAT: u32 = 1000;
const ALL_DIGITS: u16 = (1 << 10) - 1;

impl DigitPattern {
    /// Compiles `pattern` (free-spacing: whitespace is ignored).
    pub(crate) fn new(pattern: &str) -> Result<Self, PatternError> {
        let chars: Vec<char> = pattern.chars().filter(|c| !c.is_whitespace()).collect();
        let mut parser = Parser { chars: &chars, at: 0, depth: 0 };
        let node = parser.alternation()?;
        if parser.at < chars.len() {
            return Err(parser.error("unmatched `)`"));
        }
        let mut program = Vec::new();
        let mut budget = MAX_WORK;
        compile(&node, &mut program, &mut budget)?;
        program.push(Inst::Match);
        let (min_len, max_len) = node.lengths();
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

/// Recursive-descent parser over the pattern's characters (whitespace already removed).
struct Parser<'a> {
    chars: &'a [char],
    at: usize,
    /// Groups open at the current position.
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, what: &'static str) -> PatternError {
        PatternError { at: self.at, what }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        self.at += usize::from(hit);
        hit
    }

    /// `a|b|c`, up to the end or a `)`.
    fn alternation(&mut self) -> Result<Node, PatternError> {
        let mut branches = vec![self.concat()?];
        while self.eat('|') {
            branches.push(self.concat()?);
        }
        Ok(if branches.len() == 1 { branches.remove(0) } else { Node::Alternation(branches) })
    }

    /// A sequence of quantified atoms.
    fn concat(&mut self) -> Result<Node, PatternError> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            items.push(self.quantified(atom)?);
        }
        Ok(Node::Concat(items))
    }

    fn atom(&mut self) -> Result<Node, PatternError> {
        let c = self.peek().ok_or_else(|| self.error("pattern ends early"))?;
        self.at += 1;
        match c {
            '0'..='9' => Ok(Node::Digits(1 << (c as u8 - b'0'))),
            '\\' => self.escape().map(Node::Digits),
            '[' => self.class().map(Node::Digits),
            '(' => {
                // `(?:` or a capturing group: captures do not matter for matching.
                if self.eat('?') && !self.eat(':') {
                    return Err(self.error("only `(?:` groups are supported"));
                }
                if self.depth == MAX_DEPTH {
                    return Err(self.error("groups nested too deeply"));
                }
                self.depth += 1;
                let inner = self.alternation()?;
                self.depth -= 1;
                if !self.eat(')') {
                    return Err(self.error("missing `)`"));
                }
                Ok(inner)
            }
            _ => {
                self.at -= 1;
                Err(self.error("unsupported character (only digits, \\d, classes, groups, | and quantifiers)"))
            }
        }
    }

    /// After a `\`: only `\d` is a digit set.
    fn escape(&mut self) -> Result<u16, PatternError> {
        match self.peek() {
            Some('d') => {
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
                ']' if set != 0 => return Ok(set),
                '\\' => set |= self.escape()?,
                '0'..='9' => {
                    let low = c as u8 - b'0';
                    let mut high = low;
                    if self.peek() == Some('-') && self.chars.get(self.at + 1).is_some_and(char::is_ascii_digit) {
                        high = self.chars[self.at + 1] as u8 - b'0';
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

    /// Applies the quantifier after an atom, if any (`?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}`, each possibly
    /// lazy: a lazy quantifier matches the same strings). Stacked quantifiers (`1{2}{3}`, `1*?+`) are refused.
    fn quantified(&mut self, node: Node) -> Result<Node, PatternError> {
        let (min, max) = match self.peek() {
            Some('?') => (0, Some(1)),
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('{') => {
                self.at += 1;
                let min = self.number()?;
                let max = if self.eat(',') {
                    if self.peek() == Some('}') {
                        None
                    } else {
                        Some(self.number()?)
                    }
                } else {
                    Some(min)
                };
                if self.peek() != Some('}') {
                    return Err(self.error("missing `}`"));
                }
                if max.is_some_and(|m| m < min) {
                    return Err(self.error("repetition range out of order"));
                }
                (min, max)
            }
            _ => return Ok(node),
        };
        self.at += 1;
        self.eat('?');
        if matches!(self.peek(), Some('?' | '*' | '+' | '{')) {
            return Err(self.error("stacked quantifiers are not supported"));
        }
        Ok(Node::Repeat { node: Box::new(node), min, max })
    }

    fn number(&mut self) -> Result<u32, PatternError> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();
        match text.parse() {
            Ok(n) if n <= MAX_REPEAT => Ok(n),
            _ => Err(PatternError { at: start, what: "expected a repetition count up to 1000" }),
        }
    }
}

/// Appends the program for `node`, spending one unit of `budget` per node compiled.
fn compile(node: &Node, program: &mut Vec<Inst>, budget: &mut usize) -> Result<(), PatternError> {
    if program.len() > MAX_PROGRAM || *budget == 0 {
        return Err(PatternError { at: 0, what: "pattern too large" });
    }
    *budget -= 1;
    let here = |program: &Vec<Inst>| program.len() as u32;
    match node {
        Node::Digits(set) => program.push(Inst::Digits(*set)),
        Node::Concat(items) => {
            for item in items {
                compile(item, program, budget)?;
            }
        }
        Node::Alternation(branches) => {
            let mut jumps = Vec::new();
            for (i, branch) in branches.iter().enumerate() {
                let split = program.len();
                if i + 1 < branches.len() {
                    program.push(Inst::Split(0, 0));
                }
                compile(branch, program, budget)?;
                if i + 1 < branches.len() {
                    jumps.push(program.len());
                    program.push(Inst::Jump(0));
                    program[split] = Inst::Split(split as u32 + 1, here(program));
                }
            }
            let end = here(program);
            for j in jumps {
                program[j] = Inst::Jump(end);
            }
        }
        Node::Repeat { node, min, max } => {
            for _ in 0..*min {
                compile(node, program, budget)?;
            }
            match max {
                None => {
                    let split = program.len();
                    program.push(Inst::Split(0, 0));
                    compile(node, program, budget)?;
                    program.push(Inst::Jump(split as u32));
                    program[split] = Inst::Split(split as u32 + 1, here(program));
                }
                Some(max) => {
                    // Each optional copy may be skipped to the end of all of them.
                    let mut splits = Vec::new();
                    for _ in *min..*max {
                        splits.push(program.len());
                        program.push(Inst::Split(0, 0));
                        compile(node, program, budget)?;
                    }
                    let end = here(program);
                    for s in splits {
                        program[s] = Inst::Split(s as u32 + 1, end);
                    }
                }
            }
        }
    }
    Ok(())
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
        assert!(DigitPattern::new("(?:(?:(?:(?:){1000}){1000}){1000}){1000}").is_err());
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
