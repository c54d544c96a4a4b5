//! The GraphQL types of issues: `IssueToCreate` and `IssueData` inputs, `Issue` and `Comment`
//! objects.

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::context::state;
use super::objects::{Asset, User};
use crate::store::{CommentRec, IssueRec, IssueStatus, IssueType};
use crate::time::format_ms;

/// One issue of `createIssues`: on a label (`labelID`, its asset then is the label's) or an
/// asset (`assetId`), about one object of the label if `objectMid` is given.
#[derive(InputObject, Clone, Debug)]
#[graphql(name = "IssueToCreate")]
pub(crate) struct IssueToCreate {
    #[graphql(name = "labelID")]
    pub(crate) label_id: Option<ID>,
    pub(crate) object_mid: Option<String>,
    #[graphql(name = "type")]
    pub(crate) type_: IssueType,
    pub(crate) asset_id: Option<ID>,
    /// Its first comment.
    pub(crate) text: Option<String>,
}

/// Changes to one issue (`updatePropertiesInIssue`).
#[derive(InputObject, Clone, Debug)]
#[graphql(name = "IssueData")]
pub(crate) struct IssueData {
    pub(crate) status: Option<IssueStatus>,
}

/// A comment of an issue.
pub(crate) struct Comment(pub(crate) CommentRec);

#[Object(name = "Comment")]
impl Comment {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn text(&self) -> &str {
        &self.0.text
    }
    async fn created_at(&self) -> String {
        format_ms(self.0.created_at)
    }
    async fn author_id(&self) -> ID {
        ID(self.0.author_id.clone())
    }
    async fn author(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(state(ctx)?
            .read()
            .user(&self.0.author_id)
            .cloned()
            .map(User))
    }
}

/// An issue (or a question) on an asset.
pub(crate) struct Issue(pub(crate) IssueRec);

#[Object(name = "Issue")]
impl Issue {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn asset_id(&self) -> ID {
        ID(self.0.asset_id.clone())
    }
    async fn asset(&self, ctx: &Context<'_>) -> Result<Option<Asset>> {
        Ok(state(ctx)?
            .read()
            .asset(&self.0.asset_id)
            .cloned()
            .map(Asset))
    }
    async fn label_id(&self) -> Option<ID> {
        self.0.label_id.clone().map(ID)
    }
    async fn project_id(&self) -> ID {
        ID(self.0.project_id.clone())
    }
    /// The object of the label the issue is about, if any.
    async fn object_mid(&self) -> Option<&str> {
        self.0.object_mid.as_deref()
    }
    #[graphql(name = "type")]
    async fn type_(&self) -> IssueType {
        self.0.issue_type
    }
    async fn status(&self) -> IssueStatus {
        self.0.status
    }
    /// From 1, per project, in creation order.
    async fn issue_number(&self) -> i32 {
        self.0.number
    }
    async fn has_been_seen(&self) -> bool {
        false
    }
    async fn created_at(&self) -> String {
        format_ms(self.0.created_at)
    }
    async fn updated_at(&self) -> String {
        format_ms(self.0.updated_at)
    }
    async fn author_id(&self) -> ID {
        ID(self.0.author_id.clone())
    }
    async fn author(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(state(ctx)?
            .read()
            .user(&self.0.author_id)
            .cloned()
            .map(User))
    }
    /// Its comments, oldest first: the text it was created with comes first.
    async fn comments(&self) -> Vec<Comment> {
        self.0.comments.iter().cloned().map(Comment).collect()
    }
}
