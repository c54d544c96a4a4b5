//! The `Query` root: reads only; asset and label listings go through `listing`. Webhook and
//! issue queries are in `plugins` and `issues`.

use async_graphql::{Context, ID, MergedObject, Object, Result};

use super::context::{org_settings, request_origin, state, viewer};
use super::errors::{no_access, store_error};
use super::filters::{check_project_where, project_matches, user_matches};
use super::inputs::{
    ApiKeyWhere, AssetWhere, LabelWhere, OrganizationWhere, PageSize, ProjectWhere, UserWhere,
};
use super::issues::IssueQuery;
use super::limits::check_rows;
use super::listing::{asset_page, label_page, page, page_bounds};
use super::objects::{ApiKey, Asset, Label, ORGANIZATION_ID, Organization, Project, User};
use super::plugins::PluginQuery;
use crate::store::{ProjectRec, StoreError};

/// Kili's `Query` type (the subset the SDK uses).
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub(crate) struct QueryRoot(DataQuery, PluginQuery, IssueQuery);

/// The queries of users, the organization, keys, projects, assets and labels.
#[derive(Default)]
pub(crate) struct DataQuery;

#[Object]
impl DataQuery {
    /// The user of the API key.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User(viewer(ctx)?.clone()))
    }

    /// The user of the API key (older SDKs).
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User(viewer(ctx)?.clone()))
    }

    /// Users (every user of the local server is in one organization).
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: UserWhere,
        first: Option<PageSize>,
        skip: Option<i32>,
    ) -> Result<Vec<User>> {
        viewer(ctx)?;
        let d = state(ctx)?.read();
        page(
            d.users
                .iter()
                .filter(|u| user_matches(u, &where_))
                .cloned()
                .map(User),
            first,
            skip,
        )
    }

    /// Counts users.
    async fn count_users(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: UserWhere,
    ) -> Result<i32> {
        viewer(ctx)?;
        let d = state(ctx)?.read();
        Ok(count(
            d.users.iter().filter(|u| user_matches(u, &where_)).count(),
        ))
    }

    /// The organization: the local server has one, which every user belongs to.
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: OrganizationWhere,
        first: Option<PageSize>,
        skip: Option<i32>,
    ) -> Result<Vec<Organization>> {
        let found = organization_matches(ctx, &where_)?;
        let upload = org_settings(ctx)?.upload_local_data;
        page(
            found
                .then_some(Organization {
                    upload_local_data: upload,
                })
                .into_iter(),
            first,
            skip,
        )
    }

    /// Counts organizations (0 or 1).
    async fn count_organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: OrganizationWhere,
    ) -> Result<i32> {
        Ok(i32::from(organization_matches(ctx, &where_)?))
    }

    /// Signed URLs to upload files to, one per bucket path (`projects/<projectId>/assets/...`,
    /// of the caller's projects). A `PUT` of the URL cut before `&id=` stores the body; a `GET`
    /// of the whole URL with the API key reads it back. Queried by the SDK before importing
    /// local files, raw text and JSON contents.
    async fn create_upload_bucket_signed_urls(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "filePaths")] file_paths: Option<Vec<String>>,
    ) -> Result<Vec<String>> {
        let me = viewer(ctx)?;
        if !org_settings(ctx)?.upload_local_data {
            return Err(store_error(StoreError::new(
                "FORBIDDEN",
                "[uploadLocalDataForbidden] the organization's license does not allow uploading \
                 local data",
            )));
        }
        let paths = file_paths.unwrap_or_default();
        check_rows("filePaths", paths.len())?;
        state(ctx)?
            .create_signed_urls(&me.id, &paths, &request_origin(ctx)?)
            .map_err(store_error)
    }

    /// The caller's own API keys.
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: ApiKeyWhere,
        first: Option<PageSize>,
        skip: Option<i32>,
    ) -> Result<Vec<ApiKey>> {
        let me = viewer(ctx)?;
        let ok = where_
            .id
            .as_ref()
            .is_none_or(|id| id.as_str() == me.api_key_id)
            && where_.key.as_ref().is_none_or(|k| *k == me.api_key)
            && where_.user.as_ref().is_none_or(|u| user_matches(me, u));
        page(ok.then(|| ApiKey(me.clone())).into_iter(), first, skip)
    }

    /// The caller's projects, oldest first.
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: ProjectWhere,
        first: Option<PageSize>,
        skip: Option<i32>,
    ) -> Result<Vec<Project>> {
        let all = matching_projects(ctx, &where_)?;
        page(all.into_iter().map(Project), first, skip)
    }

    /// Counts the caller's projects.
    async fn count_projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: ProjectWhere,
    ) -> Result<i32> {
        Ok(count(matching_projects(ctx, &where_)?.len()))
    }

    /// Assets of the caller's projects, oldest first. Sequential pages cost in proportion to
    /// the page (see the store's `paging`).
    async fn assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: AssetWhere,
        first: Option<PageSize>,
        skip: Option<i32>,
    ) -> Result<Vec<Asset>> {
        let (skip, first) = page_bounds(first, skip)?;
        let found = asset_page(ctx, &where_, Some((skip, first)))?;
        Ok(found.into_iter().map(Asset).collect())
    }

    /// Counts assets of the caller's projects.
    async fn count_assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: AssetWhere,
    ) -> Result<i32> {
        Ok(count(asset_page(ctx, &where_, None)?.len()))
    }

    /// Which of these external ids already exist in the project.
    async fn filter_existing_assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "projectID")] project_id: ID,
        #[graphql(name = "externalIDs")] external_ids: Vec<String>,
    ) -> Result<Vec<String>> {
        let me = viewer(ctx)?;
        let d = state(ctx)?.read();
        if d.owned_project(&me.id, &project_id).is_none() {
            return Err(no_access("project", &project_id));
        }
        let existing: std::collections::HashSet<&str> = d
            .assets_of_project(&project_id)
            .map(|a| a.external_id.as_str())
            .collect();
        Ok(external_ids
            .into_iter()
            .filter(|e| existing.contains(e.as_str()))
            .collect())
    }

    /// Labels of the caller's projects, in creation order, or in a stable hash order of their
    /// ids when the server shuffles label pages. Sequential pages cost in proportion to the
    /// page (see the store's `paging`).
    async fn labels(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: LabelWhere,
        first: Option<PageSize>,
        skip: Option<i32>,
    ) -> Result<Vec<Label>> {
        let (skip, first) = page_bounds(first, skip)?;
        let found = label_page(ctx, &where_, Some((skip, first)))?;
        Ok(found.into_iter().map(Label).collect())
    }

    /// Counts labels of the caller's projects.
    async fn count_labels(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: LabelWhere,
    ) -> Result<i32> {
        Ok(count(label_page(ctx, &where_, None)?.len()))
    }
}

/// Returns whether the one organization matches: by its id, or by a member's email.
fn organization_matches(ctx: &Context<'_>, w: &OrganizationWhere) -> Result<bool> {
    viewer(ctx)?;
    let d = state(ctx)?.read();
    let id_ok =
        w.id.as_ref()
            .is_none_or(|id| id.as_str() == ORGANIZATION_ID);
    let user_ok = w
        .user
        .as_ref()
        .is_none_or(|u| d.users.iter().any(|x| user_matches(x, u)));
    Ok(id_ok && user_ok)
}

fn matching_projects(ctx: &Context<'_>, w: &ProjectWhere) -> Result<Vec<ProjectRec>> {
    let me = viewer(ctx)?;
    check_project_where(w, "ProjectWhere")?;
    let d = state(ctx)?.read();
    let mut out = Vec::new();
    for p in d.projects.iter().filter(|p| p.owner_id == me.id) {
        if project_matches(p, w)? {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Returns a count as a GraphQL `Int` (saturating).
fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
