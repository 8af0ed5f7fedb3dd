//! Generalization: values made coarse enough not to single a person out, yet useful for analysis.

use crate::fields::PiiClass;
use std::net::IpAddr;

/// Generalizes a value of `class`; `None` when the value cannot be read (it is then dropped, never kept).
pub fn generalize(class: PiiClass, value: &str) -> Option<String> {
    let value = value.trim();
    match class {
        PiiClass::PostalCode => postal_prefix(value),
        PiiClass::Ip => ip_network(value),
        PiiClass::DateOfBirth => birth_year(value),
        PiiClass::Age => age_band(value),
        _ => None,
    }
}

/// US ZIP -> first 3 digits (`02139` -> `021`); UK-style codes -> outward part (`SW1A 1AA` -> `SW1A`);
/// other codes -> first 2 characters.
fn postal_prefix(code: &str) -> Option<String> {
    let code = code.to_uppercase();
    if let Some((outward, _)) = code.split_once(' ') {
        return (!outward.is_empty()).then(|| outward.to_string());
    }
    let digits = code.split('-').next().unwrap_or("");
    if digits.len() == 5 && digits.chars().all(|c| c.is_ascii_digit()) {
        return Some(digits[..3].to_string());
    }
    let prefix: String = code.chars().filter(char::is_ascii_alphanumeric).take(2).collect();
    (prefix.len() == 2).then_some(prefix)
}

/// IPv4 -> its /24, IPv6 -> its /48 (`203.0.113.42` -> `203.0.113.0/24`).
fn ip_network(ip: &str) -> Option<String> {
    match ip.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            Some(format!("{}.{}.{}.0/24", o[0], o[1], o[2]))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            Some(format!("{net}/48"))
        }
    }
}

/// An ISO date (as the date type produces) -> its year.
fn birth_year(date: &str) -> Option<String> {
    let year = date.get(..4)?;
    year.chars().all(|c| c.is_ascii_digit()).then(|| year.to_string())
}

/// An age -> a ten-year band (`34` -> `30-39`, `93` -> `90+`).
fn age_band(age: &str) -> Option<String> {
    let n: u32 = age.parse().ok()?;
    if n > 130 {
        return None;
    }
    Some(if n >= 90 { "90+".into() } else { format!("{}-{}", n / 10 * 10, n / 10 * 10 + 9) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generalizes_by_class() {
        assert_eq!(generalize(PiiClass::PostalCode, "02139").as_deref(), Some("021"));
        assert_eq!(generalize(PiiClass::PostalCode, "02139-4307").as_deref(), Some("021"));
        assert_eq!(generalize(PiiClass::PostalCode, "sw1a 1aa").as_deref(), Some("SW1A"));
        assert_eq!(generalize(PiiClass::PostalCode, "75008").as_deref(), Some("750"));
        assert_eq!(generalize(PiiClass::PostalCode, "1010").as_deref(), Some("10"));
        assert_eq!(generalize(PiiClass::Ip, "203.0.113.42").as_deref(), Some("203.0.113.0/24"));
        assert_eq!(generalize(PiiClass::Ip, "2001:db8:85a3::8a2e:370:7334").as_deref(), Some("2001:db8:85a3::/48"));
        assert_eq!(generalize(PiiClass::DateOfBirth, "1987-04-12").as_deref(), Some("1987"));
        assert_eq!(generalize(PiiClass::Age, "34").as_deref(), Some("30-39"));
        assert_eq!(generalize(PiiClass::Age, "93").as_deref(), Some("90+"));
        assert_eq!(generalize(PiiClass::Ip, "not-an-ip"), None);
        assert_eq!(generalize(PiiClass::Name, "Jane"), None);
    }
}
