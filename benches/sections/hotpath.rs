//! Section 2, The hot path: the CPU one label event costs, on the same 20,000 label frames from
//! an in-process server, measured per thread (`/proc/self/task/*/schedstat`, nanoseconds):
//! the library's callback path (its thread, the callback included), its pull path (its thread
//! plus the reader's), and a bare tungstenite loop that parses each frame into a
//! `serde_json::Value` (the anchor), in interleaved rounds of one run.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_channel::bounded;
use kili::{Kili, StreamEvent, SubscriptionOptions};
use serde_json::Value;
use tungstenite::Message;

use super::bare_server::{BareServer, connect_bare};
use crate::support::procfs;
use crate::support::report::{Report, Verdict, median, table};

const SECTION: &str = "2. Hot path";
const PATIENCE: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Reader {
    BareParse,
    BareHandoff,
    Callback,
    Pull,
}

impl Reader {
    const ALL: [Reader; 4] = [
        Reader::BareParse,
        Reader::BareHandoff,
        Reader::Callback,
        Reader::Pull,
    ];

    fn name(self) -> &'static str {
        match self {
            Reader::BareParse => "bare tungstenite loop + serde_json::Value parse",
            Reader::BareHandoff => "the same, each Value sent to a 2nd thread (context)",
            Reader::Callback => "ours: label_created_or_updated (callback counts)",
            Reader::Pull => "ours: label_events (pull; reader counts)",
        }
    }
}

/// Runs the section: `frames` frames per run, `rounds` interleaved rounds. Each round's ratio
/// is taken against the same round's anchor (a slow spell of the machine hits both), and the
/// medians are reported.
pub fn run(report: &mut Report, frames: usize, rounds: usize) {
    println!("\n[{SECTION}] {frames} frames per run, {rounds} interleaved rounds");
    let mut ns: Vec<Vec<f64>> = vec![Vec::new(); Reader::ALL.len()];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); Reader::ALL.len()];
    let mut split: Vec<Vec<(f64, f64)>> = vec![Vec::new(); Reader::ALL.len()];
    for round in 1..=rounds {
        let mut anchor = None;
        for (i, reader) in Reader::ALL.iter().enumerate() {
            match run_once(*reader, frames) {
                Ok((cpu, parts)) => {
                    let per = cpu as f64 / frames as f64;
                    let detail = parts.map_or(String::new(), |(w, r)| {
                        let (w, r) = (w as f64 / frames as f64, r as f64 / frames as f64);
                        split[i].push((w, r));
                        format!("  (its thread {w:.0} + reader {r:.0})")
                    });
                    println!(
                        "  round {round}: {:<52} {per:>8.0} ns/event{detail}",
                        reader.name()
                    );
                    if *reader == Reader::BareParse {
                        anchor = Some(per);
                    }
                    ns[i].push(per);
                    if let Some(a) = anchor.filter(|a| *a > 0.0) {
                        ratios[i].push(per / a);
                    }
                }
                Err(e) => println!("  round {round}: {:<52} FAILED: {e}", reader.name()),
            }
        }
    }
    let med: Vec<f64> = ns.iter().map(|v| median(v)).collect();
    let ratio: Vec<f64> = ratios.iter().map(|v| median(v)).collect();
    let rows: Vec<Vec<String>> = Reader::ALL
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                r.name().to_owned(),
                format!("{:.0} ns", med[i]),
                format!("{:.2}", ratio[i]),
            ]
        })
        .collect();
    table(
        &format!("{SECTION}: CPU per event, medians of {rounds} rounds"),
        &["reader", "CPU per event", "ratio to the anchor (per round)"],
        &rows,
    );
    let pulls = &split[3];
    let worker = median(&pulls.iter().map(|s| s.0).collect::<Vec<_>>());
    let reader = median(&pulls.iter().map(|s| s.1).collect::<Vec<_>>());
    println!(
        "  pull: the subscription's thread {worker:.0} ns, the reading thread {reader:.0} ns per event"
    );
    report.info(
        SECTION,
        "bare loop + `Value` parse: CPU per event (the anchor)",
        format!("{:.0} ns", med[0]),
    );
    report.info(
        SECTION,
        "bare loop handing each `Value` to a second thread (ratio to the anchor)",
        format!("{:.0} ns ({:.2})", med[1], ratio[1]),
    );
    for (i, what) in [(2, "callback"), (3, "pull")] {
        report.add(
            SECTION,
            format!("{what}: CPU per event (ratio to the anchor)"),
            format!("{:.0} ns ({:.2})", med[i], ratio[i]),
            "≤ 1.2 × anchor",
            Verdict::of(ratio[i] <= 1.2),
        );
    }
    report.info(
        SECTION,
        "pull: CPU per event of the subscription's thread / of the reading thread",
        format!("{worker:.0} ns / {reader:.0} ns"),
    );
}

/// CPU nanoseconds the threads spent on the frames, and for the pull form its two threads'
/// shares.
fn run_once(reader: Reader, frames: usize) -> Result<(u64, Option<(u64, u64)>), String> {
    let ours = matches!(reader, Reader::Callback | Reader::Pull);
    let server = BareServer::start(frames, ours);
    match reader {
        Reader::BareParse => bare_parse(&server, frames, false).map(|(c, _)| (c, None)),
        Reader::BareHandoff => {
            bare_parse(&server, frames, true).map(|(c, r)| (c + r, Some((c, r))))
        }
        Reader::Callback => callback(&server, frames).map(|c| (c, None)),
        Reader::Pull => pull(&server, frames).map(|(w, r)| (w + r, Some((w, r)))),
    }
}

