//! Many subscriptions at once, and their threads going away. Other tests of the binary run at
//! the same time, so the test counts the threads it named (one per subscription: it reads its
//! own socket) and the server's connections (each with its thread), not the process's threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::*;
use kili::SubscriptionOptions;
use kili_local_server::LocalServer;

#[test]
fn two_hundred_subscriptions_then_no_thread_left() {
    let server = LocalServer::builder().start().unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    append_label(&kili, &project, &asset); // the HTTP connection (and its server thread) exists from here on
    let connections = server.connection_count();

    const N: usize = 200;
    const LABELS: usize = 5;
    let received = Arc::new(AtomicUsize::new(0));
    let subs: Vec<_> = (0..N)
        .map(|i| {
            let r = received.clone();
            // The smallest stack allowed: plenty for ws:// and a small callback.
            let options = SubscriptionOptions::new()
                .thread_name(format!("many-{i}"))
                .stack_size(128 * 1024);
            kili.labels_subscription(&project)
                .options(options)
                .callback(move |_| {
                    r.fetch_add(1, Ordering::Relaxed);
                })
                .unwrap()
        })
        .collect();
    assert_eq!(
        threads_named("many-"),
        N,
        "one thread per subscription, and no other: {:?}",
        thread_names()
    );
    assert!(
        server.connection_count() >= connections + N,
        "one connection per subscription: {}",
        server.connection_count()
    );
    append_labels(&kili, &project, &asset, LABELS);
    assert!(
        wait_for(PATIENCE, || received.load(Ordering::Relaxed) == N * LABELS),
        "every subscription receives every event: {} of {}",
        received.load(Ordering::Relaxed),
        N * LABELS
    );
    for sub in &subs {
        assert_eq!(sub.stats().delivered, LABELS as u64);
        sub.close().unwrap();
    }
    drop(subs);
    assert!(
        wait_for(PATIENCE, || threads_named("many-") == 0
            && server.connection_count() <= connections),
        "after close: {} threads named many-*, {} connections (before: {connections})",
        threads_named("many-"),
        server.connection_count()
    );

    // Dropped without close(): the threads end on their own.
    let dropped: Vec<_> = (0..20)
        .map(|i| {
            let options = SubscriptionOptions::new().thread_name(format!("dropped-{i}"));
            kili.labels_subscription(&project)
                .options(options)
                .callback(|_| {})
                .unwrap()
        })
        .collect();
    assert!(threads_named("dropped-") >= dropped.len());
    drop(dropped);
    assert!(
        wait_for(PATIENCE, || threads_named("dropped-") == 0
            && server.connection_count() <= connections),
        "after drop: {} threads named dropped-*, {} connections (before: {connections})",
        threads_named("dropped-"),
        server.connection_count()
    );
    assert!(
        !thread_names()
            .iter()
            .any(|n| n.starts_with("dropped-") || n.starts_with("many-"))
    );
}
