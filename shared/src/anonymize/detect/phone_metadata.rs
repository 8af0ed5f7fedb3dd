//! libphonenumber's metadata loaded per country code, on first use. The `phonenumber` crate's own database
//! builds all 254 territories at once (~90 ms of regex syntax checks at every cold start); a mail needs the
//! configured regions and the country codes of the `+` numbers it actually contains.
//!
//! Parsing gives the same result as `phonenumber::parse` over the full database:
//! - With a region, the parser reads that region's territory (dialling prefix, trunk prefix, patterns) and only
//!   asks whether another country code exists. So it runs on the region's real territories plus one stub
//!   territory for every other code ([`PhoneMetadata::parse`]).
//! - Without a region, the number's own territories decide how its national part is read, so a first pass over
//!   the stubs finds the country code (codes are prefix-free, the stubs have all of them) and the second pass
//!   runs on that code's real territories. A number the stub pass finds too long (the only error the real
//!   territories could undo, by stripping a trunk prefix) is parsed with the crate's full database. Text that is
//!   `+` and digits only (E.164) skips the stub pass: its code is read directly.
//!
//! The crate checks the syntax of every pattern when it builds a database, which is most of the cost. The
//! databases here leave out the formatting rules (`availableFormats`), which parsing and validation never read
//! (leadpipe writes E.164 itself and reads the rules it needs from [`PhoneMetadata::territories`], the
//! territories as text, which cost no pattern checks).
//!
//! The data is the crate's own `PhoneNumberMetadata.xml` (same version, `shared/data/phonenumber/`); a test
//! checks every territory against the crate's database.

use phonenumber::country::Id;
use phonenumber::metadata::{loader, Database, DATABASE};
use phonenumber::{ParseError, PhoneNumber};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

/// libphonenumber's territory metadata, as the `phonenumber` crate ships it.
const XML: &str = include_str!("../../../data/phonenumber/PhoneNumberMetadata.xml");

/// The process-wide metadata (the XML is indexed on first use, a territory's patterns when its code is needed).
pub(crate) static METADATA: LazyLock<PhoneMetadata> = LazyLock::new(|| PhoneMetadata::new(XML));

/// One `<territory>` element of the XML.
#[derive(Debug)]
struct Territory {
    id: String,
    code: u16,
    xml: &'static str,
}

/// Territories indexed by id and code, and the databases built from them so far.
#[derive(Debug)]
pub(crate) struct PhoneMetadata {
    territories: Vec<Territory>,
    /// Country code -> indexes into `territories`, in file order.
    by_code: HashMap<u16, Vec<usize>>,
    /// Country code -> its territories as loaded from the XML (patterns as text).
    loaded: Mutex<HashMap<u16, Arc<Vec<loader::Metadata>>>>,
    /// Country code -> a database of that code's territories.
    real: Mutex<HashMap<u16, Arc<Database>>>,
    /// Region's country code (`None`: no region) -> its real territories and a stub for every other code.
    probes: Mutex<HashMap<Option<u16>, Arc<Database>>>,
}

impl PhoneMetadata {
    fn new(xml: &'static str) -> Self {
        let territories = territories(xml);
        let mut by_code: HashMap<u16, Vec<usize>> = HashMap::new();
        for (i, t) in territories.iter().enumerate() {
            by_code.entry(t.code).or_default().push(i);
        }
        Self { territories, by_code, loaded: Mutex::default(), real: Mutex::default(), probes: Mutex::default() }
    }

    /// The territories with country code `code`, in file order, as the crate's loader reads them (`None` when no
    /// territory has the code).
    pub(crate) fn territories(&self, code: u16) -> Option<Arc<Vec<loader::Metadata>>> {
        let indexes = self.by_code.get(&code)?;
        let mut cache = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(t) = cache.get(&code) {
            return Some(Arc::clone(t));
        }
        let xml = format!(
            "<phoneNumberMetadata><territories>{}</territories></phoneNumberMetadata>",
            indexes.iter().map(|&i| self.territories[i].xml).collect::<String>()
        );
        // The vendored file is checked by the tests below; a failure here is a build defect, not an input error.
        let loaded = Arc::new(loader::load(xml.as_bytes()).expect("the vendored phone metadata loads"));
        cache.insert(code, Arc::clone(&loaded));
        Some(loaded)
    }

