//! [`Subscription`]: the handle of a running subscription.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded, unbounded};
use parking_lot::Mutex;

use crate::error::{Error, Result};
use crate::subscription::status::{Shared, SubscriptionState, SubscriptionStats};
use crate::subscription::worker::{Command, Parked};

/// A running subscription: pause it, resume it, close it, restart it, watch it.
///
/// Its events are handled on its own named thread, which owns the connection. The handle is
/// `Send + Sync`: share it by reference or in an `Arc` and call it from any thread.
/// Dropping it closes the subscription without waiting (the thread finishes on its own,
/// within the close timeout); [`close`](Self::close) does the same and waits for the thread.
///
/// # Examples
///
/// The tutorial's sequence:
///
/// ```no_run
/// let kili = kili::Kili::from_env()?;
/// let sub = kili.label_created_or_updated("project-id", |event| {
///     println!("New data: {}", event.frame);
/// })?;
/// sub.pause();            // events are read and dropped
/// sub.unpause();          // events are delivered again
/// sub.close()?;           // the thread is gone
/// sub.reset_timeout()?;   // a fresh connection: events flow again
/// println!("up for {:?}", sub.lifetime());
/// # Ok::<(), kili::Error>(())
/// ```
pub struct Subscription {
    shared: Arc<Shared>,
    control: Mutex<Control>,
}

struct Control {
    commands: Sender<Command>,
    thread: Option<Thread>,
    parked: Option<Box<dyn Parked>>,
    /// How long `reset_timeout` waits for the new connection.
    reply_wait: Duration,
}

const PANICKED: &str = "the subscription thread panicked";

/// A subscription thread; it gives back what it ran on when it ends.
type Thread = JoinHandle<Box<dyn Parked>>;
/// Why a launch failed, and what the thread gave back (for a later restart).
type LaunchError = (Error, Option<Box<dyn Parked>>);

