//! Label and generic subscriptions over real sockets: the tutorial's sequence, both protocols,
//! failures (silent, flooding and refusing servers, wrong keys, panicking callbacks),
//! reconnection and catch-up, wss://, many subscriptions at once, the keep-alive watchdog, and
//! what a service needs (no key in `Debug` output, `Duration::MAX` settings).
//! One test binary (each binary costs a link); run one area with a filter, e.g.
//! `cargo test --test subscriptions -- reconnect::`.

#[path = "../support/mod.rs"]
mod support;

mod daemon;
mod defects;
mod exactly_once;
mod failures;
mod generic;
mod many;
mod property;
mod reconnect;
mod second_pass;
mod tls;
mod tutorial;
mod watchdog;
