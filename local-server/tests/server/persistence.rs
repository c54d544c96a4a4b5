//! The data file: a server restarted on it (on the same port, mid-subscription) keeps its
//! users, projects, assets, labels and uploads, with the same ids, timestamps and versions.

use std::path::PathBuf;

use kili_local_server::{Error, LocalServer};
use serde_json::json;

use crate::support::*;

const LABELS: &str = "query($where: LabelWhere!) { data: labels(where: $where, first: 100, skip: 0) { id createdAt updatedAt version jsonResponse labelType isLatestLabelForUser } }";
const UPDATE: &str = "mutation($where: LabelWhere!, $data: LabelData!) { data: updatePropertiesInLabel(where: $where, data: $data) { id version } }";

/// A fresh directory for one test's data file.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kili-server-test-{name}-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_restart_on_the_data_file_keeps_everything_and_subscriptions_resume() {
    let dir = temp_dir("restart");
    let file = dir.join("kili.jsonl");
    let start = |port: u16| {
        LocalServer::builder()
            .api_key("k")
            .port(port)
            .data_file(&file)
            .keep_alive(None)
            .start()
            .unwrap()
    };
    let server = start(0);
    let port = server.addr().port();
    let p = create_project(&server, "k", "persisted");
    let assets = add_assets(&server, "k", &p, &["a", "b"]);
    let mut ws = ws_connect(&server, "graphql-ws");
    init(&mut ws, "k");
    send(
        &mut ws,
        json!({"id": "1", "type": "start", "payload": {"query": SUBSCRIPTION, "variables": {"projectID": p}}}),
    );
    assert!(wait_until(|| server.state().subscriber_count() == 1));
    let ids = add_labels(&server, "k", &[&assets[0], &assets[1]], "PREDICTION");
    assert_eq!(next_frame(&mut ws)["payload"]["data"]["data"]["id"], ids[0]);
    assert_eq!(next_frame(&mut ws)["payload"]["data"]["data"]["id"], ids[1]);
    gql(
        &server,
        UPDATE,
        json!({"where": {"id": ids[0]}, "data": {"jsonResponse": "{\"J\":1}"}}),
    );
    let before = gql(&server, LABELS, json!({"where": {"project": {"id": p}}}));
    assert!(
        LocalServer::builder().data_file(&file).start().is_err(),
        "a second server cannot use the same file"
    );

    server.stop();
    let (_, close) = read_close(&mut ws);
    assert!(
        close.is_none() || close.is_some(),
        "the old connection ended"
    );
    let server = start(port);
    assert_eq!(server.addr().port(), port);
    let after = gql(&server, LABELS, json!({"where": {"project": {"id": p}}}));
    assert_eq!(after, before, "same ids, timestamps, versions and order");
    assert_eq!(after["data"][0]["version"], 1);
    // The client resubscribes on the restarted server and gets what is written next.
    let mut ws = ws_connect(&server, "graphql-ws");
    init(&mut ws, "k");
    send(
        &mut ws,
        json!({"id": "1", "type": "start", "payload": {"query": SUBSCRIPTION, "variables": {"projectID": p}}}),
    );
    assert!(wait_until(|| server.state().subscriber_count() == 1));
    let more = add_labels(&server, "k", &[&assets[0]], "PREDICTION");
    assert_eq!(
        next_frame(&mut ws)["payload"]["data"]["data"]["id"],
        more[0]
    );
    let count = gql(
        &server,
        "query($w: LabelWhere!) { data: countLabels(where: $w) }",
        json!({"w": {"project": {"id": p}}}),
    );
    assert_eq!(count["data"], 3);
    // Deletions are kept too.
    gql(
        &server,
        "mutation($ids: [ID!]!) { data: deleteLabels(ids: $ids) }",
        json!({"ids": [ids[1]]}),
    );
    server.stop();
    let server = start(0);
    let count = gql(
        &server,
        "query($w: LabelWhere!) { data: countLabels(where: $w) }",
        json!({"w": {"project": {"id": p}}}),
    );
    assert_eq!(count["data"], 2);
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_a_key_the_restarted_server_keeps_the_first_users_key() {
    let dir = temp_dir("key");
    let file = dir.join("kili.jsonl");
    let first = LocalServer::builder().data_file(&file).start().unwrap();
    let key = first.api_key().to_owned();
    let p = create_project(&first, &key, "mine");
    first.stop();
    let again = LocalServer::builder().data_file(&file).start().unwrap();
    assert_eq!(again.api_key(), key);
    let found = gql(
        &again,
        "query($w: ProjectWhere!) { data: countProjects(where: $w) }",
        json!({"w": {"id": p}}),
    );
    assert_eq!(found["data"], 1);
    again.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn uploads_survive_a_restart() {
    let dir = temp_dir("uploads");
    let file = dir.join("kili.jsonl");
    let server = LocalServer::builder()
        .api_key("k")
        .data_file(&file)
        .start()
        .unwrap();
    let p = create_project(&server, "k", "p");
    let data = gql(
        &server,
        "query($filePaths: [String!]) { urls: createUploadBucketSignedUrls(filePaths: $filePaths) }",
        json!({"filePaths": [format!("projects/{p}/assets/x/content")]}),
    );
    let url = data["urls"][0].as_str().unwrap().to_owned();
    let put = agent()
        .put(url.split("&id=").next().unwrap())
        .header("Content-Type", "application/pdf")
        .send(&b"%PDF-1.4 bytes"[..])
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    let port = server.addr().port();
    server.stop();
    assert!(
        dir.join("kili.jsonl.files").join(&p).is_dir(),
        "bodies live next to the data file"
    );
    let server = LocalServer::builder()
        .api_key("k")
        .port(port)
        .data_file(&file)
        .start()
        .unwrap();
    let mut resp = agent()
        .get(&url)
        .header("Authorization", "X-API-Key: k")
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    assert_eq!(resp.body_mut().read_to_vec().unwrap(), b"%PDF-1.4 bytes");
    // Deleting the project removes its files.
    gql(
        &server,
        "mutation($where: ProjectWhere!) { data: deleteProjectAsynchronously(where: $where) }",
        json!({"where": {"id": p}}),
    );
    assert!(!dir.join("kili.jsonl.files").join(&p).exists());
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unreadable_data_file_is_refused_with_its_line() {
    let dir = temp_dir("corrupt");
    let file = dir.join("kili.jsonl");
    std::fs::write(
        &file,
        "{\"format\":\"kili-local-server-journal\",\"version\":1}\nnot json\n{}\n",
    )
    .unwrap();
    let err = LocalServer::builder().data_file(&file).start().unwrap_err();
    assert!(matches!(err, Error::DataFile { line: 2, .. }), "{err:?}");
    assert!(err.to_string().contains("line 2"), "{err}");
    let both = LocalServer::builder()
        .data_file(&file)
        .state(kili_local_server::ServerState::new())
        .start()
        .unwrap_err();
    assert!(matches!(both, Error::InvalidSettings { .. }));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn listening_beyond_loopback_needs_an_explicit_key() {
    let any: std::net::IpAddr = "0.0.0.0".parse().unwrap();
    let err = LocalServer::builder().host(any).start().unwrap_err();
    assert!(matches!(err, Error::InvalidSettings { .. }), "{err}");
    let server = LocalServer::builder()
        .host(any)
        .api_key("k")
        .start()
        .unwrap();
    assert!(
        server.endpoint().starts_with("http://127.0.0.1:"),
        "{}",
        server.endpoint()
    );
    assert_eq!(
        gql(&server, "{ viewer { email } }", json!({}))["viewer"]["email"],
        "user@local.kili"
    );
}
