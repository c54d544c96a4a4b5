//! Labels: `append_labels` (reconciled retries), `labels`, `count_labels`, with the SDK's
//! documents and variables. Uses `lookup`; `predictions` builds on it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};

use crate::client::ops::lookup::asset_where;
use crate::client::ops::{batches, send_reconciled};
use crate::client::paginate::Paginated;
use crate::client::progress::Progress;
use crate::client::resources::{LABELS, Page, page_setters};
use crate::client::retry::Failure;
use crate::client::{Kili, take_data};
use crate::error::{Error, Result};
use crate::models::{Label, LabelType};

pub(crate) const APPEND_MANY_LABELS: &str =
    "mutation appendManyLabels($data: AppendManyLabelsData!, $where: AssetWhere!) {
    data: appendManyLabels(data: $data, where: $where ) {
        id
    }
}";

/// How far back, before a lost attempt started, reconciliation looks for the labels it may
/// have created: covers clock skew between this machine and the server.
const CLOCK_SKEW_MARGIN: Duration = Duration::from_secs(10 * 60);

/// Which assets labels go to.
#[derive(Debug, Clone)]
enum Targets {
    AssetIds(Vec<String>),
    ExternalIds(Vec<String>),
}

/// Labels to add with [`Kili::append_labels`]: one JSON response per asset, matched by
/// position.
///
/// # Examples
///
/// ```no_run
/// use kili::{Kili, LabelType, NewLabels};
/// use serde_json::json;
/// let kili = Kili::from_env()?;
/// let response = json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}});
/// let by_id = NewLabels::for_assets("project-id", ["asset-id"], [response.clone()])
///     .label_type(LabelType::Inference);
/// let by_external_id = NewLabels::for_external_ids("project-id", ["car_1"], [response])
///     .label_type(LabelType::Prediction)
///     .model_name("my-model-v2")
///     .seconds_to_label(12.5)
///     .progress(|done, total| eprintln!("{done}/{total} labels"));
/// let label_ids = kili.append_labels(&by_id)?;
/// kili.append_labels(&by_external_id)?;
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct NewLabels {
    pub(crate) project_id: String,
    targets: Targets,
    pub(crate) json_responses: Vec<Value>,
    label_type: LabelType,
    pub(crate) model_name: Option<String>,
    author_id: Option<String>,
    seconds_to_label: Option<f64>,
    /// Whether the labels replace those of the same model and type on their assets (set by
    /// predictions); a lost batch is then resent as it is, not reconciled.
    pub(crate) overwrite: bool,
    progress: Option<Arc<dyn Progress>>,
}

impl std::fmt::Debug for NewLabels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewLabels")
            .field("project_id", &self.project_id)
            .field("targets", &self.targets)
            .field("json_responses", &self.json_responses.len())
            .field("label_type", &self.label_type)
            .field("model_name", &self.model_name)
            .field("author_id", &self.author_id)
            .finish_non_exhaustive()
    }
}

impl NewLabels {
    fn new(project_id: String, targets: Targets, json_responses: Vec<Value>) -> NewLabels {
        NewLabels {
            project_id,
            targets,
            json_responses,
            label_type: LabelType::Default,
            model_name: None,
            author_id: None,
            seconds_to_label: None,
            overwrite: false,
            progress: None,
        }
    }

    /// Creates labels for the assets of a project with these ids; the i-th response goes to
    /// the i-th asset. The project is sent in `where.project`, as the SDK does when given one.
    pub fn for_assets<I, S, J>(
        project_id: impl Into<String>,
        asset_ids: I,
        json_responses: J,
    ) -> NewLabels
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
        J: IntoIterator<Item = Value>,
    {
        NewLabels::new(
            project_id.into(),
            Targets::AssetIds(asset_ids.into_iter().map(Into::into).collect()),
            json_responses.into_iter().collect(),
        )
    }

    /// Creates labels for the assets with these external ids in a project (resolved to ids
    /// with one `assets` query per 1000 first, as the SDK does).
    pub fn for_external_ids<I, S, J>(
        project_id: impl Into<String>,
        external_ids: I,
        json_responses: J,
    ) -> NewLabels
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
        J: IntoIterator<Item = Value>,
    {
        NewLabels::new(
            project_id.into(),
            Targets::ExternalIds(external_ids.into_iter().map(Into::into).collect()),
            json_responses.into_iter().collect(),
        )
    }

