//! Kili's HTTP webhooks over real sockets: the receiver against raw HTTP clients (secrets,
//! limits, slow clients, redeliveries, failures, restarts), and end to end against the local
//! server's deliveries. One test binary (each binary costs a link).

#[path = "../support/mod.rs"]
mod support;

mod end_to_end;
mod hostile;
mod receiver;
