//! The label feed: decodes each result straight into a [`Label`], keeps what a checkpoint needs,
//! and after a gap fetches every label created since the last one delivered.
//!
//! Live results are never deduplicated against each other: the same content twice is two
//! events. Deduplication happens only where a catch-up and the live stream overlap:
//!
//! - a catch-up skips the versions already delivered (same id and digest);
//! - the subscription is live before the catch-up reads, so a label changed in between shows
//!   up in both: its live results that arrive within [`OVERLAP`] of the catch-up's end are held
//!   until the version the catch-up delivered comes by (then those held are older, and dropped
//!   with it) or until no result is waiting in the socket (then they are newer, and delivered,
//!   in order). A label's versions are never delivered out of order, nor twice.

use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;

use super::source::ApiSource;
use super::{CaughtUp, Context, Feed};
use crate::client::Kili;
use crate::common::time;
use crate::error::{Error, Result};
use crate::models::{Label, LabelFromText};
use crate::subscription::events::{EventOrigin, LabelEvent};
use crate::subscription::feed::catch_up::{self, Flow};
use crate::subscription::feed::checkpoint::{Checkpoint, Entry, Recent, digest};
use crate::subscription::feed::hash::IdMap;
use crate::subscription::feed::small_str::SmallStr;

/// How long after a catch-up a live result may repeat what it fetched: results published
/// before the catch-up read them, still in flight or waiting in the socket.
const OVERLAP: Duration = Duration::from_secs(2);

/// Labels per catch-up request (the SDK's page size).
const PAGE: u64 = 100;
/// The newest time a catch-up asks for, 3000-01-01T00:00:00.000Z: far beyond any clock skew,
/// and within every server's date range.
const END_OF_TIME: i64 = 32_503_680_000_000;
/// How far past the local clock labels may carry a `createdAt` (a server clock ahead of
/// ours): the catch-up's first cut.
const CLOCK_AHEAD: i64 = 86_400_000;

/// A result's payload: `{"data": {"data": LABEL}}`.
#[derive(Deserialize)]
pub(crate) struct Payload {
    data: Option<Data>,
}

#[derive(Deserialize)]
pub(crate) struct Data {
    data: Option<LabelFromText>,
}

/// Settings of a label feed.
#[derive(Debug, Clone)]
pub(crate) struct LabelFeedSettings {
    /// How far behind the newest `createdAt` a catch-up starts; `None` turns catch-ups off.
    pub(crate) margin: Option<Duration>,
    /// The most versions a checkpoint lists.
    pub(crate) capacity: usize,
    /// The most labels one catch-up delivers (the newest).
    pub(crate) limit: Option<u64>,
    /// Where to start from.
    pub(crate) resume: Option<Checkpoint>,
}

/// Label subscriptions.
#[derive(Debug)]
pub(crate) struct LabelFeed {
    source: ApiSource,
    margin_ms: Option<i64>,
    capacity: usize,
    limit: Option<u64>,
    /// The newest `createdAt` delivered (ms).
    newest: Option<i64>,
    /// Server time when the subscription was first established (ms), for a catch-up before any
    /// label was delivered.
    baseline: Option<i64>,
    /// Never fetch below this (a checkpoint's start, or what the capacity cut).
    floor: Option<i64>,
    /// The versions delivered recently, for checkpoints.
    recent: Recent,
    /// During a catch-up: the latest digest delivered per label id (built from `recent`
    /// when the catch-up starts; the live path keeps no index).
    index: Option<IdMap<u64>>,
    /// Versions the last catch-up delivered, not yet seen live, until `overlap_until`.
    overlap: IdMap<u64>,
    overlap_until: Option<Instant>,
    /// Live results of labels in `overlap`, held until their fate is known (oldest first).
    held: Vec<(Label, u64)>,
    /// Whether the first establishment must catch up (resuming from a checkpoint).
    resuming: bool,
}

