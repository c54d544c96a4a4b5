//! Changing assets: `update_properties_in_assets`, with the SDK's document and variables.
//! Uses this folder's batching only.

use serde_json::{Map, Value, json};

use crate::client::Kili;
use crate::client::ops::BATCH_SIZE;
use crate::client::retry::Safety;
use crate::error::{Error, Result};

pub(crate) const UPDATE_PROPERTIES_IN_ASSETS: &str = "mutation(
    $whereArray: [AssetWhere!]!
    $dataArray: [AssetData!]!
) {
  data: updatePropertiesInAssets(
    where: $whereArray,
    data: $dataArray
  ) {
    id
  }
}";

/// The properties of one asset to change with [`Kili::update_properties_in_assets`]; those
/// left unset are not sent, and keep their value.
///
/// # Examples
///
/// ```no_run
/// use kili::{AssetUpdate, Kili};
/// use serde_json::json;
/// let kili = Kili::from_env()?;
/// kili.update_properties_in_assets([
///     ("asset-1", AssetUpdate::new().priority(3).json_metadata(json!({"batch": 7}))),
///     ("asset-2", AssetUpdate::new().is_honeypot(true).to_be_labeled_by(["a@example.com"])),
/// ])?;
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct AssetUpdate {
    data: Map<String, Value>,
}

impl AssetUpdate {
    /// Creates an update that changes nothing yet.
    pub fn new() -> AssetUpdate {
        AssetUpdate::default()
    }

    fn set(mut self, key: &str, value: Value) -> AssetUpdate {
        self.data.insert(key.to_owned(), value);
        self
    }

    /// Sets the asset's priority (Kili's default is 0).
    ///
    /// Defaults to unchanged (not sent).
    pub fn priority(self, priority: i32) -> AssetUpdate {
        self.set("priority", json!(priority))
    }

    /// Replaces the asset's metadata as a whole (sent as a JSON string, as the SDK does).
    ///
    /// Defaults to unchanged (not sent).
    pub fn json_metadata(self, metadata: Value) -> AssetUpdate {
        self.set("jsonMetadata", json!(metadata.to_string()))
    }

    /// Sets the consensus mark, between 0 and 1.
    ///
    /// Defaults to unchanged (not sent).
    pub fn consensus_mark(self, mark: f64) -> AssetUpdate {
        self.set("consensusMark", json!(mark))
    }

    /// Sets the honeypot mark, between 0 and 1.
    ///
    /// Defaults to unchanged (not sent).
    pub fn honeypot_mark(self, mark: f64) -> AssetUpdate {
        self.set("honeypotMark", json!(mark))
    }

    /// Sets whether the asset is a honeypot.
    ///
    /// Defaults to unchanged (not sent).
    pub fn is_honeypot(self, yes: bool) -> AssetUpdate {
        self.set("isHoneypot", json!(yes))
    }

    /// Sets whether the asset counts for consensus.
    ///
    /// Defaults to unchanged (not sent).
    pub fn is_used_for_consensus(self, yes: bool) -> AssetUpdate {
        self.set("isUsedForConsensus", json!(yes))
    }

    /// Sets the emails of the labelers who may label the asset; an empty list lets everyone
    /// (the SDK's `shouldResetToBeLabeledBy`).
    ///
    /// Defaults to unchanged (not sent).
    pub fn to_be_labeled_by<I, S>(self, emails: I) -> AssetUpdate
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let emails: Vec<String> = emails.into_iter().map(Into::into).collect();
        let reset = emails.is_empty();
        self.set("toBeLabeledBy", json!(emails))
            .set("shouldResetToBeLabeledBy", json!(reset))
    }

    /// Sets the asset's content (a URL, or text for a `TEXT` project), sent as it is.
    ///
    /// Defaults to unchanged (not sent).
    pub fn content(self, content: impl Into<String>) -> AssetUpdate {
        self.set("content", json!(content.into()))
    }

    /// Sets the asset's JSON content (a string is sent as it is, anything else as JSON text).
    ///
    /// Defaults to unchanged (not sent).
    pub fn json_content(self, json_content: Value) -> AssetUpdate {
        let text = match json_content {
            Value::String(s) => s,
            other => other.to_string(),
        };
        self.set("jsonContent", json!(text))
    }

    /// Sets the width and height of an image or video.
    ///
    /// Defaults to unchanged (not sent).
    pub fn resolution(self, width: u32, height: u32) -> AssetUpdate {
        self.set("resolution", json!({"width": width, "height": height}))
    }

    /// Returns the `AssetData` the SDK sends.
    pub(crate) fn data(&self) -> Value {
        Value::Object(self.data.clone())
    }
}

impl Kili {
    /// Changes properties of assets with `updatePropertiesInAssets`, in batches of 100, as the
    /// SDK's `update_properties_in_assets` does (`whereArray: [{id}]`, `dataArray`); returns
    /// the updated assets' ids, in order.
    ///
    /// An update sets values, so sending it twice changes nothing more: a batch whose outcome
    /// is unknown is resent.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] before any request for an empty id or an update that changes
    /// nothing; the request errors of [`Kili::graphql`] (a GraphQL error for an unknown asset
    /// or an invalid value: nothing of that batch is changed). A failure in a later batch
    /// leaves the earlier batches changed.
    pub fn update_properties_in_assets<I, S>(&self, updates: I) -> Result<Vec<String>>
    where
        I: IntoIterator<Item = (S, AssetUpdate)>,
        S: Into<String>,
    {
        let updates: Vec<(String, AssetUpdate)> =
            updates.into_iter().map(|(id, u)| (id.into(), u)).collect();
        if let Some((id, _)) = updates
            .iter()
            .find(|(id, u)| id.trim().is_empty() || u.data.is_empty())
        {
            return Err(Error::invalid(if id.trim().is_empty() {
                "an asset id is empty".to_owned()
            } else {
                format!("the update of asset {id} changes no property")
            }));
        }
        let mut out = Vec::with_capacity(updates.len());
        for batch in updates.chunks(BATCH_SIZE) {
            let vars = json!({
                "whereArray": batch.iter().map(|(id, _)| json!({ "id": id })).collect::<Vec<_>>(),
                "dataArray": batch.iter().map(|(_, u)| u.data()).collect::<Vec<_>>(),
            });
            let done = self.execute_data(UPDATE_PROPERTIES_IN_ASSETS, &vars, Safety::Idempotent)?;
            let list = done.as_array().ok_or_else(|| {
                Error::decode("the updated assets", format!("expected a list, got {done}"))
            })?;
            out.extend(
                list.iter()
                    .filter_map(|a| a.get("id").and_then(Value::as_str).map(str::to_owned)),
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_has_the_sdk_shape() {
        let u = AssetUpdate::new()
            .priority(2)
            .json_metadata(json!({"k": 1}))
            .to_be_labeled_by(["a@b.c"]);
        assert_eq!(
            u.data(),
            json!({"priority": 2, "jsonMetadata": "{\"k\":1}", "toBeLabeledBy": ["a@b.c"], "shouldResetToBeLabeledBy": false})
        );
        assert_eq!(
            AssetUpdate::new()
                .to_be_labeled_by(Vec::<String>::new())
                .data()["shouldResetToBeLabeledBy"],
            true
        );
    }
}
