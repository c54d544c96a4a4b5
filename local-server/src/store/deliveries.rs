//! Webhook deliveries: recorded with the labels that cause them (a `DEFAULT` label is an
//! `onSubmit` event, a `REVIEW` label an `onReview` one, for every webhook activated on its
//! project that handles the event), then taken by the delivery threads, which log every
//! attempt here. Label updates cause no delivery.

use std::time::Instant;

use super::changes::Change;
use super::data::Data;
use super::error::StoreError;
use super::hook_payload::body;
use super::hooks::{DeliveryRec, HandlerType, PluginLogRec, PluginRec};
use super::kinds::LabelType;
use super::records::LabelRec;
use super::state::ServerState;

/// Returns the change that records the deliveries these new labels cause, made at `now`, if any.
pub(super) fn deliveries_for(d: &mut Data, labels: &[LabelRec], now: i64) -> Option<Change> {
    let mut deliveries = Vec::new();
    for label in labels {
        let event = match label.label_type {
            LabelType::Default => HandlerType::Submit,
            LabelType::Review => HandlerType::Review,
            _ => continue,
        };
        let hooks: Vec<String> = d
            .hooks
            .plugins
            .iter()
            .filter(|p| p.project_ids.contains(&label.project_id))
            .filter(|p| p.handler_types.contains(&event))
            .map(|p| p.id.clone())
            .collect();
        for plugin_id in hooks {
            let id = d.new_id(now);
            deliveries.push(DeliveryRec {
                body: body(event, &id, label),
                id,
                seq: d.hooks.next_seq(),
                plugin_id,
                project_id: label.project_id.clone(),
                asset_id: label.asset_id.clone(),
                label_id: label.id.clone(),
                event_type: event,
                created_at: now,
            });
        }
    }
    (!deliveries.is_empty()).then_some(Change::WebhookDeliveries { deliveries })
}

/// What a delivery attempt came to, for the log.
#[derive(Debug)]
pub(crate) struct AttemptLog {
    /// `INFO` or `ERROR`.
    pub(crate) log_type: &'static str,
    pub(crate) content: String,
    /// Whether the delivery is over (delivered, given up or dropped).
    pub(crate) done: bool,
}

impl ServerState {
    /// Returns how many webhook deliveries are pending (not yet delivered nor given up).
    pub fn pending_webhook_deliveries(&self) -> usize {
        self.read().hooks.pending.len()
    }

    /// Returns the ids of every webhook.
    pub(crate) fn webhook_ids(&self) -> Vec<String> {
        self.read()
            .hooks
            .plugins
            .iter()
            .map(|p| p.id.clone())
            .collect()
    }

    /// Returns a webhook (as it is now) and its pending deliveries, oldest first (only the
    /// oldest unless `all`); `None` once it is deleted.
    pub(crate) fn webhook_work(
        &self,
        plugin_id: &str,
        all: bool,
    ) -> Option<(PluginRec, Vec<DeliveryRec>)> {
        let d = self.read();
        let plugin = d.hooks.by_id(plugin_id)?.clone();
        let pending = d
            .hooks
            .pending
            .values()
            .filter(|x| x.plugin_id == plugin_id)
            .take(if all { usize::MAX } else { 1 })
            .cloned()
            .collect();
        Some((plugin, pending))
    }

    /// Logs an attempt at `delivery` (stamped now); a `done` one ends it. Nothing is logged if
    /// the delivery was dropped meanwhile (its webhook deactivated or deleted during the attempt):
    /// the log ends with why it was dropped.
    ///
    /// # Errors
    ///
    /// When the journal cannot be written: nothing is recorded.
    pub(crate) fn record_webhook_attempt(
        &self,
        delivery: &DeliveryRec,
        attempt: AttemptLog,
    ) -> Result<(), StoreError> {
        let mut d = self.write();
        if d.hooks
            .pending
            .get(&delivery.seq)
            .is_none_or(|p| p.id != delivery.id)
        {
            return Ok(());
        }
        let log = PluginLogRec {
            plugin_id: delivery.plugin_id.clone(),
            project_id: delivery.project_id.clone(),
            run_id: delivery.id.clone(),
            created_at: d.now(),
            log_type: attempt.log_type.to_owned(),
            content: attempt.content,
            asset_id: delivery.asset_id.clone(),
            label_id: delivery.label_id.clone(),
        };
        let done = attempt.done;
        self.commit(&mut d, &[Change::WebhookAttempt { log, done }])
    }

    /// Returns how many times the webhook doorbell has rung.
    pub(crate) fn outbox_rings(&self) -> u64 {
        self.inner.outbox.rings()
    }

    /// Rings the webhook doorbell: the delivery threads look at their work again.
    pub(crate) fn ring_outbox(&self) {
        self.inner.outbox.ring();
    }

    /// Waits until the webhook doorbell rings after `seen` rings, or `deadline`.
    pub(crate) fn wait_outbox(&self, seen: u64, deadline: Option<Instant>) -> u64 {
        self.inner.outbox.wait(seen, deadline)
    }
}
