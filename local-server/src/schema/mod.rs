//! The GraphQL schema, executed by async-graphql: type, field, argument and input names match
//! Kili's (`Query`, `Mutation`, `Subscription`, `PageSize`, `ProjectWhere`, `projectID`, ...).

pub(crate) mod enums;
mod filters;
mod inputs;
mod label_mutation;
mod mutation;
mod objects;
mod query;
mod subscription;

use async_graphql::{Context, Error, ErrorExtensions, Result, Schema};

use super::settings::LabelSettings;
use super::store::{ServerState, StoreError, UserRec};
use mutation::MutationRoot;
use query::QueryRoot;
use subscription::SubscriptionRoot;

/// The executable schema.
pub(crate) type KiliSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Deepest selection accepted (the SDK's introspection query needs 13).
pub(crate) const MAX_DEPTH: usize = 16;
/// Largest query complexity accepted (introspection costs a few hundred).
pub(crate) const MAX_COMPLEXITY: usize = 2_000;

/// The authenticated user of a request, put in its data by the transport.
#[derive(Clone, Debug)]
pub(crate) struct Viewer(pub(crate) UserRec);

/// Builds the schema over a store, with the server's label settings.
pub(crate) fn build(state: ServerState, settings: LabelSettings) -> KiliSchema {
    Schema::build(QueryRoot, MutationRoot::default(), SubscriptionRoot)
        .data(state)
        .data(settings)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// The version `GET /version` reports: the crate version and a hash of the schema's SDL, so it
/// changes whenever the schema does (the SDK caches the schema under this name).
pub(crate) fn version(schema: &KiliSchema) -> String {
    // FNV-1a, 64 bits: stable across runs and platforms, unlike std's hasher.
    let hash = schema
        .sdl()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("{}-local.{hash:016x}", env!("CARGO_PKG_VERSION"))
}

fn state<'a>(ctx: &Context<'a>) -> Result<&'a ServerState> {
    ctx.data::<ServerState>()
}

fn label_settings<'a>(ctx: &Context<'a>) -> Result<&'a LabelSettings> {
    ctx.data::<LabelSettings>()
}

fn viewer<'a>(ctx: &Context<'a>) -> Result<&'a UserRec> {
    ctx.data::<Viewer>().map(|v| &v.0).map_err(|_| {
        Error::new("[unauthenticated] no valid API key")
            .extend_with(|_, e| e.set("code", "UNAUTHENTICATED"))
    })
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn bad_input(message: impl Into<String>) -> Error {
    Error::new(message).extend_with(|_, e| e.set("code", "BAD_USER_INPUT"))
}

fn no_access(what: &str, id: &str) -> Error {
    store_error(StoreError::no_access(what, id))
}

fn store_error(e: StoreError) -> Error {
    Error::new(e.message).extend_with(|_, ext| ext.set("code", e.code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdl_has_kili_names() {
        let sdl = build(ServerState::new(), LabelSettings::DEFAULT).sdl();
        for needle in [
            "type Query",
            "type Mutation",
            "type Subscription",
            "scalar PageSize",
            "input ProjectWhere",
            "input AssetWhere",
            "input LabelWhere",
            "input CreateProjectData",
            "input AppendManyAssetsData",
            "input AppendManyToDatasetData",
            "input AppendManyLabelsData",
            "input AppendToLabelsData",
            "input LabelData",
            "updatePropertiesInLabel(where: LabelWhere!, data: LabelData!): Label",
            "deleteLabels(ids: [ID!]!): [ID!]!",
            "version: Int!",
            "updatedAt: String!",
            "isSentBackToQueue: Boolean!",
            "input ApiKeyWhere",
            "input UserWhere",
            "labelCreatedOrUpdated(projectID: ID!): Label!",
            "filterExistingAssets(projectID: ID!, externalIDs: [String!]!): [String!]!",
            "externalIDArray: [String!]",
            "assetID: ID!",
        ] {
            assert!(sdl.contains(needle), "missing {needle:?} in\n{sdl}");
        }
    }

    #[test]
    fn version_is_stable_and_names_the_schema() {
        let a = version(&build(ServerState::new(), LabelSettings::DEFAULT));
        assert_eq!(
            a,
            version(&build(ServerState::new(), LabelSettings::DEFAULT))
        );
        assert!(a.contains("-local."));
    }
}
