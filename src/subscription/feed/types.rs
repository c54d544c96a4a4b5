//! The [`Feed`] trait, and what a feed and the worker exchange: the connection's [`Context`],
//! what a live result became ([`Live`]), what settling an overlap released ([`Released`]),
//! what a catch-up reads between pages ([`Wire`], [`Arrived`]) and what it did ([`CaughtUp`]).

use std::time::SystemTime;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

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

/// What a live result became.
#[derive(Debug)]
pub(crate) enum Live<E> {
    /// An event to deliver now.
    Event(E),
    /// Kept until the overlap with a catch-up is settled (an echo among them is counted as a
    /// duplicate then).
    Waiting,
}

/// Events that an answered marker or a drained socket let leave, and the duplicates found.
#[derive(Debug)]
pub(crate) struct Released<E> {
    pub(crate) events: Vec<E>,
    pub(crate) duplicates: u64,
}

impl<E> Default for Released<E> {
    fn default() -> Self {
        Released {
            events: Vec::new(),
            duplicates: 0,
        }
    }
}

/// What reached the socket while a catch-up read pages: a result, or a marker's answer.
#[derive(Debug)]
pub(crate) enum Arrived<P> {
    Result(Result<P>),
    Marker(u64),
}

/// The connection, as a catch-up sees it between pages.
pub(crate) trait Wire<P> {
    /// Sends a marker; returns its number, or `None` if the connection has none.
    fn mark(&mut self) -> Option<u64>;

    /// Returns what the socket holds now, in order, without waiting.
    fn poll(&mut self) -> Vec<Arrived<P>>;
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

    /// Turns a live result into an event, or keeps it until the overlap with a catch-up is
    /// settled.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] if the payload does not hold an event.
    fn live(&mut self, ctx: &Context, payload: Self::Payload) -> Result<Live<Self::Event>>;

    /// Tells the feed that the server answered marker `n`; returns the events that may leave.
    fn marker(&mut self, _ctx: &Context, _n: u64) -> Released<Self::Event> {
        Released::default()
    }

    /// Returns the live events that may leave now (after a catch-up, those it held back if
    /// nothing is left to settle).
    fn release_ready(&mut self, _ctx: &Context) -> Released<Self::Event> {
        Released::default()
    }

    /// Returns whether the feed waits for the socket to be found empty (a catch-up without
    /// markers).
    fn waits_for_drain(&self) -> bool {
        false
    }

    /// Tells the feed that the socket holds nothing more to read; returns the events that may
    /// leave.
    fn drained(&mut self, _ctx: &Context) -> Released<Self::Event> {
        Released::default()
    }

    /// Returns whether events wait for markers to be answered.
    fn awaits_markers(&self) -> bool {
        false
    }

    /// Settles everything as if every marker had been answered (a server that stopped
    /// answering them); returns the events that may leave.
    fn settle_all(&mut self, _ctx: &Context) -> Released<Self::Event> {
        Released::default()
    }

    /// Tells the feed that the connection is gone: returns the events that may still leave,
    /// and when the oldest result it had to drop arrived, if it dropped any (their labels are
    /// read again by the next catch-up, but versions in between may be missed).
    fn connection_lost(&mut self, _ctx: &Context) -> (Vec<Self::Event>, Option<SystemTime>) {
        (Vec::new(), None)
    }

    /// Tells the feed that the subscription is established on a new connection.
    fn established(&mut self, _ctx: &Context) {}

    /// Returns whether the next establishment must fetch what was missed: after a gap
    /// (`reconnect`), on the first connection when resuming from a checkpoint, or after a
    /// catch-up that failed.
    fn wants_catch_up(&self, _reconnect: bool) -> bool {
        false
    }

    /// Fetches what happened since the last event delivered (or the checkpoint resumed from)
    /// and hands each event to `deliver`, oldest first, page by page. `gap_started` is when the
    /// previous connection was lost, if one was. Between pages it sends markers and reads what
    /// arrived on `wire`.
    ///
    /// # Errors
    ///
    /// The first request error; what was handed over stays handed over, and the next catch-up
    /// starts where this one stopped.
    fn catch_up(
        &mut self,
        _ctx: &Context,
        _gap_started: Option<SystemTime>,
        _wire: &mut dyn Wire<Self::Payload>,
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
pub(crate) mod tests {
    use super::*;

    /// Returns the context of a connection for unit tests.
    pub(crate) fn ctx() -> Context {
        Context {
            subscription_id: SmallStr::new("s"),
            server_date: None,
        }
    }
}
