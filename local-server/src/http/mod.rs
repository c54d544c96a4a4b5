//! HTTP/1.1: the connection loop (`conn`), request parsing and responses (`message`, no IO),
//! the routes (`routes`) and the endpoints they lead to: GraphQL (`graphql`) and the bucket
//! (`bucket`), with the API key check (`auth`).
//!
//! Uses `shared`, the schema's request data (`Viewer`, `RequestOrigin`), the store, `recording`
//! and `time`. Must not use `ws`, which sits above it: a WebSocket upgrade request ends the
//! HTTP loop, and [`serve`] hands it back to the listener, which passes it to `ws`.

mod auth;
mod bucket;
mod conn;
mod graphql;
mod json_limits;
mod message;
mod routes;

pub(crate) use auth::key_from_authorization;
pub(crate) use conn::{Upgrade, answer_and_close, serve};
pub(crate) use json_limits::check as check_json_shape;
#[cfg(test)]
pub(crate) use message::{Parse, parse_head};
pub(crate) use message::{RequestHead, Response};
pub(crate) use routes::GRAPHQL_PATH;
