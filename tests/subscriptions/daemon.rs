//! What a long-running service needs of the client: no API key in any `Debug` output (a
//! service logs its settings and handles), and no panic from any duration setting, however
//! large: `Duration::MAX` everywhere still connects, works, delivers and closes.

use std::time::Duration;

use crate::support::*;
use crossbeam_channel::unbounded;
use kili::{
    Checkpoint, EventOrigin, Kili, LabelEvent, LabelStream, StreamEvent, SubscriptionOptions,
    SubscriptionState,
};
use kili_local_server::LocalServer;

/// A key no other output of the test can contain by chance.
const SECRET: &str = "sk-live-9f8e7d6c5b4a-DO-NOT-LOG";

const MAX: Duration = Duration::MAX;

/// Asserts that neither `{:?}` nor `{:#?}` of `value` shows the key.
fn assert_hides_key(what: &str, value: &dyn std::fmt::Debug) {
    for shown in [format!("{value:?}"), format!("{value:#?}")] {
        assert!(!shown.contains(SECRET), "{what} shows the API key: {shown}");
        assert!(!shown.is_empty(), "{what} shows nothing");
    }
}

#[test]
fn no_debug_output_shows_the_api_key() {
    let server = LocalServer::builder().api_key(SECRET).start().unwrap();
    let settings = builder(SECRET, server.endpoint());
    assert_hides_key("the builder", &settings);
    let shown = format!("{settings:?}");
    assert!(shown.contains("api_key: Some(<redacted>)"), "{shown}");
    assert!(
        shown.contains(&server.endpoint()),
        "the other settings are shown: {shown}"
    );

    let kili = settings.build().unwrap();
    assert_hides_key("the client", &kili);
    assert!(format!("{kili:?}").contains("<redacted>"));
    assert_eq!(kili.api_key(), SECRET, "the key is still there to be used");
    let (project, asset) = project_with_asset(&kili);

    let options = SubscriptionOptions::new().thread_name("secret-test");
    assert_hides_key("the subscription options", &options);
    let (tx, rx) = unbounded::<LabelEvent>();
    let sub = kili
        .labels_subscription(&project)
        .options(options)
        .callback(move |e| {
            let _ = tx.send(e.clone());
        })
        .unwrap();
    let id = append_label(&kili, &project, &asset);
    let event = rx.recv_timeout(PATIENCE).expect("the label is delivered");
    assert_eq!(event.label().id(), id);
    assert_hides_key("a label event", &event);
    assert_hides_key("the subscription", &sub);
    assert_hides_key("its control", &sub.control());
    assert_hides_key("its state", &sub.state());
    sub.close().unwrap();

    let stream = kili.labels_subscription(&project).stream().unwrap();
    assert_hides_key("a stream", &stream);
    stream.close().unwrap();

    // A refused key is not repeated in the error either.
    let wrong = format!("{SECRET}-wrong");
    let refused = builder(&wrong, server.endpoint())
        .max_retries(0)
        .build()
        .unwrap();
    let err = refused
        .count_projects(&kili::ProjectQuery::new())
        .unwrap_err();
    assert!(matches!(err, kili::Error::Authentication { .. }), "{err:?}");
    let mut chain = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        chain.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    assert!(!chain.contains(SECRET), "{chain}");
    let err = refused.labels_subscription(&project).stream().unwrap_err();
    assert!(!format!("{err} {err:?}").contains(SECRET), "{err:?}");
}

/// Every duration setting of the client and of a subscription at `Duration::MAX`.
fn endless_client(server: &LocalServer) -> Kili {
    Kili::builder()
        .api_key(server.api_key())
        .endpoint(server.endpoint())
        .proxy_from_env(false)
        .connect_timeout(MAX)
        .request_timeout(MAX)
        .retry_backoff(MAX, MAX)
        .retry_budget(MAX)
        .rate_limit_per(1_000, MAX)
        .build()
        .unwrap()
}

fn endless_options() -> SubscriptionOptions {
    SubscriptionOptions::new()
        .keep_alive(Some(MAX))
        .ack_timeout(MAX)
        .backoff(MAX, MAX)
        .close_timeout(MAX)
        .catch_up_margin(Some(MAX))
}

