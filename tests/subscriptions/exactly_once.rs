//! Every label created or updated, exactly once: live updates are never merged, a gap is caught
//! up completely whatever the server's order and timestamps, a limit keeps the newest, and a
//! checkpoint resumes a new subscription (a restarted process) where the last one stopped.
//! The server runs in its demanding modes: equal timestamps, shuffled pages.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, unbounded};
use kili::{
    Checkpoint, EventOrigin, Kili, LabelEvent, LabelUpdate, Lifecycle, StreamEvent, Subscription,
    SubscriptionOptions,
};
use kili_local_server::LocalServer;
use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::support::*;

/// A server as demanding as Kili can be: one `createdAt` for every label of the test (an hour
/// of resolution), and label pages in no useful order.
fn demanding_server() -> LocalServer {
    LocalServer::builder()
        .created_at_resolution(Duration::from_secs(3600))
        .shuffle_label_pages(true)
        .start()
        .unwrap()
}

/// What the callback saw: (label id, its response, origin), in order.
type Seen = Arc<Mutex<Vec<(String, Value, EventOrigin)>>>;

fn record(seen: &Seen) -> impl FnMut(&LabelEvent) + Send + 'static {
    let seen = seen.clone();
    move |e: &LabelEvent| {
        let response = e
            .label()
            .json_response()
            .map(|r| r.parse().unwrap())
            .unwrap_or(Value::Null);
        seen.lock()
            .push((e.label().id().to_owned(), response, e.origin()));
    }
}

fn versions(n: u64) -> Value {
    json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}, "v": n})
}

fn update(kili: &Kili, label: &str, response: Value) {
    kili.update_properties_in_label(label, &LabelUpdate::new().json_response(response))
        .unwrap();
}

/// Cuts the subscription's connection and holds the proxy closed until `reopen`.
fn delete(kili: &Kili, label: &str) {
    kili.delete_labels([label]).unwrap();
}

fn cut(proxy: &FaultProxy) {
    proxy.refuse(true);
    proxy.drop_connections();
}

fn fast() -> SubscriptionOptions {
    SubscriptionOptions::new().backoff(Duration::from_millis(5), Duration::from_millis(50))
}

#[test]
fn live_versions_are_never_merged() {
    let server = server();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let seen: Seen = Arc::default();
    let sub = kili
        .label_created_or_updated(&project, record(&seen))
        .unwrap();
    let a = json!({"JOB_0": {"categories": [{"name": "A"}]}});
    let b = json!({"JOB_0": {"categories": [{"name": "B"}]}});
    let id = append_response(&kili, &project, &asset, a.clone());
    update(&kili, &id, b.clone());
    update(&kili, &id, a.clone());
    // A change outside the selection: the same event again, still an event.
    kili.update_properties_in_label(&id, &LabelUpdate::new().is_sent_back_to_queue(true))
        .unwrap();
    assert!(
        wait_for(PATIENCE, || seen.lock().len() == 4),
        "{:?}",
        seen.lock()
    );
    assert!(holds_for(Duration::from_millis(300), || seen.lock().len() == 4));
    let responses: Vec<Value> = seen.lock().iter().map(|(_, r, _)| r.clone()).collect();
    assert_eq!(responses, [a.clone(), b, a.clone(), a]);
    assert_eq!(sub.stats().duplicates, 0);
}

#[test]
fn a_fresh_subscription_has_a_checkpoint_as_soon_as_it_is_returned() {
    let server = server();
    let kili = client(&server);
    let (project, _asset) = project_with_asset(&kili);
    // The race the bench found: the handle returned before the checkpoint was set.
    for _ in 0..50 {
        let sub = kili.label_created_or_updated(&project, |_| {}).unwrap();
        let checkpoint = sub.checkpoint();
        sub.close().unwrap();
        let checkpoint = checkpoint.expect("a checkpoint once label_created_or_updated returns");
        assert_eq!(checkpoint.len(), 0, "nothing delivered yet");
    }
}

/// Waits until the callback saw `n` events; returns them.
fn wait_seen(seen: &Seen, n: usize) -> Vec<(String, Value, EventOrigin)> {
    assert!(
        wait_for(PATIENCE, || seen.lock().len() >= n),
        "{} of {n} events",
        seen.lock().len()
    );
    seen.lock().clone()
}

