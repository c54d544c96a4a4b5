//! GraphQL over WebSocket, on a connection the HTTP side handed over: the upgrade handshake
//! (`handshake`), where the client puts its key (`auth`), the protocol state machine
//! (`protocol`, pure: frames in, actions out) and the connection loop (`conn`, IO).
//!
//! Uses `http` (the request head, refusals, the key format), `shared` (the schema it runs
//! operations with), the schema's `Viewer`, the store's users and `time`. Only the listener
//! uses it; `http` must not.

mod auth;
mod conn;
mod handshake;
mod protocol;

pub(crate) use handshake::serve;
