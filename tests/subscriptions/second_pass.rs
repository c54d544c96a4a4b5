//! Exactly once, second pass: the defects a read of the subscription found that the first
//! pass's tests did not reach, each with the scenario that shows it. A failed catch-up that
//! was never retried, an overlap ended by a clock, live updates taken for echoes, a capacity
//! cut inside one millisecond, racing resets, waits that hang, a gap reported too late, and a
//! label too large for the socket.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use crossbeam_channel::{Receiver, bounded, unbounded};
use kili::{
    Checkpoint, EventOrigin, Kili, LabelEvent, LabelUpdate, Lifecycle, Subscription,
    SubscriptionOptions, SubscriptionState,
};
use kili_local_server::LocalServer;
use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::support::*;

/// What the callback saw: (label id, its response, origin), in order.
type Seen = Arc<Mutex<Vec<(String, Value, EventOrigin)>>>;

fn entry(e: &LabelEvent) -> (String, Value, EventOrigin) {
    let response = e
        .label()
        .json_response()
        .map(|r| r.parse().unwrap())
        .unwrap_or(Value::Null);
    (e.label().id().to_owned(), response, e.origin())
}

fn fast() -> SubscriptionOptions {
    SubscriptionOptions::new().backoff(Duration::from_millis(5), Duration::from_millis(50))
}

/// Lifecycle events of a subscription, on a channel.
fn with_lifecycle(options: SubscriptionOptions) -> (SubscriptionOptions, Receiver<Lifecycle>) {
    let (tx, rx) = unbounded();
    (options.on_lifecycle(move |l| drop(tx.send(l.clone()))), rx)
}

fn version(n: u64) -> Value {
    json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}, "v": n})
}

fn update(kili: &Kili, label: &str, response: Value) {
    kili.update_properties_in_label(label, &LabelUpdate::new().json_response(response))
        .unwrap();
}

/// Cuts the subscription's connection and keeps the proxy closed until `refuse(false)`.
fn cut(proxy: &FaultProxy) {
    proxy.refuse(true);
    proxy.drop_connections();
}

fn wait_reconnecting(sub: &Subscription) {
    assert!(
        wait_for(PATIENCE, || matches!(
            sub.state(),
            SubscriptionState::Reconnecting
        )),
        "the subscription saw the cut: {:?}",
        sub.state()
    );
}

/// Each (id, response) at most once; returns how many times each id was seen.
fn assert_no_version_twice(seen: &[(String, Value, EventOrigin)]) -> HashMap<String, usize> {
    let mut versions = HashMap::new();
    let mut per_id = HashMap::new();
    for (id, response, origin) in seen {
        let n = versions
            .entry((id.clone(), response.to_string()))
            .or_insert(0);
        *n += 1;
        assert_eq!(
            *n, 1,
            "{id} {response} delivered twice (the second {origin:?})"
        );
        *per_id.entry(id.clone()).or_insert(0) += 1;
    }
    per_id
}

// A1. A catch-up that fails with an error that is not retryable (HTTP 500) is retried until it
// succeeds; neither live events nor checkpoints move the resume point past it meanwhile.
#[test]
fn a_failed_catch_up_is_retried_and_the_checkpoint_waits_for_it() {
    let server = server();
    let proxy = FaultProxy::start(server.addr());
    let kili = builder(server.api_key(), proxy.endpoint()).build().unwrap();
    let writer = client(&server);
    let (project, asset) = project_with_asset(&writer);
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let (options, life) = with_lifecycle(fast());
    let checkpoints: Arc<Mutex<Vec<Checkpoint>>> = Arc::default();
    let cps = checkpoints.clone();
    let sub = kili
        .labels_subscription(&project)
        .options(options)
        .callback(move |e| {
            s.lock().push(entry(e));
            cps.lock().push(e.checkpoint().clone());
        })
        .unwrap();
    append_label(&writer, &project, &asset);
    assert!(wait_for(PATIENCE, || seen.lock().len() == 1));

    cut(&proxy);
    wait_reconnecting(&sub);
    let missed = append_labels(&writer, &project, &asset, 50);
    // The catch-up's first request fails; a live label arrives right after the reconnection.
    server.fail_next_requests(1, 500, None);
    proxy.refuse(false);
    assert!(
        life.iter()
            .any(|l| matches!(l, Lifecycle::CatchUpFailed { .. })),
        "the failure is reported"
    );
    let live = append_label(&writer, &project, &asset);
    assert!(
        wait_for(PATIENCE, || seen.lock().len() >= 52),
        "{} of 52 labels: the 50 missed ones were never fetched again",
        seen.lock().len()
    );
    let ids: Vec<String> = seen.lock().iter().map(|(id, ..)| id.clone()).collect();
    for id in missed.iter().chain([&live]) {
        assert!(ids.contains(id), "{id} delivered");
    }
    assert_no_version_twice(&seen.lock());

    // A checkpoint taken between the failure and the retry still resumes before the gap.
    let first_after_gap = checkpoints.lock()[1].clone();
    sub.close().unwrap();
    let again: Seen = Arc::default();
    let a = again.clone();
    let resumed = kili
        .labels_subscription(&project)
        .options(fast().resume_from(first_after_gap))
        .callback(move |e| a.lock().push(entry(e)))
        .unwrap();
    assert!(
        wait_for(PATIENCE, || again.lock().len() >= 50),
        "{} labels after resuming",
        again.lock().len()
    );
    resumed.close().unwrap();
}

