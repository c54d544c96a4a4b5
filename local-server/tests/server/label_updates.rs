//! Label updates, deletes, technical fields, shared timestamps and shuffled pages, over real
//! HTTP and WebSocket connections, with the documents the official SDK sends.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kili_local_server::{LocalServer, LocalServerBuilder};
use serde_json::{Value, json};

use crate::support::*;

const KEY: &str = "label-key";
const OTHER_KEY: &str = "other-key";

const UPDATE: &str = "mutation($where: LabelWhere!, $data: LabelData!) { data: updatePropertiesInLabel(where: $where, data: $data) { id version jsonResponse updatedAt createdAt } }";
const DELETE: &str = "mutation($ids: [ID!]!) { data: deleteLabels(ids: $ids) }";
const LABELS: &str = "query labels($where: LabelWhere!, $first: PageSize!, $skip: Int!) { data: labels(where: $where, first: $first, skip: $skip) { id createdAt updatedAt version isSentBackToQueue authorId jsonResponse modelName secondsToLabel labelType isLatestLabelForUser } }";
const COUNT: &str = "query countLabels($where: LabelWhere!) { data: countLabels(where: $where) }";
/// The SDK's subscription document (`LABEL_FRAGMENT`).
const SDK_SUBSCRIPTION: &str = "subscription($projectID: ID!) { data: labelCreatedOrUpdated(projectID: $projectID) { id author { email } labelOf { id } labelType jsonResponse } }";
const JSON_A: &str = r#"{"JOB_0":{"categories":[{"name":"A"}]}}"#;
const JSON_B: &str = r#"{"JOB_0":{"categories":[{"name":"B"}]}}"#;

// ---------------------------------------------------------------------------------------------
// HTTP helpers

fn server(builder: LocalServerBuilder) -> LocalServer {
    builder
        .api_key(KEY)
        .user(OTHER_KEY, "other@local.kili")
        .keep_alive(None)
        .start()
        .expect("server starts")
}

/// The `data` alias of a successful request.
fn ok(server: &LocalServer, key: &str, query: &str, variables: Value) -> Value {
    gql_as(server, key, query, variables)["data"].clone()
}

/// The first error of a failing request: (extensions.code, message).
fn refused(server: &LocalServer, key: &str, query: &str, variables: Value) -> (String, String) {
    let (status, body) = post(
        server,
        Some(key),
        &json!({"query": query, "variables": variables}),
    );
    assert_eq!(status, 200, "{body}");
    let error = &body["errors"][0];
    assert!(error.is_object(), "expected an error: {body}");
    (
        error["extensions"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
        error["message"].as_str().unwrap_or("").to_owned(),
    )
}

fn project(server: &LocalServer, key: &str) -> String {
    create_project(server, key, "p")
}

/// `n` assets (external ids `a0`, `a1`, ...); returns their ids.
fn assets(server: &LocalServer, key: &str, project: &str, n: usize) -> Vec<String> {
    let external: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
    let external: Vec<&str> = external.iter().map(String::as_str).collect();
    add_assets(server, key, project, &external)
}

/// One `appendManyLabels` call, one label per asset given; returns (id, createdAt) pairs.
fn append(server: &LocalServer, key: &str, assets: &[String], label_type: &str) -> Vec<Value> {
    let rows: Vec<Value> = assets
        .iter()
        .map(|a| json!({"assetID": a, "authorID": null, "clientVersion": null, "jsonResponse": JSON_A, "modelName": "m", "referencedLabelId": null, "secondsToLabel": 1.0}))
        .collect();
    ok(
        server,
        key,
        "mutation appendManyLabels($data: AppendManyLabelsData!, $where: AssetWhere!) { data: appendManyLabels(data: $data, where: $where ) { id createdAt updatedAt version } }",
        json!({"data": {"labelType": label_type, "labelsData": rows}, "where": {"idIn": assets}}),
    )
    .as_array()
    .unwrap()
    .clone()
}

fn strings(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| x[field].as_str().unwrap().to_owned())
        .collect()
}

/// Labels matching `where` as `key`, one page.
fn labels_page(server: &LocalServer, key: &str, w: Value, first: usize, skip: usize) -> Vec<Value> {
    ok(
        server,
        key,
        LABELS,
        json!({"where": w, "first": first, "skip": skip}),
    )
    .as_array()
    .unwrap()
    .clone()
}

