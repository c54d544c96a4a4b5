//! The clocks of one connection, as pure logic: the deadline for `connection_ack`, the one for
//! the server's confirmation of the subscription, when to ask an idle server for a sign of life
//! (keep-alive ping), and when silence means the connection is dead (watchdog).
//!
//! The worker asks [`Timers::deadline`] how long it may sleep, tells [`Timers::heard`] when the
//! server spoke (or a delivery ended), and asks [`Timers::due`] what is due when it wakes up.

use std::time::{Duration, Instant};

use crate::subscription::wire::protocol::Phase;

/// What is due when the thread wakes on a timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    /// `connection_ack` did not come in time.
    AckTimeout,
    /// The server did not confirm the subscription in time.
    ConfirmTimeout,
    /// Nothing heard for the watchdog's limit: the connection is dead.
    Silence(Duration),
    /// Nothing heard for a keep-alive interval: ask for a sign of life.
    Ping,
    /// Nothing (woken early, or a deadline moved).
    Nothing,
}

/// The deadlines of one connection.
#[derive(Debug, Clone)]
pub(crate) struct Timers {
    ack_timeout: Duration,
    /// How long the server has to confirm the subscription.
    confirm_wait: Duration,
    keep_alive: Option<Duration>,
    /// Silence after which the connection is dead (`keep_alive * watchdog multiple`).
    silence_limit: Option<Duration>,
    /// `None`: never (a timeout too long to add to the clock).
    ack_deadline: Option<Instant>,
    /// Set on entering `Confirming`; `Some(None)`: never.
    confirm_deadline: Option<Option<Instant>>,
    last_heard: Instant,
    next_ping: Option<Instant>,
}

impl Timers {
    /// Creates the clocks of a connection opened at `now`.
    pub(crate) fn new(
        now: Instant,
        ack_timeout: Duration,
        confirm_wait: Duration,
        keep_alive: Option<Duration>,
        watchdog_multiple: u32,
    ) -> Timers {
        Timers {
            ack_timeout,
            confirm_wait,
            keep_alive,
            silence_limit: keep_alive.map(|k| k.saturating_mul(watchdog_multiple)),
            ack_deadline: now.checked_add(ack_timeout),
            confirm_deadline: None,
            last_heard: now,
            next_ping: keep_alive.and_then(|k| now.checked_add(k)),
        }
    }

    /// Returns the `connection_ack` timeout (reported when it fires).
    pub(crate) fn ack_timeout(&self) -> Duration {
        self.ack_timeout
    }

    /// Records that the server spoke, or a delivery just ended (while a slow callback ran the thread could
    /// neither read nor ask for a sign of life): silence is measured from `now`.
    pub(crate) fn heard(&mut self, now: Instant) {
        self.last_heard = now;
        self.next_ping = self.keep_alive.and_then(|k| now.checked_add(k));
    }

    /// Records that the machine reached `phase`: starts the confirmation clock on entering `Confirming`.
    pub(crate) fn entered(&mut self, phase: Phase, now: Instant) {
        if phase == Phase::Confirming && self.confirm_deadline.is_none() {
            self.confirm_deadline = Some(now.checked_add(self.confirm_wait));
        }
    }

    /// Returns the next time something is due in `phase`; `None` if nothing ever is.
    pub(crate) fn deadline(&self, phase: Phase) -> Option<Instant> {
        match phase {
            Phase::Opening | Phase::AwaitingAck => self.ack_deadline,
            Phase::Confirming => self.confirm_deadline.flatten(),
            Phase::Active => match (self.next_ping, self.silence_deadline()) {
                (Some(p), Some(s)) => Some(p.min(s)),
                (p, s) => p.or(s),
            },
            Phase::Closing | Phase::Ended => None,
        }
    }

    fn silence_deadline(&self) -> Option<Instant> {
        self.silence_limit
            .and_then(|l| self.last_heard.checked_add(l))
    }

