//! IP addresses. Candidates are cut out of the text by character class and parsed with `std::net`, which accepts
//! exactly the RFC 4291/5952 textual forms: full and `::`-compressed IPv6, IPv6 with an embedded IPv4 tail
//! (`::ffff:192.0.2.1`, `64:ff9b::192.0.2.1`), and dotted-quad IPv4 without leading zeros. An IPv6 zone
//! (`fe80::1%eth0`) and a CIDR prefix length (`/24`, `/64`) are part of the hit when present and in range.
//!
//! Decisions: a bare `::` (the unspecified address) is reported with very low confidence, since it is rarely
//! personal; a dotted quad is an address even when it reads like a four-part version number (`1.2.3.4`),
//! because the syntax cannot tell them apart and an unmasked address is the costlier mistake; three-part
//! versions (`1.2.3`) are never addresses. Of a longer dotted run (`192.168.1.1.1`) the leading quad is
//! reported. Times (`12:34:56`), MAC addresses, ratios and `std::cout` fail the parse or the word-boundary
//! check.

use super::{char_after, char_before, is_word_char, Detection, EntityKind};
use regex::Regex;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Dotted quads of 1-3 digit numbers; the parse decides.
const V4: &str = r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}";
/// Runs of hex digits, colons and dots holding at least one colon (the dots carry an IPv4 tail).
const V6: &str = r"[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*";
/// An IPv6 zone index: interface names and numbers.
const ZONE: &str = r"^%[0-9A-Za-z_.\-]{1,32}";
/// A CIDR prefix length.
const PREFIX: &str = r"^/[0-9]{1,3}";

/// Finds IPv4 and IPv6 addresses.
#[derive(Debug)]
pub(super) struct IpDetector {
    v4: Regex,
    v6: Regex,
    zone: Regex,
    prefix: Regex,
}

impl IpDetector {
    pub(super) fn new() -> Self {
        let re = |p| Regex::new(p).expect("ip pattern compiles");
        Self { v4: re(V4), v6: re(V6), zone: re(ZONE), prefix: re(PREFIX) }
    }

    pub(super) fn find(&self, text: &str, out: &mut Vec<Detection>) {
        self.find_v4(text, out);
        self.find_v6(text, out);
    }

    fn find_v4(&self, text: &str, out: &mut Vec<Detection>) {
        for m in self.v4.find_iter(text) {
            let before = char_before(text, m.start());
            if before.is_some_and(|c| is_word_char(c) || c == '.') {
                continue;
            }
            let Ok(addr) = m.as_str().parse::<Ipv4Addr>() else {
                continue;
            };
            // A following `.digit` continues a longer dotted run; only a following letter or digit cuts a word.
            if char_after(text, m.end()).is_some_and(is_word_char) {
                continue;
            }
            let (end, prefix) = self.prefix_after(text, m.end(), 32);
            out.push(Detection {
                kind: EntityKind::Ip,
                start: m.start(),
                end,
                confidence: 0.85,
                normalized: format!("{addr}{prefix}"),
            });
        }
    }

    fn find_v6(&self, text: &str, out: &mut Vec<Detection>) {
        for m in self.v6.find_iter(text) {
            // Sentence punctuation is not part of the address: `2001:db8::1.`
            let raw = m.as_str().trim_end_matches('.');
            let (start, raw_end) = (m.start(), m.start() + raw.len());
            if char_before(text, start).is_some_and(is_word_char) {
                continue;
            }
            let Ok(addr) = raw.parse::<Ipv6Addr>() else {
                continue;
            };
            let mut end = raw_end;
            let mut zone = "";
            if let Some(z) = self.zone.find(&text[end..]) {
                zone = z.as_str();
                end += z.end();
            }
            if char_after(text, end).is_some_and(|c| is_word_char(c) || c == ':') {
                continue;
            }
            let (end, prefix) = self.prefix_after(text, end, 128);
            let unspecified = addr.is_unspecified() && raw == "::";
            out.push(Detection {
                kind: EntityKind::Ip,
                start,
                end,
                confidence: if unspecified { 0.1 } else { 0.85 },
                normalized: format!("{addr}{zone}{prefix}"),
            });
        }
    }

