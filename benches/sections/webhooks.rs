//! Section 11, Webhooks: the receiver's CPU per event against a bare loop on the same HTTP
//! crate (`http-net`) that parses each body into a `serde_json::Value` and answers 200, under
//! the same load (keep-alive connections POSTing realistic webhook bodies), in the same run.
//! The receiver's CPU is the process's minus the load generator's own threads'.
//! A label's way from `append_labels` to the receiver, through the emulator: `webhook_latency`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use kili::{WebhookEvent, WebhookReceiver};
use serde_json::json;

use crate::support::procfs;
use crate::support::report::{Report, Verdict, dur, median, table};

const SECTION: &str = "11. Webhooks";
const SECRET: &str = "Bearer bench";
/// Connections the load generator keeps open, each sending one request at a time.
const CLIENTS: usize = 4;

/// Runs the section: `events` POSTs to each server, `rounds` times.
pub fn run(report: &mut Report, events: usize, rounds: usize) {
    println!("\n[{SECTION}] {events} webhook POSTs over {CLIENTS} connections, {rounds} rounds");
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        bare.push(cpu_per_event(events, round, Server::Bare));
        ours.push(cpu_per_event(events, round, Server::Ours));
    }
    let (ours, bare) = (median(&ours), median(&bare));
    let ratio = ours / bare;
    table(
        "CPU per event (median of rounds)",
        &["server", "CPU per event"],
        &[
            vec![
                "bare http-net + Value".into(),
                dur(Duration::from_secs_f64(bare)),
            ],
            vec![
                "WebhookReceiver (callback)".into(),
                dur(Duration::from_secs_f64(ours)),
            ],
        ],
    );
    report.info(
        SECTION,
        "bare http-net + Value: CPU per event",
        dur(Duration::from_secs_f64(bare)),
    );
    report.add(
        SECTION,
        "receiver CPU per event / bare (ratio)",
        format!("{} ({ratio:.2})", dur(Duration::from_secs_f64(ours))),
        "≤ 1.2",
        Verdict::of(ratio <= 1.2),
    );
}

#[derive(Clone, Copy)]
enum Server {
    Bare,
    Ours,
}

/// Serves `events` POSTs with `server`; returns its CPU seconds per event.
fn cpu_per_event(events: usize, round: usize, server: Server) -> f64 {
    let (addr, stop): (SocketAddr, Box<dyn FnOnce()>) = match server {
        Server::Bare => {
            let s = http_net::blocking::Server::bind("127.0.0.1:0").expect("bind");
            let addr = s.local_addr();
            let handle = s.shutdown_handle();
            let t = std::thread::spawn(move || {
                s.serve(
                    |_head, body| match serde_json::from_slice::<serde_json::Value>(body) {
                        Ok(v) if v.is_object() => http_net::Response::text(200, "handled"),
                        _ => http_net::Response::text(400, "bad"),
                    },
                )
            });
            (
                addr,
                Box::new(move || {
                    handle.shutdown();
                    let _ = t.join();
                }),
            )
        }
        Server::Ours => {
            let r = WebhookReceiver::builder("127.0.0.1:0", SECRET)
                .callback(|e: &WebhookEvent| {
                    std::hint::black_box(e.label().map(|l| l.id().len()));
                    Ok::<(), std::io::Error>(())
                })
                .expect("a receiver");
            (r.local_addr(), Box::new(move || drop(r.close())))
        }
    };
    let cpu0 = procfs::cpu_time();
    let loads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let n = events / CLIENTS;
            std::thread::Builder::new()
                .name(format!("load-{c}"))
                .spawn(move || load(addr, n, round * CLIENTS + c))
                .expect("a load thread")
        })
        .collect();
    let load_cpu: Duration = loads.into_iter().map(|t| t.join().expect("load")).sum();
    let server_cpu = procfs::cpu_time()
        .saturating_sub(cpu0)
        .saturating_sub(load_cpu);
    stop();
    server_cpu.as_secs_f64() / events as f64
}

/// POSTs `n` distinct events over one keep-alive connection; returns its own CPU time.
fn load(addr: SocketAddr, n: usize, id: usize) -> Duration {
    let cpu0 = procfs::thread_cpu_time();
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).ok();
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    let started = Instant::now();
    for i in 0..n {
        let body = json!({
            "eventType": "onSubmit",
            "logPayload": {"runId": format!("run-{id}-{i}"), "projectId": "bench-project"},
            "payload": {
                "label": {"id": format!("label-{id}-{i}"), "labelType": "DEFAULT", "version": 0,
                    "authorId": "user", "createdAt": "2026-12-07T00:00:00.000Z",
                    "jsonResponse": {"JOB_0": {"annotations": [
                        {"boundingPoly": [{"normalizedVertices": [{"x": 0.1, "y": 0.2}, {"x": 0.3, "y": 0.2}, {"x": 0.3, "y": 0.4}, {"x": 0.1, "y": 0.4}]}],
                         "categories": [{"name": "OBJECT_A"}], "mid": format!("mid-{i}"), "type": "rectangle"}]}},
                    "search": {"numberOfAnnotationsByObject": {"JOB_0.OBJECT_A": 1}}},
                "asset_id": "asset"
            }
        })
        .to_string();
        let head = format!(
            "POST / HTTP/1.1\r\nHost: bench\r\nAuthorization: {SECRET}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        writer.write_all(head.as_bytes()).expect("write");
        writer.write_all(body.as_bytes()).expect("write");
        read_response(&mut reader);
    }
    let _ = started;
    procfs::thread_cpu_time().saturating_sub(cpu0)
}

/// Reads one response (status line, headers, a Content-Length body); panics unless 200.
fn read_response(r: &mut BufReader<TcpStream>) {
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    assert!(
        line.starts_with("HTTP/1.1 200"),
        "the server answered {line:?}"
    );
    let mut length = 0usize;
    loop {
        line.clear();
        r.read_line(&mut line).expect("header");
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    r.read_exact(&mut body).expect("body");
}
