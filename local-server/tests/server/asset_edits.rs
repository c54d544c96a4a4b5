//! The SDK's everyday calls beyond the tutorial: `updatePropertiesInAssets`, predictions with
//! `overwrite`, and paging that stays exact while data changes between pages.

use kili_local_server::LocalServer;
use serde_json::{Value, json};

use crate::support::*;

/// The SDK's document (`GQL_UPDATE_PROPERTIES_IN_ASSETS`).
const UPDATE_ASSETS: &str = "mutation($whereArray: [AssetWhere!]! $dataArray: [AssetData!]!) { data: updatePropertiesInAssets(where: $whereArray, data: $dataArray) { id } }";
const READ_ASSETS: &str = "query($w: AssetWhere!) { data: assets(where: $w, first: 100, skip: 0) { id priority jsonMetadata consensusMark honeypotMark isHoneypot content jsonContent resolution { width height } pageResolutions { pageNumber width height rotation } toBeLabeledBy { user { email } } } }";

#[test]
fn update_properties_in_assets_changes_what_the_sdk_sends() {
    let s = LocalServer::builder().api_key("k").start().unwrap();
    let p = create_project(&s, "k", "p");
    let a = add_assets(&s, "k", &p, &["x", "y"]);
    let done = gql(
        &s,
        UPDATE_ASSETS,
        json!({
            "whereArray": [{"id": a[0]}, {"id": a[1]}],
            "dataArray": [
                {"priority": 3, "jsonMetadata": "{\"k\": 1}", "consensusMark": 0.5, "honeypotMark": null,
                 "isHoneypot": true, "toBeLabeledBy": ["user@local.kili"], "shouldResetToBeLabeledBy": false,
                 "resolution": {"width": 640, "height": 480},
                 "pageResolutions": [{"pageNumber": 1, "width": 10, "height": 20}]},
                {"content": "https://example.com/new.jpg", "jsonContent": "{\"text\": 1}"}
            ]
        }),
    );
    assert_eq!(done["data"], json!([{"id": a[0]}, {"id": a[1]}]));
    let read = gql(&s, READ_ASSETS, json!({"w": {"project": {"id": p}}}));
    let x = &read["data"][0];
    assert_eq!(x["priority"], 3);
    assert_eq!(x["jsonMetadata"], "{\"k\": 1}");
    assert_eq!(
        (x["consensusMark"].clone(), x["honeypotMark"].clone()),
        (json!(0.5), Value::Null)
    );
    assert_eq!(x["isHoneypot"], true);
    assert_eq!(x["resolution"], json!({"width": 640, "height": 480}));
    assert_eq!(x["pageResolutions"][0]["rotation"], 0);
    assert_eq!(x["toBeLabeledBy"][0]["user"]["email"], "user@local.kili");
    assert_eq!(
        x["content"], "https://example.com/x.jpg",
        "not sent, not changed"
    );
    let y = &read["data"][1];
    assert_eq!(y["content"], "https://example.com/new.jpg");
    assert_eq!(y["priority"], 0);
    // The properties are filters too.
    let count = gql(
        &s,
        "query($w: AssetWhere!) { data: countAssets(where: $w) }",
        json!({"w": {"project": {"id": p}, "consensusMarkGte": 0.4, "assigneeIn": ["user@local.kili"]}}),
    );
    assert_eq!(count["data"], 1);
    // All or nothing: one bad item changes nothing.
    let (_, message, code) = gql_failure(
        &s,
        "k",
        UPDATE_ASSETS,
        json!({"whereArray": [{"id": a[0]}, {"id": a[1]}], "dataArray": [{"priority": 9}, {"jsonMetadata": "{"}]}),
    );
    assert_eq!(code, "BAD_INPUT", "{message}");
    let read = gql(&s, READ_ASSETS, json!({"w": {"id": a[0]}}));
    assert_eq!(read["data"][0]["priority"], 3);
    let (_, _, code) = gql_failure(
        &s,
        "k",
        UPDATE_ASSETS,
        json!({"whereArray": [{"id": "nope"}], "dataArray": [{"priority": 1}]}),
    );
    assert_eq!(code, "NO_ACCESS_RIGHTS");
}

