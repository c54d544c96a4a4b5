//! Section 10, Catch-up: what resuming after a long gap costs. A subscription is opened and
//! closed to take a checkpoint; N labels are then appended (the gap); a new subscription resumes
//! from the checkpoint and its catch-up delivers the N labels. Reported: labels per second from
//! the resume to the last catch-up event, this process's CPU per 1,000 labels, and the growth of
//! its peak resident memory during the catch-up (the server runs in a child process).

use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use kili::{EventOrigin, SubscriptionOptions};

use crate::support::child::ChildServer;
use crate::support::procfs;
use crate::support::report::{Report, Verdict, dur, kib, rate, table};
use crate::support::setup;

const SECTION: &str = "10. Catch-up";
const PATIENCE: Duration = Duration::from_secs(300);

/// Runs the section with a gap of `labels` labels.
pub fn run(report: &mut Report, labels: usize) {
    println!("\n[{SECTION}] a resume after a gap of {labels} labels");
    let server = ChildServer::spawn(64);
    let kili = setup::client(&server.endpoint, &server.api_key);
    let (project, assets) = setup::project(&kili, "catch-up", 100);
    let sub = kili
        .label_created_or_updated(&project, |_| {})
        .expect("subscribing");
    let checkpoint = sub.checkpoint().expect("a checkpoint once established");
    let _ = sub.close();
    for chunk in 0..labels.div_ceil(10_000) {
        let n = (labels - chunk * 10_000).min(10_000);
        kili.append_labels(&setup::labels(&project, &assets, n))
            .expect("appending labels");
    }

    let (tx, rx) = bounded::<()>(1);
    let mut caught = 0usize;
    procfs::reset_peak();
    let rss_before = procfs::rss_kib();
    let cpu0 = procfs::cpu_time();
    let t0 = Instant::now();
    let options = SubscriptionOptions::new().resume_from(checkpoint);
    let sub = kili
        .labels_subscription(&project)
        .options(options)
        .callback(move |e| {
            if e.origin() == EventOrigin::CatchUp {
                caught += 1;
                if caught == labels {
                    let _ = tx.try_send(());
                }
            }
        })
        .expect("resuming");
    let done = rx.recv_timeout(PATIENCE).is_ok();
    let elapsed = t0.elapsed();
    let cpu = procfs::cpu_time().saturating_sub(cpu0);
    let peak_growth = procfs::peak_rss_kib().saturating_sub(rss_before);
    let _ = sub.close();
    if !done {
        println!("  FAILED: the catch-up did not deliver {labels} labels");
        report.add(SECTION, "catch-up", "failed", "", Verdict::Missed);
        return;
    }
    let per_sec = labels as f64 / elapsed.as_secs_f64();
    let cpu_per_k = cpu / (labels as u32 / 1000).max(1);
    table(
        &format!("{SECTION}: resume after a gap of {labels} labels"),
        &["measure", "value"],
        &[
            vec!["resume → last catch-up event".into(), dur(elapsed)],
            vec!["labels/s".into(), rate(per_sec)],
            vec!["client CPU per 1,000 labels".into(), dur(cpu_per_k)],
            vec![
                "client peak RSS growth during the catch-up".into(),
                kib(peak_growth as f64),
            ],
        ],
    );
    report.add(
        SECTION,
        format!("resume after a gap of {labels}: labels/s (client CPU per 1,000)"),
        format!("{} ({})", rate(per_sec), dur(cpu_per_k)),
        "",
        Verdict::Info,
    );
    report.add(
        SECTION,
        "client peak RSS growth during that catch-up",
        kib(peak_growth as f64),
        "bounded (≤ 16 MiB)",
        Verdict::of(peak_growth <= 16 * 1024),
    );
}
