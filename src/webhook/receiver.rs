//! [`WebhookReceiver`]: a blocking HTTP server that receives Kili's webhooks, and its builder.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, bounded};
use http_net::Limits;
use http_net::blocking::{Server, ServerConfig, ShutdownHandle};
use parking_lot::Mutex;

use super::event::WebhookEvent;
use super::handler::{CallbackError, Delivery, Handler, Sink};
use super::seen::Seen;
use super::status::{ReceiverStats, Shared};
use crate::error::{Error, Result};
use crate::subscription::{EventStream, Lifecycle, SubscriptionState};

/// Numbers the receivers of the process, for thread names.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Sets up a [`WebhookReceiver`]: where it listens, the secret it expects, its limits, where it
/// remembers the events it handled; then starts it with a callback or as a stream.
///
/// # Examples
///
/// ```
/// let receiver = kili::WebhookReceiver::builder("127.0.0.1:0", "Bearer my-secret")
///     .path("/kili")
///     .callback(|event| {
///         println!("{} on {:?}", event.event_type().as_str(), event.asset_id());
///         Ok::<(), std::io::Error>(())
///     })?;
/// println!("register {} with Kili", receiver.url());
/// receiver.close()?;
/// # Ok::<(), kili::Error>(())
/// ```
#[must_use = "a builder does nothing until `callback` or `stream` starts the receiver"]
#[derive(Debug, Clone)]
pub struct WebhookReceiverBuilder {
    addr: String,
    secret: String,
    path: String,
    max_body: u64,
    max_connections: usize,
    idle_timeout: Duration,
    request_timeout: Duration,
    remember: usize,
    state_file: Option<PathBuf>,
    queue_capacity: usize,
    close_timeout: Duration,
}

impl WebhookReceiverBuilder {
    /// Sets the path Kili POSTs to (the path of the URL registered with `create_webhook`);
    /// other paths are answered 404. Defaults to `/`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets the largest body accepted; a larger one is answered 413 before it is read.
    /// Defaults to 32 MiB.
    pub fn max_body(mut self, bytes: u64) -> Self {
        self.max_body = bytes;
        self
    }

    /// Sets how many connections are served at once (at least 1); the next is answered 503
    /// and closed. Defaults to 64.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Sets how long a connection may stay silent (before a request, or between reads of
    /// one). Defaults to 10 s.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets how long a request may take from its first byte to the end of its body (a client
    /// that trickles it is answered 408 and cut off). Defaults to 30 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets how many handled events are remembered, to answer their redeliveries without
    /// handing them on again. Defaults to 10,000.
    pub fn remember(mut self, events: usize) -> Self {
        self.remember = events.max(1);
        self
    }

    /// Sets a file in which the handled events are remembered across restarts (appended and
    /// synced as each is handled, rewritten when it grows past twice the window). Defaults to
    /// none: a restarted receiver hands on a redelivery of an event its previous run handled.
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// Sets how many events the stream form holds for its reader; when it is full, requests
    /// wait for room (the sender's own timeout then applies). Defaults to 1024 (at least 1).
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// Sets how long [`close`](WebhookReceiver::close) waits for requests in progress.
    /// Defaults to 5 s.
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Starts the receiver: `callback` runs for each new event, one at a time, on the thread
    /// of the connection that brought it; the request is answered 200 once it returns `Ok`,
    /// and 500 if it returns an error or panics (Kili then sends the event again).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the address cannot be bound or the state file cannot be used;
    /// [`Error::InvalidInput`] for an empty secret or a path that does not start with `/`.
    pub fn callback<F, E>(self, mut callback: F) -> Result<WebhookReceiver>
    where
        F: FnMut(&WebhookEvent) -> std::result::Result<(), E> + Send + 'static,
        E: Into<CallbackError>,
    {
        let sink = Sink::Callback(Box::new(move |e| callback(e).map_err(Into::into)));
        self.start(sink)
    }

    /// Starts the receiver, whose events are read from the returned stream; a request is
    /// answered 200 once its event is in the stream. A program that may stop before handling
    /// what the stream holds should use [`callback`](Self::callback), which answers only
    /// once the event was handled.
    ///
    /// # Errors
    ///
    /// As [`callback`](Self::callback).
    pub fn stream(self) -> Result<EventStream<WebhookEvent, WebhookReceiver>> {
        let (tx, rx) = bounded(self.queue_capacity);
        let receiver = self.start(Sink::Channel(tx))?;
        Ok(EventStream::new(receiver, rx))
    }

