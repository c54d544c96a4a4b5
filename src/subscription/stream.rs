//! [`EventStream`]: the pull form of a subscription.

use std::time::Duration;

use crossbeam_channel::{Receiver, RecvError, RecvTimeoutError, TryRecvError};

use crate::error::Result;
use crate::subscription::events::{LabelEvent, StreamEvent};
use crate::subscription::handle::Subscription;

/// The events of a subscription, to read in a loop: each item is an event or a
/// [`Lifecycle`](crate::Lifecycle) event (connected, reconnecting, ...).
///
/// The stream owns the handle `H` of what fills it (a [`Subscription`] by default): reach it
/// with [`handle`](Self::handle) to pause or watch it. Dropping the stream closes it. Once
/// closed (or failed) the stream yields what was already received, then ends.
///
/// The method names mirror `crossbeam-channel`; [`receiver`](Self::receiver) gives the
/// underlying receiver for `crossbeam_channel::select!`.
///
/// # Examples
///
/// ```no_run
/// use kili::StreamEvent;
/// let kili = kili::Kili::from_env()?;
/// let events = kili.labels_subscription("project-id").stream()?;
/// for item in events.iter() {
///     match item {
///         StreamEvent::Event(e) => println!("label {} ({:?})", e.label().id(), e.origin()),
///         StreamEvent::Lifecycle(l) => println!("connection: {l:?}"),
///         _ => {}
///     }
/// }
/// # Ok::<(), kili::Error>(())
/// ```
pub struct EventStream<T, H = Subscription> {
    // Declared first: dropped (closed) before the receiver.
    handle: H,
    rx: Receiver<StreamEvent<T>>,
}

/// The stream of a label subscription ([`Kili::labels_subscription`](crate::Kili::labels_subscription)).
pub type LabelStream = EventStream<LabelEvent>;

impl<T, H> EventStream<T, H> {
    pub(crate) fn new(handle: H, rx: Receiver<StreamEvent<T>>) -> Self {
        EventStream { handle, rx }
    }

    /// Waits for the next item and returns it.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the subscription is closed or failed and every item was read.
    pub fn recv(&self) -> std::result::Result<StreamEvent<T>, RecvError> {
        self.rx.recv()
    }

    /// Waits for the next item at most `timeout` and returns it.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] if none came in time, [`RecvTimeoutError::Disconnected`]
    /// once the stream has ended.
    pub fn recv_timeout(
        &self,
        timeout: Duration,
    ) -> std::result::Result<StreamEvent<T>, RecvTimeoutError> {
        self.rx.recv_timeout(timeout)
    }

    /// Returns the next item if one is ready.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if none is ready, [`TryRecvError::Disconnected`] once the
    /// stream has ended.
    pub fn try_recv(&self) -> std::result::Result<StreamEvent<T>, TryRecvError> {
        self.rx.try_recv()
    }

    /// Returns a blocking iterator over the items; it ends when the stream ends.
    pub fn iter(&self) -> crossbeam_channel::Iter<'_, StreamEvent<T>> {
        self.rx.iter()
    }

    /// Returns an iterator over the items ready now.
    pub fn try_iter(&self) -> crossbeam_channel::TryIter<'_, StreamEvent<T>> {
        self.rx.try_iter()
    }

    /// Returns the underlying receiver, e.g. for `crossbeam_channel::select!`.
    pub fn receiver(&self) -> &Receiver<StreamEvent<T>> {
        &self.rx
    }

    /// Returns the handle of what fills the stream: for a subscription, pause, unpause,
    /// state, counters, `reset_timeout`.
    pub fn handle(&self) -> &H {
        &self.handle
    }
}

impl<T> EventStream<T, Subscription> {
    /// Closes the subscription (see [`Subscription::close`]); the stream then ends.
    ///
    /// # Errors
    ///
    /// As [`Subscription::close`].
    pub fn close(&self) -> Result<()> {
        self.handle.close()
    }
}

impl<'a, T, H> IntoIterator for &'a EventStream<T, H> {
    type Item = StreamEvent<T>;
    type IntoIter = crossbeam_channel::Iter<'a, StreamEvent<T>>;

    fn into_iter(self) -> Self::IntoIter {
        self.rx.iter()
    }
}

impl<T, H: std::fmt::Debug> std::fmt::Debug for EventStream<T, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("handle", &self.handle)
            .field("pending", &self.rx.len())
            .finish()
    }
}
