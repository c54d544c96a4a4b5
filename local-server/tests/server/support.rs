//! The one helper module of the local server's tests: raw clients (ureq for HTTP, tungstenite
//! for WebSockets, plain TCP for malformed input), data set-up with raw GraphQL documents, and
//! a wait on a condition with a deadline. Deliberately not the `kili` client: this crate does
//! not depend on it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use kili_local_server::LocalServer;
use serde_json::{Value, json};
use tungstenite::client::IntoClientRequest;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

pub const WAIT: Duration = Duration::from_secs(10);

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(WAIT))
        .build()
        .into()
}

/// POSTs a GraphQL request with `key`; returns the status and the JSON body.
pub fn post(server: &LocalServer, key: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = agent().post(server.endpoint());
    if let Some(key) = key {
        req = req.header("Authorization", format!("X-API-Key: {key}"));
    }
    let mut resp = req.send_json(body).expect("request");
    let status = resp.status().as_u16();
    let value = resp.body_mut().read_json::<Value>().expect("json body");
    (status, value)
}

/// Runs a query with the server's key and returns `data`, panicking on errors.
pub fn gql(server: &LocalServer, query: &str, variables: Value) -> Value {
    gql_as(server, server.api_key(), query, variables)
}

/// Runs a query with `key` and returns `data`, panicking on errors.
pub fn gql_as(server: &LocalServer, key: &str, query: &str, variables: Value) -> Value {
    let (status, body) = post(
        server,
        Some(key),
        &json!({"query": query, "variables": variables}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    body["data"].clone()
}

/// Runs a query that must fail; returns the first error's message. A document refused before
/// it runs is answered 400, one whose resolver fails 200; every error carries a code.
pub fn gql_error(server: &LocalServer, key: &str, query: &str, variables: Value) -> String {
    gql_failure(server, key, query, variables).1
}

/// Runs a query that must fail; returns the status, and the first error's message and code.
pub fn gql_failure(
    server: &LocalServer,
    key: &str,
    query: &str,
    variables: Value,
) -> (u16, String, String) {
    let (status, body) = post(
        server,
        Some(key),
        &json!({"query": query, "variables": variables}),
    );
    assert!(status == 200 || status == 400, "{status} {body}");
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {body}"));
    let code = errors[0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no extensions.code in {body}"))
        .to_owned();
    let message = errors[0]["message"].as_str().unwrap_or_default().to_owned();
    (status, message, code)
}

/// Sends raw bytes on a new connection; returns everything until the server closes or 10 s.
pub fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(bytes).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The status code of a raw HTTP response.
pub fn status_of(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

pub const CREATE_PROJECT: &str =
    "mutation($data: CreateProjectData!) { data: createProject(data: $data) { id } }";
pub const APPEND_ASSETS: &str = "mutation($data: AppendManyAssetsData!, $where: ProjectWhere!) { data: appendManyAssets(data: $data, where: $where) { id externalId } }";
pub const APPEND_LABELS: &str = "mutation($data: AppendManyLabelsData!, $where: AssetWhere!) { data: appendManyLabels(data: $data, where: $where) { id createdAt } }";

/// Creates a project as `key`; returns its id.
pub fn create_project(server: &LocalServer, key: &str, title: &str) -> String {
    let data = gql_as(
        server,
        key,
        CREATE_PROJECT,
        json!({"data": {"title": title, "inputType": "IMAGE", "jsonInterface": "{}", "description": ""}}),
    );
    data["data"]["id"].as_str().unwrap().to_owned()
}

/// Appends assets with these external ids; returns their ids.
pub fn add_assets(
    server: &LocalServer,
    key: &str,
    project: &str,
    external: &[&str],
) -> Vec<String> {
    let content: Vec<String> = external
        .iter()
        .map(|e| format!("https://example.com/{e}.jpg"))
        .collect();
    let data = gql_as(
        server,
        key,
        APPEND_ASSETS,
        json!({"data": {"contentArray": content, "externalIDArray": external}, "where": {"id": project}}),
    );
    data["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Appends one label per asset; returns their ids.
pub fn add_labels(
    server: &LocalServer,
    key: &str,
    assets: &[&str],
    label_type: &str,
) -> Vec<String> {
    let labels: Vec<Value> = assets
        .iter()
        .map(|a| json!({"assetID": a, "jsonResponse": "{\"JOB_0\":{\"categories\":[{\"name\":\"A\"}]}}"}))
        .collect();
    let data = gql_as(
        server,
        key,
        APPEND_LABELS,
        json!({"data": {"labelType": label_type, "labelsData": labels}, "where": {"idIn": assets}}),
    );
    data["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect()
}

pub type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket offering `protocol`; returns the socket and the echoed subprotocol.
pub fn ws_connect(server: &LocalServer, protocol: &str) -> Ws {
    let mut req = server.ws_endpoint().into_client_request().unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
    let tcp = TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    let (ws, resp) = tungstenite::client(req, MaybeTlsStream::Plain(tcp)).expect("handshake");
    assert_eq!(resp.headers()["sec-websocket-protocol"], protocol);
    ws
}

pub fn send(ws: &mut Ws, frame: Value) {
    ws.send(Message::text(frame.to_string())).expect("send");
}

/// The next text frame as JSON, skipping `ka` unless `keep_ka`; panics after 10 s.
pub fn next_frame(ws: &mut Ws) -> Value {
    loop {
        match ws.read().expect("read") {
            Message::Text(t) => {
                let v: Value = serde_json::from_str(t.as_str()).expect("json frame");
                if v["type"] != "ka" {
                    return v;
                }
            }
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

/// Reads until the server closes; returns the close code (or None if the socket just ended).
pub fn read_close(ws: &mut Ws) -> (Vec<Value>, Option<u16>) {
    let mut frames = Vec::new();
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => frames.push(serde_json::from_str(t.as_str()).unwrap()),
            Ok(Message::Close(frame)) => return (frames, frame.map(|f| u16::from(f.code))),
            Ok(_) => {}
            Err(_) => return (frames, None),
        }
    }
}

/// `connection_init` with the key, as Kili's SDK sends it.
pub fn init(ws: &mut Ws, key: &str) {
    let auth = format!("X-API-Key: {key}");
    send(
        ws,
        json!({"type": "connection_init", "payload": {"headers": {"Authorization": auth}, "Authorization": auth}}),
    );
    assert_eq!(next_frame(ws)["type"], "connection_ack");
}

pub const SUBSCRIPTION: &str = "subscription($projectID: ID!) { data: labelCreatedOrUpdated(projectID: $projectID) { id labelType labelOf { id } author { email } } }";

/// Polls `cond` every 5 ms until it holds or 10 s pass.
pub fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    cond()
}
