//! The local server end to end over real sockets: start-up checks, the tutorial flow, stop.

use crate::support::*;
use kili_local_server::LocalServer;
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
    init(&mut ws, server.api_key());
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

#[test]
fn stop_closes_idle_keep_alive_connections_too() {
    use std::io::{Read, Write};
    let server = LocalServer::start().unwrap();
    let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(b"GET /api/label/v2/version HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 1024];
    assert!(s.read(&mut buf).unwrap() > 0);
    let addr = server.addr();
    drop(server); // dropping the handle stops it
    assert_eq!(
        s.read(&mut buf).unwrap_or(0),
        0,
        "the server closed the connection"
    );
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "nothing listens any more"
    );
}

#[test]
fn a_restart_on_the_same_port_keeps_the_data() {
    let first = LocalServer::builder().api_key("k").start().unwrap();
    let project = create_project(&first, "k", "survives");
    let (port, state) = (first.addr().port(), first.state());
    first.stop();
    let second = LocalServer::builder()
        .port(port)
        .api_key("k")
        .state(state)
        .start()
        .unwrap();
    assert_eq!(second.addr().port(), port);
    let data = gql(
        &second,
        "query($id: ID!) { projects(where: {id: $id}) { title } }",
        json!({"id": project}),
    );
    assert_eq!(data["projects"][0]["title"], "survives");
}

#[test]
fn handles_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<LocalServer>();
    check::<kili_local_server::LocalServerBuilder>();
    check::<kili_local_server::ServerState>();
    check::<kili_local_server::RecordedRequest>();
}
