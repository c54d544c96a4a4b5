//! Capped exponential backoff with full jitter, for HTTP retries and subscription reconnects.
//!
//! Retry `n` (from 0) waits a uniformly random time in `[0, min(max, initial * 2^n)]`, so that
//! many clients cut off at once do not come back at once.

use std::time::Duration;

/// The delays between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
}

impl Backoff {
    /// Delays from `initial` doubling up to `max` (`max` is raised to `initial` if smaller).
    pub(crate) fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max: max.max(initial),
        }
    }

    /// Returns the upper bound of the delay before retry `retry` (from 0).
    pub(crate) fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// Returns a random delay before retry `retry` (from 0).
    pub(crate) fn delay(&self, retry: u32) -> Duration {
        self.delay_with(retry, fastrand::f64())
    }

    /// Returns the delay before retry `retry` for a uniform draw `unit` in `[0, 1)`.
    pub(crate) fn delay_with(&self, retry: u32, unit: f64) -> Duration {
        let ceiling = self.ceiling(retry);
        // Not `mul_f64`, which panics when the product does not fit (`Duration::MAX * 1.0`:
        // as an f64, `Duration::MAX` rounds up to 2^64 s).
        Duration::try_from_secs_f64(ceiling.as_secs_f64() * unit.clamp(0.0, 1.0))
            .map_or(ceiling, |d| d.min(ceiling))
    }

    /// Returns the largest delay.
    pub(crate) fn max(&self) -> Duration {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_then_cap() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let caps: Vec<u128> = (0..7).map(|n| b.ceiling(n).as_millis()).collect();
        assert_eq!(caps, vec![100, 200, 400, 800, 1600, 2000, 2000]);
        for n in 0..40 {
            assert!(b.delay(n) <= b.ceiling(n), "retry {n}");
        }
        assert_eq!(b.max(), Duration::from_secs(2));
    }

    #[test]
    fn full_jitter_spans_zero_to_the_ceiling() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(1));
        assert_eq!(b.delay_with(0, 0.0), Duration::ZERO);
        assert_eq!(b.delay_with(0, 0.5), Duration::from_millis(500));
        assert_eq!(b.delay_with(0, 7.0), Duration::from_secs(1), "clamped");
        let delays: std::collections::HashSet<Duration> = (0..50).map(|_| b.delay(0)).collect();
        assert!(
            delays.len() > 40,
            "full jitter rarely repeats: {}",
            delays.len()
        );
    }

    #[test]
    fn zero_and_huge_settings_do_not_overflow() {
        assert_eq!(
            Backoff::new(Duration::ZERO, Duration::ZERO).delay(3),
            Duration::ZERO
        );
        let b = Backoff::new(Duration::from_secs(u64::MAX / 4), Duration::MAX);
        for n in [0, 1, 31, 32, 70, u32::MAX] {
            assert!(b.delay(n) <= Duration::MAX);
        }
        let b = Backoff::new(Duration::MAX, Duration::MAX);
        for unit in [0.0, 0.5, 1.0 - f64::EPSILON, 1.0, 7.0] {
            assert!(b.delay_with(0, unit) <= Duration::MAX);
        }
        assert_eq!(b.delay_with(0, 1.0), Duration::MAX);
        let b = Backoff::new(Duration::from_secs(5), Duration::from_secs(1));
        assert_eq!(
            b.ceiling(0),
            Duration::from_secs(5),
            "max is raised to initial"
        );
    }
}
