//! [`DeliverySettings`]: how a server delivers its webhooks (targets, timeout, backoff, how
//! long to retry, and the test settings that redeliver or reorder), from the builder.

use std::time::Duration;

use crate::webhook_targets::WebhookTargets;

/// The webhook settings of a builder, as given.
#[derive(Clone, Debug)]
pub(crate) struct WebhookOptions {
    /// Allow-list entries, `HOST[:PORT]`.
    pub(crate) allow: Vec<String>,
    pub(crate) timeout: Duration,
    pub(crate) first_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) retry_for: Duration,
    pub(crate) redeliver: bool,
    pub(crate) reorder: bool,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        WebhookOptions {
            allow: Vec::new(),
            timeout: Duration::from_secs(10),
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            retry_for: Duration::from_secs(600),
            redeliver: false,
            reorder: false,
        }
    }
}

impl WebhookOptions {
    /// Makes the delivery settings of a server listening on loopback (or not).
    ///
    /// # Errors
    ///
    /// A message for an allow-list entry that is not `HOST[:PORT]`, or a zero timeout.
    pub(crate) fn settings(&self, loopback_server: bool) -> Result<DeliverySettings, String> {
        if self.timeout.is_zero() {
            return Err("webhook_timeout must not be zero".into());
        }
        Ok(DeliverySettings {
            targets: WebhookTargets::new(loopback_server, &self.allow)?,
            timeout: self.timeout,
            first_backoff: self.first_backoff,
            max_backoff: self.max_backoff.max(self.first_backoff),
            retry_for: self.retry_for,
            redeliver: self.redeliver,
            reorder: self.reorder,
        })
    }
}

/// How webhooks are delivered.
#[derive(Clone, Debug)]
pub(crate) struct DeliverySettings {
    /// Where POSTs may go.
    pub(crate) targets: WebhookTargets,
    /// The most one attempt may take: connecting, sending, and reading the answer's head.
    pub(crate) timeout: Duration,
    /// The wait after the first failed attempt; it doubles after each failure.
    pub(crate) first_backoff: Duration,
    /// The longest wait between two attempts.
    pub(crate) max_backoff: Duration,
    /// How long after its event a delivery is still retried: the first failure after that
    /// gives it up.
    pub(crate) retry_for: Duration,
    /// Whether every delivery is POSTed once more after it succeeds (as after a lost answer).
    pub(crate) redeliver: bool,
    /// Whether pending deliveries go newest first, without holding back the later ones.
    pub(crate) reorder: bool,
}

impl DeliverySettings {
    /// Returns the wait after the `failures`-th failed attempt (from 1): `first_backoff`
    /// doubled for each earlier failure, at most `max_backoff`.
    pub(crate) fn backoff(&self, failures: u32) -> Duration {
        let factor = 1u32 << failures.saturating_sub(1).min(31);
        self.first_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_bound() {
        let s = DeliverySettings {
            targets: WebhookTargets::default(),
            timeout: Duration::from_secs(1),
            first_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            retry_for: Duration::from_secs(60),
            redeliver: false,
            reorder: false,
        };
        let waits: Vec<u128> = (1..=6).map(|n| s.backoff(n).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(s.backoff(u32::MAX), Duration::from_secs(1));
    }
}
