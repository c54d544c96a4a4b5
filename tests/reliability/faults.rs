//! A label subscription through a fault-injecting proxy while labels are appended
//! continuously: for each fault (dropped connections, a stalled half-open connection, delay, a
//! frame cut in the middle, a server refusing service) every label is delivered exactly once,
//! reconnections are paced by the backoff, and nothing is left behind after close.
//!
//! The tests count the process's threads, so they run one at a time (as every test of this
//! binary does, holding `serial()`).

use std::time::{Duration, Instant};

use crate::support::*;
use kili::{Kili, Subscription, SubscriptionOptions};
use kili_local_server::LocalServer;

/// The server's keep-alive interval, and the one the subscription expects.
const KEEP_ALIVE: Duration = Duration::from_millis(200);
/// Silence for this many keep-alive intervals makes a connection dead.
const WATCHDOG: u32 = 3;
const BACKOFF_MIN: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// The writer's bound, far above what a scenario needs.
const MAX_LABELS: usize = 2_000;
const PACE: Duration = Duration::from_millis(10);

struct Rig {
    server: LocalServer,
    proxy: FaultProxy,
    /// Talks to the server directly (the writer's path, and the truth).
    direct: Kili,
    project: String,
    asset: String,
    baseline: usize,
}

fn rig() -> Rig {
    let server = LocalServer::builder()
        .keep_alive(Some(KEEP_ALIVE))
        .start()
        .unwrap();
    let proxy = FaultProxy::start(server.addr());
    let baseline = worker_baseline(&[
        "kili-local-accept",
        "kili-local-webhooks",
        "fault-proxy-accept",
    ]);
    let direct = resilient_client(server.api_key(), &server.endpoint());
    let (project, asset) = project_with_asset(&direct);
    Rig {
        server,
        proxy,
        direct,
        project,
        asset,
        baseline,
    }
}

fn options(name: &str) -> SubscriptionOptions {
    SubscriptionOptions::new()
        .keep_alive(Some(KEEP_ALIVE))
        .watchdog_multiple(WATCHDOG)
        .ack_timeout(Duration::from_secs(2))
        .backoff(BACKOFF_MIN, BACKOFF_MAX)
        .close_timeout(Duration::from_millis(500))
        .thread_name(name)
}

/// What a scenario must show besides exact delivery and no leak.
struct Expect {
    /// At least this many reconnections.
    reconnects: u64,
    /// At most this many connection attempts per fault (plus the first connection): paced
    /// reconnections, not a storm.
    attempts_per_round: u64,
}

/// Runs a subscription through the proxy while a writer appends labels; `inject` is called
/// `rounds` times, with labels flowing before and after each call, and must return once its
/// fault took effect. Checks delivery, `expect` and leaks.
fn scenario(
    name: &str,
    rounds: usize,
    expect: Expect,
    mut inject: impl FnMut(&FaultProxy, &Subscription),
) {
    let _serial = serial();
    let Rig {
        server,
        proxy,
        direct,
        project,
        asset,
        baseline,
    } = rig();
    let collector = Collector::default();
    let sub = resilient_client(server.api_key(), &proxy.endpoint())
        .labels_subscription(&project)
        .options(options(name))
        .callback(collector.callback())
        .unwrap();
    let writer = Writer::start(direct.clone(), &project, &asset, MAX_LABELS, PACE);
    for _ in 0..rounds {
        writer.wait_for_more(5);
        inject(&proxy, &sub);
        assert!(
            wait_for(PATIENCE, || sub.state().is_active()),
            "{name}: not back: {:?}",
            sub.state()
        );
    }
    writer.wait_for_more(10);
    let report = writer.finish();
    let store = store_label_ids(&direct, &project);
    assert_writer_in_store(&report, &store);
    assert!(store.len() >= 10, "{name}: only {} labels", store.len());
    collector.assert_exactly(&store, name);

    let stats = sub.stats();
    eprintln!(
        "{name}: {} labels, {stats:?}, proxy accepted {}",
        store.len(),
        proxy.accepted()
    );
    assert_eq!(stats.delivered as usize, store.len());
    assert!(stats.reconnects >= expect.reconnects, "{name}: {stats:?}");
    let attempts = 1 + expect.attempts_per_round * rounds as u64;
    assert!(stats.connection_attempts <= attempts, "{name}: {stats:?}");
    sub.close().unwrap();
    drop(sub);
    drop(direct);
    assert!(
        wait_for(PATIENCE, || proxy.open_connections() == 0),
        "{name}: proxied connections still open: {}",
        proxy.open_connections()
    );
    assert_no_leak(baseline, &server, name);
}

/// Injects a fault and waits until the subscription reconnected after it.
fn reconnect_after(sub: &Subscription, fault: impl FnOnce()) {
    let before = sub.stats().reconnects;
    fault();
    wait_reconnects(sub, before);
}

/// Waits until the subscription reconnected more than `before` times.
fn wait_reconnects(sub: &Subscription, before: u64) {
    assert!(
        wait_for(PATIENCE, || sub.stats().reconnects > before),
        "no reconnection: {:?} {:?}",
        sub.state(),
        sub.stats()
    );
}

