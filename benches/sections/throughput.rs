//! Section 1, Subscription throughput: N label frames written as fast as the server can, read by our
//! subscription (callback, pull form, generic callback) and by a bare tungstenite read loop,
//! in interleaved rounds of the same run.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use kili::{Kili, StreamEvent, SubscriptionOptions};
use serde_json::{Value, json};
use tungstenite::Message;

use super::bare_server::{BareServer, connect_bare};
use crate::support::procfs;
use crate::support::report::{Report, Verdict, kib, median, rate, table};

const SECTION: &str = "1. Throughput";
/// Give up on a run after this long.
const PATIENCE: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Reader {
    Bare,
    BareParse,
    Callback,
    Pull,
    Raw,
    Slow,
}

/// The work a slow callback does per event.
const SLOW_WORK: Duration = Duration::from_micros(20);

impl Reader {
    const ALL: [Reader; 6] = [
        Reader::Bare,
        Reader::BareParse,
        Reader::Callback,
        Reader::Pull,
        Reader::Raw,
        Reader::Slow,
    ];

    fn name(self) -> &'static str {
        match self {
            Reader::Bare => "bare tungstenite read loop",
            Reader::BareParse => "bare loop + serde_json parse",
            Reader::Callback => "ours: label_created_or_updated (callback)",
            Reader::Pull => "ours: label_events (pull)",
            Reader::Raw => "ours: subscribe (generic callback)",
            Reader::Slow => "ours: callback busy 20 µs per event",
        }
    }
}

/// Runs the section: `frames` frames per run, `rounds` rounds.
pub fn run(report: &mut Report, frames: usize, rounds: usize) {
    println!("\n[{SECTION}] {frames} frames per run, {rounds} interleaved rounds");
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); Reader::ALL.len()];
    let mut peaks: Vec<u64> = vec![0; Reader::ALL.len()];
    let mut frame_bytes = 0;
    for round in 1..=rounds {
        for (i, reader) in Reader::ALL.iter().enumerate() {
            match run_once(*reader, frames) {
                Ok((r, bytes, growth)) => {
                    frame_bytes = bytes;
                    println!(
                        "  round {round}: {:<44} {:>12}  peak RSS +{}",
                        reader.name(),
                        rate(r),
                        kib(growth as f64)
                    );
                    rates[i].push(r);
                    peaks[i] = peaks[i].max(growth);
                }
                Err(e) => println!("  round {round}: {:<44} FAILED: {e}", reader.name()),
            }
        }
    }
    let med: Vec<f64> = rates.iter().map(|r| median(r)).collect();
    let bare = med[0];
    let rows: Vec<Vec<String>> = Reader::ALL
        .iter()
        .zip(&med)
        .zip(&peaks)
        .map(|((r, m), peak)| {
            vec![
                r.name().to_owned(),
                rate(*m),
                format!("{:.1} MB/s", m * frame_bytes as f64 / 1e6),
                if bare > 0.0 {
                    format!("{:.2}", m / bare)
                } else {
                    "-".into()
                },
                kib(*peak as f64),
            ]
        })
        .collect();
    table(
        &format!("{SECTION}: events/s, median of {rounds} ({frame_bytes}-byte frames)"),
        &[
            "reader",
            "events/s",
            "throughput",
            "vs bare",
            "peak RSS growth",
        ],
        &rows,
    );
    let ratio = |m: f64| if bare > 0.0 { m / bare } else { 0.0 };
    report.info(SECTION, "bare tungstenite read loop", rate(bare));
    report.add(
        SECTION,
        "callback events/s (ratio to bare)",
        format!("{} ({:.2})", rate(med[2]), ratio(med[2])),
        "≥ 0.8 × bare",
        Verdict::of(ratio(med[2]) >= 0.8),
    );
    report.add(
        SECTION,
        "pull (`label_events`) events/s (ratio to bare)",
        format!("{} ({:.2})", rate(med[3]), ratio(med[3])),
        "≥ 0.8 × bare",
        Verdict::of(ratio(med[3]) >= 0.8),
    );
    // If the callback's work simply adds to each event's cost, this is the rate to expect.
    let ideal = if med[2] > 0.0 {
        1.0 / (1.0 / med[2] + SLOW_WORK.as_secs_f64())
    } else {
        0.0
    };
    let slow_ratio = if ideal > 0.0 { med[5] / ideal } else { 0.0 };
    println!(
        "  a callback busy {} µs per event: {} for an expected {} ({slow_ratio:.2} of it)",
        SLOW_WORK.as_micros(),
        rate(med[5]),
        rate(ideal)
    );
    report.add(
        SECTION,
        format!(
            "callback busy {} µs per event: events/s (ratio to 1 / (1/callback rate + {} µs))",
            SLOW_WORK.as_micros(),
            SLOW_WORK.as_micros()
        ),
        format!("{} ({slow_ratio:.2})", rate(med[5])),
        "no collapse (≥ 0.8)",
        Verdict::of(slow_ratio >= 0.8),
    );
    report.info(
        SECTION,
        "generic `subscribe` callback (ratio); bare + JSON parse (ratio)",
        format!(
            "{} ({:.2}); {} ({:.2})",
            rate(med[4]),
            ratio(med[4]),
            rate(med[1]),
            ratio(med[1])
        ),
    );
}

