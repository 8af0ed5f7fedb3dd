//! What the libphonenumber metadata (`phonenumber` crate) says about a digit string: is it a valid number of a
//! configured region, in which E.164 form, and was it written the way that region writes its numbers. Used by
//! the phone detector (`phone.rs`), which decides where the candidate digit strings are.
//!
//! The crate parses; everything else is done here, on the metadata's patterns compiled with [`DigitPattern`]
//! (about a microsecond each, where the `regex` crate took tens, so the plans cost little at cold start):
//! - Validity. `phonenumber` 0.3 checks a national number against its country's number patterns as a *prefix*
//!   (`Descriptor::is_match` only asks that the match start at 0), so `+972 90383759616` passes because
//!   `90383759` is an Israeli number. libphonenumber requires the whole number to match, so a number must pass
//!   that check as well as the crate's own ([`crate_valid`], the crate's algorithm on these patterns; a test
//!   compares it with the crate on every territory's example numbers). The crate's validation would look its
//!   patterns up in a shared cache that hashes each pattern's text and recompiles what it evicted.
//! - Speed. Parsing costs tens of microseconds per region, so a candidate is only parsed when one of its
//!   readings (bare, without trunk prefix, without country code) is already a whole valid national number of a
//!   configured region.

use super::digit_pattern::DigitPattern;
use super::phone_metadata::METADATA;
use phonenumber::country::{Id, Source};
use phonenumber::metadata::loader;
use phonenumber::PhoneNumber;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

/// A phone number that validated: its E.164 form and how it was written.
pub(super) struct Valid {
    pub(super) e164: String,
    pub(super) written: Written,
}

/// How a valid number was written, which decides how much the layout alone says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Written {
    /// With an international dialling prefix such as `0044` or `011 44`.
    DiallingPrefix,
    /// Nationally, with the country code as its first digits (`91-415-555-0132` read in India).
    CountryCodeDigits,
    /// Nationally (`020 7946 0958`, `(415) 555-0132`).
    National,
}

/// The numbering plans of the configured regions, in order. Country codes' number patterns and regions' plans
/// are compiled once per process, whichever `NumberingPlans` needs them first (the scrubber's and the field
/// normaliser's share them).
#[derive(Debug)]
pub(crate) struct NumberingPlans {
    regions: Vec<Arc<RegionPlan>>,
}

/// Country code -> the number patterns of its territories, the main territory first, then in metadata order (the
/// order the `phonenumber` crate tries them in); compiled on first use (a `+` number can belong to any country).
static CODES: LazyLock<Mutex<HashMap<u16, Arc<[NumberPatterns]>>>> = LazyLock::new(Mutex::default);

/// Region -> its plan, built on first use (`None`: the metadata does not know the region).
static REGIONS: LazyLock<Mutex<HashMap<Id, Option<Arc<RegionPlan>>>>> = LazyLock::new(Mutex::default);

/// One configured region's facts, read from the metadata once.
#[derive(Debug)]
struct RegionPlan {
    id: Id,
    country_code: String,
    national_prefix: Option<String>,
    /// The international dialling prefix (`00`, `011`, Israel's `01[2-9]`), matched at the start.
    idd: Option<DigitPattern>,
    /// Number patterns of every region sharing the country code (NANP: US, CA and the Caribbean), as the
    /// parser may place a number in any of them.
    numbers: Arc<[NumberPatterns]>,
    /// The national formatting rules, in metadata order.
    formats: Vec<FormatRule>,
}

/// The patterns of one territory's national significant numbers.
#[derive(Debug)]
struct NumberPatterns {
    /// Every possible length, over all number types.
    lengths: Vec<u16>,
    /// The general pattern, and the possible lengths given with it (empty: any).
    general: DigitPattern,
    general_lengths: Vec<u16>,
    /// Per number type (fixed line, mobile, toll free, ...): its possible lengths (empty: any) and pattern.
    types: Vec<(Vec<u16>, DigitPattern)>,
    /// The territory's leading digits, for codes shared by several territories (NANP's Caribbean islands).
    leading: Option<DigitPattern>,
}

/// One national formatting rule: which numbers it applies to, and whether it writes the trunk prefix.
#[derive(Debug)]
struct FormatRule {
    /// The most specific leading-digits pattern (matched at the start), if any.
    leading: Option<DigitPattern>,
    /// The whole-number pattern.
    pattern: DigitPattern,
    /// The rule writes the trunk prefix (`$NP`) and does not mark it optional.
    prefix_required: bool,
}

impl NumberingPlans {
    /// Plans for `regions`; regions the metadata does not know are skipped.
    pub(crate) fn new(regions: Vec<Id>) -> Self {
        Self { regions: regions.into_iter().filter_map(region_plan).collect() }
    }

