//! What goes on the wire: the SDK's headers, documents with operation names and `data:`
//! aliases, and variables without nulls (except inside `labelsData`, as the SDK sends them).

use crate::support::*;
use kili::{AssetQuery, LabelQuery, LabelType, NewAssets, NewLabels, ProjectQuery};
use serde_json::{Value, json};

#[test]
fn headers_are_the_sdks() {
    let server = server();
    let kili = client(&server);
    kili.count_projects(&ProjectQuery::new()).unwrap();
    let r = &server.recorded_requests()[0];
    assert_eq!(
        r.header("authorization"),
        Some(format!("X-API-Key: {KEY}").as_str())
    );
    assert_eq!(r.header("accept"), Some("application/json"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("apollographql-client-name"), Some("kili-rs"));
    assert_eq!(
        r.header("apollographql-client-version"),
        Some(env!("CARGO_PKG_VERSION"))
    );
}

fn has_null_outside_labels_data(v: &Value, key: &str) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| k != "labelsData" && has_null_outside_labels_data(v, k)),
        Value::Array(a) => {
            key != "labelsData" && a.iter().any(|v| has_null_outside_labels_data(v, key))
        }
        _ => false,
    }
}

#[test]
fn every_operation_is_named_aliased_and_null_free() {
    let server = server();
    let kili = client(&server);
    let (project, assets) = project_with_assets(&kili, 2);
    kili.append_labels(
        &NewLabels::for_assets(&project, [&assets[0]], [json!({})]).label_type(LabelType::Default),
    )
    .unwrap();
    kili.projects(&ProjectQuery::new())
        .unwrap()
        .collect_all()
        .unwrap();
    kili.count_projects(&ProjectQuery::new()).unwrap();
    kili.assets(&AssetQuery::new(&project))
        .unwrap()
        .collect_all()
        .unwrap();
    kili.count_assets(&AssetQuery::new(&project)).unwrap();
    kili.labels(&LabelQuery::new(&project))
        .unwrap()
        .collect_all()
        .unwrap();
    kili.count_labels(&LabelQuery::new(&project)).unwrap();
    kili.append_many_to_dataset(&NewAssets::new(&project, ["https://x"]).external_ids(["z"]))
        .unwrap();
    kili.delete_many_from_dataset([&assets[1]]).unwrap();
    kili.delete_project(&project).unwrap();

    let expected = [
        (
            "createProject",
            "mutation($data: CreateProjectData!)",
            "data: createProject(",
        ),
        (
            "projects",
            "query projects($where: ProjectWhere!, $first: PageSize!, $skip: Int!)",
            "data: projects(",
        ),
        (
            "countProjects",
            "query countProjects($where: ProjectWhere!)",
            "data: countProjects(",
        ),
        (
            "assets",
            "query assets($where: AssetWhere!, $first: PageSize!, $skip: Int!)",
            "data: assets(",
        ),
        (
            "countAssets",
            "query countAssets($where: AssetWhere!)",
            "data: countAssets(",
        ),
        (
            "labels",
            "query labels($where: LabelWhere!, $first: PageSize!, $skip: Int!)",
            "data: labels(",
        ),
        (
            "countLabels",
            "query countLabels($where: LabelWhere!)",
            "data: countLabels(",
        ),
        (
            "appendManyAssets",
            "mutation appendManyAssets(",
            "data: appendManyAssets(",
        ),
        (
            "appendManyLabels",
            "mutation appendManyLabels($data: AppendManyLabelsData!, $where: AssetWhere!)",
            "data: appendManyLabels(",
        ),
        (
            "filterExistingAssets",
            "query FilterExistingAssets($projectID: ID!, $externalIDs: [String!]!)",
            "external_ids: filterExistingAssets(",
        ),
        (
            "deleteManyFromDataset",
            "mutation($where: AssetWhere!)",
            "data: deleteManyFromDataset(",
        ),
        (
            "deleteProjectAsynchronously",
            "mutation($where: ProjectWhere!)",
            "data: deleteProjectAsynchronously(",
        ),
    ];
    let recorded = server.recorded_requests();
    for (field, head, alias) in expected {
        let r = recorded
            .iter()
            .find(|r| root_field(r) == field)
            .unwrap_or_else(|| panic!("no {field}"));
        assert!(r.query.starts_with(head), "{field}: {}", r.query);
        assert!(r.query.contains(alias), "{field}: {}", r.query);
    }
    for r in &recorded {
        assert!(
            !has_null_outside_labels_data(&r.variables, ""),
            "{}: {}",
            root_field(r),
            r.variables
        );
    }
}
