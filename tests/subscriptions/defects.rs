//! Defects found by reading the subscription code, each with the scenario that showed it: a
//! close that deadlocks, callbacks after a close, a reconnect storm, transient errors taken for
//! fatal ones, a watchdog blind to the catch-up, a close that waits for a catch-up or a
//! connection attempt, a reset lost to a racing failure, a handle cycle that leaks the thread,
//! and results dropped behind a failed send.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, unbounded};
use kili::{
    Lifecycle, StreamEvent, Subscription, SubscriptionControl, SubscriptionOptions, WsProtocol,
};
use kili_local_server::LocalServer;
use serde_json::{Value, json};
use tungstenite::Message;

use crate::support::*;

/// A subscription to `project` whose callback counts events and runs `on_event` with the
/// count; returns the handle and the counter.
fn counting(
    kili: &kili::Kili,
    project: &str,
    options: SubscriptionOptions,
    on_event: impl Fn(usize) + Send + 'static,
) -> (Subscription, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let sub = kili
        .labels_subscription(project)
        .options(options)
        .callback(move |_| {
            let n = c.fetch_add(1, Ordering::SeqCst) + 1;
            on_event(n);
        })
        .unwrap();
    (sub, count)
}

/// Lifecycle events of a subscription, on a channel.
fn lifecycle_channel(
    options: SubscriptionOptions,
) -> (SubscriptionOptions, crossbeam_channel::Receiver<Lifecycle>) {
    let (tx, rx) = unbounded();
    (options.on_lifecycle(move |l| drop(tx.send(l.clone()))), rx)
}

#[test]
fn close_from_two_threads_and_from_the_callback_does_not_deadlock() {
    let server = server();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let (entered_tx, entered) = bounded(1);
    let (go_tx, go) = bounded::<()>(1);
    let slot: Arc<OnceLock<Arc<Subscription>>> = Arc::default();
    let in_callback = slot.clone();
    let sub = Arc::new(
        kili.label_created_or_updated(&project, move |_| {
            let _ = entered_tx.try_send(());
            let _ = go.recv_timeout(PATIENCE);
            // Gives the closers below a head start into `close` (this ordering is what
            // deadlocked; the test passes whatever the ordering).
            std::thread::sleep(Duration::from_millis(100));
            if let Some(sub) = in_callback.get() {
                let _ = sub.close();
            }
        })
        .unwrap(),
    );
    let _ = slot.set(sub.clone());
    append_label(&kili, &project, &asset);
    entered.recv_timeout(PATIENCE).expect("the callback runs");
    let (done_tx, done) = unbounded();
    for _ in 0..2 {
        let (sub, done_tx) = (sub.clone(), done_tx.clone());
        std::thread::spawn(move || done_tx.send(sub.close()).unwrap());
    }
    go_tx.send(()).unwrap();
    for _ in 0..2 {
        let outcome = done
            .recv_timeout(PATIENCE)
            .expect("close returns: no deadlock");
        assert!(outcome.is_ok(), "{outcome:?}");
    }
    assert!(matches!(sub.state(), kili::SubscriptionState::Closed));
}

#[test]
fn no_callback_runs_after_close_is_called() {
    let server = server();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let control: Arc<OnceLock<SubscriptionControl>> = Arc::default();
    let in_callback = control.clone();
    let (sub, count) = counting(&kili, &project, SubscriptionOptions::new(), move |n| {
        if n == 1 {
            in_callback
                .get()
                .expect("set before the labels")
                .close()
                .unwrap();
        }
    });
    let _ = control.set(sub.control());
    // Ten labels in one burst: the rest of the burst must not reach the callback.
    append_labels(&kili, &project, &asset, 10);
    assert!(wait_for(PATIENCE, || count.load(Ordering::SeqCst) >= 1));
    assert!(wait_for(PATIENCE, || matches!(
        sub.state(),
        kili::SubscriptionState::Closed
    )));
    assert_eq!(count.load(Ordering::SeqCst), 1, "one callback, then none");
}

