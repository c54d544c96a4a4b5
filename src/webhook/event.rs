//! [`WebhookEvent`]: what Kili POSTs to a webhook, decoded. The body is
//! `{"eventType": ..., "logPayload": {"runId": ..., "projectId": ...}, "payload": {"label":
//! {...}, "asset_id": ...}}`; every part may be missing, and an event type this crate does not
//! know is kept, not refused. Pure: no IO.

use std::borrow::Cow;
use std::hash::Hasher as _;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::common::hash::WordHasher;
use crate::error::{Error, Result};
use crate::models::{Label, LabelFromText, RawJson, WebhookHandler};

/// What happened, as the webhook's `eventType` says: one of the handler types it was
/// registered for ([`WebhookHandler`], Kili's `PluginHandlerType`); a type this crate does not
/// know is kept as `Other`.
///
/// # Examples
///
/// ```
/// assert_eq!(kili::WebhookEventType::OnReview.as_str(), "onReview");
/// ```
pub type WebhookEventType = WebhookHandler;

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
/// assert_eq!(event.body().parse()?["logPayload"]["runId"], "r1");
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct WebhookEvent {
    event_type: WebhookEventType,
    run_id: Option<String>,
    project_id: Option<String>,
    asset_id: Option<String>,
    label: Option<Label>,
    /// The digest of the label's (else the payload's) text, for a label without a version
    /// (0, not computed, for a label with one).
    digest: u64,
    body: Box<str>,
}

/// The body as sent, read in one pass; the label stays raw until decoded on its own.
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(default, rename = "eventType", borrow)]
    event_type: Option<Cow<'a, str>>,
    #[serde(default, rename = "logPayload", borrow)]
    log: Option<Log<'a>>,
    #[serde(default, borrow)]
    payload: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Log<'a> {
    #[serde(default, rename = "runId", borrow)]
    run_id: Option<Cow<'a, str>>,
    #[serde(default, rename = "projectId", borrow)]
    project_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(default, borrow)]
    label: Option<&'a RawValue>,
    #[serde(default, borrow)]
    asset_id: Option<Cow<'a, str>>,
    #[serde(default, rename = "assetId", borrow)]
    asset_id_camel: Option<Cow<'a, str>>,
    #[serde(default, rename = "projectId", borrow)]
    project_id: Option<Cow<'a, str>>,
}

impl WebhookEvent {
    /// Decodes a webhook's body.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] if the body is not a JSON object of the webhook's shape (a string
    /// `eventType`, objects for `logPayload` and `payload`), or its `payload.label` is not a
    /// label (an object with a string `id`).
    pub fn from_body(body: &[u8]) -> Result<WebhookEvent> {
        let text = std::str::from_utf8(body).map_err(|e| Error::decode("a webhook body", e))?;
        let wire: Wire<'_> =
            serde_json::from_str(text).map_err(|e| Error::decode("a webhook body", e))?;
        let Ok(event_type) = wire
            .event_type
            .as_deref()
            .unwrap_or("")
            .parse::<WebhookEventType>();
        let owned = |c: Option<Cow<'_, str>>| c.map(Cow::into_owned);
        let (log_run, log_project) = wire.log.map_or((None, None), |l| (l.run_id, l.project_id));
        let (label, asset_id, project_id, digest) = match wire.payload {
            None => (None, None, None, digest_of(b"")),
            Some(raw) if raw.get() == "null" => (None, None, None, digest_of(b"null")),
            Some(raw) => {
                let p: Payload<'_> = serde_json::from_str(raw.get())
                    .map_err(|e| Error::decode("a webhook's payload", e))?;
                let label = match p.label {
                    Some(raw) if raw.get() != "null" => Some(
                        serde_json::from_str::<LabelFromText>(raw.get())
                            .map_err(|e| Error::decode("a webhook's label", e))?
                            .0,
                    ),
                    _ => None,
                };
                let digest = match label.as_ref().and_then(version_of) {
                    Some(_) => 0,
                    None => digest_of(p.label.unwrap_or(raw).get().as_bytes()),
                };
                (label, p.asset_id.or(p.asset_id_camel), p.project_id, digest)
            }
        };
        let asset_id = owned(asset_id)
            .or_else(|| label.as_ref().and_then(|l| l.asset_id().map(str::to_owned)));
        Ok(WebhookEvent {
            event_type,
            run_id: owned(log_run),
            project_id: owned(log_project.or(project_id)),
            asset_id,
            label,
            digest,
            body: text.into(),
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

    /// Returns the whole body, as received (parse it with [`RawJson::parse`]).
    pub fn body(&self) -> RawJson<'_> {
        RawJson::new(&self.body)
    }

    /// Returns what identifies this event across redeliveries: its type, its label's id, and
    /// the label's `version` (or, without one, a digest of the label as sent; without a
    /// label, of the payload).
    pub(crate) fn key(&self) -> String {
        let label_id = self.label.as_ref().map_or("", |l| l.id());
        match self.label.as_ref().and_then(version_of) {
            Some(n) => format!("{}\t{label_id}\t{n}", self.event_type.as_str()),
            _ => format!(
                "{}\t{label_id}\t#{:016x}",
                self.event_type.as_str(),
                self.digest
            ),
        }
    }
}

/// Returns a label's `version`, if it is a number.
fn version_of(label: &Label) -> Option<&serde_json::Number> {
    match label.extra().get("version") {
        Some(Value::Number(n)) => Some(n),
        _ => None,
    }
}

/// Returns a stable digest of some text.
fn digest_of(bytes: &[u8]) -> u64 {
    let mut h = WordHasher::default();
    h.write(bytes);
    h.finish()
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
        assert_eq!(e.body().parse().unwrap()["payload"]["x"], 1);
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
            br#"{"eventType": 3}"#,
            br#"{"payload": 3}"#,
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
