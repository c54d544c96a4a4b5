//! Typed models of Kili's objects: [`Project`], [`Asset`], [`Label`], [`Issue`], [`Plugin`],
//! [`PluginLog`] and their enums.
//!
//! Every model is read through methods of the same names (`id()`, `created_at()`,
//! `json_metadata()`, ...), keeps the fields it does not know in `extra()`, and decodes with
//! `from_json`, through `decode`; every enum has an `Other` variant, so values the server adds
//! later never break decoding. Kili sends JSON-valued fields (`jsonInterface`, `jsonMetadata`,
//! `jsonResponse`) as strings; projects and assets hold them parsed, as
//! [`serde_json::Value`]; a label keeps its `jsonResponse` as text ([`RawJson`]), parsed on
//! demand, since label events are the hot path.
//!
//! Uses nothing of the crate but its errors. This file only declares and re-exports.

mod asset;
mod decode;
mod enums;
mod issue;
mod label;
mod plugin;
mod project;
mod raw_json;

pub use self::asset::Asset;
pub use self::enums::{
    AssetStatus, InputType, IssueStatus, IssueType, LabelType, PluginLogType, WebhookHandler,
};
pub use self::issue::Issue;
pub(crate) use self::label::LabelFromText;
pub use self::label::{Label, User};
pub use self::plugin::{Plugin, PluginLog};
pub use self::project::Project;
pub use self::raw_json::RawJson;
