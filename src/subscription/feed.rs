//! What a subscription makes of its frames: raw events, or labels with deduplication and
//! catch-up after reconnections.

use std::hash::{Hash, Hasher};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::client::Kili;
use crate::client::fields::Selection;
use crate::client::ops::labels::LabelQuery;
use crate::client::paginate::Paginated;
use crate::client::read::{LABELS, Page};
use crate::error::{Error, Result};
use crate::models::Label;
use crate::subscription::dedupe::Dedupe;
use crate::subscription::events::{EventOrigin, LabelEvent, RawEvent};
use crate::time;

/// Turns frames into events.
pub(crate) trait Feed: Send + 'static {
    /// What the program receives.
    type Event: Send + 'static;

    /// A live frame of the subscription; `Ok(None)` if it was delivered already.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] if the frame does not hold an event.
    fn live(&mut self, subscription_id: &str, frame: Value) -> Result<Option<Self::Event>>;

    /// The subscription was established for the first time since it started or restarted.
    fn established(&mut self) {}

    /// The events that happened while disconnected and were not delivered yet, oldest first.
    /// `frame_type` is the type of the dialect's result frames (`data` or `next`).
    ///
    /// # Errors
    ///
    /// Whatever fetching them gave.
    fn missed(&mut self, _subscription_id: &str, _frame_type: &str) -> Result<Vec<Self::Event>> {
        Ok(Vec::new())
    }

    /// The subscription restarts after a close: what happened meanwhile is not wanted.
    fn restarted(&mut self) {}
}

/// Generic subscriptions: every frame is an event; nothing to catch up.
#[derive(Debug, Default)]
pub(crate) struct RawFeed;

impl Feed for RawFeed {
    type Event = RawEvent;

    fn live(&mut self, subscription_id: &str, frame: Value) -> Result<Option<RawEvent>> {
        Ok(Some(RawEvent::from_frame(
            subscription_id.to_owned(),
            frame,
        )))
    }
}

/// The label fields that label events carry: the SDK's subscription fields, plus `createdAt`
/// for the catch-up. The subscription document and the catch-up read both select these.
pub(crate) const LABEL_EVENT_FIELDS: &[&str] = &[
    "id",
    "author.email",
    "labelOf.id",
    "labelType",
    "jsonResponse",
    "createdAt",
];

/// The label subscription's document: the SDK's, with [`LABEL_EVENT_FIELDS`].
pub(crate) fn label_subscription_document() -> Result<String> {
    let selection = Selection::parse(LABEL_EVENT_FIELDS)?.render();
    Ok(format!(
        "subscription($projectID: ID!) {{\n  data: labelCreatedOrUpdated(projectID: $projectID) {{\n    {selection}\n  }}\n}}\n"
    ))
}

/// At most this many labels are fetched by one catch-up.
const MAX_CATCH_UP: u64 = 10_000;

/// Label subscriptions: decode, deliver each label version once, fetch what was missed.
#[derive(Debug)]
pub(crate) struct LabelFeed {
    kili: Kili,
    project_id: String,
    seen: Dedupe,
    margin: Option<Duration>,
    /// The newest `createdAt` seen (ms since the epoch).
    newest: Option<i64>,
    /// When the subscription was first established (client clock), for catch-ups before any
    /// label was seen.
    baseline: Option<i64>,
}

impl LabelFeed {
    pub(crate) fn new(
        kili: Kili,
        project_id: String,
        dedupe_capacity: usize,
        margin: Option<Duration>,
    ) -> Self {
        LabelFeed {
            kili,
            project_id,
            seen: Dedupe::new(dedupe_capacity),
            margin,
            newest: None,
            baseline: None,
        }
    }

    /// Records a label; returns whether it is new.
    fn record(&mut self, label_json: &Value) -> bool {
        if let Some(ms) = label_json
            .get("createdAt")
            .and_then(Value::as_str)
            .and_then(time::parse_iso)
        {
            self.newest = Some(self.newest.map_or(ms, |n| n.max(ms)));
        }
        self.seen.insert(version_key(label_json))
    }

