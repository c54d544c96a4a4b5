//! A `LocalServer` in a child process, so that the client's memory and CPU are measured alone.
//!
//! The bench binary runs itself again with `KILI_BENCH_ROLE=server`: the child starts a
//! `LocalServer` on a free port, prints `endpoint:` and `api key:` lines, and serves until its
//! stdin closes (when the parent drops the handle, or dies).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kili_local_server::LocalServer;

const ROLE: &str = "KILI_BENCH_ROLE";
const MAX_CONNECTIONS: &str = "KILI_BENCH_MAX_CONNECTIONS";

/// In the child, serves and exits; in the parent, returns at once.
pub fn serve_if_child() {
    if std::env::var(ROLE).as_deref() != Ok("server") {
        return;
    }
    let max: usize = std::env::var(MAX_CONNECTIONS)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let server = match LocalServer::builder().max_connections(max).start() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench server: {e}");
            std::process::exit(1);
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "endpoint: {}", server.endpoint());
    let _ = writeln!(out, "api key: {}", server.api_key());
    let _ = out.flush();
    drop(out);
    // Serve until the parent closes our stdin.
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    server.stop();
    std::process::exit(0);
}

/// A running child server; dropping it stops the child.
pub struct ChildServer {
    child: Child,
    pub endpoint: String,
    pub api_key: String,
}

impl ChildServer {
    /// Starts a child server that accepts up to `max_connections` connections.
    pub fn spawn(max_connections: usize) -> ChildServer {
        let exe = std::env::current_exe().expect("the bench's own path");
        let mut child = Command::new(exe)
            .env(ROLE, "server")
            .env(MAX_CONNECTIONS, max_connections.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning the bench server");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut endpoint = String::new();
        let mut api_key = String::new();
        while endpoint.is_empty() || api_key.is_empty() {
            let line = lines
                .next()
                .expect("the bench server exited before printing its endpoint")
                .expect("reading the bench server's output");
            if let Some(e) = line.strip_prefix("endpoint: ") {
                endpoint = e.to_owned();
            } else if let Some(k) = line.strip_prefix("api key: ") {
                api_key = k.to_owned();
            }
        }
        ChildServer {
            child,
            endpoint,
            api_key,
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        // Closing stdin asks it to stop; kill it if it takes long.
        drop(self.child.stdin.take());
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
