//! Issues over real sockets: created on labels (batches of 100, ids in input order), read and
//! counted with the SDK's filters, with the documents and variables the SDK sends.

use crate::support::*;
use kili::{Error, IssueQuery, IssueStatus, IssueType, LabelType, NewIssues, NewLabels};
use serde_json::json;

/// A project with `n` assets, each with one DEFAULT label; returns the project, the asset ids
/// and the label ids, in order.
fn labeled_project(kili: &kili::Kili, n: usize) -> (String, Vec<String>, Vec<String>) {
    let (project, assets) = project_with_assets(kili, n);
    let labels = kili
        .append_labels(
            &NewLabels::for_assets(&project, assets.clone(), vec![response(); n])
                .label_type(LabelType::Default),
        )
        .unwrap();
    (project, assets, labels)
}

#[test]
fn issues_are_created_listed_and_counted() {
    let server = server();
    let kili = client(&server);
    let (project, assets, labels) = labeled_project(&kili, 2);
    let m = mark(&server);
    let ids = kili
        .create_issues(
            &NewIssues::for_labels(
                &project,
                [&labels[0], &labels[0], &labels[1]],
                ["Too many boxes", "BBox too large", "Wrong class"],
            )
            .object_mids([None, Some("box-7"), None]),
        )
        .unwrap();
    assert_eq!(ids.len(), 3);
    let sent = requests_since(&server, &m);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].query.starts_with("mutation createIssues("));
    assert_eq!(
        sent[0].variables,
        json!({
            "issues": [
                {"labelID": labels[0], "objectMid": null, "type": "ISSUE", "assetId": null, "text": "Too many boxes"},
                {"labelID": labels[0], "objectMid": "box-7", "type": "ISSUE", "assetId": null, "text": "BBox too large"},
                {"labelID": labels[1], "objectMid": null, "type": "ISSUE", "assetId": null, "text": "Wrong class"}
            ],
            "where": {"project": {"id": project}}
        })
    );

    let all = kili
        .issues(&IssueQuery::new(&project))
        .unwrap()
        .collect_all()
        .unwrap();
    let listed: Vec<&str> = all.iter().map(|i| i.id()).collect();
    assert_eq!(listed, ids, "in creation order");
    let first = &all[0];
    assert_eq!(first.status(), Some(IssueStatus::Open));
    assert_eq!(first.issue_type(), Some(IssueType::Issue));
    assert_eq!(first.asset_id(), Some(assets[0].as_str()));
    assert!(first.created_at().is_some());

    let detailed = kili
        .issues(&IssueQuery::new(&project).asset_ids([&assets[0]]).fields([
            "labelId",
            "objectMid",
            "comments.text",
        ]))
        .unwrap()
        .collect_all()
        .unwrap();
    assert_eq!(detailed.len(), 2);
    assert_eq!(detailed[1].object_mid(), Some("box-7"));
    assert_eq!(detailed[1].label_id(), Some(labels[0].as_str()));
    assert_eq!(
        detailed[1].extra()["comments"],
        json!([{"text": "BBox too large"}])
    );

    let open = IssueQuery::new(&project)
        .status(IssueStatus::Open)
        .issue_type(IssueType::Issue);
    assert_eq!(kili.count_issues(&open).unwrap(), 3);
    let by_asset = open.clone().asset_ids([&assets[1]]);
    assert_eq!(kili.count_issues(&by_asset).unwrap(), 1);
    let count = requests_to(&server, "countIssues").pop().unwrap();
    assert_eq!(
        count.variables,
        json!({"where": {
            "project": {"id": project}, "asset": {}, "assetIn": [assets[1]],
            "status": "OPEN", "type": "ISSUE"
        }})
    );
    let questions = IssueQuery::new(&project).issue_type(IssueType::Question);
    assert_eq!(kili.count_issues(&questions).unwrap(), 0);
    assert_eq!(kili.issues(&questions).unwrap().count(), 0);
    let solved = IssueQuery::new(&project).status(IssueStatus::Solved);
    assert_eq!(kili.count_issues(&solved).unwrap(), 0);
    assert_eq!(
        kili.issues(&IssueQuery::new(&project).skip(1).first(1))
            .unwrap()
            .collect_all()
            .unwrap()[0]
            .id(),
        ids[1]
    );
}

#[test]
fn many_issues_go_by_hundreds_in_input_order() {
    let server = server();
    let kili = client(&server);
    let (project, _, labels) = labeled_project(&kili, 1);
    let texts: Vec<String> = (0..150).map(|i| format!("issue {i}")).collect();
    let progress = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = progress.clone();
    let m = mark(&server);
    let ids = kili
        .create_issues(
            &NewIssues::for_labels(&project, vec![&labels[0]; 150], texts.clone())
                .progress(move |done, total| seen.lock().unwrap().push((done, total))),
        )
        .unwrap();
    let sizes: Vec<usize> = requests_since(&server, &m)
        .iter()
        .map(|r| r.variables["issues"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 50]);
    assert_eq!(
        *progress.lock().unwrap(),
        [(0, 150), (100, 150), (150, 150)]
    );
    let read = kili
        .issues(&IssueQuery::new(&project).fields(["id", "comments.text"]))
        .unwrap()
        .collect_all()
        .unwrap();
    for (id, text) in ids.iter().zip(&texts) {
        let issue = read.iter().find(|i| i.id() == id).unwrap();
        assert_eq!(issue.extra()["comments"][0]["text"], json!(text));
    }
}

#[test]
fn bad_input_is_refused_before_any_request_and_unknown_labels_by_the_server() {
    let server = server();
    let kili = client(&server);
    let (project, _, labels) = labeled_project(&kili, 1);
    let m = mark(&server);
    let invalid = |e: Error| matches!(e, Error::InvalidInput { .. });
    let uneven = NewIssues::for_labels(&project, [&labels[0]], ["a", "b"]);
    assert!(invalid(kili.create_issues(&uneven).unwrap_err()));
    let mids =
        NewIssues::for_labels(&project, [&labels[0]], ["a"]).object_mids([None::<&str>, None]);
    assert!(invalid(kili.create_issues(&mids).unwrap_err()));
    assert!(invalid(kili.issues(&IssueQuery::new("")).unwrap_err()));
    assert!(invalid(
        kili.count_issues(&IssueQuery::new(" ")).unwrap_err()
    ));
    assert!(requests_since(&server, &m).is_empty());
    assert!(
        kili.create_issues(&NewIssues::for_labels(
            &project,
            Vec::<String>::new(),
            Vec::<String>::new()
        ))
        .unwrap()
        .is_empty()
    );
    assert!(requests_since(&server, &m).is_empty(), "nothing to send");

    let e = kili
        .create_issues(&NewIssues::for_labels(&project, ["no-such-label"], ["x"]))
        .unwrap_err();
    assert!(e.graphql_errors().is_some(), "{e}");
    assert_eq!(
        kili.count_issues(&IssueQuery::new(&project)).unwrap(),
        0,
        "all or nothing"
    );
}
