//! E-mail addresses written out to get past spam harvesters and the contact masking of marketplaces' message
//! forms: `jane (at) example (dot) com`, `jane.doe[at]gmx[dot]de`, `jane at example dot com`, `jane@example (dot)
//! com`, `jane.doe at gmail.com`, `juan arroba gmail punto com`, `jean.dupont arobase orange point fr`. The `at`
//! and `dot` words count in brackets - `()`, `[]`, `{}`, `<>` - with or without spaces around, or as bare words
//! between spaces. A bare `at` is everyday English (`look at example.com`), so it needs a written-out dot in the
//! domain or one of the big mail providers' domains after it. The other languages' `at` words (`arroba`,
//! `arobase`, `chiocciola`) name nothing but the sign. Their dot words (`punto`, `point`, `ponto`, `punt`) are
//! everyday words (`at this point in time`, `jean@orange.fr Point de vente`), so they count only after a bracketed
//! `at` or one of those words, and after an `@` only in brackets; never after a bare English `at`. `dot` and
//! `punkt` count anywhere. The address's pseudonym is that of the address written plainly (`jane@example.com`).

use super::{Detection, EntityKind};

/// Domains of mail providers, after which a bare `at` reads as `@` even with a plain dot (`jane.doe at gmail.com`).
const PROVIDERS: [&str; 16] = [
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "icloud.com",
    "aol.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "t-online.de",
    "freenet.de",
    "orange.fr",
    "free.fr",
    "proton.me",
];

/// Words for `@` besides `at` (Spanish and Portuguese, French, Italian), lower case.
const AT_WORDS: [&str; 3] = ["arroba", "arobase", "chiocciola"];

/// Words for the dot that count anywhere (English, German), lower case.
const DOT_WORDS: [&str; 2] = ["dot", "punkt"];

/// Words for the dot that are everyday words too (Spanish and Italian, French, Portuguese, Dutch), lower case.
const EVERYDAY_DOT_WORDS: [&str; 4] = ["punto", "point", "ponto", "punt"];

/// Where the everyday dot words ([`EVERYDAY_DOT_WORDS`]) count, by the `at` before the domain.
#[derive(Clone, Copy, PartialEq)]
enum Everyday {
    /// After a bare English `at`: nowhere.
    Never,
    /// After an `@`: in brackets.
    Bracketed,
    /// After a bracketed `at` or another language's word: bare too.
    Always,
}

/// The most labels a domain may have here.
const MAX_LABELS: usize = 8;

/// A separator word as written: its end, and whether it was bracketed (or, for `at`, an `@`).
struct Separator {
    end: usize,
    marked: bool,
}

/// Finds written-out addresses; only texts with an `at` word or an `@` followed by a written-out dot can hold one.
pub(super) fn find(text: &str, out: &mut Vec<Detection>) {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some((i, len)) = next_at(bytes, from) {
        from = i + 1;
        // `i` is the start of an `at` word (`len` bytes), or an `@`.
        let Some((sep_start, at)) = at_separator(text, i, len) else { continue };
        let Some(start) = local_start(text, sep_start) else { continue };
        let everyday = match (bytes[i], at.marked) {
            (b'@', _) => Everyday::Bracketed,
            (_, true) => Everyday::Always,
            (_, false) => Everyday::Never,
        };
        let Some((end, domain, spelled_dot)) = domain(text, at.end, everyday) else { continue };
        let provider = PROVIDERS.contains(&domain.as_str());
        // An `@` with plain dots is the plain detector's; a bare `at` needs a written-out dot or a provider.
        let written_out = bytes[i] != b'@' || spelled_dot;
        if !written_out || !(at.marked || spelled_dot || provider) {
            continue;
        }
        let local = &text[start..sep_start];
        let normalized = format!("{}@{domain}", local.to_lowercase());
        out.push(Detection { kind: EntityKind::Email, start, end, confidence: 0.8, normalized });
        from = end;
    }
}

/// The next `@` (length 1) or `at` word (`at` or one of [`AT_WORDS`], any case) after a space or an opening
/// bracket (the only places [`word_separator`] takes one), at or after `from`, and its length in bytes.
fn next_at(bytes: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut at = from;
    loop {
        let i = at + bytes.get(at..)?.iter().position(|&b| b == b'@' || matches!(b | 0x20, b'a' | b'c'))?;
        at = i + 1;
        if bytes[i] == b'@' {
            return Some((i, 1));
        }
        if i == 0 || !matches!(bytes[i - 1], b' ' | b'(' | b'[' | b'{' | b'<') {
            continue;
        }
        let word = |w: &str| bytes[i..].get(..w.len()).is_some_and(|r| r.eq_ignore_ascii_case(w.as_bytes()));
        if let Some(w) = ["at"].iter().chain(&AT_WORDS).find(|w| word(w)) {
            return Some((i, w.len()));
        }
    }
}

