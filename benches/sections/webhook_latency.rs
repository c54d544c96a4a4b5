//! Section 11, Webhooks (continued): a submitted label to a `WebhookReceiver`'s callback, through
//! the emulator in a child process (its CPU apart from ours) on loopback. First one label at a
//! time (append, wait for its callback, next): the latency from just before the append call to
//! the callback. Then a burst of labels in one `append_labels`: how long until the callback has
//! seen every one, and whether it saw each exactly once.
//!
//! The emulator delivers a webhook's events in order, one POST at a time, retrying one until it
//! is delivered before the next; so once a label appended after the burst reaches the callback,
//! every POST of the burst has been made, a second delivery included. That label is the fence
//! after which the callback's invocations are counted, rather than a wait of some length.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, unbounded};
use kili::{Kili, LabelType, NewLabels, NewWebhook, WebhookEvent, WebhookReceiver};

use crate::support::child::ChildServer;
use crate::support::report::{Report, Stats, Verdict, count, dur, rate, table};
use crate::support::setup;

const SECTION: &str = "11. Webhooks";
const SECRET: &str = "Bearer bench-latency";
const PLUGIN: &str = "bench-webhook-latency";
/// Untimed labels before the timed ones.
const WARMUP: usize = 5;
/// How long one label may take to reach the callback.
const PATIENCE: Duration = Duration::from_secs(10);
/// How long a burst may take to reach the callback in full.
const BURST_DEADLINE: Duration = Duration::from_secs(120);
/// The sanity bound on the sequential p99 (the issue sets no goal).
const P99_BOUND: Duration = Duration::from_secs(1);

/// A callback invocation: when, and for which label.
type Arrival = (Instant, String);

/// The emulator, a project with one asset, and a receiver registered and activated on it.
struct Rig {
    server: ChildServer,
    kili: Kili,
    project: String,
    asset: String,
    receiver: WebhookReceiver,
    arrivals: Receiver<Arrival>,
}

/// The sequential part.
struct Sequential {
    to_callback: Stats,
    to_return: Stats,
    /// Invocations for another label than the one awaited.
    others: usize,
}

/// The burst.
struct Burst {
    labels: usize,
    appended: Duration,
    /// From just before the append to the callback for the last of its labels, if all came.
    delivered: Option<Duration>,
    distinct: usize,
    /// Invocations beyond the first for a label of the burst.
    duplicates: usize,
    /// Invocations for labels that are not the burst's (nor the fence).
    others: usize,
}

/// Runs the section: `labels` timed one at a time, then a burst of `burst` labels.
pub fn run(report: &mut Report, labels: usize, burst: usize) {
    println!(
        "\n[{SECTION}] label submitted → receiver callback through the emulator: {labels} one \
         at a time ({WARMUP} warm-up), then {burst} in one append_labels"
    );
    let rig = Rig::start();
    let seq = sequential(&rig, labels);
    let burst = rig.burst(burst);
    rig.stop();
    print_tables(&seq, &burst);
    add_rows(report, &seq, &burst, labels);
}

impl Rig {
    fn start() -> Rig {
        let server = ChildServer::spawn(64);
        let kili = setup::client(&server.endpoint, &server.api_key);
        let (project, mut assets) = setup::project(&kili, "webhook latency", 1);
        let (tx, arrivals) = unbounded::<Arrival>();
        let receiver = WebhookReceiver::builder("127.0.0.1:0", SECRET)
            .path("/kili-webhook")
            .callback(move |e: &WebhookEvent| {
                let at = Instant::now();
                let id = e.label().map(|l| l.id().to_owned()).unwrap_or_default();
                let _ = tx.send((at, id));
                Ok::<(), std::io::Error>(())
            })
            .expect("a receiver");
        kili.create_webhook(&NewWebhook::new(PLUGIN, receiver.url()).header(SECRET))
            .expect("registering the webhook");
        kili.activate_plugin_on_project(PLUGIN, &project)
            .expect("activating the webhook");
        Rig {
            server,
            kili,
            project,
            asset: assets.remove(0),
            receiver,
            arrivals,
        }
    }

    /// `n` DEFAULT labels (each an `onSubmit` event) on the asset.
    fn labels(&self, n: usize) -> NewLabels {
        let assets = std::iter::repeat_n(self.asset.as_str(), n);
        NewLabels::for_assets(&self.project, assets, (0..n).map(|_| setup::response()))
            .label_type(LabelType::Default)
    }

    /// Appends one label; returns its id.
    fn submit(&self) -> kili::Result<String> {
        Ok(self.kili.append_labels(&self.labels(1))?.remove(0))
    }

    /// Waits until `deadline` for the callback on `label`; counts the others it sees in `seen`.
    fn wait_for(
        &self,
        label: &str,
        deadline: Instant,
        seen: &mut HashMap<String, usize>,
    ) -> Option<Instant> {
        loop {
            let (at, id) = self.arrivals.recv_deadline(deadline).ok()?;
            if id == label {
                return Some(at);
            }
            *seen.entry(id).or_default() += 1;
        }
    }

    fn stop(self) {
        let _ = self
            .kili
            .deactivate_plugin_on_project(PLUGIN, &self.project);
        let _ = self.kili.delete_plugin(PLUGIN);
        let _ = self.receiver.close();
        drop(self.server);
    }
}

