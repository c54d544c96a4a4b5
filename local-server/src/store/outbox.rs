//! [`Outbox`]: the doorbell of webhook deliveries. A write that records deliveries (or changes
//! a webhook) rings it after its commit; the delivery threads wait on it, each with its own
//! deadline (the next retry), and look at the pending deliveries again when it rings.

use std::time::Instant;

use parking_lot::{Condvar, Mutex};

/// A counter of rings, and a condition to wait for the next one.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    rings: Mutex<u64>,
    rung: Condvar,
}

impl Outbox {
    /// Returns how many times it has rung: pass it to [`Outbox::wait`].
    pub(crate) fn rings(&self) -> u64 {
        *self.rings.lock()
    }

    /// Rings: wakes every waiter.
    pub(crate) fn ring(&self) {
        let mut rings = self.rings.lock();
        *rings = rings.wrapping_add(1);
        self.rung.notify_all();
    }

    /// Waits until it rings after `seen` rings, or `deadline` (forever if `None`); returns the
    /// rings now. Returns at once if it rang since `seen`.
    pub(crate) fn wait(&self, seen: u64, deadline: Option<Instant>) -> u64 {
        let mut rings = self.rings.lock();
        while *rings == seen {
            match deadline {
                Some(d) => {
                    if self.rung.wait_until(&mut rings, d).timed_out() {
                        break;
                    }
                }
                None => self.rung.wait(&mut rings),
            }
        }
        *rings
    }
}
