//! The local server under hostile input: malformed HTTP, pathological GraphQL documents, idle
//! and trickling connections, connection floods and unauthenticated WebSocket messages get a
//! clear refusal, never a panic or a hang. (`http.rs` and `ws.rs` cover the basic refusals one
//! by one; the fuzzing is in `fuzz.rs`; the root crate's `reliability` binary runs the kili
//! client alongside such abuse.)

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kili_local_server::LocalServer;
use serde_json::json;
use tungstenite::Message;

use crate::support::*;

mod cost;
mod durable;
mod keys;
mod memory;
mod program;
mod slow;

const PATH: &str = "/api/label/v2/graphql";
const IDLE: Duration = Duration::from_millis(300);

/// Counts panics on the local server's threads (named `kili-local-*`), for the whole binary.
pub(crate) fn server_panics() -> &'static AtomicUsize {
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

fn hostile_server() -> LocalServer {
    server_panics();
    LocalServer::builder()
        .idle_timeout(IDLE)
        .max_body_bytes(64 * 1024)
        .start()
        .unwrap()
}

fn request(head_extra: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {PATH} HTTP/1.1\r\nHost: x\r\n{head_extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A good request still gets its answer.
fn assert_serving(server: &LocalServer) {
    let (status, body) = post(
        server,
        Some(server.api_key()),
        &json!({"query": "{ viewer { email } }"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["viewer"]["email"], "user@local.kili");
}

#[test]
fn malformed_requests_are_refused_with_a_4xx_and_closed() {
    let server = hostile_server();
    let key = format!("Authorization: X-API-Key: {}\r\n", server.api_key());
    let huge_header = format!("X-Big: {}\r\n", "a".repeat(100 * 1024));
    let many_headers: String = (0..100).map(|i| format!("X-H{i}: v\r\n")).collect();
    let cases: Vec<(&str, Vec<u8>, &[u16])> = vec![
        ("no target", b"GET\r\n\r\n".to_vec(), &[400]),
        ("bad version", format!("POST {PATH} HTTP/2.0\r\n\r\n").into_bytes(), &[400, 505]),
        ("junk after version", format!("POST {PATH} HTTP/1.1 x\r\n\r\n").into_bytes(), &[400]),
        ("no method", b" / HTTP/1.1\r\n\r\n".to_vec(), &[400]),
        ("header without colon", format!("POST {PATH} HTTP/1.1\r\nNoColon\r\n\r\n").into_bytes(), &[400]),
        ("NUL in a header", format!("POST {PATH} HTTP/1.1\r\nHost: a\0b\r\n\r\n").into_bytes(), &[400]),
        ("LF only, junk", b"\n\n\n\x00\x01\x02".to_vec(), &[400]),
        ("100 KiB header", request(&huge_header, "{}"), &[400, 431]),
        ("100 headers", request(&many_headers, "{}"), &[400, 431]),
        ("negative length", format!("POST {PATH} HTTP/1.1\r\nContent-Length: -1\r\n\r\n").into_bytes(), &[400]),
        ("overflowing length", format!("POST {PATH} HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n").into_bytes(), &[400, 413]),
        ("signed length", format!("POST {PATH} HTTP/1.1\r\n{key}Content-Length: +2\r\n\r\n{{}}").into_bytes(), &[400]),
        ("conflicting lengths", format!("POST {PATH} HTTP/1.1\r\n{key}Content-Length: 2\r\nContent-Length: 40\r\n\r\n{{}}").into_bytes(), &[400]),
        ("length over the limit", format!("POST {PATH} HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n").into_bytes(), &[413]),
        ("chunked", format!("POST {PATH} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n").into_bytes(), &[411]),
        ("chunked and a length", format!("POST {PATH} HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n{{}}").into_bytes(), &[400, 411]),
        // Stops sending mid-body: answered once the idle timeout passes.
        ("truncated body", format!("POST {PATH} HTTP/1.1\r\n{key}Content-Length: 100\r\n\r\n{{\"query\"").into_bytes(), &[400, 408]),
    ];
    for (what, bytes, statuses) in cases {
        let started = Instant::now();
        let resp = raw(server.addr(), &bytes);
        let status = status_of(&resp);
        assert!(
            statuses.contains(&status),
            "{what}: got {status} in {:?}: {resp:.300}",
            started.elapsed()
        );
        assert!(resp.contains("Connection: close"), "{what}: {resp:.300}");
        assert_serving(&server);
    }
    // A good request followed by garbage on the same connection: the first is answered.
    let mut bytes = request(&key, r#"{"query":"{ viewer { id } }"}"#);
    bytes.extend_from_slice(b"\x16\x03\x01garbage\r\n\r\n");
    let resp = raw(server.addr(), &bytes);
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp:.300}");
    assert!(resp.contains("HTTP/1.1 400"), "{resp:.300}");
    assert!(wait_until(|| server.connection_count() == 0));
    assert_eq!(server_panics().load(Ordering::SeqCst), 0);
}

#[test]
fn pathological_graphql_documents_get_errors_quickly() {
    let server = hostile_server();
    let key = server.api_key().to_owned();
    let deep = 10_000;
    let nested_selections = format!("{}{}", "{ a ".repeat(deep), "}".repeat(deep));
    let nested_lists = format!(
        "{{ projects(where: {{id: {}1{}}}) {{ id }} }}",
        "[".repeat(deep),
        "]".repeat(deep)
    );
    let nested_objects = format!(
        "{{ projects(where: {}{}) {{ id }} }}",
        "{a: ".repeat(deep),
        "}".repeat(deep)
    );
    let cycle =
        "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }".to_owned();
    // Each fragment spreads the previous one twice: 2^40 fields if expanded naively.
    let mut bomb = String::from("query { ...F40 } fragment F0 on Query { viewer { id } }");
    for i in 1..=40 {
        bomb.push_str(&format!(
            " fragment F{i} on Query {{ ...F{p} ...F{p} }}",
            p = i - 1
        ));
    }
    let many_ops: String = (0..2000)
        .map(|i| format!("query q{i} {{ viewer {{ id }} }} "))
        .collect();
    let long_name = format!("{{ {} }}", "x".repeat(60 * 1024));
    let directives = format!("{{ viewer {} {{ id }} }}", "@skip(if: false) ".repeat(3000));
    for (what, query) in [
        ("nested selections", nested_selections),
        ("nested lists", nested_lists),
        ("nested objects", nested_objects),
        ("fragment cycle", cycle),
        ("fragment bomb", bomb),
        ("2000 operations", many_ops),
        ("60 KiB name", long_name),
        ("3000 directives", directives),
    ] {
        let started = Instant::now();
        let (status, body) = post(&server, Some(&key), &json!({"query": query}));
        let took = started.elapsed();
        assert!(
            status == 200 || status == 400 || status == 413,
            "{what}: {status} {body:.300}"
        );
        assert!(
            body["errors"].as_array().is_some_and(|e| !e.is_empty()),
            "{what}: no error: {body:.300}"
        );
        eprintln!("{what}: {status} in {took:?}");
    }
    // Variables nested beyond serde_json's recursion limit.
    let shallow = format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000));
    let body = format!(r#"{{"query":"{{ viewer {{ id }} }}","variables":{{"v":{shallow}}}}}"#);
    let resp = raw(
        server.addr(),
        &request(
            &format!("Authorization: X-API-Key: {key}\r\nConnection: close\r\n"),
            &body,
        ),
    );
    assert_eq!(status_of(&resp), 400, "{resp:.200}");
    assert_serving(&server);
    assert_eq!(server_panics().load(Ordering::SeqCst), 0);
}

/// Reads until the server closes or `within` passes; returns what came and whether it closed.
fn read_until_closed(s: &mut TcpStream, within: Duration) -> (String, bool) {
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&out).into_owned(), true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return (String::from_utf8_lossy(&out).into_owned(), true),
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), false)
}

