//! [`RawJson`]: JSON text kept as received, parsed only when asked.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};

/// JSON text as Kili sent it (a label's `jsonResponse`, which travels as a string holding JSON),
/// parsed only when asked: reading a label costs no parse of its annotation. A view into the
/// label that holds the text.
///
/// # Examples
///
/// ```
/// let label = kili::Label::from_json(&serde_json::json!({
///     "id": "l1", "jsonResponse": "{\"JOB_0\":{\"categories\":[{\"name\":\"A\"}]}}"
/// }))?;
/// let response = label.json_response().unwrap();
/// assert_eq!(response.get(), r#"{"JOB_0":{"categories":[{"name":"A"}]}}"#);
/// assert_eq!(response.parse()?["JOB_0"]["categories"][0]["name"], "A");
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawJson<'a>(&'a str);

impl<'a> RawJson<'a> {
    /// Wraps JSON text (not checked: [`parse`](Self::parse) reports malformed text).
    pub fn new(text: &'a str) -> RawJson<'a> {
        RawJson(text)
    }

    /// Returns the text, as received.
    pub fn get(&self) -> &'a str {
        self.0
    }

    /// Parses the text into a [`Value`].
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] if the text is not JSON.
    pub fn parse(&self) -> Result<Value> {
        self.parse_as()
    }

    /// Parses the text into any deserializable type.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] if the text is not JSON of that shape.
    pub fn parse_as<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(self.0).map_err(|e| Error::decode("a JSON field", e))
    }
}

impl fmt::Debug for RawJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Display for RawJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Serialized as the string Kili sends (a string holding the JSON text).
impl serde::Serialize for RawJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}