/// One run: events per second from the server's first write to the N-th event.
fn run_once(reader: Reader, frames: usize) -> Result<(f64, usize, u64), String> {
    let ours = !matches!(reader, Reader::Bare | Reader::BareParse);
    procfs::reset_peak();
    let rss0 = procfs::rss_kib();
    let server = BareServer::start(frames, ours);
    let end = match reader {
        Reader::Bare => bare(&server, frames, false)?,
        Reader::BareParse => bare(&server, frames, true)?,
        Reader::Callback => callback(&server, frames)?,
        Reader::Pull => pull(&server, frames)?,
        Reader::Raw => raw(&server, frames)?,
        Reader::Slow => slow(&server, frames)?,
    };
    let (start, bytes) = server
        .started(Duration::from_secs(1))
        .ok_or("the server never started writing")?;
    let secs = end.duration_since(start).as_secs_f64();
    // The server's pre-serialised frames count too, the same for every reader.
    let growth = procfs::peak_rss_kib().saturating_sub(rss0);
    Ok((frames as f64 / secs, bytes, growth))
}

fn client(server: &BareServer) -> Kili {
    Kili::builder()
        .api_key("bench")
        .endpoint(server.endpoint())
        .proxy_from_env(false)
        .build()
        .expect("a client")
}

fn options() -> SubscriptionOptions {
    // The run lasts well under the keep-alive interval; no catch-up can happen.
    SubscriptionOptions::new().keep_alive(None)
}

fn bare(server: &BareServer, frames: usize, parse: bool) -> Result<Instant, String> {
    let mut ws = connect_bare(&server.addr().to_string())?;
    // The first text frame is the ack; every later one is a data frame.
    loop {
        if let Message::Text(_) = ws.read().map_err(|e| e.to_string())? {
            break;
        }
    }
    let mut seen = 0;
    let mut parsed = 0usize;
    loop {
        if let Message::Text(t) = ws.read().map_err(|e| e.to_string())? {
            if parse {
                let v: Value = serde_json::from_str(t.as_str()).map_err(|e| e.to_string())?;
                parsed += usize::from(v.is_object());
            }
            seen += 1;
            if seen == frames {
                let end = Instant::now();
                let _ = ws.close(None);
                while ws.read().is_ok() {}
                std::hint::black_box(parsed);
                return Ok(end);
            }
        }
    }
}

/// A counter that reports the instant the N-th event arrived.
fn counter(
    frames: usize,
) -> (
    impl Fn() + Send + Sync + 'static,
    crossbeam_channel::Receiver<Instant>,
) {
    let count = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = bounded(1);
    let tick = move || {
        if count.fetch_add(1, Ordering::Relaxed) + 1 == frames {
            let _ = tx.send(Instant::now());
        }
    };
    (tick, rx)
}

fn callback(server: &BareServer, frames: usize) -> Result<Instant, String> {
    let kili = client(server);
    let (tick, done) = counter(frames);
    let sub = kili
        .labels_subscription("project")
        .options(options())
        .callback(move |_event| tick())
        .map_err(|e| e.to_string())?;
    let end = done
        .recv_timeout(PATIENCE)
        .map_err(|_| format!("timed out; stats {:?}", sub.stats()))?;
    check(sub.stats(), frames)?;
    sub.close().map_err(|e| e.to_string())?;
    Ok(end)
}

/// The callback form with a callback that works [`SLOW_WORK`] per event (a busy loop).
fn slow(server: &BareServer, frames: usize) -> Result<Instant, String> {
    let kili = client(server);
    let (tick, done) = counter(frames);
    let sub = kili
        .labels_subscription("project")
        .options(options())
        .callback(move |_event| {
            let t = Instant::now();
            while t.elapsed() < SLOW_WORK {
                std::hint::spin_loop();
            }
            tick()
        })
        .map_err(|e| e.to_string())?;
    let end = done
        .recv_timeout(PATIENCE)
        .map_err(|_| format!("timed out; stats {:?}", sub.stats()))?;
    check(sub.stats(), frames)?;
    sub.close().map_err(|e| e.to_string())?;
    Ok(end)
}

fn raw(server: &BareServer, frames: usize) -> Result<Instant, String> {
    let kili = client(server);
    let (tick, done) = counter(frames);
    let sub = kili
        .subscription(
            "subscription { data: labelCreatedOrUpdated(projectID: \"project\") { id } }",
            json!({}),
        )
        .options(options())
        .callback(move |_event| tick())
        .map_err(|e| e.to_string())?;
    let end = done
        .recv_timeout(PATIENCE)
        .map_err(|_| format!("timed out; stats {:?}", sub.stats()))?;
    sub.close().map_err(|e| e.to_string())?;
    Ok(end)
}

fn pull(server: &BareServer, frames: usize) -> Result<Instant, String> {
    let kili = client(server);
    let events = kili
        .labels_subscription("project")
        .options(options())
        .stream()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + PATIENCE;
    let mut seen = 0;
    while seen < frames {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(StreamEvent::Event(_)) => seen += 1,
            Ok(_) => {}
            Err(e) => return Err(format!("after {seen} events: {e}")),
        }
    }
    let end = Instant::now();
    check(events.handle().stats(), frames)?;
    events.close().map_err(|e| e.to_string())?;
    Ok(end)
}

fn check(stats: kili::SubscriptionStats, frames: usize) -> Result<(), String> {
    if stats.delivered as usize != frames || stats.duplicates != 0 {
        return Err(format!("expected {frames} delivered, got {stats:?}"));
    }
    Ok(())
}
