//! [`Overlap`]: where a catch-up and the live stream meet.
//!
//! The subscription is live before the catch-up reads, so a label written in between is both
//! read by the catch-up and pushed live: its live frame is an *echo* of what the catch-up
//! delivered. A frame of a caught-up label may also be an older version (published before the
//! read) or a newer one (published after it). Content alone cannot tell them apart; a point of
//! the stream can. After each page it reads, the catch-up sends a marker
//! ([`Machine::marker`](crate::subscription::wire::protocol::Machine::marker)); the marker's
//! answer comes after every frame the server published before it read the marker, so before
//! it are the frames published up to (about) the read, and after it only later ones.
//!
//! So, for each label of a page, the frames that arrived before the page's marker was answered
//! are settled when it is: if one of them carries the version the catch-up delivered, it and
//! the frames before it are the past (dropped: the echo counts as a duplicate); the frames
//! after it, or all of them if no echo came, are new and delivered. Frames after the answer
//! are always new. A label whose version is published again with the same selected fields
//! (a change outside the selection, or A, B, A) is thus delivered again, unless both writes
//! fall within one round trip of the read, which no order Kili offers can resolve.
//!
//! Without markers (no probe, or a server that does not answer it), a page is settled when the
//! socket is found empty after the catch-up: the frames published before the read have then
//! arrived, unless the network held them back.
//!
//! While anything is unsettled, live frames wait here, in arrival order, and leave together
//! once everything is settled: the catch-up is delivered before live events, and a label's
//! versions are never delivered out of order. Memory holds the labels of the pages whose
//! marker is not answered yet, and the live frames read meanwhile; not the whole gap.

use std::collections::VecDeque;
use std::time::SystemTime;

use crate::models::Label;
use crate::subscription::feed::small_str::IdMap;
use crate::subscription::feed::small_str::SmallStr;

/// The versions one page of a catch-up delivered, waiting for its marker's answer.
#[derive(Debug)]
struct Page {
    /// The marker sent after the page was read; `None`: settled when the socket is drained.
    marker: Option<u64>,
    versions: Vec<(SmallStr, u64)>,
}

/// A live frame waiting for the overlap to settle: the label, its digest, when it arrived.
#[derive(Debug)]
pub(crate) struct Waiting {
    pub(crate) label: Label,
    pub(crate) digest: u64,
    pub(crate) arrived: SystemTime,
}

/// What settling a page did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Settled {
    /// Echoes dropped.
    pub(crate) echoes: u64,
    /// Older versions dropped (published before the catch-up read a newer one).
    pub(crate) older: u64,
}

/// The overlap between catch-ups and the live stream.
#[derive(Debug, Default)]
pub(crate) struct Overlap {
    pages: VecDeque<Page>,
    waiting: VecDeque<Waiting>,
    /// A catch-up is running: every live frame waits, whatever is settled.
    catching_up: bool,
}

impl Overlap {
    /// Marks the start of a catch-up: live frames wait until it ends and its pages settle.
    pub(crate) fn begin(&mut self) {
        self.catching_up = true;
    }

    /// Marks the end of a catch-up (successful or not).
    pub(crate) fn end(&mut self) {
        self.catching_up = false;
    }

    /// Returns whether a catch-up runs or a page is still unsettled (live frames then wait).
    pub(crate) fn is_open(&self) -> bool {
        self.catching_up || !self.pages.is_empty()
    }

    /// Returns whether nothing waits: no catch-up, no unsettled page, no live frame held.
    pub(crate) fn is_empty(&self) -> bool {
        !self.is_open() && self.waiting.is_empty()
    }

    /// Returns how many live frames wait.
    pub(crate) fn waiting_len(&self) -> usize {
        self.waiting.len()
    }

    /// Returns whether a page waits for the socket to be drained (no marker).
    pub(crate) fn waits_for_drain(&self) -> bool {
        self.pages.iter().any(|p| p.marker.is_none())
    }

