//! Two users of one local server cannot see, change or subscribe to each other's projects.

use crate::support::*;
use kili_local_server::LocalServer;
use serde_json::json;

const ALICE: &str = "alice-key";
const BOB: &str = "bob-key";

fn two_users() -> LocalServer {
    LocalServer::builder()
        .api_key(ALICE)
        .user(BOB, "bob@example.com")
        .start()
        .unwrap()
}

#[test]
fn each_user_sees_only_their_own_data() {
    let s = two_users();
    let p = create_project(&s, ALICE, "alice's");
    let a = add_assets(&s, ALICE, &p, &["x"]);
    let l = add_labels(&s, ALICE, &[a[0].as_str()], "DEFAULT");
    let bob_project = create_project(&s, BOB, "bob's");

    let q = "query($p: ID!) { projects(where: {id: $p}) { id } countProjects(where: {}) assets(where: {project: {id: $p}}) { id } countAssets(where: {}) labels(where: {project: {id: $p}}) { id } countLabels(where: {}) }";
    let bob = gql_as(&s, BOB, q, json!({"p": p}));
    assert_eq!(
        bob,
        json!({"projects": [], "countProjects": 1, "assets": [], "countAssets": 0, "labels": [], "countLabels": 0})
    );
    let alice = gql_as(&s, ALICE, q, json!({"p": p}));
    assert_eq!(alice["projects"][0]["id"], p.as_str());
    assert_eq!(alice["countProjects"], 1);
    assert_eq!(alice["labels"][0]["id"], l[0].as_str());
    let by_id = gql_as(
        &s,
        BOB,
        "query($id: ID!) { labels(where: {id: $id}) { id } assets(where: {id: $id}) { id } }",
        json!({"id": l[0]}),
    );
    assert_eq!(by_id, json!({"labels": [], "assets": []}));
    let mine = gql_as(
        &s,
        ALICE,
        "query($p: ID!) { projects(where: {id: $p}) { id } }",
        json!({"p": bob_project}),
    );
    assert_eq!(mine["projects"], json!([]));
    assert_eq!(
        gql_as(&s, BOB, "{ viewer { email } }", json!({}))["viewer"]["email"],
        "bob@example.com"
    );
}

#[test]
fn a_user_cannot_change_another_users_project() {
    let s = two_users();
    let p = create_project(&s, ALICE, "alice's");
    let a = add_assets(&s, ALICE, &p, &["x"]);
    let content = json!({"data": {"contentArray": ["c"]}, "where": {"id": p}});
    assert!(gql_error(&s, BOB, APPEND_ASSETS, content).contains("noAccessRights"));
    let label = json!({"data": {"labelType": "DEFAULT", "labelsData": [{"assetID": a[0], "jsonResponse": "{}"}]}, "where": {"idIn": [a[0]]}});
    assert!(gql_error(&s, BOB, APPEND_LABELS, label).contains("noAccessRights"));
    let single = json!({"data": {"jsonResponse": "{}"}, "where": {"id": a[0]}});
    gql_error(
        &s,
        BOB,
        "mutation($data: AppendToLabelsData!, $where: AssetWhere!) { appendToLabels(data: $data, where: $where) { id } }",
        single,
    );
    gql_error(
        &s,
        BOB,
        "mutation($p: ID!) { deleteProjectAsynchronously(where: {id: $p}) }",
        json!({"p": p}),
    );
    gql_error(
        &s,
        BOB,
        "query($p: ID!) { filterExistingAssets(projectID: $p, externalIDs: [\"x\"]) }",
        json!({"p": p}),
    );
    // Bob's delete matches none of Alice's assets.
    let gone = gql_as(
        &s,
        BOB,
        "mutation($ids: [ID!]) { deleteManyFromDataset(where: {idIn: $ids}) { id } }",
        json!({"ids": a}),
    );
    assert_eq!(gone["deleteManyFromDataset"], serde_json::Value::Null);
    assert_eq!(
        (
            s.state().project_count(),
            s.state().asset_count(),
            s.state().label_count()
        ),
        (1, 1, 0)
    );
}

#[test]
fn a_user_cannot_subscribe_to_another_users_project() {
    let s = two_users();
    let p = create_project(&s, ALICE, "alice's");
    let a = add_assets(&s, ALICE, &p, &["x"]);
    for (protocol, kind) in [
        ("graphql-ws", "start"),
        ("graphql-transport-ws", "subscribe"),
    ] {
        let mut ws = ws_connect(&s, protocol);
        init(&mut ws, BOB);
        send(
            &mut ws,
            json!({"id": "1", "type": kind, "payload": {"query": SUBSCRIPTION, "variables": {"projectID": p}}}),
        );
        let frame = next_frame(&mut ws);
        assert_eq!(frame["type"], "error", "{protocol}: {frame}");
        assert!(frame.to_string().contains("noAccessRights"), "{frame}");
    }
    // Alice's subscription works, and Bob's labels in his own project never reach her.
    let bob_project = create_project(&s, BOB, "bob's");
    let b = add_assets(&s, BOB, &bob_project, &["y"]);
    let mut ws = ws_connect(&s, "graphql-ws");
    init(&mut ws, ALICE);
    send(
        &mut ws,
        json!({"id": "1", "type": "start", "payload": {"query": SUBSCRIPTION, "variables": {"projectID": p}}}),
    );
    assert!(wait_until(|| s.state().subscriber_count() == 1));
    add_labels(&s, BOB, &[b[0].as_str()], "DEFAULT");
    let hers = add_labels(&s, ALICE, &[a[0].as_str()], "DEFAULT");
    assert_eq!(
        next_frame(&mut ws)["payload"]["data"]["data"]["id"],
        hers[0].as_str()
    );
}
