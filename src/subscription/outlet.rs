//! Handing events to the program: a callback (panics caught) or a bounded channel (the thread
//! waits for room, so a slow reader slows the socket instead of filling memory), plus lifecycle
//! events to the hook and the channel. Nothing is delivered once the subscription is closing.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Select, Sender, TrySendError};

use crate::subscription::events::{Lifecycle, StreamEvent};
use crate::subscription::options::LifecycleHook;
use crate::subscription::status::{Counters, Shared};

/// Where events go.
pub(crate) enum Sink<E> {
    /// The callback form.
    Callback(Box<dyn FnMut(&E) + Send>),
    /// The stream form; `None` once the stream ended (closed or failed).
    Channel(Option<Sender<StreamEvent<E>>>),
}

/// A sink, the lifecycle hook, and the counters they update.
pub(crate) struct Outlet<E> {
    sink: Sink<E>,
    hook: Option<LifecycleHook>,
    shared: Arc<Shared>,
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
    pub(crate) fn new(sink: Sink<E>, hook: Option<LifecycleHook>, shared: Arc<Shared>) -> Self {
        Outlet { sink, hook, shared }
    }

    /// Whether events can still be delivered after a restart (a stream ends when closed).
    pub(crate) fn can_restart(&self) -> bool {
        !matches!(self.sink, Sink::Channel(None))
    }

    /// Delivers one event (the caller checked the pause flag); `false` if it was not
    /// delivered (closing, or the stream's reader is gone).
    pub(crate) fn event(&mut self, event: E) -> bool {
        if self.shared.is_closing() {
            Counters::bump(&self.shared.counters.dropped_while_paused);
            return false;
        }
        match &mut self.sink {
            Sink::Callback(f) => {
                Counters::bump(&self.shared.counters.delivered);
                let outcome = self
                    .shared
                    .in_callback(|| catch_unwind(AssertUnwindSafe(|| f(&event))));
                if let Err(panic) = outcome {
                    let message = panic_message(panic.as_ref());
                    Counters::bump(&self.shared.counters.callback_panics);
                    log::error!(
                        "subscription {}: the callback panicked: {message}; going on",
                        self.shared.name
                    );
                    self.lifecycle(Lifecycle::CallbackPanicked { message });
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

    /// Reports a lifecycle event to the hook and, in the stream form, to the stream.
    pub(crate) fn lifecycle(&mut self, event: Lifecycle) {
        if let Some(hook) = &self.hook
            && let Err(panic) = catch_unwind(AssertUnwindSafe(|| hook(&event)))
        {
            log::error!(
                "subscription {}: the lifecycle hook panicked: {}",
                self.shared.name,
                panic_message(panic.as_ref())
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

    /// The subscription is over for good: a stream's receiver sees the end after the events
    /// already sent.
    pub(crate) fn end_stream(&mut self) {
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

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic payload".to_owned()
    }
}
