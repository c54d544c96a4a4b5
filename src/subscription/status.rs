//! What the handle and the worker share: pause flag, state, counters, connection times.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::error::Error;

/// Where a subscription is.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SubscriptionState {
    /// Opening its first connection (or its first after a restart).
    Connecting,
    /// Established: events flow (unless paused).
    Active,
    /// The connection was lost; reconnecting with backoff.
    Reconnecting,
    /// Closed by [`close`](crate::Subscription::close) or by dropping the handle.
    Closed,
    /// Stopped for good, for this reason (authentication, invalid document, ...).
    Failed(Arc<Error>),
}

impl SubscriptionState {
    /// Whether events flow.
    ///
    /// ```
    /// assert!(kili::SubscriptionState::Active.is_active());
    /// assert!(!kili::SubscriptionState::Closed.is_active());
    /// ```
    pub fn is_active(&self) -> bool {
        matches!(self, SubscriptionState::Active)
    }
}

/// Counters of a subscription since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscriptionStats {
    /// Events received: live frames of the subscription and events fetched by catch-up.
    pub received: u64,
    /// Events handed to the callback or the stream.
    pub delivered: u64,
    /// Events received while paused (or closing), dropped as documented.
    pub dropped_while_paused: u64,
    /// Events dropped because they had been delivered already.
    pub duplicates: u64,
    /// Events delivered by catch-up after reconnections (included in `delivered`).
    pub caught_up: u64,
    /// Successful reconnections.
    pub reconnects: u64,
    /// Connection attempts, successful or not.
    pub connection_attempts: u64,
    /// Callback invocations that panicked.
    pub callback_panics: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) received: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) dropped_while_paused: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) caught_up: AtomicU64,
    pub(crate) reconnects: AtomicU64,
    pub(crate) connection_attempts: AtomicU64,
    pub(crate) callback_panics: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> SubscriptionStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SubscriptionStats {
            received: get(&self.received),
            delivered: get(&self.delivered),
            dropped_while_paused: get(&self.dropped_while_paused),
            duplicates: get(&self.duplicates),
            caught_up: get(&self.caught_up),
            reconnects: get(&self.reconnects),
            connection_attempts: get(&self.connection_attempts),
            callback_panics: get(&self.callback_panics),
        }
    }
}

/// When the current server-side subscription started, and when it ended.
#[derive(Debug, Default, Clone, Copy)]
struct Span {
    since: Option<Instant>,
    until: Option<Instant>,
}

/// State shared by a [`Subscription`](crate::Subscription) and its thread.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) name: String,
    pub(crate) paused: AtomicBool,
    state: Mutex<SubscriptionState>,
    pub(crate) counters: Counters,
    span: Mutex<Span>,
}

impl Shared {
    pub(crate) fn new(name: String) -> Shared {
        Shared {
            name,
            paused: AtomicBool::new(false),
            state: Mutex::new(SubscriptionState::Connecting),
            counters: Counters::default(),
            span: Mutex::new(Span::default()),
        }
    }

    pub(crate) fn state(&self) -> SubscriptionState {
        self.state.lock().clone()
    }

    pub(crate) fn set_state(&self, state: SubscriptionState) {
        *self.state.lock() = state;
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// A server-side subscription just started.
    pub(crate) fn mark_established(&self) {
        *self.span.lock() = Span {
            since: Some(Instant::now()),
            until: None,
        };
    }

    /// The connection ended.
    pub(crate) fn mark_ended(&self) {
        let mut span = self.span.lock();
        if span.since.is_some() && span.until.is_none() {
            span.until = Some(Instant::now());
        }
    }

    pub(crate) fn lifetime(&self) -> Duration {
        let span = *self.span.lock();
        match span.since {
            Some(since) => span
                .until
                .unwrap_or_else(Instant::now)
                .saturating_duration_since(since),
            None => Duration::ZERO,
        }
    }
}

/// An error with its chain of sources, for logs: `transport error while ...: connection refused`.
pub(crate) fn describe(e: &Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_shows_the_chain() {
        let e = Error::transport("receiving events", "the server completed the subscription");
        assert_eq!(
            describe(&e),
            "transport error while receiving events: the server completed the subscription"
        );
        assert_eq!(describe(&Error::Closed), "closed");
    }
}
