//! [`Shared`]: what every connection thread shares (the schema, the store, the settings, the
//! test hooks) and the registry of live connections that stopping the server walks.
//!
//! Below the HTTP and WebSocket sides, which read it, and the listener, which fills the
//! registry. Uses the schema, the store and `recording`; must not use `http`, `ws` or the
//! listener.

use std::collections::HashMap;
use std::net::{IpAddr, Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::recording::RecordedRequest;
use crate::schema::{self, KiliSchema};
use crate::store::ServerState;

/// The settings of a running server.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) keep_alive: Option<Duration>,
    pub(crate) subscription_lifetime: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_connections: usize,
    /// Most connections from one peer address; `None`: a quarter of `max_connections` for peers
    /// beyond loopback, no cap of its own for loopback ones.
    pub(crate) max_connections_per_address: Option<usize>,
    /// Most operations one WebSocket may run at once.
    pub(crate) max_subscriptions_per_connection: usize,
    pub(crate) idle_timeout: Duration,
    /// How long one HTTP request (head and body) may take to arrive.
    pub(crate) request_timeout: Duration,
    pub(crate) record_requests: bool,
    /// How long a signed upload URL may be used.
    pub(crate) upload_url_lifetime: Duration,
}

/// Injected failures for the next HTTP POSTs.
#[derive(Debug, Default)]
pub(crate) struct FailPlan {
    pub(crate) remaining: usize,
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
}

/// What every connection thread shares.
pub(crate) struct Shared {
    pub(crate) schema: KiliSchema,
    pub(crate) state: ServerState,
    pub(crate) version: String,
    pub(crate) config: Config,
    pub(crate) fail: Mutex<FailPlan>,
    pub(crate) recorded: Mutex<Vec<RecordedRequest>>,
    stopping: AtomicBool,
    next_conn: AtomicU64,
    /// Live connections, with their peer's address.
    conns: Mutex<HashMap<u64, (TcpStream, Option<IpAddr>)>>,
    conns_changed: Condvar,
}

impl Shared {
    /// Makes the shared part of a server, with the version of its schema.
    pub(crate) fn new(schema: KiliSchema, state: ServerState, config: Config) -> Self {
        let version = schema::version(&schema);
        Shared {
            schema,
            state,
            version,
            config,
            fail: Mutex::new(FailPlan::default()),
            recorded: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            next_conn: AtomicU64::new(1),
            conns: Mutex::new(HashMap::new()),
            conns_changed: Condvar::new(),
        }
    }

    /// Returns how many connections are registered.
    pub(crate) fn connection_count(&self) -> usize {
        self.conns.lock().len()
    }

    /// Returns whether the server is stopping.
    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Takes one injected failure, if any is pending.
    pub(crate) fn take_failure(&self) -> Option<(u16, Option<Duration>)> {
        let mut f = self.fail.lock();
        if f.remaining == 0 {
            return None;
        }
        f.remaining -= 1;
        Some((f.status, f.retry_after))
    }

    /// Returns how many connections a peer address may hold, if it is capped.
    fn cap_of(&self, peer: IpAddr) -> Option<usize> {
        match self.config.max_connections_per_address {
            Some(cap) => Some(cap),
            None if peer.is_loopback() => None,
            None => Some(self.config.max_connections.div_ceil(4)),
        }
    }

    /// Registers a connection unless the server is stopping or full, or its peer's address holds
    /// as many connections as it may.
    pub(crate) fn register(&self, stream: &TcpStream) -> Result<u64, u16> {
        let peer = stream.peer_addr().ok().map(|a| a.ip());
        let mut conns = self.conns.lock();
        if self.is_stopping() {
            return Err(503);
        }
        if conns.len() >= self.config.max_connections {
            return Err(503);
        }
        if let Some((peer, cap)) = peer.and_then(|p| self.cap_of(p).map(|c| (p, c)))
            && conns.values().filter(|(_, p)| *p == Some(peer)).count() >= cap
        {
            log::warn!("local server: {peer} holds {cap} connections already; refused one more");
            return Err(503);
        }
        let clone = stream.try_clone().map_err(|_| 500u16)?;
        let id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        conns.insert(id, (clone, peer));
        Ok(id)
    }

    /// Forgets a connection (and makes sure its socket is shut).
    pub(crate) fn unregister(&self, id: u64) {
        let mut conns = self.conns.lock();
        if let Some((s, _)) = conns.remove(&id) {
            let _ = s.shutdown(Shutdown::Both);
        }
        self.conns_changed.notify_all();
    }

    /// Marks the server as stopping, so that no connection registers any more, and shuts
    /// every live socket.
    pub(crate) fn shut_all(&self) {
        let conns = self.conns.lock();
        self.stopping.store(true, Ordering::SeqCst);
        for (s, _) in conns.values() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Waits until every connection is unregistered, or `deadline`.
    pub(crate) fn wait_for_connections(&self, deadline: Instant) {
        let mut conns = self.conns.lock();
        while !conns.is_empty() {
            if self
                .conns_changed
                .wait_until(&mut conns, deadline)
                .timed_out()
            {
                log::warn!(
                    "local server: {} connection threads did not end in time",
                    conns.len()
                );
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::LabelSettings;

    fn shared(max: usize, per_address: Option<usize>) -> Shared {
        let state = ServerState::new();
        let schema = schema::build(
            state.clone(),
            LabelSettings::DEFAULT,
            schema::OrgSettings::default(),
            schema::ServerOrigin("http://127.0.0.1:1".into()),
            crate::webhook_targets::WebhookTargets::default(),
        );
        let config = Config {
            keep_alive: None,
            subscription_lifetime: Duration::from_secs(1),
            max_body_bytes: 1024,
            max_connections: max,
            max_connections_per_address: per_address,
            max_subscriptions_per_connection: 1,
            idle_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
            record_requests: false,
            upload_url_lifetime: Duration::from_secs(1),
        };
        Shared::new(schema, state, config)
    }

    #[test]
    fn peers_beyond_loopback_get_a_quarter_by_default() {
        let remote: IpAddr = "192.0.2.7".parse().unwrap();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let s = shared(256, None);
        assert_eq!((s.cap_of(remote), s.cap_of(local)), (Some(64), None));
        let s = shared(256, Some(8));
        assert_eq!((s.cap_of(remote), s.cap_of(local)), (Some(8), Some(8)));
    }
}
