//! [`Label`] and [`User`], decoded straight from the wire: one pass over the JSON, no
//! intermediate tree, the annotation kept as text, and every text field of a label in one
//! buffer.
//!
//! One buffer, not a `String` per field: a label handed to another thread (the pull form of a
//! subscription) is freed there, and each allocation freed on another thread costs the
//! allocator far more than one freed where it was made. A label costs one allocation.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::error::Result;
use crate::models::decode;
use crate::models::{LabelType, RawJson};

/// A Kili user, as embedded in other objects (e.g. a label's author): a view into the object
/// that holds it.
///
/// # Examples
///
/// ```
/// let label = kili::Label::from_json(&serde_json::json!({"id": "l", "author": {"email": "me@x"}}))?;
/// let author: kili::User<'_> = label.author().unwrap();
/// assert_eq!(author.email, Some("me@x"));
/// assert_eq!(author.id, None);
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct User<'a> {
    /// The user's id, if selected.
    pub id: Option<&'a str>,
    /// The user's email, if selected.
    pub email: Option<&'a str>,
}

/// Where a field's text sits in a label's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

/// The author's fields, when the author was selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AuthorSpans {
    id: Option<Span>,
    email: Option<Span>,
}

/// A label: one annotation of one asset.
///
/// Only the fields that were selected are filled; the others are `None`. The text fields are
/// read through methods: they are views into one buffer that the label owns.
///
/// # Examples
///
/// ```
/// let label = kili::Label::from_json(&serde_json::json!({"id": "l1", "labelType": "REVIEW"}))?;
/// assert_eq!(label.id(), "l1");
/// assert_eq!(label.label_type(), Some(&kili::LabelType::Review));
/// assert!(label.json_response().is_none(), "not selected");
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Clone)]
pub struct Label {
    /// The text of every text field, one after the other.
    text: Box<str>,
    id: Span,
    author: Option<AuthorSpans>,
    asset_id: Option<Span>,
    json_response: Option<Span>,
    created_at: Option<Span>,
    model_name: Option<Span>,
    label_type: Option<LabelType>,
    seconds_to_label: Option<f64>,
    is_latest_label_for_user: Option<bool>,
    extra: Map<String, Value>,
}

impl Label {
    /// Decodes a label from a Kili JSON object (as found under `data` in a response or frame).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`](crate::Error::Decode) if `value` is not an object with a string `id`.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = serde_json::json!({
    ///     "id": "l1", "labelType": "INFERENCE", "labelOf": {"id": "a1"},
    ///     "jsonResponse": "{\"JOB_0\":{}}", "author": {"email": "me@x"}
    /// });
    /// let label = kili::Label::from_json(&v)?;
    /// assert_eq!(label.asset_id(), Some("a1"));
    /// assert_eq!(label.json_response().unwrap().parse()?["JOB_0"], serde_json::json!({}));
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn from_json(value: &Value) -> Result<Label> {
        decode::from_json(value, "a label")
    }

    fn get(&self, span: Span) -> &str {
        // Spans are made by `Packer` from this very text, on char boundaries: `get` cannot
        // miss, and the empty fallback is never taken.
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }

    fn get_opt(&self, span: Option<Span>) -> Option<&str> {
        span.map(|s| self.get(s))
    }

    /// Returns the label's id.
    pub fn id(&self) -> &str {
        self.get(self.id)
    }

