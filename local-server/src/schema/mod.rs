//! The GraphQL schema, executed by async-graphql: type, field, argument and input names match
//! Kili's (`Query`, `Mutation`, `Subscription`, `PageSize`, `ProjectWhere`, `projectID`, ...).

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

/// What the organization's license allows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OrgSettings {
    /// `license.uploadLocalData`.
    pub(crate) upload_local_data: bool,
}

impl Default for OrgSettings {
    fn default() -> Self {
        OrgSettings {
            upload_local_data: true,
        }
    }
}

/// `http://host:port` of the server as bound: where signed URLs point when a request does not
/// say how the client reached the server.
#[derive(Clone, Debug)]
pub(crate) struct ServerOrigin(pub(crate) String);

/// `http://host:port` as the client reached the server (its `Host` header), put in a request's
/// data by the transport: signed URLs point there, so they work behind a port mapping.
#[derive(Clone, Debug)]
pub(crate) struct RequestOrigin(pub(crate) String);

/// Builds the schema over a store, with the server's settings.
pub(crate) fn build(
    state: ServerState,
    settings: LabelSettings,
    org: OrgSettings,
    origin: ServerOrigin,
) -> KiliSchema {
    Schema::build(QueryRoot, MutationRoot::default(), SubscriptionRoot)
        .data(state)
        .data(settings)
        .data(org)
        .data(origin)
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

fn org_settings<'a>(ctx: &Context<'a>) -> Result<&'a OrgSettings> {
    ctx.data::<OrgSettings>()
}

/// Where signed URLs point: the request's origin, else the server's.
fn request_origin(ctx: &Context<'_>) -> Result<String> {
    if let Some(o) = ctx.data_opt::<RequestOrigin>() {
        return Ok(o.0.clone());
    }
    Ok(ctx.data::<ServerOrigin>()?.0.clone())
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

    fn test_schema() -> KiliSchema {
        build(
            ServerState::new(),
            LabelSettings::DEFAULT,
            OrgSettings::default(),
            ServerOrigin("http://127.0.0.1:1".into()),
        )
    }

    #[test]
    fn sdl_has_kili_names() {
        let sdl = test_schema().sdl();
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
            "countOrganizations(where: OrganizationWhere!): Int!",
            "createUploadBucketSignedUrls(filePaths: [String!]): [String!]!",
            "updatePropertiesInAssets(where: [AssetWhere!]!, data: [AssetData!]!): [Asset!]!",
            "uploadLocalData: Boolean!",
        ] {
            assert!(sdl.contains(needle), "missing {needle:?} in\n{sdl}");
        }
    }

    #[test]
    fn version_is_stable_and_names_the_schema() {
        let a = version(&test_schema());
        assert_eq!(a, version(&test_schema()));
        assert!(a.contains("-local."));
    }
}
