//! Webhook delivery, off the request path: a label write records its deliveries in the store
//! (and the journal) and rings the store's doorbell; the threads here POST them.
//!
//! One manager thread starts one worker thread per webhook (`engine`, sharing `shared`); a worker POSTs its
//! webhook's pending deliveries one at a time, in creation order (a delivery that fails holds
//! back the ones after it, so deliveries to one webhook keep their order), retrying with
//! backoff for a bounded time (`worker`, with the policy in `settings`); each POST is written by
//! hand on a `TcpStream` (`post`), to an address the target check (`webhook_targets`) passed.
//!
//! Uses the store, `webhook_targets` and `time`; only the builder and the server handle use it
//! (to start and stop it).

mod engine;
mod post;
mod settings;
mod shared;
mod worker;

pub(crate) use engine::Engine;
pub(crate) use settings::{DeliverySettings, WebhookOptions};
