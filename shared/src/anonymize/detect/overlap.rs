//! Overlap resolution: the detectors run independently, so one stretch of text can be claimed twice (a URL that
//! holds an IP address, an SSN-shaped run that is also a valid phone number). The scrubber needs one answer per
//! byte, so the longest hit wins, then the most confident, then the kind declared first in `EntityKind`; the
//! earliest start breaks any remaining tie so the result never depends on detector order.

use super::Detection;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Keeps a non-overlapping subset of `found`, sorted by start.
pub(super) fn resolve(mut found: Vec<Detection>) -> Vec<Detection> {
    found.sort_by(priority);
    // start -> end of every accepted span; accepted spans never overlap, so checking the nearest one on each
    // side is enough.
    let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
    let mut kept = Vec::new();
    for d in found {
        if d.is_empty() {
            continue;
        }
        let clashes_before = taken.range(..=d.start).next_back().is_some_and(|(_, &end)| end > d.start);
        let clashes_after = taken.range(d.start..d.end).next().is_some();
        if !clashes_before && !clashes_after {
            taken.insert(d.start, d.end);
            kept.push(d);
        }
    }
    kept.sort_by_key(|d| (d.start, d.end));
    kept
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
    fn partial_overlaps_on_either_side_are_dropped_and_neighbours_kept() {
        let kept = resolve(vec![
            det(EntityKind::PaymentCard, 10, 20, 0.9),
            det(EntityKind::Phone, 5, 11, 0.9),
            det(EntityKind::Phone, 19, 22, 0.9),
            det(EntityKind::Ip, 20, 22, 0.9),
            det(EntityKind::Ip, 0, 10, 0.1),
        ]);
        assert_eq!(
            spans(&kept),
            vec![(EntityKind::Ip, 0, 10), (EntityKind::PaymentCard, 10, 20), (EntityKind::Ip, 20, 22)]
        );
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