// A2. The overlap between a catch-up and the live stream ends by what has been read, not by a
// clock: echoes of caught-up labels still in the socket behind slow deliveries are not
// delivered again.
#[test]
fn echoes_behind_slow_live_deliveries_are_not_delivered_again() {
    let server = server();
    let proxy = FaultProxy::start(server.addr());
    let kili = builder(server.api_key(), proxy.endpoint()).build().unwrap();
    let writer = client(&server);
    let (project, asset) = project_with_asset(&writer);
    let before: Arc<OnceLock<Vec<String>>> = Arc::default();
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let once = Arc::new(AtomicBool::new(false));
    let (w, asset2, before2, project2) = (
        client(&server),
        asset.clone(),
        before.clone(),
        project.clone(),
    );
    let during: Arc<Mutex<Vec<String>>> = Arc::default();
    let d = during.clone();
    let sub = kili
        .labels_subscription(&project)
        .options(fast())
        .callback(move |e| {
            s.lock().push(entry(e));
            if e.origin() == EventOrigin::Live {
                // A slow consumer: the socket fills behind it.
                std::thread::sleep(Duration::from_millis(30));
            }
            if e.origin() == EventOrigin::CatchUp && !once.swap(true, Ordering::SeqCst) {
                // While the catch-up delivers, labels from before the gap change (their
                // updates are new, delivered live and slowly), then 20 labels are created:
                // the catch-up reads them later, and their live frames are echoes.
                for (n, id) in before2.get().into_iter().flatten().enumerate() {
                    update(&w, id, version(1000 + n as u64));
                }
                d.lock().extend(append_labels(&w, &project2, &asset2, 20));
            }
        })
        .unwrap();
    let _ = before.set(append_labels(&writer, &project, &asset, 80));
    append_label(&writer, &project, &asset);
    assert!(wait_for(PATIENCE, || seen.lock().len() == 81));

    cut(&proxy);
    wait_reconnecting(&sub);
    // More than a catch-up holds at once (a thousand labels): the labels created during the first
    // window's delivery are read by a later window.
    for _ in 0..12 {
        append_labels(&writer, &project, &asset, 100);
    }
    proxy.refuse(false);
    // 81 before, 1,200 missed, 80 updates, 20 created during the catch-up.
    assert!(
        wait_for(PATIENCE, || seen.lock().len() >= 1381),
        "{} of 1,381 events",
        seen.lock().len()
    );
    assert!(holds_for(Duration::from_secs(3), || seen.lock().len() == 1381));
    let per_id = assert_no_version_twice(&seen.lock());
    for id in during.lock().iter() {
        assert_eq!(per_id.get(id), Some(&1), "{id} once");
    }
    assert_eq!(
        sub.stats().duplicates,
        20,
        "the 20 echoes, and nothing else"
    );
    sub.close().unwrap();
}

