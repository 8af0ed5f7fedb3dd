//! Pattern detectors for PII hiding in free text: the first half of the free-text scrubber. A [`Detector`] is
//! built once from a [`DetectorConfig`] (its regexes are compiled in [`Detector::new`]; only the number patterns
//! of countries met in `+CC` phone numbers are compiled on first use, and cached) and then finds e-mail
//! addresses, phone numbers, payment cards, IBANs, IP addresses, US social security numbers and URLs in each mail's
//! comment and message fields. It returns [`Detection`]s - byte ranges with a kind, a confidence and a normalised
//! value - and knows nothing about what happens to them: the scrubber turns them into pseudonyms or masks.
//!
//! Every detector works the same way: a cheap, linear-time candidate pattern (`regex` crate), explicit boundary
//! checks (a hit never starts or ends inside a longer word or number), then a validator that knows the format
//! (`phonenumber` metadata, Luhn, ISO 13616 mod-97, `std::net`, SSA ranges). Offsets are byte offsets that always
//! fall on UTF-8 character boundaries; no input makes a detector panic. Overlapping hits are resolved in
//! `overlap.rs`. How well this works on real test cases is measured by `shared/tests/pii_eval.rs`
//! (`docs/pii-eval.md`).

mod card;
pub(crate) mod digit_pattern;
pub(crate) mod digits;
mod email;
mod iban;
mod ip;
mod labels;
pub(crate) mod numbering;
mod overlap;
mod phone;
mod phone_context;
pub(crate) mod phone_metadata;
mod spelled_email;
mod ssn;
mod url;

use phonenumber::country::Id;
use std::sync::LazyLock;

/// Kinds of PII the pattern detectors find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityKind {
    /// An e-mail address.
    Email,
    /// A phone number: valid in its country's numbering plan, or phone-shaped and labelled as a phone number.
    Phone,
    /// A payment card number (Luhn-valid, 12 to 19 digits).
    PaymentCard,
    /// An international bank account number (ISO 13616).
    Iban,
    /// An IPv4 or IPv6 address, optionally with a zone or prefix length.
    Ip,
    /// A US social security number.
    UsSsn,
    /// A web or FTP address.
    Url,
}

impl EntityKind {
    /// Every kind, in declaration order (also the final tie-break of overlap resolution).
    pub const ALL: [EntityKind; 7] =
        [Self::Email, Self::Phone, Self::PaymentCard, Self::Iban, Self::Ip, Self::UsSsn, Self::Url];

    /// The name used in tokens, reports and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::PaymentCard => "payment_card",
            Self::Iban => "iban",
            Self::Ip => "ip",
            Self::UsSsn => "us_ssn",
            Self::Url => "url",
        }
    }
}

/// One hit in a text: byte range, kind, confidence 0..=1, and a normalised form of the value (used to compute a
/// pseudonym: lowercased email, E.164 phone, card digits only, IBAN uppercase without spaces, canonical IP text,
/// SSN digits only, URL as found).
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// What was found.
    pub kind: EntityKind,
    /// Byte offset of the first byte (on a character boundary).
    pub start: usize,
    /// Byte offset one past the last byte (on a character boundary).
    pub end: usize,
    /// How sure the detector is, 0..=1: validated and well-formatted values score high, bare digit runs low.
    pub confidence: f32,
    /// The value in canonical form, so that the same value written differently gets the same pseudonym.
    pub normalized: String,
}

