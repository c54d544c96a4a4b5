//! One connection of the subscription's thread, from connect to end: carry out the protocol
//! machine's actions, obey the handle's commands, read the next frame or find a deadline
//! passed, and deliver live results.

use std::time::{Duration, Instant};

use crossbeam_channel::TryRecvError;
use tungstenite::Message;

use super::{Next, Opening, Worker, classify_open_error, hand_over};
use crate::common::ids;
use crate::error::{Error, Result};
use crate::subscription::command::Command;
use crate::subscription::feed::small_str::SmallStr;
use crate::subscription::feed::{Context, Feed};
use crate::subscription::status::{Counters, describe};
use crate::subscription::wire::link::{Incoming, Link};
use crate::subscription::wire::protocol::{Action, End, Input, Machine, Phase, ResultFrame};
use crate::subscription::wire::timers::{Due, Timers};

/// One open connection and its protocol and clock state.
pub(super) struct Connection {
    pub(super) link: Link,
    pub(super) machine: Machine,
    pub(super) timers: Timers,
    pub(super) ctx: Context,
    /// When the subscription was established on it and caught up.
    pub(super) ready_at: Option<Instant>,
    /// Why the socket cannot be written any more, once a send failed.
    pub(super) broken: Option<Error>,
    /// The clock when the last actions were performed: one reading per turn of the loop.
    pub(super) now: Instant,
    /// A frame arrived since then (the server is alive).
    pub(super) heard: bool,
}

impl Connection {
    pub(super) fn active_for(&self) -> Duration {
        self.ready_at.map_or(Duration::ZERO, |t| t.elapsed())
    }

    /// Ends a connection that is gone or unusable: reconnect.
    pub(super) fn lost(&self, cause: Error) -> Next {
        Next::Reconnect {
            cause,
            completed: false,
            active_for: self.active_for(),
        }
    }
}

impl<F: Feed> Worker<F> {
    /// Runs one connection, from connect to its end: perform the machine's actions, obey a command,
    /// read what comes next.
    pub(super) fn connection(&mut self) -> Next {
        let mut conn = match self.open() {
            Ok(conn) => conn,
            Err(next) => return next,
        };
        let mut actions = conn.machine.handle(Input::Opened);
        loop {
            if let Some(next) = self.perform(&mut conn, actions) {
                return next;
            }
            if let Some(cause) = conn.broken.take() {
                // The socket cannot be written: deliver what it already received, then go.
                match conn.link.read(Some(Instant::now())) {
                    Incoming::Message(message) => {
                        conn.broken = Some(cause);
                        actions = self.on_message(&mut conn, message);
                        continue;
                    }
                    _ => return conn.lost(cause),
                }
            }
            if let Some(next) = self.obey(&mut conn) {
                return next;
            }
            actions = self.next_input(&mut conn);
        }
    }

    /// Carries out a pending command of the handle, if any.
    fn obey(&mut self, conn: &mut Connection) -> Option<Next> {
        match self.commands.try_recv() {
            Err(TryRecvError::Empty) => None,
            Ok(Command::Close) | Err(TryRecvError::Disconnected) => {
                self.close_link(conn);
                Some(Next::Stop)
            }
            Ok(Command::Reset(w)) => {
                log::info!(
                    "subscription {}: reset: opening a fresh connection",
                    self.shared.name
                );
                self.waiter = Some(w);
                self.close_link(conn);
                Some(Next::ReconnectNow)
            }
        }
    }

