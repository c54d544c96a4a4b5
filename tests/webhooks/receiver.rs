//! The receiver against raw HTTP: what it answers, and what it hands on.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_channel::unbounded;
use kili::{StreamEvent, WebhookEvent, WebhookEventType, WebhookReceiver};
use serde_json::{Value, json};

use crate::support::*;

const SECRET: &str = "Bearer s3cret";

fn body(label: &str, version: u64) -> Value {
    json!({
        "eventType": "onSubmit",
        "logPayload": {"runId": format!("run-{label}-{version}"), "projectId": "p1"},
        "payload": {
            "label": {"id": label, "labelType": "DEFAULT", "version": version,
                      "jsonResponse": {"JOB_0": {"categories": [{"name": "A"}]}}, "authorId": "u1",
                      "search": {"numberOfAnnotationsByObject": {"JOB_0.OBJECT_A": 3}}},
            "asset_id": "a1"
        }
    })
}

/// POSTs `body` with this `Authorization` (none if `None`); returns the status and the
/// response.
fn post(addr: SocketAddr, path: &str, auth: Option<&str>, body: &[u8]) -> (u16, String) {
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    let answer = raw(addr, &request);
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

fn send(addr: SocketAddr, v: &Value) -> u16 {
    post(addr, "/", Some(SECRET), v.to_string().as_bytes()).0
}

#[test]
fn a_wrong_or_missing_secret_is_401_and_nothing_is_handed_on() {
    let (tx, rx) = unbounded();
    let receiver = WebhookReceiver::builder("127.0.0.1:0", SECRET)
        .callback(move |e: &WebhookEvent| tx.send(e.clone()).map_err(|_| "nobody listens"))
        .unwrap();
    let addr = receiver.local_addr();
    let b = body("l1", 1).to_string();
    assert_eq!(post(addr, "/", None, b.as_bytes()).0, 401);
    assert_eq!(post(addr, "/", Some("Bearer s3cre"), b.as_bytes()).0, 401);
    assert_eq!(post(addr, "/", Some("Bearer s3cret!"), b.as_bytes()).0, 401);
    assert_eq!(post(addr, "/other", Some(SECRET), b.as_bytes()).0, 404);
    assert_eq!(post(addr, "/", Some(SECRET), b"not json").0, 400);
    assert!(rx.try_recv().is_err(), "nothing handed on");
    assert_eq!(post(addr, "/", Some(SECRET), b.as_bytes()).0, 200);
    let event = rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!(event.event_type(), &WebhookEventType::OnSubmit);
    assert_eq!(
        (event.project_id(), event.asset_id(), event.run_id()),
        (Some("p1"), Some("a1"), Some("run-l1-1"))
    );
    let label = event.label().unwrap();
    assert_eq!(label.id(), "l1");
    assert_eq!(
        label.extra()["search"]["numberOfAnnotationsByObject"]["JOB_0.OBJECT_A"],
        3
    );
    let stats = receiver.stats();
    assert_eq!(
        (stats.unauthorized, stats.rejected, stats.delivered),
        (3, 2, 1)
    );
    receiver.close().unwrap();
}

#[test]
fn an_oversized_body_is_413_before_it_is_read() {
    let receiver = WebhookReceiver::builder("127.0.0.1:0", SECRET)
        .max_body(1024)
        .callback(|_: &WebhookEvent| Ok::<(), std::io::Error>(()))
        .unwrap();
    let mut big = body("l1", 1);
    big["payload"]["label"]["jsonResponse"] = json!({"blob": "x".repeat(4096)});
    let (status, _) = post(
        receiver.local_addr(),
        "/",
        Some(SECRET),
        big.to_string().as_bytes(),
    );
    assert_eq!(status, 413);
    assert_eq!(receiver.stats().delivered, 0);
    receiver.close().unwrap();
}

#[test]
fn a_redelivered_event_is_handled_once_and_unknown_types_are_kept() {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let receiver = WebhookReceiver::builder("127.0.0.1:0", SECRET)
        .callback(move |_: &WebhookEvent| {
            c.fetch_add(1, Ordering::SeqCst);
            Ok::<(), std::io::Error>(())
        })
        .unwrap();
    let addr = receiver.local_addr();
    for _ in 0..3 {
        assert_eq!(send(addr, &body("l1", 1)), 200);
    }
    assert_eq!(
        send(addr, &body("l1", 2)),
        200,
        "a new version is a new event"
    );
    let mut other = body("l1", 2);
    other["eventType"] = json!("onSomethingNew");
    assert_eq!(send(addr, &other), 200, "an unknown type is an event too");
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert_eq!(receiver.stats().duplicates, 2);
    receiver.close().unwrap();
}

#[test]
fn a_callback_that_fails_or_panics_gets_its_event_again() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let receiver = WebhookReceiver::builder("127.0.0.1:0", SECRET)
        .callback(
            move |_: &WebhookEvent| match c.fetch_add(1, Ordering::SeqCst) {
                0 => panic!("the handler crashed"),
                1 => Err(std::io::Error::other("the database is down")),
                _ => Ok(()),
            },
        )
        .unwrap();
    let addr = receiver.local_addr();
    assert_eq!(send(addr, &body("l1", 1)), 500, "a panic");
    assert_eq!(send(addr, &body("l1", 1)), 500, "an error");
    assert_eq!(
        send(addr, &body("l1", 1)),
        200,
        "handed on again, and handled"
    );
    assert_eq!(send(addr, &body("l1", 1)), 200, "then a duplicate");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let stats = receiver.stats();
    assert_eq!((stats.failed, stats.delivered, stats.duplicates), (2, 1, 1));
    receiver.close().unwrap();
}