// A3. After a catch-up, a live update is an event even when its selected fields are the ones
// the catch-up read (a change outside the selection, or A -> B -> A): only an echo of a
// version published before the catch-up read it is dropped.
#[test]
fn live_updates_right_after_a_catch_up_are_events_even_when_they_repeat_it() {
    let server = server();
    let proxy = FaultProxy::start(server.addr());
    let kili = builder(server.api_key(), proxy.endpoint()).build().unwrap();
    let writer = client(&server);
    let (project, asset) = project_with_asset(&writer);
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let w = client(&server);
    let a = version(1);
    let (a2, b) = (a.clone(), version(2));
    let sub = kili
        .labels_subscription(&project)
        .options(fast())
        .callback(move |e| {
            s.lock().push(entry(e));
            if e.origin() == EventOrigin::CatchUp {
                let id = e.label().id();
                // A change outside the selection, then A -> B -> A.
                w.update_properties_in_label(id, &LabelUpdate::new().is_sent_back_to_queue(true))
                    .unwrap();
                update(&w, id, b.clone());
                update(&w, id, a2.clone());
            }
        })
        .unwrap();
    append_label(&writer, &project, &asset);
    assert!(wait_for(PATIENCE, || seen.lock().len() == 1));
    cut(&proxy);
    wait_reconnecting(&sub);
    let id = append_response(&writer, &project, &asset, a.clone());
    proxy.refuse(false);
    assert!(
        wait_for(PATIENCE, || seen.lock().len() >= 5),
        "{:?}",
        seen.lock()
    );
    assert!(holds_for(Duration::from_millis(500), || seen.lock().len() == 5));
    let of_label: Vec<(Value, EventOrigin)> = seen
        .lock()
        .iter()
        .filter(|(i, ..)| *i == id)
        .map(|(_, r, o)| (r.clone(), *o))
        .collect();
    assert_eq!(
        of_label,
        [
            (a.clone(), EventOrigin::CatchUp),
            (a.clone(), EventOrigin::Live),
            (version(2), EventOrigin::Live),
            (a, EventOrigin::Live),
        ]
    );
    assert_eq!(sub.stats().duplicates, 0, "nothing here was a duplicate");
    sub.close().unwrap();
}

// A5. More labels in one millisecond than the checkpoint's capacity: a checkpoint taken in the
// middle of them still resumes before the rest.
#[test]
fn a_checkpoint_inside_one_crowded_millisecond_resumes_the_rest() {
    let server = LocalServer::builder()
        .created_at_resolution(Duration::from_secs(3600))
        .shuffle_label_pages(true)
        .start()
        .unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let options = || fast().dedupe_capacity(100);
    // A checkpoint from before the labels.
    let first = kili
        .labels_subscription(&project)
        .options(options())
        .callback(|_| {})
        .unwrap();
    let start = first.checkpoint().unwrap();
    first.close().unwrap();
    let all: Vec<String> = (0..3)
        .flat_map(|_| append_labels(&kili, &project, &asset, 100))
        .collect();

    // Resumed, killed after 250 labels: the checkpoint of the 250th is what a process saved.
    let (saved_tx, saved) = bounded(1);
    let count = Arc::new(AtomicUsize::new(0));
    let (c, seen_first): (_, Seen) = (count.clone(), Arc::default());
    let s = seen_first.clone();
    let sub = kili
        .labels_subscription(&project)
        .options(options().resume_from(start))
        .callback(move |e| {
            let n = c.fetch_add(1, Ordering::SeqCst) + 1;
            if n <= 250 {
                s.lock().push(entry(e));
            }
            if n == 250 {
                let _ = saved_tx.send(e.checkpoint().clone());
            }
        })
        .unwrap();
    let saved: Checkpoint = saved.recv_timeout(PATIENCE).expect("250 labels");
    sub.close().unwrap();

    let seen: Seen = Arc::default();
    let s = seen.clone();
    let resumed = kili
        .labels_subscription(&project)
        .options(options().resume_from(saved))
        .callback(move |e| s.lock().push(entry(e)))
        .unwrap();
    assert!(
        wait_for(PATIENCE, || seen.lock().len() >= 50),
        "{} of the 50 labels after the checkpoint",
        seen.lock().len()
    );
    assert!(holds_for(Duration::from_millis(300), || seen.lock().len() == 50));
    let mut everything: Vec<(String, Value, EventOrigin)> = seen_first.lock().clone();
    everything.extend(seen.lock().iter().cloned());
    let per_id = assert_no_version_twice(&everything);
    for id in &all {
        assert_eq!(per_id.get(id), Some(&1), "{id} once across both runs");
    }
    resumed.close().unwrap();
}