    fn fetch_since(&self, since: &str) -> Result<Vec<Value>> {
        let filter = LabelQuery::new(&self.project_id).created_at_gte(since);
        let page = Page {
            fields: Some(LABEL_EVENT_FIELDS.iter().map(|f| (*f).to_owned()).collect()),
            first: Some(MAX_CATCH_UP),
            skip: 0,
        };
        let rows: Vec<Value> = Paginated::new(&self.kili, &LABELS, &page, filter.where_()?, |v| {
            Ok(v.clone())
        })?
        .collect::<Result<_>>()?;
        if rows.len() as u64 >= MAX_CATCH_UP {
            log::warn!(
                "catch-up of project {} stopped at {MAX_CATCH_UP} labels; older missed labels are not delivered",
                self.project_id
            );
        }
        Ok(rows)
    }
}

impl Feed for LabelFeed {
    type Event = LabelEvent;

    fn live(&mut self, subscription_id: &str, frame: Value) -> Result<Option<LabelEvent>> {
        // Chained lookups: `pointer` allocates for every event.
        let label_json = frame
            .get("payload")
            .and_then(|p| p.get("data"))
            .and_then(|d| d.get("data"))
            .filter(|v| v.is_object())
            .ok_or_else(|| {
                Error::decode(
                    "a label event",
                    format!("no label at payload.data.data in {frame}"),
                )
            })?;
        let label = Label::from_json(label_json)?;
        if !self.record(label_json) {
            return Ok(None);
        }
        Ok(Some(LabelEvent {
            label,
            subscription_id: subscription_id.to_owned(),
            frame,
            origin: EventOrigin::Live,
        }))
    }

    fn established(&mut self) {
        if self.baseline.is_none() {
            self.baseline = Some(time::millis(SystemTime::now()));
        }
    }

    fn missed(&mut self, subscription_id: &str, frame_type: &str) -> Result<Vec<LabelEvent>> {
        let Some(margin) = self.margin else {
            return Ok(Vec::new());
        };
        let Some(since) = self.newest.or(self.baseline) else {
            return Ok(Vec::new());
        };
        let margin_ms = i64::try_from(margin.as_millis()).unwrap_or(i64::MAX);
        let since = time::format_ms(since.saturating_sub(margin_ms));
        let mut labels = self.fetch_since(&since)?;
        // Oldest first; labels without a parsable date last, in the server's order.
        labels.sort_by_key(|l| {
            l.get("createdAt")
                .and_then(Value::as_str)
                .and_then(time::parse_iso)
                .unwrap_or(i64::MAX)
        });
        let mut events = Vec::new();
        for label_json in labels {
            let label = match Label::from_json(&label_json) {
                Ok(l) => l,
                Err(e) => {
                    log::warn!("skipping a caught-up label that does not decode: {e}");
                    continue;
                }
            };
            if !self.record(&label_json) {
                continue;
            }
            let frame = json!({"type": frame_type, "id": subscription_id, "payload": {"data": {"data": label_json}}});
            events.push(LabelEvent {
                label,
                subscription_id: subscription_id.to_owned(),
                frame,
                origin: EventOrigin::CatchUp,
            });
        }
        Ok(events)
    }

    fn restarted(&mut self) {
        self.newest = None;
        self.baseline = None;
    }
}

/// A key for one version of a label: its fields, hashed with object keys in sorted order (so
/// the live frame and the catch-up query give the same key whatever their field order). An
/// update of a label changes its fields, so updates are still delivered.
fn version_key(label: &Value) -> u64 {
    // `DefaultHasher::new()` has fixed keys: the same key for the same value, every time.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    hash_value(label, &mut h);
    h.finish()
}

