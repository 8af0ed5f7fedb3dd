//! Phone numbers. A cheap pattern cuts runs of digits and phone punctuation (`+`, spaces, `-`, `.`, `/`,
//! brackets) out of the text; windows of a run's digit groups are then validated with the libphonenumber
//! metadata (`numbering.rs`) - with the country code when one is written (`+44 ...`, `0044 ...`), otherwise
//! against each configured region in turn. This mirrors libphonenumber's own matcher at its default `VALID`
//! leniency, which is also what Presidio uses:
//! - the number must be valid (a real number range of its country), not merely of a possible length;
//! - written nationally, it must carry the trunk prefix where the country's formatting rules require one
//!   (`030 901820` is a Berlin number, `30 901820` is not), which keeps most random digit runs out;
//! - it must not touch letters (`is415-555-0132`; letters of scripts written without spaces, such as `電話`, do not
//!   count); dates and times (`05/12/2023`, `2024-01-15 07:04`),
//!   dotted IPv4 addresses, US ZIP+4 codes, pieces of identifiers (`Apple-Mail-13-196941151`) and numbers
//!   labelled as identifiers (`Order #`, `Lead ID:`) are never phone numbers (`phone_context.rs`).
//!
//! Two fallbacks catch numbers that no configured plan validates but that are clearly meant as phone numbers,
//! with lower confidence: a number written with `+` and a real country code whose length fits that country
//! (unassigned ranges, fake numbers in test data), and a phone-shaped run right after a label such as
//! `Phone:`, `Tel.`, `call me on` or before one such as `(mobile)` (local numbers without area code, numbers
//! of regions that are not configured). Their normalised form is E.164 when the country is known, else the
//! digits as written.
//!
//! An extension written after the number (`x4587`, `ext. 12`) belongs to the hit.

use super::numbering::{NumberingPlans, Written};
use super::phone_context as context;
use super::{char_after, char_before, continued_after, continues_identifier, continues_number};
use super::{follows_number, is_word_char, mark_joins, number_digits, Detection, EntityKind, LISTED_DIGITS};
use phonenumber::country::Id;
use regex::Regex;
use std::sync::LazyLock;

/// A run: optional `+` or `(`, then digits joined by at most three punctuation characters at a time.
const RUN: &str = r"[+(]?[0-9](?:[ \t\u{A0}.\-/()]{0,3}[0-9])*";
/// An extension right after the number.
const EXTENSION: &str = r"^(?i:[ \t]*(?:x|ext\.?|extension)[ \t]*[0-9]{1,6})";
/// Digit counts a written number can have: 7 national digits at least, and at most 15 (E.164) plus an
/// international prefix of up to three digits (`011`).
const MIN_DIGITS: usize = 7;
const MAX_DIGITS: usize = 18;

/// Digits after a valid window, starting no number, for which [`PhoneDetector::split_before_trunk`] looks for two
/// numbers: a subscriber number's worth, more than a year or a postcode has.
const MIN_REST_DIGITS: usize = 6;

/// At most this many digit groups in one number (`+33 1 42 68 53 00` has six); bounds the work on long
/// runs of numbers such as tables.
const MAX_GROUPS: usize = 8;

/// Finds phone numbers.
#[derive(Debug)]
pub(super) struct PhoneDetector {
    plans: NumberingPlans,
    patterns: &'static Patterns,
}

/// The constant patterns: compiled once per process.
#[derive(Debug)]
struct Patterns {
    run: Regex,
    extension: Regex,
}

static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| {
    let re = |p| Regex::new(p).expect("phone pattern compiles");
    Patterns { run: re(RUN), extension: re(EXTENSION) }
});

/// Compiles the constant patterns now (see [`super::warm_up`]).
pub(super) fn warm_up() {
    LazyLock::force(&PATTERNS);
}

/// What the first number of a run belongs to (see `PhoneDetector::belongs_before`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum PartOf {
    /// A number before it: `14:30`, `12,5`.
    Number,
    /// An identifier or a word: `AB12`, `K-12`, `Order 302-4567890`.
    Identifier,
}

/// A digit group inside a run: byte offsets into the text.
#[derive(Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
}

impl PhoneDetector {
    pub(super) fn new(regions: Vec<Id>) -> Self {
        Self { plans: NumberingPlans::new(regions), patterns: &PATTERNS }
    }

