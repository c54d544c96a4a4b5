//! The soak's load: a writer appending and updating labels, with what it knows (the server's
//! order of each label's versions, and when each was current), and a cutter of connections.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{RecvTimeoutError, Sender, bounded};
use kili::{Kili, LabelType, LabelUpdate, NewLabels};
use serde_json::{Value, json};

use super::between;
use crate::support::FaultProxy;

/// The writer's pause between two writes, drawn in this range (ms).
const WRITE_PAUSE_MS: (u64, u64) = (40, 220);
/// The most labels of one append (they share a `createdAt`).
const BURST: usize = 6;
/// Only labels created this recently are updated. Well within the catch-up margin (30 s, the
/// default that `watch_labels` uses): an update made during a gap to a label created before
/// the margin may be missed, as the crate says (`Lifecycle::UpdatesMayBeMissed`), and this
/// soak is not about that limit.
const UPDATE_WINDOW: Duration = Duration::from_secs(15);
/// How often the proxy cuts every connection, drawn in this range (ms).
const CUT_MS: (u64, u64) = (2_000, 4_000);

/// One version of a label, and when it was current, as the writer knows for sure: from the
/// moment its write returned to the moment the next version's write was sent (a lower bound of
/// the real span).
#[derive(Debug, Clone)]
pub(super) struct Version {
    pub(super) v: u64,
    pub(super) from: Instant,
    pub(super) until: Option<Instant>,
}

impl Version {
    /// How long it was current, if it was superseded.
    pub(super) fn current_for(&self) -> Option<Duration> {
        self.until.map(|u| u.saturating_duration_since(self.from))
    }
}

#[derive(Debug)]
pub(super) struct LabelHistory {
    pub(super) created: Instant,
    /// In the server's order: the writer is the only one writing.
    pub(super) versions: Vec<Version>,
}

impl LabelHistory {
    /// The version current now (the final one, once the writer stopped).
    pub(super) fn last(&self) -> u64 {
        self.versions.last().expect("a label has a version").v
    }
}

#[derive(Debug, Default)]
pub(super) struct History {
    pub(super) labels: HashMap<String, LabelHistory>,
    /// Label ids, oldest first.
    pub(super) order: Vec<String>,
    pub(super) appends: usize,
    pub(super) updates: usize,
}

/// The `n`th label's `jsonResponse` at version `v`, with `pad` bytes of padding.
fn response(n: usize, v: u64, pad: usize) -> Value {
    let mut r = json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}, "n": n, "v": v});
    if pad > 0 {
        r["pad"] = json!("x".repeat(pad));
    }
    r
}

/// A thread writing until stopped: appends of 1 to [`BURST`] labels, and updates of labels
/// created within [`UPDATE_WINDOW`] (now and then two in a row: a version current for a few
/// milliseconds).
pub(super) struct SoakWriter {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<History>,
}

impl SoakWriter {
    pub(super) fn start(kili: Kili, project: &str, asset: &str, pad: usize, seed: u64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let (project, asset) = (project.to_owned(), asset.to_owned());
        let handle = std::thread::Builder::new()
            .name("soak-writer".into())
            .spawn(move || {
                let mut w = Writing {
                    kili,
                    project,
                    asset,
                    pad,
                    h: History::default(),
                };
                let mut rng = fastrand::Rng::with_seed(seed);
                while !s.load(Ordering::SeqCst) {
                    w.step(&mut rng);
                    // The writer's rhythm (load, not synchronisation).
                    std::thread::sleep(between(&mut rng, WRITE_PAUSE_MS));
                }
                w.h
            })
            .expect("spawn the writer");
        SoakWriter { stop, handle }
    }

    /// Stops writing; returns what was written.
    pub(super) fn finish(self) -> History {
        self.stop.store(true, Ordering::SeqCst);
        (self.handle.join()).unwrap_or_else(|e| std::panic::resume_unwind(e))
    }
}

struct Writing {
    kili: Kili,
    project: String,
    asset: String,
    pad: usize,
    h: History,
}

impl Writing {
    /// One write: an append (always, while no label is recent enough to update) or updates.
    fn step(&mut self, rng: &mut fastrand::Rng) {
        let recent: Vec<String> = (self.h.order.iter().rev())
            .take_while(|id| self.h.labels[*id].created.elapsed() < UPDATE_WINDOW)
            .cloned()
            .collect();
        if recent.is_empty() || rng.u8(..10) < 4 {
            self.append(rng.usize(1..=BURST));
        } else {
            let id = &recent[rng.usize(..recent.len())];
            for _ in 0..if rng.u8(..10) < 2 { 2 } else { 1 } {
                self.update(id);
            }
        }
    }

    fn append(&mut self, k: usize) {
        let first = self.h.order.len();
        let responses: Vec<Value> = (first..first + k)
            .map(|n| response(n, 0, self.pad))
            .collect();
        let labels = NewLabels::for_assets(&self.project, vec![self.asset.as_str(); k], responses)
            .label_type(LabelType::Inference);
        let ids = (self.kili.append_labels(&labels))
            .unwrap_or_else(|e| panic!("the writer's append failed: {e}"));
        assert_eq!(ids.len(), k, "the append returned {ids:?}");
        let at = Instant::now();
        for id in ids {
            let versions = vec![Version {
                v: 0,
                from: at,
                until: None,
            }];
            let label = LabelHistory {
                created: at,
                versions,
            };
            let previous = self.h.labels.insert(id.clone(), label);
            assert!(previous.is_none(), "the server returned {id} twice");
            self.h.order.push(id);
        }
        self.h.appends += 1;
    }

    fn update(&mut self, id: &str) {
        let n = (self.h.order.iter().position(|i| i == id)).expect("a known label");
        let label = self.h.labels.get_mut(id).expect("a known label");
        let v = label.last() + 1;
        let sent = Instant::now();
        let update = LabelUpdate::new().json_response(response(n, v, self.pad));
        (self.kili.update_properties_in_label(id, &update))
            .unwrap_or_else(|e| panic!("the writer's update of {id} to v{v} failed: {e}"));
        let done = Instant::now();
        if let Some(last) = label.versions.last_mut() {
            last.until = Some(sent);
        }
        label.versions.push(Version {
            v,
            from: done,
            until: None,
        });
        self.h.updates += 1;
    }
}

/// A thread cutting every proxied connection every [`CUT_MS`] until stopped; returns how many
/// cuts it made.
pub(super) struct Cutter {
    stop: Sender<()>,
    handle: JoinHandle<usize>,
}

impl Cutter {
    pub(super) fn start(proxy: Arc<FaultProxy>, seed: u64) -> Cutter {
        let (stop, stopped) = bounded::<()>(1);
        let handle = std::thread::Builder::new()
            .name("soak-cutter".into())
            .spawn(move || {
                let mut rng = fastrand::Rng::with_seed(seed);
                let mut cuts = 0;
                // The cuts' rhythm (load): a receive with a timeout, so that stopping is prompt.
                while let Err(RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(between(&mut rng, CUT_MS))
                {
                    proxy.drop_connections();
                    cuts += 1;
                }
                cuts
            })
            .expect("spawn the cutter");
        Cutter { stop, handle }
    }

    /// Stops cutting; returns how many cuts were made.
    pub(super) fn finish(self) -> usize {
        let _ = self.stop.send(());
        self.handle.join().expect("the cutter")
    }
}
