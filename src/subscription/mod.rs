//! Subscriptions over WebSocket: one named thread per subscription, a handle to pause, close
//! and restart it, reconnection with backoff, and nothing lost across reconnections.
//!
//! The layers, from the wire up (each uses only the layers below it):
//! - [`wire`]: one connection. The `graphql-ws` and `graphql-transport-ws` protocols as a
//!   pure state machine (`protocol`), the clocks of a connection (`timers`), and the socket
//!   (`link`: TCP, TLS, the WebSocket handshake, reads with deadlines).
//! - [`feed`]: what results become. Raw events for any document; labels decoded straight from
//!   the frame, the catch-up after a gap (`catch_up`, over the client's label query), the
//!   checkpoint, and the overlap between a catch-up and the live stream.
//! - [`worker`]: the subscription's thread, which ties a connection to a feed, reconnects, and
//!   hands events to the program (`outlet`: a callback or a channel).
//! - What the program holds and sees: the handle (`handle`, with `command` and `status`, which
//!   it shares with the thread), the stream (`stream`), the events (`events`), the options
//!   (`options`), and the builder that starts a subscription from a [`Kili`](crate::Kili)
//!   client (`builder`).

mod builder;
mod command;
mod events;
pub(crate) mod feed;
mod handle;
mod options;
mod status;
mod stream;
pub(crate) mod wire;
mod worker;

pub use builder::SubscriptionBuilder;
pub use crossbeam_channel::{RecvError, RecvTimeoutError, TryRecvError};
pub use events::{EventOrigin, LabelEvent, Lifecycle, RawEvent, StreamEvent};
pub use feed::checkpoint::Checkpoint;
pub use handle::{Subscription, SubscriptionControl};
pub use options::{SubscriptionOptions, WsProtocol};
pub use status::{SubscriptionState, SubscriptionStats};
pub use stream::{EventStream, LabelStream};