impl Subscription {
    /// Starts the subscription's thread and waits until it is established (or failed).
    pub(crate) fn start(
        core: Box<dyn Parked>,
        shared: Arc<Shared>,
        reply_wait: Duration,
    ) -> Result<Subscription> {
        let (commands, rx) = unbounded();
        let thread =
            launch(core, &shared, (&commands, rx), false, reply_wait).map_err(|(e, _)| e)?;
        let control = Control {
            commands,
            thread: Some(thread),
            parked: None,
            reply_wait,
        };
        Ok(Subscription {
            shared,
            control: Mutex::new(control),
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

    /// Whether the subscription is paused.
    pub fn is_paused(&self) -> bool {
        self.shared.is_paused()
    }

    /// Closes the subscription: sends `stop` and `connection_terminate`, closes the WebSocket,
    /// waits up to the close timeout for the server, and joins the thread (after the callback
    /// in progress, if any, returns). Events after this are not delivered. Calling it again
    /// does nothing.
    ///
    /// Called from the subscription's own callback, it asks the thread to stop once the
    /// callback returns, and does not wait.
    ///
    /// # Errors
    ///
    /// [`Error::Protocol`] if the subscription's thread had panicked.
    pub fn close(&self) -> Result<()> {
        let mut c = self.control.lock();
        let Some(thread) = c.thread.take() else {
            return Ok(());
        };
        let _ = c.commands.send(Command::Close);
        if thread.thread().id() == std::thread::current().id() {
            c.thread = Some(thread);
            return Ok(());
        }
        match thread.join() {
            Ok(core) => {
                c.parked = Some(core);
                Ok(())
            }
            Err(_) => Err(Error::Protocol {
                message: PANICKED.into(),
            }),
        }
    }

    /// Opens a fresh connection and subscribes again, which restarts the server's lifetime
    /// clock (Kili ends subscriptions after about 30 days). On a closed or failed subscription
    /// it starts it again, as the tutorial does after `close()`: events from then on are
    /// delivered, not those that happened while it was closed.
    ///
    /// Returns once the new subscription is established. Called from the subscription's own
    /// callback, it does not wait.
    ///
    /// # Errors
    ///
    /// What the new connection met ([`Error::Transport`], [`Error::Authentication`], ...; a
    /// running subscription keeps reconnecting after a transient failure),
    /// [`Error::Timeout`] if it took longer than the connect and ack timeouts allow, and
    /// [`Error::Closed`] for the stream form once it was closed (a closed stream has ended).
    pub fn reset_timeout(&self) -> Result<()> {
        let mut c = self.control.lock();
        if let Some(thread) = &c.thread
            && !thread.is_finished()
        {
            let on_own_thread = thread.thread().id() == std::thread::current().id();
            let (tx, rx) = bounded(1);
            if c.commands.send(Command::Reset(tx)).is_ok() {
                if on_own_thread {
                    return Ok(());
                }
                return match rx.recv_timeout(c.reply_wait) {
                    Ok(outcome) => outcome,
                    Err(RecvTimeoutError::Timeout) => Err(Error::Timeout {
                        operation: "reset_timeout".into(),
                        after: c.reply_wait,
                    }),
                    Err(RecvTimeoutError::Disconnected) => Err(Error::Closed),
                };
            }
        }
        // Not running: start it again.
        if let Some(thread) = c.thread.take() {
            match thread.join() {
                Ok(core) => c.parked = Some(core),
                Err(_) => {
                    return Err(Error::Protocol {
                        message: PANICKED.into(),
                    });
                }
            }
        }
        let core = match c.parked.take() {
            Some(core) if core.can_restart() => core,
            other => {
                c.parked = other;
                return Err(Error::Closed);
            }
        };
        let (commands, rx) = unbounded();
        c.commands = commands;
        match launch(core, &self.shared, (&c.commands, rx), true, c.reply_wait) {
            Ok(thread) => {
                c.thread = Some(thread);
                Ok(())
            }
            Err((e, parked)) => {
                c.parked = parked;
                Err(e)
            }
        }
    }

    /// How long the current server-side subscription has been up: since the last connection
    /// was established (a reconnection or `reset_timeout` starts it over). After a close, how
    /// long the last one lasted. Zero before the first connection.
    pub fn lifetime(&self) -> Duration {
        self.shared.lifetime()
    }

    /// Where the subscription is.
    pub fn state(&self) -> SubscriptionState {
        self.shared.state()
    }

    /// Its counters.
    pub fn stats(&self) -> SubscriptionStats {
        self.shared.counters.snapshot()
    }

    /// The name of its thread.
    pub fn thread_name(&self) -> &str {
        &self.shared.name
    }
}

/// Spawns the thread and waits (at most `wait`) for its first connection. On failure the
/// thread is joined and what it gave back is returned with the error (for a later restart).
fn launch(
    core: Box<dyn Parked>,
    shared: &Arc<Shared>,
    (commands, rx): (&Sender<Command>, Receiver<Command>),
    restart: bool,
    wait: Duration,
) -> std::result::Result<Thread, LaunchError> {
    let (tx, outcome) = bounded(1);
    let thread = core
        .spawn(shared.clone(), rx, tx, restart)
        .map_err(|e| (e, None))?;
    let error = match outcome.recv_timeout(wait) {
        Ok(Ok(())) => return Ok(thread),
        Ok(Err(e)) => e,
        Err(RecvTimeoutError::Timeout) => {
            // Should not happen (every step has its own timeout); never hang the caller.
            let _ = commands.send(Command::Close);
            Error::Timeout {
                operation: "establishing the subscription".into(),
                after: wait,
            }
        }
        Err(RecvTimeoutError::Disconnected) => Error::Protocol {
            message: PANICKED.into(),
        },
    };
    Err((error, thread.join().ok()))
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let c = self.control.get_mut();
        if c.thread.take().is_some() {
            // The thread closes the connection and ends by itself; nothing waits for it.
            let _ = c.commands.send(Command::Close);
        }
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