    /// Sets the kind of label; [`LabelType::Prediction`] needs a
    /// [model name](NewLabels::model_name).
    ///
    /// Defaults to [`LabelType::Default`].
    pub fn label_type(mut self, label_type: LabelType) -> NewLabels {
        self.label_type = label_type;
        self
    }

    /// Sets the name of the model that made the labels.
    ///
    /// Defaults to none.
    pub fn model_name(mut self, model_name: impl Into<String>) -> NewLabels {
        self.model_name = Some(model_name.into());
        self
    }

    /// Sets the id of the user the labels are attributed to.
    ///
    /// Defaults to the API key's user (decided by the server).
    pub fn author_id(mut self, author_id: impl Into<String>) -> NewLabels {
        self.author_id = Some(author_id.into());
        self
    }

    /// Sets the time spent on each label, in seconds.
    ///
    /// Defaults to none.
    pub fn seconds_to_label(mut self, seconds: f64) -> NewLabels {
        self.seconds_to_label = Some(seconds);
        self
    }

    /// Reports progress (labels added, labels to add) once the total is known and after each
    /// batch.
    ///
    /// Defaults to none.
    pub fn progress(mut self, observer: impl Progress + 'static) -> NewLabels {
        self.progress = Some(Arc::new(observer));
        self
    }
}

/// Checks the input before any request.
pub(crate) fn validate(new: &NewLabels) -> Result<()> {
    let (what, targets) = match &new.targets {
        Targets::AssetIds(t) => ("asset ids", t),
        Targets::ExternalIds(t) => ("external ids", t),
    };
    if targets.len() != new.json_responses.len() {
        return Err(Error::invalid(format!(
            "{} {what} but {} json responses: the arrays must have the same length",
            targets.len(),
            new.json_responses.len()
        )));
    }
    if targets.iter().any(|t| t.trim().is_empty()) {
        return Err(Error::invalid(format!("one of the {what} is empty")));
    }
    if new.project_id.trim().is_empty() {
        return Err(Error::invalid("the project id is empty"));
    }
    if new.label_type == LabelType::Prediction && new.model_name.is_none() {
        return Err(Error::invalid("a PREDICTION label needs a model name"));
    }
    Ok(())
}

/// One label ready to send.
#[derive(Debug, Clone)]
pub(crate) struct PreparedLabel {
    /// Position in the input.
    pub(crate) index: usize,
    pub(crate) asset_id: String,
    pub(crate) json_response: Value,
}

/// Builds the variables of one `appendManyLabels` batch. As in the SDK, nulls inside `labelsData`
/// are sent (the SDK strips nulls only in nested objects, not in lists).
pub(crate) fn append_many_labels_variables(new: &NewLabels, batch: &[PreparedLabel]) -> Value {
    let labels: Vec<Value> = batch
        .iter()
        .map(|l| {
            json!({
                "assetID": l.asset_id,
                "authorID": new.author_id,
                "clientVersion": null,
                "jsonResponse": l.json_response.to_string(),
                "modelName": new.model_name,
                "referencedLabelId": null,
                "secondsToLabel": new.seconds_to_label,
            })
        })
        .collect();
    let mut where_ = Map::new();
    where_.insert(
        "idIn".into(),
        json!(batch.iter().map(|l| &l.asset_id).collect::<Vec<_>>()),
    );
    where_.insert("project".into(), json!({ "id": new.project_id }));
    json!({
        "data": {
            "labelType": new.label_type.as_str(),
            "overwrite": new.overwrite,
            "labelsData": labels,
        },
        "where": where_,
    })
}

