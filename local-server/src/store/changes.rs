//! [`Change`]: one effect of a write, as written to the journal and applied to the data.
//!
//! A change carries results, not requests (ids, timestamps, versions and sequence numbers are
//! decided before it is made), so applying it is deterministic: a journal replays to the same
//! state.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::data::Data;
use super::files::FileRec;
use super::kinds::{AssetStatus, LabelType};
use super::paging::Epochs;
use super::records::{AssetRec, LabelRec, ProjectRec, UserRec};

/// One effect of a write.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Change {
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
        apply(self, change);
    }
}

fn apply(d: &mut Data, change: &Change) {
    match change {
        Change::User(u) => {
            d.last_ms = d.last_ms.max(u.created_at);
            if !d.users.iter().any(|x| x.id == u.id) {
                d.users.push(u.clone());
            }
        }
        Change::Project(p) => {
            d.last_ms = d.last_ms.max(p.updated_at);
            d.bump(Some(&p.id), others);
            d.projects.push(p.clone());
        }
        Change::DeleteProject { id } => {
            let assets: Vec<String> = d.assets_of_project(id).map(|a| a.id.clone()).collect();
            for a in assets {
                d.remove_asset(&a);
            }
            d.projects.retain(|p| &p.id != id);
            d.project_assets.remove(id);
            d.project_labels.remove(id);
            d.project_shuffled.remove(id);
            d.files.remove_project(id);
            d.bump(Some(id), others);
            d.project_epochs.remove(id);
        }
        Change::Assets { assets } => {
            for a in assets {
                d.last_ms = d.last_ms.max(a.updated_at);
                d.bump(Some(&a.project_id), asset_appends);
                d.insert_asset(a.clone());
            }
        }
        Change::UpdateAssets { assets } => {
            for a in assets {
                d.last_ms = d.last_ms.max(a.updated_at);
                d.bump(Some(&a.project_id), others);
                if let Some(slot) = d.assets.get_mut(&a.seq) {
                    *slot = a.clone();
                }
            }
        }
        Change::DeleteAssets { ids } => {
            for id in ids {
                if let Some(p) = d.asset(id).map(|a| a.project_id.clone()) {
                    d.bump(Some(&p), others);
                }
                d.remove_asset(id);
            }
        }
        Change::Labels {
            now,
            labels,
            replaced,
        } => {
            delete_labels(d, replaced);
            d.last_ms = d.last_ms.max(*now);
            for l in labels {
                d.last_ms = d.last_ms.max(l.updated_at);
                d.bump(Some(&l.project_id), label_appends);
                if let Some(seq) = d.asset_ids.get(&l.asset_id).copied()
                    && let Some(asset) = d.assets.get_mut(&seq)
                {
                    asset.updated_at = *now;
                    asset.status = match l.label_type {
                        LabelType::Default => AssetStatus::Labeled,
                        LabelType::Review => AssetStatus::Reviewed,
                        _ => asset.status,
                    };
                }
                d.insert_label(Arc::new(l.clone()));
            }
        }
        Change::UpdateLabel { label } => {
            d.last_ms = d.last_ms.max(label.updated_at);
            d.bump(Some(&label.project_id), others);
            if let Some(slot) = d.labels.get_mut(&label.seq) {
                *slot = Arc::new(label.clone());
            }
        }
        Change::DeleteLabels { ids } => delete_labels(d, ids),
        Change::File(f) => d.files.insert(f.clone()),
        Change::FileData {
            id,
            content_type,
            size,
        } => d.files.set_data(id, content_type.clone(), *size),
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
