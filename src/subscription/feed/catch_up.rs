//! Fetching the labels created in a span of time, completely, oldest first and in bounded
//! memory, without relying on any order of the server's results (Kili's API promises none).
//!
//! The span is cut into windows of `createdAt` whose width follows the density met so far, so
//! that most windows take a single `labels` call of a page and one label more (see [`sweep`]);
//! a denser window is counted and read with `skip` or narrowed. A window of a single
//! millisecond that still holds more than a page is paged with `skip`, in passes until one
//! sees it unchanged (labels written into that millisecond meanwhile shift the pages). Each
//! window is sorted by (`createdAt`, `id`) and handed over before the next is fetched, so at
//! most [`SKIP_LABELS`] labels (or a page, if more) are held.
//!
//! With a limit, the newest labels up to the limit are fetched: the oldest time to keep is
//! found by bisection on counts, and the labels before it are reported as a gap.

use crate::error::{Error, Result};
use crate::models::Label;

/// Where labels come from: the API, or a test's list.
pub(crate) trait Source {
    /// Returns how many labels were created in `[from, to]` (milliseconds, inclusive).
    fn count(&mut self, from: i64, to: i64) -> Result<u64>;
    /// Returns up to `first` labels created in `[from, to]`, after skipping `skip`, in any order.
    fn page(&mut self, from: i64, to: i64, first: u64, skip: u64) -> Result<Vec<Label>>;
}

/// Whether to go on after a window was handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Stop,
}

/// Labels that a limit left out: created in `[from, until]`, `skipped` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gap {
    pub(crate) from: i64,
    pub(crate) until: i64,
    pub(crate) skipped: u64,
}

/// What a catch-up did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Report {
    /// Labels handed over.
    pub(crate) fetched: u64,
    /// What a limit left out.
    pub(crate) gap: Option<Gap>,
    /// Whether the receiver stopped it.
    pub(crate) stopped: bool,
}

/// A catch-up that a request error stopped: everything created before `resume_at` was handed
/// over, so the next attempt may start there.
#[derive(Debug)]
pub(crate) struct Interrupted {
    pub(crate) error: Error,
    pub(crate) resume_at: i64,
}

/// Returns what makes a request error an [`Interrupted`] catch-up resumable at `resume_at`.
fn interrupted(resume_at: i64) -> impl FnOnce(Error) -> Interrupted {
    move |error| Interrupted { error, resume_at }
}

/// How many passes over a single-millisecond window at most, until one is clean.
const PASSES: usize = 10;

/// Fetches the labels created in `[from, to]` (at most `limit`, the newest) and hands them to
/// `deliver` window by window, oldest first. `page` is the most a request asks for;
/// `likely_end` is where the labels probably stop (the server's now, as estimated): the span
/// is first cut there, so that a far `to` costs one count and does not thin the density that
/// sizes the windows.
///
/// # Errors
///
/// The first request error, with the time from which nothing was handed over; what was
/// handed over before it stays handed over.
pub(crate) fn run(
    source: &mut dyn Source,
    (from, to): (i64, i64),
    likely_end: i64,
    page: u64,
    limit: Option<u64>,
    deliver: &mut dyn FnMut(Vec<Label>) -> Flow,
) -> std::result::Result<Report, Interrupted> {
    let page = page.max(1);
    let mut report = Report::default();
    if from > to {
        return Ok(report);
    }
    let mut start = from;
    if let Some(limit) = limit {
        let total = source.count(from, to).map_err(interrupted(from))?;
        if total > limit {
            start = oldest_to_keep(source, from, to, limit).map_err(interrupted(from))?;
            let kept = source.count(start, to).map_err(interrupted(from))?;
            report.gap = Some(Gap {
                from,
                until: start - 1,
                skipped: total.saturating_sub(kept),
            });
        }
    }
    // The span up to now first, then what lies beyond (a clock ahead of ours): one count.
    let spans = if (start..to).contains(&likely_end) {
        [(start, likely_end), (likely_end + 1, to)]
    } else {
        [(start, to), (1, 0)]
    };
    for span in spans {
        if sweep(source, span, page, &mut report, deliver)? == Flow::Stop {
            report.stopped = true;
            break;
        }
    }
    Ok(report)
}

