//! The keep-alive watchdog measures the server's silence, not the program's: a callback that
//! runs longer than the watchdog interval on a quiet connection must not make the subscription
//! think the connection died.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::*;
use kili::SubscriptionOptions;
use kili_local_server::LocalServer;

#[test]
fn a_slow_callback_is_not_a_dead_connection() {
    // No `ka` frames: the connection is quiet unless asked (the subscription pings it).
    let server = LocalServer::builder().keep_alive(None).start().unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let keep_alive = Duration::from_millis(100);
    let options = SubscriptionOptions::new()
        .keep_alive(Some(keep_alive))
        .watchdog_multiple(3);
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let sub = kili
        .labels_subscription(&project)
        .options(options)
        .callback(move |_| {
            c.fetch_add(1, Ordering::SeqCst);
            // The program's own work, longer than the watchdog's limit (300 ms).
            std::thread::sleep(keep_alive * 8);
        })
        .unwrap();
    append_label(&kili, &project, &asset);
    assert!(wait_for(PATIENCE, || calls.load(Ordering::SeqCst) == 1));
    // Quiet but healthy for a few more intervals: the subscription pings, the server answers.
    assert!(
        holds_for(keep_alive * 10, || sub.stats().connection_attempts == 1),
        "{:?}",
        sub.stats()
    );
    assert_eq!(sub.stats().reconnects, 0, "{:?}", sub.stats());
    sub.close().unwrap();
}
