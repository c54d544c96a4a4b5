//! [`Checkpoint`]: where a label subscription stands, as a value and as a stable string, so that
//! a restarted process resumes it with nothing lost and nothing delivered twice.
//!
//! A checkpoint holds a time, `from`, and the versions of the labels delivered at or after it.
//! Resuming fetches every label created at or after `from` and delivers those whose version is
//! not listed. Kili's API gives no order and no `updatedAt` filter for labels, so `from` trails
//! the newest `createdAt` delivered by the catch-up margin: a label published late (out of
//! `createdAt` order) within the margin is still found, and so is an update of a recent label.
//!
//! The recent versions are kept in append-only chunks shared between the subscription and the
//! checkpoints it hands out, so a checkpoint per event costs a few reference counts, not a copy.

use std::fmt;
use std::hash::Hasher as _;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::common::hash::WordHasher;
use crate::error::{Error, Result};
use crate::models::Label;
use crate::subscription::feed::small_str::SmallStr;

/// Entries per chunk of the recent set.
const CHUNK: usize = 64;

/// One delivered version: the label's id, a digest of its selected fields, its `createdAt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) id: SmallStr,
    pub(crate) digest: u64,
    pub(crate) created_at: i64,
}

/// A chunk of the recent set. It only grows: each slot is written once, in order, so a
/// snapshot that saw its first `n` entries keeps seeing exactly those while the subscription
/// appends more.
#[derive(Debug)]
struct Chunk {
    slots: [OnceLock<Entry>; CHUNK],
}

impl Chunk {
    fn new() -> Arc<Chunk> {
        Arc::new(Chunk {
            slots: std::array::from_fn(|_| OnceLock::new()),
        })
    }

    fn entries(&self, len: usize) -> impl Iterator<Item = &Entry> {
        self.slots[..len].iter().filter_map(OnceLock::get)
    }
}

/// A full chunk, with the newest `createdAt` it holds.
#[derive(Debug, Clone)]
struct Sealed {
    chunk: Arc<Chunk>,
    newest: i64,
}

/// The versions delivered recently, oldest delivery first, in chunks shared between the
/// subscription and its snapshots: a snapshot costs one reference count, and a push after a
/// snapshot copies nothing (sealing or dropping a chunk copies the list of chunks).
#[derive(Debug, Clone, Default)]
pub(crate) struct Recent {
    chunks: Arc<Chunks>,
    /// Entries of the tail chunk this value sees.
    tail_len: usize,
    /// The newest `createdAt` in the tail.
    tail_newest: i64,
    len: usize,
}

/// The sealed chunks, and the chunk being filled (`None` before the first push).
#[derive(Debug, Clone, Default)]
struct Chunks {
    full: Vec<Sealed>,
    tail: Option<Arc<Chunk>>,
}

impl Recent {
    pub(crate) fn push(&mut self, entry: Entry) {
        let created_at = entry.created_at;
        let tail = match &self.chunks.tail {
            Some(tail) => Arc::clone(tail),
            None => {
                let tail = Chunk::new();
                Arc::make_mut(&mut self.chunks).tail = Some(Arc::clone(&tail));
                tail
            }
        };
        if let Err(entry) = tail.slots[self.tail_len].set(entry) {
            // A clone of this value pushed into the shared chunk first: copy what this value
            // sees into a chunk of its own.
            let own = Chunk::new();
            for (slot, e) in own.slots.iter().zip(tail.entries(self.tail_len)) {
                let _ = slot.set(e.clone());
            }
            let _ = own.slots[self.tail_len].set(entry);
            Arc::make_mut(&mut self.chunks).tail = Some(own);
        }
        self.tail_len += 1;
        self.tail_newest = if self.tail_len == 1 {
            created_at
        } else {
            self.tail_newest.max(created_at)
        };
        self.len += 1;
        if self.tail_len == CHUNK {
            let newest = self.tail_newest;
            let chunks = Arc::make_mut(&mut self.chunks);
            if let Some(chunk) = chunks.tail.take() {
                chunks.full.push(Sealed { chunk, newest });
            }
            self.tail_len = 0;
        }
    }

