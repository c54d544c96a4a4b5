//! [`Shared`]: what every connection thread shares (the schema, the store, the settings, the
//! test hooks) and the registry of live connections that stopping the server walks.
//!
//! Below the HTTP and WebSocket sides, which read it, and the listener, which fills the
//! registry. Uses the schema, the store and `recording`; must not use `http`, `ws` or the
//! listener.

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
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
    pub(crate) idle_timeout: Duration,
    pub(crate) record_requests: bool,
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
    conns: Mutex<HashMap<u64, TcpStream>>,
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

    /// Registers a connection unless the server is stopping or full.
    pub(crate) fn register(&self, stream: &TcpStream) -> Result<u64, u16> {
        let mut conns = self.conns.lock();
        if self.is_stopping() {
            return Err(503);
        }
        if conns.len() >= self.config.max_connections {
            return Err(503);
        }
        let clone = stream.try_clone().map_err(|_| 500u16)?;
        let id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        conns.insert(id, clone);
        Ok(id)
    }

    /// Forgets a connection (and makes sure its socket is shut).
    pub(crate) fn unregister(&self, id: u64) {
        let mut conns = self.conns.lock();
        if let Some(s) = conns.remove(&id) {
            let _ = s.shutdown(Shutdown::Both);
        }
        self.conns_changed.notify_all();
    }

    /// Marks the server as stopping, so that no connection registers any more, and shuts
    /// every live socket.
    pub(crate) fn shut_all(&self) {
        let conns = self.conns.lock();
        self.stopping.store(true, Ordering::SeqCst);
        for s in conns.values() {
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
