//! Property tests for the local server: arbitrary bytes, mangled requests, arbitrary GraphQL
//! documents and arbitrary WebSocket messages get an answer (or a close), never a panic or a
//! hang, and the server keeps serving.
//!
//! Case counts are small by default; `PROPTEST_CASES=N` raises them (`.ci/steps/reliability.sh`).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::support::*;
use kili_local_server::LocalServer;
use proptest::prelude::*;
use serde_json::json;
use tungstenite::Message;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn server() -> &'static LocalServer {
    static SERVER: OnceLock<LocalServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        LocalServer::builder()
            .api_key("fuzz-key")
            .idle_timeout(Duration::from_millis(500))
            .max_body_bytes(16 * 1024)
            .start()
            .unwrap()
    })
}

/// Sends `bytes`, half-closes, and reads the answer: the server must answer or close well
/// within the bound (it has seen the end of the request).
fn exchange(bytes: &[u8]) -> Result<String, TestCaseError> {
    let mut s = TcpStream::connect(server().addr()).unwrap();
    let _ = s.write_all(bytes);
    let _ = s.shutdown(Shutdown::Write);
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    let mut out = Vec::new();
    match s.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            return Err(TestCaseError::fail(format!(
                "no answer and no close after {:?}",
                started.elapsed()
            )));
        }
        Err(_) => {} // a reset after the answer is fine
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn assert_no_5xx(resp: &str) -> Result<(), TestCaseError> {
    if resp.is_empty() {
        return Ok(());
    }
    prop_assert!(resp.starts_with("HTTP/1.1 "), "not HTTP: {resp:.200}");
    for status in resp
        .match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| resp.get(i + 9..i + 12))
    {
        prop_assert!(!status.starts_with('5'), "{status}: {resp:.300}");
    }
    Ok(())
}

fn valid_request() -> Vec<u8> {
    let body =
        r#"{"query":"query($p: ID!) { projects(where: {id: $p}) { id } }","variables":{"p":"x"}}"#;
    format!(
        "POST /api/label/v2/graphql HTTP/1.1\r\nHost: x\r\nAuthorization: X-API-Key: fuzz-key\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A valid request with a few bytes flipped, removed or inserted, or cut short.
fn mangled() -> impl Strategy<Value = Vec<u8>> {
    let len = valid_request().len();
    (
        prop::collection::vec((0..len, any::<u8>(), 0..3u8), 1..6),
        prop::option::of(0..len),
    )
        .prop_map(|(edits, cut)| {
            let mut bytes = valid_request();
            for (at, byte, kind) in edits {
                let at = at.min(bytes.len().saturating_sub(1));
                match kind {
                    0 => bytes[at] = byte,
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, byte),
                }
            }
            if let Some(cut) = cut {
                bytes.truncate(cut);
            }
            bytes
        })
}

/// Text that looks a little like GraphQL.
fn documents() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        prop::sample::select(vec![
            "{",
            "}",
            "(",
            ")",
            "[",
            "]",
            ":",
            "$",
            "@",
            "!",
            "...",
            "=",
            ",",
            "\"",
            "query",
            "mutation",
            "subscription",
            "fragment",
            "on",
            "viewer",
            "projects",
            "labels",
            "id",
            "where",
            "first",
            "skip",
            "__schema",
            "__typename",
            "null",
            "true",
            "1",
            "-1.5e9",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z_][a-zA-Z0-9_]{0,6}",
        ".{0,4}",
    ];
    prop::collection::vec(token, 0..40).prop_map(|t| t.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_get_an_answer_or_a_close(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        assert_no_5xx(&exchange(&bytes)?)?;
    }

    #[test]
    fn mangled_requests_get_an_answer_or_a_close(bytes in mangled()) {
        assert_no_5xx(&exchange(&bytes)?)?;
    }

    #[test]
    fn arbitrary_documents_get_graphql_errors(query in documents(), variables in prop::option::of(".{0,20}")) {
        let vars = variables.map_or(json!({}), |v| json!({"v": v}));
        let (status, body) = post(server(), Some("fuzz-key"), &json!({"query": query, "variables": vars}));
        prop_assert!(status == 200 || status == 400, "{} {}", status, body);
        prop_assert!(body.get("errors").is_some() || body.get("data").is_some(), "{}", body);
        if let Some(errors) = body["errors"].as_array() {
            prop_assert!(errors.iter().all(|e| e["extensions"]["code"].is_string()), "{}", body);
        }
    }

    #[test]
    fn arbitrary_websocket_messages_never_break_the_connection_loop(
        messages in prop::collection::vec(prop_oneof![documents(), ".{0,30}"], 0..10),
        protocol in prop::sample::select(vec!["graphql-ws", "graphql-transport-ws"]),
        authenticate in any::<bool>(),
    ) {
        let mut ws = ws_connect(server(), protocol);
        if authenticate {
            init(&mut ws, "fuzz-key");
        }
        for m in messages {
            // The server may close the connection on a protocol violation.
            let as_frame = json!({"type": m, "id": "1", "payload": {"query": m}});
            if ws.send(Message::text(m)).is_err() || ws.send(Message::text(as_frame.to_string())).is_err() {
                break;
            }
        }
        let _ = ws.close(None);
        // Drain until the close completes; a hang shows as a read timeout (10 s).
        loop {
            match ws.read() {
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(TestCaseError::fail("the server neither answered nor closed"));
                }
                Err(_) => break,
            }
        }
        let (status, _) = post(server(), Some("fuzz-key"), &json!({"query": "{ viewer { id } }"}));
        prop_assert_eq!(status, 200);
    }
}