    fn start(self, sink: Sink) -> Result<WebhookReceiver> {
        if self.secret.is_empty() {
            return Err(Error::invalid("the webhook secret is empty"));
        }
        if !self.path.starts_with('/') {
            return Err(Error::invalid(format!(
                "the path {:?} does not start with /",
                self.path
            )));
        }
        let seen = match &self.state_file {
            Some(path) => Seen::in_file(self.remember, path)?,
            None => Seen::in_memory(self.remember),
        };
        let addr = self
            .addr
            .to_socket_addrs()
            .map_err(Error::io(format!("resolving {}", self.addr)))?
            .next()
            .ok_or_else(|| Error::invalid(format!("{} names no address", self.addr)))?;
        let config = ServerConfig::new()
            .with_limits(Limits::new().with_max_body(self.max_body))
            .with_max_connections(self.max_connections)
            .with_read_timeout(Some(self.idle_timeout))
            .with_request_timeout(Some(self.request_timeout));
        let server = Server::bind(addr)
            .map_err(Error::io(format!("binding {addr}")))?
            .with_config(config);
        let name = format!("kili-webhooks-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
        let shared = Arc::new(Shared::new(name));
        let (closing, closed) = bounded(0);
        let delivery = Arc::new(Mutex::new(Delivery { sink, seen }));
        let handler = Handler {
            shared: Arc::clone(&shared),
            path: self.path.clone(),
            secret: self.secret.into_bytes(),
            delivery: Arc::clone(&delivery),
            closed,
        };
        WebhookReceiver::serve(
            server,
            handler,
            Arc::downgrade(&delivery),
            closing,
            self.path,
            self.close_timeout,
        )
    }
}

/// A running webhook receiver: an HTTP server on its own threads (one that accepts, one per
/// connection, at most `max_connections`), which verifies each request's `Authorization`
/// header, decodes its event, hands it to a callback or a stream once (a redelivery is
/// answered without handing it on again), and answers so that Kili retries what failed.
///
/// The handle is shaped like a [`Subscription`](crate::Subscription)'s: `pause`,
/// `unpause`, `close`, `wait`, `stats`, `state`, `lifetime`. Pausing differs: a paused
/// receiver answers 503 with `Retry-After`, so events are not dropped but sent again later
/// by Kili. Dropping the handle closes the receiver without waiting.
///
/// It speaks plain HTTP; put it behind a reverse proxy (nginx, Caddy, a load balancer) that
/// terminates TLS for the URL Kili calls.
#[must_use = "dropping the handle closes the receiver"]
pub struct WebhookReceiver {
    shared: Arc<Shared>,
    addr: SocketAddr,
    path: String,
    shutdown: ShutdownHandle,
    /// Disconnected by `close`: wakes requests waiting for room in a full stream.
    closing: Mutex<Option<Sender<()>>>,
    delivery: Weak<Mutex<Delivery>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    close_timeout: Duration,
}

impl WebhookReceiver {
    /// Returns a builder for a receiver listening on `addr` (e.g. `"0.0.0.0:8080"`, or
    /// `"127.0.0.1:0"` for a free port) that accepts the requests whose `Authorization`
    /// header is `secret` (the `header` given to `create_webhook`), and answers others 401.
    pub fn builder(addr: impl Into<String>, secret: impl Into<String>) -> WebhookReceiverBuilder {
        WebhookReceiverBuilder {
            addr: addr.into(),
            secret: secret.into(),
            path: "/".into(),
            max_body: 32 << 20,
            max_connections: 64,
            idle_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            remember: 10_000,
            state_file: None,
            queue_capacity: 1024,
            close_timeout: Duration::from_secs(5),
        }
    }