/// Labels a counted window holds at most to be read with `skip` (held in memory, to be sorted
/// before they are handed over).
const SKIP_LABELS: u64 = 1_000;

/// Fetches `[from, to]` window by window, oldest first, needing no order from the server.
///
/// A window is first asked for a page and one label more: an answer of at most a page is the
/// whole window (one more than a page, so that a window of exactly a page, as a batch of the
/// SDK's size writes it, is told complete too). One count gives the span's density to start
/// with; each next window's width follows the density of the last one, aiming at nine tenths
/// of a page, and grows fourfold past empty ones. A fuller answer means a denser window: it is
/// counted, and read with `skip` if it holds at most [`SKIP_LABELS`]; a denser one is
/// halved by counts, its empty halves passed over at the cost of one count (so that the quiet
/// stretch before a burst, such as the margin before a gap, costs a few counts). Most windows
/// take one request (a lazy read takes one per page).
fn sweep(
    source: &mut dyn Source,
    (from, to): (i64, i64),
    page: u64,
    report: &mut Report,
    deliver: &mut dyn FnMut(Vec<Label>) -> Flow,
) -> std::result::Result<Flow, Interrupted> {
    if from > to {
        return Ok(Flow::Continue);
    }
    let total = source.count(from, to).map_err(interrupted(from))?;
    log::trace!("catch-up: {total} labels created in [{from}, {to}]");
    if total == 0 {
        return Ok(Flow::Continue);
    }
    let mut width = fitted(width_of(from, to), total, page);
    let fetched_before = report.fetched;
    let mut known = None;
    let mut t = from;
    loop {
        // Everything before `t` was handed over whole.
        let step = match known.take() {
            Some(k) => dense(source, t, k, page, report, deliver),
            None => {
                let end = t.saturating_add(width.saturating_sub(1)).min(to);
                probe(source, (t, end), (page, width), report, deliver)
            }
        };
        let (end, flow) = match step.map_err(interrupted(t))? {
            Step::Read {
                end,
                flow,
                width: w,
            } => {
                width = w;
                (end, flow)
            }
            Step::Pass(at, k) => {
                t = at + 1;
                known = Some(k);
                continue;
            }
            Step::Narrow(k) => {
                known = Some(k);
                continue;
            }
            Step::Probe(w) => {
                width = w;
                continue;
            }
        };
        if flow == Flow::Stop {
            return Ok(Flow::Stop);
        }
        if end >= to {
            return Ok(Flow::Continue);
        }
        if total.saturating_sub(report.fetched - fetched_before) <= page {
            // What the count left fits in a page: the rest of the span in one request.
            width = i64::MAX;
        }
        t = end + 1;
    }
}

/// A window `[t, end]` (from the sweep's `t`) counted to hold more than a page, with the rows
/// a first request brought, if any (for a `skip` pass to go on from).
struct Known {
    end: i64,
    count: u64,
    rows: Vec<Label>,
}

/// What the sweep does next.
enum Step {
    /// `[t, end]` was handed over; the next window is `width` wide.
    Read { end: i64, flow: Flow, width: i64 },
    /// `[t, at]` is empty: the sweep goes on from `at + 1`, in a window still known.
    Pass(i64, Known),
    /// A narrower window is known, from the same `t`.
    Narrow(Known),
    /// The next window is to be probed, `width` wide, from the same `t`.
    Probe(i64),
}

