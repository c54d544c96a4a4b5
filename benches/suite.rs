//! Every benchmark of issue 6 in one process, so that ratios come from one run; prints a
//! table per section and a Markdown summary for the README (see `benches/README.md`).
//!
//! ```text
//! cargo bench --bench suite                       # everything (about 3 minutes)
//! cargo bench --bench suite -- throughput idle    # some sections
//! ```
//!
//! Sections: `throughput`, `latency`, `control`, `idle`, `http`, `python`.

mod sections;
mod support;

use std::time::{Duration, Instant};

use support::report::Report;

const SECTIONS: [&str; 6] = ["throughput", "latency", "control", "idle", "http", "python"];

fn main() {
    support::child::serve_if_child();
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for w in &wanted {
        if !SECTIONS.contains(&w.as_str()) {
            eprintln!("unknown section {w:?}; sections: {}", SECTIONS.join(", "));
            std::process::exit(2);
        }
    }
    let on = |s: &str| wanted.is_empty() || wanted.iter().any(|w| w == s);
    let started = Instant::now();
    let mut report = Report::default();
    if on("throughput") {
        sections::throughput::run(&mut report, 100_000, 3);
    }
    if on("latency") {
        sections::latency::run(&mut report, 200, 10_000);
    }
    if on("control") {
        sections::control::run(&mut report, 200);
    }
    if on("idle") {
        sections::idle::run(&mut report, 1000, Duration::from_secs(10));
    }
    if on("http") {
        sections::http::run(&mut report, 10_000, 100_000);
    }
    if on("python") {
        sections::python::run(&mut report, 2000, 5);
    }
    println!(
        "\n== Summary (Markdown), {:.0} s in all\n\n{}",
        started.elapsed().as_secs_f64(),
        report.markdown()
    );
}
