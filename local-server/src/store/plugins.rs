//! Webhook writes: register, update, activate on a project, deactivate, delete. Webhooks
//! belong to the organization (every user of the local server); activating one on a project
//! needs access to the project. The target URL is checked by the caller (the schema) against
//! the server's allow-list before it gets here.

use super::changes::Change;
use super::data::Data;
use super::error::StoreError;
use super::hooks::{HandlerType, PluginLogRec, PluginRec};
use super::state::ServerState;

/// A webhook to register, or the new settings of one.
#[derive(Debug, Clone)]
pub(crate) struct NewWebhook {
    pub(crate) name: String,
    pub(crate) webhook_url: String,
    pub(crate) header: Option<String>,
    pub(crate) handler_types: Vec<HandlerType>,
}

/// Returns the refusal for a name that no webhook has.
fn not_found(name: &str) -> StoreError {
    StoreError::new(
        "NOT_FOUND",
        format!("[pluginNotFound] no plugin is named {name:?} in the organization"),
    )
}

/// Returns the webhook named `name`, or the refusal.
fn named<'a>(d: &'a Data, name: &str) -> Result<&'a PluginRec, StoreError> {
    d.hooks.by_name(name).ok_or_else(|| not_found(name))
}

impl ServerState {
    /// Registers a webhook; its name must be new in the organization.
    pub(crate) fn create_webhook(&self, new: NewWebhook) -> Result<PluginRec, StoreError> {
        let mut d = self.write();
        if d.hooks.by_name(&new.name).is_some() {
            // The SDK recognizes Kili's duplicate message by this substring.
            return Err(StoreError::new(
                "ALREADY_EXISTS",
                format!(
                    "[pluginAlreadyExists] an entity Plugin already exists with value {:?}",
                    new.name
                ),
            ));
        }
        let now = d.now();
        let rec = PluginRec {
            id: d.new_id(now),
            name: new.name,
            webhook_url: new.webhook_url,
            header: new.header,
            handler_types: new.handler_types,
            project_ids: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        self.commit(&mut d, &[Change::WebhookPlugin(rec.clone())])?;
        Ok(rec)
    }

    /// Changes the URL, header and events of the webhook `new.name`. Pending deliveries go to
    /// the new URL, with the new header.
    pub(crate) fn update_webhook(&self, new: NewWebhook) -> Result<PluginRec, StoreError> {
        self.change_webhook(&new.name.clone(), |p| {
            p.webhook_url = new.webhook_url;
            p.header = new.header;
            p.handler_types = new.handler_types;
        })
    }

    /// Activates a webhook on one of `user_id`'s projects; activating it again changes nothing.
    pub(crate) fn activate_webhook(
        &self,
        user_id: &str,
        name: &str,
        project_id: &str,
    ) -> Result<PluginRec, StoreError> {
        if self.read().owned_project(user_id, project_id).is_none() {
            return Err(StoreError::no_access("project", project_id));
        }
        self.change_webhook(name, |p| {
            if !p.project_ids.iter().any(|id| id == project_id) {
                p.project_ids.push(project_id.to_owned());
            }
        })
    }

    /// Deactivates a webhook on one of `user_id`'s projects (a no-op if it was not active there);
    /// its deliveries still pending for that project are dropped, each with a log line.
    pub(crate) fn deactivate_webhook(
        &self,
        user_id: &str,
        name: &str,
        project_id: &str,
    ) -> Result<PluginRec, StoreError> {
        let mut d = self.write();
        if d.owned_project(user_id, project_id).is_none() {
            return Err(StoreError::no_access("project", project_id));
        }
        let mut rec = named(&d, name)?.clone();
        rec.project_ids.retain(|id| id != project_id);
        rec.updated_at = d.now();
        let mut changes = vec![Change::WebhookPlugin(rec.clone())];
        let dropped: Vec<_> = d
            .hooks
            .pending
            .values()
            .filter(|x| x.plugin_id == rec.id && x.project_id == project_id)
            .cloned()
            .collect();
        for delivery in dropped {
            changes.push(Change::WebhookAttempt {
                log: PluginLogRec {
                    plugin_id: rec.id.clone(),
                    project_id: delivery.project_id,
                    run_id: delivery.id,
                    created_at: rec.updated_at,
                    log_type: "ERROR".to_owned(),
                    content: "dropped: the plugin was deactivated on the project".to_owned(),
                    asset_id: delivery.asset_id,
                    label_id: delivery.label_id,
                },
                done: true,
            });
        }
        self.commit(&mut d, &changes)?;
        drop(d);
        self.ring_outbox();
        Ok(rec)
    }

    /// Deletes a webhook, its activations, pending deliveries and logs; returns it as it was.
    pub(crate) fn delete_webhook(&self, name: &str) -> Result<PluginRec, StoreError> {
        let mut d = self.write();
        let rec = named(&d, name)?.clone();
        self.commit(&mut d, &[Change::WebhookDeleted { id: rec.id.clone() }])?;
        drop(d);
        self.ring_outbox();
        Ok(rec)
    }

    /// Applies `edit` to the webhook named `name`, stamps it, and commits it.
    fn change_webhook(
        &self,
        name: &str,
        edit: impl FnOnce(&mut PluginRec),
    ) -> Result<PluginRec, StoreError> {
        let mut d = self.write();
        let mut rec = named(&d, name)?.clone();
        edit(&mut rec);
        rec.updated_at = d.now();
        self.commit(&mut d, &[Change::WebhookPlugin(rec.clone())])?;
        drop(d);
        self.ring_outbox();
        Ok(rec)
    }
}
