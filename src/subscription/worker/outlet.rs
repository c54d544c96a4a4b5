//! Handing events to the program: a callback (panics caught) or a bounded channel (the thread
//! waits for room, so a slow reader slows the socket instead of filling memory), plus lifecycle
//! events to the hook and the channel. Nothing is delivered once the subscription is closing.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Select, Sender, TrySendError};

use crate::error::Error;
use crate::subscription::events::{Lifecycle, StreamEvent};
use crate::subscription::feed::checkpoint::Checkpoint;
use crate::subscription::options::LifecycleHook;
use crate::subscription::status::{Counters, Shared};

/// Where events go.
pub(crate) enum Sink<E> {
    /// The callback form.
    Callback(Box<dyn FnMut(&E) + Send>),
    /// The stream form; `None` once the stream ended (closed or failed).
    Channel(Option<Sender<StreamEvent<E>>>),
}

/// Events a stream holds back at most before handing them over together: one wake-up of the
/// reader per burst instead of one per event. Fewer for small queues.
const MAX_BATCH: usize = 256;

/// A sink, the lifecycle hook, and the counters they update.
pub(crate) struct Outlet<E> {
    sink: Sink<E>,
    hook: Option<LifecycleHook>,
    shared: Arc<Shared>,
    /// The checkpoint after an event (label events), recorded once it is delivered.
    checkpoint_of: fn(&E) -> Option<Checkpoint>,
    /// Stream events accepted, not yet sent: sent when `batch` are waiting, before anything
    /// else is delivered, and before the thread waits for its socket ([`flush`](Self::flush)).
    pending: Vec<E>,
    batch: usize,
}

impl<E> std::fmt::Debug for Outlet<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.sink {
            Sink::Callback(_) => "callback",
            Sink::Channel(Some(_)) => "channel",
            Sink::Channel(None) => "ended channel",
        };
        f.debug_struct("Outlet")
            .field("sink", &kind)
            .finish_non_exhaustive()
    }
}

impl<E> Outlet<E> {
    /// Creates an outlet; a stream sink of `capacity` sends in bursts of up to a quarter of it.
    pub(crate) fn new(
        sink: Sink<E>,
        hook: Option<LifecycleHook>,
        shared: Arc<Shared>,
        checkpoint_of: fn(&E) -> Option<Checkpoint>,
        capacity: usize,
    ) -> Self {
        Outlet {
            sink,
            hook,
            shared,
            checkpoint_of,
            pending: Vec::new(),
            batch: (capacity / 4).clamp(1, MAX_BATCH),
        }
    }

    /// Returns whether events can still be delivered after a restart (a stream ends when closed).
    pub(crate) fn can_restart(&self) -> bool {
        !matches!(self.sink, Sink::Channel(None))
    }

    /// Delivers one event (the caller checked the pause flag); `false` if it was not
    /// delivered (closing, or the stream's reader is gone). With `burst`, a stream may hold it
    /// back until [`flush`](Self::flush), and `true` means accepted.
    pub(crate) fn event(&mut self, event: E, burst: bool) -> bool {
        if burst && self.batch > 1 && matches!(self.sink, Sink::Channel(Some(_))) {
            self.pending.push(event);
            if self.pending.len() >= self.batch {
                self.flush();
            }
            return true;
        }
        self.flush();
        let checkpoint = (self.checkpoint_of)(&event);
        let delivered = self.deliver(event);
        if delivered && let Some(cp) = checkpoint {
            self.shared.set_checkpoint(cp);
        }
        delivered
    }