#[test]
fn a_server_that_ends_subscriptions_at_once_gets_ever_longer_waits() {
    let server = LocalServer::builder()
        .subscription_lifetime(Duration::from_millis(150))
        .start()
        .unwrap();
    let kili = client(&server);
    let (project, _) = project_with_asset(&kili);
    let options =
        SubscriptionOptions::new().backoff(Duration::from_millis(20), Duration::from_secs(5));
    let (options, life) = lifecycle_channel(options);
    let sub = kili
        .labels_subscription(&project)
        .options(options)
        .callback(|_| {})
        .unwrap();
    let mut attempts = Vec::new();
    while attempts.len() < 5 {
        match life.recv_timeout(PATIENCE).expect("lifecycle events") {
            Lifecycle::Reconnecting { attempt, .. } => attempts.push(attempt),
            _ => continue,
        }
    }
    assert_eq!(attempts, [1, 2, 3, 4, 5], "the backoff grows: no storm");
    sub.close().unwrap();
}

#[test]
fn a_server_error_on_the_websocket_upgrade_is_retried() {
    let server = server();
    let proxy = FaultProxy::start(server.addr());
    let kili = builder(server.api_key(), proxy.endpoint()).build().unwrap();
    let (project, asset) = project_with_asset(&client(&server));
    let options =
        SubscriptionOptions::new().backoff(Duration::from_millis(5), Duration::from_millis(50));
    let (sub, count) = counting(&kili, &project, options, |_| {});
    proxy.answer_next(http_response("500 Internal Server Error", "", b"oops"));
    proxy.answer_next(http_response("503 Service Unavailable", "", b""));
    proxy.drop_connections();
    assert!(
        wait_for(PATIENCE, || sub.stats().reconnects >= 1),
        "reconnected after the errors: {:?}",
        sub.state()
    );
    append_label(&client(&server), &project, &asset);
    assert!(wait_for(PATIENCE, || count.load(Ordering::SeqCst) == 1));
    assert!(sub.state().is_active());
}

/// The frames of a `graphql-ws` server that accepts a subscription: reads `connection_init`,
/// acks, reads `start` and the probe, answers the probe. Returns the subscription's id.
fn accept_subscription(peer: &mut Peer) -> Option<String> {
    peer.read_json()?; // connection_init
    peer.send_json(&json!({"type": "connection_ack"}));
    let start = peer.read_json()?;
    let probe = peer.read_json()?;
    peer.send_json(&json!({"type": "complete", "id": probe["id"]}));
    start["id"].as_str().map(str::to_owned)
}

fn label_frame(id: &str, label: &str) -> Value {
    json!({"type": "data", "id": id, "payload": {"data": {"data": {
        "id": label, "labelType": "INFERENCE", "jsonResponse": "{}", "labelOf": {"id": "a"}
    }}}})
}

#[test]
fn refusals_that_are_not_about_the_key_are_retried() {
    let connection = Arc::new(AtomicUsize::new(0));
    let c = connection.clone();
    // 1: a label, then gone; 2: `connection_error` (not about the key: the key check over
    // HTTP does not refuse it); 3: close 4500 before the ack; 4: a label, and stays.
    let peer = WsPeer::start(move |mut peer| match c.fetch_add(1, Ordering::SeqCst) {
        0 => {
            if let Some(id) = accept_subscription(&mut peer) {
                peer.send_json(&label_frame(&id, "first"));
            }
        }
        1 => {
            peer.read_json();
            peer.send_json(&json!({"type": "connection_error", "payload": {"message": "busy"}}));
        }
        2 => {
            peer.read_json();
            let _ = peer.ws.close(Some(tungstenite::protocol::CloseFrame {
                code: 4500.into(),
                reason: "internal".into(),
            }));
            let _ = peer.ws.flush();
        }
        _ => {
            if let Some(id) = accept_subscription(&mut peer) {
                peer.send_json(&label_frame(&id, "last"));
                peer.hold();
            }
        }
    });
    let kili = client_for(&peer.endpoint());
    // The peer speaks no HTTP: no catch-up (its requests would fail), and the key check
    // fails with a transport error, which is no refusal of the key.
    let options = SubscriptionOptions::new()
        .catch_up_margin(None)
        .backoff(Duration::from_millis(5), Duration::from_millis(50));
    let (tx, rx) = unbounded();
    let sub = kili
        .labels_subscription("p")
        .options(options)
        .callback(move |e| {
            let _ = tx.send(e.label().id().to_owned());
        })
        .unwrap();
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap(), "first");
    assert_eq!(
        rx.recv_timeout(PATIENCE).unwrap(),
        "last",
        "{:?}",
        sub.state()
    );
    assert!(sub.state().is_active());
}

