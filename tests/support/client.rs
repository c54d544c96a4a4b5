//! The one client builder of the tests, and the local server most of them run against.

use std::time::Duration;

use kili::{Kili, KiliBuilder};
use kili_local_server::LocalServer;

/// The key of the local server's first user.
pub const KEY: &str = "test-key";
/// The key of a second user of the same server.
pub const OTHER_KEY: &str = "other-key";
/// The second user's email.
pub const OTHER_EMAIL: &str = "other@local";

/// A local server with two users ([`KEY`] and [`OTHER_KEY`]) that records every request.
pub fn server() -> LocalServer {
    LocalServer::builder()
        .api_key(KEY)
        .user(OTHER_KEY, OTHER_EMAIL)
        .record_requests(true)
        .start()
        .expect("local server starts")
}

/// A builder for `key` at `endpoint` with the tests' settings: no proxy from the environment
/// (the tests talk to 127.0.0.1), no rate limit, retries after 1 to 5 ms instead of seconds,
/// and a 10 s request timeout. Tests add what they check (`max_retries`, TLS settings, ...).
pub fn builder(key: &str, endpoint: impl Into<String>) -> KiliBuilder {
    Kili::builder()
        .api_key(key)
        .endpoint(endpoint)
        .proxy_from_env(false)
        .rate_limit(None)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .request_timeout(Duration::from_secs(10))
}

/// A client of `server`, as its first user.
pub fn client(server: &LocalServer) -> Kili {
    client_as(server, server.api_key())
}

/// A client of `server`, as the user with `key`.
pub fn client_as(server: &LocalServer, key: &str) -> Kili {
    builder(key, server.endpoint())
        .build()
        .expect("client builds")
}

/// A client for another endpoint (a proxy, a peer), with [`KEY`].
pub fn client_for(endpoint: &str) -> Kili {
    builder(KEY, endpoint).build().expect("client builds")
}

/// The settings of tests where the server, or the path to it, misbehaves on purpose: retries
/// after 5 to 100 ms, and short timeouts (1 s to connect, 5 s for a request), so that a stalled
/// connection is given up quickly.
pub fn resilient(builder: KiliBuilder) -> KiliBuilder {
    builder
        .retry_backoff(Duration::from_millis(5), Duration::from_millis(100))
        .connect_timeout(Duration::from_secs(1))
        .request_timeout(Duration::from_secs(5))
}

/// A [`resilient`] client for `key` at `endpoint`.
pub fn resilient_client(key: &str, endpoint: &str) -> Kili {
    resilient(builder(key, endpoint))
        .build()
        .expect("client builds")
}
