//! The server's state: users, projects, assets, labels, uploaded files, and the label
//! subscribers.
//!
//! Everything lives in memory behind `parking_lot` locks, indexed so that every read of one
//! object and every page of a listing costs in proportion to what it returns (see [`paging`]).
//! Every write is validated as a whole first, then expressed as changes, which are written to
//! the journal when there is one (`journal`) and only then applied: replaying a journal applies
//! the same changes in the same way, so a restarted server has the same ids, timestamps,
//! versions and order. A rejected write leaves no trace.
//!
//! Inside: [`ServerState`] (`state`) holds [`Data`] (`data`: the records and their indices);
//! every write is a `ServerState` method in the file named after what it writes (`users`,
//! `projects`, `assets`, `labels`, `bucket`), and commits changes (`changes`: what a write is,
//! and how it applies).
//!
//! Webhooks (`hooks`: records; `plugins`: writes; `deliveries`: what label writes cause and
//! what the delivery threads record, with `hook_payload`, the body they send, and `outbox`,
//! the doorbell that wakes them), issues (`issues`, `issue_writes`), the status-moving asset
//! actions (`asset_actions`) and a label's `search` counts (`search`) follow the same rules.
//!
//! The bottom layer: from the rest of the crate it uses only `settings`, `time` and `error`.
//! Must not use `schema`, `shared`, `http` or `ws`, which all use it.

mod asset_actions;
mod assets;
mod bucket;
mod changes;
mod created;
mod data;
mod deliveries;
mod durable;
mod error;
mod files;
mod hook_payload;
mod hooks;
mod ids;
mod issue_writes;
mod issues;
mod journal;
mod kinds;
mod labels;
mod outbox;
pub(crate) mod paging;
mod plugins;
mod projects;
mod records;
mod search;
mod state;
mod subscribers;
#[cfg(test)]
mod tests;
mod users;

pub(crate) use asset_actions::{ActionOutcome, AssetAction};
pub(crate) use assets::{AssetUpdate, NewAsset};
pub(crate) use bucket::{BUCKET_PATH, BucketError, SIGNATURE};
pub(crate) use data::Data;
pub(crate) use deliveries::AttemptLog;
pub(crate) use error::StoreError;
pub(crate) use hooks::{DeliveryRec, HandlerType, PluginLogRec, PluginRec};
pub(crate) use issue_writes::NewIssue;
pub(crate) use issues::{CommentRec, IssueRec, IssueStatus, IssueType};
pub(crate) use kinds::{AssetStatus, InputType, LabelType};
pub(crate) use labels::{Candidates, LabelUpdate, NewLabel, NewLabels};
pub(crate) use plugins::NewWebhook;
pub(crate) use projects::NewProject;
pub(crate) use records::{AssetRec, LabelRec, PageResolution, ProjectRec, Resolution, UserRec};
pub(crate) use search::label_search;
pub use state::ServerState;
pub(crate) use subscribers::Overflowed;