#[test]
fn a_result_with_errors_after_a_reconnection_is_a_result() {
    let connection = Arc::new(AtomicUsize::new(0));
    let c = connection.clone();
    let peer = WsPeer::start(move |mut peer| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        let Some(id) = accept_subscription(&mut peer) else {
            return;
        };
        if n == 0 {
            peer.send_json(&json!({"type": "data", "id": id, "payload": {"data": {"x": 1}}}));
            return; // gone: the client reconnects
        }
        peer.send_json(
            &json!({"type": "data", "id": id, "payload": {"data": null, "errors": [{"message": "resolver failed"}]}}),
        );
        peer.hold();
    });
    let kili = client_for(&peer.endpoint());
    let options =
        SubscriptionOptions::new().backoff(Duration::from_millis(5), Duration::from_millis(50));
    let events = kili
        .subscription("subscription { x }", Value::Null)
        .options(options)
        .stream()
        .unwrap();
    let mut results = Vec::new();
    while results.len() < 2 {
        match events.recv_timeout(PATIENCE).unwrap() {
            StreamEvent::Event(e) => results.push(e),
            StreamEvent::Lifecycle(Lifecycle::Failed { error }) => panic!("failed: {error}"),
            _ => {}
        }
    }
    assert_eq!(results[1].errors()[0].message, "resolver failed");
    assert!(events.handle().state().is_active());
}

#[test]
fn the_watchdog_counts_from_the_end_of_the_catch_up() {
    let server = LocalServer::builder().keep_alive(None).start().unwrap();
    let proxy = FaultProxy::start(server.addr());
    let kili = builder(server.api_key(), proxy.endpoint()).build().unwrap();
    let (project, asset) = project_with_asset(&client(&server));
    let options = SubscriptionOptions::new()
        .keep_alive(Some(Duration::from_millis(150)))
        .watchdog_multiple(2)
        .backoff(Duration::from_millis(5), Duration::from_millis(50));
    let (options, life) = lifecycle_channel(options);
    // A slow callback: the catch-up of 12 labels takes about 600 ms, past the 300 ms watchdog.
    let (sub, count) = counting(&kili, &project, options, |_| {
        std::thread::sleep(Duration::from_millis(50));
    });
    proxy.refuse(true);
    proxy.drop_connections();
    append_labels(&client(&server), &project, &asset, 12);
    proxy.refuse(false);
    assert!(wait_for(PATIENCE, || count.load(Ordering::SeqCst) == 12));
    // Drain what came before the catch-up ended; then no watchdog timeout may follow.
    let deadline = Instant::now() + PATIENCE;
    loop {
        match life.recv_deadline(deadline).expect("reconnected") {
            Lifecycle::Reconnected { .. } => break,
            _ => continue,
        }
    }
    assert!(
        holds_for(Duration::from_millis(900), || {
            life.try_iter().all(|l| !matches!(
            &l,
            Lifecycle::Reconnecting { cause, .. } if matches!(*cause, kili::Error::Timeout { .. })
        ))
        }),
        "the fresh connection was killed by the watchdog"
    );
    assert!(sub.state().is_active());
}