/// Every label matching `where`, paged with `first`/`skip` until a short page.
fn all_labels(server: &LocalServer, w: &Value, first: usize) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let page = labels_page(server, KEY, w.clone(), first, out.len());
        let done = page.len() < first;
        out.extend(page);
        if done {
            return out;
        }
    }
}

fn count(server: &LocalServer, key: &str, w: Value) -> i64 {
    ok(server, key, COUNT, json!({"where": w}))
        .as_i64()
        .unwrap()
}

fn label(server: &LocalServer, id: &str) -> Value {
    let mut found = labels_page(server, KEY, json!({"id": id}), 1, 0);
    assert_eq!(found.len(), 1, "label {id}");
    found.remove(0)
}

// ---------------------------------------------------------------------------------------------
// WebSocket helpers (graphql-ws, as the SDK speaks it)

/// A `graphql-ws` connection with a live label subscription on `project` under id `sub`.
///
/// Returns once the subscription is registered: a query sent after the `start` on the same
/// connection is answered only after the `start` was handled, which subscribes at once.
fn subscribe(server: &LocalServer, project: &str, query: &str) -> Ws {
    let mut ws = ws_connect(server, "graphql-ws");
    init(&mut ws, KEY);
    send(
        &mut ws,
        json!({"id": "sub", "type": "start", "payload": {"query": query, "variables": {"projectID": project}}}),
    );
    send(
        &mut ws,
        json!({"id": "barrier", "type": "start", "payload": {"query": "{ viewer { id } }"}}),
    );
    assert_eq!(
        next_frame(&mut ws)["id"],
        "barrier",
        "the subscription did not fail"
    );
    assert_eq!(
        next_frame(&mut ws),
        json!({"type": "complete", "id": "barrier"})
    );
    ws
}

/// The payload of the next `data` frame of the subscription.
fn pushed(ws: &mut Ws) -> Value {
    let frame = next_frame(ws);
    assert_eq!(
        (&frame["type"], &frame["id"]),
        (&json!("data"), &json!("sub")),
        "{frame}"
    );
    frame["payload"]["data"]["data"].clone()
}

// ---------------------------------------------------------------------------------------------
// Updates

#[test]
fn an_update_is_pushed_and_read_back_with_its_version_in_write_order() {
    let s = server(LocalServer::builder());
    let p = project(&s, KEY);
    let a = assets(&s, KEY, &p, 2);
    let mut ws = subscribe(
        &s,
        &p,
        "subscription($projectID: ID!) { data: labelCreatedOrUpdated(projectID: $projectID) { id jsonResponse version createdAt updatedAt modelName secondsToLabel } }",
    );
    let created = append(&s, KEY, &a[..1], "DEFAULT").remove(0);
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["version"], 0);
    assert_eq!(created["updatedAt"], created["createdAt"]);

    // The SDK's document, with null keys stripped.
    let updated = ok(
        &s,
        KEY,
        UPDATE,
        json!({"where": {"id": id}, "data": {"isSentBackToQueue": false, "jsonResponse": JSON_B, "modelName": "m2", "secondsToLabel": 12.5}}),
    );
    assert_eq!(
        (&updated["id"], &updated["version"]),
        (&json!(id), &json!(1))
    );
    let other = append(&s, KEY, &a[1..], "DEFAULT").remove(0);

    // Frames come in write order: creation, update, next creation.
    let first = pushed(&mut ws);
    assert_eq!((&first["id"], &first["version"]), (&json!(id), &json!(0)));
    let update = pushed(&mut ws);
    assert_eq!(update["id"], id);
    assert_eq!(update["version"], 1);
    assert_eq!(update["jsonResponse"], JSON_B);
    assert_eq!(
        (&update["modelName"], &update["secondsToLabel"]),
        (&json!("m2"), &json!(12.5))
    );
    assert_eq!(update["createdAt"], created["createdAt"]);
    assert_eq!(pushed(&mut ws)["id"], other["id"]);

    let read = label(&s, id);
    assert_eq!(read["version"], 1);
    assert_eq!(read["jsonResponse"], JSON_B);
    assert_eq!(read["createdAt"], created["createdAt"], "createdAt is kept");
    let (c, u) = (
        read["createdAt"].as_str().unwrap(),
        read["updatedAt"].as_str().unwrap(),
    );
    assert!(u >= c, "updatedAt {u} before createdAt {c}");
    assert_eq!(u.len(), 24, "ISO 8601 with milliseconds: {u}");

    // Nulls are accepted and leave the fields as they are (2021-era SDKs send every key).
    let again = ok(
        &s,
        KEY,
        UPDATE,
        json!({"where": {"id": id}, "data": {"isSentBackToQueue": null, "jsonResponse": null, "modelName": null, "secondsToLabel": 3}}),
    );
    assert_eq!(
        (&again["version"], &again["jsonResponse"]),
        (&json!(2), &json!(JSON_B))
    );
    let frame = pushed(&mut ws);
    assert_eq!(
        (&frame["version"], &frame["secondsToLabel"]),
        (&json!(2), &json!(3.0))
    );
    assert_eq!(frame["modelName"], "m2");
}

