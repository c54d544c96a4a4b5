//! Issue writes: create issues on labels or assets of the caller's projects (all or nothing),
//! and change an issue's status.

use super::changes::Change;
use super::data::Data;
use super::error::StoreError;
use super::issues::{CommentRec, IssueRec, IssueStatus, IssueType};
use super::state::ServerState;

/// An issue to create: on a label (its asset is the label's) or an asset.
#[derive(Debug, Clone)]
pub(crate) struct NewIssue {
    pub(crate) label_id: Option<String>,
    pub(crate) asset_id: Option<String>,
    pub(crate) object_mid: Option<String>,
    pub(crate) issue_type: IssueType,
    /// The first comment, if any.
    pub(crate) text: Option<String>,
}

/// Returns the asset the `i`-th new issue is on: its label's (which must agree with its asset if
/// both are given), else its asset; either must be `user_id`'s.
fn asset_of(d: &Data, user_id: &str, row: &NewIssue, i: usize) -> Result<String, StoreError> {
    let from_label = match &row.label_id {
        Some(l) => Some(
            d.owned_label(user_id, l)
                .ok_or_else(|| StoreError::no_access("label", l))?
                .asset_id
                .clone(),
        ),
        None => None,
    };
    match (from_label, &row.asset_id) {
        (Some(a), Some(b)) if a != *b => Err(StoreError::bad_input(format!(
            "issues[{i}]: label {} is not on asset {b}",
            row.label_id.as_deref().unwrap_or_default()
        ))),
        (Some(a), _) => Ok(a),
        (None, Some(b)) => d
            .owned_asset(user_id, b)
            .map(|a| a.id.clone())
            .ok_or_else(|| StoreError::no_access("asset", b)),
        (None, None) => Err(StoreError::bad_input(format!(
            "issues[{i}]: give a labelID or an assetId"
        ))),
    }
}

impl ServerState {
    /// Returns the asset each new issue would be on, checking that `user_id` may create them.
    pub(crate) fn issue_assets(
        &self,
        user_id: &str,
        rows: &[NewIssue],
    ) -> Result<Vec<String>, StoreError> {
        let d = self.read();
        rows.iter()
            .enumerate()
            .map(|(i, row)| asset_of(&d, user_id, row, i))
            .collect()
    }

    /// Creates issues, all or nothing; each `OPEN`, numbered per project, with its text as
    /// its first comment.
    pub(crate) fn create_issues(
        &self,
        user_id: &str,
        rows: Vec<NewIssue>,
    ) -> Result<Vec<IssueRec>, StoreError> {
        let mut d = self.write();
        let mut assets = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            assets.push(asset_of(&d, user_id, row, i)?);
        }
        let now = d.now();
        let mut out: Vec<IssueRec> = Vec::with_capacity(rows.len());
        for (row, asset_id) in rows.into_iter().zip(assets) {
            let Some(project_id) = d.asset(&asset_id).map(|a| a.project_id.clone()) else {
                return Err(StoreError::no_access("asset", &asset_id));
            };
            let earlier = out.iter().filter(|x| x.project_id == project_id).count();
            let number =
                d.issues.last_number(&project_id) + i32::try_from(earlier + 1).unwrap_or(0);
            let comments = match row.text {
                Some(text) => vec![CommentRec {
                    id: d.new_id(now),
                    text,
                    author_id: user_id.to_owned(),
                    created_at: now,
                }],
                None => Vec::new(),
            };
            out.push(IssueRec {
                id: d.new_id(now),
                number,
                project_id,
                asset_id,
                label_id: row.label_id,
                object_mid: row.object_mid,
                issue_type: row.issue_type,
                status: IssueStatus::Open,
                author_id: user_id.to_owned(),
                created_at: now,
                updated_at: now,
                comments,
            });
        }
        self.commit(
            &mut d,
            &[Change::Issues {
                issues: out.clone(),
            }],
        )?;
        Ok(out)
    }

    /// Sets the status of one of `user_id`'s issues.
    pub(crate) fn set_issue_status(
        &self,
        user_id: &str,
        id: &str,
        status: IssueStatus,
    ) -> Result<IssueRec, StoreError> {
        let mut d = self.write();
        let mut issue = d
            .issues
            .get(id)
            .filter(|i| d.owned_project(user_id, &i.project_id).is_some())
            .cloned()
            .ok_or_else(|| StoreError::no_access("issue", id))?;
        issue.status = status;
        issue.updated_at = d.now();
        self.commit(
            &mut d,
            &[Change::Issues {
                issues: vec![issue.clone()],
            }],
        )?;
        Ok(issue)
    }
}