/// Asks for a page and one label more of `[t, end]`: hands over an answer of at most a page
/// (and sizes the next window after it: `width` was this one's), or counts a fuller window.
fn probe(
    source: &mut dyn Source,
    (t, end): (i64, i64),
    (page, width): (u64, i64),
    report: &mut Report,
    deliver: &mut dyn FnMut(Vec<Label>) -> Flow,
) -> Result<Step> {
    let mut rows = source.page(t, end, page + 1, 0)?;
    let n = rows.len() as u64;
    if n > page {
        let count = source.count(t, end)?;
        return Ok(Step::Narrow(Known { end, count, rows }));
    }
    report.fetched += n;
    let width = if n == 0 {
        width.saturating_mul(4)
    } else {
        fitted(width_of(t, end), n, page).min(width.saturating_mul(4))
    };
    let flow = if rows.is_empty() {
        Flow::Continue
    } else {
        sort(&mut rows);
        deliver(rows)
    };
    Ok(Step::Read { end, flow, width })
}

/// Reads a window known to hold more than a page: one millisecond is paged with `skip` as it
/// comes; a wider window of at most [`SKIP_LABELS`] is read whole with `skip` if the pass
/// is clean; otherwise its first half is counted: passed over if empty, probed if it fits in a
/// page, known otherwise.
fn dense(
    source: &mut dyn Source,
    t: i64,
    known: Known,
    page: u64,
    report: &mut Report,
    deliver: &mut dyn FnMut(Vec<Label>) -> Flow,
) -> Result<Step> {
    let Known { end, count, rows } = known;
    if t >= end {
        drop(rows);
        let flow = one_millisecond(source, t, count, page, report, deliver)?;
        return Ok(Step::Read {
            end,
            flow,
            width: 1,
        });
    }
    if count <= SKIP_LABELS.max(page)
        && let Some((n, flow)) = skip_paged(source, (t, end), count, (page, rows), deliver)?
    {
        report.fetched += n;
        let width = fitted(width_of(t, end), count.max(1), page);
        return Ok(Step::Read { end, flow, width });
    }
    let mid = midpoint(t, end);
    let half = source.count(t, mid)?;
    let rows = Vec::new();
    Ok(if half == 0 {
        Step::Pass(mid, Known { end, count, rows })
    } else if half <= page {
        Step::Probe(width_of(t, mid))
    } else {
        let end = mid;
        Step::Narrow(Known {
            end,
            count: half,
            rows,
        })
    })
}

/// Reads a window of at most [`SKIP_LABELS`] whole with `skip`, in one pass going on from
/// the `rows` a first request brought (`skip` counting them), and hands it
/// over sorted if the pass was clean: the count did not change and the pass saw as many
/// distinct labels as it holds (a server that orders its answers differently from one request
/// to the next, or a label deleted or published late meanwhile, makes pages overlap or leave
/// labels out, and the pass sees fewer). Returns `None`, handing nothing over, otherwise: the
/// window is then read in narrower windows without `skip`.
fn skip_paged(
    source: &mut dyn Source,
    (a, b): (i64, i64),
    count: u64,
    (page, mut rows): (u64, Vec<Label>),
    deliver: &mut dyn FnMut(Vec<Label>) -> Flow,
) -> Result<Option<(u64, Flow)>> {
    loop {
        let got = source.page(a, b, page, rows.len() as u64)?;
        let n = got.len() as u64;
        rows.extend(got);
        if n < page || rows.len() as u64 > count {
            break;
        }
    }
    // Sorted by (createdAt, id), a label seen twice is two neighbours.
    sort(&mut rows);
    rows.dedup_by(|x, y| x.id() == y.id());
    let after = source.count(a, b)?;
    if after != count || rows.len() as u64 != count {
        log::debug!(
            "catch-up: [{a}, {b}] held {count} then {after} labels, a pass saw {}; narrower",
            rows.len()
        );
        return Ok(None);
    }
    Ok(Some((count, deliver(rows))))
}

/// Returns the number of milliseconds in `[a, b]` (`a <= b`), saturating.
fn width_of(a: i64, b: i64) -> i64 {
    b.saturating_sub(a).saturating_add(1)
}