#[test]
fn an_update_of_only_is_sent_back_to_queue_is_still_pushed() {
    let s = server(LocalServer::builder());
    let p = project(&s, KEY);
    let a = assets(&s, KEY, &p, 1);
    let mut ws = subscribe(&s, &p, SDK_SUBSCRIPTION);
    let id = append(&s, KEY, &a, "DEFAULT")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let on_create = pushed(&mut ws);
    ok(
        &s,
        KEY,
        UPDATE,
        json!({"where": {"id": id}, "data": {"isSentBackToQueue": true}}),
    );
    // Nothing the SDK selects changed, yet the update is an event of its own.
    assert_eq!(pushed(&mut ws), on_create);
    let read = label(&s, &id);
    assert_eq!(
        (&read["isSentBackToQueue"], &read["version"]),
        (&json!(true), &json!(1))
    );
    assert_eq!(read["jsonResponse"], JSON_A, "other fields are kept");
}

#[test]
fn refused_updates_change_nothing_and_push_nothing() {
    let s = server(LocalServer::builder());
    let p = project(&s, KEY);
    let a = assets(&s, KEY, &p, 1);
    let id = append(&s, KEY, &a, "DEFAULT")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ws = subscribe(&s, &p, SDK_SUBSCRIPTION);

    let (code, message) = refused(
        &s,
        KEY,
        UPDATE,
        json!({"where": {"project": {"id": p}}, "data": {"modelName": "x"}}),
    );
    assert_eq!(code, "BAD_INPUT", "{message}");
    assert!(message.contains("where.id"), "{message}");
    let (code, _) = refused(
        &s,
        OTHER_KEY,
        UPDATE,
        json!({"where": {"id": id}, "data": {"modelName": "x"}}),
    );
    assert_eq!(code, "NO_ACCESS_RIGHTS");
    let (code, _) = refused(
        &s,
        KEY,
        UPDATE,
        json!({"where": {"id": "no-such-label"}, "data": {"modelName": "x"}}),
    );
    assert_eq!(code, "NO_ACCESS_RIGHTS");
    let (code, message) = refused(
        &s,
        KEY,
        UPDATE,
        json!({"where": {"id": id}, "data": {"jsonResponse": "{not json", "modelName": "x"}}),
    );
    assert_eq!(code, "BAD_INPUT", "{message}");
    let (code, _) = refused(
        &s,
        KEY,
        UPDATE,
        json!({"where": {"id": id, "project": {"id": "another"}}, "data": {"modelName": "x"}}),
    );
    assert_eq!(code, "NO_ACCESS_RIGHTS", "the rest of where must match too");

    let read = label(&s, &id);
    assert_eq!(
        (&read["version"], &read["modelName"]),
        (&json!(0), &json!("m"))
    );
    // The first frame after the refusals is the next accepted update: none was pushed.
    ok(
        &s,
        KEY,
        UPDATE,
        json!({"where": {"id": id}, "data": {"jsonResponse": JSON_B}}),
    );
    assert_eq!(pushed(&mut ws)["jsonResponse"], JSON_B);
}

// ---------------------------------------------------------------------------------------------
// Deletes

