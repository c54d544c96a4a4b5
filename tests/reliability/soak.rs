//! Soaks of the exactly-once promise as a service lives it, on the strictest server (every
//! label of a second sharing one `createdAt`, `labels` pages in hash order): a writer appends
//! bursts of labels and updates recent ones continuously, each version numbered in its
//! `jsonResponse`; consumers watch them through a proxy that cuts every connection every few
//! seconds, and are themselves stopped again and again, alternately as by SIGKILL and SIGTERM,
//! and restarted on their saved state, each run on one of the two WebSocket protocols at
//! random; at least [`SOAK`] and [`RESTARTS`] restarts each. Across all the runs of a consumer:
//!
//! - every label is printed, and each label's last printed version is its final version;
//! - each label's versions are printed in the server's order (the writer's: it is the only one
//!   writing);
//! - no version is printed twice, except again after a SIGKILL (what the killed run printed
//!   after its last save); never after a SIGTERM, never twice in one run;
//! - every version that stayed current for [`STAYED_CURRENT`] is printed (one superseded
//!   sooner may be missed, legitimately: a catch-up sees only current versions);
//! - every SIGTERM exits 0.
//!
//! Two soaks:
//!
//! - `examples/watch_labels --state-file` as a child process (started as a service is:
//!   `setsid`, stdin at /dev/null), SIGKILLed and SIGTERMed, its stdout read as it comes;
//! - the slow consumers, side by side on the same writer and proxy: the same `watch_labels`
//!   with `--queue-capacity 8`, its stdout read by a test thread that sleeps after each line
//!   (each line about 4 KiB, so the pipe holds a dozen: the watcher blocks on stdout, its queue
//!   fills and the subscription stops reading the socket); and, since the CLI has no callback,
//!   the library's callback form in this process, sleeping a few milliseconds per event,
//!   "killed" (its handle dropped, the events since its last save forgotten) and "terminated"
//!   (closed) in turn, each new subscription resuming from the checkpoint saved. In-process,
//!   which events came after the last save is known exactly, so a repeat after a kill must be
//!   one of them; for the CLI it is only known to come from the killed run.
//!
//! Ignored by default; `.ci/steps/reliability.sh` runs them:
//!
//! ```text
//! cargo build --example watch_labels
//! cargo test --test reliability -- soak:: --ignored --nocapture --test-threads 1
//! ```
//!
//! `KILI_WATCH_SOAK_SECS` sets the length (60 by default); `KILI_SOAK_SEED` replays the random
//! choices (the writer's, the cuts', the stops'; not the machine's timing).

mod callback;
mod check;
mod watcher;
mod writer;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, bounded};
use kili_local_server::LocalServer;
use parking_lot::Mutex;

use crate::support::*;
use callback::CallbackConsumer;
use watcher::{Reader, WatcherConsumer};
use writer::{Cutter, SoakWriter};

/// How long the writer writes while the consumers are stopped and restarted (they go on until
/// each made [`RESTARTS`] restarts too).
const SOAK: Duration = Duration::from_secs(60);
/// The fewest restarts of each consumer that connected.
const RESTARTS: usize = 20;
/// How long a consumer runs before it is stopped, drawn in this range (ms): the rhythm of the
/// stops (load, not synchronisation).
const RUN_MS: (u64, u64) = (1_200, 3_500);
/// A version that stayed current this long must be printed. What may hide a version is a
/// blind spell: from a cut connection (or a stopped consumer) to the next subscription being
/// established; after that, versions arrive live or are found current by the catch-up. A spell
/// is a reconnection's backoff (100 ms doubling per cut; a consumer lives at most 3.5 s, so it
/// meets one or two cuts: a few hundred ms) or a restart (a process start and a connection, a
/// second or two on a loaded 2-core machine), plus, for the slow consumers, the time their
/// socket is left unread while they print (a couple of seconds at their pace). 8 s is several
/// seconds beyond a cut interval (at most 4 s) plus a restart: a version missed after being
/// current that long was lost, not overtaken.
const STAYED_CURRENT: Duration = Duration::from_secs(8);
/// How long a SIGTERMed watcher (or a closed subscription) may take to stop. The slow
/// reader's watcher may be in the middle of writing a burst to a full pipe.
const STOP_PATIENCE: Duration = Duration::from_secs(30);
/// How long the last run may take to print the final version of every label.
const FINAL_PATIENCE: Duration = Duration::from_secs(60);
/// The padding of each label's `jsonResponse` for the slow consumers: a line of about 4 KiB.
const SLOW_PAD: usize = 4_000;

