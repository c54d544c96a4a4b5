//! The subscription's thread: owns the connection, drives the protocol machine, delivers events,
//! watches for silence, reconnects with backoff and catches up.
//!
//! The thread waits in one `select` over the socket's byte channel (fed by the connection's
//! reader thread), its command channel and the next deadline (ack, probe, keep-alive ping,
//! watchdog). Nothing polls: an idle subscription sleeps until the server sends something, a
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
use crate::subscription::connect::{Endpoint, Link, Read1};
use crate::subscription::events::Lifecycle;
use crate::subscription::feed::Feed;
use crate::subscription::options::SubscriptionOptions;
use crate::subscription::options::WsProtocol;
use crate::subscription::outlet::Outlet;
use crate::subscription::protocol::{Action, End, Input, Machine, Operation, Phase};
use crate::subscription::status::{Counters, Shared, SubscriptionState, describe, duplicate};

/// Messages handled per wake-up before commands get a look in.
const READ_BATCH: usize = 64;

/// What woke the thread.
enum Wake {
    Socket,
    Command,
    Timer,
}

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
            .map_err(|source| Error::Io {
                context: "spawning the subscription thread".into(),
                source,
            })
    }
}

/// How a connection ended.
enum Ending {
    /// Closed on command.
    Closed,
    /// Reset on command: reconnect now.
    Reset,
    /// Stop for good.
    Fatal(Error),
    /// Lost (or completed by the server): reconnect with backoff.
    Lost {
        cause: Error,
        completed: bool,
        active_for: Duration,
    },
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