    /// Records the versions a catch-up page delivered, settled by `marker`'s answer (or, for
    /// `None`, by a drained socket).
    pub(crate) fn page(&mut self, marker: Option<u64>, versions: Vec<(SmallStr, u64)>) {
        if !versions.is_empty() {
            self.pages.push_back(Page { marker, versions });
        }
    }

    /// Takes a live frame: `Some` back if nothing is unsettled (deliver it now), `None` if it
    /// waits.
    pub(crate) fn frame(&mut self, frame: Waiting) -> Option<Waiting> {
        if self.is_empty() {
            return Some(frame);
        }
        self.waiting.push_back(frame);
        None
    }

    /// Settles the pages whose marker is `n` or older.
    pub(crate) fn marker(&mut self, n: u64) -> Settled {
        let mut settled = Settled::default();
        while self
            .pages
            .front()
            .is_some_and(|p| p.marker.is_some_and(|m| m <= n))
        {
            if let Some(page) = self.pages.pop_front() {
                self.settle(&page, &mut settled);
            }
        }
        settled
    }

    /// Settles the pages that wait for the socket to be drained.
    pub(crate) fn drained(&mut self) -> Settled {
        let mut settled = Settled::default();
        let pages = std::mem::take(&mut self.pages);
        for page in pages {
            if page.marker.is_none() {
                self.settle(&page, &mut settled);
            } else {
                self.pages.push_back(page);
            }
        }
        settled
    }

    /// Settles every page as if its marker had been answered (a server that stopped answering).
    pub(crate) fn settle_all(&mut self) -> Settled {
        let mut settled = Settled::default();
        while let Some(page) = self.pages.pop_front() {
            self.settle(&page, &mut settled);
        }
        settled
    }