#[test]
fn handled_events_are_remembered_across_restarts_with_a_state_file() {
    let dir = std::env::temp_dir().join(format!("kili-webhook-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("seen");
    let _ = std::fs::remove_file(&state);
    let count = Arc::new(AtomicUsize::new(0));
    let start = || {
        let c = count.clone();
        WebhookReceiver::builder("127.0.0.1:0", SECRET)
            .state_file(&state)
            .callback(move |_: &WebhookEvent| {
                c.fetch_add(1, Ordering::SeqCst);
                Ok::<(), std::io::Error>(())
            })
            .unwrap()
    };
    let first = start();
    assert_eq!(send(first.local_addr(), &body("l1", 1)), 200);
    first.close().unwrap();
    let second = start();
    assert_eq!(send(second.local_addr(), &body("l1", 1)), 200);
    assert_eq!(send(second.local_addr(), &body("l2", 1)), 200);
    assert_eq!(
        count.load(Ordering::SeqCst),
        2,
        "l1 once across both runs, then l2"
    );
    second.close().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn slow_clients_do_not_hold_the_receiver() {
    let receiver = WebhookReceiver::builder("127.0.0.1:0", SECRET)
        .max_connections(8)
        .request_timeout(Duration::from_secs(1))
        .callback(|_: &WebhookEvent| Ok::<(), std::io::Error>(()))
        .unwrap();
    let addr = receiver.local_addr();
    // Four clients send half a request and stop.
    let mut slow: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
                .unwrap();
            s
        })
        .collect();
    // Others are served meanwhile.
    assert_eq!(send(addr, &body("l1", 1)), 200);
    // The slow ones are cut off by the request deadline.
    for s in &mut slow {
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
    }
    assert_eq!(send(addr, &body("l2", 1)), 200);
    receiver.close().unwrap();
}

#[test]
fn pause_defers_with_503_and_nothing_is_lost() {
    let (tx, rx) = unbounded();
    let receiver = WebhookReceiver::builder("127.0.0.1:0", SECRET)
        .callback(move |e: &WebhookEvent| {
            tx.send(e.label().map(|l| l.id().to_owned()))
                .map_err(|_| "nobody listens")
        })
        .unwrap();
    let addr = receiver.local_addr();
    receiver.pause();
    let (status, answer) = post(
        addr,
        "/",
        Some(SECRET),
        body("l1", 1).to_string().as_bytes(),
    );
    assert_eq!(status, 503);
    assert!(
        answer.to_ascii_lowercase().contains("retry-after"),
        "{answer}"
    );
    assert!(rx.try_recv().is_err());
    receiver.unpause();
    assert_eq!(
        send(addr, &body("l1", 1)),
        200,
        "the sender's retry is handled"
    );
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap().as_deref(), Some("l1"));
    receiver.close().unwrap();
    assert!(TcpStream::connect(addr).is_err(), "closed: nothing listens");
}

#[test]
fn the_stream_form_hands_events_in_and_ends_at_close() {
    let events = WebhookReceiver::builder("127.0.0.1:0", SECRET)
        .queue_capacity(2)
        .stream()
        .unwrap();
    let addr = events.handle().local_addr();
    let sender = std::thread::spawn(move || {
        (1..=5)
            .map(|v| send(addr, &body("l1", v)))
            .collect::<Vec<_>>()
    });
    let mut versions = Vec::new();
    while versions.len() < 5 {
        if let Ok(StreamEvent::Event(e)) = events.recv_timeout(PATIENCE) {
            versions.push(
                e.body().parse().unwrap()["payload"]["label"]["version"]
                    .as_u64()
                    .unwrap(),
            );
        }
    }
    assert_eq!(versions, [1, 2, 3, 4, 5]);
    assert_eq!(sender.join().unwrap(), [200; 5]);
    events.close().unwrap();
    let rest: Vec<_> = events.iter().collect();
    assert!(
        matches!(
            rest.last(),
            Some(StreamEvent::Lifecycle(kili::Lifecycle::Closed))
        ),
        "{rest:?}"
    );
}
