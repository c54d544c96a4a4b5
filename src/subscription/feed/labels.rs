//! The label feed: decodes each result straight into a [`Label`], keeps what a checkpoint needs,
//! and after a gap fetches every label created since the last one delivered.
//!
//! Live results are never deduplicated against each other: the same content twice is two
//! events. Deduplication happens only where a catch-up meets what was already delivered:
//!
//! - a catch-up skips the versions already delivered (same id and digest);
//! - the subscription is live before the catch-up reads, so a label changed in between shows
//!   up in both: the [`Overlap`] tells its echo from later versions by a point of the stream
//!   (a marker's answer), never by a clock. A label's versions are never delivered out of
//!   order, nor twice.
//!
//! A catch-up that fails is not forgotten: the resume point stays where it started (in memory
//! and in every checkpoint) until a catch-up from there succeeds, which the worker retries.

use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::overlap::{Overlap, Settled, Waiting};
use super::source::ApiSource;
use super::{Arrived, CaughtUp, Context, Feed, Live, Released, Wire};
use crate::client::Kili;
use crate::common::time;
use crate::error::{Error, Result};
use crate::models::{Label, LabelFromText};
use crate::subscription::events::{EventOrigin, LabelEvent};
use crate::subscription::feed::catch_up::{self, Flow, Source};
use crate::subscription::feed::checkpoint::{Checkpoint, Entry, Recent, digest};
use crate::subscription::feed::small_str::IdMap;
use crate::subscription::feed::small_str::SmallStr;

/// Labels per catch-up request: two and a half of the SDK's pages (Kili's `PageSize` takes up
/// to 500), so that each request's fixed cost is spread over more labels than a lazy read's.
const PAGE: u64 = 250;
/// The newest time a catch-up asks for, 3000-01-01T00:00:00.000Z: far beyond any clock skew,
/// and within every server's date range.
const END_OF_TIME: i64 = 32_503_680_000_000;
/// How far past the server's clock a label's `createdAt` is believed: a later one is taken
/// for this bound, so that one wrong timestamp cannot move the resume point past every label
/// to come.
const CLOCK_AHEAD: i64 = 86_400_000;
/// Where a catch-up first cuts its span, past the server's clock as last estimated (its
/// `Date` has whole seconds): the density of the labels before it sizes the catch-up's
/// windows, and what lies beyond costs a count.
const LIKELY_END_SLACK: i64 = 2_000;
/// The most live frames read into memory while a catch-up runs; beyond, they wait in the
/// socket.
const MAX_WAITING: usize = 100_000;

/// A result's payload: `{"data": {"data": LABEL}}`.
#[derive(Deserialize)]
pub(crate) struct Payload {
    data: Option<Data>,
}

#[derive(Deserialize)]
pub(crate) struct Data {
    data: Option<LabelFromText>,
}

impl Payload {
    fn into_label(self) -> Result<Label> {
        self.data
            .and_then(|d| d.data)
            .map(|l| l.0)
            .ok_or_else(|| Error::decode("a label event", "no label at data.data"))
    }
}

/// Settings of a label feed.
#[derive(Debug, Clone)]
pub(crate) struct LabelFeedSettings {
    /// How far behind the newest `createdAt` a catch-up starts; `None` turns catch-ups off.
    pub(crate) margin: Option<Duration>,
    /// The most versions a checkpoint lists (more when they share a millisecond).
    pub(crate) capacity: usize,
    /// The most labels one catch-up delivers (the newest).
    pub(crate) limit: Option<u64>,
    /// Where to start from.
    pub(crate) resume: Option<Checkpoint>,
}

/// Label subscriptions, over the labels of one project (`S`: the API, or a test's list).
#[derive(Debug)]
pub(crate) struct LabelFeed<S = ApiSource> {
    source: S,
    margin_ms: Option<i64>,
    capacity: usize,
    limit: Option<u64>,
    /// The newest usable `createdAt` delivered (ms).
    newest: Option<i64>,
    /// Server time when the subscription was first established (ms), for a catch-up before any
    /// label was delivered.
    baseline: Option<i64>,
    /// The server's clock minus ours (ms), from the handshake's `Date`.
    server_offset: i64,
    /// Never fetch below this (a checkpoint's start, or what the capacity cut).
    floor: Option<i64>,
    /// Where a catch-up that failed must start again, until one succeeds.
    unfinished: Option<i64>,
    /// The versions delivered recently, for checkpoints.
    recent: Recent,
    /// During a catch-up: the digest (and `createdAt`) delivered per label id, for the labels
    /// a catch-up may still read again.
    index: Option<IdMap<(u64, i64)>>,
    /// Where catch-ups meet the live stream.
    overlap: Overlap,
    /// Echoes dropped while a catch-up read pages, not yet counted.
    echoes: u64,
    /// Whether the first establishment must catch up (resuming from a checkpoint).
    resuming: bool,
}

