//! The one helper module of the root crate's integration tests, shared by every test binary
//! (each declares it with `#[path = "../support/mod.rs"] mod support;`):
//!
//! - [`client`]: the one client builder (the tests' settings) and the local server they use;
//! - [`data`]: the one data set-up, through the client's typed API;
//! - [`wait`]: the one wait helper (a condition or a channel, with a deadline);
//! - [`ws_peer`]: the one scriptable WebSocket peer, for servers that misbehave on purpose;
//! - [`proxy`]: the one fault-injecting proxy;
//! - [`http`]: a raw HTTP peer and an HTTP message reader, for bytes no real server sends;
//! - [`tls`]: the test certificates, and a TLS front for the local server;
//! - [`record`]: what the local server recorded, for tests that check the wire documents;
//! - [`threads`]: the process's threads, for leak checks;
//! - [`traffic`]: label writers and delivery collectors, for the reliability tests.
//!
//! Everything is re-exported here, so a test file needs one `use crate::support::*;`.

// Each test binary uses a different subset of these helpers; the rest would warn as unused.
#![allow(dead_code, unused_imports)]

pub mod client;
pub mod data;
pub mod http;
pub mod proxy;
pub mod record;
pub mod threads;
pub mod tls;
pub mod traffic;
pub mod wait;
pub mod ws_peer;

pub use client::*;
pub use data::*;
pub use http::*;
pub use proxy::*;
pub use record::*;
pub use threads::*;
pub use tls::*;
pub use traffic::*;
pub use wait::*;
pub use ws_peer::*;