    /// Returns who made it, if selected.
    pub fn author(&self) -> Option<User<'_>> {
        self.author.map(|a| User {
            id: self.get_opt(a.id),
            email: self.get_opt(a.email),
        })
    }

    /// Returns the labeled asset's id (from `assetId` or `labelOf.id`), if selected.
    pub fn asset_id(&self) -> Option<&str> {
        self.get_opt(self.asset_id)
    }

    /// Returns the kind of label, if selected.
    pub fn label_type(&self) -> Option<&LabelType> {
        self.label_type.as_ref()
    }

    /// Returns the annotation itself: the JSON text Kili sends, parsed on demand with
    /// [`RawJson::parse`]. `None` if not selected (or empty).
    pub fn json_response(&self) -> Option<RawJson<'_>> {
        self.get_opt(self.json_response).map(RawJson::new)
    }

    /// Returns when it was created (ISO 8601, millisecond precision, UTC), as Kili sends it,
    /// if selected.
    pub fn created_at(&self) -> Option<&str> {
        self.get_opt(self.created_at)
    }

    /// Returns the model that made it, for predictions, if selected.
    pub fn model_name(&self) -> Option<&str> {
        self.get_opt(self.model_name)
    }

    /// Returns the time spent labeling, in seconds, if selected.
    pub fn seconds_to_label(&self) -> Option<f64> {
        self.seconds_to_label
    }

    /// Tells whether it is the latest label of its author on its asset, if selected.
    pub fn is_latest_label_for_user(&self) -> Option<bool> {
        self.is_latest_label_for_user
    }

    /// Returns its `search` field, if selected: the counts Kili computes from the annotation
    /// (`numberOfAnnotations`, `numberOfAnnotationsByObject` keyed `"JOB.CATEGORY"`), as
    /// received. Kili's type for it is the JSON scalar, so it stays a [`Value`] (kept in
    /// [`extra`](Label::extra), not decoded again).
    ///
    /// # Examples
    ///
    /// ```
    /// let v = serde_json::json!({"id": "l", "search": {"numberOfAnnotationsByObject": {"JOB_0.OBJECT_A": 2}}});
    /// let label = kili::Label::from_json(&v)?;
    /// assert_eq!(label.search().unwrap()["numberOfAnnotationsByObject"]["JOB_0.OBJECT_A"], 2);
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn search(&self) -> Option<&Value> {
        self.extra.get("search").filter(|v| !v.is_null())
    }

    /// Returns the selected fields this type does not model, as received.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    /// Returns the label as Kili's API writes it (`labelOf { id }`, `jsonResponse` as a string holding
    /// JSON), with the fields it holds.
    ///
    /// ```
    /// let v = serde_json::json!({"id": "l1", "labelOf": {"id": "a1"}, "jsonResponse": "{}"});
    /// assert_eq!(kili::Label::from_json(&v)?.to_json(), v);
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id()));
        if let Some(a) = self.author() {
            let mut author = Map::new();
            if let Some(id) = a.id {
                author.insert("id".into(), json!(id));
            }
            if let Some(email) = a.email {
                author.insert("email".into(), json!(email));
            }
            m.insert("author".into(), Value::Object(author));
        }
        if let Some(a) = self.asset_id() {
            m.insert("labelOf".into(), json!({ "id": a }));
        }
        let optional = [
            ("labelType", self.label_type().map(|t| json!(t.as_str()))),
            ("jsonResponse", self.json_response().map(|r| json!(r.get()))),
            ("createdAt", self.created_at().map(|t| json!(t))),
            ("modelName", self.model_name().map(|n| json!(n))),
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

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Label")
            .field("id", &self.id())
            .field("author", &self.author())
            .field("asset_id", &self.asset_id())
            .field("label_type", &self.label_type)
            .field("json_response", &self.json_response())
            .field("created_at", &self.created_at())
            .field("model_name", &self.model_name())
            .field("seconds_to_label", &self.seconds_to_label)
            .field("is_latest_label_for_user", &self.is_latest_label_for_user)
            .field("extra", &self.extra)
            .finish()
    }
}

/// Two labels are equal when their fields are, however their buffers are laid out.
impl PartialEq for Label {
    fn eq(&self, other: &Label) -> bool {
        self.id() == other.id()
            && self.author() == other.author()
            && self.asset_id() == other.asset_id()
            && self.label_type == other.label_type
            && self.json_response() == other.json_response()
            && self.created_at() == other.created_at()
            && self.model_name() == other.model_name()
            && self.seconds_to_label == other.seconds_to_label
            && self.is_latest_label_for_user == other.is_latest_label_for_user
            && self.extra == other.extra
    }
}

/// Copies text fields into one buffer, exactly sized beforehand.
struct Packer {
    text: String,
}

impl Packer {
    fn put(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        self.since(start)
    }

    /// Returns the span of what was pushed since `start`.
    fn since(&self, start: usize) -> Span {
        // The total length was checked to fit in `u32` before packing.
        Span {
            start: start as u32,
            end: self.text.len() as u32,
        }
    }

    fn put_opt(&mut self, s: Option<&Cow<'_, str>>) -> Option<Span> {
        s.map(|s| self.put(s))
    }

    /// Pushes a JSON-valued field; `None` if its text is blank.
    fn put_json(&mut self, field: &JsonField<'_>) -> std::result::Result<Option<Span>, String> {
        let start = self.text.len();
        match field {
            JsonField::Text(t) => self.text.push_str(t),
            JsonField::Literal(lit) => unescape_into(lit, &mut self.text)?,
        }
        if self.text[start..].trim().is_empty() {
            self.text.truncate(start);
            return Ok(None);
        }
        Ok(Some(self.since(start)))
    }
}

