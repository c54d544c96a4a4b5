//! Reliability: a subscription through a fault-injecting proxy, many subscribers under load
//! (and a soak, ignored by default), two users' isolation through the client, a
//! well-behaved client alongside abuse of the server, and soaks of `watch_labels` and slow
//! consumers killed and restarted behind a cutting proxy (ignored by default); each checking
//! exact delivery and, but for the soaks, that nothing is left running. One test binary (each
//! binary costs a link).
//!
//! The leak checks compare the process's thread count with what it was before the test, so
//! every test of this binary holds `support::serial()`: they run one at a time.

#[path = "../support/mod.rs"]
mod support;

mod abuse;
mod faults;
mod isolation;
mod load;
mod soak;
