//! Section 4, Idle cost: many idle label subscriptions in this process, against a local server in a
//! child process (so that only the client side is measured): CPU time over an idle window and
//! resident memory per subscription.

use std::time::{Duration, Instant};

use kili::LabelEvent;

use crate::support::child::ChildServer;
use crate::support::procfs;
use crate::support::report::{Report, Verdict, dur, kib, rate, table};
use crate::support::setup;

const SECTION: &str = "4. Idle";

/// Runs the section: `subs` subscriptions idle for `window`.
pub fn run(report: &mut Report, subs: usize, window: Duration) {
    println!(
        "\n[{SECTION}] {subs} idle subscriptions for {} s",
        window.as_secs()
    );
    // Every subscription is one WebSocket; the HTTP client needs a few more.
    let server = ChildServer::spawn(subs + 64);
    let kili = setup::client(&server.endpoint, &server.api_key);
    let (project, _) = setup::project(&kili, "idle", 1);
    // One subscription first, so that what every subscription shares is in the baseline.
    drop(
        kili.label_created_or_updated(&project, |_e: &LabelEvent| {})
            .expect("subscribing"),
    );
    std::thread::sleep(Duration::from_millis(200));
    let threads_before = procfs::thread_count();
    let rss_before = procfs::rss_kib();

    let t0 = Instant::now();
    let mut handles = Vec::with_capacity(subs);
    for i in 0..subs {
        match kili.label_created_or_updated(&project, |_e: &LabelEvent| {}) {
            Ok(s) => handles.push(s),
            Err(e) => {
                println!("  subscription {i} failed: {e}");
                break;
            }
        }
    }
    let start_time = t0.elapsed();
    let started = handles.len();
    // Let the start-up settle (allocator, first keep-alives), then watch.
    std::thread::sleep(Duration::from_secs(1));
    let rss_start = procfs::rss_kib();
    let cpu0 = procfs::cpu_time();
    let w0 = Instant::now();
    std::thread::sleep(window);
    let cpu = procfs::cpu_time().saturating_sub(cpu0);
    let wall = w0.elapsed();
    let rss_end = procfs::rss_kib();
    let threads = procfs::thread_count() - threads_before;
    let active = handles.iter().filter(|h| h.state().is_active()).count();
    let server_rss = procfs::rss_kib_of(server.pid());

    let t1 = Instant::now();
    for h in &handles {
        let _ = h.close();
    }
    let close_time = t1.elapsed();
    drop(handles);

    let per_sub = (rss_end.saturating_sub(rss_before)) as f64 / started.max(1) as f64;
    let cpu_share = cpu.as_secs_f64() / wall.as_secs_f64();
    table(
        &format!(
            "{SECTION}: {started} subscriptions, idle {} s",
            window.as_secs()
        ),
        &["measure", "value"],
        &[
            vec![
                "subscriptions active at the end".into(),
                format!("{active} / {started}"),
            ],
            vec![
                "started in (sequentially)".into(),
                format!(
                    "{} ({})",
                    dur(start_time),
                    rate(started as f64 / start_time.as_secs_f64())
                ),
            ],
            vec!["threads added".into(), threads.to_string()],
            vec!["CPU time during the idle window".into(), dur(cpu)],
            vec![
                "CPU share of one core".into(),
                format!("{:.3} %", cpu_share * 100.0),
            ],
            vec!["RSS before".into(), kib(rss_before as f64)],
            vec![
                "RSS after start / after the window".into(),
                format!("{} / {}", kib(rss_start as f64), kib(rss_end as f64)),
            ],
            vec!["RSS per subscription".into(), kib(per_sub)],
            vec!["server (child) RSS".into(), kib(server_rss as f64)],
            vec!["closing them all (sequentially)".into(), dur(close_time)],
        ],
    );
    report.add(
        SECTION,
        format!(
            "CPU of {started} idle subscriptions over {} s",
            window.as_secs()
        ),
        format!("{} ({:.3} % of a core)", dur(cpu), cpu_share * 100.0),
        "near zero",
        Verdict::of(active == subs && cpu_share < 0.01),
    );
    report.add(
        SECTION,
        "resident memory per subscription",
        kib(per_sub),
        "< 256 KiB",
        Verdict::of(active == subs && per_sub < 256.0),
    );
}
