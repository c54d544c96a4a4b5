//! [`Change`]: one effect of a write, as written to the journal and applied to the data.
//!
//! A change carries results, not requests (ids, timestamps, versions and sequence numbers are
//! decided before it is made), so applying it is deterministic: a journal replays to the same
//! state.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::data::Data;
use super::files::FileRec;
use super::hooks::{DeliveryRec, PluginLogRec, PluginRec};
use super::issues::IssueRec;
use super::kinds::{AssetStatus, LabelType};
use super::paging::Epochs;
use super::records::{AssetRec, LabelRec, ProjectRec, UserRec};

/// One effect of a write.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Change {
    /// A new user, or a user's new key (the same id).
    User(UserRec),
    Project(ProjectRec),
    DeleteProject {
        id: String,
    },
    /// New assets.
    Assets {
        assets: Vec<AssetRec>,
    },
    /// Assets replaced by these new versions (same ids and places).
    UpdateAssets {
        assets: Vec<AssetRec>,
    },
    DeleteAssets {
        ids: Vec<String>,
    },
    /// New labels, created at `now`: their assets' `updatedAt` becomes `now` and their status
    /// follows the label type. `replaced` labels are deleted first (`overwrite`).
    Labels {
        now: i64,
        labels: Vec<LabelRec>,
        #[serde(default)]
        replaced: Vec<String>,
    },
    /// A label replaced by this new version (same id and place).
    UpdateLabel {
        label: LabelRec,
    },
    DeleteLabels {
        ids: Vec<String>,
    },
    /// A signed upload URL was handed out for this file.
    File(FileRec),
    /// The file's content was uploaded.
    FileData {
        id: String,
        content_type: Option<String>,
        size: u64,
    },
    /// A webhook created, updated, activated or deactivated: its new version.
    WebhookPlugin(PluginRec),
    /// A webhook deleted, with its pending deliveries and logs.
    WebhookDeleted {
        id: String,
    },
    /// Deliveries to make, caused by the labels of the same write.
    WebhookDeliveries {
        deliveries: Vec<DeliveryRec>,
    },
    /// An attempt (or a dropped delivery), logged; `done` ends the delivery.
    WebhookAttempt {
        log: PluginLogRec,
        done: bool,
    },
    /// Issues created, or replaced by these new versions (same ids).
    Issues {
        issues: Vec<IssueRec>,
    },
}

fn others(e: &mut Epochs) {
    e.others += 1;
}

fn label_appends(e: &mut Epochs) {
    e.label_appends += 1;
}

fn asset_appends(e: &mut Epochs) {
    e.asset_appends += 1;
}

impl Data {
    /// Applies one change: the only way data changes, live or when a journal is replayed.
    pub(crate) fn apply(&mut self, change: &Change) {
        match change {
            Change::User(u) => add_user(self, u),
            Change::Project(p) => add_project(self, p),
            Change::DeleteProject { id } => delete_project(self, id),
            Change::Assets { assets } => add_assets(self, assets),
            Change::UpdateAssets { assets } => replace_assets(self, assets),
            Change::DeleteAssets { ids } => delete_assets(self, ids),
            Change::Labels {
                now,
                labels,
                replaced,
            } => {
                delete_labels(self, replaced);
                add_labels(self, *now, labels);
            }
            Change::UpdateLabel { label } => replace_label(self, label),
            Change::DeleteLabels { ids } => delete_labels(self, ids),
            Change::File(f) => self.files.insert(f.clone()),
            Change::FileData {
                id,
                content_type,
                size,
            } => self.files.set_data(id, content_type.clone(), *size),
            Change::WebhookPlugin(p) => {
                self.see_time(p.updated_at);
                self.hooks.put(p);
            }
            Change::WebhookDeleted { id } => self.hooks.remove(id),
            Change::WebhookDeliveries { deliveries } => self.hooks.add(deliveries),
            Change::WebhookAttempt { log, done } => {
                self.see_time(log.created_at);
                self.hooks.attempt(log, *done);
            }
            Change::Issues { issues } => put_issues(self, issues),
        }
    }
}

