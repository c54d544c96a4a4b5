//! When and how a failed request is sent again.
//!
//! Every failure is classified by what it tells about the server's state ([`Outcome`]):
//!
//! - **not processed**: the request certainly did not run: the connection was refused or never
//!   set up, or the server answered 429 (rate limited) or 521 (origin refused the proxy's
//!   connection). Anything may be resent.
//! - **unknown**: the request may have run: a timeout or a dropped connection after sending, a
//!   502/503/504/520/522 that a proxy may have produced after the backend did the work.
//!   Queries are resent; a mutation is resent only by an operation that first *reconciles*
//!   (asks the server what the lost attempt created and resends only the rest, see
//!   `append_many_to_dataset` and `append_labels`); a plain mutation returns the error.
//! - **failed**: a definite answer (GraphQL errors, 401, other statuses, a bad certificate):
//!   resending gives the same answer, so it is never retried.
//!
//! Delays: the crate's [`Backoff`](crate::common::backoff::Backoff) (capped, exponential, full jitter),
//! or exactly the server's `Retry-After` when it sends one, and
//! never past the call's total time budget.

use std::time::{Duration, Instant, SystemTime};

use crate::client::config::RetrySettings;
use crate::error::{Error, Result};

/// What a failure tells about whether the server ran the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The request certainly did not run; safe to resend.
    NotProcessed,
    /// The request may have run.
    Unknown,
    /// A definite error; resending gives the same answer.
    Failed,
}

/// One failed attempt.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: Error,
    pub(crate) outcome: Outcome,
    /// The server's `Retry-After`, if it sent one.
    pub(crate) retry_after: Option<Duration>,
}

impl Failure {
    /// Creates a failure of `error`, with what it tells about the server's state.
    pub(crate) fn new(error: Error, outcome: Outcome) -> Failure {
        Failure {
            error,
            outcome,
            retry_after: None,
        }
    }

    /// Creates a definite failure (never retried).
    pub(crate) fn failed(error: Error) -> Failure {
        Failure::new(error, Outcome::Failed)
    }
}

/// Whether an operation may be run twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Safety {
    /// Queries, and mutations made safe by reconciliation: retried on unknown outcomes too.
    Idempotent,
    /// Plain mutations: retried only when the request certainly did not run.
    NotIdempotent,
}

/// Tells whether a failure with this outcome may be retried under this safety.
pub(crate) fn may_retry(outcome: Outcome, safety: Safety) -> bool {
    match outcome {
        Outcome::NotProcessed => true,
        Outcome::Unknown => safety == Safety::Idempotent,
        Outcome::Failed => false,
    }
}

/// Returns the delay before the next attempt, or `None` to give up.
///
/// `retry` counts the retries already made, `elapsed` the time spent so far in this call.
pub(crate) fn next_delay(
    settings: &RetrySettings,
    failure: &Failure,
    safety: Safety,
    retry: u32,
    elapsed: Duration,
    unit: f64,
) -> Option<Duration> {
    if !may_retry(failure.outcome, safety) || retry >= settings.max_retries {
        return None;
    }
    let delay = match failure.retry_after {
        Some(d) => d,
        None => settings.backoff.delay_with(retry, unit),
    };
    (elapsed.saturating_add(delay) <= settings.budget).then_some(delay)
}

/// Runs `attempt` until it succeeds or [`next_delay`] gives up, sleeping between attempts.
/// `what` names the operation in log lines.
pub(crate) fn run<T>(
    settings: &RetrySettings,
    safety: Safety,
    what: &str,
    mut attempt: impl FnMut() -> std::result::Result<T, Failure>,
) -> Result<T> {
    let start = Instant::now();
    let mut retry = 0;
    loop {
        let failure = match attempt() {
            Ok(v) => {
                if retry > 0 {
                    log::info!("{what} succeeded after {retry} retries");
                }
                return Ok(v);
            }
            Err(f) => f,
        };
        let Some(delay) = next_delay(
            settings,
            &failure,
            safety,
            retry,
            start.elapsed(),
            fastrand::f64(),
        ) else {
            if may_retry(failure.outcome, safety) && retry > 0 {
                log::warn!("{what} failed after {retry} retries: {}", failure.error);
            }
            return Err(failure.error);
        };
        retry += 1;
        log::warn!(
            "{what} failed ({}); retry {retry}/{} in {} ms",
            failure.error,
            settings.max_retries,
            delay.as_millis()
        );
        std::thread::sleep(delay);
    }
}

