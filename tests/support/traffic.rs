//! Label traffic for the reliability tests: a writer thread appending labels through the
//! crate's client, a collector of delivered label ids, and the store's truth to check both
//! against.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use kili::{Kili, LabelEvent, LabelQuery, LabelType, NewLabels};
use parking_lot::Mutex;
use serde_json::json;

use crate::support::wait::{PATIENCE, wait_for};

/// Numbers the labels the writers of the process append.
static NEXT_LABEL: AtomicUsize = AtomicUsize::new(0);

/// A thread appending one label at a time to one asset of a project, through the crate's client (which
/// retries without duplicating), until told to stop or `max` labels are written.
pub struct Writer {
    stop: Arc<AtomicBool>,
    written: Arc<AtomicUsize>,
    handle: JoinHandle<WriterReport>,
}

/// What a writer did.
#[derive(Debug, Default)]
pub struct WriterReport {
    /// The ids the server returned.
    pub ids: Vec<String>,
    /// Appends that failed even after the client's retries (the label may still exist).
    pub errors: usize,
}

impl Writer {
    /// Starts writing; `pace` is the pause between labels (pacing the producer, not
    /// synchronisation).
    pub fn start(kili: Kili, project: &str, asset: &str, max: usize, pace: Duration) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicUsize::new(0));
        let (s, w) = (stop.clone(), written.clone());
        let (project, asset) = (project.to_owned(), asset.to_owned());
        let handle = std::thread::Builder::new()
            .name("rel-writer".into())
            .spawn(move || {
                let mut report = WriterReport::default();
                while !s.load(Ordering::SeqCst) && report.ids.len() + report.errors < max {
                    // Each label unique, so that a retry's reconciliation can tell them apart.
                    let n = NEXT_LABEL.fetch_add(1, Ordering::SeqCst);
                    let response = json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}, "n": n});
                    let labels = NewLabels::for_assets(&project, [asset.as_str()], [response])
                        .label_type(LabelType::Inference);
                    match kili.append_labels(&labels) {
                        Ok(ids) => report.ids.extend(ids),
                        Err(e) => {
                            eprintln!("writer: {e}");
                            report.errors += 1;
                        }
                    }
                    w.fetch_add(1, Ordering::SeqCst);
                    if !pace.is_zero() {
                        std::thread::sleep(pace);
                    }
                }
                report
            })
            .expect("spawn writer");
        Writer {
            stop,
            written,
            handle,
        }
    }

    /// How many appends were attempted so far.
    pub fn written(&self) -> usize {
        self.written.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` more appends than now were made (bounded by the patience).
    pub fn wait_for_more(&self, n: usize) {
        let target = self.written() + n;
        assert!(
            wait_for(PATIENCE, || self.written() >= target
                || self.handle.is_finished()),
            "the writer is stuck at {}",
            self.written()
        );
    }

    /// Waits for the writer to write all its labels and returns what it did.
    pub fn join(self) -> WriterReport {
        self.handle.join().expect("writer thread")
    }

    /// Stops the writer and returns what it did.
    pub fn finish(self) -> WriterReport {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().expect("writer thread")
    }
}

/// Counts how many times each label id was delivered to a callback.
#[derive(Clone, Default)]
pub struct Collector {
    seen: Arc<Mutex<HashMap<String, usize>>>,
    total: Arc<AtomicUsize>,
}

impl Collector {
    /// A callback recording each delivered label.
    pub fn callback(&self) -> impl FnMut(&LabelEvent) + Send + 'static {
        let (seen, total) = (self.seen.clone(), self.total.clone());
        move |event| {
            *seen
                .lock()
                .entry(event.label().id().to_owned())
                .or_default() += 1;
            total.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// How many deliveries so far (duplicates included).
    pub fn total(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }

    /// Waits until every id of `expected` was delivered, then checks that each was delivered
    /// exactly once and nothing else was.
    pub fn assert_exactly(&self, expected: &HashSet<String>, what: &str) {
        let complete = wait_for(PATIENCE, || {
            let seen = self.seen.lock();
            expected.iter().all(|id| seen.contains_key(id))
        });
        let seen = self.seen.lock();
        let missing: Vec<_> = expected
            .iter()
            .filter(|id| !seen.contains_key(*id))
            .collect();
        assert!(
            complete,
            "{what}: {} of {} labels missing, e.g. {:?}",
            missing.len(),
            expected.len(),
            missing.iter().take(5).collect::<Vec<_>>()
        );
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            twice.is_empty(),
            "{what}: delivered more than once: {twice:?}"
        );
        let extra: Vec<_> = seen.keys().filter(|id| !expected.contains(*id)).collect();
        assert!(extra.is_empty(), "{what}: not in the store: {extra:?}");
        assert_eq!(self.total(), expected.len(), "{what}: delivery count");
    }
}

/// The ids of every label of a project, read back from the server (the truth).
pub fn store_label_ids(kili: &Kili, project: &str) -> HashSet<String> {
    let labels = kili
        .labels(&LabelQuery::new(project).fields(["id"]))
        .expect("labels query")
        .collect_all()
        .expect("labels read");
    labels.into_iter().map(|l| l.id().to_owned()).collect()
}

/// Checks that the writer's successful appends are all in the store, each a different label.
pub fn assert_writer_in_store(report: &WriterReport, store: &HashSet<String>) {
    for id in &report.ids {
        assert!(
            store.contains(id),
            "label {id} returned by the server is not in its store"
        );
    }
    let distinct: HashSet<&String> = report.ids.iter().collect();
    assert_eq!(distinct.len(), report.ids.len(), "an id was returned twice");
    assert!(store.len() >= report.ids.len());
}
