//! The exactly-once promise as a property: random interleavings of creations, updates,
//! deletions, cut connections and restarts of the subscription from its last checkpoint,
//! against a server with equal timestamps and shuffled pages (or not). Whatever happens, no
//! version of a label is delivered twice, each label's versions come in the server's order, and
//! the last version of every label still there is delivered.
//!
//! Every case runs a real server and real sockets (seconds each): `cargo test` runs a few
//! cases; `PROPTEST_CASES=50 cargo test --test subscriptions -- property::` runs more.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use kili::{Checkpoint, Kili, LabelUpdate, Subscription, SubscriptionOptions};
use kili_local_server::LocalServer;
use parking_lot::Mutex;
use proptest::prelude::*;
use serde_json::json;

use crate::support::*;

#[derive(Debug, Clone)]
enum Op {
    /// Labels created in one call.
    Create(usize),
    /// The n-th label still there gets a new version.
    Update(usize),
    /// The n-th label still there is deleted.
    Delete(usize),
    /// The subscription's connection is cut (it reconnects by itself).
    Cut,
    /// The subscription is closed and a new one resumes from the last event's checkpoint, as
    /// a restarted process does.
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1..4usize).prop_map(Op::Create),
        3 => any::<usize>().prop_map(Op::Update),
        1 => any::<usize>().prop_map(Op::Delete),
        1 => Just(Op::Cut),
        1 => Just(Op::Restart),
    ]
}

/// What the callbacks saw: (label id, version), in order; and the last checkpoint.
#[derive(Default)]
struct Delivered {
    events: Vec<(String, u64)>,
    checkpoint: Option<Checkpoint>,
}

fn version(label: &kili::Label) -> u64 {
    label
        .json_response()
        .and_then(|r| r.parse().ok())
        .and_then(|v: serde_json::Value| v["v"].as_u64())
        .unwrap_or(u64::MAX)
}

fn subscribe(
    kili: &Kili,
    project: &str,
    delivered: &Arc<Mutex<Delivered>>,
    from: Option<Checkpoint>,
) -> Subscription {
    let mut options =
        SubscriptionOptions::new().backoff(Duration::from_millis(5), Duration::from_millis(50));
    if let Some(cp) = from {
        options = options.resume_from(cp);
    }
    let d = delivered.clone();
    kili.labels_subscription(project)
        .options(options)
        .callback(move |e| {
            let mut d = d.lock();
            d.events
                .push((e.label().id().to_owned(), version(e.label())));
            d.checkpoint = Some(e.checkpoint().clone());
        })
        .unwrap()
}

fn run(ops: &[Op], equal_timestamps: bool, shuffle: bool) -> Result<(), TestCaseError> {
    let resolution = if equal_timestamps {
        Duration::from_secs(3600)
    } else {
        Duration::from_millis(1)
    };
    let server = LocalServer::builder()
        .created_at_resolution(resolution)
        .shuffle_label_pages(shuffle)
        .start()
        .unwrap();
    let proxy = FaultProxy::start(server.addr());
    let kili = builder(server.api_key(), proxy.endpoint()).build().unwrap();
    let writer = client(&server);
    let (project, asset) = project_with_asset(&writer);
    let delivered = Arc::new(Mutex::new(Delivered::default()));
    let mut sub = subscribe(&kili, &project, &delivered, None);

    // Every version made, per label, in order; and the labels still there.
    let mut versions: HashMap<String, Vec<u64>> = HashMap::new();
    let mut alive: Vec<String> = Vec::new();
    let mut next = 0u64;
    for op in ops {
        match op {
            Op::Create(n) => {
                let responses: Vec<_> = (0..*n)
                    .map(|_| {
                        next += 1;
                        json!({"v": next})
                    })
                    .collect();
                let first = next - *n as u64 + 1;
                let labels =
                    kili::NewLabels::for_assets(&project, vec![asset.as_str(); *n], responses)
                        .label_type(kili::LabelType::Inference);
                for (i, id) in writer
                    .append_labels(&labels)
                    .unwrap()
                    .into_iter()
                    .enumerate()
                {
                    versions.insert(id.clone(), vec![first + i as u64]);
                    alive.push(id);
                }
            }
            Op::Update(i) if !alive.is_empty() => {
                let id = alive[i % alive.len()].clone();
                next += 1;
                let update = LabelUpdate::new().json_response(json!({"v": next}));
                writer.update_properties_in_label(&id, &update).unwrap();
                versions.get_mut(&id).unwrap().push(next);
            }
            Op::Delete(i) if !alive.is_empty() => {
                let id = alive.remove(i % alive.len());
                writer.delete_labels([id]).unwrap();
            }
            Op::Cut => proxy.drop_connections(),
            Op::Restart => {
                sub.close().unwrap();
                let cp = delivered
                    .lock()
                    .checkpoint
                    .clone()
                    .or_else(|| sub.checkpoint());
                sub = subscribe(&kili, &project, &delivered, cp);
            }
            Op::Update(_) | Op::Delete(_) => {}
        }
    }

    // A last label, then every label still there reaches its last version.
    next += 1;
    let sentinel = append_response(&writer, &project, &asset, json!({"v": next}));
    versions.insert(sentinel.clone(), vec![next]);
    alive.push(sentinel);
    let last: HashSet<(String, u64)> = alive
        .iter()
        .map(|id| (id.clone(), *versions[id].last().unwrap()))
        .collect();
    let complete = || {
        let d = delivered.lock();
        let seen: HashSet<&(String, u64)> = d.events.iter().collect();
        last.iter().all(|v| seen.contains(v))
    };
    prop_assert!(
        wait_for(PATIENCE, complete),
        "last versions missing: want {last:?}, got {:?}",
        delivered.lock().events
    );
    // Stragglers (versions of deleted labels) come or not; a duplicate would come now.
    let mut n = delivered.lock().events.len();
    wait_for(PATIENCE, || {
        let stable = holds_for(Duration::from_millis(200), || {
            delivered.lock().events.len() == n
        });
        n = delivered.lock().events.len();
        stable
    });
    sub.close().unwrap();

    let events = delivered.lock().events.clone();
    let mut once = HashSet::new();
    let mut order: HashMap<&str, u64> = HashMap::new();
    for (id, v) in &events {
        prop_assert!(
            once.insert((id, v)),
            "{id} v{v} delivered twice: {events:?}"
        );
        let made = versions.get(id);
        prop_assert!(
            made.is_some_and(|m| m.contains(v)),
            "{id} v{v} was never made"
        );
        let previous = order.insert(id, *v).unwrap_or(0);
        prop_assert!(previous < *v, "{id}: v{v} after v{previous}: {events:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(4),
        max_shrink_iters: 20,
        .. ProptestConfig::default()
    })]

    #[test]
    fn every_version_once_in_order_whatever_happens(
        ops in prop::collection::vec(op(), 4..16),
        equal_timestamps in any::<bool>(),
        shuffle in any::<bool>(),
    ) {
        run(&ops, equal_timestamps, shuffle)?;
    }
}