/// Parses a `Retry-After` value: delay-seconds (integer or decimal) or an HTTP date.
/// A date in the past means "now". Unparseable values are ignored.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let at = crate::common::time::parse_http_date(v)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::backoff::Backoff;

    fn settings() -> RetrySettings {
        RetrySettings {
            max_retries: 10,
            backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(10)),
            budget: Duration::from_secs(180),
        }
    }

    fn failure(outcome: Outcome) -> Failure {
        Failure::new(
            Error::Http {
                status: 503,
                body: String::new(),
            },
            outcome,
        )
    }

    #[test]
    fn outcome_and_safety_decide() {
        assert!(may_retry(Outcome::NotProcessed, Safety::NotIdempotent));
        assert!(may_retry(Outcome::Unknown, Safety::Idempotent));
        assert!(!may_retry(Outcome::Unknown, Safety::NotIdempotent));
        assert!(!may_retry(Outcome::Failed, Safety::Idempotent));
    }

    #[test]
    fn gives_up_after_max_retries_or_budget() {
        let mut s = settings();
        let f = failure(Outcome::Unknown);
        let d = next_delay(&s, &f, Safety::Idempotent, 3, Duration::ZERO, 0.5).unwrap();
        assert_eq!(d, Duration::from_millis(400));
        assert!(next_delay(&s, &f, Safety::Idempotent, 10, Duration::ZERO, 0.5).is_none());
        s.budget = Duration::from_secs(1);
        let elapsed = Duration::from_millis(900);
        assert!(next_delay(&s, &f, Safety::Idempotent, 3, elapsed, 0.5).is_none());
        assert!(next_delay(&s, &f, Safety::Idempotent, 3, elapsed, 0.1).is_some());
    }

    #[test]
    fn retry_after_wins_over_backoff_within_budget() {
        let s = settings();
        let mut f = failure(Outcome::NotProcessed);
        f.retry_after = Some(Duration::from_secs(7));
        let d = next_delay(&s, &f, Safety::NotIdempotent, 0, Duration::ZERO, 0.0);
        assert_eq!(d, Some(Duration::from_secs(7)));
        f.retry_after = Some(Duration::from_secs(500));
        assert_eq!(
            next_delay(&s, &f, Safety::NotIdempotent, 0, Duration::ZERO, 0.0),
            None
        );
    }

    #[test]
    fn parses_retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(" 0.5 ", now),
            Some(Duration::from_millis(500))
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        let later = parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now);
        assert_eq!(later, Some(Duration::from_secs(10)));
        let past = parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now);
        assert_eq!(past, Some(Duration::ZERO));
    }

    #[test]
    fn run_stops_on_definite_errors_and_retries_transient_ones() {
        let mut s = settings();
        s.backoff = Backoff::new(Duration::from_millis(1), Duration::from_millis(2));
        let mut calls = 0;
        let r: Result<()> = run(&s, Safety::Idempotent, "test", || {
            calls += 1;
            Err(Failure::failed(Error::invalid("no")))
        });
        assert!(r.is_err());
        assert_eq!(calls, 1);
        let mut calls = 0;
        let r = run(&s, Safety::Idempotent, "test", || {
            calls += 1;
            if calls < 3 {
                Err(failure(Outcome::Unknown))
            } else {
                Ok(calls)
            }
        });
        assert_eq!(r.unwrap(), 3);
        let mut calls = 0;
        let r: Result<()> = run(&s, Safety::NotIdempotent, "test", || {
            calls += 1;
            Err(failure(Outcome::Unknown))
        });
        assert!(r.is_err());
        assert_eq!(calls, 1);
    }
}
