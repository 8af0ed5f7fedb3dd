//! Money: an amount and a currency, from `$24,995`, `EUR 1.234,50`, `24 995 €`, `£1,850 per month`.

use super::{number, Money, TypeError};

const SYMBOLS: [(&str, &str); 8] = [
    ("US$", "USD"),
    ("C$", "CAD"),
    ("A$", "AUD"),
    ("$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("¥", "JPY"),
    ("₹", "INR"),
];

/// Parses an amount with an optional currency symbol or ISO code; `default_currency` fills in a missing one.
pub(super) fn parse(raw: &str, default_currency: Option<&str>) -> Result<Money, TypeError> {
    let mut currency: Option<String> = None;
    let mut rest = raw.to_string();
    for (symbol, code) in SYMBOLS {
        if rest.contains(symbol) {
            // A bare `$` means the configured dollar currency when there is one (CAD, AUD, ...).
            let code = match (symbol, default_currency) {
                ("$", Some(d)) if d.ends_with('D') => d,
                _ => code,
            };
            currency = Some(code.to_string());
            rest = rest.replacen(symbol, " ", 1);
            break;
        }
    }
    if currency.is_none() {
        if let Some(code) = iso_code(&rest) {
            rest = rest.replacen(&code, " ", 1);
            currency = Some(code);
        }
    }
    let amount_text = amount_span(&rest).ok_or_else(|| TypeError("no amount".into()))?;
    let amount = number::parse_decimal(amount_text)?;
    let currency = currency
        .or_else(|| default_currency.map(str::to_string))
        .ok_or_else(|| TypeError("no currency and no default currency configured".into()))?;
    Ok(Money { amount: with_minor_units(&amount, minor_units(&currency)), currency })
}

/// Decimal places of a currency's minor unit (ISO 4217); 2 unless listed.
fn minor_units(currency: &str) -> usize {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "PYG" | "UGX" | "RWF" | "XAF" | "XOF" | "XPF" | "KMF" | "GNF"
        | "DJF" | "VUV" | "BIF" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "LYD" | "IQD" => 3,
        _ => 2,
    }
}

/// Pads a canonical decimal to at least `places` decimals, so equal amounts have one spelling
/// (`24995` and `24,995.0` both become `24995.00` for USD); extra precision that was written is kept.
fn with_minor_units(amount: &str, places: usize) -> String {
    let (int, frac) = amount.split_once('.').unwrap_or((amount, ""));
    if frac.len() >= places {
        return amount.to_string();
    }
    let frac = format!("{frac:0<places$}");
    format!("{int}.{frac}")
}

/// Finds a standalone three-letter uppercase word (an ISO 4217 code).
fn iso_code(s: &str) -> Option<String> {
    s.split(|c: char| !c.is_ascii_alphabetic())
        .find(|w| w.len() == 3 && w.chars().all(|c| c.is_ascii_uppercase()))
        .map(str::to_string)
}

/// The first run of digits with separators; `None` when there is no digit or a second separate number.
fn amount_span(s: &str) -> Option<&str> {
    let start = s.find(|c: char| c.is_ascii_digit() || c == '-')?;
    let tail = &s[start..];
    let len = tail
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit()
                || matches!(c, '.' | ',' | '\'' | '\u{a0}' | '\u{202f}')
                || (c == '-' && i == 0)
                || (c == ' ' && tail[i + 1..].starts_with(|d: char| d.is_ascii_digit())))
        })
        .map_or(tail.len(), |(i, _)| i);
    let span = tail[..len].trim_end_matches(['.', ',', ' ']);
    let remainder = &tail[len..];
    if remainder.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    (!span.is_empty()).then_some(span)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(amount: &str, currency: &str) -> Money {
        Money { amount: amount.into(), currency: currency.into() }
    }

    #[test]
    fn symbols_codes_and_defaults() {
        assert_eq!(parse("$24,995", None), Ok(m("24995.00", "USD")));
        assert_eq!(parse("$24,995.00", Some("CAD")), Ok(m("24995.00", "CAD")));
        assert_eq!(parse("EUR 1.234,50", None), Ok(m("1234.50", "EUR")));
        assert_eq!(parse("24 995 €", None), Ok(m("24995.00", "EUR")));
        assert_eq!(parse("£1,850 per month", None), Ok(m("1850.00", "GBP")));
        assert_eq!(parse("1850.5", Some("USD")), Ok(m("1850.50", "USD")));
        assert_eq!(parse("1.850,- CHF", None), Ok(m("1850.00", "CHF")));
        assert_eq!(parse("¥2,000", None), Ok(m("2000", "JPY")));
        assert_eq!(parse("0.125 BHD", None), Ok(m("0.125", "BHD")));
        assert_eq!(parse("$0.125", None), Ok(m("0.125", "USD")));
    }

    #[test]
    fn rejects_text_ranges_and_missing_currency() {
        assert!(parse("call us", Some("USD")).is_err());
        assert!(parse("$20,000 - $25,000", None).is_err());
        assert!(parse("1850", None).is_err());
    }
}
