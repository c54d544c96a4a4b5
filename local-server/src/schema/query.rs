//! The `Query` root.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result};

use super::filters::{asset_matches, label_matches, page, project_matches, user_matches};
use super::inputs::{ApiKeyWhere, AssetWhere, LabelWhere, PageSize, ProjectWhere, UserWhere};
use super::objects::{ApiKey, Asset, Label, Project, User};
use super::{count, label_settings, no_access, state, viewer};
use crate::settings::shuffle_key;

/// Kili's `Query` type (the subset the SDK uses).
pub(crate) struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The user of the API key.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User(viewer(ctx)?.clone()))
    }

    /// The user of the API key (older SDKs).
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User(viewer(ctx)?.clone()))
    }

    /// Users (every user of the local server is in one organisation).
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

    /// Assets of the caller's projects, oldest first.
    async fn assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: AssetWhere,
        first: Option<PageSize>,
        skip: Option<i32>,
    ) -> Result<Vec<Asset>> {
        page(
            matching_assets(ctx, &where_)?.into_iter().map(Asset),
            first,
            skip,
        )
    }

    /// Counts assets of the caller's projects.
    async fn count_assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: AssetWhere,
    ) -> Result<i32> {
        Ok(count(matching_assets(ctx, &where_)?.len()))
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
            .assets
            .iter()
            .filter(|a| a.project_id == project_id.as_str())
            .map(|a| a.external_id.as_str())
            .collect();
        Ok(external_ids
            .into_iter()
            .filter(|e| existing.contains(e.as_str()))
            .collect())
    }

    /// Labels of the caller's projects, in creation order, or in a stable hash order of their
    /// ids when the server shuffles label pages.
    async fn labels(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: LabelWhere,
        first: Option<PageSize>,
        skip: Option<i32>,
    ) -> Result<Vec<Label>> {
        if label_settings(ctx)?.shuffle_pages {
            let mut all = matching_labels(ctx, &where_, usize::MAX)?;
            // Stable sort: equal keys (never seen in practice) keep creation order.
            all.sort_by_cached_key(|l| shuffle_key(&l.id));
            return page(all.into_iter().map(Label), first, skip);
        }
        // Matching stops once the page is full.
        let wanted = usize::try_from(skip.unwrap_or(0)).unwrap_or(0)
            + first
                .as_ref()
                .map_or(100, |f| usize::try_from(f.0).unwrap_or(0));
        page(
            matching_labels(ctx, &where_, wanted)?
                .into_iter()
                .map(Label),
            first,
            skip,
        )
    }

    /// Counts labels of the caller's projects.
    async fn count_labels(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: LabelWhere,
    ) -> Result<i32> {
        Ok(count(matching_labels(ctx, &where_, usize::MAX)?.len()))
    }
}

fn matching_projects(ctx: &Context<'_>, w: &ProjectWhere) -> Result<Vec<crate::store::ProjectRec>> {
    let me = viewer(ctx)?;
    let d = state(ctx)?.read();
    let mut out = Vec::new();
    for p in d.projects.iter().filter(|p| p.owner_id == me.id) {
        if project_matches(p, w)? {
            out.push(p.clone());
        }
    }
    Ok(out)
}

pub(crate) fn matching_assets(
    ctx: &Context<'_>,
    w: &AssetWhere,
) -> Result<Vec<crate::store::AssetRec>> {
    let me = viewer(ctx)?;
    let d = state(ctx)?.read();
    let mut out = Vec::new();
    for a in &d.assets {
        if d.owned_project(&me.id, &a.project_id).is_some() && asset_matches(&d, a, w)? {
            out.push(a.clone());
        }
    }
    Ok(out)
}

/// The caller's labels matching `w`, in creation order, at most `limit` of them.
fn matching_labels(
    ctx: &Context<'_>,
    w: &LabelWhere,
    limit: usize,
) -> Result<Vec<Arc<crate::store::LabelRec>>> {
    let me = viewer(ctx)?;
    let d = state(ctx)?.read();
    let mine: std::collections::HashSet<&str> = d
        .projects
        .iter()
        .filter(|p| p.owner_id == me.id)
        .map(|p| p.id.as_str())
        .collect();
    let mut out = Vec::new();
    for l in &d.labels {
        if out.len() >= limit {
            break;
        }
        if mine.contains(l.project_id.as_str()) && label_matches(&d, l, w)? {
            out.push(Arc::clone(l));
        }
    }
    Ok(out)
}
