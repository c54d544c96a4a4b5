//! Webhooks (Kili's plugins) over real sockets: registered, activated, listed and deleted with
//! the official SDK's own GraphQL documents, and delivered to a receiver in the test (see
//! `receiver`): the body and header, retries after a 5xx or a refused connection, the order of
//! one webhook's deliveries, answers that never wait for the receiver, pending deliveries
//! across a restart, deactivation, the logs, the allow-list of targets, and the test settings
//! that redeliver and reorder.

use std::time::Duration;

use kili_local_server::{LocalServer, LocalServerBuilder};
use serde_json::{Value, json};

use crate::receiver::Receiver;
use crate::support::{
    APPEND_LABELS, add_assets, create_project, gql, gql_as, gql_failure, wait_until,
};

// The documents of the official SDK (kili 26.2.4), copied from
// kili/core/graphql/operations/plugin/mutations.py and queries.py.
pub const CREATE_WEBHOOK: &str = "
mutation(
  $eventMatcher: [String!]
  $handlerTypes: [PluginHandlerType!]
  $pluginName: String!
  $webhookUrl: String!
  $header: String
  ) {
  data: createWebhook(
    data: {
      eventMatcher: $eventMatcher
      handlerTypes: $handlerTypes
      header: $header
      pluginName: $pluginName
      webhookUrl: $webhookUrl
    }
  )
}
";
pub const UPDATE_WEBHOOK: &str = "
mutation(
  $eventMatcher: [String!]
  $handlerTypes: [PluginHandlerType!]
  $pluginName: String!
  $webhookUrl: String!
  $header: String
  ) {
  data: updateWebhook(
    data: {
      eventMatcher: $eventMatcher
      handlerTypes: $handlerTypes
      header: $header
      pluginName: $pluginName
      webhookUrl: $webhookUrl
    }
  )
}
";
pub const ACTIVATE: &str = "
mutation(
  $pluginName: String!
  $projectId: ID!
  ) {
  data: activatePluginOnProject(
    where: {
      pluginName: $pluginName
      projectId: $projectId
    }
  )
}
";
pub const DEACTIVATE: &str = "
mutation(
  $pluginName: String!
  $projectId: ID!
  ) {
  data: deactivatePluginOnProject(
    where: {
      pluginName: $pluginName
      projectId: $projectId
    }
  )
}
";
pub const DELETE_PLUGIN: &str = "
mutation(
  $pluginName: String!
  ) {
  data: deletePlugin(
    where: {
      pluginName: $pluginName
    }
  )
}
";
pub const COUNT_PLUGINS: &str = "
    query countPlugins($where: PluginWhere!) {
        data: countPlugins(where: $where)
    }
    ";
pub const GET_PLUGIN_LOGS: &str = "
    query getPluginLogs(
        $projectId: ID!
        $pluginName: String!
        $createdAt: DateTime
        $limit: Int
        $skip: Int
    ) {
        data: getPluginLogs(
            data: {
                projectId: $projectId
                pluginName: $pluginName
                createdAt: $createdAt
                limit: $limit
                skip: $skip
            }
        ) {
            content
            createdAt
            logType
            metadata {
                assetId
                labelId
            }
            pluginName
            projectId
            runId
        }
    }
    ";
/// `gql_list_plugins` with the SDK's default fields (`fragment_builder` puts them in a set's
/// order; any order parses).
pub const LIST_PLUGINS: &str = "
        query listPlugins{
            data: listPlugins {
                 name projectIds id createdAt updatedAt
            }
        }
        ";

/// The recipe's label: three OBJECT_A boxes.
pub fn three_boxes() -> Value {
    let bbox = |mid: &str, x0: f64, y0: f64, x1: f64, y1: f64| {
        json!({"boundingPoly": [{"normalizedVertices": [
            {"x": x0, "y": y1}, {"x": x0, "y": y0}, {"x": x1, "y": y0}, {"x": x1, "y": y1}]}],
            "categories": [{"name": "OBJECT_A"}], "children": {}, "mid": mid, "type": "rectangle"})
    };
    json!({"JOB_0": {"annotations": [
        bbox("20221124161451411-13314", 0.15, 0.31, 0.82, 0.84),
        bbox("20221124161456406-47055", 0.79, 0.13, 0.91, 0.20),
        bbox("20221124161459298-45160", 0.87, 0.27, 0.99, 0.36),
    ]}})
}

