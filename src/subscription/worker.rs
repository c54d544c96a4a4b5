//! The subscription's thread: connects, runs each connection, reconnects with backoff, catches
//! up on what was missed, and stops on command or on a fatal error.
//!
//! One connection is a loop of three steps: carry out the protocol machine's actions (send,
//! deliver, end), wait for whatever comes first (socket bytes from the reader thread, a command
//! from the handle, a deadline of [`Timers`]), and turn what came into the machine's next
//! actions. Nothing polls: an idle subscription sleeps until the server sends something, a
//! command arrives or a keep-alive interval passes.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Select, Sender, TryRecvError};
use serde_json::Value;
use tungstenite::Message;

use crate::backoff::Backoff;
use crate::error::{Error, Result};
use crate::ids;
use crate::subscription::events::Lifecycle;
use crate::subscription::feed::Feed;
use crate::subscription::link::{Endpoint, Incoming, Link};
use crate::subscription::options::{SubscriptionOptions, WsProtocol};
use crate::subscription::outlet::Outlet;
use crate::subscription::protocol::{Action, End, Input, Machine, Operation, Phase};
use crate::subscription::status::{Counters, Shared, SubscriptionState, describe};
use crate::subscription::timers::{Due, Timers};

/// Messages handled per wake-up before commands get a look in.
const READ_BATCH: usize = 64;

/// What the handle asks of the thread.
#[derive(Debug)]
pub(crate) enum Command {
    /// Close the connection and stop.
    Close,
    /// Open a fresh connection and subscribe again; answer once established (or not).
    Reset(Sender<Result<()>>),
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
                let worker = Worker::new(*self, shared, commands, waiter, restart);
                Box::new(worker.run())
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

/// What woke the thread.
enum Wake {
    Socket,
    Command(Command),
    /// The handle is gone.
    Orphaned,
    Timer,
}

/// One open connection and its protocol and clock state.
struct Connection {
    link: Link,
    machine: Machine,
    timers: Timers,
    /// When the subscription was established on it.
    ready_at: Option<Instant>,
    /// Bytes may wait in the stream's buffers, unseen by the reader's channel.
    more_to_read: bool,
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
        self.catch_up = self.catch_up || self.established;
        let held = active_for >= self.backoff.max()
            || (completed && active_for >= self.core.options.backoff_min);
        if held {
            self.attempt = 0;
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

    /// One connection, from connect to its end: perform the machine's actions, wait, react.
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
            actions = match self.wait(&conn) {
                Wake::Socket => {
                    conn.timers.heard(Instant::now());
                    self.read_available(&mut conn)
                }
                Wake::Command(Command::Close) | Wake::Orphaned => {
                    self.close_link(conn);
                    return Next::Stop;
                }
                Wake::Command(Command::Reset(w)) => {
                    log::info!(
                        "subscription {}: reset: opening a fresh connection",
                        self.shared.name
                    );
                    self.waiter = Some(w);
                    self.close_link(conn);
                    return Next::ReconnectNow;
                }
                Wake::Timer => match self.on_timer(&mut conn) {
                    Ok(actions) => actions,
                    Err(next) => return next,
                },
            };
        }
    }

    /// Opens the socket and sets up the machine and clocks of a new connection.
    fn open(&mut self) -> std::result::Result<Connection, Next> {
        Counters::bump(&self.shared.counters.connection_attempts);
        let reader_name = format!("{}-rd", self.shared.name);
        let link = match Link::open(&self.core.endpoint, &reader_name) {
            Ok(link) => link,
            Err(e) if e.is_retryable() => {
                return Err(Next::Reconnect {
                    cause: e,
                    completed: false,
                    active_for: Duration::ZERO,
                });
            }
            Err(e) => return Err(Next::Fail(e)),
        };
        let id = ids::new_operation_id();
        let probe = format!("{id}-ready");
        let machine = Machine::new(
            link.protocol(),
            id,
            probe,
            self.core.init_payload.clone(),
            self.core.operation.clone(),
        );
        let opts = &self.core.options;
        let timers = Timers::new(
            Instant::now(),
            opts.ack_timeout,
            opts.keep_alive,
            opts.watchdog_multiple,
        );
        Ok(Connection {
            link,
            machine,
            timers,
            ready_at: None,
            more_to_read: false,
        })
    }

