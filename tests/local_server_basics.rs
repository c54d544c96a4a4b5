//! The local server end to end over real sockets: start-up checks, the tutorial flow, stop.

mod local_server_support;

use kili::local_server::LocalServer;
use local_server_support::*;
use serde_json::json;

#[test]
fn tutorial_flow_over_http_and_graphql_ws() {
    let server = LocalServer::builder().api_key("k1").start().unwrap();
    let viewer = gql(&server, "{ viewer { id email } }", json!({}));
    assert_eq!(viewer["viewer"]["email"], "user@local.kili");

    let project = create_project(&server, "k1", "Webhook project");
    let assets = add_assets(&server, "k1", &project, &["car_1"]);

    let mut ws = ws_connect(&server, "graphql-ws");
    init(&mut ws, "k1");
    send(
        &mut ws,
        json!({"id": "s1", "type": "start", "payload": {"query": SUBSCRIPTION, "variables": {"projectID": project}}}),
    );
    assert!(wait_until(|| server.state().subscriber_count() == 1));

    let labels = add_labels(&server, "k1", &[assets[0].as_str()], "INFERENCE");
    let frame = next_frame(&mut ws);
    assert_eq!(frame["type"], "data");
    assert_eq!(frame["id"], "s1");
    let label = &frame["payload"]["data"]["data"];
    assert_eq!(label["id"], labels[0].as_str());
    assert_eq!(label["labelType"], "INFERENCE");
    assert_eq!(label["labelOf"]["id"], assets[0].as_str());
    assert_eq!(label["author"]["email"], "user@local.kili");

    send(&mut ws, json!({"id": "s1", "type": "stop"}));
    assert_eq!(next_frame(&mut ws), json!({"type": "complete", "id": "s1"}));
    assert!(wait_until(|| server.state().subscriber_count() == 0));
}

#[test]
fn stop_closes_every_connection() {
    let server = LocalServer::start().unwrap();
    let mut ws = ws_connect(&server, "graphql-ws");
    init(&mut ws, &server.api_key().to_owned());
    let agent = agent();
    let mut resp = agent
        .get(format!("http://{}/api/label/v2/version", server.addr()))
        .call()
        .unwrap();
    assert!(
        resp.body_mut()
            .read_to_string()
            .unwrap()
            .contains("\"version\":")
    );
    assert!(
        wait_until(|| server.connection_count() == 2),
        "{}",
        server.connection_count()
    );
    server.stop();
    // The WebSocket sees its socket end (no frame but maybe a ka).
    let (_, code) = read_close(&mut ws);
    assert_eq!(code, None);
}
