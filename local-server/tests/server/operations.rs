//! Every operation of the local server, its filters and its paging, over real HTTP.

use crate::support::*;
use kili_local_server::LocalServer;
use serde_json::{Value, json};

const KEY: &str = "ops-key";

fn server() -> LocalServer {
    LocalServer::builder().api_key(KEY).start().unwrap()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

const LABELS: &str = "query($where: LabelWhere!, $first: PageSize!, $skip: Int!) { data: labels(where: $where, first: $first, skip: $skip) { id createdAt labelType } }";
const COUNT_LABELS: &str = "query($where: LabelWhere!) { data: countLabels(where: $where) }";
const ASSETS: &str = "query($where: AssetWhere!, $first: PageSize!, $skip: Int!) { data: assets(where: $where, skip: $skip, first: $first) { id externalId } }";
const COUNT_ASSETS: &str = "query($where: AssetWhere!) { data: countAssets(where: $where) }";
const PROJECTS: &str = "query($where: ProjectWhere!, $first: PageSize!, $skip: Int!) { data: projects(where: $where, first: $first, skip: $skip) { id title } }";

fn labels(s: &LocalServer, w: Value) -> Vec<String> {
    ids(&gql(s, LABELS, json!({"where": w, "first": 500, "skip": 0}))["data"])
}

fn assets(s: &LocalServer, w: Value) -> Vec<String> {
    ids(&gql(s, ASSETS, json!({"where": w, "first": 500, "skip": 0}))["data"])
}

#[test]
fn viewer_me_users_and_api_keys() {
    let s = LocalServer::builder()
        .api_key(KEY)
        .user("k2", "two@x.y")
        .start()
        .unwrap();
    let d = gql(
        &s,
        "{ a: viewer { id email } b: me { id email } }",
        json!({}),
    );
    assert_eq!(d["a"], d["b"]);
    let users = gql(
        &s,
        "query($where: UserWhere!) { data: users(where: $where, first: 10, skip: 0) { email } }",
        json!({"where": {"apiKey": KEY, "email": null, "organization": {"id": null}}}),
    );
    assert_eq!(users["data"], json!([{"email": "user@local.kili"}]));
    let count = gql(&s, "{ countUsers(where: {}) }", json!({}));
    assert_eq!(count["countUsers"], 2);
    // The SDK's key-expiry check; it parses with %Y-%m-%dT%H:%M:%S.%fZ.
    let keys = gql(
        &s,
        "query apiKeys($where: ApiKeyWhere!) { data: apiKeys(where: $where, skip: 0, first: 1) { expiryDate key createdAt } }",
        json!({"where": {"key": KEY}}),
    );
    let expiry = keys["data"][0]["expiryDate"].as_str().unwrap();
    assert_eq!(expiry.len(), 24, "{expiry}");
    assert!(
        expiry.ends_with('Z') && expiry.as_bytes()[19] == b'.',
        "{expiry}"
    );
    assert!(expiry > keys["data"][0]["createdAt"].as_str().unwrap());
    // Another user's key is never listed.
    let other = gql(&s, "{ apiKeys(where: {key: \"k2\"}) { key } }", json!({}));
    assert_eq!(other["apiKeys"], json!([]));
}

#[test]
fn create_list_count_and_delete_projects() {
    let s = server();
    let created = gql(
        &s,
        "mutation($data: CreateProjectData!) { data: createProject(data: $data) { id title description inputType jsonInterface createdAt roles { role user { email } } } }",
        json!({"data": {"title": "Webhook project", "description": "d", "inputType": "IMAGE", "jsonInterface": "{\"jobs\":{}}", "complianceTags": ["PHI"]}}),
    )["data"]
        .clone();
    assert_eq!(created["inputType"], "IMAGE");
    assert_eq!(created["jsonInterface"], "{\"jobs\":{}}");
    assert_eq!(created["roles"][0]["role"], "ADMIN");
    let p2 = create_project(&s, KEY, "Second");
    let all = gql(&s, PROJECTS, json!({"where": {}, "first": 10, "skip": 0}));
    assert_eq!(
        ids(&all["data"]),
        vec![created["id"].as_str().unwrap().to_owned(), p2.clone()]
    );
    let one = gql(
        &s,
        PROJECTS,
        json!({"where": {"id": p2}, "first": 1, "skip": 0}),
    );
    assert_eq!(one["data"][0]["title"], "Second");
    let search = gql(
        &s,
        PROJECTS,
        json!({"where": {"searchQuery": "%webhook%"}, "first": 10, "skip": 0}),
    );
    assert_eq!(
        ids(&search["data"]),
        vec![created["id"].as_str().unwrap().to_owned()]
    );
    let count = gql(
        &s,
        "query($where: ProjectWhere!) { data: countProjects(where: $where) }",
        json!({"where": {"archived": false}}),
    );
    assert_eq!(count["data"], 2);
    // A filter on what the emulator does not model is refused, not answered with a default.
    let refused = gql_error(
        &s,
        s.api_key(),
        "{ countProjects(where: {starred: true}) }",
        json!({}),
    );
    assert!(refused.contains("unsupportedFilter"), "{refused}");

    let deleted = gql(
        &s,
        "mutation($where: ProjectWhere!) { data: deleteProjectAsynchronously(where: $where) }",
        json!({"where": {"id": p2}}),
    );
    assert_eq!(deleted["data"], p2.as_str());
    let gone = gql(
        &s,
        "mutation($id: ID!) { data: deleteProject(where: {id: $id}) { id title } }",
        json!({"id": created["id"]}),
    );
    assert_eq!(gone["data"]["title"], "Webhook project");
    assert_eq!(s.state().project_count(), 0);
    let again = gql_error(
        &s,
        KEY,
        "mutation($id: ID!) { deleteProjectAsynchronously(where: {id: $id}) }",
        json!({"id": p2}),
    );
    assert!(again.contains("noAccessRights"), "{again}");
}

#[test]
fn create_project_rejects_bad_input() {
    let s = server();
    for data in [
        json!({"title": " "}),
        json!({"title": "t", "jsonInterface": "{nope"}),
        json!({"title": "t", "inputType": "HOLOGRAM"}),
    ] {
        gql_error(&s, KEY, CREATE_PROJECT, json!({ "data": data }));
    }
    assert_eq!(s.state().project_count(), 0);
}

#[test]
fn append_many_assets_and_the_older_append_many_to_dataset() {
    let s = server();
    let p = create_project(&s, KEY, "p");
    let made = gql(
        &s,
        "mutation($data: AppendManyAssetsData!, $where: ProjectWhere!) { data: appendManyAssets(data: $data, where: $where) { id externalId content jsonMetadata isHoneypot status jsonContent } }",
        json!({"data": {"contentArray": ["https://hosted-data"], "externalIDArray": ["hosted file"], "idArray": ["unique_id"],
                        "isHoneypotArray": [false], "jsonContentArray": [""], "jsonMetadataArray": ["{\"k\": 1}"]},
               "where": {"id": p}}),
    );
    assert_eq!(
        made["data"],
        json!([{"id": "unique_id", "externalId": "hosted file", "content": "https://hosted-data",
                "jsonMetadata": "{\"k\": 1}", "isHoneypot": false, "status": "TODO", "jsonContent": ""}])
    );
    let older = gql(
        &s,
        "mutation($data: AppendManyToDatasetData!, $where: ProjectWhere!) { data: appendManyToDataset(data: $data, where: $where) { id externalId jsonMetadata } }",
        json!({"data": {"contentArray": ["a", "b"], "externalIDArray": ["e1", "e2"], "isHoneypotArray": [false, false],
                        "statusArray": ["TODO", "TODO"], "jsonContentArray": ["", ""], "jsonMetadataArray": ["{}", ""]},
               "where": {"id": p}}),
    );
    assert_eq!(older["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        older["data"][1]["jsonMetadata"], "{}",
        "empty metadata becomes {{}}"
    );
    assert_eq!(s.state().asset_count(), 3);
}

#[test]
fn client_ids_make_retried_asset_batches_idempotent() {
    let s = server();
    let p = create_project(&s, KEY, "p");
    let vars = json!({"data": {"contentArray": ["a", "b"], "externalIDArray": ["e1", "e2"], "idArray": ["id-a", "id-b"]}, "where": {"id": p}});
    let first = gql(&s, APPEND_ASSETS, vars.clone());
    let retry = gql(&s, APPEND_ASSETS, vars);
    assert_eq!(first, retry);
    assert_eq!(s.state().asset_count(), 2);
    // The same id in another project is refused, and nothing of that batch is written.
    let q = create_project(&s, KEY, "q");
    gql_error(
        &s,
        KEY,
        APPEND_ASSETS,
        json!({"data": {"contentArray": ["c", "a"], "idArray": ["id-c", "id-a"]}, "where": {"id": q}}),
    );
    assert_eq!(s.state().asset_count(), 2);
}

#[test]
fn mismatched_arrays_write_nothing() {
    let s = server();
    let p = create_project(&s, KEY, "p");
    for data in [
        json!({"contentArray": ["a", "b"], "externalIDArray": ["e1"]}),
        json!({"contentArray": ["a"], "idArray": ["x", "y"]}),
        json!({"contentArray": ["a"], "jsonMetadataArray": ["{", "{}"]}),
        json!({"contentArray": ["a"], "jsonMetadataArray": ["{"]}),
        json!({}),
    ] {
        let msg = gql_error(
            &s,
            KEY,
            APPEND_ASSETS,
            json!({"data": data, "where": {"id": p}}),
        );
        assert!(!msg.is_empty());
    }
    assert_eq!(s.state().asset_count(), 0);
    let msg = gql_error(
        &s,
        KEY,
        APPEND_ASSETS,
        json!({"data": {"contentArray": ["a", "b"], "externalIDArray": ["e1"]}, "where": {"id": p}}),
    );
    assert!(msg.contains("same length"), "{msg}");
}

#[test]
fn filter_existing_assets_and_asset_filters() {
    let s = server();
    let p = create_project(&s, KEY, "p");
    let q = create_project(&s, KEY, "q");
    let a = add_assets(&s, KEY, &p, &["car_1", "car_2", "bike_1"]);
    let b = add_assets(&s, KEY, &q, &["car_1"]);
    let existing = gql(
        &s,
        "query FilterExistingAssets($projectID: ID!, $externalIDs: [String!]!) { external_ids: filterExistingAssets(projectID: $projectID, externalIDs: $externalIDs) }",
        json!({"projectID": p, "externalIDs": ["car_2", "nope", "car_1"]}),
    );
    assert_eq!(existing["external_ids"], json!(["car_2", "car_1"]));

    // What the SDK sends for kili.assets(project_id): empty label and issue filters.
    assert_eq!(
        assets(&s, json!({"project": {"id": p}, "label": {}, "issue": {}})),
        a
    );
    assert_eq!(assets(&s, json!({"id": a[1]})), vec![a[1].clone()]);
    assert_eq!(
        assets(&s, json!({"idIn": [a[0], b[0]]})),
        vec![a[0].clone(), b[0].clone()]
    );
    assert_eq!(
        assets(&s, json!({"project": {"id": p}, "idNotIn": [a[0]]})),
        a[1..].to_vec()
    );
    assert_eq!(
        assets(&s, json!({"externalIdStrictlyIn": ["car_1"]})),
        vec![a[0].clone(), b[0].clone()]
    );
    assert_eq!(
        assets(&s, json!({"project": {"id": p}, "externalIdIn": ["car"]})),
        a[..2].to_vec()
    );
    assert_eq!(
        assets(&s, json!({"statusIn": ["LABELED"]})),
        Vec::<String>::new()
    );
    assert_eq!(
        assets(&s, json!({"assigneeIn": ["someone"]})),
        Vec::<String>::new()
    );
    let count = gql(&s, COUNT_ASSETS, json!({"where": {"project": {"id": p}}}));
    assert_eq!(count["data"], 3);

    add_labels(&s, KEY, &[a[2].as_str()], "DEFAULT");
    assert_eq!(
        assets(&s, json!({"project": {"id": p}, "statusIn": ["LABELED"]})),
        vec![a[2].clone()]
    );
    assert_eq!(
        assets(&s, json!({"label": {"typeIn": ["DEFAULT"]}})),
        vec![a[2].clone()]
    );
    assert_eq!(
        assets(&s, json!({"label": {"typeIn": ["REVIEW"]}})),
        Vec::<String>::new()
    );

    let meta = gql(
        &s,
        APPEND_ASSETS,
        json!({"data": {"contentArray": ["m"], "jsonMetadataArray": ["{\"split\": \"train\", \"n\": 2}"]}, "where": {"id": q}}),
    );
    let m = meta["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        assets(&s, json!({"metadata": {"split": "train"}})),
        vec![m.clone()]
    );
    assert_eq!(
        assets(&s, json!({"metadata": {"split": "test"}})),
        Vec::<String>::new()
    );

    let bad = gql_error(
        &s,
        KEY,
        ASSETS,
        json!({"where": {"createdAtGte": "yesterday"}, "first": 1, "skip": 0}),
    );
    assert!(bad.contains("ISO 8601"), "{bad}");
    let msg = gql_error(
        &s,
        KEY,
        "query($p: ID!) { filterExistingAssets(projectID: $p, externalIDs: []) }",
        json!({"p": "nope"}),
    );
    assert!(msg.contains("noAccessRights"), "{msg}");
}

#[test]
fn delete_many_from_dataset_removes_assets_and_their_labels() {
    let s = server();
    let p = create_project(&s, KEY, "p");
    let a = add_assets(&s, KEY, &p, &["x", "y"]);
    add_labels(&s, KEY, &[a[0].as_str(), a[1].as_str()], "DEFAULT");
    let d = gql(
        &s,
        "mutation($where: AssetWhere!) { data: deleteManyFromDataset(where: $where) { id } }",
        json!({"where": {"idIn": [a[0]]}}),
    );
    assert_eq!(d["data"]["id"], p.as_str());
    assert_eq!(
        assets(&s, json!({"project": {"id": p}})),
        vec![a[1].clone()]
    );
    assert_eq!(s.state().label_count(), 1);
    let none = gql(
        &s,
        "mutation { deleteManyFromDataset(where: {idIn: [\"nope\"]}) { id } }",
        json!({}),
    );
    assert_eq!(none["deleteManyFromDataset"], Value::Null);
}

#[test]
fn append_many_labels_and_the_older_append_to_labels() {
    let s = server();
    let p = create_project(&s, KEY, "p");
    let a = add_assets(&s, KEY, &p, &["x"]);
    let viewer = gql(&s, "{ viewer { id } }", json!({}))["viewer"]["id"].clone();
    // Exactly what SDK 26 sends (nulls inside labelsData are kept).
    let made = gql(
        &s,
        "mutation appendManyLabels($data: AppendManyLabelsData!, $where: AssetWhere!) { data: appendManyLabels(data: $data, where: $where) { id author { id email } assetId labelOf { id externalId } labelType jsonResponse createdAt modelName secondsToLabel isLatestLabelForUser skipped } }",
        json!({"data": {"labelType": "PREDICTION", "overwrite": false, "labelsData": [{
                  "assetID": a[0], "authorID": null, "clientVersion": null, "jsonResponse": "{\"JOB_0\": {}}",
                  "modelName": "m1", "referencedLabelId": null, "secondsToLabel": 4.5}]},
               "where": {"idIn": [a[0]], "project": {"id": p}}}),
    );
    let l = &made["data"][0];
    assert_eq!(l["author"]["id"], viewer);
    assert_eq!(l["assetId"], a[0].as_str());
    assert_eq!(l["labelOf"], json!({"id": a[0], "externalId": "x"}));
    assert_eq!(l["labelType"], "PREDICTION");
    assert_eq!(l["jsonResponse"], "{\"JOB_0\": {}}");
    assert_eq!(l["modelName"], "m1");
    assert_eq!(l["secondsToLabel"], 4.5);
    assert_eq!(l["isLatestLabelForUser"], true);
    assert_eq!(l["skipped"], false);

    let older = gql(
        &s,
        "mutation($data: AppendToLabelsData!, $where: AssetWhere!) { data: appendToLabels(data: $data, where: $where) { id labelType skipped isLatestLabelForUser } }",
        json!({"data": {"authorID": viewer, "clientVersion": null, "jsonResponse": "{}", "labelType": "DEFAULT", "secondsToLabel": 0, "skipped": true},
               "where": {"id": a[0]}}),
    );
    assert_eq!(older["data"]["labelType"], "DEFAULT");
    assert_eq!(older["data"]["skipped"], true);
    let first_again = gql(
        &s,
        LABELS,
        json!({"where": {"id": l["id"]}, "first": 1, "skip": 0}),
    );
    assert_eq!(first_again["data"].as_array().unwrap().len(), 1);
    let latest = |id: &Value| {
        gql(&s, "query($id: ID!) { labels(where: {id: $id}) { isLatestLabelForUser isLatestDefaultLabelForUser } }", json!({"id": id}))["labels"][0].clone()
    };
    assert_eq!(
        latest(&l["id"]),
        json!({"isLatestLabelForUser": false, "isLatestDefaultLabelForUser": false})
    );
    assert_eq!(
        latest(&older["data"]["id"]),
        json!({"isLatestLabelForUser": true, "isLatestDefaultLabelForUser": true})
    );
}

#[test]
fn a_bad_label_in_a_batch_writes_none() {
    let s = server();
    let p = create_project(&s, KEY, "p");
    let a = add_assets(&s, KEY, &p, &["x"]);
    let batch = |second: Value| {
        json!({"data": {"labelType": "DEFAULT", "labelsData": [
            {"assetID": a[0], "jsonResponse": "{}"}, second]}, "where": {"idIn": [a[0], "nope"]}})
    };
    for second in [
        json!({"assetID": a[0], "jsonResponse": "{not json"}),
        json!({"assetID": "nope", "jsonResponse": "{}"}),
        json!({"assetID": a[0], "jsonResponse": "{}", "authorID": "nobody"}),
    ] {
        gql_error(&s, KEY, APPEND_LABELS, batch(second));
    }
    // An asset outside the mutation's `where`.
    let b = add_assets(&s, KEY, &p, &["y"]);
    let msg = gql_error(
        &s,
        KEY,
        APPEND_LABELS,
        json!({"data": {"labelType": "DEFAULT", "labelsData": [{"assetID": b[0], "jsonResponse": "{}"}]}, "where": {"idIn": [a[0]]}}),
    );
    assert!(msg.contains("where"), "{msg}");
    assert_eq!(s.state().label_count(), 0);
}

#[test]
fn labels_keep_creation_order_with_non_decreasing_millisecond_timestamps() {
    let s = server();
    let p = create_project(&s, KEY, "p");
    let a = add_assets(&s, KEY, &p, &["x", "y"]);
    let mut made = Vec::new();
    for _ in 0..5 {
        made.extend(add_labels(
            &s,
            KEY,
            &[a[0].as_str(), a[1].as_str()],
            "DEFAULT",
        ));
    }
    let all = gql(
        &s,
        LABELS,
        json!({"where": {"project": {"id": p}}, "first": 100, "skip": 0}),
    )["data"]
        .clone();
    assert_eq!(ids(&all), made);
    let stamps: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["createdAt"].as_str().unwrap())
        .collect();
    for w in stamps.windows(2) {
        assert!(w[0] <= w[1], "{} > {}", w[0], w[1]);
    }
    for call in stamps.chunks(2) {
        assert_eq!(call[0], call[1], "the labels of one call share createdAt");
    }
    for t in &stamps {
        assert_eq!(t.len(), 24, "{t}");
        assert!(
            t.ends_with('Z') && t.as_bytes()[19] == b'.' && t.as_bytes()[10] == b'T',
            "{t}"
        );
    }
    let unique: std::collections::HashSet<&String> = made.iter().collect();
    assert_eq!(unique.len(), made.len());
}

#[test]
fn label_filters() {
    let s = LocalServer::builder().api_key(KEY).start().unwrap();
    let p = create_project(&s, KEY, "p");
    let q = create_project(&s, KEY, "q");
    let a = add_assets(&s, KEY, &p, &["x", "y"]);
    let b = add_assets(&s, KEY, &q, &["z"]);
    let l1 = add_labels(&s, KEY, &[a[0].as_str()], "DEFAULT");
    let l2 = add_labels(&s, KEY, &[a[1].as_str()], "REVIEW");
    let l3 = add_labels(&s, KEY, &[b[0].as_str()], "INFERENCE");
    let all = [l1[0].clone(), l2[0].clone(), l3[0].clone()];

    assert_eq!(labels(&s, json!({})), all.to_vec());
    assert_eq!(labels(&s, json!({"id": all[1]})), vec![all[1].clone()]);
    assert_eq!(
        labels(&s, json!({"idIn": [all[0], all[2]]})),
        vec![all[0].clone(), all[2].clone()]
    );
    assert_eq!(labels(&s, json!({"project": {"id": p}})), all[..2].to_vec());
    assert_eq!(
        labels(&s, json!({"typeIn": ["REVIEW", "INFERENCE"]})),
        all[1..].to_vec()
    );
    assert_eq!(
        labels(&s, json!({"asset": {"id": a[1]}})),
        vec![all[1].clone()]
    );
    assert_eq!(
        labels(&s, json!({"asset": {"idIn": [a[0], b[0]]}})),
        vec![all[0].clone(), all[2].clone()]
    );
    assert_eq!(
        labels(&s, json!({"asset": {"externalIdIn": ["z"]}})),
        vec![all[2].clone()]
    );
    assert_eq!(
        labels(
            &s,
            json!({"asset": {"externalIdStrictlyIn": ["y"], "project": {"id": p}}})
        ),
        vec![all[1].clone()]
    );
    // The SDK's own shape for a labels() call filtered by asset external id.
    let sdk = json!({"id": all[0], "project": {"id": p}, "asset": {"externalIdIn": ["x"], "project": {"id": p}, "label": {}, "issue": {}}});
    assert_eq!(labels(&s, sdk), vec![all[0].clone()]);
    assert_eq!(
        labels(&s, json!({"authorIn": ["user@local.kili"]})),
        all.to_vec()
    );
    assert_eq!(
        labels(&s, json!({"authorIn": ["someone else"]})),
        Vec::<String>::new()
    );
    assert_eq!(
        labels(&s, json!({"user": {"email": "USER@local.kili"}})),
        all.to_vec()
    );
    assert_eq!(
        labels(&s, json!({"jsonResponseContains": ["JOB_0"]})),
        all.to_vec()
    );

    let stamps: Vec<String> = gql(&s, LABELS, json!({"where": {}, "first": 10, "skip": 0}))["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["createdAt"].as_str().unwrap().to_owned())
        .collect();
    // Separate calls may share a millisecond: expect what the stamps say, not the call order.
    let stamped = |keep: &dyn Fn(&str) -> bool| -> Vec<String> {
        all.iter()
            .zip(&stamps)
            .filter(|(_, t)| keep(t))
            .map(|(id, _)| id.clone())
            .collect()
    };
    assert_eq!(
        labels(&s, json!({"createdAtGte": stamps[1]})),
        stamped(&|t| t >= stamps[1].as_str())
    );
    assert_eq!(
        labels(&s, json!({"createdAtLte": stamps[1]})),
        stamped(&|t| t <= stamps[1].as_str())
    );
    assert_eq!(
        labels(
            &s,
            json!({"createdAtGte": stamps[1], "createdAtLte": stamps[1]})
        ),
        stamped(&|t| t == stamps[1])
    );
    assert_eq!(
        labels(&s, json!({"createdAt": stamps[2]})),
        stamped(&|t| t == stamps[2])
    );
    assert_eq!(
        labels(&s, json!({"createdAtGte": "2000-01-01"})),
        all.to_vec()
    );
    assert_eq!(
        labels(&s, json!({"createdAtLte": "2000-01-01T00:00:00Z"})),
        Vec::<String>::new()
    );
    let count = gql(
        &s,
        COUNT_LABELS,
        json!({"where": {"project": {"id": p}, "typeIn": ["DEFAULT"]}}),
    );
    assert_eq!(count["data"], 1);
}

#[test]
fn first_and_skip_page_exactly() {
    let s = server();
    let p = create_project(&s, KEY, "p");
    let a = add_assets(&s, KEY, &p, &["x"]);
    let mut made = Vec::new();
    for _ in 0..7 {
        made.extend(add_labels(&s, KEY, &[a[0].as_str()], "DEFAULT"));
    }
    let page = |first: i64, skip: i64| {
        ids(&gql(
            &s,
            LABELS,
            json!({"where": {"project": {"id": p}}, "first": first, "skip": skip}),
        )["data"])
    };
    assert_eq!(page(3, 0), made[0..3].to_vec());
    assert_eq!(page(3, 3), made[3..6].to_vec());
    assert_eq!(page(3, 6), made[6..7].to_vec(), "a short last page");
    assert_eq!(page(3, 7), Vec::<String>::new(), "skip at the end");
    assert_eq!(page(3, 100), Vec::<String>::new(), "skip beyond the end");
    assert_eq!(page(0, 0), Vec::<String>::new(), "first: 0");
    assert_eq!(page(500, 0), made, "first beyond the end");
    let neg = gql_error(
        &s,
        KEY,
        LABELS,
        json!({"where": {}, "first": 1, "skip": -1}),
    );
    assert!(neg.contains("skip"), "{neg}");
    gql_error(
        &s,
        KEY,
        LABELS,
        json!({"where": {}, "first": -1, "skip": 0}),
    );
    // Without first/skip: the first 100, from the start.
    let default = gql(&s, "{ labels(where: {}) { id } }", json!({}));
    assert_eq!(ids(&default["labels"]), made);
}