const PREDICT: &str = "mutation appendManyLabels($data: AppendManyLabelsData!, $where: AssetWhere!) { data: appendManyLabels(data: $data, where: $where) { id } }";

fn predict(s: &LocalServer, assets: &[String], model: &str, overwrite: bool) -> Vec<String> {
    let labels: Vec<Value> = assets
        .iter()
        .map(|a| json!({"assetID": a, "authorID": null, "clientVersion": null, "jsonResponse": "{}", "modelName": model, "referencedLabelId": null, "secondsToLabel": null}))
        .collect();
    let data = gql(
        s,
        PREDICT,
        json!({"data": {"labelType": "PREDICTION", "overwrite": overwrite, "labelsData": labels}, "where": {"idIn": assets}}),
    );
    data["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn predictions_with_overwrite_replace_those_of_the_same_model() {
    let s = LocalServer::builder().api_key("k").start().unwrap();
    let p = create_project(&s, "k", "p");
    let a = add_assets(&s, "k", &p, &["x", "y"]);
    let v1 = predict(&s, &a, "m1", false);
    let other = predict(&s, &a[..1], "m2", false);
    let v2 = predict(&s, &a[..1], "m1", true);
    let listed = gql(
        &s,
        "query($w: LabelWhere!) { data: labels(where: $w, first: 100, skip: 0) { id modelName labelType } }",
        json!({"w": {"project": {"id": p}, "typeIn": ["PREDICTION"]}}),
    );
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [v1[1].as_str(), other[0].as_str(), v2[0].as_str()]);
    assert!(
        listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["labelType"] == "PREDICTION")
    );
    // Overwrite is for predictions and inferences only.
    let (_, message, code) = gql_failure(
        &s,
        "k",
        PREDICT,
        json!({"data": {"labelType": "DEFAULT", "overwrite": true, "labelsData": [{"assetID": a[0], "jsonResponse": "{}"}]}, "where": {"idIn": [a[0]]}}),
    );
    assert_eq!(code, "BAD_INPUT", "{message}");
}

fn page(s: &LocalServer, w: &Value, skip: usize, first: usize) -> Vec<String> {
    let data = gql(
        s,
        "query($w: LabelWhere!, $f: PageSize!, $s: Int!) { data: labels(where: $w, first: $f, skip: $s) { id } }",
        json!({"w": w, "f": first, "s": skip}),
    );
    data["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn sequential_pages_stay_exact_when_data_changes_between_them() {
    for shuffle in [false, true] {
        let s = LocalServer::builder()
            .api_key("k")
            .shuffle_label_pages(shuffle)
            .start()
            .unwrap();
        let p = create_project(&s, "k", "p");
        let a = add_assets(&s, "k", &p, &["x"]);
        for _ in 0..3 {
            add_labels(&s, "k", &[a[0].as_str(); 100], "PREDICTION");
        }
        let w = json!({"project": {"id": p}, "asset": {"project": {"id": p}, "label": {}, "issue": {}}});
        let all = page(&s, &w, 0, 500);
        assert_eq!(all.len(), 300);
        // Page by page, as the SDK does: the same sequence.
        let mut paged = Vec::new();
        while paged.len() < 300 {
            paged.extend(page(&s, &w, paged.len(), 70));
        }
        assert_eq!(paged, all, "shuffle={shuffle}");
        // A write between pages: every page agrees with a fresh read of the whole listing.
        let first = page(&s, &w, 0, 100);
        let deleted = all[10].clone();
        gql(
            &s,
            "mutation($ids: [ID!]!) { data: deleteLabels(ids: $ids) }",
            json!({"ids": [deleted]}),
        );
        let added = add_labels(&s, "k", &[&a[0]], "PREDICTION");
        let fresh = page(&s, &w, 0, 500);
        assert_eq!(page(&s, &w, 100, 100), fresh[100..200], "shuffle={shuffle}");
        // The new label may land anywhere in shuffled order (its id is random); the others
        // before the deleted one keep their places.
        let kept: Vec<&String> = fresh.iter().filter(|id| !added.contains(id)).collect();
        let first: Vec<&String> = first.iter().collect();
        assert_eq!(first[..10], kept[..10], "shuffle={shuffle}");
    }
}
