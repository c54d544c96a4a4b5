//! One request to a receiver: the route, the secret, the pause, the body, a redelivery or a
//! new event, and the answer. Runs on the connection's thread; events are handed on one at a
//! time, under one lock, so that the callback never runs twice at once and a redelivery racing
//! its first delivery is still recognised.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Select, Sender};
use http_net::{RequestHead, Response};
use parking_lot::Mutex;

use super::auth::same_secret;
use super::event::WebhookEvent;
use super::seen::Seen;
use super::status::{Counters, Shared};
use crate::error::Error;
use crate::subscription::{Lifecycle, StreamEvent};

/// A callback's failure: the event is answered 500, and the sender tries again.
pub(crate) type CallbackError = Box<dyn std::error::Error + Send + Sync>;

/// The callback form's function, as the receiver keeps it.
pub(crate) type Callback = Box<dyn FnMut(&WebhookEvent) -> Result<(), CallbackError> + Send>;

/// Where events go.
pub(crate) enum Sink {
    Callback(Callback),
    Channel(Sender<StreamEvent<WebhookEvent>>),
}

/// The sink and the events handled, behind one lock.
pub(crate) struct Delivery {
    pub(crate) sink: Sink,
    pub(crate) seen: Seen,
}

/// What every request of one receiver needs.
pub(crate) struct Handler {
    pub(crate) shared: Arc<Shared>,
    pub(crate) path: String,
    pub(crate) secret: Vec<u8>,
    pub(crate) delivery: Arc<Mutex<Delivery>>,
    /// Disconnected once the receiver closes: a full stream stops waiting for room.
    pub(crate) closed: Receiver<()>,
}

/// How handing an event on went.
enum Handed {
    Delivered,
    Duplicate,
    Failed(String),
    Closing,
}

impl Handler {
    /// Answers one request.
    pub(crate) fn respond(&self, head: &RequestHead<'_>, body: &[u8]) -> Response {
        let counters = &self.shared.counters;
        Counters::bump(&counters.received);
        if head.path() != self.path {
            Counters::bump(&counters.rejected);
            return Response::text(404, "not a webhook path");
        }
        if head.method_str() != "POST" {
            Counters::bump(&counters.rejected);
            return Response::text(405, "webhooks are POSTed").header("allow", "POST");
        }
        let given = head.header("authorization").unwrap_or_default();
        if !same_secret(&self.secret, given) {
            Counters::bump(&counters.unauthorized);
            return Response::text(401, "unauthorized");
        }
        if self.shared.defers() {
            return self.defer();
        }
        let event = match WebhookEvent::from_body(body) {
            Ok(event) => event,
            Err(e) => {
                Counters::bump(&counters.rejected);
                log::warn!("webhook receiver {}: a bad event: {e}", self.shared.name);
                return Response::text(400, "not a webhook event");
            }
        };
        match self.hand_on(event) {
            Handed::Delivered => Response::text(200, "handled"),
            Handed::Duplicate => Response::text(200, "handled before"),
            Handed::Failed(why) => {
                Counters::bump(&counters.failed);
                log::warn!(
                    "webhook receiver {}: {why}; the sender will retry",
                    self.shared.name
                );
                Response::text(500, "the handler failed; try again")
            }
            Handed::Closing => self.defer(),
        }
    }

    /// Answers 503: paused or closing, try again later.
    fn defer(&self) -> Response {
        Counters::bump(&self.shared.counters.deferred);
        Response::text(503, "not accepting events now; try again").header("retry-after", "5")
    }

    /// Hands an event to the callback or the stream, once per key.
    fn hand_on(&self, event: WebhookEvent) -> Handed {
        let mut delivery = self.delivery.lock();
        // Checked under the lock that `close` takes: no callback starts once it returned.
        if self.shared.defers() {
            return Handed::Closing;
        }
        let key = event.key();
        if delivery.seen.contains(&key) {
            Counters::bump(&self.shared.counters.duplicates);
            return Handed::Duplicate;
        }
        let handed = match &mut delivery.sink {
            Sink::Callback(f) => match catch_unwind(AssertUnwindSafe(|| f(&event))) {
                Ok(Ok(())) => Handed::Delivered,
                Ok(Err(e)) => Handed::Failed(format!("the callback failed: {e}")),
                Err(panic) => {
                    Handed::Failed(Error::panicked("the callback", panic.as_ref()).to_string())
                }
            },
            Sink::Channel(tx) => self.send(tx, event),
        };
        if let Handed::Delivered = handed {
            Counters::bump(&self.shared.counters.delivered);
            if let Err(e) = delivery.seen.insert(key) {
                log::error!(
                    "webhook receiver {}: the event was handled, but not recorded: {e}",
                    self.shared.name
                );
            }
        }
        handed
    }

    /// Puts an event in the stream, waiting for room unless the receiver closes meanwhile.
    fn send(&self, tx: &Sender<StreamEvent<WebhookEvent>>, event: WebhookEvent) -> Handed {
        let mut sel = Select::new();
        let send = sel.send(tx);
        sel.recv(&self.closed);
        let op = sel.select();
        if op.index() == send {
            match op.send(tx, StreamEvent::Event(event)) {
                Ok(()) => Handed::Delivered,
                // Nobody reads the stream any more.
                Err(_) => Handed::Closing,
            }
        } else {
            let _ = op.recv(&self.closed);
            Handed::Closing
        }
    }

    /// Tells the stream (if any) that the receiver stopped.
    pub(crate) fn lifecycle(&self, event: Lifecycle) {
        if let Sink::Channel(tx) = &self.delivery.lock().sink {
            let _ = tx.try_send(StreamEvent::Lifecycle(event));
        }
    }
}
