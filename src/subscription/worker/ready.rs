//! The moment a connection is established: tell who waits, fetch what the gap hid, report.

use std::marker::PhantomData;
use std::time::Instant;

use super::connection::Connection;
use super::poller::Poller;
use super::{Core, Worker, hand_over};
use crate::error::Result;
use crate::subscription::events::Lifecycle;
use crate::subscription::feed::catch_up::Flow;
use crate::subscription::feed::{CaughtUp, Feed};
use crate::subscription::status::{Counters, SubscriptionState, describe};
use crate::subscription::wire::protocol::Action;

impl<F: Feed> Worker<F> {
    /// Handles the subscription's establishment: tell the waiter, catch up after a gap, report.
    pub(super) fn on_ready(&mut self, conn: &mut Connection) {
        self.mark_ready(conn);
        let missed = self.catch_up_after_gap(conn);
        self.after_catch_up(conn);
        // The catch-up was no silence on the server's part, and the connection counts as up
        // from now on.
        conn.timers.heard(Instant::now());
        conn.ready_at = Some(Instant::now());
        self.announce(conn, missed.unwrap_or(0));
        self.established = true;
        self.catch_up = false;
        if missed.is_some() {
            self.gap_started = None;
        }
    }

    /// Tries again, on the same connection, a catch-up that failed; reports its success.
    pub(super) fn retry_catch_up(&mut self, conn: &mut Connection) -> Vec<Action> {
        if let Some(missed) = self.catch_up_after_gap(conn) {
            log::info!(
                "subscription {}: caught up at last ({missed} missed events delivered)",
                self.shared.name
            );
            self.core.outlet.lifecycle(Lifecycle::CaughtUp { missed });
            self.gap_started = None;
        }
        self.after_catch_up(conn);
        conn.timers.heard(Instant::now());
        vec![]
    }

    /// Hands over what a catch-up held back, and records the checkpoint it reached.
    fn after_catch_up(&mut self, conn: &Connection) {
        let released = self.core.feed.release_ready(&conn.ctx);
        self.released(released);
        // Once closing, what the feed holds may include events that were not delivered: the
        // handle keeps the checkpoint of the last one that was.
        self.core.outlet.flush();
        if !self.shared.is_closing()
            && let Some(cp) = self.core.feed.checkpoint()
        {
            self.shared.set_checkpoint(cp);
        }
        let _ = conn;
    }

    /// Records the new connection in the shared status, and hands the waiter its outcome.
    fn mark_ready(&mut self, conn: &Connection) {
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
        // Who waits learns of the connection before the catch-up, which may take a while.
        self.answer(Ok(()));
    }

    /// Fetches what the gap hid, if the feed wants it: the number of events delivered, or
    /// `None` if the catch-up failed, in which case it is tried again on this connection after
    /// a backoff delay (and the resume point waits for it).
    fn catch_up_after_gap(&mut self, conn: &mut Connection) -> Option<usize> {
        if !self.core.feed.wants_catch_up(self.catch_up) {
            return Some(0);
        }
        match self.deliver_missed(conn) {
            Ok(caught_up) => {
                self.catch_up_failures = 0;
                self.report_catch_up(&caught_up);
                Some(caught_up.delivered)
            }
            Err(e) => {
                if self.shared.is_closing() {
                    return None;
                }
                let delay = self.backoff.delay(self.catch_up_failures);
                self.catch_up_failures = self.catch_up_failures.saturating_add(1);
                log::warn!(
                    "subscription {}: could not fetch the events missed: {}; trying again in {} ms",
                    self.shared.name,
                    describe(&e),
                    delay.as_millis()
                );
                conn.catch_up_retry = Instant::now().checked_add(delay);
                self.core
                    .outlet
                    .lifecycle(Lifecycle::CatchUpFailed { error: e });
                None
            }
        }
    }

    /// Tells the program that the subscription is connected, or connected again.
    fn announce(&mut self, conn: &Connection, missed: usize) {
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
    }

    /// Fetches and delivers what happened during the gap, reading the socket between pages.
    fn deliver_missed(&mut self, conn: &mut Connection) -> Result<CaughtUp> {
        let Worker {
            core,
            shared,
            gap_started,
            ..
        } = self;
        let Core {
            feed,
            outlet,
            options,
            ..
        } = core;
        let ctx = conn.ctx.clone();
        let mut poller = Poller::<F> {
            conn,
            counters: &shared.counters,
            name: &shared.name,
            max_event_size: options.max_event_size,
            feed: PhantomData,
        };
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
        feed.catch_up(&ctx, *gap_started, &mut poller, &mut deliver)
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
}
