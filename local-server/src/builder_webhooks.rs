//! The webhook settings of [`LocalServerBuilder`]: the targets a server may POST to, the
//! timeout and retries of deliveries, and the test settings that make deliveries harder on a
//! receiver than Kili promises to be (redelivered, reordered).

use std::time::Duration;

use crate::builder::LocalServerBuilder;

impl LocalServerBuilder {
    /// Allows webhooks to POST to `HOST[:PORT]` (a name or an address, `[V6]` for IPv6; any
    /// port when none is given). Repeatable.
    ///
    /// A server listening on loopback (the default) may POST to loopback targets without this,
    /// and to others only with it; a server listening beyond loopback
    /// ([`host`](Self::host)) may POST only to the targets allowed here, loopback included, so
    /// that it cannot be used to make requests into its network. `createWebhook` and
    /// `updateWebhook` refuse other URLs (`FORBIDDEN`), and the check runs again before every
    /// attempt. [`start`](Self::start) refuses an entry of another shape.
    ///
    /// Defaults to none.
    pub fn webhook_allow(mut self, target: impl Into<String>) -> Self {
        self.webhooks.allow.push(target.into());
        self
    }

    /// Sets the most one webhook POST may take (connecting, sending, and reading the answer's
    /// status); an attempt without an answer by then fails and is retried.
    ///
    /// Defaults to 10 seconds. [`start`](Self::start) refuses zero.
    pub fn webhook_timeout(mut self, timeout: Duration) -> Self {
        self.webhooks.timeout = timeout;
        self
    }

    /// Sets the wait after a failed webhook attempt: `first`, doubled after each further
    /// failure, at most `max`.
    ///
    /// Defaults to 1 second, at most 60 seconds.
    pub fn webhook_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.webhooks.first_backoff = first;
        self.webhooks.max_backoff = max;
        self
    }

    /// Sets how long after its event a webhook delivery is retried: the first failed attempt
    /// after that gives it up (logged). Zero gives up after one failed attempt.
    ///
    /// Defaults to 10 minutes.
    pub fn webhook_retry_for(mut self, bound: Duration) -> Self {
        self.webhooks.retry_for = bound;
        self
    }

    /// Sets whether every webhook delivery is POSTed once more after it succeeds, with the same
    /// body (`runId` included), as after an answer lost on the way back: a receiver's tests can
    /// prove that it handles an event delivered twice. A test setting, stricter than Kili
    /// promises to be.
    ///
    /// Defaults to `false`.
    pub fn webhook_redeliver(mut self, redeliver: bool) -> Self {
        self.webhooks.redeliver = redeliver;
        self
    }

    /// Sets whether a webhook's pending deliveries are POSTed newest first, without holding the
    /// later ones back while an earlier one fails: the labels of one `appendManyLabels` call,
    /// for example, arrive in reverse order. A receiver's tests can prove that they do not
    /// depend on the order of events. A test setting, stricter than Kili promises to be.
    ///
    /// Defaults to `false` (each webhook's deliveries in the order of their events).
    pub fn webhook_reorder(mut self, reorder: bool) -> Self {
        self.webhooks.reorder = reorder;
        self
    }
}
