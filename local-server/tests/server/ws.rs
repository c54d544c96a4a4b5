//! The local server's WebSocket side over real sockets: both protocols, auth, keep-alive,
//! push delivery, errors, subscription lifetime.

use std::net::TcpStream;
use std::time::Duration;

use crate::support::*;
use kili_local_server::LocalServer;
use serde_json::{Value, json};
use tungstenite::Message;
use tungstenite::client::IntoClientRequest;

const KEY: &str = "ws-key";

fn setup(builder: kili_local_server::LocalServerBuilder) -> (LocalServer, String, String) {
    let server = builder.api_key(KEY).start().unwrap();
    let project = create_project(&server, KEY, "p");
    let asset = add_assets(&server, KEY, &project, &["x"]).remove(0);
    (server, project, asset)
}

fn start(ws: &mut Ws, kind: &str, id: &str, query: &str, project: &str) {
    send(
        ws,
        json!({"id": id, "type": kind, "payload": {"query": query, "variables": {"projectID": project}}}),
    );
}

/// The next text frame, `ka` included.
fn next_any(ws: &mut Ws) -> Value {
    loop {
        if let Message::Text(t) = ws.read().expect("read") {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

#[test]
fn graphql_ws_ack_ka_data_stop_complete_terminate() {
    let (server, project, asset) =
        setup(LocalServer::builder().keep_alive(Some(Duration::from_millis(50))));
    let mut ws = ws_connect(&server, "graphql-ws");
    let auth = format!("X-API-Key: {KEY}");
    // The SDK's exact init frame.
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"headers": {"Accept": "application/json", "Content-Type": "application/json", "Authorization": auth}, "Authorization": auth}}),
    );
    assert_eq!(next_any(&mut ws), json!({"type": "connection_ack"}));
    assert_eq!(
        next_any(&mut ws),
        json!({"type": "ka"}),
        "a ka right after the ack"
    );
    assert_eq!(
        next_any(&mut ws),
        json!({"type": "ka"}),
        "and then periodically"
    );

    // The SDK's exact start frame: extra `headers` in the payload, no operationName.
    let query = "\nsubscription($projectID: ID!) {\n  data: labelCreatedOrUpdated(projectID: $projectID) {\n    \nid\nauthor {\n  email\n}\nlabelOf {\n  id\n}\nlabelType\njsonResponse\n\n  }\n}\n";
    send(
        &mut ws,
        json!({"id": "lLSMLJ", "type": "start", "payload": {"headers": {"Authorization": auth}, "query": query, "variables": {"projectID": project}}}),
    );
    assert!(wait_until(|| server.state().subscriber_count() == 1));
    let label = add_labels(&server, KEY, &[asset.as_str()], "INFERENCE").remove(0);
    let frame = next_frame(&mut ws);
    assert_eq!(
        frame,
        json!({"type": "data", "id": "lLSMLJ", "payload": {"data": {"data": {
            "id": label, "author": {"email": "user@local.kili"}, "labelOf": {"id": asset},
            "labelType": "INFERENCE", "jsonResponse": "{\"JOB_0\":{\"categories\":[{\"name\":\"A\"}]}}"}}}})
    );
    send(&mut ws, json!({"id": "lLSMLJ", "type": "stop"}));
    assert_eq!(
        next_frame(&mut ws),
        json!({"type": "complete", "id": "lLSMLJ"})
    );
    assert!(wait_until(|| server.state().subscriber_count() == 0));
    send(&mut ws, json!({"type": "connection_terminate"}));
    let (_, code) = read_close(&mut ws);
    assert_eq!(code, Some(1000));
    assert!(wait_until(|| server.connection_count() == 0));
}