#[test]
fn idle_and_trickling_connections_are_closed() {
    let server = hostile_server();
    let bound = IDLE * 10;
    // Says nothing.
    let mut silent = TcpStream::connect(server.addr()).unwrap();
    // Idles after one request on a keep-alive connection.
    let mut kept = TcpStream::connect(server.addr()).unwrap();
    kept.write_all(&request(
        &format!("Authorization: X-API-Key: {}\r\n", server.api_key()),
        r#"{"query":"{ viewer { id } }"}"#,
    ))
    .unwrap();
    let (resp, closed) = read_until_closed(&mut silent, bound);
    assert!(closed && resp.is_empty(), "silent: {closed} {resp:.200}");
    let (resp, closed) = read_until_closed(&mut kept, bound);
    assert!(
        closed && resp.starts_with("HTTP/1.1 200"),
        "kept: {closed} {resp:.200}"
    );

    // Trickles its head a byte at a time, each byte well within the idle timeout: the head as
    // a whole must still arrive within it.
    let mut slow = TcpStream::connect(server.addr()).unwrap();
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(200)
    );
    let started = Instant::now();
    let mut closed_after = None;
    for byte in head.as_bytes() {
        if slow.write_all(&[*byte]).is_err() {
            closed_after = Some(started.elapsed());
            break;
        }
        let (_, closed) = read_until_closed(&mut slow, IDLE / 3);
        if closed {
            closed_after = Some(started.elapsed());
            break;
        }
        if started.elapsed() > bound {
            break;
        }
    }
    let closed_after = closed_after.expect("a trickling head is cut off");
    assert!(closed_after < bound, "{closed_after:?}");

    // An upgraded WebSocket that never sends connection_init is an idle connection too.
    let mut ws = ws_connect(&server, "graphql-ws");
    let (frames, code) = read_close(&mut ws);
    assert!(frames.is_empty(), "{frames:?}");
    assert_eq!(code, Some(4408));
    assert!(wait_until(|| server.connection_count() == 0));
    assert_eq!(server_panics().load(Ordering::SeqCst), 0);
}

