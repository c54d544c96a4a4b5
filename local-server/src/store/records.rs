//! The records the store keeps: users, projects, assets and labels, as written to the data
//! file (serde) and read by the schema. Plain data: their indices are [`Data`](super::Data)'s.

use serde::{Deserialize, Serialize};

use super::kinds::{AssetStatus, InputType, LabelType};

/// A user and their one API key.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct UserRec {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) api_key: String,
    pub(crate) api_key_id: String,
    pub(crate) firstname: String,
    pub(crate) lastname: String,
    pub(crate) created_at: i64,
}

/// A project; it belongs to the user who created it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ProjectRec {
    pub(crate) id: String,
    pub(crate) owner_id: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) input_type: InputType,
    pub(crate) json_interface: String,
    pub(crate) compliance_tags: Vec<String>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

/// Width and height of an asset.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Resolution {
    pub(crate) width: i32,
    pub(crate) height: i32,
}

/// Width, height and rotation of one page of a document.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PageResolution {
    pub(crate) page_number: i32,
    pub(crate) width: i32,
    pub(crate) height: i32,
    pub(crate) rotation: i32,
}

/// An asset of a project.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct AssetRec {
    pub(crate) id: String,
    /// Insertion order within the store, unique: the order of `assets` pages.
    pub(crate) seq: u64,
    pub(crate) project_id: String,
    pub(crate) content: String,
    pub(crate) external_id: String,
    pub(crate) json_content: String,
    pub(crate) json_metadata: String,
    pub(crate) is_honeypot: bool,
    pub(crate) status: AssetStatus,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    #[serde(default)]
    pub(crate) priority: i32,
    #[serde(default)]
    pub(crate) consensus_mark: Option<f64>,
    #[serde(default)]
    pub(crate) honeypot_mark: Option<f64>,
    #[serde(default)]
    pub(crate) is_used_for_consensus: bool,
    /// User ids.
    #[serde(default)]
    pub(crate) to_be_labeled_by: Vec<String>,
    #[serde(default)]
    pub(crate) resolution: Option<Resolution>,
    #[serde(default)]
    pub(crate) page_resolutions: Vec<PageResolution>,
}

/// A label of an asset. Records are immutable once shared: an update replaces the `Arc`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct LabelRec {
    pub(crate) id: String,
    /// Insertion order within the store, unique: what "newer" means for labels, since many
    /// labels can share a `created_at`.
    pub(crate) seq: u64,
    pub(crate) project_id: String,
    pub(crate) asset_id: String,
    pub(crate) author_id: String,
    pub(crate) label_type: LabelType,
    pub(crate) json_response: String,
    pub(crate) created_at: i64,
    /// Equals `created_at` until the first update; never before it.
    pub(crate) updated_at: i64,
    /// 0 at creation, +1 per update.
    pub(crate) version: i32,
    pub(crate) is_sent_back_to_queue: bool,
    pub(crate) model_name: Option<String>,
    pub(crate) seconds_to_label: Option<f64>,
    pub(crate) skipped: bool,
    pub(crate) client_version: Option<i32>,
    pub(crate) referenced_label_id: Option<String>,
}

/// Returns whether a JSON-valued field (`jsonResponse`, `jsonMetadata`, ...) holds JSON.
pub(super) fn is_json(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok()
}
