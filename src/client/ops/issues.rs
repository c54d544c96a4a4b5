//! Issues: `create_issues` (batches of 100), `issues`, `count_issues`, with the SDK's
//! documents and variables. Uses this folder's batching only.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::client::Kili;
use crate::client::ops::{batches, id_of};
use crate::client::paginate::Paginated;
use crate::client::progress::Progress;
use crate::client::resources::{ISSUES, Page, page_setters};
use crate::client::retry::Safety;
use crate::error::{Error, Result};
use crate::models::{Issue, IssueStatus, IssueType};

pub(crate) const CREATE_ISSUES: &str = "mutation createIssues(
    $issues: [IssueToCreate!]!
    $where: AssetWhere!
) {
  data: createIssues(
    issues: $issues
    where: $where
  ) {
    id
  }
}";

/// Issues to create with [`Kili::create_issues`], one per label, matched by position with
/// their texts (each issue's first comment).
///
/// # Examples
///
/// ```no_run
/// use kili::{Kili, NewIssues};
/// let kili = Kili::from_env()?;
/// let issues = NewIssues::for_labels("project-id", ["label-1", "label-2"], ["Too many boxes", "BBox too large"])
///     .object_mids([None, Some("20240101-box-7")]);
/// let issue_ids = kili.create_issues(&issues)?;
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct NewIssues {
    project_id: String,
    label_ids: Vec<String>,
    texts: Vec<String>,
    object_mids: Option<Vec<Option<String>>>,
    progress: Option<Arc<dyn Progress>>,
}

impl std::fmt::Debug for NewIssues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewIssues")
            .field("project_id", &self.project_id)
            .field("label_ids", &self.label_ids)
            .field("texts", &self.texts)
            .field("object_mids", &self.object_mids)
            .finish_non_exhaustive()
    }
}

impl NewIssues {
    /// Creates issues on labels of a project: the i-th issue is about the i-th label (and so
    /// on its asset), with the i-th text as its first comment.
    pub fn for_labels<I, S, J, T>(
        project_id: impl Into<String>,
        label_ids: I,
        texts: J,
    ) -> NewIssues
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
        J: IntoIterator<Item = T>,
        T: Into<String>,
    {
        NewIssues {
            project_id: project_id.into(),
            label_ids: label_ids.into_iter().map(Into::into).collect(),
            texts: texts.into_iter().map(Into::into).collect(),
            object_mids: None,
            progress: None,
        }
    }

    /// Sets the object of its label each issue is about (its `mid` in the label's
    /// `jsonResponse`), matched by position; `None` for an issue about the whole label.
    ///
    /// Defaults to none for every issue (`objectMid: null`, as the SDK sends it).
    pub fn object_mids<I, S>(mut self, mids: I) -> NewIssues
    where
        I: IntoIterator<Item = Option<S>>,
        S: Into<String>,
    {
        self.object_mids = Some(mids.into_iter().map(|m| m.map(Into::into)).collect());
        self
    }

    /// Reports progress (issues created, issues to create) once the total is known and after
    /// each batch.
    ///
    /// Defaults to none.
    pub fn progress(mut self, observer: impl Progress + 'static) -> NewIssues {
        self.progress = Some(Arc::new(observer));
        self
    }

    /// Checks the input before any request.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.project_id.trim().is_empty() {
            return Err(Error::invalid("the project id is empty"));
        }
        let n = self.label_ids.len();
        let mids = self.object_mids.as_ref().map_or(n, Vec::len);
        if self.texts.len() != n || mids != n {
            return Err(Error::invalid(format!(
                "{n} label ids but {} texts and {mids} object mids: the arrays must have the same length",
                self.texts.len()
            )));
        }
        if self.label_ids.iter().any(|id| id.trim().is_empty()) {
            return Err(Error::invalid("one of the label ids is empty"));
        }
        Ok(())
    }
}

/// Builds the variables of one `createIssues` batch (`range` of the issues), as the SDK sends
/// them: nulls inside `issues` stay (the SDK strips nulls in `where`, not in lists).
pub(crate) fn create_issues_variables(new: &NewIssues, range: std::ops::Range<usize>) -> Value {
    let issues: Vec<Value> = range
        .map(|i| {
            let mid = new.object_mids.as_ref().and_then(|m| m[i].as_deref());
            json!({
                "labelID": new.label_ids[i],
                "objectMid": mid,
                "type": IssueType::Issue.as_str(),
                "assetId": null,
                "text": new.texts[i],
            })
        })
        .collect();
    json!({
        "issues": issues,
        "where": {"project": {"id": new.project_id}},
    })
}

