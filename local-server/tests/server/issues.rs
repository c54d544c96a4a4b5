//! Issues, asset statuses and label `search`, as the webhooks recipe uses them: a handler
//! creates issues on a label (`create_issues`), lists and counts them with the SDK's filters,
//! and sends the asset back to the queue; statuses follow (TODO, ONGOING, LABELED, TO_REVIEW,
//! REVIEWED); a label's `search` counts its objects.

use serde_json::{Value, json};

use crate::support::{gql, gql_failure};
use crate::webhooks::{fast, label, project_with_assets, three_boxes};

// The documents of the official SDK (kili 26.2.4): adapters/kili_api_gateway/issue/operations.py
// and entrypoints/mutations/asset/queries.py.
const CREATE_ISSUES: &str = "
mutation createIssues(
    $issues: [IssueToCreate!]!
    $where: AssetWhere!
) {
  data: createIssues(
    issues: $issues
    where: $where
  ) {
    id
  }
}
";
const COUNT_ISSUES: &str = "
query countIssues($where: IssueWhere!) {
    data: countIssues(where: $where)
}
";
const UPDATE_ISSUE: &str = "
mutation UpdatePropertiesInIssue($data: IssueData!, $where: IssueWhere!) {
  updatePropertiesInIssue(data: $data, where: $where) {
    id
  }
}
";
/// `get_issues_query` with the recipe's fields (`comments.text`, `objectMid`) and the defaults.
const ISSUES: &str = "
    query issues($where: IssueWhere!, $first: PageSize!, $skip: Int!) {
        data: issues(where: $where, first: $first, skip: $skip) {
             comments{ text} objectMid id createdAt status type assetId
        }
    }
    ";
const SEND_BACK: &str = "
mutation($where: AssetWhere!) {
  data: sendAssetsBackToQueue(where: $where) {
    succeeded {
      assetId
      externalId
    }
    declined {
      assetId
      externalId
    }
    failed {
      assetId
      externalId
      details
    }
  }
}
";
const ADD_TO_REVIEW: &str = "
mutation($where: AssetWhere!) {
  data: addAssetsToReview(where: $where) {
    succeeded {
      assetId
      externalId
    }
    declined {
      assetId
      externalId
    }
    failed {
      assetId
      externalId
      details
    }
  }
}
";
const STATUS: &str =
    "query($where: AssetWhere!) { data: assets(where: $where, first: 10, skip: 0) { id status } }";
const COUNT_ASSETS: &str =
    "query countAssets($where: AssetWhere!) { data: countAssets(where: $where) }";

/// Returns the status of an asset.
fn status(s: &kili_local_server::LocalServer, asset: &str) -> Value {
    gql(s, STATUS, json!({"where": {"id": asset}}))["data"][0]["status"].clone()
}