    /// Drops whole chunks, oldest first, while the first holds only entries created before
    /// `from`, or the rest still holds at least `cap` entries and the first holds only entries
    /// created before `before`; returns the newest `createdAt` dropped that was not before
    /// `from` (what the capacity cut from the window), if any.
    ///
    /// `before` is the `createdAt` of the version being delivered: versions of that
    /// millisecond (or later) are never cut, however many share it, since labels of it may
    /// still be undelivered and a resume must find them (Kili gives no order within it).
    pub(crate) fn prune(&mut self, from: i64, cap: usize, before: i64) -> Option<i64> {
        let mut cut = None;
        let mut drop = 0;
        for first in &self.chunks.full {
            if first.newest >= from {
                if self.len - CHUNK < cap || first.newest >= before {
                    break;
                }
                cut = cut.max(Some(first.newest));
            }
            self.len -= CHUNK;
            drop += 1;
        }
        if drop > 0 {
            Arc::make_mut(&mut self.chunks).full.drain(..drop);
        }
        cut
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry> {
        let tail = (self.chunks.tail.iter()).flat_map(|c| c.entries(self.tail_len));
        (self.chunks.full.iter())
            .flat_map(|s| s.chunk.entries(CHUNK))
            .chain(tail)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// Where a label subscription stands: pass one to
/// [`SubscriptionOptions::resume_from`](crate::SubscriptionOptions::resume_from) to resume after
/// a restart with every label created or updated meanwhile delivered once, and nothing twice.
///
/// Every [`LabelEvent`](crate::LabelEvent) carries the checkpoint *after* it, and
/// [`Subscription::checkpoint`](crate::Subscription::checkpoint) gives the latest. Its string
/// form (`Display` / [`FromStr`]) is stable across versions of this crate:
///
/// ```text
/// v1.<base64url, no padding, of {"from": MS, "labels": [[ID, DIGEST, CREATED_MS], ...]}>
/// ```
///
/// `from` is a time in milliseconds since the Unix epoch (or `null` before the subscription
/// was ever established); each label entry names a delivered version: the label's id, a
/// 16-hex-digit digest of its selected fields (a stable 64-bit hash), and its `createdAt` in milliseconds.
///
/// # Examples
///
/// ```
/// let empty = kili::Checkpoint::default();
/// let text = empty.to_string();
/// assert!(text.starts_with("v1."));
/// assert_eq!(text.parse::<kili::Checkpoint>()?, empty);
/// assert!("v9.xyz".parse::<kili::Checkpoint>().is_err());
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Checkpoint {
    /// Labels created at or after this time (ms) are fetched on resume.
    from: Option<i64>,
    recent: Recent,
}

impl Checkpoint {
    pub(crate) fn new(from: Option<i64>, recent: Recent) -> Checkpoint {
        Checkpoint { from, recent }
    }

    /// Returns the time from which a resume fetches labels, in ms since the epoch.
    pub(crate) fn start(&self) -> Option<i64> {
        self.from
    }

    /// Returns the delivered versions it lists, created at or after `from`.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> {
        let from = self.from;
        self.recent
            .iter()
            .filter(move |e| from.is_some_and(|f| e.created_at >= f))
    }

    /// Returns how many delivered versions it lists.
    ///
    /// ```
    /// assert_eq!(kili::Checkpoint::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.entries().count()
    }

    /// Returns whether it lists no version.
    pub fn is_empty(&self) -> bool {
        self.entries().next().is_none()
    }
}

impl PartialEq for Checkpoint {
    fn eq(&self, other: &Checkpoint) -> bool {
        self.from == other.from && self.entries().eq(other.entries())
    }
}

impl Eq for Checkpoint {}

impl fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkpoint")
            .field("from", &self.from.map(crate::common::time::format_ms))
            .field("labels", &self.len())
            .finish()
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels: Vec<Value> = self
            .entries()
            .map(|e| json!([&*e.id, format!("{:016x}", e.digest), e.created_at]))
            .collect();
        let body = json!({ "from": self.from, "labels": labels }).to_string();
        write!(f, "v1.{}", URL_SAFE_NO_PAD.encode(body))
    }
}

