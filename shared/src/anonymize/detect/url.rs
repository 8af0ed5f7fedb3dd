//! URLs: `http(s)://` and `ftp://` addresses, `www.` hosts, and bare domains followed by a path
//! (`example.com/offer/12`). The whole URL - path, query string and fragment - is one hit, because tracking
//! links carry tokens and e-mail addresses in their query strings. A bare domain without a path
//! (`booking.com`) is not reported: in lead mails that is almost always a company or portal name, not
//! something that identifies the lead. Sentence punctuation after a URL (`.`, `,`, `)`, `!`, `?`, quotes)
//! is left out, while brackets that open inside the URL are kept balanced.
//!
//! Candidates are found by a scan that reads text as this regex would (leftmost first, then on after the
//! match), which took ~7 M instructions to compile at every cold start; a test compares the two:
//!
//! ```text
//!   (?i: (?: https? | ftp ) :// | www\. ) [^\s<>"`{}|\\^]+
//! | [\p{L}\p{N}] [\p{L}\p{N}-]* (?: \. [\p{L}\p{N}-]+ )+ (?: :[0-9]{1,5} )? / [^\s<>"`{}|\\^]*
//! ```
//!
//! (`\p{L}\p{N}` read as `char::is_alphabetic` or `char::is_numeric`, which adds the letter-like marks.) The
//! host is validated after the match.

use super::labels::starts_with_folded;
use super::{char_before, Detection, EntityKind};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Generic and common new top-level domains accepted for bare domains (with a path); any two-letter
/// country-code TLD is accepted as well. URLs with a scheme or `www.` accept any alphabetic TLD.
#[rustfmt::skip]
const BARE_TLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "edu", "gov", "mil", "int", "name", "pro", "mobi", "app", "dev",
    "page", "online", "site", "shop", "store", "blog", "cloud", "tech", "xyz", "top", "club", "agency",
    "digital", "email", "link", "live", "media", "news", "realty", "homes", "house", "properties", "estate",
    "cars", "auto", "travel", "services", "solutions", "company", "group", "events", "today", "world", "web",
    "website", "space", "studio", "design", "global", "network", "systems", "finance", "insurance", "immo",
    "berlin", "london", "paris", "nyc", "wiki",
];

/// Finds URLs.
#[derive(Debug)]
pub(super) struct UrlDetector;

enum Form {
    Scheme,
    Www,
    Bare,
}

impl UrlDetector {
    pub(super) fn new() -> Self {
        Self
    }

    pub(super) fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for (start, end) in candidates(text) {
            let raw = trim_trailing(&text[start..end]);
            let form = if raw.find("://").is_some_and(|i| i <= 5) {
                Form::Scheme
            } else if raw.get(..4).is_some_and(|w| w.eq_ignore_ascii_case("www.")) {
                Form::Www
            } else {
                Form::Bare
            };
            // A URL must not be the tail of a longer token: `user@example.com/x` is an address, `x.example.com`
            // inside `a.b.x.example.com/` was already read from the start. A scheme may follow a label directly
            // (`Website:https://...`).
            let glue = match form {
                Form::Scheme => "_",
                Form::Www => "_-.@/",
                Form::Bare => "_-.@/:",
            };
            let glued = char_before(text, start).is_some_and(|c| c.is_alphanumeric() || glue.contains(c));
            if glued {
                continue;
            }
            let (confidence, host_ok) = match form {
                Form::Scheme => (0.9, host_is_valid(authority_host(after_scheme(raw)), false)),
                // `www.` alone is not a domain: `www.microsoft` has no TLD.
                Form::Www => {
                    let host = authority_host(raw);
                    let named = host.get(4..).is_some_and(|h| h.contains('.'));
                    (0.85, named && host_is_valid(host, false))
                }
                Form::Bare => (0.6, host_is_valid(authority_host(raw), true)),
            };
            if !host_ok {
                continue;
            }
            out.push(Detection {
                kind: EntityKind::Url,
                start,
                end: start + raw.len(),
                confidence,
                normalized: raw.to_string(),
            });
        }
    }
}

