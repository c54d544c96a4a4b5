//! Retries: transient statuses then success, Retry-After honoured, what is never retried,
//! and mutations whose first attempt was lost never duplicating anything.

use std::time::{Duration, Instant};

use crate::support::*;
use kili::{
    AssetQuery, Error, InputType, Kili, LabelQuery, LabelType, NewAssets, NewLabels, NewProject,
    ProjectQuery,
};
use serde_json::json;

#[test]
fn a_503_then_success() {
    let server = server();
    let kili = client(&server);
    server.fail_next_requests(1, 503, None);
    assert_eq!(kili.count_projects(&ProjectQuery::new()).unwrap(), 0);
    assert_eq!(calls(&server), ["countProjects", "countProjects"]);
}

#[test]
fn a_429_waits_for_retry_after() {
    let server = server();
    let kili = client(&server); // backoff is 1-5 ms, so any longer wait is the server's
    server.fail_next_requests(1, 429, Some(Duration::from_secs(1)));
    let start = Instant::now();
    kili.count_projects(&ProjectQuery::new()).unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.recorded_requests().len(), 2);
}

#[test]
fn a_retry_after_beyond_the_budget_gives_up_at_once() {
    let server = server();
    let kili = builder(KEY, server.endpoint())
        .retry_budget(Duration::from_millis(500))
        .build()
        .unwrap();
    server.fail_next_requests(1, 429, Some(Duration::from_secs(30)));
    let e = kili.count_projects(&ProjectQuery::new()).unwrap_err();
    assert!(matches!(e, Error::Http { status: 429, .. }), "{e:?}");
    assert_eq!(server.recorded_requests().len(), 1);
}

#[test]
fn graphql_validation_errors_are_sent_once() {
    let server = server();
    let kili = client(&server);
    let e = kili
        .graphql(
            "query projects($where: ProjectWhere!) { data: projects(where: $where) { nope } }",
            json!({"where": {}}),
        )
        .unwrap_err();
    assert!(e.graphql_errors().is_some(), "{e:?}");
    assert_eq!(server.recorded_requests().len(), 1);
}

#[test]
fn retries_can_be_turned_off() {
    let server = server();
    let kili = builder(KEY, server.endpoint())
        .max_retries(0)
        .build()
        .unwrap();
    server.fail_next_requests(1, 503, None);
    assert!(kili.count_projects(&ProjectQuery::new()).is_err());
    assert_eq!(server.recorded_requests().len(), 1);
}

#[test]
fn plain_mutations_retry_only_when_the_request_certainly_did_not_run() {
    let server = server();
    let kili = client(&server);
    // 429: rejected before processing, so resent.
    server.fail_next_requests(1, 429, None);
    kili.create_project(&NewProject::new("a", InputType::Image))
        .unwrap();
    assert_eq!(
        calls(&server),
        ["createProject", "createProject", "projects"]
    );
    // 503: a proxy may have sent it after the backend ran, so not resent.
    let m = mark(&server);
    server.fail_next_requests(1, 503, None);
    let e = kili
        .create_project(&NewProject::new("b", InputType::Image))
        .unwrap_err();
    assert!(matches!(e, Error::Http { status: 503, .. }), "{e:?}");
    assert_eq!(calls_since(&server, &m), ["createProject"]);
    // The same for a mutation sent through the escape hatch.
    let m = mark(&server);
    server.fail_next_requests(1, 504, None);
    let e = kili
        .graphql(
            "mutation($where: ProjectWhere!) { data: deleteProjectAsynchronously(where: $where) }",
            json!({"where": {"id": "x"}}),
        )
        .unwrap_err();
    assert!(matches!(e, Error::Http { status: 504, .. }), "{e:?}");
    assert_eq!(calls_since(&server, &m).len(), 1);
}

#[test]
fn a_lost_create_project_is_not_resent() {
    let server = server();
    let proxy = FaultProxy::start(server.addr());
    let kili = client_for(&proxy.endpoint());
    proxy.lose_next(1);
    let e = kili
        .create_project(&NewProject::new("once", InputType::Image))
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert_eq!(calls(&server), ["createProject"]);
    assert_eq!(
        client(&server)
            .count_projects(&ProjectQuery::new())
            .unwrap(),
        1,
        "created once, not twice"
    );
}

#[test]
fn a_lost_asset_batch_is_reconciled_not_duplicated() {
    let server = server();
    let proxy = FaultProxy::start(server.addr());
    let kili = client_for(&proxy.endpoint());
    let (project, _) = project_with_assets(&kili, 0);
    let m = mark(&server);
    // The server stores the batch, but the client never hears back.
    proxy.lose_next(1);
    let contents: Vec<String> = (0..3).map(|i| format!("https://x/{i}")).collect();
    let ids = kili
        .append_many_to_dataset(&NewAssets::new(&project, contents))
        .unwrap();
    assert_eq!(ids.len(), 3);
    assert_eq!(
        calls_since(&server, &m),
        ["appendManyAssets", "assets"],
        "reconciled, nothing resent"
    );
    assert_eq!(kili.count_assets(&AssetQuery::new(&project)).unwrap(), 3);
    let reconcile = &requests_since(&server, &m)[1].variables;
    assert_eq!(reconcile["where"]["idIn"], json!(ids));
}

