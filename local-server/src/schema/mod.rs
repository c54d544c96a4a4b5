//! The GraphQL schema, executed by async-graphql: type, field, argument and input names match
//! Kili's (`Query`, `Mutation`, `Subscription`, `PageSize`, `ProjectWhere`, `projectID`, ...).
//!
//! The roots (`query`, `mutation` with `label_mutation`, `subscription`) read their inputs
//! (`inputs`), check and match filters (`filters`), list through `listing`, and answer with
//! output objects (`objects`); `context` is what a resolver finds in its context, `errors` the
//! errors it returns, `build` the executable schema. Webhooks (`plugins`, with their types in
//! `plugin_types`), issues (`issues`, `issue_types`) and the status-moving asset actions
//! (`asset_actions`) are roots of their own, merged into `Query` and `Mutation`.
//!
//! Uses the store (records and writes), `settings`, `webhook_targets` and `time`. Must not use
//! `shared`, `http`, `ws` or the listener: they sit above it, execute it, and put the request's
//! user ([`Viewer`]) and origin ([`RequestOrigin`]) in its data. Doc comments on GraphQL types,
//! fields and arguments are the schema's descriptions: changing one changes the introspection
//! output and the version hash.

mod asset_actions;
mod budget;
mod build;
mod context;
mod errors;
mod filters;
mod inputs;
mod issue_types;
mod issues;
mod label_mutation;
mod limits;
mod listing;
mod mutation;
mod objects;
mod plugin_types;
mod plugins;
mod query;
mod subscription;

pub(crate) use build::{KiliSchema, build, version};
pub(crate) use context::{OrgSettings, RequestOrigin, ServerOrigin, Viewer};
pub(crate) use subscription::OVERFLOW_CODE;
