//! The client over real sockets, against the local server and peers that misbehave on purpose:
//! every operation, the wire format, errors, retries, pagination, rate limiting, TLS, and the
//! environment. One test binary (each binary costs a link); run one area with a filter, e.g.
//! `cargo test --test client -- retry::`.

#[path = "../support/mod.rs"]
mod support;

mod asset_actions;
mod assets;
mod edits;
mod errors;
mod from_env;
mod issues;
mod labels;
mod pagination;
mod plugins;
mod projects;
mod rate_limit;
mod retry;
mod send_sync;
mod tls;
mod uploads;
mod wire;
