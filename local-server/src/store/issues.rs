//! Issues (and questions) on assets, each with its comments: the records as written to the
//! data file, and [`IssueList`], the store's list of them in creation order.

use async_graphql::Enum;
use serde::{Deserialize, Serialize};

/// What an issue is (`IssueType`).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(name = "IssueType")]
pub(crate) enum IssueType {
    Issue,
    Question,
}

/// Where an issue stands (`IssueStatus`).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(name = "IssueStatus")]
pub(crate) enum IssueStatus {
    Cancelled,
    Open,
    Solved,
}

/// A comment of an issue; an issue created with a text has it as its first comment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct CommentRec {
    pub(crate) id: String,
    pub(crate) text: String,
    pub(crate) author_id: String,
    pub(crate) created_at: i64,
}

/// An issue on an asset, about one of its labels (and an object of it) if given.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct IssueRec {
    pub(crate) id: String,
    /// From 1, per project, in creation order.
    pub(crate) number: i32,
    pub(crate) project_id: String,
    pub(crate) asset_id: String,
    pub(crate) label_id: Option<String>,
    pub(crate) object_mid: Option<String>,
    pub(crate) issue_type: IssueType,
    pub(crate) status: IssueStatus,
    pub(crate) author_id: String,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) comments: Vec<CommentRec>,
}

/// Every issue, in creation order.
#[derive(Debug, Default)]
pub(crate) struct IssueList {
    pub(crate) all: Vec<IssueRec>,
}

impl IssueList {
    /// Returns the issue with this id.
    pub(crate) fn get(&self, id: &str) -> Option<&IssueRec> {
        self.all.iter().find(|i| i.id == id)
    }

    /// Returns the issues of an asset.
    pub(crate) fn of_asset<'a>(&'a self, asset_id: &'a str) -> impl Iterator<Item = &'a IssueRec> {
        self.all.iter().filter(move |i| i.asset_id == asset_id)
    }

    /// Returns how many issues a project has had (the last issue number given).
    pub(super) fn last_number(&self, project_id: &str) -> i32 {
        self.all
            .iter()
            .filter(|i| i.project_id == project_id)
            .map(|i| i.number)
            .max()
            .unwrap_or(0)
    }

    /// Adds issues, or replaces the ones with their ids.
    pub(super) fn put(&mut self, issues: &[IssueRec]) {
        for issue in issues {
            match self.all.iter_mut().find(|i| i.id == issue.id) {
                Some(slot) => *slot = issue.clone(),
                None => self.all.push(issue.clone()),
            }
        }
    }

    /// Forgets the issues of a deleted asset.
    pub(super) fn remove_asset(&mut self, asset_id: &str) {
        self.all.retain(|i| i.asset_id != asset_id);
    }

    /// Forgets the issues of a deleted project.
    pub(super) fn remove_project(&mut self, project_id: &str) {
        self.all.retain(|i| i.project_id != project_id);
    }
}
