//! Handing events to the program: a callback (panics caught) or a channel, plus lifecycle
//! events to the hook and the channel.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crossbeam_channel::Sender;

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

    /// Delivers one event (the caller checked the pause flag).
    pub(crate) fn event(&mut self, event: E) {
        match &mut self.sink {
            Sink::Callback(f) => {
                Counters::bump(&self.shared.counters.delivered);
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| f(&event))) {
                    let message = panic_message(panic.as_ref());
                    Counters::bump(&self.shared.counters.callback_panics);
                    log::error!(
                        "subscription {}: the callback panicked: {message}; going on",
                        self.shared.name
                    );
                    self.lifecycle(Lifecycle::CallbackPanicked { message });
                }
            }
            Sink::Channel(Some(tx)) => {
                if tx.send(StreamEvent::Event(event)).is_ok() {
                    Counters::bump(&self.shared.counters.delivered);
                }
            }
            Sink::Channel(None) => {}
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
            let _ = tx.send(StreamEvent::Lifecycle(event));
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

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic payload".to_owned()
    }
}