/// The candidates' byte ranges, left to right, each search going on after the previous candidate.
fn candidates(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut from = 0;
    // The first `/` at or after `from`, looked for again only once `from` has passed it (a text of many `www.`
    // hosts before one far `/` would otherwise be read to that `/` once per host).
    let mut slash = text.find('/');
    std::iter::from_fn(move || {
        if slash.is_some_and(|s| s < from) {
            slash = text[from..].find('/').map(|i| from + i);
        }
        let (start, end) = next_candidate(text, from, slash.is_some())?;
        from = end;
        Some((start, end))
    })
}

/// The leftmost candidate starting at or after byte `from`: a scheme or `www.` start, else a bare host.
/// `slash_ahead`: whether a `/` stands at or after `from`.
fn next_candidate(text: &str, from: usize, slash_ahead: bool) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    // Every candidate but a `www.` one holds a `/` (most texts a detector reads hold neither). The `www.` search
    // stops at the first one, which the scan below reaches anyway.
    if !slash_ahead && !bytes[from..].windows(4).any(|w| w.eq_ignore_ascii_case(b"www.")) {
        return None;
    }
    // A bare host that failed at some start fails at every later start inside it: the rest is the same.
    let mut no_bare_before = from;
    let mut p = from;
    while p < bytes.len() {
        let (host_start, len) = match bytes[p] {
            b @ (b'h' | b'H' | b'f' | b'F' | b'w' | b'W') => {
                if let Some(end) = scheme_url(text, p) {
                    return Some((p, end));
                }
                (b.is_ascii_alphanumeric(), 1)
            }
            b if b.is_ascii() => (b.is_ascii_alphanumeric(), 1),
            _ => {
                let c = text[p..].chars().next()?;
                (is_host_char(c), c.len_utf8())
            }
        };
        if host_start && p >= no_bare_before {
            match bare_url(text, p) {
                Ok(end) => return Some((p, end)),
                Err(host_end) => no_bare_before = host_end,
            }
        }
        p += len;
    }
    None
}

/// The end of `http(s)://`, `ftp://` or `www.` (any case) at byte `p` and the URL characters after it (one at
/// least).
fn scheme_url(text: &str, p: usize) -> Option<usize> {
    // Called where `h`, `f` or `w` stands, in either case: no other character folds to them.
    let rest = &text[p..];
    let prefixes: &[&str] = match rest.as_bytes()[0] | 0x20 {
        b'h' => &["https://", "http://"],
        b'f' => &["ftp://"],
        _ => &["www."],
    };
    let start = prefixes.iter().find_map(|s| starts_with_folded(rest, s))?;
    let end = url_chars_end(text, p + start);
    (end > p + start).then_some(end)
}

/// A bare host starting at byte `p` (a letter or number), an optional port, `/` and the URL characters after
/// it: `Ok(end)`; else `Err` with where the host's characters end.
fn bare_url(text: &str, p: usize) -> Result<usize, usize> {
    let label_end = |i: usize| host_chars_end(text, i);
    let mut end = label_end(p);
    let mut labels = 0;
    while text[end..].starts_with('.') && text[end + 1..].chars().next().is_some_and(is_host_char) {
        end = label_end(end + 1);
        labels += 1;
    }
    if labels == 0 {
        return Err(end);
    }
    let host_end = end;
    if let Some(port) = text[end..].strip_prefix(':') {
        let digits = port.bytes().take_while(u8::is_ascii_digit).count();
        if (1..=5).contains(&digits) && port[digits..].starts_with('/') {
            end += 1 + digits;
        }
    }
    if !text[end..].starts_with('/') {
        return Err(host_end);
    }
    Ok(url_chars_end(text, end + 1))
}

/// Where the run of host characters starting at byte `i` ends (ASCII bytes read as bytes).
fn host_chars_end(text: &str, i: usize) -> usize {
    let bytes = text.as_bytes();
    let ascii =
        bytes[i..].iter().position(|&b| !(b.is_ascii_alphanumeric() || b == b'-')).map_or(bytes.len(), |n| i + n);
    if bytes.get(ascii).is_some_and(|b| !b.is_ascii()) {
        return text[ascii..].find(|c: char| !is_host_char(c)).map_or(text.len(), |n| ascii + n);
    }
    ascii
}

