//! Slow clients cannot hold the connection slots: a request must arrive whole within its
//! deadline however steadily it trickles in, and one address holds at most its share.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use kili_local_server::LocalServer;

use crate::support::*;

const PATH: &str = "/api/label/v2/graphql";

/// Whether the server closed `s` (EOF or reset), waiting up to `within`; returns what it sent.
fn closed_within(s: &mut TcpStream, within: Duration) -> Option<String> {
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return Some(String::from_utf8_lossy(&out).into_owned()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return Some(String::from_utf8_lossy(&out).into_owned()),
        }
    }
    None
}

#[test]
fn a_body_trickled_in_is_cut_off_at_the_request_deadline() {
    super::server_panics();
    // The request deadline defaults to four idle timeouts: 2 s here.
    let idle = Duration::from_millis(500);
    let server = LocalServer::builder().idle_timeout(idle).start().unwrap();
    let mut s = TcpStream::connect(server.addr()).unwrap();
    let body = format!(
        r#"{{"query":"{{ viewer {{ id }} }}","pad":"{}"}}"#,
        "p".repeat(200)
    );
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: X-API-Key: {}\r\n\
         Content-Length: {}\r\n\r\n",
        server.api_key(),
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let started = Instant::now();
    // A byte every 100 ms: each well within the idle timeout, the whole in 23 s.
    let mut answer = None;
    for byte in body.as_bytes() {
        if s.write_all(&[*byte]).is_err() {
            answer = Some(String::new());
            break;
        }
        if let Some(a) = closed_within(&mut s, Duration::from_millis(100)) {
            answer = Some(a);
            break;
        }
        if started.elapsed() > idle * 12 {
            break;
        }
    }
    let took = started.elapsed();
    let answer = answer.unwrap_or_else(|| panic!("still reading the body after {took:?}"));
    assert!(took < idle * 8, "{took:?}");
    if !answer.is_empty() {
        assert_eq!(status_of(&answer), 408, "{answer:.300}");
    }
    assert!(wait_until(|| server.connection_count() == 0));
}

#[test]
fn one_address_holds_at_most_its_share_of_the_connections() {
    super::server_panics();
    let server = LocalServer::builder()
        .max_connections(16)
        .max_connections_per_address(4)
        .idle_timeout(Duration::from_secs(60))
        .start()
        .unwrap();
    // One host opens every connection it can and dribbles into them.
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..16 {
        let mut s = TcpStream::connect(server.addr()).unwrap();
        let _ = s.write_all(b"POST /api/label/v2/graphql HTTP/1.1\r\nHo");
        match closed_within(&mut s, Duration::from_millis(200)) {
            Some(answer) => {
                assert_eq!(status_of(&answer), 503, "{answer:.300}");
                refused += 1;
            }
            None => held.push(s),
        }
    }
    assert_eq!((held.len(), refused), (4, 12));
    assert_eq!(
        server.connection_count(),
        4,
        "12 slots stay free for others"
    );
    drop(held);
    assert!(wait_until(|| server.connection_count() == 0));
}
