//! Capped exponential backoff with full jitter, and the small random source it needs.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Delays between reconnection attempts: attempt `n` (from 1) waits a uniformly random time in
/// `[0, min(max, min_delay * 2^(n-1))]` ("full jitter"), so that many clients cut off at once
/// do not come back at once.
#[derive(Debug)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
    rng: Rng,
}

impl Backoff {
    /// A backoff between `min` and `max` (`max` is raised to `min` if smaller).
    pub(crate) fn new(min: Duration, max: Duration) -> Backoff {
        Backoff {
            min,
            max: max.max(min),
            attempt: 0,
            rng: Rng::new(),
        }
    }

    /// The upper bound of the delay of attempt `attempt` (from 1).
    pub(crate) fn cap(&self, attempt: u32) -> Duration {
        let shift = attempt.saturating_sub(1).min(31);
        self.min.saturating_mul(1u32 << shift).min(self.max)
    }

    /// The next attempt's number and delay.
    pub(crate) fn next_delay(&mut self) -> (u32, Duration) {
        self.attempt = self.attempt.saturating_add(1);
        let cap = self.cap(self.attempt);
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        let delay = match nanos.checked_add(1) {
            Some(bound) => self.rng.next() % bound,
            None => self.rng.next(),
        };
        (self.attempt, Duration::from_nanos(delay))
    }

    /// Starts over at attempt 1 (after a connection that held).
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The largest delay.
    pub(crate) fn max(&self) -> Duration {
        self.max
    }
}

/// xorshift64*: plenty for jitter and operation ids, seeded from std's per-process random keys.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator with a fresh random seed.
    pub(crate) fn new() -> Rng {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
        );
        Rng(h.finish() | 1)
    }

    /// The next 64 random bits.
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// `n` random ASCII letters and digits (the SDK's operation ids are 6 of them).
    pub(crate) fn alphanumeric(&mut self, n: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| CHARS[(self.next() % CHARS.len() as u64) as usize] as char)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_a_doubling_cap() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let caps: Vec<u64> = (1..=7).map(|n| b.cap(n).as_millis() as u64).collect();
        assert_eq!(caps, vec![100, 200, 400, 800, 1600, 2000, 2000]);
        for n in 1..=40 {
            let (attempt, d) = b.next_delay();
            assert_eq!(attempt, n);
            assert!(d <= b.cap(n), "attempt {n}: {d:?}");
        }
        b.reset();
        assert_eq!(b.attempt, 0);
        assert_eq!(b.next_delay().0, 1);
        assert_eq!(b.max(), Duration::from_secs(2));
    }

    #[test]
    fn jitter_spreads_delays() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(1));
        let delays: std::collections::HashSet<Duration> =
            (0..50).map(|_| b.next_delay().1).collect();
        assert!(
            delays.len() > 40,
            "full jitter should rarely repeat: {}",
            delays.len()
        );
    }

    #[test]
    fn zero_and_huge_settings_do_not_overflow() {
        let mut b = Backoff::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(b.next_delay().1, Duration::ZERO);
        let mut b = Backoff::new(Duration::from_secs(u64::MAX / 4), Duration::MAX);
        for _ in 0..70 {
            b.next_delay();
        }
        let mut b = Backoff::new(Duration::from_secs(5), Duration::from_secs(1));
        assert_eq!(b.cap(1), Duration::from_secs(5), "max is raised to min");
        assert!(b.next_delay().1 <= Duration::from_secs(5));
    }

    #[test]
    fn ids_are_alphanumeric() {
        let mut r = Rng::new();
        let id = r.alphanumeric(6);
        assert_eq!(id.len(), 6);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(r.alphanumeric(12), r.alphanumeric(12));
    }
}