    /// Reads the next frame (or finds a deadline passed) and feeds it to the machine.
    fn next_input(&mut self, conn: &mut Connection) -> Vec<Action> {
        if self.core.feed.holding() {
            // Results held back wait for the socket to be drained: read what is there first.
            match conn.link.read(Some(conn.now)) {
                Incoming::Message(message) => {
                    conn.heard = true;
                    return self.on_message(conn, message);
                }
                Incoming::TimedOut => {
                    for event in self.core.feed.release(&conn.ctx) {
                        hand_over(&mut self.core.outlet, &self.shared, event, true);
                    }
                }
                other => return self.on_end_of_input(conn, other),
            }
        }
        let deadline = conn.timers.deadline(conn.machine.phase());
        if deadline.is_some_and(|d| conn.now >= d) {
            // A busy socket must not keep a deadline from firing.
            return self.on_timer(conn);
        }
        // Events held back for a burst go out before the thread waits for the socket.
        let outlet = &mut self.core.outlet;
        match conn.link.read_or_idle(deadline, || outlet.flush()) {
            Incoming::Message(message) => {
                conn.heard = true;
                self.on_message(conn, message)
            }
            Incoming::TimedOut => self.on_timer(conn),
            other => self.on_end_of_input(conn, other),
        }
    }

    /// Handles the end or failure of the socket's reading half.
    fn on_end_of_input(&mut self, conn: &mut Connection, incoming: Incoming) -> Vec<Action> {
        match incoming {
            // Woken for a command (the next turn obeys it), or the peer went away.
            Incoming::Ended if !self.commands.is_empty() => vec![],
            Incoming::Over(Some(err)) => {
                let reason = err.to_string();
                conn.machine.handle(Input::Closed {
                    code: None,
                    reason: &reason,
                })
            }
            _ => conn.machine.handle(Input::Closed {
                code: None,
                reason: "the connection was closed",
            }),
        }
    }

    /// Feeds one WebSocket message to the machine.
    fn on_message(&mut self, conn: &mut Connection, message: Message) -> Vec<Action> {
        match message {
            Message::Text(t) if conn.machine.is_keep_alive(&t) => vec![],
            Message::Text(t) => {
                // A result decodes in one pass, straight into the feed's payload; anything
                // else (or a result that does not decode) goes through the machine.
                if conn.machine.phase() == Phase::Active
                    && let Ok(frame) = serde_json::from_str::<ResultFrame<'_, F::Payload>>(&t)
                    && conn.machine.passes_result(&frame.kind, frame.id.as_deref())
                    && let Some(payload) = frame.payload
                {
                    self.deliver_live(&conn.ctx, Ok(payload));
                    return Vec::new();
                }
                conn.machine.handle(Input::Text(t.as_str()))
            }
            Message::Binary(b) => conn.machine.handle(Input::Binary(&b)),
            Message::Close(frame) => {
                let (code, reason) = match &frame {
                    Some(f) => (u16::from(f.code), f.reason.as_str()),
                    // A close frame without a code is still a close.
                    None => (1005, ""),
                };
                conn.machine.handle(Input::Closed {
                    code: Some(code),
                    reason,
                })
            }
            _ => vec![],
        }
    }

    /// Opens the socket and sets up the machine and clocks of a new connection.
    fn open(&mut self) -> std::result::Result<Connection, Next> {
        Counters::bump(&self.shared.counters.connection_attempts);
        let link = match Link::open(&self.core.endpoint, &self.shared.waker) {
            Ok(link) => link,
            Err(e) => {
                return Err(match classify_open_error(e) {
                    Opening::Retry(cause) => Next::Reconnect {
                        cause,
                        completed: false,
                        active_for: Duration::ZERO,
                    },
                    Opening::Refused(cause) => self.refused(cause),
                    Opening::Fatal(e) => Next::Fail(e),
                });
            }
        };
        let id = ids::new_operation_id();
        let probe = format!("{id}-ready");
        let ctx = Context {
            subscription_id: SmallStr::new(&id),
            server_date: link.server_date(),
        };
        let machine = Machine::new(
            link.protocol(),
            id,
            probe,
            self.core.init_payload.clone(),
            self.core.operation.clone(),
            self.accepted,
        );
        let opts = &self.core.options;
        let now = Instant::now();
        let timers = Timers::new(
            now,
            opts.ack_timeout,
            opts.keep_alive,
            opts.watchdog_multiple,
        );
        Ok(Connection {
            link,
            machine,
            timers,
            ctx,
            ready_at: None,
            broken: None,
            now,
            heard: false,
        })
    }

