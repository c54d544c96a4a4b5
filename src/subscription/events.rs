//! What a subscription delivers: label events, raw events and lifecycle events.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::error::{Error, GraphQlError};
use crate::models::Label;
use crate::subscription::feed::checkpoint::Checkpoint;
use crate::subscription::feed::small_str::SmallStr;

/// How an event reached the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventOrigin {
    /// Pushed by the server on the live subscription.
    Live,
    /// Fetched after a reconnection: it happened while the connection was down.
    CatchUp,
}

/// A label was created or updated.
///
/// # Examples
///
/// ```no_run
/// let kili = kili::Kili::from_env()?;
/// let sub = kili.label_created_or_updated("project-id", |event: &kili::LabelEvent| {
///     println!("New data: {}", event.frame());
///     println!("label {} on asset {:?}", event.label().id(), event.label().asset_id());
///     // Saved somewhere safe, this resumes a restarted program after this label.
///     let _resume_here: String = event.checkpoint().to_string();
/// })?;
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LabelEvent {
    label: Label,
    origin: EventOrigin,
    subscription_id: SmallStr,
    checkpoint: Checkpoint,
}

impl LabelEvent {
    pub(crate) fn new(
        label: Label,
        subscription_id: SmallStr,
        origin: EventOrigin,
        checkpoint: Checkpoint,
    ) -> LabelEvent {
        LabelEvent {
            label,
            origin,
            subscription_id,
            checkpoint,
        }
    }

    /// Returns the label, decoded.
    pub fn label(&self) -> &Label {
        &self.label
    }

    /// Returns the label, consuming the event.
    pub fn into_label(self) -> Label {
        self.label
    }

    /// Returns how the event reached the program: live, or fetched after a gap.
    pub fn origin(&self) -> EventOrigin {
        self.origin
    }

    /// Returns the operation id of the subscription on the connection that carried the event.
    pub fn subscription_id(&self) -> &str {
        self.subscription_id.as_str()
    }

    /// Returns where the subscription stands once this event is handled: resuming from it delivers
    /// what comes after, and not this event again.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// Returns the event as the Python SDK hands it to its callback:
    /// `{"type": "data", "id": ..., "payload": {"data": {"data": {...}}}}`, built from the
    /// decoded label (see [`Label::to_json`]).
    pub fn frame(&self) -> Value {
        serde_json::json!({
            "type": "data",
            "id": self.subscription_id.as_str(),
            "payload": {"data": {"data": self.label.to_json()}},
        })
    }
}

/// One result of a subscription to any document ([`Kili::subscription`](crate::Kili::subscription)).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RawEvent {
    data: Value,
    errors: Vec<GraphQlError>,
    subscription_id: SmallStr,
}

impl RawEvent {
    pub(crate) fn new(data: Value, errors: Vec<GraphQlError>, subscription_id: SmallStr) -> Self {
        RawEvent {
            data,
            errors,
            subscription_id,
        }
    }

    /// Returns the result's `data` (`Null` if absent).
    pub fn data(&self) -> &Value {
        &self.data
    }

    /// Returns the result's `data`, consuming the event.
    pub fn into_data(self) -> Value {
        self.data
    }

    /// Returns the result's `errors` (usually none).
    pub fn errors(&self) -> &[GraphQlError] {
        &self.errors
    }

    /// Returns the operation id of the subscription on the connection that carried the event.
    pub fn subscription_id(&self) -> &str {
        self.subscription_id.as_str()
    }
}

/// Something that happened to a subscription's connection.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Lifecycle {
    /// The subscription is established (first connection, or a restart after `close`).
    Connected {
        /// Its operation id on this connection.
        subscription_id: String,
    },
    /// The connection was lost (or the server ended the subscription); a new attempt follows
    /// after `delay`.
    Reconnecting {
        /// The attempt about to be made, from 1.
        attempt: u32,
        /// The wait before it.
        delay: Duration,
        /// Why the previous connection or attempt ended.
        cause: Error,
    },
    /// The subscription is established again.
    Reconnected {
        /// Its operation id on the new connection.
        subscription_id: String,
        /// How many events that happened while disconnected were fetched and delivered.
        missed: usize,
    },
    /// A catch-up fetched only the newest labels, as
    /// [`SubscriptionOptions::catch_up_limit`](crate::SubscriptionOptions::catch_up_limit)
    /// asks: the labels created in `[from, until]` were not delivered.
    CatchUpTruncated {
        /// The oldest creation time left out.
        from: SystemTime,
        /// The newest creation time left out.
        until: SystemTime,
        /// How many labels were left out.
        skipped: u64,
    },
    /// After a gap (a reconnection, or a resume from a checkpoint), the catch-up found the
    /// labels created during the gap and the updates of labels created shortly before it (within
    /// the catch-up margin). Kili's API offers no way to find the updates of older labels, so
    /// updates made to them between `from` and `until` may not have been delivered.
    UpdatesMayBeMissed {
        /// When the gap began (the connection was lost, or the checkpoint's time).
        from: SystemTime,
        /// When the subscription was established again.
        until: SystemTime,
    },
    /// The events missed while disconnected could not be fetched. The subscription goes on
    /// with live events and tries the catch-up again, from the same point, after a backoff
    /// delay (and after any reconnection) until it succeeds; checkpoints meanwhile resume from
    /// that point too.
    CatchUpFailed {
        /// Why.
        error: Error,
    },
    /// A catch-up that had failed ([`CatchUpFailed`](Self::CatchUpFailed)) succeeded on a
    /// later attempt.
    CaughtUp {
        /// How many events that happened while disconnected it delivered.
        missed: usize,
    },
    /// The callback panicked; the subscription goes on.
    CallbackPanicked {
        /// An [`Error::Panicked`] with the panic's message.
        error: Error,
    },
    /// The subscription stopped for good (authentication failure, invalid document, ...).
    Failed {
        /// Why.
        error: Error,
    },
    /// The subscription was closed.
    Closed,
}

/// An item of an [`EventStream`](crate::EventStream): an event, or a lifecycle event.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum StreamEvent<T> {
    /// An event of the subscription.
    Event(T),
    /// Something happened to the connection.
    Lifecycle(Lifecycle),
}

impl<T> StreamEvent<T> {
    /// Returns the event, if this is one.
    ///
    /// ```
    /// use kili::{StreamEvent, Lifecycle};
    /// assert_eq!(StreamEvent::Event(3).into_event(), Some(3));
    /// assert_eq!(StreamEvent::<i32>::Lifecycle(Lifecycle::Closed).into_event(), None);
    /// ```
    pub fn into_event(self) -> Option<T> {
        match self {
            StreamEvent::Event(e) => Some(e),
            StreamEvent::Lifecycle(_) => None,
        }
    }
}
