//! Section 6, Control latency: `close()` (returns with its threads gone) and `reset_timeout()`
//! (returns with a new connection acknowledged and subscribed), against a local server in a
//! child process.

use std::time::{Duration, Instant};

use crossbeam_channel::unbounded;
use kili::LabelEvent;

use crate::support::child::ChildServer;
use crate::support::procfs;
use crate::support::report::{Report, Stats, Verdict, dur, table};
use crate::support::setup;

const SECTION: &str = "6. Control";
const PATIENCE: Duration = Duration::from_secs(10);
const GOAL: Duration = Duration::from_millis(10);

/// Runs the section: `iterations` closes and as many resets.
pub fn run(report: &mut Report, iterations: usize) {
    println!("\n[{SECTION}] {iterations} close() and {iterations} reset_timeout()");
    let server = ChildServer::spawn(64);
    let kili = setup::client(&server.endpoint, &server.api_key);
    let (project, assets) = setup::project(&kili, "control", 1);
    let one = setup::labels(&project, &assets, 1);

    // close(): a fresh subscription each time (started untimed), then close.
    let mut closes = Vec::with_capacity(iterations);
    let mut leaks = 0;
    for _ in 0..iterations {
        let sub = kili
            .label_created_or_updated(&project, |_e: &LabelEvent| {})
            .expect("subscribing");
        let name = sub.thread_name().to_owned();
        let t0 = Instant::now();
        if let Err(e) = sub.close() {
            println!("  close failed: {e}");
        }
        closes.push(t0.elapsed());
        // Checked after the clock stopped: close() joined both threads. A joined thread's
        // /proc entry can outlive the join by a moment (the kernel wakes the joiner before it
        // reaps the task), so a thread counts as left over only if it is still listed 100 ms on.
        let listed = || procfs::thread_named(&name) || procfs::thread_named(&format!("{name}-rd"));
        let until = Instant::now() + std::time::Duration::from_millis(100);
        while listed() && Instant::now() < until {
            std::thread::yield_now();
        }
        if listed() {
            leaks += 1;
        }
    }

    // reset_timeout(): one subscription, reset again and again; after each, a label appended
    // over HTTP must reach the callback through the new connection.
    let (tx, rx) = unbounded::<String>();
    let sub = kili
        .label_created_or_updated(&project, move |e: &LabelEvent| {
            let _ = tx.send(e.label().id().to_owned());
        })
        .expect("subscribing");
    let mut resets = Vec::with_capacity(iterations);
    let mut reset_to_event = Vec::with_capacity(iterations);
    let mut failures = 0;
    for _ in 0..iterations {
        let t0 = Instant::now();
        if let Err(e) = sub.reset_timeout() {
            println!("  reset_timeout failed: {e}");
            failures += 1;
            continue;
        }
        resets.push(t0.elapsed());
        if !sub.state().is_active() {
            failures += 1;
        }
        let ids = kili.append_labels(&one).expect("appending");
        let delivered = loop {
            match rx.recv_timeout(PATIENCE) {
                Ok(id) if ids.contains(&id) => break true,
                Ok(_) => {}
                Err(_) => break false,
            }
        };
        if delivered {
            reset_to_event.push(t0.elapsed());
        } else {
            failures += 1;
        }
    }
    let _ = sub.close();

    let c = Stats::of(&closes);
    let r = Stats::of(&resets);
    let e = Stats::of(&reset_to_event);
    let row = |name: &str, s: &Stats| {
        vec![
            name.to_owned(),
            s.count.to_string(),
            dur(s.p50),
            dur(s.p99),
            dur(s.max),
        ]
    };
    table(
        &format!("{SECTION}: call → effect"),
        &["measure", "n", "p50", "p99", "max"],
        &[
            row("close() → returned, threads joined", &c),
            row("reset_timeout() → returned, new connection active", &r),
            row("reset_timeout() + append → label delivered", &e),
        ],
    );
    println!("  threads left after close: {leaks}; reset failures: {failures}");
    report.add(
        SECTION,
        "`close()` p50 / p99 (threads gone)",
        format!("{} / {}", dur(c.p50), dur(c.p99)),
        "p99 < 10 ms",
        Verdict::of(leaks == 0 && c.p99 < GOAL),
    );
    report.add(
        SECTION,
        "`reset_timeout()` p50 / p99 (new connection active)",
        format!("{} / {}", dur(r.p50), dur(r.p99)),
        "p99 < 10 ms",
        Verdict::of(failures == 0 && r.p99 < GOAL),
    );
}
