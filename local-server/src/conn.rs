//! One HTTP connection: keep-alive request loop, routing, GraphQL execution, and the hand-over
//! of WebSocket upgrades to `ws`.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use super::auth::key_from_authorization;
use super::http::{DecodeError, Parse, RequestHead, Response, decode_body, parse_head};
use super::schema::{RequestOrigin, Viewer};
use super::server::Shared;
use super::ws;
use crate::RecordedRequest;
use crate::store::{BUCKET_PATH, UserRec};

/// The GraphQL endpoint (HTTP POST and WebSocket upgrade).
pub(crate) const GRAPHQL_PATH: &str = "/api/label/v2/graphql";
/// The version endpoint.
pub(crate) const VERSION_PATH: &str = "/api/label/v2/version";
/// Files by id, `GET ...?id=<fileId>`.
pub(crate) const FILES_PATH: &str = "/api/label/v2/files";

/// Serves requests on one connection until it closes, idles out, or the server stops.
pub(crate) fn serve(mut stream: TcpStream, shared: &Shared, conn_id: u64) {
    if stream
        .set_read_timeout(Some(shared.config.idle_timeout))
        .is_err()
    {
        return;
    }
    let idle = shared.config.idle_timeout;
    let mut buf: Vec<u8> = Vec::with_capacity(8 * 1024);
    loop {
        let head = match read_head(&mut stream, &mut buf, idle) {
            Head::Complete(head) => head,
            Head::Invalid(message) => {
                let resp = Response::graphql_error(400, "BAD_REQUEST", &message);
                answer_and_close(&mut stream, &resp);
                return;
            }
            Head::TooSlow => {
                let resp = Response::graphql_error(
                    408,
                    "REQUEST_TIMEOUT",
                    "the request head did not arrive within the idle timeout",
                );
                answer_and_close(&mut stream, &resp);
                return;
            }
            Head::Gone => return,
        };
        buf.drain(..head.len);
        // The body is read with the idle timeout between reads.
        if stream.set_read_timeout(Some(idle)).is_err() {
            return;
        }
        if is_upgrade(&head) {
            handle_upgrade(stream, head, buf, shared, conn_id);
            return;
        }
        let body = match read_body(&mut stream, &mut buf, &head, shared) {
            Ok(body) => body,
            Err(resp) => {
                answer_and_close(&mut stream, &resp);
                return;
            }
        };
        let mut resp = route(&head, body, shared);
        if !head.keep_alive() || shared.is_stopping() {
            resp.close = true;
        }
        if stream.write_all(&resp.to_bytes()).is_err() || resp.close {
            return;
        }
    }
}

/// How long we keep reading (and discarding) after an error answer, so the client gets to
/// read it instead of a connection reset caused by its unread request body.
const LINGER: Duration = Duration::from_secs(2);
/// The most we discard while lingering.
const LINGER_BYTES: usize = 64 * 1024 * 1024;

/// Writes an error answer, then closes gracefully: shut our side, drain what the client still
/// sends (bounded in time and size), then drop the socket.
pub(crate) fn answer_and_close(stream: &mut TcpStream, resp: &Response) {
    if stream
        .write_all(&resp.clone().closing().to_bytes())
        .is_err()
    {
        return;
    }
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = Instant::now() + LINGER;
    let mut chunk = [0u8; 16 * 1024];
    let mut drained = 0;
    while drained < LINGER_BYTES {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => drained += n,
        }
    }
}

/// How reading a request head ended.
enum Head {
    Complete(RequestHead),
    /// Not HTTP: answer 400.
    Invalid(String),
    /// Part of a head came, the rest not within the idle timeout: answer 408.
    TooSlow,
    /// The peer left or idled out between requests, or the socket failed.
    Gone,
}

