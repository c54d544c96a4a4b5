//! [`Asset`].

use serde_json::{Map, Value};

use super::{Label, as_object, parse_json_field, required_id};
use crate::error::Result;

/// An asset: one item to label (an image URL, a text, ...).
///
/// # Examples
///
/// ```
/// let a = kili::Asset::from_json(&serde_json::json!({"id": "a", "externalId": "car_1", "labels": []}))?;
/// assert_eq!(a.external_id.as_deref(), Some("car_1"));
/// assert_eq!(a.labels, Some(vec![]));
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Asset {
    /// The asset's id.
    pub id: String,
    /// Its external id (the caller's own name for it).
    pub external_id: Option<String>,
    /// Its content (usually a URL).
    pub content: Option<String>,
    /// Its metadata, parsed from the JSON string Kili sends.
    pub json_metadata: Value,
    /// When it was created (ISO 8601).
    pub created_at: Option<String>,
    /// Its labels, if selected.
    pub labels: Option<Vec<Label>>,
    /// The selected fields this struct does not model, as received.
    pub extra: Map<String, Value>,
}

impl Asset {
    /// Decodes an asset from a Kili JSON object.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`](crate::Error::Decode) if `value` has no string `id`, or a nested label or JSON field is malformed.
    ///
    /// ```
    /// let a = kili::Asset::from_json(&serde_json::json!({"id": "a", "jsonMetadata": "{\"k\":1}"}))?;
    /// assert_eq!(a.json_metadata["k"], 1);
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn from_json(value: &Value) -> Result<Asset> {
        let obj = as_object(value, "asset")?;
        let mut a = Asset {
            id: required_id(obj, "asset")?,
            external_id: None,
            content: None,
            json_metadata: Value::Null,
            created_at: None,
            labels: None,
            extra: Map::new(),
        };
        for (k, v) in obj {
            match k.as_str() {
                "id" => {}
                "externalId" => a.external_id = v.as_str().map(str::to_owned),
                "content" => a.content = v.as_str().map(str::to_owned),
                "jsonMetadata" => a.json_metadata = parse_json_field(v, "asset jsonMetadata")?,
                "createdAt" => a.created_at = v.as_str().map(str::to_owned),
                "labels" => {
                    let list = v.as_array().map(Vec::as_slice).unwrap_or_default();
                    a.labels = Some(list.iter().map(Label::from_json).collect::<Result<_>>()?);
                }
                _ => {
                    a.extra.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(a)
    }
}