#[test]
fn a_connection_flood_is_refused_clearly_and_the_server_recovers() {
    server_panics();
    let server = LocalServer::builder()
        .max_connections(8)
        .idle_timeout(Duration::from_secs(30))
        .start()
        .unwrap();
    let held: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(server.addr()).unwrap())
        .collect();
    assert!(wait_until(|| server.connection_count() == 8));
    let flood: Vec<_> = (0..4)
        .map(|_| {
            let addr = server.addr();
            std::thread::spawn(move || {
                (0..25)
                    .map(|_| raw(addr, b"GET /api/label/v2/version HTTP/1.1\r\n\r\n"))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for f in flood {
        for resp in f.join().unwrap() {
            assert_eq!(status_of(&resp), 503, "{resp:.200}");
            assert!(resp.contains("Retry-After: 1"), "{resp:.200}");
            assert!(resp.contains("SERVER_BUSY"), "{resp:.200}");
        }
    }
    drop(held);
    assert!(wait_until(|| server.connection_count() == 0));
    assert_serving(&server);
    assert_eq!(server_panics().load(Ordering::SeqCst), 0);
}

#[test]
fn unauthenticated_websocket_messages_get_nowhere() {
    let server = hostile_server();
    let key = server.api_key().to_owned();
    let project = create_project(&server, &key, "owned");
    let assets = add_assets(&server, &key, &project, &["a", "b", "c"]);

    // graphql-ws: operations before connection_init are answered with errors, never run.
    let mut ws = ws_connect(&server, "graphql-ws");
    for i in 0..50 {
        send(
            &mut ws,
            json!({"id": format!("early-{i}"), "type": "start", "payload": {"query": SUBSCRIPTION, "variables": {"projectID": project},
                "headers": {"Authorization": format!("X-API-Key: {}", server.api_key())}}}),
        );
        let frame = next_frame(&mut ws);
        assert_eq!(frame["type"], "error", "{frame}");
    }
    ws.send(Message::binary(vec![0u8, 159, 146, 150])).unwrap();
    assert_eq!(next_frame(&mut ws)["type"], "connection_error");
    assert_eq!(server.state().subscriber_count(), 0);
    // Then a wrong key: refused and closed.
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"Authorization": "X-API-Key: guess"}}),
    );
    let (frames, code) = read_close(&mut ws);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0]["type"], "connection_error");
    assert_eq!(code, Some(4403));

    // graphql-transport-ws: a subscribe before init closes with 4401; a wrong key with 4403.
    let mut ws = ws_connect(&server, "graphql-transport-ws");
    send(
        &mut ws,
        json!({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION, "variables": {"projectID": project}}}),
    );
    assert_eq!(read_close(&mut ws).1, Some(4401));
    let mut ws = ws_connect(&server, "graphql-transport-ws");
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"headers": {"Authorization": "X-API-Key: guess"}}}),
    );
    assert_eq!(read_close(&mut ws).1, Some(4403));

    // An init payload nested beyond serde_json's limit, and a message over the size limit.
    let mut ws = ws_connect(&server, "graphql-ws");
    let deep = format!(
        r#"{{"type":"connection_init","payload":{}1{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    ws.send(Message::text(deep)).unwrap();
    assert_eq!(next_frame(&mut ws)["type"], "connection_error");
    let _ = ws.send(Message::text("x".repeat(100 * 1024)));
    let (_, code) = read_close(&mut ws);
    assert!(matches!(code, Some(1009) | None), "{code:?}");

    // Nothing reached the store, and the owner's subscription works as before: it gets the
    // owner's labels, exactly those, in order.
    let mut owner = ws_connect(&server, "graphql-ws");
    init(&mut owner, &key);
    send(
        &mut owner,
        json!({"id": "owner", "type": "start", "payload": {"query": SUBSCRIPTION, "variables": {"projectID": project}}}),
    );
    assert!(wait_until(|| server.state().subscriber_count() == 1));
    let assets: Vec<&str> = assets.iter().map(String::as_str).collect();
    let ids = add_labels(&server, &key, &assets, "INFERENCE");
    let delivered: Vec<String> = (0..ids.len())
        .map(|_| {
            let frame = next_frame(&mut owner);
            assert_eq!(frame["id"], "owner", "{frame}");
            frame["payload"]["data"]["data"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(delivered, ids);
    owner.close(None).unwrap();
    let _ = read_close(&mut owner);
    assert!(wait_until(|| server.connection_count() == 0));
    assert_eq!(server_panics().load(Ordering::SeqCst), 0);
}
