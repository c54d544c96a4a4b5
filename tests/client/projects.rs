//! Projects over real sockets: create, read, filter, count, delete.

use crate::support::*;
use kili::{Error, InputType, NewProject, ProjectQuery};
use serde_json::json;

#[test]
fn create_read_count_delete() {
    let server = server();
    let kili = client(&server);
    let interface = json!({"jobs": {"JOB_0": {"mlTask": "CLASSIFICATION", "required": 1,
        "content": {"categories": {"OBJECT_A": {"name": "Object A", "children": []}}, "input": "radio"}}}});
    let id = kili
        .create_project(
            &NewProject::new("Webhook project", InputType::Image)
                .json_interface(interface.clone())
                .description("cars"),
        )
        .unwrap();
    assert!(!id.is_empty());
    // The mutation, then the SDK's visibility check.
    assert_eq!(calls(&server), ["createProject", "projects"]);

    let projects = kili
        .projects(&ProjectQuery::new().id(&id))
        .unwrap()
        .collect_all()
        .unwrap();
    assert_eq!(projects.len(), 1);
    let p = &projects[0];
    assert_eq!(p.id(), id);
    assert_eq!(p.title(), Some("Webhook project"));
    assert_eq!(p.description(), Some("cars"));
    assert_eq!(p.input_type(), Some(&InputType::Image));
    assert_eq!(p.json_interface(), &interface);
    assert!(p.created_at().is_some());

    let other = kili
        .create_project(&NewProject::new("Text things", InputType::Text))
        .unwrap();
    assert_eq!(kili.count_projects(&ProjectQuery::new()).unwrap(), 2);
    assert_eq!(
        kili.count_projects(&ProjectQuery::new().id(&other))
            .unwrap(),
        1
    );
    let found = kili
        .projects(
            &ProjectQuery::new()
                .search_query("%webhook%")
                .fields(["title"]),
        )
        .unwrap()
        .collect_all()
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id(), id, "id is read even when not asked for");
    assert_eq!(
        found[0].description(),
        None,
        "fields not asked for are not read"
    );

    kili.delete_project(&id).unwrap();
    assert_eq!(
        kili.count_projects(&ProjectQuery::new().id(&id)).unwrap(),
        0
    );
    assert_eq!(kili.count_projects(&ProjectQuery::new()).unwrap(), 1);
}

#[test]
fn project_wire_matches_the_sdk() {
    let server = server();
    let kili = client(&server);
    let id = kili
        .create_project(&NewProject::new("t", InputType::Image).json_interface(json!({})))
        .unwrap();
    let _ = kili
        .projects(&ProjectQuery::new().first(1))
        .unwrap()
        .collect_all()
        .unwrap();
    kili.count_projects(&ProjectQuery::new()).unwrap();
    kili.delete_project(&id).unwrap();
    let r = server.recorded_requests();
    assert_eq!(
        r[0].variables,
        json!({"data": {"description": "", "inputType": "IMAGE", "jsonInterface": "{}", "title": "t"}})
    );
    assert!(r[0].query.contains("data: createProject(data: $data)"));
    assert_eq!(
        r[1].variables,
        json!({"where": {"id": id}, "first": 1, "skip": 0})
    );
    assert!(
        r[2].query
            .starts_with("query projects($where: ProjectWhere!, $first: PageSize!, $skip: Int!)")
    );
    assert_eq!(r[2].variables, json!({"where": {}, "first": 1, "skip": 0}));
    assert!(
        r[3].query
            .starts_with("query countProjects($where: ProjectWhere!)")
    );
    assert_eq!(r[3].variables, json!({"where": {}}));
    assert!(
        r[4].query
            .contains("data: deleteProjectAsynchronously(where: $where)")
    );
    assert_eq!(r[4].variables, json!({"where": {"id": id}}));
}

#[test]
fn invalid_project_input_sends_nothing() {
    let server = server();
    let kili = client(&server);
    let e = kili
        .create_project(&NewProject::new("  ", InputType::Image))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    let e = kili.delete_project("").unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    let e = kili
        .projects(&ProjectQuery::new().fields(["title", "roles..user"]))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    assert!(server.recorded_requests().is_empty());
}

#[test]
fn deleting_an_unknown_project_is_a_graphql_error() {
    let server = server();
    let kili = client(&server);
    let e = kili.delete_project("no-such-project").unwrap_err();
    assert!(e.graphql_errors().is_some(), "{e:?}");
    assert_eq!(
        server.recorded_requests().len(),
        1,
        "graphql errors are not retried"
    );
}
