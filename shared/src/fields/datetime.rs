//! Dates and date-times in the notations lead mails use, normalised to ISO dates and RFC 3339 UTC.

use super::{TypeError, TypeOptions};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};

const ISO_DATES: [&str; 2] = ["%Y-%m-%d", "%Y/%m/%d"];
const WORD_DATES: [&str; 6] = ["%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%A, %B %d, %Y", "%a, %b %d, %Y"];
const NAIVE_TIMES: [&str; 9] = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%B %d, %Y %I:%M %p",
    "%B %d, %Y at %I:%M %p",
    "%b %d, %Y %I:%M %p",
];

/// Parses a date into `YYYY-MM-DD`. A full date-time is accepted and its (local) date kept.
pub(super) fn parse_date(raw: &str, opts: &TypeOptions) -> Result<String, TypeError> {
    let s = raw.trim();
    if let Some(fmt) = &opts.format {
        if let Ok(d) = NaiveDate::parse_from_str(s, fmt) {
            return Ok(d.format("%Y-%m-%d").to_string());
        }
    }
    let numeric: &[&str] =
        if month_first(opts) { &["%m/%d/%Y", "%d.%m.%Y", "%m-%d-%Y"] } else { &["%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y"] };
    for fmt in ISO_DATES.iter().chain(numeric).chain(WORD_DATES.iter()) {
        if let Ok(d) = NaiveDate::parse_from_str(s, fmt) {
            return Ok(d.format("%Y-%m-%d").to_string());
        }
    }
    if let Some(dt) = parse_zoned(s).or_else(|| parse_naive(s, opts).map(|n| n.and_utc().fixed_offset())) {
        return Ok(dt.date_naive().format("%Y-%m-%d").to_string());
    }
    Err(TypeError("not a date in a known notation".into()))
}

/// Parses a date-time into RFC 3339 UTC; times without an offset are read in `opts.timezone` (default UTC).
pub(super) fn parse_datetime(raw: &str, opts: &TypeOptions) -> Result<String, TypeError> {
    let s = raw.trim();
    let offset = opts.timezone.unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
    if let Some(fmt) = &opts.format {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Ok(to_utc(dt));
        }
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return local(n, offset);
        }
    }
    if let Some(dt) = parse_zoned(s) {
        return Ok(to_utc(dt));
    }
    if let Some(n) = parse_naive(s, opts) {
        return local(n, offset);
    }
    Err(TypeError("not a date-time in a known notation".into()))
}

fn month_first(opts: &TypeOptions) -> bool {
    matches!(opts.phone_region, None | Some(phonenumber::country::Id::US))
}

fn to_utc(dt: DateTime<FixedOffset>) -> String {
    dt.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn local(n: NaiveDateTime, offset: FixedOffset) -> Result<String, TypeError> {
    offset
        .from_local_datetime(&n)
        .single()
        .map(to_utc)
        .ok_or_else(|| TypeError(format!("local time does not exist in offset {offset}")))
}

/// RFC 3339, RFC 2822, ISO 8601 with `+hhmm`, and naive forms followed by a zone name such as `EST` or `UTC`.
fn parse_zoned(s: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt);
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(s) {
        return Some(dt);
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S %z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt);
        }
    }
    let (head, zone) = s.rsplit_once(' ')?;
    let hours = zone_offset_hours(zone)?;
    let offset = FixedOffset::east_opt(hours * 3600)?;
    let n = NAIVE_TIMES
        .iter()
        .chain(["%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M"].iter())
        .find_map(|fmt| NaiveDateTime::parse_from_str(head, fmt).ok())?;
    offset.from_local_datetime(&n).single()
}

fn parse_naive(s: &str, opts: &TypeOptions) -> Option<NaiveDateTime> {
    let numeric: &[&str] = if month_first(opts) {
        &["%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S"]
    } else {
        &["%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"]
    };
    NAIVE_TIMES.iter().chain(numeric).find_map(|fmt| NaiveDateTime::parse_from_str(s, fmt).ok())
}

fn zone_offset_hours(zone: &str) -> Option<i32> {
    Some(match zone {
        "UTC" | "GMT" | "Z" => 0,
        "EST" => -5,
        "EDT" => -4,
        "CST" => -6,
        "CDT" => -5,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        "CET" => 1,
        "CEST" => 2,
        "BST" => 1,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::country::Id;

    fn us() -> TypeOptions {
        TypeOptions { phone_region: Some(Id::US), ..Default::default() }
    }

    fn de() -> TypeOptions {
        TypeOptions { phone_region: Some(Id::DE), ..Default::default() }
    }

    #[test]
    fn dates_follow_region_order() {
        assert_eq!(parse_date("11/20/2026", &us()).as_deref(), Ok("2026-11-20"));
        assert_eq!(parse_date("20/11/2026", &de()).as_deref(), Ok("2026-11-20"));
        assert_eq!(parse_date("20.11.2026", &us()).as_deref(), Ok("2026-11-20"));
        assert_eq!(parse_date("November 20, 2026", &us()).as_deref(), Ok("2026-11-20"));
        assert_eq!(parse_date("2026-11-20T09:15:00-05:00", &us()).as_deref(), Ok("2026-11-20"));
        assert!(parse_date("20/11/2026", &us()).is_err());
        assert!(parse_date("tomorrow", &us()).is_err());
    }

    #[test]
    fn datetimes_are_converted_to_utc() {
        assert_eq!(parse_datetime("2026-11-20T09:15:00-05:00", &us()).as_deref(), Ok("2026-11-20T14:15:00Z"));
        assert_eq!(parse_datetime("Fri, 20 Nov 2026 09:15:00 +0100", &us()).as_deref(), Ok("2026-11-20T08:15:00Z"));
        assert_eq!(parse_datetime("11/20/2026 3:45 PM EST", &us()).as_deref(), Ok("2026-11-20T20:45:00Z"));
        assert_eq!(parse_datetime("2026-11-20 14:05", &us()).as_deref(), Ok("2026-11-20T14:05:00Z"));
        let berlin = TypeOptions { timezone: FixedOffset::east_opt(3600), ..de() };
        assert_eq!(parse_datetime("20.11.2026 14:05", &berlin).as_deref(), Ok("2026-11-20T13:05:00Z"));
        assert!(parse_datetime("soon", &us()).is_err());
    }

    #[test]
    fn custom_format_is_tried_first() {
        let o = TypeOptions { format: Some("%Y%m%d".into()), ..us() };
        assert_eq!(parse_date("20261120", &o).as_deref(), Ok("2026-11-20"));
    }
}