    /// Carries out the machine's actions in order; `Some` if the connection is over. A send
    /// that fails marks the connection broken: no more sends, and it ends once the results
    /// already received are delivered.
    fn perform(&mut self, conn: &mut Connection, actions: Vec<Action>) -> Option<Next> {
        let mut delivered = false;
        for action in actions {
            match action {
                Action::Send(text) => {
                    if conn.broken.is_none()
                        && let Err(e) = conn.link.send_text(text)
                    {
                        conn.broken = Some(e);
                    }
                }
                Action::Ready => {
                    if let Some(next) = self.on_ready(conn) {
                        return Some(next);
                    }
                }
                Action::Deliver(payload) => {
                    self.deliver_live(&conn.ctx, F::decode(&payload));
                    delivered = true;
                }
                Action::Ignored(why) => {
                    log::debug!("subscription {}: ignored a frame: {why}", self.shared.name);
                }
                Action::End(end) => return Some(self.ended(end, conn)),
            }
        }
        self.accepted |= conn.machine.accepted();
        let now = Instant::now();
        conn.now = now;
        if delivered || conn.heard {
            // While a slow callback ran, the thread could neither read nor ask the server for
            // a sign of life: silence is measured from the end of the last delivery.
            conn.timers.heard(now);
            conn.heard = false;
        }
        conn.timers.entered(conn.machine.phase(), now);
        if matches!(conn.machine.phase(), Phase::Closing | Phase::Ended) {
            // The machine only gets there with an `End` action, handled above.
            let e = Error::Protocol {
                message: format!("internal: connection left in {:?}", conn.machine.phase()),
            };
            return Some(conn.lost(e));
        }
        None
    }

    /// Handles a deadline that passed: time out the handshake, ask for a sign of life, or give up on a
    /// silent server.
    fn on_timer(&mut self, conn: &mut Connection) -> Vec<Action> {
        // Frames wait in the socket only when a slow callback held the thread: not silence.
        let backlog = conn.link.has_bytes();
        let due = conn
            .timers
            .due(conn.machine.phase(), Instant::now(), backlog);
        match due {
            Due::AckTimeout => conn
                .machine
                .handle(Input::AckTimeout(conn.timers.ack_timeout())),
            Due::ConfirmTimeout => {
                log::debug!(
                    "subscription {}: the server did not answer the probe",
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

    fn deliver_live(&mut self, ctx: &Context, payload: Result<F::Payload>) {
        Counters::bump(&self.shared.counters.received);
        match payload.and_then(|p| self.core.feed.live(ctx, p)) {
            Ok(Some(event)) => {
                hand_over(&mut self.core.outlet, &self.shared, event, true);
            }
            Ok(None) => Counters::bump(&self.shared.counters.duplicates),
            Err(e) => log::warn!(
                "subscription {}: skipping an event: {}",
                self.shared.name,
                describe(&e)
            ),
        }
    }

    /// Decides what the thread does next, now that the machine ended the connection.
    fn ended(&mut self, end: End, conn: &mut Connection) -> Next {
        match end {
            End::Closed => Next::Stop,
            End::Fatal(e) => Next::Fail(e),
            End::Refused(cause) => self.refused(cause),
            End::Retry(cause) => conn.lost(cause),
            End::Completed => {
                conn.link.close(self.core.options.close_timeout);
                let cause =
                    Error::transport("receiving events", "the server completed the subscription");
                Next::Reconnect {
                    cause,
                    completed: true,
                    active_for: conn.active_for(),
                }
            }
        }
    }

    /// Closes our side: `stop` (and `connection_terminate`), a close frame, a bounded wait.
    fn close_link(&mut self, conn: &mut Connection) {
        for action in conn.machine.handle(Input::Close) {
            if let Action::Send(text) = action
                && conn.link.send_text(text).is_err()
            {
                return;
            }
        }
        conn.link.close(self.core.options.close_timeout);
    }
}
