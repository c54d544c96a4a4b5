//! Durations from the user may be as long as `Duration::MAX`, and `Instant + Duration` panics
//! when the sum does not fit. This crate computes its own deadlines with `checked_add` (`None`
//! meaning never); a duration handed to code that adds it to the clock itself (ureq's
//! timeouts) or kept as a span of instants (the rate limiter's window) is first capped here.

use std::time::Duration;

/// Longer than any process runs (100 years): a timeout at least this long never fires, and
/// the clock can always be moved this far.
pub(crate) const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Returns `timeout` as a limit: `None` (no limit) when it is at least [`FOREVER`].
pub(crate) fn limit(timeout: Duration) -> Option<Duration> {
    (timeout < FOREVER).then_some(timeout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn huge_timeouts_are_no_limit_and_forever_fits_on_the_clock() {
        assert_eq!(limit(Duration::MAX), None);
        assert_eq!(limit(FOREVER), None);
        let d = Duration::from_secs(3600);
        assert_eq!(limit(d), Some(d));
        assert!(Instant::now().checked_add(FOREVER).is_some());
    }
}