    /// Carries out the machine's actions in order; `Some` if the connection is over.
    fn perform(&mut self, conn: &mut Connection, actions: Vec<Action>) -> Option<Next> {
        let mut delivered = false;
        for action in actions {
            match action {
                Action::Send(text) => {
                    if let Err(e) = conn.link.send_text(text) {
                        return Some(conn.lost(e));
                    }
                }
                Action::Ready => {
                    conn.ready_at = Some(Instant::now());
                    self.on_ready(conn.machine.id(), conn.machine.protocol());
                }
                Action::Deliver { id, frame } => {
                    self.deliver_live(&id, frame);
                    delivered = true;
                }
                Action::Ignored(why) => {
                    log::debug!("subscription {}: ignored a frame: {why}", self.shared.name);
                }
                Action::End(end) => return Some(self.ended(end, conn)),
            }
        }
        let now = Instant::now();
        if delivered {
            // While a slow callback ran, the thread could neither read nor ask the server for
            // a sign of life: silence is measured from the end of the last delivery.
            conn.timers.heard(now);
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

    /// Waits for the socket, a command or the next deadline, whichever comes first.
    fn wait(&self, conn: &Connection) -> Wake {
        let deadline = conn.timers.deadline(conn.machine.phase());
        if deadline.is_some_and(|d| Instant::now() >= d) {
            // A busy socket must not keep a deadline from firing.
            return Wake::Timer;
        }
        if conn.more_to_read && self.commands.is_empty() {
            // Read on, but let a command in first.
            return Wake::Socket;
        }
        if !conn.more_to_read {
            let mut select = Select::new();
            let on_socket = select.recv(conn.link.readiness());
            select.recv(&self.commands);
            let ready = match deadline {
                Some(d) => select.ready_deadline(d).ok(),
                None => Some(select.ready()),
            };
            match ready {
                Some(i) if i == on_socket => return Wake::Socket,
                Some(_) => {}
                None => return Wake::Timer,
            }
        }
        match self.commands.try_recv() {
            Ok(command) => Wake::Command(command),
            Err(TryRecvError::Disconnected) => Wake::Orphaned,
            // Only this thread receives, so a ready channel stays ready; should it not, the
            // timer step finds nothing due and the loop waits again.
            Err(TryRecvError::Empty) => Wake::Timer,
        }
    }

    /// Reads the messages available now (up to a batch, so that commands are not starved by
    /// a flood) and feeds them to the machine.
    fn read_available(&mut self, conn: &mut Connection) -> Vec<Action> {
        let mut actions = Vec::new();
        conn.more_to_read = true;
        for _ in 0..READ_BATCH {
            // Only the actions this message adds need checking: checking them all made a
            // sustained burst quadratic.
            let before = actions.len();
            match conn.link.read() {
                Incoming::Nothing => {
                    conn.more_to_read = false;
                    return actions;
                }
                Incoming::Message(Message::Text(t)) => {
                    actions.extend(conn.machine.handle(Input::Text(t.as_str())));
                }
                Incoming::Message(Message::Binary(b)) => {
                    actions.extend(conn.machine.handle(Input::Binary(&b)));
                }
                Incoming::Message(Message::Close(frame)) => {
                    let (code, reason) = match &frame {
                        Some(f) => (u16::from(f.code), f.reason.as_str()),
                        // A close frame without a code is still a close.
                        None => (1005, ""),
                    };
                    actions.extend(conn.machine.handle(Input::Closed {
                        code: Some(code),
                        reason,
                    }));
                }
                Incoming::Message(_) => {}
                Incoming::Over(err) => {
                    let reason = err.map(|e| e.to_string()).unwrap_or_default();
                    actions.extend(conn.machine.handle(Input::Closed {
                        code: None,
                        reason: &reason,
                    }));
                    conn.more_to_read = false;
                    return actions;
                }
            }
            if actions[before..]
                .iter()
                .any(|a| matches!(a, Action::End(_)))
            {
                conn.more_to_read = false;
                return actions;
            }
        }
        actions
    }

    /// A deadline passed: time out the handshake, ask for a sign of life, or give up on a
    /// silent server.
    fn on_timer(&mut self, conn: &mut Connection) -> std::result::Result<Vec<Action>, Next> {
        let backlog = conn.more_to_read || !conn.link.readiness().is_empty();
        let due = conn
            .timers
            .due(conn.machine.phase(), Instant::now(), backlog);
        Ok(match due {
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
                None => {
                    if let Err(e) = conn.link.send_ping() {
                        return Err(conn.lost(e));
                    }
                    vec![]
                }
            },
            Due::Nothing => vec![],
        })
    }

    fn on_ready(&mut self, id: &str, protocol: WsProtocol) {
        self.shared.mark_established();
        self.shared.set_state(SubscriptionState::Active);
        if self.established {
            Counters::bump(&self.shared.counters.reconnects);
        } else {
            self.core.feed.established();
        }
        // The waiter learns of the connection before the catch-up, which may take a while.
        if let Some(w) = self.waiter.take() {
            let _ = w.send(Ok(()));
        }
        let missed = if self.catch_up {
            self.deliver_missed(id, protocol)
        } else {
            0
        };
        let subscription_id = id.to_owned();
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
    }

    /// Fetches and delivers what happened while disconnected; returns how many were delivered.
    fn deliver_missed(&mut self, id: &str, protocol: WsProtocol) -> usize {
        let frame_type = match protocol {
            WsProtocol::GraphqlWs => "data",
            WsProtocol::GraphqlTransportWs => "next",
        };
        match self.core.feed.missed(id, frame_type) {
            Ok(events) => {
                let mut missed = 0;
                for event in events {
                    Counters::bump(&self.shared.counters.received);
                    if self.hand_over(event) {
                        missed += 1;
                        Counters::bump(&self.shared.counters.caught_up);
                    }
                }
                missed
            }
            Err(e) => {
                log::warn!(
                    "subscription {}: could not fetch the events missed while disconnected: {}",
                    self.shared.name,
                    describe(&e)
                );
                self.core
                    .outlet
                    .lifecycle(Lifecycle::CatchUpFailed { error: Arc::new(e) });
                0
            }
        }
    }

    fn deliver_live(&mut self, id: &str, frame: Value) {
        Counters::bump(&self.shared.counters.received);
        match self.core.feed.live(id, frame) {
            Ok(Some(event)) => {
                self.hand_over(event);
            }
            Ok(None) => Counters::bump(&self.shared.counters.duplicates),
            Err(e) => log::warn!(
                "subscription {}: skipping an event: {}",
                self.shared.name,
                describe(&e)
            ),
        }
    }

    /// Delivers unless paused; `true` if delivered.
    fn hand_over(&mut self, event: F::Event) -> bool {
        if self.shared.is_paused() {
            Counters::bump(&self.shared.counters.dropped_while_paused);
            false
        } else {
            self.core.outlet.event(event);
            true
        }
    }

    /// The machine ended the connection: what the thread does next.
    fn ended(&mut self, end: End, conn: &mut Connection) -> Next {
        match end {
            End::Closed => Next::Stop,
            End::Fatal(e) => Next::Fail(e),
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
    fn close_link(&mut self, mut conn: Connection) {
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
