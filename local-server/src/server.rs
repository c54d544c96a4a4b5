//! The accept loop, the registry of live connections, and stopping.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::http::Response;
use super::schema::KiliSchema;
use super::store::ServerState;
use crate::RecordedRequest;

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
    pub(crate) fn new(schema: KiliSchema, state: ServerState, config: Config) -> Self {
        let version = super::schema::version(&schema);
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

    pub(crate) fn connection_count(&self) -> usize {
        self.conns.lock().len()
    }

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
    fn register(&self, stream: &TcpStream) -> Result<u64, u16> {
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
    fn unregister(&self, id: u64) {
        let mut conns = self.conns.lock();
        if let Some(s) = conns.remove(&id) {
            let _ = s.shutdown(Shutdown::Both);
        }
        self.conns_changed.notify_all();
    }
}

/// Removes a connection from the registry when its thread ends.
pub(crate) struct ConnGuard<'a> {
    shared: &'a Shared,
    pub(crate) id: u64,
}

impl Drop for ConnGuard<'_> {
    fn drop(&mut self) {
        self.shared.unregister(self.id);
    }
}

/// Accepts connections until stopped; one thread per connection.
pub(crate) fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.is_stopping() {
            break;
        }
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                log::warn!("local server: accept failed: {e}");
                // Avoid spinning on persistent errors such as EMFILE.
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        // Register here, so that `stop` sees the connection even before its thread runs.
        let id = match shared.register(&stream) {
            Ok(id) => id,
            Err(status) => {
                refuse(stream, status);
                continue;
            }
        };
        let conn_shared = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name(format!("kili-local-conn-{id}"))
            .spawn(move || {
                let guard = ConnGuard {
                    shared: &conn_shared,
                    id,
                };
                super::conn::serve(stream, &conn_shared, guard.id);
                drop(guard);
            });
        if let Err(e) = spawned {
            log::warn!("local server: cannot spawn a connection thread: {e}");
            shared.unregister(id);
        }
    }
}

/// Answers a connection we will not serve, then closes it.
fn refuse(mut stream: TcpStream, status: u16) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let resp = Response::graphql_error(
        status,
        "SERVER_BUSY",
        "too many connections to the local server",
    )
    .with_header("Retry-After", "1")
    .closing();
    let _ = stream.write_all(&resp.to_bytes());
    let _ = stream.shutdown(Shutdown::Write);
    // Runs on the accept thread, so never block: only discard what the client already sent,
    // so that closing does not reset the connection before the client reads the answer.
    if stream.set_nonblocking(true).is_ok() {
        let mut chunk = [0u8; 16 * 1024];
        while matches!(stream.read(&mut chunk), Ok(n) if n > 0) {}
    }
}

/// Stops accepting, shuts every live socket, and waits (bounded) for their threads.
pub(crate) fn stop(shared: &Shared, addr: SocketAddr, accept: Option<JoinHandle<()>>) {
    {
        let conns = shared.conns.lock();
        shared.stopping.store(true, Ordering::SeqCst);
        for s in conns.values() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
    // Wake the accept loop, which blocks in accept(). If even that fails, leave the thread
    // detached (it ends at its next connection) rather than hang here.
    let woken = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok();
    match accept {
        Some(handle) if woken => {
            let _ = handle.join();
        }
        Some(_) => {
            log::warn!("local server: could not wake the accept thread; leaving it detached")
        }
        None => {}
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut conns = shared.conns.lock();
    while !conns.is_empty() {
        if shared
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