impl FromStr for Checkpoint {
    type Err = Error;

    /// Parses the string form.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if it is not a checkpoint of a known version.
    fn from_str(s: &str) -> Result<Checkpoint> {
        let bad = |why: &str| Error::invalid(format!("not a checkpoint: {why}"));
        let body = s
            .trim()
            .strip_prefix("v1.")
            .ok_or_else(|| bad("unknown version (expected `v1.`)"))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| bad("not base64url"))?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad("not JSON"))?;
        let from = match v.get("from") {
            Some(Value::Null) | None => None,
            Some(t) => Some(t.as_i64().ok_or_else(|| bad("`from` is not an integer"))?),
        };
        let mut recent = Recent::default();
        for item in v
            .get("labels")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no `labels` list"))?
        {
            let entry = match item.as_array().map(Vec::as_slice) {
                Some([id, digest, created]) => Entry {
                    id: SmallStr::new(
                        id.as_str()
                            .ok_or_else(|| bad("a label id is not a string"))?,
                    ),
                    digest: digest
                        .as_str()
                        .and_then(|d| u64::from_str_radix(d, 16).ok())
                        .ok_or_else(|| bad("a digest is not 16 hex digits"))?,
                    created_at: created
                        .as_i64()
                        .ok_or_else(|| bad("a time is not an integer"))?,
                },
                _ => return Err(bad("a label entry is not [id, digest, time]")),
            };
            recent.push(entry);
        }
        Ok(Checkpoint { from, recent })
    }
}