impl Detection {
    /// Length of the span in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// True for an empty span (never produced by the detectors).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// Detector settings.
#[derive(Debug, Clone)]
pub struct DetectorConfig {
    /// Regions whose national numbering plans are tried, in order, for phone numbers written without a country
    /// code. The first region that validates a number also decides its E.164 form. Numbers written with `+CC`
    /// (or an international dialling prefix) validate on their own, whatever this list holds.
    pub phone_regions: Vec<Id>,
    /// Enabled kinds; the others are never reported.
    pub kinds: Vec<EntityKind>,
}

impl Default for DetectorConfig {
    /// All kinds, and the phone regions leadpipe's lead sources come from: North America (US, CA), the UK and
    /// the large EU markets (DE, FR, ES, IT, NL), Australia, and India and Israel where partner call centres and
    /// agencies sit. Every extra region makes more digit runs look like valid national numbers (Germany and
    /// Italy already accept many lengths), so the list is kept to where leads really come from.
    fn default() -> Self {
        Self {
            phone_regions: vec![Id::US, Id::GB, Id::DE, Id::FR, Id::ES, Id::IT, Id::NL, Id::CA, Id::AU, Id::IN, Id::IL],
            kinds: EntityKind::ALL.to_vec(),
        }
    }
}

/// Compiled detectors; build once, use for every mail; Send + Sync.
#[derive(Debug)]
pub struct Detector {
    kinds: Vec<EntityKind>,
    email: &'static email::EmailDetector,
    phone: phone::PhoneDetector,
    card: &'static card::CardDetector,
    iban: &'static iban::IbanDetector,
    ip: &'static ip::IpDetector,
    ssn: &'static ssn::SsnDetector,
    url: &'static url::UrlDetector,
}

// The detectors whose patterns are constants: compiled once per process, on first use or by `warm_up`.
static EMAIL: LazyLock<email::EmailDetector> = LazyLock::new(email::EmailDetector::new);
static CARD: LazyLock<card::CardDetector> = LazyLock::new(card::CardDetector::new);
static IBAN: LazyLock<iban::IbanDetector> = LazyLock::new(iban::IbanDetector::new);
static IP: LazyLock<ip::IpDetector> = LazyLock::new(ip::IpDetector::new);
static SSN: LazyLock<ssn::SsnDetector> = LazyLock::new(ssn::SsnDetector::new);
static URL: LazyLock<url::UrlDetector> = LazyLock::new(url::UrlDetector::new);

/// Compiles every constant pattern and the default phone regions' plans (the usual configuration; other regions
/// compile when a `Detector` asks for them), so that [`Detector::new`] finds them ready. A function calls it on a
/// thread of its own at cold start, where the compiling overlaps with fetching its configuration; calling it is
/// never required.
pub fn warm_up() {
    drop(numbering::NumberingPlans::new(DetectorConfig::default().phone_regions));
    LazyLock::force(&EMAIL);
    LazyLock::force(&CARD);
    LazyLock::force(&IBAN);
    LazyLock::force(&IP);
    LazyLock::force(&SSN);
    LazyLock::force(&URL);
    phone::warm_up();
    LazyLock::force(&phone_metadata::METADATA);
}

impl Detector {
    /// Builds the detectors: the configured regions' phone plans, and the constant patterns (compiled on the
    /// first call in a process, unless [`warm_up`] did it). The patterns are constants, so this cannot fail.
    pub fn new(config: DetectorConfig) -> Self {
        let mut kinds = config.kinds;
        kinds.sort();
        kinds.dedup();
        Self {
            kinds,
            email: &EMAIL,
            phone: phone::PhoneDetector::new(config.phone_regions),
            card: &CARD,
            iban: &IBAN,
            ip: &IP,
            ssn: &SSN,
            url: &URL,
        }
    }

    /// Non-overlapping detections sorted by start; overlaps resolved deterministically: longest span first, then
    /// highest confidence, then kind order ([`EntityKind::ALL`]).
    /// Digits of other scripts (`٠٥٠`, `０３`) are read as ASCII digits.
    pub fn detect(&self, text: &str) -> Vec<Detection> {
        let Some(folded) = digits::Folded::of(text) else {
            return self.detect_ascii_digits(text);
        };
        let mut found = self.detect_ascii_digits(&folded.text);
        for d in &mut found {
            d.start = folded.original(d.start);
            d.end = folded.original(d.end);
            // Addresses keep their own digits (the same value in a field gets the same pseudonym), but not the
            // invisible characters pasted into them.
            match d.kind {
                EntityKind::Email => d.normalized = digits::visible(&text[d.start..d.end]).to_lowercase(),
                EntityKind::Url => d.normalized = digits::visible(&text[d.start..d.end]),
                _ => {}
            }
        }
        found
    }

