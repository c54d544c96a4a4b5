//! [`LocalServer`]: the handle on a running server, for its endpoints and key, the test hooks,
//! and stopping it. Starting one is the builder's (`LocalServer::builder`, `LocalServer::start`
//! are defined next to it, in `builder.rs`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::http::GRAPHQL_PATH;
use crate::listener;
use crate::recording::RecordedRequest;
use crate::shared::Shared;
use crate::store::ServerState;
use crate::webhooks::Engine;

/// A running local server. Dropping it (or [`LocalServer::stop`]) stops it and closes every
/// connection, WebSockets included.
///
/// See the [crate docs](crate), and the crate's `README.md`, for what it emulates.
pub struct LocalServer {
    addr: SocketAddr,
    api_key: String,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
    /// The webhook delivery threads.
    webhooks: Option<Engine>,
    /// Whether this server opened the data file (and closes it when it stops).
    owns_journal: bool,
}

/// Returns the address clients on this machine use: a wildcard bind (`0.0.0.0`, `::`) is reached on
/// loopback.
pub(crate) fn public_addr(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

impl fmt::Debug for LocalServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalServer")
            .field("addr", &self.addr)
            .field("connections", &self.connection_count())
            .finish_non_exhaustive()
    }
}

impl LocalServer {
    /// Wraps a server whose accept thread runs.
    pub(crate) fn running(
        addr: SocketAddr,
        api_key: String,
        shared: Arc<Shared>,
        accept: JoinHandle<()>,
        webhooks: Engine,
        owns_journal: bool,
    ) -> Self {
        LocalServer {
            addr,
            api_key,
            shared,
            accept: Some(accept),
            webhooks: Some(webhooks),
            owns_journal,
        }
    }

    /// Returns the GraphQL endpoint, `http://127.0.0.1:PORT/api/label/v2/graphql` (on loopback when
    /// the server listens on every address).
    pub fn endpoint(&self) -> String {
        format!("http://{}{}", public_addr(self.addr), GRAPHQL_PATH)
    }

    /// Returns the WebSocket endpoint, `ws://127.0.0.1:PORT/api/label/v2/graphql`.
    pub fn ws_endpoint(&self) -> String {
        format!("ws://{}{}", public_addr(self.addr), GRAPHQL_PATH)
    }

    /// Returns the bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns the first user's API key.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// Returns the shared in-memory store (a cheap clone).
    pub fn state(&self) -> ServerState {
        self.shared.state.clone()
    }

    /// Makes the next `count` GraphQL POSTs fail with `status` (and `Retry-After: <seconds>`
    /// if given) without executing them; for retry tests. Replaces any earlier plan.
    pub fn fail_next_requests(&self, count: usize, status: u16, retry_after: Option<Duration>) {
        let mut plan = self.shared.fail.lock();
        plan.remaining = count;
        plan.status = status;
        plan.retry_after = retry_after;
    }

    /// Returns every GraphQL POST received since start, oldest first (empty unless
    /// [`LocalServerBuilder::record_requests`](crate::LocalServerBuilder::record_requests) is on).
    /// A batch counts as one per operation.
    pub fn recorded_requests(&self) -> Vec<RecordedRequest> {
        self.shared.recorded.lock().clone()
    }

    /// Returns how many TCP connections (HTTP and WebSocket) are open.
    pub fn connection_count(&self) -> usize {
        self.shared.connection_count()
    }

    /// Stops accepting, closes every connection and waits for their threads (a few seconds at
    /// most), stops the webhook deliveries (a POST in flight is cut, its delivery stays pending),
    /// then syncs and closes the data file, if any. Dropping the handle does the same. A
    /// failed sync is logged; [`close`](Self::close) reports it.
    pub fn stop(mut self) {
        let _ = self.shutdown();
    }

    /// Stops as [`stop`](Self::stop) does, and reports whether the data file reached the disk.
    ///
    /// # Errors
    ///
    /// [`Error::Io`](crate::Error::Io) when the data file could not be synced at the stop (or a
    /// write or sync failed before): the last writes may not be on disk.
    pub fn close(mut self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        if let Some(accept) = self.accept.take() {
            listener::stop(&self.shared, public_addr(self.addr), Some(accept));
            // Before the journal closes: an attempt in flight is interrupted, not recorded.
            if let Some(mut webhooks) = self.webhooks.take() {
                webhooks.stop();
            }
            if self.owns_journal {
                return self
                    .shared
                    .state
                    .detach_journal()
                    .map_err(Error::io("syncing the data file at the stop"));
            }
        }
        Ok(())
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}