    pub(super) fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for m in self.patterns.run.find_iter(text) {
            let mut start = m.start();
            if let Some(part_of) = self.belongs_before(text, start) {
                // The run's first number belongs to what stands before it; a number after a space may still be a
                // phone: `ab 14:30 0151 23456789`, `Order 302-4567890 0151 23456789`. After an identifier, only
                // one written with a trunk prefix, `+` or inner punctuation (`415-555-0132`): identifiers have
                // spaces too (`Ticket #01684 934 072 247`).
                let next = next_number(text, start, m.end())
                    .filter(|&n| part_of == PartOf::Number || looks_dialled(&text[n..m.end()]));
                match next {
                    Some(next) => start = next,
                    None => continue,
                }
            }
            let before = out.len();
            self.find_in_run(text, start, m.end(), out);
            // After a label, a run is a phone number even where no plan validates it, or only a later part of it
            // (`Phone: 467 3395 / 467 3396`): then the labelled hit must hold every hit found, and wins the overlap.
            // Not when only its end is left (`Mobil: 0151 23456789 18-20 Uhr`).
            let found = &out[before..];
            if found.is_empty() || !covers_start(text, start, m.end(), found) {
                if let Some(d) = self.labelled(text, start, m.end()) {
                    if found.iter().all(|f| d.start <= f.start && f.end <= d.end) {
                        out.push(d);
                    }
                }
            }
        }
    }

    /// What the number starting at byte `start` is part of, if it belongs to what stands before it: the decimals
    /// or minutes of a number, or an identifier (glued to a word or a currency sign, a piece of a code, a value
    /// labelled as one).
    fn belongs_before(&self, text: &str, start: usize) -> Option<PartOf> {
        // An opening bracket sets the number apart even when a word comes right before it: `Tel(415) ...`.
        let bracketed = text.as_bytes()[start] == b'(';
        let glued_before =
            !bracketed && char_before(text, start).is_some_and(|c| is_word_char(c) || "#$€£¥@".contains(c));
        if follows_number(text, start) || context::follows_time(text, start) {
            Some(PartOf::Number)
        } else if glued_before || continues_identifier(text, start) || context::identifier(text, start) {
            Some(PartOf::Identifier)
        } else {
            None
        }
    }

    /// Tries windows of consecutive digit groups, longest first from the left; a window may only start or end
    /// where the run has whitespace, so a number is never cut out of the middle of a dash-joined token - or at a
    /// slash or `.` between two whole numbers, so that numbers joined by one (`415-555-0132/415-555-0199`) are
    /// found ([`may_end_at`]). A valid number may also end at a `-` that a number of seven digits or more follows
    /// (`415-555-0132-415-555-0199`, `0151 23456789-0171 2345678`), and the next window starts there.
    ///
    /// A window that took the first groups of a number written with a trunk prefix after its first group,
    /// leaving that number's rest where no number starts, is widened over that number: `PLZ 80331 0151 23456789`
    /// is one hit (the phone `0151 23456789`), not `80331 0151` and a rest in clear text
    /// ([`Self::prefixed_inside`]).
    fn find_in_run(&self, text: &str, start: usize, end: usize, out: &mut Vec<Detection>) {
        let groups = digit_groups(text, start, end);
        let mut first = 0;
        let mut ended_at_dash = false;
        while first < groups.len() {
            let mut taken = self.widest_valid(text, start, &groups, first, ended_at_dash);
            if let Some((last, d)) = &mut taken {
                if let Some((wider, number)) = self.prefixed_inside(text, start, &groups, first, *last, d) {
                    (*last, *d) = (wider, number);
                } else if let Some((shorter, number)) = self.split_before_trunk(text, start, &groups, first, *last) {
                    (*last, *d) = (shorter, number);
                }
            }
            ended_at_dash = taken.as_ref().is_some_and(|(last, _)| ends_at_dash(text, &groups, *last));
            first = match taken {
                Some((last, d)) => {
                    out.push(d);
                    last + 1
                }
                None => first + 1,
            };
        }
    }

    /// The widest valid window starting at group `first` (`after_dash`: the window before ended at a bare dash
    /// right before it), as (last group, detection); none where no number may start or none is valid.
    fn widest_valid(
        &self,
        text: &str,
        start: usize,
        groups: &[Group],
        first: usize,
        after_dash: bool,
    ) -> Option<(usize, Detection)> {
        if !(first == 0 || after_dash || may_start_at(text, groups[first - 1], groups[first])) {
            return None;
        }
        let from = if first == 0 { start } else { opening_bracket(text, groups[first - 1], groups[first]) };
        for last in (first..first + widest(text, &groups[first..], true)).rev() {
            let at_run_end = last + 1 == groups.len();
            let at_dash = !at_run_end && dash_ends(text, &groups[first..=last + 1]);
            if !at_run_end && !at_dash && !may_end_at(text, groups[last], groups[last + 1]) {
                continue;
            }
            if let Some(d) = self.window(text, from, groups[last].end) {
                return Some((last, d));
            }
        }
        // A written country code is never dropped to read the rest as another country's number.
        if first == 0 && text[start..].starts_with('+') {
            return self.possible_international(text, start, groups).map(|(d, last)| (last, d));
        }
        None
    }

    /// For the window `first..=last` (hit `window`), when no number starts right after `last` but a number
    /// written with a trunk prefix (`0151`) starts at its second group and reaches past `last` across spaces (or
    /// a bare `/` or `.`): the window took that number's first groups and would leave the rest in clear text
    /// (`PLZ 80331 0151 23456789`, `PLZ 80331 06 12 34 56 78`). Read instead as one hit over both, the later
    /// number, so nothing the window covered is uncovered. Not from a later group (`020 7946 0958 2024`: `0958
    /// 2024` is no number there; `0171 234 0567 4111 ...`: the card after it) nor for a number without a trunk
    /// prefix (`612 345 678 28001`). The cost: `612 045 678 28001` is one hit read as `045 678 28001` (nothing in
    /// clear text, but the pseudonym is not the phone's).
    fn prefixed_inside(
        &self,
        text: &str,
        start: usize,
        groups: &[Group],
        first: usize,
        last: usize,
        window: &Detection,
    ) -> Option<(usize, Detection)> {
        // A spaced slash or dash may list another number (`078 05 1123 / 219 09 9998`).
        let joins =
            |gap: &str| matches!(gap, "/" | ".") || (!gap.is_empty() && gap.bytes().all(|b| b == b' ' || b == b'\t'));
        if last + 1 >= groups.len()
            || !joins(&text[groups[last].end..groups[last + 1].start])
            || self.widest_valid(text, start, groups, last + 1, false).is_some()
        {
            return None;
        }
        let second = first + 1;
        if last < second || text.as_bytes()[groups[second].start] != b'0' {
            return None;
        }
        let (wider, number) = self.widest_valid(text, start, groups, second, false).filter(|(l, _)| *l > last)?;
        Some((wider, Detection { start: window.start, ..number }))
    }

    /// For the window `first..=last`, when the groups after it start no number and hold a subscriber number's
    /// worth of digits ([`MIN_REST_DIGITS`]: they would stay in clear text) but a number written with a trunk prefix starts at one of the window's later groups and takes every
    /// group to the end of the run, and the groups before that one are a valid number too: two numbers written
    /// with a space between, the window having taken the second one's first group (`Tel 089 1234567 0151
    /// 23456789` read `089 1234567 0151`, leaving `23456789`). Returns the shorter window, as (last group,
    /// detection); the next window then starts at the second number. Never when the groups after the window are a
    /// number of their own, nor when the second number would end inside the run (`0171 234 0567 4111 1111 1111
    /// 1111`: a phone and a card, not `0171 234` and `0567 4111 1111 1111`), nor for a shorter rest such as a year
    /// or a postcode (`020 7946 0958 2024` stays one phone and a year, not `020 7946` and `0958 2024`).
    fn split_before_trunk(
        &self,
        text: &str,
        start: usize,
        groups: &[Group],
        first: usize,
        last: usize,
    ) -> Option<(usize, Detection)> {
        let spaced = |left: Group, right: Group| {
            let gap = &text[left.end..right.start];
            !gap.is_empty() && gap.bytes().all(|b| b == b' ' || b == b'\t')
        };
        // Counted up to the minimum only: a long run of numbers costs no more than a short one.
        let rest_reaches_minimum = |from: usize| {
            let mut digits = groups[from..].iter().map(|g| g.end - g.start);
            digits.try_fold(0, |sum, n| if sum + n >= MIN_REST_DIGITS { None } else { Some(sum + n) }).is_none()
        };
        if last + 1 >= groups.len()
            || !spaced(groups[last], groups[last + 1])
            || !rest_reaches_minimum(last + 1)
            || self.widest_valid(text, start, groups, last + 1, false).is_some()
        {
            return None;
        }
        let from = if first == 0 { start } else { opening_bracket(text, groups[first - 1], groups[first]) };
        (first + 1..=last).rev().find_map(|k| {
            if text.as_bytes()[groups[k].start] != b'0' || !spaced(groups[k - 1], groups[k]) {
                return None;
            }
            self.widest_valid(text, start, groups, k, false).filter(|(l, _)| *l + 1 == groups.len())?;
            self.window(text, from, groups[k - 1].end).map(|d| (k - 1, d))
        })
    }

    /// The detection for `text[from..to]` (plus any extension), if it is a valid phone number.
    fn window(&self, text: &str, from: usize, to: usize) -> Option<Detection> {
        let from = past_unclosed_bracket(text, from, to);
        let (raw, end) = self.shape(text, from, to)?;
        let international = raw.starts_with('+');
        let digits = dialled_digits(raw);
        let (normalized, confidence) = if international {
            let e164 = self.plans.international(&digits)?;
            (e164, 0.9)
        } else {
            let valid = self.plans.national(&digits)?;
            let formatted = raw.len() != digits.len();
            let confidence = match valid.written {
                Written::DiallingPrefix => 0.85,
                Written::National if formatted => 0.75,
                Written::National | Written::CountryCodeDigits => 0.6,
            };
            (valid.e164, confidence)
        };
        Some(detection(from, end, confidence, normalized))
    }

    /// The widest window of a `+` run that no plan validates but whose country code is real and whose length
    /// fits that country, and the index of its last group. Narrower windows are tried when the widest does not
    /// fit, as for valid numbers: `+972 50 123 4567 2024` is the number and a year.
    fn possible_international(&self, text: &str, start: usize, groups: &[Group]) -> Option<(Detection, usize)> {
        (0..widest(text, groups, true))
            .rev()
            .filter(|&l| l + 1 == groups.len() || may_end_at(text, groups[l], groups[l + 1]))
            .find_map(|last| {
                let (raw, end) = self.shape(text, start, groups[last].end)?;
                let e164 = self.plans.international_possible(&dialled_digits(raw))?;
                Some((detection(start, end, 0.5, e164), last))
            })
    }

    /// A run that validated nowhere, taken as a phone number anyway when a phone label stands right before or
    /// after it.
    fn labelled(&self, text: &str, start: usize, run_end: usize) -> Option<Detection> {
        let groups = digit_groups(text, start, run_end);
        let last = widest_window(text, &groups, false)?;
        let hit_start = past_unclosed_bracket(text, start, groups[last].end);
        let (raw, end) = self.shape(text, hit_start, groups[last].end)?;
        // The label stands before the bracket: `Phone: (467 3395)`.
        let labelled = context::labelled(text, start, end);
        let digits = dialled_digits(raw);
        let normalized = if raw.starts_with('+') { format!("+{digits}") } else { digits };
        labelled.then(|| detection(hit_start, end, 0.5, normalized))
    }

    /// `text[from..to]` if it has a phone number's shape - digit count, not a date or decimal, clean
    /// boundaries - and the end of the hit including any extension.
    fn shape<'t>(&self, text: &'t str, from: usize, to: usize) -> Option<(&'t str, usize)> {
        let raw = &text[from..to];
        let digit_count = raw.bytes().filter(u8::is_ascii_digit).count();
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&digit_count)
            || context::contains_date(raw)
            || context::contains_ipv4(raw)
            || context::is_zip_plus_four(raw)
            || context::is_decimal(raw)
        {
            return None;
        }
        let mut end = to;
        if let Some(ext) = self.patterns.extension.find(&text[to..]) {
            end += ext.end();
        }
        let glued = char_after(text, end).is_some_and(|c| is_word_char(c) || c == '%');
        if glued || continues_number(text, end) || continued_after(text, end) {
            return None;
        }
        Some((raw, end))
    }
}