    /// Returns what is due at `now` in `phase`. `backlog` tells that frames are waiting unread (they
    /// arrived while a slow callback ran): that is not silence, so the watchdog starts over.
    pub(crate) fn due(&mut self, phase: Phase, now: Instant, backlog: bool) -> Due {
        match phase {
            Phase::Opening | Phase::AwaitingAck if self.ack_deadline.is_some_and(|d| now >= d) => {
                Due::AckTimeout
            }
            Phase::Confirming if self.confirm_deadline.flatten().is_some_and(|d| now >= d) => {
                Due::ConfirmTimeout
            }
            Phase::Active => {
                if let (Some(limit), Some(at)) = (self.silence_limit, self.silence_deadline())
                    && now >= at
                {
                    if backlog {
                        self.heard(now);
                        return Due::Nothing;
                    }
                    return Due::Silence(limit);
                }
                if self.next_ping.is_some_and(|p| now >= p) {
                    self.next_ping = self.keep_alive.and_then(|k| now.checked_add(k));
                    return Due::Ping;
                }
                Due::Nothing
            }
            _ => Due::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn ack_and_confirm_deadlines() {
        let t0 = Instant::now();
        let mut t = Timers::new(t0, 2 * S, 2 * S, Some(10 * S), 3);
        assert_eq!(t.deadline(Phase::AwaitingAck), Some(t0 + 2 * S));
        assert_eq!(t.due(Phase::AwaitingAck, t0 + S, false), Due::Nothing);
        assert_eq!(
            t.due(Phase::AwaitingAck, t0 + 2 * S, false),
            Due::AckTimeout
        );
        assert_eq!(t.deadline(Phase::Confirming), None, "not entered yet");
        t.entered(Phase::Confirming, t0 + S);
        t.entered(Phase::Confirming, t0 + 5 * S);
        assert_eq!(
            t.deadline(Phase::Confirming),
            Some(t0 + 3 * S),
            "first entry counts"
        );
        assert_eq!(
            t.due(Phase::Confirming, t0 + 3 * S, false),
            Due::ConfirmTimeout
        );
    }

    #[test]
    fn pings_then_the_watchdog() {
        let t0 = Instant::now();
        let mut t = Timers::new(t0, S, S, Some(10 * S), 3);
        assert_eq!(t.deadline(Phase::Active), Some(t0 + 10 * S));
        assert_eq!(t.due(Phase::Active, t0 + 10 * S, false), Due::Ping);
        assert_eq!(t.deadline(Phase::Active), Some(t0 + 20 * S));
        t.heard(t0 + 15 * S);
        assert_eq!(t.deadline(Phase::Active), Some(t0 + 25 * S));
        assert_eq!(
            t.due(Phase::Active, t0 + 45 * S, false),
            Due::Silence(30 * S)
        );
    }

    #[test]
    fn a_backlog_is_not_silence() {
        let t0 = Instant::now();
        let mut t = Timers::new(t0, S, S, Some(S), 2);
        assert_eq!(t.due(Phase::Active, t0 + 5 * S, true), Due::Nothing);
        assert_eq!(t.deadline(Phase::Active), Some(t0 + 6 * S));
    }

    #[test]
    fn no_keep_alive_means_no_ping_and_no_watchdog() {
        let t0 = Instant::now();
        let mut t = Timers::new(t0, S, S, None, 3);
        assert_eq!(t.deadline(Phase::Active), None);
        assert_eq!(t.due(Phase::Active, t0 + 1000 * S, false), Due::Nothing);
        assert_eq!(t.deadline(Phase::Closing), None);
    }

    #[test]
    fn huge_durations_saturate() {
        let t0 = Instant::now();
        let mut t = Timers::new(
            t0,
            Duration::MAX,
            Duration::MAX,
            Some(Duration::MAX),
            u32::MAX,
        );
        assert_eq!(t.deadline(Phase::AwaitingAck), None, "never");
        assert_eq!(t.due(Phase::AwaitingAck, t0 + S, false), Due::Nothing);
        t.entered(Phase::Confirming, t0);
        assert_eq!(t.deadline(Phase::Confirming), None);
        t.heard(t0);
        assert_eq!(t.due(Phase::Active, t0 + S, false), Due::Nothing);
    }
}