impl LabelFeed {
    pub(crate) fn new(kili: Kili, project_id: String, settings: LabelFeedSettings) -> LabelFeed {
        let margin_ms = settings
            .margin
            .map(|m| i64::try_from(m.as_millis()).unwrap_or(i64::MAX));
        let mut feed = LabelFeed {
            source: ApiSource { kili, project_id },
            margin_ms,
            capacity: settings.capacity.max(1),
            limit: settings.limit,
            newest: None,
            baseline: None,
            floor: None,
            recent: Recent::default(),
            index: None,
            overlap: IdMap::default(),
            overlap_until: None,
            held: Vec::new(),
            resuming: false,
        };
        if let Some(cp) = settings.resume {
            feed.resume(&cp);
        }
        feed
    }

    fn resume(&mut self, cp: &Checkpoint) {
        self.floor = cp.start();
        for e in cp.entries() {
            self.newest = self.newest.max(Some(e.created_at));
            self.recent.push(e.clone());
        }
        self.resuming = self.floor.is_some();
    }

    /// Labels created at or after this time are fetched by the next catch-up.
    fn resume_point(&self) -> Option<i64> {
        let margin = self.margin_ms?;
        match (self.newest, self.floor, self.baseline) {
            (Some(n), floor, _) => Some(n.saturating_sub(margin).max(floor.unwrap_or(i64::MIN))),
            (None, Some(floor), _) => Some(floor),
            (None, None, Some(b)) => Some(b.saturating_sub(margin)),
            (None, None, None) => None,
        }
    }

    fn snapshot(&self) -> Checkpoint {
        Checkpoint::new(self.resume_point(), self.recent.clone())
    }

    /// Returns whether this version of the label was delivered (and is still remembered).
    fn delivered(&self, id: &str, digest: u64) -> bool {
        self.index
            .as_ref()
            .and_then(|index| index.get(id))
            .is_some_and(|d| *d == digest)
    }

    /// Returns the latest digest delivered per label id, from the versions remembered.
    fn build_index(&self) -> IdMap<u64> {
        let mut index = IdMap::default();
        for e in self.recent.iter() {
            index.insert(e.id.clone(), e.digest);
        }
        index
    }

    /// Records a delivered version.
    fn record(&mut self, id: SmallStr, digest: u64, created_at: Option<i64>) {
        // A label without a usable `createdAt` is kept until the capacity drops it.
        let created_at = created_at.unwrap_or(i64::MAX);
        if created_at != i64::MAX {
            self.newest = self.newest.max(Some(created_at));
        }
        if let Some(index) = &mut self.index {
            index.insert(id.clone(), digest);
        }
        self.recent.push(Entry {
            id,
            digest,
            created_at,
        });
        let Some(from) = self.resume_point() else {
            return;
        };
        if let Some(cut) = self.recent.prune(from, self.capacity) {
            // The capacity dropped versions still in the window: never fetch below them
            // again, or they would be delivered twice.
            self.floor = self.floor.max(Some(cut.saturating_add(1)));
        }
    }

    fn event(&self, label: Label, ctx: &Context, origin: EventOrigin) -> LabelEvent {
        LabelEvent::new(label, ctx.subscription_id.clone(), origin, self.snapshot())
    }
}

impl Feed for LabelFeed {
    type Event = LabelEvent;
    type Payload = Payload;
    const WHAT: &'static str = "a label event";

    fn live(&mut self, ctx: &Context, payload: Payload) -> Result<Option<LabelEvent>> {
        let label = payload
            .data
            .and_then(|d| d.data)
            .map(|l| l.0)
            .ok_or_else(|| Error::decode("a label event", "no label at data.data"))?;
        let id = SmallStr::new(label.id());
        let d = digest(&label);
        if self.overlap_until.is_some_and(|t| Instant::now() >= t) {
            self.overlap.clear();
            self.overlap_until = None;
        }
        // Outside an overlap (nearly always), no lookup at all.
        let caught = if self.overlap.is_empty() {
            None
        } else {
            self.overlap.get(&id).copied()
        };
        match caught {
            Some(caught) if caught == d => {
                // The version the catch-up delivered: it, and what was held before it, are old.
                log::trace!("live label {id}: the catch-up delivered this version already");
                self.overlap.remove(&id);
                self.held.retain(|(l, _)| l.id() != label.id());
                Ok(None)
            }
            Some(_) => {
                self.held.push((label, d));
                Ok(None)
            }
            None => {
                let created_at = label.created_at().and_then(time::parse_iso);
                self.record(id, d, created_at);
                Ok(Some(self.event(label, ctx, EventOrigin::Live)))
            }
        }
    }

