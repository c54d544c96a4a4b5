//! The subscription's thread: connects, runs each connection, reconnects with backoff, catches
//! up on what was missed, and stops on command or on a fatal error.
//!
//! One connection is a loop of three steps: carry out the protocol machine's actions (send,
//! deliver, end), look at the handle's commands, then read the next frame, waiting at most
//! until the next deadline of the connection's timers, and turn what came into the machine's next actions.
//! Nothing polls: an idle subscription sleeps in the kernel until the server sends something,
//! a keep-alive interval passes, or the handle interrupts the wait for a command.
//!
//! Events leave through the [`outlet`] (the callback, or the stream's channel). Uses the wire
//! and feed layers, and the status and commands it shares with the handle.

mod connection;
pub(crate) mod outlet;
mod poller;
mod ready;
mod timing;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use serde_json::Value;

use crate::client::Kili;
use crate::common::backoff::Backoff;
use crate::error::{Error, Result};
use crate::subscription::command::Command;
use crate::subscription::events::Lifecycle;
use crate::subscription::feed::Feed;
use crate::subscription::options::SubscriptionOptions;
use crate::subscription::status::{Counters, Shared, SubscriptionState, describe};
use crate::subscription::wire::link::Endpoint;
use crate::subscription::wire::protocol::Operation;
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

/// Classifies a failed attempt: only a refused key, a wrong endpoint or a broken setting stop a
/// subscription for good;
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
    /// Returns whether it can start again (a stream that ended cannot).
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

struct Worker<F: Feed> {
    core: Core<F>,
    shared: Arc<Shared>,
    commands: Receiver<Command>,
    /// Who wait for the outcome of the next connection (the creator, or `reset_timeout`
    /// calls: several may wait at once).
    waiters: Vec<Sender<Result<()>>>,
    /// Whether this thread established the subscription at least once.
    established: bool,
    /// Whether the next established connection must fetch what was missed.
    catch_up: bool,
    backoff: Backoff,
    /// Reconnection attempts since the last connection that held.
    attempt: u32,
    /// Whether a server accepted the subscription (sent it a result) on some connection.
    accepted: bool,
    /// When the gap began: the last frame handled on the last established connection.
    gap_started: Option<SystemTime>,
    /// Catch-up attempts that failed since the last that succeeded (they are retried on the
    /// connection, with backoff).
    catch_up_failures: u32,
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
            waiters: vec![waiter],
            established: false,
            catch_up: false,
            backoff,
            attempt: 0,
            accepted: false,
            gap_started: None,
            catch_up_failures: 0,
        }
    }

    /// Connections until closed or failed; gives back what it ran on.
    fn run(mut self) -> Core<F> {
        self.shared.set_state(SubscriptionState::Connecting);
        loop {
            match self.connection() {
                Next::Stop => {
                    self.answer(Err(Error::Closed));
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
                    if !self.established && !self.waiters.is_empty() {
                        // The first connection of this thread: fail fast, the caller decides.
                        self.shared
                            .set_state(SubscriptionState::Failed(cause.clone()));
                        self.answer(Err(cause));
                        break;
                    }
                    // A close meanwhile is the outcome those waiting for a reset see.
                    let outcome = if self.shared.is_closing() {
                        Err(Error::Closed)
                    } else {
                        Err(cause.clone())
                    };
                    self.answer(outcome);
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
        let shared_err = e.clone();
        if self.established {
            self.core.outlet.lifecycle(Lifecycle::Failed {
                error: shared_err.clone(),
            });
        }
        self.answer(Err(e));
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
            cause,
        });
        match self.commands.recv_timeout(delay) {
            Ok(Command::Close) | Err(RecvTimeoutError::Disconnected) => false,
            Ok(Command::Reset(w)) => {
                self.waiters.push(w);
                true
            }
            Err(RecvTimeoutError::Timeout) => true,
        }
    }

    /// Hands the outcome of a connection to every caller waiting for it.
    fn answer(&mut self, outcome: Result<()>) {
        for w in self.waiters.drain(..) {
            let _ = w.send(outcome.clone());
        }
    }

    /// Handles a refused connection: fatal if the server refuses the key (checked over HTTP),
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
}
