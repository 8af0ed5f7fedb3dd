//! Overlap resolution: the detectors run independently, so one stretch of text can be claimed twice (a URL that
//! holds an IP address, an SSN-shaped run that is also a valid phone number). The scrubber needs one answer per
//! byte, so the longest hit wins, then the most confident, then the kind declared first in `EntityKind`; the
//! earliest start breaks any remaining tie so the result never depends on detector order.
//!
//! A hit that loses part of its span keeps the rest: to less confident hits when at least four letters or digits
//! are left, so a longer but weaker reading (`80331 078 05` as a phone in `PLZ 80331 078 05 1123`) cannot leave
//! the end of a surer one (the SSN's `1123`) in clear text; to others only when six digits or more are left
//! (`+49 30 901820`, whose window took the first group of the card after it). Such a piece's
//! normalised value is its own text, so its pseudonym says nothing about the whole value.

use super::Detection;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Fewest letters or digits a piece of a partly overlapped hit must have to be kept.
const MIN_PIECE: usize = 4;

/// Fewest digits a piece must have when the hit lost to a more confident one (a postcode or year next to a card
/// is no such piece; `34 56 78`, the end of a phone number, is).
const WEAKER_PIECE_DIGITS: usize = 6;

/// Keeps a non-overlapping subset of `found` in `text`, sorted by start: the hits that win their overlaps, and
/// the uncovered pieces of hits that lost part of their span (see the module documentation for which).
pub(super) fn resolve(text: &str, mut found: Vec<Detection>) -> Vec<Detection> {
    found.sort_by(priority);
    // start -> (end, confidence) of every accepted span; accepted spans never overlap.
    let mut taken: BTreeMap<usize, (usize, f32)> = BTreeMap::new();
    let mut kept = Vec::new();
    for d in found {
        if d.is_empty() {
            continue;
        }
        let (parts, strongest) = uncovered(&taken, d.start, d.end);
        if parts == [(d.start, d.end)] {
            taken.insert(d.start, (d.end, d.confidence));
            kept.push(d);
            continue;
        }
        let more_confident = strongest.is_none_or(|c| c < d.confidence);
        for (start, end) in parts {
            let Some((start, end)) = trimmed(text, start, end, start != d.start, end != d.end) else { continue };
            // A weaker hit keeps only what could be a number by itself (`+49 30 901820` before a card).
            let digits = text[start..end].bytes().filter(u8::is_ascii_digit).count();
            if !more_confident && digits < WEAKER_PIECE_DIGITS {
                continue;
            }
            taken.insert(start, (end, d.confidence));
            kept.push(Detection { start, end, normalized: text[start..end].to_string(), ..d.clone() });
        }
    }
    kept.sort_by_key(|d| (d.start, d.end));
    kept
}

/// The parts of `start..end` that no span in `taken` covers, and the highest confidence of those that overlap
/// it (none when none does).
fn uncovered(taken: &BTreeMap<usize, (usize, f32)>, start: usize, end: usize) -> (Vec<(usize, usize)>, Option<f32>) {
    let mut parts = Vec::new();
    let mut strongest = None::<f32>;
    let mut from = start;
    // The span that starts before `start` and may reach into it, then those starting inside.
    let before = taken.range(..start).next_back().map(|(&s, &v)| (s, v));
    for (s, (e, confidence)) in before.into_iter().chain(taken.range(start..end).map(|(&s, &v)| (s, v))) {
        if e <= from {
            continue;
        }
        strongest = Some(strongest.map_or(confidence, |c| c.max(confidence)));
        if s > from {
            parts.push((from, s));
        }
        from = from.max(e);
    }
    if from < end {
        parts.push((from, end));
    }
    (parts, strongest)
}

/// `text[start..end]` without the characters that are not letters or digits at its start (when `cut_start`) and
/// its end (when `cut_end`), where another hit cut it; none if it has fewer than [`MIN_PIECE`] letters or digits.
fn trimmed(text: &str, start: usize, end: usize, cut_start: bool, cut_end: bool) -> Option<(usize, usize)> {
    let part = &text[start..end];
    if part.chars().filter(|c| c.is_alphanumeric()).count() < MIN_PIECE {
        return None;
    }
    let not_kept = |c: char| !c.is_alphanumeric();
    let from = if cut_start { start + (part.len() - part.trim_start_matches(not_kept).len()) } else { start };
    let to = if cut_end { start + part.trim_end_matches(not_kept).len() } else { end };
    Some((from, to))
}