// A6. A reset under way when `close` is called (here: waiting for a new connection's
// handshake) returns `Closed` and starts nothing; it used to join the ended thread and start
// the subscription again after `close` had returned.
#[test]
fn a_reset_under_way_never_outlives_close() {
    let server = server();
    let proxy = FaultProxy::start(server.addr());
    let kili = builder(server.api_key(), proxy.endpoint())
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let (project, _asset) = project_with_asset(&client(&server));
    let sub = Arc::new(
        kili.labels_subscription(&project)
            .options(fast().close_timeout(Duration::from_millis(100)))
            .callback(|_| {})
            .unwrap(),
    );
    let attempts = sub.stats().connection_attempts;
    proxy.stall(true);
    let (done_tx, done) = bounded(1);
    let resetter = sub.clone();
    std::thread::spawn(move || done_tx.send(resetter.reset_timeout()).unwrap());
    // The worker took the reset: it is opening a new connection, whose handshake hangs.
    assert!(wait_for(PATIENCE, || sub.stats().connection_attempts > attempts));
    sub.close().unwrap();
    proxy.stall(false);
    let outcome = done.recv_timeout(PATIENCE).expect("the reset returns");
    assert!(matches!(outcome, Err(kili::Error::Closed)), "{outcome:?}");
    assert!(
        holds_for(Duration::from_millis(300), || matches!(
            sub.state(),
            SubscriptionState::Closed
        ) && !thread_alive(
            sub.thread_name()
        )),
        "started again after close: {:?}",
        sub.state()
    );
}

// A6, from the callback and another thread at once.
#[test]
fn a_reset_from_the_callback_and_one_from_another_thread_both_return() {
    let server = server();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let slot: Arc<OnceLock<Arc<Subscription>>> = Arc::default();
    let in_callback = slot.clone();
    let (reset_tx, resets) = unbounded();
    let sub = Arc::new(
        kili.labels_subscription(&project)
            .options(fast())
            .callback(move |_| {
                if let Some(sub) = in_callback.get() {
                    let _ = reset_tx.send(sub.reset_timeout());
                }
            })
            .unwrap(),
    );
    let _ = slot.set(sub.clone());
    let other = sub.clone();
    let (done_tx, done) = bounded(1);
    append_labels(&kili, &project, &asset, 3);
    std::thread::spawn(move || {
        let outcomes: Vec<_> = (0..3).map(|_| other.reset_timeout()).collect();
        done_tx.send(outcomes).unwrap();
    });
    let outcomes = done.recv_timeout(PATIENCE).expect("the resets return");
    assert!(outcomes.iter().all(|o| o.is_ok()), "{outcomes:?}");
    assert!(
        resets
            .recv_timeout(PATIENCE)
            .expect("a reset in the callback")
            .is_ok()
    );
    sub.close().unwrap();
    assert!(holds_for(Duration::from_millis(200), || matches!(
        sub.state(),
        SubscriptionState::Closed
    )));
}

// A7. `wait_timeout` returns on time while a callback runs, and waiting from the
// subscription's own thread is an error, not a deadlock.
#[test]
fn waits_honour_their_timeout_and_refuse_the_subscription_thread() {
    let server = server();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let (release_tx, release) = bounded::<()>(1);
    let (inside_tx, inside) = unbounded();
    let slot: Arc<OnceLock<Arc<Subscription>>> = Arc::default();
    let in_callback = slot.clone();
    let sub = Arc::new(
        kili.label_created_or_updated(&project, move |_| {
            if let Some(sub) = in_callback.get() {
                let _ = inside_tx.send((sub.wait_timeout(Duration::from_secs(1)), sub.wait()));
            }
            let _ = release.recv_timeout(PATIENCE);
        })
        .unwrap(),
    );
    let _ = slot.set(sub.clone());
    append_label(&kili, &project, &asset);
    let (timed, plain) = inside
        .recv_timeout(PATIENCE)
        .expect("waiting from the callback returns");
    assert!(matches!(timed, Some(Err(_))), "{timed:?}");
    assert!(plain.is_err(), "{plain:?}");

    // The callback now blocks until released: a wait of 100 ms must not wait for it.
    let waiter = sub.clone();
    let (out_tx, out) = bounded(1);
    std::thread::spawn(move || out_tx.send(waiter.wait_timeout(Duration::from_millis(100))));
    let outcome = out.recv_timeout(Duration::from_secs(10));
    release_tx.send(()).unwrap();
    assert!(
        matches!(outcome, Ok(None)),
        "wait_timeout waited for the callback: {outcome:?}"
    );
    sub.close().unwrap();
}

