//! [`Project`]: a labeling project, as the reads return it. Decoded by serde's derive through
//! `decode`, read through methods named as [`Label`](crate::Label)'s.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::models::InputType;
use crate::models::decode;

/// A project.
///
/// Only the fields that were selected are filled; the others are `None` (or `Null`). Its fields
/// are read through methods, named as [`Label`](crate::Label)'s.
///
/// # Examples
///
/// ```
/// let p = kili::Project::from_json(&serde_json::json!({"id": "p", "jsonInterface": "{\"jobs\":{}}"}))?;
/// assert_eq!(p.id(), "p");
/// assert_eq!(p.json_interface()["jobs"], serde_json::json!({}));
/// assert_eq!(p.title(), None, "not selected");
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Project {
    id: String,
    #[serde(default, deserialize_with = "decode::text")]
    title: Option<String>,
    #[serde(default, deserialize_with = "decode::text")]
    description: Option<String>,
    #[serde(default, deserialize_with = "decode::parsed")]
    input_type: Option<InputType>,
    #[serde(default, deserialize_with = "decode::json_text")]
    json_interface: Value,
    #[serde(default, deserialize_with = "decode::text")]
    created_at: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl Project {
    /// Decodes a project from a Kili JSON object (as found under `data` in a response).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`](crate::Error::Decode) if `value` is not an object with a string `id`,
    /// or its `jsonInterface` is malformed.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = kili::Project::from_json(&serde_json::json!({"id": "p", "inputType": "IMAGE"}))?;
    /// assert_eq!(p.input_type(), Some(&kili::InputType::Image));
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn from_json(value: &Value) -> Result<Project> {
        decode::from_json(value, "a project")
    }

    /// Returns the project's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Returns its title, if selected.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// Returns its description, if selected.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Returns the kind of data it labels, if selected.
    pub fn input_type(&self) -> Option<&InputType> {
        self.input_type.as_ref()
    }

    /// Returns its labeling interface, parsed from the JSON string Kili sends; `Null` if not
    /// selected (or empty).
    pub fn json_interface(&self) -> &Value {
        &self.json_interface
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
    fn fields_kili_sends_loosely_decode_as_before() {
        let p = Project::from_json(&json!({
            "id": "p", "title": 3, "inputType": "FUTURE", "jsonInterface": " ", "roles": []
        }))
        .unwrap();
        assert_eq!(p.title(), None, "not a string");
        assert_eq!(p.input_type(), Some(&InputType::Other("FUTURE".into())));
        assert_eq!(p.json_interface(), &Value::Null);
        assert_eq!(p.extra(), json!({"roles": []}).as_object().unwrap());
        let p = Project::from_json(&json!({"id": "p", "inputType": 1})).unwrap();
        assert_eq!(p.input_type(), None, "not a string");
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        for bad in [
            json!({}),
            json!(["p"]),
            json!({"id": null}),
            json!({"id": "p", "jsonInterface": "{"}),
        ] {
            assert!(Project::from_json(&bad).is_err(), "{bad}");
        }
    }
}
