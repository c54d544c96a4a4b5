//! The routes: which endpoint answers a request, by its path and method.

use super::auth::authenticate;
use super::bucket;
use super::graphql::graphql;
use super::message::{RequestHead, Response};
use crate::shared::Shared;
use crate::store::BUCKET_PATH;

/// The GraphQL endpoint (HTTP POST and WebSocket upgrade).
pub(crate) const GRAPHQL_PATH: &str = "/api/label/v2/graphql";
/// The version endpoint.
pub(crate) const VERSION_PATH: &str = "/api/label/v2/version";
/// Files by id, `GET ...?id=<fileId>`.
pub(crate) const FILES_PATH: &str = "/api/label/v2/files";

/// Answers one request by its path and method.
pub(crate) fn route(head: &RequestHead, body: Vec<u8>, shared: &Shared) -> Response {
    match (head.path.as_str(), head.method.as_str()) {
        (GRAPHQL_PATH, "POST") => graphql(head, &body, shared),
        (VERSION_PATH, "GET") => {
            let body = serde_json::json!({ "version": shared.version }).to_string();
            Response::json(200, body.into_bytes())
        }
        (GRAPHQL_PATH, _) => Response::method_not_allowed("POST"),
        (VERSION_PATH, _) => Response::method_not_allowed("GET"),
        (FILES_PATH, _) => bucket::files(head, shared),
        (path, _)
            if path.starts_with(BUCKET_PATH) && path[BUCKET_PATH.len()..].starts_with('/') =>
        {
            bucket::bucket(head, body, shared)
        }
        _ => Response::graphql_error(404, "NOT_FOUND", &format!("no route for {}", head.path)),
    }
}

/// Decides from a request's head alone whether its body is to be read: `Ok(true)` for a GraphQL
/// POST with a known key and a bucket `PUT` with a valid signed URL, `Ok(false)` for the routes
/// that take no body, and the refusal otherwise (`401`, `403`, `404`). Nothing of an unadmitted
/// body is read, decompressed or parsed. The one exception is a test hook: a server that
/// records requests (`LocalServerBuilder::record_requests`) reads and records an
/// unauthenticated GraphQL POST before answering it `401`.
pub(crate) fn admit(head: &RequestHead, shared: &Shared) -> Result<bool, Response> {
    match (head.path.as_str(), head.method.as_str()) {
        (GRAPHQL_PATH, "POST") => match authenticate(head, shared) {
            Ok(_) => Ok(true),
            Err(_) if shared.config.record_requests => Ok(true),
            Err(refusal) => Err(refusal),
        },
        (path, "PUT") if path.starts_with(BUCKET_PATH) => {
            bucket::admit_upload(head, shared).map(|()| true)
        }
        _ => Ok(false),
    }
}
