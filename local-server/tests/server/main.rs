//! The local server's integration tests, in one test binary (each binary costs a link): the
//! server over real sockets, driven by raw clients (ureq, tungstenite, plain TCP), never by the
//! `kili` crate, which this crate does not depend on.
//!
//! Run one area with a filter, e.g. `cargo test -p kili-local-server --test server -- ws::`.

mod receiver;
mod support;

mod asset_edits;
mod basics;
mod binary;
mod fuzz;
mod hostile;
mod http;
mod isolation;
mod issues;
mod label_updates;
mod operations;
mod persistence;
mod uploads;
mod webhooks;
mod ws;
