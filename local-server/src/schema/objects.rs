//! GraphQL output objects, named as Kili's: `User`, `ApiKey`, `Project`, `ProjectUser`, `Asset`,
//! `Label` and small helpers. JSON-valued fields are strings, as on Kili.

use std::sync::Arc;

use async_graphql::{Context, ID, Json, Object, Result, SimpleObject};

use super::context::state;
use crate::store::{
    AssetRec, AssetStatus, InputType, LabelRec, LabelType, ProjectRec, UserRec, label_search,
};
use crate::time::format_ms;

/// The id of the local server's one organization, which every user belongs to.
pub(crate) const ORGANIZATION_ID: &str = "local";

/// What one element of a list whose length the client does not choose (an asset's labels) costs
/// in a query's complexity, as a multiple of the element's own selection: lists nested in lists
/// multiply, so `Asset.labels { labelOf { labels ... } }` cannot hide a power of the list's
/// length behind a cost of a few fields.
pub(crate) const LIST_COST: usize = 10;

/// How long a generated API key is valid (Kili keys default to a year).
const KEY_VALIDITY_MS: i64 = 365 * 86_400_000;

/// A user.
pub(crate) struct User(pub(crate) UserRec);

#[Object(name = "User")]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn firstname(&self) -> &str {
        &self.0.firstname
    }
    async fn lastname(&self) -> &str {
        &self.0.lastname
    }
    /// First name and last name.
    async fn name(&self) -> String {
        format!("{} {}", self.0.firstname, self.0.lastname)
    }
    async fn activated(&self) -> bool {
        true
    }
    async fn created_at(&self) -> String {
        format_ms(self.0.created_at)
    }
    async fn organization_id(&self) -> &str {
        ORGANIZATION_ID
    }
}

/// The one organization of the local server.
pub(crate) struct Organization {
    pub(crate) upload_local_data: bool,
}

#[Object(name = "Organization")]
impl Organization {
    async fn id(&self) -> ID {
        ID(ORGANIZATION_ID.to_owned())
    }
    async fn name(&self) -> &str {
        "Local organization"
    }
    async fn license(&self) -> OrganizationLicense {
        OrganizationLicense {
            upload_local_data: self.upload_local_data,
        }
    }
}

/// What the organization's license allows (the part the SDK reads).
#[derive(SimpleObject)]
#[graphql(name = "OrganizationLicense")]
pub(crate) struct OrganizationLicense {
    /// Whether local files, raw text and JSON contents may be uploaded (the SDK checks it
    /// before importing them). See `LocalServerBuilder::upload_local_data`.
    upload_local_data: bool,
}

/// An API key (each local user has exactly one).
pub(crate) struct ApiKey(pub(crate) UserRec);

#[Object(name = "ApiKey")]
impl ApiKey {
    async fn id(&self) -> ID {
        ID(self.0.api_key_id.clone())
    }
    async fn key(&self) -> &str {
        &self.0.api_key
    }
    async fn name(&self) -> &str {
        "local"
    }
    async fn created_at(&self) -> String {
        format_ms(self.0.created_at)
    }
    /// `createdAt` plus 365 days, formatted `%Y-%m-%dT%H:%M:%S.%fZ` as the SDK requires.
    async fn expiry_date(&self) -> String {
        format_ms(self.0.created_at + KEY_VALIDITY_MS)
    }
    async fn revoked(&self) -> bool {
        false
    }
    async fn user_id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn user(&self) -> User {
        User(self.0.clone())
    }
}

/// A workflow step (local projects have none).
#[derive(SimpleObject)]
#[graphql(name = "ProjectStep")]
pub(crate) struct ProjectStep {
    id: ID,
    name: String,
}

/// A data connection (local projects have none).
#[derive(SimpleObject)]
#[graphql(name = "DataConnection")]
pub(crate) struct DataConnection {
    id: ID,
}

/// A member of a project; the local server has one per project, its owner, as `ADMIN`.
pub(crate) struct ProjectUser {
    project_id: String,
    user: UserRec,
}

