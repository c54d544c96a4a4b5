//! The label feed against labels in memory: bad timestamps, a gap far larger than anything it
//! keeps, and a catch-up that fails half way.

use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::json;

use super::*;
use crate::common::time::format_ms;
use crate::subscription::feed::tests::ctx;

/// Labels in memory, `(createdAt, id)`; fails the request numbered `fail_at` (from 1).
#[derive(Debug, Clone, Default)]
struct Memory {
    labels: Arc<Vec<(i64, String)>>,
    requests: Arc<Mutex<usize>>,
    fail_at: Arc<Mutex<Option<usize>>>,
}

impl Memory {
    fn new(labels: Vec<(i64, String)>) -> Memory {
        Memory {
            labels: Arc::new(labels),
            ..Memory::default()
        }
    }

    fn request(&self) -> Result<()> {
        let mut n = self.requests.lock();
        *n += 1;
        if *self.fail_at.lock() == Some(*n) {
            return Err(Error::Http {
                status: 500,
                body: "injected".into(),
            });
        }
        Ok(())
    }
}

impl Source for Memory {
    fn count(&mut self, from: i64, to: i64) -> Result<u64> {
        self.request()?;
        Ok(self
            .labels
            .iter()
            .filter(|(t, _)| (from..=to).contains(t))
            .count() as u64)
    }

    fn page(&mut self, from: i64, to: i64, first: u64, skip: u64) -> Result<Vec<Label>> {
        self.request()?;
        Ok(self
            .labels
            .iter()
            .filter(|(t, _)| (from..=to).contains(t))
            .skip(skip as usize)
            .take(first as usize)
            .map(|(t, id)| label(id, Some(&format_ms(*t))))
            .collect())
    }
}

fn label(id: &str, created_at: Option<&str>) -> Label {
    let mut v = json!({"id": id, "labelOf": {"id": "a"}, "jsonResponse": "{}"});
    if let Some(t) = created_at {
        v["createdAt"] = json!(t);
    }
    Label::from_json(&v).unwrap()
}

/// A connection that answers every marker at once and brings no live result.
struct NoLive {
    sent: u64,
}

impl Wire<Payload> for NoLive {
    fn mark(&mut self) -> Option<u64> {
        self.sent += 1;
        Some(self.sent)
    }

    fn poll(&mut self) -> Vec<Arrived<Payload>> {
        vec![Arrived::Marker(self.sent)]
    }
}

fn settings() -> LabelFeedSettings {
    LabelFeedSettings {
        margin: Some(Duration::from_secs(30)),
        capacity: 4096,
        limit: None,
        resume: None,
    }
}

fn payload(l: &Label) -> Payload {
    serde_json::from_str(&json!({"data": {"data": l.to_json()}}).to_string()).unwrap()
}

fn live(feed: &mut LabelFeed<Memory>, l: &Label) -> LabelEvent {
    match feed.live(&ctx(), payload(l)).unwrap() {
        Live::Event(e) => e,
        Live::Waiting => panic!("no overlap here"),
    }
}

/// An hour ago: well within what the server's clock allows.
fn now_ish() -> i64 {
    time::millis(SystemTime::now()) - 3_600_000
}

#[test]
fn a_label_without_a_usable_created_at_is_never_a_resume_point() {
    let t0 = now_ish();
    let mut feed = LabelFeed::with_source(Memory::default(), settings());
    feed.established(&ctx());
    let e = live(&mut feed, &label("a", Some(&format_ms(t0))));
    let before = e.checkpoint().start();
    for (id, at) in [("b", None), ("c", Some("not a date")), ("d", Some("null"))] {
        let e = live(&mut feed, &label(id, at));
        assert_eq!(
            e.checkpoint().start(),
            before,
            "{id} moved the resume point"
        );
    }
    assert_eq!(feed.newest, Some(t0));
}

#[test]
fn a_far_future_created_at_is_clamped_to_the_servers_clock() {
    let mut feed = LabelFeed::with_source(Memory::default(), settings());
    feed.established(&ctx());
    let e = live(&mut feed, &label("a", Some("2999-01-01T00:00:00.000Z")));
    let start = e.checkpoint().start().unwrap();
    let now = time::millis(SystemTime::now());
    assert!(
        start <= now + CLOCK_AHEAD,
        "the resume point {} is past the server's clock plus a day",
        format_ms(start)
    );
    // A label created now is still fetched by the next catch-up.
    assert!(start <= now + CLOCK_AHEAD - 30_000 + 1_000);
}

#[test]
fn a_gap_larger_than_anything_kept_leaves_nothing_behind() {
    let t0 = now_ish();
    // 20,000 labels, 5 per millisecond, all of them missed.
    let labels: Vec<(i64, String)> = (0..20_000)
        .map(|i| (t0 + i / 5, format!("l{i:05}")))
        .collect();
    let mut feed = LabelFeed::with_source(Memory::new(labels), settings());
    feed.established(&ctx());
    feed.baseline = Some(t0 - 1_000);
    let mut n = 0;
    let mut wire = NoLive { sent: 0 };
    let caught = feed
        .catch_up(&ctx(), None, &mut wire, &mut |_| {
            n += 1;
            Flow::Continue
        })
        .unwrap();
    assert_eq!((n, caught.delivered), (20_000, 20_000));
    assert!(feed.index.is_none(), "the index goes with the catch-up");
    assert!(feed.overlap.is_empty(), "every page settled by its marker");
    assert!(
        feed.recent.iter().count() <= 4096 + 64,
        "{} versions kept",
        feed.recent.iter().count()
    );
}

#[test]
fn a_failed_catch_up_keeps_the_resume_point_until_one_succeeds() {
    let t0 = now_ish();
    let labels: Vec<(i64, String)> = (0..500).map(|i| (t0 + i, format!("l{i:03}"))).collect();
    let memory = Memory::new(labels);
    let mut feed = LabelFeed::with_source(memory.clone(), settings());
    feed.established(&ctx());
    feed.baseline = Some(t0 + 30_000);
    let from = feed.resume_point();
    // The fourth request fails, half way through.
    *memory.fail_at.lock() = Some(4);
    let mut got = Vec::new();
    let mut wire = NoLive { sent: 0 };
    let failed = feed.catch_up(&ctx(), None, &mut wire, &mut |e| {
        got.push(e.label().id().to_owned());
        Flow::Continue
    });
    assert!(failed.is_err());
    assert!(feed.wants_catch_up(false), "it is still owed");
    // Live labels move `newest` far ahead; the checkpoint does not follow.
    live(&mut feed, &label("late", Some(&format_ms(t0 + 3_600_000))));
    assert!(feed.resume_point() <= from.max(Some(t0 + got.len() as i64)));
    let again = feed
        .catch_up(&ctx(), None, &mut wire, &mut |e| {
            got.push(e.label().id().to_owned());
            Flow::Continue
        })
        .unwrap();
    assert!(again.delivered > 0);
    let mut ids = got.clone();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), got.len(), "nothing twice");
    assert_eq!(got.len(), 500, "everything once");
    assert!(!feed.wants_catch_up(false));
}
