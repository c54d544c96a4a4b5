//! Predictions and asset properties over real sockets: `create_predictions` (with and without
//! `overwrite`), `update_properties_in_assets`, and the label writes, read back from the local
//! server.

use crate::support::*;
use kili::{AssetQuery, AssetUpdate, Error, LabelQuery, LabelType, LabelUpdate, NewPredictions};
use serde_json::json;

#[test]
fn predictions_carry_their_model_and_overwrite_replaces_them() {
    let server = server();
    let kili = client(&server);
    let (project, assets) = project_with_assets(&kili, 2);
    let m = mark(&server);
    let first = kili
        .create_predictions(
            &NewPredictions::for_assets(&project, assets.clone(), [response(), response()])
                .model_name("model-v1"),
        )
        .unwrap();
    assert_eq!(first.len(), 2);
    let sent = requests_since(&server, &m);
    let append = sent
        .iter()
        .find(|r| root_field(r) == "appendManyLabels")
        .unwrap();
    assert_eq!(append.variables["data"]["labelType"], "PREDICTION");
    assert_eq!(append.variables["data"]["overwrite"], false);
    assert_eq!(append.variables["where"]["project"], json!({"id": project}));
    assert_eq!(
        append.variables["data"]["labelsData"][0]["modelName"],
        "model-v1"
    );

    let by_external = kili
        .create_predictions(
            &NewPredictions::for_external_ids(&project, ["asset-0"], [response()])
                .model_name("model-v1")
                .overwrite(true),
        )
        .unwrap();
    let listed = kili
        .labels(
            &LabelQuery::new(&project)
                .label_types([LabelType::Prediction])
                .fields(["id", "modelName", "assetId"]),
        )
        .unwrap()
        .collect_all()
        .unwrap();
    let ids: Vec<&str> = listed.iter().map(|l| l.id()).collect();
    assert_eq!(
        ids,
        [first[1].as_str(), by_external[0].as_str()],
        "asset-0's first was replaced"
    );
    assert!(listed.iter().all(|l| l.model_name() == Some("model-v1")));
    assert_eq!(
        kili.count_labels(&LabelQuery::new(&project).label_types([LabelType::Prediction]))
            .unwrap(),
        2
    );

    let e = kili
        .create_predictions(&NewPredictions::for_assets(
            &project,
            assets,
            [response(), response()],
        ))
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { .. }),
        "no model name: {e}"
    );
}

#[test]
fn asset_properties_are_updated_and_read_back() {
    let server = server();
    let kili = client(&server);
    let (project, assets) = project_with_assets(&kili, 2);
    let m = mark(&server);
    let done = kili
        .update_properties_in_assets([
            (
                assets[0].as_str(),
                AssetUpdate::new()
                    .priority(4)
                    .json_metadata(json!({"reviewed": true}))
                    .consensus_mark(0.5)
                    .to_be_labeled_by([kili_local_server::DEFAULT_EMAIL]),
            ),
            (
                assets[1].as_str(),
                AssetUpdate::new().is_honeypot(true).resolution(640, 480),
            ),
        ])
        .unwrap();
    assert_eq!(done, assets);
    let sent = requests_since(&server, &m);
    assert_eq!(
        sent[0].variables["whereArray"],
        json!([{"id": assets[0]}, {"id": assets[1]}])
    );
    assert_eq!(
        sent[0].variables["dataArray"][0]["jsonMetadata"],
        "{\"reviewed\":true}"
    );

    let read = kili
        .assets(&AssetQuery::new(&project).fields([
            "id",
            "priority",
            "jsonMetadata",
            "consensusMark",
            "isHoneypot",
            "resolution.width",
            "toBeLabeledBy.user.email",
        ]))
        .unwrap()
        .collect_all()
        .unwrap();
    assert_eq!(read[0].extra()["priority"], 4);
    assert_eq!(read[0].json_metadata(), &json!({"reviewed": true}));
    assert_eq!(read[0].extra()["consensusMark"], 0.5);
    assert_eq!(
        read[0].extra()["toBeLabeledBy"][0]["user"]["email"],
        kili_local_server::DEFAULT_EMAIL
    );
    assert_eq!(read[1].extra()["isHoneypot"], true);
    assert_eq!(read[1].extra()["resolution"]["width"], 640);
    assert_eq!(read[1].extra()["priority"], 0, "not sent, not changed");

    let e = kili
        .update_properties_in_assets([("nope", AssetUpdate::new().priority(1))])
        .unwrap_err();
    assert!(e.graphql_errors().is_some(), "{e}");
    let e = kili
        .update_properties_in_assets([(assets[0].as_str(), AssetUpdate::new())])
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
}

#[test]
fn label_writes_return_the_ids_they_changed() {
    let server = server();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let id = append_label(&kili, &project, &asset);
    let changed = kili
        .update_properties_in_label(&id, &LabelUpdate::new().model_name("model-v2"))
        .unwrap();
    assert_eq!(changed, id);
    let read = kili
        .labels(&LabelQuery::new(&project).fields(["id", "modelName"]))
        .unwrap()
        .collect_all()
        .unwrap();
    assert_eq!(read[0].model_name(), Some("model-v2"));
    assert_eq!(kili.delete_labels([id.as_str()]).unwrap(), [id]);
}