/// A letter, number or `-`: a host name's characters.
fn is_host_char(c: char) -> bool {
    c.is_alphabetic() || c.is_numeric() || c == '-'
}

/// Where the run of URL characters starting at byte `i` ends: anything but white space and `<>"`{}|\^`.
fn url_chars_end(text: &str, i: usize) -> usize {
    text[i..].find(|c: char| c.is_whitespace() || "<>\"`{}|\\^".contains(c)).map_or(text.len(), |n| i + n)
}

/// Drops trailing punctuation that ends the sentence rather than the URL; a closing bracket stays when the
/// URL itself opened it (`https://en.wikipedia.org/wiki/Foo_(bar)`). Bracket counts are kept while trimming,
/// so the cost stays linear.
fn trim_trailing(mut s: &str) -> &str {
    let count = |c: char| s.chars().filter(|&x| x == c).count();
    let (open_round, mut close_round) = (count('('), count(')'));
    let (open_square, mut close_square) = (count('['), count(']'));
    while let Some(last) = s.chars().next_back() {
        let drop = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' => true,
            ')' => open_round < close_round,
            ']' => open_square < close_square,
            _ => false,
        };
        if !drop {
            break;
        }
        match last {
            ')' => close_round -= 1,
            ']' => close_square -= 1,
            _ => {}
        }
        s = &s[..s.len() - last.len_utf8()];
    }
    s
}

fn after_scheme(url: &str) -> &str {
    url.find("://").map_or(url, |i| &url[i + 3..])
}

/// The host of `authority[/path...]`: without user info and port; IPv6 literals keep their brackets.
fn authority_host(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        return host_port.find(']').map_or(host_port, |i| &host_port[..=i]);
    }
    host_port.split(':').next().unwrap_or("")
}