/// The `from` of the first `UpdatesMayBeMissed` on `life`.
fn updates_may_be_missed_from(life: &Receiver<Lifecycle>) -> SystemTime {
    loop {
        match life.recv_timeout(PATIENCE) {
            Ok(Lifecycle::UpdatesMayBeMissed { from, .. }) => return from,
            Ok(_) => {}
            Err(e) => panic!("no UpdatesMayBeMissed: {e}"),
        }
    }
}

// A8. The window in which updates may have been missed starts at the last frame handled, not
// when the thread noticed the gap: after a reset, and after a silent connection death.
#[test]
fn the_updates_window_starts_at_the_last_frame_handled() {
    let server = LocalServer::builder()
        .keep_alive(Some(Duration::from_millis(100)))
        .start()
        .unwrap();
    let proxy = FaultProxy::start(server.addr());
    let kili = builder(server.api_key(), proxy.endpoint()).build().unwrap();
    let writer = client(&server);
    let (project, asset) = project_with_asset(&writer);
    let (options, life) = with_lifecycle(fast().keep_alive(Some(Duration::from_millis(100))));
    let (at_tx, at) = unbounded();
    let sub = kili
        .labels_subscription(&project)
        .options(options)
        .callback(move |_| {
            let _ = at_tx.send(SystemTime::now());
        })
        .unwrap();
    append_label(&writer, &project, &asset);
    let last = at.recv_timeout(PATIENCE).unwrap();
    // Another request between the last frame and the reset: time passes.
    writer.count_projects(&kili::ProjectQuery::new()).unwrap();
    let reset_at = SystemTime::now();
    sub.reset_timeout().unwrap();
    let from = updates_may_be_missed_from(&life);
    assert!(
        from < reset_at,
        "the window starts before the reset: {from:?} vs {reset_at:?}"
    );

    // Silent death: the proxy stops forwarding; the watchdog notices three keep-alives later.
    append_label(&writer, &project, &asset);
    at.recv_timeout(PATIENCE).unwrap();
    let stalled_at = SystemTime::now();
    proxy.stall(true);
    wait_reconnecting(&sub);
    proxy.stall(false);
    proxy.drop_connections();
    let from = updates_may_be_missed_from(&life);
    assert!(
        from <= stalled_at,
        "the window starts at the last frame before the stall: {from:?} vs {stalled_at:?}"
    );
    let _ = last;
    sub.close().unwrap();
}

/// A response whose JSON text is about `bytes` long.
fn big_response(bytes: usize) -> Value {
    json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}, "blob": "x".repeat(bytes)})
}

// A10. A label larger than tungstenite's default frame limit (16 MiB) is delivered.
#[test]
fn a_twenty_megabyte_label_is_delivered() {
    let server = LocalServer::builder()
        .max_body_bytes(64 << 20)
        .start()
        .unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let (options, life) = with_lifecycle(fast());
    let (tx, rx) = unbounded();
    let sub = kili
        .labels_subscription(&project)
        .options(options)
        .callback(move |e| drop(tx.send((e.label().id().to_owned(), e.origin()))))
        .unwrap();
    let id = append_response(&kili, &project, &asset, big_response(20 << 20));
    let (got, origin) = rx.recv_timeout(PATIENCE).expect("the big label");
    assert_eq!(got, id);
    assert_eq!(origin, EventOrigin::Live, "not through a reconnection");
    assert_eq!(sub.stats().reconnects, 0);
    assert!(
        life.try_iter()
            .all(|l| !matches!(l, Lifecycle::Reconnecting { .. }))
    );
    sub.close().unwrap();
}

// A10. Over the configured limit, a label is reported once with the limit named, fetched by the
// catch-up, and the subscription goes on: no reconnection loop.
#[test]
fn a_label_over_the_limit_is_reported_once_and_caught_up() {
    let server = server();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let (options, life) = with_lifecycle(fast().max_event_size(64 * 1024));
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let sub = kili
        .labels_subscription(&project)
        .options(options)
        .callback(move |e| s.lock().push(entry(e)))
        .unwrap();
    let big = append_response(&kili, &project, &asset, big_response(100 * 1024));
    let after = append_label(&kili, &project, &asset);
    assert!(
        wait_for(PATIENCE, || seen.lock().len() >= 2),
        "{} events",
        seen.lock().len()
    );
    assert!(holds_for(Duration::from_millis(500), || seen.lock().len() == 2));
    let ids: Vec<String> = seen.lock().iter().map(|(id, ..)| id.clone()).collect();
    assert!(ids.contains(&big) && ids.contains(&after), "{ids:?}");
    let causes: Vec<String> = life
        .try_iter()
        .filter_map(|l| match l {
            Lifecycle::Reconnecting { cause, .. } => Some(describe(&cause)),
            _ => None,
        })
        .collect();
    assert_eq!(causes.len(), 1, "one reconnection: {causes:?}");
    assert!(
        causes[0].contains("65536"),
        "the limit is named: {}",
        causes[0]
    );
    sub.close().unwrap();
}

