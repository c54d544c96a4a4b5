//! Load: many concurrent subscribers while several writers append labels, every subscriber
//! receiving every label of its project exactly once; and a soak with periodic server restarts
//! on the same port, counts exact.
//!
//! `cargo test` runs a smaller load (200 subscribers, 8 writers). The full-size runs are
//! ignored by default; run them with
//!
//! ```text
//! cargo test --release --test reliability -- load:: --ignored --nocapture --test-threads 1
//! ```
//!
//! `KILI_LOAD_SUBSCRIBERS` (default 1000) sizes the big load, `KILI_SOAK_SECS` (default 120)
//! and `KILI_SOAK_RESTART_SECS` (default 5) the soak.
use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::support::*;
use kili::{Kili, Subscription, SubscriptionOptions};
use kili_local_server::LocalServer;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Subscriber {
    project: usize,
    collector: Collector,
    sub: Subscription,
}

/// Starts `n` subscribers spread over the projects, from a few threads at once.
fn subscribe_all(kili: &Kili, projects: &[(String, String)], n: usize) -> Vec<Subscriber> {
    let creators = 4;
    let handles: Vec<_> = (0..creators)
        .map(|c| {
            let kili = kili.clone();
            let projects = projects.to_vec();
            std::thread::spawn(move || {
                (c..n)
                    .step_by(creators)
                    .map(|i| {
                        let project = i % projects.len();
                        let collector = Collector::default();
                        let options = SubscriptionOptions::new()
                            .thread_name(format!("load-{i}"))
                            .backoff(Duration::from_millis(20), Duration::from_millis(500));
                        let sub = kili
                            .labels_subscription(&projects[project].0)
                            .options(options)
                            .callback(collector.callback())
                            .unwrap_or_else(|e| panic!("subscriber {i}: {e}"));
                        Subscriber {
                            project,
                            collector,
                            sub,
                        }
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

/// Every subscriber received every label of its project exactly once; returns the deliveries.
fn check_all(subscribers: &[Subscriber], truth: &[HashSet<String>]) -> usize {
    for (i, s) in subscribers.iter().enumerate() {
        s.collector
            .assert_exactly(&truth[s.project], &format!("subscriber {i}"));
    }
    subscribers.iter().map(|s| s.collector.total()).sum()
}

fn close_all(subscribers: Vec<Subscriber>) {
    for s in &subscribers {
        s.sub.close().unwrap();
    }
}

fn load(subscribers: usize, writers: usize, labels_per_writer: usize, projects: usize) {
    let _serial = serial();
    let server = LocalServer::builder()
        .max_connections(subscribers + 4 * writers + 64)
        .start()
        .unwrap();
    let baseline = worker_baseline(&["kili-local-accept", "kili-local-webhooks"]);
    let kili = resilient_client(server.api_key(), &server.endpoint());
    let projects: Vec<_> = (0..projects).map(|_| project_with_asset(&kili)).collect();

    let started = Instant::now();
    let subs = subscribe_all(&kili, &projects, subscribers);
    let subscribed_in = started.elapsed();
    let started = Instant::now();
    let writers: Vec<_> = (0..writers)
        .map(|w| {
            let (project, asset) = &projects[w % projects.len()];
            Writer::start(
                kili.clone(),
                project,
                asset,
                labels_per_writer,
                Duration::ZERO,
            )
        })
        .collect();
    let reports: Vec<_> = writers.into_iter().map(Writer::join).collect();
    assert!(reports.iter().all(|r| r.errors == 0), "writes failed");
    let truth: Vec<_> = projects
        .iter()
        .map(|(p, _)| store_label_ids(&kili, p))
        .collect();
    for r in &reports {
        assert_writer_in_store(r, &truth.iter().flatten().cloned().collect());
    }
    let labels: usize = truth.iter().map(HashSet::len).sum();
    assert_eq!(labels, reports.len() * labels_per_writer);
    let deliveries = check_all(&subs, &truth);
    eprintln!(
        "load: {subscribers} subscribers on {} projects (subscribed in {subscribed_in:?}), \
         {labels} labels from {} writers, {deliveries} deliveries in {:?}",
        projects.len(),
        reports.len(),
        started.elapsed()
    );
    let expected: usize = subs.iter().map(|s| truth[s.project].len()).sum();
    assert_eq!(deliveries, expected);

    close_all(subs);
    drop(kili);
    assert_no_leak(baseline, &server, "load-");
}

#[test]
fn two_hundred_subscribers_and_eight_writers_all_receive_everything() {
    load(200, 8, 10, 4);
}

#[test]
#[ignore = "heavy: 1,000 subscribers (about 4,000 threads); see the file's docs for the command"]
fn a_thousand_subscribers_and_eight_writers_all_receive_everything() {
    let n = env_or("KILI_LOAD_SUBSCRIBERS", 1000) as usize;
    load(n, 8, 25, 8);
}

/// Starts a server on `port` (retrying while the old one's port is released).
fn restart(port: u16, key: &str, state: kili_local_server::ServerState) -> LocalServer {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match LocalServer::builder()
            .port(port)
            .api_key(key)
            .state(state.clone())
            .max_connections(1024)
            .start()
        {
            Ok(s) => return s,
            Err(e) if Instant::now() < deadline => eprintln!("restart: {e}; again"),
            Err(e) => panic!("cannot restart on {port}: {e}"),
        }
    }
}

#[test]
#[ignore = "soak: minutes long; see the file's docs for the command"]
fn a_soak_with_server_restarts_keeps_counts_exact() {
    let _serial = serial();
    let duration = Duration::from_secs(env_or("KILI_SOAK_SECS", 120));
    let every = Duration::from_secs(env_or("KILI_SOAK_RESTART_SECS", 5));
    let mut server = LocalServer::builder()
        .max_connections(1024)
        .start()
        .unwrap();
    let (port, key, state) = (
        server.addr().port(),
        server.api_key().to_owned(),
        server.state(),
    );
    let baseline = worker_baseline(&["kili-local-accept", "kili-local-webhooks"]);
    let kili = resilient_client(&key, &server.endpoint());
    let projects: Vec<_> = (0..2).map(|_| project_with_asset(&kili)).collect();
    let subs = subscribe_all(&kili, &projects, 20);
    // 8 writers, 20 ms apart each: about 200 labels a second per project, well within the
    // dedupe window (4096 labels) over the catch-up margin (10 s).
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (project, asset) = &projects[w % projects.len()];
            Writer::start(
                kili.clone(),
                project,
                asset,
                usize::MAX,
                Duration::from_millis(20),
            )
        })
        .collect();

    let started = Instant::now();
    let mut restarts = 0;
    while started.elapsed() < duration {
        // The soak's rhythm (not synchronisation): serve for a while, then restart.
        std::thread::sleep(every.min(duration.saturating_sub(started.elapsed())));
        drop(server);
        server = restart(port, &key, state.clone());
        restarts += 1;
    }
    let reports: Vec<_> = writers.into_iter().map(Writer::finish).collect();
    let write_errors: usize = reports.iter().map(|r| r.errors).sum();
    assert!(
        wait_for(PATIENCE, || subs.iter().all(|s| s.sub.state().is_active())),
        "not all subscribers came back"
    );
    let truth: Vec<_> = projects
        .iter()
        .map(|(p, _)| store_label_ids(&kili, p))
        .collect();
    let all: HashSet<String> = truth.iter().flatten().cloned().collect();
    for r in &reports {
        assert_writer_in_store(r, &all);
    }
    let deliveries = check_all(&subs, &truth);
    let reconnects: u64 = subs.iter().map(|s| s.sub.stats().reconnects).sum();
    let caught_up: u64 = subs.iter().map(|s| s.sub.stats().caught_up).sum();
    let duplicates: u64 = subs.iter().map(|s| s.sub.stats().duplicates).sum();
    eprintln!(
        "soak: {:?}, {restarts} restarts, {} labels ({write_errors} writes failed after retries), \
         {deliveries} deliveries to {} subscribers, {reconnects} reconnections, \
         {caught_up} caught up, {duplicates} duplicates dropped",
        started.elapsed(),
        all.len(),
        subs.len()
    );
    assert_eq!(write_errors, 0);
    let written: usize = reports.iter().map(|r| r.ids.len()).sum();
    assert_eq!(all.len(), written, "each write created one label");
    close_all(subs);
    drop(kili);
    assert_no_leak(baseline, &server, "load-");
}
