//! [`Subscription`]: the handle of a running subscription, and [`SubscriptionControl`], a cheap
//! clone of its controls that does not keep the subscription alive.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded, unbounded};
use parking_lot::Mutex;

use crate::error::{Error, Result};
use crate::subscription::command::Command;
use crate::subscription::feed::checkpoint::Checkpoint;
use crate::subscription::status::{Shared, SubscriptionState, SubscriptionStats};
use crate::subscription::worker::Parked;

/// A running subscription: pause it, resume it, close it, restart it, wait for it, watch it.
///
/// Its events are handled on its own named thread, which owns the connection. The handle is
/// `Send + Sync`: share it by reference or in an `Arc` and call it from any thread; to act on
/// the subscription from inside its own callback, capture a [`control`](Self::control) instead
/// (it does not keep the subscription alive). Dropping the handle closes the subscription
/// without waiting; [`close`](Self::close) does the same and waits for the thread.
///
/// # Examples
///
/// The tutorial's sequence:
///
/// ```no_run
/// let kili = kili::Kili::from_env()?;
/// let sub = kili.label_created_or_updated("project-id", |event| {
///     println!("New data: {}", event.frame());
/// })?;
/// sub.pause();            // events are read and dropped
/// sub.unpause();          // events are delivered again
/// sub.close()?;           // the thread is gone
/// sub.reset_timeout()?;   // a fresh connection: events flow again
/// println!("up for {:?}", sub.lifetime());
/// # Ok::<(), kili::Error>(())
/// ```
///
/// A service runs until the subscription ends, and exits non-zero if it failed:
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     let run = || -> kili::Result<()> {
///         let kili = kili::Kili::from_env()?;
///         let sub = kili.label_created_or_updated("project-id", |event| {
///             println!("{}", event.label().id());
///         })?;
///         sub.wait() // until closed (Ok) or failed for good (the error)
///     };
///     match run() {
///         Ok(()) => std::process::ExitCode::SUCCESS,
///         Err(e) => {
///             eprintln!("error: {e}");
///             std::process::ExitCode::FAILURE
///         }
///     }
/// }
/// ```
#[must_use = "dropping the handle closes the subscription at once"]
pub struct Subscription {
    shared: Arc<Shared>,
    control: Mutex<Control>,
    /// Held through a whole `reset_timeout`: one reset at a time.
    resetting: Mutex<()>,
    close_timeout: Duration,
}

struct Control {
    thread: Option<Thread>,
    parked: Option<Box<dyn Parked>>,
    /// How long `reset_timeout` waits for the new connection.
    reply_wait: Duration,
}

/// A subscription thread; it gives back what it ran on when it ends.
type Thread = JoinHandle<Box<dyn Parked>>;
/// Why a launch failed, and what it left.
type LaunchError = (Error, Left);

/// What a launch that failed leaves: the stopped subscription, to start again later, or a
/// thread that did not answer in time and ends on its own.
enum Left {
    Parked(Option<Box<dyn Parked>>),
    Running(Thread),
}

impl Subscription {
    /// Starts the subscription's thread and waits until it is established (or failed).
    pub(crate) fn start(
        core: Box<dyn Parked>,
        shared: Arc<Shared>,
        reply_wait: Duration,
        close_timeout: Duration,
    ) -> Result<Subscription> {
        let thread = launch(core, &shared, false, reply_wait).map_err(|(e, _)| e)?;
        let control = Control {
            thread: Some(thread),
            parked: None,
            reply_wait,
        };
        Ok(Subscription {
            shared,
            control: Mutex::new(control),
            resetting: Mutex::new(()),
            close_timeout,
        })
    }

    /// Stops delivering events: they are still read from the connection, and dropped (counted
    /// in [`SubscriptionStats::dropped_while_paused`]). Takes effect at once.
    pub fn pause(&self) {
        self.shared.paused.store(true, Ordering::SeqCst);
    }

    /// Delivers events again, starting with the next one received.
    pub fn unpause(&self) {
        self.shared.paused.store(false, Ordering::SeqCst);
    }

    /// Returns whether the subscription is paused.
    pub fn is_paused(&self) -> bool {
        self.shared.is_paused()
    }

    /// Closes the subscription: from the moment it is called no callback starts and nothing is
    /// sent to the stream; the thread sends `stop` and `connection_terminate`, closes the
    /// WebSocket and ends. Waits for that at most the close timeout
    /// ([`SubscriptionOptions::close_timeout`](crate::SubscriptionOptions::close_timeout)),
    /// plus the callback in progress if one is; a thread still busy then (a catch-up request,
    /// a connection attempt) finishes on its own, delivering nothing. Calling it again, or from
    /// several threads at once, is fine.
    ///
    /// Called from the subscription's own callback, it does not wait.
    ///
    /// # Errors
    ///
    /// [`Error::Panicked`] if the subscription's thread had panicked.
    pub fn close(&self) -> Result<()> {
        self.shared.begin_closing();
        self.shared.send_command(Command::Close);
        if self.shared.is_worker_thread() {
            return Ok(());
        }
        let thread = self.control.lock().thread.take();
        let deadline = Instant::now().checked_add(self.close_timeout);
        let ended = self.shared.wait_thread_end(deadline, true);
        let Some(thread) = thread else {
            // Another caller closes it; it waited as long as that one does.
            return Ok(());
        };
        if !ended {
            // Kept for a later restart, which joins it first.
            self.control.lock().thread = Some(thread);
            log::debug!(
                "subscription {}: closed; its thread finishes on its own",
                self.shared.name
            );
            return Ok(());
        }
        let parked = thread.join().map_err(|p| self.panicked(p))?;
        self.control.lock().parked = Some(parked);
        Ok(())
    }

    /// Opens a fresh connection and subscribes again, which restarts the server's lifetime
    /// clock (Kili ends subscriptions after about 30 days). On a closed or failed subscription
    /// it starts it again, as the tutorial does after `close()`: events from then on are
    /// delivered, not those that happened while it was closed.
    ///
    /// Returns once the new subscription is established. Called from the subscription's own
    /// callback, it does not wait. Calls from several threads at once are served one after
    /// the other (a running subscription answers those that wait together with one fresh
    /// connection); a call under way when [`close`](Self::close) is called returns
    /// [`Error::Closed`] and starts nothing.
    ///
    /// # Errors
    ///
    /// What the new connection met ([`Error::Transport`], [`Error::Authentication`], ...; a
    /// running subscription keeps reconnecting after a transient failure),
    /// [`Error::Timeout`] if it took longer than the connect and ack timeouts allow, and
    /// [`Error::Closed`] for the stream form once it was closed (a closed stream has ended).
    pub fn reset_timeout(&self) -> Result<()> {
        let closes = self.shared.closes();
        let on_own_thread = self.shared.is_worker_thread();
        let _one_at_a_time = (!on_own_thread).then(|| self.resetting.lock());
        if self.shared.closes() != closes {
            return Err(Error::Closed);
        }
        let (running, reply_wait) = {
            let c = self.control.lock();
            let running = c.thread.as_ref().is_some_and(|t| !t.is_finished());
            (running && !self.shared.is_closing(), c.reply_wait)
        };
        if running {
            let (tx, rx) = bounded(1);
            self.shared.send_command(Command::Reset(tx));
            if on_own_thread {
                return Ok(());
            }
            match rx.recv_timeout(reply_wait) {
                Ok(outcome) => return outcome,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(Error::Timeout {
                        operation: "reset_timeout".into(),
                        after: reply_wait,
                    });
                }
                // The thread ended before it took the command (a fatal error, a close): start
                // it again, as after any end.
                Err(RecvTimeoutError::Disconnected) => {}
            }
        }
        if on_own_thread {
            // A thread cannot wait for its own end; the callback closed it first.
            return Err(Error::Closed);
        }
        let (thread, parked) = {
            let mut c = self.control.lock();
            (c.thread.take(), c.parked.take())
        };
        let parked = match thread {
            Some(thread) => Some(thread.join().map_err(|p| self.panicked(p))?),
            None => parked,
        };
        let core = match parked {
            // A close since this call began: nothing starts again.
            Some(core) if core.can_restart() && self.shared.closes() == closes => core,
            other => {
                self.control.lock().parked = other;
                return Err(Error::Closed);
            }
        };
        self.shared.reopen();
        match launch(core, &self.shared, true, reply_wait) {
            Ok(thread) => {
                self.control.lock().thread = Some(thread);
                Ok(())
            }
            Err((e, Left::Parked(parked))) => {
                self.control.lock().parked = parked;
                Err(e)
            }
            Err((e, Left::Running(thread))) => {
                self.control.lock().thread = Some(thread);
                Err(e)
            }
        }
    }

    /// Blocks until the subscription ends: `Ok` once it was closed, the error that stopped it
    /// for good otherwise. Reconnections are not an end.
    ///
    /// # Errors
    ///
    /// The fatal error ([`Error::Authentication`], [`Error::GraphQl`], ...);
    /// [`Error::InvalidInput`] when called on the subscription's own thread (from its callback
    /// or lifecycle hook), where it would wait for itself forever.
    pub fn wait(&self) -> Result<()> {
        self.not_on_own_thread("wait")?;
        self.shared.wait_thread_end(None, false);
        self.outcome()
    }

    /// Waits like [`wait`](Self::wait), at most `timeout` (a callback in progress does not
    /// extend it); `None` if it is still running then.
    ///
    /// # Errors
    ///
    /// As [`wait`](Self::wait), inside the `Some`.
    pub fn wait_timeout(&self, timeout: Duration) -> Option<Result<()>> {
        if let Err(e) = self.not_on_own_thread("wait_timeout") {
            return Some(Err(e));
        }
        let deadline = Instant::now().checked_add(timeout);
        if deadline.is_none() {
            return Some(self.wait());
        }
        self.shared
            .wait_thread_end(deadline, false)
            .then(|| self.outcome())
    }

    /// Refuses a wait on the subscription's own thread, which would never end.
    fn not_on_own_thread(&self, what: &str) -> Result<()> {
        if self.shared.is_worker_thread() {
            return Err(Error::invalid(format!(
                "{what}() was called on the subscription's own thread (from its callback or \
                 lifecycle hook), where it would wait for itself forever"
            )));
        }
        Ok(())
    }

    /// Returns the error for a thread of this subscription that panicked.
    fn panicked(&self, panic: Box<dyn std::any::Any + Send>) -> Error {
        thread_panicked(&self.shared, panic)
    }

    fn outcome(&self) -> Result<()> {
        match self.shared.state() {
            SubscriptionState::Failed(e) => Err(e),
            _ => Ok(()),
        }
    }

    /// Returns how long the current server-side subscription has been up: since the last connection
    /// was established (a reconnection or `reset_timeout` starts it over). After a close, how
    /// long the last one lasted. Zero before the first connection.
    pub fn lifetime(&self) -> Duration {
        self.shared.lifetime()
    }

    /// Returns where the subscription is.
    pub fn state(&self) -> SubscriptionState {
        self.shared.state()
    }

    /// Returns its counters.
    pub fn stats(&self) -> SubscriptionStats {
        self.shared.counters.snapshot()
    }

    /// Returns the protocol the server picked for the last connection established (`None` before
    /// the first).
    pub fn protocol(&self) -> Option<crate::subscription::options::WsProtocol> {
        self.shared.protocol()
    }

    /// Returns the name of its thread.
    pub fn thread_name(&self) -> &str {
        &self.shared.name
    }

    /// Returns, for a label subscription, the checkpoint after the last event handed to the callback
    /// (or sent to the stream: a stream's reader should keep the checkpoint of the last event
    /// it handled, [`LabelEvent::checkpoint`](crate::LabelEvent::checkpoint)). `None` for
    /// other subscriptions.
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        self.shared.checkpoint()
    }

    /// Returns a cheap, cloneable handle on the controls, for the subscription's own callback: it does
    /// not keep the subscription alive (dropping the [`Subscription`] still closes it).
    ///
    /// ```no_run
    /// use std::sync::{Arc, OnceLock};
    /// let kili = kili::Kili::from_env()?;
    /// let slot: Arc<OnceLock<kili::SubscriptionControl>> = Arc::default();
    /// let in_callback = Arc::clone(&slot);
    /// let sub = kili.label_created_or_updated("project-id", move |event| {
    ///     if event.label().id() == "the-last-one" {
    ///         in_callback.get().map(|c| c.close()); // no more callbacks after this one
    ///     }
    /// })?;
    /// let _ = slot.set(sub.control());
    /// sub.wait()?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn control(&self) -> SubscriptionControl {
        SubscriptionControl {
            shared: Arc::clone(&self.shared),
            close_timeout: self.close_timeout,
        }
    }
}