#[test]
fn delete_labels_is_all_or_nothing_and_only_for_predictions_and_inferences() {
    let s = server(LocalServer::builder());
    let p = project(&s, KEY);
    let a = assets(&s, KEY, &p, 1);
    let prediction = append(&s, KEY, &a, "PREDICTION")[0]["id"].clone();
    let inference = append(&s, KEY, &a, "INFERENCE")[0]["id"].clone();
    let default = append(&s, KEY, &a, "DEFAULT")[0]["id"].clone();
    let theirs_project = project(&s, OTHER_KEY);
    let theirs_asset = assets(&s, OTHER_KEY, &theirs_project, 1);
    let theirs = append(&s, OTHER_KEY, &theirs_asset, "INFERENCE")[0]["id"].clone();
    let mut ws = subscribe(&s, &p, SDK_SUBSCRIPTION);
    let everything = |s: &LocalServer| strings(&json!(all_labels(s, &json!({}), 100)), "id");
    let before = everything(&s);
    assert_eq!(before.len(), 3);

    let (code, message) = refused(&s, KEY, DELETE, json!({"ids": [prediction, default]}));
    assert_eq!(code, "BAD_INPUT");
    assert!(message.contains("DEFAULT"), "{message}");
    for label_type in ["REVIEW", "AUTOSAVE"] {
        let id = append(&s, KEY, &a, label_type)[0]["id"].clone();
        let (_, message) = refused(&s, KEY, DELETE, json!({"ids": [id]}));
        assert!(message.contains(label_type), "{message}");
        assert_eq!(pushed(&mut ws)["id"], id);
    }
    let before = everything(&s);
    let (code, _) = refused(&s, KEY, DELETE, json!({"ids": [prediction, theirs]}));
    assert_eq!(code, "NO_ACCESS_RIGHTS", "another user's label");
    let (code, _) = refused(
        &s,
        KEY,
        DELETE,
        json!({"ids": [inference, "no-such-label"]}),
    );
    assert_eq!(code, "NO_ACCESS_RIGHTS", "an unknown label");
    assert_eq!(everything(&s), before, "refusals delete nothing");
    assert_eq!(count(&s, OTHER_KEY, json!({})), 1);

    let deleted = ok(&s, KEY, DELETE, json!({"ids": [prediction, inference]}));
    assert_eq!(deleted, json!([prediction, inference]));
    let left: Vec<String> = before
        .iter()
        .filter(|id| **id != prediction && **id != inference)
        .cloned()
        .collect();
    assert_eq!(everything(&s), left);
    assert_eq!(count(&s, KEY, json!({"project": {"id": p}})), 3);
    assert_eq!(count(&s, OTHER_KEY, json!({})), 1, "theirs is untouched");
    assert!(left.contains(&default.as_str().unwrap().to_owned()));
    // A delete is not an event: the next frame is the next creation.
    let next_one = append(&s, KEY, &a, "DEFAULT")[0]["id"].clone();
    assert_eq!(pushed(&mut ws)["id"], next_one);
}

// ---------------------------------------------------------------------------------------------
// Timestamps

#[test]
fn the_labels_of_one_append_call_share_created_at() {
    let s = server(LocalServer::builder());
    let p = project(&s, KEY);
    let a = assets(&s, KEY, &p, 40);
    let first = append(&s, KEY, &a, "DEFAULT");
    let second = append(&s, KEY, &a[..5], "REVIEW");
    let stamps = |made: &[Value]| -> HashSet<String> {
        strings(&json!(made), "createdAt").into_iter().collect()
    };
    assert_eq!(stamps(&first).len(), 1, "{first:?}");
    assert_eq!(stamps(&second).len(), 1);
    let t1 = first[0]["createdAt"].as_str().unwrap();
    let t2 = second[0]["createdAt"].as_str().unwrap();
    assert!(t1 <= t2, "timestamps never go backwards");
    // And reads agree with the mutation's answer.
    let read = all_labels(&s, &json!({"project": {"id": p}}), 100);
    assert_eq!(read.len(), 45);
    assert!(read[..40].iter().all(|l| l["createdAt"] == t1));
    assert!(read[40..].iter().all(|l| l["createdAt"] == t2));
    // The older single-label mutation stamps the same way.
    let single = ok(
        &s,
        KEY,
        "mutation($data: AppendToLabelsData!, $where: AssetWhere!) { data: appendToLabels(data: $data, where: $where) { createdAt } }",
        json!({"data": {"jsonResponse": "{}", "labelType": "DEFAULT"}, "where": {"id": a[0]}}),
    );
    assert!(single["createdAt"].as_str().unwrap() >= t2);
}

/// The clock hour of a stamp. Stamps are floored to the server's start plus whole hours (not
/// to clock hours), so a test shorter than an hour sees its server's start, or the restarted
/// server's.
fn hour_of(stamp: &str) -> &str {
    assert!(
        stamp.ends_with('Z') && stamp.len() == 24,
        "not a stamp: {stamp}"
    );
    &stamp[..13]
}

fn now_hour() -> u64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    secs / 3600
}

