//! The webhooks tutorial's sequence against the local server, over real sockets.

use std::time::Duration;

use crate::support::*;
use crossbeam_channel::unbounded;
use kili::{EventOrigin, LabelEvent, LabelType, SubscriptionState};
use kili_local_server::LocalServer;

#[test]
fn the_tutorial_sequence() {
    let server = LocalServer::builder().start().unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);

    let (tx, rx) = unbounded::<LabelEvent>();
    let sub = kili
        .label_created_or_updated(&project, move |event| {
            println!("New data: {}", event.frame());
            let _ = tx.send(event.clone());
        })
        .unwrap();
    assert!(sub.state().is_active(), "{:?}", sub.state());
    let name = sub.thread_name().to_owned();
    assert!(
        thread_alive(&name),
        "the subscription runs on its own named thread"
    );

    // An event reaches the callback, with the typed label and the whole frame.
    let first = append_label(&kili, &project, &asset);
    let event = rx
        .recv_timeout(PATIENCE)
        .expect("the first label is delivered");
    assert_eq!(event.label().id(), first);
    assert_eq!(event.label().asset_id(), Some(asset.as_str()));
    assert_eq!(event.label().label_type(), Some(&LabelType::Inference));
    assert_eq!(
        event.label().json_response().unwrap().parse().unwrap()["JOB_0"]["categories"][0]["name"],
        "OBJECT_A"
    );
    assert_eq!(event.origin(), EventOrigin::Live);
    assert_eq!(event.frame()["type"], "data");
    assert_eq!(event.frame()["id"], event.subscription_id());
    assert_eq!(
        event.frame()["payload"]["data"]["data"]["id"],
        first.as_str()
    );

    // Paused: the event is read and dropped.
    sub.pause();
    assert!(sub.is_paused());
    append_label(&kili, &project, &asset);
    assert!(
        wait_for(PATIENCE, || sub.stats().dropped_while_paused == 1),
        "{:?}",
        sub.stats()
    );
    assert!(rx.try_recv().is_err(), "nothing is delivered while paused");

    // Unpaused: the next one arrives.
    sub.unpause();
    let third = append_label(&kili, &project, &asset);
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap().label().id(), third);

    // Closed: the thread is gone, and closing again is fine.
    sub.close().unwrap();
    assert!(
        matches!(sub.state(), SubscriptionState::Closed),
        "{:?}",
        sub.state()
    );
    assert!(
        !thread_alive(&name),
        "the subscription thread is joined by close()"
    );
    sub.close().unwrap();
    let while_closed = append_label(&kili, &project, &asset);

    // reset_timeout after close: events flow again (not the one made while closed).
    sub.reset_timeout().unwrap();
    assert!(sub.state().is_active());
    let fifth = append_label(&kili, &project, &asset);
    let event = rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!(
        event.label().id(),
        fifth,
        "the label created while closed ({while_closed}) is not delivered"
    );

    // The lifetime grows.
    let lifetime = sub.lifetime();
    assert!(wait_for(PATIENCE, || sub.lifetime() > lifetime));
    let stats = sub.stats();
    assert_eq!(
        (
            stats.delivered,
            stats.dropped_while_paused,
            stats.reconnects
        ),
        (3, 1, 0),
        "{stats:?}"
    );
    assert!(format!("{sub:?}").contains(&name));
    sub.close().unwrap();
    assert!(rx.try_recv().is_err());
}

#[test]
fn reset_timeout_on_a_running_subscription_resubscribes() {
    let server = LocalServer::builder().start().unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let events = kili.labels_subscription(&project).stream().unwrap();
    let sub = events.handle();
    let before = append_label(&kili, &project, &asset);
    assert_eq!(recv_label(&events).label().id(), before);
    assert!(wait_for(PATIENCE, || sub.lifetime() > Duration::from_millis(50)));
    let lifetime = sub.lifetime();
    sub.reset_timeout().unwrap();
    assert!(
        sub.lifetime() < lifetime,
        "the server-side lifetime starts over"
    );
    assert_eq!(sub.stats().reconnects, 1);
    let after = append_label(&kili, &project, &asset);
    assert_eq!(
        recv_label(&events).label().id(),
        after,
        "the fresh subscription delivers"
    );
    assert!(
        events.try_recv().map_or(true, |e| e.into_event().is_none()),
        "no duplicate"
    );
}

fn recv_label(events: &kili::LabelStream) -> LabelEvent {
    loop {
        match events.recv_timeout(PATIENCE).expect("an event in time") {
            kili::StreamEvent::Event(e) => return e,
            _lifecycle => continue,
        }
    }
}
