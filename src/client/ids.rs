//! Client-side randomness: jitter for retries and the ids given to new assets.
//!
//! No RNG crate: std's `RandomState` is seeded from the OS per thread and SipHash mixes a
//! counter into 64 unpredictable-enough bits. Nothing here is used for security.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// 64 random bits.
pub(crate) fn random_u64() -> u64 {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    RandomState::new().hash_one(n)
}

/// A uniform float in `[0, 1)`.
pub(crate) fn random_unit() -> f64 {
    (random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A new id in the shape of the cuids Kili and its SDK use: `c` + 24 base-36 characters
/// (timestamp, counter, process fingerprint, random), 25 in all.
///
/// The official SDK generates asset ids client-side the same way; sending them in `idArray` is
/// what makes a retried `appendManyAssets` safe to reconcile.
pub(crate) fn new_cuid() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut s = String::with_capacity(25);
    s.push('c');
    push_base36(&mut s, millis, 8);
    push_base36(&mut s, count, 4);
    push_base36(&mut s, u64::from(std::process::id()), 4);
    push_base36(&mut s, random_u64(), 8);
    s
}

/// Appends the `width` low base-36 digits of `n`, zero-padded.
fn push_base36(out: &mut String, mut n: u64, width: usize) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut buf = vec![b'0'; width];
    for slot in buf.iter_mut().rev() {
        *slot = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    out.extend(buf.into_iter().map(char::from));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn cuids_are_well_formed_and_distinct() {
        let ids: HashSet<String> = (0..10_000).map(|_| new_cuid()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(50) {
            assert_eq!(id.len(), 25, "{id}");
            assert!(id.starts_with('c'));
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
            );
        }
    }

    #[test]
    fn unit_is_in_range() {
        for _ in 0..1000 {
            let u = random_unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
