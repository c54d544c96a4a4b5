//! The deadlines of one connection as the thread sees them: the protocol's (ack, probe,
//! keep-alive, watchdog), a catch-up to try again, and markers a server stopped answering.

use std::time::Instant;

use super::Worker;
use super::connection::Connection;
use crate::error::Error;
use crate::subscription::feed::Feed;
use crate::subscription::wire::protocol::{Action, End, Input};
use crate::subscription::wire::timers::Due;

impl<F: Feed> Worker<F> {
    /// Returns the next time something is due on this connection; `None` if nothing ever is.
    pub(super) fn deadline(&self, conn: &Connection) -> Option<Instant> {
        let markers = conn
            .markers_since
            .and_then(|since| since.checked_add(self.core.options.ack_timeout));
        [
            conn.timers.deadline(conn.machine.phase()),
            conn.catch_up_retry,
            markers,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Handles a deadline that passed: try a failed catch-up again, give up waiting for
    /// markers, time out the handshake, ask for a sign of life, or give up on a silent server.
    pub(super) fn on_timer(&mut self, conn: &mut Connection) -> Vec<Action> {
        let now = Instant::now();
        if conn.catch_up_retry.is_some_and(|at| now >= at) {
            conn.catch_up_retry = None;
            return self.retry_catch_up(conn);
        }
        if conn
            .markers_since
            .and_then(|since| since.checked_add(self.core.options.ack_timeout))
            .is_some_and(|at| now >= at)
        {
            log::warn!(
                "subscription {}: the server stopped answering markers; settling without them",
                self.shared.name
            );
            conn.markers_since = None;
            let released = self.core.feed.settle_all(&conn.ctx);
            self.released(released);
            return vec![];
        }
        // Frames wait in the socket only when a slow callback held the thread: not silence.
        let backlog = conn.link.has_bytes();
        match conn.timers.due(conn.machine.phase(), now, backlog) {
            Due::AckTimeout => conn
                .machine
                .handle(Input::AckTimeout(conn.timers.ack_timeout())),
            Due::ConfirmTimeout => {
                log::debug!(
                    "subscription {}: no confirmation of the subscription in time; going on",
                    self.shared.name
                );
                conn.machine.handle(Input::ConfirmTimeout)
            }
            Due::Silence(limit) => {
                log::warn!(
                    "subscription {}: no frame from the server for {} ms",
                    self.shared.name,
                    limit.as_millis()
                );
                vec![Action::End(End::Retry(Error::Timeout {
                    operation: "keep-alive watchdog".into(),
                    after: limit,
                }))]
            }
            Due::Ping => match conn.machine.keepalive_ping() {
                Some(text) => vec![Action::Send(text)],
                None => match conn.link.send_ping() {
                    Ok(()) => vec![],
                    Err(e) => vec![Action::End(End::Retry(e))],
                },
            },
            Due::Nothing => vec![],
        }
    }
}
