//! Isolation through the crate's own client: with two users' keys on one local server, neither
//! can list, count, append to, delete from, delete, or subscribe to the other's project, and a
//! user's subscription never carries the other's labels. (The local server's `isolation` tests
//! check the same at the wire level.)
//!
//! Each test holds `serial()`, like every test of this binary: its leak checks count the
//! process's threads.

use std::sync::mpsc;

use crate::support::*;
use kili::{
    AssetQuery, Kili, LabelQuery, LabelType, NewAssets, NewLabels, ProjectQuery, StreamEvent,
};
use serde_json::json;

fn response() -> serde_json::Value {
    json!({"JOB_0": {"categories": [{"name": "A"}]}})
}

/// What `owner` sees of its project: (projects, assets, labels).
fn footprint(owner: &Kili, project: &str) -> (u64, u64, u64) {
    (
        owner
            .count_projects(&ProjectQuery::new().id(project))
            .unwrap(),
        owner.count_assets(&AssetQuery::new(project)).unwrap(),
        owner.count_labels(&LabelQuery::new(project)).unwrap(),
    )
}

/// Everything `intruder` might try on `owner`'s project fails or finds nothing, and leaves it
/// as it was.
fn assert_cannot_touch(intruder: &Kili, owner: &Kili, project: &str, assets: &[String]) {
    let before = footprint(owner, project);
    assert_eq!(before.0, 1);

    // Reading finds nothing.
    let listed = intruder
        .projects(&ProjectQuery::new().id(project))
        .unwrap()
        .collect_all()
        .unwrap();
    assert!(listed.is_empty(), "{listed:?}");
    assert_eq!(
        intruder
            .count_projects(&ProjectQuery::new().id(project))
            .unwrap(),
        0
    );
    let all_mine = intruder
        .projects(&ProjectQuery::new())
        .unwrap()
        .collect_all()
        .unwrap();
    assert!(all_mine.iter().all(|p| p.id() != project), "{all_mine:?}");
    let asset_rows = intruder.assets(&AssetQuery::new(project)).unwrap();
    assert!(asset_rows.collect_all().unwrap().is_empty());
    assert_eq!(intruder.count_assets(&AssetQuery::new(project)).unwrap(), 0);
    let label_rows = intruder.labels(&LabelQuery::new(project)).unwrap();
    assert!(label_rows.collect_all().unwrap().is_empty());
    assert_eq!(intruder.count_labels(&LabelQuery::new(project)).unwrap(), 0);

    // Writing is refused.
    let err = intruder
        .append_labels(
            &NewLabels::for_assets(project, [assets[0].as_str()], [response()])
                .label_type(LabelType::Default),
        )
        .unwrap_err();
    assert!(err.graphql_errors().is_some(), "{err:?}");
    let err = intruder
        .append_labels(&NewLabels::for_external_ids(
            project,
            ["asset-0"],
            [response()],
        ))
        .unwrap_err();
    assert!(!err.is_retryable(), "{err:?}");
    let err = intruder
        .append_many_to_dataset(&NewAssets::new(project, ["https://example.com/x.jpg"]))
        .unwrap_err();
    assert!(err.graphql_errors().is_some(), "{err:?}");
    let err = intruder.delete_project(project).unwrap_err();
    assert!(err.graphql_errors().is_some(), "{err:?}");
    // Deleting another user's assets matches none of them (or is refused).
    let _ = intruder.delete_many_from_dataset(assets.iter().cloned());

    // Subscribing is refused, in both forms.
    let err = intruder
        .label_created_or_updated(project, |_| {})
        .unwrap_err();
    assert!(err.graphql_errors().is_some(), "{err:?}");
    assert!(!err.is_retryable());
    let err = intruder.labels_subscription(project).stream().unwrap_err();
    assert!(err.graphql_errors().is_some(), "{err:?}");
    let err = intruder
        .subscription("subscription($projectID: ID!) { data: labelCreatedOrUpdated(projectID: $projectID) { id } }", json!({"projectID": project})).callback(|_| {})
        .unwrap_err();
    assert!(err.graphql_errors().is_some(), "{err:?}");

    assert_eq!(footprint(owner, project), before, "nothing changed");
}

#[test]
fn neither_user_can_read_mutate_or_subscribe_to_the_others_project() {
    let _serial = serial();
    let server = server();
    let (alice, bob) = (client_as(&server, KEY), client_as(&server, OTHER_KEY));
    let (alice_project, alice_assets) = project_with_assets(&alice, 2);
    let (bob_project, bob_assets) = project_with_assets(&bob, 2);
    alice
        .append_labels(&NewLabels::for_assets(
            &alice_project,
            [alice_assets[0].as_str()],
            [response()],
        ))
        .unwrap();
    bob.append_labels(&NewLabels::for_assets(
        &bob_project,
        [bob_assets[0].as_str()],
        [response()],
    ))
    .unwrap();

    assert_cannot_touch(&bob, &alice, &alice_project, &alice_assets);
    assert_cannot_touch(&alice, &bob, &bob_project, &bob_assets);
    // Each still sees exactly their own.
    assert_eq!(footprint(&alice, &alice_project), (1, 2, 1));
    assert_eq!(footprint(&bob, &bob_project), (1, 2, 1));
}

#[test]
fn a_subscription_never_carries_the_other_users_labels() {
    let _serial = serial();
    let server = server();
    let (alice, bob) = (client_as(&server, KEY), client_as(&server, OTHER_KEY));
    let (alice_project, alice_assets) = project_with_assets(&alice, 1);
    let (bob_project, bob_assets) = project_with_assets(&bob, 1);

    // Bob watches his own project with a callback, and through a stream.
    let (tx, rx) = mpsc::channel();
    let bob_sub = bob
        .label_created_or_updated(&bob_project, move |e| {
            let _ = tx.send(e.label().id().to_owned());
        })
        .unwrap();
    let bob_stream = bob.labels_subscription(&bob_project).stream().unwrap();

    // Alice labels her project a lot ...
    for _ in 0..3 {
        alice
            .append_labels(&NewLabels::for_assets(
                &alice_project,
                [alice_assets[0].as_str(); 5],
                vec![response(); 5],
            ))
            .unwrap();
    }
    // ... then Bob his, once: it is the first and only thing Bob receives.
    let mine = bob
        .append_labels(&NewLabels::for_assets(
            &bob_project,
            [bob_assets[0].as_str()],
            [response()],
        ))
        .unwrap();
    let first = rx.recv_timeout(PATIENCE).expect("bob's own label");
    assert_eq!(first, mine[0]);
    let streamed = loop {
        match bob_stream.recv_timeout(PATIENCE).unwrap() {
            StreamEvent::Event(e) => break e.label().id().to_owned(),
            StreamEvent::Lifecycle(_) => continue,
            _ => continue,
        }
    };
    assert_eq!(streamed, mine[0]);
    // Events are pushed in order: had any of Alice's labels leaked, it would have come first.
    assert!(rx.try_recv().is_err());
    assert_eq!(bob_sub.stats().delivered, 1);
    assert_eq!(bob_sub.stats().received, 1, "nothing else even arrived");
    assert_eq!(
        alice
            .count_labels(&LabelQuery::new(&alice_project))
            .unwrap(),
        15
    );
    bob_sub.close().unwrap();
    bob_stream.close().unwrap();
}
