//! Labels over real sockets: append (by ids and external ids, batches, types, author, model),
//! read with every filter, count.

use std::sync::{Arc, Mutex};

use crate::support::*;
use kili::{Error, LabelQuery, LabelType, NewLabels};
use serde_json::{Value, json};

fn response(category: &str) -> Value {
    json!({"JOB_0": {"categories": [{"name": category}]}})
}

#[test]
fn append_by_asset_ids_and_read_back() {
    let server = server();
    let kili = client(&server);
    let (project, assets) = project_with_assets(&kili, 2);
    let m = mark(&server);
    let ids = kili
        .append_labels(
            &NewLabels::for_assets(
                &project,
                [&assets[0], &assets[1]],
                [response("OBJECT_A"), response("OBJECT_B")],
            )
            .label_type(LabelType::Inference),
        )
        .unwrap();
    assert_eq!(ids.len(), 2);
    let reqs = requests_since(&server, &m);
    assert_eq!(reqs.len(), 1);
    assert!(reqs[0].query.starts_with(
        "mutation appendManyLabels($data: AppendManyLabelsData!, $where: AssetWhere!)"
    ));
    let v = &reqs[0].variables;
    assert_eq!(
        v["where"],
        json!({"idIn": [assets[0], assets[1]], "project": {"id": project}})
    );
    assert_eq!(v["data"]["labelType"], "INFERENCE");
    assert_eq!(
        v["data"]["labelsData"][0]["jsonResponse"],
        response("OBJECT_A").to_string()
    );
    assert_eq!(v["data"]["labelsData"][0]["assetID"], json!(assets[0]));

    let labels = kili
        .labels(&LabelQuery::new(&project))
        .unwrap()
        .collect_all()
        .unwrap();
    assert_eq!(labels.len(), 2);
    let l = labels.iter().find(|l| l.id() == ids[0]).unwrap();
    assert_eq!(l.asset_id(), Some(assets[0].as_str()));
    assert_eq!(l.label_type(), Some(&LabelType::Inference));
    assert_eq!(
        l.json_response().unwrap().parse().unwrap(),
        response("OBJECT_A")
    );
    assert_eq!(
        l.author().unwrap().email,
        Some(kili_local_server::DEFAULT_EMAIL)
    );
    assert!(l.created_at().is_some());
    assert_eq!(kili.count_labels(&LabelQuery::new(&project)).unwrap(), 2);
}

#[test]
fn append_by_external_ids_with_model_and_author() {
    let server = server();
    let kili = client(&server);
    let other = builder(OTHER_KEY, server.endpoint()).build().unwrap();
    let other_id = other.graphql("{ viewer { id } }", Value::Null).unwrap()["viewer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (project, assets) = project_with_assets(&kili, 3);
    let m = mark(&server);
    let ids = kili
        .append_labels(
            &NewLabels::for_external_ids(
                &project,
                ["asset-2", "asset-0"],
                [response("B"), response("A")],
            )
            .label_type(LabelType::Prediction)
            .model_name("model-v1")
            .author_id(&other_id)
            .seconds_to_label(3.0),
        )
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(calls_since(&server, &m), ["assets", "appendManyLabels"]);
    let append = &requests_since(&server, &m)[1].variables;
    assert_eq!(
        append["where"],
        json!({"idIn": [assets[2], assets[0]], "project": {"id": project}})
    );
    assert_eq!(append["data"]["labelsData"][0]["modelName"], "model-v1");
    assert_eq!(append["data"]["labelsData"][0]["authorID"], json!(other_id));

    let labels = kili
        .labels(&LabelQuery::new(&project).asset_external_ids(["asset-2"]))
        .unwrap()
        .collect_all()
        .unwrap();
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0].id(), ids[0]);
    assert_eq!(labels[0].model_name(), Some("model-v1"));
    assert_eq!(labels[0].seconds_to_label(), Some(3.0));
    assert_eq!(labels[0].author().unwrap().email, Some(OTHER_EMAIL));

    let e = kili
        .append_labels(&NewLabels::for_external_ids(
            &project,
            ["nope"],
            [response("A")],
        ))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
}

#[test]
fn invalid_label_input_sends_nothing() {
    let server = server();
    let kili = client(&server);
    let cases = [
        NewLabels::for_assets("p", ["a", "b"], [response("A")]),
        NewLabels::for_assets("p", ["a"], [response("A")]).label_type(LabelType::Prediction),
        NewLabels::for_assets("p", [""], [response("A")]),
        NewLabels::for_external_ids("", ["e"], [response("A")]),
    ];
    for c in &cases {
        let e = kili.append_labels(c).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{c:?}: {e:?}");
    }
    assert!(
        kili.append_labels(&NewLabels::for_assets("p", Vec::<String>::new(), []))
            .unwrap()
            .is_empty()
    );
    assert!(kili.labels(&LabelQuery::new("")).is_err());
    assert!(kili.count_labels(&LabelQuery::new("")).is_err());
    assert!(
        kili.labels(&LabelQuery::new("p").fields(["author.", "id"]))
            .is_err()
    );
    assert!(
        server.recorded_requests().is_empty(),
        "{:?}",
        calls(&server)
    );
}

#[test]
fn large_appends_go_in_batches_of_100_with_progress() {
    let server = server();
    let kili = client(&server);
    let (project, assets) = project_with_assets(&kili, 150);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let m = mark(&server);
    let ids = kili
        .append_labels(
            &NewLabels::for_assets(
                &project,
                assets.iter().cloned(),
                assets.iter().map(|_| response("A")),
            )
            .progress(move |d, t| seen2.lock().unwrap().push((d, t))),
        )
        .unwrap();
    assert_eq!(ids.len(), 150);
    let sizes: Vec<usize> = requests_since(&server, &m)
        .iter()
        .map(|r| r.variables["data"]["labelsData"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 50]);
    assert_eq!(*seen.lock().unwrap(), [(0, 150), (100, 150), (150, 150)]);
    assert_eq!(kili.count_labels(&LabelQuery::new(&project)).unwrap(), 150);
}