/// The `at` separator of `len` bytes at byte `i` (an `at` word, or an `@`): where it starts (after the local part)
/// and where it ends (before the domain). An `@` and the words other than `at` are marked, like bracketed words.
fn at_separator(text: &str, i: usize, len: usize) -> Option<(usize, Separator)> {
    if text.as_bytes()[i] == b'@' {
        return Some((i, Separator { end: i + 1, marked: true }));
    }
    let (start, sep) = word_separator(text, i, len)?;
    Some((start, Separator { marked: sep.marked || len > 2, ..sep }))
}

/// A separator word of `len` bytes starting at byte `i`: bracketed (`(at)`, ` [dot] `) or bare between single
/// spaces (` at `). Its start and the separator's end.
fn word_separator(text: &str, i: usize, len: usize) -> Option<(usize, Separator)> {
    let bytes = text.as_bytes();
    let (before, after) = (i.checked_sub(1).map(|b| bytes[b]), bytes.get(i + len).copied());
    let closing = match before {
        Some(b'(') => Some(b')'),
        Some(b'[') => Some(b']'),
        Some(b'{') => Some(b'}'),
        Some(b'<') => Some(b'>'),
        _ => None,
    };
    if let Some(close) = closing {
        if after != Some(close) {
            return None;
        }
        // One optional space on each side of the brackets.
        let start = if i >= 2 && bytes[i - 2] == b' ' { i - 2 } else { i - 1 };
        let end = if bytes.get(i + len + 1) == Some(&b' ') { i + len + 2 } else { i + len + 1 };
        return Some((start, Separator { end, marked: true }));
    }
    (before == Some(b' ') && after == Some(b' ')).then(|| (i - 1, Separator { end: i + len + 1, marked: false }))
}

/// The start of the local part that ends at byte `end`: ASCII letters, digits and `._%+-`, starting with a letter
/// or digit, not glued to a word before it.
fn local_start(text: &str, end: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let len = bytes[..end].iter().rev().take_while(|&&b| b.is_ascii_alphanumeric() || b"._%+-".contains(&b)).count();
    let mut start = end - len;
    while start < end && !bytes[start].is_ascii_alphanumeric() {
        start += 1;
    }
    let glued = text[..start].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '@');
    (start < end && len <= 64 && !glued).then_some(start)
}

/// The domain starting at byte `from`: labels joined by `.` or a written-out dot, the last one a TLD of two
/// letters or more. Its end, the domain as written plainly (lower case), and whether a dot was written out.
/// `everyday`: where the everyday dot words count. A domain glued to more address characters is part of something
/// longer, unless a written-out dot word led there: then the domain ends before that word (`jean(at)orange(dot)fr
/// point très`).
fn domain(text: &str, from: usize, everyday: Everyday) -> Option<(usize, String, bool)> {
    let bytes = text.as_bytes();
    let mut labels: Vec<&str> = Vec::new();
    // Where the domain may end: (end, labels, a dot was written out, a written-out dot word follows).
    let mut ends: Vec<(usize, usize, bool, bool)> = Vec::new();
    let (mut at, mut spelled) = (from, false);
    loop {
        let len = bytes[at..].iter().take_while(|&&b| b.is_ascii_alphanumeric() || b == b'-').count();
        let label = &text[at..at + len];
        if len == 0 || len > 63 || label.starts_with('-') || label.ends_with('-') {
            break;
        }
        labels.push(label);
        at += len;
        if labels.len() >= 2 && label.len() >= 2 && label.bytes().all(|b| b.is_ascii_alphabetic()) {
            ends.push((at, labels.len(), spelled, false));
        }
        if labels.len() == MAX_LABELS {
            break;
        }
        match dot_separator(text, at, everyday) {
            Some((next, written)) => {
                if let Some(last) = ends.last_mut().filter(|e| e.0 == at) {
                    last.3 = written;
                }
                spelled |= written;
                at = next;
            }
            None => break,
        }
    }
    let glued = |end: usize| text[end..].chars().next().is_some_and(|c| c.is_alphanumeric() || c == '@' || c == '_');
    let &(end, count, spelled, _) = match ends.split_last()? {
        (last, _) if !glued(last.0) => last,
        (_, earlier) => earlier.iter().rev().find(|e| e.3 && !glued(e.0))?,
    };
    Some((end, labels[..count].join(".").to_ascii_lowercase(), spelled))
}

