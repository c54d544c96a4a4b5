//! The examples as a user runs them, as child processes against a local server. One test
//! binary of its own: it needs the built examples (`cargo test` builds them first).

#[path = "../support/mod.rs"]
mod support;

mod cleanup;
mod http_webhooks;
mod watch_labels;