#[test]
fn graphql_transport_ws_ack_next_complete_ping() {
    let (server, project, asset) =
        setup(LocalServer::builder().keep_alive(Some(Duration::from_millis(20))));
    let mut ws = ws_connect(&server, "graphql-transport-ws");
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"Authorization": format!("X-API-Key: {KEY}")}}),
    );
    assert_eq!(next_any(&mut ws), json!({"type": "connection_ack"}));
    send(&mut ws, json!({"type": "ping", "payload": {"n": 1}}));
    assert_eq!(
        next_any(&mut ws),
        json!({"type": "pong", "payload": {"n": 1}}),
        "no ka in this protocol"
    );
    start(&mut ws, "subscribe", "a", SUBSCRIPTION, &project);
    assert!(wait_until(|| server.state().subscriber_count() == 1));
    let label = add_labels(&server, KEY, &[asset.as_str()], "DEFAULT").remove(0);
    let frame = next_any(&mut ws);
    assert_eq!(frame["type"], "next");
    assert_eq!(frame["id"], "a");
    assert_eq!(frame["payload"]["data"]["data"]["id"], label.as_str());
    send(&mut ws, json!({"id": "a", "type": "complete"}));
    assert!(wait_until(|| server.state().subscriber_count() == 0));
    // The id may be reused once completed.
    start(&mut ws, "subscribe", "a", SUBSCRIPTION, &project);
    assert!(wait_until(|| server.state().subscriber_count() == 1));
    ws.close(None).unwrap();
    let _ = read_close(&mut ws);
    assert!(wait_until(|| server.state().subscriber_count() == 0));
    assert!(wait_until(|| server.connection_count() == 0));
}

#[test]
fn every_subscriber_gets_each_label_with_its_own_selection() {
    let (server, project, asset) = setup(LocalServer::builder());
    let mut legacy = ws_connect(&server, "graphql-ws");
    init(&mut legacy, KEY);
    start(
        &mut legacy,
        "start",
        "1",
        "subscription($projectID: ID!) { labelCreatedOrUpdated(projectID: $projectID) { id } }",
        &project,
    );
    let mut modern = ws_connect(&server, "graphql-transport-ws");
    init(&mut modern, KEY);
    start(
        &mut modern,
        "subscribe",
        "2",
        "subscription($projectID: ID!) { data: labelCreatedOrUpdated(projectID: $projectID) { labelType assetId createdAt } }",
        &project,
    );
    // A second operation on the same connection.
    start(
        &mut modern,
        "subscribe",
        "3",
        "subscription($projectID: ID!) { l: labelCreatedOrUpdated(projectID: $projectID) { jsonResponse } }",
        &project,
    );
    assert!(wait_until(|| server.state().subscriber_count() == 3));

    // Both mutations publish.
    let first = add_labels(&server, KEY, &[asset.as_str()], "REVIEW").remove(0);
    let older = gql(
        &server,
        "mutation($data: AppendToLabelsData!, $where: AssetWhere!) { data: appendToLabels(data: $data, where: $where) { id } }",
        json!({"data": {"jsonResponse": "{}", "labelType": "DEFAULT"}, "where": {"id": asset}}),
    )["data"]["id"]
        .clone();

    assert_eq!(
        next_frame(&mut legacy)["payload"]["data"],
        json!({"labelCreatedOrUpdated": {"id": first}})
    );
    assert_eq!(
        next_frame(&mut legacy)["payload"]["data"],
        json!({"labelCreatedOrUpdated": {"id": older}})
    );
    let mut by_op: std::collections::HashMap<String, Vec<Value>> = Default::default();
    for _ in 0..4 {
        let f = next_frame(&mut modern);
        by_op
            .entry(f["id"].as_str().unwrap().to_owned())
            .or_default()
            .push(f["payload"]["data"].clone());
    }
    assert_eq!(by_op["2"][0]["data"]["labelType"], "REVIEW");
    assert_eq!(by_op["2"][0]["data"]["assetId"], asset.as_str());
    assert_eq!(by_op["2"][1]["data"]["labelType"], "DEFAULT");
    // Two calls: timestamps never go backwards, but may share a millisecond.
    assert!(
        by_op["2"][0]["data"]["createdAt"].as_str().unwrap()
            <= by_op["2"][1]["data"]["createdAt"].as_str().unwrap()
    );
    assert_eq!(by_op["3"][1], json!({"l": {"jsonResponse": "{}"}}));
}

#[test]
fn subscribers_only_get_their_project() {
    let (server, project, asset) = setup(LocalServer::builder());
    let other = create_project(&server, KEY, "other");
    let other_asset = add_assets(&server, KEY, &other, &["o"]).remove(0);
    let mut ws = ws_connect(&server, "graphql-ws");
    init(&mut ws, KEY);
    start(&mut ws, "start", "1", SUBSCRIPTION, &project);
    assert!(wait_until(|| server.state().subscriber_count() == 1));
    add_labels(&server, KEY, &[other_asset.as_str()], "DEFAULT");
    let mine = add_labels(&server, KEY, &[asset.as_str()], "DEFAULT").remove(0);
    assert_eq!(
        next_frame(&mut ws)["payload"]["data"]["data"]["id"],
        mine.as_str()
    );
}

