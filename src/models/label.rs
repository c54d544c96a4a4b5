//! [`Label`] and [`User`], decoded straight from the wire: one pass over the JSON, no
//! intermediate tree, the annotation kept as text.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::{Map, Value, json};

use super::{LabelType, RawJson};
use crate::error::{Error, Result};

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
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[non_exhaustive]
#[serde(default)]
pub struct User {
    /// The user's id, if selected.
    pub id: Option<String>,
    /// The user's email, if selected.
    pub email: Option<String>,
}

/// A label: one annotation of one asset.
///
/// Only the fields that were selected are filled; the others are `None`.
///
/// # Examples
///
/// ```
/// let label = kili::Label::from_json(&serde_json::json!({"id": "l1", "labelType": "REVIEW"}))?;
/// assert_eq!(label.label_type, Some(kili::LabelType::Review));
/// assert!(label.json_response.is_none(), "not selected");
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
    /// The annotation itself: the JSON text Kili sends, parsed on demand with
    /// [`RawJson::parse`]. `None` if not selected (or empty).
    pub json_response: Option<RawJson>,
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
    /// [`Error::Decode`] if `value` is not an object with a string `id`.
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
    /// assert_eq!(label.json_response.unwrap().parse()?["JOB_0"], serde_json::json!({}));
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn from_json(value: &Value) -> Result<Label> {
        Label::deserialize(value).map_err(|e| Error::decode("a label", e))
    }

    /// The label as Kili's API writes it (`labelOf { id }`, `jsonResponse` as a string holding
    /// JSON), with the fields it holds.
    ///
    /// ```
    /// let v = serde_json::json!({"id": "l1", "labelOf": {"id": "a1"}, "jsonResponse": "{}"});
    /// assert_eq!(kili::Label::from_json(&v)?.to_json(), v);
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        if let Some(a) = &self.author {
            let mut author = Map::new();
            if let Some(id) = &a.id {
                author.insert("id".into(), json!(id));
            }
            if let Some(email) = &a.email {
                author.insert("email".into(), json!(email));
            }
            m.insert("author".into(), Value::Object(author));
        }
        if let Some(a) = &self.asset_id {
            m.insert("labelOf".into(), json!({ "id": a }));
        }
        let optional = [
            (
                "labelType",
                self.label_type.as_ref().map(|t| json!(t.as_str())),
            ),
            (
                "jsonResponse",
                self.json_response.as_ref().map(|r| json!(r.get())),
            ),
            ("createdAt", self.created_at.as_ref().map(|t| json!(t))),
            ("modelName", self.model_name.as_ref().map(|n| json!(n))),
            ("secondsToLabel", self.seconds_to_label.map(|s| json!(s))),
            (
                "isLatestLabelForUser",
                self.is_latest_label_for_user.map(|b| json!(b)),
            ),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        }
        for (k, v) in &self.extra {
            match (m.get_mut(k), v) {
                // `labelOf` with more than the id: the whole object.
                (Some(Value::Object(ours)), Value::Object(theirs)) => {
                    for (kk, vv) in theirs {
                        ours.entry(kk.clone()).or_insert_with(|| vv.clone());
                    }
                }
                (Some(_), _) => {}
                (None, v) => {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
        Value::Object(m)
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Label, D::Error> {
        d.deserialize_map(LabelVisitor)
    }
}

struct LabelVisitor;

impl<'de> Visitor<'de> for LabelVisitor {
    type Value = Label;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a label object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Label, A::Error> {
        let mut id = None;
        let mut label = Label {
            id: String::new(),
            author: None,
            asset_id: None,
            label_type: None,
            json_response: None,
            created_at: None,
            model_name: None,
            seconds_to_label: None,
            is_latest_label_for_user: None,
            extra: Map::new(),
        };
        let mut label_of = None;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.as_str() {
                "id" => id = Some(map.next_value::<String>()?),
                "author" => label.author = map.next_value()?,
                "assetId" => label.asset_id = map.next_value()?,
                "labelOf" => {
                    // The asset: its id is `asset_id`; other selected fields stay in `extra`.
                    if let Some(asset) = map.next_value::<Option<AssetRef>>()? {
                        label_of = asset.id;
                        if let Some(mut rest) = asset.rest {
                            if let Some(id) = &label_of {
                                rest.insert("id".into(), Value::String(id.clone()));
                            }
                            label.extra.insert("labelOf".into(), Value::Object(rest));
                        }
                    }
                }
                "labelType" => label.label_type = map.next_value()?,
                "jsonResponse" => label.json_response = map.next_value::<JsonText>()?.0,
                "createdAt" => label.created_at = map.next_value()?,
                "modelName" => label.model_name = map.next_value()?,
                "secondsToLabel" => label.seconds_to_label = map.next_value()?,
                "isLatestLabelForUser" => label.is_latest_label_for_user = map.next_value()?,
                other => {
                    let v: Value = map.next_value()?;
                    label.extra.insert(other.to_owned(), v);
                }
            }
        }
        label.id = id.ok_or_else(|| de::Error::missing_field("id"))?;
        if label.asset_id.is_none() {
            label.asset_id = label_of;
        }
        Ok(label)
    }
}

/// A map key, borrowed from the input when it can be.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> std::result::Result<Key<'de>, E> {
                Ok(Key::Borrowed(s))
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<Key<'de>, E> {
                Ok(Key::Owned(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> std::result::Result<Key<'de>, E> {
                Ok(Key::Owned(s))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// A label's `labelOf`: the asset's id, and its other fields if any were selected.
struct AssetRef {
    id: Option<String>,
    rest: Option<Map<String, Value>>,
}

impl<'de> Deserialize<'de> for AssetRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct AssetVisitor;
        impl<'de> Visitor<'de> for AssetVisitor {
            type Value = AssetRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an asset object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<AssetRef, A::Error> {
                let mut asset = AssetRef {
                    id: None,
                    rest: None,
                };
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    match key.as_str() {
                        "id" => asset.id = map.next_value()?,
                        other => {
                            let v: Value = map.next_value()?;
                            asset
                                .rest
                                .get_or_insert_with(Map::new)
                                .insert(other.to_owned(), v);
                        }
                    }
                }
                Ok(asset)
            }
        }
        d.deserialize_map(AssetVisitor)
    }
}

