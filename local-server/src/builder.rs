//! [`LocalServerBuilder`]: the settings of a local server, and starting it; with the
//! constructors of [`LocalServer`] that start one ([`LocalServer::builder`],
//! [`LocalServer::start`]), kept here so that the handle does not import its builder back.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::listener;
use crate::schema;
use crate::server::{LocalServer, public_addr};
use crate::settings::LabelSettings;
use crate::shared::{Config, Shared};
use crate::store::{ServerState, StoreError};
use crate::webhooks::{DeliverySettings, Engine, WebhookOptions};

/// The email of the first user (the one of [`LocalServerBuilder::api_key`]).
pub const DEFAULT_EMAIL: &str = "user@local.kili";

impl LocalServer {
    /// Returns a builder with the defaults.
    pub fn builder() -> LocalServerBuilder {
        LocalServerBuilder::default()
    }

    /// Starts a server with the defaults: a free port and one user with a generated key.
    ///
    /// # Errors
    ///
    /// As [`LocalServerBuilder::start`].
    ///
    /// # Examples
    ///
    /// ```
    /// let server = kili_local_server::LocalServer::start()?;
    /// assert!(!server.api_key().is_empty());
    /// # Ok::<(), kili_local_server::Error>(())
    /// ```
    pub fn start() -> Result<LocalServer> {
        LocalServer::builder().start()
    }
}

/// Settings for a [`LocalServer`]; start it with [`LocalServerBuilder::start`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use kili_local_server::LocalServer;
///
/// # fn main() -> kili_local_server::Result<()> {
/// let server = LocalServer::builder()
///     .api_key("alice-key")
///     .user("bob-key", "bob@example.com")
///     .keep_alive(None)
///     .subscription_lifetime(Duration::from_secs(60))
///     .start()?;
/// assert_eq!(server.api_key(), "alice-key");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use]
pub struct LocalServerBuilder {
    host: IpAddr,
    port: u16,
    api_key: Option<String>,
    users: Vec<(String, String)>,
    keep_alive: Option<Duration>,
    subscription_lifetime: Duration,
    max_body_bytes: usize,
    max_connections: usize,
    max_connections_per_address: Option<usize>,
    max_subscriptions_per_connection: usize,
    subscriber_queue: usize,
    idle_timeout: Duration,
    request_timeout: Option<Duration>,
    record_requests: bool,
    upload_url_lifetime: Duration,
    created_at_resolution: Duration,
    shuffle_label_pages: bool,
    upload_local_data: bool,
    state: Option<ServerState>,
    data_file: Option<PathBuf>,
    /// The webhook settings, set in `builder_webhooks.rs`.
    pub(crate) webhooks: WebhookOptions,
}

impl fmt::Debug for LocalServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalServerBuilder")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("users", &(self.users.len() + 1))
            .field("keep_alive", &self.keep_alive)
            .field("subscription_lifetime", &self.subscription_lifetime)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_connections", &self.max_connections)
            .field(
                "max_connections_per_address",
                &self.max_connections_per_address,
            )
            .field(
                "max_subscriptions_per_connection",
                &self.max_subscriptions_per_connection,
            )
            .field("max_queued_labels", &self.subscriber_queue)
            .field("idle_timeout", &self.idle_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("record_requests", &self.record_requests)
            .field("upload_url_lifetime", &self.upload_url_lifetime)
            .field("created_at_resolution", &self.created_at_resolution)
            .field("shuffle_label_pages", &self.shuffle_label_pages)
            .field("upload_local_data", &self.upload_local_data)
            .field("data_file", &self.data_file)
            .field("webhooks", &self.webhooks)
            .finish_non_exhaustive()
    }
}

impl Default for LocalServerBuilder {
    fn default() -> Self {
        LocalServerBuilder {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            api_key: None,
            users: Vec::new(),
            keep_alive: Some(Duration::from_secs(10)),
            subscription_lifetime: Duration::from_secs(30 * 86_400),
            max_body_bytes: 32 * 1024 * 1024,
            max_connections: 256,
            max_connections_per_address: None,
            max_subscriptions_per_connection: 100,
            subscriber_queue: crate::settings::DEFAULT_SUBSCRIBER_QUEUE,
            idle_timeout: Duration::from_secs(60),
            request_timeout: None,
            record_requests: false,
            upload_url_lifetime: Duration::from_secs(3600),
            created_at_resolution: Duration::from_millis(1),
            shuffle_label_pages: false,
            upload_local_data: true,
            state: None,
            data_file: None,
            webhooks: WebhookOptions::default(),
        }
    }
}

