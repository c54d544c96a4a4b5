//! Webhooks over real sockets: register, activate (twice), list, update, read the logs of a
//! delivery, deactivate and delete, each read back from the local server, with the documents
//! and variables the SDK sends.

use std::net::TcpListener;
use std::time::{Duration, SystemTime};

use crate::support::*;
use kili::{
    Error, LabelType, NewLabels, NewWebhook, PluginLogQuery, PluginLogType, PluginQuery,
    WebhookHandler,
};
use serde_json::json;

/// A loopback URL nothing listens on: deliveries to it are refused.
fn refused_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/kili-events")
}

#[test]
fn a_webhook_is_registered_activated_listed_updated_and_deleted() {
    let server = server();
    let kili = client(&server);
    let (project, _) = project_with_asset(&kili);
    let url = refused_url();
    let m = mark(&server);
    let hook = NewWebhook::new("my-webhook", &url)
        .header("Bearer secret")
        .handler_types([WebhookHandler::OnSubmit, WebhookHandler::OnReview]);
    assert_eq!(kili.create_webhook(&hook).unwrap(), "my-webhook");
    let sent = requests_since(&server, &m);
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0]
            .query
            .starts_with("mutation(\n  $eventMatcher: [String!]")
    );
    assert_eq!(
        sent[0].variables,
        json!({
            "handlerTypes": ["onSubmit", "onReview"], "pluginName": "my-webhook",
            "webhookUrl": url, "header": "Bearer secret"
        })
    );

    assert_eq!(
        kili.activate_plugin_on_project("my-webhook", &project)
            .unwrap(),
        "my-webhook"
    );
    assert_eq!(
        kili.activate_plugin_on_project("my-webhook", &project)
            .unwrap(),
        "my-webhook",
        "activating again is not an error"
    );
    let activations = requests_to(&server, "activatePluginOnProject");
    assert_eq!(
        activations[0].variables,
        json!({"pluginName": "my-webhook", "projectId": project})
    );

    let listed = kili.list_plugins(&PluginQuery::new()).unwrap();
    assert_eq!(listed.len(), 1);
    let plugin = &listed[0];
    assert_eq!(plugin.name(), "my-webhook");
    assert_eq!(plugin.project_ids(), Some(&[project.clone()][..]));
    assert!(plugin.id().is_some() && plugin.created_at().is_some());
    assert!(plugin.updated_at().is_some());
    let list = requests_to(&server, "listPlugins").remove(0);
    assert_eq!(
        list.query,
        "query listPlugins{\n    data: listPlugins {\n        name projectIds id createdAt updatedAt\n    }\n}"
    );
    assert_eq!(list.variables, serde_json::Value::Null, "no variables sent");

    let new_url = refused_url();
    let update = NewWebhook::new("my-webhook", &new_url).handler_types([WebhookHandler::OnSubmit]);
    assert_eq!(kili.update_webhook(&update).unwrap(), "my-webhook");
    let urls = kili
        .list_plugins(&PluginQuery::new().fields(["webhookUrl", "handlerTypes"]))
        .unwrap();
    assert_eq!(urls[0].name(), "my-webhook", "the name is always read");
    assert_eq!(urls[0].extra()["webhookUrl"], json!(new_url));
    assert_eq!(urls[0].extra()["handlerTypes"], json!(["onSubmit"]));
    assert_eq!(urls[0].id(), None, "not selected");

    assert_eq!(
        kili.deactivate_plugin_on_project("my-webhook", &project)
            .unwrap(),
        "my-webhook"
    );
    let after = kili
        .list_plugins(&PluginQuery::new().fields(["name", "projectIds"]))
        .unwrap();
    assert_eq!(after[0].project_ids(), Some(&[][..]));

    assert_eq!(kili.delete_plugin("my-webhook").unwrap(), "my-webhook");
    assert!(kili.list_plugins(&PluginQuery::new()).unwrap().is_empty());
    let e = kili.delete_plugin("my-webhook").unwrap_err();
    assert!(e.graphql_errors().is_some(), "{e}");
}