fn hash_value(v: &Value, h: &mut impl Hasher) {
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(n) => (2u8, n.to_string()).hash(h),
        Value::String(s) => (3u8, s).hash(h),
        Value::Array(a) => {
            (4u8, a.len()).hash(h);
            a.iter().for_each(|x| hash_value(x, h));
        }
        Value::Object(o) => {
            (5u8, o.len()).hash(h);
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            for k in keys {
                k.hash(h);
                hash_value(&o[k], h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed() -> LabelFeed {
        let kili = Kili::new("k", "http://127.0.0.1:9/api/label/v2/graphql").unwrap();
        LabelFeed::new(kili, "p".into(), 16, Some(Duration::from_secs(10)))
    }

    fn frame(id: &str, response: &str, created: &str) -> Value {
        json!({"type": "data", "id": "s", "payload": {"data": {"data": {
            "id": id, "jsonResponse": response, "createdAt": created, "labelOf": {"id": "a"}
        }}}})
    }

    #[test]
    fn live_labels_are_decoded_and_deduplicated_by_version() {
        let mut f = feed();
        let e = f
            .live("s", frame("l1", "{}", "2024-01-01T00:00:01.000Z"))
            .unwrap()
            .unwrap();
        assert_eq!(e.label.id, "l1");
        assert_eq!(e.label.asset_id.as_deref(), Some("a"));
        assert_eq!(e.origin, EventOrigin::Live);
        assert_eq!(e.frame["type"], "data");
        assert!(
            f.live("s", frame("l1", "{}", "2024-01-01T00:00:01.000Z"))
                .unwrap()
                .is_none()
        );
        // An update (new content) of the same label is a new version.
        assert!(
            f.live("s", frame("l1", "{\"a\":1}", "2024-01-01T00:00:01.000Z"))
                .unwrap()
                .is_some()
        );
        assert_eq!(f.newest, time::parse_iso("2024-01-01T00:00:01.000Z"));
        f.live("s", frame("l0", "{}", "2023-01-01T00:00:00.000Z"))
            .unwrap();
        assert_eq!(
            f.newest,
            time::parse_iso("2024-01-01T00:00:01.000Z"),
            "newest never goes back"
        );
    }

    #[test]
    fn frames_without_a_label_are_errors() {
        let mut f = feed();
        for bad in [
            json!({}),
            json!({"payload": {"data": null}}),
            json!({"payload": {"data": {"data": 3}}}),
            json!({"payload": {"data": {"data": {"noid": 1}}}}),
        ] {
            assert!(f.live("s", bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn version_keys_ignore_field_order() {
        let a: Value = serde_json::from_str(r#"{"id":"x","b":{"c":1,"d":[1,"2"]}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"b":{"d":[1,"2"],"c":1},"id":"x"}"#).unwrap();
        assert_eq!(version_key(&a), version_key(&b));
        assert_ne!(version_key(&a), version_key(&json!({"id": "x"})));
        assert_ne!(version_key(&json!(["a", "b"])), version_key(&json!(["ab"])));
    }

    #[test]
    fn no_catch_up_without_a_reference_time_or_margin() {
        let mut f = feed();
        assert!(
            f.missed("s", "data").unwrap().is_empty(),
            "never established: nothing to fetch"
        );
        let kili = Kili::new("k", "http://127.0.0.1:9/g").unwrap();
        let mut off = LabelFeed::new(kili, "p".into(), 4, None);
        off.established();
        assert!(
            off.missed("s", "data").unwrap().is_empty(),
            "catch-up turned off"
        );
        f.established();
        f.restarted();
        assert!(f.baseline.is_none() && f.newest.is_none());
    }

    #[test]
    fn raw_events_carry_data_and_errors() {
        let e = RawFeed
            .live("s", json!({"type": "next", "id": "s", "payload": {"data": {"x": 1}, "errors": [{"message": "m"}]}}))
            .unwrap()
            .unwrap();
        assert_eq!(e.data, json!({"x": 1}));
        assert_eq!(e.errors[0].message, "m");
        assert_eq!(e.subscription_id, "s");
    }
}
