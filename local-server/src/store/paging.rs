//! Keyset paging over `first`/`skip`: reading a listing page by page costs each page in
//! proportion to the page, not to the pages before it.
//!
//! Clients page with `skip` (Kili's API has no cursor), so a naive server scans and drops
//! `skip` matches for every page: reading N labels by pages of 100 costs O(N²). Here, when a
//! page ends, the position of its last match is remembered under the request's key (user,
//! listing, order, filter) and the `skip` the next page will send. A request with that key and
//! that `skip` resumes from the position instead of scanning from the start.
//!
//! A remembered position is used only while it gives the same answer as a scan from the start.
//! Every write counts in [`Epochs`], per project and in all: a position stays valid while
//! nothing but appends happened since, and only appends that cannot move earlier matches: new
//! labels and assets come after every existing one in creation order, but anywhere in shuffled
//! order; and a new label changes its asset (status, `updatedAt`, labels), so it may change
//! which earlier labels or assets match a filter on those. Otherwise the request is served by
//! a scan from the start (of the project's own index), as correct as ever.

use std::collections::HashMap;

/// Counts of the writes to a project (or to the whole store), by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Epochs {
    /// Writes that may change which existing records match, or their order.
    pub(crate) others: u64,
    /// Labels created.
    pub(crate) label_appends: u64,
    /// Assets created.
    pub(crate) asset_appends: u64,
}

/// A position in an ordered index: `(sort key, seq)`; in creation order both are the `seq`.
pub(crate) type Position = (u64, u64);

/// Where a page ended.
#[derive(Clone, Copy, Debug)]
struct Cursor {
    after: Position,
    epochs: Epochs,
}

/// Remembered page ends, by (request key, the `skip` of the next page).
#[derive(Debug, Default)]
pub(crate) struct CursorCache {
    map: HashMap<(String, usize), Cursor>,
    /// The bytes of the keys held.
    bytes: usize,
    hits: u64,
    misses: u64,
}

/// At most this many remembered positions; beyond, all are forgotten (a scan still answers).
const MAX_CURSORS: usize = 4096;
/// At most this many bytes of keys (user, listing, order, filter) remembered in all.
const MAX_CURSOR_BYTES: usize = 4 * 1024 * 1024;
/// A key longer than this (a huge filter) is not remembered: its pages are scanned.
const MAX_KEY_BYTES: usize = 16 * 1024;

impl CursorCache {
    fn take(&mut self, key: &str, skip: usize) -> Option<Cursor> {
        let found = self.map.remove(&(key.to_owned(), skip));
        if found.is_some() {
            self.bytes -= key.len();
            self.hits += 1;
        } else {
            self.misses += 1;
        }
        found
    }

    fn put(&mut self, key: String, skip: usize, cursor: Cursor) {
        if key.len() > MAX_KEY_BYTES {
            return;
        }
        if self.map.len() >= MAX_CURSORS || self.bytes + key.len() > MAX_CURSOR_BYTES {
            self.map.clear();
            self.bytes = 0;
        }
        let len = key.len();
        if self.map.insert((key, skip), cursor).is_none() {
            self.bytes += len;
        }
    }

    /// Returns (pages resumed from a position, pages scanned from the start).
    #[cfg(test)]
    pub(crate) fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }
}

/// How one listing request pages.
pub(crate) struct PageRequest {
    /// User, listing, order and filter: requests with the same key list the same sequence.
    pub(crate) key: String,
    pub(crate) skip: usize,
    pub(crate) first: usize,
    /// The write counts of the listing's scope now.
    pub(crate) epochs: Epochs,
    /// Whether label appends since a remembered position leave earlier matches in place.
    pub(crate) label_appends_keep_order: bool,
    /// Whether asset appends since a remembered position leave earlier matches in place.
    pub(crate) asset_appends_keep_order: bool,
}

impl PageRequest {
    fn still_valid(&self, then: &Epochs) -> bool {
        let now = &self.epochs;
        then.others == now.others
            && (self.label_appends_keep_order || then.label_appends == now.label_appends)
            && (self.asset_appends_keep_order || then.asset_appends == now.asset_appends)
    }
}

