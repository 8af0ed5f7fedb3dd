//! Phone numbers: parsed with the libphonenumber metadata (`phonenumber` crate) and validated as whole numbers
//! (the crate alone accepts a valid prefix followed by junk; see `anonymize::detect::numbering`), out as E.164.

use super::TypeError;
use crate::anonymize::detect::numbering::{e164, NumberingPlans};
use phonenumber::country;
use std::sync::LazyLock;

/// Number patterns compiled once per process (no configured regions: the field's region is passed per call).
static PLANS: LazyLock<NumberingPlans> = LazyLock::new(|| NumberingPlans::new(Vec::new()));

/// Normalises a phone number to E.164; `region` applies when the number has no country code.
pub(super) fn normalize(raw: &str, region: Option<country::Id>) -> Result<String, TypeError> {
    let cleaned = raw.trim_start_matches("tel:").trim();
    let parsed =
        PLANS.parse(region, cleaned).ok_or_else(|| TypeError("not a valid phone number for its region".into()))?;
    Ok(e164(&parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_forms() {
        let us = Some(country::Id::US);
        assert_eq!(normalize("(212) 555-0142", us).as_deref(), Ok("+12125550142"));
        assert_eq!(normalize("+1 312 555 0187", None).as_deref(), Ok("+13125550187"));
        assert_eq!(normalize("020 7946 0123", Some(country::Id::GB)).as_deref(), Ok("+442079460123"));
        assert_eq!(normalize("+49 30 901820", us).as_deref(), Ok("+4930901820"));
    }

    #[test]
    fn invalid_numbers_are_errors() {
        let us = Some(country::Id::US);
        for bad in ["12", "call me", "555-0142", "+1 000 000 0000", "+972 90383759616"] {
            assert!(normalize(bad, us).is_err(), "{bad}");
        }
    }
}