impl LocalServerBuilder {
    /// Sets the address to listen on. Anything but a loopback address (e.g. `0.0.0.0` in a
    /// container) exposes the server to the network: [`start`](Self::start) then requires an
    /// explicit [`api_key`](Self::api_key).
    ///
    /// Defaults to 127.0.0.1.
    pub fn host(mut self, host: IpAddr) -> Self {
        self.host = host;
        self
    }

    /// Sets the port to bind; 0 picks a free one.
    ///
    /// Defaults to 0.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets the API key of the first user (email [`DEFAULT_EMAIL`]). On a
    /// [data file](Self::data_file) or [state](Self::state) whose first user has another key,
    /// this key replaces it: the old key stops working (a warning is logged). The same holds for
    /// [`user`](Self::user) and its email.
    ///
    /// Defaults to the first user's key in the data file or state if it has one, else a
    /// generated random key (see [`LocalServer::api_key`]).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Adds another user with their own key, e.g. to test that users cannot see each other's
    /// projects.
    ///
    /// Defaults to no other user.
    pub fn user(mut self, key: impl Into<String>, email: impl Into<String>) -> Self {
        self.users.push((key.into(), email.into()));
        self
    }

    /// Sets how often a `graphql-ws` connection gets a `ka` frame (one is also sent right after
    /// `connection_ack`); `None` sends none. `graphql-transport-ws` has no `ka`.
    ///
    /// Defaults to 10 seconds.
    pub fn keep_alive(mut self, every: Option<Duration>) -> Self {
        self.keep_alive = every;
        self
    }

    /// Sets after how long the server ends a subscription with `complete`.
    ///
    /// Defaults to 30 days, as Kili does.
    pub fn subscription_lifetime(mut self, lifetime: Duration) -> Self {
        self.subscription_lifetime = lifetime;
        self
    }

    /// Sets the largest request body (after gzip decoding) and WebSocket message accepted; larger
    /// HTTP bodies get `413`.
    ///
    /// Defaults to 32 MiB.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sets how many connections (HTTP and WebSocket) may be open at once; more are answered `503`
    /// and closed.
    ///
    /// Defaults to 256.
    pub fn max_connections(mut self, count: usize) -> Self {
        self.max_connections = count;
        self
    }

    /// Sets how many connections one peer address may hold at once; more from it are answered
    /// `503` and closed, while other addresses still get in. Set, it applies to every peer,
    /// loopback included.
    ///
    /// Defaults to a quarter of [`max_connections`](Self::max_connections) (64) for peers beyond
    /// this machine, and no cap of its own for loopback peers (this machine's tests and tools).
    /// Behind a port mapping or a proxy every client may share one address: raise it there.
    pub fn max_connections_per_address(mut self, count: usize) -> Self {
        self.max_connections_per_address = Some(count);
        self
    }

    /// Sets how many subscriptions (operations) one WebSocket connection may run at once; more
    /// are refused with an `error` frame naming the limit.
    ///
    /// Defaults to 100.
    pub fn max_subscriptions_per_connection(mut self, count: usize) -> Self {
        self.max_subscriptions_per_connection = count;
        self
    }

    /// Sets how many labels may wait for a subscription's client (written, not yet sent because
    /// the client reads more slowly). A subscription with more waiting is dropped: its client
    /// gets the labels queued, then an `error` frame (`SUBSCRIPTION_OVERFLOW`), never a queue
    /// that grows without end.
    ///
    /// Defaults to 262,144 (a few MiB at most: the queue holds references to stored labels).
    pub fn max_queued_labels(mut self, count: usize) -> Self {
        self.subscriber_queue = count;
        self
    }

    /// Sets how long an HTTP connection may sit idle before it is closed; also how long a request
    /// head may take to arrive as a whole (a head trickled in slowly gets `408`). A WebSocket must
    /// send `connection_init` within this or 10 seconds, whichever is shorter (else it is closed
    /// with 4408); after that, WebSocket connections are not subject to it.
    ///
    /// Defaults to 60 seconds.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets how long a signed upload URL (`createUploadBucketSignedUrls`) may be used. A URL is
    /// good for one upload: a second `PUT` with it, or one after this, gets `403`.
    ///
    /// Defaults to one hour.
    pub fn upload_url_lifetime(mut self, lifetime: Duration) -> Self {
        self.upload_url_lifetime = lifetime;
        self
    }