#[test]
fn an_asset_batch_refused_with_503_is_reconciled_then_resent() {
    let server = server();
    let kili = client(&server);
    let (project, _) = project_with_assets(&kili, 0);
    let m = mark(&server);
    server.fail_next_requests(1, 503, None);
    let ids = kili
        .append_many_to_dataset(&NewAssets::new(&project, ["https://x/1"]).external_ids(["one"]))
        .unwrap();
    assert_eq!(
        calls_since(&server, &m),
        [
            "filterExistingAssets",
            "filterExistingAssets",
            "appendManyAssets"
        ]
    );
    // (the 503 hit the duplicate check, a query, which is simply resent)
    let m = mark(&server);
    server.fail_next_requests(1, 503, None);
    let more = kili
        .append_many_to_dataset(&NewAssets::new(&project, ["https://x/2"]))
        .unwrap();
    assert_eq!(
        calls_since(&server, &m),
        ["appendManyAssets", "assets", "appendManyAssets"]
    );
    let reqs = requests_since(&server, &m);
    assert_eq!(
        reqs[0].variables["data"]["idArray"], reqs[2].variables["data"]["idArray"],
        "same ids resent"
    );
    assert_eq!(kili.count_assets(&AssetQuery::new(&project)).unwrap(), 2);
    assert_ne!(ids, more);
}

#[test]
fn a_lost_label_batch_is_reconciled_not_duplicated() {
    let server = server();
    let proxy = FaultProxy::start(server.addr());
    let kili = client_for(&proxy.endpoint());
    let (project, assets) = project_with_assets(&kili, 2);
    let response = json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}});
    // A label with the same response but another type is not mistaken for one of ours.
    kili.append_labels(
        &NewLabels::for_assets(&project, [&assets[0]], [response.clone()])
            .label_type(LabelType::Review),
    )
    .unwrap();
    let m = mark(&server);
    proxy.lose_next(1);
    let ids = kili
        .append_labels(
            &NewLabels::for_assets(
                &project,
                [&assets[0], &assets[1]],
                [response.clone(), response.clone()],
            )
            .label_type(LabelType::Inference),
        )
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(
        calls_since(&server, &m),
        ["appendManyLabels", "labels"],
        "reconciled, nothing resent"
    );
    let q = LabelQuery::new(&project).label_types([LabelType::Inference]);
    let labels = kili.labels(&q).unwrap().collect_all().unwrap();
    assert_eq!(labels.len(), 2, "no duplicate");
    let mut got: Vec<String> = labels.into_iter().map(|l| l.id().to_owned()).collect();
    got.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(
        got, want,
        "the ids returned are the labels the lost attempt created"
    );
}

#[test]
fn a_label_batch_refused_with_503_is_reconciled_then_resent() {
    let server = server();
    let kili = client(&server);
    let (project, assets) = project_with_assets(&kili, 1);
    let m = mark(&server);
    server.fail_next_requests(1, 503, None);
    let ids = kili
        .append_labels(
            &NewLabels::for_assets(&project, [&assets[0]], [json!({"a": 1})])
                .label_type(LabelType::Inference),
        )
        .unwrap();
    assert_eq!(ids.len(), 1);
    assert_eq!(
        calls_since(&server, &m),
        ["appendManyLabels", "labels", "appendManyLabels"]
    );
    let reconcile = &requests_since(&server, &m)[1].variables["where"];
    assert_eq!(reconcile["asset"]["idIn"], json!([assets[0]]));
    assert_eq!(reconcile["typeIn"], json!(["INFERENCE"]));
    assert!(reconcile["createdAtGte"].is_string());
    assert_eq!(kili.count_labels(&LabelQuery::new(&project)).unwrap(), 1);

    // 429 proves nothing ran: resent without a reconciliation query.
    let m = mark(&server);
    server.fail_next_requests(1, 429, None);
    kili.append_labels(&NewLabels::for_assets(
        &project,
        [&assets[0]],
        [json!({"a": 2})],
    ))
    .unwrap();
    assert_eq!(
        calls_since(&server, &m),
        ["appendManyLabels", "appendManyLabels"]
    );
    assert_eq!(kili.count_labels(&LabelQuery::new(&project)).unwrap(), 2);
}

#[test]
fn a_lost_delete_batch_is_reconciled() {
    let server = server();
    let proxy = FaultProxy::start(server.addr());
    let kili = client_for(&proxy.endpoint());
    let (project, ids) = project_with_assets(&kili, 3);
    let m = mark(&server);
    proxy.lose_next(1);
    let deleted = kili.delete_many_from_dataset(ids.iter().cloned()).unwrap();
    assert_eq!(deleted, ids, "the lost attempt's deletions count");
    assert_eq!(
        calls_since(&server, &m),
        ["deleteManyFromDataset", "assets"]
    );
    assert_eq!(kili.count_assets(&AssetQuery::new(&project)).unwrap(), 0);
}

#[test]
fn a_lost_query_is_simply_resent() {
    let server = server();
    let proxy = FaultProxy::start(server.addr());
    let kili: Kili = client_for(&proxy.endpoint());
    proxy.lose_next(1);
    assert_eq!(kili.count_projects(&ProjectQuery::new()).unwrap(), 0);
    assert_eq!(calls(&server), ["countProjects", "countProjects"]);
}