/// A JSON-valued field that Kili sends as a string: the text, kept raw. An empty string or
/// null is `None`; a value sent already structured is kept as its JSON text.
struct JsonText(Option<RawJson>);

impl JsonText {
    fn of(text: String) -> JsonText {
        if text.trim().is_empty() {
            JsonText(None)
        } else {
            JsonText(Some(RawJson::new(text)))
        }
    }

    fn structured(v: Value) -> JsonText {
        JsonText(Some(RawJson::new(v.to_string())))
    }
}

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = JsonText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON, as text or as a value")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<JsonText, E> {
                Ok(JsonText::of(s.to_owned()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> std::result::Result<JsonText, E> {
                Ok(JsonText::of(s))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<JsonText, E> {
                Ok(JsonText(None))
            }
            fn visit_none<E: de::Error>(self) -> std::result::Result<JsonText, E> {
                Ok(JsonText(None))
            }
            fn visit_some<D2: serde::Deserializer<'de>>(
                self,
                d: D2,
            ) -> std::result::Result<JsonText, D2::Error> {
                d.deserialize_any(self)
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> std::result::Result<JsonText, E> {
                Ok(JsonText::structured(Value::Bool(b)))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> std::result::Result<JsonText, E> {
                Ok(JsonText::structured(Value::from(n)))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> std::result::Result<JsonText, E> {
                Ok(JsonText::structured(Value::from(n)))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> std::result::Result<JsonText, E> {
                Ok(JsonText::structured(Value::from(n)))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<JsonText, A::Error> {
                let v = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(JsonText::structured(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> std::result::Result<JsonText, A::Error> {
                let v = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(JsonText::structured(v))
            }
        }
        d.deserialize_any(TextVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_unknown_fields_and_values() {
        let l = Label::from_json(&json!({
            "id": "l", "labelType": "FUTURE", "newField": 3, "jsonResponse": ""
        }))
        .unwrap();
        assert_eq!(l.label_type, Some(LabelType::Other("FUTURE".into())));
        assert_eq!(l.extra["newField"], 3);
        assert_eq!(l.json_response, None);
    }

    #[test]
    fn decodes_from_text_as_from_a_tree() {
        let text = r#"{"id":"l1","author":{"email":"a@b","x":1},"labelOf":{"id":"a1"},"labelType":"INFERENCE","jsonResponse":"{\"J\":[1]}","createdAt":"2024-01-01T00:00:00.000Z"}"#;
        let from_text: Label = serde_json::from_str(text).unwrap();
        let from_tree = Label::from_json(&serde_json::from_str(text).unwrap()).unwrap();
        assert_eq!(from_text, from_tree);
        assert_eq!(from_text.asset_id.as_deref(), Some("a1"));
        assert_eq!(
            from_text.json_response.as_ref().unwrap().get(),
            r#"{"J":[1]}"#
        );
        assert_eq!(from_text.to_json()["jsonResponse"], r#"{"J":[1]}"#);
    }

    #[test]
    fn asset_id_wins_over_label_of_and_structured_responses_are_kept() {
        let l = Label::from_json(&json!({
            "id": "l", "labelOf": {"id": "b"}, "assetId": "a", "jsonResponse": {"k": 1}
        }))
        .unwrap();
        assert_eq!(l.asset_id.as_deref(), Some("a"));
        assert_eq!(l.json_response.unwrap().parse().unwrap(), json!({"k": 1}));
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        assert!(Label::from_json(&json!(3)).is_err());
        assert!(Label::from_json(&json!({"id": 3})).is_err());
        assert!(Label::from_json(&json!({"labelType": "X"})).is_err());
        assert!(serde_json::from_str::<Label>(r#"{"id":"x","author":3}"#).is_err());
        let l = Label::from_json(&json!({"id": "x", "jsonResponse": "{"})).unwrap();
        assert!(
            l.json_response.unwrap().parse().is_err(),
            "parsed on demand"
        );
    }
}