/// The controls of a [`Subscription`] for other threads and for its own callback: pause,
/// unpause, close, state, counters, checkpoint. Cheap to clone; it does not keep the
/// subscription alive, so a callback can hold one without making a cycle.
#[derive(Clone)]
pub struct SubscriptionControl {
    shared: Arc<Shared>,
    close_timeout: Duration,
}

impl SubscriptionControl {
    /// Pauses the subscription, as [`Subscription::pause`].
    pub fn pause(&self) {
        self.shared.paused.store(true, Ordering::SeqCst);
    }

    /// Unpauses the subscription, as [`Subscription::unpause`].
    pub fn unpause(&self) {
        self.shared.paused.store(false, Ordering::SeqCst);
    }

    /// Closes the subscription: no callback starts after this call returns. Waits, at most
    /// the close timeout ([`SubscriptionOptions::close_timeout`](crate::SubscriptionOptions::close_timeout)),
    /// for its thread to end, except on that thread (from the callback), where it returns at
    /// once. Calling it again does nothing.
    ///
    /// Unlike [`Subscription::close`] it does not join the thread: a thread that panicked is
    /// reported by the handle's `close` or [`wait`](Subscription::wait).
    ///
    /// # Errors
    ///
    /// None today; the `Result` is the one [`Subscription::close`] returns.
    pub fn close(&self) -> Result<()> {
        self.shared.begin_closing();
        self.shared.send_command(Command::Close);
        if !self.shared.is_worker_thread() {
            self.shared
                .wait_thread_end(Instant::now().checked_add(self.close_timeout), true);
        }
        Ok(())
    }