    fn serve(
        server: Server,
        handler: Handler,
        delivery: Weak<Mutex<Delivery>>,
        closing: Sender<()>,
        path: String,
        close_timeout: Duration,
    ) -> Result<WebhookReceiver> {
        let addr = server.local_addr();
        let shutdown = server.shutdown_handle();
        let shared = Arc::clone(&handler.shared);
        let handler = Arc::new(handler);
        let thread = std::thread::Builder::new()
            .name(shared.name.clone())
            .spawn(move || {
                let last = Arc::clone(&handler);
                let outcome = server
                    .serve(move |head, body| handler.respond(head, body))
                    .map_err(Error::io("accepting webhook connections"));
                last.lifecycle(match &outcome {
                    Ok(()) => Lifecycle::Closed,
                    Err(error) => Lifecycle::Failed {
                        error: error.clone(),
                    },
                });
                last.shared.end(outcome);
            })
            .map_err(Error::io("spawning the webhook receiver's thread"))?;
        log::debug!("webhook receiver {} listening on {addr}", shared.name);
        Ok(WebhookReceiver {
            shared,
            addr,
            path,
            shutdown,
            closing: Mutex::new(Some(closing)),
            delivery,
            thread: Mutex::new(Some(thread)),
            close_timeout,
        })
    }

    /// Returns the address it listens on (with the port chosen for `:0`).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns its URL on that address, `http://ADDR/PATH`: what to register with Kili when
    /// Kili can reach this address (behind a proxy or a tunnel, register the public URL).
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.path)
    }

    /// Answers every request 503 with `Retry-After` until [`unpause`](Self::unpause): Kili
    /// keeps the events and sends them again; nothing is dropped.
    pub fn pause(&self) {
        self.shared.paused.store(true, Ordering::SeqCst);
    }

    /// Hands events on again.
    pub fn unpause(&self) {
        self.shared.paused.store(false, Ordering::SeqCst);
    }

    /// Returns whether the receiver is paused.
    pub fn is_paused(&self) -> bool {
        self.shared.paused.load(Ordering::SeqCst)
    }

    /// Closes the receiver: from the moment it is called no callback starts, requests are
    /// answered 503, and the listening socket closes; waits at most the close timeout for
    /// the requests in progress. Calling it again is fine.
    ///
    /// # Errors
    ///
    /// What the accept loop failed with, if it did.
    pub fn close(&self) -> Result<()> {
        self.begin_closing();
        // Waits for a callback in progress: none starts after this.
        if let Some(delivery) = self.delivery.upgrade() {
            drop(delivery.lock());
        }
        self.shutdown.shutdown();
        self.finish(Instant::now().checked_add(self.close_timeout))
            .unwrap_or(Ok(()))
    }

    /// Blocks until the receiver ends: `Ok` once it was closed, the accept loop's error
    /// otherwise.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if accepting connections failed for good.
    pub fn wait(&self) -> Result<()> {
        self.finish(None).unwrap_or(Ok(()))
    }

    /// Waits like [`wait`](Self::wait), at most `timeout`; `None` if it still runs then.
    pub fn wait_timeout(&self, timeout: Duration) -> Option<Result<()>> {
        self.finish(Instant::now().checked_add(timeout))
    }

    /// Answers every request 503 from now on and wakes the connections waiting to hand an
    /// event to a full stream.
    fn begin_closing(&self) {
        self.shared.closing.store(true, Ordering::SeqCst);
        drop(self.closing.lock().take());
    }

    /// Waits until `deadline` (forever if `None`) for the accept loop's end; its outcome.
    fn finish(&self, deadline: Option<Instant>) -> Option<Result<()>> {
        let outcome = self.shared.wait_end(deadline)?;
        if let Some(thread) = self.thread.lock().take() {
            // It ended: joining it is quick.
            let _ = thread.join();
        }
        Some(outcome)
    }

    /// Returns how long it has been listening.
    pub fn lifetime(&self) -> Duration {
        self.shared.started.elapsed()
    }

    /// Returns where it is: `Active`, `Closed`, or `Failed`.
    pub fn state(&self) -> SubscriptionState {
        self.shared.state()
    }

    /// Returns its counters.
    pub fn stats(&self) -> ReceiverStats {
        self.shared.stats()
    }
}

impl<T> EventStream<T, WebhookReceiver> {
    /// Closes the receiver (see [`WebhookReceiver::close`]); the stream then ends.
    ///
    /// # Errors
    ///
    /// As [`WebhookReceiver::close`].
    pub fn close(&self) -> Result<()> {
        self.handle().close()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.begin_closing();
        self.shutdown.shutdown();
    }
}

impl std::fmt::Debug for WebhookReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookReceiver")
            .field("url", &self.url())
            .field("state", &self.state())
            .field("paused", &self.is_paused())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}
