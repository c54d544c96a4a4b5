//! Changing existing labels: `update_properties_in_label`, `delete_labels`, with the SDK's
//! documents and variables. Uses this folder's batching only.

use serde_json::{Map, Value, json};

use crate::client::Kili;
use crate::client::ops::{batches, id_of, ids_given};
use crate::client::retry::Safety;
use crate::error::{Error, Result};

pub(crate) const UPDATE_PROPERTIES_IN_LABEL: &str = "mutation(
    $where: LabelWhere!
    $data: LabelData!
) {
data: updatePropertiesInLabel(
    where: $where
    data:  $data
) {
    id
}
}";

pub(crate) const DELETE_LABELS: &str = "mutation($ids: [ID!]!) {
  data: deleteLabels(ids: $ids)
}";

/// The properties of a label to change with [`Kili::update_properties_in_label`]; those left
/// unset are not sent, and keep their value.
///
/// # Examples
///
/// ```no_run
/// use kili::{Kili, LabelUpdate};
/// let kili = Kili::from_env()?;
/// let update = LabelUpdate::new()
///     .json_response(serde_json::json!({"JOB_0": {"categories": [{"name": "OBJECT_B"}]}}))
///     .seconds_to_label(42.0)
///     .model_name("detector-v4")
///     .is_sent_back_to_queue(false);
/// let label_id = kili.update_properties_in_label("label-id", &update)?;
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct LabelUpdate {
    json_response: Option<Value>,
    seconds_to_label: Option<f64>,
    model_name: Option<String>,
    is_sent_back_to_queue: Option<bool>,
}

impl LabelUpdate {
    /// Creates an update that changes nothing yet.
    pub fn new() -> LabelUpdate {
        LabelUpdate::default()
    }

    /// Sets the new annotation (sent as a JSON string, as the SDK does).
    ///
    /// Defaults to unchanged (not sent).
    pub fn json_response(mut self, response: Value) -> LabelUpdate {
        self.json_response = Some(response);
        self
    }

    /// Sets the new time spent labeling, in seconds.
    ///
    /// Defaults to unchanged (not sent).
    pub fn seconds_to_label(mut self, seconds: f64) -> LabelUpdate {
        self.seconds_to_label = Some(seconds);
        self
    }

    /// Sets the new model name.
    ///
    /// Defaults to unchanged (not sent).
    pub fn model_name(mut self, name: impl Into<String>) -> LabelUpdate {
        self.model_name = Some(name.into());
        self
    }

    /// Sets whether the labeled asset goes back to the labeling queue.
    ///
    /// Defaults to unchanged (not sent).
    pub fn is_sent_back_to_queue(mut self, yes: bool) -> LabelUpdate {
        self.is_sent_back_to_queue = Some(yes);
        self
    }

    /// Returns the `LabelData` the SDK sends: only the properties given (it strips nulls in
    /// `data`).
    pub(crate) fn data(&self) -> Value {
        let mut d = Map::new();
        if let Some(b) = self.is_sent_back_to_queue {
            d.insert("isSentBackToQueue".into(), json!(b));
        }
        // The SDK sends no response for an empty one (`json.dumps(r) if r else None`).
        if let Some(r) = self
            .json_response
            .as_ref()
            .filter(|r| !r.is_null() && r.as_object().is_none_or(|o| !o.is_empty()))
        {
            d.insert("jsonResponse".into(), json!(r.to_string()));
        }
        if let Some(m) = &self.model_name {
            d.insert("modelName".into(), json!(m));
        }
        if let Some(s) = self.seconds_to_label {
            d.insert("secondsToLabel".into(), json!(s));
        }
        Value::Object(d)
    }
}

impl Kili {
    /// Changes properties of a label with `updatePropertiesInLabel`, as the SDK's
    /// `update_properties_in_label` does; returns the label's id, as the server answers it.
    ///
    /// Label subscriptions of the project receive the new version as an event.
    ///
    /// # Retries
    ///
    /// An update that may have reached the server is not resent (it would make a second
    /// version, and a second event): it is retried only when the request certainly did not
    /// run.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty id or an update that changes nothing; the request
    /// errors of [`Kili::graphql`] (a GraphQL error for an unknown label).
    pub fn update_properties_in_label(
        &self,
        label_id: &str,
        update: &LabelUpdate,
    ) -> Result<String> {
        if label_id.trim().is_empty() {
            return Err(Error::invalid("the label id is empty"));
        }
        let data = update.data();
        if data.as_object().is_some_and(Map::is_empty) {
            return Err(Error::invalid("the update changes no property"));
        }
        let vars = json!({"where": {"id": label_id}, "data": data});
        let label = self.execute_data(UPDATE_PROPERTIES_IN_LABEL, &vars, Safety::NotIdempotent)?;
        id_of(&label, "the updated label")
    }

    /// Deletes labels with `deleteLabels`, in batches of 100 as the SDK does; returns the
    /// deleted ids. Kili deletes only `PREDICTION` and `INFERENCE` labels.
    ///
    /// # Retries
    ///
    /// A batch that may have reached the server is not resent (its labels may be gone, and
    /// the second attempt would fail on them): it is retried only when the request certainly
    /// did not run.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty id, before any request; the request errors of
    /// [`Kili::graphql`] (a GraphQL error if a label is unknown or may not be deleted). A
    /// failure in a later batch leaves the earlier batches deleted.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let kili = kili::Kili::from_env()?;
    /// let deleted = kili.delete_labels(["label-1", "label-2"])?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn delete_labels<I, S>(&self, ids: I) -> Result<Vec<String>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let ids = ids_given(ids, "one of the label ids is empty")?;
        let mut deleted = Vec::with_capacity(ids.len());
        for range in batches(ids.len()) {
            let vars = json!({ "ids": &ids[range] });
            let out = self.execute_data(DELETE_LABELS, &vars, Safety::NotIdempotent)?;
            let list = out.as_array().ok_or_else(|| {
                Error::decode(
                    "the deleted label ids",
                    format!("expected a list, got {out}"),
                )
            })?;
            deleted.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_data_has_the_sdk_shape() {
        let u = LabelUpdate::new()
            .json_response(json!({"J": 1}))
            .seconds_to_label(3.5)
            .model_name("m")
            .is_sent_back_to_queue(true);
        assert_eq!(
            u.data(),
            json!({"isSentBackToQueue": true, "jsonResponse": "{\"J\":1}", "modelName": "m", "secondsToLabel": 3.5})
        );
        assert_eq!(
            LabelUpdate::new().json_response(json!({})).data(),
            json!({})
        );
        assert_eq!(
            LabelUpdate::new().is_sent_back_to_queue(false).data(),
            json!({"isSentBackToQueue": false})
        );
    }
}