#[test]
fn close_does_not_wait_for_the_catch_up() {
    let server = server();
    let proxy = FaultProxy::start(server.addr());
    let kili = builder(server.api_key(), proxy.endpoint()).build().unwrap();
    let (project, asset) = project_with_asset(&client(&server));
    let (third_tx, third) = bounded(1);
    let options = SubscriptionOptions::new()
        .close_timeout(Duration::from_millis(200))
        .backoff(Duration::from_millis(5), Duration::from_millis(50));
    // 30 labels to catch up, 100 ms each: 3 s unless the close stops it.
    let (sub, count) = counting(&kili, &project, options, move |n| {
        if n == 3 {
            let _ = third_tx.try_send(());
        }
        std::thread::sleep(Duration::from_millis(100));
    });
    proxy.refuse(true);
    proxy.drop_connections();
    append_labels(&client(&server), &project, &asset, 30);
    proxy.refuse(false);
    third.recv_timeout(PATIENCE).expect("the catch-up delivers");
    sub.close().unwrap();
    let at_close = count.load(Ordering::SeqCst);
    assert!(
        at_close <= 4,
        "close waited for the catch-up: {at_close} callbacks"
    );
    assert!(
        holds_for(Duration::from_millis(500), || count.load(Ordering::SeqCst)
            == at_close),
        "callbacks after close returned"
    );
}

#[test]
fn close_does_not_wait_for_a_stalled_connection_attempt() {
    let server = server();
    let proxy = FaultProxy::start(server.addr());
    let kili = builder(server.api_key(), proxy.endpoint())
        .connect_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let (project, _) = project_with_asset(&client(&server));
    let options = SubscriptionOptions::new()
        .close_timeout(Duration::from_millis(200))
        .backoff(Duration::from_millis(1), Duration::from_millis(5));
    let sub = kili
        .labels_subscription(&project)
        .options(options)
        .callback(|_| {})
        .unwrap();
    proxy.stall(true);
    proxy.drop_connections();
    // The next attempt connects to the proxy, whose handshake answer never comes.
    assert!(wait_for(PATIENCE, || proxy.accepted() >= 2));
    let (tx, rx) = bounded(1);
    let sub = Arc::new(sub);
    let closer = sub.clone();
    std::thread::spawn(move || tx.send(closer.close()).unwrap());
    let outcome = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("close returned long before the 20 s connect timeout");
    assert!(outcome.is_ok());
    proxy.stall(false);
}

#[test]
fn a_reset_racing_a_fatal_error_starts_the_subscription_again() {
    let connection = Arc::new(AtomicUsize::new(0));
    let c = connection.clone();
    // 1: a label, then the subscription is rejected (fatal); 2+: a working subscription.
    let peer = WsPeer::start(move |mut peer| {
        let first = c.fetch_add(1, Ordering::SeqCst) == 0;
        let Some(id) = accept_subscription(&mut peer) else {
            return;
        };
        if first {
            peer.send_json(&label_frame(&id, "one"));
            peer.send_json(&json!({"type": "error", "id": id, "payload": {"message": "revoked"}}));
            let _ = peer.read_json();
        } else {
            peer.hold();
        }
    });
    let kili = client_for(&peer.endpoint());
    let (entered_tx, entered) = bounded(1);
    let (go_tx, go) = bounded::<()>(1);
    let sub = Arc::new(
        kili.label_created_or_updated("p", move |_| {
            let _ = entered_tx.try_send(());
            let _ = go.recv_timeout(PATIENCE);
        })
        .unwrap(),
    );
    entered.recv_timeout(PATIENCE).expect("the label arrives");
    let (tx, rx) = bounded(1);
    let resetter = sub.clone();
    std::thread::spawn(move || tx.send(resetter.reset_timeout()).unwrap());
    // The reset's command is queued while the callback holds the thread (a head start; the
    // test passes whatever the ordering), then the thread meets the fatal error.
    std::thread::sleep(Duration::from_millis(100));
    go_tx.send(()).unwrap();
    let outcome = rx.recv_timeout(PATIENCE).expect("reset_timeout returns");
    assert!(outcome.is_ok(), "{outcome:?}");
    assert!(
        wait_for(PATIENCE, || sub.state().is_active()),
        "{:?}",
        sub.state()
    );
    assert!(connection.load(Ordering::SeqCst) >= 2, "a new connection");
}