/// A server whose webhooks retry fast.
pub fn fast() -> LocalServerBuilder {
    LocalServer::builder()
        .webhook_backoff(Duration::from_millis(10), Duration::from_millis(50))
        .webhook_timeout(Duration::from_secs(5))
}

/// Registers a webhook to `url` with this header and events (both when `None`).
pub fn create_webhook(s: &LocalServer, name: &str, url: &str, header: Option<&str>) -> Value {
    let mut vars = json!({"pluginName": name, "webhookUrl": url});
    if let Some(h) = header {
        vars["header"] = json!(h);
    }
    gql(s, CREATE_WEBHOOK, vars)["data"].clone()
}

/// Activates the webhook `name` on `project`.
pub fn activate(s: &LocalServer, name: &str, project: &str) -> Value {
    gql(
        s,
        ACTIVATE,
        json!({"pluginName": name, "projectId": project}),
    )["data"]
        .clone()
}

/// Appends one label of this type and response to each asset, in one call; returns their ids.
pub fn label(s: &LocalServer, assets: &[&str], label_type: &str, response: &Value) -> Vec<String> {
    let rows: Vec<Value> = assets
        .iter()
        .map(|a| json!({"assetID": a, "jsonResponse": response.to_string()}))
        .collect();
    let data = gql(
        s,
        APPEND_LABELS,
        json!({"data": {"labelType": label_type, "labelsData": rows}, "where": {"idIn": assets}}),
    );
    data["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Returns the webhook's log on a project, as the SDK reads it.
pub fn logs(s: &LocalServer, name: &str, project: &str) -> Vec<Value> {
    let vars = json!({"projectId": project, "pluginName": name, "limit": 100, "skip": 0});
    gql(s, GET_PLUGIN_LOGS, vars)["data"]
        .as_array()
        .unwrap()
        .clone()
}

/// A project with `n` assets, as the server's first user.
pub fn project_with_assets(s: &LocalServer, n: usize) -> (String, Vec<String>) {
    let p = create_project(s, s.api_key(), "webhooks");
    let names: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let assets = add_assets(s, s.api_key(), &p, &names);
    (p, assets)
}

#[test]
fn a_submitted_label_is_posted_with_the_registered_header() {
    let s = fast().start().unwrap();
    let hook = Receiver::start();
    let (p, a) = project_with_assets(&s, 1);
    let created = create_webhook(&s, "bbox count", &hook.url(), Some("custom header"));
    assert_eq!(created, "Plugin with name bbox count successfully created");
    assert_eq!(
        activate(&s, "bbox count", &p),
        "Plugin with name bbox count successfully activated"
    );
    let me = gql(&s, "{ viewer { id } }", json!({}))["viewer"]["id"].clone();
    let id = label(&s, &[&a[0]], "DEFAULT", &three_boxes())[0].clone();
    let got = hook.next();
    assert_eq!((got.method.as_str(), got.path.as_str()), ("POST", "/hook"));
    assert_eq!(got.header("authorization"), Some("custom header"));
    assert_eq!(got.header("content-type"), Some("application/json"));
    let body = &got.body;
    assert_eq!(body["eventType"], "onSubmit");
    assert_eq!(body["logPayload"]["projectId"], p.as_str());
    assert!(!got.run_id().is_empty());
    assert_eq!(body["payload"]["asset_id"], a[0].as_str());
    let l = &body["payload"]["label"];
    assert_eq!(
        (l["id"].as_str(), l["labelType"].as_str()),
        (Some(id.as_str()), Some("DEFAULT"))
    );
    assert_eq!(l["authorId"], me);
    assert_eq!(l["jsonResponse"], three_boxes(), "the response, parsed");
    assert_eq!(
        l["search"]["numberOfAnnotationsByObject"],
        json!({"JOB_0.OBJECT_A": 3})
    );
    assert!(l["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(l["version"], 0);

    // An AUTOSAVE label is no event; a REVIEW label is onReview.
    label(&s, &[&a[0]], "AUTOSAVE", &json!({}));
    let review = label(&s, &[&a[0]], "REVIEW", &json!({}))[0].clone();
    let got = hook.next();
    assert_eq!(got.body["eventType"], "onReview");
    assert_eq!(got.label_id(), review);
    assert!(
        hook.try_next().is_none(),
        "the AUTOSAVE label was not posted"
    );
}

#[test]
fn failures_are_retried_with_backoff_and_every_attempt_is_logged() {
    let s = fast().start().unwrap();
    let hook = Receiver::start();
    hook.answer(&[500, 503]);
    let (p, a) = project_with_assets(&s, 1);
    create_webhook(&s, "retried", &hook.url(), None);
    activate(&s, "retried", &p);
    let id = label(&s, &[&a[0]], "DEFAULT", &json!({}))[0].clone();
    let attempts = [hook.next(), hook.next(), hook.next()];
    let run = attempts[0].run_id();
    assert!(
        attempts
            .iter()
            .all(|r| r.run_id() == run && r.label_id() == id)
    );
    assert!(
        attempts[0].header("authorization").is_none(),
        "no header registered"
    );
    assert!(wait_until(|| s.state().pending_webhook_deliveries() == 0));
    let lines = logs(&s, "retried", &p);
    let types: Vec<&str> = lines
        .iter()
        .map(|l| l["logType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["ERROR", "ERROR", "INFO"], "{lines:?}");
    assert!(
        lines[0]["content"]
            .as_str()
            .unwrap()
            .contains("answered 500")
    );
    assert!(
        lines[1]["content"]
            .as_str()
            .unwrap()
            .contains("answered 503")
    );
    assert!(lines[2]["content"].as_str().unwrap().contains("delivered"));
    for l in &lines {
        assert_eq!(l["runId"], run.as_str());
        assert_eq!(l["metadata"], json!({"assetId": a[0], "labelId": id}));
        assert_eq!(
            (l["pluginName"].as_str(), l["projectId"].as_str()),
            (Some("retried"), Some(p.as_str()))
        );
    }
    // The SDK's start_date and paging.
    let since = lines[2]["createdAt"].clone();
    let vars = json!({"projectId": p, "pluginName": "retried", "createdAt": since, "limit": 10, "skip": 0});
    let later = gql(&s, GET_PLUGIN_LOGS, vars)["data"]
        .as_array()
        .unwrap()
        .len();
    assert!((1..=3).contains(&later), "{later}");
    let vars = json!({"projectId": p, "pluginName": "retried", "limit": 1, "skip": 1});
    assert_eq!(
        gql(&s, GET_PLUGIN_LOGS, vars)["data"][0]["content"],
        lines[1]["content"]
    );
}

#[test]
fn a_refused_connection_is_retried_until_the_receiver_comes_up() {
    let s = fast().start().unwrap();
    // A port nobody listens on, kept for the receiver that comes up later.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let (p, a) = project_with_assets(&s, 1);
    create_webhook(&s, "later", &url, None);
    activate(&s, "later", &p);
    let id = label(&s, &[&a[0]], "DEFAULT", &json!({}))[0].clone();
    assert!(
        wait_until(|| logs(&s, "later", &p).len() >= 2),
        "two refused attempts"
    );
    let first = logs(&s, "later", &p)[0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(first.contains("connecting"), "{first}");
    let hook = Receiver::on(std::net::TcpListener::bind(("127.0.0.1", port)).unwrap());
    assert_eq!(hook.next().label_id(), id);
    assert!(wait_until(|| s.state().pending_webhook_deliveries() == 0));
}

#[test]
fn deliveries_to_one_webhook_keep_their_order() {
    let s = fast().start().unwrap();
    let hook = Receiver::start();
    hook.answer(&[500, 500]);
    let (p, a) = project_with_assets(&s, 3);
    create_webhook(&s, "ordered", &hook.url(), None);
    activate(&s, "ordered", &p);
    let ids: Vec<String> = a
        .iter()
        .map(|asset| label(&s, &[asset], "DEFAULT", &json!({}))[0].clone())
        .collect();
    let order: Vec<String> = (0..5).map(|_| hook.next().label_id()).collect();
    assert_eq!(
        order,
        [ids[0].as_str(), &ids[0], &ids[0], &ids[1], &ids[2]],
        "the first one, retried, holds the others back"
    );
}

#[test]
fn the_mutation_answers_while_the_receiver_stalls() {
    let s = fast().start().unwrap();
    let hook = Receiver::start();
    let (p, a) = project_with_assets(&s, 2);
    create_webhook(&s, "slow", &hook.url(), None);
    activate(&s, "slow", &p);
    let release = hook.hold_next();
    let first = label(&s, &[&a[0]], "DEFAULT", &json!({}))[0].clone();
    assert_eq!(
        hook.next().label_id(),
        first,
        "the receiver holds this request"
    );
    // The receiver has not answered: a label write still answers at once.
    let second = label(&s, &[&a[1]], "DEFAULT", &json!({}))[0].clone();
    assert_eq!(s.state().pending_webhook_deliveries(), 2);
    release.send(()).unwrap();
    assert_eq!(hook.next().label_id(), second);
}

#[test]
fn pending_deliveries_survive_a_restart_on_the_data_file() {
    let dir = std::env::temp_dir().join(format!(
        "kili-webhooks-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("kili.jsonl");
    let _ = std::fs::remove_file(&file);
    let hook = Receiver::start();
    hook.always(Some(500));
    let s = fast().data_file(&file).start().unwrap();
    let (p, a) = project_with_assets(&s, 1);
    create_webhook(&s, "durable", &hook.url(), Some("secret"));
    activate(&s, "durable", &p);
    let id = label(&s, &[&a[0]], "DEFAULT", &json!({}))[0].clone();
    let failed = hook.next();
    let key = s.api_key().to_owned();
    s.stop();
    while hook.try_next().is_some() {}
    hook.always(None);
    let again = fast().data_file(&file).api_key(key).start().unwrap();
    let got = hook.next();
    assert_eq!(
        (got.run_id(), got.label_id()),
        (failed.run_id(), id.clone())
    );
    assert_eq!(
        got.body, failed.body,
        "the same body, fixed when the label was written"
    );
    assert_eq!(got.header("authorization"), Some("secret"));
    assert!(wait_until(
        || again.state().pending_webhook_deliveries() == 0
    ));
    let lines = logs(&again, "durable", &p);
    assert_eq!(
        lines.first().unwrap()["logType"],
        "ERROR",
        "the first server's attempts"
    );
    assert_eq!(lines.last().unwrap()["logType"], "INFO");
    again.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn deactivation_stops_deliveries_and_deletion_forgets_the_webhook() {
    let s = fast().start().unwrap();
    let hook = Receiver::start();
    let (pa, a) = project_with_assets(&s, 1);
    let (pb, b) = project_with_assets(&s, 1);
    create_webhook(&s, "both", &hook.url(), None);
    activate(&s, "both", &pa);
    activate(&s, "both", &pb);
    assert_eq!(
        activate(&s, "both", &pb),
        "Plugin with name both successfully activated",
        "again"
    );
    label(&s, &[&a[0]], "DEFAULT", &json!({}));
    assert_eq!(hook.next().body["logPayload"]["projectId"], pa.as_str());

    let vars = json!({"pluginName": "both", "projectId": pa});
    assert_eq!(
        gql(&s, DEACTIVATE, vars)["data"],
        "Plugin with name both successfully deactivated"
    );
    label(&s, &[&a[0]], "DEFAULT", &json!({}));
    assert_eq!(
        s.state().pending_webhook_deliveries(),
        0,
        "no delivery for a deactivated project"
    );
    let from_b = label(&s, &[&b[0]], "DEFAULT", &json!({}))[0].clone();
    assert_eq!(
        hook.next().label_id(),
        from_b,
        "the next delivery is project B's"
    );
    let listed = gql(&s, LIST_PLUGINS, json!({}))["data"].clone();
    assert_eq!(listed[0]["projectIds"], json!([pb]));

    // Deactivating drops what is pending for the project, with a log line.
    hook.always(Some(500));
    label(&s, &[&b[0]], "DEFAULT", &json!({}));
    hook.next();
    gql(
        &s,
        DEACTIVATE,
        json!({"pluginName": "both", "projectId": pb}),
    );
    assert_eq!(s.state().pending_webhook_deliveries(), 0);
    let last = logs(&s, "both", &pb).pop().unwrap();
    assert!(
        last["content"].as_str().unwrap().contains("deactivated"),
        "{last}"
    );

    let deleted = gql(&s, DELETE_PLUGIN, json!({"pluginName": "both"}))["data"].clone();
    assert_eq!(deleted, "Plugin with name both successfully deleted");
    assert_eq!(gql(&s, LIST_PLUGINS, json!({}))["data"], json!([]));
    let (_, message, code) = gql_failure(
        &s,
        s.api_key(),
        ACTIVATE,
        json!({"pluginName": "both", "projectId": pb}),
    );
    assert_eq!(code, "NOT_FOUND", "{message}");
}

#[test]
fn webhooks_are_managed_as_the_sdk_does() {
    let s = fast().user("bob-key", "bob@example.com").start().unwrap();
    let (old, new) = (Receiver::start(), Receiver::start());
    let (p, a) = project_with_assets(&s, 1);
    create_webhook(&s, "mine", &old.url(), Some("v1"));
    let (_, message, _) = gql_failure(
        &s,
        s.api_key(),
        CREATE_WEBHOOK,
        json!({"pluginName": "mine", "webhookUrl": old.url()}),
    );
    assert!(
        message.contains("an entity Plugin already exists with value"),
        "{message}"
    );
    let vars = json!({"pluginName": "mine", "webhookUrl": new.url(), "header": "v2", "handlerTypes": ["onSubmit"]});
    assert_eq!(
        gql(&s, UPDATE_WEBHOOK, vars)["data"],
        "Plugin with name mine successfully updated"
    );
    activate(&s, "mine", &p);
    label(&s, &[&a[0]], "REVIEW", &json!({}));
    label(&s, &[&a[0]], "DEFAULT", &json!({}));
    let got = new.next();
    assert_eq!(
        (got.header("authorization"), got.body["eventType"].as_str()),
        (Some("v2"), Some("onSubmit"))
    );
    assert!(old.try_next().is_none());

    // The organization's webhooks: every user sees them, activation needs the project.
    let listed = gql_as(&s, "bob-key", LIST_PLUGINS, json!({}))["data"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(
        (listed[0]["name"].as_str(), listed[0]["projectIds"].clone()),
        (Some("mine"), json!([p]))
    );
    assert!(listed[0]["createdAt"].as_str().unwrap() <= listed[0]["updatedAt"].as_str().unwrap());
    let count = |w: Value| gql(&s, COUNT_PLUGINS, json!({"where": w}))["data"].clone();
    assert_eq!(
        (
            count(json!({})),
            count(json!({"name": "mine"})),
            count(json!({"name": "x"}))
        ),
        (json!(1), json!(1), json!(0))
    );
    let (_, _, code) = gql_failure(
        &s,
        "bob-key",
        ACTIVATE,
        json!({"pluginName": "mine", "projectId": p}),
    );
    assert_eq!(code, "NO_ACCESS_RIGHTS");

    for (vars, needle) in [
        (
            json!({"pluginName": "x", "webhookUrl": new.url(), "eventMatcher": ["labels.created"]}),
            "eventMatcher",
        ),
        (
            json!({"pluginName": "x", "webhookUrl": new.url(), "handlerTypes": ["onSendBackToQueue"]}),
            "onSendBackToQueue",
        ),
        (
            json!({"pluginName": "x", "webhookUrl": new.url(), "header": "a\r\nb: c"}),
            "line breaks",
        ),
        (
            json!({"pluginName": "x", "webhookUrl": "https://127.0.0.1/"}),
            "plain http",
        ),
        (
            json!({"pluginName": " ", "webhookUrl": new.url()}),
            "pluginName",
        ),
    ] {
        let (_, message, _) = gql_failure(&s, s.api_key(), CREATE_WEBHOOK, vars);
        assert!(message.contains(needle), "{message}");
    }
}

#[test]
fn targets_beyond_loopback_need_the_allow_list() {
    let s = LocalServer::start().unwrap();
    let vars = json!({"pluginName": "far", "webhookUrl": "http://10.1.2.3:8000/hook"});
    let (status, message, code) = gql_failure(&s, s.api_key(), CREATE_WEBHOOK, vars.clone());
    assert_eq!((status, code.as_str()), (200, "FORBIDDEN"), "{message}");
    assert!(
        message.contains("--webhook-allow 10.1.2.3:8000"),
        "{message}"
    );
    assert_eq!(gql(&s, LIST_PLUGINS, json!({}))["data"], json!([]));
    // Allowed by name: accepted (and never activated here: no traffic leaves this machine).
    let allowing = LocalServer::builder()
        .webhook_allow("10.1.2.3:8000")
        .start()
        .unwrap();
    gql(&allowing, CREATE_WEBHOOK, vars);
    assert!(
        LocalServer::builder()
            .webhook_allow("http://x")
            .start()
            .is_err()
    );

    // Listening beyond loopback: even loopback needs the allow-list.
    let hook = Receiver::start();
    let open = LocalServer::builder()
        .host("0.0.0.0".parse().unwrap())
        .api_key("k")
        .start()
        .unwrap();
    let vars = json!({"pluginName": "near", "webhookUrl": hook.url()});
    let (_, message, code) = gql_failure(&open, "k", CREATE_WEBHOOK, vars.clone());
    assert_eq!(code, "FORBIDDEN");
    assert!(message.contains("beyond loopback"), "{message}");
    let open = fast()
        .host("0.0.0.0".parse().unwrap())
        .api_key("k")
        .webhook_allow(hook.addr.to_string())
        .start()
        .unwrap();
    gql(&open, CREATE_WEBHOOK, vars);
    let (p, a) = project_with_assets(&open, 1);
    activate(&open, "near", &p);
    let id = label(&open, &[&a[0]], "DEFAULT", &json!({}))[0].clone();
    assert_eq!(hook.next().label_id(), id);
}

#[test]
fn the_test_settings_redeliver_and_reorder() {
    let s = fast().webhook_redeliver(true).start().unwrap();
    let hook = Receiver::start();
    let (p, a) = project_with_assets(&s, 1);
    create_webhook(&s, "twice", &hook.url(), None);
    activate(&s, "twice", &p);
    label(&s, &[&a[0]], "DEFAULT", &json!({}));
    let (first, second) = (hook.next(), hook.next());
    assert_eq!(first.body, second.body, "the same delivery, runId included");
    assert!(wait_until(|| s.state().pending_webhook_deliveries() == 0));
    let types: Vec<Value> = logs(&s, "twice", &p)
        .iter()
        .map(|l| l["logType"].clone())
        .collect();
    assert_eq!(types, [json!("INFO"), json!("INFO")]);

    let s = fast().webhook_reorder(true).start().unwrap();
    let (p, a) = project_with_assets(&s, 3);
    create_webhook(&s, "shuffled", &hook.url(), None);
    activate(&s, "shuffled", &p);
    let assets: Vec<&str> = a.iter().map(String::as_str).collect();
    let ids = label(&s, &assets, "DEFAULT", &json!({}));
    let got: Vec<String> = (0..3).map(|_| hook.next().label_id()).collect();
    assert_eq!(
        got,
        [ids[2].as_str(), &ids[1], &ids[0]],
        "one call's labels, newest first"
    );
}