/// A dot between labels at byte `at`: `.` followed by a label character, or a written-out dot word ([`DOT_WORDS`];
/// [`EVERYDAY_DOT_WORDS`] where `everyday` says). The next label's start, and whether it was written out.
fn dot_separator(text: &str, at: usize, everyday: Everyday) -> Option<(usize, bool)> {
    let bytes = text.as_bytes();
    if bytes.get(at) == Some(&b'.') && bytes.get(at + 1).is_some_and(u8::is_ascii_alphanumeric) {
        return Some((at + 1, false));
    }
    // ` dot `, `(dot)`, ` [punkt] `: the word starts after one space and/or an opening bracket.
    for skip in [1, 2] {
        for (word, always) in DOT_WORDS.map(|w| (w, true)).into_iter().chain(EVERYDAY_DOT_WORDS.map(|w| (w, false))) {
            let i = at + skip;
            let is_word = bytes.get(i..i + word.len()).is_some_and(|w| w.eq_ignore_ascii_case(word.as_bytes()));
            let opened = bytes
                .get(at..i)
                .is_some_and(|gap| matches!(gap, b" " | b"(" | b"[" | b"{" | b"<" | b" (" | b" [" | b" {" | b" <"));
            if is_word && opened {
                if let Some((_, sep)) = word_separator(text, i, word.len()) {
                    let counts = match everyday {
                        Everyday::Never => always,
                        Everyday::Bracketed => always || sep.marked,
                        Everyday::Always => true,
                    };
                    if !counts {
                        continue;
                    }
                    return bytes.get(sep.end).is_some_and(u8::is_ascii_alphanumeric).then_some((sep.end, true));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&str, String)> {
        let mut out = Vec::new();
        find(text, &mut out);
        out.into_iter().map(|d| (&text[d.start..d.end], d.normalized)).collect()
    }

    #[test]
    fn written_out_addresses_are_found_whole() {
        for (text, hit) in [
            ("mail jane (at) example (dot) com please", "jane (at) example (dot) com"),
            ("mail: jane.doe[at]gmx[dot]de.", "jane.doe[at]gmx[dot]de"),
            ("Jane.Doe {AT} Example {DOT} Co {DOT} UK", "Jane.Doe {AT} Example {DOT} Co {DOT} UK"),
            ("write jane at example dot com today", "jane at example dot com"),
            ("jane@example (dot) com", "jane@example (dot) com"),
            ("jane.doe at gmail.com, thanks", "jane.doe at gmail.com"),
            ("hans.mueller(at)t-online(punkt)de", "hans.mueller(at)t-online(punkt)de"),
            ("jane <at> example <dot> org", "jane <at> example <dot> org"),
            ("escribe a juan.perez arroba gmail punto com", "juan.perez arroba gmail punto com"),
            ("jean.dupont arobase orange point fr merci", "jean.dupont arobase orange point fr"),
            ("mario.rossi chiocciola libero punto it", "mario.rossi chiocciola libero punto it"),
            ("maria ARROBA uol PONTO com PONTO br", "maria ARROBA uol PONTO com PONTO br"),
            ("jan(at)ziggo(punt)nl", "jan(at)ziggo(punt)nl"),
            ("juan@gmail(punto)com", "juan@gmail(punto)com"),
            ("juan.perez(arroba)hotmail.es", "juan.perez(arroba)hotmail.es"),
            // Written-out dot words that end the domain leave the rest (review, session 15).
            ("jean(at)orange(dot)fr point très important", "jean(at)orange(dot)fr"),
            ("juan(at)gmail(dot)com punto después", "juan(at)gmail(dot)com"),
        ] {
            let got = found(text);
            assert_eq!(got.len(), 1, "{text}: {got:?}");
            assert_eq!(got[0].0, hit, "{text}");
        }
        assert_eq!(found("JANE (AT) Example (DOT) COM")[0].1, "jane@example.com");
        assert_eq!(found("hans.mueller(at)t-online(punkt)de")[0].1, "hans.mueller@t-online.de");
        assert_eq!(found("maria ARROBA uol PONTO com PONTO br")[0].1, "maria@uol.com.br");
    }

    #[test]
    fn everyday_at_and_plain_addresses_are_left_alone() {
        for text in [
            "look at example.com for the listing",
            "we meet at 10 at the office",
            "jane@example.com",
            "at (dot) com",
            "see you at home. Thanks",
            "cat at dog dot",
            "flat (at) the corner",
            "x (at) y",
            "jane (at) example (dot) c",
            "format (at)example(dot)com2",
            "at this point in time",
            "we looked at the point in time",
            "meet at home point blank",
            "we looked at the house point by point",
            "el punto de vista arroba",
            "Zarroba (dot) com",
            "una arroba de trigo",
            // Everyday dot words after an `@` or a bare `at` (review, session 15).
            "Email: jean@orange.fr Point de vente: Lyon",
            "jane@example.com point of contact",
            "contact at home (point) of sale",
            "jane at example (point) com",
        ] {
            assert_eq!(found(text), vec![], "{text}");
        }
    }

    #[test]
    fn no_panic_at_the_edges() {
        for text in [
            "at",
            "@",
            "(at)",
            "a (at) b (dot) cc",
            " at ",
            "x at y.",
            "é (at) é (dot) éé",
            "a(at)",
            "(dot)",
            "arroba",
            "x arroba",
            "chiocciol",
            "a arobase b point",
            "(punto)",
        ] {
            found(text);
        }
        assert_eq!(found("a (at) b (dot) cc").len(), 1);
    }
}