/// Builds the `LabelWhere` that finds the labels a lost attempt of `batch` may have created.
pub(crate) fn reconcile_where(
    new: &NewLabels,
    batch: &[PreparedLabel],
    since: SystemTime,
) -> Value {
    let ids: Vec<String> = batch.iter().map(|l| l.asset_id.clone()).collect();
    let mut w = Map::new();
    w.insert("project".into(), json!({ "id": new.project_id }));
    w.insert(
        "asset".into(),
        asset_where(Some(&new.project_id), Some(&ids), None),
    );
    w.insert("typeIn".into(), json!([new.label_type.as_str()]));
    w.insert(
        "createdAtGte".into(),
        json!(crate::common::time::format_iso8601(since)),
    );
    Value::Object(w)
}

/// Returns what identifies a label created from one of our items: asset, response, model
/// (and author when we chose it).
fn match_key(
    asset_id: &str,
    json_response: &Value,
    model: Option<&str>,
    author: Option<&str>,
) -> String {
    // serde_json's maps are ordered, so equal values print the same.
    format!("{asset_id}\u{0}{json_response}\u{0}{model:?}\u{0}{author:?}")
}

/// Drops from `pending` the items that `existing` labels already account for (each label
/// accounts for one item) and returns their label ids by input position.
pub(crate) fn reconcile(
    new: &NewLabels,
    pending: &mut Vec<PreparedLabel>,
    existing: &[Label],
) -> Vec<(usize, String)> {
    let mut pool: HashMap<String, Vec<String>> = HashMap::new();
    for l in existing {
        let (Some(asset), Some(t)) = (l.asset_id(), l.label_type()) else {
            continue;
        };
        if *t != new.label_type {
            continue;
        }
        let author = match &new.author_id {
            Some(_) => l.author().and_then(|a| a.id),
            None => None,
        };
        // Compared parsed: the server may print the response differently than we did.
        let response = l
            .json_response()
            .and_then(|r| r.parse().ok())
            .unwrap_or(Value::Null);
        let key = match_key(asset, &response, l.model_name(), author);
        pool.entry(key).or_default().push(l.id().to_owned());
    }
    let mut found = Vec::new();
    pending.retain(|p| {
        let key = match_key(
            &p.asset_id,
            &p.json_response,
            new.model_name.as_deref(),
            new.author_id.as_deref(),
        );
        match pool.get_mut(&key).and_then(Vec::pop) {
            Some(id) => {
                found.push((p.index, id));
                false
            }
            None => true,
        }
    });
    found
}

/// Which labels to read or count, and how.
///
/// # Examples
///
/// ```no_run
/// use kili::{Kili, LabelQuery, LabelType};
/// let kili = Kili::from_env()?;
/// let q = LabelQuery::new("project-id")
///     .asset_ids(["asset-id"])
///     .label_types([LabelType::Default, LabelType::Review])
///     .created_at_gte("2024-01-01T00:00:00.000Z")
///     .fields(["id", "author.email", "jsonResponse"])
///     .first(50);
/// for label in kili.labels(&q)? {
///     println!("{:?}", label?.json_response());
/// }
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct LabelQuery {
    project_id: String,
    asset_ids: Option<Vec<String>>,
    asset_external_ids: Option<Vec<String>>,
    label_types: Option<Vec<LabelType>>,
    created_at_gte: Option<String>,
    created_at_lte: Option<String>,
    page: Page,
}

impl LabelQuery {
    /// Creates a query of all the labels of a project.
    pub fn new(project_id: impl Into<String>) -> LabelQuery {
        LabelQuery {
            project_id: project_id.into(),
            asset_ids: None,
            asset_external_ids: None,
            label_types: None,
            created_at_gte: None,
            created_at_lte: None,
            page: Page::default(),
        }
    }

    /// Keeps only the labels of the assets with these ids.
    ///
    /// Defaults to the labels of every asset of the project.
    pub fn asset_ids<I, S>(mut self, ids: I) -> LabelQuery
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.asset_ids = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Keeps only the labels of the assets with exactly these external ids.
    ///
    /// Defaults to the labels of every asset of the project.
    pub fn asset_external_ids<I, S>(mut self, ids: I) -> LabelQuery
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.asset_external_ids = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Keeps only the labels of these kinds (`typeIn`).
    ///
    /// Defaults to every kind.
    pub fn label_types<I>(mut self, types: I) -> LabelQuery
    where
        I: IntoIterator<Item = LabelType>,
    {
        self.label_types = Some(types.into_iter().collect());
        self
    }