#[test]
fn issues_are_created_listed_and_counted_with_the_sdk_filters() {
    let s = fast().start().unwrap();
    let (p, a) = project_with_assets(&s, 2);
    let labels = label(&s, &[&a[0], &a[1]], "DEFAULT", &three_boxes());
    // As `create_issues` sends them: assetId and objectMid null, the project in `where`.
    let issues = json!([
        {"labelID": labels[0], "objectMid": null, "type": "ISSUE", "assetId": null,
         "text": "There are too many BBox (3) - Only 1 BBox of Object A accepted"},
        {"labelID": labels[0], "objectMid": "20221124161451411-13314", "type": "ISSUE",
         "assetId": null, "text": "BBox too large"},
        {"labelID": labels[1], "objectMid": null, "type": "QUESTION", "assetId": null, "text": null},
    ]);
    let made = gql(
        &s,
        CREATE_ISSUES,
        json!({"issues": issues, "where": {"project": {"id": p}}}),
    );
    let ids: Vec<String> = made["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 3);

    let listed = gql(
        &s,
        ISSUES,
        json!({"where": {"project": {"id": p}, "asset": {}}, "first": 100, "skip": 0}),
    )["data"]
        .clone();
    assert_eq!(
        listed[0]["comments"],
        json!([{"text": "There are too many BBox (3) - Only 1 BBox of Object A accepted"}])
    );
    assert_eq!(listed[1]["objectMid"], "20221124161451411-13314");
    assert_eq!(
        (listed[1]["status"].as_str(), listed[1]["type"].as_str()),
        (Some("OPEN"), Some("ISSUE"))
    );
    assert_eq!(listed[2]["comments"], json!([]));
    assert_eq!(listed[2]["assetId"], a[1].as_str(), "the label's asset");

    let count = |w: Value| gql(&s, COUNT_ISSUES, json!({"where": w}))["data"].clone();
    assert_eq!(count(json!({"project": {"id": p}, "asset": {}})), 3);
    assert_eq!(
        count(json!({"project": {"id": p}, "asset": {"id": a[0]}})),
        2
    );
    assert_eq!(
        count(json!({"project": {"id": p}, "asset": {}, "assetIn": [a[1]]})),
        1
    );
    assert_eq!(
        count(json!({"project": {"id": p}, "asset": {}, "type": "QUESTION"})),
        1
    );
    let solved = gql(
        &s,
        UPDATE_ISSUE,
        json!({"data": {"status": "SOLVED"}, "where": {"id": ids[0]}}),
    );
    assert_eq!(solved["updatePropertiesInIssue"]["id"], ids[0].as_str());
    assert_eq!(
        count(json!({"project": {"id": p}, "asset": {}, "status": "OPEN"})),
        2
    );
    // The assets' issue filter (count_assets(issue_type=..., issue_status=...)).
    let assets = |w: Value| gql(&s, COUNT_ASSETS, json!({"where": w}))["data"].clone();
    assert_eq!(
        assets(json!({"project": {"id": p}, "issue": {"type": "QUESTION"}})),
        1
    );
    assert_eq!(
        assets(json!({"project": {"id": p}, "issue": {"status": "SOLVED"}})),
        1
    );
    assert_eq!(assets(json!({"project": {"id": p}, "issue": {}})), 2);

    // All or nothing: an unknown label refuses the batch.
    let bad =
        json!([{"labelID": labels[0], "type": "ISSUE"}, {"labelID": "nope", "type": "ISSUE"}]);
    let (_, _, code) = gql_failure(
        &s,
        s.api_key(),
        CREATE_ISSUES,
        json!({"issues": bad, "where": {"project": {"id": p}}}),
    );
    assert_eq!(code, "NO_ACCESS_RIGHTS");
    assert_eq!(count(json!({"project": {"id": p}})), 3);
}

#[test]
fn statuses_follow_labels_and_the_asset_actions() {
    let s = fast().start().unwrap();
    let (p, a) = project_with_assets(&s, 3);
    assert_eq!(status(&s, &a[0]), "TODO");
    label(&s, &[&a[0]], "AUTOSAVE", &json!({}));
    assert_eq!(status(&s, &a[0]), "ONGOING", "a label in progress");
    label(&s, &[&a[0], &a[1]], "DEFAULT", &json!({}));
    assert_eq!(status(&s, &a[0]), "LABELED");

    let sent = gql(&s, SEND_BACK, json!({"where": {"idIn": [a[0], a[2]]}}))["data"].clone();
    assert_eq!(
        sent["succeeded"],
        json!([{"assetId": a[0], "externalId": "a0"}])
    );
    assert_eq!(
        sent["declined"],
        json!([{"assetId": a[2], "externalId": "a2"}]),
        "TODO: nothing to send back"
    );
    assert_eq!(sent["failed"], json!([]));
    assert_eq!(status(&s, &a[0]), "ONGOING");
    let count = |st: &str| {
        gql(
            &s,
            COUNT_ASSETS,
            json!({"where": {"project": {"id": p}, "statusIn": [st]}}),
        )["data"]
            .clone()
    };
    assert_eq!(
        (count("ONGOING"), count("LABELED"), count("TODO")),
        (json!(1), json!(1), json!(1))
    );
    label(&s, &[&a[0]], "DEFAULT", &json!({}));
    assert_eq!(status(&s, &a[0]), "LABELED", "submitted again");

    let review = gql(
        &s,
        ADD_TO_REVIEW,
        json!({"where": {"idIn": [a[1], a[2], "nope"]}}),
    )["data"]
        .clone();
    assert_eq!(
        review["succeeded"],
        json!([{"assetId": a[1], "externalId": "a1"}])
    );
    assert_eq!(review["declined"].as_array().unwrap().len(), 2);
    assert_eq!(status(&s, &a[1]), "TO_REVIEW");
    label(&s, &[&a[1]], "REVIEW", &json!({}));
    assert_eq!(status(&s, &a[1]), "REVIEWED");
}

#[test]
fn labels_carry_their_search_counts_and_are_read_by_asset() {
    let s = fast().start().unwrap();
    let (p, a) = project_with_assets(&s, 2);
    let id = label(&s, &[&a[0]], "DEFAULT", &three_boxes())[0].clone();
    label(
        &s,
        &[&a[1]],
        "DEFAULT",
        &json!({"JOB_0": {"categories": [{"name": "OBJECT_B"}]}}),
    );
    // The recipe's handler: kili.labels(asset_id=..., project_id=..., fields=["jsonResponse"]).
    let q = "query labels($where: LabelWhere!, $first: PageSize!, $skip: Int!) { data: labels(where: $where, first: $first, skip: $skip) { id jsonResponse search } }";
    let w = json!({"project": {"id": p}, "asset": {"id": a[0], "project": {"id": p}, "label": {}, "issue": {}}});
    let found = gql(&s, q, json!({"where": w, "first": 100, "skip": 0}))["data"].clone();
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["id"], id.as_str());
    assert_eq!(
        found[0]["search"]["numberOfAnnotationsByObject"],
        json!({"JOB_0.OBJECT_A": 3})
    );
    assert_eq!(found[0]["search"]["numberOfAnnotations"], 3);
    let w = json!({"project": {"id": p}, "asset": {"id": a[1]}});
    let other =
        gql(&s, q, json!({"where": w, "first": 100, "skip": 0}))["data"][0]["search"].clone();
    assert_eq!(
        other["numberOfAnnotationsByObject"],
        json!({"JOB_0.OBJECT_B": 1})
    );
}
