//! Losing the server and getting it back: nothing lost, nothing twice, backoff observed.

use std::collections::HashMap;
use std::time::Duration;

use crate::support::*;
use kili::{EventOrigin, LabelStream, Lifecycle, StreamEvent, SubscriptionOptions};
use kili_local_server::LocalServer;

/// Reads the stream until every id in `want` was seen (or the patience runs out); returns how
/// many times each label id was delivered, and the lifecycle events met.
fn collect(
    events: &LabelStream,
    want: &[String],
    seen: &mut HashMap<String, usize>,
    life: &mut Vec<Lifecycle>,
) {
    let deadline = std::time::Instant::now() + PATIENCE;
    while !want.iter().all(|id| seen.contains_key(id)) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match events.recv_timeout(left) {
            Ok(StreamEvent::Event(e)) => *seen.entry(e.label().id().to_owned()).or_default() += 1,
            Ok(StreamEvent::Lifecycle(l)) => life.push(l),
            Ok(_) => {}
            Err(e) => panic!(
                "missing {:?}: {e}",
                want.iter()
                    .filter(|id| !seen.contains_key(*id))
                    .collect::<Vec<_>>()
            ),
        }
    }
}

#[test]
fn server_restart_on_the_same_port_delivers_every_label_once() {
    let server = LocalServer::builder().start().unwrap();
    let port = server.addr().port();
    let key = server.api_key().to_owned();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);

    let (min, max) = (Duration::from_millis(40), Duration::from_millis(320));
    let options = SubscriptionOptions::new().backoff(min, max);
    let events = kili
        .labels_subscription(&project)
        .options(options)
        .stream()
        .unwrap();
    let (mut seen, mut life) = (HashMap::new(), Vec::new());

    let mut expected = append_labels(&kili, &project, &asset, 5);
    collect(&events, &expected, &mut seen, &mut life);

    // The server goes away; the subscription retries with growing delays.
    let state = server.state();
    server.stop();
    let sub = events.handle();
    let mut reconnecting = Vec::new();
    while reconnecting.len() < 4 {
        match events
            .recv_timeout(PATIENCE)
            .expect("reconnection attempts are reported")
        {
            StreamEvent::Lifecycle(Lifecycle::Reconnecting {
                attempt,
                delay,
                cause,
            }) => {
                reconnecting.push((attempt, delay));
                assert!(cause.is_retryable(), "{cause}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    for (i, (attempt, delay)) in reconnecting.iter().enumerate() {
        assert_eq!(
            *attempt as usize,
            i + 1,
            "attempts count up: {reconnecting:?}"
        );
        let cap = min.saturating_mul(1 << i).min(max);
        assert!(*delay <= cap, "attempt {attempt}: {delay:?} > cap {cap:?}");
    }
    assert!(sub.stats().connection_attempts >= 4);

    // Meanwhile labels are created (through a second server on the same data) ...
    let other = LocalServer::builder()
        .api_key(&key)
        .state(state)
        .start()
        .unwrap();
    let missed = append_labels(&client(&other), &project, &asset, 7);
    expected.extend(missed.iter().cloned());
    let state = other.state();
    other.stop();

    // ... and the server comes back on the same port.
    let server = LocalServer::builder()
        .port(port)
        .api_key(&key)
        .state(state)
        .start()
        .unwrap();
    assert_eq!(server.addr().port(), port);
    // The catch-up runs before `Reconnected` is reported; live labels come after it, so the
    // count of caught-up labels is exactly the missed ones.
    collect(&events, &missed, &mut seen, &mut life);
    let deadline = std::time::Instant::now() + PATIENCE;
    while !life
        .iter()
        .any(|l| matches!(l, Lifecycle::Reconnected { .. }))
    {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match events.recv_timeout(left) {
            Ok(StreamEvent::Event(e)) => *seen.entry(e.label().id().to_owned()).or_default() += 1,
            Ok(StreamEvent::Lifecycle(l)) => life.push(l),
            Ok(_) => {}
            Err(e) => panic!("no reconnection reported: {e} ({:?})", sub.state()),
        }
    }
    assert!(sub.state().is_active(), "{:?}", sub.state());
    let live = append_labels(&kili, &project, &asset, 5);
    expected.extend(live);
    collect(&events, &expected, &mut seen, &mut life);

    for id in &expected {
        assert_eq!(seen.get(id), Some(&1), "label {id} delivered exactly once");
    }
    assert_eq!(seen.len(), expected.len(), "nothing else delivered");
    let reconnected: Vec<_> = life
        .iter()
        .filter_map(|l| match l {
            Lifecycle::Reconnected { missed, .. } => Some(*missed),
            _ => None,
        })
        .collect();
    assert_eq!(
        reconnected,
        vec![missed.len()],
        "the missed labels came by catch-up"
    );
    let stats = sub.stats();
    assert_eq!(stats.reconnects, 1);
    assert_eq!(stats.caught_up, missed.len() as u64);
    assert_eq!(stats.delivered, expected.len() as u64);
}

#[test]
fn server_ended_subscriptions_go_on_transparently() {
    let server = LocalServer::builder()
        .subscription_lifetime(Duration::from_secs(1))
        .start()
        .unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let options =
        SubscriptionOptions::new().backoff(Duration::from_millis(20), Duration::from_millis(200));
    let events = kili
        .labels_subscription(&project)
        .options(options)
        .stream()
        .unwrap();
    let sub = events.handle();

    // Labels keep coming while the server ends the subscription every second.
    let mut expected = Vec::new();
    let deadline = std::time::Instant::now() + PATIENCE;
    while sub.stats().reconnects < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the subscription did not come back: {:?}",
            sub.stats()
        );
        expected.extend(append_labels(&kili, &project, &asset, 2));
        // Pacing the producer (not synchronisation): about 20 labels a second.
        std::thread::sleep(Duration::from_millis(100));
    }
    expected.extend(append_labels(&kili, &project, &asset, 2));
    let (mut seen, mut life) = (HashMap::new(), Vec::new());
    collect(&events, &expected, &mut seen, &mut life);
    for id in &expected {
        assert_eq!(seen.get(id), Some(&1), "label {id} delivered exactly once");
    }
    assert!(sub.state().is_active());
    assert!(
        life.iter()
            .any(|l| matches!(l, Lifecycle::Reconnected { .. }))
    );
}

#[test]
fn events_fetched_by_catch_up_are_marked() {
    // A catch-up event looks like a live one, with a frame of the same shape.
    let server = LocalServer::builder().start().unwrap();
    let port = server.addr().port();
    let key = server.api_key().to_owned();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let options =
        SubscriptionOptions::new().backoff(Duration::from_millis(200), Duration::from_millis(400));
    let events = kili
        .labels_subscription(&project)
        .options(options)
        .stream()
        .unwrap();
    let state = server.state();
    server.stop();
    let other = LocalServer::builder()
        .api_key(&key)
        .state(state)
        .start()
        .unwrap();
    let id = append_label(&client(&other), &project, &asset);
    let state = other.state();
    other.stop();
    let _server = LocalServer::builder()
        .port(port)
        .api_key(&key)
        .state(state)
        .start()
        .unwrap();
    let event = loop {
        match events.recv_timeout(PATIENCE).unwrap() {
            StreamEvent::Event(e) => break e,
            _ => continue,
        }
    };
    assert_eq!(event.label().id(), id);
    assert_eq!(event.origin(), EventOrigin::CatchUp);
    assert_eq!(event.frame()["type"], "data");
    assert_eq!(event.frame()["id"], event.subscription_id());
    assert_eq!(event.frame()["payload"]["data"]["data"]["id"], id.as_str());
}