    /// The country code of territory `id`, if the metadata has it.
    pub(crate) fn code_of(&self, id: &str) -> Option<u16> {
        self.territories.iter().find(|t| t.id == id).map(|t| t.code)
    }

    /// A database of every territory with country code `code`, without formatting rules (`None` when no
    /// territory has the code).
    pub(crate) fn database(&self, code: u16) -> Option<Arc<Database>> {
        let territories = self.territories(code)?;
        let mut cache = self.real.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(db) = cache.get(&code) {
            return Some(Arc::clone(db));
        }
        let db = Arc::new(build(territories.iter().map(without_formats).collect()));
        cache.insert(code, Arc::clone(&db));
        Some(db)
    }

    /// Parses `text` as `phonenumber::parse(region, text)` would with the full database.
    pub(crate) fn parse(&self, region: Option<Id>, text: &str) -> Result<PhoneNumber, ParseError> {
        let region_code = match region {
            Some(id) => match self.code_of(id.as_ref()) {
                Some(code) => Some(code),
                // A region the metadata does not know: the crate decides what that means.
                None => return self.parse_full(region, text),
            },
            None => {
                // `+` and digits (E.164, or digits read as international): the code is known without the pass
                // over the stubs. The stub pass could only fail where this parse fails too, or where the full
                // database gives this parse's result (a number the stubs find too long).
                // A number too long for its code's territories is too long for the stubs as well, and the full
                // database would read it as those territories do.
                let real = self.plus_code(text).and_then(|code| self.database(code));
                match real.map(|db| phonenumber::parse_with(&db, None, text)) {
                    Some(Ok(number)) => return Ok(number),
                    Some(Err(ParseError::TooLong)) => return Err(ParseError::TooLong),
                    _ => None,
                }
            }
        };
        let number = phonenumber::parse_with(&self.probe(region_code), region, text);
        let number = match (number, region) {
            (Err(ParseError::TooLong), None) => return self.parse_full(None, text),
            (Err(e), _) => return Err(e),
            (Ok(n), Some(_)) => n,
            (Ok(n), None) => {
                let code = n.code().value();
                let real = self.database(code).ok_or(ParseError::InvalidCountryCode)?;
                phonenumber::parse_with(&real, None, text)?
            }
        };
        Ok(number)
    }

    /// The country code of `text` when it is `+` and digits only: its first one to three digits that are a
    /// country code (codes are prefix-free; none starts with 0).
    fn plus_code(&self, text: &str) -> Option<u16> {
        let digits = text.strip_prefix('+')?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
            return None;
        }
        (1..=3.min(digits.len())).find_map(|n| digits[..n].parse().ok().filter(|c| self.by_code.contains_key(c)))
    }

    /// The national significant number of `e164` (`+`, a country code, the national digits), leading zeros
    /// kept (Italy's `06...`); `None` when it is not `+` and digits or has no known country code.
    pub(crate) fn national_of_e164<'a>(&self, e164: &'a str) -> Option<&'a str> {
        let code = self.plus_code(e164)?;
        let code_len = code.to_string().len();
        e164.get(1 + code_len..).filter(|national| !national.is_empty())
    }

    /// The crate's own parse over its full database (loaded on first use, ~90 ms).
    fn parse_full(&self, region: Option<Id>, text: &str) -> Result<PhoneNumber, ParseError> {
        phonenumber::parse_with(&DATABASE, region, text)
    }

    /// The real territories of `region_code` and a stub for every other code.
    fn probe(&self, region_code: Option<u16>) -> Arc<Database> {
        // Loaded before taking the lock: `territories` has its own.
        let real = region_code.and_then(|code| self.territories(code));
        let mut cache = self.probes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(db) = cache.get(&region_code) {
            return Arc::clone(db);
        }
        let mut parts: Vec<loader::Metadata> = real.iter().flat_map(|t| t.iter().map(for_parsing)).collect();
        let mut codes: Vec<_> = self.by_code.iter().filter(|(&code, _)| Some(code) != region_code).collect();
        codes.sort_unstable();
        for (&code, indexes) in codes {
            // A stub only has to exist for its code, and take any national number. `[0-9]+` reads the ASCII digits
            // the crate hands it as `\d+` would, and its syntax check costs a tenth of the Unicode class's.
            let general = loader::Descriptor { national_number: Some("[0-9]+".into()), ..Default::default() };
            parts.push(loader::Metadata {
                id: Some(self.territories[indexes[0]].id.clone()),
                country_code: Some(code),
                general: Some(general),
                ..Default::default()
            });
        }
        let db = Arc::new(build(parts));
        cache.insert(region_code, Arc::clone(&db));
        db
    }
}