    /// Returns where the subscription is, as [`Subscription::state`].
    pub fn state(&self) -> SubscriptionState {
        self.shared.state()
    }

    /// Returns its counters, as [`Subscription::stats`].
    pub fn stats(&self) -> SubscriptionStats {
        self.shared.counters.snapshot()
    }

    /// Returns its checkpoint, as [`Subscription::checkpoint`].
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        self.shared.checkpoint()
    }
}

impl std::fmt::Debug for SubscriptionControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriptionControl")
            .field("thread", &self.shared.name)
            .finish_non_exhaustive()
    }
}

/// Returns the error for a subscription thread that panicked, with the panic's message.
fn thread_panicked(shared: &Shared, panic: Box<dyn std::any::Any + Send>) -> Error {
    Error::panicked(
        format!("the subscription thread {}", shared.name),
        panic.as_ref(),
    )
}

/// Spawns the thread and waits (at most `wait`) for its first connection. On failure the
/// thread is joined and what it gave back is returned with the error (for a later restart).
fn launch(
    core: Box<dyn Parked>,
    shared: &Arc<Shared>,
    restart: bool,
    wait: Duration,
) -> std::result::Result<Thread, LaunchError> {
    let (commands, rx): (Sender<Command>, Receiver<Command>) = unbounded();
    shared.set_commands(commands);
    let (tx, outcome) = bounded(1);
    let thread = core
        .spawn(shared.clone(), rx, tx, restart)
        .map_err(|e| (e, Left::Parked(None)))?;
    let error = match outcome.recv_timeout(wait) {
        Ok(Ok(())) => return Ok(thread),
        Ok(Err(e)) => e,
        Err(RecvTimeoutError::Timeout) => {
            // A step took longer than its own timeout allows (a key check over HTTP that
            // retries, say): the caller is not kept waiting, and the thread ends on its own.
            shared.begin_closing();
            shared.send_command(Command::Close);
            let e = Error::Timeout {
                operation: "establishing the subscription".into(),
                after: wait,
            };
            return Err((e, Left::Running(thread)));
        }
        Err(RecvTimeoutError::Disconnected) => match thread.join() {
            Ok(parked) => {
                // Not reached: the thread answers before it ends.
                return Err((Error::Closed, Left::Parked(Some(parked))));
            }
            Err(panic) => return Err((thread_panicked(shared, panic), Left::Parked(None))),
        },
    };
    // The thread answered with an error and is ending: joining it is quick.
    Err((error, Left::Parked(thread.join().ok())))
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // The thread closes the connection and ends by itself; nothing waits for it.
        self.shared.begin_closing();
        self.shared.send_command(Command::Close);
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("thread", &self.shared.name)
            .field("state", &self.state())
            .field("paused", &self.is_paused())
            .field("lifetime", &self.lifetime())
            .field("stats", &self.stats())
            .finish()
    }
}
