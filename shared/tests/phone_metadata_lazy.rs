//! The `phonenumber` crate's all-territories database (~90 ms to build) is never loaded on extract's normal path:
//! phone fields, the free-text detector (national and `+` numbers of configured and other countries) and E.164
//! output all run on the per-country-code metadata. Its own test binary, because the database is process-global.

use leadpipe_shared::anonymize::detect::{Detector, DetectorConfig, EntityKind};
use leadpipe_shared::fields::{FieldType, FieldValue, TypeOptions};
use once_cell::sync::Lazy;
use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;

#[test]
fn phones_are_parsed_validated_and_written_without_the_full_database() {
    let detector = Detector::new(DetectorConfig::default());
    let text = "Call (212) 555-0142, +44 20 7946 0958, Tokyo +81 3-3224-5000 or 030 901820 (Berlin).";
    let phones: Vec<_> =
        detector.detect(text).into_iter().filter(|d| d.kind == EntityKind::Phone).map(|d| d.normalized).collect();
    for e164 in ["+12125550142", "+442079460958", "+81332245000"] {
        assert!(phones.iter().any(|p| p == e164), "{e164} not in {phones:?}");
    }
    let opts = TypeOptions { phone_region: Some(Id::DE), ..TypeOptions::default() };
    assert_eq!(FieldType::Phone.normalize("030 901820", &opts), Ok(FieldValue::Text("+4930901820".into())));
    assert!(Lazy::get(&DATABASE).is_none(), "the crate's full phone database was loaded");
}
