//! The generic form and the other protocol against the local server.

use std::time::Duration;

use crate::support::*;
use kili::{Lifecycle, StreamEvent, SubscriptionOptions, WsProtocol};
use kili_local_server::LocalServer;
use serde_json::json;

const LABEL_IDS: &str = "subscription($projectID: ID!) { data: labelCreatedOrUpdated(projectID: $projectID) { id labelType } }";

#[test]
fn raw_events_on_both_protocols() {
    let server = LocalServer::builder().start().unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    for offered in [
        vec![WsProtocol::GraphqlWs],
        vec![WsProtocol::GraphqlTransportWs],
        vec![WsProtocol::GraphqlTransportWs, WsProtocol::GraphqlWs],
    ] {
        // The server takes the first protocol offered that it speaks: both are.
        let protocol = offered[0];
        let options = SubscriptionOptions::new().protocols(offered);
        let events = kili
            .subscription(LABEL_IDS, json!({"projectID": project}))
            .options(options)
            .stream()
            .unwrap();
        assert!(matches!(
            events.recv_timeout(PATIENCE).unwrap(),
            StreamEvent::Lifecycle(Lifecycle::Connected { .. })
        ));
        let id = append_label(&kili, &project, &asset);
        let event = events
            .recv_timeout(PATIENCE)
            .unwrap()
            .into_event()
            .expect("an event");
        assert_eq!(event.data()["data"]["id"], id.as_str(), "{protocol:?}");
        assert_eq!(event.data()["data"]["labelType"], "INFERENCE");
        assert!(event.errors().is_empty());
        assert_eq!(events.handle().protocol(), Some(protocol));
        events.close().unwrap();
        // A closed stream ends after what it holds.
        loop {
            match events.recv_timeout(PATIENCE) {
                Ok(StreamEvent::Lifecycle(Lifecycle::Closed)) => {}
                Ok(other) => panic!("{other:?}"),
                Err(kili::RecvTimeoutError::Disconnected) => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(matches!(
            events.handle().reset_timeout(),
            Err(kili::Error::Closed)
        ));
    }
}

#[test]
fn the_callback_form_of_the_generic_subscription() {
    let server = LocalServer::builder().start().unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let (tx, rx) = crossbeam_channel::unbounded();
    let sub = kili
        .subscription(LABEL_IDS, json!({"projectID": project}))
        .callback(move |e| {
            let _ = tx.send(
                e.data()["data"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        })
        .unwrap();
    let id = append_label(&kili, &project, &asset);
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap(), id);
    sub.close().unwrap();
}

#[test]
fn select_over_the_receiver() {
    let server = LocalServer::builder().start().unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let events = kili.labels_subscription(&project).stream().unwrap();
    let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(1);
    let id = append_label(&kili, &project, &asset);
    let mut got = None;
    while got.is_none() {
        crossbeam_channel::select! {
            recv(events.receiver()) -> item => {
                if let Ok(StreamEvent::Event(e)) = item { got = Some(e.label().id().to_owned()) }
            }
            recv(stop_rx) -> _ => unreachable!(),
            default(PATIENCE) => panic!("no event"),
        }
    }
    drop(stop_tx);
    assert_eq!(got.as_deref(), Some(id.as_str()));
    let name = events.handle().thread_name().to_owned();
    drop(events);
    assert!(
        wait_for(PATIENCE, || !thread_alive(&name)),
        "dropping the stream ends the thread"
    );
}

#[test]
fn server_keep_alives_keep_a_quiet_subscription_alive() {
    // The server sends `ka` every 100 ms; the watchdog (3 x 150 ms) never fires.
    let server = LocalServer::builder()
        .keep_alive(Some(Duration::from_millis(100)))
        .start()
        .unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let options = SubscriptionOptions::new().keep_alive(Some(Duration::from_millis(150)));
    let events = kili
        .labels_subscription(&project)
        .options(options)
        .stream()
        .unwrap();
    let sub = events.handle();
    let lifetime = Duration::from_millis(800);
    assert!(wait_for(PATIENCE, || sub.lifetime() >= lifetime));
    assert_eq!(sub.stats().reconnects, 0, "{:?}", sub.stats());
    let id = append_label(&kili, &project, &asset);
    let event = loop {
        if let StreamEvent::Event(e) = events.recv_timeout(PATIENCE).unwrap() {
            break e;
        }
    };
    assert_eq!(event.label().id(), id);
}