    /// Keeps only the labels created at or after this instant (ISO 8601, e.g.
    /// `2024-01-01T00:00:00.000Z`, as Kili writes `createdAt`).
    ///
    /// Defaults to no lower bound.
    pub fn created_at_gte(mut self, instant: impl Into<String>) -> LabelQuery {
        self.created_at_gte = Some(instant.into());
        self
    }

    /// Keeps only the labels created at or before this instant (ISO 8601).
    ///
    /// Defaults to no upper bound.
    pub fn created_at_lte(mut self, instant: impl Into<String>) -> LabelQuery {
        self.created_at_lte = Some(instant.into());
        self
    }

    /// Builds the `LabelWhere`, shaped as the SDK's after it strips nulls.
    pub(crate) fn where_(&self) -> Result<Value> {
        if self.project_id.trim().is_empty() {
            return Err(Error::invalid("the project id is empty"));
        }
        let mut w = Map::new();
        // The SDK always sends an asset filter scoped to the project, empty `label` and
        // `issue` included.
        w.insert(
            "asset".into(),
            asset_where(
                Some(&self.project_id),
                self.asset_ids.as_deref(),
                self.asset_external_ids.as_deref(),
            ),
        );
        if let Some(t) = &self.created_at_gte {
            w.insert("createdAtGte".into(), json!(t));
        }
        if let Some(t) = &self.created_at_lte {
            w.insert("createdAtLte".into(), json!(t));
        }
        w.insert("project".into(), json!({ "id": self.project_id }));
        if let Some(types) = &self.label_types {
            w.insert(
                "typeIn".into(),
                json!(types.iter().map(LabelType::as_str).collect::<Vec<_>>()),
            );
        }
        Ok(Value::Object(w))
    }
}

page_setters!(LabelQuery, "labels", "DEFAULT_LABEL_FIELDS");