/// A dotted host name with an alphabetic (or punycode) TLD, or an IP literal. `bare` hosts must end in a known
/// TLD (see [`BARE_TLDS`]) because without a scheme anything like `fig.2/3` would otherwise qualify.
fn host_is_valid(host: &str, bare: bool) -> bool {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !bare && v6.parse::<Ipv6Addr>().is_ok();
    }
    if host.parse::<Ipv4Addr>().is_ok() {
        return !bare;
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 || host.len() > 253 {
        return false;
    }
    let labels_ok = labels.iter().all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    let tld = labels[labels.len() - 1].to_lowercase();
    let tld_ok = if bare {
        (tld.len() == 2 && tld.chars().all(|c| c.is_ascii_alphabetic())) || BARE_TLDS.contains(&tld.as_str())
    } else {
        tld.starts_with("xn--") || (tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
    };
    labels_ok && tld_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        UrlDetector::new().find(text, &mut out);
        out.into_iter().map(|d| &text[d.start..d.end]).collect()
    }

    #[test]
    fn scheme_and_www_urls() {
        assert_eq!(found("https://www.microsoft.com/"), ["https://www.microsoft.com/"]);
        assert_eq!(found("see http://microsoft.vlaanderen now"), ["http://microsoft.vlaanderen"]);
        assert_eq!(found("ftp://files.example.org/a.zip"), ["ftp://files.example.org/a.zip"]);
        assert_eq!(found("Visit www.example.co.uk."), ["www.example.co.uk"]);
        assert_eq!(found("HTTPS://EXAMPLE.COM/X"), ["HTTPS://EXAMPLE.COM/X"]);
        assert_eq!(found("Website:https://example.com/"), ["https://example.com/"]);
        assert_eq!(found("http://[2001:db8::1]:8080/p"), ["http://[2001:db8::1]:8080/p"]);
        assert_eq!(found("http://192.168.0.1/admin"), ["http://192.168.0.1/admin"]);
    }

    #[test]
    fn query_string_and_fragment_stay_in_one_hit() {
        let url = "https://track.example.com/c/123?email=jane%40example.org&token=abc#top";
        assert_eq!(found(&format!("Click {url}!")), [url]);
        assert_eq!(
            found("https://webhook.site/a8eedfd6-9d8a-44e0-b0fc-cc7d517db5dc?q=1&b=2"),
            ["https://webhook.site/a8eedfd6-9d8a-44e0-b0fc-cc7d517db5dc?q=1&b=2"]
        );
    }

    #[test]
    fn trailing_punctuation_is_not_part_of_the_url() {
        assert_eq!(found("(see https://example.com/a)."), ["https://example.com/a"]);
        assert_eq!(found("https://example.com/a?"), ["https://example.com/a"]);
        assert_eq!(found("'https://example.org/'"), ["https://example.org/"]);
        assert_eq!(found("\"https://example.org/\""), ["https://example.org/"]);
        assert_eq!(found("https://en.wikipedia.org/wiki/Foo_(bar), ok"), ["https://en.wikipedia.org/wiki/Foo_(bar)"]);
    }

    #[test]
    fn bare_domains_need_a_path_and_a_known_tld() {
        assert_eq!(found("listing at zillow.com/homedetails/123"), ["zillow.com/homedetails/123"]);
        assert_eq!(found("example.de/impressum"), ["example.de/impressum"]);
        assert!(found("microsoft.com").is_empty());
        assert!(found("Booking.com and Amazon.co.uk").is_empty());
        for text in ["fig.2/3", "e.g./i.e.", "v1.2.3/4", "readme.txt/old", "Mr.Smith/Jones"] {
            assert!(found(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn hosts_without_a_tld_are_rejected() {
        for text in ["www.microsoft", "http://microsoft", "'www.microsoft'", "http://", "https://-a.com/"] {
            assert!(found(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn trimming_long_bracket_tails_stays_fast() {
        let text = format!("https://example.com/{}", ")".repeat(100_000));
        assert_eq!(found(&text), ["https://example.com/"]);
    }

    /// The scan reads generated text as the regex it replaces did: scheme and host fragments, ports, paths,
    /// characters that end a URL, other scripts, joined at random.
    #[test]
    fn candidates_are_the_regexs_matches() {
        let re = regex::Regex::new(
            r#"(?x)
              (?i: (?: https? | ftp ) :// | www\. ) [^\s<>"`{}|\\^]+
            | [\p{L}\p{N}] [\p{L}\p{N}-]* (?: \. [\p{L}\p{N}-]+ )+ (?: :[0-9]{1,5} )? / [^\s<>"`{}|\\^]*
            "#,
        )
        .unwrap();
        let pieces = [
            "http://",
            "HTTPS://",
            "https:/",
            "ftp://",
            "Ftp://",
            "www.",
            "WWW.",
            "wwW",
            "httpſ://",
            "ſ",
            "h",
            "http",
            "example",
            "com",
            "de",
            "co",
            "x",
            ".",
            "..",
            "-",
            ":",
            "8080",
            "123456",
            "/",
            "a",
            "é",
            "日本",
            "٤",
            " ",
            "\t",
            "\n",
            "<",
            ">",
            "\"",
            "`",
            "{",
            "|",
            "\\",
            "^",
            "@",
            "_",
            "1",
            "(",
            ")",
            "?",
            "#",
            "&",
            "=",
            "%",
            ",",
            "'",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut matched = 0;
        for _ in 0..200_000 {
            let len = 1 + next(10);
            let text: String = (0..len).map(|_| pieces[next(pieces.len())]).collect();
            let expected: Vec<_> = re.find_iter(&text).map(|m| (m.start(), m.end())).collect();
            assert_eq!(candidates(&text).collect::<Vec<_>>(), expected, "{text:?}");
            matched += expected.len();
        }
        assert!(matched > 50_000, "{matched}");
    }

    #[test]
    fn many_www_hosts_before_one_far_slash_are_read_once() {
        // Each search used to look for a `/` from where it started: 200,000 searches over ~0.6 MB each.
        let text = format!("{}/", "www.a ".repeat(200_000));
        assert_eq!(candidates(&text).count(), 200_000);
        assert!(found(&text).is_empty());
    }

    #[test]
    fn email_domains_are_not_urls() {
        assert!(found("jane@example.com/path").is_empty());
    }
}
