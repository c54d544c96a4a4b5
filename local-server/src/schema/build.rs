//! The executable schema: built once per server over its store and settings, with the limits
//! on depth and complexity, and its version, a hash of its SDL.

use async_graphql::Schema;

use super::budget::Budget;
use super::context::{OrgSettings, ServerOrigin};
use super::mutation::MutationRoot;
use super::query::QueryRoot;
use super::subscription::SubscriptionRoot;
use crate::settings::LabelSettings;
use crate::store::ServerState;
use crate::webhook_targets::WebhookTargets;

/// The executable schema.
pub(crate) type KiliSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Deepest selection accepted (the SDK's introspection query needs 13).
pub(crate) const MAX_DEPTH: usize = 16;
/// Largest query complexity accepted (introspection costs a few hundred).
pub(crate) const MAX_COMPLEXITY: usize = 2_000;

/// Builds the schema over a store, with the server's settings and the targets its webhooks may
/// POST to.
pub(crate) fn build(
    state: ServerState,
    settings: LabelSettings,
    org: OrgSettings,
    origin: ServerOrigin,
    targets: WebhookTargets,
) -> KiliSchema {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .data(state)
    .data(settings)
    .data(org)
    .data(origin)
    .data(targets)
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .extension(Budget)
    .finish()
}

/// Returns the version `GET /version` reports: the crate version and a hash of the schema's SDL, so
/// it changes whenever the schema does (the SDK caches the schema under this name).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn test_schema() -> KiliSchema {
        build(
            ServerState::new(),
            LabelSettings::DEFAULT,
            OrgSettings::default(),
            ServerOrigin("http://127.0.0.1:1".into()),
            WebhookTargets::default(),
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
            "createWebhook(data: WebhookData!): String!",
            "activatePluginOnProject(where: PluginProjectWhere!): String!",
            "getPluginLogs(data: PluginLogsData!): [PluginLog!]!",
            "listPlugins: [Plugin!]!",
            "countPlugins(where: PluginWhere!): Int!",
            "enum PluginHandlerType",
            "scalar DateTime",
            "createIssues(issues: [IssueToCreate!]!, where: AssetWhere!): [Issue!]!",
            "issues(where: IssueWhere!, first: PageSize, skip: Int): [Issue!]!",
            "countIssues(where: IssueWhere!): Int!",
            "sendAssetsBackToQueue(where: AssetWhere!): AssetActionOutcome!",
            "search: JSON!",
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