#[test]
fn the_server_completes_subscriptions_after_their_lifetime() {
    let (server, project, _) =
        setup(LocalServer::builder().subscription_lifetime(Duration::from_secs(1)));
    let mut legacy = ws_connect(&server, "graphql-ws");
    init(&mut legacy, KEY);
    start(&mut legacy, "start", "old", SUBSCRIPTION, &project);
    let mut modern = ws_connect(&server, "graphql-transport-ws");
    init(&mut modern, KEY);
    start(&mut modern, "subscribe", "new", SUBSCRIPTION, &project);
    assert_eq!(
        next_frame(&mut legacy),
        json!({"type": "complete", "id": "old"})
    );
    assert_eq!(
        next_frame(&mut modern),
        json!({"type": "complete", "id": "new"})
    );
    assert!(wait_until(|| server.state().subscriber_count() == 0));
    // The SDK answers a server `complete` with `stop` and waits for a reply.
    send(&mut legacy, json!({"id": "old", "type": "stop"}));
    assert_eq!(
        next_frame(&mut legacy),
        json!({"type": "complete", "id": "old"})
    );
}

#[test]
fn graphql_ws_refuses_init_without_a_valid_key() {
    let server = LocalServer::builder().api_key(KEY).start().unwrap();
    for payload in [
        json!({}),
        json!({"Authorization": "X-API-Key: wrong"}),
        json!({"headers": {"Authorization": KEY}}),
    ] {
        let mut ws = ws_connect(&server, "graphql-ws");
        send(
            &mut ws,
            json!({"type": "connection_init", "payload": payload}),
        );
        let (frames, code) = read_close(&mut ws);
        assert_eq!(frames.len(), 1, "{frames:?}");
        assert_eq!(frames[0]["type"], "connection_error");
        assert_eq!(code, Some(4403));
    }
    // `headers.Authorization` alone is enough.
    let mut ws = ws_connect(&server, "graphql-ws");
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"headers": {"Authorization": format!("X-API-Key: {KEY}")}}}),
    );
    assert_eq!(next_frame(&mut ws)["type"], "connection_ack");
}

#[test]
fn graphql_transport_ws_refuses_init_without_a_valid_key_with_4403() {
    let server = LocalServer::builder().api_key(KEY).start().unwrap();
    let mut ws = ws_connect(&server, "graphql-transport-ws");
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"Authorization": "X-API-Key: nope"}}),
    );
    let (frames, code) = read_close(&mut ws);
    assert!(frames.is_empty(), "{frames:?}");
    assert_eq!(code, Some(4403));
}

#[test]
fn graphql_transport_ws_protocol_violations_close_with_their_codes() {
    let (server, project, _) = setup(LocalServer::builder());
    let mut ws = ws_connect(&server, "graphql-transport-ws");
    start(&mut ws, "subscribe", "a", SUBSCRIPTION, &project);
    assert_eq!(read_close(&mut ws).1, Some(4401), "subscribe before init");

    let mut ws = ws_connect(&server, "graphql-transport-ws");
    init(&mut ws, KEY);
    start(&mut ws, "subscribe", "a", SUBSCRIPTION, &project);
    start(&mut ws, "subscribe", "a", SUBSCRIPTION, &project);
    assert_eq!(read_close(&mut ws).1, Some(4409), "duplicate id");

    let mut ws = ws_connect(&server, "graphql-transport-ws");
    init(&mut ws, KEY);
    ws.send(Message::text("{not json")).unwrap();
    assert_eq!(read_close(&mut ws).1, Some(4400), "unreadable message");

    let mut ws = ws_connect(&server, "graphql-transport-ws");
    init(&mut ws, KEY);
    init_again(&mut ws);
    assert_eq!(read_close(&mut ws).1, Some(4429), "second init");
    assert!(wait_until(|| server.connection_count() == 0));
}

fn init_again(ws: &mut Ws) {
    send(
        ws,
        json!({"type": "connection_init", "payload": {"Authorization": format!("X-API-Key: {KEY}")}}),
    );
}

