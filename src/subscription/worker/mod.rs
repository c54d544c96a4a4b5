//! The subscription's thread: connects, runs each connection, reconnects with backoff, catches
//! up on what was missed, and stops on command or on a fatal error.
//!
//! One connection is a loop of three steps: carry out the protocol machine's actions (send,
//! deliver, end), look at the handle's commands, then read the next frame, waiting at most
//! until the next deadline of [`Timers`], and turn what came into the machine's next actions.
//! Nothing polls: an idle subscription sleeps in the kernel until the server sends something,
//! a keep-alive interval passes, or the handle interrupts the wait for a command.
//!
//! Events leave through the [`outlet`] (the callback, or the stream's channel). Uses the wire
//! and feed layers, and the status and commands it shares with the handle.

pub(crate) mod outlet;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use serde_json::Value;
use tungstenite::Message;

use crate::client::Kili;
use crate::common::backoff::Backoff;
use crate::common::ids;
use crate::error::{Error, Result};
use crate::subscription::command::Command;
use crate::subscription::events::Lifecycle;
use crate::subscription::feed::catch_up::Flow;
use crate::subscription::feed::small_str::SmallStr;
use crate::subscription::feed::{CaughtUp, Context, Feed};
use crate::subscription::options::SubscriptionOptions;
use crate::subscription::status::{Counters, Shared, SubscriptionState, describe};
use crate::subscription::wire::link::{Endpoint, Incoming, Link};
use crate::subscription::wire::protocol::{
    Action, End, Input, Machine, Operation, Phase, ResultFrame,
};
use crate::subscription::wire::timers::{Due, Timers};
use outlet::Outlet;

/// Delivers unless paused or closing; `true` if delivered (or, with `burst`, accepted: see
/// [`Outlet::event`]).
fn hand_over<E>(outlet: &mut Outlet<E>, shared: &Shared, event: E, burst: bool) -> bool {
    if shared.is_paused() {
        Counters::bump(&shared.counters.dropped_while_paused);
        return false;
    }
    outlet.event(event, burst)
}

/// What a failed connection attempt means.
enum Opening {
    Retry(Error),
    Refused(Error),
    Fatal(Error),
}

/// Only a refused key, a wrong endpoint or a broken setting stop a subscription for good;
/// a server error, a busy system (no thread, no file descriptor) or a lost network do not.
fn classify_open_error(e: Error) -> Opening {
    match e {
        Error::Authentication { .. } => Opening::Refused(e),
        Error::Http { status, .. } if status >= 500 || status == 429 || status == 408 => {
            Opening::Retry(e)
        }
        Error::Io { .. } | Error::Transport { .. } | Error::Timeout { .. } => Opening::Retry(e),
        _ => Opening::Fatal(e),
    }
}

/// A stopped subscription, kept by the handle so that `reset_timeout` can start it again.
pub(crate) trait Parked: Send + std::fmt::Debug {
    /// Whether it can start again (a stream that ended cannot).
    fn can_restart(&self) -> bool;

    /// Starts a thread for it. `waiter` receives the outcome of the first connection.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the thread cannot be spawned.
    fn spawn(
        self: Box<Self>,
        shared: Arc<Shared>,
        commands: Receiver<Command>,
        waiter: Sender<Result<()>>,
        restart: bool,
    ) -> Result<JoinHandle<Box<dyn Parked>>>;
}

/// Everything a subscription thread needs, and gives back when it stops.
pub(crate) struct Core<F: Feed> {
    /// For checking a refused key over HTTP.
    pub(crate) kili: Kili,
    pub(crate) feed: F,
    pub(crate) outlet: Outlet<F::Event>,
    pub(crate) endpoint: Endpoint,
    pub(crate) init_payload: Value,
    pub(crate) operation: Operation,
    pub(crate) options: SubscriptionOptions,
}

impl<F: Feed> std::fmt::Debug for Core<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("endpoint", &self.endpoint.url())
            .field("outlet", &self.outlet)
            .finish_non_exhaustive()
    }
}

