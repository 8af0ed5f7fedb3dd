//! What the libphonenumber metadata (`phonenumber` crate) says about a digit string: is it a valid number of a
//! configured region, in which E.164 form, and was it written the way that region writes its numbers. Used by
//! the phone detector (`phone.rs`), which decides where the candidate digit strings are.
//!
//! Two things are done here rather than left to the crate:
//! - Validity. `phonenumber` 0.3 checks a national number against its country's number patterns as a *prefix*
//!   (`Descriptor::is_match` only asks that the match start at 0), so `+972 90383759616` passes because
//!   `90383759` is an Israeli number. libphonenumber requires the whole number to match; this module re-checks
//!   that with the same patterns, anchored.
//! - Speed. Parsing costs tens of microseconds per region (the crate compiles its patterns into a small shared
//!   cache that thrashes when several regions are in play), so each configured region's number patterns and
//!   formatting rules are compiled here once, and a candidate is only parsed when one of its readings (bare,
//!   without trunk prefix, without country code) is already a whole valid national number. The patterns are
//!   read from the metadata's text and compiled with [`DigitPattern`] (about a microsecond each, where the
//!   `regex` crate took tens), so building the plans costs little at cold start, and the crate's own database
//!   of a country code is only built when a number of that code is parsed.

use super::digit_pattern::DigitPattern;
use super::phone_metadata::{Parsed, METADATA};
use phonenumber::country::{Id, Source};
use phonenumber::metadata::loader;
use phonenumber::PhoneNumber;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

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

/// The numbering plans of the configured regions, in order, and the number patterns of every region met so far.
#[derive(Debug)]
pub(crate) struct NumberingPlans {
    regions: Vec<RegionPlan>,
    /// Region id -> its number patterns, compiled on first use (a `+` number can belong to any country).
    patterns: Mutex<HashMap<String, Arc<NumberPatterns>>>,
}

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
    numbers: Vec<Arc<NumberPatterns>>,
    /// The national formatting rules, in metadata order.
    formats: Vec<FormatRule>,
}

/// The patterns a region's national significant numbers must match as a whole.
#[derive(Debug)]
struct NumberPatterns {
    /// Every possible length, over all number types.
    lengths: Vec<u16>,
    general: DigitPattern,
    /// Per number type (fixed line, mobile, toll free, ...): its possible lengths (empty: any) and pattern.
    types: Vec<(Vec<u16>, DigitPattern)>,
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
        let mut plans = Self { regions: Vec::new(), patterns: Mutex::new(HashMap::new()) };
        plans.regions = regions.into_iter().filter_map(|id| RegionPlan::new(id, &plans)).collect();
        plans
    }

    /// Validates `digits` (written without `+`) against each region in order; the first region that accepts
    /// them decides the E.164 form.
    pub(super) fn national(&self, digits: &str) -> Option<Valid> {
        for region in self.regions.iter().filter(|r| r.may_accept(digits)) {
            let Some(parsed) = self.parse(Some(region.id), digits) else {
                continue;
            };
            let written = match parsed.number.code().source() {
                Source::Plus | Source::Idd => Written::DiallingPrefix,
                Source::Number => Written::CountryCodeDigits,
                Source::Default if national_prefix_present_if_required(&parsed.number, region, digits) => {
                    Written::National
                }
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
        let nsn_len = u16::try_from(parsed.number.national().to_string().len()).ok()?;
        parsed
            .database
            .by_code(&parsed.number.code().value())?
            .iter()
            .filter_map(|meta| self.patterns(meta.id()))
            .any(|p| p.lengths.contains(&nsn_len))
            .then(|| e164(&parsed))
    }

    /// Parses and validates, the whole national number against its country's patterns.
    pub(crate) fn parse(&self, region: Option<Id>, digits: &str) -> Option<Parsed> {
        let parsed = METADATA.parse(region, digits).ok()?;
        let number = &parsed.number;
        let nsn = number.national().to_string();
        // The whole-number check first: it runs on this module's compiled patterns, while the crate's
        // validation goes through its shared pattern cache (hashing each pattern's text per lookup).
        let valid = parsed
            .database
            .by_code(&number.code().value())?
            .iter()
            .filter_map(|meta| self.patterns(meta.id()))
            .any(|p| p.valid(&nsn))
            && number.is_valid_with(&parsed.database);
        valid.then_some(parsed)
    }

    /// The compiled number patterns of territory `id`.
    fn patterns(&self, id: &str) -> Option<Arc<NumberPatterns>> {
        if let Some(p) = self.cache().get(id) {
            return Some(Arc::clone(p));
        }
        let territories = METADATA.territories(METADATA.code_of(id)?)?;
        self.patterns_of(territories.iter().find(|t| t.id.as_deref() == Some(id))?)
    }

    /// The compiled number patterns of territory `meta`.
    fn patterns_of(&self, meta: &loader::Metadata) -> Option<Arc<NumberPatterns>> {
        let id = meta.id.as_deref()?;
        if let Some(p) = self.cache().get(id) {
            return Some(Arc::clone(p));
        }
        let p = Arc::new(NumberPatterns::new(meta)?);
        self.cache().insert(id.to_string(), Arc::clone(&p));
        Some(p)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<NumberPatterns>>> {
        // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
        self.patterns.lock().unwrap_or_else(PoisonError::into_inner)
    }
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
        let mut lengths: Vec<u16> = general.possible_length.clone();
        let mut compiled = Vec::new();
        for t in types.into_iter().flatten() {
            lengths.extend_from_slice(&t.possible_length);
            compiled.push((t.possible_length.clone(), compile(t.national_number.as_deref()?)?));
        }
        lengths.sort_unstable();
        lengths.dedup();
        Some(Self { lengths, general: compile(general.national_number.as_deref()?)?, types: compiled })
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
    fn new(id: Id, plans: &NumberingPlans) -> Option<Self> {
        let territories = METADATA.territories(METADATA.code_of(id.as_ref())?)?;
        let meta = territories.iter().find(|t| t.id.as_deref() == Some(id.as_ref()))?;
        let numbers = territories.iter().filter_map(|m| plans.patterns_of(m)).collect();
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
pub(crate) fn e164(parsed: &Parsed) -> String {
    format!("+{}{}", parsed.number.code().value(), parsed.number.national())
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
                let Some(Parsed { number, .. }) = plans.parse(Some(region.id), &digits) else {
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
    fn unknown_regions_are_skipped() {
        let plans = NumberingPlans::new(vec![Id::US]);
        assert!(plans.national("02079460958").is_none());
    }
}
