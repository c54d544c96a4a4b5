//! [`SubscriptionOptions`]: how a subscription connects, watches and reconnects.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::subscription::events::Lifecycle;
use crate::subscription::feed::checkpoint::Checkpoint;

/// A GraphQL-over-WebSocket protocol, named by its WebSocket subprotocol.
///
/// ```
/// use kili::{SubscriptionOptions, WsProtocol};
/// let opts = SubscriptionOptions::new().protocol(WsProtocol::GraphqlTransportWs);
/// assert!(format!("{opts:?}").contains("GraphqlTransportWs"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WsProtocol {
    /// Subprotocol `graphql-ws`: Apollo's legacy protocol, the one Kili speaks.
    #[default]
    GraphqlWs,
    /// Subprotocol `graphql-transport-ws`: the protocol of the `graphql-ws` library.
    GraphqlTransportWs,
}

impl WsProtocol {
    /// Returns the `Sec-WebSocket-Protocol` token.
    ///
    /// ```
    /// assert_eq!(kili::WsProtocol::GraphqlWs.subprotocol(), "graphql-ws");
    /// ```
    pub fn subprotocol(self) -> &'static str {
        match self {
            WsProtocol::GraphqlWs => "graphql-ws",
            WsProtocol::GraphqlTransportWs => "graphql-transport-ws",
        }
    }

    /// Returns the protocol named by a `Sec-WebSocket-Protocol` token.
    pub(crate) fn from_subprotocol(token: &str) -> Option<WsProtocol> {
        [WsProtocol::GraphqlWs, WsProtocol::GraphqlTransportWs]
            .into_iter()
            .find(|p| token.trim().eq_ignore_ascii_case(p.subprotocol()))
    }
}

/// The default [`SubscriptionOptions::queue_capacity`].
pub(crate) const DEFAULT_QUEUE_CAPACITY: usize = 1024;

/// The largest event a subscription reads by default: 256 MiB, as much as the client reads in
/// one HTTP response.
pub(crate) const DEFAULT_MAX_EVENT_SIZE: usize = 256 << 20;

/// A function called with the subscription's lifecycle events (connected, reconnecting, a
/// panicking callback, ...), on the subscription's thread.
pub(crate) type LifecycleHook = Arc<dyn Fn(&Lifecycle) + Send + Sync>;

/// Settings of one subscription.
///
/// Built with chainable setters; every setting has a default suited to Kili.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let opts = kili::SubscriptionOptions::new()
///     .keep_alive(Some(Duration::from_secs(10)))
///     .backoff(Duration::from_millis(200), Duration::from_secs(10))
///     .thread_name("labels-watcher");
/// assert!(format!("{opts:?}").contains("labels-watcher"));
/// ```
#[derive(Clone)]
#[non_exhaustive]
#[must_use]
pub struct SubscriptionOptions {
    /// Offered in order of preference; never empty.
    pub(crate) protocols: Vec<WsProtocol>,
    pub(crate) keep_alive: Option<Duration>,
    pub(crate) watchdog_multiple: u32,
    pub(crate) ack_timeout: Duration,
    pub(crate) backoff_min: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) stack_size: usize,
    pub(crate) close_timeout: Duration,
    pub(crate) dedupe_capacity: usize,
    pub(crate) catch_up_margin: Option<Duration>,
    pub(crate) catch_up_limit: Option<u64>,
    pub(crate) resume_from: Option<Checkpoint>,
    pub(crate) queue_capacity: usize,
    pub(crate) thread_name: Option<String>,
    pub(crate) on_lifecycle: Option<LifecycleHook>,
    pub(crate) max_event_size: usize,
    pub(crate) registration_probe: bool,
}

impl Default for SubscriptionOptions {
    fn default() -> Self {
        SubscriptionOptions {
            protocols: vec![WsProtocol::GraphqlWs],
            keep_alive: Some(Duration::from_secs(30)),
            watchdog_multiple: 3,
            ack_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(30),
            stack_size: 512 * 1024,
            close_timeout: Duration::from_secs(2),
            dedupe_capacity: 4096,
            catch_up_margin: Some(Duration::from_secs(30)),
            catch_up_limit: None,
            resume_from: None,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            thread_name: None,
            on_lifecycle: None,
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
            registration_probe: true,
        }
    }
}

