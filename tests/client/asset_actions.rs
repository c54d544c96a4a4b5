//! Asset statuses and actions over real sockets: `status` read through `Asset::status`, and
//! `send_back_to_queue` (batches of 100, declined assets left out of the ids returned).

use crate::support::*;
use kili::{AssetQuery, AssetStatus, Error, LabelType, NewLabels};
use serde_json::json;

fn statuses(kili: &kili::Kili, project: &str, assets: &[String]) -> Vec<Option<AssetStatus>> {
    let read = kili
        .assets(&AssetQuery::new(project).fields(["id", "status"]))
        .unwrap()
        .collect_all()
        .unwrap();
    assets
        .iter()
        .map(|id| read.iter().find(|a| a.id() == id).unwrap().status())
        .collect()
}

#[test]
fn labeled_assets_go_back_to_the_queue_and_assets_to_do_are_declined() {
    let server = server();
    let kili = client(&server);
    let (project, assets) = project_with_assets(&kili, 3);
    assert_eq!(
        statuses(&kili, &project, &assets),
        vec![Some(AssetStatus::Todo); 3]
    );
    kili.append_labels(
        &NewLabels::for_assets(&project, [&assets[0], &assets[1]], [response(), response()])
            .label_type(LabelType::Default),
    )
    .unwrap();
    assert_eq!(
        statuses(&kili, &project, &assets),
        [
            Some(AssetStatus::Labeled),
            Some(AssetStatus::Labeled),
            Some(AssetStatus::Todo)
        ]
    );

    let m = mark(&server);
    let sent_back = kili
        .send_back_to_queue([&assets[1], &assets[2], &assets[0]])
        .unwrap();
    assert_eq!(
        sent_back,
        [assets[1].clone(), assets[0].clone()],
        "input order, TODO declined"
    );
    let sent = requests_since(&server, &m);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].query.starts_with(
        "mutation($where: AssetWhere!) {\n  data: sendAssetsBackToQueue(where: $where) {"
    ));
    assert_eq!(
        sent[0].variables,
        json!({"where": {"idIn": [assets[1], assets[2], assets[0]]}})
    );
    assert_eq!(
        statuses(&kili, &project, &assets),
        [
            Some(AssetStatus::Ongoing),
            Some(AssetStatus::Ongoing),
            Some(AssetStatus::Todo)
        ]
    );
    assert_eq!(
        kili.send_back_to_queue([&assets[0]]).unwrap(),
        [assets[0].clone()],
        "sending back again is safe"
    );
}

#[test]
fn many_assets_go_by_hundreds_and_none_sends_nothing() {
    let server = server();
    let kili = client(&server);
    let (_, assets) = project_with_assets(&kili, 101);
    let m = mark(&server);
    assert!(
        kili.send_back_to_queue(Vec::<String>::new())
            .unwrap()
            .is_empty()
    );
    assert!(requests_since(&server, &m).is_empty());
    let invalid = kili.send_back_to_queue(["a", ""]).unwrap_err();
    assert!(matches!(invalid, Error::InvalidInput { .. }));
    assert!(requests_since(&server, &m).is_empty());

    let sent_back = kili.send_back_to_queue(&assets).unwrap();
    assert!(sent_back.is_empty(), "all still to do: declined");
    let sizes: Vec<usize> = requests_since(&server, &m)
        .iter()
        .map(|r| r.variables["where"]["idIn"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 1]);
}

#[test]
fn another_users_assets_are_declined() {
    let server = server();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    kili.append_labels(
        &NewLabels::for_assets(&project, [&asset], [response()]).label_type(LabelType::Default),
    )
    .unwrap();
    let other = client_as(&server, OTHER_KEY);
    assert!(other.send_back_to_queue([&asset]).unwrap().is_empty());
    assert_eq!(
        statuses(&kili, &project, std::slice::from_ref(&asset)),
        [Some(AssetStatus::Labeled)]
    );
}