impl LabelFeed {
    pub(crate) fn new(kili: Kili, project_id: String, settings: LabelFeedSettings) -> LabelFeed {
        LabelFeed::with_source(ApiSource { kili, project_id }, settings)
    }
}

impl<S> LabelFeed<S> {
    fn with_source(source: S, settings: LabelFeedSettings) -> LabelFeed<S> {
        let margin_ms = settings
            .margin
            .map(|m| i64::try_from(m.as_millis()).unwrap_or(i64::MAX));
        let mut feed = LabelFeed {
            source,
            margin_ms,
            capacity: settings.capacity.max(1),
            limit: settings.limit,
            newest: None,
            baseline: None,
            server_offset: 0,
            floor: None,
            unfinished: None,
            recent: Recent::default(),
            index: None,
            overlap: Overlap::default(),
            echoes: 0,
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

    /// Returns the time from which the next catch-up fetches labels: behind the newest label
    /// delivered by the margin, never below the floor, and never past a catch-up that failed.
    fn resume_point(&self) -> Option<i64> {
        let margin = self.margin_ms?;
        let base = match (self.newest, self.floor, self.baseline) {
            (Some(n), floor, _) => Some(n.saturating_sub(margin).max(floor.unwrap_or(i64::MIN))),
            (None, Some(floor), _) => Some(floor),
            (None, None, Some(b)) => Some(b.saturating_sub(margin)),
            (None, None, None) => None,
        };
        match (base, self.unfinished) {
            (Some(b), Some(u)) => Some(b.min(u.max(self.floor.unwrap_or(i64::MIN)))),
            (b, u) => b.or(u),
        }
    }

    fn snapshot(&self) -> Checkpoint {
        Checkpoint::new(self.resume_point(), self.recent.clone())
    }

    /// Returns the latest digest delivered per label id, from the versions remembered.
    fn build_index(&self) -> IdMap<(u64, i64)> {
        let mut index = IdMap::default();
        for e in self.recent.iter() {
            index.insert(e.id.clone(), (e.digest, e.created_at));
        }
        index
    }

    /// Returns the latest `createdAt` believed: the server's clock plus a day.
    fn latest_believable(&self) -> i64 {
        time::millis(SystemTime::now())
            .saturating_add(self.server_offset)
            .saturating_add(CLOCK_AHEAD)
    }

    /// Returns the `createdAt` a version counts as: its own, clamped to the server's clock plus
    /// a bound; `None` if it has none that parses.
    fn created_at_of(&self, label: &Label) -> Option<i64> {
        let at = label.created_at().and_then(time::parse_iso)?;
        let latest = self.latest_believable();
        if at > latest {
            log::warn!(
                "label {}: createdAt {} is far ahead of the server's clock; counted as {}",
                label.id(),
                time::format_ms(at),
                time::format_ms(latest)
            );
        }
        Some(at.min(latest))
    }

    /// Records a delivered version.
    fn record(&mut self, id: SmallStr, digest: u64, created_at: Option<i64>) {
        if let Some(at) = created_at {
            self.newest = self.newest.max(Some(at));
        }
        // A version without a usable `createdAt` is never a resume point: it is listed as of
        // the newest time delivered, and goes when the window moves past it.
        let listed_at = created_at
            .or(self.newest)
            .or(self.baseline)
            .unwrap_or(i64::MIN);
        if let Some(index) = &mut self.index {
            index.insert(id.clone(), (digest, listed_at));
        }
        self.recent.push(Entry {
            id,
            digest,
            created_at: listed_at,
        });
        let Some(from) = self.resume_point() else {
            return;
        };
        if let Some(cut) = self.recent.prune(from, self.capacity, listed_at) {
            // The capacity dropped versions still in the window: never fetch below them
            // again, or they would be delivered twice.
            self.floor = self.floor.max(Some(cut.saturating_add(1)));
        }
    }

    fn event(&self, label: Label, ctx: &Context, origin: EventOrigin) -> LabelEvent {
        LabelEvent::new(label, ctx.subscription_id.clone(), origin, self.snapshot())
    }

    /// Turns a live frame that may leave into its event.
    fn deliver_live(&mut self, w: Waiting, ctx: &Context) -> LabelEvent {
        let created_at = self.created_at_of(&w.label);
        self.record(SmallStr::new(w.label.id()), w.digest, created_at);
        self.event(w.label, ctx, EventOrigin::Live)
    }

    /// Hands on what settling released: every waiting frame once nothing is unsettled.
    fn released(&mut self, settled: Settled, ctx: &Context) -> Released<LabelEvent> {
        let ready: Vec<Waiting> = self.overlap.ready().collect();
        let events = ready
            .into_iter()
            .map(|w| self.deliver_live(w, ctx))
            .collect();
        Released {
            events,
            duplicates: settled.echoes + std::mem::take(&mut self.echoes),
        }
    }

    /// Takes a live result: an event now, or waiting for the overlap to settle.
    fn take_live(&mut self, ctx: &Context, label: Label) -> Live<LabelEvent> {
        let waiting = Waiting {
            digest: digest(&label),
            label,
            arrived: SystemTime::now(),
        };
        match self.overlap.frame(waiting) {
            Some(w) => Live::Event(self.deliver_live(w, ctx)),
            None => Live::Waiting,
        }
    }

    /// Reads what arrived on the socket while a catch-up page was read: results wait (the
    /// catch-up goes first), marker answers settle pages.
    fn poll(&mut self, ctx: &Context, wire: &mut dyn Wire<Payload>) {
        if self.overlap.waiting_len() >= MAX_WAITING {
            return;
        }
        for arrived in wire.poll() {
            match arrived {
                Arrived::Result(Ok(payload)) => match payload.into_label() {
                    Ok(label) => {
                        let _ = self.take_live(ctx, label);
                    }
                    Err(e) => log::warn!("skipping a live event: {e}"),
                },
                Arrived::Result(Err(e)) => log::warn!("skipping a live event: {e}"),
                Arrived::Marker(n) => self.echoes += self.overlap.marker(n).echoes,
            }
        }
    }

    /// Drops the index entries that no later window of this catch-up can read again: labels
    /// created before `oldest`, the start of the window being delivered.
    fn trim_index(&mut self, oldest: Option<i64>) {
        let Some(oldest) = oldest else { return };
        let bound = self
            .capacity
            .saturating_mul(2)
            .saturating_add(4 * PAGE as usize);
        if let Some(index) = &mut self.index
            && index.len() > bound
        {
            index.retain(|_, (_, at)| *at >= oldest);
        }
    }

    /// Delivers one sorted window of a catch-up: a marker first (every write the callback
    /// makes comes after it), then each version not delivered yet.
    fn catch_up_window(
        &mut self,
        rows: Vec<Label>,
        ctx: &Context,
        wire: &mut dyn Wire<Payload>,
        deliver: &mut dyn FnMut(LabelEvent) -> Flow,
        delivered: &mut usize,
    ) -> Flow {
        let marker = wire.mark();
        let oldest = rows.first().and_then(|l| self.created_at_of(l));
        self.trim_index(oldest);
        let mut versions = Vec::new();
        let mut flow = Flow::Continue;
        for label in rows {
            let id = SmallStr::new(label.id());
            let d = digest(&label);
            let seen = self.index.as_ref().and_then(|i| i.get(&id)).map(|v| v.0);
            if seen == Some(d) {
                log::trace!("caught-up label {id}: delivered before the gap");
                continue;
            }
            let created_at = self.created_at_of(&label);
            self.record(id.clone(), d, created_at);
            versions.push((id, d));
            *delivered += 1;
            if deliver(self.event(label, ctx, EventOrigin::CatchUp)) == Flow::Stop {
                flow = Flow::Stop;
                break;
            }
        }
        self.overlap.page(marker, versions);
        self.poll(ctx, wire);
        flow
    }
}

impl<S> Feed for LabelFeed<S>
where
    S: Source + Clone + Send + std::fmt::Debug + 'static,
{
    type Event = LabelEvent;
    type Payload = Payload;
    const WHAT: &'static str = "a label event";

    fn live(&mut self, ctx: &Context, payload: Payload) -> Result<Live<LabelEvent>> {
        let label = payload.into_label()?;
        Ok(self.take_live(ctx, label))
    }

    fn marker(&mut self, ctx: &Context, n: u64) -> Released<LabelEvent> {
        let settled = self.overlap.marker(n);
        self.released(settled, ctx)
    }

    fn release_ready(&mut self, ctx: &Context) -> Released<LabelEvent> {
        self.released(Settled::default(), ctx)
    }

    fn waits_for_drain(&self) -> bool {
        self.overlap.waits_for_drain()
    }

    fn drained(&mut self, ctx: &Context) -> Released<LabelEvent> {
        let settled = self.overlap.drained();
        self.released(settled, ctx)
    }

    fn awaits_markers(&self) -> bool {
        self.overlap.is_open()
    }

    fn settle_all(&mut self, ctx: &Context) -> Released<LabelEvent> {
        let settled = self.overlap.settle_all();
        self.released(settled, ctx)
    }

    fn connection_lost(&mut self, ctx: &Context) -> (Vec<LabelEvent>, Option<SystemTime>) {
        let (kept, dropped) = self.overlap.abandon();
        let events = kept
            .into_iter()
            .map(|w| self.deliver_live(w, ctx))
            .collect();
        (events, dropped)
    }

    fn established(&mut self, ctx: &Context) {
        if let Some(server) = ctx.server_date {
            // Its `Date` has seconds only: a second's doubt, on the safe side.
            self.server_offset = time::millis(server) - time::millis(SystemTime::now()) - 1_000;
        } else {
            log::debug!("the server sent no Date: the catch-up baseline is the local clock");
        }
        if self.baseline.is_none() {
            self.baseline = Some(time::millis(SystemTime::now()) + self.server_offset);
        }
    }

    fn wants_catch_up(&self, reconnect: bool) -> bool {
        self.margin_ms.is_some() && (reconnect || self.resuming || self.unfinished.is_some())
    }

    fn catch_up(
        &mut self,
        ctx: &Context,
        gap_started: Option<SystemTime>,
        wire: &mut dyn Wire<Payload>,
        deliver: &mut dyn FnMut(LabelEvent) -> Flow,
    ) -> Result<CaughtUp> {
        self.resuming = false;
        let Some(from) = self.resume_point() else {
            return Ok(CaughtUp::default());
        };
        log::debug!(
            "catching up on the labels created since {}",
            time::format_ms(from)
        );
        let mut source = self.source.clone();
        let limit = self.limit;
        let likely_end = time::millis(SystemTime::now())
            .saturating_add(self.server_offset.max(0))
            .saturating_add(LIKELY_END_SLACK);
        let mut delivered = 0;
        self.index = Some(self.build_index());
        self.overlap.begin();
        let mut receive =
            |rows: Vec<Label>| self.catch_up_window(rows, ctx, wire, deliver, &mut delivered);
        // No label predates the epoch; a huge margin would otherwise ask for year -292 million.
        let span = (from.max(0), END_OF_TIME);
        let report = catch_up::run(&mut source, span, likely_end, PAGE, limit, &mut receive);
        self.index = None;
        self.overlap.end();
        let report = match report {
            Ok(report) => report,
            Err(stopped) => {
                // Everything before `resume_at` was delivered; the rest is fetched again.
                let at = stopped.resume_at.max(from);
                self.unfinished = Some(self.unfinished.map_or(at, |u| u.min(at)));
                return Err(stopped.error);
            }
        };
        if !report.stopped {
            self.unfinished = None;
        }
        Ok(CaughtUp {
            delivered,
            gap: report.gap,
            unchecked_updates: Some((
                gap_started.unwrap_or_else(|| time::to_system_time(from)),
                SystemTime::now(),
            )),
        })
    }

    fn restarted(&mut self) {
        self.newest = None;
        self.baseline = None;
        self.floor = None;
        self.unfinished = None;
        self.recent = Recent::default();
        self.index = None;
        self.overlap = Overlap::default();
        self.resuming = false;
    }

    fn checkpoint(&self) -> Option<Checkpoint> {
        Some(self.snapshot())
    }

    fn checkpoint_of(event: &LabelEvent) -> Option<Checkpoint> {
        Some(event.checkpoint().clone())
    }
}

#[cfg(test)]
mod tests;