/// Returns the `first` matches after `skip` of them, from `source(after)`: the index in order, from
/// just after `after` (from the start for `None`). Resumes from a remembered position when one is
/// valid, and remembers where this page ends.
///
/// # Errors
///
/// The first error of `matches`.
pub(crate) fn page<T, E, I>(
    cache: &parking_lot::Mutex<CursorCache>,
    req: PageRequest,
    source: impl FnOnce(Option<Position>) -> I,
    mut matches: impl FnMut(&T) -> Result<bool, E>,
) -> Result<Vec<T>, E>
where
    I: Iterator<Item = (Position, T)>,
{
    if req.first == 0 {
        return Ok(Vec::new());
    }
    let resumed = cache
        .lock()
        .take(&req.key, req.skip)
        .filter(|c| req.still_valid(&c.epochs));
    let (mut to_skip, after) = match resumed {
        Some(c) => (0, Some(c.after)),
        None => (req.skip, None),
    };
    let mut out = Vec::with_capacity(req.first.min(1024));
    let mut last = None;
    for (pos, item) in source(after) {
        if !matches(&item)? {
            continue;
        }
        if to_skip > 0 {
            to_skip -= 1;
            continue;
        }
        out.push(item);
        last = Some(pos);
        if out.len() == req.first {
            break;
        }
    }
    if let (Some(after), true) = (last, out.len() == req.first) {
        let next = req.skip + out.len();
        let cursor = Cursor {
            after,
            epochs: req.epochs,
        };
        cache.lock().put(req.key, next, cursor);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;

    fn req(skip: usize, first: usize, epochs: Epochs) -> PageRequest {
        PageRequest {
            key: "k".into(),
            skip,
            first,
            epochs,
            label_appends_keep_order: true,
            asset_appends_keep_order: true,
        }
    }

    /// Yields 0..n as (position, value), from just after `after`, counting how many were visited.
    fn source(
        n: u64,
        visited: &std::cell::Cell<u64>,
        after: Option<Position>,
    ) -> impl Iterator<Item = (Position, u64)> + '_ {
        let start = after.map_or(0, |(_, s)| s + 1);
        (start..n).map(move |i| {
            visited.set(visited.get() + 1);
            ((i, i), i)
        })
    }

    fn even(v: &u64) -> Result<bool, ()> {
        Ok(v.is_multiple_of(2))
    }

    #[test]
    fn sequential_pages_resume_where_the_last_ended() {
        let cache = Mutex::new(CursorCache::default());
        let e = Epochs::default();
        let visited = std::cell::Cell::new(0);
        let p1 = page(
            &cache,
            req(0, 3, e),
            |after| source(100, &visited, after),
            even,
        )
        .unwrap();
        assert_eq!(p1, [0, 2, 4]);
        let before = visited.get();
        let p2 = page(
            &cache,
            req(3, 3, e),
            |after| source(100, &visited, after),
            even,
        )
        .unwrap();
        assert_eq!(p2, [6, 8, 10]);
        assert_eq!(
            visited.get() - before,
            6,
            "only this page's range is visited"
        );
        assert_eq!(cache.lock().stats(), (1, 1));
    }

    #[test]
    fn a_page_out_of_sequence_or_after_a_write_scans_from_the_start() {
        let cache = Mutex::new(CursorCache::default());
        let e = Epochs::default();
        let visited = std::cell::Cell::new(0);
        page(
            &cache,
            req(0, 3, e),
            |after| source(100, &visited, after),
            even,
        )
        .unwrap();
        let p = page(
            &cache,
            req(4, 2, e),
            |after| source(100, &visited, after),
            even,
        )
        .unwrap();
        assert_eq!(p, [8, 10], "skip 4 without a position: a scan");
        let later = Epochs { others: 1, ..e };
        let p = page(
            &cache,
            req(6, 2, later),
            |after| source(100, &visited, after),
            even,
        )
        .unwrap();
        assert_eq!(p, [12, 14]);
        assert_eq!(
            cache.lock().stats(),
            (1, 2),
            "the stale position was not used"
        );
        let mut strict = req(
            8,
            2,
            Epochs {
                label_appends: 1,
                ..later
            },
        );
        strict.label_appends_keep_order = false;
        assert_eq!(
            page(&cache, strict, |after| source(100, &visited, after), even).unwrap(),
            [16, 18]
        );
        assert_eq!(cache.lock().stats(), (2, 2));
    }

    #[test]
    fn the_cache_is_bounded_in_bytes() {
        let mut cache = CursorCache::default();
        let cursor = Cursor {
            after: (0, 0),
            epochs: Epochs::default(),
        };
        cache.put("k".repeat(MAX_KEY_BYTES + 1), 1, cursor);
        assert!(cache.map.is_empty(), "a huge key is not remembered");
        for i in 0..(2 * MAX_CURSOR_BYTES / MAX_KEY_BYTES) {
            cache.put(format!("{i:0width$}", width = MAX_KEY_BYTES), 1, cursor);
            assert!(cache.bytes <= MAX_CURSOR_BYTES);
            let held: usize = cache.map.keys().map(|(k, _)| k.len()).sum();
            assert_eq!(held, cache.bytes);
        }
        assert!(
            cache
                .take(&format!("{:0width$}", 0, width = MAX_KEY_BYTES), 1)
                .is_none()
        );
    }

    #[test]
    fn short_and_empty_pages_remember_nothing() {
        let cache = Mutex::new(CursorCache::default());
        let visited = std::cell::Cell::new(0);
        let e = Epochs::default();
        assert!(
            page(
                &cache,
                req(0, 0, e),
                |after| source(10, &visited, after),
                even
            )
            .unwrap()
            .is_empty()
        );
        assert_eq!(
            page(
                &cache,
                req(0, 10, e),
                |after| source(10, &visited, after),
                even
            )
            .unwrap(),
            [0, 2, 4, 6, 8]
        );
        assert!(cache.lock().map.is_empty());
    }
}
