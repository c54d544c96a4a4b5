//! Subscriptions over WebSocket: one named thread per subscription, a handle to pause, close
//! and restart it, reconnection with backoff, and nothing lost across reconnections.
//!
//! The layers, from the wire up:
//! - [`protocol`]: the `graphql-ws` and `graphql-transport-ws` protocols as a pure state machine;
//! - `backoff`, `dedupe`, `clock`: small pure helpers;
//! - `tls`, `connect`: opening one connection (TCP, TLS, WebSocket handshake) and its reader;
//! - `feed`, `outlet`: what frames become (labels, raw events; catch-up) and where they go;
//! - `worker`: the subscription thread; `handle`, `stream`: what the program holds;
//! - `api`: the methods on [`Kili`](crate::Kili).

mod api;
mod connect;
mod dedupe;
mod events;
mod feed;
mod handle;
mod options;
mod outlet;
pub(crate) mod protocol;
mod status;
mod stream;
mod worker;

pub use crossbeam_channel::{RecvError, RecvTimeoutError, TryRecvError};
pub use events::{EventOrigin, LabelEvent, Lifecycle, RawEvent, StreamEvent};
pub use handle::Subscription;
pub use options::{SubscriptionOptions, WsProtocol};
pub use status::{SubscriptionState, SubscriptionStats};
pub use stream::{EventStream, LabelStream};
