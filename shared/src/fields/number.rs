//! Integers and decimals as people write them in lead mails: `1,234`, `1 234`, `1.234,50`, `1'234.50`.

use super::TypeError;

/// Parses an integer, accepting thousands separators.
pub(super) fn parse_integer(raw: &str) -> Result<i64, TypeError> {
    let canonical = parse_decimal(raw)?;
    if canonical.contains('.') {
        return Err(TypeError("not a whole number".into()));
    }
    canonical.parse::<i64>().map_err(|_| TypeError("integer out of range".into()))
}

/// Parses a decimal number into a canonical string (`-1234.50`): `.` as decimal separator, no grouping.
pub(super) fn parse_decimal(raw: &str) -> Result<String, TypeError> {
    let invalid = || TypeError("not a number".into());
    let s: String = raw.trim().chars().filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\'' | '’')).collect();
    let (negative, digits) = match s.strip_prefix('-').or_else(|| s.strip_prefix('−')) {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',') {
        return Err(invalid());
    }
    if !digits.starts_with(|c: char| c.is_ascii_digit()) || !digits.ends_with(|c: char| c.is_ascii_digit()) {
        return Err(invalid());
    }
    let decimal_sep = decimal_separator(digits);
    let mut int_part = String::new();
    let mut frac_part: Option<String> = None;
    for c in digits.chars() {
        match c {
            d if d.is_ascii_digit() => match &mut frac_part {
                Some(f) => f.push(d),
                None => int_part.push(d),
            },
            sep if Some(sep) == decimal_sep => {
                if frac_part.is_some() {
                    return Err(invalid());
                }
                frac_part = Some(String::new());
            }
            _ => {
                if frac_part.is_some() {
                    return Err(invalid());
                }
            }
        }
    }
    let int_part = int_part.trim_start_matches('0');
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(int_part);
    if let Some(f) = frac_part {
        out.push('.');
        out.push_str(&f);
    }
    Ok(out)
}

/// Decides which of `.` and `,` is the decimal separator, if any: the last one when both occur; a separator
/// that occurs more than once, or once followed by exactly three digits, is grouping.
fn decimal_separator(digits: &str) -> Option<char> {
    let last_dot = digits.rfind('.');
    let last_comma = digits.rfind(',');
    match (last_dot, last_comma) {
        (Some(d), Some(c)) => Some(if d > c { '.' } else { ',' }),
        (Some(_), None) => single_kind_separator(digits, '.'),
        (None, Some(_)) => single_kind_separator(digits, ','),
        (None, None) => None,
    }
}

fn single_kind_separator(digits: &str, sep: char) -> Option<char> {
    if digits.matches(sep).count() > 1 {
        return None;
    }
    // Grouping never follows a lone zero: "0.125" is a decimal.
    if digits.split(sep).next() == Some("0") {
        return Some(sep);
    }
    let after = digits.rsplit(sep).next().unwrap_or("");
    if after.len() == 3 {
        None
    } else {
        Some(sep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_in_common_notations() {
        for (raw, want) in [
            ("1234", "1234"),
            ("1,234.50", "1234.50"),
            ("1.234,50", "1234.50"),
            ("1 234,5", "1234.5"),
            ("1'234.50", "1234.50"),
            ("12.5", "12.5"),
            ("12,5", "12.5"),
            ("1,234", "1234"),
            ("1.234.567", "1234567"),
            ("-0.75", "-0.75"),
            ("007", "7"),
            ("0.125", "0.125"),
        ] {
            assert_eq!(parse_decimal(raw).as_deref(), Ok(want), "{raw}");
        }
        for bad in ["", "abc", "1.2.3,4,5", "1,2,", ".5", "12a", "--1", "1,234.5.6"] {
            assert!(parse_decimal(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn integers_reject_fractions_and_overflow() {
        assert_eq!(parse_integer("2,021"), Ok(2021));
        assert_eq!(parse_integer("-3"), Ok(-3));
        assert!(parse_integer("12.5").is_err());
        assert!(parse_integer("99999999999999999999").is_err());
    }
}