#[test]
fn a_gap_with_equal_timestamps_and_shuffled_pages_is_caught_up_once_each() {
    let server = demanding_server();
    let proxy = FaultProxy::start(server.addr());
    let kili = builder(server.api_key(), proxy.endpoint()).build().unwrap();
    let writer = client(&server);
    let (project, asset) = project_with_asset(&writer);
    let seen: Seen = Arc::default();
    let more = Arc::new(Mutex::new(Vec::new()));
    let (more_w, writer2, project2, asset2, seen2) = (
        more.clone(),
        client(&server),
        project.clone(),
        asset.clone(),
        seen.clone(),
    );
    let mut record = record(&seen);
    let sub = kili
        .labels_subscription(&project)
        .options(fast())
        .callback(move |e| {
            record(e);
            // While the catch-up pages through one millisecond, 40 more labels land in it,
            // in shuffled places: the pages shift under it.
            if e.origin() == EventOrigin::CatchUp && seen2.lock().len() == 1 {
                more_w
                    .lock()
                    .extend(append_labels(&writer2, &project2, &asset2, 40));
            }
        })
        .unwrap();
    // Labels delivered before the gap, that other users delete during the catch-up: the pages
    // shift the other way too.
    let victims = append_labels(&writer, &project, &asset, 60);
    assert!(wait_for(PATIENCE, || seen.lock().len() == 60));
    seen.lock().clear();
    cut(&proxy);
    let mut created = Vec::new();
    for n in [100, 100, 50] {
        created.extend(append_labels(&writer, &project, &asset, n));
    }
    // While the catch-up pages, other writers go on writing into the same millisecond.
    let background = {
        let (writer, asset) = (client(&server), asset.clone());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        let mut victims = victims;
        let handle = std::thread::spawn(move || {
            let mut ids = Vec::new();
            while !s.load(std::sync::atomic::Ordering::SeqCst) && ids.len() < 100 {
                ids.extend(append_labels(&writer, &project, &asset, 5));
                for _ in 0..3 {
                    if let Some(v) = victims.pop() {
                        delete(&writer, &v);
                    }
                }
            }
            ids
        });
        (stop, handle)
    };
    // A slow network: the catch-up's pages take a while, and the writes land between them.
    proxy.delay(Duration::from_millis(30));
    proxy.refuse(false);
    let originals = created.clone();
    assert!(
        wait_for(PATIENCE, || {
            let seen = seen.lock();
            originals
                .iter()
                .all(|id| seen.iter().any(|(s, _, _)| s == id))
        }),
        "every label written during the gap arrives"
    );
    background
        .0
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let written = background.1.join().unwrap();
    let total = 290 + written.len();
    created.extend(written);
    let expected: Vec<String> = {
        let all = wait_seen(&seen, total);
        assert!(holds_for(Duration::from_millis(500), || seen.lock().len() == total));
        created.extend(more.lock().iter().cloned());
        all.into_iter().map(|(id, _, _)| id).collect()
    };
    let mut counts: HashMap<&String, usize> = HashMap::new();
    for id in &expected {
        *counts.entry(id).or_default() += 1;
    }
    assert_eq!(counts.len(), total, "every label");
    assert!(counts.values().all(|&n| n == 1), "none twice");
    for id in &created {
        assert_eq!(counts.get(id), Some(&1), "{id}");
    }
    assert!(sub.state().is_active());
}