    /// [`Self::detect`] on a text whose decimal digits are all ASCII.
    fn detect_ascii_digits(&self, text: &str) -> Vec<Detection> {
        let mut found = Vec::new();
        for kind in &self.kinds {
            match kind {
                EntityKind::Email => self.email.find(text, &mut found),
                EntityKind::Phone => self.phone.find(text, &mut found),
                EntityKind::PaymentCard => self.card.find(text, &mut found),
                EntityKind::Iban => self.iban.find(text, &mut found),
                EntityKind::Ip => self.ip.find(text, &mut found),
                EntityKind::UsSsn => self.ssn.find(text, &mut found),
                EntityKind::Url => self.url.find(text, &mut found),
            }
        }
        overlap::resolve(text, found)
    }
}

/// The character just before byte offset `i` (a character boundary), if any.
fn char_before(text: &str, i: usize) -> Option<char> {
    text.get(..i).and_then(|s| s.chars().next_back())
}

/// The character starting at byte offset `i` (a character boundary), if any.
fn char_after(text: &str, i: usize) -> Option<char> {
    text.get(i..).and_then(|s| s.chars().next())
}

/// Letters, digits and `_`: a hit must not start or end next to one, or it would cut a word in half. Letters
/// of scripts written without spaces between words (Chinese, Japanese, Thai, ...) and Hangul, whose particles
/// attach to the word before them, do not count: `電話090-1234-5678まで` and `010-1234-5678로` hold numbers.
fn is_word_char(c: char) -> bool {
    (c.is_alphanumeric() && !is_unspaced_letter(c)) || c == '_'
}

/// True for letters of scripts whose words are not set apart by spaces: Han, kana, Hangul, Thai, Lao, Khmer,
/// Myanmar.
fn is_unspaced_letter(c: char) -> bool {
    matches!(c,
        '\u{0E00}'..='\u{0EFF}'     // Thai, Lao
        | '\u{1000}'..='\u{109F}'   // Myanmar
        | '\u{1100}'..='\u{11FF}'   // Hangul Jamo
        | '\u{1780}'..='\u{17FF}'   // Khmer
        | '\u{3005}'..='\u{3007}'   // 々 〆 〇
        | '\u{3040}'..='\u{30FF}'   // Hiragana, Katakana
        | '\u{3130}'..='\u{318F}'   // Hangul compatibility Jamo
        | '\u{31F0}'..='\u{31FF}'   // Katakana phonetic extensions
        | '\u{3400}'..='\u{4DBF}'   // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'   // CJK unified ideographs
        | '\u{AC00}'..='\u{D7AF}'   // Hangul syllables
        | '\u{F900}'..='\u{FAFF}'   // CJK compatibility ideographs
        | '\u{FF66}'..='\u{FF9F}'   // halfwidth Katakana
        | '\u{FFA0}'..='\u{FFDC}'   // halfwidth Hangul
        | '\u{20000}'..='\u{3FFFF}' // CJK extensions B and later
    )
}

/// True when `text[i..]` starts with a `.` or `,` that joins the number ending at `i` to more digits, as in `1.5`
/// or `12,30` ([`mark_joins`]): the number continues there, and is a longer number than the one just read.
fn continues_number(text: &str, i: usize) -> bool {
    let rest = text.get(i..).unwrap_or("");
    rest.starts_with(['.', ',']) && rest[1..].starts_with(|c: char| c.is_ascii_digit()) && mark_joins(text, i)
}

/// Digits a number must have, on both sides of a `.` or `,`, for the mark to list two numbers.
const LISTED_DIGITS: usize = 7;

/// Whether the `.` or `,` at byte `at`, between digits, joins one number - a decimal or thousands mark - rather
/// than separating two numbers or fields.
///
/// A mark looks like a decimal or thousands mark when one to three digits follow it and no `-`, `/`, `(` or
/// further group follows those (`12,30`, `1,234,567`, `4155550132.25`, `1,234.56`; not `42,415 555 0132`). Two
/// numbers are listed when both have seven digits or more (digits with `-./()` and spaces between them:
/// `415-555-0132,415-555-0199`, `020 7946 0958,020 7946 0959`).
/// - A `,` after `0` joins (`0,4532015112830366`). After a number written as no amount is - with `-/()`, or with
///   spaced or dotted groups other than thousands (`0151 23456789,42`, `415-555-0132,12`) - it separates (CSV
///   fields). Otherwise it joins when it looks like a mark and lists nothing.
/// - A `.` joins when it looks like a mark or lists nothing: `0.4532015112830366` is a fraction, not a card.
fn mark_joins(text: &str, at: usize) -> bool {
    let after = &text[at + 1..];
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &after[digits..];
    // More groups of a number written with spaces or dots: `42,415 555 0132`, `42,415.555.0132` (not `1,234.56`).
    let more_groups = match rest.as_bytes() {
        [b' ', d, ..] => d.is_ascii_digit(),
        [b'.', tail @ ..] => {
            let group = tail.iter().take_while(|b| b.is_ascii_digit()).count();
            group >= 3 && tail.get(group) == Some(&b'.')
        }
        _ => false,
    };
    let looks_like_mark = (1..=3).contains(&digits) && !rest.starts_with(['-', '/', '(']) && !more_groups;
    let lists =
        number_digits(text[..at].chars().rev()) >= LISTED_DIGITS && number_digits(after.chars()) >= LISTED_DIGITS;
    if text.as_bytes()[at] == b',' {
        let before = number_before(&text[..at]);
        before == "0" || (is_amount(before) && looks_like_mark && !lists)
    } else {
        looks_like_mark || !lists
    }
}

/// The number that `head` ends with: digits, `-./()` and spaces, from its first digit (`(0` is `0`).
fn number_before(head: &str) -> &str {
    let start = head
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_ascii_digit() || "-./() ".contains(c))
        .last()
        .map_or(head.len(), |(i, _)| i);
    head[start..].trim_start_matches(|c: char| !c.is_ascii_digit())
}

