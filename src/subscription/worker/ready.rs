//! The moment a connection is established: tell who waits, fetch what the gap hid, report.

use std::time::Instant;

use super::connection::Connection;
use super::{Core, Next, Worker, hand_over};
use crate::error::Result;
use crate::subscription::events::Lifecycle;
use crate::subscription::feed::catch_up::Flow;
use crate::subscription::feed::{CaughtUp, Context, Feed};
use crate::subscription::status::{Counters, SubscriptionState, describe};

impl<F: Feed> Worker<F> {
    /// Handles the subscription's establishment: tell the waiter, catch up after a gap, report.
    /// `Some` if the connection must end (a catch-up that failed for a reason that may pass).
    pub(super) fn on_ready(&mut self, conn: &mut Connection) -> Option<Next> {
        self.mark_ready(conn);
        let missed = match self.catch_up_after_gap(conn) {
            Ok(missed) => missed,
            Err(next) => return Some(next),
        };
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
        self.announce(conn, missed);
        self.established = true;
        self.catch_up = false;
        self.gap_started = None;
        None
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
        // The waiter learns of the connection before the catch-up, which may take a while.
        if let Some(w) = self.waiter.take() {
            let _ = w.send(Ok(()));
        }
    }

    /// Fetches what the gap hid, if the feed wants it: the number of events delivered, or
    /// the end of the connection if the catch-up failed for a reason that may pass.
    fn catch_up_after_gap(&mut self, conn: &Connection) -> std::result::Result<usize, Next> {
        if !self.core.feed.wants_catch_up(self.catch_up) {
            return Ok(0);
        }
        match self.deliver_missed(&conn.ctx) {
            Ok(caught_up) => {
                self.report_catch_up(&caught_up);
                Ok(caught_up.delivered)
            }
            Err(e) => {
                log::warn!(
                    "subscription {}: could not fetch the events missed: {}",
                    self.shared.name,
                    describe(&e)
                );
                let retry = e.is_retryable();
                self.core
                    .outlet
                    .lifecycle(Lifecycle::CatchUpFailed { error: e.clone() });
                if retry && !self.shared.is_closing() {
                    // Fetched again after the reconnection, from the same point.
                    self.established = true;
                    self.catch_up = true;
                    return Err(conn.lost(e));
                }
                Ok(0)
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
}
