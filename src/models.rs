//! Typed models of Kili's objects: [`Project`], [`Asset`], [`Label`] and their enums.
//!
//! Every model keeps the fields it does not know in `extra`, and every enum has an `Other`
//! variant, so values the server adds later never break decoding. Kili sends JSON-valued fields
//! (`jsonInterface`, `jsonMetadata`, `jsonResponse`) as strings; the models hold them parsed, as
//! [`serde_json::Value`].

use serde_json::{Map, Value};

use crate::error::{Error, Result};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version of the crate does not know.
            Other(String),
        }

        impl $name {
            /// The value as Kili spells it on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Other(s) => s,
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
                Ok(match s {
                    $($wire => $name::$variant,)+
                    other => $name::Other(other.to_owned()),
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                // FromStr for this type is infallible.
                Ok(s.parse().unwrap_or_else(|e: std::convert::Infallible| match e {}))
            }
        }
    };
}

string_enum! {
    /// The kind of a label.
    ///
    /// ```
    /// use kili::LabelType;
    /// assert_eq!("INFERENCE".parse::<LabelType>().unwrap(), LabelType::Inference);
    /// assert_eq!(LabelType::Review.as_str(), "REVIEW");
    /// assert_eq!("NEW".parse::<LabelType>().unwrap(), LabelType::Other("NEW".into()));
    /// ```
    LabelType {
        /// A label made by a labeler.
        Default => "DEFAULT",
        /// A label saved automatically while work is in progress.
        Autosave => "AUTOSAVE",
        /// A label made by a reviewer.
        Review => "REVIEW",
        /// A label made by a model and shown to labelers.
        Inference => "INFERENCE",
        /// A model's prediction (needs a model name).
        Prediction => "PREDICTION",
    }
}

string_enum! {
    /// The kind of data a project labels.
    ///
    /// ```
    /// assert_eq!(kili::InputType::Image.as_str(), "IMAGE");
    /// ```
    InputType {
        /// Images.
        Image => "IMAGE",
        /// Geospatial imagery.
        Geospatial => "GEOSPATIAL",
        /// PDF documents.
        Pdf => "PDF",
        /// Text.
        Text => "TEXT",
        /// Video.
        Video => "VIDEO",
        /// LLM RLHF.
        LlmRlhf => "LLM_RLHF",
        /// LLM instruction following.
        LlmInstrFollowing => "LLM_INSTR_FOLLOWING",
        /// Static LLM conversations.
        LlmStatic => "LLM_STATIC",
    }
}

/// A Kili user, as embedded in other objects (e.g. a label's author).
///
/// # Examples
///
/// ```
/// let label = kili::Label::from_json(&serde_json::json!({"id": "l", "author": {"email": "me@x"}}))?;
/// let author: &kili::User = label.author.as_ref().unwrap();
/// assert_eq!(author.email.as_deref(), Some("me@x"));
/// assert_eq!(author.id, None);
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct User {
    /// The user's id, if selected.
    pub id: Option<String>,
    /// The user's email, if selected.
    pub email: Option<String>,
}

impl User {
    fn from_json(v: &Value) -> Self {
        User {
            id: str_field(v, "id"),
            email: str_field(v, "email"),
        }
    }
}

/// A label: one annotation of one asset.
///
/// Only the fields that were selected are filled; the others are `None` (or `Null`).
///
/// # Examples
///
/// ```
/// let label = kili::Label::from_json(&serde_json::json!({"id": "l1", "labelType": "REVIEW"}))?;
/// assert_eq!(label.label_type, Some(kili::LabelType::Review));
/// assert!(label.json_response.is_null(), "not selected");
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Label {
    /// The label's id.
    pub id: String,
    /// Who made it.
    pub author: Option<User>,
    /// The labeled asset's id (from `assetId` or `labelOf.id`).
    pub asset_id: Option<String>,
    /// The kind of label.
    pub label_type: Option<LabelType>,
    /// The annotation itself, parsed from the JSON string Kili sends.
    pub json_response: Value,
    /// When it was created (ISO 8601, millisecond precision, UTC), as Kili sends it.
    pub created_at: Option<String>,
    /// The model that made it, for predictions.
    pub model_name: Option<String>,
    /// Time spent labeling, in seconds.
    pub seconds_to_label: Option<f64>,
    /// Whether it is the latest label of its author on its asset.
    pub is_latest_label_for_user: Option<bool>,
    /// The selected fields this struct does not model, as received.
    pub extra: Map<String, Value>,
}