#[test]
fn a_catch_up_hands_each_window_over_before_fetching_the_next() {
    let server = server();
    let proxy = FaultProxy::start(server.addr());
    let kili = builder(server.api_key(), proxy.endpoint()).build().unwrap();
    let writer = client(&server);
    let (project, asset) = project_with_asset(&writer);
    // How many requests the server had recorded when each catch-up event arrived (counted
    // cheaply here; which of them were `labels` pages is worked out at the end).
    let recorded_then = Arc::new(Mutex::new(Vec::new()));
    let (p, server_ref) = (recorded_then.clone(), Arc::new(server));
    let s = server_ref.clone();
    let sub = kili
        .labels_subscription(&project)
        .options(fast())
        .callback(move |e| {
            if e.origin() == EventOrigin::CatchUp {
                p.lock().push(s.recorded_requests().len());
            }
        })
        .unwrap();
    let mark = mark(&server_ref);
    cut(&proxy);
    // 1,500 labels with many distinct timestamps: more than the catch-up holds at once (a
    // thousand), so several windows whatever their widths.
    for _ in 0..50 {
        append_labels(&writer, &project, &asset, 30);
    }
    proxy.refuse(false);
    wait_for(PATIENCE, || recorded_then.lock().len() >= 1500);
    // pages_before[n]: how many of the first n recorded requests were `labels` pages.
    let mut pages_before = vec![0];
    for r in server_ref.recorded_requests() {
        let page = usize::from(root_field(&r) == "labels");
        pages_before.push(pages_before[pages_before.len() - 1] + page);
    }
    let pages_then: Vec<usize> = recorded_then
        .lock()
        .iter()
        .map(|&n| pages_before[n])
        .collect();
    assert_eq!(
        pages_then.len(),
        1500,
        "catch-up events, by pages answered: {pages_then:?}"
    );
    let pages: Vec<_> = requests_since(&server_ref, &mark)
        .into_iter()
        .filter(|r| root_field(r) == "labels")
        .collect();
    // 1,500 labels in pages of at most 250: six pages at least.
    assert!(pages.len() >= 6, "{} pages", pages.len());
    // Handed over window by window (a window holds at most 1,000): the first label before the
    // last page was fetched, and the labels in several batches, each after its pages.
    let pages_earlier = requests_to(&server_ref, "labels").len() - pages.len();
    assert!(
        pages_then[0] < pages_earlier + pages.len(),
        "the first label was handed over before the last page: {pages_then:?}"
    );
    let mut batches = pages_then.clone();
    batches.dedup();
    assert!(batches.len() >= 2, "handed over in batches: {batches:?}");
    for r in &pages {
        assert!(r.variables["first"].as_u64().unwrap() <= 251);
    }
    assert!(sub.state().is_active());
}

#[test]
fn a_catch_up_limit_delivers_the_newest_and_names_the_gap() {
    let server = server();
    let proxy = FaultProxy::start(server.addr());
    let kili = builder(server.api_key(), proxy.endpoint()).build().unwrap();
    let writer = client(&server);
    let (project, asset) = project_with_asset(&writer);
    let (tx, life) = unbounded();
    let options = fast()
        .catch_up_limit(Some(30))
        .on_lifecycle(move |l| drop(tx.send(l.clone())));
    let seen: Seen = Arc::default();
    let sub = kili
        .labels_subscription(&project)
        .options(options)
        .callback(record(&seen))
        .unwrap();
    cut(&proxy);
    // Ten calls of ten: ten timestamps, each shared by one call's labels.
    let calls: Vec<Vec<String>> = (0..10)
        .map(|_| append_labels(&writer, &project, &asset, 10))
        .collect();
    proxy.refuse(false);
    let truncated = wait_lifecycle(&life, |l| matches!(l, Lifecycle::CatchUpTruncated { .. }));
    let Lifecycle::CatchUpTruncated {
        skipped,
        from,
        until,
    } = truncated
    else {
        unreachable!()
    };
    assert_eq!(skipped, 70);
    assert!(from <= until);
    let got = wait_seen(&seen, 30);
    assert!(holds_for(Duration::from_millis(300), || seen.lock().len() == 30));
    let newest: Vec<&String> = calls[7..].iter().flatten().collect();
    for (id, _, origin) in &got {
        assert!(newest.contains(&id), "{id} is one of the 30 newest");
        assert_eq!(*origin, EventOrigin::CatchUp);
    }
    assert!(sub.state().is_active());
}

fn wait_lifecycle(life: &Receiver<Lifecycle>, pred: impl Fn(&Lifecycle) -> bool) -> Lifecycle {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let l = life.recv_deadline(deadline).expect("the lifecycle event");
        if pred(&l) {
            return l;
        }
    }
}

#[test]
fn updates_made_during_a_gap_are_delivered_and_older_ones_reported() {
    let server = server();
    let proxy = FaultProxy::start(server.addr());
    let kili = builder(server.api_key(), proxy.endpoint()).build().unwrap();
    let writer = client(&server);
    let (project, asset) = project_with_asset(&writer);
    let (tx, life) = unbounded();
    let options = fast().on_lifecycle(move |l| drop(tx.send(l.clone())));
    let seen: Seen = Arc::default();
    let sub = kili
        .labels_subscription(&project)
        .options(options)
        .callback(record(&seen))
        .unwrap();
    let id = append_response(&writer, &project, &asset, versions(1));
    wait_seen(&seen, 1);
    cut(&proxy);
    update(&writer, &id, versions(2));
    let created = append_response(&writer, &project, &asset, versions(10));
    proxy.refuse(false);
    let got = wait_seen(&seen, 3);
    assert!(holds_for(Duration::from_millis(300), || seen.lock().len() == 3));
    let caught: Vec<(String, Value)> = got[1..]
        .iter()
        .map(|(id, r, o)| {
            assert_eq!(*o, EventOrigin::CatchUp);
            (id.clone(), r.clone())
        })
        .collect();
    assert!(
        caught.contains(&(id, versions(2))),
        "the update: {caught:?}"
    );
    assert!(
        caught.contains(&(created, versions(10))),
        "the creation: {caught:?}"
    );
    match wait_lifecycle(&life, |l| matches!(l, Lifecycle::UpdatesMayBeMissed { .. })) {
        Lifecycle::UpdatesMayBeMissed { from, until } => assert!(from <= until),
        _ => unreachable!(),
    }
    assert!(sub.state().is_active());
}