    /// Validates `digits` (written without `+`) against each region in order; the first region that accepts
    /// them decides the E.164 form.
    pub(super) fn national(&self, digits: &str) -> Option<Valid> {
        for region in self.regions.iter().filter(|r| r.may_accept(digits)) {
            let Some(parsed) = self.parse(Some(region.id), digits) else {
                continue;
            };
            let written = match parsed.code().source() {
                Source::Plus | Source::Idd => Written::DiallingPrefix,
                Source::Number => Written::CountryCodeDigits,
                Source::Default if national_prefix_present_if_required(&parsed, region, digits) => Written::National,
                Source::Default => continue,
            };
            return Some(Valid { e164: e164(&parsed), written });
        }
        None
    }

    /// `+` and `digits` as a valid number: its E.164 form.
    pub(super) fn international(&self, digits: &str) -> Option<String> {
        self.parse(None, &format!("+{digits}")).map(|p| e164(&p))
    }

    /// `+` and `digits` as a number that has a real country code and a national part of a length that country
    /// uses, valid or not (libphonenumber's "possible number"): E.164 form.
    pub(super) fn international_possible(&self, digits: &str) -> Option<String> {
        let parsed = METADATA.parse(None, &format!("+{digits}")).ok()?;
        let nsn_len = u16::try_from(parsed.national().to_string().len()).ok()?;
        patterns_of(parsed.code().value())?.iter().any(|p| p.lengths.contains(&nsn_len)).then(|| e164(&parsed))
    }

    /// Parses and validates, the whole national number against its country's patterns.
    pub(crate) fn parse(&self, region: Option<Id>, digits: &str) -> Option<PhoneNumber> {
        let parsed = METADATA.parse(region, digits).ok()?;
        let nsn = parsed.national().to_string();
        let territories = patterns_of(parsed.code().value())?;
        let valid = territories.iter().any(|p| p.valid(&nsn)) && crate_valid(&territories, &nsn);
        valid.then_some(parsed)
    }
}

/// The compiled number patterns of country code `code`'s territories (main territory first).
fn patterns_of(code: u16) -> Option<Arc<[NumberPatterns]>> {
    // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
    let mut cache = CODES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(p) = cache.get(&code) {
        return Some(Arc::clone(p));
    }
    let territories = METADATA.territories(code)?;
    let (main, rest): (Vec<_>, Vec<_>) = territories.iter().partition(|t| t.main_country_for_code);
    let patterns: Arc<[NumberPatterns]> = main.into_iter().chain(rest).filter_map(NumberPatterns::new).collect();
    cache.insert(code, Arc::clone(&patterns));
    Some(patterns)
}

/// Region `id`'s plan (`None` when the metadata does not know it).
fn region_plan(id: Id) -> Option<Arc<RegionPlan>> {
    let mut cache = REGIONS.lock().unwrap_or_else(PoisonError::into_inner);
    cache.entry(id).or_insert_with(|| RegionPlan::new(id).map(Arc::new)).clone()
}

/// The `phonenumber` crate's validity (`is_valid_with`), on this module's patterns. The number's territory is the
/// only one of its code, or else the first, in order, that either has leading digits that start the number or
/// has no leading digits and a number type for it; the number is valid when it has a number type there. Types,
/// like the crate's, match at the start, at one of the type's lengths; the general pattern at one of its own.
fn crate_valid(territories: &[NumberPatterns], nsn: &str) -> bool {
    let territory = match territories {
        [only] => Some(only),
        _ => territories.iter().find(|t| match &t.leading {
            Some(leading) => leading.is_prefix_match(nsn),
            None => t.has_type(nsn),
        }),
    };
    territory.is_some_and(|t| t.has_type(nsn))
}

impl NumberPatterns {
    fn new(meta: &loader::Metadata) -> Option<Self> {
        let types = [
            &meta.fixed_line,
            &meta.mobile,
            &meta.toll_free,
            &meta.premium_rate,
            &meta.shared_cost,
            &meta.personal_number,
            &meta.voip,
            &meta.pager,
            &meta.uan,
            &meta.voicemail,
        ];
        let general = meta.general.as_ref()?;
        let general_lengths = general.possible_length.clone();
        let mut lengths = general_lengths.clone();
        let mut compiled = Vec::new();
        for t in types.into_iter().flatten() {
            lengths.extend_from_slice(&t.possible_length);
            compiled.push((t.possible_length.clone(), compile(t.national_number.as_deref()?)?));
        }
        lengths.sort_unstable();
        lengths.dedup();
        let leading = match &meta.leading_digits {
            Some(l) => Some(compile(l)?),
            None => None,
        };
        Some(Self {
            lengths,
            general: compile(general.national_number.as_deref()?)?,
            general_lengths,
            types: compiled,
            leading,
        })
    }