fn priority(a: &Detection, b: &Detection) -> Ordering {
    b.len()
        .cmp(&a.len())
        .then(b.confidence.total_cmp(&a.confidence))
        .then(a.kind.cmp(&b.kind))
        .then(a.start.cmp(&b.start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anonymize::detect::EntityKind;

    fn det(kind: EntityKind, start: usize, end: usize, confidence: f32) -> Detection {
        Detection { kind, start, end, confidence, normalized: String::new() }
    }

    fn spans(found: &[Detection]) -> Vec<(EntityKind, usize, usize)> {
        found.iter().map(|d| (d.kind, d.start, d.end)).collect()
    }

    /// A text of letters as long as the spans below need.
    const TEXT: &str = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz";

    fn resolve(found: Vec<Detection>) -> Vec<Detection> {
        super::resolve(TEXT, found)
    }

    #[test]
    fn longest_span_wins() {
        let kept = resolve(vec![
            det(EntityKind::Ip, 12, 23, 0.9),
            det(EntityKind::Url, 5, 30, 0.6),
            det(EntityKind::Phone, 40, 50, 0.7),
        ]);
        assert_eq!(spans(&kept), vec![(EntityKind::Url, 5, 30), (EntityKind::Phone, 40, 50)]);
    }

    #[test]
    fn equal_spans_go_to_confidence_then_kind_order() {
        let kept = resolve(vec![det(EntityKind::UsSsn, 0, 11, 0.85), det(EntityKind::Phone, 0, 11, 0.7)]);
        assert_eq!(spans(&kept), vec![(EntityKind::UsSsn, 0, 11)]);
        let kept = resolve(vec![det(EntityKind::Url, 0, 11, 0.7), det(EntityKind::Phone, 0, 11, 0.7)]);
        assert_eq!(spans(&kept), vec![(EntityKind::Phone, 0, 11)]);
    }

    #[test]
    fn a_more_confident_partial_overlap_keeps_its_uncovered_part_and_a_weaker_one_is_dropped() {
        let kept = resolve(vec![
            det(EntityKind::PaymentCard, 10, 20, 0.9),
            det(EntityKind::Phone, 5, 11, 0.9),
            det(EntityKind::Phone, 19, 24, 0.9),
            det(EntityKind::Ip, 20, 22, 0.9),
            det(EntityKind::Ip, 0, 10, 0.1),
            det(EntityKind::UsSsn, 18, 26, 0.95),
            det(EntityKind::Phone, 24, 30, 0.1),
        ]);
        assert_eq!(
            spans(&kept),
            vec![(EntityKind::Ip, 0, 10), (EntityKind::PaymentCard, 10, 20), (EntityKind::UsSsn, 20, 26)]
        );
    }

    #[test]
    fn a_piece_is_trimmed_to_letters_and_digits_and_dropped_with_fewer_than_four() {
        let text = "PLZ 80331 078 05 1123, 4111 1111 1111 1111 ";
        let phone = det(EntityKind::Phone, 4, 16, 0.6);
        let ssn = det(EntityKind::UsSsn, 10, 21, 0.8);
        let kept = super::resolve(text, vec![ssn, phone]);
        let parts: Vec<_> = kept.iter().map(|d| (d.kind, &text[d.start..d.end])).collect();
        assert_eq!(parts, [(EntityKind::Phone, "80331 078 05"), (EntityKind::UsSsn, "1123")]);
        // The piece's pseudonym is of the piece alone.
        assert_eq!(kept[1].normalized, "1123");
        let card = det(EntityKind::PaymentCard, 23, 42, 0.9);
        let touching = det(EntityKind::Ip, 21, 25, 0.95);
        let kept = super::resolve(text, vec![card, touching]);
        assert_eq!(spans(&kept), [(EntityKind::PaymentCard, 23, 42)]);
    }

    #[test]
    fn input_order_does_not_matter() {
        let a = det(EntityKind::Phone, 0, 8, 0.7);
        let b = det(EntityKind::UsSsn, 4, 12, 0.7);
        let one = resolve(vec![a.clone(), b.clone()]);
        let two = resolve(vec![b, a]);
        assert_eq!(one, two);
        assert_eq!(spans(&one), vec![(EntityKind::Phone, 0, 8)]);
    }
}
