//! A local server that speaks Kili's wire protocol, for tests, examples and offline work: the
//! `kili` crate's tests and examples run against it, and so can another language's SDK.
//!
//! It is its own crate so that a program using `kili` as a client compiles none of it.
//!
//! # Starting it
//!
//! From code, on a free port of 127.0.0.1:
//!
//! ```
//! use kili_local_server::LocalServer;
//!
//! # fn main() -> kili_local_server::Result<()> {
//! let server = LocalServer::builder().api_key("my-key").start()?;
//! assert!(server.endpoint().ends_with("/api/label/v2/graphql"));
//! assert_eq!(server.api_key(), "my-key");
//! // ... point a client at server.endpoint() with server.api_key() ...
//! server.stop(); // dropping the handle does the same
//! # Ok(())
//! # }
//! ```
//!
//! From a shell, with this repository checked out:
//!
//! ```text
//! $ cargo run -p kili-local-server -- --port 4000 --api-key my-key
//! endpoint: http://127.0.0.1:4000/api/label/v2/graphql
//! api key: my-key
//! ```
//!
//! `--port 0` picks a free port; without `--api-key` a key is generated (or the data file's is
//! kept). `--host 0.0.0.0` listens beyond loopback (a container) and then requires `--api-key`;
//! `--data-file PATH` keeps the data across restarts. It serves until SIGTERM (or Ctrl-C), then
//! stops cleanly.
//!
//! # What it emulates
//!
//! One port serves GraphQL over HTTP/1.1, label subscriptions over WebSocket (`graphql-ws`,
//! `graphql-transport-ws`) and the bucket behind signed upload URLs, with the names, error
//! codes and refusals of Kili's API; webhooks (Kili's plugins) are POSTed to their receivers by
//! threads of their own, to the targets the server may reach
//! ([`LocalServerBuilder::webhook_allow`]). A filter or operation it does not model is refused, never
//! answered with a default. For tests, [`LocalServer`] and [`LocalServerBuilder`] have hooks
//! that Kili does not: injected failures, recorded requests, restarts on the same
//! [`ServerState`], and settings stricter than Kili's promises.
//!
//! The `README.md` next to this crate lists the operations, the filters honoured, how it
//! behaves, what it does not emulate, and how to use it from another language.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

mod builder;
mod builder_webhooks;
mod error;
mod http;
mod listener;
mod recording;
mod schema;
mod server;
mod settings;
mod shared;
mod store;
mod time;
mod webhook_targets;
mod webhooks;
mod ws;

pub use builder::{DEFAULT_EMAIL, LocalServerBuilder};
pub use error::{Error, Result};
pub use recording::{OperationSummary, RecordedRequest};
pub use server::LocalServer;
pub use store::ServerState;