fn detection(start: usize, end: usize, confidence: f32, normalized: String) -> Detection {
    Detection { kind: EntityKind::Phone, start, end, confidence, normalized }
}

/// True when a bare `-` follows group `last` of a run.
fn ends_at_dash(text: &str, groups: &[Group], last: usize) -> bool {
    last + 1 < groups.len() && &text[groups[last].end..groups[last + 1].start] == "-"
}

/// The digits to dial: `+41 (0)44 ...` drops the bracketed trunk prefix, which is not dialled after a
/// country code.
fn dialled_digits(raw: &str) -> String {
    let raw = if raw.starts_with('+') { raw.replacen("(0)", "", 1) } else { raw.to_string() };
    raw.chars().filter(char::is_ascii_digit).collect()
}

/// How many groups from the first can form one number: at most `MAX_GROUPS` and `MAX_DIGITS`, and, when
/// `stop_at_lists`, not past a slash or spaced dash between two whole numbers (seven digits or more each, not
/// counting a written international prefix: [`prefix_digits`]), which lists them
/// (`06 12 34 56 78 / 01 42 68 53 00`, `078 05 1123 - 219 09 9998`; but
/// `0171 / 123 45 67`, `0171 - 123 45 67`, `089 123456/123457` and `0049 171 / 1234567` are one number each: a
/// written country code or international prefix does not count towards a whole number).
fn widest(text: &str, groups: &[Group], stop_at_lists: bool) -> usize {
    let whole = LISTED_DIGITS + groups.first().map_or(0, |&first| prefix_digits(text, first));
    let mut digits = 0;
    let mut count = 0;
    for (k, group) in groups.iter().take(MAX_GROUPS).enumerate() {
        digits += group.end - group.start;
        if digits > MAX_DIGITS {
            break;
        }
        count = k + 1;
        if stop_at_lists && digits >= whole && groups.get(k + 1).is_some_and(|&next| lists(text, *group, next)) {
            break;
        }
    }
    count
}

