//! Predictions: `create_predictions`, `PREDICTION` labels of a named model, as the SDK makes them.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::NewLabels;
use crate::client::Kili;
use crate::client::ops::labels::{APPEND_MANY_LABELS, PreparedLabel, append_many_labels_variables};
use crate::client::ops::{batches, send_reconciled};
use crate::client::progress::Progress;
use crate::client::take_data;
use crate::error::{Error, Result};
use crate::models::LabelType;

/// Predictions to add with [`Kili::create_predictions`]: one JSON response per asset, matched
/// by position, all from one model.
///
/// # Examples
///
/// ```no_run
/// use kili::{Kili, NewPredictions};
/// use serde_json::json;
/// let kili = Kili::from_env()?;
/// let response = json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}});
/// let predictions = NewPredictions::for_external_ids("project-id", ["car_1"], [response])
///     .model_name("detector-v3")
///     .overwrite(true);
/// let label_ids = kili.create_predictions(&predictions)?;
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct NewPredictions {
    project_id: String,
    asset_ids: Option<Vec<String>>,
    external_ids: Option<Vec<String>>,
    json_responses: Vec<Value>,
    model_name: Option<String>,
    overwrite: bool,
    progress: Option<Arc<dyn Progress>>,
}

impl std::fmt::Debug for NewPredictions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewPredictions")
            .field("project_id", &self.project_id)
            .field("json_responses", &self.json_responses.len())
            .field("model_name", &self.model_name)
            .field("overwrite", &self.overwrite)
            .finish_non_exhaustive()
    }
}

impl NewPredictions {
    fn new(project_id: String, json_responses: Vec<Value>) -> NewPredictions {
        NewPredictions {
            project_id,
            asset_ids: None,
            external_ids: None,
            json_responses,
            model_name: None,
            overwrite: false,
            progress: None,
        }
    }

    /// Predictions for the assets with these ids in a project.
    pub fn for_assets<I, S, J>(
        project_id: impl Into<String>,
        asset_ids: I,
        json_responses: J,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
        J: IntoIterator<Item = Value>,
    {
        let mut p = NewPredictions::new(project_id.into(), json_responses.into_iter().collect());
        p.asset_ids = Some(asset_ids.into_iter().map(Into::into).collect());
        p
    }

    /// Predictions for the assets with these external ids in a project (resolved to ids with
    /// one `assets` query per 1000, as the SDK does).
    pub fn for_external_ids<I, S, J>(
        project_id: impl Into<String>,
        external_ids: I,
        json_responses: J,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
        J: IntoIterator<Item = Value>,
    {
        let mut p = NewPredictions::new(project_id.into(), json_responses.into_iter().collect());
        p.external_ids = Some(external_ids.into_iter().map(Into::into).collect());
        p
    }

    /// The model that made the predictions. Required.
    pub fn model_name(mut self, name: impl Into<String>) -> Self {
        self.model_name = Some(name.into());
        self
    }

    /// Whether the new predictions replace the existing ones of the same model on the same
    /// assets.
    ///
    /// Defaults to `false`.
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Reports progress (predictions added, predictions to add) after each batch.
    ///
    /// Defaults to none.
    pub fn progress(mut self, observer: impl Progress + 'static) -> Self {
        self.progress = Some(Arc::new(observer));
        self
    }

    /// The same predictions as [`NewLabels`], for the label machinery.
    fn as_labels(&self, asset_ids: Option<&[String]>) -> NewLabels {
        let responses = self.json_responses.clone();
        let project = &self.project_id;
        let labels = match (asset_ids, &self.external_ids) {
            (Some(ids), _) => NewLabels::for_assets(project, ids.to_vec(), responses),
            (None, Some(ext)) => NewLabels::for_external_ids(project, ext.clone(), responses),
            (None, None) => NewLabels::for_assets(project, Vec::<String>::new(), responses),
        };
        let mut labels = labels
            .label_type(LabelType::Prediction)
            .model_name(self.model_name.clone().unwrap_or_default());
        if let Some(p) = &self.progress {
            let p = Arc::clone(p);
            labels = labels.progress(move |done, total| p.update(done, total));
        }
        labels
    }
}

impl Kili {
    /// Adds predictions (`PREDICTION` labels of one model) to assets, as the SDK's
    /// `create_predictions` does: `appendManyLabels` in batches of 100 with the project in
    /// `where`; returns the new labels' ids in input order.
    ///
    /// Without [`overwrite`](NewPredictions::overwrite) this is [`Kili::append_labels`], retries
    /// included. With it, each batch first removes the predictions of the same model on its
    /// assets, so resending a batch whose outcome is unknown converges to the same labels:
    /// such a batch is resent as it is.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] before any request if there is no model name, no prediction,
    /// arrays of different lengths or an empty id; if external ids are not found (after the
    /// look-up); otherwise the request errors of [`Kili::graphql`].
    pub fn create_predictions(&self, predictions: &NewPredictions) -> Result<Vec<String>> {
        if predictions
            .model_name
            .as_deref()
            .is_none_or(|m| m.trim().is_empty())
        {
            return Err(Error::invalid("predictions need a model name"));
        }
        if predictions.json_responses.is_empty() {
            return Err(Error::invalid(
                "no predictions: give at least one json response",
            ));
        }
        if predictions.project_id.trim().is_empty() {
            return Err(Error::invalid("the project id is empty"));
        }
        if !predictions.overwrite {
            return self.append_labels(&predictions.as_labels(predictions.asset_ids.as_deref()));
        }
        let asset_ids = match (&predictions.asset_ids, &predictions.external_ids) {
            (Some(ids), _) => ids.clone(),
            (None, Some(ext)) => self.asset_ids_of_external_ids(&predictions.project_id, ext)?,
            (None, None) => Vec::new(),
        };
        let labels = predictions.as_labels(Some(&asset_ids));
        crate::client::ops::labels::validate(&labels)?;
        let n = asset_ids.len();
        let mut out = Vec::with_capacity(n);
        let total = n as u64;
        for range in batches(n) {
            let batch: Vec<PreparedLabel> = range
                .clone()
                .map(|index| PreparedLabel {
                    index,
                    asset_id: asset_ids[index].clone(),
                    json_response: predictions.json_responses[index].clone(),
                })
                .collect();
            let mut vars = append_many_labels_variables(&labels, &batch);
            vars["data"]["overwrite"] = json!(true);
            let created = send_reconciled(self, "appendManyLabels", |_| {
                let mut data = self.attempt(APPEND_MANY_LABELS, &vars)?;
                take_data(&mut data).map_err(crate::client::retry::Failure::failed)
            })?;
            out.extend(
                created
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|l| l.get("id").and_then(Value::as_str).map(str::to_owned)),
            );
            if let Some(p) = &predictions.progress {
                p.update(range.end as u64, total);
            }
        }
        Ok(out)
    }
}
