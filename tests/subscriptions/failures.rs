//! Failures: a silent server, a wrong API key, a panicking callback, a refused document.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::*;
use kili::{Error, Lifecycle, StreamEvent, SubscriptionOptions, SubscriptionState, WsProtocol};
use kili_local_server::LocalServer;
use serde_json::json;

const LABEL_IDS: &str =
    "subscription($projectID: ID!) { data: labelCreatedOrUpdated(projectID: $projectID) { id } }";

#[test]
fn the_watchdog_reconnects_from_a_silent_server() {
    // graphql-ws: WebSocket pings go unanswered.
    watchdog_reconnects(WsProtocol::GraphqlWs);
}

#[test]
fn the_watchdog_reconnects_from_a_silent_graphql_transport_ws_server() {
    // graphql-transport-ws: `ping` messages go unanswered.
    watchdog_reconnects(WsProtocol::GraphqlTransportWs);
}

fn watchdog_reconnects(protocol: WsProtocol) {
    let silent = WsPeer::silent();
    let kili = builder("k", silent.endpoint()).build().unwrap();
    let options = SubscriptionOptions::new()
        .protocol(protocol)
        .ack_timeout(Duration::from_millis(300)) // the probe is never answered either
        .keep_alive(Some(Duration::from_millis(150)))
        .watchdog_multiple(3)
        .backoff(Duration::from_millis(10), Duration::from_millis(50));
    let events = kili
        .subscription(LABEL_IDS, json!({"projectID": "p"}))
        .options(options)
        .stream()
        .unwrap();
    assert_eq!(silent.connections(), 1);
    let cause = loop {
        match events.recv_timeout(PATIENCE).expect("the watchdog fires") {
            StreamEvent::Lifecycle(Lifecycle::Reconnecting { cause, .. }) => break cause,
            _ => continue,
        }
    };
    assert!(
        matches!(cause, Error::Timeout { ref operation, .. } if operation.contains("keep-alive")),
        "{cause}"
    );
    assert!(
        wait_for(PATIENCE, || silent.connections() >= 2),
        "a new connection is opened"
    );
    assert!(wait_for(PATIENCE, || events.handle().stats().reconnects >= 1));
    events.close().unwrap();
}

fn assert_fails_fast(protocol: WsProtocol) {
    let server = LocalServer::builder().api_key("right-key").start().unwrap();
    let proxy = FaultProxy::start(server.addr());
    let kili = builder("wrong-key", proxy.endpoint()).build().unwrap();
    // Linux keeps 15 bytes of a thread name: the two protocols' tests run in parallel, so
    // their names differ within those.
    let name = match protocol {
        WsProtocol::GraphqlWs => "wrongkey-gws",
        _ => "wrongkey-tws",
    };
    let options = SubscriptionOptions::new()
        .protocol(protocol)
        .thread_name(name);
    let err = kili
        .labels_subscription("p")
        .options(options)
        .callback(|_| {})
        .unwrap_err();
    assert!(err.is_authentication(), "{protocol:?}: {err:?}");
    assert!(!err.is_retryable());
    assert_eq!(
        proxy.accepted(),
        2,
        "{protocol:?}: one WebSocket attempt and one HTTP check of the key, no retry loop"
    );
    assert!(
        !thread_alive(name),
        "the thread is gone when the error is returned"
    );
}

#[test]
fn a_wrong_api_key_fails_fast_on_graphql_ws() {
    assert_fails_fast(WsProtocol::GraphqlWs);
}

#[test]
fn a_wrong_api_key_fails_fast_on_graphql_transport_ws() {
    assert_fails_fast(WsProtocol::GraphqlTransportWs);
}

#[test]
fn an_unreachable_server_fails_fast_on_the_first_connection() {
    let kili = client_for(&format!("http://{}/api/label/v2/graphql", refused_addr()));
    let err = kili.label_created_or_updated("p", |_| {}).unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
}

#[test]
fn an_invalid_document_is_a_graphql_error_not_a_retry_loop() {
    let server = LocalServer::builder().start().unwrap();
    let kili = client(&server);
    for protocol in [WsProtocol::GraphqlWs, WsProtocol::GraphqlTransportWs] {
        let options = SubscriptionOptions::new().protocol(protocol);
        let err = kili
            .subscription("subscription { noSuchField }", json!({}))
            .options(options)
            .callback(|_| {})
            .unwrap_err();
        assert!(err.graphql_errors().is_some(), "{protocol:?}: {err:?}");
    }
}