/// An error with its sources.
fn describe(e: &kili::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The `from` of a checkpoint, from its documented string form
/// (`v1.<base64url of {"from": MS, "labels": [...]}>`).
fn checkpoint_from(cp: &Checkpoint) -> Option<i64> {
    use base64::Engine as _;
    let text = cp.to_string();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.strip_prefix("v1.").expect("v1"))
        .unwrap();
    serde_json::from_slice::<Value>(&json).unwrap()["from"].as_i64()
}

// A4. A label whose `createdAt` is far in the future, missing or unparsable is delivered, but
// never moves the resume point past the server's clock (plus a day).
#[test]
fn bad_timestamps_do_not_move_the_resume_point_out_of_reach() {
    let peer = WsPeer::start(|mut peer| {
        let mut sub = None;
        while let Some(frame) = peer.read_json() {
            let id = frame["id"].as_str().unwrap_or_default().to_owned();
            match frame["type"].as_str() {
                Some("connection_init") => {
                    peer.send_json(&json!({"type": "connection_ack"}));
                }
                Some("start") if id.ends_with("-ready") => {
                    peer.send_json(&json!({"type": "data", "id": id, "payload": {"data": {"__typename": "Query"}}}));
                    peer.send_json(&json!({"type": "complete", "id": id}));
                    break;
                }
                Some("start") => sub = Some(id),
                _ => {}
            }
        }
        let Some(id) = sub else { return };
        for (n, created_at) in [
            json!("2999-01-01T00:00:00.000Z"),
            Value::Null,
            json!("not a date"),
        ]
        .into_iter()
        .enumerate()
        {
            let label = json!({"id": format!("l{n}"), "author": {"email": "a@b.c"}, "labelOf": {"id": "a"},
                "labelType": "DEFAULT", "jsonResponse": "{}", "createdAt": created_at});
            peer.send_json(
                &json!({"type": "data", "id": id, "payload": {"data": {"data": label}}}),
            );
        }
        peer.hold();
    });
    let kili = client_for(&peer.endpoint());
    let (tx, rx) = unbounded();
    let sub = kili
        .labels_subscription("p")
        .options(fast())
        .callback(move |e| {
            let _ = tx.send(e.checkpoint().clone());
        })
        .unwrap();
    let latest = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + 86_400_000;
    for n in 0..3 {
        let cp = rx.recv_timeout(PATIENCE).expect("each label is delivered");
        let from = checkpoint_from(&cp).expect("a resume point");
        assert!(
            from <= latest,
            "label {n}: the resume point {from} is past the server's clock plus a day ({latest})"
        );
    }
    sub.close().unwrap();
}