/// Reads until a full head is buffered, within `within` as a whole: a head trickled in a byte
/// at a time holds the connection no longer than an idle one.
fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>, within: Duration) -> Head {
    let deadline = Instant::now() + within;
    loop {
        if !buf.is_empty() {
            match parse_head(buf) {
                Parse::Complete(head) => return Head::Complete(head),
                Parse::Invalid(message) => {
                    return Head::Invalid(format!("malformed request: {message}"));
                }
                Parse::Partial => {}
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() || !fill(stream, buf) {
            return if buf.is_empty() || Instant::now() < deadline {
                Head::Gone
            } else {
                Head::TooSlow
            };
        }
    }
}

/// Reads more bytes into `buf`; false on EOF, timeout or error.
fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return true;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
}

/// Reads the body announced by the head (answering `Expect: 100-continue`), decoded.
fn read_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    head: &RequestHead,
    shared: &Shared,
) -> Result<Vec<u8>, Response> {
    let limit = shared.config.max_body_bytes;
    let len = head.content_length().map_err(|status| {
        let message = if status == 411 {
            "chunked request bodies are not supported; send a Content-Length"
        } else {
            "invalid Content-Length"
        };
        Response::graphql_error(status, "BAD_REQUEST", message)
    })?;
    if len > limit {
        return Err(too_large(limit));
    }
    if len > buf.len() && head.header_has_token("expect", "100-continue") {
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    while buf.len() < len {
        if !fill(stream, buf) {
            return Err(Response::graphql_error(
                400,
                "BAD_REQUEST",
                "request body ended early",
            ));
        }
    }
    let body: Vec<u8> = buf.drain(..len).collect();
    decode_body(head.header("content-encoding"), body, limit).map_err(|e| match e {
        DecodeError::TooLarge => too_large(limit),
        DecodeError::Corrupt => {
            Response::graphql_error(400, "BAD_REQUEST", "the gzip request body is corrupt")
        }
        DecodeError::Unsupported(enc) => Response::graphql_error(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            &format!("unsupported Content-Encoding {enc:?}; use gzip or none"),
        ),
    })
}

fn too_large(limit: usize) -> Response {
    Response::graphql_error(
        413,
        "PAYLOAD_TOO_LARGE",
        &format!("request body larger than {limit} bytes"),
    )
}

fn is_upgrade(head: &RequestHead) -> bool {
    head.header_has_token("connection", "upgrade") && head.header_has_token("upgrade", "websocket")
}

fn handle_upgrade(
    mut stream: TcpStream,
    head: RequestHead,
    leftover: Vec<u8>,
    shared: &Shared,
    conn_id: u64,
) {
    if head.path != GRAPHQL_PATH {
        let resp = Response::graphql_error(404, "NOT_FOUND", "no WebSocket endpoint here");
        answer_and_close(&mut stream, &resp);
        return;
    }
    match ws::handshake(&head) {
        Ok((response, protocol)) => {
            if stream.write_all(&response).is_ok() {
                ws::run(stream, leftover, protocol, shared, conn_id);
            }
        }
        Err(message) => {
            let resp = Response::graphql_error(400, "BAD_REQUEST", &message);
            answer_and_close(&mut stream, &resp);
        }
    }
}

fn route(head: &RequestHead, body: Vec<u8>, shared: &Shared) -> Response {
    match (head.path.as_str(), head.method.as_str()) {
        (GRAPHQL_PATH, "POST") => graphql(head, &body, shared),
        (VERSION_PATH, "GET") => {
            let body = serde_json::json!({ "version": shared.version }).to_string();
            Response::json(200, body.into_bytes())
        }
        (GRAPHQL_PATH, _) => method_not_allowed("POST"),
        (VERSION_PATH, _) => method_not_allowed("GET"),
        (FILES_PATH, _) => crate::bucket::files(head, shared),
        (path, _)
            if path.starts_with(BUCKET_PATH) && path[BUCKET_PATH.len()..].starts_with('/') =>
        {
            crate::bucket::bucket(head, body, shared)
        }
        _ => Response::graphql_error(404, "NOT_FOUND", &format!("no route for {}", head.path)),
    }
}

fn method_not_allowed(allow: &str) -> Response {
    Response::graphql_error(
        405,
        "METHOD_NOT_ALLOWED",
        &format!("use {allow} on this path"),
    )
    .with_header("Allow", allow)
}

fn graphql(head: &RequestHead, body: &[u8], shared: &Shared) -> Response {
    let parsed: Result<serde_json::Value, _> = serde_json::from_slice(body);
    if shared.config.record_requests
        && let Ok(value) = &parsed
    {
        record(head, value, shared);
    }
    if let Some((status, retry_after)) = shared.take_failure() {
        let mut resp = Response::graphql_error(status, "INJECTED_FAILURE", "injected failure");
        if let Some(after) = retry_after {
            resp = resp.with_header("Retry-After", after.as_secs().to_string());
        }
        return resp;
    }
    let user = match authenticate(head, shared) {
        Ok(user) => user,
        Err(refusal) => return refusal,
    };
    let value = match parsed {
        Ok(v) => v,
        Err(e) => {
            return Response::graphql_error(400, "BAD_REQUEST", &format!("invalid JSON body: {e}"));
        }
    };
    let batch: async_graphql::BatchRequest = match serde_json::from_value(value) {
        Ok(b) => b,
        Err(e) => {
            return Response::graphql_error(
                400,
                "BAD_REQUEST",
                &format!("not a GraphQL request: {e}"),
            );
        }
    };
    let unparsable = unparsable_documents(&batch);
    let mut batch = batch.data(Viewer(user));
    if let Some(origin) = head.header("host").and_then(origin_of_host) {
        batch = batch.data(RequestOrigin(origin));
    }
    let response = futures::executor::block_on(shared.schema.execute_batch(batch));
    let mut value = match serde_json::to_value(&response) {
        Ok(v) => v,
        Err(e) => {
            return Response::graphql_error(
                500,
                "INTERNAL_SERVER_ERROR",
                &format!("cannot encode the response: {e}"),
            );
        }
    };
    let refused = shape_errors(&mut value, &unparsable);
    // As Apollo Server, which Kili runs: a document that cannot run at all (parse, validation
    // or variable errors) is answered 400 with its GraphQL errors; an operation that ran, even
    // with errors, 200. A batch is 200.
    let status = if refused && !value.is_array() {
        400
    } else {
        200
    };
    match serde_json::to_vec(&value) {
        Ok(body) => Response::json(status, body),
        Err(e) => Response::graphql_error(
            500,
            "INTERNAL_SERVER_ERROR",
            &format!("cannot encode the response: {e}"),
        ),
    }
}

/// `http://<host>` for a `Host` header made of host-name characters only.
fn origin_of_host(host: &str) -> Option<String> {
    let host = host.trim();
    let ok = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    ok.then(|| format!("http://{host}"))
}

/// For each request of a batch, whether its document does not even parse.
fn unparsable_documents(batch: &async_graphql::BatchRequest) -> Vec<bool> {
    let unparsable =
        |r: &async_graphql::Request| async_graphql::parser::parse_query(&r.query).is_err();
    match batch {
        async_graphql::BatchRequest::Single(r) => vec![unparsable(r)],
        async_graphql::BatchRequest::Batch(rs) => rs.iter().map(unparsable).collect(),
    }
}

/// Gives every error an `extensions.code`, as Kili's errors have: `GRAPHQL_PARSE_FAILED`,
/// `GRAPHQL_VALIDATION_FAILED` or `BAD_USER_INPUT` for a document refused before it ran (no
/// `path`), `BAD_USER_INPUT` for an argument a resolver could not read, else
/// `INTERNAL_SERVER_ERROR`; codes set by resolvers are kept. Returns whether a response was
/// refused before it ran.
fn shape_errors(value: &mut serde_json::Value, unparsable: &[bool]) -> bool {
    let mut refused = false;
    let responses: Vec<&mut serde_json::Value> = match value {
        serde_json::Value::Array(items) => items.iter_mut().collect(),
        other => vec![other],
    };
    for (i, resp) in responses.into_iter().enumerate() {
        let data_null = resp.get("data").is_none_or(serde_json::Value::is_null);
        let Some(errors) = resp.get_mut("errors").and_then(|e| e.as_array_mut()) else {
            continue;
        };
        for e in errors {
            let has_path = e
                .get("path")
                .and_then(|p| p.as_array())
                .is_some_and(|p| !p.is_empty());
            let message = e
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or_default();
            let request_level = data_null && !has_path;
            let code = if request_level && unparsable.get(i).copied().unwrap_or(false) {
                "GRAPHQL_PARSE_FAILED"
            } else if request_level
                && (message.contains("ariable")
                    || message.starts_with("Invalid value for argument"))
            {
                "BAD_USER_INPUT"
            } else if request_level {
                "GRAPHQL_VALIDATION_FAILED"
            } else if message.starts_with("Failed to parse") || message.contains("Invalid value") {
                "BAD_USER_INPUT"
            } else {
                "INTERNAL_SERVER_ERROR"
            };
            refused |= request_level;
            let Some(obj) = e.as_object_mut() else {
                continue;
            };
            let ext = obj
                .entry("extensions")
                .or_insert_with(|| serde_json::json!({}));
            if let Some(ext) = ext.as_object_mut() {
                ext.entry("code").or_insert_with(|| code.into());
            }
        }
    }
    refused
}

fn record(head: &RequestHead, value: &serde_json::Value, shared: &Shared) {
    let headers: Vec<(String, String)> = head.headers.clone();
    let one = |v: &serde_json::Value| RecordedRequest {
        operation_name: v
            .get("operationName")
            .and_then(|o| o.as_str())
            .map(str::to_owned),
        query: v
            .get("query")
            .and_then(|q| q.as_str())
            .unwrap_or_default()
            .to_owned(),
        variables: v
            .get("variables")
            .cloned()
            .unwrap_or(serde_json::Value::Null),
        headers: headers.clone(),
    };
    let mut recorded = shared.recorded.lock();
    match value {
        serde_json::Value::Array(items) => recorded.extend(items.iter().map(one)),
        other => recorded.push(one(other)),
    }
}

/// The user whose key the request's `Authorization` header carries, or the `401` to answer.
pub(crate) fn authenticate(head: &RequestHead, shared: &Shared) -> Result<UserRec, Response> {
    head.header("authorization")
        .and_then(key_from_authorization)
        .and_then(|key| shared.state.user_by_key(key))
        .ok_or_else(|| {
            Response::graphql_error(
                401,
                "UNAUTHENTICATED",
                "[unauthenticated] send your key as `Authorization: X-API-Key: <key>`",
            )
        })
}