/// A territory without its formatting rules, which parsing and validation do not use.
fn without_formats(meta: &loader::Metadata) -> loader::Metadata {
    loader::Metadata { formats: Vec::new(), international_formats: Vec::new(), ..meta.clone() }
}

/// A territory as parsing with a region reads it: prefixes, leading digits and the general descriptor. The
/// number types' descriptors (hundreds of patterns for the +1 territories, each checked by `Database::from`) and
/// the formats serve validation, finding a number's region and formatting, none of which the probe is used for.
fn for_parsing(meta: &loader::Metadata) -> loader::Metadata {
    let meta = meta.clone();
    loader::Metadata {
        general: meta.general,
        id: meta.id,
        country_code: meta.country_code,
        international_prefix: meta.international_prefix,
        preferred_international_prefix: meta.preferred_international_prefix,
        national_prefix: meta.national_prefix,
        preferred_extension_prefix: meta.preferred_extension_prefix,
        national_prefix_for_parsing: meta.national_prefix_for_parsing,
        national_prefix_transform_rule: meta.national_prefix_transform_rule,
        main_country_for_code: meta.main_country_for_code,
        leading_digits: meta.leading_digits,
        mobile_number_portable: meta.mobile_number_portable,
        defaults: meta.defaults,
        ..Default::default()
    }
}

fn build(territories: Vec<loader::Metadata>) -> Database {
    // The vendored file is checked by the tests below; a failure here is a build defect, not an input error.
    Database::from(territories).expect("the vendored phone metadata loads")
}

/// Splits the XML into its `<territory>` elements (comments skipped), reading each one's id and country code.
fn territories(xml: &'static str) -> Vec<Territory> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<territory ") {
        // Inside a comment when the last comment opened before it has not closed (the file has ~1,800 comments
        // between its 254 territories: looking back from each territory reads the file once).
        if let Some(c) = rest[..start].rfind("<!--").filter(|&c| !rest[c..start].contains("-->")) {
            match rest[c..].find("-->") {
                Some(end) => rest = &rest[c + end + 3..],
                None => break,
            }
            continue;
        }
        let Some(len) = rest[start..].find("</territory>") else {
            break;
        };
        let element = &rest[start..start + len + "</territory>".len()];
        let head = &element[..element.find('>').unwrap_or(element.len())];
        if let (Some(id), Some(code)) =
            (attribute(head, "id"), attribute(head, "countryCode").and_then(|c| c.parse().ok()))
        {
            out.push(Territory { id: id.to_string(), code, xml: element });
        }
        rest = &rest[start + element.len()..];
    }
    out
}