    fn run(mut self) -> Core<F> {
        self.shared.set_state(SubscriptionState::Connecting);
        loop {
            match self.connection() {
                Ending::Closed => {
                    self.stop(SubscriptionState::Closed, Lifecycle::Closed);
                    break;
                }
                Ending::Fatal(e) => {
                    log::error!(
                        "subscription {}: {}; not retrying",
                        self.shared.name,
                        describe(&e)
                    );
                    let shared_err = Arc::new(duplicate(&e));
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
                    break;
                }
                Ending::Reset => {
                    self.catch_up = self.established;
                    self.attempt = 0;
                }
                Ending::Lost {
                    cause,
                    completed,
                    active_for,
                } => {
                    if !self.established {
                        // The first connection of this thread: fail fast, the caller decides.
                        if let Some(w) = self.waiter.take() {
                            self.shared
                                .set_state(SubscriptionState::Failed(Arc::new(duplicate(&cause))));
                            let _ = w.send(Err(cause));
                            break;
                        }
                    }
                    if let Some(w) = self.waiter.take() {
                        let _ = w.send(Err(duplicate(&cause)));
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

    /// One connection, from connect to its end.
    fn connection(&mut self) -> Ending {
        Counters::bump(&self.shared.counters.connection_attempts);
        let reader_name = format!("{}-rd", self.shared.name);
        let mut link = match Link::open(&self.core.endpoint, &reader_name) {
            Ok(link) => link,
            Err(e) if e.is_retryable() => {
                return Ending::Lost {
                    cause: e,
                    completed: false,
                    active_for: Duration::ZERO,
                };
            }
            Err(e) => return Ending::Fatal(e),
        };
        let id = ids::new_operation_id();
        let probe = format!("{id}-ready");
        let mut machine = Machine::new(
            link.protocol(),
            id,
            probe,
            self.core.init_payload.clone(),
            self.core.operation.clone(),
        );
        let opts = &self.core.options;
        let (ack_timeout, keep_alive) = (opts.ack_timeout, opts.keep_alive);
        let silence_limit = keep_alive.map(|k| k.saturating_mul(opts.watchdog_multiple));
        let ack_deadline = Instant::now() + ack_timeout;
        let mut confirm_deadline = None;
        let mut ready_at: Option<Instant> = None;
        let mut last_heard = Instant::now();
        let mut next_ping = keep_alive.map(|k| last_heard + k);

        let mut actions = machine.handle(Input::Opened);
        let mut more_to_read = false;
        loop {
            let mut end = None;
            let mut delivered = false;
            for action in std::mem::take(&mut actions) {
                match action {
                    Action::Send(text) => {
                        if let Err(e) = link.send_text(text) {
                            return lost(e, ready_at);
                        }
                    }
                    Action::Ready => {
                        ready_at = Some(Instant::now());
                        self.on_ready(machine.id(), machine.protocol());
                    }
                    Action::Deliver { id, frame } => {
                        self.deliver_live(&id, frame);
                        delivered = true;
                    }
                    Action::Ignored(why) => {
                        log::debug!("subscription {}: ignored a frame: {why}", self.shared.name);
                    }
                    Action::End(e) => {
                        end = Some(e);
                        break;
                    }
                }
            }
            if let Some(end) = end {
                return self.ending(end, link, ready_at);
            }
            if delivered {
                // Silence is measured from the end of the last delivery: while a slow callback
                // ran, the thread could neither read nor ask the server for a sign of life.
                last_heard = Instant::now();
                next_ping = keep_alive.map(|k| last_heard + k);
            }
            if machine.phase() == Phase::Confirming && confirm_deadline.is_none() {
                confirm_deadline = Some(Instant::now() + ack_timeout);
            }

            let deadline = match machine.phase() {
                Phase::Opening | Phase::AwaitingAck => Some(ack_deadline),
                Phase::Confirming => confirm_deadline,
                Phase::Active => match (next_ping, silence_limit) {
                    (Some(p), Some(limit)) => Some(p.min(last_heard + limit)),
                    _ => None,
                },
                Phase::Closing | Phase::Ended => {
                    // The machine only gets there with an `End` action, handled above.
                    let e = Error::Protocol {
                        message: format!("internal: connection left in {:?}", machine.phase()),
                    };
                    return lost(e, ready_at);
                }
            };
            let overdue = deadline.is_some_and(|d| Instant::now() >= d);
            let wake = if overdue {
                // A busy socket must not keep a deadline from firing.
                Wake::Timer
            } else if more_to_read {
                // Bytes may wait in the stream's buffers, unseen by the channel: read on, but
                // let a command in first.
                if self.commands.is_empty() {
                    Wake::Socket
                } else {
                    Wake::Command
                }
            } else {
                let mut select = Select::new();
                let on_socket = select.recv(link.readiness());
                select.recv(&self.commands);
                let ready = match deadline {
                    Some(d) => select.ready_deadline(d).ok(),
                    None => Some(select.ready()),
                };
                match ready {
                    Some(i) if i == on_socket => Wake::Socket,
                    Some(_) => Wake::Command,
                    None => Wake::Timer,
                }
            };
            match wake {
                Wake::Socket => {
                    last_heard = Instant::now();
                    next_ping = keep_alive.map(|k| last_heard + k);
                    (actions, more_to_read) = self.read_available(&mut link, &mut machine);
                }
                Wake::Command => match self.commands.try_recv() {
                    Ok(Command::Close) | Err(TryRecvError::Disconnected) => {
                        self.close_link(link, &mut machine);
                        return Ending::Closed;
                    }
                    Ok(Command::Reset(w)) => {
                        log::info!(
                            "subscription {}: reset: opening a fresh connection",
                            self.shared.name
                        );
                        self.waiter = Some(w);
                        self.close_link(link, &mut machine);
                        return Ending::Reset;
                    }
                    Err(TryRecvError::Empty) => {}
                },
                Wake::Timer => {
                    let now = Instant::now();
                    actions = match machine.phase() {
                        Phase::Opening | Phase::AwaitingAck => {
                            machine.handle(Input::AckTimeout(ack_timeout))
                        }
                        Phase::Confirming => {
                            log::debug!(
                                "subscription {}: the server did not answer the probe",
                                self.shared.name
                            );
                            machine.handle(Input::ConfirmTimeout)
                        }
                        _ => match (silence_limit, next_ping) {
                            // Frames that arrived while a slow callback ran are not
                            // silence: read them instead of reconnecting.
                            (Some(limit), _)
                                if now >= last_heard + limit
                                    && (more_to_read || !link.readiness().is_empty()) =>
                            {
                                last_heard = now;
                                next_ping = keep_alive.map(|k| now + k);
                                vec![]
                            }
                            (Some(limit), _) if now >= last_heard + limit => {
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
                            (_, Some(p)) if now >= p => {
                                next_ping = keep_alive.map(|k| now + k);
                                match machine.keepalive_ping() {
                                    Some(text) => vec![Action::Send(text)],
                                    None => match link.send_ping() {
                                        Ok(()) => vec![],
                                        Err(e) => return lost(e, ready_at),
                                    },
                                }
                            }
                            _ => vec![],
                        },
                    };
                }
            }
        }
    }

    /// Reads the messages available now (up to a batch, so that commands are not starved by
    /// a flood) and feeds them to the machine; `true` if there may be more.
    fn read_available(&mut self, link: &mut Link, machine: &mut Machine) -> (Vec<Action>, bool) {
        let mut actions = Vec::new();
        for _ in 0..READ_BATCH {
            // Only the actions this message adds need checking: checking them all made a
            // sustained burst quadratic.
            let before = actions.len();
            match link.read() {
                Read1::Idle => return (actions, false),
                Read1::Message(Message::Text(t)) => {
                    actions.extend(machine.handle(Input::Text(t.as_str())))
                }
                Read1::Message(Message::Binary(b)) => {
                    actions.extend(machine.handle(Input::Binary(&b)))
                }
                Read1::Message(Message::Close(frame)) => {
                    let (code, reason) = match &frame {
                        Some(f) => (Some(u16::from(f.code)), f.reason.as_str()),
                        None => (None, ""),
                    };
                    // A close frame without a code is still a close.
                    let code = code.or(Some(1005));
                    actions.extend(machine.handle(Input::Closed { code, reason }));
                }
                Read1::Message(_) => {}
                Read1::Over(err) => {
                    let reason = err.map(|e| e.to_string()).unwrap_or_default();
                    actions.extend(machine.handle(Input::Closed {
                        code: None,
                        reason: &reason,
                    }));
                    return (actions, false);
                }
            }
            if actions[before..]
                .iter()
                .any(|a| matches!(a, Action::End(_)))
            {
                return (actions, false);
            }
        }
        (actions, true)
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
        let mut missed = 0;
        if self.catch_up {
            let frame_type = if protocol == WsProtocol::GraphqlWs {
                "data"
            } else {
                "next"
            };
            match self.core.feed.missed(id, frame_type) {
                Ok(events) => {
                    for event in events {
                        Counters::bump(&self.shared.counters.received);
                        if self.hand_over(event) {
                            missed += 1;
                            Counters::bump(&self.shared.counters.caught_up);
                        }
                    }
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
                }
            }
        }
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

    fn ending(&mut self, end: End, link: Link, ready_at: Option<Instant>) -> Ending {
        let active_for = ready_at.map_or(Duration::ZERO, |t| t.elapsed());
        match end {
            End::Closed => Ending::Closed,
            End::Fatal(e) => Ending::Fatal(e),
            End::Retry(cause) => {
                drop(link);
                Ending::Lost {
                    cause,
                    completed: false,
                    active_for,
                }
            }
            End::Completed => {
                link.close(self.core.options.close_timeout);
                let cause =
                    Error::transport("receiving events", "the server completed the subscription");
                Ending::Lost {
                    cause,
                    completed: true,
                    active_for,
                }
            }
        }
    }

    /// Our close: `stop` (and `connection_terminate`), a close frame, a bounded wait.
    fn close_link(&mut self, mut link: Link, machine: &mut Machine) {
        for action in machine.handle(Input::Close) {
            if let Action::Send(text) = action
                && link.send_text(text).is_err()
            {
                return;
            }
        }
        link.close(self.core.options.close_timeout);
    }
}

fn lost(cause: Error, ready_at: Option<Instant>) -> Ending {
    Ending::Lost {
        cause,
        completed: false,
        active_for: ready_at.map_or(Duration::ZERO, |t| t.elapsed()),
    }
}
