//! What a subscription makes of its results, behind the [`Feed`] trait: raw events for any
//! document ([`raw`]), or labels ([`labels`]) decoded straight from the frame, with a
//! [`catch_up`] after gaps (over the client's label query, [`source`]), a [`checkpoint`] after
//! each event, and the overlap between a catch-up and the live stream. Also the label
//! subscription's [`document`], and the small id types of the label path ([`hash`],
//! [`small_str`]).
//!
//! Knows nothing of sockets or threads: the worker hands it decoded payloads and the
//! connection's [`Context`]. Uses the client (for the catch-up's reads), the models and the
//! events it makes.

pub(crate) mod catch_up;
pub(crate) mod checkpoint;
mod document;
pub(crate) mod hash;
mod labels;
mod raw;
pub(crate) mod small_str;
mod source;

use std::time::SystemTime;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

pub(crate) use document::label_subscription_document;
pub(crate) use labels::{LabelFeed, LabelFeedSettings};
pub(crate) use raw::RawFeed;

use crate::error::{Error, Result};
use crate::subscription::feed::catch_up::{Flow, Gap};
use crate::subscription::feed::checkpoint::Checkpoint;
use crate::subscription::feed::small_str::SmallStr;

/// What the worker tells a feed about the connection a result came on.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    /// The subscription's operation id on this connection.
    pub(crate) subscription_id: SmallStr,
    /// The `Date` the server sent with the WebSocket handshake, if any.
    pub(crate) server_date: Option<SystemTime>,
}

/// What a catch-up did, for the lifecycle events.
#[derive(Debug, Clone, Default)]
pub(crate) struct CaughtUp {
    /// Events handed over.
    pub(crate) delivered: usize,
    /// Labels a limit left out.
    pub(crate) gap: Option<Gap>,
    /// From when to when updates of older labels cannot have been seen.
    pub(crate) unchecked_updates: Option<(SystemTime, SystemTime)>,
}

/// Turns results into events.
pub(crate) trait Feed: Send + 'static {
    /// What the program receives.
    type Event: Send + 'static;

    /// A result's payload, decoded straight from the frame.
    type Payload: DeserializeOwned;

    /// What a payload holds, for errors ("a label event").
    const WHAT: &'static str;

    /// Decodes a payload handed over as text.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] if it is not a payload of this feed.
    fn decode(payload: &RawValue) -> Result<Self::Payload> {
        serde_json::from_str(payload.get()).map_err(|e| Error::decode(Self::WHAT, e))
    }

    /// Turns a live result into an event; `Ok(None)` if it repeats what the catch-up of this reconnection just
    /// delivered.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] if the payload does not hold an event.
    fn live(&mut self, ctx: &Context, payload: Self::Payload) -> Result<Option<Self::Event>>;

    /// Returns whether [`live`](Self::live) holds results back (see [`release`](Self::release)).
    fn holding(&self) -> bool {
        false
    }

    /// Releases the results held back, to deliver now that no more are waiting in the socket.
    fn release(&mut self, _ctx: &Context) -> Vec<Self::Event> {
        Vec::new()
    }

    /// Tells the feed that the subscription is established on a new connection.
    fn established(&mut self, _ctx: &Context) {}

    /// Returns whether the next establishment must fetch what was missed: after a gap (`reconnect`), or
    /// on the first connection when resuming from a checkpoint.
    fn wants_catch_up(&self, _reconnect: bool) -> bool {
        false
    }

    /// Fetches what happened since the last event delivered (or the checkpoint resumed from)
    /// and hands each event to `deliver`, oldest first, page by page. `gap_started` is when the
    /// previous connection was lost, if one was.
    ///
    /// # Errors
    ///
    /// The first request error; what was handed over stays handed over.
    fn catch_up(
        &mut self,
        _ctx: &Context,
        _gap_started: Option<SystemTime>,
        _deliver: &mut dyn FnMut(Self::Event) -> Flow,
    ) -> Result<CaughtUp> {
        Ok(CaughtUp::default())
    }

    /// Tells the feed that the subscription restarts after a close: what happened meanwhile is
    /// not wanted.
    fn restarted(&mut self) {}

    /// Returns where it stands, for a restart (label feeds only).
    fn checkpoint(&self) -> Option<Checkpoint> {
        None
    }

    /// Returns the checkpoint an event carries (label events only).
    fn checkpoint_of(_event: &Self::Event) -> Option<Checkpoint> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn ctx() -> Context {
        Context {
            subscription_id: SmallStr::new("s"),
            server_date: None,
        }
    }
}