impl Kili {
    /// Adds labels to assets and returns the new labels' ids, in input order.
    ///
    /// Sent with `appendManyLabels` in batches of 100, as the SDK does. With
    /// [`NewLabels::for_external_ids`], the external ids are first resolved to asset ids.
    ///
    /// # Retries never duplicate a label
    ///
    /// Kili gives labels no client-chosen id, so a batch whose request may have reached the
    /// server (a timeout or dropped connection after sending, a 502/503/504/52x that a proxy
    /// may have sent after the backend ran) is *reconciled* before it is resent: the client
    /// reads the labels of the batch's assets with the batch's label type created since the
    /// attempt started (minus 10 minutes for clock skew), matches them to the batch's items by
    /// asset, JSON response and model name (and author, when one was given), each existing
    /// label accounting for one item, and resends only the items left. A failure that proves
    /// the request did not run (connection refused, 429) is resent as is; GraphQL errors are
    /// never retried. The one case this can get wrong is a label identical in every matched
    /// field created by someone else on the same asset within that window: it is then counted
    /// as ours, and one label fewer is created (never one more).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] before any request if the arrays differ in length, an id is
    /// empty, or a [`LabelType::Prediction`] has no model name; also if external ids are not
    /// found in the project (after the lookup). Otherwise the request errors of
    /// [`Kili::graphql`]; a failure in a later batch leaves the earlier batches created.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use kili::{Kili, LabelType, NewLabels};
    /// let kili = Kili::from_env()?;
    /// let response = serde_json::json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}});
    /// let ids = kili.append_labels(
    ///     &NewLabels::for_assets("project-id", ["asset-id"], [response])
    ///         .label_type(LabelType::Inference),
    /// )?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn append_labels(&self, labels: &NewLabels) -> Result<Vec<String>> {
        validate(labels)?;
        if labels.json_responses.is_empty() {
            return Ok(Vec::new());
        }
        let asset_ids = match &labels.targets {
            Targets::AssetIds(ids) => ids.clone(),
            Targets::ExternalIds(ext) => self.asset_ids_of_external_ids(&labels.project_id, ext)?,
        };
        // `validate` makes the lengths equal; the minimum keeps every slice below in bounds.
        let n = asset_ids.len().min(labels.json_responses.len());
        let total = n as u64;
        if let Some(p) = &labels.progress {
            p.update(0, total);
        }
        let mut out: Vec<Option<String>> = vec![None; n];
        for range in batches(n) {
            // Prepared batch by batch: one batch's copies of the responses at a time, not all.
            let batch: Vec<PreparedLabel> = asset_ids[range.clone()]
                .iter()
                .zip(&labels.json_responses[range.clone()])
                .zip(range.clone())
                .map(|((asset_id, r), index)| PreparedLabel {
                    index,
                    asset_id: asset_id.clone(),
                    json_response: r.clone(),
                })
                .collect();
            self.append_label_batch(labels, batch, &mut out)?;
            if let Some(p) = &labels.progress {
                p.update(range.end as u64, total);
            }
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Sends one batch with `appendManyLabels`, reconciled (unless it overwrites, which makes
    /// resending it as it is safe), and puts the new labels' ids at their input positions.
    fn append_label_batch(
        &self,
        labels: &NewLabels,
        mut pending: Vec<PreparedLabel>,
        out: &mut [Option<String>],
    ) -> Result<()> {
        let started = SystemTime::now();
        send_reconciled(self, "appendManyLabels", |maybe_applied| {
            if maybe_applied && !labels.overwrite {
                let since = started
                    .checked_sub(CLOCK_SKEW_MARGIN)
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                let existing = self
                    .reconcile_labels(labels, &pending, since)
                    .map_err(Failure::failed)?;
                for (index, id) in reconcile(labels, &mut pending, &existing) {
                    out[index] = Some(id);
                }
                log::info!(
                    "reconciled a lost appendManyLabels batch: {} items left to send",
                    pending.len()
                );
            }
            if pending.is_empty() {
                return Ok(());
            }
            let vars = append_many_labels_variables(labels, &pending);
            let mut data = self.attempt(APPEND_MANY_LABELS, &vars)?;
            let created = take_data(&mut data).map_err(Failure::failed)?;
            let created = created.as_array().map(Vec::as_slice).unwrap_or_default();
            for (p, label) in pending.iter().zip(created) {
                out[p.index] = label.get("id").and_then(Value::as_str).map(str::to_owned);
            }
            Ok(())
        })
    }

    fn reconcile_labels(
        &self,
        new: &NewLabels,
        pending: &[PreparedLabel],
        since: SystemTime,
    ) -> Result<Vec<Label>> {
        let fields = [
            "id",
            "labelType",
            "jsonResponse",
            "modelName",
            "labelOf.id",
            "author.id",
        ];
        let page = Page {
            fields: Some(fields.map(String::from).to_vec()),
            ..Page::default()
        };
        let where_ = reconcile_where(new, pending, since);
        Paginated::new(self, &LABELS, &page, where_, Label::from_json)?.collect()
    }

    /// Reads labels lazily, 100 per request (see [`Paginated`]).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty project id or malformed field paths, before any
    /// request. Request errors come from the iterator.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use kili::{Kili, LabelQuery, LabelType};
    /// let kili = Kili::from_env()?;
    /// let q = LabelQuery::new("project-id").label_types([LabelType::Inference]);
    /// for label in kili.labels(&q)? {
    ///     let label = label?;
    ///     println!("{} on {:?}: {:?}", label.id(), label.asset_id(), label.json_response());
    /// }
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn labels(&self, query: &LabelQuery) -> Result<Paginated<Label>> {
        Paginated::new(
            self,
            &LABELS,
            &query.page,
            query.where_()?,
            Label::from_json,
        )
    }

    /// Counts the labels matching the query's filters.
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
    /// let n = kili.count_labels(&kili::LabelQuery::new("project-id"))?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn count_labels(&self, query: &LabelQuery) -> Result<u64> {
        self.count(&LABELS, &query.where_()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response() -> Value {
        json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}})
    }