#[test]
fn a_failed_delivery_is_in_the_logs() {
    let server = server();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let name = kili
        .create_webhook(&NewWebhook::new("logged", refused_url()))
        .unwrap();
    kili.activate_plugin_on_project(&name, &project).unwrap();
    let label = kili
        .append_labels(
            &NewLabels::for_assets(&project, [&asset], [response()]).label_type(LabelType::Default),
        )
        .unwrap()
        .remove(0);

    let query = PluginLogQuery::new(&project, &name);
    let mut lines = Vec::new();
    assert!(
        wait_for(PATIENCE, || {
            lines = kili.get_plugin_logs(&query).unwrap();
            !lines.is_empty()
        }),
        "no log line"
    );
    let line = &lines[0];
    assert_eq!(line.log_type(), Some(PluginLogType::Error), "{line:?}");
    assert_eq!(line.label_id(), Some(label.as_str()));
    assert_eq!(line.asset_id(), Some(asset.as_str()));
    assert_eq!(line.plugin_name(), Some("logged"));
    assert_eq!(line.project_id(), Some(project.as_str()));
    assert!(line.run_id().is_some() && line.content().is_some() && line.created_at().is_some());
    let read = requests_to(&server, "getPluginLogs").remove(0);
    assert_eq!(
        read.variables,
        json!({"projectId": project, "pluginName": "logged", "limit": 100, "skip": 0})
    );

    let later = SystemTime::now() + Duration::from_secs(3600);
    let none = kili
        .get_plugin_logs(&query.clone().start_date(later))
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
    let sent = requests_to(&server, "getPluginLogs").pop().unwrap();
    let created_at = sent.variables["createdAt"].as_str().unwrap().to_owned();
    assert!(
        created_at.ends_with('Z') && created_at.len() == "2024-01-01T00:00:00.000Z".len(),
        "{created_at}"
    );
    let skipped = kili
        .get_plugin_logs(&query.clone().skip(lines.len() as u32))
        .unwrap();
    assert!(
        skipped.len() <= 1,
        "at most one more attempt since: {skipped:?}"
    );
    assert!(kili.get_plugin_logs(&query.limit(0)).unwrap().is_empty());
    kili.delete_plugin(&name).unwrap();
}

#[test]
fn bad_input_is_refused_before_any_request() {
    let server = server();
    let kili = client(&server);
    let m = mark(&server);
    let invalid = |e: Error| matches!(e, Error::InvalidInput { .. });
    assert!(invalid(
        kili.create_webhook(&NewWebhook::new("n", "")).unwrap_err()
    ));
    assert!(invalid(
        kili.activate_plugin_on_project("", "p").unwrap_err()
    ));
    assert!(invalid(
        kili.deactivate_plugin_on_project("n", "").unwrap_err()
    ));
    assert!(invalid(kili.delete_plugin(" ").unwrap_err()));
    assert!(invalid(
        kili.get_plugin_logs(&PluginLogQuery::new("", "n"))
            .unwrap_err()
    ));
    assert!(invalid(
        kili.list_plugins(&PluginQuery::new().fields(["a b"]))
            .unwrap_err()
    ));
    assert!(requests_since(&server, &m).is_empty());
}

#[test]
fn server_refusals_are_graphql_errors() {
    let server = server();
    let kili = client(&server);
    let (project, _) = project_with_asset(&kili);
    let e = kili
        .activate_plugin_on_project("nobody", &project)
        .unwrap_err();
    assert!(e.graphql_errors().is_some(), "{e}");
    let e = kili
        .create_webhook(&NewWebhook::new("n", refused_url()).event_matcher(["project.*"]))
        .unwrap_err();
    let errors = e.graphql_errors().expect("a GraphQL error");
    assert_eq!(errors[0].code.as_deref(), Some("UNSUPPORTED_FILTER"));
    kili.create_webhook(&NewWebhook::new("twice", refused_url()))
        .unwrap();
    assert!(
        kili.create_webhook(&NewWebhook::new("twice", refused_url()))
            .is_err(),
        "a name is unique"
    );
}
