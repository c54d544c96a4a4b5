//! Assets over real sockets: append (batches, existing external ids, metadata), read with
//! filters and dotted fields, count, delete.

use std::sync::{Arc, Mutex};

use crate::support::*;
use kili::{AssetQuery, Error, LabelType, NewAssets, NewLabels};
use serde_json::{Value, json};

#[test]
fn append_then_read_back() {
    let server = server();
    let kili = client(&server);
    let (project, _) = project_with_assets(&kili, 0);
    let m = mark(&server);
    let ids = kili
        .append_many_to_dataset(
            &NewAssets::new(&project, [URL, "https://example.com/2.jpg"])
                .external_ids(["car_1", "car_2"])
                .json_metadata([json!({"color": "red"}), json!({})]),
        )
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(
        calls_since(&server, &m),
        ["filterExistingAssets", "appendManyAssets"]
    );
    let reqs = requests_since(&server, &m);
    assert_eq!(
        reqs[0].variables,
        json!({"projectID": project, "externalIDs": ["car_1", "car_2"]})
    );
    let v = &reqs[1].variables;
    assert_eq!(v["where"], json!({"id": project}));
    assert_eq!(v["data"]["idArray"], json!(ids), "the client chose the ids");
    assert_eq!(
        v["data"]["jsonMetadataArray"],
        json!(["{\"color\":\"red\"}", "{}"]),
        "JSON sent as strings"
    );
    assert_eq!(v["data"]["isHoneypotArray"], json!([false, false]));
    assert_eq!(v["data"]["jsonContentArray"], json!(["", ""]));

    let assets = kili
        .assets(&AssetQuery::new(&project))
        .unwrap()
        .collect_all()
        .unwrap();
    assert_eq!(assets.len(), 2);
    let car1 = assets
        .iter()
        .find(|a| a.external_id() == Some("car_1"))
        .unwrap();
    assert_eq!(car1.id(), ids[0]);
    assert_eq!(car1.content(), Some(URL));
    assert_eq!(
        car1.json_metadata(),
        &json!({"color": "red"}),
        "JSON received as strings, parsed"
    );
}

#[test]
fn existing_external_ids_are_skipped() {
    let server = server();
    let kili = client(&server);
    let (project, first) = project_with_assets(&kili, 2); // asset-0, asset-1
    let ids = kili
        .append_many_to_dataset(
            &NewAssets::new(&project, ["https://a", "https://b", "https://c"])
                .external_ids(["asset-1", "new", "new"]),
        )
        .unwrap();
    assert_eq!(ids.len(), 1, "asset-1 exists and `new` is repeated");
    assert!(!first.contains(&ids[0]));
    assert_eq!(kili.count_assets(&AssetQuery::new(&project)).unwrap(), 3);

    let m = mark(&server);
    let none = kili
        .append_many_to_dataset(&NewAssets::new(&project, ["https://a"]).external_ids(["asset-0"]))
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(
        calls_since(&server, &m),
        ["filterExistingAssets"],
        "nothing left to send"
    );
}

#[test]
fn large_imports_go_in_batches_of_100_with_progress() {
    let server = server();
    let kili = client(&server);
    let (project, _) = project_with_assets(&kili, 0);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let m = mark(&server);
    let contents: Vec<String> = (0..250).map(|i| format!("https://x/{i}")).collect();
    let ids = kili
        .append_many_to_dataset(
            &NewAssets::new(&project, contents)
                .progress(move |done, total| seen2.lock().unwrap().push((done, total))),
        )
        .unwrap();
    assert_eq!(ids.len(), 250);
    let batches: Vec<usize> = requests_since(&server, &m)
        .iter()
        .filter(|r| root_field(r) == "appendManyAssets")
        .map(|r| r.variables["data"]["idArray"].as_array().unwrap().len())
        .collect();
    assert_eq!(batches, [100, 100, 50]);
    assert_eq!(
        *seen.lock().unwrap(),
        [(0, 250), (100, 250), (200, 250), (250, 250)]
    );
    assert_eq!(kili.count_assets(&AssetQuery::new(&project)).unwrap(), 250);
}

#[test]
fn invalid_asset_input_sends_nothing() {
    let server = server();
    let kili = client(&server);
    let e = kili
        .append_many_to_dataset(
            &NewAssets::new("p", ["https://a", "https://b"]).external_ids(["only-one"]),
        )
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    let e = kili
        .append_many_to_dataset(
            &NewAssets::new("p", ["https://a"]).json_metadata([json!(1), json!(2)]),
        )
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    assert!(kili.assets(&AssetQuery::new("")).is_err());
    assert!(
        kili.assets(&AssetQuery::new("p").fields(["labels", "labels.id"]))
            .is_err()
    );
    assert!(kili.count_assets(&AssetQuery::new(" ")).is_err());
    assert!(kili.delete_many_from_dataset(["ok", ""]).is_err());
    assert!(
        kili.append_many_to_dataset(&NewAssets::new("p", Vec::<String>::new()))
            .unwrap()
            .is_empty()
    );
    assert!(
        server.recorded_requests().is_empty(),
        "{:?}",
        calls(&server)
    );
}

