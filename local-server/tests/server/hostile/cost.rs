//! What one request may make the server do: list fields cost their length, execution has a
//! budget, batches have limits, remembered page positions are bounded in bytes, and a WebSocket
//! runs a bounded number of operations, each with a bounded queue.

use kili_local_server::LocalServer;
use serde_json::{Value, json};

use super::program::Program;
use crate::support::*;

/// A project whose assets have `per_asset` labels each; returns the project.
fn project_with_labels(server: &LocalServer, assets: usize, per_asset: usize) -> String {
    let key = server.api_key().to_owned();
    let project = create_project(server, &key, "cost");
    let names: Vec<String> = (0..assets).map(|i| format!("a{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let ids = add_assets(server, &key, &project, &names);
    for _ in 0..per_asset {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        add_labels(server, &key, &ids, "PREDICTION");
    }
    project
}

#[test]
fn nested_lists_cost_their_length() {
    let server = LocalServer::start().unwrap();
    let project = project_with_labels(&server, 1, 20);
    // assets > labels > labelOf > labels ... 6 lists of 20, 14 deep: 20^6 labels.
    let mut q = String::from("id");
    for _ in 0..5 {
        q = format!("labels {{ labelOf {{ {q} }} }}");
    }
    let query = format!(
        "query($w: AssetWhere!) {{ assets(where: $w, first: 1) {{ labels {{ id labelOf {{ {q} }} }} }} }}"
    );
    let (status, message, _) = gql_failure(
        &server,
        server.api_key(),
        &query,
        json!({"w": {"project": {"id": project}}}),
    );
    assert_eq!(status, 400, "{message}");
    assert!(message.to_lowercase().contains("complex"), "{message}");
}

#[test]
fn execution_stops_at_its_budget() {
    let server = LocalServer::start().unwrap();
    let project = project_with_labels(&server, 10, 50);
    // Within the complexity limit, but 500 labels x 50 x 50: 1.3 million fields.
    let query = "query($w: LabelWhere!) { labels(where: $w, first: 500) { id labelOf { labels { id labelOf { labels { id } } } } } }";
    let (status, body) = post(
        &server,
        Some(server.api_key()),
        &json!({"query": query, "variables": {"w": {"project": {"id": project}}}}),
    );
    assert!(status == 200 || status == 400, "{status} {body:.300}");
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|e| e["extensions"]["code"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(codes.contains(&"RESOURCE_LIMIT"), "{codes:?}");
}

#[test]
fn batches_have_limits() {
    let server = LocalServer::start().unwrap();
    let batch: Vec<Value> = (0..101)
        .map(|_| json!({"query": "{ viewer { id } }"}))
        .collect();
    let (status, body) = post(&server, Some(server.api_key()), &Value::Array(batch));
    assert_eq!(status, 400, "{body:.300}");
    let key = server.api_key().to_owned();
    let project = create_project(&server, &key, "rows");
    let asset = add_assets(&server, &key, &project, &["a"]).remove(0);
    let rows: Vec<Value> = (0..10_001)
        .map(|_| json!({"assetID": asset, "jsonResponse": "{}"}))
        .collect();
    let (_, message, code) = gql_failure(
        &server,
        &key,
        APPEND_LABELS,
        json!({"data": {"labelType": "PREDICTION", "labelsData": rows}, "where": {"id": asset}}),
    );
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    assert!(message.contains("10000"), "{message}");
    assert_eq!(server.state().label_count(), 0);
}

#[test]
fn remembered_page_positions_do_not_pin_huge_filters() {
    let server = Program::start(&["--port", "0"], None);
    let agent = agent();
    let call = |query: &str, variables: Value| -> Value {
        let mut resp = agent
            .post(&server.endpoint)
            .header("Authorization", format!("X-API-Key: {}", server.key))
            .send_json(json!({"query": query, "variables": variables}))
            .unwrap();
        resp.body_mut().read_json::<Value>().unwrap()
    };
    let project = call(
        CREATE_PROJECT,
        json!({"data": {"title": "p", "inputType": "TEXT"}}),
    );
    let project = project["data"]["data"]["id"].as_str().unwrap().to_owned();
    let assets = call(
        APPEND_ASSETS,
        json!({"data": {"contentArray": ["x"]}, "where": {"id": project}}),
    );
    let asset = assets["data"]["data"][0]["id"].as_str().unwrap().to_owned();
    call(
        APPEND_LABELS,
        json!({"data": {"labelType": "PREDICTION", "labelsData": [{"assetID": asset, "jsonResponse": "{}"}]}, "where": {"id": asset}}),
    );
    let rss = || {
        let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap()
    };
    // Full pages (first: 1), each under a distinct 6 MiB filter that still matches.
    let mut filters = 0;
    let mut six_more = || {
        for _ in 0..6 {
            filters += 1;
            let filler = format!("{filters}{}", "n".repeat(6 * 1024 * 1024));
            let found = call(
                "query($w: LabelWhere!) { data: labels(where: $w, first: 1, skip: 0) { id } }",
                json!({"w": {"project": {"id": project}, "authorIn": ["user@local.kili", filler]}}),
            );
            assert_eq!(
                found["data"]["data"].as_array().map(Vec::len),
                Some(1),
                "{found:.200}"
            );
        }
    };
    // The allocator keeps some of what the first six freed (per-thread arenas): measure from
    // there. Pinned filters would add 36 MiB each round; freed ones reuse what is kept.
    six_more();
    let before = rss();
    six_more();
    six_more();
    let growth = rss().saturating_sub(before);
    eprintln!("RSS growth after twelve more 6 MiB filters: {growth} KiB");
    assert!(growth < 24 * 1024, "{growth} KiB still held");
}

#[test]
fn a_websocket_runs_at_most_a_hundred_operations() {
    let server = LocalServer::start().unwrap();
    let key = server.api_key().to_owned();
    let project = create_project(&server, &key, "subs");
    let mut ws = ws_connect(&server, "graphql-ws");
    init(&mut ws, &key);
    for i in 0..101 {
        send(
            &mut ws,
            json!({"id": format!("s{i}"), "type": "start", "payload": {"query": SUBSCRIPTION, "variables": {"projectID": project}}}),
        );
    }
    let frame = next_frame(&mut ws);
    assert_eq!(
        (frame["type"].as_str(), frame["id"].as_str()),
        (Some("error"), Some("s100")),
        "{frame}"
    );
    assert!(frame.to_string().contains("100"), "{frame}");
    assert!(wait_until(|| server.state().subscriber_count() == 100));
}

#[test]
fn a_subscriber_that_reads_too_slowly_is_dropped_with_an_error() {
    let server = LocalServer::builder()
        .max_queued_labels(8)
        .keep_alive(None)
        .start()
        .unwrap();
    let key = server.api_key().to_owned();
    let project = create_project(&server, &key, "slow");
    let assets = add_assets(&server, &key, &project, &["a"]);
    let mut ws = ws_connect(&server, "graphql-ws");
    init(&mut ws, &key);
    send(
        &mut ws,
        json!({"id": "slow", "type": "start", "payload": {"query": "subscription($projectID: ID!) { data: labelCreatedOrUpdated(projectID: $projectID) { id jsonResponse } }", "variables": {"projectID": project}}}),
    );
    assert!(wait_until(|| server.state().subscriber_count() == 1));
    // The client reads nothing: labels of 64 KiB fill the sockets' buffers, then the queue.
    let big = json!({"JOB": "x".repeat(64 * 1024)}).to_string();
    let mut written = 0;
    while server.state().subscriber_count() == 1 && written < 2_000 {
        let rows: Vec<Value> = (0..20)
            .map(|_| json!({"assetID": assets[0], "jsonResponse": big}))
            .collect();
        gql(
            &server,
            APPEND_LABELS,
            json!({"data": {"labelType": "PREDICTION", "labelsData": rows}, "where": {"id": assets[0]}}),
        );
        written += 20;
    }
    assert_eq!(
        server.state().subscriber_count(),
        0,
        "dropped after {written} labels"
    );
    // It gets what was queued, then an error frame; the connection stays.
    let mut data = 0;
    let error = loop {
        let frame = next_frame(&mut ws);
        match frame["type"].as_str() {
            Some("data") => data += 1,
            _ => break frame,
        }
    };
    assert_eq!(error["type"], "error", "{error:.300}");
    assert!(
        error.to_string().contains("SUBSCRIPTION_OVERFLOW")
            || error.to_string().contains("subscriptionOverflow"),
        "{error:.300}"
    );
    assert!(data < written, "{data} of {written}");
    send(&mut ws, json!({"type": "stop", "id": "slow"}));
    assert_eq!(next_frame(&mut ws)["type"], "complete");
}