#[test]
fn graphql_ws_reports_bad_frames_and_keeps_the_connection() {
    let (server, project, asset) = setup(LocalServer::builder());
    let mut ws = ws_connect(&server, "graphql-ws");
    ws.send(Message::text("{not json")).unwrap();
    assert_eq!(next_frame(&mut ws)["type"], "connection_error");
    start(&mut ws, "start", "early", SUBSCRIPTION, &project);
    let early = next_frame(&mut ws);
    assert_eq!(
        (early["type"].as_str(), early["id"].as_str()),
        (Some("error"), Some("early"))
    );
    init(&mut ws, KEY);
    start(&mut ws, "start", "1", SUBSCRIPTION, &project);
    assert!(wait_until(|| server.state().subscriber_count() == 1));
    let label = add_labels(&server, KEY, &[asset.as_str()], "DEFAULT").remove(0);
    assert_eq!(
        next_frame(&mut ws)["payload"]["data"]["data"]["id"],
        label.as_str()
    );
}

#[test]
fn operations_that_fail_before_executing_get_an_error_frame() {
    let (server, project, _) = setup(LocalServer::builder());
    for (protocol, kind) in [
        ("graphql-ws", "start"),
        ("graphql-transport-ws", "subscribe"),
    ] {
        let mut ws = ws_connect(&server, protocol);
        init(&mut ws, KEY);
        start(
            &mut ws,
            kind,
            "bad",
            "subscription($projectID: ID!) { labelCreatedOrUpdated(projectID: $projectID) { nope } }",
            &project,
        );
        let frame = next_frame(&mut ws);
        assert_eq!(frame["type"], "error", "{protocol}");
        let message = if protocol == "graphql-ws" {
            &frame["payload"]["message"]
        } else {
            &frame["payload"][0]["message"]
        };
        assert!(message.as_str().unwrap().contains("nope"), "{frame}");
        // An unknown project is refused the same way.
        start(&mut ws, kind, "gone", SUBSCRIPTION, "no-such-project");
        let frame = next_frame(&mut ws);
        assert_eq!(
            (frame["type"].as_str(), frame["id"].as_str()),
            (Some("error"), Some("gone"))
        );
    }
    assert_eq!(server.state().subscriber_count(), 0);
}

#[test]
fn queries_and_mutations_also_run_over_websockets() {
    let (server, _, _) = setup(LocalServer::builder());
    let mut ws = ws_connect(&server, "graphql-ws");
    init(&mut ws, KEY);
    send(
        &mut ws,
        json!({"id": "q", "type": "start", "payload": {"query": "{ viewer { email } }"}}),
    );
    assert_eq!(
        next_frame(&mut ws)["payload"]["data"]["viewer"]["email"],
        "user@local.kili"
    );
    assert_eq!(next_frame(&mut ws), json!({"type": "complete", "id": "q"}));
}

#[test]
fn upgrades_without_a_known_subprotocol_are_refused() {
    let server = LocalServer::start().unwrap();
    for protocol in [Some("chat"), None] {
        let mut req = server.ws_endpoint().into_client_request().unwrap();
        if let Some(p) = protocol {
            req.headers_mut()
                .insert("Sec-WebSocket-Protocol", p.parse().unwrap());
        }
        let tcp = TcpStream::connect(server.addr()).unwrap();
        tcp.set_read_timeout(Some(WAIT)).unwrap();
        match tungstenite::client(req, tcp) {
            Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(resp))) => {
                assert_eq!(resp.status().as_u16(), 400, "{protocol:?}");
            }
            Err(e) => panic!("{protocol:?}: unexpected {e}"),
            Ok(_) => panic!("{protocol:?}: the handshake succeeded"),
        }
    }
    // And an upgrade on another path.
    let resp = raw(
        server.addr(),
        b"GET /elsewhere HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Protocol: graphql-ws\r\n\r\n",
    );
    assert_eq!(status_of(&resp), 404);
}

#[test]
fn a_websocket_is_one_connection_and_goes_away_when_the_client_leaves() {
    let (server, project, _) = setup(LocalServer::builder());
    let mut ws = ws_connect(&server, "graphql-ws");
    init(&mut ws, KEY);
    start(&mut ws, "start", "1", SUBSCRIPTION, &project);
    assert!(wait_until(|| server.state().subscriber_count() == 1));
    assert!(wait_until(|| server.connection_count() == 1));
    drop(ws); // abrupt: no close frame
    assert!(wait_until(|| server.connection_count() == 0));
    assert!(wait_until(|| server.state().subscriber_count() == 0));
}