/// Returns the digest of a label version: its fields in a fixed order, each as a presence-and-length
/// word then its bytes, through [`WordHasher`], so that the live frame and a query of the same
/// version agree, in any process and any version of this crate.
pub(crate) fn digest(label: &Label) -> u64 {
    let mut h = WordHasher::default();
    let mut field = |value: Option<&str>| match value {
        None => h.word(0),
        Some(s) => {
            h.word(s.len() as u64 + 1);
            h.bytes(s.as_bytes());
        }
    };
    field(Some(label.id()));
    let author = label.author();
    field(author.and_then(|a| a.id));
    field(author.and_then(|a| a.email));
    field(label.asset_id());
    field(label.label_type().map(|t| t.as_str()));
    field(label.json_response().map(|r| r.get()));
    field(label.created_at());
    field(label.model_name());
    field(label.seconds_to_label().map(|s| s.to_string()).as_deref());
    field(
        label
            .is_latest_label_for_user()
            .map(|b| if b { "1" } else { "0" }),
    );
    let mut extra: Vec<(&String, &Value)> = label.extra().iter().collect();
    extra.sort_by_key(|(k, _)| *k);
    for (k, v) in extra {
        field(Some(k));
        field(Some(&v.to_string()));
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, created_at: i64) -> Entry {
        Entry {
            id: SmallStr::new(id),
            digest: 0xabc,
            created_at,
        }
    }

    #[test]
    fn string_form_round_trips_and_is_stable() {
        let mut recent = Recent::default();
        recent.push(entry("old", 5));
        recent.push(entry("l1", 1_000));
        recent.push(entry("l2", 1_001));
        let cp = Checkpoint::new(Some(1_000), recent);
        assert_eq!(cp.len(), 2, "entries before `from` are not listed");
        let text = cp.to_string();
        let body = URL_SAFE_NO_PAD.decode(&text[3..]).unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"from":1000,"labels":[["l1","0000000000000abc",1000],["l2","0000000000000abc",1001]]}"#
        );
        assert_eq!(text.parse::<Checkpoint>().unwrap(), cp);
        for bad in ["", "v1.", "v1.!!", "v2.e30", "v1.e30", "v1.W10"] {
            assert!(bad.parse::<Checkpoint>().is_err(), "{bad}");
        }
    }

    #[test]
    fn snapshots_share_chunks_and_do_not_see_later_pushes() {
        let mut recent = Recent::default();
        for i in 0..(CHUNK as i64 + 3) {
            recent.push(entry("x", i));
        }
        let snapshot = recent.clone();
        recent.push(entry("later", 999));
        assert_eq!(snapshot.len(), CHUNK + 3);
        assert_eq!(recent.len(), CHUNK + 4);
        assert!(
            Arc::ptr_eq(&snapshot.chunks, &recent.chunks),
            "chunks shared"
        );
        assert!(snapshot.iter().all(|e| &*e.id == "x"));
        // Two values that share a chunk and both grow: each keeps its own entries.
        let mut other = snapshot.clone();
        other.push(entry("other", 7));
        let last = |r: &Recent| r.iter().last().map(|e| e.id.to_string());
        assert_eq!(last(&recent).as_deref(), Some("later"));
        assert_eq!(last(&other).as_deref(), Some("other"));
        assert_eq!(last(&snapshot).as_deref(), Some("x"));
        assert_eq!(other.iter().count(), CHUNK + 4);
    }

    #[test]
    fn pruning_drops_stale_chunks_and_what_exceeds_the_cap() {
        let mut recent = Recent::default();
        for i in 0..(3 * CHUNK as i64) {
            recent.push(entry("x", i));
        }
        let now = 3 * CHUNK as i64;
        assert_eq!(recent.prune(0, usize::MAX, now), None, "nothing stale");
        assert_eq!(recent.len(), 3 * CHUNK);
        assert_eq!(
            recent.prune(CHUNK as i64, usize::MAX, now),
            None,
            "the first chunk is stale: dropped, but not from the window"
        );
        assert_eq!(recent.len(), 2 * CHUNK);
        let cut = recent.prune(0, CHUNK, now);
        assert_eq!(cut, Some(2 * CHUNK as i64 - 1), "over the cap");
        assert_eq!(recent.len(), CHUNK);
    }

    #[test]
    fn the_cap_never_cuts_the_millisecond_being_delivered() {
        let mut recent = Recent::default();
        for _ in 0..(3 * CHUNK) {
            recent.push(entry("x", 7));
        }
        assert_eq!(recent.prune(0, CHUNK, 7), None, "all of them at 7");
        assert_eq!(recent.len(), 3 * CHUNK);
        recent.push(entry("y", 8));
        assert_eq!(
            recent.prune(0, CHUNK, 8),
            Some(7),
            "7 is over once 8 is delivered"
        );
        assert_eq!(recent.len(), CHUNK + 1);
    }

    #[test]
    fn digests_tell_versions_apart_whatever_the_field_order() {
        let a: Label = serde_json::from_str(
            r#"{"id":"l","labelOf":{"id":"a"},"jsonResponse":"{\"k\":1}","createdAt":"t"}"#,
        )
        .unwrap();
        let b: Label = serde_json::from_str(
            r#"{"createdAt":"t","jsonResponse":"{\"k\":1}","labelOf":{"id":"a"},"id":"l"}"#,
        )
        .unwrap();
        assert_eq!(digest(&a), digest(&b));
        let c: Label = serde_json::from_str(
            r#"{"id":"l","labelOf":{"id":"a"},"jsonResponse":"{\"k\":2}","createdAt":"t"}"#,
        )
        .unwrap();
        assert_ne!(digest(&a), digest(&c));
        // Checkpoints saved by one version of the crate are read by the next: the digest of a
        // version never changes.
        assert_eq!(digest(&a), 0x0fc6_6d21_9f5f_b502);
    }
}