/// Appends `labels` one at a time, each awaited at the callback before the next.
fn sequential(rig: &Rig, labels: usize) -> Sequential {
    let (mut to_callback, mut to_return) = (Vec::new(), Vec::new());
    let mut others = HashMap::new();
    for i in 0..WARMUP + labels {
        let t0 = Instant::now();
        let id = match rig.submit() {
            Ok(id) => id,
            Err(e) => {
                println!("  append {i} failed: {e}");
                break;
            }
        };
        let returned = t0.elapsed();
        let Some(at) = rig.wait_for(&id, Instant::now() + PATIENCE, &mut others) else {
            let stats = rig.receiver.stats();
            println!("  label {i} never reached the callback (receiver {stats:?})");
            break;
        };
        if i >= WARMUP {
            to_callback.push(at.duration_since(t0));
            to_return.push(returned);
        }
    }
    Sequential {
        to_callback: Stats::of(&to_callback),
        to_return: Stats::of(&to_return),
        others: others.values().sum(),
    }
}

impl Rig {
    /// Appends `n` labels in one call, waits for each at the callback, then for a fence label.
    fn burst(&self, n: usize) -> Burst {
        let t0 = Instant::now();
        let sent: HashSet<String> = self
            .kili
            .append_labels(&self.labels(n))
            .expect("appending the burst")
            .into_iter()
            .collect();
        let appended = t0.elapsed();
        let deadline = t0 + BURST_DEADLINE;
        let mut calls: HashMap<String, usize> = HashMap::new();
        let (mut distinct, mut last) = (0, t0);
        while distinct < sent.len() {
            let Ok((at, id)) = self.arrivals.recv_deadline(deadline) else {
                println!(
                    "  {distinct} of {n} labels reached the callback in {BURST_DEADLINE:?} \
                     (receiver {:?})",
                    self.receiver.stats()
                );
                break;
            };
            if sent.contains(&id) && !calls.contains_key(&id) {
                (distinct, last) = (distinct + 1, at);
            }
            *calls.entry(id).or_default() += 1;
        }
        let delivered = (distinct == sent.len()).then(|| last - t0);
        let fence = self.submit().expect("appending the fence label");
        if self
            .wait_for(&fence, Instant::now() + PATIENCE, &mut calls)
            .is_none()
        {
            println!("  the fence label never reached the callback: later duplicates unseen");
        }
        let mine = |id: &String| sent.contains(id);
        Burst {
            labels: n,
            appended,
            delivered,
            distinct: calls.keys().filter(|id| mine(id)).count(),
            duplicates: calls
                .iter()
                .filter(|(id, _)| mine(id))
                .map(|(_, c)| c - 1)
                .sum(),
            others: calls
                .iter()
                .filter(|(id, _)| !mine(id))
                .map(|(_, c)| c)
                .sum(),
        }
    }
}

fn print_tables(seq: &Sequential, burst: &Burst) {
    let row = |name: &str, s: &Stats| {
        let cells = [s.p50, s.p99, s.max, s.mean].map(dur);
        let mut row = vec![name.to_owned(), s.count.to_string()];
        row.extend(cells);
        row
    };
    table(
        &format!("{SECTION}: label submitted → receiver callback (sequential, loopback)"),
        &["measure", "n", "p50", "p99", "max", "mean"],
        &[
            row("append call → callback invoked", &seq.to_callback),
            row("append call → append returned", &seq.to_return),
        ],
    );
    let delivered = burst.delivered.map_or("not all".to_owned(), dur);
    let per_sec = burst.delivered.map_or("-".to_owned(), |d| {
        rate(burst.labels as f64 / d.as_secs_f64())
    });
    table(
        &format!("{SECTION}: a burst of labels in one append_labels"),
        &[
            "labels",
            "appended",
            "all at callback",
            "events",
            "distinct",
            "dupl.",
            "others",
        ],
        &[vec![
            count(burst.labels as f64),
            dur(burst.appended),
            delivered,
            per_sec,
            count(burst.distinct as f64),
            burst.duplicates.to_string(),
            burst.others.to_string(),
        ]],
    );
}

fn add_rows(report: &mut Report, seq: &Sequential, burst: &Burst, labels: usize) {
    let cb = &seq.to_callback;
    report.add(
        SECTION,
        format!(
            "label submitted → receiver callback via emulator, {labels} sequential: p50 / p99 / max"
        ),
        format!("{} / {} / {}", dur(cb.p50), dur(cb.p99), dur(cb.max)),
        "p99 < 1 s (sanity bound; the issue sets none)",
        Verdict::of(cb.count == labels && seq.others == 0 && cb.p99 < P99_BOUND),
    );
    report.info(
        SECTION,
        "of which the append call alone: p50 / p99",
        format!("{} / {}", dur(seq.to_return.p50), dur(seq.to_return.p99)),
    );
    let n = count(burst.labels as f64);
    let ok = burst.delivered.is_some()
        && burst.distinct == burst.labels
        && burst.duplicates == 0
        && burst.others == 0;
    report.add(
        SECTION,
        format!("burst of {n} labels: distinct labels at the callback / duplicates"),
        format!("{} / {}", count(burst.distinct as f64), burst.duplicates),
        format!("{n} / 0"),
        Verdict::of(ok),
    );
    if let Some(d) = burst.delivered {
        report.info(
            SECTION,
            format!("burst of {n} labels: append → all at the callback (events/s)"),
            format!(
                "{} ({})",
                dur(d),
                rate(burst.labels as f64 / d.as_secs_f64())
            ),
        );
    }
}