impl fmt::Debug for SubscriptionOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscriptionOptions")
            .field("protocols", &self.protocols)
            .field("keep_alive", &self.keep_alive)
            .field("watchdog_multiple", &self.watchdog_multiple)
            .field("ack_timeout", &self.ack_timeout)
            .field("backoff_min", &self.backoff_min)
            .field("backoff_max", &self.backoff_max)
            .field("stack_size", &self.stack_size)
            .field("close_timeout", &self.close_timeout)
            .field("dedupe_capacity", &self.dedupe_capacity)
            .field("catch_up_margin", &self.catch_up_margin)
            .field("catch_up_limit", &self.catch_up_limit)
            .field("resume_from", &self.resume_from)
            .field("queue_capacity", &self.queue_capacity)
            .field("thread_name", &self.thread_name)
            .field("max_event_size", &self.max_event_size)
            .field("registration_probe", &self.registration_probe)
            .field(
                "on_lifecycle",
                &self.on_lifecycle.as_ref().map(|_| "Fn(&Lifecycle)"),
            )
            .finish()
    }
}

impl SubscriptionOptions {
    /// Returns the default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the protocol to speak.
    ///
    /// Defaults to [`WsProtocol::GraphqlWs`], Kili's.
    pub fn protocol(mut self, protocol: WsProtocol) -> Self {
        self.protocols = vec![protocol];
        self
    }

    /// Offers several protocols, in order of preference, and speaks the one the server picks
    /// (an empty list means the default).
    ///
    /// Defaults to [`WsProtocol::GraphqlWs`] alone.
    pub fn protocols(mut self, protocols: impl IntoIterator<Item = WsProtocol>) -> Self {
        let mut offered: Vec<WsProtocol> = Vec::new();
        for p in protocols {
            if !offered.contains(&p) {
                offered.push(p);
            }
        }
        if offered.is_empty() {
            offered.push(WsProtocol::default());
        }
        self.protocols = offered;
        self
    }

    /// Sets the server's keep-alive interval: after this long without any frame from the server the
    /// subscription asks for a sign of life (a WebSocket ping, or a `ping` message on
    /// `graphql-transport-ws`), and after [`watchdog_multiple`](Self::watchdog_multiple) times
    /// this long it considers the connection dead and reconnects. `None` turns the watchdog off.
    ///
    /// Defaults to `Some(30 s)`.
    pub fn keep_alive(mut self, interval: Option<Duration>) -> Self {
        self.keep_alive = interval.filter(|d| !d.is_zero());
        self
    }

    /// Sets how many keep-alive intervals of silence make a connection dead (at least 1).
    ///
    /// Defaults to 3.
    pub fn watchdog_multiple(mut self, multiple: u32) -> Self {
        self.watchdog_multiple = multiple.max(1);
        self
    }

