//! Typed models of Kili's objects: [`Project`], [`Asset`], [`Label`] and their enums.
//!
//! Every model keeps the fields it does not know in `extra`, and every enum has an `Other`
//! variant, so values the server adds later never break decoding. Kili sends JSON-valued fields
//! (`jsonInterface`, `jsonMetadata`, `jsonResponse`) as strings; projects and assets hold them
//! parsed, as [`serde_json::Value`]; a label keeps its `jsonResponse` as text ([`RawJson`]),
//! parsed on demand, since label events are the hot path.

mod asset;
mod enums;
mod label;
mod project;
mod raw_json;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

pub use asset::Asset;
pub use enums::{InputType, LabelType};
pub(crate) use label::LabelFromText;
pub use label::{Label, User};
pub use project::Project;
pub use raw_json::RawJson;

pub(crate) fn as_object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| Error::decode(what.to_owned(), format!("expected an object, got {value}")))
}

pub(crate) fn required_id(obj: &Map<String, Value>, what: &str) -> Result<String> {
    match obj.get("id") {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(Error::decode(what.to_owned(), "missing string field `id`")),
    }
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
    fn malformed_inputs_are_errors_not_panics() {
        assert!(Asset::from_json(&json!({"id": "x", "labels": [{"nope": 1}]})).is_err());
        assert!(Project::from_json(&json!({})).is_err());
    }
}
