//! Label settings of a running server: how label timestamps are rounded and in which order the
//! `labels` query returns its matches.
//!
//! They are server settings (from [`LocalServerBuilder`](crate::LocalServerBuilder)), not data:
//! they live in the schema's data, and the store receives them with each write. A server
//! restarted on the same [`ServerState`](crate::ServerState) uses whatever its own builder
//! says, so a test that restarts with the same options gets the same behaviour.

use std::time::Duration;

/// How many labels a subscription may have waiting by default (a few MiB at most: the queue
/// holds references to labels the store keeps anyway).
pub(crate) const DEFAULT_SUBSCRIBER_QUEUE: usize = 262_144;

/// How labels are stamped, ordered and queued for subscribers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LabelSettings {
    /// Label timestamps are floored to a multiple of this, counted from `origin_ms`; at least 1.
    resolution_ms: i64,
    /// Where the multiples start: the server's start, so that stamps are never earlier than it.
    origin_ms: i64,
    /// Whether `labels` returns matches ordered by [`shuffle_key`] instead of creation order.
    pub(crate) shuffle_pages: bool,
    /// How many labels a subscription may have waiting for its client before it is dropped.
    pub(crate) subscriber_queue: usize,
}

impl Default for LabelSettings {
    fn default() -> Self {
        LabelSettings::DEFAULT
    }
}

impl LabelSettings {
    /// Millisecond timestamps, creation order.
    pub(crate) const DEFAULT: LabelSettings = LabelSettings {
        resolution_ms: 1,
        origin_ms: 0,
        shuffle_pages: false,
        subscriber_queue: DEFAULT_SUBSCRIBER_QUEUE,
    };

    /// Makes settings with this timestamp resolution.
    ///
    /// # Errors
    ///
    /// A message when `resolution` is not a whole, non-zero number of milliseconds (timestamps
    /// have millisecond precision, so no other multiple can be written).
    pub(crate) fn new(
        resolution: Duration,
        shuffle_pages: bool,
        origin_ms: i64,
    ) -> Result<Self, String> {
        if !resolution.subsec_nanos().is_multiple_of(1_000_000) {
            return Err(format!(
                "created_at_resolution must be a whole number of milliseconds, not {resolution:?}"
            ));
        }
        match i64::try_from(resolution.as_millis()) {
            Ok(ms) if ms >= 1 => Ok(LabelSettings {
                resolution_ms: ms,
                origin_ms,
                shuffle_pages,
                subscriber_queue: DEFAULT_SUBSCRIBER_QUEUE,
            }),
            _ => Err(format!(
                "created_at_resolution must be from 1 ms to i64::MAX ms, not {resolution:?}"
            )),
        }
    }

    /// Floors `ms` to the origin plus a multiple of the resolution (a no-op at 1 ms). Monotonic: a
    /// later instant never gets an earlier stamp.
    pub(crate) fn stamp(&self, ms: i64) -> i64 {
        // `resolution_ms >= 1` by construction, so `rem_euclid` cannot divide by zero, and the
        // remainder is in `0..resolution_ms`.
        ms.saturating_sub(
            ms.saturating_sub(self.origin_ms)
                .rem_euclid(self.resolution_ms),
        )
    }
}

/// Returns the sort key of a label id in shuffled order: a hash of the id, stable across runs and
/// platforms (FNV-1a 64 then a splitmix64 finalizer so that ids sharing a prefix scatter).
pub(crate) fn shuffle_key(id: &str) -> u64 {
    let h = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let mut z = h;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_count_from_the_origin() {
        let hour = LabelSettings::new(Duration::from_secs(3600), false, 1_000_123).unwrap();
        assert_eq!(hour.stamp(1_000_123), 1_000_123, "the start itself");
        assert_eq!(hour.stamp(1_000_123 + 3_599_999), 1_000_123);
        assert_eq!(hour.stamp(1_000_123 + 3_600_000), 1_000_123 + 3_600_000);
    }

    #[test]
    fn stamps_floor_to_the_resolution_and_keep_order() {
        let ms = LabelSettings::default();
        assert_eq!(ms.stamp(1_700_000_000_123), 1_700_000_000_123);
        let hour = LabelSettings::new(Duration::from_secs(3600), false, 0).unwrap();
        assert_eq!(hour.stamp(7_200_000 + 59_999), 7_200_000);
        assert_eq!(hour.stamp(7_200_000), 7_200_000);
        let mut last = i64::MIN;
        for t in (0..10_000_000).step_by(99_991) {
            let s = hour.stamp(t);
            assert!(s <= t && s >= last && s % 3_600_000 == 0);
            last = s;
        }
    }

    #[test]
    fn resolution_must_be_whole_milliseconds() {
        assert!(LabelSettings::new(Duration::ZERO, false, 0).is_err());
        assert!(LabelSettings::new(Duration::from_micros(1500), false, 0).is_err());
        assert!(LabelSettings::new(Duration::MAX, false, 0).is_err());
        assert!(
            LabelSettings::new(Duration::from_millis(1), true, 0).is_ok_and(|s| s.shuffle_pages)
        );
    }

    #[test]
    fn shuffle_keys_are_stable_and_scatter_sequential_ids() {
        assert_eq!(shuffle_key("abc"), shuffle_key("abc"));
        let ids: Vec<String> = (0..50).map(|i| format!("clabel{i:06}")).collect();
        let mut sorted = ids.clone();
        sorted.sort_by_key(|i| shuffle_key(i));
        assert_ne!(sorted, ids, "a hash order is not the creation order");
    }
}
