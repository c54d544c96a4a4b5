//! [`Issue`]: an issue or a question on an asset, as `issues` returns it. Decoded by serde's
//! derive through `decode`, read through methods named as the other models'.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::models::decode;
use crate::models::{IssueStatus, IssueType};

/// An issue (or a question) on an asset, possibly about one of its labels.
///
/// Only the fields that were selected are filled; the others are `None`. Its comments, its
/// author and the rest are in [`extra`](Issue::extra), as received.
///
/// # Examples
///
/// ```
/// use kili::{Issue, IssueStatus, IssueType};
/// let i = Issue::from_json(&serde_json::json!({
///     "id": "i1", "type": "ISSUE", "status": "OPEN", "assetId": "a1",
///     "comments": [{"text": "BBox too large"}]
/// }))?;
/// assert_eq!(i.issue_type(), Some(IssueType::Issue));
/// assert_eq!(i.status(), Some(IssueStatus::Open));
/// assert_eq!(i.extra()["comments"][0]["text"], "BBox too large");
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Issue {
    id: String,
    #[serde(default, rename = "type", deserialize_with = "decode::parsed")]
    issue_type: Option<IssueType>,
    #[serde(default, deserialize_with = "decode::parsed")]
    status: Option<IssueStatus>,
    #[serde(default, deserialize_with = "decode::text")]
    asset_id: Option<String>,
    #[serde(default, deserialize_with = "decode::text")]
    label_id: Option<String>,
    #[serde(default, deserialize_with = "decode::text")]
    object_mid: Option<String>,
    #[serde(default, deserialize_with = "decode::text")]
    project_id: Option<String>,
    #[serde(default, deserialize_with = "decode::text")]
    created_at: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl Issue {
    /// Decodes an issue from a Kili JSON object (an item of `issues`).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`](crate::Error::Decode) if `value` is not an object with a string `id`.
    pub fn from_json(value: &Value) -> Result<Issue> {
        decode::from_json(value, "an issue")
    }

    /// Returns the issue's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Returns whether it is an issue or a question, if `type` was selected.
    pub fn issue_type(&self) -> Option<IssueType> {
        self.issue_type.clone()
    }

    /// Returns its state, if selected.
    pub fn status(&self) -> Option<IssueStatus> {
        self.status.clone()
    }

    /// Returns the id of its asset, if selected.
    pub fn asset_id(&self) -> Option<&str> {
        self.asset_id.as_deref()
    }

    /// Returns the id of the label it is about, if selected and it is about one.
    pub fn label_id(&self) -> Option<&str> {
        self.label_id.as_deref()
    }

    /// Returns the mid of the label's object it is about, if selected and it is about one.
    pub fn object_mid(&self) -> Option<&str> {
        self.object_mid.as_deref()
    }

    /// Returns the id of its project, if selected.
    pub fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }

    /// Returns when it was created (ISO 8601), as Kili sends it, if selected.
    pub fn created_at(&self) -> Option<&str> {
        self.created_at.as_deref()
    }

    /// Returns the selected fields this type does not model, as received.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn issues_need_an_id_and_take_the_rest_loosely() {
        assert!(Issue::from_json(&json!({"type": "ISSUE"})).is_err());
        let i =
            Issue::from_json(&json!({"id": "i", "type": 1, "status": "REOPENED", "labelId": null}))
                .unwrap();
        assert_eq!(i.issue_type(), None, "not a string");
        assert_eq!(i.status(), Some(IssueStatus::Other("REOPENED".into())));
        assert_eq!(i.label_id(), None);
        assert!(i.extra().is_empty());
    }
}