    /// Sends the events held back, in order; the checkpoint then is the last one's.
    pub(crate) fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut checkpoint = None;
        // Taken out while delivering, then put back: its capacity serves the next burst.
        let mut pending = std::mem::take(&mut self.pending);
        for event in pending.drain(..) {
            let cp = (self.checkpoint_of)(&event);
            if !self.deliver(event) {
                // Closing, or nobody reads any more: the rest would not be delivered either.
                break;
            }
            checkpoint = cp.or(checkpoint);
        }
        self.pending = pending;
        if let Some(cp) = checkpoint {
            self.shared.set_checkpoint(cp);
        }
    }

    fn deliver(&mut self, event: E) -> bool {
        if self.shared.is_closing() {
            Counters::bump(&self.shared.counters.dropped_while_paused);
            return false;
        }
        match &mut self.sink {
            Sink::Callback(f) => {
                let counters = &self.shared.counters;
                let outcome = self.shared.run_callback(|| {
                    // Counted before it runs: what the callback sees of the stats includes it.
                    Counters::bump(&counters.delivered);
                    catch_unwind(AssertUnwindSafe(|| f(&event)))
                });
                let Some(outcome) = outcome else {
                    // A close began just now: no callback after it.
                    Counters::bump(&self.shared.counters.dropped_while_paused);
                    return false;
                };
                if let Err(panic) = outcome {
                    let error = Error::panicked("the callback", panic.as_ref());
                    Counters::bump(&self.shared.counters.callback_panics);
                    log::error!("subscription {}: {error}; going on", self.shared.name);
                    self.lifecycle(Lifecycle::CallbackPanicked { error });
                }
                true
            }
            Sink::Channel(Some(tx)) => {
                let sent = send(tx, StreamEvent::Event(event), &self.shared);
                if sent {
                    Counters::bump(&self.shared.counters.delivered);
                }
                sent
            }
            Sink::Channel(None) => false,
        }
    }

    /// Reports a lifecycle event to the hook and, in the stream form, to the stream (after
    /// the events held back).
    pub(crate) fn lifecycle(&mut self, event: Lifecycle) {
        self.flush();
        if let Some(hook) = &self.hook
            && let Err(panic) = catch_unwind(AssertUnwindSafe(|| hook(&event)))
        {
            log::error!(
                "subscription {}: {}",
                self.shared.name,
                Error::panicked("the lifecycle hook", panic.as_ref())
            );
        }
        if let Sink::Channel(Some(tx)) = &self.sink {
            let item = StreamEvent::Lifecycle(event);
            if self.shared.is_closing() {
                // Never wait for room once closing: nobody may be reading any more.
                let _ = tx.try_send(item);
            } else {
                send(tx, item, &self.shared);
            }
        }
    }

    /// Ends the stream for good: its receiver sees the end after the events
    /// already sent.
    pub(crate) fn end_stream(&mut self) {
        self.flush();
        if let Sink::Channel(tx) = &mut self.sink {
            *tx = None;
        }
    }
}

/// Sends, waiting for room if the stream is full (counted as blocked time) unless the
/// subscription is closed meanwhile; `false` if not sent.
fn send<E>(tx: &Sender<StreamEvent<E>>, item: StreamEvent<E>, shared: &Shared) -> bool {
    let item = match tx.try_send(item) {
        Ok(()) => return true,
        Err(TrySendError::Disconnected(_)) => return false,
        Err(TrySendError::Full(item)) => item,
    };
    let started = Instant::now();
    let mut item = Some(item);
    let sent = loop {
        let mut select = Select::new();
        let on_room = select.send(tx);
        select.recv(&shared.wake.1);
        let op = select.select();
        if op.index() == on_room {
            // Taken from `item` only here, once: the loop ends right after.
            let Some(value) = item.take() else {
                break false;
            };
            break op.send(tx, value).is_ok();
        }
        let _ = op.recv(&shared.wake.1);
        if shared.is_closing() {
            Counters::bump(&shared.counters.dropped_while_paused);
            break false;
        }
    };
    shared.counters.add_blocked(started.elapsed());
    sent
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(capacity: usize) -> (Outlet<u32>, crossbeam_channel::Receiver<StreamEvent<u32>>) {
        let (tx, rx) = crossbeam_channel::bounded(capacity);
        let shared = Arc::new(Shared::new("test".into()));
        let outlet = Outlet::new(Sink::Channel(Some(tx)), None, shared, |_| None, capacity);
        (outlet, rx)
    }

    fn events(rx: &crossbeam_channel::Receiver<StreamEvent<u32>>) -> Vec<String> {
        rx.try_iter()
            .map(|e| match e {
                StreamEvent::Event(n) => n.to_string(),
                StreamEvent::Lifecycle(l) => format!("{l:?}"),
            })
            .collect()
    }

    #[test]
    fn bursts_go_out_in_order_when_full_flushed_or_before_anything_else() {
        let (mut outlet, rx) = stream(16); // bursts of 4
        for n in 0..3 {
            assert!(outlet.event(n, true));
        }
        assert!(events(&rx).is_empty(), "held for the burst");
        outlet.event(3, true);
        assert_eq!(events(&rx), ["0", "1", "2", "3"], "a full burst goes out");
        outlet.event(4, true);
        outlet.event(5, false);
        assert_eq!(
            events(&rx),
            ["4", "5"],
            "an unbatched event goes after those held"
        );
        outlet.event(6, true);
        outlet.lifecycle(Lifecycle::Closed);
        assert_eq!(events(&rx), ["6", "Closed"], "lifecycle events too");
        outlet.event(7, true);
        outlet.flush();
        assert_eq!(events(&rx), ["7"]);
    }

    #[test]
    fn nothing_held_is_sent_once_closing() {
        let (mut outlet, rx) = stream(64);
        outlet.event(1, true);
        outlet.shared.begin_closing();
        outlet.flush();
        assert!(events(&rx).is_empty());
        assert_eq!(outlet.shared.counters.snapshot().dropped_while_paused, 1);
    }

    #[test]
    fn small_queues_are_not_batched() {
        let (mut outlet, rx) = stream(7);
        outlet.event(1, true);
        assert_eq!(events(&rx), ["1"]);
    }
}
