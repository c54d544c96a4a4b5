//! One connection, from the bytes up to the protocol: the `graphql-ws` and
//! `graphql-transport-ws` state machine ([`protocol`], pure, fed frames by its tests), the
//! clocks of a connection ([`timers`], pure), and the socket ([`link`]: TCP, TLS, the
//! WebSocket handshake, reads with deadlines, a waker for the handle's commands).
//!
//! Knows nothing of labels, feeds or threads; uses only the crate's errors, TLS settings and
//! [`WsProtocol`](crate::WsProtocol).

pub(crate) mod link;
pub(crate) mod protocol;
pub(crate) mod timers;