/// Starts a label subscription that records into `seen`, resuming from `checkpoint` if given.
fn subscribe(kili: &Kili, project: &str, seen: &Seen, checkpoint: Option<&str>) -> Subscription {
    let mut options = fast();
    if let Some(text) = checkpoint {
        options = options.resume_from(text.parse::<Checkpoint>().unwrap());
    }
    kili.labels_subscription(project)
        .options(options)
        .callback(record(seen))
        .unwrap()
}

#[test]
fn a_checkpoint_resumes_a_new_subscription_after_a_restart() {
    let server = demanding_server();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    // The first process: three labels, then it stops with its checkpoint saved.
    let seen: Seen = Arc::default();
    let first = subscribe(&kili, &project, &seen, None);
    let before: Vec<String> = (1..=3)
        .map(|n| append_response(&kili, &project, &asset, versions(n)))
        .collect();
    wait_seen(&seen, 3);
    let saved = first
        .checkpoint()
        .expect("a label subscription has one")
        .to_string();
    first.close().unwrap();
    assert!(saved.starts_with("v1."), "{saved}");

    // While it is down: two new labels and an update of an earlier one.
    let new: Vec<String> = (4..=5)
        .map(|n| append_response(&kili, &project, &asset, versions(n)))
        .collect();
    update(&kili, &before[1], versions(20));

    // The next process resumes from the saved text.
    let again: Seen = Arc::default();
    let second = subscribe(&kili, &project, &again, Some(&saved));
    let got = wait_seen(&again, 3);
    assert!(
        holds_for(Duration::from_millis(500), || again.lock().len() == 3),
        "nothing twice: {:?}",
        again.lock()
    );
    let mut got: Vec<(String, Value)> = got.into_iter().map(|(id, r, _)| (id, r)).collect();
    got.sort_by(|a, b| a.1["v"].as_u64().cmp(&b.1["v"].as_u64()));
    assert_eq!(
        got,
        [
            (new[0].clone(), versions(4)),
            (new[1].clone(), versions(5)),
            (before[1].clone(), versions(20)),
        ]
    );
    // Then it goes on live.
    let live = append_response(&kili, &project, &asset, versions(6));
    let got = wait_seen(&again, 4);
    assert_eq!(got[3].0, live);
    assert_eq!(got[3].2, EventOrigin::Live);
    second.close().unwrap();
}

#[test]
fn events_carry_their_checkpoint_and_streams_resume_too() {
    let server = server();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let events = kili.labels_subscription(&project).stream().unwrap();
    let ids = append_labels(&kili, &project, &asset, 2);
    let mut last = None;
    let mut n = 0;
    while n < 2 {
        if let StreamEvent::Event(e) = events.recv_timeout(PATIENCE).unwrap() {
            n += 1;
            assert!(
                e.checkpoint().len() >= n,
                "the event itself is in its checkpoint"
            );
            last = Some(e.checkpoint().clone());
        }
    }
    events.close().unwrap();
    let cp = last.unwrap();
    assert_eq!(cp.to_string().parse::<Checkpoint>().unwrap(), cp);
    let later = append_label(&kili, &project, &asset);
    let resumed = kili
        .labels_subscription(&project)
        .options(SubscriptionOptions::new().resume_from(cp))
        .stream()
        .unwrap();
    let first = loop {
        if let StreamEvent::Event(e) = resumed.recv_timeout(PATIENCE).unwrap() {
            break e;
        }
    };
    assert_eq!(first.label().id(), later);
    assert!(!ids.iter().any(|i| i == first.label().id()));
    assert_eq!(first.origin(), EventOrigin::CatchUp);
}
