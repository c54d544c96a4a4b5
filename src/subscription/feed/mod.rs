//! What a subscription makes of its results, behind the [`Feed`] trait: raw events for any
//! document ([`raw`]), or labels ([`labels`]) decoded straight from the frame, with a
//! [`catch_up`] after gaps (over the client's label query, [`source`]), a [`checkpoint`] after
//! each event, and the overlap between a catch-up and the live stream. Also the label
//! subscription's [`document`], and the small id types of the label path ([`small_str`]).
//!
//! Knows nothing of sockets or threads: the worker hands it decoded payloads and the
//! connection's [`Context`]. Uses the client (for the catch-up's reads), the models and the
//! events it makes.

pub(crate) mod catch_up;
pub(crate) mod checkpoint;
mod document;
mod labels;
mod overlap;
mod raw;
pub(crate) mod small_str;
mod source;
mod types;

pub(crate) use document::label_subscription_document;
pub(crate) use labels::{LabelFeed, LabelFeedSettings};
pub(crate) use raw::RawFeed;
pub(crate) use types::{Arrived, CaughtUp, Context, Feed, Live, Released, Wire};

#[cfg(test)]
pub(crate) use types::tests;