/// True when the gap between two groups is a slash or spaced dash before a whole number (seven digits or more):
/// a list separator, once the number before it is whole too.
fn lists(text: &str, group: Group, next: Group) -> bool {
    let gap = &text[group.end..next.start];
    (gap.contains('/') || (gap.contains('-') && has_space(gap)))
        && number_digits(text[next.start..].chars()) >= LISTED_DIGITS
}

/// The last group of the widest window from the run start that ends where a number may end; with `stop_at_lists`
/// false, across lists: a labelled hit covers all their numbers (`Phone: 467 3395 / 467 3396`).
fn widest_window(text: &str, groups: &[Group], stop_at_lists: bool) -> Option<usize> {
    (0..widest(text, groups, stop_at_lists))
        .rev()
        .find(|&l| l + 1 == groups.len() || may_end_at(text, groups[l], groups[l + 1]))
}

/// The digit groups of the run `text[start..end]`.
fn digit_groups(text: &str, start: usize, end: usize) -> Vec<Group> {
    let bytes = text.as_bytes();
    let mut groups = Vec::new();
    let mut i = start;
    while i < end {
        if bytes[i].is_ascii_digit() {
            let s = i;
            while i < end && bytes[i].is_ascii_digit() {
                i += 1;
            }
            groups.push(Group { start: s, end: i });
        } else {
            i += 1;
        }
    }
    groups
}