#[test]
fn dropped_connections_lose_nothing_and_duplicate_nothing() {
    const ROUNDS: usize = 3;
    // One attempt per drop, give or take an attempt that met the next drop.
    let expect = Expect {
        reconnects: ROUNDS as u64,
        attempts_per_round: 2,
    };
    scenario("rel-drop", ROUNDS, expect, |proxy, sub| {
        reconnect_after(sub, || proxy.drop_connections())
    });
}

#[test]
fn a_stalled_half_open_connection_is_detected_by_the_watchdog() {
    const ROUNDS: usize = 2;
    // While stalled, each attempt waits out the connect timeout (1 s) before the next.
    let expect = Expect {
        reconnects: ROUNDS as u64,
        attempts_per_round: 4,
    };
    scenario("rel-stall", ROUNDS, expect, |proxy, sub| {
        reconnect_after(sub, || {
            proxy.stall(true);
            // The socket stays open and silent: only the watchdog can tell.
            let detected = wait_for(PATIENCE, || !sub.state().is_active());
            proxy.stall(false);
            assert!(detected, "the watchdog never fired: {:?}", sub.stats());
        })
    });
}

#[test]
fn a_slow_network_delays_but_loses_nothing() {
    // A delay is not a failure: no reconnection needed (one at most, if the machine stalls).
    let expect = Expect {
        reconnects: 0,
        attempts_per_round: 1,
    };
    // From the first round on, every chunk each way waits; labels keep flowing meanwhile.
    scenario("rel-delay", 1, expect, |proxy, _| {
        proxy.delay(Duration::from_millis(30))
    });
}

#[test]
fn a_frame_cut_in_the_middle_is_a_lost_connection_not_a_corrupt_event() {
    const ROUNDS: usize = 3;
    let expect = Expect {
        reconnects: 1,
        attempts_per_round: 2,
    };
    scenario("rel-cut", ROUNDS, expect, |proxy, sub| {
        let before = sub.stats().reconnects;
        proxy.cut_next_frame();
        assert!(
            wait_for(PATIENCE, || !proxy.cut_pending()),
            "nothing came from the server"
        );
        // The cut usually hits the WebSocket (a label or a `ka`); it may instead hit a
        // catch-up response, which the client retries without reconnecting.
        wait_for(Duration::from_secs(2), || sub.stats().reconnects > before);
    });
}

#[test]
fn a_server_refusing_service_gets_paced_attempts_not_a_storm() {
    // Refusing for this long (the fault's duration, not synchronisation).
    const REFUSAL: Duration = Duration::from_secs(1);
    let mut attempts_while_refused = Vec::new();
    let expect = Expect {
        reconnects: 2,
        attempts_per_round: 12,
    };
    scenario("rel-refuse", 2, expect, |proxy, sub| {
        reconnect_after(sub, || {
            proxy.refuse(true);
            let accepted = proxy.accepted();
            proxy.drop_connections();
            let start = Instant::now();
            std::thread::sleep(REFUSAL);
            let during = proxy.accepted() - accepted;
            proxy.refuse(false);
            attempts_while_refused.push((during, start.elapsed()));
        })
    });
    eprintln!("attempts while refused: {attempts_while_refused:?}");
    // The first refusal meets a fresh backoff (50 ms): it is retried within the second.
    assert!(
        attempts_while_refused[0].0 >= 1,
        "{attempts_while_refused:?}"
    );
    for (attempts, over) in &attempts_while_refused {
        // Full-jitter backoff from 50 ms doubling to 2 s: a handful of attempts a second (a
        // later refusal may see none: the backoff grew). A loop without backoff makes hundreds.
        assert!(
            *attempts <= 12,
            "{attempts} attempts over {over:?}: a storm"
        );
    }
}

#[test]
fn writes_through_a_faulty_network_land_exactly_once() {
    let _serial = serial();
    let rig = rig();
    // The writer goes through the proxy this time: responses get lost or cut, and the client
    // must retry without duplicating (it reconciles an ambiguous batch before resending).
    let via_proxy = resilient_client(rig.server.api_key(), &rig.proxy.endpoint());
    let writer = Writer::start(via_proxy, &rig.project, &rig.asset, MAX_LABELS, PACE);
    for round in 0..6 {
        writer.wait_for_more(5);
        if round % 2 == 0 {
            rig.proxy.drop_connections();
        } else {
            rig.proxy.cut_next_frame();
            assert!(wait_for(PATIENCE, || !rig.proxy.cut_pending()));
        }
    }
    writer.wait_for_more(5);
    let report = writer.finish();
    let store = store_label_ids(&rig.direct, &rig.project);
    eprintln!(
        "writes through faults: {} labels, {} errors, proxy accepted {}",
        report.ids.len(),
        report.errors,
        rig.proxy.accepted()
    );
    assert_eq!(report.errors, 0, "every append succeeded after retries");
    assert_writer_in_store(&report, &store);
    assert_eq!(store.len(), report.ids.len(), "no label created twice");
    let Rig {
        server,
        proxy,
        direct,
        baseline,
        ..
    } = rig;
    drop(direct);
    assert!(wait_for(PATIENCE, || proxy.open_connections() == 0));
    assert_no_leak(baseline, &server, "rel-writer");
}
