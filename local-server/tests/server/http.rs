//! The local server's HTTP side over real sockets: auth, routing, limits, bad input, keep-alive,
//! gzip, injected failures, recording.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::*;
use kili_local_server::LocalServer;
use serde_json::{Value, json};

const PATH: &str = "/api/label/v2/graphql";

fn post_raw(server: &LocalServer, extra_headers: &str, body: &[u8]) -> String {
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: X-API-Key: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n",
        server.api_key(),
        body.len()
    );
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    raw(server.addr(), &bytes)
}

fn body_of(response: &str) -> Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str(body).unwrap_or(Value::Null)
}

#[test]
fn missing_or_unknown_keys_get_401_with_a_graphql_error() {
    let server = LocalServer::builder().api_key("good").start().unwrap();
    let query = json!({"query": "{ viewer { id email } }"});
    for key in [None, Some("bad")] {
        let (status, body) = post(&server, key, &query);
        assert_eq!(status, 401);
        assert_eq!(body["data"], Value::Null);
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
    // The key must come as `X-API-Key: <key>`, not bare or as a bearer token.
    for header in ["good", "Bearer good"] {
        let mut resp = agent()
            .post(server.endpoint())
            .header("Authorization", header)
            .send_json(&query)
            .unwrap();
        assert_eq!(resp.status().as_u16(), 401, "{header}");
        let _ = resp.body_mut().read_to_string();
    }
    let (status, body) = post(&server, Some("good"), &query);
    assert_eq!(status, 200);
    assert_eq!(body["data"]["viewer"]["email"], "user@local.kili");
}

#[test]
fn version_endpoint_names_the_schema() {
    let server = LocalServer::start().unwrap();
    let url = format!("http://{}/api/label/v2/version", server.addr());
    let text = agent()
        .get(&url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    // The SDK caches the schema only if this exact substring is present.
    assert!(text.contains("\"version\":"), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let version = v["version"].as_str().unwrap();
    assert!(version.contains("-local."), "{version}");
    let again = LocalServer::start().unwrap();
    let url2 = format!("http://{}/api/label/v2/version", again.addr());
    let v2: Value = agent()
        .get(&url2)
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(v2["version"], version, "same schema, same version");
}

#[test]
fn unknown_paths_are_404_and_wrong_methods_405() {
    let server = LocalServer::start().unwrap();
    let a = agent();
    let base = format!("http://{}", server.addr());
    let mut r = a.get(format!("{base}/nope")).call().unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let body: Value = r.body_mut().read_json().unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
    let mut r = a.get(format!("{base}{PATH}")).call().unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(r.headers()["allow"], "POST");
    let _ = r.body_mut().read_to_string();
    let mut r = a
        .post(format!("{base}/api/label/v2/version"))
        .send("x")
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(r.headers()["allow"], "GET");
    let _ = r.body_mut().read_to_string();
    let resp = raw(
        server.addr(),
        format!("DELETE {PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert_eq!(status_of(&resp), 405);
}

#[test]
fn malformed_bodies_are_400_and_change_nothing() {
    let server = LocalServer::start().unwrap();
    for body in [&b"{not json"[..], b"", b"[1, 2]", b"{\"query\": 3}"] {
        let resp = post_raw(&server, "", body);
        assert_eq!(
            status_of(&resp),
            400,
            "{}: {resp}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(
            body_of(&resp)["errors"][0]["extensions"]["code"],
            "BAD_REQUEST"
        );
    }
    assert_eq!(server.state().project_count(), 0);
    let resp = raw(server.addr(), b"\x16\x03\x01 not http at all\r\n\r\n");
    assert_eq!(status_of(&resp), 400);
    let resp = raw(
        server.addr(),
        format!("POST {PATH} HTTP/1.1\r\nContent-Length: nope\r\n\r\n").as_bytes(),
    );
    assert_eq!(status_of(&resp), 400);
}

#[test]
fn chunked_bodies_need_a_length_and_unknown_encodings_are_415() {
    let server = LocalServer::start().unwrap();
    let resp = raw(
        server.addr(),
        format!("POST {PATH} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(status_of(&resp), 411);
    let resp = post_raw(&server, "Content-Encoding: br\r\n", b"{}");
    assert_eq!(status_of(&resp), 415);
    let resp = post_raw(&server, "Content-Encoding: gzip\r\n", b"not gzip");
    assert_eq!(status_of(&resp), 400);
}

#[test]
fn bodies_over_the_limit_are_413_even_when_gzipped() {
    let server = LocalServer::builder().max_body_bytes(1024).start().unwrap();
    let title = "x".repeat(2000);
    let body =
        json!({"query": CREATE_PROJECT, "variables": {"data": {"title": title}}}).to_string();
    let resp = post_raw(&server, "", body.as_bytes());
    assert_eq!(status_of(&resp), 413, "{resp}");
    assert_eq!(
        body_of(&resp)["errors"][0]["extensions"]["code"],
        "PAYLOAD_TOO_LARGE"
    );
    // Small on the wire, large once decoded.
    let gz = gzip(body.as_bytes());
    assert!(gz.len() < 1024);
    let resp = post_raw(&server, "Content-Encoding: gzip\r\n", &gz);
    assert_eq!(status_of(&resp), 413, "{resp}");
    assert_eq!(server.state().project_count(), 0);
}

#[test]
fn a_client_sending_a_huge_body_still_reads_its_413() {
    let server = LocalServer::builder().max_body_bytes(1024).start().unwrap();
    let body = json!({"query": "{ viewer { id } }", "variables": {"pad": "y".repeat(4 << 20)}});
    let mut resp = agent()
        .post(server.endpoint())
        .header("Authorization", format!("X-API-Key: {}", server.api_key()))
        .send_json(&body)
        .expect("the answer, not a connection reset");
    assert_eq!(resp.status().as_u16(), 413);
    let v: Value = resp.body_mut().read_json().unwrap();
    assert_eq!(v["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn gzip_request_bodies_are_accepted() {
    let server = LocalServer::start().unwrap();
    let body = json!({"query": CREATE_PROJECT, "variables": {"data": {"title": "zipped", "inputType": "TEXT"}}});
    let resp = post_raw(
        &server,
        "Content-Encoding: gzip\r\n",
        &gzip(body.to_string().as_bytes()),
    );
    assert_eq!(status_of(&resp), 200, "{resp}");
    assert!(body_of(&resp)["data"]["data"]["id"].is_string());
    assert_eq!(server.state().project_count(), 1);
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let server = LocalServer::start().unwrap();
    let mut s = TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let body = r#"{"query":"{ viewer { email } }"}"#;
    let one = format!(
        "POST {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: X-API-Key: {}\r\nContent-Length: {}\r\n\r\n{body}",
        server.api_key(),
        body.len()
    );
    // Two pipelined in one write, then a third after the answers.
    s.write_all(format!("{one}{one}").as_bytes()).unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while seen.matches("user@local.kili").count() < 2 {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert_eq!(seen.matches("HTTP/1.1 200 OK").count(), 2);
    assert!(seen.contains("Connection: keep-alive"));
    s.write_all(one.as_bytes()).unwrap();
    let n = s.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("user@local.kili"));
    assert_eq!(server.connection_count(), 1);
}

#[test]
fn idle_connections_are_closed() {
    let server = LocalServer::builder()
        .idle_timeout(Duration::from_millis(200))
        .start()
        .unwrap();
    let mut s = TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(b"POST /api/label/v2/graphql HTTP/1.1\r\n")
        .unwrap(); // and never finish
    let mut answer = String::new();
    s.read_to_string(&mut answer)
        .expect("the server closed the stalled connection");
    assert_eq!(status_of(&answer), 408, "{answer}");
    assert!(wait_until(|| server.connection_count() == 0));
}

#[test]
fn connections_beyond_the_limit_are_refused_with_503() {
    let server = LocalServer::builder().max_connections(2).start().unwrap();
    let _a = TcpStream::connect(server.addr()).unwrap();
    let _b = TcpStream::connect(server.addr()).unwrap();
    assert!(wait_until(|| server.connection_count() == 2));
    let resp = raw(server.addr(), b"GET /api/label/v2/version HTTP/1.1\r\n\r\n");
    assert_eq!(status_of(&resp), 503, "{resp}");
    assert!(resp.contains("Retry-After: 1"));
    drop(_a);
    assert!(wait_until(|| server.connection_count() == 1));
    let resp = raw(
        server.addr(),
        b"GET /api/label/v2/version HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status_of(&resp), 200, "{resp}");
}

#[test]
fn injected_failures_answer_without_executing() {
    let server = LocalServer::builder()
        .record_requests(true)
        .start()
        .unwrap();
    server.fail_next_requests(2, 503, Some(Duration::from_secs(7)));
    let body = json!({"query": CREATE_PROJECT, "variables": {"data": {"title": "t"}}});
    for _ in 0..2 {
        let mut r = agent()
            .post(server.endpoint())
            .header("Authorization", format!("X-API-Key: {}", server.api_key()))
            .send_json(&body)
            .unwrap();
        assert_eq!(r.status().as_u16(), 503);
        assert_eq!(r.headers()["retry-after"], "7");
        let _ = r.body_mut().read_to_string();
    }
    assert_eq!(
        server.state().project_count(),
        0,
        "failed requests did not execute"
    );
    let (status, _) = post(&server, Some(server.api_key()), &body);
    assert_eq!(status, 200);
    assert_eq!(server.state().project_count(), 1);
    assert_eq!(
        server.recorded_requests().len(),
        3,
        "failed attempts are recorded too"
    );
}

#[test]
fn requests_are_recorded_with_headers_when_asked() {
    let server = LocalServer::builder()
        .record_requests(true)
        .start()
        .unwrap();
    let body = json!([
        {"query": "query one { viewer { id } }", "operationName": "one"},
        {"query": "{ viewer { email } }", "variables": {"a": 1}}
    ]);
    let (status, resp) = post(&server, Some(server.api_key()), &body);
    assert_eq!(status, 200);
    assert_eq!(
        resp.as_array().map(Vec::len),
        Some(2),
        "batched requests get batched answers"
    );
    let recorded = server.recorded_requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].operation_name.as_deref(), Some("one"));
    assert_eq!(recorded[1].variables, json!({"a": 1}));
    let auth = format!("X-API-Key: {}", server.api_key());
    assert_eq!(recorded[0].header("AUTHORIZATION"), Some(auth.as_str()));
    let quiet = LocalServer::start().unwrap();
    post(
        &quiet,
        Some(quiet.api_key()),
        &json!({"query": "{ viewer { id } }"}),
    );
    assert!(quiet.recorded_requests().is_empty());
}

#[test]
fn graphql_errors_are_reported_in_the_body() {
    let server = LocalServer::start().unwrap();
    let key = server.api_key().to_owned();
    let (status, syntax, code) = gql_failure(&server, &key, "{ viewer { id ", json!({}));
    assert!(!syntax.is_empty());
    assert_eq!((status, code.as_str()), (400, "GRAPHQL_PARSE_FAILED"));
    let (status, unknown, code) = gql_failure(&server, &key, "{ viewer { notAField } }", json!({}));
    assert!(unknown.contains("notAField"), "{unknown}");
    assert_eq!((status, code.as_str()), (400, "GRAPHQL_VALIDATION_FAILED"));
    let (status, bad_input, code) = gql_failure(
        &server,
        &key,
        CREATE_PROJECT,
        json!({"data": {"title": "t", "bogus": 1}}),
    );
    assert!(bad_input.contains("bogus"), "{bad_input}");
    assert_eq!((status, code.as_str()), (400, "BAD_USER_INPUT"));
    let page = gql_error(
        &server,
        &key,
        "query($f: PageSize!) { projects(where: {}, first: $f, skip: 0) { id } }",
        json!({"f": 501}),
    );
    assert!(page.contains("PageSize"), "{page}");
    // A resolver's refusal: the operation ran, 200, with Kili's code.
    let (status, message, code) = gql_failure(
        &server,
        &key,
        "mutation($where: ProjectWhere!) { data: deleteProjectAsynchronously(where: $where) }",
        json!({"where": {"id": "missing"}}),
    );
    assert_eq!(
        (status, code.as_str()),
        (200, "NO_ACCESS_RIGHTS"),
        "{message}"
    );
    // A filter the emulator cannot answer is refused, not ignored.
    let (status, message, code) = gql_failure(
        &server,
        &key,
        "query($w: AssetWhere!) { data: countAssets(where: $w) }",
        json!({"w": {"stepStatusIn": ["TO_DO"]}}),
    );
    assert_eq!(
        (status, code.as_str()),
        (200, "UNSUPPORTED_FILTER"),
        "{message}"
    );
    assert!(
        message.contains("stepStatusIn") || message.contains("step"),
        "{message}"
    );
}

#[test]
fn deep_or_complex_queries_are_refused() {
    let server = LocalServer::start().unwrap();
    let key = server.api_key().to_owned();
    // Label -> labelOf -> labels -> labelOf ... nests without bound in the schema.
    let mut q = String::from("id");
    for _ in 0..10 {
        q = format!("labelOf {{ labels {{ {q} }} }}");
    }
    let deep = gql_error(
        &server,
        &key,
        &format!("{{ labels(where: {{}}) {{ {q} }} }}"),
        json!({}),
    );
    // Too deep, and too costly too: each asset's labels count ten times their selection.
    assert!(
        deep.contains("nested too deep") || deep.to_lowercase().contains("complex"),
        "{deep}"
    );
    let wide: String = (0..2100)
        .map(|i| format!("a{i}: viewer {{ id }} "))
        .collect();
    let complex = gql_error(&server, &key, &format!("{{ {wide} }}"), json!({}));
    assert!(complex.to_lowercase().contains("complex"), "{complex}");
}

#[test]
fn introspection_is_on() {
    let server = LocalServer::start().unwrap();
    let data = gql(
        &server,
        "{ __schema { queryType { name } mutationType { name } subscriptionType { name } } }",
        json!({}),
    );
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
    assert_eq!(data["__schema"]["mutationType"]["name"], "Mutation");
    assert_eq!(data["__schema"]["subscriptionType"]["name"], "Subscription");
}

#[test]
fn port_in_use_is_an_io_error() {
    let first = LocalServer::start().unwrap();
    let err = LocalServer::builder()
        .port(first.addr().port())
        .start()
        .unwrap_err();
    assert!(
        matches!(err, kili_local_server::Error::Io { .. }),
        "{err:?}"
    );
    assert!(LocalServer::builder().api_key(" ").start().is_err());
}
