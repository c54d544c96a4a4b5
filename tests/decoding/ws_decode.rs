//! Property tests for the subscription's WebSocket side, driven through the public API: the
//! tests' WebSocket peer, as a `graphql-ws` server, acknowledges, answers the readiness probe,
//! then sends arbitrary JSON frames (or arbitrary bytes on the socket) before a sentinel event.
//! The subscription must not panic, and must either stay usable (the sentinel arrives, on this
//! connection or after a reconnection) or fail cleanly (a `Failed` state), and close without
//! error.
//!
//! The protocol machine itself has unit property tests (`src/subscription/protocol/tests.rs`);
//! these add tungstenite's frame decoding, the worker and the feeds. `PROPTEST_CASES=N` raises
//! the case count.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use kili::{SubscriptionOptions, SubscriptionState};
use parking_lot::Mutex;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tungstenite::Message;

use crate::support::*;

/// What the server sends after the probe's answer, on the first connection of a case.
#[derive(Debug, Clone)]
enum Junk {
    /// Text frames, then the sentinel on the same connection.
    Frames(Vec<String>),
    /// Raw bytes on the socket (not frames), then the server hangs up.
    Bytes(Vec<u8>),
}

/// What the peer does on the next connection.
struct Plan {
    junk: Option<Junk>,
    sentinel: u64,
}

static PLAN: Mutex<Plan> = parking_lot::const_mutex(Plan {
    junk: None,
    sentinel: 0,
});

/// The binary's `graphql-ws` peer: acknowledges, answers the readiness probe, then sends the
/// plan's junk and the sentinel event.
fn peer() -> &'static WsPeer {
    static PEER: OnceLock<WsPeer> = OnceLock::new();
    PEER.get_or_init(|| WsPeer::start(serve))
}

fn serve(mut peer: Peer) {
    // connection_init -> ack; then the subscription's `start` and the probe.
    let mut sub_id = None;
    loop {
        let Some(frame) = peer.read_json() else {
            return;
        };
        let id = frame["id"].as_str().unwrap_or_default().to_owned();
        match frame["type"].as_str() {
            Some("connection_init") => {
                peer.send_json(&json!({"type": "connection_ack"}));
            }
            Some("start") if id.ends_with("-ready") => {
                peer.send_json(&json!({"type": "data", "id": id, "payload": {"data": {"__typename": "Subscription"}}}));
                peer.send_json(&json!({"type": "complete", "id": id}));
                break;
            }
            Some("start") => sub_id = Some(id),
            _ => {}
        }
    }
    let Some(id) = sub_id else { return };
    let (junk, sentinel) = {
        let mut plan = PLAN.lock();
        (plan.junk.take(), plan.sentinel)
    };
    let ws = &mut peer.ws;
    match junk {
        Some(Junk::Bytes(bytes)) => {
            let _ = ws.get_mut().write_all(&bytes);
            return; // hang up: the client must reconnect
        }
        Some(Junk::Frames(frames)) => {
            for f in frames {
                let f = f.replace("\"SUB\"", &format!("\"{id}\""));
                if ws.send(Message::text(f)).is_err() {
                    return;
                }
            }
        }
        None => {}
    }
    let event = json!({"type": "data", "id": id, "payload": {"data": {"sentinel": sentinel}}});
    let _ = ws.send(Message::text(event.to_string()));
    while ws.read().is_ok() {}
}

/// Frames that look like the protocol's, with arbitrary members.
fn arb_frame() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,10}".prop_map(Value::String),
        prop::sample::select(vec![
            "data",
            "next",
            "error",
            "complete",
            "ka",
            "connection_ack",
            "connection_error",
            "ping",
            "pong",
            "start",
        ])
        .prop_map(|s| Value::String(s.into())),
    ];
    let json = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "type", "id", "payload", "data", "errors", "message", "sentinel"
                    ]),
                    inner
                ),
                0..4
            )
            .prop_map(|kv| Value::Object(
                kv.into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect::<Map<_, _>>()
            )),
        ]
    });
    prop_oneof![
        json.prop_map(|v| v.to_string()),
        ".{0,40}",
        // Frames for the live subscription (the server puts its id in place of "SUB").
        (
            prop::sample::select(vec!["data", "error", "complete"]),
            any::<bool>()
        )
            .prop_map(|(t, payload)| if payload {
                format!(r#"{{"type":"{t}","id":"SUB","payload":{{"data":{{"data":{{"id":1}}}}}}}}"#)
            } else {
                format!(r#"{{"type":"{t}","id":"SUB"}}"#)
            }),
    ]
}

/// Subscribes, lets the server send `junk`, and checks the outcome.
fn check(junk: Junk) -> Result<(), TestCaseError> {
    static TURN: Mutex<()> = parking_lot::const_mutex(());
    let _turn = TURN.lock();
    let sentinel = {
        let mut plan = PLAN.lock();
        plan.sentinel += 1;
        plan.junk = Some(junk);
        plan.sentinel
    };
    let kili = builder("k", peer().endpoint())
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let options = SubscriptionOptions::new()
        .backoff(Duration::from_millis(5), Duration::from_millis(50))
        .ack_timeout(Duration::from_secs(2))
        .close_timeout(Duration::from_millis(200));
    let (tx, rx) = mpsc::channel();
    let sub = kili
        .subscription("subscription($projectID: ID!) { data: labelCreatedOrUpdated(projectID: $projectID) { id } }", json!({"projectID": "p"})).options(options).callback(move |event| {
                if event.data()["sentinel"] == sentinel {
                    let _ = tx.send(());
                }
            })
        .map_err(|e| TestCaseError::fail(format!("the first connection failed: {e}")))?;
    let usable = wait_for(PATIENCE, || {
        rx.try_recv().is_ok() || matches!(sub.state(), SubscriptionState::Failed(_))
    });
    let state = sub.state();
    let closed = sub.close();
    prop_assert!(
        usable,
        "neither the sentinel nor a clean failure: {state:?}"
    );
    prop_assert!(closed.is_ok(), "close: {closed:?}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(32), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_frames_never_break_a_subscription(frames in prop::collection::vec(arb_frame(), 0..8)) {
        check(Junk::Frames(frames))?;
    }

    #[test]
    fn arbitrary_bytes_on_the_socket_never_break_a_subscription(bytes in prop::collection::vec(any::<u8>(), 0..96)) {
        check(Junk::Bytes(bytes))?;
    }
}