impl<F: Feed> Parked for Core<F> {
    fn can_restart(&self) -> bool {
        self.outlet.can_restart()
    }

    fn spawn(
        self: Box<Self>,
        shared: Arc<Shared>,
        commands: Receiver<Command>,
        waiter: Sender<Result<()>>,
        restart: bool,
    ) -> Result<JoinHandle<Box<dyn Parked>>> {
        let name = shared.name.clone();
        std::thread::Builder::new()
            .name(name)
            .stack_size(self.options.stack_size)
            .spawn(move || -> Box<dyn Parked> {
                shared.set_worker_thread();
                let ended = Arc::clone(&shared);
                let worker = Worker::new(*self, shared, commands, waiter, restart);
                let core = worker.run();
                ended.mark_thread_ended();
                Box::new(core)
            })
            .map_err(Error::io("spawning the subscription thread"))
    }
}

/// What the thread does after a connection.
enum Next {
    /// Stop: closed on command.
    Stop,
    /// Reconnect at once: reset on command.
    ReconnectNow,
    /// Stop for good.
    Fail(Error),
    /// Reconnect after a backoff delay: the connection was lost or the server completed it.
    Reconnect {
        cause: Error,
        completed: bool,
        active_for: Duration,
    },
}

/// One open connection and its protocol and clock state.
struct Connection {
    link: Link,
    machine: Machine,
    timers: Timers,
    ctx: Context,
    /// When the subscription was established on it and caught up.
    ready_at: Option<Instant>,
    /// Why the socket cannot be written any more, once a send failed.
    broken: Option<Error>,
    /// The clock when the last actions were performed: one reading per turn of the loop.
    now: Instant,
    /// A frame arrived since then (the server is alive).
    heard: bool,
}

impl Connection {
    fn active_for(&self) -> Duration {
        self.ready_at.map_or(Duration::ZERO, |t| t.elapsed())
    }

    /// The connection is gone or unusable: reconnect.
    fn lost(&self, cause: Error) -> Next {
        Next::Reconnect {
            cause,
            completed: false,
            active_for: self.active_for(),
        }
    }
}

struct Worker<F: Feed> {
    core: Core<F>,
    shared: Arc<Shared>,
    commands: Receiver<Command>,
    /// Who waits for the outcome of the next connection (the creator, or `reset_timeout`).
    waiter: Option<Sender<Result<()>>>,
    /// Whether this thread established the subscription at least once.
    established: bool,
    /// Whether the next established connection must fetch what was missed.
    catch_up: bool,
    backoff: Backoff,
    /// Reconnection attempts since the last connection that held.
    attempt: u32,
    /// Whether a server accepted the subscription (sent it a result) on some connection.
    accepted: bool,
    /// When the last established connection was lost.
    gap_started: Option<SystemTime>,
}

impl<F: Feed> Worker<F> {
    fn new(
        mut core: Core<F>,
        shared: Arc<Shared>,
        commands: Receiver<Command>,
        waiter: Sender<Result<()>>,
        restart: bool,
    ) -> Self {
        if restart {
            core.feed.restarted();
        }
        let backoff = Backoff::new(core.options.backoff_min, core.options.backoff_max);
        Worker {
            core,
            shared,
            commands,
            waiter: Some(waiter),
            established: false,
            catch_up: false,
            backoff,
            attempt: 0,
            accepted: false,
            gap_started: None,
        }
    }

    /// Connections until closed or failed; gives back what it ran on.
    fn run(mut self) -> Core<F> {
        self.shared.set_state(SubscriptionState::Connecting);
        loop {
            match self.connection() {
                Next::Stop => {
                    self.stop(SubscriptionState::Closed, Lifecycle::Closed);
                    break;
                }
                Next::Fail(e) => {
                    self.fail(e);
                    break;
                }
                Next::ReconnectNow => {
                    self.catch_up = self.established;
                    self.attempt = 0;
                    if self.established {
                        self.gap_started = Some(SystemTime::now());
                    }
                }
                Next::Reconnect {
                    cause,
                    completed,
                    active_for,
                } => {
                    if !self.established
                        && let Some(w) = self.waiter.take()
                    {
                        // The first connection of this thread: fail fast, the caller decides.
                        self.shared
                            .set_state(SubscriptionState::Failed(Arc::new(cause.clone())));
                        let _ = w.send(Err(cause));
                        break;
                    }
                    if let Some(w) = self.waiter.take() {
                        let _ = w.send(Err(cause.clone()));
                    }
                    if !self.wait_before_reconnecting(cause, completed, active_for) {
                        self.stop(SubscriptionState::Closed, Lifecycle::Closed);
                        break;
                    }
                }
            }
        }
        self.core
    }

