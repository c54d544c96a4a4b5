//! [`Hooks`]: the webhooks (Kili's plugins of the webhook kind) of the one organization, their
//! activations on projects, the deliveries still pending, and the log of every attempt; as
//! written to the data file and applied by [`changes`](super::changes).
//!
//! A delivery is recorded when the label that causes it is written (in the same journal line),
//! and leaves the pending list when it is delivered or given up (an attempt marked `done`), so
//! a server restarted on its data file resumes the deliveries it had not finished.

use std::collections::{BTreeMap, HashMap, VecDeque};

use async_graphql::Enum;
use serde::{Deserialize, Serialize};

/// How many log lines are kept per webhook and project (the oldest go first).
pub(crate) const MAX_LOGS: usize = 1000;

/// The events a webhook receives (`PluginHandlerType`): `onSubmit`, `onReview`, ...
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[graphql(name = "PluginHandlerType")]
pub(crate) enum HandlerType {
    /// A `DEFAULT` label was submitted.
    #[graphql(name = "onSubmit")]
    #[serde(rename = "onSubmit")]
    Submit,
    /// A `REVIEW` label was submitted.
    #[graphql(name = "onReview")]
    #[serde(rename = "onReview")]
    Review,
    /// Not emulated: refused at registration.
    #[graphql(name = "onCustomInterfaceClick")]
    #[serde(rename = "onCustomInterfaceClick")]
    CustomInterfaceClick,
    /// Not emulated: refused at registration.
    #[graphql(name = "onSendBackToQueue")]
    #[serde(rename = "onSendBackToQueue")]
    SendBackToQueue,
}

impl HandlerType {
    /// Returns the name on the wire (`onSubmit`, ...), the `eventType` of a delivery.
    pub(crate) fn wire_name(self) -> &'static str {
        match self {
            HandlerType::Submit => "onSubmit",
            HandlerType::Review => "onReview",
            HandlerType::CustomInterfaceClick => "onCustomInterfaceClick",
            HandlerType::SendBackToQueue => "onSendBackToQueue",
        }
    }
}

/// A webhook: where its events go, and the projects it is activated on.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PluginRec {
    pub(crate) id: String,
    /// Unique in the organization.
    pub(crate) name: String,
    pub(crate) webhook_url: String,
    /// Sent as the `Authorization` header of every POST.
    pub(crate) header: Option<String>,
    pub(crate) handler_types: Vec<HandlerType>,
    /// Project ids, in activation order.
    pub(crate) project_ids: Vec<String>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

/// A POST still to be made: its body is fixed when the event happens.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct DeliveryRec {
    /// The `runId` of the body, the same for every attempt.
    pub(crate) id: String,
    /// Creation order within the store: the order of deliveries to one webhook.
    pub(crate) seq: u64,
    pub(crate) plugin_id: String,
    pub(crate) project_id: String,
    pub(crate) asset_id: String,
    pub(crate) label_id: String,
    pub(crate) event_type: HandlerType,
    pub(crate) created_at: i64,
    /// The JSON body, as sent.
    pub(crate) body: String,
}

/// One line of a webhook's log on a project (`getPluginLogs`): an attempt, or why a delivery
/// was dropped.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PluginLogRec {
    pub(crate) plugin_id: String,
    pub(crate) project_id: String,
    pub(crate) run_id: String,
    pub(crate) created_at: i64,
    /// `INFO` (delivered) or `ERROR` (failed, given up or dropped).
    pub(crate) log_type: String,
    pub(crate) content: String,
    pub(crate) asset_id: String,
    pub(crate) label_id: String,
}

/// The webhooks of the organization and their deliveries.
#[derive(Debug, Default)]
pub(crate) struct Hooks {
    /// In creation order.
    pub(crate) plugins: Vec<PluginRec>,
    /// Pending deliveries by `seq`.
    pub(crate) pending: BTreeMap<u64, DeliveryRec>,
    /// The `seq` of each pending delivery, by its id (`runId`).
    by_run: HashMap<String, u64>,
    /// Per (plugin id, project id): the latest [`MAX_LOGS`] lines, oldest first.
    pub(crate) logs: HashMap<(String, String), VecDeque<PluginLogRec>>,
    last_seq: u64,
}

impl Hooks {
    /// Returns the webhook with this name.
    pub(crate) fn by_name(&self, name: &str) -> Option<&PluginRec> {
        self.plugins.iter().find(|p| p.name == name)
    }

    /// Returns the webhook with this id.
    pub(crate) fn by_id(&self, id: &str) -> Option<&PluginRec> {
        self.plugins.iter().find(|p| p.id == id)
    }

    /// Takes the next delivery sequence number.
    pub(super) fn next_seq(&mut self) -> u64 {
        self.last_seq += 1;
        self.last_seq
    }

    /// Adds a webhook, or replaces the one with its id.
    pub(super) fn put(&mut self, p: &PluginRec) {
        match self.plugins.iter_mut().find(|x| x.id == p.id) {
            Some(slot) => *slot = p.clone(),
            None => self.plugins.push(p.clone()),
        }
    }

    /// Removes a webhook with its pending deliveries and logs.
    pub(super) fn remove(&mut self, id: &str) {
        self.plugins.retain(|p| p.id != id);
        self.drop_pending(|d| d.plugin_id == id);
        self.logs.retain(|(plugin, _), _| plugin != id);
    }

    /// Drops the pending deliveries `gone` selects.
    fn drop_pending(&mut self, gone: impl Fn(&DeliveryRec) -> bool) {
        let by_run = &mut self.by_run;
        self.pending.retain(|_, d| {
            let keep = !gone(d);
            if !keep {
                by_run.remove(&d.id);
            }
            keep
        });
    }

    /// Adds pending deliveries.
    pub(super) fn add(&mut self, deliveries: &[DeliveryRec]) {
        for d in deliveries {
            self.last_seq = self.last_seq.max(d.seq);
            self.by_run.insert(d.id.clone(), d.seq);
            self.pending.insert(d.seq, d.clone());
        }
    }

    /// Logs an attempt; a `done` one ends its delivery.
    pub(super) fn attempt(&mut self, log: &PluginLogRec, done: bool) {
        if done && let Some(seq) = self.by_run.remove(&log.run_id) {
            self.pending.remove(&seq);
        }
        let lines = self
            .logs
            .entry((log.plugin_id.clone(), log.project_id.clone()))
            .or_default();
        lines.push_back(log.clone());
        while lines.len() > MAX_LOGS {
            lines.pop_front();
        }
    }

    /// Forgets a deleted project: its activations, pending deliveries and logs.
    pub(super) fn remove_project(&mut self, project_id: &str) {
        for p in &mut self.plugins {
            p.project_ids.retain(|id| id != project_id);
        }
        self.drop_pending(|d| d.project_id == project_id);
        self.logs.retain(|(_, project), _| project != project_id);
    }
}
