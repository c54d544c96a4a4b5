//! Kili's HTTP webhooks, received: Kili POSTs an event to a URL you host each time a label is
//! submitted or reviewed on a project where the webhook is active; a [`WebhookReceiver`]
//! serves that URL.
//!
//! The layers: the event as decoded ([`event`], pure), the secret's comparison ([`auth`]), the
//! events already handled ([`seen`]: a bounded window, and an optional state file), one
//! request's handling ([`handler`]), the shared flags and counters ([`status`]), and the
//! handle with its builder ([`receiver`]). HTTP parsing, limits and deadlines are `http-net`'s
//! (a bounded thread per connection, no async runtime). Uses the models, the errors, and the
//! subscriptions' stream and lifecycle types.
//!
//! Kili does not document how it retries, how long it waits, or in which order it sends:
//! the receiver is right whatever it does. An event is answered 2xx only once it was handled,
//! so a failure is sent again; a redelivery of an event already handled (same type, label
//! and label version) is answered 200 and not handed on; events may come in any order.

mod auth;
mod event;
mod handler;
mod receiver;
mod seen;
mod status;

pub use event::{WebhookEvent, WebhookEventType};
pub use receiver::{WebhookReceiver, WebhookReceiverBuilder};
pub use status::ReceiverStats;
