//! [`Project`].

use serde_json::{Map, Value};

use super::{InputType, as_object, parse_json_field, required_id};
use crate::error::Result;

/// A project.
///
/// # Examples
///
/// ```
/// let p = kili::Project::from_json(&serde_json::json!({"id": "p", "jsonInterface": "{\"jobs\":{}}"}))?;
/// assert_eq!(p.json_interface["jobs"], serde_json::json!({}));
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Project {
    /// The project's id.
    pub id: String,
    /// Its title.
    pub title: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// The kind of data it labels.
    pub input_type: Option<InputType>,
    /// Its labeling interface, parsed from the JSON string Kili sends.
    pub json_interface: Value,
    /// When it was created (ISO 8601).
    pub created_at: Option<String>,
    /// The selected fields this struct does not model, as received.
    pub extra: Map<String, Value>,
}

impl Project {
    /// Decodes a project from a Kili JSON object.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`](crate::Error::Decode) if `value` has no string `id` or a malformed `jsonInterface`.
    ///
    /// ```
    /// let p = kili::Project::from_json(&serde_json::json!({"id": "p", "inputType": "IMAGE"}))?;
    /// assert_eq!(p.input_type, Some(kili::InputType::Image));
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn from_json(value: &Value) -> Result<Project> {
        let obj = as_object(value, "project")?;
        let mut p = Project {
            id: required_id(obj, "project")?,
            title: None,
            description: None,
            input_type: None,
            json_interface: Value::Null,
            created_at: None,
            extra: Map::new(),
        };
        for (k, v) in obj {
            match k.as_str() {
                "id" => {}
                "title" => p.title = v.as_str().map(str::to_owned),
                "description" => p.description = v.as_str().map(str::to_owned),
                "inputType" => p.input_type = v.as_str().and_then(|s| s.parse().ok()),
                "jsonInterface" => p.json_interface = parse_json_field(v, "project jsonInterface")?,
                "createdAt" => p.created_at = v.as_str().map(str::to_owned),
                _ => {
                    p.extra.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(p)
    }
}