/// Returns the width in which `n` labels seen over `width` milliseconds would fill nine tenths
/// of a page (at least 1 ms).
fn fitted(width: i64, n: u64, page: u64) -> i64 {
    let per_ms = n as f64 / width.max(1) as f64;
    let w = (0.9 * page as f64 / per_ms).floor();
    if w >= i64::MAX as f64 {
        i64::MAX
    } else {
        (w as i64).max(1)
    }
}

/// Reads a window of one millisecond holding more than a page: paged with `skip`, each page handed
/// over as it comes, in passes until a clean one (the count did not change during the pass and
/// the pass saw as many distinct labels as it holds), at most [`PASSES`]: labels written or
/// deleted in that millisecond meanwhile shift the pages, and the receiver drops what it
/// already has. Holds the ids of the window (not the labels) for the length of a pass.
fn one_millisecond(
    source: &mut dyn Source,
    at: i64,
    mut count: u64,
    page: u64,
    report: &mut Report,
    deliver: &mut dyn FnMut(Vec<Label>) -> Flow,
) -> Result<Flow> {
    for pass in 1..=PASSES {
        let mut ids = std::collections::HashSet::new();
        let mut skip = 0;
        loop {
            let mut rows = source.page(at, at, page, skip)?;
            let n = rows.len() as u64;
            skip += n;
            report.fetched += n;
            ids.extend(rows.iter().map(|l| l.id().to_owned()));
            sort(&mut rows);
            if deliver(rows) == Flow::Stop {
                return Ok(Flow::Stop);
            }
            if n < page {
                break;
            }
        }
        let after = source.count(at, at)?;
        if after == count && ids.len() as u64 == after {
            return Ok(Flow::Continue);
        }
        log::debug!(
            "catch-up pass {pass}: {} labels at {at} ms, {count} then {after} counted; again",
            ids.len()
        );
        count = after;
    }
    log::warn!("catch-up: the labels created at {at} ms kept changing; some may be missed");
    Ok(Flow::Continue)
}