    /// Sets how long one HTTP request, head and body, may take to arrive from its first byte; a
    /// request still arriving then gets `408` and its connection is closed, however steadily it
    /// trickles in.
    ///
    /// Defaults to four times the [idle timeout](Self::idle_timeout) (4 minutes).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// Sets whether to keep every GraphQL POST for [`LocalServer::recorded_requests`]. A test
    /// hook: a recording server reads (and records) the body of a POST without a known key
    /// before answering it `401`, where any other reads no body before the key is checked.
    ///
    /// Defaults to `false`.
    pub fn record_requests(mut self, record: bool) -> Self {
        self.record_requests = record;
        self
    }

    /// Floors the `createdAt` and `updatedAt` of every label written from now on to the
    /// server's start plus a multiple of `resolution`. With one hour, every label of a test
    /// shares one `createdAt` (the server's start): a client test can prove that nothing it
    /// does depends on labels having distinct timestamps. Stamps are never earlier than the
    /// server's start, as on Kili a label is never stamped long before it is written.
    ///
    /// Whatever the resolution, all the labels of one `appendManyLabels` call share one
    /// `createdAt`, timestamps never go backwards, and several calls may share a millisecond.
    /// Existing labels keep their timestamps. This is a server setting, not data: a server
    /// restarted on the same [`state`](Self::state) uses its own builder's value.
    ///
    /// Defaults to 1 ms (plain millisecond timestamps). [`start`](Self::start) refuses a
    /// resolution that is not a whole, non-zero number of milliseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use kili_local_server::LocalServer;
    ///
    /// let server = LocalServer::builder()
    ///     .created_at_resolution(Duration::from_secs(3600))
    ///     .start()?;
    /// # drop(server);
    /// # Ok::<(), kili_local_server::Error>(())
    /// ```
    pub fn created_at_resolution(mut self, resolution: Duration) -> Self {
        self.created_at_resolution = resolution;
        self
    }

    /// Sets whether the `labels` query returns its matches in a shuffled order instead of creation
    /// order: sorted by a hash of the label id. The order is neither creation nor `createdAt`
    /// order, and it is stable while the data does not change, so `first`/`skip` pages over
    /// unchanged data still see every label exactly once; a label created or deleted between two
    /// pages moves the others. Kili documents no order for `labels`; this lets a client test prove
    /// it needs none. `countLabels` and the other queries are unaffected.
    ///
    /// A server setting, not data: a server restarted on the same [`state`](Self::state) uses
    /// its own builder's value.
    ///
    /// Defaults to `false` (creation order).
    pub fn shuffle_label_pages(mut self, shuffle: bool) -> Self {
        self.shuffle_label_pages = shuffle;
        self
    }

    /// Sets whether the organization's license allows uploading local data
    /// (`license.uploadLocalData`, which the SDK checks before importing local files, raw text or
    /// JSON contents); when off, `createUploadBucketSignedUrls` is refused too, so the SDK's and
    /// clients' refusal paths can be tested.
    ///
    /// Defaults to `true`.
    pub fn upload_local_data(mut self, allowed: bool) -> Self {
        self.upload_local_data = allowed;
        self
    }

