//! Overlap resolution: the detectors run independently, so one stretch of text can be claimed twice (a URL that
//! holds an IP address, an SSN-shaped run that is also a valid phone number). The scrubber needs one answer per
//! byte, so the longest hit wins, then the most confident, then the kind declared first in `EntityKind`; the
//! earliest start breaks any remaining tie so the result never depends on detector order. A hit that loses only
//! part of its span keeps the rest (trimmed to letters and digits): every byte some detector claimed stays
//! covered, so a wrong winner (`80331 078 05` read as a phone in `PLZ 80331 078 05 1123`) cannot leave the end
//! of the right one (the SSN's `1123`) in clear text.

use super::Detection;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Keeps a non-overlapping cover of `found` in `text`, sorted by start: the hits that win their overlaps whole,
/// and the uncovered parts of those that lose part of their span.
pub(super) fn resolve(text: &str, mut found: Vec<Detection>) -> Vec<Detection> {
    found.sort_by(priority);
    // start -> end of every accepted span; accepted spans never overlap.
    let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
    let mut kept = Vec::new();
    for d in found {
        if d.is_empty() {
            continue;
        }
        for (start, end) in uncovered(&taken, d.start, d.end) {
            let Some((start, end)) = trimmed(text, start, end, start != d.start, end != d.end) else { continue };
            taken.insert(start, end);
            kept.push(Detection { start, end, ..d.clone() });
        }
    }
    kept.sort_by_key(|d| (d.start, d.end));
    kept
}

/// The parts of `start..end` that no span in `taken` covers.
fn uncovered(taken: &BTreeMap<usize, usize>, start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let mut from = start;
    // The span that starts before `start` and may reach into it, then those starting inside.
    let before = taken.range(..start).next_back().map(|(&s, &e)| (s, e));
    for (s, e) in before.into_iter().chain(taken.range(start..end).map(|(&s, &e)| (s, e))) {
        if e <= from {
            continue;
        }
        if s > from {
            parts.push((from, s));
        }
        from = from.max(e);
    }
    if from < end {
        parts.push((from, end));
    }
    parts
}

/// `text[start..end]` without the characters that are not letters or digits at its start (when `cut_start`) and
/// its end (when `cut_end`), where another hit cut it; none if a cut part has no letter or digit.
fn trimmed(text: &str, start: usize, end: usize, cut_start: bool, cut_end: bool) -> Option<(usize, usize)> {
    let part = &text[start..end];
    if (cut_start || cut_end) && !part.chars().any(char::is_alphanumeric) {
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
    fn partial_overlaps_keep_only_their_uncovered_parts() {
        let kept = resolve(vec![
            det(EntityKind::PaymentCard, 10, 20, 0.9),
            det(EntityKind::Phone, 5, 11, 0.9),
            det(EntityKind::Phone, 19, 24, 0.9),
            det(EntityKind::Ip, 20, 22, 0.9),
            det(EntityKind::Ip, 0, 10, 0.1),
            det(EntityKind::UsSsn, 18, 26, 0.1),
        ]);
        assert_eq!(
            spans(&kept),
            vec![(EntityKind::Ip, 0, 10), (EntityKind::PaymentCard, 10, 20), (EntityKind::UsSsn, 20, 26)]
        );
    }

    #[test]
    fn a_part_left_is_trimmed_to_letters_and_digits_and_dropped_when_none_are_left() {
        let text = "PLZ 80331 078 05 1123, 4111 1111 1111 1111 ";
        let phone = det(EntityKind::Phone, 4, 16, 0.6);
        let ssn = det(EntityKind::UsSsn, 10, 21, 0.8);
        let kept = super::resolve(text, vec![ssn, phone]);
        let parts: Vec<_> = kept.iter().map(|d| (d.kind, &text[d.start..d.end])).collect();
        assert_eq!(parts, [(EntityKind::Phone, "80331 078 05"), (EntityKind::UsSsn, "1123")]);
        let card = det(EntityKind::PaymentCard, 23, 42, 0.9);
        let touching = det(EntityKind::Ip, 21, 25, 0.9);
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
        assert_eq!(spans(&one), vec![(EntityKind::Phone, 0, 8), (EntityKind::UsSsn, 8, 12)]);
    }
}