    /// The crate's `number_type(..) != Unknown`: the general pattern and one type's pattern match at the start
    /// of `nsn`, each at one of its own lengths.
    fn has_type(&self, nsn: &str) -> bool {
        let len = u16::try_from(nsn.len()).unwrap_or(u16::MAX);
        let length_ok = |lengths: &[u16]| lengths.is_empty() || lengths.contains(&len);
        length_ok(&self.general_lengths)
            && self.general.is_prefix_match(nsn)
            && self.types.iter().any(|(lengths, p)| length_ok(lengths) && p.is_prefix_match(nsn))
    }

    /// libphonenumber's validity: the whole number matches one number type, at one of its lengths.
    fn valid(&self, nsn: &str) -> bool {
        let len = u16::try_from(nsn.len()).unwrap_or(u16::MAX);
        self.general.is_match(nsn)
            && self.types.iter().any(|(lengths, p)| (lengths.is_empty() || lengths.contains(&len)) && p.is_match(nsn))
    }
}

/// Compiles a metadata pattern. The vendored metadata is checked by the tests, so a pattern that does not
/// compile is a defect of the data: that pattern's territory (or rule) is left out rather than failing the mail.
fn compile(pattern: &str) -> Option<DigitPattern> {
    DigitPattern::new(pattern).ok()
}

impl RegionPlan {
    fn new(id: Id) -> Option<Self> {
        let territories = METADATA.territories(METADATA.code_of(id.as_ref())?)?;
        let meta = territories.iter().find(|t| t.id.as_deref() == Some(id.as_ref()))?;
        let numbers = patterns_of(meta.country_code?)?;
        let formats = meta
            .formats
            .iter()
            .filter_map(|f| {
                Some(FormatRule {
                    leading: match f.leading_digits.last() {
                        Some(l) => Some(compile(l)?),
                        None => None,
                    },
                    pattern: compile(f.pattern.as_deref()?)?,
                    prefix_required: !f.national_prefix_optional_when_formatting
                        && f.national_prefix_formatting_rule.as_deref().is_some_and(|rule| rule.contains("$NP")),
                })
            })
            .collect();
        Some(Self {
            id,
            country_code: meta.country_code?.to_string(),
            national_prefix: meta.national_prefix.clone(),
            idd: meta.international_prefix.as_deref().and_then(compile),
            numbers,
            formats,
        })
    }

    /// False when `digits` cannot be a valid number of this region written nationally, whichever way the
    /// parser reads them: with the trunk prefix, with the country code in front, or bare. Digits that start
    /// with the region's international dialling prefix are always worth parsing.
    fn may_accept(&self, digits: &str) -> bool {
        if self.idd.as_ref().is_some_and(|idd| idd.is_prefix_match(digits)) {
            return true;
        }
        let valid = |nsn: &str| self.numbers.iter().any(|p| p.valid(nsn));
        // The parser also takes a country code followed by the trunk prefix (`1 1 480 ...`).
        let with_country_code = digits.strip_prefix(self.country_code.as_str()).is_some_and(|rest| {
            valid(rest) || self.national_prefix.as_deref().and_then(|p| rest.strip_prefix(p)).is_some_and(valid)
        });
        let with_prefix = self.national_prefix.as_deref().and_then(|p| digits.strip_prefix(p)).is_some_and(valid);
        with_country_code || with_prefix || (valid(digits) && !self.requires_prefix(digits))
    }

    /// libphonenumber's formatting rule for the national significant number `nsn` writes the trunk prefix.
    fn requires_prefix(&self, nsn: &str) -> bool {
        self.national_prefix.is_some()
            && self
                .formats
                .iter()
                .find(|f| f.leading.as_ref().is_none_or(|l| l.is_prefix_match(nsn)) && f.pattern.is_match(nsn))
                .is_some_and(|f| f.prefix_required)
    }
}

/// The E.164 form (`+`, country code, national number), as the crate's `Mode::E164` writes it. Written here
/// because the crate's formatter loads its all-territories database even when given another one.
pub(crate) fn e164(number: &PhoneNumber) -> String {
    format!("+{}{}", number.code().value(), number.national())
}

