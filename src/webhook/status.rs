//! What a receiver's handle and its connections share: the pause and closing flags, the
//! counters, and the outcome of the accept loop.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::error::Result;
use crate::subscription::SubscriptionState;

/// A receiver's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiverStats {
    /// Requests received (whatever their fate).
    pub received: u64,
    /// Events handed to the callback or the stream.
    pub delivered: u64,
    /// Redeliveries of events already handled, answered without handing them on.
    pub duplicates: u64,
    /// Requests refused for a missing or wrong `Authorization` header (401).
    pub unauthorized: u64,
    /// Requests refused as malformed: not a POST to the receiver's path, or not an event
    /// (404, 405, 400).
    pub rejected: u64,
    /// Events the callback failed or panicked on (500: the sender tries again).
    pub failed: u64,
    /// Requests answered 503 while paused or closing (the sender tries again).
    pub deferred: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) received: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) unauthorized: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) deferred: AtomicU64,
}

impl Counters {
    /// Adds one to `counter`.
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> ReceiverStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ReceiverStats {
            received: get(&self.received),
            delivered: get(&self.delivered),
            duplicates: get(&self.duplicates),
            unauthorized: get(&self.unauthorized),
            rejected: get(&self.rejected),
            failed: get(&self.failed),
            deferred: get(&self.deferred),
        }
    }
}

/// The state of one receiver.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) name: String,
    pub(crate) paused: AtomicBool,
    pub(crate) closing: AtomicBool,
    pub(crate) counters: Counters,
    pub(crate) started: Instant,
    /// The accept loop's outcome, once it ended (the state follows from it).
    ended: Mutex<Option<Result<()>>>,
    ended_changed: Condvar,
}

impl Shared {
    /// Returns the state of a receiver that just started listening.
    pub(crate) fn new(name: String) -> Shared {
        Shared {
            name,
            paused: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            counters: Counters::default(),
            started: Instant::now(),
            ended: Mutex::new(None),
            ended_changed: Condvar::new(),
        }
    }

    /// Records how the accept loop ended, and wakes who waits for it.
    pub(crate) fn end(&self, outcome: Result<()>) {
        *self.ended.lock() = Some(outcome);
        self.ended_changed.notify_all();
    }

    /// Waits until the accept loop ended, or `deadline` (forever if `None`); its outcome.
    pub(crate) fn wait_end(&self, deadline: Option<Instant>) -> Option<Result<()>> {
        let mut ended = self.ended.lock();
        while ended.is_none() {
            match deadline {
                None => self.ended_changed.wait(&mut ended),
                Some(d) => {
                    if self.ended_changed.wait_until(&mut ended, d).timed_out() {
                        break;
                    }
                }
            }
        }
        ended.clone()
    }

    /// Returns whether requests are answered 503 now.
    pub(crate) fn defers(&self) -> bool {
        self.paused.load(Ordering::SeqCst) || self.closing.load(Ordering::SeqCst)
    }

    pub(crate) fn stats(&self) -> ReceiverStats {
        self.counters.snapshot()
    }

    /// Returns `Active` until the accept loop ended, then `Closed` or `Failed` as it ended.
    pub(crate) fn state(&self) -> SubscriptionState {
        match &*self.ended.lock() {
            None => SubscriptionState::Active,
            Some(Ok(())) => SubscriptionState::Closed,
            Some(Err(e)) => SubscriptionState::Failed(e.clone()),
        }
    }
}