    /// Returns the frames that may leave now (all of them once nothing is unsettled), oldest
    /// first.
    pub(crate) fn ready(&mut self) -> impl Iterator<Item = Waiting> + '_ {
        let n = if !self.is_open() {
            self.waiting.len()
        } else {
            0
        };
        self.waiting.drain(..n)
    }

    /// Gives up on what is unsettled, the connection being gone: the frames of labels that no
    /// page names may still leave (returned), those of unsettled labels are dropped (their
    /// fate is unknown; the next catch-up reads the labels again). Returns the frames that may
    /// leave, and when the oldest dropped one arrived, if any was dropped.
    pub(crate) fn abandon(&mut self) -> (Vec<Waiting>, Option<SystemTime>) {
        let mut unsettled: IdMap<()> = IdMap::default();
        for page in self.pages.drain(..) {
            for (id, _) in page.versions {
                unsettled.insert(id, ());
            }
        }
        let mut keep = Vec::new();
        let mut dropped: Option<SystemTime> = None;
        for w in self.waiting.drain(..) {
            if unsettled.contains_key(w.label.id()) {
                dropped = Some(dropped.map_or(w.arrived, |d| d.min(w.arrived)));
            } else {
                keep.push(w);
            }
        }
        (keep, dropped)
    }

    /// Settles one page against the frames waiting (all of which arrived before its answer).
    fn settle(&mut self, page: &Page, settled: &mut Settled) {
        if self.waiting.is_empty() {
            return;
        }
        // Where each label's echo is, if it came: the first waiting frame with its version.
        let mut echo_at: IdMap<Option<usize>> = IdMap::default();
        for (id, _) in &page.versions {
            echo_at.insert(id.clone(), None);
        }
        let caught: IdMap<u64> = page.versions.iter().cloned().collect();
        for (i, w) in self.waiting.iter().enumerate() {
            let id = w.label.id();
            if let Some(slot @ None) = echo_at.get_mut(id)
                && caught.get(id) == Some(&w.digest)
            {
                *slot = Some(i);
            }
        }
        let mut i = 0;
        self.waiting.retain(|w| {
            let at = i;
            i += 1;
            match echo_at.get(w.label.id()) {
                Some(Some(echo)) if at < *echo => {
                    settled.older += 1;
                    false
                }
                Some(Some(echo)) if at == *echo => {
                    settled.echoes += 1;
                    false
                }
                _ => true,
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frame(id: &str, v: u64) -> Waiting {
        let label =
            Label::from_json(&json!({"id": id, "jsonResponse": format!("{{\"v\":{v}}}")})).unwrap();
        Waiting {
            label,
            digest: v,
            arrived: SystemTime::UNIX_EPOCH,
        }
    }

    fn ids(o: &mut Overlap) -> Vec<(String, u64)> {
        o.ready()
            .map(|w| (w.label.id().to_owned(), w.digest))
            .collect()
    }

    #[test]
    fn nothing_waits_outside_an_overlap() {
        let mut o = Overlap::default();
        assert!(o.frame(frame("a", 1)).is_some());
    }

    #[test]
    fn an_echo_drops_what_came_before_it_and_keeps_what_came_after() {
        let mut o = Overlap::default();
        o.page(Some(1), vec![(SmallStr::new("a"), 2)]);
        for (id, v) in [("a", 1), ("b", 7), ("a", 2), ("a", 3), ("a", 2)] {
            assert!(
                o.frame(frame(id, v)).is_none(),
                "waits while a page is open"
            );
        }
        assert_eq!(
            o.marker(0),
            Settled::default(),
            "an older marker settles nothing"
        );
        assert!(ids(&mut o).is_empty());
        assert_eq!(
            o.marker(1),
            Settled {
                echoes: 1,
                older: 1
            }
        );
        // After the echo: 3, then 2 again (a later write of the same content).
        assert_eq!(
            ids(&mut o),
            [("b".into(), 7), ("a".into(), 3), ("a".into(), 2)]
        );
        assert!(o.is_empty());
    }

    #[test]
    fn without_an_echo_every_frame_is_new() {
        let mut o = Overlap::default();
        o.page(Some(1), vec![(SmallStr::new("a"), 1)]);
        o.frame(frame("a", 2));
        o.frame(frame("a", 1));
        assert_eq!(
            o.marker(1),
            Settled {
                echoes: 1,
                older: 1
            }
        );
        // `a` at 2 came before the echo of 1: the past. A label created in the gap has no
        // echo: its frames are all new.
        o.page(Some(2), vec![(SmallStr::new("c"), 1)]);
        o.frame(frame("c", 2));
        o.frame(frame("c", 3));
        assert_eq!(o.marker(2), Settled::default());
        assert_eq!(ids(&mut o), [("c".into(), 2), ("c".into(), 3)]);
    }

    #[test]
    fn pages_settle_in_marker_order_and_frames_wait_for_all_of_them() {
        let mut o = Overlap::default();
        o.page(Some(1), vec![(SmallStr::new("a"), 1)]);
        o.page(Some(2), vec![(SmallStr::new("b"), 1)]);
        o.frame(frame("a", 1));
        o.frame(frame("x", 1));
        o.marker(1);
        assert!(ids(&mut o).is_empty(), "page 2 is still open");
        o.frame(frame("b", 1));
        assert_eq!(
            o.marker(5),
            Settled {
                echoes: 1,
                older: 0
            }
        );
        assert_eq!(ids(&mut o), [("x".into(), 1)]);
    }

    #[test]
    fn without_markers_a_drained_socket_settles() {
        let mut o = Overlap::default();
        o.page(None, vec![(SmallStr::new("a"), 1)]);
        assert!(o.waits_for_drain());
        o.frame(frame("a", 1));
        o.frame(frame("a", 2));
        assert_eq!(o.drained().echoes, 1);
        assert_eq!(ids(&mut o), [("a".into(), 2)]);
    }

    #[test]
    fn abandoning_keeps_the_frames_of_settled_labels_only() {
        let mut o = Overlap::default();
        o.page(Some(1), vec![(SmallStr::new("a"), 1)]);
        o.frame(frame("a", 2));
        o.frame(frame("z", 1));
        let (kept, dropped) = o.abandon();
        let kept: Vec<&str> = kept.iter().map(|w| w.label.id()).collect();
        assert_eq!(kept, ["z"]);
        assert_eq!(dropped, Some(SystemTime::UNIX_EPOCH));
        assert!(o.is_empty());
    }
}