fn soak_time() -> Duration {
    (std::env::var("KILI_WATCH_SOAK_SECS").ok())
        .and_then(|v| v.parse().ok())
        .map_or(SOAK, Duration::from_secs)
}

fn seed() -> u64 {
    (std::env::var("KILI_SOAK_SEED").ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..))
}

/// A duration drawn in a range of milliseconds.
fn between(rng: &mut fastrand::Rng, (lo, hi): (u64, u64)) -> Duration {
    Duration::from_millis(rng.u64(lo..=hi))
}

fn secs(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

/// One printed label version.
#[derive(Debug, Clone)]
struct Print {
    id: String,
    v: u64,
    origin: &'static str,
    /// When the test saw it, since the soak started.
    at: Duration,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// SIGKILL (in-process: the handle dropped, what came after the last save forgotten).
    Killed,
    /// SIGTERM (in-process: closed).
    Terminated,
    /// It stopped by itself, with this exit status (`None`: by a signal).
    Exited(Option<i32>),
}

/// One run of a consumer: from its start to its stop.
#[derive(Debug)]
struct Run {
    started: Duration,
    ended: Duration,
    end: End,
    prints: Vec<Print>,
    /// How many of `prints` were saved when the run ended; `None`: unknown (a SIGKILLed
    /// process saved some, or all).
    saved: Option<usize>,
    /// Whether the subscription was established.
    connected: bool,
    /// What the run said (the watcher's stderr, or the lifecycle events), for failures.
    notes: Vec<String>,
}

impl Run {
    fn describe(&self, i: usize) -> String {
        format!(
            "run {i}: {}–{}, {:?}, {} printed{}{}",
            secs(self.started),
            secs(self.ended),
            self.end,
            self.prints.len(),
            (self.saved).map_or(String::new(), |s| format!(" ({s} saved)")),
            if self.connected {
                ""
            } else {
                ", never connected"
            }
        )
    }
}

/// A consumer's runs, and what went wrong while running them.
#[derive(Debug, Default)]
struct Report {
    name: String,
    runs: Vec<Run>,
    /// Problems seen while running (a SIGTERM that did not exit 0, ...).
    problems: Vec<String>,
    /// Why the runs whose first connection failed did (a cut during the handshake: the
    /// watcher exits 1, as documented, and is started again, as a service manager would).
    startup_failures: Vec<String>,
    /// The longest a SIGTERM (a close) took.
    slowest_stop: Duration,
    /// Where the state file is, removed if all is well.
    state_dir: Option<PathBuf>,
}

impl Report {
    /// Adds a run; one that stopped by itself is a failed first connection (counted) or a
    /// problem.
    fn push(&mut self, run: Run) {
        if let End::Exited(code) = run.end {
            let last = run.notes.last().cloned().unwrap_or_default();
            if !run.connected && run.prints.is_empty() && code == Some(1) {
                self.startup_failures.push(last);
            } else {
                let i = self.runs.len();
                (self.problems).push(format!("run {i} stopped by itself ({code:?}): {last}"));
            }
        }
        self.runs.push(run);
    }

    fn connected_runs(&self) -> usize {
        self.runs.iter().filter(|r| r.connected).count()
    }
}

/// What a consumer knows of the soak.
#[derive(Clone)]
struct Soak {
    t0: Instant,
    until: Instant,
    endpoint: String,
    api_key: String,
    project: String,
    /// The final version of every label, once the writer stopped.
    finals: Arc<Mutex<Option<HashMap<String, u64>>>>,
    /// Told when a consumer's restarts are done; it then waits for `finals`.
    done: Sender<()>,
}

impl Soak {
    /// Says the restarts are done, and waits for the writer to stop.
    fn finals(&self) -> HashMap<String, u64> {
        let _ = self.done.send(());
        let mut finals = None;
        let stopped = wait_for(FINAL_PATIENCE, || {
            finals = self.finals.lock().clone();
            finals.is_some()
        });
        assert!(stopped, "the writer did not stop");
        finals.expect("the final versions")
    }
}

/// A consumer as the driver sees it: started, stopped one way or another, started again on
/// what it saved. One run at a time.
trait Consumer {
    /// Starts a run (a process, or a subscription); `Err` with the run if it stopped at once
    /// (its first connection failed).
    fn start(&mut self, soak: &Soak, rng: &mut fastrand::Rng) -> Result<(), Run>;

    /// Waits up to `within` for the run to stop by itself; returns its exit status if it did.
    fn exited_within(&mut self, within: Duration) -> Option<Option<i32>>;

    /// Whether the run's subscription is established.
    fn connected(&self) -> bool;

    /// The versions the run printed from its `from`th line on; moves `from` past them.
    fn printed_since(&self, from: &mut usize) -> Vec<(String, u64)>;

    /// Stops the run (`Killed`, `Terminated`; `Exited` if it stopped by itself) and returns
    /// it; what went wrong stopping it goes to `report`.
    fn stop(&mut self, end: End, soak: &Soak, report: &mut Report) -> Run;
}

/// Runs a consumer again and again, stopped alternately by a kill and a termination, until the
/// soak is over and it made its restarts; then once more until it printed every final version.
fn drive(soak: &Soak, consumer: &mut impl Consumer, report: &mut Report, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut kill = false;
    while Instant::now() < soak.until || report.connected_runs() <= RESTARTS {
        if let Err(run) = consumer.start(soak, &mut rng) {
            report.push(run);
            continue;
        }
        let end = match consumer.exited_within(between(&mut rng, RUN_MS)) {
            Some(code) => End::Exited(code),
            None => {
                kill = !kill;
                if kill { End::Killed } else { End::Terminated }
            }
        };
        let run = consumer.stop(end, soak, report);
        report.push(run);
    }
    let finals = soak.finals();
    let mut last: HashMap<String, u64> = (report.runs.iter().flat_map(|r| &r.prints))
        .map(|p| (p.id.clone(), p.v))
        .collect();
    // A first connection that fails is started again, as a service is.
    for _ in 0..10 {
        if let Err(run) = consumer.start(soak, &mut rng) {
            report.push(run);
            continue;
        }
        let mut seen = 0;
        let mut exited = None;
        let done = wait_for(FINAL_PATIENCE, || {
            last.extend(consumer.printed_since(&mut seen));
            exited = consumer.exited_within(Duration::ZERO);
            // Connected too: a SIGTERM before the watcher sets its handler would kill it
            // (the default action), which says nothing of the watcher.
            exited.is_some() || consumer.connected() && caught_up(&last, &finals)
        });
        if let Some(code) = exited {
            let run = consumer.stop(End::Exited(code), soak, report);
            report.push(run);
            continue;
        }
        if !done {
            (report.problems).push(format!(
                "the last run did not print every final version within {FINAL_PATIENCE:?}"
            ));
        }
        let run = consumer.stop(End::Terminated, soak, report);
        report.push(run);
        return;
    }
    report.problems.push("the last run never connected".into());
}

/// Whether every label's last print is its final version.
fn caught_up(last: &HashMap<String, u64>, finals: &HashMap<String, u64>) -> bool {
    finals.iter().all(|(id, v)| last.get(id) == Some(v))
}

/// A consumer of the soak: made on the soak's thread of its own, with a seed of its own.
type Start = Box<dyn FnOnce(&Soak, u64, &mut Report) + Send>;

/// Starts the strictest server, a proxy, the writer and the cutter; runs each consumer on a
/// thread of its own; stops the writer once they all made their restarts; checks them all.
fn soak(pad: usize, consumers: Vec<(&'static str, Start)>) {
    let _serial = serial();
    let seed = seed();
    eprintln!("soak: KILI_SOAK_SEED={seed}");
    let server = LocalServer::builder()
        .created_at_resolution(Duration::from_secs(1))
        .shuffle_label_pages(true)
        .start()
        .expect("the local server starts");
    let proxy = Arc::new(FaultProxy::start(server.addr()));
    let direct = client(&server);
    let (project, asset) = project_with_asset(&direct);
    let t0 = Instant::now();
    let writer = SoakWriter::start(direct, &project, &asset, pad, seed);
    let cutter = Cutter::start(proxy.clone(), seed.wrapping_add(1));
    let (done, restarted) = bounded(consumers.len());
    let soak = Soak {
        t0,
        until: t0 + soak_time(),
        endpoint: proxy.endpoint(),
        api_key: server.api_key().to_owned(),
        project,
        finals: Arc::new(Mutex::new(None)),
        done,
    };
    let n = consumers.len();
    let handles: Vec<_> = (consumers.into_iter().enumerate())
        .map(|(i, (name, start))| {
            let (soak, seed) = (soak.clone(), seed.wrapping_add(2 + i as u64));
            let thread = std::thread::Builder::new().name(format!("soak-{i}"));
            (thread.spawn(move || {
                let mut report = Report {
                    name: name.to_owned(),
                    ..Report::default()
                };
                start(&soak, seed, &mut report);
                report
            }))
            .expect("spawn a consumer")
        })
        .collect();
    // The writer stops when every consumer made its restarts. (One that finished before that
    // panicked: its panic is raised below.)
    let mut ready = 0;
    while ready < n && !handles.iter().any(|h| h.is_finished()) {
        ready += usize::from(restarted.recv_timeout(Duration::from_millis(200)).is_ok());
    }
    let history = writer.finish();
    let finals = (history.labels.iter()).map(|(id, l)| (id.clone(), l.last()));
    *soak.finals.lock() = Some(finals.collect());
    let reports: Vec<Report> = (handles.into_iter())
        .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
        .collect();
    let cuts = cutter.finish();
    check::assert_reports(&history, &reports, t0, cuts);
}

/// `watch_labels` as a consumer, its state in a directory of its own.
fn watcher(queue: Option<usize>, reader: Reader) -> Start {
    Box::new(move |soak, seed, report| {
        let (mut consumer, dir) = WatcherConsumer::new(queue, reader, seed);
        report.state_dir = Some(dir);
        drive(soak, &mut consumer, report, seed);
    })
}

#[test]
#[ignore = "soak: a minute or more; run by .ci/steps/reliability.sh"]
fn soak_watch_labels_killed_and_terminated_behind_a_cutting_proxy() {
    soak(0, vec![("watch_labels", watcher(None, Reader::Fast))]);
}

#[test]
#[ignore = "soak: a minute or more; run by .ci/steps/reliability.sh"]
fn soak_slow_consumers_killed_and_terminated_behind_a_cutting_proxy() {
    let callback: Start = Box::new(|soak, seed, report| {
        drive(soak, &mut CallbackConsumer::new(soak), report, seed);
    });
    soak(
        SLOW_PAD,
        vec![
            (
                "watch_labels --queue-capacity 8, slow stdout",
                watcher(Some(8), Reader::Slow),
            ),
            ("callback sleeping", callback),
        ],
    );
}