/// Appends the text of the JSON string literal `lit` (quotes included) to `out`, escapes
/// resolved: what serde_json would produce, without its scratch buffer.
fn unescape_into(lit: &str, out: &mut String) -> std::result::Result<(), String> {
    let bad = |what: &str| format!("{what} in a JSON string");
    let mut rest = lit
        .trim()
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(|| bad("no quotes"))?;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let escape = &rest[i + 1..];
        let (c, used) = match escape.as_bytes().first() {
            Some(b'"') => ('"', 1),
            Some(b'\\') => ('\\', 1),
            Some(b'/') => ('/', 1),
            Some(b'b') => ('\u{8}', 1),
            Some(b'f') => ('\u{c}', 1),
            Some(b'n') => ('\n', 1),
            Some(b'r') => ('\r', 1),
            Some(b't') => ('\t', 1),
            Some(b'u') => {
                let unit = |at: usize| {
                    escape
                        .get(at..at + 4)
                        .and_then(|h| u16::from_str_radix(h, 16).ok())
                        .ok_or_else(|| bad("a malformed \\u escape"))
                };
                let first = unit(1)?;
                match first {
                    0xD800..=0xDBFF => {
                        if escape.get(5..7) != Some("\\u") {
                            return Err(bad("a lone surrogate"));
                        }
                        let second = unit(7)?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return Err(bad("a lone surrogate"));
                        }
                        let code = 0x10000
                            + ((u32::from(first) - 0xD800) << 10)
                            + (u32::from(second) - 0xDC00);
                        let c = char::from_u32(code).ok_or_else(|| bad("a bad surrogate pair"))?;
                        (c, 11)
                    }
                    0xDC00..=0xDFFF => return Err(bad("a lone surrogate")),
                    _ => (
                        char::from_u32(u32::from(first)).ok_or_else(|| bad("a bad \\u escape"))?,
                        5,
                    ),
                }
            }
            _ => return Err(bad("a bad escape")),
        };
        out.push(c);
        rest = &escape[used..];
    }
    out.push_str(rest);
    Ok(())
}

/// A label's fields as decoded, borrowed from the input where they can be.
#[derive(Default)]
struct Parts<'de> {
    id: Option<Cow<'de, str>>,
    /// `Some` when the author was selected (even if empty).
    author: Option<Author<'de>>,
    asset_id: Option<Cow<'de, str>>,
    label_of: Option<Cow<'de, str>>,
    json_response: Option<JsonField<'de>>,
    created_at: Option<Cow<'de, str>>,
    model_name: Option<Cow<'de, str>>,
    label_type: Option<LabelType>,
    seconds_to_label: Option<f64>,
    is_latest_label_for_user: Option<bool>,
    extra: Map<String, Value>,
}

impl Parts<'_> {
    fn build(self) -> std::result::Result<Label, String> {
        let id = self.id.ok_or("missing field `id`")?;
        let asset_id = self.asset_id.or(self.label_of);
        let (author_id, author_email) = match &self.author {
            Some(a) => (a.id.as_ref().map(|t| &t.0), a.email.as_ref().map(|t| &t.0)),
            None => (None, None),
        };
        let texts = [
            Some(&id),
            author_id,
            author_email,
            asset_id.as_ref(),
            self.created_at.as_ref(),
            self.model_name.as_ref(),
        ];
        // At most: a literal's text is never longer than the literal.
        let json_len = self.json_response.as_ref().map_or(0, |j| match j {
            JsonField::Text(t) => t.len(),
            JsonField::Literal(lit) => lit.len(),
        });
        let total: usize = texts.iter().flatten().map(|s| s.len()).sum::<usize>() + json_len;
        if u32::try_from(total).is_err() {
            return Err(format!("a label of {total} bytes of text: too large"));
        }
        let mut p = Packer {
            text: String::with_capacity(total),
        };
        let id = p.put(&id);
        let author = self.author.as_ref().map(|a| AuthorSpans {
            id: p.put_opt(a.id.as_ref().map(|t| &t.0)),
            email: p.put_opt(a.email.as_ref().map(|t| &t.0)),
        });
        let asset_id = p.put_opt(asset_id.as_ref());
        let json_response = match &self.json_response {
            Some(field) => p.put_json(field)?,
            None => None,
        };
        let created_at = p.put_opt(self.created_at.as_ref());
        let model_name = p.put_opt(self.model_name.as_ref());
        Ok(Label {
            text: p.text.into_boxed_str(),
            id,
            author,
            asset_id,
            json_response,
            created_at,
            model_name,
            label_type: self.label_type,
            seconds_to_label: self.seconds_to_label,
            is_latest_label_for_user: self.is_latest_label_for_user,
            extra: self.extra,
        })
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Label, D::Error> {
        d.deserialize_map(LabelVisitor { text: false })
    }
}