#[Object(name = "ProjectUser")]
impl ProjectUser {
    async fn id(&self) -> ID {
        ID(format!("{}-{}", self.project_id, self.user.id))
    }
    async fn role(&self) -> &str {
        "ADMIN"
    }
    async fn activated(&self) -> bool {
        true
    }
    async fn user(&self) -> User {
        User(self.user.clone())
    }
}

/// A project.
pub(crate) struct Project(pub(crate) ProjectRec);

impl Project {
    fn count_assets(&self, ctx: &Context<'_>, pred: impl Fn(&AssetRec) -> bool) -> Result<i32> {
        let d = state(ctx)?.read();
        let n = d.assets_of_project(&self.0.id).filter(|a| pred(a)).count();
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }
}

#[Object(name = "Project")]
impl Project {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn input_type(&self) -> InputType {
        self.0.input_type
    }
    /// The interface, as a JSON string.
    async fn json_interface(&self) -> &str {
        &self.0.json_interface
    }
    async fn created_at(&self) -> String {
        format_ms(self.0.created_at)
    }
    async fn updated_at(&self) -> String {
        format_ms(self.0.updated_at)
    }
    async fn author(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(state(ctx)?.read().user(&self.0.owner_id).cloned().map(User))
    }
    async fn roles(&self, ctx: &Context<'_>) -> Result<Vec<ProjectUser>> {
        let d = state(ctx)?.read();
        Ok(d.user(&self.0.owner_id)
            .map(|u| ProjectUser {
                project_id: self.0.id.clone(),
                user: u.clone(),
            })
            .into_iter()
            .collect())
    }
    async fn compliance_tags(&self) -> &[String] {
        &self.0.compliance_tags
    }
    async fn number_of_assets(&self, ctx: &Context<'_>) -> Result<i32> {
        self.count_assets(ctx, |_| true)
    }
    async fn number_of_remaining_assets(&self, ctx: &Context<'_>) -> Result<i32> {
        self.count_assets(ctx, |a| {
            matches!(a.status, AssetStatus::Todo | AssetStatus::Ongoing)
        })
    }
    async fn number_of_reviewed_assets(&self, ctx: &Context<'_>) -> Result<i32> {
        self.count_assets(ctx, |a| a.status == AssetStatus::Reviewed)
    }
    async fn consensus_tot_coverage(&self) -> i32 {
        0
    }
    async fn min_consensus_size(&self) -> i32 {
        1
    }
    async fn review_coverage(&self) -> i32 {
        0
    }
    async fn max_worker_count(&self) -> Option<i32> {
        None
    }
    async fn min_agreement(&self) -> Option<f64> {
        None
    }
    async fn consensus_mark(&self) -> Option<f64> {
        None
    }
    async fn honeypot_mark(&self) -> Option<f64> {
        None
    }
    async fn use_honey_pot(&self) -> bool {
        false
    }
    async fn instructions(&self) -> Option<String> {
        None
    }
    async fn interface_category(&self) -> &str {
        "V2"
    }
    async fn rules(&self) -> &str {
        ""
    }
    async fn archived(&self) -> bool {
        false
    }
    async fn starred(&self) -> bool {
        false
    }
    /// `V1`: the local server has no workflow steps.
    async fn workflow_version(&self) -> &str {
        "V1"
    }
    async fn steps(&self) -> Vec<ProjectStep> {
        Vec::new()
    }
    async fn data_connections(&self) -> Vec<DataConnection> {
        Vec::new()
    }
}

/// The workflow position of an asset (always null locally).
#[derive(SimpleObject)]
#[graphql(name = "AssetStep")]
pub(crate) struct AssetStep {
    name: String,
    status: String,
}

/// Width and height of an asset.
#[derive(SimpleObject)]
#[graphql(name = "Resolution")]
pub(crate) struct Resolution {
    width: i32,
    height: i32,
}

