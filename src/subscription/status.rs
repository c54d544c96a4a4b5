//! What the handle and the worker share: pause flag, state, counters, connection times.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::error::Error;
use crate::subscription::command::Command;
use crate::subscription::feed::checkpoint::Checkpoint;
use crate::subscription::options::WsProtocol;
use crate::subscription::wire::link::Waker;

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
    Failed(Error),
}

impl SubscriptionState {
    /// Returns whether events flow.
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
    /// Time the subscription's thread spent waiting for room in a full stream (the
    /// consumer was slower than the events; the socket was not read meanwhile).
    pub blocked: Duration,
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
    pub(crate) blocked_nanos: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_blocked(&self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.blocked_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> SubscriptionStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SubscriptionStats {
            received: get(&self.received),
            delivered: get(&self.delivered),
            dropped_while_paused: get(&self.dropped_while_paused),
            blocked: Duration::from_nanos(get(&self.blocked_nanos)),
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

/// Whether the thread has ended, for `close` and `wait`.
#[derive(Debug, Default)]
struct Activity {
    ended: bool,
}

/// State shared by a [`Subscription`](crate::Subscription) and its thread.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) name: String,
    pub(crate) paused: AtomicBool,
    /// Set by `close` (and by dropping the handle): from then on nothing is delivered.
    closing: AtomicBool,
    /// How many times a close began, for a reset to tell whether one came meanwhile.
    closes: AtomicU64,
    state: Mutex<SubscriptionState>,
    pub(crate) counters: Counters,
    span: Mutex<Span>,
    activity: Mutex<Activity>,
    activity_changed: Condvar,
    /// The thread runs the callback (an atomic: set and cleared around every event).
    in_callback: AtomicBool,
    /// Callers blocked in [`Shared::wait_thread_end`]: only then does the end of a callback
    /// take the lock to wake them.
    waiters: AtomicUsize,
    /// The checkpoint after the last event delivered (label subscriptions).
    checkpoint: Mutex<Option<Checkpoint>>,
    /// Wakes a thread blocked on a full stream when the subscription is closed.
    pub(crate) wake: (
        crossbeam_channel::Sender<()>,
        crossbeam_channel::Receiver<()>,
    ),
    /// The running thread's command channel.
    commands: Mutex<Option<crossbeam_channel::Sender<Command>>>,
    /// The running thread, to tell a call from its own callback.
    worker: Mutex<Option<std::thread::ThreadId>>,
    /// Interrupts the thread's wait on its socket, for a command.
    pub(crate) waker: Waker,
    /// The protocol of the last connection established.
    protocol: Mutex<Option<WsProtocol>>,
}

impl Shared {
    pub(crate) fn new(name: String) -> Shared {
        Shared {
            name,
            paused: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            closes: AtomicU64::new(0),
            state: Mutex::new(SubscriptionState::Connecting),
            counters: Counters::default(),
            span: Mutex::new(Span::default()),
            activity: Mutex::new(Activity::default()),
            activity_changed: Condvar::new(),
            in_callback: AtomicBool::new(false),
            waiters: AtomicUsize::new(0),
            checkpoint: Mutex::new(None),
            wake: crossbeam_channel::bounded(1),
            commands: Mutex::new(None),
            worker: Mutex::new(None),
            waker: Waker::default(),
            protocol: Mutex::new(None),
        }
    }

    pub(crate) fn set_protocol(&self, protocol: WsProtocol) {
        *self.protocol.lock() = Some(protocol);
    }

    pub(crate) fn protocol(&self) -> Option<WsProtocol> {
        *self.protocol.lock()
    }

    pub(crate) fn set_commands(&self, commands: crossbeam_channel::Sender<Command>) {
        *self.commands.lock() = Some(commands);
    }

    /// Sends a command to the running thread, if any, and interrupts its wait on the socket
    /// (after the send: the thread looks at its commands before every wait).
    pub(crate) fn send_command(&self, command: Command) {
        if let Some(tx) = &*self.commands.lock() {
            let _ = tx.send(command);
        }
        self.waker.wake();
    }

    /// Records that the calling thread is the subscription's.
    pub(crate) fn set_worker_thread(&self) {
        *self.worker.lock() = Some(std::thread::current().id());
    }

    /// Returns whether the caller is the subscription's own thread (its callback).
    pub(crate) fn is_worker_thread(&self) -> bool {
        *self.worker.lock() == Some(std::thread::current().id())
    }

    /// Marks the subscription as closing: nothing more may be delivered.
    pub(crate) fn begin_closing(&self) {
        self.closes.fetch_add(1, Ordering::SeqCst);
        self.closing.store(true, Ordering::SeqCst);
        let _ = self.wake.0.try_send(());
    }

    /// Returns how many times a close began.
    pub(crate) fn closes(&self) -> u64 {
        self.closes.load(Ordering::SeqCst)
    }

    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// Lets a restarted subscription deliver again.
    pub(crate) fn reopen(&self) {
        self.closing.store(false, Ordering::SeqCst);
        while self.wake.1.try_recv().is_ok() {}
        let mut a = self.activity.lock();
        a.ended = false;
    }

    /// Runs `f` as a callback, unless the subscription is closing (then `None`). A close
    /// that starts while `f` runs waits for it: the thread announces the callback before it
    /// looks at the closing flag, and `close` sets the flag before it looks for a callback
    /// (both sequentially consistent), so one of them always sees the other.
    pub(crate) fn run_callback<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        self.in_callback.store(true, Ordering::SeqCst);
        let out = (!self.is_closing()).then(f);
        self.in_callback.store(false, Ordering::SeqCst);
        // A waiter registers (SeqCst) before it reads `in_callback`: either it sees `false`,
        // or this load sees it and the notification, sent under its lock, reaches it.
        if self.waiters.load(Ordering::SeqCst) > 0 {
            let _guard = self.activity.lock();
            self.activity_changed.notify_all();
        }
        out
    }

    /// Records that the thread is over, and wakes who waits for it.
    pub(crate) fn mark_thread_ended(&self) {
        self.activity.lock().ended = true;
        self.activity_changed.notify_all();
    }

    /// Waits until the thread ends, or `deadline` passes (while no callback runs, if
    /// `for_callback`: a close waits for the callback in progress); `true` if the thread
    /// ended. A `None` deadline waits for the end.
    pub(crate) fn wait_thread_end(&self, deadline: Option<Instant>, for_callback: bool) -> bool {
        let mut a = self.activity.lock();
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let ended = loop {
            if a.ended {
                break true;
            }
            match deadline {
                None => self.activity_changed.wait(&mut a),
                Some(d) => {
                    let in_callback = for_callback && self.in_callback.load(Ordering::SeqCst);
                    if Instant::now() >= d && !in_callback {
                        break false;
                    }
                    if in_callback {
                        // The callback in progress is waited for, however long it takes.
                        self.activity_changed.wait(&mut a);
                    } else {
                        let _ = self.activity_changed.wait_until(&mut a, d);
                    }
                }
            }
        };
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        ended
    }

    pub(crate) fn set_checkpoint(&self, checkpoint: Checkpoint) {
        *self.checkpoint.lock() = Some(checkpoint);
    }

    pub(crate) fn checkpoint(&self) -> Option<Checkpoint> {
        self.checkpoint.lock().clone()
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

    /// Records that a server-side subscription just started.
    pub(crate) fn mark_established(&self) {
        *self.span.lock() = Span {
            since: Some(Instant::now()),
            until: None,
        };
    }

    /// Records that the connection ended.
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

/// Returns an error with its chain of sources, for logs: `transport error while ...: connection
/// refused`.
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