/// A `graphql-ws` peer that acknowledges, answers the probe (if `probe`), then runs `then`
/// with the subscription's id; it records every frame the client sent.
fn scripted(
    probe: bool,
    frames: Arc<Mutex<Vec<Value>>>,
    then: impl Fn(&mut Peer, &str) + Send + Sync + 'static,
) -> WsPeer {
    WsPeer::start(move |mut peer| {
        let mut sub = None;
        while let Some(frame) = peer.read_json() {
            frames.lock().push(frame.clone());
            let id = frame["id"].as_str().unwrap_or_default().to_owned();
            match frame["type"].as_str() {
                Some("connection_init") => {
                    peer.send_json(&json!({"type": "connection_ack"}));
                }
                Some("start") if id.ends_with("-ready") => {
                    peer.send_json(&json!({"type": "data", "id": id, "payload": {"data": {"__typename": "Query"}}}));
                    peer.send_json(&json!({"type": "complete", "id": id}));
                    break;
                }
                Some("start") => {
                    sub = Some(id);
                    if !probe {
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(id) = sub else { return };
        then(&mut peer, &id);
        while let Some(frame) = peer.read_json() {
            frames.lock().push(frame);
        }
    })
}

fn label_frame(id: &str, n: u64, created_at: Value) -> Value {
    let label = json!({"id": format!("l{n}"), "author": {"email": "a@b.c"}, "labelOf": {"id": "a"},
        "labelType": "DEFAULT", "jsonResponse": "{}", "createdAt": created_at});
    json!({"type": "data", "id": id, "payload": {"data": {"data": label}}})
}

// Hostile frames the subscription already survived, kept in a test: not JSON, missing
// fields, JSON nested 100,000 deep, a null `createdAt`, binary and unknown frames. Each is
// skipped; the labels around them arrive, on the same connection.
#[test]
fn hostile_frames_are_skipped_on_the_same_connection() {
    let frames = Arc::new(Mutex::new(Vec::new()));
    let peer = scripted(true, frames, |peer, id| {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let hostile = [
            "this is not JSON".to_owned(),
            json!({"type": "data", "id": id}).to_string(),
            json!({"type": "data", "id": id, "payload": {"data": {}}}).to_string(),
            json!({"type": "data", "id": id, "payload": {"data": {"data": {"jsonResponse": "{}"}}}}).to_string(),
            format!(r#"{{"type":"data","id":"{id}","payload":{deep}}}"#),
            deep,
            json!({"type": "no-such-type", "id": id}).to_string(),
        ];
        peer.send_json(&label_frame(id, 0, json!("2026-01-01T00:00:00.000Z")));
        for text in hostile {
            let _ = peer.ws.send(tungstenite::Message::text(text));
        }
        let _ = peer
            .ws
            .send(tungstenite::Message::binary(vec![0u8, 159, 146, 150]));
        peer.send_json(&label_frame(id, 1, Value::Null));
        peer.send_json(&label_frame(id, 2, json!("2026-01-01T00:00:00.001Z")));
    });
    let kili = client_for(&peer.endpoint());
    let (tx, rx) = unbounded();
    let sub = kili
        .labels_subscription("p")
        .options(fast())
        .callback(move |e| drop(tx.send(e.label().id().to_owned())))
        .unwrap();
    let ids: Vec<String> = (0..3)
        .map(|_| {
            rx.recv_timeout(PATIENCE)
                .expect("the labels around the junk")
        })
        .collect();
    assert_eq!(ids, ["l0", "l1", "l2"]);
    assert_eq!(sub.stats().reconnects, 0, "the same connection");
    assert_eq!(peer.connections(), 1);
    sub.close().unwrap();
}

// The probe can be turned off: the client then sends exactly the SDK's frames.
#[test]
fn without_the_probe_only_the_sdks_frames_are_sent() {
    let frames = Arc::new(Mutex::new(Vec::new()));
    let peer = scripted(false, frames.clone(), |peer, id| {
        peer.send_json(&label_frame(id, 0, json!("2026-01-01T00:00:00.000Z")));
    });
    let kili = client_for(&peer.endpoint());
    let (tx, rx) = unbounded();
    let sub = kili
        .labels_subscription("p")
        .options(fast().registration_probe(false))
        .callback(move |e| drop(tx.send(e.label().id().to_owned())))
        .unwrap();
    assert_eq!(rx.recv_timeout(PATIENCE).expect("the label"), "l0");
    sub.close().unwrap();
    let kinds: Vec<String> = frames
        .lock()
        .iter()
        .map(|f| f["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        !frames
            .lock()
            .iter()
            .any(|f| f.to_string().contains("__typename")),
        "no probe: {kinds:?}"
    );
    assert_eq!(kinds[..2], ["connection_init", "start"], "{kinds:?}");
}

// After `close()` returns, even with a zero close timeout, no callback runs.
#[test]
fn no_callback_after_close_even_with_a_zero_timeout() {
    let server = server();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let writer = client(&server);
    let (p2, a2) = (project.clone(), asset.clone());
    let flood = Arc::new(AtomicBool::new(true));
    let f = flood.clone();
    let feeder = std::thread::spawn(move || {
        while f.load(Ordering::SeqCst) {
            append_labels(&writer, &p2, &a2, 20);
        }
    });
    for _ in 0..20 {
        let closed = Arc::new(AtomicBool::new(false));
        let late = Arc::new(AtomicUsize::new(0));
        let (c, l) = (closed.clone(), late.clone());
        let (first_tx, first) = bounded(1);
        let sub = kili
            .labels_subscription(&project)
            .options(fast().close_timeout(Duration::ZERO))
            .callback(move |_| {
                let _ = first_tx.try_send(());
                if c.load(Ordering::SeqCst) {
                    l.fetch_add(1, Ordering::SeqCst);
                }
            })
            .unwrap();
        first.recv_timeout(PATIENCE).expect("events flow");
        sub.close().unwrap();
        closed.store(true, Ordering::SeqCst);
        assert!(wait_for(PATIENCE, || !thread_alive(sub.thread_name())));
        assert_eq!(
            late.load(Ordering::SeqCst),
            0,
            "a callback ran after close returned"
        );
    }
    flood.store(false, Ordering::SeqCst);
    feeder.join().unwrap();
}

/// Answers a WebSocket handshake with the first subprotocol the client offered.
// tungstenite's handshake callback type has a large error variant; not ours to change.
#[allow(clippy::result_large_err)]
fn echo_protocol(
    req: &tungstenite::handshake::server::Request,
    mut resp: tungstenite::handshake::server::Response,
) -> Result<tungstenite::handshake::server::Response, tungstenite::handshake::server::ErrorResponse>
{
    if let Some(p) = req.headers().get("Sec-WebSocket-Protocol") {
        resp.headers_mut()
            .insert("Sec-WebSocket-Protocol", p.clone());
    }
    Ok(resp)
}

// The constructor returns within its documented bound (the connect and ack timeouts, twice,
// plus the close timeout and a second), even when checking a refused key over HTTP would
// take much longer.
#[test]
fn the_constructor_never_blocks_past_its_bound() {
    // Refuses every subscription (4403), and never answers HTTP: the key check the client
    // makes after a refusal would wait for the request timeout (60 s) and retry.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!(
        "http://{}/api/label/v2/graphql",
        listener.local_addr().unwrap()
    );
    let (hold_tx, hold) = bounded::<()>(0);
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let hold = hold.clone();
            std::thread::spawn(move || {
                let mut head = [0u8; 3];
                if tcp.peek(&mut head).is_ok()
                    && &head == b"GET"
                    && let Ok(mut ws) = tungstenite::accept_hdr(tcp, echo_protocol)
                {
                    let _ = ws.read();
                    let _ = ws.close(Some(tungstenite::protocol::CloseFrame {
                        code: tungstenite::protocol::frame::coding::CloseCode::from(4403),
                        reason: "forbidden".into(),
                    }));
                    let _ = ws.flush();
                }
                // Anything else (the key check over HTTP) is never answered.
                let _ = hold.recv();
            });
        }
    });
    let ws = endpoint;
    let kili = builder("k", ws)
        .connect_timeout(Duration::from_millis(300))
        .request_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let options = SubscriptionOptions::new()
        .protocol(kili::WsProtocol::GraphqlTransportWs)
        .ack_timeout(Duration::from_millis(300))
        .close_timeout(Duration::from_millis(100));
    let (tx, rx) = bounded(1);
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let outcome = kili
            .labels_subscription("p")
            .options(options)
            .callback(|_| {});
        let _ = tx.send((outcome.map(|_| ()), started.elapsed()));
    });
    // The bound: 0.1 + 2 x 0.3 + 2 x 0.3 + 1 = 2.3 s; a 60 s key check must not be waited for.
    let (outcome, _took) = rx
        .recv_timeout(Duration::from_secs(15))
        .expect("the constructor returned");
    assert!(outcome.is_err(), "{outcome:?}");
    drop(hold_tx);
}

// A connection that stayed up longer than the largest backoff delay starts the count over:
// the next reconnection is attempt 1 again.
#[test]
fn the_backoff_starts_over_after_a_connection_that_held() {
    let server = LocalServer::builder()
        .subscription_lifetime(Duration::from_millis(400))
        .start()
        .unwrap();
    let kili = client(&server);
    let (project, _) = project_with_asset(&kili);
    let options =
        SubscriptionOptions::new().backoff(Duration::from_millis(5), Duration::from_millis(100));
    let (options, life) = with_lifecycle(options);
    let sub = kili
        .labels_subscription(&project)
        .options(options)
        .callback(|_| {})
        .unwrap();
    let mut attempts = Vec::new();
    while attempts.len() < 4 {
        if let Lifecycle::Reconnecting { attempt, .. } =
            life.recv_timeout(PATIENCE).expect("lifecycle events")
        {
            attempts.push(attempt);
        }
    }
    assert_eq!(
        attempts,
        [1, 1, 1, 1],
        "each connection held 400 ms > the 100 ms backoff cap"
    );
    sub.close().unwrap();
}
