//! Section 3, Backpressure: a burst of labels appended as fast as the server takes them, read
//! through the pull form by a consumer that sleeps 1 ms per event. The consumer runs in a
//! process of its own (`KILI_BENCH_ROLE=consumer`), so that its peak resident memory is the
//! subscription's alone; the server runs in another child, and this process appends.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use kili::{StreamEvent, SubscriptionOptions};

use crate::support::child::{ChildServer, spawn_role};
use crate::support::procfs;
use crate::support::report::{Report, Verdict, dur, kib, table};
use crate::support::setup;

const SECTION: &str = "3. Backpressure";
/// Labels per `append_labels` call.
const BATCH: usize = 1000;
/// What the consumer does per event.
const SLEEP: Duration = Duration::from_millis(1);
/// The goal for the consumer's peak resident memory.
const PEAK_GOAL_KIB: u64 = 64 * 1024;

/// Runs the section with a burst of `labels`.
pub fn run(report: &mut Report, labels: usize) {
    println!(
        "\n[{SECTION}] {labels} labels in a burst, a consumer sleeping {} ms per event",
        SLEEP.as_millis()
    );
    match measure(labels) {
        Ok(m) => m.report(report, labels),
        Err(e) => {
            println!("  FAILED: {e}");
            report.add(
                SECTION,
                "burst run",
                format!("failed: {e}"),
                "",
                Verdict::Missed,
            );
        }
    }
}

struct Measured {
    appended_in: Duration,
    delivered: usize,
    baseline_kib: u64,
    peak_kib: u64,
    blocked: Duration,
    consumed_in: Duration,
}

impl Measured {
    fn report(&self, report: &mut Report, labels: usize) {
        table(
            &format!("{SECTION}: {labels} labels, 1 ms per event"),
            &["measure", "value"],
            &[
                vec!["appended in".into(), dur(self.appended_in)],
                vec!["delivered".into(), format!("{} / {labels}", self.delivered)],
                vec!["consumed in".into(), dur(self.consumed_in)],
                vec![
                    "consumer RSS once subscribed / peak".into(),
                    format!(
                        "{} / {}",
                        kib(self.baseline_kib as f64),
                        kib(self.peak_kib as f64)
                    ),
                ],
                vec![
                    "subscription thread blocked on the full queue".into(),
                    dur(self.blocked),
                ],
            ],
        );
        report.add(
            SECTION,
            format!("{labels}-label burst, consumer sleeping 1 ms per event: delivered"),
            format!("{} / {labels}", self.delivered),
            "all",
            Verdict::of(self.delivered == labels),
        );
        report.add(
            SECTION,
            "the consumer process's peak RSS",
            kib(self.peak_kib as f64),
            "≤ 64 MiB",
            Verdict::of(self.peak_kib <= PEAK_GOAL_KIB),
        );
        report.info(
            SECTION,
            "time the subscription's thread waited for room (it stopped reading meanwhile)",
            format!("{} of {}", dur(self.blocked), dur(self.consumed_in)),
        );
    }
}

fn measure(labels: usize) -> Result<Measured, String> {
    let server = ChildServer::spawn(64);
    let kili = setup::client(&server.endpoint, &server.api_key);
    let (project, assets) = setup::project(&kili, "backpressure", 100);
    let env = [
        ("KILI_BENCH_ENDPOINT", server.endpoint.clone()),
        ("KILI_BENCH_API_KEY", server.api_key.clone()),
        ("KILI_BENCH_PROJECT", project.clone()),
        ("KILI_BENCH_EVENTS", labels.to_string()),
    ];
    let mut child = spawn_role("consumer", &env, Stdio::piped()).map_err(|e| e.to_string())?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (lines_tx, lines) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let ready = lines
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| "the consumer did not subscribe")?;
    if ready != "ready" {
        return Err(format!("the consumer said {ready:?}"));
    }
    let t0 = Instant::now();
    for chunk in (0..labels).collect::<Vec<_>>().chunks(BATCH) {
        let batch = setup::labels(&project, &assets, chunk.len());
        kili.append_labels(&batch).map_err(|e| e.to_string())?;
    }
    let appended_in = t0.elapsed();
    // Events arrive at most 1,000 a second; leave room for a slow machine.
    let patience = SLEEP * (2 * labels as u32) + Duration::from_secs(60);
    let result = lines
        .recv_timeout(patience)
        .map_err(|_| "the consumer did not finish in time")?;
    if let Some(stdin) = child.stdin.as_mut() {
        let _ = stdin.write_all(b"\n");
    }
    let _ = child.wait();
    let field = |name: &str| -> Result<u64, String> {
        result
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("no {name} in {result:?}"))
    };
    Ok(Measured {
        appended_in,
        delivered: field("delivered")? as usize,
        baseline_kib: field("baseline_kib")?,
        peak_kib: field("peak_kib")?,
        blocked: Duration::from_millis(field("blocked_ms")?),
        consumed_in: Duration::from_millis(field("elapsed_ms")?),
    })
}

/// The `consumer` role: subscribes, says `ready`, reads the events sleeping 1 ms each, and
/// prints what it measured on one line.
pub fn consumer() -> ! {
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let kili = setup::client(&env("KILI_BENCH_ENDPOINT"), &env("KILI_BENCH_API_KEY"));
    let expected: usize = env("KILI_BENCH_EVENTS").parse().unwrap_or(0);
    let events = match kili
        .labels_subscription(&env("KILI_BENCH_PROJECT"))
        .options(SubscriptionOptions::new().thread_name("burst-sub"))
        .stream()
    {
        Ok(events) => events,
        Err(e) => {
            println!("subscribing failed: {e}");
            std::process::exit(1);
        }
    };
    let baseline = procfs::rss_kib();
    println!("ready");
    let mut delivered = 0;
    let mut started = None;
    while delivered < expected {
        match events.recv_timeout(Duration::from_secs(30)) {
            Ok(StreamEvent::Event(_)) => {
                started.get_or_insert_with(Instant::now);
                delivered += 1;
                std::thread::sleep(SLEEP);
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let elapsed = started.map_or(Duration::ZERO, |t| t.elapsed());
    let stats = events.handle().stats();
    println!(
        "delivered={delivered} baseline_kib={baseline} peak_kib={} blocked_ms={} elapsed_ms={}",
        procfs::peak_rss_kib(),
        stats.blocked.as_millis(),
        elapsed.as_millis()
    );
    let _ = events.close();
    std::process::exit(0);
}
