//! Every benchmark in one process, so that ratios come from one run; prints a
//! table per section and a Markdown summary for the README (see `benches/README.md`).
//!
//! ```text
//! cargo bench --bench suite                       # everything (about 3 minutes)
//! cargo bench --bench suite -- throughput idle    # some sections
//! cargo bench --bench suite -- quick              # everything, smaller sizes (a smoke test)
//! ```
//!
//! Sections: `throughput`, `hotpath`, `backpressure`, `cli`, `latency`, `control`, `scale`,
//! `http`, `python` (with the whole read of 100,000 labels against the SDK), `catchup`,
//! `webhooks` (the receiver's CPU per event; a label's way to the receiver through the emulator).

mod sections;
mod support;

use std::time::{Duration, Instant};

use support::report::Report;

const SECTIONS: [&str; 11] = [
    "throughput",
    "hotpath",
    "backpressure",
    "cli",
    "latency",
    "control",
    "scale",
    "http",
    "python",
    "catchup",
    "webhooks",
];

fn main() {
    match support::child::role().as_deref() {
        None => {}
        Some("server") => support::child::serve(),
        Some("consumer") => sections::backpressure::consumer(),
        Some("printer") => sections::cli::printer(),
        Some(other) => {
            eprintln!("unknown bench role {other:?}");
            std::process::exit(2);
        }
    }
    let mut wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let quick = wanted.iter().any(|w| w == "quick");
    wanted.retain(|w| w != "quick");
    // Sizes divided by 10 in quick mode (figures then are for a smoke test only).
    let n = |full: usize| if quick { (full / 10).max(1) } else { full };
    for w in &wanted {
        if !SECTIONS.contains(&w.as_str()) {
            eprintln!("unknown section {w:?}; sections: {}", SECTIONS.join(", "));
            std::process::exit(2);
        }
    }
    let on = |s: &str| wanted.is_empty() || wanted.iter().any(|w| w == s);
    let started = Instant::now();
    let load_before = support::procfs::load_average();
    let mut report = Report::default();
    if on("throughput") {
        sections::throughput::run(&mut report, n(100_000), 3);
    }
    if on("hotpath") {
        // Rounds of the hot-path section: more steady the medians on a noisy machine.
        let rounds = std::env::var("KILI_BENCH_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(25);
        sections::hotpath::run(&mut report, n(20_000), rounds);
    }
    if on("backpressure") {
        sections::backpressure::run(&mut report, n(100_000));
    }
    if on("cli") {
        sections::cli::run(&mut report, n(100_000), 5);
    }
    if on("latency") {
        sections::latency::run(&mut report, n(200), n(10_000));
    }
    if on("control") {
        sections::control::run(&mut report, n(200));
    }
    if on("scale") {
        sections::scale::run(&mut report, n(10_000), Duration::from_secs(10));
    }
    if on("http") {
        sections::http::run(&mut report, n(10_000), n(100_000));
    }
    if on("python") {
        sections::python::run(&mut report, n(2000), 5, n(100_000));
    }
    if on("catchup") {
        sections::catchup::run(&mut report, n(100_000));
    }
    if on("webhooks") {
        sections::webhooks::run(&mut report, n(20_000), 5);
        sections::webhook_latency::run(&mut report, n(200), n(1000));
    }
    report.note(format!(
        "Load average (1 min) at start / end: {load_before} / {} on {} CPUs.",
        support::procfs::load_average(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    ));
    println!(
        "\n== Summary (Markdown), {:.0} s in all\n\n{}",
        started.elapsed().as_secs_f64(),
        report.markdown()
    );
}