/// libphonenumber's `isNationalPrefixPresentIfRequired`: a number written without country code must start with
/// the region's trunk prefix when the formatting rule for its number range includes the prefix and does not
/// mark it optional (NANP and Indian mobile numbers, for example, are written without one).
fn national_prefix_present_if_required(number: &PhoneNumber, region: &RegionPlan, digits: &str) -> bool {
    let prefix = region.national_prefix.as_deref().unwrap_or("");
    !region.requires_prefix(&number.national().to_string()) || digits.starts_with(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anonymize::detect::DetectorConfig;

    fn plans() -> NumberingPlans {
        NumberingPlans::new(vec![Id::US, Id::GB, Id::DE, Id::IN, Id::IL])
    }

    #[test]
    fn national_numbers_validate_in_the_first_region_that_accepts_them() {
        let v = plans().national("4155550132").unwrap();
        assert_eq!((v.e164.as_str(), v.written), ("+14155550132", Written::National));
        assert_eq!(plans().national("02079460958").unwrap().e164, "+442079460958");
        let idd = plans().national("00442079460958").unwrap();
        assert_eq!((idd.e164.as_str(), idd.written), ("+442079460958", Written::DiallingPrefix));
    }

    #[test]
    fn trunk_prefix_is_required_where_the_format_rules_require_it() {
        assert_eq!(plans().national("030901820").unwrap().e164, "+4930901820");
        // The same Berlin number without its trunk prefix: Germany's plan would take the digits as a national
        // significant number, but Germans never write it that way.
        assert!(plans().national("30901820").is_none());
    }

    #[test]
    fn the_whole_number_must_match_not_just_its_start() {
        // The crate alone accepts this: 90383759 is an Israeli number, and the pattern is only matched as a prefix.
        assert!(phonenumber::parse(Some(Id::IL), "090383759616").is_ok_and(|n| n.is_valid()));
        assert!(plans().national("090383759616").is_none());
        assert!(plans().international("97290383759616").is_none());
        let israel = NumberingPlans::new(vec![Id::IL]);
        assert_eq!(israel.national("097625400").unwrap().e164, "+97297625400");
    }

    #[test]
    fn international_forms() {
        let plans = plans();
        assert_eq!(plans.international("442079460958").as_deref(), Some("+442079460958"));
        // An unassigned NANP exchange (1xx) is possible but not valid.
        assert!(plans.international("19841820190").is_none());
        assert_eq!(plans.international_possible("19841820190").as_deref(), Some("+19841820190"));
        assert!(plans.international_possible("1984182019").is_none());
        assert!(plans.international_possible("99912345678").is_none());
    }

    #[test]
    fn prefilter_never_rejects_what_the_parser_accepts() {
        let plans = NumberingPlans::new(DetectorConfig::default().phone_regions);
        // Pseudo-random digit strings (fixed seed), half of them with a leading 0, 7 to 13 digits long.
        let mut seed: u64 = 0x5eed;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let mut checked = 0;
        for i in 0..1000 {
            let len = 7 + next() % 7;
            let mut digits: String = (0..len).map(|_| char::from(b'0' + (next() % 10) as u8)).collect();
            if i % 2 == 0 {
                digits.replace_range(..1, "0");
            }
            for region in &plans.regions {
                // The crate strips the trunk prefix twice (`00728797266` reads as Australian 07 2879 7266);
                // nobody writes a number that way, and the prefilter does not follow.
                let prefix = region.national_prefix.as_deref().unwrap_or("-");
                if digits.starts_with(&prefix.repeat(2)) {
                    continue;
                }
                let Some(number) = plans.parse(Some(region.id), &digits) else {
                    continue;
                };
                let national = number.code().source() == Source::Default;
                if national && !national_prefix_present_if_required(&number, region, &digits) {
                    continue;
                }
                checked += 1;
                assert!(region.may_accept(&digits), "{digits} in {:?}", region.id);
            }
        }
        assert!(checked > 100, "only {checked} valid numbers drawn");
    }

    #[test]
    fn validity_matches_the_crates_on_every_territorys_examples() {
        let xml = include_str!("../../../data/phonenumber/PhoneNumberMetadata.xml");
        let (mut compared, mut valid) = (0, 0);
        for territory in xml.split("<territory ").skip(1) {
            let Some(code) = territory.split("countryCode=\"").nth(1).and_then(|c| c.split('"').next()) else {
                continue;
            };
            for example in territory.split("<exampleNumber>").skip(1).filter_map(|e| e.split('<').next()) {
                let last = example.len() - 1;
                let changed = (example.as_bytes()[last] - b'0' + 3) % 10;
                // The example, one digit more and one less, and its last digit changed.
                for nsn in
                    [example, &format!("{example}7"), &example[..last], &format!("{}{changed}", &example[..last])]
                {
                    let Ok(number) = phonenumber::parse(None, format!("+{code}{nsn}")) else {
                        continue;
                    };
                    let territories = patterns_of(number.code().value()).expect("a known code");
                    let ours = crate_valid(&territories, &number.national().to_string());
                    assert_eq!(ours, number.is_valid(), "+{code} {nsn}");
                    compared += 1;
                    valid += usize::from(ours);
                }
            }
        }
        assert!(compared > 4000 && valid > 2000, "{compared} compared, {valid} valid");
    }

    #[test]
    fn unknown_regions_are_skipped() {
        let plans = NumberingPlans::new(vec![Id::US]);
        assert!(plans.national("02079460958").is_none());
    }
}
