//! The listener: accepts connections, one thread each, which speaks HTTP until the client asks
//! to upgrade, then WebSocket; and stopping, which closes them all.
//!
//! The top of the serving side: it uses `http`, `ws` and `shared`, and only the crate's
//! `LocalServer` and builder use it.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::http::{self, Response};
use crate::shared::Shared;
use crate::ws;

/// Removes a connection from the registry when its thread ends.
struct ConnGuard<'a> {
    shared: &'a Shared,
    id: u64,
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
                serve(stream, &conn_shared, guard.id);
                drop(guard);
            });
        if let Err(e) = spawned {
            log::warn!("local server: cannot spawn a connection thread: {e}");
            shared.unregister(id);
        }
    }
}

/// Serves one connection: HTTP requests, then WebSocket if the client upgrades.
fn serve(stream: TcpStream, shared: &Shared, conn_id: u64) {
    if let Some(upgrade) = http::serve(stream, shared) {
        ws::serve(upgrade, shared, conn_id);
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
    shared.shut_all();
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
    shared.wait_for_connections(Instant::now() + Duration::from_secs(5));
}