    /// A `/len` prefix after byte `at`, kept when `len <= max` and nothing word-like follows it.
    fn prefix_after<'t>(&self, text: &'t str, at: usize, max: u32) -> (usize, &'t str) {
        if let Some(p) = self.prefix.find(&text[at..]) {
            let len_ok = p.as_str()[1..].parse::<u32>().is_ok_and(|n| n <= max);
            let end = at + p.end();
            if len_ok && !char_after(text, end).is_some_and(is_word_char) {
                return (end, &text[at..end]);
            }
        }
        (at, "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&str, String)> {
        // Resolved like the Detector does: an embedded IPv4 tail is part of its IPv6 address.
        let mut out = Vec::new();
        IpDetector::new().find(text, &mut out);
        super::super::overlap::resolve(text, out).into_iter().map(|d| (&text[d.start..d.end], d.normalized)).collect()
    }

    fn spans(text: &str) -> Vec<&str> {
        found(text).into_iter().map(|(s, _)| s).collect()
    }

    #[test]
    fn ipv4_in_context() {
        assert_eq!(spans("microsoft.com 192.168.0.1"), ["192.168.0.1"]);
        assert_eq!(spans("(192.168.1.1)"), ["192.168.1.1"]);
        assert_eq!(spans("IP: 192.168.1.1."), ["192.168.1.1"]);
        assert_eq!(spans("192.168.2.1@eth0"), ["192.168.2.1"]);
        assert_eq!(spans("Primary: 10.0.0.1, Secondary: 172.16.0.1"), ["10.0.0.1", "172.16.0.1"]);
        assert_eq!(spans("192.168.1.1.1"), ["192.168.1.1"]);
    }

    #[test]
    fn ipv6_forms() {
        for addr in [
            "684D:1111:222:3333:4444:5555:6:77",
            "2001:db8::1",
            "fe80::1%eth0",
            "::1",
            "::ffff:192.0.2.1",
            "64:ff9b::192.0.2.1",
            "0:0:0:0:0:FFFF:129.144.52.38",
            "A099::09C0:876A:130B",
        ] {
            assert_eq!(spans(addr), [addr], "{addr}");
        }
        assert_eq!(spans("Connect to [2001:db8::1]:8080"), ["2001:db8::1"]);
        assert_eq!(spans("Server IP: 2400:c401::5054:ff:fe1b:b031."), ["2400:c401::5054:ff:fe1b:b031"]);
        assert_eq!(spans("src=:: dst=::1"), ["::", "::1"]);
    }

    #[test]
    fn normalised_forms_are_canonical() {
        assert_eq!(found("2001:0DB8:0000:0000:0000:0000:0000:0001")[0].1, "2001:db8::1");
        assert_eq!(found("fe80::1%eth0/64")[0].1, "fe80::1%eth0/64");
        assert_eq!(found("10.0.0.0/8")[0].1, "10.0.0.0/8");
    }

    #[test]
    fn cidr_prefixes_in_range_are_kept() {
        assert_eq!(spans("Route is 10.0.0.0/8."), ["10.0.0.0/8"]);
        assert_eq!(spans("2001:db8::/32"), ["2001:db8::/32"]);
        assert_eq!(spans("10.0.0.0/123"), ["10.0.0.0"]);
        assert_eq!(spans("2001:db8::/9999"), ["2001:db8::"]);
    }

    #[test]
    fn unspecified_address_scores_low() {
        let mut out = Vec::new();
        IpDetector::new().find("Use local ipv6 ::", &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].confidence < 0.2);
    }

    #[test]
    fn rejects_look_alikes() {
        for text in [
            "my ip: 192.168.0",
            "Version 1.2.3",
            "256.256.256.256",
            "192.168.01.1",
            "IP192.168.1.1text",
            "text192.168.1.1",
            "MAC address aa:bb:cc:dd:ee:ff",
            "Time 12:34:56",
            "Ratio 1:2:3:4",
            "Port 80:443",
            "std::cout",
            "MyClass::toString",
            ":::",
            "fe80::1text",
            "2001::db8::1",
            "12345:db8::1",
            "::ffff:256.0.0.1",
            "684D:1111:222:3333:4444:5555:77",
            "file:///path/to/file",
            "CSS color #ff00aa",
        ] {
            assert!(spans(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn ipv4_tail_after_a_word_is_reported_alone() {
        assert_eq!(spans("text::ffff:192.0.2.1"), ["192.0.2.1"]);
        assert_eq!(spans("foo2001:db8::10.0.0.1"), ["10.0.0.1"]);
    }
}