/// Adds a user, or replaces the one with the same id (a new key).
fn add_user(d: &mut Data, u: &UserRec) {
    d.see_time(u.created_at);
    match d.users.iter_mut().find(|x| x.id == u.id) {
        Some(existing) => *existing = u.clone(),
        None => d.users.push(u.clone()),
    }
}

fn add_project(d: &mut Data, p: &ProjectRec) {
    d.see_time(p.updated_at);
    d.bump(Some(&p.id), others);
    d.projects.push(p.clone());
}

/// Removes a project with its assets (and their labels), its indices and its files.
fn delete_project(d: &mut Data, id: &str) {
    let assets: Vec<String> = d.assets_of_project(id).map(|a| a.id.clone()).collect();
    for a in assets {
        d.remove_asset(&a);
    }
    d.projects.retain(|p| p.id != id);
    d.project_assets.remove(id);
    d.project_labels.remove(id);
    d.project_shuffled.remove(id);
    d.created.remove_project(id);
    d.files.remove_project(id);
    d.hooks.remove_project(id);
    d.issues.remove_project(id);
    d.bump(Some(id), others);
    d.project_epochs.remove(id);
}

fn add_assets(d: &mut Data, assets: &[AssetRec]) {
    for a in assets {
        d.see_time(a.updated_at);
        d.bump(Some(&a.project_id), asset_appends);
        d.insert_asset(a.clone());
    }
}

/// Puts each new version in its asset's place.
fn replace_assets(d: &mut Data, assets: &[AssetRec]) {
    for a in assets {
        d.see_time(a.updated_at);
        d.bump(Some(&a.project_id), others);
        if let Some(slot) = d.assets.get_mut(&a.seq) {
            *slot = a.clone();
        }
    }
}

fn delete_assets(d: &mut Data, ids: &[String]) {
    for id in ids {
        if let Some(p) = d.asset(id).map(|a| a.project_id.clone()) {
            d.bump(Some(&p), others);
        }
        d.remove_asset(id);
    }
}

/// Adds labels created at `now`: their assets' `updatedAt` becomes `now`, and their status
/// follows the label type (`DEFAULT`: LABELED, `REVIEW`: REVIEWED, `AUTOSAVE`: ONGOING if it
/// was TODO).
fn add_labels(d: &mut Data, now: i64, labels: &[LabelRec]) {
    d.see_time(now);
    for l in labels {
        d.see_time(l.updated_at);
        d.bump(Some(&l.project_id), label_appends);
        if let Some(asset) = d.asset_mut(&l.asset_id) {
            asset.updated_at = now;
            asset.status = match l.label_type {
                LabelType::Default => AssetStatus::Labeled,
                LabelType::Review => AssetStatus::Reviewed,
                // A label in progress: the asset is no longer to do.
                LabelType::Autosave if asset.status == AssetStatus::Todo => AssetStatus::Ongoing,
                _ => asset.status,
            };
        }
        d.insert_label(Arc::new(l.clone()));
    }
}

/// Puts the new version in the label's place.
fn replace_label(d: &mut Data, label: &LabelRec) {
    d.see_time(label.updated_at);
    d.bump(Some(&label.project_id), others);
    if let Some(slot) = d.labels.get_mut(&label.seq) {
        *slot = Arc::new(label.clone());
    }
}

fn delete_labels(d: &mut Data, ids: &[String]) {
    let mut touched = Vec::new();
    for id in ids {
        if let Some(l) = d.remove_label(id) {
            d.bump(Some(&l.project_id), others);
            touched.push((l.asset_id.clone(), l.author_id.clone()));
        }
    }
    touched.sort();
    touched.dedup();
    for (asset, author) in touched {
        d.recompute_latest(&asset, &author);
    }
}

/// Adds or replaces issues; they change which assets an `issue` filter matches.
fn put_issues(d: &mut Data, issues: &[IssueRec]) {
    for i in issues {
        d.see_time(i.updated_at);
        d.bump(Some(&i.project_id), others);
    }
    d.issues.put(issues);
}