/// True when a number may end between two groups: the punctuation between them has whitespace, or a slash or a
/// `.` between two whole numbers (`415-555-0132/415-555-0199`, `415-555-0132.415-555-0199`; not in
/// `15/05/2024`, `2024051512/1` or `4155550132/2024`).
fn may_end_at(text: &str, left: Group, right: Group) -> bool {
    let gap = &text[left.end..right.start];
    has_space(gap) || (gap.contains('/') && lists_two(text, left, right)) || (gap == "." && !mark_joins(text, left.end))
}

/// True when a number may start between two groups: where it may end ([`may_end_at`]).
fn may_start_at(text: &str, left: Group, right: Group) -> bool {
    may_end_at(text, left, right)
}

/// Digits of a written international prefix at the start of the window that starts with `first`: `+` and a
/// country code (counted as 3), or `00` and one (4). They do not count towards a whole number.
fn prefix_digits(text: &str, first: Group) -> usize {
    if text[..first.start].ends_with('+') {
        3
    } else if text[first.start..].starts_with("00") {
        4
    } else {
        0
    }
}

/// True when a window of all but the last of `groups` may end at the bare `-` before the last: the window has
/// seven digits or more, not counting a written international prefix, and the number after the dash is another
/// phone number as written - seven digits or more with spaces or dashes (`415-555-0132-415-555-0199`,
/// `0151 23456789-0171 2345678`), or ten or more (`4155550132-4155550199`); not the last block of an order number
/// (`302-4567890-1234567`).
fn dash_ends(text: &str, groups: &[Group]) -> bool {
    let [window @ .., last, next] = groups else { return false };
    let first = window.first().unwrap_or(last);
    let window_digits: usize = window.iter().chain([last]).map(|g| g.end - g.start).sum();
    let after: String =
        text[next.start..].chars().take(40).take_while(|c| c.is_ascii_digit() || *c == ' ' || *c == '-').collect();
    let after = after.trim_end_matches([' ', '-']);
    let after_digits = after.bytes().filter(u8::is_ascii_digit).count();
    let formatted = after.contains([' ', '-']);
    &text[last.end..next.start] == "-"
        && window_digits >= LISTED_DIGITS + prefix_digits(text, *first)
        && (after_digits >= 10 || (formatted && after_digits >= LISTED_DIGITS))
}

/// True when the number at the start of `rest` is written like a phone number rather than a group of an
/// identifier: with a trunk prefix or `+`, in brackets, or with punctuation inside its first token.
fn looks_dialled(rest: &str) -> bool {
    let token = &rest[..rest.find([' ', '\t', '\u{A0}']).unwrap_or(rest.len())];
    rest.starts_with(['0', '+', '('])
        || token.trim_end_matches(|c: char| !c.is_ascii_digit()).contains(['-', '.', '/', ')'])
}

/// Where the next number of the run `text[start..end]` starts: after the first whitespace, at its first digit
/// or at a `(` right before it (a run has no `+` inside); none when the run has no whitespace.
fn next_number(text: &str, start: usize, end: usize) -> Option<usize> {
    let run = &text[start..end];
    let space = run.find([' ', '\t', '\u{A0}'])?;
    let digit = space + run[space..].find(|c: char| c.is_ascii_digit())?;
    Some(start + if run[..digit].ends_with('(') { digit - 1 } else { digit })
}

/// True when the numbers around the gap between two groups have seven digits or more each.
fn lists_two(text: &str, left: Group, right: Group) -> bool {
    number_digits(text[..left.end].chars().rev()) >= LISTED_DIGITS
        && number_digits(text[right.start..].chars()) >= LISTED_DIGITS
}

/// True when the punctuation `gap` has whitespace.
fn has_space(gap: &str) -> bool {
    gap.contains([' ', '\t', '\u{A0}'])
}

/// `from`, or one past it when `text[from..to]` opens a bracket that it does not close: `(415-555-0132)` is the
/// number `415-555-0132`, while `(415) 555-0132` keeps its area code's brackets.
fn past_unclosed_bracket(text: &str, from: usize, to: usize) -> usize {
    let raw = &text[from..to];
    if raw.starts_with('(') && !raw.contains(')') {
        from + 1
    } else {
        from
    }
}

