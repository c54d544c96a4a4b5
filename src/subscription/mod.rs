//! Subscriptions over WebSocket: one named thread per subscription, a handle to pause, close
//! and restart it, reconnection with backoff, and nothing lost across reconnections.
//!
//! The layers, from the wire up:
//! - `protocol`, `timers`: pure logic, no IO: the `graphql-ws` and `graphql-transport-ws`
//!   protocols as a state machine, and the clocks of a connection (ack, keep-alive, watchdog);
//! - `link`: one connection (TCP, TLS, WebSocket handshake) and its socket reader;
//! - `feed`, `dedupe`, `outlet`: what frames become (labels, raw events; catch-up) and where
//!   they go (a callback or a channel);
//! - `worker`: the subscription thread that ties them together;
//! - `handle`, `stream`, `status`, `events`, `options`: what the program holds and sees;
//! - `api`: the methods on [`Kili`](crate::Kili).

mod api;
mod catch_up;
mod checkpoint;
mod events;
mod feed;
mod handle;
mod link;
mod options;
mod outlet;
pub(crate) mod protocol;
mod status;
mod stream;
mod timers;
mod worker;

pub use checkpoint::Checkpoint;
pub use crossbeam_channel::{RecvError, RecvTimeoutError, TryRecvError};
pub use events::{EventOrigin, LabelEvent, Lifecycle, RawEvent, StreamEvent};
pub use handle::{Subscription, SubscriptionControl};
pub use options::{SubscriptionOptions, WsProtocol};
pub use status::{SubscriptionState, SubscriptionStats};
pub use stream::{EventStream, LabelStream};