/// A label decoded from JSON text (a frame) that it may borrow from: its `jsonResponse` is
/// unescaped straight into the label's buffer. Only for `serde_json::from_str`/`from_slice`.
pub(crate) struct LabelFromText(pub(crate) Label);

impl<'de> Deserialize<'de> for LabelFromText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_map(LabelVisitor { text: true })
            .map(LabelFromText)
    }
}

/// How a label's `jsonResponse` was read.
enum JsonField<'de> {
    /// Its text.
    Text(Cow<'de, str>),
    /// A JSON string literal as it stands in the input, quotes and escapes included: unescaped
    /// straight into the label's buffer.
    Literal(&'de str),
}

/// Reads the `jsonResponse` of a label from text, as it stands there: a string literal (the
/// usual), `null`, or a value sent already structured (kept as its compact JSON text).
fn json_field<E: de::Error>(raw: &RawValue) -> std::result::Result<Option<JsonField<'_>>, E> {
    let t = raw.get().trim();
    if t.starts_with('"') {
        return Ok(Some(JsonField::Literal(t)));
    }
    if t == "null" {
        return Ok(None);
    }
    let v: Value = serde_json::from_str(t).map_err(E::custom)?;
    Ok(Some(JsonField::Text(Cow::Owned(v.to_string()))))
}

struct LabelVisitor {
    /// Decoding JSON text: `jsonResponse` can be borrowed raw.
    text: bool,
}

impl<'de> Visitor<'de> for LabelVisitor {
    type Value = Label;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a label object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Label, A::Error> {
        let mut parts = Parts::default();
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match &*key.0 {
                "id" => parts.id = Some(map.next_value::<Text<'de>>()?.0),
                "author" => {
                    parts.author = map.next_value::<Option<Author<'de>>>()?;
                }
                "assetId" => parts.asset_id = text(map.next_value()?),
                "labelOf" => {
                    // The asset: its id is `asset_id`; other selected fields stay in `extra`.
                    if let Some(asset) = map.next_value::<Option<AssetRef<'de>>>()? {
                        if let Some(mut rest) = asset.rest {
                            if let Some(id) = &asset.id {
                                rest.insert("id".into(), Value::String(id.to_string()));
                            }
                            parts.extra.insert("labelOf".into(), Value::Object(rest));
                        }
                        parts.label_of = asset.id;
                    }
                }
                "labelType" => parts.label_type = map.next_value()?,
                "jsonResponse" if self.text => {
                    parts.json_response = json_field(map.next_value::<&'de RawValue>()?)?;
                }
                "jsonResponse" => {
                    parts.json_response = map.next_value::<JsonText<'de>>()?.0.map(JsonField::Text);
                }
                "createdAt" => parts.created_at = text(map.next_value()?),
                "modelName" => parts.model_name = text(map.next_value()?),
                "secondsToLabel" => parts.seconds_to_label = map.next_value()?,
                "isLatestLabelForUser" => parts.is_latest_label_for_user = map.next_value()?,
                other => {
                    let v: Value = map.next_value()?;
                    parts.extra.insert(other.to_owned(), v);
                }
            }
        }
        parts.build().map_err(de::Error::custom)
    }
}

fn text(t: Option<Text<'_>>) -> Option<Cow<'_, str>> {
    t.map(|t| t.0)
}

/// A string, borrowed from the input when it can be (no escapes in it).
struct Text<'de>(Cow<'de, str>);

/// Borrowing from any input that outlives it (what `#[serde(borrow)]` fields ask for).
impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> std::result::Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> std::result::Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        d.deserialize_str(TextVisitor)
    }
}

/// A label's `author`: the fields a [`User`] shows, borrowed where they can be; the others
/// skipped.
#[derive(Deserialize)]
struct Author<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
    #[serde(borrow)]
    email: Option<Text<'a>>,
}

/// A label's `labelOf`: the asset's id, and its other fields if any were selected.
struct AssetRef<'de> {
    id: Option<Cow<'de, str>>,
    rest: Option<Map<String, Value>>,
}

