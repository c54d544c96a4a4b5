//! The GraphQL endpoint over HTTP: authenticates, executes a single or batched request with
//! the schema, gives every error Kili's `extensions.code`, and answers `400` for a document
//! that could not run, as Apollo Server does. Also records requests and injects failures when
//! a test asks for it.

use super::auth::authenticate;
use super::json_limits;
use super::message::{RequestHead, Response};
use crate::recording::RecordedRequest;
use crate::schema::{RequestOrigin, Viewer};
use crate::shared::Shared;
use crate::store::UserRec;

/// Most operations in one batch (a JSON array of requests).
pub(crate) const MAX_BATCH: usize = 100;

/// Executes a GraphQL POST (one request or a batch) as the user of its key.
pub(crate) fn graphql(head: &RequestHead, body: &[u8], shared: &Shared) -> Response {
    let (batch, user) = match read_batch(head, body, shared) {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let unparsable = unparsable_documents(&batch);
    let mut batch = batch.data(Viewer(user));
    if let Some(origin) = head.header("host").and_then(origin_of_host) {
        batch = batch.data(RequestOrigin(origin));
    }
    let response = futures::executor::block_on(shared.schema.execute_batch(batch));
    // Answered only once what it wrote (and whatever it read) is on disk.
    if let Err(e) = shared.state.wait_durable() {
        return Response::graphql_error(500, e.code, &e.message);
    }
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

/// Reads a POST's body as a batch, within the JSON shape limits, as the user of its key; records
/// it and injects failures when a test asks for it.
fn read_batch(
    head: &RequestHead,
    body: &[u8],
    shared: &Shared,
) -> Result<(async_graphql::BatchRequest, UserRec), Response> {
    let bad = |message: String| Response::graphql_error(400, "BAD_REQUEST", &message);
    json_limits::check(body).map_err(|m| bad(format!("invalid JSON body: {m}")))?;
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
        return Err(resp);
    }
    let user = authenticate(head, shared)?;
    let value = match parsed {
        Ok(serde_json::Value::Array(batch)) if batch.len() > MAX_BATCH => {
            return Err(bad(format!(
                "a batch holds at most {MAX_BATCH} operations, not {}",
                batch.len()
            )));
        }
        Ok(v) => v,
        Err(e) => return Err(bad(format!("invalid JSON body: {e}"))),
    };
    let batch =
        serde_json::from_value(value).map_err(|e| bad(format!("not a GraphQL request: {e}")))?;
    Ok((batch, user))
}

/// Returns `http://<host>` for a `Host` header made of host-name characters only.
fn origin_of_host(host: &str) -> Option<String> {
    let host = host.trim();
    let ok = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    ok.then(|| format!("http://{host}"))
}

/// Tells, for each request of a batch, whether its document does not even parse.
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