    /// Keeps the data in a file: an append-only journal of writes (one JSON line per write,
    /// synced to disk before the write is answered; concurrent writes share a sync), replayed at
    /// start, so a server restarted on the same file (in this process or another) has the same
    /// users, projects, assets, labels and uploaded files, with the same ids, timestamps and
    /// versions. Uploaded bodies go to a directory next to it (`<file>.files/`). The file is
    /// created if missing (`0600`) and locked while the server runs; stopping the server syncs
    /// it and releases it ([`LocalServer::close`] reports a failed sync).
    ///
    /// Defaults to none: the data lives in memory only.
    ///
    /// # Examples
    ///
    /// ```
    /// use kili_local_server::LocalServer;
    ///
    /// let dir = std::env::temp_dir().join(format!("kili-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let file = dir.join("kili.jsonl");
    /// let first = LocalServer::builder().data_file(&file).start()?;
    /// let key = first.api_key().to_owned();
    /// first.stop();
    /// let again = LocalServer::builder().data_file(&file).start()?;
    /// assert_eq!(again.api_key(), key, "the same users, projects, assets and labels");
    /// # again.stop();
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn data_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.data_file = Some(path.into());
        self
    }

    /// Serves an existing store instead of a new one. Stopping a server and starting another
    /// on the same port with the same state simulates a restart.
    ///
    /// Defaults to a new, empty [`ServerState`].
    pub fn state(mut self, state: ServerState) -> Self {
        self.state = Some(state);
        self
    }

    /// Binds the address and starts serving on background threads.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the port cannot be bound, a thread cannot be spawned, or the data
    /// file cannot be opened, locked or written; [`Error::DataFile`] if it cannot be replayed;
    /// [`Error::InvalidSettings`] for an empty API key, a zero `max_connections`, a
    /// `created_at_resolution` that is not a whole, non-zero number of milliseconds, a
    /// non-loopback host without an explicit API key, or both a state and a data file.
    pub fn start(mut self) -> Result<LocalServer> {
        if !self.host.is_loopback() && self.api_key.is_none() {
            return Err(Error::invalid(format!(
                "listening on {} exposes the server beyond this machine: give an explicit api key",
                self.host
            )));
        }
        if self.api_key.as_deref().is_some_and(|k| k.trim().is_empty())
            || self.users.iter().any(|(k, _)| k.trim().is_empty())
        {
            return Err(Error::invalid("api keys must not be empty"));
        }
        if self.max_connections == 0 {
            return Err(Error::invalid("max_connections must be at least 1"));
        }
        let mut label_settings = LabelSettings::new(
            self.created_at_resolution,
            self.shuffle_label_pages,
            crate::time::now_ms(),
        )
        .map_err(Error::invalid)?;
        let deliveries = self
            .webhooks
            .settings(self.host.is_loopback())
            .map_err(Error::invalid)?;
        label_settings.subscriber_queue = self.subscriber_queue;
        let (state, owns_journal) = match (self.state.take(), &self.data_file) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "give a state or a data file, not both (a data file makes its own state)",
                ));
            }
            (Some(state), None) => (state, false),
            (None, Some(path)) => (ServerState::open_data_file(path)?, true),
            (None, None) => (ServerState::new(), false),
        };
        let started = self.serve(state.clone(), label_settings, deliveries, owns_journal);
        if started.is_err() && owns_journal {
            let _ = state.detach_journal();
        }
        started
    }

    /// Returns what every connection of the server reads of its settings.
    fn config(&self) -> Config {
        Config {
            keep_alive: self.keep_alive,
            subscription_lifetime: self.subscription_lifetime,
            max_body_bytes: self.max_body_bytes,
            max_connections: self.max_connections,
            max_connections_per_address: self.max_connections_per_address,
            max_subscriptions_per_connection: self.max_subscriptions_per_connection,
            idle_timeout: self.idle_timeout,
            request_timeout: self
                .request_timeout
                .unwrap_or_else(|| self.idle_timeout.saturating_mul(4)),
            record_requests: self.record_requests,
            upload_url_lifetime: self.upload_url_lifetime,
        }
    }

    /// Adds the users, starts the webhook deliveries, binds, and starts the accept thread.
    fn serve(
        self,
        state: ServerState,
        label_settings: LabelSettings,
        deliveries: DeliverySettings,
        owns_journal: bool,
    ) -> Result<LocalServer> {
        let config = self.config();
        let key = match self.api_key {
            Some(k) => k,
            None => state
                .key_of(DEFAULT_EMAIL)
                .unwrap_or_else(|| state.generate_key()),
        };
        let write_error = |e: StoreError| Error::Io {
            context: "writing the data file".into(),
            source: std::io::Error::other(e.message),
        };
        state
            .ensure_user(&key, DEFAULT_EMAIL)
            .map_err(write_error)?;
        for (k, email) in &self.users {
            state.ensure_user(k, email).map_err(write_error)?;
        }
        state.wait_durable().map_err(write_error)?;
        let targets = deliveries.targets.clone();
        let webhooks = Engine::start(state.clone(), deliveries)
            .map_err(Error::io("spawning the local server's webhook thread"))?;
        let tcp = TcpListener::bind((self.host, self.port)).map_err(Error::io(format!(
            "binding the local server to {}:{}",
            self.host, self.port
        )))?;
        let addr = tcp
            .local_addr()
            .map_err(Error::io("reading the local server's address"))?;
        let org = schema::OrgSettings {
            upload_local_data: self.upload_local_data,
        };
        let origin = schema::ServerOrigin(format!("http://{}", public_addr(addr)));
        let shared = Arc::new(Shared::new(
            schema::build(state.clone(), label_settings, org, origin, targets),
            state,
            config,
        ));
        let accept_shared = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name(format!("kili-local-accept-{}", addr.port()))
            .spawn(move || listener::accept_loop(tcp, accept_shared))
            .map_err(Error::io("spawning the local server's accept thread"))?;
        Ok(LocalServer::running(
            addr,
            key,
            shared,
            accept,
            webhooks,
            owns_journal,
        ))
    }
}
