//! Section 5, End-to-end latency: a label appended over HTTP (`append_labels`) to the subscription's
//! callback, one at a time (append, wait for the callback, next), against a local server in a
//! child process.

use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, unbounded};
use kili::{Kili, LabelEvent, SubscriptionOptions};

use super::bare_server::{BareServer, Mode};

use crate::support::child::ChildServer;
use crate::support::report::{Report, Stats, Verdict, dur, table};
use crate::support::setup;

const SECTION: &str = "5. Latency";
const PATIENCE: Duration = Duration::from_secs(10);

/// Runs the section: `warmup` untimed events, then `events` timed ones.
pub fn run(report: &mut Report, warmup: usize, events: usize) {
    println!("\n[{SECTION}] {events} labels, each appended then awaited ({warmup} warm-up)");
    let server = ChildServer::spawn(64);
    let kili = setup::client(&server.endpoint, &server.api_key);
    let (project, assets) = setup::project(&kili, "latency", 1);
    let (tx, rx) = unbounded::<(Instant, String)>();
    let sub = kili
        .label_created_or_updated(&project, move |e: &LabelEvent| {
            let _ = tx.send((Instant::now(), e.label().id().to_owned()));
        })
        .expect("subscribing");

    let mut to_callback = Vec::with_capacity(events);
    let mut to_return = Vec::with_capacity(events);
    let one = setup::labels(&project, &assets, 1);
    for i in 0..warmup + events {
        let t0 = Instant::now();
        let ids = match kili.append_labels(&one) {
            Ok(ids) => ids,
            Err(e) => {
                println!("  append {i} failed: {e}");
                break;
            }
        };
        let returned = t0.elapsed();
        let arrived = loop {
            match rx.recv_timeout(PATIENCE) {
                Ok((at, id)) if ids.contains(&id) => break Some(at),
                Ok(_) => {}
                Err(_) => break None,
            }
        };
        let Some(at) = arrived else {
            println!(
                "  label {i} never reached the callback (stats {:?})",
                sub.stats()
            );
            break;
        };
        if i >= warmup {
            to_callback.push(at.duration_since(t0));
            to_return.push(returned);
        }
    }
    let _ = sub.close();
    drop(server);
    let ws = ws_path(warmup, events);
    let cb = Stats::of(&to_callback);
    let http = Stats::of(&to_return);
    let row = |name: &str, s: &Stats| {
        vec![
            name.to_owned(),
            s.count.to_string(),
            dur(s.p50),
            dur(s.p99),
            dur(s.max),
            dur(s.mean),
        ]
    };
    table(
        &format!("{SECTION}: append_labels → callback (sequential)"),
        &["measure", "n", "p50", "p99", "max", "mean"],
        &[
            row("append call → callback invoked", &cb),
            row("append call → append returned (HTTP only)", &http),
            row("WebSocket only: frame written → callback", &ws),
        ],
    );
    let complete = cb.count == events;
    report.add(
        SECTION,
        format!(
            "append_labels → callback, {} events: p50 / p99 / max",
            cb.count
        ),
        format!("{} / {} / {}", dur(cb.p50), dur(cb.p99), dur(cb.max)),
        "p99 < 2 ms",
        Verdict::of(complete && cb.p99 < Duration::from_millis(2)),
    );
    report.info(
        SECTION,
        "of which the HTTP append alone: p50 / p99",
        format!("{} / {}", dur(http.p50), dur(http.p99)),
    );
    report.info(
        SECTION,
        "WebSocket path alone (bare server frame → callback): p50 / p99 / max",
        format!("{} / {} / {}", dur(ws.p50), dur(ws.p99), dur(ws.max)),
    );
}

/// The subscription's own share: a frame written by a bare server in this process to the
/// callback, one at a time.
fn ws_path(warmup: usize, events: usize) -> Stats {
    let (go_tx, go) = bounded(1);
    let (sent, sent_rx) = unbounded();
    let server = BareServer::with_mode(warmup + events, true, Mode::Paced { go, sent });
    let kili = Kili::builder()
        .api_key("bench")
        .endpoint(server.endpoint())
        .proxy_from_env(false)
        .build()
        .expect("a client");
    let (tx, rx) = unbounded::<Instant>();
    let sub = kili
        .labels_subscription("project")
        .options(SubscriptionOptions::new().keep_alive(None))
        .callback(move |_e: &LabelEvent| {
            let _ = tx.send(Instant::now());
        })
        .expect("subscribing");
    let mut samples = Vec::with_capacity(events);
    for i in 0..warmup + events {
        if go_tx.send(()).is_err() {
            break;
        }
        let (Ok(written), Ok(called)) = (sent_rx.recv_timeout(PATIENCE), rx.recv_timeout(PATIENCE))
        else {
            println!("  frame {i} never reached the callback");
            break;
        };
        if i >= warmup {
            samples.push(called.duration_since(written));
        }
    }
    drop(go_tx);
    let _ = sub.close();
    Stats::of(&samples)
}