impl Label {
    /// Decodes a label from a Kili JSON object (as found under `data` in a response or frame).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] if `value` is not an object with a string `id`, or if `jsonResponse`
    /// is a string that is not JSON.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = serde_json::json!({
    ///     "id": "l1", "labelType": "INFERENCE", "labelOf": {"id": "a1"},
    ///     "jsonResponse": "{\"JOB_0\":{}}", "author": {"email": "me@x"}
    /// });
    /// let label = kili::Label::from_json(&v)?;
    /// assert_eq!(label.asset_id.as_deref(), Some("a1"));
    /// assert_eq!(label.json_response["JOB_0"], serde_json::json!({}));
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn from_json(value: &Value) -> Result<Label> {
        let obj = as_object(value, "label")?;
        let id = required_id(obj, "label")?;
        let mut extra = Map::new();
        let mut label = Label {
            id,
            author: None,
            asset_id: None,
            label_type: None,
            json_response: Value::Null,
            created_at: None,
            model_name: None,
            seconds_to_label: None,
            is_latest_label_for_user: None,
            extra: Map::new(),
        };
        for (k, v) in obj {
            match k.as_str() {
                "id" => {}
                "author" => label.author = v.is_object().then(|| User::from_json(v)),
                "assetId" => label.asset_id = v.as_str().map(str::to_owned).or(label.asset_id),
                "labelOf" => {
                    if label.asset_id.is_none() {
                        label.asset_id = str_field(v, "id");
                    }
                    extra.insert(k.clone(), v.clone());
                }
                "labelType" => label.label_type = v.as_str().and_then(|s| s.parse().ok()),
                "jsonResponse" => label.json_response = parse_json_field(v, "label jsonResponse")?,
                "createdAt" => label.created_at = v.as_str().map(str::to_owned),
                "modelName" => label.model_name = v.as_str().map(str::to_owned),
                "secondsToLabel" => label.seconds_to_label = v.as_f64(),
                "isLatestLabelForUser" => label.is_latest_label_for_user = v.as_bool(),
                _ => {
                    extra.insert(k.clone(), v.clone());
                }
            }
        }
        label.extra = extra;
        Ok(label)
    }
}

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
    /// [`Error::Decode`] if `value` has no string `id` or a malformed `jsonInterface`.
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
    /// [`Error::Decode`] if `value` has no string `id`, or a nested label or JSON field is malformed.
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

fn as_object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| Error::decode(what.to_owned(), format!("expected an object, got {value}")))
}

fn required_id(obj: &Map<String, Value>, what: &str) -> Result<String> {
    match obj.get("id") {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(Error::decode(what.to_owned(), "missing string field `id`")),
    }
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Parses a JSON-valued field that Kili sends as a string; an empty string or null is `Null`.
/// A value that is already structured is kept as it is.
pub(crate) fn parse_json_field(v: &Value, what: &str) -> Result<Value> {
    match v {
        Value::String(s) if s.trim().is_empty() => Ok(Value::Null),
        Value::String(s) => serde_json::from_str(s).map_err(|e| Error::decode(what.to_owned(), e)),
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_tolerates_unknown_fields_and_values() {
        let l = Label::from_json(&json!({
            "id": "l", "labelType": "FUTURE", "newField": 3, "jsonResponse": ""
        }))
        .unwrap();
        assert_eq!(l.label_type, Some(LabelType::Other("FUTURE".into())));
        assert_eq!(l.extra["newField"], 3);
        assert_eq!(l.json_response, Value::Null);
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        assert!(Label::from_json(&json!(3)).is_err());
        assert!(Label::from_json(&json!({"id": 3})).is_err());
        assert!(Label::from_json(&json!({"id": "x", "jsonResponse": "{"})).is_err());
        assert!(Asset::from_json(&json!({"id": "x", "labels": [{"nope": 1}]})).is_err());
        assert!(Project::from_json(&json!({})).is_err());
    }
}
