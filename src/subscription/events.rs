//! What a subscription delivers: label events, raw events and lifecycle events.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, GraphQlError};
use crate::models::Label;

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
///     println!("New data: {}", event.frame);
///     println!("label {} on asset {:?}", event.label.id, event.label.asset_id);
/// })?;
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LabelEvent {
    /// The label, decoded.
    pub label: Label,
    /// The operation id of the subscription on the connection that carried the event.
    pub subscription_id: String,
    /// The whole frame, `{"type": "data", "id": ..., "payload": {"data": {"data": {...}}}}`, as
    /// received (for a [catch-up](EventOrigin::CatchUp) event, a frame of the same shape built
    /// from the fetched label).
    pub frame: Value,
    /// Live or fetched after a reconnection.
    pub origin: EventOrigin,
}

/// One result of a generic subscription ([`Kili::subscribe`](crate::Kili::subscribe)).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RawEvent {
    /// The result's `data` (`Null` if absent).
    pub data: Value,
    /// The result's `errors` (usually empty).
    pub errors: Vec<GraphQlError>,
    /// The operation id of the subscription on the connection that carried the event.
    pub subscription_id: String,
    /// The whole frame, as received.
    pub frame: Value,
}

impl RawEvent {
    pub(crate) fn from_frame(subscription_id: String, frame: Value) -> RawEvent {
        let payload = frame.get("payload");
        let data = payload
            .and_then(|p| p.get("data"))
            .cloned()
            .unwrap_or(Value::Null);
        let errors = payload
            .and_then(|p| p.get("errors"))
            .and_then(Value::as_array)
            .map(|list| list.iter().map(GraphQlError::from_json).collect())
            .unwrap_or_default();
        RawEvent {
            data,
            errors,
            subscription_id,
            frame,
        }
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
        cause: Arc<Error>,
    },
    /// The subscription is established again.
    Reconnected {
        /// Its operation id on the new connection.
        subscription_id: String,
        /// How many events that happened while disconnected were fetched and delivered.
        missed: usize,
    },
    /// The events missed while disconnected could not be fetched.
    CatchUpFailed {
        /// Why.
        error: Arc<Error>,
    },
    /// The callback panicked; the subscription goes on.
    CallbackPanicked {
        /// The panic message.
        message: String,
    },
    /// The subscription stopped for good (authentication failure, invalid document, ...).
    Failed {
        /// Why.
        error: Arc<Error>,
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
    /// The event, if this is one.
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
