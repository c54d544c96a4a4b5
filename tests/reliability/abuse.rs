//! A well-behaved client running alongside abuse of the local server (garbage, oversized and
//! pathological requests, half-sent requests, an unauthenticated WebSocket talking nonsense)
//! is not disturbed: its writes, reads and subscription all work. (The local server's
//! `hostile` tests send each kind of abuse alone.)
//!
//! Holds `serial()`, like every test of this binary: its leak checks count the process's
//! threads.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::support::*;
use kili::{LabelQuery, ProjectQuery};
use kili_local_server::LocalServer;
use serde_json::json;

const PATH: &str = "/api/label/v2/graphql";

/// Counts panics on the local server's threads (named `kili-local-*`), for the whole binary.
fn server_panics() -> &'static AtomicUsize {
    static PANICS: OnceLock<&'static AtomicUsize> = OnceLock::new();
    PANICS.get_or_init(|| {
        let count: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let name = std::thread::current().name().unwrap_or("").to_owned();
            if name.starts_with("kili-local") {
                count.fetch_add(1, Ordering::SeqCst);
            }
            default(info);
        }));
        count
    })
}

fn request(head_extra: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {PATH} HTTP/1.1\r\nHost: x\r\n{head_extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Runs `abuse` in a loop on its own thread (at least once) until `stop`, counting rounds.
fn abuser(
    stop: &Arc<AtomicBool>,
    mut abuse: impl FnMut() + Send + 'static,
) -> std::thread::JoinHandle<usize> {
    let stop = stop.clone();
    std::thread::spawn(move || {
        let mut rounds = 0;
        loop {
            abuse();
            rounds += 1;
            if stop.load(Ordering::SeqCst) {
                return rounds;
            }
        }
    })
}

#[test]
fn a_well_behaved_client_is_not_disturbed_by_abuse() {
    let _serial = serial();
    let server = LocalServer::builder()
        .idle_timeout(Duration::from_millis(500))
        .max_body_bytes(256 * 1024)
        .max_connections(128)
        .start()
        .unwrap();
    server_panics();
    let addr = server.addr();
    let key = server.api_key().to_owned();
    let good = resilient_client(&key, &server.endpoint());
    let (project, asset) = project_with_asset(&good);
    let collector = Collector::default();
    let sub = good
        .label_created_or_updated(&project, collector.callback())
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let garbage = abuser(&stop, move || {
        let _ = raw(addr, b"\x00\xffGET / HTTP/1.1\r\n\r\n");
        let _ = raw(
            addr,
            format!("POST {PATH} HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n").as_bytes(),
        );
    });
    let k = key.clone();
    let heavy = abuser(&stop, move || {
        let deep = format!("{}{}", "{ a ".repeat(5_000), "}".repeat(5_000));
        let _ = raw(
            addr,
            &request(
                &format!("Authorization: X-API-Key: {k}\r\nConnection: close\r\n"),
                &json!({"query": deep}).to_string(),
            ),
        );
        let big = "y".repeat(300 * 1024);
        let _ = raw(addr, &request("Connection: close\r\n", &big));
    });
    let sockets = abuser(&stop, move || {
        // A few half-sent requests, left to the idle timeout.
        let held: Vec<_> = (0..4)
            .filter_map(|_| TcpStream::connect(addr).ok())
            .map(|mut s| {
                let _ = s.write_all(b"POST /api/label/v2/graphql HTTP/1.1\r\nHost:");
                s
            })
            .collect();
        // An unauthenticated WebSocket talking nonsense.
        if let Ok(mut s) = TcpStream::connect(addr) {
            let _ = s.write_all(b"GET /api/label/v2/graphql HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: graphql-ws\r\n\r\n");
            let _ = s.write_all(&[
                0x81,
                0x85,
                1,
                2,
                3,
                4,
                b'h' ^ 1,
                b'e' ^ 2,
                b'l' ^ 3,
                b'l' ^ 4,
                b'o' ^ 1,
            ]);
            let _ = s.shutdown(Shutdown::Write);
            let mut sink = Vec::new();
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = s.read_to_end(&mut sink);
        }
        drop(held);
    });

    // The good client meanwhile: labels through the crate's client, counts, reads.
    let writer = Writer::start(good.clone(), &project, &asset, 60, Duration::from_millis(5));
    let mut reads = 0;
    while reads < 40 {
        good.count_projects(&ProjectQuery::new())
            .expect("count during abuse");
        good.count_labels(&LabelQuery::new(&project))
            .expect("count during abuse");
        reads += 1;
    }
    let report = writer.join();
    stop.store(true, Ordering::SeqCst);
    let rounds: Vec<usize> = [garbage, heavy, sockets]
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    eprintln!("abuse rounds while the good client worked: {rounds:?}");
    assert_eq!(report.errors, 0, "the good client's writes all succeeded");
    let store: HashSet<String> = store_label_ids(&good, &project);
    assert_eq!(store.len(), 60);
    collector.assert_exactly(&store, "good subscriber");
    sub.close().unwrap();
    drop(sub);
    drop(good);
    assert!(wait_for(PATIENCE, || server.connection_count() == 0));
    assert_eq!(server_panics().load(Ordering::SeqCst), 0);
}
