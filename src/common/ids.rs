//! The identifiers this crate makes up: asset ids and external ids for imports, operation ids
//! for subscriptions. Random bits come from `fastrand`; nothing here is used for security.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Returns a new id in the shape of the cuids Kili and its SDK use: `c` + 24 base-36 characters
/// (timestamp, counter, process fingerprint, random), 25 in all.
///
/// The official SDK generates asset ids client-side the same way; sending them in `idArray` is
/// what makes a retried `appendManyAssets` safe to reconcile.
pub(crate) fn new_cuid() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut s = String::with_capacity(25);
    s.push('c');
    push_base36(&mut s, millis, 8);
    push_base36(&mut s, count, 4);
    push_base36(&mut s, u64::from(std::process::id()), 4);
    push_base36(&mut s, fastrand::u64(..), 8);
    s
}

/// Returns a random external id, as the SDK's `uuid4().hex`: 32 lowercase hex digits.
pub(crate) fn new_external_id() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

/// Returns an operation id for a subscription: 6 ASCII letters and digits, as the SDK's.
pub(crate) fn new_operation_id() -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(6)
        .collect()
}

/// Appends the `width` low base-36 digits of `n`, zero-padded.
fn push_base36(out: &mut String, mut n: u64, width: usize) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let start = out.len();
    for _ in 0..width {
        out.insert(start, char::from(DIGITS[(n % 36) as usize]));
        n /= 36;
    }
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
    fn base36_is_zero_padded() {
        let mut s = String::from("x");
        push_base36(&mut s, 35, 3);
        assert_eq!(s, "x00z");
        push_base36(&mut s, 36 * 36, 2);
        assert_eq!(s, "x00z00", "digits beyond the width are cut");
    }

    #[test]
    fn other_ids_have_the_sdk_shapes() {
        let e = new_external_id();
        assert_eq!(e.len(), 32);
        assert!(e.chars().all(|c| c.is_ascii_hexdigit()));
        let op = new_operation_id();
        assert_eq!(op.len(), 6);
        assert!(op.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(new_operation_id() + &new_operation_id(), op.clone() + &op);
    }
}