impl<'de> Deserialize<'de> for AssetRef<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct AssetVisitor;
        impl<'de> Visitor<'de> for AssetVisitor {
            type Value = AssetRef<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an asset object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<AssetRef<'de>, A::Error> {
                let mut asset = AssetRef {
                    id: None,
                    rest: None,
                };
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    match &*key.0 {
                        "id" => asset.id = text(map.next_value()?),
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
struct JsonText<'de>(Option<Cow<'de, str>>);

impl<'de> JsonText<'de> {
    fn of(text: Cow<'de, str>) -> JsonText<'de> {
        if text.trim().is_empty() {
            JsonText(None)
        } else {
            JsonText(Some(text))
        }
    }

    fn structured(v: Value) -> JsonText<'de> {
        JsonText(Some(Cow::Owned(v.to_string())))
    }
}

impl<'de> Deserialize<'de> for JsonText<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = JsonText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON, as text or as a value")
            }
            fn visit_borrowed_str<E: de::Error>(
                self,
                s: &'de str,
            ) -> std::result::Result<JsonText<'de>, E> {
                Ok(JsonText::of(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<JsonText<'de>, E> {
                Ok(JsonText::of(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(
                self,
                s: String,
            ) -> std::result::Result<JsonText<'de>, E> {
                Ok(JsonText::of(Cow::Owned(s)))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<JsonText<'de>, E> {
                Ok(JsonText(None))
            }
            fn visit_none<E: de::Error>(self) -> std::result::Result<JsonText<'de>, E> {
                Ok(JsonText(None))
            }
            fn visit_some<D2: serde::Deserializer<'de>>(
                self,
                d: D2,
            ) -> std::result::Result<JsonText<'de>, D2::Error> {
                d.deserialize_any(self)
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> std::result::Result<JsonText<'de>, E> {
                Ok(JsonText::structured(Value::Bool(b)))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> std::result::Result<JsonText<'de>, E> {
                Ok(JsonText::structured(Value::from(n)))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> std::result::Result<JsonText<'de>, E> {
                Ok(JsonText::structured(Value::from(n)))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> std::result::Result<JsonText<'de>, E> {
                Ok(JsonText::structured(Value::from(n)))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<JsonText<'de>, A::Error> {
                let v = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(JsonText::structured(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> std::result::Result<JsonText<'de>, A::Error> {
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
        assert_eq!(l.label_type(), Some(&LabelType::Other("FUTURE".into())));
        assert_eq!(l.extra()["newField"], 3);
        assert_eq!(l.json_response(), None);
    }

    #[test]
    fn decodes_from_text_as_from_a_tree() {
        let text = r#"{"id":"l1","author":{"email":"a@b","x":1},"labelOf":{"id":"a1"},"labelType":"INFERENCE","jsonResponse":"{\"J\":[1]}","createdAt":"2024-01-01T00:00:00.000Z"}"#;
        let from_text: Label = serde_json::from_str(text).unwrap();
        let from_tree = Label::from_json(&serde_json::from_str(text).unwrap()).unwrap();
        assert_eq!(from_text, from_tree);
        assert_eq!(from_text.asset_id(), Some("a1"));
        assert_eq!(from_text.json_response().unwrap().get(), r#"{"J":[1]}"#);
        assert_eq!(from_text.to_json()["jsonResponse"], r#"{"J":[1]}"#);
    }

    #[test]
    fn every_text_field_lands_in_one_buffer_escaped_or_not() {
        let text = r#"{"id":"l\u00e9","author":{"id":"u1","email":"a\"b@c"},"assetId":"a1","jsonResponse":"{\"k\":\"\u00e9\"}","createdAt":"2024-01-01T00:00:00.000Z","modelName":"m","secondsToLabel":1.5,"isLatestLabelForUser":true}"#;
        let l: Label = serde_json::from_str(text).unwrap();
        assert_eq!(l.id(), "l\u{e9}");
        assert_eq!(
            l.author(),
            Some(User {
                id: Some("u1"),
                email: Some("a\"b@c")
            })
        );
        assert_eq!(l.asset_id(), Some("a1"));
        assert_eq!(
            l.json_response().unwrap().parse().unwrap(),
            json!({"k": "\u{e9}"})
        );
        assert_eq!(l.created_at(), Some("2024-01-01T00:00:00.000Z"));
        assert_eq!(l.model_name(), Some("m"));
        assert_eq!(l.seconds_to_label(), Some(1.5));
        assert_eq!(l.is_latest_label_for_user(), Some(true));
        let total = "l\u{e9}u1a\"b@ca1{\"k\":\"\u{e9}\"}2024-01-01T00:00:00.000Zm".len();
        assert_eq!(l.text.len(), total, "exactly the fields' text");
        let empty_author = Label::from_json(&json!({"id": "x", "author": {}})).unwrap();
        assert_eq!(empty_author.author(), Some(User::default()));
        assert_eq!(
            Label::from_json(&json!({"id": "x"})).unwrap().author(),
            None
        );
    }

    #[test]
    fn unescaping_matches_serde_json() {
        let texts = [
            "",
            "plain",
            "quote \" backslash \\ slash / controls \u{8}\u{c}\n\r\t\u{1} end",
            "unicode \u{e9}\u{4e2d} emoji \u{1F600} and \u{FFFF}",
            "{\"JOB_0\":{\"categories\":[{\"name\":\"A\"}]}}",
        ];
        for t in texts {
            let literal = serde_json::to_string(t).unwrap();
            let mut out = String::new();
            unescape_into(&literal, &mut out).unwrap();
            assert_eq!(out, t, "{literal}");
            // serde_json writes only some escapes; the others decode as well.
            let ascii: String = t
                .chars()
                .map(|c| match c {
                    '/' => "\\/".to_owned(),
                    c if !c.is_ascii() => c
                        .encode_utf16(&mut [0; 2])
                        .iter()
                        .map(|u| format!("\\u{u:04X}"))
                        .collect(),
                    c => {
                        let quoted = serde_json::to_string(&c.to_string()).unwrap();
                        quoted[1..quoted.len() - 1].to_owned()
                    }
                })
                .collect();
            let mut out = String::new();
            unescape_into(&format!("\"{ascii}\""), &mut out).unwrap();
            assert_eq!(out, t, "{ascii}");
        }
        for bad in [
            r#""\ud800""#,
            r#""\udc00x""#,
            r#""\u12""#,
            r#""\x""#,
            r#""\"#,
            "nope",
        ] {
            assert!(unescape_into(bad, &mut String::new()).is_err(), "{bad}");
            assert!(
                serde_json::from_str::<LabelFromText>(&format!(
                    r#"{{"id":"l","jsonResponse":{bad}}}"#
                ))
                .is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_label_from_text_is_the_label_from_a_tree() {
        for response in [
            json!("{\"J\":[1,\"\u{e9}\"]}"),
            json!(""),
            json!("  \n"),
            json!(null),
            json!({"k": [1, 2]}),
            json!(3),
        ] {
            let v = json!({"id": "l", "author": {"email": "a@b"}, "jsonResponse": response});
            let text = v.to_string();
            let from_text = serde_json::from_str::<LabelFromText>(&text).unwrap().0;
            let from_tree = Label::from_json(&v).unwrap();
            assert_eq!(from_text, from_tree, "{text}");
            let pretty = serde_json::to_string_pretty(&v).unwrap();
            assert_eq!(
                serde_json::from_str::<LabelFromText>(&pretty).unwrap().0,
                from_tree
            );
        }
    }

    #[test]
    fn an_author_borrows_from_the_frame_and_skips_what_it_does_not_show() {
        let a: Author<'_> =
            serde_json::from_str(r#"{"id":null,"email":"e@x","name":{"a":1}}"#).unwrap();
        assert!(a.id.is_none());
        assert!(matches!(a.email.map(|t| t.0), Some(Cow::Borrowed("e@x"))));
        assert!(serde_json::from_str::<Author<'_>>("3").is_err());
    }

    #[test]
    fn asset_id_wins_over_label_of_and_structured_responses_are_kept() {
        let l = Label::from_json(&json!({
            "id": "l", "labelOf": {"id": "b"}, "assetId": "a", "jsonResponse": {"k": 1}
        }))
        .unwrap();
        assert_eq!(l.asset_id(), Some("a"));
        assert_eq!(l.json_response().unwrap().parse().unwrap(), json!({"k": 1}));
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        assert!(Label::from_json(&json!(3)).is_err());
        assert!(Label::from_json(&json!({"id": 3})).is_err());
        assert!(Label::from_json(&json!({"labelType": "X"})).is_err());
        assert!(serde_json::from_str::<Label>(r#"{"id":"x","author":3}"#).is_err());
        let l = Label::from_json(&json!({"id": "x", "jsonResponse": "{"})).unwrap();
        assert!(
            l.json_response().unwrap().parse().is_err(),
            "parsed on demand"
        );
    }
}