/// Returns the oldest time `t` in `[from, to + 1]` such that at most `limit` labels were created in
/// `[t, to]` (counts only grow towards the past).
fn oldest_to_keep(source: &mut dyn Source, from: i64, to: i64, limit: u64) -> Result<i64> {
    let (mut lo, mut hi) = (from, to + 1);
    while lo < hi {
        let mid = midpoint(lo, hi);
        if source.count(mid, to)? <= limit {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(lo)
}

/// Returns `⌊(a + b) / 2⌋` without overflow (`b - a` overflows for a span from far in the past),
/// so in `[a, b)` when `a < b`.
fn midpoint(a: i64, b: i64) -> i64 {
    (a & b) + ((a ^ b) >> 1)
}

/// Sorts oldest first; labels whose `createdAt` is missing or unparsable last, by id.
fn sort(rows: &mut Vec<Label>) {
    // Each time parsed once; ids compared in place (no copy of each).
    let mut order: Vec<(i64, usize)> = rows
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let t = l.created_at().and_then(crate::common::time::parse_iso);
            (t.unwrap_or(i64::MAX), i)
        })
        .collect();
    order.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| rows[a.1].id().cmp(rows[b.1].id()))
    });
    if order.iter().enumerate().all(|(at, &(_, i))| at == i) {
        return;
    }
    let mut slots: Vec<Option<Label>> = std::mem::take(rows).into_iter().map(Some).collect();
    // Every index appears once in `order`, so each slot is taken once.
    rows.extend(order.into_iter().filter_map(|(_, i)| slots[i].take()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Labels in memory, answered in a scrambled order, counting requests.
    struct Store {
        labels: Vec<(i64, String)>,
        requests: usize,
        /// Whether each request sees another order (so that `skip` pages overlap).
        reorder: bool,
    }

    impl Store {
        fn new(times: &[i64]) -> Store {
            let mut labels: Vec<(i64, String)> = times
                .iter()
                .enumerate()
                .map(|(i, t)| (*t, format!("l{i:04}")))
                .collect();
            // Any order but creation order: reversed, then pairs swapped.
            labels.reverse();
            for pair in labels.chunks_mut(2) {
                pair.reverse();
            }
            Store {
                labels,
                requests: 0,
                reorder: false,
            }
        }

        fn within(&self, from: i64, to: i64) -> impl Iterator<Item = &(i64, String)> {
            self.labels
                .iter()
                .filter(move |(t, _)| (from..=to).contains(t))
        }
    }

    impl Source for Store {
        fn count(&mut self, from: i64, to: i64) -> Result<u64> {
            self.requests += 1;
            Ok(self.within(from, to).count() as u64)
        }
        fn page(&mut self, from: i64, to: i64, first: u64, skip: u64) -> Result<Vec<Label>> {
            self.requests += 1;
            if self.reorder {
                let by = self.requests % self.labels.len().max(1);
                self.labels.rotate_left(by);
            }
            Ok(self
                .within(from, to)
                .skip(skip as usize)
                .take(first as usize)
                .map(|(t, id)| {
                    Label::from_json(
                        &json!({"id": id, "createdAt": crate::common::time::format_ms(*t)}),
                    )
                    .unwrap()
                })
                .collect())
        }
    }

    fn fetch(
        store: &mut Store,
        from: i64,
        to: i64,
        page: u64,
        limit: Option<u64>,
    ) -> (Vec<String>, Report, usize) {
        let mut got = Vec::new();
        let mut largest = 0;
        let report = run(store, (from, to), to, page, limit, &mut |rows| {
            largest = largest.max(rows.len());
            got.extend(rows.into_iter().map(|l| l.id().to_owned()));
            Flow::Continue
        })
        .unwrap();
        (got, report, largest)
    }

    fn ids(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("l{i:04}")).collect()
    }

    #[test]
    fn everything_oldest_first_whatever_the_server_order() {
        let times: Vec<i64> = (0..1000).map(|i| 1_000 + i * 7).collect();
        let mut store = Store::new(&times);
        let (got, report, largest) = fetch(&mut store, 0, 100_000, 100, None);
        assert_eq!(got, ids(0..1000));
        assert_eq!(report.fetched, 1000);
        assert!(largest <= 1001, "a thousand at most at a time: {largest}");
    }

    #[test]
    fn the_widest_spans_do_not_overflow() {
        for (a, b) in [
            (i64::MIN, i64::MAX),
            (-7, -6),
            (-7, 8),
            (5, 6),
            (i64::MAX - 1, i64::MAX),
        ] {
            let mid = midpoint(a, b);
            assert!(a <= mid && mid < b, "{a} {b} {mid}");
        }
        let times: Vec<i64> = (0..300).map(|i| 1_000 + i * 7).collect();
        let mut store = Store::new(&times);
        let (got, _, _) = fetch(&mut store, i64::MIN, i64::MAX - 1, 100, None);
        assert_eq!(got, ids(0..300));
        let (got, report, _) = fetch(&mut store, i64::MIN, i64::MAX - 1, 100, Some(10));
        assert_eq!(got, ids(290..300));
        assert_eq!(report.gap.map(|g| g.skipped), Some(290));
    }

    #[test]
    fn equal_timestamps_across_page_boundaries() {
        // 250 labels at one millisecond, 30 around it.
        let mut times = vec![4_000; 250];
        times.extend((0..30).map(|i| 3_990 + i));
        let mut store = Store::new(&times);
        let (mut got, report, _) = fetch(&mut store, 0, 10_000, 100, None);
        assert_eq!(report.fetched, 280);
        let n = got.len();
        got.sort();
        got.dedup();
        assert_eq!((n, got.len()), (280, 280), "none lost, none twice");
    }

    #[test]
    fn a_limit_keeps_the_newest_and_names_the_gap() {
        let times: Vec<i64> = (0..500).map(|i| 10_000 + i * 10).collect();
        let mut store = Store::new(&times);
        let (got, report, _) = fetch(&mut store, 0, 1_000_000, 100, Some(120));
        assert_eq!(got, ids(380..500));
        let gap = report.gap.unwrap();
        assert_eq!((gap.from, gap.skipped), (0, 380));
        // Between the newest label left out and the oldest kept.
        assert!(
            (10_000 + 379 * 10..10_000 + 380 * 10).contains(&gap.until),
            "{gap:?}"
        );
    }

    #[test]
    fn the_receiver_can_stop_it() {
        let times: Vec<i64> = (0..500).collect();
        let mut store = Store::new(&times);
        let mut windows = 0;
        let report = run(&mut store, (0, 1_000), 1_000, 50, None, &mut |_| {
            windows += 1;
            if windows == 2 {
                Flow::Stop
            } else {
                Flow::Continue
            }
        })
        .unwrap();
        assert!(report.stopped);
        assert_eq!(windows, 2);
    }

    #[test]
    fn a_far_end_costs_one_count_beyond_the_likely_one() {
        let times: Vec<i64> = (0..300).collect();
        let mut store = Store::new(&times);
        let mut got = 0;
        run(&mut store, (0, i64::MAX / 4), 299, 100, None, &mut |rows| {
            got += rows.len();
            Flow::Continue
        })
        .unwrap();
        assert_eq!(got, 300);
        assert!(store.requests < 20, "{} requests", store.requests);
    }

    #[test]
    fn most_windows_take_one_request() {
        // 10,000 labels: evenly spread; in bursts with quiet hours between them; in batches of
        // 100 as the SDK appends them, each in one millisecond, every 1 or 2 ms; and the same
        // after 30 s of nothing (the margin before a gap), in a span ending 2 s after them.
        let even: Vec<i64> = (0..10_000).map(|i| 1_000 + i * 3).collect();
        let bursts: Vec<i64> = (0..10_000)
            .map(|i| 1_000 + (i / 500) * 3_600_000 + (i % 500) * 2)
            .collect();
        let batches: Vec<i64> = (0..10_000).map(|i| 1_000 + (i / 100) * 3 / 2).collect();
        let margin: Vec<i64> = batches.iter().map(|t| t + 30_000).collect();
        // A lazy read of 10,000 labels takes 100 requests.
        for (name, times, end, most) in [
            ("even", even, 100_000_000, 150),
            ("bursts", bursts, 100_000_000, 200),
            ("batches", batches, 100_000_000, 250),
            ("margin", margin, 33_200, 250),
        ] {
            let mut store = Store::new(&times);
            let (got, _, largest) = fetch(&mut store, 0, end, 100, None);
            assert_eq!(got.len(), 10_000, "{name}");
            assert!(largest <= 1001, "{name}: {largest}");
            eprintln!("{name}: {} requests", store.requests);
            assert!(
                store.requests <= most,
                "{name}: {} requests",
                store.requests
            );
        }
    }

    #[test]
    fn a_server_whose_order_changes_between_requests_loses_nothing() {
        // Bursts of 500 labels 2 ms apart, dense enough to be read with `skip`, from a server
        // whose every answer comes in another order: the `skip` passes are never clean, and the
        // windows are narrowed until a page holds them.
        let bursts: Vec<i64> = (0..3_000)
            .map(|i| 1_000 + (i / 500) * 3_600_000 + (i % 500) * 2)
            .collect();
        let mut store = Store::new(&bursts);
        store.reorder = true;
        let (got, report, _) = fetch(&mut store, 0, 100_000_000, 100, None);
        assert_eq!(got, ids(0..3_000));
        assert_eq!(report.fetched, 3_000);
    }

    #[test]
    fn empty_spans_cost_one_count() {
        let mut store = Store::new(&[5, 6]);
        let (got, _, _) = fetch(&mut store, 100, 1_000_000_000, 100, None);
        assert!(got.is_empty());
        assert_eq!(store.requests, 1);
        let (got, _, _) = fetch(&mut store, 10, 9, 100, None);
        assert!(got.is_empty(), "an inverted span is empty");
    }
}