#[test]
fn a_panicking_callback_is_reported_and_the_subscription_goes_on() {
    let server = LocalServer::builder().start().unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let calls = Arc::new(AtomicUsize::new(0));
    let panics = Arc::new(AtomicUsize::new(0));
    let (c, p) = (calls.clone(), panics.clone());
    let options = SubscriptionOptions::new().on_lifecycle(move |event| {
        if matches!(event, Lifecycle::CallbackPanicked { error } if error.to_string().contains("boom")) {
            p.fetch_add(1, Ordering::SeqCst);
        }
    });
    let sub = kili
        .labels_subscription(&project)
        .options(options)
        .callback(move |_| {
            if c.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("boom");
            }
        })
        .unwrap();
    append_label(&kili, &project, &asset);
    append_label(&kili, &project, &asset);
    assert!(
        wait_for(PATIENCE, || calls.load(Ordering::SeqCst) == 2),
        "the second event still arrives"
    );
    assert_eq!(panics.load(Ordering::SeqCst), 1);
    assert_eq!(sub.stats().callback_panics, 1);
    assert!(sub.state().is_active());
    sub.close().unwrap();
}

#[test]
fn closing_from_inside_the_callback_stops_after_it_returns() {
    let server = LocalServer::builder().start().unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let slot: Arc<parking_lot::Mutex<Option<Arc<kili::Subscription>>>> = Arc::default();
    let inner = slot.clone();
    let sub = Arc::new(
        kili.label_created_or_updated(&project, move |_| {
            if let Some(sub) = inner.lock().as_ref() {
                sub.close().unwrap();
            }
        })
        .unwrap(),
    );
    *slot.lock() = Some(sub.clone());
    append_label(&kili, &project, &asset);
    assert!(wait_for(PATIENCE, || matches!(
        sub.state(),
        SubscriptionState::Closed
    )));
    slot.lock().take();
    sub.close().unwrap();
    assert!(!thread_alive(sub.thread_name()));
}

#[test]
fn wss_to_a_plain_server_is_an_error_not_a_panic() {
    let server = LocalServer::builder().start().unwrap();
    let endpoint = server.endpoint().replace("http://", "https://");
    let kili = builder(server.api_key(), endpoint)
        .verify_tls(false)
        .build()
        .unwrap();
    let err = kili.label_created_or_updated("p", |_| {}).unwrap_err();
    assert!(
        matches!(err, Error::Transport { .. } | Error::Timeout { .. }),
        "{err:?}"
    );
}

#[test]
fn a_flood_of_events_does_not_starve_close() {
    // The server acknowledges, then sends results as fast as it can, forever.
    let server = WsPeer::start(|peer| {
        let mut ws = peer.ws;
        let _init = ws.read();
        let _ = ws.send(tungstenite::Message::text(r#"{"type":"connection_ack"}"#));
        let start: serde_json::Value = match ws.read() {
            Ok(m) => serde_json::from_str(m.to_text().unwrap_or("{}")).unwrap_or_default(),
            Err(_) => return,
        };
        let id = start["id"].as_str().unwrap_or_default().to_owned();
        let frame = json!({"type": "data", "id": id, "payload": {"data": {"data": {"id": "l"}}}})
            .to_string();
        while ws.write(tungstenite::Message::text(frame.clone())).is_ok() && ws.flush().is_ok() {}
    });
    let kili = builder("k", server.endpoint()).build().unwrap();
    let received = Arc::new(AtomicUsize::new(0));
    let r = received.clone();
    let options = SubscriptionOptions::new()
        .ack_timeout(Duration::from_millis(200)) // the probe is never answered
        .close_timeout(Duration::from_millis(200));
    let sub = kili
        .subscription(LABEL_IDS, json!({"projectID": "p"}))
        .options(options)
        .callback(move |_| {
            r.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
    assert!(wait_for(PATIENCE, || received.load(Ordering::Relaxed) > 1000));
    let (done_tx, done_rx) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        let closed = sub.close();
        let _ = done_tx.send((closed, sub.thread_name().to_owned()));
    });
    let (closed, name) = done_rx
        .recv_timeout(PATIENCE)
        .expect("close() returns during a flood");
    closed.unwrap();
    assert!(!thread_alive(&name));
    let after = received.load(Ordering::Relaxed);
    assert_eq!(
        received.load(Ordering::Relaxed),
        after,
        "nothing is delivered after close"
    );
}
