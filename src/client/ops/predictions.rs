//! Predictions: `create_predictions`, `PREDICTION` labels of a named model, as the SDK makes
//! them. Built on `labels`: a [`NewPredictions`] is a [`NewLabels`] of that type, sent by
//! `append_labels`.

use serde_json::Value;

use crate::client::Kili;
use crate::client::ops::labels::NewLabels;
use crate::client::progress::Progress;
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
    /// The same labels, of type `PREDICTION`: predictions are labels, sent the same way.
    labels: NewLabels,
}

impl std::fmt::Debug for NewPredictions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewPredictions")
            .field("project_id", &self.labels.project_id)
            .field("json_responses", &self.labels.json_responses.len())
            .field("model_name", &self.labels.model_name)
            .field("overwrite", &self.labels.overwrite)
            .finish_non_exhaustive()
    }
}

impl NewPredictions {
    fn new(labels: NewLabels) -> NewPredictions {
        NewPredictions {
            labels: labels.label_type(LabelType::Prediction),
        }
    }

    /// Creates predictions for the assets of a project with these ids; the i-th response goes
    /// to the i-th asset.
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
        NewPredictions::new(NewLabels::for_assets(project_id, asset_ids, json_responses))
    }

    /// Creates predictions for the assets with these external ids in a project (resolved to
    /// ids with one `assets` query per 1000, as the SDK does).
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
        NewPredictions::new(NewLabels::for_external_ids(
            project_id,
            external_ids,
            json_responses,
        ))
    }

    /// Sets the model that made the predictions. Required: it has no default.
    pub fn model_name(mut self, name: impl Into<String>) -> Self {
        self.labels = self.labels.model_name(name);
        self
    }

    /// Sets whether the new predictions replace the existing ones of the same model on the
    /// same assets.
    ///
    /// Defaults to `false`.
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.labels.overwrite = overwrite;
        self
    }

    /// Reports progress (predictions added, predictions to add) once the total is known and
    /// after each batch.
    ///
    /// Defaults to none.
    pub fn progress(mut self, observer: impl Progress + 'static) -> Self {
        self.labels = self.labels.progress(observer);
        self
    }
}

impl Kili {
    /// Adds predictions (`PREDICTION` labels of one model) to assets, as the SDK's
    /// `create_predictions` does: `appendManyLabels` in batches of 100 with the project in
    /// `where`; returns the new labels' ids in input order.
    ///
    /// This is [`Kili::append_labels`], retries included, with a model name required. With
    /// [`overwrite`](NewPredictions::overwrite), each batch first removes the predictions of
    /// the same model on its assets, so resending a batch whose outcome is unknown converges
    /// to the same labels: such a batch is resent as it is, not reconciled.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] before any request if there is no model name, no prediction,
    /// arrays of different lengths or an empty id; if external ids are not found (after the
    /// look-up); otherwise the request errors of [`Kili::graphql`].
    pub fn create_predictions(&self, predictions: &NewPredictions) -> Result<Vec<String>> {
        let labels = &predictions.labels;
        if labels
            .model_name
            .as_deref()
            .is_none_or(|m| m.trim().is_empty())
        {
            return Err(Error::invalid("predictions need a model name"));
        }
        if labels.json_responses.is_empty() {
            return Err(Error::invalid(
                "no predictions: give at least one json response",
            ));
        }
        self.append_labels(labels)
    }
}