/// Resolution of a page of a document.
#[derive(SimpleObject)]
#[graphql(name = "PageResolution")]
pub(crate) struct PageResolution {
    page_number: i32,
    width: i32,
    height: i32,
    rotation: i32,
}

/// An asset.
pub(crate) struct Asset(pub(crate) AssetRec);

impl Asset {
    fn labels_of(&self, ctx: &Context<'_>) -> Result<Vec<Label>> {
        let d = state(ctx)?.read();
        Ok(d.labels_of_asset(&self.0.id)
            .map(|l| Label(Arc::clone(l)))
            .collect())
    }
}

#[Object(name = "Asset")]
impl Asset {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn content(&self) -> &str {
        &self.0.content
    }
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn json_content(&self) -> &str {
        &self.0.json_content
    }
    /// The metadata, as a JSON string.
    async fn json_metadata(&self) -> &str {
        &self.0.json_metadata
    }
    async fn is_honeypot(&self) -> bool {
        self.0.is_honeypot
    }
    async fn status(&self) -> AssetStatus {
        self.0.status
    }
    async fn skipped(&self) -> bool {
        false
    }
    async fn created_at(&self) -> String {
        format_ms(self.0.created_at)
    }
    async fn updated_at(&self) -> String {
        format_ms(self.0.updated_at)
    }
    async fn project_id(&self) -> ID {
        ID(self.0.project_id.clone())
    }
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        Ok(state(ctx)?
            .read()
            .project(&self.0.project_id)
            .cloned()
            .map(Project))
    }
    /// Every label of the asset, in creation order.
    #[graphql(complexity = "1 + LIST_COST * child_complexity")]
    async fn labels(&self, ctx: &Context<'_>) -> Result<Vec<Label>> {
        self.labels_of(ctx)
    }
    /// The most recent label of the asset.
    async fn latest_label(&self, ctx: &Context<'_>) -> Result<Option<Label>> {
        let d = state(ctx)?.read();
        Ok(d.labels_of_asset(&self.0.id)
            .next_back()
            .map(|l| Label(Arc::clone(l))))
    }
    /// The most recent label of each author.
    #[graphql(complexity = "1 + LIST_COST * child_complexity")]
    async fn latest_labels(&self, ctx: &Context<'_>) -> Result<Vec<Label>> {
        let all = self.labels_of(ctx)?;
        let mut seen = std::collections::HashSet::new();
        let mut latest: Vec<Label> = all
            .into_iter()
            .rev()
            .filter(|l| seen.insert(l.0.author_id.clone()))
            .collect();
        latest.reverse();
        Ok(latest)
    }
    async fn current_step(&self) -> Option<AssetStep> {
        None
    }
    /// 0 unless set with `updatePropertiesInAssets`.
    async fn priority(&self) -> i32 {
        self.0.priority
    }
    async fn consensus_mark(&self) -> Option<f64> {
        self.0.consensus_mark
    }
    async fn honeypot_mark(&self) -> Option<f64> {
        self.0.honeypot_mark
    }
    async fn is_used_for_consensus(&self) -> bool {
        self.0.is_used_for_consensus
    }
    async fn inference_mark(&self) -> Option<f64> {
        None
    }
    async fn thumbnail(&self) -> Option<String> {
        None
    }
    async fn resolution(&self) -> Option<Resolution> {
        self.0.resolution.map(|r| Resolution {
            width: r.width,
            height: r.height,
        })
    }
    async fn page_resolutions(&self) -> Vec<PageResolution> {
        self.0
            .page_resolutions
            .iter()
            .map(|p| PageResolution {
                page_number: p.page_number,
                width: p.width,
                height: p.height,
                rotation: p.rotation,
            })
            .collect()
    }
    async fn ocr_metadata(&self) -> Option<Json<serde_json::Value>> {
        None
    }
    /// The users who may label the asset (`toBeLabeledBy` of `updatePropertiesInAssets`).
    async fn to_be_labeled_by(&self, ctx: &Context<'_>) -> Result<Vec<ProjectUser>> {
        let d = state(ctx)?.read();
        Ok(self
            .0
            .to_be_labeled_by
            .iter()
            .filter_map(|u| d.user(u))
            .map(|u| ProjectUser {
                project_id: self.0.project_id.clone(),
                user: u.clone(),
            })
            .collect())
    }
}