    /// Sets how long to wait for `connection_ack` (and for the server to confirm the subscription).
    ///
    /// Defaults to 10 s.
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = timeout;
        self
    }

    /// Sets the first and the largest delay between reconnection attempts. Attempt `n` waits a
    /// random time up to `min(max, min * 2^(n-1))` (full jitter). The count starts over when a
    /// connection held for `max`, or when the server ended a subscription that had run for
    /// at least `min`.
    ///
    /// Defaults to 100 ms and 30 s.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff_min = min;
        self.backoff_max = max.max(min);
        self
    }

    /// Sets the stack size of the subscription's thread, where the callback runs (at least
    /// 128 KiB). TLS handshakes (`wss://`, and the `https://` catch-up requests) run on it
    /// too: measured at up to about 200 KiB in a debug build. Only the pages used are
    /// committed, so a generous size costs address space, not memory.
    ///
    /// Defaults to 512 KiB.
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = bytes.max(128 * 1024);
        self
    }

    /// Sets how long [`close`](crate::Subscription::close) waits for the server to acknowledge the
    /// close before dropping the connection.
    ///
    /// Defaults to 2 s.
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Sets how many recently delivered label versions are remembered: a catch-up skips them, and
    /// a [`Checkpoint`] lists them. Beyond this many within the catch-up margin, the oldest are
    /// forgotten and the next catch-up starts after them (a label published that late, out of
    /// `createdAt` order, would then be missed).
    ///
    /// Defaults to 4096.
    pub fn dedupe_capacity(mut self, capacity: usize) -> Self {
        self.dedupe_capacity = capacity.max(1);
        self
    }

    /// Sets how far back a catch-up reaches. After a gap (a lost connection, or a resume from a
    /// checkpoint), the label subscriptions
    /// fetch the labels created since the newest one delivered, minus this margin, and deliver
    /// those not delivered yet, oldest first. The margin covers labels published out of
    /// `createdAt` order and the updates of labels created shortly before the gap. `None`
    /// turns the catch-up off (and with it, resuming from a checkpoint).
    ///
    /// Defaults to `Some(30 s)`.
    pub fn catch_up_margin(mut self, margin: Option<Duration>) -> Self {
        self.catch_up_margin = margin;
        self
    }

    /// Sets the most labels one catch-up delivers: the newest ones, up to the live stream; the older
    /// ones are reported by [`Lifecycle::CatchUpTruncated`]. `None` delivers them all (in pages
    /// of 100, each handed over before the next is fetched, so memory stays flat).
    ///
    /// Defaults to `None`.
    pub fn catch_up_limit(mut self, limit: Option<u64>) -> Self {
        self.catch_up_limit = limit;
        self
    }

    /// Resumes a label subscription where a previous process left it: the first connection
    /// catches up from the checkpoint (typically the last [`LabelEvent::checkpoint`] saved),
    /// delivering every label created or updated since, and none already delivered.
    ///
    /// [`LabelEvent::checkpoint`]: crate::LabelEvent::checkpoint
    ///
    /// Defaults to none: a new subscription starts with the labels created from now on.
    pub fn resume_from(mut self, checkpoint: Checkpoint) -> Self {
        self.resume_from = Some(checkpoint);
        self
    }

    /// Sets how many events a stream ([`SubscriptionBuilder::stream`](crate::SubscriptionBuilder::stream))
    /// holds for its reader.
    /// When it is full, the subscription's thread waits (and stops reading the socket, so the
    /// server holds back too): nothing is dropped, memory stays bounded, and
    /// [`SubscriptionStats::blocked`](crate::SubscriptionStats::blocked) counts the wait.
    ///
    /// While frames keep arriving, the thread hands events over in bursts of up to a quarter
    /// of the capacity (256 at most), which wakes the reader once per burst instead of once per
    /// event; whatever is held goes out as soon as the socket has nothing more to read, and
    /// before any lifecycle event. So at most `capacity + capacity / 4` events are in memory.
    ///
    /// Defaults to 1024 (at least 1).
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// Sets the name of the subscription's thread.
    ///
    /// Defaults to `kili-sub-N`, N counting the subscriptions of the process.
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.thread_name = Some(name.into());
        self
    }

    /// Sets a function called on the subscription's thread with every [`Lifecycle`] event: the way
    /// for the callback form to see reconnections and panicking callbacks (the stream form
    /// receives them in the stream as well).
    ///
    /// Defaults to none.
    pub fn on_lifecycle(mut self, hook: impl Fn(&Lifecycle) + Send + Sync + 'static) -> Self {
        self.on_lifecycle = Some(Arc::new(hook));
        self
    }

    /// Sets the largest frame the subscription reads, in bytes: a label whose frame is larger
    /// (a big segmentation or OCR `jsonResponse`, say) is not read from the socket. The
    /// connection it arrived on is then unusable: the subscription reports the error once
    /// (as the cause of [`Lifecycle::Reconnecting`], naming the size and the limit),
    /// reconnects, and fetches the label over HTTP in the catch-up, like any label missed.
    ///
    /// The limit bounds the memory one frame may take. Defaults to 256 MiB, as much as the
    /// client reads in one HTTP response.
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = bytes.max(1024);
        self
    }

    /// Sets whether each connection confirms its subscription with a probe: after `start`,
    /// a one-shot `query { __typename }` under another operation id, whose answer tells that
    /// the server registered the subscription (servers answer operations in order). The
    /// probe's answers also mark how far a catch-up's live echoes reach, so that the overlap
    /// between a catch-up and the live stream ends at a point of the stream, not at a guess.
    ///
    /// Without it the subscription sends exactly the SDK's frames, counts itself established
    /// at `connection_ack` plus the first result or a short wait, and ends an overlap when the
    /// socket holds nothing more to read. Defaults to `true`.
    pub fn registration_probe(mut self, probe: bool) -> Self {
        self.registration_probe = probe;
        self
    }
}