/// Which issues to read or count, and how.
///
/// # Examples
///
/// ```no_run
/// use kili::{IssueQuery, IssueStatus, IssueType, Kili};
/// let kili = Kili::from_env()?;
/// let q = IssueQuery::new("project-id")
///     .asset_ids(["asset-id"])
///     .status(IssueStatus::Open)
///     .issue_type(IssueType::Issue)
///     .fields(["id", "status", "comments.text"]);
/// for issue in kili.issues(&q)? {
///     println!("{:?}", issue?.extra()["comments"]);
/// }
/// println!("{} open", kili.count_issues(&q)?);
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct IssueQuery {
    project_id: String,
    asset_ids: Option<Vec<String>>,
    status: Option<IssueStatus>,
    issue_type: Option<IssueType>,
    page: Page,
}

impl IssueQuery {
    /// Creates a query of all the issues (and questions) of a project.
    pub fn new(project_id: impl Into<String>) -> IssueQuery {
        IssueQuery {
            project_id: project_id.into(),
            asset_ids: None,
            status: None,
            issue_type: None,
            page: Page::default(),
        }
    }

    /// Keeps only the issues of the assets with these ids (`assetIn`).
    ///
    /// Defaults to the issues of every asset of the project.
    pub fn asset_ids<I, S>(mut self, ids: I) -> IssueQuery
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.asset_ids = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Keeps only the issues in this state.
    ///
    /// Defaults to every state.
    pub fn status(mut self, status: IssueStatus) -> IssueQuery {
        self.status = Some(status);
        self
    }

    /// Keeps only the issues of this kind (issues or questions).
    ///
    /// Defaults to both.
    pub fn issue_type(mut self, issue_type: IssueType) -> IssueQuery {
        self.issue_type = Some(issue_type);
        self
    }

    /// Builds the `IssueWhere`, shaped as the SDK's after it strips nulls (the empty `asset`
    /// object stays).
    pub(crate) fn where_(&self) -> Result<Value> {
        if self.project_id.trim().is_empty() {
            return Err(Error::invalid("the project id is empty"));
        }
        let mut w = Map::new();
        w.insert("project".into(), json!({ "id": self.project_id }));
        w.insert("asset".into(), json!({}));
        if let Some(ids) = &self.asset_ids {
            w.insert("assetIn".into(), json!(ids));
        }
        if let Some(s) = &self.status {
            w.insert("status".into(), json!(s.as_str()));
        }
        if let Some(t) = &self.issue_type {
            w.insert("type".into(), json!(t.as_str()));
        }
        Ok(Value::Object(w))
    }
}

page_setters!(IssueQuery, "issues", "DEFAULT_ISSUE_FIELDS");

/// Returns the ids a `createIssues` batch answered with, one per issue sent.
fn created_ids(answer: &Value, sent: usize) -> Result<Vec<String>> {
    match answer.as_array() {
        Some(items) if items.len() == sent => {
            items.iter().map(|i| id_of(i, "a created issue")).collect()
        }
        _ => Err(Error::decode(
            "the created issues",
            format!("expected {sent} objects with an id, got {answer}"),
        )),
    }
}

