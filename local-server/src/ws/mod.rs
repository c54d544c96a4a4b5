//! GraphQL over WebSocket, on a connection the HTTP side handed over: the upgrade handshake
//! (`handshake`), where the client puts its key (`auth`), the protocol state machine
//! (`protocol`, pure: frames in, actions out) and the connection loop (`conn`, IO).
//!
//! Above `http`, whose request head, refusals and key format it uses; it runs operations with
//! the schema from `shared` and reads users from the store. Only the listener uses it.

mod auth;
mod conn;
mod handshake;
mod protocol;

pub(crate) use handshake::serve;