#[test]
fn a_control_in_the_callback_does_not_keep_the_subscription_alive() {
    let server = server();
    let kili = client(&server);
    let (project, _) = project_with_asset(&kili);
    let slot: Arc<OnceLock<SubscriptionControl>> = Arc::default();
    let in_callback = slot.clone();
    let options = SubscriptionOptions::new().thread_name("cycle-test");
    let sub = kili
        .labels_subscription(&project)
        .options(options)
        .callback(move |_| {
            let _ = in_callback.get().map(SubscriptionControl::stats);
        })
        .unwrap();
    let _ = slot.set(sub.control());
    assert!(thread_alive("cycle-test"));
    drop(sub);
    assert!(
        wait_for(PATIENCE, || !thread_alive("cycle-test")),
        "dropping the handle ends the thread"
    );
    assert!(wait_for(PATIENCE, || server.state().subscriber_count() == 0));
}

#[test]
fn a_failed_send_does_not_drop_the_results_already_received() {
    // A graphql-transport-ws server that sends, in one write, a result, a ping, two more
    // results, and closes with the client's keep-alive ping unread, so the connection is reset:
    // the pong cannot be sent; the three results were received and must be delivered.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(stream) = stream else { return };
            std::thread::spawn(move || serve_then_reset(stream, n == 0));
        }
    });
    let kili = client_for(&format!("http://{addr}/api/label/v2/graphql"));
    let options = SubscriptionOptions::new()
        .protocol(WsProtocol::GraphqlTransportWs)
        .keep_alive(Some(Duration::from_millis(100)))
        .backoff(Duration::from_millis(50), Duration::from_millis(200));
    let (tx, rx) = unbounded();
    let sub = kili
        .labels_subscription("p")
        .options(options)
        .callback(move |e| {
            let _ = tx.send(e.label().id().to_owned());
        })
        .unwrap();
    let got: Vec<String> = (0..3)
        .map(|_| rx.recv_timeout(PATIENCE).expect("every result received"))
        .collect();
    assert_eq!(got, ["r1", "r2", "r3"]);
    sub.close().unwrap();
}

fn read_json(ws: &mut tungstenite::WebSocket<TcpStream>) -> Option<Value> {
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => return serde_json::from_str(t.as_str()).ok(),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

// tungstenite's handshake callback returns its own (large) error type.
#[allow(clippy::result_large_err)]
/// Accepts a `graphql-transport-ws` subscription. On the first connection: waits until the
/// client's keep-alive ping arrives, leaves it unread, writes the burst and closes (a reset,
/// since data was left unread). On later connections: holds.
fn serve_then_reset(stream: TcpStream, burst: bool) {
    let Ok(raw) = stream.try_clone() else { return };
    let callback = |_: &tungstenite::handshake::server::Request,
                    mut resp: tungstenite::handshake::server::Response| {
        resp.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        Ok(resp)
    };
    let Ok(mut ws) = tungstenite::accept_hdr(stream, callback) else {
        return;
    };
    let _ = read_json(&mut ws); // connection_init
    let _ = ws.send(Message::text(json!({"type": "connection_ack"}).to_string()));
    let (Some(start), Some(probe)) = (read_json(&mut ws), read_json(&mut ws)) else {
        return;
    };
    let _ = ws.send(Message::text(
        json!({"type": "complete", "id": probe["id"]}).to_string(),
    ));
    if !burst {
        let _ = raw.set_read_timeout(Some(PATIENCE));
        while read_json(&mut ws).is_some() {}
        return;
    }
    // The client's ping (after 100 ms of silence), left unread.
    let _ = raw.set_read_timeout(Some(PATIENCE));
    let _ = raw.peek(&mut [0u8; 1]);
    let id = start["id"].as_str().unwrap_or_default().to_owned();
    let frame = |label: &str| {
        json!({"type": "next", "id": id, "payload": {"data": {"data": {"id": label}}}}).to_string()
    };
    for text in [
        frame("r1"),
        json!({"type": "ping"}).to_string(),
        frame("r2"),
        frame("r3"),
    ] {
        let _ = ws.write(Message::text(text));
    }
    let _ = ws.flush();
    drop(ws);
    drop(raw);
}
