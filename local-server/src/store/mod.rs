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
//! The bottom layer: from the rest of the crate it uses only `settings`, `time` and `error`.
//! Must not use `schema`, `shared`, `http` or `ws`, which all use it.

mod assets;
mod bucket;
mod changes;
mod created;
mod data;
mod durable;
mod error;
mod files;
mod ids;
mod journal;
mod kinds;
mod labels;
pub(crate) mod paging;
mod projects;
mod records;
mod state;
mod subscribers;
#[cfg(test)]
mod tests;
mod users;

pub(crate) use assets::{AssetUpdate, NewAsset};
pub(crate) use bucket::{BUCKET_PATH, BucketError, SIGNATURE};
pub(crate) use data::Data;
pub(crate) use error::StoreError;
pub(crate) use kinds::{AssetStatus, InputType, LabelType};
pub(crate) use labels::{Candidates, LabelUpdate, NewLabel, NewLabels};
pub(crate) use projects::NewProject;
pub(crate) use records::{AssetRec, LabelRec, PageResolution, ProjectRec, Resolution, UserRec};
pub use state::ServerState;
pub(crate) use subscribers::Overflowed;
