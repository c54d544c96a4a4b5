//! One connection of the subscription's thread, from connect to end: carry out the protocol
//! machine's actions, obey the handle's commands, read the next frame or find a deadline
//! passed, and deliver live results.

use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::TryRecvError;
use serde_json::value::RawValue;
use tungstenite::Message;

use super::{Next, Opening, Worker, classify_open_error, hand_over};
use crate::common::ids;
use crate::error::{Error, Result};
use crate::subscription::command::Command;
use crate::subscription::feed::small_str::SmallStr;
use crate::subscription::feed::{Context, Feed, Live, Released};
use crate::subscription::status::{Counters, describe};
use crate::subscription::wire::link::read_error;
use crate::subscription::wire::link::{Incoming, Link};
use crate::subscription::wire::protocol::{Action, End, Input, Machine, Phase, ResultFrame};
use crate::subscription::wire::timers::Timers;

/// Without a probe, how long after `start` a subscription counts as registered if no result
/// came first.
const NO_PROBE_WAIT: Duration = Duration::from_secs(1);

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
    /// When the last frame was handled (a gap starts there).
    pub(super) last_frame: Instant,
    /// When to try again a catch-up that failed on this connection.
    pub(super) catch_up_retry: Option<Instant>,
    /// Since when the feed waits for markers' answers (a server that stops answering them is
    /// given up on after the ack timeout).
    pub(super) markers_since: Option<Instant>,
    /// How the connection ended while a catch-up read pages, to act on once it is over.
    pub(super) ended: Option<End>,
    /// Results that arrived before the subscription was confirmed, for the catch-up to take
    /// first.
    pub(super) early: Vec<Box<RawValue>>,
}