/// The next label event of `events`, skipping lifecycle events.
fn next_label(events: &LabelStream) -> LabelEvent {
    loop {
        match events.recv_timeout(PATIENCE).expect("a label is delivered") {
            StreamEvent::Event(e) => return e,
            StreamEvent::Lifecycle(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn duration_max_everywhere_works_and_never_panics() {
    let server = server();
    let kili = endless_client(&server);
    let (project, asset) = project_with_asset(&kili);
    assert_eq!(
        kili.count_labels(&kili::LabelQuery::new(&project)).unwrap(),
        0
    );

    // The stream form: one label, then a close that waits as long as it takes (the local
    // server answers the close at once).
    let events = kili
        .labels_subscription(&project)
        .options(endless_options())
        .stream()
        .unwrap();
    let first = append_label(&kili, &project, &asset);
    let event = next_label(&events);
    assert_eq!(event.label().id(), first);
    let checkpoint: Checkpoint = event.checkpoint().clone();
    events.close().unwrap();
    assert!(
        matches!(events.handle().wait_timeout(MAX), Some(Ok(()))),
        "a closed subscription has ended"
    );
    assert!(matches!(events.handle().state(), SubscriptionState::Closed));

    // Resuming with an endless catch-up margin: the catch-up asks from the start of time, and
    // delivers the label added while nothing listened, and only it.
    let second = append_label(&kili, &project, &asset);
    let resumed = kili
        .labels_subscription(&project)
        .options(endless_options().resume_from(checkpoint))
        .stream()
        .unwrap();
    let event = next_label(&resumed);
    assert_eq!(
        (event.label().id(), event.origin()),
        (second.as_str(), EventOrigin::CatchUp)
    );
    let third = append_label(&kili, &project, &asset);
    assert_eq!(next_label(&resumed).label().id(), third);
    resumed.close().unwrap();
    assert!(matches!(resumed.handle().wait_timeout(MAX), Some(Ok(()))));

    // The callback form, with a reset (its wait for the new connection is endless too). The
    // reset is a gap, and an endless margin reaches back to the start: the catch-up delivers
    // the project's earlier labels, each once, then the new one comes.
    let (tx, rx) = unbounded::<(String, EventOrigin)>();
    let sub = kili
        .labels_subscription(&project)
        .options(endless_options())
        .callback(move |e| {
            let _ = tx.send((e.label().id().to_owned(), e.origin()));
        })
        .unwrap();
    sub.reset_timeout().unwrap();
    let fourth = append_label(&kili, &project, &asset);
    let earlier = [first, second, third];
    let mut caught_up = std::collections::HashSet::new();
    loop {
        let (id, origin) = rx
            .recv_timeout(PATIENCE)
            .expect("the fourth label is delivered");
        // Live, or caught up if it was written before the catch-up's last request.
        if id == fourth {
            break;
        }
        assert!(
            earlier.contains(&id) && origin == EventOrigin::CatchUp,
            "{id} {origin:?}"
        );
        assert!(caught_up.insert(id.clone()), "{id} twice");
    }
    sub.close().unwrap();
    assert!(matches!(sub.wait_timeout(MAX), Some(Ok(()))));
    assert!(matches!(sub.wait(), Ok(())));
    assert_eq!(
        kili.count_labels(&kili::LabelQuery::new(&project)).unwrap(),
        4
    );
}

#[test]
fn wait_blocks_until_the_end_and_returns_its_outcome() {
    let server = LocalServer::builder().start().unwrap();
    let port = server.addr().port();
    let kili = client(&server);
    let (project, _asset) = project_with_asset(&kili);

    // Closed from another thread: `wait` returns, with `Ok`.
    let sub = kili.label_created_or_updated(&project, |_| {}).unwrap();
    assert!(
        sub.wait_timeout(Duration::from_millis(50)).is_none(),
        "a running subscription has no outcome yet"
    );
    let control = sub.control();
    let closer = std::thread::spawn(move || control.close());
    assert!(sub.wait().is_ok(), "a close is a clean end");
    closer.join().unwrap().unwrap();

    // The server comes back on the same port without our key: the reconnection is refused,
    // which ends the subscription for good, and `wait` returns that error.
    let options =
        SubscriptionOptions::new().backoff(Duration::from_millis(10), Duration::from_millis(50));
    let sub = kili
        .labels_subscription(&project)
        .options(options)
        .callback(|_| {})
        .unwrap();
    server.stop();
    let _other = LocalServer::builder()
        .port(port)
        .api_key("a-key-that-is-not-ours")
        .start()
        .unwrap();
    let outcome = sub
        .wait_timeout(PATIENCE)
        .expect("a refused key ends the subscription");
    let err = outcome.expect_err("the fatal error");
    assert!(err.is_authentication(), "{err}");
    assert!(matches!(sub.state(), SubscriptionState::Failed(_)));
}