    fn holding(&self) -> bool {
        !self.held.is_empty()
    }

    fn release(&mut self, ctx: &Context) -> Vec<LabelEvent> {
        let held = std::mem::take(&mut self.held);
        let mut out = Vec::with_capacity(held.len());
        for (label, d) in held {
            let id = SmallStr::new(label.id());
            // Its live stream moved past the catch-up's version: later results are new.
            self.overlap.remove(&id);
            let created_at = label.created_at().and_then(time::parse_iso);
            self.record(id, d, created_at);
            out.push(self.event(label, ctx, EventOrigin::Live));
        }
        out
    }

    fn established(&mut self, ctx: &Context) {
        if self.baseline.is_none() {
            // The server's clock, not ours; its `Date` has seconds only.
            let server = ctx.server_date.map(|d| time::millis(d) - 1_000);
            if server.is_none() {
                log::debug!("the server sent no Date: the catch-up baseline is the local clock");
            }
            self.baseline = Some(server.unwrap_or_else(|| time::millis(SystemTime::now())));
        }
    }

    fn wants_catch_up(&self, reconnect: bool) -> bool {
        self.margin_ms.is_some() && (reconnect || self.resuming)
    }

    fn catch_up(
        &mut self,
        ctx: &Context,
        gap_started: Option<SystemTime>,
        deliver: &mut dyn FnMut(LabelEvent) -> Flow,
    ) -> Result<CaughtUp> {
        self.resuming = false;
        // Held from an earlier connection: superseded by what this catch-up reads.
        self.held.clear();
        let Some(from) = self.resume_point() else {
            return Ok(CaughtUp::default());
        };
        log::debug!(
            "catching up on the labels created since {}",
            time::format_ms(from)
        );
        let mut source = self.source.clone();
        let limit = self.limit;
        let mut delivered = 0;
        self.index = Some(self.build_index());
        let mut receive = |rows: Vec<Label>| {
            for label in rows {
                let id = SmallStr::new(label.id());
                let d = digest(&label);
                if self.delivered(&id, d) {
                    log::trace!("caught-up label {id}: delivered before the gap");
                    continue;
                }
                let created_at = label.created_at().and_then(time::parse_iso);
                self.record(id.clone(), d, created_at);
                log::trace!("caught-up label {id}: delivered");
                self.overlap.insert(id, d);
                delivered += 1;
                let event = self.event(label, ctx, EventOrigin::CatchUp);
                if deliver(event) == Flow::Stop {
                    return Flow::Stop;
                }
            }
            Flow::Continue
        };
        let likely_end = time::millis(SystemTime::now()).saturating_add(CLOCK_AHEAD);
        // No label predates the epoch; a huge margin would otherwise ask for year -292 million.
        let span = (from.max(0), END_OF_TIME);
        let report = catch_up::run(&mut source, span, likely_end, PAGE, limit, &mut receive);
        self.index = None;
        let report = report?;
        self.overlap_until = Instant::now().checked_add(OVERLAP);
        let now = SystemTime::now();
        Ok(CaughtUp {
            delivered,
            gap: report.gap,
            unchecked_updates: Some((
                gap_started.unwrap_or_else(|| time::to_system_time(from)),
                now,
            )),
        })
    }

    fn restarted(&mut self) {
        self.newest = None;
        self.baseline = None;
        self.floor = None;
        self.recent = Recent::default();
        self.index = None;
        self.overlap.clear();
        self.held.clear();
        self.resuming = false;
    }

    fn checkpoint(&self) -> Option<Checkpoint> {
        Some(self.snapshot())
    }

    fn checkpoint_of(event: &LabelEvent) -> Option<Checkpoint> {
        Some(event.checkpoint().clone())
    }
}