/// The value of attribute `name` in a start tag.
fn attribute<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    let at = head.find(&format!(" {name}=\""))? + name.len() + 3;
    head[at..].split('"').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_territory_agrees_with_the_crates_database() {
        let m = &*METADATA;
        assert_eq!(m.territories.len(), 254);
        for (&code, indexes) in &m.by_code {
            let ours = m.database(code).expect("loads");
            let theirs = DATABASE.by_code(&code).expect("the crate knows the code");
            let ours = ours.by_code(&code).expect("has the code");
            assert_eq!(ours.len(), theirs.len(), "code {code}");
            assert_eq!(indexes.len(), theirs.len(), "code {code}");
            let loaded = m.territories(code).expect("loads");
            for b in theirs.iter() {
                let t = loaded.iter().find(|t| t.id.as_deref() == Some(b.id())).expect("same territories");
                assert_eq!(t.formats.len(), b.formats().len(), "{}", b.id());
                for (f, g) in t.formats.iter().zip(b.formats()) {
                    assert_eq!(f.pattern.as_deref(), Some(g.pattern().as_str()));
                    assert_eq!(f.national_prefix_formatting_rule.as_deref(), g.national_prefix());
                    assert_eq!(f.national_prefix_optional_when_formatting, g.is_national_prefix_optional());
                    let leading: Vec<_> = g.leading_digits().iter().map(|l| l.as_str()).collect();
                    assert_eq!(f.leading_digits, leading, "{}", b.id());
                }
            }
            for (a, b) in ours.iter().zip(theirs) {
                assert_eq!(a.id(), b.id());
                assert_eq!(a.national_prefix(), b.national_prefix(), "{}", a.id());
                assert_eq!(
                    a.international_prefix().map(|r| r.as_str().to_string()),
                    b.international_prefix().map(|r| r.as_str().to_string()),
                    "{}",
                    a.id()
                );
                let (da, db) = (a.descriptors(), b.descriptors());
                assert_eq!(da.general().national_number().as_str(), db.general().national_number().as_str());
            }
        }
    }

    #[test]
    fn territories_in_comments_are_skipped() {
        let xml = "<!-- <territory id=\"XA\" countryCode=\"1\"></territory> --> <!-- x -->\
                   <territory id=\"XB\" countryCode=\"2\"><!-- c --></territory>\
                   <!-- <territory id=\"XC\" countryCode=\"3\"> --><territory id=\"XD\" countryCode=\"4\"></territory>";
        let ids: Vec<_> = territories(xml).into_iter().map(|t| (t.id, t.code)).collect();
        assert_eq!(ids, [("XB".to_string(), 2), ("XD".to_string(), 4)]);
        assert!(territories("<!-- <territory id=\"XA\" countryCode=\"1\"></territory>").is_empty());
    }

    #[test]
    fn parses_like_the_full_database() {
        // CA shares +1 with the US without being its main country.
        let regions =
            [None, Some(Id::US), Some(Id::CA), Some(Id::GB), Some(Id::DE), Some(Id::IN), Some(Id::IL), Some(Id::FR)];
        let prefixes = ["", "+", "00", "011", "0", "1", "+1", "+44", "0044", "+972", "+800", "tel:+"];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut texts: Vec<String> = vec![
            "(212) 555-0142".into(),
            "+1 312 555 0187".into(),
            "020 7946 0123".into(),
            "+49 30 901820".into(),
            "+972 90383759616".into(),
            "0049 30 901820 11 22 33 44 55 66".into(),
            "+1 000 000 0000".into(),
            "call me".into(),
        ];
        for _ in 0..6000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let prefix = prefixes[(seed % prefixes.len() as u64) as usize];
            let len = 3 + (seed >> 8) % 18;
            let digits: String = (0..len).map(|i| char::from(b'0' + ((seed >> (i * 3 % 60)) % 10) as u8)).collect();
            texts.push(format!("{prefix}{digits}"));
            // The same digits written in groups, as people write them.
            let grouped: Vec<_> =
                digits.as_bytes().chunks(3).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
            texts.push(format!("{prefix} {}", grouped.join(if seed.is_multiple_of(2) { " " } else { "-" })));
        }
        let (mut parsed, mut valid) = (0, 0);
        for text in &texts {
            for region in regions {
                let full = phonenumber::parse(region, text);
                let ours = METADATA.parse(region, text);
                match (&full, &ours) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a, b, "{region:?} {text}");
                        parsed += 1;
                        valid += usize::from(a.is_valid());
                        let database = METADATA.database(b.code().value()).expect("the code's territories");
                        assert_eq!(a.is_valid(), b.is_valid_with(&database), "{region:?} {text}");
                        let e164 = super::super::numbering::e164(b);
                        assert_eq!(a.format().mode(phonenumber::Mode::E164).to_string(), e164, "{text}");
                        let national = a.national().to_string();
                        assert_eq!(METADATA.national_of_e164(&e164), Some(national.as_str()), "{text}");
                    }
                    (Err(a), Err(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "{region:?} {text}"),
                    _ => panic!("{region:?} {text}: full {full:?}, per code {ours:?}"),
                }
            }
        }
        // Not a vacuous comparison: many inputs parse, and some are valid numbers.
        assert!(parsed > 20_000 && valid > 500, "{parsed} parsed, {valid} valid");
    }
}
