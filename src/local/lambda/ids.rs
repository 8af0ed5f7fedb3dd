//! The identifiers the Lambda service hands a runtime: request ids, X-Ray trace ids and log stream names.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A fresh request id, formatted like the service's (a random UUID v4).
pub(super) fn request_id() -> String {
    let mut b: [u8; 16] = random_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex(&b);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// A fresh `Lambda-Runtime-Trace-Id` value: `Root=1-<epoch secs>-<96 bits>;Parent=<64 bits>;Sampled=0`.
pub(super) fn trace_id() -> String {
    let root: [u8; 12] = random_bytes();
    let parent: [u8; 8] = random_bytes();
    format!("Root=1-{:08x}-{};Parent={};Sampled=0", epoch_secs(), hex(&root), hex(&parent))
}

/// A log stream name shaped like the service's: `YYYY/MM/DD/[$LATEST]<32 hex>`.
pub(super) fn log_stream_name() -> String {
    let day = i64::try_from(epoch_secs())
        .ok()
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map(|t| t.format("%Y/%m/%d").to_string())
        .unwrap_or_else(|| "1970/01/01".to_owned());
    let id: [u8; 16] = random_bytes();
    format!("{day}/[$LATEST]{}", hex(&id))
}

fn epoch_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if getrandom::fill(&mut bytes).is_err() {
        // Without OS randomness, ids still have to be unique within this process.
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let seed = (nanos ^ (u128::from(COUNTER.fetch_add(1, Ordering::Relaxed)) << 64)).to_le_bytes();
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = seed[i % seed.len()];
        }
    }
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_distinct_v4_uuids() {
        let (a, b) = (request_id(), request_id());
        assert_ne!(a, b);
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{a}");
        assert_eq!(&a[14..15], "4", "{a}");
    }

    #[test]
    fn trace_and_log_stream_have_the_service_shape() {
        let trace = trace_id();
        assert!(trace.starts_with("Root=1-") && trace.ends_with(";Sampled=0"), "{trace}");
        let stream = log_stream_name();
        assert_eq!(stream.find("/[$LATEST]"), Some(10), "{stream}");
        assert_eq!(stream.len(), 10 + "/[$LATEST]".len() + 32, "{stream}");
    }
}