fn client(server: &BareServer) -> Kili {
    Kili::builder()
        .api_key("bench")
        .endpoint(server.endpoint())
        .proxy_from_env(false)
        .build()
        .expect("a client")
}

/// The bare loop's CPU, and with `handoff` the CPU of the thread it sends each `Value` to
/// (through a bounded channel, as our pull form does), which drops them.
fn bare_parse(server: &BareServer, frames: usize, handoff: bool) -> Result<(u64, u64), String> {
    let addr = server.addr();
    let (tx, rx) = bounded(1);
    let (values, received) = bounded::<Value>(1024);
    let values = handoff.then_some(values);
    std::thread::Builder::new()
        .name("hot-bare".into())
        .spawn(move || tx.send(bare_loop(addr, frames, values)))
        .map_err(|e| e.to_string())?;
    let consumer = std::thread::Builder::new()
        .name("hot-bare-rx".into())
        .spawn(move || {
            let mut start = None;
            while let Ok(v) = received.recv() {
                start.get_or_insert_with(procfs::own_thread_cpu_ns);
                drop(v);
            }
            start.map_or(0, |s| procfs::own_thread_cpu_ns() - s)
        })
        .map_err(|e| e.to_string())?;
    let cpu = rx.recv_timeout(PATIENCE).map_err(|e| e.to_string())??;
    let rx_cpu = consumer.join().map_err(|_| "the consumer panicked")?;
    Ok((cpu, rx_cpu))
}

/// The anchor: read every frame, parse it into a `Value` (and send it on, if `handoff`); CPU
/// of this thread for the frames.
fn bare_loop(
    addr: std::net::SocketAddr,
    frames: usize,
    handoff: Option<crossbeam_channel::Sender<Value>>,
) -> Result<u64, String> {
    let mut ws = connect_bare(&addr.to_string())?;
    loop {
        if let Message::Text(_) = ws.read().map_err(|e| e.to_string())? {
            break; // the ack
        }
    }
    let start = procfs::own_thread_cpu_ns();
    let mut seen = 0;
    let mut objects = 0usize;
    while seen < frames {
        if let Message::Text(t) = ws.read().map_err(|e| e.to_string())? {
            let v: Value = serde_json::from_str(t.as_str()).map_err(|e| e.to_string())?;
            objects += usize::from(v.is_object());
            seen += 1;
            if let Some(tx) = &handoff {
                tx.send(v).map_err(|e| e.to_string())?;
            }
        }
    }
    let cpu = procfs::own_thread_cpu_ns() - start;
    std::hint::black_box(objects);
    let _ = ws.close(None);
    Ok(cpu)
}

fn options(name: &str) -> SubscriptionOptions {
    SubscriptionOptions::new()
        .keep_alive(None)
        .thread_name(name)
}

fn callback(server: &BareServer, frames: usize) -> Result<u64, String> {
    let kili = client(server);
    let count = Arc::new(AtomicUsize::new(0));
    let (tx, done) = bounded(1);
    let c = count.clone();
    // From the first event's callback to the last's: the CPU of frames - 1 events, scaled.
    let mut start = 0;
    let sub = kili
        .labels_subscription("project")
        .options(options("hot-cb"))
        .callback(move |_event| {
            let seen = c.fetch_add(1, Ordering::Relaxed) + 1;
            if seen == 1 {
                start = procfs::own_thread_cpu_ns();
            } else if seen == frames {
                let _ = tx.send(procfs::own_thread_cpu_ns() - start);
            }
        })
        .map_err(|e| e.to_string())?;
    let cpu = done
        .recv_timeout(PATIENCE)
        .map_err(|_| format!("timed out; stats {:?}", sub.stats()))?;
    sub.close().map_err(|e| e.to_string())?;
    Ok(cpu * frames as u64 / (frames as u64 - 1).max(1))
}

fn pull(server: &BareServer, frames: usize) -> Result<(u64, u64), String> {
    let kili = client(server);
    let events = kili
        .labels_subscription("project")
        .options(options("hot-pull"))
        .stream()
        .map_err(|e| e.to_string())?;
    let worker_start = procfs::thread_cpu_ns("hot-pull").ok_or("no hot-pull thread")?;
    let (tx, rx) = bounded(1);
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("hot-reader".into())
            .spawn_scoped(s, || {
                let start = procfs::own_thread_cpu_ns();
                let mut seen = 0;
                while seen < frames {
                    match events.recv_timeout(PATIENCE) {
                        Ok(StreamEvent::Event(e)) => {
                            std::hint::black_box(&e);
                            seen += 1;
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
                // The worker's CPU now: it sent the last event, it has nothing more to do.
                let worker = procfs::thread_cpu_ns("hot-pull").unwrap_or(worker_start);
                let _ = tx.send((
                    procfs::own_thread_cpu_ns() - start,
                    worker - worker_start,
                    seen,
                ));
            })
            .map(|_| ())
            .map_err(|e| e.to_string())
    })?;
    let (reader, worker, seen) = rx.recv_timeout(PATIENCE).map_err(|e| e.to_string())?;
    if seen < frames {
        return Err(format!("{seen} of {frames} events"));
    }
    events.close().map_err(|e| e.to_string())?;
    Ok((worker, reader))
}