#[test]
fn every_label_filter() {
    let server = server();
    let kili = client(&server);
    let (project, assets) = project_with_assets(&kili, 3);
    let add = |asset: &str, t: LabelType| {
        kili.append_labels(&NewLabels::for_assets(&project, [asset], [response("A")]).label_type(t))
            .unwrap()[0]
            .clone()
    };
    let l_default = add(&assets[0], LabelType::Default);
    let l_review = add(&assets[0], LabelType::Review);
    let l_inference = add(&assets[1], LabelType::Inference);

    let ids = |q: LabelQuery| -> Vec<String> {
        let mut v: Vec<String> = kili
            .labels(&q)
            .unwrap()
            .map(|l| l.unwrap().id().to_owned())
            .collect();
        v.sort();
        v
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let p = || LabelQuery::new(&project);
    assert_eq!(
        ids(p().asset_ids([&assets[0]])),
        sorted(vec![l_default.clone(), l_review.clone()])
    );
    assert_eq!(
        ids(p().asset_external_ids(["asset-1"])),
        std::slice::from_ref(&l_inference)
    );
    assert_eq!(ids(p().asset_ids([&assets[2]])), Vec::<String>::new());
    assert_eq!(
        ids(p().label_types([LabelType::Review, LabelType::Inference])),
        sorted(vec![l_review.clone(), l_inference.clone()])
    );
    assert_eq!(
        kili.count_labels(&p().label_types([LabelType::Default]))
            .unwrap(),
        1
    );

    let all = kili.labels(&p()).unwrap().collect_all().unwrap();
    let created: Vec<String> = all
        .iter()
        .map(|l| l.created_at().unwrap().to_owned())
        .collect();
    let min = created.iter().min().unwrap().clone();
    let max = created.iter().max().unwrap().clone();
    assert_eq!(kili.count_labels(&p().created_at_gte(&min)).unwrap(), 3);
    assert_eq!(kili.count_labels(&p().created_at_lte(&max)).unwrap(), 3);
    assert_eq!(
        kili.count_labels(&p().created_at_gte("2999-01-01T00:00:00.000Z"))
            .unwrap(),
        0
    );
    assert_eq!(
        kili.count_labels(&p().created_at_lte("2000-01-01T00:00:00.000Z"))
            .unwrap(),
        0
    );

    let filtered = requests_to(&server, "countLabels");
    assert_eq!(
        filtered[0].variables,
        json!({"where": {
            "project": {"id": project},
            "asset": {"project": {"id": project}, "label": {}, "issue": {}},
            "typeIn": ["DEFAULT"]
        }})
    );
}

#[test]
fn label_reads_select_fields() {
    let server = server();
    let kili = client(&server);
    let (project, assets) = project_with_assets(&kili, 1);
    kili.append_labels(&NewLabels::for_assets(
        &project,
        [&assets[0]],
        [response("A")],
    ))
    .unwrap();
    let m = mark(&server);
    let labels = kili
        .labels(&LabelQuery::new(&project).fields(["labelOf.externalId", "author.email"]))
        .unwrap()
        .collect_all()
        .unwrap();
    let q = &requests_since(&server, &m)[0].query;
    assert!(
        q.contains("id labelOf { externalId } author { email }"),
        "{q}"
    );
    assert_eq!(labels[0].extra()["labelOf"]["externalId"], "asset-0");
    assert_eq!(labels[0].json_response(), None, "not selected");
}

#[test]
fn labels_are_read_with_search_by_asset_id() {
    let server = server();
    let kili = client(&server);
    let (project, assets) = project_with_assets(&kili, 2);
    let boxes = json!({"JOB_0": {"annotations": [
        {"categories": [{"name": "OBJECT_A"}], "mid": "m1", "type": "rectangle"},
        {"categories": [{"name": "OBJECT_A"}], "mid": "m2", "type": "rectangle"},
        {"categories": [{"name": "OBJECT_B"}], "mid": "m3", "type": "rectangle"}
    ]}});
    let ids = kili
        .append_labels(
            &NewLabels::for_assets(&project, [&assets[0], &assets[1]], [boxes, response("A")])
                .label_type(LabelType::Default),
        )
        .unwrap();
    let m = mark(&server);
    let labels = kili
        .labels(&LabelQuery::new(&project).asset_ids([&assets[0]]).fields([
            "id",
            "jsonResponse",
            "search",
        ]))
        .unwrap()
        .collect_all()
        .unwrap();
    assert_eq!(labels.len(), 1);
    let label = &labels[0];
    assert_eq!(label.id(), ids[0]);
    let search = label.search().expect("search selected");
    assert_eq!(
        search["numberOfAnnotationsByObject"],
        json!({"JOB_0.OBJECT_A": 2, "JOB_0.OBJECT_B": 1})
    );
    assert_eq!(search["numberOfAnnotations"], 3);
    assert!(label.json_response().is_some());
    let sent = &requests_since(&server, &m)[0];
    assert!(
        sent.query.contains("id jsonResponse search"),
        "{}",
        sent.query
    );
    assert_eq!(sent.variables["where"]["asset"]["idIn"], json!([assets[0]]));
    let plain = kili
        .labels(&LabelQuery::new(&project).fields(["id"]))
        .unwrap()
        .collect_all()
        .unwrap();
    assert_eq!(plain[0].search(), None, "not selected");
}
