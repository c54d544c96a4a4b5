//! The client-side rate limiter, with a small window so the test takes well under 2 s.

use std::time::{Duration, Instant};

use crate::support::*;
use kili::{Kili, ProjectQuery};

const WINDOW: Duration = Duration::from_millis(400);

fn limited(server: &kili_local_server::LocalServer) -> Kili {
    builder(KEY, server.endpoint())
        .rate_limit_per(5, WINDOW)
        .build()
        .unwrap()
}

#[test]
fn the_sixth_call_in_a_window_waits() {
    let server = server();
    let kili = limited(&server);
    let start = Instant::now();
    for _ in 0..5 {
        kili.count_projects(&ProjectQuery::new()).unwrap();
    }
    let sixth = Instant::now();
    kili.count_projects(&ProjectQuery::new()).unwrap();
    // The sixth call could only start a full window after the first one.
    assert!(start.elapsed() >= WINDOW, "{:?}", start.elapsed());
    assert!(sixth.elapsed() > Duration::ZERO);
    assert_eq!(server.recorded_requests().len(), 6);
}

#[test]
fn clones_share_one_limiter() {
    let server = server();
    let a = limited(&server);
    let b = a.clone();
    let start = Instant::now();
    let t = std::thread::spawn(move || {
        for _ in 0..3 {
            b.count_projects(&ProjectQuery::new()).unwrap();
        }
    });
    for _ in 0..3 {
        a.count_projects(&ProjectQuery::new()).unwrap();
    }
    t.join().unwrap();
    assert!(
        start.elapsed() >= WINDOW,
        "six calls on two clones share five slots: {:?}",
        start.elapsed()
    );
}

#[test]
fn separate_clients_have_separate_limiters() {
    let server = server();
    let a = limited(&server);
    let b = limited(&server);
    for _ in 0..5 {
        a.count_projects(&ProjectQuery::new()).unwrap();
    }
    // b has its own budget: its five calls need no wait, which we check by the limiter's
    // effect on a and b together taking fewer than two windows' worth of delay.
    let start = Instant::now();
    for _ in 0..5 {
        b.count_projects(&ProjectQuery::new()).unwrap();
    }
    assert!(start.elapsed() < WINDOW * 5, "{:?}", start.elapsed());
}