impl Connection {
    /// Returns when the last frame was handled, on the system clock.
    pub(super) fn last_frame_time(&self) -> SystemTime {
        let ago = self.last_frame.elapsed();
        SystemTime::now()
            .checked_sub(ago)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    }

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

/// A WebSocket message, as the thread handles it.
pub(super) enum Frame<P> {
    /// A result of the subscription, decoded straight into the feed's payload.
    Result(P),
    /// Anything else, as the machine's actions.
    Actions(Vec<Action>),
}

/// Reads one message: a result in one pass when the machine would pass it through as it is,
/// anything else (or a result that does not decode) through the machine.
pub(super) fn frame<F: Feed>(conn: &mut Connection, message: Message) -> Frame<F::Payload> {
    conn.heard = true;
    conn.last_frame = Instant::now();
    let actions = match message {
        Message::Text(t) if conn.machine.is_keep_alive(&t) => vec![],
        Message::Text(t) => {
            if conn.machine.phase() == Phase::Active
                && let Ok(frame) = serde_json::from_str::<ResultFrame<'_, F::Payload>>(&t)
                && conn.machine.passes_result(&frame.kind, frame.id.as_deref())
                && let Some(payload) = frame.payload
            {
                return Frame::Result(payload);
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
    };
    Frame::Actions(actions)
}

impl<F: Feed> Worker<F> {
    /// Runs one connection, from connect to its end: perform the machine's actions, obey a command,
    /// read what comes next.
    pub(super) fn connection(&mut self) -> Next {
        let mut conn = match self.open() {
            Ok(conn) => conn,
            Err(next) => return next,
        };
        let next = self.run_connection(&mut conn);
        self.after_connection(&mut conn, &next);
        next
    }

    /// Records where the gap starts (the last frame handled on an established connection),
    /// and hands on what the feed held that may still leave.
    fn after_connection(&mut self, conn: &mut Connection, next: &Next) {
        if conn.ready_at.is_none() || matches!(next, Next::Stop | Next::Fail(_)) {
            return;
        }
        let (events, dropped) = self.core.feed.connection_lost(&conn.ctx);
        for event in events {
            hand_over(&mut self.core.outlet, &self.shared, event, true);
        }
        self.core.outlet.flush();
        let last = conn.last_frame_time();
        let start = dropped.map_or(last, |d| d.min(last));
        self.gap_started = Some(self.gap_started.map_or(start, |g| g.min(start)));
    }

    /// Runs the loop of one open connection.
    fn run_connection(&mut self, conn: &mut Connection) -> Next {
        let conn = &mut *conn;
        let mut actions = conn.machine.handle(Input::Opened);
        loop {
            if let Some(next) = self.perform(conn, actions) {
                return next;
            }
            if let Some(end) = conn.ended.take() {
                // The connection ended while a catch-up read pages.
                return self.ended(end, conn);
            }
            if let Some(cause) = conn.broken.take() {
                // The socket cannot be written: deliver what it already received, then go.
                match conn.link.read(Some(Instant::now())) {
                    Incoming::Message(message) => {
                        conn.broken = Some(cause);
                        actions = self.on_message(conn, message);
                        continue;
                    }
                    _ => return conn.lost(cause),
                }
            }
            if let Some(next) = self.obey(conn) {
                return next;
            }
            actions = self.next_input(conn);
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
                self.waiters.push(w);
                // Resets asked meanwhile are served by the same fresh connection.
                let mut close = false;
                while let Ok(command) = self.commands.try_recv() {
                    match command {
                        Command::Reset(w) => self.waiters.push(w),
                        Command::Close => close = true,
                    }
                }
                self.close_link(conn);
                if close {
                    return Some(Next::Stop);
                }
                Some(Next::ReconnectNow)
            }
        }
    }

    /// Reads the next frame (or finds a deadline passed) and feeds it to the machine.
    fn next_input(&mut self, conn: &mut Connection) -> Vec<Action> {
        if self.core.feed.waits_for_drain() {
            // A catch-up without markers settles once the socket is empty: read what is there
            // first.
            match conn.link.read(Some(conn.now)) {
                Incoming::Message(message) => return self.on_message(conn, message),
                Incoming::TimedOut => {
                    let released = self.core.feed.drained(&conn.ctx);
                    self.released(released);
                }
                other => return self.on_end_of_input(conn, other),
            }
        }
        let deadline = self.deadline(conn);
        if deadline.is_some_and(|d| conn.now >= d) {
            // A busy socket must not keep a deadline from firing.
            return self.on_timer(conn);
        }
        // Events held back for a burst go out before the thread waits for the socket.
        let outlet = &mut self.core.outlet;
        match conn.link.read_or_idle(deadline, || outlet.flush()) {
            Incoming::Message(message) => self.on_message(conn, message),
            Incoming::TimedOut => self.on_timer(conn),
            other => self.on_end_of_input(conn, other),
        }
    }

    /// Handles the end or failure of the socket's reading half.
    fn on_end_of_input(&mut self, conn: &mut Connection, incoming: Incoming) -> Vec<Action> {
        match incoming {
            // Woken for a command (the next turn obeys it), or the peer went away.
            Incoming::Ended if !self.commands.is_empty() => vec![],
            // Our own close in progress: whatever ends it ends it.
            _ if conn.machine.phase() == Phase::Closing => conn.machine.handle(Input::Closed {
                code: None,
                reason: "",
            }),
            Incoming::Over(Some(err)) => {
                let limit = self.core.options.max_event_size;
                vec![Action::End(End::Retry(read_error(err, limit)))]
            }
            _ => vec![Action::End(End::Retry(Error::transport(
                "reading from the subscription socket",
                "the server closed the connection without a close frame",
            )))],
        }
    }

    /// Feeds one WebSocket message to the feed (a result) or the machine (anything else).
    fn on_message(&mut self, conn: &mut Connection, message: Message) -> Vec<Action> {
        match frame::<F>(conn, message) {
            Frame::Result(payload) => {
                self.deliver_live(&conn.ctx, Ok(payload));
                Vec::new()
            }
            Frame::Actions(actions) => actions,
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
        let probe = (self.core.options.registration_probe).then(|| format!("{id}-ready"));
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
        // Without a probe, the first result or this short wait establishes the subscription.
        let confirm = if opts.registration_probe {
            opts.ack_timeout
        } else {
            opts.ack_timeout.min(NO_PROBE_WAIT)
        };
        let timers = Timers::new(
            now,
            opts.ack_timeout,
            confirm,
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
            last_frame: now,
            catch_up_retry: None,
            markers_since: None,
            ended: None,
            early: Vec::new(),
        })
    }

    /// Carries out the machine's actions in order; `Some` if the connection is over. A send
    /// that fails marks the connection broken: no more sends, and it ends once the results
    /// already received are delivered.
    fn perform(&mut self, conn: &mut Connection, actions: Vec<Action>) -> Option<Next> {
        let mut delivered = false;
        let mut actions = actions.into_iter().peekable();
        while let Some(action) = actions.next() {
            match action {
                Action::Send(text) => {
                    if conn.broken.is_none()
                        && let Err(e) = conn.link.send_text(text)
                    {
                        conn.broken = Some(e);
                    }
                }
                Action::Ready => {
                    // The results held while confirming were published before the catch-up
                    // reads: it takes them first, as what arrived; the rest are live events.
                    while let Some(Action::Deliver(_)) = actions.peek() {
                        if let Some(Action::Deliver(p)) = actions.next() {
                            conn.early.push(p);
                        }
                    }
                    self.on_ready(conn);
                    for payload in std::mem::take(&mut conn.early) {
                        self.deliver_live(&conn.ctx, F::decode(&payload));
                        delivered = true;
                    }
                }
                Action::Deliver(payload) => {
                    self.deliver_live(&conn.ctx, F::decode(&payload));
                    delivered = true;
                }
                Action::Marker(n) => {
                    let released = self.core.feed.marker(&conn.ctx, n);
                    delivered |= !released.events.is_empty();
                    self.released(released);
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
        conn.markers_since = match (self.core.feed.awaits_markers(), conn.markers_since) {
            (true, since) => since.or(Some(now)),
            (false, _) => None,
        };
        if matches!(conn.machine.phase(), Phase::Closing | Phase::Ended) {
            // The machine only gets there with an `End` action, handled above.
            let e = Error::Protocol {
                message: format!("internal: connection left in {:?}", conn.machine.phase()),
            };
            return Some(conn.lost(e));
        }
        None
    }

    fn deliver_live(&mut self, ctx: &Context, payload: Result<F::Payload>) {
        Counters::bump(&self.shared.counters.received);
        match payload.and_then(|p| self.core.feed.live(ctx, p)) {
            Ok(Live::Event(event)) => {
                hand_over(&mut self.core.outlet, &self.shared, event, true);
            }
            Ok(Live::Waiting) => {}
            Err(e) => log::warn!(
                "subscription {}: skipping an event: {}",
                self.shared.name,
                describe(&e)
            ),
        }
    }

    /// Hands on the events a marker's answer or a drained socket let leave.
    pub(super) fn released(&mut self, released: Released<F::Event>) {
        let duplicates = &self.shared.counters.duplicates;
        duplicates.fetch_add(released.duplicates, std::sync::atomic::Ordering::Relaxed);
        for event in released.events {
            hand_over(&mut self.core.outlet, &self.shared, event, true);
        }
    }

    /// Decides what the thread does next, now that the machine ended the connection.
    pub(super) fn ended(&mut self, end: End, conn: &mut Connection) -> Next {
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