#[test]
fn an_hour_resolution_gives_every_label_of_a_test_one_created_at() {
    let hour = Duration::from_secs(3600);
    let started = now_hour();
    let s = server(LocalServer::builder().created_at_resolution(hour));
    let p = project(&s, KEY);
    let a = assets(&s, KEY, &p, 100);
    append(&s, KEY, &a, "DEFAULT");
    append(&s, KEY, &a, "REVIEW");
    append(&s, KEY, &a[..50], "PREDICTION");
    let id = label_ids(&s, &p)[0].clone();
    let updated = ok(
        &s,
        KEY,
        UPDATE,
        json!({"where": {"id": id}, "data": {"modelName": "u"}}),
    );
    // A restart on the same data with the same settings keeps stamping the same way.
    let state = s.state();
    s.stop();
    let s = server(
        LocalServer::builder()
            .state(state)
            .created_at_resolution(hour),
    );
    append(&s, KEY, &a[..1], "DEFAULT");
    let ended = now_hour();

    let read = all_labels(&s, &json!({"project": {"id": p}}), 100);
    assert_eq!(read.len(), 251);
    let created: HashSet<&str> = read
        .iter()
        .map(|l| hour_of(l["createdAt"].as_str().unwrap()))
        .collect();
    let updated_at = hour_of(updated["updatedAt"].as_str().unwrap());
    assert!(updated_at >= hour_of(updated["createdAt"].as_str().unwrap()));
    if started == ended {
        assert_eq!(created.len(), 1, "{created:?}");
    } else {
        assert!(
            created.len() <= 2,
            "the test straddled an hour: {created:?}"
        );
    }
    // Equal timestamps do not confuse "latest label for user": the last call's label wins.
    let latest: Vec<&Value> = read
        .iter()
        .filter(|l| l["isLatestLabelForUser"] == true)
        .collect();
    assert_eq!(latest.len(), 100, "one per asset");
    assert_eq!(
        latest
            .iter()
            .filter(|l| l["labelType"] == "DEFAULT")
            .count(),
        1
    );
    assert_eq!(
        latest
            .iter()
            .filter(|l| l["labelType"] == "PREDICTION")
            .count(),
        49
    );
}

fn label_ids(s: &LocalServer, project: &str) -> Vec<String> {
    strings(
        &json!(all_labels(s, &json!({"project": {"id": project}}), 100)),
        "id",
    )
}

#[test]
fn an_invalid_resolution_is_refused_at_start() {
    for bad in [Duration::ZERO, Duration::from_micros(1500)] {
        let err = LocalServer::builder()
            .created_at_resolution(bad)
            .start()
            .unwrap_err();
        assert!(err.to_string().contains("created_at_resolution"), "{err}");
    }
}

// ---------------------------------------------------------------------------------------------
// Shuffled pages

#[test]
fn shuffled_pages_are_not_creation_order_but_page_consistently() {
    let s = server(LocalServer::builder().shuffle_label_pages(true));
    let p = project(&s, KEY);
    let a = assets(&s, KEY, &p, 30);
    let mut created = strings(&json!(append(&s, KEY, &a, "DEFAULT")), "id");
    created.extend(strings(&json!(append(&s, KEY, &a, "REVIEW")), "id"));
    let w = json!({"project": {"id": p}});

    let paged = strings(&json!(all_labels(&s, &w, 7)), "id");
    assert_eq!(paged.len(), created.len(), "every label once");
    let unique: HashSet<&String> = paged.iter().collect();
    assert_eq!(unique, created.iter().collect::<HashSet<_>>());
    assert_ne!(paged, created, "not creation order");
    let mut by_id = paged.clone();
    by_id.sort();
    assert_ne!(paged, by_id, "not id order either");
    assert_eq!(
        strings(&json!(all_labels(&s, &w, 500)), "id"),
        paged,
        "stable while the data does not change, whatever the page size"
    );
    assert_eq!(count(&s, KEY, w.clone()), 60);
    assert_eq!(count(&s, KEY, json!({"typeIn": ["REVIEW"]})), 30);
    // Filters still apply before paging.
    let reviews = strings(
        &json!(all_labels(&s, &json!({"typeIn": ["REVIEW"]}), 9)),
        "id",
    );
    assert_eq!(reviews.len(), 30);
    assert!(reviews.iter().all(|id| created[30..].contains(id)));

    // A server setting, not data: restarted without it, the same data comes in creation order.
    let state = s.state();
    s.stop();
    let plain = server(LocalServer::builder().state(state));
    assert_eq!(strings(&json!(all_labels(&plain, &w, 7)), "id"), created);
}
