//! [`WebhookEvent`]: what Kili POSTs to a webhook, decoded. The body is
//! `{"eventType": ..., "logPayload": {"runId": ..., "projectId": ...}, "payload": {"label":
//! {...}, "asset_id": ...}}`; every part may be missing, and an event type this crate does not
//! know is kept, not refused. Pure: no IO.

use std::hash::Hasher as _;

use serde_json::Value;

use crate::common::hash::WordHasher;
use crate::error::{Error, Result};
use crate::models::Label;

/// What happened, as the webhook's `eventType` says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookEventType {
    /// `onSubmit`: a label was submitted.
    OnSubmit,
    /// `onReview`: a label was reviewed.
    OnReview,
    /// Any other type Kili sends, as it is spelled.
    Other(String),
}

impl WebhookEventType {
    /// Returns the type as Kili spells it (`"onSubmit"`, `"onReview"`, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kili::WebhookEventType::OnReview.as_str(), "onReview");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            WebhookEventType::OnSubmit => "onSubmit",
            WebhookEventType::OnReview => "onReview",
            WebhookEventType::Other(other) => other,
        }
    }

    fn from_wire(s: &str) -> WebhookEventType {
        match s {
            "onSubmit" => WebhookEventType::OnSubmit,
            "onReview" => WebhookEventType::OnReview,
            other => WebhookEventType::Other(other.to_owned()),
        }
    }
}

/// One POST of a Kili webhook, decoded.
///
/// # Examples
///
/// ```
/// let body = br#"{"eventType": "onSubmit", "logPayload": {"runId": "r1", "projectId": "p1"},
///     "payload": {"label": {"id": "l1", "labelType": "DEFAULT", "jsonResponse": {}}, "asset_id": "a1"}}"#;
/// let event = kili::WebhookEvent::from_body(body)?;
/// assert_eq!(event.event_type(), &kili::WebhookEventType::OnSubmit);
/// assert_eq!(event.project_id(), Some("p1"));
/// assert_eq!(event.label().map(|l| l.id()), Some("l1"));
/// assert_eq!(event.asset_id(), Some("a1"));
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct WebhookEvent {
    event_type: WebhookEventType,
    run_id: Option<String>,
    project_id: Option<String>,
    asset_id: Option<String>,
    label: Option<Label>,
    body: Value,
}

impl WebhookEvent {
    /// Decodes a webhook's body.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] if the body is not a JSON object, or its `payload.label` is not a
    /// label (an object with a string `id`).
    pub fn from_body(body: &[u8]) -> Result<WebhookEvent> {
        let body: Value =
            serde_json::from_slice(body).map_err(|e| Error::decode("a webhook body", e))?;
        if !body.is_object() {
            return Err(Error::decode("a webhook body", "not a JSON object"));
        }
        let text =
            |v: &Value, path: &str| v.pointer(path).and_then(Value::as_str).map(str::to_owned);
        let label = match body.pointer("/payload/label") {
            None | Some(Value::Null) => None,
            Some(label) => Some(Label::from_json(label)?),
        };
        Ok(WebhookEvent {
            event_type: WebhookEventType::from_wire(
                body.get("eventType").and_then(Value::as_str).unwrap_or(""),
            ),
            run_id: text(&body, "/logPayload/runId"),
            project_id: text(&body, "/logPayload/projectId")
                .or_else(|| text(&body, "/payload/projectId")),
            asset_id: text(&body, "/payload/asset_id")
                .or_else(|| text(&body, "/payload/assetId"))
                .or_else(|| label.as_ref().and_then(|l| l.asset_id().map(str::to_owned))),
            label,
            body,
        })
    }

    /// Returns the event's type.
    pub fn event_type(&self) -> &WebhookEventType {
        &self.event_type
    }

    /// Returns the run's id (`logPayload.runId`), if given.
    pub fn run_id(&self) -> Option<&str> {
        self.run_id.as_deref()
    }

    /// Returns the project's id (`logPayload.projectId`), if given.
    pub fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }

    /// Returns the asset's id (`payload.asset_id`), if given.
    pub fn asset_id(&self) -> Option<&str> {
        self.asset_id.as_deref()
    }

    /// Returns the label the event is about (`payload.label`), if any. Fields a
    /// [`Label`] does not model (`search`, `authorId`, `version`, ...) are in its
    /// [`extra`](Label::extra).
    pub fn label(&self) -> Option<&Label> {
        self.label.as_ref()
    }

    /// Returns the whole body, as received.
    pub fn body(&self) -> &Value {
        &self.body
    }

    /// Returns what identifies this event across redeliveries: its type, its label's id, and
    /// the label's `version` (or, without one, a digest of the label; without a label, of the
    /// payload).
    pub(crate) fn key(&self) -> String {
        let label_id = self.label.as_ref().map_or("", |l| l.id());
        let version = match self.body.pointer("/payload/label/version") {
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                let part = self
                    .body
                    .pointer("/payload/label")
                    .or_else(|| self.body.get("payload"))
                    .unwrap_or(&Value::Null);
                let mut h = WordHasher::default();
                h.write(part.to_string().as_bytes());
                format!("#{:016x}", h.finish())
            }
        };
        format!("{}\t{label_id}\t{version}", self.event_type.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(v: Value) -> WebhookEvent {
        WebhookEvent::from_body(v.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn unknown_types_and_missing_parts_are_kept() {
        let e = event(json!({"eventType": "onSomethingNew", "payload": {"x": 1}}));
        assert_eq!(
            e.event_type(),
            &WebhookEventType::Other("onSomethingNew".into())
        );
        assert_eq!(
            (e.run_id(), e.project_id(), e.asset_id()),
            (None, None, None)
        );
        assert!(e.label().is_none());
        assert_eq!(e.body()["payload"]["x"], 1);
        let e = event(json!({}));
        assert_eq!(e.event_type().as_str(), "");
    }

    #[test]
    fn bodies_that_are_not_events_are_refused() {
        for bad in [
            &b"not json"[..],
            b"[1]",
            b"\"x\"",
            br#"{"payload": {"label": {"no": "id"}}}"#,
        ] {
            assert!(WebhookEvent::from_body(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_key_follows_the_label_version() {
        let body = |v: Value| {
            json!({"eventType": "onSubmit", "logPayload": {"runId": "r"},
                   "payload": {"label": {"id": "l", "version": v, "jsonResponse": {}}}})
        };
        let (a, b) = (event(body(json!(1))), event(body(json!(2))));
        assert_ne!(a.key(), b.key());
        // Another run of the same version is the same event.
        let mut again = body(json!(1));
        again["logPayload"]["runId"] = json!("other");
        assert_eq!(event(again).key(), a.key());
        // Without a version, the content tells versions apart.
        let plain = |r: Value| json!({"eventType": "onReview", "payload": {"label": {"id": "l", "jsonResponse": r}}});
        assert_ne!(
            event(plain(json!({"a": 1}))).key(),
            event(plain(json!({"a": 2}))).key()
        );
        assert_eq!(
            event(plain(json!({"a": 1}))).key(),
            event(plain(json!({"a": 1}))).key()
        );
    }
}