/// Whether `number` is written as an amount can be: plain digits (at most eleven, no card, no leading zero:
/// `0301234567` is a phone number), or groups of three after the first, set apart by spaces or dots
/// (`1 250 000`, `1.234.567`).
fn is_amount(number: &str) -> bool {
    let mut groups = number.split([' ', '.']);
    let first = groups.next().unwrap_or("");
    let plain = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = first.len() > 1 && first.starts_with('0');
    plain(first) && first.len() <= 11 && !leading_zero && groups.all(|g| plain(g) && g.len() == 3)
}

/// Digits in the number that `chars` starts with (within 48 characters): digits, `-`, `.`, `/`, `(`, `)` and spaces, up to anything else.
fn number_digits(chars: impl Iterator<Item = char>) -> usize {
    chars
        .take(48)
        .take_while(|&c| c.is_ascii_digit() || matches!(c, '-' | '.' | '/' | '(' | ')' | ' '))
        .filter(char::is_ascii_digit)
        .count()
}

/// True when the number starting at byte `i` continues an identifier: `Mail-13-196941151`, `ID_4155550132`,
/// `v2/4155550132`, `Mail-6--589811753`.
fn continues_identifier(text: &str, i: usize) -> bool {
    let mut before = text.get(..i).unwrap_or("").chars().rev();
    matches!(before.next(), Some('-' | '_' | '/'))
        && before.next().is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

/// True when what follows the number ending at byte `i` makes it part of something else: an identifier or
/// address (`823504223@host`, `.../5229/Mon`) or a time (`07:04`).
fn continued_after(text: &str, i: usize) -> bool {
    let mut after = text.get(i..).unwrap_or("").chars();
    match (after.next(), after.next()) {
        (Some('@'), _) => true,
        // A path goes on after a slash (`/5229/Mon`); another number or a number's suffix ends there
        // (`415-555-0132/415-555-0199`, `089 123456/123457`).
        (Some('/'), Some(c)) if c.is_alphanumeric() => {
            let rest = &text[i + 1..];
            let number = rest.find(|c: char| !(c.is_ascii_digit() || "-.()".contains(c))).unwrap_or(rest.len());
            let after = &rest[number..];
            number == 0
                || after.starts_with(|c: char| c.is_alphanumeric() || c == '_')
                || (after.starts_with('/') && !after[1..].starts_with(|c: char| c.is_ascii_digit()))
        }
        (Some('_'), Some(c)) => c.is_alphanumeric(),
        (Some(':'), Some(c)) => c.is_ascii_digit(),
        _ => false,
    }
}

/// True when the number starting at byte `i` is glued to a preceding number, as the `5` in `4.5` (see
/// [`mark_joins`]).
fn follows_number(text: &str, i: usize) -> bool {
    let mut before = text.get(..i).unwrap_or("").chars().rev();
    matches!(before.next(), Some('.' | ','))
        && before.next().is_some_and(|c| c.is_ascii_digit())
        && mark_joins(text, i - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(EntityKind, &str)> {
        Detector::new(DetectorConfig::default())
            .detect(text)
            .into_iter()
            .map(|d| (d.kind, &text[d.start..d.end]))
            .collect()
    }

    #[test]
    fn a_phone_whose_window_took_a_cards_first_group_keeps_the_rest() {
        // From the third review of session 12: the card wins the overlap, the phone's own digits stay covered.
        assert_eq!(
            kinds("+49 30 901820 4111 1111 1111 1111"),
            [(EntityKind::Phone, "+49 30 901820"), (EntityKind::PaymentCard, "4111 1111 1111 1111")]
        );
    }

    #[test]
    fn finds_every_kind_in_one_message() {
        let text = "Hi, I'm jane.doe@example.org, call +44 20 7946 0958 or (415) 555-0132. Card 4111 1111 1111 \
                    1111, IBAN DE89 3704 0044 0532 0130 00, SSN 078-05-1123, from 203.0.113.7 via \
                    https://example.com/lead?id=42.";
        assert_eq!(
            kinds(text),
            vec![
                (EntityKind::Email, "jane.doe@example.org"),
                (EntityKind::Phone, "+44 20 7946 0958"),
                (EntityKind::Phone, "(415) 555-0132"),
                (EntityKind::PaymentCard, "4111 1111 1111 1111"),
                (EntityKind::Iban, "DE89 3704 0044 0532 0130 00"),
                (EntityKind::UsSsn, "078-05-1123"),
                (EntityKind::Ip, "203.0.113.7"),
                (EntityKind::Url, "https://example.com/lead?id=42"),
            ]
        );
    }

    #[test]
    fn digits_of_other_scripts_are_read_as_digits() {
        // The same message in Eastern Arabic-Indic (phone, card, SSN) and fullwidth (IP) digits: the same hits,
        // as spans of the original text. Before, these went through in clear text.
        let text = "Hi, I'm jane.doe٤٢@example.org, call +٤٤ ٢٠ ٧٩٤٦ ٠٩٥٨. Card ٤١١١ ١١١١ ١١١١ ١١١١, \
                    SSN ٠٧٨-٠٥-١١٢٣, from ２０３.０.１１３.７.";
        assert_eq!(
            kinds(text),
            vec![
                (EntityKind::Email, "jane.doe٤٢@example.org"),
                (EntityKind::Phone, "+٤٤ ٢٠ ٧٩٤٦ ٠٩٥٨"),
                (EntityKind::PaymentCard, "٤١١١ ١١١١ ١١١١ ١١١١"),
                (EntityKind::UsSsn, "٠٧٨-٠٥-١١٢٣"),
                (EntityKind::Ip, "２０３.０.１１３.７"),
            ]
        );
        let detector = Detector::new(DetectorConfig::default());
        let found = detector.detect(text);
        assert_eq!(found[0].normalized, "jane.doe٤٢@example.org", "an address keeps its own digits");
        assert_eq!(found[1].normalized, "+442079460958");
        // Nine digits of which only some are ASCII: this panicked (an SSN read from the ASCII digits alone).
        for mixed in ["ID ١٢٣٤٥٦٧٨9 thanks", "ID 1٢3٤5٦7٨9", "ref ١٢٣-45-6789"] {
            detector.detect(mixed);
        }
    }

    #[test]
    fn fullwidth_forms_are_read_as_ascii() {
        // An input method left in fullwidth mode: the address and the link went through in clear text, and
        // `．` alone hid an address unless the text also had a digit of another script.
        let text =
            "mail ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ or jane@example．org, see ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ／ｌｅａｄ";
        assert_eq!(
            kinds(text),
            vec![
                (EntityKind::Email, "ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
                (EntityKind::Email, "jane@example．org"),
                (EntityKind::Url, "ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ／ｌｅａｄ"),
            ]
        );
    }

    #[test]
    fn invisible_characters_and_middle_dots_do_not_hide_a_number_or_an_address() {
        // Pasted from web pages and word processors: each of these went through in clear text.
        let text = "Tel 415\u{200B}555\u{200B}0132 or 415·555·0132, mail jane\u{200D}@exam\u{AD}ple.com, \
                    card 4111\u{2060}1111\u{2060}1111\u{2060}1111, 03・1234・5678, ssn 536\u{FEFF}22\u{FEFF}1234";
        assert_eq!(
            kinds(text),
            vec![
                (EntityKind::Phone, "415\u{200B}555\u{200B}0132"),
                (EntityKind::Phone, "415·555·0132"),
                (EntityKind::Email, "jane\u{200D}@exam\u{AD}ple.com"),
                (EntityKind::PaymentCard, "4111\u{2060}1111\u{2060}1111\u{2060}1111"),
                (EntityKind::Phone, "03・1234・5678"),
                (EntityKind::UsSsn, "536\u{FEFF}22\u{FEFF}1234"),
            ]
        );
        let found = Detector::new(DetectorConfig::default()).detect(text);
        assert_eq!(found[0].normalized, "+14155550132");
        assert_eq!(found[2].normalized, "jane@example.com", "the same pseudonym as the address typed plainly");
        // A joiner inside words of other scripts and emoji stays, and hides nothing.
        assert_eq!(kinds("می‌خواهم 👨\u{200D}👩 ok"), vec![]);
        // A middle dot in a decimal is not a phone number.
        assert_eq!(kinds("Preis 12·5 EUR, 3·4 Zimmer"), vec![]);
        // Between a word and a number, or between two numbers, an invisible character parts them, as it did before
        // it was folded (found by a review: deleting it glued them, and glued numbers are dropped).
        assert_eq!(
            kinds("Tel\u{200B}4155550132 Card\u{2060}4111111111111111 SSN\u{200B}536-22-1234 4155550132\u{200B}4155550199"),
            vec![
                (EntityKind::Phone, "4155550132"),
                (EntityKind::PaymentCard, "4111111111111111"),
                (EntityKind::UsSsn, "536-22-1234"),
                (EntityKind::Phone, "4155550132"),
                (EntityKind::Phone, "4155550199"),
            ]
        );
        assert_eq!(kinds("PLZ 10115·030 1234567"), vec![(EntityKind::Phone, "030 1234567")]);
    }

    #[test]
    fn fullwidth_punctuation_next_to_a_number_does_not_hide_it() {
        // Folded to ASCII, these would glue the number or the address to its neighbour, and glued hits are dropped.
        assert_eq!(kinds("Card／4111 1111 1111 1111"), vec![(EntityKind::PaymentCard, "4111 1111 1111 1111")]);
        assert_eq!(kinds("Tel／415-555-0132"), vec![(EntityKind::Phone, "415-555-0132")]);
        assert_eq!(
            kinds("415-555-0132，415-555-0199"),
            vec![(EntityKind::Phone, "415-555-0132"), (EntityKind::Phone, "415-555-0199")]
        );
        assert_eq!(kinds("jane@example.com－x"), vec![(EntityKind::Email, "jane@example.com")]);
        assert_eq!(kinds("山田太郎様のご連絡先／yamada@example.jp"), vec![(EntityKind::Email, "yamada@example.jp")]);
        // Found by a second review of the fold: found before folding, dropped by the first fix (`．` glued the
        // address to `明日10`).
        assert_eq!(kinds("jane@example.com．明日10時"), vec![(EntityKind::Email, "jane@example.com")]);
        // Fullwidth-typed addresses with a digit or an underscore are found whole.
        let whole = "ｊａｎｅ＿ｄｏｅ＠ｍａｉｌ２．ｅｘａｍｐｌｅ．ｃｏｍ";
        assert_eq!(kinds(whole), vec![(EntityKind::Email, whole)]);
        let whole = "ｔａｒｏ．１９８０＠ｅｘａｍｐｌｅ．ｊｐ";
        assert_eq!(kinds(whole), vec![(EntityKind::Email, whole)]);
    }

    #[test]
    fn numbers_in_scripts_without_spaces_are_not_glued_to_words() {
        // Found in session 11: CJK and Thai words run into the number, and Korean particles follow it; these
        // were read as parts of words and went through in clear text.
        assert_eq!(kinds("電話090-1234-5678まで"), vec![(EntityKind::Phone, "090-1234-5678")]);
        assert_eq!(kinds("010-1234-5678로 연락주세요"), vec![(EntityKind::Phone, "010-1234-5678")]);
        assert_eq!(kinds("โทร0812345678ครับ"), vec![(EntityKind::Phone, "0812345678")]);
        assert_eq!(kinds("カード4111111111111111です"), vec![(EntityKind::PaymentCard, "4111111111111111")]);
        assert_eq!(kinds("口座DE89370400440532013000へ"), vec![(EntityKind::Iban, "DE89370400440532013000")]);
        assert_eq!(kinds("番号078-05-1123です"), vec![(EntityKind::UsSsn, "078-05-1123")]);
        // Latin letters still glue.
        assert!(kinds("ref4111111111111111x").is_empty());
        assert!(kinds("is415-555-0132").is_empty());
    }

    #[test]
    fn unicode_dashes_and_spaces_inside_numbers() {
        // Found in session 11: numbers written with the dashes and spaces of word processors and web pages went
        // through in clear text (the detectors' patterns have ASCII punctuation).
        for (text, kind) in [
            ("415\u{2011}555\u{2011}0132", EntityKind::Phone), // non-breaking hyphens
            ("415\u{2013}555\u{2013}0132", EntityKind::Phone), // en dashes
            ("415\u{2012}555\u{2012}0132", EntityKind::Phone), // figure dashes
            ("06\u{202F}12\u{202F}34\u{202F}56\u{202F}78", EntityKind::Phone), // narrow no-break spaces
            ("4111\u{A0}1111\u{A0}1111\u{A0}1111", EntityKind::PaymentCard),
            ("4111\u{2009}1111\u{2009}1111\u{2009}1111", EntityKind::PaymentCard),
            ("078\u{2010}05\u{2010}1123", EntityKind::UsSsn),
            ("DE89\u{A0}3704\u{A0}0044\u{A0}0532\u{A0}0130\u{A0}00", EntityKind::Iban),
            ("GB29\u{A0}NWBK\u{A0}6016\u{A0}1331\u{A0}9268\u{A0}19", EntityKind::Iban), // letters at the group edges
            ("0151\u{3000}23456789", EntityKind::Phone),                                // ideographic space
        ] {
            assert_eq!(kinds(&format!("Tel. {text}, thanks")), vec![(kind, text)], "{text}");
        }
        // Two whole numbers joined by a dash stay two numbers; a range of years is no number.
        assert_eq!(
            kinds("4155550132\u{2013}4155550199"),
            vec![(EntityKind::Phone, "4155550132"), (EntityKind::Phone, "4155550199")]
        );
        assert!(kinds("2010\u{2013}2015, 10 \u{2013} 12 Uhr").is_empty());
        // A spaced dash separates (sixth review): the number after a time, a price or an order number is found.
        for text in
            ["ab 14:30 \u{2013} 0151 23456789", "Order 4711 \u{2013} 0151 23456789", "49,90 \u{2013} 0151 23456789"]
        {
            assert_eq!(kinds(text), vec![(EntityKind::Phone, "0151 23456789")], "{text}");
        }
    }

    #[test]
    fn numbers_listed_with_commas_are_found_one_by_one() {
        // Both numbers of each list went through in clear text: the comma was read as a decimal mark.
        assert_eq!(
            kinds("415-555-0132,415-555-0199"),
            vec![(EntityKind::Phone, "415-555-0132"), (EntityKind::Phone, "415-555-0199")]
        );
        assert_eq!(
            kinds("0151 23456789,0151 23456790"),
            vec![(EntityKind::Phone, "0151 23456789"), (EntityKind::Phone, "0151 23456790")]
        );
        assert_eq!(
            kinds("4111111111111111,4111111111111111"),
            vec![(EntityKind::PaymentCard, "4111111111111111"), (EntityKind::PaymentCard, "4111111111111111")]
        );
        assert_eq!(
            kinds("078-05-1123,078-05-1124"),
            vec![(EntityKind::UsSsn, "078-05-1123"), (EntityKind::UsSsn, "078-05-1124")]
        );
        // The whole labelled list is one hit (fifth review).
        assert_eq!(kinds("Phone: 467 3395 / 467 3396"), vec![(EntityKind::Phone, "467 3395 / 467 3396")]);
        assert_eq!(
            kinds("0151 23456789 \u{2013} 0171 2345678"),
            vec![(EntityKind::Phone, "0151 23456789"), (EntityKind::Phone, "0171 2345678")]
        );
        // From the second review: fields of a CSV line, next to short fields.
        assert_eq!(kinds("Max Mustermann,0151 23456789,10115,Berlin"), vec![(EntityKind::Phone, "0151 23456789")]);
        assert_eq!(kinds("Alter 42,0151 23456789"), vec![(EntityKind::Phone, "0151 23456789")]);
        assert_eq!(kinds("4111111111111111,12/26,123"), vec![(EntityKind::PaymentCard, "4111111111111111")]);
        assert_eq!(kinds("078-05-1123,1985"), vec![(EntityKind::UsSsn, "078-05-1123")]);
        // A dash between two whole numbers, and a dot, list them too.
        for list in ["415-555-0132\u{2013}415-555-0199", "415-555-0132.415-555-0199"] {
            assert_eq!(
                kinds(list),
                vec![(EntityKind::Phone, "415-555-0132"), (EntityKind::Phone, "415-555-0199")],
                "{list}"
            );
        }
        assert_eq!(
            kinds("078-05-1123\u{2013}078-05-1124"),
            vec![(EntityKind::UsSsn, "078-05-1123"), (EntityKind::UsSsn, "078-05-1124")]
        );
        // From the first review: numbers with spaces or dots.
        for (list, first, second) in [
            ("020 7946 0958,020 7946 0959", "020 7946 0958", "020 7946 0959"),
            ("01 42 68 53 00,01 42 68 53 01", "01 42 68 53 00", "01 42 68 53 01"),
            ("415.555.0132,415.555.0199", "415.555.0132", "415.555.0199"),
        ] {
            assert_eq!(kinds(list), vec![(EntityKind::Phone, first), (EntityKind::Phone, second)], "{list}");
        }
        assert_eq!(
            kinds("078 05 1123,078 05 1124"),
            vec![(EntityKind::UsSsn, "078 05 1123"), (EntityKind::UsSsn, "078 05 1124")]
        );
        // From the third review: a short field after the number.
        assert_eq!(kinds("Max,0151 23456789,42,Berlin"), vec![(EntityKind::Phone, "0151 23456789")]);
        assert_eq!(kinds("078-05-1123,42"), vec![(EntityKind::UsSsn, "078-05-1123")]);
        // Decimal and thousands marks still join one number, which is then no phone, card or SSN
        // (`0.4532015112830366` is a fraction, though its digits pass as a card).
        for text in [
            "4155550132,25",
            "Preis 4155550132.50 EUR",
            "1,234,567",
            "12,30 4155550",
            "4,155,550,132",
            "0.4532015112830366",
            "0,4532015112830366",
            "Faktor (0,4532015112830366)",
            "ca. 0,4532015112830366",
            "(4155550132,25)",
            "Preis: 1.234.567,89 EUR",
            "1 250 000,00 EUR",
        ] {
            assert!(kinds(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn marks_between_numbers() {
        assert!(mark_joins("4155550132,25", 10) && mark_joins("1,234,567", 1) && mark_joins("0.4532015112830366", 1));
        assert!(!mark_joins("415-555-0132,415-555-0199", 12) && !mark_joins("0151 23456789,0151 2345678", 13));
        assert!(!mark_joins("0151 23456789,10115", 13) && !mark_joins("415-555-0132.415-555-0199", 12));
        assert!(
            follows_number("12,30", 3)
                && !follows_number("0151 2345678,0151 2345678", 13)
                && !follows_number("a,30", 2)
        );
        assert!(
            continues_number("12,30", 2)
                && !continues_number("12,", 2)
                && !continues_number("415-555-0132,415-555-0199", 12)
        );
    }

    #[test]
    fn disabled_kinds_are_not_reported() {
        let detector = Detector::new(DetectorConfig { kinds: vec![EntityKind::Email], ..DetectorConfig::default() });
        let found = detector.detect("a@b.com 4111 1111 1111 1111");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, EntityKind::Email);
    }

    #[test]
    fn offsets_are_char_boundaries_in_unicode_text() {
        let text = "Grüße — Jürgen, jürgen@müller.de, ☎ +49 30 901820 ✓ 4111111111111111€";
        for d in Detector::new(DetectorConfig::default()).detect(text) {
            assert!(text.is_char_boundary(d.start) && text.is_char_boundary(d.end));
            assert!(d.start < d.end && d.end <= text.len());
        }
        let found = kinds(text);
        assert!(found.contains(&(EntityKind::Email, "jürgen@müller.de")));
        assert!(found.contains(&(EntityKind::Phone, "+49 30 901820")));
    }

    #[test]
    fn never_panics_on_awkward_input() {
        let detector = Detector::new(DetectorConfig::default());
        let pieces = [
            "", "+", "(", ")", "0", "1", "9", ":", "::", ".", "-", " ", "/", "x", "@", "é", "€", "\u{200b}", "http://",
            "www.", "DE89", "%eth0", "[", "]", "ext.", "\n", "\t", "a", "Z", "1.2", "ff", "#",
        ];
        // Every 3-piece combination of awkward fragments, each around a digit run, plus long runs of each.
        for a in &pieces {
            for b in &pieces {
                for c in &pieces {
                    detector.detect(&format!("{a}{b}{c}"));
                    detector.detect(&format!("{a}4155550132{b}{c}"));
                }
            }
            detector.detect(&a.repeat(500));
        }
        detector.detect(&"1 ".repeat(2000));
        detector.detect(&"+1-".repeat(2000));
        detector.detect(&"::1".repeat(2000));
    }

    #[test]
    fn identifier_and_address_neighbours() {
        assert!(continues_identifier("Apple-Mail-13-196941151", 11));
        assert!(continues_identifier("Apple-Mail-6--589811753", 13));
        assert!(!continues_identifier("Tel: 0151", 5));
        assert!(continued_after("823504223@17052000", 9));
        assert!(continued_after("0.91.2/5229/Mon", 11));
        assert!(continued_after("07:04", 2));
        assert!(!continued_after("555-0132: ok", 8));
    }

    #[test]
    fn detector_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Detector>();
    }
}