    fn stop(&mut self, state: SubscriptionState, event: Lifecycle) {
        self.shared.set_state(state);
        self.shared.mark_ended();
        self.core.outlet.lifecycle(event);
        self.core.outlet.end_stream();
    }

    fn fail(&mut self, e: Error) {
        log::error!(
            "subscription {}: {}; not retrying",
            self.shared.name,
            describe(&e)
        );
        let shared_err = Arc::new(e.clone());
        if self.established {
            self.core.outlet.lifecycle(Lifecycle::Failed {
                error: shared_err.clone(),
            });
        }
        if let Some(w) = self.waiter.take() {
            let _ = w.send(Err(e));
        }
        self.shared.set_state(SubscriptionState::Failed(shared_err));
        self.shared.mark_ended();
        self.core.outlet.end_stream();
    }

    /// Logs, reports and sleeps the backoff delay; `false` if told to close meanwhile.
    fn wait_before_reconnecting(
        &mut self,
        cause: Error,
        completed: bool,
        active_for: Duration,
    ) -> bool {
        if self.established && !self.catch_up {
            self.gap_started = Some(SystemTime::now());
        }
        self.catch_up = self.catch_up || self.established;
        // A connection holds when it stayed up, after its catch-up, as long as the longest
        // delay: a server that ends subscriptions at once gets ever longer waits, not a storm.
        if active_for >= self.backoff.max() {
            self.attempt = 0;
        }
        if completed {
            log::debug!(
                "subscription {}: the server completed it after {} ms",
                self.shared.name,
                active_for.as_millis()
            );
        }
        if self.shared.is_closing() {
            return false;
        }
        let delay = self.backoff.delay(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        let attempt = self.attempt;
        log::info!(
            "subscription {}: {}; reconnecting in {} ms (attempt {attempt})",
            self.shared.name,
            describe(&cause),
            delay.as_millis()
        );
        self.shared.set_state(SubscriptionState::Reconnecting);
        self.shared.mark_ended();
        self.core.outlet.lifecycle(Lifecycle::Reconnecting {
            attempt,
            delay,
            cause: Arc::new(cause),
        });
        match self.commands.recv_timeout(delay) {
            Ok(Command::Close) | Err(RecvTimeoutError::Disconnected) => false,
            Ok(Command::Reset(w)) => {
                self.waiter = Some(w);
                true
            }
            Err(RecvTimeoutError::Timeout) => true,
        }
    }

    /// One connection, from connect to its end: perform the machine's actions, obey a command,
    /// read what comes next.
    fn connection(&mut self) -> Next {
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

    /// The socket's reading half ended or failed.
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

    /// A deadline passed: time out the handshake, ask for a sign of life, or give up on a
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

    /// The subscription is established: tell the waiter, catch up after a gap, report.
    /// `Some` if the connection must end (a catch-up that failed for a reason that may pass).
    fn on_ready(&mut self, conn: &mut Connection) -> Option<Next> {
        self.shared.mark_established();
        self.shared.set_protocol(conn.link.protocol());
        self.shared.set_state(SubscriptionState::Active);
        if self.established {
            Counters::bump(&self.shared.counters.reconnects);
        }
        self.core.feed.established(&conn.ctx);
        // A label subscription has a checkpoint from the moment it is established (a resumed
        // one, the checkpoint it resumed from), before the waiter hands the handle over.
        if self.shared.checkpoint().is_none()
            && let Some(cp) = self.core.feed.checkpoint()
        {
            self.shared.set_checkpoint(cp);
        }
        // The waiter learns of the connection before the catch-up, which may take a while.
        if let Some(w) = self.waiter.take() {
            let _ = w.send(Ok(()));
        }
        let mut missed = 0;
        if self.core.feed.wants_catch_up(self.catch_up) {
            match self.deliver_missed(&conn.ctx) {
                Ok(caught_up) => {
                    missed = caught_up.delivered;
                    self.report_catch_up(&caught_up);
                }
                Err(e) => {
                    log::warn!(
                        "subscription {}: could not fetch the events missed: {}",
                        self.shared.name,
                        describe(&e)
                    );
                    let retry = e.is_retryable();
                    self.core.outlet.lifecycle(Lifecycle::CatchUpFailed {
                        error: Arc::new(e.clone()),
                    });
                    if retry && !self.shared.is_closing() {
                        // Fetched again after the reconnection, from the same point.
                        self.established = true;
                        self.catch_up = true;
                        return Some(conn.lost(e));
                    }
                }
            }
        }
        // Once closing, what the feed holds may include events that were not delivered: the
        // handle keeps the checkpoint of the last one that was.
        self.core.outlet.flush();
        if !self.shared.is_closing()
            && let Some(cp) = self.core.feed.checkpoint()
        {
            self.shared.set_checkpoint(cp);
        }
        // The catch-up was no silence on the server's part, and the connection counts as up
        // from now on.
        conn.timers.heard(Instant::now());
        conn.ready_at = Some(Instant::now());
        let subscription_id = conn.ctx.subscription_id.as_str().to_owned();
        if self.established {
            log::info!(
                "subscription {}: reconnected ({missed} missed events delivered)",
                self.shared.name
            );
            self.core.outlet.lifecycle(Lifecycle::Reconnected {
                subscription_id,
                missed,
            });
        } else {
            log::debug!("subscription {}: established", self.shared.name);
            self.core
                .outlet
                .lifecycle(Lifecycle::Connected { subscription_id });
        }
        self.established = true;
        self.catch_up = false;
        self.gap_started = None;
        None
    }

    /// Fetches and delivers what happened during the gap.
    fn deliver_missed(&mut self, ctx: &Context) -> Result<CaughtUp> {
        let Worker {
            core,
            shared,
            gap_started,
            ..
        } = self;
        let Core { feed, outlet, .. } = core;
        let mut deliver = |event: F::Event| {
            Counters::bump(&shared.counters.received);
            if shared.is_closing() {
                return Flow::Stop;
            }
            if hand_over(outlet, shared, event, false) {
                Counters::bump(&shared.counters.caught_up);
            }
            Flow::Continue
        };
        feed.catch_up(ctx, *gap_started, &mut deliver)
    }

    fn report_catch_up(&mut self, caught_up: &CaughtUp) {
        if let Some(gap) = caught_up.gap {
            log::warn!(
                "subscription {}: the catch-up limit left out {} labels",
                self.shared.name,
                gap.skipped
            );
            self.core.outlet.lifecycle(Lifecycle::CatchUpTruncated {
                from: crate::common::time::to_system_time(gap.from),
                until: crate::common::time::to_system_time(gap.until),
                skipped: gap.skipped,
            });
        }
        if let Some((from, until)) = caught_up.unchecked_updates {
            self.core
                .outlet
                .lifecycle(Lifecycle::UpdatesMayBeMissed { from, until });
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

    /// The server refused the connection: fatal if it refuses the key (checked over HTTP),
    /// retried otherwise.
    fn refused(&mut self, cause: Error) -> Next {
        match self
            .core
            .kili
            .graphql("query { viewer { id } }", Value::Null)
        {
            Err(e) if e.is_authentication() => Next::Fail(e),
            _ => Next::Reconnect {
                cause,
                completed: false,
                active_for: Duration::ZERO,
            },
        }
    }

    /// The machine ended the connection: what the thread does next.
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

    /// Our close: `stop` (and `connection_terminate`), a close frame, a bounded wait.
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
