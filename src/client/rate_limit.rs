//! The client-side rate limiter: at most `calls` requests in any `window`, shared by every
//! clone of a client (the official SDK allows 500 per minute, process-wide).
//!
//! A sliding log of the last `calls` grant times. A caller over the limit is granted the
//! earliest time that keeps every window within the limit and sleeps until then, without
//! holding the lock; grants are first come, first served.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::client::deadline::FOREVER;

/// A blocking sliding-window rate limiter.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    calls: usize,
    window: Duration,
    /// Grant times, ascending, at most `calls` of them (older ones no longer matter).
    grants: Mutex<VecDeque<Instant>>,
}

impl RateLimiter {
    /// Creates a limiter of `calls` per `window`; `calls` of 0 is treated as 1, and a window longer
    /// than [`FOREVER`] as that long (grant times are instants, which must not overflow).
    pub(crate) fn new(calls: u32, window: Duration) -> RateLimiter {
        let calls = (calls as usize).max(1);
        RateLimiter {
            calls,
            window: window.min(FOREVER),
            grants: Mutex::new(VecDeque::with_capacity(calls)),
        }
    }

    /// Reserves the next slot for a caller arriving at `now` and returns how long it must wait.
    pub(crate) fn reserve(&self, now: Instant) -> Duration {
        let mut grants = self.grants.lock();
        let mut at = now;
        if let Some(&last) = grants.back() {
            at = at.max(last);
        }
        if grants.len() >= self.calls
            && let Some(&oldest) = grants.front()
        {
            // The grant `calls` places back must be at least a window before this one.
            // Cannot overflow: the window is at most FOREVER.
            at = at.max(oldest + self.window);
        }
        if grants.len() >= self.calls {
            grants.pop_front();
        }
        grants.push_back(at);
        at.saturating_duration_since(now)
    }

    /// Blocks until a call is allowed.
    pub(crate) fn acquire(&self) {
        let wait = self.reserve(Instant::now());
        if !wait.is_zero() {
            log::debug!("rate limit reached, waiting {} ms", wait.as_millis());
            std::thread::sleep(wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_call_in_a_window_waits_for_the_first_to_expire() {
        let l = RateLimiter::new(5, Duration::from_secs(1));
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(l.reserve(t0), Duration::ZERO);
        }
        assert_eq!(l.reserve(t0), Duration::from_secs(1));
        assert_eq!(
            l.reserve(t0 + Duration::from_millis(100)),
            Duration::from_millis(900)
        );
    }

    #[test]
    fn an_endless_window_does_not_overflow() {
        let l = RateLimiter::new(1, Duration::MAX);
        let t0 = Instant::now();
        assert_eq!(l.reserve(t0), Duration::ZERO);
        assert_eq!(
            l.reserve(t0),
            FOREVER,
            "the second call waits (practically) forever"
        );
    }

    #[test]
    fn calls_spread_over_time_never_wait() {
        let l = RateLimiter::new(2, Duration::from_millis(100));
        let t0 = Instant::now();
        for i in 0..20 {
            assert_eq!(
                l.reserve(t0 + Duration::from_millis(50 * i)),
                Duration::ZERO,
                "{i}"
            );
        }
    }

    #[test]
    fn any_window_holds_at_most_the_limit() {
        let l = RateLimiter::new(3, Duration::from_millis(100));
        let t0 = Instant::now();
        let grants: Vec<Instant> = (0..12)
            .map(|i| {
                let now = t0 + Duration::from_millis(7 * i);
                now + l.reserve(now)
            })
            .collect();
        for w in grants.windows(4) {
            assert!(
                w[3] - w[0] >= Duration::from_millis(100),
                "{:?}",
                w[3] - w[0]
            );
        }
        assert!(grants.windows(2).all(|w| w[0] <= w[1]));
    }
}
