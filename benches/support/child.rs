//! Child processes: a `LocalServer`, so that the client's memory and CPU are measured alone, and
//! the other roles sections give a process of its own (a slow consumer, a printer).
//!
//! The bench binary runs itself again with `KILI_BENCH_ROLE=<role>`. As `server`, the child
//! starts a `LocalServer` on a free port, prints `endpoint:` and `api key:` lines, and serves
//! until its stdin closes (when the parent drops the handle, or dies).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kili_local_server::LocalServer;

const ROLE: &str = "KILI_BENCH_ROLE";
const MAX_CONNECTIONS: &str = "KILI_BENCH_MAX_CONNECTIONS";
const KEEP_ALIVE: &str = "KILI_BENCH_KEEP_ALIVE_SECS";

/// The role this process was started in, if it is a child.
pub fn role() -> Option<String> {
    std::env::var(ROLE).ok()
}

/// Starts the bench binary again in `role`, with `env`, its stdout piped.
pub fn spawn_role(role: &str, env: &[(&str, String)], stdout: Stdio) -> std::io::Result<Child> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.env(ROLE, role)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::inherit());
    cmd.spawn()
}

/// The `server` role: serves, then exits.
pub fn serve() -> ! {
    let max: usize = std::env::var(MAX_CONNECTIONS)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    // `ka` frames every N seconds (the server's default if unset; 0 turns them off).
    let keep_alive = std::env::var(KEEP_ALIVE)
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    let mut builder = LocalServer::builder().max_connections(max);
    if let Some(secs) = keep_alive {
        builder = builder.keep_alive((secs > 0).then(|| Duration::from_secs(secs)));
    }
    let server = match builder.start() {
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
        ChildServer::spawn_with(max_connections, None)
    }

    /// As [`spawn`](Self::spawn), with `ka` frames every `keep_alive` seconds if given.
    pub fn spawn_with(max_connections: usize, keep_alive: Option<u64>) -> ChildServer {
        let exe = std::env::current_exe().expect("the bench's own path");
        let mut command = Command::new(exe);
        if let Some(secs) = keep_alive {
            command.env(KEEP_ALIVE, secs.to_string());
        }
        let mut child = command
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
