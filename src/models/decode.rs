//! The one way a model is decoded: serde's derive (or, for [`Label`](crate::Label), its
//! hand-made deserializer, the hot path), entered through [`from_json`], with these field
//! helpers for what Kili sends loosely: JSON-valued fields as strings, and values of a type the
//! model does not expect.
//!
//! Uses no model; the models use it.

use std::str::FromStr;

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde_json::Value;

use crate::error::{Error, Result};

/// Decodes a model from a Kili JSON object.
///
/// # Errors
///
/// [`Error::Decode`] naming `what` if `value` does not decode as `T`.
pub(crate) fn from_json<T: DeserializeOwned>(value: &Value, what: &str) -> Result<T> {
    T::deserialize(value).map_err(|e| Error::decode(what.to_owned(), e))
}

/// Decodes a text field: its string, or `None` for null or any other type.
pub(crate) fn text<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// Decodes a text field into a type with a string form (an enum): `None` for null, any other
/// type, or text the type does not take.
pub(crate) fn parsed<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
{
    Ok(text(d)?.and_then(|s| s.parse().ok()))
}

/// Decodes a JSON-valued field that Kili sends as a string: the string parsed, `Null` for an
/// empty string or null; a value already structured is kept as it is.
///
/// # Errors
///
/// A decoding error if the string is not JSON.
pub(crate) fn json_text<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Value, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) if s.trim().is_empty() => Ok(Value::Null),
        Value::String(s) => serde_json::from_str(&s).map_err(D::Error::custom),
        other => Ok(other),
    }
}

/// Decodes a list field (an asset's `labels`): the items of a list, an empty list for null or
/// any other type.
///
/// # Errors
///
/// A decoding error if an item of the list does not decode.
pub(crate) fn list<'de, D, T>(d: D) -> std::result::Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(d)? {
        items @ Value::Array(_) => Vec::<T>::deserialize(items)
            .map(Some)
            .map_err(D::Error::custom),
        _ => Ok(Some(Vec::new())),
    }
}