    #[test]
    fn validation_happens_before_requests() {
        assert!(validate(&NewLabels::for_assets("p", ["a", "b"], [response()])).is_err());
        assert!(validate(&NewLabels::for_assets("p", [""], [response()])).is_err());
        assert!(validate(&NewLabels::for_assets(" ", ["a"], [response()])).is_err());
        let p = NewLabels::for_assets("p", ["a"], [response()]).label_type(LabelType::Prediction);
        assert!(validate(&p).is_err());
        assert!(validate(&p.model_name("m")).is_ok());
        assert!(validate(&NewLabels::for_external_ids("", ["e"], [response()])).is_err());
    }

    #[test]
    fn append_variables_have_the_sdk_shape() {
        let n = NewLabels::for_assets("p", ["a1"], [response()]).label_type(LabelType::Inference);
        let batch = [PreparedLabel {
            index: 0,
            asset_id: "a1".into(),
            json_response: response(),
        }];
        assert_eq!(
            append_many_labels_variables(&n, &batch),
            json!({
                "data": {"labelType": "INFERENCE", "overwrite": false, "labelsData": [{
                    "assetID": "a1", "authorID": null, "clientVersion": null,
                    "jsonResponse": "{\"JOB_0\":{\"categories\":[{\"name\":\"OBJECT_A\"}]}}",
                    "modelName": null, "referencedLabelId": null, "secondsToLabel": null
                }]},
                "where": {"idIn": ["a1"], "project": {"id": "p"}}
            })
        );
    }

    #[test]
    fn label_where_has_the_sdk_shape() {
        assert_eq!(
            LabelQuery::new("p").where_().unwrap(),
            json!({"project": {"id": "p"}, "asset": {"project": {"id": "p"}, "label": {}, "issue": {}}})
        );
        let q = LabelQuery::new("p")
            .asset_external_ids(["e"])
            .label_types([LabelType::Review])
            .created_at_gte("2024-01-01T00:00:00.000Z")
            .created_at_lte("2025-01-01T00:00:00.000Z");
        assert_eq!(
            q.where_().unwrap(),
            json!({
                "project": {"id": "p"},
                "asset": {"project": {"id": "p"}, "externalIdStrictlyIn": ["e"], "label": {}, "issue": {}},
                "typeIn": ["REVIEW"],
                "createdAtGte": "2024-01-01T00:00:00.000Z",
                "createdAtLte": "2025-01-01T00:00:00.000Z"
            })
        );
    }

    fn label(id: &str, asset: &str, r: Value) -> Label {
        Label::from_json(&json!({
            "id": id, "labelOf": {"id": asset}, "labelType": "INFERENCE",
            "jsonResponse": r.to_string(), "modelName": null
        }))
        .unwrap()
    }

    #[test]
    fn reconciliation_counts_each_existing_label_once() {
        let n = NewLabels::for_assets("p", ["a", "a", "b"], [response(), response(), response()])
            .label_type(LabelType::Inference);
        let mut pending: Vec<PreparedLabel> = ["a", "a", "b"]
            .iter()
            .enumerate()
            .map(|(index, a)| PreparedLabel {
                index,
                asset_id: (*a).into(),
                json_response: response(),
            })
            .collect();
        // One of the two labels on `a` was created; a label with another response was not ours.
        let existing = [
            label("l1", "a", response()),
            label("l2", "b", json!({"other": 1})),
        ];
        let found = reconcile(&n, &mut pending, &existing);
        assert_eq!(found, [(0, "l1".to_owned())]);
        let left: Vec<usize> = pending.iter().map(|p| p.index).collect();
        assert_eq!(left, [1, 2]);
    }

    #[test]
    fn reconcile_where_targets_the_batch() {
        let n = NewLabels::for_assets("p", ["a"], [response()]).label_type(LabelType::Inference);
        let batch = [PreparedLabel {
            index: 0,
            asset_id: "a".into(),
            json_response: response(),
        }];
        let w = reconcile_where(&n, &batch, SystemTime::UNIX_EPOCH);
        assert_eq!(
            w,
            json!({
                "project": {"id": "p"},
                "asset": {"project": {"id": "p"}, "idIn": ["a"], "label": {}, "issue": {}},
                "typeIn": ["INFERENCE"],
                "createdAtGte": "1970-01-01T00:00:00.000Z"
            })
        );
    }
}
