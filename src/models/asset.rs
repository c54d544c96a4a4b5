//! [`Asset`]: one item to label, as the reads return it. Decoded by serde's derive through
//! `decode`, read through methods named as [`Label`]'s.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::models::decode;
use crate::models::{AssetStatus, Label};

/// An asset: one item to label (an image URL, a text, ...).
///
/// Only the fields that were selected are filled; the others are `None` (or `Null`). Its fields
/// are read through methods, named as [`Label`]'s.
///
/// # Examples
///
/// ```
/// let a = kili::Asset::from_json(&serde_json::json!({"id": "a", "externalId": "car_1", "labels": []}))?;
/// assert_eq!(a.id(), "a");
/// assert_eq!(a.external_id(), Some("car_1"));
/// assert_eq!(a.labels(), Some(&[][..]));
/// assert_eq!(a.content(), None, "not selected");
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Asset {
    id: String,
    #[serde(default, deserialize_with = "decode::text")]
    external_id: Option<String>,
    #[serde(default, deserialize_with = "decode::text")]
    content: Option<String>,
    #[serde(default, deserialize_with = "decode::json_text")]
    json_metadata: Value,
    #[serde(default, deserialize_with = "decode::text")]
    created_at: Option<String>,
    #[serde(default, deserialize_with = "decode::list")]
    labels: Option<Vec<Label>>,
    #[serde(default, deserialize_with = "decode::parsed")]
    status: Option<AssetStatus>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl Asset {
    /// Decodes an asset from a Kili JSON object (as found under `data` in a response).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`](crate::Error::Decode) if `value` is not an object with a string `id`,
    /// or a label or JSON field in it is malformed.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = kili::Asset::from_json(&serde_json::json!({"id": "a", "jsonMetadata": "{\"k\":1}"}))?;
    /// assert_eq!(a.json_metadata()["k"], 1);
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn from_json(value: &Value) -> Result<Asset> {
        decode::from_json(value, "an asset")
    }

    /// Returns the asset's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Returns its external id (the caller's own name for it), if selected.
    pub fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }

    /// Returns its content (usually a URL), if selected.
    pub fn content(&self) -> Option<&str> {
        self.content.as_deref()
    }

    /// Returns its metadata, parsed from the JSON string Kili sends; `Null` if not selected
    /// (or empty).
    pub fn json_metadata(&self) -> &Value {
        &self.json_metadata
    }

    /// Returns when it was created (ISO 8601), as Kili sends it, if selected.
    pub fn created_at(&self) -> Option<&str> {
        self.created_at.as_deref()
    }

    /// Returns its labels, if selected.
    pub fn labels(&self) -> Option<&[Label]> {
        self.labels.as_deref()
    }

    /// Returns where it is in the labeling queue, if `status` was selected.
    ///
    /// # Examples
    ///
    /// ```
    /// use kili::{Asset, AssetStatus};
    /// let a = Asset::from_json(&serde_json::json!({"id": "a", "status": "ONGOING"}))?;
    /// assert_eq!(a.status(), Some(AssetStatus::Ongoing));
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn status(&self) -> Option<AssetStatus> {
        self.status.clone()
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
    fn fields_kili_sends_loosely_decode_as_before() {
        let a = Asset::from_json(&json!({
            "id": "a", "externalId": 3, "content": null, "jsonMetadata": "", "labels": null,
            "createdAt": "2024-01-01T00:00:00.000Z", "priority": 2
        }))
        .unwrap();
        assert_eq!(a.external_id(), None, "not a string");
        assert_eq!(a.content(), None);
        assert_eq!(a.json_metadata(), &Value::Null);
        assert_eq!(a.labels(), Some(&[][..]), "selected, none");
        assert_eq!(a.created_at(), Some("2024-01-01T00:00:00.000Z"));
        assert_eq!(a.extra(), json!({"priority": 2}).as_object().unwrap());
        assert_eq!(a.status(), None, "not selected");
        let odd = Asset::from_json(&json!({"id": "a", "status": "SKIPPED"})).unwrap();
        assert_eq!(odd.status(), Some(AssetStatus::Other("SKIPPED".into())));
        let wrong = Asset::from_json(&json!({"id": "a", "status": 3})).unwrap();
        assert_eq!(wrong.status(), None, "not a string");
        let structured = Asset::from_json(&json!({"id": "a", "jsonMetadata": {"k": 1}})).unwrap();
        assert_eq!(structured.json_metadata(), &json!({"k": 1}));
        assert_eq!(structured.labels(), None, "not selected");
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        for bad in [
            json!(["a"]),
            json!({"externalId": "e"}),
            json!({"id": 3}),
            json!({"id": "x", "jsonMetadata": "{"}),
            json!({"id": "x", "labels": [{"nope": 1}]}),
        ] {
            assert!(Asset::from_json(&bad).is_err(), "{bad}");
        }
    }
}
