//! What a request may cost the server's memory: in proportion to what it sent, and nothing at
//! all before its sender is known. Measured on the program in a child process (its peak RSS).

use std::io::{Read, Write};
use std::net::TcpStream;

use tungstenite::Message;

use super::program::Program;
use crate::support::*;

const PATH: &str = "/api/label/v2/graphql";
/// What the attacks may grow the server's peak RSS by.
const BUDGET_KIB: u64 = 48 * 1024;

/// A gzip body that decompresses to `[0,0,...,0]` of about `decoded` bytes.
fn zeros_bomb(decoded: usize) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(b"[").unwrap();
    let chunk = "0,".repeat(64 * 1024);
    let mut written = 1;
    while written + chunk.len() < decoded {
        enc.write_all(chunk.as_bytes()).unwrap();
        written += chunk.len();
    }
    enc.write_all(b"0]").unwrap();
    enc.finish().unwrap()
}

/// POSTs `body` gzip-encoded on a new connection, with `key` if given; returns the answer.
fn post_gzip(addr: std::net::SocketAddr, key: Option<&str>, body: &[u8]) -> String {
    let auth = key.map_or(String::new(), |k| {
        format!("Authorization: X-API-Key: {k}\r\n")
    });
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nHost: x\r\n{auth}Content-Encoding: gzip\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn unauthenticated_gzip_bodies_cost_no_memory() {
    let server = Program::start(&["--port", "0"], None);
    let bomb = zeros_bomb(31 * 1024 * 1024);
    assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
    let before = server.peak_kib();
    let addr = server.addr();
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let bomb = bomb.clone();
            std::thread::spawn(move || (0..2).map(|_| post_gzip(addr, None, &bomb)).collect())
        })
        .collect();
    for c in clients {
        let answers: Vec<String> = c.join().unwrap();
        for a in answers {
            assert_eq!(status_of(&a), 401, "{a:.300}");
        }
    }
    let growth = server.peak_kib().saturating_sub(before);
    eprintln!("peak RSS growth after 4 unauthenticated gzip bodies: {growth} KiB");
    assert!(growth < BUDGET_KIB, "{growth} KiB");
}

#[test]
fn authenticated_bodies_are_bounded_before_they_are_parsed() {
    let server = Program::start(&["--port", "0"], None);
    let before = server.peak_kib();
    // A decompression bomb: refused once it passes 64 times its size.
    let answer = post_gzip(
        server.addr(),
        Some(&server.key),
        &zeros_bomb(31 * 1024 * 1024),
    );
    assert_eq!(status_of(&answer), 413, "{answer:.300}");
    // Plain JSON that would cost 16 times its size parsed: refused before parsing.
    let zeros = format!("[{}0]", "0,".repeat(4 * 1024 * 1024));
    let resp = raw(
        server.addr(),
        format!(
            "POST {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: X-API-Key: {}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{zeros}",
            server.key,
            zeros.len()
        )
        .as_bytes(),
    );
    assert_eq!(status_of(&resp), 400, "{resp:.300}");
    assert!(
        resp.contains("items") || resp.contains("values"),
        "{resp:.300}"
    );
    let growth = server.peak_kib().saturating_sub(before);
    eprintln!("peak RSS growth after a bomb and 8 MiB of zeros: {growth} KiB");
    assert!(growth < BUDGET_KIB, "{growth} KiB");
}

#[test]
fn unauthenticated_websocket_messages_cost_no_memory() {
    let server = Program::start(&["--port", "0"], None);
    let before = server.peak_kib();
    let mut req = tungstenite::client::IntoClientRequest::into_client_request(format!(
        "ws://{}{PATH}",
        server.addr()
    ))
    .unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-ws".parse().unwrap());
    let tcp = TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    let (mut ws, _) = tungstenite::client(req, tcp).expect("handshake");
    // 24 MiB of zeros before connection_init: never read whole, never parsed.
    let zeros = format!("[{}0]", "0,".repeat(12 * 1024 * 1024));
    let _ = ws.send(Message::text(zeros));
    let mut closed = None;
    loop {
        match ws.read() {
            Ok(Message::Close(frame)) => {
                closed = frame.map(|f| u16::from(f.code));
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    assert!(matches!(closed, Some(1009) | None), "{closed:?}");
    let growth = server.peak_kib().saturating_sub(before);
    eprintln!("peak RSS growth after a 24 MiB frame before connection_init: {growth} KiB");
    assert!(growth < BUDGET_KIB, "{growth} KiB");
}