/// A label.
pub(crate) struct Label(pub(crate) Arc<LabelRec>);

#[Object(name = "Label")]
impl Label {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn author(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(state(ctx)?
            .read()
            .user(&self.0.author_id)
            .cloned()
            .map(User))
    }
    async fn author_id(&self) -> ID {
        ID(self.0.author_id.clone())
    }
    async fn asset_id(&self) -> ID {
        ID(self.0.asset_id.clone())
    }
    async fn project_id(&self) -> ID {
        ID(self.0.project_id.clone())
    }
    /// The labeled asset.
    async fn label_of(&self, ctx: &Context<'_>) -> Result<Option<Asset>> {
        Ok(state(ctx)?
            .read()
            .asset(&self.0.asset_id)
            .cloned()
            .map(Asset))
    }
    async fn label_type(&self) -> LabelType {
        self.0.label_type
    }
    /// The annotation, as a JSON string.
    async fn json_response(&self) -> &str {
        &self.0.json_response
    }
    async fn json_response_url(&self) -> Option<String> {
        None
    }
    /// ISO 8601 with milliseconds, UTC. All the labels of one mutation share it; it never
    /// decreases in creation order but often repeats, so it does not give creation order.
    async fn created_at(&self) -> String {
        format_ms(self.0.created_at)
    }
    /// When the label was last updated (`createdAt` until then); never before `createdAt`.
    async fn updated_at(&self) -> String {
        format_ms(self.0.updated_at)
    }
    /// 0 at creation, +1 per `updatePropertiesInLabel`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn model_name(&self) -> Option<&str> {
        self.0.model_name.as_deref()
    }
    async fn seconds_to_label(&self) -> Option<f64> {
        self.0.seconds_to_label
    }
    async fn total_seconds_to_label(&self) -> Option<f64> {
        self.0.seconds_to_label
    }
    async fn skipped(&self) -> bool {
        self.0.skipped
    }
    async fn client_version(&self) -> Option<i32> {
        self.0.client_version
    }
    async fn referenced_label_id(&self) -> Option<ID> {
        self.0.referenced_label_id.clone().map(ID)
    }
    /// Whether no later label (in creation order, not by timestamp) of the same author exists
    /// on the same asset.
    async fn is_latest_label_for_user(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(!state(ctx)?.read().has_newer(&self.0, false))
    }
    /// Whether this is a `DEFAULT` label and no later one of the same author exists on the
    /// same asset.
    async fn is_latest_default_label_for_user(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.0.label_type == LabelType::Default && !state(ctx)?.read().has_newer(&self.0, true))
    }
    async fn is_sent_back_to_queue(&self) -> bool {
        self.0.is_sent_back_to_queue
    }
    async fn honeypot_mark(&self) -> Option<f64> {
        None
    }
    async fn inference_mark(&self) -> Option<f64> {
        None
    }
    async fn consensus_mark(&self) -> Option<f64> {
        None
    }
    /// Counts computed from the response: `numberOfAnnotations` (objects and classification
    /// answers) and `numberOfAnnotationsByObject` (keyed `"JOB.CATEGORY"`).
    async fn search(&self) -> Json<serde_json::Value> {
        Json(label_search(&self.0.json_response))
    }
    /// The number of annotations (top-level jobs) in the response.
    async fn number_of_annotations(&self) -> i32 {
        serde_json::from_str::<serde_json::Value>(&self.0.json_response)
            .ok()
            .and_then(|v| {
                v.as_object()
                    .map(|o| i32::try_from(o.len()).unwrap_or(i32::MAX))
            })
            .unwrap_or(0)
    }
}
