//! Issues: `createIssues` (on labels or assets of the caller's projects, all or nothing),
//! `updatePropertiesInIssue` (its status), and the `issues` and `countIssues` queries with the
//! SDK's filters (project, asset, `assetIn`, type, status).

use async_graphql::{Context, ID, Object, Result};

use super::context::{state, viewer};
use super::errors::{bad_input, no_access, store_error};
use super::filters::{asset_matches, check_asset_where, project_matches};
use super::inputs::{AssetWhere, IssueWhere, PageSize};
use super::issue_types::{Issue, IssueData, IssueToCreate};
use super::listing::page;
use crate::store::{Data, IssueRec, NewIssue, UserRec};

/// The issue mutations of Kili's `Mutation` type.
#[derive(Default)]
pub(crate) struct IssueMutation;

#[Object]
impl IssueMutation {
    /// Creates issues, each `OPEN` with its text as its first comment; every issue's asset
    /// must match `where`. All or nothing.
    async fn create_issues(
        &self,
        ctx: &Context<'_>,
        issues: Vec<IssueToCreate>,
        #[graphql(name = "where")] where_: AssetWhere,
    ) -> Result<Vec<Issue>> {
        let me = viewer(ctx)?;
        check_asset_where(&where_, "AssetWhere")?;
        let rows: Vec<NewIssue> = issues
            .into_iter()
            .map(|i| NewIssue {
                label_id: i.label_id.map(|l| l.0),
                asset_id: i.asset_id.map(|a| a.0),
                object_mid: i.object_mid,
                issue_type: i.type_,
                text: i.text,
            })
            .collect();
        let st = state(ctx)?;
        let assets = st.issue_assets(&me.id, &rows).map_err(store_error)?;
        {
            let d = st.read();
            for id in &assets {
                match d.asset(id) {
                    Some(a) if asset_matches(&d, a, &where_)? => {}
                    _ => {
                        return Err(bad_input(format!(
                            "asset {id} does not match the mutation's where"
                        )));
                    }
                }
            }
        }
        let made = st.create_issues(&me.id, rows).map_err(store_error)?;
        Ok(made.into_iter().map(Issue).collect())
    }

    /// Changes the status of the issue `where.id`.
    async fn update_properties_in_issue(
        &self,
        ctx: &Context<'_>,
        data: IssueData,
        #[graphql(name = "where")] where_: IssueWhere,
    ) -> Result<Issue> {
        let me = viewer(ctx)?;
        let id = where_
            .id
            .ok_or_else(|| bad_input("updatePropertiesInIssue needs where.id"))?;
        let st = state(ctx)?;
        let Some(status) = data.status else {
            let d = st.read();
            return visible(&d, me, &id).map(Issue);
        };
        let issue = st
            .set_issue_status(&me.id, &id, status)
            .map_err(store_error)?;
        Ok(Issue(issue))
    }
}

/// Returns one of the caller's issues.
fn visible(d: &Data, me: &UserRec, id: &ID) -> Result<IssueRec> {
    d.issues
        .get(id)
        .filter(|i| d.owned_project(&me.id, &i.project_id).is_some())
        .cloned()
        .ok_or_else(|| no_access("issue", id))
}

/// The issue queries of Kili's `Query` type.
#[derive(Default)]
pub(crate) struct IssueQuery;

#[Object]
impl IssueQuery {
    /// Issues of the caller's projects, oldest first.
    async fn issues(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: IssueWhere,
        first: Option<PageSize>,
        skip: Option<i32>,
    ) -> Result<Vec<Issue>> {
        let found = matching_issues(ctx, &where_)?;
        page(found.into_iter().map(Issue), first, skip)
    }

    /// Counts issues of the caller's projects.
    async fn count_issues(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: IssueWhere,
    ) -> Result<i32> {
        let n = matching_issues(ctx, &where_)?.len();
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }
}

/// Returns the caller's issues matching `w`, oldest first.
fn matching_issues(ctx: &Context<'_>, w: &IssueWhere) -> Result<Vec<IssueRec>> {
    let me = viewer(ctx)?;
    if let Some(a) = &w.asset {
        check_asset_where(a, "IssueWhere.asset")?;
    }
    let d = state(ctx)?.read();
    let mut out = Vec::new();
    for issue in &d.issues.all {
        if d.owned_project(&me.id, &issue.project_id).is_some() && issue_matches(&d, issue, w)? {
            out.push(issue.clone());
        }
    }
    Ok(out)
}

/// Returns whether an issue of the caller's matches an `IssueWhere`.
fn issue_matches(d: &Data, i: &IssueRec, w: &IssueWhere) -> Result<bool> {
    if let Some(pw) = &w.project {
        match d.project(&i.project_id) {
            Some(p) if project_matches(p, pw)? => {}
            _ => return Ok(false),
        }
    }
    if let Some(aw) = &w.asset {
        match d.asset(&i.asset_id) {
            Some(a) if asset_matches(d, a, aw)? => {}
            _ => return Ok(false),
        }
    }
    Ok(w.id.as_ref().is_none_or(|id| id.as_str() == i.id)
        && w.asset_in
            .as_ref()
            .is_none_or(|l| l.iter().any(|a| a.as_str() == i.asset_id))
        && w.type_.is_none_or(|t| t == i.issue_type)
        && w.status.is_none_or(|s| s == i.status))
}