#[test]
fn filters_by_ids_and_external_ids() {
    let server = server();
    let kili = client(&server);
    let (project, ids) = project_with_assets(&kili, 5);
    let by_id = kili
        .assets(&AssetQuery::new(&project).asset_ids([&ids[1], &ids[3]]))
        .unwrap()
        .collect_all()
        .unwrap();
    let mut got: Vec<String> = by_id.iter().map(|a| a.id().to_owned()).collect();
    got.sort();
    let mut want = vec![ids[1].clone(), ids[3].clone()];
    want.sort();
    assert_eq!(got, want);

    let by_ext = kili
        .assets(
            &AssetQuery::new(&project)
                .external_ids(["asset-2", "asset-4", "missing"])
                .fields(["externalId"]),
        )
        .unwrap()
        .collect_all()
        .unwrap();
    let mut ext: Vec<String> = by_ext
        .iter()
        .filter_map(|a| a.external_id().map(str::to_owned))
        .collect();
    ext.sort();
    assert_eq!(ext, ["asset-2", "asset-4"]);
    assert_eq!(
        kili.count_assets(&AssetQuery::new(&project).external_ids(["asset-0"]))
            .unwrap(),
        1
    );
    assert_eq!(
        kili.count_assets(&AssetQuery::new(&project).asset_ids(["nope"]))
            .unwrap(),
        0
    );

    let reqs = requests_to(&server, "countAssets");
    assert_eq!(
        reqs[0].variables,
        json!({"where": {"project": {"id": project}, "externalIdStrictlyIn": ["asset-0"], "label": {}, "issue": {}}})
    );
}

#[test]
fn dotted_fields_select_nested_objects() {
    let server = server();
    let kili = client(&server);
    let (project, ids) = project_with_assets(&kili, 2);
    kili.append_labels(
        &NewLabels::for_assets(&project, [&ids[0]], [json!({"JOB_0": {}})])
            .label_type(LabelType::Review),
    )
    .unwrap();
    let m = mark(&server);
    let assets = kili
        .assets(&AssetQuery::new(&project).fields([
            "externalId",
            "labels.author.email",
            "labels.labelType",
        ]))
        .unwrap()
        .collect_all()
        .unwrap();
    let q = &requests_since(&server, &m)[0].query;
    assert!(
        q.contains("id externalId labels { id author { email } labelType }"),
        "{q}"
    );
    let labeled = assets.iter().find(|a| a.id() == ids[0]).unwrap();
    let labels = labeled.labels().unwrap();
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0].label_type(), Some(&LabelType::Review));
    assert_eq!(
        labels[0].author().unwrap().email,
        Some(kili_local_server::DEFAULT_EMAIL)
    );
    assert_eq!(
        assets.iter().find(|a| a.id() == ids[1]).unwrap().labels(),
        Some(&[][..])
    );
    assert_eq!(labeled.content(), None);
}

#[test]
fn delete_many_in_batches() {
    let server = server();
    let kili = client(&server);
    let (project, ids) = project_with_assets(&kili, 150);
    let m = mark(&server);
    let deleted = kili
        .delete_many_from_dataset(ids[..120].iter().cloned())
        .unwrap();
    assert_eq!(deleted, ids[..120], "the deleted ids, in input order");
    let reqs = requests_since(&server, &m);
    let sizes: Vec<usize> = reqs
        .iter()
        .map(|r| r.variables["where"]["idIn"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 20]);
    assert!(
        reqs[0]
            .query
            .contains("data: deleteManyFromDataset(where: $where)")
    );
    assert_eq!(kili.count_assets(&AssetQuery::new(&project)).unwrap(), 30);
    let left: Vec<Value> = kili
        .assets(&AssetQuery::new(&project).fields(["id"]))
        .unwrap()
        .map(|a| json!(a.unwrap().id()))
        .collect();
    assert_eq!(left.len(), 30);
    assert!(left.iter().all(|id| !ids[..120].iter().any(|d| d == id)));

    // A batch that matches nothing is answered `null`: no id is reported deleted.
    let again = kili
        .delete_many_from_dataset(ids[..2].iter().cloned())
        .unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(kili.count_assets(&AssetQuery::new(&project)).unwrap(), 30);
}