impl Kili {
    /// Creates issues on labels with `createIssues`, 100 per request as the SDK does, and
    /// returns their ids in input order. Each issue is `OPEN`, on its label's asset, with its
    /// text as its first comment.
    ///
    /// Not retried when the outcome is unknown (a timeout after sending): resending would
    /// create the issues twice. Connection failures before sending and 429 are retried.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty project or label id, or arrays of different
    /// lengths, before any request; the request errors of [`Kili::graphql`] (an unknown label
    /// is a GraphQL error). A failure in a later batch leaves the earlier batches created.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// let ids = kili.create_issues(&kili::NewIssues::for_labels("project-id", ["label-id"], ["Wrong class"]))?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn create_issues(&self, issues: &NewIssues) -> Result<Vec<String>> {
        issues.validate()?;
        let total = issues.label_ids.len() as u64;
        if let Some(p) = &issues.progress {
            p.update(0, total);
        }
        let mut ids = Vec::with_capacity(issues.label_ids.len());
        for range in batches(issues.label_ids.len()) {
            let sent = range.len();
            let end = range.end as u64;
            let vars = create_issues_variables(issues, range);
            let created = self.execute_data(CREATE_ISSUES, &vars, Safety::NotIdempotent)?;
            ids.extend(created_ids(&created, sent)?);
            if let Some(p) = &issues.progress {
                p.update(end, total);
            }
        }
        Ok(ids)
    }

    /// Reads issues (and questions) lazily, 100 per request (see [`Paginated`]).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty project id or malformed field paths, before any
    /// request. Request errors come from the iterator.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// for issue in kili.issues(&kili::IssueQuery::new("project-id"))? {
    ///     let issue = issue?;
    ///     println!("{} {:?} on {:?}", issue.id(), issue.status(), issue.asset_id());
    /// }
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn issues(&self, query: &IssueQuery) -> Result<Paginated<Issue>> {
        Paginated::new(
            self,
            &ISSUES,
            &query.page,
            query.where_()?,
            Issue::from_json,
        )
    }

    /// Counts the issues matching the query's filters.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty project id; the request errors of
    /// [`Kili::graphql`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// let q = kili::IssueQuery::new("project-id").status(kili::IssueStatus::Open);
    /// let open = kili.count_issues(&q)?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn count_issues(&self, query: &IssueQuery) -> Result<u64> {
        self.count(&ISSUES, &query.where_()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_happens_before_requests() {
        assert!(NewIssues::for_labels("p", ["l"], ["t"]).validate().is_ok());
        assert!(
            NewIssues::for_labels("p", ["l", "m"], ["t"])
                .validate()
                .is_err()
        );
        assert!(NewIssues::for_labels("p", [""], ["t"]).validate().is_err());
        assert!(NewIssues::for_labels(" ", ["l"], ["t"]).validate().is_err());
        let mids = NewIssues::for_labels("p", ["l"], ["t"]).object_mids([Some("a"), None]);
        assert!(mids.validate().is_err());
    }

    #[test]
    fn create_variables_have_the_sdk_shape() {
        let n = NewIssues::for_labels("p", ["l1", "l2"], ["too many", "too large"])
            .object_mids([None, Some("mid-2")]);
        assert_eq!(
            create_issues_variables(&n, 0..2),
            json!({
                "issues": [
                    {"labelID": "l1", "objectMid": null, "type": "ISSUE", "assetId": null, "text": "too many"},
                    {"labelID": "l2", "objectMid": "mid-2", "type": "ISSUE", "assetId": null, "text": "too large"}
                ],
                "where": {"project": {"id": "p"}}
            })
        );
        let bare = NewIssues::for_labels("p", ["l1", "l2"], ["a", "b"]);
        assert_eq!(
            create_issues_variables(&bare, 1..2)["issues"],
            json!([{"labelID": "l2", "objectMid": null, "type": "ISSUE", "assetId": null, "text": "b"}])
        );
    }

    #[test]
    fn issue_where_has_the_sdk_shape() {
        assert_eq!(
            IssueQuery::new("p").where_().unwrap(),
            json!({"project": {"id": "p"}, "asset": {}})
        );
        let q = IssueQuery::new("p")
            .asset_ids(["a1", "a2"])
            .status(IssueStatus::Open)
            .issue_type(IssueType::Issue);
        assert_eq!(
            q.where_().unwrap(),
            json!({
                "project": {"id": "p"}, "asset": {}, "assetIn": ["a1", "a2"],
                "status": "OPEN", "type": "ISSUE"
            })
        );
        assert!(IssueQuery::new("").where_().is_err());
    }

    #[test]
    fn created_ids_must_match_what_was_sent() {
        let answer = json!([{"id": "i1"}, {"id": "i2"}]);
        assert_eq!(created_ids(&answer, 2).unwrap(), ["i1", "i2"]);
        assert!(created_ids(&answer, 3).is_err());
        assert!(created_ids(&json!([{"nope": 1}]), 1).is_err());
        assert!(created_ids(&Value::Null, 0).is_err());
    }
}