/// True when the hits `found` cover the first digit group of the run `text[start..end]`.
fn covers_start(text: &str, start: usize, end: usize, found: &[Detection]) -> bool {
    let first = digit_groups(text, start, end).into_iter().next();
    first.is_none_or(|g| found.iter().any(|d| d.start <= g.start && d.end >= g.end))
}

/// Where a window starting at `right` begins: at a `(` written just before the group, else the group.
fn opening_bracket(text: &str, left: Group, right: Group) -> usize {
    let gap = &text[left.end..right.start];
    let tail = gap.trim_start_matches([' ', '\t', '\u{A0}']);
    if tail.starts_with('(') && !tail[1..].contains(['(', ')']) {
        right.start - tail.len()
    } else {
        right.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anonymize::detect::DetectorConfig;

    fn detector() -> PhoneDetector {
        PhoneDetector::new(DetectorConfig::default().phone_regions)
    }

    fn found(text: &str) -> Vec<(&str, String, f32)> {
        let mut out = Vec::new();
        detector().find(text, &mut out);
        out.into_iter().map(|d| (&text[d.start..d.end], d.normalized, d.confidence)).collect()
    }

    fn spans(text: &str) -> Vec<&str> {
        found(text).into_iter().map(|(s, _, _)| s).collect()
    }

    #[test]
    fn national_and_international_numbers() {
        let text = "My US number is (415) 555-0132, and my international one is +1 415 555 0132";
        let hits: Vec<(&str, String)> = found(text).into_iter().map(|(s, n, _)| (s, n)).collect();
        assert_eq!(
            hits,
            [("(415) 555-0132", "+14155550132".to_string()), ("+1 415 555 0132", "+14155550132".to_string())]
        );
        assert_eq!(spans("Tel. 020 7946 0958"), ["020 7946 0958"]);
        assert_eq!(spans("Brazil: +55 11 98456 5666"), ["+55 11 98456 5666"]);
        assert_eq!(spans("+44 (20) 7123 4567"), ["+44 (20) 7123 4567"]);
        assert_eq!(spans("+41 (0)44 668 18 00"), ["+41 (0)44 668 18 00"]);
        assert_eq!(spans("My Israeli number is 09-7625400"), ["09-7625400"]);
        assert_eq!(spans("Mobil: 0151 23456789"), ["0151 23456789"]);
        assert_eq!(spans("appelez le 01 42 68 53 00."), ["01 42 68 53 00"]);
    }

    #[test]
    fn confidence_follows_the_evidence() {
        assert_eq!(found("+1 415 555 0132")[0].2, 0.9);
        assert_eq!(found("(415) 555-0132")[0].2, 0.75);
        assert_eq!(found("4155550132")[0].2, 0.6);
        assert_eq!(found("0044 20 7946 0958")[0].1, "+442079460958");
    }

    #[test]
    fn extension_belongs_to_the_number() {
        assert_eq!(spans("Fax: 212-555-0199x4587."), ["212-555-0199x4587"]);
        assert_eq!(spans("(212) 555-0199 ext. 12"), ["(212) 555-0199 ext. 12"]);
    }

    #[test]
    fn numbers_in_a_list_are_found_separately() {
        assert_eq!(spans("Dalla's Pizza | 3843 Peartree Road, Bamblee, SD 20241 440-600-5124"), ["440-600-5124"]);
    }

    #[test]
    fn trunk_prefix_is_required_where_the_plan_requires_it() {
        assert_eq!(found("030 901820")[0].1, "+4930901820");
        assert!(spans("30 901820").is_empty());
        assert!(spans("ref 79460958").is_empty());
    }

    #[test]
    fn plus_numbers_of_a_possible_length_are_kept_with_low_confidence() {
        // NANP exchanges never start with 1, so this is not a valid number - but it is written as one.
        assert_eq!(found("Desk: +1-903-140-4508"), [("+1-903-140-4508", "+19031404508".to_string(), 0.5)]);
        assert!(spans("+999 1234 5678").is_empty());
        // The country code is kept even when the rest alone would be a valid French number.
        assert_eq!(spans("Desk: +41 (0)96 471 07 95"), ["+41 (0)96 471 07 95"]);
    }

    #[test]
    fn labelled_runs_are_numbers_even_when_no_plan_validates_them() {
        assert_eq!(found("Phone:\n467 3395"), [("467 3395", "4673395".to_string(), 0.5)]);
        assert_eq!(spans("Can someone call me on 9472 7916? Thanks"), ["9472 7916"]);
        assert_eq!(spans("781 1704 (mobile)"), ["781 1704"]);
        assert_eq!(spans("Tel.: 72 128 827"), ["72 128 827"]);
        // Without a label the same digits are not a number, and a label does not make a date one.
        assert!(spans("They sent 467 3395 units").is_empty());
        assert!(spans("Phone: 2024-01-15").is_empty());
        assert!(spans("Hotel 467 3395").is_empty());
    }

    #[test]
    fn rejects_dates_times_prices_and_glued_numbers() {
        for text in [
            "My US number is415-555-0132",
            "on 05/12/2023 at noon",
            "2024-01-15",
            "15.01.2024",
            "When: 1992-11-12 07:04:41",
            "Price: $4155550132",
            "Order #4155550132",
            "v4155550132",
            "4155550132.25",
            "12",
            "555-0142",
            "ISBN 978-3-16-148410-0",
            "3.14159265358",
            "SpamAssassin 3.2.5 (2008-06-10) on",
            "boundary=Apple-Mail-13-196941151",
            "Lead ID: 4155550132",
            "Order no. 4155550132",
            "cid:823504223@17052000",
            "from mail.example (80.12.242.127)",
            "Beaverton, OR 97225-2668",
        ] {
            assert!(spans(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn a_number_before_the_phone_does_not_hide_it() {
        // Session 12: the run's first number belongs to a time, an identifier or a word, and the whole run was
        // skipped; or it formed a valid number with the phone's first group and left the rest in clear text.
        for (text, phone) in [
            ("ab 14:30 0151 23456789", "0151 23456789"),
            ("call at 2:30 415-555-0132", "415-555-0132"),
            ("ab 14:30 (0151) 23456789", "(0151) 23456789"),
            ("Order 302-4567890 0151 23456789", "0151 23456789"),
            ("Order #302-4567890 0151 23456789", "0151 23456789"),
            ("Lead ID: 4711 0151 23456789", "0151 23456789"),
            ("Ref AB12 0151 23456789", "0151 23456789"),
            ("Kunde K-12 +49 151 23456789", "+49 151 23456789"),
            ("PLZ 80331 0151 23456789", "80331 0151 23456789"),
            ("PLZ 80331 415 555 0132", "415 555 0132"),
            ("Kunde 12345 (030) 12345678", "(030) 12345678"),
            ("Order 302-4567890 415-555-0132", "415-555-0132"),
            ("Lead ID: 4711 (415) 555-0132", "(415) 555-0132"),
        ] {
            assert_eq!(spans(text), [phone], "{text}");
        }
        // What stands before stays out, a run that is all identifier is still no phone, and after an identifier
        // only a number written with a trunk prefix or `+` is read (from the review).
        for text in [
            "Order 302-4567890",
            "Lead ID: 4711 0815",
            "ab 14:30 Uhr",
            "Ref AB12-0151-23456789",
            "Ticket #01684 934 072 247",
            "K-12 3456 7890 1234",
        ] {
            assert!(spans(text).is_empty(), "{text}: {:?}", spans(text));
        }
        // A number without a trunk prefix keeps its first group when a number follows it (from the review).
        for (text, phone) in [
            ("Ana García\t612 345 678\t28001\tMadrid", "612 345 678"),
            ("Mario Rossi\t333 123 4567\t2024", "333 123 4567"),
            ("joignable au 612 345 678 75008 Paris", "612 345 678"),
            ("Rückruf unter 050 123 4567 18 20 Uhr", "050 123 4567"),
            ("030 901820 / 4111 1111 1111 1111", "030 901820"),
            // From the fourth review: a number's last group starting with 0 before a card stays with the number.
            ("0171 234 0567 4111 1111 1111 1111", "0171 234 0567"),
            // From the second review: a later group starting with 0 is no trunk prefix inside a wider number.
            ("020 7946 0958 2024", "020 7946 0958"),
            ("Mario Rossi\t333 123 0567\t2024", "333 123 0567"),
            ("212 555 0100 2024", "212 555 0100"),
            ("+49 151 2345 0789 80331 München", "+49 151 2345 0789"),
            ("+33 6 12 34 05 78 75008 Paris", "+33 6 12 34 05 78"),
        ] {
            assert_eq!(spans(text).join("|"), phone, "{text}");
        }
        assert_eq!(spans("0151 23456789 0171 2345678"), ["0151 23456789", "0171 2345678"]);
        // Session 15: two numbers with a space between, the first window taking the second one's first group.
        assert_eq!(spans("Tel 089 1234567 0151 23456789"), ["089 1234567", "0151 23456789"]);
        assert_eq!(spans("Tel. 030 901820 0171 2345678"), ["030 901820", "0171 2345678"]);
        // A `+` number no plan validates, then a year: the narrower window whose length fits.
        assert_eq!(spans("ruf an +972 50 123 4567 2024"), ["+972 50 123 4567"]);
        // The cost: an identifier with spaces whose later groups form a number with a trunk prefix.
        assert_eq!(spans("Bestellnummer 2024 0815 4711"), ["0815 4711"]);
        assert_eq!(spans("Kundennummer 38171 058 3513"), ["058 3513"]);
        // And a number whose second group starts with 0 takes a number after it along (nothing in clear text).
        assert_eq!(spans("Ana García\t612 045 678\t28001\tMadrid"), ["612 045 678\t28001"]);
        assert_eq!(spans("PLZ 80331 06 12 34 56 78"), ["80331 06 12 34 56 78"]);
    }

    #[test]
    fn brackets_and_slashes_around_numbers() {
        // Found in session 11: these went through in clear text (a word before the bracket glued the number to
        // it; two slash-joined numbers made one over-long run).
        assert_eq!(spans("Tel(415-555-0132)"), ["415-555-0132"]);
        assert_eq!(spans("Tel(415) 555-0132"), ["(415) 555-0132"]);
        assert_eq!(spans("(415-555-0132)"), ["415-555-0132"], "an unclosed bracket is not part of the number");
        assert_eq!(spans("415-555-0132/415-555-0199"), ["415-555-0132", "415-555-0199"]);
        assert_eq!(spans("Tel: 415.555.0132/415.555.0199"), ["415.555.0132", "415.555.0199"]);
        // A slash inside one number keeps it whole.
        assert_eq!(spans("0151/23456789"), ["0151/23456789"]);
        assert_eq!(spans("089 123456/123457"), ["089 123456/123457"]);
        // From the third review: three numbers, and references with a slash suffix.
        assert_eq!(spans("415-555-0132/415-555-0199/415-555-0100"), ["415-555-0132", "415-555-0199", "415-555-0100"]);
        for text in ["Bestellung 2024051512/1", "Rechnungsnr. 4155550132/2024"] {
            assert!(spans(text).is_empty(), "{text}");
        }
        // From the fourth review: a labelled list, numbers with spaces joined by a dash, a written prefix.
        // (The whole list is one hit; the part a plan validates loses the overlap to it.)
        assert!(spans("Phone: 467 3395 / 467 3396").contains(&"467 3395 / 467 3396"));
        // From the sixth review: a labelled hit never cuts a valid number, nor takes what follows a number.
        assert_eq!(spans("Tel: 467 3395 / 0151 23456789"), ["0151 23456789"]);
        for text in ["Mobil: 0151 23456789 18-20 Uhr", "Mobil 0151 23456789 2 mal"] {
            assert_eq!(spans(text), ["0151 23456789"], "{text}");
        }
        assert_eq!(spans("0151 23456789-0171 2345678"), ["0151 23456789", "0171 2345678"]);
        assert_eq!(spans("4155550132-4155550199"), ["4155550132", "4155550199"]);
        assert_eq!(spans("415-555-0132-415-555-0199"), ["415-555-0132", "415-555-0199"]);
        assert_eq!(spans("020-7946-0958-020-7946-0959"), ["020-7946-0958", "020-7946-0959"]);
        assert_eq!(spans("0049-151-23456789"), ["0049-151-23456789"]);
        assert_eq!(spans("+1-415-555-0132"), ["+1-415-555-0132"]);
        assert_eq!(spans("0049 171 / 1234567"), ["0049 171 / 1234567"]);
        assert!(spans("ISBN 978-3-16-148410-0").is_empty());
        // From the fifth review.
        assert_eq!(spans("(030) 901820 / (030) 901821"), ["(030) 901820", "(030) 901821"]);
        assert_eq!(spans("Tel: 030 / 901820 - 0171 / 1234567"), ["030 / 901820", "0171 / 1234567"]);
        assert_eq!(spans("0151 23456789 0171 / 2345678"), ["0151 23456789", "0171 / 2345678"]);
        for text in ["Bestellnr. 302-4567890-1234567", "028-1234567-1234567"] {
            assert!(spans(text).is_empty(), "{text}");
        }
        assert_eq!(spans("030/901820"), ["030/901820"]);
        // A path or identifier after the slash still ends nothing there.
        assert!(spans("0.91.2/5229/Mon").is_empty());
        assert!(spans("v2/4155550132").is_empty());
        // From the review: a slash inside a date or a reference is no place to start a number.
        assert_eq!(spans("Rückruf 15/05/2024 0151 23456789"), ["0151 23456789"]);
        assert_eq!(spans("Rückruf 15/05/2024 07700 900123"), ["07700 900123"]);
        assert_eq!(spans("am 15/05/2024 415-555-0132"), ["415-555-0132"]);
        for text in ["Anreise 15/05/2023 2 Erwachsene", "15/05/2023 14 Uhr", "Vorgang 2024/08912345"] {
            assert!(spans(text).is_empty(), "{text}");
        }
        // A label before the bracket of a number no plan validates.
        assert_eq!(spans("Phone: (467 3395)"), ["467 3395"]);
        assert_eq!(spans("call me on (9472 7916)"), ["9472 7916"]);
    }

    #[test]
    fn regions_not_configured_need_a_country_code() {
        assert!(spans("My CN number is 13812345678").is_empty());
        assert_eq!(spans("+86 138 1234 5678"), ["+86 138 1234 5678"]);
        assert_eq!(spans("+81 90-1234-5678"), ["+81 90-1234-5678"]);
    }
}
